#include "services/contauth/model/keystroke_sample.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace shieldx::contauth {
namespace {

absl::Status EventError(const KeystrokeSample& sample, std::size_t index, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat("sample ", sample.sample_id, ": event ", index,
                                                 " (key \"", sample.events[index].key,
                                                 "\"): ", what));
}

}  // namespace

absl::Status ValidateSample(const KeystrokeSample& sample) {
  if (sample.sample_id.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("sample of user ", sample.user, ": empty sample_id"));
  }
  if (sample.sample_id.size() > kMaxSampleIdBytes) {
    return absl::InvalidArgumentError(absl::StrCat("sample ", sample.sample_id.substr(0, 32),
                                                   "...: sample_id is ", sample.sample_id.size(),
                                                   " bytes (limit ", kMaxSampleIdBytes, ")"));
  }
  if (sample.events.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("sample ", sample.sample_id, ": no events"));
  }
  if (sample.events.size() > kMaxEventsPerSample) {
    return absl::InvalidArgumentError(absl::StrCat("sample ", sample.sample_id, ": ",
                                                   sample.events.size(), " events (limit ",
                                                   kMaxEventsPerSample, ")"));
  }
  double first_down = sample.events.front().down_ms;
  double last_up = sample.events.front().up_ms;
  for (std::size_t i = 0; i < sample.events.size(); ++i) {
    const KeyEvent& e = sample.events[i];
    if (e.key.empty() || e.key.size() > kMaxKeyNameBytes) {
      return absl::InvalidArgumentError(absl::StrCat("sample ", sample.sample_id, ": event ", i,
                                                     ": key name is ", e.key.size(),
                                                     " bytes (must be 1..", kMaxKeyNameBytes, ")"));
    }
    if (!std::isfinite(e.down_ms) || !std::isfinite(e.up_ms)) {
      return EventError(sample, i, "non-finite time");
    }
    if (e.up_ms < e.down_ms) {
      return EventError(
          sample, i, absl::StrCat("up_ms ", e.up_ms, " < down_ms ", e.down_ms, " (negative hold)"));
    }
    if (e.up_ms - e.down_ms > kMaxHoldMs) {
      return EventError(sample, i,
                        absl::StrCat("hold of ", e.up_ms - e.down_ms, " ms exceeds the limit of ",
                                     kMaxHoldMs, " ms"));
    }
    first_down = std::min(first_down, e.down_ms);
    last_up = std::max(last_up, e.up_ms);
    if (last_up - first_down > kMaxSampleSpanMs) {
      return EventError(sample, i,
                        absl::StrCat("sample spans ", last_up - first_down,
                                     " ms, more than the limit of ", kMaxSampleSpanMs, " ms"));
    }
  }
  return absl::OkStatus();
}

}  // namespace shieldx::contauth
