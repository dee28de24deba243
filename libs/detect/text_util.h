// Small ASCII helpers shared by the detectors (all case-insensitive variants expect the
// needle in lowercase).
#ifndef SHIELDX_LIBS_DETECT_TEXT_UTIL_H_
#define SHIELDX_LIBS_DETECT_TEXT_UTIL_H_

#include <algorithm>
#include <array>
#include <bitset>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "libs/base/check.h"

namespace shieldx::detect {

inline constexpr bool IsAsciiAlpha(unsigned char c) {
  return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}
inline constexpr bool IsAsciiDigit(unsigned char c) { return c >= '0' && c <= '9'; }
inline constexpr bool IsAsciiAlnum(unsigned char c) { return IsAsciiAlpha(c) || IsAsciiDigit(c); }
inline constexpr bool IsAsciiHexDigit(unsigned char c) {
  return IsAsciiDigit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}
// The value of a hexadecimal digit, -1 for any other byte.
inline constexpr int HexVal(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
inline bool IsIdentChar(unsigned char c) { return IsAsciiAlnum(c) || c == '_' || c == '$'; }
inline bool IsSpaceChar(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
inline char ToLowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// A ';' that does not end an HTML entity ("&auml;", "&#228;"): browsers write characters
// outside a form's charset as entities in multipart names, and those semicolons are no
// parameter separators.
inline bool HasBareSemicolon(std::string_view v) {
  for (std::size_t p = v.find(';'); p != std::string_view::npos; p = v.find(';', p + 1)) {
    const std::size_t amp = v.rfind('&', p);
    bool entity = amp != std::string_view::npos && p - amp >= 2 && p - amp <= 10;
    for (std::size_t k = amp + 1; entity && k < p; ++k) {
      entity = IsAsciiAlnum(static_cast<unsigned char>(v[k])) || (k == amp + 1 && v[k] == '#');
    }
    if (!entity) return true;
  }
  return false;
}

// Bytes of the CJK or Hangul character (U+3040..U+9FFF, U+AC00..U+D7FF: kana, ideographs,
// syllables) encoded in UTF-8 at `i`, or 0. Such text is written without spaces between
// words, so the prose recognisers that count space-separated Latin words read it with this.
inline std::size_t CjkCharAt(std::string_view s, std::size_t i) {
  if (i + 2 >= s.size()) return 0;
  const auto a = static_cast<unsigned char>(s[i]);
  const auto b = static_cast<unsigned char>(s[i + 1]);
  const auto c = static_cast<unsigned char>(s[i + 2]);
  if ((b & 0xC0) != 0x80 || (c & 0xC0) != 0x80) return 0;
  const bool kana_or_han = (a == 0xE3 && b >= 0x81) || (a >= 0xE4 && a <= 0xE9);
  const bool hangul =
      (a == 0xEA && b >= 0xB0) || (a >= 0xEB && a <= 0xEC) || (a == 0xED && b < 0x9F);
  return kana_or_han || hangul ? 3 : 0;
}

// How many CJK characters `s` holds, counting stops at `limit`.
inline std::size_t CjkCharsUpTo(std::string_view s, std::size_t limit) {
  std::size_t count = 0;
  for (std::size_t i = 0; i + 2 < s.size() && count < limit;) {
    const std::size_t len = static_cast<unsigned char>(s[i]) >= 0xE3 ? CjkCharAt(s, i) : 0;
    count += len > 0;
    i += len > 0 ? len : 1;
  }
  return count;
}

// At least `min` CJK characters in a row at `i`: a phrase of a CJK sentence.
inline bool CjkPhraseAt(std::string_view s, std::size_t i, int min = 2) {
  for (int k = 0; k < min; ++k) {
    const std::size_t len = CjkCharAt(s, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

// The byte classes of BigramFilter.
constexpr std::array<uint8_t, 256> MakeBigramClasses() {
  std::array<uint8_t, 256> t{};
  // 0: control bytes; 1: non-ASCII bytes; 2: the punctuation left over below.
  for (int c = 0; c < 256; ++c) t[c] = c < 0x20 || c == 0x7f ? 0 : c >= 0x80 ? 1 : 2;
  uint8_t next = 3;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = next++;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = t[c + 32];  // filters are built on lower-case text
  for (int c = '0'; c <= '9'; ++c) t[c] = next++;
  for (char c : {' ', '"', '\'', '(', ')', '<', '>', '/', '\\', '.', ',', ';', ':',
                 '=', '-', '_',  '$', '{', '}', '[', ']', '%',  '&', '|', '*'}) {
    t[static_cast<unsigned char>(c)] = next++;
  }
  // '!', '#', '+', '?', '@', '^', '`' and '~' share class 2.
  return t;
}
inline constexpr std::array<uint8_t, 256> kBigramClass = MakeBigramClasses();
static_assert(*std::max_element(kBigramClass.begin(), kBigramClass.end()) == 63);

// Which byte pairs occur in one value. The detectors look for hundreds of keywords in the
// same value; a keyword with a pair the value does not have cannot occur, so the scan for it
// is skipped. Built once per value by the inspector (Inspector::Defer) and consulted by Find()
// below for any haystack that lies inside that value.
//
// Each byte is first mapped to one of 64 classes (every letter and digit its own, the common
// punctuation mostly its own, the rest shared), and a pair sets bit [class a][class b] of a
// 64 x 64 matrix. Two table loads, a shift and an OR per byte, and no hash; a shared class
// only makes a needle pass the filter more often, never less (same results as without it).
class BigramFilter {
 public:
  void Build(std::string_view s) {
    for (uint64_t& w : bits_) w = 0;
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    if (!s.empty()) {
      uint32_t prev = kClass[p[0]];
      for (std::size_t i = 1; i < s.size(); ++i) {
        const uint32_t c = kClass[p[i]];
        bits_[prev] |= uint64_t{1} << c;
        prev = c;
      }
    }
    begin_ = s.data();
    end_ = s.data() + s.size();
  }
  // False only when `needle` cannot occur in `hay` (hay inside the filtered value and one of
  // the needle's byte pairs absent from it).
  bool MayContain(std::string_view hay, std::string_view needle) const {
    if (needle.size() < 2 || hay.data() < begin_ || hay.data() + hay.size() > end_) return true;
    const auto* n = reinterpret_cast<const unsigned char*>(needle.data());
    for (std::size_t i = 0; i + 1 < needle.size(); ++i) {
      if (!((bits_[kClass[n[i]]] >> kClass[n[i + 1]]) & 1)) return false;
    }
    return true;
  }

 private:
  static constexpr const std::array<uint8_t, 256>& kClass = kBigramClass;
  uint64_t bits_[64] = {};
  const char* begin_ = nullptr;
  const char* end_ = nullptr;
};

// The filter of the value the calling thread's detectors are looking at (null: none).
inline thread_local const BigramFilter* current_bigram_filter = nullptr;

// Installs `f` for the calling thread for the scope's lifetime.
class ScopedBigramFilter {
 public:
  explicit ScopedBigramFilter(const BigramFilter* f) : prev_(current_bigram_filter) {
    current_bigram_filter = f;
  }
  ~ScopedBigramFilter() { current_bigram_filter = prev_; }
  ScopedBigramFilter(const ScopedBigramFilter&) = delete;
  ScopedBigramFilter& operator=(const ScopedBigramFilter&) = delete;

 private:
  const BigramFilter* prev_;
};

// hay.find(needle, from), skipping the scan when the current value's filter shows the needle
// cannot be there. Same result as std::string_view::find.
inline std::size_t Find(std::string_view hay, std::string_view needle, std::size_t from = 0) {
  const BigramFilter* f = current_bigram_filter;
  if (f != nullptr && !f->MayContain(hay, needle)) return std::string_view::npos;
  return hay.find(needle, from);
}
inline std::size_t Find(std::string_view hay, char c, std::size_t from = 0) {
  return hay.find(c, from);
}

// Find(hay, c, from) when only a hit before from + limit is of use: a caller that looks for
// a closing byte at every opening one would otherwise search the whole rest of the value
// each time, quadratic on a value of openers and no closer.
inline std::size_t FindWithin(std::string_view hay, char c, std::size_t from, std::size_t limit) {
  return Find(hay.substr(0, std::min(hay.size(), from + limit)), c, from);
}

// Find(hay, needle, from) for `from` that only grow, as in a loop over the openers of a
// value looking for the closer after each: the hit found last is kept while it is still at
// or after `from`, and a value without the needle is searched once, not once per opener.
class ForwardFinder {
 public:
  ForwardFinder(std::string_view hay, std::string_view needle) : hay_(hay), needle_(needle) {}
  std::size_t From(std::size_t from) {
    // Hit (or none) was the first at or after `from_`; it still is for from_ <= from <= hit.
    if (from < from_ || (hit_ != std::string_view::npos && from > hit_)) {
      hit_ = Find(hay_, needle_, from);
      from_ = from;
    }
    return hit_;
  }

 private:
  std::string_view hay_;
  std::string_view needle_;
  std::size_t from_ = std::string_view::npos;  // nothing searched yet
  std::size_t hit_ = std::string_view::npos;
};

// hay.find_first_of(set, from) in one pass (libstdc++ calls memchr on the set per byte):
// a byte table, four bytes per test while none matches.
inline std::size_t FindFirstOf(std::string_view hay, std::string_view set, std::size_t from = 0) {
  if (set.size() == 1) return hay.find(set[0], from);
  bool table[256] = {};
  for (unsigned char c : set) table[c] = true;
  const auto* p = reinterpret_cast<const unsigned char*>(hay.data());
  const std::size_t n = hay.size();
  std::size_t i = from;
  for (; i + 4 <= n; i += 4) {
    if (table[p[i]] | table[p[i + 1]] | table[p[i + 2]] | table[p[i + 3]]) break;
  }
  for (; i < n; ++i) {
    if (table[p[i]]) return i;
  }
  return std::string_view::npos;
}
inline std::size_t FindFirstOf(std::string_view hay, char c, std::size_t from = 0) {
  return hay.find(c, from);
}

// Which first and last bytes (ASCII case folded) the words of a list have at each length:
// most words of a value are none of them, and this answers them before any lookup. A false
// Possible() is certain; a true one still needs the lookup. Used for the SQL keyword,
// function and catalog lists and the shell command list.
class WordShapes {
 public:
  static constexpr std::size_t kMaxLen = 64;
  void Add(std::string_view w) {
    if (w.empty()) return;
    if (w.size() > kMaxLen) {
      longer_ = true;
      return;
    }
    first_[w.size()].set(Fold(w.front()));
    last_[w.size()].set(Fold(w.back()));
  }
  bool Possible(std::string_view w) const {
    if (w.empty()) return false;
    if (w.size() > kMaxLen) return longer_;
    return first_[w.size()].test(Fold(w.front())) && last_[w.size()].test(Fold(w.back()));
  }

 private:
  static unsigned char Fold(char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c >= 'A' && c <= 'Z' ? static_cast<unsigned char>(c + 32) : c;
  }
  std::bitset<256> first_[kMaxLen + 1];
  std::bitset<256> last_[kMaxLen + 1];
  bool longer_ = false;  // some word is longer than kMaxLen
};

// A fixed, unkeyed 64-bit hash for the per-Scratch memories of clean values (inspector.cc,
// protocol.cc): the same in every process, so their behaviour (and instruction counts)
// repeat across runs and builds; keys made to collide only cost a fresh inspection. Eight
// bytes a step; the last up to eight bytes as one word read from the end (overlapping the
// step before), or for a short string its first, middle and last bytes: fixed-size loads
// only. Equal inputs hash equal, which is all a memory needs (it compares on a hit).
inline uint64_t MixWord(uint64_t h, uint64_t w) {
  h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
  return h ^ (h >> 29);
}
inline uint64_t MixBytes(uint64_t h, std::string_view s) {
  const char* p = s.data();
  const std::size_t n = s.size();
  uint64_t w = 0;
  if (n >= 8) {
    std::size_t i = 0;
    for (; i + 8 < n; i += 8) {
      std::memcpy(&w, p + i, 8);
      h = MixWord(h, w);
    }
    std::memcpy(&w, p + n - 8, 8);
  } else if (n >= 4) {
    uint32_t a, b;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + n - 4, 4);
    w = uint64_t{a} << 32 | b;
  } else if (n > 0) {
    w = static_cast<unsigned char>(p[0]) << 16 | static_cast<unsigned char>(p[n / 2]) << 8 |
        static_cast<unsigned char>(p[n - 1]);
  }
  return MixWord(h, w ^ (uint64_t{n} << 56));
}

// Eight bytes as one word ("SWAR"), for scans that skip ahead while nothing of interest
// occurs. Load8 reads p[0..8) (memcpy: no alignment or aliasing assumptions); the tests say
// exactly whether *some* byte of the word is of a kind (not which).
namespace swar {
inline constexpr uint64_t kOnes = 0x0101010101010101ULL;
inline constexpr uint64_t kHigh = 0x8080808080808080ULL;
inline uint64_t Load8(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}
inline bool AnyNonAscii(uint64_t w) { return (w & kHigh) != 0; }
// Some byte below `n` (n <= 0x80; a borrow only starts at such a byte).
inline bool AnyBelow(uint64_t w, uint64_t n) { return ((w - n * kOnes) & ~w & kHigh) != 0; }
inline bool AnyEqual(uint64_t w, unsigned char b) { return AnyBelow(w ^ (b * kOnes), 1); }
// High bit of each byte of `w` that is an ASCII capital letter (bytes >= 0x80 never are):
// adding to the low seven bits of a byte cannot carry into the next one.
inline uint64_t CapitalMask(uint64_t w) {
  const uint64_t low7 = w & ~kHigh;
  const uint64_t at_least_a = low7 + (0x80 - 'A') * kOnes;
  const uint64_t past_z = low7 + (0x80 - 'Z' - 1) * kOnes;
  return at_least_a & ~past_z & ~w & kHigh;
}
}  // namespace swar

// out[0, in.size()) = `in` with ASCII capitals lowered (other bytes as they are), eight bytes
// a step: a capital letter and its lower case differ in the 0x20 bit only.
inline void AsciiLowerInto(std::string_view in, char* out) {
  const std::size_t n = in.size();
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w = swar::Load8(in.data() + i);
    w |= swar::CapitalMask(w) >> 2;
    std::memcpy(out + i, &w, 8);
  }
  for (; i < n; ++i) out[i] = ToLowerAscii(in[i]);
}

// Whether single bytes occur in a value, for detectors that ask about many of them: a short
// value (most fields) is read once into a bitmap, a long one is asked by memchr.
class ByteSet {
 public:
  static constexpr std::size_t kShortBytes = 64;
  explicit ByteSet(std::string_view s) : s_(s) {
    if (s.size() <= kShortBytes) {
      for (unsigned char c : s) bits_[c >> 6] |= uint64_t{1} << (c & 63);
    }
  }
  bool Has(char ch) const {
    const auto c = static_cast<unsigned char>(ch);
    if (s_.size() <= kShortBytes) return ((bits_[c >> 6] >> (c & 63)) & 1) != 0;
    return s_.find(ch) != std::string_view::npos;
  }

 private:
  std::string_view s_;
  uint64_t bits_[4] = {0, 0, 0, 0};
};

// Where each needle of a fixed list first occurs in a haystack, found in one pass: a
// detector looking for a list of names pays one scan instead of one per name (on a large
// benign body, minified JavaScript, the per-name scans dominated). FirstAll(hay, first) sets
// first[i] to exactly Find(hay, needles[i]); needles the value's byte-pair filter rules out are not
// searched. Needles are lowercase and at least two bytes long.
class NeedleSet {
 public:
  static constexpr std::size_t kMax = 256;
  template <std::size_t N>
  explicit NeedleSet(const std::string_view (&needles)[N]) : NeedleSet(needles, N) {}
  NeedleSet(const std::string_view* needles, std::size_t n) : needles_(needles), n_(n) {
    SHIELDX_CHECK(n_ <= kMax);
    uint16_t count[kBuckets] = {};
    for (std::size_t i = 0; i < n_; ++i) {
      SHIELDX_CHECK(needles_[i].size() >= 2);
      ++count[Hash(needles_[i][0], needles_[i][1])];
    }
    start_[0] = 0;
    for (std::size_t h = 0; h < kBuckets; ++h) start_[h + 1] = start_[h] + count[h];
    uint16_t fill[kBuckets] = {};
    for (std::size_t i = 0; i < n_; ++i) {
      uint32_t h = Hash(needles_[i][0], needles_[i][1]);
      index_[start_[h] + fill[h]++] = static_cast<uint16_t>(i);
      uint32_t pair = static_cast<unsigned char>(needles_[i][0]) << 8 |
                      static_cast<unsigned char>(needles_[i][1]);
      pairs_[pair >> 6] |= uint64_t{1} << (pair & 63);
      min_len_ = std::min(min_len_, needles_[i].size());
      const int first = static_cast<unsigned char>(needles_[i][0]);
      lead_ = i == 0 || lead_ == first ? first : -1;
    }
  }
  std::size_t size() const { return n_; }
  void FirstAll(std::string_view hay, std::size_t* first) const {
    std::fill(first, first + n_, std::string_view::npos);
    const std::size_t n = hay.size();
    if (n < min_len_) return;
    bool live[kMax];
    std::size_t remaining = 0;
    const BigramFilter* f = current_bigram_filter;
    if (f == nullptr) {
      std::fill(live, live + n_, true);
      remaining = n_;
    } else {
      for (std::size_t i = 0; i < n_; ++i) {
        live[i] = f->MayContain(hay, needles_[i]);
        remaining += live[i];
      }
    }
    if (remaining == 0) return;
    // With needles ruled out, the scan stops only at pairs a live needle starts with: their
    // bits go into the calling thread's table for this call and are cleared after it (a few
    // words set and reset instead of stops at every pair of every needle).
    thread_local uint64_t live_pairs[1024] = {};
    uint16_t touched[kMax];
    std::size_t touched_n = 0;
    const uint64_t* table = pairs_;
    if (remaining < n_ && lead_ < 0) {
      for (std::size_t i = 0; i < n_; ++i) {
        if (!live[i]) continue;
        const uint32_t pair = static_cast<unsigned char>(needles_[i][0]) << 8 |
                              static_cast<unsigned char>(needles_[i][1]);
        live_pairs[pair >> 6] |= uint64_t{1} << (pair & 63);
        touched[touched_n++] = static_cast<uint16_t>(pair >> 6);
      }
      table = live_pairs;
    }
    struct Clear {
      const uint16_t* words;
      const std::size_t& n;
      ~Clear() {
        for (std::size_t k = 0; k < n; ++k) live_pairs[words[k]] = 0;
      }
    } clear{touched, touched_n};
    const auto* p = reinterpret_cast<const unsigned char*>(hay.data());
    auto starts = [table, p](std::size_t i) {
      const uint32_t pair = static_cast<uint32_t>(p[i]) << 8 | p[i + 1];
      return (table[pair >> 6] >> (pair & 63)) & 1;
    };
    for (std::size_t i = 0; i + 1 < n; ++i) {
      if (lead_ >= 0) {
        // Every needle starts with the same byte (".oast.fun", ".dnslog.cn"): memchr goes
        // from one to the next; no other position can start a needle.
        const void* q = std::memchr(p + i, lead_, n - 1 - i);
        if (q == nullptr) return;
        i = static_cast<std::size_t>(static_cast<const unsigned char*>(q) - p);
      } else {
        // Hot loop: four positions per test until a pair some needle starts with.
        while (i + 5 < n && !(starts(i) | starts(i + 1) | starts(i + 2) | starts(i + 3))) i += 4;
      }
      if (!starts(i)) continue;
      const uint32_t h = Hash(p[i], p[i + 1]);
      for (uint16_t k = start_[h]; k < start_[h + 1]; ++k) {
        std::size_t j = index_[k];
        if (!live[j]) continue;
        std::string_view nd = needles_[j];
        if (nd.size() <= n - i && p[i] == static_cast<unsigned char>(nd[0]) &&
            p[i + 1] == static_cast<unsigned char>(nd[1]) &&
            std::memcmp(p + i + 2, nd.data() + 2, nd.size() - 2) == 0) {
          first[j] = i;
          live[j] = false;
          if (--remaining == 0) return;
        }
      }
    }
  }

 private:
  static constexpr std::size_t kBuckets = 1024;
  static uint32_t Hash(unsigned char a, unsigned char b) { return (a * 37u + b) & 1023u; }
  const std::string_view* needles_;
  std::size_t n_;
  uint16_t start_[kBuckets + 1] = {};
  uint16_t index_[kMax] = {};
  uint64_t pairs_[1024] = {};       // exact first byte pairs of the needles
  std::size_t min_len_ = SIZE_MAX;  // shortest needle: shorter haystacks hold none
  int lead_ = -1;                   // the first byte of every needle, when they share one
};

// `lower` is already lowercase. Case-insensitive find of a lowercase needle.
inline std::size_t FindLower(std::string_view lower, std::string_view needle,
                             std::size_t from = 0) {
  return Find(lower, needle, from);
}

// Whole-word occurrence: the match is not surrounded by identifier characters.
inline std::size_t FindWord(std::string_view lower, std::string_view word, std::size_t from = 0) {
  while (true) {
    std::size_t p = Find(lower, word, from);
    if (p == std::string_view::npos) return p;
    bool left_ok = p == 0 || !IsIdentChar(static_cast<unsigned char>(lower[p - 1]));
    std::size_t e = p + word.size();
    bool right_ok = e >= lower.size() || !IsIdentChar(static_cast<unsigned char>(lower[e]));
    if (left_ok && right_ok) return p;
    from = p + 1;
  }
}

inline bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}
// ASCII case-insensitive equality and prefix test (header and argument names).
inline bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ToLowerAscii(a[i]) != ToLowerAscii(b[i])) return false;
  }
  return true;
}
inline bool IStartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && IEquals(s.substr(0, prefix.size()), prefix);
}
// ASCII case-insensitive find; npos for an empty needle.
inline std::size_t IFind(std::string_view hay, std::string_view needle, std::size_t from = 0) {
  if (needle.empty() || hay.size() < needle.size()) return std::string_view::npos;
  for (std::size_t i = from; i + needle.size() <= hay.size(); ++i) {
    if (IEquals(hay.substr(i, needle.size()), needle)) return i;
  }
  return std::string_view::npos;
}
inline bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

