// Routing by method + path pattern.
//
// Patterns are absolute paths whose segments are literals, `{name}` (exactly one non-empty
// segment) or, as the last segment only, `{name...}` (the rest of the path, one or more
// segments, slashes kept). When several patterns match a path the most specific wins,
// compared segment by segment: literal beats {name} beats {name...}; so "/v1/sites/new" wins
// over "/v1/sites/{id}". Matching uses the raw (percent-encoded) path; parameter values are
// percent-decoded.
//
// Thread-safety: Add() must not race with anything; Find() is const and safe from any thread.
#ifndef SHIELDX_LIBS_HTTP_ROUTER_H_
#define SHIELDX_LIBS_HTTP_ROUTER_H_

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "libs/http/message.h"

namespace shieldx::http {

// Segments in one pattern; also the depth at which matching gives up on a path.
inline constexpr std::size_t kMaxPatternSegments = 32;

class Router {
 public:
  struct Match {
    int status = 404;  // 200 (handler set), 404 (no pattern) or 405 (method)
    const HttpHandler* handler = nullptr;
    std::string_view pattern;  // the matched pattern (200 and 405)
    std::string allow;         // 405: the methods the pattern serves, "GET, POST"
    std::vector<std::pair<std::string, std::string>> params;
  };

  // Registers `handler` for `method` on `pattern`. InvalidArgument on a malformed pattern or
  // method, AlreadyExists when the same method and pattern are registered twice.
  absl::Status Add(std::string_view method, std::string_view pattern, HttpHandler handler);

  // Resolves a request. A HEAD request falls back to the GET handler of the pattern.
  Match Find(std::string_view method, std::string_view path) const;

 private:
  enum class SegmentKind { kLiteral = 0, kParam = 1, kRest = 2 };
  struct Segment {
    SegmentKind kind;
    std::string text;  // literal text or parameter name
  };
  struct Pattern {
    std::string text;
    std::vector<Segment> segments;
    std::map<std::string, HttpHandler, std::less<>> handlers;  // by method
  };

  bool MatchPattern(const Pattern& p, const std::vector<std::string_view>& path_segments,
                    Match* m) const;
  void Resolve(const Pattern& p, std::string_view method, Match* m) const;

  std::vector<Pattern> patterns_;                          // sorted most specific first
  absl::flat_hash_map<std::string, std::size_t> literal_;  // all-literal pattern -> index
};

}  // namespace shieldx::http

#endif  // SHIELDX_LIBS_HTTP_ROUTER_H_
