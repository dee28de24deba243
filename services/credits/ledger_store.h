// LedgerStore: where the ledger lives. The domain (ledger.h) decides every movement; a store
// executes it atomically and enforces the invariants again on its own (the PostgreSQL store
// through constraints and triggers, the in-memory store by checks that mirror them).
//
// A mutation runs as one transaction: Transact(fn) hands `fn` a LedgerTransaction; `fn` claims
// its idempotency key and locks the tenant account (one round trip), reads what it needs under
// that lock, and calls Apply() once with everything it writes. When `fn` returns OK the
// transaction commits; otherwise nothing it did remains. `fn` may be run again after a
// serialization failure or deadlock, so it must have no effect outside the transaction.
//
// Lock order, everywhere: idempotency key, then the tenant account row, then holds / transfers
// of that account, then system balances. The sweeper locks accounts with SKIP LOCKED.
//
// Thread-safety: implementations are thread-safe; a LedgerTransaction belongs to one thread.
#ifndef SHIELDX_SERVICES_CREDITS_LEDGER_STORE_H_
#define SHIELDX_SERVICES_CREDITS_LEDGER_STORE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/credits/ledger_types.h"

namespace shieldx::credits {

// A tenant account as read under its row lock (or a snapshot for reads).
struct AccountState {
  Account account;
  int64_t posted_credits = 0;
  int64_t pending_credits = 0;
  int64_t sequence = 0;   // audit chain head
  std::string head_hmac;  // HMAC of entry `sequence` (empty when 0)
};

struct KeyClaim {
  std::string tenant_id;
  std::string idempotency_key;
  std::string operation;    // "consume", "top_up", ...
  std::string fingerprint;  // sha256 of the canonical request
  absl::Time now;
};

struct ClaimResult {
  // True: the key is ours (this transaction will record it). False: it was recorded by an
  // earlier committed call, whose operation, fingerprint and response are below.
  bool claimed = false;
  // When claimed: the tenant's account, locked; nullopt when the tenant has none.
  std::optional<AccountState> account;
  std::string stored_operation;
  std::string stored_fingerprint;
  std::string stored_response;
};

struct HoldSettlement {
  std::string hold_id;
  HoldState state = HoldState::kUnspecified;  // CAPTURED, VOIDED or EXPIRED
  int64_t captured_credits = 0;
  int64_t released_credits = 0;  // the hold's amount, leaving `pending`
  absl::Time settled_at;
};

// Everything one mutation writes, applied in this order: new account, hold settlements,
// then new holds, transfers, audit entries, the account's chain head (and alert threshold),
// and the idempotency response.
struct WriteSet {
  std::optional<Account> new_account;
  std::vector<HoldSettlement> settled_holds;
  std::vector<Hold> new_holds;
  std::vector<Transfer> transfers;
  std::vector<AuditEntry> audit;
  // The tenant account whose chain head moves to (head_sequence, head_hmac).
  std::string account_id;
  int64_t head_sequence = 0;
  std::string head_hmac;
  std::optional<int64_t> new_alert_threshold_credits;
  // The claimed key's response (empty key: none, e.g. sweeper expiries).
  std::string tenant_id;
  std::string idempotency_key;
  std::string response;
};

class LedgerTransaction {
 public:
  virtual ~LedgerTransaction() = default;

  // Claims (tenant, key) and locks the tenant's account. When another transaction holds the
  // same key, waits for it; if it committed, returns its record (claimed = false).
  virtual absl::StatusOr<ClaimResult> ClaimKeyAndLockAccount(const KeyClaim& claim) = 0;
  // Locks an account by id. With skip_locked, nullopt when another transaction holds it.
  virtual absl::StatusOr<std::optional<AccountState>> LockAccount(const std::string& account_id,
                                                                  bool skip_locked) = 0;
  // A hold of the locked account; nullopt when the account has no such hold.
  virtual absl::StatusOr<std::optional<Hold>> GetHold(const std::string& account_id,
                                                      const std::string& hold_id) = 0;
  // Pending holds of the locked account that expire at or before `now`, oldest first.
  virtual absl::StatusOr<std::vector<Hold>> DueHolds(const std::string& account_id, absl::Time now,
                                                     int limit) = 0;
  // A transfer of the locked account (with refunded_credits current); nullopt when absent.
  virtual absl::StatusOr<std::optional<Transfer>> GetTransfer(const std::string& account_id,
                                                              const std::string& transfer_id) = 0;
  // True when a TOP_UP with this provider and unique reference exists.
  virtual absl::StatusOr<bool> PaymentRecorded(const std::string& provider,
                                               const std::string& reference) = 0;
  // Writes everything. FailedPrecondition when an invariant would break (the store's own
  // check), AlreadyExists on a duplicate id or payment reference.
  virtual absl::Status Apply(const WriteSet& writes) = 0;

