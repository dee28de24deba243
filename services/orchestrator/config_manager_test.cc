// The configuration domain on the in-memory store: validation naming fields, references,
// tenant isolation, etags, versions and the rule-set lifecycle.
#include "services/orchestrator/config_manager.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/testing/status_matchers.h"
#include "services/orchestrator/in_memory_config_store.h"

namespace shieldx::orchestrator {
namespace {

using ::shieldx::testing::StatusIs;
using ::testing::HasSubstr;

class Announcements : public ChangeAnnouncer {
 public:
  void Announce(const std::string& tenant, int64_t version) override {
    last_tenant = tenant;
    last_version = version;
    ++count;
  }
  std::string last_tenant;
  int64_t last_version = 0;
  int count = 0;
};

class ConfigManagerTest : public ::testing::Test {
 protected:
  v1::Pool Pool(const std::string& name) {
    v1::Pool p;
    p.set_name(name);
    v1::PoolMember* m = p.add_members();
    m->set_address("10.0.0.1:8080");
    return p;
  }
  v1::Site Site(const std::string& name, const std::string& host, const std::string& pool_id) {
    v1::Site s;
    s.set_name(name);
    s.add_hostnames(host);
    s.set_default_pool_id(pool_id);
    return s;
  }
  v1::Route Route(const std::string& name, const std::string& site_id) {
    v1::Route r;
    r.set_name(name);
    r.set_site_id(site_id);
    r.mutable_match()->set_path_prefix("/");
    return r;
  }

  FakeClock clock_;
  InMemoryConfigStore store_;
  Announcements announced_;
  ConfigManager m_{&store_, &clock_, &announced_};
};

TEST_F(ConfigManagerTest, CreateAssignsIdsEtagsAndBumpsTheVersion) {
  ASSERT_OK_AND_ASSIGN(auto pool, m_.CreatePool("acme", Pool("web")));
  EXPECT_THAT(pool.value.pool_id(), ::testing::StartsWith("pool_"));
  EXPECT_FALSE(pool.value.etag().empty());
  EXPECT_EQ(pool.value.members(0).member_id(), "m1");
  EXPECT_EQ(pool.value.members(0).weight(), 1u);
  ASSERT_OK_AND_ASSIGN(auto site,
                       m_.CreateSite("acme", Site("shop", "Shop.Example", pool.value.pool_id())));
  EXPECT_GT(site.config_version, pool.config_version);
  EXPECT_EQ(site.value.hostnames(0), "shop.example");
  EXPECT_EQ(announced_.count, 2);
  EXPECT_EQ(announced_.last_version, site.config_version);
  ASSERT_OK_AND_ASSIGN(int64_t stored, m_.StoredVersion("acme"));
  EXPECT_EQ(stored, site.config_version);
}

TEST_F(ConfigManagerTest, ValidationErrorsNameTheField) {
  v1::Pool bad = Pool("web");
  bad.mutable_members(0)->set_address("nohost");
  EXPECT_THAT(
      m_.CreatePool("acme", bad).status(),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("pool \"web\": members[0].address")));
  ASSERT_OK_AND_ASSIGN(auto pool, m_.CreatePool("acme", Pool("web")));
  ASSERT_OK_AND_ASSIGN(auto site,
                       m_.CreateSite("acme", Site("shop", "shop.example", pool.value.pool_id())));
  v1::Route r = Route("api", site.value.site_id());
  v1::RateLimit* rl = r.add_rate_limits();
  rl->set_name("x");
  rl->set_requests_per_window(5);
  rl->set_window_ms(10);
  EXPECT_THAT(m_.CreateRoute("acme", r).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("route \"api\": rate_limits[0].window_ms: 10 is out of range")));
  r = Route("api", site.value.site_id());
  r.mutable_match()->set_path_regex("/(a");
  EXPECT_THAT(m_.CreateRoute("acme", r).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("match.path_regex")));
  r = Route("api", "site_missing");
  EXPECT_THAT(m_.CreateRoute("acme", r).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("site_id: no site")));
  r = Route("api", site.value.site_id());
  v1::DetectionExclusion* ex = r.add_detection_exclusions();
  ex->set_id("search");
  ex->add_fields("query:q");
  ex->add_fields("querry:q");
  ex->add_categories("sqli");
  EXPECT_THAT(m_.CreateRoute("acme", r).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("route \"api\": detection_exclusions[0]: fields[1]: unknown "
                                 "source \"querry\"")));
  ex->mutable_fields()->RemoveLast();
  *r.add_detection_exclusions() = *ex;  // the same id twice
  EXPECT_THAT(m_.CreateRoute("acme", r).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("detection_exclusions[1]: id: \"search\" is used twice")));
  r.mutable_detection_exclusions()->RemoveLast();
  ex->clear_categories();
  EXPECT_THAT(m_.CreateRoute("acme", r).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("detection_exclusions[0]: categories / rules")));
  ex->add_rules("sqli.*");
  ASSERT_OK_AND_ASSIGN(auto created, m_.CreateRoute("acme", r));
  ASSERT_EQ(created.value.detection_exclusions_size(), 1);
  EXPECT_EQ(created.value.detection_exclusions(0).rules(0), "sqli.*");
  EXPECT_THAT(m_.CreateSite("acme", Site("bad", "exa mple", "")).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("hostnames[0]")));
  EXPECT_THAT(m_.CreatePool("bad tenant!", Pool("x")).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tenant_id")));
}

