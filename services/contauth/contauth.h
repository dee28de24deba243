// ContAuth: the contauth domain — telemetry intake, per-user models, session risk, decisions,
// challenge feedback, policies and privacy operations. No gRPC, no SQL: it talks to a
// ContAuthStore, a RiskPublisher, a ProfileCipher and (optionally) a GeoLookup given to it.
//
// Tenants: a tenant is known to contauth once its policy has been stored (UpdatePolicy is how
// a tenant enables continuous authentication). Every operation except GetPolicy/UpdatePolicy
// on an unknown tenant fails with NotFound naming it. Ids must match types.h ValidateId.
//
// Ingest (one batch of one session):
//   1. ValidateBatch (InvalidArgument naming the field), tenant known;
//   2. features are extracted (keystroke vectors, pointer / touch statistics, the context
//      observation with geo) and the raw events dropped;
//   3. under the store's per-user lock: the sealed profile and session are opened; a batch
//      whose batch_sequence the session already applied is acknowledged (duplicate = true)
//      and changes nothing; otherwise keystroke samples enroll (phase ENROLL while enrolling
//      or after a passed challenge; AUTO while the text has fewer than min_enroll_samples
//      vectors) or are scored (PROBE never changes the profile; AUTO probes that are
//      confidently accepted update the template, the rest are kept in the session for a
//      possible challenge pass); pointer / touch enroll for kMinMotionEnrollBatches batches,
//      then are scored and folded in only when they match (score <= 0.3); context is
//      evaluated and learned while enrolling or when the resulting risk is below the
//      tenant's challenge band; the session risk is fused (risk.h) and recorded as a
//      decision — all written in one atomic step;
//   4. after commit the risk is published (risk_publisher.h) and metrics recorded. A failed
//      publish is counted and logged, not returned: the decision is stored and GetDecision /
//      Score still answer.
// Score: the session's evidence plus optional probe samples (never enrolled) and the request
// context, fused and recorded as a decision; reads the profile through a version-checked
// cache of compiled models and a per-tenant background.
// Tenant background (the other users' templates and per-user discriminants; building one
// costs ~0.5 s for 50 users): never built on the request path. Ingest and Score use the
// tenant's cached background as it is; when it is older than background_refresh (or was
// built for another min_enroll_samples) the call still uses it and schedules a rebuild on
// this object's one background worker. A tenant without a background yet (first calls after
// start, or a changed min_enroll_samples) is scored genuine-only — the cohort, UBM and
// linear-discriminant terms are skipped, exactly as the model does for a tenant with too few
// users — and a build is scheduled; later calls use it once built. Rebuilds are deduplicated
// (at most one queued or running per tenant) and the queue holds at most
// background_queue_capacity tenants: when full the rebuild is skipped (counted) and a later
// call schedules it again. A failed rebuild (store error) keeps the previous background and
// is not retried for background_retry. RefreshBackground builds synchronously (tests, warm-up).
// ReportChallengeOutcome: PASSED folds the session's pending keystroke vectors into the
// profile, learns the session's context and adds -3 log-odds to the session's risk; FAILED
// adds +2.5 and ABANDONED / EXPIRED +1 (capped at +6). Exactly once per idempotency key.
//
// Thread-safety: thread-safe; all methods may be called concurrently. Locks: cache_mu_
// (policy, user and background caches; held only for map look-ups and swaps, never across
// store calls or model fits), rebuild_mu_ (the rebuild queue and worker state), models_mu_;
// no two are ever held at once. Lifetime: Stop() (or the destructor) stops the worker: queued
// rebuilds are dropped and a running one is waited for (it finishes its store reads first),
// so no rebuild touches this object after Stop returns. Calls made after Stop still answer,
// with whatever background is cached, and schedule nothing.
#ifndef SHIELDX_SERVICES_CONTAUTH_CONTAUTH_H_
#define SHIELDX_SERVICES_CONTAUTH_CONTAUTH_H_

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/base/clock.h"
#include "services/contauth/contauth_metrics.h"
#include "services/contauth/contauth_store.h"
#include "services/contauth/geoip.h"
#include "services/contauth/model/keystroke_model.h"
#include "services/contauth/profile_cipher.h"
#include "services/contauth/risk.h"
#include "services/contauth/risk_publisher.h"
#include "services/contauth/session_state.h"
#include "services/contauth/telemetry.h"
#include "services/contauth/types.h"
#include "services/contauth/user_model.h"

