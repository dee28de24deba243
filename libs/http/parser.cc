#include "libs/http/parser.h"

#include <charconv>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "libs/http/strings.h"

namespace shieldx::http {
namespace {

constexpr std::size_t kMaxMethodBytes = 16;

using State = HeadParseResult::State;

HeadParseResult Error(int status, std::string message) {
  HeadParseResult r;
  r.state = State::kError;
  r.error_status = status;
  r.error_message = std::move(message);
  return r;
}

bool IsTokenChar(unsigned char c) {
  if (absl::ascii_isalnum(c)) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

// Field values: visible ASCII, space, tab and obs-text; no other control characters.
bool IsValidFieldValue(std::string_view v) {
  for (unsigned char c : v) {
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

bool IsValidTarget(std::string_view t) {
  if (t.empty()) return false;
  for (unsigned char c : t) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return t[0] == '/' || t == "*";
}

std::string_view TrimOws(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

// True when the comma-separated list `value` contains `token` (case-insensitive).
bool ListContains(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    std::size_t comma = value.find(',');
    if (EqualsIgnoreCase(TrimOws(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

HeadParseResult ParseRequestLine(std::string_view line, const HttpLimits& limits,
                                 HttpRequest* req) {
  if (line.size() > limits.max_request_line_bytes) {
    return Error(414, absl::StrCat("request line is ", line.size(), " bytes (limit ",
                                   limits.max_request_line_bytes, ")"));
  }
  std::size_t sp1 = line.find(' ');
  std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return Error(400, "malformed request line");
  }
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!IsValidMethod(method)) return Error(400, "malformed request method");
  if (!IsValidTarget(target)) return Error(400, "malformed request target");
  if (version.size() != 8 || !version.starts_with("HTTP/") || version[6] != '.' ||
      !absl::ascii_isdigit(version[5]) || !absl::ascii_isdigit(version[7])) {
    return Error(400, "malformed HTTP version");
  }
  if (version[5] != '1') return Error(505, "only HTTP/1.x is served");
  req->method.assign(method);
  req->target.assign(target);
  std::size_t q = target.find('?');
  req->path.assign(target.substr(0, q));
  req->query.assign(q == std::string_view::npos ? std::string_view() : target.substr(q + 1));
  req->version_minor = version[7] - '0';
  HeadParseResult ok;
  ok.state = State::kComplete;
  return ok;
}

HeadParseResult ParseHeaderLine(std::string_view line, HttpRequest* req) {
  if (line.front() == ' ' || line.front() == '\t') {
    return Error(400, "obsolete header line folding is not accepted");
  }
  std::size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return Error(400, "malformed header line");
  std::string_view name = line.substr(0, colon);
  for (unsigned char c : name) {
    if (!IsTokenChar(c)) return Error(400, "malformed header name");
  }
  std::string_view value = TrimOws(line.substr(colon + 1));
  if (!IsValidFieldValue(value)) return Error(400, "control character in header value");
  req->headers.Add(std::string(name), std::string(value));
  HeadParseResult ok;
  ok.state = State::kComplete;
  return ok;
}

// Content-Length, Transfer-Encoding, Connection and Expect semantics of a parsed head.
HeadParseResult DeriveFraming(const HttpLimits& limits, HttpRequest* req, HeadParseResult r) {
  bool have_length = false;
  std::size_t length = 0;
  bool have_te = false;
  bool chunked = false;
  for (const auto& [name, value] : req->headers) {
    if (EqualsIgnoreCase(name, "content-length")) {
      std::size_t v = 0;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (value.empty() || ec != std::errc() || ptr != value.data() + value.size()) {
        return Error(400, "malformed Content-Length");
      }
      if (have_length && v != length) return Error(400, "conflicting Content-Length values");
      have_length = true;
      length = v;
    } else if (EqualsIgnoreCase(name, "transfer-encoding")) {
      have_te = true;
      chunked = chunked || ListContains(value, "chunked");
    }
  }
  if (have_te && have_length) {
    return Error(400, "both Content-Length and Transfer-Encoding sent");
  }
  if (have_te) {
    if (chunked) return Error(411, "chunked request bodies are not accepted: send Content-Length");
    return Error(501, "unsupported Transfer-Encoding");
  }
  if (length > limits.max_body_bytes) {
    return Error(413, absl::StrCat("request body is ", length, " bytes (limit ",
                                   limits.max_body_bytes, ")"));
  }
  r.content_length = length;
  std::string_view connection = req->headers.Get("connection");
  if (req->version_minor == 0) {
    r.keep_alive = ListContains(connection, "keep-alive");
  } else {
    r.keep_alive = !ListContains(connection, "close");
  }
  std::string_view expect = req->headers.Get("expect");
  if (!expect.empty()) {
    if (!EqualsIgnoreCase(expect, "100-continue")) {
      return Error(417, "unsupported Expect value");
    }
    r.expect_continue = req->version_minor >= 1;
  }
  return r;
}

}  // namespace

bool IsValidMethod(std::string_view method) {
  if (method.empty() || method.size() > kMaxMethodBytes) return false;
  for (char c : method) {
    if (c < 'A' || c > 'Z') return false;
  }
  return true;
}

HeadParseResult ParseRequestHead(std::string_view buffer, std::size_t scan_from,
                                 const HttpLimits& limits, HttpRequest* request) {
  std::size_t start = 0;
  while (buffer.size() - start >= 2 && buffer[start] == '\r' && buffer[start + 1] == '\n') {
    start += 2;
  }
  if (scan_from < start) scan_from = start;
  std::size_t end = buffer.find("\r\n\r\n", scan_from);
  std::size_t line_end = buffer.find("\r\n", start);
  if (end == std::string_view::npos) {
    std::size_t line_bytes =
        line_end == std::string_view::npos ? buffer.size() - start : line_end - start;
    if (line_bytes > limits.max_request_line_bytes) {
      return Error(414,
                   absl::StrCat("request line exceeds ", limits.max_request_line_bytes, " bytes"));
    }
    if (line_end != std::string_view::npos &&
        buffer.size() - line_end > limits.max_header_bytes + 2) {
      return Error(
          431, absl::StrCat("request header fields exceed ", limits.max_header_bytes, " bytes"));
    }
    return HeadParseResult{};
  }
  if (end + 2 - line_end > limits.max_header_bytes + 2) {
    return Error(431,
                 absl::StrCat("request header fields exceed ", limits.max_header_bytes, " bytes"));
  }
  std::string_view head = buffer.substr(start, end + 2 - start);  // lines, each ends in CRLF
  std::size_t pos = head.find("\r\n");
  HeadParseResult r = ParseRequestLine(head.substr(0, pos), limits, request);
  if (r.state == State::kError) return r;
  pos += 2;
  std::size_t count = 0;
  while (pos < head.size()) {
    std::size_t eol = head.find("\r\n", pos);
    std::string_view line = head.substr(pos, eol - pos);
    if (line.find_first_of("\r\n") != std::string_view::npos) {
      return Error(400, "bare CR or LF in request head");
    }
    if (++count > limits.max_header_count) {
      return Error(431, absl::StrCat("more than ", limits.max_header_count, " header fields"));
    }
    HeadParseResult h = ParseHeaderLine(line, request);
    if (h.state == State::kError) return h;
    pos = eol + 2;
  }
  r.head_bytes = end + 4;
  return DeriveFraming(limits, request, r);
}

}  // namespace shieldx::http
