#include "libs/redis/redis_pool.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/base/clock.h"
#include "libs/redis/script.h"
#include "libs/testing/redis_server.h"
#include "libs/testing/status_matchers.h"

namespace shieldx::redis {
namespace {

using ::shieldx::testing::IsOk;
using ::shieldx::testing::RedisServer;
using ::shieldx::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

class RedisPoolTest : public ::testing::Test {
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
            .max_connections = 4,
            .acquire_timeout = absl::Milliseconds(500),
            .backoff = {.initial = absl::Milliseconds(20), .max = absl::Milliseconds(200)}};
  }
  // Commands Redis counted for `name` since the last CONFIG RESETSTAT (0 if none).
  int64_t CommandCalls(const std::string& name) {
    auto info = pool_->Command("INFO", "commandstats");
    if (!info.ok()) return -1;
    const std::string marker = "cmdstat_" + name + ":calls=";
    const size_t at = info->str().find(marker);
    if (at == std::string::npos) return 0;
    return std::stoll(info->str().substr(at + marker.size()));
  }

  std::unique_ptr<RedisServer> server_;
  std::unique_ptr<RedisPool> pool_;
};

TEST_F(RedisPoolTest, CommandsAreBinarySafeAndNumbersAreSentInDecimal) {
  const std::string key("k\0ey\r\n", 6);
  const std::string value("v\0\r\n$3\r\nbad", 12);
  ASSERT_OK_AND_ASSIGN(RedisReply set, pool_->Command("SET", key, value));
  EXPECT_EQ(set, RedisReply::Status("OK"));
  ASSERT_OK_AND_ASSIGN(RedisReply get, pool_->Command("GET", key));
  EXPECT_EQ(get, RedisReply::String(value));
  ASSERT_OK_AND_ASSIGN(RedisReply n, pool_->Command("INCRBY", "counter", int64_t{-42}));
  EXPECT_EQ(n.integer(), -42);
  ASSERT_OK_AND_ASSIGN(RedisReply missing, pool_->Command("GET", "nope"));
  EXPECT_TRUE(missing.is_nil());
  ASSERT_OK_AND_ASSIGN(RedisReply list, pool_->Command("MGET", "counter", "nope"));
  EXPECT_EQ(list, RedisReply::Array({RedisReply::String("-42"), RedisReply::Nil()}));
}

