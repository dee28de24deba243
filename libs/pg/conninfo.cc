#include "libs/pg/conninfo.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace shieldx::pg {

std::string WithConnInfoParam(const std::string& conninfo, const std::string& key,
                              const std::string& value) {
  if (absl::StrContains(conninfo, key + "=")) return conninfo;
  if (absl::StartsWith(conninfo, "postgresql://") || absl::StartsWith(conninfo, "postgres://")) {
    const char* sep = absl::StrContains(conninfo, "?") ? "&" : "?";
    return absl::StrCat(conninfo, sep, key, "=", value);
  }
  return absl::StrCat(conninfo, conninfo.empty() ? "" : " ", key, "=", value);
}

}  // namespace shieldx::pg
