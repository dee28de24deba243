// A small HTTP/1.1 server on POSIX sockets and epoll, for admin endpoints (/healthz, /readyz,
// /metrics), the forward-auth endpoint (nginx auth_request, Traefik ForwardAuth) and the REST
// gateway.
//
// Model: `worker_threads` threads, each with its own epoll set; all of them wait on the one
// listening socket (EPOLLEXCLUSIVE), so an accepted connection stays on the worker that took
// it. Requests on a connection are handled strictly one after another (pipelined requests are
// read ahead but answered in order); the handler runs on the worker thread, so a handler that
// blocks delays the other connections of that worker: keep handlers short or raise
// worker_threads.
//
// Every request is answered: malformed input gets 400/411/413/414/431/501/505 and the
// connection is closed; unknown paths 404, known paths with another method 405 (with Allow).
// Each request is recorded in the MetricsRegistry (when given) as
// http_requests_total{method,route,status} / http_request_duration_seconds, where route is
// the matched PATTERN, "unmatched" otherwise. The handler runs inside a
// log::ScopedTraceId (see trace_id.h); the id is echoed in the `x-request-id` response header.
//
// Thread-safety: Handle() only before Start(). Start(), Shutdown() and the destructor from one
// controlling thread. port() and draining() from any thread.
#ifndef SHIELDX_LIBS_HTTP_SERVER_H_
#define SHIELDX_LIBS_HTTP_SERVER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "libs/http/message.h"
#include "libs/http/parser.h"
#include "libs/http/router.h"

namespace shieldx::metrics {
class MetricsRegistry;
}

namespace shieldx::http {

struct HttpServerOptions {
  // Address to bind: an IPv4/IPv6 literal or a host name ("0.0.0.0", "127.0.0.1", "::").
  std::string host = "127.0.0.1";
  // 0 picks a free port (read it with port() after Start()).
  int port = 0;
  // Threads serving connections (>= 1).
  int worker_threads = 2;
  // Open connections across all workers; further connections get a 503 and are closed.
  std::size_t max_connections = 10'000;
  // A connection with no request in progress is closed after this long without traffic.
  absl::Duration idle_timeout = absl::Seconds(60);
  // A request must arrive completely (head and body) within this long of its first byte;
  // otherwise 408 and close (slow-loris protection).
  absl::Duration request_timeout = absl::Seconds(30);
  // Requests served on one connection before it is closed (bounds per-connection state).
  std::size_t max_requests_per_connection = 100'000;
  HttpLimits limits;
  // Listen backlog.
  int backlog = 1024;
  // Name used in log lines ("admin", "forward-auth").
  std::string name = "http";
};

class HttpServer {
 public:
  // `metrics` may be null (no recording); it must outlive the server.
  explicit HttpServer(HttpServerOptions options, metrics::MetricsRegistry* metrics = nullptr);
  ~HttpServer();  // Shutdown(absl::ZeroDuration()) when still running.
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Registers a route (see router.h for patterns). REQUIRES: not started.
  absl::Status Handle(std::string_view method, std::string_view pattern, HttpHandler handler);

  // Binds, listens and starts the workers. Unavailable when the address cannot be bound,
  // InvalidArgument on bad options, FailedPrecondition when called twice.
  absl::Status Start();

  // The bound port (0 before Start()).
  int port() const { return port_.load(std::memory_order_acquire); }

  // Stops accepting, closes idle connections, lets requests in progress finish (their
  // responses carry "Connection: close"), and after `deadline` closes whatever remains.
  // Returns when every worker has exited. Idempotent.
  void Shutdown(absl::Duration deadline);

  bool draining() const { return draining_.load(std::memory_order_acquire); }

  // Connections currently open (for tests and gauges).
  std::size_t open_connections() const { return open_connections_.load(); }

 private:
  class Worker;
  friend class Worker;

  HttpServerOptions options_;
  metrics::MetricsRegistry* metrics_;
  Router router_;
  int listen_fd_ = -1;
  std::atomic<int> port_{0};
  std::atomic<bool> started_{false};
  std::atomic<bool> draining_{false};
  std::atomic<int64_t> drain_deadline_ns_{0};  // monotonic
  std::atomic<std::size_t> open_connections_{0};
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
};

}  // namespace shieldx::http

#endif  // SHIELDX_LIBS_HTTP_SERVER_H_
