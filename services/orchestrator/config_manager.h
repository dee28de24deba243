// ConfigManager: the domain of the ConfigService — sites, routes, pools, IP lists, rule sets
// and their version lifecycle, tenant settings. No gRPC and no SQL: it works on
// pipeline::TenantConfig through a ConfigStore and returns config.proto messages.
//
// Every change is one ConfigStore::Update: the tenant's configuration is read, changed,
// validated (config_validate.h: errors name the object and field) and COMPILED exactly as the
// replicas will compile it; only a configuration that compiles is written, with a new version,
// in one transaction. Then the new version is announced (ChangeAnnouncer, e.g. Redis pub/sub).
// A delete that would leave a dangling reference (a route on a deleted pool, a rule naming a
// deleted list) fails with FailedPrecondition and changes nothing.
//
// Optimistic concurrency: updates and deletes carry the etag last read; a different etag
// fails with Aborted. Activation and rollback carry the version the caller believes active.
//
// Rule-set versions: DRAFT (created, immutable source) → SHADOW (mirrored next to the active
// one) → ACTIVE (one per rule set) → ARCHIVED (rollback target). A version whose source has
// errors stays DRAFT forever. Activation runs the version's embedded test cases (the `test`
// blocks of the source) and its RuleTestCase messages; any failure is FailedPrecondition
// "RULE_SET_TESTS_FAILED: ..." and nothing changes.
//
// Tenant isolation: every method takes the tenant id and only ever reads or writes that
// tenant's configuration; ids of another tenant are NotFound.
//
// Thread-safety: thread-safe (the store serialises writers of one tenant).
#ifndef SHIELDX_SERVICES_ORCHESTRATOR_CONFIG_MANAGER_H_
#define SHIELDX_SERVICES_ORCHESTRATOR_CONFIG_MANAGER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "libs/base/clock.h"
#include "libs/detect/inspector.h"
#include "services/orchestrator/config_store.h"
#include "services/orchestrator/config_validate.h"
#include "shieldx/common/v1/rules.pb.h"

namespace shieldx::orchestrator {

inline constexpr uint32_t kDefaultPageSize = 50;
inline constexpr uint32_t kMaxPageSize = 1000;
inline constexpr std::size_t kMaxRuleSourceBytes = 1024 * 1024;
inline constexpr std::size_t kMaxRuleTestCases = 1000;
inline constexpr std::size_t kMaxIpListModifications = 10000;

// Told about every committed change (e.g. publishes on Redis). Must not block for long.
class ChangeAnnouncer {
 public:
  virtual ~ChangeAnnouncer() = default;
  virtual void Announce(const std::string& tenant_id, int64_t version) = 0;
};

template <typename T>
struct Versioned {
  T value;
  int64_t config_version = 0;
};

struct PageRequest {
  uint32_t page_size = 0;
  std::string page_token;
};

template <typename T>
struct Listing {
  std::vector<T> items;
  std::string next_page_token;
};

struct RuleTestReport {
  bool passed = false;
  std::vector<common::v1::RuleTestResult> results;
};

struct Activation {
  v1::RuleSet rule_set;
  std::vector<common::v1::RuleTestResult> results;
  int64_t config_version = 0;
};

struct IpListModification {
  uint32_t entry_count = 0;
  std::string etag;
  int64_t config_version = 0;
};

class ConfigManager {
 public:
  // `announcer` may be null. `store` and `clock` must outlive the manager.
  ConfigManager(ConfigStore* store, Clock* clock, ChangeAnnouncer* announcer);
  ~ConfigManager();

  absl::StatusOr<Versioned<v1::Site>> CreateSite(const std::string& tenant, v1::Site site);
  absl::StatusOr<v1::Site> GetSite(const std::string& tenant, const std::string& id);
  absl::StatusOr<Listing<v1::Site>> ListSites(const std::string& tenant, const PageRequest& page);
  absl::StatusOr<Versioned<v1::Site>> UpdateSite(const std::string& tenant, const std::string& id,
                                                 const v1::Site& patch,
                                                 const std::vector<std::string>& mask);
  absl::StatusOr<int64_t> DeleteSite(const std::string& tenant, const std::string& id,
                                     const std::string& etag);

  absl::StatusOr<Versioned<v1::Route>> CreateRoute(const std::string& tenant, v1::Route route);
  absl::StatusOr<v1::Route> GetRoute(const std::string& tenant, const std::string& id);
  absl::StatusOr<Listing<v1::Route>> ListRoutes(const std::string& tenant, const PageRequest& page,
                                                const std::string& site_id);
  absl::StatusOr<Versioned<v1::Route>> UpdateRoute(const std::string& tenant, const std::string& id,
                                                   const v1::Route& patch,
                                                   const std::vector<std::string>& mask);
  absl::StatusOr<int64_t> DeleteRoute(const std::string& tenant, const std::string& id,
                                      const std::string& etag);

  absl::StatusOr<Versioned<v1::Pool>> CreatePool(const std::string& tenant, v1::Pool pool);
  absl::StatusOr<v1::Pool> GetPool(const std::string& tenant, const std::string& id);
  absl::StatusOr<Listing<v1::Pool>> ListPools(const std::string& tenant, const PageRequest& page);
  absl::StatusOr<Versioned<v1::Pool>> UpdatePool(const std::string& tenant, const std::string& id,
                                                 const v1::Pool& patch,
                                                 const std::vector<std::string>& mask);
  absl::StatusOr<int64_t> DeletePool(const std::string& tenant, const std::string& id,
                                     const std::string& etag);

