#include "libs/redis/subscriber.h"

#include <hiredis/hiredis.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/base/check.h"
#include "libs/redis/backoff.h"
#include "libs/redis/connection.h"

namespace shieldx::redis {

absl::StatusOr<std::unique_ptr<RedisSubscriber>> RedisSubscriber::Start(
    const RedisOptions& options, Subscriptions subscriptions, Callback callback, Hooks hooks,
    absl::Duration ping_interval) {
  absl::Status s = Validate(options);
  if (!s.ok()) return s;
  const size_t total = subscriptions.channels.size() + subscriptions.patterns.size();
  if (total == 0) return absl::InvalidArgumentError("redis subscriber: no channels or patterns");
  if (total > kMaxSubscriptions) {
    return absl::InvalidArgumentError(absl::StrCat(
        "redis subscriber: ", total, " subscriptions (limit ", kMaxSubscriptions, ")"));
  }
  if (!callback) return absl::InvalidArgumentError("redis subscriber: no callback");
  if (ping_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("redis subscriber: ping_interval must be positive");
  }
  std::unique_ptr<RedisSubscriber> sub(new RedisSubscriber(
      options, std::move(subscriptions), std::move(callback), std::move(hooks), ping_interval));
  if (sub->wake_fd_ < 0) return absl::InternalError("redis subscriber: eventfd failed");
  sub->thread_ = std::thread([p = sub.get()] { p->Run(); });
  return sub;
}

RedisSubscriber::RedisSubscriber(const RedisOptions& options, Subscriptions subscriptions,
                                 Callback callback, Hooks hooks, absl::Duration ping_interval)
    : options_(options),
      subscriptions_(std::move(subscriptions)),
      callback_(std::move(callback)),
      hooks_(std::move(hooks)),
      ping_interval_(ping_interval),
      wake_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

RedisSubscriber::~RedisSubscriber() {
  Stop();
  if (wake_fd_ >= 0) close(wake_fd_);
}

void RedisSubscriber::Stop() {
  absl::MutexLock lock(&stop_mu_);
  stopping_.store(true);
  const uint64_t one = 1;
  if (write(wake_fd_, &one, sizeof(one)) < 0) {
    // The counter cannot overflow with one write per Stop(); the thread also polls stopping_.
  }
  if (thread_.joinable()) {
    SHIELDX_CHECK_MSG(thread_.get_id() != std::this_thread::get_id(),
                      "RedisSubscriber::Stop() called from its own callback");
    thread_.join();
  }
}

absl::Status RedisSubscriber::WaitUntilSubscribed(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  if (mu_.AwaitWithTimeout(absl::Condition(&subscribed_), timeout)) return absl::OkStatus();
  return absl::DeadlineExceededError(absl::StrCat(
      internal::ServerName(options_), ": not subscribed within ", absl::FormatDuration(timeout),
      last_error_.empty() ? "" : " (last error: " + last_error_ + ")"));
}

bool RedisSubscriber::subscribed() const {
  absl::MutexLock lock(&mu_);
  return subscribed_;
}

int64_t RedisSubscriber::resubscriptions() const {
  absl::MutexLock lock(&mu_);
  return sessions_ > 0 ? sessions_ - 1 : 0;
}

void RedisSubscriber::SleepUnlessStopped(absl::Duration d) {
  pollfd p{.fd = wake_fd_, .events = POLLIN, .revents = 0};
  poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(d)));
}

void RedisSubscriber::Run() {
  Backoff backoff(options_.backoff);
  while (!stopping_.load()) {
    auto conn = internal::Connection::Open(options_);
    absl::Status ended;
    if (conn.ok()) {
      {
        absl::MutexLock lock(&mu_);
        confirmed_ = 0;
      }
      ended = Serve(**conn);
      absl::MutexLock lock(&mu_);
      // A session that got as far as a full subscription starts the backoff afresh.
      if (subscribed_) backoff.Reset();
      subscribed_ = false;
    } else {
      ended = conn.status();
    }
    if (stopping_.load()) break;
    {
      absl::MutexLock lock(&mu_);
      last_error_ = std::string(ended.message());
    }
    SleepUnlessStopped(backoff.NextDelay());
  }
}

