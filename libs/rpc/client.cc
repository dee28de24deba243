#include "libs/rpc/client.h"

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/base/check.h"
#include "libs/log/log.h"
#include "libs/rpc/tls_files.h"

namespace shieldx::rpc {
namespace {

int Ms(absl::Duration d) {
  return static_cast<int>(std::clamp<int64_t>(absl::ToInt64Milliseconds(d), 0, INT32_MAX));
}

// gRPC durations in service config are decimal seconds with an "s" suffix.
std::string JsonDuration(absl::Duration d) {
  return absl::StrFormat("%.3fs", absl::ToDoubleSeconds(std::max(d, absl::Milliseconds(1))));
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeCredentials(const TlsFiles& tls) {
  if (!tls.enabled()) return grpc::InsecureChannelCredentials();
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return absl::InvalidArgumentError(
        "grpc client TLS: cert_file and key_file must be given together (mTLS identity)");
  }
  grpc::SslCredentialsOptions opts;
  if (!tls.ca_file.empty()) {
    auto ca = internal::ReadPemFile(tls.ca_file, "server CA");
    if (!ca.ok()) return ca.status();
    opts.pem_root_certs = *std::move(ca);
  }
  if (!tls.cert_file.empty()) {
    auto cert = internal::ReadPemFile(tls.cert_file, "client certificate");
    if (!cert.ok()) return cert.status();
    auto key = internal::ReadPemFile(tls.key_file, "client key");
    if (!key.ok()) return key.status();
    opts.pem_cert_chain = *std::move(cert);
    opts.pem_private_key = *std::move(key);
  }
  return grpc::SslCredentials(opts);
}

}  // namespace

std::string RetryServiceConfigJson(const RetryOptions& retry) {
  if (!retry.enabled) return "{}";
  std::string codes;
  for (const std::string& c : retry.retryable_codes) {
    if (!codes.empty()) codes += ",";
    absl::StrAppend(&codes, "\"", c, "\"");
  }
  return absl::StrCat(
      "{\"methodConfig\":[{\"name\":[{}],\"retryPolicy\":{\"maxAttempts\":",
      std::clamp(retry.max_attempts, 2, limits::kMaxRetryAttempts), ",\"initialBackoff\":\"",
      JsonDuration(retry.initial_backoff), "\",\"maxBackoff\":\"", JsonDuration(retry.max_backoff),
      "\",\"backoffMultiplier\":", absl::StrFormat("%.3f", std::max(1.0, retry.backoff_multiplier)),
      ",\"retryableStatusCodes\":[", codes, "]}}]}");
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const std::string& target,
                                                           const ClientOptions& options) {
  if (target.empty()) return absl::InvalidArgumentError("grpc client: empty target");
  if (options.max_message_bytes == 0 || options.max_message_bytes > INT32_MAX) {
    return absl::InvalidArgumentError(
        absl::StrCat("grpc client ", target, ": max_message_bytes must be in 1..", INT32_MAX));
  }
  if (options.retry.enabled && options.retry.retryable_codes.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("grpc client ", target, ": retry enabled with no retryable status codes"));
  }
  auto creds = MakeCredentials(options.tls);
  if (!creds.ok()) return creds.status();
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(static_cast<int>(options.max_message_bytes));
  args.SetMaxSendMessageSize(static_cast<int>(options.max_message_bytes));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, Ms(options.keepalive.time));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, Ms(options.keepalive.timeout));
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS,
              options.keepalive.permit_without_calls ? 1 : 0);
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, options.retry.enabled ? 1 : 0);
  args.SetServiceConfigJSON(RetryServiceConfigJson(options.retry));
  if (!options.tls_server_name.empty()) {
    args.SetSslTargetNameOverride(options.tls_server_name);
  }
  return grpc::CreateCustomChannel(target, *creds, args);
}

void PrepareClientContext(grpc::ClientContext* context, int64_t deadline_ms) {
  SHIELDX_CHECK(context != nullptr);
  SHIELDX_CHECK_MSG(deadline_ms > 0, "every inter-service call needs a positive deadline");
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(deadline_ms));
  std::string_view trace_id = log::CurrentTraceId();
  if (!trace_id.empty()) context->AddMetadata(kTraceIdMetadataKey, std::string(trace_id));
}

std::unique_ptr<grpc::ClientContext> MakeClientContext(int64_t deadline_ms) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  PrepareClientContext(ctx.get(), deadline_ms);
  return ctx;
}

}  // namespace shieldx::rpc
