// Code injection into server-side interpreters (PHP, Java/EL/OGNL, Node.js, Python, Ruby,
// ASP/VBScript), server-side template injection and Log4Shell-style JNDI lookups.
//
// What is matched is structure plus the names an interpreter gives to dangerous things:
// calls (`name(`) of functions that execute commands or code, class names in Java package
// form, object-graph escapes (__proto__, constructor.constructor, __class__.__mro__),
// superglobals, serialized-object headers, template delimiters around expressions, and
// nested ${...} lookups (resolved before matching, so ${${lower:j}ndi:...} is seen).
#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <optional>
#include <utility>

#include "libs/detect/detector.h"
#include "libs/detect/text_util.h"

namespace shieldx::detect {

// Literals compared against as "..."sv: std::string_view::starts_with(const char*) measured
// the literal (strlen) on every call here.
using std::string_view_literals::operator""sv;

namespace {

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

// A view of NeedleScan hits for one scan's slice [base, ...) of the needle list, indexed
// from 0: first[i] is where the slice's needle i first occurs (or npos), Next walks the
// needles found, in list order.
class HitSlice {
 public:
  HitSlice(const uint64_t* found, const std::size_t* first, std::size_t base)
      : found_(found), first_(first), base_(base) {}
  std::size_t operator[](std::size_t i) const {
    std::size_t j = base_ + i;
    return (found_[j >> 6] >> (j & 63)) & 1 ? first_[j] : std::string_view::npos;
  }
  // The slice starting at index `offset` of this one.
  HitSlice Sub(std::size_t offset) const { return HitSlice(found_, first_, base_ + offset); }
  // The smallest found index in [from, end), or end.
  [[gnu::always_inline]] std::size_t Next(std::size_t from, std::size_t end) const {
    for (std::size_t j = base_ + from; j < base_ + end; j = (j | 63) + 1) {
      uint64_t w = found_[j >> 6] >> (j & 63);
      if (w != 0) return std::min(end, j - base_ + static_cast<std::size_t>(std::countr_zero(w)));
    }
    return end;
  }

 private:
  const uint64_t* found_;
  const std::size_t* first_;
  std::size_t base_;
};

// Where each needle of a fixed list first occurs in a haystack, and which needles occur at
// all, found in one pass. Same results as NeedleSet::FirstAll (exactly Find(hay, needle) per
// needle), shaped for this detector, which looks for ~200 names in every value, most values
// tiny: setup is O(1) (only the found bits are cleared, a position is read only where its
// bit is set, no per-needle byte-pair test per value), a candidate's first eight bytes are
// compared as one masked word, and scans walk only the needles found.
template <std::size_t N>
class NeedleScan {
 public:
  struct Hits {
    HitSlice Slice(std::size_t base) const { return HitSlice(found, first, base); }
    uint64_t found[(N + 63) / 64];
    std::size_t first[N];  // valid where the found bit is set
  };

  // Needles are lowercase and at least two bytes long.
  explicit NeedleScan(const std::array<std::string_view, N>& needles) : needles_(needles) {
    uint16_t count[kBuckets] = {};
    for (std::string_view nd : needles_) {
      SHIELDX_CHECK(nd.size() >= 2);
      ++count[Hash(Pair(nd.data()))];
    }
    for (std::size_t h = 0; h < kBuckets; ++h) start_[h + 1] = start_[h] + count[h];
    uint16_t fill[kBuckets] = {};
    for (std::size_t j = 0; j < N; ++j) {
      uint32_t pair = Pair(needles_[j].data());
      uint32_t h = Hash(pair);
      index_[start_[h] + fill[h]++] = static_cast<uint16_t>(j);
      Set(pairs_, pair);
      if (needles_[j].size() == 2) {
        Set(short_hashes_, h);
      } else {
        Set(triples_, Triple(pair, static_cast<unsigned char>(needles_[j][2])));
      }
      // The first (up to) eight bytes as a word and the mask selecting them, both built
      // by memcpy so that comparing with a word loaded from the haystack is endian-neutral.
      char text[8] = {};
      unsigned char ones[8] = {};
      std::size_t head = std::min<std::size_t>(needles_[j].size(), 8);
      std::memcpy(text, needles_[j].data(), head);
      std::memset(ones, 0xff, head);
      std::memcpy(&prefix_[j], text, 8);
      std::memcpy(&mask_[j], ones, 8);
    }
  }

  void Run(std::string_view hay, Hits* hits) const {
    for (uint64_t& w : hits->found) w = 0;
    const auto* p = reinterpret_cast<const unsigned char*>(hay.data());
    const std::size_t n = hay.size();
    // Hot loop: one bitmap test per byte. Where a pair some needle starts with begins and
    // no two-byte needle's pair (by hash) does, the first three bytes must be some needle's
    // (modulo the hash): common pairs ("re", "co", "ex") rarely go on as a needle does. The
    // positions left are checked out of line, which keeps this loop at a few instructions.
    for (std::size_t i = 0; i + 1 < n; ++i) {
      uint32_t pair = Pair(p + i);
      if (!Test(pairs_, pair)) [[likely]]
        continue;
      if (!Test(short_hashes_, Hash(pair)) &&
          (i + 2 >= n || !Test(triples_, Triple(pair, p[i + 2])))) {
        continue;
      }
      CheckAt(p, n, i, pair, hits);
    }
  }

 private:
  // Records the needles that start at p[i] (p[i], p[i + 1] are one of their first pairs).
  [[gnu::noinline]] void CheckAt(const unsigned char* p, std::size_t n, std::size_t i,
                                 uint32_t pair, Hits* hits) const {
    uint32_t h = Hash(pair);
    for (uint16_t k = start_[h]; k < start_[h + 1]; ++k) {
      std::size_t j = index_[k];
      std::string_view nd = needles_[j];
      if (((hits->found[j >> 6] >> (j & 63)) & 1) || nd.size() > n - i) continue;
      if (i + 8 <= n) {
        uint64_t w;
        std::memcpy(&w, p + i, 8);
        if ((w & mask_[j]) != prefix_[j]) continue;
      } else if (std::memcmp(p + i, nd.data(), std::min<std::size_t>(nd.size(), 8)) != 0) {
        continue;
      }
      if (nd.size() > 8 && std::memcmp(p + i + 8, nd.data() + 8, nd.size() - 8) != 0) continue;
      hits->found[j >> 6] |= uint64_t{1} << (j & 63);
      hits->first[j] = i;
    }
  }

