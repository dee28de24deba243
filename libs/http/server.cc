#include "libs/http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <exception>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "libs/base/check.h"
#include "libs/http/strings.h"
#include "libs/http/trace_id.h"
#include "libs/log/log.h"
#include "libs/metrics/metrics.h"

namespace shieldx::http {
namespace {

// Bytes read from one socket per readiness event (fairness between connections).
constexpr std::size_t kReadChunkBytes = 16 * 1024;
constexpr std::size_t kMaxReadPerEventBytes = 64 * 1024;
// Connections accepted per wake-up of one worker (spreads bursts across workers).
constexpr int kMaxAcceptsPerEvent = 16;
constexpr int kMaxEpollEvents = 128;
// How often timeouts are checked.
constexpr int64_t kSweepIntervalNs = 200'000'000;
// After the last response of a connection we half-close and discard input this long before
// closing, so a client still sending (e.g. an oversized body) reads our answer instead of RST.
constexpr int64_t kLingerNs = 2'000'000'000;
// Pause accepting this long when the process is out of file descriptors.
constexpr int64_t kAcceptPauseNs = 100'000'000;

constexpr std::string_view kOverloadedResponse =
    "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n"
    "content-length: 22\r\nconnection: close\r\n\r\ntoo many connections\r\n";

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

int64_t ToNs(absl::Duration d) { return absl::ToInt64Nanoseconds(d); }

std::string FormatAddress(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (ss.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &in->sin_addr, buf, sizeof(buf));
    return absl::StrCat(buf, ":", ntohs(in->sin_port));
  }
  if (ss.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof(buf));
    return absl::StrCat("[", buf, "]:", ntohs(in6->sin6_port));
  }
  return "unknown";
}

// Bounded label values for the method (anything else is "OTHER").
std::string_view MethodLabel(std::string_view method) {
  static constexpr std::string_view kKnown[] = {"GET",     "HEAD",  "POST",    "PUT",  "DELETE",
                                                "OPTIONS", "PATCH", "CONNECT", "TRACE"};
  for (std::string_view m : kKnown) {
    if (m == method) return m;
  }
  return "OTHER";
}

bool IsTokenName(std::string_view name) {
  if (name.empty()) return false;
  for (unsigned char c : name) {
    if (c <= 0x20 || c >= 0x7f || c == ':') return false;
  }
  return true;
}

// Header values written by handlers may carry request data: CR, LF and NUL would allow
// response splitting, so they become spaces.
void AppendSanitizedValue(std::string* out, std::string_view value) {
  for (char c : value) out->push_back((c == '\r' || c == '\n' || c == '\0') ? ' ' : c);
}

bool StatusHasNoBody(int status) { return status < 200 || status == 204 || status == 304; }

void AppendResponse(std::string* out, const HttpResponse& resp, bool head_request, bool keep_alive,
                    int version_minor, std::string_view trace_id) {
  absl::StrAppend(out, "HTTP/1.1 ", resp.status, " ", AV(StatusReason(resp.status)), "\r\n");
  bool has_request_id = false;
  for (const auto& [name, value] : resp.headers) {
    if (!IsTokenName(name)) continue;
    if (EqualsIgnoreCase(name, "content-length") || EqualsIgnoreCase(name, "transfer-encoding") ||
        EqualsIgnoreCase(name, "connection")) {
      continue;
    }
    has_request_id = has_request_id || EqualsIgnoreCase(name, "x-request-id");
    absl::StrAppend(out, name, ": ");
    AppendSanitizedValue(out, value);
    out->append("\r\n");
  }
  if (!has_request_id && !trace_id.empty())
    absl::StrAppend(out, "x-request-id: ", AV(trace_id), "\r\n");
  bool no_body = StatusHasNoBody(resp.status);
  if (!no_body) absl::StrAppend(out, "content-length: ", resp.body.size(), "\r\n");
  if (!keep_alive) {
    out->append("connection: close\r\n");
  } else if (version_minor == 0) {
    out->append("connection: keep-alive\r\n");
  }
  out->append("\r\n");
  if (!no_body && !head_request) out->append(resp.body);
}

}  // namespace

