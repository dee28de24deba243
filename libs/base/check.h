// SHIELDX_CHECK: assertions on invariants, always on (release builds too).
//
// A failed check means a programmer error: it prints file, line, the condition and an
// optional message to stderr and aborts. Untrusted input must never reach a CHECK; validate
// it and return an absl::Status instead.
#ifndef SHIELDX_LIBS_BASE_CHECK_H_
#define SHIELDX_LIBS_BASE_CHECK_H_

#include <string_view>

namespace shieldx::internal {
[[noreturn]] void CheckFailed(const char* file, int line, const char* condition,
                              std::string_view message);
}  // namespace shieldx::internal

#define SHIELDX_CHECK(cond)                                            \
  do {                                                                 \
    if (__builtin_expect(!(cond), 0))                                  \
      ::shieldx::internal::CheckFailed(__FILE__, __LINE__, #cond, {}); \
  } while (false)

#define SHIELDX_CHECK_MSG(cond, msg)                                      \
  do {                                                                    \
    if (__builtin_expect(!(cond), 0))                                     \
      ::shieldx::internal::CheckFailed(__FILE__, __LINE__, #cond, (msg)); \
  } while (false)

#define SHIELDX_CHECK_OK(expr)                                            \
  do {                                                                    \
    const auto& shieldx_check_status_ = (expr);                           \
    if (__builtin_expect(!shieldx_check_status_.ok(), 0))                 \
      ::shieldx::internal::CheckFailed(__FILE__, __LINE__, #expr,         \
                                       shieldx_check_status_.ToString()); \
  } while (false)

#endif  // SHIELDX_LIBS_BASE_CHECK_H_
