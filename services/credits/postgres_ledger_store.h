// PostgresLedgerStore: the ledger in PostgreSQL (schema: migrations/0001_ledger.sql).
//
// Each mutation is one read-committed transaction of four round trips: BEGIN; claim the
// idempotency key and lock the tenant account in one statement (the key first, so calls with
// the same key queue on the key and never hold the account while waiting); the writes in one
// statement (holds, transfers, audit entries, chain head and the stored response, with
// unnest()ed arrays so a batch of 10000 records is still one statement); COMMIT. Settling holds
// (capture, void, expire) adds one statement before the writes. Balances are derived by
// triggers from the rows written, and every invariant is re-checked by constraints, so a
// wrong write fails the transaction instead of corrupting the ledger.
//
// Consume, ConsumeBatch and Reserve first try ApplyOptimistic: ONE round trip (an autocommit
// call of the plpgsql function credits_apply_optimistic, which claims the key, checks the
// chain head is unchanged and writes), falling back to the locked transaction above when the
// account changed since the service last saw it.
//
// Statements are prepared once per pooled connection. libpqxx exceptions never escape: they
// become statuses through pg::StatusFromPqxx (a CHECK violation is FailedPrecondition, a
// duplicate is AlreadyExists, a lost connection Unavailable, a lost COMMIT Unknown).
//
// Thread-safety: thread-safe (one pooled connection per transaction).
#ifndef SHIELDX_SERVICES_CREDITS_POSTGRES_LEDGER_STORE_H_
#define SHIELDX_SERVICES_CREDITS_POSTGRES_LEDGER_STORE_H_

#include <string>
#include <vector>

#include "libs/pg/pool.h"
#include "services/credits/ledger_store.h"

namespace shieldx::credits {

class PostgresLedgerStore final : public LedgerStore {
 public:
  // `pool` must outlive the store; the schema must be migrated.
  explicit PostgresLedgerStore(pg::PgPool* pool) : pool_(pool) {}

  absl::Status Transact(const std::string& name, const TransactionFn& fn) override;
  absl::StatusOr<OptimisticResult> ApplyOptimistic(const KeyClaim& claim, int64_t expected_sequence,
                                                   const WriteSet& writes) override;
  absl::StatusOr<std::optional<AccountState>> GetTenantAccount(
      const std::string& tenant_id) override;
  absl::StatusOr<std::vector<Transfer>> ListTransfers(const TransferFilter& filter) override;
  absl::StatusOr<std::vector<UsageBucket>> Usage(const UsageQuery& query) override;
  absl::StatusOr<std::vector<AuditRow>> ReadAudit(const std::string& account_id,
                                                  int64_t from_sequence, int64_t to_sequence,
                                                  int limit) override;
  absl::StatusOr<std::string> AuditHmac(const std::string& account_id, int64_t sequence) override;
  absl::StatusOr<int64_t> CountTransfers(const std::string& account_id, int64_t from_sequence,
                                         int64_t to_sequence) override;
  absl::StatusOr<std::vector<std::string>> AccountsWithDueHolds(absl::Time now, int limit) override;
  absl::StatusOr<std::vector<AccountState>> ListTenantAccounts(int limit) override;
  absl::StatusOr<int64_t> DeleteIdempotencyKeysBefore(absl::Time cutoff, int limit) override;
  absl::StatusOr<std::vector<std::string>> CheckInvariants() override;

 private:
  pg::PgPool* pool_;
};

}  // namespace shieldx::credits

#endif  // SHIELDX_SERVICES_CREDITS_POSTGRES_LEDGER_STORE_H_
