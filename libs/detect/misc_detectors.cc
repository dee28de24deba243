// Smaller injection classes: NoSQL operators, LDAP filter breaks, XML external entities,
// CRLF / header injection, mail-protocol and server-side-include injection, GraphQL
// introspection.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <span>

#include "libs/detect/detector.h"
#include "libs/detect/text_util.h"

namespace shieldx::detect {

// Literal lists as "..."sv: a braced list of plain literals is an initializer_list of
// pointers, and every turn of the loop over it measured the string (strlen).
using std::string_view_literals::operator""sv;

namespace {

// The line breaks (CR or LF) of a value in order: the next CR and the next LF are each found
// by memchr and kept until passed, so a value is scanned about once for each, not once per
// line (as a set search from every break was).
class LineBreaks {
 public:
  explicit LineBreaks(std::string_view s) : s_(s), cr_(s.find('\r')), lf_(s.find('\n')) {}
  // The first CR or LF at or after `from`, or npos.
  std::size_t Next(std::size_t from) {
    if (cr_ < from) cr_ = s_.find('\r', from);  // npos is never below `from`
    if (lf_ < from) lf_ = s_.find('\n', from);
    return std::min(cr_, lf_);
  }

 private:
  std::string_view s_;
  std::size_t cr_;
  std::size_t lf_;
};

// True when none of the eight bytes at p has its high bit set (all ASCII).
inline bool AsciiWord(const char* p) { return !swar::AnyNonAscii(swar::Load8(p)); }

struct Best {
  float score = 0;
  const char* rule = "";
  std::size_t pos = 0;
  std::size_t len = 0;
  void Up(float s, const char* r, std::size_t p, std::size_t l) {
    if (s > score) {
      score = s;
      rule = r;
      pos = p;
      len = l;
    }
  }
};

// MongoDB query and aggregation operators.
constexpr std::string_view kMongoOps[] = {
    "$ne",         "$eq",          "$gt",        "$gte",  "$lt",   "$lte",     "$in",  "$nin",
    "$regex",      "$where",       "$exists",    "$or",   "$and",  "$not",     "$nor", "$expr",
    "$function",   "$accumulator", "$elemmatch", "$size", "$type", "$mod",     "$all", "$text",
    "$jsonschema", "$lookup",      "$merge",     "$out",  "$eval", "$options",
};

// first[k] = Find(hay, needles[k]) for each k: one NeedleSet pass, or, when the value's
// byte-pair filter leaves at most two needles possible, a Find for each of those (a whole
// pass over a long value costs more than walking one or two needles' first bytes).
template <std::size_t N>
void FirstOfEach(const NeedleSet& set, const std::string_view (&needles)[N], std::string_view hay,
                 std::size_t* first) {
  const BigramFilter* f = current_bigram_filter;
  if (f != nullptr) {
    bool may[N];
    std::size_t live = 0;
    for (std::size_t k = 0; k < N; ++k) {
      may[k] = f->MayContain(hay, needles[k]);
      live += may[k];
    }
    if (live <= 2) {
      for (std::size_t k = 0; k < N; ++k) {
        first[k] = may[k] ? hay.find(needles[k]) : std::string_view::npos;
      }
      return;
    }
  }
  set.FirstAll(hay, first);
}

// Where each of kMongoOps first occurs (npos: nowhere), from one walk over the '$' that
// starts them all (thirty scans cost more); returns whether any occurs.
bool FirstMongoOps(std::string_view lower, std::size_t* first) {
  std::fill(first, first + std::size(kMongoOps), std::string_view::npos);
  bool any = false;
  for (std::size_t p = Find(lower, '$'); p != std::string_view::npos; p = Find(lower, '$', p + 1)) {
    if (p + 1 >= lower.size()) break;
    for (std::size_t k = 0; k < std::size(kMongoOps); ++k) {
      if (first[k] == std::string_view::npos && kMongoOps[k][1] == lower[p + 1] &&
          lower.substr(p, kMongoOps[k].size()) == kMongoOps[k]) {
        first[k] = p;
        any = true;
      }
    }
  }
  return any;
}

// Header names whose injection into a response (or a forwarded request) changes what the
// client or the next hop does.
bool IsInjectedHeaderName(std::string_view name) {
  return name == "set-cookie" || name == "location" || name == "content-length" ||
         name == "content-type" || name == "refresh" || name == "x-xss-protection" ||
         name == "access-control-allow-origin" || name == "transfer-encoding" || name == "host" ||
         name == "cookie" || name == "link" || name == "content-security-policy" ||
         name == "remote-addr" || name == "x-forwarded-for" || name == "x-forwarded-host";
}

// A character whose low byte is CR or LF (U+010A, U+010D, U+560A, U+560D, ...) followed by
// a header line: servers that write header values as bytes keep only the low byte, so
// "\u560dSet-Cookie: x" becomes a new header. Only a hyphenated response-header name (or
// Location / Refresh) right after such a character counts: letters like 'č' (U+010D) start
// ordinary words, and "člink:" or "čhost:" can be text.
void DetectUnicodeLineBreakHeader(std::string_view lower, Best& b) {
  const std::size_t n = lower.size();
  for (std::size_t i = 0; i + 1 < n; ++i) {
    while (i + 8 <= n && AsciiWord(lower.data() + i)) i += 8;  // ASCII: nothing to decode
    if (i + 1 >= n) break;
    unsigned char c = static_cast<unsigned char>(lower[i]);
    if (c < 0xC2) continue;
    std::size_t len = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (i + len > n) break;
    // The code point's low byte is CR or LF only if its last byte's low six bits are 0x0A or
    // 0x0D. Going on at i + 1 here instead of past the sequence changes nothing: its
    // continuation bytes are below 0xC2.
    const unsigned char last = static_cast<unsigned char>(lower[i + len - 1]) & 0x3F;
    if (last != 0x0A && last != 0x0D) continue;
    uint32_t cp = c & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
    bool valid = true;
    for (std::size_t j = 1; j < len; ++j) {
      unsigned char cc = static_cast<unsigned char>(lower[i + j]);
      if ((cc & 0xC0) != 0x80) valid = false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (!valid) continue;
    std::size_t k = i + len;
    i = k - 1;
    if ((cp & 0xFF) != '\r' && (cp & 0xFF) != '\n') continue;
    std::size_t name_end = k;
    while (name_end < n &&
           (IsAsciiAlnum(static_cast<unsigned char>(lower[name_end])) || lower[name_end] == '-')) {
      ++name_end;
    }
    std::size_t colon = SkipSpaces(lower, name_end);
    std::string_view name = lower.substr(k, name_end - k);
    bool distinctive =
        Find(name, '-') != std::string_view::npos || name == "location" || name == "refresh";
    if (name_end > k && colon < n && lower[colon] == ':' && distinctive &&
        IsInjectedHeaderName(name)) {
      b.Up(0.85f, "protocol.header-injection-unicode-newline", i + 1 - len, name_end - k + 8);
    }
  }
}

// Markup or script that sets a cookie in the victim's browser ("document.cookie=
// 'sid=known; domain=...'", <meta http-equiv="Set-Cookie">): session fixation carried by a
// reflected value. A cookie assignment with an attribute is what makes it a fixation (the
// attacker pins domain, path or lifetime); reading document.cookie is only an XSS sink.
void DetectCookieSetting(const ValueView& v, FindingSink& sink) {
  std::string_view lower = v.lower;
  const std::size_t n = lower.size();
  for (std::size_t p = Find(lower, ".cookie"); p != std::string_view::npos;
       p = Find(lower, ".cookie", p + 1)) {
    std::size_t e = p + 7;
    if (e < n && IsIdentChar(static_cast<unsigned char>(lower[e]))) continue;
    std::size_t semi = lower.find(';', e);
    if (semi == std::string_view::npos || semi - e > 96) continue;
    std::size_t a = semi + 1;
    while (a < n && !IsAsciiAlpha(static_cast<unsigned char>(lower[a])) && a - semi < 4) ++a;
    for (std::string_view attr : {"expires"sv, "domain"sv, "path"sv, "max-age"sv}) {
      std::string_view rest = lower.substr(a);
      if (!StartsWith(rest, attr)) continue;
      std::size_t eq = SkipSpaces(lower, a + attr.size());
      if (eq < n && lower[eq] == '=') {
        Report(sink, v, Category::kSessionFixation, 0.6f, "session.cookie-set-by-value", p,
               eq + 1 - p);
        return;
      }
    }
  }
  std::size_t m = Find(lower, "http-equiv");
  if (m != std::string_view::npos) {
    std::size_t q = m + 10;
    while (q < n && q - m < 14 && !IsAsciiAlpha(static_cast<unsigned char>(lower[q]))) ++q;
    if (StartsWith(lower.substr(q), "set-cookie")) {
      Report(sink, v, Category::kSessionFixation, 0.8f, "session.meta-set-cookie", m, q + 10 - m);
    }
  }
}

}  // namespace

void DetectNosqli(const ValueView& v, DetectorScratch& scratch, FindingSink& sink) {
  (void)scratch;
  std::string_view lower = v.lower;
  const std::size_t n = lower.size();
  // Letters and digits only: no operator ('$'), call or member access; of the server-side
  // names below only "mapreduce" is a bare word.
  if (v.alnum) {
    const std::size_t p = Find(lower, "mapreduce");
    if (p != std::string_view::npos) {
      Report(sink, v, Category::kNosqli, 0.8f, "nosqli.server-js", p, 9 + 16);
    }
    return;
  }
  Best b;
  bool is_name = v.field->part == Part::kName;
  std::size_t first_op[std::size(kMongoOps)];
  if (FirstMongoOps(lower, first_op)) {
    // Headless CMS and API filter syntax puts comparison operators under a filter key:
    // "filters[title][$eq]=x" (Strapi), "where[age][$gte]=18", {"filters":{"views":{"$gt":1}}},
    // where={"age":{"$gte":18}} (Parse Server; marked by the parser).
    // There they are the API's own query language; operators that run code or match patterns
    // ($where, $function, $expr, $regex ...) still count.
    bool api_filter = (v.field->flags & kFieldApiFilter) != 0;
    const std::string_view name = v.field->name;
    for (std::string_view k : {"filters"sv, "filter"sv, "where"sv}) {
      api_filter = api_filter || (name.size() > k.size() && IStartsWith(name, k) &&
                                  (name[k.size()] == '[' || name[k.size()] == '.'));
    }
    for (std::size_t k = 0; k < std::size(kMongoOps); ++k) {
      const std::string_view op = kMongoOps[k];
      for (std::size_t p = first_op[k]; p != std::string_view::npos; p = Find(lower, op, p + 1)) {
        std::size_t e = p + op.size();
        if (e < n && IsIdentChar(static_cast<unsigned char>(lower[e]))) continue;
        if (p > 0 && IsIdentChar(static_cast<unsigned char>(lower[p - 1]))) continue;
        bool js_op = op == "$where" || op == "$function" || op == "$accumulator" || op == "$eval";
        if (api_filter && !js_op && op != "$expr" && op != "$regex" && op != "$jsonschema" &&
            op != "$lookup" && op != "$merge" && op != "$out" && op != "$options" &&
            op != "$text" && op != "$mod" && op != "$type") {
          continue;
        }
        char before = p > 0 ? lower[p - 1] : '\0';
        std::size_t after = SkipSpaces(lower, e);
        char next = after < n ? lower[after] : '\0';
        // user[$ne]=x (name), {"$gt": ""}, $where: '...', JSON key "$ne"
        bool structural = before == '[' || before == '{' || before == '"' || before == '\'' ||
                          before == ',' || before == ' ' || next == ':' || next == ']' ||
                          next == '"' || (is_name && p == 0) ||
                          (v.field->source == Source::kJson && v.field->part == Part::kName);
        if (!structural) continue;
        float s = js_op ? 0.9f : 0.8f;
        if (is_name && p == 0 && !js_op) s = 0.8f;
        b.Up(s, js_op ? "nosqli.js-operator" : "nosqli.operator", p, op.size() + 16);
      }
    }
  }
  // Server-side JavaScript in Mongo queries: db.x.find(...), this.password.match(...),
  // ';return true;var a=', sleep loops. First occurrences of all in one pass.
  static constexpr std::string_view kServerJs[] = {
      "db.getcollection", "db.collection", "this.password", "this.username", "return true",
      "return 1==1",      "sleep(",        "tojson(",       "db.eval",       ".insert({",
      ".find({",          ".remove({",     ".drop()",       "mapreduce"};
  static const NeedleSet kServerJsSet(kServerJs);
  std::size_t first_js[std::size(kServerJs)];
  FirstOfEach(kServerJsSet, kServerJs, lower, first_js);
  const bool any_js = std::any_of(std::begin(first_js), std::end(first_js),
                                  [](std::size_t p) { return p != std::string_view::npos; });
  for (std::size_t k = 0; any_js && k < std::size(kServerJs); ++k) {
    const std::string_view w = kServerJs[k];
    std::size_t p = first_js[k];
    if (p == std::string_view::npos) continue;
    float s = 0.55f;
    if (w == "db.getcollection" || w == "db.eval" || w == ".insert({" || w == ".remove({" ||
        w == ".drop()" || w == "mapreduce") {
      s = 0.8f;
    }
    if (w == "return true" || w == "return 1==1") {
      std::size_t semi = lower.rfind(';', p);
      s = semi != std::string_view::npos ? 0.75f : 0.4f;
    }
    if (w == "sleep(") continue;  // handled by SQLi/JS detectors
    b.Up(s, "nosqli.server-js", p, w.size() + 16);
  }
  if (StartsWith(lower, "db.") && Find(lower, '(') != std::string_view::npos) {
    b.Up(0.75f, "nosqli.server-js", 0, std::min<std::size_t>(n, 40));
  }
  // Busy loops used for time-based inference: do{...}while(...), new Date() comparisons.
  if (Find(lower, "new date()") != std::string_view::npos &&
      (Find(lower, "while(") != std::string_view::npos ||
       Find(lower, "while (") != std::string_view::npos)) {
    b.Up(0.85f, "nosqli.time-loop", Find(lower, "new date()"), 32);
  }
  if (b.score > 0) Report(sink, v, Category::kNosqli, b.score, b.rule, b.pos, b.len);
}

void DetectLdapi(const ValueView& v, DetectorScratch& scratch, FindingSink& sink) {
  (void)scratch;
  std::string_view lower = v.lower;
  const std::size_t n = lower.size();
  if (Find(lower, '(') == std::string_view::npos && Find(lower, ')') == std::string_view::npos) {
    // extensible match without parentheses: userPassword:2.5.13.18:=123
    std::size_t p = Find(lower, ":=");
    if (p != std::string_view::npos && p > 0) {
      std::size_t colon = lower.rfind(':', p - 1);
      if (colon != std::string_view::npos && colon > 0 && p - colon > 2) {
        std::string_view oid = lower.substr(colon + 1, p - colon - 1);
        bool dotted = Find(oid, '.') != std::string_view::npos;
        for (char c : oid)
          dotted = dotted && (IsAsciiDigit(static_cast<unsigned char>(c)) || c == '.');
        if (dotted) Report(sink, v, Category::kLdapi, 0.8f, "ldapi.extensible-match", 0, p + 2);
      }
    }
    return;
  }
  Best b;
  // A filter component: "(" [&|!]* attr op value. Count components and look for a
  // closing-then-opening sequence that breaks out of the application's filter.
  auto component_at = [&](std::size_t i) -> int {  // 2: (attr=..., 1: (& (| (!, 0: none
    std::size_t k = SkipSpaces(lower, i);
    if (k >= n) return 0;
    if (lower[k] == '&' || lower[k] == '|' || lower[k] == '!') {
      std::size_t m = SkipSpaces(lower, k + 1);
      return m >= n || lower[m] == '(' ? 1 : 0;  // (&(a=b)...) or a dangling "(|" at the end
    }
    std::size_t a = k;
    while (k < n && (IsAsciiAlnum(static_cast<unsigned char>(lower[k])) || lower[k] == '-' ||
                     lower[k] == '.' || lower[k] == ';' || lower[k] == '_')) {
      ++k;
    }
    if (k == a) return 0;
    k = SkipSpaces(lower, k);
    if (k < n &&
        (lower[k] == '=' ||
         (k + 1 < n && (lower[k] == '~' || lower[k] == '>' || lower[k] == '<' || lower[k] == ':') &&
          lower[k + 1] == '='))) {
      return 2;
    }
    return 0;
  };
  int components = 0;
  bool wildcard_attr = false;
  for (std::size_t i = Find(lower, '('); i != std::string_view::npos; i = Find(lower, '(', i + 1)) {
    int c = component_at(i + 1);
    if (c == 0) continue;
    ++components;
    if (c == 2) {
      std::size_t eq = Find(lower, '=', i);
      if (eq != std::string_view::npos && eq + 1 < n && lower[eq + 1] == '*') wildcard_attr = true;
    }
    // ")(" or ")" + spaces + "(" right before a component: breaking out of a filter.
    std::size_t b0 = i;
    while (b0 > 0 && IsSpaceChar(static_cast<unsigned char>(lower[b0 - 1]))) --b0;
    if (b0 > 0 && lower[b0 - 1] == ')') {
      b.Up(c == 2 ? 0.85f : 0.8f, "ldapi.filter-break", b0 - 1,
           std::min<std::size_t>(n - b0 + 1, 48));
    }
    if (b0 > 0 && lower[b0 - 1] == '*' && b0 >= 2 && lower[b0 - 2] != '(') {
      b.Up(0.75f, "ldapi.filter-break", b0 - 1, 32);
    }
  }
  // Whole-filter values: (&(uid=admin)(!(...))) and *(|(objectclass=*))
  bool nested =
      Find(lower, "(&") != std::string_view::npos || Find(lower, "(|") != std::string_view::npos ||
      Find(lower, "(!") != std::string_view::npos || Find(lower, ")(") != std::string_view::npos;
  if (components >= 2 && nested) {
    b.Up(0.75f, "ldapi.filter-injection", 0, std::min<std::size_t>(n, 48));
  }
  if (components >= 1 && wildcard_attr &&
      (Find(lower, "(|") != std::string_view::npos ||
       Find(lower, "(&") != std::string_view::npos)) {
    b.Up(0.85f, "ldapi.filter-injection", 0, std::min<std::size_t>(n, 48));
  }
  // A value that closes the application's filter and opens a new operator: "x)(|", "x)(&"
  for (std::string_view w : {")(|"sv, ")(&"sv, ")(!"sv, ")|("sv, ")&("sv, ")!("sv, "*)("sv, "))("sv,
                             ") (|"sv, ") (&"sv, ")\t(|"sv, ")\t(&"sv}) {
    std::size_t p = Find(lower, w);
    if (p != std::string_view::npos && p > 0) b.Up(0.75f, "ldapi.filter-break", p, 24);
  }
  // Trailing operators: "admin)(|" at the end, "test) ( & "
  {
    std::size_t e = n;
    while (e > 0 && IsSpaceChar(static_cast<unsigned char>(lower[e - 1]))) --e;
    if (e >= 2 && (lower[e - 1] == '|' || lower[e - 1] == '&' || lower[e - 1] == '!')) {
      std::size_t k = e - 1;
      while (k > 0 && IsSpaceChar(static_cast<unsigned char>(lower[k - 1]))) --k;
      if (k > 0 && lower[k - 1] == '(') {
        std::size_t j = k - 1;
        while (j > 0 && IsSpaceChar(static_cast<unsigned char>(lower[j - 1]))) --j;
        if (j > 0 && lower[j - 1] == ')') b.Up(0.8f, "ldapi.filter-break", j - 1, e - j + 1);
      }
    }
  }
  if (b.score > 0) Report(sink, v, Category::kLdapi, b.score, b.rule, b.pos, b.len);
}

// A DOCTYPE naming a published DTD by its public identifier (W3C, Apple, OASIS, IETF) and,
// if any, its canonical URL on the publisher's host, without an internal subset: XHTML, SVG
// 1.1 and property-list documents carry one from their editors. `decl` starts at "<!doctype"
// (lowercased).
bool WellKnownPublicDoctype(std::string_view decl) {
  const std::size_t gt = Find(decl, '>');
  if (gt == std::string_view::npos) return false;
  decl = decl.substr(0, gt);
  if (Find(decl, '[') != std::string_view::npos) return false;
  const std::size_t pub = Find(decl, " public ");
  if (pub == std::string_view::npos) return false;
  const std::size_t q = decl.find_first_of("\"'", pub);
  if (q == std::string_view::npos) return false;
  const std::size_t qe = decl.find(decl[q], q + 1);
  if (qe == std::string_view::npos) return false;
  const std::string_view fpi = decl.substr(q + 1, qe - q - 1);
  bool owner = false;
  for (std::string_view o :
       {"-//w3c//"sv, "-//apple//"sv, "-//apple computer//"sv, "-//oasis//"sv, "-//ietf//"sv}) {
    owner |= StartsWith(fpi, o);
  }
  if (!owner) return false;
  const std::size_t u = decl.find_first_of("\"'", qe + 1);
  if (u == std::string_view::npos) return true;
  const std::size_t ue = decl.find(decl[u], u + 1);
  if (ue == std::string_view::npos) return false;
  const std::string_view url = decl.substr(u + 1, ue - u - 1);
  for (std::string_view host :
       {"http://www.w3.org/"sv, "https://www.w3.org/"sv, "http://www.apple.com/"sv,
        "https://www.apple.com/"sv, "http://docs.oasis-open.org/"sv, "http://www.oasis-open.org/"sv,
        "https://docs.oasis-open.org/"sv, "https://www.oasis-open.org/"sv}) {
    if (StartsWith(url, host)) return true;
  }
  return false;
}

void DetectXxe(const ValueView& v, DetectorScratch& scratch, FindingSink& sink) {
  (void)scratch;
  std::string_view lower = v.lower;
  // Nothing XML-shaped: no "<!", "<xsl:", "xinclude", ":include" (which "xi:include" also
  // holds) or "schemalocation". The two markup openers are looked for only after a '<'.
  const bool markup = Find(lower, '<') != std::string_view::npos &&
                      (Find(lower, "<!") != std::string_view::npos ||
                       Find(lower, "<xsl:") != std::string_view::npos);
  const std::size_t bare_ent = Find(lower, "!entity");
  if (!markup && bare_ent == std::string_view::npos &&
      Find(lower, "xinclude") == std::string_view::npos &&
      Find(lower, ":include") == std::string_view::npos &&
      Find(lower, "schemalocation") == std::string_view::npos) {
    return;
  }
  Best b;
  // "!ENTITY % name SYSTEM" with its '<' lost or stripped by a filter: the declaration's
  // own grammar (keyword, optional '%', a name, then SYSTEM or PUBLIC, all keywords in
  // capitals as XML requires) is no prose.
  if (bare_ent != std::string_view::npos && v.text.substr(bare_ent, 7) == "!ENTITY") {
    std::size_t q = bare_ent + 7;
    const std::size_t n = lower.size();
    std::size_t w = SkipSpaces(lower, q);
    if (w > q && w < n && lower[w] == '%') {
      q = w + 1;
      w = SkipSpaces(lower, q);
    }
    std::size_t ne = w;
    while (ne < n && (IsIdentChar(static_cast<unsigned char>(lower[ne])) || lower[ne] == '-' ||
                      lower[ne] == '.')) {
      ++ne;
    }
    const std::size_t k = SkipSpaces(lower, ne);
    if (w > q && ne > w && k > ne &&
        (v.text.substr(k, 6) == "SYSTEM" || v.text.substr(k, 6) == "PUBLIC")) {
      b.Up(0.85f, "xxe.external-entity", bare_ent, k + 6 - bare_ent);
    }
  }
  std::size_t ent = Find(lower, "<!entity");
  std::size_t doc = Find(lower, "<!doctype");
  if (ent != std::string_view::npos) {
    std::string_view rest = lower.substr(ent, 512);
    bool external = Find(rest, "system") != std::string_view::npos ||
                    Find(rest, "public") != std::string_view::npos;
    bool parameter = rest.size() > 9 && Find(rest, '%') != std::string_view::npos;
    b.Up(external ? 0.95f : (parameter ? 0.9f : 0.8f),
         external ? "xxe.external-entity" : "xxe.entity-declaration", ent, 64);
  }
  if (doc != std::string_view::npos) {
    std::string_view rest = lower.substr(doc, 512);
    if ((Find(rest, "system") != std::string_view::npos ||
         Find(rest, "public") != std::string_view::npos) &&
        !WellKnownPublicDoctype(rest)) {
      b.Up(0.85f, "xxe.external-dtd", doc, 64);
    } else if (Find(rest, '[') != std::string_view::npos) {
      b.Up(0.6f, "xxe.internal-subset", doc, 64);
    }
  }
  if (Find(lower, "xi:include") != std::string_view::npos ||
      Find(lower, "w3.org/2001/xinclude") != std::string_view::npos) {
    b.Up(0.85f, "xxe.xinclude", Find(lower, "xi"), 48);
  }
  // A schema that includes or imports another one by URL: a validating parser fetches it
  // (server-side request, or a local file through file:). Schemas are not request payloads.
  for (std::string_view directive : {":include"sv, ":import"sv, ":redefine"sv, ":override"sv}) {
    for (std::size_t p = Find(lower, directive); p != std::string_view::npos;
         p = Find(lower, directive, p + 1)) {
      std::size_t open = lower.rfind('<', p);
      if (open == std::string_view::npos || p - open > 16) continue;
      std::string_view tag = lower.substr(p, Find(lower, '>', p) - p);
      if (Find(tag, "schemalocation") != std::string_view::npos ||
          Find(tag, "namespace") != std::string_view::npos) {
        if (Find(tag, "://") != std::string_view::npos ||
            Find(tag, "file:") != std::string_view::npos) {
          b.Up(0.7f, "xxe.schema-include", open, 64);
        }
      }
    }
  }
  // xsi:schemaLocation holds namespace and location pairs; a lone URL in it is no schema
  // reference a document needs, but a validating parser that honours hints fetches it.
  for (std::size_t p = Find(lower, ":schemalocation"); p != std::string_view::npos;
       p = Find(lower, ":schemalocation", p + 1)) {
    std::size_t q = SkipSpaces(lower, p + 15);
    if (q >= lower.size() || lower[q] != '=') continue;
    q = SkipSpaces(lower, q + 1);
    if (q >= lower.size() || (lower[q] != '"' && lower[q] != '\'')) continue;
    const std::size_t end = Find(lower, lower[q], q + 1);
    if (end == std::string_view::npos) continue;
    const std::string_view hint = TrimSpaces(lower.substr(q + 1, end - q - 1));
    if (FindFirstOf(hint, " \t\r\n") == std::string_view::npos &&
        (StartsWith(hint, "http://") || StartsWith(hint, "https://") ||
         StartsWith(hint, "ftp://") || StartsWith(hint, "file:"))) {
      b.Up(0.6f, "xxe.schema-location", p, end + 1 - p);
    }
  }
  if (Find(lower, "<xsl:") != std::string_view::npos &&
      (Find(lower, "document(") != std::string_view::npos ||
       Find(lower, "system-property") != std::string_view::npos ||
       Find(lower, "php:function") != std::string_view::npos ||
       Find(lower, "xsl:include") != std::string_view::npos)) {
    b.Up(0.8f, "xxe.xslt", Find(lower, "<xsl:"), 48);
  }
  if (b.score > 0) Report(sink, v, Category::kXxe, b.score, b.rule, b.pos, b.len);
}

void DetectHeaderInjection(const ValueView& v, DetectorScratch& scratch, FindingSink& sink) {
  (void)scratch;
  std::string_view lower = v.lower;
  const std::size_t n = lower.size();
  DetectCookieSetting(v, sink);
  Best b;
  // A whole request line as the value ("GET http://x/ HTTP/1.1"): a second request for a
  // back end that splits on it. Each method below ends with the value's first space, at
  // index 3 to 7: other values skip the list.
  const std::size_t first_space = lower.substr(0, 8).find(' ');
  const bool method_shaped = first_space != std::string_view::npos && first_space >= 3;
  static constexpr std::string_view kMethods[] = {
      "get ", "post ", "put ", "head ", "delete ", "options ", "patch ", "connect ", "trace "};
  for (std::string_view m :
       method_shaped ? std::span(kMethods) : std::span<const std::string_view>()) {
    if (m.size() != first_space + 1 || !StartsWith(lower, m)) continue;
    std::size_t target = SkipSpaces(lower, m.size());
    std::size_t te = target;
    while (te < n && !IsSpaceChar(static_cast<unsigned char>(lower[te]))) ++te;
    std::size_t ver = SkipSpaces(lower, te);
    bool request_target = lower[target] == '/' || lower[target] == '*' ||
                          lower.substr(target, te - target).find("://") != std::string_view::npos;
    if (request_target && ver > te && StartsWith(lower.substr(ver), "http/") && ver + 5 < n &&
        IsAsciiDigit(static_cast<unsigned char>(lower[ver + 5]))) {
      b.Up(0.7f, "protocol.request-line-in-value", 0, std::min<std::size_t>(n, 48));
    }
  }
  DetectUnicodeLineBreakHeader(lower, b);
  LineBreaks breaks(lower);
  std::size_t p = breaks.Next(0);
  if (p == std::string_view::npos) {
    if (b.score > 0) Report(sink, v, Category::kProtocol, b.score, b.rule, b.pos, b.len);
    return;
  }
  // Where " http/" occurs last: a line after k holds one when that is at or past k.
  const std::size_t last_http = lower.rfind(" http/");
  // One pass per run of line breaks, at its first: the rest of a run reach the same line and
  // would only tie (Best keeps the first of equal scores). A value of 20,000 line breaks
  // took 0.4 s when every break skipped the rest of its run.
  for (std::size_t k = 0; p != std::string_view::npos && p < n; p = breaks.Next(k)) {
    k = p;
    while (k < n && (lower[k] == '\r' || lower[k] == '\n')) ++k;
    // A header line "Name: value" after the line break.
    std::size_t name_end = k;
    while (name_end < n && (IsAsciiAlnum(static_cast<unsigned char>(lower[name_end])) ||
                            lower[name_end] == '-' || lower[name_end] == '_')) {
      ++name_end;
    }
    // Only after a name: white space after an empty one would be skipped once per line
    // break ("\n \n \n ...": quadratic).
    std::size_t colon = n;
    if (name_end > k) {
      colon = SkipSpaces(lower, name_end);
      // Remote-addr%0d%0d%0d: foo (CR runs before the colon)
      while (colon < n && lower[colon] == '\r') ++colon;
    }
    if (name_end > k && colon < n && lower[colon] == ':') {
      bool known = IsInjectedHeaderName(lower.substr(k, name_end - k));
      // Multi-line text bodies (JSON/XML/multipart/forms) legitimately contain "key: value"
      // lines; only response-header names count there.
      bool reflected_source =
          v.field->source == Source::kQuery || v.field->source == Source::kPath ||
          v.field->source == Source::kPathSegment || v.field->source == Source::kCookie ||
          v.field->source == Source::kHeader || v.field->part == Part::kName;
      // Other names count when they look like HTTP headers (hyphenated, or a standard
      // one-word header): "ValueError: ..." in a traceback or "key: value" YAML lines sent
      // in a query are text with line breaks, not headers.
      std::string_view name = lower.substr(k, name_end - k);
      bool header_like = name.find('-') != std::string_view::npos;
      for (std::string_view h :
           {"server"sv, "date"sv, "expires"sv, "pragma"sv, "vary"sv, "allow"sv, "via"sv,
            "connection"sv, "etag"sv, "age"sv, "warning"sv, "upgrade"sv, "origin"sv,
            "authorization"sv, "accept"sv, "range"sv, "expect"sv, "referer"sv}) {
        header_like = header_like || name == h;
      }
      if (known) {
        b.Up(0.9f, "protocol.header-injection", p, name_end - p + 16);
      } else if (reflected_source) {
        // In a header, a cookie or an argument name any "Name:" line is foreign.
        bool strict_place = v.field->source == Source::kHeader ||
                            v.field->source == Source::kCookie || v.field->part == Part::kName;
        b.Up(header_like || strict_place ? 0.65f : 0.4f, "protocol.header-injection", p,
             name_end - p + 16);
      }
    }
    // Blank line followed by markup: response splitting with a body.
    if (k < n && k - p >= 2 && lower[k] == '<') b.Up(0.85f, "protocol.response-splitting", p, 24);
    // A request line smuggled into a value: "GET / HTTP/1.1"
    std::string_view rest = lower.substr(k);
    for (std::string_view m : {"get "sv, "post "sv, "put "sv, "head "sv, "delete "sv}) {
      if (StartsWith(rest, m) && last_http != std::string_view::npos && last_http >= k) {
        b.Up(0.85f, "protocol.request-smuggling", p, 32);
      }
    }
  }
  if (b.score > 0) Report(sink, v, Category::kProtocol, b.score, b.rule, b.pos, b.len);
}

// The words of a line, split at spaces (at most std::size(out)); returns how many.
std::size_t SplitWords(std::string_view line, std::string_view (&out)[6]) {
  std::size_t count = 0;
  std::size_t i = 0;
  while (i < line.size() && count < std::size(out)) {
    while (i < line.size() && line[i] == ' ') ++i;
    std::size_t s = i;
    while (i < line.size() && line[i] != ' ') ++i;
    if (i > s) out[count++] = line.substr(s, i - s);
  }
  return count;
}

// An IMAP sequence set ("4791", "2:4", "1,3:*").
bool ImapSequenceSet(std::string_view w) {
  if (w.empty()) return false;
  for (char c : w) {
    if (!IsAsciiDigit(static_cast<unsigned char>(c)) && c != ':' && c != ',' && c != '*') {
      return false;
    }
  }
  return true;
}

// A line after an IMAP tag (lower case) that is a command with IMAP arguments: a sequence set,
// a mailbox, quoted or parenthesised lists, flags, search keys. A numbered list ("1 select the
// file", "2 copy paper boxes") has the same first words and English after them.
// `numeric_tag`: the tag is digits only, as a list number is; then a command whose argument is
// any word ("1 select all", "2 delete everything") needs IMAP syntax around it too.
bool ImapCommandLine(std::string_view line, bool numeric_tag) {
  std::string_view w[6];
  const std::size_t count = SplitWords(line, w);
  if (count == 0) return false;
  const std::string_view cmd = w[0];
  const std::size_t args = count - 1;
  auto listy = [&] { return FindFirstOf(line, "\"(){}\\*%") != std::string_view::npos; };
  if (cmd == "capability" || cmd == "noop" || cmd == "logout" || cmd == "starttls") {
    return args == 0;
  }
  if (cmd == "fetch" || cmd == "store" || cmd == "copy") return args >= 2 && ImapSequenceSet(w[1]);
  if (cmd == "uid") {
    return args >= 2 &&
           (w[1] == "fetch" || w[1] == "store" || w[1] == "copy" || w[1] == "search") &&
           ImapSequenceSet(w[2]);
  }
  if (cmd == "select" || cmd == "examine" || cmd == "create" || cmd == "delete") {
    return (args == 1 && (!numeric_tag || w[1] == "inbox")) || (args >= 1 && listy());
  }
  if (cmd == "rename" || cmd == "login") return args == 2 && (!numeric_tag || listy());
  if (cmd == "authenticate") return args == 1 && !numeric_tag;
  if (cmd == "list" || cmd == "lsub" || cmd == "append") return args >= 1 && listy();
  if (cmd == "search") {
    if (args == 0) return false;
    for (std::string_view key :
         {"all"sv,        "answered"sv,  "bcc"sv,       "before"sv, "body"sv,   "cc"sv,
          "charset"sv,    "deleted"sv,   "flagged"sv,   "from"sv,   "header"sv, "keyword"sv,
          "new"sv,        "not"sv,       "old"sv,       "on"sv,     "or"sv,     "recent"sv,
          "seen"sv,       "since"sv,     "subject"sv,   "text"sv,   "to"sv,     "uid"sv,
          "unanswered"sv, "undeleted"sv, "unflagged"sv, "unseen"sv}) {
      if (w[1] == key)
        return args >= 2 || key == "all" || key == "new" || key == "seen" || key == "unseen" ||
               key == "flagged" || key == "recent";
    }
    return ImapSequenceSet(w[1]);
  }
  return false;
}

void DetectMailSsi(const ValueView& v, DetectorScratch& scratch, FindingSink& sink) {
  (void)scratch;
  std::string_view lower = v.lower;
  const std::size_t n = lower.size();
  Best b;
  // Server-side includes.
  for (std::size_t p = Find(lower, "<!--#"); p != std::string_view::npos;
       p = Find(lower, "<!--#", p + 1)) {
    std::string_view rest = lower.substr(p + 5);
    for (std::string_view d : {"exec"sv, "include"sv, "echo"sv, "config"sv, "printenv"sv, "set"sv,
                               "fsize"sv, "flastmod"sv, "if"sv, "elif"sv}) {
      if (StartsWith(rest, d))
        b.Up(d == "exec" || d == "include" ? 0.92f : 0.8f, "ssi.directive", p, 32);
    }
  }
  // SMTP / IMAP / POP3 commands after a line break.
  LineBreaks breaks(lower);
  // An injection puts its headers right after the value's first line (the address or name
  // the field was for). A message pasted into a text box carries header lines as text: after
  // a forwarding separator ("-----Original Message-----") or further down, after prose.
  const std::size_t first_break = breaks.Next(0);
  const std::string_view first_line = lower.substr(0, first_break);
  const std::size_t lead = first_line.find_first_not_of(" \t");
  const bool forwarded =
      lead != std::string_view::npos && StartsWith(first_line.substr(lead), "--");
  bool header_block = true;   // every line since the first is a header line
  std::size_t last_rest = n;  // start of the line judged last (CR LF is two breaks)
  // One pass per run of line breaks, at its first (as in DetectHeaderInjection).
  for (std::size_t p = first_break, k = 0; p != std::string_view::npos && p < n;
       p = breaks.Next(k)) {
    k = p;
    while (k < n && (lower[k] == '\r' || lower[k] == '\n')) ++k;
    std::string_view rest = lower.substr(k);
    const std::string_view rest_line = rest.substr(0, FindFirstOf(rest, "\r\n"));
    if (k != last_rest) {
      last_rest = k;
      // A header line: a name of letters and '-', then ':'.
      std::size_t colon = Find(rest_line, ':');
      bool header_like = colon != std::string_view::npos && colon > 0 && colon <= 32;
      for (std::size_t i = 0; header_like && i < colon; ++i) {
        header_like = IsAsciiAlpha(static_cast<unsigned char>(rest_line[i])) || rest_line[i] == '-';
      }
      header_block = header_block && header_like;
    }
    // IMAP: a tag then a command. Clients' tags are short and numbered ("a001", "A1") or one
    // letter; "please select ..." or "sudo apt list" are words, not tags.
    std::size_t sp = Find(rest_line, ' ');
    bool tag = sp != std::string_view::npos && sp > 0 && sp <= 8;
    bool tag_digit = false;
    bool tag_letter = false;
    for (std::size_t i = 0; tag && i < sp; ++i) {
      unsigned char c = static_cast<unsigned char>(rest_line[i]);
      tag = IsAsciiAlnum(c);
      tag_digit = tag_digit || IsAsciiDigit(c);
      tag_letter = tag_letter || IsAsciiAlpha(c);
    }
    tag = tag && (tag_digit || sp == 1);
    if (tag && ImapCommandLine(rest_line.substr(sp + 1), /*numeric_tag=*/!tag_letter)) {
      b.Up(0.85f, "mail.imap-command", p, 32);
    }
    for (std::string_view c :
         {"rcpt to:"sv, "mail from:"sv, "data\r"sv,    "data\n"sv,       "quit"sv,       "helo "sv,
          "ehlo "sv,    "vrfy "sv,      "expn "sv,     "rset"sv,         "auth login"sv, "user "sv,
          "pass "sv,    "retr "sv,      "dele "sv,     "bcc:"sv,         "cc:"sv,        "to:"sv,
          "subject:"sv, "from:"sv,      "reply-to:"sv, "content-type:"sv}) {
      if (rest.empty() || rest[0] != c[0] || !StartsWith(rest, c)) continue;
      std::size_t after = c.size();
      // Bare verbs are whole lines ("QUIT\r\n"), not the first word of a sentence.
      if ((c == "quit" || c == "rset") && after < rest.size() && rest[after] != '\r' &&
          rest[after] != '\n') {
        continue;
      }
      // A verb's argument is one word to the end of the line ("USER alice", "EHLO x.example"),
      // not an assignment ("user = app") or a sentence ("User accounts are locked").
      if (c.back() == ' ' && c != "auth login" &&
          (after >= rest.size() || rest[after] == '=' || rest[after] == ':' || rest[after] == ' ' ||
           Find(rest_line.substr(after), ' ') != std::string_view::npos)) {
        continue;
      }
      const bool header = c.back() == ':' && c != "rcpt to:" && c != "mail from:";
      if (!header) {
        b.Up(0.85f, "mail.smtp-command", p, 32);
        continue;
      }
      // An address header names an address; a Content-Type names a media type. "To: all
      // staff" or "Subject: refund" in a note is text, and no evidence at all: a line break
      // before it is already the protocol detector's finding.
      const std::string_view field_value = rest_line.substr(after);
      bool strong = c == "content-type:" ? Find(field_value, '/') != std::string_view::npos
                    : c == "subject:"    ? false
                                         : Find(field_value, '@') != std::string_view::npos;
      if (strong && header_block && !forwarded) b.Up(0.75f, "mail.header-injection", p, 32);
    }
    if (rest.empty() && k > p) continue;
  }
  if (b.score > 0) Report(sink, v, Category::kMailInjection, b.score, b.rule, b.pos, b.len);
  // GraphQL introspection.
  std::size_t g = Find(lower, "__schema");
  if (g == std::string_view::npos) g = Find(lower, "__type");
  if (g != std::string_view::npos && Find(lower, '{') != std::string_view::npos) {
    Report(sink, v, Category::kApiAbuse, 0.65f, "graphql.introspection", g, 24);
  }
}

}  // namespace shieldx::detect
