// Plain option structs of the gRPC server and client (filled by each service's Config; this
// library does not read flags or the environment). Light header: no grpcpp.
#ifndef SHIELDX_LIBS_RPC_OPTIONS_H_
#define SHIELDX_LIBS_RPC_OPTIONS_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "libs/base/limits.h"

namespace shieldx::rpc {

// gRPC metadata key carrying the trace id (request and response).
inline constexpr char kTraceIdMetadataKey[] = "x-trace-id";

// PEM files. All empty: plaintext. Server: cert+key required for TLS; with ca_file, clients
// must present a certificate signed by it (mTLS). Client: ca_file verifies the server (empty:
// system roots); cert+key present a client certificate (mTLS).
struct TlsFiles {
  std::string cert_file;
  std::string key_file;
  std::string ca_file;

  bool enabled() const { return !cert_file.empty() || !key_file.empty() || !ca_file.empty(); }
};

struct KeepaliveOptions {
  // Ping an idle connection this often, and drop it when the ack takes longer than timeout.
  absl::Duration time = absl::Seconds(30);
  absl::Duration timeout = absl::Seconds(10);
  // Send keepalive pings even without calls in flight.
  bool permit_without_calls = true;
  // Server only: the shortest client ping interval tolerated (shorter gets GOAWAY).
  absl::Duration min_client_ping_interval = absl::Seconds(10);
  // Server only: close connections idle / older than this (0: never). A bounded age spreads
  // long-lived client connections across new replicas after a scale-out.
  absl::Duration max_connection_idle = absl::ZeroDuration();
  absl::Duration max_connection_age = absl::ZeroDuration();
};

struct ServerOptions {
  // "host:port"; port 0 picks a free port (GrpcServer::Start returns it).
  std::string listen_address = "127.0.0.1:0";
  // Largest message received or sent; larger ones fail with RESOURCE_EXHAUSTED.
  std::size_t max_message_bytes = limits::kMaxGrpcMessageBytes;
  KeepaliveOptions keepalive;
  TlsFiles tls;
  // The reflection service (grpcurl, grpc_cli). Keep off in production.
  bool reflection = false;
  // How long Shutdown() during a drain lets in-flight RPCs finish before cancelling them.
  absl::Duration drain_deadline = absl::Seconds(20);
  // Upper bound of the synchronous server's handler threads (0: gRPC's default).
  int max_threads = 0;
  // Threads of the synchronous server kept waiting for calls. gRPC's defaults (1 and 2) make
  // it start and retire a thread for nearly every call under concurrent load; keeping a few
  // more idle threads costs a stack each and removes that churn.
  int sync_min_pollers = 2;
  int sync_max_pollers = 8;
};

struct RetryOptions {
  bool enabled = true;
  // Total attempts including the first (gRPC caps this at 5).
  int max_attempts = limits::kMaxRetryAttempts;
  absl::Duration initial_backoff = absl::Milliseconds(50);
  absl::Duration max_backoff = absl::Seconds(1);
  double backoff_multiplier = 2.0;
  // Canonical code names retried. Only UNAVAILABLE by default: the call did not run or the
  // server asked for a retry. Mutating RPCs must still be idempotent (idempotency keys).
  std::vector<std::string> retryable_codes = {"UNAVAILABLE"};
};

struct ClientOptions {
  TlsFiles tls;
  // Name checked against the server certificate instead of the target host ("" = target's).
  std::string tls_server_name;
  std::size_t max_message_bytes = limits::kMaxGrpcMessageBytes;
  KeepaliveOptions keepalive = ClientKeepalive();
  RetryOptions retry;

  static KeepaliveOptions ClientKeepalive() {
    KeepaliveOptions k;
    k.permit_without_calls = false;
    return k;
  }
};

}  // namespace shieldx::rpc

#endif  // SHIELDX_LIBS_RPC_OPTIONS_H_
