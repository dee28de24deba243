#include "libs/pg/pg_status.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "pqxx/except"

namespace shieldx::pg {
namespace {

// The primary error line of a libpq message: "ERROR:  duplicate key ...\nDETAIL:  Key (x)=(..)"
// becomes "duplicate key ...". DETAIL / HINT / CONTEXT lines may quote row values.
std::string PrimaryLine(absl::string_view what) {
  absl::string_view line = what.substr(0, what.find('\n'));
  for (absl::string_view prefix : {"ERROR:", "FATAL:", "PANIC:"}) {
    if (absl::ConsumePrefix(&line, prefix)) break;
  }
  line = absl::StripAsciiWhitespace(line);
  if (line.empty()) return "(no message)";
  return std::string(line);
}

absl::Status Make(absl::StatusCode code, const std::exception& e, const std::string& sqlstate) {
  std::string msg = absl::StrCat("postgres: ", PrimaryLine(e.what()));
  if (!sqlstate.empty()) absl::StrAppend(&msg, " (SQLSTATE ", sqlstate, ")");
  return absl::Status(code, msg);
}

}  // namespace

absl::StatusCode StatusCodeFromSqlState(const std::string& s) {
  using C = absl::StatusCode;
  if (s.size() != 5) return C::kInternal;
  if (s == "23505") return C::kAlreadyExists;
  if (s == "40001" || s == "40P01" || s == "40000") return C::kAborted;
  if (s == "40003") return C::kUnknown;
  if (s == "57014" || s == "55P03") return C::kDeadlineExceeded;
  if (s == "53300") return C::kUnavailable;
  if (s == "42501") return C::kPermissionDenied;
  if (s == "25006") return C::kFailedPrecondition;
  const std::string cls = s.substr(0, 2);
  if (cls == "23") return C::kFailedPrecondition;  // FK, check, not-null, exclusion, restrict
  if (cls == "08") return C::kUnavailable;         // connection exception
  if (s == "57P01" || s == "57P02" || s == "57P03") return C::kUnavailable;  // shutting down
  if (cls == "53") return C::kResourceExhausted;  // disk full, out of memory
  if (cls == "22") return C::kInvalidArgument;    // data exception
  return C::kInternal;
}

absl::Status StatusFromPqxx(const std::exception& e) {
  using C = absl::StatusCode;
  // Order matters: specific classes before their bases (too_many_connections is a
  // broken_connection; serialization_failure is a transaction_rollback).
  if (dynamic_cast<const pqxx::too_many_connections*>(&e)) {
    return Make(C::kUnavailable, e, "53300");
  }
  if (dynamic_cast<const pqxx::broken_connection*>(&e)) {
    return absl::UnavailableError(
        absl::StrCat("postgres: connection unavailable: ", PrimaryLine(e.what())));
  }
  if (dynamic_cast<const pqxx::in_doubt_error*>(&e)) {
    return absl::UnknownError(
        absl::StrCat("postgres: connection lost during COMMIT, transaction outcome unknown: ",
                     PrimaryLine(e.what())));
  }
  if (dynamic_cast<const pqxx::serialization_failure*>(&e)) return Make(C::kAborted, e, "40001");
  if (dynamic_cast<const pqxx::deadlock_detected*>(&e)) return Make(C::kAborted, e, "40P01");
  if (dynamic_cast<const pqxx::statement_completion_unknown*>(&e)) {
    return Make(C::kUnknown, e, "40003");
  }
  if (dynamic_cast<const pqxx::transaction_rollback*>(&e)) return Make(C::kAborted, e, "40000");
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    const std::string& state = sql->sqlstate();
    return Make(state.empty() ? C::kInternal : StatusCodeFromSqlState(state), e, state);
  }
  // Client-side libpqxx errors (unexpected_rows, conversion_error, usage_error, ...) and any
  // other std::exception are bugs in the caller or in our schema expectations.
  return absl::InternalError(absl::StrCat("postgres client: ", PrimaryLine(e.what())));
}

}  // namespace shieldx::pg
