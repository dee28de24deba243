#include "libs/pg/transaction.h"

#include <atomic>
#include <barrier>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/pg/pg_test_fixture.h"
#include "libs/testing/status_matchers.h"
#include "pqxx/pqxx"

namespace shieldx::pg {
namespace {

using ::shieldx::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using C = absl::StatusCode;

class PgTransactionTest : public SharedPgTest {
 protected:
  void SetUp() override {
    SharedPgTest::SetUp();
    pool_ = MakePool(PoolOptions(NewDatabase()));
    ASSERT_NE(pool_, nullptr);
    Exec("CREATE TABLE items (id int PRIMARY KEY, v int NOT NULL CHECK (v >= 0))");
  }

  void Exec(const std::string& sql) {
    auto conn = pool_->Acquire();
    ASSERT_OK(conn);
    pqxx::nontransaction tx(**conn);
    tx.exec(sql);
  }

  int64_t Count(const std::string& where = "true") {
    auto conn = pool_->Acquire();
    EXPECT_TRUE(conn.ok());
    if (!conn.ok()) return -1;
    pqxx::nontransaction tx(**conn);
    return tx.exec1("SELECT count(*) FROM items WHERE " + where)[0].as<int64_t>();
  }

  std::unique_ptr<PgPool> pool_;
};

TEST_F(PgTransactionTest, CommitsWhenFnSucceeds) {
  int attempts = 0;
  EXPECT_OK(RunInTransaction(
      *pool_,
      [](pqxx::work& tx) {
        tx.exec("INSERT INTO items VALUES (1, 10)");
        return absl::OkStatus();
      },
      {}, &attempts));
  EXPECT_EQ(attempts, 1);
  EXPECT_EQ(Count(), 1);
}

TEST_F(PgTransactionTest, RollsBackAndReturnsFnStatusUnchangedWithoutRetry) {
  int calls = 0;
  absl::Status s = RunInTransaction(
      *pool_,
      [&](pqxx::work& tx) {
        ++calls;
        tx.exec("INSERT INTO items VALUES (1, 10)");
        return absl::FailedPreconditionError("account 1: insufficient credits (have 10, need 25)");
      },
      {.name = "consume"});
  EXPECT_THAT(s, StatusIs(C::kFailedPrecondition,
                          AllOf(HasSubstr("transaction consume"), HasSubstr("have 10, need 25"))));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(Count(), 0);
}

TEST_F(PgTransactionTest, UniqueViolationIsAlreadyExistsAndNotRetried) {
  Exec("INSERT INTO items VALUES (1, 10)");
  int calls = 0;
  int attempts = 0;
  absl::Status s = RunInTransaction(
      *pool_,
      [&](pqxx::work& tx) {
        ++calls;
        tx.exec("INSERT INTO items VALUES (1, 20)");
        return absl::OkStatus();
      },
      {}, &attempts);
  EXPECT_THAT(s, StatusIs(C::kAlreadyExists, HasSubstr("items_pkey")));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(attempts, 1);
}

TEST_F(PgTransactionTest, CheckViolationIsFailedPrecondition) {
  absl::Status s = RunInTransaction(*pool_, [](pqxx::work& tx) {
    tx.exec("INSERT INTO items VALUES (1, -5)");
    return absl::OkStatus();
  });
  EXPECT_THAT(s, StatusIs(C::kFailedPrecondition, HasSubstr("23514")));
}

TEST_F(PgTransactionTest, IsolationLevelAndReadOnlyAreApplied) {
  std::string level;
  EXPECT_OK(RunInTransaction(*pool_,
                             [&](pqxx::work& tx) {
                               level = tx.exec1("SHOW transaction_isolation")[0].as<std::string>();
                               return absl::OkStatus();
                             },
                             {.isolation = IsolationLevel::kSerializable}));
  EXPECT_EQ(level, "serializable");
  absl::Status s =
      RunInTransaction(*pool_,
                       [&](pqxx::work& tx) {
                         tx.exec("INSERT INTO items VALUES (1, 1)");
                         return absl::OkStatus();
                       },
                       {.isolation = IsolationLevel::kRepeatableRead, .read_only = true});
  EXPECT_THAT(s, StatusIs(C::kFailedPrecondition, HasSubstr("25006")));
}

// Write skew under SERIALIZABLE: each transaction reads what the other writes. Both read before
// either writes (the barrier, first attempt only), so one must fail with 40001 and be retried.
TEST_F(PgTransactionTest, SerializationFailureIsRetriedAndBothTransactionsCommit) {
  Exec("INSERT INTO items VALUES (1, 0), (2, 0)");
  std::barrier sync(2);
  std::atomic<int> total_calls{0};
  auto worker = [&](int mine, int other, int* attempts, absl::Status* result) {
    int calls = 0;
    *result = RunInTransaction(
        *pool_,
        [&](pqxx::work& tx) {
          ++calls;
          ++total_calls;
          const int v =
              tx.exec1("SELECT v FROM items WHERE id = " + std::to_string(other))[0].as<int>();
          if (calls == 1) sync.arrive_and_wait();
          tx.exec("UPDATE items SET v = " + std::to_string(v + 1) +
                  " WHERE id = " + std::to_string(mine));
          return absl::OkStatus();
        },
        {.isolation = IsolationLevel::kSerializable, .max_attempts = 5}, attempts);
  };
  int attempts_a = 0, attempts_b = 0;
  absl::Status a, b;
  std::thread ta(worker, 1, 2, &attempts_a, &a);
  std::thread tb(worker, 2, 1, &attempts_b, &b);
  ta.join();
  tb.join();
  EXPECT_OK(a);
  EXPECT_OK(b);
  // At least one was retried (PostgreSQL's "safe retry" rule makes it exactly one in practice).
  EXPECT_GE(attempts_a + attempts_b, 3);
  EXPECT_EQ(total_calls.load(), attempts_a + attempts_b);
  // Serial outcome: the retried one saw the other's write, so the values are {1, 2}.
  EXPECT_EQ(Count("v = 1"), 1);
  EXPECT_EQ(Count("v = 2"), 1);
}

// Two transactions lock rows 1 and 2 in opposite order; PostgreSQL kills one (40P01).
TEST_F(PgTransactionTest, DeadlockIsRetriedAndBothTransactionsCommit) {
  Exec("INSERT INTO items VALUES (1, 0), (2, 0)");
  std::barrier sync(2);
  auto worker = [&](int first, int second, int* attempts, absl::Status* result) {
    int calls = 0;
    *result = RunInTransaction(
        *pool_,
        [&](pqxx::work& tx) {
          ++calls;
          tx.exec("UPDATE items SET v = v + 1 WHERE id = " + std::to_string(first));
          if (calls == 1) sync.arrive_and_wait();
          tx.exec("UPDATE items SET v = v + 1 WHERE id = " + std::to_string(second));
          return absl::OkStatus();
        },
        {.max_attempts = 3}, attempts);
  };
  int attempts_a = 0, attempts_b = 0;
  absl::Status a, b;
  std::thread ta(worker, 1, 2, &attempts_a, &a);
  std::thread tb(worker, 2, 1, &attempts_b, &b);
  ta.join();
  tb.join();
  EXPECT_OK(a);
  EXPECT_OK(b);
  EXPECT_EQ(attempts_a + attempts_b, 3);
  EXPECT_EQ(Count("v = 2"), 2);
}

TEST_F(PgTransactionTest, GivesUpAfterMaxAttemptsNamingTheCount) {
  int calls = 0;
  absl::Status s = RunInTransaction(
      *pool_,
      [&](pqxx::work&) -> absl::Status {
        ++calls;
        throw pqxx::serialization_failure("ERROR:  could not serialize access");
      },
      {.max_attempts = 3, .backoff_initial = absl::Milliseconds(1), .name = "always-conflicts"});
  EXPECT_THAT(s, StatusIs(C::kAborted, AllOf(HasSubstr("always-conflicts"),
                                             HasSubstr("gave up after 3 attempts"))));
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(pool_->Stats().in_use, 0);
}

TEST_F(PgTransactionTest, InvalidOptionsAreRejectedBeforeRunning) {
  int calls = 0;
  absl::Status s = RunInTransaction(*pool_,
                                    [&](pqxx::work&) {
                                      ++calls;
                                      return absl::OkStatus();
                                    },
                                    {.max_attempts = 0});
  EXPECT_THAT(s, StatusIs(C::kInvalidArgument, HasSubstr("max_attempts 0")));
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace shieldx::pg
