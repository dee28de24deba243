// The labeled request format (shared/formats/http-request-ndjson.md) and verdict lines.
//
// ParseRequestLine reads only what the engine may see (method, uri, version, headers, body /
// body_b64, client_ip) plus `id` for the verdict; label, category, source and placeholder
// are ignored by construction.
#ifndef SHIELDX_LIBS_DETECT_NDJSON_H_
#define SHIELDX_LIBS_DETECT_NDJSON_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "libs/detect/inspector.h"
#include "libs/detect/request.h"

namespace shieldx::detect {

// Bytes of one input line accepted (a 1 MiB body base64-encoded plus headers).
inline constexpr std::size_t kMaxRequestLineBytes = 4 * 1024 * 1024;

// Fills `out` and `id`. InvalidArgument names the problem (and never echoes the payload).
absl::Status ParseRequestLine(std::string_view line, OwnedHttpRequest* out, std::string* id);

// Strict RFC 4648 base64 (padding optional). False on invalid input.
bool DecodeBase64(std::string_view in, std::string* out);

// Appends `s` as a JSON string literal (with quotes).
void AppendJsonString(std::string_view s, std::string* out);

// One verdict line (no trailing newline).
std::string VerdictJson(std::string_view id, const Verdict& v, int64_t latency_us,
                        bool with_explanation);
std::string ErrorJson(std::string_view id, std::string_view error);

}  // namespace shieldx::detect

#endif  // SHIELDX_LIBS_DETECT_NDJSON_H_
