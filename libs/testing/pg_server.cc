#include "libs/testing/pg_server.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace shieldx::testing {
namespace {

constexpr char kPgBinDir[] = "/usr/lib/postgresql/15/bin";
// A port picked free can be taken by another process before the server binds it.
constexpr int kMaxPortAttempts = 3;
// Bytes of the server log quoted in errors.
constexpr std::size_t kLogTailBytes = 2000;
constexpr std::size_t kMaxDatabaseNameBytes = 63;

std::string Bin(const char* name) { return absl::StrCat(kPgBinDir, "/", name); }

absl::Status MakeDirFor(const std::string& path, mode_t mode, const std::string& user) {
  if (mkdir(path.c_str(), mode) != 0 && errno != EEXIST) {
    return absl::InternalError(absl::StrCat("mkdir ", path, ": ", std::strerror(errno)));
  }
  if (chmod(path.c_str(), mode) != 0) {
    return absl::InternalError(absl::StrCat("chmod ", path, ": ", std::strerror(errno)));
  }
  if (user.empty()) return absl::OkStatus();
  passwd* pw = getpwnam(user.c_str());
  if (pw == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("user ", user, " does not exist (PostgreSQL cannot run as root)"));
  }
  if (chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
    return absl::InternalError(
        absl::StrCat("chown ", path, " to ", user, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

bool ValidDatabaseName(const std::string& name) {
  if (name.empty() || name.size() > kMaxDatabaseNameBytes) return false;
  if (!(name[0] == '_' || (name[0] >= 'a' && name[0] <= 'z'))) return false;
  for (char c : name) {
    if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

}  // namespace

PgServer::PgServer(Options options, TempDir dir)
    : options_(std::move(options)), dir_(std::move(dir)) {
  data_dir_ = dir_.path() + "/data";
  run_dir_ = dir_.path() + "/run";
  log_path_ = run_dir_ + "/postgres.log";
  if (RunningAsRoot()) run_as_user_ = options_.root_run_as_user;
}

absl::StatusOr<std::unique_ptr<PgServer>> PgServer::Start(const Options& options) {
  auto dir = TempDir::Create(options.dir_prefix);
  if (!dir.ok()) return dir.status();
  std::unique_ptr<PgServer> server(new PgServer(options, std::move(*dir)));
  absl::Status s = server->InitDb();
  if (!s.ok()) return s;
  for (int attempt = 1;; ++attempt) {
    auto port = PickFreePort();
    if (!port.ok()) return port.status();
    server->port_ = *port;
    s = server->StartOnce();
    if (s.ok()) return server;
    const bool port_taken = absl::StrContains(s.message(), "could not bind") ||
                            absl::StrContains(s.message(), "already in use");
    if (!port_taken || attempt >= kMaxPortAttempts) return s;
  }
}

PgServer::~PgServer() {
  if (!running_) return;
  if (!Stop().ok()) {
    // Last resort so no server outlives the test: immediate shutdown ignores open clients.
    (void)RunAsServerUser({Bin("pg_ctl"), "-D", data_dir_, "-m", "immediate", "-w", "stop"});
  }
}

absl::Status PgServer::RunInitDb(const std::string& data_dir) {
  if (absl::Status s = MakeDirFor(data_dir, 0700, run_as_user_); !s.ok()) return s;
  auto out = RunAsServerUser({Bin("initdb"), "-D", data_dir, "-A", "trust", "-U", "postgres", "-E",
                              "UTF8", "--locale=C", "--no-sync", "--no-instructions"});
  if (!out.ok()) {
    return absl::InternalError(
        absl::StrCat("initdb in ", data_dir, " failed: ", out.status().message()));
  }
  return absl::OkStatus();
}

// initdb costs ~1 s and every test process starts its own server, so one initdb'd cluster per
// OS user is kept at $TMPDIR/shieldx-pg15-template-<uid>/data and copied (~0.2 s). It is built
// in a staging dir and published by rename, so concurrent test processes never see half of it.
// A template not owned by us or writable by others is never used.
absl::StatusOr<std::string> PgServer::TemplateDataDir() {
  const char* tmp = std::getenv("TMPDIR");
  const std::string final_dir =
      absl::StrCat(tmp != nullptr && *tmp ? tmp : "/tmp", "/shieldx-pg15-template-", geteuid());
  auto usable = [&]() -> absl::Status {
    struct stat st;
    if (lstat(final_dir.c_str(), &st) != 0) return absl::NotFoundError(final_dir);
    if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022) != 0) {
      return absl::PermissionDeniedError(
          absl::StrCat(final_dir, " is not a directory owned by us and closed to others"));
    }
    if (access((final_dir + "/data/PG_VERSION").c_str(), F_OK) != 0) {
      return absl::NotFoundError(final_dir + "/data/PG_VERSION");
    }
    return absl::OkStatus();
  };
  if (absl::Status s = usable(); s.ok() || s.code() != absl::StatusCode::kNotFound) {
    if (!s.ok()) return s;
    return final_dir + "/data";
  }
  std::string tmpl = final_dir + ".tmp-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp ", tmpl, ": ", std::strerror(errno)));
  }
  if (chmod(tmpl.c_str(), 0755) != 0) {
    return absl::InternalError(absl::StrCat("chmod ", tmpl, ": ", std::strerror(errno)));
  }
  absl::Status s = RunInitDb(tmpl + "/data");
  if (s.ok() && rename(tmpl.c_str(), final_dir.c_str()) == 0) return final_dir + "/data";
  std::error_code ec;
  std::filesystem::remove_all(tmpl, ec);  // lost the race, or initdb failed
  if (!s.ok()) return s;
  if (absl::Status u = usable(); !u.ok()) return u;
  return final_dir + "/data";
}

