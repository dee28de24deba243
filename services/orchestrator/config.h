// Configuration of shieldx-orchestrator: the shared fields (libs/service/common_config.h) for the
// stores it owns (PostgreSQL: configuration and decision log; Redis: rate limits, config-change
// channel, decision stream, contauth risk; S3: evidence) and the peers it calls, plus its own.
// `shieldx-orchestrator --help` lists every field with its env name
// (SHIELDX_ORCHESTRATOR_<NAME>).
#ifndef SHIELDX_SERVICES_ORCHESTRATOR_CONFIG_H_
#define SHIELDX_SERVICES_ORCHESTRATOR_CONFIG_H_

#include <string>

#include "absl/time/time.h"
#include "libs/config/config.h"
#include "libs/service/common_config.h"
#ifdef SHIELDX_HAVE_FRONTENDS
#include "services/orchestrator/frontends/frontends.h"
#endif

namespace shieldx::orchestrator {

struct Config {
  service::CommonConfig common;
  // This replica's name in idempotency keys, request ids and GetConfigVersion ("" : the
  // HOSTNAME (pod name) plus a random suffix, so a restarted pod never reuses keys).
  std::string replica_id;
  // Polling fallback of configuration distribution (changes are also pushed over Redis).
  absl::Duration config_poll_interval = absl::Seconds(2);
  // Redis channel announcing configuration versions.
  std::string config_channel = "shieldx:config:changed";
  // Answer for requests whose host belongs to no site (421 Misdirected Request).
  int unknown_host_status = 421;
  // Before the first snapshot is loaded: false blocks with 503, true allows.
  bool fail_open_without_config = false;
  // Status of a challenge answer.
  int challenge_status = 401;
  // Share of ALLOW decisions recorded in the decision log (others are always recorded).
  double allow_event_sample_rate = 1.0;
  // Decision events waiting for the publisher (a full queue drops and counts).
  int event_queue_capacity = 65536;
  // Redis stream of decision events, capped (approximate MAXLEN).
  std::string decision_stream = "shieldx:decisions";
  int decision_stream_max_len = 200000;
  // Bucket of evidence samples ("" : the service bucket `s3_bucket`, which the runtime
  // creates; objects are under evidence/).
  std::string evidence_bucket;
  // Credits usage flush period (usage is sent to credits_target with ConsumeBatch).
  absl::Duration usage_flush_interval = absl::Seconds(5);
  // How long a replica decides rate limits locally after Redis failed before trying it again.
  absl::Duration rate_limit_redis_retry = absl::Seconds(1);
  // How long a contauth session risk read from Redis is reused.
  absl::Duration risk_cache_ttl = absl::Seconds(1);
  // Active health checks of pool members.
  bool health_checks = true;
#ifdef SHIELDX_HAVE_FRONTENDS
  // The proxy front ends (services/orchestrator/frontends/README.md).
  frontends::FrontEndsConfig frontends;
#endif
};

inline constexpr service::StoreNeeds kStoreNeeds = {.postgres = true, .redis = true, .s3 = true};

inline config::ConfigSchema<Config> Schema() {
  config::ConfigSchema<Config> s("orchestrator");
  service::RegisterCommon(s, &Config::common, kStoreNeeds, {"credits", "contauth", "shadow"});
  s.Add("replica_id", &Config::replica_id,
        "replica name for idempotency keys and request ids (default: HOSTNAME + random)");
  s.Add("config_poll_interval", &Config::config_poll_interval,
        "polling period of configuration changes (fallback of the Redis channel)")
      .Range(absl::Milliseconds(100), absl::Minutes(5));
  s.Add("config_channel", &Config::config_channel, "Redis pub/sub channel of config versions");
  s.Add("unknown_host_status", &Config::unknown_host_status, "HTTP status for hosts no site serves")
      .Range(400, 599);
  s.Add("fail_open_without_config", &Config::fail_open_without_config,
        "allow requests before the first configuration snapshot is loaded");
  s.Add("challenge_status", &Config::challenge_status, "HTTP status of a challenge")
      .Range(400, 599);
  s.Add("allow_event_sample_rate", &Config::allow_event_sample_rate,
        "share of ALLOW decisions written to the decision log")
      .Range(0.0, 1.0);
  s.Add("event_queue_capacity", &Config::event_queue_capacity,
        "decision events buffered in memory before dropping")
      .Range(1024, 1 << 22);
  s.Add("decision_stream", &Config::decision_stream, "Redis stream of decision events");
  s.Add("decision_stream_max_len", &Config::decision_stream_max_len,
        "approximate cap of the decision stream")
      .Range(1000, 100'000'000);
  s.Add("evidence_bucket", &Config::evidence_bucket,
        "S3 bucket for redacted evidence of blocked requests (empty: s3_bucket)");
  s.Add("usage_flush_interval", &Config::usage_flush_interval,
        "period of credits usage flushes (ConsumeBatch)")
      .Range(absl::Milliseconds(100), absl::Minutes(10));
  s.Add("rate_limit_redis_retry", &Config::rate_limit_redis_retry,
        "local rate limiting lasts this long after a Redis failure before Redis is tried again")
      .Range(absl::Milliseconds(10), absl::Minutes(1));
  s.Add("risk_cache_ttl", &Config::risk_cache_ttl, "reuse of a contauth risk read from Redis")
      .Range(absl::ZeroDuration(), absl::Minutes(1));
  s.Add("health_checks", &Config::health_checks, "run active health checks of pool members");
#ifdef SHIELDX_HAVE_FRONTENDS
  using FE = frontends::FrontEndsConfig;
  s.Add("spoe_listen", &Config::frontends, &FE::spoe_listen,
        "HAProxy SPOE agent address host:port (empty: off)");
  s.Add("spoe_workers", &Config::frontends, &FE::spoe_workers, "SPOE agent threads").Range(1, 64);
  s.Add("spoe_max_frame_size", &Config::frontends, &FE::spoe_max_frame_size,
        "largest SPOP frame accepted")
      .Range(256u, 16u * 1024 * 1024);
  s.Add("spoe_message", &Config::frontends, &FE::spoe_message,
        "the spoe-message that carries requests");
  s.Add("authz_http_listen", &Config::frontends, &FE::authz_http_listen,
        "forward-auth HTTP address host:port for nginx/Traefik (empty: off)");
  s.Add("authz_http_workers", &Config::frontends, &FE::authz_http_workers,
        "forward-auth server threads")
      .Range(1, 256);
  s.Add("authz_http_path", &Config::frontends, &FE::authz_http_path, "forward-auth endpoint path");
  s.Add("ext_authz_listen", &Config::frontends, &FE::ext_authz_listen,
        "dedicated Envoy ext_authz gRPC address (empty: only on the main gRPC server)");
  s.Add("max_tarpit_ms", &Config::frontends, &FE::max_tarpit_ms, "longest tarpit honoured")
      .Range(0, 60'000);
  s.Add("max_concurrent_tarpits", &Config::frontends, &FE::max_concurrent_tarpits,
        "forward-auth / ext_authz requests held in a tarpit at once")
      .Range(0, 10'000);
#endif
  return s;
}

}  // namespace shieldx::orchestrator

#endif  // SHIELDX_SERVICES_ORCHESTRATOR_CONFIG_H_
