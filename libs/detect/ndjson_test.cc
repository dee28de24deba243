#include "libs/detect/ndjson.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace shieldx::detect {
namespace {

TEST(Ndjson, ParsesTheRequestFieldsAndIgnoresLabels) {
  OwnedHttpRequest r;
  std::string id;
  ASSERT_TRUE(
      ParseRequestLine(R"({"id":"x:1","method":"POST","uri":"/a?b=1","version":"HTTP/1.0",)"
                       R"("headers":[["Host","h"],["X","1"],["X","2"]],"body_b64":"dGVzdD2s7QAF",)"
                       R"("client_ip":"198.18.0.1","label":"attack","category":"rce"})",
                       &r, &id)
          .ok());
  EXPECT_EQ(id, "x:1");
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.version, "HTTP/1.0");
  ASSERT_EQ(r.headers.size(), 3u);
  EXPECT_EQ(r.body, std::string("test=\xac\xed\x00\x05", 9));
}

TEST(Ndjson, VersionDefaultsOnlyWhenAbsent) {
  OwnedHttpRequest r;
  std::string id;
  ASSERT_TRUE(ParseRequestLine(R"({"method":"GET","uri":"/"})", &r, &id).ok());
  EXPECT_EQ(r.version, "HTTP/1.1");
  // An empty version is a request line that had none: kept, so the protocol checks see it.
  ASSERT_TRUE(ParseRequestLine(R"({"method":"GET","uri":"/","version":""})", &r, &id).ok());
  EXPECT_EQ(r.version, "");
}

TEST(Ndjson, RejectsMalformedLines) {
  OwnedHttpRequest r;
  std::string id;
  EXPECT_FALSE(ParseRequestLine("{", &r, &id).ok());
  EXPECT_FALSE(ParseRequestLine(R"({"id":"a","uri":"/"})", &r, &id).ok());  // no method
  EXPECT_FALSE(ParseRequestLine(R"({"method":"GET","uri":"/","headers":[["a"]]})", &r, &id).ok());
  EXPECT_FALSE(ParseRequestLine(R"({"method":"GET","uri":"/","body_b64":"!!"})", &r, &id).ok());
}

TEST(Ndjson, VerdictLineIsValidJsonWithEscapedExcerpts) {
  Verdict v;
  v.action = Action::kBlock;
  v.score = 9;
  v.categories = 1u << static_cast<int>(Category::kXss);
  v.findings.push_back(Finding{Category::kXss, 0.9f, "xss.script-tag", Source::kQuery, Part::kValue,
                               "q\"", "<script>\"\\x00"});
  nlohmann::json j = nlohmann::json::parse(VerdictJson("id\n1", v, 12, true));
  EXPECT_EQ(j["id"], "id\n1");
  EXPECT_EQ(j["action"], "block");
  EXPECT_EQ(j["categories"][0], "xss");
  EXPECT_EQ(j["findings"][0]["field"], "q\"");
  EXPECT_EQ(j["findings"][0]["location"], "query");
  nlohmann::json e = nlohmann::json::parse(ErrorJson("a", "bad \"line\""));
  EXPECT_EQ(e["action"], "error");
}

TEST(Ndjson, Base64Decoder) {
  std::string out;
  EXPECT_TRUE(DecodeBase64("aGVsbG8=", &out));
  EXPECT_EQ(out, "hello");
  EXPECT_FALSE(DecodeBase64("aGVs=bG8", &out));
  EXPECT_FALSE(DecodeBase64("a$", &out));
}

TEST(Finding, SafeExcerptEscapesAndBounds) {
  EXPECT_EQ(SafeExcerpt(std::string_view("a\x01\\b", 4), 80), "a\\x01\\\\b");
  std::string s = SafeExcerpt(std::string(200, 'x'), 20);
  EXPECT_LE(s.size(), 23u);
  EXPECT_EQ(s.substr(s.size() - 3), "...");
}

}  // namespace
}  // namespace shieldx::detect
