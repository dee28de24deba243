// PostgresContAuthStore: ContAuthStore on PostgreSQL (schema: migrations/0001_contauth.sql).
//
// UpdateUser runs one READ COMMITTED transaction that first takes
// pg_advisory_xact_lock(hashtextextended('contauth-user:' || tenant || '/' || user, 0)), so
// every writer of one user — replicas included — is serialised even before the user's first
// row exists; rows are then read, `fn` runs, and the writes are applied with an optimistic
// version check (UPDATE ... WHERE version = read version; a miss is Aborted and retried by
// RunInTransaction). Sealed bytes cross the wire hex-encoded; timestamps as Unix
// microseconds. libpqxx exceptions never escape (pg::StatusFromPqxx).
//
// Thread-safety: thread-safe (the pool hands each call its own connection).
#ifndef SHIELDX_SERVICES_CONTAUTH_POSTGRES_CONTAUTH_STORE_H_
#define SHIELDX_SERVICES_CONTAUTH_POSTGRES_CONTAUTH_STORE_H_

#include "libs/pg/pool.h"
#include "services/contauth/contauth_store.h"

namespace shieldx::contauth {

class PostgresContAuthStore final : public ContAuthStore {
 public:
  // `pool` must outlive the store.
  explicit PostgresContAuthStore(pg::PgPool* pool) : pool_(pool) {}

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

 private:
  pg::PgPool* pool_;
};

// The JSON of a decision's modality scores and reasons (the `details` column), and back.
std::string DecisionDetailsJson(const Decision& d);
absl::Status ParseDecisionDetails(const std::string& json, Decision* d);

}  // namespace shieldx::contauth

#endif  // SHIELDX_SERVICES_CONTAUTH_POSTGRES_CONTAUTH_STORE_H_
