// The orchestrator against real PostgreSQL 15, Redis 7 and s3rver (libs/testing): config
// distribution to two replicas, broken configs, Redis and PostgreSQL outages, the credits flush
// and the real binary over gRPC (Evaluate, ConfigService, the decision log, readiness).
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <optional>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/pg/migrator.h"
#include "libs/pg/pool.h"
#include "libs/pipeline/pipeline.h"
#include "libs/redis/redis_pool.h"
#include "libs/redis/subscriber.h"
#include "libs/testing/pg_server.h"
#include "libs/testing/process.h"
#include "libs/testing/prometheus_server.h"
#include "libs/testing/redis_server.h"
#include "libs/testing/s3_server.h"
#include "libs/testing/status_matchers.h"
#include "services/orchestrator/config_manager.h"
#include "services/orchestrator/credits_client.h"
#include "services/orchestrator/postgres_config_store.h"
#include "services/orchestrator/redis_announcer.h"
#include "services/orchestrator/snapshot_loader.h"
#include "shieldx/common/v1/tenant.pb.h"
#include "shieldx/credits/v1/credits.grpc.pb.h"
#include "shieldx/orchestrator/v1/orchestrator.grpc.pb.h"

namespace shieldx::orchestrator {
namespace {

using pipeline::Action;
using ::testing::Contains;
using ::testing::HasSubstr;

constexpr char kChannel[] = "shieldx:config:changed";

std::string MigrationsDir() {
  return std::string(SHIELDX_SOURCE_ROOT) + "/services/orchestrator/migrations";
}

class Shared : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto pg = testing::PgServer::Start({});
    ASSERT_TRUE(pg.ok()) << pg.status();
    pg_ = pg->release();
    auto redis = testing::RedisServer::Start();
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = redis->release();
  }
  static void TearDownTestSuite() {
    delete pg_;
    delete redis_;
  }

  // A fresh database with the orchestrator's migrations applied.
  std::string NewDatabase() {
    static std::atomic<int> n{0};
    const std::string name = absl::StrCat("orch", ++n);
    db_name_ = name;
    EXPECT_OK(pg_->CreateDatabase(name));
    const std::string dsn = pg_->ConnectionString(name);
    pg::Migrator m({.conninfo = dsn, .dir = MigrationsDir(), .lock_name = "orchestrator"});
    auto report = m.Run();
    EXPECT_TRUE(report.ok()) << report.status();
    return dsn;
  }

  static std::unique_ptr<pg::PgPool> PgPool(const std::string& dsn) {
    pg::PgPoolOptions o;
    o.conninfo = dsn;
    o.max_connections = 4;
    o.acquire_timeout = absl::Seconds(2);
    o.connect_timeout_s = 2;
    o.reconnect_backoff_initial = absl::Milliseconds(20);
    o.reconnect_backoff_max = absl::Milliseconds(200);
    return std::move(*pg::PgPool::Create(o));
  }
  static redis::RedisOptions RedisOpts() {
    redis::RedisOptions o;
    o.host = redis_->host();
    o.port = redis_->port();
    o.connect_timeout = absl::Milliseconds(200);
    o.command_timeout = absl::Milliseconds(300);
    o.backoff.initial = absl::Milliseconds(20);
    o.backoff.max = absl::Milliseconds(200);
    return o;
  }

  std::string db_name_;  // of the last NewDatabase()
  inline static testing::PgServer* pg_ = nullptr;
  inline static testing::RedisServer* redis_ = nullptr;
};

// One orchestrator replica in process: its own pools, pipeline, loader and subscriber.
struct Replica {
  std::unique_ptr<pg::PgPool> pg;
  std::unique_ptr<redis::RedisPool> redis;
  std::unique_ptr<PostgresConfigStore> store;
  std::unique_ptr<pipeline::RedisRateLimiter> limiter;
  pipeline::MemberStateRegistry members;
  std::unique_ptr<pipeline::UsageMeter> usage;
  std::unique_ptr<pipeline::Pipeline> pipeline;
  std::unique_ptr<SnapshotLoader> loader;
  std::unique_ptr<redis::RedisSubscriber> subscriber;

  Replica(std::unique_ptr<pg::PgPool> pg_pool, const redis::RedisOptions& ro, absl::Duration poll,
          bool subscribe) {
    pg = std::move(pg_pool);
    redis = std::move(*redis::RedisPool::Create(ro));
    store = std::make_unique<PostgresConfigStore>(pg.get());
    limiter = std::make_unique<pipeline::RedisRateLimiter>(
        redis.get(), nullptr,
        pipeline::RedisRateLimiterOptions{.redis_retry = absl::Milliseconds(200)});
    usage = std::make_unique<pipeline::UsageMeter>(nullptr, nullptr, pipeline::UsageMeterOptions{});
    pipeline::PipelineDeps deps;
    deps.rate_limiter = limiter.get();
    pipeline = std::move(*pipeline::Pipeline::Create({}, deps));
    loader = std::make_unique<SnapshotLoader>(store.get(), pipeline.get(), &members, usage.get(),
                                              nullptr, nullptr,
                                              SnapshotLoaderOptions{.poll_interval = poll});
    if (subscribe) {
      SnapshotLoader* l = loader.get();
      subscriber = std::move(*redis::RedisSubscriber::Start(
          ro, redis::Subscriptions{.channels = {kChannel}},
          [l](const redis::RedisMessage&) { l->Notify(0); },
          redis::RedisSubscriber::Hooks{.on_subscribed = [l](bool) { l->Notify(0); }}));
      EXPECT_OK(subscriber->WaitUntilSubscribed(absl::Seconds(5)));
    }
    loader->Start();
  }
  ~Replica() {
    if (subscriber) subscriber->Stop();
    loader->Stop();
  }

