// Status propagation for absl::Status / absl::StatusOr (this abseil has no macros of its own).
//
//   SHIELDX_RETURN_IF_ERROR(DoThing());
//   SHIELDX_ASSIGN_OR_RETURN(auto conn, pool.Acquire());
//   SHIELDX_RETURN_IF_ERROR(Load(path)) << nothing;   // (not supported: add context explicitly)
//
// To add context while propagating, use shieldx::Annotate(status, "loading config").
#ifndef SHIELDX_LIBS_BASE_STATUS_MACROS_H_
#define SHIELDX_LIBS_BASE_STATUS_MACROS_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace shieldx {

// Returns `status` with "context: " prefixed to its message; the code is kept. OK stays OK.
absl::Status Annotate(const absl::Status& status, std::string_view context);

namespace internal {
inline const absl::Status& AsStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& AsStatus(const absl::StatusOr<T>& s) {
  return s.status();
}
}  // namespace internal

}  // namespace shieldx

#define SHIELDX_STATUS_CONCAT_INNER_(a, b) a##b
#define SHIELDX_STATUS_CONCAT_(a, b) SHIELDX_STATUS_CONCAT_INNER_(a, b)

#define SHIELDX_RETURN_IF_ERROR(expr)                                       \
  do {                                                                      \
    ::absl::Status shieldx_status_ = ::shieldx::internal::AsStatus((expr)); \
    if (!shieldx_status_.ok()) return shieldx_status_;                      \
  } while (false)

// Like SHIELDX_RETURN_IF_ERROR, prefixing `context` to the message of a failure.
#define SHIELDX_RETURN_IF_ERROR_CTX(expr, context)                                     \
  do {                                                                                 \
    ::absl::Status shieldx_status_ = ::shieldx::internal::AsStatus((expr));            \
    if (!shieldx_status_.ok()) return ::shieldx::Annotate(shieldx_status_, (context)); \
  } while (false)

#define SHIELDX_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) return tmp.status();                  \
  lhs = std::move(*tmp)

#define SHIELDX_ASSIGN_OR_RETURN(lhs, expr) \
  SHIELDX_ASSIGN_OR_RETURN_IMPL_(SHIELDX_STATUS_CONCAT_(shieldx_statusor_, __LINE__), lhs, expr)

#endif  // SHIELDX_LIBS_BASE_STATUS_MACROS_H_
