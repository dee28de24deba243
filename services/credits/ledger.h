// Ledger: the credits domain. Double-entry accounting over a LedgerStore, exactly-once
// mutations through idempotency keys, reservations with expiry, refunds, usage reports and the
// HMAC audit chain. No gRPC, no SQL, no globals: the store, the audit signer, the payment
// providers, the clock, the id source and the observer arrive through the constructor.
//
// Every mutation:
//   1. validates its command (InvalidArgument naming the field and the limit; a missing
//      idempotency key is InvalidArgument, never generated);
//   2. fingerprints the command (sha256 of its canonical form, operation included);
//   3. in one store transaction: claims (tenant, key) and locks the tenant account; if the key
//      was already used by a committed call, returns that call's stored response when the
//      fingerprint matches, else ALREADY_EXISTS with reason IDEMPOTENCY_KEY_REUSED; otherwise
//      decides the movement under the lock, chains audit entries and writes transfers, audit,
//      chain head and the encoded response together;
//   4. after commit, tells the observer (metrics, balance gauge, low-balance alerts).
// A call that fails (insufficient credits, unknown hold, ...) records nothing: its key stays
// free and the same call may be retried later.
//
// Fast path: Consume, ConsumeBatch and Reserve decide on the account state this Ledger last
// saw (a per-replica cache keyed by tenant) and write with LedgerStore::ApplyOptimistic — one
// round trip that applies only if the account's chain head did not move meanwhile. If it
// moved (another replica, the sweeper), or the cached state would refuse the call, the call
// runs the locked protocol above. Correctness never depends on the cache: the decision is
// either made under the row lock or validated against the unchanged chain head.
//
// Group commit (GroupCommitOptions, on in the service by default): concurrent mutations are
// coalesced into one store transaction — keys claimed and accounts locked together, each call
// decided under the locks on the state the calls before it left, one commit for all; a call
// that fails alone fails alone (group_commit.h). The fast path is not used then.
//
// Errors carry a stable reason both in the message ("[INSUFFICIENT_CREDITS]") and as the
// payload kReasonPayloadUrl (ReasonOf() reads it).
//
// Thread-safety: thread-safe (all state lives in the store).
#ifndef SHIELDX_SERVICES_CREDITS_LEDGER_H_
#define SHIELDX_SERVICES_CREDITS_LEDGER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "libs/base/clock.h"
#include "services/credits/audit.h"
#include "services/credits/group_commit.h"
#include "services/credits/ledger_store.h"
#include "services/credits/ledger_types.h"
#include "services/credits/payments.h"

