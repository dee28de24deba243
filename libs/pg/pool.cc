#include "libs/pg/pool.h"

#include <poll.h>

#include <algorithm>
#include <random>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/base/check.h"
#include "libs/pg/conninfo.h"
#include "libs/pg/pg_status.h"
#include "pqxx/pqxx"

namespace shieldx::pg {
namespace {

absl::Status Invalid(const std::string& field, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat("postgres pool option ", field, ": ", why));
}

absl::Status ValidateOptions(const PgPoolOptions& o) {
  if (o.conninfo.empty()) return Invalid("conninfo", "must not be empty");
  if (o.max_connections < 1 || o.max_connections > kMaxPoolConnections) {
    return Invalid("max_connections",
                   absl::StrCat(o.max_connections, " is outside 1..", kMaxPoolConnections));
  }
  auto in_range = [](absl::Duration d) {
    return d >= absl::ZeroDuration() && d <= kMaxPoolTimeout;
  };
  if (!in_range(o.acquire_timeout)) {
    return Invalid("acquire_timeout",
                   absl::StrCat(absl::FormatDuration(o.acquire_timeout), " is outside 0..10m"));
  }
  if (o.statement_timeout_ms < 0 ||
      o.statement_timeout_ms > absl::ToInt64Milliseconds(kMaxPoolTimeout)) {
    return Invalid("statement_timeout_ms",
                   absl::StrCat(o.statement_timeout_ms, " is outside 0..600000"));
  }
  if (o.connect_timeout_s < 1 || o.connect_timeout_s > absl::ToInt64Seconds(kMaxPoolTimeout)) {
    return Invalid("connect_timeout_s", absl::StrCat(o.connect_timeout_s, " is outside 1..600"));
  }
  if (o.application_name.size() > kMaxApplicationNameBytes) {
    return Invalid("application_name", absl::StrCat(o.application_name.size(), " bytes exceeds ",
                                                    kMaxApplicationNameBytes));
  }
  for (char c : o.application_name) {
    if (c < 0x20 || c > 0x7e) return Invalid("application_name", "must be printable ASCII");
  }
  if (o.reconnect_backoff_initial <= absl::ZeroDuration() ||
      !in_range(o.reconnect_backoff_initial) || !in_range(o.reconnect_backoff_max) ||
      o.reconnect_backoff_max < o.reconnect_backoff_initial) {
    return Invalid("reconnect_backoff", "need 0 < initial <= max <= 10m");
  }
  if (!in_range(o.validate_after_idle)) {
    return Invalid("validate_after_idle", "is outside 0..10m");
  }
  return absl::OkStatus();
}

}  // namespace

// ---- PooledConnection ----

PooledConnection::PooledConnection(PooledConnection&& other) noexcept
    : pool_(other.pool_), conn_(std::move(other.conn_)), broken_(other.broken_) {
  other.pool_ = nullptr;
}

PooledConnection& PooledConnection::operator=(PooledConnection&& other) noexcept {
  if (this != &other) {
    Release();
    pool_ = other.pool_;
    conn_ = std::move(other.conn_);
    broken_ = other.broken_;
    other.pool_ = nullptr;
  }
  return *this;
}

PooledConnection::~PooledConnection() { Release(); }

void PooledConnection::Release() {
  if (pool_ != nullptr && conn_ != nullptr) pool_->Return(std::move(conn_), broken_);
  pool_ = nullptr;
  conn_.reset();
  broken_ = false;
}

// ---- PgPool ----

absl::StatusOr<std::unique_ptr<PgPool>> PgPool::Create(const PgPoolOptions& options) {
  if (absl::Status s = ValidateOptions(options); !s.ok()) return s;
  return std::unique_ptr<PgPool>(new PgPool(options));
}

PgPool::PgPool(PgPoolOptions options)
    : options_(std::move(options)),
      conninfo_(WithConnInfoParam(options_.conninfo, "connect_timeout",
                                  absl::StrCat(options_.connect_timeout_s))),
      clock_(options_.clock != nullptr ? options_.clock : Clock::Real()),
      jitter_state_(std::random_device{}()) {}

PgPool::~PgPool() {
  absl::MutexLock l(&mu_);
  SHIELDX_CHECK_MSG(open_ == static_cast<int>(idle_.size()),
                    "PgPool destroyed while connections are still borrowed");
}

absl::StatusOr<PooledConnection> PgPool::Acquire() { return Acquire(options_.acquire_timeout); }

