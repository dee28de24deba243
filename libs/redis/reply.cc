#include "libs/redis/reply.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/base/check.h"

namespace shieldx::redis {

RedisReply RedisReply::Integer(int64_t value) {
  RedisReply r;
  r.type_ = Type::kInteger;
  r.integer_ = value;
  return r;
}

RedisReply RedisReply::String(std::string value) {
  RedisReply r;
  r.type_ = Type::kString;
  r.str_ = std::move(value);
  return r;
}

RedisReply RedisReply::Status(std::string value) {
  RedisReply r;
  r.type_ = Type::kStatus;
  r.str_ = std::move(value);
  return r;
}

RedisReply RedisReply::Error(std::string message) {
  RedisReply r;
  r.type_ = Type::kError;
  r.str_ = std::move(message);
  return r;
}

RedisReply RedisReply::Array(std::vector<RedisReply> elements) {
  RedisReply r;
  r.type_ = Type::kArray;
  r.elements_ = std::move(elements);
  return r;
}

int64_t RedisReply::integer() const {
  SHIELDX_CHECK_MSG(is_integer(), "RedisReply::integer() on a " + std::string(TypeName(type_)));
  return integer_;
}

const std::string& RedisReply::str() const {
  SHIELDX_CHECK_MSG(is_string() || is_status() || is_error(),
                    "RedisReply::str() on a " + std::string(TypeName(type_)));
  return str_;
}

const std::vector<RedisReply>& RedisReply::elements() const {
  SHIELDX_CHECK_MSG(is_array(), "RedisReply::elements() on a " + std::string(TypeName(type_)));
  return elements_;
}

absl::StatusOr<int64_t> RedisReply::AsInteger() const {
  if (!is_integer()) {
    return absl::FailedPreconditionError(
        absl::StrCat("expected an integer reply, got ", Describe()));
  }
  return integer_;
}

absl::StatusOr<std::optional<std::string>> RedisReply::AsOptionalString() const {
  if (is_nil()) return std::optional<std::string>();
  if (!is_string() && !is_status()) {
    return absl::FailedPreconditionError(absl::StrCat("expected a string reply, got ", Describe()));
  }
  return std::optional<std::string>(str_);
}

std::string RedisReply::Describe() const {
  switch (type_) {
    case Type::kNil:
      return "nil";
    case Type::kInteger:
      return absl::StrCat("integer ", integer_);
    case Type::kString:
      return absl::StrCat("string (", str_.size(), " bytes)");
    case Type::kStatus:
      return absl::StrCat("status ", str_);
    case Type::kError:
      return absl::StrCat("error ", str_);
    case Type::kArray:
      return absl::StrCat("array (", elements_.size(), ")");
  }
  return "unknown";
}

bool operator==(const RedisReply& a, const RedisReply& b) {
  return a.type_ == b.type_ && a.integer_ == b.integer_ && a.str_ == b.str_ &&
         a.elements_ == b.elements_;
}

std::string_view TypeName(RedisReply::Type type) {
  switch (type) {
    case RedisReply::Type::kNil:
      return "nil";
    case RedisReply::Type::kInteger:
      return "integer";
    case RedisReply::Type::kString:
      return "string";
    case RedisReply::Type::kStatus:
      return "status";
    case RedisReply::Type::kError:
      return "error";
    case RedisReply::Type::kArray:
      return "array";
  }
  return "unknown";
}

absl::Status RedisErrorToStatus(std::string_view context, std::string_view redis_error) {
  const absl::string_view e(redis_error.data(), redis_error.size());
  const std::string message =
      absl::StrCat(absl::string_view(context.data(), context.size()), ": ", e);
  auto starts = [&](absl::string_view prefix) {
    return absl::StartsWith(e, prefix) && (e.size() == prefix.size() || e[prefix.size()] == ' ');
  };
  if (starts("NOSCRIPT")) return absl::NotFoundError(message);
  if (starts("WRONGTYPE")) return absl::FailedPreconditionError(message);
  if (starts("OOM")) return absl::ResourceExhaustedError(message);
  if (starts("NOAUTH") || starts("NOPERM") || starts("WRONGPASS")) {
    return absl::PermissionDeniedError(message);
  }
  if (starts("LOADING") || starts("BUSY") || starts("MASTERDOWN") || starts("TRYAGAIN") ||
      starts("READONLY") || starts("CLUSTERDOWN")) {
    return absl::UnavailableError(message);
  }
  return absl::InvalidArgumentError(message);
}

}  // namespace shieldx::redis
