// The request model the detection engine inspects.
//
// `HttpRequest` is a non-owning view of one HTTP request as the front end received it (raw
// request-target, headers in wire order, body with transfer coding removed). `OwnedHttpRequest`
// owns the bytes for callers that build requests themselves (CLI, tests, shadow, twin).
//
// The parser (parser.h) turns a request into `Field`s: every value the application could read
// (path segments, query and body arguments, JSON/XML leaves, multipart parts, headers,
// cookies) together with where it came from, so a finding can say "query argument `id`".
#ifndef SHIELDX_LIBS_DETECT_REQUEST_H_
#define SHIELDX_LIBS_DETECT_REQUEST_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace shieldx::detect {

struct Header {
  std::string_view name;
  std::string_view value;
};

struct HttpRequest {
  std::string_view method;
  std::string_view uri;      // request-target exactly as on the request line
  std::string_view version;  // "HTTP/1.1"
  std::span<const Header> headers;
  std::string_view body;       // bytes; transfer coding removed, content coding kept
  std::string_view client_ip;  // textual address of the TCP peer
};

// Owns the bytes of a request; view() is valid while this object lives and is not modified.
struct OwnedHttpRequest {
  std::string method;
  std::string uri;
  std::string version = "HTTP/1.1";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string client_ip;

  // Rebuilds the header view array; call after changing `headers`.
  HttpRequest view() const;

 private:
  mutable std::vector<Header> header_views_;
};

// Where a value came from.
enum class Source : uint8_t {
  kRequest,  // request-level signal (protocol, framing), not one field
  kMethod,
  kPath,         // the whole decoded path
  kPathSegment,  // one path segment
  kQuery,        // query-string argument
  kBodyForm,     // application/x-www-form-urlencoded argument
  kMultipart,    // multipart/form-data part
  kJson,         // JSON leaf (string, number, key)
  kXml,          // XML text node or attribute
  kBodyRaw,      // body that has no structure we parse (text/plain ...)
  kHeader,
  kCookie,
  kFileName,  // multipart filename or upload header
};
const char* SourceName(Source s);

// Names are values too: attackers put payloads in argument names and JSON keys.
enum class Part : uint8_t { kValue, kName };

enum FieldFlag : uint16_t {
  kFieldTruncated = 1 << 0,   // the value was cut at a limit
  kFieldFromBase64 = 1 << 1,  // value decoded from base64 by the normaliser
  kFieldStructured =
      1 << 2,  // header with a fixed grammar (Accept, Sec-*): skip free-text detectors
  kFieldWholeBody = 1 << 3,    // the entire (unparsed) body
  kFieldNumericJson = 1 << 4,  // JSON number/bool/null literal
  kFieldContainer = 1 << 5,    // JSON document or URL whose parts are fields of their own
  kFieldWholeArgs = 1 << 6,    // an entire query string / form body (markup split by '&')
  kFieldFileContent = 1 << 7,  // an uploaded file's bytes (not text): only checked for scripts
  kFieldApiFilter = 1 << 8,    // part of a JSON document sent as a "filter"/"where" argument
  kFieldFileText = 1 << 9,     // an uploaded text file's contents (a log, notes, a CSV)
  kFieldPathParam = 1 << 10,   // a path segment's matrix parameter (";name=value")
  kFieldCredential = 1 << 11,  // a user name or password decoded from Basic credentials
};

struct Field {
  Source source;
  Part part = Part::kValue;
  uint16_t flags = 0;
  std::string_view name;   // argument/header/cookie name, JSON path ("a.b[2]"), XML path
  std::string_view value;  // decoded once, as the application would read it
};

}  // namespace shieldx::detect

#endif  // SHIELDX_LIBS_DETECT_REQUEST_H_
