#include "services/orchestrator/credits_client.h"

#include <grpcpp/grpcpp.h>

#include "absl/time/time.h"
#include "libs/rpc/client.h"
#include "libs/rpc/status.h"
#include "shieldx/common/v1/tenant.pb.h"
#include "shieldx/credits/v1/credits.grpc.pb.h"

namespace shieldx::orchestrator {

namespace cv1 = ::shieldx::credits::v1;

struct CreditsGrpcSink::Stub {
  std::unique_ptr<cv1::CreditsService::Stub> stub;
  std::string actor;  // serialized common.v1.Actor of this service
};

namespace {
// The orchestrator acts for every tenant: a platform service principal (proto/README.md).
std::string ServiceActor() {
  common::v1::Actor a;
  a.set_kind(common::v1::ACTOR_KIND_SERVICE);
  a.set_actor_id("shieldx-orchestrator");
  a.set_tenant_id("_platform");
  a.set_display_name("orchestrator usage flush");
  for (const char* p : {"platform.usage", "credits.write", "credits.read"}) a.add_permissions(p);
  return a.SerializeAsString();
}
}  // namespace

CreditsGrpcSink::CreditsGrpcSink(std::shared_ptr<grpc::Channel> channel, int64_t deadline_ms)
    : stub_(std::make_unique<Stub>()), deadline_ms_(deadline_ms) {
  stub_->stub = cv1::CreditsService::NewStub(std::move(channel));
  stub_->actor = ServiceActor();
}

CreditsGrpcSink::~CreditsGrpcSink() = default;

absl::StatusOr<pipeline::ConsumeOutcome> CreditsGrpcSink::ConsumeBatch(
    const pipeline::UsageBatch& batch) {
  cv1::ConsumeBatchRequest req;
  req.set_tenant_id(batch.tenant_id);
  req.set_idempotency_key(batch.idempotency_key);
  req.set_shortfall_policy(cv1::SHORTFALL_POLICY_CAP);
  const int64_t start_ns = absl::ToUnixNanos(batch.period_start);
  const int64_t end_ns = absl::ToUnixNanos(batch.period_end);
  for (const pipeline::UsageRecord& r : batch.records) {
    cv1::UsageRecord* out = req.add_records();
    out->set_usage_kind(cv1::USAGE_KIND_INSPECTED_REQUEST);
    out->set_quantity(r.requests);
    out->set_amount_credits(r.credits);
    out->set_reference(r.route_id);
    out->mutable_period_start()->set_seconds(start_ns / 1'000'000'000);
    out->mutable_period_start()->set_nanos(static_cast<int32_t>(start_ns % 1'000'000'000));
    out->mutable_period_end()->set_seconds(end_ns / 1'000'000'000);
    out->mutable_period_end()->set_nanos(static_cast<int32_t>(end_ns % 1'000'000'000));
  }
  cv1::ConsumeBatchResponse resp;
  grpc::ClientContext ctx;
  rpc::PrepareClientContext(&ctx, deadline_ms_);
  ctx.AddMetadata("x-shieldx-actor-bin", stub_->actor);
  grpc::Status s = stub_->stub->ConsumeBatch(&ctx, req, &resp);
  if (!s.ok()) return rpc::GrpcToStatus(s);
  return pipeline::ConsumeOutcome{resp.balance().available_credits(), resp.shortfall_credits()};
}

absl::StatusOr<int64_t> CreditsGrpcSink::AvailableCredits(const std::string& tenant_id) {
  cv1::GetBalanceRequest req;
  req.set_tenant_id(tenant_id);
  cv1::GetBalanceResponse resp;
  grpc::ClientContext ctx;
  rpc::PrepareClientContext(&ctx, deadline_ms_);
  ctx.AddMetadata("x-shieldx-actor-bin", stub_->actor);
  grpc::Status s = stub_->stub->GetBalance(&ctx, req, &resp);
  if (!s.ok()) return rpc::GrpcToStatus(s);
  return resp.balance().available_credits();
}

}  // namespace shieldx::orchestrator
