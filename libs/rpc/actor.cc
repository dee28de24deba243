#include "libs/rpc/actor.h"

#include <grpcpp/client_context.h>
#include <grpcpp/server_context.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace shieldx::rpc {

absl::Status AuthorizeActor(const std::string* metadata_value, const std::string& tenant_id,
                            const std::string& permission) {
  if (metadata_value == nullptr) {
    return absl::UnauthenticatedError(
        absl::StrCat("missing caller identity (metadata ", kActorMetadataKey, ")"));
  }
  common::v1::Actor actor;
  if (metadata_value->size() > kMaxActorBytes || !actor.ParseFromString(*metadata_value)) {
    return absl::UnauthenticatedError(
        absl::StrCat("caller identity (", kActorMetadataKey, ") is not a valid Actor"));
  }
  if (actor.kind() == common::v1::ACTOR_KIND_UNSPECIFIED ||
      actor.kind() == common::v1::ACTOR_KIND_ANONYMOUS) {
    return absl::UnauthenticatedError("caller identity has no principal kind");
  }
  bool has_permission = false;
  bool operator_actor = false;
  for (const std::string& p : actor.permissions()) {
    if (p == permission) has_permission = true;
    if (absl::StartsWith(p, "platform.")) operator_actor = true;
  }
  if (!has_permission) {
    return absl::PermissionDeniedError(
        absl::StrCat("actor ", actor.actor_id().substr(0, 64), " lacks permission ", permission));
  }
  if (actor.tenant_id() != tenant_id && !operator_actor) {
    return absl::PermissionDeniedError(absl::StrCat(
        "actor ", actor.actor_id().substr(0, 64), " of tenant ", actor.tenant_id().substr(0, 64),
        " may not act on tenant ", tenant_id.substr(0, 64)));
  }
  return absl::OkStatus();
}

absl::Status Authorize(const grpc::ServerContextBase* context, const std::string& tenant_id,
                       const std::string& permission) {
  const auto& md = context->client_metadata();
  auto it = md.find(kActorMetadataKey);
  if (it == md.end()) return AuthorizeActor(nullptr, tenant_id, permission);
  const std::string value(it->second.data(), it->second.size());
  return AuthorizeActor(&value, tenant_id, permission);
}

void AttachActor(grpc::ClientContext* context, const common::v1::Actor& actor) {
  context->AddMetadata(kActorMetadataKey, actor.SerializeAsString());
}

}  // namespace shieldx::rpc
