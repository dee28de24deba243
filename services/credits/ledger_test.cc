#include "services/credits/ledger.h"

#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/testing/status_matchers.h"
#include "services/credits/in_memory_ledger_store.h"

namespace shieldx::credits {
namespace {

using ::shieldx::testing::IsOk;
using ::shieldx::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

class SequentialIds final : public IdGenerator {
 public:
  std::string NewId(const std::string& prefix) override {
    absl::MutexLock lock(&mu_);
    return absl::StrCat(prefix, ++n_);
  }

 private:
  absl::Mutex mu_;
  int n_ = 0;
};

class RecordingObserver final : public LedgerObserver {
 public:
  void OnOperation(const std::string& op, const std::string& result) override {
    absl::MutexLock lock(&mu_);
    ops[op + "/" + result]++;
  }
  void OnBalance(const std::string& tenant, const Balance& b) override {
    absl::MutexLock lock(&mu_);
    balances[tenant] = b.available_credits;
  }
  void OnConsumed(UsageKind kind, int64_t credits) override {
    absl::MutexLock lock(&mu_);
    consumed[kind] += credits;
  }
  void OnRefunded(UsageKind kind, int64_t credits) override {
    absl::MutexLock lock(&mu_);
    consumed[kind] -= credits;
  }
  void OnLowBalance(const std::string& tenant, const Balance&) override {
    absl::MutexLock lock(&mu_);
    low[tenant]++;
  }
  absl::Mutex mu_;
  std::map<std::string, int> ops;
  std::map<std::string, int64_t> balances;
  std::map<std::string, int> low;
  std::map<UsageKind, int64_t> consumed;
};

class LedgerTest : public ::testing::Test {
 protected:
  LedgerTest()
      : signer_(*AuditSigner::Create(std::string(32, 's'))),
        payments_(PaymentProviders::Default()),
        ledger_(&store_, &signer_, &payments_, &clock_, &ids_, &observer_) {}

  void Open(const std::string& tenant, int64_t overdraft = 0, int64_t threshold = 0) {
    ASSERT_OK(ledger_.OpenAccount({tenant, "open-" + tenant, overdraft, threshold}));
  }
  void TopUp(const std::string& tenant, int64_t amount, const std::string& key) {
    ASSERT_OK(ledger_.TopUp({tenant, key, amount, {"promotion", "", ""}}));
  }
  ConsumeCommand Consume(const std::string& tenant, const std::string& key, int64_t amount,
                         ShortfallPolicy policy = ShortfallPolicy::kReject) {
    ConsumeCommand c;
    c.tenant_id = tenant;
    c.idempotency_key = key;
    c.record = {
        UsageKind::kInspectedRequest, amount * 10, amount, "route-1", std::nullopt, std::nullopt};
    c.shortfall_policy = policy;
    return c;
  }
  int64_t Available(const std::string& tenant) {
    auto b = ledger_.GetBalance(tenant);
    EXPECT_OK(b);
    return b.ok() ? b->available_credits : -1;
  }
  void ExpectInvariants() {
    auto v = store_.CheckInvariants();
    ASSERT_OK(v);
    EXPECT_THAT(*v, IsEmpty());
  }

