// User-defined signature rules: every pattern of a rule set is compiled into ONE Vectorscan
// (Hyperscan) block-mode database, so a value is scanned once whatever the number of rules.
// A rule may carry an RE2 confirmation regex that must also match (for conditions Vectorscan
// cannot express or to cut false positives). Both engines are linear-time: no backtracking
// regex engine ever touches request data.
//
// Thread-safety: a SignatureSet is immutable after Compile and safe to share; each thread
// needs its own SignatureScratch (NewScratch).
#ifndef SHIELDX_LIBS_DETECT_SIGNATURES_H_
#define SHIELDX_LIBS_DETECT_SIGNATURES_H_

#include <memory>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/detect/profile.h"

struct hs_database;
struct hs_scratch;

namespace re2 {
class RE2;
}

namespace shieldx::detect {

class SignatureScratch {
 public:
  ~SignatureScratch();
  SignatureScratch(const SignatureScratch&) = delete;
  SignatureScratch& operator=(const SignatureScratch&) = delete;

 private:
  friend class SignatureSet;
  SignatureScratch() = default;
  hs_scratch* scratch_ = nullptr;
  std::vector<unsigned> matches_;
};

class SignatureSet {
 public:
  // Compiles `rules`. InvalidArgument names the rule id and the compiler's message.
  static absl::StatusOr<std::unique_ptr<SignatureSet>> Compile(
      const std::vector<CustomRule>& rules);
  ~SignatureSet();

  std::unique_ptr<SignatureScratch> NewScratch() const;
  std::size_t size() const { return rules_.size(); }
  const CustomRule& rule(unsigned i) const { return rules_[i]; }

  // Indices of the rules that match `value` from a field of `source` (targets and
  // confirmation applied). `out` is cleared first.
  void Match(std::string_view value, Source source, SignatureScratch& scratch,
             std::vector<unsigned>* out) const;

 private:
  SignatureSet() = default;
  std::vector<CustomRule> rules_;
  std::vector<std::unique_ptr<re2::RE2>> confirm_;
  hs_database* db_ = nullptr;
};

}  // namespace shieldx::detect

#endif  // SHIELDX_LIBS_DETECT_SIGNATURES_H_
