#include "libs/detect/request.h"

namespace shieldx::detect {

HttpRequest OwnedHttpRequest::view() const {
  header_views_.clear();
  header_views_.reserve(headers.size());
  for (const auto& [n, v] : headers) header_views_.push_back(Header{n, v});
  return HttpRequest{method, uri, version, header_views_, body, client_ip};
}

const char* SourceName(Source s) {
  switch (s) {
    case Source::kRequest:
      return "request";
    case Source::kMethod:
      return "method";
    case Source::kPath:
      return "path";
    case Source::kPathSegment:
      return "path-segment";
    case Source::kQuery:
      return "query";
    case Source::kBodyForm:
      return "body-form";
    case Source::kMultipart:
      return "multipart";
    case Source::kJson:
      return "json";
    case Source::kXml:
      return "xml";
    case Source::kBodyRaw:
      return "body";
    case Source::kHeader:
      return "header";
    case Source::kCookie:
      return "cookie";
    case Source::kFileName:
      return "filename";
  }
  return "unknown";
}

}  // namespace shieldx::detect
