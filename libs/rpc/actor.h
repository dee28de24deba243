// Caller identity and tenant isolation, checked on every tenant-scoped RPC.
//
// The caller's identity travels in gRPC metadata `x-shieldx-actor-bin`: a serialized
// shieldx.common.v1.Actor set by the gateway or by the calling service. A call is allowed
// when the actor names a principal kind, holds the RPC's permission, and belongs to the
// request's tenant — or holds a `platform.*` permission (the operator). Protection of the
// metadata itself relies on mTLS between services in production.
#ifndef SHIELDX_LIBS_RPC_ACTOR_H_
#define SHIELDX_LIBS_RPC_ACTOR_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "shieldx/common/v1/tenant.pb.h"

namespace grpc {
class ClientContext;
class ServerContextBase;
}  // namespace grpc

namespace shieldx::rpc {

inline constexpr char kActorMetadataKey[] = "x-shieldx-actor-bin";
// A serialized Actor larger than this is refused (identities are small).
inline constexpr std::size_t kMaxActorBytes = 16 * 1024;

// `metadata_value`: the x-shieldx-actor-bin value, or nullptr when absent.
// Unauthenticated: missing, oversized, unparsable or kind-less identity.
// PermissionDenied: the permission is missing, or the tenant differs (non-operator).
absl::Status AuthorizeActor(const std::string* metadata_value, const std::string& tenant_id,
                            const std::string& permission);

// AuthorizeActor on the identity the call carries (sync or callback-API call).
absl::Status Authorize(const grpc::ServerContextBase* context, const std::string& tenant_id,
                       const std::string& permission);

// Adds `actor` as x-shieldx-actor-bin to an outgoing call (clients, tools, tests).
void AttachActor(grpc::ClientContext* context, const common::v1::Actor& actor);

}  // namespace shieldx::rpc

#endif  // SHIELDX_LIBS_RPC_ACTOR_H_
