#include "services/credits/in_memory_ledger_store.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "libs/base/status_macros.h"

namespace shieldx::credits {
namespace {

using State = InMemoryLedgerStore::State;

absl::Status Violation(const std::string& what) {
  return absl::FailedPreconditionError(absl::StrCat("in-memory ledger: ", what));
}

class Tx final : public LedgerTransaction {
 public:
  explicit Tx(State* s) : s_(s) {}

  absl::StatusOr<ClaimResult> ClaimKeyAndLockAccount(const KeyClaim& c) override {
    ClaimResult r;
    auto key = std::make_pair(c.tenant_id, c.idempotency_key);
    auto it = s_->keys.find(key);
    if (it != s_->keys.end()) {
      r.stored_operation = it->second.operation;
      r.stored_fingerprint = it->second.fingerprint;
      r.stored_response = it->second.response;
      return r;
    }
    s_->keys[key] = {c.operation, c.fingerprint, "", c.now};
    r.claimed = true;
    for (const auto& [id, a] : s_->accounts) {
      if (a.account.kind == AccountKind::kTenant && a.account.tenant_id == c.tenant_id) {
        r.account = a;
      }
    }
    return r;
  }

  absl::StatusOr<std::optional<AccountState>> LockAccount(const std::string& account_id,
                                                          bool) override {
    auto it = s_->accounts.find(account_id);
    if (it == s_->accounts.end()) return std::optional<AccountState>();
    return std::optional<AccountState>(it->second);
  }

  absl::StatusOr<std::optional<Hold>> GetHold(const std::string& account_id,
                                              const std::string& hold_id) override {
    auto it = s_->holds.find(hold_id);
    if (it == s_->holds.end() || it->second.account_id != account_id) {
      return std::optional<Hold>();
    }
    return std::optional<Hold>(it->second);
  }

  absl::StatusOr<std::vector<Hold>> DueHolds(const std::string& account_id, absl::Time now,
                                             int limit) override {
    std::vector<Hold> out;
    for (const auto& [id, h] : s_->holds) {
      if (h.account_id == account_id && h.state == HoldState::kPending && h.expires_at <= now) {
        out.push_back(h);
      }
    }
    std::sort(out.begin(), out.end(),
              [](const Hold& a, const Hold& b) { return a.expires_at < b.expires_at; });
    if (static_cast<int>(out.size()) > limit) out.resize(limit);
    return out;
  }

  absl::StatusOr<std::optional<Transfer>> GetTransfer(const std::string& account_id,
                                                      const std::string& transfer_id) override {
    auto it = s_->transfers.find(transfer_id);
    if (it == s_->transfers.end() || it->second.account_id != account_id) {
      return std::optional<Transfer>();
    }
    return std::optional<Transfer>(it->second);
  }

  absl::StatusOr<bool> PaymentRecorded(const std::string& provider,
                                       const std::string& reference) override {
    for (const auto& [id, t] : s_->transfers) {
      if (t.kind == TransferKind::kTopUp && t.payment_reference_unique &&
          t.payment.provider == provider && t.payment.external_reference == reference) {
        return true;
      }
    }
    return false;
  }

  absl::Status Apply(const WriteSet& w) override;

  absl::StatusOr<std::vector<ClaimResult>> ClaimKeysAndLockAccounts(
      const std::vector<KeyClaim>& claims) override {
    std::set<std::pair<std::string, std::string>> seen;
    std::vector<ClaimResult> out;
    out.reserve(claims.size());
    for (const KeyClaim& c : claims) {
      if (!seen.emplace(c.tenant_id, c.idempotency_key).second) {
        return absl::InvalidArgumentError(absl::StrCat("in-memory ledger: key ", c.idempotency_key,
                                                       " claimed twice in one transaction"));
      }
      SHIELDX_ASSIGN_OR_RETURN(ClaimResult r, ClaimKeyAndLockAccount(c));
      out.push_back(std::move(r));
    }
    return out;
  }

