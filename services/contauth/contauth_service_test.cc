// The gRPC adapter served by a real in-process gRPC server (libs/rpc) over the in-memory
// store: caller checks, proto <-> domain, error codes and messages on the wire.
#include "services/contauth/contauth_service.h"

#include <grpcpp/grpcpp.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/metrics/metrics.h"
#include "libs/rpc/server.h"
#include "libs/testing/status_matchers.h"
#include "services/contauth/contauth_test_util.h"
#include "services/contauth/in_memory_contauth_store.h"

namespace shieldx::contauth {
namespace {

namespace pb = ::shieldx::contauth::v1;
using ::testing::HasSubstr;

class ContAuthServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cipher = ProfileCipher::Create("k1", std::string(40, 'z'));
    ASSERT_TRUE(cipher.ok());
    cipher_ = std::make_unique<ProfileCipher>(*cipher);
    metrics_ = std::make_unique<ContAuthMetrics>(registry_.registry());
    contauth_ = std::make_unique<ContAuth>(&store_, &publisher_, cipher_.get(), nullptr,
                                           Clock::Real(), metrics_.get(), ContAuthOptions{});
    service_ = std::make_unique<ContAuthServiceImpl>(contauth_.get());
    server_ = std::make_unique<rpc::GrpcServer>(rpc::ServerOptions{}, &registry_);
    server_->RegisterService(service_.get(), "shieldx.contauth.v1.ContAuthService");
    ASSERT_TRUE(server_->Start().ok());
    stub_ = pb::ContAuthService::NewStub(server_->InProcessChannel());
  }
  void TearDown() override { server_->Shutdown(absl::ZeroDuration()); }

  static common::v1::Actor Actor(const std::string& tenant, std::vector<std::string> perms) {
    common::v1::Actor a;
    a.set_kind(common::v1::ACTOR_KIND_SERVICE);
    a.set_actor_id("orchestrator");
    a.set_tenant_id(tenant);
    for (auto& p : perms) a.add_permissions(p);
    return a;
  }
  static void Attach(grpc::ClientContext* ctx, const common::v1::Actor& a) {
    ctx->AddMetadata(kActorMetadataKey, a.SerializeAsString());
  }
  common::v1::Actor Admin(const std::string& tenant) {
    return Actor(tenant, {"contauth.ingest", "contauth.score", "contauth.read", "contauth.admin",
                          "contauth.privacy"});
  }

