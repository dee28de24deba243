// InMemoryContAuthStore: ContAuthStore in process memory, for unit tests and benchmarks.
// Same contract as the PostgreSQL store (contauth_store.h): UpdateUser serialises per
// (tenant, user) with a per-user mutex and applies the mutation atomically; other calls take
// a short global lock. Nothing survives the process.
//
// Thread-safety: thread-safe.
#ifndef SHIELDX_SERVICES_CONTAUTH_IN_MEMORY_CONTAUTH_STORE_H_
#define SHIELDX_SERVICES_CONTAUTH_IN_MEMORY_CONTAUTH_STORE_H_

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "services/contauth/contauth_store.h"

namespace shieldx::contauth {

class InMemoryContAuthStore final : public ContAuthStore {
 public:
  absl::StatusOr<std::optional<Policy>> GetPolicy(const std::string& tenant) override;
  absl::StatusOr<Policy> PutPolicy(const std::string& tenant, const Policy& policy,
                                   int64_t expected_version) override;
  absl::Status UpdateUser(const std::string& tenant, const std::string& user,
                          const std::string& session, UpdateFn fn) override;
  absl::StatusOr<ProfileLookup> GetProfile(const std::string& tenant, const std::string& user,
                                           int64_t known_version) override;
  absl::StatusOr<std::vector<ProfileRow>> ListEnrolledProfiles(const std::string& tenant,
                                                               std::size_t limit) override;
  absl::StatusOr<std::optional<SessionRow>> GetSession(const std::string& tenant,
                                                       const std::string& session) override;
  absl::Status InsertDecision(const Decision& decision) override;
  absl::StatusOr<std::optional<Decision>> LatestDecision(const std::string& tenant,
                                                         const std::string& session,
                                                         absl::Time now) override;
  absl::StatusOr<std::optional<Decision>> GetDecision(const std::string& tenant,
                                                      const std::string& decision_id) override;
  absl::StatusOr<std::vector<Decision>> ListUserDecisions(const std::string& tenant,
                                                          const std::string& user,
                                                          std::size_t limit) override;
  absl::StatusOr<std::optional<ChallengeRecord>> GetChallenge(
      const std::string& tenant, const std::string& idempotency_key) override;
  absl::StatusOr<DeletedUser> DeleteUser(const std::string& tenant,
                                         const std::string& user) override;
  absl::StatusOr<SweepResult> Sweep(absl::Time now, uint32_t default_retention_days,
                                    std::size_t limit) override;

  // Test hook: every call fails with `status` while it is not OK (simulated outage).
  void SetFailure(absl::Status status);

 private:
  using Key = std::pair<std::string, std::string>;  // (tenant, id)
  absl::Status Failure() const;
  std::shared_ptr<absl::Mutex> UserLock(const Key& key);
  absl::Status InsertDecisionLocked(const Decision& d) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Policy> policies_ ABSL_GUARDED_BY(mu_);
  std::map<Key, ProfileRow> profiles_ ABSL_GUARDED_BY(mu_);
  std::map<Key, SessionRow> sessions_ ABSL_GUARDED_BY(mu_);
  std::map<Key, Decision> decisions_ ABSL_GUARDED_BY(mu_);  // (tenant, decision_id)
  std::map<Key, ChallengeRecord> challenges_ ABSL_GUARDED_BY(mu_);
  std::map<Key, std::shared_ptr<absl::Mutex>> user_locks_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shieldx::contauth

#endif  // SHIELDX_SERVICES_CONTAUTH_IN_MEMORY_CONTAUTH_STORE_H_
