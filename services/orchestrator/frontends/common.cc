#include "services/orchestrator/frontends/common.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/metrics/metrics.h"
#include "prometheus/counter.h"
#include "prometheus/histogram.h"

namespace shieldx::orchestrator::frontends {

using pipeline::Action;
using pipeline::Decision;

namespace {

const char* ErrorName(FrontEndError e) {
  switch (e) {
    case FrontEndError::kMalformed:
      return "malformed";
    case FrontEndError::kLimit:
      return "limit";
    case FrontEndError::kTarpitOverflow:
      return "tarpit_overflow";
  }
  return "malformed";
}

}  // namespace

FrontEndMetrics::FrontEndMetrics(metrics::MetricsRegistry* registry, pipeline::FrontEnd front_end) {
  if (registry == nullptr) return;
  const std::string fe = pipeline::FrontEndName(front_end);
  auto& requests = prometheus::BuildCounter()
                       .Name("shieldx_frontend_requests_total")
                       .Help("Decisions answered by each front end, by enforced action")
                       .Register(registry->registry());
  for (Action a : {Action::kAllow, Action::kBlock, Action::kChallenge, Action::kTarpit,
                   Action::kDivert, Action::kRateLimit}) {
    requests_[a] = &requests.Add({{"frontend", fe}, {"action", pipeline::ActionName(a)}});
  }
  auto& errors = prometheus::BuildCounter()
                     .Name("shieldx_frontend_errors_total")
                     .Help("Requests a front end refused or degraded, by reason")
                     .Register(registry->registry());
  for (FrontEndError e :
       {FrontEndError::kMalformed, FrontEndError::kLimit, FrontEndError::kTarpitOverflow}) {
    errors_[e] = &errors.Add({{"frontend", fe}, {"reason", ErrorName(e)}});
  }
  auto& duration =
      prometheus::BuildHistogram()
          .Name("shieldx_frontend_request_duration_seconds")
          .Help("Time to decode, decide and encode one request (tarpit waits excluded)")
          .Register(registry->registry());
  duration_ = &duration.Add({{"frontend", fe}}, metrics::MetricsRegistry::LatencyBuckets());
}

void FrontEndMetrics::Observe(Action action, double seconds) {
  if (auto it = requests_.find(action); it != requests_.end()) it->second->Increment();
  if (duration_ != nullptr) duration_->Observe(seconds);
}

void FrontEndMetrics::Error(FrontEndError error) {
  if (auto it = errors_.find(error); it != errors_.end()) it->second->Increment();
}

Action EnforcedAction(const Decision& decision) {
  return decision.monitor_only ? Action::kAllow : decision.action;
}

int DenyStatus(const Decision& decision) {
  switch (EnforcedAction(decision)) {
    case Action::kBlock:
      return decision.status >= 400 && decision.status <= 599 ? decision.status : 403;
    case Action::kChallenge:
      return decision.status >= 400 && decision.status <= 599 ? decision.status : 401;
    case Action::kRateLimit:
      return 429;
    default:
      return 200;
  }
}

std::vector<std::pair<std::string, std::string>> DecisionHeaders(const Decision& decision) {
  std::vector<std::pair<std::string, std::string>> h;
  const Action action = EnforcedAction(decision);
  h.emplace_back(kHeaderAction, pipeline::ActionName(action));
  if (decision.monitor_only)
    h.emplace_back(kHeaderWouldAction, pipeline::ActionName(decision.action));
  if (!decision.request_id.empty()) h.emplace_back(kHeaderRequestId, decision.request_id);
  if (!decision.upstream.empty()) h.emplace_back(kHeaderUpstream, decision.upstream);
  if (!decision.pool.empty()) h.emplace_back(kHeaderPool, decision.pool);
  h.emplace_back(kHeaderScore, std::to_string(decision.score));
  switch (action) {
    case Action::kTarpit:
      h.emplace_back(kHeaderTarpitMs, std::to_string(decision.tarpit_ms));
      break;
    case Action::kRateLimit:
      h.emplace_back(kHeaderRetryAfter, std::to_string(std::max(decision.retry_after_s, 1)));
      h.emplace_back(kHeaderStatus, "429");
      break;
    case Action::kBlock:
      h.emplace_back(kHeaderStatus, std::to_string(DenyStatus(decision)));
      break;
    case Action::kChallenge:
      h.emplace_back(kHeaderStatus, std::to_string(DenyStatus(decision)));
      h.emplace_back(kHeaderChallenge, decision.request_id.empty() ? "1" : decision.request_id);
      break;
    default:
      break;
  }
  return h;
}

Decision RefusedDecision(int status, std::string explanation, std::string_view request_id) {
  Decision d;
  d.action = Action::kBlock;
  d.status = status;
  d.explanation = std::move(explanation);
  d.request_id = std::string(request_id);
  return d;
}

bool TarpitGate::TryEnter() {
  std::size_t now = inside_.load();
  while (now < capacity_) {
    if (inside_.compare_exchange_weak(now, now + 1)) return true;
  }
  return false;
}

void TarpitGate::Leave() { inside_.fetch_sub(1); }

absl::StatusOr<std::pair<std::string, int>> ParseListenAddress(std::string_view text) {
  const std::size_t colon = text.rfind(':');
  auto bad = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("listen address \"", std::string(text), "\": want host:port"));
  };
  if (colon == std::string_view::npos) return bad();
  std::string host(text.substr(0, colon));
  int port = 0;
  if (!absl::SimpleAtoi(std::string(text.substr(colon + 1)), &port) || port < 0 || port > 65535) {
    return bad();
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) host = "0.0.0.0";
  return std::make_pair(host, port);
}

bool HeaderNameIs(std::string_view name, std::string_view want) {
  return absl::EqualsIgnoreCase(absl::string_view(name.data(), name.size()),
                                absl::string_view(want.data(), want.size()));
}

}  // namespace shieldx::orchestrator::frontends