absl::Status RedisSubscriber::Serve(internal::Connection& conn) {
  if (!subscriptions_.channels.empty()) {
    std::vector<std::string> argv = {"SUBSCRIBE"};
    argv.insert(argv.end(), subscriptions_.channels.begin(), subscriptions_.channels.end());
    absl::Status s = conn.Append(argv);
    if (!s.ok()) return s;
  }
  if (!subscriptions_.patterns.empty()) {
    std::vector<std::string> argv = {"PSUBSCRIBE"};
    argv.insert(argv.end(), subscriptions_.patterns.begin(), subscriptions_.patterns.end());
    absl::Status s = conn.Append(argv);
    if (!s.ok()) return s;
  }
  absl::Status s = conn.Flush();
  if (!s.ok()) return s;

  bool ping_outstanding = false;
  const int timeout_ms = static_cast<int>(absl::ToInt64Milliseconds(ping_interval_));
  while (!stopping_.load()) {
    pollfd fds[2] = {{.fd = conn.fd(), .events = POLLIN, .revents = 0},
                     {.fd = wake_fd_, .events = POLLIN, .revents = 0}};
    const int n = poll(fds, 2, timeout_ms);
    if (stopping_.load()) return absl::OkStatus();
    if (n < 0) {
      if (errno == EINTR) continue;
      return conn.Failure("poll");
    }
    if (n == 0) {
      if (ping_outstanding) {
        return absl::UnavailableError(absl::StrCat(conn.name(), ": no answer to PING within ",
                                                   absl::FormatDuration(ping_interval_)));
      }
      s = conn.Append({"PING"});
      if (s.ok()) s = conn.Flush();
      if (!s.ok()) return s;
      ping_outstanding = true;
      continue;
    }
    if (fds[0].revents == 0) continue;
    if (redisBufferRead(conn.context()) != REDIS_OK) return conn.Failure("read");
    ping_outstanding = false;
    while (true) {
      void* raw = nullptr;
      if (redisGetReplyFromReader(conn.context(), &raw) != REDIS_OK) {
        return conn.Failure("parse");
      }
      if (raw == nullptr) break;
      RedisReply reply = internal::FromHiredis(static_cast<redisReply*>(raw));
      freeReplyObject(raw);
      s = Handle(reply);
      if (!s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

absl::Status RedisSubscriber::Handle(const RedisReply& reply) {
  if (reply.is_error()) {
    return RedisErrorToStatus(internal::ServerName(options_) + ": subscription", reply.str());
  }
  if (!reply.is_array() || reply.elements().empty() || !reply.elements()[0].is_string()) {
    return absl::InternalError(
        absl::StrCat(internal::ServerName(options_),
                     ": unexpected reply on a subscribed connection: ", reply.Describe()));
  }
  const auto& e = reply.elements();
  const std::string& kind = e[0].str();
  auto str = [&](size_t i) -> std::string {
    return i < e.size() && e[i].is_string() ? e[i].str() : std::string();
  };
  if (kind == "message" && e.size() == 3) {
    callback_(RedisMessage{.channel = str(1), .pattern = "", .payload = str(2)});
  } else if (kind == "pmessage" && e.size() == 4) {
    callback_(RedisMessage{.channel = str(2), .pattern = str(1), .payload = str(3)});
  } else if (kind == "subscribe" || kind == "psubscribe") {
    const int total =
        static_cast<int>(subscriptions_.channels.size() + subscriptions_.patterns.size());
    bool now_subscribed = false;
    bool reconnect = false;
    {
      absl::MutexLock lock(&mu_);
      if (++confirmed_ == total) {
        subscribed_ = true;
        now_subscribed = true;
        reconnect = sessions_ > 0;
        ++sessions_;
      }
    }
    if (now_subscribed && hooks_.on_subscribed) hooks_.on_subscribed(reconnect);
  }
  // "pong" (the answer to our keep-alive PING) needs nothing.
  return absl::OkStatus();
}

}  // namespace shieldx::redis
