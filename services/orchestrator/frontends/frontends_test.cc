#include "services/orchestrator/frontends/frontends.h"

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "libs/http/client.h"
#include "libs/metrics/metrics.h"
#include "libs/spoe/headers.h"
#include "libs/testing/status_matchers.h"
#include "services/orchestrator/frontends/common.h"
#include "services/orchestrator/frontends/ext_authz.h"
#include "services/orchestrator/frontends/forward_auth.h"
#include "services/orchestrator/frontends/spoe_frontend.h"
#include "services/orchestrator/frontends/testing/scripted_decider.h"

namespace shieldx::orchestrator::frontends {
namespace {

using pipeline::Action;
using pipeline::Decision;
using ::shieldx::testing::IsOk;
using ::shieldx::testing::StatusIs;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Pair;
using testing::ScriptedDecider;

ScriptedDecider::Script TestScript() {
  return {.upstream_a = "127.0.0.1:1001",
          .upstream_b = "127.0.0.1:1002",
          .tarpit_ms = 200,
          .rate_limit_n = 2,
          .retry_after_s = 7};
}

std::string_view ActionString(const std::vector<spoe::Action>& actions, std::string_view name) {
  for (const spoe::Action& a : actions) {
    if (a.name == name) return a.bytes;
  }
  return "<unset>";
}

const spoe::Action* FindAction(const std::vector<spoe::Action>& actions, std::string_view name) {
  for (const spoe::Action& a : actions) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

// ---- SPOE -----------------------------------------------------------------------------------

struct SpoeMessageFixture {
  std::string header_block = spoe::EncodeBinaryHeaders(
      {{"host", "shop.example"}, {"user-agent", "curl/8"}, {"cookie", "sid=1"}});
  std::string body = "a=1&b=2";
  spoe::Message message;

  SpoeMessageFixture() {
    message.name = "shieldx-req";
    message.args = {{"method", spoe::TypedData::String("POST")},
                    {"path", spoe::TypedData::String("/cart/add")},
                    {"query", spoe::TypedData::String("id=7")},
                    {"version", spoe::TypedData::String("1.1")},
                    {"headers", spoe::TypedData::Binary(header_block)},
                    {"body", spoe::TypedData::Binary(body)},
                    {"client_ip", spoe::TypedData::Ipv4({203, 0, 113, 9})},
                    {"unique_id", spoe::TypedData::String("hap-1")},
                    {"tls", spoe::TypedData::Bool(true)}};
  }
};

TEST(SpoeFrontEnd, DecodesEveryArgumentOfTheMessage) {
  SpoeMessageFixture f;
  SpoeScratch scratch;
  detect::HttpRequest req;
  pipeline::RequestContext ctx;
  ASSERT_THAT(DecodeSpoeRequest(f.message, {}, &scratch, &req, &ctx), IsOk());
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.uri, "/cart/add?id=7");
  EXPECT_EQ(req.version, "HTTP/1.1");
  ASSERT_EQ(req.headers.size(), 3u);
  EXPECT_EQ(req.headers[1].name, "user-agent");
  EXPECT_EQ(req.body, "a=1&b=2");
  EXPECT_EQ(req.client_ip, "203.0.113.9");
  EXPECT_EQ(ctx.host, "shop.example");
  EXPECT_EQ(ctx.request_id, "hap-1");
  EXPECT_TRUE(ctx.tls);
  EXPECT_EQ(ctx.front_end, pipeline::FrontEnd::kSpoe);
}

TEST(SpoeFrontEnd, OptionalArgumentsMayBeAbsentOrNull) {
  spoe::Message m;
  m.name = "shieldx-req";
  m.args = {{"method", spoe::TypedData::String("GET")},
            {"path", spoe::TypedData::String("/")},
            {"query", spoe::TypedData::Null()},
            {"body", spoe::TypedData::Null()}};
  SpoeScratch scratch;
  detect::HttpRequest req;
  pipeline::RequestContext ctx;
  ASSERT_THAT(DecodeSpoeRequest(m, {}, &scratch, &req, &ctx), IsOk());
  EXPECT_EQ(req.uri, "/");
  EXPECT_TRUE(req.headers.empty());
  EXPECT_TRUE(req.body.empty());
  EXPECT_EQ(req.version, "HTTP/1.1");
}

TEST(SpoeFrontEnd, RejectsMissingMethodBadHeadersAndOversizedParts) {
  SpoeScratch scratch;
  detect::HttpRequest req;
  pipeline::RequestContext ctx;
  spoe::Message no_method;
  no_method.args = {{"path", spoe::TypedData::String("/")}};
  EXPECT_THAT(DecodeSpoeRequest(no_method, {}, &scratch, &req, &ctx),
              StatusIs(absl::StatusCode::kInvalidArgument));

  SpoeMessageFixture f;
  const std::string broken = f.header_block.substr(0, f.header_block.size() - 2);
  f.message.args[4].value = spoe::TypedData::Binary(broken);
  EXPECT_THAT(DecodeSpoeRequest(f.message, {}, &scratch, &req, &ctx),
              StatusIs(absl::StatusCode::kInvalidArgument));

  SpoeMessageFixture g;
  SpoeFrontEndOptions small;
  small.header_limits.max_headers = 2;
  EXPECT_THAT(DecodeSpoeRequest(g.message, small, &scratch, &req, &ctx),
              StatusIs(absl::StatusCode::kResourceExhausted));
  small = {};
  small.max_uri_bytes = 10;
  EXPECT_THAT(DecodeSpoeRequest(g.message, small, &scratch, &req, &ctx),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("URI")));
  small = {};
  small.max_body_bytes = 3;
  ASSERT_THAT(DecodeSpoeRequest(g.message, small, &scratch, &req, &ctx), IsOk());
  EXPECT_EQ(req.body, "a=1");  // inspected prefix
}

TEST(SpoeFrontEnd, ActionsCarryTheDecisionAndTheUpstreamAddress) {
  Decision d;
  d.action = Action::kDivert;
  d.upstream = "10.1.2.3:8443";
  d.pool = "canary";
  d.score = 4;
  d.request_id = "r1";
  d.rule_id = "rule-9";
  std::vector<spoe::Action> actions = SpoeActions(d);
  EXPECT_EQ(ActionString(actions, "action"), "divert");
  EXPECT_EQ(ActionString(actions, "upstream"), "10.1.2.3:8443");
  ASSERT_NE(FindAction(actions, "upstream_ip"), nullptr);
  EXPECT_EQ(FindAction(actions, "upstream_ip")->value().IpText(), "10.1.2.3");
  EXPECT_EQ(FindAction(actions, "upstream_port")->int_value, 8443);
  EXPECT_EQ(ActionString(actions, "pool"), "canary");
  EXPECT_EQ(FindAction(actions, "status")->int_value, 200);
  EXPECT_EQ(FindAction(actions, "score")->int_value, 4);
  EXPECT_EQ(ActionString(actions, "rule_id"), "rule-9");

  d.upstream = "[2001:db8::5]:80";
  actions = SpoeActions(d);
  EXPECT_EQ(FindAction(actions, "upstream_ip")->value().IpText(), "2001:db8::5");

  d.upstream = "backend.internal:80";  // not an IP: HAProxy cannot set-dst to it
  actions = SpoeActions(d);
  EXPECT_EQ(FindAction(actions, "upstream_ip"), nullptr);
  EXPECT_EQ(ActionString(actions, "upstream"), "backend.internal:80");
}

TEST(SpoeFrontEnd, MonitorModeEnforcesAllowAndReportsTheWouldBeAction) {
  Decision d;
  d.action = Action::kBlock;
  d.status = 403;
  d.monitor_only = true;
  std::vector<spoe::Action> actions = SpoeActions(d);
  EXPECT_EQ(ActionString(actions, "action"), "allow");
  EXPECT_EQ(ActionString(actions, "would_action"), "block");
  EXPECT_EQ(FindAction(actions, "status")->int_value, 200);
}

TEST(SpoeFrontEnd, HandleDecidesHoldsTarpitsAndRefusesMalformedMessages) {
  ScriptedDecider decider(TestScript());
  metrics::MetricsRegistry registry("test");
  FrontEndMetrics metrics(&registry, pipeline::FrontEnd::kSpoe);
  SpoeFrontEnd fe({}, decider, &metrics);

  SpoeMessageFixture f;
  f.message.args[1].value = spoe::TypedData::String("/tarpit");
  std::vector<spoe::Message> messages = {f.message};
  spoe::NotifyReply reply;
  fe.Handle({1, 1, messages, ""}, &reply);
  EXPECT_EQ(ActionString(reply.actions, "action"), "tarpit");
  EXPECT_EQ(FindAction(reply.actions, "tarpit_ms")->int_value, 200);
  EXPECT_EQ(reply.delay, absl::Milliseconds(200));
  EXPECT_EQ(ActionString(reply.actions, "request_id"), "hap-1");

  spoe::Message bad;
  bad.name = "shieldx-req";
  std::vector<spoe::Message> bad_messages = {bad};
  spoe::NotifyReply refused;
  fe.Handle({1, 2, bad_messages, ""}, &refused);
  EXPECT_EQ(ActionString(refused.actions, "action"), "block");
  EXPECT_EQ(FindAction(refused.actions, "status")->int_value, 400);
  EXPECT_THAT(registry.Serialize(),
              HasSubstr("shieldx_frontend_errors_total{frontend=\"spoe\",reason=\"malformed\"} 1"));
  EXPECT_THAT(registry.Serialize(),
              HasSubstr("shieldx_frontend_requests_total{action=\"tarpit\",frontend=\"spoe\"} 1"));

  spoe::Message other;
  other.name = "something-else";
  std::vector<spoe::Message> others = {other};
  spoe::NotifyReply empty;
  fe.Handle({1, 3, others, ""}, &empty);
  EXPECT_TRUE(empty.actions.empty());
  EXPECT_EQ(decider.seen().size(), 1u);  // the refused and foreign messages never reached it
}

TEST(SpoeFrontEnd, ForwardedDecisionsCarryWhatTheOutcomeReportNeeds) {
  ScriptedDecider decider(TestScript());
  SpoeFrontEnd fe({}, decider, nullptr);
  SpoeMessageFixture f;
  std::vector<spoe::Message> messages = {f.message};
  spoe::NotifyReply reply;
  fe.Handle({1, 1, messages, ""}, &reply);
  EXPECT_EQ(ActionString(reply.actions, "tenant"), "test-tenant");
  EXPECT_EQ(ActionString(reply.actions, "member"), "a1");
  EXPECT_EQ(ActionString(reply.actions, "pool"), "a");
  EXPECT_THAT(ActionString(reply.actions, "sent"), ::testing::StartsWith(fe.agent_id() + ":"));

  // A blocked request goes nowhere: nothing to report later.
  f.message.args[1].value = spoe::TypedData::String("/sqli");
  std::vector<spoe::Message> blocked = {f.message};
  spoe::NotifyReply block_reply;
  fe.Handle({1, 2, blocked, ""}, &block_reply);
  EXPECT_EQ(FindAction(block_reply.actions, "member"), nullptr);
  EXPECT_EQ(FindAction(block_reply.actions, "sent"), nullptr);
}

// `sent` must outlive the message (TypedData holds views).
spoe::Message OutcomeMessage(std::string_view sent, int status = 200) {
  spoe::Message m;
  m.name = "shieldx-res";
  m.args = {{"tenant", spoe::TypedData::String("test-tenant")},
            {"pool", spoe::TypedData::String("a")},
            {"member", spoe::TypedData::String("a1")},
            {"status", spoe::TypedData::Int32(status)},
            {"sent", spoe::TypedData::String(sent)}};
  return m;
}

TEST(SpoeFrontEnd, DecodesOutcomesAndTrustsOnlyItsOwnClock) {
  pipeline::UpstreamOutcome o;
  ASSERT_OK(DecodeSpoeOutcome(OutcomeMessage("abc:1000", 502), "abc", 5000, &o));
  EXPECT_EQ(o.tenant_id, "test-tenant");
  EXPECT_EQ(o.pool, "a");
  EXPECT_EQ(o.member_id, "a1");
  EXPECT_EQ(o.status, 502);
  EXPECT_EQ(o.latency_us, 4000);
  // Stamped by another replica: its monotonic clock means nothing here.
  ASSERT_OK(DecodeSpoeOutcome(OutcomeMessage("def:1000"), "abc", 5000, &o));
  EXPECT_EQ(o.latency_us, -1);
  // From the future, unparsable, or absent: unknown, never negative.
  ASSERT_OK(DecodeSpoeOutcome(OutcomeMessage("abc:9000"), "abc", 5000, &o));
  EXPECT_EQ(o.latency_us, -1);
  ASSERT_OK(DecodeSpoeOutcome(OutcomeMessage("abc:12x"), "abc", 5000, &o));
  EXPECT_EQ(o.latency_us, -1);
  ASSERT_OK(DecodeSpoeOutcome(OutcomeMessage("abc"), "abc", 5000, &o));
  EXPECT_EQ(o.latency_us, -1);

  spoe::Message no_member = OutcomeMessage("abc:1");
  no_member.args.erase(no_member.args.begin() + 2);
  EXPECT_THAT(DecodeSpoeOutcome(no_member, "abc", 5, &o),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("member")));
  spoe::Message bad_status = OutcomeMessage("abc:1", 1200);
  EXPECT_THAT(DecodeSpoeOutcome(bad_status, "abc", 5, &o),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("1200")));
  spoe::Message null_status = OutcomeMessage("abc:1");
  null_status.args[3].value = spoe::TypedData::Null();
  EXPECT_THAT(DecodeSpoeOutcome(null_status, "abc", 5, &o),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(SpoeFrontEnd, OutcomeMessagesReachTheDeciderAndAreAnsweredEmpty) {
  ScriptedDecider decider(TestScript());
  metrics::MetricsRegistry registry("test");
  FrontEndMetrics metrics(&registry, pipeline::FrontEnd::kSpoe);
  SpoeFrontEnd fe({}, decider, &metrics);
  const std::string sent = fe.agent_id() + ":0";
  std::vector<spoe::Message> messages = {OutcomeMessage(sent, 503)};
  spoe::NotifyReply reply;
  fe.Handle({1, 1, messages, ""}, &reply);
  EXPECT_TRUE(reply.actions.empty());
  ASSERT_EQ(decider.outcomes().size(), 1u);
  EXPECT_EQ(decider.outcomes()[0].status, 503);
  EXPECT_EQ(decider.outcomes()[0].member_id, "a1");
  EXPECT_GE(decider.outcomes()[0].latency_us, 0);
  EXPECT_TRUE(decider.seen().empty());  // not a request to decide

  spoe::Message broken = OutcomeMessage("x:1");
  broken.args.clear();
  std::vector<spoe::Message> broken_messages = {broken};
  fe.Handle({1, 2, broken_messages, ""}, &reply);
  EXPECT_EQ(decider.outcomes().size(), 1u);
  EXPECT_THAT(registry.Serialize(),
              HasSubstr("shieldx_frontend_errors_total{frontend=\"spoe\",reason=\"malformed\"} 1"));
}

// ---- Forward auth ---------------------------------------------------------------------------

http::HttpRequest SubRequest(std::vector<std::pair<std::string, std::string>> headers) {
  http::HttpRequest in;
  in.method = "GET";
  in.target = in.path = "/authz/nginx";
  in.remote_address = "127.0.0.1:5555";
  for (auto& [n, v] : headers) in.headers.Add(n, v);
  return in;
}

TEST(ForwardAuth, RebuildsTheOriginalRequestFromNginxHeaders) {
  http::HttpRequest in = SubRequest({{"Host", "authz.internal"},
                                     {"X-Original-URI", "/login?next=/"},
                                     {"X-Original-Method", "POST"},
                                     {"X-Forwarded-Host", "shop.example"},
                                     {"X-Forwarded-Proto", "https"},
                                     {"X-Real-IP", "198.51.100.4"},
                                     {"X-Request-Id", "ngx-1"},
                                     {"User-Agent", "Mozilla"}});
  ForwardAuthScratch scratch;
  detect::HttpRequest req;
  pipeline::RequestContext ctx;
  ASSERT_THAT(DecodeForwardAuth(in, {}, &scratch, &req, &ctx), IsOk());
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.uri, "/login?next=/");
  EXPECT_EQ(req.client_ip, "198.51.100.4");
  EXPECT_EQ(ctx.host, "shop.example");
  EXPECT_TRUE(ctx.tls);
  EXPECT_EQ(ctx.request_id, "ngx-1");
  std::vector<std::string> names;
  for (const detect::Header& h : req.headers) names.emplace_back(h.name);
  // Host is the effective one; the control headers are not part of the original request.
  EXPECT_EQ(req.headers[0].value, "shop.example");
  EXPECT_THAT(names, ::testing::Not(Contains("X-Original-URI")));
  EXPECT_THAT(names, ::testing::Not(Contains("X-Original-Method")));
  EXPECT_THAT(names, Contains("User-Agent"));
}

