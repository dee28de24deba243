// Reading PEM files for TLS (internal to libs/rpc).
#ifndef SHIELDX_LIBS_RPC_TLS_FILES_H_
#define SHIELDX_LIBS_RPC_TLS_FILES_H_

#include <string>

#include "absl/status/statusor.h"

namespace shieldx::rpc::internal {

// The contents of PEM file `path` (`what` names it in errors: "server certificate").
// InvalidArgument when unreadable, empty, not PEM, or larger than limits::kMaxSecretFileBytes.
absl::StatusOr<std::string> ReadPemFile(const std::string& path, const std::string& what);

}  // namespace shieldx::rpc::internal

#endif  // SHIELDX_LIBS_RPC_TLS_FILES_H_
