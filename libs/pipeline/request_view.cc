#include "libs/pipeline/request_view.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace shieldx::pipeline {

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Appends the percent-decoded `in` to `out`.
void PercentDecode(std::string_view in, bool plus_is_space, std::string* out) {
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%' && i + 2 < in.size()) {
      const int hi = HexValue(in[i + 1]), lo = HexValue(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out->push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out->push_back(plus_is_space && c == '+' ? ' ' : c);
  }
}

bool NeedsDecode(std::string_view s) { return s.find_first_of("%+") != std::string_view::npos; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

void NormalizeHost(std::string_view host, std::string* out) {
  out->clear();
  if (!host.empty() && host.front() == '[') {  // IPv6 literal: keep the brackets' content
    const std::size_t close = host.find(']');
    host = close == std::string_view::npos ? host.substr(1) : host.substr(1, close - 1);
  } else {
    const std::size_t colon = host.find(':');
    if (colon != std::string_view::npos) host = host.substr(0, colon);
  }
  while (!host.empty() && host.back() == '.') host.remove_suffix(1);
  out->reserve(host.size());
  for (char c : host) out->push_back(absl::ascii_tolower(static_cast<unsigned char>(c)));
}

void NormalizePath(std::string_view raw_path, std::string* out) {
  std::string& s = *out;
  s.clear();
  s.push_back('/');
  PercentDecode(raw_path, false, &s);
  // Resolve in place: the write cursor `w` never passes the read cursor `r`.
  const std::size_t len = s.size();
  std::size_t w = 0, r = 0;
  while (r < len) {
    while (r < len && (s[r] == '/' || s[r] == '\\')) ++r;  // at a separator run
    const std::size_t seg = r;
    while (r < len && s[r] != '/' && s[r] != '\\') ++r;
    const std::size_t seg_len = r - seg;
    const bool last = r >= len;
    if (seg_len == 0 || (seg_len == 1 && s[seg] == '.')) {
      if (last && (w == 0 || s[w - 1] != '/')) s[w++] = '/';  // keep a trailing slash
      continue;
    }
    if (seg_len == 2 && s[seg] == '.' && s[seg + 1] == '.') {
      if (w > 0 && s[w - 1] == '/') --w;  // drop the previous segment, never above the root
      while (w > 0 && s[w - 1] != '/') --w;
      if (w == 0) s[w++] = '/';
      continue;
    }
    if (w == 0 || s[w - 1] != '/') s[w++] = '/';
    for (std::size_t i = 0; i < seg_len; ++i) s[w++] = s[seg + i];
  }
  if (w == 0) s[w++] = '/';
  s.resize(w);
}

void RequestView::AddArgs(std::string_view text, char separator) {
  auto part = [this](std::string_view raw) {
    Part p;
    if (!NeedsDecode(raw)) {
      p.raw = raw;
      return p;
    }
    p.decoded = true;
    p.pos = decoded_.size();
    PercentDecode(raw, true, &decoded_);
    p.len = decoded_.size() - p.pos;
    return p;
  };
  while (!text.empty() && arg_spans_.size() < kMaxViewArgs) {
    const std::size_t end = text.find(separator);
    const std::string_view pair = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    const std::string_view name = pair.substr(0, eq);
    const std::string_view value =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    arg_spans_.emplace_back(part(name), part(value));
  }
}

void RequestView::Build(const detect::HttpRequest& request, std::string_view host,
                        std::size_t max_body_bytes) {
  method_ = request.method;
  args_.clear();
  headers_.clear();
  cookies_.clear();
  arg_spans_.clear();
  decoded_.clear();
  lower_names_.clear();
  user_agent_ = {};

  std::string_view uri = request.uri;
  // Absolute-form request targets: drop scheme and authority.
  if (!uri.empty() && uri.front() != '/') {
    const std::size_t scheme = uri.find("://");
    if (scheme != std::string_view::npos) {
      const std::size_t slash = uri.find('/', scheme + 3);
      uri = slash == std::string_view::npos ? std::string_view("/") : uri.substr(slash);
    }
  }
  const std::size_t hash = uri.find('#');
  if (hash != std::string_view::npos) uri = uri.substr(0, hash);
  const std::size_t q = uri.find('?');
  raw_path_ = uri.substr(0, q);
  query_ = q == std::string_view::npos ? std::string_view() : uri.substr(q + 1);
  NormalizePath(raw_path_, &path_);

  // Headers: lowercase names into one buffer (offsets first; views fixed up below).
  std::string_view host_header;
  std::string_view content_type;
  std::vector<std::pair<std::size_t, std::size_t>>& name_spans = name_spans_;
  name_spans.clear();
  std::size_t count = 0;
  for (const detect::Header& h : request.headers) {
    if (count++ >= kMaxViewHeaders) break;
    name_spans.emplace_back(lower_names_.size(), h.name.size());
    for (char c : h.name)
      lower_names_.push_back(absl::ascii_tolower(static_cast<unsigned char>(c)));
  }
  for (std::size_t i = 0; i < name_spans.size(); ++i) {
    const std::string_view name(lower_names_.data() + name_spans[i].first, name_spans[i].second);
    const std::string_view value = Trim(request.headers[i].value);
    headers_.push_back(policy::KeyValue{name, value});
    if (name == "host" && host_header.empty()) host_header = value;
    if (name == "user-agent" && user_agent_.empty()) user_agent_ = value;
    if (name == "content-type" && content_type.empty()) content_type = value;
    if (name == "cookie") {
      std::string_view rest = value;
      while (!rest.empty() && cookies_.size() < kMaxViewCookies) {
        const std::size_t semi = rest.find(';');
        std::string_view pair = Trim(rest.substr(0, semi));
        rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
        if (pair.empty()) continue;
        const std::size_t eq = pair.find('=');
        cookies_.push_back(policy::KeyValue{
            Trim(pair.substr(0, eq)),
            eq == std::string_view::npos ? std::string_view() : Trim(pair.substr(eq + 1))});
      }
    }
  }
  NormalizeHost(host.empty() ? host_header : host, &host_);

  AddArgs(query_, '&');
  if (!request.body.empty() &&
      absl::StartsWithIgnoreCase(absl::string_view(content_type.data(), content_type.size()),
                                 "application/x-www-form-urlencoded")) {
    AddArgs(request.body.substr(0, std::min(request.body.size(), max_body_bytes)), '&');
  }
  for (const auto& [name, value] : arg_spans_) {
    auto view = [this](const Part& p) {
      return p.decoded ? std::string_view(decoded_.data() + p.pos, p.len) : p.raw;
    };
    args_.push_back(policy::KeyValue{view(name), view(value)});
  }
}

std::string_view RequestView::Header(std::string_view lowercase_name) const {
  for (const policy::KeyValue& kv : headers_) {
    if (kv.name == lowercase_name) return kv.value;
  }
  return {};
}

std::string_view RequestView::Cookie(std::string_view name) const {
  for (const policy::KeyValue& kv : cookies_) {
    if (kv.name == name) return kv.value;
  }
  return {};
}

}  // namespace shieldx::pipeline
