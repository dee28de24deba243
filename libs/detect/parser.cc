#include "libs/detect/parser.h"

#include <brotli/decode.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "libs/base/check.h"
#include "libs/detect/limits.h"
#include "libs/detect/normalize.h"
#include "libs/detect/text_util.h"

namespace shieldx::detect {

// A value that is itself a JSON document or an absolute URL with a query string is split
// into its parts (as the application would after decoding it); the value is then marked
// kFieldContainer. Bounded by limits::kMaxNestedBodyDepth.
void MaybeParseNested(std::size_t index, Arena& arena, ParsedRequest* out, int depth);

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsTokenChar(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != 0;
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

// The parameters after the media type: `; name=value` with a token or quoted-string value
// (one optional space around '=' and empty parameters tolerated, as clients send them).
// A parameter without '=', stray quotes or bytes outside visible ASCII is how a request
// makes the WAF and the application parse its body differently.
bool ValidContentTypeParams(std::string_view ct) {
  std::size_t semi = ct.find(';');
  while (semi != std::string_view::npos) {
    std::size_t i = semi + 1;
    while (i < ct.size() && (ct[i] == ' ' || ct[i] == '\t')) ++i;
    if (i >= ct.size()) return true;
    if (ct[i] == ';') {
      semi = i;
      continue;
    }
    std::size_t name_start = i;
    while (i < ct.size() && IsTokenChar(static_cast<unsigned char>(ct[i]))) ++i;
    if (i == name_start) return false;
    if (i < ct.size() && ct[i] == ' ') ++i;
    if (i >= ct.size() || ct[i] != '=') return false;
    ++i;
    if (i < ct.size() && ct[i] == ' ') ++i;
    if (i >= ct.size()) return false;
    if (ct[i] == '"') {
      ++i;
      while (i < ct.size() && ct[i] != '"') i += ct[i] == '\\' ? 2 : 1;
      if (i >= ct.size()) return false;
      ++i;
    } else {
      std::size_t value_start = i;
      while (i < ct.size() && ct[i] > 0x20 && ct[i] < 0x7f && ct[i] != ';' && ct[i] != '"' &&
             ct[i] != '\\') {
        ++i;
      }
      if (i == value_start) return false;
    }
    while (i < ct.size() && (ct[i] == ' ' || ct[i] == '\t')) ++i;
    if (i < ct.size() && ct[i] != ';') return false;
    semi = i < ct.size() ? i : std::string_view::npos;
  }
  return true;
}

// A value no detector can find an attack in, whatever its field: letters and digits too
// few to be base64 (shorter than the shortest run the normaliser decodes), or a short
// decimal number ("-12", "0.75", "1e-5"). The bare-word checks (a command name in a command
// parameter) are the only ones such a value can meet; past kMaxFields they are given up.
bool PlainField(std::string_view v) {
  if (v.size() < limits::kMinBase64Bytes) {
    bool alnum = true;
    for (char c : v) alnum = alnum && IsAsciiAlnum(static_cast<unsigned char>(c));
    if (alnum) return true;
  }
  // From 20 bytes a number may be the float-parsing DoS that DetectFloatDos looks for.
  if (v.size() >= 20) return false;
  std::size_t i = 0;
  if (i < v.size() && (v[i] == '-' || v[i] == '+')) ++i;
  const std::size_t digits = i;
  while (i < v.size() && IsAsciiDigit(static_cast<unsigned char>(v[i]))) ++i;
  if (i == digits) return false;
  if (i < v.size() && v[i] == '.') {
    ++i;
    while (i < v.size() && IsAsciiDigit(static_cast<unsigned char>(v[i]))) ++i;
  }
  if (i < v.size() && (v[i] == 'e' || v[i] == 'E')) {
    ++i;
    if (i < v.size() && (v[i] == '-' || v[i] == '+')) ++i;
    const std::size_t exp = i;
    while (i < v.size() && IsAsciiDigit(static_cast<unsigned char>(v[i]))) ++i;
    if (i == exp) return false;
  }
  return i == v.size();
}

// A field that can be left out when fields are screened: a plain value with no flag that
// gives it a role of its own (a container, a whole body) beyond being a JSON number.
bool Screenable(uint16_t flags, std::string_view value) {
  return (flags & ~kFieldNumericJson) == 0 && PlainField(value);
}

// Every field goes through here. Past kMaxFields only fields that could carry an attack are
// kept (large telemetry posts pass the limit with thousands of numbers and short names);
// past kMaxScreenedFields none is, and the request is reported as not fully inspected.
void AddField(ParsedRequest* out, Source source, Part part, std::string_view name,
              std::string_view value, uint16_t flags = 0) {
  if (out->fields.size() >= limits::kMaxFields) [[unlikely]] {
    out->anomalies |= kAnomalyFieldsOverflow;
    if (Screenable(flags, value)) return;
    if (out->fields.size() >= limits::kMaxScreenedFields) {
      out->anomalies |= kAnomalyFieldsNotInspected;
      return;
    }
  }
  out->fields.push_back(Field{source, part, flags, name, value});
}

// A single quote outside double quotes in a Content-Disposition value, other than the two
// quotes of an RFC 5987 extended value ("name*=charset'lang'value").
bool SingleQuoteDelimiter(std::string_view v) {
  bool in_double = false;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '"') {
      in_double = !in_double;
      continue;
    }
    if (v[i] != '\'' || in_double) continue;
    const std::size_t eq = v.rfind('=', i);
    if (eq == std::string_view::npos || eq == 0 || v[eq - 1] != '*') return true;
    int quotes = 0;
    for (std::size_t k = eq + 1; k < i; ++k) {
      const char c = v[k];
      if (c == '\'') {
        ++quotes;
      } else if (!IsAsciiAlnum(static_cast<unsigned char>(c)) && c != '-') {
        return true;
      }
    }
    if (quotes > 1) return true;
  }
  return false;
}

// Records UTF-8 problems of a decoded argument. An overlong form counts after ASCII, at the
// start or after another overlong form, where evasions put it ("..%c0%af"). Right after other
// non-ASCII bytes it is text of another encoding read as UTF-8: GBK "世界" is CA C0 BD E7,
// whose C0 BD reads as an overlong '=', and Japanese in GBK pairs C1 A4.
void CheckUtf8(std::string_view s, ParsedRequest* out) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  bool in_text = false;  // the previous byte was non-ASCII and not an overlong form
  for (std::size_t i = 0; i < n;) {
    // Eight bytes at a time while they are ASCII and none is NUL (nothing to note there).
    while (i + 8 <= n) {
      const uint64_t w = swar::Load8(s.data() + i);
      if (swar::AnyNonAscii(w) || swar::AnyBelow(w, 1)) break;
      i += 8;
    }
    if (i >= n) break;
    unsigned char c = p[i];
    if (c < 0x80) {
      if (c == 0) out->anomalies |= kAnomalyNulInArgs;
      in_text = false;
      ++i;
      continue;
    }
    std::size_t len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (len == 0 || i + len > n || c > 0xF4) {
      out->anomalies |= kAnomalyInvalidUtf8;
      in_text = true;
      ++i;
      continue;
    }
    bool ok = true;
    for (std::size_t k = 1; k < len; ++k) ok = ok && (p[i + k] & 0xC0) == 0x80;
    if (!ok) {
      out->anomalies |= kAnomalyInvalidUtf8;
      in_text = true;
      ++i;
      continue;
    }
    const bool overlong =
        c == 0xC0 || c == 0xC1 || (c == 0xE0 && p[i + 1] < 0xA0) || (c == 0xF0 && p[i + 1] < 0x90);
    if (overlong && !in_text) out->anomalies |= kAnomalyOverlongUtf8;
    in_text = !overlong;
    i += len;
  }
}

// Whether `s` holds a byte <= 0x20 or 0x7f (not allowed in a request target). Eight bytes at
// a time: "some byte below 0x21" and "some byte equal to 0x7f" are exact word tests.
bool HasControlOrSpace(std::string_view s) {
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    const uint64_t w = swar::Load8(s.data() + i);
    if (swar::AnyBelow(w, 0x21) || swar::AnyEqual(w, 0x7f)) return true;
  }
  for (; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c <= 0x20 || c == 0x7f) return true;
  }
  return false;
}

std::string_view DecodeArg(std::string_view raw, bool plus, Arena& arena, ParsedRequest* out) {
  uint32_t flags = 0;
  std::string_view v = PercentDecode(raw, plus, /*percent_u=*/true, arena, &flags);
  if (flags & kNormInvalidPercent) out->anomalies |= kAnomalyInvalidPercent;
  if (flags & kNormPercentU) out->anomalies |= kAnomalyPercentU;
  if (v.data() != raw.data()) CheckUtf8(v, out);
  return v;
}

// Value of a `;`-separated parameter (`boundary=`, `charset=`, `name=`) in a header value,
// quotes removed. Empty when absent.
std::string_view HeaderParam(std::string_view value, std::string_view param) {
  std::size_t pos = 0;
  while (pos < value.size()) {
    std::size_t semi = value.find(';', pos);
    if (semi == std::string_view::npos) return {};
    std::size_t start = semi + 1;
    while (start < value.size() && (value[start] == ' ' || value[start] == '\t')) ++start;
    if (IStartsWith(value.substr(start), param) && start + param.size() < value.size() &&
        value[start + param.size()] == '=') {
      std::size_t v = start + param.size() + 1;
      if (v < value.size() && value[v] == '"') {
        std::size_t end = value.find('"', v + 1);
        if (end == std::string_view::npos) end = value.size();
        return value.substr(v + 1, end - v - 1);
      }
      std::size_t end = value.find(';', v);
      if (end == std::string_view::npos) end = value.size();
      return Trim(value.substr(v, end - v));
    }
    pos = start;
  }
  return {};
}

std::string_view MediaType(std::string_view content_type, Arena& arena) {
  std::size_t semi = content_type.find(';');
  std::string_view t = Trim(content_type.substr(0, semi));
  return AsciiLower(t, arena);
}

bool IsJsonType(std::string_view mt) {
  return mt == "application/json" || mt == "text/json" ||
         (mt.size() > 5 && mt.substr(mt.size() - 5) == "+json") || mt == "application/x-json" ||
         mt == "application/csp-report" || mt == "application/reports+json";
}
bool IsXmlType(std::string_view mt) {
  return mt == "application/xml" || mt == "text/xml" ||
         (mt.size() > 4 && mt.substr(mt.size() - 4) == "+xml");
}

std::string_view FirstNonSpace(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) ++i;
  return s.substr(i);
}

// A URL carried inside the decoded path, from its scheme to the end ("/proxy/http://10.0.0.1/x",
// "/view/php://filter/resource=x"), or "": a segment that is a scheme name (letters, then
// letters, digits, '+', '-' or '.', at most 16) followed by ":/". Only the first one.
std::string_view EmbeddedUrl(std::string_view path) {
  for (std::size_t colon = path.find(":/"); colon != std::string_view::npos;
       colon = path.find(":/", colon + 2)) {
    std::size_t b = colon;
    while (b > 0 && colon - b < 16) {
      unsigned char c = static_cast<unsigned char>(path[b - 1]);
      if (!(IsAsciiAlnum(c) || c == '+' || c == '-' || c == '.')) break;
      --b;
    }
    if (b == colon || b == 0 || path[b - 1] != '/') continue;
    if (!IsAsciiAlpha(static_cast<unsigned char>(path[b]))) continue;
    return path.substr(b);
  }
  return {};
}