TEST(ForwardAuth, UnderstandsTraefikAndIngressNginxHeaders) {
  ForwardAuthScratch scratch;
  detect::HttpRequest req;
  pipeline::RequestContext ctx;
  http::HttpRequest traefik = SubRequest({{"X-Forwarded-Method", "DELETE"},
                                          {"X-Forwarded-Uri", "/api/items/3"},
                                          {"X-Forwarded-Host", "api.example"},
                                          {"X-Forwarded-For", "10.0.0.1, 192.0.2.55"}});
  ASSERT_THAT(DecodeForwardAuth(traefik, {}, &scratch, &req, &ctx), IsOk());
  EXPECT_EQ(req.method, "DELETE");
  EXPECT_EQ(req.uri, "/api/items/3");
  EXPECT_EQ(req.client_ip, "192.0.2.55");  // the entry the proxy appended
  EXPECT_EQ(ctx.host, "api.example");

  http::HttpRequest ingress =
      SubRequest({{"X-Original-URL", "https://app.example/a/b?c=d"}, {"X-Original-Method", "GET"}});
  ASSERT_THAT(DecodeForwardAuth(ingress, {}, &scratch, &req, &ctx), IsOk());
  EXPECT_EQ(req.uri, "/a/b?c=d");
  EXPECT_EQ(ctx.host, "app.example");
  EXPECT_TRUE(ctx.tls);
  EXPECT_EQ(req.client_ip, "127.0.0.1");  // no forwarding headers: the peer
}

