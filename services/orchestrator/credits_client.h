// CreditsGrpcSink: the UsageMeter's sink on CreditsService (ConsumeBatch with the batch's
// idempotency key and SHORTFALL_POLICY_CAP, because the usage has already happened; GetBalance
// to notice top-ups of exhausted tenants). Each call has a deadline.
//
// Thread-safety: thread-safe (gRPC stubs are).
#ifndef SHIELDX_SERVICES_ORCHESTRATOR_CREDITS_CLIENT_H_
#define SHIELDX_SERVICES_ORCHESTRATOR_CREDITS_CLIENT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "libs/pipeline/usage.h"

namespace grpc {
class Channel;
}

namespace shieldx::orchestrator {

class CreditsGrpcSink : public pipeline::CreditsSink {
 public:
  CreditsGrpcSink(std::shared_ptr<grpc::Channel> channel, int64_t deadline_ms = 2000);
  ~CreditsGrpcSink() override;
  absl::StatusOr<pipeline::ConsumeOutcome> ConsumeBatch(const pipeline::UsageBatch& batch) override;
  absl::StatusOr<int64_t> AvailableCredits(const std::string& tenant_id) override;

 private:
  struct Stub;
  std::unique_ptr<Stub> stub_;
  const int64_t deadline_ms_;
};

}  // namespace shieldx::orchestrator

#endif  // SHIELDX_SERVICES_ORCHESTRATOR_CREDITS_CLIENT_H_
