// Group commit on the in-memory store: groups are assembled deterministically with GatedStore
// (the committer is held on one transaction while the test queues the next group), so each
// test knows exactly which calls shared a transaction.
#include "services/credits/group_commit.h"

#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/testing/status_matchers.h"
#include "services/credits/gated_store_for_test.h"
#include "services/credits/in_memory_ledger_store.h"
#include "services/credits/ledger.h"

namespace shieldx::credits {
namespace {

using ::shieldx::testing::IsOk;
using ::shieldx::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;

// Records every group transaction (calls, result) and operation result.
class GroupObserver final : public LedgerObserver {
 public:
  void OnOperation(const std::string& op, const std::string& result) override {
    absl::MutexLock l(&mu_);
    ops_[op + "/" + result]++;
  }
  void OnBalance(const std::string&, const Balance&) override {}
  void OnConsumed(UsageKind, int64_t) override {}
  void OnRefunded(UsageKind, int64_t) override {}
  void OnLowBalance(const std::string&, const Balance&) override {}
  void OnGroupCommit(int calls, const std::string& result) override {
    absl::MutexLock l(&mu_);
    groups_.emplace_back(calls, result);
  }
  std::vector<std::pair<int, std::string>> groups() {
    absl::MutexLock l(&mu_);
    return groups_;
  }
  int ops(const std::string& key) {
    absl::MutexLock l(&mu_);
    return ops_[key];
  }

