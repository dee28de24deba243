// OS command injection by shell grammar. The value is first collapsed the way a shell would
// read it (quotes and backslashes inside words removed, $IFS / ${IFS} / $9 / $@ expansions
// to spaces or nothing, {a,b} brace lists to words, cmd.exe ^ escapes removed), then split
// into commands at separators (; | || && & newline) and substitutions ($(...), `...`,
// <(...)). A finding needs a known command name in command position after a separator or
// inside a substitution, or a command with technical arguments (flags, paths, redirections)
// at the start of the value. Plain prose with command-like words ("echo in the mirror",
// "ls 300 lexus") does not have that structure. A value that is only a shell expansion
// ("~+", "!-1!-2") or only an output redirection into a system path (">/tmp/x") is a probe of
// its own.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "libs/detect/detector.h"
#include "libs/detect/text_util.h"

namespace shieldx::detect {

using std::string_view_literals::operator""sv;

namespace {

// 2 = unambiguous command name, 1 = also an English word (needs technical arguments).
const absl::flat_hash_map<std::string_view, int>& Commands() {
  static const auto* m = new absl::flat_hash_map<std::string_view, int>{
      // Unix, unambiguous.
      {"id", 2},
      {"whoami", 2},
      {"uname", 2},
      {"wget", 2},
      {"curl", 2},
      {"nc", 2},
      {"ncat", 2},
      {"netcat", 2},
      {"bash", 2},
      {"sh", 2},
      {"zsh", 2},
      {"ksh", 2},
      {"csh", 2},
      {"tcsh", 2},
      {"dash", 2},
      {"busybox", 2},
      {"python", 2},
      {"python2", 2},
      {"python3", 2},
      {"perl", 2},
      {"ruby", 2},
      {"php", 2},
      {"node", 2},
      {"lua", 2},
      {"nslookup", 2},
      {"ifconfig", 2},
      {"ipconfig", 2},
      {"chmod", 2},
      {"chown", 2},
      {"mkfifo", 2},
      {"mknod", 2},
      {"telnet", 2},
      {"ssh", 2},
      {"scp", 2},
      {"tftp", 2},
      {"ftp", 1},
      {"rm", 2},
      {"ls", 2},
      {"cat", 1},
      {"uptime", 2},
      {"hostname", 2},
      {"getent", 2},
      {"lastlog", 2},
      {"passwd", 2},
      {"useradd", 2},
      {"usermod", 2},
      {"crontab", 2},
      {"netstat", 2},
      {"ps", 2},
      {"pkill", 2},
      {"killall", 2},
      {"xterm", 2},
      {"awk", 2},
      {"gawk", 2},
      {"sed", 2},
      {"base64", 2},
      {"xxd", 2},
      {"od", 1},
      {"sleep", 1},
      {"ping", 2},
      {"traceroute", 2},
      {"dig", 1},
      {"whois", 2},
      {"sudo", 2},
      {"su", 1},
      {"nohup", 2},
      {"env", 2},
      {"printenv", 2},
      {"printf", 2},
      {"echo", 1},
      {"grep", 2},
      {"egrep", 2},
      {"fgrep", 2},
      {"find", 1},
      {"head", 1},
      {"tail", 1},
      {"less", 1},
      {"more", 1},
      {"tac", 2},
      {"nl", 2},
      {"strings", 1},
      {"wc", 2},
      {"dd", 2},
      {"tar", 2},
      {"zip", 1},
      {"unzip", 2},
      {"gzip", 2},
      {"gunzip", 2},
      {"openssl", 2},
      {"socat", 2},
      {"cp", 2},
      {"mv", 2},
      {"ln", 2},
      {"mkdir", 2},
      {"rmdir", 2},
      {"touch", 1},
      {"pwd", 2},
      {"cd", 1},
      {"chattr", 2},
      {"lsattr", 2},
      {"systemctl", 2},
      {"service", 1},
      {"kill", 1},
      {"reboot", 2},
      {"shutdown", 2},
      {"halt", 1},
      {"poweroff", 2},
      {"iptables", 2},
      {"mount", 1},
      {"umount", 2},
      {"ansible", 2},
      {"ansible-playbook", 2},
      {"docker", 2},
      {"kubectl", 2},
      {"git", 1},
      {"svn", 2},
      {"apt", 2},
      {"apt-get", 2},
      {"yum", 2},
      {"dnf", 2},
      {"rpm", 2},
      {"dpkg", 2},
      {"pip", 2},
      {"npm", 2},
      {"gcc", 2},
      {"cc", 1},
      {"make", 1},
      {"expect", 1},
      {"eval", 1},
      {"exec", 1},
      {"source", 1},
      {"export", 1},
      {"unset", 2},
      {"alias", 1},
      {"time", 1},
      {"timeout", 1},
      {"xargs", 2},
      {"tee", 1},
      {"sort", 1},
      {"uniq", 2},
      {"cut", 1},
      {"tr", 1},
      {"rev", 1},
      {"file", 1},
      {"stat", 1},
      {"which", 1},
      {"whereis", 2},
      {"locate", 1},
      {"who", 1},
      {"w", 1},
      {"last", 1},
      {"finger", 1},
      {"groups", 1},
      {"history", 1},
      {"dmesg", 2},
      {"lsof", 2},
      {"lspci", 2},
      {"lsmod", 2},
      {"insmod", 2},
      {"modprobe", 2},
      {"sysctl", 2},
      {"ulimit", 2},
      {"chpasswd", 2},
      {"wall", 1},
      {"mail", 1},
      {"sendmail", 2},
      {"mutt", 2},
      {"diff", 1},
      {"cmp", 1},
      {"vi", 2},
      {"vim", 2},
      {"nano", 2},
      {"ed", 1},
      {"jq", 2},
      {"mysql", 2},
      {"psql", 2},
      {"sqlite3", 2},
      {"redis-cli", 2},
      {"mongo", 2},
      {"nmap", 2},
      {"masscan", 2},
      {"tcpdump", 2},
      {"hexdump", 2},
      {"shred", 2},
      {"truncate", 1},
      {"fuser", 2},
      {"runuser", 2},
      {"setsid", 2},
      {"nice", 1},
      {"ionice", 2},
      {"strace", 2},
      {"ltrace", 2},
      {"gdb", 2},
      {"java", 1},
      {"javac", 2},
      {"jshell", 2},
      {"tclsh", 2},
      {"wish", 1},
      {"irb", 2},
      {"pwsh", 2},
      {"xdg-open", 2},
      {"rsync", 2},
      {"sftp", 2},
      {"host", 1},
      {"arp", 2},
      {"route", 1},
      {"ip", 1},
      {"ss", 1},
      {"lsb_release", 2},
      {"uname -a", 2},
      {"date", 1},
      {"cal", 1},
      {"df", 2},
      {"du", 2},
      {"free", 1},
      {"top", 1},
      {"htop", 2},
      {"vmstat", 2},
      {"iostat", 2},
      {"whoami.exe", 2},
      // Windows cmd / PowerShell.
      {"cmd", 2},
      {"cmd.exe", 2},
      {"powershell", 2},
      {"powershell.exe", 2},
      {"dir", 1},
      {"type", 1},
      {"copy", 1},
      {"del", 1},
      {"erase", 1},
      {"ren", 1},
      {"rename", 1},
      {"move", 1},
      {"net", 1},
      {"net1", 2},
      {"netsh", 2},
      {"systeminfo", 2},
      {"tasklist", 2},
      {"taskkill", 2},
      {"reg", 1},
      {"regedit", 2},
      {"wmic", 2},
      {"certutil", 2},
      {"bitsadmin", 2},
      {"schtasks", 2},
      {"sc", 1},
      {"icacls", 2},
      {"cacls", 2},
      {"attrib", 2},
      {"findstr", 2},
      {"nltest", 2},
      {"mshta", 2},
      {"rundll32", 2},
      {"regsvr32", 2},
      {"cscript", 2},
      {"wscript", 2},
      {"msiexec", 2},
      {"start", 1},
      {"set", 1},
      {"ver", 1},
      {"vol", 1},
      {"iwmi", 2},
      {"iex", 2},
      {"invoke-expression", 2},
      {"invoke-webrequest", 2},
      {"iwr", 2},
      {"invoke-wmimethod", 2},
      {"get-content", 2},
      {"get-childitem", 2},
      {"get-process", 2},
      {"start-process", 2},
      {"new-object", 2},
      {"out-file", 2},
      {"set-content", 2},
      {"gc", 1},
      {"gci", 2},
      {"ls.exe", 2},
      {"forfiles", 2},
      {"xcopy", 2},
      {"robocopy", 2},
      {"ping.exe", 2},
      {"whoami /all", 2},
      {"query", 1},
      {"qwinsta", 2},
      {"wevtutil", 2},
      {"vssadmin", 2},
      {"bcdedit", 2},
      {"diskpart", 2},
      {"format", 1},
      {"mklink", 2},
      {"pushd", 2},
      {"popd", 2},
      {"timeout.exe", 2},
      {"echo.", 2},
      // More Unix binaries that give a shell, read files or reach the network
      // (GTFOBins-style); English words among them are weak.
      {"aptitude", 2},
      {"apt-cache", 2},
      {"aria2c", 2},
      {"base32", 2},
      {"basenc", 2},
      {"bc", 1},
      {"bsdtar", 2},
      {"bzip2", 2},
      {"c89", 2},
      {"c99", 2},
      {"capsh", 2},
      {"chef-apply", 2},
      {"chef-client", 2},
      {"chef-run", 2},
      {"chef-shell", 2},
      {"chef-solo", 2},
      {"chef-vault", 2},
      {"chroot", 2},
      {"column", 1},
      {"comm", 1},
      {"composer", 1},
      {"cpan", 2},
      {"cpio", 2},
      {"cpulimit", 2},
      {"cscli", 2},
      {"dmidecode", 2},
      {"dmsetup", 2},
      {"dotnet", 2},
      {"easy_install", 2},
      {"exiftool", 2},
      {"flock", 1},
      {"fold", 1},
      {"gem", 1},
      {"ghci", 2},
      {"gimp", 1},
      {"hping3", 2},
      {"iconv", 2},
      {"journalctl", 2},
      {"jjs", 2},
      {"jrunscript", 2},
      {"julia", 1},
      {"knife", 1},
      {"ksu", 2},
      {"ldconfig", 2},
      {"lftp", 2},
      {"logsave", 2},
      {"lwp-download", 2},
      {"lwp-request", 2},
      {"mawk", 2},
      {"nawk", 2},
      {"msfconsole", 2},
      {"nsenter", 2},
      {"ntpdate", 2},
      {"openvpn", 2},
      {"perf", 1},
      {"pdflatex", 2},
      {"pip3", 2},
      {"pkexec", 2},
      {"puppet", 1},
      {"rake", 1},
      {"readelf", 2},
      {"restic", 2},
      {"rlwrap", 2},
      {"rmt", 2},
      {"run-parts", 2},
      {"setarch", 2},
      {"setfacl", 2},
      {"smbclient", 2},
      {"sqlmap", 2},
      {"ssh-keygen", 2},
      {"ssh-keyscan", 2},
      {"sshpass", 2},
      {"start-stop-daemon", 2},
      {"stdbuf", 2},
      {"systemd-run", 2},
      {"tmux", 2},
      {"torify", 2},
      {"torsocks", 2},
      {"trap", 1},
      {"unshare", 2},
      {"uudecode", 2},
      {"uuencode", 2},
      {"valgrind", 2},
      {"vigr", 2},
      {"vipw", 2},
      {"virsh", 2},
      {"visudo", 2},
      {"w3m", 2},
      {"xz", 2},
      {"zypper", 2},
      {"lastlogin", 2},
      // More Windows living-off-the-land binaries.
      {"bcdboot", 2},
      {"certreq", 2},
      {"cmdkey", 2},
      {"cmstp", 2},
      {"csc", 2},
      {"esentutl", 2},
      {"extrac32", 2},
      {"fsutil", 2},
      {"installutil", 2},
      {"klist", 2},
      {"makecab", 2},
      {"msbuild", 2},
      {"msdt", 2},
      {"ntdsutil", 2},
      {"odbcconf", 2},
      {"psexec", 2},
      {"regasm", 2},
      {"regsvcs", 2},
      {"takeown", 2},
      {"wbadmin", 2},
      {"wsl", 2},
      {"dsquery", 2},
  };
  return *m;
}

// Commands().find(name): the strength of a known command, null for any other word.
// Most words after a separator (numbers, ids, tokens of a beacon) are answered by the
// names' shapes (WordShapes) without hashing.
const int* FindCommand(std::string_view name) {
  static const auto* shapes = [] {
    auto* w = new WordShapes();
    for (const auto& [command, unused] : Commands()) w->Add(command);
    return w;
  }();
  if (!shapes->Possible(name)) return nullptr;
  const auto it = Commands().find(name);
  return it == Commands().end() ? nullptr : &it->second;
}

bool IsShellSeparatorStart(char c) {
  return c == ';' || c == '|' || c == '&' || c == '\n' || c == '`' || c == '\r';
}

bool IsWordBoundary(char c) {
  return IsSpaceChar(static_cast<unsigned char>(c)) || IsShellSeparatorStart(c) || c == '(' ||
         c == ')' || c == '<' || c == '>';
}

// Byte classes for the per-byte scans of long values: one table lookup instead of a chain of
// comparisons. Each class is exactly the predicate named in its comment.
enum CharClass : uint8_t {
  kSpace = 1,        // IsSpaceChar
  kSeparator = 2,    // IsShellSeparatorStart
  kWordEnd = 4,      // IsWordBoundary: ends a word in command position
  kArgsEnd = 8,      // IsShellSeparatorStart or ')': ends a command's arguments
  kNameMark = 16,    // = / \ ' " ? * : -- what CommandAt looks for inside a word
  kSepTrigger = 32,  // ; \n \r | & ` $ < > -- may open a command in DetectCmdi's separator loop
  kCollapse = 64,    // + ' " \ ^ $ ` < > [ { -- CollapseShell may rewrite it; others are copied
};
constexpr std::array<uint8_t, 256> kCharClass = [] {
  std::array<uint8_t, 256> t{};
  for (unsigned char c : {' ', '\t', '\n', '\r', '\f', '\v'}) t[c] |= kSpace | kWordEnd;
  for (unsigned char c : {';', '|', '&', '\n', '`', '\r'}) t[c] |= kSeparator | kWordEnd | kArgsEnd;
  for (unsigned char c : {'(', ')', '<', '>'}) t[c] |= kWordEnd;
  t[static_cast<unsigned char>(')')] |= kArgsEnd;
  for (unsigned char c : {'=', '/', '\\', '\'', '"', '?', '*', ':'}) t[c] |= kNameMark;
  for (unsigned char c : {';', '\n', '\r', '|', '&', '`', '$', '<', '>'}) t[c] |= kSepTrigger;
  for (unsigned char c : {'+', '\'', '"', '\\', '^', '$', '`', '<', '>', '[', '{'})
    t[c] |= kCollapse;
  return t;
}();
inline bool HasClass(char c, uint8_t cls) {
  return kCharClass[static_cast<unsigned char>(c)] & cls;
}
// First position at or after `i` of a byte of a class in `mask` (s.size() when none), four
// bytes a step while none of them is.
inline std::size_t SkipToClass(std::string_view s, std::size_t i, uint8_t mask) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  while (i + 4 <= n &&
         !((kCharClass[p[i]] | kCharClass[p[i + 1]] | kCharClass[p[i + 2]] | kCharClass[p[i + 3]]) &
           mask)) {
    i += 4;
  }
  while (i < n && !(kCharClass[p[i]] & mask)) ++i;
  return i;
}

// What CollapseShell saw on the way.
struct CollapseInfo {
  bool brace_trick = false;     // {,id} / c{a,oun}t: an empty alternative or glued words
  bool glob = false;            // a glob class was collapsed: pa[s]swd, /[?]tc
  std::size_t glob_at[8] = {};  // output positions of the first collapsed glob classes
  int globs = 0;
  std::size_t quote_at[8] = {};  // output positions where quotes glued into a word were dropped
  int quotes = 0;
  std::size_t escape_at[8] = {};  // ... and backslashes between letters of a word
  int escapes = 0;
  // How many quotes were dropped from inside the output word [from, to).
  int QuotesIn(std::size_t from, std::size_t to) const {
    return CountIn(quote_at, quotes, from, to);
  }
  // How many backslashes were dropped inside [from, to).
  int EscapesIn(std::size_t from, std::size_t to) const {
    return CountIn(escape_at, escapes, from, to);
  }
  static int CountIn(const std::size_t* at, int count, std::size_t from, std::size_t to) {
    int k = 0;
    for (int q = 0; q < count; ++q) k += at[q] > from && at[q] < to;
    return k;
  }
  bool GlobIn(std::size_t from, std::size_t to) const {
    for (int k = 0; k < globs; ++k) {
      if (glob_at[k] >= from && glob_at[k] < to) return true;
    }
    return false;
  }
};

// Position of "/<system dir>/" or a final "/<system dir>" in a collapsed value, where '?' in
// the value matches any character (it came from a glob class); npos when none.
std::size_t GlobbedSystemPath(std::string_view s, const CollapseInfo& info) {
  for (std::size_t p = Find(s, '/'); p != std::string_view::npos; p = Find(s, '/', p + 1)) {
    std::size_t e = p + 1;
    while (e < s.size() && s[e] != '/' && !IsSpaceChar(static_cast<unsigned char>(s[e]))) ++e;
    std::string_view comp = s.substr(p + 1, e - p - 1);
    for (std::string_view dir : {"etc", "bin", "sbin", "usr", "proc", "dev", "var", "boot", "root",
                                 "lib", "tmp", "home"}) {
      if (comp.size() != dir.size()) continue;
      bool match = true;
      for (std::size_t k = 0; k < dir.size() && match; ++k)
        match = comp[k] == dir[k] || comp[k] == '?';
      // The glob must be in this path: here or in the next component.
      std::size_t next = e;
      while (next < s.size() && !IsSpaceChar(static_cast<unsigned char>(s[next]))) ++next;
      if (match && info.GlobIn(p, next)) return p;
    }
  }
  return std::string_view::npos;
}

// Brace expansion of the list at lower[open] ("{a,b}") inside the word that starts at
// out[word_start]: writes "pre+a+post pre+b+post" over the word. Returns the index of the
// last input byte consumed, or npos when the braces are not a shell list.
std::size_t ExpandBraces(std::string_view lower, std::size_t open, char* out, std::size_t* o,
                         std::size_t capacity, CollapseInfo* info) {
  std::size_t close = FindWithin(lower, '}', open, 256);
  if (close == std::string_view::npos || close - open >= 256) return std::string_view::npos;
  std::string_view inner = lower.substr(open + 1, close - open - 1);
  if (Find(inner, ',') == std::string_view::npos ||
      FindFirstOf(inner, " :\"{") != std::string_view::npos) {
    return std::string_view::npos;
  }
  std::size_t word_start = *o;
  while (word_start > 0 && !IsWordBoundary(out[word_start - 1])) --word_start;
  std::size_t post_end = close + 1;
  while (post_end < lower.size() && !IsWordBoundary(lower[post_end]) && lower[post_end] != '{' &&
         lower[post_end] != '$') {
    ++post_end;
  }
  std::string_view post = lower.substr(close + 1, post_end - close - 1);
  std::size_t pre_len = *o - word_start;
  if (pre_len > 64) return std::string_view::npos;
  char pre[64];
  for (std::size_t k = 0; k < pre_len; ++k) pre[k] = out[word_start + k];
  std::size_t need = (pre_len + post.size() + 1) * (inner.size() + 1) + inner.size();
  // Whatever follows is copied at most one byte per input byte: it must still fit.
  if (word_start + need + (lower.size() - post_end) > capacity) return std::string_view::npos;
  // Numeric lists are regex quantifiers or data ("{1,5}"), never a command.
  if (inner.find_first_not_of("0123456789,") == std::string_view::npos) {
    return std::string_view::npos;
  }
  bool empty_alt =
      inner.front() == ',' || inner.back() == ',' || Find(inner, ",,") != std::string_view::npos;
  if (empty_alt || pre_len > 0 || !post.empty()) info->brace_trick = true;
  std::size_t w = word_start;
  std::size_t from = 0;
  bool first = true;
  while (from <= inner.size()) {
    std::size_t comma = Find(inner, ',', from);
    if (comma == std::string_view::npos) comma = inner.size();
    std::string_view alt = inner.substr(from, comma - from);
    from = comma + 1;
    if (alt.empty() && pre_len == 0 && post.empty()) continue;
    if (!first) out[w++] = ' ';
    first = false;
    for (std::size_t k = 0; k < pre_len; ++k) out[w++] = pre[k];
    for (std::size_t k = 0; k < alt.size(); ++k) {
      if (alt[k] == '$' && k + 1 < alt.size() && alt[k + 1] == '\'') continue;  // $'...'
      out[w++] = alt[k];
    }
    for (char d : post) out[w++] = d;
  }
  *o = w;
  return post_end - 1;
}

// Markdown fences: a line that is "```" with a language tag or nothing ("```bash"). A
// shell would read the backticks as substitutions, but a value holding them is a note, a
// ticket or a chat message quoting code. The fence lines are blanked, so the tag is no
// command; the lines they enclose are judged as any lines are. With a sentence outside the
// blocks (three words) the blocks are quotations, as a code span in a sentence is, and are
// blanked whole. Same length out as in: positions stay those of the value.
std::string_view BlankMarkdownFences(std::string_view lower, Arena& arena) {
  if (Find(lower, "```") == std::string_view::npos) return lower;
  const std::size_t n = lower.size();
  struct Fence {
    std::size_t start, end;  // the line, without its line break
  };
  Fence fences[16];
  std::size_t count = 0;
  for (std::size_t p = Find(lower, "```"); p != std::string_view::npos && count < 16;
       p = Find(lower, "```", p + 3)) {
    std::size_t ls = p;
    while (ls > 0 && ls > p - std::min<std::size_t>(p, 3) && lower[ls - 1] == ' ') --ls;
    if (ls > 0 && lower[ls - 1] != '\n') continue;
    std::size_t e = p + 3;
    while (e < n && lower[e] == '`') ++e;
    const std::size_t eol = std::min(n, Find(lower, '\n', e));
    bool tag = eol - e <= 20;
    for (std::size_t k = e; tag && k < eol; ++k) {
      const char d = lower[k];
      tag = IsAsciiAlnum(static_cast<unsigned char>(d)) || d == '-' || d == '+' || d == '#' ||
            d == '.' || d == ' ' || d == '\r';
    }
    if (!tag) continue;
    fences[count++] = {ls, eol};
    p = eol >= 3 ? eol - 3 : eol;
  }
  if (count == 0) return lower;
  // Words outside the blocks (an unclosed block runs to the end of the value).
  int words = 0;
  std::size_t from = 0;
  for (std::size_t f = 0; f <= count && words < 3; f += 2) {
    const std::size_t to = f < count ? fences[f].start : n;
    for (std::size_t k = from; k < to && words < 3; ++k) {
      words += IsAsciiAlpha(static_cast<unsigned char>(lower[k])) &&
               (k == 0 || !IsAsciiAlpha(static_cast<unsigned char>(lower[k - 1])));
    }
    from = f + 1 < count ? fences[f + 1].end : n;
  }
  char* out = arena.Allocate(n);
  std::memcpy(out, lower.data(), n);
  auto blank = [&](std::size_t a, std::size_t b) {
    for (std::size_t k = a; k < b; ++k) {
      if (out[k] != '\n') out[k] = ' ';
    }
  };
  for (std::size_t f = 0; f < count; f += 2) {
    if (words >= 3 && f + 1 < count) {
      blank(fences[f].start, fences[f + 1].end);
    } else {
      blank(fences[f].start, fences[f].end);
      if (f + 1 < count) blank(fences[f + 1].start, fences[f + 1].end);
    }
  }
  return std::string_view(out, n);
}

// Shell variables assigned in the value and expanded later ("a=/etc&&c=cat&&$c $a/passwd",
// "c1=c;c2=at;$c1$c2 x"): the expansions are replaced by the assigned words, so the command
// they spell is read as such. Bounded: 16 assignments of up to 64 bytes, values up to 4 KiB.
std::string_view SubstituteAssignments(std::string_view lower, Arena& arena) {
  constexpr int kMaxVars = 16;
  constexpr std::size_t kMaxValue = 64;
  const std::size_t n = lower.size();
  if (n > 4096 || Find(lower, '$') == std::string_view::npos ||
      Find(lower, '=') == std::string_view::npos) {
    return lower;
  }
  std::string_view names[kMaxVars];
  std::string_view values[kMaxVars];
  int vars = 0;
  // NAME=VALUE at the start or after a separator.
  for (std::size_t i = 0; i < n && vars < kMaxVars; ++i) {
    if (!(i == 0 || lower[i - 1] == ';' || lower[i - 1] == '&' || lower[i - 1] == '|' ||
          lower[i - 1] == '\n' || lower[i - 1] == ' ')) {
      continue;
    }
    std::size_t e = i;
    while (e < n && (IsAsciiAlnum(static_cast<unsigned char>(lower[e])) || lower[e] == '_')) ++e;
    if (e == i || e >= n || lower[e] != '=' || !IsAsciiAlpha(static_cast<unsigned char>(lower[i])))
      continue;
    std::size_t vs = e + 1;
    std::size_t ve = vs;
    if (ve + 1 < n && lower[ve] == '\\' && lower[ve + 1] == ' ') {
      ve += 2;  // c4=\ (an escaped space)
    } else {
      while (ve < n && ve - vs <= kMaxValue &&
             !IsSpaceChar(static_cast<unsigned char>(lower[ve])) && lower[ve] != ';' &&
             lower[ve] != '&' && lower[ve] != '|' && lower[ve] != '$') {
        ++ve;
      }
    }
    if (ve - vs > kMaxValue) continue;
    names[vars] = lower.substr(i, e - i);
    values[vars] = lower.substr(vs, ve - vs);
    ++vars;
    i = ve > i ? ve - 1 : i;
  }
  if (vars == 0) return lower;
  const std::size_t capacity = n + n / 2 * kMaxValue / 2 + 64;
  char* out = arena.Allocate(capacity);
  std::size_t o = 0;
  bool changed = false;
  for (std::size_t i = 0; i < n; ++i) {
    if (lower[i] == '$' && i + 1 < n) {
      bool braced = lower[i + 1] == '{';
      std::size_t ns = i + 1 + (braced ? 1 : 0);
      std::size_t ne = ns;
      while (ne < n && (IsAsciiAlnum(static_cast<unsigned char>(lower[ne])) || lower[ne] == '_'))
        ++ne;
      if (braced && (ne >= n || lower[ne] != '}')) ne = ns;
      std::string_view name = lower.substr(ns, ne - ns);
      int found = -1;
      for (int k = 0; k < vars && !name.empty(); ++k) {
        if (names[k] == name) found = k;  // the last assignment wins
      }
      if (found >= 0 && o + kMaxValue + (n - i) <= capacity) {
        for (char c : values[found]) {
          if (c != '\'' && c != '"' && c != '\\') out[o++] = c;  // quotes and escapes read away
        }
        i = braced ? ne : ne - 1;
        changed = true;
        continue;
      }
    }
    if (o >= capacity) break;
    out[o++] = lower[i];
  }
  arena.ShrinkLast(out, changed ? o : 0);
  if (!changed) return lower;
  return {out, o};
}

// Collapses shell quoting/escaping/expansion tricks into plain words. Output is lowercase.
// Only bytes of class kCollapse are ever rewritten: runs of other bytes are copied as they
// are, and a value without any such byte is returned as it is.
std::string_view CollapseShell(std::string_view lower, Arena& arena, CollapseInfo* info) {
  const std::size_t n = lower.size();
  std::size_t plain = SkipToClass(lower, 0, kCollapse);
  if (plain == n) return lower;
  // Brace expansion may grow the text; anything that would not fit is left unexpanded.
  const std::size_t capacity = lower.size() * 2 + 64;
  char* out = arena.Allocate(capacity);
  std::memcpy(out, lower.data(), plain);
  std::size_t o = plain;
  // A value with '+' and no spaces was form-encoded once more than the server decodes:
  // "&+|+dir+c:/" means "& | dir c:/".
  const bool plus_is_space =
      Find(lower, ' ') == std::string_view::npos && Find(lower, '+') != std::string_view::npos;
  for (std::size_t i = plain; i < n; ++i) {
    char c = lower[i];
    if (!HasClass(c, kCollapse)) {  // copied as it is, with the plain bytes after it
      std::size_t run = SkipToClass(lower, i + 1, kCollapse);
      std::memcpy(out + o, lower.data() + i, run - i);
      o += run - i;
      i = run - 1;
      continue;
    }
    // '+' glued to a separator is a form-encoded space too: "&&+|+dir c:/", "c:+|".
    const bool plus_by_separator =
        c == '+' &&
        ((o > 0 && (out[o - 1] == ';' || out[o - 1] == '|' || out[o - 1] == '&')) ||
         (i + 1 < n && (lower[i + 1] == ';' || lower[i + 1] == '|' || lower[i + 1] == '&')));
    if (c == '+' && (plus_is_space || plus_by_separator)) {
      out[o++] = ' ';
      continue;
    }
    // Quotes glued to word characters ("w'h'o'am'i", c""at) disappear.
    if (c == '\'' || c == '"') {
      bool prev_word = o > 0 && IsIdentChar(static_cast<unsigned char>(out[o - 1]));
      bool next_word =
          i + 1 < n && (IsIdentChar(static_cast<unsigned char>(lower[i + 1])) ||
                        lower[i + 1] == '\'' || lower[i + 1] == '"' || lower[i + 1] == '/');
      if (prev_word && next_word) {
        if (info->quotes < 8) info->quote_at[info->quotes++] = o;
        continue;
      }
      if (prev_word && i + 1 < n && lower[i + 1] == c) {  // ""
        if (info->quotes < 7) {
          info->quote_at[info->quotes++] = o;
          info->quote_at[info->quotes++] = o;
        }
        ++i;
        continue;
      }
    }
    // Backslash escapes inside words: c\at, \/bin. Those between letters of a word are
    // recorded (w\h\o\am\i is spelled apart like w'h'o'am'i), except before a regular
    // expression's class letters (\d\d\d-\d\d, \w+\s).
    if (c == '\\' && i + 1 < n &&
        (IsAsciiAlnum(static_cast<unsigned char>(lower[i + 1])) || lower[i + 1] == '/')) {
      const char e = lower[i + 1];
      if (o > 0 && IsIdentChar(static_cast<unsigned char>(out[o - 1])) && IsAsciiAlpha(e) &&
          e != 'd' && e != 'w' && e != 's' && e != 'b' && info->escapes < 8) {
        info->escape_at[info->escapes++] = o;
      }
      if (o > 0 && (IsIdentChar(static_cast<unsigned char>(out[o - 1])) || out[o - 1] == '/' ||
                    out[o - 1] == ' ' || out[o - 1] == ';' || out[o - 1] == '|')) {
        continue;
      }
      if (o == 0) continue;
    }
    // cmd.exe caret escapes: w^h^o^a^m^i
    if (c == '^' && o > 0 && IsAsciiAlnum(static_cast<unsigned char>(out[o - 1])) && i + 1 < n &&
        IsAsciiAlnum(static_cast<unsigned char>(lower[i + 1]))) {
      continue;
    }
    // Empty substitutions expand to nothing: who$()ami, c``at
    if (c == '$' && i + 2 < n && lower[i + 1] == '(' && lower[i + 2] == ')') {
      i += 2;
      continue;
    }
    if (c == '`' && i + 1 < n && lower[i + 1] == '`') {
      ++i;
      continue;
    }
    // ... and so do empty process substitutions glued into a word: pi>()ng
    if ((c == '<' || c == '>') && i + 2 < n && lower[i + 1] == '(' && lower[i + 2] == ')' &&
        o > 0 && IsAsciiAlnum(static_cast<unsigned char>(out[o - 1]))) {
      i += 2;
      continue;
    }
    // ANSI-C quoting $'...' reads as a quoted word: {,$'whoami',}
    if (c == '$' && i + 1 < n && lower[i + 1] == '\'') continue;
    if (c == '$') {
      std::string_view rest = lower.substr(i);
      if (StartsWith(rest, "${ifs}")) {
        out[o++] = ' ';
        i += 5;
        continue;
      }
      if (StartsWith(rest, "$ifs")) {
        out[o++] = ' ';
        i += 3;
        continue;
      }
      if (StartsWith(rest, "${ifs")) {  // ${IFS%??}
        std::size_t close = Find(lower, '}', i);
        if (close != std::string_view::npos && close - i < 16) {
          out[o++] = ' ';
          i = close;
          continue;
        }
      }
      if (i + 1 < n && (IsAsciiDigit(static_cast<unsigned char>(lower[i + 1])) ||
                        lower[i + 1] == '@' || lower[i + 1] == '*')) {
        ++i;  // $9, $@, $* expand to nothing
        continue;
      }
      // Special parameters ($? $! $$ $_ $-) spliced between letters of a word ("c$?at",
      // "una$$me"): text never has them; they only break the word for a filter.
      if (i + 1 < n && o > 0 && IsAsciiAlpha(static_cast<unsigned char>(out[o - 1])) &&
          (lower[i + 1] == '?' || lower[i + 1] == '!' || lower[i + 1] == '$' ||
           lower[i + 1] == '_' || lower[i + 1] == '-') &&
          i + 2 < n && IsAsciiAlpha(static_cast<unsigned char>(lower[i + 2]))) {
        ++i;
        continue;
      }
      if (StartsWith(rest, "${}")) {
        i += 2;
        continue;
      }
      // An unset variable glued to a word expands to nothing: sh$xx -c id
      if (o > 0 && IsAsciiAlnum(static_cast<unsigned char>(out[o - 1])) && i + 1 < n &&
          (IsAsciiAlpha(static_cast<unsigned char>(lower[i + 1])) || lower[i + 1] == '_')) {
        std::size_t k = i + 1;
        while (k < n && IsIdentChar(static_cast<unsigned char>(lower[k])) && lower[k] != '$') ++k;
        i = k - 1;
        continue;
      }
    }
    // Glob bracket expressions inside a word: pa[s]swd, /[e//]tc, [!q]asswd -> one character
    // (the only one the class can match) or '?' (any).
    if (c == '[' && o > 0 &&
        (IsAsciiAlnum(static_cast<unsigned char>(out[o - 1])) || out[o - 1] == '/' ||
         out[o - 1] == '\\')) {
      std::size_t close = FindWithin(lower, ']', i + 1, 16);
      if (close != std::string_view::npos && close > i + 1 && close - i <= 16) {
        std::string_view inner = lower.substr(i + 1, close - i - 1);
        // Route patterns ("/[slug]", "[...id]") and indexes are not globs: a glob class
        // here is one character, '?', a negation or a range.
        char only = 0;
        bool single = true;
        for (char d : inner) {
          if (d == '/') continue;
          if (!IsAsciiAlnum(static_cast<unsigned char>(d)) || (only != 0 && only != d)) {
            single = false;
            break;
          }
          only = d;
        }
        bool any_class =
            inner == "?" || inner == "*" ||
            ((inner[0] == '!' || inner[0] == '^') && inner.size() >= 2 && inner.size() <= 5 &&
             FindFirstOf(inner, " \"'[$.") == std::string_view::npos) ||
            (inner.size() == 3 && inner[1] == '-' &&
             IsAsciiAlnum(static_cast<unsigned char>(inner[0])) &&
             IsAsciiAlnum(static_cast<unsigned char>(inner[2])));
        // ... and not a regular expression: "[a-z]{1,5}", "[0-9]+".
        char after = close + 1 < n ? lower[close + 1] : ' ';
        bool regex = after == '{' || after == '+' || after == '*' || after == '?';
        if (((single && only != 0) || any_class) && !regex) {
          info->glob = true;
          if (info->globs < 8) info->glob_at[info->globs++] = o;
          out[o++] = single && only != 0 ? only : '?';
          i = close;
          continue;
        }
      }
    }
    // {cat,/etc/passwd} -> cat /etc/passwd; c{a,oun}t -> cat count
    if (c == '{') {
      std::size_t last = ExpandBraces(lower, i, out, &o, capacity, info);
      if (last != std::string_view::npos) {
        i = last;
        continue;
      }
    }
    out[o++] = c;
  }
  arena.ShrinkLast(out, o);
  return {out, o};
}

struct Best {
  float score = 0;
  const char* rule = "";
  std::size_t pos = 0;
  std::size_t len = 0;
  void Up(float s, const char* r, std::size_t p, std::size_t l) {
    if (s > score) {
      score = s;
      rule = r;
      pos = p;
      len = l;
    }
  }
};

// A script document: "#!/bin/sh" (or any interpreter) on the first line, more lines after.
// Posting a script is what admin and CI forms are for; injection breaks into a command.
bool IsShebangScript(std::string_view lower) {
  std::size_t i = lower.find_first_not_of(" \t\r\n");
  if (i == std::string_view::npos || lower.substr(i, 3) != "#!/") return false;
  std::size_t nl = Find(lower, '\n', i);
  return nl != std::string_view::npos &&
         lower.find_first_not_of(" \t\r\n", nl) != std::string_view::npos;
}

// A configuration document (or a traceback) that carries commands by design, posted to CI/ops
// forms: a Dockerfile (opens with FROM/ARG, further lines are instructions) or YAML (opens with a
// "key:" line, more key lines follow; commands sit in "run:"/"script:" values). Like a
// shebang script, its commands are the content, not an injection into another command.
bool IsConfigDocument(std::string_view lower) {
  // A Python traceback ('File "/usr/lib/python3.11/subprocess.py", line 1024, in run')
  // posted to an error tracker: "File" opens every frame line.
  // (Its header opens the report: looked for in the first 4 KiB only.)
  if (Find(lower.substr(0, 4096), "traceback (most recent call last):") != std::string_view::npos)
    return true;
  const std::size_t n = std::min<std::size_t>(lower.size(), 65536);
  int lines = 0, docker = 0, yaml = 0;
  bool first_docker = false, first_yaml = false, seen_first = false;
  for (std::size_t i = 0; i < n && lines < 256;) {
    std::size_t e = Find(lower.substr(0, n), '\n', i);
    if (e == std::string_view::npos) e = n;
    std::string_view line = lower.substr(i, e - i);
    i = e + 1;
    std::size_t a = SkipSpaces(line, 0);
    if (a >= line.size() || line[a] == '#') continue;
    ++lines;
    std::string_view t = line.substr(a);
    bool is_docker = false;
    for (std::string_view ins : {"from ", "arg ", "run ", "copy ", "add ", "workdir ", "env ",
                                 "cmd ", "entrypoint ", "expose ", "user ", "label "}) {
      is_docker |= a == 0 && StartsWith(t, ins);
    }
    if (StartsWith(t, "- ")) t = t.substr(SkipSpaces(t, 2));
    std::size_t k = 0;
    while (k < t.size() && (IsAsciiAlnum(static_cast<unsigned char>(t[k])) || t[k] == '_' ||
                            t[k] == '-' || t[k] == '.')) {
      ++k;
    }
    bool is_yaml = k > 0 && k < t.size() && t[k] == ':' &&
                   (k + 1 == t.size() || t[k + 1] == ' ' || t[k + 1] == '\r');
    docker += is_docker;
    yaml += is_yaml;
    if (!seen_first) {
      first_docker = is_docker && (StartsWith(t, "from ") || StartsWith(t, "arg "));
      first_yaml = is_yaml;
      seen_first = true;
    }
  }
  if (lines < 3) return false;
  return (first_docker && docker >= 3) || (first_yaml && yaml >= 2);
}

// A bare drive ("dir c:", "type d:\"") among the first words of a known command's arguments.
bool HasDriveArg(std::string_view args) {
  std::size_t i = 0;
  for (int words = 0; words < 3 && i < args.size(); ++words) {
    i = SkipSpaces(args, i);
    std::size_t s = i;
    while (i < args.size() && !IsSpaceChar(static_cast<unsigned char>(args[i]))) ++i;
    std::string_view w = args.substr(s, i - s);
    while (!w.empty() && (w.back() == '"' || w.back() == '\'')) w.remove_suffix(1);
    if (w.size() == 2 && IsAsciiAlpha(static_cast<unsigned char>(w[0])) && w[1] == ':') return true;
  }
  return false;
}

// Argument shape that only commands have: -x / --long / /path / C:\ / redirection / $var / IP.
// Long options count after a separator; opening a value they are left to FirstLineShapes,
// which is skipped in prose ("apt-get --reinstall install x did the job for me.").
bool TechnicalArgs(std::string_view args, bool allow_number = false, bool long_options = true) {
  std::size_t i = 0;
  int words = 0;
  while (i < args.size() && words < 8) {
    i = SkipSpaces(args, i);
    if (i >= args.size()) break;
    // One pass over the word: where it ends, and the shape facts the checks below need
    // (a word may run to the end of a long value).
    std::size_t s = i;
    int dots = 0;
    bool digits = true, slash = false, url = false;
    for (; i < args.size(); ++i) {
      char c = args[i];
      if (HasClass(c, kSpace | kSeparator)) break;
      if (c == '.') {
        ++dots;
        continue;
      }
      digits &= IsAsciiDigit(static_cast<unsigned char>(c));
      slash |= c == '/';
      url |= c == ':' && i + 2 < args.size() && args[i + 1] == '/' && args[i + 2] == '/';
    }
    std::string_view w = args.substr(s, i - s);
    if (w.empty()) {
      ++i;
      continue;
    }
    ++words;
    if (w.size() >= 2 && w[0] == '-' && IsAsciiAlpha(static_cast<unsigned char>(w[1]))) return true;
    // GNU long options: --version, --output=x
    if (long_options && w.size() >= 4 && w[0] == '-' && w[1] == '-' &&
        IsAsciiAlpha(static_cast<unsigned char>(w[2])) &&
        IsAsciiAlpha(static_cast<unsigned char>(w[3]))) {
      return true;
    }
    if (w[0] == '/' && w.size() >= 2 &&
        (IsAsciiAlpha(static_cast<unsigned char>(w[1])) || w[1] == '?' || w[1] == '*' ||
         w[1] == '.')) {
      return true;
    }
    // ">=18", "<=3.11" after a name are version constraints ("node>=18", "python<=3.11"),
    // not a redirect into a file named "=18".
    const bool version_bound = w.size() >= 3 && (w[0] == '>' || w[0] == '<') && w[1] == '=' &&
                               IsAsciiDigit(static_cast<unsigned char>(w[2]));
    // "<module>", "<file>": a name in angle brackets is a placeholder in documentation or a
    // frame name in a traceback. As shell it would redirect into nothing (a syntax error).
    bool placeholder = w.size() >= 3 && w[0] == '<';
    if (placeholder) {
      std::size_t close = Find(w, '>');
      placeholder = close != std::string_view::npos && close >= 2 &&
                    (close + 1 == w.size() ||
                     (close + 2 == w.size() && (w[close + 1] == ',' || w[close + 1] == '.' ||
                                                w[close + 1] == ';' || w[close + 1] == ':')));
      for (std::size_t k = 1; placeholder && k < close; ++k) {
        const unsigned char c = static_cast<unsigned char>(w[k]);
        placeholder = IsAsciiAlnum(c) || c == '_' || c == '-';
      }
    }
    if ((w[0] == '>' || w[0] == '<' || StartsWith(w, "2>") || StartsWith(w, "1>")) &&
        !version_bound && !placeholder) {
      return true;
    }
    if (w[0] == '$' || w[0] == '~' || StartsWith(w, "./") || StartsWith(w, "../")) return true;
    if (w.size() >= 3 && IsAsciiAlpha(static_cast<unsigned char>(w[0])) && w[1] == ':' &&
        (w[2] == '\\' || w[2] == '/')) {
      return true;
    }
    if (url) return true;                                                // "://"
    if (digits && dots == 3) return true;                                // dotted IPv4
    if (digits && dots == 0 && words == 1 && allow_number) return true;  // sleep 5
    if (dots > 0 && slash) return true;                                  // some.host/path
  }
  return false;
}

// Commands that only reconnaissance runs: nobody lists them in text, so one followed by a
// separator ("whoami;", "uname|") is already command structure.
constexpr std::string_view kReconCommands[] = {"whoami",  "ifconfig",   "ipconfig", "uname",
                                               "netstat", "systeminfo", "tasklist", "printenv",
                                               "getent",  "lastlog",    "nslookup"};

// A command name as typed, with its quotes read away ('curl', "id, w'h'o'am'i do not change
// the program). The unquoted text is kept, on the stack, only up to kMaxBytes: no entry of
// Commands() and no name of the lists below (kWrappers, kProductNouns, ...) is that long, so a
// longer name (a word of a long value without spaces) can only be a command by the
// version-suffix rule of NameStrength ("python3333..."), which LongNameStrength reads from the
// raw spelling.
class CommandName {
 public:
  static constexpr std::size_t kMaxBytes = 64;
  // `quoted`: false when the caller knows `raw` holds no quote (the text is `raw` itself).
  explicit CommandName(std::string_view raw, bool quoted = true) : raw_(raw) {
    if (!quoted) {
      too_long_ = raw.size() > kMaxBytes;
      if (!too_long_) text_ = raw;
      return;
    }
    std::size_t size = 0;
    for (char c : raw) {
      if (c == '\'' || c == '"') continue;
      if (size == kMaxBytes) {
        too_long_ = true;
        return;
      }
      buf_[size++] = c;
    }
    text_ = {buf_, size};
  }
  CommandName(const CommandName&) = delete;
  CommandName& operator=(const CommandName&) = delete;
  std::string_view raw() const { return raw_; }
  bool too_long() const { return too_long_; }
  // The name without quotes; empty when too_long().
  std::string_view text() const { return text_; }

