#include "libs/pipeline/snapshot.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/detect/finding.h"
#include "libs/detect/limits.h"
#include "libs/pipeline/request_view.h"

namespace shieldx::pipeline {

namespace {

absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }

std::string Lower(std::string_view s) {
  std::string out(s);
  absl::AsciiStrToLower(&out);
  return out;
}

bool HostMatches(const std::string& pattern, std::string_view host) {
  if (absl::StartsWith(pattern, "*.")) {
    const std::string_view parent = std::string_view(pattern).substr(1);  // ".example.com"
    return host.size() > parent.size() && absl::EndsWith(AV(host), AV(parent));
  }
  return pattern == host;
}

// The IP lists of a tenant as policy `$name` lists (entries not yet expired).
std::map<std::string, std::vector<std::string>> PolicyLists(const TenantConfig& config,
                                                            int64_t now_unix_s) {
  std::map<std::string, std::vector<std::string>> lists;
  for (const v1::IpList& list : config.ip_lists) {
    std::vector<std::string>& entries = lists[list.name()];
    for (const v1::IpListEntry& e : list.entries()) {
      if (e.has_expires_at() && e.expires_at().seconds() <= now_unix_s) continue;
      entries.push_back(e.cidr());
    }
  }
  return lists;
}

std::vector<std::string> PoolNames(const TenantConfig& config) {
  std::vector<std::string> names;
  for (const v1::Pool& p : config.pools) names.push_back(p.name());
  return names;
}

absl::Status Invalid(std::string_view object, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(AV(object), ": ", AV(what)));
}

absl::StatusOr<std::shared_ptr<const CompiledRuleSet>> CompileRuleSet(
    const TenantConfig& config, const RuleSetRecord& record, int64_t version,
    const std::map<std::string, std::shared_ptr<const CompiledPool>, std::less<>>& pools_by_name,
    int64_t now_unix_s) {
  const v1::RuleSetVersion* v = record.FindVersion(version);
  if (v == nullptr) {
    return Invalid(absl::StrCat("rule set ", record.rule_set.rule_set_id()),
                   absl::StrCat("version ", version, " is not loaded"));
  }
  auto policy = CompileRuleSetVersion(config, *v, now_unix_s);
  if (!policy.ok()) return policy.status();
  auto rs = std::make_shared<CompiledRuleSet>();
  rs->rule_set_id = record.rule_set.rule_set_id();
  rs->version = version;
  rs->policy = *policy;
  for (const std::string& name : rs->policy->divert_pools()) {
    auto it = pools_by_name.find(name);
    if (it == pools_by_name.end()) {
      return Invalid(absl::StrCat("rule set ", rs->rule_set_id, " version ", version),
                     absl::StrCat("divert(\"", name, "\") names no pool of the tenant"));
    }
    rs->divert_pools.push_back(it->second);
  }
  return std::shared_ptr<const CompiledRuleSet>(std::move(rs));
}

}  // namespace

detect::Sensitivity ToDetectSensitivity(v1::Sensitivity s) {
  switch (s) {
    case v1::SENSITIVITY_LOW:
      return detect::Sensitivity::kLow;
    case v1::SENSITIVITY_HIGH:
      return detect::Sensitivity::kHigh;
    case v1::SENSITIVITY_MAXIMUM:
      return detect::Sensitivity::kParanoid;
    default:
      return detect::Sensitivity::kMedium;
  }
}

const std::vector<std::string>& WafCategoryNames() {
  static const std::vector<std::string>* names = [] {
    auto* v = new std::vector<std::string>();
    for (int i = 0; i < detect::kCategoryCount; ++i) {
      v->push_back(detect::CategoryName(static_cast<detect::Category>(i)));
    }
    return v;
  }();
  return *names;
}

