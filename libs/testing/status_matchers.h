// gMock matchers for absl::Status and absl::StatusOr (this abseil ships none).
//
//   EXPECT_THAT(store.Get("x"), IsOk());
//   EXPECT_THAT(ledger.Consume(req), StatusIs(absl::StatusCode::kFailedPrecondition,
//                                             HasSubstr("insufficient")));
//   ASSERT_OK_AND_ASSIGN(auto v, ComputeIt());
#ifndef SHIELDX_LIBS_TESTING_STATUS_MATCHERS_H_
#define SHIELDX_LIBS_TESTING_STATUS_MATCHERS_H_

#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shieldx::testing {
namespace internal {
inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}
}  // namespace internal

MATCHER(IsOk, "is OK") {
  const absl::Status& s = internal::GetStatus(arg);
  if (!s.ok()) *result_listener << "status is " << s.ToString();
  return s.ok();
}

MATCHER_P(StatusIs, code, "has code " + std::string(absl::StatusCodeToString(code))) {
  const absl::Status& s = internal::GetStatus(arg);
  *result_listener << "status is " << s.ToString();
  return s.code() == code;
}

MATCHER_P2(StatusIs, code, message_matcher,
           "has code " + std::string(absl::StatusCodeToString(code)) + " and a matching message") {
  const absl::Status& s = internal::GetStatus(arg);
  *result_listener << "status is " << s.ToString();
  return s.code() == code &&
         ::testing::ExplainMatchResult(message_matcher, std::string(s.message()), result_listener);
}

}  // namespace shieldx::testing

#define SHIELDX_TESTING_CONCAT_INNER_(a, b) a##b
#define SHIELDX_TESTING_CONCAT_(a, b) SHIELDX_TESTING_CONCAT_INNER_(a, b)
#define ASSERT_OK(expr) ASSERT_THAT((expr), ::shieldx::testing::IsOk())
#define EXPECT_OK(expr) EXPECT_THAT((expr), ::shieldx::testing::IsOk())
#define ASSERT_OK_AND_ASSIGN_IMPL_(tmp, lhs, expr)  \
  auto tmp = (expr);                                \
  ASSERT_TRUE(tmp.ok()) << tmp.status().ToString(); \
  lhs = std::move(*tmp)
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL_(SHIELDX_TESTING_CONCAT_(statusor_, __LINE__), lhs, expr)

#endif  // SHIELDX_LIBS_TESTING_STATUS_MATCHERS_H_
