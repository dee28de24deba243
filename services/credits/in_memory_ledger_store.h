// InMemoryLedgerStore: the LedgerStore for unit tests. One mutex serialises transactions; a
// transaction works on a copy of the state that replaces it on success, so a failed
// transaction leaves nothing behind. Apply() re-checks every invariant the PostgreSQL schema
// enforces (same errors: FailedPrecondition / AlreadyExists), so domain tests exercise the
// same safety net.
//
// Thread-safety: thread-safe. O(size of the ledger) per transaction: for tests only.
#ifndef SHIELDX_SERVICES_CREDITS_IN_MEMORY_LEDGER_STORE_H_
#define SHIELDX_SERVICES_CREDITS_IN_MEMORY_LEDGER_STORE_H_

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "services/credits/ledger_store.h"

namespace shieldx::credits {

class InMemoryLedgerStore final : public LedgerStore {
 public:
  // Creates the system accounts (as migration 0001 does).
  InMemoryLedgerStore();

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

  // Number of ApplyOptimistic calls that applied (tests).
  int64_t optimistic_applied() {
    absl::MutexLock lock(&mu_);
    return optimistic_applied_;
  }

  // Test hooks: the next Transact fails with `status` after running `fn` (an outage at
  // commit); direct access to audit entries and transfers for tamper tests.
  void FailNextCommit(absl::Status status);
  void TamperAudit(const std::string& account_id, int64_t sequence,
                   const std::function<void(AuditEntry&)>& edit);
  void DeleteAudit(const std::string& account_id, int64_t sequence);
  void TamperTransfer(const std::string& transfer_id, const std::function<void(Transfer&)>& edit);

  struct KeyRecord {
    std::string operation;
    std::string fingerprint;
    std::string response;
    absl::Time created_at;
  };
  struct State {
    std::map<std::string, AccountState> accounts;  // by account id
    std::map<std::string, Hold> holds;             // by hold id
    std::map<std::string, Transfer> transfers;     // by transfer id
    std::map<std::pair<std::string, int64_t>, std::string> transfer_by_seq;
    std::map<std::pair<std::string, int64_t>, AuditEntry> audit;
    std::map<std::pair<std::string, std::string>, KeyRecord> keys;
  };

 private:
  absl::Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_);
  absl::Status fail_next_commit_ ABSL_GUARDED_BY(mu_);
  int64_t optimistic_applied_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace shieldx::credits

#endif  // SHIELDX_SERVICES_CREDITS_IN_MEMORY_LEDGER_STORE_H_
