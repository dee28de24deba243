// GatedStore (tests only): a LedgerStore decorator that lets a test assemble a group commit
// deterministically and break it in the middle.
//   * Close() makes the next Transact wait until Open(): the group committer is then stuck on
//     one group while the test queues the calls that will form the next one;
//   * set_after_apply_many(hook) runs `hook(transaction_index)` inside each transaction right
//     after its ApplyMany succeeded (before COMMIT); a non-OK result fails the transaction
//     there, and the hook may also break the connection (an outage mid-group).
// Everything else forwards to the wrapped store.
//
// Thread-safety: thread-safe.
#ifndef SHIELDX_SERVICES_CREDITS_GATED_STORE_FOR_TEST_H_
#define SHIELDX_SERVICES_CREDITS_GATED_STORE_FOR_TEST_H_

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "services/credits/ledger_store.h"

namespace shieldx::credits {

class GatedStore final : public LedgerStore {
 public:
  using Hook = std::function<absl::Status(int transaction_index)>;

  explicit GatedStore(LedgerStore* inner) : inner_(inner) {}

  void Close() {
    absl::MutexLock l(&mu_);
    open_ = false;
  }
  void Open() {
    absl::MutexLock l(&mu_);
    open_ = true;
  }
  // Transactions waiting at the gate.
  int waiting() {
    absl::MutexLock l(&mu_);
    return waiting_;
  }
  int transactions() {
    absl::MutexLock l(&mu_);
    return transactions_;
  }
  void set_after_apply_many(Hook hook) {
    absl::MutexLock l(&mu_);
    hook_ = std::move(hook);
  }
  // Runs `before(transaction_index)` after the gate, before the wrapped store's Transact (so
  // it may call into the wrapped store, e.g. InMemoryLedgerStore::FailNextCommit).
  void set_before_transaction(std::function<void(int)> before) {
    absl::MutexLock l(&mu_);
    before_ = std::move(before);
  }

  absl::Status Transact(const std::string& name, const TransactionFn& fn) override {
    int index = 0;
    Hook hook;
    std::function<void(int)> before;
    {
      absl::MutexLock l(&mu_);
      index = transactions_++;
      ++waiting_;
      mu_.Await(absl::Condition(&open_));
      --waiting_;
      hook = hook_;
      before = before_;
    }
    if (before) before(index);
    return inner_->Transact(name, [&](LedgerTransaction& tx) -> absl::Status {
      HookedTx hooked(tx, index, hook);
      return fn(hooked);
    });
  }
  absl::StatusOr<OptimisticResult> ApplyOptimistic(const KeyClaim& claim, int64_t expected,
                                                   const WriteSet& writes) override {
    return inner_->ApplyOptimistic(claim, expected, writes);
  }
  absl::StatusOr<std::optional<AccountState>> GetTenantAccount(const std::string& t) override {
    return inner_->GetTenantAccount(t);
  }
  absl::StatusOr<std::vector<Transfer>> ListTransfers(const TransferFilter& f) override {
    return inner_->ListTransfers(f);
  }
  absl::StatusOr<std::vector<UsageBucket>> Usage(const UsageQuery& q) override {
    return inner_->Usage(q);
  }
  absl::StatusOr<std::vector<AuditRow>> ReadAudit(const std::string& a, int64_t from, int64_t to,
                                                  int limit) override {
    return inner_->ReadAudit(a, from, to, limit);
  }
  absl::StatusOr<std::string> AuditHmac(const std::string& a, int64_t seq) override {
    return inner_->AuditHmac(a, seq);
  }
  absl::StatusOr<int64_t> CountTransfers(const std::string& a, int64_t from, int64_t to) override {
    return inner_->CountTransfers(a, from, to);
  }
  absl::StatusOr<std::vector<std::string>> AccountsWithDueHolds(absl::Time now,
                                                                int limit) override {
    return inner_->AccountsWithDueHolds(now, limit);
  }
  absl::StatusOr<std::vector<AccountState>> ListTenantAccounts(int limit) override {
    return inner_->ListTenantAccounts(limit);
  }
  absl::StatusOr<int64_t> DeleteIdempotencyKeysBefore(absl::Time cutoff, int limit) override {
    return inner_->DeleteIdempotencyKeysBefore(cutoff, limit);
  }
  absl::StatusOr<std::vector<std::string>> CheckInvariants() override {
    return inner_->CheckInvariants();
  }

 private:
  class HookedTx final : public LedgerTransaction {
   public:
    HookedTx(LedgerTransaction& tx, int index, const Hook& hook)
        : tx_(tx), index_(index), hook_(hook) {}
    absl::StatusOr<ClaimResult> ClaimKeyAndLockAccount(const KeyClaim& c) override {
      return tx_.ClaimKeyAndLockAccount(c);
    }
    absl::StatusOr<std::optional<AccountState>> LockAccount(const std::string& a,
                                                            bool skip) override {
      return tx_.LockAccount(a, skip);
    }
    absl::StatusOr<std::optional<Hold>> GetHold(const std::string& a,
                                                const std::string& h) override {
      return tx_.GetHold(a, h);
    }
    absl::StatusOr<std::vector<Hold>> DueHolds(const std::string& a, absl::Time now,
                                               int limit) override {
      return tx_.DueHolds(a, now, limit);
    }
    absl::StatusOr<std::optional<Transfer>> GetTransfer(const std::string& a,
                                                        const std::string& t) override {
      return tx_.GetTransfer(a, t);
    }
    absl::StatusOr<bool> PaymentRecorded(const std::string& p, const std::string& r) override {
      return tx_.PaymentRecorded(p, r);
    }
    absl::Status Apply(const WriteSet& w) override { return tx_.Apply(w); }
    absl::StatusOr<std::vector<ClaimResult>> ClaimKeysAndLockAccounts(
        const std::vector<KeyClaim>& claims) override {
      return tx_.ClaimKeysAndLockAccounts(claims);
    }
    absl::Status ApplyMany(
        const std::vector<WriteSet>& writes,
        const std::vector<std::pair<std::string, std::string>>& released) override {
      absl::Status s = tx_.ApplyMany(writes, released);
      if (!s.ok() || !hook_) return s;
      return hook_(index_);
    }

   private:
    LedgerTransaction& tx_;
    const int index_;
    const Hook& hook_;
  };

  LedgerStore* inner_;
  absl::Mutex mu_;
  bool open_ ABSL_GUARDED_BY(mu_) = true;
  int waiting_ ABSL_GUARDED_BY(mu_) = 0;
  int transactions_ ABSL_GUARDED_BY(mu_) = 0;
  Hook hook_ ABSL_GUARDED_BY(mu_);
  std::function<void(int)> before_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shieldx::credits

#endif  // SHIELDX_SERVICES_CREDITS_GATED_STORE_FOR_TEST_H_
