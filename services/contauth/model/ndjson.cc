#include "services/contauth/model/ndjson.h"

#include <exception>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace shieldx::contauth {
namespace {

using nlohmann::json;

absl::Status Bad(const std::string& sample_id, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(
      "sample ", sample_id.empty() ? std::string("(no sample_id)") : sample_id, ": ", what));
}

absl::Status GetId(const json& j, const char* field, std::size_t max_bytes,
                   const std::string& sample_id, std::string* out) {
  auto it = j.find(field);
  if (it == j.end() || !it->is_string()) {
    return Bad(sample_id, absl::StrCat("field \"", field, "\" missing or not a string"));
  }
  const std::string& v = it->get_ref<const std::string&>();
  if (v.empty() || v.size() > max_bytes) {
    return Bad(sample_id, absl::StrCat("field \"", field, "\" is ", v.size(), " bytes (must be 1..",
                                       max_bytes, ")"));
  }
  *out = v;
  return absl::OkStatus();
}

absl::Status ParseEvents(const json& events, KeystrokeSample* s) {
  if (!events.is_array()) return Bad(s->sample_id, "field \"events\" missing or not an array");
  if (events.size() > kMaxEventsPerSample) {
    return Bad(s->sample_id,
               absl::StrCat(events.size(), " events (limit ", kMaxEventsPerSample, ")"));
  }
  s->events.reserve(events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    const json& e = events[i];
    if (!e.is_object()) return Bad(s->sample_id, absl::StrCat("event ", i, " is not an object"));
    auto key = e.find("key");
    auto down = e.find("down_ms");
    auto up = e.find("up_ms");
    if (key == e.end() || !key->is_string()) {
      return Bad(s->sample_id, absl::StrCat("event ", i, ": \"key\" missing or not a string"));
    }
    if (down == e.end() || !down->is_number() || up == e.end() || !up->is_number()) {
      return Bad(s->sample_id,
                 absl::StrCat("event ", i, ": \"down_ms\"/\"up_ms\" missing or not numbers"));
    }
    s->events.push_back({key->get<std::string>(), down->get<double>(), up->get<double>()});
  }
  return absl::OkStatus();
}

absl::StatusOr<KeystrokeSample> ParseJson(const json& j) {
  if (!j.is_object()) return Bad("", "line is not a JSON object");
  KeystrokeSample s;
  // The sample id first, so later errors can name it.
  if (auto st = GetId(j, "sample_id", kMaxSampleIdBytes, "", &s.sample_id); !st.ok()) return st;
  if (auto st = GetId(j, "tenant", kMaxTenantIdBytes, s.sample_id, &s.tenant); !st.ok()) return st;
  if (auto st = GetId(j, "user", kMaxUserIdBytes, s.sample_id, &s.user); !st.ok()) return st;
  std::string phase;
  if (auto st = GetId(j, "phase", 16, s.sample_id, &phase); !st.ok()) return st;
  if (phase == "enroll") {
    s.phase = SamplePhase::kEnroll;
  } else if (phase == "probe") {
    s.phase = SamplePhase::kProbe;
  } else {
    return Bad(s.sample_id, absl::StrCat("phase \"", phase, "\" is neither enroll nor probe"));
  }
  auto events = j.find("events");
  if (events == j.end()) return Bad(s.sample_id, "field \"events\" missing");
  if (auto st = ParseEvents(*events, &s); !st.ok()) return st;
  if (auto st = ValidateSample(s); !st.ok()) return st;
  return s;
}

}  // namespace

absl::StatusOr<KeystrokeSample> ParseSampleLine(std::string_view line) {
  if (line.size() > kMaxNdjsonLineBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("line of ", line.size(), " bytes (limit ", kMaxNdjsonLineBytes, ")"));
  }
  json j = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return absl::InvalidArgumentError("malformed JSON");
  try {
    return ParseJson(j);
  } catch (const std::exception& e) {
    // nlohmann throws on unexpected types; all paths check types first, this is a backstop.
    return absl::InvalidArgumentError(absl::StrCat("unexpected JSON shape: ", e.what()));
  }
}

std::string FormatScoreLine(const KeystrokeSample& sample, const KeystrokeScore& score) {
  json j = {{"sample_id", sample.sample_id},
            {"user", sample.user},
            {"score", score.score},
            {"confidence", score.confidence},
            {"band", std::string(BandName(score.band))},
            {"distance", score.fused}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace shieldx::contauth
