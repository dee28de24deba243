// The ledger on a real PostgreSQL: the same domain behaviour as the in-memory tests, plus what
// only the database can show — constraints and triggers that refuse invariant-breaking SQL,
// the tamper test (an audit row edited in SQL is reported), exactly-once under concurrent
// duplicates, and the sweeper racing itself across two stores.
#include "services/credits/postgres_ledger_store.h"

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/base/embedded_file.h"
#include "libs/pg/migrator.h"
#include "libs/pg/pool.h"
#include "libs/testing/pg_server.h"
#include "libs/testing/status_matchers.h"
#include "services/credits/gated_store_for_test.h"
#include "services/credits/ledger.h"

const std::vector<shieldx::EmbeddedFile>& credits_test_migrations();

namespace shieldx::credits {
namespace {

using ::shieldx::testing::IsOk;
using ::shieldx::testing::StatusIs;
using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

absl::Status Migrate(const std::string& conninfo) {
  std::vector<pg::MigrationFile> files;
  for (const EmbeddedFile& e : credits_test_migrations()) {
    auto parsed = pg::ParseMigrationFileName(std::string(e.name));
    if (!parsed.ok()) return parsed.status();
    pg::MigrationFile f;
    f.version = parsed->first;
    f.name = parsed->second;
    f.filename = std::string(e.name);
    f.sql = std::string(e.content);
    f.checksum = pg::Sha256Hex(absl::string_view(e.content.data(), e.content.size()));
    files.push_back(std::move(f));
  }
  pg::MigratorOptions o;
  o.conninfo = conninfo;
  o.lock_name = "credits-test";
  return pg::Migrator(o).Run(files).status();
}

class PgLedgerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto server = ::shieldx::testing::PgServer::Start({});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = server->release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(server_, nullptr);
    static std::atomic<int> counter{0};
    db_ = absl::StrCat("credits", ++counter);
    ASSERT_OK(server_->CreateDatabase(db_));
    conninfo_ = server_->ConnectionString(db_);
    ASSERT_OK(Migrate(conninfo_));
    pool_ = MakePool();
    store_ = std::make_unique<PostgresLedgerStore>(pool_.get());
    signer_ = std::make_unique<AuditSigner>(*AuditSigner::Create(std::string(32, 'k')));
    ledger_ =
        std::make_unique<Ledger>(store_.get(), signer_.get(), &payments_, &clock_, &ids_, nullptr);
  }

  std::unique_ptr<pg::PgPool> MakePool() {
    pg::PgPoolOptions o;
    o.conninfo = conninfo_;
    o.max_connections = 10;
    auto pool = pg::PgPool::Create(o);
    EXPECT_OK(pool);
    return std::move(*pool);
  }

  // Runs SQL as the superuser; returns psql's output or the error.
  absl::StatusOr<std::string> Sql(const std::string& sql) { return server_->Psql(db_, sql); }

  void Open(const std::string& tenant, int64_t overdraft = 0) {
    ASSERT_OK(ledger_->OpenAccount({tenant, "open", overdraft, 0}));
  }
  void TopUp(const std::string& tenant, int64_t amount, const std::string& key) {
    ASSERT_OK(ledger_->TopUp({tenant, key, amount, {"promotion", "", ""}}));
  }
  static ConsumeCommand Consume(const std::string& tenant, const std::string& key, int64_t amount) {
    ConsumeCommand c;
    c.tenant_id = tenant;
    c.idempotency_key = key;
    c.record = {UsageKind::kInspectedRequest, 1, amount, "route", std::nullopt, std::nullopt};
    return c;
  }
  void ExpectInvariants() {
    auto v = store_->CheckInvariants();
    ASSERT_OK(v);
    EXPECT_THAT(*v, IsEmpty());
  }
  int64_t Available(const std::string& tenant) {
    auto b = ledger_->GetBalance(tenant);
    EXPECT_OK(b);
    return b.ok() ? b->available_credits : -1;
  }

