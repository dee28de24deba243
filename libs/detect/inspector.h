// The detection engine's entry point.
//
//   auto inspector = Inspector::Create(Profile::Default());   // once; immutable
//   auto scratch = (*inspector)->NewScratch();                // once per thread
//   Verdict v = (*inspector)->Inspect(request, *scratch);     // per request
//
// Inspect parses the request (parser.h), normalises every field (normalize.h), runs the
// detectors that apply to the field's source, the request-level detectors (protocol,
// scanners, session fixation) and the profile's signature rules, then scores the findings
// under the route's sensitivity (profile.h) and decides allow / challenge / block.
//
// Thread-safety: Inspector is immutable after Create and may be shared by any number of
// threads; a Scratch must not be used by two threads at once. Inspect never fails: limits
// cut inspection short and are reported as protocol findings.
#ifndef SHIELDX_LIBS_DETECT_INSPECTOR_H_
#define SHIELDX_LIBS_DETECT_INSPECTOR_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/detect/arena.h"
#include "libs/detect/detector.h"
#include "libs/detect/finding.h"
#include "libs/detect/parser.h"
#include "libs/detect/profile.h"
#include "libs/detect/protocol.h"
#include "libs/detect/request.h"
#include "libs/detect/signatures.h"
#include "libs/detect/text_util.h"

namespace shieldx::detect {

enum class Action : uint8_t { kAllow, kChallenge, kBlock };
const char* ActionName(Action a);

struct Verdict {
  Action action = Action::kAllow;
  int score = 0;
  uint32_t categories = 0;        // bit per Category with a finding of confidence >= 0.3
  std::vector<Finding> findings;  // strongest first, bounded by limits::kMaxFindings
  std::string explanation;        // one line a human can act on
  std::string route;              // matched route prefix ("" = profile default)
  // Exclusions that dropped findings from this request (their ids, in the order they are in
  // force: the profile's, then the caller's) and how many findings they dropped in all.
  std::vector<std::string> excluded_by;
  uint32_t excluded_findings = 0;
};

class Inspector;

// Per-thread reusable state. Create with Inspector::NewScratch.
class Scratch {
 public:
  Scratch();
  ~Scratch();

  // Values found clean are remembered per Scratch to skip the detectors when the same value
  // comes again in the same field (inspector.cc). Requests with different partitions (tenants, in
  // the orchestrator) share none of them, so one tenant's traffic cannot change how long another
  // tenant's request takes. Default 0.
  void SetCachePartition(uint64_t partition) { cache_partition_ = partition; }
  // Header values, and other fields' values, answered from that memory so far.
  uint64_t clean_header_hits() const { return clean_header_hits_; }
  uint64_t clean_field_hits() const { return clean_field_hits_; }
  // Whole fields answered by their raw value, before normalisation (inspector.cc).
  uint64_t clean_whole_field_hits() const { return clean_whole_field_hits_; }

  // One entry of the clean-value memories (below; public only for inspector.cc's helpers).
  struct CleanHeader {
    uint64_t hash = 0;
    std::string key;    // empty: unused
    uint32_t hits = 0;  // up to kCleanHeaderMaxHits; less one when its pair's other entry
                        // is replaced
  };
  // Header values the scanner check answered from its memory (protocol.h).
  uint64_t scanner_memo_hits() const { return scanner_memo_.hits(); }

 private:
  friend class Inspector;
  Arena arena_;
  ParsedRequest parsed_;
  FindingSink sink_;
  DetectorScratch detector_;
  // The request's values, in the order they are met, each with the detectors that apply and
  // (for long values) its byte-pair filter (text_util.h); run detector by detector.
  struct PendingValue {
    ValueView view;
    uint32_t detectors;
    uint64_t slot;  // stage key (finding.h) = slot << 4 | detector
    int filter;     // index into filters_, -1 for none
    // The pair of clean_headers_ entries the value may be remembered in if no detector
    // finds anything (-1: not remembered).
    int clean_slot = -1;
    int clean_other = -1;
    uint64_t clean_hash = 0;
    bool found = false;  // some detector staged a finding for it
  };
  std::vector<PendingValue> pending_;
  // Values that earlier requests on this thread sent and no detector found anything in (the
  // same User-Agent, Referer and client headers, the same arguments and form fields come
  // again and again), keyed by partition, the field's place, name and flags, raw and
  // canonical value, normalisation flags and the detectors that ran (CleanKey in
  // inspector.cc); compared byte for byte on a hit. Header values use the first
  // kCleanHeaderSlots entries, other fields' values the next kCleanFieldSlots, and whole
  // non-header fields, keyed by their raw value before normalisation, the last
  // kCleanWholeFieldSlots. Two-way: a value may sit in either of two entries chosen by its
  // hash, and a new value replaces the one of the two that was hit less, so a stream of
  // one-off values (cookies, request ids) does not push out the User-Agent every request
  // sends. Names, raw and canonical values of at most kMaxCleanHeaderBytes each: at most
  // about 2.8 MB of keys per Scratch. Used only when the route disables no category.
  std::vector<CleanHeader> clean_headers_;
  bool clean_cache_ = false;  // this request may use clean_headers_
  uint64_t cache_partition_ = 0;
  uint64_t clean_header_hits_ = 0;
  uint64_t clean_field_hits_ = 0;
  uint64_t clean_whole_field_hits_ = 0;
  // Fields looked up by raw value that missed in this request: remembered after the
  // detectors ran if none of the field's values (pending_[begin, end)) had a finding.
  struct WholeFieldMiss {
    const Field* field;
    uint32_t detectors;
    uint64_t hash;
    int slot, other;
    std::size_t begin, end;
  };
  std::vector<WholeFieldMiss> whole_field_misses_;
  ScannerMemo scanner_memo_;  // header values DetectScanner found nothing in (protocol.h)
  std::vector<BigramFilter> filters_;
  std::size_t filters_used_ = 0;
  uint64_t next_slot_ = 0;
  std::vector<const Exclusion*> exclusions_;  // in force for the current request
  std::unique_ptr<SignatureScratch> signatures_;
  std::vector<unsigned> matches_;
};

class Inspector {
 public:
  // Fails with InvalidArgument when a custom rule does not compile.
  static absl::StatusOr<std::unique_ptr<Inspector>> Create(Profile profile);

  std::unique_ptr<Scratch> NewScratch() const;
  Verdict Inspect(const HttpRequest& request, Scratch& scratch) const;
  // The same, with further exclusions in force after the profile's (the orchestrator passes
  // the matched route's). `route_exclusions` is read during the call only.
  Verdict Inspect(const HttpRequest& request, Scratch& scratch,
                  const std::vector<Exclusion>& route_exclusions) const;

  const Profile& profile() const { return profile_; }

 private:
  explicit Inspector(Profile profile) : profile_(std::move(profile)) {}
  void InspectField(const Field& field, const ParsedRequest& parsed, Scratch& s) const;
  // Queues `v` with the detectors that apply to its field; `remember`: use the value memory
  // (false when the whole-field memory covers the field).
  void Defer(const ValueView& v, uint32_t field_detectors, bool remember, Scratch& s) const;
  // Runs each detector over every queued value in turn.
  void RunDeferred(Scratch& s) const;

  Profile profile_;
  ProtocolPolicy protocol_policy_;
  std::unique_ptr<SignatureSet> signatures_;
};

}  // namespace shieldx::detect

#endif  // SHIELDX_LIBS_DETECT_INSPECTOR_H_
