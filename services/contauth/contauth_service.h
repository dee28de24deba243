// gRPC adapter of the contauth service: proto <-> domain, absl::Status -> grpc::Status, nothing
// else. The domain arrives with issue 6.
#ifndef SHIELDX_SERVICES_CONTAUTH_CONTAUTH_SERVICE_H_
#define SHIELDX_SERVICES_CONTAUTH_CONTAUTH_SERVICE_H_

#include "shieldx/contauth/v1/contauth.grpc.pb.h"

namespace shieldx::contauth {

// ContAuthService: every RPC answers UNIMPLEMENTED naming the method until issue 6 lands (the
// shared interceptor adds the message). No RPC returns data it did not compute.
class ContAuthServiceImpl final : public shieldx::contauth::v1::ContAuthService::Service {};

}  // namespace shieldx::contauth

#endif  // SHIELDX_SERVICES_CONTAUTH_CONTAUTH_SERVICE_H_
