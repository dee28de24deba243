#include "services/credits/group_commit.h"

#include <map>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "libs/base/check.h"
#include "libs/base/status_macros.h"

namespace shieldx::credits {
namespace {

// Forwards a decision's reads to the group transaction and remembers the first store failure,
// so a lost connection under one call's decision fails the group (it is not that call's
// "own" error). Decisions never claim or write themselves.
class DecisionTx final : public LedgerTransaction {
 public:
  explicit DecisionTx(LedgerTransaction& tx) : tx_(tx) {}

  const absl::Status& store_error() const { return error_; }

  absl::StatusOr<ClaimResult> ClaimKeyAndLockAccount(const KeyClaim&) override { return No(); }
  absl::StatusOr<std::optional<AccountState>> LockAccount(const std::string& account_id,
                                                          bool skip_locked) override {
    return Note(tx_.LockAccount(account_id, skip_locked));
  }
  absl::StatusOr<std::optional<Hold>> GetHold(const std::string& account_id,
                                              const std::string& hold_id) override {
    return Note(tx_.GetHold(account_id, hold_id));
  }
  absl::StatusOr<std::vector<Hold>> DueHolds(const std::string& account_id, absl::Time now,
                                             int limit) override {
    return Note(tx_.DueHolds(account_id, now, limit));
  }
  absl::StatusOr<std::optional<Transfer>> GetTransfer(const std::string& account_id,
                                                      const std::string& transfer_id) override {
    return Note(tx_.GetTransfer(account_id, transfer_id));
  }
  absl::StatusOr<bool> PaymentRecorded(const std::string& provider,
                                       const std::string& reference) override {
    return Note(tx_.PaymentRecorded(provider, reference));
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
  template <typename T>
  T Note(T v) {
    if (!v.ok() && error_.ok()) error_ = v.status();
    return v;
  }
  absl::Status No() {
    absl::Status s = absl::InternalError("credits: a decision may only read the store");
    if (error_.ok()) error_ = s;
    return s;
  }

  LedgerTransaction& tx_;
  absl::Status error_;
};

// Group failures that are the store refusing a write (one call's fault, found only when
// writing): the group is re-run call by call. Everything else fails every call.
bool SplitOnFailure(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kNotFound:
      return true;
    default:
      return false;
  }
}

}  // namespace

absl::Status GroupCommitOptions::Validate() const {
  if (max_calls < 1 || max_calls > kMaxGroupCommitCalls) {
    return absl::InvalidArgumentError(absl::StrCat("group_commit_max_calls: must be between 1 and ",
                                                   kMaxGroupCommitCalls, ", got ", max_calls));
  }
  if (max_records < 1 || max_records > kMaxGroupCommitRecords) {
    return absl::InvalidArgumentError(
        absl::StrCat("group_commit_max_records: must be between 1 and ", kMaxGroupCommitRecords,
                     ", got ", max_records));
  }
  if (window < absl::ZeroDuration() || window > kMaxGroupCommitWindow) {
    return absl::InvalidArgumentError(absl::StrCat("group_commit_window: must be between 0 and ",
                                                   absl::FormatDuration(kMaxGroupCommitWindow),
                                                   ", got ", absl::FormatDuration(window)));
  }
  if (committers < 1 || committers > kMaxGroupCommitters) {
    return absl::InvalidArgumentError(
        absl::StrCat("group_commit_committers: must be between 1 and ", kMaxGroupCommitters,
                     ", got ", committers));
  }
  return absl::OkStatus();
}

GroupCommitter::GroupCommitter(LedgerStore* store, Clock* clock, const GroupCommitOptions& options,
                               GroupCommitListener listener)
    : store_(store), clock_(clock), options_(options), listener_(std::move(listener)) {
  SHIELDX_CHECK(store_ != nullptr && clock_ != nullptr);
  SHIELDX_CHECK_OK(options_.Validate());
  SHIELDX_CHECK(options_.enabled());
  threads_.reserve(options_.committers);
  for (int i = 0; i < options_.committers; ++i) threads_.emplace_back([this] { Loop(); });
}

GroupCommitter::~GroupCommitter() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& t : threads_) t.join();
}

std::optional<absl::StatusOr<GroupResult>> GroupCommitter::Run(const GroupCall& call) {
  absl::Notification finished;
  std::optional<absl::StatusOr<GroupResult>> out;
  const bool queued = Submit(call, [&](absl::StatusOr<GroupResult> r) {
    out = std::move(r);
    finished.Notify();
  });
  if (!queued) return std::nullopt;
  finished.WaitForNotification();
  return out;
}

bool GroupCommitter::Submit(const GroupCall& call, DoneFn done) {
  SHIELDX_CHECK(call.decide != nullptr && done != nullptr);
  auto w = std::make_unique<Waiter>(Waiter{call, absl::Now(), std::move(done), std::nullopt});
  absl::MutexLock lock(&mu_);
  if (stopping_ || queue_.size() >= kMaxGroupCommitQueue) return false;
  queue_.push_back(w.release());
  return true;
}

std::size_t GroupCommitter::queued() {
  absl::MutexLock lock(&mu_);
  return queue_.size();
}

void GroupCommitter::Loop() {
  while (true) {
    std::vector<Waiter*> group;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]()
                       ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || !queue_.empty(); };
      mu_.Await(absl::Condition(&ready));
      if (queue_.empty()) return;  // stopping, nothing left
      if (options_.window > absl::ZeroDuration() && !stopping_) {
        auto full = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return stopping_ || queue_.size() >= static_cast<std::size_t>(options_.max_calls);
        };
        mu_.AwaitWithDeadline(absl::Condition(&full), queue_.front()->enqueued + options_.window);
      }
      group = TakeGroup();
    }
    Commit(group);
  }
}

