// SSRF / RFI evasions a URL parser still resolves (slashless special schemes, numbers wider
// than 32 bits, look-alike Unicode in hosts) and remote URLs in include-like parameters;
// and benign URLs with the same shapes.
#include <gtest/gtest.h>

#include "libs/detect/test_util.h"

namespace shieldx::detect {
namespace {

using testing::DefaultInspector;
using testing::Flagged;
using testing::Get;
using testing::HasCategory;
using testing::InspectQueryValue;
using testing::InspectWith;
using testing::UrlEncode;

class SsrfParserEvasion : public ::testing::TestWithParam<const char*> {};
TEST_P(SsrfParserEvasion, IsBlockedAsSsrf) {
  Verdict v = InspectQueryValue(GetParam());
  EXPECT_TRUE(Flagged(v)) << GetParam() << " -> " << v.explanation;
  EXPECT_TRUE(HasCategory(v, Category::kSsrf)) << GetParam();
}
INSTANTIATE_TEST_SUITE_P(
    Payloads, SsrfParserEvasion,
    ::testing::Values(
        // Special schemes without "//".
        "http:127.0.0.1", "http:2852039166", "https:/0xA9FEA9FE", "http:[::ffff:a9fe:a9fe]",
        "http:0251.0376.0251.0376", "ws:10.0.0.5:8080/admin",
        // Any other run of '/' and '\\' after the scheme.
        "http:/\\/169.254.169.254/", "http:\\\\localhost:6379/", "http:///10.0.0.5/admin",
        "https:\\/\\/\\/localhost:8080/",
        // Numbers wider than IPv4 whose low 32 bits are internal.
        "http://7147006462/", "http://0x41414141A9FEA9FE/",
        // Look-alike Unicode folding to an internal host.
        "http://169。254。169。254/", "imap://①⑥⑨.②⑤④.①⑥⑨.②⑤④", "irc://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ",
        // Full-width letters and digits, which the normaliser folds before the host is read.
        "http://ｌｏｃａｌｈｏｓｔ/admin", "http://１２７.０.０.１/admin",
        // Everyday remote schemes towards internal or raw addresses.
        "ssh://0177.00.00.01", "smb://10.1.2.3/share",
        // Every host letter escaped with a backslash (or an escaped one).
        "http://\\l\\o\\c\\a\\l\\h\\o\\s\\t/", "http://\\1\\2\\7.0.0.1:8080/admin",
        "http://\\\\e\\\\x\\\\a\\\\m\\\\p\\\\l\\\\e.com/",
        // Another "@host" after a space, '&' or '#' in the authority (URL parser confusion).
        "http://example.com:80 &@10.0.0.7:22/", "http://example.com# @169.254.169.254/latest",
        "https://a.example &@a.example# @127.0.0.1:6379/"));

class SsrfLikeBenign : public ::testing::TestWithParam<const char*> {};
TEST_P(SsrfLikeBenign, IsAllowed) {
  Verdict v = InspectQueryValue(GetParam());
  EXPECT_FALSE(Flagged(v)) << GetParam() << " -> " << v.explanation;
}
INSTANTIATE_TEST_SUITE_P(
    Text, SsrfLikeBenign,
    ::testing::Values(
        // Prose with a scheme word, public slashless hosts, phone-number-like and 0.x hosts.
        "see http: the protocol", "http:example.com", "call 2852039166 today", "http:0xABCDEF",
        // Extra slashes towards a public host, and a JSON-escaped internal URL in text.
        "http:///example.com/", "https:\\\\cdn.example.com\\x.js",
        "{\"next\":\"http:\\/\\/127.0.0.1:3000\\/cb\"} as json_encode writes it",
        "https://example.org/a?id=7147006462",
        // International domain names are judged as written.
        "https://münchen.example/karte", "http://例子.测试/", "東京。大阪。",
        // A local URL written in ASCII next to typographic quotes the normaliser folds.
        "It’s at http://localhost:3000/callback", "“see” http://LocalHost:3000/",
        // Git remotes and file shares by name.
        "ssh://git@git.example.com/team/repo.git", "sftp://files.example.com/upload",
        // Windows shares and escaped text after a scheme, jar: URLs quoted in a stack trace.
        "http://\\\\server\\share", "http://\\x", "see http://\\n for a newline",
        "at jar:file:/app/lib/app.jar!/BOOT-INF/classes!/ (startup)",
        "jar: a glass jar with a lid!",
        // A link followed by a mention or an e-mail address.
        "see http://example.com @john and @10up", "http://example.com & mail me@example.org",
        "http://example.com # @ 10.0.0.1"));

class RemoteArchiveUrl : public ::testing::TestWithParam<const char*> {};
TEST_P(RemoteArchiveUrl, IsBlockedAsRfi) {
  Verdict v = InspectQueryValue(GetParam());
  EXPECT_TRUE(Flagged(v)) << GetParam() << " -> " << v.explanation;
  EXPECT_TRUE(HasCategory(v, Category::kRfi)) << GetParam() << " -> " << v.explanation;
}
INSTANTIATE_TEST_SUITE_P(Payloads, RemoteArchiveUrl,
                         ::testing::Values("jar:https://attacker.example/x.zip!/a.xml",
                                           "jar:ftp://10.0.0.1/lib.jar!/",
                                           "\"jar:file:/tmp/upload.jar!/evil.class\""));

OwnedHttpRequest WithParam(const std::string& name, const std::string& value) {
  return Get("/index.php?" + UrlEncode(name) + "=" + UrlEncode(value));
}

// A bare number before a '/' is a score, grade or fraction ("0/5", "10.5/20"), not the
// address a URL parser would make of it; long decimals and octal parts still are.
TEST(BareHost, ShortNumbersBeforeASlashAreNotAddresses) {
  for (const char* v : {"0/5", "0/", "0/abc", "10.5/20", "127.1/5", "3/4", "1234567/x"}) {
    Verdict r = InspectQueryValue(v);
    EXPECT_FALSE(Flagged(r)) << v << " -> " << r.explanation;
  }
  for (const char* v : {"2130706433/admin", "0177.1/x", "0x7f.1/x", "167772161/x"}) {
    Verdict r = InspectQueryValue(v);
    EXPECT_TRUE(Flagged(r) && HasCategory(r, Category::kSsrf)) << v << " -> " << r.explanation;
  }
}

TEST(RemoteInclude, RemoteUrlInPathLikeParameterIsRfi) {
  for (const char* name : {"_CONF[path]", "mosConfig_absolute_path", "include_dir", "basedir"}) {
    Verdict v = InspectWith(DefaultInspector(), WithParam(name, "https://foo.bar"));
    EXPECT_TRUE(Flagged(v)) << name << " -> " << v.explanation;
    EXPECT_TRUE(HasCategory(v, Category::kRfi)) << name;
  }
}

TEST(RemoteInclude, RemoteUrlInOrdinaryParameterIsAllowed) {
  for (const char* name : {"url", "returnUrl", "homepage", "pathway_notes", "dirty"}) {
    Verdict v = InspectWith(DefaultInspector(), WithParam(name, "https://foo.bar/page"));
    EXPECT_FALSE(Flagged(v)) << name << " -> " << v.explanation;
  }
  // A path parameter holding a local path is not an inclusion from elsewhere.
  Verdict v = InspectWith(DefaultInspector(), WithParam("path", "docs/intro.html"));
  EXPECT_FALSE(Flagged(v)) << v.explanation;
}

}  // namespace
}  // namespace shieldx::detect