TEST(ForwardAuth, HeaderAndUriLimitsAreEnforced) {
  ForwardAuthScratch scratch;
  detect::HttpRequest req;
  pipeline::RequestContext ctx;
  ForwardAuthOptions options;
  options.max_headers = 1;
  EXPECT_THAT(
      DecodeForwardAuth(SubRequest({{"A", "1"}, {"B", "2"}}), options, &scratch, &req, &ctx),
      StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("2 headers")));
  options = {};
  options.max_uri_bytes = 5;
  EXPECT_THAT(
      DecodeForwardAuth(SubRequest({{"X-Original-URI", "/longer"}}), options, &scratch, &req, &ctx),
      StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("URI")));
}

TEST(ForwardAuth, NginxModeSpeaksOnly2xx401And403WithTheRealStatusInAHeader) {
  Decision d;
  d.action = Action::kRateLimit;
  d.retry_after_s = 9;
  d.request_id = "r";
  http::HttpResponse status_mode, nginx_mode;
  EncodeForwardAuth(d, ForwardAuthMode::kStatus, &status_mode);
  EncodeForwardAuth(d, ForwardAuthMode::kNginx, &nginx_mode);
  EXPECT_EQ(status_mode.status, 429);
  EXPECT_EQ(nginx_mode.status, 403);
  EXPECT_EQ(nginx_mode.headers.Get("X-ShieldX-Status"), "429");
  EXPECT_EQ(nginx_mode.headers.Get("Retry-After"), "9");
  EXPECT_EQ(nginx_mode.headers.Get("X-ShieldX-Action"), "rate_limit");

  d = {};
  d.action = Action::kBlock;
  d.status = 451;
  EncodeForwardAuth(d, ForwardAuthMode::kNginx, &nginx_mode);
  EXPECT_EQ(nginx_mode.status, 403);
  EXPECT_EQ(nginx_mode.headers.Get("X-ShieldX-Status"), "451");
  http::HttpResponse challenge;
  d.action = Action::kChallenge;
  d.status = 401;
  EncodeForwardAuth(d, ForwardAuthMode::kNginx, &challenge);
  EXPECT_EQ(challenge.status, 401);

  http::HttpResponse allow;
  d = {};
  d.action = Action::kDivert;
  d.upstream = "10.0.0.2:80";
  EncodeForwardAuth(d, ForwardAuthMode::kNginx, &allow);
  EXPECT_EQ(allow.status, 200);
  EXPECT_EQ(allow.headers.Get("X-ShieldX-Upstream"), "10.0.0.2:80");
}