  inline static ::shieldx::testing::PgServer* server_ = nullptr;
  std::string db_;
  std::string conninfo_;
  std::unique_ptr<pg::PgPool> pool_;
  std::unique_ptr<PostgresLedgerStore> store_;
  std::unique_ptr<AuditSigner> signer_;
  PaymentProviders payments_ = PaymentProviders::Default();
  FakeClock clock_{absl::FromUnixSeconds(1'700'000'000)};
  RandomIdGenerator ids_;
  std::unique_ptr<Ledger> ledger_;
};

TEST_F(PgLedgerTest, EveryOperationRoundTripsThroughTheDatabase) {
  ASSERT_OK(ledger_->OpenAccount({"acme", "open", 0, 500}));
  auto top = ledger_->TopUp({"acme", "t1", 1000, {"manual", "INV-1", "wire \"x\" \\ y"}});
  ASSERT_OK(top);
  EXPECT_EQ(top->transfer.payment.note, "wire \"x\" \\ y");
  auto c = ledger_->Consume(Consume("acme", "c1", 100));
  ASSERT_OK(c);
  EXPECT_EQ(c->balance.available_credits, 900);
  ConsumeBatchCommand b{"acme", "b1", {}, ShortfallPolicy::kReject};
  for (int i = 0; i < 10; ++i) {
    b.records.push_back({UsageKind::kShadowEvaluation, 3, 5, absl::StrCat("eval-", i),
                         absl::FromUnixSeconds(1), absl::FromUnixSeconds(2)});
  }
  auto batch = ledger_->ConsumeBatch(b);
  ASSERT_OK(batch);
  EXPECT_EQ(batch->consumed_credits, 50);
  auto hold =
      ledger_->Reserve({"acme", "r1", 200, absl::Minutes(1), UsageKind::kTwinSimulation, "sim-1"});
  ASSERT_OK(hold);
  EXPECT_EQ(Available("acme"), 650);
  auto cap = ledger_->Capture({"acme", "cap1", hold->hold.hold_id, 120, 12});
  ASSERT_OK(cap);
  EXPECT_EQ(Available("acme"), 730);
  auto hold2 =
      ledger_->Reserve({"acme", "r2", 10, absl::Minutes(1), UsageKind::kTwinSimulation, ""});
  ASSERT_OK(hold2);
  ASSERT_OK(ledger_->Void({"acme", "v1", hold2->hold.hold_id, "cancelled"}));
  auto refund = ledger_->Refund({"acme", "f1", c->transfer.transfer_id, 60, "fp"});
  ASSERT_OK(refund);
  EXPECT_EQ(refund->refundable_credits, 40);
  EXPECT_EQ(ReasonOf(ledger_->Refund({"acme", "f2", c->transfer.transfer_id, 41, ""}).status()),
            kReasonRefundExceedsRefundable);
  ASSERT_OK(ledger_->SetAlertThreshold({"acme", "a1", 10}));
  EXPECT_EQ(Available("acme"), 790);

  auto page = ledger_->ListTransfers({.tenant_id = "acme", .page_size = 5});
  ASSERT_OK(page);
  ASSERT_THAT(page->transfers, SizeIs(5));
  EXPECT_EQ(page->transfers[0].kind, TransferKind::kRefund);
  auto next = ledger_->ListTransfers(
      {.tenant_id = "acme", .page_size = 100, .page_token = page->next_page_token});
  ASSERT_OK(next);
  EXPECT_THAT(next->transfers, SizeIs(12));  // 17 transfers in all
  auto evals = ledger_->ListTransfers(
      {.tenant_id = "acme", .usage_kinds = {UsageKind::kShadowEvaluation}, .reference = "eval-3"});
  ASSERT_OK(evals);
  ASSERT_THAT(evals->transfers, SizeIs(1));
  EXPECT_EQ(evals->transfers[0].period_end, absl::FromUnixSeconds(2));

  auto report = ledger_->Report({"acme",
                                 clock_.Now() - absl::Hours(1),
                                 clock_.Now() + absl::Hours(1),
                                 Granularity::kHour,
                                 {}});
  ASSERT_OK(report);
  EXPECT_EQ(report->total_credits, 100 + 50 + 120 - 60);
  EXPECT_THAT(report->buckets, SizeIs(3));

  auto audit = ledger_->VerifyAudit("acme", 0, 0);
  ASSERT_OK(audit);
  EXPECT_TRUE(audit->ok);
  EXPECT_EQ(audit->verified_entries, 19);  // open + 17 transfers + threshold
  ExpectInvariants();
}

TEST_F(PgLedgerTest, RetriesReplayAndReusedKeysAreRefused) {
  Open("acme");
  TopUp("acme", 100, "t1");
  auto first = ledger_->Consume(Consume("acme", "c1", 10));
  ASSERT_OK(first);
  auto again = ledger_->Consume(Consume("acme", "c1", 10));
  ASSERT_OK(again);
  EXPECT_EQ(again->transfer.transfer_id, first->transfer.transfer_id);
  EXPECT_EQ(ReasonOf(ledger_->Consume(Consume("acme", "c1", 11)).status()),
            kReasonIdempotencyKeyReused);
  EXPECT_EQ(Available("acme"), 90);
  EXPECT_EQ(*Sql("SELECT count(*) FROM transfers WHERE idempotency_key = 'c1'"), "1");
}

TEST_F(PgLedgerTest, ConcurrentCallsWithOneKeyApplyOnce) {
  Open("acme");
  TopUp("acme", 1000, "t1");
  constexpr int kThreads = 8;
  std::vector<std::string> ids(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto r = ledger_->Consume(Consume("acme", "same-key", 7));
      ids[i] = r.ok() ? r->transfer.transfer_id : r.status().ToString();
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 1; i < kThreads; ++i) EXPECT_EQ(ids[i], ids[0]);
  EXPECT_EQ(Available("acme"), 993);
  ExpectInvariants();
}

TEST_F(PgLedgerTest, ConcurrentConsumersNeverOverdraw) {
  Open("acme");
  TopUp("acme", 500, "t1");
  std::atomic<int> ok{0}, refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        auto r = ledger_->Consume(Consume("acme", absl::StrCat("c", t, "-", i), 5));
        (r.ok() ? ok : refused)++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 100);
  EXPECT_EQ(refused.load(), 60);
  EXPECT_EQ(Available("acme"), 0);
  ExpectInvariants();
}

TEST_F(PgLedgerTest, ABatchOfTenThousandRecordsIsOneAtomicWrite) {
  Open("acme");
  TopUp("acme", 1'000'000, "t1");
  ConsumeBatchCommand b{"acme", "b1", {}, ShortfallPolicy::kReject};
  for (int i = 0; i < 10'000; ++i) {
    b.records.push_back({UsageKind::kInspectedRequest, 10, 1 + i % 3, absl::StrCat("r", i % 50),
                         std::nullopt, std::nullopt});
  }
  auto r = ledger_->ConsumeBatch(b);
  ASSERT_OK(r);
  EXPECT_EQ(r->applied_records, 10'000u);
  EXPECT_EQ(r->last_sequence, 10'002);
  EXPECT_EQ(Available("acme"), 1'000'000 - r->consumed_credits);
  ExpectInvariants();
  auto audit = ledger_->VerifyAudit("acme", 0, 0);
  ASSERT_OK(audit);
  EXPECT_TRUE(audit->ok);
  EXPECT_EQ(audit->verified_entries, 10'002);
}

TEST_F(PgLedgerTest, TheDatabaseRefusesInvariantBreakingSql) {
  Open("acme");
  TopUp("acme", 100, "t1");
  auto c = ledger_->Consume(Consume("acme", "c1", 40));
  ASSERT_OK(c);
  auto hold =
      ledger_->Reserve({"acme", "r1", 30, absl::Minutes(5), UsageKind::kTwinSimulation, ""});
  ASSERT_OK(hold);
  // Balances change only through transfers and holds.
  EXPECT_THAT(Sql("UPDATE accounts SET posted_credits = 1000000 WHERE tenant_id = 'acme'"),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("only through transfers")));
  EXPECT_THAT(Sql("UPDATE accounts SET revenue_credits = 0 WHERE tenant_id = 'acme'"),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("only through transfers")));
  // Double entry is a per-row CHECK even with the guard triggers disabled.
  EXPECT_THAT(Sql("SET session_replication_role = replica; UPDATE accounts SET "
                  "posted_credits = posted_credits + 1 WHERE tenant_id = 'acme'"),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("accounts_double_entry")));
  // A transfer must have the tenant on one side and a system account on the other.
  EXPECT_THAT(Sql("INSERT INTO transfers (transfer_id, tenant_id, account_id, sequence, kind, "
                  "debit_account_id, credit_account_id, amount_credits, created_at) VALUES "
                  "('tr_x', 'acme', 'tenant:acme', 98, 2, 'tenant:acme', 'tenant:other', 1, "
                  "now())"),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("transfers_tenant_to_system")));
  // Append-only.
  EXPECT_THAT(Sql("DELETE FROM transfers"), StatusIs(absl::StatusCode::kInternal));
  EXPECT_THAT(Sql("UPDATE transfers SET amount_credits = 1"),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("immutable")));
  EXPECT_THAT(Sql("UPDATE audit_entries SET payload = 'x'"),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("append-only")));
  EXPECT_THAT(Sql("TRUNCATE audit_entries"), StatusIs(absl::StatusCode::kInternal));
  // No overdraft: a consume of more than the 30 available breaks the CHECK.
  const std::string insert = absl::StrCat(
      "INSERT INTO transfers (transfer_id, tenant_id, account_id, sequence, kind, "
      "debit_account_id, credit_account_id, amount_credits, created_at) VALUES ('tr_sql', "
      "'acme', 'tenant:acme', 99, 2, 'tenant:acme', 'system:revenue', 31, now())");
  EXPECT_THAT(Sql(insert),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("available_within_overdraft")));
  // Refund above what the consume moved.
  EXPECT_THAT(Sql(absl::StrCat("INSERT INTO transfers (transfer_id, tenant_id, account_id, "
                               "sequence, kind, debit_account_id, credit_account_id, "
                               "amount_credits, refunded_transfer_id, created_at) VALUES "
                               "('tr_sql2', 'acme', 'tenant:acme', 99, 7, 'system:revenue', "
                               "'tenant:acme', 41, '",
                               c->transfer.transfer_id, "', now())")),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("refund_within_amount")));
  // Capture above the hold.
  EXPECT_THAT(Sql(absl::StrCat("UPDATE holds SET state = 2, captured_credits = 31, settled_at = "
                               "now() WHERE hold_id = '",
                               hold->hold.hold_id, "'")),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("capture_within_hold")));
  // A hold larger than what is available.
  EXPECT_THAT(Sql("INSERT INTO holds (hold_id, tenant_id, account_id, amount_credits, state, "
                  "usage_kind, expires_at, created_at) VALUES ('hd_sql', 'acme', 'tenant:acme', "
                  "31, 1, 1, now(), now())"),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("available_within_overdraft")));
  // A second account for the same tenant.
  EXPECT_THAT(Sql("INSERT INTO accounts (account_id, tenant_id, kind, created_at) VALUES "
                  "('tenant:acme2', 'acme', 1, now())"),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("accounts_one_per_tenant")));
  EXPECT_EQ(Available("acme"), 30);
  ExpectInvariants();
}