  // ---- group commit (several calls in one transaction; see group_commit.h) ----
  // Claims every key, in (tenant, key) order, then locks the tenant accounts of the claimed
  // keys, in account id order (so two group transactions, or a group and a single call, never
  // wait on each other in a cycle). Returns one result per claim, in the order given; every
  // claimed result of a tenant carries that tenant's locked account.
  // REQUIRES: no (tenant, key) appears twice.
  virtual absl::StatusOr<std::vector<ClaimResult>> ClaimKeysAndLockAccounts(
      const std::vector<KeyClaim>& claims) = 0;
  // Writes several calls' write sets (in order; several may chain on one account) and
  // releases the claimed keys of calls that failed (`released`: (tenant, key) pairs claimed in
  // this transaction), so those keys stay free as after a failed single call. Errors as
  // Apply(). REQUIRES: no write set opens an account.
  virtual absl::Status ApplyMany(
      const std::vector<WriteSet>& writes,
      const std::vector<std::pair<std::string, std::string>>& released) = 0;
};

// What ApplyOptimistic did.
struct OptimisticResult {
  // True: claimed and written. False: the key was already recorded (stored record below).
  bool applied = false;
  std::string stored_operation;
  std::string stored_fingerprint;
  std::string stored_response;
};

// The account state after `writes` are applied to `before` (posted and pending balances,
// chain head, alert threshold). `before` is ignored when `writes` opens the account.
AccountState StateAfter(const AccountState& before, const WriteSet& writes);

struct TransferFilter {
  std::string account_id;
  std::vector<TransferKind> kinds;           // empty: all
  std::vector<UsageKind> usage_kinds;        // empty: all
  std::optional<absl::Time> created_after;   // inclusive
  std::optional<absl::Time> created_before;  // exclusive
  std::string reference;                     // empty: any
  std::string hold_id;                       // empty: any
  int64_t before_sequence = 0;               // keyset cursor: sequence < this (0: from the newest)
  int limit = 100;
};

struct UsageQuery {
  std::string account_id;
  absl::Time period_start;
  absl::Time period_end;
  Granularity granularity = Granularity::kUnspecified;
  std::vector<UsageKind> usage_kinds;  // empty: all
};

// The exclusive end of the usage bucket starting at `start` (UTC calendar for months; the
// period's end for Granularity::kUnspecified).
absl::Time UsageBucketEnd(absl::Time start, Granularity granularity, absl::Time period_end);

// A page of an account's audit chain with the transfer rows its entries name.
struct AuditRow {
  AuditEntry entry;
  std::optional<Transfer> transfer;
};

class LedgerStore {
 public:
  virtual ~LedgerStore() = default;

  using TransactionFn = std::function<absl::Status(LedgerTransaction&)>;
  // Runs `fn` in one transaction (see the file comment). `name` labels errors.
  virtual absl::Status Transact(const std::string& name, const TransactionFn& fn) = 0;

  // One round trip: claims the key and, if the account's chain head is still
  // `expected_sequence`, applies `writes` — all in one transaction. Aborted (and nothing
  // written, the key left free) when the account changed since the caller read it: the caller
  // then uses Transact. When the key was already recorded, returns it (applied = false).
  // REQUIRES: `writes` opens no account and settles no hold.
  virtual absl::StatusOr<OptimisticResult> ApplyOptimistic(const KeyClaim& claim,
                                                           int64_t expected_sequence,
                                                           const WriteSet& writes) = 0;

  // Reads (no lock). NotFound-free: nullopt when the tenant has no account.
  virtual absl::StatusOr<std::optional<AccountState>> GetTenantAccount(
      const std::string& tenant_id) = 0;
  // Newest first by sequence; at most filter.limit transfers.
  virtual absl::StatusOr<std::vector<Transfer>> ListTransfers(const TransferFilter& filter) = 0;
  // Consumption (CONSUME and CAPTURE, minus REFUND) per bucket and usage kind, ordered by
  // bucket start then usage kind; empty buckets omitted.
  virtual absl::StatusOr<std::vector<UsageBucket>> Usage(const UsageQuery& query) = 0;
  // Audit entries of `account_id` with sequence in [from, to] (to 0: no bound), ascending,
  // at most `limit`.
  virtual absl::StatusOr<std::vector<AuditRow>> ReadAudit(const std::string& account_id,
                                                          int64_t from_sequence,
                                                          int64_t to_sequence, int limit) = 0;
  // The HMAC of one entry (the anchor of a partial verification); NotFound when absent.
  virtual absl::StatusOr<std::string> AuditHmac(const std::string& account_id,
                                                int64_t sequence) = 0;
  // How many transfers of the account have a sequence in [from, to] (to 0: no bound).
  virtual absl::StatusOr<int64_t> CountTransfers(const std::string& account_id,
                                                 int64_t from_sequence, int64_t to_sequence) = 0;
  // Tenant accounts with a pending hold due at or before `now` (at most `limit`).
  virtual absl::StatusOr<std::vector<std::string>> AccountsWithDueHolds(absl::Time now,
                                                                        int limit) = 0;
  // Every tenant account's balance (for the balance gauge), at most `limit`, by tenant id.
  virtual absl::StatusOr<std::vector<AccountState>> ListTenantAccounts(int limit) = 0;
  // Deletes idempotency records created before `cutoff`, at most `limit`; returns how many.
  virtual absl::StatusOr<int64_t> DeleteIdempotencyKeysBefore(absl::Time cutoff, int limit) = 0;

  // Verifies the ledger's global invariants from scratch (tests and operators): balances sum
  // to zero; each balance equals the sum of its transfers; pending equals open holds; no
  // available balance below its overdraft; refunded totals match refunds; each transfer's
  // idempotency key has a complete record. Returns the violations found (empty: all hold).
  virtual absl::StatusOr<std::vector<std::string>> CheckInvariants() = 0;
};

}  // namespace shieldx::credits

#endif  // SHIELDX_SERVICES_CREDITS_LEDGER_STORE_H_