// The path from the segment before its first "/*" to the end ("1/**/union/**/select/**/1"),
// or "": a comment used as a space splits the payload into segments.
std::string_view CommentedTail(std::string_view path) {
  std::size_t c = path.find("/*");
  if (c == std::string_view::npos || c == 0) return {};
  std::size_t b = path.rfind('/', c - 1);
  return path.substr(b == std::string_view::npos ? 0 : b + 1);
}

// Whether a raw piece before '=' reads as an argument name: letters, digits, '_', '.', '-',
// brackets and percent escapes, at most 64 bytes.
bool ArgNameToken(std::string_view raw) {
  if (raw.empty() || raw.size() > 64) return false;
  for (char c : raw) {
    if (!IsAsciiAlnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-' &&
        c != '[' && c != ']' && c != '%') {
      return false;
    }
  }
  return true;
}

// The "name=value" pieces of `params`, split at raw ';', each added as a name and a value
// field of `source` (`plus`: '+' is a space). A piece whose name is no argument name is
// skipped; a piece without '=' is added as a value when `bare` is set. Returns the pieces
// added.
std::size_t AddSemicolonPieces(std::string_view params, Source source, bool plus, bool bare,
                               uint16_t flags, Arena& arena, ParsedRequest* out) {
  std::size_t added = 0;
  std::size_t pos = 0;
  while (pos < params.size()) {
    std::size_t semi = params.find(';', pos);
    if (semi == std::string_view::npos) semi = params.size();
    const std::string_view piece = params.substr(pos, semi - pos);
    pos = semi + 1;
    if (piece.empty()) continue;
    const std::size_t eq = piece.find('=');
    if (eq == std::string_view::npos) {
      if (!bare) continue;
      AddField(out, source, Part::kValue, {}, DecodeArg(piece, plus, arena, out), flags);
      ++added;
      continue;
    }
    if (!ArgNameToken(piece.substr(0, eq))) continue;
    const std::string_view name = DecodeArg(piece.substr(0, eq), plus, arena, out);
    AddField(out, source, Part::kName, name, name, flags);
    AddField(out, source, Part::kValue, name, DecodeArg(piece.substr(eq + 1), plus, arena, out),
             flags);
    ++added;
  }
  return added;
}

// The matrix parameters of a raw path segment, the text after its first ';'
// ("/cars;color=red;year=2012", "/login;jsessionid=..."): Spring's @MatrixVariable, JAX-RS's
// @MatrixParam and servlet containers' session ids read them as arguments. The whole
// segment is a field as well; on its own the piece is what the application sees (a payload
// after "api;q=" reads differently from the payload alone).
void AddMatrixParams(std::string_view params, Arena& arena, ParsedRequest* out) {
  AddSemicolonPieces(params, Source::kPathSegment, false, true, kFieldPathParam, arena, out);
}

// A query argument's value split at ';' as the back ends that also separate arguments with
// it read it (Rack before 3, Perl's CGI.pm, Go before 1.17, Python before 3.9.2):
// "a=x;q=<payload>" is a = "x" and q = "<payload>" to them. Only pieces whose name reads as
// an argument name are taken.
void AddSemicolonArgs(std::string_view name, std::string_view raw_value, Arena& arena,
                      ParsedRequest* out) {
  const std::size_t semi = raw_value.find(';');
  if (semi == std::string_view::npos) return;
  if (AddSemicolonPieces(raw_value.substr(semi + 1), Source::kQuery, true, false, 0, arena, out) ==
      0) {
    return;
  }
  AddField(out, Source::kQuery, Part::kValue, name,
           DecodeArg(raw_value.substr(0, semi), true, arena, out));
}

// The elements of a forwarding header that are more than an address or a host name: an
// X-Forwarded-For chain ("10.0.0.1, <text>"), whose first or last element applications take
// as the client's address and store or log, and, with `params`, the parameter values of
// RFC 7239's Forwarded ("for=...;host=...;proto=..., for=..."), whose host and proto build
// the application's own URLs.
void AddForwardedElements(std::string_view name, std::string_view value, bool params,
                          ParsedRequest* out) {
  if (!params && value.find(',') == std::string_view::npos) return;  // one address
  const std::string_view separators = params ? ",;" : ",";
  std::size_t pos = 0;
  while (pos <= value.size()) {
    // The next separator outside a quoted string (a Forwarded value may quote ',' and ';').
    std::size_t end = pos;
    for (bool quoted = false; end < value.size(); ++end) {
      const char c = value[end];
      if (c == '"') {
        quoted = !quoted;
      } else if (c == '\\' && quoted) {
        ++end;
      } else if (!quoted && separators.find(c) != std::string_view::npos) {
        break;
      }
    }
    end = std::min(end, value.size());
    std::string_view element = Trim(value.substr(pos, end - pos));
    pos = end + 1;
    if (params) {
      const std::size_t eq = element.find('=');
      if (eq == std::string_view::npos) continue;
      element = Trim(element.substr(eq + 1));
      if (element.size() >= 2 && element.front() == '"' && element.back() == '"') {
        element = element.substr(1, element.size() - 2);
      }
    }
    // An address, a host name or a short token ("unknown", "_hidden", "https"); a longer
    // run of letters and digits can be base64.
    bool plain = true;
    bool dotted = false;
    for (char c : element) {
      plain = plain && (IsAsciiAlnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ||
                        c == '_' || c == ':' || c == '[' || c == ']');
      dotted = dotted || c == '.' || c == ':';
    }
    if (!plain || (!dotted && element.size() >= limits::kMinBase64Bytes)) {
      AddField(out, Source::kHeader, Part::kValue, name, element);
    }
  }
}

// The user name and password of HTTP Basic credentials ("Basic " and the base64 of
// "user:password"), as fields of the header: applications look them up in a database or a
// directory, so a quote break or a filter in either is an injection. Nothing is added when
// the token is not base64, has no ':' or decodes to bytes that are mostly not text (an API
// key sent as "Basic" is not credentials).
void AddBasicCredentials(std::string_view header, std::string_view value, Arena& arena,
                         ParsedRequest* out) {
  const std::string_view token = Trim(value.substr(6));
  std::size_t end = token.size();
  for (int pad = 0; pad < 2 && end > 0 && token[end - 1] == '='; ++pad) --end;
  if (end == 0) return;
  char* buf = arena.Allocate(end);
  std::size_t consumed = 0;
  const std::size_t n = DecodeBase64Run(token.substr(0, end), buf, end, &consumed);
  if (consumed != end || n == 0) return;
  const std::string_view plain(buf, n);
  const std::size_t colon = plain.find(':');
  if (colon == std::string_view::npos) return;
  std::size_t controls = 0;
  for (unsigned char c : plain) controls += c < 0x20 || c == 0x7f;
  if (controls * 4 > n) return;
  const bool proxy = IEquals(header, "proxy-authorization");
  AddField(out, Source::kHeader, Part::kValue,
           proxy ? "proxy-authorization.basic-user" : "authorization.basic-user",
           plain.substr(0, colon), kFieldCredential);
  AddField(out, Source::kHeader, Part::kValue,
           proxy ? "proxy-authorization.basic-password" : "authorization.basic-password",
           plain.substr(colon + 1), kFieldCredential);
}

bool LooksLikeForm(std::string_view s) {
  // name=value[&name=value] with a token-ish first name.
  std::size_t eq = s.find('=');
  if (eq == 0 || eq == std::string_view::npos || eq > 256) return false;
  for (std::size_t i = 0; i < eq; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c <= 0x20 || c == '<' || c == '{' || c == '"') return false;
  }
  return true;
}

// ---------------------------------------------------------------- JSON

class JsonParser {
 public:
  // `declared`: a body whose Content-Type says JSON. Only there are documents in sequence and
  // single-quoted strings read; a value or sniffed body that is not strict JSON is text.
  JsonParser(std::string_view text, Source source, Arena& arena, ParsedRequest* out,
             int nesting = 0, bool declared = false)
      : s_(text),
        source_(source),
        arena_(arena),
        out_(out),
        nesting_(nesting),
        declared_(declared) {}

  void Parse() {
    const std::size_t before = out_->fields.size();
    SkipWs();
    bool ok = Value(0);
    if (!ok && declared_ && Find(s_, '\'') != std::string_view::npos) {
      // Not JSON; but lenient parsers (JSON5, Jackson's ALLOW_SINGLE_QUOTES, Python literals)
      // take single-quoted strings, and read "{'q':'\\' or 1=1--'}" as q = "' or 1=1--". Read it
      // again that way: as text the quotes around the payload hide it.
      out_->anomalies |= kAnomalyJsonMalformed;
      out_->fields.resize(before);
      pos_ = 0;
      path_len_ = 0;
      saved_.clear();
      lenient_ = true;
      SkipWs();
      ok = Value(0);
    }
    // Documents one after another (JSON Lines, concatenated JSON: a bulk API reads them all)
    // are read in turn; not strict JSON, so marked malformed.
    while (ok) {
      SkipWs();
      if (pos_ == s_.size()) return;
      out_->anomalies |= kAnomalyJsonMalformed;
      if (!declared_) return;
      path_len_ = 0;
      saved_.clear();
      ok = Value(0);
    }
    out_->anomalies |= kAnomalyJsonMalformed;
    // Keep whatever is left visible to detectors.
    if (pos_ < s_.size()) AddField(out_, source_, Part::kValue, "(json-rest)", s_.substr(pos_));
  }

