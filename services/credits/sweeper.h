// Sweeper: the credits service's background work, one thread per replica.
//   * every sweep_interval: Ledger::ExpireDueHolds (replica-safe: accounts are locked with
//     SKIP LOCKED, so two replicas never expire the same hold twice nor wait on each other);
//   * every balance_refresh_interval: Ledger::RefreshBalances (the balance gauge follows
//     changes made by other replicas);
//   * every retention_interval: deletes idempotency records older than the retention.
// Work only starts once `ready()` is true (migrations applied). Failures are logged (once per
// failure, here where they are handled) and retried on the next tick.
//
// Thread-safety: Start() and Stop() from the owning thread.
#ifndef SHIELDX_SERVICES_CREDITS_SWEEPER_H_
#define SHIELDX_SERVICES_CREDITS_SWEEPER_H_

#include <atomic>
#include <functional>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "libs/base/clock.h"
#include "services/credits/ledger.h"

namespace shieldx::credits {

// Accounts handled per expiry sweep and idempotency records deleted per pass.
inline constexpr int kSweepMaxAccounts = 100;
inline constexpr int kRetentionDeleteBatch = 10'000;

struct SweeperOptions {
  absl::Duration sweep_interval = absl::Seconds(1);
  absl::Duration balance_refresh_interval = absl::Seconds(15);
  int balance_gauge_max_tenants = 10'000;
  absl::Duration idempotency_retention = absl::Hours(24 * 30);
  absl::Duration retention_interval = absl::Minutes(10);
};

class Sweeper {
 public:
  // `ledger`, `store` and `clock` must outlive the sweeper.
  Sweeper(Ledger* ledger, LedgerStore* store, Clock* clock, SweeperOptions options,
          std::function<bool()> ready);
  ~Sweeper();  // Stop()
  Sweeper(const Sweeper&) = delete;
  Sweeper& operator=(const Sweeper&) = delete;

  void Start();
  // Stops and joins; idempotent. The current pass finishes first.
  void Stop();

  // One pass of everything that is due (tests call it directly).
  void RunOnce();

 private:
  void Loop();

  Ledger* ledger_;
  LedgerStore* store_;
  Clock* clock_;
  const SweeperOptions options_;
  std::function<bool()> ready_;
  absl::Notification stop_;
  std::thread thread_;
  int64_t next_refresh_nanos_ = 0;
  int64_t next_retention_nanos_ = 0;
};

}  // namespace shieldx::credits

#endif  // SHIELDX_SERVICES_CREDITS_SWEEPER_H_
