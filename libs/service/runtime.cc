#include "libs/service/runtime.h"

#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/base/check.h"
#include "libs/base/status_macros.h"
#include "libs/log/log.h"
#include "libs/objstore/s3_client.h"
#include "libs/pg/migrator.h"
#include "libs/pg/pool.h"
#include "libs/redis/redis_pool.h"
#include "libs/rpc/server.h"
#include "libs/rpc/shutdown.h"

namespace shieldx::service {
namespace {

// Between migration attempts while PostgreSQL is unreachable at start-up.
constexpr absl::Duration kMigrationRetryMin = absl::Milliseconds(200);
constexpr absl::Duration kMigrationRetryMax = absl::Seconds(5);

absl::StatusOr<std::vector<pg::MigrationFile>> ToMigrationFiles(
    const std::vector<EmbeddedFile>& embedded) {
  std::vector<pg::MigrationFile> files;
  files.reserve(embedded.size());
  for (const EmbeddedFile& e : embedded) {
    pg::MigrationFile f;
    auto parsed = pg::ParseMigrationFileName(std::string(e.name));
    if (!parsed.ok()) return parsed.status();
    f.version = parsed->first;
    f.name = parsed->second;
    f.filename = std::string(e.name);
    f.sql = std::string(e.content);
    f.checksum = pg::Sha256Hex(absl::string_view(e.content.data(), e.content.size()));
    files.push_back(std::move(f));
  }
  return files;
}

}  // namespace

absl::Status ParseHostPort(const std::string& field, const std::string& value, std::string* host,
                           int* port) {
  const size_t colon = value.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == value.size()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": \"", value, "\" is not host:port"));
  }
  int p = 0;
  if (!absl::SimpleAtoi(value.substr(colon + 1), &p) || p < 0 || p > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": port in \"", value, "\" is not in [0, 65535]"));
  }
  std::string h = value.substr(0, colon);
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  *host = h;
  *port = p;
  return absl::OkStatus();
}

ServiceRuntime::ServiceRuntime(ServiceSpec spec, CommonConfig config)
    : spec_(std::move(spec)), config_(std::move(config)) {}

absl::StatusOr<std::unique_ptr<ServiceRuntime>> ServiceRuntime::Create(const ServiceSpec& spec,
                                                                       const CommonConfig& config) {
  std::unique_ptr<ServiceRuntime> rt(new ServiceRuntime(spec, config));
  rt->metrics_ = std::make_unique<metrics::MetricsRegistry>(spec.name, spec.version);
  if (spec.needs.postgres) {
    pg::PgPoolOptions o;
    o.conninfo = config.pg_dsn;
    o.max_connections = config.pg_max_connections;
    o.statement_timeout_ms =
        static_cast<int>(absl::ToInt64Milliseconds(config.pg_statement_timeout));
    o.application_name = "shieldx-" + spec.name;
    o.acquire_timeout = absl::Seconds(2);
    o.connect_timeout_s = 2;
    SHIELDX_ASSIGN_OR_RETURN(rt->pg_, pg::PgPool::Create(o));
  }
  if (spec.needs.redis) {
    redis::RedisOptions o;
    SHIELDX_RETURN_IF_ERROR(ParseHostPort("redis_addr", config.redis_addr, &o.host, &o.port));
    o.password = config.redis_password;
    SHIELDX_ASSIGN_OR_RETURN(rt->redis_, redis::RedisPool::Create(o));
  }
  if (spec.needs.s3) {
    objstore::S3Config o;
    o.endpoint = config.s3_endpoint;
    o.region = config.s3_region;
    o.access_key = config.s3_access_key;
    o.secret_key = config.s3_secret_key;
    SHIELDX_ASSIGN_OR_RETURN(rt->s3_, objstore::S3Client::Create(o));
  }
  rpc::ServerOptions so;
  so.listen_address = config.grpc_listen;
  so.reflection = config.environment == "development";
  so.drain_deadline = config.drain_deadline;
  so.tls.cert_file = config.tls_cert_file;
  so.tls.key_file = config.tls_key_file;
  so.tls.ca_file = config.tls_ca_file;
  rt->grpc_ = std::make_unique<rpc::GrpcServer>(so, rt->metrics_.get());
  return rt;
}

ServiceRuntime::~ServiceRuntime() { Shutdown(); }

void ServiceRuntime::AddReadinessProbe(http::ReadinessProbe probe) {
  SHIELDX_CHECK(!started_);
  extra_probes_.push_back(std::move(probe));
}

absl::Status ServiceRuntime::MigrateOnce() {
  if (pg_ == nullptr || spec_.migrations == nullptr) {
    migrated_.store(true);
    return absl::OkStatus();
  }
  absl::MutexLock lock(&migrate_mu_);
  if (migrated_.load()) return absl::OkStatus();
  SHIELDX_ASSIGN_OR_RETURN(std::vector<pg::MigrationFile> files,
                           ToMigrationFiles(*spec_.migrations));
  pg::MigratorOptions o;
  o.conninfo = config_.pg_dsn;
  o.lock_name = "shieldx-" + spec_.name;
  o.connect_timeout_s = 2;
  absl::StatusOr<pg::MigrationReport> report = pg::Migrator(o).Run(files);
  if (!report.ok()) {
    last_migration_error_ = std::string(report.status().message());
    return report.status();
  }
  for (const pg::MigrationRef& m : report->applied) {
    log::Info("migration applied", {{"version", m.version}, {"file", m.filename}});
  }
  migrated_.store(true);
  return absl::OkStatus();
}