 private:
  std::string_view raw_;
  std::string_view text_;
  char buf_[kMaxBytes];
  bool too_long_ = false;
};

// NameStrength of a name longer than CommandName::kMaxBytes once unquoted: only a strong
// command's name followed by a version (digits and dots, quotes anywhere read away) is one.
int LongNameStrength(std::string_view raw) {
  auto suffix_char = [](char c) {
    return IsAsciiDigit(static_cast<unsigned char>(c)) || c == '.' || c == '\'' || c == '"';
  };
  std::size_t k = raw.size();  // raw[0, k): the name before its version, unquoted below
  while (k > 0 && suffix_char(raw[k - 1])) --k;
  std::size_t v = k;  // the version's first character must be a digit
  while (v < raw.size() && (raw[v] == '\'' || raw[v] == '"')) ++v;
  if (v == raw.size() || !IsAsciiDigit(static_cast<unsigned char>(raw[v]))) return 0;
  CommandName base(raw.substr(0, k));
  if (base.too_long() || base.text().size() < 2) return 0;
  const int* strength = FindCommand(base.text());
  return strength != nullptr && *strength == 2 ? 2 : 0;
}

// Strength of a command name as typed: quotes removed ('curl'), version suffixes
// (python3.10, gcc10.1) and tool families (ansible-config, docker-compose) resolved.
int NameStrength(const CommandName& typed) {
  if (typed.too_long()) return LongNameStrength(typed.raw());
  std::string_view name = typed.text();
  if (name.empty()) return 0;
  if (const int* strength = FindCommand(name)) return *strength;
  // "certutil.exe", "NET.EXE": a Windows program named with its extension is a program.
  if (name.size() > 5 && EndsWith(name, ".exe") &&
      FindCommand(name.substr(0, name.size() - 4)) != nullptr) {
    return 2;
  }
  std::size_t e = name.size();
  while (e > 0 && (IsAsciiDigit(static_cast<unsigned char>(name[e - 1])) || name[e - 1] == '.'))
    --e;
  if (e >= 2 && e < name.size() && IsAsciiDigit(static_cast<unsigned char>(name[e]))) {
    const int* base = FindCommand(name.substr(0, e));
    if (base != nullptr && *base == 2) return 2;
  }
  std::size_t dash = Find(name, '-');
  if (dash != std::string_view::npos && dash >= 2 && name.size() - dash >= 4 &&
      std::count(name.begin(), name.end(), '-') <= 2 && name.size() - dash <= 16) {
    const int* base = FindCommand(name.substr(0, dash));
    if (base != nullptr && *base == 2) return 2;
  }
  return 0;
}

// Strong command names that are also what people list as skills or products ("Python;
// Ruby; Docker"): alone after a separator, without arguments, they are not a command.
constexpr std::string_view kProductNouns[] = {
    "python", "python3", "ruby",    "perl",       "php",    "node",   "lua",   "java",
    "docker", "kubectl", "git",     "svn",        "mysql",  "psql",   "mongo", "npm",
    "pip",    "gcc",     "ansible", "vim",        "nano",   "telnet", "ssh",   "bash",
    "zsh",    "openssl", "jq",      "powershell", "dotnet", "julia",  "tmux"};

// Interactive clients whose prompt is "<name>>" (session transcripts in posts and tickets).
constexpr std::string_view kConsolePrompts[] = {"mysql", "mariadb", "mongo",  "sqlite", "ftp",
                                                "sftp",  "telnet",  "jshell", "sql"};

// Programs that run the command named after them.
constexpr std::string_view kWrappers[] = {"sudo",     "nohup",  "busybox",     "exec",   "command",
                                          "builtin",  "env",    "nice",        "time",   "xargs",
                                          "strace",   "ltrace", "doas",        "setsid", "stdbuf",
                                          "unbuffer", "torify", "proxychains", "chroot"};

// Wrappers that are commands only (never English): they make the wrapped name a command.
constexpr std::string_view kStrongWrappers[] = {"sudo", "nohup",  "busybox", "strace", "ltrace",
                                                "doas", "setsid", "xargs",   "stdbuf"};

// Which of the lists above hold a name: one hash lookup per word in command position
// instead of a comparison with every entry of every list.
enum NameTrait : uint8_t {
  kRecon = 1,           // kReconCommands
  kProductNoun = 2,     // kProductNouns
  kConsolePrompt = 4,   // kConsolePrompts
  kWrapper = 8,         // kWrappers
  kStrongWrapper = 16,  // kStrongWrappers
};
uint8_t NameTraits(std::string_view name) {
  static const auto* traits = [] {
    auto* m = new absl::flat_hash_map<std::string_view, uint8_t>();
    for (std::string_view r : kReconCommands) (*m)[r] |= kRecon;
    for (std::string_view r : kProductNouns) (*m)[r] |= kProductNoun;
    for (std::string_view r : kConsolePrompts) (*m)[r] |= kConsolePrompt;
    for (std::string_view r : kWrappers) (*m)[r] |= kWrapper;
    for (std::string_view r : kStrongWrappers) (*m)[r] |= kStrongWrapper;
    return m;
  }();
  auto it = traits->find(name);
  return it == traits->end() ? 0 : it->second;
}

struct CommandInfo {
  int strength = 0;  // 0 none, 1 weak (also a word), 2 strong
  // Arguments shaped like a command's (flags, paths, redirections). Like `end`, only
  // computed for a known name (strength > 0) unless CommandAt is asked for unknown ones too.
  bool technical = false;
  bool wrapped = false;  // run through sudo / nohup / strace ...
  bool recon = false;    // in kReconCommands
  bool noun = false;     // in kProductNouns
  bool version = false;  // the only argument is a version number ("cURL 7.88.1")
  std::size_t end = 0;   // end of the command's arguments (see `technical`)
  std::size_t name_end = 0;
  std::size_t name_start = 0;
};

// Where system binaries live.
constexpr std::string_view kBinaryDirs[] = {"/bin",      "/sbin",          "/usr/bin",
                                            "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"};

// The directory of a globbed program path: a binary one or one globbed itself ("/???",
// "/u*/b?n").
bool ProgramDirectory(std::string_view dir) {
  if (dir.empty()) return false;
  if (FindFirstOf(dir, "?*[") != std::string_view::npos) return true;
  for (std::string_view d : kBinaryDirs) {
    if (dir == d) return true;
  }
  return false;
}

// What CommandAt needs to know about a word in command position, read in one pass (in a
// long value without spaces the word can be the whole rest of it).
struct WordScan {
  std::size_t end = 0;                              // first byte after the word
  bool assignment = false;                          // has '='
  bool url = false;                                 // has "://"
  std::size_t last_slash = std::string_view::npos;  // last '/' or '\\'
  bool glob = false;                                // has '?' or '*'
  bool quote = false;                               // has '\'' or '"'
};
WordScan ScanWord(std::string_view s, std::size_t i) {
  WordScan w;
  const std::size_t n = s.size();
  for (; (i = SkipToClass(s, i, kWordEnd | kNameMark)) < n; ++i) {
    if (HasClass(s[i], kWordEnd)) break;
    switch (s[i]) {
      case '=':
        w.assignment = true;
        break;
      case '/':
      case '\\':
        w.last_slash = i;
        break;
      case '?':
      case '*':
        w.glob = true;
        break;
      case ':':
        w.url |= i + 2 < n && s[i + 1] == '/' && s[i + 2] == '/';
        break;
      default:  // quotes: CommandName reads them away
        w.quote = true;
        break;
    }
  }
  w.end = i;
  return w;
}

// "7.88.1", "v2.6": the arguments are one version number, two or three parts (an IPv4
// address has four).
bool VersionOnly(std::string_view args) {
  args = TrimSpaces(args);
  if (!args.empty() && (args[0] == 'v' || args[0] == 'V')) args.remove_prefix(1);
  int parts = 0;
  std::size_t i = 0;
  while (i < args.size()) {
    const std::size_t d = i;
    while (i < args.size() && IsAsciiDigit(static_cast<unsigned char>(args[i]))) ++i;
    if (i == d || i - d > 4) return false;
    ++parts;
    if (i == args.size()) break;
    if (args[i] != '.') return false;
    ++i;
    if (i == args.size()) return false;
  }
  return parts >= 2 && parts <= 3;
}

// Looks at the command starting at `i` in `s`. The arguments (`end`, `technical`) of a word
// that is no known command are only read when `unknown_args` asks for them.
CommandInfo CommandAt(std::string_view s, std::size_t i, bool first_arg_only = false,
                      bool unknown_args = false) {
  const std::size_t n = s.size();
  CommandInfo info;
  i = SkipSpaces(s, i);
  // Subshells and groups: (sh), { id; }
  while (i < n && (s[i] == '(' || s[i] == '{')) i = SkipSpaces(s, i + 1);
  // Skip env assignments, unset variables and wrappers.
  for (int guard = 0; guard < 5 && i < n; ++guard) {
    std::size_t ws = i;
    const WordScan scan = ScanWord(s, i);
    i = scan.end;
    std::string_view w = s.substr(ws, i - ws);
    if (w.empty()) break;
    if (scan.assignment && w[0] != '=' && w[0] != '-') {
      i = SkipSpaces(s, i);
      continue;
    }
    if (scan.url) break;  // a URL, not a program path
    // $SHELL / ${SHELL} / $BASH name the shell itself.
    std::string_view typed = w;
    if (typed == "$shell" || typed == "${shell}" || typed == "$bash" || typed == "${bash}") {
      typed = "sh";
    } else if (typed.size() >= 2 && typed[0] == '$' &&
               (IsAsciiAlpha(static_cast<unsigned char>(typed[1])) || typed[1] == '_')) {
      // "$u wget x": an unset variable in command position expands to nothing.
      std::size_t j = SkipSpaces(s, i);
      if (j > i && j < n && IsAsciiAlpha(static_cast<unsigned char>(s[j]))) {
        i = j;
        continue;
      }
    }
    // Path prefix: /usr/bin/id, c:\windows\system32\cmd.exe, \\?\...
    bool had_path =
        typed.data() == w.data() && scan.last_slash != std::string_view::npos && w[0] != '$';
    if (had_path) typed = s.substr(scan.last_slash + 1, i - scan.last_slash - 1);
    // Quotes around or inside the name ('curl', "id, 'time) do not change the program.
    const CommandName typed_name(typed, /*quoted=*/scan.quote);
    const std::string_view name = typed_name.text();  // empty when too long for any list
    const uint8_t traits = NameTraits(name);
    if (traits & kWrapper) {
      std::size_t j = SkipSpaces(s, i);
      if (j < n && (IsAsciiAlpha(static_cast<unsigned char>(s[j])) || s[j] == '/' || s[j] == '\'' ||
                    s[j] == '"')) {
        if (traits & kStrongWrapper) info.wrapped = true;
        i = j;
        continue;
      }
    }
    // "mysql> grant ...", "ftp> get x": a transcript of an interactive client, whose prompt
    // is its name and '>'. What follows was typed into that client, not into a shell.
    if (i + 1 < n && s[i] == '>' && s[i + 1] == ' ' && !had_path && (traits & kConsolePrompt)) {
      info.end = i;
      return info;
    }
    int strength = NameStrength(typed_name);
    // Globbed binary paths: /???/c?t, /bin/c*. The glob must be in the program's name: a
    // route pattern ("/api/*/items") names no program, and a globbed directory before a known
    // name ("/???/cat") is judged by that name. The name must sit in a binary or globbed
    // directory: "/account?tab" is a relative URL with a query.
    if (strength == 0 && had_path && w[0] == '/' && scan.glob &&
        FindFirstOf(typed, "?*[") != std::string_view::npos &&
        ProgramDirectory(s.substr(ws, scan.last_slash - ws))) {
      bool name_has_letter = false;
      for (char d : typed) name_has_letter |= IsAsciiAlpha(static_cast<unsigned char>(d));
      if (name_has_letter) strength = 2;
    }
    if (had_path && strength == 1 && w[0] == '/') strength = 2;
    info.strength = strength;
    info.recon = traits & kRecon;
    info.noun = traits & kProductNoun;
    info.name_start = ws;
    info.name_end = i;
    info.end = i;
    if (strength == 0 && !unknown_args) return info;
    const std::size_t arg_end = SkipToClass(s, i, kArgsEnd);
    std::string_view args = s.substr(i, arg_end - i);
    if (first_arg_only) {
      std::size_t a = SkipSpaces(args, 0);
      std::size_t b = a;
      while (b < args.size() && !IsSpaceChar(static_cast<unsigned char>(args[b]))) ++b;
      args = args.substr(a, b - a);
    }
    bool numeric_ok = name == "sleep" || name == "timeout" || name == "ping";
    // A path makes the name a program when it leads somewhere a program is run from: the
    // root, the current or home directory, a drive, or a bin directory. "nodejs/node" and
    // "library/python" (a repository, a container image) name projects.
    bool program_path = false;
    if (had_path) {
      const char c0 = w[0];
      const std::string_view dir = s.substr(ws, scan.last_slash - ws);
      program_path = c0 == '/' || c0 == '\\' || c0 == '.' || c0 == '~' ||
                     (w.size() > 2 && w[1] == ':') || EndsWith(dir, "bin") ||
                     EndsWith(dir, "system32");
    }
    info.version = !numeric_ok && VersionOnly(args);  // "ping 127.1" is an address
    info.technical = (TechnicalArgs(args, numeric_ok, !first_arg_only) && !info.version) ||
                     program_path || (strength > 0 && HasDriveArg(args)) ||
                     (strength > 0 && info.wrapped) ||
                     (name == "cd" && SkipSpaces(args, 0) < args.size());
    info.end = arg_end;
    return info;
  }
  info.end = i;
  return info;
}

// After a command name at `i`: one to three flags ("-P", "-i -o", "--verbose") or manual
// placeholders ("<file>"), then four or more words of letters with only spaces between them
// (a comma or period may end a word): a sentence about the command's option, not arguments
// for it.
bool FlagThenSentence(std::string_view s, std::size_t i) {
  const std::size_t n = s.size();
  // Up to three flags ("-i -o", "-u -p") or a manual's placeholders ("<file>", "[<type>]").
  int flags = 0;
  for (; flags < 3; ++flags) {
    const std::size_t j = SkipSpaces(s, i);
    if (j >= n) break;
    std::size_t k = j;
    if (s[j] == '-') {
      while (k < n && !IsSpaceChar(static_cast<unsigned char>(s[k]))) ++k;
    } else {
      const std::size_t open = s[j] == '[' ? j + 1 : j;
      if (open >= n || s[open] != '<') break;
      k = open + 1;
      while (k < n &&
             (IsAsciiAlnum(static_cast<unsigned char>(s[k])) || s[k] == '-' || s[k] == '_')) {
        ++k;
      }
      if (k == open + 1 || k >= n || s[k] != '>') break;
      ++k;
      if (open > j) {
        if (k >= n || s[k] != ']') break;
        ++k;
      }
      if (k < n && !IsSpaceChar(static_cast<unsigned char>(s[k]))) break;
    }
    i = k;
  }
  if (flags == 0) return false;
  // A CJK sentence about the command ("ls -la の結果が表示されません").
  if (CjkPhraseAt(s, SkipSpaces(s, i), 3)) return true;
  int words = 0;
  while (words < 4) {
    std::size_t j = SkipSpaces(s, i);
    if (j == i || j >= n) break;
    std::size_t k = j;
    while (k < n && IsAsciiAlpha(static_cast<unsigned char>(s[k]))) ++k;
    if (k == j) break;
    if (k < n && (s[k] == '.' || s[k] == ',')) ++k;
    if (k < n && !IsSpaceChar(static_cast<unsigned char>(s[k]))) break;
    ++words;
    i = k;
  }
  return words >= 4;
}

// Natural-language text (forum posts, descriptions) quotes commands in backticks and
// pipes; it has many words and few symbols. Decided as soon as the rest of the value cannot
// change the answer (letters and words only grow; each other byte takes one from what the
// rest can add).
bool IsProse(std::string_view lower) {
  const std::size_t n = lower.size();
  int words = 0;
  std::size_t letters = 0;  // letters and spaces
  for (std::size_t i = 0; i < n;) {
    if (IsAsciiAlpha(static_cast<unsigned char>(lower[i]))) {
      std::size_t s = i;
      while (i < n && IsAsciiAlpha(static_cast<unsigned char>(lower[i]))) ++i;
      letters += i - s;
      // Path and URL parts ("http://evil.example/a", "/usr/bin") are no words of a sentence.
      const char before = s == 0 ? ' ' : lower[s - 1];
      if (i - s >= 2 && before != '/' && before != ':') ++words;
      if (words >= 8 && letters * 10 >= n * 7) return true;
      continue;
    }
    if (lower[i] == ' ') {
      ++letters;
    } else if ((letters + (n - i - 1)) * 10 < n * 7) {
      return false;  // even all the rest as letters would not reach 70%
    }
    ++i;
  }
  return words >= 8 && letters * 10 >= n * 7;
}

// cmd.exe builtins that follow an IF condition or a FOR ... DO.
bool IsCmdBuiltin(std::string_view w) {
  for (std::string_view b :
       {"echo", "@echo", "set", "goto",  "call", "exit",  "cmd",     "start", "del",
        "copy", "type",  "dir", "if",    "for",  "rem",   "pause",   "cls",   "ren",
        "move", "md",    "rd",  "pushd", "popd", "shift", "setlocal"}) {
    if (w == b) return true;
  }
  return false;
}

// One operand of an IF comparison: "quoted text", [bracketed], or a bare token (which may
// run into a glued "==").
std::size_t IfOperandEnd(std::string_view s, std::size_t i) {
  const std::size_t n = s.size();
  if (i < n && (s[i] == '"' || s[i] == '[' || s[i] == '(' || s[i] == '{')) {
    char close = s[i] == '"' ? '"' : s[i] == '[' ? ']' : s[i] == '(' ? ')' : '}';
    std::size_t c = Find(s, close, i + 1);
    return c == std::string_view::npos || c - i > 128 ? std::string_view::npos : c + 1;
  }
  std::size_t e = i;
  while (e < n && !IsSpaceChar(static_cast<unsigned char>(s[e])) &&
         !(s[e] == '=' && e + 1 < n && s[e + 1] == '=')) {
    ++e;
  }
  return e == i ? std::string_view::npos : e;
}

// The next word on the same line after spaces (not newlines); empty at the end.
std::string_view NextWordSameLine(std::string_view s, std::size_t i, std::size_t* end) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  std::size_t e = i;
  while (e < s.size() && !IsSpaceChar(static_cast<unsigned char>(s[e]))) ++e;
  *end = e;
  return s.substr(i, e - i);
}

