// GroupCommitter: group commit for ledger mutations. Concurrent calls (Consume, Reserve,
// Capture, ...) that arrive while a group is committing are coalesced into ONE store
// transaction (one commit, one fsync) instead of one each.
//
// A group transaction does, for its calls in arrival order:
//   1. claims every call's idempotency key and locks the tenant accounts of the claimed keys
//      (LedgerTransaction::ClaimKeysAndLockAccounts: keys in (tenant, key) order, then
//      accounts in id order, so groups never deadlock with each other or with single calls);
//   2. a key already recorded by an earlier committed call is handed back with its stored
//      record (the caller replays it or reports IDEMPOTENCY_KEY_REUSED);
//   3. decides each claimed call under the locks on the account state left by the calls before
//      it in the group (calls of one tenant chain: each sees the balance and audit chain head
//      the previous one produced). A call whose decision fails (insufficient credits, unknown
//      hold, ...) gets its own error, contributes no writes and its key claim is released in
//      the same transaction, exactly as if it had failed alone; the other calls go on;
//   4. writes every successful call's transfers, holds, audit entries, chain heads and stored
//      responses (LedgerTransaction::ApplyMany) and commits once.
// This is pre-validation under row locks, not savepoints: a failing call never reaches the
// database, so it cannot fail the others. If the group transaction itself fails:
//   - an outage or an unknown outcome (Unavailable, Unknown, DeadlineExceeded, Aborted after
//     the store's retries, ...) fails every call of the group with that status; the
//     transaction is atomic, so nothing of the group is applied (or, for Unknown at COMMIT,
//     all of it is: a retry with the same key then replays);
//   - a refusal by the store's own checks (FailedPrecondition / AlreadyExists, e.g. two
//     TopUps in one group recording the same payment reference) re-runs each call in a group
//     of its own, so only the call at fault gets the error.
//
// Two calls with the same (tenant, key) never share a group: the later one waits for the next
// group and then finds the key recorded (replay) or free again (its first call failed). At
// most one call per account that reads the store under the lock (Capture, Void, Refund,
// manual TopUp) joins a group, so such a read never misses a write of an earlier call of the
// same group.
//
// Thread-safety: thread-safe. Run() blocks the calling thread until its group finished.
#ifndef SHIELDX_SERVICES_CREDITS_GROUP_COMMIT_H_
#define SHIELDX_SERVICES_CREDITS_GROUP_COMMIT_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "libs/base/clock.h"
#include "services/credits/ledger_store.h"

namespace shieldx::credits {

// ---- Named limits -------------------------------------------------------------------------
inline constexpr int kMaxGroupCommitCalls = 1000;
inline constexpr int kMaxGroupCommitRecords = 100'000;
inline constexpr int kMaxGroupCommitters = 16;
inline constexpr absl::Duration kMaxGroupCommitWindow = absl::Milliseconds(100);
// Calls waiting for a group; beyond it a call commits on its own (backpressure, not an error).
inline constexpr std::size_t kMaxGroupCommitQueue = 10'000;

struct GroupCommitOptions {
  // Calls per group transaction, at most (1..kMaxGroupCommitCalls). 1 turns group commit off.
  int max_calls = 64;
  // Usage records (transfers) per group, at most; a single call larger than this still
  // commits, alone. (1..kMaxGroupCommitRecords)
  int max_records = 20'000;
  // After the first call of a group arrives, how long the committer waits for more before
  // committing (unless max_calls are already waiting). Zero: a group is whatever queued up
  // while the previous group was committing — no added latency when the service is idle.
  absl::Duration window = absl::ZeroDuration();
  // Groups committing at the same time (one thread each), 1..kMaxGroupCommitters. Two keep
  // the database busy while the other group waits for its commit to be flushed.
  int committers = 2;

  bool enabled() const { return max_calls > 1; }
  // InvalidArgument naming the field and its bounds.
  absl::Status Validate() const;
};

// How a call decides under the account lock (see Ledger): fills `writes` and the encoded
// `response`, or returns the call's error. `account` is nullopt when the tenant has none.
using MutationDecideFn =
    std::function<absl::Status(LedgerTransaction& tx, const std::optional<AccountState>& account,
                               WriteSet& writes, std::string& response)>;

struct GroupCall {
  std::string operation;  // as in the idempotency record: "consume", ...
  std::string tenant_id;
  std::string idempotency_key;
  std::string fingerprint;
  const MutationDecideFn* decide = nullptr;  // must outlive Run()
  // True when `decide` reads holds, transfers or payments through the transaction.
  bool reads_store = false;
  // Transfers the call may write (usage records of a batch; 1 otherwise).
  int64_t records = 1;
};

// What a call got from its group when the group committed.
struct GroupResult {
  // True: this call's key was claimed and its writes committed. False: the key had been
  // recorded by an earlier call, whose record is below.
  bool claimed = false;
  std::string stored_operation;
  std::string stored_fingerprint;
  std::string stored_response;
  std::string response;  // claimed: the response stored with the key
  // claimed: the account as the call's decision saw it, and after its writes.
  std::optional<AccountState> before;
  std::optional<AccountState> after;
};

// Told about every group transaction (metrics). Must be thread-safe and must not block.
// `result`: "ok", "split" (re-run call by call after a store refusal) or the lower-case
// status code of a failed group.
using GroupCommitListener = std::function<void(int calls, const std::string& result)>;

class GroupCommitter {
 public:
  // `store` and `clock` must outlive this object. REQUIRES: options.Validate() is OK and
  // options.enabled().
  GroupCommitter(LedgerStore* store, Clock* clock, const GroupCommitOptions& options,
                 GroupCommitListener listener = nullptr);
  // Commits what is queued, then stops the committer threads.
  ~GroupCommitter();

  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // Runs `call` in a group transaction. nullopt when the queue is full or the committer is
  // stopping: the caller then commits the call on its own. Otherwise the call's own result:
  // its GroupResult, its decision's error, or the group's failure (see the file comment).
  std::optional<absl::StatusOr<GroupResult>> Run(const GroupCall& call);

  // Run() without blocking: queues `call` and returns true; `done` then runs exactly once, on
  // a committer thread, after the call's group finished (it must not block: it delays the
  // next group). False (and `done` never runs) when the queue is full or the committer is
  // stopping. `*call.decide` must stay valid until `done` runs.
  using DoneFn = std::function<void(absl::StatusOr<GroupResult>)>;
  bool Submit(const GroupCall& call, DoneFn done);

  // Calls waiting for a group (tests).
  std::size_t queued();

 private:
  struct Waiter {
    GroupCall call;
    absl::Time enqueued;
    DoneFn done;
    std::optional<absl::StatusOr<GroupResult>> result;
  };

  void Loop();
  // Removes the next group from the queue (see the file comment for who waits).
  std::vector<Waiter*> TakeGroup() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Commit(const std::vector<Waiter*>& group);
  // One transaction for `calls`: per-call results, or the transaction's failure.
  absl::StatusOr<std::vector<absl::StatusOr<GroupResult>>> RunGroup(
      const std::vector<const GroupCall*>& calls);

  LedgerStore* store_;
  Clock* clock_;
  const GroupCommitOptions options_;
  GroupCommitListener listener_;

  absl::Mutex mu_;
  std::deque<Waiter*> queue_ ABSL_GUARDED_BY(mu_);  // owned
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace shieldx::credits

#endif  // SHIELDX_SERVICES_CREDITS_GROUP_COMMIT_H_
