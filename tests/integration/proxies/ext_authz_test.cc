// Envoy ext_authz v3 against ShieldX's front end over real gRPC, with ShieldX's own
// wire-compatible messages (Envoy itself is not packaged in Debian 12). The wire checks pin
// the names and field numbers Envoy uses, so a drift from Envoy's API fails here.
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "envoy/service/auth/v3/external_auth.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "libs/metrics/metrics.h"
#include "libs/testing/status_matchers.h"
#include "services/orchestrator/frontends/frontends.h"
#include "services/orchestrator/frontends/testing/scripted_decider.h"

namespace shieldx::proxies_test {
namespace {

using envoy::service::auth::v3::Authorization;
using envoy::service::auth::v3::CheckRequest;
using envoy::service::auth::v3::CheckResponse;
using orchestrator::frontends::testing::ScriptedDecider;
using ::shieldx::testing::IsOk;

class ExtAuthzTest : public ::testing::Test {
 protected:
  void SetUp() override {
    orchestrator::frontends::FrontEndsConfig config;
    config.ext_authz_listen = "127.0.0.1:0";
    auto fe = orchestrator::frontends::StartFrontEnds(config, decider_, metrics_);
    ASSERT_THAT(fe, IsOk());
    fe_ = std::move(*fe);
    stub_ = Authorization::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", fe_->ext_authz_port()), grpc::InsecureChannelCredentials()));
  }

  CheckResponse Check(const std::string& path, const std::string& method = "GET") {
    CheckRequest req;
    auto* http = req.mutable_attributes()->mutable_request()->mutable_http();
    http->set_method(method);
    http->set_path(path);
    http->set_host("shop.example");
    http->set_id("envoy-req-1");
    (*http->mutable_headers())["user-agent"] = "envoy";
    req.mutable_attributes()
        ->mutable_source()
        ->mutable_address()
        ->mutable_socket_address()
        ->set_address("198.51.100.7");
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    CheckResponse resp;
    grpc::Status s = stub_->Check(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }

  static std::string Header(
      const google::protobuf::RepeatedPtrField<envoy::config::core::v3::HeaderValueOption>& headers,
      const std::string& key) {
    for (const auto& h : headers) {
      if (h.header().key() == key) return h.header().value();
    }
    return "";
  }

  ScriptedDecider decider_{{.upstream_a = "10.0.0.1:8080",
                            .upstream_b = "10.0.0.2:8080",
                            .tarpit_ms = 100,
                            .rate_limit_n = 1,
                            .retry_after_s = 5}};
  metrics::MetricsRegistry metrics_{"orchestrator"};
  std::unique_ptr<orchestrator::frontends::FrontEnds> fe_;
  std::unique_ptr<Authorization::Stub> stub_;
};

TEST_F(ExtAuthzTest, AllowReturnsOkWithTheUpstreamHeader) {
  CheckResponse r = Check("/home");
  EXPECT_EQ(r.status().code(), 0);
  ASSERT_TRUE(r.has_ok_response());
  EXPECT_EQ(Header(r.ok_response().headers(), "x-shieldx-upstream"), "10.0.0.1:8080");
  EXPECT_EQ(Header(r.ok_response().headers(), "x-shieldx-request-id"), "envoy-req-1");
  auto seen = decider_.last();
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->request.client_ip, "198.51.100.7");
  EXPECT_EQ(seen->host, "shop.example");
  EXPECT_EQ(seen->front_end, pipeline::FrontEnd::kExtAuthz);
}

TEST_F(ExtAuthzTest, DivertPointsAtTheOtherPool) {
  CheckResponse r = Check("/divert");
  EXPECT_EQ(r.status().code(), 0);
  EXPECT_EQ(Header(r.ok_response().headers(), "x-shieldx-upstream"), "10.0.0.2:8080");
  EXPECT_EQ(Header(r.ok_response().headers(), "x-shieldx-action"), "divert");
}

TEST_F(ExtAuthzTest, BlockIsDeniedWithItsStatus) {
  CheckResponse r = Check("/sqli");
  EXPECT_EQ(r.status().code(), 7);
  ASSERT_TRUE(r.has_denied_response());
  EXPECT_EQ(static_cast<int>(r.denied_response().status().code()), 403);
  EXPECT_EQ(static_cast<int>(Check("/block/451").denied_response().status().code()), 451);
}

TEST_F(ExtAuthzTest, RateLimitIsDenied429WithRetryAfter) {
  EXPECT_EQ(Check("/rl").status().code(), 0);
  CheckResponse r = Check("/rl");
  EXPECT_EQ(static_cast<int>(r.denied_response().status().code()), 429);
  EXPECT_EQ(Header(r.denied_response().headers(), "retry-after"), "5");
}

TEST_F(ExtAuthzTest, TarpitAnswersAfterTheDelay) {
  const auto start = std::chrono::steady_clock::now();
  CheckResponse r = Check("/tarpit");
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(95));
  EXPECT_EQ(r.status().code(), 0);
  EXPECT_EQ(Header(r.ok_response().headers(), "x-shieldx-tarpit-ms"), "100");
}

TEST(ExtAuthzWire, NamesAndFieldNumbersMatchEnvoysApi) {
  EXPECT_EQ(Authorization::service_full_name(), std::string("envoy.service.auth.v3.Authorization"));
  const auto* check = CheckRequest::descriptor();
  EXPECT_EQ(check->full_name(), "envoy.service.auth.v3.CheckRequest");
  EXPECT_EQ(check->FindFieldByName("attributes")->number(), 1);
  const auto* http = envoy::service::auth::v3::AttributeContext::HttpRequest::descriptor();
  EXPECT_EQ(http->FindFieldByName("method")->number(), 2);
  EXPECT_EQ(http->FindFieldByName("headers")->number(), 3);
  EXPECT_EQ(http->FindFieldByName("path")->number(), 4);
  EXPECT_EQ(http->FindFieldByName("host")->number(), 5);
  EXPECT_EQ(http->FindFieldByName("body")->number(), 11);
  EXPECT_EQ(http->FindFieldByName("raw_body")->number(), 12);
  EXPECT_EQ(http->FindFieldByName("header_map")->number(), 13);
  const auto* resp = CheckResponse::descriptor();
  EXPECT_EQ(resp->FindFieldByName("denied_response")->number(), 2);
  EXPECT_EQ(resp->FindFieldByName("ok_response")->number(), 3);
  EXPECT_EQ(envoy::service::auth::v3::OkHttpResponse::descriptor()
                ->FindFieldByName("response_headers_to_add")
                ->number(),
            6);
}

TEST(ExtAuthzWire, ParsesBytesEncodedAsEnvoyEncodesThem) {
  // CheckRequest{attributes(1){request(4){http(2){method(2)="GET", path(4)="/x"}}}},
  // written out by hand from Envoy's field numbers.
  const std::string http = std::string("\x12\x03GET\x22\x02/x", 9);
  const std::string request = std::string("\x12") + static_cast<char>(http.size()) + http;
  const std::string attributes = std::string("\x22") + static_cast<char>(request.size()) + request;
  const std::string bytes = std::string("\x0a") + static_cast<char>(attributes.size()) + attributes;
  CheckRequest parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));
  EXPECT_EQ(parsed.attributes().request().http().method(), "GET");
  EXPECT_EQ(parsed.attributes().request().http().path(), "/x");
}

}  // namespace
}  // namespace shieldx::proxies_test
