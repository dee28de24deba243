// Protection profile: what the engine blocks and how eagerly, per route.
//
// Sensitivity is calibrated on finding confidence (the detectors' estimate that a finding
// alone is an attack):
//   low      blocks findings with confidence >= 0.70  (fewest false positives)
//   medium   blocks findings with confidence >= 0.50  (the default)
//   high     blocks findings with confidence >= 0.40
//   paranoid blocks findings with confidence >= 0.30  (expect false positives)
// The anomaly score is max(confidence) * 10 plus the sensitivity offset (low -2, medium 0,
// high +1, paranoid +2), plus one point per further attack class seen (at most +3); a request
// whose score reaches block_threshold (default 5) is blocked, one that reaches
// challenge_threshold (default 0 = off) is challenged.
//
// JSON form (unknown keys are rejected):
// {
//   "name": "default",
//   "sensitivity": "medium",              // low | medium | high | paranoid
//   "block_threshold": 5, "challenge_threshold": 0,
//   "disabled_categories": ["scanner"],   // CategoryName values
//   "allowed_methods": ["GET", "POST", ...],
//   "inspect_base64": true,
//   "routes": [{"path_prefix": "/api/", "sensitivity": "high", "block_threshold": 5,
//               "challenge_threshold": 3, "disabled_categories": []}],
//   "custom_rules": [{"id": "no-wp-admin", "pattern": "wp-admin", "caseless": true,
//                     "targets": ["path", "query"], "category": "custom", "confidence": 0.9,
//                     "confirm": "RE2 regex (optional)"}],
//   "exclusions": [{"id": "cms-html", "path_prefix": "/admin/pages/",
//                   "fields": ["json:content"], "categories": ["xss"], "rules": []}]
// }
// Exclusions (exclusion.h) drop matching findings before scoring; every exclusion whose
// path_prefix ("" = all) starts the request's path is in force, together with those the
// caller passes to Inspect (the orchestrator's per-route ones).
#ifndef SHIELDX_LIBS_DETECT_PROFILE_H_
#define SHIELDX_LIBS_DETECT_PROFILE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/detect/exclusion.h"
#include "libs/detect/finding.h"
#include "libs/detect/request.h"

namespace shieldx::detect {

enum class Sensitivity : uint8_t { kLow = 1, kMedium = 2, kHigh = 3, kParanoid = 4 };
const char* SensitivityName(Sensitivity s);
// Score offset added to max(confidence)*10 (see the file comment).
int SensitivityOffset(Sensitivity s);

struct CustomRule {
  std::string id;
  std::string pattern;  // Vectorscan (Hyperscan) syntax
  bool caseless = true;
  std::vector<Source> targets;  // empty = every field
  Category category = Category::kCustom;
  float confidence = 0.9f;
  std::string confirm;  // optional RE2 regex that must also match the value
};

struct RouteProfile {
  std::string path_prefix;
  std::optional<Sensitivity> sensitivity;
  std::optional<int> block_threshold;
  std::optional<int> challenge_threshold;
  std::optional<uint32_t> disabled_categories;  // bit per Category
};

struct Profile {
  std::string name = "default";
  Sensitivity sensitivity = Sensitivity::kMedium;
  int block_threshold = 5;
  int challenge_threshold = 0;  // 0: no challenge band
  uint32_t disabled_categories = 0;
  std::vector<std::string> allowed_methods = {"GET",   "HEAD",   "POST",   "PUT",
                                              "PATCH", "DELETE", "OPTIONS"};
  bool inspect_base64 = true;
  std::vector<RouteProfile> routes;  // first matching prefix wins
  std::vector<CustomRule> custom_rules;
  std::vector<Exclusion> exclusions;

  // What a new tenant gets.
  static Profile Default();
  // Parses and validates the JSON form; errors name the key and the offending value.
  static absl::StatusOr<Profile> FromJson(std::string_view json);
};

// Parses "query", "body-form", "json", ... (SourceName values).
bool ParseSource(std::string_view name, Source* out);

}  // namespace shieldx::detect

#endif  // SHIELDX_LIBS_DETECT_PROFILE_H_
