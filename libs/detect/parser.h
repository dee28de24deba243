// Request parsing with hard limits: turns an HttpRequest into the fields the application would
// read, each tagged with its source, plus the protocol facts the protocol detector judges.
//
// Parsing never fails: malformed input is parsed as far as it makes sense and recorded as an
// anomaly bit. Everything is bounded by detect/limits.h; overflow sets kAnomalyFieldsOverflow
// (or the body/part specific bit) and the rest is skipped.
//
// Thread-safety: ParseRequest is reentrant; `arena` and `out` belong to the calling thread.
// All string_views in `out` point into `request` or `arena`.
#ifndef SHIELDX_LIBS_DETECT_PARSER_H_
#define SHIELDX_LIBS_DETECT_PARSER_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "libs/detect/arena.h"
#include "libs/detect/request.h"

namespace shieldx::detect {

// Protocol facts observed while parsing. Bit set (64 bits).
enum Anomaly : uint64_t {
  kAnomalyFieldsOverflow = 1ull << 0,  // more than kMaxFields fields (the rest screened)
  kAnomalyBodyTruncated = 1ull << 1,   // body longer than the parsed maximum
  kAnomalyUriTooLong = 1ull << 2,
  kAnomalyTooManyHeaders = 1ull << 3,
  kAnomalyHeaderTooLong = 1ull << 4,
  kAnomalyBadHeaderName = 1ull << 5,     // not an RFC 9110 token
  kAnomalyCtlInHeaderValue = 1ull << 6,  // CR, LF or NUL inside a header value
  kAnomalyClAndTe = 1ull << 7,           // Content-Length and Transfer-Encoding together
  kAnomalyMultipleCl = 1ull << 8,        // more than one Content-Length
  kAnomalyConflictingCl = 1ull << 9,     // Content-Length values differ
  kAnomalyBadCl = 1ull << 10,            // Content-Length not a decimal number
  kAnomalyClMismatch = 1ull << 11,       // Content-Length != body length (no TE)
  kAnomalyBadTe = 1ull << 12,            // Transfer-Encoding not exactly "chunked", or in HTTP/1.0
  kAnomalyMultipleTe = 1ull << 13,
  kAnomalyMissingHost = 1ull << 14,
  kAnomalyMultipleHost = 1ull << 15,
  kAnomalyEmptyHost = 1ull << 16,
  kAnomalyBadMethod = 1ull << 17,          // method not an RFC token
  kAnomalyBadVersion = 1ull << 18,         // not HTTP/1.0 or HTTP/1.1
  kAnomalyBadUriChar = 1ull << 19,         // raw control characters / space in the target
  kAnomalyInvalidPercent = 1ull << 20,     // '%' without two hex digits in URI or form body
  kAnomalyPercentU = 1ull << 21,           // %uXXXX in URI or form body
  kAnomalyNulInArgs = 1ull << 22,          // decoded NUL in an argument, cookie or header
  kAnomalyCrlfInArgs = 1ull << 23,         // decoded CR/LF in an argument name or path
  kAnomalyOverlongUtf8 = 1ull << 24,       // overlong UTF-8 in URI or body arguments
  kAnomalyInvalidUtf8 = 1ull << 25,        // percent-decoded bytes that are not UTF-8
  kAnomalyBodyWithoutLength = 1ull << 26,  // body without Content-Length or chunked TE
  kAnomalyGetWithBody = 1ull << 27,        // GET/HEAD carrying a body
  kAnomalyBodyWithoutType = 1ull << 28,    // non-empty body without Content-Type
  kAnomalyMultipartNoBoundary = 1ull << 29,
  kAnomalyMultipartMalformed = 1ull << 30,    // missing/duplicate boundary, bad part headers
  kAnomalyMultipartBadFilename = 1ull << 31,  // quote/semicolon tricks in filename
  kAnomalyMultipartCharset = 1ull << 32,      // part or _charset_ other than UTF-8/ASCII/Latin-1
  kAnomalyMultipartCte = 1ull << 33,          // Content-Transfer-Encoding in a part (RFC 7578)
  kAnomalyJsonMalformed = 1ull << 34,
  kAnomalyJsonTooDeep = 1ull << 35,
  kAnomalyXmlMalformed = 1ull << 36,
  kAnomalyXmlDoctype = 1ull << 37,                // DOCTYPE present (entities are never expanded)
  kAnomalyContentTypeMismatch = 1ull << 38,       // declared type and body disagree
  kAnomalyContentTypeBoundaryTrick = 1ull << 39,  // boundary param on a non-multipart type
  kAnomalyAbsoluteUri = 1ull << 40,
  kAnomalyFragmentInUri = 1ull << 41,
  kAnomalyBackslashInPath = 1ull << 42,
  kAnomalyUtf7 = 1ull << 43,  // UTF-7 charset declared anywhere
  kAnomalyDuplicateContentType = 1ull << 44,
  kAnomalyRangeAbuse = 1ull << 45,          // many or overlapping byte ranges
  kAnomalyBadContentType = 1ull << 46,      // Content-Type not a valid media type
  kAnomalyCookieMalformed = 1ull << 47,     // quoted cookie tricks ($Version, unbalanced quotes)
  kAnomalyBadContentEncoding = 1ull << 48,  // gzip/deflate body that does not decompress
  kAnomalyUnknownContentEncoding = 1ull << 49,  // body in a coding the parser cannot decode
  // Fields that could carry an attack left out: past kMaxScreenedFields, or more path
  // segments, cookies or multipart parts than parsed.
  kAnomalyFieldsNotInspected = 1ull << 50,
  // "$Version" with a quoted value spanning ';': asks a legacy (RFC 2109) cookie parser to
  // read one cookie where every other reader sees several (cookie smuggling).
  kAnomalyCookieSmuggling = 1ull << 51,
  // Path spellings no client produces and routers and filters normalise differently (the
  // usual authentication-filter bypasses): a letter or digit percent-encoded ("/%61dmin"),
  // a '.' segment ("/./admin", "/%2e/admin"), and percent-encoding applied twice to a letter,
  // digit or dot ("/%2577ebui").
  kAnomalyPathEncodedAlnum = 1ull << 52,
  kAnomalyPathDotSegment = 1ull << 53,
  kAnomalyPathDoubleEncoded = 1ull << 54,
  // "?@host/...": a query that opens with an authority. Backends that glue the path and query
  // into a URL ("https://backend" + path + "?" + query) fetch from that host (ProxyShell's
  // "/autodiscover/autodiscover.json?@x/mapi/...").
  kAnomalyQueryAuthority = 1ull << 55,
  // An encoded '?' ending in an extension ("/admin.php%3F.js"): a rewrite rule or suffix
  // filter sees ".js", the handler the part before it (Apache mod_rewrite, CVE-2024-38474).
  kAnomalyPathEncodedQuery = 1ull << 56,
  // An empty or extension-only path parameter in the raw path ("/users;.jsp", "/;/admin"):
  // normalize.h PathParameterBypass.
  kAnomalyPathParameterBypass = 1ull << 57,
};

// Body kinds recognised by the parser.
enum class BodyKind : uint8_t { kNone, kForm, kMultipart, kJson, kXml, kText, kBinary };

struct ParsedRequest {
  std::vector<Field> fields;
  uint64_t anomalies = 0;
  BodyKind body_kind = BodyKind::kNone;
  std::string_view raw_path;    // request-target path, raw (before '?')
  std::string_view path;        // raw_path percent-decoded once
  std::string_view raw_query;   // after '?', before '#'
  std::string_view media_type;  // lowercased type/subtype of Content-Type, arena
  std::string_view host;        // first Host header value
  std::string_view user_agent;  // first User-Agent value
  std::string_view body;        // the parsed part of the body
  int content_length_count = 0;
  int header_count = 0;
  bool has_user_agent = false;
  bool has_accept = false;
  bool has_transfer_encoding = false;
  bool has_content_type = false;

