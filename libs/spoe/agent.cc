#include "libs/spoe/agent.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <queue>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/base/check.h"
#include "libs/log/log.h"
#include "libs/metrics/metrics.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"

namespace shieldx::spoe {
namespace {

std::string_view S(absl::string_view s) { return std::string_view(s.data(), s.size()); }

// Bytes read from a socket per readiness event (frames larger than this take several).
constexpr std::size_t kReadChunkBytes = 64 * 1024;
// Events taken from epoll per wait.
constexpr int kMaxEvents = 128;
// How often timeouts are checked.
constexpr int64_t kSweepIntervalNs = 200'000'000;
// A closing connection whose peer does not read its last frame is dropped after this long.
constexpr int64_t kClosingGraceNs = 2'000'000'000;

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

constexpr SpopStatus kKnownStatuses[] = {SpopStatus::kNormal,
                                         SpopStatus::kIoError,
                                         SpopStatus::kTimeout,
                                         SpopStatus::kFrameTooBig,
                                         SpopStatus::kInvalidFrame,
                                         SpopStatus::kNoVersion,
                                         SpopStatus::kNoMaxFrameSize,
                                         SpopStatus::kNoCapabilities,
                                         SpopStatus::kUnsupportedVersion,
                                         SpopStatus::kBadMaxFrameSize,
                                         SpopStatus::kFragmentationNotSupported,
                                         SpopStatus::kInterlacedFrames,
                                         SpopStatus::kFrameIdNotFound,
                                         SpopStatus::kResourceAllocation,
                                         SpopStatus::kUnknown};

}  // namespace

struct Agent::Metrics {
  prometheus::Gauge* connections = nullptr;
  std::map<std::string, prometheus::Counter*, std::less<>> frames;
  std::map<uint32_t, prometheus::Counter*> disconnects;

  Metrics(metrics::MetricsRegistry* registry, const std::string& agent) {
    if (registry == nullptr) return;
    auto& conn_family = prometheus::BuildGauge()
                            .Name("shieldx_spoe_connections")
                            .Help("Open SPOP connections from HAProxy")
                            .Register(registry->registry());
    connections = &conn_family.Add({{"agent", agent}});
    auto& frame_family = prometheus::BuildCounter()
                             .Name("shieldx_spoe_frames_total")
                             .Help("SPOP frames received, by frame type")
                             .Register(registry->registry());
    for (const char* type :
         {"haproxy_hello", "haproxy_disconnect", "notify", "unset", "ack", "agent_hello",
          "agent_disconnect", "unknown", "delay_overflow", "ack_too_big"}) {
      frames[type] = &frame_family.Add({{"agent", agent}, {"type", type}});
    }
    auto& disc_family = prometheus::BuildCounter()
                            .Name("shieldx_spoe_disconnects_total")
                            .Help("AGENT-DISCONNECT frames sent, by SPOP status code")
                            .Register(registry->registry());
    for (SpopStatus s : kKnownStatuses) {
      const auto code = static_cast<uint32_t>(s);
      disconnects[code] = &disc_family.Add({{"agent", agent}, {"status", std::to_string(code)}});
    }
  }

  void Frame(std::string_view type) {
    if (auto it = frames.find(type); it != frames.end()) it->second->Increment();
  }
  void Disconnect(SpopStatus status) {
    auto it = disconnects.find(static_cast<uint32_t>(status));
    if (it == disconnects.end()) it = disconnects.find(static_cast<uint32_t>(SpopStatus::kUnknown));
    if (it != disconnects.end()) it->second->Increment();
  }
  void Connections(double delta) {
    if (connections != nullptr) connections->Increment(delta);
  }
};

class Agent::Worker {
 public:
  explicit Worker(Agent* agent) : agent_(agent) {}
  ~Worker() {
    for (auto& [fd, conn] : conns_) ::close(fd);
    if (epfd_ >= 0) ::close(epfd_);
    if (wakefd_ >= 0) ::close(wakefd_);
  }

