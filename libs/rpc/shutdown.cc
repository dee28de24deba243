#include "libs/rpc/shutdown.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/http/admin.h"
#include "libs/http/server.h"
#include "libs/log/log.h"
#include "libs/rpc/server.h"

namespace shieldx::rpc {
namespace {

int g_pipe[2] = {-1, -1};
std::atomic<bool> g_draining{false};

void OnSignal(int sig) {
  if (g_draining.load()) _exit(128 + sig);  // second signal: stop waiting
  int saved = errno;
  unsigned char b = static_cast<unsigned char>(sig);
  [[maybe_unused]] ssize_t n = ::write(g_pipe[1], &b, 1);
  errno = saved;
}

absl::Status InstallOnce() {
  if (pipe2(g_pipe, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("shutdown signal pipe: ", std::strerror(errno)));
  }
  fcntl(g_pipe[1], F_SETFL, O_NONBLOCK);
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  if (sigaction(SIGTERM, &sa, nullptr) != 0 || sigaction(SIGINT, &sa, nullptr) != 0) {
    return absl::InternalError(absl::StrCat("sigaction: ", std::strerror(errno)));
  }
  signal(SIGPIPE, SIG_IGN);
  return absl::OkStatus();
}

}  // namespace

absl::Status InstallShutdownSignalHandlers() {
  static std::once_flag once;
  static absl::Status status;
  std::call_once(once, [] { status = InstallOnce(); });
  return status;
}

int WaitForShutdownSignal() {
  absl::Status s = InstallShutdownSignalHandlers();
  if (!s.ok()) {
    log::Error("cannot install shutdown signal handlers", {{"error", s.ToString()}});
    return 0;
  }
  while (true) {
    unsigned char b = 0;
    ssize_t n = ::read(g_pipe[0], &b, 1);
    if (n == 1) return b == 0xff ? 0 : b;
    if (n < 0 && errno == EINTR) continue;
    log::Error("shutdown signal pipe failed", {{"error", std::strerror(errno)}});
    return 0;
  }
}

void RequestShutdown() {
  if (!InstallShutdownSignalHandlers().ok()) return;
  unsigned char b = 0xff;
  [[maybe_unused]] ssize_t n = ::write(g_pipe[1], &b, 1);
}

void Drain(const DrainPlan& plan) {
  g_draining.store(true);
  const absl::Time start = absl::Now();
  log::Info("drain started", {{"drain_deadline_ms", absl::ToInt64Milliseconds(plan.drain_deadline)},
                              {"unready_delay_ms", absl::ToInt64Milliseconds(plan.unready_delay)}});
  for (GrpcServer* s : plan.grpc_servers) s->BeginDrain();
  if (plan.admin != nullptr) plan.admin->BeginDrain();
  if (plan.unready_delay > absl::ZeroDuration()) absl::SleepFor(plan.unready_delay);
  if (plan.before_stop) plan.before_stop();
  const absl::Time deadline = start + plan.drain_deadline;
  // HTTP servers drain on their own worker threads while gRPC is shut down here.
  std::vector<std::thread> http_stoppers;
  for (http::HttpServer* s : plan.http_servers) {
    http_stoppers.emplace_back([s, deadline] { s->Shutdown(deadline - absl::Now()); });
  }
  for (GrpcServer* s : plan.grpc_servers) s->Shutdown(deadline - absl::Now());
  for (std::thread& t : http_stoppers) t.join();
  if (plan.admin != nullptr) plan.admin->Shutdown(absl::Seconds(1));
  g_draining.store(false);
  log::Info("drain finished", {{"elapsed_ms", absl::ToInt64Milliseconds(absl::Now() - start)}});
  log::Flush();
}

int ServeUntilShutdownSignal(const DrainPlan& plan) {
  int sig = WaitForShutdownSignal();
  log::Info("shutdown requested", {{"signal", sig}});
  Drain(plan);
  return sig;
}

}  // namespace shieldx::rpc
