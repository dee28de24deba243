#include "libs/redis/redis_pool.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/redis/connection.h"

namespace shieldx::redis {

absl::StatusOr<std::unique_ptr<RedisPool>> RedisPool::Create(const RedisOptions& options) {
  absl::Status s = Validate(options);
  if (!s.ok()) return s;
  return std::unique_ptr<RedisPool>(new RedisPool(options));
}

RedisPool::RedisPool(const RedisOptions& options)
    : options_(options),
      clock_(options.clock != nullptr ? options.clock : Clock::Real()),
      name_(internal::ServerName(options)),
      backoff_(options.backoff) {}

RedisPool::~RedisPool() = default;

absl::StatusOr<std::unique_ptr<internal::Connection>> RedisPool::Acquire() {
  const absl::Time deadline = absl::Now() + options_.acquire_timeout;
  absl::MutexLock lock(&mu_);
  while (true) {
    while (!idle_.empty()) {
      std::unique_ptr<internal::Connection> conn = std::move(idle_.back());
      idle_.pop_back();
      if (!conn->LooksClosed()) return conn;
      --open_;
      ++counters_.stale_dropped;
    }
    if (open_ < options_.max_connections) {
      const int64_t now = clock_->MonotonicNanos();
      if (now < next_connect_nanos_) {
        return absl::UnavailableError(
            absl::StrCat(name_, ": unavailable (", last_error_, "); next reconnect attempt in ",
                         absl::FormatDuration(absl::Nanoseconds(next_connect_nanos_ - now))));
      }
      ++open_;
      mu_.Unlock();
      auto conn = internal::Connection::Open(options_);
      mu_.Lock();
      if (conn.ok()) {
        ++counters_.connects;
        return conn;
      }
      --open_;
      ++counters_.connect_failures;
      RecordFailureLocked(conn.status());
      return conn.status();
    }
    // Every connection is busy: wait for a Release (or for one to be discarded).
    if (mu_.AwaitWithDeadline(absl::Condition(
                                  +[](RedisPool* p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(p->mu_) {
                                    return !p->idle_.empty() ||
                                           p->open_ < p->options_.max_connections;
                                  },
                                  this),
                              deadline)) {
      continue;
    }
    return absl::UnavailableError(absl::StrCat(name_, ": all ", options_.max_connections,
                                               " connections busy for ",
                                               absl::FormatDuration(options_.acquire_timeout)));
  }
}

void RedisPool::RecordFailureLocked(const absl::Status& status) {
  last_error_ = std::string(status.message());
  next_connect_nanos_ = clock_->MonotonicNanos() + absl::ToInt64Nanoseconds(backoff_.NextDelay());
  // The server is probably gone or hung: idle connections to it are suspect too.
  open_ -= static_cast<int>(idle_.size());
  idle_.clear();
}

void RedisPool::Release(std::unique_ptr<internal::Connection> conn, const absl::Status& status) {
  absl::MutexLock lock(&mu_);
  if (conn->broken()) {
    --open_;
    ++counters_.io_failures;
    RecordFailureLocked(status);
    return;
  }
  backoff_.Reset();
  next_connect_nanos_ = 0;
  idle_.push_back(std::move(conn));
}

absl::StatusOr<std::vector<RedisReply>> RedisPool::Round(
    const std::vector<std::vector<std::string>>& commands) {
  auto conn = Acquire();
  if (!conn.ok()) return conn.status();
  auto replies = (*conn)->Round(commands);
  Release(std::move(*conn), replies.status());
  return replies;
}

absl::StatusOr<RedisReply> RedisPool::CommandArgv(std::vector<std::string> argv) {
  if (argv.empty()) return absl::InvalidArgumentError(name_ + ": empty command");
  if (argv.size() > kMaxCommandArgs) {
    return absl::InvalidArgumentError(absl::StrCat(name_, ": ", argv[0], " has ", argv.size(),
                                                   " arguments (limit ", kMaxCommandArgs, ")"));
  }
  std::vector<std::vector<std::string>> commands;
  commands.push_back(std::move(argv));
  auto replies = Round(commands);
  if (!replies.ok()) return replies.status();
  RedisReply& reply = (*replies)[0];
  if (reply.is_error()) {
    return RedisErrorToStatus(absl::StrCat(name_, ": ", commands[0][0]), reply.str());
  }
  return std::move(reply);
}

absl::StatusOr<std::vector<RedisReply>> RedisPool::Exec(const RedisPipeline& pipeline) {
  if (pipeline.empty()) return std::vector<RedisReply>();
  if (pipeline.size() > kMaxPipelineCommands) {
    return absl::InvalidArgumentError(absl::StrCat(name_, ": pipeline of ", pipeline.size(),
                                                   " commands (limit ", kMaxPipelineCommands, ")"));
  }
  for (size_t i = 0; i < pipeline.size(); ++i) {
    const auto& argv = pipeline.commands()[i];
    if (argv.empty() || argv.size() > kMaxCommandArgs) {
      return absl::InvalidArgumentError(absl::StrCat(name_, ": pipeline command ", i, " has ",
                                                     argv.size(), " arguments (must be 1..",
                                                     kMaxCommandArgs, ")"));
    }
  }
  return Round(pipeline.commands());
}

absl::Status RedisPool::Ping() {
  auto reply = CommandArgv({"PING"});
  if (!reply.ok()) return reply.status();
  if (!reply->is_status() || reply->str() != "PONG") {
    return absl::UnavailableError(
        absl::StrCat(name_, ": PING answered ", reply->Describe(), " instead of PONG"));
  }
  return absl::OkStatus();
}

RedisPool::Stats RedisPool::stats() const {
  absl::MutexLock lock(&mu_);
  Stats s = counters_;
  s.open = open_;
  s.idle = static_cast<int>(idle_.size());
  return s;
}

}  // namespace shieldx::redis