  void Enable(const std::string& tenant) {
    grpc::ClientContext ctx;
    Attach(&ctx, Admin(tenant));
    pb::UpdatePolicyRequest req;
    req.set_tenant_id(tenant);
    req.mutable_policy()->set_monitor_at(0.5);
    req.mutable_policy()->set_challenge_at(0.7);
    req.mutable_policy()->set_deny_at(0.9);
    req.mutable_policy()->set_decision_ttl_ms(60000);
    req.mutable_policy()->set_decision_retention_days(30);
    req.mutable_policy()->set_min_enroll_samples(10);
    pb::UpdatePolicyResponse resp;
    ASSERT_TRUE(stub_->UpdatePolicy(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.policy().etag(), "1");
  }

  metrics::MetricsRegistry registry_{"contauth"};
  InMemoryContAuthStore store_;
  InMemoryRiskPublisher publisher_;
  std::unique_ptr<ProfileCipher> cipher_;
  std::unique_ptr<ContAuthMetrics> metrics_;
  std::unique_ptr<ContAuth> contauth_;
  std::unique_ptr<ContAuthServiceImpl> service_;
  std::unique_ptr<rpc::GrpcServer> server_;
  std::unique_ptr<pb::ContAuthService::Stub> stub_;
};

TEST_F(ContAuthServiceTest, CallerChecksComeFirst) {
  Enable("acme");
  pb::GetPolicyRequest req;
  req.set_tenant_id("acme");
  pb::GetPolicyResponse resp;
  {
    grpc::ClientContext ctx;
    EXPECT_EQ(stub_->GetPolicy(&ctx, req, &resp).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext ctx;
    Attach(&ctx, Actor("acme", {"contauth.ingest"}));
    grpc::Status s = stub_->GetPolicy(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_THAT(s.error_message(), HasSubstr("contauth.read"));
  }
  {
    grpc::ClientContext ctx;
    Attach(&ctx, Actor("globex", {"contauth.read"}));
    EXPECT_EQ(stub_->GetPolicy(&ctx, req, &resp).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    grpc::ClientContext ctx;
    Attach(&ctx, Actor("platform", {"contauth.read", "platform.admin"}));
    EXPECT_TRUE(stub_->GetPolicy(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.policy().etag(), "1");
  }
}

TEST_F(ContAuthServiceTest, MalformedTelemetryIsInvalidArgumentNamingTheField) {
  Enable("acme");
  pb::IngestTelemetryRequest req;
  req.set_tenant_id("acme");
  req.set_session_id("s1");
  req.set_user_id("alice");
  pb::KeystrokeSample* k = req.add_keystroke_samples();
  k->set_sample_id("k-1");
  k->set_text_id("login.password");
  pb::KeyEvent* e = k->add_events();
  e->set_key("a");
  e->set_down_ms(100);
  e->set_up_ms(40);
  pb::IngestTelemetryResponse resp;
  grpc::ClientContext ctx;
  Attach(&ctx, Admin("acme"));
  grpc::Status s = stub_->IngestTelemetry(&ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("keystroke_samples[0]"));
  EXPECT_THAT(s.error_message(), HasSubstr("sample k-1"));
  // Oversized: 65 samples.
  pb::IngestTelemetryRequest big;
  big.set_tenant_id("acme");
  big.set_session_id("s1");
  big.set_user_id("alice");
  for (int i = 0; i < 65; ++i) big.add_keystroke_samples()->set_sample_id("x");
  grpc::ClientContext ctx2;
  Attach(&ctx2, Admin("acme"));
  s = stub_->IngestTelemetry(&ctx2, big, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("65 samples (limit 64)"));
  // Unknown tenant.
  req.set_tenant_id("ghost");
  req.clear_keystroke_samples();
  grpc::ClientContext ctx3;
  Attach(&ctx3, Admin("ghost"));
  s = stub_->IngestTelemetry(&ctx3, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("tenant ghost"));
}

TEST_F(ContAuthServiceTest, IngestScoreDecisionAndMetricsRoundTrip) {
  Enable("acme");
  testing::Typist alice(1), bob(2);
  pb::IngestTelemetryRequest req;
  req.set_tenant_id("acme");
  req.set_session_id("s1");
  req.set_user_id("alice");
  req.set_batch_sequence(1);
  for (int i = 0; i < 12; ++i) {
    KeystrokeInput in = alice.Sample(absl::StrCat("e", i));
    pb::KeystrokeSample* k = req.add_keystroke_samples();
    k->set_sample_id(in.sample.sample_id);
    k->set_text_id(in.text_id);
    for (const KeyEvent& e : in.sample.events) {
      pb::KeyEvent* p = k->add_events();
      p->set_key(e.key);
      p->set_down_ms(e.down_ms);
      p->set_up_ms(e.up_ms);
    }
  }
  req.mutable_device()->set_device_id("dev-1");
  req.mutable_context()->set_ip("203.0.113.5");
  pb::IngestTelemetryResponse resp;
  {
    grpc::ClientContext ctx;
    Attach(&ctx, Admin("acme"));
    ASSERT_TRUE(stub_->IngestTelemetry(&ctx, req, &resp).ok());
  }
  EXPECT_EQ(resp.accepted_count(), 14u);  // 12 samples + device + context
  EXPECT_FALSE(resp.duplicate());
  EXPECT_FALSE(resp.risk().decision_id().empty());
  // Score with a probe typed by someone else.
  pb::ScoreRequest sreq;
  sreq.set_tenant_id("acme");
  sreq.set_session_id("s1");
  sreq.set_user_id("alice");
  KeystrokeInput probe = bob.Sample("p1", PhaseRequest::kProbe);
  pb::KeystrokeSample* k = sreq.add_probe_samples();
  k->set_sample_id("p1");
  k->set_text_id("login.password");
  k->set_phase(pb::SAMPLE_PHASE_PROBE);
  for (const KeyEvent& e : probe.sample.events) {
    pb::KeyEvent* p = k->add_events();
    p->set_key(e.key);
    p->set_down_ms(e.down_ms);
    p->set_up_ms(e.up_ms);
  }
  pb::ScoreResponse sresp;
  {
    grpc::ClientContext ctx;
    Attach(&ctx, Actor("acme", {"contauth.score"}));
    ASSERT_TRUE(stub_->Score(&ctx, sreq, &sresp).ok());
  }
  ASSERT_EQ(sresp.sample_scores_size(), 1);
  EXPECT_EQ(sresp.sample_scores(0).sample_id(), "p1");
  EXPECT_TRUE(sresp.risk().enrolled());
  EXPECT_GT(sresp.risk().expires_at().seconds(), sresp.risk().decided_at().seconds());
  pb::GetDecisionRequest dreq;
  dreq.set_tenant_id("acme");
  dreq.set_session_id("s1");
  pb::GetDecisionResponse dresp;
  {
    grpc::ClientContext ctx;
    Attach(&ctx, Actor("acme", {"contauth.read"}));
    ASSERT_TRUE(stub_->GetDecision(&ctx, dreq, &dresp).ok());
  }
  EXPECT_EQ(dresp.risk().decision_id(), sresp.risk().decision_id());
  // Summary and export through the wire.
  pb::ExportProfileRequest ereq;
  ereq.set_tenant_id("acme");
  ereq.set_user_id("alice");
  pb::ExportProfileResponse eresp;
  {
    grpc::ClientContext ctx;
    Attach(&ctx, Admin("acme"));
    ASSERT_TRUE(stub_->ExportProfile(&ctx, ereq, &eresp).ok());
  }
  EXPECT_EQ(eresp.device_ids_size(), 1);
  EXPECT_EQ(eresp.profile().key_id(), "k1");
  EXPECT_GE(eresp.feature_vectors_size(), 12);
  EXPECT_EQ(eresp.decisions_size(), 2);
  const std::string text = registry_.Serialize();
  EXPECT_THAT(text, HasSubstr("shieldx_contauth_risk_score_count 2"));
  EXPECT_THAT(text, HasSubstr("shieldx_contauth_decisions_total{action=\"allow\"}"));
  EXPECT_THAT(text,
              HasSubstr("shieldx_contauth_telemetry_events_total{kind=\"keystroke_sample\"} 12"));
}

TEST_F(ContAuthServiceTest, StaleEtagIsAbortedAndBadEtagIsInvalid) {
  Enable("acme");
  pb::UpdatePolicyRequest req;
  req.set_tenant_id("acme");
  req.mutable_policy()->set_monitor_at(0.4);
  req.mutable_policy()->set_challenge_at(0.6);
  req.mutable_policy()->set_deny_at(0.8);
  req.mutable_policy()->set_decision_ttl_ms(60000);
  req.mutable_policy()->set_decision_retention_days(7);
  req.mutable_policy()->set_min_enroll_samples(5);
  pb::UpdatePolicyResponse resp;
  {
    grpc::ClientContext ctx;
    Attach(&ctx, Admin("acme"));
    EXPECT_EQ(stub_->UpdatePolicy(&ctx, req, &resp).error_code(), grpc::StatusCode::ABORTED);
  }
  req.mutable_policy()->set_etag("abc");
  {
    grpc::ClientContext ctx;
    Attach(&ctx, Admin("acme"));
    EXPECT_EQ(stub_->UpdatePolicy(&ctx, req, &resp).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
  req.mutable_policy()->set_etag("1");
  {
    grpc::ClientContext ctx;
    Attach(&ctx, Admin("acme"));
    ASSERT_TRUE(stub_->UpdatePolicy(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.policy().etag(), "2");
    EXPECT_EQ(resp.policy().min_enroll_samples(), 5u);
  }
}

}  // namespace
}  // namespace shieldx::contauth
