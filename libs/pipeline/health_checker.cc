#include "libs/pipeline/health_checker.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace shieldx::pipeline {

namespace {

constexpr int64_t kDefaultIntervalMs = 5000;
constexpr int64_t kDefaultTimeoutMs = 1000;
constexpr std::size_t kMaxResponseHead = 1024;

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

int64_t MonoMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1'000'000;
}

// Waits for `events` on fd until `deadline_ms`; false on timeout or error.
bool WaitFor(int fd, short events, int64_t deadline_ms) {
  for (;;) {
    const int64_t left = deadline_ms - MonoMs();
    if (left <= 0) return false;
    struct pollfd p = {fd, events, 0};
    const int n = poll(&p, 1, static_cast<int>(left));
    if (n < 0 && errno == EINTR) continue;
    return n > 0 && (p.revents & (events | POLLERR | POLLHUP)) != 0;
  }
}

// Picks whose outcome is never reported (front ends without response feedback) would count
// as outstanding forever: without a report for kOutstandingStaleNs, the count halves per tick.
constexpr int64_t kOutstandingStaleNs = int64_t{5} * 1'000'000'000;

void DecayOutstanding(MemberState& s, int64_t now_ns) {
  int32_t n = s.outstanding.load(std::memory_order_relaxed);
  if (n > 0 && now_ns - s.last_report_ns.load(std::memory_order_relaxed) > kOutstandingStaleNs) {
    s.outstanding.compare_exchange_strong(n, n / 2, std::memory_order_relaxed);
  }
}

}  // namespace

ProbeResult ProbeMember(const std::string& address, const v1::HealthCheck& check) {
  ProbeResult r;
  const int64_t timeout_ms = check.timeout_ms() > 0 ? check.timeout_ms() : kDefaultTimeoutMs;
  const int64_t start = MonoMs();
  const int64_t deadline = start + timeout_ms;
  const std::size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(address.substr(colon + 1), &port) ||
      port <= 0 || port > 65535) {
    r.detail = "bad address";
    return r;
  }
  std::string host = address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  struct addrinfo hints = {};
  hints.ai_socktype = SOCK_STREAM;
  struct addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), absl::StrCat(port).c_str(), &hints, &res) != 0 || res == nullptr) {
    r.detail = "cannot resolve host";
    return r;
  }
  Fd s;
  s.fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s.fd < 0) {
    freeaddrinfo(res);
    r.detail = absl::StrCat("socket: ", std::strerror(errno));
    return r;
  }
  const int rc = connect(s.fd, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  if (rc != 0 && errno != EINPROGRESS) {
    r.detail = absl::StrCat("connect: ", std::strerror(errno));
    return r;
  }
  if (rc != 0) {
    if (!WaitFor(s.fd, POLLOUT, deadline)) {
      r.detail = absl::StrCat("connect timeout after ", timeout_ms, " ms");
      return r;
    }
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      r.detail = absl::StrCat("connect: ", std::strerror(err));
      return r;
    }
  }
  if (check.kind() != v1::HEALTH_CHECK_KIND_HTTP) {
    r.ok = true;
    r.rtt_us = (MonoMs() - start) * 1000;
    r.detail = "TCP connect ok";
    return r;
  }
  const std::string path = check.path().empty() ? "/" : check.path();
  const std::string req = absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: ", host,
                                       "\r\nUser-Agent: shieldx-health-check\r\n"
                                       "Connection: close\r\n\r\n");
  std::size_t sent = 0;
  while (sent < req.size()) {
    const ssize_t n = send(s.fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR) && WaitFor(s.fd, POLLOUT, deadline)) continue;
    r.detail = "send failed";
    return r;
  }
  std::string head;
  char buf[512];
  while (head.find("\r\n") == std::string::npos && head.size() < kMaxResponseHead) {
    if (!WaitFor(s.fd, POLLIN, deadline)) {
      r.detail = absl::StrCat("no response within ", timeout_ms, " ms");
      return r;
    }
    const ssize_t n = recv(s.fd, buf, sizeof(buf), 0);
    if (n > 0) {
      head.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
      break;
    }
  }
  // "HTTP/1.1 200 OK"
  int status = 0;
  const std::size_t sp = head.find(' ');
  if (head.rfind("HTTP/", 0) != 0 || sp == std::string::npos ||
      !absl::SimpleAtoi(head.substr(sp + 1, 3), &status)) {
    r.detail = "not an HTTP response";
    return r;
  }
  r.rtt_us = (MonoMs() - start) * 1000;
  r.detail = absl::StrCat("HTTP ", status);
  if (check.expected_statuses_size() == 0) {
    r.ok = status >= 200 && status < 400;
  } else {
    for (uint32_t want : check.expected_statuses()) r.ok = r.ok || static_cast<int>(want) == status;
  }
  return r;
}

