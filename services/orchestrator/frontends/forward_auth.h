// The HTTP forward-auth front end, for nginx `auth_request`, ingress-nginx `auth-url` and
// Traefik `ForwardAuth`: the proxy sends a sub-request carrying the original request's
// headers, ShieldX answers 2xx to let it through or a denial, with the decision in headers.
//
// Endpoints (registered on an http::HttpServer for GET, HEAD, POST, PUT, PATCH, DELETE and
// OPTIONS: proxies keep the original method):
//   <path>          (default /authz)        answers the real status: 200 allow / tarpit /
//                                            divert, 403 (or the block status), 401
//                                            challenge, 429 rate limit. For Traefik and any
//                                            proxy that relays the auth answer as-is.
//   <path>/nginx                             for nginx and ingress-nginx, whose auth_request
//                                            only understands 2xx, 401 and 403: 200 for the
//                                            forwarding actions, 401 for challenge, 403 for
//                                            everything else; X-ShieldX-Status carries the
//                                            real status for the nginx config to answer with.
// Response headers (all modes): X-ShieldX-Action, X-ShieldX-Request-Id, X-ShieldX-Upstream,
// X-ShieldX-Pool, X-ShieldX-Score, X-ShieldX-Status, X-ShieldX-Tarpit-Ms, Retry-After,
// X-ShieldX-Challenge, X-ShieldX-Would-Action (see common.h).
//
// The original request, in order of preference:
//   method  X-Original-Method (nginx), X-Forwarded-Method (Traefik), the sub-request's method
//   target  X-Original-URI (nginx), X-Forwarded-Uri (Traefik), path of X-Original-URL
//           (ingress-nginx), else the sub-request's target
//   host    X-Forwarded-Host, host of X-Original-URL, Host
//   client  X-Real-IP, the last X-Forwarded-For entry (the one the proxy added), the peer
//   tls     X-Forwarded-Proto = https, or an https X-Original-URL
//   id      X-Request-Id
// These headers are trusted: expose this endpoint only to the proxies (NetworkPolicy).
// Forwarding headers that only describe the original request (X-Original-*,
// X-Forwarded-Method / -Uri) are not passed to the pipeline; Host is the effective host.
// The body is inspected when the proxy forwards it (Traefik forwardBody; nginx does not).
//
// Tarpit: the answer itself is delayed (the proxy waits for it), which holds one server
// worker thread; at most `max_concurrent_tarpits` requests wait at once. Beyond that the
// request is answered at once as a rate limit (429 / 403+X-ShieldX-Status: 429,
// Retry-After: 1) and counted as errors_total{reason="tarpit_overflow"}: a client being
// slowed down is told to slow down rather than let through early.
//
// Thread-safety: handlers run concurrently on the server's worker threads.
#ifndef SHIELDX_SERVICES_ORCHESTRATOR_FRONTENDS_FORWARD_AUTH_H_
#define SHIELDX_SERVICES_ORCHESTRATOR_FRONTENDS_FORWARD_AUTH_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "libs/base/limits.h"
#include "libs/detect/request.h"
#include "libs/http/message.h"
#include "libs/http/server.h"
#include "libs/pipeline/decision.h"
#include "services/orchestrator/frontends/common.h"

namespace shieldx::orchestrator::frontends {

struct ForwardAuthOptions {
  std::string path = "/authz";
  std::size_t max_headers = limits::kMaxHeaderCount;
  std::size_t max_uri_bytes = limits::kMaxUriBytes;
  std::size_t max_body_bytes = limits::kMaxInspectedBodyBytes;
  absl::Duration max_tarpit = absl::Seconds(5);
  std::size_t max_concurrent_tarpits = 32;
};

enum class ForwardAuthMode { kStatus, kNginx };

struct ForwardAuthScratch {
  std::string method;
  std::string uri;
  std::string host;
  std::string client_ip;
  std::string request_id;
  std::vector<detect::Header> headers;
};

// Rebuilds the original request from a forward-auth sub-request (views into `in` and
// `*scratch`). ResourceExhausted over a limit (-> 431 / 414).
absl::Status DecodeForwardAuth(const http::HttpRequest& in, const ForwardAuthOptions& options,
                               ForwardAuthScratch* scratch, detect::HttpRequest* request,
                               pipeline::RequestContext* context);

// Status and headers of the answer for `decision` in `mode` (no tarpit wait here).
void EncodeForwardAuth(const pipeline::Decision& decision, ForwardAuthMode mode,
                       http::HttpResponse* response);

class ForwardAuthFrontEnd {
 public:
  // `decider` and `metrics` must outlive this object; `metrics` may be null.
  ForwardAuthFrontEnd(ForwardAuthOptions options, pipeline::Decider& decider,
                      FrontEndMetrics* metrics);

  // Registers both endpoints. REQUIRES: `server` not started.
  absl::Status Register(http::HttpServer& server);

  void Handle(const http::HttpRequest& in, ForwardAuthMode mode, http::HttpResponse* out);

 private:
  ForwardAuthOptions options_;
  pipeline::Decider& decider_;
  FrontEndMetrics* metrics_;
  TarpitGate tarpits_;
};

}  // namespace shieldx::orchestrator::frontends

#endif  // SHIELDX_SERVICES_ORCHESTRATOR_FRONTENDS_FORWARD_AUTH_H_
