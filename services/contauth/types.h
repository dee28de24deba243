// Domain types of the contauth service shared by the domain, the stores and the gRPC adapter:
// modalities, actions, the tenant policy, session risk (a decision) and its reasons. No gRPC,
// no SQL. Enum values equal the proto's numbers (contauth.proto) so the adapter casts.
//
// Thread-safety: plain value types.
#ifndef SHIELDX_SERVICES_CONTAUTH_TYPES_H_
#define SHIELDX_SERVICES_CONTAUTH_TYPES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace shieldx::contauth {

enum class Modality : int {
  kUnspecified = 0,
  kKeystrokeFixed = 1,
  kKeystrokeFree = 2,
  kPointer = 3,
  kTouch = 4,
  kContext = 5,
};
inline constexpr int kModalityCount = 6;  // index by static_cast<int>(Modality)
absl::string_view ModalityName(Modality m);

enum class Action : int {
  kUnspecified = 0,
  kAllow = 1,
  kMonitor = 2,
  kChallenge = 3,
  kDeny = 4,
};
// "allow", "monitor", "challenge", "deny", "unspecified" (metric labels, the Redis value).
absl::string_view ActionName(Action a);

enum class ChallengeKind : int {
  kUnspecified = 0,
  kOtp = 1,
  kWebAuthn = 2,
  kPassword = 3,
  kPush = 4
};
enum class ChallengeOutcome : int {
  kUnspecified = 0,
  kPassed = 1,
  kFailed = 2,
  kAbandoned = 3,
  kExpired = 4,
};
absl::string_view ChallengeOutcomeName(ChallengeOutcome o);

// A tenant's decision bands and retention (ContAuthPolicy). Risk < monitor_at: ALLOW;
// < challenge_at: MONITOR; < deny_at: CHALLENGE; otherwise DENY.
struct Policy {
  double monitor_at = 0.5;
  double challenge_at = 0.7;
  double deny_at = 0.9;
  int64_t decision_ttl_ms = 5 * 60 * 1000;
  uint32_t decision_retention_days = 30;
  uint32_t min_enroll_samples = 10;
  // Optimistic-concurrency version; 0 = never stored (defaults). The etag is its decimal form.
  int64_t version = 0;

  // InvalidArgument naming the field and the numbers (bands out of [0,1] or out of order, TTL
  // outside [1 s, 1 day], retention outside [1, 3650] days, min_enroll_samples outside
  // [3, 256]).
  absl::Status Validate() const;
  Action ActionFor(double risk) const;
};

// Limits of Policy fields (also enforced by the database's CHECK constraints).
inline constexpr int64_t kMinDecisionTtlMs = 1000;
inline constexpr int64_t kMaxDecisionTtlMs = 24LL * 3600 * 1000;
inline constexpr uint32_t kMaxRetentionDays = 3650;
inline constexpr uint32_t kMinEnrollSamplesFloor = 3;
inline constexpr uint32_t kMaxEnrollSamplesCeiling = 256;

struct ModalityScore {
  Modality modality = Modality::kUnspecified;
  double score = 0;       // [0, 1]; higher = less likely the claimed user
  double confidence = 0;  // [0, 1]
  uint32_t sample_count = 0;
};

struct RiskReason {
  std::string code;  // stable: "KEYSTROKE_MISMATCH", "NEW_DEVICE", ...
  Modality modality = Modality::kUnspecified;
  std::string description;
  double weight = 0;  // contribution used for ordering (not exported)
};

// One decision: the risk of a session at a moment, as stored and published.
struct Decision {
  std::string decision_id;
  std::string tenant_id;
  std::string session_id;
  std::string user_id;
  double risk = 0;
  double confidence = 0;
  Action action = Action::kUnspecified;
  std::vector<ModalityScore> modality_scores;
  std::vector<RiskReason> reasons;  // most important first
  bool enrolled = false;
  absl::Time decided_at = absl::UnixEpoch();
  absl::Time expires_at = absl::UnixEpoch();
};

// Identifier rules for tenant, session, user and decision ids: 1..kMaxIdBytes bytes of
// [A-Za-z0-9._:@+/=-]. InvalidArgument naming `field` otherwise.
inline constexpr std::size_t kMaxIdBytes = 128;
absl::Status ValidateId(absl::string_view field, absl::string_view value);

}  // namespace shieldx::contauth

#endif  // SHIELDX_SERVICES_CONTAUTH_TYPES_H_
