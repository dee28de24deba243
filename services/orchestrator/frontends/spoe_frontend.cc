#include "services/orchestrator/frontends/spoe_frontend.h"

#include <chrono>
#include <optional>
#include <random>
#include <string_view>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace shieldx::orchestrator::frontends {
namespace {

using pipeline::Action;
using pipeline::Decision;
using spoe::VarScope;

constexpr VarScope kTxn = VarScope::kTransaction;

std::optional<std::string_view> BytesArg(const spoe::Message& m, std::string_view name) {
  const spoe::TypedData* v = m.Arg(name);
  if (v == nullptr) return std::nullopt;
  return v->AsBytes();
}

int64_t MonotonicMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int StatusForError(const absl::Status& status, std::string_view message) {
  if (status.code() != absl::StatusCode::kResourceExhausted) return 400;
  return message.find("URI") != std::string_view::npos ? 414 : 431;
}

}  // namespace

absl::Status DecodeSpoeRequest(const spoe::Message& message, const SpoeFrontEndOptions& options,
                               SpoeScratch* scratch, detect::HttpRequest* request,
                               pipeline::RequestContext* context) {
  std::optional<std::string_view> method = BytesArg(message, "method");
  std::optional<std::string_view> path = BytesArg(message, "path");
  if (!method || method->empty() || !path || path->empty()) {
    return absl::InvalidArgumentError("spoe message without method or path");
  }
  std::optional<std::string_view> query = BytesArg(message, "query");
  const std::size_t uri_bytes = path->size() + (query ? query->size() + 1 : 0);
  if (uri_bytes > options.max_uri_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "request URI of ", uri_bytes, " bytes exceeds the limit of ", options.max_uri_bytes));
  }
  scratch->uri.assign(path->data(), path->size());
  if (query) {
    scratch->uri.push_back('?');
    scratch->uri.append(query->data(), query->size());
  }
  // req.ver is "1.1" / "2.0"; the model wants the request-line form.
  std::optional<std::string_view> version = BytesArg(message, "version");
  scratch->version = "HTTP/";
  scratch->version.append(version && !version->empty() ? std::string(*version) : "1.1");

  scratch->headers.clear();
  scratch->binary_headers.clear();
  if (std::optional<std::string_view> block = BytesArg(message, "headers")) {
    if (absl::Status s =
            spoe::DecodeBinaryHeaders(*block, options.header_limits, &scratch->binary_headers);
        !s.ok()) {
      return s;
    }
  }
  std::string_view host;
  scratch->headers.reserve(scratch->binary_headers.size());
  for (const spoe::BinaryHeader& h : scratch->binary_headers) {
    scratch->headers.push_back(detect::Header{h.name, h.value});
    if (host.empty() && HeaderNameIs(h.name, "host")) host = h.value;
  }

  std::string_view body;
  if (std::optional<std::string_view> b = BytesArg(message, "body")) {
    body = b->substr(0, options.max_body_bytes);
  }
  scratch->client_ip.clear();
  if (const spoe::TypedData* ip = message.Arg("client_ip"); ip != nullptr) {
    scratch->client_ip = ip->IpText();
    if (scratch->client_ip.empty() && ip->AsBytes())
      scratch->client_ip = std::string(*ip->AsBytes());
  }
  *request = detect::HttpRequest{*method,          scratch->uri, scratch->version,
                                 scratch->headers, body,         scratch->client_ip};
  context->front_end = pipeline::FrontEnd::kSpoe;
  context->host = host;
  if (std::optional<std::string_view> id = BytesArg(message, "unique_id"))
    context->request_id = *id;
  if (const spoe::TypedData* tls = message.Arg("tls"); tls != nullptr) {
    context->tls =
        tls->type == spoe::DataType::kBool ? tls->boolean : tls->AsInt().value_or(0) != 0;
  }
  return absl::OkStatus();
}

std::vector<spoe::Action> SpoeActions(const Decision& decision) {
  std::vector<spoe::Action> actions;
  actions.reserve(12);
  const Action action = EnforcedAction(decision);
  actions.push_back(spoe::Action::SetString(kTxn, "action", pipeline::ActionName(action)));
  if (decision.monitor_only) {
    actions.push_back(
        spoe::Action::SetString(kTxn, "would_action", pipeline::ActionName(decision.action)));
  }
  actions.push_back(spoe::Action::SetInt32(kTxn, "status", DenyStatus(decision)));
  if (!decision.upstream.empty()) {
    actions.push_back(spoe::Action::SetString(kTxn, "upstream", decision.upstream));
    const std::size_t colon = decision.upstream.rfind(':');
    int port = 0;
    if (colon != std::string::npos &&
        absl::SimpleAtoi(decision.upstream.substr(colon + 1), &port) && port > 0 && port < 65536) {
      std::string host = decision.upstream.substr(0, colon);
      if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
      }
      if (std::optional<spoe::Action> ip = spoe::Action::SetIp(kTxn, "upstream_ip", host)) {
        actions.push_back(std::move(*ip));
        actions.push_back(spoe::Action::SetInt32(kTxn, "upstream_port", port));
      }
    }
  }
  if (!decision.pool.empty())
    actions.push_back(spoe::Action::SetString(kTxn, "pool", decision.pool));
  actions.push_back(spoe::Action::SetInt32(kTxn, "score", decision.score));
  if (!decision.request_id.empty()) {
    actions.push_back(spoe::Action::SetString(kTxn, "request_id", decision.request_id));
  }
  if (action == Action::kTarpit) {
    actions.push_back(spoe::Action::SetInt32(kTxn, "tarpit_ms", decision.tarpit_ms));
  }
  if (action == Action::kRateLimit) {
    actions.push_back(
        spoe::Action::SetInt32(kTxn, "retry_after", std::max(decision.retry_after_s, 1)));
  }
  if (!decision.rule_id.empty()) {
    actions.push_back(spoe::Action::SetString(kTxn, "rule_id", decision.rule_id));
  }
  if (!decision.member_id.empty() && !decision.pool.empty()) {
    actions.push_back(spoe::Action::SetString(kTxn, "tenant", decision.tenant_id));
    actions.push_back(spoe::Action::SetString(kTxn, "member", decision.member_id));
  }
  return actions;
}