void ServiceRuntime::MigrationLoop() {
  absl::Duration backoff = kMigrationRetryMin;
  while (!stopping_.load()) {
    absl::Status s = MigrateOnce();
    if (s.ok()) return;
    log::Warn(
        "migrations not applied yet; retrying",
        {{"error", std::string(s.message())}, {"retry_ms", absl::ToInt64Milliseconds(backoff)}});
    for (absl::Duration slept; slept < backoff && !stopping_.load();
         slept += absl::Milliseconds(50)) {
      absl::SleepFor(absl::Milliseconds(50));
    }
    backoff = std::min(backoff * 2, kMigrationRetryMax);
  }
}

absl::Status ServiceRuntime::Start() {
  SHIELDX_CHECK(!started_);
  started_ = true;
  std::vector<http::ReadinessProbe> probes;
  if (pg_ != nullptr) {
    probes.push_back(
        {"postgres", [this] { return pg_->Ping(absl::Seconds(1)); }, !spec_.advisory.postgres});
    if (spec_.migrations != nullptr && !spec_.migrations->empty()) {
      probes.push_back({"migrations", [this]() -> absl::Status {
                          if (migrated_.load()) return absl::OkStatus();
                          absl::MutexLock lock(&migrate_mu_);
                          return absl::UnavailableError(
                              absl::StrCat("migrations pending: ", last_migration_error_));
                        }});
    }
  }
  if (redis_ != nullptr) {
    probes.push_back({"redis", [this] { return redis_->Ping(); }, !spec_.advisory.redis});
  }
  if (s3_ != nullptr) {
    probes.push_back(
        {"s3", [this] { return s3_->EnsureBucket(config_.s3_bucket); }, !spec_.advisory.s3});
  }
  for (auto& p : extra_probes_) probes.push_back(std::move(p));

  if (pg_ != nullptr && config_.migrate_on_start) {
    migration_thread_ = std::thread([this] { MigrationLoop(); });
  } else {
    migrated_.store(pg_ == nullptr || spec_.migrations == nullptr || spec_.migrations->empty());
  }

  SHIELDX_RETURN_IF_ERROR_CTX(grpc_->Start().status(), "gRPC server");
  http::AdminServerOptions ao;
  SHIELDX_RETURN_IF_ERROR(
      ParseHostPort("admin_listen", config_.admin_listen, &ao.http.host, &ao.http.port));
  admin_ = std::make_unique<http::AdminServer>(ao, metrics_.get(), std::move(probes));
  SHIELDX_RETURN_IF_ERROR_CTX(admin_->Start(), "admin server");
  log::Info("serving", {{"grpc_port", grpc_->port()}, {"admin_port", admin_->port()}});
  return absl::OkStatus();
}

int ServiceRuntime::grpc_port() const { return grpc_->port(); }
int ServiceRuntime::admin_port() const { return admin_ ? admin_->port() : 0; }

int ServiceRuntime::ServeUntilSignal() {
  rpc::DrainPlan plan;
  plan.grpc_servers.push_back(grpc_.get());
  plan.admin = admin_.get();
  plan.unready_delay = config_.unready_delay;
  plan.drain_deadline = config_.drain_deadline;
  plan.before_stop = [this] {
    stopping_.store(true);
    for (auto& fn : before_stop_) fn();
  };
  const int signal = rpc::ServeUntilShutdownSignal(plan);
  log::Info("drained", {{"signal", signal}});
  Shutdown();
  return 0;
}

void ServiceRuntime::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  stopping_.store(true);
  if (migration_thread_.joinable()) migration_thread_.join();
  if (started_) {
    if (admin_) admin_->BeginDrain();
    grpc_->Shutdown(config_.drain_deadline);
    if (admin_) admin_->Shutdown(absl::Seconds(1));
  }
}

namespace internal {

int RunService(const ServiceSpec& spec, const CommonConfig& common,
               const std::string& effective_json, bool migrate_only,
               const std::function<absl::Status(ServiceRuntime&)>& wire) {
  log::Level level = log::Level::kInfo;
  log::ParseLevel(common.log_level, &level);
  log::Init(spec.name, level);
  log::Info("effective config", {{"config", log::RawJson{effective_json}}});
  auto fail = [&](std::string_view what, const absl::Status& s) {
    log::Error(what, {{"error", s.ToString()}});
    log::Flush();
    std::fprintf(stderr, "shieldx-%s: %.*s: %s\n", spec.name.c_str(), static_cast<int>(what.size()),
                 what.data(), s.ToString().c_str());
    return 1;
  };
  if (absl::Status s = rpc::InstallShutdownSignalHandlers(); !s.ok()) {
    return fail("signal handlers", s);
  }
  absl::StatusOr<std::unique_ptr<ServiceRuntime>> rt = ServiceRuntime::Create(spec, common);
  if (!rt.ok()) return fail("start-up", rt.status());
  if (migrate_only) {
    absl::Status s = (*rt)->MigrateOnce();
    if (!s.ok()) return fail("migrate", s);
    log::Info("migrations up to date");
    log::Flush();
    return 0;
  }
  if (absl::Status s = wire(**rt); !s.ok()) return fail("wiring", s);
  if (absl::Status s = (*rt)->Start(); !s.ok()) return fail("start-up", s);
  const int code = (*rt)->ServeUntilSignal();
  log::Info("stopped", {{"exit_code", code}});
  log::Flush();
  return code;
}

}  // namespace internal
}  // namespace shieldx::service