  static constexpr std::size_t kBuckets = 1024;
  // The two bytes at `at` as one 16-bit load (the same bytes give the same key whatever the
  // byte order).
  static uint32_t Pair(const void* at) {
    uint16_t k;
    std::memcpy(&k, at, 2);
    return k;
  }
  static uint32_t Hash(uint32_t pair) { return ((pair >> 8) * 37u + (pair & 0xffu)) & 1023u; }
  // 14-bit hash of three bytes (multiplicative).
  static uint32_t Triple(uint32_t pair, unsigned char c) {
    return ((pair << 8 | c) * 2654435761u) >> 18;
  }
  static void Set(uint64_t* bits, uint32_t x) { bits[x >> 6] |= uint64_t{1} << (x & 63); }
  static bool Test(const uint64_t* bits, uint32_t x) { return (bits[x >> 6] >> (x & 63)) & 1; }
  std::array<std::string_view, N> needles_;
  uint16_t start_[kBuckets + 1] = {};
  uint16_t index_[N] = {};
  uint64_t prefix_[N] = {};
  uint64_t mask_[N] = {};
  uint64_t pairs_[1024] = {};       // exact first byte pairs of the needles
  uint64_t short_hashes_[16] = {};  // Hash() of the first pairs of the two-byte needles
  uint64_t triples_[256] = {};      // Triple() of the first three bytes of the longer ones
};

// Byte classes for the per-byte loops: one table load instead of a chain of compares.
enum ByteClass : uint8_t {
  kWordStart = 1,  // a letter or '_': where ScanPhp's names start
  kPhpName = 2,    // IsIdentChar or '\\' (namespaced names)
  kGapStart = 4,   // whitespace, '/' or '#': where SkipPhpGap may skip something
  kCloser = 8,     // ')', ']', '}'
};
constexpr auto kByteClass = [] {
  std::array<uint8_t, 256> t{};
  // The same tests as IsAsciiAlpha, IsIdentChar and IsSpaceChar (text_util.h), spelled out
  // to be constexpr.
  for (int c = 0; c < 256; ++c) {
    bool alpha = (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
    bool ident = alpha || (c >= '0' && c <= '9') || c == '_' || c == '$';
    bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
    if (alpha || c == '_') t[c] |= kWordStart;
    if (ident || c == '\\') t[c] |= kPhpName;
    if (space || c == '/' || c == '#') t[c] |= kGapStart;
    if (c == ')' || c == ']' || c == '}') t[c] |= kCloser;
  }
  return t;
}();
inline bool HasClass(char c, uint8_t cls) {
  return kByteClass[static_cast<unsigned char>(c)] & cls;
}

// `name` followed (after optional spaces/comments) by '(' — a call.
// Skips whitespace and PHP comments (/* */, // and # to the end of the line).
std::size_t SkipPhpGapSlow(std::string_view lower, std::size_t k) {
  for (int guard = 0; guard < 16; ++guard) {
    k = SkipSpaces(lower, k);
    if (k + 1 < lower.size() && lower[k] == '/' && lower[k + 1] == '*') {
      std::size_t c = Find(lower, "*/", k + 2);
      if (c == std::string_view::npos) return lower.size();
      k = c + 2;
    } else if ((k + 1 < lower.size() && lower[k] == '/' && lower[k + 1] == '/') ||
               (k < lower.size() && lower[k] == '#')) {
      std::size_t nl = Find(lower, '\n', k);
      if (nl == std::string_view::npos) return lower.size();
      k = nl + 1;
    } else {
      break;
    }
  }
  return k;
}

// Same as SkipPhpGapSlow; most positions start no gap and return at once, without a call.
inline std::size_t SkipPhpGap(std::string_view lower, std::size_t k) {
  if (k >= lower.size() || !HasClass(lower[k], kGapStart)) return k;
  return SkipPhpGapSlow(lower, k);
}

bool CalledAt(std::string_view lower, std::size_t end) {
  std::size_t k = SkipPhpGap(lower, end);
  return k < lower.size() && lower[k] == '(';
}

// The argument list opened at `open` ('(') closes within 512 bytes. A variable function
// is a call only then: random tokens (generated passwords, keys) hold "$K(l#" by chance.
bool CallCloses(std::string_view lower, std::size_t open) {
  int depth = 0;
  const std::size_t end = std::min(lower.size(), open + 512);
  for (std::size_t k = open; k < end; ++k) {
    if (lower[k] == '(') ++depth;
    if (lower[k] == ')' && --depth == 0) return true;
  }
  return false;
}

// PHP functions that run commands, evaluate code or read/write arbitrary files.
constexpr std::string_view kPhpExec[] = {
    "system",
    "exec",
    "shell_exec",
    "passthru",
    "popen",
    "proc_open",
    "pcntl_exec",
    "eval",
    "assert",
    "create_function",
    "call_user_func",
    "call_user_func_array",
    "preg_replace",
    "array_map",
    "usort",
    "uasort",
    "array_filter",
    "register_shutdown_function",
    "phpinfo",
    "base64_decode",
    "gzinflate",
    "gzuncompress",
    "str_rot13",
    "file_get_contents",
    "file_put_contents",
    "fopen",
    "fwrite",
    "fputs",
    "readfile",
    "highlight_file",
    "show_source",
    "include",
    "include_once",
    "require",
    "require_once",
    "unserialize",
    "move_uploaded_file",
    "copy",
    "unlink",
    "chmod",
    "symlink",
    "putenv",
    "ini_set",
    "dl",
    "mail",
    "curl_exec",
    "fsockopen",
    "stream_socket_client",
    "posix_getpwuid",
    "posix_kill",
    "posix_setuid",
    "escapeshellcmd",
    "ob_start",
    "extract",
    "parse_str",
    "var_dump",
    "print_r",
    "get_defined_vars",
    "phpversion",
    "getenv",
    "scandir",
    "glob",
    "opendir",
    "readdir",
    "file",
    "simplexml_load_string",
    "chr",
    "ord",
    "strrev",
    "hex2bin",
};
constexpr std::string_view kPhpStrong[] = {
    "system",
    "exec",
    "shell_exec",
    "passthru",
    "popen",
    "proc_open",
    "pcntl_exec",
    "eval",
    "assert",
    "create_function",
    "phpinfo",
    "base64_decode",
    "gzinflate",
    "str_rot13",
    "file_get_contents",
    "file_put_contents",
    "readfile",
    "highlight_file",
    "show_source",
    "unserialize",
    "move_uploaded_file",
    "fsockopen",
    "call_user_func",
    "call_user_func_array",
    "posix_getpwuid",
    "get_defined_vars",
    "phpversion",
};

bool InArray(std::string_view w, const std::string_view* begin, const std::string_view* end) {
  return std::find(begin, end, w) != end;
}

// PHP-only function names no English word or other language's function ends in. Glued
// after letters or digits ("FOOgzinflate()") the call still reads as that function to a
// keyword filter that looks for the name anywhere, and nothing but a probe writes it so;
// "my_base64_decode" (a wrapper after an underscore) does not count.
constexpr std::string_view kPhpGluable[] = {
    "shell_exec",     "pcntl_exec",         "proc_open",         "create_function",
    "base64_decode",  "gzinflate",          "gzdecode",          "gzuncompress",
    "str_rot13",      "file_get_contents",  "file_put_contents", "highlight_file",
    "show_source",    "move_uploaded_file", "fsockopen",         "call_user_func",
    "posix_getpwuid", "get_defined_vars",   "zlib_decode",       "call_user_func_array"};

bool GluedPhpName(std::string_view w) {
  for (std::string_view name : kPhpGluable) {
    if (w.size() > name.size() && w.back() == name.back() && w.ends_with(name) &&
        IsAsciiAlnum(static_cast<unsigned char>(w[w.size() - name.size() - 1]))) {
      return true;
    }
  }
  return false;
}

// PHP functions that execute commands or code: any call of one as a statement is an attack.
constexpr std::string_view kPhpRunners[] = {
    "system", "exec",   "passthru",        "shell_exec", "popen",          "proc_open",
    "eval",   "assert", "create_function", "pcntl_exec", "call_user_func", "call_user_func_array"};
// PHP-only functions that read files, reach the network, reveal the runtime or decode and
// build payloads: a call of one as a whole value is code, whatever the argument.
constexpr std::string_view kPhpRisky[] = {
    "phpinfo",
    "phpversion",
    "php_uname",
    "unserialize",
    "base64_decode",
    "gzinflate",
    "gzdecode",
    "gzuncompress",
    "bzdecompress",
    "str_rot13",
    "strrev",
    "hex2bin",
    "fsockopen",
    "pfsockopen",
    "file_get_contents",
    "file_put_contents",
    "readfile",
    "highlight_file",
    "show_source",
    "fpassthru",
    "fputcsv",
    "fgetcsv",
    "fputs",
    "fwrite",
    "fread",
    "file_exists",
    "filegroup",
    "fileowner",
    "fileperms",
    "fileinode",
    "is_writable",
    "is_readable",
    "getcwd",
    "getmyuid",
    "get_current_user",
    "putenv",
    "getenv",
    "ini_set",
    "ini_get",
    "ini_get_all",
    "set_time_limit",
    "ignore_user_abort",
    "move_uploaded_file",
    "symlink",
    "readlink",
    "chgrp",
    "lchown",
    "tempnam",
    "tmpfile",
    "scandir",
    "opendir",
    "readdir",
    "escapeshellarg",
    "escapeshellcmd",
    "extract",
    "parse_str",
    "assert_options",
    "register_shutdown_function",
    "dl",
};
// Prefixes of PHP-only extension families (posix_getuid(), curl_init(), proc_nice() ...).
constexpr std::string_view kPhpFamilies[] = {
    "posix_", "pcntl_", "proc_", "curl_", "ftp_", "socket_", "stream_", "ob_", "mb_", "zlib_",
    "preg_", "mysql_", "mysqli_", "sqlite_", "openssl_", "func_", "spl_", "var_", "get_defined_",
    "apache_", "session_", "array_", "str_", "gz",
    // Extension families whose names no other language uses.
    "pg_", "ldap_", "odbc_", "sodium_crypto", "tidy_", "zend_", "imap_", "libxml_", "exif_",
    "gethostby"};
// General-purpose names that other languages share: only with empty or code arguments.
constexpr std::string_view kPhpGeneric[] = {"printf",
                                            "sprintf",
                                            "intval",
                                            "strval",
                                            "substr",
                                            "strip_tags",
                                            "is_array",
                                            "is_string",
                                            "unpack",
                                            "pack",
                                            "chr",
                                            "ord",
                                            "strlen",
                                            "strtolower",
                                            "strtoupper",
                                            "implode",
                                            "explode",
                                            "print_r",
                                            "var_dump",
                                            "fopen",
                                            "file",
                                            "unlink",
                                            "rmdir",
                                            "mkdir",
                                            "chmod",
                                            "chown",
                                            "touch",
                                            "copy",
                                            "rename",
                                            "glob",
                                            "md5",
                                            "sha1",
                                            "crc32",
                                            "uniqid",
                                            "header",
                                            "setcookie",
                                            "mail",
                                            "sleep",
                                            "usleep",
                                            "iconv",
                                            "urldecode",
                                            "rawurldecode",
                                            "htmlspecialchars_decode",
                                            "html_entity_decode",
                                            "is_callable",
                                            "function_exists"};

bool PhpFamily(std::string_view name) {
  for (std::string_view f : kPhpFamilies) {
    if (name.size() > f.size() + 1 && StartsWith(name, f)) return true;
  }
  return false;
}

// End of the balanced parenthesis group opening at `open`, or npos.
std::size_t MatchParen(std::string_view s, std::size_t open) {
  int depth = 0;
  for (std::size_t k = open; k < s.size() && k - open < 2048; ++k) {
    if (s[k] == '(') ++depth;
    if (s[k] == ')' && --depth == 0) return k;
  }
  return std::string_view::npos;
}

// A call `name(...)` in statement position: the value starts with it (after quotes, ';',
// ')', '?>' or '<?php' breaking out of the application's code) and nothing but statement
// punctuation follows it. "system(s) failure" in prose is not a statement.
void ScanPhpStatementCalls(std::string_view lower, Best* b) {
  const std::size_t n = lower.size();
  if (n > 512 || std::count(lower.begin(), lower.end(), ' ') > 12) return;
  std::size_t i = 0;
  for (int guard = 0; guard < 8 && i < n; ++guard) {
    i = SkipPhpGap(lower, i);
    if (i < n && (lower[i] == '\'' || lower[i] == '"' || lower[i] == ';' || lower[i] == ')' ||
                  lower[i] == '@')) {
      ++i;
    } else if (StartsWith(lower.substr(i), "?>")) {
      i += 2;
    } else if (StartsWith(lower.substr(i), "<?php")) {
      i += 5;
    } else {
      break;
    }
  }
  std::size_t s = i;
  while (i < n && (IsIdentChar(static_cast<unsigned char>(lower[i])) || lower[i] == '\\')) ++i;
  if (i == s || !IsAsciiAlpha(static_cast<unsigned char>(lower[s]))) return;
  std::string_view name = lower.substr(s, i - s);
  std::size_t bs = name.find_last_of('\\');
  if (bs != std::string_view::npos) name = name.substr(bs + 1);
  std::size_t open = SkipPhpGap(lower, i);
  if (open >= n || lower[open] != '(') return;
  // A comment between a name and its '(' ("checkdate/*x*/()", "serialize#c\n()") hides a
  // call from keyword filters; nobody writes one in text.
  std::string_view gap = lower.substr(i, open - i);
  bool comment_gap = Find(gap, "/*") != std::string_view::npos ||
                     Find(gap, '#') != std::string_view::npos ||
                     Find(gap, "//") != std::string_view::npos;
  std::size_t close = MatchParen(lower, open);
  if (close == std::string_view::npos) {
    close = n;  // "base64_decode(" cut short: the rest of the value is the argument
  } else {
    // Statement punctuation only after the call.
    std::size_t t = SkipPhpGap(lower, close + 1);
    while (t < n && lower[t] == '[') {
      std::size_t e = Find(lower, ']', t);
      if (e == std::string_view::npos) return;
      t = SkipPhpGap(lower, e + 1);
    }
    if (t < n && !(lower[t] == ';' || lower[t] == ')' || lower[t] == ',' || lower[t] == '.' ||
                   StartsWith(lower.substr(t), "?>"))) {
      return;
    }
  }
  std::string_view args = lower.substr(open + 1, close - open - 1);
  std::size_t a = SkipPhpGap(args, 0);
  bool empty = a >= args.size();
  bool code_arg = !empty && (args[a] == '$' || args[a] == '\'' || args[a] == '"' ||
                             args[a] == '`' || IsAsciiDigit(static_cast<unsigned char>(args[a])) ||
                             Find(args, '(') != std::string_view::npos);
  // "file(s)", "system(s)": English plural markers.
  bool plural = args == "s" || args == "es";
  float score = 0;
  if (InArray(name, std::begin(kPhpRunners), std::end(kPhpRunners))) {
    score = plural ? 0 : 0.8f;
  } else if (InArray(name, std::begin(kPhpRisky), std::end(kPhpRisky)) || PhpFamily(name)) {
    score = plural ? 0 : 0.7f;
  } else if (InArray(name, std::begin(kPhpGeneric), std::end(kPhpGeneric))) {
    score = empty || code_arg ? 0.55f : 0;
    // "file (1).txt", "copy (2)", "header (3).png": the number a file manager or browser
    // gives a duplicate name, with or without its extension after it.
    bool number_only = !empty;
    for (std::size_t k = a; k < args.size(); ++k) {
      number_only &= IsAsciiDigit(static_cast<unsigned char>(args[k]));
    }
    std::size_t ext = close + 1 < n && lower[close + 1] == '.' ? close + 2 : n;
    while (ext < n && IsAsciiAlnum(static_cast<unsigned char>(lower[ext]))) ++ext;
    const bool extension_tail = close + 1 < n && lower[close + 1] == '.' && ext == n &&
                                ext - close - 2 >= 1 && ext - close - 2 <= 5;
    if (number_only && (open > i || extension_tail)) score = 0;
  }
  if (score > 0) b->Up(score, "code.php-function-call", s, close - s + 1);
  if (comment_gap && !plural) b->Up(0.6f, "code.php-comment-call", s, close - s + 1);
}

// PHP code with the noise removed so that names built by tricks read plainly: comments,
// whitespace, quotes, concatenation dots, '+', '@' and (string) casts dropped, numeric
// indexes removed and brackets/braces dropped, then (name) unwrapped twice:
// ('sy'.'stem')('id'), (sy.(st).em)('id'), [system][0]('id') all read "system(id)".
std::string_view PhpSkeleton(std::string_view lower, Arena& arena) {
  char* out = arena.Allocate(lower.size() + 1);
  std::size_t o = 0;
  const std::size_t n = lower.size();
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t g = SkipPhpGap(lower, i);
    if (g != i) {
      i = g - 1;
      continue;
    }
    char c = lower[i];
    if (c == '\'' || c == '"' || c == '.' || c == '+' || c == '@' || c == ']' || c == '}') continue;
    if (StartsWith(lower.substr(i), "(string)")) {
      i += 7;
      continue;
    }
    if (c == '[' || c == '{') {
      std::size_t k = SkipPhpGap(lower, i + 1);
      std::size_t d = k;
      while (k < n && IsAsciiDigit(static_cast<unsigned char>(lower[k]))) ++k;
      k = SkipPhpGap(lower, k);
      if (k > d && k < n && (lower[k] == ']' || lower[k] == '}')) i = k;  // [0] / {0}
      continue;
    }
    out[o++] = c;
  }
  for (int pass = 0; pass < 2; ++pass) {
    std::size_t w = 0;
    for (std::size_t r = 0; r < o; ++r) {
      if (out[r] == '(') {
        std::size_t k = r + 1;
        while (k < o && IsIdentChar(static_cast<unsigned char>(out[k])) && out[k] != '$') ++k;
        // f(x) stays a call; (x) alone or glued to a following word ("(st)em") unwraps.
        bool before_ident = w > 0 && (IsIdentChar(static_cast<unsigned char>(out[w - 1])) ||
                                      out[w - 1] == ')' || out[w - 1] == ']');
        bool glued_after = k + 1 < o && IsIdentChar(static_cast<unsigned char>(out[k + 1]));
        if (k > r + 1 && k < o && out[k] == ')' && (!before_ident || glued_after)) {
          std::string_view inner(out + r + 1, k - r - 1);
          bool cast = inner == "string" || inner == "int" || inner == "array" || inner == "object";
          if (!cast) {
            for (std::size_t m = r + 1; m < k; ++m) out[w++] = out[m];
          }
          r = k;
          continue;
        }
      }
      out[w++] = out[r];
    }
    o = w;
  }
  arena.ShrinkLast(out, o);
  return {out, o};
}

// Markers of PHP written to hide a call (ScanPhpSkeleton).
constexpr std::string_view kPhpMarkers[] = {")(",  "](",   "}(", "'.'",      "\".\"", "' .", "\" .",
                                            ". '", ". \"", "/*", "(string)", "${",    "$ {"};

// Callable tricks and variable functions, read on the skeleton. `first`: where each of
// kPhpMarkers first occurs in `lower`.
// A call of an expression: ")(", "](", "}(" with gaps allowed between (none without a '(').
bool HasExpressionCall(std::string_view lower) {
  if (Find(lower, '(') == std::string_view::npos) return false;
  for (std::size_t p = 0; p < lower.size(); ++p) {
    if (!HasClass(lower[p], kCloser)) continue;
    std::size_t k = SkipPhpGap(lower, p + 1);
    if (k < lower.size() && lower[k] == '(') return true;
  }
  return false;
}

void ScanPhpSkeleton(std::string_view lower, const HitSlice& first, Arena& arena, Best* b) {
  constexpr std::size_t kNumMarkers = std::size(kPhpMarkers);
  bool marker =
      first.Next(0, kNumMarkers) < kNumMarkers || Find(lower, '\n') != std::string_view::npos;
  // HasExpressionCall is a pass over the value: only when the answer is needed.
  int expr_call = -1;  // not known yet
  auto expression_call = [&] {
    if (expr_call < 0) expr_call = HasExpressionCall(lower);
    return expr_call == 1;
  };
  if (!marker && !expression_call()) return;
  std::string_view sk = PhpSkeleton(lower, arena);
  const std::size_t n = sk.size();
  static const NeedleSet kRunnerSet(kPhpRunners);
  std::size_t runner_first[NeedleSet::kMax];
  kRunnerSet.FirstAll(sk, runner_first);
  for (std::size_t fi = 0; fi < std::size(kPhpRunners); ++fi) {
    std::string_view f = kPhpRunners[fi];
    for (std::size_t p = runner_first[fi]; p != std::string_view::npos; p = Find(sk, f, p + 1)) {
      if (p > 0 && IsIdentChar(static_cast<unsigned char>(sk[p - 1]))) continue;
      std::size_t e = p + f.size();
      if (e < n && sk[e] == '(') {
        b->Up(0.8f, "code.php-callable-trick", 0, std::min<std::size_t>(lower.size(), 48));
        return;
      }
      // define('x', 'sys'.'tem'); (x)('id') / $y = 'sys'.'tem'; ($y)('id')
      bool as_value = e >= n || sk[e] == ')' || sk[e] == ';' || sk[e] == ',';
      bool value_ctx = p > 0 && (sk[p - 1] == ',' || sk[p - 1] == '=');
      if (as_value && value_ctx && expression_call()) {
        b->Up(0.8f, "code.php-callable-trick", 0, std::min<std::size_t>(lower.size(), 48));
        return;
      }
    }
  }
  // "${@expr}": PHP's complex interpolation with the error-suppression operator (JS
  // templates have no '@').
  static_assert(kPhpMarkers[11] == "${");
  for (std::size_t p = first[11]; p != std::string_view::npos; p = Find(lower, "${", p + 2)) {
    std::size_t k = SkipPhpGap(lower, p + 2);
    if (k < lower.size() && lower[k] == '@') {
      b->Up(0.8f, "code.php-complex-interpolation", p, 24);
      break;
    }
  }
  // Variable functions hidden behind comments, braces and indexes: ${@a}(1), $a/*x*/().
  for (std::size_t p = Find(sk, '$'); p != std::string_view::npos; p = Find(sk, '$', p + 1)) {
    std::size_t i = p + 1;
    std::size_t s = i;
    while (i < n && IsIdentChar(static_cast<unsigned char>(sk[i])) && sk[i] != '$') ++i;
    if (i == s || IsAsciiDigit(static_cast<unsigned char>(sk[s]))) continue;
    if (i >= n || sk[i] != '(') continue;
    std::string_view name = sk.substr(s, i - s);
    bool obfuscated = (Find(name, '_') != std::string_view::npos || name.size() <= 2 ||
                       FindFirstOf(name, "0123456789") != std::string_view::npos) &&
                      CallCloses(sk, i);
    b->Up(obfuscated ? 0.8f : 0.45f, "code.php-variable-function", p, 24);
  }
}

// php.ini directives that change what PHP executes or reads (PHP-CGI "-d" injection,
// .user.ini uploads): "allow_url_include=1", "-d auto_prepend_file=php://input".
constexpr std::string_view kPhpDirectives[] = {
    "allow_url_include", "allow_url_fopen", "auto_prepend_file", "auto_append_file",
    "disable_functions", "open_basedir",    "extension_dir",     "include_path",
    "error_log",         "upload_tmp_dir",  "session.save_path", "unserialize_max_depth",
    "memory_limit",      "safe_mode",       "register_globals",  "cgi.force_redirect",
    "doc_root",          "opcache.",        "mbstring.",         "zend.",
    "zend_extension",    "phar.readonly",   "assert.active"};

// PHP syntax that needs no call-of-expression marker: "$ {", "->$name(", php.ini lines.
// `first`: where each of kPhpDirectives first occurs in `lower`.
void ScanPhpExtras(std::string_view lower, const HitSlice& first, Best* b) {
  // "$ {'name'}" / "$ {$a}": whitespace between '$' and '{' is PHP (JS templates need "${").
  for (std::size_t p = Find(lower, '$'); p != std::string_view::npos; p = Find(lower, '$', p + 1)) {
    std::size_t k = SkipPhpGap(lower, p + 1);
    if (k == p + 1 || k >= lower.size() || lower[k] != '{') continue;
    std::size_t inner = SkipPhpGap(lower, k + 1);
    if (inner >= lower.size() || lower[inner] == '}') continue;
    // PHP inside: a string, a variable, '@', or one identifier ("$ {see table}" is prose).
    char c0 = lower[inner];
    if (!(c0 == '\'' || c0 == '"' || c0 == '$' || c0 == '@')) {
      std::size_t e = inner;
      while (e < lower.size() && IsIdentChar(static_cast<unsigned char>(lower[e]))) ++e;
      e = SkipPhpGap(lower, e);
      if (e == inner || e >= lower.size() || lower[e] != '}') continue;
    }
    b->Up(0.7f, "code.php-variable-variable", p, k - p + 8);
    break;
  }
  // $obj->$name(): a method chosen by a variable.
  for (std::size_t p = Find(lower, "->$"); p != std::string_view::npos;
       p = Find(lower, "->$", p + 3)) {
    std::size_t k = p + 3;
    while (k < lower.size() && IsIdentChar(static_cast<unsigned char>(lower[k]))) ++k;
    if (k > p + 3 && CalledAt(lower, k)) b->Up(0.75f, "code.php-variable-method", p, k - p + 2);
  }
  // php.ini directive lines.
  constexpr std::size_t kNumDirectives = std::size(kPhpDirectives);
  for (std::size_t di = first.Next(0, kNumDirectives); di < kNumDirectives;
       di = first.Next(di + 1, kNumDirectives)) {
    std::string_view d = kPhpDirectives[di];
    for (std::size_t p = first[di]; p != std::string_view::npos; p = Find(lower, d, p + 1)) {
      if (p > 0 && (IsIdentChar(static_cast<unsigned char>(lower[p - 1])) || lower[p - 1] == '.'))
        continue;
      std::size_t k = p + d.size();
      while (k < lower.size() &&
             (IsIdentChar(static_cast<unsigned char>(lower[k])) || lower[k] == '.')) {
        ++k;
      }
      std::size_t eq = SkipSpaces(lower, k);
      // Only as a directive line: at the value start or after "-d" / a newline.
      std::size_t before = p;
      while (before > 0 && IsSpaceChar(static_cast<unsigned char>(lower[before - 1]))) --before;
      bool line_start = before == 0 || lower[before - 1] == '\n' ||
                        (before >= 2 && lower.substr(before - 2, 2) == "-d");
      if (eq < lower.size() && lower[eq] == '=' && line_start) {
        b->Up(0.7f, "code.php-ini-directive", p, k - p + 8);
      }
    }
  }
}

// <? opening PHP code: "<?php", "<?=", "<? ", and short tags that are not an XML
// declaration ("<?xml version=..." is XML; "<?xml:echo 1;" is PHP with short_open_tag).
void ScanPhpOpenTags(std::string_view lower, Best* b) {
  const std::size_t n = lower.size();
  for (std::size_t p = Find(lower, "<?"); p != std::string_view::npos;
       p = Find(lower, "<?", p + 2)) {
    std::string_view rest = lower.substr(p + 2);
    if (rest.empty()) {
      b->Up(0.6f, "code.php-open-tag", p, 2);  // "test<?": an open tag cut short
      continue;
    }
    if (!StartsWith(rest, "xml")) continue;  // <?php / <?= / "<? " are handled by ScanPhp
    std::size_t k = SkipSpaces(rest, 3);
    std::string_view after = rest.substr(k);
    bool declaration =
        k > 3 && (StartsWith(after, "version") || StartsWith(after, "encoding") ||
                  StartsWith(after, "standalone") || after.empty() || StartsWith(after, "?>"));
    bool stylesheet = StartsWith(rest, "xml-stylesheet") || StartsWith(rest, "xml-model");
    if (declaration || stylesheet) continue;
    bool code = Find(after, ';') != std::string_view::npos ||
                Find(after, '(') != std::string_view::npos || StartsWith(after, ":") ||
                StartsWith(after, "echo");
    if (code) b->Up(0.75f, "code.php-open-tag", p, std::min<std::size_t>(n - p, 24));
  }
  // [php]...[/php] and {php}...{/php} blocks that CMS plugins evaluate.
  for (std::string_view t : {"[php]", "[/php]", "[\\php]", "{/php}"}) {
    std::size_t p = Find(lower, t);
    if (p == std::string_view::npos) continue;
    // php.ini's "[PHP]" section header: a line of its own followed by "key = value".
    if (t == "[php]" && Find(lower, "[/php]") == std::string_view::npos &&
        (p == 0 || lower[p - 1] == '\n')) {
      std::size_t k = p + t.size();
      while (k < n && (lower[k] == ' ' || lower[k] == '\r')) ++k;
      if (k < n && lower[k] == '\n') {
        std::size_t e = k + 1;
        while (e < n && (IsIdentChar(static_cast<unsigned char>(lower[e])) || lower[e] == '.')) ++e;
        std::size_t eq = SkipSpaces(lower, e);
        if (e > k + 1 && eq < n && lower[eq] == '=') continue;
      }
    }
    b->Up(0.65f, "code.php-block-tag", p, t.size() + 16);
  }
}

// Upload names that PHP would execute despite evasions (spaces before the extension, digit
// suffixes, .phpt), and PHP session files (sess_<id>) being planted.
void ScanUploadName(const ValueView& v, Best* b) {
  const Field& f = *v.field;
  bool name_field = f.source == Source::kFileName;
  if (f.source == Source::kHeader && f.name.size() >= 10) {
    std::string h(f.name.substr(0, 24));
    for (char& c : h) c = ToLowerAscii(c);
    name_field = h == "x-filename" || h == "x_filename" || h == "x.filename" ||
                 h == "x-file-name" || h == "x-upload-filename";
  }
  if (!name_field || v.lower.size() > 255) return;
  std::string name;
  for (char c : v.lower) {
    if (c != ' ' && c != '\t') name.push_back(c);
  }
  while (!name.empty() && name.back() == '.') name.pop_back();
  std::size_t slash = name.find_last_of("/\\");
  std::string_view base = slash == std::string::npos ? std::string_view(name)
                                                     : std::string_view(name).substr(slash + 1);
  for (std::size_t p = Find(base, ".ph"); p != std::string_view::npos;
       p = Find(base, ".ph", p + 1)) {
    std::size_t e = p + 3;
    while (e < base.size() && IsAsciiAlnum(static_cast<unsigned char>(base[e]))) ++e;
    std::string_view ext = base.substr(p + 1, e - p - 1);
    bool php = ext == "php" || ext == "phtml" || ext == "phar" || ext == "phpt" || ext == "pht" ||
               ext == "phps" ||
               (StartsWith(ext, "php") && ext.size() > 3 &&
                ext.find_first_not_of("0123456789", 3) == std::string_view::npos);
    if (php && (e >= base.size() || base[e] == '.')) {
      b->Up(0.8f, "code.script-upload", 0, v.lower.size());
    }
  }
  // JSP and ASP.NET pages behind the same space evasions ("shell. jsp"): the container
  // maps the stored name (spaces dropped or trimmed by the upload code) to its servlet.
  {
    std::size_t dot = base.find_last_of('.');
    std::string_view ext =
        dot == std::string_view::npos ? std::string_view() : base.substr(dot + 1);
    for (std::string_view x :
         {"jsp", "jspx", "jspf", "jsw", "jsv", "asp", "aspx", "ashx", "asmx"}) {
      if (ext == x && dot > 0) b->Up(0.8f, "code.script-upload", 0, v.lower.size());
    }
  }
  // Files that change how the server executes the directory they land in, or hold secrets.
  for (std::string_view cfg : {".htaccess", ".htpasswd", ".user.ini", "web.config", "php.ini"}) {
    if (base == cfg) b->Up(0.75f, "code.server-config-upload", 0, v.lower.size());
  }
  if (StartsWith(base, "wp-config")) b->Up(0.7f, "code.server-config-upload", 0, v.lower.size());
  if (StartsWith(base, "sess_") && base.size() >= 5 + 16) {
    bool id = true;
    for (char c : base.substr(5)) {
      id &= IsAsciiAlnum(static_cast<unsigned char>(c)) || c == '-' || c == ',';
    }
    if (id) b->Up(0.75f, "code.php-session-file", 0, v.lower.size());
  }
}

// Names ScanPhp looks for, found in one pass: superglobals, names called through PHP 8
// callable tricks, stream wrappers, then single markers.
constexpr std::string_view kPhpSuperglobals[] = {
    "$_get",   "$_post", "$_request", "$_server", "$_cookie",
    "$_files", "$_env",  "$_session", "$globals", "$http_raw_post_data"};
constexpr std::string_view kPhpCallableNames[] = {
    "system", "exec", "passthru", "shell_exec", "eval", "assert", "popen", "proc_open", "phpinfo"};
constexpr std::string_view kPhpWrappers[] = {
    "php://",           "phar://",           "expect://",    "zip://",     "glob://",
    "compress.zlib://", "compress.bzip2://", "ogg://",       "rar://",     "ssh2.exec://",
    "ssh2.shell://",    "ssh2.tunnel://",    "ssh2.sftp://", "ssh2.scp://"};
constexpr std::size_t kPhpSg = 0;
constexpr std::size_t kPhpCall = kPhpSg + std::size(kPhpSuperglobals);
constexpr std::size_t kPhpWrap = kPhpCall + std::size(kPhpCallableNames);
constexpr std::size_t kPhpOpenFull = kPhpWrap + std::size(kPhpWrappers);
constexpr std::size_t kPhpOpenEcho = kPhpOpenFull + 1;
constexpr std::size_t kPhpOpen = kPhpOpenFull + 2;
constexpr std::size_t kPhpStaticVar = kPhpOpenFull + 3;
constexpr std::size_t kPhpSerialized = kPhpOpenFull + 4;
constexpr std::size_t kPhpDataWrapper = kPhpOpenFull + 5;
constexpr std::size_t kPhpNeedleCount = kPhpOpenFull + 6;

constexpr auto kPhpNeedles = [] {
  std::array<std::string_view, kPhpNeedleCount> a{};
  std::size_t i = 0;
  for (std::string_view w : kPhpSuperglobals) a[i++] = w;
  for (std::string_view w : kPhpCallableNames) a[i++] = w;
  for (std::string_view w : kPhpWrappers) a[i++] = w;
  a[kPhpOpenFull] = "<?php";
  a[kPhpOpenEcho] = "<?=";
  a[kPhpOpen] = "<?";
  a[kPhpStaticVar] = "::$";
  a[kPhpSerialized] = "o:";
  a[kPhpDataWrapper] = "data://";
  return a;
}();

// `first`: where each of kPhpNeedles first occurs in `lower`.
void ScanPhp(std::string_view lower, const HitSlice& first, Best* b) {
  const std::size_t n = lower.size();
  if (first[kPhpOpenFull] != std::string_view::npos) {
    b->Up(0.9f, "code.php-open-tag", first[kPhpOpenFull], 16);
  } else if (first[kPhpOpenEcho] != std::string_view::npos) {
    b->Up(0.85f, "code.php-open-tag", first[kPhpOpenEcho], 16);
  } else {
    std::size_t p = first[kPhpOpen];
    if (p != std::string_view::npos && p + 2 < n &&
        (IsSpaceChar(lower[p + 2]) || lower[p + 2] == '$')) {
      b->Up(0.7f, "code.php-open-tag", p, 16);
    }
  }
  // Superglobals.
  constexpr std::size_t kNumSg = std::size(kPhpSuperglobals);
  const HitSlice sg_hits = first.Sub(kPhpSg);
  for (std::size_t gi = sg_hits.Next(0, kNumSg); gi < kNumSg; gi = sg_hits.Next(gi + 1, kNumSg)) {
    std::string_view g = kPhpSuperglobals[gi];
    std::size_t p = first[kPhpSg + gi];
    if (p != std::string_view::npos &&
        (p + g.size() >= n || !IsIdentChar(static_cast<unsigned char>(lower[p + g.size()])))) {
      b->Up(0.85f, "code.php-superglobal", p, g.size() + 8);
    }
  }
  // Function calls (identifier boundary before, '(' after): none without a '('.
  const std::size_t call_end = Find(lower, '(') == std::string_view::npos ? 0 : n;
  for (std::size_t i = 0; i < call_end;) {
    if (!HasClass(lower[i], kWordStart)) {
      ++i;
      continue;
    }
    std::size_t s = i;
    while (i < n && HasClass(lower[i], kPhpName)) ++i;
    if (s > 0 && (IsIdentChar(static_cast<unsigned char>(lower[s - 1])) || lower[s - 1] == '.' ||
                  lower[s - 1] == '-')) {
      continue;
    }
    // Neither '(' nor a gap next: not a call (CalledAt's answer, without the call).
    if (i >= n || (lower[i] != '(' && !HasClass(lower[i], kGapStart))) continue;
    std::string_view w = lower.substr(s, i - s);
    std::size_t bs = w.find_last_of('\\');
    if (bs != std::string_view::npos) w = w.substr(bs + 1);  // \system(...)
    if (!CalledAt(lower, i)) continue;
    // A block comment between a PHP-only function's name and its '(' hides the call from
    // keyword filters ("gzuncompress/*x*/()"); prose does not put one there. Names other
    // languages share ("file", "printf") only in statement position (above).
    if (lower[i] != '(') {
      std::size_t k = SkipPhpGap(lower, i);
      if (Find(lower.substr(i, k - i), "/*") != std::string_view::npos &&
          (InArray(w, std::begin(kPhpStrong), std::end(kPhpStrong)) ||
           InArray(w, std::begin(kPhpRisky), std::end(kPhpRisky)) || PhpFamily(w))) {
        b->Up(0.6f, "code.php-comment-call", s, k - s + 1);
      }
    }
    if (InArray(w, std::begin(kPhpStrong), std::end(kPhpStrong))) {
      // An argument that is code-like makes it certain: system('id'), eval($_POST[x]).
      std::size_t open = Find(lower, '(', i);
      std::string_view args = lower.substr(open + 1, std::min<std::size_t>(n - open - 1, 64));
      bool adjacent = open == i;
      bool nested_call = false;
      if (!args.empty() && IsAsciiAlpha(static_cast<unsigned char>(args[0]))) {
        std::size_t k = 0;
        while (k < args.size() && IsIdentChar(static_cast<unsigned char>(args[k]))) ++k;
        nested_call = k < args.size() && args[k] == '(';
      }
      // "assert()s", "eval()ed": a call's parentheses glued to a word ending, prose naming the
      // function ("These two new assert()s make the code ...").
      if (args.size() >= 2 && args[0] == ')' && IsAsciiAlpha(static_cast<unsigned char>(args[1]))) {
        continue;
      }
      bool code_arg = !args.empty() && (args[0] == '\'' || args[0] == '"' || args[0] == '$' ||
                                        args[0] == ')' || args[0] == '`' || nested_call);
      float score = code_arg ? 0.85f : 0.45f;
      if (!adjacent && !code_arg) score = 0.3f;
      b->Up(score, "code.php-function", s, i - s + 16);
    } else if (lower[i] == '(' && GluedPhpName(w)) {
      b->Up(0.6f, "code.php-function", s, i - s + 16);
    } else if (InArray(w, std::begin(kPhpExec), std::end(kPhpExec))) {
      std::size_t open = Find(lower, '(', i);
      std::string_view args = lower.substr(open + 1, std::min<std::size_t>(n - open - 1, 64));
      bool code_arg = !args.empty() && (args[0] == '$' || args[0] == '`' ||
                                        Find(args, "$_") != std::string_view::npos);
      if (code_arg) b->Up(0.75f, "code.php-function", s, i - s + 16);
    }
  }
  // Variable functions and variable variables: $x(...), $_[...](...), ${'_GET'}
  // The '$'s of one run of name bytes ("$$$$...", "$a$b$c...") share where it ends: found
  // once, or a value of them is quadratic (60 KB of "$$" took a second).
  std::size_t ident_from = 1;
  std::size_t ident_end = 0;
  for (std::size_t p = Find(lower, '$'); p != std::string_view::npos; p = Find(lower, '$', p + 1)) {
    std::size_t i = p + 1;
    if (i < n && lower[i] == '{') {
      std::size_t close = FindWithin(lower, '}', i, 64);
      if (close != std::string_view::npos && close - i < 64 &&
          (lower[i + 1] == '\'' || lower[i + 1] == '"' || lower[i + 1] == '$')) {
        b->Up(0.75f, "code.php-variable-variable", p, close - p + 1);
      }
      continue;
    }
    std::size_t s = i;
    if (s >= ident_from && s <= ident_end) {
      i = ident_end;
    } else {
      while (i < n && IsIdentChar(static_cast<unsigned char>(lower[i]))) ++i;
      ident_from = s;
      ident_end = i;
    }
    // PHP variable names never start with a digit: "$5 (approx)" is a price.
    if (i == s || IsAsciiDigit(static_cast<unsigned char>(lower[s]))) continue;
    // $x[...][...](...)
    std::size_t k = i;
    int brackets = 0;
    while (k < n && lower[k] == '[' && brackets < 4) {
      int depth = 0;
      std::size_t j = k;
      for (; j < n; ++j) {
        if (lower[j] == '[') ++depth;
        if (lower[j] == ']' && --depth == 0) break;
      }
      if (j >= n) break;
      k = j + 1;
      ++brackets;
    }
    std::size_t after = SkipSpaces(lower, k);
    if (after < n && lower[after] == '(') {
      // $x(...) where the name looks obfuscated or indexes into a superglobal
      std::string_view name = lower.substr(s, i - s);
      bool obfuscated =
          (Find(name, '_') != std::string_view::npos || brackets > 0 || name.size() <= 2 ||
           FindFirstOf(name, "0123456789") != std::string_view::npos) &&
          CallCloses(lower, after);
      if (obfuscated || after == k) {
        b->Up(obfuscated ? 0.8f : 0.45f, "code.php-variable-function", p, after - p + 8);
      }
    }
  }
  // PHP 8 callable tricks: (system)('id'), [system][0]('id'), "system"('id')
  constexpr std::size_t kNumCall = std::size(kPhpCallableNames);
  const HitSlice call_hits = first.Sub(kPhpCall);
  for (std::size_t fi = call_hits.Next(0, kNumCall); fi < kNumCall;
       fi = call_hits.Next(fi + 1, kNumCall)) {
    std::string_view f = kPhpCallableNames[fi];
    for (std::size_t p = first[kPhpCall + fi]; p != std::string_view::npos;
         p = Find(lower, f, p + 1)) {
      if (p == 0) continue;
      char open = lower[p - 1];
      char close = p + f.size() < n ? lower[p + f.size()] : '\0';
      bool wrapped = (open == '(' && close == ')') || (open == '[' && close == ']') ||
                     ((open == '"' || open == '\'') && close == open);
      if (!wrapped) continue;
      std::size_t k = p + f.size() + 1;
      if (open == '[' && lower.substr(k, 3) == "[0]") k += 3;
      if (k < n && lower[k] == '(') b->Up(0.8f, "code.php-callable-trick", p - 1, k - p + 8);
    }
  }
  // ::$variable() (static variable call) and Foo::{$x}
  if (first[kPhpStaticVar] != std::string_view::npos) {
    std::size_t p = first[kPhpStaticVar];
    std::size_t k = p + 3;
    while (k < n && IsIdentChar(static_cast<unsigned char>(lower[k]))) ++k;
    if (CalledAt(lower, k)) b->Up(0.75f, "code.php-variable-function", p, k - p + 2);
  }
  // Serialized PHP objects: O:8:"stdClass":1:{...}
  for (std::size_t p = first[kPhpSerialized]; p != std::string_view::npos;
       p = Find(lower, "o:", p + 1)) {
    if (p > 0 && IsIdentChar(static_cast<unsigned char>(lower[p - 1]))) continue;
    std::size_t k = p + 2;
    if (k < n && (lower[k] == '+' || lower[k] == '-')) ++k;
    std::size_t d = k;
    while (k < n && IsAsciiDigit(static_cast<unsigned char>(lower[k]))) ++k;
    if (k == d || k + 1 >= n || lower[k] != ':' || lower[k + 1] != '"') continue;
    std::size_t q = Find(lower, '"', k + 2);
    if (q == std::string_view::npos || q + 2 >= n || lower[q + 1] != ':') continue;
    b->Up(0.85f, "code.php-serialized-object", p, q - p + 8);
    break;
  }
  // PHP stream wrappers.
  constexpr std::size_t kNumWrap = std::size(kPhpWrappers);
  const HitSlice wrapper_hits = first.Sub(kPhpWrap);
  for (std::size_t wi = wrapper_hits.Next(0, kNumWrap); wi < kNumWrap;
       wi = wrapper_hits.Next(wi + 1, kNumWrap)) {
    std::size_t p = first[kPhpWrap + wi];
    if (p != std::string_view::npos) {
      b->Up(0.85f, "code.php-wrapper", p, kPhpWrappers[wi].size() + 16);
    }
  }
  if (first[kPhpDataWrapper] != std::string_view::npos) {
    b->Up(0.7f, "code.php-wrapper", first[kPhpDataWrapper], 24);
  }
}

// A whole value that is a data: URI of plain text or PHP source ("data:text/plain;base64,
// PD9waHAg..."): PHP's include/file_get_contents read it as code or a file without any
// "//" (allow_url_include). Images and HTML data URIs are other detectors' business.
void ScanDataUriInclude(std::string_view lower, Best* b) {
  std::size_t k = lower.find_first_not_of(" \t\"'");
  if (k == std::string_view::npos) return;
  std::string_view rest = lower.substr(k);
  for (std::string_view t : {"data:text/plain", "data:application/x-httpd-php",
                             "data:application/x-php", "data:text/x-php"}) {
    if (!StartsWith(rest, t)) continue;
    std::size_t comma = Find(rest, ',', t.size());
    if (comma == std::string_view::npos || comma - t.size() > 64) continue;
    b->Up(0.6f, "code.data-uri-include", k, std::min<std::size_t>(rest.size(), 48));
    return;
  }
}

// Java / JVM expression languages.
constexpr std::string_view kJavaDangerous[] = {
    "runtime",
    "processbuilder",
    "processimpl",
    "scriptenginemanager",
    "classloader",
    "urlclassloader",
    "objectinputstream",
    "objectoutputstream",
    "fileoutputstream",
    "fileinputstream",
    "filewriter",
    "filereader",
    "invokertransformer",
    "instantiatetransformer",
    "chainedtransformer",
    "constanttransformer",
    "clonetransformer",
    "forclosure",
    "whileclosure",
    "instantiatefactory",
    "prototypeclonefactory",
    "prototypeserializationfactory",
    "templatesimpl",
    "annotationinvocationhandler",
    "badattributevalueexpexception",
    "jdbcrowsetimpl",
    "xmldecoder",
    "xstream",
    "methodutils",
    "reflectionutils",
    "beanutils",
    "invoker",
    "method",
    "unsafe",
    "jndi",
    "initialcontext",
    "socket",
    "serversocket",
    "printwriter",
    "bufferedreader",
    "inputstreamreader",
    "pipedinputstream",
    "pipedoutputstream",
    "pipedreader",
    "pipedwriter",
    "filterinputstream",
    "filteroutputstream",
    "pushbackinputstream",
    "sequenceinputstream",
    "randomaccessfile",
    "scriptengine",
    "nashorn",
    "groovyshell",
    "eval",
    "exec",
    "forname",
    "getmethod",
    "getdeclaredmethod",
    "newinstance",
    "invoke",
    "defineclass",
    "getruntime",
    "start",
    "system",
};

// Names ScanJava looks for, found in one pass: packages, gadget class names, reflection
// calls, then OGNL/SpEL/Spring markers.
constexpr std::string_view kJavaPackages[] = {"java.",
                                              "javax.",
                                              "com.sun.",
                                              "sun.",
                                              "jdk.",
                                              "org.apache.commons",
                                              "org.omg.corba",
                                              "org.apache.xalan",
                                              "org.codehaus.groovy",
                                              "org.springframework.",
                                              "org.mozilla.javascript",
                                              "com.opensymphony.",
                                              "ognl.",
                                              "bsh.",
                                              "freemarker.template.utility",
                                              "com.alibaba.fastjson",
                                              "org.hibernate.",
                                              "com.mchange.",
                                              "org.yaml.snakeyaml",
                                              "com.bea."};
constexpr std::string_view kJavaGadgets[] = {
    "processbuilder", "getruntime", "invokertransformer", "chainedtransformer", "templatesimpl",
    "scriptenginemanager", "xmldecoder", "jdbcrowsetimpl", "classloader", "objectinputstream",
    "forclosure", "clonetransformer", "whileclosure", "instantiatefactory", "prototypeclonefactory",
    "prototypeserializationfactory", "instantiatetransformer",
    // Spring contexts that load bean definitions
    // from a URL (Jackson / WebLogic gadgets).
    "filesystemxmlapplicationcontext", "classpathxmlapplicationcontext"};
constexpr std::string_view kJavaReflection[] = {
    "getclass()",    ".forname(", "getdeclaredmethod(", ".newinstance(",
    ".getruntime()", ".exec(",    "getclassloader(",    ".defineclass("};
constexpr std::size_t kJavaPkg = 0;
constexpr std::size_t kJavaGadget = kJavaPkg + std::size(kJavaPackages);
constexpr std::size_t kJavaRefl = kJavaGadget + std::size(kJavaGadgets);
constexpr std::size_t kJavaMemberAccess = kJavaRefl + std::size(kJavaReflection);
constexpr std::size_t kJavaContext = kJavaMemberAccess + 1;
constexpr std::size_t kJavaAtOgnlContext = kJavaMemberAccess + 2;
constexpr std::size_t kJavaOgnlContextAt = kJavaMemberAccess + 3;
constexpr std::size_t kJavaTypeRef = kJavaMemberAccess + 4;
constexpr std::size_t kJavaModuleLoader = kJavaMemberAccess + 5;
constexpr std::size_t kJavaClassLoader = kJavaMemberAccess + 6;
constexpr std::size_t kJavaClassDot = kJavaMemberAccess + 7;
constexpr std::size_t kJavaNeedleCount = kJavaMemberAccess + 8;

constexpr auto kJavaNeedles = [] {
  std::array<std::string_view, kJavaNeedleCount> a{};
  std::size_t i = 0;
  for (std::string_view w : kJavaPackages) a[i++] = w;
  for (std::string_view w : kJavaGadgets) a[i++] = w;
  for (std::string_view w : kJavaReflection) a[i++] = w;
  a[kJavaMemberAccess] = "_memberaccess";
  a[kJavaContext] = "#context[";
  a[kJavaAtOgnlContext] = "@ognlcontext";
  a[kJavaOgnlContextAt] = "ognlcontext@";
  a[kJavaTypeRef] = "t(";
  a[kJavaModuleLoader] = "class.module.classloader";
  a[kJavaClassLoader] = "class.classloader";
  a[kJavaClassDot] = "class.";
  return a;
}();

// `first`: where each of kJavaNeedles first occurs in `lower`.
void ScanJava(std::string_view lower, const HitSlice& first, Best* b) {
  const std::size_t n = lower.size();
  // Package-qualified class names.
  constexpr std::size_t kNumPkg = std::size(kJavaPackages);
  const HitSlice package_hits = first.Sub(kJavaPkg);
  for (std::size_t pi = package_hits.Next(0, kNumPkg); pi < kNumPkg;
       pi = package_hits.Next(pi + 1, kNumPkg)) {
    std::string_view pkg = kJavaPackages[pi];
    for (std::size_t p = first[kJavaPkg + pi]; p != std::string_view::npos;
         p = Find(lower, pkg, p + 1)) {
      if (p > 0 && (IsIdentChar(static_cast<unsigned char>(lower[p - 1])) || lower[p - 1] == '.')) {
        continue;
      }
      std::size_t e = p + pkg.size();
      // A gadget library's root package, named alone, is a probe for it; it must end there:
      // "org.apache.commonsx" is another name, "org.apache.commons:commons-text:1.10" a build
      // coordinate. (The other names without a trailing '.' match only with more after them.)
      const bool root = pkg == "org.apache.commons" || pkg == "org.omg.corba";
      if (root && e < n &&
          (IsIdentChar(static_cast<unsigned char>(lower[e])) || lower[e] == ':' ||
           lower[e] == '-')) {
        continue;
      }
      while (e < n && (IsIdentChar(static_cast<unsigned char>(lower[e])) || lower[e] == '.')) ++e;
      // A period that ends a sentence ("classes like java.io. Classes in ...") is no part of
      // the name.
      while (e > p + pkg.size() && lower[e - 1] == '.' && (e == n || lower[e] == ' ')) --e;
      std::string_view chain = lower.substr(p, e - p);
      if (chain.size() < pkg.size() || (chain.size() == pkg.size() && !root)) continue;
      int dots = static_cast<int>(std::count(chain.begin(), chain.end(), '.'));
      std::string_view last = chain.substr(chain.find_last_of('.') + 1);
      bool dangerous = InArray(last, std::begin(kJavaDangerous), std::end(kJavaDangerous));
      for (std::string_view seg :
           {".runtime", ".processbuilder", ".scriptengine", ".classloader", ".objectinputstream",
            ".functors", ".reflect", ".script", ".io.", ".lang.", ".net."}) {
        if (Find(chain, seg) != std::string_view::npos) dangerous = true;
      }
      // A stack-trace frame ("at java.lang.Thread.run(Thread.java:833)", "(Native Method)")
      // names where code was, posted to error trackers; no payload carries a source line.
      if (e < n && lower[e] == '(') {
        std::size_t close = Find(lower, ')', e);
        std::string_view src = lower.substr(
            e + 1, close == std::string_view::npos ? 0 : std::min<std::size_t>(close - e - 1, 96));
        bool line_ref = false;
        std::size_t jc = Find(src, ".java:");
        if (jc != std::string_view::npos && jc > 0 && jc + 6 < src.size()) {
          line_ref = true;
          for (char c : src.substr(jc + 6)) line_ref &= IsAsciiDigit(static_cast<unsigned char>(c));
        }
        if (line_ref || src == "native method" || src == "unknown source") continue;
      }
      // A JDK 9+ frame's module ("java.base/java.lang.Thread.run(...)") before the class.
      if (e + 1 < n && lower[e] == '/' && dots == 1 &&
          (StartsWith(lower.substr(e + 1), "java.") || StartsWith(lower.substr(e + 1), "jdk.") ||
           StartsWith(lower.substr(e + 1), "javax.") || StartsWith(lower.substr(e + 1), "sun."))) {
        continue;
      }
      // Throwable types ("java.lang.NullPointerException", "java.io.IOError") are what error
      // reports name; no gadget chain or expression needs one.
      if (EndsWith(last, "exception") || EndsWith(last, "error")) {
        b->Up(0.35f, "code.java-class", p, chain.size());
        continue;
      }
      // A plain type name ("java.util.List", "javax.servlet.http") as a word of prose or a
      // search is documentation; used, it is called, instantiated or referenced by an
      // expression ("new java.util.Scanner(", "@java.util.x@", "T(java.util.Date)").
      bool used = e < n && (lower[e] == '(' || lower[e] == '@' || lower[e] == ')' ||
                            lower[e] == '[' || lower[e] == '$' || lower[e] == ',');
      if (p > 0) {
        char c = lower[p - 1];
        used |= c == '(' || c == '@' || c == '#' || c == '[' || c == ',' || c == '"' || c == '\'' ||
                c == '=' || c == '{' || c == '<' || c == '>' || c == ':';
        used |= p >= 4 && lower.substr(p - 4, 4) == "new ";
      }
      // Only the public standard library: vendor and JDK-internal packages named in a value
      // (com.sun.org.apache..., com.opensymphony.xwork2) are gadget and OGNL targets.
      bool public_api = StartsWith(chain, "java.") || StartsWith(chain, "javax.");
      // A bare public package ("java.io", "javax.script") named in text is documentation too.
      if (dots == 1 && !used && public_api && !dangerous) {
        b->Up(0.45f, "code.java-class", p, chain.size());
        continue;
      }
      if (dots >= 2 && !dangerous && !used && public_api) {
        b->Up(0.45f, "code.java-class", p, chain.size());
        continue;
      }
      if (dots >= 2)
        b->Up(dangerous ? 0.9f : 0.75f, "code.java-class", p, chain.size());
      else if (pkg != "sun." && pkg != "bsh." && pkg != "ognl." && pkg != "jdk.") {
        b->Up(0.6f, "code.java-class", p, chain.size());
      }
    }
  }
  // Gadget / dangerous names used bare (ProcessBuilder.evil..., Runtime.getRuntime()).
  constexpr std::size_t kNumGadget = std::size(kJavaGadgets);
  const HitSlice gadget_hits = first.Sub(kJavaGadget);
  for (std::size_t gi = gadget_hits.Next(0, kNumGadget); gi < kNumGadget;
       gi = gadget_hits.Next(gi + 1, kNumGadget)) {
    std::string_view w = kJavaGadgets[gi];
    std::size_t p = first[kJavaGadget + gi];
    if (p != std::string_view::npos) {
      bool boundary = p == 0 || !IsAsciiAlpha(static_cast<unsigned char>(lower[p - 1]));
      if (boundary) b->Up(0.8f, "code.java-gadget", p, w.size() + 16);
    }
  }
  // Reflection chains: .getclass().forname(, .getmethod(, .invoke(
  constexpr std::size_t kNumRefl = std::size(kJavaReflection);
  const HitSlice reflection_hits = first.Sub(kJavaRefl);
  for (std::size_t ri = reflection_hits.Next(0, kNumRefl); ri < kNumRefl;
       ri = reflection_hits.Next(ri + 1, kNumRefl)) {
    std::string_view w = kJavaReflection[ri];
    std::size_t p = first[kJavaRefl + ri];
    if (p != std::string_view::npos) b->Up(0.8f, "code.java-reflection", p, w.size() + 16);
  }
  // OGNL / Struts: %{...}, #_memberAccess, @java.lang.Runtime@getRuntime()
  if (first[kJavaMemberAccess] != std::string_view::npos ||
      first[kJavaContext] != std::string_view::npos ||
      first[kJavaAtOgnlContext] != std::string_view::npos ||
      first[kJavaOgnlContextAt] != std::string_view::npos) {
    b->Up(0.9f, "code.ognl", Find(lower, '#') == std::string_view::npos ? 0 : Find(lower, '#'), 32);
  }
  for (std::size_t p = Find(lower, '@'); p != std::string_view::npos; p = Find(lower, '@', p + 1)) {
    std::size_t e = p + 1;
    while (e < n && (IsIdentChar(static_cast<unsigned char>(lower[e])) || lower[e] == '.')) ++e;
    if (e < n && lower[e] == '@' &&
        lower.substr(p + 1, e - p - 1).find('.') != std::string_view::npos &&
        (StartsWith(lower.substr(p + 1), "java") || StartsWith(lower.substr(p + 1), "org."))) {
      b->Up(0.9f, "code.ognl", p, e - p + 16);
    }
  }
  // Spring EL type reference: T(java.lang.Runtime)
  for (std::size_t p = first[kJavaTypeRef]; p != std::string_view::npos;
       p = Find(lower, "t(", p + 1)) {
    if (p > 0 && IsIdentChar(static_cast<unsigned char>(lower[p - 1]))) continue;
    std::size_t k = SkipSpaces(lower, p + 2);
    if (StartsWith(lower.substr(k), "java.") || StartsWith(lower.substr(k), "org.") ||
        StartsWith(lower.substr(k), "javax.")) {
      b->Up(0.92f, "code.spel", p, 32);
    }
  }
  // Spring4Shell class.module.classLoader / class.classLoader
  if (first[kJavaModuleLoader] != std::string_view::npos ||
      first[kJavaClassLoader] != std::string_view::npos) {
    b->Up(0.9f, "code.spring-classloader", first[kJavaClassDot], 32);
  }
  // Java serialization stream (raw or base64).
  // Java serialization stream magic AC ED 00 05 at the start of a value (the normaliser
  // drops the NUL), or its base64 / hex spellings.
  if (StartsWith(lower, "ro0ab")) b->Up(0.85f, "code.java-serialized", 0, 16);
  if (StartsWith(lower, std::string_view("\xac\xed\x00\x05", 4)) ||
      StartsWith(lower, std::string_view("\xac\xed\x05", 3))) {
    b->Up(0.9f, "code.java-serialized", 0, 8);
  }
  if (StartsWith(lower, "aced0005")) b->Up(0.8f, "code.java-serialized", 0, 16);
}

// Names and markers of Node.js, Python, Ruby, ASP and .NET code (ScanNodePythonRuby).
struct Pat {
  std::string_view text;
  float score;
  const char* rule;
};
constexpr Pat kPats[] = {
    {"child_process", 0.9f, "code.node-child-process"},
    {"process.mainmodule", 0.9f, "code.node-process"},
    {"process.binding", 0.9f, "code.node-process"},
    {"process.env", 0.75f, "code.node-process"},
    {"process.kill", 0.8f, "code.node-process"},
    {"process.exit", 0.75f, "code.node-process"},
    {"global.process", 0.85f, "code.node-process"},
    {"require(", 0.55f, "code.node-require"},
    {"require[", 0.7f, "code.node-require"},
    {"__proto__", 0.85f, "code.prototype-pollution"},
    {"constructor.prototype", 0.85f, "code.prototype-pollution"},
    {"constructor[", 0.6f, "code.prototype-pollution"},
    {"[constructor]", 0.8f, "code.prototype-pollution"},
    {"constructor.constructor", 0.9f, "code.js-function-constructor"},
    {"_$$nd_func$$_", 0.95f, "code.node-serialize"},
    {"__js_function", 0.85f, "code.node-serialize"},
    {":constructor:constructor", 0.9f, "code.js-function-constructor"},
    {":__proto__", 0.85f, "code.prototype-pollution"},
    {"module:prototype", 0.85f, "code.prototype-pollution"},
    {"new function(", 0.75f, "code.js-function-constructor"},
    {"__class__", 0.85f, "code.python-object-walk"},
    {"__mro__", 0.9f, "code.python-object-walk"},
    {"__subclasses__", 0.9f, "code.python-object-walk"},
    {"__globals__", 0.9f, "code.python-object-walk"},
    {"__builtins__", 0.9f, "code.python-object-walk"},
    {"__import__", 0.9f, "code.python-import"},
    {"__getattribute__", 0.8f, "code.python-object-walk"},
    {"__init__.__globals__", 0.95f, "code.python-object-walk"},
    {"os.system(", 0.9f, "code.python-os"},
    {"os.popen(", 0.9f, "code.python-os"},
    {"subprocess.", 0.85f, "code.python-subprocess"},
    {"!!python/", 0.9f, "code.yaml-deserialization"},
    {"!!javax.", 0.9f, "code.yaml-deserialization"},
    {"!!java.", 0.9f, "code.yaml-deserialization"},
    {"!ruby/object", 0.9f, "code.yaml-deserialization"},
    {"pickle.loads", 0.85f, "code.python-pickle"},
    {"kernel.exec", 0.9f, "code.ruby-exec"},
    {"kernel.system", 0.9f, "code.ruby-exec"},
    {"io.popen", 0.9f, "code.ruby-exec"},
    {"open3.", 0.8f, "code.ruby-exec"},
    {"instance_eval", 0.8f, "code.ruby-eval"},
    {"class_eval", 0.8f, "code.ruby-eval"},
    {".send(:", 0.7f, "code.ruby-send"},
    {"%x(", 0.6f, "code.ruby-exec"},
    {"wscript.shell", 0.9f, "code.asp-shell"},
    {"server.createobject", 0.85f, "code.asp-object"},
    {"createobject(", 0.8f, "code.asp-object"},
    {"execute(", 0.5f, "code.asp-execute"},
    {"response.write", 0.7f, "code.asp-write"},
    {"scripting.filesystemobject", 0.9f, "code.asp-fso"},
    {"system.diagnostics.process", 0.9f, "code.dotnet-process"},
    {"[system.", 0.6f, "code.dotnet-type"},
    {"while(1)", 0.6f, "code.js-dos"},
    {"while(+1)", 0.7f, "code.js-dos"},
    {"while(true)", 0.6f, "code.js-dos"},
    {"for(;;)", 0.6f, "code.js-dos"},
    {"import os", 0.7f, "code.python-import"},
    {"import socket", 0.8f, "code.python-import"},
    {"import subprocess", 0.9f, "code.python-import"},
};
// Interpreter calls that run a string: eval("..."), exec("..."), spawnSync(`...`).
constexpr std::string_view kEvalCalls[] = {"eval",         "exec",  "system",    "execfile",
                                           "compile",      "spawn", "spawnsync", "execsync",
                                           "execfilesync", "popen", "getattr",   "setattr"};
constexpr std::size_t kNumPats = std::size(kPats);
constexpr std::size_t kNumEval = std::size(kEvalCalls);
// The names ScanNodePythonRuby looks for: kPats, kEvalCalls, then these.
constexpr std::size_t kNprWhile = kNumPats + kNumEval;
constexpr std::size_t kNprNew = kNprWhile + 1;
constexpr std::size_t kNprProcessIndex = kNprWhile + 2;
constexpr std::size_t kNprPerlArray = kNprWhile + 3;
constexpr std::size_t kNprJsFuck = kNprWhile + 4;
constexpr std::size_t kNprFunction = kNprWhile + 5;
constexpr std::size_t kNprConsole = kNprWhile + 6;
constexpr std::size_t kNprNeedleCount = kNprWhile + 7;
constexpr auto kNprNeedles = [] {
  std::array<std::string_view, kNprNeedleCount> a{};
  for (std::size_t i = 0; i < kNumPats; ++i) a[i] = kPats[i].text;
  for (std::size_t i = 0; i < kNumEval; ++i) a[kNumPats + i] = kEvalCalls[i];
  a[kNprWhile] = "while";
  a[kNprNew] = "new";
  a[kNprProcessIndex] = "process[";
  a[kNprPerlArray] = "@{";
  a[kNprJsFuck] = "![]";
  a[kNprFunction] = "function";
  a[kNprConsole] = "console";
  return a;
}();

// Node's export object written to or reached into as the whole one-line value
// ("module.exports=", "module.exports.run"). It is code in any source file an editor saves;
// only as a statement of its own is it an injected probe. Out of line: few values start so.
[[gnu::noinline]] void ScanModuleExports(std::string_view lower, Best* b) {
  const std::size_t n = lower.size();
  const std::size_t k = SkipSpaces(lower, 0);
  if (lower.substr(k, 14) != "module.exports" || Find(lower, '\n') != std::string_view::npos)
    return;
  const std::size_t e = SkipSpaces(lower, k + 14);
  const bool assigned = e < n && lower[e] == '=' && (e + 1 >= n || lower[e + 1] != '=');
  const bool member =
      e + 1 < n && (lower[e] == '[' ||
                    (lower[e] == '.' && IsIdentChar(static_cast<unsigned char>(lower[e + 1]))));
  if (assigned || member) b->Up(0.7f, "code.node-module", k, n - k);
}

// `first`: where each of kNprNeedles first occurs in `lower`.
void ScanNodePythonRuby(std::string_view lower, const HitSlice& first, Best* b) {
  const std::size_t n = lower.size();
  // while(<constant truthy>) busy loops: while(1), while(!![]), while(!false), while(this)
  for (std::size_t p = first[kNprWhile] == std::string_view::npos
                           ? std::string_view::npos
                           : FindWord(lower, "while", first[kNprWhile]);
       p != std::string_view::npos; p = FindWord(lower, "while", p + 1)) {
    std::size_t k = SkipSpaces(lower, p + 5);
    if (k >= n || lower[k] != '(') continue;
    std::size_t close = Find(lower, ')', k);
    while (close != std::string_view::npos && close + 1 < n && lower[close + 1] == ')') ++close;
    std::string_view cond =
        lower.substr(k + 1, (close == std::string_view::npos ? n : close) - k - 1);
    bool constant = !cond.empty() && cond.size() < 32;
    std::size_t i = 0;
    while (constant && i < cond.size()) {
      std::string_view rest = cond.substr(i);
      bool word = false;
      // Truthy constants, including constructors and objects ("while(String)", "while(new
      // Date)").
      for (std::string_view w :
           {"true",   "false", "this",   "infinity", "null",       "undefined", "nan",
            "new ",   "date",  "string", "number",   "object",     "array",     "boolean",
            "symbol", "math",  "json",   "window",   "globalthis", "self"}) {
        if (StartsWith(rest, w)) {
          i += w.size();
          word = true;
          break;
        }
      }
      if (word) continue;
      char c = cond[i];
      constant = c == '!' || c == '+' || c == '-' || c == '~' || c == '(' || c == ')' || c == '[' ||
                 c == ']' || c == '"' || c == '\'' || c == ' ' || c == '`' || c == '{' ||
                 c == '}' || IsAsciiDigit(static_cast<unsigned char>(c));
      ++i;
    }
    if (constant) b->Up(0.75f, "code.js-dos", p, cond.size() + 8);
  }
  // new Function (...) with spaces before the parenthesis.
  bool new_function =
      first[kNprNew] != std::string_view::npos && first[kNprFunction] != std::string_view::npos;
  for (std::size_t p = new_function ? FindWord(lower, "new", first[kNprNew])
                                    : std::string_view::npos;
       p != std::string_view::npos; p = FindWord(lower, "new", p + 1)) {
    std::size_t k = SkipSpaces(lower, p + 3);
    if (lower.substr(k, 8) != "function") continue;
    k = SkipSpaces(lower, k + 8);
    if (k < n && lower[k] == '(') b->Up(0.75f, "code.js-function-constructor", p, k - p + 8);
  }
  // A server-side JavaScript probe as the whole value: console.log(1), console["info"](1).
  if (first[kNprConsole] != std::string_view::npos) {
    std::size_t k = SkipSpaces(lower, 0);
    std::string_view rest = lower.substr(k);
    // One statement: a line ending in a newline as typed into a REPL counts as one.
    while (!rest.empty() && IsSpaceChar(static_cast<unsigned char>(rest.back())))
      rest.remove_suffix(1);
    if ((StartsWith(rest, "console.") || StartsWith(rest, "console[")) &&
        Find(rest, '(') != std::string_view::npos && rest.size() < 128 &&
        Find(rest, '\n') == std::string_view::npos) {
      b->Up(0.6f, "code.js-console-probe", k, rest.size());
    }
  }
  if (n <= 128 && n >= 15 &&
      (lower[0] == 'm' || IsSpaceChar(static_cast<unsigned char>(lower[0])))) {
    ScanModuleExports(lower, b);
  }
  // Perl "@{[ expr ]}": an anonymous array dereferenced inside a string runs expr when the
  // string is interpolated (string-eval templates, qq{} in CGI scripts).
  for (std::size_t p = first[kNprPerlArray]; p != std::string_view::npos;
       p = Find(lower, "@{", p + 2)) {
    std::size_t k = SkipSpaces(lower, p + 2);
    if (k >= n || lower[k] != '[') continue;
    // The array ends at the ']' the '}' follows: the expression may index ("[a][b]").
    std::size_t close = Find(lower, ']', k + 1);
    std::size_t e = n;
    while (close != std::string_view::npos && close - k <= 256) {
      e = SkipSpaces(lower, close + 1);
      if (e < n && lower[e] == '}') break;
      close = Find(lower, ']', close + 1);
    }
    if (close == std::string_view::npos || close - k > 256) continue;
    if (e < n && lower[e] == '}' && close > SkipSpaces(lower, k + 1)) {
      b->Up(0.75f, "code.perl-interpolation", p, e + 1 - p);
      break;
    }
  }
  // JSFuck-style encoding: only []()!+ characters (at least 90%). The "![]" test first: the
  // count is a pass over every byte.
  if (n >= 12 && first[kNprJsFuck] != std::string_view::npos) {
    std::size_t sym = 0;
    for (char c : lower)
      sym += c == '[' || c == ']' || c == '(' || c == ')' || c == '!' || c == '+';
    if (sym * 10 >= n * 9) b->Up(0.85f, "code.jsfuck", 0, std::min<std::size_t>(n, 32));
  }
  if (first[kNprProcessIndex] != std::string_view::npos) {
    b->Up(0.7f, "code.node-process", first[kNprProcessIndex], 24);
  }
  for (std::size_t i = first.Next(0, kNumPats); i < kNumPats; i = first.Next(i + 1, kNumPats)) {
    const Pat& p = kPats[i];
    std::size_t pos = first[i];
    // require('child_process') style calls need a string argument.
    if (p.text == "require(") {
      std::size_t k = SkipSpaces(lower, pos + p.text.size());
      if (k >= n || (lower[k] != '\'' && lower[k] != '"' && lower[k] != '`')) continue;
      // Pure helpers ('path', 'util', 'url', 'assert', 'events', 'crypto') give no access to
      // files, processes or the network: a snippet loading them is ordinary Node code.
      std::string_view mod = lower.substr(k + 1, 16);
      if (StartsWith(mod, "node:")) mod.remove_prefix(5);
      bool helper = false;
      for (std::string_view h : {"path", "util", "url", "assert", "events", "crypto", "querystring",
                                 "string_decoder", "punycode"}) {
        helper |= StartsWith(mod, h) && mod.size() > h.size() && mod[h.size()] == lower[k];
      }
      if (helper) continue;
    }
    // require[...] is Node's loader reached without a call's name, only where an expression
    // has it: not inside a longer name ("prerequire[").
    if (p.text == "require[" && pos > 0 &&
        (IsIdentChar(static_cast<unsigned char>(lower[pos - 1])) || lower[pos - 1] == '.')) {
      continue;
    }
    // "subprocess.py" / "open3.rb": a module's file name (a traceback frame), not a member.
    if (p.text.back() == '.') {
      std::size_t e = pos + p.text.size();
      std::string_view ext = lower.substr(e, 2);
      if ((ext == "py" || ext == "rb") &&
          (e + 2 >= n || !IsIdentChar(static_cast<unsigned char>(lower[e + 2])))) {
        continue;
      }
    }
    // "child_process-promise" / "child_process-ext": another npm package's name.
    if (p.text == "child_process" && pos + p.text.size() + 1 < n &&
        lower[pos + p.text.size()] == '-' &&
        IsAsciiAlnum(static_cast<unsigned char>(lower[pos + p.text.size() + 1]))) {
      continue;
    }
    if (p.text == "execute(" && pos > 0 &&
        IsIdentChar(static_cast<unsigned char>(lower[pos - 1]))) {
      continue;
    }
    // An attribute named in text ("use GObject.__class__ instead of ..."): an object walk
    // goes on from __class__ (.__mro__, .__base__, .__init__, ["..."]).
    if (p.text == "__class__") {
      std::size_t e = pos + p.text.size();
      bool walks =
          e < n && (lower[e] == '.' || lower[e] == '[' || lower[e] == '|' || lower[e] == ')' ||
                    lower[e] == '}' || lower[e] == '\'' || lower[e] == '"');
      if (!walks) {
        b->Up(0.45f, p.rule, pos, p.text.size());
        continue;
      }
    }
    // CreateObject() / Execute() with nothing to create or run: a name in prose
    // ("`createObject()` allocates a new object", "the corresponding execute() function").
    if ((p.text == "execute(" || p.text == "createobject(") &&
        SkipSpaces(lower, pos + p.text.size()) < n &&
        lower[SkipSpaces(lower, pos + p.text.size())] == ')') {
      continue;
    }
    // "import os" is a Python statement only where a statement starts (value or line start,
    // after ';', a quote or a brace) and only for that whole module name: "we import
    // oscilloscopes" and "import socketio" are neither.
    if (StartsWith(p.text, "import ")) {
      std::size_t at = std::string_view::npos;
      for (std::size_t q = pos; q != std::string_view::npos && at == std::string_view::npos;
           q = Find(lower, p.text, q + 1)) {
        std::size_t e = q + p.text.size();
        if (e < n && IsIdentChar(static_cast<unsigned char>(lower[e]))) continue;
        std::size_t k = q;
        while (k > 0 && (lower[k - 1] == ' ' || lower[k - 1] == '\t')) --k;
        char before = k == 0 ? '\n' : lower[k - 1];
        if (before == '\n' || before == '\r' || before == ';' || before == '"' || before == '\'' ||
            before == '`' || before == '(' || before == '{' || before == ':') {
          at = q;
        }
      }
      if (at == std::string_view::npos) continue;
      pos = at;
    }
    b->Up(p.score, p.rule, pos, p.text.size() + 24);
  }
  // eval("...") / exec("...") / system("...") generic interpreter calls with string argument.
  const HitSlice eval_hits = first.Sub(kNumPats);
  for (std::size_t i = eval_hits.Next(0, kNumEval); i < kNumEval;
       i = eval_hits.Next(i + 1, kNumEval)) {
    std::string_view f = kEvalCalls[i];
    for (std::size_t p = FindWord(lower, f, eval_hits[i]); p != std::string_view::npos;
         p = FindWord(lower, f, p + 1)) {
      std::size_t k = SkipSpaces(lower, p + f.size());
      if (k >= n || lower[k] != '(') continue;
      std::size_t a = SkipSpaces(lower, k + 1);
      if (a < n && (lower[a] == '\'' || lower[a] == '"' || lower[a] == '`' ||
                    StartsWith(lower.substr(a), "base64") || StartsWith(lower.substr(a), "atob") ||
                    StartsWith(lower.substr(a), "compile") || StartsWith(lower.substr(a), "__"))) {
        b->Up(0.75f, "code.eval-call", p, k - p + 24);
      }
    }
  }
}

// A control statement over plain names ("if user %}", "for item in items %}"): what a
// template editor saves. A constant condition ("if True %}49", the probe that shows whether
// the server evaluates templates), import, include and set are not; the caller also keeps
// statements with a call ("for x in range(3)").
bool TemplateAuthoring(std::string_view stmt) {
  if (StartsWith(stmt, "if ")) {
    const std::size_t k = SkipSpaces(stmt, 3);
    if (k >= stmt.size()) return false;
    const char c = stmt[k];
    if (IsAsciiDigit(static_cast<unsigned char>(c)) || c == '\'' || c == '"' || c == '(' ||
        c == '!') {
      return false;
    }
    const std::string_view word = stmt.substr(k, 5);
    return !StartsWith(word, "true") && !StartsWith(word, "false") && !StartsWith(word, "none") &&
           !StartsWith(word, "not ");
  }
  return StartsWith(stmt, "for ");
}

// Names an expression walks to reach code: Python's dunder attributes, Jinja's globals, Java's
// reflection, JavaScript's constructor.
constexpr std::string_view kTemplateWalk[] = {
    "__",       "class",   "config", "self",        "request", "import",
    "getclass", "runtime", "lipsum", "cycler",      "joiner",  "namespace",
    "exec",     "popen",   "system", "constructor", "smarty",  "product.getclass"};

template <std::size_t... I>
std::array<WindowFinder, sizeof...(I)> WalkFinders(std::string_view lower,
                                                   std::index_sequence<I...>) {
  return {WindowFinder(lower, kTemplateWalk[I])...};
}

// Template delimiters around an expression.
void ScanSsti(std::string_view lower, Best* b, bool* any) {
  const std::size_t n = lower.size();
  struct Delim {
    std::string_view open;
    std::string_view close;
  };
  static constexpr Delim kDelims[] = {{"{{", "}}"}, {"${", "}"},  {"#{", "}"},  {"<%=", "%>"},
                                      {"<%", "%>"}, {"{%", "%}"}, {"*{", "}"},  {"@{", "}"},
                                      {"[[", "]]"}, {"{#", "#}"}, {"${{", "}}"}};
  // Each opener's window is up to 512 bytes; a value of thousands of openers ("{{{{...",
  // "${${...") has as many windows, overlapping. Past the first few openers the questions
  // asked of every window are answered from one pass over the value each (WindowFinder,
  // ArithmeticWindows): 60 KB of "{{" took 28 ms when every window was searched anew.
  constexpr std::size_t kPerWindowOpeners = 16;
  std::size_t openers = 0;
  std::optional<ArithmeticWindows> arith_windows;
  for (const Delim& d : kDelims) {
    ForwardFinder closer(lower, d.close);
    std::optional<std::array<WindowFinder, std::size(kTemplateWalk)>> walk_finders;
    std::optional<WindowFinder> call_finder;
    std::optional<WindowFinder> dot_finder;
    for (std::size_t p = Find(lower, d.open); p != std::string_view::npos;
         p = Find(lower, d.open, p + 1)) {
      std::size_t start = p + d.open.size();
      std::size_t close = closer.From(start);
      std::string_view inner =
          lower.substr(start, (close == std::string_view::npos ? n : close) - start);
      inner = inner.substr(0, 512);
      if (inner.empty()) continue;
      const std::size_t end = start + inner.size();
      const bool per_window = ++openers <= kPerWindowOpeners;
      // Thymeleaf inlines "[[${...}]]" ("[[*{...}]]", "[[#{...}]]"); other double brackets
      // are wiki and Markdown links ("[[#129](https://...)]"), POSIX classes ("[[:punct:]]")
      // and the shell's "[[" test, unless they close around arithmetic ("[[7*7]]", the probe
      // for client-side templates set to "[[" delimiters).
      bool inline_marker = true;
      if (d.open == "[[") {
        std::size_t e = SkipSpaces(inner, 0);
        inline_marker = e + 1 < inner.size() && inner[e + 1] == '{' &&
                        (inner[e] == '$' || inner[e] == '*' || inner[e] == '#' || inner[e] == '@' ||
                         inner[e] == '~');
      }
      // Expression content: arithmetic on numbers, attribute walks, calls, filters.
      bool arith = false;
      if (per_window) {
        arith = ArithmeticIn(inner);
      } else {
        if (!arith_windows) arith_windows.emplace(lower);
        arith = arith_windows->In(start, end);
      }
      if (!inline_marker && !(arith && close != std::string_view::npos)) continue;
      *any = true;
      if (!walk_finders) {
        walk_finders.emplace(
            WalkFinders(lower, std::make_index_sequence<std::size(kTemplateWalk)>()));
        call_finder.emplace(lower, "(");
        dot_finder.emplace(lower, ".");
      }
      bool walk = false;
      for (WindowFinder& f : *walk_finders) {
        if (f.Contains(start, end)) {
          walk = true;
          break;
        }
      }
      bool call = call_finder->Contains(start, end);
      // Control statements: Jinja/Twig "{% if %}", and ERB/Mako/EJS "<% if ... %>" closed
      // by "%>" (the server evaluates the condition).
      std::string_view stmt = lower.substr(SkipSpaces(lower, start));
      bool erb = (d.open == "<%" || d.open == "<%=") && close != std::string_view::npos;
      bool control = (d.open == "{%" || erb) &&
                     (StartsWith(stmt, "import") || StartsWith(stmt, "for ") ||
                      StartsWith(stmt, "set ") || StartsWith(stmt, "include") ||
                      StartsWith(stmt, "if ") || (erb && StartsWith(stmt, "while ")));
      float s = 0;
      if (walk && (call || dot_finder->Contains(start, end)))
        s = 0.9f;
      else if (arith)
        s = 0.85f;
      else if (control)
        s = !call && TemplateAuthoring(stmt) ? 0.45f : 0.75f;
      else if (call && d.open != "${")
        s = 0.6f;
      else if (walk)
        s = 0.6f;
      b->Up(s, "ssti.template-expression", p, std::min<std::size_t>(n - p, inner.size() + 4));
    }
  }
  // FreeMarker / Velocity / Smarty directives.
  for (std::string_view w :
       {"<#assign", "<#include", "?new()", "freemarker.template", "#set(", "$class.inspect",
        "{php}", "{system(", "{$smarty", "#foreach", "#evaluate"}) {
    std::size_t p = Find(lower, w);
    if (p != std::string_view::npos) b->Up(0.85f, "ssti.template-directive", p, w.size() + 16);
  }
}

// Whether `lower` has one of what ScanSsti looks for first: '{', "<%", "<#", "[[", "#set",
// "#foreach". Short values (most) in one pass; long ones by memchr-driven searches.
// The template-engine fuzz string: the openers of three or more engines in a short run of
// punctuation (${{<%[%'"}}%\.), sent to see which one errors. No text people write
// packs them together without words.
void ScanTemplatePolyglot(std::string_view lower, Best* b) {
  if (lower.size() > 48) return;
  static constexpr std::string_view kOpeners[] = {"${", "{{", "<%", "[%", "#{", "{%", "*{", "@{"};
  int kinds = 0;
  for (std::string_view o : kOpeners) kinds += Find(lower, o) != std::string_view::npos;
  if (kinds < 3) return;
  int letters = 0;
  for (char c : lower) letters += IsAsciiAlpha(static_cast<unsigned char>(c));
  if (letters <= 4) b->Up(0.75f, "ssti.polyglot-probe", 0, lower.size());
}

bool MaySsti(std::string_view lower) {
  constexpr std::size_t kShort = 64;
  if (lower.size() > kShort) {
    return Find(lower, '{') != std::string_view::npos ||
           Find(lower, "<%") != std::string_view::npos ||
           Find(lower, "<#") != std::string_view::npos ||
           Find(lower, "[[") != std::string_view::npos ||
           Find(lower, "#set") != std::string_view::npos ||
           Find(lower, "#foreach") != std::string_view::npos;
  }
  for (std::size_t i = 0; i < lower.size(); ++i) {
    char c = lower[i];
    if (c == '{') return true;
    if (c != '<' && c != '[' && c != '#') continue;
    std::string_view rest = lower.substr(i + 1);
    if ((c == '<' && (rest.starts_with('%') || rest.starts_with('#'))) ||
        (c == '[' && rest.starts_with('[')) ||
        (c == '#' && (rest.starts_with("set"sv) || rest.starts_with("foreach"sv)))) {
      return true;
    }
  }
  return false;
}

// Resolves Log4j lookups that only rewrite text: ${lower:x} ${upper:x} ${::-x} ${env:X:-x}
// ${date:'x'} -> x. Bounded passes, into the arena.
std::string_view ResolveLookups(std::string_view lower, Arena& arena) {
  std::string_view cur = lower;
  for (int pass = 0; pass < 6; ++pass) {
    std::size_t p = std::string_view::npos;
    // Innermost lookup: a "${" whose body has no further "${" before its "}".
    for (std::size_t q = Find(cur, "${"); q != std::string_view::npos; q = Find(cur, "${", q + 1)) {
      std::size_t close = Find(cur, '}', q + 2);
      if (close == std::string_view::npos) break;
      std::size_t nested = Find(cur, "${", q + 2);
      if (nested != std::string_view::npos && nested < close) continue;
      std::string_view body = cur.substr(q + 2, close - q - 2);
      if (StartsWith(body, "jndi:")) continue;  // the payload itself
      if (Find(body, ':') == std::string_view::npos) continue;
      p = q;
      break;
    }
    if (p == std::string_view::npos) return cur;
    std::size_t close = Find(cur, '}', p + 2);
    std::string_view body = cur.substr(p + 2, close - p - 2);
    std::string_view repl;
    std::size_t dflt = Find(body, ":-");
    if (dflt != std::string_view::npos) {
      repl = body.substr(dflt + 2);
    } else {
      std::size_t colon = Find(body, ':');
      repl = body.substr(colon + 1);
      if (repl.size() >= 2 && (repl.front() == '\'' || repl.front() == '"')) {
        repl = repl.substr(1, repl.size() - 2);
      }
    }
    char* out = arena.Allocate(cur.size());
    std::size_t o = 0;
    std::memcpy(out, cur.data(), p);
    o += p;
    std::memcpy(out + o, repl.data(), repl.size());
    o += repl.size();
    std::memcpy(out + o, cur.data() + close + 1, cur.size() - close - 1);
    o += cur.size() - close - 1;
    arena.ShrinkLast(out, o);
    cur = {out, o};
  }
  return cur;
}

// A Java serialization stream (magic AC ED 00 05) in base64 at any of the three byte
// alignments: "rO0AB" (stream at a group boundary), "?ztAA[U-X]" (one byte before it) and
// "??s7QAF" (two bytes before it). Base64 is case-sensitive, so the canonical text is
// compared; the header must open its base64 run (up to one 4-character group of leading
// bytes), as a gadget chain posted in a cookie, a form field or a ViewState does. Random
// base64 (images, tokens) would need these exact 5-6 characters at its very start.
void ScanJavaSerializedBase64(const ValueView& v, Best* b) {
  std::string_view lower = v.lower;
  std::string_view text = v.text;
  if (text.size() != lower.size()) return;
  struct Mark {
    std::string_view low;
    std::string_view exact;
  };
  static constexpr Mark kMarks[] = {{"ro0ab", "rO0AB"}, {"ztaa", "ztAA"}, {"s7qaf", "s7QAF"}};
  auto base64_char = [](char c) {
    return IsAsciiAlnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '-' ||
           c == '_';
  };
  for (const Mark& m : kMarks) {
    for (std::size_t p = Find(lower, m.low); p != std::string_view::npos;
         p = Find(lower, m.low, p + 1)) {
      if (text.substr(p, m.exact.size()) != m.exact) continue;
      if (m.exact == "ztAA" && !(p + 4 < text.size() && text[p + 4] >= 'U' && text[p + 4] <= 'X')) {
        continue;
      }
      std::size_t s = p;
      while (s > 0 && p - s <= 4 && base64_char(text[s - 1])) --s;
      if (p - s > 3 || (s > 0 && base64_char(text[s - 1]))) continue;
      b->Up(0.85f, "code.java-serialized", p, 16);
      return;
    }
  }
}

// Python pickles that import a function able to run commands or code. Protocol 0-2 names it
// with the GLOBAL opcode as text lines ("cos\nsystem\n", "c__builtin__\neval\n"); protocols
// 2-5, sent base64-encoded in a cookie or argument ("gASV..."), name module and function as
// length-prefixed strings. Unpickling such a value runs the call (Flask/Django pickle
// sessions, ML model uploads, job queues).
bool DangerousPickleImport(std::string_view module, std::string_view name) {
  if (module == "os" || module == "posix" || module == "nt") {
    return name == "system" || name.starts_with("popen"sv) || name.starts_with("exec"sv) ||
           name.starts_with("spawn"sv);
  }
  // Protocols 0-2 write subprocess as the Python 2 name "commands".
  if (module == "subprocess" || module == "commands") {
    return name == "popen" || name == "call" || name == "run" || name.starts_with("check_"sv) ||
           name.starts_with("getoutput"sv) || name == "getstatusoutput";
  }
  if (module == "builtins" || module == "__builtin__") {
    return name == "eval" || name == "exec" || name == "__import__" || name == "compile" ||
           name == "getattr" || name == "apply";
  }
  return module == "pty" && name == "spawn";
}

// Where a GLOBAL opcode in the first `limit` bytes of `s` imports a dangerous function: 'c',
// the module, a newline, the name, a newline ("cos\nsystem\n"); npos when none.
std::size_t PickleGlobal(std::string_view s, std::size_t limit, std::size_t* end) {
  s = s.substr(0, limit);
  auto ident = [](char ch) { return IsIdentChar(static_cast<unsigned char>(ch)) || ch == '.'; };
  for (std::size_t nl = Find(s, '\n'); nl != std::string_view::npos; nl = Find(s, '\n', nl + 1)) {
    std::size_t t = nl;
    while (t > 0 && nl - t < 32 && ident(s[t - 1])) --t;
    // The token is the opcode and the module ("cposix"); the opcode may also follow another
    // opcode's byte ("(cos", "\x8ccos").
    while (t < nl && s[t] != 'c') ++t;
    if (t + 1 >= nl) continue;
    std::size_t e = nl + 1;
    while (e < s.size() && e - nl < 32 && ident(s[e])) ++e;
    if (e >= s.size() || s[e] != '\n') continue;
    // The opcode before 'c' (none, or a mark, a memo put, a newline) and the one after the
    // name (memo put, mark, a string or tuple for the call's arguments): lines of a letter
    // that happen to read "cos" and "system" have words around them.
    const char before = t == 0 ? '\n' : s[t - 1];
    const char next = e + 1 < s.size() ? s[e + 1] : '.';
    if (!(before == '\n' || before == '(' || before == '.' || before == ')' ||
          static_cast<unsigned char>(before) >= 0x80 || before < 0x20) ||
        !(next == 'p' || next == 'q' || next == '(' || next == 'S' || next == 'V' || next == 'X' ||
          next == 'N' || next == 'R' || next == 't' || next == ')' || next == '.' ||
          static_cast<unsigned char>(next) >= 0x80)) {
      continue;
    }
    char module[32];
    char name[32];
    const std::size_t ml = nl - t - 1;
    const std::size_t nlen = e - nl - 1;
    if (ml == 0 || ml > sizeof(module) || nlen == 0 || nlen > sizeof(name)) continue;
    for (std::size_t k = 0; k < ml; ++k) module[k] = ToLowerAscii(s[t + 1 + k]);
    for (std::size_t k = 0; k < nlen; ++k) name[k] = ToLowerAscii(s[nl + 1 + k]);
    if (DangerousPickleImport({module, ml}, {name, nlen})) {
      *end = e;
      return t;
    }
  }
  return std::string_view::npos;
}

// Out of line: its 1 KiB buffer and loops stay out of DetectCodeInjection's frame, which every
// value passes through; pickles are rare.
[[gnu::noinline]] void ScanPythonPickle(const ValueView& v, Best* b) {
  // Protocol 0-2 as text. Exploits open with the import; a value's first 256 bytes are read
  // (every multi-line form post comes through here).
  std::size_t end = 0;
  std::size_t at = PickleGlobal(v.lower, 256, &end);
  if (at != std::string_view::npos) {
    b->Up(0.9f, "code.python-pickle", at, end - at);
    return;
  }
  // Protocols 2-5 in base64: "\x80" and the protocol byte encode as "gA" and one of I..X;
  // protocols 0-1 open with the GLOBAL opcode 'c', encoded as 'Y'.
  std::string_view text = TrimSpaces(v.text);
  if (text.size() < 24 ||
      !(text[0] == 'Y' || (text[0] == 'g' && text[1] == 'A' && text[2] >= 'I' && text[2] <= 'X'))) {
    return;
  }
  char out[1024];
  std::size_t consumed = 0;
  const std::size_t o = DecodeBase64Run(text, out, sizeof(out), &consumed);
  const std::string_view decoded(out, o);
  if (PickleGlobal(decoded, decoded.size(), &end) != std::string_view::npos) {
    b->Up(0.9f, "code.python-pickle", 0, text.size());
    return;
  }
  // Protocol 4-5 STACK_GLOBAL: module and function as length-prefixed strings
  // (SHORT_BINUNICODE), the function within a few opcode bytes of the module.
  auto string_at = [&](std::size_t i, std::string_view* str) {
    const std::size_t len = static_cast<unsigned char>(out[i]);
    if (len == 0 || len > 24 || i + 1 + len > o) return false;
    *str = decoded.substr(i + 1, len);
    for (char ch : *str) {
      if (!(IsIdentChar(static_cast<unsigned char>(ch)) || ch == '.')) return false;
    }
    return true;
  };
  for (std::size_t i = 2; i + 2 < o; ++i) {
    std::string_view module;
    if (!string_at(i, &module)) continue;
    const std::size_t after = i + 1 + module.size();
    for (std::size_t j = after; j < after + 12 && j < o; ++j) {
      std::string_view name;
      if (!string_at(j, &name) || name.size() > 24) continue;
      char lowered[24];
      for (std::size_t k = 0; k < name.size(); ++k) lowered[k] = ToLowerAscii(name[k]);
      if (DangerousPickleImport(module, {lowered, name.size()})) {
        b->Up(0.9f, "code.python-pickle", 0, text.size());
        return;
      }
    }
  }
}

// Strings DetectCodeInjection's tests for which scans to run look for.
constexpr std::string_view kGateNeedles[] = {
    "<?", "://", "o:", "php", "t(", "ro0ab", "processbuilder", "ztaa", "s7qaf", "data:"};
enum Gate : std::size_t {
  kGateOpenTag,
  kGateUrl,
  kGateObject,
  kGatePhp,
  kGateTypeRef,
  kGateSerialized,
  kGateProcessBuilder,
  kGateSerialized1,
  kGateSerialized2,
  kGateData,
};
static_assert(std::size(kGateNeedles) == kGateData + 1);

// A Java serialization stream's magic at the start, raw or as hex ("aced0005").
bool JavaStreamMagicAt(std::string_view lower) {
  if (lower.size() < 2) return false;
  if (lower[0] == '\xac') return lower[1] == '\xed';
  return lower[0] == 'a' && lower.size() >= 4 && lower[1] == 'c' && lower[2] == 'e' &&
         lower[3] == 'd';
}

// Every fixed name list the scans of DetectCodeInjection look for in `lower`, end to end, so
// one pass finds them all; each scan reads its slice.
constexpr std::size_t kSliceGates = 0;
constexpr std::size_t kSlicePhp = kSliceGates + std::size(kGateNeedles);
constexpr std::size_t kSliceMarkers = kSlicePhp + kPhpNeedleCount;
constexpr std::size_t kSliceDirectives = kSliceMarkers + std::size(kPhpMarkers);
constexpr std::size_t kSliceJava = kSliceDirectives + std::size(kPhpDirectives);
constexpr std::size_t kSliceNpr = kSliceJava + kJavaNeedleCount;
constexpr std::size_t kCodeNeedleCount = kSliceNpr + kNprNeedleCount;
using CodeScan = NeedleScan<kCodeNeedleCount>;

const CodeScan& CodeNeedles() {
  static constexpr auto kNeedles = [] {
    std::array<std::string_view, kCodeNeedleCount> a{};
    std::size_t i = 0;
    for (std::string_view w : kGateNeedles) a[i++] = w;
    for (std::string_view w : kPhpNeedles) a[i++] = w;
    for (std::string_view w : kPhpMarkers) a[i++] = w;
    for (std::string_view w : kPhpDirectives) a[i++] = w;
    for (std::string_view w : kJavaNeedles) a[i++] = w;
    for (std::string_view w : kNprNeedles) a[i++] = w;
    return a;
  }();
  static const CodeScan kScan(kNeedles);
  return kScan;
}

// A value that is only the name of a PHP function whose job is to run code or commands given
// as data ("call_user_func_array", "shell_exec"): routers that dispatch to a function named
// in the request (ThinkPHP's invokefunction, callback parameters) run it with the next
// parameters as its arguments. Each name has an underscore and is no word or setting of its
// own; names that are (system, exec, assert, passthru: a proxy mode) are left to the call
// forms.
void ScanCallbackName(std::string_view lower, Best* b) {
  if (lower.size() < 8 || lower.size() > 40 || lower.find('_') == std::string_view::npos) return;
  const std::size_t b0 = SkipSpaces(lower, 0);
  lower = TrimSpaces(lower);
  static constexpr std::string_view kCallbacks[] = {
      "call_user_func", "call_user_func_array", "shell_exec",          "proc_open",
      "pcntl_exec",     "create_function",      "forward_static_call", "forward_static_call_array"};
  for (std::string_view name : kCallbacks) {
    if (lower == name) {
      b->Up(0.6f, "code.php-callback-name", b0, lower.size());
      return;
    }
  }
}

// A JSON key "prototype" inside a "constructor" object ({"constructor":{"prototype":{...}}}):
// a deep merge of the document walks obj.constructor.prototype and writes to every object's
// prototype, the same pollution as a "__proto__" key. Only the key path shows it: each key is
// inspected as its own value. The document may be a body or JSON carried in an argument, a
// cookie or a header.
void ScanPrototypeKey(const ValueView& v, Best* b) {
  const Field& f = *v.field;
  if (f.part != Part::kName || v.lower != "prototype") return;
  constexpr std::string_view kPath = "constructor.prototype";
  if (!f.name.ends_with(kPath)) return;
  const std::size_t at = f.name.size() - kPath.size();
  if (at == 0 || f.name[at - 1] == '.' || f.name[at - 1] == ']') {
    b->Up(0.85f, "code.prototype-pollution", 0, v.lower.size());
  }
}

// Drupal's render arrays: form keys starting with '#' are properties, and "#post_render",
// "#lazy_builder" or "#pre_render" name callables (Drupalgeddon 2). A form only ever
// submits element names, so an argument key "[#letter" is one.
void ScanRenderArrayKey(const ValueView& v, Best* b) {
  const Field& f = *v.field;
  if (f.part != Part::kName) return;
  for (std::size_t p = f.name.find("[#"); p != std::string_view::npos;
       p = f.name.find("[#", p + 2)) {
    if (p + 2 < f.name.size() && IsAsciiAlpha(static_cast<unsigned char>(f.name[p + 2]))) {
      b->Up(0.8f, "code.render-array-injection", 0, v.lower.size());
      return;
    }
  }
}

// Groovy runs a string, or a list of strings, as a command with .execute() ("'id'.execute()",
// "['sh','-c','id'].execute()"): Jenkins' script console and OFBiz's groovyProgram took it as
// code. No other language gives a string literal an execute() method ("jobs[i].execute()"
// is an ordinary call).
void ScanGroovyExecute(std::string_view lower, Best* b) {
  auto quote = [](char c) { return c == '\'' || c == '"'; };
  for (std::size_t p = Find(lower, ".execute("); p != std::string_view::npos;
       p = Find(lower, ".execute(", p + 9)) {
    if ((p > 0 && quote(lower[p - 1])) || (p > 1 && lower[p - 1] == ']' && quote(lower[p - 2]))) {
      b->Up(0.85f, "code.groovy-execute", p > 16 ? p - 16 : 0, 32);
      return;
    }
  }
}

// A JDBC URL with a driver property that runs code or reads files when the application
// connects: H2's INIT= (RUNSCRIPT, CREATE ALIAS / TRIGGER) and TRACE_LEVEL_SYSTEM_OUT,
// MySQL Connector/J's autoDeserialize, interceptors and local-infile, PostgreSQL's
// socketFactory and sslfactory class names, logger files. Data-source forms (Metabase, Superset,
// Druid, DolphinScheduler, Spring's H2 console) passed such URLs to DriverManager.
void ScanJdbcUrl(std::string_view lower, Best* b) {
  static constexpr std::string_view kProperties[] = {"init=",
                                                     "autodeserialize",
                                                     "interceptors=",
                                                     "allowloadlocalinfile",
                                                     "socketfactory",
                                                     "sslfactory",
                                                     "allowurlinlocalinfile",
                                                     "authenticationpluginclassname",
                                                     "loggerfile",
                                                     "trace_level_system_out"};
  for (std::size_t p = Find(lower, "jdbc:"); p != std::string_view::npos;
       p = Find(lower, "jdbc:", p + 5)) {
    // The URL itself: up to white space, a quote or markup (a document that explains
    // driver properties in prose around a URL is not one).
    std::size_t e = p + 5;
    while (e < lower.size() && e - p < 2048 && !IsSpaceChar(static_cast<unsigned char>(lower[e])) &&
           lower[e] != '\'' && lower[e] != '"' && lower[e] != '<' && lower[e] != '>') {
      ++e;
    }
    const std::string_view url = lower.substr(p, e - p);
    for (std::string_view k : kProperties) {
      const std::size_t at = Find(url, k);
      if (at != std::string_view::npos) {
        b->Up(0.85f, "code.jdbc-url-injection", p, at + k.size());
        return;
      }
    }
  }
}

}  // namespace

void DetectCodeInjection(const ValueView& v, DetectorScratch& scratch, FindingSink& sink) {
  std::string_view lower = v.lower;
  const ByteSet bytes(lower);
  CodeScan::Hits hits;
  CodeNeedles().Run(lower, &hits);
  const HitSlice gate = hits.Slice(kSliceGates);
  auto has = [&gate](Gate g) { return gate[g] != std::string_view::npos; };
  Best b;
  bool maybe_php =
      bytes.Has('$') || bytes.Has('(') || has(kGateOpenTag) || has(kGateUrl) || has(kGateObject);
  if (maybe_php) {
    ScanPhp(lower, hits.Slice(kSlicePhp), &b);
    ScanPhpSkeleton(lower, hits.Slice(kSliceMarkers), *scratch.arena, &b);
  }
  if (bytes.Has('$') || bytes.Has('=')) {
    ScanPhpExtras(lower, hits.Slice(kSliceDirectives), &b);
  }
  if (bytes.Has('(')) ScanPhpStatementCalls(lower, &b);
  if (has(kGateOpenTag) || has(kGatePhp)) {
    ScanPhpOpenTags(lower, &b);
  }
  ScanUploadName(v, &b);
  ScanCallbackName(lower, &b);
  ScanPrototypeKey(v, &b);
  ScanRenderArrayKey(v, &b);
  if (bytes.Has('(')) ScanGroovyExecute(lower, &b);
  if (bytes.Has(':')) ScanJdbcUrl(lower, &b);
  if (has(kGateData)) ScanDataUriInclude(lower, &b);
  // OGNL's "#_memberAccess[...]" and "#context[...]" need neither '.' nor '@'.
  const HitSlice java = hits.Slice(kSliceJava);
  if (bytes.Has('.') || bytes.Has('@') || has(kGateTypeRef) || has(kGateSerialized) ||
      JavaStreamMagicAt(lower) || has(kGateProcessBuilder) ||
      java[kJavaMemberAccess] != std::string_view::npos ||
      java[kJavaContext] != std::string_view::npos) {
    ScanJava(lower, java, &b);
  }
  ScanNodePythonRuby(lower, hits.Slice(kSliceNpr), &b);
  {
    // Pickles: a text import in the first 256 bytes, or base64 ("gA...", "Y...").
    const std::string_view head = TrimSpaces(v.text);
    const bool newline = lower.size() <= ByteSet::kShortBytes
                             ? bytes.Has('\n')
                             : Find(lower.substr(0, 256), '\n') != std::string_view::npos;
    if (newline || (!head.empty() && head[0] == 'Y') ||
        (head.size() >= 2 && head[0] == 'g' && head[1] == 'A')) {
      ScanPythonPickle(v, &b);
    }
  }
  if (has(kGateSerialized) || has(kGateSerialized1) || has(kGateSerialized2)) {
    ScanJavaSerializedBase64(v, &b);
  }
  if (b.score > 0) Report(sink, v, Category::kCodeInjection, b.score, b.rule, b.pos, b.len);
}

void DetectSsti(const ValueView& v, DetectorScratch& scratch, FindingSink& sink) {
  (void)scratch;
  std::string_view lower = v.lower;
  if (!MaySsti(lower)) return;
  Best b;
  bool any = false;
  ScanSsti(lower, &b, &any);
  ScanTemplatePolyglot(lower, &b);
  if (b.score > 0) Report(sink, v, Category::kSsti, b.score, b.rule, b.pos, b.len);
}

void DetectJndi(const ValueView& v, DetectorScratch& scratch, FindingSink& sink) {
  std::string_view lower = v.lower;
  if (Find(lower, "${") == std::string_view::npos) return;
  std::string_view resolved = ResolveLookups(lower, *scratch.arena);
  std::size_t p = Find(resolved, "${jndi:");
  if (p != std::string_view::npos) {
    bool nested =
        resolved.size() != lower.size() || Find(lower, "${jndi:") == std::string_view::npos;
    Report(sink, ValueView{v.field, resolved, resolved, v.norm_flags, v.weight, v.document},
           Category::kJndi, nested ? 0.97f : 0.95f, nested ? "jndi.nested-lookup" : "jndi.lookup",
           p, 48);
    return;
  }
  // Lookups that leak environment or system properties.
  for (std::string_view w :
       {"${env:", "${sys:", "${java:", "${main:", "${bundle:", "${ctx:", "${docker:", "${k8s:",
        "${spring:", "${web:", "${log4j:", "${base64:", "${script:", "${dns:", "${url:"}) {
    std::size_t q = Find(lower, w);
    if (q != std::string_view::npos) {
      Report(sink, v, Category::kJndi, 0.75f, "jndi.lookup-leak", q, w.size() + 24);
      return;
    }
  }
}

}  // namespace shieldx::detect
