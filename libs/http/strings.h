// String helpers shared by the http library (this abseil's absl::string_view is not
// std::string_view, so absl::StrCat and friends need an explicit conversion).
#ifndef SHIELDX_LIBS_HTTP_STRINGS_H_
#define SHIELDX_LIBS_HTTP_STRINGS_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace shieldx::http {

inline absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// ASCII case-insensitive equality (header names, tokens).
inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace shieldx::http

#endif  // SHIELDX_LIBS_HTTP_STRINGS_H_
