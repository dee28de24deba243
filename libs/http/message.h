// HTTP/1.1 request and response values shared by the server, the router and handlers.
//
// Plain values: no I/O, no threads. Header names compare case-insensitively; values are kept
// as received (the parser has already rejected control characters).
#ifndef SHIELDX_LIBS_HTTP_MESSAGE_H_
#define SHIELDX_LIBS_HTTP_MESSAGE_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace shieldx::http {

// An ordered multimap of header fields with case-insensitive name lookup.
class HttpHeaders {
 public:
  using Entry = std::pair<std::string, std::string>;

  // Appends a field (repeated names are kept in order).
  void Add(std::string name, std::string value);
  // Replaces every field named `name` (any case) with one field.
  void Set(std::string_view name, std::string value);
  // Removes every field named `name`; returns how many were removed.
  std::size_t Remove(std::string_view name);

  // The first value of `name`, or nullptr when absent.
  const std::string* Find(std::string_view name) const;
  // The first value of `name`, or "" when absent.
  std::string_view Get(std::string_view name) const;
  bool Has(std::string_view name) const { return Find(name) != nullptr; }

  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  std::vector<Entry>::const_iterator begin() const { return entries_.begin(); }
  std::vector<Entry>::const_iterator end() const { return entries_.end(); }
  void clear() { entries_.clear(); }

 private:
  std::vector<Entry> entries_;
};

struct HttpRequest {
  std::string method;     // as sent, e.g. "GET" (methods are case-sensitive)
  std::string target;     // the request target as sent: path and query
  std::string path;       // the path part of target, still percent-encoded
  std::string query;      // after '?', still percent-encoded ("" when none)
  int version_minor = 1;  // HTTP/1.<version_minor>
  HttpHeaders headers;
  std::string body;
  // {param} values of the matched route, percent-decoded, in pattern order.
  std::vector<std::pair<std::string, std::string>> path_params;
  // The matched route pattern ("/v1/tenants/{id}"), "" when no route matched.
  std::string route;
  // Peer address "ip:port" ("[v6]:port" for IPv6).
  std::string remote_address;
  // The trace id in effect for this request (also echoed as x-request-id).
  std::string trace_id;

  std::string_view Header(std::string_view name) const { return headers.Get(name); }
  // The value of path parameter `name`, or "" when the pattern has none by that name.
  std::string_view PathParam(std::string_view name) const;
  // The first query parameter `name`, form-decoded ('+' is a space); nullopt when absent.
  std::optional<std::string> QueryParam(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  HttpHeaders headers;
  std::string body;

  // Sets status, Content-Type and body in one call.
  void Text(int status_code, std::string text);  // text/plain; charset=utf-8
  void Json(int status_code, std::string json);  // application/json
  void SetContentType(std::string content_type) {
    headers.Set("content-type", std::move(content_type));
  }
};

// A request handler. Runs on a server worker thread; it must not block for long, since the
// worker serves its other connections only between requests.
using HttpHandler = std::function<void(const HttpRequest&, HttpResponse&)>;

// The reason phrase of a status code ("Not Found"); "Unknown" for unassigned codes.
std::string_view StatusReason(int status);

// Percent-decodes `text`; with `plus_is_space`, '+' becomes ' ' (query strings and forms).
// Returns nullopt on a malformed escape ("%4", "%zz").
std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space);

}  // namespace shieldx::http

#endif  // SHIELDX_LIBS_HTTP_MESSAGE_H_