absl::StatusOr<std::shared_ptr<const policy::CompiledPolicy>> CompileRuleSetVersion(
    const TenantConfig& config, const v1::RuleSetVersion& version, int64_t now_unix_s) {
  policy::CompileOptions options;
  options.name = absl::StrCat(version.rule_set_id(), "@v", version.version());
  options.lists = PolicyLists(config, now_unix_s);
  options.pools = PoolNames(config);
  options.waf_categories = WafCategoryNames();
  return policy::CompiledPolicy::Compile(version.source(), options);
}

bool CompiledRoute::Matches(std::string_view host, std::string_view method,
                            std::string_view path) const {
  if (!hosts.empty()) {
    bool any = false;
    for (const std::string& h : hosts) {
      if (HostMatches(h, host)) {
        any = true;
        break;
      }
    }
    if (!any) return false;
  }
  if (!methods.empty()) {
    bool any = false;
    for (const std::string& m : methods) {
      if (m.size() == method.size() &&
          absl::EqualsIgnoreCase(m, absl::string_view(method.data(), method.size()))) {
        any = true;
        break;
      }
    }
    if (!any) return false;
  }
  if (path_regex != nullptr) {
    return RE2::FullMatch(re2::StringPiece(path.data(), path.size()), *path_regex);
  }
  if (path_prefix.empty() || path_prefix == "/") return true;
  if (!absl::StartsWith(AV(path), path_prefix)) return false;
  // "/api" matches "/api" and "/api/x", not "/apix"; a prefix ending in '/' matches as is.
  return path.size() == path_prefix.size() || path_prefix.back() == '/' ||
         path[path_prefix.size()] == '/';
}

const CompiledRoute& CompiledSite::Match(std::string_view host, std::string_view method,
                                         std::string_view path) const {
  for (const auto& r : routes) {
    if (r->Matches(host, method, path)) return *r;
  }
  return *default_route;
}

const CompiledSite* CompiledTenant::FindSite(std::string_view site_id) const {
  for (const auto& s : sites) {
    if (s->site_id == site_id) return s.get();
  }
  return nullptr;
}

const CompiledPool* CompiledTenant::FindPool(std::string_view pool_id) const {
  auto it = pools.find(pool_id);
  return it == pools.end() ? nullptr : it->second.get();
}

