#include "libs/http/parser.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/http/router.h"

namespace shieldx::http {
namespace {

using State = HeadParseResult::State;

HeadParseResult Parse(const std::string& text, HttpRequest* req = nullptr,
                      HttpLimits limits = HttpLimits()) {
  HttpRequest local;
  return ParseRequestHead(text, 0, limits, req != nullptr ? req : &local);
}

TEST(Parser, ParsesRequestLineHeadersAndQuery) {
  HttpRequest req;
  std::string text = "GET /v1/items?id=4&x=a%20b HTTP/1.1\r\nHost: a\r\nX-Thing:  v1 \r\n\r\nrest";
  HeadParseResult r = Parse(text, &req);
  ASSERT_EQ(r.state, State::kComplete) << r.error_message;
  EXPECT_EQ(r.head_bytes, text.size() - 4);
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.path, "/v1/items");
  EXPECT_EQ(req.query, "id=4&x=a%20b");
  EXPECT_EQ(req.Header("host"), "a");
  EXPECT_EQ(req.Header("x-thing"), "v1");
  EXPECT_EQ(req.QueryParam("x"), "a b");
  EXPECT_EQ(req.QueryParam("missing"), std::nullopt);
  EXPECT_TRUE(r.keep_alive);
  EXPECT_EQ(r.content_length, 0u);
}

TEST(Parser, IsIncompleteUntilTheBlankLine) {
  EXPECT_EQ(Parse("GET / HTTP/1.1\r\nHost: a\r\n").state, State::kIncomplete);
  EXPECT_EQ(Parse("GET / HT").state, State::kIncomplete);
}

TEST(Parser, SkipsLeadingEmptyLines) {
  HttpRequest req;
  HeadParseResult r = Parse("\r\n\r\nGET /x HTTP/1.1\r\n\r\n", &req);
  ASSERT_EQ(r.state, State::kComplete);
  EXPECT_EQ(req.path, "/x");
}

TEST(Parser, RejectsMalformedRequestLinesWith400) {
  for (const char* bad : {"GET\r\n\r\n", "get / HTTP/1.1\r\n\r\n", "GET  / HTTP/1.1\r\n\r\n",
                          "GET / HTTP/1.1 x\r\n\r\n", "GET http://a/ HTTP/1.1\r\n\r\n",
                          "GET / HTTX/1.1\r\n\r\n", "GET /a\x01 HTTP/1.1\r\n\r\n"}) {
    HeadParseResult r = Parse(bad);
    EXPECT_EQ(r.state, State::kError) << bad;
    EXPECT_EQ(r.error_status, 400) << bad;
  }
  EXPECT_EQ(Parse("GET / HTTP/2.0\r\n\r\n").error_status, 505);
}

TEST(Parser, RejectsMalformedHeadersWith400) {
  for (const char* bad :
       {"GET / HTTP/1.1\r\nNoColon\r\n\r\n", "GET / HTTP/1.1\r\nBad Name: v\r\n\r\n",
        "GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", "GET / HTTP/1.1\r\n: v\r\n\r\n",
        "GET / HTTP/1.1\r\nA: b\x01\r\n\r\n", "GET / HTTP/1.1\r\nA: b\nC: d\r\n\r\n"}) {
    HeadParseResult r = Parse(bad);
    EXPECT_EQ(r.state, State::kError) << bad;
    EXPECT_EQ(r.error_status, 400) << bad;
  }
}

TEST(Parser, LongRequestLineIs414EvenBeforeTheHeadEnds) {
  HttpLimits limits;
  limits.max_request_line_bytes = 100;
  std::string line = "GET /" + std::string(200, 'a');
  EXPECT_EQ(Parse(line, nullptr, limits).error_status, 414);
  EXPECT_EQ(Parse(line + " HTTP/1.1\r\n\r\n", nullptr, limits).error_status, 414);
}

TEST(Parser, TooManyOrTooLargeHeadersAre431) {
  HttpLimits limits;
  limits.max_header_count = 3;
  limits.max_header_bytes = 200;
  std::string many = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 4; ++i) many += "H" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(Parse(many + "\r\n", nullptr, limits).error_status, 431);
  std::string big = "GET / HTTP/1.1\r\nA: " + std::string(300, 'x');
  EXPECT_EQ(Parse(big, nullptr, limits).error_status, 431);  // incomplete but already too big
  EXPECT_EQ(Parse(big + "\r\n\r\n", nullptr, limits).error_status, 431);
}

