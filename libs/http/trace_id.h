// Trace id selection for incoming requests (HTTP and gRPC alike).
//
// Accepted sources, in order: a request id the caller chose (`x-request-id` for HTTP,
// `x-trace-id` for gRPC) when it is 1..64 characters of [A-Za-z0-9._-]; else the trace-id of
// a valid W3C `traceparent`; else a fresh id from shieldx::log::NewTraceId(). Anything else is
// ignored rather than trusted, so log lines never carry attacker-chosen bytes.
#ifndef SHIELDX_LIBS_HTTP_TRACE_ID_H_
#define SHIELDX_LIBS_HTTP_TRACE_ID_H_

#include <string>
#include <string_view>

namespace shieldx::http {

inline constexpr std::size_t kMaxRequestIdBytes = 64;

// The 32-hex-digit trace-id of a version-00 traceparent ("00-<32>-<16>-<2>"), or "" when the
// value is malformed or the id is all zeros.
std::string TraceIdFromTraceparent(std::string_view traceparent);

// True for 1..kMaxRequestIdBytes characters of [A-Za-z0-9._-].
bool IsValidRequestId(std::string_view request_id);

// The trace id to use for a request carrying these header values ("" when absent).
std::string ChooseTraceId(std::string_view request_id, std::string_view traceparent);

}  // namespace shieldx::http

#endif  // SHIELDX_LIBS_HTTP_TRACE_ID_H_
