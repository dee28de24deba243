// The gRPC adapter in process (real gRPC server, in-memory ledger): caller checks, proto
// mapping, status codes and reasons, and the business metrics it feeds.
#include "services/credits/credits_service.h"

#include <grpcpp/grpcpp.h>

#include <memory>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/rpc/server.h"
#include "libs/testing/status_matchers.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"
#include "services/credits/credits_metrics.h"
#include "services/credits/in_memory_ledger_store.h"

namespace shieldx::credits {
namespace {

namespace pb = ::shieldx::credits::v1;
using ::testing::HasSubstr;

common::v1::Actor MakeActor(const std::string& tenant, std::vector<std::string> permissions,
                            common::v1::ActorKind kind = common::v1::ACTOR_KIND_API_KEY) {
  common::v1::Actor a;
  a.set_kind(kind);
  a.set_actor_id("key-1");
  a.set_tenant_id(tenant);
  for (auto& p : permissions) a.add_permissions(p);
  return a;
}

const std::vector<std::string> kAll = {"credits.read", "credits.write", "credits.admin",
                                       "credits.audit"};

class CreditsServiceTest : public ::testing::Test {
 protected:
  CreditsServiceTest()
      : signer_(*AuditSigner::Create(std::string(40, 'k'))),
        metrics_(registry_, 100, nullptr),
        ledger_(&store_, &signer_, &payments_, &clock_, &ids_, &metrics_),
        service_(&ledger_),
        server_(rpc::ServerOptions{}, nullptr) {
    server_.RegisterService(&service_, "shieldx.credits.v1.CreditsService");
    EXPECT_OK(server_.Start());
    stub_ = pb::CreditsService::NewStub(server_.InProcessChannel());
  }

  std::unique_ptr<grpc::ClientContext> Ctx(const common::v1::Actor* actor) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (actor != nullptr) AttachActor(ctx.get(), *actor);
    return ctx;
  }

