// gRPC adapters of the orchestrator: proto <-> domain, absl::Status -> grpc::Status, nothing
// else. DecisionService runs the pipeline (pipeline::Pipeline) and reads the decision log;
// ConfigService is the ConfigManager.
//
// Caller identity (proto/README.md): a serialized shieldx.common.v1.Actor in metadata
// `x-shieldx-actor-bin`, set by the gateway or a calling service. Missing or malformed:
// UNAUTHENTICATED. Every RPC requires the permission its proto option names
// (decisions.evaluate, config.write, rulesets.activate, ...) and the actor's tenant to be the
// request's tenant unless the actor holds a `platform.*` permission; else PERMISSION_DENIED.
// Ids of another tenant's objects are NOT_FOUND.
#ifndef SHIELDX_SERVICES_ORCHESTRATOR_ORCHESTRATOR_SERVICE_H_
#define SHIELDX_SERVICES_ORCHESTRATOR_ORCHESTRATOR_SERVICE_H_

#include <atomic>
#include <string>

#include "libs/pipeline/pipeline.h"
#include "services/orchestrator/config_manager.h"
#include "services/orchestrator/decision_log.h"
#include "services/orchestrator/snapshot_loader.h"
#include "shieldx/orchestrator/v1/orchestrator.grpc.pb.h"

namespace shieldx::orchestrator {

inline constexpr int kMaxBatchRequests = 1000;
inline constexpr std::size_t kMaxBatchBytes = 16 * 1024 * 1024;

// Evaluate uses the callback API: the pipeline runs on the gRPC event thread that read the
// request (tens of microseconds, no I/O), so a call costs no hand-off to a worker thread.
class DecisionServiceImpl final
    : public v1::DecisionService::WithCallbackMethod_Evaluate<v1::DecisionService::Service> {
 public:
  // `log` may be null (QueryDecisions/TailDecisions answer UNAVAILABLE).
  DecisionServiceImpl(pipeline::Pipeline* pipeline, DecisionLog* log);

  grpc::ServerUnaryReactor* Evaluate(grpc::CallbackServerContext* context,
                                     const v1::EvaluateRequest* request,
                                     v1::EvaluateResponse* response) override;
  grpc::Status EvaluateBatch(grpc::ServerContext* context, const v1::EvaluateBatchRequest* request,
                             v1::EvaluateBatchResponse* response) override;
  grpc::Status QueryDecisions(grpc::ServerContext* context,
                              const v1::QueryDecisionsRequest* request,
                              v1::QueryDecisionsResponse* response) override;
  grpc::Status TailDecisions(grpc::ServerContext* context, const v1::TailDecisionsRequest* request,
                             grpc::ServerWriter<v1::TailDecisionsResponse>* writer) override;

  // Ends open tails (drain).
  void BeginDrain() { draining_.store(true); }

 private:
  absl::StatusOr<common::v1::Decision> DecideOne(const std::string& tenant_id,
                                                 const std::string& site_id,
                                                 const common::v1::HttpRequest& request,
                                                 const v1::EvaluateOptions& options);
  pipeline::Pipeline* const pipeline_;
  DecisionLog* const log_;
  std::atomic<bool> draining_{false};
};

class ConfigServiceImpl final : public v1::ConfigService::Service {
 public:
  ConfigServiceImpl(ConfigManager* manager, pipeline::Pipeline* pipeline, SnapshotLoader* loader,
                    std::string replica_id);

