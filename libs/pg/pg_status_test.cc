#include "libs/pg/pg_status.h"

#include <stdexcept>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/pg/conninfo.h"
#include "libs/pg/transaction.h"
#include "libs/testing/status_matchers.h"
#include "pqxx/except"

namespace shieldx::pg {
namespace {

using ::shieldx::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using C = absl::StatusCode;

TEST(StatusFromPqxx, UniqueViolationIsAlreadyExistsWithoutDetailOrQuery) {
  pqxx::unique_violation e(
      "ERROR:  duplicate key value violates unique constraint \"users_email_key\"\n"
      "DETAIL:  Key (email)=(alice@example.com) already exists.\n",
      "INSERT INTO users VALUES ('alice@example.com')", "23505");
  EXPECT_THAT(
      StatusFromPqxx(e),
      StatusIs(C::kAlreadyExists, AllOf(HasSubstr("users_email_key"), HasSubstr("SQLSTATE 23505"),
                                        Not(HasSubstr("alice")), Not(HasSubstr("INSERT")))));
}

TEST(StatusFromPqxx, ConstraintViolationsAreFailedPrecondition) {
  EXPECT_THAT(StatusFromPqxx(pqxx::check_violation("ERROR:  check", "", "23514")),
              StatusIs(C::kFailedPrecondition));
  EXPECT_THAT(StatusFromPqxx(pqxx::foreign_key_violation("ERROR:  fk", "", "23503")),
              StatusIs(C::kFailedPrecondition));
  EXPECT_THAT(StatusFromPqxx(pqxx::not_null_violation("ERROR:  null", "", "23502")),
              StatusIs(C::kFailedPrecondition));
}

TEST(StatusFromPqxx, ConflictsAreAbortedAndRetryable) {
  absl::Status ser = StatusFromPqxx(pqxx::serialization_failure("ERROR:  could not serialize"));
  EXPECT_THAT(ser, StatusIs(C::kAborted, HasSubstr("40001")));
  EXPECT_TRUE(IsRetryableTransactionError(ser));
  absl::Status dl = StatusFromPqxx(pqxx::deadlock_detected("ERROR:  deadlock detected"));
  EXPECT_THAT(dl, StatusIs(C::kAborted, HasSubstr("40P01")));
  EXPECT_TRUE(IsRetryableTransactionError(dl));
}

TEST(StatusFromPqxx, QueryCanceledIsDeadlineExceeded) {
  pqxx::sql_error e("ERROR:  canceling statement due to statement timeout\n", "SELECT", "57014");
  EXPECT_THAT(StatusFromPqxx(e), StatusIs(C::kDeadlineExceeded, HasSubstr("statement timeout")));
  EXPECT_FALSE(IsRetryableTransactionError(StatusFromPqxx(e)));
}

TEST(StatusFromPqxx, ConnectionProblemsAreUnavailable) {
  EXPECT_THAT(StatusFromPqxx(pqxx::broken_connection("server closed the connection")),
              StatusIs(C::kUnavailable, HasSubstr("server closed")));
  EXPECT_THAT(StatusFromPqxx(pqxx::too_many_connections("FATAL:  too many clients")),
              StatusIs(C::kUnavailable));
  EXPECT_THAT(StatusFromPqxx(pqxx::sql_error("FATAL:  terminating connection", "", "57P01")),
              StatusIs(C::kUnavailable));
}

TEST(StatusFromPqxx, CommitOutcomeUnknownIsNotRetryable) {
  absl::Status s = StatusFromPqxx(pqxx::in_doubt_error("lost connection during commit"));
  EXPECT_THAT(s, StatusIs(C::kUnknown, HasSubstr("outcome unknown")));
  EXPECT_FALSE(IsRetryableTransactionError(s));
}

TEST(StatusFromPqxx, ClientSideAndUnknownErrorsAreInternal) {
  EXPECT_THAT(StatusFromPqxx(pqxx::unexpected_rows("Expected 1 row(s), got 0")),
              StatusIs(C::kInternal));
  EXPECT_THAT(StatusFromPqxx(pqxx::syntax_error("ERROR:  syntax error", "SELEC", "42601")),
              StatusIs(C::kInternal, HasSubstr("42601")));
  EXPECT_THAT(StatusFromPqxx(std::runtime_error("boom")), StatusIs(C::kInternal));
  EXPECT_THAT(StatusFromPqxx(pqxx::sql_error("ERROR:  weird")), StatusIs(C::kInternal));
}

TEST(StatusCodeFromSqlState, MapsClassesAndSpecificCodes) {
  EXPECT_EQ(StatusCodeFromSqlState("22P02"), C::kInvalidArgument);
  EXPECT_EQ(StatusCodeFromSqlState("42501"), C::kPermissionDenied);
  EXPECT_EQ(StatusCodeFromSqlState("53100"), C::kResourceExhausted);
  EXPECT_EQ(StatusCodeFromSqlState("53300"), C::kUnavailable);
  EXPECT_EQ(StatusCodeFromSqlState("55P03"), C::kDeadlineExceeded);
  EXPECT_EQ(StatusCodeFromSqlState("08006"), C::kUnavailable);
  EXPECT_EQ(StatusCodeFromSqlState("25006"), C::kFailedPrecondition);
  EXPECT_EQ(StatusCodeFromSqlState("40003"), C::kUnknown);
  EXPECT_EQ(StatusCodeFromSqlState(""), C::kInternal);
  EXPECT_EQ(StatusCodeFromSqlState("XX000"), C::kInternal);
}

TEST(SetTransactionSql, NamesIsolationAndReadOnly) {
  EXPECT_EQ(SetTransactionSql(IsolationLevel::kReadCommitted, false), "");
  EXPECT_EQ(SetTransactionSql(IsolationLevel::kReadCommitted, true),
            "SET TRANSACTION ISOLATION LEVEL READ COMMITTED READ ONLY");
  EXPECT_EQ(SetTransactionSql(IsolationLevel::kRepeatableRead, false),
            "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
  EXPECT_EQ(SetTransactionSql(IsolationLevel::kSerializable, false),
            "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE");
}

TEST(WithConnInfoParam, AppendsToKeyValueAndUriFormsUnlessPresent) {
  EXPECT_EQ(WithConnInfoParam("host=h dbname=d", "connect_timeout", "5"),
            "host=h dbname=d connect_timeout=5");
  EXPECT_EQ(WithConnInfoParam("postgresql://u@h/d", "connect_timeout", "5"),
            "postgresql://u@h/d?connect_timeout=5");
  EXPECT_EQ(WithConnInfoParam("postgresql://u@h/d?sslmode=disable", "connect_timeout", "5"),
            "postgresql://u@h/d?sslmode=disable&connect_timeout=5");
  EXPECT_EQ(WithConnInfoParam("host=h connect_timeout=9", "connect_timeout", "5"),
            "host=h connect_timeout=9");
}

}  // namespace
}  // namespace shieldx::pg
