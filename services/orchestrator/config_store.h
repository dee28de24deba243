// ConfigStore: where tenants' decision configurations live (PostgreSQL in production,
// memory in tests). The domain (config_manager.h) reads a tenant's whole configuration,
// changes it, and hands it back; the store writes what changed and bumps the version in the
// same transaction.
//
// Versions: one global, strictly increasing sequence. Every committed change of a tenant
// takes the next value as the tenant's version, so `LatestVersion()` (the maximum) changes
// whenever any tenant changes and replicas can poll one number.
//
// Concurrency: Update() serialises writers of one tenant (row lock on the tenant's version
// row); writers of different tenants run in parallel. Hostnames are unique across tenants:
// a change claiming another tenant's hostname fails with AlreadyExists naming it.
//
// Thread-safety: implementations are thread-safe.
#ifndef SHIELDX_SERVICES_ORCHESTRATOR_CONFIG_STORE_H_
#define SHIELDX_SERVICES_ORCHESTRATOR_CONFIG_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/pipeline/tenant_config.h"

namespace shieldx::orchestrator {

using pipeline::TenantConfig;

struct LoadOptions {
  // True: only the ACTIVE and SHADOW rule-set versions (what a snapshot needs).
  bool live_versions_only = false;
};

class ConfigStore {
 public:
  virtual ~ConfigStore() = default;

  // The tenant's configuration (empty with version 0 when never written).
  virtual absl::StatusOr<TenantConfig> Load(const std::string& tenant_id,
                                            const LoadOptions& options) = 0;

  // Locks the tenant, loads its whole configuration (all rule-set versions), calls `mutate`
  // on a copy, and when `mutate` returns OK writes the differences and a new version, all in
  // one transaction. Returns the new version. `mutate` may run more than once (retried
  // conflicts) and must have no other effects. A non-OK status from `mutate` is returned and
  // nothing is written.
  virtual absl::StatusOr<int64_t> Update(
      const std::string& tenant_id,
      const std::function<absl::Status(TenantConfig& config)>& mutate) = 0;

  // The newest version of any tenant (0: none).
  virtual absl::StatusOr<int64_t> LatestVersion() = 0;
  // Tenants whose version is greater than `after`, with their versions.
  virtual absl::StatusOr<std::map<std::string, int64_t>> ChangedSince(int64_t after) = 0;
};

}  // namespace shieldx::orchestrator

#endif  // SHIELDX_SERVICES_ORCHESTRATOR_CONFIG_STORE_H_