// cmd.exe IF statement at `i` ("if" already matched up to `i`):
//   IF [/I] [NOT] EXIST|DEFINED|ERRORLEVEL|CMDEXTVERSION x command
//   IF [/I] [NOT] a==b command / IF a EQU|NEQ|LSS|LEQ|GTR|GEQ b command
// Code in other languages has "if (", "if a == b:" or "then"; prose has no "==".
bool CmdIfAt(std::string_view s, std::size_t i, std::size_t* end) {
  const std::size_t n = s.size();
  auto word_at = [&](std::size_t k, std::string_view w) {
    return s.substr(k, w.size()) == w &&
           (k + w.size() >= n || IsSpaceChar(static_cast<unsigned char>(s[k + w.size()])));
  };
  i = SkipSpaces(s, i);
  if (word_at(i, "/i")) i = SkipSpaces(s, i + 2);
  if (word_at(i, "not")) i = SkipSpaces(s, i + 3);
  if (i >= n) return false;
  std::size_t e = 0;
  // IF (2 GEQ 15) cmd: a whole condition in parentheses needs a cmd.exe word operator (JS
  // "if (a==b) x" must not match).
  if (s[i] == '(') {
    std::size_t close = Find(s, ')', i);
    if (close == std::string_view::npos || close - i > 128) return false;
    std::string_view cond = s.substr(i + 1, close - i - 1);
    bool word_op = false;
    for (std::string_view w : {" equ ", " neq ", " lss ", " leq ", " gtr ", " geq "}) {
      word_op |= Find(cond, w) != std::string_view::npos;
    }
    if (word_op) {
      std::string_view cmd = NextWordSameLine(s, close + 1, &e);
      if (cmd.empty() || cmd[0] == '{') return false;
      *end = e;
      return true;
    }
  }
  for (std::string_view kw : {"exist", "defined", "errorlevel", "cmdextversion"}) {
    if (!word_at(i, kw)) continue;
    std::size_t op = SkipSpaces(s, i + kw.size());
    std::size_t op_end = IfOperandEnd(s, op);
    if (op_end == std::string_view::npos) return false;
    std::string_view cmd = NextWordSameLine(s, op_end, &e);
    if (cmd.empty()) return false;
    if (cmd[0] == '(') cmd.remove_prefix(1);  // IF DEFINED x (SET ...) / IF EXIST f (
    bool known = cmd.empty() || IsCmdBuiltin(cmd) || cmd[0] == '@' || FindCommand(cmd) != nullptr;
    // "if defined by ..." is English: DEFINED needs a real command after it.
    if (kw == "defined" && !known) return false;
    if (kw == "exist" && !known && op_end - op < 3) return false;
    *end = e;
    return true;
  }
  std::size_t a_end = IfOperandEnd(s, i);
  if (a_end == std::string_view::npos) return false;
  std::size_t k = a_end;
  while (k < n && (s[k] == ' ' || s[k] == '\t')) ++k;
  bool op = false;
  if (s.substr(k, 2) == "==") {
    // JavaScript's spaced " === " (cmd.exe payloads glue "x===x").
    if (k + 3 < n && s[k + 2] == '=' && s[k + 3] == ' ' && k > 0 && s[k - 1] == ' ') return false;
    op = true;
    k += 2;
  } else {
    for (std::string_view w : {"equ", "neq", "lss", "leq", "gtr", "geq"}) {
      if (k > a_end && word_at(k, w)) {
        op = true;
        k += 3;
        break;
      }
    }
  }
  if (!op) return false;
  while (k < n && (s[k] == ' ' || s[k] == '\t')) ++k;
  std::size_t b_end = IfOperandEnd(s, k);
  if (b_end == std::string_view::npos) return false;
  if (s[b_end - 1] == ':' || s[b_end - 1] == '{' || (s[b_end - 1] == ')' && s[k] != '(')) {
    return false;
  }
  std::string_view cmd = NextWordSameLine(s, b_end, &e);
  if (cmd.empty() || cmd == "then" || cmd == "and" || cmd == "or" || cmd == "&&" || cmd == "||" ||
      cmd[0] == ':' || cmd[0] == '{' || cmd[0] == '?') {
    return false;
  }
  *end = e;
  return true;
}

