#include "libs/rpc/tls_files.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "libs/base/limits.h"

namespace shieldx::rpc::internal {

absl::StatusOr<std::string> ReadPemFile(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " file ", path, ": cannot open: ", std::strerror(errno)));
  }
  std::string data;
  char buf[4096];
  while (in.read(buf, sizeof(buf)) || in.gcount() > 0) {
    data.append(buf, static_cast<std::size_t>(in.gcount()));
    if (data.size() > limits::kMaxSecretFileBytes) {
      return absl::InvalidArgumentError(absl::StrCat(what, " file ", path, ": larger than ",
                                                     limits::kMaxSecretFileBytes, " bytes"));
    }
  }
  if (data.find("-----BEGIN ") == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " file ", path, ": no PEM block (", data.size(), " bytes)"));
  }
  return data;
}

}  // namespace shieldx::rpc::internal
