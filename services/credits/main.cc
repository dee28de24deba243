// shieldx-credits: wiring only. `shieldx-credits migrate` applies migrations and exits.
#include <memory>

#include "absl/synchronization/mutex.h"
#include "libs/base/clock.h"
#include "libs/base/status_macros.h"
#include "libs/rpc/server.h"
#include "libs/service/runtime.h"
#include "services/credits/config.h"
#include "services/credits/credits_metrics.h"
#include "services/credits/credits_service.h"
#include "services/credits/ledger.h"
#include "services/credits/postgres_ledger_store.h"
#include "services/credits/redis_alert_sink.h"
#include "services/credits/sweeper.h"

const std::vector<shieldx::EmbeddedFile>& credits_migrations();

namespace shieldx::credits {
namespace {

// Everything the service builds; lives until the process exits (the runtime drains the
// servers before main returns, and the sweeper is stopped on drain).
struct Wiring {
  std::unique_ptr<AuditSigner> signer;
  PaymentProviders payments = PaymentProviders::Default();
  RandomIdGenerator ids;
  std::unique_ptr<PostgresLedgerStore> store;
  std::unique_ptr<RedisAlertSink> alerts;
  std::unique_ptr<CreditsMetrics> metrics;
  std::unique_ptr<Ledger> ledger;
  std::unique_ptr<CreditsServiceImpl> service;
  std::unique_ptr<Sweeper> sweeper;
};

absl::Status Wire(const Config& c, service::ServiceRuntime& rt, Wiring& w) {
  SHIELDX_ASSIGN_OR_RETURN(AuditSigner signer, AuditSigner::Create(c.audit_hmac_key));
  w.signer = std::make_unique<AuditSigner>(std::move(signer));
  w.store = std::make_unique<PostgresLedgerStore>(rt.pg());
  w.alerts = std::make_unique<RedisAlertSink>(rt.redis());
  w.metrics = std::make_unique<CreditsMetrics>(rt.metrics().registry(), c.balance_gauge_max_tenants,
                                               w.alerts.get());
  w.ledger = std::make_unique<Ledger>(w.store.get(), w.signer.get(), &w.payments, Clock::Real(),
                                      &w.ids, w.metrics.get(), c.group_commit());
  w.service = std::make_unique<CreditsServiceImpl>(w.ledger.get());
  rt.grpc().RegisterService(w.service.get(), "shieldx.credits.v1.CreditsService");
  SweeperOptions so;
  so.sweep_interval = c.sweep_interval;
  so.balance_refresh_interval = c.balance_refresh_interval;
  so.balance_gauge_max_tenants = c.balance_gauge_max_tenants;
  so.idempotency_retention = c.idempotency_retention;
  w.sweeper = std::make_unique<Sweeper>(w.ledger.get(), w.store.get(), Clock::Real(), so,
                                        [&rt] { return rt.migrated(); });
  w.sweeper->Start();
  rt.OnDrain([&w] { w.sweeper->Stop(); });
  return absl::OkStatus();
}

}  // namespace
}  // namespace shieldx::credits

int main(int argc, char** argv) {
  using namespace shieldx;           // NOLINT
  using namespace shieldx::credits;  // NOLINT
  // Debian's abseil checks every Mutex acquisition for lock-order cycles (a debug aid that
  // costs a graph update per lock on the hot path); as in the orchestrator, off in production.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  static Wiring* wiring = new Wiring();
  return service::Main<Config>(
      Schema(), argc, argv, &Config::common,
      {.name = "credits", .needs = kStoreNeeds, .migrations = &credits_migrations()},
      [](const Config& c, service::ServiceRuntime& rt) { return Wire(c, rt, *wiring); });
}