absl::StatusOr<std::shared_ptr<const CompiledTenant>> CompileTenant(const TenantConfig& config,
                                                                    const CompileContext& ctx) {
  auto t = std::make_shared<CompiledTenant>();
  t->tenant_id = config.tenant_id;
  t->version = config.version;
  t->settings = config.settings;
  t->credits = ctx.usage != nullptr ? ctx.usage->Tenant(config.tenant_id)
                                    : std::make_shared<TenantCredits>();
  if (ctx.metrics != nullptr) {
    t->stats = ctx.metrics->Tenant(config.tenant_id);
  } else {
    t->stats = std::make_shared<TenantStats>();
    t->stats->tenant_id = config.tenant_id;
  }

  // Pools.
  std::map<std::string, std::shared_ptr<const CompiledPool>, std::less<>> pools_by_name;
  for (const v1::Pool& p : config.pools) {
    auto cp = CompiledPool::Build(config.tenant_id, p, *ctx.members);
    if (!cp.ok()) return cp.status();
    t->pools[p.pool_id()] = *cp;
    pools_by_name[p.name()] = *cp;
  }

  // Step 3 lists.
  for (const v1::IpList& list : config.ip_lists) {
    if (list.purpose() != v1::IP_LIST_PURPOSE_ALLOW && list.purpose() != v1::IP_LIST_PURPOSE_DENY) {
      continue;
    }
    CompiledTenant::List l;
    l.name = list.name();
    for (const v1::IpListEntry& e : list.entries()) {
      if (e.has_expires_at()) {
        if (e.expires_at().seconds() <= ctx.now_unix_s) continue;
        if (t->next_expiry_unix_s == 0 || e.expires_at().seconds() < t->next_expiry_unix_s) {
          t->next_expiry_unix_s = e.expires_at().seconds();
        }
      }
      std::string error;
      std::optional<policy::Cidr> cidr = policy::Cidr::Parse(e.cidr(), &error);
      if (!cidr.has_value()) {
        return Invalid(absl::StrCat("ip list ", list.name()),
                       absl::StrCat("entries: \"", e.cidr(), "\": ", error));
      }
      l.set.Add(*cidr);
    }
    l.set.Build();
    (list.purpose() == v1::IP_LIST_PURPOSE_ALLOW ? t->allow_lists : t->deny_lists)
        .push_back(std::move(l));
  }

  // Rule sets: the active and shadow versions.
  std::map<std::string, std::shared_ptr<const CompiledRuleSet>> active, shadow;
  std::map<std::string, double> shadow_rates;
  for (const RuleSetRecord& rs : config.rule_sets) {
    const std::string& id = rs.rule_set.rule_set_id();
    if (rs.rule_set.active_version() > 0) {
      auto c =
          CompileRuleSet(config, rs, rs.rule_set.active_version(), pools_by_name, ctx.now_unix_s);
      if (!c.ok()) return c.status();
      active[id] = *c;
    }
    if (rs.rule_set.shadow_version() > 0) {
      auto c =
          CompileRuleSet(config, rs, rs.rule_set.shadow_version(), pools_by_name, ctx.now_unix_s);
      if (!c.ok()) return c.status();
      shadow[id] = *c;
      shadow_rates[id] = rs.shadow_sample_rate;
    }
  }

  // Sites and routes.
  for (const v1::Site& site : config.sites) {
    auto cs = std::make_unique<CompiledSite>();
    cs->site_id = site.site_id();
    cs->name = site.name();
    cs->session_cookie = site.session_cookie_name();
    cs->session_header = Lower(site.session_header_name());
    std::shared_ptr<const CompiledPool> default_pool;
    if (!site.default_pool_id().empty()) {
      auto it = t->pools.find(site.default_pool_id());
      if (it == t->pools.end()) {
        return Invalid(absl::StrCat("site ", site.name()),
                       absl::StrCat("default_pool_id: no pool ", site.default_pool_id()));
      }
      default_pool = it->second;
    }
    cs->default_route = std::make_unique<CompiledRoute>();
    cs->default_route->pool = default_pool;
    for (const v1::Route& r : config.routes) {
      if (r.site_id() != site.site_id()) continue;
      const std::string object = absl::StrCat("route ", r.name());
      auto cr = std::make_unique<CompiledRoute>();
      cr->route_id = r.route_id();
      cr->name = r.name();
      cr->priority = r.priority();
      for (const std::string& h : r.match().hosts()) cr->hosts.push_back(Lower(h));
      for (const std::string& m : r.match().methods()) {
        cr->methods.push_back(absl::AsciiStrToUpper(m));
      }
      if (r.match().path_case() == v1::RouteMatch::kPathRegex) {
        RE2::Options opts;
        opts.set_log_errors(false);
        opts.set_max_mem(1 << 20);
        cr->path_regex = std::make_unique<RE2>(r.match().path_regex(), opts);
        if (!cr->path_regex->ok()) {
          return Invalid(object, absl::StrCat("match.path_regex: ", cr->path_regex->error()));
        }
      } else if (!r.match().path_prefix().empty()) {
        NormalizePath(r.match().path_prefix(), &cr->path_prefix);
        if (absl::EndsWith(r.match().path_prefix(), "/") && !absl::EndsWith(cr->path_prefix, "/")) {
          cr->path_prefix.push_back('/');
        }
      }
      if (!r.pool_id().empty()) {
        auto it = t->pools.find(r.pool_id());
        if (it == t->pools.end())
          return Invalid(object, absl::StrCat("pool_id: no pool ", r.pool_id()));
        cr->pool = it->second;
      } else {
        cr->pool = default_pool;
      }
      cr->sensitivity = ToDetectSensitivity(r.sensitivity());
      if (!r.rule_set_id().empty()) {
        if (config.FindRuleSet(r.rule_set_id()) == nullptr) {
          return Invalid(object, absl::StrCat("rule_set_id: no rule set ", r.rule_set_id()));
        }
        auto a = active.find(r.rule_set_id());
        if (a != active.end()) cr->rule_set = a->second;
        auto s = shadow.find(r.rule_set_id());
        if (s != shadow.end()) {
          cr->shadow = s->second;
          cr->shadow_sample_rate = shadow_rates[r.rule_set_id()];
        }
      }
      cr->monitor = r.mode() == v1::ROUTE_MODE_MONITOR;
      cr->credit_cost = r.credit_cost_credits();
      if (cr->credit_cost > 0 && ctx.usage != nullptr) {
        cr->usage = ctx.usage->Counter(config.tenant_id, r.route_id());
      }
      if (r.max_inspected_body_bytes() > 0) cr->max_body_bytes = r.max_inspected_body_bytes();
      cr->contauth = r.contauth();
      auto exclusions = CompileDetectionExclusions(r.detection_exclusions());
      if (!exclusions.ok()) return Invalid(object, std::string(exclusions.status().message()));
      cr->exclusions = std::move(*exclusions);
      // Rate limits: the key expressions compile as one policy of key-only rules.
      std::string key_source;
      for (int i = 0; i < r.rate_limits_size(); ++i) {
        const v1::RateLimit& rl = r.rate_limits(i);
        CompiledRateLimit c;
        c.name = rl.name();
        c.spec.limit = rl.requests_per_window();
        c.spec.window_ms = rl.window_ms();
        c.spec.burst = rl.burst();
        c.spec.fail_closed =
            config.settings.rate_limit_failure_mode() == v1::FAILURE_MODE_FAIL_CLOSED;
        c.action = rl.action() == shieldx::common::v1::ACTION_UNSPECIFIED
                       ? shieldx::common::v1::ACTION_RATE_LIMIT
                       : rl.action();
        cr->rate_limits.push_back(std::move(c));
        absl::StrAppend(&key_source, "rule \"k", i, "\" { when true then rate_limit(",
                        rl.key_expression().empty() ? "ip.src" : rl.key_expression(),
                        ", 1 per 1s) }\n");
      }
      if (!key_source.empty()) {
        policy::CompileOptions ko;
        ko.name = absl::StrCat(object, " rate_limits");
        ko.lists = PolicyLists(config, ctx.now_unix_s);
        ko.waf_categories = WafCategoryNames();
        auto keys = policy::CompiledPolicy::Compile(key_source, ko);
        if (!keys.ok()) {
          return Invalid(object,
                         absl::StrCat("rate_limits.key_expression: ", keys.status().message()));
        }
        if ((*keys)->rate_limits().size() != cr->rate_limits.size() ||
            (*keys)->rules().size() != cr->rate_limits.size()) {
          return Invalid(object, "rate_limits.key_expression: must be one expression");
        }
        cr->rate_keys = *keys;
      }
      if (cr->rule_set != nullptr) {
        for (const std::string& counter : cr->rule_set->policy->rate_counter_names()) {
          int source = -1;
          for (std::size_t i = 0; i < cr->rate_limits.size(); ++i) {
            if (cr->rate_limits[i].name == counter) source = static_cast<int>(i);
          }
          cr->rate_counter_sources.push_back(source);
        }
      }
      cs->routes.push_back(std::move(cr));
    }
    std::stable_sort(cs->routes.begin(), cs->routes.end(), [](const auto& a, const auto& b) {
      if (a->priority != b->priority) return a->priority > b->priority;
      const bool ar = a->path_regex != nullptr, br = b->path_regex != nullptr;
      if (ar != br) return ar;  // regex routes are the specific ones
      if (a->path_prefix.size() != b->path_prefix.size()) {
        return a->path_prefix.size() > b->path_prefix.size();
      }
      return a->name < b->name;
    });
    for (const std::string& h : site.hostnames()) {
      std::string host;
      if (absl::StartsWith(h, "*.")) {
        NormalizeHost(h.substr(2), &host);
        host = absl::StrCat("*.", host);
      } else {
        NormalizeHost(h, &host);
      }
      t->hostnames.emplace_back(std::move(host), cs.get());
    }
    t->sites.push_back(std::move(cs));
  }
  return std::shared_ptr<const CompiledTenant>(std::move(t));
}

