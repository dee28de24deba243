#include "libs/detect/signatures.h"

#include <hs/hs.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "re2/re2.h"

namespace shieldx::detect {

SignatureScratch::~SignatureScratch() {
  if (scratch_ != nullptr) hs_free_scratch(scratch_);
}

SignatureSet::~SignatureSet() {
  if (db_ != nullptr) hs_free_database(db_);
}

absl::StatusOr<std::unique_ptr<SignatureSet>> SignatureSet::Compile(
    const std::vector<CustomRule>& rules) {
  std::unique_ptr<SignatureSet> set(new SignatureSet());
  set->rules_ = rules;
  if (rules.empty()) return set;
  std::vector<const char*> patterns;
  std::vector<unsigned> flags;
  std::vector<unsigned> ids;
  for (unsigned i = 0; i < rules.size(); ++i) {
    const CustomRule& r = rules[i];
    patterns.push_back(r.pattern.c_str());
    flags.push_back(HS_FLAG_SINGLEMATCH | (r.caseless ? HS_FLAG_CASELESS : 0));
    ids.push_back(i);
    if (!r.confirm.empty()) {
      RE2::Options opts;
      opts.set_case_sensitive(!r.caseless);
      opts.set_log_errors(false);
      auto re = std::make_unique<RE2>(r.confirm, opts);
      if (!re->ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("custom rule ", r.id, ": confirm regex: ", re->error()));
      }
      set->confirm_.push_back(std::move(re));
    } else {
      set->confirm_.push_back(nullptr);
    }
  }
  // Compile each pattern alone first so an error names its rule.
  for (unsigned i = 0; i < rules.size(); ++i) {
    hs_database_t* one = nullptr;
    hs_compile_error_t* err = nullptr;
    if (hs_compile(patterns[i], flags[i], HS_MODE_BLOCK, nullptr, &one, &err) != HS_SUCCESS) {
      std::string msg = err != nullptr && err->message != nullptr ? err->message : "unknown error";
      hs_free_compile_error(err);
      return absl::InvalidArgumentError(
          absl::StrCat("custom rule ", rules[i].id, ": pattern does not compile: ", msg));
    }
    hs_free_database(one);
  }
  hs_compile_error_t* err = nullptr;
  if (hs_compile_multi(patterns.data(), flags.data(), ids.data(),
                       static_cast<unsigned>(patterns.size()), HS_MODE_BLOCK, nullptr, &set->db_,
                       &err) != HS_SUCCESS) {
    std::string msg = err != nullptr && err->message != nullptr ? err->message : "unknown error";
    hs_free_compile_error(err);
    return absl::InvalidArgumentError(
        absl::StrCat("custom rules: database does not compile (", rules.size(), " rules): ", msg));
  }
  return set;
}

std::unique_ptr<SignatureScratch> SignatureSet::NewScratch() const {
  std::unique_ptr<SignatureScratch> s(new SignatureScratch());
  if (db_ != nullptr) {
    // hs_alloc_scratch only fails on allocation failure or a corrupt database.
    hs_error_t rc = hs_alloc_scratch(db_, &s->scratch_);
    if (rc != HS_SUCCESS) s->scratch_ = nullptr;
  }
  return s;
}

namespace {

int OnMatch(unsigned int id, unsigned long long /*from*/, unsigned long long /*to*/,
            unsigned int /*flags*/, void* ctx) {
  static_cast<std::vector<unsigned>*>(ctx)->push_back(id);
  return 0;
}

}  // namespace

void SignatureSet::Match(std::string_view value, Source source, SignatureScratch& scratch,
                         std::vector<unsigned>* out) const {
  out->clear();
  if (db_ == nullptr || scratch.scratch_ == nullptr || value.empty()) return;
  scratch.matches_.clear();
  hs_scan(db_, value.data(), static_cast<unsigned>(value.size()), 0, scratch.scratch_, OnMatch,
          &scratch.matches_);
  for (unsigned id : scratch.matches_) {
    const CustomRule& r = rules_[id];
    if (!r.targets.empty() &&
        std::find(r.targets.begin(), r.targets.end(), source) == r.targets.end()) {
      continue;
    }
    if (confirm_[id] != nullptr &&
        !RE2::PartialMatch(re2::StringPiece(value.data(), value.size()), *confirm_[id])) {
      continue;
    }
    out->push_back(id);
  }
}

}  // namespace shieldx::detect