class HttpServer::Worker {
 public:
  explicit Worker(HttpServer* server) : server_(server) {}
  ~Worker() {
    for (auto& [fd, conn] : conns_) ::close(fd);
    if (epfd_ >= 0) ::close(epfd_);
    if (wakefd_ >= 0) ::close(wakefd_);
  }

  absl::Status Init() {
    epfd_ = epoll_create1(EPOLL_CLOEXEC);
    wakefd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (epfd_ < 0 || wakefd_ < 0) {
      return absl::InternalError(absl::StrCat("http server ", server_->options_.name,
                                              ": epoll/eventfd: ", std::strerror(errno)));
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wakefd_;
    epoll_ctl(epfd_, EPOLL_CTL_ADD, wakefd_, &ev);
    return SetListening(true);
  }

  void Wake() {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wakefd_, &one, sizeof(one));
  }

  void Run();

 private:
  struct Conn {
    int fd = -1;
    std::string remote;
    std::string in;
    std::size_t scan_from = 0;
    std::string out;
    std::size_t out_off = 0;
    bool head_done = false;
    bool continue_sent = false;
    HttpRequest req;
    HeadParseResult head;
    int64_t last_active_ns = 0;
    int64_t request_start_ns = 0;  // first byte of the request in progress; 0 when none
    bool close_after_write = false;
    bool lingering = false;
    int64_t linger_deadline_ns = 0;
    bool want_write = false;
    std::size_t served = 0;
  };

  absl::Status SetListening(bool on) {
    if (on == listening_) return absl::OkStatus();
    int fd = server_->listen_fd_;
    if (on) {
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLEXCLUSIVE;
      ev.data.fd = fd;
      if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
        return absl::InternalError(absl::StrCat("http server ", server_->options_.name,
                                                ": epoll add listener: ", std::strerror(errno)));
      }
    } else {
      epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
    }
    listening_ = on;
    return absl::OkStatus();
  }

  void Accept(int64_t now);
  void OnConnEvent(Conn* c, uint32_t events, int64_t now);
  // Each returns false when the connection was closed (and `c` freed).
  bool ReadInput(Conn* c, int64_t now);
  bool Process(Conn* c, int64_t now);
  bool Flush(Conn* c, int64_t now);
  void Dispatch(Conn* c, int64_t now);
  bool SendError(Conn* c, int status, std::string_view message, int64_t now);
  void SetWantWrite(Conn* c, bool want);
  void Close(Conn* c);
  void Sweep(int64_t now);

  HttpServer* server_;
  int epfd_ = -1;
  int wakefd_ = -1;
  bool listening_ = false;
  int64_t accept_paused_until_ns_ = 0;
  absl::flat_hash_map<int, std::unique_ptr<Conn>> conns_;
};

void HttpServer::Worker::Run() {
  epoll_event events[kMaxEpollEvents];
  int64_t last_sweep = NowNs();
  bool drain_seen = false;
  while (true) {
    int n = epoll_wait(epfd_, events, kMaxEpollEvents, 100);
    int64_t now = NowNs();
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == wakefd_) {
        uint64_t v;
        [[maybe_unused]] ssize_t r = ::read(wakefd_, &v, sizeof(v));
      } else if (fd == server_->listen_fd_ && listening_) {
        Accept(now);
      } else {
        auto it = conns_.find(fd);
        if (it != conns_.end()) OnConnEvent(it->second.get(), events[i].events, now);
      }
    }
    bool draining = server_->draining();
    if (draining && !drain_seen) {
      drain_seen = true;
      SetListening(false).IgnoreError();
      Sweep(now);
    }
    if (!draining && !listening_ && now >= accept_paused_until_ns_) {
      SetListening(true).IgnoreError();
    }
    if (now - last_sweep >= kSweepIntervalNs) {
      last_sweep = now;
      Sweep(now);
    }
    if (draining) {
      if (conns_.empty()) break;
      if (now >= server_->drain_deadline_ns_.load(std::memory_order_acquire)) {
        while (!conns_.empty()) Close(conns_.begin()->second.get());
        break;
      }
    }
  }
}

