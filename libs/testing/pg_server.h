// PgServer: a real PostgreSQL 15 server for tests, in a temp dir on a free loopback port.
//
//   ASSERT_OK_AND_ASSIGN(auto pg, PgServer::Start({}));
//   ASSERT_OK(pg->CreateDatabase("ledger"));
//   pqxx::connection c(pg->ConnectionString("ledger"));
//
// The cluster is created with `initdb -A trust -U postgres` (superuser `postgres`, no password)
// and runs with fsync off: it is fast and disposable, never durable. When the test runs as root
// (PostgreSQL refuses root), initdb / pg_ctl / postgres run as the OS user `postgres` and the data
// and run directories are owned by that user; otherwise they run as the current user.
//
// The first Start() per OS user runs initdb into $TMPDIR/shieldx-pg15-template-<uid> (kept
// across runs, ~40 MB); later ones copy that template, which is several times faster.
// Starting takes ~0.5-1.5 s, so share one server per test suite (SetUpTestSuite) and give each test
// its own database via CreateDatabase. Stop() / Start() / Restart() keep the data directory and
// the port, for outage tests. The destructor stops the server and removes the directory.
//
// Thread-safety: not thread-safe; drive it from the test thread.
#ifndef SHIELDX_LIBS_TESTING_PG_SERVER_H_
#define SHIELDX_LIBS_TESTING_PG_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/testing/process.h"

namespace shieldx::testing {

class PgServer {
 public:
  struct Options {
    // Prefix of the temp dir under $TMPDIR.
    std::string dir_prefix = "shieldx-pg";
    // Extra `-c name=value` server settings, e.g. {"max_connections=20"}.
    std::vector<std::string> settings;
    // Time allowed for initdb and for each start / stop.
    absl::Duration timeout = absl::Seconds(60);
    // OS user that runs the server when the test runs as root.
    std::string root_run_as_user = "postgres";
  };

  // Creates a cluster with initdb and starts it. Errors carry the server log's tail.
  static absl::StatusOr<std::unique_ptr<PgServer>> Start(const Options& options);

  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;
  ~PgServer();

  // The loopback TCP port; stays the same across Stop / Start.
  int Port() const { return port_; }
  // libpq key=value conninfo for `dbname` as superuser `postgres` over TCP on 127.0.0.1.
  std::string ConnectionString(const std::string& dbname = "postgres") const;
  // CREATE DATABASE `name`. REQUIRES: name matches [a-z_][a-z0-9_]{0,62}.
  absl::Status CreateDatabase(const std::string& name);
  // Runs one SQL statement with psql against `dbname` and returns its unaligned output.
  absl::StatusOr<std::string> Psql(const std::string& dbname, const std::string& sql);

  // Fast shutdown (`pg_ctl stop -m fast`): clients see their connections closed. Idempotent.
  absl::Status Stop();
  // Starts the server again on the same data directory and port. No-op when running.
  absl::Status Start();
  absl::Status Restart();
  bool running() const { return running_; }

  const std::string& data_dir() const { return data_dir_; }
  const std::string& log_path() const { return log_path_; }

 private:
  PgServer(Options options, TempDir dir);
  absl::Status InitDb();
  absl::Status RunInitDb(const std::string& data_dir);
  absl::StatusOr<std::string> TemplateDataDir();
  absl::Status StartOnce();
  // argv run as the server's OS user, with a timeout; output returned.
  absl::StatusOr<std::string> RunAsServerUser(std::vector<std::string> argv);
  std::string LogTail() const;

  Options options_;
  TempDir dir_;
  std::string run_as_user_;  // empty: current user
  std::string data_dir_;
  std::string run_dir_;  // unix socket and server log
  std::string log_path_;
  int port_ = 0;
  bool running_ = false;
};

}  // namespace shieldx::testing

#endif  // SHIELDX_LIBS_TESTING_PG_SERVER_H_
