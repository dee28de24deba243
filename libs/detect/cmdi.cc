// OS command injection by shell grammar. The value is first collapsed the way a shell would
// read it (quotes and backslashes inside words removed, $IFS / ${IFS} / $9 / $@ expansions
// to spaces or nothing, {a,b} brace lists to words, cmd.exe ^ escapes removed), then split
// into commands at separators (; | || && & newline) and substitutions ($(...), `...`,
// <(...)). A finding needs a known command name in command position after a separator or
// inside a substitution, or a command with technical arguments (flags, paths, redirections)
// at the start of the value. Plain prose with command-like words ("echo in the mirror",
// "ls 300 lexus") does not have that structure.
#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "libs/detect/detector.h"
#include "libs/detect/text_util.h"

namespace shieldx::detect {
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
  };
  return *m;
}

bool IsShellSeparatorStart(char c) {
  return c == ';' || c == '|' || c == '&' || c == '\n' || c == '`' || c == '\r';
}

// Collapses shell quoting/escaping/expansion tricks into plain words. Output is lowercase.
std::string_view CollapseShell(std::string_view lower, Arena& arena) {
  char* out = arena.Allocate(lower.size() + 1);
  std::size_t o = 0;
  const std::size_t n = lower.size();
  // A value with '+' and no spaces was form-encoded once more than the server decodes:
  // "&+|+dir+c:/" means "& | dir c:/".
  const bool plus_is_space =
      lower.find(' ') == std::string_view::npos && lower.find('+') != std::string_view::npos;
  for (std::size_t i = 0; i < n; ++i) {
    char c = lower[i];
    if (c == '+' && plus_is_space) {
      out[o++] = ' ';
      continue;
    }
    // Quotes glued to word characters ("w'h'o'am'i", c""at) disappear.
    if (c == '\'' || c == '"') {
      bool prev_word = o > 0 && IsIdentChar(static_cast<unsigned char>(out[o - 1]));
      bool next_word =
          i + 1 < n && (IsIdentChar(static_cast<unsigned char>(lower[i + 1])) ||
                        lower[i + 1] == '\'' || lower[i + 1] == '"' || lower[i + 1] == '/');
      if (prev_word && next_word) continue;
      if (prev_word && i + 1 < n && lower[i + 1] == c) {  // ""
        ++i;
        continue;
      }
    }
    // Backslash escapes inside words: c\at, \/bin
    if (c == '\\' && i + 1 < n &&
        (IsAsciiAlnum(static_cast<unsigned char>(lower[i + 1])) || lower[i + 1] == '/')) {
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
        std::size_t close = lower.find('}', i);
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
      if (StartsWith(rest, "${}")) {
        i += 2;
        continue;
      }
    }
    // {cat,/etc/passwd} -> cat /etc/passwd
    if (c == '{') {
      std::size_t close = lower.find('}', i);
      if (close != std::string_view::npos && close - i < 256) {
        std::string_view inner = lower.substr(i + 1, close - i - 1);
        if (inner.find(',') != std::string_view::npos &&
            inner.find(' ') == std::string_view::npos &&
            inner.find(':') == std::string_view::npos &&
            inner.find('"') == std::string_view::npos) {
          for (char d : inner) out[o++] = d == ',' ? ' ' : d;
          i = close;
          continue;
        }
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

// Argument shape that only commands have: -x / --long / /path / C:\ / redirection / $var / IP.
bool TechnicalArgs(std::string_view args, bool allow_number = false) {
  std::size_t i = 0;
  int words = 0;
  while (i < args.size() && words < 8) {
    i = SkipSpaces(args, i);
    if (i >= args.size()) break;
    std::size_t s = i;
    while (i < args.size() && !IsSpaceChar(static_cast<unsigned char>(args[i])) &&
           !IsShellSeparatorStart(args[i])) {
      ++i;
    }
    std::string_view w = args.substr(s, i - s);
    if (w.empty()) {
      ++i;
      continue;
    }
    ++words;
    if (w.size() >= 2 && w[0] == '-' && IsAsciiAlpha(static_cast<unsigned char>(w[1]))) return true;
    if (w[0] == '/' && w.size() >= 2 &&
        (IsAsciiAlpha(static_cast<unsigned char>(w[1])) || w[1] == '?' || w[1] == '*' ||
         w[1] == '.')) {
      return true;
    }
    if (w[0] == '>' || w[0] == '<' || StartsWith(w, "2>") || StartsWith(w, "1>")) return true;
    if (w[0] == '$' || w[0] == '~' || StartsWith(w, "./") || StartsWith(w, "../")) return true;
    if (w.size() >= 3 && IsAsciiAlpha(static_cast<unsigned char>(w[0])) && w[1] == ':' &&
        (w[2] == '\\' || w[2] == '/')) {
      return true;
    }
    if (w.find("://") != std::string_view::npos) return true;
    // dotted IPv4
    int dots = 0;
    bool digits = true;
    for (char c : w) {
      if (c == '.')
        ++dots;
      else if (!IsAsciiDigit(static_cast<unsigned char>(c)))
        digits = false;
    }
    if (digits && dots == 3) return true;
    if (digits && dots == 0 && words == 1 && allow_number) return true;  // sleep 5
    if (w.find('.') != std::string_view::npos && w.find('/') != std::string_view::npos) {
      return true;  // some.host/path
    }
  }
  return false;
}

// Looks at the command starting at `i` in `s`; returns its strength (0 none, 1 weak, 2 strong)
// and whether its arguments look technical.
int CommandAt(std::string_view s, std::size_t i, bool* technical, std::size_t* end,
              bool first_arg_only = false) {
  const std::size_t n = s.size();
  i = SkipSpaces(s, i);
  // Skip env assignments and wrappers.
  for (int guard = 0; guard < 4 && i < n; ++guard) {
    std::size_t ws = i;
    while (i < n && !IsSpaceChar(static_cast<unsigned char>(s[i])) &&
           !IsShellSeparatorStart(s[i]) && s[i] != '(' && s[i] != ')' && s[i] != '<' &&
           s[i] != '>') {
      ++i;
    }
    std::string_view w = s.substr(ws, i - ws);
    if (w.find('=') != std::string_view::npos && w[0] != '=' && w[0] != '-') {
      i = SkipSpaces(s, i);
      continue;
    }
    // Path prefix: /usr/bin/id, c:\windows\system32\cmd.exe, \\?\...
    std::string_view name = w;
    std::size_t slash = name.find_last_of("/\\");
    bool had_path = slash != std::string_view::npos;
    if (had_path) name = name.substr(slash + 1);
    if (name == "sudo" || name == "nohup" || name == "busybox" || name == "exec" ||
        name == "command" || name == "builtin" || name == "env" || name == "nice" ||
        name == "time" || name == "xargs" || name == "strace" || name == "doas") {
      std::size_t j = SkipSpaces(s, i);
      if (j < n && IsAsciiAlpha(static_cast<unsigned char>(s[j]))) {
        i = j;
        continue;
      }
    }
    auto it = Commands().find(name);
    int strength = it == Commands().end() ? 0 : it->second;
    // Globbed binary paths: /???/c?t, /bin/c*
    if (strength == 0 && had_path && w[0] == '/' &&
        (w.find('?') != std::string_view::npos || w.find('*') != std::string_view::npos)) {
      strength = 2;
    }
    if (had_path && strength == 1 && w[0] == '/') strength = 2;
    std::size_t arg_end = i;
    while (arg_end < n && !IsShellSeparatorStart(s[arg_end]) && s[arg_end] != ')') ++arg_end;
    std::string_view args = s.substr(i, arg_end - i);
    if (first_arg_only) {
      std::size_t a = SkipSpaces(args, 0);
      std::size_t b = a;
      while (b < args.size() && !IsSpaceChar(static_cast<unsigned char>(args[b]))) ++b;
      args = args.substr(a, b - a);
    }
    bool numeric_ok = name == "sleep" || name == "timeout" || name == "ping";
    *technical = TechnicalArgs(args, numeric_ok) || had_path;
    *end = arg_end;
    return strength;
  }
  *technical = false;
  *end = i;
  return 0;
}

// Natural-language text (forum posts, descriptions) quotes commands in backticks and
// pipes; it has many words and few symbols.
bool IsProse(std::string_view lower) {
  int words = 0;
  std::size_t letters = 0;
  for (std::size_t i = 0; i < lower.size();) {
    if (IsAsciiAlpha(static_cast<unsigned char>(lower[i]))) {
      std::size_t s = i;
      while (i < lower.size() && IsAsciiAlpha(static_cast<unsigned char>(lower[i]))) ++i;
      letters += i - s;
      if (i - s >= 2) ++words;
      continue;
    }
    if (lower[i] == ' ') ++letters;
    ++i;
  }
  return words >= 8 && letters * 10 >= lower.size() * 7;
}

}  // namespace

void DetectCmdi(const ValueView& v, DetectorScratch& scratch, FindingSink& sink) {
  std::string_view lower = v.lower;
  Best best;
  // Shellshock function definition.
  {
    std::size_t p = lower.find("()");
    while (p != std::string_view::npos) {
      std::size_t j = SkipSpaces(lower, p + 2);
      if (j < lower.size() && lower[j] == '{') {
        std::size_t k = SkipSpaces(lower, j + 1);
        if (k < lower.size() && (lower[k] == ':' || lower[k] == '_' || lower[k] == ';' ||
                                 IsAsciiAlpha(static_cast<unsigned char>(lower[k])))) {
          std::size_t before = p;
          while (before > 0 && IsSpaceChar(static_cast<unsigned char>(lower[before - 1]))) --before;
          if (before == 0 || lower[before - 1] == '=' || lower[before - 1] == '\'' ||
              lower[before - 1] == '"') {
            best.Up(0.95f, "cmdi.shellshock", p, 24);
          }
        }
      }
      p = lower.find("()", p + 2);
    }
  }
  bool interesting = false;
  for (char c : lower) {
    if (c == ';' || c == '|' || c == '&' || c == '`' || c == '$' || c == '\n' || c == '/' ||
        c == '\\' || c == '>' || c == '<' || c == '^' || c == '{' || c == '%' || c == '(') {
      interesting = true;
      break;
    }
  }
  if (!interesting && best.score == 0) {
    // A bare "cmd -flags" at the start still counts.
    bool technical = false;
    std::size_t end = 0;
    int strength = CommandAt(lower, 0, &technical, &end);
    if (strength == 2 && technical) best.Up(0.65f, "cmdi.command", 0, end);
    if (best.score > 0) Report(sink, v, Category::kCmdi, best.score, best.rule, best.pos, best.len);
    return;
  }
  std::string_view s = CollapseShell(lower, *scratch.arena);
  const std::size_t n = s.size();
  if (best.score > 0) {
    Report(sink, v, Category::kCmdi, best.score, best.rule, best.pos, best.len);
    best = Best{};
  }
  // The first command (no separator before it).
  {
    bool technical = false;
    std::size_t end = 0;
    int strength = CommandAt(s, 0, &technical, &end, /*first_arg_only=*/true);
    std::size_t first = SkipSpaces(s, 0);
    bool path_binary =
        first < n && (s[first] == '/' || s[first] == '\\' ||
                      (first + 2 < n && s[first + 1] == ':' && s[first + 2] == '\\'));
    if (strength == 2 && technical)
      best.Up(path_binary ? 0.85f : 0.7f, "cmdi.command", 0, end);
    else if (strength >= 1 && technical && path_binary)
      best.Up(0.7f, "cmdi.command", 0, end);
  }
  // Commands after separators and inside substitutions.
  const bool prose = IsProse(s);
  for (std::size_t i = 0; i < n; ++i) {
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
      // opened after a space that follows several words of text reads as prose too.
      int words_before = 0;
      for (std::size_t k = 0; k < i; ++k) {
        if (IsAsciiAlpha(static_cast<unsigned char>(s[k])) &&
            (k == 0 || !IsAsciiAlpha(static_cast<unsigned char>(s[k - 1])))) {
          ++words_before;
        }
      }
      bool code_span = i > 0 && s[i - 1] == ' ' && words_before >= 3 &&
                       s.find('`', i + 1) != std::string_view::npos;
      if (prose || code_span) {
        std::size_t close = s.find('`', i + 1);
        i = close == std::string_view::npos ? n : close;
        continue;
      }
      start = i + 1;
      rule = "cmdi.substitution";
    } else if (c == '$' && i + 1 < n && s[i + 1] == '(') {
      if (i + 2 < n && s[i + 2] == '(') {
        std::size_t close = s.find("))", i);
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
    bool technical = false;
    std::size_t end = 0;
    int strength = CommandAt(s, start, &technical, &end);
    if (strength == 0) continue;
    bool subst = rule[5] == 's';
    float score = 0;
    if (strength == 2)
      score = technical || subst ? 0.92f : 0.85f;
    else
      score = technical ? 0.8f : (subst ? 0.6f : 0.3f);
    // A weak word at the very end right after a strong separator (";ls", "| dir").
    if (strength == 1 && !technical && SkipSpaces(s, end) >= n && c != '&') {
      std::size_t ws = SkipSpaces(s, start);
      bool single_word = s.substr(ws, end - ws).find(' ') == std::string_view::npos;
      if (single_word) score = std::max(score, 0.6f);
    }
    if (prose) score *= 0.55f;
    best.Up(score * sep_weight, rule, i, end - i);
  }
  // Windows cmd.exe grammar: IF [NOT] EXIST|DEFINED|ERRORLEVEL ..., FOR /F ... IN (...) DO ...
  {
    std::size_t p = SkipSpaces(s, 0);
    std::string_view rest = s.substr(p);
    if (StartsWith(rest, "if ")) {
      std::size_t q = SkipSpaces(rest, 3);
      std::string_view r2 = rest.substr(q);
      if (StartsWith(r2, "not ")) r2 = r2.substr(SkipSpaces(r2, 4));
      if (StartsWith(r2, "exist ") || StartsWith(r2, "defined ") || StartsWith(r2, "errorlevel ") ||
          StartsWith(r2, "/i ") || r2.find(" geq ") != std::string_view::npos ||
          r2.find(" equ ") != std::string_view::npos ||
          r2.find(" neq ") != std::string_view::npos ||
          r2.find(" lss ") != std::string_view::npos ||
          r2.find(" gtr ") != std::string_view::npos ||
          r2.find(" leq ") != std::string_view::npos || r2.find("==") != std::string_view::npos) {
        best.Up(0.8f, "cmdi.windows-if", p, rest.size());
      }
    }
    if (StartsWith(rest, "for ") && rest.find(" in ") != std::string_view::npos &&
        rest.find(" do ") != std::string_view::npos) {
      best.Up(0.8f, "cmdi.windows-for", p, rest.size());
    }
  }
  // Environment-variable substring tricks (%COMSPEC%, %PROGRAMFILES:~10,-5%).
  if (s.find('%') != std::string_view::npos) {
    for (std::string_view var : {"%comspec%", "%systemroot%", "%windir%", "%programfiles",
                                 "%userprofile%", "%appdata%", "%temp%", ":~"}) {
      std::size_t p = s.find(var);
      if (p != std::string_view::npos) {
        best.Up(var == ":~" ? 0.5f : 0.75f, "cmdi.windows-variable", p, var.size() + 8);
      }
    }
  }
  if (best.score > 0) {
    Report(sink, ValueView{v.field, s, s, v.norm_flags, v.weight, v.document}, Category::kCmdi,
           best.score, best.rule, best.pos, best.len);
  }
}

}  // namespace shieldx::detect
