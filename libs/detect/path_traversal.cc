// Path traversal and local file inclusion: "../" sequences (any slash, dots folded from
// overlong UTF-8 by the normaliser, "....//" filter bypasses, ";" path parameters), and
// references to operating-system and application secrets (/etc/passwd, win.ini, WEB-INF,
// .git, .env, SSH keys, cloud credentials ...) in values that are shaped like paths.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <iterator>

#include "libs/detect/detector.h"
#include "libs/detect/normalize.h"
#include "libs/detect/text_util.h"

namespace shieldx::detect {

// Literal lists as "..."sv: a braced list of plain literals is an initializer_list of
// pointers, and every turn of the loop over it measured the string (strlen).
using std::string_view_literals::operator""sv;

namespace {

struct Best {
  float score = 0;
  const char* rule = "";
  Category cat = Category::kPathTraversal;
  std::size_t pos = 0;
  std::size_t len = 0;
  void Up(float s, const char* r, Category c, std::size_t p, std::size_t l) {
    if (s > score) {
      score = s;
      rule = r;
      cat = c;
      pos = p;
      len = l;
    }
  }
};

// Files and directories whose only business in a request is being stolen.
constexpr std::string_view kSensitive[] = {
    "etc/passwd",
    "etc/shadow",
    "etc/group",
    "etc/hosts",
    "etc/issue",
    "etc/motd",
    "etc/sudoers",
    "etc/crontab",
    "etc/fstab",
    "etc/resolv.conf",
    "etc/hostname",
    "etc/os-release",
    "etc/profile",
    "etc/bashrc",
    "etc/ssh/",
    "etc/mysql/",
    "etc/httpd/",
    "etc/apache2/",
    "etc/nginx/",
    "etc/php",
    "etc/subuid",
    "etc/subgid",
    "etc/security/",
    "etc/master.passwd",
    "etc/pam.d",
    "etc/inittab",
    "etc/network",
    "etc/environment",
    "etc/ld.so",
    "etc/apt/",
    "etc/init.d",
    "etc/x11",
    "etc/redis",
    "etc/kubernetes",
    "etc/docker",
    "etc/systemd",
    "proc/self/",
    "proc/version",
    "proc/cpuinfo",
    "proc/meminfo",
    "proc/mounts",
    "proc/net/",
    "proc/sched_debug",
    "proc/1/",
    // procfs entries that disclose the kernel, devices and memory layout.
    "proc/interrupts",
    "proc/cmdline",
    "proc/kcore",
    "proc/kallsyms",
    "proc/modules",
    "proc/partitions",
    "proc/loadavg",
    "proc/filesystems",
    "proc/ioports",
    "proc/iomem",
    "proc/diskstats",
    "proc/slabinfo",
    "proc/keys",
    "proc/stat",
    "proc/uptime",
    "proc/swaps",
    "proc/devices",
    "var/log/",
    "var/run/secrets",
    "var/lib/mysql",
    "var/mail",
    "var/spool/cron",
    "var/www/",
    "root/",
    "home/",
    "usr/local/apps",
    "usr/local/etc",
    "sys/class",
    "sys/kernel",
    "sys/devices",
    "sys/power",
    "dev/tcp/",
    "dev/udp/",
    "dev/shm",
    ".ssh/",
    "id_rsa",
    "id_dsa",
    "id_ecdsa",
    "id_ed25519",
    "authorized_keys",
    "known_hosts",
    ".bash_history",
    ".zsh_history",
    ".bashrc",
    ".bash_profile",
    ".profile",
    ".mysql_history",
    ".psql_history",
    ".viminfo",
    ".lesshst",
    ".netrc",
    ".pgpass",
    ".aws/credentials",
    ".aws/config",
    ".docker/",
    ".kube/config",
    ".git/",
    ".svn/",
    ".hg/",
    ".env",
    ".htaccess",
    ".htpasswd",
    ".npmrc",
    ".pypirc",
    ".gitconfig",
    ".git-credentials",
    ".ds_store",
    "web-inf/",
    "meta-inf/",
    "web.xml",
    "wp-config",
    "config.php",
    "configuration.php",
    "localsettings.php",
    "settings.php",
    "database.yml",
    "secrets.yml",
    "credentials.xml",
    "appsettings.json",
    "web.config",
    "applicationhost.config",
    "machine.config",
    "boot.ini",
    "win.ini",
    "system.ini",
    "windows/system32",
    "windows\\system32",
    "winnt/",
    "system32/",
    "sam",
    "ntuser.dat",
    "inetpub/",
    "php.ini",
    "httpd.conf",
    "my.cnf",
    "my.ini",
    "nginx.conf",
    "server.xml",
    "tomcat-users.xml",
    "docker-compose.yml",
    "dockerfile",
    "secrets/",
    "private.key",
    "server.key",
    ".pem",
    "shadow.bak",
    "passwd.bak",
    "global.asa",
    "autoexec.bat",
    "config.sys",
    "pagefile.sys",
    "hiberfil.sys",
    "repair/sam",
    "xampp/",
    "lampp/",
};

// Directory components that are hidden tool configuration, never public content.
constexpr std::string_view kHiddenDirs[] = {
    ".git",
    ".svn",
    ".hg",
    ".bzr",
    ".env",
    ".aws",
    ".ssh",
    ".docker",
    ".kube",
    ".idea",
    ".vscode",
    ".claude",
    ".cursor",
    ".cursorignore",
    ".cursorrules",
    ".htaccess",
    ".htpasswd",
    ".npmrc",
    ".bash_history",
    ".ds_store",
    ".gnupg",
    ".config",
    ".azure",
    ".gcloud",
    ".terraform",
    ".vagrant",
    ".circleci",
    ".github",
    ".gitlab-ci.yml",
    ".travis.yml",
    ".dockerenv",
    ".pgpass",
    ".netrc",
    ".mysql_history",
    ".env.local",
    ".env.production",
    ".user.ini",
    ".well-known-not",
};

// Suffixes of backup copies, dumps, keys and configuration: requested by path, such a file
// is read for what it leaks.
constexpr std::string_view kBackupOrConfigSuffixes[] = {
    ".bak",  ".old",    ".orig",    ".swp",      ".save",   ".sql",      ".sqlite", ".db",
    ".mdb",  ".inc",    ".config",  ".conf",     ".cfg",    ".ini",      ".log",    ".env",
    ".dist", ".backup", ".tmp",     ".tar.gz",   ".tgz",    ".zip",      ".7z",     ".rar",
    ".key",  ".pem",    ".jks",     ".keystore", ".passwd", ".htpasswd", "~",       ".copy",
    ".git",  ".rdb",    ".sqlite3", ".dump",     ".db3"};

bool IsArchiveSuffix(std::string_view ext) {
  return ext == ".zip" || ext == ".7z" || ext == ".rar" || ext == ".tar.gz" || ext == ".tgz";
}

// The name of an archive that copies a site or its data: a scanner's guess ("www", "backup",
// "htdocs", "db"), or a name that says so ("site-backup-2024", "shop.sql", "db_dump").
bool BackupArchiveStem(std::string_view stem) {
  for (std::string_view w :
       {"www"sv,    "wwwroot"sv,     "web"sv,     "website"sv, "site"sv,   "html"sv,
        "htdocs"sv, "public_html"sv, "public"sv,  "root"sv,    "db"sv,     "database"sv,
        "data"sv,   "dump"sv,        "old"sv,     "src"sv,     "source"sv, "code"sv,
        "app"sv,    "admin"sv,       "archive"sv, "files"sv,   "upload"sv, "uploads"sv,
        "temp"sv,   "tmp"sv,         "test"sv,    "new"sv,     "1"sv,      "123"sv}) {
    if (stem == w) return true;
  }
  for (std::string_view w : {"backup"sv, "bak"sv, "dump"sv, ".sql"sv, "database"sv, "wwwroot"sv,
                             "htdocs"sv, "public_html"sv}) {
    if (Find(stem, w) != std::string_view::npos) return true;
  }
  // Named after a site ("example.com.zip", "www.shop.cn.tar.gz"): scanners try the host name.
  for (std::string_view tld : {".com"sv, ".net"sv, ".org"sv, ".cn"sv, ".io"sv, ".de"sv, ".uk"sv,
                               ".ru"sv, ".jp"sv, ".info"sv, ".biz"sv}) {
    if (EndsWith(stem, tld) && stem.size() > tld.size()) return true;
  }
  return false;
}

// A dot name a scanner asks for: at the web root ("/.aider/", "/.foo"), or a backup or
// source suffix standing alone as the name ("/index.jsp/.bak", "/x/.java"). Elsewhere an
// unknown dot name is a word ("/tags/.net", "/wiki/.NET").
bool ProbedDotName(std::string_view path, std::size_t at, std::string_view comp) {
  // At the root, also behind "." segments ("/./.env").
  if (path.substr(0, at).find_first_not_of("/.") == std::string_view::npos) return true;
  for (std::string_view ext : kBackupOrConfigSuffixes) {
    if (comp == ext) return true;
  }
  if (comp == ".java" || comp == ".class") return true;
  // A server script, alone (".jsp") or hidden ("/uploads/.shell.php": a dropped web shell).
  for (std::string_view ext : {".php"sv, ".phtml"sv, ".php5"sv, ".phar"sv, ".jsp"sv, ".jspx"sv,
                               ".asp"sv, ".aspx"sv, ".ashx"sv, ".cgi"sv, ".pl"sv}) {
    if (EndsWith(comp, ext)) return true;
  }
  return false;
}

// A code host's file view: "/owner/repo/blob/<ref>/..." (also tree, raw, blame, edit and
// commits; GitLab's "/-/blob/"; Gitea's "/src/branch/<ref>/"), with the owner and repository
// before the view and a ref after it, all ahead of `at`.
bool RepositoryFileView(std::string_view path, std::size_t at) {
  std::size_t segments = 0;  // complete segments before the current one
  std::size_t s = path.empty() || path[0] != '/' ? 0 : 1;
  while (s < at) {
    std::size_t e = path.find('/', s);
    if (e == std::string_view::npos || e > at) return false;
    std::string_view seg = path.substr(s, e - s);
    const bool view =
        seg == "blob" || seg == "tree" || seg == "raw" || seg == "blame" || seg == "edit" ||
        seg == "commits" ||
        (seg == "src" && (path.substr(e, 8) == "/branch/" || path.substr(e, 8) == "/commit/"));
    if (view && segments >= 2) {
      std::size_t ref = e + 1;
      if (seg == "src") ref = path.find('/', ref) + 1;  // past "branch/" or "commit/"
      const std::size_t ref_end = path.find('/', ref);
      return ref_end != std::string_view::npos && ref_end > ref && ref_end <= at;
    }
    ++segments;
    s = e + 1;
  }
  return false;
}

// Sensitive targets spelled without their separators, as left after backslashes were
// stripped; matched at the end of a value that opens with dots or a drive letter.
constexpr std::string_view kSquashed[] = {
    "etcpasswd",  "etcshadow",      "etchosts",   "boot.ini",   "win.ini",         "system.ini",
    "web.xml",    "global.asa",     "web.config", "php.ini",    "httpd.conf",      "autoexec.bat",
    "config.sys", "system32config", "repairsam",  "ntuser.dat", "procselfenviron",
};

// Relative paths whose target has no business in a parameter (no leading '/' needed).
constexpr std::string_view kStrongRelative[] = {
    "web-inf/",         "web-inf\\",         "meta-inf/",  "etc/passwd",
    "etc/shadow",       "boot.ini",          "win.ini",    "global.asa",
    "windows/system32", "windows\\system32", "proc/self/", "wp-config.php",
};

// Whether some kStrongRelative name starts at 0 or right after '/', '\\' or '=', the only
// places where the check in DetectPathTraversal accepts one (a necessary condition: most
// short values have none, and the search for every name's first occurrence is skipped).
bool StrongRelativeCandidate(std::string_view lower) {
  auto starts_one = [lower](std::size_t q) {
    if (q >= lower.size()) return false;
    const char c = lower[q];  // the names' first letters
    if (c != 'w' && c != 'm' && c != 'e' && c != 'b' && c != 'g' && c != 'p') return false;
    for (std::string_view f : kStrongRelative) {
      if (f[0] == lower[q] && lower.substr(q, f.size()) == f) return true;
    }
    return false;
  };
  if (starts_one(0)) return true;
  for (char sep : {'/', '\\', '='}) {
    for (std::size_t q = Find(lower, sep); q != std::string_view::npos;
         q = Find(lower, sep, q + 1)) {
      if (starts_one(q + 1)) return true;
    }
  }
  return false;
}

// Start of a separator-stripped traversal ("....etcpasswd", "c:inetpubwwwrootglobal.asa"),
// or npos. The value must be one token: dots or "x:" first, then letters, dots, '-', '_'.
std::size_t SquashedTraversal(std::string_view lower) {
  const std::size_t n = lower.size();
  if (n < 8 || n > 256) return std::string_view::npos;
  std::size_t i = 0;
  while (i < n && (lower[i] == '.' || lower[i] == '/')) ++i;
  bool dots = i >= 2 && lower.substr(0, i).find("..") != std::string_view::npos;
  bool drive = !dots && n > 3 && IsAsciiAlpha(static_cast<unsigned char>(lower[0])) &&
               lower[1] == ':' && IsAsciiAlpha(static_cast<unsigned char>(lower[2]));
  if (!dots && !drive) return std::string_view::npos;
  for (std::size_t k = i; k < n; ++k) {
    char c = lower[k];
    if (!(IsAsciiAlnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' ||
          c == ':' || c == '/')) {
      return std::string_view::npos;
    }
  }
  for (std::string_view f : kSquashed) {
    if (EndsWith(lower, f) && n - f.size() >= (drive ? 2u : i)) return n - f.size();
  }
  return std::string_view::npos;
}

// Whitespace bytes in `s`, counted up to `cap` (the detector only asks "none?" and "at most
// four?"). Eight bytes are skipped at a time while none is below 0x21, as every whitespace
// byte is: most long values have no space at all.
std::size_t CountSpacesUpTo(std::string_view s, std::size_t cap) {
  const std::size_t n = s.size();
  std::size_t count = 0;
  std::size_t i = 0;
  while (i < n) {
    for (; i + 8 <= n; i += 8) {
      if (swar::AnyBelow(swar::Load8(s.data() + i), 0x21)) break;
    }
    for (const std::size_t e = std::min(n, i + 8); i < e; ++i) {
      if (IsSpaceChar(static_cast<unsigned char>(s[i])) && ++count >= cap) return count;
    }
  }
  return count;
}

bool PathShaped(std::string_view lower) {
  if (lower.empty()) return false;
  char c = lower[0];
  if (c == '/' || c == '\\' || c == '.' || c == '~') return true;
  if (lower.size() > 2 && IsAsciiAlpha(static_cast<unsigned char>(c)) && lower[1] == ':' &&
      (lower[2] == '\\' || lower[2] == '/')) {
    return true;
  }
  if (StartsWith(lower, "file:")) return true;
  return Find(lower, "../") != std::string_view::npos ||
         Find(lower, "..\\") != std::string_view::npos;
}

}  // namespace

// Some traversal payloads spell the bytes as literal "0x2e" / "0x2f" / "0x5c" text, which
// naive hex-decoding filters turn into "../". Decoded here for the traversal analysis only.
std::string_view DecodeHexByteText(std::string_view lower, Arena& arena) {
  // One scan for all three: "0x" anywhere, walked by its 'x' (rarer than '0' in the digit
  // runs of identifiers and times), unless the value's byte-pair filter rules it out.
  const BigramFilter* f = current_bigram_filter;
  if (f != nullptr && !f->MayContain(lower, "0x")) return lower;
  std::size_t x = lower.find('x', 1);
  while (x != std::string_view::npos && lower[x - 1] != '0') x = lower.find('x', x + 1);
  if (x == std::string_view::npos) return lower;
  if (Find(lower, "0x2e") == std::string_view::npos &&
      Find(lower, "0x2f") == std::string_view::npos &&
      Find(lower, "0x5c") == std::string_view::npos) {
    return lower;
  }
  char* out = arena.Allocate(lower.size());
  std::size_t o = 0;
  for (std::size_t i = 0; i < lower.size(); ++i) {
    if (i + 3 < lower.size() && lower[i] == '0' && lower[i + 1] == 'x') {
      std::string_view h = lower.substr(i + 2, 2);
      char c = h == "2e" ? '.' : h == "2f" ? '/' : h == "5c" ? '\\' : 0;
      if (c != 0) {
        out[o++] = c;
        i += 3;
        continue;
      }
    }
    out[o++] = lower[i];
  }
  arena.ShrinkLast(out, o);
  return {out, o};
}

// Spring Boot actuator endpoints that hand out memory, configuration, credentials or control
// ("/actuator/heapdump", "/actuator/env", "/manage/actuator/gateway/routes") and the Jolokia
// JMX bridge. Health, info, metrics and prometheus stay reachable: probes and scrapers use them.
// Returns the offset of the endpoint in `path`, npos when there is none.
std::size_t ManagementEndpoint(std::string_view path) {
  static constexpr std::string_view kActuator[] = {
      "env",         "heapdump",  "threaddump", "dump",           "jolokia",  "gateway",
      "configprops", "shutdown",  "restart",    "refresh",        "logfile",  "trace",
      "httptrace",   "loggers",   "mappings",   "beans",          "sessions", "auditevents",
      "flyway",      "liquibase", "conditions", "scheduledtasks", "startup",  "caches"};
  auto segment_end = [path](std::size_t e) {
    return e == path.size() || path[e] == '/' || path[e] == ';' || path[e] == '.' || path[e] == '?';
  };
  for (std::size_t p = Find(path, "/actuator"); p != std::string_view::npos;
       p = Find(path, "/actuator", p + 1)) {
    std::size_t a = p + 9;
    // "/actuator;x=y/env": servlet containers drop path parameters before routing.
    if (a < path.size() && path[a] == ';') a = std::min(path.size(), Find(path, '/', a));
    if (a >= path.size() || path[a] != '/') continue;
    ++a;
    for (std::string_view e : kActuator) {
      if (path.substr(a, e.size()) == e && segment_end(a + e.size())) return p;
    }
  }
  for (std::size_t p = Find(path, "/jolokia"); p != std::string_view::npos;
       p = Find(path, "/jolokia", p + 1)) {
    if (segment_end(p + 8)) return p;
  }
  return std::string_view::npos;
}

// Vite's development server reads any file through "/@fs/<absolute path>" and serves its
// virtual modules under "/@id/__x00__" (the NUL byte of a virtual id, escaped); the file-read
// bypasses of 2025 (CVE-2025-30208, -31125, -31486) all go through "/@fs/". A production
// site serves neither: the paths are either a development server left exposed or a probe for
// one. "/@fs/" counts only before a system directory or a drive, so a profile named "fs"
// ("/@fs/109312") stays a profile. Returns the offset in `path`, npos when there is none.
std::size_t DevServerPath(std::string_view path) {
  static constexpr std::string_view kRoots[] = {"etc/", "proc/", "root/",    "home/", "users/",
                                                "var/", "tmp/",  "usr/",     "opt/",  "app/",
                                                "srv/", "mnt/",  "windows/", "sys/",  "dev/"};
  const std::size_t fs = Find(path, "/@fs/");
  if (fs != std::string_view::npos) {
    const std::string_view rest = path.substr(fs + 5);
    for (std::string_view r : kRoots) {
      if (rest.starts_with(r)) return fs;
    }
    // "/@fs/C:/...", "/@fs/c:\\..."
    if (rest.size() >= 3 && IsAsciiAlpha(static_cast<unsigned char>(rest[0])) && rest[1] == ':' &&
        (rest[2] == '/' || rest[2] == '\\')) {
      return fs;
    }
  }
  return Find(path, "/@id/__x00__");
}

void DetectPathTraversal(const ValueView& v, DetectorScratch& scratch, FindingSink& sink) {
  std::string_view lower = DecodeHexByteText(v.lower, *scratch.arena);
  const std::size_t n = lower.size();
  Best b;
  bool is_request_path = v.field->source == Source::kPath;
  // Traversal sequences: "..", then a separator (/ \ ;/ or end), counted.
  int ups = 0;
  bool param_trick = false;
  std::size_t first = std::string_view::npos;
  // From one ".." to the next (the bytes between hold none, so nothing is skipped).
  for (std::size_t i = Find(lower, ".."); i != std::string_view::npos; i = Find(lower, "..", i)) {
    std::size_t j = i + 2;
    while (j < n && lower[j] == '.') ++j;  // "...." bypasses
    bool sep_before = i == 0 || lower[i - 1] == '/' || lower[i - 1] == '\\' ||
                      lower[i - 1] == '=' || lower[i - 1] == ':' || lower[i - 1] == ' ' ||
                      lower[i - 1] == '"' || lower[i - 1] == '\'';
    // "..;/" and "..;.\\" (Tomcat and Jetty drop ";" path parameters before resolving).
    bool sep_after = j >= n || lower[j] == '/' || lower[j] == '\\' ||
                     (lower[j] == ';' && j + 1 < n &&
                      (lower[j + 1] == '/' || lower[j + 1] == '\\' || lower[j + 1] == '.')) ||
                     (lower[j] == '%' && j + 1 < n);
    // A slash on at least one side: "../x", "x/..", "..\\" (not "try .." in prose).
    bool slash_before = i > 0 && (lower[i - 1] == '/' || lower[i - 1] == '\\');
    bool slash_after = j < n && (lower[j] == '/' || lower[j] == '\\' || lower[j] == ';');
    if (sep_before && sep_after && (slash_before || slash_after)) {
      if (first == std::string_view::npos) first = i;
      ++ups;
      // No real path has "..;": it only serves to slip ".." past a prefix check.
      param_trick |= j < n && lower[j] == ';';
    }
    i = j;
  }
  if (ups > 0) {
    int escapes = 0;
    NormalizePath(lower, *scratch.arena, &escapes);
    // One ".." that stays inside the value's own directories ("img/../logo.png") is a
    // relative path, not an escape.
    float s = ups >= 3 ? 0.9f : ups == 2 ? 0.8f : (escapes > 0 ? 0.55f : 0.35f);
    if (escapes >= 2) s = std::max(s, 0.88f);
    if (is_request_path) s = std::max(s, escapes > 0 ? 0.9f : 0.6f);
    if (param_trick) s = std::max(s, 0.6f);
    b.Up(s, "traversal.dot-dot", Category::kPathTraversal, first,
         std::min<std::size_t>(n - first, 64));
  }
  // A path parameter that is only an extension ("/app/rest/users;.jsp", "/admin;.css") or
  // nothing ("/;/admin"): servlet containers drop it before routing, while a filter in front
  // that matches on suffix or prefix ("*.jsp is public", "/admin/* needs a login") sees a
  // different path. No application names a parameter ".jsp". In a path-shaped argument here
  // (TeamCity's "?jsp=/app/rest/users;.jsp"); in the request path the parser judges the raw
  // spelling (an encoded "%3B" is no parameter).
  if (!is_request_path && n > 0 && lower[0] == '/') {
    const std::size_t p = PathParameterBypass(lower);
    if (p != std::string_view::npos) {
      b.Up(0.6f, "traversal.path-parameter-bypass", Category::kPathTraversal, p,
           std::min<std::size_t>(n - p, 24));
    }
  }
  // An NTFS stream name after a file name ("index.php::$DATA",
  // "web.config:$i30:$INDEX_ALLOCATION"): IIS and Windows file APIs open the file's data under
  // another name, past extension handlers, so the source is served or the check on the name misses.
  if (Find(lower, ":$") != std::string_view::npos) {
    if (const std::size_t ads = Find(lower, "::$data"); ads != std::string_view::npos && ads > 0) {
      b.Up(0.7f, "lfi.ntfs-stream", Category::kLfi, ads, 7);
    } else if (const std::size_t idx = Find(lower, ":$index_allocation");
               idx != std::string_view::npos && idx > 0) {
      b.Up(0.7f, "lfi.ntfs-stream", Category::kLfi, idx, 18);
    }
  }
  if (is_request_path) {
    const std::size_t m = ManagementEndpoint(lower);
    if (m != std::string_view::npos) {
      b.Up(0.7f, "lfi.management-endpoint", Category::kLfi, m, std::min<std::size_t>(n - m, 40));
    }
    const std::size_t d = DevServerPath(lower);
    if (d != std::string_view::npos) {
      b.Up(0.7f, "lfi.dev-server-path", Category::kLfi, d, std::min<std::size_t>(n - d, 40));
    }
  }
  // Sensitive files in path-shaped values (or after a traversal), or an absolute path token
  // to one anywhere in the value ("cat /etc/passwd", "x=/proc/self/environ").
  // Only in short, command-like values: prose that mentions /etc/fstab is not an attack.
  bool absolute_token = false;
  // Any whitespace separates words: a script's lines count like a sentence's spaces. Only
  // "none" and "at most four" are asked below, so counting stops at five.
  const std::size_t spaces = CountSpacesUpTo(lower, 5);
  const bool path_shaped = PathShaped(lower);
  // CJK characters separate words as spaces do ("cat /etc/passwd 命令是什么意思" is a question).
  const bool short_command = spaces <= 4 && n <= 160 && spaces + CjkCharsUpTo(lower, 5) <= 4;
  for (std::size_t p = short_command ? Find(lower, '/') : std::string_view::npos;
       p != std::string_view::npos && !absolute_token; p = Find(lower, '/', p + 1)) {
    char before = p == 0 ? ' ' : lower[p - 1];
    if (!(before == ' ' || before == '=' || before == '"' || before == '\'' || before == '(' ||
          before == ';' || before == '|' || before == '&' || before == '`' || before == ',' ||
          before == ':' || before == '<' || before == '>' || before == '\t')) {
      continue;
    }
    for (std::string_view f :
         {"etc/"sv, "proc/"sv, "var/log/"sv, "root/."sv, "sys/class"sv, "dev/tcp/"sv}) {
      if (lower.substr(p + 1, f.size()) == f) absolute_token = true;
    }
  }
  if (path_shaped || ups > 0 || is_request_path || absolute_token) {
    // Every name's first occurrence in one pass (a 32 KiB script opening with "/*" is
    // path-shaped: one scan per name dominated the detector).
    static const NeedleSet kSensitiveSet(kSensitive);
    std::size_t firsts[std::size(kSensitive)];
    kSensitiveSet.FirstAll(lower, firsts);
    for (std::size_t k = 0; k < std::size(kSensitive); ++k) {
      std::string_view f = kSensitive[k];
      std::size_t p = firsts[k];
      if (p == std::string_view::npos) continue;
      // Must start a path component. A dot name ("~/.profile", "..\\.env", "x=.bashrc") need
      // not follow a separator, but it is not the tail of a longer name: "repo.git/info/refs"
      // is a Git clone, "unified.profile" an OAuth scope. ".pem" is an extension.
      if (p > 0 && lower[p - 1] != '/' && lower[p - 1] != '\\' && f[0] != '.' && f[0] != '/')
        continue;
      if (p > 0 && f[0] == '.' && f != ".pem" &&
          (IsAsciiAlnum(static_cast<unsigned char>(lower[p - 1])) || lower[p - 1] == '_' ||
           lower[p - 1] == '-')) {
        continue;
      }
      // procfs names end a component: "proc/stat" is not "/proc/statistics.html".
      if (StartsWith(f, "proc/") && f.back() != '/') {
        std::size_t e = p + f.size();
        if (e < n && (IsAsciiAlnum(static_cast<unsigned char>(lower[e])) || lower[e] == '.' ||
                      lower[e] == '_' || lower[e] == '-')) {
          continue;
        }
      }
      if (f == "sam" || f == "home/" || f == "root/" || f == "var/www/" || f == ".pem" ||
          f == "secrets/") {
        if (ups == 0) continue;  // too common alone
      }
      // A code host's file view shows a repository's files ("/o/r/-/raw/main/.env.example",
      // "/o/r/blob/main/config/database.yml"), not the server's (as for hidden files below).
      if (is_request_path && ups == 0 && RepositoryFileView(lower, p)) continue;
      float s = ups > 0 ? 0.95f : 0.85f;
      if (is_request_path && ups == 0) s = 0.75f;
      b.Up(s, "lfi.sensitive-file", Category::kLfi, p, f.size() + 8);
      break;
    }
  }
  // Traversal whose separators were stripped on the way (backslashes eaten by an escaping
  // layer: "..\\..\\etc\\passwd" -> "....etcpasswd", "c:\\windows\\win.ini" ->
  // "c:windowswin.ini"), still aimed at a file that is only ever stolen.
  if (b.score < 0.7f) {
    std::size_t p = SquashedTraversal(lower);
    if (p != std::string_view::npos)
      b.Up(0.75f, "lfi.stripped-traversal", Category::kLfi, 0, std::min<std::size_t>(n, 64));
  }
  // A relative path to a deployment descriptor or system secret: "web-inf/web.xml".
  if (b.score < 0.7f && n <= 256 && spaces == 0 && StrongRelativeCandidate(lower)) {
    static const NeedleSet kStrongRelativeSet(kStrongRelative);
    std::size_t firsts[std::size(kStrongRelative)];
    kStrongRelativeSet.FirstAll(lower, firsts);
    for (std::size_t k = 0; k < std::size(kStrongRelative); ++k) {
      std::string_view f = kStrongRelative[k];
      std::size_t p = firsts[k];
      if (p == std::string_view::npos) continue;
      if (p > 0 && lower[p - 1] != '/' && lower[p - 1] != '\\' && lower[p - 1] != '=') continue;
      b.Up(0.7f, "lfi.sensitive-file", Category::kLfi, p, f.size() + 8);
      break;
    }
  }
  // Runs of four or more dots as a path component ("/....", "\\........"): no file or
  // directory is named so; they are filter-bypass spellings of "..". Only where "...." occurs.
  if (b.score < 0.6f && spaces == 0 && Find(lower, "....") != std::string_view::npos) {
    for (std::size_t p = FindFirstOf(lower, "/\\"); p != std::string_view::npos;
         p = FindFirstOf(lower, "/\\", p + 1)) {
      std::size_t e = p + 1;
      while (e < n && lower[e] == '.') ++e;
      if (e - p - 1 >= 4) {
        b.Up(0.6f, "traversal.dot-run", Category::kPathTraversal, p, e - p);
        break;
      }
    }
  }
  // Hidden tool directories/files as a path component.
  if (is_request_path || path_shaped) {
    for (std::size_t p = Find(lower, "/."); p != std::string_view::npos;
         p = Find(lower, "/.", p + 1)) {
      std::size_t e = p + 1;
      while (e < n && lower[e] != '/' && lower[e] != '\\' && lower[e] != '?') ++e;
      std::string_view comp = lower.substr(p + 1, e - p - 1);
      if (comp == "." || comp == ".." || StartsWith(comp, "..")) continue;
      if (comp == ".well-known") continue;
      bool known = false;
      for (std::string_view h : kHiddenDirs) {
        if (comp == h || (StartsWith(comp, h) && comp.size() > h.size() && comp[h.size()] == '.')) {
          known = true;
        }
      }
      // Unknown dot names are words too ("/tags/.net", "/wiki/.NET"): they alone do not
      // block. Inside a repository browser's file view the known ones are repository files
      // ("/owner/repo/blob/main/.github/workflows/ci.yml"), not the server's.
      const bool repository = is_request_path && RepositoryFileView(lower, p);
      const float s = known ? (repository ? 0.4f : 0.8f)
                            : (!repository && ProbedDotName(lower, p, comp) ? 0.5f : 0.4f);
      b.Up(s, "lfi.hidden-file", Category::kLfi, p, comp.size() + 1);
    }
  }
  // Backup / config artefacts requested by path.
  if (is_request_path) {
    std::size_t slash = lower.find_last_of('/');
    std::string_view last = slash == std::string_view::npos ? lower : lower.substr(slash + 1);
    for (std::string_view ext : kBackupOrConfigSuffixes) {
      if (EndsWith(last, ext) && last.size() > ext.size()) {
        // Archives are downloads ("/releases/app-1.2.zip", "/archive/v1.0.tar.gz") unless
        // their name says they are a copy of the site or its data ("www.zip", "db.sql.zip").
        if (IsArchiveSuffix(ext) && !BackupArchiveStem(last.substr(0, last.size() - ext.size())))
          break;
        b.Up(0.6f, "lfi.backup-or-config-file", Category::kLfi, n - last.size(), last.size());
        break;
      }
    }
  }
  // An editor's backup of a script with path info after it ("/index.php~/foo/bar/"): the
  // server sends the backup's source; the path info only hides the '~' from suffix checks.
  if (is_request_path) {
    for (std::size_t t = Find(lower, "~/"); t != std::string_view::npos;
         t = Find(lower, "~/", t + 2)) {
      const std::size_t slash = lower.rfind('/', t);
      const std::size_t start = slash == std::string_view::npos ? 0 : slash + 1;
      const std::string_view name = lower.substr(start, t - start);
      const std::size_t dot = name.rfind('.');
      if (dot == std::string_view::npos || dot == 0) continue;
      const std::string_view ext = name.substr(dot);
      for (std::string_view e :
           {".php"sv, ".phtml"sv, ".asp"sv, ".aspx"sv, ".jsp"sv, ".cgi"sv, ".pl"sv, ".py"sv,
            ".rb"sv, ".inc"sv, ".conf"sv, ".config"sv, ".ini"sv, ".env"sv}) {
        if (ext != e) continue;
        b.Up(0.6f, "lfi.backup-or-config-file", Category::kLfi, start, name.size() + 1);
        break;
      }
    }
  }
  // file:// URLs to local files.
  if (StartsWith(lower, "file:") || Find(lower, "file://") != std::string_view::npos) {
    std::size_t p = Find(lower, "file:");
    // "file:// url in chrome": the scheme named in prose, with no path to read.
    std::size_t t = p + 5;
    while (t < n && t < p + 7 && lower[t] == '/') ++t;
    bool target = t < n && !IsSpaceChar(static_cast<unsigned char>(lower[t])) && lower[t] != '"' &&
                  lower[t] != '\'' && lower[t] != ')' && lower[t] != ',';
    if (target) b.Up(0.85f, "lfi.file-url", Category::kLfi, p, 32);
  }
  // Windows UNC / admin shares: \\host\c$\...
  if (Find(lower, '$') != std::string_view::npos &&
      (Find(lower, "\\c$") != std::string_view::npos ||
       Find(lower, "/c$/") != std::string_view::npos ||
       Find(lower, "\\admin$") != std::string_view::npos)) {
    b.Up(0.85f, "lfi.windows-share", Category::kLfi, 0, 32);
  }
  if (b.score > 0) {
    Report(sink, ValueView{v.field, lower, lower, v.norm_flags, v.weight, v.document}, b.cat,
           b.score, b.rule, b.pos, b.len);
  }
}

}  // namespace shieldx::detect