// cmd.exe FOR statement at `i` ("for" already matched):
//   FOR [/D | /R [dir] | /L | /F ["options"]] %[%]x IN (set) DO command
bool CmdForAt(std::string_view s, std::size_t i, std::size_t* end) {
  const std::size_t n = s.size();
  i = SkipSpaces(s, i);
  for (int guard = 0; guard < 3 && i < n && s[i] == '/'; ++guard) {
    while (i < n && !IsSpaceChar(static_cast<unsigned char>(s[i]))) ++i;
    i = SkipSpaces(s, i);
    if (i < n && s[i] == '\\') ++i;
    if (i < n && s[i] == '"') {
      std::size_t q = Find(s, '"', i + 1);
      if (q == std::string_view::npos || q - i > 256) return false;
      i = SkipSpaces(s, q + 1);
    } else if (i < n && s[i] != '%') {  // /R [dir]
      while (i < n && !IsSpaceChar(static_cast<unsigned char>(s[i]))) ++i;
      i = SkipSpaces(s, i);
    }
  }
  if (i >= n || s[i] != '%') return false;
  ++i;
  bool doubled = i < n && s[i] == '%';
  if (doubled) ++i;
  // "%% IN (...)": the batch-file form with the variable letter left out still parses up to DO.
  if (i >= n || (IsSpaceChar(static_cast<unsigned char>(s[i])) && !doubled)) return false;
  // The loop variable: one character in cmd.exe; documentation writes %variable.
  std::size_t var = i;
  while (i < n && i - var < 16 && !IsSpaceChar(static_cast<unsigned char>(s[i]))) ++i;
  std::size_t k = SkipSpaces(s, i);
  if (k == i || s.substr(k, 2) != "in") return false;
  k = SkipSpaces(s, k + 2);
  if (k >= n || s[k] != '(') return false;
  int depth = 0;
  std::size_t c = k;
  for (; c < n && c - k < 512; ++c) {
    if (s[c] == '(') ++depth;
    if (s[c] == ')' && --depth == 0) break;
  }
  if (c >= n || s[c] != ')') return false;
  k = SkipSpaces(s, c + 1);
  if (s.substr(k, 2) != "do") return false;
  k += 2;
  if (k < n && !IsSpaceChar(static_cast<unsigned char>(s[k])) && s[k] != '@' && s[k] != '(')
    return false;
  *end = n;
  return true;
}

