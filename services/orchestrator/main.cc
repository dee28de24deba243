// shieldx-orchestrator: wiring only. `shieldx-orchestrator migrate` applies migrations and exits.
//
// What runs: the decision pipeline (libs/pipeline) fed by the snapshot loader (PostgreSQL +
// Redis pub/sub + polling), the gRPC DecisionService and ConfigService, the proxy front ends
// (services/orchestrator/frontends: SPOE, forward-auth, ext_authz), active health checks, the
// credits usage flusher and the decision log (Redis stream → PostgreSQL, evidence → S3).
#include <unistd.h>

#include <memory>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "libs/base/clock.h"
#include "libs/base/status_macros.h"
#include "libs/log/log.h"
#include "libs/pipeline/health_checker.h"
#include "libs/pipeline/pipeline.h"
#include "libs/redis/redis_pool.h"
#include "libs/redis/subscriber.h"
#include "libs/rpc/client.h"
#include "libs/rpc/server.h"
#include "libs/service/runtime.h"
#include "services/orchestrator/config.h"
#include "services/orchestrator/config_manager.h"
#include "services/orchestrator/credits_client.h"
#include "services/orchestrator/decision_log.h"
#include "services/orchestrator/orchestrator_service.h"
#include "services/orchestrator/postgres_config_store.h"
#include "services/orchestrator/redis_announcer.h"
#include "services/orchestrator/snapshot_loader.h"
#ifdef SHIELDX_HAVE_FRONTENDS
#include "services/orchestrator/frontends/frontends.h"
#endif

const std::vector<shieldx::EmbeddedFile>& orchestrator_migrations();

