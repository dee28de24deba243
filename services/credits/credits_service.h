// CreditsServiceImpl: the gRPC adapter of shieldx.credits.v1.CreditsService. Proto <-> domain,
// caller checks, absl::Status -> grpc::Status (rpc::StatusToGrpc); nothing else — every
// decision is Ledger's.
//
// Caller checks, on every RPC, before the ledger is touched:
//   * the caller's identity travels in metadata `x-shieldx-actor-bin` (a serialized
//     shieldx.common.v1.Actor set by the gateway or the calling service): missing, unparsable
//     or of kind UNSPECIFIED / ANONYMOUS -> UNAUTHENTICATED;
//   * the actor must hold the RPC's permission (credits.read, credits.write, credits.admin,
//     credits.audit, platform.billing; as in credits.proto) -> else PERMISSION_DENIED;
//   * the request's tenant_id must be the actor's tenant, unless the actor holds a
//     `platform.*` permission (the operator) -> else PERMISSION_DENIED.
// Every ledger operation is keyed by the request's tenant_id, so a call for tenant A can only
// read or move tenant A's credits (holds and transfers of other tenants are NOT_FOUND).
//
// Thread-safety: thread-safe (gRPC calls handlers concurrently).
#ifndef SHIELDX_SERVICES_CREDITS_CREDITS_SERVICE_H_
#define SHIELDX_SERVICES_CREDITS_CREDITS_SERVICE_H_

#include <string>

#include "absl/status/status.h"
#include "libs/rpc/actor.h"
#include "services/credits/ledger.h"
#include "shieldx/common/v1/tenant.pb.h"
#include "shieldx/credits/v1/credits.grpc.pb.h"

namespace shieldx::credits {

// The caller check is the shared one (libs/rpc/actor.h).
using rpc::AttachActor;
using rpc::AuthorizeActor;
using rpc::kActorMetadataKey;

// Consume, the hot single-record call, uses gRPC's callback API: its handler queues the call
// for a group commit (Ledger::ConsumeAsync) and returns, so no server thread is parked while
// the group commits (a parked sync handler makes the sync server start and retire threads per
// call under load). Every other RPC is a synchronous handler.
class CreditsServiceImpl final
    : public shieldx::credits::v1::CreditsService::WithCallbackMethod_Consume<
          shieldx::credits::v1::CreditsService::Service> {
 public:
  explicit CreditsServiceImpl(Ledger* ledger) : ledger_(ledger) {}

  grpc::Status OpenAccount(grpc::ServerContext* ctx, const v1::OpenAccountRequest* req,
                           v1::OpenAccountResponse* resp) override;
  grpc::Status GetBalance(grpc::ServerContext* ctx, const v1::GetBalanceRequest* req,
                          v1::GetBalanceResponse* resp) override;
  grpc::Status TopUp(grpc::ServerContext* ctx, const v1::TopUpRequest* req,
                     v1::TopUpResponse* resp) override;
  grpc::ServerUnaryReactor* Consume(grpc::CallbackServerContext* ctx, const v1::ConsumeRequest* req,
                                    v1::ConsumeResponse* resp) override;
  grpc::Status ConsumeBatch(grpc::ServerContext* ctx, const v1::ConsumeBatchRequest* req,
                            v1::ConsumeBatchResponse* resp) override;
  grpc::Status Reserve(grpc::ServerContext* ctx, const v1::ReserveRequest* req,
                       v1::ReserveResponse* resp) override;
  grpc::Status Capture(grpc::ServerContext* ctx, const v1::CaptureRequest* req,
                       v1::CaptureResponse* resp) override;
  grpc::Status Void(grpc::ServerContext* ctx, const v1::VoidRequest* req,
                    v1::VoidResponse* resp) override;
  grpc::Status Refund(grpc::ServerContext* ctx, const v1::RefundRequest* req,
                      v1::RefundResponse* resp) override;
  grpc::Status ListTransfers(grpc::ServerContext* ctx, const v1::ListTransfersRequest* req,
                             v1::ListTransfersResponse* resp) override;
  grpc::Status UsageReport(grpc::ServerContext* ctx, const v1::UsageReportRequest* req,
                           v1::UsageReportResponse* resp) override;
  grpc::Status SetAlertThreshold(grpc::ServerContext* ctx, const v1::SetAlertThresholdRequest* req,
                                 v1::SetAlertThresholdResponse* resp) override;
  grpc::Status VerifyAudit(grpc::ServerContext* ctx, const v1::VerifyAuditRequest* req,
                           v1::VerifyAuditResponse* resp) override;

 private:
  Ledger* ledger_;
};

}  // namespace shieldx::credits

#endif  // SHIELDX_SERVICES_CREDITS_CREDITS_SERVICE_H_