// A cmd.exe IF/FOR statement starting at `i` (command position). Returns its confidence.
float CmdExeStatementAt(std::string_view s, std::size_t i, std::size_t* end) {
  i = SkipSpaces(s, i);
  while (i < s.size() && (s[i] == '@' || s[i] == '(')) ++i;
  std::string_view rest = s.substr(i);
  if (StartsWith(rest, "if") && rest.size() > 2 &&
      (IsSpaceChar(static_cast<unsigned char>(rest[2])) || StartsWith(rest, "if/i"))) {
    if (CmdIfAt(s, i + 2, end)) return 0.8f;
  }
  if (StartsWith(rest, "for") && rest.size() > 3 &&
      IsSpaceChar(static_cast<unsigned char>(rest[3]))) {
    if (CmdForAt(s, i + 3, end)) return 0.85f;
  }
  return 0;
}

// alias NAME=VALUE (optionally with -p / -g flags): defines a command.
bool AliasAt(std::string_view s, std::size_t i, std::size_t* end) {
  i = SkipSpaces(s, i);
  if (s.substr(i, 6) != "alias ") return false;
  std::size_t k = SkipSpaces(s, i + 6);
  for (int guard = 0; guard < 3 && k < s.size() && (s[k] == '-' || s[k] == '+'); ++guard) {
    while (k < s.size() && !IsSpaceChar(static_cast<unsigned char>(s[k]))) ++k;
    k = SkipSpaces(s, k);
  }
  std::size_t w = k;
  if (w < s.size() && (s[w] == '\'' || s[w] == '"')) ++w;
  std::size_t e = w;
  while (e < s.size() && (IsIdentChar(static_cast<unsigned char>(s[e])) || s[e] == '-' ||
                          s[e] == '.' || s[e] == '\'' || s[e] == '"')) {
    ++e;
  }
  if (e == w || e >= s.size() || s[e] != '=') return false;
  *end = std::min(s.size(), e + 24);
  return true;
}