absl::Status DecodeSpoeOutcome(const spoe::Message& message, std::string_view agent_id,
                               int64_t now_us, pipeline::UpstreamOutcome* outcome) {
  std::optional<std::string_view> tenant = BytesArg(message, "tenant");
  std::optional<std::string_view> pool = BytesArg(message, "pool");
  std::optional<std::string_view> member = BytesArg(message, "member");
  const spoe::TypedData* status = message.Arg("status");
  int64_t code = -1;
  bool have_code = false;
  if (status != nullptr) {
    if (std::optional<int64_t> v = status->AsInt(); v.has_value()) {
      code = v.value();
      have_code = true;
    }
  }
  if (!tenant || tenant->empty() || !pool || pool->empty() || !member || member->empty() ||
      !have_code) {
    return absl::InvalidArgumentError("spoe outcome message needs tenant, pool, member and status");
  }
  if (code < 0 || code > 999) {
    return absl::InvalidArgumentError(absl::StrCat("spoe outcome status ", code, " is not HTTP"));
  }
  outcome->tenant_id = *tenant;
  outcome->pool = *pool;
  outcome->member_id = *member;
  outcome->status = static_cast<int>(code);
  outcome->connect_failed = false;
  outcome->latency_us = -1;
  if (std::optional<std::string_view> sent = BytesArg(message, "sent")) {
    const std::size_t colon = sent->find(':');
    int64_t sent_us = 0;
    if (colon != std::string_view::npos && sent->substr(0, colon) == agent_id &&
        absl::SimpleAtoi(std::string(sent->substr(colon + 1)), &sent_us) && sent_us <= now_us) {
      outcome->latency_us = now_us - sent_us;
    }
  }
  return absl::OkStatus();
}

SpoeFrontEnd::SpoeFrontEnd(SpoeFrontEndOptions options, pipeline::Decider& decider,
                           FrontEndMetrics* metrics)
    : options_(std::move(options)), decider_(decider), metrics_(metrics) {
  std::random_device rd;
  const uint64_t id = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  agent_id_ = absl::StrCat(absl::Hex(id, absl::kZeroPad16));
}

void SpoeFrontEnd::ReportOutcome(const spoe::Message& message) {
  pipeline::UpstreamOutcome outcome;
  if (absl::Status s = DecodeSpoeOutcome(message, agent_id_, MonotonicMicros(), &outcome);
      !s.ok()) {
    if (metrics_ != nullptr) metrics_->Error(FrontEndError::kMalformed);
    return;
  }
  decider_.ReportOutcome(outcome);
}

Decision SpoeFrontEnd::DecideMessage(const spoe::Message& message) {
  SpoeScratch scratch;
  detect::HttpRequest request;
  pipeline::RequestContext context;
  context.received_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::steady_clock::now().time_since_epoch())
                            .count();
  if (absl::Status s = DecodeSpoeRequest(message, options_, &scratch, &request, &context);
      !s.ok()) {
    if (metrics_ != nullptr) {
      metrics_->Error(s.code() == absl::StatusCode::kResourceExhausted ? FrontEndError::kLimit
                                                                       : FrontEndError::kMalformed);
    }
    const std::string_view text(s.message().data(), s.message().size());
    return RefusedDecision(StatusForError(s, text), std::string(text), context.request_id);
  }
  Decision d = decider_.Decide(request, context);
  if (d.request_id.empty()) d.request_id = std::string(context.request_id);
  return d;
}

void SpoeFrontEnd::Handle(const spoe::NotifyRequest& request, spoe::NotifyReply* reply) {
  for (const spoe::Message& message : request.messages) {
    if (message.name == options_.response_message_name) {
      ReportOutcome(message);  // answered with no actions
      continue;
    }
    if (message.name != options_.message_name) continue;
    const auto start = std::chrono::steady_clock::now();
    Decision d = DecideMessage(message);
    reply->actions = SpoeActions(d);
    if (EnforcedAction(d) == Action::kTarpit && d.tarpit_ms > 0) {
      reply->delay = std::min(absl::Milliseconds(d.tarpit_ms), options_.max_tarpit);
    }
    if (!d.member_id.empty() && !d.pool.empty()) {
      reply->actions.push_back(spoe::Action::SetString(
          kTxn, "sent",
          absl::StrCat(agent_id_, ":",
                       MonotonicMicros() + absl::ToInt64Microseconds(reply->delay))));
    }
    if (metrics_ != nullptr) {
      metrics_->Observe(
          EnforcedAction(d),
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    return;  // one decision per NOTIFY: the first shieldx-req message
  }
}

}  // namespace shieldx::orchestrator::frontends