 private:
  absl::Mutex mu_;
  std::vector<std::pair<int, std::string>> groups_;
  std::map<std::string, int> ops_;
};

// Polls `done` for up to 30 s (CI machines are slow; no fixed sleeps).
template <typename F>
bool WaitFor(F done) {
  for (int i = 0; i < 30'000; ++i) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return false;
}

class GroupCommitTest : public ::testing::Test {
 protected:
  GroupCommitTest()
      : gate_(&inner_),
        signer_(*AuditSigner::Create(std::string(32, 'g'))),
        payments_(PaymentProviders::Default()),
        ledger_(&gate_, &signer_, &payments_, &clock_, &ids_, &observer_,
                GroupCommitOptions{.max_calls = 64, .committers = 1}) {}

  void Open(const std::string& tenant, int64_t credits) {
    ASSERT_OK(ledger_.OpenAccount({tenant, "open", 0, 0}));
    if (credits > 0) {
      ASSERT_OK(ledger_.TopUp({tenant, "top", credits, {"promotion", "", ""}}));
    }
  }
  static ConsumeCommand Consume(const std::string& tenant, const std::string& key, int64_t amount) {
    ConsumeCommand c;
    c.tenant_id = tenant;
    c.idempotency_key = key;
    c.record = {UsageKind::kInspectedRequest, 1, amount, "route", std::nullopt, std::nullopt};
    c.shortfall_policy = ShortfallPolicy::kReject;
    return c;
  }
  int64_t Available(const std::string& tenant) {
    auto b = ledger_.GetBalance(tenant);
    EXPECT_OK(b);
    return b.ok() ? b->available_credits : -1;
  }
  void ExpectLedgerSound(const std::vector<std::string>& tenants) {
    auto v = inner_.CheckInvariants();
    ASSERT_OK(v);
    EXPECT_THAT(*v, IsEmpty());
    for (const std::string& t : tenants) {
      auto audit = ledger_.VerifyAudit(t, 0, 0);
      ASSERT_OK(audit);
      EXPECT_TRUE(audit->ok) << t << ": " << audit->problems.size() << " audit problems";
    }
  }

  // Runs `calls` so that they all share ONE group transaction: the committer is held on a
  // warm-up call while they queue, then released. Returns when every call has finished.
  void RunInOneGroup(const std::vector<std::function<void()>>& calls) {
    gate_.Close();
    std::thread warm([this] { (void)ledger_.Consume(Consume("warm", NextWarmKey(), 1)); });
    ASSERT_TRUE(WaitFor([this] { return gate_.waiting() == 1; }));
    std::vector<std::thread> threads;
    for (const auto& c : calls) threads.emplace_back(c);
    ASSERT_TRUE(WaitFor([&] { return ledger_.group_commit_queued() == calls.size(); }));
    gate_.Open();
    warm.join();
    for (auto& t : threads) t.join();
  }
  std::string NextWarmKey() { return absl::StrCat("warm-", ++warm_keys_); }

  InMemoryLedgerStore inner_;
  GatedStore gate_;
  AuditSigner signer_;
  PaymentProviders payments_;
  FakeClock clock_{absl::FromUnixSeconds(1'700'000'000)};
  RandomIdGenerator ids_;
  GroupObserver observer_;
  std::atomic<int> warm_keys_{0};
  Ledger ledger_;
};

TEST_F(GroupCommitTest, OneFailingCallDoesNotFailTheOthersInItsGroup) {
  Open("warm", 1000);
  Open("acme", 100);
  Open("beta", 5);
  absl::StatusOr<ConsumeResult> a1, b_big, a2, b_small;
  RunInOneGroup({[&] { a1 = ledger_.Consume(Consume("acme", "a1", 10)); },
                 [&] { b_big = ledger_.Consume(Consume("beta", "b-big", 50)); },
                 [&] { a2 = ledger_.Consume(Consume("acme", "a2", 20)); },
                 [&] { b_small = ledger_.Consume(Consume("beta", "b-small", 3)); }});
  EXPECT_OK(a1);
  EXPECT_OK(a2);
  EXPECT_OK(b_small);
  EXPECT_THAT(b_big,
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("INSUFFICIENT_CREDITS")));
  EXPECT_THAT(observer_.groups().back(), Pair(4, "ok"));  // all four in one transaction
  EXPECT_EQ(Available("acme"), 70);
  EXPECT_EQ(Available("beta"), 2);
  // The failed call's key was released in the same transaction: it is free for a new request.
  auto retry = ledger_.Consume(Consume("beta", "b-big", 2));
  ASSERT_OK(retry);
  EXPECT_EQ(retry->balance.available_credits, 0);
  ExpectLedgerSound({"acme", "beta"});
}

TEST_F(GroupCommitTest, CallsOfOneTenantChainOnEachOtherInsideAGroup) {
  Open("warm", 1000);
  Open("acme", 100);
  std::vector<absl::StatusOr<ConsumeResult>> r(5);
  std::vector<std::function<void()>> calls;
  for (int i = 0; i < 5; ++i) {
    calls.push_back([&, i] { r[i] = ledger_.Consume(Consume("acme", absl::StrCat("k", i), 30)); });
  }
  RunInOneGroup(calls);
  // 100 credits: three consumes of 30 fit, whichever order the group took them in; the other
  // two are refused on the balance the earlier calls of the SAME group left.
  int ok = 0;
  std::set<int64_t> sequences;
  for (const auto& x : r) {
    if (x.ok()) {
      ++ok;
      sequences.insert(x->transfer.sequence);
    } else {
      EXPECT_THAT(x, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("have 10")));
    }
  }
  EXPECT_EQ(ok, 3);
  EXPECT_EQ(sequences.size(), 3u);  // distinct audit sequence numbers, one chain
  EXPECT_THAT(observer_.groups().back(), Pair(5, "ok"));
  EXPECT_EQ(Available("acme"), 10);
  ExpectLedgerSound({"acme"});
}

TEST_F(GroupCommitTest, DuplicateKeysAreNeverInOneGroupAndApplyOnce) {
  Open("warm", 1000);
  Open("acme", 100);
  std::vector<absl::StatusOr<ConsumeResult>> same(3);
  absl::StatusOr<ConsumeResult> different;
  std::vector<std::function<void()>> calls;
  for (int i = 0; i < 3; ++i) {
    calls.push_back([&, i] { same[i] = ledger_.Consume(Consume("acme", "dup", 7)); });
  }
  calls.push_back([&] { different = ledger_.Consume(Consume("acme", "dup", 8)); });
  calls.push_back([&] { (void)ledger_.Consume(Consume("acme", "other", 1)); });
  RunInOneGroup(calls);
  // Exactly one request with key "dup" was applied; the others either replayed it (same
  // request) or were refused (different request).
  const int64_t left = Available("acme");
  ASSERT_TRUE(left == 100 - 1 - 7 || left == 100 - 1 - 8) << left;
  const bool seven_won = left == 92;
  std::set<std::string> transfer_ids;
  for (const auto& x : same) {
    if (seven_won) {
      ASSERT_OK(x);
      transfer_ids.insert(x->transfer.transfer_id);
    } else {
      EXPECT_THAT(x, StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("IDEMPOTENCY_KEY")));
    }
  }
  if (seven_won) {
    EXPECT_EQ(transfer_ids.size(), 1u);  // one transfer, replayed byte for byte
    EXPECT_THAT(different, StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("REUSED")));
    EXPECT_EQ(observer_.ops("consume/replayed"), 2);
  } else {
    EXPECT_OK(different);
  }
  // The duplicates waited for later groups (a key twice in one group would fail it).
  for (const auto& [calls_in_group, result] : observer_.groups()) EXPECT_EQ(result, "ok");
  ExpectLedgerSound({"acme"});
}

TEST_F(GroupCommitTest, AStoreFailureMidGroupFailsEveryCallAndAppliesNothing) {
  Open("warm", 1000);
  Open("acme", 100);
  Open("beta", 100);
  // The group's writes succeed, then the store fails before commit (a lost connection).
  const int group_tx = gate_.transactions() + 1;  // after the warm-up transaction
  gate_.set_after_apply_many([group_tx](int index) {
    return index == group_tx ? absl::UnavailableError("connection to the database lost")
                             : absl::OkStatus();
  });
  std::vector<absl::StatusOr<ConsumeResult>> r(4);
  RunInOneGroup({[&] { r[0] = ledger_.Consume(Consume("acme", "x0", 10)); },
                 [&] { r[1] = ledger_.Consume(Consume("beta", "x1", 10)); },
                 [&] { r[2] = ledger_.Consume(Consume("acme", "x2", 500)); },  // would fail alone
                 [&] { r[3] = ledger_.Consume(Consume("beta", "x3", 10)); }});
  // Every caller learns the group failed, including the call whose own decision had refused.
  for (int i = 0; i < 4; ++i) EXPECT_THAT(r[i], StatusIs(absl::StatusCode::kUnavailable)) << i;
  EXPECT_THAT(observer_.groups().back(), Pair(4, "unavailable"));
  gate_.set_after_apply_many(nullptr);
  EXPECT_EQ(Available("acme"), 100);
  EXPECT_EQ(Available("beta"), 100);
  // Nothing was recorded: the same keys apply now (first application, not a replay).
  EXPECT_OK(ledger_.Consume(Consume("acme", "x0", 10)));
  EXPECT_OK(ledger_.Consume(Consume("beta", "x1", 10)));
  EXPECT_EQ(observer_.ops("consume/replayed"), 0);
  EXPECT_EQ(Available("acme"), 90);
  ExpectLedgerSound({"acme", "beta"});
}

TEST_F(GroupCommitTest, ACommitFailureFailsEveryCallAndAppliesNothing) {
  Open("warm", 1000);
  Open("acme", 100);
  const int group_tx = gate_.transactions() + 1;
  gate_.set_before_transaction([this, group_tx](int index) {
    if (index == group_tx) inner_.FailNextCommit(absl::UnknownError("COMMIT outcome unknown"));
  });
  std::vector<absl::StatusOr<ConsumeResult>> r(3);
  RunInOneGroup({[&] { r[0] = ledger_.Consume(Consume("acme", "c0", 1)); },
                 [&] { r[1] = ledger_.Consume(Consume("acme", "c1", 2)); },
                 [&] { r[2] = ledger_.Consume(Consume("acme", "c2", 3)); }});
  for (const auto& x : r) EXPECT_THAT(x, StatusIs(absl::StatusCode::kUnknown));
  EXPECT_THAT(observer_.groups().back(), Pair(3, "unknown"));
  gate_.set_before_transaction(nullptr);
  EXPECT_EQ(Available("acme"), 100);
  ExpectLedgerSound({"acme"});
}

TEST_F(GroupCommitTest, AStoreRefusalSplitsTheGroupSoOnlyTheCulpritFails) {
  Open("warm", 1000);
  Open("acme", 0);
  Open("beta", 0);
  // Two top-ups of different tenants record the same manual payment: each decision alone is
  // fine, together the store's unique reference refuses the group.
  absl::StatusOr<TopUpResult> a, b;
  absl::StatusOr<ConsumeResult> c;
  RunInOneGroup({[&] {
                   a = ledger_.TopUp({"acme", "t1", 50, {"manual", "INV-7", "wire"}});
                 },
                 [&] {
                   b = ledger_.TopUp({"beta", "t1", 50, {"manual", "INV-7", "wire"}});
                 },
                 [&] { c = ledger_.Consume(Consume("warm", "w-extra", 5)); }});
  EXPECT_OK(c);
  EXPECT_NE(a.ok(), b.ok()) << a.status() << " / " << b.status();
  const absl::Status& refused = a.ok() ? b.status() : a.status();
  EXPECT_THAT(refused,
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("PAYMENT_ALREADY_RECORDED")));
  EXPECT_THAT(observer_.groups().back(), Pair(3, "split"));
  EXPECT_EQ(Available("acme") + Available("beta"), 50);
  ExpectLedgerSound({"acme", "beta", "warm"});
}