  pipeline::Decision Decide(const std::string& uri, const std::string& host = "shop.example",
                            const std::string& ip = "198.51.100.7") {
    detect::OwnedHttpRequest r;
    r.method = "GET";
    r.uri = uri;
    r.client_ip = ip;
    r.headers = {{"Host", host}, {"User-Agent", "Mozilla/5.0 Firefox/120.0"}, {"Accept", "*/*"}};
    return pipeline->Decide(r.view(), {});
  }
};

// Creates pool, site and route for `tenant` on shop.example; returns the route id.
std::string SeedBasics(ConfigManager& m, const std::string& tenant = "acme") {
  v1::Pool pool;
  pool.set_name("web");
  pool.add_members()->set_address("127.0.0.1:9");
  auto p = m.CreatePool(tenant, pool);
  EXPECT_TRUE(p.ok()) << p.status();
  v1::Pool canary;
  canary.set_name("canary");
  canary.add_members()->set_address("127.0.0.1:10");
  EXPECT_TRUE(m.CreatePool(tenant, canary).ok());
  v1::Site site;
  site.set_name("shop");
  site.add_hostnames("shop.example");
  site.set_default_pool_id(p->value.pool_id());
  auto s = m.CreateSite(tenant, site);
  EXPECT_TRUE(s.ok()) << s.status();
  v1::Route route;
  route.set_name("root");
  route.set_site_id(s->value.site_id());
  route.mutable_match()->set_path_prefix("/");
  auto r = m.CreateRoute(tenant, route);
  EXPECT_TRUE(r.ok()) << r.status();
  return r->value.route_id();
}

// Creates and activates a rule set on `route_id`; returns its id.
std::string ActivateRules(ConfigManager& m, const std::string& route_id, const std::string& source,
                          const std::string& tenant = "acme") {
  v1::RuleSet rs;
  rs.set_name("main");
  auto created = m.CreateRuleSet(tenant, rs);
  EXPECT_TRUE(created.ok()) << created.status();
  auto v = m.CreateRuleSetVersion(tenant, created->rule_set_id(), source, {}, "", "test");
  EXPECT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->diagnostics_size(), 0) << v->diagnostics(0).message();
  EXPECT_OK(m.ActivateRuleSet(tenant, created->rule_set_id(), v->version(), 0).status());
  v1::Route patch;
  patch.set_rule_set_id(created->rule_set_id());
  EXPECT_OK(m.UpdateRoute(tenant, route_id, patch, {"rule_set_id"}).status());
  return created->rule_set_id();
}

