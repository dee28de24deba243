#include "libs/detect/exclusion.h"

#include "absl/strings/str_cat.h"
#include "libs/detect/limits.h"
#include "libs/detect/profile.h"
#include "libs/detect/text_util.h"

namespace shieldx::detect {
namespace {

// Prefix selectors end in '*'; everything else compares whole.
bool SelectorMatches(std::string_view pattern, bool prefix, std::string_view s, bool nocase) {
  if (prefix) return nocase ? IStartsWith(s, pattern) : StartsWith(s, pattern);
  return nocase ? IEquals(s, pattern) : s == pattern;
}

bool RuleMatches(std::string_view selector, std::string_view rule) {
  if (!selector.empty() && selector.back() == '*') {
    return StartsWith(rule, selector.substr(0, selector.size() - 1));
  }
  return rule == selector;
}

bool IdChar(char c) {
  return IsAsciiAlnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
}

// Printable ASCII without space: what a rule id or field name selector may hold.
bool PrintableToken(std::string_view s) {
  for (char c : s) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

}  // namespace

bool FieldSelector::Matches(Source s, std::string_view field_name) const {
  if (s != source) return false;
  if (any_name) return true;
  return SelectorMatches(name, prefix, field_name, source == Source::kHeader);
}

bool Exclusion::Matches(Category category, std::string_view rule, Source source,
                        std::string_view field_name) const {
  bool what = (categories >> static_cast<int>(category)) & 1u;
  for (std::size_t i = 0; !what && i < rules.size(); ++i) what = RuleMatches(rules[i], rule);
  if (!what) return false;
  if (fields.empty()) return true;
  for (const FieldSelector& f : fields) {
    if (f.Matches(source, field_name)) return true;
  }
  return false;
}

absl::StatusOr<FieldSelector> ParseFieldSelector(std::string_view text) {
  FieldSelector sel;
  const std::size_t colon = text.find(':');
  const std::string_view source = text.substr(0, colon);
  if (!ParseSource(source, &sel.source)) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown source \"", SafeExcerpt(source, 32),
                     "\" (expected \"<source>\", \"<source>:<name>\" or \"<source>:<prefix>*\")"));
  }
  if (colon == std::string_view::npos) {
    sel.any_name = true;
    return sel;
  }
  std::string_view name = text.substr(colon + 1);
  if (!name.empty() && name.back() == '*') {
    sel.prefix = true;
    name.remove_suffix(1);
  }
  if (name.empty()) {
    if (!sel.prefix) return absl::InvalidArgumentError("empty field name after ':'");
    sel.any_name = true;  // "<source>:*"
    sel.prefix = false;
    return sel;
  }
  if (name.size() > limits::kMaxFieldNameBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("field name of ", name.size(), " bytes exceeds ", limits::kMaxFieldNameBytes));
  }
  if (!PrintableToken(name)) {
    return absl::InvalidArgumentError("field name holds a space or a non-printable byte");
  }
  sel.name = std::string(name);
  return sel;
}

absl::StatusOr<Exclusion> MakeExclusion(std::string_view id, std::string_view path_prefix,
                                        const std::vector<std::string>& fields,
                                        const std::vector<std::string>& categories,
                                        const std::vector<std::string>& rules) {
  Exclusion ex;
  if (id.empty() || id.size() > limits::kMaxExclusionIdBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("id: expected 1 to ", limits::kMaxExclusionIdBytes, " characters"));
  }
  for (char c : id) {
    if (!IdChar(c)) {
      return absl::InvalidArgumentError(
          absl::StrCat("id: \"", SafeExcerpt(id, 64), "\" may hold only A-Z a-z 0-9 . _ -"));
    }
  }
  ex.id = std::string(id);
  if (!path_prefix.empty() && path_prefix[0] != '/') {
    return absl::InvalidArgumentError("path_prefix: expected a path starting with '/'");
  }
  ex.path_prefix = std::string(path_prefix);
  for (const auto* list : {&fields, &categories, &rules}) {
    if (list->size() > limits::kMaxExclusionSelectors) {
      const char* what = list == &fields ? "fields" : list == &categories ? "categories" : "rules";
      return absl::InvalidArgumentError(absl::StrCat(what, ": ", list->size(), " entries exceed ",
                                                     limits::kMaxExclusionSelectors));
    }
  }
  for (std::size_t i = 0; i < fields.size(); ++i) {
    auto sel = ParseFieldSelector(fields[i]);
    if (!sel.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("fields[", i, "]: ", sel.status().message()));
    }
    ex.fields.push_back(std::move(*sel));
  }
  for (std::size_t i = 0; i < categories.size(); ++i) {
    Category c;
    if (!ParseCategory(categories[i], &c)) {
      return absl::InvalidArgumentError(absl::StrCat("categories[", i, "]: unknown category \"",
                                                     SafeExcerpt(categories[i], 32), "\""));
    }
    ex.categories |= 1u << static_cast<int>(c);
  }
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const std::string& r = rules[i];
    std::string_view body(r);
    if (!body.empty() && body.back() == '*') body.remove_suffix(1);
    bool ok = !body.empty() && r.size() <= limits::kMaxRuleSelectorBytes;
    for (char c : body) ok = ok && IdChar(c);
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat(
          "rules[", i, "]: \"", SafeExcerpt(r, 64),
          "\" is not a rule id (A-Z a-z 0-9 . _ -, at most ", limits::kMaxRuleSelectorBytes,
          " characters) or a prefix of one ending in '*'"));
    }
    ex.rules.push_back(r);
  }
  if (ex.categories == 0 && ex.rules.empty()) {
    return absl::InvalidArgumentError(
        "categories / rules: name at least one category or rule the exclusion drops");
  }
  return ex;
}

}  // namespace shieldx::detect
