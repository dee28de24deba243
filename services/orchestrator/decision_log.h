// The decision log: pipeline events → Redis stream → PostgreSQL, evidence → S3, and the two
// read paths (QueryDecisions from PostgreSQL, TailDecisions from the stream).
//
// Publisher thread (every replica): drains the pipeline's EventQueue in batches of
// `batch_size`, stores evidence of sampled blocked requests in S3 (key
// evidence/<tenant>/<yyyy>/<mm>/<dd>/<request_id>.json), and appends each event to the stream
// `stream` with XADD MAXLEN ~ `stream_max_len` (capped), one pipelined round-trip per batch.
// Redis down: the batch is dropped and counted (shieldx_decision_events_dropped_total); the
// pipeline is never slowed down.
//
// Writer thread (every replica, one consumer group `group`): XREADGROUP batches, inserts them
// into the day-partitioned `decisions` table with ON CONFLICT DO NOTHING keyed by the stream
// id, then XACKs: at-least-once delivery, each event stored once. Entries left pending by a
// dead replica are claimed (XAUTOCLAIM) after `claim_idle`. PostgreSQL down: nothing is acked,
// the entries wait in the stream (until MAXLEN trims them). Partitions are created for
// yesterday..+2 days before inserting; once an hour partitions older than kMaxRetentionDays are
// dropped and rows of tenants with a shorter retention are deleted.
//
// Thread-safety: Start/Stop from one thread; Query and Tail are thread-safe.
#ifndef SHIELDX_SERVICES_ORCHESTRATOR_DECISION_LOG_H_
#define SHIELDX_SERVICES_ORCHESTRATOR_DECISION_LOG_H_

#include <atomic>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "libs/pipeline/events.h"
#include "libs/pipeline/pipeline_metrics.h"
#include "shieldx/orchestrator/v1/orchestrator.pb.h"

namespace shieldx::redis {
class RedisPool;
}
namespace shieldx::pg {
class PgPool;
}
namespace shieldx::objstore {
class S3Client;
}

namespace shieldx::orchestrator {

inline constexpr int kMaxRetentionDays = 400;
inline constexpr uint32_t kMaxQueryPageSize = 500;
inline constexpr std::size_t kMaxTailRecordsPerEvent = 1000;

struct DecisionLogOptions {
  std::string stream = "shieldx:decisions";
  int64_t stream_max_len = 200000;
  std::size_t batch_size = 500;
  absl::Duration publish_interval = absl::Milliseconds(100);
  std::string group = "pg-writer";
  std::string consumer = "replica";
  absl::Duration claim_idle = absl::Seconds(60);
  std::string evidence_bucket;  // "" : no evidence
  // Tenant → retention days (from the current configuration).
  std::function<std::map<std::string, int>()> retention;
};

struct DecisionPage {
  std::vector<v1::DecisionRecord> records;
  std::string next_page_token;
};

class DecisionLog {
 public:
  // `redis` is required; `pg`, `s3`, `metrics` may be null (no writer / evidence / metrics).
  DecisionLog(pipeline::EventQueue* queue, redis::RedisPool* redis, pg::PgPool* pg,
              objstore::S3Client* s3, pipeline::PipelineMetrics* metrics,
              DecisionLogOptions options);
  ~DecisionLog();

  void Start();
  // Publishes what is queued, then stops both threads.
  void Stop();

  // One publisher round (tests): returns how many events were appended.
  absl::StatusOr<std::size_t> PublishOnce();
  // One writer round (tests): returns how many entries were stored.
  absl::StatusOr<std::size_t> WriteOnce();

  absl::StatusOr<DecisionPage> Query(const std::string& tenant_id, const v1::DecisionFilter& filter,
                                     uint32_t page_size, const std::string& page_token);

  // Streams new decisions of the tenant matching `filter` to `emit` (batched every 250 ms) until
  // `cancelled()` returns true. `emit` returns false when the reader is gone.
  absl::Status Tail(const std::string& tenant_id, const v1::DecisionFilter& filter,
                    const std::function<bool(const v1::TailDecisionsResponse&)>& emit,
                    const std::function<bool()>& cancelled);

  int64_t dropped() const { return dropped_.load(); }

 private:
  absl::Status EnsureGroup();
  absl::Status EnsurePartitions(const std::set<int64_t>& days);
  void Maintain();

  pipeline::EventQueue* const queue_;
  redis::RedisPool* const redis_;
  pg::PgPool* const pg_;
  objstore::S3Client* const s3_;
  pipeline::PipelineMetrics* const metrics_;
  const DecisionLogOptions options_;
  std::atomic<int64_t> dropped_{0};
  bool group_ready_ = false;
  std::set<int64_t> partitions_;  // days (unix day numbers) known to exist
  absl::Time next_maintenance_ = absl::InfinitePast();
  absl::Time next_claim_ = absl::InfinitePast();
  absl::Notification stop_;
  std::thread publisher_, writer_;
};

// Does `record` pass `filter`? (Tail; Query filters in SQL.)
bool MatchesFilter(const pipeline::DecisionEvent& e, const v1::DecisionFilter& filter);

}  // namespace shieldx::orchestrator

#endif  // SHIELDX_SERVICES_ORCHESTRATOR_DECISION_LOG_H_