TEST_F(RedisPoolTest, ErrorReplyIsAStatusNamingTheCommandButNotItsArguments) {
  ASSERT_OK(pool_->Command("LPUSH", "list", "secret-payload"));
  EXPECT_THAT(pool_->Command("GET", "list"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("GET: WRONGTYPE"), HasSubstr(server_->address()),
                             Not(HasSubstr("secret-payload")))));
  EXPECT_THAT(pool_->Command("INCRBY", "x", "not-a-number"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not an integer")));
  EXPECT_THAT(pool_->CommandArgv({}), StatusIs(absl::StatusCode::kInvalidArgument));
  // The error did not poison the pool.
  EXPECT_OK(pool_->Ping());
  EXPECT_EQ(pool_->stats().io_failures, 0);
}

TEST_F(RedisPoolTest, PipelineReturnsOneReplyPerCommandInOrderWithErrorsInBand) {
  RedisPipeline p;
  for (int i = 0; i < 1000; ++i) p.Add("INCR", "n");
  p.Add("LPUSH", "n", "x");  // WRONGTYPE: stays in-band
  p.Add("GET", "n");
  ASSERT_OK_AND_ASSIGN(std::vector<RedisReply> replies, pool_->Exec(p));
  ASSERT_EQ(replies.size(), 1002u);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(replies[i].integer(), i + 1);
  EXPECT_TRUE(replies[1000].is_error());
  EXPECT_THAT(replies[1000].str(), HasSubstr("WRONGTYPE"));
  EXPECT_EQ(replies[1001], RedisReply::String("1000"));
  // One connection served the whole batch.
  EXPECT_EQ(pool_->stats().connects, 1);
}

TEST_F(RedisPoolTest, PipelineLimitsAndEmptyPipeline) {
  ASSERT_OK_AND_ASSIGN(auto none, pool_->Exec(RedisPipeline()));
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(pool_->stats().connects, 0);  // no I/O for an empty pipeline
  RedisPipeline big;
  for (size_t i = 0; i <= kMaxPipelineCommands; ++i) big.Add("PING");
  EXPECT_THAT(pool_->Exec(big), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr(absl::StrCat(kMaxPipelineCommands + 1))));
  RedisPipeline empty_command;
  empty_command.AddArgv({});
  EXPECT_THAT(pool_->Exec(empty_command), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(RedisPoolTest, ScriptUsesEvalshaAndLoadsTransparentlyAfterScriptFlush) {
  const RedisScript script("return redis.call('INCRBY', KEYS[1], ARGV[1])");
  EXPECT_EQ(script.sha1().size(), 40u);
  ASSERT_OK(pool_->Command("CONFIG", "RESETSTAT"));

  ASSERT_OK_AND_ASSIGN(RedisReply r, script.Run(*pool_, {"s"}, {"5"}));
  EXPECT_EQ(r.integer(), 5);
  // Redis computes the same SHA1: the script is now cached under it.
  ASSERT_OK_AND_ASSIGN(RedisReply exists, pool_->Command("SCRIPT", "EXISTS", script.sha1()));
  EXPECT_EQ(exists, RedisReply::Array({RedisReply::Integer(1)}));
  EXPECT_EQ(CommandCalls("evalsha"), 1);
  EXPECT_EQ(CommandCalls("eval"), 1);  // the NOSCRIPT fallback

  ASSERT_OK_AND_ASSIGN(r, script.Run(*pool_, {"s"}, {"5"}));
  EXPECT_EQ(r.integer(), 10);
  EXPECT_EQ(CommandCalls("evalsha"), 2);
  EXPECT_EQ(CommandCalls("eval"), 1);  // cached: no second load

  ASSERT_OK(pool_->Command("SCRIPT", "FLUSH"));
  ASSERT_OK_AND_ASSIGN(r, script.Run(*pool_, {"s"}, {"1"}));
  EXPECT_EQ(r.integer(), 11);  // ran exactly once despite the NOSCRIPT round
  EXPECT_EQ(CommandCalls("eval"), 2);
}

TEST_F(RedisPoolTest, ScriptSurvivesARedisRestartThatEmptiedTheScriptCache) {
  const RedisScript script("return ARGV[1] .. KEYS[1]");
  ASSERT_OK_AND_ASSIGN(RedisReply r, script.Run(*pool_, {"k"}, {"a"}));
  EXPECT_EQ(r, RedisReply::String("ak"));
  ASSERT_OK(server_->Restart());
  ASSERT_OK_AND_ASSIGN(r, script.Run(*pool_, {"k2"}, {"b"}));
  EXPECT_EQ(r, RedisReply::String("bk2"));
}

TEST_F(RedisPoolTest, ScriptErrorsAreStatusesNamingTheScript) {
  const RedisScript failing("return redis.error_reply('ERR quota exceeded')");
  EXPECT_THAT(
      failing.Run(*pool_, {}, {}),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("quota exceeded"), HasSubstr(failing.sha1().substr(0, 12)))));
  const RedisScript broken("this is not lua");
  EXPECT_THAT(broken.Run(*pool_, {}, {}), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(RedisPoolTest, RestartedRedisIsPickedUpWithoutRecreatingThePoolOrAFailedCall) {
  // Park several idle connections in the pool.
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] { EXPECT_OK(pool_->Command("BLPOP", "none", "0.1")); });
  }
  for (auto& t : threads) t.join();
  ASSERT_GE(pool_->stats().idle, 2);

  ASSERT_OK(server_->Restart());
  ASSERT_OK_AND_ASSIGN(RedisReply r, pool_->Command("SET", "after", "restart"));
  EXPECT_EQ(r, RedisReply::Status("OK"));
  EXPECT_GE(pool_->stats().stale_dropped, 1);
  EXPECT_EQ(pool_->stats().io_failures, 0);
  EXPECT_OK(pool_->Ping());
}

TEST_F(RedisPoolTest, StoppedRedisIsUnavailableQuicklyThenRecoversAfterStart) {
  ASSERT_OK(pool_->Ping());
  server_->Stop();

  absl::Time start = absl::Now();
  EXPECT_THAT(pool_->Command("GET", "k"),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr(server_->address())));
  EXPECT_LT(absl::Now() - start, Options().connect_timeout + absl::Milliseconds(200));

  ASSERT_OK(server_->StartAgain());
  const absl::Time deadline = absl::Now() + absl::Seconds(3);
  absl::Status s;
  while (absl::Now() < deadline && !(s = pool_->Ping()).ok())
    absl::SleepFor(absl::Milliseconds(10));
  EXPECT_OK(s);
}

TEST_F(RedisPoolTest, DuringTheBackoffCallsFailFastAndTheNextAttemptReconnects) {
  FakeClock clock;
  RedisOptions options = Options();
  options.clock = &clock;
  options.backoff = {.initial = absl::Seconds(1), .max = absl::Seconds(8), .seed = 1};
  ASSERT_OK_AND_ASSIGN(auto pool, RedisPool::Create(options));
  server_->Stop();
  EXPECT_THAT(pool->Ping(), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("connect")));
  ASSERT_OK(server_->StartAgain());

  // Redis is back, but the pool waits out its backoff (0.5..1 s on the fake clock) without
  // touching the network.
  const absl::Time start = absl::Now();
  EXPECT_THAT(pool->Ping(),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("next reconnect attempt in")));
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(50));
  EXPECT_EQ(pool->stats().connect_failures, 1);

  clock.Advance(absl::Seconds(1));
  EXPECT_OK(pool->Ping());
  EXPECT_EQ(pool->stats().connects, 1);
}

