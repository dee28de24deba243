#include "libs/detect/inspector.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/detect/limits.h"
#include "libs/detect/normalize.h"
#include "libs/detect/sqli.h"
#include "libs/detect/text_util.h"

namespace shieldx::detect {
namespace {

// Detector selection per field.
enum DetectorBit : uint32_t {
  kDetSqli = 1 << 0,
  kDetXss = 1 << 1,
  kDetCmdi = 1 << 2,
  kDetCode = 1 << 3,
  kDetPath = 1 << 4,
  kDetSsrf = 1 << 5,
  kDetSsti = 1 << 6,
  kDetJndi = 1 << 7,
  kDetNosql = 1 << 8,
  kDetLdap = 1 << 9,
  kDetXxe = 1 << 10,
  kDetCrlf = 1 << 11,
  kDetMail = 1 << 12,
  kDetAll = (1 << 13) - 1,
  // The detectors with rules that can match a value of ASCII letters and digits only.
  kDetAlnumValues = kDetCmdi | kDetCode | kDetNosql,
};

// The clean-value cache key of `v` under detectors `dets` in `partition`: everything a
// detector reads (the field's place, name, flags and raw value, the canonical value and its
// normalisation flags). Looked up by its parts, without copying them (Hash, Equals); the
// bytes are written out only for a value that is remembered (Store).
struct CleanKey {
  CleanKey(const ValueView& v, uint32_t dets, uint64_t partition)
      : partition(partition),
        meta{dets,
             v.norm_flags,
             v.field->flags,
             v.document ? 1u : 0u,
             static_cast<uint32_t>(v.field->source) << 8 | static_cast<uint32_t>(v.field->part),
             static_cast<uint32_t>(v.field->name.size()),
             static_cast<uint32_t>(v.field->value.size())},
        name(v.field->name),
        value(v.field->value),
        text(v.text) {
    // Most values are their own canonical form: hashed and kept once.
    if (text == value) {
      text = {};
      meta[3] |= 2u;
    }
  }
  // MixBytes (text_util.h): unkeyed, the same in every process.
  uint64_t Hash() const {
    uint64_t h = partition ^ 0x243f6a8885a308d3ULL;
    for (uint32_t m : meta) h = MixWord(h, m);
    h = MixBytes(h, name);
    h = MixBytes(h, value);
    return MixBytes(h, text);
  }
  static constexpr std::size_t kHead = sizeof(uint64_t) + 7 * sizeof(uint32_t);
  bool Equals(const std::string& stored) const {
    if (stored.size() != kHead + name.size() + value.size() + text.size()) return false;
    char head[kHead];
    WriteHead(head);
    // string_view comparisons: an empty part may have no data pointer (memcmp must not see it).
    const std::string_view k = stored;
    return k.substr(0, kHead) == std::string_view(head, kHead) &&
           k.substr(kHead, name.size()) == name &&
           k.substr(kHead + name.size(), value.size()) == value &&
           k.substr(kHead + name.size() + value.size()) == text;
  }
  void Store(std::string* key) const {
    char head[kHead];
    WriteHead(head);
    key->assign(head, kHead);
    key->append(name);
    key->append(value);
    key->append(text);
  }

