// Detection exclusions: findings an operator has judged to be no attack in one place, dropped
// before scoring, so one field's false positive is fixed without lowering the sensitivity of
// the route or turning a whole attack class off.
//
// An exclusion names what it drops (attack categories and/or rule ids) and, optionally, where
// (field selectors; a profile exclusion also a path prefix). A finding is dropped when its
// category or rule is named and, when fields are given, one of them selects its field:
//
//   {"id": "cms-page-html", "path_prefix": "/admin/pages/",
//    "fields": ["json:content", "json:blocks.*"], "categories": ["xss"]}
//   {"id": "search-sql-words", "fields": ["query:q"], "rules": ["sqli.boolean-condition"]}
//   {"id": "no-ua-clients", "rules": ["protocol.missing-user-agent"]}
//
// Field selectors: "<source>" (every field of that source), "<source>:<name>" (exact name),
// "<source>:<prefix>*" (names starting with prefix, e.g. "json:items.*" or
// "header:authorization*", which also covers the Basic credentials and JWT members read out
// of that header). Sources are SourceName values (query, body-form, json, xml, multipart,
// header, cookie, path, path-segment, body, filename, method, request). Header names compare
// without case; every other name exactly, as applications read them. Rule selectors: an exact
// rule id ("xss.script-tag") or a prefix ending in '*' ("xss.*", "custom.*").
//
// Dropped findings are counted in the verdict and named by exclusion id in its explanation:
// an exclusion never hides that it fired.
#ifndef SHIELDX_LIBS_DETECT_EXCLUSION_H_
#define SHIELDX_LIBS_DETECT_EXCLUSION_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/detect/finding.h"
#include "libs/detect/request.h"

namespace shieldx::detect {

struct FieldSelector {
  Source source = Source::kRequest;
  std::string name;  // empty with any_name
  bool any_name = false;
  bool prefix = false;  // name is a prefix ("<source>:<name>*")

  bool Matches(Source s, std::string_view field_name) const;
};

struct Exclusion {
  std::string id;
  std::string path_prefix;            // profile exclusions only; "" = every path
  std::vector<FieldSelector> fields;  // empty = every field
  uint32_t categories = 0;            // bit per Category
  std::vector<std::string> rules;     // exact ids, or prefixes ending in '*'

  // Whether a finding of `category` / `rule` on (`source`, `field_name`) is dropped.
  bool Matches(Category category, std::string_view rule, Source source,
               std::string_view field_name) const;
};

// Parses one field selector ("json:content", "header:x-trace*", "cookie"). Errors say what
// is wrong with the text.
absl::StatusOr<FieldSelector> ParseFieldSelector(std::string_view text);

// Builds and validates one exclusion from its parts (the profile's JSON form and the
// orchestrator's route configuration share it). Errors name the part ("fields[2]: ...",
// "categories[0]: ...", "rules: ..."). At least one category or rule is required: an
// exclusion says what it drops.
absl::StatusOr<Exclusion> MakeExclusion(std::string_view id, std::string_view path_prefix,
                                        const std::vector<std::string>& fields,
                                        const std::vector<std::string>& categories,
                                        const std::vector<std::string>& rules);

}  // namespace shieldx::detect

#endif  // SHIELDX_LIBS_DETECT_EXCLUSION_H_
