// A small blocking HTTP client over libcurl, for tests, readiness checks of local servers and
// tools (not for the request path: one connection per call).
//
// Thread-safety: every function may be called from any thread.
#ifndef SHIELDX_LIBS_HTTP_CLIENT_H_
#define SHIELDX_LIBS_HTTP_CLIENT_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/http/message.h"

namespace shieldx::http {

// Largest response body read; longer bodies fail with ResourceExhausted.
inline constexpr std::size_t kMaxClientResponseBytes = 64 * 1024 * 1024;

struct ClientRequest {
  std::string method = "GET";
  // "http://host:port/path?q" (a bare "host:port/path" means http://).
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  absl::Duration timeout = absl::Seconds(10);
};

struct ClientResponse {
  int status = 0;
  HttpHeaders headers;  // of the final response
  std::string body;
};

// Performs one request. Any HTTP status is a success; Unavailable when the server cannot be
// reached, DeadlineExceeded on timeout, InvalidArgument on a malformed URL.
absl::StatusOr<ClientResponse> Fetch(const ClientRequest& request);

// GET `url` with `timeout`.
absl::StatusOr<ClientResponse> HttpGet(std::string_view url,
                                       absl::Duration timeout = absl::Seconds(10));

}  // namespace shieldx::http

#endif  // SHIELDX_LIBS_HTTP_CLIENT_H_
