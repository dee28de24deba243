// gRPC adapter of the orchestrator service: proto <-> domain, absl::Status -> grpc::Status, nothing
// else. The domain arrives with issue 5.
#ifndef SHIELDX_SERVICES_ORCHESTRATOR_ORCHESTRATOR_SERVICE_H_
#define SHIELDX_SERVICES_ORCHESTRATOR_ORCHESTRATOR_SERVICE_H_

#include "shieldx/orchestrator/v1/orchestrator.grpc.pb.h"

namespace shieldx::orchestrator {

// DecisionService: every RPC answers UNIMPLEMENTED naming the method until issue 5 lands (the
// shared interceptor adds the message). No RPC returns data it did not compute.
class DecisionServiceImpl final : public shieldx::orchestrator::v1::DecisionService::Service {};

// ConfigService: every RPC answers UNIMPLEMENTED naming the method until issue 5 lands (the
// shared interceptor adds the message). No RPC returns data it did not compute.
class ConfigServiceImpl final : public shieldx::orchestrator::v1::ConfigService::Service {};

}  // namespace shieldx::orchestrator

#endif  // SHIELDX_SERVICES_ORCHESTRATOR_ORCHESTRATOR_SERVICE_H_
