#include "services/orchestrator/config_validate.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/base/status_macros.h"
#include "libs/pipeline/snapshot.h"
#include "libs/policy/ip.h"
#include "re2/re2.h"

namespace shieldx::orchestrator {

namespace {

absl::Status Bad(const std::string& object, const std::string& field, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(object, ": ", field, ": ", what));
}

absl::Status CheckName(const std::string& object, const std::string& name) {
  if (name.empty()) return Bad(object, "name", "is required");
  if (name.size() > kMaxNameBytes) {
    return Bad(object, "name",
               absl::StrCat("is ", name.size(), " bytes (at most ", kMaxNameBytes, ")"));
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) return Bad(object, "name", "contains a control character");
  }
  return absl::OkStatus();
}

bool Token(const std::string& s) {
  if (s.empty() || s.size() > kMaxNameBytes) return false;
  for (unsigned char c : s) {
    if (!absl::ascii_isalnum(c) &&
        std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string::npos) {
      return false;
    }
  }
  return true;
}

std::string Quoted(const std::string& s) { return absl::StrCat("\"", s.substr(0, 64), "\""); }

bool ValidAddress(const std::string& address) {
  const std::size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  int port = 0;
  if (!absl::SimpleAtoi(address.substr(colon + 1), &port) || port < 1 || port > 65535) return false;
  std::string host = address.substr(0, colon);
  if (host.front() == '[' && host.back() == ']') {
    return policy::IpAddress::Parse(host.substr(1, host.size() - 2)).has_value();
  }
  return policy::IpAddress::Parse(host).has_value() || ValidHostname(host, false);
}

}  // namespace

bool ValidHostname(const std::string& host, bool allow_wildcard) {
  std::string h = host;
  if (allow_wildcard && absl::StartsWith(h, "*.")) h = h.substr(2);
  if (h.empty() || h.size() > kMaxHostnameBytes) return false;
  std::size_t label = 0;
  for (std::size_t i = 0; i < h.size(); ++i) {
    const unsigned char c = h[i];
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_') return false;
    if (++label > 63) return false;
  }
  return label > 0;
}

absl::Status ValidateSite(const v1::Site& site) {
  const std::string object = absl::StrCat("site ", Quoted(site.name()));
  SHIELDX_RETURN_IF_ERROR(CheckName(object, site.name()));
  if (site.hostnames().empty()) return Bad(object, "hostnames", "at least one is required");
  if (static_cast<std::size_t>(site.hostnames_size()) > pipeline::kMaxHostnamesPerSite) {
    return Bad(object, "hostnames",
               absl::StrCat(site.hostnames_size(), " given (at most ",
                            pipeline::kMaxHostnamesPerSite, ")"));
  }
  std::set<std::string> seen;
  for (int i = 0; i < site.hostnames_size(); ++i) {
    const std::string h = absl::AsciiStrToLower(site.hostnames(i));
    const std::string field = absl::StrCat("hostnames[", i, "]");
    if (!ValidHostname(h, true))
      return Bad(object, field, absl::StrCat(Quoted(h), " is not a hostname"));
    if (!seen.insert(h).second)
      return Bad(object, field, absl::StrCat(Quoted(h), " is listed twice"));
  }
  if (!site.session_cookie_name().empty() && !Token(site.session_cookie_name())) {
    return Bad(object, "session_cookie_name", "must be a cookie-name token");
  }
  if (!site.session_header_name().empty() && !Token(site.session_header_name())) {
    return Bad(object, "session_header_name", "must be a header-name token");
  }
  return absl::OkStatus();
}