  absl::Status Init() {
    epfd_ = epoll_create1(EPOLL_CLOEXEC);
    wakefd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (epfd_ < 0 || wakefd_ < 0) {
      return absl::InternalError(absl::StrCat("spoe agent ", agent_->options_.name,
                                              ": epoll/eventfd: ", std::strerror(errno)));
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wakefd_;
    epoll_ctl(epfd_, EPOLL_CTL_ADD, wakefd_, &ev);
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    ev.data.fd = agent_->listen_fd_;
    if (epoll_ctl(epfd_, EPOLL_CTL_ADD, agent_->listen_fd_, &ev) != 0) {
      return absl::InternalError(absl::StrCat("spoe agent ", agent_->options_.name,
                                              ": epoll add listener: ", std::strerror(errno)));
    }
    return absl::OkStatus();
  }

  void Wake() {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wakefd_, &one, sizeof(one));
  }

  void Run() {
    epoll_event events[kMaxEvents];
    int64_t next_sweep = NowNs() + kSweepIntervalNs;
    bool drain_started = false;
    while (true) {
      const int64_t now = NowNs();
      int64_t wait_until = next_sweep;
      if (!held_.empty()) wait_until = std::min(wait_until, held_.top().deadline_ns);
      const int timeout_ms =
          static_cast<int>(std::max<int64_t>(0, (wait_until - now + 999'999) / 1'000'000));
      const int n = epoll_wait(epfd_, events, kMaxEvents, timeout_ms);
      for (int i = 0; i < n; ++i) {
        const int fd = events[i].data.fd;
        if (fd == wakefd_) {
          uint64_t v;
          [[maybe_unused]] ssize_t r = ::read(wakefd_, &v, sizeof(v));
        } else if (fd == agent_->listen_fd_) {
          AcceptAll();
        } else {
          OnEvent(fd, events[i].events);
        }
      }
      const int64_t after = NowNs();
      FireHeld(after, /*all=*/false);
      if (after >= next_sweep) {
        Sweep(after);
        next_sweep = after + kSweepIntervalNs;
      }
      if (agent_->draining_.load(std::memory_order_acquire)) {
        if (!drain_started) {
          drain_started = true;
          BeginDrain();
        }
        if (conns_.empty() || after >= agent_->drain_deadline_ns_.load()) break;
      }
    }
    std::vector<int> fds;
    for (auto& [fd, conn] : conns_) fds.push_back(fd);
    for (int fd : fds) Close(fd);
  }

 private:
  enum class State { kHello, kReady, kClosing };

  struct Conn {
    int fd = -1;
    uint64_t id = 0;
    State state = State::kHello;
    std::string in;
    std::string out;
    std::size_t out_off = 0;
    uint32_t max_frame = 0;
    std::string engine_id;
    int64_t created_ns = 0;
    int64_t last_frame_ns = 0;
    int64_t closing_since_ns = 0;
    std::size_t held_acks = 0;
    bool paused = false;      // not reading: too much output pending
    uint32_t epoll_mask = 0;  // events currently registered

    std::size_t pending() const { return out.size() - out_off; }
  };

  struct Held {
    int64_t deadline_ns;
    int fd;
    uint64_t conn_id;
    std::string frame;
    bool operator>(const Held& o) const { return deadline_ns > o.deadline_ns; }
  };

  const AgentOptions& opts() const { return agent_->options_; }

  void AcceptAll() {
    if (agent_->draining_.load(std::memory_order_acquire)) return;
    while (true) {
      sockaddr_storage ss;
      socklen_t len = sizeof(ss);
      const int fd = accept4(agent_->listen_fd_, reinterpret_cast<sockaddr*>(&ss), &len,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN (another worker took it) or a transient error
      if (agent_->open_connections_.load() >= opts().max_connections) {
        log::Warn("spoe connection refused: at max_connections",
                  {{"agent", opts().name}, {"max_connections", opts().max_connections}});
        ::close(fd);
        continue;
      }
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      auto conn = std::make_unique<Conn>();
      conn->fd = fd;
      conn->id = ++next_conn_id_;
      conn->created_ns = conn->last_frame_ns = NowNs();
      conn->max_frame = std::max(opts().max_frame_size, kMinFrameSize);
      Conn* c = conn.get();
      conns_[fd] = std::move(conn);
      agent_->open_connections_.fetch_add(1);
      agent_->metrics_->Connections(1);
      c->epoll_mask = EPOLLIN | EPOLLRDHUP;
      epoll_event ev{};
      ev.events = c->epoll_mask;
      ev.data.fd = fd;
      epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
    }
  }

  Conn* Find(int fd) {
    auto it = conns_.find(fd);
    return it == conns_.end() ? nullptr : it->second.get();
  }

  void OnEvent(int fd, uint32_t events) {
    Conn* c = Find(fd);
    if (c == nullptr) return;
    if (events & EPOLLOUT) {
      if (!Flush(c)) return;
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
      if (c->state == State::kClosing || c->paused) {
        // Not reading: only notice a peer that went away.
        if (events & (EPOLLHUP | EPOLLERR)) Close(fd);
        return;
      }
      char buf[kReadChunkBytes];
      const ssize_t r = ::read(fd, buf, sizeof(buf));
      if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
        Close(fd);
        return;
      }
      if (r > 0) {
        c->in.append(buf, static_cast<std::size_t>(r));
        if (!Process(c)) return;
      }
    }
    UpdateInterest(c);
  }

  // Handles every complete frame in c->in. Returns false when the connection was closed.
  bool Process(Conn* c) {
    std::size_t off = 0;
    while (c->state != State::kClosing) {
      if (c->pending() > opts().max_pending_output_bytes) {
        c->paused = true;
        break;
      }
      std::size_t consumed = 0;
      absl::StatusOr<std::optional<std::string_view>> next =
          NextFrame(std::string_view(c->in).substr(off), c->max_frame, &consumed);
      if (!next.ok()) {
        Disconnect(c, SpopStatusOf(next.status()), S(next.status().message()));
        break;
      }
      if (!next->has_value()) break;
      HandleFrame(c, **next);
      off += consumed;
    }
    c->in.erase(0, off);
    if (c->state == State::kClosing) c->in.clear();
    return Flush(c);
  }

  void HandleFrame(Conn* c, std::string_view bytes) {
    absl::StatusOr<Frame> frame = DecodeFrame(bytes);
    if (!frame.ok()) {
      Disconnect(c, SpopStatus::kInvalidFrame, S(frame.status().message()));
      return;
    }
    const Frame& f = *frame;
    agent_->metrics_->Frame(FrameTypeName(f.type));
    c->last_frame_ns = NowNs();
    if (c->state == State::kHello) {
      OnHello(c, f);
      return;
    }
    switch (static_cast<FrameType>(f.type)) {
      case FrameType::kNotify:
        OnNotify(c, f);
        return;
      case FrameType::kHaproxyDisconnect:
        // HAProxy closes: answer with a normal disconnect and close once it is sent.
        Disconnect(c, SpopStatus::kNormal, "bye");
        return;
      case FrameType::kHaproxyHello:
        Disconnect(c, SpopStatus::kInvalidFrame, "HAPROXY-HELLO after the handshake");
        return;
      case FrameType::kUnset:
        Disconnect(c, SpopStatus::kFragmentationNotSupported,
                   "fragmented payloads are not supported");
        return;
      case FrameType::kAgentHello:
      case FrameType::kAgentDisconnect:
      case FrameType::kAck:
        Disconnect(c, SpopStatus::kInvalidFrame,
                   absl::StrCat("unexpected frame ", FrameTypeName(f.type), " from HAProxy"));
        return;
    }
    // Unknown frame types may be skipped (SPOE.txt 3.2.2).
  }

  void OnHello(Conn* c, const Frame& f) {
    if (f.type != static_cast<uint8_t>(FrameType::kHaproxyHello)) {
      Disconnect(c, SpopStatus::kInvalidFrame,
                 absl::StrCat("expected HAPROXY-HELLO, got ", FrameTypeName(f.type)));
      return;
    }
    if (!f.fin()) {
      Disconnect(c, SpopStatus::kFragmentationNotSupported, "fragmented HAPROXY-HELLO");
      return;
    }
    absl::StatusOr<std::vector<KvItem>> items = DecodeKvList(f.payload, opts().limits);
    if (!items.ok()) {
      Disconnect(c, SpopStatusOf(items.status()), S(items.status().message()));
      return;
    }
    absl::StatusOr<HaproxyHello> hello = ParseHaproxyHello(*items);
    if (!hello.ok()) {
      Disconnect(c, SpopStatusOf(hello.status()), S(hello.status().message()));
      return;
    }
    AgentCapabilities ours;
    ours.max_frame_size = opts().max_frame_size;
    absl::StatusOr<AgentHello> reply = Negotiate(*hello, ours);
    if (!reply.ok()) {
      Disconnect(c, SpopStatusOf(reply.status()), S(reply.status().message()));
      return;
    }
    EncodeAgentHello(*reply, &c->out);
    c->max_frame = reply->max_frame_size;
    c->engine_id = hello->engine_id;
    if (hello->healthcheck) {
      // A health check: HELLO answered, the connection closes without DISCONNECT.
      c->state = State::kClosing;
      c->closing_since_ns = NowNs();
      return;
    }
    c->state = State::kReady;
  }

  void OnNotify(Conn* c, const Frame& f) {
    if (!f.fin()) {
      Disconnect(c, SpopStatus::kFragmentationNotSupported,
                 "fragmented NOTIFY (fragmentation was not announced)");
      return;
    }
    if (f.abort()) return;  // HAProxy gave up on this frame: no ACK expected
    absl::StatusOr<std::vector<Message>> messages = DecodeMessages(f.payload, opts().limits);
    if (!messages.ok()) {
      Disconnect(c, SpopStatusOf(messages.status()), S(messages.status().message()));
      return;
    }
    NotifyRequest request{f.stream_id, f.frame_id, *messages, c->engine_id};
    NotifyReply reply;
    agent_->handler_(request, &reply);
    std::string ack;
    if (absl::Status s = EncodeAck(f.stream_id, f.frame_id, reply.actions, c->max_frame, &ack);
        !s.ok()) {
      // The actions do not fit the negotiated frame: acknowledge without them (HAProxy's
      // rules then see the variables unset) and count it.
      log::Warn("spoe ACK dropped its actions",
                {{"agent", opts().name}, {"error", S(s.message())}});
      agent_->metrics_->Frame("ack_too_big");
      ack.clear();
      SHIELDX_CHECK_OK(EncodeAck(f.stream_id, f.frame_id, {}, c->max_frame, &ack));
    }
    absl::Duration delay = std::min(reply.delay, opts().max_reply_delay);
    if (delay > absl::ZeroDuration() && !agent_->draining_.load(std::memory_order_acquire)) {
      if (held_.size() < opts().max_held_acks_per_worker) {
        held_.push(Held{NowNs() + absl::ToInt64Nanoseconds(delay), c->fd, c->id, std::move(ack)});
        ++c->held_acks;
        return;
      }
      agent_->metrics_->Frame("delay_overflow");
    }
    c->out.append(ack);
  }

  // Sends held ACKs whose time has come (all of them with `all`).
  void FireHeld(int64_t now, bool all) {
    while (!held_.empty() && (all || held_.top().deadline_ns <= now)) {
      Held h = std::move(const_cast<Held&>(held_.top()));
      held_.pop();
      Conn* c = Find(h.fd);
      if (c == nullptr || c->id != h.conn_id) continue;  // the connection went away
      --c->held_acks;
      if (c->state == State::kClosing) continue;
      c->out.append(h.frame);
      if (Flush(c)) UpdateInterest(c);
    }
  }

  void Disconnect(Conn* c, SpopStatus status, std::string_view message) {
    if (c->state == State::kClosing) return;
    if (status != SpopStatus::kNormal) {
      log::Warn("spoe agent disconnects HAProxy connection",
                {{"agent", opts().name},
                 {"status", static_cast<uint32_t>(status)},
                 {"reason", SpopStatusMessage(status)},
                 {"detail", message}});
    }
    EncodeAgentDisconnect(status, message, &c->out);
    agent_->metrics_->Disconnect(status);
    c->state = State::kClosing;
    c->closing_since_ns = NowNs();
  }

  // Writes pending output. Returns false when the connection was closed.
  bool Flush(Conn* c) {
    while (c->pending() > 0) {
      const ssize_t w =
          ::send(c->fd, c->out.data() + c->out_off, c->pending(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w < 0) {
        if (errno == EAGAIN || errno == EINTR) break;
        Close(c->fd);
        return false;
      }
      c->out_off += static_cast<std::size_t>(w);
    }
    if (c->pending() == 0) {
      c->out.clear();
      c->out_off = 0;
      if (c->state == State::kClosing) {
        Close(c->fd);
        return false;
      }
      if (c->paused) {
        // Output drained: handle the frames read ahead, then read again.
        c->paused = false;
        if (!c->in.empty()) return Process(c);
      }
    } else if (c->out_off > c->out.size() / 2) {
      c->out.erase(0, c->out_off);
      c->out_off = 0;
    }
    return true;
  }

  void UpdateInterest(Conn* c) {
    uint32_t mask = EPOLLRDHUP;
    if (!c->paused && c->state != State::kClosing) mask |= EPOLLIN;
    if (c->pending() > 0) mask |= EPOLLOUT;
    if (mask == c->epoll_mask) return;
    c->epoll_mask = mask;
    epoll_event ev{};
    ev.events = mask;
    ev.data.fd = c->fd;
    epoll_ctl(epfd_, EPOLL_CTL_MOD, c->fd, &ev);
  }

  void Close(int fd) {
    auto it = conns_.find(fd);
    if (it == conns_.end()) return;
    epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    conns_.erase(it);
    agent_->open_connections_.fetch_sub(1);
    agent_->metrics_->Connections(-1);
  }

  void Sweep(int64_t now) {
    const int64_t hello_ns = absl::ToInt64Nanoseconds(opts().hello_timeout);
    const int64_t idle_ns = absl::ToInt64Nanoseconds(opts().idle_timeout);
    std::vector<int> expired_closing, timed_out_hello, timed_out_idle;
    for (auto& [fd, conn] : conns_) {
      const Conn* c = conn.get();
      if (c->state == State::kClosing) {
        if (now - c->closing_since_ns > kClosingGraceNs) expired_closing.push_back(fd);
      } else if (c->state == State::kHello && now - c->created_ns > hello_ns) {
        timed_out_hello.push_back(fd);
      } else if (c->state == State::kReady && c->held_acks == 0 &&
                 now - c->last_frame_ns > idle_ns) {
        timed_out_idle.push_back(fd);
      }
    }
    for (int fd : expired_closing) Close(fd);
    for (int fd : timed_out_hello) {
      Conn* c = Find(fd);
      Disconnect(c, SpopStatus::kTimeout, "no HAPROXY-HELLO in time");
      if (Flush(c)) UpdateInterest(c);
    }
    for (int fd : timed_out_idle) {
      Conn* c = Find(fd);
      Disconnect(c, SpopStatus::kTimeout, "idle connection");
      if (Flush(c)) UpdateInterest(c);
    }
  }

  void BeginDrain() {
    epoll_ctl(epfd_, EPOLL_CTL_DEL, agent_->listen_fd_, nullptr);
    FireHeld(0, /*all=*/true);
    std::vector<Conn*> conns;
    for (auto& [fd, conn] : conns_) conns.push_back(conn.get());
    for (Conn* c : conns) {
      if (c->state == State::kReady) {
        Disconnect(c, SpopStatus::kNormal, "agent shutting down");
      } else if (c->state == State::kHello) {
        Disconnect(c, SpopStatus::kNormal, "agent shutting down");
      }
    }
    std::vector<int> fds;
    for (auto& [fd, conn] : conns_) fds.push_back(fd);
    for (int fd : fds) {
      if (Conn* c = Find(fd); c != nullptr && Flush(c)) UpdateInterest(c);
    }
  }

  Agent* agent_;
  int epfd_ = -1;
  int wakefd_ = -1;
  uint64_t next_conn_id_ = 0;
  std::unordered_map<int, std::unique_ptr<Conn>> conns_;
  std::priority_queue<Held, std::vector<Held>, std::greater<Held>> held_;
};

Agent::Agent(AgentOptions options, NotifyHandler handler, metrics::MetricsRegistry* metrics)
    : options_(std::move(options)),
      handler_(std::move(handler)),
      metrics_(std::make_unique<Metrics>(metrics, options_.name)) {}

Agent::~Agent() { Shutdown(absl::ZeroDuration()); }

absl::Status Agent::Start() {
  if (started_.exchange(true)) {
    return absl::FailedPreconditionError(
        absl::StrCat("spoe agent ", options_.name, ": Start() called twice"));
  }
  if (options_.worker_threads < 1 || options_.max_frame_size < kMinFrameSize ||
      options_.max_frame_size > kMaxFrameSizeCeiling || !handler_) {
    return absl::InvalidArgumentError(
        absl::StrCat("spoe agent ", options_.name, ": worker_threads (", options_.worker_threads,
                     ") must be >= 1, max_frame_size (", options_.max_frame_size, ") within [",
                     kMinFrameSize, ", ", kMaxFrameSizeCeiling, "] and a handler set"));
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* res = nullptr;
  const std::string port_text = std::to_string(options_.port);
  if (int gai = getaddrinfo(options_.host.c_str(), port_text.c_str(), &hints, &res); gai != 0) {
    return absl::InvalidArgumentError(absl::StrCat("spoe agent ", options_.name, ": address ",
                                                   options_.host, ": ", gai_strerror(gai)));
  }
  const int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
      bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
    const std::string err = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    freeaddrinfo(res);
    return absl::UnavailableError(absl::StrCat("spoe agent ", options_.name, ": cannot listen on ",
                                               options_.host, ":", options_.port, ": ", err));
  }
  freeaddrinfo(res);
  listen_fd_ = fd;
  sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  const int port = ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                                            : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  for (int i = 0; i < options_.worker_threads; ++i) {
    auto w = std::make_unique<Worker>(this);
    if (absl::Status s = w->Init(); !s.ok()) {
      workers_.clear();
      ::close(listen_fd_);
      listen_fd_ = -1;
      return s;
    }
    workers_.push_back(std::move(w));
  }
  for (auto& w : workers_) threads_.emplace_back([worker = w.get()] { worker->Run(); });
  port_.store(port, std::memory_order_release);
  log::Info("spoe agent listening", {{"agent", options_.name},
                                     {"host", options_.host},
                                     {"port", port},
                                     {"workers", options_.worker_threads}});
  return absl::OkStatus();
}

void Agent::Shutdown(absl::Duration deadline) {
  if (threads_.empty()) {
    if (listen_fd_ >= 0) {
      ::close(listen_fd_);
      listen_fd_ = -1;
    }
    return;
  }
  drain_deadline_ns_.store(NowNs() + absl::ToInt64Nanoseconds(deadline));
  draining_.store(true, std::memory_order_release);
  for (auto& w : workers_) w->Wake();
  for (auto& t : threads_) t.join();
  threads_.clear();
  workers_.clear();
  ::close(listen_fd_);
  listen_fd_ = -1;
}

}  // namespace shieldx::spoe