void HttpServer::Worker::Accept(int64_t now) {
  for (int i = 0; i < kMaxAcceptsPerEvent; ++i) {
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    int fd = accept4(server_->listen_fd_, reinterpret_cast<sockaddr*>(&ss), &len,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        log::Warn("http accept failed: out of resources",
                  {{"server", server_->options_.name}, {"error", std::strerror(errno)}});
        accept_paused_until_ns_ = now + kAcceptPauseNs;
        SetListening(false).IgnoreError();
      }
      return;  // EAGAIN, or shut down (EINVAL), or a transient error
    }
    if (server_->open_connections_.load() >= server_->options_.max_connections) {
      [[maybe_unused]] ssize_t w =
          ::send(fd, kOverloadedResponse.data(), kOverloadedResponse.size(), MSG_NOSIGNAL);
      ::close(fd);
      continue;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    auto conn = std::make_unique<Conn>();
    conn->fd = fd;
    conn->remote = FormatAddress(ss);
    conn->last_active_ns = now;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = fd;
    if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      ::close(fd);
      continue;
    }
    server_->open_connections_.fetch_add(1);
    conns_.emplace(fd, std::move(conn));
  }
}

void HttpServer::Worker::OnConnEvent(Conn* c, uint32_t events, int64_t now) {
  if (events & EPOLLERR) {
    Close(c);
    return;
  }
  if (events & EPOLLOUT) {
    if (!Flush(c, now)) return;
    // Pipelined requests may be waiting behind the response just sent.
    if (c->out.empty() && !c->lingering && !Process(c, now)) return;
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) {
    if (!ReadInput(c, now)) return;
  }
}