absl::Status ValidateRoute(const v1::Route& route) {
  const std::string object = absl::StrCat("route ", Quoted(route.name()));
  SHIELDX_RETURN_IF_ERROR(CheckName(object, route.name()));
  if (route.site_id().empty()) return Bad(object, "site_id", "is required");
  const v1::RouteMatch& m = route.match();
  for (int i = 0; i < m.hosts_size(); ++i) {
    if (!ValidHostname(absl::AsciiStrToLower(m.hosts(i)), true)) {
      return Bad(object, absl::StrCat("match.hosts[", i, "]"),
                 absl::StrCat(Quoted(m.hosts(i)), " is not a hostname"));
    }
  }
  if (m.path_case() == v1::RouteMatch::kPathPrefix && !absl::StartsWith(m.path_prefix(), "/")) {
    return Bad(object, "match.path_prefix", "must start with '/'");
  }
  if (m.path_case() == v1::RouteMatch::kPathRegex) {
    if (m.path_regex().empty() || m.path_regex().size() > kMaxRegexBytes) {
      return Bad(object, "match.path_regex",
                 absl::StrCat("must be 1 to ", kMaxRegexBytes, " bytes"));
    }
    RE2::Options opts;
    opts.set_log_errors(false);
    opts.set_max_mem(1 << 20);
    RE2 re(m.path_regex(), opts);
    if (!re.ok()) return Bad(object, "match.path_regex", re.error());
  }
  if (static_cast<std::size_t>(m.methods_size()) > kMaxMethodsPerRoute) {
    return Bad(object, "match.methods", absl::StrCat("at most ", kMaxMethodsPerRoute));
  }
  for (int i = 0; i < m.methods_size(); ++i) {
    if (!Token(m.methods(i))) {
      return Bad(object, absl::StrCat("match.methods[", i, "]"),
                 absl::StrCat(Quoted(m.methods(i)), " is not a method token"));
    }
  }
  if (!v1::Sensitivity_IsValid(route.sensitivity()))
    return Bad(object, "sensitivity", "unknown value");
  if (!v1::RouteMode_IsValid(route.mode())) return Bad(object, "mode", "unknown value");
  if (route.credit_cost_credits() < 0 || route.credit_cost_credits() > kMaxCreditCost) {
    return Bad(
        object, "credit_cost_credits",
        absl::StrCat(route.credit_cost_credits(), " is out of range [0, ", kMaxCreditCost, "]"));
  }
  if (static_cast<std::size_t>(route.rate_limits_size()) > pipeline::kMaxRateLimitsPerRoute) {
    return Bad(object, "rate_limits",
               absl::StrCat(route.rate_limits_size(), " given (at most ",
                            pipeline::kMaxRateLimitsPerRoute, ")"));
  }
  std::set<std::string> names;
  for (int i = 0; i < route.rate_limits_size(); ++i) {
    const v1::RateLimit& rl = route.rate_limits(i);
    const std::string f = absl::StrCat("rate_limits[", i, "]");
    if (rl.name().empty() || rl.name().size() > kMaxNameBytes) {
      return Bad(object, f + ".name", "is required (at most 128 bytes)");
    }
    if (!names.insert(rl.name()).second) {
      return Bad(object, f + ".name", absl::StrCat(Quoted(rl.name()), " is used twice"));
    }
    if (rl.requests_per_window() == 0)
      return Bad(object, f + ".requests_per_window", "must be > 0");
    if (rl.window_ms() < 1000 || rl.window_ms() > 86'400'000) {
      return Bad(object, f + ".window_ms",
                 absl::StrCat(rl.window_ms(), " is out of range [1000, 86400000]"));
    }
    if (rl.burst() > 1'000'000'000) return Bad(object, f + ".burst", "at most 1000000000");
    switch (rl.action()) {
      case common::v1::ACTION_UNSPECIFIED:
      case common::v1::ACTION_RATE_LIMIT:
      case common::v1::ACTION_BLOCK:
      case common::v1::ACTION_CHALLENGE:
      case common::v1::ACTION_LOG:
        break;
      default:
        return Bad(object, f + ".action", "must be RATE_LIMIT, BLOCK, CHALLENGE or LOG");
    }
    if (rl.key_expression().size() > 1024)
      return Bad(object, f + ".key_expression", "at most 1024 bytes");
  }
  const v1::ContAuthPolicy& ca = route.contauth();
  if (!v1::ContAuthMode_IsValid(ca.mode())) return Bad(object, "contauth.mode", "unknown value");
  if (ca.mode() == v1::CONT_AUTH_MODE_SYNCHRONOUS &&
      (ca.deadline_ms() < 1 || ca.deadline_ms() > 1000)) {
    return Bad(object, "contauth.deadline_ms",
               absl::StrCat(ca.deadline_ms(), " is out of range [1, 1000]"));
  }
  if (ca.challenge_threshold() < 0 || ca.challenge_threshold() > 1) {
    return Bad(object, "contauth.challenge_threshold", "must be in [0, 1]");
  }
  if (ca.block_threshold() < 0 || ca.block_threshold() > 1) {
    return Bad(object, "contauth.block_threshold", "must be in [0, 1]");
  }
  if (!v1::FailureMode_IsValid(ca.failure_mode())) {
    return Bad(object, "contauth.failure_mode", "unknown value");
  }
  if (route.max_inspected_body_bytes() > kMaxInspectedBodyBytes) {
    return Bad(object, "max_inspected_body_bytes",
               absl::StrCat(route.max_inspected_body_bytes(), " exceeds ", kMaxInspectedBodyBytes));
  }
  auto exclusions = pipeline::CompileDetectionExclusions(route.detection_exclusions());
  if (!exclusions.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(object, ": ", exclusions.status().message()));
  }
  return absl::OkStatus();
}

