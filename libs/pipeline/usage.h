// UsageMeter: credits usage counted in memory on the hot path and flushed in batches to the
// credits service (CreditsSink, e.g. CreditsService.ConsumeBatch over gRPC).
//
// Hot path: one relaxed atomic add on the route's UsageCounter (no lock, no I/O).
//
// Flushing (FlushOnce, called by the meter's thread every `flush_interval` and at drain):
// for each tenant with no batch in flight, the counters are swapped to zero and become one
// batch with a fresh idempotency key "<replica_id>:<tenant>:<sequence>". The batch stays
// pending until the sink acknowledges it; a failed or timed-out call is retried later with the
// SAME key and the same records, so the credits service applies it exactly once however many
// times it is delivered (at-least-once delivery, exactly-once effect). While a tenant's batch
// is pending, new usage keeps accumulating in its counters and goes into the next batch, so
// memory stays bounded (one pending batch per tenant) during a credits outage.
//
// Out of credits: a flush answer with no available balance (or a shortfall) marks the tenant
// exhausted (TenantCredits::exhausted, read lock-free by the pipeline); every flush re-reads
// the balance of exhausted tenants so a top-up clears the flag within one interval.
//
// Crash loss: usage counted since the last acknowledged flush of a replica that dies is lost
// (at most one flush interval); it is never double counted.
//
// Thread-safety: all methods are thread-safe.
#ifndef SHIELDX_LIBS_PIPELINE_USAGE_H_
#define SHIELDX_LIBS_PIPELINE_USAGE_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "libs/base/clock.h"

namespace shieldx::pipeline {

// Records in one batch (the credits API accepts at most 10000).
inline constexpr std::size_t kMaxUsageRecordsPerBatch = 10000;

struct UsageCounter {
  std::atomic<int64_t> requests{0};
  std::atomic<int64_t> credits{0};
};

struct TenantCredits {
  std::atomic<bool> exhausted{false};
};

struct UsageRecord {
  std::string route_id;
  int64_t requests = 0;
  int64_t credits = 0;
};

struct UsageBatch {
  std::string tenant_id;
  std::string idempotency_key;
  std::vector<UsageRecord> records;
  absl::Time period_start;
  absl::Time period_end;
  int attempts = 0;
};

struct ConsumeOutcome {
  int64_t available_credits = 0;  // after the batch
  int64_t shortfall_credits = 0;  // not consumed for lack of balance
};

// Where usage goes. Implementations must be idempotent per batch key (the credits service is).
class CreditsSink {
 public:
  virtual ~CreditsSink() = default;
  virtual absl::StatusOr<ConsumeOutcome> ConsumeBatch(const UsageBatch& batch) = 0;
  // The tenant's available credits now (to notice a top-up of an exhausted tenant).
  virtual absl::StatusOr<int64_t> AvailableCredits(const std::string& tenant_id) = 0;
};

struct UsageMeterOptions {
  std::string replica_id;  // unique per process instance (idempotency keys depend on it)
  absl::Duration flush_interval = absl::Seconds(5);
};

struct UsageMeterStats {
  int64_t batches_sent = 0;
  int64_t batches_failed = 0;  // attempts that failed (the batch stays pending)
  int64_t credits_flushed = 0;
  int pending_batches = 0;
};

class UsageMeter {
 public:
  // `sink` may be null: usage is counted but never leaves the process (tests, twin).
  UsageMeter(CreditsSink* sink, Clock* clock, UsageMeterOptions options);
  ~UsageMeter();  // Stop()
  UsageMeter(const UsageMeter&) = delete;
  UsageMeter& operator=(const UsageMeter&) = delete;

  // The counter of one route; the same object across configuration snapshots.
  std::shared_ptr<UsageCounter> Counter(const std::string& tenant_id, const std::string& route_id);
  std::shared_ptr<TenantCredits> Tenant(const std::string& tenant_id);

  // One flush round (see the file comment). OK when every pending batch was acknowledged.
  absl::Status FlushOnce();
  // Starts the periodic flush thread.
  void Start();
  // Stops the thread, then flushes until nothing is pending or `deadline` passes.
  absl::Status Stop(absl::Duration deadline = absl::Seconds(5));

  UsageMeterStats stats() const;

 private:
  void Loop();
  void CollectLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  CreditsSink* const sink_;
  Clock* const clock_;
  const UsageMeterOptions options_;
  mutable absl::Mutex mu_;
  struct TenantState {
    std::map<std::string, std::shared_ptr<UsageCounter>> routes;
    std::shared_ptr<TenantCredits> credits = std::make_shared<TenantCredits>();
    bool pending = false;
    UsageBatch batch;
    absl::Time last_collect = absl::InfinitePast();
  };
  std::map<std::string, TenantState> tenants_ ABSL_GUARDED_BY(mu_);
  int64_t sequence_ ABSL_GUARDED_BY(mu_) = 0;
  UsageMeterStats stats_ ABSL_GUARDED_BY(mu_);
  absl::Mutex flush_mu_;  // one flush at a time (the sink call happens outside mu_)
  std::atomic<bool> stopping_{false};
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace shieldx::pipeline

#endif  // SHIELDX_LIBS_PIPELINE_USAGE_H_