TEST_F(ConfigManagerTest, TenantsAreIsolatedAndHostnamesAreUniqueAcrossThem) {
  ASSERT_OK_AND_ASSIGN(auto pool, m_.CreatePool("acme", Pool("web")));
  ASSERT_OK_AND_ASSIGN(auto site, m_.CreateSite("acme", Site("shop", "shop.example", "")));
  EXPECT_THAT(m_.GetPool("globex", pool.value.pool_id()).status(),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(m_.DeleteSite("globex", site.value.site_id(), "").status(),
              StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(auto listed, m_.ListPools("globex", {}));
  EXPECT_TRUE(listed.items.empty());
  EXPECT_THAT(m_.CreateSite("globex", Site("x", "SHOP.example", "")).status(),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("shop.example")));
  EXPECT_THAT(m_.CreateSite("acme", Site("shop", "other.example", "")).status(),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("name")));
}

TEST_F(ConfigManagerTest, UpdateUsesTheMaskAndTheEtag) {
  ASSERT_OK_AND_ASSIGN(auto pool, m_.CreatePool("acme", Pool("web")));
  v1::Pool patch;
  patch.set_algorithm(v1::BALANCING_ALGORITHM_P2C_EWMA);
  patch.set_name("ignored-not-in-mask");
  patch.set_etag(pool.value.etag());
  ASSERT_OK_AND_ASSIGN(auto updated,
                       m_.UpdatePool("acme", pool.value.pool_id(), patch, {"algorithm"}));
  EXPECT_EQ(updated.value.algorithm(), v1::BALANCING_ALGORITHM_P2C_EWMA);
  EXPECT_EQ(updated.value.name(), "web");
  EXPECT_NE(updated.value.etag(), pool.value.etag());
  // The old etag is stale now.
  EXPECT_THAT(m_.UpdatePool("acme", pool.value.pool_id(), patch, {"algorithm"}).status(),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("stale")));
  EXPECT_THAT(m_.UpdatePool("acme", pool.value.pool_id(), v1::Pool(), {}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("update_mask")));
  EXPECT_THAT(m_.UpdatePool("acme", pool.value.pool_id(), v1::Pool(), {"pool_id"}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("set by the server")));
  EXPECT_THAT(m_.UpdatePool("acme", pool.value.pool_id(), v1::Pool(), {"nonsense"}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(ConfigManagerTest, DeletingSomethingReferencedFailsAndChangesNothing) {
  ASSERT_OK_AND_ASSIGN(auto pool, m_.CreatePool("acme", Pool("web")));
  ASSERT_OK_AND_ASSIGN(auto site,
                       m_.CreateSite("acme", Site("shop", "shop.example", pool.value.pool_id())));
  ASSERT_OK_AND_ASSIGN(auto route, m_.CreateRoute("acme", Route("root", site.value.site_id())));
  ASSERT_OK_AND_ASSIGN(int64_t before, m_.StoredVersion("acme"));
  EXPECT_THAT(m_.DeletePool("acme", pool.value.pool_id(), "").status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("default_pool_id")));
  EXPECT_THAT(m_.DeleteSite("acme", site.value.site_id(), "").status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("route \"root\"")));
  ASSERT_OK_AND_ASSIGN(int64_t after, m_.StoredVersion("acme"));
  EXPECT_EQ(before, after);
  ASSERT_OK(m_.DeleteRoute("acme", route.value.route_id(), route.value.etag()).status());
  EXPECT_THAT(m_.GetRoute("acme", route.value.route_id()).status(),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(ConfigManagerTest, RuleSetLifecycleDraftShadowActiveRollback) {
  v1::RuleSet rs_in;
  rs_in.set_name("main");
  ASSERT_OK_AND_ASSIGN(auto rs, m_.CreateRuleSet("acme", rs_in));
  const std::string id = rs.rule_set_id();
  ASSERT_OK_AND_ASSIGN(auto v1v, m_.CreateRuleSetVersion("acme", id, R"(
rule "admin" { when http.path starts_with "/admin" then block(403) }
test "blocks admin" { request { path "/admin" } expect block(403) }
)",
                                                         {}, "first", "alice"));
  EXPECT_EQ(v1v.version(), 1);
  EXPECT_EQ(v1v.state(), v1::RULE_SET_VERSION_STATE_DRAFT);
  EXPECT_EQ(v1v.rule_count(), 1u);
  EXPECT_EQ(v1v.checksum().size(), 64u);
  ASSERT_OK_AND_ASSIGN(auto act, m_.ActivateRuleSet("acme", id, 1, 0));
  EXPECT_EQ(act.rule_set.active_version(), 1);
  EXPECT_EQ(act.results.size(), 1u);
  // v2 goes through shadow, then becomes active; v1 is archived.
  ASSERT_OK_AND_ASSIGN(auto v2v, m_.CreateRuleSetVersion("acme", id, R"(
rule "admin" { when http.path starts_with "/admin" then block(451) }
)",
                                                         {}, "legal", "bob"));
  ASSERT_OK_AND_ASSIGN(auto shadowed, m_.ShadowRuleSetVersion("acme", id, 2, 0.5));
  EXPECT_EQ(shadowed.value.shadow_version(), 2);
  // A stale expectation is refused.
  EXPECT_THAT(m_.ActivateRuleSet("acme", id, 2, 0).status(), StatusIs(absl::StatusCode::kAborted));
  ASSERT_OK_AND_ASSIGN(auto act2, m_.ActivateRuleSet("acme", id, 2, 1));
  EXPECT_EQ(act2.rule_set.active_version(), 2);
  EXPECT_EQ(act2.rule_set.shadow_version(), 0);
  ASSERT_OK_AND_ASSIGN(auto old, m_.GetRuleSetVersion("acme", id, 1));
  EXPECT_EQ(old.state(), v1::RULE_SET_VERSION_STATE_ARCHIVED);
  ASSERT_OK_AND_ASSIGN(auto back, m_.RollbackRuleSet("acme", id, 0, 2));
  EXPECT_EQ(back.value.active_version(), 1);
  ASSERT_OK_AND_ASSIGN(auto listed, m_.ListRuleSetVersions("acme", id, {}, {}));
  ASSERT_EQ(listed.items.size(), 2u);
  EXPECT_EQ(listed.items[0].version(), 2);
  EXPECT_TRUE(listed.items[0].source().empty());
  EXPECT_THAT(m_.ArchiveRuleSetVersion("acme", id, 1).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("ACTIVE")));
}