std::shared_ptr<const Snapshot> Snapshot::Assemble(
    int64_t version,
    std::map<std::string, std::shared_ptr<const CompiledTenant>, std::less<>> tenants,
    std::vector<std::string>* conflicts) {
  auto s = std::shared_ptr<Snapshot>(new Snapshot());
  s->version_ = version;
  s->tenants_ = std::move(tenants);
  for (const auto& [id, tenant] : s->tenants_) {
    for (const auto& [host, site] : tenant->hostnames) {
      SiteRef ref{tenant.get(), site};
      const bool wildcard = absl::StartsWith(host, "*.");
      auto& table = wildcard ? s->wildcard_ : s->exact_;
      const std::string key = wildcard ? host.substr(2) : host;
      auto [it, inserted] = table.emplace(key, ref);
      if (!inserted && it->second.tenant != tenant.get() && conflicts != nullptr) {
        conflicts->push_back(absl::StrCat("hostname ", host, " of tenant ", id,
                                          " is already served by tenant ",
                                          it->second.tenant->tenant_id));
      }
    }
  }
  return s;
}

const CompiledTenant* Snapshot::FindTenant(std::string_view tenant_id) const {
  auto it = tenants_.find(tenant_id);
  return it == tenants_.end() ? nullptr : it->second.get();
}

