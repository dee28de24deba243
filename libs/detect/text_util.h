// Small ASCII helpers shared by the detectors (all case-insensitive variants expect the
// needle in lowercase).
#ifndef SHIELDX_LIBS_DETECT_TEXT_UTIL_H_
#define SHIELDX_LIBS_DETECT_TEXT_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace shieldx::detect {

inline bool IsAsciiAlpha(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
inline bool IsAsciiDigit(unsigned char c) { return c >= '0' && c <= '9'; }
inline bool IsAsciiAlnum(unsigned char c) { return IsAsciiAlpha(c) || IsAsciiDigit(c); }
inline bool IsIdentChar(unsigned char c) { return IsAsciiAlnum(c) || c == '_' || c == '$'; }
inline bool IsSpaceChar(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
inline char ToLowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// Which byte pairs occur in one value (1024 hashed bits). The detectors look for hundreds of
// keywords in the same value; a keyword with a pair the value does not have cannot occur,
// so the scan for it is skipped. Built once per value by the inspector (Inspector::
// RunDetectors) and consulted by Find() below for any haystack that lies inside that value.
class BigramFilter {
 public:
  void Build(std::string_view s) {
    for (uint64_t& w : bits_) w = 0;
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    for (std::size_t i = 0; i + 1 < s.size(); ++i) {
      uint32_t h = Hash(p[i], p[i + 1]);
      bits_[h >> 6] |= uint64_t{1} << (h & 63);
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
      uint32_t h = Hash(n[i], n[i + 1]);
      if (!(bits_[h >> 6] & (uint64_t{1} << (h & 63)))) return false;
    }
    return true;
  }

 private:
  static uint32_t Hash(unsigned char a, unsigned char b) { return (a * 37u + b) & 1023u; }
  uint64_t bits_[16] = {};
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

// hay.find_first_of(set, from) in one pass (libstdc++ calls memchr on the set per byte).
inline std::size_t FindFirstOf(std::string_view hay, std::string_view set, std::size_t from = 0) {
  if (set.size() == 1) return hay.find(set[0], from);
  uint64_t table[4] = {0, 0, 0, 0};
  for (unsigned char c : set) table[c >> 6] |= uint64_t{1} << (c & 63);
  for (std::size_t i = from; i < hay.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(hay[i]);
    if (table[c >> 6] & (uint64_t{1} << (c & 63))) return i;
  }
  return std::string_view::npos;
}
inline std::size_t FindFirstOf(std::string_view hay, char c, std::size_t from = 0) {
  return hay.find(c, from);
}

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
inline bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

inline std::size_t SkipSpaces(std::string_view s, std::size_t i) {
  while (i < s.size() && IsSpaceChar(static_cast<unsigned char>(s[i]))) ++i;
  return i;
}

}  // namespace shieldx::detect

#endif  // SHIELDX_LIBS_DETECT_TEXT_UTIL_H_
