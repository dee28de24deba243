#include "libs/testing/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace shieldx::testing {
namespace {

absl::Status Errno(const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

}  // namespace

absl::StatusOr<TempDir> TempDir::Create(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = absl::StrCat(base && *base ? base : "/tmp", "/", prefix, "-XXXXXX");
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) return Errno("mkdtemp");
  std::string path(buf.data());
  if (chmod(path.c_str(), 0755) != 0) return Errno("chmod temp dir");
  return TempDir(std::move(path));
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)), keep_(other.keep_) {
  other.path_.clear();
}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    if (!path_.empty() && !keep_) {
      std::error_code ec;
      std::filesystem::remove_all(path_, ec);
    }
    path_ = std::move(other.path_);
    keep_ = other.keep_;
    other.path_.clear();
  }
  return *this;
}

TempDir::~TempDir() {
  if (path_.empty() || keep_) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

absl::StatusOr<int> PickFreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return Errno("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return Errno("bind");
  }
  socklen_t len = sizeof(addr);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return Errno("getsockname");
  }
  close(fd);
  return static_cast<int>(ntohs(addr.sin_port));
}

absl::Status WaitForTcpPort(int port, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return Errno("socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    close(fd);
    if (ok) return absl::OkStatus();
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError(absl::StrCat("port ", port, " not accepting connections"));
}

bool RunningAsRoot() { return geteuid() == 0; }

absl::StatusOr<Subprocess> Subprocess::Start(const Options& options) {
  if (options.argv.empty()) return absl::InvalidArgumentError("Subprocess: empty argv");
  uid_t uid = 0;
  gid_t gid = 0;
  std::string home;
  if (!options.run_as_user.empty()) {
    passwd* pw = getpwnam(options.run_as_user.c_str());
    if (pw == nullptr) {
      return absl::NotFoundError(absl::StrCat("user ", options.run_as_user, " does not exist"));
    }
    uid = pw->pw_uid;
    gid = pw->pw_gid;
    home = pw->pw_dir;
  }
  // Everything the child needs is prepared before fork (no allocation after fork).
  std::vector<char*> argv;
  for (const auto& a : options.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_store;
  for (char** e = environ; *e != nullptr; ++e) env_store.emplace_back(*e);
  for (const auto& e : options.env) env_store.push_back(e);
  if (!home.empty()) env_store.push_back("HOME=" + home);
  std::vector<char*> envp;
  for (auto& e : env_store) envp.push_back(e.data());
  envp.push_back(nullptr);

  int log_fd = -1;
  if (!options.log_path.empty()) {
    log_fd = open(options.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) return Errno("open log " + options.log_path);
  } else {
    log_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  }
  if (!options.run_as_user.empty() && log_fd >= 0) {
    if (fchown(log_fd, uid, gid) != 0) { /* best effort: the child inherits the fd anyway */
    }
  }

  pid_t pid = fork();
  if (pid < 0) {
    close(log_fd);
    return Errno("fork");
  }
  if (pid == 0) {
    setpgid(0, 0);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    if (!options.working_dir.empty() && chdir(options.working_dir.c_str()) != 0) _exit(126);
    if (!options.run_as_user.empty()) {
      if (setgid(gid) != 0 || setuid(uid) != 0) _exit(126);
    }
    execvpe(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(log_fd);
  return Subprocess(pid);
}

Subprocess::Subprocess(Subprocess&& other) noexcept
    : pid_(other.pid_), wait_status_(other.wait_status_) {
  other.pid_ = -1;
}

Subprocess& Subprocess::operator=(Subprocess&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0) Stop();
    pid_ = other.pid_;
    wait_status_ = other.wait_status_;
    other.pid_ = -1;
  }
  return *this;
}

Subprocess::~Subprocess() {
  if (pid_ > 0) Stop();
}

bool Subprocess::Running() {
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    wait_status_ = status;
    pid_ = -1;
    return false;
  }
  return r == 0;
}

void Subprocess::Signal(int signal) {
  if (pid_ > 0) kill(pid_, signal);
}

int Subprocess::Stop(absl::Duration grace) {
  if (pid_ <= 0) return wait_status_;
  kill(pid_, SIGTERM);
  auto r = Wait(grace);
  if (!r.ok()) {
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    wait_status_ = status;
    pid_ = -1;
  }
  return wait_status_;
}

absl::StatusOr<int> Subprocess::Wait(absl::Duration timeout) {
  if (pid_ <= 0) return WIFEXITED(wait_status_) ? WEXITSTATUS(wait_status_) : -1;
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      wait_status_ = status;
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat("pid ", pid_, " still running"));
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
}

absl::StatusOr<std::string> RunCommand(const Subprocess::Options& options, absl::Duration timeout) {
  auto dir = TempDir::Create("shieldx-cmd");
  if (!dir.ok()) return dir.status();
  Subprocess::Options opts = options;
  opts.log_path = dir->path() + "/out.log";
  auto proc = Subprocess::Start(opts);
  if (!proc.ok()) return proc.status();
  auto code = proc->Wait(timeout);
  std::ifstream in(opts.log_path);
  std::stringstream out;
  out << in.rdbuf();
  if (!code.ok()) {
    proc->Stop(absl::Seconds(1));
    return absl::DeadlineExceededError(
        absl::StrCat(absl::StrJoin(options.argv, " "), " timed out: ", out.str()));
  }
  if (*code != 0) {
    return absl::InternalError(
        absl::StrCat(absl::StrJoin(options.argv, " "), " exited ", *code, ": ", out.str()));
  }
  return out.str();
}

}  // namespace shieldx::testing
