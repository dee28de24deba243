// The keystroke NDJSON line format (../shared/formats/keystroke-ndjson.md): parsing one input
// line into a KeystrokeSample and formatting one output (score) line.
//
// Thread-safety: pure functions.
#ifndef SHIELDX_SERVICES_CONTAUTH_MODEL_NDJSON_H_
#define SHIELDX_SERVICES_CONTAUTH_MODEL_NDJSON_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "services/contauth/model/keystroke_model.h"
#include "services/contauth/model/keystroke_sample.h"

namespace shieldx::contauth {

// One input line: at most 4096 events of ~100 bytes each fit well below this.
inline constexpr std::size_t kMaxNdjsonLineBytes = 1024 * 1024;
inline constexpr std::size_t kMaxTenantIdBytes = 128;
inline constexpr std::size_t kMaxUserIdBytes = 128;

// Parses one line: an object with string `tenant`, `user`, `sample_id`, `phase` ("enroll" or
// "probe"), array `events` of {key: string, down_ms: number, up_ms: number}; an optional
// `label` and unknown fields are ignored. InvalidArgument naming the sample (when its id could
// be read) and the field on malformed JSON, wrong types, missing fields or limits exceeded.
// Timing plausibility is checked too (ValidateSample), so an accepted line is a valid sample.
absl::StatusOr<KeystrokeSample> ParseSampleLine(std::string_view line);

// {"sample_id":...,"user":...,"score":...,"confidence":...,"band":...,"distance":...} with no
// newline; `distance` is KeystrokeScore::fused (the uncalibrated normalised distance).
std::string FormatScoreLine(const KeystrokeSample& sample, const KeystrokeScore& score);

}  // namespace shieldx::contauth

#endif  // SHIELDX_SERVICES_CONTAUTH_MODEL_NDJSON_H_
