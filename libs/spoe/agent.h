// An SPOP agent server (SPOA): accepts HAProxy's SPOE connections, performs the HELLO
// handshake, decodes NOTIFY frames, calls a handler and answers each with an ACK.
//
//   spoe::Agent agent(options, [&](const spoe::NotifyRequest& req, spoe::NotifyReply* reply) {
//     for (const spoe::Message& m : req.messages) { ... reply->actions.push_back(...); }
//   }, &metrics);
//   SHIELDX_RETURN_IF_ERROR(agent.Start());
//   ...
//   agent.Shutdown(absl::Seconds(5));
//
// Model: `worker_threads` threads, each with its own epoll set, all waiting on the one
// listening socket (EPOLLEXCLUSIVE); a connection stays on the worker that accepted it. The
// handler runs on that worker thread, once per NOTIFY frame, so it must be quick (the
// decision pipeline is CPU-bound and in-process). Many HAProxy connections are served
// concurrently; on one connection, pipelined NOTIFY frames are read ahead and answered as
// they are handled. A reply may carry a `delay`: the ACK is then held on a per-worker timer
// (no thread sleeps) and sent when it expires, while other frames are answered meanwhile
// (SPOP allows ACKs in any order with pipelining). This is how a tarpit makes HAProxy wait.
//
// Protocol behaviour (SPOE.txt, SPOP 2.0): the agent answers HAPROXY-HELLO with version 2.0,
// min(our, HAProxy's) max-frame-size and the capabilities both support ("pipelining"; never
// "fragmentation", never "async"). A health-check HELLO is answered and the connection
// closed. Any protocol error (malformed frame, oversized frame, fragment, NOTIFY before
// HELLO, missing HELLO items) is answered with AGENT-DISCONNECT carrying the SPOP status code
// and a message, then the connection is closed; HAPROXY-DISCONNECT is answered with
// AGENT-DISCONNECT status 0. Frames of unknown type are skipped. A NOTIFY with the ABORT flag
// is dropped without an ACK.
//
// Limits: frame size (negotiated), DecodeLimits on every list and name, bytes waiting to be
// sent per connection (reading pauses above max_pending_output_bytes), held ACKs per worker,
// open connections, HELLO and idle timeouts.
//
// Metrics (when a registry is given), label `agent` = options.name:
//   shieldx_spoe_connections{agent}                      gauge: open connections
//   shieldx_spoe_frames_total{agent,type}                counter: frames received by type
//   shieldx_spoe_disconnects_total{agent,status}         counter: AGENT-DISCONNECTs sent by
//                                                        SPOP status ("0" normal, "4", ...)
//
// Thread-safety: Start(), Shutdown() and the destructor from one controlling thread; port()
// and open_connections() from any thread. The handler is called concurrently from every
// worker thread.
#ifndef SHIELDX_LIBS_SPOE_AGENT_H_
#define SHIELDX_LIBS_SPOE_AGENT_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "libs/spoe/codec.h"

namespace shieldx::metrics {
class MetricsRegistry;
}

namespace shieldx::spoe {

struct AgentOptions {
  // Address to bind: an IPv4/IPv6 literal or host name.
  std::string host = "127.0.0.1";
  // 0 picks a free port (read it with port() after Start()).
  int port = 0;
  int worker_threads = 2;
  // Further connections are accepted and closed at once.
  std::size_t max_connections = 4096;
  // Our largest frame (HAProxy's max-frame-size caps it further). HAProxy's default is
  // tune.bufsize - 4 = 16380.
  uint32_t max_frame_size = 65532;
  // A connection must complete the HELLO handshake within this long.
  absl::Duration hello_timeout = absl::Seconds(5);
  // A connection without any frame for this long is closed with AGENT-DISCONNECT status 2
  // (HAProxy's "timeout idle" should be shorter so it closes them first).
  absl::Duration idle_timeout = absl::Minutes(5);
  // While more than this many bytes wait to be sent on a connection, it is not read.
  std::size_t max_pending_output_bytes = 1024 * 1024;
  // ACKs held for a reply delay, per worker. Beyond it, delays are not applied (the ACK is
  // sent at once) and the event is counted as frames_total{type="delay_overflow"}.
  std::size_t max_held_acks_per_worker = 10'000;
  // The longest delay honoured; longer ones are cut to it.
  absl::Duration max_reply_delay = absl::Seconds(10);
  DecodeLimits limits;
  // Name used in metrics and log lines.
  std::string name = "spoe";
};

// What the handler sees: the messages of one NOTIFY frame (views into the frame bytes, valid
// only during the call) and the frame's ids.
struct NotifyRequest {
  uint64_t stream_id = 0;
  uint64_t frame_id = 0;
  const std::vector<Message>& messages;
  std::string_view engine_id;  // from HAPROXY-HELLO ("" when absent)
};

struct NotifyReply {
  std::vector<Action> actions;
  // Hold the ACK this long before sending it (0: at once). Capped by max_reply_delay.
  absl::Duration delay = absl::ZeroDuration();
};

using NotifyHandler = std::function<void(const NotifyRequest& request, NotifyReply* reply)>;

class Agent {
 public:
  // `metrics` may be null; it must outlive the agent.
  Agent(AgentOptions options, NotifyHandler handler, metrics::MetricsRegistry* metrics = nullptr);
  ~Agent();  // Shutdown(absl::ZeroDuration()) when still running.
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Binds, listens and starts the workers. Unavailable when the address cannot be bound,
  // InvalidArgument on bad options, FailedPrecondition when called twice.
  absl::Status Start();

  int port() const { return port_.load(std::memory_order_acquire); }

  // Stops accepting; every open connection gets its held ACKs at once, then
  // AGENT-DISCONNECT (status 0, "agent shutting down") and is closed once its output is
  // flushed or `deadline` passes. Returns when every worker has exited. Idempotent.
  void Shutdown(absl::Duration deadline);

  std::size_t open_connections() const { return open_connections_.load(); }

 private:
  class Worker;
  struct Metrics;
  friend class Worker;

  AgentOptions options_;
  NotifyHandler handler_;
  std::unique_ptr<Metrics> metrics_;
  int listen_fd_ = -1;
  std::atomic<int> port_{0};
  std::atomic<bool> started_{false};
  std::atomic<bool> draining_{false};
  std::atomic<int64_t> drain_deadline_ns_{0};
  std::atomic<std::size_t> open_connections_{0};
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
};

}  // namespace shieldx::spoe

#endif  // SHIELDX_LIBS_SPOE_AGENT_H_