bool HttpServer::Worker::ReadInput(Conn* c, int64_t now) {
  char buf[kReadChunkBytes];
  std::size_t total = 0;
  bool eof = false;
  while (total < kMaxReadPerEventBytes) {
    ssize_t n = ::recv(c->fd, buf, sizeof(buf), 0);
    if (n > 0) {
      total += static_cast<std::size_t>(n);
      if (!c->lingering) c->in.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0) {
      eof = true;
      break;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    Close(c);
    return false;
  }
  if (total > 0) c->last_active_ns = now;
  if (c->lingering) {
    if (eof) Close(c);
    return !eof;
  }
  if (!Process(c, now)) return false;
  if (eof) {
    // The peer will send nothing more: finish what is queued, then close.
    if (c->out_off < c->out.size()) {
      c->close_after_write = true;
      return true;
    }
    Close(c);
    return false;
  }
  return true;
}

bool HttpServer::Worker::Process(Conn* c, int64_t now) {
  const HttpLimits& limits = server_->options_.limits;
  while (!c->close_after_write && c->out_off == c->out.size()) {
    if (!c->head_done) {
      if (c->in.empty()) {
        c->request_start_ns = 0;
        return true;
      }
      if (c->request_start_ns == 0) c->request_start_ns = now;
      HeadParseResult r = ParseRequestHead(c->in, c->scan_from, limits, &c->req);
      if (r.state == HeadParseResult::State::kIncomplete) {
        c->scan_from = c->in.size() >= 3 ? c->in.size() - 3 : 0;
        return true;
      }
      if (r.state == HeadParseResult::State::kError) {
        return SendError(c, r.error_status, r.error_message, now);
      }
      c->in.erase(0, r.head_bytes);
      c->scan_from = 0;
      c->head = r;
      c->head_done = true;
    }
    if (c->in.size() < c->head.content_length) {
      if (c->head.expect_continue && !c->continue_sent) {
        c->continue_sent = true;
        c->out.append("HTTP/1.1 100 Continue\r\n\r\n");
        return Flush(c, now);
      }
      return true;
    }
    c->req.body.assign(c->in, 0, c->head.content_length);
    c->in.erase(0, c->head.content_length);
    Dispatch(c, now);
    c->head_done = false;
    c->continue_sent = false;
    c->request_start_ns = 0;
    c->req = HttpRequest();
    if (!Flush(c, now)) return false;
  }
  return true;
}

void HttpServer::Worker::Dispatch(Conn* c, int64_t now) {
  HttpRequest& req = c->req;
  Router::Match m = server_->router_.Find(req.method, req.path);
  req.trace_id = ChooseTraceId(req.Header("x-request-id"), req.Header("traceparent"));
  req.remote_address = c->remote;
  HttpResponse resp;
  if (m.status == 200) {
    req.route.assign(m.pattern);
    req.path_params = std::move(m.params);
    log::ScopedTraceId scope(req.trace_id);
    try {
      (*m.handler)(req, resp);
    } catch (const std::exception& e) {
      log::Error("http handler threw",
                 {{"server", server_->options_.name}, {"route", req.route}, {"error", e.what()}});
      resp = HttpResponse();
      resp.Text(500, "internal error\n");
    } catch (...) {
      log::Error("http handler threw", {{"server", server_->options_.name}, {"route", req.route}});
      resp = HttpResponse();
      resp.Text(500, "internal error\n");
    }
    if (resp.status < 100 || resp.status > 999 || resp.status == 101) {
      log::Error("http handler set an invalid status",
                 {{"route", req.route}, {"status", resp.status}});
      resp = HttpResponse();
      resp.Text(500, "internal error\n");
    }
  } else if (m.status == 405) {
    resp.Text(405, "method not allowed\n");
    resp.headers.Set("allow", m.allow);
  } else {
    resp.Text(404, "not found\n");
  }
  ++c->served;
  bool keep_alive = c->head.keep_alive && !server_->draining() &&
                    c->served < server_->options_.max_requests_per_connection;
  AppendResponse(&c->out, resp, req.method == "HEAD", keep_alive, req.version_minor, req.trace_id);
  c->close_after_write = !keep_alive;
  if (server_->metrics_ != nullptr) {
    double secs = static_cast<double>(NowNs() - now) / 1e9;
    std::string_view route = m.status == 404 ? std::string_view("unmatched") : m.pattern;
    server_->metrics_->ObserveHttp(MethodLabel(req.method), route, resp.status, secs);
  }
}

bool HttpServer::Worker::SendError(Conn* c, int status, std::string_view message, int64_t now) {
  HttpResponse resp;
  resp.Text(status, absl::StrCat(AV(message), "\n"));
  std::string trace_id = log::NewTraceId();
  log::Debug("http request rejected", {{"server", server_->options_.name},
                                       {"status", status},
                                       {"reason", message},
                                       {"remote", c->remote},
                                       {"trace_id_sent", trace_id}});
  AppendResponse(&c->out, resp, false, false, 1, trace_id);
  if (server_->metrics_ != nullptr) {
    server_->metrics_->ObserveHttp(MethodLabel(c->req.method), "unmatched", status, 0.0);
  }
  c->in.clear();
  c->close_after_write = true;
  return Flush(c, now);
}

bool HttpServer::Worker::Flush(Conn* c, int64_t now) {
  while (c->out_off < c->out.size()) {
    ssize_t n = ::send(c->fd, c->out.data() + c->out_off, c->out.size() - c->out_off, MSG_NOSIGNAL);
    if (n > 0) {
      c->out_off += static_cast<std::size_t>(n);
      c->last_active_ns = now;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      SetWantWrite(c, true);
      return true;
    }
    Close(c);
    return false;
  }
  c->out.clear();
  c->out_off = 0;
  SetWantWrite(c, false);
  if (c->close_after_write && !c->lingering) {
    // Half-close and discard input for a moment so the peer reads the answer (see kLingerNs).
    ::shutdown(c->fd, SHUT_WR);
    c->lingering = true;
    c->linger_deadline_ns = now + kLingerNs;
    c->in.clear();
  }
  return true;
}

void HttpServer::Worker::SetWantWrite(Conn* c, bool want) {
  if (c->want_write == want) return;
  c->want_write = want;
  epoll_event ev{};
  // While output is pending we stop reading: this bounds the input a client can queue.
  ev.events = want ? (EPOLLOUT | EPOLLRDHUP) : (EPOLLIN | EPOLLRDHUP);
  ev.data.fd = c->fd;
  epoll_ctl(epfd_, EPOLL_CTL_MOD, c->fd, &ev);
}

void HttpServer::Worker::Close(Conn* c) {
  int fd = c->fd;
  epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
  server_->open_connections_.fetch_sub(1);  // before close(): the peer may look right after
  ::close(fd);
  conns_.erase(fd);
}

void HttpServer::Worker::Sweep(int64_t now) {
  const HttpServerOptions& o = server_->options_;
  const bool draining = server_->draining();
  std::vector<Conn*> to_close;
  std::vector<Conn*> timed_out;
  for (auto& [fd, conn] : conns_) {
    Conn* c = conn.get();
    bool output_pending = c->out_off < c->out.size();
    if (c->lingering) {
      if (now >= c->linger_deadline_ns) to_close.push_back(c);
    } else if (output_pending) {
      if (now - c->last_active_ns > ToNs(o.idle_timeout)) to_close.push_back(c);
    } else if (c->request_start_ns != 0) {
      if (now - c->request_start_ns > ToNs(o.request_timeout)) timed_out.push_back(c);
    } else if (draining || now - c->last_active_ns > ToNs(o.idle_timeout)) {
      to_close.push_back(c);
    }
  }
  for (Conn* c : to_close) Close(c);
  for (Conn* c : timed_out) SendError(c, 408, "request not received in time", now);
}

HttpServer::HttpServer(HttpServerOptions options, metrics::MetricsRegistry* metrics)
    : options_(std::move(options)), metrics_(metrics) {}

HttpServer::~HttpServer() { Shutdown(absl::ZeroDuration()); }

absl::Status HttpServer::Handle(std::string_view method, std::string_view pattern,
                                HttpHandler handler) {
  SHIELDX_CHECK_MSG(!started_.load(), "HttpServer::Handle after Start");
  return router_.Add(method, pattern, std::move(handler));
}

absl::Status HttpServer::Start() {
  if (started_.load()) {
    return absl::FailedPreconditionError(
        absl::StrCat("http server ", options_.name, ": already started"));
  }
  if (options_.worker_threads < 1 || options_.max_connections < 1 || options_.port < 0 ||
      options_.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "http server ", options_.name, ": need worker_threads >= 1 (have ", options_.worker_threads,
        "), max_connections >= 1 (have ", options_.max_connections, ") and port in 0..65535 (have ",
        options_.port, ")"));
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* res = nullptr;
  std::string port_text = std::to_string(options_.port);
  int gai = getaddrinfo(options_.host.c_str(), port_text.c_str(), &hints, &res);
  if (gai != 0 || res == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("http server ", options_.name,
                                                   ": cannot resolve host '", options_.host,
                                                   "': ", gai_strerror(gai)));
  }
  std::string where = absl::StrCat(options_.host, ":", options_.port);
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
      bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, options_.backlog) != 0) {
    int err = errno;
    freeaddrinfo(res);
    if (fd >= 0) ::close(fd);
    return absl::UnavailableError(absl::StrCat("http server ", options_.name, ": listen on ", where,
                                               ": ", std::strerror(err)));
  }
  freeaddrinfo(res);
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  int bound = ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                                       : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  listen_fd_ = fd;
  for (int i = 0; i < options_.worker_threads; ++i) {
    auto w = std::make_unique<Worker>(this);
    absl::Status s = w->Init();
    if (!s.ok()) {
      workers_.clear();
      ::close(listen_fd_);
      listen_fd_ = -1;
      return s;
    }
    workers_.push_back(std::move(w));
  }
  port_.store(bound, std::memory_order_release);
  started_.store(true);
  for (auto& w : workers_) threads_.emplace_back([worker = w.get()] { worker->Run(); });
  log::Info("http server listening", {{"server", options_.name},
                                      {"host", options_.host},
                                      {"port", bound},
                                      {"workers", options_.worker_threads}});
  return absl::OkStatus();
}

void HttpServer::Shutdown(absl::Duration deadline) {
  if (!started_.load() || threads_.empty()) return;
  drain_deadline_ns_.store(NowNs() + ToNs(std::max(deadline, absl::ZeroDuration())),
                           std::memory_order_release);
  draining_.store(true, std::memory_order_release);
  // Refuse new connections now (pending ones in the backlog are reset).
  ::shutdown(listen_fd_, SHUT_RDWR);
  for (auto& w : workers_) w->Wake();
  for (auto& t : threads_) t.join();
  threads_.clear();
  workers_.clear();
  ::close(listen_fd_);
  listen_fd_ = -1;
  log::Info("http server stopped", {{"server", options_.name}});
}

}  // namespace shieldx::http
