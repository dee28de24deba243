#include "libs/rpc/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/impl/server_builder_option.h>
#include <grpcpp/impl/server_builder_plugin.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "libs/base/check.h"
#include "libs/log/log.h"
#include "libs/rpc/interceptors.h"
#include "libs/rpc/tls_files.h"

namespace shieldx::rpc {
namespace {

constexpr char kReflectionPluginName[] = "proto_server_reflection";

int Ms(absl::Duration d) {
  return static_cast<int>(std::clamp<int64_t>(absl::ToInt64Milliseconds(d), 0, INT32_MAX));
}

// Puts the reflection plugin on this builder exactly when wanted. Linking the reflection
// library registers the plugin for every ServerBuilder in the process (a static
// initialiser), so "off" must actively remove it.
class ReflectionOption final : public grpc::ServerBuilderOption {
 public:
  explicit ReflectionOption(bool enabled) : enabled_(enabled) {}
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    std::erase_if(*plugins, [](const std::unique_ptr<grpc::ServerBuilderPlugin>& p) {
      return p->name() == kReflectionPluginName;
    });
    if (enabled_)
      plugins->push_back(std::make_unique<grpc::reflection::ProtoServerReflectionPlugin>());
  }

 private:
  bool enabled_;
};

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeCredentials(const TlsFiles& tls) {
  if (!tls.enabled()) return grpc::InsecureServerCredentials();
  if (tls.cert_file.empty() || tls.key_file.empty()) {
    return absl::InvalidArgumentError(
        "grpc server TLS: cert_file and key_file are both required when TLS is configured");
  }
  auto cert = internal::ReadPemFile(tls.cert_file, "server certificate");
  if (!cert.ok()) return cert.status();
  auto key = internal::ReadPemFile(tls.key_file, "server key");
  if (!key.ok()) return key.status();
  grpc_ssl_client_certificate_request_type request = GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE;
  std::string roots;
  if (!tls.ca_file.empty()) {
    auto ca = internal::ReadPemFile(tls.ca_file, "client CA");
    if (!ca.ok()) return ca.status();
    roots = *std::move(ca);
    request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  grpc::SslServerCredentialsOptions opts(request);
  opts.pem_root_certs = std::move(roots);
  opts.pem_key_cert_pairs.push_back({*std::move(key), *std::move(cert)});
  return grpc::SslServerCredentials(opts);
}

}  // namespace

GrpcServer::GrpcServer(ServerOptions options, metrics::MetricsRegistry* metrics)
    : options_(std::move(options)), metrics_(metrics) {}

GrpcServer::~GrpcServer() { Shutdown(absl::ZeroDuration()); }

void GrpcServer::RegisterService(grpc::Service* service, std::string health_name) {
  SHIELDX_CHECK_MSG(server_ == nullptr, "GrpcServer::RegisterService after Start");
  SHIELDX_CHECK(service != nullptr);
  for (const auto& [s, name] : services_)
    SHIELDX_CHECK_MSG(s != service, "service registered twice");
  services_.emplace_back(service, std::move(health_name));
}

absl::StatusOr<int> GrpcServer::Start() {
  if (server_ != nullptr || stopped_) {
    return absl::FailedPreconditionError("grpc server: Start called twice");
  }
  if (options_.max_message_bytes == 0 || options_.max_message_bytes > INT32_MAX) {
    return absl::InvalidArgumentError(absl::StrCat("grpc server: max_message_bytes must be in 1..",
                                                   INT32_MAX, " (have ", options_.max_message_bytes,
                                                   ")"));
  }
  auto creds = MakeCredentials(options_.tls);
  if (!creds.ok()) return creds.status();

  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  int selected_port = 0;
  builder.AddListeningPort(options_.listen_address, *creds, &selected_port);
  for (const auto& [service, name] : services_) builder.RegisterService(service);
  const int max_bytes = static_cast<int>(options_.max_message_bytes);
  builder.SetMaxReceiveMessageSize(max_bytes);
  builder.SetMaxSendMessageSize(max_bytes);
  const KeepaliveOptions& ka = options_.keepalive;
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, Ms(ka.time));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, Ms(ka.timeout));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS,
                             ka.permit_without_calls ? 1 : 0);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             Ms(ka.min_client_ping_interval));
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 2);
  if (ka.max_connection_idle > absl::ZeroDuration()) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, Ms(ka.max_connection_idle));
  }
  if (ka.max_connection_age > absl::ZeroDuration()) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS, Ms(ka.max_connection_age));
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS, Ms(options_.drain_deadline));
  }
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS,
                              std::max(1, options_.sync_min_pollers));
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS,
                              std::max({1, options_.sync_min_pollers, options_.sync_max_pollers}));
  if (options_.max_threads > 0) {
    grpc::ResourceQuota quota("shieldx-grpc-server");
    quota.SetMaxThreads(options_.max_threads);
    builder.SetResourceQuota(quota);
  }
  builder.SetOption(std::make_unique<ReflectionOption>(options_.reflection));
  builder.experimental().SetInterceptorCreators(MakeServerInterceptors(metrics_));

  server_ = builder.BuildAndStart();
  if (server_ == nullptr || selected_port == 0) {
    server_.reset();
    return absl::UnavailableError(
        absl::StrCat("grpc server: cannot listen on ", options_.listen_address));
  }
  port_.store(selected_port);
  if (grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService()) {
    health->SetServingStatus(true);
    for (const auto& [service, name] : services_) health->SetServingStatus(name, true);
  }
  log::Info("grpc server listening", {{"address", options_.listen_address},
                                      {"port", selected_port},
                                      {"tls", options_.tls.enabled()},
                                      {"mtls", !options_.tls.ca_file.empty()},
                                      {"reflection", options_.reflection}});
  return selected_port;
}

void GrpcServer::SetServing(std::string_view health_name, bool serving) {
  std::lock_guard<std::mutex> lock(mu_);
  if (server_ == nullptr || draining_.load()) return;
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  if (health == nullptr) return;
  if (health_name.empty()) {
    health->SetServingStatus(serving);
  } else {
    health->SetServingStatus(std::string(health_name), serving);
  }
}

void GrpcServer::BeginDrain() {
  std::lock_guard<std::mutex> lock(mu_);
  if (draining_.exchange(true) || server_ == nullptr) return;
  if (grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService()) {
    health->SetServingStatus(false);
    for (const auto& [service, name] : services_) health->SetServingStatus(name, false);
  }
  log::Info("grpc server draining", {{"port", port_.load()}});
}

void GrpcServer::Shutdown(absl::Duration deadline) {
  BeginDrain();
  {
    // Not held while waiting: a handler finishing meanwhile may call SetServing().
    std::lock_guard<std::mutex> lock(mu_);
    if (server_ == nullptr || stopped_) return;
    stopped_ = true;
  }
  auto when = std::chrono::system_clock::now() +
              std::chrono::milliseconds(
                  absl::ToInt64Milliseconds(std::max(deadline, absl::ZeroDuration())));
  server_->Shutdown(when);
  server_->Wait();
  log::Info("grpc server stopped", {{"port", port_.load()}});
}

std::shared_ptr<grpc::Channel> GrpcServer::InProcessChannel() {
  SHIELDX_CHECK(server_ != nullptr);
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(static_cast<int>(options_.max_message_bytes));
  args.SetMaxSendMessageSize(static_cast<int>(options_.max_message_bytes));
  return server_->InProcessChannel(args);
}

}  // namespace shieldx::rpc
