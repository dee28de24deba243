// TenantConfig: one tenant's decision configuration as stored (the proto messages of
// shieldx.orchestrator.v1 config.proto), the input of the snapshot compiler (snapshot.h).
//
// The orchestrator's config store reads and writes it, the twin loads it through the
// ConfigService RPCs, and both compile it with the same code, so they decide identically.
// A TenantConfig is a plain value: copyable, no references to anything else.
#ifndef SHIELDX_LIBS_PIPELINE_TENANT_CONFIG_H_
#define SHIELDX_LIBS_PIPELINE_TENANT_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "shieldx/orchestrator/v1/config.pb.h"

namespace shieldx::pipeline {

namespace v1 = ::shieldx::orchestrator::v1;

// Bounds on one tenant's configuration (each also checked by the config API on write).
inline constexpr std::size_t kMaxSitesPerTenant = 1000;
inline constexpr std::size_t kMaxRoutesPerTenant = 10000;
inline constexpr std::size_t kMaxPoolsPerTenant = 1000;
inline constexpr std::size_t kMaxIpListsPerTenant = 1000;
inline constexpr std::size_t kMaxRuleSetsPerTenant = 1000;
inline constexpr std::size_t kMaxVersionsPerRuleSet = 500;
inline constexpr std::size_t kMaxHostnamesPerSite = 100;
inline constexpr std::size_t kMaxPoolMembers = 256;
inline constexpr std::size_t kMaxRateLimitsPerRoute = 16;
inline constexpr std::size_t kMaxIpListEntries = 100000;

// One rule set with its versions. `versions` may hold only the ACTIVE and SHADOW versions
// (what the snapshot needs) or all of them (what the config API needs).
struct RuleSetRecord {
  v1::RuleSet rule_set;
  double shadow_sample_rate = 0;  // share of traffic mirrored to the shadow version
  std::vector<v1::RuleSetVersion> versions;

  const v1::RuleSetVersion* FindVersion(int64_t version) const {
    for (const v1::RuleSetVersion& v : versions) {
      if (v.version() == version) return &v;
    }
    return nullptr;
  }
  v1::RuleSetVersion* FindVersion(int64_t version) {
    for (v1::RuleSetVersion& v : versions) {
      if (v.version() == version) return &v;
    }
    return nullptr;
  }
};

struct TenantConfig {
  std::string tenant_id;
  int64_t version = 0;  // the tenant's configuration version (0: never written)
  std::vector<v1::Site> sites;
  std::vector<v1::Route> routes;
  std::vector<v1::Pool> pools;
  std::vector<v1::IpList> ip_lists;
  std::vector<RuleSetRecord> rule_sets;
  v1::TenantSettings settings;  // defaults when never set

  const v1::Site* FindSite(const std::string& id) const;
  const v1::Pool* FindPool(const std::string& id) const;
  const v1::Pool* FindPoolByName(const std::string& name) const;
  const RuleSetRecord* FindRuleSet(const std::string& id) const;
  RuleSetRecord* FindRuleSet(const std::string& id);
};

}  // namespace shieldx::pipeline

#endif  // SHIELDX_LIBS_PIPELINE_TENANT_CONFIG_H_
