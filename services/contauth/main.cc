// shieldx-contauth: wiring only. `shieldx-contauth migrate` applies migrations and exits.
#include <memory>

#include "libs/base/clock.h"
#include "libs/base/status_macros.h"
#include "libs/log/log.h"
#include "libs/rpc/server.h"
#include "libs/service/runtime.h"
#include "services/contauth/config.h"
#include "services/contauth/contauth.h"
#include "services/contauth/contauth_metrics.h"
#include "services/contauth/contauth_service.h"
#include "services/contauth/geoip.h"
#include "services/contauth/postgres_contauth_store.h"
#include "services/contauth/profile_cipher.h"
#include "services/contauth/risk_publisher.h"
#include "services/contauth/sweeper.h"

const std::vector<shieldx::EmbeddedFile>& contauth_migrations();

namespace shieldx::contauth {
namespace {

// Everything the service builds; lives until the process exits (the runtime drains the
// servers before main returns; the sweeper and the background-rebuild worker stop on drain).
struct Wiring {
  std::unique_ptr<ProfileCipher> cipher;
  std::unique_ptr<MaxMindGeo> geo;
  std::unique_ptr<PostgresContAuthStore> store;
  std::unique_ptr<RedisRiskPublisher> publisher;
  std::unique_ptr<ContAuthMetrics> metrics;
  std::unique_ptr<ContAuth> contauth;
  std::unique_ptr<ContAuthServiceImpl> service;
  std::unique_ptr<Sweeper> sweeper;
};

absl::Status Wire(const Config& c, service::ServiceRuntime& rt, Wiring& w) {
  SHIELDX_ASSIGN_OR_RETURN(auto retired, ProfileCipher::ParseRetiredKeys(c.profile_retired_keys));
  SHIELDX_ASSIGN_OR_RETURN(ProfileCipher cipher,
                           ProfileCipher::Create(c.profile_key_id, c.profile_master_key, retired));
  w.cipher = std::make_unique<ProfileCipher>(std::move(cipher));
  if (!c.geoip_db_path.empty()) {
    SHIELDX_ASSIGN_OR_RETURN(w.geo, MaxMindGeo::Open(c.geoip_db_path));
    log::Info("contauth: geoip database loaded", {{"type", w.geo->database_type()}});
  } else {
    log::Info("contauth: no geoip_db_path; country and impossible-travel signals are off");
  }
  w.store = std::make_unique<PostgresContAuthStore>(rt.pg());
  w.publisher = std::make_unique<RedisRiskPublisher>(rt.redis());
  w.metrics = std::make_unique<ContAuthMetrics>(rt.metrics().registry());
  ContAuthOptions o;
  o.session_ttl = c.session_ttl;
  o.policy_cache_ttl = c.policy_cache_ttl;
  o.background_refresh = c.background_refresh;
  o.max_cached_users = static_cast<std::size_t>(c.max_cached_users);
  o.default_retention_days = static_cast<uint32_t>(c.default_retention_days);
  w.contauth = std::make_unique<ContAuth>(w.store.get(), w.publisher.get(), w.cipher.get(),
                                          w.geo.get(), Clock::Real(), w.metrics.get(), o);
  w.service = std::make_unique<ContAuthServiceImpl>(w.contauth.get());
  rt.grpc().RegisterService(w.service.get(), "shieldx.contauth.v1.ContAuthService");
  w.sweeper = std::make_unique<Sweeper>(w.contauth.get(), c.sweep_interval, o.sweep_batch,
                                        [&rt] { return rt.migrated(); });
  w.sweeper->Start();
  // The background-rebuild worker stops on drain too (a running rebuild finishes first), so
  // no rebuild reads the store while the runtime tears it down; calls still in flight keep
  // answering with the cached backgrounds.
  rt.OnDrain([&w] {
    w.sweeper->Stop();
    w.contauth->Stop();
  });
  return absl::OkStatus();
}

}  // namespace
}  // namespace shieldx::contauth

int main(int argc, char** argv) {
  using namespace shieldx;            // NOLINT
  using namespace shieldx::contauth;  // NOLINT
  static Wiring* wiring = new Wiring();
  return service::Main<Config>(
      Schema(), argc, argv, &Config::common,
      {.name = "contauth", .needs = kStoreNeeds, .migrations = &contauth_migrations()},
      [](const Config& c, service::ServiceRuntime& rt) { return Wire(c, rt, *wiring); });
}