TEST_F(PgLedgerTest, TamperedAuditRowsAreReportedByVerifyAudit) {
  Open("acme");
  TopUp("acme", 100, "t1");
  for (int i = 0; i < 6; ++i) ASSERT_OK(ledger_->Consume(Consume("acme", absl::StrCat("c", i), 1)));
  ASSERT_TRUE(ledger_->VerifyAudit("acme", 0, 0)->ok);
  // Someone with the database's superuser disables the guards and rewrites history: entry 4
  // now claims a consume of 1000 credits.
  ASSERT_OK(
      Sql("SET session_replication_role = replica; UPDATE audit_entries SET payload = "
          "replace(payload, 'amount=1:1', 'amount=4:1000') WHERE account_id = "
          "'tenant:acme' AND sequence = 4"));
  auto r = ledger_->VerifyAudit("acme", 0, 0);
  ASSERT_OK(r);
  EXPECT_FALSE(r->ok);
  ASSERT_THAT(r->problems, SizeIs(1));
  EXPECT_EQ(r->problems[0].sequence, 4);
  EXPECT_EQ(r->problems[0].kind, AuditProblemKind::kModified);
  EXPECT_THAT(r->problems[0].description, HasSubstr("audit entry 4"));
}

TEST_F(PgLedgerTest, EditedTransferDeletedAndReorderedAuditRowsAreReported) {
  Open("acme");
  TopUp("acme", 100, "t1");
  std::vector<std::string> ids;
  for (int i = 0; i < 8; ++i) {
    auto c = ledger_->Consume(Consume("acme", absl::StrCat("c", i), 1));
    ASSERT_OK(c);
    ids.push_back(c->transfer.transfer_id);
  }
  // Transfer at sequence 3 edited (its audit entry untouched).
  ASSERT_OK(
      Sql("SET session_replication_role = replica; UPDATE transfers SET amount_credits = 2 "
          "WHERE transfer_id = '" +
          ids[0] + "'"));
  // Entry 6 deleted; entries 8 and 9 swapped.
  ASSERT_OK(
      Sql("SET session_replication_role = replica; DELETE FROM audit_entries WHERE "
          "sequence = 6; UPDATE audit_entries SET sequence = 1000 WHERE sequence = 8; "
          "UPDATE audit_entries SET sequence = 8 WHERE sequence = 9; "
          "UPDATE audit_entries SET sequence = 9 WHERE sequence = 1000"));
  auto r = ledger_->VerifyAudit("acme", 0, 0);
  ASSERT_OK(r);
  ASSERT_GE(r->problems.size(), 4u);
  EXPECT_EQ(r->problems[0].sequence, 3);
  EXPECT_EQ(r->problems[0].kind, AuditProblemKind::kLedgerMismatch);
  EXPECT_EQ(r->problems[1].sequence, 6);
  EXPECT_EQ(r->problems[1].kind, AuditProblemKind::kMissing);
  EXPECT_EQ(r->problems[2].sequence, 8);
  EXPECT_EQ(r->problems[2].kind, AuditProblemKind::kReordered);
}

