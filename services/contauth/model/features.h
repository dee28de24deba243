// Keystroke features: the timing measurements the model keeps instead of raw events.
//
// Fixed text (the same key sequence typed each time, e.g. a password): one vector per sample,
//   [hold_0 .. hold_{n-1}, down-down_0 .. down-down_{n-2}, up-down_0 .. up-down_{n-2}]
// where hold_i = up_i - down_i, down-down_i = down_{i+1} - down_i and
// up-down_i = down_{i+1} - up_i (negative under rollover). The key sequence itself is kept
// only as a 64-bit id (TextId), so two samples are comparable iff their ids match.
//
// Free text (texts differ between samples): per-key holds and per-digraph (consecutive key
// pair) down-down latencies, each tagged with a 64-bit id of the key or key pair.
//
// Thread-safety: pure functions. Extract* write into caller-owned storage so the scoring path
// need not allocate (FixedTextFeatures is a fixed-size value; the free-text vectors are reused).
// REQUIRES: the sample passed ValidateSample().
#ifndef SHIELDX_SERVICES_CONTAUTH_MODEL_FEATURES_H_
#define SHIELDX_SERVICES_CONTAUTH_MODEL_FEATURES_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "services/contauth/model/keystroke_sample.h"

namespace shieldx::contauth {

// Fixed-text samples longer than this are scored with the free-text model only: the
// Mahalanobis detector is O(dims^2) per score and O(dims^3) per fit.
inline constexpr std::size_t kMaxFixedTextKeys = 64;
inline constexpr std::size_t kMaxFixedTextDims = 3 * kMaxFixedTextKeys - 2;

// Stable 64-bit ids (FNV-1a): of one key name, of a key pair, of a whole key sequence.
uint64_t KeyId(std::string_view key);
uint64_t DigraphId(uint64_t first_key_id, uint64_t second_key_id);
uint64_t TextId(const KeystrokeSample& sample);

// Dimensions of the fixed-text vector of an n-key text (0 for fewer than 2 keys).
constexpr std::size_t FixedTextDims(std::size_t key_count) {
  return key_count < 2 ? 0 : 3 * key_count - 2;
}

struct FixedTextFeatures {
  uint64_t text_id = 0;
  uint32_t key_count = 0;
  uint32_t dims = 0;  // FixedTextDims(key_count)
  std::array<float, kMaxFixedTextDims> values{};
};

// Fills `out` and returns true when the sample has 2..kMaxFixedTextKeys events; returns false
// (and leaves `out` unspecified) otherwise.
bool ExtractFixedText(const KeystrokeSample& sample, FixedTextFeatures* out);

// One timing measurement of a key (hold) or key pair (down-down latency), in ms.
struct TimingObservation {
  uint64_t id = 0;
  float value_ms = 0;
};

// Clears and fills `holds` (one per event) and `digraphs` (one per consecutive pair).
void ExtractFreeText(const KeystrokeSample& sample, std::vector<TimingObservation>* holds,
                     std::vector<TimingObservation>* digraphs);

}  // namespace shieldx::contauth

#endif  // SHIELDX_SERVICES_CONTAUTH_MODEL_FEATURES_H_