 private:
  void SkipWs() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }

  std::string_view PathName() { return arena_.Copy(std::string_view(path_, path_len_)); }

  void PushPath(std::string_view seg, bool index) {
    saved_.push_back(path_len_);
    if (path_len_ > 0 && !index && path_len_ < sizeof(path_)) path_[path_len_++] = '.';
    std::size_t n = std::min(seg.size(), sizeof(path_) - path_len_);
    std::memcpy(path_ + path_len_, seg.data(), n);
    path_len_ += n;
  }
  void PopPath() {
    path_len_ = saved_.back();
    saved_.pop_back();
  }

  bool String(std::string_view* out) {
    // pos_ at opening quote ('"', or '\'' when lenient).
    const char quote = s_[pos_];
    ++pos_;
    std::size_t start = pos_;
    bool escaped = false;
    while (pos_ < s_.size() && s_[pos_] != quote) {
      if (s_[pos_] == '\\') {
        escaped = true;
        ++pos_;
      }
      ++pos_;
    }
    if (pos_ >= s_.size()) return false;
    std::string_view raw = s_.substr(start, pos_ - start);
    ++pos_;
    if (!escaped) {
      *out = raw;
      return true;
    }
    char* buf = arena_.Allocate(raw.size());
    std::size_t o = 0;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      char c = raw[i];
      if (c != '\\' || i + 1 >= raw.size()) {
        buf[o++] = c;
        continue;
      }
      char e = raw[++i];
      switch (e) {
        case 'n':
          buf[o++] = '\n';
          break;
        case 't':
          buf[o++] = '\t';
          break;
        case 'r':
          buf[o++] = '\r';
          break;
        case 'b':
          buf[o++] = '\b';
          break;
        case 'f':
          buf[o++] = '\f';
          break;
        case 'u': {
          uint32_t cp = 0;
          bool ok = i + 4 < raw.size();
          for (int k = 1; ok && k <= 4; ++k) {
            const int v = HexVal(static_cast<unsigned char>(raw[i + k]));
            if (v < 0) ok = false;
            cp = cp * 16 + static_cast<uint32_t>(v);
          }
          if (!ok) {
            buf[o++] = 'u';
            break;
          }
          i += 4;
          // Surrogate pair.
          if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 < raw.size() && raw[i + 1] == '\\' &&
              raw[i + 2] == 'u') {
            uint32_t lo = 0;
            bool ok2 = true;
            for (int k = 3; ok2 && k <= 6; ++k) {
              const int v = HexVal(static_cast<unsigned char>(raw[i + k]));
              if (v < 0) ok2 = false;
              lo = lo * 16 + static_cast<uint32_t>(v);
            }
            if (ok2 && lo >= 0xDC00 && lo <= 0xDFFF) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
              i += 6;
            }
          }
          // "\u0000": the NUL byte a percent-encoded argument would carry as %00.
          if (cp == 0) out_->anomalies |= kAnomalyNulInArgs;
          o += EncodeUtf8(cp, buf + o);
          break;
        }
        default:
          buf[o++] = e;
      }
    }
    arena_.ShrinkLast(buf, o);
    *out = {buf, o};
    return true;
  }

  bool Value(std::size_t depth) {
    if (depth > limits::kMaxJsonDepth) {
      out_->anomalies |= kAnomalyJsonTooDeep;
      return false;
    }
    SkipWs();
    if (pos_ >= s_.size()) return false;
    char c = s_[pos_];
    if (c == '{') return Object(depth);
    if (c == '[') return Array(depth);
    if (c == '"' || (lenient_ && c == '\'')) {
      std::string_view v;
      if (!String(&v)) return false;
      AddField(out_, source_, Part::kValue, PathName(), v);
      if (!out_->fields.empty() && out_->fields.back().value.data() == v.data()) {
        MaybeParseNested(out_->fields.size() - 1, arena_, out_, nesting_);
      }
      return true;
    }
    // number / true / false / null
    std::size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] != ',' && s_[pos_] != '}' && s_[pos_] != ']' &&
           s_[pos_] != ' ' && s_[pos_] != '\n' && s_[pos_] != '\r' && s_[pos_] != '\t') {
      ++pos_;
    }
    if (pos_ == start) return false;
    std::string_view lit = s_.substr(start, pos_ - start);
    bool known = lit == "true" || lit == "false" || lit == "null";
    if (!known) {
      for (char ch : lit) {
        if (!((ch >= '0' && ch <= '9') || ch == '-' || ch == '+' || ch == '.' || ch == 'e' ||
              ch == 'E')) {
          pos_ = start;  // the rest, from here, is kept as text
          return false;
        }
      }
    }
    AddField(out_, source_, Part::kValue, PathName(), lit, kFieldNumericJson);
    return true;
  }

  bool Object(std::size_t depth) {
    ++pos_;
    SkipWs();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      return true;
    }
    while (pos_ < s_.size()) {
      SkipWs();
      if (pos_ >= s_.size() || !(s_[pos_] == '"' || (lenient_ && s_[pos_] == '\''))) return false;
      std::string_view key;
      if (!String(&key)) return false;
      PushPath(key, false);
      AddField(out_, source_, Part::kName, PathName(), key);
      SkipWs();
      if (pos_ >= s_.size() || s_[pos_] != ':') return false;
      ++pos_;
      if (!Value(depth + 1)) return false;
      PopPath();
      SkipWs();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == '}') {
        ++pos_;
        return true;
      }
      return false;
    }
    return false;
  }

  bool Array(std::size_t depth) {
    ++pos_;
    SkipWs();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      return true;
    }
    std::size_t index = 0;
    while (pos_ < s_.size()) {
      char buf[24];
      int n = snprintf(buf, sizeof(buf), "[%zu]", index++);
      PushPath(std::string_view(buf, static_cast<std::size_t>(n)), true);
      if (!Value(depth + 1)) return false;
      PopPath();
      SkipWs();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == ']') {
        ++pos_;
        return true;
      }
      return false;
    }
    return false;
  }

  std::string_view s_;
  Source source_;
  Arena& arena_;
  ParsedRequest* out_;
  int nesting_ = 0;
  std::size_t pos_ = 0;
  char path_[limits::kMaxFieldNameBytes];
  std::size_t path_len_ = 0;
  bool declared_;
  bool lenient_ = false;  // single-quoted strings and names
  std::vector<std::size_t> saved_;
};

// A GraphQL document ("query { user(id: \"1\") { name } }", "{ search(q: \"x\") { id } }",
// "mutation M($v: In!) { ... }"): an operation keyword or a selection set with a call in it.
bool LooksLikeGraphql(std::string_view v) {
  for (std::string_view kw : {std::string_view("query"), std::string_view("mutation"),
                              std::string_view("subscription"), std::string_view("fragment")}) {
    if (v.size() > kw.size() && v.substr(0, kw.size()) == kw &&
        (v[kw.size()] == ' ' || v[kw.size()] == '{' || v[kw.size()] == '(' ||
         v[kw.size()] == '\n' || v[kw.size()] == '\t')) {
      return v.find('{') != std::string_view::npos;
    }
  }
  // "{ user(id: 1) { name } }", "{ a: user(...) ... }": a selection set opens with a field
  // name and its arguments, sub-selection or alias ("{ prompt for, ...}" is a comment).
  if (v.front() != '{') return false;
  std::size_t i = 1;
  while (i < v.size() && (v[i] == ' ' || v[i] == '\n' || v[i] == '\t' || v[i] == '\r')) ++i;
  const std::size_t name = i;
  while (i < v.size() && (IsAsciiAlnum(static_cast<unsigned char>(v[i])) || v[i] == '_')) ++i;
  if (i == name || IsAsciiDigit(static_cast<unsigned char>(v[name]))) return false;
  while (i < v.size() && (v[i] == ' ' || v[i] == '\t')) ++i;
  return i < v.size() && (v[i] == '(' || v[i] == '{' || v[i] == ':') &&
         v.find('(') != std::string_view::npos;
}

// The string arguments of a GraphQL document, each a field named after its argument (or
// "graphql"): an inline literal carries the same payloads a variable would. `"..."` with
// JSON's escapes (\" \\ \/ kept as the character) and block strings `"""..."""`.
void ParseGraphqlStrings(std::string_view doc, Source source, Arena& arena, ParsedRequest* out) {
  std::string_view name = "graphql";
  std::size_t i = 0;
  const std::size_t n = doc.size();
  while (i < n) {
    const char c = doc[i];
    if (c == '#') {  // a comment to the end of the line
      std::size_t e = doc.find('\n', i);
      i = e == std::string_view::npos ? n : e + 1;
      continue;
    }
    if (IsAsciiAlpha(static_cast<unsigned char>(c)) || c == '_') {
      std::size_t s = i;
      while (i < n && (IsAsciiAlnum(static_cast<unsigned char>(doc[i])) || doc[i] == '_')) ++i;
      std::size_t k = i;
      while (k < n && (doc[k] == ' ' || doc[k] == '\t')) ++k;
      if (k < n && doc[k] == ':') name = doc.substr(s, i - s);
      continue;
    }
    if (c != '"') {
      ++i;
      continue;
    }
    if (doc.substr(i, 3) == "\"\"\"") {
      std::size_t e = doc.find("\"\"\"", i + 3);
      if (e == std::string_view::npos) e = n;
      AddField(out, source, Part::kValue, name, doc.substr(i + 3, e - i - 3));
      i = e + 3;
      continue;
    }
    std::size_t e = i + 1;
    bool escaped = false;
    while (e < n && doc[e] != '"' && doc[e] != '\n') {
      escaped |= doc[e] == '\\';
      e += doc[e] == '\\' && e + 1 < n ? 2 : 1;
    }
    std::string_view raw = doc.substr(i + 1, std::min(e, n) - i - 1);
    if (escaped) {
      char* buf = arena.Allocate(raw.size());
      std::size_t len = 0;
      for (std::size_t k = 0; k < raw.size(); ++k) {
        if (raw[k] == '\\' && k + 1 < raw.size() &&
            (raw[k + 1] == '"' || raw[k + 1] == '\\' || raw[k + 1] == '/')) {
          ++k;
        }
        buf[len++] = raw[k];
      }
      arena.ShrinkLast(buf, len);
      raw = std::string_view(buf, len);
    }
    AddField(out, source, Part::kValue, name, raw);
    i = e + 1;
  }
}

}  // namespace

namespace {

bool IsBase64UrlChar(char c) {
  return IsAsciiAlnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
}

// Whether `v` looks like base64 of random bytes: 16 or more characters of the base64
// alphabet (either one, with padding) with upper and lower case letters and digits
// ("/path/to/file" and "a=b" are text).
bool Base64Blob(std::string_view v) {
  if (v.size() < 16) return false;
  bool upper = false, lower = false, digit = false;
  for (char c : v) {
    if (!IsBase64Char(static_cast<unsigned char>(c)) && c != '=') return false;
    upper = upper || (c >= 'A' && c <= 'Z');
    lower = lower || (c >= 'a' && c <= 'z');
    digit = digit || IsAsciiDigit(static_cast<unsigned char>(c));
  }
  return upper && lower && digit;
}

// Reads one JSON part of a token (its header or claims), base64url at the start of `text`
// and ending at a '.', into fields named "<carrier><part>.<path>". With `whole`, `text` is
// instead one base64 JSON object to its end (either alphabet, padding allowed). Returns the
// bytes read, or 0 when it is not a JSON object.
std::size_t AddJwtPart(std::string_view text, const Field& carrier, std::string_view part,
                       Arena& arena, ParsedRequest* out, bool whole = false) {
  std::size_t n = 0;
  while (n < text.size() &&
         (whole ? IsBase64Char(static_cast<unsigned char>(text[n])) : IsBase64UrlChar(text[n]))) {
    ++n;
  }
  if (n < 4 || n > limits::kMaxJwtPartBytes * 4 / 3) return 0;
  if (whole) {
    std::size_t end = n;
    while (end < text.size() && end - n < 2 && text[end] == '=') ++end;
    if (end != text.size()) return 0;
  } else if (n >= text.size() || text[n] != '.') {
    return 0;
  }
  char* buf = arena.Allocate(n * 3 / 4 + 3);
  std::size_t consumed = 0;
  const std::size_t len = DecodeBase64Run(text.substr(0, n), buf, n * 3 / 4 + 3, &consumed);
  const std::string_view json(buf, len);
  if (consumed != n || json.size() < 2 || json.front() != '{' || json.back() != '}') return 0;
  const std::size_t before = out->fields.size();
  const uint64_t anomalies = out->anomalies;
  JsonParser(json, carrier.source, arena, out, 1).Parse();
  if ((out->anomalies & kAnomalyJsonMalformed) && !(anomalies & kAnomalyJsonMalformed)) {
    out->fields.resize(before);
    out->anomalies = anomalies;
    return 0;
  }
  // A token comes with every request of a session: only its members that could carry an
  // attack are kept (PlainField: names like "iss" and "exp", numbers and flags are not). In
  // a whole base64 JSON value, members that are base64 of binary are opaque too (an
  // encrypted cookie's "iv", "value" and "mac": Laravel's XSRF token); base64 of text is
  // kept, for what it decodes to.
  std::size_t kept = before;
  for (std::size_t k = before; k < out->fields.size(); ++k) {
    const Field& f = out->fields[k];
    if (Screenable(f.flags, f.value) ||
        (whole && Base64Blob(f.value) && DecodePlausibleBase64(f.value, arena).empty())) {
      continue;
    }
    out->fields[kept++] = f;
  }
  out->fields.resize(kept);
  for (std::size_t k = before; k < out->fields.size(); ++k) {
    Field& f = out->fields[k];
    char* name = arena.Allocate(limits::kMaxFieldNameBytes);
    std::size_t size = 0;
    for (std::string_view piece : {carrier.name, part, std::string_view("."), f.name}) {
      const std::size_t take = std::min(piece.size(), limits::kMaxFieldNameBytes - size);
      std::memcpy(name + size, piece.data(), take);
      size += take;
    }
    arena.ShrinkLast(name, size);
    f.name = std::string_view(name, size);
  }
  return n;
}

// The next "eyJ" (base64 of '{"', how every token part starts) from `from`: memchr for the
// 'J', rare in text, rather than for the 'e' (this runs over every value of every request).
std::size_t FindJsonObjectBase64(std::string_view v, std::size_t from) {
  for (std::size_t j = v.find('J', from + 2); j != std::string_view::npos; j = v.find('J', j + 1)) {
    if (v[j - 1] == 'y' && v[j - 2] == 'e') return j - 2;
  }
  return std::string_view::npos;
}

// JSON Web Tokens (base64url header.claims.signature) in a header, cookie, argument or JSON
// member: the application decodes them and may use what they say before or without checking
// the signature, a "kid" looked up in a database or as a file path, a "jku" or "x5u" fetched,
// claims copied into queries. Their header's and claims' members become fields of their own.
void AddJwtFields(Arena& arena, ParsedRequest* out) {
  const std::size_t fields = out->fields.size();
  std::size_t tokens = 0;
  for (std::size_t i = 0; i < fields && tokens < limits::kMaxJwtTokens; ++i) {
    const Field carrier = out->fields[i];  // a copy: the vector grows below
    const std::string_view v = carrier.value;
    if (carrier.part != Part::kValue || (carrier.flags & kFieldContainer)) continue;
    // A whole value that is a base64 JSON object (an OAuth "state", a preferences cookie):
    // the application decodes and reads it like a token's claims.
    if (v.starts_with("eyJ") && AddJwtPart(v, carrier, ".base64-json", arena, out, true) > 0) {
      ++tokens;
      continue;
    }
    if (v.size() < 24) continue;
    for (std::size_t p = FindJsonObjectBase64(v, 0);
         p != std::string_view::npos && tokens < limits::kMaxJwtTokens;
         p = FindJsonObjectBase64(v, p + 3)) {
      if (p > 0 && (IsBase64UrlChar(v[p - 1]) || v[p - 1] == '.')) continue;
      const std::size_t header = AddJwtPart(v.substr(p), carrier, ".jwt-header", arena, out);
      if (header == 0) continue;
      const std::string_view claims = v.substr(p + header + 1);
      if (!claims.starts_with("eyJ")) continue;
      AddJwtPart(claims, carrier, ".jwt-claims", arena, out);
      ++tokens;
      p += header;
    }
  }
}

}  // namespace