template <typename Pred>
bool WaitFor(Pred pred, absl::Duration timeout) {
  const absl::Time end = absl::Now() + timeout;
  while (absl::Now() < end) {
    if (pred()) return true;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return pred();
}

class OrchestratorIntegration : public Shared {
 protected:
  // A fresh database, its configuration writer (no announcements) and one replica polling it
  // every 100 ms.
  struct PollingStack {
    explicit PollingStack(const std::string& dsn)
        : writer_pg(PgPool(dsn)),
          store(writer_pg.get()),
          m(&store, Clock::Real(), nullptr),
          a(PgPool(dsn), RedisOpts(), absl::Milliseconds(100), false) {}
    std::unique_ptr<pg::PgPool> writer_pg;
    PostgresConfigStore store;
    ConfigManager m;
    Replica a;
  };
};

TEST_F(OrchestratorIntegration, ConfigChangeReachesTwoReplicasWithinOneSecond) {
  const std::string dsn = NewDatabase();
  auto writer_redis = std::move(*redis::RedisPool::Create(RedisOpts()));
  auto writer_pg = PgPool(dsn);
  PostgresConfigStore store(writer_pg.get());
  RedisAnnouncer announcer(writer_redis.get(), kChannel);
  ConfigManager m(&store, Clock::Real(), &announcer);
  // Polling is slowed to 30 s: only the pub/sub announcement can be this fast.
  Replica a(PgPool(dsn), RedisOpts(), absl::Seconds(30), true);
  Replica b(PgPool(dsn), RedisOpts(), absl::Seconds(30), true);
  const std::string route = SeedBasics(m);
  ASSERT_TRUE(WaitFor(
      [&] {
        return a.Decide("/").action == Action::kAllow && b.Decide("/").action == Action::kAllow;
      },
      absl::Seconds(5)));
  EXPECT_EQ(a.Decide("/admin").action, Action::kAllow);

  const absl::Time start = absl::Now();
  ActivateRules(m, route,
                R"(rule "admin" { when http.path starts_with "/admin" then block(403) })");
  ASSERT_TRUE(
      WaitFor([&] { return a.Decide("/admin").action == Action::kBlock; }, absl::Seconds(1)));
  ASSERT_TRUE(
      WaitFor([&] { return b.Decide("/admin").action == Action::kBlock; }, absl::Seconds(1)));
  const absl::Duration took = absl::Now() - start;
  EXPECT_LT(took, absl::Seconds(1)) << "the change took " << took;
  EXPECT_EQ(a.Decide("/admin").rule_id, "admin");
  // Each write announces its own version; both replicas converge on the last one.
  EXPECT_TRUE(WaitFor(
      [&] { return a.loader->state().applied_version == b.loader->state().applied_version; },
      absl::Seconds(1)))
      << a.loader->state().applied_version << " vs " << b.loader->state().applied_version;
}

TEST_F(OrchestratorIntegration, PollingDistributesChangesWithoutPubSub) {
  const std::string dsn = NewDatabase();
  auto writer_pg = PgPool(dsn);
  PostgresConfigStore store(writer_pg.get());
  ConfigManager m(&store, Clock::Real(), nullptr);  // no announcements at all
  Replica a(PgPool(dsn), RedisOpts(), absl::Milliseconds(200), false);
  SeedBasics(m);
  EXPECT_TRUE(WaitFor([&] { return a.Decide("/").action == Action::kAllow; }, absl::Seconds(3)));
}

// A route's detection exclusion goes through PostgreSQL (the route's proto as JSON) to the
// replica's snapshot and the engine: the excluded field's SQL no longer blocks, the decision
// names the exclusion, and the same SQL in another field is still blocked.
TEST_F(OrchestratorIntegration, ARouteDetectionExclusionReachesTheReplicaThroughPostgres) {
  PollingStack st(NewDatabase());
  ConfigManager& m = st.m;
  Replica& a = st.a;
  const std::string route = SeedBasics(m);
  const std::string sql_in_q = "/search?q=1%27%20OR%201%3D1--";
  ASSERT_TRUE(
      WaitFor([&] { return a.Decide(sql_in_q).action == Action::kBlock; }, absl::Seconds(3)));
  v1::Route patch;
  v1::DetectionExclusion* ex = patch.add_detection_exclusions();
  ex->set_id("search-box");
  ex->add_fields("query:q");
  ex->add_categories("sqli");
  ASSERT_OK(m.UpdateRoute("acme", route, patch, {"detection_exclusions"}).status());
  ASSERT_TRUE(
      WaitFor([&] { return a.Decide(sql_in_q).action == Action::kAllow; }, absl::Seconds(3)));
  pipeline::Decision d = a.Decide(sql_in_q);
  EXPECT_THAT(d.tags, ::testing::Contains("exclusion:search-box"));
  EXPECT_EQ(a.Decide("/search?id=1%27%20OR%201%3D1--").action, Action::kBlock);
}

TEST_F(OrchestratorIntegration, ABrokenStoredConfigNeverReplacesTheWorkingOne) {
  const std::string dsn = NewDatabase();
  PollingStack st(dsn);
  ConfigManager& m = st.m;
  Replica& a = st.a;
  PostgresConfigStore& store = st.store;
  const std::string route = SeedBasics(m);
  const std::string rs = ActivateRules(
      m, route, R"(rule "admin" { when http.path starts_with "/admin" then block(403) })");
  ASSERT_TRUE(WaitFor([&] { return a.Decide("/admin").rule_id == "admin"; }, absl::Seconds(3)));

  // The API refuses to activate a version whose tests fail...
  auto bad = m.CreateRuleSetVersion("acme", rs, R"(
rule "admin" { when http.path starts_with "/nothing" then block(403) }
test "admin blocked" { request { path "/admin" } expect block(403) })",
                                    {}, "", "");
  ASSERT_OK(bad.status());
  EXPECT_THAT(
      m.ActivateRuleSet("acme", rs, bad->version(), 1).status(),
      testing::StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("RULE_SET_TESTS_FAILED")));

  // The last good version is the stored one once the replica has caught up with it. Every
  // write above is a version of its own (activation, route update, the new draft), and the
  // replica may decide with an earlier one before it has applied the last, so it is read
  // only now, after the last write that leaves the configuration valid.
  auto stored = store.Load("acme", LoadOptions{});
  ASSERT_OK(stored.status());
  const int64_t good_version = stored->version;
  ASSERT_TRUE(WaitFor([&] { return a.loader->AppliedTenantVersion("acme") == good_version; },
                      absl::Seconds(3)))
      << a.loader->AppliedTenantVersion("acme") << " vs stored " << good_version;

  // ...and a configuration broken behind its back (written straight into PostgreSQL) is
  // rejected by every replica, which keeps deciding with the previous one.
  ASSERT_OK(pg_->Psql(db_name_,
                      "UPDATE rule_set_versions SET spec = jsonb_set(spec, '{source}', "
                      "'\"rule \\\"x\\\" { when http.pth == 1 then block }\"') "
                      "WHERE state = 'RULE_SET_VERSION_STATE_ACTIVE'; "
                      "UPDATE config_versions SET version = nextval('config_version_seq')")
                .status());
  ASSERT_TRUE(WaitFor([&] { return !a.loader->state().tenant_errors.empty(); }, absl::Seconds(3)));
  EXPECT_THAT(a.loader->TenantLagReason("acme"), HasSubstr("does not compile"));
  EXPECT_EQ(a.loader->AppliedTenantVersion("acme"), good_version);
  EXPECT_EQ(a.Decide("/admin").rule_id, "admin");  // the old rule set still decides
  EXPECT_EQ(a.Decide("/").action, Action::kAllow);

  // A fresh replica starting now also refuses it; it has no working version of that tenant,
  // so the tenant's hosts are unknown to it (fail closed), never half-configured.
  Replica fresh(PgPool(dsn), RedisOpts(), absl::Milliseconds(100), false);
  ASSERT_TRUE(WaitFor([&] { return fresh.loader->state().loaded; }, absl::Seconds(3)));
  EXPECT_EQ(fresh.Decide("/admin").status, 421);
}