inline std::size_t SkipSpaces(std::string_view s, std::size_t i) {
  while (i < s.size() && IsSpaceChar(static_cast<unsigned char>(s[i]))) ++i;
  return i;
}

// Whether `needle` lies whole inside hay[start, end), for windows whose start only grows (the
// windows after each opener of a value): the first occurrence at or after `start` ends by
// `end`. That occurrence is kept while windows start before it, so a value of 30,000 openers
// costs one pass per needle, not one search per window. Same answers as
// Find(hay.substr(start, end - start), needle) != npos.
class WindowFinder {
 public:
  WindowFinder(std::string_view hay, std::string_view needle)
      : next_(hay, needle), size_(needle.size()) {}
  bool Contains(std::size_t start, std::size_t end) {
    if (end < start || end - start < size_) return false;
    const std::size_t hit = next_.From(start);
    return hit != std::string_view::npos && hit + size_ <= end;
  }

 private:
  ForwardFinder next_;
  std::size_t size_;
};

// After a run of digits that ends at `j`: an operator (* + - /), then a digit or a quote,
// spaces allowed between ("7*7", "7 * '7'"). Where that operand is, or npos.
inline std::size_t ArithmeticOperand(std::string_view s, std::size_t j) {
  const std::size_t k = SkipSpaces(s, j);
  if (k >= s.size() || !(s[k] == '*' || s[k] == '+' || s[k] == '-' || s[k] == '/')) {
    return std::string_view::npos;
  }
  const std::size_t m = SkipSpaces(s, k + 1);
  if (m < s.size() &&
      (IsAsciiDigit(static_cast<unsigned char>(s[m])) || s[m] == '\'' || s[m] == '"')) {
    return m;
  }
  return std::string_view::npos;
}