 private:
  void WriteHead(char* out) const {
    std::memcpy(out, &partition, sizeof(partition));
    std::memcpy(out + sizeof(partition), meta, sizeof(meta));
  }
  uint64_t partition;
  // Detectors, normalisation and field flags, document (bit 0) and canonical form = raw value
  // (bit 1), place, two sizes.
  uint32_t meta[7];
  std::string_view name, value, text;
};

// The key of a whole field by its raw value: a CleanKey whose canonical value is the raw
// value and whose normalisation flags say whether base64 decodings are inspected (a profile
// setting that changes which values the field yields).
CleanKey WholeFieldKey(const Field& field, uint32_t dets, uint64_t partition, bool inspect_base64) {
  const ValueView raw{&field, field.value, field.value, inspect_base64 ? 1u : 0u, 1.0f, false};
  return CleanKey(raw, dets, partition);
}

// The two entries of the memory region [base, base + count) of Scratch::clean_headers_ a key
// with `hash` may sit in.
struct CleanPair {
  int a, b;
};
CleanPair PairFor(uint64_t hash, std::size_t base, std::size_t count) {
  const int a = static_cast<int>(base + hash % count);
  int b = static_cast<int>(base + (hash >> 32) % count);
  if (b == a) b = a ^ 1;
  return {a, b};
}

// Whether `key` is remembered in its pair (counting the hit).
bool FindClean(std::vector<Scratch::CleanHeader>& table, CleanPair pair, uint64_t hash,
               const CleanKey& key) {
  for (int i : {pair.a, pair.b}) {
    Scratch::CleanHeader& e = table[i];
    if (e.hash == hash && key.Equals(e.key)) {
      if (e.hits < limits::kCleanHeaderMaxHits) ++e.hits;
      return true;
    }
  }
  return false;
}

// Remembers `key` in its pair: an unused entry of the two, else the one hit less.
void RememberClean(std::vector<Scratch::CleanHeader>& table, CleanPair pair, uint64_t hash,
                   const CleanKey& key) {
  Scratch::CleanHeader& ea = table[pair.a];
  Scratch::CleanHeader& eb = table[pair.b];
  const bool take_a = ea.key.empty() || (!eb.key.empty() && ea.hits <= eb.hits);
  Scratch::CleanHeader& e = take_a ? ea : eb;
  e.hash = hash;
  e.hits = 0;
  key.Store(&e.key);
  // Ageing: an entry hit often long ago gives way after as many replacements beside it.
  uint32_t& other_hits = (take_a ? eb : ea).hits;
  if (other_hits > 0) --other_hits;
}

// Letters and digits only; with '_' or '-' as well; or anything else.
enum class WordClass { kAlnum, kWord, kOther };
WordClass WordClassOf(std::string_view s) {
  WordClass c = WordClass::kAlnum;
  for (char ch : s) {
    if (IsAsciiAlnum(static_cast<unsigned char>(ch))) continue;
    if (ch != '_' && ch != '-') return WordClass::kOther;
    c = WordClass::kWord;
  }
  return c;
}

// Whether a space-separated token of `v` starts like a file path: '/', '~', '.', '\\' or a
// drive letter ("C:\\"). A User-Agent's product tokens start with a name.
bool FilePathToken(std::string_view v) {
  auto path_start = [v](std::size_t i) {
    const char c = v[i];
    return c == '/' || c == '~' || c == '.' || c == '\\' ||
           (i + 2 < v.size() && IsAsciiAlpha(static_cast<unsigned char>(c)) && v[i + 1] == ':' &&
            (v[i + 2] == '\\' || v[i + 2] == '/'));
  };
  if (v.empty()) return false;
  if (path_start(0)) return true;
  for (std::size_t i = Find(v, ' '); i != std::string_view::npos; i = Find(v, ' ', i + 1)) {
    if (i + 1 < v.size() && path_start(i + 1)) return true;
  }
  return false;
}

uint32_t DetectorsFor(const Field& f, const ParsedRequest& parsed) {
  if (f.flags & kFieldFileContent) return 0;  // InspectField checks it for scripts only
  // An uploaded text file (a log, notes, a CSV export) is stored or read, not put into a
  // query or a command line: logs hold the SQL errors, shell lines and attacks they record.
  // What can hurt from it is markup served back, a server-side script or template, and a
  // lookup a logger resolves.
  if (f.flags & kFieldFileText) return kDetXss | kDetCode | kDetSsti | kDetJndi;
  // Its parts are fields of their own; the container itself is a URL or a document.
  if (f.flags & kFieldContainer) return kDetSsrf | kDetPath | kDetJndi;
  if (f.flags & kFieldWholeArgs) return kDetXss;
  switch (f.source) {
    case Source::kRequest:
    case Source::kMethod:
      return 0;
    case Source::kPath:
      return kDetPath | kDetCrlf;
    case Source::kPathSegment:
      // A matrix parameter is an argument like a query one: a file name in it is not part
      // of the path the path checks read.
      if (f.flags & kFieldPathParam) return kDetAll;
      return kDetAll & ~(kDetPath | kDetXxe | kDetCrlf);
    case Source::kHeader:
      if (f.flags & kFieldStructured) {
        // None of these headers' grammars has a single quote, brace, angle bracket, back
        // quote, backslash, pipe or dollar sign (Sec-CH-UA's made-up brands use parentheses,
        // ';', '=' and '?', so those do not count): a value with one carries something else,
        // such as Struts2's OGNL expression in the Content-Type (S2-045) or a quote break in
        // an Accept-Language or Origin an application stores, and gets the free-text
        // detectors.
        if (FindFirstOf(f.value, "'{}<>`\\|$") != std::string_view::npos) return kDetAll & ~kDetXxe;
        return kDetJndi;
      }
      if (IEquals(f.name, "referer") || IEquals(f.name, "origin")) {
        return kDetSqli | kDetXss | kDetCmdi | kDetCode | kDetJndi | kDetSsti;
      }
      if (IEquals(f.name, "user-agent")) {
        // Product tokens ("Mozilla/5.0", "curl/8.4.0") are full of slashes; the path checks
        // run only when a token reads as a file path ("cat /root/.ssh/id_rsa", "../x").
        return kDetAll & ~(kDetLdap | (FilePathToken(f.value) ? 0u : kDetPath));
      }
      return kDetAll;
    case Source::kFileName:
      return kDetPath | kDetCmdi | kDetXss | kDetSqli | kDetCode;
    case Source::kBodyRaw:
      if (parsed.body_kind == BodyKind::kXml) return kDetXxe;
      if (parsed.body_kind == BodyKind::kJson) return 0;
      if (parsed.body_kind == BodyKind::kBinary) {
        // A Java serialization stream as the body (AC ED 00 05): what RMI and JMX invokers
        // and other deserialising endpoints read. Only the code detector judges it.
        return f.value.starts_with(std::string_view("\xac\xed\x00\x05", 4)) ? kDetCode : 0u;
      }
      return kDetAll;
    case Source::kXml:
      return kDetAll;
    default:
      return kDetAll;
  }
}

// Whether `s` holds only base64 (either alphabet, padding, line breaks) and so hex digits.
bool OnlyBase64Characters(std::string_view s) {
  for (unsigned char c : s) {
    if (!IsBase64Char(c) && c != '=' && c != '\r' && c != '\n') return false;
  }
  return true;
}

// Upload file names that are server-side scripts.
bool IsScriptUploadName(std::string_view name) {
  std::string lower(name.substr(0, 256));
  for (char& c : lower) c = ToLowerAscii(c);
  // Trailing dots/spaces are stripped by Windows file systems.
  while (!lower.empty() && (lower.back() == '.' || lower.back() == ' ')) lower.pop_back();
  for (std::string_view ext :
       {".php",  ".php3",  ".php4",     ".php5", ".php7", ".phtml", ".pht", ".phar",
        ".phps", ".inc",   ".jsp",      ".jspx", ".jsw",  ".jsv",   ".asp", ".aspx",
        ".ashx", ".asmx",  ".cer",      ".asa",  ".cgi",  ".pl",    ".py",  ".rb",
        ".sh",   ".shtml", ".htaccess", ".war",  ".cfm",  ".cfml",  ".exe", ".dll",
        ".bat",  ".cmd",   ".ps1",      ".vbs",  ".hta",  ".svg"}) {
    if (EndsWith(lower, ext)) return ext != ".svg" && ext != ".inc";
    if (lower.find(std::string(ext) + ".") != std::string::npos && ext != ".svg" && ext != ".inc" &&
        ext != ".pl" && ext != ".sh" && ext != ".py" && ext != ".rb" && ext != ".cer") {
      return true;  // shell.php.jpg double extensions
    }
  }
  return false;
}

// Where a server-side script opens inside an uploaded file's bytes (a web shell behind an
// image name or type: "<?php" in a JPEG comment, a JSP or ASP page), or npos. Each marker is
// five or more bytes that only such a page contains; '<' is found with memchr, so binary
// uploads cost little.
std::size_t ServerScriptInUpload(std::string_view content) {
  static constexpr std::string_view kMarkers[] = {
      "<?php",        "<%@ page",       "<%@page",       "<jsp:scriptlet", "<jsp:declaration",
      "<%@ language", "<%@language",    "<%eval ",       "<%execute ",     "<% eval ",
      "<% execute ",  "<script runat=", "<%@ webhandler"};
  const char* base = content.data();
  const std::size_t n = content.size();
  for (std::size_t i = 0; i < n;) {
    const void* lt = std::memchr(base + i, '<', n - i);
    if (lt == nullptr) break;
    i = static_cast<std::size_t>(static_cast<const char*>(lt) - base);
    for (std::string_view m : kMarkers) {
      if (n - i < m.size()) continue;
      bool same = true;
      for (std::size_t k = 1; k < m.size() && same; ++k) same = ToLowerAscii(base[i + k]) == m[k];
      if (same) return i;
    }
    ++i;
  }
  return std::string_view::npos;
}

}  // namespace

const char* ActionName(Action a) {
  switch (a) {
    case Action::kAllow:
      return "allow";
    case Action::kChallenge:
      return "challenge";
    case Action::kBlock:
      return "block";
  }
  return "allow";
}

Scratch::Scratch() : arena_(limits::kArenaBlockBytes) {
  clean_headers_.resize(limits::kCleanHeaderSlots + limits::kCleanFieldSlots +
                        limits::kCleanWholeFieldSlots);
  detector_.arena = &arena_;
  detector_.sql_tokens.reserve(256);
}
Scratch::~Scratch() = default;

absl::StatusOr<std::unique_ptr<Inspector>> Inspector::Create(Profile profile) {
  std::unique_ptr<Inspector> in(new Inspector(std::move(profile)));
  in->protocol_policy_.allowed_methods = in->profile_.allowed_methods;
  auto sigs = SignatureSet::Compile(in->profile_.custom_rules);
  if (!sigs.ok()) return sigs.status();
  in->signatures_ = std::move(*sigs);
  return in;
}

std::unique_ptr<Scratch> Inspector::NewScratch() const {
  auto s = std::make_unique<Scratch>();
  s->signatures_ = signatures_->NewScratch();
  return s;
}

void Inspector::Defer(const ValueView& v, uint32_t field_detectors, bool remember,
                      Scratch& s) const {
  uint32_t dets = field_detectors;
  // Letters and digits only (ids, counters, hashes, flags: most fields of a beacon): no
  // quote, operator, tag, separator or expression can be in it, so only the detectors that
  // judge bare words run (a command in a command parameter, Java and NoSQL names, serialized
  // object prefixes; traversal for literal "0x2e"-style bytes). Their base64 decoding, if
  // plausible, is a value of its own with its own detectors.
  // With '_' and '-' as well (base64url tokens, UUIDs, dates, slugs, snake_case names), the
  // SQL detector runs too: "information_schema" and "1--" are SQL.
  bool alnum = false;
  if ((dets & ~kDetAlnumValues) != 0) {
    const WordClass word = WordClassOf(v.lower);
    if (word != WordClass::kOther) {
      alnum = word == WordClass::kAlnum;
      dets &= kDetAlnumValues | (alnum && !IsSqlCatalogName(v.lower) ? 0u : kDetSqli) |
              (Find(v.lower, "0x") != std::string_view::npos ? kDetPath : 0u);
    }
  }
  // A base64 path segment is an opaque parameter the application decodes, not a path
  // component: what it decodes to can be a file path.
  if ((v.norm_flags & kNormBase64) && v.field->source == Source::kPathSegment) dets |= kDetPath;
  const uint64_t slot = s.next_slot_++;
  if (dets == 0) return;
  // A value this thread has seen clean, in the same field, with the same detectors: the
  // detectors are functions of the value and its field alone, so they would find nothing
  // again.
  int clean_slot = -1;
  int clean_other = -1;
  uint64_t clean_hash = 0;
  // (A field the whole-field memory covers is looked up there, by its raw value, instead.)
  if (s.clean_cache_ && remember && v.weight == 1.0f &&
      std::max({v.text.size(), v.field->value.size(), v.field->name.size()}) <=
          limits::kMaxCleanHeaderBytes) {
    const CleanKey key(v, dets, s.cache_partition_);
    clean_hash = key.Hash();
    // Header values in the first kCleanHeaderSlots entries, other fields' values next.
    const bool header = v.field->source == Source::kHeader;
    const CleanPair pair =
        header ? PairFor(clean_hash, 0, limits::kCleanHeaderSlots)
               : PairFor(clean_hash, limits::kCleanHeaderSlots, limits::kCleanFieldSlots);
    if (FindClean(s.clean_headers_, pair, clean_hash, key)) {
      ++(header ? s.clean_header_hits_ : s.clean_field_hits_);
      return;
    }
    clean_slot = pair.a;
    clean_other = pair.b;
  }
  // Long values: one pass records which byte pairs occur, so keyword scans that cannot
  // match are skipped (Find in text_util.h; same results, less work). A request with more
  // long values than filters kept runs the rest without one (same results).
  int filter = -1;
  if (v.lower.size() >= limits::kBigramFilterMinBytes &&
      s.filters_used_ < limits::kMaxBigramFilters) {
    if (s.filters_.size() <= s.filters_used_) s.filters_.resize(s.filters_used_ + 1);
    s.filters_[s.filters_used_].Build(v.lower);
    filter = static_cast<int>(s.filters_used_++);
  }
  ValueView view = v;
  view.alnum = alnum;
  s.pending_.push_back(
      Scratch::PendingValue{view, dets, slot, filter, clean_slot, clean_other, clean_hash});
}

void Inspector::RunDeferred(Scratch& s) const {
  using DetectFn = void (*)(const ValueView&, DetectorScratch&, FindingSink&);
  // In the order of the detector bits (kDetSqli = bit 0 ...), which is also the order their
  // findings are added in for one value.
  static constexpr DetectFn kDetectors[] = {
      DetectSqli,          DetectXss,     DetectCmdi, DetectCodeInjection,
      DetectPathTraversal, DetectSsrfRfi, DetectSsti, DetectJndi,
      DetectNosqli,        DetectLdapi,   DetectXxe,  DetectHeaderInjection,
      DetectMailSsi};
  static_assert(std::size(kDetectors) == 13 && kDetAll == (1u << 13) - 1);
  FindingSink& sink = s.sink_;
  DetectorScratch& ds = s.detector_;
  for (std::size_t d = 0; d < std::size(kDetectors); ++d) {
    for (Scratch::PendingValue& p : s.pending_) {
      if (!((p.detectors >> d) & 1u)) continue;
      ScopedBigramFilter scoped_filter(p.filter >= 0 ? &s.filters_[p.filter] : nullptr);
      sink.SetStageKey(p.slot << 4 | d);
      const std::size_t staged = sink.staged_count();
      kDetectors[d](p.view, ds, sink);
      p.found = p.found || sink.staged_count() != staged;
    }
  }
  // The entry to fill is chosen here, not at lookup, so that two values of one request that
  // share a pair take both entries.
  for (const Scratch::PendingValue& p : s.pending_) {
    if (p.clean_slot < 0 || p.found) continue;
    RememberClean(s.clean_headers_, {p.clean_slot, p.clean_other}, p.clean_hash,
                  CleanKey(p.view, p.detectors, s.cache_partition_));
  }
  // Whole fields none of whose values had a finding.
  for (const Scratch::WholeFieldMiss& m : s.whole_field_misses_) {
    bool found = false;
    for (std::size_t i = m.begin; i < m.end && !found; ++i) found = s.pending_[i].found;
    if (!found) {
      RememberClean(
          s.clean_headers_, {m.slot, m.other}, m.hash,
          WholeFieldKey(*m.field, m.detectors, s.cache_partition_, profile_.inspect_base64));
    }
  }
}

void Inspector::InspectField(const Field& field, const ParsedRequest& parsed, Scratch& s) const {
  if (field.value.empty()) return;
  if (field.flags & kFieldFileContent) {
    std::size_t at = ServerScriptInUpload(field.value);
    if (at != std::string_view::npos) {
      s.sink_.SetStageKey(s.next_slot_++ << 4);
      s.sink_.Add(Category::kCodeInjection, 0.85f, "code.script-in-upload", field, field.value, at,
                  std::min<std::size_t>(field.value.size() - at, 32));
    }
    return;
  }
  // A non-header field this thread has seen clean with the same raw value, name, place and
  // detectors: every value inspected below (the canonical form, a base64 decoding) is a
  // function of those, so the detectors would find nothing again. Looked up before anything
  // is normalised. Not with custom rules (they are this Inspector's, and one Scratch may
  // serve others) and not for file names (the script-upload check below is no detector).
  const bool whole_memo =
      s.clean_cache_ && signatures_->size() == 0 && field.source != Source::kHeader &&
      field.source != Source::kFileName &&
      std::max(field.value.size(), field.name.size()) <= limits::kMaxCleanHeaderBytes;
  // The detectors that apply to the field (its values narrow them further in Defer).
  const uint32_t field_dets = DetectorsFor(field, parsed);
  uint64_t whole_hash = 0;
  CleanPair whole_pair{-1, -1};
  if (whole_memo) {
    const CleanKey key =
        WholeFieldKey(field, field_dets, s.cache_partition_, profile_.inspect_base64);
    whole_hash = key.Hash();
    whole_pair = PairFor(whole_hash, limits::kCleanHeaderSlots + limits::kCleanFieldSlots,
                         limits::kCleanWholeFieldSlots);
    if (FindClean(s.clean_headers_, whole_pair, whole_hash, key)) {
      ++s.clean_whole_field_hits_;
      return;
    }
  }
  const std::size_t pending_before = s.pending_.size();
  // A long value is inspected in windows of half the inspected size: the head, the tail and
  // the windows between them, which overlap by kValueWindowOverlap bytes so that a payload
  // across a boundary is whole in one of them. A middle window of only base64 or hex
  // characters (an inline image's body) is skipped: nothing in it reads as syntax.
  auto inspect_part = [&](std::string_view part) {
    Normalized n = Normalize(part, s.arena_);
    // A document: over 256 bytes and at least eight line breaks (counted only that far).
    bool document = false;
    if (part.size() > 256) {
      int lines = 0;
      for (std::size_t p = part.find('\n'); p != std::string_view::npos && lines < 8;
           p = part.find('\n', p + 1)) {
        ++lines;
      }
      document = lines >= 8;
    }
    ValueView v{&field, n.text, n.lower, n.flags, 1.0f, document};
    Defer(v, field_dets, !whole_memo, s);
    // Signature rules see the canonical value.
    if (signatures_->size() > 0) {
      s.sink_.SetStageKey(s.next_slot_++ << 4);
      signatures_->Match(n.text, field.source, *s.signatures_, &s.matches_);
      for (unsigned id : s.matches_) {
        const CustomRule& r = signatures_->rule(id);
        s.sink_.Add(r.category, r.confidence, "custom." + r.id, field, n.text, 0,
                    std::min<std::size_t>(n.text.size(), 64));
      }
    }
    // Base64-wrapped payloads.
    if (profile_.inspect_base64 && !(field.flags & kFieldStructured) &&
        part.size() >= limits::kMinBase64Bytes && part.size() <= limits::kMaxBase64Bytes) {
      std::string_view b64 = n.text;
      std::size_t comma = b64.find(";base64,");
      if (comma != std::string_view::npos) b64 = b64.substr(comma + 8);
      std::string_view decoded = DecodePlausibleBase64(b64, s.arena_);
      if (!decoded.empty()) {
        Normalized d = Normalize(decoded, s.arena_);
        ValueView dv{&field, d.text, d.lower, d.flags | kNormBase64, 0.95f, document};
        Defer(dv, field_dets, !whole_memo, s);
      }
    }
  };
  const std::string_view whole = field.value;
  if (whole.size() <= limits::kMaxInspectedValueBytes) {
    inspect_part(whole);
  } else {
    const std::size_t window = limits::kMaxInspectedValueBytes / 2;
    const std::size_t tail_start = whole.size() - window;
    const std::size_t middle_end = tail_start + limits::kValueWindowOverlap;
    inspect_part(whole.substr(0, window));
    for (std::size_t end = window; end < middle_end;) {
      const std::size_t start = end - limits::kValueWindowOverlap;
      end = std::min(start + window, middle_end);
      const std::string_view part = whole.substr(start, end - start);
      if (!OnlyBase64Characters(part)) inspect_part(part);
    }
    inspect_part(whole.substr(tail_start));
  }
  if (whole_memo) {
    s.whole_field_misses_.push_back({&field, field_dets, whole_hash, whole_pair.a, whole_pair.b,
                                     pending_before, s.pending_.size()});
  }
  if (field.source == Source::kFileName && IsScriptUploadName(field.value)) {
    s.sink_.SetStageKey(s.next_slot_++ << 4);
    s.sink_.Add(Category::kCodeInjection, 0.8f, "code.script-upload", field, field.value, 0,
                field.value.size());
  }
}

Verdict Inspector::Inspect(const HttpRequest& request, Scratch& s) const {
  static const std::vector<Exclusion> kNone;
  return Inspect(request, s, kNone);
}

Verdict Inspector::Inspect(const HttpRequest& request, Scratch& s,
                           const std::vector<Exclusion>& route_exclusions) const {
  s.arena_.Reset();
  s.sink_.Clear();
  ParseRequest(request, s.arena_, &s.parsed_);
  const ParsedRequest& parsed = s.parsed_;

  // Route.
  const RouteProfile* route = nullptr;
  for (const RouteProfile& r : profile_.routes) {
    if (StartsWith(parsed.path, r.path_prefix)) {
      route = &r;
      break;
    }
  }
  Sensitivity sensitivity =
      route && route->sensitivity ? *route->sensitivity : profile_.sensitivity;
  int block_threshold =
      route && route->block_threshold ? *route->block_threshold : profile_.block_threshold;
  int challenge_threshold = route && route->challenge_threshold ? *route->challenge_threshold
                                                                : profile_.challenge_threshold;
  uint32_t disabled = route && route->disabled_categories ? *route->disabled_categories
                                                          : profile_.disabled_categories;
  s.sink_.set_disabled_mask(disabled);
  s.exclusions_.clear();
  for (const Exclusion& e : profile_.exclusions) {
    if (StartsWith(parsed.path, e.path_prefix)) s.exclusions_.push_back(&e);
  }
  for (const Exclusion& e : route_exclusions) s.exclusions_.push_back(&e);
  s.sink_.set_exclusions(&s.exclusions_);
  // A finding dropped for a disabled category or by an exclusion would make a value look
  // clean.
  s.clean_cache_ = disabled == 0 && s.exclusions_.empty();

  // Values are queued field by field, then each detector runs over all of them: one
  // detector's code stays in the instruction cache across the request's values. Findings are
  // staged and added in the field-by-field order, so the result is the same.
  s.pending_.clear();
  s.whole_field_misses_.clear();
  s.filters_used_ = 0;
  s.next_slot_ = 0;
  s.sink_.BeginStaging();
  for (const Field& f : parsed.fields) InspectField(f, parsed, s);
  RunDeferred(s);
  s.sink_.FlushStaged();
  // Upload-name headers (X-Filename and friends).
  for (const Header& h : request.headers) {
    // IEquals compares sizes first: no copy or lower-casing of every header name.
    const std::string_view name = h.name;
    if (IEquals(name, "x-filename") || IEquals(name, "x_filename") || IEquals(name, "x.filename") ||
        IEquals(name, "x-file-name") || IEquals(name, "x-upload-filename")) {
      if (IsScriptUploadName(h.value)) {
        Field f{Source::kHeader, Part::kValue, 0, h.name, h.value};
        s.sink_.Add(Category::kCodeInjection, 0.8f, "code.script-upload", f, h.value, 0,
                    h.value.size());
      }
    }
  }
  DetectProtocol(request, parsed, protocol_policy_, s.sink_);
  DetectScanner(request, parsed, s.sink_, &s.scanner_memo_, s.cache_partition_);
  DetectSessionFixation(request, parsed, s.sink_);
  DetectUnsignedJwt(request, parsed, s.sink_);
  DetectFloatDos(parsed, s.sink_);
  DetectRequestHost(request, parsed, s.sink_);

  // Score.
  Verdict v;
  v.route = route ? route->path_prefix : "";
  float max_conf = 0;
  for (int c = 0; c < kCategoryCount; ++c) {
    float conf = s.sink_.max_confidence(static_cast<Category>(c));
    if (conf >= 0.3f) v.categories |= 1u << c;
    max_conf = std::max(max_conf, conf);
  }
  // Corroboration: one point per further attack class seen in the same field as the
  // strongest finding (or request-wide). Weak signals scattered over the fields of a large
  // form (code, documents) are not one payload showing several attack traits.
  // A size limit reached (more fields, a longer URI or header, deeper JSON than inspected)
  // says how big the message is, not what it carries: it backs no finding and is backed by
  // none (large telemetry posts reach the field limit every time).
  auto size_limit = [](const Finding& f) {
    return f.source == Source::kRequest &&
           (f.rule == "protocol.too-many-fields" || f.rule == "protocol.fields-not-inspected" ||
            f.rule == "protocol.uri-too-long" || f.rule == "protocol.header-too-long" ||
            f.rule == "protocol.too-many-headers" || f.rule == "protocol.json-too-deep" ||
            f.rule == "protocol.body-exceeds-inspection");
  };
  const Finding* top = nullptr;
  for (const Finding& f : s.sink_.findings()) {
    if (size_limit(f)) continue;
    if (top == nullptr || f.confidence > top->confidence) top = &f;
  }
  int extra = 0;
  if (top != nullptr) {
    uint32_t corroborating = 0;
    for (const Finding& f : s.sink_.findings()) {
      if (f.category == top->category || f.confidence < 0.3f || size_limit(f)) continue;
      // A request-wide finding (a protocol anomaly, a scanner trait) backs a field's finding
      // only when that finding is itself substantial, not a weak trait somewhere in a large
      // beacon.
      const bool request_wide = top->source == Source::kRequest || f.source == Source::kRequest;
      const Finding& field_side = top->source == Source::kRequest ? f : *top;
      bool same_place = (request_wide && (field_side.source == Source::kRequest ||
                                          field_side.confidence >= 0.45f)) ||
                        (f.source == top->source && f.field == top->field);
      if (same_place) corroborating |= 1u << static_cast<int>(f.category);
    }
    extra = std::popcount(corroborating);
  }
  int base = static_cast<int>(max_conf * 10.0f + 0.0001f);
  v.score = base > 0 ? std::max(0, base + SensitivityOffset(sensitivity) + std::min(extra, 3)) : 0;
  if (v.score >= block_threshold && block_threshold > 0) {
    v.action = Action::kBlock;
  } else if (challenge_threshold > 0 && v.score >= challenge_threshold) {
    v.action = Action::kChallenge;
  }
  for (std::size_t i = 0; i < s.exclusions_.size(); ++i) {
    const uint32_t n = s.sink_.excluded_counts()[i];
    if (n == 0) continue;
    v.excluded_findings += n;
    v.excluded_by.push_back(s.exclusions_[i]->id);
  }
  v.findings = s.sink_.findings();
  std::sort(v.findings.begin(), v.findings.end(),
            [](const Finding& a, const Finding& b) { return a.confidence > b.confidence; });
  if (!v.findings.empty()) {
    const Finding& top = v.findings.front();
    v.explanation = absl::StrCat(
        ActionName(v.action), ": ", CategoryName(top.category), " (", top.rule, ", confidence ",
        static_cast<int>(top.confidence * 100 + 0.5f), "%) in ", SourceName(top.source),
        top.part == Part::kName ? " name" : "", top.field.empty() ? "" : " \"", top.field,
        top.field.empty() ? "" : "\"", top.excerpt.empty() ? "" : ": ", top.excerpt, "; score ",
        v.score, " vs block threshold ", block_threshold, " at sensitivity ",
        SensitivityName(sensitivity));
  } else {
    v.explanation = "allow: no findings";
  }
  if (v.excluded_findings > 0) {
    absl::StrAppend(&v.explanation, "; ", v.excluded_findings,
                    v.excluded_findings == 1 ? " finding" : " findings", " excluded by ",
                    absl::StrJoin(v.excluded_by, ", "));
  }
  return v;
}

}  // namespace shieldx::detect