void MaybeParseNested(std::size_t index, Arena& arena, ParsedRequest* out, int depth) {
  if (depth >= limits::kMaxNestedBodyDepth || index >= out->fields.size()) return;
  Field f = out->fields[index];
  std::string_view v = FirstNonSpace(f.value);
  while (!v.empty() &&
         (v.back() == ' ' || v.back() == '\n' || v.back() == '\r' || v.back() == '\t')) {
    v.remove_suffix(1);
  }
  if (v.size() < 2) return;
  if ((v.front() == '{' && v.back() == '}') || (v.front() == '[' && v.back() == ']')) {
    std::size_t before = out->fields.size();
    uint64_t anomalies = out->anomalies;
    JsonParser(v, f.source, arena, out, depth + 1).Parse();
    if ((out->anomalies & kAnomalyJsonMalformed) && !(anomalies & kAnomalyJsonMalformed)) {
      out->fields.resize(before);  // not JSON after all: inspect it as text
      out->anomalies = anomalies;
      if (LooksLikeGraphql(v)) ParseGraphqlStrings(v, f.source, arena, out);
      return;
    }
    out->fields[index].flags |= kFieldContainer;
    // "where={"age":{"$gte":18}}": a filter document in one argument (Parse Server, Sails).
    // Its nested names do not carry the argument's name, so its parts are marked.
    if (IEquals(f.name, "where") || IEquals(f.name, "filter") || IEquals(f.name, "filters")) {
      for (std::size_t k = before; k < out->fields.size(); ++k) {
        out->fields[k].flags |= kFieldApiFilter;
      }
    }
    return;
  }
  if (LooksLikeGraphql(v)) {
    ParseGraphqlStrings(v, f.source, arena, out);
    return;
  }
  if (IStartsWith(v, "http://") || IStartsWith(v, "https://")) {
    std::size_t q = v.find('?');
    if (q == std::string_view::npos || v.find(' ') != std::string_view::npos) return;
    std::string_view query = v.substr(q + 1);
    std::size_t hash = query.find('#');
    if (hash != std::string_view::npos) query = query.substr(0, hash);
    if (query.empty()) return;
    ParseUrlEncoded(query, f.source, arena, out, depth + 1);
    out->fields[index].flags |= kFieldContainer;
  }
}

namespace {

// A cookie's or a header's value that is a JSON document (a preferences cookie, a client
// context header): the application parses it, so its members are fields too. Nothing is
// done unless `value` is the value of the field added last (it may have been screened out).
void MaybeParseNestedJson(std::string_view value, Arena& arena, ParsedRequest* out) {
  const std::string_view v = FirstNonSpace(value);
  if (v.empty() || (v.front() != '{' && v.front() != '[')) return;
  if (out->fields.empty() || out->fields.back().value.data() != value.data()) return;
  MaybeParseNested(out->fields.size() - 1, arena, out, 0);
}

}  // namespace

void ParsedRequest::Clear() {
  fields.clear();
  anomalies = 0;
  body_kind = BodyKind::kNone;
  raw_path = path = raw_query = media_type = host = user_agent = body = {};
  content_length_count = 0;
  header_count = 0;
  has_user_agent = has_accept = has_transfer_encoding = has_content_type = false;
}

bool IsStructuredHeader(std::string_view name) {
  static constexpr std::string_view kStructured[] = {
      "accept",
      "accept-encoding",
      "accept-language",
      "accept-charset",
      "content-length",
      "content-type",
      "connection",
      "cache-control",
      "pragma",
      "upgrade-insecure-requests",
      "if-modified-since",
      "if-none-match",
      "if-match",
      "if-unmodified-since",
      "if-range",
      "date",
      "range",
      "te",
      "upgrade",
      "dnt",
      "priority",
      "keep-alive",
      "host",
      "transfer-encoding",
      "authorization",
      "proxy-authorization",
      "origin",
      "traceparent",
      "tracestate",
      "baggage",
      "sentry-trace",
      "x-requested-with",
      "purpose",
      "access-control-request-method",
      "access-control-request-headers",
      "content-encoding",
      "x-csrftoken",
      "x-xsrf-token",
      "x-csrf-token",
      "cookie",
  };
  if (IStartsWith(name, "sec-")) return true;
  // Asked for every header of every request: the names grouped by length, so a header is
  // compared with the few names of its own length only.
  constexpr std::size_t kLongest = 32;
  struct ByLength {
    std::array<std::vector<std::string_view>, kLongest + 1> names;
    ByLength() {
      for (std::string_view s : kStructured) {
        SHIELDX_CHECK(s.size() <= kLongest);
        names[s.size()].push_back(s);
      }
    }
  };
  static const ByLength* by_length = new ByLength();
  if (name.size() > kLongest) return false;
  const std::vector<std::string_view>& same_length = by_length->names[name.size()];
  if (same_length.empty()) return false;
  // Most headers are on the list: lowered once, a word at a time, then compared exactly.
  char buf[kLongest];
  AsciiLowerInto(name, buf);
  const std::string_view lower(buf, name.size());
  for (std::string_view s : same_length) {
    if (lower == s) return true;
  }
  return false;
}

// Markup written with character references ("&#60;", "&lt;") is split by '&' into several
// arguments; the whole argument string is kept as one more field for the markup detectors.
void AddWholeArgs(std::string_view raw, Source source, Arena& arena, ParsedRequest* out) {
  std::size_t amp = raw.find('&');
  if (amp == std::string_view::npos) return;
  // An entity's start split by the '&' separator: "&#", "&%23", "&lt", "&colon", "&lpar",
  // "&quot" (one walk over the '&'s), or "%26%23".
  bool split = false;
  for (; amp != std::string_view::npos && !split; amp = raw.find('&', amp + 1)) {
    const std::string_view rest = raw.substr(amp + 1, 5);
    split = StartsWith(rest, "#") || StartsWith(rest, "%23") || StartsWith(rest, "lt") ||
            StartsWith(rest, "colon") || StartsWith(rest, "lpar") || StartsWith(rest, "quot");
  }
  if (!split && raw.find("%26%23") == std::string_view::npos) return;
  uint32_t flags = 0;
  std::string_view v = PercentDecode(raw, true, true, arena, &flags);
  AddField(out, source, Part::kValue, "(all arguments)", v, kFieldWholeArgs);
}

namespace {
// One pass (std::string_view::find_first_of calls memchr on the set for every byte).
bool HasLineBreak(std::string_view s) { return FindFirstOf(s, "\r\n") != std::string_view::npos; }
}  // namespace

void ParseUrlEncoded(std::string_view text, Source source, Arena& arena, ParsedRequest* out,
                     int depth) {
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t amp = text.find('&', pos);
    if (amp == std::string_view::npos) amp = text.size();
    std::string_view pair = text.substr(pos, amp - pos);
    pos = amp + 1;
    if (pair.empty()) {
      if (amp >= text.size()) break;
      continue;
    }
    if (out->fields.size() >= limits::kMaxScreenedFields) {  // nothing more is kept
      out->anomalies |= kAnomalyFieldsNotInspected;
      break;
    }
    std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos) {
      std::string_view v = DecodeArg(pair, true, arena, out);
      // A bare "&%0d%0aName:..." is an argument name to the back end (and to CRS).
      if (source == Source::kQuery && HasLineBreak(v)) out->anomalies |= kAnomalyCrlfInArgs;
      AddField(out, source, Part::kValue, {}, v);
      continue;
    }
    std::string_view name = DecodeArg(pair.substr(0, eq), true, arena, out);
    // Line breaks in a query name: header or log injection through the names a back end
    // echoes. Form bodies are left out: text posted with a form type (a script, a document)
    // splits at its own '&' and '=' into "names" spanning lines.
    if (source == Source::kQuery && HasLineBreak(name)) out->anomalies |= kAnomalyCrlfInArgs;
    std::string_view value = DecodeArg(pair.substr(eq + 1), true, arena, out);
    AddField(out, source, Part::kName, name, name);
    AddField(out, source, Part::kValue, name, value);
    if (!out->fields.empty() && out->fields.back().value.data() == value.data()) {
      MaybeParseNested(out->fields.size() - 1, arena, out, depth);
    }
    if (source == Source::kQuery) AddSemicolonArgs(name, pair.substr(eq + 1), arena, out);
    if (amp >= text.size()) break;
  }
}

void ParseJsonBody(std::string_view text, Source source, Arena& arena, ParsedRequest* out,
                   bool declared) {
  JsonParser(text, source, arena, out, 0, declared).Parse();
}

namespace {

// "element@attribute", bounded.
std::string_view AttrName(std::string_view element, std::string_view attr, Arena& arena) {
  element = element.substr(0, limits::kMaxFieldNameBytes / 2);
  attr = attr.substr(0, limits::kMaxFieldNameBytes / 2);
  char* p = arena.Allocate(element.size() + 1 + attr.size());
  std::memcpy(p, element.data(), element.size());
  p[element.size()] = '@';
  std::memcpy(p + element.size() + 1, attr.data(), attr.size());
  return {p, element.size() + 1 + attr.size()};
}

}  // namespace

