// RunInTransaction: run a function in one PostgreSQL transaction, retrying conflicts.
//
//   absl::Status s = RunInTransaction(pool, [&](pqxx::work& tx) -> absl::Status {
//     pqxx::result r = tx.exec_params("SELECT balance FROM accounts WHERE id = $1", id);
//     if (r.empty()) return absl::NotFoundError(absl::StrCat("account ", id, ": not found"));
//     tx.exec_params("UPDATE accounts SET balance = balance - $2 WHERE id = $1", id, amount);
//     return absl::OkStatus();
//   }, {.isolation = IsolationLevel::kSerializable, .name = "consume"});
//
// Success means the transaction committed. When `fn` returns a non-OK status the transaction is
// rolled back and that status is returned. When `fn` or COMMIT throws, the exception is
// converted with StatusFromPqxx (pg_status.h); libpqxx exceptions never escape.
//
// Retries: a serialization failure (SQLSTATE 40001) or deadlock (40P01), thrown or returned by
// `fn` as Aborted, rolls back and runs `fn` again from the start on a fresh transaction, up to
// `max_attempts` in total, sleeping a jittered exponential backoff between attempts. Nothing
// else is retried (a unique violation, a timeout, a lost connection are returned at once; a
// connection lost during COMMIT is Unknown: the outcome cannot be known). Because of retries,
// `fn` may run several times: it must not have effects outside the transaction, or only
// idempotent ones.
//
// Thread-safety: safe to call from many threads on one pool; `fn` runs on the calling thread.
#ifndef SHIELDX_LIBS_PG_TRANSACTION_H_
#define SHIELDX_LIBS_PG_TRANSACTION_H_

#include <optional>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "libs/base/clock.h"
#include "libs/base/limits.h"
#include "libs/pg/pool.h"
#include "pqxx/transaction"

namespace shieldx::pg {

// Ceiling on TransactionOptions::max_attempts.
inline constexpr int kMaxTransactionAttempts = 20;

enum class IsolationLevel { kReadCommitted, kRepeatableRead, kSerializable };

struct TransactionOptions {
  IsolationLevel isolation = IsolationLevel::kReadCommitted;
  bool read_only = false;
  // Total attempts, first included, for retryable failures. 1..kMaxTransactionAttempts.
  int max_attempts = limits::kMaxRetryAttempts;
  // Sleep before retry k (k >= 1): uniform in [0.5, 1] x min(initial * 2^(k-1), max).
  absl::Duration backoff_initial = absl::Milliseconds(5);
  absl::Duration backoff_max = absl::Milliseconds(200);
  // Wait for a pooled connection; unset: the pool's acquire_timeout.
  std::optional<absl::Duration> acquire_timeout;
  // Names the transaction in error messages.
  std::string name = "transaction";
  // Time source for the backoff sleeps; nullptr means Clock::Real().
  Clock* clock = nullptr;
};

using TransactionFn = absl::FunctionRef<absl::Status(pqxx::work&)>;

// Runs `fn` in a transaction on a connection from `pool`; see the file comment.
// `attempts_out`, when given, receives the number of attempts made.
absl::Status RunInTransaction(PgPool& pool, TransactionFn fn,
                              const TransactionOptions& options = {}, int* attempts_out = nullptr);

// One attempt on a connection you hold (no retry, no pool). Marks nothing; the caller decides
// what to do with the connection after Unavailable / Unknown.
absl::Status RunTransactionOnce(pqxx::connection& conn, TransactionFn fn,
                                const TransactionOptions& options = {});

// "SET TRANSACTION ISOLATION LEVEL ... [READ ONLY]", or "" for read committed read-write.
std::string SetTransactionSql(IsolationLevel isolation, bool read_only);

}  // namespace shieldx::pg

#endif  // SHIELDX_LIBS_PG_TRANSACTION_H_
