#include "libs/redis/subscriber.h"

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/redis/redis_pool.h"
#include "libs/testing/redis_server.h"
#include "libs/testing/status_matchers.h"

namespace shieldx::redis {
namespace {

using ::shieldx::testing::RedisServer;
using ::shieldx::testing::StatusIs;
using ::testing::ElementsAre;

bool WaitFor(const std::function<bool()>& cond, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (cond()) return true;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return cond();
}

// Collects delivered messages as "channel|pattern|payload".
class Inbox {
 public:
  RedisSubscriber::Callback Callback() {
    return [this](const RedisMessage& m) {
      absl::MutexLock lock(&mu_);
      got_.push_back(m.channel + "|" + m.pattern + "|" + m.payload);
    };
  }
  std::vector<std::string> Get() {
    absl::MutexLock lock(&mu_);
    return got_;
  }
  size_t size() {
    absl::MutexLock lock(&mu_);
    return got_.size();
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> got_;
};

class RedisSubscriberTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(server_, RedisServer::Start());
    ASSERT_OK_AND_ASSIGN(pool_, RedisPool::Create(Options()));
  }
  RedisOptions Options() const {
    return {.host = server_->host(),
            .port = server_->port(),
            .connect_timeout = absl::Milliseconds(300),
            .command_timeout = absl::Milliseconds(500),
            .backoff = {.initial = absl::Milliseconds(20), .max = absl::Milliseconds(200)}};
  }
  void Publish(const std::string& channel, const std::string& payload) {
    // The pool may need a retry right after a restart of the server.
    ASSERT_TRUE(WaitFor([&] { return pool_->Command("PUBLISH", channel, payload).ok(); },
                        absl::Seconds(3)));
  }

  std::unique_ptr<RedisServer> server_;
  std::unique_ptr<RedisPool> pool_;
};

TEST_F(RedisSubscriberTest, DeliversChannelAndPatternMessagesInOrder) {
  Inbox inbox;
  ASSERT_OK_AND_ASSIGN(
      auto sub, RedisSubscriber::Start(Options(), {.channels = {"a", "b"}, .patterns = {"p.*"}},
                                       inbox.Callback()));
  ASSERT_OK(sub->WaitUntilSubscribed(absl::Seconds(3)));
  Publish("a", "1");
  Publish("b", std::string("bin\0ary", 7));
  Publish("p.x", "3");
  Publish("ignored", "4");
  Publish("a", "5");
  ASSERT_TRUE(WaitFor([&] { return inbox.size() >= 4; }, absl::Seconds(3)));
  absl::SleepFor(absl::Milliseconds(100));  // nothing else arrives
  EXPECT_THAT(inbox.Get(),
              ElementsAre("a||1", "b||" + std::string("bin\0ary", 7), "p.x|p.*|3", "a||5"));
  EXPECT_EQ(sub->resubscriptions(), 0);
}

TEST_F(RedisSubscriberTest, ResubscribesAfterRedisRestartAndReportsIt) {
  Inbox inbox;
  std::atomic<int> reconnect_hooks{0};
  RedisSubscriber::Hooks hooks{.on_subscribed = [&](bool reconnect) {
    if (reconnect) ++reconnect_hooks;
  }};
  ASSERT_OK_AND_ASSIGN(
      auto sub, RedisSubscriber::Start(Options(), {.channels = {"c"}}, inbox.Callback(), hooks));
  ASSERT_OK(sub->WaitUntilSubscribed(absl::Seconds(3)));
  Publish("c", "before");
  ASSERT_TRUE(WaitFor([&] { return inbox.size() == 1; }, absl::Seconds(3)));

  ASSERT_OK(server_->Restart());
  ASSERT_TRUE(WaitFor([&] { return sub->resubscriptions() == 1; }, absl::Seconds(5)));
  ASSERT_OK(sub->WaitUntilSubscribed(absl::Seconds(3)));
  EXPECT_EQ(reconnect_hooks.load(), 1);
  Publish("c", "after");
  ASSERT_TRUE(WaitFor([&] { return inbox.size() == 2; }, absl::Seconds(3)));
  EXPECT_THAT(inbox.Get(), ElementsAre("c||before", "c||after"));
}

TEST_F(RedisSubscriberTest, HungServerIsDetectedByPingAndReplaced) {
  Inbox inbox;
  ASSERT_OK_AND_ASSIGN(auto sub,
                       RedisSubscriber::Start(Options(), {.channels = {"c"}}, inbox.Callback(), {},
                                              /*ping_interval=*/absl::Milliseconds(200)));
  ASSERT_OK(sub->WaitUntilSubscribed(absl::Seconds(3)));
  server_->Freeze();
  // Idle 200 ms -> PING; no answer for another 200 ms -> the connection is dropped.
  EXPECT_TRUE(WaitFor([&] { return !sub->subscribed(); }, absl::Seconds(2)));
  server_->Thaw();
  ASSERT_OK(sub->WaitUntilSubscribed(absl::Seconds(5)));
  EXPECT_GE(sub->resubscriptions(), 1);
  Publish("c", "x");
  EXPECT_TRUE(WaitFor([&] { return inbox.size() == 1; }, absl::Seconds(3)));
}

TEST_F(RedisSubscriberTest, StopIsPromptWhileRedisIsDownAndNoCallbackFollowsIt) {
  server_->Stop();
  std::atomic<int> calls{0};
  ASSERT_OK_AND_ASSIGN(auto sub, RedisSubscriber::Start(Options(), {.channels = {"c"}},
                                                        [&](const RedisMessage&) { ++calls; }));
  EXPECT_THAT(sub->WaitUntilSubscribed(absl::Milliseconds(200)),
              StatusIs(absl::StatusCode::kDeadlineExceeded, ::testing::HasSubstr("connect")));
  const absl::Time start = absl::Now();
  sub->Stop();
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(300));
  sub->Stop();  // idempotent
  EXPECT_EQ(calls.load(), 0);
}

TEST_F(RedisSubscriberTest, StopWhileSubscribedEndsDeliveries) {
  std::atomic<int> calls{0};
  ASSERT_OK_AND_ASSIGN(auto sub, RedisSubscriber::Start(Options(), {.channels = {"c"}},
                                                        [&](const RedisMessage&) { ++calls; }));
  ASSERT_OK(sub->WaitUntilSubscribed(absl::Seconds(3)));
  Publish("c", "1");
  ASSERT_TRUE(WaitFor([&] { return calls.load() == 1; }, absl::Seconds(3)));
  sub->Stop();
  // Redis drops the closed subscription connection from the channel; it may still count it
  // for a moment after Stop returns (the close is processed asynchronously), so the test
  // publishes until no receiver is left. No callback runs for any of these messages.
  EXPECT_TRUE(WaitFor(
      [&] {
        absl::StatusOr<RedisReply> receivers = pool_->Command("PUBLISH", "c", "2");
        return receivers.ok() && receivers->integer() == 0;
      },
      absl::Seconds(2)));
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(calls.load(), 1);
}

TEST_F(RedisSubscriberTest, RejectsEmptyOrOversizedSubscriptions) {
  auto noop = [](const RedisMessage&) {};
  EXPECT_THAT(RedisSubscriber::Start(Options(), {}, noop),
              StatusIs(absl::StatusCode::kInvalidArgument));
  Subscriptions many;
  many.channels.assign(kMaxSubscriptions + 1, "c");
  EXPECT_THAT(RedisSubscriber::Start(Options(), many, noop),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(RedisSubscriber::Start(Options(), {.channels = {"c"}}, nullptr),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace shieldx::redis
