#include "libs/http/client.h"

#include <curl/curl.h>

#include <algorithm>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "libs/http/strings.h"

namespace shieldx::http {
namespace {

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Sink {
  ClientResponse* response;
  bool too_large = false;
};

size_t OnBody(char* data, size_t size, size_t nmemb, void* user) {
  auto* sink = static_cast<Sink*>(user);
  size_t n = size * nmemb;
  if (sink->response->body.size() + n > kMaxClientResponseBytes) {
    sink->too_large = true;
    return 0;
  }
  sink->response->body.append(data, n);
  return n;
}

size_t OnHeader(char* data, size_t size, size_t nmemb, void* user) {
  auto* sink = static_cast<Sink*>(user);
  size_t n = size * nmemb;
  std::string_view line(data, n);
  if (line.starts_with("HTTP/")) {
    sink->response->headers.clear();  // a new (e.g. final after 100-continue) response
    return n;
  }
  std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  absl::string_view value = absl::StripAsciiWhitespace(AV(line.substr(colon + 1)));
  sink->response->headers.Add(std::string(line.substr(0, colon)), std::string(value));
  return n;
}

}  // namespace

absl::StatusOr<ClientResponse> Fetch(const ClientRequest& request) {
  GlobalInit();
  std::string url = request.url;
  if (url.find("://") == std::string::npos) url = "http://" + url;
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return absl::InternalError("curl_easy_init failed");
  ClientResponse response;
  Sink sink{&response};
  curl_slist* headers = nullptr;
  for (const auto& [k, v] : request.headers) {
    headers = curl_slist_append(headers, absl::StrCat(k, ": ", v).c_str());
  }
  long timeout_ms = std::max<long>(1, absl::ToInt64Milliseconds(request.timeout));
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &sink);
  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  std::string what = absl::StrCat(request.method, " ", url);
  switch (rc) {
    case CURLE_OK:
      break;
    case CURLE_OPERATION_TIMEDOUT:
      return absl::DeadlineExceededError(
          absl::StrCat(what, ": no answer within ", absl::FormatDuration(request.timeout)));
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return absl::InvalidArgumentError(absl::StrCat(what, ": ", curl_easy_strerror(rc)));
    case CURLE_WRITE_ERROR:
      if (sink.too_large) {
        return absl::ResourceExhaustedError(
            absl::StrCat(what, ": body exceeds ", kMaxClientResponseBytes, " bytes"));
      }
      [[fallthrough]];
    default:
      return absl::UnavailableError(absl::StrCat(what, ": ", curl_easy_strerror(rc)));
  }
  response.status = static_cast<int>(status);
  return response;
}

absl::StatusOr<ClientResponse> HttpGet(std::string_view url, absl::Duration timeout) {
  ClientRequest req;
  req.url.assign(url);
  req.timeout = timeout;
  return Fetch(req);
}

}  // namespace shieldx::http
