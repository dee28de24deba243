// Internal to libs/redis: one hiredis connection, owned. Not part of the public API.
//
// A Connection is used by one thread at a time. After any I/O, timeout or protocol error it is
// `broken()` and must be discarded (hiredis contexts cannot recover from an error).
#ifndef SHIELDX_LIBS_REDIS_CONNECTION_H_
#define SHIELDX_LIBS_REDIS_CONNECTION_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "libs/redis/options.h"
#include "libs/redis/reply.h"

struct redisContext;
struct redisReply;

namespace shieldx::redis::internal {

// Copies a hiredis reply tree (hiredis itself bounds nesting depth).
RedisReply FromHiredis(const redisReply* reply);

class Connection {
 public:
  // Connects within options.connect_timeout, sets the command timeout and TCP keep-alive,
  // then AUTH / SELECT when configured. Unavailable when Redis cannot be reached,
  // PermissionDenied when AUTH is refused.
  static absl::StatusOr<std::unique_ptr<Connection>> Open(const RedisOptions& options);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Sends the commands in one write and reads one reply per command. Redis error replies are
  // returned in-band (RedisReply::Error); a non-OK status means the connection failed
  // (Unavailable) and is now broken.
  absl::StatusOr<std::vector<RedisReply>> Round(const std::vector<std::vector<std::string>>& cmds);

  // Queues one command without waiting (pub/sub); Flush() writes what is queued.
  absl::Status Append(const std::vector<std::string>& argv);
  absl::Status Flush();

  // True when an idle connection has data or EOF pending: the server closed it (restart,
  // idle timeout) or sent something unsolicited. Such a connection must not be reused.
  bool LooksClosed() const;

  bool broken() const { return broken_; }
  int fd() const;
  redisContext* context() { return ctx_; }
  // "redis 127.0.0.1:6379".
  const std::string& name() const { return name_; }

  // Unavailable "<name>: <what>: <hiredis error>"; marks the connection broken.
  absl::Status Failure(std::string_view what);

 private:
  Connection(redisContext* ctx, std::string name, absl::Duration command_timeout)
      : ctx_(ctx), name_(std::move(name)), command_timeout_(command_timeout) {}

  redisContext* ctx_;
  std::string name_;
  absl::Duration command_timeout_;
  bool broken_ = false;
};

// "redis HOST:PORT".
std::string ServerName(const RedisOptions& options);

}  // namespace shieldx::redis::internal

#endif  // SHIELDX_LIBS_REDIS_CONNECTION_H_
