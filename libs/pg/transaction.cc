#include "libs/pg/transaction.h"

#include <algorithm>
#include <random>

#include "absl/strings/str_cat.h"
#include "libs/base/status_macros.h"
#include "libs/pg/pg_status.h"

namespace shieldx::pg {
namespace {

absl::Status ValidateOptions(const TransactionOptions& o) {
  if (o.max_attempts < 1 || o.max_attempts > kMaxTransactionAttempts) {
    return absl::InvalidArgumentError(absl::StrCat("transaction ", o.name, ": max_attempts ",
                                                   o.max_attempts, " is outside 1..",
                                                   kMaxTransactionAttempts));
  }
  if (o.backoff_initial < absl::ZeroDuration() || o.backoff_max < o.backoff_initial) {
    return absl::InvalidArgumentError(
        absl::StrCat("transaction ", o.name, ": need 0 <= backoff_initial <= backoff_max"));
  }
  return absl::OkStatus();
}

absl::Duration RetryBackoff(const TransactionOptions& o, int retry) {
  thread_local std::minstd_rand rng{std::random_device{}()};
  const int doublings = std::min(retry - 1, 20);
  const absl::Duration cap = std::min(o.backoff_initial * (int64_t{1} << doublings), o.backoff_max);
  std::uniform_real_distribution<double> factor(0.5, 1.0);
  return cap * factor(rng);
}

}  // namespace

std::string SetTransactionSql(IsolationLevel isolation, bool read_only) {
  const char* level = nullptr;
  switch (isolation) {
    case IsolationLevel::kReadCommitted:
      level = read_only ? "READ COMMITTED" : nullptr;
      break;
    case IsolationLevel::kRepeatableRead:
      level = "REPEATABLE READ";
      break;
    case IsolationLevel::kSerializable:
      level = "SERIALIZABLE";
      break;
  }
  if (level == nullptr) return "";
  return absl::StrCat("SET TRANSACTION ISOLATION LEVEL ", level, read_only ? " READ ONLY" : "");
}

absl::Status RunTransactionOnce(pqxx::connection& conn, TransactionFn fn,
                                const TransactionOptions& options) {
  try {
    pqxx::work tx(conn);
    const std::string set_sql = SetTransactionSql(options.isolation, options.read_only);
    if (!set_sql.empty()) tx.exec(set_sql);
    absl::Status s = fn(tx);
    if (!s.ok()) {
      tx.abort();
      return s;
    }
    tx.commit();
    return absl::OkStatus();
  } catch (const std::exception& e) {
    return StatusFromPqxx(e);
  }
}

absl::Status RunInTransaction(PgPool& pool, TransactionFn fn, const TransactionOptions& options,
                              int* attempts_out) {
  if (attempts_out != nullptr) *attempts_out = 0;
  SHIELDX_RETURN_IF_ERROR(ValidateOptions(options));
  Clock* clock = options.clock != nullptr ? options.clock : Clock::Real();
  const std::string context = absl::StrCat("transaction ", options.name);
  for (int attempt = 1;; ++attempt) {
    if (attempts_out != nullptr) *attempts_out = attempt;
    absl::StatusOr<PooledConnection> conn =
        pool.Acquire(options.acquire_timeout.value_or(pool.options().acquire_timeout));
    if (!conn.ok()) return Annotate(conn.status(), context);
    absl::Status s = RunTransactionOnce(**conn, fn, options);
    if (s.ok()) return s;
    if (s.code() == absl::StatusCode::kUnavailable || s.code() == absl::StatusCode::kUnknown) {
      conn->MarkBroken();
    }
    if (!IsRetryableTransactionError(s)) return Annotate(s, context);
    if (attempt >= options.max_attempts) {
      return Annotate(s, absl::StrCat(context, ": gave up after ", attempt, " attempts"));
    }
    conn->Release();  // do not hold a connection while sleeping
    clock->SleepFor(RetryBackoff(options, attempt));
  }
}

}  // namespace shieldx::pg
