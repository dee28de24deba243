// PostgreSQL outages: the pool answers UNAVAILABLE quickly while the server is down and
// recovers by itself when it is back, without being recreated.
#include <memory>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/pg/pg_status.h"
#include "libs/pg/pool.h"
#include "libs/pg/transaction.h"
#include "libs/testing/pg_server.h"
#include "libs/testing/process.h"
#include "libs/testing/status_matchers.h"
#include "pqxx/pqxx"

namespace shieldx::pg {
namespace {

using ::shieldx::testing::PgServer;
using ::shieldx::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using C = absl::StatusCode;

// Each test stops its own server, so none is shared.
class PgOutageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = PgServer::Start({});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    PgPoolOptions o;
    o.conninfo = server_->ConnectionString("postgres");
    o.max_connections = 4;
    o.acquire_timeout = absl::Seconds(2);
    o.connect_timeout_s = 2;
    o.reconnect_backoff_initial = absl::Milliseconds(50);
    o.reconnect_backoff_max = absl::Milliseconds(300);
    auto pool = PgPool::Create(o);
    ASSERT_TRUE(pool.ok()) << pool.status();
    pool_ = std::move(*pool);
  }

  // Polls Ping until OK or `timeout`; returns the last status.
  absl::Status PingUntilOk(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    absl::Status s;
    do {
      s = pool_->Ping();
      if (s.ok()) return s;
      absl::SleepFor(absl::Milliseconds(50));
    } while (absl::Now() < deadline);
    return s;
  }

  std::unique_ptr<PgServer> server_;
  std::unique_ptr<PgPool> pool_;
};

TEST_F(PgOutageTest, StoppedServerIsUnavailableQuicklyAndThePoolRecoversAfterRestart) {
  // Warm the pool: two idle connections that the outage will kill.
  {
    ASSERT_OK_AND_ASSIGN(PooledConnection a, pool_->Acquire());
    ASSERT_OK_AND_ASSIGN(PooledConnection b, pool_->Acquire());
  }
  ASSERT_EQ(pool_->Stats().idle, 2);
  ASSERT_OK(server_->Stop());

  for (int i = 0; i < 5; ++i) {
    const absl::Time start = absl::Now();
    absl::Status s = pool_->Ping();
    EXPECT_THAT(s, StatusIs(C::kUnavailable, HasSubstr("postgres"))) << "ping " << i;
    EXPECT_LT(absl::Now() - start, absl::Seconds(2)) << "ping " << i << " took too long";
  }
  int calls = 0;
  absl::Status tx = RunInTransaction(*pool_,
                                     [&](pqxx::work& w) {
                                       ++calls;
                                       w.exec("SELECT 1");
                                       return absl::OkStatus();
                                     },
                                     {.name = "probe"});
  EXPECT_THAT(tx, StatusIs(C::kUnavailable, HasSubstr("transaction probe")));
  EXPECT_EQ(calls, 0);
  PgPoolStats down = pool_->Stats();
  EXPECT_EQ(down.dropped_broken_total, 2);
  EXPECT_GE(down.connect_failures_total, 1);
  EXPECT_EQ(down.open, 0);

  ASSERT_OK(server_->Start());
  EXPECT_OK(PingUntilOk(absl::Seconds(10)));
  EXPECT_OK(RunInTransaction(*pool_, [](pqxx::work& w) {
    w.exec("SELECT 1");
    return absl::OkStatus();
  }));
}

TEST_F(PgOutageTest, ConnectionHeldDuringShutdownFailsAsUnavailableAndIsDropped) {
  ASSERT_OK_AND_ASSIGN(PooledConnection conn, pool_->Acquire());
  ASSERT_OK(server_->Stop());
  absl::Status s;
  try {
    pqxx::nontransaction tx(*conn);
    tx.exec("SELECT 1");
  } catch (const std::exception& e) {
    s = StatusFromPqxx(e);
  }
  EXPECT_THAT(s, StatusIs(C::kUnavailable));
  conn.Release();
  EXPECT_EQ(pool_->Stats().open, 0);
  EXPECT_EQ(pool_->Stats().dropped_broken_total, 1);
  ASSERT_OK(server_->Start());
  EXPECT_OK(PingUntilOk(absl::Seconds(10)));
}

TEST_F(PgOutageTest, RepeatedFailuresBackOffAndFailFastInBetween) {
  PgPoolOptions o = pool_->options();
  o.reconnect_backoff_initial = absl::Seconds(5);  // long enough to observe the window
  o.reconnect_backoff_max = absl::Seconds(5);
  ASSERT_OK_AND_ASSIGN(auto pool, PgPool::Create(o));
  ASSERT_OK(server_->Stop());
  EXPECT_THAT(pool->Ping(), StatusIs(C::kUnavailable, HasSubstr("cannot connect")));
  // Within the backoff window the pool does not dial: it answers at once.
  const absl::Time start = absl::Now();
  EXPECT_THAT(pool->Ping(),
              StatusIs(C::kUnavailable, AllOf(HasSubstr("next attempt in"),
                                              HasSubstr("1 consecutive connect failures"))));
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(500));
  EXPECT_EQ(pool->Stats().connect_failures_total, 1);
}

TEST(PgPoolUnreachable, NothingListeningIsUnavailableNamingThePort) {
  ASSERT_OK_AND_ASSIGN(int port, ::shieldx::testing::PickFreePort());
  PgPoolOptions o;
  o.conninfo = absl::StrCat("host=127.0.0.1 port=", port, " dbname=x user=postgres");
  ASSERT_OK_AND_ASSIGN(auto pool, PgPool::Create(o));
  const absl::Time start = absl::Now();
  EXPECT_THAT(pool->Acquire(), StatusIs(C::kUnavailable, HasSubstr(absl::StrCat(port))));
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
}

}  // namespace
}  // namespace shieldx::pg