// ---- ext_authz ------------------------------------------------------------------------------

envoy::service::auth::v3::CheckRequest MakeCheck(std::string path) {
  envoy::service::auth::v3::CheckRequest check;
  auto* http = check.mutable_attributes()->mutable_request()->mutable_http();
  http->set_id("envoy-1");
  http->set_method("GET");
  http->set_path(std::move(path));
  http->set_protocol("HTTP/2");
  http->set_scheme("https");
  (*http->mutable_headers())[":authority"] = "svc.example";
  (*http->mutable_headers())[":path"] = "/ignored";
  (*http->mutable_headers())["user-agent"] = "grpc-test";
  (*http->mutable_headers())["x-shieldx-upstream"] = "6.6.6.6:80";  // forged by the client
  check.mutable_attributes()
      ->mutable_source()
      ->mutable_address()
      ->mutable_socket_address()
      ->set_address("192.0.2.10");
  return check;
}

TEST(ExtAuthz, DecodesCheckRequestsDroppingPseudoHeaders) {
  envoy::service::auth::v3::CheckRequest check = MakeCheck("/x?y=1");
  ExtAuthzScratch scratch;
  detect::HttpRequest req;
  pipeline::RequestContext ctx;
  ASSERT_THAT(DecodeCheckRequest(check, {}, &scratch, &req, &ctx), IsOk());
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.uri, "/x?y=1");
  EXPECT_EQ(req.version, "HTTP/2");
  EXPECT_EQ(req.client_ip, "192.0.2.10");
  EXPECT_EQ(ctx.host, "svc.example");
  EXPECT_EQ(ctx.request_id, "envoy-1");
  EXPECT_TRUE(ctx.tls);
  EXPECT_EQ(req.headers.size(), 2u);
  for (const detect::Header& h : req.headers) EXPECT_NE(h.name.front(), ':');

  envoy::service::auth::v3::CheckRequest empty;
  EXPECT_THAT(DecodeCheckRequest(empty, {}, &scratch, &req, &ctx),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ExtAuthz, AllowAddsDecisionHeadersAndStripsForgedOnes) {
  envoy::service::auth::v3::CheckRequest check = MakeCheck("/");
  ExtAuthzScratch scratch;
  detect::HttpRequest req;
  pipeline::RequestContext ctx;
  ASSERT_THAT(DecodeCheckRequest(check, {}, &scratch, &req, &ctx), IsOk());
  Decision d;  // allow, but no upstream chosen
  d.request_id = "r";
  envoy::service::auth::v3::CheckResponse response;
  EncodeCheckResponse(d, scratch.headers, &response);
  EXPECT_EQ(response.status().code(), 0);
  ASSERT_TRUE(response.has_ok_response());
  EXPECT_THAT(response.ok_response().headers_to_remove(), Contains("x-shieldx-upstream"));
  bool action_header = false;
  for (const auto& h : response.ok_response().headers()) {
    action_header =
        action_header || (h.header().key() == "x-shieldx-action" && h.header().value() == "allow");
  }
  EXPECT_TRUE(action_header);
}