TEST_F(ConfigManagerTest, FailingTestsBlockActivationAndChangeNothing) {
  v1::RuleSet rs_in;
  rs_in.set_name("main");
  ASSERT_OK_AND_ASSIGN(auto rs, m_.CreateRuleSet("acme", rs_in));
  common::v1::RuleTestCase tc;
  tc.set_name("sqli is blocked");
  tc.mutable_request()->set_path("/search");
  tc.mutable_request()->set_query("q=1'%20OR%201=1--");
  tc.set_expected_action(common::v1::ACTION_BLOCK);
  common::v1::RuleTestCase wrong;
  wrong.set_name("home is blocked (wrong)");
  wrong.mutable_request()->set_path("/");
  wrong.set_expected_action(common::v1::ACTION_BLOCK);
  ASSERT_OK(m_.CreateRuleSetVersion("acme", rs.rule_set_id(),
                                    "rule \"r\" { when http.path == \"/x\" then tag(\"x\") }",
                                    {tc, wrong}, "", "")
                .status());
  auto act = m_.ActivateRuleSet("acme", rs.rule_set_id(), 1, 0);
  EXPECT_THAT(act.status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("RULE_SET_TESTS_FAILED")));
  EXPECT_THAT(act.status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("home is blocked")));
  ASSERT_OK_AND_ASSIGN(auto after, m_.GetRuleSet("acme", rs.rule_set_id()));
  EXPECT_EQ(after.active_version(), 0);
  ASSERT_OK_AND_ASSIGN(auto report, m_.TestRuleSet("acme", rs.rule_set_id(), 1, {}));
  EXPECT_FALSE(report.passed);
  ASSERT_EQ(report.results.size(), 2u);
  EXPECT_TRUE(report.results[0].passed()) << report.results[0].failure();
  EXPECT_FALSE(report.results[1].passed());
}