TEST_F(GroupCommitTest, TwoSettlementsOfOneHoldNeverShareAGroup) {
  Open("warm", 1000);
  Open("acme", 100);
  auto hold = ledger_.Reserve({"acme", "r1", 40, absl::Minutes(5), UsageKind::kTwinSimulation, ""});
  ASSERT_OK(hold);
  absl::StatusOr<CaptureResult> cap;
  absl::StatusOr<VoidResult> vd;
  RunInOneGroup({[&] {
                   cap = ledger_.Capture({"acme", "cap", hold->hold.hold_id, 30, 1});
                 },
                 [&] {
                   vd = ledger_.Void({"acme", "void", hold->hold.hold_id, "changed mind"});
                 }});
  // Both read the hold under the lock: the second waited for the next group and saw the first.
  EXPECT_NE(cap.ok(), vd.ok());
  const absl::Status& refused = cap.ok() ? vd.status() : cap.status();
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("NOT_PENDING")));
  EXPECT_EQ(Available("acme"), cap.ok() ? 70 : 100);
  ExpectLedgerSound({"acme"});
}

TEST_F(GroupCommitTest, ConcurrentRandomLoadKeepsEveryInvariant) {
  const std::vector<std::string> tenants = {"t0", "t1", "t2"};
  for (const auto& t : tenants) Open(t, 2000);
  // Three committers: groups commit concurrently (serialised by the store, as by row locks).
  Ledger ledger(&gate_, &signer_, &payments_, &clock_, &ids_, &observer_,
                GroupCommitOptions{.max_calls = 16, .committers = 3});
  constexpr int kThreads = 8;
  constexpr int kCallsPerThread = 150;
  std::atomic<int64_t> consumed{0};
  absl::Mutex mu;
  std::map<std::pair<std::string, std::string>, int64_t> applied;  // key -> amount
  std::vector<std::thread> threads;
  for (int th = 0; th < kThreads; ++th) {
    threads.emplace_back([&, th] {
      std::mt19937 rng(th);
      for (int i = 0; i < kCallsPerThread; ++i) {
        const std::string& t = tenants[rng() % tenants.size()];
        // Keys collide across threads on purpose (duplicates and retries).
        const std::string key = absl::StrCat("k", rng() % 300);
        const int64_t amount = 1 + static_cast<int64_t>((key.size() * 7 + key.back()) % 13);
        auto r = ledger.Consume(Consume(t, key, amount));
        if (r.ok()) {
          absl::MutexLock l(&mu);
          auto [it, fresh] = applied.emplace(std::make_pair(t, key), r->transfer.amount_credits);
          if (fresh) consumed += r->transfer.amount_credits;
          EXPECT_EQ(it->second, r->transfer.amount_credits);  // a replay returns the same
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  int64_t left = 0;
  for (const auto& t : tenants) left += Available(t);
  EXPECT_EQ(left, 3 * 2000 - consumed.load());
  for (const auto& [n, result] : observer_.groups()) EXPECT_EQ(result, "ok");
  ExpectLedgerSound(tenants);
}

TEST(GroupCommitOptionsTest, ValidateNamesTheFieldAndItsBounds) {
  EXPECT_OK(GroupCommitOptions{}.Validate());
  EXPECT_THAT(GroupCommitOptions{.max_calls = 0}.Validate(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("group_commit_max_calls")));
  EXPECT_THAT(GroupCommitOptions{.max_calls = kMaxGroupCommitCalls + 1}.Validate(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("1000")));
  EXPECT_THAT(GroupCommitOptions{.window = absl::Seconds(1)}.Validate(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("group_commit_window")));
  EXPECT_THAT(GroupCommitOptions{.committers = 0}.Validate(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("group_commit_committers")));
  EXPECT_FALSE(GroupCommitOptions{.max_calls = 1}.enabled());
}

}  // namespace
}  // namespace shieldx::credits