TEST(ExtAuthz, DenialsCarryTheHttpStatusAndRetryAfter) {
  Decision d;
  d.action = Action::kRateLimit;
  d.retry_after_s = 30;
  envoy::service::auth::v3::CheckResponse response;
  EncodeCheckResponse(d, {}, &response);
  EXPECT_EQ(response.status().code(), 8);  // RESOURCE_EXHAUSTED
  ASSERT_TRUE(response.has_denied_response());
  EXPECT_EQ(static_cast<int>(response.denied_response().status().code()), 429);
  bool retry_after = false;
  for (const auto& h : response.denied_response().headers()) {
    retry_after = retry_after || (h.header().key() == "retry-after" && h.header().value() == "30");
  }
  EXPECT_TRUE(retry_after);

  d = {};
  d.action = Action::kBlock;
  d.status = 451;
  response.Clear();
  EncodeCheckResponse(d, {}, &response);
  EXPECT_EQ(response.status().code(), 7);  // PERMISSION_DENIED
  EXPECT_EQ(static_cast<int>(response.denied_response().status().code()), 451);
}

// ---- StartFrontEnds -------------------------------------------------------------------------

TEST(StartFrontEnds, RejectsInvalidConfigNamingTheField) {
  ScriptedDecider decider(TestScript());
  metrics::MetricsRegistry registry("test");
  FrontEndsConfig config;
  config.spoe_workers = 0;
  EXPECT_THAT(StartFrontEnds(config, decider, registry),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("spoe_workers")));
  config = {};
  config.spoe_listen = "no-port";
  EXPECT_THAT(StartFrontEnds(config, decider, registry),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("spoe_listen")));
  config = {};
  config.authz_http_path = "authz";
  EXPECT_THAT(StartFrontEnds(config, decider, registry),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("authz_http_path")));
}

