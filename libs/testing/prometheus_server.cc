#include "libs/testing/prometheus_server.h"

#include <curl/curl.h>

#include <fstream>
#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"

namespace shieldx::testing {
namespace {

struct Sink {
  std::string* body;
  size_t max_bytes;
  bool overflow = false;
};

size_t WriteToSink(char* data, size_t size, size_t nmemb, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const size_t n = size * nmemb;
  if (sink->body->size() + n > sink->max_bytes) {
    sink->overflow = true;
    return 0;  // aborts the transfer
  }
  sink->body->append(data, n);
  return n;
}

std::string YamlQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "''";
    else
      out += c;
  }
  return out + "'";
}

}  // namespace

absl::StatusOr<HttpResponse> HttpGet(const std::string& url, absl::Duration timeout,
                                     size_t max_bytes) {
  static std::once_flag init;
  std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return absl::InternalError("curl_easy_init failed");
  HttpResponse response;
  Sink sink{.body = &response.body, .max_bytes = max_bytes};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(absl::ToInt64Milliseconds(timeout)));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, WriteToSink);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  curl_easy_cleanup(curl);
  if (sink.overflow) {
    return absl::ResourceExhaustedError(
        absl::StrCat("GET ", url, ": body exceeds ", max_bytes, " bytes"));
  }
  if (rc != CURLE_OK) {
    return absl::UnavailableError(absl::StrCat("GET ", url, ": ", curl_easy_strerror(rc)));
  }
  return response;
}

absl::StatusOr<std::unique_ptr<PrometheusServer>> PrometheusServer::Start(
    const std::vector<std::string>& scrape_targets) {
  return Start(scrape_targets, Options());
}

absl::StatusOr<std::unique_ptr<PrometheusServer>> PrometheusServer::Start(
    const std::vector<std::string>& scrape_targets, const Options& options) {
  auto dir = TempDir::Create("shieldx-prometheus");
  if (!dir.ok()) return dir.status();
  auto port = PickFreePort();
  if (!port.ok()) return port.status();
  std::unique_ptr<PrometheusServer> server(new PrometheusServer(options, std::move(*dir), *port));
  absl::Status s = server->Launch(scrape_targets);
  if (!s.ok()) return s;
  return server;
}

PrometheusServer::~PrometheusServer() { Stop(); }

std::string PrometheusServer::url() const { return absl::StrCat("http://127.0.0.1:", port_); }

std::string PrometheusServer::log_path() const { return dir_.path() + "/prometheus.log"; }

absl::Status PrometheusServer::Launch(const std::vector<std::string>& scrape_targets) {
  const std::string config_path = dir_.path() + "/prometheus.yml";
  {
    std::vector<std::string> quoted;
    for (const auto& t : scrape_targets) quoted.push_back(YamlQuote(t));
    const std::string interval =
        absl::StrCat(absl::ToInt64Milliseconds(options_.scrape_interval), "ms");
    std::ofstream out(config_path);
    out << "global:\n"
        << "  scrape_interval: " << interval << "\n"
        << "  evaluation_interval: " << interval << "\n"
        << "scrape_configs:\n"
        << "  - job_name: " << YamlQuote(options_.job_name) << "\n"
        << "    scrape_timeout: " << interval << "\n"
        << "    static_configs:\n"
        << "      - targets: [" << absl::StrJoin(quoted, ", ") << "]\n";
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", config_path));
  }
  Subprocess::Options opts;
  opts.argv = {"prometheus", "--config.file=" + config_path,
               "--storage.tsdb.path=" + dir_.path() + "/data",
               "--web.listen-address=" + absl::StrCat("127.0.0.1:", port_)};
  opts.log_path = log_path();
  auto proc = Subprocess::Start(opts);
  if (!proc.ok()) return proc.status();
  process_.emplace(std::move(*proc));

  const absl::Time deadline = absl::Now() + kStartTimeout;
  const std::string ready_url = url() + "/-/ready";
  while (true) {
    auto r = HttpGet(ready_url, absl::Seconds(1), 64 * 1024);
    if (r.ok() && r->status == 200) return absl::OkStatus();
    if (!process_->Running()) {
      process_.reset();
      return absl::InternalError(
          absl::StrCat("prometheus on port ", port_, " exited at start; see ", log_path()));
    }
    if (absl::Now() >= deadline) {
      Stop();
      return absl::DeadlineExceededError(
          absl::StrCat("prometheus on port ", port_, " not ready within ",
                       absl::FormatDuration(kStartTimeout), "; see ", log_path()));
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
}

absl::StatusOr<std::string> PrometheusServer::Query(const std::string& promql) const {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return absl::InternalError("curl_easy_init failed");
  char* escaped = curl_easy_escape(curl, promql.c_str(), static_cast<int>(promql.size()));
  const std::string query_url = absl::StrCat(url(), "/api/v1/query?query=", escaped);
  curl_free(escaped);
  curl_easy_cleanup(curl);
  auto r = HttpGet(query_url, absl::Seconds(10), kMaxQueryResponseBytes);
  if (!r.ok()) return r.status();
  if (r->status != 200) {
    return absl::InvalidArgumentError(
        absl::StrCat("prometheus query failed with HTTP ", r->status, ": ", r->body));
  }
  return std::move(r->body);
}

void PrometheusServer::Stop() {
  if (!process_.has_value()) return;
  process_->Stop();
  process_.reset();
}

}  // namespace shieldx::testing