absl::Status ValidatePool(const v1::Pool& pool) {
  const std::string object = absl::StrCat("pool ", Quoted(pool.name()));
  SHIELDX_RETURN_IF_ERROR(CheckName(object, pool.name()));
  if (static_cast<std::size_t>(pool.members_size()) > pipeline::kMaxPoolMembers) {
    return Bad(
        object, "members",
        absl::StrCat(pool.members_size(), " given (at most ", pipeline::kMaxPoolMembers, ")"));
  }
  std::set<std::string> ids;
  for (int i = 0; i < pool.members_size(); ++i) {
    const v1::PoolMember& m = pool.members(i);
    const std::string f = absl::StrCat("members[", i, "]");
    if (m.member_id().empty() || m.member_id().size() > kMaxNameBytes) {
      return Bad(object, f + ".member_id", "is required (at most 128 bytes)");
    }
    if (!ids.insert(m.member_id()).second) {
      return Bad(object, f + ".member_id", absl::StrCat(Quoted(m.member_id()), " is used twice"));
    }
    if (!ValidAddress(m.address())) {
      return Bad(object, f + ".address", absl::StrCat(Quoted(m.address()), " is not host:port"));
    }
    if (m.weight() > 1000) {
      return Bad(object, f + ".weight", absl::StrCat(m.weight(), " is out of range [1, 1000]"));
    }
  }
  if (!v1::BalancingAlgorithm_IsValid(pool.algorithm()))
    return Bad(object, "algorithm", "unknown value");
  if (pool.hash_key_expression().size() > 1024) {
    return Bad(object, "hash_key_expression", "at most 1024 bytes");
  }
  const v1::HealthCheck& hc = pool.health_check();
  if (!v1::HealthCheckKind_IsValid(hc.kind()))
    return Bad(object, "health_check.kind", "unknown value");
  if (hc.kind() != v1::HEALTH_CHECK_KIND_UNSPECIFIED) {
    if (hc.interval_ms() != 0 && (hc.interval_ms() < 1000 || hc.interval_ms() > 300'000)) {
      return Bad(object, "health_check.interval_ms",
                 absl::StrCat(hc.interval_ms(), " is out of range [1000, 300000]"));
    }
    if (hc.timeout_ms() < 0 || hc.timeout_ms() > 60'000) {
      return Bad(object, "health_check.timeout_ms",
                 absl::StrCat(hc.timeout_ms(), " is out of range [0, 60000]"));
    }
    if (hc.kind() == v1::HEALTH_CHECK_KIND_HTTP && !hc.path().empty() && hc.path()[0] != '/') {
      return Bad(object, "health_check.path", "must start with '/'");
    }
    for (int i = 0; i < hc.expected_statuses_size(); ++i) {
      if (hc.expected_statuses(i) < 100 || hc.expected_statuses(i) > 599) {
        return Bad(object, absl::StrCat("health_check.expected_statuses[", i, "]"),
                   absl::StrCat(hc.expected_statuses(i), " is not an HTTP status"));
      }
    }
  }
  const v1::CircuitBreaker& cb = pool.circuit_breaker();
  if (cb.open_ms() < 0 || cb.open_ms() > 3'600'000) {
    return Bad(object, "circuit_breaker.open_ms",
               absl::StrCat(cb.open_ms(), " is out of range [0, 3600000]"));
  }
  if (cb.max_ejection_percent() > 100) {
    return Bad(object, "circuit_breaker.max_ejection_percent",
               absl::StrCat(cb.max_ejection_percent(), " is above 100"));
  }
  return absl::OkStatus();
}

absl::Status ValidateIpList(const v1::IpList& list) {
  const std::string object = absl::StrCat("ip list ", Quoted(list.name()));
  if (list.name().empty() || list.name().size() > 64) {
    return Bad(object, "name", "must be 1 to 64 characters of [a-z0-9_]");
  }
  for (char c : list.name()) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
      return Bad(object, "name", "must be 1 to 64 characters of [a-z0-9_]");
    }
  }
  if (!v1::IpListPurpose_IsValid(list.purpose())) return Bad(object, "purpose", "unknown value");
  if (static_cast<std::size_t>(list.entries_size()) > pipeline::kMaxIpListEntries) {
    return Bad(
        object, "entries",
        absl::StrCat(list.entries_size(), " given (at most ", pipeline::kMaxIpListEntries, ")"));
  }
  for (int i = 0; i < list.entries_size(); ++i) {
    std::string error;
    if (!policy::Cidr::Parse(list.entries(i).cidr(), &error).has_value()) {
      return Bad(object, absl::StrCat("entries[", i, "].cidr"),
                 absl::StrCat(Quoted(list.entries(i).cidr()), ": ", error));
    }
    if (list.entries(i).comment().size() > 1024) {
      return Bad(object, absl::StrCat("entries[", i, "].comment"), "at most 1024 bytes");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateRuleSet(const v1::RuleSet& rule_set) {
  const std::string object = absl::StrCat("rule set ", Quoted(rule_set.name()));
  SHIELDX_RETURN_IF_ERROR(CheckName(object, rule_set.name()));
  if (rule_set.description().size() > kMaxDescriptionBytes) {
    return Bad(object, "description", absl::StrCat("at most ", kMaxDescriptionBytes, " bytes"));
  }
  return absl::OkStatus();
}

absl::Status ValidateSettings(const v1::TenantSettings& s) {
  if (!v1::OutOfCreditsBehaviour_IsValid(s.out_of_credits())) {
    return Bad("settings", "out_of_credits", "unknown value");
  }
  if (!v1::FailureMode_IsValid(s.rate_limit_failure_mode())) {
    return Bad("settings", "rate_limit_failure_mode", "unknown value");
  }
  if (s.decision_retention_days() != 0 &&
      (s.decision_retention_days() < 1 || s.decision_retention_days() > 400)) {
    return Bad("settings", "decision_retention_days",
               absl::StrCat(s.decision_retention_days(), " is out of range [1, 400]"));
  }
  if (s.evidence_sample_rate() < 0 || s.evidence_sample_rate() > 1) {
    return Bad("settings", "evidence_sample_rate", "must be in [0, 1]");
  }
  return absl::OkStatus();
}

absl::Status ValidateTenant(const pipeline::TenantConfig& c) {
  auto limit = [](const char* what, std::size_t n, std::size_t max) -> absl::Status {
    if (n <= max) return absl::OkStatus();
    return absl::ResourceExhaustedError(
        absl::StrCat("tenant has ", n, " ", what, " (at most ", max, ")"));
  };
  SHIELDX_RETURN_IF_ERROR(limit("sites", c.sites.size(), pipeline::kMaxSitesPerTenant));
  SHIELDX_RETURN_IF_ERROR(limit("routes", c.routes.size(), pipeline::kMaxRoutesPerTenant));
  SHIELDX_RETURN_IF_ERROR(limit("pools", c.pools.size(), pipeline::kMaxPoolsPerTenant));
  SHIELDX_RETURN_IF_ERROR(limit("ip lists", c.ip_lists.size(), pipeline::kMaxIpListsPerTenant));
  SHIELDX_RETURN_IF_ERROR(limit("rule sets", c.rule_sets.size(), pipeline::kMaxRuleSetsPerTenant));
  std::set<std::string> names, hosts;
  for (const v1::Site& s : c.sites) {
    SHIELDX_RETURN_IF_ERROR(ValidateSite(s));
    if (!names.insert(s.name()).second) {
      return absl::AlreadyExistsError(
          absl::StrCat("site ", Quoted(s.name()), ": name: already used"));
    }
    for (const std::string& h : s.hostnames()) {
      if (!hosts.insert(absl::AsciiStrToLower(h)).second) {
        return absl::AlreadyExistsError(absl::StrCat("site ", Quoted(s.name()),
                                                     ": hostnames: ", Quoted(h),
                                                     " is already used by another site"));
      }
    }
    if (!s.default_pool_id().empty() && c.FindPool(s.default_pool_id()) == nullptr) {
      return Bad(absl::StrCat("site ", Quoted(s.name())), "default_pool_id",
                 absl::StrCat("no pool ", s.default_pool_id()));
    }
  }
  std::set<std::pair<std::string, std::string>> route_names;
  for (const v1::Route& r : c.routes) {
    SHIELDX_RETURN_IF_ERROR(ValidateRoute(r));
    const std::string object = absl::StrCat("route ", Quoted(r.name()));
    if (c.FindSite(r.site_id()) == nullptr)
      return Bad(object, "site_id", absl::StrCat("no site ", r.site_id()));
    if (!route_names.insert({r.site_id(), r.name()}).second) {
      return absl::AlreadyExistsError(absl::StrCat(object, ": name: already used in its site"));
    }
    if (!r.pool_id().empty() && c.FindPool(r.pool_id()) == nullptr) {
      return Bad(object, "pool_id", absl::StrCat("no pool ", r.pool_id()));
    }
    if (!r.rule_set_id().empty() && c.FindRuleSet(r.rule_set_id()) == nullptr) {
      return Bad(object, "rule_set_id", absl::StrCat("no rule set ", r.rule_set_id()));
    }
  }
  names.clear();
  for (const v1::Pool& p : c.pools) {
    SHIELDX_RETURN_IF_ERROR(ValidatePool(p));
    if (!names.insert(p.name()).second) {
      return absl::AlreadyExistsError(
          absl::StrCat("pool ", Quoted(p.name()), ": name: already used"));
    }
  }
  names.clear();
  for (const v1::IpList& l : c.ip_lists) {
    SHIELDX_RETURN_IF_ERROR(ValidateIpList(l));
    if (!names.insert(l.name()).second) {
      return absl::AlreadyExistsError(
          absl::StrCat("ip list ", Quoted(l.name()), ": name: already used"));
    }
  }
  names.clear();
  for (const pipeline::RuleSetRecord& rs : c.rule_sets) {
    SHIELDX_RETURN_IF_ERROR(ValidateRuleSet(rs.rule_set));
    if (!names.insert(rs.rule_set.name()).second) {
      return absl::AlreadyExistsError(
          absl::StrCat("rule set ", Quoted(rs.rule_set.name()), ": name: already used"));
    }
  }
  return ValidateSettings(c.settings);
}

}  // namespace shieldx::orchestrator
