// RedisPool: a bounded pool of hiredis connections to one Redis server (RESP2, no TLS).
//
//   ASSERT_OK_AND_ASSIGN(auto pool, RedisPool::Create({.host = "127.0.0.1", .port = 6379}));
//   ASSERT_OK_AND_ASSIGN(RedisReply n, pool->Command("INCRBY", "hits", 5));
//   RedisPipeline p;
//   p.Add("SET", "a", "1").Add("GET", "a");
//   ASSERT_OK_AND_ASSIGN(std::vector<RedisReply> replies, pool->Exec(p));
//
// Connections are opened lazily (Create succeeds while Redis is down, so a service can start
// and report not-ready) and at most `max_connections` exist at once; callers beyond that wait
// up to `acquire_timeout`. Arguments are sent in argv form: binary safe, never interpolated.
//
// Failure behaviour:
// - Redis unreachable, a reset connection or a command exceeding `command_timeout` returns
//   Unavailable naming the server; the connection is discarded, idle connections are dropped,
//   and new connections are attempted only after an exponential backoff with jitter
//   (options.backoff). During the backoff calls fail fast with Unavailable instead of each
//   waiting for a timeout. The first successful command resets the backoff.
// - An idle connection that the server closed (Redis restarted) is detected before use and
//   replaced, so a restarted Redis is picked up without recreating the pool and without a
//   failed call.
// - A call costs at most acquire_timeout + connect_timeout + command_timeout per socket
//   operation; it never hangs and never crashes on what the server sends.
//
// Thread-safety: all methods are thread-safe.
#ifndef SHIELDX_LIBS_REDIS_REDIS_POOL_H_
#define SHIELDX_LIBS_REDIS_REDIS_POOL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "libs/redis/backoff.h"
#include "libs/redis/options.h"
#include "libs/redis/reply.h"

namespace shieldx::redis {

namespace internal {
class Connection;
}  // namespace internal

// Redis accepts up to 1M arguments; we cap far lower so a bug cannot build a 1 GiB command.
inline constexpr size_t kMaxCommandArgs = 100'000;
// Commands in one pipeline (one round-trip); replies are held in memory until all arrive.
inline constexpr size_t kMaxPipelineCommands = 10'000;

// Converts a command argument to its wire bytes: strings as-is, numbers in decimal.
template <typename T>
std::string RedisArg(const T& value) {
  if constexpr (std::is_same_v<T, bool>) {
    return value ? "1" : "0";
  } else if constexpr (std::is_arithmetic_v<T>) {
    return absl::StrCat(value);
  } else {
    return std::string(value);
  }
}

// A batch of commands sent in one write and answered in one round-trip.
class RedisPipeline {
 public:
  template <typename... Args>
  RedisPipeline& Add(const Args&... args) {
    return AddArgv({RedisArg(args)...});
  }
  RedisPipeline& AddArgv(std::vector<std::string> argv) {
    commands_.push_back(std::move(argv));
    return *this;
  }
  size_t size() const { return commands_.size(); }
  bool empty() const { return commands_.empty(); }
  const std::vector<std::vector<std::string>>& commands() const { return commands_; }

 private:
  std::vector<std::vector<std::string>> commands_;
};

class RedisPool {
 public:
  struct Stats {
    int open = 0;                  // connections that exist (busy + idle)
    int idle = 0;                  // connections waiting in the pool
    int64_t connects = 0;          // successful connects since creation
    int64_t connect_failures = 0;  // failed connects
    int64_t io_failures = 0;       // I/O errors and timeouts on established connections
    int64_t stale_dropped = 0;     // idle connections found closed by the server
  };

  // InvalidArgument for bad options (see Validate). Does not connect.
  static absl::StatusOr<std::unique_ptr<RedisPool>> Create(const RedisOptions& options);

  RedisPool(const RedisPool&) = delete;
  RedisPool& operator=(const RedisPool&) = delete;
  ~RedisPool();

  // Runs one command. A Redis error reply becomes a non-OK status (RedisErrorToStatus) whose
  // message names the command, not its arguments. Integral arguments are sent in decimal.
  template <typename... Args>
  absl::StatusOr<RedisReply> Command(const Args&... args) {
    return CommandArgv({RedisArg(args)...});
  }
  absl::StatusOr<RedisReply> CommandArgv(std::vector<std::string> argv);

  // Sends every command of `pipeline` in one round-trip and returns one reply per command, in
  // order. Redis error replies stay in-band (RedisReply::Error) so one bad command does not
  // hide the others' results; a non-OK status means the round-trip itself failed (then some
  // commands may or may not have run). An empty pipeline returns no replies without I/O.
  absl::StatusOr<std::vector<RedisReply>> Exec(const RedisPipeline& pipeline);

  // Readiness: OK when Redis answers PING with PONG, else Unavailable.
  absl::Status Ping();

  Stats stats() const;
  const RedisOptions& options() const { return options_; }

 private:
  explicit RedisPool(const RedisOptions& options);

  absl::StatusOr<std::unique_ptr<internal::Connection>> Acquire();
  // Returns a healthy connection to the pool, or discards a broken one and starts backoff.
  void Release(std::unique_ptr<internal::Connection> conn, const absl::Status& status);
  absl::StatusOr<std::vector<RedisReply>> Round(
      const std::vector<std::vector<std::string>>& commands);
  void RecordFailureLocked(const absl::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const RedisOptions options_;
  Clock* const clock_;
  const std::string name_;

  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<internal::Connection>> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;
  Backoff backoff_ ABSL_GUARDED_BY(mu_);
  int64_t next_connect_nanos_ ABSL_GUARDED_BY(mu_) = 0;
  std::string last_error_ ABSL_GUARDED_BY(mu_);
  Stats counters_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shieldx::redis

#endif  // SHIELDX_LIBS_REDIS_REDIS_POOL_H_