std::vector<GroupCommitter::Waiter*> GroupCommitter::TakeGroup() {
  std::vector<Waiter*> group;
  std::deque<Waiter*> later;
  std::set<std::pair<std::string, std::string>> keys;
  std::set<std::string> reading_tenants;
  int64_t records = 0;
  while (!queue_.empty()) {
    Waiter* w = queue_.front();
    const GroupCall& c = w->call;
    const bool full = static_cast<int>(group.size()) >= options_.max_calls ||
                      (!group.empty() && records + c.records > options_.max_records);
    if (full) break;
    queue_.pop_front();
    const bool same_key = keys.count({c.tenant_id, c.idempotency_key}) > 0;
    const bool second_read = c.reads_store && reading_tenants.count(c.tenant_id) > 0;
    if (same_key || second_read) {
      later.push_back(w);  // next group, keeping arrival order
      continue;
    }
    keys.insert({c.tenant_id, c.idempotency_key});
    if (c.reads_store) reading_tenants.insert(c.tenant_id);
    records += c.records;
    group.push_back(w);
  }
  for (auto it = later.rbegin(); it != later.rend(); ++it) queue_.push_front(*it);
  SHIELDX_CHECK(!group.empty());  // the queue was not empty and its head always fits
  return group;
}

void GroupCommitter::Commit(const std::vector<Waiter*>& group) {
  std::vector<const GroupCall*> calls;
  calls.reserve(group.size());
  for (Waiter* w : group) calls.push_back(&w->call);
  absl::StatusOr<std::vector<absl::StatusOr<GroupResult>>> results = RunGroup(calls);
  std::string label = "ok";
  if (results.ok()) {
    for (std::size_t i = 0; i < group.size(); ++i) group[i]->result = std::move((*results)[i]);
  } else if (group.size() > 1 && SplitOnFailure(results.status())) {
    label = "split";
    for (Waiter* w : group) {
      absl::StatusOr<std::vector<absl::StatusOr<GroupResult>>> alone = RunGroup({&w->call});
      if (alone.ok()) {
        w->result = std::move((*alone)[0]);
      } else {
        w->result = alone.status();
      }
    }
  } else {
    label = absl::AsciiStrToLower(absl::StatusCodeToString(results.status().code()));
    for (Waiter* w : group) w->result = results.status();
  }
  if (listener_) listener_(static_cast<int>(group.size()), label);
  for (Waiter* w : group) {
    std::unique_ptr<Waiter> owned(w);
    owned->done(*std::move(owned->result));
  }
}

absl::StatusOr<std::vector<absl::StatusOr<GroupResult>>> GroupCommitter::RunGroup(
    const std::vector<const GroupCall*>& calls) {
  std::vector<absl::StatusOr<GroupResult>> out;
  absl::Status s = store_->Transact("group_commit", [&](LedgerTransaction& tx) -> absl::Status {
    out.assign(calls.size(), absl::InternalError("credits: call not decided"));
    std::vector<KeyClaim> claims;
    claims.reserve(calls.size());
    const absl::Time now = clock_->Now();
    for (const GroupCall* c : calls) {
      claims.push_back({c->tenant_id, c->idempotency_key, c->operation, c->fingerprint, now});
    }
    SHIELDX_ASSIGN_OR_RETURN(std::vector<ClaimResult> claimed, tx.ClaimKeysAndLockAccounts(claims));
    if (claimed.size() != calls.size()) {
      return absl::InternalError(
          absl::StrCat("credits: ", claimed.size(), " claim results for ", calls.size(), " calls"));
    }
    // Each tenant's account as the next call of that tenant will see it.
    std::map<std::string, std::optional<AccountState>> accounts;
    for (std::size_t i = 0; i < calls.size(); ++i) {
      if (claimed[i].claimed) accounts.emplace(calls[i]->tenant_id, claimed[i].account);
    }
    std::vector<WriteSet> writes;
    std::vector<std::pair<std::string, std::string>> released;
    for (std::size_t i = 0; i < calls.size(); ++i) {
      const GroupCall& c = *calls[i];
      GroupResult r;
      if (!claimed[i].claimed) {
        r.stored_operation = std::move(claimed[i].stored_operation);
        r.stored_fingerprint = std::move(claimed[i].stored_fingerprint);
        r.stored_response = std::move(claimed[i].stored_response);
        out[i] = std::move(r);
        continue;
      }
      std::optional<AccountState>& account = accounts[c.tenant_id];
      DecisionTx reads(tx);
      WriteSet w;
      std::string response;
      absl::Status decided = (*c.decide)(reads, account, w, response);
      if (!reads.store_error().ok()) return reads.store_error();
      if (!decided.ok()) {
        out[i] = decided;
        released.emplace_back(c.tenant_id, c.idempotency_key);
        continue;
      }
      if (w.new_account.has_value()) {
        return absl::InternalError(absl::StrCat("credits: ", c.operation,
                                                " cannot open an account inside a group commit"));
      }
      w.tenant_id = c.tenant_id;
      w.idempotency_key = c.idempotency_key;
      w.response = response;
      r.claimed = true;
      r.response = std::move(response);
      r.before = account;
      if (account.has_value()) {
        account = StateAfter(*account, w);
        r.after = account;
      }
      writes.push_back(std::move(w));
      out[i] = std::move(r);
    }
    return tx.ApplyMany(writes, released);
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace shieldx::credits
