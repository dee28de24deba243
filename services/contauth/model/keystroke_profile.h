// KeystrokeProfile: everything the keystroke model stores about one user of one tenant, and
// its versioned binary serialisation (the service encrypts these bytes and keeps them in
// PostgreSQL; this layer neither encrypts nor knows the tenant/user key it is stored under).
//
// A profile holds features, never raw events: per fixed text (identified by a 64-bit id of
// its key sequence) the timing vectors of the enrolled samples ("anchors") and of a bounded
// ring of confidently accepted later samples ("adaptive"); and, for free text, running
// statistics of per-key holds and per-digraph latencies. Anchors are never displaced by
// adaptive samples, which bounds template drift (see KeystrokeModel::MaybeUpdate).
//
// Thread-safety: a plain value; callers synchronise access to a shared instance.
#ifndef SHIELDX_SERVICES_CONTAUTH_MODEL_KEYSTROKE_PROFILE_H_
#define SHIELDX_SERVICES_CONTAUTH_MODEL_KEYSTROKE_PROFILE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace shieldx::contauth {

// Serialised format version. Bump it on any layout change; DeserializeProfile rejects other
// versions (FailedPrecondition) instead of guessing, and the service re-enrolls or migrates.
inline constexpr uint32_t kProfileFormatVersion = 1;

// Named limits on one profile (they also bound a deserialised profile from storage).
inline constexpr std::size_t kMaxTemplatesPerProfile = 8;  // distinct fixed texts per user
inline constexpr std::size_t kMaxAnchorSamples = 256;      // enrolled vectors per fixed text
inline constexpr std::size_t kMaxAdaptiveSamples = 64;     // accepted-probe vectors per text
inline constexpr std::size_t kMaxTimingStats = 4096;       // free-text keys + digraphs tracked
inline constexpr std::size_t kMaxProfileBytes = 4 * 1024 * 1024;

// One fixed text's template. Vectors are row-major, `dims` floats each (see features.h).
struct FixedTextTemplate {
  uint64_t text_id = 0;
  uint32_t key_count = 0;
  uint32_t dims = 0;
  std::vector<float> anchors;   // anchor_count() rows, in enrollment order
  std::vector<float> adaptive;  // ring of adaptive_count() rows
  uint32_t adaptive_next = 0;   // ring slot the next accepted sample overwrites when full

  std::size_t anchor_count() const { return dims == 0 ? 0 : anchors.size() / dims; }
  std::size_t adaptive_count() const { return dims == 0 ? 0 : adaptive.size() / dims; }
  std::size_t sample_count() const { return anchor_count() + adaptive_count(); }
};

// Running statistics (Welford) of one key's hold or one digraph's latency, in ms. `count`
// saturates at the model's free-text memory, which turns the mean into an exponentially
// weighted one (bounded drift).
struct TimingStat {
  uint64_t id = 0;
  uint32_t count = 0;
  float mean_ms = 0;
  float m2 = 0;  // sum of squared deviations (Welford)
};

struct KeystrokeProfile {
  std::vector<FixedTextTemplate> templates;
  std::vector<TimingStat> holds;     // sorted by id, unique
  std::vector<TimingStat> digraphs;  // sorted by id, unique
  uint64_t enrolled_samples = 0;     // explicit enrollments accepted
  uint64_t adaptive_updates = 0;     // probes folded in by MaybeUpdate

  const FixedTextTemplate* FindTemplate(uint64_t text_id) const;
  FixedTextTemplate* FindTemplate(uint64_t text_id);
};

// Bytes: "SXKP", u32 version, then the fields little-endian (floats as IEEE-754 bits).
std::string SerializeProfile(const KeystrokeProfile& profile);

// Inverse of SerializeProfile. FailedPrecondition when the version differs from
// kProfileFormatVersion; InvalidArgument (with the offending field and numbers) on bad magic,
// truncation, trailing bytes, a limit exceeded, non-finite values or unsorted statistics.
absl::StatusOr<KeystrokeProfile> DeserializeProfile(std::string_view bytes);

}  // namespace shieldx::contauth

#endif  // SHIELDX_SERVICES_CONTAUTH_MODEL_KEYSTROKE_PROFILE_H_
