#include "services/credits/ledger.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/base/check.h"
#include "libs/base/status_macros.h"
#include "services/credits/codec.h"

namespace shieldx::credits {
namespace {

absl::Status ReasonError(absl::StatusCode code, const char* reason, const std::string& message) {
  absl::Status s(code, absl::StrCat(message, " [", reason, "]"));
  s.SetPayload(kReasonPayloadUrl, absl::Cord(reason));
  return s;
}

std::string TenantAccountId(const std::string& tenant_id) {
  return absl::StrCat("tenant:", tenant_id);
}

absl::Status ValidateTenant(const std::string& tenant_id) {
  if (tenant_id.empty()) return absl::InvalidArgumentError("tenant_id: required");
  if (tenant_id.size() > kMaxTenantIdBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("tenant_id: at most ", kMaxTenantIdBytes, " bytes, got ", tenant_id.size()));
  }
  if (!absl::ascii_isalnum(static_cast<unsigned char>(tenant_id[0]))) {
    return absl::InvalidArgumentError("tenant_id: must start with a letter or digit");
  }
  for (unsigned char c : tenant_id) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_' && c != '.') {
      return absl::InvalidArgumentError(
          "tenant_id: only letters, digits, '-', '_' and '.' are allowed");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateKey(const std::string& key) {
  if (key.empty()) {
    return absl::InvalidArgumentError(
        "idempotency_key: required on every mutating call (a retry must reuse it)");
  }
  if (key.size() > kMaxIdempotencyKeyBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "idempotency_key: at most ", kMaxIdempotencyKeyBytes, " bytes, got ", key.size()));
  }
  for (unsigned char c : key) {
    if (c < 0x21 || c > 0x7e) {
      return absl::InvalidArgumentError("idempotency_key: printable ASCII without spaces only");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateText(const char* field, const std::string& value, std::size_t max) {
  if (value.size() > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": at most ", max, " bytes, got ", value.size()));
  }
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": control characters not allowed"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateAmount(const std::string& field, int64_t amount, int64_t min) {
  if (amount < min || amount > kMaxAmountCredits) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": must be between ", min, " and ",
                                                   kMaxAmountCredits, ", got ", amount));
  }
  return absl::OkStatus();
}

absl::Status ValidateUsageKind(const std::string& field, UsageKind kind) {
  const int k = static_cast<int>(kind);
  if (k < 1 || k > kMaxUsageKind) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": must be a known usage kind (1..", kMaxUsageKind, "), got ", k));
  }
  return absl::OkStatus();
}

absl::Status ValidateShortfall(ShortfallPolicy p) {
  const int v = static_cast<int>(p);
  if (v < 0 || v > 2) {
    return absl::InvalidArgumentError(absl::StrCat("shortfall_policy: unknown value ", v));
  }
  return absl::OkStatus();
}

absl::Status ValidateRecord(const std::string& field, const UsageRecord& r) {
  SHIELDX_RETURN_IF_ERROR(ValidateUsageKind(field + ".usage_kind", r.usage_kind));
  SHIELDX_RETURN_IF_ERROR(ValidateAmount(field + ".amount_credits", r.amount_credits, 1));
  if (r.quantity < 0 || r.quantity > kMaxQuantity) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".quantity: must be between 0 and ",
                                                   kMaxQuantity, ", got ", r.quantity));
  }
  SHIELDX_RETURN_IF_ERROR(
      ValidateText((field + ".reference").c_str(), r.reference, kMaxReferenceBytes));
  if (r.period_start.has_value() && r.period_end.has_value() && *r.period_end < *r.period_start) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".period_end: before period_start"));
  }
  return absl::OkStatus();
}

absl::Status ValidateMutation(const std::string& tenant_id, const std::string& key) {
  SHIELDX_RETURN_IF_ERROR(ValidateTenant(tenant_id));
  return ValidateKey(key);
}

absl::Status ValidateHoldId(const std::string& hold_id) {
  if (hold_id.empty()) return absl::InvalidArgumentError("hold_id: required");
  return ValidateText("hold_id", hold_id, kMaxIdBytes);
}

absl::Status AccountNotFound(const std::string& tenant_id) {
  return ReasonError(
      absl::StatusCode::kNotFound, kReasonAccountNotFound,
      absl::StrCat("tenant ", tenant_id, ": no credits account (OpenAccount first)"));
}

absl::Status Insufficient(const std::string& tenant_id, int64_t room, int64_t need) {
  return ReasonError(absl::StatusCode::kFailedPrecondition, kReasonInsufficientCredits,
                     absl::StrCat("tenant ", tenant_id, ": insufficient credits (have ", room,
                                  " including overdraft, need ", need, ")"));
}

std::string ResultLabel(const absl::Status& status) {
  if (status.ok()) return "ok";
  std::string reason = ReasonOf(status);
  if (!reason.empty()) return absl::AsciiStrToLower(reason);
  return absl::AsciiStrToLower(absl::StatusCodeToString(status.code()));
}

// The room left for spending: available plus overdraft.
int64_t Room(const AccountState& a) {
  return a.posted_credits - a.pending_credits + a.account.overdraft_limit_credits;
}

template <typename T>
absl::StatusOr<std::string> Encode(const T& value) {
  return CanonicalJson(value);
}

// The transfer that moves `amount` credits of one usage record from the tenant's account to
// revenue (Consume and ConsumeBatch).
Transfer ConsumeTransfer(std::string transfer_id, const std::string& tenant_id,
                         const std::string& account_id, int64_t amount, const UsageRecord& rec,
                         const std::string& idempotency_key, absl::Time now) {
  Transfer t;
  t.transfer_id = std::move(transfer_id);
  t.tenant_id = tenant_id;
  t.kind = TransferKind::kConsume;
  t.debit_account_id = account_id;
  t.credit_account_id = kRevenueAccountId;
  t.amount_credits = amount;
  t.usage_kind = rec.usage_kind;
  t.quantity = rec.quantity;
  t.reference = rec.reference;
  t.period_start = rec.period_start;
  t.period_end = rec.period_end;
  t.idempotency_key = idempotency_key;
  t.created_at = now;
  return t;
}

std::string FilterHash(const ListTransfersQuery& q) {
  std::string canonical;
  for (TransferKind k : q.kinds) absl::StrAppend(&canonical, "k", static_cast<int>(k), ",");
  for (UsageKind k : q.usage_kinds) absl::StrAppend(&canonical, "u", static_cast<int>(k), ",");
  absl::StrAppend(&canonical, "|",
                  q.created_after ? absl::ToUnixMicros(*q.created_after) : int64_t{-1}, "|",
                  q.created_before ? absl::ToUnixMicros(*q.created_before) : int64_t{-1}, "|",
                  q.reference.size(), ":", q.reference, "|", q.hold_id.size(), ":", q.hold_id);
  return HexEncode(Sha256(canonical).substr(0, 8));
}

}  // namespace

std::string ReasonOf(const absl::Status& status) {
  auto payload = status.GetPayload(kReasonPayloadUrl);
  return payload.has_value() ? std::string(*payload) : std::string();
}

std::string RandomIdGenerator::NewId(const std::string& prefix) {
  thread_local absl::BitGen gen;
  const uint64_t hi = absl::Uniform<uint64_t>(gen);
  const uint64_t lo = absl::Uniform<uint64_t>(gen);
  std::string raw(16, '\0');
  for (int i = 0; i < 8; ++i) {
    raw[i] = static_cast<char>(hi >> (8 * i));
    raw[8 + i] = static_cast<char>(lo >> (8 * i));
  }
  return prefix + HexEncode(raw);
}

