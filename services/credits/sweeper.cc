#include "services/credits/sweeper.h"

#include "libs/log/log.h"

namespace shieldx::credits {

Sweeper::Sweeper(Ledger* ledger, LedgerStore* store, Clock* clock, SweeperOptions options,
                 std::function<bool()> ready)
    : ledger_(ledger), store_(store), clock_(clock), options_(options), ready_(std::move(ready)) {}

Sweeper::~Sweeper() { Stop(); }

void Sweeper::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
}

void Sweeper::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

void Sweeper::Loop() {
  while (!stop_.WaitForNotificationWithTimeout(options_.sweep_interval)) {
    if (ready_ && !ready_()) continue;
    RunOnce();
  }
}

void Sweeper::RunOnce() {
  absl::StatusOr<int64_t> expired = ledger_->ExpireDueHolds(kSweepMaxAccounts);
  if (!expired.ok()) {
    log::Warn("expiring reservations failed; retrying next sweep",
              {{"error", expired.status().ToString()}});
  } else if (*expired > 0) {
    log::Info("reservations expired", {{"holds", *expired}});
  }
  const int64_t now = clock_->MonotonicNanos();
  if (now >= next_refresh_nanos_) {
    next_refresh_nanos_ = now + absl::ToInt64Nanoseconds(options_.balance_refresh_interval);
    if (absl::Status s = ledger_->RefreshBalances(options_.balance_gauge_max_tenants); !s.ok()) {
      log::Warn("refreshing balance gauges failed", {{"error", s.ToString()}});
    }
  }
  if (now >= next_retention_nanos_) {
    next_retention_nanos_ = now + absl::ToInt64Nanoseconds(options_.retention_interval);
    absl::StatusOr<int64_t> deleted = store_->DeleteIdempotencyKeysBefore(
        clock_->Now() - options_.idempotency_retention, kRetentionDeleteBatch);
    if (!deleted.ok()) {
      log::Warn("deleting expired idempotency keys failed",
                {{"error", deleted.status().ToString()}});
    } else if (*deleted > 0) {
      log::Info("expired idempotency keys deleted", {{"keys", *deleted}});
    }
  }
}

}  // namespace shieldx::credits
