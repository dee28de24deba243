// RedisServer: a real redis-server on a free loopback port, for tests.
//
//   ASSERT_OK_AND_ASSIGN(auto redis, RedisServer::Start());
//   RedisPool pool({.host = redis->host(), .port = redis->port()});
//   redis->Stop();          // outage: connections are refused
//   redis->StartAgain();    // same port, empty data set
//
// The server runs in the foreground as a child process with no persistence (`--save ''
// --appendonly no`), its working directory and log in a TempDir that is removed on
// destruction. The port is chosen once and kept across Stop/StartAgain/Restart, so clients
// configured with it see an outage and a recovery, not a move.
//
// Thread-safety: not thread-safe; drive it from the test thread.
#ifndef SHIELDX_LIBS_TESTING_REDIS_SERVER_H_
#define SHIELDX_LIBS_TESTING_REDIS_SERVER_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/testing/process.h"

namespace shieldx::testing {

class RedisServer {
 public:
  // How long Start/StartAgain wait for the server to answer PING.
  static constexpr absl::Duration kStartTimeout = absl::Seconds(10);

  // Starts redis-server (found on PATH) on a free 127.0.0.1 port and waits until it answers.
  static absl::StatusOr<std::unique_ptr<RedisServer>> Start();

  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;
  ~RedisServer();

  std::string host() const { return "127.0.0.1"; }
  int port() const { return port_; }
  // "127.0.0.1:PORT".
  std::string address() const;
  bool running() const { return process_.has_value(); }

  // Stops the server (SIGTERM, then SIGKILL after 5 s); all its data is lost. Idempotent.
  void Stop();
  // Starts a stopped server again on the same port. FailedPrecondition if it is running.
  absl::Status StartAgain();
  // Stop() then StartAgain().
  absl::Status Restart();
  // SIGSTOP / SIGCONT: the server keeps its sockets but answers nothing (a hung server).
  void Freeze();
  void Thaw();

  // The server's log file (useful in failure messages).
  std::string log_path() const;

 private:
  RedisServer(TempDir dir, int port) : dir_(std::move(dir)), port_(port) {}
  absl::Status Launch();

  TempDir dir_;
  int port_;
  std::optional<Subprocess> process_;
  bool frozen_ = false;
};

}  // namespace shieldx::testing

#endif  // SHIELDX_LIBS_TESTING_REDIS_SERVER_H_
