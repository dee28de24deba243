#include "services/orchestrator/in_memory_config_store.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace shieldx::orchestrator {

namespace {

namespace v1 = ::shieldx::orchestrator::v1;

void KeepLiveVersions(TenantConfig& c) {
  for (pipeline::RuleSetRecord& rs : c.rule_sets) {
    std::vector<v1::RuleSetVersion> live;
    for (v1::RuleSetVersion& v : rs.versions) {
      if (v.state() == v1::RULE_SET_VERSION_STATE_ACTIVE ||
          v.state() == v1::RULE_SET_VERSION_STATE_SHADOW) {
        live.push_back(std::move(v));
      }
    }
    rs.versions = std::move(live);
  }
}

}  // namespace

absl::Status InMemoryConfigStore::Check() const {
  if (unavailable_.load()) return absl::UnavailableError("config store: unavailable (injected)");
  return absl::OkStatus();
}

absl::StatusOr<TenantConfig> InMemoryConfigStore::Load(const std::string& tenant_id,
                                                       const LoadOptions& options) {
  if (absl::Status s = Check(); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  TenantConfig c;
  auto it = tenants_.find(tenant_id);
  if (it != tenants_.end()) {
    c = it->second;
  } else {
    c.tenant_id = tenant_id;
  }
  if (options.live_versions_only) KeepLiveVersions(c);
  return c;
}

absl::StatusOr<int64_t> InMemoryConfigStore::Update(
    const std::string& tenant_id, const std::function<absl::Status(TenantConfig& config)>& mutate) {
  if (absl::Status s = Check(); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  TenantConfig c;
  auto it = tenants_.find(tenant_id);
  if (it != tenants_.end()) {
    c = it->second;
  } else {
    c.tenant_id = tenant_id;
  }
  if (absl::Status s = mutate(c); !s.ok()) return s;
  // Hostnames are unique across tenants.
  for (const v1::Site& site : c.sites) {
    for (const std::string& h : site.hostnames()) {
      const std::string host = absl::AsciiStrToLower(h);
      for (const auto& [other_id, other] : tenants_) {
        if (other_id == tenant_id) continue;
        for (const v1::Site& os : other.sites) {
          for (const std::string& oh : os.hostnames()) {
            if (absl::AsciiStrToLower(oh) == host) {
              return absl::AlreadyExistsError(
                  absl::StrCat("site.hostnames: \"", h, "\" is already used by another tenant"));
            }
          }
        }
      }
    }
  }
  c.tenant_id = tenant_id;
  c.version = ++sequence_;
  tenants_[tenant_id] = std::move(c);
  return sequence_;
}

int64_t InMemoryConfigStore::PutRaw(TenantConfig config) {
  absl::MutexLock lock(&mu_);
  config.version = ++sequence_;
  tenants_[config.tenant_id] = std::move(config);
  return sequence_;
}

absl::StatusOr<int64_t> InMemoryConfigStore::LatestVersion() {
  if (absl::Status s = Check(); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  return sequence_;
}

absl::StatusOr<std::map<std::string, int64_t>> InMemoryConfigStore::ChangedSince(int64_t after) {
  if (absl::Status s = Check(); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  std::map<std::string, int64_t> out;
  for (const auto& [id, c] : tenants_) {
    if (c.version > after) out[id] = c.version;
  }
  return out;
}

}  // namespace shieldx::orchestrator