void ParseXmlBody(std::string_view s, Arena& arena, ParsedRequest* out) {
  std::size_t pos = 0;
  const std::size_t n = s.size();
  std::vector<std::string_view> stack;
  stack.reserve(16);
  auto element = [&]() -> std::string_view { return stack.empty() ? "" : stack.back(); };
  while (pos < n) {
    std::size_t lt = s.find('<', pos);
    std::string_view text = s.substr(pos, (lt == std::string_view::npos ? n : lt) - pos);
    std::string_view trimmed = FirstNonSpace(text);
    while (!trimmed.empty() && (trimmed.back() == ' ' || trimmed.back() == '\n' ||
                                trimmed.back() == '\r' || trimmed.back() == '\t')) {
      trimmed.remove_suffix(1);
    }
    if (!trimmed.empty()) {
      AddField(out, Source::kXml, Part::kValue, element(), trimmed);
      MaybeParseNestedJson(trimmed, arena, out);  // JSON carried in an element
    }
    if (lt == std::string_view::npos) break;
    pos = lt;
    std::string_view rest = s.substr(pos);
    if (rest.substr(0, 4) == "<!--") {
      std::size_t end = s.find("-->", pos + 4);
      std::size_t stop = end == std::string_view::npos ? n : end + 3;
      // Server-side include directives are comments to XML ("<!--#exec cmd=...-->").
      if (rest.substr(0, 5) == "<!--#") {
        AddField(out, Source::kXml, Part::kValue, element(), s.substr(pos, stop - pos));
      }
      pos = stop;
      continue;
    }
    if (rest.substr(0, 9) == "<![CDATA[") {
      std::size_t end = s.find("]]>", pos + 9);
      std::size_t stop = end == std::string_view::npos ? n : end;
      const std::string_view cdata = s.substr(pos + 9, stop - pos - 9);
      AddField(out, Source::kXml, Part::kValue, element(), cdata);
      MaybeParseNestedJson(cdata, arena, out);
      pos = end == std::string_view::npos ? n : end + 3;
      continue;
    }
    if (IStartsWith(rest, "<!DOCTYPE")) {
      out->anomalies |= kAnomalyXmlDoctype;
      // Internal subset may contain '>' inside brackets.
      std::size_t i = pos + 9;
      int bracket = 0;
      while (i < n) {
        if (s[i] == '[')
          ++bracket;
        else if (s[i] == ']')
          --bracket;
        else if (s[i] == '>' && bracket <= 0)
          break;
        ++i;
      }
      pos = i + 1;
      continue;
    }
    // Processing instructions other than the XML declaration and style sheets, and server
    // page blocks (<% ... %>), are inspected whole: "<?php system(...) ?>" or a JSP scriptlet
    // posted as an XML or text body holds no element text to look at.
    if (rest.substr(0, 2) == "<?" || rest.substr(0, 2) == "<%") {
      const bool pi = rest[1] == '?';
      std::size_t end = s.find(pi ? "?>" : "%>", pos + 2);
      std::size_t stop = end == std::string_view::npos ? n : end + 2;
      std::string_view block = s.substr(pos, stop - pos);
      const std::string_view target = block.substr(2);
      const bool declaration =
          IStartsWith(target, "xml") &&
          (target.size() == 3 || target[3] == '?' || target[3] == ' ' || target[3] == '\t' ||
           target[3] == '\r' || target[3] == '\n' || IStartsWith(target, "xml-stylesheet"));
      if (!pi || !declaration) {
        AddField(out, Source::kXml, Part::kValue, element(), block);
      } else if (IStartsWith(target, "xml-stylesheet")) {
        // Its href is a style sheet the XSLT processor fetches (and runs): a URL argument.
        const std::size_t h = IFind(target, "href=");
        if (h != std::string_view::npos && h + 6 < target.size() &&
            (target[h + 5] == '"' || target[h + 5] == '\'')) {
          const std::size_t close = target.find(target[h + 5], h + 6);
          if (close != std::string_view::npos) {
            AddField(out, Source::kXml, Part::kValue, "xml-stylesheet@href",
                     target.substr(h + 6, close - h - 6));
          }
        }
      }
      pos = stop;
      continue;
    }
    if (rest.substr(0, 2) == "<!") {
      std::size_t end = s.find('>', pos);
      pos = end == std::string_view::npos ? n : end + 1;
      continue;
    }
    std::size_t gt = s.find('>', pos);
    if (gt == std::string_view::npos) {
      out->anomalies |= kAnomalyXmlMalformed;
      AddField(out, Source::kXml, Part::kValue, element(), s.substr(pos));
      break;
    }
    std::string_view tag = s.substr(pos + 1, gt - pos - 1);
    pos = gt + 1;
    if (!tag.empty() && tag[0] == '/') {
      if (!stack.empty()) stack.pop_back();
      continue;
    }
    bool self_closing = !tag.empty() && tag.back() == '/';
    if (self_closing) tag.remove_suffix(1);
    std::size_t name_end = 0;
    while (name_end < tag.size() && tag[name_end] != ' ' && tag[name_end] != '\t' &&
           tag[name_end] != '\n' && tag[name_end] != '\r') {
      ++name_end;
    }
    std::string_view name = tag.substr(0, name_end);
    // Attributes: name="value" | name='value'.
    std::size_t i = name_end;
    while (i < tag.size()) {
      while (i < tag.size() &&
             (tag[i] == ' ' || tag[i] == '\t' || tag[i] == '\n' || tag[i] == '\r')) {
        ++i;
      }
      std::size_t an = i;
      while (i < tag.size() && tag[i] != '=' && tag[i] != ' ') ++i;
      std::string_view attr = tag.substr(an, i - an);
      if (i >= tag.size() || tag[i] != '=') {
        if (!attr.empty()) ++i;
        continue;
      }
      ++i;
      if (i < tag.size() && (tag[i] == '"' || tag[i] == '\'')) {
        char q = tag[i];
        std::size_t end = tag.find(q, i + 1);
        if (end == std::string_view::npos) end = tag.size();
        std::string_view v = tag.substr(i + 1, end - i - 1);
        if (!v.empty()) AddField(out, Source::kXml, Part::kValue, AttrName(name, attr, arena), v);
        i = end + 1;
      } else {
        std::size_t vs = i;
        while (i < tag.size() && tag[i] != ' ') ++i;
        if (i > vs) {
          AddField(out, Source::kXml, Part::kValue, AttrName(name, attr, arena),
                   tag.substr(vs, i - vs));
        }
      }
    }
    if (!self_closing) {
      if (stack.size() >= limits::kMaxXmlDepth) {
        out->anomalies |= kAnomalyXmlMalformed;
      } else {
        stack.push_back(name);
      }
    }
  }
}

