#include "libs/detect/finding.h"

#include <algorithm>

#include "libs/detect/exclusion.h"
#include "libs/detect/limits.h"

namespace shieldx::detect {
namespace {

constexpr const char* kCategoryNames[kCategoryCount] = {"sqli",
                                                        "xss",
                                                        "cmdi",
                                                        "code-injection",
                                                        "path-traversal",
                                                        "lfi",
                                                        "rfi",
                                                        "ssrf",
                                                        "xxe",
                                                        "ssti",
                                                        "jndi",
                                                        "nosqli",
                                                        "ldapi",
                                                        "protocol",
                                                        "scanner",
                                                        "session-fixation",
                                                        "mail-injection",
                                                        "api-abuse",
                                                        "custom"};

}  // namespace

const char* CategoryName(Category c) {
  int i = static_cast<int>(c);
  return i >= 0 && i < kCategoryCount ? kCategoryNames[i] : "unknown";
}

bool ParseCategory(std::string_view name, Category* out) {
  for (int i = 0; i < kCategoryCount; ++i) {
    if (name == kCategoryNames[i]) {
      *out = static_cast<Category>(i);
      return true;
    }
  }
  return false;
}

std::string SafeExcerpt(std::string_view s, std::size_t max_bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(std::min(s.size(), max_bytes) + 8);
  for (unsigned char c : s) {
    std::size_t need = (c >= 0x20 && c < 0x7f && c != '\\') ? 1 : (c == '\\' ? 2 : 4);
    if (out.size() + need > max_bytes) {
      out += "...";
      return out;
    }
    if (c == '\\') {
      out += "\\\\";
    } else if (need == 1) {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

void FindingSink::Clear() {
  findings_.clear();
  staged_.clear();
  staging_ = false;
  std::fill(std::begin(max_conf_), std::end(max_conf_), 0.0f);
}

void FindingSink::set_exclusions(const std::vector<const Exclusion*>* list) {
  exclusions_ = list != nullptr && !list->empty() ? list : nullptr;
  excluded_counts_.assign(exclusions_ != nullptr ? exclusions_->size() : 0, 0);
}

bool FindingSink::Excluded(Category category, std::string_view rule, Source source,
                           std::string_view field_name) {
  for (std::size_t i = 0; i < exclusions_->size(); ++i) {
    if ((*exclusions_)[i]->Matches(category, rule, source, field_name)) {
      ++excluded_counts_[i];
      return true;
    }
  }
  return false;
}

void FindingSink::AddFinding(Finding f) {
  // Add's cheap exit: a weaker duplicate of an existing category finding in a full sink.
  if (findings_.size() >= limits::kMaxFindings &&
      f.confidence <= max_conf_[static_cast<int>(f.category)]) {
    return;
  }
  Insert(std::move(f));
}

void FindingSink::FlushStaged() {
  staging_ = false;
  std::stable_sort(staged_.begin(), staged_.end(),
                   [](const Staged& a, const Staged& b) { return a.key < b.key; });
  for (Staged& st : staged_) AddFinding(std::move(st.finding));
  staged_.clear();
}

void FindingSink::Insert(Finding f) {
  int ci = static_cast<int>(f.category);
  max_conf_[ci] = std::max(max_conf_[ci], f.confidence);
  // Keep one finding per (category, rule, field); the strongest wins.
  for (Finding& g : findings_) {
    if (g.category == f.category && g.rule == f.rule && g.field == f.field &&
        g.source == f.source) {
      if (f.confidence > g.confidence) g = std::move(f);
      return;
    }
  }
  if (findings_.size() < limits::kMaxFindings) {
    findings_.push_back(std::move(f));
    return;
  }
  auto weakest = std::min_element(
      findings_.begin(), findings_.end(),
      [](const Finding& a, const Finding& b) { return a.confidence < b.confidence; });
  if (weakest->confidence < f.confidence) *weakest = std::move(f);
}

void FindingSink::Add(Category category, float confidence, std::string_view rule,
                      const Field& field, std::string_view text, std::size_t pos, std::size_t len) {
  if (disabled(category)) return;
  if (exclusions_ != nullptr && Excluded(category, rule, field.source, field.name)) return;
  int ci = static_cast<int>(category);
  // Cheap exit: a weaker duplicate of an existing category finding in a full sink.
  if (!staging_ && findings_.size() >= limits::kMaxFindings && confidence <= max_conf_[ci]) {
    return;
  }
  pos = std::min(pos, text.size());
  len = std::min(len, text.size() - pos);
  // Show a little context before the offending part.
  std::size_t from = pos > 8 ? pos - 8 : 0;
  Finding f{category,
            confidence,
            std::string(rule),
            field.source,
            field.part,
            SafeExcerpt(field.name, 64),
            SafeExcerpt(text.substr(from, len + (pos - from)), limits::kMaxExcerptBytes)};
  if (staging_) {
    staged_.push_back(Staged{stage_key_, std::move(f)});
    return;
  }
  Insert(std::move(f));
}

void FindingSink::AddRequestLevel(Category category, float confidence, std::string_view rule,
                                  std::string_view what, std::string_view excerpt) {
  if (disabled(category)) return;
  if (exclusions_ != nullptr && Excluded(category, rule, Source::kRequest, what)) return;
  Finding f{category,
            confidence,
            std::string(rule),
            Source::kRequest,
            Part::kValue,
            SafeExcerpt(what, 64),
            SafeExcerpt(excerpt, limits::kMaxExcerptBytes)};
  Insert(std::move(f));
}

}  // namespace shieldx::detect