TEST_F(PgLedgerTest, TwoSweepersExpireEveryHoldExactlyOnce) {
  for (int t = 0; t < 4; ++t) {
    const std::string tenant = absl::StrCat("t", t);
    Open(tenant);
    TopUp(tenant, 10'000, "t1");
    for (int h = 0; h < 25; ++h) {
      ASSERT_OK(ledger_->Reserve(
          {tenant, absl::StrCat("r", h), 10, absl::Seconds(5), UsageKind::kTwinSimulation, ""}));
    }
  }
  // A second replica: its own pool, store and ledger on the same database.
  auto pool2 = MakePool();
  PostgresLedgerStore store2(pool2.get());
  Ledger ledger2(&store2, signer_.get(), &payments_, &clock_, &ids_, nullptr);
  clock_.Advance(absl::Seconds(6));
  std::atomic<int64_t> expired{0};
  std::vector<std::thread> threads;
  for (Ledger* l : {ledger_.get(), &ledger2, ledger_.get(), &ledger2}) {
    threads.emplace_back([&, l] {
      for (int round = 0; round < 10; ++round) {
        auto n = l->ExpireDueHolds(100);
        if (n.ok()) expired += *n;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(expired.load(), 100);
  EXPECT_EQ(*Sql("SELECT count(*) FROM transfers WHERE kind = 6"), "100");
  EXPECT_EQ(*Sql("SELECT count(*) FROM holds WHERE state = 4"), "100");
  for (int t = 0; t < 4; ++t) {
    EXPECT_EQ(Available(absl::StrCat("t", t)), 10'000);
    EXPECT_TRUE(ledger_->VerifyAudit(absl::StrCat("t", t), 0, 0)->ok);
  }
  ExpectInvariants();
}

TEST_F(PgLedgerTest, PostgresOutageFailsCallsWithoutRecordingThem) {
  Open("acme");
  TopUp("acme", 100, "t1");
  ASSERT_OK(server_->Stop());
  auto r = ledger_->Consume(Consume("acme", "c1", 10));
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_OK(server_->Start());
  absl::StatusOr<ConsumeResult> retry;
  for (int i = 0; i < 50; ++i) {  // the pool reconnects after its backoff
    retry = ledger_->Consume(Consume("acme", "c1", 10));
    if (retry.ok()) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_OK(retry);
  EXPECT_EQ(Available("acme"), 90);
  ExpectInvariants();
}

// ---- group commit on PostgreSQL -----------------------------------------------------------

// Counts group transactions by result.
class GroupCounter final : public LedgerObserver {
 public:
  void OnOperation(const std::string&, const std::string&) override {}
  void OnBalance(const std::string&, const Balance&) override {}
  void OnConsumed(UsageKind, int64_t) override {}
  void OnRefunded(UsageKind, int64_t) override {}
  void OnLowBalance(const std::string&, const Balance&) override {}
  void OnGroupCommit(int calls, const std::string& result) override {
    absl::MutexLock l(&mu_);
    last_ = {calls, result};
    if (calls > 1) ++multi_;
  }
  std::pair<int, std::string> last() {
    absl::MutexLock l(&mu_);
    return last_;
  }
  int multi() {
    absl::MutexLock l(&mu_);
    return multi_;
  }

 private:
  absl::Mutex mu_;
  std::pair<int, std::string> last_;
  int multi_ = 0;
};

class PgGroupCommitTest : public PgLedgerTest {
 protected:
  void SetUp() override {
    PgLedgerTest::SetUp();
    gate_ = std::make_unique<GatedStore>(store_.get());
    group_ledger_ =
        std::make_unique<Ledger>(gate_.get(), signer_.get(), &payments_, &clock_, &ids_, &groups_,
                                 GroupCommitOptions{.max_calls = 64, .committers = 1});
  }
  void TearDown() override { group_ledger_.reset(); }

  // Runs `calls` in ONE group transaction (see group_commit_test.cc).
  void RunInOneGroup(const std::vector<std::function<void()>>& calls) {
    gate_->Close();
    std::thread warm(
        [this] { (void)group_ledger_->Consume(Consume("warm", absl::StrCat("w", ++warm_), 1)); });
    for (int i = 0; i < 30'000 && gate_->waiting() < 1; ++i) absl::SleepFor(absl::Milliseconds(1));
    std::vector<std::thread> threads;
    for (const auto& c : calls) threads.emplace_back(c);
    for (int i = 0; i < 30'000 && group_ledger_->group_commit_queued() < calls.size(); ++i) {
      absl::SleepFor(absl::Milliseconds(1));
    }
    ASSERT_EQ(group_ledger_->group_commit_queued(), calls.size());
    gate_->Open();
    warm.join();
    for (auto& t : threads) t.join();
  }

  GroupCounter groups_;
  std::unique_ptr<GatedStore> gate_;
  std::unique_ptr<Ledger> group_ledger_;
  std::atomic<int> warm_{0};
};

TEST_F(PgGroupCommitTest, FailingCallsAndDuplicateKeysInOneGroupAffectOnlyThemselves) {
  Open("warm");
  TopUp("warm", 1000, "t");
  Open("acme");
  TopUp("acme", 100, "t");
  Open("beta");
  TopUp("beta", 5, "t");
  absl::StatusOr<ConsumeResult> a1, a2, b_big, b_small, d1, d2, d3;
  RunInOneGroup({[&] { a1 = group_ledger_->Consume(Consume("acme", "a1", 10)); },
                 [&] { b_big = group_ledger_->Consume(Consume("beta", "b-big", 50)); },
                 [&] { d1 = group_ledger_->Consume(Consume("acme", "dup", 4)); },
                 [&] { a2 = group_ledger_->Consume(Consume("acme", "a2", 20)); },
                 [&] { d2 = group_ledger_->Consume(Consume("acme", "dup", 4)); },
                 [&] { b_small = group_ledger_->Consume(Consume("beta", "b-small", 3)); },
                 [&] { d3 = group_ledger_->Consume(Consume("acme", "dup", 4)); }});
  EXPECT_OK(a1);
  EXPECT_OK(a2);
  EXPECT_OK(b_small);
  EXPECT_THAT(b_big,
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("INSUFFICIENT_CREDITS")));
  ASSERT_OK(d1);
  ASSERT_OK(d2);
  ASSERT_OK(d3);
  EXPECT_EQ(d1->transfer.transfer_id, d2->transfer.transfer_id);  // one application, replayed
  EXPECT_EQ(d1->transfer.transfer_id, d3->transfer.transfer_id);
  EXPECT_EQ(Available("acme"), 100 - 10 - 20 - 4);
  EXPECT_EQ(Available("beta"), 2);
  EXPECT_EQ(*Sql("SELECT count(*) FROM transfers WHERE idempotency_key = 'dup'"), "1");
  EXPECT_EQ(*Sql("SELECT count(*) FROM idempotency_keys WHERE idempotency_key = 'b-big'"), "0");
  EXPECT_GE(groups_.multi(), 1);
  for (const char* t : {"acme", "beta"}) EXPECT_TRUE(ledger_->VerifyAudit(t, 0, 0)->ok) << t;
  ExpectInvariants();
}

TEST_F(PgGroupCommitTest, ConnectionLostMidGroupFailsEveryCallAndAppliesNothing) {
  Open("warm");
  TopUp("warm", 1000, "t");
  Open("acme");
  TopUp("acme", 100, "t");
  Open("beta");
  TopUp("beta", 100, "t");
  // After the group's writes, before its COMMIT: PostgreSQL drops the connection.
  const int group_tx = gate_->transactions() + 1;
  gate_->set_after_apply_many([this, group_tx](int index) {
    if (index == group_tx) {
      auto killed =
          Sql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = "
              "current_database() AND state = 'idle in transaction'");
      EXPECT_OK(killed);
      if (killed.ok()) {
        EXPECT_EQ(*killed, "1");
      }
    }
    return absl::OkStatus();
  });
  std::vector<absl::StatusOr<ConsumeResult>> r(4);
  RunInOneGroup({[&] { r[0] = group_ledger_->Consume(Consume("acme", "x0", 10)); },
                 [&] { r[1] = group_ledger_->Consume(Consume("beta", "x1", 10)); },
                 [&] { r[2] = group_ledger_->Consume(Consume("acme", "x2", 30)); },
                 [&] { r[3] = group_ledger_->Consume(Consume("beta", "x3", 10)); }});
  gate_->set_after_apply_many(nullptr);
  for (const auto& x : r) {
    EXPECT_THAT(
        x, AnyOf(StatusIs(absl::StatusCode::kUnavailable), StatusIs(absl::StatusCode::kUnknown)));
  }
  EXPECT_EQ(groups_.last().first, 4);
  // Nothing of the group exists: balances, keys, transfers.
  EXPECT_EQ(Available("acme"), 100);
  EXPECT_EQ(Available("beta"), 100);
  EXPECT_EQ(*Sql("SELECT count(*) FROM idempotency_keys WHERE idempotency_key LIKE 'x%'"), "0");
  EXPECT_EQ(*Sql("SELECT count(*) FROM transfers WHERE idempotency_key LIKE 'x%'"), "0");
  // Clients retry with the same keys: applied once now.
  for (int i = 0; i < 4; ++i) {
    absl::StatusOr<ConsumeResult> retry;
    for (int attempt = 0; attempt < 50; ++attempt) {
      retry = group_ledger_->Consume(
          Consume(i % 2 == 0 ? "acme" : "beta", absl::StrCat("x", i), i == 2 ? 30 : 10));
      if (retry.ok()) break;
      absl::SleepFor(absl::Milliseconds(100));
    }
    EXPECT_OK(retry) << i;
  }
  EXPECT_EQ(Available("acme"), 60);
  EXPECT_EQ(Available("beta"), 80);
  ExpectInvariants();
}

TEST_F(PgGroupCommitTest, TwoReplicasWithGroupCommitKeepEveryInvariantUnderLoad) {
  // A second "replica": its own pool, store and ledger on the same database.
  auto pool2 = MakePool();
  PostgresLedgerStore store2(pool2.get());
  Ledger replica2(&store2, signer_.get(), &payments_, &clock_, &ids_, nullptr,
                  GroupCommitOptions{.max_calls = 64});
  const std::vector<std::string> tenants = {"t0", "t1", "t2"};
  for (const auto& t : tenants) {
    Open(t);
    TopUp(t, 100'000, "t");
  }
  std::atomic<int64_t> consumed{0};
  absl::Mutex mu;
  std::set<std::pair<std::string, std::string>> applied;
  std::vector<std::thread> threads;
  for (int th = 0; th < 8; ++th) {
    threads.emplace_back([&, th] {
      Ledger& l = th % 2 == 0 ? *group_ledger_ : replica2;
      for (int i = 0; i < 150; ++i) {
        const std::string& t = tenants[(th + i) % tenants.size()];
        const std::string key = absl::StrCat("k", (th * 131 + i * 7) % 400);  // collide
        const int64_t amount = 1 + static_cast<int64_t>(key.size() % 5);
        auto r = l.Consume(Consume(t, key, amount));
        ASSERT_OK(r);
        absl::MutexLock lock(&mu);
        if (applied.emplace(t, key).second) consumed += amount;
      }
      // And a reserve / capture pair per thread through the group path.
      auto h = l.Reserve({tenants[th % 3], absl::StrCat("r", th), 50, absl::Minutes(5),
                          UsageKind::kTwinSimulation, ""});
      ASSERT_OK(h);
      ASSERT_OK(l.Capture({tenants[th % 3], absl::StrCat("c", th), h->hold.hold_id, 20, 1}));
      consumed += 20;
    });
  }
  for (auto& t : threads) t.join();
  int64_t left = 0;
  for (const auto& t : tenants) {
    left += Available(t);
    EXPECT_TRUE(ledger_->VerifyAudit(t, 0, 0)->ok) << t;
  }
  EXPECT_EQ(left, 3 * 100'000 - consumed.load());
  EXPECT_EQ(*Sql("SELECT count(*) FROM (SELECT tenant_id, idempotency_key FROM transfers "
                 "WHERE kind = 2 GROUP BY 1, 2 HAVING count(*) > 1) d"),
            "0");
  ExpectInvariants();
}

}  // namespace
}  // namespace shieldx::credits
