// UserModel: everything contauth knows about one user of one tenant — the keystroke profile
// (model/), pointer and touch motion profiles, the context profile — plus bookkeeping, and its
// versioned binary form (sealed with ProfileCipher before it reaches a store).
//
// Only features and statistics: no raw events, no typed text (fixed texts are known by a
// 64-bit id of their key sequence plus the collector's field label, e.g. "login.password").
//
// Thread-safety: plain value; pure functions.
#ifndef SHIELDX_SERVICES_CONTAUTH_USER_MODEL_H_
#define SHIELDX_SERVICES_CONTAUTH_USER_MODEL_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/contauth/context_model.h"
#include "services/contauth/model/keystroke_profile.h"
#include "services/contauth/motion.h"
#include "services/contauth/types.h"

namespace shieldx::contauth {

inline constexpr uint32_t kUserModelFormatVersion = 1;
inline constexpr std::size_t kMaxUserModelBytes = 6 * 1024 * 1024;
// Pointer / touch batches before the motion model scores; context observations before the
// context profile is considered enrolled.
inline constexpr uint32_t kMinMotionEnrollBatches = 5;
inline constexpr uint32_t kMinContextEnrollObservations = 3;

struct TextLabel {
  uint64_t text_id = 0;  // TextId of the key sequence (features.h)
  std::string label;     // the collector's text_id ("login.password")
};

struct UserModel {
  KeystrokeProfile keystroke;
  std::vector<TextLabel> text_labels;  // at most kMaxTemplatesPerProfile
  uint32_t free_text_samples = 0;      // free-text samples enrolled
  MotionProfile pointer;
  MotionProfile touch;
  ContextProfile context;
  absl::Time created_at = absl::UnixEpoch();
  absl::Time updated_at = absl::UnixEpoch();
  // When each modality's part last changed (index: Modality).
  std::array<absl::Time, kModalityCount> modality_updated_at{};

  void SetLabel(uint64_t text_id, absl::string_view label);
  std::string LabelOf(uint64_t text_id) const;  // "" when none
};

std::string SerializeUserModel(const UserModel& m);
// InvalidArgument naming the part on corrupt input; FailedPrecondition on another version.
absl::StatusOr<UserModel> DeserializeUserModel(absl::string_view bytes);

// True when at least one fixed text has `min_enroll_samples` vectors.
bool KeystrokeEnrolled(const UserModel& m, uint32_t min_enroll_samples);

// One exportable feature vector (ExportedFeatureVector).
struct FeatureVector {
  Modality modality = Modality::kUnspecified;
  std::string text_id;
  std::vector<std::string> names;
  std::vector<double> values;
  absl::Time recorded_at = absl::UnixEpoch();
};

// Every stored feature vector of the model, decoded for a data-subject export: each enrolled
// or adaptive keystroke vector, the free-text statistics, the pointer and touch statistics and
// the context's hour histogram and client software families.
std::vector<FeatureVector> ExportFeatureVectors(const UserModel& m);

}  // namespace shieldx::contauth

#endif  // SHIELDX_SERVICES_CONTAUTH_USER_MODEL_H_