absl::Status PgServer::InitDb() {
  if (absl::Status s = MakeDirFor(run_dir_, 0755, run_as_user_); !s.ok()) return s;
  absl::StatusOr<std::string> tmpl = TemplateDataDir();
  if (tmpl.ok()) {
    // cp -a keeps modes and (as root) the server user's ownership.
    Subprocess::Options cp;
    cp.argv = {"cp", "-a", *tmpl, data_dir_};
    if (RunCommand(cp, options_.timeout).ok()) return absl::OkStatus();
    std::error_code ec;
    std::filesystem::remove_all(data_dir_, ec);
  }
  return RunInitDb(data_dir_);
}

absl::Status PgServer::StartOnce() {
  std::vector<std::string> settings = {"listen_addresses=127.0.0.1", "fsync=off",
                                       "synchronous_commit=off",     "full_page_writes=off",
                                       "shared_buffers=16MB",        "max_connections=100"};
  for (const auto& s : options_.settings) settings.push_back(s);
  std::string server_opts = absl::StrCat("-p ", port_, " -k ", run_dir_);
  for (const auto& s : settings) absl::StrAppend(&server_opts, " -c ", s);
  const std::string timeout_s = absl::StrCat(absl::ToInt64Seconds(options_.timeout));
  auto out = RunAsServerUser({Bin("pg_ctl"), "-D", data_dir_, "-l", log_path_, "-w", "-t",
                              timeout_s, "-o", server_opts, "start"});
  if (!out.ok()) {
    return absl::UnavailableError(absl::StrCat("postgres on port ", port_, " did not start: ",
                                               out.status().message(), "; log tail: ", LogTail()));
  }
  running_ = true;
  return absl::OkStatus();
}

absl::Status PgServer::Start() {
  if (running_) return absl::OkStatus();
  return StartOnce();
}

absl::Status PgServer::Stop() {
  if (!running_) return absl::OkStatus();
  const std::string timeout_s = absl::StrCat(absl::ToInt64Seconds(options_.timeout));
  auto out = RunAsServerUser(
      {Bin("pg_ctl"), "-D", data_dir_, "-m", "fast", "-w", "-t", timeout_s, "stop"});
  if (!out.ok()) {
    return absl::InternalError(
        absl::StrCat("postgres on port ", port_, " did not stop: ", out.status().message()));
  }
  running_ = false;
  return absl::OkStatus();
}

absl::Status PgServer::Restart() {
  if (absl::Status s = Stop(); !s.ok()) return s;
  return Start();
}

std::string PgServer::ConnectionString(const std::string& dbname) const {
  return absl::StrCat("host=127.0.0.1 port=", port_, " dbname=", dbname, " user=postgres");
}

absl::Status PgServer::CreateDatabase(const std::string& name) {
  if (!ValidDatabaseName(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("database name '", name, "' must match [a-z_][a-z0-9_]{0,62}"));
  }
  auto out = Psql("postgres", absl::StrCat("CREATE DATABASE ", name));
  return out.ok() ? absl::OkStatus() : out.status();
}

absl::StatusOr<std::string> PgServer::Psql(const std::string& dbname, const std::string& sql) {
  Subprocess::Options opts;
  opts.argv = {Bin("psql"),
               "-X",
               "-q",
               "-A",
               "-t",
               "-v",
               "ON_ERROR_STOP=1",
               "-h",
               "127.0.0.1",
               "-p",
               absl::StrCat(port_),
               "-U",
               "postgres",
               "-d",
               dbname,
               "-c",
               sql};
  auto out = RunCommand(opts, options_.timeout);
  if (!out.ok()) return out.status();
  return std::string(absl::StripTrailingAsciiWhitespace(*out));
}

absl::StatusOr<std::string> PgServer::RunAsServerUser(std::vector<std::string> argv) {
  Subprocess::Options opts;
  opts.argv = std::move(argv);
  opts.run_as_user = run_as_user_;
  // The server user may not be able to read the test's working directory.
  opts.working_dir = dir_.path();
  return RunCommand(opts, options_.timeout + absl::Seconds(5));
}

std::string PgServer::LogTail() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string log = ss.str();
  if (log.size() > kLogTailBytes) log = log.substr(log.size() - kLogTailBytes);
  return log;
}

}  // namespace shieldx::testing
