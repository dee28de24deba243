// SSRF and remote file inclusion: every URL in a value is parsed (scheme, userinfo, host,
// port) and its host is resolved *syntactically*: IPv4 in dotted, decimal, hex and octal
// forms and with fewer than four parts (inet_aton rules), IPv6 including IPv4-mapped and
// compatible forms, and well-known internal names. Loopback, private, link-local and cloud
// metadata addresses, out-of-band callback domains and dangerous schemes (gopher, dict,
// jar, netdoc, ldap, tftp ...) are reported as SSRF; script URLs on raw IP hosts and URLs
// ending in '?' (suffix truncation) as RFI.
#include <algorithm>
#include <cstdint>
#include <iterator>
#include <optional>

#include "libs/detect/detector.h"
#include "libs/detect/normalize.h"
#include "libs/detect/protocol.h"
#include "libs/detect/text_util.h"

namespace shieldx::detect {

// Literal lists as "..."sv: a braced list of plain literals is an initializer_list of
// pointers, and every turn of the loop over it measured the string (strlen).
using std::string_view_literals::operator""sv;

namespace {

// A set of bytes as a table: one load per byte where the scans below compared a chain.
struct ByteClass {
  bool in[256] = {};
  // `chars` plus, when `spaces`, every byte IsSpaceChar accepts.
  constexpr ByteClass(std::string_view chars, bool spaces) {
    for (char c : chars) in[static_cast<unsigned char>(c)] = true;
    if (spaces) {
      for (char c : std::string_view(" \t\n\r\f\v")) in[static_cast<unsigned char>(c)] = true;
    }
  }
};
// Where a URL's authority ends (also a slashless URL's host).
constexpr ByteClass kAuthorityEnd("/?#\\\"'<>&", true);
// Where a URL ends in a parameter value.
constexpr ByteClass kUrlEnd("\"'&", true);
// Where a bare host ends ("169.254.169.254/latest", "localhost:8080 ...").
constexpr ByteClass kBareHostEnd("/?", true);

// The first i' >= i with s[i'] in `stop`, or s.size().
std::size_t SkipTo(std::string_view s, std::size_t i, const ByteClass& stop) {
  while (i < s.size() && !stop.in[static_cast<unsigned char>(s[i])]) ++i;
  return i;
}

struct Best {
  float score = 0;
  const char* rule = "";
  Category cat = Category::kSsrf;
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

// inet_aton-style IPv4 parse: 1-4 parts, each decimal, 0x hex or 0-prefixed octal.
// `obfuscated` is set for anything but four plain decimal parts.
std::optional<uint32_t> ParseIpv4(std::string_view h, bool* obfuscated) {
  if (h.empty() || h.size() > 64) return std::nullopt;
  uint64_t parts[4];
  int count = 0;
  *obfuscated = false;
  // Every form (decimal, 0x hex, 0-prefixed octal) opens with a digit; names fail here.
  if (!IsAsciiDigit(static_cast<unsigned char>(h[0]))) return std::nullopt;
  std::size_t i = 0;
  while (i <= h.size()) {
    if (count == 4) return std::nullopt;
    std::size_t e = Find(h, '.', i);
    if (e == std::string_view::npos) e = h.size();
    std::string_view p = h.substr(i, e - i);
    if (p.empty()) return std::nullopt;
    uint64_t v = 0;
    if (p.size() > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
      *obfuscated = true;
      for (std::size_t k = 2; k < p.size(); ++k) {
        const int d = HexVal(static_cast<unsigned char>(p[k]));
        if (d < 0 || v > 0xFFFFFFFFull) return std::nullopt;
        v = v * 16 + static_cast<uint64_t>(d);
      }
    } else if (p.size() > 1 && p[0] == '0') {
      *obfuscated = true;
      for (char c : p) {
        if (c < '0' || c > '7' || v > 0xFFFFFFFFull) return std::nullopt;
        v = v * 8 + static_cast<uint64_t>(c - '0');
      }
    } else {
      for (char c : p) {
        if (!IsAsciiDigit(static_cast<unsigned char>(c)) || v > 0xFFFFFFFFull) return std::nullopt;
        v = v * 10 + static_cast<uint64_t>(c - '0');
      }
    }
    parts[count++] = v;
    i = e + 1;
    if (e == h.size()) break;
  }
  if (count != 4) *obfuscated = true;
  uint64_t addr = 0;
  switch (count) {
    case 1:
      if (parts[0] > 0xFFFFFFFFull) return std::nullopt;
      addr = parts[0];
      break;
    case 2:
      if (parts[0] > 255 || parts[1] > 0xFFFFFF) return std::nullopt;
      addr = (parts[0] << 24) | parts[1];
      break;
    case 3:
      if (parts[0] > 255 || parts[1] > 255 || parts[2] > 0xFFFF) return std::nullopt;
      addr = (parts[0] << 24) | (parts[1] << 16) | parts[2];
      break;
    case 4:
      for (int k = 0; k < 4; ++k) {
        if (parts[k] > 255) return std::nullopt;
      }
      addr = (parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3];
      break;
    default:
      return std::nullopt;
  }
  return static_cast<uint32_t>(addr);
}

enum class AddrClass { kPublic, kLoopback, kPrivate, kLinkLocal, kMetadata, kUnspecified };

AddrClass ClassifyV4(uint32_t a) {
  if (a == 0xA9FEA9FE || a == 0xA9FEAA02 || a == 0x646464C8 || a == 0xC00000C0) {
    return AddrClass::kMetadata;  // 169.254.169.254, 169.254.170.2, 100.100.100.200, 192.0.0.192
  }
  if (a == 0) return AddrClass::kUnspecified;
  uint8_t o1 = a >> 24, o2 = (a >> 16) & 0xFF;
  if (o1 == 127) return AddrClass::kLoopback;
  // 0.x.y.z other than 0.0.0.0 cannot be connected to (Linux refuses it): not a target.
  if (o1 == 0) return AddrClass::kPublic;
  if (o1 == 10 || (o1 == 172 && (o2 & 0xF0) == 16) || (o1 == 192 && o2 == 168) ||
      (o1 == 100 && (o2 & 0xC0) == 64)) {
    return AddrClass::kPrivate;
  }
  if (o1 == 169 && o2 == 254) return AddrClass::kLinkLocal;
  return AddrClass::kPublic;
}

// Bracketed or bare IPv6 literal. Only the forms that matter are decoded: ::, ::1,
// ::ffff:a.b.c.d / ::a.b.c.d, ::ffff:hhhh:hhhh, fe80::/10, fc00::/7, fd00:ec2::254.
std::optional<AddrClass> ClassifyV6(std::string_view h, bool* obfuscated) {
  if (Find(h, ':') == std::string_view::npos) return std::nullopt;
  *obfuscated = false;
  std::size_t pct = Find(h, '%');  // zone id
  if (pct != std::string_view::npos) h = h.substr(0, pct);
  if (h == "::") return AddrClass::kUnspecified;
  if (h == "::1" || h == "0:0:0:0:0:0:0:1" || h == "0000:0000:0000:0000:0000:0000:0000:0001") {
    if (h != "::1") *obfuscated = true;
    return AddrClass::kLoopback;
  }
  if (StartsWith(h, "fd00:ec2::254")) return AddrClass::kMetadata;
  if (StartsWith(h, "fe8") || StartsWith(h, "fe9") || StartsWith(h, "fea") ||
      StartsWith(h, "feb")) {
    return AddrClass::kLinkLocal;
  }
  if (StartsWith(h, "fc") || StartsWith(h, "fd")) return AddrClass::kPrivate;
  // IPv4-mapped / compatible.
  std::string_view tail;
  if (StartsWith(h, "::ffff:"))
    tail = h.substr(7);
  else if (StartsWith(h, "0:0:0:0:0:ffff:"))
    tail = h.substr(15);
  else if (StartsWith(h, "::"))
    tail = h.substr(2);
  if (!tail.empty()) {
    *obfuscated = true;
    bool ob = false;
    if (auto v4 = ParseIpv4(tail, &ob)) return ClassifyV4(*v4);
    // hhhh:hhhh
    std::size_t c = Find(tail, ':');
    if (c != std::string_view::npos && c <= 4 && tail.size() - c - 1 <= 4) {
      uint32_t hi = 0, lo = 0;
      for (char ch : tail.substr(0, c)) {
        int d = IsAsciiDigit(static_cast<unsigned char>(ch)) ? ch - '0' : (ch | 0x20) - 'a' + 10;
        hi = hi * 16 + static_cast<uint32_t>(d);
      }
      for (char ch : tail.substr(c + 1)) {
        int d = IsAsciiDigit(static_cast<unsigned char>(ch)) ? ch - '0' : (ch | 0x20) - 'a' + 10;
        lo = lo * 16 + static_cast<uint32_t>(d);
      }
      return ClassifyV4((hi << 16) | lo);
    }
  }
  return AddrClass::kPublic;
}

// EndsWith for the host-name lists: the last bytes first, where most hosts already differ
// (".com" vs ".io"), and inline (a call per name cost more than most comparisons).
inline bool HostEndsWith(std::string_view host, std::string_view suffix) {
  return host.size() >= suffix.size() && host.back() == suffix.back() &&
         host.substr(host.size() - suffix.size()) == suffix;
}

inline bool EndsWithDomain(std::string_view host, std::string_view domain) {
  // Both tests need the same last byte.
  if (host.empty() || host.back() != domain.back()) return false;
  return host == domain.substr(1) || HostEndsWith(host, domain);
}

struct HostVerdict {
  float score = 0;
  const char* rule = "";
};

// Code point of the UTF-8 sequence at s[i] (length in *len), or -1.
int32_t DecodeUtf8(std::string_view s, std::size_t i, std::size_t* len) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    *len = 1;
    return c;
  }
  std::size_t need = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
  if (need == 0 || i + need > s.size()) return -1;
  int32_t cp = c & (0x7F >> need);
  for (std::size_t k = 1; k < need; ++k) {
    unsigned char d = static_cast<unsigned char>(s[i + k]);
    if ((d & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (d & 0x3F);
  }
  *len = need;
  return cp;
}

// The ASCII character a host parser (IDNA mapping) reads for a look-alike code point:
// ideographic and full-width full stops, circled and full-width digits and letters.
char FoldHostCodePoint(int32_t cp) {
  if (cp == 0x3002 || cp == 0xFF0E || cp == 0xFF61) return '.';
  if (cp >= 0x2460 && cp <= 0x2468) return static_cast<char>('1' + (cp - 0x2460));
  if (cp == 0x24EA || cp == 0x24FF) return '0';
  if (cp >= 0x24D0 && cp <= 0x24E9) return static_cast<char>('a' + (cp - 0x24D0));
  if (cp >= 0x24B6 && cp <= 0x24CF) return static_cast<char>('a' + (cp - 0x24B6));
  if (cp >= 0xFF10 && cp <= 0xFF19) return static_cast<char>('0' + (cp - 0xFF10));
  if (cp >= 0xFF41 && cp <= 0xFF5A) return static_cast<char>('a' + (cp - 0xFF41));
  if (cp >= 0xFF21 && cp <= 0xFF3A) return static_cast<char>('a' + (cp - 0xFF21));
  return 0;
}

// Folds look-alike code points in a host into `buf` (capacity kMaxHost); false when the
// host has other non-ASCII characters (an IDN, judged as written) or is too long.
constexpr std::size_t kMaxHost = 255;
bool FoldHost(std::string_view host, char* buf, std::size_t* out_len) {
  std::size_t o = 0;
  for (std::size_t i = 0; i < host.size();) {
    std::size_t len = 1;
    int32_t cp = DecodeUtf8(host, i, &len);
    char c = cp >= 0 && cp < 0x80 ? static_cast<char>(cp) : FoldHostCodePoint(cp);
    if (c == 0 || o >= kMaxHost) return false;
    buf[o++] = c;
    i += len;
  }
  *out_len = o;
  return true;
}

// A single number too wide for IPv4 ("7147006462", "0x41414141a9fea9fe"): parsers that
// keep the low 32 bits connect to that address. Returns it, or nullopt.
std::optional<uint32_t> OverflowedNumericHost(std::string_view h) {
  bool hex = h.size() > 2 && h[0] == '0' && h[1] == 'x';
  std::string_view digits = hex ? h.substr(2) : h;
  if (digits.empty() || digits.size() > 32) return std::nullopt;
  uint64_t v = 0;
  for (char c : digits) {
    int d = IsAsciiDigit(static_cast<unsigned char>(c)) ? c - '0'
            : hex && c >= 'a' && c <= 'f'               ? c - 'a' + 10
                                                        : -1;
    if (d < 0) return std::nullopt;
    v = v * (hex ? 16 : 10) + static_cast<uint64_t>(d);  // wraps like the parsers do
  }
  bool wide =
      hex ? digits.size() > 8 : digits.size() > 10 || (digits.size() == 10 && v > 0xFFFFFFFFull);
  if (!wide) return std::nullopt;
  return static_cast<uint32_t>(v & 0xFFFFFFFFull);
}

HostVerdict JudgeAsciiHost(std::string_view host);

// Digits and dots with fewer than eight digits and no octal part ("0", "10.5", "127.1"):
// as a bare value before a '/', a score, grade or fraction ("0/5", "10.5/20"). Parsers
// read such hosts as addresses ("0" is 0.0.0.0), but only URLs give them that meaning;
// long decimals ("2130706433/admin") and octal parts ("0177.1/x") stay addresses.
bool ShortNumber(std::string_view host) {
  std::size_t digits = 0;
  std::size_t part = 0;
  bool octal = false;
  for (std::size_t i = 0; i <= host.size(); ++i) {
    if (i == host.size() || host[i] == '.') {
      octal |= part >= 3 && host[i - part] == '0';
      part = 0;
      continue;
    }
    if (!IsAsciiDigit(static_cast<unsigned char>(host[i]))) return false;
    ++digits;
    ++part;
  }
  return digits > 0 && digits < 8 && !octal;
}

HostVerdict JudgeHost(std::string_view host) {
  bool ascii = true;
  for (char c : host) ascii &= static_cast<unsigned char>(c) < 0x80;
  if (ascii) return JudgeAsciiHost(host);
  char buf[kMaxHost];
  std::size_t len = 0;
  if (!FoldHost(host, buf, &len)) return {};
  HostVerdict hv = JudgeAsciiHost(std::string_view(buf, len));
  // Look-alike characters that fold to an internal host are an evasion.
  if (hv.score > 0 && hv.score < 0.92f) return {0.92f, "ssrf.obfuscated-internal"};
  return hv;
}

HostVerdict JudgeAsciiHost(std::string_view host) {
  while (!host.empty() && host.back() == '.') host.remove_suffix(1);
  if (host.empty()) return {};
  bool obfuscated = false;
  std::optional<AddrClass> cls;
  if (auto wrapped = OverflowedNumericHost(host)) {
    AddrClass c = ClassifyV4(*wrapped);
    if (c == AddrClass::kPublic) return {0.6f, "ssrf.obfuscated-address"};
    return {c == AddrClass::kMetadata ? 0.95f : 0.92f, "ssrf.obfuscated-internal"};
  }
  if (host.front() == '[') {
    std::size_t close = Find(host, ']');
    cls = ClassifyV6(host.substr(1, close == std::string_view::npos ? host.size() - 1 : close - 1),
                     &obfuscated);
  } else if (auto v4 = ParseIpv4(host, &obfuscated)) {
    cls = ClassifyV4(*v4);
  } else {
    cls = ClassifyV6(host, &obfuscated);
  }
  if (cls) {
    switch (*cls) {
      case AddrClass::kMetadata:
        return {0.95f, "ssrf.cloud-metadata"};
      case AddrClass::kLoopback:
      case AddrClass::kUnspecified:
        // Plain loopback URLs also appear in legitimate configuration forms.
        return {obfuscated ? 0.92f : 0.45f,
                obfuscated ? "ssrf.obfuscated-internal" : "ssrf.loopback"};
      case AddrClass::kLinkLocal:
        return {0.85f, "ssrf.link-local"};
      case AddrClass::kPrivate:
        return {obfuscated ? 0.9f : 0.4f,
                obfuscated ? "ssrf.obfuscated-internal" : "ssrf.private-address"};
      case AddrClass::kPublic:
        return {obfuscated ? 0.6f : 0.0f, "ssrf.obfuscated-address"};
    }
  }
  // Names.
  if (host == "localhost" || HostEndsWith(host, ".localhost") || host == "localhost.localdomain" ||
      host == "ip6-localhost" || host == "ip6-loopback" || host == "ipv6-localhost" ||
      host == "ipv6-loopback") {
    return {0.45f, "ssrf.loopback"};
  }
  for (std::string_view m :
       {"metadata.google.internal"sv, "metadata"sv, "instance-data"sv, "metadata.azure.com"sv,
        "metadata.packet.net"sv, "metadata.oraclecloud.com"sv, "instance-data.ec2.internal"sv}) {
    if (host == m) return {0.95f, "ssrf.cloud-metadata"};
  }
  // Container and cluster names first: they are more specific than the suffixes below.
  if (host == "host.docker.internal" || host == "gateway.docker.internal" ||
      HostEndsWith(host, ".docker.internal") || host == "host.containers.internal" ||
      HostEndsWith(host, ".containers.internal") || host == "localhost4" || host == "localhost6" ||
      StartsWith(host, "localhost4.") || StartsWith(host, "localhost6.")) {
    return {0.8f, "ssrf.internal-name"};
  }
  if (host == "kubernetes.default" || StartsWith(host, "kubernetes.default.")) {
    return {0.8f, "ssrf.internal-name"};
  }
  static constexpr std::string_view kInternalSuffixes[] = {
      ".internal",          ".local",        ".localdomain", ".intranet", ".corp",
      ".svc.cluster.local", ".cluster.local"};
  // Wildcard DNS services that resolve to the embedded address, and rebinding helpers.
  static constexpr std::string_view kRebindingDomains[] = {
      ".nip.io",  ".xip.io", ".sslip.io", ".localtest.me", ".lvh.me",
      ".vcap.me", ".1u.ms",  ".rbndr.us", ".traefik.me"};
  // Every name below ends like the host; most hosts' last byte already differs.
  const char last = host.back();
  for (std::string_view d : kInternalSuffixes) {
    if (d.back() == last && HostEndsWith(host, d)) return {0.7f, "ssrf.internal-name"};
  }
  for (std::string_view d : kRebindingDomains) {
    if (d.back() == last && EndsWithDomain(host, d)) return {0.8f, "ssrf.rebinding-domain"};
  }
  for (std::string_view d : kOutOfBandDomains) {
    if (d.back() == last && EndsWithDomain(host, d)) return {0.85f, "ssrf.oob-callback-domain"};
  }
  return {};
}

// The host of a URL authority: without user information and port ("user@[::1]:6379" ->
// "[::1]", "a@b.example:80" -> "b.example").
std::string_view HostOfAuthority(std::string_view authority) {
  const std::size_t at = authority.rfind('@');
  std::string_view host = at != std::string_view::npos ? authority.substr(at + 1) : authority;
  if (!host.empty() && host.front() == '[') {
    const std::size_t close = Find(host, ']');
    if (close != std::string_view::npos) host = host.substr(0, close + 1);
  } else {
    const std::size_t colon_pos = host.rfind(':');
    if (colon_pos != std::string_view::npos && Find(host, ':') == colon_pos) {
      host = host.substr(0, colon_pos);
    }
  }
  return host;
}

// The port of a URL authority ("user@[::1]:6379" -> "6379"), "" when it names none.
std::string_view PortOf(std::string_view authority) {
  std::size_t at = authority.rfind('@');
  if (at != std::string_view::npos) authority.remove_prefix(at + 1);
  std::size_t colon;
  if (!authority.empty() && authority.front() == '[') {
    std::size_t close = Find(authority, ']');
    if (close == std::string_view::npos || close + 1 >= authority.size() ||
        authority[close + 1] != ':') {
      return {};
    }
    colon = close + 1;
  } else {
    colon = Find(authority, ':');
    if (colon == std::string_view::npos || authority.rfind(':') != colon) return {};
  }
  return authority.substr(colon + 1);
}

// Well-known ports of services that do not speak HTTP: FTP, SSH, Telnet, SMTP, POP3, IMAP,
// SMB, SQL Server, Oracle, MySQL, PostgreSQL, Redis, Memcached, MongoDB.
bool IsNonHttpServicePort(std::string_view port) {
  for (std::string_view p : {"21"sv, "22"sv, "23"sv, "25"sv, "110"sv, "143"sv, "445"sv, "1433"sv,
                             "1521"sv, "3306"sv, "5432"sv, "6379"sv, "11211"sv, "27017"sv}) {
    if (port == p) return true;
  }
  return false;
}

bool IsDangerousScheme(std::string_view s) {
  return s == "gopher" || s == "dict" || s == "jar" || s == "netdoc" || s == "tftp" ||
         s == "ldap" || s == "ldaps" || s == "ldapi" || s == "rmi" || s == "iiop" || s == "sftp" ||
         s == "telnet" || s == "ssh" || s == "smb" || s == "nfs" || s == "fd" ||
         s == "mailto-not" || s == "ogg" || s == "vnc";
}

// Whether the value's byte-pair filter (when it covers `hay`) leaves any of `needles`
// possible; false means none occurs, so a walk for them can be skipped.
template <std::size_t N>
bool AnyMayOccur(std::string_view hay, const std::string_view (&needles)[N]) {
  const BigramFilter* f = current_bigram_filter;
  if (f == nullptr) return true;
  for (std::string_view nd : needles) {
    if (f->MayContain(hay, nd)) return true;
  }
  return false;
}

constexpr std::string_view kSlashlessSchemes[] = {"http:", "https:", "ftp:", "ws:", "wss:"};

// Where each of kSlashlessSchemes first occurs (npos: nowhere), from one pass over the
// colons that end them (five scans of the value for their first letters cost more).
// Returns whether any occurs.
bool FirstSchemes(std::string_view lower, std::size_t* first) {
  std::fill(first, first + std::size(kSlashlessSchemes), std::string_view::npos);
  if (!AnyMayOccur(lower, kSlashlessSchemes)) return false;
  bool any = false;
  for (std::size_t c = Find(lower, ':'); c != std::string_view::npos; c = Find(lower, ':', c + 1)) {
    if (c == 0 || (lower[c - 1] != 'p' && lower[c - 1] != 's')) continue;  // none ends so
    for (std::size_t k = 0; k < std::size(kSlashlessSchemes); ++k) {
      const std::size_t len = kSlashlessSchemes[k].size();
      if (first[k] == std::string_view::npos && c + 1 >= len &&
          lower.substr(c + 1 - len, len) == kSlashlessSchemes[k]) {
        first[k] = c + 1 - len;
        any = true;
      }
    }
  }
  return any;
}

// "http:127.0.0.1", "https:/0xa9fea9fe", "http:[::1]", "http:/\\/169.254.169.254",
// "http:///127.0.0.1": a special scheme followed by anything but "//". WHATWG URL
// parsers (browsers, Node, many HTTP clients) skip any run of '/' and '\\' there and read the
// rest as the host; nobody writes a real link that way, so an internal host here is an
// evasion.
void SlashlessSchemes(std::string_view lower, Best* b) {
  const std::size_t n = lower.size();
  std::size_t first[std::size(kSlashlessSchemes)];
  if (!FirstSchemes(lower, first)) return;
  for (std::size_t k = 0; k < std::size(kSlashlessSchemes); ++k) {
    const std::string_view sch = kSlashlessSchemes[k];
    for (std::size_t p = first[k]; p != std::string_view::npos; p = Find(lower, sch, p + 1)) {
      if (p > 0 && IsAsciiAlnum(static_cast<unsigned char>(lower[p - 1]))) continue;
      const std::size_t slashes = p + sch.size();
      std::size_t a = slashes;
      while (a < n && (lower[a] == '/' || lower[a] == '\\')) ++a;
      // A normal URL, also as JSON escapes it ("http:\\/\\/host", PHP's json_encode).
      const std::string_view run = lower.substr(slashes, a - slashes);
      if (run == "//" || run == "\\/\\/") continue;
      std::size_t e = SkipTo(lower, a, kAuthorityEnd);
      std::string_view host = lower.substr(a, e - a);
      std::size_t at = host.rfind('@');
      if (at != std::string_view::npos) host = host.substr(at + 1);
      if (!host.empty() && host.front() != '[') {
        std::size_t colon = host.rfind(':');
        if (colon != std::string_view::npos && Find(host, ':') == colon)
          host = host.substr(0, colon);
      }
      if (host.empty()) continue;
      HostVerdict hv = JudgeHost(host);
      // Internal targets only: "http:8080" in a config note names a port, not a host.
      if (hv.score > 0 && std::string_view(hv.rule) != "ssrf.obfuscated-address") {
        b->Up(std::max(hv.score, 0.9f), "ssrf.slashless-url", Category::kSsrf, p, e - p);
        return;
      }
    }
  }
}

constexpr std::string_view kMetadataPaths[] = {
    "/latest/meta-data",  "/latest/user-data", "/latest/api/token", "/computemetadata/v1",
    "/metadata/instance", "/metadata/v1",      "/opc/v1/instance",  "/openstack/latest"};

// Where each of kMetadataPaths first occurs (npos: nowhere), from one walk over the slashes
// that start them (eight scans cost more, and a NeedleSet pass more still on short values).
// Returns whether any occurs.
bool FirstMetadataPaths(std::string_view lower, std::size_t* first) {
  std::fill(first, first + std::size(kMetadataPaths), std::string_view::npos);
  if (!AnyMayOccur(lower, kMetadataPaths)) return false;
  bool any = false;
  for (std::size_t p = Find(lower, '/'); p != std::string_view::npos; p = Find(lower, '/', p + 1)) {
    if (p + 1 >= lower.size()) break;
    const char c = lower[p + 1];
    if (c != 'l' && c != 'c' && c != 'm' && c != 'o') continue;  // no path starts otherwise
    for (std::size_t k = 0; k < std::size(kMetadataPaths); ++k) {
      if (first[k] == std::string_view::npos && kMetadataPaths[k][1] == c &&
          lower.substr(p, kMetadataPaths[k].size()) == kMetadataPaths[k]) {
        first[k] = p;
        any = true;
      }
    }
  }
  return any;
}

// Parameter names that name a file-system location the application includes or reads:
// "_CONF[path]", "mosConfig_absolute_path", "include_dir", "root". A remote URL there is a
// remote file inclusion (the name is split into words at any non-letter).
bool IsIncludeParameter(std::string_view name) {
  std::size_t i = 0;
  const std::size_t n = std::min<std::size_t>(name.size(), 128);
  while (i < n) {
    while (i < n && !IsAsciiAlpha(static_cast<unsigned char>(name[i]))) ++i;
    std::size_t s = i;
    while (i < n && IsAsciiAlpha(static_cast<unsigned char>(name[i]))) ++i;
    std::string_view w = name.substr(s, i - s);
    if (w.size() < 3 || w.size() > 16) continue;
    char lw[16];
    for (std::size_t k = 0; k < w.size(); ++k) lw[k] = ToLowerAscii(w[k]);
    std::string_view l(lw, w.size());
    for (std::string_view k :
         {"path"sv, "dir"sv, "root"sv, "include"sv, "inc"sv, "require"sv, "folder"sv, "basedir"sv,
          "rootdir"sv, "abspath"sv, "basepath"sv, "includes"sv, "incdir"sv}) {
      if (l == k) return true;
    }
  }
  return false;
}

// An argument that names a URL the server fetches: "url", "src", "imageUrl", "feed_uri",
// "proxy", "webhook". Names that carry a browser redirect ("redirect_uri", "returnUrl",
// "next", "callback", "success_url") are left out: native and development OAuth flows
// legitimately send the browser back to a loopback address (RFC 8252).
bool IsFetchParameter(Source source, std::string_view name) {
  // A JSON Web Token's key URLs (parser.cc names a token's header members so): the server
  // fetches the signing key from them, in whatever header or cookie the token came.
  if (name.ends_with(".jwt-header.jku") || name.ends_with(".jwt-header.x5u")) return true;
  if (source != Source::kQuery && source != Source::kBodyForm && source != Source::kJson &&
      source != Source::kMultipart && source != Source::kXml) {
    return false;
  }
  // The last component of a JSON / XML path names the value ("site.feeds[0].url" -> "url").
  std::size_t cut = name.find_last_of("./");
  if (cut != std::string_view::npos) name.remove_prefix(cut + 1);
  char lw[48];
  const std::size_t n = std::min<std::size_t>(name.size(), sizeof(lw));
  // Words split at non-letters and at camelCase humps ("imageUrl" -> "image", "url").
  std::string_view words[8];
  std::size_t count = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= n && count < std::size(words); ++i) {
    const unsigned char c = i < n ? static_cast<unsigned char>(name[i]) : 0;
    const bool letter = IsAsciiAlpha(c);
    const bool hump =
        letter && i > start && c >= 'A' && c <= 'Z' && !(name[i - 1] >= 'A' && name[i - 1] <= 'Z');
    if (!letter || hump) {
      if (i > start) words[count++] = std::string_view(lw + start, i - start);
      start = letter ? i : i + 1;
    }
    if (i < n) lw[i] = ToLowerAscii(static_cast<char>(c));
  }
  bool fetch = false;
  for (std::size_t k = 0; k < count; ++k) {
    const std::string_view w = words[k];
    for (std::string_view r : {"redirect"sv, "return"sv,   "returnto"sv, "callback"sv, "next"sv,
                               "continue"sv, "success"sv,  "cancel"sv,   "back"sv,     "origin"sv,
                               "referer"sv,  "referrer"sv, "goto"sv,     "done"sv,     "logout"sv,
                               "login"sv,    "forward"sv,  "redir"sv,    "ret"sv,      "cb"sv}) {
      if (w == r) return false;
    }
    for (std::string_view f :
         {"url"sv,      "uri"sv,       "link"sv,    "href"sv,     "src"sv,     "source"sv,
          "target"sv,   "feed"sv,      "rss"sv,     "fetch"sv,    "proxy"sv,   "load"sv,
          "remote"sv,   "image"sv,     "img"sv,     "avatar"sv,   "icon"sv,    "photo"sv,
          "picture"sv,  "thumbnail"sv, "preview"sv, "download"sv, "webhook"sv, "hook"sv,
          "endpoint"sv, "imageurl"sv,  "feedurl"sv}) {
      if (w == f) fetch = true;
    }
  }
  return fetch;
}

}  // namespace

void DetectSsrfRfi(const ValueView& v, DetectorScratch& scratch, FindingSink& sink) {
  (void)scratch;
  std::string_view lower = v.lower;
  const std::size_t n = lower.size();
  Best b;
  int urls = 0;
  for (std::size_t p = Find(lower, "//"); p != std::string_view::npos && urls < 16;
       p = Find(lower, "//", p + 2)) {
    // Scheme before "//" (optional: protocol-relative //host).
    std::size_t s = p;
    bool colon = s > 0 && lower[s - 1] == ':';
    if (colon) --s;
    std::size_t scheme_end = s;
    while (s > 0 && (IsAsciiAlnum(static_cast<unsigned char>(lower[s - 1])) ||
                     lower[s - 1] == '+' || lower[s - 1] == '-' || lower[s - 1] == '.')) {
      --s;
    }
    std::string_view scheme = lower.substr(s, scheme_end - s);
    if (!colon) {
      // Protocol-relative only at the start of the value or after '='.
      if (!(p == 0 || lower[p - 1] == '=' || lower[p - 1] == '"' || lower[p - 1] == '\'')) continue;
      if (p + 2 < n && lower[p + 2] == '/') continue;
    } else if (scheme.empty()) {
      continue;
    }
    ++urls;
    std::size_t a = p + 2;
    std::size_t e = SkipTo(lower, a, kAuthorityEnd);
    std::string_view authority = lower.substr(a, e - a);
    // "http://\l\o\c\a\l\h\o\s\t/": every host letter escaped (once or twice). Parsers that drop
    // the backslashes (or treat "\x" as "x") reach the host; no link is written that way.
    if (authority.empty() && e < n && lower[e] == '\\') {
      char buf[256];
      std::size_t len = 0;
      int escapes = 0;
      std::size_t k = e;
      while (k + 1 < n && len < sizeof(buf) && lower[k] == '\\') {
        std::size_t c = k;  // "\\x" (an escaped escape) too
        while (c < n && c - k < 4 && lower[c] == '\\') ++c;
        if (c >= n || !(IsAsciiAlnum(static_cast<unsigned char>(lower[c])) || lower[c] == '.')) {
          break;
        }
        buf[len++] = lower[c];
        ++escapes;
        k = c + 1;
        while (k < n && len < sizeof(buf) &&
               (IsAsciiAlnum(static_cast<unsigned char>(lower[k])) || lower[k] == '.' ||
                lower[k] == '-')) {
          buf[len++] = lower[k++];
        }
      }
      if (escapes >= 3 && (k >= n || lower[k] == '/' || lower[k] == ':' || lower[k] == '?')) {
        HostVerdict ev = JudgeHost(std::string_view(buf, len));
        b.Up(std::max(ev.score, 0.8f), ev.score > 0 ? ev.rule : "ssrf.escaped-host",
             Category::kSsrf, s, k - s);
      }
    }
    // "http://google.com:80 &@127.0.0.1:22/# @google.com/": a space, '&' or '#' and then
    // another "@host" before the path. Validators and fetchers disagree on which '@' ends
    // the userinfo (URL parser confusion), so every "@host" up to the first '/' is judged;
    // an internal one is the target.
    if (e < n &&
        (IsSpaceChar(static_cast<unsigned char>(lower[e])) || lower[e] == '&' || lower[e] == '#')) {
      std::size_t stop = std::min(n, a + 256);
      std::size_t slash = Find(lower.substr(0, stop), '/', e);
      if (slash != std::string_view::npos) stop = slash;
      for (std::size_t q = Find(lower.substr(0, stop), '@', e); q != std::string_view::npos;
           q = Find(lower.substr(0, stop), '@', q + 1)) {
        std::size_t h = q + 1;
        std::size_t he = h;
        while (he < stop && !IsSpaceChar(static_cast<unsigned char>(lower[he])) &&
               lower[he] != '#' && lower[he] != '&' && lower[he] != '@' && lower[he] != '?' &&
               lower[he] != '\\') {
          ++he;
        }
        std::string_view cand = lower.substr(h, he - h);
        std::size_t colon_pos = cand.rfind(':');
        if (!cand.empty() && cand.front() != '[' && colon_pos != std::string_view::npos &&
            Find(cand, ':') == colon_pos) {
          cand = cand.substr(0, colon_pos);
        }
        if (cand.empty()) continue;
        HostVerdict cv = JudgeHost(cand);
        if (cv.score > 0) {
          b.Up(std::max(cv.score, 0.85f), "ssrf.url-parser-confusion", Category::kSsrf, s, he - s);
          break;
        }
      }
    }
    const bool userinfo = authority.rfind('@') != std::string_view::npos;
    std::string_view host = HostOfAuthority(authority);
    HostVerdict hv = JudgeHost(host);
    // "http://ｌｏｃａｌｈｏｓｔ/": the normaliser folded look-alikes (full-width letters)
    // into the host, which IDNA mapping does too; the raw value does not spell it in ASCII.
    if (hv.score > 0 && hv.score < 0.92f && (v.norm_flags & kNormUnicodeFolded) &&
        std::string_view(hv.rule) != "ssrf.obfuscated-address" &&
        IFind(v.field->value, host) == std::string_view::npos) {
      hv = {0.92f, "ssrf.obfuscated-internal"};
    }
    if (hv.score > 0) {
      float s2 = hv.score;
      // The whole value of a fetch argument ("url=http://127.0.0.1/admin",
      // "src=http://10.0.0.5:2375/") is the server-side request an SSRF probe makes. The
      // same loopback or private URL elsewhere stays below the block threshold: admin forms
      // configure upstreams and intranet links that way.
      if (s2 < 0.6f && s == lower.find_first_not_of(" \t\"'") &&
          IsFetchParameter(v.field->source, v.field->name)) {
        b.Up(0.6f, "ssrf.internal-fetch-argument", Category::kSsrf, s, e - s);
      }
      // http://expected@internal/ (parser confusion); a database or broker connection string
      // (postgres://app:secret@localhost:5432/db) carries its credentials there by design.
      bool connection_string = scheme == "postgres" || scheme == "postgresql" ||
                               scheme == "mysql" || scheme == "mariadb" || scheme == "mongodb" ||
                               scheme == "mongodb+srv" || scheme == "redis" || scheme == "rediss" ||
                               scheme == "amqp" || scheme == "amqps" || scheme == "sqlserver";
      if (userinfo && s2 < 0.9f && !connection_string) s2 += 0.05f;
      b.Up(s2, hv.rule, Category::kSsrf, s, e - s);
      // A web URL to an internal host on the port of a service that speaks no HTTP
      // ("http://127.0.0.1:6379/", "https://10.0.0.5:22/") is a cross-protocol probe: its
      // request lines reach Redis, SSH or SMTP as commands. Configuration forms name such
      // services with their own schemes (redis://, ssh://), not http.
      if ((scheme == "http" || scheme == "https") && IsNonHttpServicePort(PortOf(authority))) {
        b.Up(0.8f, "ssrf.internal-service-port", Category::kSsrf, s, e - s);
      }
    }
    // Schemes that are also everyday remote addresses (git over ssh, file shares) count
    // only towards an internal host or a raw address; gopher/dict/jar... always.
    bool everyday_scheme = scheme == "ssh" || scheme == "sftp" || scheme == "smb" ||
                           scheme == "nfs" || scheme == "telnet" || scheme == "vnc";
    // An LDAP URL naming a directory entry (RFC 4516: ldap://host:389/dc=corp,dc=example) is
    // a directory setting in an admin console; JNDI lookups name an object ("/Exploit").
    if ((scheme == "ldap" || scheme == "ldaps") && e < n && lower[e] == '/') {
      std::string_view dn = lower.substr(e + 1, 64);
      std::size_t eq = Find(dn, '=');
      bool attr = eq != std::string_view::npos && eq >= 1 && eq <= 3;
      for (std::size_t k = 0; attr && k < eq; ++k)
        attr = IsAsciiAlpha(static_cast<unsigned char>(dn[k]));
      everyday_scheme |= attr && Find(dn, ',') != std::string_view::npos;
    }
    bool literal_host = false;
    if (everyday_scheme && !host.empty()) {
      bool ob = false;
      literal_host = host.front() == '[' || ParseIpv4(host, &ob).has_value();
    }
    if (IsDangerousScheme(scheme) && (!everyday_scheme || hv.score > 0 || literal_host)) {
      b.Up(scheme == "ldap" || scheme == "rmi" ? 0.8f : 0.85f, "ssrf.dangerous-scheme",
           Category::kSsrf, s, e - s);
    }
    // RFI: remote script or suffix-truncated URL.
    if (scheme == "http" || scheme == "https" || scheme == "ftp" || scheme == "ftps") {
      std::size_t end = SkipTo(lower, e, kUrlEnd);
      std::string_view url = lower.substr(s, end - s);
      bool ip_host = false;
      bool ob = false;
      if (ParseIpv4(host, &ob) || (!host.empty() && host.front() == '[')) ip_host = true;
      if (!ip_host && Find(host, ':') != std::string_view::npos) ip_host = true;  // bare IPv6
      std::size_t q = Find(url, '?');
      std::string_view path = url.substr(0, q);
      bool script = false;
      for (std::string_view ext :
           {".php"sv, ".txt"sv, ".sh"sv, ".pl"sv, ".py"sv, ".jsp"sv, ".asp"sv, ".aspx"sv, ".cgi"sv,
            ".exe"sv, ".js"sv, ".phtml"sv, ".inc"sv, ".gif?"sv}) {
        if (EndsWith(path, ext)) script = true;
      }
      bool trailing_q = !url.empty() && url.back() == '?';
      bool value_is_url = s == 0 || lower[s - 1] == '=';
      // RFI hosts are public; internal ones are the SSRF verdict above.
      if (ip_host && value_is_url && hv.score == 0) {
        b.Up(script ? 0.8f : 0.6f, "rfi.ip-host-url", Category::kRfi, s, url.size());
      }
      if (trailing_q && value_is_url)
        b.Up(0.7f, "rfi.suffix-truncation", Category::kRfi, s, url.size());
      if (script && value_is_url && Find(url, ".txt?") != std::string_view::npos) {
        b.Up(0.75f, "rfi.remote-script", Category::kRfi, s, url.size());
      }
    }
  }
  SlashlessSchemes(lower, &b);
  // "jar:http://host/x.zip!/entry", "jar:file:/app.jar!/a": Java's JarURLConnection fetches
  // the archive (remote inclusion, temp-file drops for XXE chains) and reads the entry. Only
  // as the whole value: logs and stack traces quote jar:file: URLs mid-text.
  {
    std::size_t a = lower.find_first_not_of(" \t\"'");
    std::string_view rest = a == std::string_view::npos ? std::string_view() : lower.substr(a);
    if (StartsWith(rest, "jar:")) {
      std::string_view inner = rest.substr(4);
      bool url = false;
      for (std::string_view sch :
           {"http:"sv, "https:"sv, "ftp:"sv, "file:"sv, "jar:"sv, "netdoc:"sv}) {
        url |= StartsWith(inner, sch);
      }
      std::size_t bang = Find(inner, '!');
      if (url && bang != std::string_view::npos && bang > 6) {
        b.Up(0.8f, "rfi.jar-url", Category::kRfi, a, std::min<std::size_t>(rest.size(), 64));
      }
    }
  }
  // Argument names only: a path segment's field is called "path", and image proxies and
  // archives carry an encoded URL as a segment ("/unsafe/300x200/https%3A%2F%2Fcdn...").
  if (urls > 0 && v.field->source != Source::kPathSegment && IsIncludeParameter(v.field->name)) {
    std::size_t a = lower.find_first_not_of(" \t\"'");
    std::string_view rest = a == std::string_view::npos ? std::string_view() : lower.substr(a);
    for (std::string_view sch : {"http://"sv, "https://"sv, "ftp://"sv, "ftps://"sv}) {
      if (StartsWith(rest, sch) && rest.size() > sch.size() + 3) {
        b.Up(0.65f, "rfi.include-parameter", Category::kRfi, a,
             std::min<std::size_t>(rest.size(), 64));
      }
    }
  }
  // A UNC path as the whole value ("\\10.0.0.1\share\x.php"): Windows servers open it
  // over SMB, including remote code and handing the server's NTLM hash to that host. An
  // address for a host or a script or library name makes it one; a file-server path in a
  // document app's form ("\\fileserver\docs\plan.docx", also as "path=") is not.
  if (n >= 5 && n < 512 && lower[0] == '\\' && lower[1] == '\\') {
    const std::size_t he = Find(lower, '\\', 2);
    if (he != std::string_view::npos && he > 2 && he + 1 < n) {
      const std::string_view host = lower.substr(2, he - 2);
      bool ob = false;
      const bool address =
          ParseIpv4(host, &ob).has_value() && std::count(host.begin(), host.end(), '.') == 3;
      bool script = false;
      for (std::string_view ext : {".php"sv, ".jsp"sv, ".asp"sv, ".aspx"sv, ".dll"sv, ".exe"sv,
                                   ".ps1"sv, ".bat"sv, ".hta"sv, ".scf"sv, ".lnk"sv}) {
        script |= EndsWith(lower, ext);
      }
      if (address || script) {
        b.Up(0.7f, "rfi.unc-path", Category::kRfi, 0, std::min<std::size_t>(n, 64));
      }
    }
  }
  // Bare host-ish values: "169.254.169.254/latest/meta-data", "localhost:8080", "[::1]".
  if (urls == 0 && n > 0 && n < 256) {
    std::size_t e = SkipTo(lower, 0, kBareHostEnd);
    std::string_view host = lower.substr(0, e);
    std::size_t colon_pos = Find(host, ':');  // the only colon (most hosts have none)
    if (!host.empty() && host.front() != '[' && colon_pos != std::string_view::npos &&
        host.rfind(':') == colon_pos) {
      host = host.substr(0, colon_pos);
    }
    bool ob = false;
    // Without a scheme only unmistakable addresses count: four dotted parts or 0x/IPv6
    // forms, followed by a path or port ("0.1.8" and "10.00" are versions and prices).
    // (The dots are counted only for a host that parses.)
    auto four_parts = [host] { return std::count(host.begin(), host.end(), '.') == 3; };
    auto hex_form = [host] { return Find(host, "0x") != std::string_view::npos; };
    bool looks_addr = (ParseIpv4(host, &ob).has_value() && (four_parts() || hex_form())) ||
                      (!host.empty() && host.front() == '[');
    bool has_path = e < n && lower[e] == '/';
    bool has_port = host.size() < e;
    if (looks_addr) {
      HostVerdict hv = JudgeHost(host);
      if (hv.score > 0 && (has_path || has_port || hv.score >= 0.95f)) {
        b.Up(hv.score, hv.rule, Category::kSsrf, 0, e);
      }
    } else if (has_path && !ShortNumber(host)) {
      HostVerdict hv = JudgeHost(host);
      if (hv.score >= 0.75f) b.Up(hv.score - 0.05f, hv.rule, Category::kSsrf, 0, e);
    }
    // "url=localhost/", "src=127.0.0.1:8080": an internal host without a scheme, as the whole
    // value of a fetch argument (fetchers default to http).
    if ((has_path || has_port) && b.score < 0.6f && JudgeHost(host).score > 0 &&
        IsFetchParameter(v.field->source, v.field->name)) {
      b.Up(0.6f, "ssrf.internal-fetch-argument", Category::kSsrf, 0, e);
    }
  }
  // Apache mod_proxy "unix:<socket>|http://host/" (CVE-2021-40438): the socket path is
  // ignored and the request goes to any host the attacker names.
  {
    std::size_t u = Find(lower, "unix:");
    if (u != std::string_view::npos &&
        (u == 0 || !IsAsciiAlnum(static_cast<unsigned char>(lower[u - 1])))) {
      std::size_t bar = Find(lower, '|', u);
      if (bar != std::string_view::npos &&
          (StartsWith(lower.substr(bar + 1), "http") || StartsWith(lower.substr(bar + 1), "ws") ||
           StartsWith(lower.substr(bar + 1), "fcgi"))) {
        b.Up(0.85f, "ssrf.proxy-unix-socket", Category::kSsrf, u, bar - u + 8);
      }
    }
  }
  // Out-of-band interaction domains anywhere in a short value, not only as a URL host
  // ("nslookup x.oast.fun", "ping -c1 `whoami`.abc.burpcollaborator.net"): blind command,
  // SSRF and XXE probes wait for a lookup of that name. A label must come before the domain
  // and the name must end there ("oast.me.uk" is another domain). Probes are short; in long
  // documents only URL hosts (above) are judged.
  if (b.score < 0.85f && n <= 256 && Find(lower, '.') != std::string_view::npos &&
      AnyMayOccur(lower, kOutOfBandDomains)) {
    static const NeedleSet kOob(kOutOfBandDomains);
    std::size_t first[std::size(kOutOfBandDomains)];
    kOob.FirstAll(lower, first);
    for (std::size_t k = 0; k < std::size(kOutOfBandDomains); ++k) {
      const std::size_t p = first[k];
      if (p == std::string_view::npos || p == 0) continue;
      const auto label = [](char c) {
        return IsAsciiAlnum(static_cast<unsigned char>(c)) || c == '-' || c == '`' || c == ')' ||
               c == '}';
      };
      const std::size_t end = p + kOutOfBandDomains[k].size();
      const bool ends =
          end == n || !(IsAsciiAlnum(static_cast<unsigned char>(lower[end])) || lower[end] == '-' ||
                        (lower[end] == '.' && end + 1 < n &&
                         IsAsciiAlnum(static_cast<unsigned char>(lower[end + 1]))));
      if (label(lower[p - 1]) && ends) {
        b.Up(0.85f, "ssrf.oob-callback-domain", Category::kSsrf, p, end - p);
        break;
      }
    }
  }
  // Metadata paths even without a host (proxies that prepend one).
  std::size_t meta[std::size(kMetadataPaths)];
  if (FirstMetadataPaths(lower, meta)) {
    for (std::size_t k = 0; k < std::size(kMetadataPaths); ++k) {
      if (meta[k] != std::string_view::npos)
        b.Up(0.8f, "ssrf.metadata-path", Category::kSsrf, meta[k], kMetadataPaths[k].size());
    }
  }
  if (b.score > 0) Report(sink, v, b.cat, b.score, b.rule, b.pos, b.len);
}

// The host a request is addressed to: its Host header, the host-override headers
// (X-Forwarded-Host and kin), and the authority of an absolute-form request-target. A cloud
// metadata, link-local or disguised internal address there asks a proxy that routes by host (or
// forwards absolute URLs) to fetch from inside: routing-based SSRF. Loopback and private addresses
// are left alone (health checks and internal clients address servers by IP).
void DetectRequestHost(const HttpRequest& req, const ParsedRequest& parsed, FindingSink& sink) {
  auto judge = [&sink](std::string_view authority, std::string_view what) {
    if (authority.empty() || authority.size() > kMaxHost) return;
    // Most requests name an ASCII DNS host: only the metadata names ("metadata.google.internal",
    // "instance-data") can matter there. Addresses, look-alike characters and those names are
    // judged.
    const std::string_view raw_host = HostOfAuthority(authority);
    if (raw_host.empty()) return;
    const char c0 = ToLowerAscii(raw_host[0]);
    bool judged =
        IsAsciiDigit(static_cast<unsigned char>(c0)) || c0 == '[' || c0 == 'm' || c0 == 'i';
    for (std::size_t i = 0; !judged && i < raw_host.size(); ++i) {
      judged = static_cast<unsigned char>(raw_host[i]) >= 0x80;
    }
    if (!judged) return;
    char buf[kMaxHost];
    for (std::size_t i = 0; i < raw_host.size(); ++i) buf[i] = ToLowerAscii(raw_host[i]);
    const HostVerdict hv = JudgeHost(std::string_view(buf, raw_host.size()));
    if (hv.score >= 0.85f) {
      sink.AddRequestLevel(Category::kSsrf, hv.score, "ssrf.request-host", what,
                           authority.substr(0, 80));
    }
  };
  judge(parsed.host, "Host");
  // Headers that name the host in the Host header's place for frameworks and proxies behind a
  // front end (link building, routing); their first element.
  for (const Header& h : req.headers) {
    if (h.name.size() < 6 || ToLowerAscii(h.name[0]) != 'x' || h.name[1] != '-') continue;
    if (IEquals(h.name, "x-forwarded-host") || IEquals(h.name, "x-host") ||
        IEquals(h.name, "x-original-host") || IEquals(h.name, "x-forwarded-server") ||
        IEquals(h.name, "x-http-host-override")) {
      const std::string_view first = h.value.substr(0, h.value.find(','));
      judge(TrimSpaces(first), h.name);
    }
  }
  // User information in the Host ("evil.example@app.example") is no host syntax; frameworks
  // that build absolute links from the Host read different hosts out of it.
  if (parsed.host.find('@') != std::string_view::npos) {
    sink.AddRequestLevel(Category::kProtocol, 0.6f, "protocol.invalid-host", "Host",
                         parsed.host.substr(0, 80));
  }
  if (parsed.anomalies & kAnomalyAbsoluteUri) {
    const std::string_view uri = req.uri;
    const std::size_t start = uri.find("//") + 2;
    const std::size_t end = uri.find_first_of("/?#", start);
    const std::string_view authority =
        uri.substr(start, end == std::string_view::npos ? uri.size() - start : end - start);
    judge(authority, "request-target");
    // An absolute-form target naming another host than the Host header: the server routes by
    // one and the application builds links (password resets) or caches by the other.
    if (!parsed.host.empty() &&
        !IEquals(HostOfAuthority(authority), HostOfAuthority(parsed.host))) {
      sink.AddRequestLevel(Category::kProtocol, 0.6f, "protocol.host-mismatch", "request-target",
                           authority.substr(0, 80));
    }
  }
}

}  // namespace shieldx::detect
