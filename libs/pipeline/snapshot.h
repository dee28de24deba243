// The compiled, immutable configuration every decision reads: all tenants' sites, routes,
// pools, IP lists and rule sets, compiled once (policies by libs/policy, regex routes by RE2,
// host lookup tables, balancer schedules) and shared through std::shared_ptr<const Snapshot>.
// The pipeline swaps snapshots atomically; a decision uses one snapshot from start to end.
//
// Compilation is per tenant (CompileTenant): a tenant whose configuration fails to compile
// keeps its previous CompiledTenant while every other tenant moves on (the loader keeps the
// old object and reports the error), so one broken tenant never takes the others down and a
// configuration that fails to compile never replaces a working one.
//
// Route order within a site: descending priority, then regex routes, then longer path prefix
// first, then name. The first route whose hosts, method and path match wins; no match uses
// the site's implicit default route (default pool, medium sensitivity, no rule set).
//
// Thread-safety: everything here is immutable after construction except the live state it
// points to (MemberState, UsageCounter, TenantCredits: atomics).
#ifndef SHIELDX_LIBS_PIPELINE_SNAPSHOT_H_
#define SHIELDX_LIBS_PIPELINE_SNAPSHOT_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "libs/detect/profile.h"
#include "libs/pipeline/balancer.h"
#include "libs/pipeline/pipeline_metrics.h"
#include "libs/pipeline/rate_limiter.h"
#include "libs/pipeline/tenant_config.h"
#include "libs/pipeline/usage.h"
#include "libs/policy/ip.h"
#include "libs/policy/policy.h"
#include "re2/re2.h"

namespace shieldx::pipeline {

struct CompiledRuleSet {
  std::string rule_set_id;
  int64_t version = 0;
  std::shared_ptr<const policy::CompiledPolicy> policy;
  // divert_pools()[i] of the policy → the tenant's pool of that name.
  std::vector<std::shared_ptr<const CompiledPool>> divert_pools;
};

struct CompiledRateLimit {
  std::string name;
  RateSpec spec;
  shieldx::common::v1::Action action = shieldx::common::v1::ACTION_RATE_LIMIT;
};

struct CompiledRoute {
  std::string route_id;  // "" for a site's implicit default route
  std::string name;
  int32_t priority = 0;
  std::vector<std::string> hosts;            // lowercase; "*.x" wildcards; empty: all of the site's
  std::vector<std::string> methods;          // uppercase; empty: all
  std::string path_prefix;                   // normalised; "" with no regex: every path
  std::unique_ptr<RE2> path_regex;           // anchored
  std::shared_ptr<const CompiledPool> pool;  // null: none (block 503 when forwarding)
  detect::Sensitivity sensitivity = detect::Sensitivity::kMedium;
  std::shared_ptr<const CompiledRuleSet> rule_set;  // active version; null: detection decides
  std::shared_ptr<const CompiledRuleSet> shadow;    // shadow version, when there is one
  double shadow_sample_rate = 0;
  bool monitor = false;
  int64_t credit_cost = 0;
  std::shared_ptr<UsageCounter> usage;  // when credit_cost > 0
  std::vector<CompiledRateLimit> rate_limits;
  // One `rate_limit(<key_expression>, ...)` rule per rate limit, used for its key only.
  std::shared_ptr<const policy::CompiledPolicy> rate_keys;
  // For rule_set's `rate["name"]` counters: slot i ← rate_limits[rate_counter_sources[i]]
  // (-1: no such limit on this route, reads 0).
  std::vector<int> rate_counter_sources;
  v1::ContAuthPolicy contauth;
  std::size_t max_body_bytes = 128 * 1024;
  std::vector<detect::Exclusion> exclusions;  // passed to the engine with every request

  bool Matches(std::string_view host, std::string_view method, std::string_view path) const;
};

struct CompiledSite {
  std::string site_id;
  std::string name;
  std::string session_cookie;
  std::string session_header;                          // lowercase
  std::vector<std::unique_ptr<CompiledRoute>> routes;  // match order
  std::unique_ptr<CompiledRoute> default_route;