absl::StatusOr<PooledConnection> PgPool::Acquire(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::MutexLock lock(&mu_);
  while (true) {
    if (!idle_.empty()) {
      Idle idle = std::move(idle_.back());
      idle_.pop_back();
      mu_.Unlock();
      const bool healthy = Healthy(*idle.conn, idle.idle_since_nanos);
      if (!healthy) idle.conn.reset();  // close outside the lock
      mu_.Lock();
      if (healthy) {
        ++stats_.acquired_total;
        return PooledConnection(this, std::move(idle.conn));
      }
      --open_;
      ++stats_.dropped_broken_total;
      continue;
    }
    if (open_ < options_.max_connections) {
      const int64_t now = clock_->MonotonicNanos();
      if (now < next_connect_nanos_) {
        return absl::UnavailableError(absl::StrCat(
            "postgres unavailable: ", last_connect_error_, "; ", consecutive_connect_failures_,
            " consecutive connect failures, next attempt in ",
            (next_connect_nanos_ - now + 999'999) / 1'000'000, " ms"));
      }
      ++open_;  // reserve the slot while connecting without the lock
      mu_.Unlock();
      absl::StatusOr<std::unique_ptr<pqxx::connection>> conn = Connect();
      mu_.Lock();
      if (!conn.ok()) {
        --open_;
        ++consecutive_connect_failures_;
        ++stats_.connect_failures_total;
        last_connect_error_ = std::string(conn.status().message());
        next_connect_nanos_ =
            clock_->MonotonicNanos() + absl::ToInt64Nanoseconds(NextBackoffLocked());
        cv_.Signal();  // the slot is free again
        return conn.status();
      }
      consecutive_connect_failures_ = 0;
      next_connect_nanos_ = 0;
      ++stats_.connects_total;
      ++stats_.acquired_total;
      return PooledConnection(this, std::move(*conn));
    }
    ++waiters_;
    const bool timed_out = cv_.WaitWithDeadline(&mu_, deadline);
    --waiters_;
    if (timed_out && idle_.empty() && open_ >= options_.max_connections) {
      ++stats_.acquire_timeouts_total;
      return absl::ResourceExhaustedError(absl::StrCat(
          "postgres pool exhausted: all ", options_.max_connections, " connections in use; waited ",
          absl::FormatDuration(timeout), " (", waiters_, " other waiters)"));
    }
  }
}

absl::Status PgPool::Ping() { return Ping(options_.acquire_timeout); }

absl::Status PgPool::Ping(absl::Duration timeout) {
  absl::StatusOr<PooledConnection> conn = Acquire(timeout);
  if (!conn.ok()) return conn.status();
  try {
    pqxx::nontransaction tx(**conn);
    tx.exec("SELECT 1");
    return absl::OkStatus();
  } catch (const std::exception& e) {
    conn->MarkBroken();
    return StatusFromPqxx(e);
  }
}

PgPoolStats PgPool::Stats() const {
  absl::MutexLock l(&mu_);
  PgPoolStats s = stats_;
  s.open = open_;
  s.idle = static_cast<int>(idle_.size());
  s.in_use = open_ - s.idle;
  s.waiters = waiters_;
  return s;
}

absl::StatusOr<std::unique_ptr<pqxx::connection>> PgPool::Connect() {
  try {
    auto conn = std::make_unique<pqxx::connection>(conninfo_);
    // libpqxx 6 would otherwise silently reconnect a broken connection and lose the session
    // settings below. The API is deprecated only because libpqxx 7 removed reactivation.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    conn->inhibit_reactivation(true);
#pragma GCC diagnostic pop
    pqxx::nontransaction tx(*conn);
    tx.exec(absl::StrCat("SET statement_timeout = ", options_.statement_timeout_ms));
    tx.exec(absl::StrCat("SET application_name = ", tx.quote(options_.application_name)));
    return conn;
  } catch (const pqxx::broken_connection& e) {
    // libpq's first line names host and port and the reason; never the password.
    const std::string what = e.what();
    return absl::UnavailableError(
        absl::StrCat("postgres: cannot connect: ", what.substr(0, what.find('\n'))));
  } catch (const std::exception& e) {
    return StatusFromPqxx(e);
  }
}

bool PgPool::Healthy(pqxx::connection& conn, int64_t idle_since_nanos) {
  if (!conn.is_open()) return false;
  const int fd = conn.sock();
  if (fd < 0) return false;
  bool check = clock_->MonotonicNanos() - idle_since_nanos >
               absl::ToInt64Nanoseconds(options_.validate_after_idle);
  // An idle connection has nothing to read unless the server closed it or sent a notice.
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, 0) != 0) check = true;
  if (!check) return true;
  try {
    pqxx::nontransaction tx(conn);
    tx.exec("SELECT 1");
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

void PgPool::Return(std::unique_ptr<pqxx::connection> conn, bool broken) {
  if (broken || !conn->is_open()) {
    conn.reset();  // close outside the lock
    absl::MutexLock l(&mu_);
    --open_;
    ++stats_.dropped_broken_total;
    cv_.Signal();
    return;
  }
  const int64_t now = clock_->MonotonicNanos();
  absl::MutexLock l(&mu_);
  idle_.push_back(Idle{std::move(conn), now});
  cv_.Signal();
}

absl::Duration PgPool::NextBackoffLocked() {
  const int doublings = std::min(consecutive_connect_failures_ - 1, 20);
  absl::Duration d = options_.reconnect_backoff_initial * (int64_t{1} << std::max(doublings, 0));
  d = std::min(d, options_.reconnect_backoff_max);
  // splitmix64: cheap, good enough for jitter; +-20%.
  uint64_t z = (jitter_state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  const double factor = 0.8 + 0.4 * static_cast<double>(z % 10'000) / 10'000.0;
  return d * factor;
}

}  // namespace shieldx::pg