namespace {

bool IsAllowedCharset(std::string_view cs) {
  static constexpr std::string_view kAllowed[] = {
      "utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "iso-8859-15", "windows-1252"};
  for (std::string_view a : kAllowed) {
    if (IEquals(cs, a)) return true;
  }
  return false;
}

void ParseBodyByType(std::string_view body, std::string_view media_type, Source form_source,
                     Arena& arena, ParsedRequest* out, BodyKind* kind);

}  // namespace

void ParseMultipartBody(std::string_view body, std::string_view boundary, Arena& arena,
                        ParsedRequest* out, int depth) {
  if (boundary.empty()) {
    out->anomalies |= kAnomalyMultipartNoBoundary;
    AddField(out, Source::kBodyRaw, Part::kValue, {}, body, kFieldWholeBody);
    return;
  }
  char* delim_buf = arena.Allocate(boundary.size() + 2);
  delim_buf[0] = '-';
  delim_buf[1] = '-';
  std::memcpy(delim_buf + 2, boundary.data(), boundary.size());
  std::string_view delim(delim_buf, boundary.size() + 2);
  std::size_t pos = body.find(delim);
  if (pos == std::string_view::npos) {
    out->anomalies |= kAnomalyMultipartMalformed;
    AddField(out, Source::kBodyRaw, Part::kValue, {}, body, kFieldWholeBody);
    return;
  }
  // Text before the first delimiter or after the last (RFC 2046's preamble and epilogue) is
  // not a part and no browser sends any; a parser that finds the boundary elsewhere would
  // read it, so it is inspected as a value.
  if (FirstNonSpace(body.substr(0, pos)).size() > 0) {
    out->anomalies |= kAnomalyMultipartMalformed;
    AddField(out, Source::kBodyRaw, Part::kValue, "(multipart preamble)", body.substr(0, pos));
  }
  std::size_t parts = 0;
  bool closed = false;
  while (pos != std::string_view::npos) {
    pos += delim.size();
    if (body.substr(pos, 2) == "--") {
      closed = true;
      const std::string_view epilogue = body.substr(pos + 2);
      if (FirstNonSpace(epilogue).size() > 0) {
        AddField(out, Source::kBodyRaw, Part::kValue, "(multipart epilogue)", epilogue);
      }
      break;
    }
    // Skip to the end of the delimiter line.
    std::size_t eol = body.find('\n', pos);
    if (eol == std::string_view::npos) break;
    std::size_t header_start = eol + 1;
    std::size_t next = body.find(delim, header_start);
    std::size_t part_end = next == std::string_view::npos ? body.size() : next;
    std::string_view part = body.substr(header_start, part_end - header_start);
    // Strip the CRLF that precedes the next delimiter.
    if (!part.empty() && part.back() == '\n') part.remove_suffix(1);
    if (!part.empty() && part.back() == '\r') part.remove_suffix(1);
    if (++parts > limits::kMaxMultipartParts) {
      out->anomalies |= kAnomalyFieldsNotInspected;
      break;
    }
    // Part headers.
    std::string_view name, filename, ext_filename, ctype;
    bool filename_from_ext = false;
    bool has_disposition = false;
    std::size_t hp = 0;
    std::size_t header_lines = 0;
    std::string_view content = part;
    while (hp <= part.size()) {
      std::size_t le = part.find('\n', hp);
      if (le == std::string_view::npos) {
        content = {};
        out->anomalies |= kAnomalyMultipartMalformed;
        break;
      }
      std::string_view line = part.substr(hp, le - hp);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      hp = le + 1;
      if (line.empty()) {
        content = part.substr(hp);
        break;
      }
      if (++header_lines > limits::kMaxPartHeaders) {
        out->anomalies |= kAnomalyMultipartMalformed;
        continue;
      }
      std::size_t colon = line.find(':');
      if (colon == std::string_view::npos) {
        out->anomalies |= kAnomalyMultipartMalformed;
        continue;
      }
      std::string_view hname = Trim(line.substr(0, colon));
      std::string_view hval = Trim(line.substr(colon + 1));
      if (IEquals(hname, "content-disposition")) {
        if (has_disposition) out->anomalies |= kAnomalyMultipartMalformed;
        has_disposition = true;
        name = HeaderParam(hval, "name");
        filename = HeaderParam(hval, "filename");
        // RFC 5987's extended form, "filename*=charset'language'percent-encoded", which
        // applications prefer (RFC 6266): its name as decoded is a field as well.
        const std::size_t fs = IFind(hval, "filename*=");
        if (fs != std::string_view::npos) {
          std::string_view ext = hval.substr(fs + 10);
          if (filename.empty()) {
            filename = ext;  // as written, for the quote checks below
            filename_from_ext = true;
          }
          ext = Trim(ext.substr(0, ext.find(';')));
          const std::size_t q1 = ext.find('\'');
          const std::size_t q2 = q1 == std::string_view::npos ? q1 : ext.find('\'', q1 + 1);
          if (q2 != std::string_view::npos && q2 + 1 < ext.size()) {
            ext_filename = DecodeArg(ext.substr(q2 + 1), false, arena, out);
          }
        }
        // Quote tricks: an odd number of quotes, a quote or a semicolon inside the filename
        // (one that ends an HTML entity, "zzz&amp;zzz", is part of how some clients write
        // the name), or a single quote used as a delimiter ("filename='x.php'"). An
        // apostrophe inside a double-quoted name ("it's mine.png") is a character, and
        // RFC 5987's "filename*=UTF-8''n%C3%A4me.pdf" is the standard extended form.
        std::size_t quotes = static_cast<std::size_t>(std::count(hval.begin(), hval.end(), '"'));
        if (quotes % 2 == 1 || HasBareSemicolon(filename) ||
            filename.find('"') != std::string_view::npos || SingleQuoteDelimiter(hval)) {
          out->anomalies |= kAnomalyMultipartBadFilename;
        }
      } else if (IEquals(hname, "content-type")) {
        ctype = hval;
        std::string_view cs = HeaderParam(hval, "charset");
        if (!cs.empty() && !IsAllowedCharset(cs)) out->anomalies |= kAnomalyMultipartCharset;
        if (IFind(hval, "utf-7") != std::string_view::npos) out->anomalies |= kAnomalyUtf7;
      } else if (IEquals(hname, "content-transfer-encoding")) {
        out->anomalies |= kAnomalyMultipartCte;
      }
    }
    if (!has_disposition) out->anomalies |= kAnomalyMultipartMalformed;
    std::string_view field_name = name;
    if (!name.empty()) AddField(out, Source::kMultipart, Part::kName, field_name, name);
    if (IEquals(name, "_charset_") && !IsAllowedCharset(Trim(content))) {
      out->anomalies |= kAnomalyMultipartCharset;
      if (IFind(content, "utf-7") != std::string_view::npos) out->anomalies |= kAnomalyUtf7;
    }
    if (!filename.empty() && !(filename_from_ext && !ext_filename.empty())) {
      AddField(out, Source::kFileName, Part::kValue, field_name, filename);
    }
    if (!ext_filename.empty()) {
      AddField(out, Source::kFileName, Part::kValue, field_name, ext_filename);
    }
    std::string_view mt = MediaType(ctype, arena);
    bool textual = mt.empty() || mt.substr(0, 5) == "text/" || IsJsonType(mt) || IsXmlType(mt) ||
                   mt == "application/x-www-form-urlencoded";
    if (!filename.empty() && !textual) {
      // File content: not inspected as text (uploads are a policy matter), only for a
      // server-side script hidden in it.
      AddField(out, Source::kMultipart, Part::kValue, field_name, content, kFieldFileContent);
    } else if (depth < limits::kMaxNestedBodyDepth && (IsJsonType(mt) || IsXmlType(mt))) {
      BodyKind k;
      ParseBodyByType(content, mt, Source::kMultipart, arena, out, &k);
    } else {
      AddField(out, Source::kMultipart, Part::kValue, field_name, content,
               filename.empty() ? 0 : kFieldFileText);
    }
    pos = next;
  }
  if (!closed) out->anomalies |= kAnomalyMultipartMalformed;
}

namespace {
// The anomalies of a raw path's spelling (parser.h: kAnomalyPath*).
uint64_t PathSpellingAnomalies(std::string_view raw) {
  uint64_t a = 0;
  auto alnum_code = [](int v) {
    return (v >= '0' && v <= '9') || (v >= 'A' && v <= 'Z') || (v >= 'a' && v <= 'z');
  };
  for (std::size_t p = raw.find('%'); p != std::string_view::npos; p = raw.find('%', p + 1)) {
    if (p + 2 >= raw.size() || HexVal(raw[p + 1]) < 0 || HexVal(raw[p + 2]) < 0) continue;
    const int v = HexVal(raw[p + 1]) * 16 + HexVal(raw[p + 2]);
    if (alnum_code(v)) a |= kAnomalyPathEncodedAlnum;
    if (v == '%' && p + 4 < raw.size() && HexVal(raw[p + 3]) >= 0 && HexVal(raw[p + 4]) >= 0) {
      const int w = HexVal(raw[p + 3]) * 16 + HexVal(raw[p + 4]);
      if (alnum_code(w) || w == '.') a |= kAnomalyPathDoubleEncoded;
    }
    // An encoded '?' followed by a short name's extension ending the segment:
    // "/admin.php%3F.js", "/x%3Fa.css" (not a sentence with a question mark in a slug).
    if (v == '?') {
      std::size_t i = p + 3;
      while (i < raw.size() && i - p - 3 <= 32 &&
             (IsAsciiAlnum(static_cast<unsigned char>(raw[i])) || raw[i] == '_' || raw[i] == '-')) {
        ++i;
      }
      if (i >= raw.size() || raw[i] != '.') continue;
      std::size_t e = i + 1;
      while (e < raw.size() && IsAsciiAlnum(static_cast<unsigned char>(raw[e]))) ++e;
      if (e - i - 1 >= 1 && e - i - 1 <= 5 && (e == raw.size() || raw[e] == '/')) {
        a |= kAnomalyPathEncodedQuery;
      }
    }
  }
  // '.' segments, raw or encoded ("." or "%2e" between slashes or at the end).
  for (std::size_t p = raw.find('/'); p != std::string_view::npos; p = raw.find('/', p + 1)) {
    std::size_t q = p + 1;
    if (q < raw.size() && raw[q] == '.') {
      ++q;
    } else if (q + 2 < raw.size() && raw[q] == '%' && raw[q + 1] == '2' &&
               (raw[q + 2] == 'e' || raw[q + 2] == 'E')) {
      q += 3;
    } else {
      continue;
    }
    if (q == raw.size() || raw[q] == '/' || raw[q] == ';') a |= kAnomalyPathDotSegment;
  }
  return a;
}

// "@host/..." or "@host:port/..." opening a query.
bool QueryOpensWithAuthority(std::string_view q) {
  if (q.size() < 3 || q[0] != '@') return false;
  std::size_t i = 1;
  bool dot = false;
  while (i < q.size() && (IsAsciiAlnum(static_cast<unsigned char>(q[i])) || q[i] == '-' ||
                          q[i] == '.' || q[i] == ':' || q[i] == '[' || q[i] == ']')) {
    dot = dot || q[i] == '.' || q[i] == ':';
    ++i;
  }
  return i > 1 && i < q.size() && q[i] == '/' && dot;
}

// The backslash escapes of a quoted cookie value as RFC 2109 readers take them: "\ooo"
// (three octal digits, at most \377) is that byte, "\c" is c.
std::string_view UnslashCookieValue(std::string_view v, Arena& arena) {
  char* out = arena.Allocate(v.size());
  std::size_t o = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] != '\\' || i + 1 == v.size()) {
      out[o++] = v[i];
      continue;
    }
    auto octal = [](char c) { return c >= '0' && c <= '7'; };
    if (i + 3 < v.size() && v[i + 1] >= '0' && v[i + 1] <= '3' && octal(v[i + 2]) &&
        octal(v[i + 3])) {
      out[o++] = static_cast<char>((v[i + 1] - '0') * 64 + (v[i + 2] - '0') * 8 + (v[i + 3] - '0'));
      i += 3;
    } else {
      out[o++] = v[++i];
    }
  }
  arena.ShrinkLast(out, o);
  return {out, o};
}
}  // namespace

void ParseCookieHeader(std::string_view value, Arena& arena, ParsedRequest* out) {
  std::size_t pos = 0;
  std::size_t count = 0;
  std::size_t quotes = static_cast<std::size_t>(std::count(value.begin(), value.end(), '"'));
  if (quotes % 2 == 1) out->anomalies |= kAnomalyCookieMalformed;
  if (quotes > 0 && IFind(value, "$version") != std::string_view::npos) {
    out->anomalies |= kAnomalyCookieMalformed;
    // RFC 6265 has no "$Version" and no ';' inside a value, quoted or not; RFC 2109 parsers
    // (Tomcat's and Jetty's legacy modes, Python's http.cookies) honour both, so a quoted
    // value spanning ';' is one cookie to them and several to everything in front of them.
    for (std::size_t q = value.find("=\""); q != std::string_view::npos;
         q = value.find("=\"", q + 2)) {
      const std::size_t close = value.find('"', q + 2);
      if (close == std::string_view::npos) break;
      if (value.substr(q + 2, close - q - 2).find(';') != std::string_view::npos) {
        out->anomalies |= kAnomalyCookieSmuggling;
        break;
      }
      q = close - 1;
    }
  }
  while (pos < value.size()) {
    std::size_t semi = value.find(';', pos);
    if (semi == std::string_view::npos) semi = value.size();
    std::string_view pair = Trim(value.substr(pos, semi - pos));
    pos = semi + 1;
    if (pair.empty()) continue;
    if (++count > limits::kMaxCookies) {
      out->anomalies |= kAnomalyFieldsNotInspected;
      break;
    }
    std::size_t eq = pair.find('=');
    std::string_view name =
        eq == std::string_view::npos ? std::string_view() : Trim(pair.substr(0, eq));
    std::string_view v = eq == std::string_view::npos ? pair : Trim(pair.substr(eq + 1));
    const bool quoted = v.size() >= 2 && v.front() == '"' && v.back() == '"';
    if (quoted) v = v.substr(1, v.size() - 2);
    std::string_view decoded = DecodeArg(v, false, arena, out);
    if (!name.empty()) AddField(out, Source::kCookie, Part::kName, name, name);
    AddField(out, Source::kCookie, Part::kValue, name, decoded);
    MaybeParseNestedJson(decoded, arena, out);
    // Python's http.cookies and Werkzeug unquote a quoted value's backslash escapes, octal
    // ones included ("\074script\076" is "<script>" to a Flask application): that reading
    // is a value of its own.
    if (quoted && v.find('\\') != std::string_view::npos) {
      std::string_view unslashed = UnslashCookieValue(v, arena);
      AddField(out, Source::kCookie, Part::kValue, name, DecodeArg(unslashed, false, arena, out));
    }
  }
}

