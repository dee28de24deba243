// Process, port and directory helpers for tests that start real servers.
//
// Nothing here is used on a request path; it is for test fixtures and the benchmark drivers.
#ifndef SHIELDX_LIBS_TESTING_PROCESS_H_
#define SHIELDX_LIBS_TESTING_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace shieldx::testing {

// A fresh directory under $TMPDIR (default /tmp), removed recursively on destruction.
// The directory is mode 0755 and its parents must be traversable, so servers that run as
// another user (PostgreSQL as `postgres`) can use it.
class TempDir {
 public:
  static absl::StatusOr<TempDir> Create(const std::string& prefix);
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  const std::string& path() const { return path_; }
  // Does not delete the directory on destruction (keep logs of a failed test).
  void Keep() { keep_ = true; }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
  bool keep_ = false;
};

// A free TCP port on 127.0.0.1 (bound to port 0 then released: a small race is possible).
absl::StatusOr<int> PickFreePort();

// Polls until a TCP connect to 127.0.0.1:port succeeds or `timeout` passes.
absl::Status WaitForTcpPort(int port, absl::Duration timeout);

// A child process. The destructor sends SIGTERM, waits up to 5 s, then SIGKILLs.
// stdout and stderr go to `log_path` (appended) when given, else /dev/null.
class Subprocess {
 public:
  struct Options {
    std::vector<std::string> argv;  // argv[0] is looked up on PATH
    std::string log_path;           // empty: discard output
    std::string run_as_user;        // empty: current user; else setuid to this user (root only)
    std::vector<std::string> env;   // extra "K=V" entries added to the inherited environment
    std::string working_dir;        // empty: inherit
  };

  static absl::StatusOr<Subprocess> Start(const Options& options);
  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&& other) noexcept;
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;
  ~Subprocess();

  pid_t pid() const { return pid_; }
  bool Running();
  // Sends `signal` (e.g. SIGKILL) without waiting.
  void Signal(int signal);
  // SIGTERM, wait up to `grace`, then SIGKILL. Returns the exit status (as from waitpid).
  int Stop(absl::Duration grace = absl::Seconds(5));
  // Waits for exit up to `timeout`; returns the exit code, or DeadlineExceeded.
  absl::StatusOr<int> Wait(absl::Duration timeout);

 private:
  explicit Subprocess(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;
  int wait_status_ = 0;
};

// Runs argv to completion (with optional run_as_user), capturing combined output.
// Returns the output on exit code 0, else an Internal error holding the code and output.
absl::StatusOr<std::string> RunCommand(const Subprocess::Options& options,
                                       absl::Duration timeout = absl::Seconds(60));

// True when the process runs as root (servers like PostgreSQL must then drop to a user).
bool RunningAsRoot();

}  // namespace shieldx::testing

#endif  // SHIELDX_LIBS_TESTING_PROCESS_H_