TEST(Parser, BodyFraming) {
  HttpLimits limits;
  limits.max_body_bytes = 10;
  HeadParseResult ok = Parse("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n", nullptr, limits);
  ASSERT_EQ(ok.state, State::kComplete);
  EXPECT_EQ(ok.content_length, 10u);
  EXPECT_EQ(Parse("POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n", nullptr, limits).error_status,
            413);
  EXPECT_EQ(Parse("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n").error_status, 400);
  EXPECT_EQ(Parse("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n").error_status,
            400);
  EXPECT_EQ(Parse("POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n").state,
            State::kComplete);
  EXPECT_EQ(Parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").error_status, 411);
  EXPECT_EQ(Parse("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n").error_status, 501);
  EXPECT_EQ(Parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n")
                .error_status,
            400);
}

TEST(Parser, ConnectionAndExpectSemantics) {
  EXPECT_FALSE(Parse("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").keep_alive);
  EXPECT_FALSE(Parse("GET / HTTP/1.0\r\n\r\n").keep_alive);
  EXPECT_TRUE(Parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive);
  EXPECT_TRUE(Parse("POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n")
                  .expect_continue);
  EXPECT_EQ(Parse("POST / HTTP/1.1\r\nExpect: other\r\n\r\n").error_status, 417);
}

TEST(Router, ExactLiteralBeatsParameterAndParameterBeatsRest) {
  Router r;
  int hit = 0;
  ASSERT_TRUE(r.Add("GET", "/v1/sites/{id}", [&](auto&, auto&) { hit = 1; }).ok());
  ASSERT_TRUE(r.Add("GET", "/v1/sites/new", [&](auto&, auto&) { hit = 2; }).ok());
  ASSERT_TRUE(r.Add("GET", "/v1/{rest...}", [&](auto&, auto&) { hit = 3; }).ok());
  HttpRequest req;
  HttpResponse resp;
  Router::Match m = r.Find("GET", "/v1/sites/new");
  ASSERT_EQ(m.status, 200);
  (*m.handler)(req, resp);
  EXPECT_EQ(hit, 2);
  m = r.Find("GET", "/v1/sites/a%2Fb");
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.pattern, "/v1/sites/{id}");
  ASSERT_EQ(m.params.size(), 1u);
  EXPECT_EQ(m.params[0].first, "id");
  EXPECT_EQ(m.params[0].second, "a/b");
  m = r.Find("GET", "/v1/a/b/c");
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.pattern, "/v1/{rest...}");
  EXPECT_EQ(m.params[0].second, "a/b/c");
  EXPECT_EQ(r.Find("GET", "/v1").status, 404);
  EXPECT_EQ(r.Find("GET", "/v1/sites/").status, 200);  // rest: "sites/"
  EXPECT_EQ(r.Find("GET", "/other").status, 404);
}

TEST(Router, WrongMethodIs405WithAllowAndHeadFallsBackToGet) {
  Router r;
  ASSERT_TRUE(r.Add("GET", "/x", [](auto&, auto&) {}).ok());
  ASSERT_TRUE(r.Add("POST", "/x", [](auto&, auto&) {}).ok());
  Router::Match m = r.Find("DELETE", "/x");
  EXPECT_EQ(m.status, 405);
  EXPECT_EQ(m.allow, "GET, POST");
  EXPECT_EQ(r.Find("HEAD", "/x").status, 200);
}

TEST(Router, RejectsDuplicateAndMalformedPatterns) {
  Router r;
  ASSERT_TRUE(r.Add("GET", "/x/{id}", [](auto&, auto&) {}).ok());
  EXPECT_EQ(r.Add("GET", "/x/{id}", [](auto&, auto&) {}).code(), absl::StatusCode::kAlreadyExists);
  for (const char* bad : {"x", "/a/{}", "/a/{b-c}", "/a/{x}/{x}", "/a/{r...}/b", "/a/b{c}"}) {
    EXPECT_EQ(r.Add("GET", bad, [](auto&, auto&) {}).code(), absl::StatusCode::kInvalidArgument)
        << bad;
  }
  EXPECT_EQ(r.Add("get", "/y", [](auto&, auto&) {}).code(), absl::StatusCode::kInvalidArgument);
}

TEST(Message, PercentDecodeRejectsMalformedEscapes) {
  EXPECT_EQ(PercentDecode("a%20b+c", true), "a b c");
  EXPECT_EQ(PercentDecode("a+c", false), "a+c");
  EXPECT_EQ(PercentDecode("%4", false), std::nullopt);
  EXPECT_EQ(PercentDecode("%zz", false), std::nullopt);
}

}  // namespace
}  // namespace shieldx::http
