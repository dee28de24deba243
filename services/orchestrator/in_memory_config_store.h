// InMemoryConfigStore: ConfigStore in process memory, for unit tests and the twin. Same
// semantics as the PostgreSQL store (versions, hostname uniqueness, all-or-nothing updates).
// Fault injection: set_unavailable(true) makes every call fail with Unavailable.
#ifndef SHIELDX_SERVICES_ORCHESTRATOR_IN_MEMORY_CONFIG_STORE_H_
#define SHIELDX_SERVICES_ORCHESTRATOR_IN_MEMORY_CONFIG_STORE_H_

#include <atomic>
#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "services/orchestrator/config_store.h"

namespace shieldx::orchestrator {

class InMemoryConfigStore : public ConfigStore {
 public:
  absl::StatusOr<TenantConfig> Load(const std::string& tenant_id,
                                    const LoadOptions& options) override;
  absl::StatusOr<int64_t> Update(
      const std::string& tenant_id,
      const std::function<absl::Status(TenantConfig& config)>& mutate) override;
  absl::StatusOr<int64_t> LatestVersion() override;
  absl::StatusOr<std::map<std::string, int64_t>> ChangedSince(int64_t after) override;

  // Replaces a tenant's stored configuration without any check (tests of broken configs).
  int64_t PutRaw(TenantConfig config);
  void set_unavailable(bool unavailable) { unavailable_.store(unavailable); }

 private:
  absl::Status Check() const;
  absl::Mutex mu_;
  std::map<std::string, TenantConfig> tenants_ ABSL_GUARDED_BY(mu_);
  int64_t sequence_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<bool> unavailable_{false};
};

}  // namespace shieldx::orchestrator

#endif  // SHIELDX_SERVICES_ORCHESTRATOR_IN_MEMORY_CONFIG_STORE_H_