namespace {

void ParseBodyByType(std::string_view body, std::string_view mt, Source form_source, Arena& arena,
                     ParsedRequest* out, BodyKind* kind) {
  std::string_view first = FirstNonSpace(body);
  if (mt == "application/x-www-form-urlencoded") {
    *kind = BodyKind::kForm;
    Source src = form_source == Source::kMultipart ? Source::kMultipart : Source::kBodyForm;
    ParseUrlEncoded(body, src, arena, out);
    AddWholeArgs(body, src, arena, out);
    return;
  }
  if (IsJsonType(mt) || ((mt.empty() || mt.substr(0, 5) == "text/") && !first.empty() &&
                         (first[0] == '{' || first[0] == '['))) {
    *kind = BodyKind::kJson;
    std::size_t before = out->fields.size();
    uint64_t before_anoms = out->anomalies;
    ParseJsonBody(body, form_source == Source::kMultipart ? Source::kMultipart : Source::kJson,
                  arena, out, IsJsonType(mt));
    if (!IsJsonType(mt) && (out->anomalies & kAnomalyJsonMalformed) &&
        !(before_anoms & kAnomalyJsonMalformed)) {
      // Sniffed wrongly: treat as text (with none of the facts the JSON reading noted).
      out->anomalies = before_anoms;
      out->fields.resize(before);
      *kind = BodyKind::kText;
      AddField(out, Source::kBodyRaw, Part::kValue, {}, body, kFieldWholeBody);
    }
    return;
  }
  if (IsXmlType(mt) ||
      ((mt.empty() || mt.substr(0, 5) == "text/") && !first.empty() && first[0] == '<')) {
    ParseXmlBody(body, arena, out);
    // A declared XML document is judged by its text and attributes (its own markup is no
    // injection). Markup sent as text ("text/html", "text/plain", no type) is also judged
    // whole, like markup in a form field: its tag and attribute names matter there
    // ("<link rel=import href=...>", "<!--#exec cmd=...-->").
    *kind = IsXmlType(mt) ? BodyKind::kXml : BodyKind::kText;
    AddField(out, Source::kBodyRaw, Part::kValue, {}, body, kFieldWholeBody);
    return;
  }
  // Text or unknown: the whole body is one value; a form-looking body is also split.
  // Binary (mostly control bytes, NUL among them, or invalid UTF-8 in the first KiB) is not
  // text to inspect. A NUL byte or two in text is no reason to skip it: one NUL placed in
  // front of a payload would take the whole body out of inspection.
  bool binary = false;
  {
    std::size_t scan = std::min<std::size_t>(body.size(), 1024);
    std::size_t odd = 0;
    const auto* p = reinterpret_cast<const unsigned char*>(body.data());
    for (std::size_t i = 0; i < scan; ++i) {
      unsigned char c = p[i];
      if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) ++odd;
    }
    if (scan > 0) {
      // Invalid UTF-8 share.
      std::size_t bad = 0;
      for (std::size_t i = 0; i < scan;) {
        unsigned char c = p[i];
        std::size_t len = c < 0x80             ? 1
                          : (c & 0xE0) == 0xC0 ? 2
                          : (c & 0xF0) == 0xE0 ? 3
                          : (c & 0xF8) == 0xF0 ? 4
                                               : 0;
        bool ok = len > 0 && i + len <= body.size();
        for (std::size_t k = 1; ok && k < len; ++k) ok = (p[i + k] & 0xC0) == 0x80;
        if (!ok) {
          ++bad;
          ++i;
        } else {
          i += len;
        }
      }
      binary = (odd + bad) * 10 > scan;
    }
  }
  *kind = binary ? BodyKind::kBinary : BodyKind::kText;
  AddField(out, Source::kBodyRaw, Part::kValue, {}, body, kFieldWholeBody);
  if (!binary && LooksLikeForm(body)) ParseUrlEncoded(body, Source::kBodyForm, arena, out);
}

}  // namespace

// Doubles a decompression's output buffer (`*buf`, `*want` bytes, `produced` of them used)
// up to `cap`. Returns false, with *cut set, when it is `cap` already.
bool GrowOutput(std::size_t cap, std::size_t produced, Arena& arena, char** buf, std::size_t* want,
                bool* cut) {
  if (*want == cap) {
    *cut = true;
    return false;
  }
  const std::size_t grown = std::min(cap, *want * 2);
  char* bigger = arena.Allocate(grown);
  std::memcpy(bigger, *buf, produced);
  *buf = bigger;
  *want = grown;
  return true;
}

// Decompresses a zlib- or gzip-wrapped (`raw` false: windowBits detects which) or raw
// deflate stream into the arena, to at most `cap` bytes. Returns the bytes produced; *corrupt
// is set when the stream is not valid, *cut when output stopped at `cap`. A stream that
// merely ends early (a body cut by a proxy) keeps what was decoded. The output buffer starts
// at the size a gzip trailer states (bounded by `cap`) or eight times the input, and doubles
// when full, so an ordinary body costs one allocation of about its own size.
std::string_view Inflate(std::string_view in, bool raw, std::size_t cap, Arena& arena,
                         bool* corrupt, bool* cut) {
  *corrupt = *cut = false;
  z_stream zs{};
  if (inflateInit2(&zs, raw ? -MAX_WBITS : MAX_WBITS + 32) != Z_OK) {
    *corrupt = true;
    return {};
  }
  std::size_t want = std::max<std::size_t>(4096, in.size() * 8);
  if (!raw && in.size() >= 18 && static_cast<unsigned char>(in[0]) == 0x1f &&
      static_cast<unsigned char>(in[1]) == 0x8b) {
    // ISIZE: the uncompressed size modulo 2^32, little-endian, in the last four bytes.
    const auto* t = reinterpret_cast<const unsigned char*>(in.data() + in.size() - 4);
    want = (std::size_t{t[0]} | std::size_t{t[1]} << 8 | std::size_t{t[2]} << 16 |
            std::size_t{t[3]} << 24) +
           1;
  }
  want = std::min(want, cap);
  char* buf = arena.Allocate(want);
  std::size_t produced = 0;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(buf);
  zs.avail_out = static_cast<uInt>(want);
  while (true) {
    const int rc = inflate(&zs, Z_NO_FLUSH);
    produced = want - zs.avail_out;
    if (rc == Z_STREAM_END) break;
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      *corrupt = true;
      break;
    }
    if (zs.avail_out == 0) {
      if (!GrowOutput(cap, produced, arena, &buf, &want, cut)) break;
      zs.next_out = reinterpret_cast<Bytef*>(buf + produced);
      zs.avail_out = static_cast<uInt>(want - produced);
      continue;
    }
    if (zs.avail_in == 0 || rc == Z_BUF_ERROR) break;  // the input ended early
  }
  inflateEnd(&zs);
  arena.ShrinkLast(buf, produced);
  return {buf, produced};
}

// The Brotli decoder's own memory (its ring buffer is sized by the window the stream asks
// for, up to 16 MiB) comes from a budget: a stream that needs more than kMaxBrotliDecoderBytes
// fails to decode (and is flagged) instead of taking the memory. Each block carries its size.
struct BrotliBudget {
  std::size_t used = 0;
};
constexpr std::size_t kMaxBrotliDecoderBytes = 6 * 1024 * 1024;
constexpr std::size_t kBrotliBlockHeader = alignof(std::max_align_t);

void* BrotliBudgetAlloc(void* opaque, std::size_t size) {
  auto* budget = static_cast<BrotliBudget*>(opaque);
  if (size > kMaxBrotliDecoderBytes - budget->used) return nullptr;
  auto* block = static_cast<char*>(std::malloc(size + kBrotliBlockHeader));
  if (block == nullptr) return nullptr;
  std::memcpy(block, &size, sizeof(size));
  budget->used += size;
  return block + kBrotliBlockHeader;
}

void BrotliBudgetFree(void* opaque, void* address) {
  if (address == nullptr) return;
  char* block = static_cast<char*>(address) - kBrotliBlockHeader;
  std::size_t size = 0;
  std::memcpy(&size, block, sizeof(size));
  static_cast<BrotliBudget*>(opaque)->used -= size;
  std::free(block);
}

// Decompresses a Brotli stream into the arena, to at most `cap` bytes, with Inflate's
// contract (*corrupt, *cut; a stream that ends early keeps what was decoded).
std::string_view Unbrotli(std::string_view in, std::size_t cap, Arena& arena, bool* corrupt,
                          bool* cut) {
  *corrupt = *cut = false;
  BrotliBudget budget;
  BrotliDecoderState* st =
      BrotliDecoderCreateInstance(BrotliBudgetAlloc, BrotliBudgetFree, &budget);
  if (st == nullptr) {
    *corrupt = true;
    return {};
  }
  std::size_t want = std::min(cap, std::max<std::size_t>(4096, in.size() * 8));
  char* buf = arena.Allocate(want);
  std::size_t produced = 0;
  std::size_t avail_in = in.size();
  const auto* next_in = reinterpret_cast<const uint8_t*>(in.data());
  while (true) {
    std::size_t avail_out = want - produced;
    auto* next_out = reinterpret_cast<uint8_t*>(buf + produced);
    const BrotliDecoderResult rc =
        BrotliDecoderDecompressStream(st, &avail_in, &next_in, &avail_out, &next_out, nullptr);
    produced = want - avail_out;
    if (rc == BROTLI_DECODER_RESULT_SUCCESS) break;
    if (rc == BROTLI_DECODER_RESULT_ERROR) {
      *corrupt = true;
      break;
    }
    if (rc == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT) break;  // the input ended early
    // BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT
    if (!GrowOutput(cap, produced, arena, &buf, &want, cut)) break;
  }
  BrotliDecoderDestroyInstance(st);
  arena.ShrinkLast(buf, produced);
  return {buf, produced};
}

// The body as the application reads it after its Content-Encoding: gzip, x-gzip and deflate
// (zlib-wrapped, or raw as some clients send it) and br (ASP.NET Core's request
// decompression reads it) are decompressed, at most two of them in a list ("gzip, gzip"),
// bounded by kMaxParsedBodyBytes and kMaxInflateRatio. Identity is the body itself. Any other
// coding (zstd, compress) is flagged and the body left as it is.
std::string_view DecodeContentEncoding(std::string_view coding, std::string_view body, Arena& arena,
                                       ParsedRequest* out) {
  std::string_view codings[2];
  std::size_t count = 0;
  while (!coding.empty()) {
    const std::size_t comma = coding.find(',');
    const std::string_view one = Trim(coding.substr(0, comma));
    coding = comma == std::string_view::npos ? std::string_view() : coding.substr(comma + 1);
    if (one.empty() || IEquals(one, "identity")) continue;
    if (count == 2) {
      out->anomalies |= kAnomalyUnknownContentEncoding;
      return body;
    }
    codings[count++] = one;
  }
  // Codings are listed in the order they were applied: undo the last first.
  for (std::size_t i = count; i-- > 0;) {
    const std::string_view c = codings[i];
    const bool gzip = IEquals(c, "gzip") || IEquals(c, "x-gzip");
    const bool br = IEquals(c, "br");
    if (!gzip && !br && !IEquals(c, "deflate")) {
      out->anomalies |= kAnomalyUnknownContentEncoding;
      return body;
    }
    const std::size_t cap =
        std::min(kMaxParsedBodyBytes, std::max<std::size_t>(4096, body.size() * kMaxInflateRatio));
    bool corrupt = false, cut = false;
    std::string_view plain;
    if (br) {
      plain = Unbrotli(body, cap, arena, &corrupt, &cut);
    } else {
      plain = Inflate(body, false, cap, arena, &corrupt, &cut);
      if (corrupt && !gzip) plain = Inflate(body, true, cap, arena, &corrupt, &cut);
    }
    if (corrupt) {
      out->anomalies |= kAnomalyBadContentEncoding;
      return body;
    }
    if (cut) out->anomalies |= kAnomalyBodyTruncated;
    body = plain;
  }
  return body;
}

