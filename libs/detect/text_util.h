// Small ASCII helpers shared by the detectors (all case-insensitive variants expect the
// needle in lowercase).
#ifndef SHIELDX_LIBS_DETECT_TEXT_UTIL_H_
#define SHIELDX_LIBS_DETECT_TEXT_UTIL_H_

#include <cstddef>
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

// `lower` is already lowercase. Case-insensitive find of a lowercase needle.
inline std::size_t FindLower(std::string_view lower, std::string_view needle,
                             std::size_t from = 0) {
  return lower.find(needle, from);
}

// Whole-word occurrence: the match is not surrounded by identifier characters.
inline std::size_t FindWord(std::string_view lower, std::string_view word, std::size_t from = 0) {
  while (true) {
    std::size_t p = lower.find(word, from);
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
