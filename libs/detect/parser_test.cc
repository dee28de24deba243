#include "libs/detect/parser.h"

#include <brotli/encode.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/detect/limits.h"
#include "libs/detect/test_util.h"

namespace shieldx::detect {
namespace {

class ParserTest : public ::testing::Test {
 protected:
  const ParsedRequest& Parse(const OwnedHttpRequest& r) {
    request_ = r;
    arena_.Reset();
    ParseRequest(request_.view(), arena_, &parsed_);
    return parsed_;
  }
  // Value of the first field with this source and name.
  std::string ValueOf(Source s, std::string_view name, Part part = Part::kValue) {
    for (const auto& f : parsed_.fields) {
      if (f.source == s && f.name == name && f.part == part) return std::string(f.value);
    }
    return "<missing>";
  }
  // The values of the XML fields, in order.
  std::vector<std::string_view> XmlValues() const {
    std::vector<std::string_view> xml;
    for (const Field& f : parsed_.fields) {
      if (f.source == Source::kXml) xml.push_back(f.value);
    }
    return xml;
  }
  // The values of the fields from this source, in order.
  std::vector<std::string> ValuesOf(Source s) const {
    std::vector<std::string> v;
    for (const Field& f : parsed_.fields) {
      if (f.source == s) v.emplace_back(f.value);
    }
    return v;
  }
  int Count(Source s, std::string_view name) {
    int n = 0;
    for (const auto& f : parsed_.fields)
      n += f.source == s && f.name == name && f.part == Part::kValue;
    return n;
  }

