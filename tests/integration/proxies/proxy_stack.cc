#include "tests/integration/proxies/proxy_stack.h"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"

namespace shieldx::proxies_test {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

absl::Status WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path);
  out << content;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Upstream>> Upstream::Start(std::string name) {
  auto up = std::unique_ptr<Upstream>(new Upstream());
  http::HttpServerOptions options;
  options.worker_threads = 2;
  options.name = name;
  up->server_ = std::make_unique<http::HttpServer>(options);
  auto handler = [name](const http::HttpRequest& req, http::HttpResponse& res) {
    // "/delay/<ms>..." answers after that many milliseconds (at most 2000).
    int delay_ms = 0;
    if (absl::StartsWith(req.target, "/delay/") &&
        absl::SimpleAtoi(req.target.substr(7, req.target.find('/', 7) - 7), &delay_ms)) {
      absl::SleepFor(absl::Milliseconds(std::clamp(delay_ms, 0, 2000)));
    }
    // "/status/<code>..." answers with that status.
    int status = 200;
    if (absl::StartsWith(req.target, "/status/")) {
      (void)absl::SimpleAtoi(req.target.substr(8, 3), &status);
    }
    res.Text(status, absl::StrCat(name, " ", req.target, "\n"));
    for (const auto& [header, value] : req.headers) {
      if (absl::StartsWithIgnoreCase(header, "x-shieldx-")) {
        res.headers.Add(absl::StrCat("X-Seen-", header), value);
      }
    }
  };
  for (const char* method : {"GET", "POST"}) {
    if (absl::Status s = up->server_->Handle(method, "/", handler); !s.ok()) return s;
    if (absl::Status s = up->server_->Handle(method, "/{rest...}", handler); !s.ok()) return s;
  }
  if (absl::Status s = up->server_->Start(); !s.ok()) return s;
  return up;
}

absl::StatusOr<std::unique_ptr<ProxyStack>> ProxyStack::Create() {
  absl::StatusOr<testing::TempDir> dir = testing::TempDir::Create("shieldx-proxies");
  if (!dir.ok()) return dir.status();
  auto stack = std::unique_ptr<ProxyStack>(new ProxyStack(std::move(*dir)));
  absl::StatusOr<std::unique_ptr<Upstream>> a = Upstream::Start("upstream-a");
  if (!a.ok()) return a.status();
  absl::StatusOr<std::unique_ptr<Upstream>> b = Upstream::Start("upstream-b");
  if (!b.ok()) return b.status();
  stack->upstream_a_ = std::move(*a);
  stack->upstream_b_ = std::move(*b);
  return stack;
}

absl::Status ProxyStack::Start(pipeline::Decider& decider, const Options& options) {
  orchestrator::frontends::FrontEndsConfig config;
  config.spoe_listen = "127.0.0.1:0";
  config.authz_http_listen = "127.0.0.1:0";
  config.ext_authz_listen = "127.0.0.1:0";
  absl::StatusOr<std::unique_ptr<orchestrator::frontends::FrontEnds>> fe =
      orchestrator::frontends::StartFrontEnds(config, decider, metrics_);
  if (!fe.ok()) return fe.status();
  front_ends_ = std::move(*fe);
  spoe_addr_ = absl::StrCat("127.0.0.1:", front_ends_->spoe_port());
  authz_addr_ = absl::StrCat("127.0.0.1:", front_ends_->authz_http_port());
  return StartProxies(options);
}

absl::Status ProxyStack::StartAgainst(const std::string& spoe_addr, const std::string& authz_addr,
                                      const Options& options) {
  spoe_addr_ = spoe_addr;
  authz_addr_ = authz_addr;
  return StartProxies(options);
}