namespace {

void ParseRequestParts(const HttpRequest& req, Arena& arena, ParsedRequest* out) {
  out->Clear();
  out->fields.reserve(64);

  // Request line.
  if (!IsToken(req.method)) out->anomalies |= kAnomalyBadMethod;
  if (req.version != "HTTP/1.1" && req.version != "HTTP/1.0") out->anomalies |= kAnomalyBadVersion;
  std::string_view uri = req.uri;
  if (uri.size() > limits::kMaxUriBytes) {
    out->anomalies |= kAnomalyUriTooLong;
    uri = uri.substr(0, limits::kMaxUriBytes);
  }
  if (HasControlOrSpace(uri)) out->anomalies |= kAnomalyBadUriChar;
  AddField(out, Source::kMethod, Part::kValue, "method", req.method);

  std::string_view target = uri;
  if (IStartsWith(target, "http://") || IStartsWith(target, "https://")) {
    out->anomalies |= kAnomalyAbsoluteUri;
    std::size_t scheme_end = target.find("//") + 2;
    std::size_t slash = target.find_first_of("/?#", scheme_end);
    target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
  }
  // Clients never send a fragment; a raw '#' in the request-target is kept for inspection
  // (back ends differ on where it ends) and cut from the path and query.
  std::size_t hash = target.find('#');
  std::string_view fragment;
  std::string_view query_and_fragment;
  if (hash != std::string_view::npos) {
    out->anomalies |= kAnomalyFragmentInUri;
    fragment = target.substr(hash + 1);
    std::size_t q0 = target.find('?');
    if (q0 != std::string_view::npos && q0 < hash) query_and_fragment = target.substr(q0 + 1);
    target = target.substr(0, hash);
  }
  std::size_t q = target.find('?');
  out->raw_path = target.substr(0, q);
  out->raw_query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  if (out->raw_path.find('\\') != std::string_view::npos) out->anomalies |= kAnomalyBackslashInPath;
  out->anomalies |= PathSpellingAnomalies(out->raw_path);
  if (QueryOpensWithAuthority(out->raw_query)) out->anomalies |= kAnomalyQueryAuthority;
  if (PathParameterBypass(out->raw_path) != std::string_view::npos) {
    out->anomalies |= kAnomalyPathParameterBypass;
  }

  out->path = DecodeArg(out->raw_path, false, arena, out);
  if (out->path.find('\r') != std::string_view::npos ||
      out->path.find('\n') != std::string_view::npos) {
    out->anomalies |= kAnomalyCrlfInArgs;
  }
  AddField(out, Source::kPath, Part::kValue, "path", out->path);
  {
    std::size_t pos = 0;
    std::size_t segments = 0;
    std::string_view last_segment;
    std::string_view rp = out->raw_path;
    while (pos < rp.size()) {
      std::size_t slash = rp.find('/', pos);
      if (slash == std::string_view::npos) slash = rp.size();
      std::string_view seg = rp.substr(pos, slash - pos);
      pos = slash + 1;
      if (seg.empty()) continue;
      if (++segments > limits::kMaxPathSegments) {
        out->anomalies |= kAnomalyFieldsNotInspected;
        break;
      }
      AddField(out, Source::kPathSegment, Part::kValue, "path", DecodeArg(seg, false, arena, out));
      last_segment = seg;
      const std::size_t semi = seg.find(';');
      if (semi != std::string_view::npos) AddMatrixParams(seg.substr(semi + 1), arena, out);
    }
    // The last segment's name without its extension ("/users/<id>.json"): routers that
    // take the extension as the response format (Rails, Spring's suffix patterns) hand the
    // application the part before it. A short or dotted name of letters, digits, '_', '-'
    // and '.' (a file name: "app.min.js") reads the same either way.
    if (!last_segment.empty() && segments <= limits::kMaxPathSegments) {
      const std::size_t dot = last_segment.rfind('.');
      if (dot != std::string_view::npos && dot > 0 && last_segment.size() - dot <= 6 &&
          last_segment.size() - dot >= 2) {
        bool ext = true;
        for (std::size_t k = dot + 1; k < last_segment.size(); ++k) {
          ext = ext && IsAsciiAlnum(static_cast<unsigned char>(last_segment[k]));
        }
        bool plain_name = true;
        bool dotted = false;
        for (std::size_t k = 0; k < dot && plain_name; ++k) {
          const unsigned char c = static_cast<unsigned char>(last_segment[k]);
          plain_name = IsAsciiAlnum(c) || c == '_' || c == '-' || c == '.';
          dotted = dotted || c == '.';
        }
        // A long undotted run can be base64 ("/r/<base64url>.json").
        if (plain_name && !dotted && dot >= 16) plain_name = false;
        if (ext && !plain_name) {
          AddField(out, Source::kPathSegment, Part::kValue, "path",
                   DecodeArg(last_segment.substr(0, dot), false, arena, out));
        }
      }
    }
    // The segments cut an embedded URL at each '/': it is also a value of its own.
    std::string_view url = EmbeddedUrl(out->path);
    if (!url.empty()) AddField(out, Source::kPathSegment, Part::kValue, "path", url);
    std::string_view tail = CommentedTail(out->path);
    if (!tail.empty()) AddField(out, Source::kPathSegment, Part::kValue, "path", tail);
  }
  if (!out->raw_query.empty()) {
    ParseUrlEncoded(out->raw_query, Source::kQuery, arena, out);
    // Markup written with "&#NN;" is cut by both '&' and '#': the whole string, fragment
    // included, is what a browser would see.
    AddWholeArgs(query_and_fragment.empty() ? out->raw_query : query_and_fragment, Source::kQuery,
                 arena, out);
  }
  if (!fragment.empty()) {
    AddField(out, Source::kQuery, Part::kValue, "(fragment)",
             DecodeArg(fragment, true, arena, out));
  }

  // Headers.
  std::string_view content_type;
  std::string_view first_cl;
  std::size_t te_count = 0;
  std::size_t host_count = 0;
  std::size_t ct_count = 0;
  std::string_view content_encoding;
  for (const Header& h : req.headers) {
    if (++out->header_count > static_cast<int>(limits::kMaxHeaderCount)) {
      out->anomalies |= kAnomalyTooManyHeaders;
      break;
    }
    if (h.name.size() + h.value.size() > limits::kMaxHeaderBytes) {
      out->anomalies |= kAnomalyHeaderTooLong;
    }
    if (!IsToken(h.name)) out->anomalies |= kAnomalyBadHeaderName;
    for (unsigned char c : h.value) {
      if (c == '\r' || c == '\n' || c == 0) {
        out->anomalies |= kAnomalyCtlInHeaderValue;
        break;
      }
    }
    std::string_view value = h.value.substr(0, limits::kMaxHeaderBytes);
    if (IEquals(h.name, "host")) {
      if (host_count++ == 0) out->host = value;
      if (Trim(value).empty()) out->anomalies |= kAnomalyEmptyHost;
    } else if (IEquals(h.name, "content-length")) {
      ++out->content_length_count;
      std::string_view v = Trim(value);
      bool digits = !v.empty() && v.size() <= 18;
      for (char c : v) digits = digits && c >= '0' && c <= '9';
      if (!digits) out->anomalies |= kAnomalyBadCl;
      if (out->content_length_count == 1) {
        first_cl = v;
      } else {
        out->anomalies |= kAnomalyMultipleCl;
        if (v != first_cl) out->anomalies |= kAnomalyConflictingCl;
      }
    } else if (IEquals(h.name, "transfer-encoding")) {
      out->has_transfer_encoding = true;
      ++te_count;
      if (!IEquals(value, "chunked")) out->anomalies |= kAnomalyBadTe;
    } else if (IEquals(h.name, "content-encoding")) {
      if (content_encoding.empty()) content_encoding = value;
    } else if (IEquals(h.name, "content-type")) {
      ++ct_count;
      if (ct_count == 1) content_type = value;
      out->has_content_type = true;
    } else if (IEquals(h.name, "user-agent")) {
      if (!out->has_user_agent) out->user_agent = value;
      out->has_user_agent = true;
    } else if (IEquals(h.name, "accept")) {
      out->has_accept = true;
    } else if (IEquals(h.name, "range") || IEquals(h.name, "request-range")) {
      std::size_t commas = static_cast<std::size_t>(std::count(value.begin(), value.end(), ','));
      if (commas >= 5) out->anomalies |= kAnomalyRangeAbuse;
    } else if (IEquals(h.name, "cookie")) {
      ParseCookieHeader(value, arena, out);
      continue;
    }
    uint16_t flags = IsStructuredHeader(h.name) ? kFieldStructured : 0;
    AddField(out, Source::kHeader, Part::kValue, h.name, value, flags);
    if (flags == 0) MaybeParseNestedJson(value, arena, out);
    if (IEquals(h.name, "x-forwarded-for")) AddForwardedElements(h.name, value, false, out);
    if (IEquals(h.name, "forwarded")) AddForwardedElements(h.name, value, true, out);
    if (value.size() > 6 && IStartsWith(value, "basic ") &&
        (IEquals(h.name, "authorization") || IEquals(h.name, "proxy-authorization"))) {
      AddBasicCredentials(h.name, value, arena, out);
    }
  }
  if (host_count == 0) out->anomalies |= kAnomalyMissingHost;
  if (host_count > 1) out->anomalies |= kAnomalyMultipleHost;
  if (te_count > 1) out->anomalies |= kAnomalyMultipleTe;
  // HTTP/1.0 has no transfer codings: a receiver must treat such framing as faulty (RFC 9112
  // 6.1), and one that reads the chunks anyway disagrees with one that does not.
  if (te_count > 0 && req.version == "HTTP/1.0") out->anomalies |= kAnomalyBadTe;
  if (te_count > 0 && out->content_length_count > 0) out->anomalies |= kAnomalyClAndTe;
  if (ct_count > 1) out->anomalies |= kAnomalyDuplicateContentType;

  // Body.
  std::string_view body = req.body;
  if (!body.empty()) {
    if (out->content_length_count == 0 && te_count == 0)
      out->anomalies |= kAnomalyBodyWithoutLength;
    if (IEquals(req.method, "GET") || IEquals(req.method, "HEAD")) {
      out->anomalies |= kAnomalyGetWithBody;
    }
    if (!out->has_content_type) out->anomalies |= kAnomalyBodyWithoutType;
  }
  if (out->content_length_count == 1 && te_count == 0 && !(out->anomalies & kAnomalyBadCl)) {
    std::size_t cl = 0;
    for (char c : first_cl) cl = cl * 10 + static_cast<std::size_t>(c - '0');
    if (cl != req.body.size()) out->anomalies |= kAnomalyClMismatch;
  }
  std::string_view mt = MediaType(content_type, arena);
  out->media_type = mt;
  if (!content_type.empty()) {
    std::size_t slash = mt.find('/');
    if (slash == std::string_view::npos || slash == 0 || slash + 1 >= mt.size() ||
        !IsToken(mt.substr(0, slash)) || !IsToken(mt.substr(slash + 1)) ||
        !ValidContentTypeParams(content_type)) {
      out->anomalies |= kAnomalyBadContentType;
    }
    if (IFind(content_type, "utf-7") != std::string_view::npos) out->anomalies |= kAnomalyUtf7;
    if (mt.substr(0, 10) != "multipart/" && !HeaderParam(content_type, "boundary").empty()) {
      out->anomalies |= kAnomalyContentTypeBoundaryTrick;
    }
  }
  if (body.empty()) return;
  if (!content_encoding.empty()) body = DecodeContentEncoding(content_encoding, body, arena, out);
  bool is_multipart = mt.substr(0, 10) == "multipart/";
  if (!is_multipart && body.size() > kMaxParsedBodyBytes) {
    out->anomalies |= kAnomalyBodyTruncated;
    body = body.substr(0, kMaxParsedBodyBytes);
  }
  out->body = body;
  if (is_multipart) {
    out->body_kind = BodyKind::kMultipart;
    ParseMultipartBody(body, HeaderParam(content_type, "boundary"), arena, out, 0);
    return;
  }
  ParseBodyByType(body, mt, Source::kBodyForm, arena, out, &out->body_kind);
}

}  // namespace

void ParseRequest(const HttpRequest& req, Arena& arena, ParsedRequest* out) {
  ParseRequestParts(req, arena, out);
  AddJwtFields(arena, out);
}

}  // namespace shieldx::detect
