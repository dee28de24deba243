#include "libs/redis/options.h"

#include "absl/strings/str_cat.h"

namespace shieldx::redis {
namespace {
absl::Status CheckTimeout(const char* name, absl::Duration d) {
  if (d <= absl::ZeroDuration() || d > kMaxTimeout) {
    return absl::InvalidArgumentError(absl::StrCat("redis options: ", name, " ",
                                                   absl::FormatDuration(d), " out of range (0, ",
                                                   absl::FormatDuration(kMaxTimeout), "]"));
  }
  return absl::OkStatus();
}
}  // namespace

absl::Status Validate(const RedisOptions& options) {
  if (options.host.empty()) return absl::InvalidArgumentError("redis options: host is empty");
  if (options.port < 1 || options.port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("redis options: port ", options.port, " out of range [1, 65535]"));
  }
  if (options.db < 0) {
    return absl::InvalidArgumentError(absl::StrCat("redis options: db ", options.db, " < 0"));
  }
  if (options.max_connections < 1 || options.max_connections > kMaxPoolConnections) {
    return absl::InvalidArgumentError(absl::StrCat("redis options: max_connections ",
                                                   options.max_connections, " out of range [1, ",
                                                   kMaxPoolConnections, "]"));
  }
  for (auto [name, d] : {std::pair{"connect_timeout", options.connect_timeout},
                         std::pair{"command_timeout", options.command_timeout},
                         std::pair{"acquire_timeout", options.acquire_timeout},
                         std::pair{"backoff.initial", options.backoff.initial},
                         std::pair{"backoff.max", options.backoff.max}}) {
    absl::Status s = CheckTimeout(name, d);
    if (!s.ok()) return s;
  }
  if (options.backoff.max < options.backoff.initial) {
    return absl::InvalidArgumentError(
        absl::StrCat("redis options: backoff.max ", absl::FormatDuration(options.backoff.max),
                     " < backoff.initial ", absl::FormatDuration(options.backoff.initial)));
  }
  return absl::OkStatus();
}

}  // namespace shieldx::redis