// ${name#...} ${name%%...} ${name:-...} ${name//a/b}: parameter expansion operators that only
// shells have (template languages use plain ${name}); $[expr] arithmetic.
float ParameterExpansionAt(std::string_view s, std::size_t p, std::size_t* len) {
  const std::size_t n = s.size();
  if (p + 1 >= n) return 0;
  if (s[p + 1] == '[') {
    std::size_t close = Find(s, ']', p + 2);
    if (close == std::string_view::npos || close - p > 64) return 0;
    bool arithmetic = close == p + 2;
    for (std::size_t k = p + 2; k < close; ++k) {
      char c = s[k];
      arithmetic |= c == '+' || c == '-' || c == '*' || c == '/' || c == '%';
      if (!(IsAsciiAlnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '*' ||
            c == '/' || c == '%' || c == ' ' || c == '$' || c == '(' || c == ')' || c == '_')) {
        return 0;
      }
    }
    if (!arithmetic) return 0;
    *len = close + 1 - p;
    return 0.7f;
  }
  if (s[p + 1] != '{') return 0;
  std::size_t k = p + 2;
  std::size_t name = k;
  while (k < n && (IsIdentChar(static_cast<unsigned char>(s[k])) && s[k] != '$')) ++k;
  if (k == name || k + 1 >= n) return 0;
  std::string_view op = s.substr(k, 2);
  bool shell_op = op[0] == '#' || op == "%%" || op == ":-" || op == ":=" || op == ":+" ||
                  op == ":?" || op == "//" || op == "^^" || op == ",,";
  // ${PATH:0:1}: a substring, offset and length, the way payloads spell '/' without one.
  // (Spring's "${port:8080}" default has one number and no second colon.)
  if (!shell_op && s[k] == ':') {
    std::size_t d = k + 1;
    while (d < n && d - k <= 3 && IsAsciiDigit(static_cast<unsigned char>(s[d]))) ++d;
    std::size_t d2 = d + 1;
    while (d2 < n && d2 - d <= 3 && IsAsciiDigit(static_cast<unsigned char>(s[d2]))) ++d2;
    shell_op = d > k + 1 && d < n && s[d] == ':' && d2 > d + 1 && d2 < n && s[d2] == '}';
  }
  if (!shell_op) return 0;
  std::size_t close = Find(s, '}', k);
  if (close == std::string_view::npos || close - p > 128) return 0;
  *len = close + 1 - p;
  return 0.7f;
}

// "\ls", "\whoami -a": a backslash before a command name makes the shell skip aliases and
// functions, a WAF-bypass spelling. Names after \n, \t, \r read as escapes and are left.
bool BackslashedCommandAt(std::string_view lower, std::size_t* end) {
  std::size_t i = SkipSpaces(lower, 0);
  if (i + 2 >= lower.size() || lower[i] != '\\') return false;
  char first = lower[i + 1];
  if (first == 'n' || first == 't' || first == 'r') return false;
  std::size_t e = i + 1;
  while (e < lower.size() &&
         (IsAsciiAlnum(static_cast<unsigned char>(lower[e])) || lower[e] == '-'))
    ++e;
  if (e < lower.size() && !IsSpaceChar(static_cast<unsigned char>(lower[e])) &&
      !IsShellSeparatorStart(lower[e])) {
    return false;
  }
  if (NameStrength(CommandName(lower.substr(i + 1, e - i - 1))) != 2) return false;
  *end = e;
  return true;
}

// A shell function that calls itself into a pipe or the background: the fork bomb
// ":(){ :|:& };:" and its renamings "f(){ f & f; };f". Returns its start, or npos.
std::size_t ForkBombAt(std::string_view s) {
  for (std::size_t p = Find(s, "()"); p != std::string_view::npos; p = Find(s, "()", p + 2)) {
    std::size_t ns = p;
    while (ns > 0 &&
           (IsIdentChar(static_cast<unsigned char>(s[ns - 1])) || s[ns - 1] == ':' ||
            s[ns - 1] == '.') &&
           p - ns < 32) {
      --ns;
    }
    std::string_view name = s.substr(ns, p - ns);
    if (name.empty()) continue;
    std::size_t open = SkipSpaces(s, p + 2);
    if (open >= s.size() || s[open] != '{') continue;
    std::size_t close = Find(s, '}', open);
    if (close == std::string_view::npos || close - open > 128) continue;
    std::string_view body = s.substr(open + 1, close - open - 1);
    for (std::size_t k = Find(body, name); k != std::string_view::npos;
         k = Find(body, name, k + 1)) {
      std::size_t after = k + name.size();
      if (after < body.size() && body.substr(after, 2) == "()") after += 2;
      after = SkipSpaces(body, after);
      if (after < body.size() && (body[after] == '|' || body[after] == '&')) return ns;
    }
  }
  return std::string_view::npos;
}

// SQLite shell dot-commands that run a program: ".shell cmd", ".system cmd" (and quoted
// or escaped spellings), at `i` in command position.
bool SqliteDotCommandAt(std::string_view s, std::size_t i) {
  i = SkipSpaces(s, i);
  if (i >= s.size() || s[i] != '.') return false;
  ++i;
  while (i < s.size() && (s[i] == '\\' || s[i] == '\'' || s[i] == '"')) ++i;
  for (std::string_view w : {"shell", "system", "sh"}) {
    if (s.substr(i, w.size()) != w) continue;
    std::size_t e = i + w.size();
    while (e < s.size() && (s[e] == '\'' || s[e] == '"')) ++e;
    if (e >= s.size() || s[e] != ' ') continue;
    // The program it runs must be one: ".sh is a file extension" is a sentence.
    std::size_t c = SkipSpaces(s, e);
    std::size_t ce = c;
    while (ce < s.size() && !IsSpaceChar(static_cast<unsigned char>(s[ce])) &&
           !IsShellSeparatorStart(s[ce])) {
      ++ce;
    }
    if (ce > c && NameStrength(CommandName(s.substr(c, ce - c))) > 0) return true;
  }
  return false;
}

// Windows file commands that take a drive path.
bool IsWindowsFileCommand(std::string_view name) {
  for (std::string_view w : {"dir", "type", "copy", "del", "erase", "move", "ren", "rd", "md"}) {
    if (name == w) return true;
  }
  return false;
}

// Shapes of a whole value that is one command line, for names that need more than their
// first argument to be read as a command (c is the first command of the value).
void FirstLineShapes(std::string_view s, const CommandInfo& c, Best* best) {
  const std::size_t n = s.size();
  if (c.strength == 0 || c.name_end >= n) return;
  std::string_view name = s.substr(c.name_start, c.name_end - c.name_start);
  std::size_t a = SkipSpaces(s, c.name_end);
  std::size_t b = a;
  while (b < n && !IsSpaceChar(static_cast<unsigned char>(s[b])) && !IsShellSeparatorStart(s[b]))
    ++b;
  std::string_view arg = s.substr(a, b - a);
  // "dir c:/", "type c:\\boot.ini": a drive path after a Windows file command.
  if (IsWindowsFileCommand(name) && arg.size() >= 2 &&
      IsAsciiAlpha(static_cast<unsigned char>(arg[0])) && arg[1] == ':' &&
      (arg.size() == 2 || arg[2] == '/' || arg[2] == '\\')) {
    best->Up(0.7f, "cmdi.command", c.name_start, c.end - c.name_start);
  }
  // "perf --version", "make --jobs=4": a GNU long option after a command name (English
  // has no "--word" glued together).
  if (arg.size() >= 4 && arg[0] == '-' && arg[1] == '-' &&
      IsAsciiAlpha(static_cast<unsigned char>(arg[2])) &&
      IsAsciiAlpha(static_cast<unsigned char>(arg[3]))) {
    best->Up(0.6f, "cmdi.command", c.name_start, c.end - c.name_start);
  }
  // "cscli alerts list\n": one line opened by an unambiguous command name (not a product
  // people name in lists) and ended by a newline, as typed into a shell.
  std::size_t nl = Find(s, '\n', c.name_start);
  // Product names ("ansible", "python") need a flag on that line.
  bool line_flag = nl != std::string_view::npos &&
                   s.substr(c.name_end, nl - c.name_end).find(" -") != std::string_view::npos;
  if (c.strength == 2 && (!c.noun || line_flag) && nl != std::string_view::npos &&
      s.find_first_not_of(" \t\r\n", nl) == std::string_view::npos &&
      s.substr(0, nl).find_first_of(";|&`") == std::string_view::npos) {
    best->Up(0.6f, "cmdi.command-line", c.name_start, nl - c.name_start);
  }
}

// A value that is nothing but a shell expansion, which only an interactive shell gives a
// meaning to: a directory-stack tilde ("~+" is $PWD, "~-" $OLDPWD, "~+2" an entry) or
// history designators ("!-1", "!-1!-2", "!!!-3"; a lone "!!" is punctuation and stays out).
// Sent as a value of its own it probes whether input reaches a shell; no text is only that.
const char* ShellExpansionProbe(std::string_view lower) {
  std::string_view t = TrimSpaces(lower);
  if (t.size() < 2 || t.size() > 32) return nullptr;
  auto digits_from = [&](std::size_t k) {
    std::size_t d = k;
    while (d < t.size() && IsAsciiDigit(static_cast<unsigned char>(t[d]))) ++d;
    return d;
  };
  if (t[0] == '~' && (t[1] == '+' || t[1] == '-')) {
    std::size_t d = digits_from(2);
    return d == t.size() && d - 2 <= 3 ? "cmdi.tilde-expansion" : nullptr;
  }
  if (t[0] != '!') return nullptr;
  bool relative = false;
  for (std::size_t k = 0; k < t.size();) {
    if (t[k] != '!' || k + 1 >= t.size()) return nullptr;
    char c = t[k + 1];
    if (c == '!' || c == '$') {
      k += 2;
    } else if (c == '-') {
      std::size_t d = digits_from(k + 2);
      if (d == k + 2 || d - (k + 2) > 4) return nullptr;
      relative = true;
      k = d;
    } else {
      return nullptr;
    }
  }
  return relative ? "cmdi.history-expansion" : nullptr;
}

