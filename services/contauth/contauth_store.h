// ContAuthStore: where contauth keeps tenant policies, sealed user profiles, sealed session
// state, decisions and challenge outcomes. Implementations: PostgresContAuthStore (production)
// and InMemoryContAuthStore (tests, benchmarks). The store sees only sealed bytes for
// profiles and sessions (ProfileCipher); it never decrypts.
//
// Every method is keyed by tenant: no method reads or writes another tenant's rows.
//
// Concurrency contract (what makes concurrent ingestion lose no update): UpdateUser() runs
// `fn` while holding an exclusive per-(tenant, user) lock, reading the current rows inside the
// lock and writing fn's result in the same atomic step; concurrent UpdateUser calls for one
// user are serialised. `fn` may run more than once (a retried transaction), so it must be a
// pure function of its inputs.
//
// Errors: Unavailable when the backing store is unreachable; Aborted when a write lost an
// optimistic-version race that retries did not resolve; AlreadyExists for a duplicate
// challenge idempotency key; the method comments name the rest.
//
// Thread-safety: implementations are thread-safe.
#ifndef SHIELDX_SERVICES_CONTAUTH_CONTAUTH_STORE_H_
#define SHIELDX_SERVICES_CONTAUTH_CONTAUTH_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/contauth/types.h"

namespace shieldx::contauth {

struct ProfileRow {
  std::string tenant_id;
  std::string user_id;
  int64_t version = 0;  // incremented by every write; 0 = not stored yet
  std::string key_id;
  std::string sealed;
  bool keystroke_enrolled = false;  // a fixed text is ready (the row can join the background)
  absl::Time created_at = absl::UnixEpoch();
  absl::Time updated_at = absl::UnixEpoch();
};

struct SessionRow {
  std::string tenant_id;
  std::string session_id;
  std::string user_id;
  int64_t version = 0;
  std::string key_id;
  std::string sealed;
  absl::Time updated_at = absl::UnixEpoch();
  absl::Time expires_at = absl::UnixEpoch();
};

struct ChallengeRecord {
  std::string tenant_id;
  std::string idempotency_key;
  std::string decision_id;         // the decision that asked for the challenge
  std::string result_decision_id;  // the decision made after applying the outcome
  std::string session_id;
  std::string user_id;
  ChallengeKind kind = ChallengeKind::kUnspecified;
  ChallengeOutcome outcome = ChallengeOutcome::kUnspecified;
  absl::Time recorded_at = absl::UnixEpoch();
};

// What UpdateUser writes. Rows carry the version they were read at (0 when new); the store
// writes them with version + 1.
struct UserMutation {
  std::optional<ProfileRow> profile;
  std::optional<SessionRow> session;
  std::optional<Decision> decision;
  std::optional<ChallengeRecord> challenge;
};

struct ProfileLookup {
  bool exists = false;
  bool unchanged = false;  // exists and its version equals the caller's known version
  ProfileRow row;          // filled when exists && !unchanged
};

struct DeletedUser {
  bool profile_existed = false;
  std::string profile_sealed;  // the deleted profile (for counting what was deleted)
  uint32_t decisions = 0;
  uint32_t challenges = 0;
  std::vector<std::string> session_ids;
};

struct SweepResult {
  uint32_t decisions = 0;
  uint32_t sessions = 0;
  uint32_t challenges = 0;
};

class ContAuthStore {
 public:
  virtual ~ContAuthStore() = default;

  // The tenant's stored policy, or nullopt when none was ever stored (the tenant is unknown).
  virtual absl::StatusOr<std::optional<Policy>> GetPolicy(const std::string& tenant) = 0;
  // Stores `policy` if the stored version equals `expected_version` (0: none stored yet) and
  // returns it with its new version. Aborted naming both versions otherwise.
  virtual absl::StatusOr<Policy> PutPolicy(const std::string& tenant, const Policy& policy,
                                           int64_t expected_version) = 0;

  using UpdateFn = absl::FunctionRef<absl::StatusOr<UserMutation>(
      const std::optional<ProfileRow>& profile, const std::optional<SessionRow>& session)>;
  // Locks (tenant, user), reads the user's profile and the session (the session may belong
  // to another user: fn must check), calls fn, writes what it returns, atomically. An error
  // from fn is returned unchanged and nothing is written. `session` may be empty (no session
  // row is read).
  virtual absl::Status UpdateUser(const std::string& tenant, const std::string& user,
                                  const std::string& session, UpdateFn fn) = 0;

  // The profile unless its version equals `known_version` (pass -1 to always read).
  virtual absl::StatusOr<ProfileLookup> GetProfile(const std::string& tenant,
                                                   const std::string& user,
                                                   int64_t known_version) = 0;
  // Up to `limit` profiles of the tenant with keystroke_enrolled, most recently updated first.
  virtual absl::StatusOr<std::vector<ProfileRow>> ListEnrolledProfiles(const std::string& tenant,
                                                                       std::size_t limit) = 0;
  virtual absl::StatusOr<std::optional<SessionRow>> GetSession(const std::string& tenant,
                                                               const std::string& session) = 0;

  virtual absl::Status InsertDecision(const Decision& decision) = 0;
  // The session's most recent decision with expires_at > now, or nullopt.
  virtual absl::StatusOr<std::optional<Decision>> LatestDecision(const std::string& tenant,
                                                                 const std::string& session,
                                                                 absl::Time now) = 0;
  virtual absl::StatusOr<std::optional<Decision>> GetDecision(const std::string& tenant,
                                                              const std::string& decision_id) = 0;
  // The user's retained decisions, newest first, at most `limit`.
  virtual absl::StatusOr<std::vector<Decision>> ListUserDecisions(const std::string& tenant,
                                                                  const std::string& user,
                                                                  std::size_t limit) = 0;

  virtual absl::StatusOr<std::optional<ChallengeRecord>> GetChallenge(
      const std::string& tenant, const std::string& idempotency_key) = 0;

  // Deletes the user's profile, sessions, decisions and challenge records.
  virtual absl::StatusOr<DeletedUser> DeleteUser(const std::string& tenant,
                                                 const std::string& user) = 0;

  // Deletes decisions and challenge records older than their tenant's retention
  // (`default_retention_days` for tenants without a policy) and sessions past expires_at, at
  // most `limit` rows of each kind per call.
  virtual absl::StatusOr<SweepResult> Sweep(absl::Time now, uint32_t default_retention_days,
                                            std::size_t limit) = 0;
};

}  // namespace shieldx::contauth

#endif  // SHIELDX_SERVICES_CONTAUTH_CONTAUTH_STORE_H_
