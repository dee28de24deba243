#include "libs/http/trace_id.h"

#include "absl/strings/ascii.h"
#include "libs/log/log.h"

namespace shieldx::http {
namespace {

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::string TraceIdFromTraceparent(std::string_view tp) {
  // version "00": exactly 55 characters.
  if (tp.size() != 55 || tp[2] != '-' || tp[35] != '-' || tp[52] != '-') return "";
  std::string_view version = tp.substr(0, 2);
  std::string_view trace_id = tp.substr(3, 32);
  std::string_view parent_id = tp.substr(36, 16);
  std::string_view flags = tp.substr(53, 2);
  if (version != "00" || !IsLowerHex(trace_id) || !IsLowerHex(parent_id) || !IsLowerHex(flags)) {
    return "";
  }
  if (trace_id.find_first_not_of('0') == std::string_view::npos) return "";
  return std::string(trace_id);
}

bool IsValidRequestId(std::string_view id) {
  if (id.empty() || id.size() > kMaxRequestIdBytes) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}

std::string ChooseTraceId(std::string_view request_id, std::string_view traceparent) {
  if (IsValidRequestId(request_id)) return std::string(request_id);
  std::string from_tp = TraceIdFromTraceparent(traceparent);
  if (!from_tp.empty()) return from_tp;
  return log::NewTraceId();
}

}  // namespace shieldx::http