  void Seed(const std::string& tenant, int64_t credits) {
    common::v1::Actor op =
        MakeActor("_platform", {"platform.billing"}, common::v1::ACTOR_KIND_SERVICE);
    pb::OpenAccountRequest open;
    open.set_tenant_id(tenant);
    open.set_idempotency_key("open");
    open.set_alert_threshold_credits(100);
    pb::OpenAccountResponse opened;
    ASSERT_TRUE(stub_->OpenAccount(Ctx(&op).get(), open, &opened).ok());
    pb::TopUpRequest top;
    top.set_tenant_id(tenant);
    top.set_idempotency_key("top");
    top.set_amount_credits(credits);
    top.mutable_payment()->set_provider("manual");
    top.mutable_payment()->set_external_reference("INV-" + tenant);
    pb::TopUpResponse topped;
    grpc::Status s = stub_->TopUp(Ctx(&op).get(), top, &topped);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  pb::ConsumeRequest ConsumeReq(const std::string& tenant, const std::string& key, int64_t n) {
    pb::ConsumeRequest r;
    r.set_tenant_id(tenant);
    r.set_idempotency_key(key);
    r.mutable_record()->set_usage_kind(pb::USAGE_KIND_INSPECTED_REQUEST);
    r.mutable_record()->set_quantity(n * 10);
    r.mutable_record()->set_amount_credits(n);
    r.mutable_record()->mutable_period_start()->set_seconds(1'700'000'000);
    return r;
  }

  InMemoryLedgerStore store_;
  AuditSigner signer_;
  PaymentProviders payments_ = PaymentProviders::Default();
  FakeClock clock_;
  RandomIdGenerator ids_;
  prometheus::Registry registry_;
  CreditsMetrics metrics_;
  Ledger ledger_;
  CreditsServiceImpl service_;
  rpc::GrpcServer server_;
  std::unique_ptr<pb::CreditsService::Stub> stub_;
};

TEST(AuthorizeActor, RulesForIdentityPermissionAndTenant) {
  using ::shieldx::testing::StatusIs;
  EXPECT_THAT(AuthorizeActor(nullptr, "acme", "credits.read"),
              StatusIs(absl::StatusCode::kUnauthenticated));
  std::string garbage = "\xff\xff\xff";
  EXPECT_THAT(AuthorizeActor(&garbage, "acme", "credits.read"),
              StatusIs(absl::StatusCode::kUnauthenticated));
  std::string anon = MakeActor("acme", kAll, common::v1::ACTOR_KIND_ANONYMOUS).SerializeAsString();
  EXPECT_THAT(AuthorizeActor(&anon, "acme", "credits.read"),
              StatusIs(absl::StatusCode::kUnauthenticated));
  std::string reader = MakeActor("acme", {"credits.read"}).SerializeAsString();
  EXPECT_OK(AuthorizeActor(&reader, "acme", "credits.read"));
  EXPECT_THAT(AuthorizeActor(&reader, "acme", "credits.write"),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("credits.write")));
  EXPECT_THAT(
      AuthorizeActor(&reader, "beta", "credits.read"),
      StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("may not act on tenant beta")));
  std::string op = MakeActor("_platform", {"platform.billing", "credits.read"}).SerializeAsString();
  EXPECT_OK(AuthorizeActor(&op, "beta", "credits.read"));
}

TEST_F(CreditsServiceTest, CallsWithoutIdentityOrForAnotherTenantTouchNothing) {
  Seed("acme", 1000);
  Seed("beta", 1000);
  pb::ConsumeResponse resp;
  EXPECT_EQ(stub_->Consume(Ctx(nullptr).get(), ConsumeReq("acme", "c1", 5), &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  common::v1::Actor beta = MakeActor("beta", kAll);
  EXPECT_EQ(stub_->Consume(Ctx(&beta).get(), ConsumeReq("acme", "c1", 5), &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  common::v1::Actor reader = MakeActor("acme", {"credits.read"});
  EXPECT_EQ(stub_->Consume(Ctx(&reader).get(), ConsumeReq("acme", "c1", 5), &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  common::v1::Actor acme = MakeActor("acme", kAll);
  pb::TopUpRequest top;  // tenants cannot top themselves up: platform.billing only
  top.set_tenant_id("acme");
  top.set_idempotency_key("self");
  top.set_amount_credits(1'000'000);
  top.mutable_payment()->set_provider("promotion");
  pb::TopUpResponse topped;
  EXPECT_EQ(stub_->TopUp(Ctx(&acme).get(), top, &topped).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(ledger_.GetBalance("acme")->available_credits, 1000);
  EXPECT_EQ(ledger_.GetBalance("beta")->available_credits, 1000);
}

TEST_F(CreditsServiceTest, ConsumeMapsEveryFieldAndRetriesReplay) {
  Seed("acme", 1000);
  common::v1::Actor acme = MakeActor("acme", kAll);
  pb::ConsumeResponse first, second;
  ASSERT_TRUE(stub_->Consume(Ctx(&acme).get(), ConsumeReq("acme", "c1", 25), &first).ok());
  EXPECT_EQ(first.transfer().kind(), pb::TRANSFER_KIND_CONSUME);
  EXPECT_EQ(first.transfer().amount_credits(), 25);
  EXPECT_EQ(first.transfer().quantity(), 250);
  EXPECT_EQ(first.transfer().debit_account_id(), "tenant:acme");
  EXPECT_EQ(first.transfer().credit_account_id(), "system:revenue");
  EXPECT_EQ(first.transfer().idempotency_key(), "c1");
  EXPECT_EQ(first.transfer().sequence(), 3);
  EXPECT_EQ(first.balance().available_credits(), 975);
  ASSERT_TRUE(stub_->Consume(Ctx(&acme).get(), ConsumeReq("acme", "c1", 25), &second).ok());
  EXPECT_EQ(second.SerializeAsString(), first.SerializeAsString());
  grpc::Status reused = stub_->Consume(Ctx(&acme).get(), ConsumeReq("acme", "c1", 26), &second);
  EXPECT_EQ(reused.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(reused.error_message(), HasSubstr("IDEMPOTENCY_KEY_REUSED"));
  grpc::Status nokey = stub_->Consume(Ctx(&acme).get(), ConsumeReq("acme", "", 1), &second);
  EXPECT_EQ(nokey.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  grpc::Status broke = stub_->Consume(Ctx(&acme).get(), ConsumeReq("acme", "c2", 976), &second);
  EXPECT_EQ(broke.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(broke.error_message(), HasSubstr("INSUFFICIENT_CREDITS"));
}

TEST_F(CreditsServiceTest, BatchLimitsAndUsageReportValidation) {
  Seed("acme", 1000);
  common::v1::Actor acme = MakeActor("acme", kAll);
  pb::ConsumeBatchRequest batch;
  batch.set_tenant_id("acme");
  batch.set_idempotency_key("b1");
  for (int i = 0; i < 10'001; ++i) {
    auto* r = batch.add_records();
    r->set_usage_kind(pb::USAGE_KIND_INSPECTED_REQUEST);
    r->set_amount_credits(1);
  }
  pb::ConsumeBatchResponse bresp;
  EXPECT_EQ(stub_->ConsumeBatch(Ctx(&acme).get(), batch, &bresp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  batch.mutable_records()->DeleteSubrange(0, 10'001 - 100);
  ASSERT_TRUE(stub_->ConsumeBatch(Ctx(&acme).get(), batch, &bresp).ok());
  EXPECT_EQ(bresp.applied_records(), 100u);
  EXPECT_EQ(bresp.last_sequence(), 102);
  pb::UsageReportRequest report;
  report.set_tenant_id("acme");
  pb::UsageReportResponse rresp;
  EXPECT_EQ(stub_->UsageReport(Ctx(&acme).get(), report, &rresp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  report.mutable_period_start()->set_seconds(1'699'000'000);
  report.mutable_period_end()->set_seconds(1'701'000'000);
  ASSERT_TRUE(stub_->UsageReport(Ctx(&acme).get(), report, &rresp).ok());
  EXPECT_EQ(rresp.total_credits(), 100);
}

TEST_F(CreditsServiceTest, HoldsListingAndAuditOverGrpc) {
  Seed("acme", 1000);
  common::v1::Actor acme = MakeActor("acme", kAll);
  pb::ReserveRequest reserve;
  reserve.set_tenant_id("acme");
  reserve.set_idempotency_key("r1");
  reserve.set_amount_credits(300);
  reserve.set_ttl_ms(60'000);
  reserve.set_usage_kind(pb::USAGE_KIND_SHADOW_EVALUATION);
  reserve.set_reference("eval-9");
  pb::ReserveResponse held;
  ASSERT_TRUE(stub_->Reserve(Ctx(&acme).get(), reserve, &held).ok());
  EXPECT_EQ(held.hold().state(), pb::HOLD_STATE_PENDING);
  EXPECT_EQ(held.balance().available_credits(), 700);
  pb::CaptureRequest cap;
  cap.set_tenant_id("acme");
  cap.set_idempotency_key("cap1");
  cap.set_hold_id(held.hold().hold_id());
  cap.set_amount_credits(120);
  pb::CaptureResponse captured;
  ASSERT_TRUE(stub_->Capture(Ctx(&acme).get(), cap, &captured).ok());
  EXPECT_EQ(captured.hold().state(), pb::HOLD_STATE_CAPTURED);
  EXPECT_EQ(captured.balance().available_credits(), 880);
  pb::ListTransfersRequest list;
  list.set_tenant_id("acme");
  list.set_hold_id(held.hold().hold_id());
  pb::ListTransfersResponse listed;
  ASSERT_TRUE(stub_->ListTransfers(Ctx(&acme).get(), list, &listed).ok());
  ASSERT_EQ(listed.transfers_size(), 2);
  EXPECT_EQ(listed.transfers(0).kind(), pb::TRANSFER_KIND_CAPTURE);
  EXPECT_EQ(listed.transfers(1).kind(), pb::TRANSFER_KIND_RESERVE);
  pb::VerifyAuditRequest verify;
  verify.set_tenant_id("acme");
  pb::VerifyAuditResponse verified;
  ASSERT_TRUE(stub_->VerifyAudit(Ctx(&acme).get(), verify, &verified).ok());
  EXPECT_TRUE(verified.ok());
  EXPECT_EQ(verified.verified_entries(), 4);
  store_.TamperAudit("tenant:acme", 3, [](AuditEntry& e) { e.payload[5] ^= 1; });
  ASSERT_TRUE(stub_->VerifyAudit(Ctx(&acme).get(), verify, &verified).ok());
  EXPECT_FALSE(verified.ok());
  ASSERT_EQ(verified.problems_size(), 1);
  EXPECT_EQ(verified.problems(0).sequence(), 3);
  EXPECT_EQ(verified.problems(0).kind(), pb::AUDIT_PROBLEM_KIND_MODIFIED);
}

TEST_F(CreditsServiceTest, MetricsFollowTheLedger) {
  Seed("acme", 1000);
  common::v1::Actor acme = MakeActor("acme", kAll);
  pb::ConsumeResponse resp;
  ASSERT_TRUE(stub_->Consume(Ctx(&acme).get(), ConsumeReq("acme", "c1", 950), &resp).ok());
  ASSERT_TRUE(stub_->Consume(Ctx(&acme).get(), ConsumeReq("acme", "c1", 950), &resp).ok());
  EXPECT_EQ(metrics_.BalanceGauge("acme"), 50.0);
  const std::string text = prometheus::TextSerializer().Serialize(registry_.Collect());
  EXPECT_THAT(text, HasSubstr("shieldx_credits_balance{tenant_id=\"acme\"} 50"));
  EXPECT_THAT(text, HasSubstr("shieldx_credits_below_alert_threshold{tenant_id=\"acme\"} 1"));
  EXPECT_THAT(text,
              HasSubstr("shieldx_credits_consumed_credits_total{usage_kind=\"inspected_request\"} "
                        "950"));
  EXPECT_THAT(text, HasSubstr("operation=\"consume\",result=\"replayed\"} 1"));
  EXPECT_THAT(text, HasSubstr("shieldx_credits_low_balance_events_total 1"));
}

}  // namespace
}  // namespace shieldx::credits
