#include "libs/testing/redis_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace shieldx::testing {
namespace {

// One inline PING over a fresh TCP connection; true when the server answers +PONG.
bool AnswersPing(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  timeval tv{.tv_sec = 0, .tv_usec = 500'000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = false;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    static constexpr char kPing[] = "PING\r\n";
    if (write(fd, kPing, sizeof(kPing) - 1) == static_cast<ssize_t>(sizeof(kPing) - 1)) {
      char buf[16] = {};
      ssize_t n = read(fd, buf, sizeof(buf) - 1);
      ok = n >= 5 && std::strncmp(buf, "+PONG", 5) == 0;
    }
  }
  close(fd);
  return ok;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RedisServer>> RedisServer::Start() {
  auto dir = TempDir::Create("shieldx-redis");
  if (!dir.ok()) return dir.status();
  auto port = PickFreePort();
  if (!port.ok()) return port.status();
  std::unique_ptr<RedisServer> server(new RedisServer(std::move(*dir), *port));
  absl::Status s = server->Launch();
  if (!s.ok()) return s;
  return server;
}

RedisServer::~RedisServer() { Stop(); }

std::string RedisServer::address() const { return absl::StrCat("127.0.0.1:", port_); }

std::string RedisServer::log_path() const { return dir_.path() + "/redis.log"; }

absl::Status RedisServer::Launch() {
  Subprocess::Options opts;
  opts.argv = {"redis-server",
               "--bind",
               "127.0.0.1",
               "--port",
               absl::StrCat(port_),
               "--save",
               "",
               "--appendonly",
               "no",
               "--dir",
               dir_.path(),
               "--daemonize",
               "no",
               "--protected-mode",
               "no"};
  opts.log_path = log_path();
  auto proc = Subprocess::Start(opts);
  if (!proc.ok()) return proc.status();
  process_.emplace(std::move(*proc));
  const absl::Time deadline = absl::Now() + kStartTimeout;
  while (!AnswersPing(port_)) {
    if (!process_->Running()) {
      process_.reset();
      return absl::InternalError(
          absl::StrCat("redis-server on port ", port_, " exited at start; see ", log_path()));
    }
    if (absl::Now() >= deadline) {
      Stop();
      return absl::DeadlineExceededError(absl::StrCat("redis-server on port ", port_,
                                                      " did not answer PING within ",
                                                      absl::FormatDuration(kStartTimeout)));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::OkStatus();
}

void RedisServer::Stop() {
  if (!process_.has_value()) return;
  Thaw();
  process_->Stop();
  process_.reset();
}

absl::Status RedisServer::StartAgain() {
  if (process_.has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat("redis-server on port ", port_, " is already running"));
  }
  return Launch();
}

absl::Status RedisServer::Restart() {
  Stop();
  return StartAgain();
}

void RedisServer::Freeze() {
  if (!process_.has_value() || frozen_) return;
  process_->Signal(SIGSTOP);
  frozen_ = true;
}

void RedisServer::Thaw() {
  if (!process_.has_value() || !frozen_) return;
  process_->Signal(SIGCONT);
  frozen_ = false;
}

}  // namespace shieldx::testing
