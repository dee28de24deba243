// Findings: what a detector saw, where, and how sure it is.
#ifndef SHIELDX_LIBS_DETECT_FINDING_H_
#define SHIELDX_LIBS_DETECT_FINDING_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "libs/detect/request.h"

namespace shieldx::detect {

struct Exclusion;  // exclusion.h

// Attack classes. Stable names (CategoryName) appear in verdicts, configs and metrics.
enum class Category : uint8_t {
  kSqli,
  kXss,
  kCmdi,           // OS command injection (shell / cmd.exe / PowerShell)
  kCodeInjection,  // PHP / Java / Node / Python / expression-language code
  kPathTraversal,
  kLfi,  // access to OS / application files
  kRfi,
  kSsrf,
  kXxe,
  kSsti,
  kJndi,
  kNosqli,
  kLdapi,
  kProtocol,  // HTTP protocol anomalies, smuggling, header injection
  kScanner,   // attack tools and scanners
  kSessionFixation,
  kMailInjection,  // SMTP/IMAP command injection, SSI
  kApiAbuse,       // GraphQL introspection and similar API probing
  kCustom,         // user-defined signature rule
  kCount,
};
inline constexpr int kCategoryCount = static_cast<int>(Category::kCount);
const char* CategoryName(Category c);
// Parses a CategoryName; returns false when unknown.
bool ParseCategory(std::string_view name, Category* out);

struct Finding {
  Category category;
  float confidence;     // 0..1: how likely this finding alone is an attack
  std::string rule;     // detector rule id, e.g. "sqli.union-select"
  Source source;        // where the value came from
  Part part;            // value or name
  std::string field;    // field name (bounded, escaped)
  std::string excerpt;  // offending excerpt (bounded, escaped, safe to show)
};

// Per-request collector. Keeps every finding's score contribution but only the strongest
// kMaxFindings findings' details.
class FindingSink {
 public:
  void Clear();
  // `text` is the inspected (normalised) value; [pos, pos+len) the offending part.
  void Add(Category category, float confidence, std::string_view rule, const Field& field,
           std::string_view text, std::size_t pos, std::size_t len);
  // A finding not tied to one field (protocol anomalies, request-level signals).
  void AddRequestLevel(Category category, float confidence, std::string_view rule,
                       std::string_view what, std::string_view excerpt);

  // Staging: between BeginStaging and FlushStaged, Add only records the finding under the
  // current stage key (AddRequestLevel is not staged); FlushStaged then adds them in key order
  // (equal keys in the order they came), so the result is exactly that of adding them in that
  // order. The inspector runs each detector over all values of a request (its code stays in the
  // instruction cache) and keys findings by (value, detector) to keep value-by-value results.
  void BeginStaging() { staging_ = true; }
  void SetStageKey(uint64_t key) { stage_key_ = key; }
  void FlushStaged();

  const std::vector<Finding>& findings() const { return findings_; }
  // Findings staged so far (while staging): a detector added some when this grows.
  std::size_t staged_count() const { return staged_.size(); }
  // Highest confidence seen per category (0 when none).
  float max_confidence(Category c) const { return max_conf_[static_cast<int>(c)]; }
  // Categories whose detectors are disabled by the profile are dropped at Add time.
  void set_disabled_mask(uint32_t mask) { disabled_mask_ = mask; }
  bool disabled(Category c) const { return (disabled_mask_ >> static_cast<int>(c)) & 1u; }
  // Exclusions in force for this request (exclusion.h); a finding one of them matches is
  // dropped at Add time and counted against the first that matches. `list` must outlive the
  // request; nullptr or an empty list: none.
  void set_exclusions(const std::vector<const Exclusion*>* list);
  // Findings dropped per exclusion of that list (same order), since set_exclusions.
  const std::vector<uint32_t>& excluded_counts() const { return excluded_counts_; }

 private:
  void Insert(Finding f);
  void AddFinding(Finding f);  // Add's cheap exit for a full sink, then Insert
  // Whether an exclusion in force drops the finding (and counts it).
  bool Excluded(Category category, std::string_view rule, Source source,
                std::string_view field_name);
  struct Staged {
    uint64_t key;
    Finding finding;
  };
  std::vector<Finding> findings_;
  std::vector<Staged> staged_;
  bool staging_ = false;
  uint64_t stage_key_ = 0;
  float max_conf_[kCategoryCount] = {};
  uint32_t disabled_mask_ = 0;
  const std::vector<const Exclusion*>* exclusions_ = nullptr;
  std::vector<uint32_t> excluded_counts_;
};

// Renders bytes for display: printable ASCII kept, everything else \xNN, at most `max_bytes`
// output bytes (an ellipsis marks truncation). Safe for logs, JSON and terminals.
std::string SafeExcerpt(std::string_view s, std::size_t max_bytes);

}  // namespace shieldx::detect

#endif  // SHIELDX_LIBS_DETECT_FINDING_H_