  const CompiledRoute& Match(std::string_view host, std::string_view method,
                             std::string_view path) const;
};

struct CompiledTenant {
  std::string tenant_id;
  int64_t version = 0;
  v1::TenantSettings settings;
  std::vector<std::unique_ptr<CompiledSite>> sites;
  std::map<std::string, std::shared_ptr<const CompiledPool>, std::less<>> pools;  // by id
  // Step 3 lists (purpose ALLOW / DENY), with the list names for explanations.
  struct List {
    std::string name;
    policy::IpRangeSet set;
  };
  std::vector<List> allow_lists;
  std::vector<List> deny_lists;
  std::shared_ptr<TenantCredits> credits;
  std::shared_ptr<TenantStats> stats;  // metrics children (always set)
  // Earliest IP-list entry expiry (unix seconds; 0: none): the tenant must be recompiled then.
  int64_t next_expiry_unix_s = 0;
  // Lowercase hostnames ("*.x" wildcards) → site, from Site.hostnames.
  std::vector<std::pair<std::string, const CompiledSite*>> hostnames;

  const CompiledSite* FindSite(std::string_view site_id) const;
  const CompiledPool* FindPool(std::string_view pool_id) const;
};

// What CompileTenant needs besides the configuration: the live-state registries (so member
// health and usage survive recompiles) and the WAF category names policies refer to.
struct CompileContext {
  MemberStateRegistry* members = nullptr;  // required
  UsageMeter* usage = nullptr;             // null: credits are not counted
  PipelineMetrics* metrics = nullptr;      // null: TenantStats not exported
  int64_t now_unix_s = 0;                  // for IP-list entry expiry
};

// Compiles one tenant. InvalidArgument naming the object and field on any error (a rule set
// that does not compile, a bad regex, a reference to a missing pool...).
absl::StatusOr<std::shared_ptr<const CompiledTenant>> CompileTenant(const TenantConfig& config,
                                                                    const CompileContext& context);

// The WAF category names in detect::Category order, for CompileOptions::waf_categories.
const std::vector<std::string>& WafCategoryNames();

// Compiles one rule-set version of a tenant (the same options CompileTenant uses: the tenant's
// IP lists and pool names).
absl::StatusOr<std::shared_ptr<const policy::CompiledPolicy>> CompileRuleSetVersion(
    const TenantConfig& config, const v1::RuleSetVersion& version, int64_t now_unix_s);

class Snapshot {
 public:
  // Assembles a snapshot from compiled tenants. Hostnames claimed by two tenants go to the
  // tenant whose site was compiled first in `tenants` order and are listed in `conflicts`.
  static std::shared_ptr<const Snapshot> Assemble(
      int64_t version,
      std::map<std::string, std::shared_ptr<const CompiledTenant>, std::less<>> tenants,
      std::vector<std::string>* conflicts = nullptr);

  int64_t version() const { return version_; }
  const std::map<std::string, std::shared_ptr<const CompiledTenant>, std::less<>>& tenants() const {
    return tenants_;
  }
  const CompiledTenant* FindTenant(std::string_view tenant_id) const;

  struct SiteRef {
    const CompiledTenant* tenant = nullptr;
    const CompiledSite* site = nullptr;
  };
  // Exact hostname first, then "*.parent" wildcards from the closest parent up.
  SiteRef ResolveHost(std::string_view normalized_host) const;

 private:
  int64_t version_ = 0;
  std::map<std::string, std::shared_ptr<const CompiledTenant>, std::less<>> tenants_;
  absl::flat_hash_map<std::string, SiteRef> exact_;
  absl::flat_hash_map<std::string, SiteRef> wildcard_;  // key: the parent ("example.com")
};

// Maps the proto sensitivity to the engine's.
detect::Sensitivity ToDetectSensitivity(v1::Sensitivity s);

// Compiles a route's detection exclusions (the orchestrator's configuration validation calls
// it too, so both accept the same). At most detect::limits::kMaxExclusions; ids unique.
// Errors name the entry and its part: "detection_exclusions[1]: fields[0]: unknown source".
absl::StatusOr<std::vector<detect::Exclusion>> CompileDetectionExclusions(
    const google::protobuf::RepeatedPtrField<v1::DetectionExclusion>& list);

}  // namespace shieldx::pipeline

#endif  // SHIELDX_LIBS_PIPELINE_SNAPSHOT_H_