TEST_F(OrchestratorIntegration, RedisDownRateLimitsFallBackToLocalBuckets) {
  const std::string dsn = NewDatabase();
  auto writer_pg = PgPool(dsn);
  PostgresConfigStore store(writer_pg.get());
  ConfigManager m(&store, Clock::Real(), nullptr);
  Replica a(PgPool(dsn), RedisOpts(), absl::Milliseconds(100), false);
  const std::string route = SeedBasics(m);
  v1::Route patch;
  v1::RateLimit* rl = patch.add_rate_limits();
  rl->set_name("per_ip");
  rl->set_key_expression("ip.src");
  rl->set_requests_per_window(3);
  rl->set_window_ms(60'000);
  auto updated = m.UpdateRoute("acme", route, patch, {"rate_limits"});
  ASSERT_OK(updated.status());
  ASSERT_TRUE(
      WaitFor([&] { return a.loader->AppliedTenantVersion("acme") == updated->config_version; },
              absl::Seconds(3)));

  // Redis up: the shared bucket answers 429 after 3.
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(a.Decide("/", "shop.example", "192.0.2.1").action, Action::kAllow);
  pipeline::Decision limited = a.Decide("/", "shop.example", "192.0.2.1");
  EXPECT_EQ(limited.action, Action::kRateLimit);
  EXPECT_THAT(limited.tags, ::testing::Not(Contains("rate_limit_local")));

  // Redis down: decisions continue, limits are enforced by the local fallback.
  redis_->Stop();
  const absl::Time t0 = absl::Now();
  for (int i = 0; i < 3; ++i) {
    pipeline::Decision d = a.Decide("/", "shop.example", "192.0.2.2");
    EXPECT_EQ(d.action, Action::kAllow);
    EXPECT_THAT(d.tags, Contains("rate_limit_local"));
  }
  EXPECT_EQ(a.Decide("/", "shop.example", "192.0.2.2").action, Action::kRateLimit);
  EXPECT_LT(absl::Now() - t0, absl::Seconds(2)) << "an outage must not stall decisions";
  EXPECT_EQ(a.Decide("/?id=1%27%20OR%201%3D1--", "shop.example", "192.0.2.3").action,
            Action::kBlock);
  ASSERT_OK(redis_->StartAgain());
  // Back to Redis after the retry period.
  EXPECT_TRUE(WaitFor(
      [&] {
        return a.limiter->redis_healthy() ||
               (a.Decide("/", "shop.example", "192.0.2.9"), a.limiter->redis_healthy());
      },
      absl::Seconds(5)));
}

TEST_F(OrchestratorIntegration, PostgresDownDecisionsContinueOnTheLastSnapshot) {
  // Its own server: this test stops it.
  auto own = testing::PgServer::Start({.dir_prefix = "shieldx-pg-orch-outage"});
  ASSERT_TRUE(own.ok()) << own.status();
  ASSERT_OK((*own)->CreateDatabase("orch"));
  const std::string dsn = (*own)->ConnectionString("orch");
  ASSERT_OK(
      pg::Migrator({.conninfo = dsn, .dir = MigrationsDir(), .lock_name = "o"}).Run().status());
  auto writer_pg = PgPool(dsn);
  PostgresConfigStore store(writer_pg.get());
  ConfigManager m(&store, Clock::Real(), nullptr);
  Replica a(PgPool(dsn), RedisOpts(), absl::Milliseconds(100), false);
  SeedBasics(m);
  ASSERT_TRUE(WaitFor([&] { return a.Decide("/").action == Action::kAllow; }, absl::Seconds(3)));
  // Seeding writes several versions; the replica may decide with an earlier one, so the
  // version to keep is the stored one, once the replica has applied it.
  auto stored = store.Load("acme", LoadOptions{});
  ASSERT_OK(stored.status());
  const int64_t applied = stored->version;
  ASSERT_TRUE(
      WaitFor([&] { return a.loader->state().applied_version == applied; }, absl::Seconds(3)))
      << a.loader->state().applied_version << " vs stored " << applied;

  ASSERT_OK((*own)->Stop());
  ASSERT_TRUE(WaitFor([&] { return !a.loader->state().store_reachable; }, absl::Seconds(5)));
  const LoaderState st = a.loader->state();
  EXPECT_TRUE(st.loaded);
  EXPECT_EQ(st.applied_version, applied);
  EXPECT_FALSE(st.store_error.empty());
  EXPECT_THAT(a.loader->TenantLagReason("acme"), HasSubstr("unreachable"));
  EXPECT_EQ(a.Decide("/").action, Action::kAllow);
  EXPECT_EQ(a.Decide("/?q=%3Cscript%3Ealert(1)%3C/script%3E").action, Action::kBlock);
  EXPECT_THAT(m.CreatePool("acme", v1::Pool()).status().code(),
              ::testing::AnyOf(absl::StatusCode::kUnavailable, absl::StatusCode::kInvalidArgument));

  ASSERT_OK((*own)->Start());
  ASSERT_TRUE(WaitFor([&] { return a.loader->state().store_reachable; }, absl::Seconds(10)));
}

// A CreditsService that applies each idempotency key once and loses the first reply.
class FakeCredits final : public credits::v1::CreditsService::Service {
 public:
  grpc::Status ConsumeBatch(grpc::ServerContext* ctx, const credits::v1::ConsumeBatchRequest* req,
                            credits::v1::ConsumeBatchResponse* resp) override {
    std::lock_guard<std::mutex> lock(mu);
    ++calls;
    actor_present = ctx->client_metadata().count("x-shieldx-actor-bin") > 0;
    keys.push_back(req->idempotency_key());
    if (applied.insert(req->idempotency_key()).second) {
      for (const auto& r : req->records()) balance -= r.amount_credits();
    }
    resp->mutable_balance()->set_available_credits(balance);
    if (lose_next_reply) {
      lose_next_reply = false;
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "reply lost");
    }
    return grpc::Status::OK;
  }
  grpc::Status GetBalance(grpc::ServerContext*, const credits::v1::GetBalanceRequest*,
                          credits::v1::GetBalanceResponse* resp) override {
    std::lock_guard<std::mutex> lock(mu);
    resp->mutable_balance()->set_available_credits(balance);
    return grpc::Status::OK;
  }
  std::mutex mu;
  int calls = 0;
  bool actor_present = false;
  bool lose_next_reply = true;
  std::vector<std::string> keys;
  std::set<std::string> applied;
  int64_t balance = 100;
};