class RunningFrontEnds : public ::testing::Test {
 protected:
  void SetUp() override {
    FrontEndsConfig config;
    config.spoe_listen = "127.0.0.1:0";
    config.authz_http_listen = "127.0.0.1:0";
    config.ext_authz_listen = "127.0.0.1:0";
    config.authz_http_workers = 3;
    config.max_concurrent_tarpits = 1;
    auto fe = StartFrontEnds(config, decider_, registry_);
    ASSERT_THAT(fe, IsOk());
    fe_ = std::move(*fe);
    ASSERT_GT(fe_->spoe_port(), 0);
    ASSERT_GT(fe_->authz_http_port(), 0);
    ASSERT_GT(fe_->ext_authz_port(), 0);
  }

  absl::StatusOr<http::ClientResponse> Authz(std::string_view mode, std::string_view uri) {
    http::ClientRequest req;
    req.url =
        absl::StrCat("http://127.0.0.1:", fe_->authz_http_port(), "/authz", std::string(mode));
    req.headers = {{"X-Original-URI", std::string(uri)},
                   {"X-Original-Method", "GET"},
                   {"X-Forwarded-Host", "shop.example"}};
    return http::Fetch(req);
  }

  ScriptedDecider decider_{TestScript()};
  metrics::MetricsRegistry registry_{"test"};
  std::unique_ptr<FrontEnds> fe_;
};