TEST_F(RedisPoolTest, HungRedisTimesOutWithUnavailableInsteadOfHanging) {
  ASSERT_OK(pool_->Ping());
  server_->Freeze();
  const absl::Time start = absl::Now();
  EXPECT_THAT(pool_->Command("GET", "k"),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("timed out after 500ms")));
  const absl::Duration took = absl::Now() - start;
  EXPECT_GE(took, absl::Milliseconds(450));
  EXPECT_LT(took, absl::Milliseconds(1500));
  server_->Thaw();
  const absl::Time deadline = absl::Now() + absl::Seconds(3);
  absl::Status s;
  while (absl::Now() < deadline && !(s = pool_->Ping()).ok())
    absl::SleepFor(absl::Milliseconds(10));
  EXPECT_OK(s);
}

TEST_F(RedisPoolTest, EightThreadsShareABoundedPool) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 300;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        if (!pool_->Command("INCR", "shared").ok()) ++failures;
        if (!pool_->Command("SET", absl::StrCat("t", t), i).ok()) ++failures;
        if (pool_->stats().open > Options().max_connections) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_OK_AND_ASSIGN(RedisReply total, pool_->Command("GET", "shared"));
  EXPECT_EQ(total, RedisReply::String(absl::StrCat(kThreads * kPerThread)));
  EXPECT_LE(pool_->stats().open, Options().max_connections);
}

TEST_F(RedisPoolTest, BusyPoolMakesCallersWaitThenFailsAfterTheAcquireTimeout) {
  RedisOptions options = Options();
  options.max_connections = 1;
  options.command_timeout = absl::Seconds(3);
  options.acquire_timeout = absl::Milliseconds(200);
  ASSERT_OK_AND_ASSIGN(auto pool, RedisPool::Create(options));
  std::thread blocker([&] { EXPECT_OK(pool->Command("BLPOP", "none", "1")); });
  absl::SleepFor(absl::Milliseconds(100));
  const absl::Time start = absl::Now();
  EXPECT_THAT(pool->Ping(),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("all 1 connections busy")));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(190));
  blocker.join();
  EXPECT_OK(pool->Ping());
}

TEST_F(RedisPoolTest, CreateDoesNotConnectAndRejectsBadOptions) {
  server_->Stop();
  ASSERT_OK_AND_ASSIGN(auto pool, RedisPool::Create(Options()));
  EXPECT_THAT(pool->Ping(), StatusIs(absl::StatusCode::kUnavailable));
  RedisOptions bad = Options();
  bad.max_connections = 0;
  EXPECT_THAT(RedisPool::Create(bad), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(RedisPoolTest, PasswordIsSentAsAuthAndNeverAppearsInErrors) {
  ASSERT_OK(pool_->Command("CONFIG", "SET", "requirepass", "s3cret-pw"));
  RedisOptions good = Options();
  good.password = "s3cret-pw";
  ASSERT_OK_AND_ASSIGN(auto authed, RedisPool::Create(good));
  EXPECT_OK(authed->Ping());

  RedisOptions wrong = Options();
  wrong.password = "wrong-pw";
  ASSERT_OK_AND_ASSIGN(auto refused, RedisPool::Create(wrong));
  EXPECT_THAT(refused->Ping(),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       AllOf(HasSubstr("AUTH refused"), Not(HasSubstr("wrong-pw")))));

  ASSERT_OK_AND_ASSIGN(auto anonymous, RedisPool::Create(Options()));
  EXPECT_THAT(anonymous->Ping(),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("NOAUTH")));
  ASSERT_OK(authed->Command("CONFIG", "SET", "requirepass", ""));
}

TEST_F(RedisPoolTest, DbOptionSelectsTheDatabase) {
  RedisOptions db3 = Options();
  db3.db = 3;
  ASSERT_OK_AND_ASSIGN(auto pool3, RedisPool::Create(db3));
  ASSERT_OK(pool3->Command("SET", "where", "db3"));
  ASSERT_OK_AND_ASSIGN(RedisReply in0, pool_->Command("GET", "where"));
  EXPECT_TRUE(in0.is_nil());
  ASSERT_OK_AND_ASSIGN(RedisReply in3, pool3->Command("GET", "where"));
  EXPECT_EQ(in3, RedisReply::String("db3"));
}

}  // namespace
}  // namespace shieldx::redis