  absl::Status ApplyMany(
      const std::vector<WriteSet>& writes,
      const std::vector<std::pair<std::string, std::string>>& released) override {
    for (const WriteSet& w : writes) {
      if (w.new_account.has_value()) return Violation("a group write set opens an account");
      SHIELDX_RETURN_IF_ERROR(Apply(w));
    }
    for (const auto& key : released) {
      auto it = s_->keys.find(key);
      if (it == s_->keys.end() || !it->second.response.empty()) {
        return Violation(absl::StrCat("releasing key ", key.second, " that is not an open claim"));
      }
      s_->keys.erase(it);
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Post(const Transfer& t);
  State* s_;
};

absl::Status Tx::Post(const Transfer& t) {
  if (s_->transfers.count(t.transfer_id) > 0) {
    return absl::AlreadyExistsError(absl::StrCat("transfer ", t.transfer_id, " exists"));
  }
  if (!s_->transfer_by_seq.emplace(std::make_pair(t.account_id, t.sequence), t.transfer_id)
           .second) {
    return absl::AlreadyExistsError(
        absl::StrCat("account ", t.account_id, " already has sequence ", t.sequence));
  }
  auto debit = s_->accounts.find(t.debit_account_id);
  auto credit = s_->accounts.find(t.credit_account_id);
  if (debit == s_->accounts.end() || credit == s_->accounts.end() ||
      t.debit_account_id == t.credit_account_id) {
    return Violation(absl::StrCat("transfer ", t.transfer_id, ": bad accounts"));
  }
  if (t.account_id != t.debit_account_id && t.account_id != t.credit_account_id) {
    return Violation("transfer not on its own account");
  }
  const bool zero_kind = t.kind == TransferKind::kVoid || t.kind == TransferKind::kExpire;
  if (zero_kind ? t.amount_credits != 0 : t.amount_credits <= 0) {
    return Violation(absl::StrCat("transfer ", t.transfer_id, ": bad amount ", t.amount_credits));
  }
  if (t.kind == TransferKind::kTopUp && t.payment_reference_unique) {
    for (const auto& [id, o] : s_->transfers) {
      if (o.kind == TransferKind::kTopUp && o.payment_reference_unique &&
          o.payment.provider == t.payment.provider &&
          o.payment.external_reference == t.payment.external_reference) {
        return absl::AlreadyExistsError("payment reference already recorded");
      }
    }
  }
  if (t.kind == TransferKind::kRefund) {
    auto orig = s_->transfers.find(t.refunded_transfer_id);
    if (orig == s_->transfers.end()) return Violation("refund of an unknown transfer");
    Transfer& o = orig->second;
    if (o.kind != TransferKind::kConsume && o.kind != TransferKind::kCapture) {
      return Violation("refund of a transfer that is not CONSUME or CAPTURE");
    }
    if (o.refunded_credits + t.amount_credits > o.amount_credits) {
      return Violation(absl::StrCat("refund exceeds refundable of ", o.transfer_id));
    }
    o.refunded_credits += t.amount_credits;
  }
  if (IsPosting(t.kind)) {
    debit->second.posted_credits -= t.amount_credits;
    credit->second.posted_credits += t.amount_credits;
  }
  s_->transfers[t.transfer_id] = t;
  return absl::OkStatus();
}

absl::Status Tx::Apply(const WriteSet& w) {
  if (w.new_account.has_value()) {
    const Account& a = *w.new_account;
    for (const auto& [id, o] : s_->accounts) {
      if (id == a.account_id ||
          (o.account.kind == AccountKind::kTenant && o.account.tenant_id == a.tenant_id)) {
        return absl::AlreadyExistsError(absl::StrCat("account for ", a.tenant_id, " exists"));
      }
    }
    AccountState st;
    st.account = a;
    s_->accounts[a.account_id] = st;
  }
  for (const HoldSettlement& hs : w.settled_holds) {
    auto it = s_->holds.find(hs.hold_id);
    if (it == s_->holds.end()) return Violation("settling an unknown hold");
    Hold& h = it->second;
    if (h.state != HoldState::kPending || hs.state == HoldState::kPending) {
      return Violation(absl::StrCat("hold ", h.hold_id, " can only be settled once"));
    }
    if (hs.captured_credits < 0 || hs.captured_credits > h.amount_credits ||
        (hs.state != HoldState::kCaptured && hs.captured_credits != 0)) {
      return Violation(absl::StrCat("hold ", h.hold_id, ": capture exceeds hold"));
    }
    h.state = hs.state;
    h.captured_credits = hs.captured_credits;
    h.settled_at = hs.settled_at;
    s_->accounts[h.account_id].pending_credits -= h.amount_credits;
  }
  for (const Hold& h : w.new_holds) {
    if (h.amount_credits <= 0 || h.state != HoldState::kPending ||
        !s_->holds.emplace(h.hold_id, h).second) {
      return Violation(absl::StrCat("bad new hold ", h.hold_id));
    }
    s_->accounts[h.account_id].pending_credits += h.amount_credits;
  }
  for (const Transfer& t : w.transfers) SHIELDX_RETURN_IF_ERROR(Post(t));
  for (const AuditEntry& e : w.audit) {
    if (!s_->audit.emplace(std::make_pair(e.account_id, e.sequence), e).second) {
      return absl::AlreadyExistsError(absl::StrCat("audit entry ", e.sequence, " exists"));
    }
  }
  if (!w.account_id.empty()) {
    auto it = s_->accounts.find(w.account_id);
    if (it == s_->accounts.end()) return Violation("chain head of an unknown account");
    if (w.head_sequence < it->second.sequence) return Violation("chain head goes back");
    it->second.sequence = w.head_sequence;
    it->second.head_hmac = w.head_hmac;
    if (w.new_alert_threshold_credits.has_value()) {
      it->second.account.alert_threshold_credits = *w.new_alert_threshold_credits;
    }
  }
  for (const auto& [id, a] : s_->accounts) {
    if (a.account.kind != AccountKind::kTenant) continue;
    if (a.pending_credits < 0 ||
        a.posted_credits - a.pending_credits < -a.account.overdraft_limit_credits) {
      return Violation(absl::StrCat("account ", id, ": available ",
                                    a.posted_credits - a.pending_credits, " below overdraft -",
                                    a.account.overdraft_limit_credits));
    }
  }
  if (!w.idempotency_key.empty()) {
    auto it = s_->keys.find(std::make_pair(w.tenant_id, w.idempotency_key));
    if (it == s_->keys.end()) return Violation("response for an unclaimed key");
    if (w.response.empty()) return Violation("idempotency key without its response");
    it->second.response = w.response;
  }
  return absl::OkStatus();
}

}  // namespace

InMemoryLedgerStore::InMemoryLedgerStore() {
  for (auto [id, kind] :
       {std::make_pair(kRevenueAccountId, AccountKind::kRevenue),
        std::make_pair(kPromotionsAccountId, AccountKind::kPromotions),
        std::make_pair(kPaymentClearingAccountId, AccountKind::kPaymentClearing)}) {
    AccountState st;
    st.account = Account{id, kPlatformTenantId, kind, 0, 0, absl::UnixEpoch()};
    state_.accounts[id] = st;
  }
}

absl::Status InMemoryLedgerStore::Transact(const std::string& name, const TransactionFn& fn) {
  absl::MutexLock lock(&mu_);
  State working = state_;
  Tx tx(&working);
  absl::Status s = fn(tx);
  if (s.ok()) {
    // As the deferred constraint trigger: a claimed key never commits without its response.
    for (const auto& [key, record] : working.keys) {
      if (record.response.empty()) {
        s = Violation(absl::StrCat("idempotency key ", key.second, " committed without response"));
        break;
      }
    }
  }
  if (s.ok() && !fail_next_commit_.ok()) {
    s = fail_next_commit_;
    fail_next_commit_ = absl::OkStatus();
  }
  if (!s.ok()) return s;
  (void)name;
  state_ = std::move(working);
  return absl::OkStatus();
}

absl::StatusOr<OptimisticResult> InMemoryLedgerStore::ApplyOptimistic(const KeyClaim& claim,
                                                                      int64_t expected_sequence,
                                                                      const WriteSet& writes) {
  absl::MutexLock lock(&mu_);
  State working = state_;
  Tx tx(&working);
  SHIELDX_ASSIGN_OR_RETURN(ClaimResult c, tx.ClaimKeyAndLockAccount(claim));
  OptimisticResult out;
  if (!c.claimed) {
    out.stored_operation = c.stored_operation;
    out.stored_fingerprint = c.stored_fingerprint;
    out.stored_response = c.stored_response;
    return out;
  }
  if (!c.account.has_value() || c.account->account.account_id != writes.account_id ||
      c.account->sequence != expected_sequence) {
    return absl::AbortedError(
        absl::StrCat("account ", writes.account_id, " changed since it was read"));
  }
  SHIELDX_RETURN_IF_ERROR(tx.Apply(writes));
  if (!fail_next_commit_.ok()) {
    absl::Status s = fail_next_commit_;
    fail_next_commit_ = absl::OkStatus();
    return s;
  }
  state_ = std::move(working);
  ++optimistic_applied_;
  out.applied = true;
  return out;
}

absl::StatusOr<std::optional<AccountState>> InMemoryLedgerStore::GetTenantAccount(
    const std::string& tenant_id) {
  absl::MutexLock lock(&mu_);
  for (const auto& [id, a] : state_.accounts) {
    if (a.account.kind == AccountKind::kTenant && a.account.tenant_id == tenant_id) return a;
  }
  return std::optional<AccountState>();
}

absl::StatusOr<std::vector<Transfer>> InMemoryLedgerStore::ListTransfers(const TransferFilter& f) {
  absl::MutexLock lock(&mu_);
  std::vector<Transfer> out;
  for (auto it = state_.transfer_by_seq.rbegin(); it != state_.transfer_by_seq.rend(); ++it) {
    if (it->first.first != f.account_id) continue;
    if (f.before_sequence > 0 && it->first.second >= f.before_sequence) continue;
    const Transfer& t = state_.transfers.at(it->second);
    if (!f.kinds.empty() && std::find(f.kinds.begin(), f.kinds.end(), t.kind) == f.kinds.end()) {
      continue;
    }
    if (!f.usage_kinds.empty() && std::find(f.usage_kinds.begin(), f.usage_kinds.end(),
                                            t.usage_kind) == f.usage_kinds.end()) {
      continue;
    }
    if (f.created_after && t.created_at < *f.created_after) continue;
    if (f.created_before && t.created_at >= *f.created_before) continue;
    if (!f.reference.empty() && t.reference != f.reference) continue;
    if (!f.hold_id.empty() && t.hold_id != f.hold_id) continue;
    out.push_back(t);
    if (static_cast<int>(out.size()) >= f.limit) break;
  }
  return out;
}

namespace {
absl::Time BucketStart(absl::Time t, Granularity g, absl::Time period_start) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  switch (g) {
    case Granularity::kHour:
      return absl::FromCivil(absl::ToCivilHour(t, utc), utc);
    case Granularity::kDay:
      return absl::FromCivil(absl::ToCivilDay(t, utc), utc);
    case Granularity::kMonth:
      return absl::FromCivil(absl::ToCivilMonth(t, utc), utc);
    default:
      return period_start;
  }
}
}  // namespace

absl::Time UsageBucketEnd(absl::Time start, Granularity g, absl::Time period_end) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  switch (g) {
    case Granularity::kHour:
      return start + absl::Hours(1);
    case Granularity::kDay:
      return start + absl::Hours(24);
    case Granularity::kMonth:
      return absl::FromCivil(absl::ToCivilMonth(start, utc) + 1, utc);
    default:
      return period_end;
  }
}

absl::StatusOr<std::vector<UsageBucket>> InMemoryLedgerStore::Usage(const UsageQuery& q) {
  absl::MutexLock lock(&mu_);
  std::map<std::pair<int64_t, int>, UsageBucket> buckets;
  for (const auto& [id, t] : state_.transfers) {
    if (t.account_id != q.account_id) continue;
    if (t.kind != TransferKind::kConsume && t.kind != TransferKind::kCapture &&
        t.kind != TransferKind::kRefund) {
      continue;
    }
    if (t.created_at < q.period_start || t.created_at >= q.period_end) continue;
    if (!q.usage_kinds.empty() && std::find(q.usage_kinds.begin(), q.usage_kinds.end(),
                                            t.usage_kind) == q.usage_kinds.end()) {
      continue;
    }
    const absl::Time start = BucketStart(t.created_at, q.granularity, q.period_start);
    UsageBucket& b = buckets[{absl::ToUnixMicros(start), static_cast<int>(t.usage_kind)}];
    b.bucket_start = start;
    b.bucket_end = UsageBucketEnd(start, q.granularity, q.period_end);
    b.usage_kind = t.usage_kind;
    if (t.kind == TransferKind::kRefund) {
      b.amount_credits -= t.amount_credits;
    } else {
      b.amount_credits += t.amount_credits;
      b.quantity += t.quantity;
    }
  }
  std::vector<UsageBucket> out;
  for (auto& [k, b] : buckets) out.push_back(b);
  return out;
}

absl::StatusOr<std::vector<AuditRow>> InMemoryLedgerStore::ReadAudit(const std::string& account_id,
                                                                     int64_t from_sequence,
                                                                     int64_t to_sequence,
                                                                     int limit) {
  absl::MutexLock lock(&mu_);
  std::vector<AuditRow> out;
  for (auto it = state_.audit.lower_bound({account_id, from_sequence});
       it != state_.audit.end() && it->first.first == account_id; ++it) {
    if (to_sequence > 0 && it->first.second > to_sequence) break;
    AuditRow row;
    row.entry = it->second;
    if (!row.entry.transfer_id.empty()) {
      auto t = state_.transfers.find(row.entry.transfer_id);
      if (t != state_.transfers.end()) row.transfer = t->second;
    }
    out.push_back(std::move(row));
    if (static_cast<int>(out.size()) >= limit) break;
  }
  return out;
}

absl::StatusOr<std::string> InMemoryLedgerStore::AuditHmac(const std::string& account_id,
                                                           int64_t sequence) {
  absl::MutexLock lock(&mu_);
  auto it = state_.audit.find({account_id, sequence});
  if (it == state_.audit.end()) {
    return absl::NotFoundError(absl::StrCat("audit entry ", account_id, "/", sequence));
  }
  return it->second.hmac;
}

absl::StatusOr<int64_t> InMemoryLedgerStore::CountTransfers(const std::string& account_id,
                                                            int64_t from_sequence,
                                                            int64_t to_sequence) {
  absl::MutexLock lock(&mu_);
  int64_t n = 0;
  for (const auto& [k, id] : state_.transfer_by_seq) {
    if (k.first == account_id && k.second >= from_sequence &&
        (to_sequence == 0 || k.second <= to_sequence)) {
      ++n;
    }
  }
  return n;
}

absl::StatusOr<std::vector<std::string>> InMemoryLedgerStore::AccountsWithDueHolds(absl::Time now,
                                                                                   int limit) {
  absl::MutexLock lock(&mu_);
  std::set<std::string> accounts;
  for (const auto& [id, h] : state_.holds) {
    if (h.state == HoldState::kPending && h.expires_at <= now) accounts.insert(h.account_id);
    if (static_cast<int>(accounts.size()) >= limit) break;
  }
  return std::vector<std::string>(accounts.begin(), accounts.end());
}

absl::StatusOr<std::vector<AccountState>> InMemoryLedgerStore::ListTenantAccounts(int limit) {
  absl::MutexLock lock(&mu_);
  std::vector<AccountState> out;
  for (const auto& [id, a] : state_.accounts) {
    if (a.account.kind != AccountKind::kTenant) continue;
    out.push_back(a);
    if (static_cast<int>(out.size()) >= limit) break;
  }
  return out;
}

absl::StatusOr<int64_t> InMemoryLedgerStore::DeleteIdempotencyKeysBefore(absl::Time cutoff,
                                                                         int limit) {
  absl::MutexLock lock(&mu_);
  int64_t n = 0;
  for (auto it = state_.keys.begin(); it != state_.keys.end() && n < limit;) {
    if (it->second.created_at < cutoff) {
      it = state_.keys.erase(it);
      ++n;
    } else {
      ++it;
    }
  }
  return n;
}

absl::StatusOr<std::vector<std::string>> InMemoryLedgerStore::CheckInvariants() {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> v;
  std::map<std::string, int64_t> posted;
  std::map<std::string, int64_t> refunded;
  for (const auto& [id, t] : state_.transfers) {
    if (IsPosting(t.kind)) {
      posted[t.debit_account_id] -= t.amount_credits;
      posted[t.credit_account_id] += t.amount_credits;
    }
    if (t.kind == TransferKind::kRefund) refunded[t.refunded_transfer_id] += t.amount_credits;
  }
  std::map<std::string, int64_t> pending;
  for (const auto& [id, h] : state_.holds) {
    if (h.state == HoldState::kPending) pending[h.account_id] += h.amount_credits;
    if (h.captured_credits > h.amount_credits) v.push_back("hold " + id + ": capture > hold");
  }
  int64_t sum = 0;
  for (const auto& [id, a] : state_.accounts) {
    sum += a.posted_credits;
    if (a.posted_credits != posted[id]) {
      v.push_back(absl::StrCat("account ", id, ": balance ", a.posted_credits,
                               " != sum of transfers ", posted[id]));
    }
    if (a.pending_credits != pending[id]) {
      v.push_back(absl::StrCat("account ", id, ": pending ", a.pending_credits, " != open holds ",
                               pending[id]));
    }
    if (a.account.kind == AccountKind::kTenant &&
        a.posted_credits - a.pending_credits < -a.account.overdraft_limit_credits) {
      v.push_back(absl::StrCat("account ", id, ": available below overdraft"));
    }
  }
  if (sum != 0) v.push_back(absl::StrCat("balances sum to ", sum, ", not 0"));
  for (const auto& [id, t] : state_.transfers) {
    if (t.refunded_credits != refunded[id]) {
      v.push_back(absl::StrCat("transfer ", id, ": refunded total mismatch"));
    }
  }
  for (const auto& [k, r] : state_.keys) {
    if (r.response.empty()) v.push_back("idempotency key " + k.second + " without response");
  }
  return v;
}

void InMemoryLedgerStore::FailNextCommit(absl::Status status) {
  absl::MutexLock lock(&mu_);
  fail_next_commit_ = std::move(status);
}

void InMemoryLedgerStore::TamperAudit(const std::string& account_id, int64_t sequence,
                                      const std::function<void(AuditEntry&)>& edit) {
  absl::MutexLock lock(&mu_);
  auto it = state_.audit.find({account_id, sequence});
  if (it != state_.audit.end()) edit(it->second);
}

void InMemoryLedgerStore::DeleteAudit(const std::string& account_id, int64_t sequence) {
  absl::MutexLock lock(&mu_);
  state_.audit.erase({account_id, sequence});
}

void InMemoryLedgerStore::TamperTransfer(const std::string& transfer_id,
                                         const std::function<void(Transfer&)>& edit) {
  absl::MutexLock lock(&mu_);
  auto it = state_.transfers.find(transfer_id);
  if (it != state_.transfers.end()) edit(it->second);
}

}  // namespace shieldx::credits
