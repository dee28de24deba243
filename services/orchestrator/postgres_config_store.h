// PostgresConfigStore: ConfigStore on PostgreSQL (migrations/0001_config.sql).
//
// Update(): one READ COMMITTED transaction that (1) creates the tenant's config_versions row if
// missing and locks it FOR UPDATE (serialising writers of one tenant), (2) loads the tenant's
// whole configuration, (3) runs the caller's mutation on a copy, (4) writes only what changed
// (upserts and deletes per object, in foreign-key order), (5) stores nextval of the global
// config_version_seq as the tenant's version. Serialization failures and deadlocks are retried
// by pg::RunInTransaction; every other error rolls everything back.
//
// Objects are stored as JSON of their proto messages (unknown fields ignored when read, so an
// older replica can read what a newer one wrote).
//
// Thread-safety: thread-safe (connections come from the pool per call).
#ifndef SHIELDX_SERVICES_ORCHESTRATOR_POSTGRES_CONFIG_STORE_H_
#define SHIELDX_SERVICES_ORCHESTRATOR_POSTGRES_CONFIG_STORE_H_

#include "libs/pg/pool.h"
#include "services/orchestrator/config_store.h"

namespace shieldx::orchestrator {

class PostgresConfigStore : public ConfigStore {
 public:
  explicit PostgresConfigStore(pg::PgPool* pool) : pool_(pool) {}

  absl::StatusOr<TenantConfig> Load(const std::string& tenant_id,
                                    const LoadOptions& options) override;
  absl::StatusOr<int64_t> Update(
      const std::string& tenant_id,
      const std::function<absl::Status(TenantConfig& config)>& mutate) override;
  absl::StatusOr<int64_t> LatestVersion() override;
  absl::StatusOr<std::map<std::string, int64_t>> ChangedSince(int64_t after) override;

 private:
  pg::PgPool* const pool_;
};

}  // namespace shieldx::orchestrator

#endif  // SHIELDX_SERVICES_ORCHESTRATOR_POSTGRES_CONFIG_STORE_H_
