// PgPool: a bounded pool of libpqxx connections to one PostgreSQL database.
//
//   PgPoolOptions opts;
//   opts.conninfo = "host=127.0.0.1 port=5432 dbname=credits user=credits";
//   SHIELDX_ASSIGN_OR_RETURN(auto pool, PgPool::Create(opts));
//   SHIELDX_ASSIGN_OR_RETURN(PooledConnection conn, pool->Acquire());
//   pqxx::nontransaction tx(*conn);  // or use RunInTransaction (transaction.h)
//
// Connections are opened lazily, up to `max_connections`. Each new connection gets
// `SET statement_timeout` and `SET application_name`, and libpqxx's silent reconnection is
// disabled, so session settings can never be lost behind our back.
//
// Failure behaviour:
// - All connections in use: Acquire waits up to its timeout, then ResourceExhausted naming the
//   pool size and the wait.
// - PostgreSQL unreachable: Acquire returns Unavailable with libpq's reason. After a failed
//   connect the pool does not dial again until a jittered exponential backoff has passed
//   (reconnect_backoff_initial .. reconnect_backoff_max); Acquire calls during that window fail
//   at once with Unavailable, so callers never pile up behind a dead server. When the server is
//   back, the next Acquire after the backoff connects: the pool recovers by itself.
// - Health check: an idle connection whose socket became readable (the server closed it or sent
//   a shutdown notice) or that sat idle longer than `validate_after_idle` is checked with
//   `SELECT 1` before it is handed out; a broken one is dropped and replaced.
// - A connection returned broken (or in a failed state) is dropped, never reused.
// - Bounds: connecting is bounded by `connect_timeout_s` (libpq, minimum 2 s), waiting for a
//   slot by the acquire timeout, a statement by `statement_timeout_ms` (server side). A server
//   that accepts TCP but never answers is bounded only by TCP keepalives (known limit).
//
// Thread-safety: PgPool is thread-safe. A PooledConnection belongs to one thread at a time;
// it must not outlive its pool.
#ifndef SHIELDX_LIBS_PG_POOL_H_
#define SHIELDX_LIBS_PG_POOL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/base/clock.h"
#include "pqxx/connection"

namespace shieldx::pg {

// Ceiling on max_connections: PostgreSQL's default max_connections is 100 and every replica
// of every service shares it.
inline constexpr int kMaxPoolConnections = 256;
// Ceiling on any configured timeout or backoff.
inline constexpr absl::Duration kMaxPoolTimeout = absl::Minutes(10);
inline constexpr std::size_t kMaxApplicationNameBytes = 63;  // PostgreSQL's NAMEDATALEN - 1

struct PgPoolOptions {
  // libpq conninfo, key=value ("host=... dbname=...") or URI ("postgresql://..."). May hold a
  // password: never logged or put in error messages by this library.
  std::string conninfo;
  // Upper bound on open connections (idle + in use). 1..kMaxPoolConnections.
  int max_connections = 8;
  // Default wait for a free connection in Acquire().
  absl::Duration acquire_timeout = absl::Seconds(5);
  // `SET statement_timeout` on every connection; 0 disables it (not recommended).
  int statement_timeout_ms = 30'000;
  // libpq connect_timeout (seconds; libpq treats 1 as 2). Added to conninfo unless it sets one.
  int connect_timeout_s = 5;
  // `SET application_name` on every connection (shows in pg_stat_activity).
  std::string application_name = "shieldx";
  // Backoff between failed connection attempts: initial, doubled per failure, capped, +-20%.
  absl::Duration reconnect_backoff_initial = absl::Milliseconds(100);
  absl::Duration reconnect_backoff_max = absl::Seconds(2);
  // Idle connections older than this are checked with SELECT 1 before reuse.
  absl::Duration validate_after_idle = absl::Seconds(30);
  // Time source for backoff and idle ages; nullptr means Clock::Real().
  Clock* clock = nullptr;
};

// Counters for metrics and tests. A snapshot; fields are not mutually atomic across calls.
struct PgPoolStats {
  int open = 0;  // connections open or being opened (idle + in use)
  int idle = 0;
  int in_use = 0;
  int waiters = 0;  // threads blocked in Acquire
  int64_t acquired_total = 0;
  int64_t acquire_timeouts_total = 0;  // ResourceExhausted answers
  int64_t connects_total = 0;          // successful connects
  int64_t connect_failures_total = 0;
  int64_t dropped_broken_total = 0;  // connections found broken and discarded
};

class PgPool;

// A connection borrowed from a PgPool; returns it on destruction. Move-only.
class PooledConnection {
 public:
  PooledConnection() = default;
  PooledConnection(PooledConnection&& other) noexcept;
  PooledConnection& operator=(PooledConnection&& other) noexcept;
  PooledConnection(const PooledConnection&) = delete;
  PooledConnection& operator=(const PooledConnection&) = delete;
  ~PooledConnection();

