#include "libs/pipeline/pipeline.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/pipeline/request_view.h"

namespace shieldx::pipeline {

namespace {

std::atomic<uint64_t> g_next_inspector_id{1};

// Per-thread reusable state. Detection scratches are keyed by a process-unique inspector id
// (never by address), so a destroyed pipeline's scratch can never be handed to a new one.
struct ThreadState {
  RequestView view;
  std::vector<double> rate_counters;
  std::string key;
  struct Slot {
    uint64_t inspector_id = 0;
    std::unique_ptr<detect::Scratch> scratch;
  };
  std::vector<Slot> slots;  // at most kMaxScratchSlots, least recently added evicted
  uint64_t rng = 0;
};
constexpr std::size_t kMaxScratchSlots = 16;

ThreadState& Tls() {
  thread_local ThreadState state;
  return state;
}

uint64_t NextRandom(uint64_t* s) {
  if (*s == 0)
    *s = reinterpret_cast<uintptr_t>(s) ^ static_cast<uint64_t>(absl::GetCurrentTimeNanos());
  uint64_t x = *s;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  *s = x;
  return x;
}

double UnitRandom(uint64_t* s) { return static_cast<double>(NextRandom(s) >> 11) * 0x1.0p-53; }

detect::Scratch& ScratchFor(const detect::Inspector& inspector, uint64_t id) {
  ThreadState& t = Tls();
  for (ThreadState::Slot& s : t.slots) {
    if (s.inspector_id == id) return *s.scratch;
  }
  if (t.slots.size() >= kMaxScratchSlots) t.slots.erase(t.slots.begin());
  t.slots.push_back({id, inspector.NewScratch()});
  return *t.slots.back().scratch;
}

int ActionLabelOf(const Decision& d) { return d.monitor_only ? 6 : static_cast<int>(d.action); }

Action FromPolicy(policy::Action a) {
  switch (a) {
    case policy::Action::kBlock:
      return Action::kBlock;
    case policy::Action::kChallenge:
      return Action::kChallenge;
    case policy::Action::kTarpit:
      return Action::kTarpit;
    case policy::Action::kDivert:
      return Action::kDivert;
    case policy::Action::kAllow:
      break;
  }
  return Action::kAllow;
}

bool Forwards(Action a) {
  return a == Action::kAllow || a == Action::kTarpit || a == Action::kDivert;
}

void AppendKey(const policy::RateLimitKey& k, std::string* out) {
  switch (k.kind) {
    case policy::RateLimitKey::Kind::kIp:
      out->append(k.ip.ToString());
      break;
    case policy::RateLimitKey::Kind::kNumber:
      absl::StrAppend(out, k.number);
      break;
    case policy::RateLimitKey::Kind::kString:
      if (k.text.size() <= kMaxRateKeyBytes) {
        out->append(k.text.data(), k.text.size());
      } else {
        absl::StrAppend(out, "#", StableHash64(k.text));  // long keys: their hash
      }
      break;
  }
}

}  // namespace

struct Pipeline::Work {
  const detect::HttpRequest& request;
  const RequestContext& ctx;
  ThreadState& tls;
  Decision d;
  int64_t start_ns = 0;
  std::shared_ptr<const Snapshot> snapshot;
  const CompiledTenant* tenant = nullptr;
  const CompiledSite* site = nullptr;
  const CompiledRoute* route = nullptr;
  policy::PolicyInput input;
  detect::Verdict verdict;
  bool decided = false;       // a terminal step decided (deny list, rate limit)
  bool skip_checks = false;   // allow-listed client: no detection, no rate limits
  bool rule_decided = false;  // a policy rule's terminal action decided
  const CompiledRuleSet* rule_set = nullptr;
  policy::PolicyResult result;
  std::shared_ptr<const CompiledPool> divert_pool;
  std::string shadow_action;

