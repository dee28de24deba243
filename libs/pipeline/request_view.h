// RequestView: the pieces of a detect::HttpRequest the pipeline needs before and besides
// detection — normalised host and path, query and form arguments, lowercase header names,
// cookies — as views over per-thread reusable buffers, and the policy::PolicyInput built
// from them.
//
// Normalisation (for route matching and `http.path`): percent-decoding (an invalid escape is
// kept as is), '\' folded to '/', runs of '/' collapsed, "." and ".." segments removed (never
// above the root). Host: lowercase, port and trailing dot removed. Arguments are
// percent-decoded with '+' as space.
//
// Limits: at most kMaxViewArgs arguments, kMaxViewHeaders headers and kMaxViewCookies cookies
// are exposed (the rest are ignored by the policy; the detection engine still inspects them
// under its own limits).
//
// Thread-safety: a RequestView belongs to one thread; Build reuses its buffers, so after
// warm-up building a view does not allocate.
#ifndef SHIELDX_LIBS_PIPELINE_REQUEST_VIEW_H_
#define SHIELDX_LIBS_PIPELINE_REQUEST_VIEW_H_

#include <string>
#include <string_view>
#include <vector>

#include "libs/detect/request.h"
#include "libs/policy/policy.h"

namespace shieldx::pipeline {

inline constexpr std::size_t kMaxViewArgs = 256;
inline constexpr std::size_t kMaxViewHeaders = 128;
inline constexpr std::size_t kMaxViewCookies = 64;

// Lowercase, without port and trailing dot. `out` is reused.
void NormalizeHost(std::string_view host, std::string* out);
// See the file comment. `out` is reused.
void NormalizePath(std::string_view raw_path, std::string* out);

class RequestView {
 public:
  // Fills the view. `host` is the effective host (RequestContext::host, else the Host header).
  // `max_body_bytes` bounds the form body parsed for arguments.
  void Build(const detect::HttpRequest& request, std::string_view host, std::size_t max_body_bytes);

  std::string_view host() const { return host_; }
  std::string_view path() const { return path_; }
  std::string_view raw_path() const { return raw_path_; }
  std::string_view query() const { return query_; }
  std::string_view method() const { return method_; }
  std::string_view user_agent() const { return user_agent_; }
  // The value of a header (name lowercase), first occurrence; "" when absent.
  std::string_view Header(std::string_view lowercase_name) const;
  std::string_view Cookie(std::string_view name) const;

  const std::vector<policy::KeyValue>& args() const { return args_; }
  const std::vector<policy::KeyValue>& headers() const { return headers_; }
  const std::vector<policy::KeyValue>& cookies() const { return cookies_; }

 private:
  void AddArgs(std::string_view text, char separator);
  std::string host_, path_, lower_names_, decoded_;
  std::string_view raw_path_, query_, method_, user_agent_;
  std::vector<policy::KeyValue> args_, headers_, cookies_;
  // Offsets into decoded_/lower_names_ while building (views are fixed up at the end, after
  // the buffers stop growing).
  struct Part {
    std::string_view raw;  // when not decoded: a view into the request
    std::size_t pos = 0, len = 0;
    bool decoded = false;  // when decoded: decoded_[pos, pos+len)
  };
  std::vector<std::pair<Part, Part>> arg_spans_;
  std::vector<std::pair<std::size_t, std::size_t>> name_spans_;
};

}  // namespace shieldx::pipeline

#endif  // SHIELDX_LIBS_PIPELINE_REQUEST_VIEW_H_