// A value that is only an output redirection into a system location (">/tmp/x",
// "2>> /var/www/shell.php", "> /dev/tcp/host/80"): appended to the application's command it
// writes a file or opens a socket. A quoted reply ("> /r/sub is...") has more words after it.
bool RedirectionIntoSystemPath(std::string_view lower) {
  std::size_t k = SkipSpaces(lower, 0);
  if (k < lower.size() && (lower[k] == '1' || lower[k] == '2' || lower[k] == '&')) ++k;
  if (k >= lower.size() || lower[k] != '>') return false;
  ++k;
  if (k < lower.size() && lower[k] == '>') ++k;
  std::string_view path = TrimSpaces(lower.substr(k));
  if (path.size() < 6 || path.size() > 256 || path[0] != '/') return false;
  for (char c : path) {
    if (IsSpaceChar(static_cast<unsigned char>(c)) || c == ';' || c == '|' || c == '&')
      return false;
  }
  for (std::string_view dir : {"/tmp/", "/var/", "/dev/", "/etc/", "/proc/", "/root/", "/home/",
                               "/usr/", "/bin/", "/opt/", "/srv/"}) {
    if (StartsWith(path, dir) && path.size() > dir.size()) return true;
  }
  return false;
}

}  // namespace

// A spreadsheet formula that starts a program through Dynamic Data Exchange
// ("=cmd|' /C calc'!A0", "@SUM(1)*cmd|'/c powershell ...'!A1"): a value exported to CSV and
// opened in Excel runs it. Returns where the program name starts, npos when there is none.
std::size_t DdeFormula(std::string_view lower) {
  auto formula_lead = [](char c) { return c == '=' || c == '+' || c == '-' || c == '@'; };
  const std::size_t start = SkipSpaces(lower, 0);
  if (start >= lower.size()) return std::string_view::npos;
  const bool value_formula = formula_lead(lower[start]);
  for (std::size_t bar = Find(lower, "|'"); bar != std::string_view::npos;
       bar = Find(lower, "|'", bar + 2)) {
    std::size_t b = bar;
    while (b > start && (IsAsciiAlnum(static_cast<unsigned char>(lower[b - 1])) ||
                         lower[b - 1] == '.' || lower[b - 1] == '_')) {
      --b;
    }
    const std::string_view app = lower.substr(b, bar - b);
    bool program_named = false;
    for (std::string_view program :
         {"cmd"sv, "cmd.exe"sv, "powershell"sv, "powershell.exe"sv, "pwsh"sv, "mshta"sv,
          "rundll32"sv, "regsvr32"sv, "certutil"sv, "wscript"sv, "cscript"sv, "msexcel"sv,
          "bitsadmin"sv, "msiexec"sv, "conhost"sv}) {
      program_named = program_named || app == program;
    }
    if (!program_named || Find(lower, '!', bar) == std::string_view::npos) continue;
    if (value_formula) return b;
    // A cell of a CSV or TSV document (an import upload): the formula opens the cell, after a
    // line break, a comma, a semicolon or a tab and an optional quote.
    std::size_t cell = b;
    while (cell > 0 && lower[cell - 1] != '\n' && lower[cell - 1] != '\r' &&
           lower[cell - 1] != ',' && lower[cell - 1] != ';' && lower[cell - 1] != '\t') {
      --cell;
    }
    while (cell < b && (lower[cell] == ' ' || lower[cell] == '"')) ++cell;
    if (cell > 0 && cell < b && formula_lead(lower[cell])) return b;
  }
  return std::string_view::npos;
}

namespace {

// A value that is a spreadsheet formula fetching a URL ("=HYPERLINK(\"http://x/?\"&A1,...)",
// "=WEBSERVICE(...)", "=IMPORTXML(...)"): exported to CSV and opened, it sends the sheet's
// cells to that host (formula injection). Position of the formula, npos when none.
std::size_t FetchingFormula(std::string_view lower) {
  const std::size_t start = SkipSpaces(lower, 0);
  if (start + 2 >= lower.size()) return std::string_view::npos;
  const char lead = lower[start];
  if (lead != '=' && lead != '+' && lead != '-' && lead != '@') return std::string_view::npos;
  // The function right after the lead and its '(' right after the name, as spreadsheets
  // write them: "- Image (from https://...)" is a list item.
  const std::size_t f = start + 1;
  std::size_t e = f;
  while (e < lower.size() && IsAsciiAlpha(static_cast<unsigned char>(lower[e]))) ++e;
  const std::string_view name = lower.substr(f, e - f);
  bool fetches = false;
  for (std::string_view fn : {"hyperlink"sv, "webservice"sv, "importxml"sv, "importdata"sv,
                              "importhtml"sv, "importfeed"sv, "importrange"sv, "image"sv}) {
    fetches = fetches || name == fn;
  }
  if (!fetches || e >= lower.size() || lower[e] != '(') return std::string_view::npos;
  return Find(lower.substr(e), "http") != std::string_view::npos ||
                 Find(lower.substr(e), "//") != std::string_view::npos
             ? start
             : std::string_view::npos;
}

}  // namespace

// An argument named for a shell command ("cmd", "command", "exec", "shell"): web shells and
// command-runner endpoints take the command there, so a reconnaissance command is the
// attack ("?cmd=id", "?exec=ipconfig"), where elsewhere a lone word is just a word.
bool IsCommandParameter(const Field& f) {
  if (f.source != Source::kQuery && f.source != Source::kBodyForm && f.source != Source::kJson &&
      f.source != Source::kMultipart) {
    return false;
  }
  std::string_view name = f.name;
  // The last part of a nested name ("opts.cmd", "a[0].cmd").
  std::size_t cut = name.size();
  while (cut > 0 && name[cut - 1] != '.' && name[cut - 1] != ']') --cut;
  if (cut > 0 && cut < name.size()) name.remove_prefix(cut);
  if (name.size() < 3 || name.size() > 11) return false;
  char buf[12];
  for (std::size_t i = 0; i < name.size(); ++i) buf[i] = ToLowerAscii(name[i]);
  const std::string_view l(buf, name.size());
  return l == "cmd" || l == "cmds" || l == "command" || l == "commands" || l == "exec" ||
         l == "execute" || l == "shell" || l == "cmdline" || l == "commandline";
}

namespace {

// A standard base64 blob: 32 or more characters of its alphabet in whole quads, mixing
// capitals, small letters and digits, not starting with '/'. Its '+' and '/' are data, not
// the spaces and paths the shell reading below gives them ("...gfoe/rm+mnash..." reads as a
// path to rm with an argument); what it decodes to is inspected as a value of its own.
bool IsBase64Blob(std::string_view t) {
  if (t.size() < 32 || t.size() % 4 != 0 || t[0] == '/') return false;
  bool upper = false, lower = false, digit = false;
  std::size_t pad = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const auto c = static_cast<unsigned char>(t[i]);
    if (c == '=') {
      if (i + 2 < t.size()) return false;  // padding only at the end
      ++pad;
      continue;
    }
    if (pad > 0) return false;
    if (c >= 'A' && c <= 'Z') {
      upper = true;
    } else if (c >= 'a' && c <= 'z') {
      lower = true;
    } else if (c >= '0' && c <= '9') {
      digit = true;
    } else if (c != '+' && c != '/') {
      return false;
    }
  }
  return upper && lower && digit;
}

}  // namespace

