// Test helpers for libs/pipeline: a small tenant configuration and an owned request.
#ifndef SHIELDX_LIBS_PIPELINE_PIPELINE_TEST_UTIL_H_
#define SHIELDX_LIBS_PIPELINE_PIPELINE_TEST_UTIL_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "libs/detect/request.h"
#include "libs/pipeline/snapshot.h"

namespace shieldx::pipeline::testing {

inline v1::Pool MakePool(const std::string& id, const std::string& name,
                         std::vector<std::pair<std::string, uint32_t>> members,
                         v1::BalancingAlgorithm algorithm = v1::BALANCING_ALGORITHM_ROUND_ROBIN) {
  v1::Pool p;
  p.set_pool_id(id);
  p.set_name(name);
  p.set_algorithm(algorithm);
  int i = 0;
  for (const auto& [address, weight] : members) {
    v1::PoolMember* m = p.add_members();
    m->set_member_id(absl::StrCat("m", ++i));
    m->set_address(address);
    m->set_weight(weight);
  }
  return p;
}

// Tenant "acme": site shop.example (+ *.shop.example) with pools "web" (2 members) and
// "canary", and a route "/" on pool web.
inline TenantConfig BasicTenant(const std::string& tenant_id = "acme",
                                const std::string& host = "shop.example") {
  TenantConfig c;
  c.tenant_id = tenant_id;
  c.version = 1;
  c.pools.push_back(MakePool("p-web", "web", {{"10.0.0.1:80", 1}, {"10.0.0.2:80", 1}}));
  c.pools.push_back(MakePool("p-canary", "canary", {{"10.0.1.1:80", 1}}));
  v1::Site site;
  site.set_site_id("s1");
  site.set_name("shop");
  site.add_hostnames(host);
  site.add_hostnames(absl::StrCat("*.", host));
  site.set_default_pool_id("p-web");
  site.set_session_cookie_name("sid");
  c.sites.push_back(site);
  v1::Route r;
  r.set_route_id("r-root");
  r.set_site_id("s1");
  r.set_name("root");
  r.mutable_match()->set_path_prefix("/");
  r.set_pool_id("p-web");
  c.routes.push_back(r);
  return c;
}

// Adds a rule set with one ACTIVE version holding `source`, and points route `route_id` at it.
inline void AddActiveRuleSet(TenantConfig& c, const std::string& route_id,
                             const std::string& source, int64_t version = 1) {
  RuleSetRecord rs;
  rs.rule_set.set_rule_set_id("rs1");
  rs.rule_set.set_name("main");
  rs.rule_set.set_active_version(version);
  rs.rule_set.set_latest_version(version);
  v1::RuleSetVersion v;
  v.set_rule_set_id("rs1");
  v.set_version(version);
  v.set_state(v1::RULE_SET_VERSION_STATE_ACTIVE);
  v.set_source(source);
  rs.versions.push_back(v);
  c.rule_sets.push_back(rs);
  for (v1::Route& r : c.routes) {
    if (r.route_id() == route_id) r.set_rule_set_id("rs1");
  }
}

struct Req {
  detect::OwnedHttpRequest owned;
  detect::HttpRequest view;

  explicit Req(std::string uri, std::string method = "GET", std::string host = "shop.example",
               std::string ip = "198.51.100.7") {
    owned.method = std::move(method);
    owned.uri = std::move(uri);
    owned.client_ip = std::move(ip);
    owned.headers.emplace_back("Host", std::move(host));
    owned.headers.emplace_back("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0");
    owned.headers.emplace_back("Accept", "text/html");
    view = owned.view();
  }
  Req& Header(std::string name, std::string value) {
    owned.headers.emplace_back(std::move(name), std::move(value));
    view = owned.view();
    return *this;
  }
  Req& Body(std::string body, std::string content_type) {
    owned.body = std::move(body);
    owned.headers.emplace_back("Content-Type", std::move(content_type));
    owned.headers.emplace_back("Content-Length", std::to_string(owned.body.size()));
    view = owned.view();
    return *this;
  }
};

}  // namespace shieldx::pipeline::testing

#endif  // SHIELDX_LIBS_PIPELINE_PIPELINE_TEST_UTIL_H_