// Arithmetic on a number anywhere in `text`, the content of a template-injection probe.
inline bool ArithmeticIn(std::string_view text) {
  for (std::size_t i = 0; i + 2 < text.size(); ++i) {
    if (!IsAsciiDigit(static_cast<unsigned char>(text[i]))) continue;
    while (i < text.size() && IsAsciiDigit(static_cast<unsigned char>(text[i]))) ++i;
    if (ArithmeticOperand(text, i) != std::string_view::npos) return true;
  }
  return false;
}

// ArithmeticIn(s.substr(start, end - start)) for many windows of one text, from one pass: for
// each run of digits whose arithmetic fires, where its last digit is and where the operand
// after the operator is. A window holds arithmetic when a run with a digit at or after its
// start has that operand before its end (the leading digits a window cuts off do not change
// what follows the run).
class ArithmeticWindows {
 public:
  explicit ArithmeticWindows(std::string_view s) {
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (!IsAsciiDigit(static_cast<unsigned char>(s[i]))) continue;
      while (i < s.size() && IsAsciiDigit(static_cast<unsigned char>(s[i]))) ++i;
      const std::size_t m = ArithmeticOperand(s, i);
      if (m != std::string_view::npos) runs_.push_back({i - 1, m});
    }
  }
  bool In(std::size_t start, std::size_t end) const {
    // The operands grow with the runs: the first run reaching `start` has the nearest.
    auto it = std::lower_bound(runs_.begin(), runs_.end(), start,
                               [](const Run& r, std::size_t v) { return r.last_digit < v; });
    return it != runs_.end() && it->operand < end;
  }

 private:
  struct Run {
    std::size_t last_digit;
    std::size_t operand;
  };
  std::vector<Run> runs_;
};

