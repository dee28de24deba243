#include "libs/detect/protocol.h"

#include <algorithm>
#include <string>
#include <vector>

#include "libs/detect/detector.h"
#include "libs/detect/text_util.h"

namespace shieldx::detect {

// Literal lists as "..."sv: a braced list of plain literals is an initializer_list of
// pointers, and every turn of the loop over it measured the string (strlen).
using std::string_view_literals::operator""sv;

namespace {

struct AnomalyRule {
  uint64_t bit;
  float confidence;
  const char* rule;
  const char* what;
};

constexpr AnomalyRule kAnomalyRules[] = {
    {kAnomalyClAndTe, 0.8f, "protocol.cl-and-te", "Content-Length with Transfer-Encoding"},
    {kAnomalyConflictingCl, 0.9f, "protocol.conflicting-content-length",
     "differing Content-Length values"},
    {kAnomalyMultipleCl, 0.6f, "protocol.duplicate-content-length", "repeated Content-Length"},
    {kAnomalyBadCl, 0.8f, "protocol.invalid-content-length", "Content-Length is not a number"},
    {kAnomalyBadTe, 0.85f, "protocol.invalid-transfer-encoding",
     "Transfer-Encoding other than chunked"},
    {kAnomalyMultipleTe, 0.8f, "protocol.duplicate-transfer-encoding",
     "repeated Transfer-Encoding"},
    {kAnomalyBadHeaderName, 0.7f, "protocol.invalid-header-name", "header name is not a token"},
    {kAnomalyCtlInHeaderValue, 0.8f, "protocol.control-char-in-header",
     "CR/LF/NUL in a header value"},
    {kAnomalyBadMethod, 0.8f, "protocol.invalid-method", "method is not a token"},
    {kAnomalyBadVersion, 0.6f, "protocol.invalid-version", "HTTP version not 1.0/1.1"},
    {kAnomalyMissingHost, 0.5f, "protocol.missing-host", "no Host header"},
    {kAnomalyEmptyHost, 0.5f, "protocol.empty-host", "empty Host header"},
    {kAnomalyMultipleHost, 0.7f, "protocol.duplicate-host", "repeated Host header"},
    {kAnomalyGetWithBody, 0.55f, "protocol.body-on-get", "GET/HEAD with a body"},
    {kAnomalyBodyWithoutLength, 0.5f, "protocol.body-without-length",
     "body without Content-Length"},
    {kAnomalyClMismatch, 0.4f, "protocol.content-length-mismatch",
     "Content-Length differs from body"},
    {kAnomalyInvalidPercent, 0.35f, "protocol.invalid-percent-encoding",
     "'%' without two hex digits"},
    {kAnomalyPercentU, 0.6f, "protocol.percent-u-encoding", "%uXXXX encoding"},
    {kAnomalyNulInArgs, 0.7f, "protocol.nul-byte", "NUL byte in an argument"},
    {kAnomalyBadContentEncoding, 0.6f, "protocol.bad-content-encoding",
     "compressed body that does not decompress"},
    {kAnomalyUnknownContentEncoding, 0.3f, "protocol.unknown-content-encoding",
     "body in a content coding the engine does not decode"},
    {kAnomalyOverlongUtf8, 0.7f, "protocol.overlong-utf8", "overlong UTF-8 sequence"},
    {kAnomalyInvalidUtf8, 0.25f, "protocol.invalid-utf8", "bytes that are not UTF-8"},
    {kAnomalyCrlfInArgs, 0.7f, "protocol.crlf-in-name-or-path",
     "CR/LF in an argument name or path"},
    {kAnomalyMultipartNoBoundary, 0.6f, "protocol.multipart-no-boundary",
     "multipart without boundary"},
    {kAnomalyMultipartMalformed, 0.45f, "protocol.multipart-malformed", "malformed multipart body"},
    {kAnomalyMultipartBadFilename, 0.7f, "protocol.multipart-filename-trick",
     "quote/semicolon tricks in a multipart header"},
    {kAnomalyMultipartCharset, 0.6f, "protocol.multipart-charset",
     "multipart charset outside UTF-8/ASCII/Latin-1"},
    {kAnomalyMultipartCte, 0.5f, "protocol.multipart-transfer-encoding",
     "Content-Transfer-Encoding in a part"},
    {kAnomalyUtf7, 0.7f, "protocol.utf7", "UTF-7 charset"},
    {kAnomalyContentTypeBoundaryTrick, 0.7f, "protocol.content-type-boundary-trick",
     "boundary on a non-multipart type"},
    {kAnomalyDuplicateContentType, 0.6f, "protocol.duplicate-content-type",
     "repeated Content-Type"},
    {kAnomalyBadContentType, 0.6f, "protocol.invalid-content-type",
     "Content-Type is not type/subtype"},
    {kAnomalyRangeAbuse, 0.55f, "protocol.range-abuse", "many byte ranges"},
    {kAnomalyCookieMalformed, 0.45f, "protocol.cookie-quoting-trick", "quoted cookie tricks"},
    {kAnomalyPathEncodedAlnum, 0.5f, "protocol.path-encoded-alnum",
     "percent-encoded letter or digit in the path"},
    {kAnomalyPathDotSegment, 0.5f, "protocol.path-dot-segment", "'.' segment in the path"},
    {kAnomalyPathDoubleEncoded, 0.6f, "protocol.path-double-encoded",
     "letter, digit or dot percent-encoded twice in the path"},
    {kAnomalyQueryAuthority, 0.6f, "protocol.query-authority", "query opening with @host/"},
    {kAnomalyPathParameterBypass, 0.6f, "protocol.path-parameter-bypass",
     "empty or extension-only path parameter"},
    {kAnomalyPathEncodedQuery, 0.6f, "protocol.path-encoded-query",
     "encoded '?' followed by an extension in the path"},
    {kAnomalyCookieSmuggling, 0.6f, "protocol.cookie-smuggling",
     "$Version with a quoted cookie value spanning ';'"},
    {kAnomalyFieldsOverflow, 0.4f, "protocol.too-many-fields",
     "more fields than inspected in full (the rest screened)"},
    {kAnomalyFieldsNotInspected, 0.6f, "protocol.fields-not-inspected",
     "more fields that could carry an attack than inspected"},
    {kAnomalyBodyTruncated, 0.55f, "protocol.body-exceeds-inspection",
     "body larger than inspected"},
    {kAnomalyUriTooLong, 0.3f, "protocol.uri-too-long", "request-target too long"},
    {kAnomalyTooManyHeaders, 0.6f, "protocol.too-many-headers", "too many headers"},
    {kAnomalyHeaderTooLong, 0.5f, "protocol.header-too-long", "header too long"},
    {kAnomalyFragmentInUri, 0.35f, "protocol.fragment-in-uri", "fragment sent to the server"},
    {kAnomalyBadUriChar, 0.4f, "protocol.raw-control-in-uri",
     "raw space/control in the request-target"},
    {kAnomalyJsonTooDeep, 0.4f, "protocol.json-too-deep", "JSON nesting beyond the limit"},
};

// Charset names a web client legitimately declares for a request body or an Accept header
// (UTF-8, ASCII, the ISO-8859 and Windows code pages, the common CJK and Cyrillic sets).
bool IsWebCharset(std::string_view cs) {
  for (std::string_view c :
       {"utf-8"sv, "utf8"sv, "us-ascii"sv, "ascii"sv, "latin1"sv, "latin-1"sv, "shift_jis"sv,
        "shift-jis"sv, "sjis"sv, "euc-jp"sv, "euc-kr"sv, "gb2312"sv, "gbk"sv, "gb18030"sv, "big5"sv,
        "big5-hkscs"sv, "koi8-r"sv, "koi8-u"sv, "iso-2022-jp"sv, "iso-2022-kr"sv, "tis-620"sv,
        "x-sjis"sv, "ks_c_5601-1987"sv, "macintosh"sv,
        // Vendor names of the same national charsets (Windows, Java, ICU, older browsers).
        "windows-874"sv, "cp874"sv, "tis620"sv, "windows-31j"sv, "ms932"sv, "cp932"sv, "cp936"sv,
        "cp949"sv, "cp950"sv, "x-gbk"sv, "euc-cn"sv, "x-euc-jp"sv, "euc-tw"sv, "big5hkscs"sv,
        "x-mac-roman"sv, "macroman"sv, "iso-2022-cn"sv, "hz-gb-2312"sv, "koi8-ru"sv, "viscii"sv}) {
    if (cs == c) return true;
  }
  for (std::string_view prefix :
       {"iso-8859-"sv, "iso8859-"sv, "iso_8859-"sv, "windows-125"sv, "cp125"sv}) {
    if (StartsWith(cs, prefix) && cs.size() > prefix.size() && cs.size() <= prefix.size() + 2 &&
        IsAsciiDigit(static_cast<unsigned char>(cs[prefix.size()]))) {
      return true;
    }
  }
  return false;
}

// Charsets that re-encode ASCII (EBCDIC code pages, UTF-7/16/32): declared on a form body or
// an Accept header they are a known way past byte-pattern filters.
bool IsEvasiveCharset(std::string_view cs) {
  if (StartsWith(cs, "ibm") || StartsWith(cs, "ebcdic") || StartsWith(cs, "cp037") ||
      StartsWith(cs, "cp500") || StartsWith(cs, "cp875") || StartsWith(cs, "cp1026") ||
      StartsWith(cs, "cp1140") || StartsWith(cs, "utf-7") || StartsWith(cs, "utf-16") ||
      StartsWith(cs, "utf-32") || StartsWith(cs, "utf16") || StartsWith(cs, "utf32") ||
      StartsWith(cs, "ucs-")) {
    return true;
  }
  return false;
}

// Every charset= parameter in a header value (lowercased, quotes removed). Returns the
// worst verdict: 2 evasive, 1 unknown, 0 fine. Runs on the Accept and Content-Type of nearly
// every request: it visits the '='s only, and lower-cases a charset name on the stack.
int CharsetVerdict(std::string_view value, std::string* worst) {
  value = value.substr(0, 1024);
  int verdict = 0;
  for (std::size_t eq = value.find('='); eq != std::string_view::npos;
       eq = value.find('=', eq + 1)) {
    std::size_t b = eq;
    while (b > 0 && IsSpaceChar(static_cast<unsigned char>(value[b - 1]))) --b;
    if (b < 7 || !IEquals(value.substr(b - 7, 7), "charset")) continue;
    std::size_t k = SkipSpaces(value, eq + 1);
    if (k < value.size() && (value[k] == '"' || value[k] == '\'')) ++k;
    std::size_t e = k;
    while (e < value.size() && value[e] != '"' && value[e] != '\'' && value[e] != ';' &&
           value[e] != ',' && !IsSpaceChar(static_cast<unsigned char>(value[e]))) {
      ++e;
    }
    // No charset name is near 64 bytes: a longer one is unknown (or evasive by its prefix).
    constexpr std::size_t kLongestName = 64;
    char buf[kLongestName];
    const std::string_view raw = value.substr(k, e - k);
    const std::string_view head = raw.substr(0, kLongestName);
    AsciiLowerInto(head, buf);
    const std::string_view cs(buf, head.size());
    const int v = IsEvasiveCharset(cs) ? 2 : raw.size() <= kLongestName && IsWebCharset(cs) ? 0 : 1;
    if (v > verdict) {
      verdict = v;
      worst->resize(raw.size());
      AsciiLowerInto(raw, worst->data());
    }
  }
  return verdict;
}

// Whether a Connection option names a header that carries identity or authentication: the
// next hop strips what the option names, so a proxy's own X-Forwarded-For, an auth gateway's
// X-Remote-User or the client's X-F5-Auth-Token never reaches the check that needs it.
bool IdentityHeaderName(std::string_view t) {
  // The framing and routing headers by name; the identity ones (X-Forwarded-For, X-Real-IP,
  // Authorization, X-Api-Key ...) by the words below.
  for (std::string_view h : {"cookie"sv, "host"sv, "content-length"sv, "transfer-encoding"sv}) {
    if (t == h) return true;
  }
  if (t == "user-agent") return false;
  for (std::string_view part :
       {"auth"sv, "token"sv, "user"sv, "client-ip"sv, "real-ip"sv, "forwarded"sv, "session"sv,
        "signature"sv, "api-key"sv, "identity"sv, "oidc"sv, "jwt"sv}) {
    if (t.find(part) != std::string_view::npos) return true;
  }
  return false;
}

// Connection header tokens: contradictory or repeated options, or hop-by-hop removal of a
// header the application relies on (X-Forwarded-For, Authorization, a custom auth header).
void CheckConnectionHeader(std::string_view value, const HttpRequest& req, FindingSink& sink) {
  // Lower-cased into a stack buffer and split into views: no allocation for the header almost
  // every request carries. 512 bytes hold at most 256 options.
  constexpr std::size_t kMaxBytes = 512;
  char buf[kMaxBytes];
  const std::string_view raw = value.substr(0, kMaxBytes);
  AsciiLowerInto(raw, buf);
  const std::string_view lower(buf, raw.size());
  struct Span {  // trivial: the array is not zeroed at every call
    uint16_t pos, len;
  } tokens[kMaxBytes / 2];
  std::size_t count = 0;
  std::size_t i = 0;
  while (i < lower.size()) {
    std::size_t e = lower.find(',', i);
    if (e == std::string_view::npos) e = lower.size();
    std::size_t a = SkipSpaces(lower, i);
    std::size_t b = e;
    while (b > a && IsSpaceChar(static_cast<unsigned char>(lower[b - 1]))) --b;
    if (b > a) tokens[count++] = {static_cast<uint16_t>(a), static_cast<uint16_t>(b - a)};
    i = e + 1;
  }
  bool close = false, keep_alive = false, duplicate = false, sensitive = false;
  for (std::size_t k = 0; k < count; ++k) {
    const std::string_view t = lower.substr(tokens[k].pos, tokens[k].len);
    close |= t == "close";
    keep_alive |= t == "keep-alive";
    for (std::size_t m = 0; m < k; ++m) {
      duplicate |= lower.substr(tokens[m].pos, tokens[m].len) == t;
    }
    // The options every client sends name no header to strip.
    if (t == "close" || t == "keep-alive" || t == "upgrade" || t == "te") continue;
    sensitive |= IdentityHeaderName(t);
    // A custom header this request carries that the option says to strip: the front end
    // sees it, the application does not (X-F5-Auth-Token was F5's authentication bypass).
    if (!sensitive && t.size() > 2 && t[0] == 'x' && t[1] == '-') {
      for (const Header& h : req.headers) {
        if (IEquals(h.name, t)) {
          sensitive = true;
          break;
        }
      }
    }
  }
  if (sensitive) {
    sink.AddRequestLevel(Category::kProtocol, 0.7f, "protocol.hop-by-hop-abuse", "Connection",
                         value.substr(0, 80));
  } else if (close && keep_alive) {
    sink.AddRequestLevel(Category::kProtocol, 0.6f, "protocol.conflicting-connection", "Connection",
                         value.substr(0, 80));
  } else if (duplicate) {
    sink.AddRequestLevel(Category::kProtocol, 0.5f, "protocol.duplicate-connection-option",
                         "Connection", value.substr(0, 80));
  }
}

// The request headers DetectProtocol judges by name. Each name is classified once, by its
// length first (most names then differ from the candidates at their first letter), instead
// of compared with every name in turn.
enum class RequestHeader {
  kOther,
  kAccept,
  kAcceptEncoding,
  kConnection,
  kContentEncoding,
  kContentLength,
  kContentRange,
  kContentType,
  kCookie,
  kIf,
  kLockToken,
  kMethodOverride,        // X-HTTP-Method-Override, X-HTTP-Method, X-Method-Override
  kMiddlewareSubrequest,  // X-Middleware-Subrequest
  kProxy,
  kRequestRange,
  kUrlOverride,  // X-Original-URL, X-Rewrite-URL, X-Override-URL
};

RequestHeader ClassifyRequestHeader(std::string_view n) {
  switch (n.size()) {
    case 2:
      if (IEquals(n, "if")) return RequestHeader::kIf;
      break;
    case 5:
      if (IEquals(n, "proxy")) return RequestHeader::kProxy;
      break;
    case 6:
      if (IEquals(n, "accept")) return RequestHeader::kAccept;
      if (IEquals(n, "cookie")) return RequestHeader::kCookie;
      break;
    case 10:
      if (IEquals(n, "connection")) return RequestHeader::kConnection;
      if (IEquals(n, "lock-token")) return RequestHeader::kLockToken;
      break;
    case 12:
      if (IEquals(n, "content-type")) return RequestHeader::kContentType;
      break;
    case 13:
      if (IEquals(n, "content-range")) return RequestHeader::kContentRange;
      if (IEquals(n, "request-range")) return RequestHeader::kRequestRange;
      if (IEquals(n, "x-http-method")) return RequestHeader::kMethodOverride;
      if (IEquals(n, "x-rewrite-url")) return RequestHeader::kUrlOverride;
      break;
    case 14:
      if (IEquals(n, "content-length")) return RequestHeader::kContentLength;
      if (IEquals(n, "x-original-url") || IEquals(n, "x-override-url"))
        return RequestHeader::kUrlOverride;
      break;
    case 15:
      if (IEquals(n, "accept-encoding")) return RequestHeader::kAcceptEncoding;
      break;
    case 16:
      if (IEquals(n, "content-encoding")) return RequestHeader::kContentEncoding;
      break;
    case 17:
      if (IEquals(n, "x-method-override")) return RequestHeader::kMethodOverride;
      break;
    case 22:
      if (IEquals(n, "x-http-method-override")) return RequestHeader::kMethodOverride;
      break;
    case 23:
      if (IEquals(n, "x-middleware-subrequest")) return RequestHeader::kMiddlewareSubrequest;
      break;
    default:
      break;
  }
  return RequestHeader::kOther;
}

// WebDAV (RFC 4918) headers whose grammar is broken: If opens with a list "(" or a resource
// tag "<"; Lock-Token is one Coded-URL "<...>". A WebDAV client writes them correctly; a bare
// word or an unclosed tag is a probe for how the server parses lock conditions.
bool MalformedWebdavHeader(RequestHeader kind, std::string_view value) {
  value = TrimSpaces(value);
  if (kind == RequestHeader::kIf) return value.empty() || (value[0] != '(' && value[0] != '<');
  return value.size() < 3 || value.front() != '<' || value.back() != '>';
}

// A request's Content-Range (resumable uploads) is "unit first-last/length", "unit */length"
// or "unit */*" (RFC 9110 14.4; length may be "*" while the upload's size is unknown).
bool ValidContentRange(std::string_view v) {
  v = TrimSpaces(v);
  std::size_t i = 0;
  while (i < v.size() &&
         (IsAsciiAlnum(static_cast<unsigned char>(v[i])) || v[i] == '-' || v[i] == '_')) {
    ++i;
  }
  if (i == 0 || i >= v.size() || v[i] != ' ') return false;
  std::string_view rest = TrimSpaces(v.substr(i));
  auto digits = [](std::string_view d) {
    if (d.empty() || d.size() > 20) return false;
    for (char c : d) {
      if (!IsAsciiDigit(static_cast<unsigned char>(c))) return false;
    }
    return true;
  };
  const std::size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return false;
  const std::string_view range = rest.substr(0, slash);
  const std::string_view length = rest.substr(slash + 1);
  if (!(length == "*" || digits(length))) return false;
  if (range == "*") return true;
  const std::size_t dash = range.find('-');
  return dash != std::string_view::npos && digits(range.substr(0, dash)) &&
         digits(range.substr(dash + 1));
}

// Accept-Encoding names codings of a few letters ("gzip", "pack200-gzip", "aes128gcm"); a
// list longer than any client sends, or a "coding" of dozens of characters, is a probe of the
// server's list parsing (the CVE-era Accept-Encoding overflows), not a preference.
bool AbusiveAcceptEncoding(std::string_view v) {
  constexpr std::size_t kLongestCoding = 32;
  if (v.size() > 256) return true;
  if (v.size() <= kLongestCoding) return false;
  // A list item is a coding with its weight ("gzip;q=1.0"); only a long item is looked into.
  for (std::size_t i = 0; i < v.size();) {
    std::size_t e = v.find(',', i);
    if (e == std::string_view::npos) e = v.size();
    if (e - i > kLongestCoding) {
      std::size_t run = 0;
      for (std::size_t k = i; k < e; ++k) {
        const char c = v[k];
        if (c == ';' || c == ' ' || c == '\t') {
          run = 0;
        } else if (++run > kLongestCoding) {
          return true;
        }
      }
    }
    i = e + 1;
  }
  return false;
}

// Multipart field names and file names with characters that parsers split differently
// (';', '=', backslash escapes): the classic way to hide a field from a WAF.
void CheckMultipartNames(const ParsedRequest& parsed, FindingSink& sink) {
  for (const Field& f : parsed.fields) {
    std::string_view v;
    bool filename = false;
    if (f.source == Source::kMultipart && f.part == Part::kName) {
      v = f.value;
    } else if (f.source == Source::kFileName) {
      v = f.value;
      filename = true;
    } else {
      continue;
    }
    // Semicolons that end HTML entities ("&auml;") are not tricks (HasBareSemicolon).
    bool trick = HasBareSemicolon(v) || v.find('=') != std::string_view::npos;
    std::size_t bs = v.find('\\');
    if (bs != std::string_view::npos) {
      // "C:\Users\a.txt" (old browsers send the full path) is fine; "1.j\s\p" is not.
      bool drive_path = v.size() > 2 && IsAsciiAlpha(static_cast<unsigned char>(v[0])) &&
                        v[1] == ':' && v[2] == '\\';
      bool unc = StartsWith(v, "\\\\");
      if (!filename || (!drive_path && !unc)) trick = true;
    }
    if (trick) {
      sink.AddRequestLevel(
          Category::kProtocol, filename ? 0.55f : 0.6f, "protocol.multipart-name-trick",
          filename ? "multipart file name" : "multipart field name", v.substr(0, 80));
      return;
    }
  }
}

}  // namespace

void DetectProtocol(const HttpRequest& req, const ParsedRequest& parsed,
                    const ProtocolPolicy& policy, FindingSink& sink) {
  for (const AnomalyRule& r : kAnomalyRules) {
    if (parsed.anomalies & r.bit) {
      sink.AddRequestLevel(Category::kProtocol, r.confidence, r.rule, r.what, {});
    }
  }
  // Missing Host matters for HTTP/1.1 and for HTTP/1.0 alike: every client sends it.
  // Method policy.
  if (!(parsed.anomalies & kAnomalyBadMethod)) {
    bool allowed = false;
    for (const std::string& m : policy.allowed_methods) allowed = allowed || m == req.method;
    if (!allowed) {
      bool trace_like = IEquals(req.method, "TRACE") || IEquals(req.method, "TRACK") ||
                        IEquals(req.method, "CONNECT") || IEquals(req.method, "DEBUG");
      sink.AddRequestLevel(Category::kProtocol, trace_like ? 0.7f : 0.6f,
                           "protocol.method-not-allowed", "method", req.method);
    }
  }
  // Content types a web application does not accept as a request body.
  if (!parsed.body.empty() && !parsed.media_type.empty() &&
      !(parsed.anomalies & kAnomalyBadContentType)) {
    std::string_view mt = parsed.media_type;
    if (StartsWith(mt, "multipart/") && mt != "multipart/form-data" && mt != "multipart/mixed" &&
        mt != "multipart/related" && mt != "multipart/alternative") {
      sink.AddRequestLevel(Category::kProtocol, 0.55f, "protocol.unusual-content-type",
                           "Content-Type", mt);
    }
  }
  if (!parsed.has_user_agent) {
    sink.AddRequestLevel(Category::kProtocol, 0.2f, "protocol.missing-user-agent", "User-Agent",
                         {});
  } else if (parsed.user_agent.empty()) {
    sink.AddRequestLevel(Category::kProtocol, 0.3f, "protocol.empty-user-agent", "User-Agent", {});
  }
  CheckMultipartNames(parsed, sink);
  // Restricted request headers, each name classified once.
  std::string_view content_encoding;
  bool declares_body = parsed.has_transfer_encoding || !req.body.empty();
  for (const Header& h : req.headers) {
    const RequestHeader kind = ClassifyRequestHeader(h.name);
    // A percent-encoded NUL in a header (cookies carry encoded binary and are skipped).
    if (kind != RequestHeader::kCookie && h.value.size() < 8192 &&
        h.value.find("%00") != std::string_view::npos) {
      sink.AddRequestLevel(Category::kProtocol, 0.5f, "protocol.encoded-nul-in-header", h.name,
                           h.value.substr(0, 80));
    }
    switch (kind) {
      case RequestHeader::kOther:
      case RequestHeader::kCookie:
        break;
      case RequestHeader::kConnection:
        CheckConnectionHeader(h.value, req, sink);
        break;
      case RequestHeader::kContentLength:
        declares_body |= TrimSpaces(h.value) != "0";
        break;
      case RequestHeader::kContentEncoding:
        content_encoding = h.value;
        break;
      case RequestHeader::kContentRange:
        if (!ValidContentRange(h.value)) {
          sink.AddRequestLevel(Category::kProtocol, 0.5f, "protocol.invalid-content-range",
                               "Content-Range", h.value.substr(0, 80));
        }
        break;
      case RequestHeader::kAcceptEncoding:
        if (AbusiveAcceptEncoding(h.value)) {
          sink.AddRequestLevel(Category::kProtocol, 0.5f, "protocol.accept-encoding-abuse",
                               "Accept-Encoding", h.value.substr(0, 80));
        }
        break;
      case RequestHeader::kIf:
      case RequestHeader::kLockToken:
        if (MalformedWebdavHeader(kind, h.value)) {
          sink.AddRequestLevel(Category::kProtocol, 0.5f, "protocol.malformed-webdav-header",
                               h.name, h.value.substr(0, 80));
        }
        break;
      case RequestHeader::kRequestRange:
        // Obsolete (pre-RFC 2616) and only ever sent to abuse byte ranges.
        sink.AddRequestLevel(Category::kProtocol, 0.6f, "protocol.request-range", "Request-Range",
                             h.value.substr(0, 80));
        break;
      case RequestHeader::kContentType:
      case RequestHeader::kAccept: {
        std::string cs;
        const int verdict = CharsetVerdict(h.value, &cs);
        const bool body_type = kind == RequestHeader::kContentType;
        if (verdict == 2) {
          sink.AddRequestLevel(Category::kProtocol, 0.7f, "protocol.evasive-charset", h.name, cs);
        } else if (verdict == 1 && (body_type ? !parsed.body.empty() || !req.body.empty() : true)) {
          sink.AddRequestLevel(Category::kProtocol, 0.5f, "protocol.unknown-charset", h.name, cs);
        }
        break;
      }
      case RequestHeader::kProxy:
        sink.AddRequestLevel(Category::kProtocol, 0.8f, "protocol.httpoxy", "Proxy header",
                             h.value);
        break;
      case RequestHeader::kMiddlewareSubrequest:
        sink.AddRequestLevel(Category::kProtocol, 0.8f, "protocol.middleware-bypass",
                             "X-Middleware-Subrequest", h.value);
        break;
      case RequestHeader::kMethodOverride:
        sink.AddRequestLevel(Category::kProtocol, 0.45f, "protocol.method-override", h.name,
                             h.value);
        break;
      case RequestHeader::kUrlOverride:
        // IIS URL Rewrite and frameworks that honour it (Symfony, Laminas) route by these
        // headers, which only a front proxy may set: from a client they reach a path the
        // request line hides from path-based access rules ("GET /" + "X-Original-URL: /admin").
        sink.AddRequestLevel(Category::kProtocol, 0.6f, "protocol.url-override-header", h.name,
                             h.value.substr(0, 80));
        break;
    }
  }
  // A body coding declared on a GET or HEAD that has no body: no client compresses nothing,
  // so the header is there to see how the server (or a filter in front of it) reacts. Only
  // these methods: a forward-auth subrequest (nginx auth_request) carries a POST's headers
  // without its body or its Content-Length, and a compressed upload must pass.
  if (!content_encoding.empty() && !declares_body &&
      (IEquals(req.method, "GET") || IEquals(req.method, "HEAD")) &&
      !IEquals(TrimSpaces(content_encoding), "identity")) {
    sink.AddRequestLevel(Category::kProtocol, 0.5f, "protocol.content-encoding-without-body",
                         "Content-Encoding", content_encoding.substr(0, 80));
  }
}

uint64_t ScannerMemo::Hash(uint64_t partition, bool user_agent, std::string_view value) {
  return MixBytes(MixWord(partition ^ 0x13198a2e03707344ULL, user_agent ? 1 : 0), value);
}

bool ScannerMemo::Clean(uint64_t partition, bool user_agent, std::string_view value) const {
  if (value.size() > kMaxValueBytes) return false;
  const uint64_t h = Hash(partition, user_agent, value);
  const Entry& e = entries_[h % kEntries];
  const bool hit = e.used && e.hash == h && e.partition == partition &&
                   e.user_agent == user_agent && e.value == value;
  hits_ += hit;
  return hit;
}

void ScannerMemo::RememberClean(uint64_t partition, bool user_agent, std::string_view value) {
  if (value.size() > kMaxValueBytes) return;
  const uint64_t h = Hash(partition, user_agent, value);
  Entry& e = entries_[h % kEntries];
  e.hash = h;
  e.partition = partition;
  e.user_agent = user_agent;
  e.used = true;
  e.value.assign(value);
}

void DetectScanner(const HttpRequest& req, const ParsedRequest& parsed, FindingSink& sink,
                   ScannerMemo* memo, uint64_t partition) {
  // Tools that identify themselves (or whose probes carry their name).
  static constexpr std::string_view kTools[] = {
      "sqlmap",
      "nikto",
      "nmap",
      "masscan",
      "zgrab",
      "nuclei",
      "nessus",
      "openvas",
      "acunetix",
      "netsparker",
      "invicti",
      "burpsuite",
      "burp suite",
      "w3af",
      "arachni",
      "havij",
      "dirbuster",
      "gobuster",
      "wfuzz",
      "fuzz faster u fool",
      "ffuf",
      "wpscan",
      "joomscan",
      "whatweb",
      "qualys",
      "jaeles",
      "commix",
      "xsstrike",
      "hydra",
      "skipfish",
      "paros",
      "zaproxy",
      "owasp zap",
      "metasploit",
      "morfeus",
      "jorgee",
      "zmeu",
      ".nasl",
      "brutus",
      "bsqlbf",
      "sqlninja",
      "pangolin",
      "webinspect",
      "appscan",
      "webshag",
      "grabber",
      "fimap",
      "wapiti",
      "sqlsus",
      "nasl",
      "dirsearch",
      "feroxbuster",
      "httpx",
      "interactsh",
      "xray",
      "goby",
      "awvs",
      "vega/",
      "netlab360",
      "censys",
      "shodan",
      "l9explore",
      "l9tcpid",
      "zmap",
      "nuclei-",
      "cgichk",
      "webtrends security",
      "security scan",
      "vulnerability scan",
      "crowdstrike-scan",
      "detectify",
      "tenable",
  };
  // Both lists are searched in one pass each (first occurrence of every name).
  static const NeedleSet kToolSet(kTools);
  static const NeedleSet kOobSet(kOutOfBandDomains);
  std::size_t first[std::max(std::size(kTools), std::size(kOutOfBandDomains))];
  char buf[4096];
  for (const Header& h : req.headers) {
    const bool ua = IEquals(h.name, "user-agent");
    if (h.value.empty() || h.value.size() > sizeof(buf)) continue;
    if (memo != nullptr && memo->Clean(partition, ua, h.value)) continue;
    AsciiLowerInto(h.value, buf);
    const std::string_view lower(buf, h.value.size());
    bool found = false;
    if (ua) {
      kToolSet.FirstAll(lower, first);
      for (std::size_t i = 0; i < std::size(kTools); ++i) {
        std::string_view t = kTools[i];
        std::size_t p = first[i];
        if (p == std::string::npos) continue;
        // Tool names that are also words must stand alone.
        if ((t == "xray" || t == "goby" || t == "httpx" || t == "hydra" || t == "grabber" ||
             t == "nasl" || t == "shodan" || t == "censys" || t == "ffuf" || t == "nmap") &&
            ((p > 0 && IsAsciiAlnum(static_cast<unsigned char>(lower[p - 1]))) ||
             (p + t.size() < lower.size() &&
              IsAsciiAlnum(static_cast<unsigned char>(lower[p + t.size()]))))) {
          continue;
        }
        // "python-httpx/0.25" is the Python HTTP client library, not ProjectDiscovery's probe.
        if (t == "httpx" && p >= 7 && lower.substr(p - 7, 7) == "python-") continue;
        sink.AddRequestLevel(Category::kScanner, 0.85f, "scanner.user-agent", "User-Agent",
                             h.value.substr(0, 80));
        found = true;
        break;
      }
    }
    // Every callback domain starts with '.'.
    if (Find(lower, '.') != std::string::npos) {
      kOobSet.FirstAll(lower, first);
      for (std::size_t i = 0; i < std::size(kOutOfBandDomains); ++i) {
        if (first[i] != std::string::npos) {
          sink.AddRequestLevel(Category::kScanner, 0.85f, "scanner.oob-callback", h.name,
                               h.value.substr(0, 80));
          found = true;
          break;
        }
      }
    }
    if (!found && memo != nullptr) memo->RememberClean(partition, ua, h.value);
  }
  (void)parsed;
}

namespace {

// Default session cookie names of web frameworks.
bool IsFrameworkSessionName(std::string_view name) {
  // Generic names ("session_id", "sessionid") are left out on purpose: payment and login
  // providers redirect back with them (Stripe Checkout's ?session_id=cs_...).
  static constexpr std::string_view kSessionNames[] = {
      "jsessionid",      "phpsessid",
      "aspsessionid",    "asp.net_sessionid",
      "sessid",          "cfid",
      "cftoken",         "cfsid",
      "jsessid",         "zend_session_id",
      "_rails_session",  "rack.session",
      "laravel_session", "ci_session",
      "connect.sid",     "weblogicsession",
      "shiny-token",     "meteor_login_token",
      "cakephp",         "next-auth.session-token",
      "koa.sess",        "koa:sess",
      "sails.sid",       "play_session",
      "_flask_session",  "express.sid",
      "jservsession",    "jwsession",
      "phpsession",
  };

  for (std::string_view s : kSessionNames) {
    if (name == s) return true;
  }
  return false;
}

// Names shaped like a session identifier: "*_session", "*session_id", "*.sid", "*:sess" ...
bool LooksLikeSessionName(std::string_view name) {
  for (std::string_view suffix :
       {"session"sv, "sessionid"sv, "session_id"sv, "session-id"sv, "sessid"sv, "session-token"sv,
        "session_token"sv, ".sid"sv, ".sess"sv, ":sess"sv}) {
    if (EndsWith(name, suffix) && name.size() > suffix.size() &&
        !IsAsciiAlnum(static_cast<unsigned char>(name[name.size() - suffix.size() - 1]))) {
      return true;
    }
    if (EndsWith(name, suffix) && suffix.size() >= 7 && suffix != "session") return true;
  }
  return false;
}

// Whether `name` (any case, first 64 bytes) holds a piece every name the two checks above
// accept has: "ses", "sid", "cf", "tok" or "cake". Most argument names have none, and the
// lowering and the list comparisons are then skipped.
bool MaySessionName(std::string_view name) {
  const std::size_t n = std::min<std::size_t>(name.size(), 64);
  auto at = [&](std::size_t i) { return static_cast<char>(name[i] | 0x20); };
  for (std::size_t i = 0; i + 1 < n; ++i) {
    const char c = at(i);
    if (c == 's' && i + 2 < n) {
      if ((at(i + 1) == 'e' && at(i + 2) == 's') || (at(i + 1) == 'i' && at(i + 2) == 'd'))
        return true;
    } else if (c == 'c') {
      if (at(i + 1) == 'f' ||
          (i + 3 < n && at(i + 1) == 'a' && at(i + 2) == 'k' && at(i + 3) == 'e'))
        return true;
    } else if (c == 't' && i + 2 < n && at(i + 1) == 'o' && at(i + 2) == 'k') {
      return true;
    }
  }
  return false;
}

// Host part of an absolute Referer ("" when it has none).
std::string_view RefererHost(std::string_view referer) {
  std::size_t p = referer.find("://");
  if (p == std::string_view::npos) return {};
  std::string_view r = referer.substr(p + 3);
  return r.substr(0, r.find_first_of("/?#:"));
}

}  // namespace

namespace {

// The JSON header of a JSON Web Token starting at `s` ("eyJ..." up to the first '.') when
// it names no signature algorithm ("alg":"none", any case): a forged token whose claims a
// library that honours the header accepts unsigned. Needs the payload segment after it.
bool UnsignedJwtAt(std::string_view s) {
  const std::size_t dot = Find(s.substr(0, 512), '.');
  if (dot == std::string_view::npos || dot < 8 || dot + 4 > s.size()) return false;
  // base64url, padding optional; any other byte before the '.' is no token.
  char out[384];
  std::size_t consumed = 0;
  const std::size_t o = DecodeBase64Run(s.substr(0, dot), out, sizeof(out), &consumed);
  if (consumed < dot && s[consumed] != '=') return false;
  for (std::size_t k = 0; k < o; ++k) out[k] = ToLowerAscii(out[k]);
  const std::string_view header(out, o);
  const std::size_t alg = Find(header, "\"alg\"");
  if (alg == std::string_view::npos) return false;
  std::size_t i = SkipSpaces(header, alg + 5);
  if (i >= header.size() || header[i] != ':') return false;
  i = SkipSpaces(header, i + 1);
  return header.substr(i, 6) == "\"none\"";
}

}  // namespace

// Unsigned JSON Web Tokens ("alg":"none") in a header, cookie or argument: the forged-token
// attack on libraries that trust the header's algorithm. No issuer sends one.
void DetectUnsignedJwt(const HttpRequest& req, const ParsedRequest& parsed, FindingSink& sink) {
  auto scan = [&sink](std::string_view name, std::string_view value) {
    for (std::size_t p = Find(value, "eyJ"); p != std::string_view::npos;
         p = Find(value, "eyJ", p + 3)) {
      if (p > 0 && (IsAsciiAlnum(static_cast<unsigned char>(value[p - 1])) || value[p - 1] == '-' ||
                    value[p - 1] == '_')) {
        continue;
      }
      if (UnsignedJwtAt(value.substr(p))) {
        sink.AddRequestLevel(Category::kProtocol, 0.8f, "protocol.unsigned-jwt", name,
                             value.substr(p, 40));
        return true;
      }
    }
    return false;
  };
  for (const Header& h : req.headers) {
    if (h.value.size() >= 16 && !IEquals(h.name, "cookie") && scan(h.name, h.value)) return;
  }
  // Arguments, cookies and JSON members carry a token as their whole value.
  for (const Field& f : parsed.fields) {
    if (f.part != Part::kValue || f.value.size() < 16 || f.source == Source::kHeader ||
        !f.value.starts_with("eyJ")) {
      continue;
    }
    if (UnsignedJwtAt(f.value)) {
      sink.AddRequestLevel(Category::kProtocol, 0.8f, "protocol.unsigned-jwt", f.name,
                           f.value.substr(0, 40));
      return;
    }
  }
}

namespace {

// Whether `t` is a decimal number at the boundary of the smallest normal double,
// 2.2250738585072011e-308 however it is written ("0.00022250738585072012e-304"). Converting
// it looped forever in PHP's and Java's strtod (CVE-2010-4645, CVE-2010-4476): one argument
// froze a worker. No form, meter or price is ever that number.
bool DoubleBoundaryNumber(std::string_view t) {
  std::size_t i = 0;
  if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
  char digits[48];
  std::size_t nd = 0;
  long int_digits = 0;
  bool dot = false;
  for (; i < t.size(); ++i) {
    const char c = t[i];
    if (c == '.' && !dot) {
      dot = true;
    } else if (IsAsciiDigit(static_cast<unsigned char>(c))) {
      if (nd == sizeof(digits)) return false;
      digits[nd++] = c;
      if (!dot) ++int_digits;
    } else {
      break;
    }
  }
  if (i + 1 >= t.size() || (t[i] != 'e' && t[i] != 'E')) return false;
  ++i;
  bool negative = false;
  if (t[i] == '+' || t[i] == '-') negative = t[i++] == '-';
  long exp = 0;
  const std::size_t exp_start = i;
  for (; i < t.size() && i - exp_start < 5 && IsAsciiDigit(static_cast<unsigned char>(t[i])); ++i) {
    exp = exp * 10 + (t[i] - '0');
  }
  if (i == exp_start || i != t.size()) return false;
  if (negative) exp = -exp;
  std::size_t z = 0;
  while (z < nd && digits[z] == '0') ++z;
  const std::string_view significant(digits + z, nd - z);
  // The decimal power of the first significant digit.
  const long power = int_digits - 1 - static_cast<long>(z) + exp;
  return power == -308 && significant.starts_with("222507385850720");
}

}  // namespace

void DetectFloatDos(const ParsedRequest& parsed, FindingSink& sink) {
  for (const Field& f : parsed.fields) {
    if (f.value.size() < 20 || f.value.size() > 64) continue;
    const std::string_view t = TrimSpaces(f.value);
    if (Find(t, "50738585072") == std::string_view::npos || !DoubleBoundaryNumber(t)) continue;
    sink.AddRequestLevel(Category::kProtocol, 0.8f, "protocol.float-dos", f.name, t);
    return;
  }
}

void DetectSessionFixation(const HttpRequest& req, const ParsedRequest& parsed, FindingSink& sink) {
  // A session identifier set through the URL (or posted from another site): the victim ends
  // up in a session the attacker knows. Links from mail have no Referer at all.
  std::string_view referer;
  for (const Header& h : req.headers) {
    if (IEquals(h.name, "referer")) referer = h.value;
  }
  std::string_view rhost = RefererHost(referer);
  std::string_view host = parsed.host.substr(0, parsed.host.find(':'));
  bool offsite = !rhost.empty() && !IEquals(rhost, host) && !EndsWith(rhost, host);
  bool same_site = !rhost.empty() && !offsite;
  for (const Field& f : parsed.fields) {
    // A path segment's matrix parameter ("/login;jsessionid=...") is where servlet
    // containers read the session id from a URL.
    bool query = f.source == Source::kQuery || f.source == Source::kPathSegment;
    bool body = f.source == Source::kBodyForm || f.source == Source::kJson;
    if (f.part != Part::kName || !(query || (body && offsite)) || !MaySessionName(f.name)) continue;
    char lowered[64];
    const std::string_view head = f.name.substr(0, sizeof(lowered));
    AsciiLowerInto(head, lowered);
    std::string_view n(lowered, head.size());
    for (std::string_view prefix : {"__host-"sv, "__secure-"sv}) {
      if (StartsWith(n, prefix)) n.remove_prefix(prefix.size());
    }
    bool known = IsFrameworkSessionName(n);
    if (!known && !LooksLikeSessionName(n)) continue;
    if (body && !known) continue;  // body fields count when another site posts them
    float c = !known ? (offsite ? 0.45f : 0.3f) : offsite ? 0.7f : same_site ? 0.3f : 0.5f;
    sink.AddRequestLevel(Category::kSessionFixation, c, "session.fixation-via-url", f.name, {});
  }
}

}  // namespace shieldx::detect
