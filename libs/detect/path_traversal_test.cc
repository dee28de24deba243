// Path traversal and LFI: traversal whose separators were stripped, relative paths to
// deployment descriptors, dot runs; and benign values with the same characters.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "libs/detect/test_util.h"

namespace shieldx::detect {
namespace {

using testing::Flagged;
using testing::HasCategory;
using testing::InspectQueryValue;

class StrippedOrRelativeTraversal : public ::testing::TestWithParam<const char*> {};
TEST_P(StrippedOrRelativeTraversal, IsBlockedAsPathAttack) {
  Verdict v = InspectQueryValue(GetParam());
  EXPECT_TRUE(Flagged(v)) << GetParam() << " -> " << v.explanation;
  EXPECT_TRUE(HasCategory(v, Category::kLfi) || HasCategory(v, Category::kPathTraversal))
      << GetParam();
}
INSTANTIATE_TEST_SUITE_P(
    Payloads, StrippedOrRelativeTraversal,
    ::testing::Values(
        // Backslashes eaten by an escaping layer: dots or a drive, then the target.
        "........etcpasswd", "..\\..etc/passwd", "....web-infweb.xml", "c:windowswin.ini",
        "d:inetpubwwwrootglobal.asa", "......windowssystem.ini",
        // Relative paths to deployment descriptors and system secrets.
        "web-inf/web.xml", "WEB-INF/classes/app.properties", "x=etc/passwd", "META-INF/context.xml",
        // Runs of dots as a path component.
        "/..........", "/....", "files\\....\\x",
        // ";" path parameters inside "..", procfs disclosure files.
        "..;.\\.;\\.", "static/..;/admin", "/proc/interrupts", "../../proc/kallsyms"));

class PathLikeBenign : public ::testing::TestWithParam<const char*> {};
TEST_P(PathLikeBenign, IsAllowed) {
  Verdict v = InspectQueryValue(GetParam());
  EXPECT_FALSE(Flagged(v)) << GetParam() << " -> " << v.explanation;
}
INSTANTIATE_TEST_SUITE_P(
    Text, PathLikeBenign,
    ::testing::Values(
        // Ellipses in prose and titles, versions, file names that merely end like targets.
        "wait.... what?", "and then... /me shrugs", "Loading...", "v1.2.3....final", "my-web.xml",
        "notes/web.xml", "boot.ini is a Windows file, see the docs", "c:drive notes", "a: b",
        "etc/passwords are managed centrally",
        // Non-Latin text and a URL with dots in the query.
        "Привет... как дела?", "wait..; then go", "/docs/proc/statistics.html",
        "https://example.org/search?q=a...b",
        // A shell script posted to an automation form reads system files by design.
        "#!/bin/sh\nset -x\nlscpu\ncat /proc/meminfo\nfdisk -l\n"));

// The file: scheme named in a question has no path to read; file URLs to files are judged.
TEST(FileUrl, SchemeNamedInProseIsAllowed) {
  Verdict v = testing::InspectQueryValue("file:// url in chrome");
  EXPECT_FALSE(testing::Flagged(v)) << v.explanation;
  for (const char* a :
       {"file:///etc/passwd", "file://c:/windows/win.ini", "file:///proc/self/environ"}) {
    Verdict r = testing::InspectQueryValue(a);
    EXPECT_TRUE(testing::Flagged(r)) << a << " -> " << r.explanation;
  }
}

// An absolute path token to a secret counts in a short command-like value: at most four
// whitespace bytes of any kind, wherever they fall (the count stops at five and skips
// space-free runs eight bytes at a time).
TEST(AbsoluteToken, CountsUpToFourWhitespaceBytesAnywhere) {
  for (std::string ws : {" ", "\t", "\n", "\r", "\f", "\v"}) {
    for (std::size_t pad = 0; pad < 10; ++pad) {
      std::string word(pad, 'x');
      std::string four = word + ws + "a" + ws + "b" + ws + "c /etc/passwd";
      Verdict v = InspectQueryValue(four);
      EXPECT_TRUE(HasCategory(v, Category::kLfi)) << pad << " " << int(ws[0]) << " " << four;
      std::string five = word + ws + "a" + ws + "b" + ws + "c" + ws + "d /etc/passwd";
      Verdict w = InspectQueryValue(five);
      EXPECT_FALSE(HasCategory(w, Category::kLfi)) << pad << " " << int(ws[0]) << " " << five;
    }
  }
}

// An XML text node is judged like a JSON string or a form field: prose that names a system
// file is allowed in all three, a bare path to one is blocked in all three.
TEST(SensitiveFile, XmlTextIsJudgedLikeOtherBodyValues) {
  auto in_bodies = [](const std::string& value) {
    std::string xml = value;
    for (std::size_t p = 0; (p = xml.find('&', p)) != std::string::npos; p += 5)
      xml.replace(p, 1, "&amp;");
    return std::vector<Verdict>{
        testing::Inspect(testing::Post("/c", "application/xml",
                                       "<?xml version=\"1.0\"?><r><c>" + xml + "</c></r>")),
        testing::Inspect(testing::Post("/c", "application/json", "{\"c\":\"" + value + "\"}")),
        testing::Inspect(testing::Post("/c", "application/x-www-form-urlencoded",
                                       "c=" + testing::UrlEncode(value)))};
  };
  for (const char* prose :
       {"post the output of `cat /etc/fstab` and we can look at it",
        "you can add lines to /etc/resolvconf/resolv.conf.d/base, but they are overwritten"}) {
    for (const Verdict& v : in_bodies(prose)) EXPECT_FALSE(Flagged(v)) << prose << v.explanation;
  }
  for (const char* attack : {"/etc/passwd", "../../../etc/shadow", "cat /etc/passwd"}) {
    for (const Verdict& v : in_bodies(attack)) EXPECT_TRUE(Flagged(v)) << attack;
  }
}

// Hidden files by path: known tool and secret names block anywhere, other dot names at the
// web root or as a bare backup suffix; a dot name deeper in the path is a word ("/tags/.net"),
// and a code host's file view shows repository files ("/o/r/blob/main/.github/...").
TEST(HiddenFile, KnownNamesRootProbesAndRepositoryViews) {
  for (const char* path :
       {"/.git/config", "/app/.git/HEAD", "/.env", "/static/.htaccess", "/.vscode/sftp.json",
        "/.lapidosa", "/./.aider/x", "/x/index.jsp/.bak", "/uploads/.shell.php",
        "/wp-content/uploads/.x.phtml", "/a/b/blob/.env", "/owner/blob/.git/config"}) {
    Verdict v = testing::Inspect(testing::Get(path));
    EXPECT_TRUE(HasCategory(v, Category::kLfi) && Flagged(v)) << path << " -> " << v.explanation;
  }
  for (const char* path :
       {"/tags/.net", "/wiki/.NET", "/api/items/.lapidosa/view",
        "/owner/repo/blob/main/.github/workflows/ci.yml", "/owner/repo/tree/main/.vscode",
        "/group/proj/-/blob/main/.gitlab-ci.yml", "/owner/repo/src/branch/main/.gitignore"}) {
    Verdict v = testing::Inspect(testing::Get(path));
    EXPECT_FALSE(Flagged(v)) << path << " -> " << v.explanation;
  }
}

// A dot-named secret ("~/.profile", ".netrc", ".git/") counts where a name starts: after a
// separator, a quote or '=', not as the tail of a longer name. A Git clone over HTTP asks for
// "/repo.git/info/refs" and an OAuth scope can be "unified.profile"; ".pem" is an extension.
// A code host's file view (".../blob/<ref>/...") shows a repository's files, not the server's.
TEST(SensitiveFile, DotNamesCountWhereANameStarts) {
  for (const char* path :
       {"/org/repo.git/info/refs?service=git-upload-pack", "/org/repo.git/git-upload-pack",
        "/downloads/unified.profile", "/api/v1/app.netrc", "/a/my-project.git/HEAD",
        // A code host's file views of a repository's own files.
        "/org/repo/-/raw/main/.env.example", "/org/repo/blob/main/config/database.yml"}) {
    Verdict v = testing::Inspect(testing::Get(path));
    EXPECT_FALSE(Flagged(v)) << path << " -> " << v.explanation;
  }
  for (const char* value : {"../../home/u/.bashrc", "..\\.env", "../.netrc", "~/.profile",
                            "../../keys/server.pem", "/x/../.bash_history"}) {
    Verdict v = InspectQueryValue(value);
    EXPECT_TRUE(HasCategory(v, Category::kLfi) && Flagged(v)) << value << " -> " << v.explanation;
  }
}

// CJK characters count as word breaks for the short-command test: a question about
// "cat /etc/passwd" in Chinese is prose, the command alone or with one character is not.
TEST(AbsoluteToken, CjkCharactersCountAsWordBreaks) {
  Verdict q = InspectQueryValue("cat /etc/passwd 命令是什么意思");
  EXPECT_FALSE(Flagged(q)) << q.explanation;
  for (const char* v : {"cat /etc/passwd", "cat /etc/passwd 中"}) {
    EXPECT_TRUE(HasCategory(InspectQueryValue(v), Category::kLfi)) << v;
  }
}

// Relative paths to deployment descriptors and system secrets count at the start of the
// value or of a component ('/', '\\', '='), never inside a word; every name on the list is
// checked at each of those places.
TEST(StrongRelative, NamesCountAtComponentStartsOnly) {
  for (std::string name :
       {"web-inf/", "web-inf\\", "meta-inf/", "etc/passwd", "etc/shadow", "boot.ini", "win.ini",
        "global.asa", "windows/system32", "windows\\system32", "proc/self/", "wp-config.php"}) {
    for (std::string before : {"", "x=", "a/", "a\\"}) {
      std::string value = before + name + "x";
      EXPECT_TRUE(HasCategory(InspectQueryValue(value), Category::kLfi)) << value;
    }
    std::string inside = "za" + name + "x";
    EXPECT_FALSE(HasCategory(InspectQueryValue(inside), Category::kLfi)) << inside;
  }
}

// Spring Boot actuator endpoints that leak memory, configuration or control, and the Jolokia
// JMX bridge, requested by path (also behind a servlet path parameter); the health, info and
// metrics endpoints that probes and scrapers use, and pages that only name them, are allowed.
TEST(ManagementEndpoint, SensitiveActuatorAndJolokiaPathsAreBlocked) {
  for (const char* path :
       {"/actuator/heapdump", "/actuator/env", "/Actuator/Env",
        "/actuator/env/spring.datasource.password", "/manage/actuator/gateway/routes/x",
        "/actuator;a=b/heapdump", "/jolokia", "/jolokia/list", "/app/jolokia/exec/x"}) {
    Verdict v = testing::Inspect(testing::Get(path));
    EXPECT_TRUE(HasCategory(v, Category::kLfi) && Flagged(v)) << path << " -> " << v.explanation;
  }
  for (const char* path :
       {"/actuator/health", "/actuator/health/liveness", "/actuator/info", "/actuator/prometheus",
        "/actuator/metrics/jvm.memory.used", "/actuator", "/actuatorx/env",
        "/docs/actuator/environment-guide", "/blog/jolokia-tutorial", "/shop/envelopes"}) {
    Verdict v = testing::Inspect(testing::Get(path));
    EXPECT_FALSE(Flagged(v)) << path << " -> " << v.explanation;
  }
}

// An extension-only or empty path parameter slips a path past a suffix or prefix filter
// ("/app/rest/users;.jsp" was TeamCity's authentication bypass, "/;/admin" Shiro's); a
// parameter with a name (";jsessionid=", ";v=2") and a ';' in text are no such trick.
TEST(PathParameterBypass, ExtensionOnlyAndEmptyParametersAreBlocked) {
  for (const char* path : {"/app/rest/users;.jsp", "/admin;.css", "/api/v1/admin;.js?x=1",
                           "/;/admin", "/admin/;/users", "/secure/report;.png/", "/x/y_z;.JSP"}) {
    Verdict v = testing::Inspect(testing::Get(path));
    EXPECT_TRUE(Flagged(v) && testing::HasRule(v, "protocol.path-parameter-bypass"))
        << path << " -> " << v.explanation;
  }
  Verdict arg = InspectQueryValue("/app/rest/users;.jsp");
  EXPECT_TRUE(Flagged(arg) && HasCategory(arg, Category::kPathTraversal)) << "a path argument";
  // An encoded ';' is a character of the segment, not a parameter.
  EXPECT_FALSE(Flagged(testing::Inspect(testing::Get("/api/items/%3B/view"))));
  EXPECT_FALSE(Flagged(testing::Inspect(testing::Get("/api/users%3B.jsp"))));
  for (const char* path :
       {"/a;b=c/d", "/file;v=2.js", "/admin/users;a.js", "/docs/a;.longext", "/x;.", "/search"}) {
    Verdict v = testing::Inspect(testing::Get(path));
    EXPECT_FALSE(testing::HasRule(v, "protocol.path-parameter-bypass"))
        << path << " -> " << v.explanation;
  }
  for (const char* value : {"see users;.jsp files", "a;.b", "1;.5", "text; .jsp"}) {
    EXPECT_FALSE(Flagged(InspectQueryValue(value))) << value;
  }
}

// NTFS stream names open a file's data past extension handlers ("index.php::$DATA" served
// PHP source from IIS); "$data" in text is a variable.
TEST(NtfsStream, StreamNamesAfterAFileAreBlocked) {
  for (const char* value :
       {"index.php::$DATA", "web.config::$data", "x/../y:$i30:$INDEX_ALLOCATION"}) {
    Verdict v = InspectQueryValue(value);
    EXPECT_TRUE(Flagged(v) && testing::HasRule(v, "lfi.ntfs-stream")) << value << v.explanation;
  }
  Verdict p = testing::Inspect(testing::Get("/admin/login.aspx::$DATA"));
  EXPECT_TRUE(testing::HasRule(p, "lfi.ntfs-stream")) << p.explanation;
  for (const char* value : {"$data = load()", "::$data", "x::data", "use $data::$fields"}) {
    EXPECT_FALSE(testing::HasRule(InspectQueryValue(value), "lfi.ntfs-stream")) << value;
  }
}

// Vite's development-server file and virtual-module paths (the 2025 file-read bypasses go
// through "/@fs/"); a profile or post under "/@fs/" or "/@id/" is a page.
TEST(DevServerPath, ViteFileAndVirtualModulePathsAreBlocked) {
  for (const char* path :
       {"/@fs/home/node/app/config.js?import&?inline=1.wasm?init", "/@fs/app/src/main.ts?raw??",
        "/@fs/C:/Users/dev/app/.npmrc?import&raw??", "/@id/__x00__?import",
        "/base/@fs/var/www/secrets.json?raw"}) {
    Verdict v = testing::Inspect(testing::Get(path));
    EXPECT_TRUE(HasCategory(v, Category::kLfi) && Flagged(v)) << path << " -> " << v.explanation;
  }
  for (const char* path : {"/@fs/109312", "/@fs", "/@fs/posts/12", "/@id/123", "/users/@fs/etc",
                           "/@fs/media/photo.jpg"}) {
    Verdict v = testing::Inspect(testing::Get(path));
    EXPECT_FALSE(Flagged(v)) << path << " -> " << v.explanation;
  }
}

}  // namespace
}  // namespace shieldx::detect
