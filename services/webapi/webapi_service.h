// gRPC adapter of the webapi service: proto <-> domain, absl::Status -> grpc::Status, nothing
// else. The domain arrives with a later issue.
#ifndef SHIELDX_SERVICES_WEBAPI_WEBAPI_SERVICE_H_
#define SHIELDX_SERVICES_WEBAPI_WEBAPI_SERVICE_H_

#include "shieldx/webapi/v1/webapi.grpc.pb.h"

namespace shieldx::webapi {

// WebApiService: every RPC answers UNIMPLEMENTED naming the method until a later issue lands (the
// shared interceptor adds the message). No RPC returns data it did not compute.
class WebApiServiceImpl final : public shieldx::webapi::v1::WebApiService::Service {};

}  // namespace shieldx::webapi

#endif  // SHIELDX_SERVICES_WEBAPI_WEBAPI_SERVICE_H_
