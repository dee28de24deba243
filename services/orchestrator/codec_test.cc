// Wire conversions: decisions, requests, events (round trip and redaction).
#include "services/orchestrator/codec.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shieldx::orchestrator {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(Codec, MonitorDecisionsAreAllowOrLogWithTheMonitoredAction) {
  pipeline::Decision d;
  d.action = pipeline::Action::kBlock;
  d.status = 403;
  d.monitor_only = true;
  d.upstream = "10.0.0.1:80";
  d.pool = "p1";
  common::v1::Decision p = DecisionToProto(d, absl::FromUnixSeconds(1));
  EXPECT_EQ(p.action(), common::v1::ACTION_LOG);
  EXPECT_EQ(p.monitored_action(), common::v1::ACTION_BLOCK);
  EXPECT_EQ(p.status_code(), 0u);
  EXPECT_EQ(p.upstream().address(), "10.0.0.1:80");
  d.monitor_only = false;
  p = DecisionToProto(d, absl::FromUnixSeconds(1));
  EXPECT_EQ(p.action(), common::v1::ACTION_BLOCK);
  EXPECT_EQ(p.status_code(), 403u);
}

TEST(Codec, RequestFromProtoBuildsTheTargetAndEnforcesLimits) {
  common::v1::HttpRequest in;
  in.set_method("POST");
  in.set_host("shop.example");
  in.set_path("/a");
  in.set_query("x=1");
  common::v1::Cookie* c = in.add_cookies();
  c->set_name("sid");
  c->set_value("abc");
  detect::OwnedHttpRequest out;
  ASSERT_TRUE(RequestFromProto(in, &out).ok());
  EXPECT_EQ(out.uri, "/a?x=1");
  ASSERT_EQ(out.headers.size(), 2u);
  EXPECT_EQ(out.headers[0].first, "Host");
  EXPECT_EQ(out.headers[1].second, "sid=abc");
  in.set_body(std::string(kMaxRequestBodyBytes + 1, 'a'));
  absl::Status s = RequestFromProto(in, &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("request.body"));
}

TEST(Codec, EventsRoundTripThroughJsonAndSurviveInvalidUtf8) {
  pipeline::DecisionEvent e;
  e.decided_at_us = 1'700'000'000'123'456;
  e.tenant_id = "acme";
  e.request_id = "r-1";
  e.action = "block";
  e.status = 403;
  e.categories = {"sqli"};
  e.tags = {"x"};
  e.findings.push_back({"sqli", "sqli.tautology", "query:id", "' or 1=1", 0.9});
  e.path = std::string("/bad\xff\xfe", 6);
  e.client_ip = "198.51.100.7";
  auto back = EventFromJson(EventToJson(e));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->decided_at_us, e.decided_at_us);
  EXPECT_EQ(back->tenant_id, "acme");
  EXPECT_EQ(back->findings.size(), 1u);
  EXPECT_EQ(back->categories, e.categories);
  v1::DecisionRecord r = EventToRecord(*back);
  EXPECT_EQ(r.decision().action(), common::v1::ACTION_BLOCK);
  EXPECT_EQ(r.decision().findings(0).category(), common::v1::FINDING_CATEGORY_SQLI);
  EXPECT_EQ(r.decision().decided_at().seconds(), 1'700'000'000);
  EXPECT_FALSE(EventFromJson("not json").ok());
}

TEST(Codec, EvidenceCarriesNamesNotValues) {
  pipeline::DecisionEvent e;
  e.tenant_id = "acme";
  e.arg_names = {"password"};
  e.header_names = {"authorization"};
  e.findings.push_back({"sqli", "r", "query:q", "***", 0.9});
  const std::string j = EvidenceJson(e);
  EXPECT_THAT(j, HasSubstr("\"password\""));
  EXPECT_THAT(j, HasSubstr("redaction"));
  EXPECT_THAT(pipeline::MaskSecrets("card 4111111111111111 ok"), Not(HasSubstr("4111")));
  EXPECT_THAT(pipeline::MaskSecrets("token=eyJhbGciOiJIUzI1NiJ9abcdefgh"), HasSubstr("***"));
  EXPECT_EQ(pipeline::MaskSecrets("' or 1=1--"), "' or 1=1--");
}

TEST(Codec, CategoriesMapBothWays) {
  EXPECT_EQ(CategoryToProto("cmdi"), common::v1::FINDING_CATEGORY_COMMAND_INJECTION);
  EXPECT_EQ(CategoryFromProto(common::v1::FINDING_CATEGORY_PATH_TRAVERSAL), "path-traversal");
  EXPECT_EQ(CategoryToProto("session-fixation"), common::v1::FINDING_CATEGORY_OTHER);
}

}  // namespace
}  // namespace shieldx::orchestrator
