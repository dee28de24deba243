#include "services/orchestrator/frontends/frontends.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/base/status_macros.h"
#include "libs/http/server.h"
#include "libs/log/log.h"
#include "libs/rpc/server.h"
#include "libs/spoe/agent.h"
#include "services/orchestrator/frontends/common.h"
#include "services/orchestrator/frontends/ext_authz.h"
#include "services/orchestrator/frontends/forward_auth.h"
#include "services/orchestrator/frontends/spoe_frontend.h"

namespace shieldx::orchestrator::frontends {

struct FrontEnds::Impl {
  Impl(pipeline::Decider& decider, metrics::MetricsRegistry& registry)
      : decider(decider),
        spoe_metrics(&registry, pipeline::FrontEnd::kSpoe),
        forward_auth_metrics(&registry, pipeline::FrontEnd::kForwardAuth),
        ext_authz_metrics(&registry, pipeline::FrontEnd::kExtAuthz) {}

  pipeline::Decider& decider;
  FrontEndMetrics spoe_metrics;
  FrontEndMetrics forward_auth_metrics;
  FrontEndMetrics ext_authz_metrics;
  std::unique_ptr<SpoeFrontEnd> spoe;
  std::unique_ptr<spoe::Agent> agent;
  std::unique_ptr<ForwardAuthFrontEnd> forward_auth;
  std::unique_ptr<http::HttpServer> http_server;
  std::unique_ptr<ExtAuthzService> ext_authz;
  std::unique_ptr<rpc::GrpcServer> grpc_server;
  bool drained = false;
};

FrontEnds::FrontEnds(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

FrontEnds::~FrontEnds() { Drain(absl::ZeroDuration()); }

int FrontEnds::spoe_port() const { return impl_->agent ? impl_->agent->port() : 0; }
int FrontEnds::authz_http_port() const {
  return impl_->http_server ? impl_->http_server->port() : 0;
}
int FrontEnds::ext_authz_port() const {
  return impl_->grpc_server ? impl_->grpc_server->port() : 0;
}
grpc::Service* FrontEnds::ext_authz_service() { return impl_->ext_authz.get(); }

void FrontEnds::Drain(absl::Duration deadline) {
  if (impl_->drained) return;
  impl_->drained = true;
  // The three drain in turn; each gets the whole deadline (they are mostly idle by then).
  if (impl_->agent) impl_->agent->Shutdown(deadline);
  if (impl_->http_server) impl_->http_server->Shutdown(deadline);
  if (impl_->grpc_server) impl_->grpc_server->Shutdown(deadline);
}

namespace {

absl::Status Validate(const FrontEndsConfig& c) {
  auto bad = [](std::string_view field, std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("front ends: ", std::string(field), ": ", std::string(why)));
  };
  if (c.spoe_workers < 1 || c.spoe_workers > 64) return bad("spoe_workers", "must be in [1, 64]");
  if (c.authz_http_workers < 2 || c.authz_http_workers > 256) {
    return bad("authz_http_workers", "must be in [2, 256]");
  }
  if (c.spoe_max_frame_size < spoe::kMinFrameSize ||
      c.spoe_max_frame_size > spoe::kMaxFrameSizeCeiling) {
    return bad("spoe_max_frame_size", "must be in [256, 1048576]");
  }
  if (c.max_tarpit_ms < 0 || c.max_tarpit_ms > 60'000) {
    return bad("max_tarpit_ms", "must be in [0, 60000]");
  }
  if (c.max_concurrent_tarpits < 0) return bad("max_concurrent_tarpits", "must be >= 0");
  if (c.authz_http_path.empty() || c.authz_http_path.front() != '/') {
    return bad("authz_http_path", "must start with '/'");
  }
  if (c.spoe_message.empty()) return bad("spoe_message", "must not be empty");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<FrontEnds>> StartFrontEnds(const FrontEndsConfig& config,
                                                          pipeline::Decider& decider,
                                                          metrics::MetricsRegistry& metrics) {
  if (absl::Status s = Validate(config); !s.ok()) return s;
  auto impl = std::make_unique<FrontEnds::Impl>(decider, metrics);
  const absl::Duration max_tarpit = absl::Milliseconds(config.max_tarpit_ms);

  ExtAuthzOptions ext_options;
  ext_options.max_tarpit = max_tarpit;
  ext_options.max_concurrent_tarpits = static_cast<std::size_t>(config.max_concurrent_tarpits);
  impl->ext_authz =
      std::make_unique<ExtAuthzService>(ext_options, decider, &impl->ext_authz_metrics);
  // From here on, a failure returns and ~FrontEnds stops what was started.
  std::unique_ptr<FrontEnds> fe(new FrontEnds(std::move(impl)));
  FrontEnds::Impl& im = *fe->impl_;

  if (!config.spoe_listen.empty()) {
    auto addr = ParseListenAddress(config.spoe_listen);
    if (!addr.ok()) return Annotate(addr.status(), "spoe_listen");
    SpoeFrontEndOptions options;
    options.message_name = config.spoe_message;
    options.max_tarpit = max_tarpit;
    im.spoe = std::make_unique<SpoeFrontEnd>(options, decider, &im.spoe_metrics);
    spoe::AgentOptions agent_options;
    agent_options.host = addr->first;
    agent_options.port = addr->second;
    agent_options.worker_threads = config.spoe_workers;
    agent_options.max_frame_size = config.spoe_max_frame_size;
    agent_options.max_reply_delay = max_tarpit;
    agent_options.name = "shieldx";
    SpoeFrontEnd* handler = im.spoe.get();
    im.agent = std::make_unique<spoe::Agent>(
        agent_options,
        [handler](const spoe::NotifyRequest& req, spoe::NotifyReply* reply) {
          handler->Handle(req, reply);
        },
        &metrics);
    if (absl::Status s = im.agent->Start(); !s.ok()) return s;
  }

  if (!config.authz_http_listen.empty()) {
    auto addr = ParseListenAddress(config.authz_http_listen);
    if (!addr.ok()) return Annotate(addr.status(), "authz_http_listen");
    ForwardAuthOptions options;
    options.path = config.authz_http_path;
    options.max_tarpit = max_tarpit;
    // Tarpits sleep on server workers: keep at least one free for other requests.
    options.max_concurrent_tarpits = static_cast<std::size_t>(
        std::min(config.max_concurrent_tarpits, config.authz_http_workers - 1));
    im.forward_auth =
        std::make_unique<ForwardAuthFrontEnd>(options, decider, &im.forward_auth_metrics);
    http::HttpServerOptions server_options;
    server_options.host = addr->first;
    server_options.port = addr->second;
    server_options.worker_threads = config.authz_http_workers;
    server_options.name = "forward-auth";
    im.http_server = std::make_unique<http::HttpServer>(server_options, &metrics);
    if (absl::Status s = im.forward_auth->Register(*im.http_server); !s.ok()) return s;
    if (absl::Status s = im.http_server->Start(); !s.ok()) return s;
  }

  if (!config.ext_authz_listen.empty()) {
    rpc::ServerOptions options;
    options.listen_address = config.ext_authz_listen;
    im.grpc_server = std::make_unique<rpc::GrpcServer>(options, &metrics);
    im.grpc_server->RegisterService(im.ext_authz.get(), kExtAuthzServiceName);
    if (absl::StatusOr<int> port = im.grpc_server->Start(); !port.ok()) {
      im.grpc_server.reset();
      return Annotate(port.status(), "ext_authz_listen");
    }
  }
  log::Info("front ends started", {{"spoe_port", fe->spoe_port()},
                                   {"authz_http_port", fe->authz_http_port()},
                                   {"ext_authz_port", fe->ext_authz_port()}});
  return fe;
}

}  // namespace shieldx::orchestrator::frontends