namespace shieldx::contauth {

struct ContAuthOptions {
  // A session's state is dropped this long after its last batch.
  absl::Duration session_ttl = absl::Hours(24);
  // Policies are re-read from the store at most this often per tenant (other replicas'
  // UpdatePolicy becomes visible within it; this replica's at once).
  absl::Duration policy_cache_ttl = absl::Seconds(5);
  // A tenant's keystroke background (other users' templates) older than this is rebuilt in
  // the background (the request that finds it stale does not wait).
  absl::Duration background_refresh = absl::Minutes(5);
  // After a failed rebuild (store error) the tenant's next rebuild waits this long.
  absl::Duration background_retry = absl::Seconds(30);
  // Tenants whose rebuild may wait in the worker's queue; beyond, rebuilds are skipped.
  std::size_t background_queue_capacity = 256;
  // Compiled user models kept in memory (arbitrary eviction beyond).
  std::size_t max_cached_users = 10000;
  // Retention of decisions of tenants without a stored policy (sweeper).
  uint32_t default_retention_days = 30;
  // Rows deleted per sweep per kind.
  std::size_t sweep_batch = 1000;
  // Decisions returned by ExportProfile (newest first).
  std::size_t max_export_decisions = 10000;
  // Scoring configuration of the keystroke model (min_enroll_samples and bands come from the
  // tenant's policy).
  KeystrokeModelConfig keystroke;
};

struct SampleScoreResult {
  std::string sample_id;
  double score = 0;
};

struct IngestResult {
  uint32_t accepted_count = 0;
  bool duplicate = false;
  std::vector<SampleScoreResult> sample_scores;
  Decision risk;
};

struct ScoreInput {
  std::string tenant_id;
  std::string session_id;
  std::string user_id;
  std::vector<KeystrokeInput> probes;
  bool has_context = false;
  AccessContext context;
};

struct ScoreResult {
  Decision risk;
  std::vector<SampleScoreResult> sample_scores;
};

struct ChallengeInput {
  std::string tenant_id;
  std::string session_id;
  std::string decision_id;
  ChallengeKind kind = ChallengeKind::kUnspecified;
  ChallengeOutcome outcome = ChallengeOutcome::kUnspecified;
  std::string idempotency_key;
};

struct ModalityEnrollment {
  Modality modality = Modality::kUnspecified;
  bool enrolled = false;
  uint32_t sample_count = 0;
  uint32_t required_sample_count = 0;
  absl::Time updated_at = absl::UnixEpoch();
};

struct ProfileSummary {
  std::string user_id;
  std::vector<ModalityEnrollment> enrollments;
  uint32_t known_device_count = 0;
  uint32_t known_network_count = 0;
  std::vector<std::string> countries;
  std::string key_id;
  absl::Time created_at = absl::UnixEpoch();
  absl::Time updated_at = absl::UnixEpoch();
};

struct ProfileExport {
  ProfileSummary profile;
  std::vector<FeatureVector> feature_vectors;
  std::vector<Decision> decisions;
  std::vector<std::string> device_ids;
  std::vector<std::string> networks;
};

struct DeleteResult {
  uint32_t deleted_feature_vectors = 0;
  uint32_t deleted_decisions = 0;
};

// Counts of background rebuilds since construction (also exported as metrics).
struct BackgroundRebuildStats {
  uint64_t built = 0;
  uint64_t failed = 0;
  uint64_t skipped = 0;  // queue full
};

class ContAuth {
 public:
  // Pointers must outlive this object; `geo` may be null (no geo database); `metrics` may be
  // null. Starts the background-rebuild worker thread. REQUIRES: options.keystroke.Validate()
  // .ok(), options.background_queue_capacity > 0.
  ContAuth(ContAuthStore* store, RiskPublisher* publisher, const ProfileCipher* cipher,
           const GeoLookup* geo, Clock* clock, ContAuthMetrics* metrics, ContAuthOptions options);
  // Stop(), then destruction.
  ~ContAuth();
  ContAuth(const ContAuth&) = delete;
  ContAuth& operator=(const ContAuth&) = delete;

  // Stops the background worker: drops queued rebuilds, waits for a running one. Idempotent.
  void Stop();

  absl::StatusOr<IngestResult> Ingest(const TelemetryBatch& batch);
  absl::StatusOr<ScoreResult> Score(const ScoreInput& input);
  // The session's latest unexpired decision; NotFound when there is none.
  absl::StatusOr<Decision> GetDecision(const std::string& tenant, const std::string& session);
  absl::StatusOr<Decision> ReportChallengeOutcome(const ChallengeInput& input);
  // NotFound when nothing is stored about the user.
  absl::StatusOr<ProfileSummary> GetProfileSummary(const std::string& tenant,
                                                   const std::string& user);
  // Deletes profile, sessions (and their published risk), decisions and challenge records.
  // Deleting a user with nothing stored succeeds with zero counts.
  absl::StatusOr<DeleteResult> DeleteProfile(const std::string& tenant, const std::string& user);
  // NotFound when nothing is stored about the user.
  absl::StatusOr<ProfileExport> ExportProfile(const std::string& tenant, const std::string& user);
  // The stored policy, or the defaults (version 0) when never set.
  absl::StatusOr<Policy> GetPolicy(const std::string& tenant);
  // Validates and stores; `expected_version` is the etag last read (0: none stored yet).
  // Aborted when it is stale.
  absl::StatusOr<Policy> UpdatePolicy(const std::string& tenant, const Policy& policy,
                                      int64_t expected_version);
  // One retention pass (the sweeper calls it periodically).
  absl::StatusOr<SweepResult> Sweep();
  // Builds the tenant's background now, on the calling thread, and caches it (warm-up and
  // tests). NotFound for an unknown tenant; the store's error when listing profiles fails
  // (the cached background is then kept).
  absl::Status RefreshBackground(const std::string& tenant);
  BackgroundRebuildStats background_rebuild_stats() const;
  // True once no rebuild is queued or running (false when `timeout` passed first). Tests and
  // warm-up use it; a concurrent call may schedule a new rebuild right after.
  bool WaitForBackgroundIdle(absl::Duration timeout);

