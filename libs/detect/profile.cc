#include "libs/detect/profile.h"

#include "absl/strings/str_cat.h"
#include "libs/detect/limits.h"
#include "nlohmann/json.hpp"

namespace shieldx::detect {
namespace {

using json = nlohmann::json;

absl::StatusOr<Sensitivity> ParseSensitivity(const json& v, const std::string& where) {
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    if (s == "low") return Sensitivity::kLow;
    if (s == "medium") return Sensitivity::kMedium;
    if (s == "high") return Sensitivity::kHigh;
    if (s == "paranoid") return Sensitivity::kParanoid;
  } else if (v.is_number_integer()) {
    int n = v.get<int>();
    if (n >= 1 && n <= 4) return static_cast<Sensitivity>(n);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      where, ".sensitivity: expected low|medium|high|paranoid or 1..4, got ", v.dump()));
}

absl::StatusOr<int> ParseThreshold(const json& v, const std::string& key) {
  if (!v.is_number_integer() || v.get<int>() < 0 || v.get<int>() > 100) {
    return absl::InvalidArgumentError(
        absl::StrCat(key, ": expected an integer 0..100, got ", v.dump()));
  }
  return v.get<int>();
}

absl::StatusOr<uint32_t> ParseCategories(const json& v, const std::string& key) {
  if (!v.is_array()) return absl::InvalidArgumentError(absl::StrCat(key, ": expected an array"));
  uint32_t mask = 0;
  for (const json& e : v) {
    Category c;
    if (!e.is_string() || !ParseCategory(e.get<std::string>(), &c)) {
      return absl::InvalidArgumentError(absl::StrCat(key, ": unknown category ", e.dump()));
    }
    mask |= 1u << static_cast<int>(c);
  }
  return mask;
}

// A JSON array of strings, for an exclusion's lists.
absl::Status StringList(const json& v, const std::string& where, std::vector<std::string>* out) {
  if (!v.is_array()) return absl::InvalidArgumentError(where + ": expected an array of strings");
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string()) {
      return absl::InvalidArgumentError(absl::StrCat(where, "[", i, "]: expected a string"));
    }
    out->push_back(v[i].get<std::string>());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Exclusion>> ParseExclusions(const json& v, const std::string& where) {
  if (!v.is_array()) return absl::InvalidArgumentError(where + ": expected an array");
  if (v.size() > limits::kMaxExclusions) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": ", v.size(), " exclusions exceed ", limits::kMaxExclusions));
  }
  std::vector<Exclusion> out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const json& e = v[i];
    const std::string at = absl::StrCat(where, "[", i, "]");
    if (!e.is_object()) return absl::InvalidArgumentError(at + ": expected an object");
    std::string id, path_prefix;
    std::vector<std::string> fields, categories, rules;
    for (auto it = e.begin(); it != e.end(); ++it) {
      const std::string& k = it.key();
      if (k == "id" || k == "path_prefix") {
        if (!it.value().is_string())
          return absl::InvalidArgumentError(at + "." + k + ": expected a string");
        (k == "id" ? id : path_prefix) = it.value().get<std::string>();
      } else if (k == "fields" || k == "categories" || k == "rules") {
        absl::Status st = StringList(it.value(), at + "." + k,
                                     k == "fields"       ? &fields
                                     : k == "categories" ? &categories
                                                         : &rules);
        if (!st.ok()) return st;
      } else {
        return absl::InvalidArgumentError(absl::StrCat(at, ": unknown key \"", k, "\""));
      }
    }
    auto ex = MakeExclusion(id, path_prefix, fields, categories, rules);
    if (!ex.ok()) return absl::InvalidArgumentError(absl::StrCat(at, ".", ex.status().message()));
    for (const Exclusion& other : out) {
      if (other.id == ex->id)
        return absl::InvalidArgumentError(absl::StrCat(at, ".id: duplicate \"", ex->id, "\""));
    }
    out.push_back(std::move(*ex));
  }
  return out;
}

}  // namespace

const char* SensitivityName(Sensitivity s) {
  switch (s) {
    case Sensitivity::kLow:
      return "low";
    case Sensitivity::kMedium:
      return "medium";
    case Sensitivity::kHigh:
      return "high";
    case Sensitivity::kParanoid:
      return "paranoid";
  }
  return "medium";
}