  grpc::Status CreateSite(grpc::ServerContext*, const v1::CreateSiteRequest*,
                          v1::CreateSiteResponse*) override;
  grpc::Status GetSite(grpc::ServerContext*, const v1::GetSiteRequest*,
                       v1::GetSiteResponse*) override;
  grpc::Status ListSites(grpc::ServerContext*, const v1::ListSitesRequest*,
                         v1::ListSitesResponse*) override;
  grpc::Status UpdateSite(grpc::ServerContext*, const v1::UpdateSiteRequest*,
                          v1::UpdateSiteResponse*) override;
  grpc::Status DeleteSite(grpc::ServerContext*, const v1::DeleteSiteRequest*,
                          v1::DeleteSiteResponse*) override;
  grpc::Status CreateRoute(grpc::ServerContext*, const v1::CreateRouteRequest*,
                           v1::CreateRouteResponse*) override;
  grpc::Status GetRoute(grpc::ServerContext*, const v1::GetRouteRequest*,
                        v1::GetRouteResponse*) override;
  grpc::Status ListRoutes(grpc::ServerContext*, const v1::ListRoutesRequest*,
                          v1::ListRoutesResponse*) override;
  grpc::Status UpdateRoute(grpc::ServerContext*, const v1::UpdateRouteRequest*,
                           v1::UpdateRouteResponse*) override;
  grpc::Status DeleteRoute(grpc::ServerContext*, const v1::DeleteRouteRequest*,
                           v1::DeleteRouteResponse*) override;
  grpc::Status CreatePool(grpc::ServerContext*, const v1::CreatePoolRequest*,
                          v1::CreatePoolResponse*) override;
  grpc::Status GetPool(grpc::ServerContext*, const v1::GetPoolRequest*,
                       v1::GetPoolResponse*) override;
  grpc::Status ListPools(grpc::ServerContext*, const v1::ListPoolsRequest*,
                         v1::ListPoolsResponse*) override;
  grpc::Status UpdatePool(grpc::ServerContext*, const v1::UpdatePoolRequest*,
                          v1::UpdatePoolResponse*) override;
  grpc::Status DeletePool(grpc::ServerContext*, const v1::DeletePoolRequest*,
                          v1::DeletePoolResponse*) override;
  grpc::Status CreateIpList(grpc::ServerContext*, const v1::CreateIpListRequest*,
                            v1::CreateIpListResponse*) override;
  grpc::Status GetIpList(grpc::ServerContext*, const v1::GetIpListRequest*,
                         v1::GetIpListResponse*) override;
  grpc::Status ListIpLists(grpc::ServerContext*, const v1::ListIpListsRequest*,
                           v1::ListIpListsResponse*) override;
  grpc::Status UpdateIpList(grpc::ServerContext*, const v1::UpdateIpListRequest*,
                            v1::UpdateIpListResponse*) override;
  grpc::Status DeleteIpList(grpc::ServerContext*, const v1::DeleteIpListRequest*,
                            v1::DeleteIpListResponse*) override;
  grpc::Status ModifyIpListEntries(grpc::ServerContext*, const v1::ModifyIpListEntriesRequest*,
                                   v1::ModifyIpListEntriesResponse*) override;
  grpc::Status CreateRuleSet(grpc::ServerContext*, const v1::CreateRuleSetRequest*,
                             v1::CreateRuleSetResponse*) override;
  grpc::Status GetRuleSet(grpc::ServerContext*, const v1::GetRuleSetRequest*,
                          v1::GetRuleSetResponse*) override;
  grpc::Status ListRuleSets(grpc::ServerContext*, const v1::ListRuleSetsRequest*,
                            v1::ListRuleSetsResponse*) override;
  grpc::Status CreateRuleSetVersion(grpc::ServerContext*, const v1::CreateRuleSetVersionRequest*,
                                    v1::CreateRuleSetVersionResponse*) override;
  grpc::Status GetRuleSetVersion(grpc::ServerContext*, const v1::GetRuleSetVersionRequest*,
                                 v1::GetRuleSetVersionResponse*) override;
  grpc::Status ListRuleSetVersions(grpc::ServerContext*, const v1::ListRuleSetVersionsRequest*,
                                   v1::ListRuleSetVersionsResponse*) override;
  grpc::Status ShadowRuleSetVersion(grpc::ServerContext*, const v1::ShadowRuleSetVersionRequest*,
                                    v1::ShadowRuleSetVersionResponse*) override;
  grpc::Status ActivateRuleSet(grpc::ServerContext*, const v1::ActivateRuleSetRequest*,
                               v1::ActivateRuleSetResponse*) override;
  grpc::Status RollbackRuleSet(grpc::ServerContext*, const v1::RollbackRuleSetRequest*,
                               v1::RollbackRuleSetResponse*) override;
  grpc::Status ArchiveRuleSetVersion(grpc::ServerContext*, const v1::ArchiveRuleSetVersionRequest*,
                                     v1::ArchiveRuleSetVersionResponse*) override;
  grpc::Status TestRuleSet(grpc::ServerContext*, const v1::TestRuleSetRequest*,
                           v1::TestRuleSetResponse*) override;
  grpc::Status GetTenantSettings(grpc::ServerContext*, const v1::GetTenantSettingsRequest*,
                                 v1::GetTenantSettingsResponse*) override;
  grpc::Status UpdateTenantSettings(grpc::ServerContext*, const v1::UpdateTenantSettingsRequest*,
                                    v1::UpdateTenantSettingsResponse*) override;
  grpc::Status GetConfigVersion(grpc::ServerContext*, const v1::GetConfigVersionRequest*,
                                v1::GetConfigVersionResponse*) override;

 private:
  ConfigManager* const m_;
  pipeline::Pipeline* const pipeline_;
  SnapshotLoader* const loader_;
  const std::string replica_id_;
};

// See the file comment: ValidateTenantId (INVALID_ARGUMENT when `tenant_id` is malformed),
// then the shared caller-identity and tenant-isolation check (libs/rpc/actor.h).
absl::Status Authorize(const grpc::ServerContextBase* context, const std::string& tenant_id,
                       const std::string& permission);

}  // namespace shieldx::orchestrator

#endif  // SHIELDX_SERVICES_ORCHESTRATOR_ORCHESTRATOR_SERVICE_H_
