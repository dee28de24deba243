// ContAuthServiceImpl: the gRPC adapter of shieldx.contauth.v1.ContAuthService. Proto <->
// domain, caller checks, absl::Status -> grpc::Status (rpc::StatusToGrpc); nothing else —
// every decision is ContAuth's (contauth.h).
//
// Caller checks on every RPC, before the domain is touched (same rules as credits):
//   * identity in metadata `x-shieldx-actor-bin` (serialized shieldx.common.v1.Actor, set by
//     the gateway or the calling service): missing, unparsable, UNSPECIFIED or ANONYMOUS ->
//     UNAUTHENTICATED;
//   * the actor holds the RPC's permission (contauth.ingest, contauth.score, contauth.read,
//     contauth.privacy, contauth.admin; as in contauth.proto) -> else PERMISSION_DENIED;
//   * the request's tenant_id is the actor's tenant, unless the actor holds a `platform.*`
//     permission -> else PERMISSION_DENIED.
//
// Thread-safety: thread-safe (gRPC calls handlers concurrently).
#ifndef SHIELDX_SERVICES_CONTAUTH_CONTAUTH_SERVICE_H_
#define SHIELDX_SERVICES_CONTAUTH_CONTAUTH_SERVICE_H_

#include <string>

#include "absl/status/status.h"
#include "libs/rpc/actor.h"
#include "services/contauth/contauth.h"
#include "shieldx/common/v1/tenant.pb.h"
#include "shieldx/contauth/v1/contauth.grpc.pb.h"

namespace shieldx::contauth {

// The caller check is the shared one (libs/rpc/actor.h).
using rpc::AuthorizeActor;
using rpc::kActorMetadataKey;

class ContAuthServiceImpl final : public shieldx::contauth::v1::ContAuthService::Service {
 public:
  explicit ContAuthServiceImpl(ContAuth* contauth) : contauth_(contauth) {}

  grpc::Status IngestTelemetry(grpc::ServerContext* ctx, const v1::IngestTelemetryRequest* req,
                               v1::IngestTelemetryResponse* resp) override;
  grpc::Status Score(grpc::ServerContext* ctx, const v1::ScoreRequest* req,
                     v1::ScoreResponse* resp) override;
  grpc::Status GetDecision(grpc::ServerContext* ctx, const v1::GetDecisionRequest* req,
                           v1::GetDecisionResponse* resp) override;
  grpc::Status ReportChallengeOutcome(grpc::ServerContext* ctx,
                                      const v1::ReportChallengeOutcomeRequest* req,
                                      v1::ReportChallengeOutcomeResponse* resp) override;
  grpc::Status GetProfileSummary(grpc::ServerContext* ctx, const v1::GetProfileSummaryRequest* req,
                                 v1::GetProfileSummaryResponse* resp) override;
  grpc::Status DeleteProfile(grpc::ServerContext* ctx, const v1::DeleteProfileRequest* req,
                             v1::DeleteProfileResponse* resp) override;
  grpc::Status ExportProfile(grpc::ServerContext* ctx, const v1::ExportProfileRequest* req,
                             v1::ExportProfileResponse* resp) override;
  grpc::Status GetPolicy(grpc::ServerContext* ctx, const v1::GetPolicyRequest* req,
                         v1::GetPolicyResponse* resp) override;
  grpc::Status UpdatePolicy(grpc::ServerContext* ctx, const v1::UpdatePolicyRequest* req,
                            v1::UpdatePolicyResponse* resp) override;

 private:
  ContAuth* contauth_;
};

// Converts an IngestTelemetry request to the domain batch (no validation: ContAuth validates).
TelemetryBatch BatchFromProto(const v1::IngestTelemetryRequest& req);
// Converts a decision to the proto SessionRisk.
void DecisionToProto(const Decision& d, v1::SessionRisk* out);

}  // namespace shieldx::contauth

#endif  // SHIELDX_SERVICES_CONTAUTH_CONTAUTH_SERVICE_H_
