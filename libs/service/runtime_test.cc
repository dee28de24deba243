// ServiceRuntime against real PostgreSQL and Redis: migrations, readiness and its recovery
// after an outage, metrics, and start-up while PostgreSQL is down.
#include "libs/service/runtime.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/http/client.h"
#include "libs/testing/pg_server.h"
#include "libs/testing/redis_server.h"
#include "libs/testing/status_matchers.h"

const std::vector<shieldx::EmbeddedFile>& service_test_migrations();

namespace shieldx::service {
namespace {

using ::shieldx::testing::PgServer;
using ::shieldx::testing::RedisServer;
using ::testing::HasSubstr;

class RuntimeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto pg = PgServer::Start({});
    ASSERT_TRUE(pg.ok()) << pg.status();
    pg_ = pg->release();
    auto redis = RedisServer::Start();
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = redis->release();
  }
  static void TearDownTestSuite() {
    delete pg_;
    delete redis_;
  }

  CommonConfig Config(const std::string& db) {
    CommonConfig c;
    c.environment = "development";
    c.grpc_listen = "127.0.0.1:0";
    c.admin_listen = "127.0.0.1:0";
    c.drain_deadline = absl::Seconds(1);
    c.pg_dsn = pg_->ConnectionString(db);
    c.redis_addr = absl::StrCat("127.0.0.1:", redis_->port());
    return c;
  }

  static ServiceSpec Spec() {
    return {.name = "widgets",
            .needs = {.postgres = true, .redis = true},
            .migrations = &service_test_migrations()};
  }

  static int ReadyStatus(ServiceRuntime& rt, std::string* body = nullptr) {
    auto r = http::HttpGet(absl::StrCat("http://127.0.0.1:", rt.admin_port(), "/readyz"),
                           absl::Seconds(5));
    if (!r.ok()) return -1;
    if (body) *body = r->body;
    return r->status;
  }

  static bool WaitReady(ServiceRuntime& rt, int want, absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      if (ReadyStatus(rt) == want) return true;
      absl::SleepFor(absl::Milliseconds(100));
    }
    return false;
  }

  static PgServer* pg_;
  static RedisServer* redis_;
};

PgServer* RuntimeTest::pg_ = nullptr;
RedisServer* RuntimeTest::redis_ = nullptr;

TEST_F(RuntimeTest, AppliesMigrationsAndBecomesReady) {
  ASSERT_OK(pg_->CreateDatabase("svc_ready"));
  ASSERT_OK_AND_ASSIGN(auto rt, ServiceRuntime::Create(Spec(), Config("svc_ready")));
  ASSERT_OK(rt->Start());
  ASSERT_TRUE(WaitReady(*rt, 200, absl::Seconds(20)));
  EXPECT_TRUE(rt->migrated());
  ASSERT_OK_AND_ASSIGN(std::string rows, pg_->Psql("svc_ready", "SELECT name FROM widgets"));
  EXPECT_THAT(rows, HasSubstr("first"));
  // Health and metrics are served on the admin port.
  ASSERT_OK_AND_ASSIGN(
      auto health, http::HttpGet(absl::StrCat("http://127.0.0.1:", rt->admin_port(), "/healthz")));
  EXPECT_EQ(health.status, 200);
  ASSERT_OK_AND_ASSIGN(
      auto metrics, http::HttpGet(absl::StrCat("http://127.0.0.1:", rt->admin_port(), "/metrics")));
  EXPECT_THAT(metrics.body, HasSubstr("http_requests_total{"));
  EXPECT_THAT(metrics.body, HasSubstr("status=\"200\""));
  EXPECT_THAT(metrics.body, HasSubstr("http_request_duration_seconds_bucket"));
  rt->Shutdown();
}

