// RedisOptions: where Redis is and how long to wait for it; shared by RedisPool and
// RedisSubscriber. Defaults suit a Redis on the same host or in the same cluster.
#ifndef SHIELDX_LIBS_REDIS_OPTIONS_H_
#define SHIELDX_LIBS_REDIS_OPTIONS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "libs/base/clock.h"
#include "libs/redis/backoff.h"

namespace shieldx::redis {

// Ceilings on options (a config asking for more is rejected by Validate).
inline constexpr int kMaxPoolConnections = 256;
inline constexpr absl::Duration kMaxTimeout = absl::Minutes(5);

struct RedisOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  // AUTH password; empty: no AUTH. A secret: never logged and never put in an error message.
  std::string password;
  // SELECT this database after connecting (0: the default, no SELECT).
  int db = 0;
  // TCP connect (and AUTH/SELECT) bound.
  absl::Duration connect_timeout = absl::Milliseconds(500);
  // Bound on each socket read/write of a command or pipeline; a hung server costs at most this.
  absl::Duration command_timeout = absl::Seconds(1);
  // RedisPool: connections open at once (busy + idle).
  int max_connections = 8;
  // RedisPool: how long a caller waits for a busy pool to free a connection.
  absl::Duration acquire_timeout = absl::Seconds(1);
  // Reconnect delays after failures (connect errors, I/O errors, timeouts).
  BackoffOptions backoff;
  // Time source for backoff deadlines; null means Clock::Real(). Not owned.
  Clock* clock = nullptr;
};

// InvalidArgument naming the first bad field (e.g. "redis options: port 0 out of range
// [1, 65535]").
absl::Status Validate(const RedisOptions& options);

}  // namespace shieldx::redis

#endif  // SHIELDX_LIBS_REDIS_OPTIONS_H_
