// Keystroke samples: the input of the keystroke-dynamics model (one typing sample = the key
// events of one typed text), their named limits and their validation.
//
// A sample is untrusted input (it comes from a browser collector or an NDJSON file).
// ValidateSample() rejects impossible timings with an error that names the sample; nothing
// downstream (feature extraction, scoring) may see a sample that has not passed it.
//
// Thread-safety: plain value types; ValidateSample is a pure function.
#ifndef SHIELDX_SERVICES_CONTAUTH_MODEL_KEYSTROKE_SAMPLE_H_
#define SHIELDX_SERVICES_CONTAUTH_MODEL_KEYSTROKE_SAMPLE_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace shieldx::contauth {

// Named limits on one sample. They bound memory and CPU per sample, and define what
// "absurd" timing means: the limits are far above human typing in any unit a collector might
// plausibly mis-report, so that they only catch corrupt or hostile input.
inline constexpr std::size_t kMaxEventsPerSample = 4096;
inline constexpr std::size_t kMaxKeyNameBytes = 32;
inline constexpr std::size_t kMaxSampleIdBytes = 128;
// A key held longer than 10 minutes, or a sample spanning more than one hour, is not typing.
inline constexpr double kMaxHoldMs = 10.0 * 60 * 1000;
inline constexpr double kMaxSampleSpanMs = 60.0 * 60 * 1000;

// One key press. `down_ms` / `up_ms` are milliseconds from the start of the sample; a key may
// be released after the next one is pressed (rollover), so up_ms of one key may exceed the
// down_ms of the next.
struct KeyEvent {
  std::string key;  // KeyboardEvent.key style: "a", "Shift", "Enter", "."
  double down_ms = 0;
  double up_ms = 0;
};

enum class SamplePhase { kEnroll, kProbe };

struct KeystrokeSample {
  std::string tenant;
  std::string user;  // the identity the sample is claimed for
  std::string sample_id;
  SamplePhase phase = SamplePhase::kProbe;
  std::vector<KeyEvent> events;  // in press order
};

// OK when every event has a non-empty key name of at most kMaxKeyNameBytes, finite times,
// up_ms >= down_ms (a zero hold is accepted: collectors round), a hold of at most kMaxHoldMs,
// the sample spans at most kMaxSampleSpanMs (first down to last up) and has between 1 and
// kMaxEventsPerSample events. The sample id must be non-empty and at most kMaxSampleIdBytes.
// Otherwise InvalidArgument naming the sample, the event index and the numbers, e.g.
// "sample u01-0003: event 4 (key \"e\"): up_ms 80 < down_ms 95".
// Out-of-order down times are accepted (features are defined on the listed order).
absl::Status ValidateSample(const KeystrokeSample& sample);

}  // namespace shieldx::contauth

#endif  // SHIELDX_SERVICES_CONTAUTH_MODEL_KEYSTROKE_SAMPLE_H_
