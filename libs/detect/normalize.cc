#include "libs/detect/normalize.h"

#include <array>
#include <cstdint>
#include <cstring>

#include "libs/detect/limits.h"
#include "libs/detect/text_util.h"

namespace shieldx::detect {
namespace {

inline char LowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (LowerAscii(a[i]) != LowerAscii(b[i])) return false;
  }
  return true;
}

struct NamedEntity {
  std::string_view name;  // string_view: no strlen per comparison
  std::string_view text;
  bool without_semicolon;  // browsers accept the legacy form without ';'
};

// The references that matter for injection (syntax characters and spacing). Others are
// left as they are: they cannot produce markup or code.
constexpr NamedEntity kEntities[] = {
    {"lt", "<", true},      {"gt", ">", true},        {"amp", "&", true},
    {"quot", "\"", true},   {"apos", "'", false},     {"nbsp", " ", true},
    {"tab", "\t", false},   {"newline", "\n", false}, {"colon", ":", false},
    {"lpar", "(", false},   {"rpar", ")", false},     {"sol", "/", false},
    {"bsol", "\\", false},  {"equals", "=", false},   {"period", ".", false},
    {"comma", ",", false},  {"excl", "!", false},     {"num", "#", false},
    {"dollar", "$", false}, {"percnt", "%", false},   {"plus", "+", false},
    {"quest", "?", false},  {"semi", ";", false},     {"lsqb", "[", false},
    {"lbrack", "[", false}, {"rsqb", "]", false},     {"rbrack", "]", false},
    {"lcub", "{", false},   {"lbrace", "{", false},   {"rcub", "}", false},
    {"rbrace", "}", false}, {"grave", "`", false},    {"hat", "^", false},
    {"ast", "*", false},    {"midast", "*", false},   {"lowbar", "_", false},
    {"verbar", "|", false}, {"vert", "|", false},     {"commat", "@", false},
    {"lsquo", "'", false},  {"rsquo", "'", false},    {"ldquo", "\"", false},
    {"rdquo", "\"", false}, {"hyphen", "-", false},   {"dash", "-", false},
};

}  // namespace