HealthChecker::HealthChecker(SnapshotFn snapshot, Clock* clock, PipelineMetrics* metrics,
                             absl::Duration tick)
    : snapshot_(std::move(snapshot)),
      clock_(clock != nullptr ? clock : Clock::Real()),
      metrics_(metrics),
      tick_(tick) {}

HealthChecker::~HealthChecker() { Stop(); }

void HealthChecker::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] {
    while (!stop_.WaitForNotificationWithTimeout(tick_)) CheckDue();
  });
}

void HealthChecker::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

void HealthChecker::CheckDue() {
  std::shared_ptr<const Snapshot> snap = snapshot_();
  if (snap == nullptr) return;
  for (const auto& [tenant_id, tenant] : snap->tenants()) {
    for (const auto& [pool_id, pool] : tenant->pools) {
      const v1::HealthCheck& hc = pool->health_check();
      for (std::size_t i = 0; i < pool->members().size(); ++i) {
        const CompiledMember& m = pool->members()[i];
        DecayOutstanding(*m.state, clock_->MonotonicNanos());
        if (hc.kind() == v1::HEALTH_CHECK_KIND_UNSPECIFIED) {
          if (metrics_ != nullptr) {
            metrics_->SetUpstreamHealthy(
                tenant_id, pool_id, m.member_id,
                pool->Eligible(static_cast<int>(i), clock_->MonotonicNanos()));
          }
          continue;
        }
        const int64_t now = clock_->MonotonicNanos();
        {
          absl::MutexLock lock(&m.state->mu);
          if (m.state->next_check_ns > now) continue;
          const int64_t interval_ms = hc.interval_ms() > 0 ? hc.interval_ms() : kDefaultIntervalMs;
          m.state->next_check_ns = now + interval_ms * 1'000'000;
        }
        if (m.drained) continue;
        const ProbeResult r = ProbeMember(m.address, hc);
        const uint32_t healthy_after = std::max<uint32_t>(1, hc.healthy_threshold());
        const uint32_t unhealthy_after = std::max<uint32_t>(1, hc.unhealthy_threshold());
        {
          absl::MutexLock lock(&m.state->mu);
          m.state->last_check_result = r.detail;
          if (r.ok) {
            m.state->check_failures = 0;
            ++m.state->check_successes;
            const auto health = static_cast<Health>(m.state->health.load());
            if (health != Health::kHealthy &&
                (health == Health::kUnknown ||
                 m.state->check_successes >= static_cast<int>(healthy_after))) {
              m.state->health.store(static_cast<uint8_t>(Health::kHealthy));
            }
            if (m.state->last_report_ns.load() == 0) m.state->ObserveLatency(r.rtt_us);
          } else {
            m.state->check_successes = 0;
            if (++m.state->check_failures >= static_cast<int>(unhealthy_after)) {
              m.state->health.store(static_cast<uint8_t>(Health::kUnhealthy));
            }
          }
        }
        if (metrics_ != nullptr) {
          metrics_->SetUpstreamHealthy(
              tenant_id, pool_id, m.member_id,
              pool->Eligible(static_cast<int>(i), clock_->MonotonicNanos()));
        }
      }
    }
  }
}

}  // namespace shieldx::pipeline
