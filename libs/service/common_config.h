// The configuration every ShieldX service shares: listen addresses, stores, TLS, drain.
// A service embeds CommonConfig in its own Config struct and registers it with
// RegisterCommon(); only the stores and peers the service declares become config fields, so
// an operator setting a variable the service does not use gets a start-up error.
#ifndef SHIELDX_LIBS_SERVICE_COMMON_CONFIG_H_
#define SHIELDX_LIBS_SERVICE_COMMON_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/time/time.h"
#include "libs/config/config.h"

namespace shieldx::service {

// Which stores a service owns; readiness depends on exactly these.
struct StoreNeeds {
  bool postgres = false;
  bool redis = false;
  bool s3 = false;
};

struct CommonConfig {
  std::string environment = "production";  // development | production
  std::string log_level = "info";
  std::string grpc_listen = "0.0.0.0:9090";
  std::string admin_listen = "0.0.0.0:9091";
  // gRPC TLS (mTLS when a CA is given). Empty: plaintext (development only).
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_ca_file;
  absl::Duration drain_deadline = absl::Seconds(20);
  // Readiness turns off this long before the servers stop accepting (>= probe period).
  absl::Duration unready_delay = absl::Seconds(0);

  // PostgreSQL (secret: the DSN may hold a password).
  std::string pg_dsn;
  int pg_max_connections = 8;
  absl::Duration pg_statement_timeout = absl::Seconds(5);
  bool migrate_on_start = true;

  // Redis "host:port" and optional password.
  std::string redis_addr = "127.0.0.1:6379";
  std::string redis_password;

  // S3 / MinIO.
  std::string s3_endpoint;
  std::string s3_region = "us-east-1";
  std::string s3_bucket = "shieldx";
  std::string s3_access_key;
  std::string s3_secret_key;

  // gRPC targets of peer services ("host:port"); only the declared peers are fields.
  std::string orchestrator_target;
  std::string credits_target;
  std::string contauth_target;
  std::string shadow_target;
  std::string twin_target;
  std::string webapi_target;
};

// Splits "host:port"; InvalidArgument naming `field` otherwise.
absl::Status ParseHostPort(const std::string& field, const std::string& value, std::string* host,
                           int* port);

// Registers the common fields into `schema` (member `common` of the service's Config), for
// the stores in `needs` and the peer names in `peers` ("credits", "contauth", ...).
template <typename Config>
void RegisterCommon(config::ConfigSchema<Config>& s, CommonConfig Config::*common, StoreNeeds needs,
                    const std::vector<std::string>& peers) {
  s.Add("environment", common, &CommonConfig::environment,
        "development enables gRPC reflection; production disables it")
      .OneOf({"development", "production"});
  s.Add("log_level", common, &CommonConfig::log_level, "minimum log level")
      .OneOf({"debug", "info", "warn", "error"});
  s.Add("grpc_listen", common, &CommonConfig::grpc_listen, "gRPC listen address host:port");
  s.Add("admin_listen", common, &CommonConfig::admin_listen,
        "admin HTTP address (/healthz, /readyz, /metrics)");
  s.Add("tls_cert_file", common, &CommonConfig::tls_cert_file, "gRPC server certificate (PEM)");
  s.Add("tls_key_file", common, &CommonConfig::tls_key_file, "gRPC server private key (PEM)");
  s.Add("tls_ca_file", common, &CommonConfig::tls_ca_file,
        "CA bundle; when set, clients must present a certificate it signed (mTLS)");
  s.Add("drain_deadline", common, &CommonConfig::drain_deadline,
        "how long in-flight requests may finish after SIGTERM")
      .Range(absl::ZeroDuration(), absl::Minutes(5));
  s.Add("unready_delay", common, &CommonConfig::unready_delay,
        "pause between readiness off and refusing new work during a drain")
      .Range(absl::ZeroDuration(), absl::Minutes(1));
  if (needs.postgres) {
    s.Add("pg_dsn", common, &CommonConfig::pg_dsn, "PostgreSQL conninfo or URI")
        .Secret()
        .Required();
    s.Add("pg_max_connections", common, &CommonConfig::pg_max_connections, "PostgreSQL pool size")
        .Range(1, 256);
    s.Add("pg_statement_timeout", common, &CommonConfig::pg_statement_timeout,
          "statement_timeout of every pooled connection")
        .Range(absl::Milliseconds(10), absl::Minutes(10));
    s.Add("migrate_on_start", common, &CommonConfig::migrate_on_start,
          "apply pending migrations at start-up (the migrate subcommand does it alone)");
  }
  if (needs.redis) {
    s.Add("redis_addr", common, &CommonConfig::redis_addr, "Redis host:port");
    s.Add("redis_password", common, &CommonConfig::redis_password, "Redis AUTH password").Secret();
  }
  if (needs.s3) {
    s.Add("s3_endpoint", common, &CommonConfig::s3_endpoint, "S3 endpoint URL (scheme://host:port)")
        .Required();
    s.Add("s3_region", common, &CommonConfig::s3_region, "S3 region used for signing");
    s.Add("s3_bucket", common, &CommonConfig::s3_bucket, "bucket for this service's objects");
    s.Add("s3_access_key", common, &CommonConfig::s3_access_key, "S3 access key id");
    s.Add("s3_secret_key", common, &CommonConfig::s3_secret_key, "S3 secret access key").Secret();
  }
  for (const std::string& peer : peers) {
    std::string CommonConfig::*member = nullptr;
    if (peer == "orchestrator") member = &CommonConfig::orchestrator_target;
    if (peer == "credits") member = &CommonConfig::credits_target;
    if (peer == "contauth") member = &CommonConfig::contauth_target;
    if (peer == "shadow") member = &CommonConfig::shadow_target;
    if (peer == "twin") member = &CommonConfig::twin_target;
    if (peer == "webapi") member = &CommonConfig::webapi_target;
    SHIELDX_CHECK_MSG(member != nullptr, "RegisterCommon: unknown peer service");
    s.Add(peer + "_target", common, member, "gRPC address host:port of the " + peer + " service");
  }
  s.Check([common](const Config& c) -> absl::Status {
    const CommonConfig& cc = c.*common;
    std::string host;
    int port = 0;
    if (absl::Status st = ParseHostPort("grpc_listen", cc.grpc_listen, &host, &port); !st.ok()) {
      return st;
    }
    if (absl::Status st = ParseHostPort("admin_listen", cc.admin_listen, &host, &port); !st.ok()) {
      return st;
    }
    if (cc.tls_cert_file.empty() != cc.tls_key_file.empty()) {
      return absl::InvalidArgumentError("tls_cert_file and tls_key_file must be set together");
    }
    if (!cc.tls_ca_file.empty() && cc.tls_cert_file.empty()) {
      return absl::InvalidArgumentError(
          "tls_ca_file (mTLS) requires tls_cert_file and tls_key_file");
    }
    return absl::OkStatus();
  });
}

}  // namespace shieldx::service

#endif  // SHIELDX_LIBS_SERVICE_COMMON_CONFIG_H_
