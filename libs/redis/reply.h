// RedisReply: an owned copy of one RESP2 reply. hiredis's redisReply never leaves this library.
//
//   ASSERT_OK_AND_ASSIGN(RedisReply r, pool.Command("INCR", "hits"));
//   if (r.is_integer()) use(r.integer());
//
// A value type (copyable, movable); arrays own their elements. Accessors have a REQUIRES on the
// type and crash on misuse (a programmer error); use the typed `As*` helpers to turn an
// unexpected type into a Status instead.
#ifndef SHIELDX_LIBS_REDIS_REPLY_H_
#define SHIELDX_LIBS_REDIS_REPLY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace shieldx::redis {

class RedisReply {
 public:
  enum class Type { kNil, kInteger, kString, kStatus, kError, kArray };

  // A nil reply.
  RedisReply() = default;
  static RedisReply Nil() { return RedisReply(); }
  static RedisReply Integer(int64_t value);
  static RedisReply String(std::string value);
  static RedisReply Status(std::string value);
  static RedisReply Error(std::string message);
  static RedisReply Array(std::vector<RedisReply> elements);

  Type type() const { return type_; }
  bool is_nil() const { return type_ == Type::kNil; }
  bool is_integer() const { return type_ == Type::kInteger; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_status() const { return type_ == Type::kStatus; }
  bool is_error() const { return type_ == Type::kError; }
  bool is_array() const { return type_ == Type::kArray; }

  // REQUIRES: is_integer().
  int64_t integer() const;
  // The bytes of a string, status or error reply. REQUIRES: is_string() || is_status() ||
  // is_error().
  const std::string& str() const;
  // REQUIRES: is_array().
  const std::vector<RedisReply>& elements() const;

  // Typed access that reports a type mismatch as FailedPrecondition instead of crashing.
  absl::StatusOr<int64_t> AsInteger() const;
  // A string or status reply; nil becomes std::nullopt (a missing key).
  absl::StatusOr<std::optional<std::string>> AsOptionalString() const;

  // "nil", "integer 3", "string (5 bytes)", "status OK", "error ERR ...", "array (2)". Never
  // contains string payloads, so it is safe in logs and error messages.
  std::string Describe() const;

  friend bool operator==(const RedisReply& a, const RedisReply& b);

 private:
  Type type_ = Type::kNil;
  int64_t integer_ = 0;
  std::string str_;
  std::vector<RedisReply> elements_;
};

std::string_view TypeName(RedisReply::Type type);

// Maps a Redis error reply to a status code by its prefix; the message is
// "<context>: <redis error>":
//   NOSCRIPT -> NotFound; WRONGTYPE -> FailedPrecondition; OOM -> ResourceExhausted;
//   NOAUTH / NOPERM / WRONGPASS -> PermissionDenied;
//   LOADING / BUSY / MASTERDOWN / TRYAGAIN / READONLY / CLUSTERDOWN -> Unavailable;
//   anything else (ERR ...: bad arguments, script errors) -> InvalidArgument.
absl::Status RedisErrorToStatus(std::string_view context, std::string_view redis_error);

}  // namespace shieldx::redis

#endif  // SHIELDX_LIBS_REDIS_REPLY_H_
