#include "services/orchestrator/frontends/forward_auth.h"

#include <chrono>
#include <string_view>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace shieldx::orchestrator::frontends {
namespace {

using pipeline::Action;
using pipeline::Decision;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits "scheme://authority/path?q" into its parts; false when `url` is not absolute.
bool SplitUrl(std::string_view url, std::string_view* scheme, std::string_view* authority,
              std::string_view* target) {
  const std::size_t sep = url.find("://");
  if (sep == std::string_view::npos) return false;
  *scheme = url.substr(0, sep);
  std::string_view rest = url.substr(sep + 3);
  const std::size_t slash = rest.find_first_of("/?");
  *authority = rest.substr(0, slash);
  *target = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
  return true;
}

bool IsControlHeader(std::string_view name) {
  for (const char* control : {"x-original-uri", "x-original-url", "x-original-method",
                              "x-forwarded-method", "x-forwarded-uri", "host"}) {
    if (HeaderNameIs(name, control)) return true;
  }
  return false;
}

bool IsHttps(std::string_view proto) {
  return absl::EqualsIgnoreCase(absl::string_view(proto.data(), proto.size()), "https");
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

absl::Status DecodeForwardAuth(const http::HttpRequest& in, const ForwardAuthOptions& options,
                               ForwardAuthScratch* scratch, detect::HttpRequest* request,
                               pipeline::RequestContext* context) {
  const std::string_view original_url = in.Header("x-original-url");
  std::string_view url_scheme, url_authority, url_target;
  const bool have_url =
      !original_url.empty() && SplitUrl(original_url, &url_scheme, &url_authority, &url_target);

  std::string_view method = in.Header("x-original-method");
  if (method.empty()) method = in.Header("x-forwarded-method");
  if (method.empty()) method = in.method;
  scratch->method = std::string(method);

  std::string_view uri = in.Header("x-original-uri");
  if (uri.empty()) uri = in.Header("x-forwarded-uri");
  if (uri.empty() && have_url) uri = url_target;
  if (uri.empty()) uri = in.target;
  if (uri.size() > options.max_uri_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "request URI of ", uri.size(), " bytes exceeds the limit of ", options.max_uri_bytes));
  }
  scratch->uri = std::string(uri);

  std::string_view host = in.Header("x-forwarded-host");
  if (host.empty() && have_url) host = url_authority;
  if (host.empty()) host = in.Header("host");
  scratch->host = std::string(Trim(host.substr(0, host.find(','))));

  std::string_view ip = Trim(in.Header("x-real-ip"));
  if (ip.empty()) {
    std::string_view xff = in.Header("x-forwarded-for");
    const std::size_t comma = xff.rfind(',');
    ip = Trim(comma == std::string_view::npos ? xff : xff.substr(comma + 1));
  }
  if (ip.empty()) {
    // remote_address is "ip:port" or "[v6]:port".
    std::string_view peer = in.remote_address;
    peer = peer.substr(0, peer.rfind(':'));
    if (peer.size() >= 2 && peer.front() == '[') peer = peer.substr(1, peer.size() - 2);
    ip = peer;
  }
  scratch->client_ip = std::string(ip);
  scratch->request_id = std::string(in.Header("x-request-id"));

  if (in.headers.size() > options.max_headers) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "request with ", in.headers.size(), " headers exceeds the limit of ", options.max_headers));
  }
  scratch->headers.clear();
  scratch->headers.reserve(in.headers.size() + 1);
  if (!scratch->host.empty()) scratch->headers.push_back(detect::Header{"Host", scratch->host});
  for (const auto& [name, value] : in.headers) {
    if (IsControlHeader(name)) continue;
    scratch->headers.push_back(detect::Header{name, value});
  }
  const std::string_view body = std::string_view(in.body).substr(0, options.max_body_bytes);
  const std::string_view version = in.version_minor == 0 ? "HTTP/1.0" : "HTTP/1.1";
  *request = detect::HttpRequest{scratch->method,  scratch->uri, version,
                                 scratch->headers, body,         scratch->client_ip};
  context->front_end = pipeline::FrontEnd::kForwardAuth;
  context->host = scratch->host;
  context->request_id = scratch->request_id;
  context->tls = IsHttps(in.Header("x-forwarded-proto")) || (have_url && IsHttps(url_scheme));
  context->received_ns = NowNs();
  return absl::OkStatus();
}

void EncodeForwardAuth(const Decision& decision, ForwardAuthMode mode,
                       http::HttpResponse* response) {
  for (auto& [name, value] : DecisionHeaders(decision)) {
    response->headers.Set(name, std::move(value));
  }
  const int status = DenyStatus(decision);
  const Action action = EnforcedAction(decision);
  if (mode == ForwardAuthMode::kStatus) {
    response->status = status;
  } else {
    response->status = action == Action::kChallenge ? 401 : status == 200 ? 200 : 403;
  }
  if (response->status != 200) {
    response->Text(response->status, absl::StrCat(pipeline::ActionName(action), "\n"));
  }
}

ForwardAuthFrontEnd::ForwardAuthFrontEnd(ForwardAuthOptions options, pipeline::Decider& decider,
                                         FrontEndMetrics* metrics)
    : options_(std::move(options)),
      decider_(decider),
      metrics_(metrics),
      tarpits_(options_.max_concurrent_tarpits) {}

absl::Status ForwardAuthFrontEnd::Register(http::HttpServer& server) {
  for (const char* method : {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}) {
    absl::Status s = server.Handle(method, options_.path,
                                   [this](const http::HttpRequest& in, http::HttpResponse& out) {
                                     Handle(in, ForwardAuthMode::kStatus, &out);
                                   });
    if (!s.ok()) return s;
    s = server.Handle(method, options_.path + "/nginx",
                      [this](const http::HttpRequest& in, http::HttpResponse& out) {
                        Handle(in, ForwardAuthMode::kNginx, &out);
                      });
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

void ForwardAuthFrontEnd::Handle(const http::HttpRequest& in, ForwardAuthMode mode,
                                 http::HttpResponse* out) {
  const auto start = std::chrono::steady_clock::now();
  ForwardAuthScratch scratch;
  detect::HttpRequest request;
  pipeline::RequestContext context;
  Decision decision;
  if (absl::Status s = DecodeForwardAuth(in, options_, &scratch, &request, &context); !s.ok()) {
    if (metrics_ != nullptr) metrics_->Error(FrontEndError::kLimit);
    const std::string text(s.message().data(), s.message().size());
    decision = RefusedDecision(text.find("URI") != std::string::npos ? 414 : 431, text,
                               scratch.request_id);
  } else {
    decision = decider_.Decide(request, context);
    if (decision.request_id.empty()) decision.request_id = scratch.request_id;
  }
  bool wait = false;
  if (EnforcedAction(decision) == Action::kTarpit && decision.tarpit_ms > 0) {
    if (tarpits_.TryEnter()) {
      wait = true;
    } else {
      if (metrics_ != nullptr) metrics_->Error(FrontEndError::kTarpitOverflow);
      decision.action = Action::kRateLimit;
      decision.retry_after_s = 1;
    }
  }
  EncodeForwardAuth(decision, mode, out);
  if (metrics_ != nullptr) {
    metrics_->Observe(
        EnforcedAction(decision),
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  if (wait) {
    std::this_thread::sleep_for(std::chrono::milliseconds(
        std::min<int64_t>(decision.tarpit_ms, absl::ToInt64Milliseconds(options_.max_tarpit))));
    tarpits_.Leave();
  }
}

}  // namespace shieldx::orchestrator::frontends