TEST_F(RunningFrontEnds, ForwardAuthAnswersEachActionInBothModes) {
  ASSERT_OK_AND_ASSIGN(http::ClientResponse allow, Authz("", "/"));
  EXPECT_EQ(allow.status, 200);
  EXPECT_EQ(allow.headers.Get("X-ShieldX-Upstream"), "127.0.0.1:1001");
  ASSERT_OK_AND_ASSIGN(http::ClientResponse sqli, Authz("", "/q?id=1%27%20OR%20%271%27=%271"));
  EXPECT_EQ(sqli.status, 403);
  ASSERT_OK_AND_ASSIGN(http::ClientResponse teapot, Authz("/nginx", "/block/418"));
  EXPECT_EQ(teapot.status, 403);
  EXPECT_EQ(teapot.headers.Get("X-ShieldX-Status"), "418");
  ASSERT_OK_AND_ASSIGN(http::ClientResponse divert, Authz("/nginx", "/divert"));
  EXPECT_EQ(divert.status, 200);
  EXPECT_EQ(divert.headers.Get("X-ShieldX-Upstream"), "127.0.0.1:1002");
  ASSERT_OK_AND_ASSIGN(http::ClientResponse challenge, Authz("", "/challenge"));
  EXPECT_EQ(challenge.status, 401);
  EXPECT_FALSE(challenge.headers.Get("X-ShieldX-Challenge").empty());
  std::optional<testing::SeenRequest> last = decider_.last();
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->host, "shop.example");
  EXPECT_EQ(last->front_end, pipeline::FrontEnd::kForwardAuth);
}