  void Clear();
};

// Maximum body bytes parsed into fields. Larger bodies are parsed up to this size and
// flagged kAnomalyBodyTruncated; multipart file contents do not count against it.
inline constexpr std::size_t kMaxParsedBodyBytes = 1024 * 1024;
// A gzip or deflate body (Content-Encoding) is decompressed before it is parsed, to at most
// kMaxParsedBodyBytes and at most this many times its compressed size (a small body that
// claims to expand to a megabyte is cut there and flagged kAnomalyBodyTruncated).
inline constexpr std::size_t kMaxInflateRatio = 100;

void ParseRequest(const HttpRequest& request, Arena& arena, ParsedRequest* out);

// Exposed for tests and for nested bodies.
// `depth` counts containers already entered (JSON in a query value, URL in a JSON string).
void ParseUrlEncoded(std::string_view text, Source source, Arena& arena, ParsedRequest* out,
                     int depth = 0);
// `declared`: the Content-Type says JSON, so JSON Lines and single-quoted strings are read
// (a sniffed body that is not strict JSON is inspected as text instead).
void ParseJsonBody(std::string_view text, Source source, Arena& arena, ParsedRequest* out,
                   bool declared = true);
void ParseXmlBody(std::string_view text, Arena& arena, ParsedRequest* out);
void ParseMultipartBody(std::string_view text, std::string_view boundary, Arena& arena,
                        ParsedRequest* out, int depth);
void ParseCookieHeader(std::string_view value, Arena& arena, ParsedRequest* out);

// True when the header value has a fixed grammar (Accept, Sec-*, ...) and free-text
// detectors should skip it. Name compared case-insensitively.
bool IsStructuredHeader(std::string_view name);

}  // namespace shieldx::detect

#endif  // SHIELDX_LIBS_DETECT_PARSER_H_