namespace shieldx::credits {

// Tenant accounts whose last seen state is kept for the fast path (the cache is cleared when
// full; it only saves round trips).
inline constexpr std::size_t kMaxCachedAccounts = 100'000;

// ---- Named limits -------------------------------------------------------------------------
inline constexpr std::size_t kMaxTenantIdBytes = 63;
inline constexpr std::size_t kMaxIdempotencyKeyBytes = 128;  // credits.proto
inline constexpr std::size_t kMaxReferenceBytes = 256;
inline constexpr std::size_t kMaxReasonBytes = 512;
inline constexpr std::size_t kMaxIdBytes = 64;  // hold and transfer ids we hand out are 35
// One record's amount, and any single movement: 10^12 credits. A batch of 10000 records at
// the maximum stays far below int64 (10^16).
inline constexpr int64_t kMaxAmountCredits = 1'000'000'000'000;
inline constexpr int64_t kMaxQuantity = 1'000'000'000'000;
// A tenant's posted balance never exceeds 10^15 credits (top-ups beyond are refused).
inline constexpr int64_t kMaxBalanceCredits = 1'000'000'000'000'000;
inline constexpr int64_t kMaxOverdraftCredits = kMaxAmountCredits;
inline constexpr std::size_t kMaxBatchRecords = 10'000;  // credits.proto ConsumeBatch
inline constexpr absl::Duration kMinHoldTtl = absl::Seconds(1);
inline constexpr absl::Duration kMaxHoldTtl = absl::Hours(24 * 7);
inline constexpr std::size_t kDefaultPageSize = 50;
inline constexpr std::size_t kMaxPageSize = 1000;
inline constexpr absl::Duration kMaxReportPeriod = absl::Hours(24 * 400);
inline constexpr int64_t kMaxReportBuckets = 10'000;
inline constexpr std::size_t kMaxAuditProblems = 1000;
// Audit entries read per store round trip while verifying.
inline constexpr int kAuditPageEntries = 5000;
// Holds expired per account per transaction by the sweeper.
inline constexpr int kMaxExpiriesPerTransaction = 500;

// ---- Reasons (UPPER_SNAKE_CASE, stable) ---------------------------------------------------
inline constexpr char kReasonPayloadUrl[] = "type.googleapis.com/shieldx.common.v1.ErrorInfo";
inline constexpr char kReasonIdempotencyKeyReused[] = "IDEMPOTENCY_KEY_REUSED";
inline constexpr char kReasonInsufficientCredits[] = "INSUFFICIENT_CREDITS";
inline constexpr char kReasonAccountNotFound[] = "ACCOUNT_NOT_FOUND";
inline constexpr char kReasonAccountExists[] = "ACCOUNT_EXISTS";
inline constexpr char kReasonHoldNotFound[] = "HOLD_NOT_FOUND";
inline constexpr char kReasonHoldNotPending[] = "HOLD_NOT_PENDING";
inline constexpr char kReasonHoldExpired[] = "HOLD_EXPIRED";
inline constexpr char kReasonCaptureExceedsHold[] = "CAPTURE_EXCEEDS_HOLD";
inline constexpr char kReasonTransferNotFound[] = "TRANSFER_NOT_FOUND";
inline constexpr char kReasonNotRefundable[] = "NOT_REFUNDABLE";
inline constexpr char kReasonRefundExceedsRefundable[] = "REFUND_EXCEEDS_REFUNDABLE";
inline constexpr char kReasonPaymentAlreadyRecorded[] = "PAYMENT_ALREADY_RECORDED";
inline constexpr char kReasonBalanceLimit[] = "BALANCE_LIMIT";
inline constexpr char kReasonInvalidPageToken[] = "INVALID_PAGE_TOKEN";

// The reason attached to a status by this library ("" when none).
std::string ReasonOf(const absl::Status& status);

// ---- Commands and results -----------------------------------------------------------------
struct OpenAccountCommand {
  std::string tenant_id;
  std::string idempotency_key;
  int64_t overdraft_limit_credits = 0;
  int64_t alert_threshold_credits = 0;
};
struct OpenAccountResult {
  Account account;
  Balance balance;
};

struct TopUpCommand {
  std::string tenant_id;
  std::string idempotency_key;
  int64_t amount_credits = 0;
  Payment payment;
};
struct TopUpResult {
  Transfer transfer;
  Balance balance;
};

struct ConsumeCommand {
  std::string tenant_id;
  std::string idempotency_key;
  UsageRecord record;
  ShortfallPolicy shortfall_policy = ShortfallPolicy::kUnspecified;
};
struct ConsumeResult {
  Transfer transfer;  // empty transfer_id when CAP consumed nothing
  Balance balance;
  int64_t shortfall_credits = 0;
};

struct ConsumeBatchCommand {
  std::string tenant_id;
  std::string idempotency_key;
  std::vector<UsageRecord> records;
  ShortfallPolicy shortfall_policy = ShortfallPolicy::kUnspecified;
};
struct ConsumeBatchResult {
  uint32_t applied_records = 0;
  int64_t consumed_credits = 0;
  int64_t shortfall_credits = 0;
  Balance balance;
  int64_t last_sequence = 0;
};

struct ReserveCommand {
  std::string tenant_id;
  std::string idempotency_key;
  int64_t amount_credits = 0;
  absl::Duration ttl;
  UsageKind usage_kind = UsageKind::kUnspecified;
  std::string reference;
};
struct ReserveResult {
  Hold hold;
  Transfer transfer;
  Balance balance;
};

struct CaptureCommand {
  std::string tenant_id;
  std::string idempotency_key;
  std::string hold_id;
  int64_t amount_credits = 0;
  int64_t quantity = 0;
};
struct CaptureResult {
  Hold hold;
  Transfer transfer;
  Balance balance;
};

struct VoidCommand {
  std::string tenant_id;
  std::string idempotency_key;
  std::string hold_id;
  std::string reason;
};
struct VoidResult {
  Hold hold;
  Balance balance;
};

struct RefundCommand {
  std::string tenant_id;
  std::string idempotency_key;
  std::string transfer_id;
  int64_t amount_credits = 0;
  std::string reason;
};
struct RefundResult {
  Transfer transfer;
  int64_t refundable_credits = 0;
  Balance balance;
};

struct SetAlertThresholdCommand {
  std::string tenant_id;
  std::string idempotency_key;
  int64_t threshold_credits = 0;
};
struct SetAlertThresholdResult {
  Account account;
  Balance balance;
};

struct ListTransfersQuery {
  std::string tenant_id;
  uint32_t page_size = 0;  // 0: kDefaultPageSize
  std::string page_token;
  std::vector<TransferKind> kinds;
  std::vector<UsageKind> usage_kinds;
  std::optional<absl::Time> created_after;
  std::optional<absl::Time> created_before;
  std::string reference;
  std::string hold_id;
};
struct TransferPage {
  std::vector<Transfer> transfers;
  std::string next_page_token;
};

struct UsageReportQuery {
  std::string tenant_id;
  absl::Time period_start;
  absl::Time period_end;
  Granularity granularity = Granularity::kUnspecified;
  std::vector<UsageKind> usage_kinds;
};
struct UsageReport {
  std::vector<UsageBucket> buckets;
  int64_t total_quantity = 0;
  int64_t total_credits = 0;
};

struct AuditReport {
  bool ok = true;
  int64_t verified_entries = 0;
  std::vector<AuditProblem> problems;
};

// ---- Seams --------------------------------------------------------------------------------
// Hands out unique ids ("tr_" + 32 hex digits).
class IdGenerator {
 public:
  virtual ~IdGenerator() = default;
  virtual std::string NewId(const std::string& prefix) = 0;
};

// 128 random bits per id from a CSPRNG-seeded generator. Thread-safe.
class RandomIdGenerator final : public IdGenerator {
 public:
  std::string NewId(const std::string& prefix) override;
};

// What happened, after commit. Implementations must be thread-safe and must not block.
class LedgerObserver {
 public:
  virtual ~LedgerObserver() = default;
  // `operation` as in the idempotency record; `result` "ok", "replayed" or a reason /
  // status code name in lower case.
  virtual void OnOperation(const std::string& operation, const std::string& result) = 0;
  virtual void OnBalance(const std::string& tenant_id, const Balance& balance) = 0;
  virtual void OnConsumed(UsageKind usage_kind, int64_t credits) = 0;
  virtual void OnRefunded(UsageKind usage_kind, int64_t credits) = 0;
  // The available balance crossed below the alert threshold.
  virtual void OnLowBalance(const std::string& tenant_id, const Balance& balance) = 0;
  // A group commit transaction finished (see GroupCommitListener).
  virtual void OnGroupCommit(int calls, const std::string& result) {
    (void)calls;
    (void)result;
  }
};

// How Ledger commits one mutation (internal to Ledger; here because nested default
// arguments cannot use it).
struct MutateOptions {
  // Without group commit: try the one-round-trip path first (see the file comment).
  bool fast = false;
  // May join a group commit (everything but OpenAccount, which creates the account).
  bool group = true;
  // The decision reads holds, transfers or payments through the transaction.
  bool reads_store = false;
  // Transfers the call may write.
  int64_t records = 1;
};

class Ledger {
 public:
  // All pointers must outlive the Ledger; `observer` may be null. With
  // `group_commit.enabled()`, every mutation except OpenAccount goes through a GroupCommitter
  // (group_commit.h); otherwise each call commits its own transaction (Consume, ConsumeBatch
  // and Reserve first try the fast path). REQUIRES: group_commit.Validate() is OK.
  Ledger(LedgerStore* store, const AuditSigner* signer, const PaymentProviders* payments,
         Clock* clock, IdGenerator* ids, LedgerObserver* observer,
         const GroupCommitOptions& group_commit = GroupCommitOptions{.max_calls = 1});
  // Commits the calls still queued for a group, then stops the group committer.
  ~Ledger();