Snapshot::SiteRef Snapshot::ResolveHost(std::string_view host) const {
  auto it = exact_.find(absl::string_view(host.data(), host.size()));
  if (it != exact_.end()) return it->second;
  // "a.b.example.com" tries "b.example.com", then "example.com", ...
  std::size_t dot = host.find('.');
  while (dot != std::string_view::npos) {
    const std::string_view parent = host.substr(dot + 1);
    auto w = wildcard_.find(absl::string_view(parent.data(), parent.size()));
    if (w != wildcard_.end()) return w->second;
    dot = host.find('.', dot + 1);
  }
  return SiteRef{};
}

absl::StatusOr<std::vector<detect::Exclusion>> CompileDetectionExclusions(
    const google::protobuf::RepeatedPtrField<v1::DetectionExclusion>& list) {
  if (static_cast<std::size_t>(list.size()) > detect::limits::kMaxExclusions) {
    return absl::InvalidArgumentError(absl::StrCat("detection_exclusions: ", list.size(),
                                                   " given (at most ",
                                                   detect::limits::kMaxExclusions, ")"));
  }
  auto strings = [](const google::protobuf::RepeatedPtrField<std::string>& r) {
    return std::vector<std::string>(r.begin(), r.end());
  };
  std::vector<detect::Exclusion> out;
  out.reserve(list.size());
  for (int i = 0; i < list.size(); ++i) {
    const v1::DetectionExclusion& e = list[i];
    auto ex = detect::MakeExclusion(e.id(), "", strings(e.fields()), strings(e.categories()),
                                    strings(e.rules()));
    if (!ex.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("detection_exclusions[", i, "]: ", ex.status().message()));
    }
    for (const detect::Exclusion& other : out) {
      if (other.id == ex->id) {
        return absl::InvalidArgumentError(
            absl::StrCat("detection_exclusions[", i, "]: id: \"", ex->id, "\" is used twice"));
      }
    }
    out.push_back(std::move(*ex));
  }
  return out;
}

}  // namespace shieldx::pipeline