  Arena arena_{limits::kArenaBlockBytes};
  OwnedHttpRequest request_;
  ParsedRequest parsed_;
};

TEST_F(ParserTest, QueryArgumentsAreDecodedWithRepeatedAndArrayKeys) {
  Parse(testing::Get("/p/a%20b/c?id=1&tag=x&tag=y&user%5Bname%5D=ann+lee&flag"));
  EXPECT_EQ(ValueOf(Source::kQuery, "id"), "1");
  EXPECT_EQ(Count(Source::kQuery, "tag"), 2);
  EXPECT_EQ(ValueOf(Source::kQuery, "user[name]"), "ann lee");
  EXPECT_EQ(ValueOf(Source::kQuery, ""), "flag");
  EXPECT_EQ(parsed_.path, "/p/a b/c");
  EXPECT_EQ(ValueOf(Source::kPathSegment, "path"), "p");
}

// Markup whose character references the '&' separator split ("alert&#40;1&#41;") is also
// read as the whole query string, decoded; a query of plain arguments is not.
TEST_F(ParserTest, EntitiesSplitBySeparatorsAddTheWholeQuery) {
  for (const char* q : {"a=x&#40;1", "a=1&%23x27;", "a=&lt;b&gt;", "a=javascript&colon;x",
                        "a=alert&lpar;1", "a=&quot;x", "b=1&a=x%26%2340;1", "b=1&c=2&a=&lt;b"}) {
    Parse(testing::Get(std::string("/p?") + q));
    EXPECT_EQ(Count(Source::kQuery, "(all arguments)"), 1) << q;
  }
  for (const char* q : {"a=1&b=2", "a=1&lang=en", "a=1&&b", "a=x&", "a=%26b", "q=&"}) {
    Parse(testing::Get(std::string("/p?") + q));
    EXPECT_EQ(Count(Source::kQuery, "(all arguments)"), 0) << q;
  }
  Parse(testing::Get("/p?a=x&#40;1"));
  EXPECT_EQ(ValueOf(Source::kQuery, "(all arguments)"), "a=x&#40;1");
}

// The UTF-8 check skips eight plain ASCII bytes at a time: a NUL, an invalid or an overlong
// sequence is reported wherever it falls in the argument, and plain text reports nothing.
TEST_F(ParserTest, ArgumentEncodingAnomaliesAreFoundAtAnyOffset) {
  for (std::size_t at = 0; at <= 20; ++at) {
    std::string head(at, 'a');
    std::string tail(20 - at, 'b');
    Parse(testing::Get("/p?v=" + head + "%00" + tail));
    EXPECT_TRUE(parsed_.anomalies & kAnomalyNulInArgs) << at;
    Parse(testing::Get("/p?v=" + head + "%FF" + tail));
    EXPECT_TRUE(parsed_.anomalies & kAnomalyInvalidUtf8) << at;
    Parse(testing::Get("/p?v=" + head + "%C0%AF" + tail));
    EXPECT_TRUE(parsed_.anomalies & kAnomalyOverlongUtf8) << at;
    Parse(testing::Get("/p?v=" + head + "%C3%A9" + tail));  // é: valid
    EXPECT_FALSE(parsed_.anomalies &
                 (kAnomalyNulInArgs | kAnomalyInvalidUtf8 | kAnomalyOverlongUtf8))
        << at;
  }
}

// The request-target check reads eight bytes at a time: every control byte, space and DEL is
// found at every offset, and no other byte value is reported.
TEST_F(ParserTest, ControlBytesInTheTargetAreFoundAtAnyOffset) {
  for (int b = 0; b < 256; ++b) {
    const bool bad = b <= 0x20 || b == 0x7f;
    for (std::size_t at = 0; at < 19; at += (b % 7) + 1) {
      std::string uri = "/p?q=" + std::string(at, 'a');
      uri += static_cast<char>(b);
      uri += std::string(18 - at, 'b');
      Parse(testing::Get(uri));
      EXPECT_EQ((parsed_.anomalies & kAnomalyBadUriChar) != 0, bad) << "byte " << b << " at " << at;
    }
  }
}

TEST_F(ParserTest, LineBreakInAnArgumentNameIsAnAnomaly) {
  Parse(testing::Get("/get?parameter%0d%0a=test"));
  EXPECT_TRUE(parsed_.anomalies & kAnomalyCrlfInArgs);
  // A bare query pair is a name to the back end.
  Parse(testing::Get("/get?a=1&%0d%0aRemote-addr:%20x"));
  EXPECT_TRUE(parsed_.anomalies & kAnomalyCrlfInArgs);
  // Line breaks in values are ordinary (text areas).
  Parse(testing::Get("/get?comment=line%20one%0d%0aline%20two&flag"));
  EXPECT_FALSE(parsed_.anomalies & kAnomalyCrlfInArgs);
  Parse(testing::Post("/f", "application/x-www-form-urlencoded", "note=a%0d%0ab&x=1"));
  EXPECT_FALSE(parsed_.anomalies & kAnomalyCrlfInArgs);
  // A script posted with a form type splits into line-spanning "names" at its own '&&'.
  Parse(testing::Post("/f", "application/x-www-form-urlencoded",
                      "code=if (a %26%26 b) {\n  x = 1;\n}\nif (c && d\n) { y = 2; }"));
  EXPECT_FALSE(parsed_.anomalies & kAnomalyCrlfInArgs);
}

TEST_F(ParserTest, ContentTypeParametersMustBeNameEqualsValue) {
  for (const char* ct : {"application/json; charset=utf-8", "text/html;charset=UTF-8;",
                         "multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW",
                         "application/x-www-form-urlencoded; charset=\"utf-8\"",
                         "multipart/mixed; boundary=-----boundary_data:55780(123,45:667)+part",
                         "text/plain; charset = utf-8", "application/xml"}) {
    Parse(testing::Post("/", ct, "a=1"));
    EXPECT_FALSE(parsed_.anomalies & kAnomalyBadContentType) << ct;
  }
  for (const char* ct : {"text/plain; charset=\"UTF-8\"; garbage", "text/xml; blah",
                         "multipart/form-data; boundary=  spaced", "text/plain; charset=\"utf-8",
                         "application/json; =utf-8", "text/plain; charset=utf 8"}) {
    Parse(testing::Post("/", ct, "a=1"));
    EXPECT_TRUE(parsed_.anomalies & kAnomalyBadContentType) << ct;
  }
}

// A path segment's matrix parameters (";name=value", split at raw ';' only) are name and
// value fields of the segment, marked as such; the whole segment stays a field too.
TEST_F(ParserTest, MatrixParametersOfAPathSegmentAreFields) {
  Parse(testing::Get("/cars;color=red%20car;year=2012;;flag/list;jsessionid=ABC?id=1"));
  EXPECT_EQ(ValueOf(Source::kPathSegment, "color"), "red car");
  EXPECT_EQ(ValueOf(Source::kPathSegment, "year"), "2012");
  EXPECT_EQ(ValueOf(Source::kPathSegment, "jsessionid"), "ABC");
  EXPECT_EQ(ValueOf(Source::kPathSegment, "jsessionid", Part::kName), "jsessionid");
  EXPECT_EQ(ValueOf(Source::kPathSegment, ""), "flag");
  EXPECT_EQ(ValueOf(Source::kPathSegment, "path"), "cars;color=red car;year=2012;;flag");
  EXPECT_EQ(ValueOf(Source::kQuery, "id"), "1");
  int params = 0;
  for (const Field& f : parsed_.fields) {
    const bool param = f.source == Source::kPathSegment && f.name != "path";
    EXPECT_EQ((f.flags & kFieldPathParam) != 0, param) << f.name << "=" << f.value;
    params += param;
  }
  EXPECT_EQ(params, 7);  // three names, three values, one bare piece
  // An encoded ';' is part of the segment, not a separator; '+' stays a plus in a path.
  Parse(testing::Get("/a%3Bq=1/b;k=x+y"));
  EXPECT_EQ(ValueOf(Source::kPathSegment, "q"), "<missing>");
  EXPECT_EQ(ValueOf(Source::kPathSegment, "k"), "x+y");
  // A segment of only ';' pieces ("..;", Tomcat's dot-segment trick) adds nothing.
  Parse(testing::Get("/app/..;/manager"));
  for (const Field& f : parsed_.fields) EXPECT_FALSE(f.flags & kFieldPathParam) << f.value;
}

// Back ends that also separate query arguments with ';' read "a=x;q=v" as a = "x" and
// q = "v": those arguments are fields too, besides the value as written. Only pieces named
// like arguments are taken; an encoded ';' separates nothing.
TEST_F(ParserTest, SemicolonSeparatedQueryArgumentsAreFieldsToo) {
  Parse(testing::Get("/s?a=x;q=%27abc;f(x)=1;b%5B%5D=2+3;bare&c=1%3Bd=2"));
  EXPECT_EQ(ValueOf(Source::kQuery, "a"), "x;q='abc;f(x)=1;b[]=2 3;bare");
  EXPECT_EQ(ValueOf(Source::kQuery, "q"), "'abc");
  EXPECT_EQ(ValueOf(Source::kQuery, "q", Part::kName), "q");
  EXPECT_EQ(ValueOf(Source::kQuery, "b[]"), "2 3");
  EXPECT_EQ(Count(Source::kQuery, "a"), 2);  // as written, and the piece before the ';'
  EXPECT_EQ(Count(Source::kQuery, "f(x)"), 0);
  EXPECT_EQ(ValueOf(Source::kQuery, "c"), "1;d=2");
  EXPECT_EQ(Count(Source::kQuery, "d"), 0);
  Parse(testing::Get("/s?a=x;y;z"));
  EXPECT_EQ(Count(Source::kQuery, "a"), 1);
  // A form body is split at '&' only.
  Parse(testing::Post("/f", "application/x-www-form-urlencoded", "a=x;q=1"));
  EXPECT_EQ(Count(Source::kBodyForm, "q"), 0);
}

// HTTP Basic credentials are decoded into a user name and a password field of the header.
TEST_F(ParserTest, BasicCredentialsAreFieldsOfTheirHeader) {
  auto basic = [this](std::string_view header, const std::string& plain) {
    Parse(testing::WithHeader(testing::Get("/"), std::string(header),
                              "Basic " + absl::Base64Escape(plain)));
  };
  basic("Authorization", "ann:p@ss:word");
  EXPECT_EQ(ValueOf(Source::kHeader, "authorization.basic-user"), "ann");
  EXPECT_EQ(ValueOf(Source::kHeader, "authorization.basic-password"), "p@ss:word");
  for (const Field& f : parsed_.fields) {
    EXPECT_EQ((f.flags & kFieldCredential) != 0, f.name.starts_with("authorization.basic-"))
        << f.name;
  }
  basic("Proxy-Authorization", "bob:");
  EXPECT_EQ(ValueOf(Source::kHeader, "proxy-authorization.basic-user"), "bob");
  EXPECT_EQ(ValueOf(Source::kHeader, "proxy-authorization.basic-password"), "");
  // No ':' (an API key sent as Basic), mostly binary bytes, or not base64: nothing added.
  for (const std::string& plain :
       {std::string("sk_live_0123456789"), std::string("\x01\x02\x03:\x04\x05", 6)}) {
    basic("Authorization", plain);
    EXPECT_EQ(ValueOf(Source::kHeader, "authorization.basic-user"), "<missing>");
  }
  Parse(testing::WithHeader(testing::Get("/"), "Authorization", "Basic not*base64"));
  EXPECT_EQ(ValueOf(Source::kHeader, "authorization.basic-user"), "<missing>");
  Parse(testing::WithHeader(testing::Get("/"), "X-Auth", "Basic " + absl::Base64Escape("a:b")));
  EXPECT_EQ(ValueOf(Source::kHeader, "authorization.basic-user"), "<missing>");
}

// JSON in a cookie or a free-form header, and a value that is a base64 JSON object, is read
// into fields as the application reads it; a fixed-grammar header is not.
TEST_F(ParserTest, JsonInCookiesHeadersAndBase64ValuesIsReadIntoFields) {
  Parse(
      testing::WithHeader(testing::Get("/"), "Cookie",
                          "sid=1; prefs=%7B%22theme%22%3A%22dark%22%2C%22q%22%3A%5B%22v%22%5D%7D"));
  EXPECT_EQ(ValueOf(Source::kCookie, "theme"), "dark");
  EXPECT_EQ(ValueOf(Source::kCookie, "q[0]"), "v");
  Parse(testing::WithHeader(
      testing::WithHeader(testing::Get("/"), "X-Client-Data", " {\"ab\":{\"q\":\"v\"}}"),
      "Cache-Control", "{\"cc\":\"v\"}"));
  EXPECT_EQ(ValueOf(Source::kHeader, "ab.q"), "v");
  EXPECT_EQ(ValueOf(Source::kHeader, "cc"), "<missing>");
  // In an XML element's text or CDATA.
  Parse(testing::Post("/x", "application/xml",
                      "<r><d> {\"q\":\"v\"} </d><e><![CDATA[[{\"w\":\"u\"}]]]></e></r>"));
  EXPECT_EQ(ValueOf(Source::kXml, "q"), "v");
  EXPECT_EQ(ValueOf(Source::kXml, "[0].w"), "u");
  const std::string state = absl::Base64Escape("{\"next\":\"/cart\",\"q\":\"it's\"}");
  Parse(testing::Get("/cb?state=" + testing::UrlEncode(state)));
  EXPECT_EQ(ValueOf(Source::kQuery, "state.base64-json.q"), "it's");
  EXPECT_EQ(ValueOf(Source::kQuery, "state.base64-json.next"), "/cart");
  Parse(testing::WithHeader(testing::Get("/"), "Cookie",
                            "s=" + absl::WebSafeBase64Escape("{\"u\":\"a<b\"}")));
  EXPECT_EQ(ValueOf(Source::kCookie, "s.base64-json.u"), "a<b");
  // Members that are base64 of binary (an encrypted cookie's iv and value) are left out;
  // base64 of text and text of base64 characters are kept.
  const std::string laravel = absl::Base64Escape(
      "{\"iv\":\"KL95ZfS0KmU54mSshV5M5A==\",\"value\":\"q83vASNFZ4mrze8BI0VniQ+/x9Z2\","
      "\"text\":\"" +
      absl::Base64Escape("' or 1=1--") + "\",\"dir\":\"extension_dir=/path/to/x\"}");
  Parse(testing::Get("/cb?t=" + testing::UrlEncode(laravel)));
  EXPECT_EQ(ValueOf(Source::kQuery, "t.base64-json.iv"), "<missing>");
  EXPECT_EQ(ValueOf(Source::kQuery, "t.base64-json.value"), "<missing>");
  EXPECT_EQ(ValueOf(Source::kQuery, "t.base64-json.text"), absl::Base64Escape("' or 1=1--"));
  EXPECT_EQ(ValueOf(Source::kQuery, "t.base64-json.dir"), "extension_dir=/path/to/x");
  // Not a JSON object once decoded, or more than one base64 run: nothing added.
  for (const std::string& v :
       {absl::Base64Escape("{\"u\":1"), std::string("eyJhIjoiYiJ9.eyJhIjoiYiJ9x"),
        "eyJ" + std::string(40, 'A')}) {
    Parse(testing::Get("/cb?state=" + testing::UrlEncode(v)));
    for (const Field& f : parsed_.fields)
      EXPECT_EQ(f.name.find("base64-json"), std::string_view::npos) << v;
  }
}

// A multipart file name in RFC 5987's extended form is read decoded, after its charset and
// language.
TEST_F(ParserTest, ExtendedMultipartFileNamesAreDecoded) {
  auto upload = [this](const std::string& disposition) {
    Parse(testing::Post("/up", "multipart/form-data; boundary=BB",
                        "--BB\r\nContent-Disposition: form-data; name=\"f\"; " + disposition +
                            "\r\nContent-Type: text/plain\r\n\r\nhello\r\n--BB--\r\n"));
    return ValuesOf(Source::kFileName);
  };
  using ::testing::ElementsAre;
  EXPECT_THAT(upload("filename*=UTF-8''%27%20or%201%3D1--.pdf"), ElementsAre("' or 1=1--.pdf"));
  EXPECT_THAT(upload("filename*=utf-8'en'n%C3%A4me.pdf; size=3"), ElementsAre("n\xC3\xA4me.pdf"));
  EXPECT_THAT(upload("filename=\"a.pdf\"; filename*=UTF-8''b%2Ephp"),
              ElementsAre("a.pdf", "b.php"));
  EXPECT_THAT(upload("filename*=noquotes.pdf"), ElementsAre("noquotes.pdf"));
}

// The last segment without a format extension, an X-Forwarded-For chain's elements that
// are not addresses, and Forwarded parameters that are not addresses or host names, are
// values of their own.
TEST_F(ParserTest, SegmentStemsAndForwardedForElementsAreValues) {
  auto segments = [this] { return ValuesOf(Source::kPathSegment); };
  using ::testing::ElementsAre;
  Parse(testing::Get("/users/1%20or%201=1.json?x=1"));
  EXPECT_THAT(segments(), ElementsAre("users", "1 or 1=1.json", "1 or 1=1"));
  Parse(testing::Get("/r/PHN2Zy9vbmxvYWQ9YWxlcnQoMSk.json"));  // a long undotted run
  EXPECT_THAT(segments(),
              ElementsAre("r", "PHN2Zy9vbmxvYWQ9YWxlcnQoMSk.json", "PHN2Zy9vbmxvYWQ9YWxlcnQoMSk"));
  for (const char* uri : {"/static/app.min.js", "/a/report-2024_q1.pdf", "/a/b.c/d",
                          "/a/x%20y.toolong", "/a/.htaccess", "/a/x%20y.j-s"}) {
    Parse(testing::Get(uri));
    const std::vector<std::string> v = segments();
    EXPECT_EQ(std::count(v.begin(), v.end(), v.back()), 1) << uri;
    EXPECT_TRUE(std::string_view(uri).ends_with(v.back()) ||
                v.back().find(' ') != std::string::npos)
        << uri;
    EXPECT_EQ(v.size(), static_cast<std::size_t>(std::count(uri, uri + std::strlen(uri), '/')))
        << uri;
  }
  Parse(testing::WithHeader(testing::Get("/"), "X-Forwarded-For",
                            "10.0.0.1, [2001:db8::1], 1' or '1'='1 ,192.168.1.1"));
  std::vector<std::string> xff;
  for (const Field& f : parsed_.fields) {
    if (f.name == "X-Forwarded-For") xff.emplace_back(f.value);
  }
  EXPECT_THAT(xff,
              ElementsAre("10.0.0.1, [2001:db8::1], 1' or '1'='1 ,192.168.1.1", "1' or '1'='1"));
  Parse(testing::WithHeader(testing::Get("/"), "Forwarded",
                            "for=192.0.2.60;proto=http;by=\"[2001:db8::17]:47011\", "
                            "for=_hidden;host=\"shop.example\", for=unknown;host=\"a, b;c\""));
  std::vector<std::string> fwd;
  for (const Field& f : parsed_.fields) {
    if (f.name == "Forwarded") fwd.emplace_back(f.value);
  }
  EXPECT_THAT(fwd, ElementsAre(::testing::StartsWith("for=192.0.2.60;"), "a, b;c"));
}

TEST_F(ParserTest, EncodedSlashStaysInsideOneSegment) {
  Parse(testing::Get("/files/..%2F..%2Fetc%2Fpasswd"));
  bool found = false;
  for (const auto& f : parsed_.fields) {
    found = found || (f.source == Source::kPathSegment && f.value == "../../etc/passwd");
  }
  EXPECT_TRUE(found);
}

// A URL or a commented SQL payload in the path is cut by its own slashes; the parser adds it
// once more as one value, from its scheme (or the segment before the first "/*") to the end.
TEST_F(ParserTest, EmbeddedUrlAndCommentedTailAreValuesOfTheirOwn) {
  auto segments = [this] { return ValuesOf(Source::kPathSegment); };
  using ::testing::Contains;
  using ::testing::ElementsAre;
  Parse(testing::Get("/proxy/http://10.0.0.1:8080/admin?x=1"));
  EXPECT_THAT(segments(), Contains("http://10.0.0.1:8080/admin"));
  Parse(testing::Get("/view/php%3A%2F%2Ffilter/resource=index.php"));
  EXPECT_THAT(segments(), Contains("php://filter/resource=index.php"));
  Parse(testing::Get("/thumb/300x200/smart/https://cdn.example/a.jpg"));
  EXPECT_THAT(segments(), Contains("https://cdn.example/a.jpg"));
  Parse(testing::Get("/api/users/1/**/union/**/select/**/1"));
  EXPECT_THAT(segments(), Contains("1/**/union/**/select/**/1"));
  // No scheme at a segment start, a scheme that starts with a digit, a colon without a
  // slash, or a comment mark at the start: the segments are all there is.
  for (const char* path :
       {"/a/b:c/d", "/a/user@http:/b", "/a/1http://b", "/a/averyveryverylongscheme://b",
        "/time/12:30/x", "/a/b-c/d:e", "/*/x"}) {
    Parse(testing::Get(path));
    for (const std::string& seg : segments()) {
      EXPECT_EQ(seg.find('/'), std::string::npos) << path;
    }
  }
  Parse(testing::Get("/a/b"));
  EXPECT_THAT(segments(), ElementsAre("a", "b"));
}

// The string arguments of a GraphQL document are values of their own, named after their
// argument; escapes are read, block strings kept whole, variables and numbers skipped.
TEST_F(ParserTest, GraphqlStringArgumentsAreFields) {
  Parse(testing::Post("/graphql", "application/json",
                      R"({"query":"query { user(id: \"1 OR 1=1\", n: 3) { posts(q: \"a\\\"b\") )"
                      R"({ id } } mutation { c(body: \"\"\"x; y\"\"\") { id } }"})"));
  EXPECT_EQ(ValueOf(Source::kJson, "id"), "1 OR 1=1");
  EXPECT_EQ(ValueOf(Source::kJson, "q"), "a\"b");
  EXPECT_EQ(ValueOf(Source::kJson, "body"), "x; y");
  EXPECT_EQ(ValueOf(Source::kJson, "n"), "<missing>");
  // A JSON object is still JSON, and text that only mentions a query is not a document.
  Parse(testing::Post("/api", "application/json", R"({"q":"{\"a\":\"(b: \\\"c\\\")\"}"})"));
  EXPECT_EQ(ValueOf(Source::kJson, "a"), "(b: \"c\")");
  EXPECT_EQ(ValueOf(Source::kJson, "b"), "<missing>");
  Parse(testing::Get("/?q=query%20the%20database%20(fast%3A%20%22yes%22)"));
  EXPECT_EQ(ValueOf(Source::kQuery, "fast"), "<missing>");
  // A Pascal comment in braces opens no selection set.
  Parse(testing::Get("/?q=%7B%20prompt%20for%20a%20file%20%7D%20Open(f%3A%20%22x%22)"));
  EXPECT_EQ(ValueOf(Source::kQuery, "f"), "<missing>");
}

TEST_F(ParserTest, CookiesAndStructuredHeaders) {
  OwnedHttpRequest r = testing::Get("/");
  r.headers.emplace_back("Cookie", "sid=abc; theme=dark%20blue; \"quoted\"");
  r.headers.emplace_back("X-Custom", "hello");
  Parse(r);
  EXPECT_EQ(ValueOf(Source::kCookie, "theme"), "dark blue");
  for (const auto& f : parsed_.fields) {
    if (f.source == Source::kHeader && f.name == "Accept") {
      EXPECT_TRUE(f.flags & kFieldStructured);
    }
    if (f.source == Source::kHeader && f.name == "X-Custom") {
      EXPECT_FALSE(f.flags & kFieldStructured);
    }
  }
}

// A quoted cookie value's backslash escapes are read as Python's http.cookies and Werkzeug
// read them (octal "\\074" is '<', "\\c" is c): that reading is a second value of the
// cookie; values without a backslash, or not quoted, get none.
TEST_F(ParserTest, QuotedCookieEscapesAreASecondReading) {
  OwnedHttpRequest r = testing::Get("/");
  r.headers.emplace_back(
      "Cookie", R"(a="\074b\076 \"q\" \\ \400 \07"; plain="x\074"z; c="no escapes"; d=\074)");
  Parse(r);
  std::vector<std::string> a;
  for (const Field& f : parsed_.fields) {
    if (f.source == Source::kCookie && f.name == "a" && f.part == Part::kValue)
      a.emplace_back(f.value);
  }
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0], R"(\074b\076 \"q\" \\ \400 \07)");
  // \400 is past \377: '4' then "00"; a trailing \07 lacks its third digit.
  EXPECT_EQ(a[1], R"(<b> "q" \ 400 07)");
  EXPECT_EQ(Count(Source::kCookie, "plain"), 1);
  EXPECT_EQ(Count(Source::kCookie, "c"), 1);
  EXPECT_EQ(Count(Source::kCookie, "d"), 1);
}

TEST_F(ParserTest, FormBodyWithPlusAndPercent) {
  Parse(testing::Post("/login", "application/x-www-form-urlencoded", "user=a+b&pass=%27x"));
  EXPECT_EQ(parsed_.body_kind, BodyKind::kForm);
  EXPECT_EQ(ValueOf(Source::kBodyForm, "user"), "a b");
  EXPECT_EQ(ValueOf(Source::kBodyForm, "pass"), "'x");
}

TEST_F(ParserTest, JsonLeavesCarryTheirPathAndKeysAreFields) {
  Parse(testing::Post("/api", "application/json",
                      R"({"user":{"name":"O\u0027Brien","tags":["a","b"]},"n":12,"ok":true})"));
  EXPECT_EQ(parsed_.body_kind, BodyKind::kJson);
  EXPECT_EQ(ValueOf(Source::kJson, "user.name"), "O'Brien");
  EXPECT_EQ(ValueOf(Source::kJson, "user.tags[1]"), "b");
  EXPECT_EQ(ValueOf(Source::kJson, "n"), "12");
  EXPECT_EQ(ValueOf(Source::kJson, "user.name", Part::kName), "name");
}

TEST_F(ParserTest, JsonDeeperThanTheLimitIsReported) {
  std::string deep(limits::kMaxJsonDepth + 5, '[');
  deep += std::string(limits::kMaxJsonDepth + 5, ']');
  Parse(testing::Post("/api", "application/json", deep));
  EXPECT_TRUE(parsed_.anomalies & kAnomalyJsonTooDeep);
}

TEST_F(ParserTest, MalformedJsonIsReportedAndKeptAsText) {
  Parse(testing::Post("/api", "application/json", R"({"a": "x' or 1=1 --)"));
  EXPECT_TRUE(parsed_.anomalies & kAnomalyJsonMalformed);
}

TEST_F(ParserTest, TextPlainBodyThatIsJsonIsSniffed) {
  Parse(testing::Post("/beacon", "text/plain;charset=UTF-8", R"({"event":"view","page":"/home"})"));
  EXPECT_EQ(parsed_.body_kind, BodyKind::kJson);
  EXPECT_EQ(ValueOf(Source::kJson, "page"), "/home");
}

TEST_F(ParserTest, XmlTextAttributesAndDoctype) {
  Parse(testing::Post(
      "/soap", "text/xml",
      "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
      "<r><name lang=\"en\">Ann</name><![CDATA[<b>raw</b>]]></r>"));
  EXPECT_EQ(parsed_.body_kind, BodyKind::kXml);
  EXPECT_TRUE(parsed_.anomalies & kAnomalyXmlDoctype);
  EXPECT_EQ(ValueOf(Source::kXml, "name"), "Ann");
  EXPECT_EQ(ValueOf(Source::kXml, "name@lang"), "en");
  EXPECT_EQ(ValueOf(Source::kXml, "r"), "<b>raw</b>");
}

// Processing instructions and server page blocks hold no element text: they are values of
// their own, except the XML declaration and style sheet instructions. A '>' inside one does
// not end it.
TEST_F(ParserTest, XmlProcessingInstructionsAndServerBlocksAreValues) {
  Parse(testing::Post("/x", "application/xml",
                      "<?xml version=\"1.0\"?><?xml-stylesheet href=\"s.xsl\"?>"
                      "<r><?php echo $a->b; ?><% out.print(1); %></r>"));
  EXPECT_EQ(parsed_.body_kind, BodyKind::kXml);
  EXPECT_EQ(ValueOf(Source::kXml, "r"), "<?php echo $a->b; ?>");
  // A style sheet's href is a URL the XSLT processor fetches: a value of its own.
  EXPECT_EQ(ValueOf(Source::kXml, "xml-stylesheet@href"), "s.xsl");
  EXPECT_EQ(XmlValues(), (std::vector<std::string_view>{"s.xsl", "<?php echo $a->b; ?>",
                                                        "<% out.print(1); %>"}));
  Parse(testing::Post("/x", "application/xml",
                      "<?xml-stylesheet type='text/xsl' href='http://127.0.0.1/a.xsl'?><r/>"));
  EXPECT_EQ(ValueOf(Source::kXml, "xml-stylesheet@href"), "http://127.0.0.1/a.xsl");
}

// The declaration with a line break or in capitals after "<?xml" is still the declaration:
// it never becomes a value.
TEST_F(ParserTest, XmlDeclarationInAnySpellingIsNoValue) {
  for (const char* body : {"<?xml\nversion=\"1.0\"?><r>hello</r>",
                           "<?XML\tversion=\"1.0\"?><r>hello</r>", "<?xml?><r>hello</r>"}) {
    Parse(testing::Post("/x", "application/xml", body));
    EXPECT_EQ(XmlValues(), (std::vector<std::string_view>{"hello"})) << body;
  }
}

// Markup sent as text is judged whole (its tag and attribute names matter, as in a form
// field), and server-side include directives, which are comments to XML, are values.
TEST(XmlBodies, MarkupSentAsTextAndSsiDirectivesAreJudged) {
  for (const char* type : {"text/plain", "text/html", ""}) {
    for (const char* body :
         {"<link rel=import href=http://evil.example/x.html>", "<!--#exec cmd=\"id\"-->",
          "<!--#include virtual=\"/etc/passwd\"-->"}) {
      Verdict v = testing::Inspect(testing::Post("/c", type, body));
      EXPECT_TRUE(testing::Flagged(v)) << type << " " << body << " -> " << v.explanation;
    }
  }
  Verdict ssi =
      testing::Inspect(testing::Post("/c", "application/xml", "<r><!--#exec cmd=\"id\"--></r>"));
  EXPECT_TRUE(testing::Flagged(ssi)) << ssi.explanation;
  Verdict doc = testing::Inspect(testing::Post(
      "/c", "text/html", "<p>Hello <a href=\"https://example.com/\">there</a></p><!-- note -->"));
  EXPECT_FALSE(testing::Flagged(doc)) << doc.explanation;
}

TEST(XmlBodies, ServerCodeInAnXmlOrTextBodyIsBlocked) {
  for (const char* type : {"application/xml", "text/plain", ""}) {
    for (const char* body : {"<?php system($_GET['c']); ?>", "<%= 7*7 %>"}) {
      Verdict v = testing::Inspect(testing::Post("/c", type, body));
      EXPECT_TRUE(testing::Flagged(v)) << type << " " << body << " -> " << v.explanation;
    }
  }
  Verdict ok = testing::Inspect(testing::Post(
      "/c", "application/xml",
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><?mso-application progid=\"Excel.Sheet\"?>"
      "<Workbook><Row>1</Row></Workbook>"));
  EXPECT_FALSE(testing::Flagged(ok)) << ok.explanation;
}

TEST_F(ParserTest, MultipartFieldsFilenamesAndCharsets) {
  std::string body =
      "--B\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nhello\r\n"
      "--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"shell.php\"\r\n"
      "Content-Type: application/octet-stream\r\n\r\n\x01\x02binary\r\n"
      "--B\r\nContent-Disposition: form-data; name=\"j\"\r\nContent-Type: application/json\r\n\r\n"
      "{\"k\":\"v\"}\r\n"
      "--B\r\nContent-Disposition: form-data; name=\"u\"\r\nContent-Type: text/plain; "
      "charset=utf-7\r\n\r\n"
      "+ADw-\r\n--B--\r\n";
  Parse(testing::Post("/up", "multipart/form-data; boundary=B", body));
  EXPECT_EQ(parsed_.body_kind, BodyKind::kMultipart);
  EXPECT_EQ(ValueOf(Source::kMultipart, "title"), "hello");
  EXPECT_EQ(ValueOf(Source::kFileName, "f"), "shell.php");
  // The file's bytes are a field of their own, marked so that only the upload checks read it.
  int file_contents = 0;
  for (const Field& f : parsed_.fields) {
    if (f.flags & kFieldFileContent) {
      ++file_contents;
      EXPECT_EQ(f.value, "\x01\x02binary");
      EXPECT_EQ(f.source, Source::kMultipart);
    }
  }
  EXPECT_EQ(file_contents, 1);
  EXPECT_EQ(ValueOf(Source::kMultipart, "k"), "v");
  EXPECT_TRUE(parsed_.anomalies & kAnomalyMultipartCharset);
  EXPECT_TRUE(parsed_.anomalies & kAnomalyUtf7);
  EXPECT_FALSE(parsed_.anomalies & kAnomalyMultipartMalformed);
}

// Text before the first delimiter or after the closing one is no part, but a parser that
// finds the boundary elsewhere would read it: it is a value. The usual line breaks are not.
TEST_F(ParserTest, MultipartPreambleAndEpilogueAreValues) {
  const std::string part = "--XX\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n";
  Parse(testing::Post("/up", "multipart/form-data; boundary=XX",
                      "before\r\n" + part + "--XX--\r\nafter"));
  EXPECT_EQ(ValueOf(Source::kBodyRaw, "(multipart preamble)"), "before\r\n");
  EXPECT_EQ(ValueOf(Source::kBodyRaw, "(multipart epilogue)"), "\r\nafter");
  EXPECT_EQ(ValueOf(Source::kMultipart, "a"), "1");
  Parse(testing::Post("/up", "multipart/form-data; boundary=XX", "\r\n" + part + "--XX--\r\n"));
  EXPECT_EQ(Count(Source::kBodyRaw, "(multipart preamble)"), 0);
  EXPECT_EQ(Count(Source::kBodyRaw, "(multipart epilogue)"), 0);
  EXPECT_FALSE(parsed_.anomalies & kAnomalyMultipartMalformed);
}

TEST_F(ParserTest, MultipartWithoutBoundaryIsReported) {
  Parse(testing::Post("/up", "multipart/form-data", "--x\r\n\r\n"));
  EXPECT_TRUE(parsed_.anomalies & kAnomalyMultipartNoBoundary);
}

TEST_F(ParserTest, SmugglingSignals) {
  OwnedHttpRequest r = testing::Post("/", "text/plain", "abc");
  r.headers.emplace_back("Transfer-Encoding", "chunked, identity");
  r.headers.emplace_back("Content-Length", "99");
  Parse(r);
  EXPECT_TRUE(parsed_.anomalies & kAnomalyClAndTe);
  EXPECT_TRUE(parsed_.anomalies & kAnomalyBadTe);
  EXPECT_TRUE(parsed_.anomalies & kAnomalyConflictingCl);
}

// HTTP/1.0 has no transfer codings: chunked framing there is faulty, and receivers disagree
// on it. The same header in HTTP/1.1 is ordinary.
TEST_F(ParserTest, ChunkedInHttp10IsASmugglingSignal) {
  OwnedHttpRequest r = testing::Post("/", "text/plain", "abc");
  r.headers.emplace_back("Transfer-Encoding", "chunked");
  Parse(r);
  EXPECT_FALSE(parsed_.anomalies & kAnomalyBadTe);
  r.version = "HTTP/1.0";
  Parse(r);
  EXPECT_TRUE(parsed_.anomalies & kAnomalyBadTe);
}

TEST_F(ParserTest, RequestLineAnomalies) {
  OwnedHttpRequest r = testing::Get("http://evil/x?a=%u0027&b=%zz");
  r.method = "G(ET";
  r.version = "HTTP/0.9";
  r.headers.erase(r.headers.begin());  // no Host
  Parse(r);
  EXPECT_TRUE(parsed_.anomalies & kAnomalyBadMethod);
  EXPECT_TRUE(parsed_.anomalies & kAnomalyBadVersion);
  EXPECT_TRUE(parsed_.anomalies & kAnomalyMissingHost);
  EXPECT_TRUE(parsed_.anomalies & kAnomalyAbsoluteUri);
  EXPECT_TRUE(parsed_.anomalies & kAnomalyPercentU);
  EXPECT_TRUE(parsed_.anomalies & kAnomalyInvalidPercent);
  EXPECT_EQ(parsed_.path, "/x");
}

TEST_F(ParserTest, PastTheFieldLimitOnlyFieldsThatCouldCarryAnAttackAreKept) {
  // 3,000 padding arguments of short names and numbers, then the payload and a long token.
  std::string body;
  for (std::size_t i = 0; i < 3000; ++i) body += "a" + std::to_string(i) + "=-1.5e3&";
  body += "q=%3Cscript%3E&h=0123456789abcdef&d=1.5.3&s=a%20b&f=2.2250738585072011e-308";
  body += "&w=12x&e=1e&x=-0.5E%2B12";
  Parse(testing::Post("/", "application/x-www-form-urlencoded", body));
  EXPECT_TRUE(parsed_.anomalies & kAnomalyFieldsOverflow);
  EXPECT_FALSE(parsed_.anomalies & kAnomalyFieldsNotInspected);
  EXPECT_LT(parsed_.fields.size(), limits::kMaxFields + 20);
  // Kept: the payload, letters and digits long enough to be base64, anything else not a
  // number, a number as long as the float-parsing DoS, and everything before the limit.
  // Gone: the padding past the limit, and short words and numbers.
  const std::pair<const char*, const char*> expected[] = {{"q", "<script>"},
                                                          {"h", "0123456789abcdef"},
                                                          {"d", "1.5.3"},
                                                          {"s", "a b"},
                                                          {"f", "2.2250738585072011e-308"},
                                                          {"a5", "-1.5e3"},
                                                          {"a2999", "<missing>"},
                                                          {"w", "<missing>"},
                                                          {"e", "<missing>"},
                                                          {"x", "<missing>"}};
  for (const auto& [name, value] : expected) {
    EXPECT_EQ(ValueOf(Source::kBodyForm, name), value) << name;
  }
}

TEST_F(ParserTest, MoreFieldsThatCouldCarryAnAttackThanTheScreenedLimitAreReported) {
  // Each argument is a name ("a", plain) and a value that is not.
  std::string body;
  for (std::size_t i = 0; i < limits::kMaxScreenedFields - limits::kMaxFields; ++i) {
    body += "a=%27x&";
  }
  Parse(testing::Post("/", "application/x-www-form-urlencoded", body));
  EXPECT_TRUE(parsed_.anomalies & kAnomalyFieldsOverflow);
  EXPECT_FALSE(parsed_.anomalies & kAnomalyFieldsNotInspected);
  for (std::size_t i = 0; i < limits::kMaxFields; ++i) body += "a=%27x&";
  Parse(testing::Post("/", "application/x-www-form-urlencoded", body));
  EXPECT_TRUE(parsed_.anomalies & kAnomalyFieldsNotInspected);
  EXPECT_EQ(parsed_.fields.size(), limits::kMaxScreenedFields);
}

TEST_F(ParserTest, PartsCookiesAndSegmentsPastTheirLimitsAreReportedAsNotInspected) {
  std::string path;
  for (std::size_t i = 0; i < limits::kMaxPathSegments; ++i) path += "/a";
  Parse(testing::Get(path));
  EXPECT_FALSE(parsed_.anomalies & kAnomalyFieldsNotInspected);
  Parse(testing::Get(path + "/b"));
  EXPECT_TRUE(parsed_.anomalies & kAnomalyFieldsNotInspected);

  std::string cookies = "c=1";
  for (std::size_t i = 1; i < limits::kMaxCookies; ++i) cookies += "; c=1";
  OwnedHttpRequest r = testing::Get("/");
  r.headers.emplace_back("Cookie", cookies);
  Parse(r);
  EXPECT_FALSE(parsed_.anomalies & kAnomalyFieldsNotInspected);
  r.headers.back().second += "; q=1";
  Parse(r);
  EXPECT_TRUE(parsed_.anomalies & kAnomalyFieldsNotInspected);

  std::string parts;
  for (std::size_t i = 0; i < limits::kMaxMultipartParts; ++i) {
    parts += "--XX\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n";
  }
  Parse(testing::Post("/", "multipart/form-data; boundary=XX", parts + "--XX--\r\n"));
  EXPECT_FALSE(parsed_.anomalies & kAnomalyFieldsNotInspected);
  parts += "--XX\r\nContent-Disposition: form-data; name=\"q\"\r\n\r\n1\r\n";
  Parse(testing::Post("/", "multipart/form-data; boundary=XX", parts + "--XX--\r\n"));
  EXPECT_TRUE(parsed_.anomalies & kAnomalyFieldsNotInspected);
}

// JSON Lines and concatenated documents under a JSON type: a bulk API reads every document,
// so each is split into fields; what follows the last one that parses stays visible as text.
TEST_F(ParserTest, JsonDocumentsOneAfterAnotherAreAllRead) {
  Parse(testing::Post("/bulk", "application/json",
                      "{\"a\":1}\n{\"q\":\"union select\"}\n[\"x\"]{\"r\":2} tail'"));
  EXPECT_TRUE(parsed_.anomalies & kAnomalyJsonMalformed);
  EXPECT_EQ(ValueOf(Source::kJson, "a"), "1");
  EXPECT_EQ(ValueOf(Source::kJson, "q"), "union select");
  EXPECT_EQ(ValueOf(Source::kJson, "[0]"), "x");
  EXPECT_EQ(ValueOf(Source::kJson, "r"), "2");
  EXPECT_EQ(ValueOf(Source::kJson, "(json-rest)"), "tail'");
  // One document: strict JSON, nothing noted.
  Parse(testing::Post("/one", "application/json", "{\"a\":1}\n"));
  EXPECT_FALSE(parsed_.anomalies & kAnomalyJsonMalformed);
}

// Lenient parsers take single-quoted strings and names; read that way, the payload is the
// value, not text wrapped in quotes.
TEST_F(ParserTest, SingleQuotedJsonIsReadAsLenientParsersReadIt) {
  Parse(testing::Post("/api", "application/json",
                      R"({'q':'\' or 1=1--', "n":'O\'Brien', 'k': [1, 'two']})"));
  EXPECT_TRUE(parsed_.anomalies & kAnomalyJsonMalformed);
  EXPECT_EQ(ValueOf(Source::kJson, "q"), "' or 1=1--");
  EXPECT_EQ(ValueOf(Source::kJson, "n"), "O'Brien");
  EXPECT_EQ(ValueOf(Source::kJson, "k[1]"), "two");
  EXPECT_EQ(ValueOf(Source::kJson, "q", Part::kName), "q");
}

// A text body that only looks like JSON at first (a Sentry envelope: JSON Lines posted as
// text/plain) is inspected as one text value, and what the JSON reading noted is dropped.
TEST_F(ParserTest, SniffedJsonLinesStayTextWithoutTheJsonReadingsFacts) {
  std::string lines = "{\"event_id\":\"a\"}\n{\"items\":[";
  for (int i = 0; i < 1500; ++i) lines += std::string(i ? "," : "") + "\"it's\"";
  lines += "]}";
  Parse(testing::Post("/envelope", "text/plain;charset=UTF-8", lines));
  EXPECT_EQ(parsed_.body_kind, BodyKind::kText);
  EXPECT_FALSE(parsed_.anomalies & kAnomalyJsonMalformed);
  EXPECT_FALSE(parsed_.anomalies & kAnomalyFieldsOverflow);
  EXPECT_EQ(Count(Source::kBodyRaw, ""), 1);
}

std::string Jwt(const std::string& header, const std::string& claims) {
  return absl::WebSafeBase64Escape(header) + "." + absl::WebSafeBase64Escape(claims) +
         ".c2lnbmF0dXJl";
}

// A token's header and claims are JSON the application decodes: their members are fields
// named after the carrier, wherever the token is (a header, a cookie, an argument). As a
// token comes with every request of a session, members that cannot carry an attack (short
// words, numbers: PlainField) are left out.
TEST_F(ParserTest, JsonWebTokenMembersAreFields) {
  OwnedHttpRequest r = testing::Get(
      "/me?t=" + Jwt(R"({"alg":"HS256"})", R"({"sub":"user-17@x","roles":["a","b c"]})"));
  r.headers.emplace_back("Authorization",
                         "Bearer " + Jwt(R"({"alg":"RS256","kid":"k' or 1=1"})", R"({"n":1})"));
  r.headers.emplace_back("Cookie", "s=" + Jwt(R"({"alg":"HS256","jku":"http://x/"})", "{}"));
  Parse(r);
  const std::tuple<Source, const char*, const char*> expected[] = {
      {Source::kQuery, "t.jwt-claims.sub", "user-17@x"},
      {Source::kQuery, "t.jwt-claims.roles[1]", "b c"},
      {Source::kHeader, "Authorization.jwt-header.kid", "k' or 1=1"},
      {Source::kCookie, "s.jwt-header.jku", "http://x/"},
      {Source::kQuery, "t.jwt-header.alg", "<missing>"},
      {Source::kQuery, "t.jwt-claims.roles[0]", "<missing>"},
      {Source::kHeader, "Authorization.jwt-claims.n", "<missing>"}};
  for (const auto& [source, name, value] : expected) {
    EXPECT_EQ(ValueOf(source, name), value) << name;
  }
  EXPECT_EQ(ValueOf(Source::kQuery, "t.jwt-claims.sub", Part::kName), "<missing>");
  EXPECT_FALSE(parsed_.anomalies & kAnomalyJsonMalformed);
}

// Text that only starts like a token is not read as one: a word after other base64, a
// header that is not a JSON object, a part that does not end at a '.'; and at most
// kMaxJwtTokens tokens are read per request.
TEST_F(ParserTest, OnlyWellFormedTokensAreReadAndOnlySoMany) {
  const std::string header =
      absl::WebSafeBase64Escape(std::string(R"({"alg":"HS256","kid":"x y"})"));
  const std::string not_json = absl::WebSafeBase64Escape(std::string(R"({"alg":"HS 256")"));
  // (A header alone would be a whole base64 JSON value: "c" ends it with a '~'.)
  std::string uri = "/?a=x" + header + ".eyJ9.sig&b=" + not_json + ".eyJ9.sig&c=" + header + "~";
  for (std::size_t i = 0; i < limits::kMaxJwtTokens + 2; ++i) {
    uri += "&t" + std::to_string(i) + "=" + Jwt(R"({"alg":"HS256"})", R"({"i":"v w"})");
  }
  Parse(testing::Get(uri));
  std::size_t claims = 0;
  for (const Field& f : parsed_.fields) {
    EXPECT_FALSE(f.name.starts_with("a.") || f.name.starts_with("b.") || f.name.starts_with("c."))
        << f.name;
    claims += f.part == Part::kValue && f.name.ends_with(".jwt-claims.i");
  }
  EXPECT_EQ(claims, limits::kMaxJwtTokens);
  EXPECT_FALSE(parsed_.anomalies & kAnomalyJsonMalformed);
}

TEST_F(ParserTest, JsonInsideAQueryValueIsSplitIntoFields) {
  Parse(testing::Get("/log?payload=" + testing::UrlEncode(R"({"q":"union select","n":1})")));
  EXPECT_EQ(ValueOf(Source::kQuery, "q"), "union select");
  for (const auto& f : parsed_.fields) {
    if (f.name == "payload" && f.part == Part::kValue) {
      EXPECT_TRUE(f.flags & kFieldContainer);
    }
  }
}

TEST_F(ParserTest, BinaryBodyIsNotText) {
  std::string body("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
  Parse(testing::Post("/img", "application/octet-stream", body));
  EXPECT_EQ(parsed_.body_kind, BodyKind::kBinary);
  // Mostly control bytes, with or without NULs.
  Parse(testing::Post("/b", "text/plain",
                      std::string("\x01\x02\x03\x04"
                                  "abcdef\x05\x06",
                                  12)));
  EXPECT_EQ(parsed_.body_kind, BodyKind::kBinary);
}

// One NUL byte in front of a text payload does not take the body out of inspection.
TEST_F(ParserTest, ANulByteInTextDoesNotMakeItBinary) {
  Parse(testing::Post("/c", "text/plain", std::string("\0<body onload=alert(1)>", 24)));
  EXPECT_EQ(parsed_.body_kind, BodyKind::kText);
  const Verdict v = testing::Inspect(
      testing::Post("/c", "text/plain", std::string("\0<body onload=alert(1)>", 24)));
  EXPECT_TRUE(testing::HasCategory(v, Category::kXss)) << v.explanation;
}

// `in` compressed as gzip (window_bits 31), zlib (15) or raw deflate (-15).
std::string Compress(std::string_view in, int window_bits) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, in.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// `in` compressed with Brotli, with a window of 2^`window_bits` bytes.
std::string Brotli(std::string_view in, int window_bits = BROTLI_DEFAULT_WINDOW) {
  std::string out(BrotliEncoderMaxCompressedSize(in.size()) + 64, '\0');
  std::size_t size = out.size();
  EXPECT_TRUE(BrotliEncoderCompress(5, window_bits, BROTLI_MODE_GENERIC, in.size(),
                                    reinterpret_cast<const uint8_t*>(in.data()), &size,
                                    reinterpret_cast<uint8_t*>(out.data())));
  out.resize(size);
  return out;
}

OwnedHttpRequest Encoded(std::string_view coding, std::string body,
                         std::string content_type = "application/json") {
  OwnedHttpRequest r = testing::Post("/api", std::move(content_type), std::move(body));
  r.headers.emplace_back("Content-Encoding", std::string(coding));
  return r;
}

// A compressed body is parsed as the application reads it, whichever of the codings clients
// send: gzip, x-gzip, zlib-wrapped and raw deflate, Brotli, and two of them in a list.
TEST_F(ParserTest, CompressedBodiesAreDecodedBeforeParsing) {
  const std::string json = R"({"q":"1' union select password from users--"})";
  for (const auto& [coding, body] : std::vector<std::pair<std::string, std::string>>{
           {"gzip", Compress(json, 31)},
           {"x-gzip", Compress(json, 31)},
           {"deflate", Compress(json, 15)},
           {"deflate", Compress(json, -15)},
           {"GZIP", Compress(json, 31)},
           {"gzip, gzip", Compress(Compress(json, 31), 31)},
           {"identity, gzip", Compress(json, 31)},
           {"br", Brotli(json)},
           {"BR", Brotli(json)},
           {"gzip, br", Brotli(Compress(json, 31))}}) {
    Parse(Encoded(coding, body));
    EXPECT_EQ(ValueOf(Source::kJson, "q"), "1' union select password from users--") << coding;
    EXPECT_FALSE(parsed_.anomalies & (kAnomalyBadContentEncoding | kAnomalyUnknownContentEncoding))
        << coding;
    const Verdict v = testing::Inspect(Encoded(coding, body));
    EXPECT_TRUE(testing::HasCategory(v, Category::kSqli)) << coding << " -> " << v.explanation;
  }
  const std::string form = "q=%3Cscript%3Ealert(1)%3C%2Fscript%3E";
  EXPECT_TRUE(testing::HasCategory(
      testing::Inspect(Encoded("gzip", Compress(form, 31), "application/x-www-form-urlencoded")),
      Category::kXss));
  EXPECT_FALSE(testing::Flagged(
      testing::Inspect(Encoded("gzip", Compress(R"({"q":"hello world","n":1})", 31)))));
}

// A body that does not decompress is flagged and inspected as it came (gotestwaf sends plain
// text under "Content-Encoding: gzip"); an unknown coding is flagged and left alone; a stream
// cut short (a proxy's body limit) keeps what it decoded without a flag.
TEST_F(ParserTest, UndecodableBodiesAreFlaggedAndStillInspected) {
  Parse(Encoded("gzip", "cmd=cat /etc/passwd", "application/x-www-form-urlencoded"));
  EXPECT_TRUE(parsed_.anomalies & kAnomalyBadContentEncoding);
  EXPECT_EQ(ValueOf(Source::kBodyForm, "cmd"), "cat /etc/passwd");
  Parse(Encoded("zstd", std::string("\x28\xb5\x2f\xfd hello", 10)));
  EXPECT_TRUE(parsed_.anomalies & kAnomalyUnknownContentEncoding);
  Parse(Encoded("br", "cmd=cat /etc/passwd", "application/x-www-form-urlencoded"));
  EXPECT_TRUE(parsed_.anomalies & kAnomalyBadContentEncoding);
  EXPECT_EQ(ValueOf(Source::kBodyForm, "cmd"), "cat /etc/passwd");
  Parse(Encoded("gzip, deflate, gzip", "x"));
  EXPECT_TRUE(parsed_.anomalies & kAnomalyUnknownContentEncoding);
  std::string text = R"({"a":"first value","b":")";
  for (int i = 0; i < 3000; ++i) text += "item" + std::to_string(i) + " ";
  text += R"("})";
  for (const auto& [coding, whole] : std::vector<std::pair<std::string, std::string>>{
           {"gzip", Compress(text, 31)}, {"br", Brotli(text)}}) {
    Parse(Encoded(coding, whole.substr(0, whole.size() / 2)));
    EXPECT_FALSE(parsed_.anomalies & (kAnomalyBadContentEncoding | kAnomalyBodyTruncated))
        << coding;
    EXPECT_TRUE(parsed_.body.starts_with(R"({"a":"first value")")) << coding;
  }
}

// Decompression is bounded: by kMaxParsedBodyBytes, and by kMaxInflateRatio times the
// compressed size, whichever is less; output beyond is cut and flagged.
TEST_F(ParserTest, DecompressionIsBounded) {
  for (const auto& [coding, zeros] : std::vector<std::pair<std::string, std::string>>{
           {"gzip", Compress(std::string(8 * 1024 * 1024, '0'), 31)},
           {"br", Brotli(std::string(8 * 1024 * 1024, '0'))}}) {
    Parse(Encoded(coding, zeros, "text/plain"));
    EXPECT_TRUE(parsed_.anomalies & kAnomalyBodyTruncated) << coding;
    EXPECT_EQ(
        parsed_.body.size(),
        std::min(kMaxParsedBodyBytes, std::max<std::size_t>(4096, zeros.size() * kMaxInflateRatio)))
        << coding;
    EXPECT_LE(parsed_.body.size(), kMaxParsedBodyBytes) << coding;
  }
  const std::string text = Compress(std::string(3 * 1024 * 1024, 'a') + " b", 31);
  Parse(Encoded("gzip", text, "text/plain"));
  EXPECT_TRUE(parsed_.anomalies & kAnomalyBodyTruncated);
  EXPECT_LE(parsed_.body.size(), kMaxParsedBodyBytes);
}

// The Brotli decoder's memory is bounded too: a stream whose last block needs a ring buffer
// of its 16 MiB window (8 MiB of output) is not decoded and is flagged; the same data with
// the default 4 MiB window decodes up to the output bound.
TEST_F(ParserTest, BrotliDecoderMemoryIsBounded) {
  std::string block;
  for (int i = 0; i < 65536; ++i) block.push_back(static_cast<char>('a' + (i * 7919 % 26)));
  std::string big;
  while (big.size() < 8 * 1024 * 1024) big += block;
  Parse(Encoded("br", Brotli(big, 24), "text/plain"));
  EXPECT_TRUE(parsed_.anomalies & kAnomalyBadContentEncoding);
  Parse(Encoded("br", Brotli(big, 22), "text/plain"));
  EXPECT_FALSE(parsed_.anomalies & kAnomalyBadContentEncoding);
  EXPECT_TRUE(parsed_.anomalies & kAnomalyBodyTruncated);
  EXPECT_GE(parsed_.body.size(), 4096u);
}

// A JSON string's \u0000 is the NUL byte a query argument carries as %00.
TEST_F(ParserTest, JsonEscapedNulIsANulInAnArgument) {
  Parse(testing::Post("/c", "application/json", R"({"c":"a\u0000b"})"));
  EXPECT_TRUE(parsed_.anomalies & kAnomalyNulInArgs);
  Parse(testing::Post("/c", "application/json", R"({"c":"caf\u00e9 \u4e16"})"));
  EXPECT_FALSE(parsed_.anomalies & kAnomalyNulInArgs);
}

}  // namespace
}  // namespace shieldx::detect
