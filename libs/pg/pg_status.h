// The one mapping from libpqxx / libpq failures to absl::Status, used everywhere in libs/pg
// and by every Postgres store. Our code throws nothing: catch at the boundary and convert.
//
//   try { ... } catch (const std::exception& e) { return StatusFromPqxx(e); }
//
// Mapping (by exception type, then by SQLSTATE):
//   broken_connection, class 08, 57P01-57P03 (shutdown)   -> Unavailable
//   53300 too_many_connections                             -> Unavailable
//   40001 serialization_failure, 40P01 deadlock_detected   -> Aborted (retry the transaction)
//   40000 transaction_rollback                             -> Aborted
//   in_doubt_error (connection lost during COMMIT),
//   40003 statement_completion_unknown                     -> Unknown (outcome unknown: no retry)
//   23505 unique_violation                                 -> AlreadyExists
//   23503 FK, 23514 check, 23502 not-null, 23P01, 23001    -> FailedPrecondition
//   57014 query_canceled (statement_timeout), 55P03 lock   -> DeadlineExceeded
//   class 22 data exception (bad value sent to the server) -> InvalidArgument
//   42501 insufficient_privilege                           -> PermissionDenied
//   class 53 insufficient resources (disk, memory)         -> ResourceExhausted
//   25006 read_only_sql_transaction                        -> FailedPrecondition
//   client-side libpqxx errors: unexpected_rows (exec0 /
//   exec1 row count), conversion, argument, usage errors   -> Internal (check row counts yourself
//                                                             to answer NotFound)
//   everything else (syntax errors, undefined tables, ...) -> Internal
//
// Messages start with "postgres: ", keep only the primary error line (PostgreSQL's DETAIL
// lines can quote row values, which may be user data), and end with "(SQLSTATE xxxxx)" when
// known. The failed query text is never included.
#ifndef SHIELDX_LIBS_PG_PG_STATUS_H_
#define SHIELDX_LIBS_PG_PG_STATUS_H_

#include <exception>
#include <string>

#include "absl/status/status.h"

namespace shieldx::pg {

absl::Status StatusFromPqxx(const std::exception& e);

// The status code for a SQLSTATE (5 characters), as in the table above.
absl::StatusCode StatusCodeFromSqlState(const std::string& sqlstate);

// True for the codes RunInTransaction retries: a transaction that failed with it may
// succeed when run again from the start (serialization failures, deadlocks).
inline bool IsRetryableTransactionError(const absl::Status& s) {
  return s.code() == absl::StatusCode::kAborted;
}

}  // namespace shieldx::pg

#endif  // SHIELDX_LIBS_PG_PG_STATUS_H_
