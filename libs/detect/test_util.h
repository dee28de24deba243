// Helpers shared by the detect tests (not part of the library).
#ifndef SHIELDX_LIBS_DETECT_TEST_UTIL_H_
#define SHIELDX_LIBS_DETECT_TEST_UTIL_H_

#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "libs/detect/inspector.h"

namespace shieldx::detect::testing {

inline OwnedHttpRequest Get(std::string uri) {
  OwnedHttpRequest r;
  r.method = "GET";
  r.uri = std::move(uri);
  r.headers = {{"Host", "shop.example"},
               {"User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"},
               {"Accept", "text/html"}};
  return r;
}

inline OwnedHttpRequest Post(std::string uri, std::string content_type, std::string body) {
  OwnedHttpRequest r = Get(std::move(uri));
  r.method = "POST";
  r.headers.emplace_back("Content-Type", std::move(content_type));
  r.headers.emplace_back("Content-Length", std::to_string(body.size()));
  r.body = std::move(body);
  return r;
}

inline OwnedHttpRequest WithHeader(OwnedHttpRequest r, std::string name, std::string value) {
  r.headers.emplace_back(std::move(name), std::move(value));
  return r;
}

// Percent-encodes everything but unreserved characters.
inline std::string UrlEncode(const std::string& s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// Default-profile inspector shared by a test binary (immutable, thread-safe).
inline const Inspector& DefaultInspector() {
  static const Inspector* in = Inspector::Create(Profile::Default()).value().release();
  return *in;
}

inline Verdict InspectWith(const Inspector& in, const OwnedHttpRequest& r) {
  auto scratch = in.NewScratch();
  return in.Inspect(r.view(), *scratch);
}

inline Verdict Inspect(const OwnedHttpRequest& r) { return InspectWith(DefaultInspector(), r); }

// Verdict for `value` sent as query argument q.
inline Verdict InspectQueryValue(const std::string& value) {
  return Inspect(Get("/search?q=" + UrlEncode(value)));
}

// `s` as a JSON string literal (quotes, backslashes, newlines and tabs escaped).
inline std::string JsonQuote(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += c;
    } else if (c == '\n') {
      o += "\\n";
    } else if (c == '\t') {
      o += "\\t";
    } else {
      o += c;
    }
  }
  return o + "\"";
}

// A value as an issue tracker's form field and as a snippet editor's JSON body.
inline Verdict InspectAsForm(const std::string& value) {
  return Inspect(Post("/tickets/new", "application/x-www-form-urlencoded",
                      "title=Issue&description=" + UrlEncode(value)));
}
inline Verdict InspectAsJson(const std::string& value) {
  return Inspect(
      Post("/api/gists", "application/json",
           "{\"filename\":\"snippet.txt\",\"content\":" + JsonQuote(value) + ",\"public\":false}"));
}

inline bool Flagged(const Verdict& v) { return v.action != Action::kAllow; }

inline bool HasCategory(const Verdict& v, Category c) {
  return (v.categories >> static_cast<int>(c)) & 1u;
}

inline bool HasRule(const Verdict& v, std::string_view rule) {
  for (const Finding& f : v.findings) {
    if (f.rule == rule) return true;
  }
  return false;
}

// Each value, inspected the way `inspect` sends it (InspectAsForm, InspectAsJson, ...), is
// allowed; or blocked with a finding of `category`.
template <typename InspectFn>
void ExpectAllAllowed(InspectFn inspect, std::initializer_list<const char*> values) {
  for (const char* v : values) {
    Verdict r = inspect(v);
    EXPECT_FALSE(Flagged(r)) << v << " -> " << r.explanation;
  }
}
template <typename InspectFn>
void ExpectAllBlockedAs(InspectFn inspect, Category category,
                        std::initializer_list<const char*> values) {
  for (const char* v : values) {
    Verdict r = inspect(v);
    EXPECT_TRUE(HasCategory(r, category) && Flagged(r)) << v << " -> " << r.explanation;
  }
}

}  // namespace shieldx::detect::testing

#endif  // SHIELDX_LIBS_DETECT_TEST_UTIL_H_