  absl::StatusOr<OpenAccountResult> OpenAccount(const OpenAccountCommand& cmd);
  absl::StatusOr<Balance> GetBalance(const std::string& tenant_id);
  absl::StatusOr<TopUpResult> TopUp(const TopUpCommand& cmd);
  absl::StatusOr<ConsumeResult> Consume(const ConsumeCommand& cmd);
  // Consume without blocking the caller while its group commits: `done` runs exactly once with
  // what Consume() would return — on the calling thread when the command is invalid or group
  // commit is off (then it blocks like Consume), otherwise on a group committer thread (so
  // `done` must not block). Used by the gRPC adapter's callback handler, which then holds no
  // thread while the call waits for its group.
  using ConsumeCallback = std::function<void(absl::StatusOr<ConsumeResult>)>;
  void ConsumeAsync(ConsumeCommand cmd, ConsumeCallback done);
  absl::StatusOr<ConsumeBatchResult> ConsumeBatch(const ConsumeBatchCommand& cmd);
  absl::StatusOr<ReserveResult> Reserve(const ReserveCommand& cmd);
  absl::StatusOr<CaptureResult> Capture(const CaptureCommand& cmd);
  absl::StatusOr<VoidResult> Void(const VoidCommand& cmd);
  absl::StatusOr<RefundResult> Refund(const RefundCommand& cmd);
  absl::StatusOr<SetAlertThresholdResult> SetAlertThreshold(const SetAlertThresholdCommand& cmd);
  absl::StatusOr<TransferPage> ListTransfers(const ListTransfersQuery& query);
  absl::StatusOr<UsageReport> Report(const UsageReportQuery& query);
  // Recomputes the chain of the tenant's account for sequences [from, to] (0: open ends).
  absl::StatusOr<AuditReport> VerifyAudit(const std::string& tenant_id, int64_t from_sequence,
                                          int64_t to_sequence);