Ledger::Ledger(LedgerStore* store, const AuditSigner* signer, const PaymentProviders* payments,
               Clock* clock, IdGenerator* ids, LedgerObserver* observer,
               const GroupCommitOptions& group_commit)
    : store_(store),
      signer_(signer),
      payments_(payments),
      clock_(clock),
      ids_(ids),
      observer_(observer) {
  SHIELDX_CHECK(store_ != nullptr && signer_ != nullptr && payments_ != nullptr &&
                clock_ != nullptr && ids_ != nullptr);
  SHIELDX_CHECK_OK(group_commit.Validate());
  if (group_commit.enabled()) {
    GroupCommitListener listener;
    if (observer_ != nullptr) {
      listener = [this](int calls, const std::string& result) {
        observer_->OnGroupCommit(calls, result);
      };
    }
    group_ = std::make_unique<GroupCommitter>(store_, clock_, group_commit, std::move(listener));
  }
}

Ledger::~Ledger() { group_.reset(); }

// ---- the mutation protocol ----------------------------------------------------------------

namespace {

// The fast path's decisions read nothing from the store.
class NoReads final : public LedgerTransaction {
 public:
  absl::StatusOr<ClaimResult> ClaimKeyAndLockAccount(const KeyClaim&) override { return No(); }
  absl::StatusOr<std::optional<AccountState>> LockAccount(const std::string&, bool) override {
    return No();
  }
  absl::StatusOr<std::optional<Hold>> GetHold(const std::string&, const std::string&) override {
    return No();
  }
  absl::StatusOr<std::vector<Hold>> DueHolds(const std::string&, absl::Time, int) override {
    return No();
  }
  absl::StatusOr<std::optional<Transfer>> GetTransfer(const std::string&,
                                                      const std::string&) override {
    return No();
  }
  absl::StatusOr<bool> PaymentRecorded(const std::string&, const std::string&) override {
    return No();
  }
  absl::Status Apply(const WriteSet&) override { return No(); }
  absl::StatusOr<std::vector<ClaimResult>> ClaimKeysAndLockAccounts(
      const std::vector<KeyClaim>&) override {
    return No();
  }
  absl::Status ApplyMany(const std::vector<WriteSet>&,
                         const std::vector<std::pair<std::string, std::string>>&) override {
    return No();
  }

 private:
  static absl::Status No() {
    return absl::InternalError("credits: no store reads on the fast path");
  }
};

}  // namespace

std::optional<AccountState> Ledger::AccountCache::Get(const std::string& tenant_id) {
  absl::MutexLock lock(&mu_);
  auto it = map_.find(tenant_id);
  if (it == map_.end()) return std::nullopt;
  return it->second;
}

void Ledger::AccountCache::Put(const std::string& tenant_id, const AccountState& state) {
  absl::MutexLock lock(&mu_);
  auto it = map_.find(tenant_id);
  if (it != map_.end()) {
    if (it->second.sequence <= state.sequence) it->second = state;
    return;
  }
  if (map_.size() >= kMaxCachedAccounts) map_.clear();
  map_.emplace(tenant_id, state);
}

AccountState StateAfter(const AccountState& before, const WriteSet& w) {
  AccountState a = before;
  if (w.new_account.has_value()) {
    a = AccountState();
    a.account = *w.new_account;
  }
  if (w.account_id.empty()) return a;
  const std::string& id = a.account.account_id;
  for (const Transfer& t : w.transfers) {
    if (!IsPosting(t.kind)) continue;
    if (t.credit_account_id == id) a.posted_credits += t.amount_credits;
    if (t.debit_account_id == id) a.posted_credits -= t.amount_credits;
  }
  for (const Hold& h : w.new_holds) a.pending_credits += h.amount_credits;
  for (const HoldSettlement& h : w.settled_holds) a.pending_credits -= h.released_credits;
  a.sequence = w.head_sequence;
  a.head_hmac = w.head_hmac;
  if (w.new_alert_threshold_credits.has_value()) {
    a.account.alert_threshold_credits = *w.new_alert_threshold_credits;
  }
  return a;
}

absl::StatusOr<Ledger::Outcome> Ledger::Replay(
    const std::string& operation, const std::string& tenant_id, const std::string& idempotency_key,
    const std::string& fingerprint, const std::string& stored_operation,
    const std::string& stored_fingerprint, std::string stored_response) {
  if (stored_operation != operation || stored_fingerprint != fingerprint) {
    return ReasonError(
        absl::StatusCode::kAlreadyExists, kReasonIdempotencyKeyReused,
        absl::StrCat("tenant ", tenant_id, ": idempotency key \"", idempotency_key,
                     "\" was already used for a different ", stored_operation, " request"));
  }
  if (stored_response.empty()) {
    return absl::DataLossError(absl::StrCat("tenant ", tenant_id, ": idempotency key \"",
                                            idempotency_key, "\" has no stored response"));
  }
  Outcome out;
  out.response = std::move(stored_response);
  out.replayed = true;
  return out;
}

absl::StatusOr<std::optional<Ledger::Outcome>> Ledger::TryFast(const std::string& operation,
                                                               const std::string& tenant_id,
                                                               const std::string& idempotency_key,
                                                               const std::string& fingerprint,
                                                               const DecideFn& decide) {
  std::optional<AccountState> cached = cache_.Get(tenant_id);
  if (!cached.has_value()) return std::optional<Outcome>();
  NoReads none;
  WriteSet writes;
  std::string response;
  // A refusal on cached state may be stale (a top-up on another replica): decide again under
  // the lock instead of answering it.
  if (!decide(none, cached, writes, response).ok()) return std::optional<Outcome>();
  writes.tenant_id = tenant_id;
  writes.idempotency_key = idempotency_key;
  writes.response = response;
  KeyClaim claim{tenant_id, idempotency_key, operation, fingerprint, clock_->Now()};
  absl::StatusOr<OptimisticResult> r = store_->ApplyOptimistic(claim, cached->sequence, writes);
  if (!r.ok()) {
    if (r.status().code() == absl::StatusCode::kAborted) return std::optional<Outcome>();
    return r.status();
  }
  if (!r->applied) {
    SHIELDX_ASSIGN_OR_RETURN(
        Outcome replay,
        Replay(operation, tenant_id, idempotency_key, fingerprint, r->stored_operation,
               r->stored_fingerprint, std::move(r->stored_response)));
    return std::optional<Outcome>(std::move(replay));
  }
  cache_.Put(tenant_id, StateAfter(*cached, writes));
  Outcome out;
  out.response = std::move(response);
  out.available_before = cached->posted_credits - cached->pending_credits;
  return std::optional<Outcome>(std::move(out));
}

