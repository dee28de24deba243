// A real proxy stack on loopback for the proxy integration tests: two tiny upstreams
// (libs/http servers answering "upstream-a <path>" / "upstream-b <path>"), ShieldX's front
// ends (SPOE agent, forward-auth HTTP, ext_authz gRPC) around a pipeline::Decider, the real
// HAProxy from Debian with deploy/haproxy/*, and the real nginx with deploy/nginx/nginx.conf.
//
// Either the front ends run in process around a Decider from outside (Start: the scripted
// test double), or the proxies ask a running ShieldX (StartAgainst: the real
// shieldx-orchestrator binary, real_pipeline_test.cc).
//
// Thread-safety: one controlling thread.
#ifndef SHIELDX_TESTS_INTEGRATION_PROXIES_PROXY_STACK_H_
#define SHIELDX_TESTS_INTEGRATION_PROXIES_PROXY_STACK_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "libs/http/server.h"
#include "libs/metrics/metrics.h"
#include "libs/pipeline/decision.h"
#include "libs/testing/process.h"
#include "services/orchestrator/frontends/frontends.h"

namespace shieldx::proxies_test {

// Binaries are looked up on PATH; Debian installs them under /usr/sbin.
inline constexpr char kHaproxyBinary[] = "/usr/sbin/haproxy";
inline constexpr char kNginxBinary[] = "/usr/sbin/nginx";

class Upstream {
 public:
  // Starts a server answering every GET/POST with "<name> <target>" and echoing the
  // X-ShieldX-* request headers it received as X-Seen-<name> response headers.
  static absl::StatusOr<std::unique_ptr<Upstream>> Start(std::string name);
  int port() const { return server_->port(); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port()); }

 private:
  std::unique_ptr<http::HttpServer> server_;
};

class ProxyStack {
 public:
  struct Options {
    bool haproxy = true;
    bool nginx = true;
    // SPOE address given to HAProxy ("" = the running agent). Tests of an unreachable agent
    // point it at a closed port.
    std::string spoe_addr_override;
    bool haproxy_fail_open = false;
  };

  // Starts the two upstreams only (their addresses go into the decider's script).
  static absl::StatusOr<std::unique_ptr<ProxyStack>> Create();

  // Starts the front ends around `decider` (which must outlive the stack) and the proxies.
  absl::Status Start(pipeline::Decider& decider, const Options& options);
  absl::Status Start(pipeline::Decider& decider) { return Start(decider, Options()); }

  // Starts only the proxies, asking the SPOE agent at `spoe_addr` and the forward-auth
  // endpoint at `authz_addr` ("ip:port") of a ShieldX running elsewhere. front_ends() must not
  // be used afterwards.
  absl::Status StartAgainst(const std::string& spoe_addr, const std::string& authz_addr,
                            const Options& options);

  ~ProxyStack();

  const Upstream& upstream_a() const { return *upstream_a_; }
  const Upstream& upstream_b() const { return *upstream_b_; }
  std::string haproxy_url() const { return "http://127.0.0.1:" + std::to_string(haproxy_port_); }
  std::string nginx_url() const { return "http://127.0.0.1:" + std::to_string(nginx_port_); }
  orchestrator::frontends::FrontEnds& front_ends() { return *front_ends_; }
  metrics::MetricsRegistry& metrics() { return metrics_; }
  // Logs of the proxies, for failure messages.
  std::string HaproxyLog() const;
  std::string NginxErrorLog() const;
  void KeepLogs() { dir_.Keep(); }

 private:
  explicit ProxyStack(testing::TempDir dir) : dir_(std::move(dir)) {}
  absl::Status StartProxies(const Options& options);
  absl::Status StartHaproxy(const Options& options);
  absl::Status StartNginx();

  testing::TempDir dir_;
  metrics::MetricsRegistry metrics_{"orchestrator"};
  std::unique_ptr<Upstream> upstream_a_;
  std::unique_ptr<Upstream> upstream_b_;
  std::unique_ptr<orchestrator::frontends::FrontEnds> front_ends_;
  std::unique_ptr<testing::Subprocess> haproxy_;
  std::unique_ptr<testing::Subprocess> nginx_;
  std::string spoe_addr_;   // what HAProxy asks (unless Options overrides it)
  std::string authz_addr_;  // what nginx asks
  int haproxy_port_ = 0;
  int nginx_port_ = 0;
};

}  // namespace shieldx::proxies_test

#endif  // SHIELDX_TESTS_INTEGRATION_PROXIES_PROXY_STACK_H_