namespace shieldx::orchestrator {
namespace {

// Everything the service builds; lives until the process exits (the runtime drains the
// servers before main returns; OnDrain stops the background work).
struct Wiring {
  std::string replica_id;
  std::unique_ptr<pipeline::PipelineMetrics> metrics;
  std::unique_ptr<pipeline::EventQueue> events;
  std::unique_ptr<pipeline::RedisRateLimiter> limiter;
  std::unique_ptr<pipeline::RedisRiskSource> risk;
  std::unique_ptr<CreditsGrpcSink> credits;
  std::unique_ptr<pipeline::UsageMeter> usage;
  std::unique_ptr<pipeline::Pipeline> pipeline;
  std::unique_ptr<PostgresConfigStore> store;
  std::unique_ptr<RedisAnnouncer> announcer;
  std::unique_ptr<ConfigManager> manager;
  pipeline::MemberStateRegistry members;
  std::unique_ptr<SnapshotLoader> loader;
  std::unique_ptr<redis::RedisSubscriber> subscriber;
  std::unique_ptr<pipeline::HealthChecker> health;
  std::unique_ptr<DecisionLog> log;
  std::unique_ptr<DecisionServiceImpl> decision_service;
  std::unique_ptr<ConfigServiceImpl> config_service;
#ifdef SHIELDX_HAVE_FRONTENDS
  std::unique_ptr<frontends::FrontEnds> frontends;
#endif
};

std::string ReplicaId(const std::string& configured) {
  if (!configured.empty()) return configured;
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0')
    std::snprintf(host, sizeof(host), "orchestrator");
  std::random_device rd;
  return absl::StrCat(host, "-", absl::Hex((uint64_t{rd()} << 32) | rd(), absl::kZeroPad8));
}

absl::Status Wire(const Config& c, service::ServiceRuntime& rt, Wiring& w) {
  w.replica_id = ReplicaId(c.replica_id);
  Clock* clock = Clock::Real();
  w.metrics = std::make_unique<pipeline::PipelineMetrics>(rt.metrics().registry());
  w.events =
      std::make_unique<pipeline::EventQueue>(static_cast<std::size_t>(c.event_queue_capacity));
  w.limiter = std::make_unique<pipeline::RedisRateLimiter>(
      rt.redis(), clock,
      pipeline::RedisRateLimiterOptions{.redis_retry = c.rate_limit_redis_retry});
  w.risk = std::make_unique<pipeline::RedisRiskSource>(rt.redis(), clock, c.risk_cache_ttl);
  if (!c.common.credits_target.empty()) {
    SHIELDX_ASSIGN_OR_RETURN(auto channel,
                             rpc::MakeChannel(c.common.credits_target, rpc::ClientOptions{}));
    w.credits = std::make_unique<CreditsGrpcSink>(std::move(channel));
  } else {
    log::Warn("credits_target is not set: usage is counted but not charged");
  }
  w.usage = std::make_unique<pipeline::UsageMeter>(
      w.credits.get(), clock,
      pipeline::UsageMeterOptions{.replica_id = w.replica_id,
                                  .flush_interval = c.usage_flush_interval});

  pipeline::PipelineOptions po;
  po.replica_id = w.replica_id;
  po.unknown_host_status = c.unknown_host_status;
  po.fail_open_without_config = c.fail_open_without_config;
  po.challenge_status = c.challenge_status;
  po.allow_event_sample_rate = c.allow_event_sample_rate;
  pipeline::PipelineDeps deps;
  deps.clock = clock;
  deps.rate_limiter = w.limiter.get();
  deps.risk = w.risk.get();
  deps.events = w.events.get();
  deps.metrics = w.metrics.get();
  SHIELDX_ASSIGN_OR_RETURN(w.pipeline, pipeline::Pipeline::Create(po, deps));

  w.store = std::make_unique<PostgresConfigStore>(rt.pg());
  w.announcer = std::make_unique<RedisAnnouncer>(rt.redis(), c.config_channel);
  w.manager = std::make_unique<ConfigManager>(w.store.get(), clock, w.announcer.get());
  w.loader = std::make_unique<SnapshotLoader>(
      w.store.get(), w.pipeline.get(), &w.members, w.usage.get(), w.metrics.get(), clock,
      SnapshotLoaderOptions{.poll_interval = c.config_poll_interval});

  redis::RedisOptions ro;
  SHIELDX_RETURN_IF_ERROR(
      service::ParseHostPort("redis_addr", c.common.redis_addr, &ro.host, &ro.port));
  ro.password = c.common.redis_password;
  SnapshotLoader* loader = w.loader.get();
  SHIELDX_ASSIGN_OR_RETURN(
      w.subscriber,
      redis::RedisSubscriber::Start(
          ro, redis::Subscriptions{.channels = {c.config_channel}},
          [loader](const redis::RedisMessage&) { loader->Notify(0); },
          redis::RedisSubscriber::Hooks{.on_subscribed = [loader](bool) { loader->Notify(0); }}));

  DecisionLogOptions lo;
  lo.stream = c.decision_stream;
  lo.stream_max_len = c.decision_stream_max_len;
  lo.consumer = w.replica_id;
  lo.evidence_bucket = c.evidence_bucket.empty() ? c.common.s3_bucket : c.evidence_bucket;
  pipeline::Pipeline* pipeline = w.pipeline.get();
  lo.retention = [pipeline] {
    std::map<std::string, int> out;
    if (auto snap = pipeline->snapshot()) {
      for (const auto& [id, t] : snap->tenants()) {
        out[id] = t->settings.decision_retention_days() == 0
                      ? static_cast<int>(kDefaultRetentionDays)
                      : static_cast<int>(t->settings.decision_retention_days());
      }
    }
    return out;
  };
  w.log = std::make_unique<DecisionLog>(w.events.get(), rt.redis(), rt.pg(), rt.s3(),
                                        w.metrics.get(), std::move(lo));

  w.decision_service = std::make_unique<DecisionServiceImpl>(w.pipeline.get(), w.log.get());
  w.config_service = std::make_unique<ConfigServiceImpl>(w.manager.get(), w.pipeline.get(),
                                                         w.loader.get(), w.replica_id);
  rt.grpc().RegisterService(w.decision_service.get(), "shieldx.orchestrator.v1.DecisionService");
  rt.grpc().RegisterService(w.config_service.get(), "shieldx.orchestrator.v1.ConfigService");

  // ---- front ends (services/orchestrator/frontends, built by the front-end engineer) ----
#ifdef SHIELDX_HAVE_FRONTENDS
  SHIELDX_ASSIGN_OR_RETURN(w.frontends,
                           frontends::StartFrontEnds(c.frontends, *w.pipeline, rt.metrics()));
  rt.grpc().RegisterService(w.frontends->ext_authz_service(), frontends::kExtAuthzServiceName);
#endif

  rt.AddReadinessProbe({"config", [loader]() -> absl::Status {
                          const LoaderState s = loader->state();
                          if (s.loaded) return absl::OkStatus();
                          return absl::UnavailableError(absl::StrCat(
                              "no configuration snapshot loaded yet",
                              s.store_reachable ? "" : absl::StrCat(": ", s.store_error)));
                        }});
  if (c.health_checks) {
    w.health = std::make_unique<pipeline::HealthChecker>(
        [pipeline] { return pipeline->snapshot(); }, clock, w.metrics.get());
    w.health->Start();
  }
  w.loader->Start();
  w.usage->Start();
  w.log->Start();
  log::Info("orchestrator wired", {{"replica_id", w.replica_id}});
  rt.OnDrain([&w, deadline = c.common.drain_deadline] {
#ifdef SHIELDX_HAVE_FRONTENDS
    w.frontends->Drain(deadline);
#endif
    w.decision_service->BeginDrain();
    if (w.health) w.health->Stop();
    w.loader->Stop();
    w.subscriber->Stop();
    absl::Status s = w.usage->Stop(absl::Seconds(5));
    if (!s.ok()) {
      log::Error("credits usage not flushed at drain", {{"error", std::string(s.message())}});
    }
    w.log->Stop();
  });
  return absl::OkStatus();
}

}  // namespace
}  // namespace shieldx::orchestrator

int main(int argc, char** argv) {
  using namespace shieldx;                // NOLINT
  using namespace shieldx::orchestrator;  // NOLINT
  // absl::Mutex deadlock detection (on in this absl build) costs a graph lookup per lock on
  // the gRPC and metrics paths; lock ordering is covered by the tests, not at run time.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  static Wiring* wiring = new Wiring();
  return service::Main<Config>(
      Schema(), argc, argv, &Config::common,
      {.name = "orchestrator",
       .needs = kStoreNeeds,
       .migrations = &orchestrator_migrations(),
       // Decisions need only the loaded snapshot (the "config" probe): a store outage makes
       // /readyz "degraded", not 503, so the proxies keep their decision service.
       .advisory = kStoreNeeds},
      [](const Config& c, service::ServiceRuntime& rt) { return Wire(c, rt, *wiring); });
}