TEST(CreditsFlush, ALostReplyIsRetriedWithTheSameKeyAndChargedOnce) {
  FakeCredits fake;
  grpc::ServerBuilder b;
  int port = 0;
  b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  b.RegisterService(&fake);
  auto server = b.BuildAndStart();
  CreditsGrpcSink sink(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  pipeline::UsageMeter meter(&sink, Clock::Real(), {.replica_id = "pod-a"});
  meter.Counter("acme", "r1")->credits.fetch_add(30);
  EXPECT_FALSE(meter.FlushOnce().ok());  // applied, but the answer was lost
  meter.Counter("acme", "r1")->credits.fetch_add(5);
  EXPECT_TRUE(meter.FlushOnce().ok());  // the same batch again: no second charge
  EXPECT_TRUE(meter.FlushOnce().ok());  // the 5 that waited
  std::lock_guard<std::mutex> lock(fake.mu);
  ASSERT_EQ(fake.keys.size(), 3u);
  EXPECT_EQ(fake.keys[0], fake.keys[1]);
  EXPECT_NE(fake.keys[1], fake.keys[2]);
  EXPECT_EQ(fake.balance, 100 - 30 - 5);
  EXPECT_TRUE(fake.actor_present);
  server->Shutdown();
}

// ---- the real binary ----------------------------------------------------------------------

std::string ActorBin(const std::string& tenant) {
  common::v1::Actor a;
  a.set_kind(common::v1::ACTOR_KIND_SERVICE);
  a.set_actor_id("integration-test");
  a.set_tenant_id(tenant);
  for (const char* p : {"decisions.evaluate", "decisions.read", "config.read", "config.write",
                        "rulesets.read", "rulesets.write", "rulesets.activate"}) {
    a.add_permissions(p);
  }
  return a.SerializeAsString();
}

class Binary : public Shared {
 protected:
  void SetUp() override {
    auto s3 = testing::S3Server::Start(
        {.source_root = SHIELDX_SOURCE_ROOT, .buckets = {"shieldx", "shieldx-evidence"}});
    ASSERT_TRUE(s3.ok()) << s3.status();
    s3_ = std::move(*s3);
    auto own = testing::PgServer::Start({.dir_prefix = "shieldx-pg-orch-bin"});
    ASSERT_TRUE(own.ok()) << own.status();
    own_pg_ = std::move(*own);
    ASSERT_OK(own_pg_->CreateDatabase("orch"));
    dsn_ = own_pg_->ConnectionString("orch");
    auto dir = testing::TempDir::Create("shieldx-orch-bin");
    ASSERT_TRUE(dir.ok());
    dir_.emplace(std::move(*dir));
    grpc_port_ = *testing::PickFreePort();
    admin_port_ = *testing::PickFreePort();
    testing::Subprocess::Options o;
    o.argv = {std::string(SHIELDX_BINARY_DIR) + "/bin/shieldx-orchestrator"};
    o.log_path = dir_->path() + "/orchestrator.log";
    o.env = {"SHIELDX_ORCHESTRATOR_PG_DSN=" + dsn_,
             "SHIELDX_ORCHESTRATOR_REDIS_ADDR=" + redis_->address(),
             "SHIELDX_ORCHESTRATOR_S3_ENDPOINT=" + s3_->endpoint(),
             "SHIELDX_ORCHESTRATOR_S3_ACCESS_KEY=S3RVER",
             "SHIELDX_ORCHESTRATOR_S3_SECRET_KEY=S3RVER",
             absl::StrCat("SHIELDX_ORCHESTRATOR_GRPC_LISTEN=127.0.0.1:", grpc_port_),
             absl::StrCat("SHIELDX_ORCHESTRATOR_ADMIN_LISTEN=127.0.0.1:", admin_port_),
             "SHIELDX_ORCHESTRATOR_ENVIRONMENT=development",
             "SHIELDX_ORCHESTRATOR_CONFIG_POLL_INTERVAL=200ms",
             "SHIELDX_ORCHESTRATOR_DRAIN_DEADLINE=1s",
             "SHIELDX_ORCHESTRATOR_HEALTH_CHECKS=false"};
    auto p = testing::Subprocess::Start(o);
    ASSERT_TRUE(p.ok()) << p.status();
    process_.emplace(std::move(*p));
    ASSERT_TRUE(WaitFor([&] { return Ready().status == 200; }, absl::Seconds(30)))
        << "not ready: " << Ready().body << "; log " << o.log_path;
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_port_),
                                   grpc::InsecureChannelCredentials());
    decisions_ = v1::DecisionService::NewStub(channel_);
    config_ = v1::ConfigService::NewStub(channel_);
  }
  void TearDown() override {
    if (process_) process_->Stop(absl::Seconds(5));
  }

  testing::HttpResponse Ready() {
    auto r = testing::HttpGet(absl::StrCat("http://127.0.0.1:", admin_port_, "/readyz"),
                              absl::Seconds(2));
    return r.ok() ? *r : testing::HttpResponse{};
  }
  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& tenant = "acme") {
    auto c = std::make_unique<grpc::ClientContext>();
    c->AddMetadata("x-shieldx-actor-bin", ActorBin(tenant));
    c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return c;
  }
  common::v1::Decision Evaluate(const std::string& path, const std::string& query = "",
                                const std::string& ip = "198.51.100.7",
                                grpc::Status* status = nullptr) {
    v1::EvaluateRequest req;
    req.set_tenant_id("acme");
    common::v1::HttpRequest* r = req.mutable_request();
    r->set_method("GET");
    r->set_host("shop.example");
    r->set_path(path);
    r->set_query(query);
    r->set_client_ip(ip);
    common::v1::Header* h = r->add_headers();
    h->set_name("User-Agent");
    h->set_value("Mozilla/5.0 Firefox/120.0");
    v1::EvaluateResponse resp;
    grpc::Status s = decisions_->Evaluate(Ctx().get(), req, &resp);
    if (status != nullptr) *status = s;
    EXPECT_TRUE(s.ok() || status != nullptr) << s.error_message();
    return resp.decision();
  }

  std::unique_ptr<testing::S3Server> s3_;
  std::unique_ptr<testing::PgServer> own_pg_;
  std::string dsn_;
  std::optional<testing::TempDir> dir_;
  int grpc_port_ = 0, admin_port_ = 0;
  std::optional<testing::Subprocess> process_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::DecisionService::Stub> decisions_;
  std::unique_ptr<v1::ConfigService::Stub> config_;
};

