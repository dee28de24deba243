// RedisSubscriber: Redis pub/sub on a dedicated connection served by its own thread.
//
//   auto sub = RedisSubscriber::Start(options, {.channels = {"config-changed"}},
//                                     [](const RedisMessage& m) { Reload(m.payload); });
//   ...
//   (*sub)->Stop();   // or destroy it
//
// The thread connects, SUBSCRIBEs / PSUBSCRIBEs, and calls `callback` once per message, in
// arrival order, on the subscriber thread (keep it short; it must not call Stop()). When the
// connection fails (Redis restarted, a reset, no answer to the periodic PING within
// `ping_interval`), it reconnects with exponential backoff and subscribes again. Pub/sub is
// fire-and-forget: messages published while the subscriber is disconnected are lost, so
// consumers that need every change must re-read state after `on_resubscribed` is called.
//
// Thread-safety: all methods are thread-safe. Stop() is idempotent and returns once the
// thread has exited; after it returns the callback is never called again.
#ifndef SHIELDX_LIBS_REDIS_SUBSCRIBER_H_
#define SHIELDX_LIBS_REDIS_SUBSCRIBER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/redis/options.h"
#include "libs/redis/reply.h"

namespace shieldx::redis {

namespace internal {
class Connection;
}  // namespace internal

// Channels plus patterns of one subscriber.
inline constexpr size_t kMaxSubscriptions = 1024;

struct RedisMessage {
  std::string channel;
  std::string pattern;  // the matching pattern for PSUBSCRIBE deliveries, else empty
  std::string payload;
};

struct Subscriptions {
  std::vector<std::string> channels;  // SUBSCRIBE
  std::vector<std::string> patterns;  // PSUBSCRIBE
};

class RedisSubscriber {
 public:
  using Callback = std::function<void(const RedisMessage&)>;

  struct Hooks {
    // Called on the subscriber thread each time every subscription is confirmed, including
    // after a reconnect (the first call has `reconnect` false). Optional.
    std::function<void(bool reconnect)> on_subscribed;
  };

  // How often an idle subscription PINGs the server; no answer within another interval
  // means the connection is dead and is replaced.
  static constexpr absl::Duration kDefaultPingInterval = absl::Seconds(5);

  // InvalidArgument for bad options, no subscriptions or more than kMaxSubscriptions.
  // Does not wait for Redis: connecting happens on the thread (see WaitUntilSubscribed).
  static absl::StatusOr<std::unique_ptr<RedisSubscriber>> Start(
      const RedisOptions& options, Subscriptions subscriptions, Callback callback, Hooks hooks = {},
      absl::Duration ping_interval = kDefaultPingInterval);

  RedisSubscriber(const RedisSubscriber&) = delete;
  RedisSubscriber& operator=(const RedisSubscriber&) = delete;
  ~RedisSubscriber();

  void Stop();

  // Blocks until every subscription is confirmed by the server on the current connection,
  // or `timeout` passes (DeadlineExceeded naming the last connection error).
  absl::Status WaitUntilSubscribed(absl::Duration timeout);
  bool subscribed() const;
  // Times the subscriber has connected and subscribed again after losing its connection.
  int64_t resubscriptions() const;

 private:
  RedisSubscriber(const RedisOptions& options, Subscriptions subscriptions, Callback callback,
                  Hooks hooks, absl::Duration ping_interval);
  void Run();
  // Serves one connection until it fails or Stop() is called; returns why it ended.
  absl::Status Serve(internal::Connection& conn);
  absl::Status Handle(const RedisReply& reply);
  // Sleeps up to `d`, returning early on Stop().
  void SleepUnlessStopped(absl::Duration d);

  const RedisOptions options_;
  const Subscriptions subscriptions_;
  const Callback callback_;
  const Hooks hooks_;
  const absl::Duration ping_interval_;
  int wake_fd_ = -1;  // eventfd: Stop() wakes the thread out of poll()

  std::atomic<bool> stopping_{false};
  mutable absl::Mutex mu_;
  bool subscribed_ ABSL_GUARDED_BY(mu_) = false;
  int confirmed_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t sessions_ ABSL_GUARDED_BY(mu_) = 0;
  std::string last_error_ ABSL_GUARDED_BY(mu_);
  absl::Mutex stop_mu_;
  std::thread thread_;
};

}  // namespace shieldx::redis

#endif  // SHIELDX_LIBS_REDIS_SUBSCRIBER_H_
