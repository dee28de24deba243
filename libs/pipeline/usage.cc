#include "libs/pipeline/usage.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/log/log.h"

namespace shieldx::pipeline {

UsageMeter::UsageMeter(CreditsSink* sink, Clock* clock, UsageMeterOptions options)
    : sink_(sink), clock_(clock != nullptr ? clock : Clock::Real()), options_(std::move(options)) {}

UsageMeter::~UsageMeter() { (void)Stop(absl::ZeroDuration()); }

std::shared_ptr<UsageCounter> UsageMeter::Counter(const std::string& tenant_id,
                                                  const std::string& route_id) {
  absl::MutexLock lock(&mu_);
  std::shared_ptr<UsageCounter>& c = tenants_[tenant_id].routes[route_id];
  if (c == nullptr) c = std::make_shared<UsageCounter>();
  return c;
}

std::shared_ptr<TenantCredits> UsageMeter::Tenant(const std::string& tenant_id) {
  absl::MutexLock lock(&mu_);
  return tenants_[tenant_id].credits;
}

void UsageMeter::CollectLocked() {
  const absl::Time now = clock_->Now();
  for (auto& [tenant_id, t] : tenants_) {
    if (t.pending) continue;
    UsageBatch batch;
    batch.tenant_id = tenant_id;
    batch.period_start = t.last_collect == absl::InfinitePast() ? now : t.last_collect;
    batch.period_end = now;
    for (auto it = t.routes.begin(); it != t.routes.end();) {
      const int64_t credits = it->second->credits.exchange(0, std::memory_order_relaxed);
      const int64_t requests = it->second->requests.exchange(0, std::memory_order_relaxed);
      if (credits > 0 && batch.records.size() < kMaxUsageRecordsPerBatch) {
        batch.records.push_back({it->first, requests, credits});
      } else if (credits > 0) {
        // Over the batch bound: give it back for the next batch.
        it->second->credits.fetch_add(credits, std::memory_order_relaxed);
        it->second->requests.fetch_add(requests, std::memory_order_relaxed);
      }
      // Forget counters of routes that no snapshot uses any more.
      if (it->second.use_count() == 1 && credits == 0) {
        it = t.routes.erase(it);
      } else {
        ++it;
      }
    }
    t.last_collect = now;
    if (batch.records.empty()) continue;
    batch.idempotency_key = absl::StrCat(options_.replica_id, ":", tenant_id, ":", ++sequence_);
    t.batch = std::move(batch);
    t.pending = true;
  }
}

absl::Status UsageMeter::FlushOnce() {
  absl::MutexLock flush_lock(&flush_mu_);
  std::vector<UsageBatch> work;
  std::vector<std::string> exhausted;
  {
    absl::MutexLock lock(&mu_);
    CollectLocked();
    for (auto& [tenant_id, t] : tenants_) {
      if (t.pending) {
        work.push_back(t.batch);
      } else if (t.credits->exhausted.load(std::memory_order_relaxed)) {
        exhausted.push_back(tenant_id);
      }
    }
  }
  if (sink_ == nullptr) {
    absl::MutexLock lock(&mu_);
    for (auto& [tenant_id, t] : tenants_) t.pending = false;
    return absl::OkStatus();
  }
  absl::Status first_error;
  for (UsageBatch& batch : work) {
    absl::StatusOr<ConsumeOutcome> r = sink_->ConsumeBatch(batch);
    absl::MutexLock lock(&mu_);
    TenantState& t = tenants_[batch.tenant_id];
    if (!r.ok()) {
      ++stats_.batches_failed;
      ++t.batch.attempts;
      if (first_error.ok()) {
        first_error =
            absl::Status(r.status().code(),
                         absl::StrCat("usage batch ", batch.idempotency_key, " (",
                                      batch.records.size(), " records): ", r.status().message()));
      }
      continue;
    }
    ++stats_.batches_sent;
    for (const UsageRecord& rec : batch.records) stats_.credits_flushed += rec.credits;
    t.pending = false;
    t.batch = UsageBatch();
    t.credits->exhausted.store(r->available_credits <= 0 || r->shortfall_credits > 0,
                               std::memory_order_relaxed);
  }
  for (const std::string& tenant_id : exhausted) {
    absl::StatusOr<int64_t> available = sink_->AvailableCredits(tenant_id);
    if (!available.ok()) continue;
    absl::MutexLock lock(&mu_);
    tenants_[tenant_id].credits->exhausted.store(*available <= 0, std::memory_order_relaxed);
  }
  return first_error;
}

void UsageMeter::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
}

void UsageMeter::Loop() {
  while (!stop_.WaitForNotificationWithTimeout(options_.flush_interval)) {
    absl::Status s = FlushOnce();
    if (!s.ok()) {
      log::Warn("credits usage flush failed; will retry with the same idempotency key",
                {{"error", std::string(s.message())}});
    }
  }
}

absl::Status UsageMeter::Stop(absl::Duration deadline) {
  if (!stopping_.exchange(true)) {
    stop_.Notify();
    if (thread_.joinable()) thread_.join();
  }
  const absl::Time end = absl::Now() + deadline;
  absl::Status s = FlushOnce();
  while (!s.ok() && absl::Now() < end) {
    absl::SleepFor(absl::Milliseconds(100));
    s = FlushOnce();
  }
  return s;
}

UsageMeterStats UsageMeter::stats() const {
  absl::MutexLock lock(&mu_);
  UsageMeterStats s = stats_;
  s.pending_batches = 0;
  for (const auto& [id, t] : tenants_) s.pending_batches += t.pending ? 1 : 0;
  return s;
}

}  // namespace shieldx::pipeline