absl::Status ProxyStack::StartProxies(const Options& options) {
  if (options.haproxy) {
    if (absl::Status s = StartHaproxy(options); !s.ok()) return s;
  }
  if (options.nginx) {
    if (absl::Status s = StartNginx(); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status ProxyStack::StartHaproxy(const Options& options) {
  absl::StatusOr<int> port = testing::PickFreePort();
  if (!port.ok()) return port.status();
  haproxy_port_ = *port;
  const std::string deploy = absl::StrCat(SHIELDX_SOURCE_ROOT, "/deploy/haproxy");
  testing::Subprocess::Options p;
  p.argv = {kHaproxyBinary, "-db", "-f", deploy + "/haproxy.cfg"};
  p.log_path = dir_.path() + "/haproxy.log";
  p.env = {absl::StrCat("SHIELDX_HAPROXY_BIND=127.0.0.1:", haproxy_port_),
           "SHIELDX_HAPROXY_DIR=" + deploy,
           "SHIELDX_SPOE_ADDR=" +
               (options.spoe_addr_override.empty() ? spoe_addr_ : options.spoe_addr_override),
           "SHIELDX_DEFAULT_UPSTREAM=" + upstream_a_->address()};
  if (options.haproxy_fail_open) p.env.push_back("SHIELDX_FAIL_OPEN=1");
  absl::StatusOr<testing::Subprocess> proc = testing::Subprocess::Start(p);
  if (!proc.ok()) return proc.status();
  haproxy_ = std::make_unique<testing::Subprocess>(std::move(*proc));
  if (absl::Status s = testing::WaitForTcpPort(haproxy_port_, absl::Seconds(10)); !s.ok()) {
    return absl::UnavailableError(
        absl::StrCat("haproxy did not listen: ", s.message(), "\n", HaproxyLog()));
  }
  return absl::OkStatus();
}

absl::Status ProxyStack::StartNginx() {
  absl::StatusOr<int> port = testing::PickFreePort();
  if (!port.ok()) return port.status();
  nginx_port_ = *port;
  const std::string prefix = dir_.path() + "/nginx";
  mkdir(prefix.c_str(), 0755);
  // Workers run as nobody when the test runs as root: their temp directories must be theirs.
  for (const char* sub : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) {
    const std::string d = prefix + "/" + sub;
    mkdir(d.c_str(), 0777);
    chmod(d.c_str(), 0777);
  }
  const std::string tmpl = ReadFile(absl::StrCat(SHIELDX_SOURCE_ROOT, "/deploy/nginx/nginx.conf"));
  if (tmpl.empty()) return absl::NotFoundError("deploy/nginx/nginx.conf is missing or empty");
  // The same substitution `envsubst` performs with an explicit variable list.
  const std::string conf = absl::StrReplaceAll(
      tmpl, {{"${SHIELDX_NGINX_PREFIX}", prefix},
             {"${SHIELDX_NGINX_LISTEN}", absl::StrCat("127.0.0.1:", nginx_port_)},
             {"${SHIELDX_AUTHZ_ADDR}", authz_addr_},
             {"${SHIELDX_DEFAULT_UPSTREAM}", upstream_a_->address()}});
  if (absl::StrContains(conf, "${SHIELDX_")) {
    return absl::InvalidArgumentError("nginx.conf has a placeholder the test does not fill");
  }
  if (absl::Status s = WriteFile(prefix + "/nginx.conf", conf); !s.ok()) return s;
  testing::Subprocess::Options p;
  p.argv = {kNginxBinary,           "-p", prefix,       "-e", prefix + "/error.log", "-c",
            prefix + "/nginx.conf", "-g", "daemon off;"};
  p.log_path = dir_.path() + "/nginx.out";
  absl::StatusOr<testing::Subprocess> proc = testing::Subprocess::Start(p);
  if (!proc.ok()) return proc.status();
  nginx_ = std::make_unique<testing::Subprocess>(std::move(*proc));
  if (absl::Status s = testing::WaitForTcpPort(nginx_port_, absl::Seconds(10)); !s.ok()) {
    return absl::UnavailableError(
        absl::StrCat("nginx did not listen: ", s.message(), "\n", NginxErrorLog()));
  }
  return absl::OkStatus();
}

std::string ProxyStack::HaproxyLog() const { return ReadFile(dir_.path() + "/haproxy.log"); }

std::string ProxyStack::NginxErrorLog() const {
  return ReadFile(dir_.path() + "/nginx/error.log") + ReadFile(dir_.path() + "/nginx.out");
}

ProxyStack::~ProxyStack() {
  // Proxies first (they hold connections to the front ends), then the front ends.
  if (haproxy_) haproxy_->Stop(absl::Seconds(3));
  if (nginx_) nginx_->Stop(absl::Seconds(3));
  if (front_ends_) front_ends_->Drain(absl::Seconds(1));
}

}  // namespace shieldx::proxies_test