TEST_F(RuntimeTest, MigrationsRunOnceAcrossTwoReplicas) {
  ASSERT_OK(pg_->CreateDatabase("svc_twice"));
  ASSERT_OK_AND_ASSIGN(auto a, ServiceRuntime::Create(Spec(), Config("svc_twice")));
  ASSERT_OK_AND_ASSIGN(auto b, ServiceRuntime::Create(Spec(), Config("svc_twice")));
  ASSERT_OK(a->Start());
  ASSERT_OK(b->Start());
  ASSERT_TRUE(WaitReady(*a, 200, absl::Seconds(20)));
  ASSERT_TRUE(WaitReady(*b, 200, absl::Seconds(20)));
  ASSERT_OK_AND_ASSIGN(std::string n, pg_->Psql("svc_twice", "SELECT count(*) FROM widgets"));
  EXPECT_THAT(n, HasSubstr("1"));
  ASSERT_OK_AND_ASSIGN(std::string v,
                       pg_->Psql("svc_twice", "SELECT count(*) FROM schema_migrations"));
  EXPECT_THAT(v, HasSubstr("2"));
}

TEST_F(RuntimeTest, ReadinessFollowsAPostgresOutageAndRecovers) {
  ASSERT_OK(pg_->CreateDatabase("svc_outage"));
  ASSERT_OK_AND_ASSIGN(auto rt, ServiceRuntime::Create(Spec(), Config("svc_outage")));
  ASSERT_OK(rt->Start());
  ASSERT_TRUE(WaitReady(*rt, 200, absl::Seconds(20)));
  ASSERT_OK(pg_->Stop());
  ASSERT_TRUE(WaitReady(*rt, 503, absl::Seconds(10)));
  std::string body;
  EXPECT_EQ(ReadyStatus(*rt, &body), 503);
  EXPECT_THAT(body, HasSubstr("postgres"));
  // The gRPC server keeps serving health while PostgreSQL is down (the process is alive).
  ASSERT_OK_AND_ASSIGN(
      auto health, http::HttpGet(absl::StrCat("http://127.0.0.1:", rt->admin_port(), "/healthz")));
  EXPECT_EQ(health.status, 200);
  ASSERT_OK(pg_->Start());
  EXPECT_TRUE(WaitReady(*rt, 200, absl::Seconds(20)));
}

TEST_F(RuntimeTest, StartsWhilePostgresIsDownAndMigratesWhenItReturns) {
  ASSERT_OK(pg_->CreateDatabase("svc_late"));
  ASSERT_OK(pg_->Stop());
  ASSERT_OK_AND_ASSIGN(auto rt, ServiceRuntime::Create(Spec(), Config("svc_late")));
  ASSERT_OK(rt->Start());
  absl::SleepFor(absl::Milliseconds(500));
  std::string body;
  EXPECT_EQ(ReadyStatus(*rt, &body), 503);
  EXPECT_THAT(body, HasSubstr("migrations"));
  EXPECT_FALSE(rt->migrated());
  ASSERT_OK(pg_->Start());
  EXPECT_TRUE(WaitReady(*rt, 200, absl::Seconds(30)));
  EXPECT_TRUE(rt->migrated());
}

TEST_F(RuntimeTest, RedisOutageMakesTheServiceUnreadyUntilRedisReturns) {
  ASSERT_OK(pg_->CreateDatabase("svc_redis"));
  ASSERT_OK_AND_ASSIGN(auto rt, ServiceRuntime::Create(Spec(), Config("svc_redis")));
  ASSERT_OK(rt->Start());
  ASSERT_TRUE(WaitReady(*rt, 200, absl::Seconds(20)));
  redis_->Stop();
  ASSERT_TRUE(WaitReady(*rt, 503, absl::Seconds(10)));
  ASSERT_OK(redis_->StartAgain());
  EXPECT_TRUE(WaitReady(*rt, 200, absl::Seconds(20)));
}

TEST(ParseHostPort, RejectsMalformedAddressesNamingTheField) {
  std::string host;
  int port = 0;
  EXPECT_OK(ParseHostPort("grpc_listen", "0.0.0.0:9090", &host, &port));
  EXPECT_EQ(host, "0.0.0.0");
  EXPECT_EQ(port, 9090);
  EXPECT_OK(ParseHostPort("grpc_listen", "[::]:9090", &host, &port));
  EXPECT_EQ(host, "::");
  EXPECT_THAT(
      ParseHostPort("redis_addr", "localhost", &host, &port),
      shieldx::testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("redis_addr")));
  EXPECT_THAT(ParseHostPort("redis_addr", "h:99999", &host, &port),
              shieldx::testing::StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseHostPort("redis_addr", "h:", &host, &port),
              shieldx::testing::StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace shieldx::service
