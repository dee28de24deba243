// gRPC adapter of the shadow service: proto <-> domain, absl::Status -> grpc::Status, nothing
// else. The domain arrives with a later issue.
#ifndef SHIELDX_SERVICES_SHADOW_SHADOW_SERVICE_H_
#define SHIELDX_SERVICES_SHADOW_SHADOW_SERVICE_H_

#include "shieldx/shadow/v1/shadow.grpc.pb.h"

namespace shieldx::shadow {

// ShadowService: every RPC answers UNIMPLEMENTED naming the method until a later issue lands (the
// shared interceptor adds the message). No RPC returns data it did not compute.
class ShadowServiceImpl final : public shieldx::shadow::v1::ShadowService::Service {};

}  // namespace shieldx::shadow

#endif  // SHIELDX_SERVICES_SHADOW_SHADOW_SERVICE_H_