  absl::StatusOr<Versioned<v1::IpList>> CreateIpList(const std::string& tenant, v1::IpList list);
  absl::StatusOr<v1::IpList> GetIpList(const std::string& tenant, const std::string& id);
  absl::StatusOr<Listing<v1::IpList>> ListIpLists(const std::string& tenant,
                                                  const PageRequest& page,
                                                  v1::IpListPurpose purpose);
  absl::StatusOr<Versioned<v1::IpList>> UpdateIpList(const std::string& tenant,
                                                     const std::string& id, const v1::IpList& patch,
                                                     const std::vector<std::string>& mask);
  absl::StatusOr<int64_t> DeleteIpList(const std::string& tenant, const std::string& id,
                                       const std::string& etag);
  absl::StatusOr<IpListModification> ModifyIpListEntries(
      const std::string& tenant, const std::string& id,
      const std::vector<v1::IpListEntry>& additions, const std::vector<std::string>& removals);

  absl::StatusOr<v1::RuleSet> CreateRuleSet(const std::string& tenant, v1::RuleSet rule_set);
  absl::StatusOr<v1::RuleSet> GetRuleSet(const std::string& tenant, const std::string& id);
  absl::StatusOr<Listing<v1::RuleSet>> ListRuleSets(const std::string& tenant,
                                                    const PageRequest& page);
  absl::StatusOr<v1::RuleSetVersion> CreateRuleSetVersion(
      const std::string& tenant, const std::string& rule_set_id, const std::string& source,
      const std::vector<common::v1::RuleTestCase>& test_cases, const std::string& change_note,
      const std::string& created_by);
  absl::StatusOr<v1::RuleSetVersion> GetRuleSetVersion(const std::string& tenant,
                                                       const std::string& rule_set_id,
                                                       int64_t version);
  absl::StatusOr<Listing<v1::RuleSetVersion>> ListRuleSetVersions(
      const std::string& tenant, const std::string& rule_set_id,
      const std::vector<v1::RuleSetVersionState>& states, const PageRequest& page);
  absl::StatusOr<Versioned<v1::RuleSet>> ShadowRuleSetVersion(const std::string& tenant,
                                                              const std::string& rule_set_id,
                                                              int64_t version, double sample_rate);
  absl::StatusOr<Activation> ActivateRuleSet(const std::string& tenant,
                                             const std::string& rule_set_id, int64_t version,
                                             int64_t expected_active_version);
  absl::StatusOr<Versioned<v1::RuleSet>> RollbackRuleSet(const std::string& tenant,
                                                         const std::string& rule_set_id,
                                                         int64_t to_version,
                                                         int64_t expected_active_version);
  absl::StatusOr<v1::RuleSetVersion> ArchiveRuleSetVersion(const std::string& tenant,
                                                           const std::string& rule_set_id,
                                                           int64_t version);
  absl::StatusOr<RuleTestReport> TestRuleSet(const std::string& tenant,
                                             const std::string& rule_set_id, int64_t version,
                                             const std::vector<common::v1::RuleTestCase>& extra);

  absl::StatusOr<v1::TenantSettings> GetTenantSettings(const std::string& tenant);
  absl::StatusOr<Versioned<v1::TenantSettings>> UpdateTenantSettings(
      const std::string& tenant, const v1::TenantSettings& patch,
      const std::vector<std::string>& mask);

  // The tenant's newest stored configuration version.
  absl::StatusOr<int64_t> StoredVersion(const std::string& tenant);

 private:
  // One read-modify-write: `mutate`, then validate and compile, then store and announce.
  absl::StatusOr<int64_t> Change(const std::string& tenant,
                                 const std::function<absl::Status(TenantConfig&)>& mutate,
                                 bool deleting = false);
  absl::StatusOr<TenantConfig> Read(const std::string& tenant);
  // Runs the version's embedded tests and its RuleTestCase messages (plus `extra`).
  absl::StatusOr<RuleTestReport> RunTests(const TenantConfig& config,
                                          const v1::RuleSetVersion& version,
                                          const std::vector<common::v1::RuleTestCase>& extra);
  std::string NewId(const char* prefix);
  std::string NewEtag();

  template <typename T>
  absl::StatusOr<Versioned<T>> CreateObject(const std::string& tenant, T object);
  template <typename T>
  absl::StatusOr<T> GetObject(const std::string& tenant, const std::string& id);
  template <typename T>
  absl::StatusOr<Versioned<T>> UpdateObject(const std::string& tenant, const std::string& id,
                                            const T& patch, const std::vector<std::string>& mask);
  template <typename T>
  absl::StatusOr<int64_t> DeleteObject(const std::string& tenant, const std::string& id,
                                       const std::string& etag);

  ConfigStore* const store_;
  Clock* const clock_;
  ChangeAnnouncer* const announcer_;
  std::unique_ptr<detect::Inspector> inspector_;  // for RuleTestCase requests (medium)
  absl::Mutex rng_mu_;
  uint64_t rng_state_ ABSL_GUARDED_BY(rng_mu_);
};

// Checks a tenant id from a request: 1..64 of [A-Za-z0-9_-]. InvalidArgument naming the field.
absl::Status ValidateTenantId(const std::string& tenant_id);

}  // namespace shieldx::orchestrator

#endif  // SHIELDX_SERVICES_ORCHESTRATOR_CONFIG_MANAGER_H_