int SensitivityOffset(Sensitivity s) {
  switch (s) {
    case Sensitivity::kLow:
      return -2;
    case Sensitivity::kMedium:
      return 0;
    case Sensitivity::kHigh:
      return 1;
    case Sensitivity::kParanoid:
      return 2;
  }
  return 0;
}

bool ParseSource(std::string_view name, Source* out) {
  for (int i = 0; i <= static_cast<int>(Source::kFileName); ++i) {
    if (name == SourceName(static_cast<Source>(i))) {
      *out = static_cast<Source>(i);
      return true;
    }
  }
  return false;
}

Profile Profile::Default() { return Profile(); }

absl::StatusOr<Profile> Profile::FromJson(std::string_view text) {
  if (text.size() > limits::kMaxConfigFileBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "profile: ", text.size(), " bytes exceeds limit ", limits::kMaxConfigFileBytes));
  }
  json root = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return absl::InvalidArgumentError("profile: not valid JSON");
  if (!root.is_object()) return absl::InvalidArgumentError("profile: top level must be an object");
  Profile p = Default();
  for (auto it = root.begin(); it != root.end(); ++it) {
    const std::string& key = it.key();
    const json& v = it.value();
    if (key == "name") {
      if (!v.is_string()) return absl::InvalidArgumentError("profile.name: expected a string");
      p.name = v.get<std::string>();
    } else if (key == "sensitivity") {
      auto s = ParseSensitivity(v, "profile");
      if (!s.ok()) return s.status();
      p.sensitivity = *s;
    } else if (key == "block_threshold" || key == "challenge_threshold") {
      auto t = ParseThreshold(v, "profile." + key);
      if (!t.ok()) return t.status();
      (key == "block_threshold" ? p.block_threshold : p.challenge_threshold) = *t;
    } else if (key == "disabled_categories") {
      auto m = ParseCategories(v, "profile.disabled_categories");
      if (!m.ok()) return m.status();
      p.disabled_categories = *m;
    } else if (key == "allowed_methods") {
      if (!v.is_array())
        return absl::InvalidArgumentError("profile.allowed_methods: expected an array");
      p.allowed_methods.clear();
      for (const json& m : v) {
        if (!m.is_string() || m.get<std::string>().empty()) {
          return absl::InvalidArgumentError(
              absl::StrCat("profile.allowed_methods: invalid entry ", m.dump()));
        }
        p.allowed_methods.push_back(m.get<std::string>());
      }
    } else if (key == "inspect_base64") {
      if (!v.is_boolean())
        return absl::InvalidArgumentError("profile.inspect_base64: expected a boolean");
      p.inspect_base64 = v.get<bool>();
    } else if (key == "routes") {
      if (!v.is_array()) return absl::InvalidArgumentError("profile.routes: expected an array");
      for (std::size_t i = 0; i < v.size(); ++i) {
        const json& r = v[i];
        std::string where = absl::StrCat("profile.routes[", i, "]");
        if (!r.is_object()) return absl::InvalidArgumentError(where + ": expected an object");
        RouteProfile rp;
        for (auto rit = r.begin(); rit != r.end(); ++rit) {
          const std::string& rk = rit.key();
          const json& rv = rit.value();
          if (rk == "path_prefix") {
            if (!rv.is_string() || rv.get<std::string>().empty() ||
                rv.get<std::string>()[0] != '/') {
              return absl::InvalidArgumentError(
                  where + ".path_prefix: expected a string starting with '/'");
            }
            rp.path_prefix = rv.get<std::string>();
          } else if (rk == "sensitivity") {
            auto s = ParseSensitivity(rv, where);
            if (!s.ok()) return s.status();
            rp.sensitivity = *s;
          } else if (rk == "block_threshold" || rk == "challenge_threshold") {
            auto t = ParseThreshold(rv, where + "." + rk);
            if (!t.ok()) return t.status();
            (rk == "block_threshold" ? rp.block_threshold : rp.challenge_threshold) = *t;
          } else if (rk == "disabled_categories") {
            auto m = ParseCategories(rv, where + ".disabled_categories");
            if (!m.ok()) return m.status();
            rp.disabled_categories = *m;
          } else {
            return absl::InvalidArgumentError(absl::StrCat(where, ": unknown key \"", rk, "\""));
          }
        }
        if (rp.path_prefix.empty())
          return absl::InvalidArgumentError(where + ": path_prefix is required");
        p.routes.push_back(std::move(rp));
      }
    } else if (key == "custom_rules") {
      if (!v.is_array())
        return absl::InvalidArgumentError("profile.custom_rules: expected an array");
      if (v.size() > limits::kMaxCustomRules) {
        return absl::InvalidArgumentError(absl::StrCat(
            "profile.custom_rules: ", v.size(), " rules exceed limit ", limits::kMaxCustomRules));
      }
      for (std::size_t i = 0; i < v.size(); ++i) {
        const json& r = v[i];
        std::string where = absl::StrCat("profile.custom_rules[", i, "]");
        if (!r.is_object()) return absl::InvalidArgumentError(where + ": expected an object");
        CustomRule cr;
        for (auto rit = r.begin(); rit != r.end(); ++rit) {
          const std::string& rk = rit.key();
          const json& rv = rit.value();
          if (rk == "id" || rk == "pattern" || rk == "confirm") {
            if (!rv.is_string())
              return absl::InvalidArgumentError(where + "." + rk + ": expected a string");
            (rk == "id"        ? cr.id
             : rk == "pattern" ? cr.pattern
                               : cr.confirm) = rv.get<std::string>();
          } else if (rk == "caseless") {
            if (!rv.is_boolean())
              return absl::InvalidArgumentError(where + ".caseless: expected a boolean");
            cr.caseless = rv.get<bool>();
          } else if (rk == "confidence") {
            if (!rv.is_number() || rv.get<double>() <= 0 || rv.get<double>() > 1) {
              return absl::InvalidArgumentError(where + ".confidence: expected a number in (0, 1]");
            }
            cr.confidence = rv.get<float>();
          } else if (rk == "category") {
            Category c;
            if (!rv.is_string() || !ParseCategory(rv.get<std::string>(), &c)) {
              return absl::InvalidArgumentError(
                  absl::StrCat(where, ".category: unknown ", rv.dump()));
            }
            cr.category = c;
          } else if (rk == "targets") {
            if (!rv.is_array())
              return absl::InvalidArgumentError(where + ".targets: expected an array");
            for (const json& t : rv) {
              Source s;
              if (!t.is_string() || !ParseSource(t.get<std::string>(), &s)) {
                return absl::InvalidArgumentError(
                    absl::StrCat(where, ".targets: unknown source ", t.dump()));
              }
              cr.targets.push_back(s);
            }
          } else {
            return absl::InvalidArgumentError(absl::StrCat(where, ": unknown key \"", rk, "\""));
          }
        }
        if (cr.id.empty() || cr.pattern.empty()) {
          return absl::InvalidArgumentError(where + ": id and pattern are required");
        }
        if (cr.pattern.size() > limits::kMaxRulePatternBytes) {
          return absl::InvalidArgumentError(absl::StrCat(where, ".pattern: ", cr.pattern.size(),
                                                         " bytes exceed limit ",
                                                         limits::kMaxRulePatternBytes));
        }
        for (const CustomRule& other : p.custom_rules) {
          if (other.id == cr.id)
            return absl::InvalidArgumentError(where + ": duplicate id \"" + cr.id + "\"");
        }
        p.custom_rules.push_back(std::move(cr));
      }
    } else if (key == "exclusions") {
      auto ex = ParseExclusions(v, "profile.exclusions");
      if (!ex.ok()) return ex.status();
      p.exclusions = std::move(*ex);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("profile: unknown key \"", key, "\""));
    }
  }
  if (p.challenge_threshold > 0 && p.challenge_threshold >= p.block_threshold) {
    return absl::InvalidArgumentError(
        absl::StrCat("profile: challenge_threshold ", p.challenge_threshold,
                     " must be below block_threshold ", p.block_threshold));
  }
  return p;
}

}  // namespace shieldx::detect