  Work(const detect::HttpRequest& r, const RequestContext& c, ThreadState& t)
      : request(r), ctx(c), tls(t) {}
};

absl::StatusOr<std::unique_ptr<Pipeline>> Pipeline::Create(PipelineOptions options,
                                                           PipelineDeps deps) {
  std::unique_ptr<Pipeline> p(new Pipeline(std::move(options), deps));
  for (int i = 0; i < 4; ++i) {
    detect::Profile profile = p->options_.base_profile;
    profile.sensitivity = static_cast<detect::Sensitivity>(i + 1);
    auto inspector = detect::Inspector::Create(std::move(profile));
    if (!inspector.ok()) return inspector.status();
    p->inspectors_[i] = std::move(*inspector);
    p->inspector_ids_[i] = g_next_inspector_id.fetch_add(1);
  }
  return p;
}

Pipeline::Pipeline(PipelineOptions options, PipelineDeps deps)
    : options_(std::move(options)),
      clock_(deps.clock != nullptr ? deps.clock : Clock::Real()),
      rate_limiter_(deps.rate_limiter),
      risk_(deps.risk),
      events_(deps.events),
      metrics_(deps.metrics) {}

Pipeline::~Pipeline() = default;

void Pipeline::SetSnapshot(std::shared_ptr<const Snapshot> snapshot) {
  snapshot_.store(std::move(snapshot), std::memory_order_release);
}

std::shared_ptr<const Snapshot> Pipeline::snapshot() const {
  return snapshot_.load(std::memory_order_acquire);
}

const detect::Inspector& Pipeline::inspector(detect::Sensitivity s) const {
  const int i = std::clamp(static_cast<int>(s) - 1, 0, 3);
  return *inspectors_[i];
}

void Pipeline::SetAction(Work& w, Action action, int status, std::string_view rule_id,
                         std::string explanation) {
  w.d.action = action;
  w.d.status = status;
  w.d.rule_id = std::string(rule_id);
  w.d.explanation = std::move(explanation);
}

Decision Pipeline::Decide(const detect::HttpRequest& request, const RequestContext& context) {
  Work w(request, context, Tls());
  w.start_ns = clock_->MonotonicNanos();
  w.d.request_id =
      !context.request_id.empty()
          ? std::string(context.request_id)
          : absl::StrCat(options_.replica_id, "-", absl::Hex(request_counter_.fetch_add(1) + 1));
  w.snapshot = snapshot_.load(std::memory_order_acquire);
  w.tls.view.Build(request, context.host, 1 << 20);
  if (w.snapshot == nullptr) {
    if (options_.fail_open_without_config) {
      SetAction(w, Action::kAllow, 200, "", "no configuration loaded yet: failing open");
    } else {
      SetAction(w, Action::kBlock, options_.no_config_status, "",
                "no configuration loaded yet: failing closed");
    }
    Finish(w);
    return std::move(w.d);
  }
  w.d.config_version = static_cast<uint64_t>(w.snapshot->version());
  Resolve(w);
  if (w.route == nullptr) {
    Finish(w);
    return std::move(w.d);
  }
  if (!CheckLists(w) && !CheckRouteRateLimits(w)) {
    Detect(w);
    ReadRisk(w);
    EvaluatePolicy(w);
    ApplyRisk(w);
  }
  ApplyCredits(w);
  Route(w);
  Finish(w);
  return std::move(w.d);
}

void Pipeline::Resolve(Work& w) {
  const Snapshot& snap = *w.snapshot;
  const std::string_view host = w.tls.view.host();
  if (!w.ctx.site_id.empty()) {
    w.tenant = snap.FindTenant(w.ctx.tenant_id);
    if (w.tenant != nullptr) w.site = w.tenant->FindSite(w.ctx.site_id);
  } else {
    Snapshot::SiteRef ref = snap.ResolveHost(host);
    if (ref.site != nullptr &&
        (w.ctx.tenant_id.empty() || ref.tenant->tenant_id == w.ctx.tenant_id)) {
      w.tenant = ref.tenant;
      w.site = ref.site;
    }
  }
  if (w.site == nullptr) {
    SetAction(w, Action::kBlock, options_.unknown_host_status, "",
              w.ctx.site_id.empty() ? absl::StrCat("no site is configured for host \"",
                                                   std::string(host.substr(0, 253)), "\"")
                                    : "the requested site does not exist for this tenant");
    return;
  }
  w.d.tenant_id = w.tenant->tenant_id;
  w.d.site_id = w.site->site_id;
  w.route = &w.site->Match(host, w.request.method, w.tls.view.path());
  w.d.route_id = w.route->route_id;
  w.d.monitor_only = w.route->monitor;

  // The policy input: views into the request and the thread's buffers.
  const RequestView& v = w.tls.view;
  policy::PolicyInput& in = w.input;
  in.method = v.method();
  in.host = v.host();
  in.path = v.path();
  in.query = v.query();
  in.args = v.args();
  in.headers = v.headers();
  in.cookies = v.cookies();
  std::optional<policy::IpAddress> ip = policy::IpAddress::Parse(w.request.client_ip);
  if (ip.has_value()) in.ip_src = *ip;
  in.tenant_id = w.tenant->tenant_id;
  in.route_id = w.route->route_id;
  in.unix_time_s = absl::ToUnixSeconds(clock_->Now());
}

bool Pipeline::CheckLists(Work& w) {
  const policy::IpAddress& ip = w.input.ip_src;
  for (const CompiledTenant::List& l : w.tenant->deny_lists) {
    if (l.set.Contains(ip)) {
      SetAction(w, Action::kBlock, 403, absl::StrCat("ip_list:", l.name),
                absl::StrCat("client address is on deny list ", l.name));
      w.decided = true;
      return true;
    }
  }
  for (const CompiledTenant::List& l : w.tenant->allow_lists) {
    if (l.set.Contains(ip)) {
      w.skip_checks = true;
      w.d.tags.push_back(absl::StrCat("allow_list:", l.name));
      break;
    }
  }
  return false;
}

RateResult Pipeline::CheckRate(Work& w, std::string_view key, const RateSpec& spec,
                               RateSource source) {
  RateResult r = rate_limiter_->Check(key, spec);
  if (!r.allowed && metrics_ != nullptr) {
    metrics_->RateLimitHit(*w.tenant->stats, source,
                           r.failed  ? RateBackend::kFailureMode
                           : r.local ? RateBackend::kLocal
                                     : RateBackend::kRedis);
  }
  if (r.local) w.d.tags.push_back(r.failed ? "rate_limit_failure_mode" : "rate_limit_local");
  return r;
}

bool Pipeline::CheckRouteRateLimits(Work& w) {
  const CompiledRoute& route = *w.route;
  w.tls.rate_counters.assign(route.rate_counter_sources.size(), 0.0);
  if (route.rate_limits.empty() || w.skip_checks || rate_limiter_ == nullptr || w.ctx.dry_run) {
    return false;
  }
  std::vector<double> used(route.rate_limits.size(), 0.0);
  bool exceeded = false;
  for (std::size_t i = 0; i < route.rate_limits.size() && !exceeded; ++i) {
    const CompiledRateLimit& rl = route.rate_limits[i];
    std::string& key = w.tls.key;
    key.clear();
    absl::StrAppend(&key, w.tenant->tenant_id, ":rt:", route.route_id, ":", rl.name, ":");
    AppendKey(route.rate_keys->RateLimitKeyFor(static_cast<int>(i), w.input), &key);
    RateResult r = CheckRate(w, key, rl.spec, RateSource::kRoute);
    used[i] = static_cast<double>(r.used);
    if (r.allowed) continue;
    const std::string rule_id = absl::StrCat("rate_limit:", rl.name);
    switch (rl.action) {
      case shieldx::common::v1::ACTION_LOG:
        w.d.tags.push_back(rule_id);
        break;
      case shieldx::common::v1::ACTION_BLOCK:
        SetAction(w, Action::kBlock, 403, rule_id,
                  absl::StrCat("rate limit ", rl.name, " exceeded (", rl.spec.limit, " per ",
                               rl.spec.window_ms, " ms): blocked"));
        exceeded = true;
        break;
      case shieldx::common::v1::ACTION_CHALLENGE:
        SetAction(w, Action::kChallenge, options_.challenge_status, rule_id,
                  absl::StrCat("rate limit ", rl.name, " exceeded: challenge"));
        exceeded = true;
        break;
      default:
        SetAction(w, Action::kRateLimit, 429, rule_id,
                  absl::StrCat("rate limit ", rl.name, " exceeded (", rl.spec.limit, " per ",
                               rl.spec.window_ms, " ms)"));
        w.d.retry_after_s = static_cast<int>(std::max<int64_t>(1, (r.retry_after_ms + 999) / 1000));
        exceeded = true;
        break;
    }
  }
  for (std::size_t s = 0; s < route.rate_counter_sources.size(); ++s) {
    const int src = route.rate_counter_sources[s];
    if (src >= 0) w.tls.rate_counters[s] = used[src];
  }
  w.decided = exceeded;
  return exceeded;
}

void Pipeline::Detect(Work& w) {
  if (w.skip_checks) return;
  const CompiledRoute& route = *w.route;
  const int i = std::clamp(static_cast<int>(route.sensitivity) - 1, 0, 3);
  detect::HttpRequest limited = w.request;
  if (limited.body.size() > route.max_body_bytes) {
    limited.body = limited.body.substr(0, route.max_body_bytes);
  }
  detect::Scratch& scratch = ScratchFor(*inspectors_[i], inspector_ids_[i]);
  // Clean header values are remembered per tenant (detect::Scratch::SetCachePartition).
  scratch.SetCachePartition(w.tenant != nullptr ? absl::HashOf(w.tenant->tenant_id) : 0);
  w.verdict = inspectors_[i]->Inspect(limited, scratch, route.exclusions);
  // Exclusions that dropped findings are named, like rule tags, in the decision and its event
  // (the first kMaxExclusionTags of them).
  const std::size_t named = std::min(w.verdict.excluded_by.size(), kMaxExclusionTags);
  for (std::size_t k = 0; k < named; ++k) {
    w.d.tags.push_back(absl::StrCat("exclusion:", w.verdict.excluded_by[k]));
  }
  w.d.score = w.verdict.score;
  w.input.waf_score = w.verdict.score;
  w.input.waf_categories = w.verdict.categories;
  for (int c = 0; c < detect::kCategoryCount; ++c) {
    if ((w.verdict.categories >> c) & 1u) {
      w.d.categories.push_back(detect::CategoryName(static_cast<detect::Category>(c)));
    }
  }
  const std::size_t n = std::min(w.verdict.findings.size(), kMaxDecisionFindings);
  w.d.findings.assign(w.verdict.findings.begin(), w.verdict.findings.begin() + n);
}

void Pipeline::ReadRisk(Work& w) {
  const v1::ContAuthPolicy& ca = w.route->contauth;
  if (ca.mode() != v1::CONT_AUTH_MODE_CACHED && ca.mode() != v1::CONT_AUTH_MODE_SYNCHRONOUS) {
    return;
  }
  std::string_view session = w.ctx.session_id;
  if (session.empty() && !w.site->session_cookie.empty()) {
    session = w.tls.view.Cookie(w.site->session_cookie);
  }
  if (session.empty() && !w.site->session_header.empty()) {
    session = w.tls.view.Header(w.site->session_header);
  }
  if (session.empty() || risk_ == nullptr) return;
  absl::StatusOr<std::optional<double>> risk = risk_->Risk(w.tenant->tenant_id, session);
  if (!risk.ok()) {
    w.d.tags.push_back("contauth_unavailable");
    if (ca.failure_mode() == v1::FAILURE_MODE_FAIL_CLOSED) {
      w.d.auth_risk = 1.0;  // treated as the worst risk: thresholds challenge or block
      w.input.auth_risk = 1.0;
    }
    return;
  }
  if (risk->has_value()) {
    w.d.auth_risk = **risk;
    w.input.auth_risk = **risk;
  }
}

void Pipeline::EvaluatePolicy(Work& w) {
  const CompiledRoute& route = *w.route;
  w.input.rate_counters = w.tls.rate_counters;
  if (route.rule_set != nullptr) {
    w.rule_set = route.rule_set.get();
    const policy::CompiledPolicy& policy = *w.rule_set->policy;
    policy.Evaluate(w.input, &w.result);
    w.d.rule_set_id = w.rule_set->rule_set_id;
    w.d.rule_set_version = w.rule_set->version;
    for (std::size_t t = 0; t < policy.tag_names().size(); ++t) {
      if ((w.result.tags >> t) & 1u) w.d.tags.push_back(policy.tag_names()[t]);
    }
    w.rule_decided = w.result.matched_rule >= 0;
  }
  // Detection decides when no rule did.
  if (!w.rule_decided && !w.skip_checks && w.verdict.action != detect::Action::kAllow) {
    if (w.verdict.action == detect::Action::kBlock) {
      SetAction(w, Action::kBlock, 403, "waf", w.verdict.explanation);
    } else {
      SetAction(w, Action::kChallenge, options_.challenge_status, "waf", w.verdict.explanation);
    }
  } else if (w.rule_set != nullptr) {
    const policy::PolicyResult& r = w.result;
    const Action a = FromPolicy(r.action);
    const int status = a == Action::kBlock       ? (r.status > 0 ? r.status : 403)
                       : a == Action::kChallenge ? options_.challenge_status
                                                 : 200;
    SetAction(w, a, status, r.matched_rule_name,
              w.rule_decided
                  ? absl::StrCat("rule \"", std::string(r.matched_rule_name), "\" of ",
                                 w.rule_set->rule_set_id, " decided ", ActionName(a))
                  : absl::StrCat("no rule matched: default action of ", w.rule_set->rule_set_id));
    if (a == Action::kTarpit) w.d.tarpit_ms = static_cast<int>(r.tarpit_ms);
    if (a == Action::kDivert && r.divert_pool >= 0 &&
        r.divert_pool < static_cast<int>(w.rule_set->divert_pools.size())) {
      w.divert_pool = w.rule_set->divert_pools[r.divert_pool];
    }
  } else {
    SetAction(w, Action::kAllow, 200, "", "no attack found and no rule set on the route");
  }
  if (w.verdict.action == detect::Action::kAllow && w.d.score > 0 && w.d.action == Action::kAllow) {
    w.d.tags.push_back("waf_findings");
  }

  // Policy rate limits: counted for every request the rule set applies them to.
  if (w.rule_set != nullptr && w.result.rate_limits != 0 && rate_limiter_ != nullptr &&
      !w.ctx.dry_run && !w.skip_checks) {
    const policy::CompiledPolicy& policy = *w.rule_set->policy;
    for (std::size_t i = 0; i < policy.rate_limits().size(); ++i) {
      if (((w.result.rate_limits >> i) & 1u) == 0) continue;
      const policy::RateLimitSpec& spec = policy.rate_limits()[i];
      std::string& key = w.tls.key;
      key.clear();
      absl::StrAppend(&key, w.tenant->tenant_id, ":rs:", w.rule_set->rule_set_id, ":",
                      spec.rule_name, ":");
      AppendKey(policy.RateLimitKeyFor(static_cast<int>(i), w.input), &key);
      RateSpec rs;
      rs.limit = spec.limit;
      rs.window_ms = spec.window_ms;
      rs.burst = spec.burst;
      rs.fail_closed = w.tenant->settings.rate_limit_failure_mode() == v1::FAILURE_MODE_FAIL_CLOSED;
      RateResult r = CheckRate(w, key, rs, RateSource::kPolicy);
      if (!r.allowed && Forwards(w.d.action)) {
        SetAction(w, Action::kRateLimit, 429, spec.rule_name,
                  absl::StrCat("rate limit of rule \"", spec.rule_name, "\" exceeded (", spec.limit,
                               " per ", spec.window_ms, " ms)"));
        w.d.retry_after_s = static_cast<int>(std::max<int64_t>(1, (r.retry_after_ms + 999) / 1000));
        w.d.tarpit_ms = 0;
        w.divert_pool = nullptr;
        break;
      }
    }
  }

  // Shadow comparison: the shadow version decides the same input; differences are recorded.
  if (route.shadow != nullptr && !w.ctx.dry_run &&
      UnitRandom(&w.tls.rng) < route.shadow_sample_rate) {
    policy::PolicyResult sr;
    route.shadow->policy->Evaluate(w.input, &sr);
    const Action sa = FromPolicy(sr.action);
    if (w.rule_set == nullptr || sa != FromPolicy(w.result.action) ||
        sr.matched_rule != w.result.matched_rule) {
      w.shadow_action = ActionName(sa);
      w.d.tags.push_back("shadow_diff");
    }
  }
}

void Pipeline::ApplyRisk(Work& w) {
  if (w.d.auth_risk < 0 || !Forwards(w.d.action)) return;
  const v1::ContAuthPolicy& ca = w.route->contauth;
  if (ca.block_threshold() > 0 && w.d.auth_risk >= ca.block_threshold()) {
    SetAction(
        w, Action::kBlock, 403, "contauth",
        absl::StrCat("session risk ", w.d.auth_risk, " >= block threshold ", ca.block_threshold()));
  } else if (ca.challenge_threshold() > 0 && w.d.auth_risk >= ca.challenge_threshold()) {
    SetAction(w, Action::kChallenge, options_.challenge_status, "contauth",
              absl::StrCat("session risk ", w.d.auth_risk, " >= challenge threshold ",
                           ca.challenge_threshold()));
  } else {
    return;
  }
  w.d.tarpit_ms = 0;
  w.divert_pool = nullptr;
}

void Pipeline::ApplyCredits(Work& w) {
  const CompiledRoute& route = *w.route;
  if (route.credit_cost <= 0) return;
  if (!w.ctx.dry_run && route.usage != nullptr) {
    route.usage->requests.fetch_add(1, std::memory_order_relaxed);
    route.usage->credits.fetch_add(route.credit_cost, std::memory_order_relaxed);
  }
  if (!w.tenant->credits->exhausted.load(std::memory_order_relaxed)) return;
  if (w.tenant->settings.out_of_credits() == v1::OUT_OF_CREDITS_BEHAVIOUR_BLOCK) {
    if (w.d.action != Action::kBlock) {
      SetAction(w, Action::kBlock, 402, "credits", "the tenant's credits are exhausted");
      w.d.tarpit_ms = 0;
      w.divert_pool = nullptr;
    }
  }
  w.d.tags.push_back("credits_exhausted");
}

void Pipeline::Route(Work& w) {
  if (!Forwards(w.d.action) && !w.d.monitor_only) return;
  const CompiledPool* pool =
      w.d.action == Action::kDivert && w.divert_pool != nullptr && !w.d.monitor_only
          ? w.divert_pool.get()
          : w.route->pool.get();
  if (pool == nullptr) return;  // the proxy's own backend
  uint64_t hash = NextRandom(&w.tls.rng);
  const uint64_t random = NextRandom(&w.tls.rng);
  if (pool->algorithm() == v1::BALANCING_ALGORITHM_CONSISTENT_HASH) {
    // The pool's key expression (default: the client address); an absent key hashes randomly.
    std::string& key = w.tls.key;
    key.clear();
    if (pool->hash_key() != nullptr) {
      AppendKey(pool->hash_key()->RateLimitKeyFor(0, w.input), &key);
    } else {
      key.append(w.request.client_ip.data(), w.request.client_ip.size());
    }
    if (!key.empty()) hash = StableHash64(key);
  }
  const Pick pick = pool->Choose(hash, random, clock_->MonotonicNanos());
  if (pick.member < 0) {
    if (Forwards(w.d.action)) {
      SetAction(w, Action::kBlock, 503, "routing",
                absl::StrCat("pool ", pool->name(), " has no member to send to"));
    }
    return;
  }
  const CompiledMember& m = pool->members()[pick.member];
  w.d.upstream = m.address;
  w.d.member_id = m.member_id;
  w.d.pool = pool->pool_id();
  if (pick.panic) w.d.tags.push_back("pool_panic");
}

void Pipeline::Finish(Work& w) {
  Decision& d = w.d;
  if (d.action == Action::kBlock && d.status < 400) d.status = 403;
  if (d.action == Action::kRateLimit) d.status = 429;
  if (d.action == Action::kChallenge && d.status < 400) d.status = options_.challenge_status;
  if (Forwards(d.action) && !d.monitor_only) d.status = 200;
  const int64_t end_ns = clock_->MonotonicNanos();
  d.latency_ns = end_ns - w.start_ns;

  if (metrics_ != nullptr) {
    metrics_->Request(w.ctx.front_end, static_cast<double>(d.latency_ns) / 1e9);
    if (w.tenant != nullptr) {
      const int label = ActionLabelOf(d);
      metrics_->Decided(*w.tenant->stats, label);
      for (int c = 0; c < detect::kCategoryCount; ++c) {
        if ((w.verdict.categories >> c) & 1u) {
          metrics_->Attack(*w.tenant->stats, static_cast<detect::Category>(c), label);
        }
      }
    }
  }

  if (events_ == nullptr || w.ctx.dry_run) return;
  const bool interesting = d.action != Action::kAllow || !d.tags.empty() || d.score > 0;
  if (!interesting && UnitRandom(&w.tls.rng) >= options_.allow_event_sample_rate) return;
  auto e = std::make_unique<DecisionEvent>();
  e->decided_at_us = absl::ToUnixMicros(clock_->Now());
  e->tenant_id = d.tenant_id;
  e->site_id = d.site_id;
  e->route_id = d.route_id;
  e->request_id = d.request_id;
  if (d.monitor_only) {
    e->action = "allow";
    e->monitored_action = ActionName(d.action);
  } else {
    e->action = ActionName(d.action);
  }
  e->status = d.status;
  e->score = d.score;
  e->rule_id = d.rule_id;
  e->rule_set_id = d.rule_set_id;
  e->rule_set_version = d.rule_set_version;
  e->config_version = static_cast<int64_t>(d.config_version);
  e->categories = d.categories;
  e->tags = d.tags;
  if (!w.shadow_action.empty()) e->tags.push_back(absl::StrCat("shadow:", w.shadow_action));
  for (const detect::Finding& f : d.findings) {
    EventFinding ef;
    ef.category = detect::CategoryName(f.category);
    ef.rule = f.rule;
    ef.location = absl::StrCat(detect::SourceName(f.source), ":", f.field);
    ef.excerpt = MaskSecrets(f.excerpt);
    ef.confidence = f.confidence;
    e->findings.push_back(std::move(ef));
  }
  const RequestView& v = w.tls.view;
  e->method = std::string(w.request.method.substr(0, 32));
  e->host = std::string(v.host().substr(0, 253));
  e->path = std::string(v.raw_path().substr(0, kMaxEventPathBytes));
  e->client_ip = std::string(w.request.client_ip.substr(0, 64));
  e->user_agent = std::string(v.user_agent().substr(0, kMaxEventUserAgentBytes));
  e->front_end = FrontEndName(w.ctx.front_end);
  e->upstream = d.upstream;
  e->pool = d.pool;
  e->latency_us = d.latency_ns / 1000;
  e->auth_risk = d.auth_risk;
  e->explanation = d.explanation;
  const bool blocking = d.action == Action::kBlock || d.action == Action::kChallenge;
  if (blocking && w.tenant != nullptr &&
      UnitRandom(&w.tls.rng) < w.tenant->settings.evidence_sample_rate()) {
    e->evidence = true;
    for (const policy::KeyValue& kv : v.args()) {
      if (e->arg_names.size() >= kMaxEvidenceNames) break;
      e->arg_names.emplace_back(kv.name.substr(0, 64));
    }
    for (const policy::KeyValue& kv : v.headers()) {
      if (e->header_names.size() >= kMaxEvidenceNames) break;
      e->header_names.emplace_back(kv.name.substr(0, 64));
    }
    for (const policy::KeyValue& kv : v.cookies()) {
      if (e->cookie_names.size() >= kMaxEvidenceNames) break;
      e->cookie_names.emplace_back(kv.name.substr(0, 64));
    }
  }
  events_->Publish(std::move(e));
}

void Pipeline::ReportOutcome(const UpstreamOutcome& outcome) {
  std::shared_ptr<const Snapshot> snap = snapshot_.load(std::memory_order_acquire);
  if (snap == nullptr) return;
  const CompiledTenant* tenant = snap->FindTenant(outcome.tenant_id);
  if (tenant == nullptr) return;
  const CompiledPool* pool = tenant->FindPool(outcome.pool);
  if (pool == nullptr) return;
  const int member = pool->FindMember(outcome.member_id);
  const bool failed = outcome.connect_failed || outcome.status >= 500 || outcome.status == 0;
  pool->Report(member, failed, outcome.latency_us, clock_->MonotonicNanos());
}

}  // namespace shieldx::pipeline