void DetectCmdi(const ValueView& v, DetectorScratch& scratch, FindingSink& sink) {
  if (IsBase64Blob(v.text)) return;
  std::string_view lower = v.lower;
  Best best;
  if (v.field->part == Part::kValue && IsCommandParameter(*v.field)) {
    // A reconnaissance command or "id" alone, or a command with arguments. A bare verb that
    // is also a shell command stays allowed: file managers name their actions "cmd"
    // (elFinder's cmd=ls, cmd=rm, cmd=mkdir with the targets in other arguments).
    const CommandInfo c = CommandAt(lower, 0, /*first_arg_only=*/true);
    const bool args = SkipSpaces(lower, c.name_end) < c.end;
    const std::string_view name = lower.substr(c.name_start, c.name_end - c.name_start);
    if (c.strength >= 1 && !c.noun &&
        (c.recon || name == "id" || (args && (c.strength == 2 || c.technical)))) {
      best.Up(0.7f, "cmdi.command-parameter", 0, c.end);
    }
  }
  // Letters and digits only: every check below needs a separator, an operator, a sigil or a
  // space (the plain-word return further down), so only the command parameter can count.
  if (v.alnum) {
    if (best.score > 0) Report(sink, v, Category::kCmdi, best.score, best.rule, best.pos, best.len);
    return;
  }
  if (const char* rule = ShellExpansionProbe(lower)) {
    Report(sink, v, Category::kCmdi, 0.7f, rule, 0, lower.size());
    return;
  }
  if (RedirectionIntoSystemPath(lower)) {
    Report(sink, v, Category::kCmdi, 0.7f, "cmdi.redirection", 0, lower.size());
    return;
  }
  if (const std::size_t at = FetchingFormula(lower); at != std::string_view::npos) {
    Report(sink, v, Category::kCmdi, 0.7f, "cmdi.spreadsheet-fetch", at, lower.size() - at);
    return;
  }
  if (const std::size_t at = DdeFormula(lower); at != std::string_view::npos) {
    Report(sink, v, Category::kCmdi, 0.85f, "cmdi.dde-formula", at, lower.size() - at);
    return;
  }
  // TeX's shell escape (\write18{...}, \immediate\write18) runs its argument when a server
  // renders the document (LaTeX-to-PDF services).
  if (const std::size_t at = Find(lower, "\\write18"); at != std::string_view::npos) {
    const std::size_t k = SkipSpaces(lower, at + 8);
    if (k < lower.size() && lower[k] == '{') {
      Report(sink, v, Category::kCmdi, 0.85f, "cmdi.tex-shell-escape", at, lower.size() - at);
      return;
    }
  }
  // Shellshock function definition: "() {" opening the value (or an assignment).
  for (std::size_t p = Find(lower, "()"); p != std::string_view::npos;
       p = Find(lower, "()", p + 2)) {
    std::size_t j = SkipSpaces(lower, p + 2);
    if (j >= lower.size() || lower[j] != '{') continue;
    std::size_t k = SkipSpaces(lower, j + 1);
    std::size_t before = p;
    while (before > 0 && IsSpaceChar(static_cast<unsigned char>(lower[before - 1]))) --before;
    bool opens = before == 0 || lower[before - 1] == '=' || lower[before - 1] == '\'' ||
                 lower[before - 1] == '"';
    if (!opens) continue;
    bool body = k < lower.size() && (lower[k] == ':' || lower[k] == '_' || lower[k] == ';' ||
                                     IsAsciiAlpha(static_cast<unsigned char>(lower[k])));
    if (body || k >= lower.size()) best.Up(0.95f, "cmdi.shellshock", p, 24);
  }
  // A single plain word cannot be a command with arguments.
  bool plain_word = true;
  for (char c : lower) {
    if (!IsAsciiAlnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') {
      plain_word = false;
      break;
    }
  }
  if (plain_word) {
    if (best.score > 0) Report(sink, v, Category::kCmdi, best.score, best.rule, best.pos, best.len);
    return;
  }
  CollapseInfo collapse;
  std::string_view s = CollapseShell(
      SubstituteAssignments(BlankMarkdownFences(lower, *scratch.arena), *scratch.arena),
      *scratch.arena, &collapse);
  const std::size_t n = s.size();
  if (best.score > 0) {
    Report(sink, v, Category::kCmdi, best.score, best.rule, best.pos, best.len);
    best = Best{};
  }
  // Natural-language text; judged only once a decision depends on it.
  int prose_state = -1;
  auto prose = [&] {
    if (prose_state < 0) prose_state = IsProse(s);
    return prose_state == 1;
  };
  // Whole scripts and configuration documents; judged only once there is a finding to scale.
  int script_state = -1;
  auto script = [&] {
    if (script_state < 0) script_state = IsShebangScript(lower) || IsConfigDocument(lower);
    return script_state == 1;
  };
  // The first command (no separator before it).
  int chained_commands = 0;
  bool chain_technical = false;
  {
    // A quote opening the value closes the application's string: '" ping -n 3 host'.
    std::size_t lead = s.find_first_not_of(" \t'\"");
    if (lead == std::string_view::npos) lead = 0;
    CommandInfo c = CommandAt(s, lead, /*first_arg_only=*/true);
    std::size_t first = SkipSpaces(s, 0);
    bool path_binary =
        first < n && (s[first] == '/' || s[first] == '\\' ||
                      (first + 2 < n && s[first + 1] == ':' && s[first + 2] == '\\'));
    // A release note or manual sentence that opens with a command and one flag ("grep -P no
    // longer attempts multiline matches.", "ls -w0 is now interpreted as ...") talks about it.
    if (c.strength == 2 && c.technical) {
      best.Up((path_binary ? 0.85f : 0.7f) * (FlagThenSentence(s, c.name_end) ? 0.55f : 1.0f),
              "cmdi.command", 0, c.end);
    } else if (c.strength >= 1 && c.technical && path_binary)
      best.Up(0.7f, "cmdi.command", 0, c.end);
    // A strong command with a flag further on ("ansible all -m ping"); product names
    // ("python is great -v") keep needing a technical first argument.
    if (c.strength == 2 && !c.technical && !c.noun && c.name_end - c.name_start >= 3 && !prose()) {
      std::string_view args = s.substr(c.name_end, c.end - c.name_end);
      bool flag = false;
      for (std::size_t k = Find(args, " -"); k != std::string_view::npos && !flag;
           k = Find(args, " -", k + 1)) {
        std::size_t f = k + 2;
        if (f < args.size() && args[f] == '-') ++f;
        flag = f < args.size() && IsAsciiAlpha(static_cast<unsigned char>(args[f]));
      }
      if (flag) best.Up(0.65f, "cmdi.command", 0, c.end);
    }
    // A bare executable path into a system binary directory: "/bin/ab", "/usr/sbin/x".
    for (std::string_view dir : kBinaryDirs) {
      std::string_view t = s.substr(first < n ? first : n);
      if (!StartsWith(t, dir) || t.size() <= dir.size() + 1 || t[dir.size()] != '/' ||
          t.size() > dir.size() + 33) {
        continue;
      }
      bool name = true;
      for (char d : t.substr(dir.size() + 1)) {
        name &= IsAsciiAlnum(static_cast<unsigned char>(d)) || d == '.' || d == '_' || d == '-';
      }
      if (name) best.Up(0.6f, "cmdi.binary-path", first, t.size());
    }
    // "whoami;..." / "uname|..."
    if (c.recon && c.name_end < n && IsShellSeparatorStart(s[c.name_end]))
      best.Up(0.7f, "cmdi.command", 0, c.end);
    // "id;" / "cmd|": a short strong command that is the whole value, closed by a separator.
    if (c.strength == 2 && !c.noun && c.name_end < n && IsShellSeparatorStart(s[c.name_end]) &&
        s.find_first_not_of(" \t;|&", c.name_end) == std::string_view::npos) {
      best.Up(0.6f, "cmdi.command", 0, n);
    }
    // A command name that quotes or backslashes split apart ("w'h'o'am'i", "c'a't /e't'c/x",
    // "c\a\t"), or a backslash once with more in its arguments ("ca\t /et\c/pas\swd"):
    // only a shell joins the pieces. One dropped quote is a contraction or possessive ("p's
    // and q's"), in the name or in the words after it.
    if (c.strength >= 1 && !c.noun) {
      const int escapes = collapse.EscapesIn(c.name_start, c.name_end);
      if (collapse.QuotesIn(c.name_start, c.name_end) + escapes >= 2 ||
          (escapes == 1 && collapse.EscapesIn(c.name_start, c.end + 1) >= 2)) {
        best.Up(0.8f, "cmdi.quote-split", 0, c.end);
      }
    }
    // (FirstLineShapes finds nothing without a command name.)
    if (c.strength > 0 && !prose()) FirstLineShapes(s, c, &best);
    // Brace expansion that builds a command: {,id} c{a,oun}t {l,-lh}s
    if (collapse.brace_trick && c.strength >= 1) best.Up(0.75f, "cmdi.brace-expansion", 0, c.end);
    if (c.strength >= 1) {
      ++chained_commands;
      chain_technical |= c.technical;
    }
    std::size_t e = 0;
    if (AliasAt(s, 0, &e)) best.Up(prose() ? 0.3f : 0.7f, "cmdi.alias", 0, e);
    if (BackslashedCommandAt(lower, &e)) best.Up(0.6f, "cmdi.alias-bypass", 0, e);
    float w = CmdExeStatementAt(s, 0, &e);
    if (w > 0) best.Up(w, "cmdi.windows-statement", first, e - first);
  }
  // Commands after separators and inside substitutions.
  const std::size_t value_start = s.find_first_not_of(" \t'\"");
  std::size_t words_scanned = 0;  // words in s[0, words_scanned): words_before
  int words_before = 0;
  ForwardFinder arithmetic_close(s, "))");  // "$((" ... "))", searched once per value
  std::size_t skip_from = 1;  // s[skip_from, skip_to) is spaces (empty range to start)
  std::size_t skip_to = 0;
  struct {
    std::size_t at = std::string_view::npos;  // where the readers last read
    bool unknown_args = false;
    bool sqlite = false;
    float stmt = 0;
    std::size_t stmt_end = 0;
    bool alias = false;
    std::size_t alias_end = 0;
    CommandInfo cmd;
  } read;
  for (std::size_t i = 0; (i = SkipToClass(s, i, kSepTrigger)) < n; ++i) {
    char c = s[i];
    std::size_t start = std::string_view::npos;
    float sep_weight = 1.0f;
    const char* rule = "cmdi.chained-command";
    if (c == ';' || c == '\n' || c == '\r') {
      start = i + 1;
    } else if (c == '|') {
      start = i + (i + 1 < n && s[i + 1] == '|' ? 2 : 1);
    } else if (c == '&') {
      bool dbl = i + 1 < n && s[i + 1] == '&';
      start = i + (dbl ? 2 : 1);
      if (!dbl) sep_weight = 0.9f;
    } else if (c == '`') {
      // Markdown code spans in prose: `ls -l` is a quotation, not a substitution. A span
      // opened after a space, inside a sentence ("what does `ls -la` print?", three words
      // around it), reads as prose too.
      for (; words_scanned < i; ++words_scanned) {  // incremental: linear over the value
        std::size_t k = words_scanned;
        if (IsAsciiAlpha(static_cast<unsigned char>(s[k])) &&
            (k == 0 || !IsAsciiAlpha(static_cast<unsigned char>(s[k - 1])))) {
          ++words_before;
        }
      }
      std::size_t close = Find(s, '`', i + 1);
      int words_after = 0;
      if (close != std::string_view::npos && close + 1 < n && s[close + 1] == ' ') {
        for (std::size_t k = close + 1; k < n && k < close + 64 && words_after < 3; ++k) {
          if (IsAsciiAlpha(static_cast<unsigned char>(s[k])) &&
              !IsAsciiAlpha(static_cast<unsigned char>(s[k - 1]))) {
            ++words_after;
          }
        }
      }
      bool code_span = i > 0 && s[i - 1] == ' ' && close != std::string_view::npos &&
                       words_before >= 1 && words_before + words_after >= 3;
      if (code_span || prose()) {
        i = close == std::string_view::npos ? n : close;
        continue;
      }
      start = i + 1;
      rule = "cmdi.substitution";
    } else if (c == '$' && i + 1 < n && s[i + 1] == '(') {
      if (i + 2 < n && s[i + 2] == '(') {
        std::size_t close = arithmetic_close.From(i);
        if (close != std::string_view::npos)
          best.Up(0.7f, "cmdi.arithmetic-expansion", i, close + 2 - i);
        continue;
      }
      start = i + 2;
      rule = "cmdi.substitution";
    } else if ((c == '<' || c == '>') && i + 1 < n && s[i + 1] == '(') {
      start = i + 2;
      rule = "cmdi.substitution";
    } else {
      continue;
    }
    if (start >= n) {
      continue;
    }
    const bool leading_separator = i == value_start;
    // The readers below skip spaces and line breaks first, so every separator of a run
    // ("\n\n\n…", "; ; ;") reads the same place: found once, read once. A value of 20,000
    // line breaks took 0.4 s when each separator skipped the rest of the run and read again.
    if (start < skip_from || start > skip_to) skip_to = SkipSpaces(s, skip_from = start);
    const std::size_t at = skip_to;
    // An unknown word's arguments only matter right after a separator opening the value.
    const bool unknown_args = leading_separator && c != '&' && !prose();
    if (at != read.at || unknown_args != read.unknown_args) {
      read.at = at;
      read.unknown_args = unknown_args;
      read.sqlite = SqliteDotCommandAt(s, at);
      read.stmt = CmdExeStatementAt(s, at, &read.stmt_end);
      read.alias = AliasAt(s, at, &read.alias_end);
      read.cmd = CommandAt(s, at, /*first_arg_only=*/false, unknown_args);
    }
    if (read.sqlite) best.Up(0.8f * sep_weight, "cmdi.sqlite-shell", i, 32);
    if (read.stmt > 0) {
      best.Up(read.stmt * sep_weight, "cmdi.windows-statement", i, read.stmt_end - i);
    }
    if (read.alias) {
      best.Up(prose() ? 0.3f : 0.75f * sep_weight, "cmdi.alias", i, read.alias_end - i);
    }
    const CommandInfo& cmd = read.cmd;
    std::size_t end = cmd.end;
    if (cmd.strength == 0) {
      // ";perf --version", "|flock -u / id": the value opens with a separator (breaking out
      // of the application's command) and what follows has a command's shape.
      std::size_t ws = cmd.name_start;
      std::size_t we = cmd.name_end;
      bool word = we > ws && we - ws <= 32 && IsAsciiAlpha(static_cast<unsigned char>(s[ws]));
      for (std::size_t k = ws; word && k < we; ++k) {
        char d = s[k];
        word = IsAsciiAlnum(static_cast<unsigned char>(d)) || d == '-' || d == '_' || d == '.';
      }
      if (leading_separator && word && cmd.technical && c != '&' && !prose())
        best.Up(0.6f, "cmdi.chained-command", i, end - i);
      continue;
    }
    if (c != '`' && c != '$' && c != '<' && c != '>') {
      ++chained_commands;
      chain_technical |= cmd.technical;
    }
    bool subst = rule[5] == 's';
    float score = 0;
    // A product named with its version ("cURL 7.88.1" in a client's User-Agent comment) or
    // a product noun without a command's arguments.
    if (cmd.strength == 2 && (cmd.noun || cmd.version) && !cmd.technical && !subst)
      score = 0.45f;
    else if (cmd.strength == 2)
      score = cmd.technical || subst ? 0.92f : 0.85f;
    else
      score = cmd.technical ? 0.8f : (subst ? 0.6f : 0.3f);
    // A weak word at the very end right after a strong separator (";ls", "| dir").
    // "art | history" is a list of words, not a pipe into a command.
    bool spaced_list = i > 1 && s[i - 1] == ' ' && start < n && s[start] == ' ' &&
                       IsAsciiAlpha(static_cast<unsigned char>(s[i - 2]));
    if (cmd.strength == 1 && !cmd.technical && SkipSpaces(s, end) >= n && c != '&' &&
        !spaced_list) {
      std::size_t ws = SkipSpaces(s, start);
      bool single_word = s.substr(ws, end - ws).find(' ') == std::string_view::npos;
      // A one-letter name ("w") ends a generated password as often as a probe ("…;W").
      if (single_word && cmd.name_end - cmd.name_start >= 2) score = std::max(score, 0.6f);
    }
    if (prose()) score *= 0.55f;
    best.Up(score * sep_weight, rule, i, end - i);
  }
  // Shell parameter expansion operators, read before collapsing ('+' is an operator here).
  for (std::size_t p = Find(lower, '$'); p != std::string_view::npos; p = Find(lower, '$', p + 1)) {
    std::size_t len = 0;
    float w = ParameterExpansionAt(lower, p, &len);
    if (w > 0) {
      Report(sink, v, Category::kCmdi, prose() || script() ? w * 0.55f : w,
             "cmdi.parameter-expansion", p, len);
      break;
    }
  }
  // Glob classes that spelled a system path: /[e]tc/pa[s]swd, /[?]tc
  if (collapse.glob) {
    std::size_t p = GlobbedSystemPath(s, collapse);
    if (p != std::string_view::npos) best.Up(0.8f, "cmdi.glob-path", p, 24);
  }
  {
    std::size_t p = ForkBombAt(s);
    if (p != std::string_view::npos) best.Up(0.85f, "cmdi.fork-bomb", p, 24);
  }
  // Several commands chained, at least one with a command's arguments: "cd /;cd etc;...".
  if (chained_commands >= 3 && chain_technical && !prose()) {
    best.Up(0.8f, "cmdi.command-chain", 0, std::min<std::size_t>(n, 48));
  }
  // Environment-variable substring tricks (%COMSPEC%, %PROGRAMFILES:~10,-5%).
  if (Find(s, '%') != std::string_view::npos) {
    for (std::string_view var : {"%comspec%", "%systemroot%", "%windir%", "%programfiles",
                                 "%userprofile%", "%appdata%", "%temp%", "%systemdrive%", ":~"}) {
      std::size_t p = Find(s, var);
      if (p == std::string_view::npos) continue;
      float w = var == ":~" ? 0.5f : 0.75f;
      // A per-user location in a path ("%APPDATA%\\App\\config.json") is where a ticket or a
      // setting says a file is; the shell (%COMSPEC%) and system directories stay strong,
      // and so does a path that reaches a program.
      bool user_location = var == "%userprofile%" || var == "%appdata%" || var == "%temp%" ||
                           var == "%programfiles" || var == "%systemdrive%";
      if (user_location) {
        std::size_t e = Find(s, '%', p + 1);
        std::size_t a = e == std::string_view::npos ? s.size() : e + 1;
        std::size_t z = a;
        while (z < s.size() && !IsSpaceChar(static_cast<unsigned char>(s[z])) && s[z] != '&' &&
               s[z] != '|' && s[z] != ';' && s[z] != '"' && s[z] != '\'')
          ++z;
        std::string_view tail = s.substr(a, z - a);
        bool program = EndsWith(tail, ".exe") || EndsWith(tail, ".bat") || EndsWith(tail, ".cmd") ||
                       EndsWith(tail, ".ps1") || EndsWith(tail, ".vbs") || EndsWith(tail, ".dll") ||
                       EndsWith(tail, ".hta") || EndsWith(tail, ".js");
        // Also the variable alone, as a setting's value ("%TEMP%").
        const bool alone = p == 0 && a >= s.size();
        if ((alone || (a < s.size() && (s[a] == '\\' || s[a] == '/'))) && !program) w = 0.4f;
        // The argument of a cmd.exe command right after a separator ("| type
        // %SystemDrive%\\config.ini", "& dir %TEMP%"): cmd.exe reading it, not a location named.
        std::size_t b = p;
        while (b > 0 && s[b - 1] == ' ') --b;
        const std::size_t word_end = b;
        while (b > 0 && IsAsciiAlpha(static_cast<unsigned char>(s[b - 1]))) --b;
        const std::size_t word_start = b;
        while (b > 0 && s[b - 1] == ' ') --b;
        const std::string_view word = s.substr(word_start, word_end - word_start);
        if (word_end < p && (IsCmdBuiltin(word) || IsWindowsFileCommand(word)) && b > 0 &&
            (s[b - 1] == '|' || s[b - 1] == '&' || s[b - 1] == ';')) {
          w = 0.75f;
        }
      }
      best.Up(w, "cmdi.windows-variable", p, var.size() + 8);
    }
  }
  if (best.score > 0) {
    // A whole script carries commands by design: its findings stay below blocking.
    if (script()) best.score *= 0.5f;
    Report(sink, ValueView{v.field, s, s, v.norm_flags, v.weight, v.document}, Category::kCmdi,
           best.score, best.rule, best.pos, best.len);
  }
}

}  // namespace shieldx::detect