TEST_F(RunningFrontEnds, ForwardAuthTarpitDelaysAndDegradesToRateLimitWhenFull) {
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<http::ClientResponse> second;
  std::thread other([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    second = Authz("", "/tarpit");
  });
  ASSERT_OK_AND_ASSIGN(http::ClientResponse first, Authz("", "/tarpit"));
  const auto took = std::chrono::steady_clock::now() - start;
  other.join();
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.headers.Get("X-ShieldX-Tarpit-Ms"), "200");
  EXPECT_GE(took, std::chrono::milliseconds(195));
  // Only one tarpit may wait at once: the second is told to slow down instead.
  ASSERT_THAT(second, IsOk());
  EXPECT_EQ(second->status, 429);
  EXPECT_EQ(second->headers.Get("Retry-After"), "1");
  EXPECT_THAT(registry_.Serialize(),
              HasSubstr("shieldx_frontend_errors_total{frontend=\"forward_auth\",reason=\"tarpit_"
                        "overflow\"} 1"));
}

TEST_F(RunningFrontEnds, ExtAuthzCheckOverGrpc) {
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", fe_->ext_authz_port()),
                                     grpc::InsecureChannelCredentials());
  auto stub = envoy::service::auth::v3::Authorization::NewStub(channel);
  grpc::ClientContext ctx;
  envoy::service::auth::v3::CheckResponse response;
  grpc::Status s = stub->Check(&ctx, MakeCheck("/sqli"), &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.status().code(), 7);
  EXPECT_EQ(static_cast<int>(response.denied_response().status().code()), 403);
}

TEST_F(RunningFrontEnds, DrainStopsEveryFrontEnd) {
  const int http_port = fe_->authz_http_port();
  fe_->Drain(absl::Seconds(1));
  http::ClientRequest req;
  req.url = absl::StrCat("http://127.0.0.1:", http_port, "/authz");
  req.timeout = absl::Seconds(2);
  EXPECT_FALSE(http::Fetch(req).ok());
  fe_->Drain(absl::Seconds(1));  // idempotent
}

}  // namespace
}  // namespace shieldx::orchestrator::frontends
