#include "services/orchestrator/frontends/ext_authz.h"

#include <chrono>
#include <string_view>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace shieldx::orchestrator::frontends {
namespace {

using envoy::service::auth::v3::CheckRequest;
using envoy::service::auth::v3::CheckResponse;
using pipeline::Action;
using pipeline::Decision;

// google.rpc.Code values.
constexpr int kRpcOk = 0;
constexpr int kRpcResourceExhausted = 8;
constexpr int kRpcPermissionDenied = 7;
constexpr int kRpcUnauthenticated = 16;

void AddHeader(google::protobuf::RepeatedPtrField<envoy::config::core::v3::HeaderValueOption>* to,
               std::string name, std::string value) {
  auto* option = to->Add();
  option->mutable_header()->set_key(absl::AsciiStrToLower(name));
  option->mutable_header()->set_value(std::move(value));
  // Replace any value the client sent (ext_authz's default, stated explicitly).
  option->mutable_append()->set_value(false);
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

absl::Status DecodeCheckRequest(const CheckRequest& check, const ExtAuthzOptions& options,
                                ExtAuthzScratch* scratch, detect::HttpRequest* request,
                                pipeline::RequestContext* context) {
  if (!check.attributes().request().has_http()) {
    return absl::InvalidArgumentError("CheckRequest without attributes.request.http");
  }
  const auto& http = check.attributes().request().http();
  if (http.method().empty() || http.path().empty()) {
    return absl::InvalidArgumentError("CheckRequest without method or path");
  }
  if (http.path().size() > options.max_uri_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat("request URI of ", http.path().size(),
                                                     " bytes exceeds the limit of ",
                                                     options.max_uri_bytes));
  }
  const std::size_t count =
      http.headers().empty() ? http.header_map().headers_size() : http.headers().size();
  if (count > options.max_headers) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "request with ", count, " headers exceeds the limit of ", options.max_headers));
  }
  std::string_view host = http.host();
  scratch->headers.clear();
  scratch->headers.reserve(count);
  auto add = [&](std::string_view name, std::string_view value) {
    if (!name.empty() && name.front() == ':') {
      if (host.empty() && name == ":authority") host = value;
      return;
    }
    scratch->headers.push_back(detect::Header{name, value});
  };
  if (!http.headers().empty()) {
    for (const auto& [name, value] : http.headers()) add(name, value);
  } else {
    for (const auto& h : http.header_map().headers()) {
      add(h.key(), h.raw_value().empty() ? std::string_view(h.value()) : h.raw_value());
    }
  }
  const std::string_view body =
      http.body().empty() ? std::string_view(http.raw_body()) : std::string_view(http.body());
  const auto& source = check.attributes().source();
  scratch->client_ip = source.address().has_socket_address()
                           ? source.address().socket_address().address()
                           : std::string();
  const std::string_view version =
      http.protocol().empty() ? std::string_view("HTTP/1.1") : std::string_view(http.protocol());
  *request = detect::HttpRequest{http.method(),
                                 http.path(),
                                 version,
                                 scratch->headers,
                                 body.substr(0, options.max_body_bytes),
                                 scratch->client_ip};
  context->front_end = pipeline::FrontEnd::kExtAuthz;
  context->host = host;
  context->request_id = http.id();
  context->tls = http.scheme() == "https" || check.attributes().has_tls_session();
  context->received_ns = NowNs();
  return absl::OkStatus();
}

void EncodeCheckResponse(const Decision& decision,
                         const std::vector<detect::Header>& client_headers,
                         CheckResponse* response) {
  const Action action = EnforcedAction(decision);
  const std::vector<std::pair<std::string, std::string>> headers = DecisionHeaders(decision);
  const int status = DenyStatus(decision);
  if (status == 200) {
    response->mutable_status()->set_code(kRpcOk);
    auto* ok = response->mutable_ok_response();
    for (const auto& [name, value] : headers) AddHeader(ok->mutable_headers(), name, value);
    for (const detect::Header& h : client_headers) {
      std::string lower = absl::AsciiStrToLower(std::string(h.name));
      if (!absl::StartsWith(lower, "x-shieldx-")) continue;
      bool set = false;
      for (const auto& [name, value] : headers) set = set || absl::AsciiStrToLower(name) == lower;
      if (!set) ok->add_headers_to_remove(lower);
    }
    return;
  }
  response->mutable_status()->set_code(action == Action::kChallenge   ? kRpcUnauthenticated
                                       : action == Action::kRateLimit ? kRpcResourceExhausted
                                                                      : kRpcPermissionDenied);
  response->mutable_status()->set_message(pipeline::ActionName(action));
  auto* denied = response->mutable_denied_response();
  denied->mutable_status()->set_code(static_cast<envoy::type::v3::StatusCode>(status));
  for (const auto& [name, value] : headers) AddHeader(denied->mutable_headers(), name, value);
  denied->set_body(absl::StrCat(pipeline::ActionName(action), "\n"));
}

ExtAuthzService::ExtAuthzService(ExtAuthzOptions options, pipeline::Decider& decider,
                                 FrontEndMetrics* metrics)
    : options_(std::move(options)),
      decider_(decider),
      metrics_(metrics),
      tarpits_(options_.max_concurrent_tarpits) {}

grpc::Status ExtAuthzService::Check(grpc::ServerContext* /*context*/, const CheckRequest* request,
                                    CheckResponse* response) {
  const auto start = std::chrono::steady_clock::now();
  ExtAuthzScratch scratch;
  detect::HttpRequest http;
  pipeline::RequestContext context;
  Decision decision;
  if (absl::Status s = DecodeCheckRequest(*request, options_, &scratch, &http, &context); !s.ok()) {
    const bool limit = s.code() == absl::StatusCode::kResourceExhausted;
    if (metrics_ != nullptr)
      metrics_->Error(limit ? FrontEndError::kLimit : FrontEndError::kMalformed);
    const std::string text(s.message().data(), s.message().size());
    decision = RefusedDecision(!limit                                  ? 400
                               : text.find("URI") != std::string::npos ? 414
                                                                       : 431,
                               text, request->attributes().request().http().id());
  } else {
    decision = decider_.Decide(http, context);
    if (decision.request_id.empty()) decision.request_id = std::string(context.request_id);
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
  EncodeCheckResponse(decision, scratch.headers, response);
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
  return grpc::Status::OK;
}

}  // namespace shieldx::orchestrator::frontends
