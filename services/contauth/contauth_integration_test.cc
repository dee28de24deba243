// contauth in process against real PostgreSQL and Redis (libs/testing servers): the same
// wiring as main.cc on a ServiceRuntime, called over gRPC. Label: integration.
#include <grpcpp/grpcpp.h>

#include <thread>

#include "absl/strings/numbers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/redis/redis_pool.h"
#include "libs/rpc/server.h"
#include "libs/service/runtime.h"
#include "libs/testing/pg_server.h"
#include "libs/testing/redis_server.h"
#include "libs/testing/status_matchers.h"
#include "services/contauth/contauth.h"
#include "services/contauth/contauth_service.h"
#include "services/contauth/contauth_test_util.h"
#include "services/contauth/postgres_contauth_store.h"

const std::vector<shieldx::EmbeddedFile>& contauth_test_migrations();

namespace shieldx::contauth {
namespace {

namespace pb = ::shieldx::contauth::v1;
using ::shieldx::testing::PgServer;
using ::shieldx::testing::RedisServer;
using ::testing::HasSubstr;

class ContAuthIntegrationTest : public ::testing::Test {
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

  void SetUp() override {
    ASSERT_NE(pg_, nullptr);
    static int counter = 0;
    db_ = absl::StrCat("contauth", ++counter);
    ASSERT_OK(pg_->CreateDatabase(db_));
    service::CommonConfig c;
    c.environment = "development";
    c.grpc_listen = "127.0.0.1:0";
    c.admin_listen = "127.0.0.1:0";
    c.drain_deadline = absl::Seconds(1);
    c.pg_dsn = pg_->ConnectionString(db_);
    c.pg_max_connections = 12;
    c.redis_addr = redis_->address();
    ASSERT_OK_AND_ASSIGN(
        rt_, service::ServiceRuntime::Create({.name = "contauth",
                                              .needs = {.postgres = true, .redis = true},
                                              .migrations = &contauth_test_migrations()},
                                             c));
    ASSERT_OK(rt_->MigrateOnce());
    ASSERT_OK_AND_ASSIGN(ProfileCipher cipher, ProfileCipher::Create("k1", std::string(48, 'q')));
    cipher_ = std::make_unique<ProfileCipher>(std::move(cipher));
    store_ = std::make_unique<PostgresContAuthStore>(rt_->pg());
    publisher_ = std::make_unique<RedisRiskPublisher>(rt_->redis());
    metrics_ = std::make_unique<ContAuthMetrics>(rt_->metrics().registry());
    contauth_ = std::make_unique<ContAuth>(store_.get(), publisher_.get(), cipher_.get(), nullptr,
                                           Clock::Real(), metrics_.get(), ContAuthOptions{});
    service_ = std::make_unique<ContAuthServiceImpl>(contauth_.get());
    rt_->grpc().RegisterService(service_.get(), "shieldx.contauth.v1.ContAuthService");
    ASSERT_OK(rt_->Start());
    stub_ = pb::ContAuthService::NewStub(rt_->grpc().InProcessChannel());
    ASSERT_OK_AND_ASSIGN(redis_client_,
                         redis::RedisPool::Create({.host = "127.0.0.1", .port = redis_->port()}));
  }

  void TearDown() override {
    if (rt_ != nullptr) rt_->Shutdown();
  }

  static common::v1::Actor Admin(const std::string& tenant) {
    common::v1::Actor a;
    a.set_kind(common::v1::ACTOR_KIND_SERVICE);
    a.set_actor_id("test");
    a.set_tenant_id(tenant);
    for (const char* p : {"contauth.ingest", "contauth.score", "contauth.read", "contauth.admin",
                          "contauth.privacy"}) {
      a.add_permissions(p);
    }
    return a;
  }

  template <typename Req, typename Resp, typename Method>
  grpc::Status Call(Method method, const std::string& tenant, const Req& req, Resp* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    ctx.AddMetadata(kActorMetadataKey, Admin(tenant).SerializeAsString());
    return (stub_.get()->*method)(&ctx, req, resp);
  }