int EncodeUtf8(uint32_t cp, char* out) {
  if (cp < 0x80) {
    out[0] = static_cast<char>(cp);
    return 1;
  }
  if (cp < 0x800) {
    out[0] = static_cast<char>(0xC0 | (cp >> 6));
    out[1] = static_cast<char>(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = static_cast<char>(0xE0 | (cp >> 12));
    out[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out[2] = static_cast<char>(0x80 | (cp & 0x3F));
    return 3;
  }
  if (cp > 0x10FFFF) cp = 0xFFFD;
  if (cp > 0xFFFF && cp <= 0x10FFFF) {
    out[0] = static_cast<char>(0xF0 | (cp >> 18));
    out[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out[3] = static_cast<char>(0x80 | (cp & 0x3F));
    return 4;
  }
  return EncodeUtf8(cp, out);
}

std::string_view PercentDecode(std::string_view in, bool plus_is_space, bool percent_u,
                               Arena& arena, uint32_t* flags) {
  if (in.find('%') == std::string_view::npos &&
      (!plus_is_space || in.find('+') == std::string_view::npos)) {
    return in;
  }
  char* out = arena.Allocate(in.size());
  std::size_t o = 0;
  const std::size_t n = in.size();
  for (std::size_t i = 0; i < n; ++i) {
    // Copy the run up to the next byte this function rewrites in one go.
    std::size_t run = i;
    while (run + 8 <= n) {  // eight bytes a step while none is '%' (or '+')
      const uint64_t w = swar::Load8(in.data() + run);
      if (swar::AnyEqual(w, '%') || (plus_is_space && swar::AnyEqual(w, '+'))) break;
      run += 8;
    }
    while (run < n && in[run] != '%' && !(plus_is_space && in[run] == '+')) ++run;
    if (run > i) {
      std::memcpy(out + o, in.data() + i, run - i);
      o += run - i;
      i = run;
      if (i == n) break;
    }
    unsigned char c = static_cast<unsigned char>(in[i]);
    if (c == '+') {  // plus_is_space: the run stopped here
      out[o++] = ' ';
      continue;
    }
    if (i + 2 < n && HexVal(in[i + 1]) >= 0 && HexVal(in[i + 2]) >= 0) {
      out[o++] = static_cast<char>(HexVal(in[i + 1]) * 16 + HexVal(in[i + 2]));
      i += 2;
      continue;
    }
    if (percent_u && i + 5 < n && (in[i + 1] == 'u' || in[i + 1] == 'U') &&
        HexVal(in[i + 2]) >= 0 && HexVal(in[i + 3]) >= 0 && HexVal(in[i + 4]) >= 0 &&
        HexVal(in[i + 5]) >= 0) {
      uint32_t cp = (HexVal(in[i + 2]) << 12) | (HexVal(in[i + 3]) << 8) |
                    (HexVal(in[i + 4]) << 4) | HexVal(in[i + 5]);
      o += EncodeUtf8(cp, out + o);
      i += 5;
      *flags |= kNormPercentU;
      continue;
    }
    *flags |= kNormInvalidPercent;
    out[o++] = '%';
  }
  arena.ShrinkLast(out, o);
  return {out, o};
}

std::string_view DecodeHtmlEntities(std::string_view in, Arena& arena, uint32_t* flags) {
  if (in.find('&') == std::string_view::npos) return in;
  char* out = arena.Allocate(in.size());
  std::size_t o = 0;
  const std::size_t n = in.size();
  bool changed = false;
  for (std::size_t i = 0; i < n; ++i) {
    char c = in[i];
    if (c != '&' || i + 2 >= n) {
      out[o++] = c;
      continue;
    }
    std::size_t j = i + 1;
    if (in[j] == '#') {
      ++j;
      bool hex = j < n && (in[j] == 'x' || in[j] == 'X');
      if (hex) ++j;
      uint32_t cp = 0;
      std::size_t digits = 0;
      while (j < n && digits < 10) {
        int v = hex ? HexVal(in[j]) : (in[j] >= '0' && in[j] <= '9' ? in[j] - '0' : -1);
        if (v < 0) break;
        cp = cp * (hex ? 16 : 10) + v;
        if (cp > 0x10FFFF) cp = 0x110000;  // saturate; encoded as U+FFFD
        ++j;
        ++digits;
      }
      if (digits == 0) {
        out[o++] = c;
        continue;
      }
      if (j < n && in[j] == ';') ++j;
      o += EncodeUtf8(cp == 0 ? 0xFFFD : cp, out + o);
      i = j - 1;
      changed = true;
      continue;
    }
    std::size_t k = j;
    while (k < n && k - j < 10 &&
           ((in[k] >= 'a' && in[k] <= 'z') || (in[k] >= 'A' && in[k] <= 'Z'))) {
      ++k;
    }
    std::string_view name = in.substr(j, k - j);
    bool semi = k < n && in[k] == ';';
    bool done = false;
    if (!name.empty()) {
      for (const NamedEntity& e : kEntities) {
        if (EqualsIgnoreCase(name, e.name) && (semi || e.without_semicolon)) {
          std::memcpy(out + o, e.text.data(), e.text.size());
          o += e.text.size();
          i = k - (semi ? 0 : 1);
          done = true;
          changed = true;
          break;
        }
      }
    }
    if (!done) out[o++] = c;
  }
  if (changed) *flags |= kNormHtmlEntity;
  arena.ShrinkLast(out, changed ? o : 0);
  return changed ? std::string_view(out, o) : in;
}

std::string_view DecodeJsCssEscapes(std::string_view in, Arena& arena, uint32_t* flags) {
  if (in.find('\\') == std::string_view::npos) return in;
  char* out = arena.Allocate(in.size());
  std::size_t o = 0;
  const std::size_t n = in.size();
  bool changed = false;
  for (std::size_t i = 0; i < n; ++i) {
    char c = in[i];
    if (c != '\\' || i + 1 >= n) {
      out[o++] = c;
      continue;
    }
    char e = in[i + 1];
    // \xHH
    if ((e == 'x' || e == 'X') && i + 3 < n && HexVal(in[i + 2]) >= 0 && HexVal(in[i + 3]) >= 0) {
      out[o++] = static_cast<char>(HexVal(in[i + 2]) * 16 + HexVal(in[i + 3]));
      i += 3;
      changed = true;
      continue;
    }
    if (e == 'u' || e == 'U') {
      // \u{H..H}
      if (i + 2 < n && in[i + 2] == '{') {
        std::size_t j = i + 3;
        uint32_t cp = 0;
        std::size_t digits = 0;
        while (j < n && digits < 8 && HexVal(in[j]) >= 0) {
          cp = cp * 16 + HexVal(in[j]);
          ++j;
          ++digits;
        }
        if (digits > 0 && j < n && in[j] == '}') {
          o += EncodeUtf8(cp, out + o);
          i = j;
          changed = true;
          continue;
        }
      } else if (i + 5 < n && HexVal(in[i + 2]) >= 0 && HexVal(in[i + 3]) >= 0 &&
                 HexVal(in[i + 4]) >= 0 && HexVal(in[i + 5]) >= 0) {
        uint32_t cp = (HexVal(in[i + 2]) << 12) | (HexVal(in[i + 3]) << 8) |
                      (HexVal(in[i + 4]) << 4) | HexVal(in[i + 5]);
        o += EncodeUtf8(cp, out + o);
        i += 5;
        changed = true;
        continue;
      }
    }
    // JS octal \NNN (exactly three octal digits, printable result).
    if (i + 3 < n && e >= '0' && e <= '3' && in[i + 2] >= '0' && in[i + 2] <= '7' &&
        in[i + 3] >= '0' && in[i + 3] <= '7') {
      int v = (e - '0') * 64 + (in[i + 2] - '0') * 8 + (in[i + 3] - '0');
      if (v >= 0x20 && v < 0x7f && HexVal(i + 4 < n ? in[i + 4] : 'g') < 0) {
        out[o++] = static_cast<char>(v);
        i += 3;
        changed = true;
        continue;
      }
    }
    // CSS \H..H (2..6 hex digits) yielding printable ASCII, optional trailing space.
    {
      std::size_t j = i + 1;
      uint32_t cp = 0;
      std::size_t digits = 0;
      while (j < n && digits < 6 && HexVal(in[j]) >= 0) {
        cp = cp * 16 + HexVal(in[j]);
        ++j;
        ++digits;
      }
      if (digits >= 2 && cp >= 0x20 && cp < 0x7f) {
        out[o++] = static_cast<char>(cp);
        if (j < n && (in[j] == ' ' || in[j] == '\t')) ++j;
        i = j - 1;
        changed = true;
        continue;
      }
    }
    out[o++] = c;
  }
  if (changed) *flags |= kNormJsEscape;
  arena.ShrinkLast(out, changed ? o : 0);
  return changed ? std::string_view(out, o) : in;
}

namespace {

// Returns the ASCII replacement of a look-alike code point, 0 to drop it, or -1 to keep it.
int FoldCodePoint(uint32_t cp) {
  if (cp >= 0xFF01 && cp <= 0xFF5E) return static_cast<int>(cp - 0xFEE0);
  switch (cp) {
    case 0x00A0:
    case 0x1680:
    case 0x2000:
    case 0x2001:
    case 0x2002:
    case 0x2003:
    case 0x2004:
    case 0x2005:
    case 0x2006:
    case 0x2007:
    case 0x2008:
    case 0x2009:
    case 0x200A:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return ' ';
    case 0x200B:
    case 0x200C:
    case 0x200D:
    case 0x2060:
    case 0xFEFF:
    case 0x00AD:
      return 0;
    case 0x2018:
    case 0x2019:
    case 0x201A:
    case 0x201B:
    case 0x2032:
    case 0x02BC:
    case 0x02B9:
      return '\'';
    case 0x201C:
    case 0x201D:
    case 0x201E:
    case 0x2033:
    case 0x02BA:
      return '"';
    case 0x2044:
    case 0x2215:
    case 0x29F8:
      return '/';
    case 0x2216:
    case 0x29F5:
    case 0xFE68:
      return '\\';
    case 0x2039:
    case 0x2329:
    case 0x27E8:
    case 0x3008:
    case 0xFE64:
      return '<';
    case 0x203A:
    case 0x232A:
    case 0x27E9:
    case 0x3009:
    case 0xFE65:
      return '>';
    case 0x2024:
    case 0xFE52:
      return '.';
    case 0x2010:
    case 0x2011:
    case 0x2012:
    case 0x2013:
    case 0x2212:
    case 0xFE63:
      return '-';
    case 0xFE50:
      return ',';
    case 0xFE54:
      return ';';
    case 0xFE55:
    case 0xA789:
      return ':';
    case 0xFE56:
      return '?';
    case 0xFE57:
      return '!';
    case 0xFE59:
      return '(';
    case 0xFE5A:
      return ')';
    case 0xFE5F:
      return '#';
    case 0xFE60:
      return '&';
    case 0xFE61:
      return '*';
    case 0xFE62:
      return '+';
    case 0xFE66:
      return '=';
    case 0xFE69:
      return '$';
    case 0xFE6A:
      return '%';
    case 0xFE6B:
      return '@';
    case 0x0131:
      return 'i';
    case 0x017F:
      return 's';
    case 0x212A:
      return 'k';
    case 0x212B:
      return 'a';
    default:
      return -1;
  }
}

}  // namespace

namespace {}  // namespace

std::string_view FoldUnicode(std::string_view in, Arena& arena, uint32_t* flags) {
  // Nothing to do for plain ASCII without NUL: eight bytes at a time, then the rest.
  std::size_t plain = 0;
  while (plain + 8 <= in.size()) {
    const uint64_t w = swar::Load8(in.data() + plain);
    if (swar::AnyNonAscii(w) || swar::AnyBelow(w, 1)) break;
    plain += 8;
  }
  bool any = false;
  for (std::size_t k = plain; k < in.size(); ++k) {
    const auto c = static_cast<unsigned char>(in[k]);
    if (c == 0 || c >= 0x80) {
      any = true;
      break;
    }
  }
  if (!any) return in;
  char* out = arena.Allocate(in.size());
  std::size_t o = 0;
  const std::size_t n = in.size();
  const auto* s = reinterpret_cast<const unsigned char*>(in.data());
  bool in_text = false;  // previous byte non-ASCII and not an overlong form (CheckUtf8, parser.cc)
  for (std::size_t i = 0; i < n;) {
    unsigned char c = s[i];
    if (c == 0) {
      *flags |= kNormNulByte;
      in_text = false;
      ++i;
      continue;
    }
    if (c < 0x80) {
      out[o++] = static_cast<char>(c);
      in_text = false;
      ++i;
      continue;
    }
    std::size_t len = 0;
    uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    }
    bool ok = len > 0 && i + len <= n;
    for (std::size_t k = 1; ok && k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) ok = false;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if (!ok) {
      *flags |= kNormInvalidUtf8;
      // A Latin-1 no-break space between ASCII text ("1%A0union%A0select"): a space to
      // MySQL, and what U+00A0 folds to below.
      if (c == 0xA0 && !in_text) {
        out[o++] = ' ';
        *flags |= kNormUnicodeFolded;
        ++i;
        continue;
      }
      out[o++] = static_cast<char>(c);
      in_text = true;
      ++i;
      continue;
    }
    bool overlong =
        (len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
    const bool resync = in_text;
    in_text = !overlong;
    if (overlong) {
      // Still decoded, so detectors see what a lenient decoder would; only not reported as
      // an evasion inside text of another encoding.
      if (!resync) *flags |= kNormOverlongUtf8;
      if (cp < 0x80) {
        if (cp != 0)
          out[o++] = static_cast<char>(cp);
        else
          *flags |= kNormNulByte;
      } else {
        o += EncodeUtf8(cp, out + o);
      }
      i += len;
      continue;
    }
    int folded = FoldCodePoint(cp);
    if (folded >= 0) {
      if (folded == 0) {
        *flags |= kNormZeroWidth;
      } else {
        out[o++] = static_cast<char>(folded);
        *flags |= kNormUnicodeFolded;
      }
    } else {
      std::memcpy(out + o, s + i, len);
      o += len;
    }
    i += len;
  }
  arena.ShrinkLast(out, o);
  return {out, o};
}

std::string_view AsciiLower(std::string_view in, Arena& arena) {
  const std::size_t n = in.size();
  std::size_t first = 0;
  while (first + 8 <= n && swar::CapitalMask(swar::Load8(in.data() + first)) == 0) first += 8;
  while (first < n && !(in[first] >= 'A' && in[first] <= 'Z')) ++first;
  if (first == n) return in;
  char* out = arena.Allocate(n);
  std::memcpy(out, in.data(), first);
  AsciiLowerInto(in.substr(first), out + first);
  return {out, in.size()};
}

Normalized Normalize(std::string_view value, Arena& arena) {
  Normalized r;
  std::string_view cur = value.substr(0, limits::kMaxInspectedValueBytes);
  int url_passes = 0;
  for (int round = 0; round < limits::kMaxUrlDecodePasses + limits::kMaxEntityDecodePasses;
       ++round) {
    std::string_view before = cur;
    if (url_passes < limits::kMaxUrlDecodePasses && cur.find('%') != std::string_view::npos) {
      uint32_t f = 0;
      std::string_view next = PercentDecode(cur, false, true, arena, &f);
      r.flags |= f & (kNormInvalidPercent | kNormPercentU);
      if (next != cur) {
        ++url_passes;
        cur = next;
      }
    }
    if (cur.find('&') != std::string_view::npos) cur = DecodeHtmlEntities(cur, arena, &r.flags);
    if (cur.find('\\') != std::string_view::npos) cur = DecodeJsCssEscapes(cur, arena, &r.flags);
    if (cur.data() == before.data() && cur.size() == before.size()) break;
  }
  if (url_passes >= 1) r.flags |= kNormUrlDecoded;
  if (url_passes >= 2) r.flags |= kNormMultiUrlDecoded;
  if (url_passes >= limits::kMaxUrlDecodePasses) {
    uint32_t f = 0;
    if (PercentDecode(cur, false, true, arena, &f) != cur) r.flags |= kNormUrlStillEncoded;
  }
  cur = FoldUnicode(cur, arena, &r.flags);
  r.text = cur;
  r.lower = AsciiLower(cur, arena);
  return r;
}

namespace {

// What each byte is to the base64 test: a letter of either case, a digit, a symbol of the
// standard alphabet ('+', '/', and ' ': a '+' lost to form decoding) or of the URL-safe one
// ('-', '_'); 0 for a byte of neither.
constexpr uint8_t kB64Upper = 1, kB64Lower = 2, kB64Digit = 4, kB64Std = 8, kB64Url = 16;
constexpr std::array<uint8_t, 256> kB64Class = [] {
  std::array<uint8_t, 256> t{};
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = kB64Upper;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = kB64Lower;
  for (int c = '0'; c <= '9'; ++c) t[c] = kB64Digit;
  t['+'] = t['/'] = t[' '] = kB64Std;
  t['-'] = t['_'] = kB64Url;
  return t;
}();

// Six-bit values of the standard (' ' read as '+') and the URL-safe alphabet; 0xFF: none.
constexpr std::array<uint8_t, 256> B64Values(bool url) {
  std::array<uint8_t, 256> t{};
  for (auto& v : t) v = 0xFF;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = static_cast<uint8_t>(c - 'A');
  for (int c = 'a'; c <= 'z'; ++c) t[c] = static_cast<uint8_t>(c - 'a' + 26);
  for (int c = '0'; c <= '9'; ++c) t[c] = static_cast<uint8_t>(c - '0' + 52);
  if (url) {
    t['-'] = 62;
    t['_'] = 63;
  } else {
    t['+'] = t[' '] = 62;
    t['/'] = 63;
  }
  return t;
}
constexpr std::array<uint8_t, 256> kB64StdValues = B64Values(false);
constexpr std::array<uint8_t, 256> kB64UrlValues = B64Values(true);

}  // namespace

std::string_view DecodePlausibleBase64(std::string_view in, Arena& arena) {
  while (!in.empty() && (in.back() == '=' || in.back() == '\n' || in.back() == '\r')) {
    in.remove_suffix(1);
  }
  if (in.size() < limits::kMinBase64Bytes || in.size() > limits::kMaxBase64Bytes) return {};
  if (in.size() % 4 == 1) return {};
  unsigned seen = 0;
  for (unsigned char c : in) {
    const unsigned k = kB64Class[c];
    if (k == 0) return {};
    seen |= k;
  }
  const bool upper = seen & kB64Upper, lower = seen & kB64Lower, digit = seen & kB64Digit;
  const bool url = seen & kB64Url;
  if (url && (seen & kB64Std)) return {};
  if (!(upper && lower) && !(digit && (upper || lower))) return {};
  const std::array<uint8_t, 256>& values = url ? kB64UrlValues : kB64StdValues;
  char* out = arena.Allocate(in.size() * 3 / 4 + 3);
  std::size_t o = 0;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    const unsigned v = values[c];
    if (v == 0xFF) {
      arena.ShrinkLast(out, 0);
      return {};
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  // Mostly printable text (ASCII or whole UTF-8 sequences), or it is binary.
  std::size_t printable = 0;
  for (std::size_t i = 0; i < o;) {
    unsigned char c = static_cast<unsigned char>(out[i]);
    if ((c >= 0x20 && c < 0x7f) || c == '\t' || c == '\n' || c == '\r') {
      ++printable;
      ++i;
      continue;
    }
    std::size_t len = c >= 0xC2 && c <= 0xDF   ? 2
                      : c >= 0xE0 && c <= 0xEF ? 3
                      : c >= 0xF0 && c <= 0xF4 ? 4
                                               : 0;
    std::size_t k = 1;
    while (k < len && i + k < o && (static_cast<unsigned char>(out[i + k]) & 0xC0) == 0x80) ++k;
    if (len != 0 && k == len) {
      printable += len;
      i += len;
    } else {
      ++i;
    }
  }
  if (o < 8 || printable * 100 < o * 95) {
    arena.ShrinkLast(out, 0);
    return {};
  }
  arena.ShrinkLast(out, o);
  return {out, o};
}

std::string_view NormalizePath(std::string_view in, Arena& arena, int* escapes) {
  *escapes = 0;
  char* out = arena.Allocate(in.size() + 1);
  std::size_t o = 0;
  bool absolute = !in.empty() && (in[0] == '/' || in[0] == '\\');
  if (absolute) out[o++] = '/';
  std::size_t i = 0;
  const std::size_t n = in.size();
  while (i < n) {
    while (i < n && (in[i] == '/' || in[i] == '\\')) ++i;
    std::size_t start = i;
    while (i < n && in[i] != '/' && in[i] != '\\') ++i;
    std::string_view seg = in.substr(start, i - start);
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      // Pop the last segment, or count an escape above the start.
      std::size_t floor = absolute ? 1 : 0;
      if (o > floor) {
        while (o > floor && out[o - 1] != '/') --o;
        if (o > floor) --o;  // the separator
        continue;
      }
      ++*escapes;
      continue;
    }
    if (o > 0 && out[o - 1] != '/') out[o++] = '/';
    std::memcpy(out + o, seg.data(), seg.size());
    o += seg.size();
  }
  arena.ShrinkLast(out, o);
  return {out, o};
}

std::size_t PathParameterBypass(std::string_view path) {
  const std::size_t n = path.size();
  for (std::size_t p = path.find(';'); p != std::string_view::npos; p = path.find(';', p + 1)) {
    // The segment the parameter belongs to: empty ("/;/") or ending in a name character.
    const bool empty_segment = p > 0 && path[p - 1] == '/';
    const bool named_segment = p > 0 && (IsAsciiAlnum(static_cast<unsigned char>(path[p - 1])) ||
                                         path[p - 1] == '_' || path[p - 1] == '-');
    std::size_t e = p + 1;
    if (empty_segment && (e == n || path[e] == '/' || path[e] == '?')) return p;
    if (!named_segment || e >= n || path[e] != '.') continue;
    ++e;
    std::size_t letters = 0;
    while (e < n && IsAsciiAlnum(static_cast<unsigned char>(path[e])) && letters < 6) {
      ++e;
      ++letters;
    }
    if (letters >= 1 && letters <= 5 && (e == n || path[e] == '/' || path[e] == '?')) return p;
  }
  return std::string_view::npos;
}

}  // namespace shieldx::detect
