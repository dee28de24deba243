// Request-level protocol checks (Connection options, charsets, Request-Range, encoded NUL in
// headers, multipart name tricks) and session fixation through the URL.
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "libs/detect/detector.h"
#include "libs/detect/test_util.h"

namespace shieldx::detect {
namespace {

using testing::Flagged;
using testing::Get;
using testing::HasCategory;
using testing::HasRule;
using testing::Inspect;
using testing::Post;

using testing::WithHeader;

TEST(ConnectionHeader, ContradictoryOrHopByHopRemovalIsBlocked) {
  for (const char* v :
       {"keep-alive, close", "close, X-Forwarded-For", "keep-alive,Authorization"}) {
    Verdict verdict = Inspect(WithHeader(Get("/"), "Connection", v));
    EXPECT_TRUE(Flagged(verdict)) << v;
    EXPECT_TRUE(HasCategory(verdict, Category::kProtocol)) << v;
  }
}

TEST(ConnectionHeader, OrdinaryOptionsAreAllowed) {
  for (const char* v : {"keep-alive", "close", "Upgrade", "keep-alive, Upgrade", "TE", "user-agent",
                        "X-Not-Sent", "HTTP2-Settings"}) {
    EXPECT_FALSE(Flagged(Inspect(WithHeader(Get("/"), "Connection", v)))) << v;
  }
}

// Stripping an identity or authentication header at the next hop: any header named like one
// (a proxy or auth gateway adds it), or a custom header the request itself carries (F5's
// X-F5-Auth-Token bypass).
TEST(ConnectionHeader, StrippingIdentityOrCarriedCustomHeadersIsBlocked) {
  for (const char* v : {"keep-alive, X-Remote-User", "X-Auth-Request-Email", "x-client-ip",
                        "close, X-Session-Token", "X-Amzn-Oidc-Data"}) {
    Verdict verdict = Inspect(WithHeader(Get("/"), "Connection", v));
    EXPECT_TRUE(Flagged(verdict)) << v;
    EXPECT_TRUE(HasRule(verdict, "protocol.hop-by-hop-abuse")) << v;
  }
  OwnedHttpRequest r = WithHeader(Get("/mgmt/tm/util/bash"), "Connection", "keep-alive, X-F5-Tok");
  EXPECT_FALSE(Flagged(Inspect(r))) << "the named header is not sent";
  r = WithHeader(std::move(r), "X-F5-Tok", "a");
  EXPECT_TRUE(HasRule(Inspect(r), "protocol.hop-by-hop-abuse")) << "the named header is sent";
}

// The options are read from the first 512 bytes, the most one-letter options there can be
// (256); a repeat among them is found at either end, and a longer header changes nothing.
TEST(ConnectionHeader, TheMostOptionsThatFitAreRead) {
  std::string many;
  for (int i = 0; i < 256; ++i) many += i == 0 ? "a" : ",b";  // 511 bytes, 256 options
  EXPECT_TRUE(HasRule(Inspect(WithHeader(Get("/"), "Connection", many)),
                      "protocol.duplicate-connection-option"));
  std::string distinct = "close";
  for (int i = 0; distinct.size() < 600; ++i) distinct += ",o" + std::to_string(i);
  EXPECT_FALSE(HasRule(Inspect(WithHeader(Get("/"), "Connection", distinct)),
                       "protocol.duplicate-connection-option"));
}

TEST(Charset, EbcdicAndUnknownCharsetsOnAFormBodyAreBlocked) {
  for (const std::string& ct : std::initializer_list<std::string>{
           "application/x-www-form-urlencoded; charset=ibm037",
           "application/x-www-form-urlencoded;charset=garbage",
           "application/x-www-form-urlencoded; charset=\"utf-88\"",
           // Any case, spaces around '=', the second parameter of several.
           "application/x-www-form-urlencoded; CharSet = 'IBM037'",
           "application/x-www-form-urlencoded; q=1; charset=utf-8; charset=cp037",
           "application/x-www-form-urlencoded; charset=" + std::string(70, 'u')}) {
    EXPECT_TRUE(Flagged(Inspect(Post("/f", ct, "a=b")))) << ct;
  }
  // A parameter that merely ends in "charset" is still the charset parameter to the parsers
  // that search for it; one named otherwise is not.
  EXPECT_FALSE(
      Flagged(Inspect(Post("/f", "application/x-www-form-urlencoded; chars=ibm037", "a=b"))));
}

TEST(Charset, WebCharsetsAreAllowed) {
  for (const char* ct :
       {"application/x-www-form-urlencoded; charset=UTF-8",
        "application/x-www-form-urlencoded; charset='utf-8'",
        "application/x-www-form-urlencoded; charset=Shift_JIS",
        "application/x-www-form-urlencoded; charset=windows-1251",
        "application/x-www-form-urlencoded; charset=ISO-8859-15", "text/plain; charset=gb2312"}) {
    EXPECT_FALSE(Flagged(Inspect(Post("/f", ct, "a=b")))) << ct;
  }
}

// Vendor names of national charsets (Windows, Java) are web charsets too; EBCDIC code pages
// with a similar number are not.
TEST(Charset, VendorNamesOfNationalCharsetsAreAllowed) {
  for (const char* cs :
       {"windows-874", "cp874", "windows-31j", "cp932", "cp936", "cp949", "x-gbk", "euc-cn"}) {
    std::string ct = std::string("application/x-www-form-urlencoded; charset=") + cs;
    EXPECT_FALSE(Flagged(Inspect(Post("/f", ct, "a=b")))) << ct;
  }
  EXPECT_TRUE(
      Flagged(Inspect(Post("/f", "application/x-www-form-urlencoded; charset=cp875", "a=b"))));
}

TEST(Charset, EbcdicAcceptCharsetIsBlocked) {
  OwnedHttpRequest r = Get("/");
  r.headers[2].second = "text/html;q=0.9;charset=CP1026,*/*;q=0.8";
  EXPECT_TRUE(Flagged(Inspect(r)));
}

TEST(RequestRange, ObsoleteHeaderIsBlockedAndRangeIsNot) {
  EXPECT_TRUE(Flagged(Inspect(WithHeader(Get("/a.iso"), "Request-Range", "bytes=0-1"))));
  EXPECT_FALSE(Flagged(Inspect(WithHeader(Get("/a.iso"), "Range", "bytes=0-1023"))));
}

// Text in a national encoding read as UTF-8 holds byte pairs that look like overlong forms
// (GBK "世界" is CA C0 BD E7; Japanese in GBK pairs C1 A4): after other non-ASCII bytes they
// are not an evasion. After ASCII, at the start or after another overlong form they are.
TEST(OverlongUtf8, CountsOnlyWhereEvasionsPutIt) {
  for (const char* q :
       {"/s?wd=%C4%E3%BA%C3%A3%AC%CA%C0%BD%E7",                       // 你好，世界 in GBK
        "/s?wd=%A4%B3%A4%F3%A4%CB%A4%C1%A4%CF%A1%A2%CA%C0%BD%E7"}) {  // こんにちは、世界
    Verdict v = Inspect(Get(q));
    EXPECT_FALSE(HasRule(v, "protocol.overlong-utf8")) << q;
    EXPECT_FALSE(Flagged(v)) << q << " -> " << v.explanation;
  }
  for (const char* q :
       {"/s?a=%c0%ae%c0%ae%c0%af", "/s?a=..%c0%af..%c0%afx", "/s?a=%e0%80%ae%e0%80%ae/x"}) {
    EXPECT_TRUE(HasRule(Inspect(Get(q)), "protocol.overlong-utf8")) << q;
  }
}

TEST(EncodedNul, InRefererIsBlockedButCookieTextIsNotAHeaderFinding) {
  EXPECT_TRUE(Flagged(Inspect(WithHeader(Get("/"), "Referer", "https://x.example/a%00"))));
  // Cookies carry encoded binary: the cookie parser judges their decoded bytes instead.
  EXPECT_FALSE(HasRule(Inspect(WithHeader(Get("/"), "Cookie", "blob=ab%00cd")),
                       "protocol.encoded-nul-in-header"));
}

OwnedHttpRequest Multipart(const std::string& disposition) {
  std::string body = "--XyZ\r\nContent-Disposition: form-data; " + disposition +
                     "\r\nContent-Type: text/plain\r\n\r\nhello\r\n--XyZ--\r\n";
  return Post("/upload", "multipart/form-data; boundary=XyZ", body);
}

// "$Version" plus a quoted value spanning ';' makes an RFC 2109 parser (Tomcat's or Jetty's
// legacy mode, Python's http.cookies) read one cookie where the proxy and this engine read
// several: the shape exists only to smuggle. A legacy client's own "$Version" cookie, and
// quoted values without ';', stay below blocking.
TEST(CookieSmuggling, VersionWithAQuotedValueSpanningSemicolonsIsBlocked) {
  for (const char* c : {"$Version=1; session=\"deadbeef; PHPSESSID=secret; dummy=qaz\"",
                        "$version=1; a=\"x; b=y\"; c=1", "a=1; $Version=\"1\"; s=\"p;q\""}) {
    Verdict v = Inspect(WithHeader(Get("/"), "Cookie", c));
    EXPECT_TRUE(Flagged(v)) << c;
    EXPECT_TRUE(HasRule(v, "protocol.cookie-smuggling")) << c;
  }
  for (const char* c : {"$Version=\"1\"; sid=\"abc\"; $Path=\"/\"", "a=1; b=\"x y\"; c=3",
                        "sid=\"a;b\"", "$Version=1; sid=abc"}) {
    Verdict v = Inspect(WithHeader(Get("/"), "Cookie", c));
    EXPECT_FALSE(Flagged(v)) << c << ": " << v.explanation;
    EXPECT_FALSE(HasRule(v, "protocol.cookie-smuggling")) << c;
  }
}

// Octal escapes in a quoted cookie value are markup and SQL to a Python application.
TEST(CookieSmuggling, OctalEscapesInAQuotedValueAreReadAsTheApplicationReadsThem) {
  for (const char* c :
       {R"(session="\074script\076alert(1)\074/script\076")", R"(id="\047 or \0471\047=\0471")"}) {
    EXPECT_TRUE(Flagged(Inspect(WithHeader(Get("/"), "Cookie", c)))) << c;
  }
  EXPECT_FALSE(Flagged(Inspect(WithHeader(Get("/"), "Cookie", R"(pref="caf\303\251 \"x\"")"))));
}

// Path spellings that only serve to make a filter and the router see different paths:
// an encoded letter or digit ("/%61dmin"), a '.' segment ("/./RestAPI" was ManageEngine's
// bypass), a letter encoded twice ("/%2577ebui_wsma_HTTP" was Cisco IOS XE's).
TEST(PathSpelling, EncodedLettersDotSegmentsAndDoubleEncodingAreBlocked) {
  struct Case {
    const char* path;
    const char* rule;
  };
  for (const Case& c : {Case{"/%61dmin/users", "protocol.path-encoded-alnum"},
                        Case{"/api/v%31/x", "protocol.path-encoded-alnum"},
                        Case{"/%2577ebui_wsma_HTTP", "protocol.path-double-encoded"},
                        Case{"/x/%252e%252e/y", "protocol.path-double-encoded"},
                        Case{"/./RestAPI/LogonCustomization", "protocol.path-dot-segment"},
                        Case{"/admin/.", "protocol.path-dot-segment"},
                        Case{"/%2E/admin", "protocol.path-dot-segment"},
                        Case{"/a/.;/admin", "protocol.path-dot-segment"}}) {
    Verdict v = Inspect(Get(c.path));
    EXPECT_TRUE(Flagged(v)) << c.path << ": " << v.explanation;
    EXPECT_TRUE(HasRule(v, c.rule)) << c.path << ": " << v.explanation;
  }
  for (const char* path : {"/files/My%20Report.pdf", "/users/john%40example.com", "/a%2Fb",
                           "/wiki/Caf%C3%A9", "/sale/50%25", "/x/.well-known/openid", "/.env.x/y",
                           "/a/..b/c", "/v1.2/items", "/x%2Dy", "/%7Euser/page"}) {
    Verdict v = Inspect(Get(path));
    EXPECT_FALSE(HasRule(v, "protocol.path-encoded-alnum") ||
                 HasRule(v, "protocol.path-dot-segment") ||
                 HasRule(v, "protocol.path-double-encoded"))
        << path << ": " << v.explanation;
  }
  // Arguments are not paths: "%2541" is what a search for "%41" sends.
  EXPECT_FALSE(Flagged(Inspect(Get("/search?q=%2541"))));
}

// A query opening with "@host/" turns a backend's "https://backend" + path + "?" + query into
// a fetch from that host (ProxyShell); an encoded '?' before an extension splits what a
// rewrite rule and the handler see (mod_rewrite).
TEST(PathSpelling, QueryAuthorityAndEncodedQuestionMarkSuffixAreBlocked) {
  for (const char* uri : {"/autodiscover/autodiscover.json?@evil.example/owa/&Email=x",
                          "/x?@10.0.0.5:8080/admin", "/admin.php%3F.js", "/secret%3fx.css/"}) {
    Verdict v = Inspect(Get(uri));
    EXPECT_TRUE(Flagged(v)) << uri << ": " << v.explanation;
    EXPECT_TRUE(HasRule(v, "protocol.query-authority") || HasRule(v, "protocol.path-encoded-query"))
        << uri << ": " << v.explanation;
  }
  for (const char* uri : {"/profile?@john/posts", "/x?a=@evil.example/", "/q?@", "/faq/why%3F",
                          "/files/what%3F%20now", "/a?b=c%3F.js"}) {
    Verdict v = Inspect(Get(uri));
    EXPECT_FALSE(HasRule(v, "protocol.query-authority") ||
                 HasRule(v, "protocol.path-encoded-query"))
        << uri << ": " << v.explanation;
  }
}

TEST(MultipartNames, SeparatorsAndEscapesInNamesAreBlocked) {
  for (const char* d :
       {"name=\"fi;le\"", "name=\"a=b\"", "name=\"x\"; filename=\"1.j\\s\\p\"",
        "name=\"x\"; filename=\"a=.txt\"", "name=\"x\"; filename='shell.txt'",
        "name=\"x\"; filename=\"a.txt;.jpg\"", "name=\"x\"; filename*=utf-8'en'x'y.txt"}) {
    Verdict v = Inspect(Multipart(d));
    EXPECT_TRUE(Flagged(v)) << d << " -> " << v.explanation;
  }
}

TEST(MultipartNames, EntitiesAndWindowsPathsAreAllowed) {
  for (const char* d :
       {"name=\"caf&eacute;\"", "name=\"n&#228;me\"",
        "name=\"f\"; filename=\"C:\\Users\\ann\\cv.pdf\"",
        "name=\"user[tags][]\"; filename=\"photo 1.jpg\"",
        // An apostrophe inside a double-quoted name, an entity-escaped '&', and
        // RFC 5987 extended names (urllib3 before 2.0 sent non-ASCII names so).
        "name=\"f\"; filename=\"it's mine.png\"", "name=\"f\"; filename=\"zzz&amp;zzz\"",
        "name=\"f\"; filename*=UTF-8''%E4%B8%AD%E6%96%87.pdf",
        "name=\"f\"; filename*=utf-8'en'n%C3%A4me.pdf"}) {
    Verdict v = Inspect(Multipart(d));
    EXPECT_FALSE(Flagged(v)) << d << " -> " << v.explanation;
  }
}

TEST(SessionFixation, FrameworkSessionIdInUrlFromAnotherSiteOrMailIsBlocked) {
  OwnedHttpRequest offsite =
      WithHeader(Get("/login?PHPSESSID=abc123"), "Referer", "https://evil.example/x");
  EXPECT_TRUE(HasCategory(Inspect(offsite), Category::kSessionFixation));
  EXPECT_TRUE(Flagged(Inspect(offsite)));
  EXPECT_TRUE(Flagged(Inspect(Get("/login?connect.sid=s%3Aabc"))));  // no Referer: a mailed link
  // Older frameworks' names (WebLogic's jwsession, PHP's phpsession), also posted as JSON
  // from another site.
  for (const OwnedHttpRequest& r :
       {WithHeader(Get("/login?jwsession=abc123"), "Referer", "https://evil.example/"),
        WithHeader(Post("/", "application/json", "{ \"phpsession\":\"foo\" }"), "Referer",
                   "http://attacker.example/")}) {
    EXPECT_TRUE(HasCategory(Inspect(r), Category::kSessionFixation)) << r.uri << r.body;
    EXPECT_TRUE(Flagged(Inspect(r))) << r.uri << r.body;
  }
  // Servlet containers read the id from the path's matrix parameter, not the query.
  OwnedHttpRequest matrix =
      WithHeader(Get("/shop/login;jsessionid=ABC123"), "Referer", "https://evil.example/x");
  EXPECT_TRUE(HasCategory(Inspect(matrix), Category::kSessionFixation));
  EXPECT_TRUE(Flagged(Inspect(matrix)));
}

TEST(SessionFixation, SameSiteLinksAndProviderRedirectsAreAllowed) {
  EXPECT_FALSE(Flagged(
      Inspect(WithHeader(Get("/cart?jsessionid=abc123"), "Referer", "https://shop.example/list"))));
  EXPECT_FALSE(Flagged(
      Inspect(WithHeader(Get("/cart;jsessionid=abc123"), "Referer", "https://shop.example/list"))));
  // Stripe Checkout returns with ?session_id=cs_... from checkout.stripe.com.
  EXPECT_FALSE(Flagged(Inspect(WithHeader(Get("/success?session_id=cs_test_a1b2c3"), "Referer",
                                          "https://checkout.stripe.com/"))));
  EXPECT_FALSE(Flagged(
      Inspect(Post("/login", "application/x-www-form-urlencoded", "sessionid=abc&user=ann"))));
}

// A JSON Web Token whose header names no algorithm ("alg":"none", any case, any spacing) is
// the forged-token attack wherever it travels; signed tokens, and headers that only mention
// "none" elsewhere or name another algorithm, are ordinary.
TEST(UnsignedJwt, AlgNoneTokensAreBlockedInHeadersCookiesArgumentsAndJson) {
  const std::string none = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJ1c2VyIjoiYWRtaW4ifQ.";
  const std::string none_case = "eyJhbGciOiJOb25lIn0.eyJ1c2VyIjoiYWRtaW4ifQ.";
  const std::string spaced = "eyJhbGciOiAibm9uZSJ9.eyJhIjoxfQ";
  for (const OwnedHttpRequest& r :
       {WithHeader(Get("/api/me"), "Authorization", "Bearer " + none),
        WithHeader(Get("/api/me"), "Cookie", "theme=dark; token=" + none_case),
        Get("/api/me?access_token=" + spaced),
        Post("/api/session", "application/json", "{\"token\":\"" + none + "\"}")}) {
    Verdict v = Inspect(r);
    EXPECT_TRUE(HasCategory(v, Category::kProtocol) && Flagged(v)) << v.explanation;
  }
  const std::string signed_hs =
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
      "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
  for (const std::string& token :
       {signed_hs,
        std::string("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsIm5vdGUiOiJub25lIn0.eyJhIjoxfQ.x"),
        std::string("eyJhbGciOiJub25lc3VjaCJ9.eyJhIjoxfQ.x"), std::string("eyJhbGciOiJub25lIn0")}) {
    Verdict v = Inspect(WithHeader(Get("/api/me"), "Authorization", "Bearer " + token));
    EXPECT_FALSE(Flagged(v)) << token << " -> " << v.explanation;
  }
}

// WebDAV lock headers out of their grammar are probes; well-formed ones are what a WebDAV
// client sends with its PUT, LOCK or UNLOCK.
TEST(WebdavHeaders, MalformedIfAndLockTokenAreBlockedWellFormedAreNot) {
  for (auto [name, value] : {std::pair{"If", "test"},
                             {"If", ""},
                             {"Lock-Token", "test"},
                             {"lock-token", "<opaquelocktoken"},
                             {"Lock-Token", "<>"}}) {
    Verdict v = Inspect(WithHeader(Get("/"), name, value));
    EXPECT_TRUE(HasRule(v, "protocol.malformed-webdav-header") && Flagged(v))
        << name << ": " << value;
  }
  for (auto [name, value] : {std::pair{"If", "(<urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2>)"},
                             {"If", " <http://dav.example/doc> ([\"I am an ETag\"])"},
                             {"Lock-Token", "<urn:uuid:a515cfa4-5da4-22e1-f5bf-00a0451e6bf7>"},
                             {"If-Match", "test"},
                             {"If-None-Match", "*"}}) {
    Verdict v = Inspect(WithHeader(Get("/"), name, value));
    EXPECT_FALSE(Flagged(v)) << name << ": " << value << " -> " << v.explanation;
  }
}

// A request's Content-Range belongs to a resumable upload and has a fixed form.
TEST(ContentRange, MalformedIsBlockedUploadFormsAreNot) {
  for (const char* value : {"test", "bytes", "bytes 0-1023", "bytes a-b/10", "bytes 0-1/x",
                            "bytes=0-1023/4096", "0-1023/4096"}) {
    Verdict v = Inspect(WithHeader(Get("/"), "Content-Range", value));
    EXPECT_TRUE(HasRule(v, "protocol.invalid-content-range") && Flagged(v)) << value;
  }
  for (const char* value : {"bytes 0-524287/2000000", "bytes 524288-1048575/*", "bytes */2000000",
                            "bytes */*", " bytes 0-0/1 "}) {
    Verdict v = Inspect(
        WithHeader(Post("/upload", "application/octet-stream", "abcd"), "Content-Range", value));
    EXPECT_FALSE(HasRule(v, "protocol.invalid-content-range")) << value;
  }
}

// A long or absurd Accept-Encoding probes the server's list parsing; every list browsers and
// HTTP libraries send, with weights and every registered coding, is a preference.
TEST(AcceptEncoding, OverlongCodingsOrListsAreBlockedRealListsAreNot) {
  for (const std::string& value :
       {std::string(40, 'A') + ",gzip", "gzip, " + std::string(300, ' ') + "br",
        "AAAAAAAAAAAAAAAAAAAAAAAA," + std::string(60, 'A') + "&AA&**A"}) {
    Verdict v = Inspect(WithHeader(Get("/"), "Accept-Encoding", value));
    EXPECT_TRUE(HasRule(v, "protocol.accept-encoding-abuse") && Flagged(v)) << value;
  }
  for (const char* value :
       {"gzip, deflate, br, zstd", "", "gzip;q=1.0, identity; q=0.5, *;q=0",
        "aes128gcm, br, compress, deflate, exi, identity, pack200-gzip, x-compress, x-gzip, zstd, "
        "gzip;q=1.0"}) {
    Verdict v = Inspect(WithHeader(Get("/"), "Accept-Encoding", value));
    EXPECT_FALSE(Flagged(v)) << value << " -> " << v.explanation;
  }
}

// Content-Encoding names how a body is compressed: on a GET or HEAD without a body it is a
// probe. Compressed uploads, and "identity", are not, nor a POST whose headers come without
// its body and length (nginx auth_request sends exactly that).
TEST(ContentEncoding, DeclaredWithoutABodyIsBlocked) {
  Verdict bare = Inspect(WithHeader(Get("/"), "Content-Encoding", "deflate"));
  EXPECT_TRUE(HasRule(bare, "protocol.content-encoding-without-body") && Flagged(bare));
  Verdict zero =
      Inspect(WithHeader(WithHeader(Get("/"), "Content-Length", "0"), "Content-Encoding", "gzip"));
  EXPECT_TRUE(HasRule(zero, "protocol.content-encoding-without-body"));
  EXPECT_FALSE(HasRule(Inspect(WithHeader(Get("/"), "Content-Encoding", "identity")),
                       "protocol.content-encoding-without-body"));
  // The body is elsewhere (an auth_request subrequest carries the headers only): the declared
  // length says there is one.
  Verdict headers_only = Inspect(
      WithHeader(WithHeader(Get("/"), "Content-Length", "120"), "Content-Encoding", "gzip"));
  EXPECT_FALSE(HasRule(headers_only, "protocol.content-encoding-without-body"));
  Verdict upload =
      Inspect(WithHeader(Post("/logs", "text/plain", "abc"), "Content-Encoding", "br"));
  EXPECT_FALSE(HasRule(upload, "protocol.content-encoding-without-body"));
  OwnedHttpRequest subrequest = WithHeader(Get("/logs"), "Content-Encoding", "gzip");
  subrequest.method = "POST";
  subrequest.headers.emplace_back("Content-Type", "application/json");
  Verdict forwarded = Inspect(subrequest);
  EXPECT_FALSE(HasRule(forwarded, "protocol.content-encoding-without-body"));
  EXPECT_FALSE(Flagged(forwarded)) << forwarded.explanation;
  OwnedHttpRequest head = WithHeader(Get("/"), "Content-Encoding", "gzip");
  head.method = "HEAD";
  EXPECT_TRUE(HasRule(Inspect(head), "protocol.content-encoding-without-body"));
}

// A client sending the rewrite headers IIS and some frameworks route by reaches a path the
// request line hides from path rules.
TEST(UrlOverrideHeader, XOriginalUrlAndXRewriteUrlFromAClientAreBlocked) {
  for (const char* name : {"X-Original-URL", "X-Rewrite-URL", "x-override-url"}) {
    Verdict v = Inspect(WithHeader(Get("/"), name, "/admin/delete"));
    EXPECT_TRUE(HasCategory(v, Category::kProtocol) && Flagged(v)) << name;
  }
  EXPECT_FALSE(Flagged(Inspect(WithHeader(Get("/"), "X-Original-Host", "shop.example"))));
}

// Every out-of-band interaction service of the shared list is a scanner callback in any request
// header (the SSRF check uses the same list for values); the bare service name in prose or a
// look-alike domain is not.
TEST(OutOfBandCallback, EveryListedServiceInAHeaderIsAScannerCallback) {
  for (std::string_view d : kOutOfBandDomains) {
    const std::string host = "c5f1a0" + std::string(d);
    Verdict v = Inspect(WithHeader(Get("/"), "X-Forwarded-Host", host));
    EXPECT_TRUE(HasCategory(v, Category::kScanner) && Flagged(v)) << host;
  }
  for (const char* benign : {"see webhook site docs", "https://example-oast.com/x", "oast.me.uk"}) {
    Verdict v = Inspect(WithHeader(Get("/"), "X-Note", benign));
    EXPECT_FALSE(HasCategory(v, Category::kScanner)) << benign;
  }
}

// The double boundary number that hung PHP's and Java's strtod, however written and wherever
// sent; its neighbours and ordinary decimals are numbers.
TEST(FloatDos, TheStrtodBoundaryNumberIsBlockedInArgumentsAndJson) {
  for (const char* q : {"/get?i=2.2250738585072011e-308", "/get?i=2.2250738585072012E-308",
                        "/get?i=0.00022250738585072012e-304", "/get?i=22.250738585072012e-309",
                        "/get?i=-2.2250738585072011e-308", "/get?i=2.2250738585072011e-308%20"}) {
    Verdict v = Inspect(Get(q));
    EXPECT_TRUE(HasCategory(v, Category::kProtocol) && Flagged(v)) << q << " -> " << v.explanation;
  }
  for (const char* body :
       {R"({ "2.2250738585072011e-308":"foo" })", R"({"a":2.2250738585072011e-308})"}) {
    Verdict v = Inspect(Post("/", "application/json", body));
    EXPECT_TRUE(HasCategory(v, Category::kProtocol) && Flagged(v)) << body;
  }
  for (const char* q : {"/get?i=2.2250738585072011e-307", "/get?i=2.2250738585072011",
                        "/get?i=12.2250738585072011e-308", "/get?i=2.2250738585072011e-308x",
                        "/get?i=1.7976931348623157e308", "/get?i=2.2250738585e-308",
                        "/get?i=1e-308", "/get?t=2.2250738585072011e-308%20and%20more%20text"}) {
    Verdict v = Inspect(Get(q));
    EXPECT_FALSE(Flagged(v)) << q << " -> " << v.explanation;
  }
}

}  // namespace
}  // namespace shieldx::detect