  // Sweeper: expires pending holds due now, for at most `max_accounts` accounts. Safe with
  // several replicas (accounts another transaction holds are skipped until the next sweep).
  // Returns the number of holds expired.
  absl::StatusOr<int64_t> ExpireDueHolds(int max_accounts);

  // Calls waiting for a group commit (0 when group commit is off). For tests.
  std::size_t group_commit_queued() { return group_ == nullptr ? 0 : group_->queued(); }

  // Re-reads up to `limit` tenant balances and reports them to the observer (keeps the
  // balance gauge current for changes made by other replicas).
  absl::Status RefreshBalances(int limit);

 private:
  // What a mutation's transaction produced: the encoded response (fresh or replayed) and the
  // available balance before it (for low-balance crossings).
  struct Outcome {
    std::string response;
    bool replayed = false;
    std::optional<int64_t> available_before;
  };
  // Decides a mutation under the account lock: fills `writes` and the encoded `response`.
  using DecideFn = MutationDecideFn;
  // The claim / replay / decide / write protocol shared by every mutation.
  absl::StatusOr<Outcome> Mutate(const std::string& operation, const std::string& tenant_id,
                                 const std::string& idempotency_key, const std::string& fingerprint,
                                 const DecideFn& decide, MutateOptions options = {});
  // A group's result for one call as an Outcome (replay or IDEMPOTENCY_KEY_REUSED for keys
  // recorded before; the account cache updated).
  absl::StatusOr<Outcome> FromGroup(const std::string& operation, const std::string& tenant_id,
                                    const std::string& idempotency_key,
                                    const std::string& fingerprint, absl::StatusOr<GroupResult> r);
  static absl::Status ValidateConsume(const ConsumeCommand& cmd);
  // Consume's decision; refers to `cmd`, which must outlive it.
  DecideFn ConsumeDecision(const ConsumeCommand& cmd);
  absl::StatusOr<ConsumeResult> FinishConsume(const ConsumeCommand& cmd,
                                              absl::StatusOr<Outcome> outcome);
  // Mutate through the group committer; nullopt when the call must commit on its own.
  std::optional<absl::StatusOr<Outcome>> MutateInGroup(const std::string& operation,
                                                       const std::string& tenant_id,
                                                       const std::string& idempotency_key,
                                                       const std::string& fingerprint,
                                                       const DecideFn& decide,
                                                       const MutateOptions& options);
  // The fast path; nullopt when the caller must run the locked protocol.
  absl::StatusOr<std::optional<Outcome>> TryFast(const std::string& operation,
                                                 const std::string& tenant_id,
                                                 const std::string& idempotency_key,
                                                 const std::string& fingerprint,
                                                 const DecideFn& decide);
  // The outcome of a key found already recorded: its response, or IDEMPOTENCY_KEY_REUSED.
  static absl::StatusOr<Outcome> Replay(const std::string& operation, const std::string& tenant_id,
                                        const std::string& idempotency_key,
                                        const std::string& fingerprint,
                                        const std::string& stored_operation,
                                        const std::string& stored_fingerprint,
                                        std::string stored_response);
  // Decodes the outcome into `Result`, then reports to the observer.
  // `on_applied` runs for a first application only (not for replays).
  template <typename Result>
  absl::StatusOr<Result> Finish(const std::string& operation, const std::string& tenant_id,
                                absl::StatusOr<Outcome> outcome,
                                const std::function<void(const Result&)>& on_applied = nullptr);

  // Starts a write set on the locked account (chain head where it is).
  static WriteSet StartWrites(const AccountState& account, const std::string& tenant_id,
                              const std::string& idempotency_key);
  // Appends `t` (sequence assigned) and its audit entry to `writes`, advancing the head.
  void AppendTransfer(Transfer t, WriteSet& writes) const;
  Balance MakeBalance(const AccountState& state, int64_t posted, int64_t pending,
                      int64_t sequence) const;
  absl::StatusOr<int64_t> ExpireAccount(const std::string& account_id);

  // Last seen state per tenant (thread-safe; keeps the highest sequence).
  class AccountCache {
   public:
    std::optional<AccountState> Get(const std::string& tenant_id);
    void Put(const std::string& tenant_id, const AccountState& state);

   private:
    absl::Mutex mu_;
    std::unordered_map<std::string, AccountState> map_ ABSL_GUARDED_BY(mu_);
  };

  AccountCache cache_;
  LedgerStore* store_;
  const AuditSigner* signer_;
  const PaymentProviders* payments_;
  Clock* clock_;
  IdGenerator* ids_;
  LedgerObserver* observer_;
  // Last member: destroyed first, while everything its queued calls use still exists.
  std::unique_ptr<GroupCommitter> group_;
};

}  // namespace shieldx::credits

#endif  // SHIELDX_SERVICES_CREDITS_LEDGER_H_
