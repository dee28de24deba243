#include "services/orchestrator/frontends/testing/scripted_decider.h"

#include <string_view>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace shieldx::orchestrator::frontends::testing {

using pipeline::Action;
using pipeline::Decision;

namespace {
bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}
}  // namespace

Decision ScriptedDecider::Decide(const detect::HttpRequest& request,
                                 const pipeline::RequestContext& context) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (seen_.size() < kMaxRecorded) {
      SeenRequest s;
      s.request.method = std::string(request.method);
      s.request.uri = std::string(request.uri);
      s.request.version = std::string(request.version);
      for (const detect::Header& h : request.headers) {
        s.request.headers.emplace_back(std::string(h.name), std::string(h.value));
      }
      s.request.body = std::string(request.body);
      s.request.client_ip = std::string(request.client_ip);
      s.front_end = context.front_end;
      s.host = std::string(context.host);
      s.request_id = std::string(context.request_id);
      s.tls = context.tls;
      seen_.push_back(std::move(s));
    }
  }
  Decision d;
  d.request_id = context.request_id.empty() ? absl::StrCat("scripted-", ++next_id_)
                                            : std::string(context.request_id);
  d.upstream = script_.upstream_a;
  d.pool = "a";
  d.member_id = "a1";
  d.tenant_id = "test-tenant";
  d.explanation = "scripted";
  const std::string_view path = request.uri;
  if (StartsWith(path, "/sqli") || path.find("' OR ") != std::string_view::npos ||
      path.find("%27%20OR%20") != std::string_view::npos) {
    d.action = Action::kBlock;
    d.status = 403;
    d.score = 12;
    d.categories = {"sqli"};
    d.rule_id = "scripted-sqli";
    d.upstream.clear();
    d.pool.clear();
    d.member_id.clear();
  } else if (StartsWith(path, "/block/")) {
    int status = 403;
    (void)absl::SimpleAtoi(std::string(path.substr(7, 3)), &status);
    d.action = Action::kBlock;
    d.status = status;
    d.upstream.clear();
    d.pool.clear();
    d.member_id.clear();
  } else if (StartsWith(path, "/challenge")) {
    d.action = Action::kChallenge;
    d.status = 401;
    d.upstream.clear();
    d.pool.clear();
    d.member_id.clear();
  } else if (StartsWith(path, "/tarpit")) {
    d.action = Action::kTarpit;
    d.tarpit_ms = script_.tarpit_ms;
  } else if (StartsWith(path, "/divert")) {
    d.action = Action::kDivert;
    d.upstream = script_.upstream_b;
    d.pool = "b";
    d.member_id = "b1";
  } else if (StartsWith(path, "/monitor")) {
    d.action = Action::kBlock;
    d.status = 403;
    d.monitor_only = true;
  } else if (StartsWith(path, "/rl")) {
    if (rate_limited_count_.fetch_add(1) >= script_.rate_limit_n) {
      d.action = Action::kRateLimit;
      d.status = 429;
      d.retry_after_s = script_.retry_after_s;
      d.upstream.clear();
      d.pool.clear();
      d.member_id.clear();
    }
  }
  return d;
}

void ScriptedDecider::ReportOutcome(const pipeline::UpstreamOutcome& outcome) {
  std::lock_guard<std::mutex> lock(mu_);
  if (outcomes_.size() >= kMaxRecorded) return;
  outcomes_.push_back(SeenOutcome{std::string(outcome.tenant_id), std::string(outcome.pool),
                                  std::string(outcome.member_id), outcome.status,
                                  outcome.connect_failed, outcome.latency_us});
}

std::vector<SeenOutcome> ScriptedDecider::outcomes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return outcomes_;
}

std::vector<SeenRequest> ScriptedDecider::seen() const {
  std::lock_guard<std::mutex> lock(mu_);
  return seen_;
}

std::optional<SeenRequest> ScriptedDecider::last() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (seen_.empty()) return std::nullopt;
  return seen_.back();
}

}  // namespace shieldx::orchestrator::frontends::testing