TEST_F(Binary, EvaluateDecidesEveryActionAndTheDecisionLogRecordsIt) {
  // Configuration through the ConfigService.
  v1::CreatePoolRequest pr;
  pr.set_tenant_id("acme");
  pr.mutable_pool()->set_name("web");
  pr.mutable_pool()->add_members()->set_address("127.0.0.1:8001");
  v1::CreatePoolResponse pool;
  ASSERT_TRUE(config_->CreatePool(Ctx().get(), pr, &pool).ok());
  pr.mutable_pool()->set_name("canary");
  pr.mutable_pool()->mutable_members(0)->set_address("127.0.0.1:8002");
  v1::CreatePoolResponse canary;
  ASSERT_TRUE(config_->CreatePool(Ctx().get(), pr, &canary).ok());
  v1::CreateSiteRequest sr;
  sr.set_tenant_id("acme");
  sr.mutable_site()->set_name("shop");
  sr.mutable_site()->add_hostnames("shop.example");
  sr.mutable_site()->set_default_pool_id(pool.pool().pool_id());
  v1::CreateSiteResponse site;
  ASSERT_TRUE(config_->CreateSite(Ctx().get(), sr, &site).ok());
  v1::CreateRuleSetRequest rsr;
  rsr.set_tenant_id("acme");
  rsr.mutable_rule_set()->set_name("main");
  v1::CreateRuleSetResponse rs;
  ASSERT_TRUE(config_->CreateRuleSet(Ctx().get(), rsr, &rs).ok());
  v1::CreateRuleSetVersionRequest vr;
  vr.set_tenant_id("acme");
  vr.set_rule_set_id(rs.rule_set().rule_set_id());
  vr.set_source(R"(
rule "slow" { when http.path starts_with "/slow" then tarpit(1500) }
rule "beta" { when http.path starts_with "/beta" then divert("canary") }
rule "login" { when http.path == "/login" then rate_limit(ip.src, 2 per 1m) }
test "slow" { request { path "/slow" } expect tarpit(1500) })");
  v1::CreateRuleSetVersionResponse version;
  ASSERT_TRUE(config_->CreateRuleSetVersion(Ctx().get(), vr, &version).ok());
  v1::ActivateRuleSetRequest ar;
  ar.set_tenant_id("acme");
  ar.set_rule_set_id(rs.rule_set().rule_set_id());
  ar.set_version(version.version().version());
  v1::ActivateRuleSetResponse activated;
  grpc::Status as = config_->ActivateRuleSet(Ctx().get(), ar, &activated);
  ASSERT_TRUE(as.ok()) << as.error_message();
  v1::CreateRouteRequest rr;
  rr.set_tenant_id("acme");
  v1::Route* route = rr.mutable_route();
  route->set_name("root");
  route->set_site_id(site.site().site_id());
  route->mutable_match()->set_path_prefix("/");
  route->set_rule_set_id(rs.rule_set().rule_set_id());
  v1::UpdateTenantSettingsRequest ts;
  ts.set_tenant_id("acme");
  ts.mutable_settings()->set_evidence_sample_rate(1.0);
  ts.mutable_update_mask()->add_paths("evidence_sample_rate");
  v1::UpdateTenantSettingsResponse settings;
  ASSERT_TRUE(config_->UpdateTenantSettings(Ctx().get(), ts, &settings).ok());
  v1::CreateRouteResponse created;
  ASSERT_TRUE(config_->CreateRoute(Ctx().get(), rr, &created).ok());

  // Wait until this replica applies it (GetConfigVersion).
  ASSERT_TRUE(WaitFor(
      [&] {
        v1::GetConfigVersionRequest gr;
        gr.set_tenant_id("acme");
        v1::GetConfigVersionResponse v;
        return config_->GetConfigVersion(Ctx().get(), gr, &v).ok() &&
               v.applied_version() == created.config_version();
      },
      absl::Seconds(5)));

  common::v1::Decision benign = Evaluate("/products", "id=42");
  EXPECT_EQ(benign.action(), common::v1::ACTION_ALLOW);
  EXPECT_EQ(benign.upstream().address(), "127.0.0.1:8001");
  common::v1::Decision sqli = Evaluate("/products", "id=1%27%20OR%201%3D1--");
  EXPECT_EQ(sqli.action(), common::v1::ACTION_BLOCK);
  EXPECT_EQ(sqli.status_code(), 403u);
  ASSERT_GT(sqli.findings_size(), 0);
  EXPECT_EQ(sqli.findings(0).category(), common::v1::FINDING_CATEGORY_SQLI);
  common::v1::Decision slow = Evaluate("/slow/x");
  EXPECT_EQ(slow.action(), common::v1::ACTION_TARPIT);
  EXPECT_EQ(slow.tarpit_ms(), 1500);
  common::v1::Decision beta = Evaluate("/beta");
  EXPECT_EQ(beta.action(), common::v1::ACTION_DIVERT);
  EXPECT_EQ(beta.upstream().address(), "127.0.0.1:8002");
  EXPECT_EQ(Evaluate("/login", "", "192.0.2.50").action(), common::v1::ACTION_ALLOW);
  EXPECT_EQ(Evaluate("/login", "", "192.0.2.50").action(), common::v1::ACTION_ALLOW);
  common::v1::Decision limited = Evaluate("/login", "", "192.0.2.50");
  EXPECT_EQ(limited.action(), common::v1::ACTION_RATE_LIMIT);
  EXPECT_EQ(limited.status_code(), 429u);
  EXPECT_GE(limited.retry_after_ms(), 1000);

  // Another tenant's caller is refused; an unknown host is NOT_FOUND.
  v1::EvaluateRequest other;
  other.set_tenant_id("acme");
  other.mutable_request()->set_host("shop.example");
  v1::EvaluateResponse ignored;
  EXPECT_EQ(decisions_->Evaluate(Ctx("globex").get(), other, &ignored).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  grpc::ClientContext anonymous;
  EXPECT_EQ(decisions_->Evaluate(&anonymous, other, &ignored).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  other.mutable_request()->set_host("unknown.example");
  EXPECT_EQ(decisions_->Evaluate(Ctx().get(), other, &ignored).error_code(),
            grpc::StatusCode::NOT_FOUND);

  // The decision log: Redis stream → PostgreSQL → QueryDecisions.
  v1::QueryDecisionsRequest q;
  q.set_tenant_id("acme");
  q.mutable_filter()->add_actions(common::v1::ACTION_BLOCK);
  v1::QueryDecisionsResponse found;
  ASSERT_TRUE(WaitFor(
      [&] {
        found.Clear();
        return decisions_->QueryDecisions(Ctx().get(), q, &found).ok() && found.records_size() >= 1;
      },
      absl::Seconds(10)));
  EXPECT_EQ(found.records(0).decision().request_id(), sqli.request_id());
  EXPECT_EQ(found.records(0).path(), "/products");  // the query string is not logged
  // The redacted evidence sample of the block is in S3, without the payload's raw bytes.
  const std::string key = found.records(0).evidence_object_key();
  ASSERT_THAT(key, ::testing::StartsWith("evidence/acme/"));
  auto evidence =
      testing::HttpGet(absl::StrCat(s3_->endpoint(), "/shieldx/", key), absl::Seconds(5));
  ASSERT_TRUE(evidence.ok()) << evidence.status();
  EXPECT_EQ(evidence->status, 200);
  EXPECT_THAT(evidence->body, HasSubstr("\"arg_names\""));
  EXPECT_THAT(evidence->body, ::testing::Not(HasSubstr("%27")));
  EXPECT_THAT(found.records(0).decision().findings(0).matched_excerpt(),
              ::testing::Not(HasSubstr("%27")));
  // Pagination: all 7 decisions of the tenant, 3 per page.
  v1::QueryDecisionsRequest all;
  all.set_tenant_id("acme");
  all.mutable_page()->set_page_size(3);
  int total = 0;
  std::set<std::string> ids;
  ASSERT_TRUE(WaitFor(
      [&] {
        total = 0;
        ids.clear();
        all.mutable_page()->clear_page_token();
        for (int page = 0; page < 10; ++page) {
          v1::QueryDecisionsResponse r;
          if (!decisions_->QueryDecisions(Ctx().get(), all, &r).ok()) return false;
          total += r.records_size();
          for (const auto& rec : r.records()) ids.insert(rec.decision().request_id());
          if (r.page().next_page_token().empty()) break;
          all.mutable_page()->set_page_token(r.page().next_page_token());
        }
        return total == 7;
      },
      absl::Seconds(10)))
      << total;
  EXPECT_EQ(ids.size(), 7u);

  // Metrics by the runbook's name.
  auto metrics = testing::HttpGet(absl::StrCat("http://127.0.0.1:", admin_port_, "/metrics"),
                                  absl::Seconds(2));
  ASSERT_TRUE(metrics.ok());
  EXPECT_THAT(
      metrics->body,
      HasSubstr(
          "shieldx_attacks_detected{action=\"block\",category=\"sqli\",tenant_id=\"acme\"} 1"));
  EXPECT_THAT(metrics->body, HasSubstr("shieldx_config_version"));

  // PostgreSQL down: Evaluate keeps deciding on the last snapshot; readiness reports it as
  // degraded and stays 200 (the replica is still a good decision service).
  ASSERT_OK(own_pg_->Stop());
  ASSERT_TRUE(
      WaitFor([&] { return absl::StrContains(Ready().body, "degraded"); }, absl::Seconds(10)))
      << Ready().body;
  EXPECT_EQ(Ready().status, 200);
  EXPECT_THAT(Ready().body, HasSubstr("{\"name\":\"postgres\",\"ok\":false,\"error\":"));
  EXPECT_THAT(Ready().body, HasSubstr("\"required\":false"));
  EXPECT_EQ(Evaluate("/products", "id=1%27%20OR%201%3D1--").action(), common::v1::ACTION_BLOCK);
  EXPECT_EQ(Evaluate("/products").action(), common::v1::ACTION_ALLOW);
  v1::GetConfigVersionRequest gr;
  gr.set_tenant_id("acme");
  v1::GetConfigVersionResponse v;
  ASSERT_TRUE(config_->GetConfigVersion(Ctx().get(), gr, &v).ok());
  EXPECT_EQ(v.applied_version(), created.config_version());
  EXPECT_FALSE(v.lag_reason().empty());
}

TEST_F(Binary, TheCliSeedsTheDemoTenantOnceAndItDecides) {
  const std::string cli = std::string(SHIELDX_BINARY_DIR) + "/bin/shieldx-orchestrator-cli";
  const std::string target = absl::StrCat("127.0.0.1:", grpc_port_);
  for (int run = 0; run < 2; ++run) {  // the second run finds the tenant seeded
    auto r = testing::RunCommand({.argv = {cli, "--target", target, "seed-demo", "--tenant", "demo",
                                           "--host", "demo.localhost", "--upstream",
                                           "127.0.0.1:18080", "--canary", "127.0.0.1:18081"}},
                                 absl::Seconds(30));
    ASSERT_TRUE(r.ok()) << r.status();  // exit code 0
    EXPECT_THAT(*r, HasSubstr(run == 0 ? "seeded tenant demo" : "already seeded"));
  }
  auto ask = [&](const std::string& path, const std::string& ip = "198.51.100.7") {
    v1::EvaluateRequest req;
    req.set_tenant_id("demo");
    req.mutable_request()->set_host("demo.localhost");
    req.mutable_request()->set_path(path);
    req.mutable_request()->set_client_ip(ip);
    v1::EvaluateResponse resp;
    grpc::Status s = decisions_->Evaluate(Ctx("demo").get(), req, &resp);
    return s.ok() ? resp.decision() : common::v1::Decision();
  };
  ASSERT_TRUE(
      WaitFor([&] { return ask("/").action() == common::v1::ACTION_ALLOW; }, absl::Seconds(5)));
  EXPECT_EQ(ask("/").upstream().address(), "127.0.0.1:18080");
  EXPECT_EQ(ask("/slow").action(), common::v1::ACTION_TARPIT);
  EXPECT_EQ(ask("/beta/x").upstream().address(), "127.0.0.1:18081");
  EXPECT_EQ(ask("/admin", "203.0.113.5").action(), common::v1::ACTION_BLOCK);
  for (int i = 0; i < 5; ++i) ask("/login", "192.0.2.77");
  EXPECT_EQ(ask("/login", "192.0.2.77").action(), common::v1::ACTION_RATE_LIMIT);
}

}  // namespace
}  // namespace shieldx::orchestrator
