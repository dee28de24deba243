#include "libs/http/router.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "libs/http/parser.h"
#include "libs/http/strings.h"

namespace shieldx::http {
namespace {

// Splits "/a/b/" into {"a", "b", ""}; "/" into {""}.
std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path[0] != '/') return out;
  path.remove_prefix(1);
  while (out.size() <= kMaxPatternSegments) {
    std::size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

bool IsParamName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

}  // namespace

absl::Status Router::Add(std::string_view method, std::string_view pattern, HttpHandler handler) {
  if (!IsValidMethod(method)) {
    return absl::InvalidArgumentError(
        absl::StrCat("route ", AV(pattern), ": bad method '", AV(method), "'"));
  }
  if (pattern.empty() || pattern[0] != '/') {
    return absl::InvalidArgumentError(absl::StrCat("route '", AV(pattern), "': must start with /"));
  }
  std::vector<std::string_view> raw = SplitPath(pattern);
  if (raw.size() > kMaxPatternSegments) {
    return absl::InvalidArgumentError(
        absl::StrCat("route ", AV(pattern), ": more than ", kMaxPatternSegments, " segments"));
  }
  Pattern p;
  p.text.assign(pattern);
  std::vector<std::string> names;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    std::string_view s = raw[i];
    if (s.starts_with("{") && s.ends_with("}")) {
      std::string_view name = s.substr(1, s.size() - 2);
      SegmentKind kind = SegmentKind::kParam;
      if (name.ends_with("...")) {
        name.remove_suffix(3);
        kind = SegmentKind::kRest;
        if (i + 1 != raw.size()) {
          return absl::InvalidArgumentError(absl::StrCat("route ", AV(pattern), ": {", AV(name),
                                                         "...} must be the last segment"));
        }
      }
      if (!IsParamName(name)) {
        return absl::InvalidArgumentError(
            absl::StrCat("route ", AV(pattern), ": bad parameter name '", AV(name), "'"));
      }
      if (std::find(names.begin(), names.end(), name) != names.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat("route ", AV(pattern), ": parameter '", AV(name), "' appears twice"));
      }
      names.emplace_back(name);
      p.segments.push_back({kind, std::string(name)});
    } else {
      if (s.find_first_of("{}") != std::string_view::npos) {
        return absl::InvalidArgumentError(
            absl::StrCat("route ", AV(pattern), ": braces inside a literal segment"));
      }
      p.segments.push_back({SegmentKind::kLiteral, std::string(s)});
    }
  }
  for (Pattern& existing : patterns_) {
    if (existing.text != p.text) continue;
    if (!existing.handlers.emplace(std::string(method), std::move(handler)).second) {
      return absl::AlreadyExistsError(
          absl::StrCat("route ", AV(method), " ", AV(pattern), " is already registered"));
    }
    return absl::OkStatus();
  }
  p.handlers.emplace(std::string(method), std::move(handler));
  patterns_.push_back(std::move(p));
  std::stable_sort(patterns_.begin(), patterns_.end(), [](const Pattern& a, const Pattern& b) {
    std::size_t n = std::min(a.segments.size(), b.segments.size());
    for (std::size_t i = 0; i < n; ++i) {
      if (a.segments[i].kind != b.segments[i].kind) {
        return a.segments[i].kind < b.segments[i].kind;
      }
    }
    return a.segments.size() > b.segments.size();
  });
  literal_.clear();
  for (std::size_t i = 0; i < patterns_.size(); ++i) {
    const auto& segs = patterns_[i].segments;
    if (std::all_of(segs.begin(), segs.end(),
                    [](const Segment& s) { return s.kind == SegmentKind::kLiteral; })) {
      literal_.emplace(patterns_[i].text, i);
    }
  }
  return absl::OkStatus();
}

bool Router::MatchPattern(const Pattern& p, const std::vector<std::string_view>& path_segments,
                          Match* m) const {
  m->params.clear();
  const std::size_t n = p.segments.size();
  bool has_rest = n > 0 && p.segments.back().kind == SegmentKind::kRest;
  if (has_rest ? path_segments.size() < n : path_segments.size() != n) return false;
  for (std::size_t i = 0; i < n; ++i) {
    const Segment& seg = p.segments[i];
    std::string_view got = path_segments[i];
    switch (seg.kind) {
      case SegmentKind::kLiteral:
        if (got != seg.text) return false;
        break;
      case SegmentKind::kParam: {
        if (got.empty()) return false;
        std::optional<std::string> decoded = PercentDecode(got, false);
        m->params.emplace_back(seg.text, decoded ? *decoded : std::string(got));
        break;
      }
      case SegmentKind::kRest: {
        std::string joined(path_segments[i]);
        for (std::size_t j = i + 1; j < path_segments.size(); ++j) {
          joined.push_back('/');
          joined.append(path_segments[j]);
        }
        std::optional<std::string> decoded = PercentDecode(joined, false);
        m->params.emplace_back(seg.text, decoded ? *decoded : joined);
        break;
      }
    }
  }
  return true;
}

void Router::Resolve(const Pattern& p, std::string_view method, Match* m) const {
  m->pattern = p.text;
  auto it = p.handlers.find(method);
  if (it == p.handlers.end() && method == "HEAD") it = p.handlers.find("GET");
  if (it != p.handlers.end()) {
    m->status = 200;
    m->handler = &it->second;
    return;
  }
  m->status = 405;
  m->allow.clear();
  for (const auto& [name, h] : p.handlers) {
    if (!m->allow.empty()) m->allow += ", ";
    m->allow += name;
  }
}

Router::Match Router::Find(std::string_view method, std::string_view path) const {
  Match m;
  auto lit = literal_.find(AV(path));
  if (lit != literal_.end()) {
    Resolve(patterns_[lit->second], method, &m);
    return m;
  }
  std::vector<std::string_view> segments = SplitPath(path);
  if (segments.empty() || segments.size() > kMaxPatternSegments) return m;
  for (const Pattern& p : patterns_) {
    if (MatchPattern(p, segments, &m)) {
      Resolve(p, method, &m);
      return m;
    }
  }
  m.params.clear();
  return m;
}

}  // namespace shieldx::http