TEST_F(ConfigManagerTest, AVersionThatDoesNotCompileStaysADraftWithDiagnostics) {
  v1::RuleSet rs_in;
  rs_in.set_name("main");
  ASSERT_OK_AND_ASSIGN(auto rs, m_.CreateRuleSet("acme", rs_in));
  ASSERT_OK_AND_ASSIGN(
      auto v,
      m_.CreateRuleSetVersion("acme", rs.rule_set_id(),
                              "rule \"r\" {\n  when http.pth == \"/\" then block }", {}, "", ""));
  ASSERT_EQ(v.diagnostics_size(), 1);
  EXPECT_EQ(v.diagnostics(0).line(), 2u);
  EXPECT_GT(v.diagnostics(0).column(), 0u);
  EXPECT_THAT(m_.ActivateRuleSet("acme", rs.rule_set_id(), 1, 0).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("does not compile")));
  EXPECT_THAT(m_.ShadowRuleSetVersion("acme", rs.rule_set_id(), 1, 1.0).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(ConfigManagerTest, ARuleNamingAListKeepsTheListAlive) {
  v1::IpList list;
  list.set_name("office");
  list.add_entries()->set_cidr("10.0.0.0/8");
  ASSERT_OK_AND_ASSIGN(auto l, m_.CreateIpList("acme", list));
  v1::RuleSet rs_in;
  rs_in.set_name("main");
  ASSERT_OK_AND_ASSIGN(auto rs, m_.CreateRuleSet("acme", rs_in));
  ASSERT_OK(m_.CreateRuleSetVersion("acme", rs.rule_set_id(),
                                    "rule \"o\" { when ip.src in $office then allow }", {}, "", "")
                .status());
  ASSERT_OK(m_.ActivateRuleSet("acme", rs.rule_set_id(), 1, 0).status());
  EXPECT_THAT(m_.DeleteIpList("acme", l.value.ip_list_id(), "").status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("still referenced")));
  ASSERT_OK_AND_ASSIGN(auto mod,
                       m_.ModifyIpListEntries("acme", l.value.ip_list_id(), {}, {"10.0.0.0/8"}));
  EXPECT_EQ(mod.entry_count, 0u);
}

TEST_F(ConfigManagerTest, ListingsPageByName) {
  for (const char* n : {"c", "a", "b", "d", "e"})
    ASSERT_OK(m_.CreatePool("acme", Pool(n)).status());
  ASSERT_OK_AND_ASSIGN(auto p1, m_.ListPools("acme", {.page_size = 2}));
  ASSERT_EQ(p1.items.size(), 2u);
  EXPECT_EQ(p1.items[0].name(), "a");
  ASSERT_FALSE(p1.next_page_token.empty());
  ASSERT_OK_AND_ASSIGN(auto p2,
                       m_.ListPools("acme", {.page_size = 2, .page_token = p1.next_page_token}));
  EXPECT_EQ(p2.items[0].name(), "c");
  ASSERT_OK_AND_ASSIGN(auto p3,
                       m_.ListPools("acme", {.page_size = 2, .page_token = p2.next_page_token}));
  EXPECT_EQ(p3.items.size(), 1u);
  EXPECT_TRUE(p3.next_page_token.empty());
  EXPECT_THAT(m_.ListPools("acme", {.page_size = 5000}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_size")));
}

TEST_F(ConfigManagerTest, SettingsHaveDefaultsAndValidatedUpdates) {
  ASSERT_OK_AND_ASSIGN(auto s, m_.GetTenantSettings("acme"));
  EXPECT_EQ(s.out_of_credits(), v1::OUT_OF_CREDITS_BEHAVIOUR_ALLOW_AND_FLAG);
  EXPECT_EQ(s.decision_retention_days(), 30u);
  v1::TenantSettings patch;
  patch.set_evidence_sample_rate(2);
  EXPECT_THAT(m_.UpdateTenantSettings("acme", patch, {"evidence_sample_rate"}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("evidence_sample_rate")));
  patch.set_evidence_sample_rate(0.5);
  patch.set_out_of_credits(v1::OUT_OF_CREDITS_BEHAVIOUR_BLOCK);
  ASSERT_OK_AND_ASSIGN(auto u, m_.UpdateTenantSettings("acme", patch, {"out_of_credits"}));
  EXPECT_EQ(u.value.out_of_credits(), v1::OUT_OF_CREDITS_BEHAVIOUR_BLOCK);
  EXPECT_EQ(u.value.evidence_sample_rate(), 0);  // not in the mask
}

TEST_F(ConfigManagerTest, AnUnavailableStoreIsReported) {
  store_.set_unavailable(true);
  EXPECT_THAT(m_.CreatePool("acme", Pool("web")).status(),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(announced_.count, 0);
}

}  // namespace
}  // namespace shieldx::orchestrator