  void Enable(const std::string& tenant, uint32_t min_enroll = 10) {
    pb::UpdatePolicyRequest req;
    req.set_tenant_id(tenant);
    pb::ContAuthPolicy* p = req.mutable_policy();
    p->set_monitor_at(0.5);
    p->set_challenge_at(0.7);
    p->set_deny_at(0.9);
    p->set_decision_ttl_ms(120000);
    p->set_decision_retention_days(30);
    p->set_min_enroll_samples(min_enroll);
    pb::UpdatePolicyResponse resp;
    grpc::Status s = Call(&pb::ContAuthService::Stub::UpdatePolicy, tenant, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  static void AddSample(const KeystrokeInput& in, pb::KeystrokeSample* k) {
    k->set_sample_id(in.sample.sample_id);
    k->set_text_id(in.text_id);
    k->set_phase(static_cast<pb::SamplePhase>(in.phase));
    for (const KeyEvent& e : in.sample.events) {
      pb::KeyEvent* p = k->add_events();
      p->set_key(e.key);
      p->set_down_ms(e.down_ms);
      p->set_up_ms(e.up_ms);
    }
  }

  pb::IngestTelemetryRequest Batch(const std::string& tenant, const std::string& session,
                                   const std::string& user) {
    pb::IngestTelemetryRequest r;
    r.set_tenant_id(tenant);
    r.set_session_id(session);
    r.set_user_id(user);
    return r;
  }

  std::string Sql(const std::string& q) {
    absl::StatusOr<std::string> out = pg_->Psql(db_, q);
    EXPECT_TRUE(out.ok()) << out.status();
    std::string s = out.ok() ? *out : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
  }

  inline static PgServer* pg_ = nullptr;
  inline static RedisServer* redis_ = nullptr;
  std::string db_;
  std::unique_ptr<service::ServiceRuntime> rt_;
  std::unique_ptr<ProfileCipher> cipher_;
  std::unique_ptr<PostgresContAuthStore> store_;
  std::unique_ptr<RedisRiskPublisher> publisher_;
  std::unique_ptr<ContAuthMetrics> metrics_;
  std::unique_ptr<ContAuth> contauth_;
  std::unique_ptr<ContAuthServiceImpl> service_;
  std::unique_ptr<pb::ContAuthService::Stub> stub_;
  std::unique_ptr<redis::RedisPool> redis_client_;
};

TEST_F(ContAuthIntegrationTest, MalformedTelemetryIsRejectedWithTheFieldNamed) {
  Enable("acme");
  pb::IngestTelemetryResponse resp;
  // Impossible timing.
  pb::IngestTelemetryRequest bad = Batch("acme", "s1", "alice");
  testing::Typist t(1);
  KeystrokeInput in = t.Sample("k-7");
  in.sample.events[4].up_ms = in.sample.events[4].down_ms - 30;
  AddSample(in, bad.add_keystroke_samples());
  grpc::Status s = Call(&pb::ContAuthService::Stub::IngestTelemetry, "acme", bad, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("keystroke_samples[0] (sample k-7: event 4"));
  // Oversized pointer batch.
  pb::IngestTelemetryRequest big = Batch("acme", "s1", "alice");
  for (int i = 0; i < 10001; ++i) {
    pb::PointerEvent* e = big.add_pointer_events();
    e->set_kind(pb::POINTER_EVENT_KIND_MOVE);
    e->set_t_ms(i);
  }
  s = Call(&pb::ContAuthService::Stub::IngestTelemetry, "acme", big, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("pointer_events: 10001 events (limit 10000)"));
  // Unknown tenant.
  s = Call(&pb::ContAuthService::Stub::IngestTelemetry, "nobody", Batch("nobody", "s1", "alice"),
           &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("tenant nobody"));
  EXPECT_EQ(Sql("SELECT count(*) FROM profiles"), "0");
  EXPECT_EQ(Sql("SELECT count(*) FROM decisions"), "0");
}

TEST_F(ContAuthIntegrationTest, ConcurrentIngestionForOneUserFromEightThreadsLosesNoUpdate) {
  Enable("acme", 200);
  constexpr int kThreads = 8, kBatches = 6;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int th = 0; th < kThreads; ++th) {
    threads.emplace_back([&, th] {
      testing::Typist t(10 + th);
      for (int i = 0; i < kBatches; ++i) {
        // Half the threads share one session: both the profile and the session row contend.
        pb::IngestTelemetryRequest r =
            Batch("acme", th % 2 == 0 ? "shared" : absl::StrCat("s", th), "alice");
        AddSample(t.Sample(absl::StrCat("t", th, "-", i), PhaseRequest::kEnroll),
                  r.add_keystroke_samples());
        pb::IngestTelemetryResponse resp;
        grpc::Status s = Call(&pb::ContAuthService::Stub::IngestTelemetry, "acme", r, &resp);
        if (!s.ok()) {
          ++failures;
          ADD_FAILURE() << s.error_message();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  pb::GetProfileSummaryRequest req;
  req.set_tenant_id("acme");
  req.set_user_id("alice");
  pb::GetProfileSummaryResponse resp;
  ASSERT_TRUE(Call(&pb::ContAuthService::Stub::GetProfileSummary, "acme", req, &resp).ok());
  ASSERT_GE(resp.profile().enrollments_size(), 1);
  EXPECT_EQ(resp.profile().enrollments(0).sample_count(),
            static_cast<uint32_t>(kThreads * kBatches));
  EXPECT_EQ(Sql("SELECT version FROM profiles WHERE tenant_id = 'acme' AND user_id = 'alice'"),
            absl::StrCat(kThreads * kBatches));
  EXPECT_EQ(Sql("SELECT count(*) FROM decisions"), absl::StrCat(kThreads * kBatches));
}

TEST_F(ContAuthIntegrationTest, TenantsAreIsolatedAndProfilesAreSealed) {
  Enable("acme");
  Enable("globex");
  testing::Typist t(1);
  pb::IngestTelemetryRequest r = Batch("acme", "s1", "alice");
  for (int i = 0; i < 12; ++i) AddSample(t.Sample(absl::StrCat("e", i)), r.add_keystroke_samples());
  r.mutable_device()->set_device_id("device-of-alice");
  pb::IngestTelemetryResponse resp;
  ASSERT_TRUE(Call(&pb::ContAuthService::Stub::IngestTelemetry, "acme", r, &resp).ok());
  // globex cannot see it, even with the same ids.
  pb::GetProfileSummaryRequest sreq;
  sreq.set_tenant_id("globex");
  sreq.set_user_id("alice");
  pb::GetProfileSummaryResponse sresp;
  EXPECT_EQ(
      Call(&pb::ContAuthService::Stub::GetProfileSummary, "globex", sreq, &sresp).error_code(),
      grpc::StatusCode::NOT_FOUND);
  pb::GetDecisionRequest dreq;
  dreq.set_tenant_id("globex");
  dreq.set_session_id("s1");
  pb::GetDecisionResponse dresp;
  EXPECT_EQ(Call(&pb::ContAuthService::Stub::GetDecision, "globex", dreq, &dresp).error_code(),
            grpc::StatusCode::NOT_FOUND);
  // An acme actor cannot ask about globex at all.
  grpc::ClientContext ctx;
  ctx.AddMetadata(kActorMetadataKey, Admin("acme").SerializeAsString());
  EXPECT_EQ(stub_->GetProfileSummary(&ctx, sreq, &sresp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // The stored row is an SXE1 envelope under key k1; the device id is not in the clear.
  EXPECT_EQ(Sql("SELECT key_id || ' ' || encode(substr(sealed, 1, 4), 'escape') FROM profiles"),
            "k1 SXE1");
  EXPECT_EQ(Sql("SELECT count(*) FROM profiles WHERE position('device-of-alice'::bytea in "
                "sealed) > 0"),
            "0");
  EXPECT_EQ(Sql("SELECT count(*) FROM profiles WHERE tenant_id = 'globex'"), "0");
  // A row copied to another tenant does not open there (per-tenant key + bound row).
  Sql("INSERT INTO profiles SELECT 'globex', user_id, version, key_id, sealed, "
      "keystroke_enrolled, created_at, updated_at FROM profiles WHERE tenant_id = 'acme'");
  grpc::Status s = Call(&pb::ContAuthService::Stub::GetProfileSummary, "globex", sreq, &sresp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DATA_LOSS) << s.error_message();
}

TEST_F(ContAuthIntegrationTest, SessionRiskAppearsInRedisWithTheDecisionTtl) {
  Enable("acme");
  pb::IngestTelemetryRequest r = Batch("acme", "sess-9", "alice");
  r.mutable_context()->set_ip("203.0.113.4");
  pb::IngestTelemetryResponse resp;
  ASSERT_TRUE(Call(&pb::ContAuthService::Stub::IngestTelemetry, "acme", r, &resp).ok());
  ASSERT_OK_AND_ASSIGN(redis::RedisReply v,
                       redis_client_->Command("GET", "shieldx:contauth:risk:acme:sess-9"));
  ASSERT_TRUE(v.is_string()) << v.Describe();
  // Exactly what libs/pipeline/risk.h parses: a bare decimal in [0, 1].
  double risk = -1;
  ASSERT_TRUE(absl::SimpleAtod(v.str(), &risk)) << v.str();
  EXPECT_EQ(v.str().size(), 6u) << v.str();  // "0.5000"
  EXPECT_NEAR(risk, resp.risk().risk(), 1e-4);
  ASSERT_OK_AND_ASSIGN(redis::RedisReply ttl,
                       redis_client_->Command("PTTL", "shieldx:contauth:risk:acme:sess-9"));
  ASSERT_TRUE(ttl.is_integer());
  EXPECT_GT(ttl.integer(), 100000);
  EXPECT_LE(ttl.integer(), 120000);
}

TEST_F(ContAuthIntegrationTest, ExportThenDeleteRemovesEverythingIncludingTheRedisRisk) {
  Enable("acme");
  testing::Typist t(1);
  pb::IngestTelemetryRequest r = Batch("acme", "s1", "alice");
  for (int i = 0; i < 12; ++i) AddSample(t.Sample(absl::StrCat("e", i)), r.add_keystroke_samples());
  r.mutable_device()->set_device_id("dev-1");
  r.mutable_context()->set_ip("198.51.100.77");
  pb::IngestTelemetryResponse resp;
  ASSERT_TRUE(Call(&pb::ContAuthService::Stub::IngestTelemetry, "acme", r, &resp).ok());
  pb::ScoreRequest sreq;
  sreq.set_tenant_id("acme");
  sreq.set_session_id("s1");
  sreq.set_user_id("alice");
  AddSample(t.Sample("p1", PhaseRequest::kProbe), sreq.add_probe_samples());
  pb::ScoreResponse sresp;
  ASSERT_TRUE(Call(&pb::ContAuthService::Stub::Score, "acme", sreq, &sresp).ok());
  EXPECT_EQ(sresp.sample_scores_size(), 1);

  pb::ExportProfileRequest ereq;
  ereq.set_tenant_id("acme");
  ereq.set_user_id("alice");
  pb::ExportProfileResponse eresp;
  ASSERT_TRUE(Call(&pb::ContAuthService::Stub::ExportProfile, "acme", ereq, &eresp).ok());
  EXPECT_EQ(eresp.decisions_size(), 2);
  EXPECT_EQ(eresp.device_ids(0), "dev-1");
  EXPECT_EQ(eresp.networks(0), "198.51.100.0/24");
  int fixed = 0;
  for (const auto& v : eresp.feature_vectors()) {
    if (v.modality() == pb::MODALITY_KEYSTROKE_FIXED) {
      ++fixed;
      EXPECT_EQ(v.text_id(), "login.password");
      EXPECT_EQ(v.names_size(), v.values_size());
    }
  }
  EXPECT_EQ(fixed, 10);  // min_enroll_samples; later AUTO samples are scored (not confident
                         // enough to fold in at 10 vectors)

  pb::DeleteProfileRequest dreq;
  dreq.set_tenant_id("acme");
  dreq.set_user_id("alice");
  pb::DeleteProfileResponse dresp;
  ASSERT_TRUE(Call(&pb::ContAuthService::Stub::DeleteProfile, "acme", dreq, &dresp).ok());
  EXPECT_EQ(dresp.deleted_feature_vectors(), static_cast<uint32_t>(eresp.feature_vectors_size()));
  EXPECT_EQ(dresp.deleted_decisions(), 2u);
  EXPECT_EQ(Sql("SELECT (SELECT count(*) FROM profiles) + (SELECT count(*) FROM sessions) + "
                "(SELECT count(*) FROM decisions)"),
            "0");
  ASSERT_OK_AND_ASSIGN(redis::RedisReply gone,
                       redis_client_->Command("EXISTS", "shieldx:contauth:risk:acme:s1"));
  EXPECT_EQ(gone.integer(), 0);
  EXPECT_EQ(Call(&pb::ContAuthService::Stub::ExportProfile, "acme", ereq, &eresp).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(ContAuthIntegrationTest, ChallengeOutcomeIsAppliedExactlyOnce) {
  Enable("acme");
  pb::IngestTelemetryResponse resp;
  ASSERT_TRUE(
      Call(&pb::ContAuthService::Stub::IngestTelemetry, "acme", Batch("acme", "s1", "alice"), &resp)
          .ok());
  pb::ReportChallengeOutcomeRequest req;
  req.set_tenant_id("acme");
  req.set_session_id("s1");
  req.set_decision_id(resp.risk().decision_id());
  req.set_kind(pb::CHALLENGE_KIND_OTP);
  req.set_outcome(pb::CHALLENGE_OUTCOME_FAILED);
  req.set_idempotency_key("otp-1");
  pb::ReportChallengeOutcomeResponse a, b;
  ASSERT_TRUE(Call(&pb::ContAuthService::Stub::ReportChallengeOutcome, "acme", req, &a).ok());
  ASSERT_TRUE(Call(&pb::ContAuthService::Stub::ReportChallengeOutcome, "acme", req, &b).ok());
  EXPECT_EQ(a.risk().decision_id(), b.risk().decision_id());
  EXPECT_GT(a.risk().risk(), resp.risk().risk());
  EXPECT_EQ(Sql("SELECT count(*) FROM challenge_outcomes"), "1");
}

}  // namespace
}  // namespace shieldx::contauth