absl::StatusOr<Ledger::Outcome> Ledger::Mutate(const std::string& operation,
                                               const std::string& tenant_id,
                                               const std::string& idempotency_key,
                                               const std::string& fingerprint,
                                               const DecideFn& decide, MutateOptions options) {
  if (group_ != nullptr && options.group) {
    std::optional<absl::StatusOr<Outcome>> grouped =
        MutateInGroup(operation, tenant_id, idempotency_key, fingerprint, decide, options);
    if (grouped.has_value()) return *std::move(grouped);
  } else if (options.fast) {
    SHIELDX_ASSIGN_OR_RETURN(std::optional<Outcome> quick,
                             TryFast(operation, tenant_id, idempotency_key, fingerprint, decide));
    if (quick.has_value()) return *std::move(quick);
  }
  Outcome outcome;
  std::optional<AccountState> after;
  absl::Status status = store_->Transact(operation, [&](LedgerTransaction& tx) -> absl::Status {
    outcome = Outcome();
    after.reset();
    KeyClaim claim{tenant_id, idempotency_key, operation, fingerprint, clock_->Now()};
    SHIELDX_ASSIGN_OR_RETURN(ClaimResult claimed, tx.ClaimKeyAndLockAccount(claim));
    if (!claimed.claimed) {
      SHIELDX_ASSIGN_OR_RETURN(outcome, Replay(operation, tenant_id, idempotency_key, fingerprint,
                                               claimed.stored_operation, claimed.stored_fingerprint,
                                               std::move(claimed.stored_response)));
      return absl::OkStatus();
    }
    if (claimed.account.has_value()) {
      outcome.available_before = claimed.account->posted_credits - claimed.account->pending_credits;
    }
    WriteSet writes;
    SHIELDX_RETURN_IF_ERROR(decide(tx, claimed.account, writes, outcome.response));
    writes.tenant_id = tenant_id;
    writes.idempotency_key = idempotency_key;
    writes.response = outcome.response;
    SHIELDX_RETURN_IF_ERROR(tx.Apply(writes));
    if (claimed.account.has_value() || writes.new_account.has_value()) {
      after = StateAfter(claimed.account.value_or(AccountState()), writes);
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  if (after.has_value()) cache_.Put(tenant_id, *after);
  return outcome;
}

std::optional<absl::StatusOr<Ledger::Outcome>> Ledger::MutateInGroup(
    const std::string& operation, const std::string& tenant_id, const std::string& idempotency_key,
    const std::string& fingerprint, const DecideFn& decide, const MutateOptions& options) {
  GroupCall call{operation, tenant_id,           idempotency_key, fingerprint,
                 &decide,   options.reads_store, options.records};
  std::optional<absl::StatusOr<GroupResult>> r = group_->Run(call);
  if (!r.has_value()) return std::nullopt;
  return FromGroup(operation, tenant_id, idempotency_key, fingerprint, *std::move(r));
}

absl::StatusOr<Ledger::Outcome> Ledger::FromGroup(const std::string& operation,
                                                  const std::string& tenant_id,
                                                  const std::string& idempotency_key,
                                                  const std::string& fingerprint,
                                                  absl::StatusOr<GroupResult> r) {
  if (!r.ok()) return r.status();
  GroupResult& g = *r;
  if (!g.claimed) {
    return Replay(operation, tenant_id, idempotency_key, fingerprint, g.stored_operation,
                  g.stored_fingerprint, std::move(g.stored_response));
  }
  if (g.after.has_value()) cache_.Put(tenant_id, *g.after);
  Outcome out;
  out.response = std::move(g.response);
  if (g.before.has_value()) {
    out.available_before = g.before->posted_credits - g.before->pending_credits;
  }
  return out;
}

template <typename Result>
absl::StatusOr<Result> Ledger::Finish(const std::string& operation, const std::string& tenant_id,
                                      absl::StatusOr<Outcome> outcome,
                                      const std::function<void(const Result&)>& on_applied) {
  if (!outcome.ok()) {
    if (observer_ != nullptr) observer_->OnOperation(operation, ResultLabel(outcome.status()));
    return outcome.status();
  }
  Result result;
  if (absl::Status s = FromJson(outcome->response, &result); !s.ok()) {
    if (observer_ != nullptr) observer_->OnOperation(operation, ResultLabel(s));
    return s;
  }
  if (observer_ == nullptr) return result;
  observer_->OnOperation(operation, outcome->replayed ? "replayed" : "ok");
  if (outcome->replayed) return result;
  if (on_applied) on_applied(result);
  const Balance& b = result.balance;
  observer_->OnBalance(tenant_id, b);
  if (b.alert_threshold_credits > 0 && b.available_credits < b.alert_threshold_credits &&
      outcome->available_before.has_value() &&
      *outcome->available_before >= b.alert_threshold_credits) {
    observer_->OnLowBalance(tenant_id, b);
  }
  return result;
}

WriteSet Ledger::StartWrites(const AccountState& account, const std::string& tenant_id,
                             const std::string& idempotency_key) {
  WriteSet w;
  w.account_id = account.account.account_id;
  w.head_sequence = account.sequence;
  w.head_hmac = account.head_hmac;
  w.tenant_id = tenant_id;
  w.idempotency_key = idempotency_key;
  return w;
}

void Ledger::AppendTransfer(Transfer t, WriteSet& writes) const {
  t.sequence = writes.head_sequence + 1;
  t.account_id = writes.account_id;
  AuditEntry e = signer_->MakeEntry(writes.account_id, t.sequence, writes.head_hmac, kEntryTransfer,
                                    t.transfer_id, TransferPayload(t));
  writes.head_sequence = e.sequence;
  writes.head_hmac = e.hmac;
  writes.audit.push_back(std::move(e));
  writes.transfers.push_back(std::move(t));
}

Balance Ledger::MakeBalance(const AccountState& state, int64_t posted, int64_t pending,
                            int64_t sequence) const {
  Balance b;
  b.account_id = state.account.account_id;
  b.posted_credits = posted;
  b.pending_credits = pending;
  b.available_credits = posted - pending;
  b.overdraft_limit_credits = state.account.overdraft_limit_credits;
  b.alert_threshold_credits = state.account.alert_threshold_credits;
  b.below_alert_threshold =
      b.alert_threshold_credits > 0 && b.available_credits < b.alert_threshold_credits;
  b.sequence = sequence;
  b.as_of = clock_->Now();
  return b;
}

// ---- accounts -----------------------------------------------------------------------------

absl::StatusOr<OpenAccountResult> Ledger::OpenAccount(const OpenAccountCommand& cmd) {
  const std::string op = "open_account";
  auto run = [&]() -> absl::StatusOr<Outcome> {
    SHIELDX_RETURN_IF_ERROR(ValidateMutation(cmd.tenant_id, cmd.idempotency_key));
    if (cmd.overdraft_limit_credits < 0 || cmd.overdraft_limit_credits > kMaxOverdraftCredits) {
      return absl::InvalidArgumentError(
          absl::StrCat("overdraft_limit_credits: must be between 0 and ", kMaxOverdraftCredits,
                       ", got ", cmd.overdraft_limit_credits));
    }
    SHIELDX_RETURN_IF_ERROR(
        ValidateAmount("alert_threshold_credits", cmd.alert_threshold_credits, 0));
    const std::string fp = Fingerprint(op, cmd);
    auto decide = [&](LedgerTransaction&, const std::optional<AccountState>& existing, WriteSet& w,
                      std::string& response) -> absl::Status {
      OpenAccountResult r;
      if (existing.has_value()) {
        const Account& a = existing->account;
        if (a.overdraft_limit_credits != cmd.overdraft_limit_credits ||
            a.alert_threshold_credits != cmd.alert_threshold_credits) {
          return ReasonError(
              absl::StatusCode::kAlreadyExists, kReasonAccountExists,
              absl::StrCat("tenant ", cmd.tenant_id, ": account already open with overdraft ",
                           a.overdraft_limit_credits, " and alert threshold ",
                           a.alert_threshold_credits));
        }
        r.account = a;
        r.balance = MakeBalance(*existing, existing->posted_credits, existing->pending_credits,
                                existing->sequence);
      } else {
        AccountState fresh;
        fresh.account = Account{TenantAccountId(cmd.tenant_id), cmd.tenant_id,
                                AccountKind::kTenant,           cmd.overdraft_limit_credits,
                                cmd.alert_threshold_credits,    clock_->Now()};
        w = StartWrites(fresh, cmd.tenant_id, cmd.idempotency_key);
        w.new_account = fresh.account;
        AuditEntry e = signer_->MakeEntry(w.account_id, 1, "", kEntryAccountOpened, "",
                                          AccountOpenedPayload(fresh.account));
        w.head_sequence = 1;
        w.head_hmac = e.hmac;
        w.audit.push_back(std::move(e));
        r.account = fresh.account;
        r.balance = MakeBalance(fresh, 0, 0, 1);
      }
      SHIELDX_ASSIGN_OR_RETURN(response, Encode(r));
      return absl::OkStatus();
    };
    absl::StatusOr<Outcome> out =
        Mutate(op, cmd.tenant_id, cmd.idempotency_key, fp, decide, {.group = false});
    // Two first opens raced with different keys: the loser sees the winner's account now.
    if (!out.ok() && out.status().code() == absl::StatusCode::kAlreadyExists &&
        ReasonOf(out.status()).empty()) {
      out = Mutate(op, cmd.tenant_id, cmd.idempotency_key, fp, decide, {.group = false});
    }
    return out;
  };
  return Finish<OpenAccountResult>(op, cmd.tenant_id, run());
}

absl::StatusOr<Balance> Ledger::GetBalance(const std::string& tenant_id) {
  SHIELDX_RETURN_IF_ERROR(ValidateTenant(tenant_id));
  SHIELDX_ASSIGN_OR_RETURN(std::optional<AccountState> a, store_->GetTenantAccount(tenant_id));
  if (!a.has_value()) return AccountNotFound(tenant_id);
  cache_.Put(tenant_id, *a);
  return MakeBalance(*a, a->posted_credits, a->pending_credits, a->sequence);
}

absl::StatusOr<SetAlertThresholdResult> Ledger::SetAlertThreshold(
    const SetAlertThresholdCommand& cmd) {
  const std::string op = "set_alert_threshold";
  auto run = [&]() -> absl::StatusOr<Outcome> {
    SHIELDX_RETURN_IF_ERROR(ValidateMutation(cmd.tenant_id, cmd.idempotency_key));
    SHIELDX_RETURN_IF_ERROR(ValidateAmount("threshold_credits", cmd.threshold_credits, 0));
    return Mutate(
        op, cmd.tenant_id, cmd.idempotency_key, Fingerprint(op, cmd),
        [&](LedgerTransaction&, const std::optional<AccountState>& a, WriteSet& w,
            std::string& response) -> absl::Status {
          if (!a.has_value()) return AccountNotFound(cmd.tenant_id);
          w = StartWrites(*a, cmd.tenant_id, cmd.idempotency_key);
          const absl::Time now = clock_->Now();
          AuditEntry e = signer_->MakeEntry(
              w.account_id, w.head_sequence + 1, w.head_hmac, kEntryAlertThresholdSet, "",
              AlertThresholdPayload(w.account_id, cmd.threshold_credits, cmd.idempotency_key, now));
          w.head_sequence = e.sequence;
          w.head_hmac = e.hmac;
          w.audit.push_back(std::move(e));
          w.new_alert_threshold_credits = cmd.threshold_credits;
          AccountState after = *a;
          after.account.alert_threshold_credits = cmd.threshold_credits;
          SetAlertThresholdResult r;
          r.account = after.account;
          r.balance = MakeBalance(after, a->posted_credits, a->pending_credits, w.head_sequence);
          SHIELDX_ASSIGN_OR_RETURN(response, Encode(r));
          return absl::OkStatus();
        });
  };
  return Finish<SetAlertThresholdResult>(op, cmd.tenant_id, run());
}

// ---- movements ----------------------------------------------------------------------------

absl::StatusOr<TopUpResult> Ledger::TopUp(const TopUpCommand& cmd) {
  const std::string op = "top_up";
  auto run = [&]() -> absl::StatusOr<Outcome> {
    SHIELDX_RETURN_IF_ERROR(ValidateMutation(cmd.tenant_id, cmd.idempotency_key));
    SHIELDX_RETURN_IF_ERROR(ValidateAmount("amount_credits", cmd.amount_credits, 1));
    SHIELDX_ASSIGN_OR_RETURN(const PaymentProvider* provider,
                             payments_->Find(cmd.payment.provider));
    SHIELDX_ASSIGN_OR_RETURN(PaymentPlan plan, provider->Plan(cmd.payment, cmd.amount_credits));
    return Mutate(
        op, cmd.tenant_id, cmd.idempotency_key, Fingerprint(op, cmd),
        [&](LedgerTransaction& tx, const std::optional<AccountState>& a, WriteSet& w,
            std::string& response) -> absl::Status {
          if (!a.has_value()) return AccountNotFound(cmd.tenant_id);
          if (a->posted_credits > kMaxBalanceCredits - cmd.amount_credits) {
            return ReasonError(absl::StatusCode::kFailedPrecondition, kReasonBalanceLimit,
                               absl::StrCat("tenant ", cmd.tenant_id, ": balance ",
                                            a->posted_credits, " + top-up ", cmd.amount_credits,
                                            " would exceed ", kMaxBalanceCredits));
          }
          if (plan.reference_unique) {
            SHIELDX_ASSIGN_OR_RETURN(
                bool seen, tx.PaymentRecorded(provider->name(), cmd.payment.external_reference));
            if (seen) {
              return ReasonError(
                  absl::StatusCode::kAlreadyExists, kReasonPaymentAlreadyRecorded,
                  absl::StrCat("payment ", provider->name(), " \"", cmd.payment.external_reference,
                               "\" is already recorded"));
            }
          }
          w = StartWrites(*a, cmd.tenant_id, cmd.idempotency_key);
          Transfer t;
          t.transfer_id = ids_->NewId("tr_");
          t.tenant_id = cmd.tenant_id;
          t.kind = TransferKind::kTopUp;
          t.debit_account_id = plan.source_account_id;
          t.credit_account_id = a->account.account_id;
          t.amount_credits = cmd.amount_credits;
          t.payment = cmd.payment;
          t.payment_reference_unique = plan.reference_unique;
          t.idempotency_key = cmd.idempotency_key;
          t.created_at = clock_->Now();
          AppendTransfer(std::move(t), w);
          TopUpResult r;
          r.transfer = w.transfers.back();
          r.balance = MakeBalance(*a, a->posted_credits + cmd.amount_credits, a->pending_credits,
                                  w.head_sequence);
          SHIELDX_ASSIGN_OR_RETURN(response, Encode(r));
          return absl::OkStatus();
        },
        MutateOptions{.reads_store = plan.reference_unique});
  };
  return Finish<TopUpResult>(op, cmd.tenant_id, run());
}

absl::Status Ledger::ValidateConsume(const ConsumeCommand& cmd) {
  SHIELDX_RETURN_IF_ERROR(ValidateMutation(cmd.tenant_id, cmd.idempotency_key));
  SHIELDX_RETURN_IF_ERROR(ValidateRecord("record", cmd.record));
  return ValidateShortfall(cmd.shortfall_policy);
}

Ledger::DecideFn Ledger::ConsumeDecision(const ConsumeCommand& cmd) {
  return [this, &cmd](LedgerTransaction&, const std::optional<AccountState>& a, WriteSet& w,
                      std::string& response) -> absl::Status {
    if (!a.has_value()) return AccountNotFound(cmd.tenant_id);
    const int64_t room = std::max<int64_t>(0, Room(*a));
    int64_t amount = cmd.record.amount_credits;
    if (amount > room) {
      if (cmd.shortfall_policy != ShortfallPolicy::kCap) {
        return Insufficient(cmd.tenant_id, room, amount);
      }
      amount = room;
    }
    w = StartWrites(*a, cmd.tenant_id, cmd.idempotency_key);
    ConsumeResult r;
    r.shortfall_credits = cmd.record.amount_credits - amount;
    if (amount > 0) {
      AppendTransfer(ConsumeTransfer(ids_->NewId("tr_"), cmd.tenant_id, a->account.account_id,
                                     amount, cmd.record, cmd.idempotency_key, clock_->Now()),
                     w);
      r.transfer = w.transfers.back();
    }
    r.balance = MakeBalance(*a, a->posted_credits - amount, a->pending_credits, w.head_sequence);
    SHIELDX_ASSIGN_OR_RETURN(response, Encode(r));
    return absl::OkStatus();
  };
}

absl::StatusOr<ConsumeResult> Ledger::FinishConsume(const ConsumeCommand& cmd,
                                                    absl::StatusOr<Outcome> outcome) {
  return Finish<ConsumeResult>(
      "consume", cmd.tenant_id, std::move(outcome), [&](const ConsumeResult& r) {
        if (r.transfer.amount_credits > 0) {
          observer_->OnConsumed(cmd.record.usage_kind, r.transfer.amount_credits);
        }
      });
}

absl::StatusOr<ConsumeResult> Ledger::Consume(const ConsumeCommand& cmd) {
  auto run = [&]() -> absl::StatusOr<Outcome> {
    SHIELDX_RETURN_IF_ERROR(ValidateConsume(cmd));
    return Mutate("consume", cmd.tenant_id, cmd.idempotency_key, Fingerprint("consume", cmd),
                  ConsumeDecision(cmd), MutateOptions{.fast = true});
  };
  return FinishConsume(cmd, run());
}

void Ledger::ConsumeAsync(ConsumeCommand cmd, ConsumeCallback done) {
  SHIELDX_CHECK(done != nullptr);
  if (absl::Status s = ValidateConsume(cmd); !s.ok()) {
    done(FinishConsume(cmd, s));
    return;
  }
  if (group_ == nullptr) {
    done(Consume(cmd));
    return;
  }
  // Owns what the queued call refers to until its group has finished.
  struct Pending {
    ConsumeCommand cmd;
    std::string fingerprint;
    DecideFn decide;
    ConsumeCallback done;
  };
  auto p = std::make_shared<Pending>();
  p->cmd = std::move(cmd);
  p->fingerprint = Fingerprint("consume", p->cmd);
  p->decide = ConsumeDecision(p->cmd);
  p->done = std::move(done);
  GroupCall call{"consume", p->cmd.tenant_id, p->cmd.idempotency_key, p->fingerprint, &p->decide};
  const bool queued = group_->Submit(call, [this, p](absl::StatusOr<GroupResult> r) {
    p->done(FinishConsume(p->cmd, FromGroup("consume", p->cmd.tenant_id, p->cmd.idempotency_key,
                                            p->fingerprint, std::move(r))));
  });
  if (!queued) p->done(Consume(p->cmd));  // queue full or stopping: commit on its own
}

absl::StatusOr<ConsumeBatchResult> Ledger::ConsumeBatch(const ConsumeBatchCommand& cmd) {
  const std::string op = "consume_batch";
  auto run = [&]() -> absl::StatusOr<Outcome> {
    SHIELDX_RETURN_IF_ERROR(ValidateMutation(cmd.tenant_id, cmd.idempotency_key));
    if (cmd.records.empty() || cmd.records.size() > kMaxBatchRecords) {
      return absl::InvalidArgumentError(absl::StrCat("records: between 1 and ", kMaxBatchRecords,
                                                     " usage records, got ", cmd.records.size()));
    }
    int64_t total = 0;
    for (std::size_t i = 0; i < cmd.records.size(); ++i) {
      SHIELDX_RETURN_IF_ERROR(ValidateRecord(absl::StrCat("records[", i, "]"), cmd.records[i]));
      total += cmd.records[i].amount_credits;  // <= 10^4 * 10^12: no overflow
    }
    SHIELDX_RETURN_IF_ERROR(ValidateShortfall(cmd.shortfall_policy));
    return Mutate(
        op, cmd.tenant_id, cmd.idempotency_key, Fingerprint(op, cmd),
        [&, total](LedgerTransaction&, const std::optional<AccountState>& a, WriteSet& w,
                   std::string& response) -> absl::Status {
          if (!a.has_value()) return AccountNotFound(cmd.tenant_id);
          int64_t room = std::max<int64_t>(0, Room(*a));
          if (total > room && cmd.shortfall_policy != ShortfallPolicy::kCap) {
            return Insufficient(cmd.tenant_id, room, total);
          }
          w = StartWrites(*a, cmd.tenant_id, cmd.idempotency_key);
          w.transfers.reserve(cmd.records.size());
          w.audit.reserve(cmd.records.size());
          const absl::Time now = clock_->Now();
          ConsumeBatchResult r;
          for (const UsageRecord& rec : cmd.records) {
            const int64_t amount = std::min(rec.amount_credits, room);
            room -= amount;
            r.shortfall_credits += rec.amount_credits - amount;
            if (amount == 0) continue;
            AppendTransfer(ConsumeTransfer(ids_->NewId("tr_"), cmd.tenant_id, a->account.account_id,
                                           amount, rec, cmd.idempotency_key, now),
                           w);
            r.consumed_credits += amount;
            ++r.applied_records;
          }
          r.last_sequence = w.head_sequence;
          r.balance = MakeBalance(*a, a->posted_credits - r.consumed_credits, a->pending_credits,
                                  w.head_sequence);
          SHIELDX_ASSIGN_OR_RETURN(response, Encode(r));
          return absl::OkStatus();
        },
        MutateOptions{.fast = true, .records = static_cast<int64_t>(cmd.records.size())});
  };
  return Finish<ConsumeBatchResult>(op, cmd.tenant_id, run(), [&](const ConsumeBatchResult& r) {
    // Replays the in-order allocation of the decision to split the total by usage kind.
    std::map<UsageKind, int64_t> by_kind;
    int64_t left = r.consumed_credits;
    for (const UsageRecord& rec : cmd.records) {
      const int64_t amount = std::min(rec.amount_credits, left);
      left -= amount;
      if (amount > 0) by_kind[rec.usage_kind] += amount;
    }
    for (const auto& [kind, credits] : by_kind) observer_->OnConsumed(kind, credits);
  });
}

absl::StatusOr<ReserveResult> Ledger::Reserve(const ReserveCommand& cmd) {
  const std::string op = "reserve";
  auto run = [&]() -> absl::StatusOr<Outcome> {
    SHIELDX_RETURN_IF_ERROR(ValidateMutation(cmd.tenant_id, cmd.idempotency_key));
    SHIELDX_RETURN_IF_ERROR(ValidateAmount("amount_credits", cmd.amount_credits, 1));
    if (cmd.ttl < kMinHoldTtl || cmd.ttl > kMaxHoldTtl) {
      return absl::InvalidArgumentError(absl::StrCat(
          "ttl_ms: must be between ", absl::ToInt64Milliseconds(kMinHoldTtl), " and ",
          absl::ToInt64Milliseconds(kMaxHoldTtl), ", got ", absl::ToInt64Milliseconds(cmd.ttl)));
    }
    SHIELDX_RETURN_IF_ERROR(ValidateUsageKind("usage_kind", cmd.usage_kind));
    SHIELDX_RETURN_IF_ERROR(ValidateText("reference", cmd.reference, kMaxReferenceBytes));
    return Mutate(
        op, cmd.tenant_id, cmd.idempotency_key, Fingerprint(op, cmd),
        [&](LedgerTransaction&, const std::optional<AccountState>& a, WriteSet& w,
            std::string& response) -> absl::Status {
          if (!a.has_value()) return AccountNotFound(cmd.tenant_id);
          const int64_t room = std::max<int64_t>(0, Room(*a));
          if (cmd.amount_credits > room)
            return Insufficient(cmd.tenant_id, room, cmd.amount_credits);
          w = StartWrites(*a, cmd.tenant_id, cmd.idempotency_key);
          const absl::Time now = clock_->Now();
          Hold h;
          h.hold_id = ids_->NewId("hd_");
          h.tenant_id = cmd.tenant_id;
          h.account_id = a->account.account_id;
          h.amount_credits = cmd.amount_credits;
          h.state = HoldState::kPending;
          h.usage_kind = cmd.usage_kind;
          h.reference = cmd.reference;
          h.expires_at = now + cmd.ttl;
          h.created_at = now;
          w.new_holds.push_back(h);
          Transfer t;
          t.transfer_id = ids_->NewId("tr_");
          t.tenant_id = cmd.tenant_id;
          t.kind = TransferKind::kReserve;
          t.debit_account_id = a->account.account_id;
          t.credit_account_id = kRevenueAccountId;
          t.amount_credits = cmd.amount_credits;
          t.usage_kind = cmd.usage_kind;
          t.reference = cmd.reference;
          t.hold_id = h.hold_id;
          t.idempotency_key = cmd.idempotency_key;
          t.created_at = now;
          AppendTransfer(std::move(t), w);
          ReserveResult r;
          r.hold = h;
          r.transfer = w.transfers.back();
          r.balance = MakeBalance(*a, a->posted_credits, a->pending_credits + cmd.amount_credits,
                                  w.head_sequence);
          SHIELDX_ASSIGN_OR_RETURN(response, Encode(r));
          return absl::OkStatus();
        },
        MutateOptions{.fast = true});
  };
  return Finish<ReserveResult>(op, cmd.tenant_id, run());
}

namespace {

// The pending hold `hold_id` of the locked account, or the reason it cannot be settled.
absl::StatusOr<Hold> PendingHold(LedgerTransaction& tx, const AccountState& a,
                                 const std::string& hold_id, absl::Time now) {
  SHIELDX_ASSIGN_OR_RETURN(std::optional<Hold> h, tx.GetHold(a.account.account_id, hold_id));
  if (!h.has_value()) {
    return ReasonError(
        absl::StatusCode::kNotFound, kReasonHoldNotFound,
        absl::StrCat("tenant ", a.account.tenant_id, ": hold ", hold_id, " not found"));
  }
  if (h->state != HoldState::kPending) {
    return ReasonError(absl::StatusCode::kFailedPrecondition, kReasonHoldNotPending,
                       absl::StrCat("hold ", hold_id, " is no longer pending (state ",
                                    static_cast<int>(h->state), ")"));
  }
  if (h->expires_at <= now) {
    return ReasonError(absl::StatusCode::kFailedPrecondition, kReasonHoldExpired,
                       absl::StrCat("hold ", hold_id, " expired at ",
                                    absl::FormatTime(h->expires_at), " and is being released"));
  }
  return *h;
}

}  // namespace

absl::StatusOr<CaptureResult> Ledger::Capture(const CaptureCommand& cmd) {
  const std::string op = "capture";
  auto run = [&]() -> absl::StatusOr<Outcome> {
    SHIELDX_RETURN_IF_ERROR(ValidateMutation(cmd.tenant_id, cmd.idempotency_key));
    SHIELDX_RETURN_IF_ERROR(ValidateHoldId(cmd.hold_id));
    SHIELDX_RETURN_IF_ERROR(ValidateAmount("amount_credits", cmd.amount_credits, 1));
    if (cmd.quantity < 0 || cmd.quantity > kMaxQuantity) {
      return absl::InvalidArgumentError(
          absl::StrCat("quantity: must be between 0 and ", kMaxQuantity, ", got ", cmd.quantity));
    }
    return Mutate(
        op, cmd.tenant_id, cmd.idempotency_key, Fingerprint(op, cmd),
        [&](LedgerTransaction& tx, const std::optional<AccountState>& a, WriteSet& w,
            std::string& response) -> absl::Status {
          if (!a.has_value()) return AccountNotFound(cmd.tenant_id);
          const absl::Time now = clock_->Now();
          SHIELDX_ASSIGN_OR_RETURN(Hold h, PendingHold(tx, *a, cmd.hold_id, now));
          if (cmd.amount_credits > h.amount_credits) {
            return ReasonError(absl::StatusCode::kFailedPrecondition, kReasonCaptureExceedsHold,
                               absl::StrCat("hold ", h.hold_id, ": capture ", cmd.amount_credits,
                                            " exceeds the ", h.amount_credits, " reserved"));
          }
          w = StartWrites(*a, cmd.tenant_id, cmd.idempotency_key);
          w.settled_holds.push_back(
              {h.hold_id, HoldState::kCaptured, cmd.amount_credits, h.amount_credits, now});
          Transfer t;
          t.transfer_id = ids_->NewId("tr_");
          t.tenant_id = cmd.tenant_id;
          t.kind = TransferKind::kCapture;
          t.debit_account_id = a->account.account_id;
          t.credit_account_id = kRevenueAccountId;
          t.amount_credits = cmd.amount_credits;
          t.usage_kind = h.usage_kind;
          t.quantity = cmd.quantity;
          t.reference = h.reference;
          t.hold_id = h.hold_id;
          t.idempotency_key = cmd.idempotency_key;
          t.created_at = now;
          AppendTransfer(std::move(t), w);
          CaptureResult r;
          r.hold = h;
          r.hold.state = HoldState::kCaptured;
          r.hold.captured_credits = cmd.amount_credits;
          r.hold.settled_at = now;
          r.transfer = w.transfers.back();
          r.balance = MakeBalance(*a, a->posted_credits - cmd.amount_credits,
                                  a->pending_credits - h.amount_credits, w.head_sequence);
          SHIELDX_ASSIGN_OR_RETURN(response, Encode(r));
          return absl::OkStatus();
        },
        MutateOptions{.reads_store = true});
  };
  return Finish<CaptureResult>(op, cmd.tenant_id, run(), [&](const CaptureResult& r) {
    observer_->OnConsumed(r.transfer.usage_kind, r.transfer.amount_credits);
  });
}

absl::StatusOr<VoidResult> Ledger::Void(const VoidCommand& cmd) {
  const std::string op = "void";
  auto run = [&]() -> absl::StatusOr<Outcome> {
    SHIELDX_RETURN_IF_ERROR(ValidateMutation(cmd.tenant_id, cmd.idempotency_key));
    SHIELDX_RETURN_IF_ERROR(ValidateHoldId(cmd.hold_id));
    SHIELDX_RETURN_IF_ERROR(ValidateText("reason", cmd.reason, kMaxReasonBytes));
    return Mutate(
        op, cmd.tenant_id, cmd.idempotency_key, Fingerprint(op, cmd),
        [&](LedgerTransaction& tx, const std::optional<AccountState>& a, WriteSet& w,
            std::string& response) -> absl::Status {
          if (!a.has_value()) return AccountNotFound(cmd.tenant_id);
          const absl::Time now = clock_->Now();
          SHIELDX_ASSIGN_OR_RETURN(Hold h, PendingHold(tx, *a, cmd.hold_id, now));
          w = StartWrites(*a, cmd.tenant_id, cmd.idempotency_key);
          w.settled_holds.push_back({h.hold_id, HoldState::kVoided, 0, h.amount_credits, now});
          Transfer t;
          t.transfer_id = ids_->NewId("tr_");
          t.tenant_id = cmd.tenant_id;
          t.kind = TransferKind::kVoid;
          t.debit_account_id = a->account.account_id;
          t.credit_account_id = kRevenueAccountId;
          t.usage_kind = h.usage_kind;
          t.reference = h.reference;
          t.hold_id = h.hold_id;
          t.idempotency_key = cmd.idempotency_key;
          t.reason = cmd.reason;
          t.created_at = now;
          AppendTransfer(std::move(t), w);
          VoidResult r;
          r.hold = h;
          r.hold.state = HoldState::kVoided;
          r.hold.settled_at = now;
          r.balance = MakeBalance(*a, a->posted_credits, a->pending_credits - h.amount_credits,
                                  w.head_sequence);
          SHIELDX_ASSIGN_OR_RETURN(response, Encode(r));
          return absl::OkStatus();
        },
        MutateOptions{.reads_store = true});
  };
  return Finish<VoidResult>(op, cmd.tenant_id, run());
}

absl::StatusOr<RefundResult> Ledger::Refund(const RefundCommand& cmd) {
  const std::string op = "refund";
  auto run = [&]() -> absl::StatusOr<Outcome> {
    SHIELDX_RETURN_IF_ERROR(ValidateMutation(cmd.tenant_id, cmd.idempotency_key));
    if (cmd.transfer_id.empty()) return absl::InvalidArgumentError("transfer_id: required");
    SHIELDX_RETURN_IF_ERROR(ValidateText("transfer_id", cmd.transfer_id, kMaxIdBytes));
    SHIELDX_RETURN_IF_ERROR(ValidateAmount("amount_credits", cmd.amount_credits, 1));
    SHIELDX_RETURN_IF_ERROR(ValidateText("reason", cmd.reason, kMaxReasonBytes));
    return Mutate(
        op, cmd.tenant_id, cmd.idempotency_key, Fingerprint(op, cmd),
        [&](LedgerTransaction& tx, const std::optional<AccountState>& a, WriteSet& w,
            std::string& response) -> absl::Status {
          if (!a.has_value()) return AccountNotFound(cmd.tenant_id);
          SHIELDX_ASSIGN_OR_RETURN(std::optional<Transfer> orig,
                                   tx.GetTransfer(a->account.account_id, cmd.transfer_id));
          if (!orig.has_value()) {
            return ReasonError(absl::StatusCode::kNotFound, kReasonTransferNotFound,
                               absl::StrCat("tenant ", cmd.tenant_id, ": transfer ",
                                            cmd.transfer_id, " not found"));
          }
          if (orig->kind != TransferKind::kConsume && orig->kind != TransferKind::kCapture) {
            return ReasonError(absl::StatusCode::kFailedPrecondition, kReasonNotRefundable,
                               absl::StrCat("transfer ", cmd.transfer_id, " is of kind ",
                                            static_cast<int>(orig->kind),
                                            "; only CONSUME and CAPTURE can be refunded"));
          }
          const int64_t refundable = orig->amount_credits - orig->refunded_credits;
          if (cmd.amount_credits > refundable) {
            return ReasonError(
                absl::StatusCode::kFailedPrecondition, kReasonRefundExceedsRefundable,
                absl::StrCat("transfer ", cmd.transfer_id, ": refund ", cmd.amount_credits,
                             " exceeds the refundable ", refundable, " (consumed ",
                             orig->amount_credits, ", refunded ", orig->refunded_credits, ")"));
          }
          w = StartWrites(*a, cmd.tenant_id, cmd.idempotency_key);
          Transfer t;
          t.transfer_id = ids_->NewId("tr_");
          t.tenant_id = cmd.tenant_id;
          t.kind = TransferKind::kRefund;
          t.debit_account_id = kRevenueAccountId;
          t.credit_account_id = a->account.account_id;
          t.amount_credits = cmd.amount_credits;
          t.usage_kind = orig->usage_kind;
          t.reference = orig->reference;
          t.refunded_transfer_id = orig->transfer_id;
          t.idempotency_key = cmd.idempotency_key;
          t.reason = cmd.reason;
          t.created_at = clock_->Now();
          AppendTransfer(std::move(t), w);
          RefundResult r;
          r.transfer = w.transfers.back();
          r.refundable_credits = refundable - cmd.amount_credits;
          r.balance = MakeBalance(*a, a->posted_credits + cmd.amount_credits, a->pending_credits,
                                  w.head_sequence);
          SHIELDX_ASSIGN_OR_RETURN(response, Encode(r));
          return absl::OkStatus();
        },
        MutateOptions{.reads_store = true});
  };
  return Finish<RefundResult>(op, cmd.tenant_id, run(), [&](const RefundResult& r) {
    observer_->OnRefunded(r.transfer.usage_kind, r.transfer.amount_credits);
  });
}

// ---- reads --------------------------------------------------------------------------------

absl::StatusOr<TransferPage> Ledger::ListTransfers(const ListTransfersQuery& q) {
  SHIELDX_RETURN_IF_ERROR(ValidateTenant(q.tenant_id));
  if (q.page_size > kMaxPageSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("page.page_size: at most ", kMaxPageSize, ", got ", q.page_size));
  }
  for (TransferKind k : q.kinds) {
    if (static_cast<int>(k) < 1 || static_cast<int>(k) > kMaxTransferKind) {
      return absl::InvalidArgumentError(
          absl::StrCat("kinds: unknown transfer kind ", static_cast<int>(k)));
    }
  }
  for (UsageKind k : q.usage_kinds) SHIELDX_RETURN_IF_ERROR(ValidateUsageKind("usage_kinds", k));
  SHIELDX_RETURN_IF_ERROR(ValidateText("reference", q.reference, kMaxReferenceBytes));
  SHIELDX_RETURN_IF_ERROR(ValidateText("hold_id", q.hold_id, kMaxIdBytes));
  const std::string filter_hash = FilterHash(q);
  TransferFilter f;
  if (!q.page_token.empty()) {
    std::vector<std::string> parts = absl::StrSplit(q.page_token, '.');
    int64_t before = 0;
    if (parts.size() != 3 || parts[0] != "v1" || !absl::SimpleAtoi(parts[1], &before) ||
        before <= 0) {
      return ReasonError(absl::StatusCode::kInvalidArgument, kReasonInvalidPageToken,
                         "page.page_token: not a token this service issued");
    }
    if (parts[2] != filter_hash) {
      return ReasonError(absl::StatusCode::kInvalidArgument, kReasonInvalidPageToken,
                         "page.page_token: issued for different filters");
    }
    f.before_sequence = before;
  }
  SHIELDX_ASSIGN_OR_RETURN(std::optional<AccountState> a, store_->GetTenantAccount(q.tenant_id));
  if (!a.has_value()) return AccountNotFound(q.tenant_id);
  const int size = q.page_size == 0 ? static_cast<int>(kDefaultPageSize) : q.page_size;
  f.account_id = a->account.account_id;
  f.kinds = q.kinds;
  f.usage_kinds = q.usage_kinds;
  f.created_after = q.created_after;
  f.created_before = q.created_before;
  f.reference = q.reference;
  f.hold_id = q.hold_id;
  f.limit = size + 1;
  SHIELDX_ASSIGN_OR_RETURN(std::vector<Transfer> rows, store_->ListTransfers(f));
  TransferPage page;
  if (static_cast<int>(rows.size()) > size) {
    rows.resize(size);
    page.next_page_token = absl::StrCat("v1.", rows.back().sequence, ".", filter_hash);
  }
  page.transfers = std::move(rows);
  return page;
}

absl::StatusOr<UsageReport> Ledger::Report(const UsageReportQuery& q) {
  SHIELDX_RETURN_IF_ERROR(ValidateTenant(q.tenant_id));
  if (q.period_end <= q.period_start) {
    return absl::InvalidArgumentError("period_end: must be after period_start");
  }
  if (q.period_end - q.period_start > kMaxReportPeriod) {
    return absl::InvalidArgumentError(
        absl::StrCat("period: at most ", absl::ToInt64Hours(kMaxReportPeriod) / 24, " days, got ",
                     absl::ToInt64Hours(q.period_end - q.period_start) / 24));
  }
  const int g = static_cast<int>(q.granularity);
  if (g < 0 || g > 3) {
    return absl::InvalidArgumentError(absl::StrCat("granularity: unknown value ", g));
  }
  if (q.granularity == Granularity::kHour &&
      absl::ToInt64Hours(q.period_end - q.period_start) + 1 > kMaxReportBuckets) {
    return absl::InvalidArgumentError(
        absl::StrCat("period: more than ", kMaxReportBuckets, " hourly buckets"));
  }
  for (UsageKind k : q.usage_kinds) SHIELDX_RETURN_IF_ERROR(ValidateUsageKind("usage_kinds", k));
  SHIELDX_ASSIGN_OR_RETURN(std::optional<AccountState> a, store_->GetTenantAccount(q.tenant_id));
  if (!a.has_value()) return AccountNotFound(q.tenant_id);
  UsageQuery uq{a->account.account_id, q.period_start, q.period_end, q.granularity, q.usage_kinds};
  SHIELDX_ASSIGN_OR_RETURN(std::vector<UsageBucket> buckets, store_->Usage(uq));
  UsageReport report;
  for (const UsageBucket& b : buckets) {
    report.total_quantity += b.quantity;
    report.total_credits += b.amount_credits;
  }
  report.buckets = std::move(buckets);
  return report;
}

absl::StatusOr<AuditReport> Ledger::VerifyAudit(const std::string& tenant_id, int64_t from_sequence,
                                                int64_t to_sequence) {
  SHIELDX_RETURN_IF_ERROR(ValidateTenant(tenant_id));
  if (from_sequence < 0 || to_sequence < 0 || (to_sequence > 0 && to_sequence < from_sequence)) {
    return absl::InvalidArgumentError(
        absl::StrCat("from_sequence/to_sequence: need 0 <= from <= to (or to = 0), got ",
                     from_sequence, "..", to_sequence));
  }
  SHIELDX_ASSIGN_OR_RETURN(std::optional<AccountState> a, store_->GetTenantAccount(tenant_id));
  if (!a.has_value()) return AccountNotFound(tenant_id);
  const std::string& account_id = a->account.account_id;
  const int64_t from = std::max<int64_t>(1, from_sequence);
  std::string anchor;
  std::vector<AuditProblem> pre;
  if (from > 1) {
    absl::StatusOr<std::string> h = store_->AuditHmac(account_id, from - 1);
    if (h.ok()) {
      anchor = *h;
    } else if (h.status().code() == absl::StatusCode::kNotFound) {
      pre.push_back({account_id, from - 1, AuditProblemKind::kMissing,
                     absl::StrCat("account ", account_id, ": audit entry ", from - 1,
                                  " (the anchor of this range) is missing")});
    } else {
      return h.status();
    }
  }
  AuditVerifier verifier(signer_, account_id, from, anchor, kMaxAuditProblems);
  int64_t next = from;
  int64_t transfer_entries = 0;
  bool first = true;
  while (true) {
    SHIELDX_ASSIGN_OR_RETURN(std::vector<AuditRow> rows,
                             store_->ReadAudit(account_id, next, to_sequence, kAuditPageEntries));
    for (AuditRow& row : rows) {
      if (first && !pre.empty()) {
        // No anchor: trust this entry's own link for the start of the range.
        verifier = AuditVerifier(signer_, account_id, row.entry.sequence, row.entry.prev_hmac,
                                 kMaxAuditProblems);
      }
      first = false;
      if (row.entry.entry_kind == kEntryTransfer) ++transfer_entries;
      verifier.Add(row.entry, row.transfer);
      next = row.entry.sequence + 1;
    }
    if (static_cast<int>(rows.size()) < kAuditPageEntries) break;
  }
  verifier.Finish(a->sequence, a->head_hmac, to_sequence);
  SHIELDX_ASSIGN_OR_RETURN(int64_t transfers,
                           store_->CountTransfers(account_id, from, to_sequence));
  AuditReport report;
  report.problems = std::move(pre);
  for (const AuditProblem& p : verifier.problems()) {
    if (report.problems.size() < kMaxAuditProblems) report.problems.push_back(p);
  }
  if (transfers != transfer_entries && report.problems.size() < kMaxAuditProblems) {
    report.problems.push_back(
        {account_id, 0, AuditProblemKind::kLedgerMismatch,
         absl::StrCat("account ", account_id, ": ", transfers, " transfers but ", transfer_entries,
                      " transfer audit entries in the verified range")});
  }
  report.verified_entries = verifier.verified_entries();
  report.ok = report.problems.empty();
  return report;
}

// ---- sweeper ------------------------------------------------------------------------------

absl::StatusOr<int64_t> Ledger::ExpireAccount(const std::string& account_id) {
  int64_t expired = 0;
  std::optional<Balance> balance;
  std::optional<AccountState> after;
  std::string tenant_id;
  absl::Status s = store_->Transact("expire", [&](LedgerTransaction& tx) -> absl::Status {
    expired = 0;
    balance.reset();
    after.reset();
    SHIELDX_ASSIGN_OR_RETURN(std::optional<AccountState> a,
                             tx.LockAccount(account_id, /*skip_locked=*/true));
    if (!a.has_value()) return absl::OkStatus();  // busy: next sweep
    const absl::Time now = clock_->Now();
    SHIELDX_ASSIGN_OR_RETURN(std::vector<Hold> due,
                             tx.DueHolds(account_id, now, kMaxExpiriesPerTransaction));
    if (due.empty()) return absl::OkStatus();
    WriteSet w = StartWrites(*a, a->account.tenant_id, "");
    int64_t released = 0;
    for (const Hold& h : due) {
      w.settled_holds.push_back({h.hold_id, HoldState::kExpired, 0, h.amount_credits, now});
      Transfer t;
      t.transfer_id = ids_->NewId("tr_");
      t.tenant_id = a->account.tenant_id;
      t.kind = TransferKind::kExpire;
      t.debit_account_id = account_id;
      t.credit_account_id = kRevenueAccountId;
      t.usage_kind = h.usage_kind;
      t.reference = h.reference;
      t.hold_id = h.hold_id;
      t.created_at = now;
      AppendTransfer(std::move(t), w);
      released += h.amount_credits;
    }
    SHIELDX_RETURN_IF_ERROR(tx.Apply(w));
    expired = static_cast<int64_t>(due.size());
    tenant_id = a->account.tenant_id;
    balance = MakeBalance(*a, a->posted_credits, a->pending_credits - released, w.head_sequence);
    after = StateAfter(*a, w);
    return absl::OkStatus();
  });
  if (s.ok() && after.has_value()) cache_.Put(tenant_id, *after);
  if (observer_ != nullptr) {
    if (!s.ok()) {
      observer_->OnOperation("expire", ResultLabel(s));
    } else if (expired > 0) {
      observer_->OnOperation("expire", "ok");
      if (balance.has_value()) observer_->OnBalance(tenant_id, *balance);
    }
  }
  if (!s.ok()) return s;
  return expired;
}

absl::StatusOr<int64_t> Ledger::ExpireDueHolds(int max_accounts) {
  SHIELDX_ASSIGN_OR_RETURN(std::vector<std::string> accounts,
                           store_->AccountsWithDueHolds(clock_->Now(), max_accounts));
  int64_t total = 0;
  absl::Status first_error;
  for (const std::string& account_id : accounts) {
    absl::StatusOr<int64_t> n = ExpireAccount(account_id);
    if (n.ok()) {
      total += *n;
    } else if (first_error.ok()) {
      first_error = Annotate(n.status(), absl::StrCat("expiring holds of ", account_id));
    }
  }
  if (!first_error.ok()) return first_error;
  return total;
}

absl::Status Ledger::RefreshBalances(int limit) {
  SHIELDX_ASSIGN_OR_RETURN(std::vector<AccountState> accounts, store_->ListTenantAccounts(limit));
  if (observer_ == nullptr) return absl::OkStatus();
  for (const AccountState& a : accounts) {
    cache_.Put(a.account.tenant_id, a);
    observer_->OnBalance(a.account.tenant_id,
                         MakeBalance(a, a.posted_credits, a.pending_credits, a.sequence));
  }
  return absl::OkStatus();
}

}  // namespace shieldx::credits