 private:
  struct CachedUser {
    int64_t version = 0;
    uint32_t min_enroll = 0;
    UserModel model;
    std::shared_ptr<const CompiledProfile> compiled;
  };
  struct CachedPolicy {
    Policy policy;
    int64_t fetched_nanos = 0;
  };
  struct CachedBackground {
    uint32_t min_enroll = 0;
    int64_t built_nanos = 0;                             // monotonic time the build started
    std::shared_ptr<const TenantBackground> background;  // null until the first build
    int64_t retry_after_nanos = 0;  // no rebuild is scheduled before (after a failure)
  };
  struct RebuildJob {
    std::string tenant;
    uint32_t min_enroll = 0;
  };

  absl::StatusOr<Policy> RequireTenant(const std::string& tenant);
  const KeystrokeModel& ModelFor(uint32_t min_enroll);
  absl::StatusOr<std::shared_ptr<const CachedUser>> LoadUser(const std::string& tenant,
                                                             const std::string& user,
                                                             uint32_t min_enroll);
  void CacheUser(const std::string& tenant, const std::string& user,
                 std::shared_ptr<const CachedUser> entry);
  void ForgetUser(const std::string& tenant, const std::string& user);
  // The tenant's cached background for `min_enroll` (null when there is none), scheduling a
  // rebuild when it is missing or stale. Never blocks on a rebuild.
  std::shared_ptr<const TenantBackground> Background(const std::string& tenant,
                                                     uint32_t min_enroll);
  void ScheduleRebuild(const std::string& tenant, uint32_t min_enroll);
  // Lists the tenant's enrolled profiles, fits the background and caches it.
  absl::Status BuildBackground(const std::string& tenant, uint32_t min_enroll);
  void RebuildLoop();
  bool RebuildWorkReady() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(rebuild_mu_);
  bool RebuildIdle() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(rebuild_mu_);
  absl::StatusOr<UserModel> OpenProfile(const ProfileRow& row) const;
  absl::StatusOr<SessionState> OpenSession(const SessionRow& row) const;
  Decision MakeDecision(const std::string& tenant, const std::string& session,
                        const std::string& user, const Policy& policy,
                        const std::vector<Evidence>& evidence,
                        const std::vector<RiskReason>& context_reasons, double challenge_logit,
                        bool enrolled) const;
  void Publish(const Decision& d);

  ContAuthStore* const store_;
  RiskPublisher* const publisher_;
  const ProfileCipher* const cipher_;
  const GeoLookup* const geo_;
  Clock* const clock_;
  ContAuthMetrics* const metrics_;
  const ContAuthOptions options_;

  absl::Mutex models_mu_;
  std::map<uint32_t, std::unique_ptr<KeystrokeModel>> models_ ABSL_GUARDED_BY(models_mu_);
  absl::Mutex cache_mu_;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<const CachedUser>> users_
      ABSL_GUARDED_BY(cache_mu_);
  std::map<std::string, CachedPolicy> policies_ ABSL_GUARDED_BY(cache_mu_);
  std::map<std::string, CachedBackground> backgrounds_ ABSL_GUARDED_BY(cache_mu_);

  mutable absl::Mutex rebuild_mu_;
  std::deque<RebuildJob> rebuild_queue_ ABSL_GUARDED_BY(rebuild_mu_);
  std::set<std::string> rebuild_pending_ ABSL_GUARDED_BY(rebuild_mu_);  // queued or running
  bool stopping_ ABSL_GUARDED_BY(rebuild_mu_) = false;
  std::atomic<uint64_t> rebuilds_built_{0};
  std::atomic<uint64_t> rebuilds_failed_{0};
  std::atomic<uint64_t> rebuilds_skipped_{0};
  absl::Mutex stop_mu_;         // serialises joining the worker
  std::thread rebuild_worker_;  // last member: started after everything it uses
};

// A new random decision id "d-<32 hex digits>".
std::string NewDecisionId();

}  // namespace shieldx::contauth

#endif  // SHIELDX_SERVICES_CONTAUTH_CONTAUTH_H_