  // REQUIRES: valid().
  pqxx::connection& operator*() const { return *conn_; }
  pqxx::connection* operator->() const { return conn_.get(); }
  bool valid() const { return conn_ != nullptr; }

  // Drops the connection instead of reusing it (call after an error that may have left
  // session state unknown). The pool's broken check also catches closed connections itself.
  void MarkBroken() { broken_ = true; }
  // Returns the connection to the pool now.
  void Release();

 private:
  friend class PgPool;
  PooledConnection(PgPool* pool, std::unique_ptr<pqxx::connection> conn)
      : pool_(pool), conn_(std::move(conn)) {}
  PgPool* pool_ = nullptr;
  std::unique_ptr<pqxx::connection> conn_;
  bool broken_ = false;
};

class PgPool {
 public:
  // Validates options (InvalidArgument naming the field). Does not connect.
  static absl::StatusOr<std::unique_ptr<PgPool>> Create(const PgPoolOptions& options);
  // REQUIRES: every PooledConnection has been returned.
  ~PgPool();
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;

  // Borrows a healthy connection, opening one if below max_connections.
  // Errors: ResourceExhausted (all busy for the whole timeout), Unavailable (cannot connect,
  // or within the reconnect backoff after a failed connect).
  absl::StatusOr<PooledConnection> Acquire();
  absl::StatusOr<PooledConnection> Acquire(absl::Duration timeout);

  // Readiness: acquires a connection and runs SELECT 1. OK or Unavailable / ResourceExhausted.
  absl::Status Ping();
  absl::Status Ping(absl::Duration timeout);

  PgPoolStats Stats() const;
  const PgPoolOptions& options() const { return options_; }

 private:
  friend class PooledConnection;
  struct Idle {
    std::unique_ptr<pqxx::connection> conn;
    int64_t idle_since_nanos = 0;
  };

  explicit PgPool(PgPoolOptions options);
  // Opens and configures one connection (no lock held).
  absl::StatusOr<std::unique_ptr<pqxx::connection>> Connect();
  // True when an idle connection may be reused (no lock held).
  bool Healthy(pqxx::connection& conn, int64_t idle_since_nanos);
  void Return(std::unique_ptr<pqxx::connection> conn, bool broken);
  absl::Duration NextBackoffLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const PgPoolOptions options_;
  const std::string conninfo_;  // options_.conninfo plus connect_timeout
  Clock* const clock_;

  mutable absl::Mutex mu_;
  absl::CondVar cv_;
  std::vector<Idle> idle_ ABSL_GUARDED_BY(mu_);  // LIFO: the warmest connection first
  int open_ ABSL_GUARDED_BY(mu_) = 0;
  int waiters_ ABSL_GUARDED_BY(mu_) = 0;
  int consecutive_connect_failures_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t next_connect_nanos_ ABSL_GUARDED_BY(mu_) = 0;
  std::string last_connect_error_ ABSL_GUARDED_BY(mu_);
  uint64_t jitter_state_ ABSL_GUARDED_BY(mu_);
  PgPoolStats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shieldx::pg

#endif  // SHIELDX_LIBS_PG_POOL_H_
