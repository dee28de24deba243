// SessionState: what contauth remembers about one live session between calls — the batch
// sequence numbers already applied, the running evidence per modality, the latest context
// reasons, and the features behind the last decision (kept so a passed challenge can fold
// them into the profile). Sealed with ProfileCipher before it is stored; expires with the
// session (config `session_ttl`).
//
// Thread-safety: plain value; pure functions.
#ifndef SHIELDX_SERVICES_CONTAUTH_SESSION_STATE_H_
#define SHIELDX_SERVICES_CONTAUTH_SESSION_STATE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/contauth/context_model.h"
#include "services/contauth/model/features.h"
#include "services/contauth/types.h"

namespace shieldx::contauth {

inline constexpr uint32_t kSessionFormatVersion = 1;
// Batch sequence numbers remembered per session; an older number than all of them counts as
// already applied (acknowledged, not applied again).
inline constexpr std::size_t kSequenceWindow = 128;
// Fixed-text vectors kept for a possible challenge pass.
inline constexpr std::size_t kMaxPendingVectors = 16;
inline constexpr std::size_t kMaxSessionReasons = 8;
inline constexpr std::size_t kMaxSessionBytes = 256 * 1024;

// Running evidence of one modality within the session: an exponentially weighted mean of the
// per-sample log-odds and confidence (recent behaviour dominates, a few samples add weight).
struct ModalityAccumulator {
  uint32_t samples = 0;
  double logit = 0;       // EWMA of logit(score)
  double confidence = 0;  // EWMA of per-sample confidence
  double last_score = 0;

  // Adds one scored sample. `score` is clipped to [0.001, 0.999] before the logit.
  void Add(double score, double sample_confidence);
  double Score() const;                // sigmoid(logit), 0.5 without samples
  double EffectiveConfidence() const;  // confidence * samples / (samples + 1)
};

struct SessionState {
  std::string user_id;
  std::vector<uint64_t> applied_sequences;  // sorted ascending, at most kSequenceWindow
  std::array<ModalityAccumulator, kModalityCount> modalities{};
  std::vector<RiskReason> context_reasons;  // of the latest context assessment
  double context_score = 0.5;
  double context_confidence = 0;
  bool has_context = false;
  std::vector<FixedTextFeatures> pending;  // probe vectors not folded into the profile
  bool has_last_context = false;
  ContextObservation last_context;
  // Log-odds added by challenge outcomes (negative after a pass, positive after a failure).
  double challenge_logit = 0;
  bool verified = false;  // a challenge was passed in this session
  std::string last_decision_id;
  absl::Time created_at = absl::UnixEpoch();
  absl::Time updated_at = absl::UnixEpoch();

  // True when `sequence` was already applied (or is older than the remembered window).
  // Sequence 0 is never a duplicate.
  bool SeenSequence(uint64_t sequence) const;
  void RecordSequence(uint64_t sequence);
  void AddPending(const FixedTextFeatures& f);
};

std::string SerializeSessionState(const SessionState& s);
absl::StatusOr<SessionState> DeserializeSessionState(absl::string_view bytes);

}  // namespace shieldx::contauth

#endif  // SHIELDX_SERVICES_CONTAUTH_SESSION_STATE_H_
