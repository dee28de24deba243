// Parsing of an HTTP/1.1 request head (request line + header fields) with hard limits.
//
// Strict by design (this server sits behind proxies and answers security decisions):
// CRLF line endings only, no obsolete line folding, no whitespace before ':', at most one
// Content-Length value, Content-Length together with Transfer-Encoding is refused (request
// smuggling), chunked request bodies are refused with 411 (send Content-Length) and other
// transfer codings with 501. Thread-compatible: plain functions over caller-owned buffers.
#ifndef SHIELDX_LIBS_HTTP_PARSER_H_
#define SHIELDX_LIBS_HTTP_PARSER_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "libs/base/limits.h"
#include "libs/http/message.h"

namespace shieldx::http {

// Input limits of one request. Exceeding one is answered with the status in brackets and the
// connection is closed.
struct HttpLimits {
  // Request line ("GET /path?query HTTP/1.1") [414].
  std::size_t max_request_line_bytes = limits::kMaxUriBytes + 64;
  // Header fields in one request [431].
  std::size_t max_header_count = limits::kMaxHeaderCount;
  // All header lines together (excluding the request line) [431].
  std::size_t max_header_bytes = 64 * 1024;
  // Request body (Content-Length) [413].
  std::size_t max_body_bytes = 1024 * 1024;
};

struct HeadParseResult {
  enum class State { kIncomplete, kComplete, kError };
  State state = State::kIncomplete;
  // kComplete: bytes of `buffer` the head occupies (through the blank line).
  std::size_t head_bytes = 0;
  // kComplete: body bytes that follow the head.
  std::size_t content_length = 0;
  // kComplete: whether the connection may carry another request after this one.
  bool keep_alive = true;
  // kComplete: the client sent "Expect: 100-continue".
  bool expect_continue = false;
  // kError: the status to answer (400, 411, 413, 414, 431, 501, 505) and why.
  int error_status = 0;
  std::string error_message;
};

// Parses the request head at the start of `buffer` into `request` (method, target, path,
// query, version_minor, headers). `scan_from` is where the search for the blank line may
// resume (pass the previous buffer size minus 3 after kIncomplete, else 0). Leading empty
// lines before the request line are skipped (RFC 9112 section 2.2).
HeadParseResult ParseRequestHead(std::string_view buffer, std::size_t scan_from,
                                 const HttpLimits& limits, HttpRequest* request);

// True when `method` is a token of 1..16 upper-case letters (what we accept as a method).
bool IsValidMethod(std::string_view method);

}  // namespace shieldx::http

#endif  // SHIELDX_LIBS_HTTP_PARSER_H_