// `s` without leading and trailing white space (IsSpaceChar).
inline std::string_view TrimSpaces(std::string_view s) {
  std::size_t b = SkipSpaces(s, 0);
  std::size_t e = s.size();
  while (e > b && IsSpaceChar(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

// The six-bit value of each byte in either base64 alphabet, or -1.
inline constexpr auto kBase64Digits = [] {
  std::array<int8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    t[c] = c >= 'A' && c <= 'Z'   ? static_cast<int8_t>(c - 'A')
           : c >= 'a' && c <= 'z' ? static_cast<int8_t>(c - 'a' + 26)
           : c >= '0' && c <= '9' ? static_cast<int8_t>(c - '0' + 52)
           : c == '+' || c == '-' ? int8_t{62}
           : c == '/' || c == '_' ? int8_t{63}
                                  : int8_t{-1};
  }
  return t;
}();

// Whether `c` is a digit of either base64 alphabet (not padding).
inline bool IsBase64Char(unsigned char c) { return kBase64Digits[c] >= 0; }

// Decodes base64 from the start of `in`, standard or URL-safe alphabet ('+' or '-', '/' or
// '_'), into `out` (at most `capacity` bytes), up to the first byte outside the alphabet
// (padding included). Returns the bytes written; `*consumed` is the input read.
inline std::size_t DecodeBase64Run(std::string_view in, char* out, std::size_t capacity,
                                   std::size_t* consumed) {
  std::size_t o = 0;
  uint32_t acc = 0;
  int bits = 0;
  std::size_t i = 0;
  for (; i < in.size() && o < capacity; ++i) {
    const int d = kBase64Digits[static_cast<unsigned char>(in[i])];
    if (d < 0) break;
    acc = acc << 6 | static_cast<uint32_t>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  *consumed = i;
  return o;
}

}  // namespace shieldx::detect

#endif  // SHIELDX_LIBS_DETECT_TEXT_UTIL_H_
