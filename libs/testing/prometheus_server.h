// PrometheusServer: a real Prometheus on a free loopback port scraping given targets, for
// tests of metrics and of the runbook's PromQL.
//
//   ASSERT_OK_AND_ASSIGN(auto prom, PrometheusServer::Start({"127.0.0.1:9464"}));
//   ASSERT_OK_AND_ASSIGN(std::string json, prom->Query("up"));
//
// The configuration is generated into a TempDir (with the TSDB), one scrape job holding all
// targets, scraped every `scrape_interval`. Start returns once `/-/ready` answers 200.
//
// Thread-safety: Query is thread-safe; Start/Stop are for the test thread.
#ifndef SHIELDX_LIBS_TESTING_PROMETHEUS_SERVER_H_
#define SHIELDX_LIBS_TESTING_PROMETHEUS_SERVER_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/testing/process.h"

namespace shieldx::testing {

class PrometheusServer {
 public:
  struct Options {
    // Value of the `job` label of every target.
    std::string job_name = "shieldx-test";
    // Fast enough that a test sees a sample within a couple of seconds.
    absl::Duration scrape_interval = absl::Seconds(1);
  };
  // How long Start waits for /-/ready.
  static constexpr absl::Duration kStartTimeout = absl::Seconds(30);
  // Bound on the body of a query answer held in memory.
  static constexpr size_t kMaxQueryResponseBytes = 4 * 1024 * 1024;

  // `scrape_targets` are "host:port" strings whose /metrics is scraped (may be empty).
  static absl::StatusOr<std::unique_ptr<PrometheusServer>> Start(
      const std::vector<std::string>& scrape_targets);
  static absl::StatusOr<std::unique_ptr<PrometheusServer>> Start(
      const std::vector<std::string>& scrape_targets, const Options& options);

  PrometheusServer(const PrometheusServer&) = delete;
  PrometheusServer& operator=(const PrometheusServer&) = delete;
  ~PrometheusServer();

  int port() const { return port_; }
  // "http://127.0.0.1:PORT".
  std::string url() const;
  const std::string& job_name() const { return options_.job_name; }

  // Runs an instant query through /api/v1/query and returns the response JSON verbatim
  // (`{"status":"success","data":{"resultType":...,"result":[...]}}`). A non-200 answer
  // (e.g. a PromQL syntax error) is InvalidArgument carrying Prometheus's error body;
  // a server that cannot be reached is Unavailable.
  absl::StatusOr<std::string> Query(const std::string& promql) const;

  // Stops the server. Idempotent.
  void Stop();

  std::string log_path() const;

 private:
  PrometheusServer(Options options, TempDir dir, int port)
      : options_(std::move(options)), dir_(std::move(dir)), port_(port) {}
  absl::Status Launch(const std::vector<std::string>& scrape_targets);

  Options options_;
  TempDir dir_;
  int port_;
  std::optional<Subprocess> process_;
};

// GET `url` with a timeout; returns the HTTP status and up to `max_bytes` of body
// (ResourceExhausted beyond). Unavailable when the connection fails. Exposed for fixtures
// and tests that poll HTTP endpoints (/readyz, /metrics).
struct HttpResponse {
  long status = 0;
  std::string body;
};
absl::StatusOr<HttpResponse> HttpGet(const std::string& url, absl::Duration timeout,
                                     size_t max_bytes = 4 * 1024 * 1024);

}  // namespace shieldx::testing

#endif  // SHIELDX_LIBS_TESTING_PROMETHEUS_SERVER_H_