  InMemoryLedgerStore store_;
  AuditSigner signer_;
  PaymentProviders payments_;
  FakeClock clock_;
  SequentialIds ids_;
  RecordingObserver observer_;
  Ledger ledger_;
};

TEST_F(LedgerTest, OpenAccountIsIdempotentAndRefusesDifferentSettings) {
  auto first = ledger_.OpenAccount({"acme", "k1", 0, 100});
  ASSERT_OK(first);
  EXPECT_EQ(first->account.account_id, "tenant:acme");
  EXPECT_EQ(first->balance.sequence, 1);
  auto same_key = ledger_.OpenAccount({"acme", "k1", 0, 100});
  ASSERT_OK(same_key);
  EXPECT_EQ(same_key->account.created_at, first->account.created_at);
  EXPECT_OK(ledger_.OpenAccount({"acme", "k2", 0, 100}));  // already open, same settings
  auto different = ledger_.OpenAccount({"acme", "k3", 50, 100});
  EXPECT_THAT(different, StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("ACCOUNT_EXISTS")));
  EXPECT_EQ(ReasonOf(different.status()), kReasonAccountExists);
  ExpectInvariants();
}

TEST_F(LedgerTest, MissingIdempotencyKeyIsInvalidArgument) {
  Open("acme");
  EXPECT_THAT(ledger_.Consume(Consume("acme", "", 1)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("idempotency_key")));
  EXPECT_THAT(ledger_.TopUp({"acme", "", 5, {"promotion", "", ""}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ledger_.OpenAccount({"beta", "", 0, 0}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ledger_.Consume(Consume("acme", std::string(129, 'k'), 1)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("128")));
}

TEST_F(LedgerTest, UnknownTenantAccountIsNotFound) {
  auto r = ledger_.Consume(Consume("ghost", "k", 1));
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(ReasonOf(r.status()), kReasonAccountNotFound);
  EXPECT_THAT(ledger_.GetBalance("ghost"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(ledger_.GetBalance("_platform"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(LedgerTest, RetryReturnsTheOriginalResponseAndChargesOnce) {
  Open("acme");
  TopUp("acme", 100, "t1");
  auto first = ledger_.Consume(Consume("acme", "c1", 30));
  ASSERT_OK(first);
  clock_.Advance(absl::Seconds(5));
  auto retry = ledger_.Consume(Consume("acme", "c1", 30));
  ASSERT_OK(retry);
  EXPECT_EQ(retry->transfer.transfer_id, first->transfer.transfer_id);
  EXPECT_EQ(retry->balance.available_credits, 70);
  EXPECT_EQ(retry->balance.as_of, first->balance.as_of);
  EXPECT_EQ(Available("acme"), 70);
  EXPECT_EQ(observer_.ops["consume/replayed"], 1);
  ExpectInvariants();
}

TEST_F(LedgerTest, SameKeyWithADifferentRequestIsRejected) {
  Open("acme");
  TopUp("acme", 100, "t1");
  ASSERT_OK(ledger_.Consume(Consume("acme", "c1", 30)));
  auto other_amount = ledger_.Consume(Consume("acme", "c1", 31));
  EXPECT_THAT(other_amount,
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("IDEMPOTENCY_KEY_REUSED")));
  auto other_op = ledger_.TopUp({"acme", "c1", 30, {"promotion", "", ""}});
  EXPECT_EQ(ReasonOf(other_op.status()), kReasonIdempotencyKeyReused);
  EXPECT_EQ(Available("acme"), 70);
}

TEST_F(LedgerTest, KeysAreScopedPerTenant) {
  Open("acme");
  Open("beta");
  TopUp("acme", 100, "same");
  TopUp("beta", 50, "same");
  EXPECT_EQ(Available("acme"), 100);
  EXPECT_EQ(Available("beta"), 50);
}

TEST_F(LedgerTest, AFailedCallLeavesItsKeyFreeForALaterRetry) {
  Open("acme");
  auto r = ledger_.Consume(Consume("acme", "c1", 10));
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kFailedPrecondition,
                          HasSubstr("insufficient credits (have 0 including overdraft, need 10)")));
  EXPECT_EQ(ReasonOf(r.status()), kReasonInsufficientCredits);
  TopUp("acme", 10, "t1");
  EXPECT_OK(ledger_.Consume(Consume("acme", "c1", 10)));
  EXPECT_EQ(Available("acme"), 0);
}

TEST_F(LedgerTest, ACommitFailureRecordsNothing) {
  Open("acme");
  TopUp("acme", 100, "t1");
  store_.FailNextCommit(absl::UnavailableError("connection lost"));
  EXPECT_THAT(ledger_.Consume(Consume("acme", "c1", 10)), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(Available("acme"), 100);
  EXPECT_OK(ledger_.Consume(Consume("acme", "c1", 10)));
  EXPECT_EQ(Available("acme"), 90);
  ExpectInvariants();
}

TEST_F(LedgerTest, CapPolicyConsumesWhatIsLeftAndReportsTheShortfall) {
  Open("acme");
  TopUp("acme", 25, "t1");
  auto r = ledger_.Consume(Consume("acme", "c1", 40, ShortfallPolicy::kCap));
  ASSERT_OK(r);
  EXPECT_EQ(r->transfer.amount_credits, 25);
  EXPECT_EQ(r->shortfall_credits, 15);
  EXPECT_EQ(r->balance.available_credits, 0);
  auto empty = ledger_.Consume(Consume("acme", "c2", 5, ShortfallPolicy::kCap));
  ASSERT_OK(empty);
  EXPECT_EQ(empty->transfer.transfer_id, "");
  EXPECT_EQ(empty->shortfall_credits, 5);
  ExpectInvariants();
}

TEST_F(LedgerTest, OverdraftLimitBoundsNegativeBalances) {
  Open("acme", /*overdraft=*/50);
  ASSERT_OK(ledger_.Consume(Consume("acme", "c1", 50)));
  EXPECT_EQ(Available("acme"), -50);
  EXPECT_THAT(ledger_.Consume(Consume("acme", "c2", 1)),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  ExpectInvariants();
}

TEST_F(LedgerTest, TopUpRecordsManualPaymentsOnceAndRejectsUnknownProviders) {
  Open("acme");
  auto r = ledger_.TopUp({"acme", "t1", 500, {"manual", "INV-2024-001", "wire"}});
  ASSERT_OK(r);
  EXPECT_EQ(r->transfer.debit_account_id, kPaymentClearingAccountId);
  EXPECT_EQ(r->transfer.payment.external_reference, "INV-2024-001");
  auto dup = ledger_.TopUp({"acme", "t2", 500, {"manual", "INV-2024-001", ""}});
  EXPECT_EQ(ReasonOf(dup.status()), kReasonPaymentAlreadyRecorded);
  EXPECT_THAT(ledger_.TopUp({"acme", "t3", 5, {"manual", "", ""}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("external_reference")));
  EXPECT_THAT(ledger_.TopUp({"acme", "t4", 5, {"card", "x", ""}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown provider")));
  EXPECT_THAT(ledger_.TopUp({"acme", "t5", 0, {"promotion", "", ""}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(Available("acme"), 500);
  ExpectInvariants();
}

TEST_F(LedgerTest, ConsumeBatchIsAllOrNothing) {
  Open("acme");
  TopUp("acme", 100, "t1");
  ConsumeBatchCommand b{"acme", "b1", {}, ShortfallPolicy::kReject};
  for (int i = 0; i < 5; ++i) {
    b.records.push_back({UsageKind::kInspectedRequest, 100, 30, "r", std::nullopt, std::nullopt});
  }
  EXPECT_THAT(ledger_.ConsumeBatch(b), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(Available("acme"), 100);
  b.records.resize(3);
  auto r = ledger_.ConsumeBatch(b);
  ASSERT_OK(r);
  EXPECT_EQ(r->applied_records, 3u);
  EXPECT_EQ(r->consumed_credits, 90);
  EXPECT_EQ(r->last_sequence, 5);  // open, top-up, three consumes
  EXPECT_EQ(Available("acme"), 10);
  ExpectInvariants();
}

TEST_F(LedgerTest, ConsumeBatchCapAppliesRecordsInOrderUntilTheBalanceRunsOut) {
  Open("acme");
  TopUp("acme", 50, "t1");
  ConsumeBatchCommand b{"acme", "b1", {}, ShortfallPolicy::kCap};
  for (int i = 0; i < 3; ++i) {
    b.records.push_back({UsageKind::kPluginExecution, 1, 20, "r", std::nullopt, std::nullopt});
  }
  auto r = ledger_.ConsumeBatch(b);
  ASSERT_OK(r);
  EXPECT_EQ(r->consumed_credits, 50);
  EXPECT_EQ(r->shortfall_credits, 10);
  EXPECT_EQ(r->applied_records, 3u);
  ExpectInvariants();
}

TEST_F(LedgerTest, ConsumeBatchLimits) {
  Open("acme");
  ConsumeBatchCommand b{"acme", "b1", {}, ShortfallPolicy::kReject};
  EXPECT_THAT(ledger_.ConsumeBatch(b), StatusIs(absl::StatusCode::kInvalidArgument));
  b.records.assign(kMaxBatchRecords + 1,
                   {UsageKind::kInspectedRequest, 1, 1, "", std::nullopt, std::nullopt});
  EXPECT_THAT(ledger_.ConsumeBatch(b),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("10000")));
  b.records.resize(2);
  b.records[1].usage_kind = UsageKind::kUnspecified;
  EXPECT_THAT(ledger_.ConsumeBatch(b),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("records[1].usage_kind")));
}

TEST_F(LedgerTest, ReserveHoldsCreditsAndCaptureReleasesTheUncapturedRemainder) {
  Open("acme");
  TopUp("acme", 100, "t1");
  auto hold =
      ledger_.Reserve({"acme", "r1", 60, absl::Minutes(5), UsageKind::kTwinSimulation, "sim-1"});
  ASSERT_OK(hold);
  EXPECT_EQ(hold->balance.pending_credits, 60);
  EXPECT_EQ(hold->balance.available_credits, 40);
  EXPECT_THAT(ledger_.Consume(Consume("acme", "c1", 41)),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(ledger_.Reserve({"acme", "r2", 41, absl::Minutes(5), UsageKind::kTwinSimulation, ""}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  auto cap = ledger_.Capture({"acme", "cap1", hold->hold.hold_id, 25, 7});
  ASSERT_OK(cap);
  EXPECT_EQ(cap->hold.state, HoldState::kCaptured);
  EXPECT_EQ(cap->hold.captured_credits, 25);
  EXPECT_EQ(cap->balance.posted_credits, 75);
  EXPECT_EQ(cap->balance.pending_credits, 0);
  EXPECT_EQ(Available("acme"), 75);
  auto again = ledger_.Capture({"acme", "cap2", hold->hold.hold_id, 5, 1});
  EXPECT_EQ(ReasonOf(again.status()), kReasonHoldNotPending);
  ExpectInvariants();
}

TEST_F(LedgerTest, CaptureAboveTheHoldIsRefused) {
  Open("acme");
  TopUp("acme", 100, "t1");
  auto hold = ledger_.Reserve({"acme", "r1", 10, absl::Minutes(5), UsageKind::kTwinSimulation, ""});
  ASSERT_OK(hold);
  auto cap = ledger_.Capture({"acme", "cap1", hold->hold.hold_id, 11, 1});
  EXPECT_EQ(ReasonOf(cap.status()), kReasonCaptureExceedsHold);
  EXPECT_EQ(Available("acme"), 90);
}

TEST_F(LedgerTest, VoidReleasesTheHold) {
  Open("acme");
  TopUp("acme", 100, "t1");
  auto hold =
      ledger_.Reserve({"acme", "r1", 70, absl::Minutes(5), UsageKind::kShadowEvaluation, ""});
  ASSERT_OK(hold);
  auto v = ledger_.Void({"acme", "v1", hold->hold.hold_id, "evaluation cancelled"});
  ASSERT_OK(v);
  EXPECT_EQ(v->hold.state, HoldState::kVoided);
  EXPECT_EQ(Available("acme"), 100);
  EXPECT_EQ(ReasonOf(ledger_.Void({"acme", "v2", hold->hold.hold_id, ""}).status()),
            kReasonHoldNotPending);
  EXPECT_EQ(ReasonOf(ledger_.Void({"acme", "v3", "hd_nope", ""}).status()), kReasonHoldNotFound);
  ExpectInvariants();
}

TEST_F(LedgerTest, SweeperExpiresDueHoldsAndCaptureAfterTheDeadlineFails) {
  Open("acme");
  TopUp("acme", 100, "t1");
  auto hold =
      ledger_.Reserve({"acme", "r1", 40, absl::Seconds(30), UsageKind::kTwinSimulation, ""});
  ASSERT_OK(hold);
  auto early = ledger_.ExpireDueHolds(10);
  ASSERT_OK(early);
  EXPECT_EQ(*early, 0);
  clock_.Advance(absl::Seconds(30));
  EXPECT_EQ(ReasonOf(ledger_.Capture({"acme", "c1", hold->hold.hold_id, 1, 1}).status()),
            kReasonHoldExpired);
  auto swept = ledger_.ExpireDueHolds(10);
  ASSERT_OK(swept);
  EXPECT_EQ(*swept, 1);
  EXPECT_EQ(Available("acme"), 100);
  auto page = ledger_.ListTransfers({.tenant_id = "acme", .kinds = {TransferKind::kExpire}});
  ASSERT_OK(page);
  ASSERT_THAT(page->transfers, SizeIs(1));
  EXPECT_EQ(page->transfers[0].hold_id, hold->hold.hold_id);
  EXPECT_TRUE(ledger_.VerifyAudit("acme", 0, 0)->ok);
  ExpectInvariants();
}

TEST_F(LedgerTest, ReserveTtlLimits) {
  Open("acme");
  TopUp("acme", 100, "t1");
  EXPECT_THAT(
      ledger_.Reserve({"acme", "r1", 1, absl::Milliseconds(999), UsageKind::kTwinSimulation, ""}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ttl_ms")));
  EXPECT_THAT(ledger_.Reserve({"acme", "r2", 1, absl::Hours(24 * 7) + absl::Seconds(1),
                               UsageKind::kTwinSimulation, ""}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(LedgerTest, RefundIsBoundedByWhatTheTransferConsumed) {
  Open("acme");
  TopUp("acme", 100, "t1");
  auto c = ledger_.Consume(Consume("acme", "c1", 40));
  ASSERT_OK(c);
  auto r1 = ledger_.Refund({"acme", "f1", c->transfer.transfer_id, 15, "false positive"});
  ASSERT_OK(r1);
  EXPECT_EQ(r1->refundable_credits, 25);
  EXPECT_EQ(r1->balance.available_credits, 75);
  auto too_much = ledger_.Refund({"acme", "f2", c->transfer.transfer_id, 26, ""});
  EXPECT_EQ(ReasonOf(too_much.status()), kReasonRefundExceedsRefundable);
  EXPECT_THAT(too_much.status().message(), HasSubstr("refundable 25"));
  ASSERT_OK(ledger_.Refund({"acme", "f3", c->transfer.transfer_id, 25, ""}));
  EXPECT_EQ(Available("acme"), 100);
  auto topup = ledger_.ListTransfers({.tenant_id = "acme", .kinds = {TransferKind::kTopUp}});
  ASSERT_OK(topup);
  EXPECT_EQ(
      ReasonOf(ledger_.Refund({"acme", "f4", topup->transfers[0].transfer_id, 1, ""}).status()),
      kReasonNotRefundable);
  ExpectInvariants();
}

TEST_F(LedgerTest, ATenantCannotTouchAnotherTenantsHoldsOrTransfers) {
  Open("acme");
  Open("beta");
  TopUp("acme", 100, "t1");
  TopUp("beta", 100, "t1");
  auto hold = ledger_.Reserve({"acme", "r1", 10, absl::Minutes(5), UsageKind::kTwinSimulation, ""});
  ASSERT_OK(hold);
  auto c = ledger_.Consume(Consume("acme", "c1", 10));
  ASSERT_OK(c);
  EXPECT_EQ(ReasonOf(ledger_.Capture({"beta", "x1", hold->hold.hold_id, 5, 1}).status()),
            kReasonHoldNotFound);
  EXPECT_EQ(ReasonOf(ledger_.Void({"beta", "x2", hold->hold.hold_id, ""}).status()),
            kReasonHoldNotFound);
  EXPECT_EQ(ReasonOf(ledger_.Refund({"beta", "x3", c->transfer.transfer_id, 5, ""}).status()),
            kReasonTransferNotFound);
  EXPECT_EQ(Available("acme"), 80);
  EXPECT_EQ(Available("beta"), 100);
}

TEST_F(LedgerTest, ListTransfersPagesNewestFirstWithFilters) {
  Open("acme");
  TopUp("acme", 1000, "t1");
  for (int i = 0; i < 7; ++i) {
    ASSERT_OK(ledger_.Consume(Consume("acme", absl::StrCat("c", i), 1)));
  }
  ListTransfersQuery q{.tenant_id = "acme", .page_size = 3, .kinds = {TransferKind::kConsume}};
  std::vector<int64_t> seqs;
  for (int page = 0; page < 5; ++page) {
    auto p = ledger_.ListTransfers(q);
    ASSERT_OK(p);
    for (const Transfer& t : p->transfers) seqs.push_back(t.sequence);
    if (p->next_page_token.empty()) break;
    q.page_token = p->next_page_token;
  }
  EXPECT_THAT(seqs, ElementsAre(9, 8, 7, 6, 5, 4, 3));
  ListTransfersQuery other{.tenant_id = "acme", .page_size = 3, .page_token = "v1.5.bogus"};
  EXPECT_EQ(ReasonOf(ledger_.ListTransfers(other).status()), kReasonInvalidPageToken);
  other.page_token = "garbage";
  EXPECT_THAT(ledger_.ListTransfers(other), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ledger_.ListTransfers({.tenant_id = "acme", .page_size = 1001}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(LedgerTest, UsageReportBucketsByDayAndKindNetOfRefunds) {
  Open("acme");
  TopUp("acme", 1000, "t1");
  const absl::Time day0 = absl::FromCivil(absl::CivilDay(2024, 3, 1), absl::UTCTimeZone());
  clock_.SetNow(day0 + absl::Hours(3));
  auto c = ledger_.Consume(Consume("acme", "c1", 10));  // quantity 100
  ASSERT_OK(c);
  ASSERT_OK(ledger_.Refund({"acme", "f1", c->transfer.transfer_id, 4, ""}));
  clock_.SetNow(day0 + absl::Hours(26));
  ASSERT_OK(ledger_.Consume(Consume("acme", "c2", 20)));
  auto r = ledger_.Report({"acme", day0, day0 + absl::Hours(48), Granularity::kDay, {}});
  ASSERT_OK(r);
  ASSERT_THAT(r->buckets, SizeIs(2));
  EXPECT_EQ(r->buckets[0].bucket_start, day0);
  EXPECT_EQ(r->buckets[0].amount_credits, 6);
  EXPECT_EQ(r->buckets[0].quantity, 100);
  EXPECT_EQ(r->buckets[1].amount_credits, 20);
  EXPECT_EQ(r->total_credits, 26);
  EXPECT_THAT(ledger_.Report({"acme", day0, day0 + absl::Hours(24 * 401), Granularity::kDay, {}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ledger_.Report({"acme", day0, day0, Granularity::kDay, {}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(LedgerTest, LowBalanceIsSignalledOnceWhenTheThresholdIsCrossed) {
  Open("acme", 0, /*threshold=*/50);
  TopUp("acme", 100, "t1");
  ASSERT_OK(ledger_.Consume(Consume("acme", "c1", 40)));  // 60: above
  EXPECT_EQ(observer_.low["acme"], 0);
  auto below = ledger_.Consume(Consume("acme", "c2", 20));  // 40: crosses
  ASSERT_OK(below);
  EXPECT_TRUE(below->balance.below_alert_threshold);
  ASSERT_OK(ledger_.Consume(Consume("acme", "c3", 5)));  // still below: no new signal
  EXPECT_EQ(observer_.low["acme"], 1);
  auto t = ledger_.SetAlertThreshold({"acme", "a1", 10});
  ASSERT_OK(t);
  EXPECT_FALSE(t->balance.below_alert_threshold);
  EXPECT_EQ(t->account.alert_threshold_credits, 10);
  EXPECT_EQ(observer_.balances["acme"], 35);
}

TEST_F(LedgerTest, VerifyAuditFindsTamperedDeletedAndMismatchedEntries) {
  Open("acme");
  TopUp("acme", 100, "t1");
  for (int i = 0; i < 5; ++i) ASSERT_OK(ledger_.Consume(Consume("acme", absl::StrCat("c", i), 1)));
  auto clean = ledger_.VerifyAudit("acme", 0, 0);
  ASSERT_OK(clean);
  EXPECT_TRUE(clean->ok);
  EXPECT_EQ(clean->verified_entries, 7);

  store_.TamperAudit("tenant:acme", 4, [](AuditEntry& e) { e.payload += "x"; });
  auto modified = ledger_.VerifyAudit("acme", 0, 0);
  ASSERT_OK(modified);
  EXPECT_FALSE(modified->ok);
  ASSERT_THAT(modified->problems, SizeIs(1));
  EXPECT_EQ(modified->problems[0].sequence, 4);
  EXPECT_EQ(modified->problems[0].kind, AuditProblemKind::kModified);

  // A range that excludes the damage verifies cleanly.
  auto range = ledger_.VerifyAudit("acme", 5, 7);
  ASSERT_OK(range);
  EXPECT_TRUE(range->ok) << range->problems[0].description;
  EXPECT_EQ(range->verified_entries, 3);

  store_.DeleteAudit("tenant:acme", 6);
  auto missing = ledger_.VerifyAudit("acme", 5, 0);
  ASSERT_OK(missing);
  ASSERT_FALSE(missing->ok);
  EXPECT_EQ(missing->problems[0].sequence, 6);
  EXPECT_EQ(missing->problems[0].kind, AuditProblemKind::kMissing);
}

TEST_F(LedgerTest, VerifyAuditFindsAnEditedTransferRow) {
  Open("acme");
  TopUp("acme", 100, "t1");
  auto c = ledger_.Consume(Consume("acme", "c1", 10));
  ASSERT_OK(c);
  store_.TamperTransfer(c->transfer.transfer_id, [](Transfer& t) { t.amount_credits = 1; });
  auto r = ledger_.VerifyAudit("acme", 0, 0);
  ASSERT_OK(r);
  ASSERT_THAT(r->problems, SizeIs(1));
  EXPECT_EQ(r->problems[0].sequence, c->transfer.sequence);
  EXPECT_EQ(r->problems[0].kind, AuditProblemKind::kLedgerMismatch);
}

TEST_F(LedgerTest, TheFastPathWritesInOneStepAndFallsBackWhenAnotherReplicaMovedTheAccount) {
  Open("acme");
  TopUp("acme", 100, "t1");
  ASSERT_OK(ledger_.Consume(Consume("acme", "c1", 10)));
  ASSERT_OK(ledger_.Consume(Consume("acme", "c2", 10)));
  EXPECT_GE(store_.optimistic_applied(), 1);
  // A second replica on the same store spends and tops up behind this one's back.
  Ledger other(&store_, &signer_, &payments_, &clock_, &ids_, nullptr);
  ASSERT_OK(other.Consume(Consume("acme", "o1", 80)));
  const int64_t fast_before = store_.optimistic_applied();
  // This replica's cached state (80 available) is stale: the fast write is refused by the
  // chain-head check, the locked path decides on the real balance (0) and refuses.
  EXPECT_EQ(ReasonOf(ledger_.Consume(Consume("acme", "c3", 50)).status()),
            kReasonInsufficientCredits);
  ASSERT_OK(other.TopUp({"acme", "o2", 500, {"promotion", "", ""}}));
  // Cached state would refuse 300; the locked path sees the top-up and accepts.
  ASSERT_OK(ledger_.Consume(Consume("acme", "c4", 300)));
  EXPECT_EQ(store_.optimistic_applied(), fast_before);
  EXPECT_EQ(Available("acme"), 200);
  // Retries of fast-path calls replay through the fast path's claim.
  auto replay = ledger_.Consume(Consume("acme", "c1", 10));
  ASSERT_OK(replay);
  EXPECT_EQ(replay->balance.available_credits, 90);
  EXPECT_EQ(ReasonOf(ledger_.Consume(Consume("acme", "c1", 11)).status()),
            kReasonIdempotencyKeyReused);
  ExpectInvariants();
  EXPECT_TRUE(ledger_.VerifyAudit("acme", 0, 0)->ok);
}

TEST_F(LedgerTest, RandomOperationsKeepEveryInvariant) {
  std::mt19937_64 rng(42);
  const std::vector<std::string> tenants = {"a", "b", "c"};
  for (const auto& t : tenants) Open(t, t == "c" ? 100 : 0, 10);
  std::vector<std::pair<std::string, std::string>> holds, consumes;
  for (int i = 0; i < 600; ++i) {
    const std::string& t = tenants[rng() % tenants.size()];
    // Every fifth call reuses an earlier key: it must replay or be refused, never re-apply.
    const std::string key = (i % 5 == 4) ? absl::StrCat("k", rng() % i) : absl::StrCat("k", i);
    const int64_t amount = 1 + static_cast<int64_t>(rng() % 50);
    switch (rng() % 7) {
      case 0:
        (void)ledger_.TopUp({t, key, amount * 3, {"promotion", "", ""}});
        break;
      case 1:
      case 2: {
        auto r = ledger_.Consume(
            Consume(t, key, amount, rng() % 2 ? ShortfallPolicy::kCap : ShortfallPolicy::kReject));
        if (r.ok() && !r->transfer.transfer_id.empty())
          consumes.push_back({t, r->transfer.transfer_id});
        break;
      }
      case 3: {
        auto r =
            ledger_.Reserve({t, key, amount, absl::Seconds(10), UsageKind::kTwinSimulation, ""});
        if (r.ok()) holds.push_back({t, r->hold.hold_id});
        break;
      }
      case 4:
        if (!holds.empty()) {
          auto& h = holds[rng() % holds.size()];
          (void)ledger_.Capture({h.first, key, h.second, amount, 1});
        }
        break;
      case 5:
        if (!consumes.empty()) {
          auto& c = consumes[rng() % consumes.size()];
          (void)ledger_.Refund({c.first, key, c.second, amount / 2 + 1, ""});
        }
        break;
      case 6:
        clock_.Advance(absl::Seconds(3));
        ASSERT_OK(ledger_.ExpireDueHolds(10));
        break;
    }
  }
  ExpectInvariants();
  for (const auto& t : tenants) {
    auto v = ledger_.VerifyAudit(t, 0, 0);
    ASSERT_OK(v);
    EXPECT_TRUE(v->ok);
  }
}

}  // namespace
}  // namespace shieldx::credits
