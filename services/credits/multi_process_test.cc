// Two real shieldx-credits processes on one PostgreSQL, 8 client threads, thousands of random
// operations with duplicate keys and retries — then every invariant, every audit chain, and
// "each key applied once" are checked in the database. The crash variant SIGKILLs one process
// in the middle of the load and restarts it; clients retry the calls whose outcome they did
// not learn with the same keys, and must not be charged twice.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/pg/pool.h"
#include "libs/rpc/client.h"
#include "libs/testing/pg_server.h"
#include "libs/testing/process.h"
#include "libs/testing/prometheus_server.h"
#include "libs/testing/redis_server.h"
#include "libs/testing/status_matchers.h"
#include "services/credits/credits_service.h"
#include "services/credits/postgres_ledger_store.h"

namespace shieldx::credits {
namespace {

namespace pb = ::shieldx::credits::v1;
using ::testing::IsEmpty;

constexpr char kHmacKey[] = "0123456789abcdef0123456789abcdef-test-key";
constexpr int kTenants = 4;
constexpr int kClientThreads = 8;
constexpr int kBatchRecords = 20;

// One shieldx-credits process on fixed ports (so a restart keeps its address).
class CreditsProcess {
 public:
  CreditsProcess(std::string dsn, std::string redis_addr, std::string log_path)
      : dsn_(std::move(dsn)), redis_(std::move(redis_addr)), log_(std::move(log_path)) {
    grpc_port_ = *::shieldx::testing::PickFreePort();
    admin_port_ = *::shieldx::testing::PickFreePort();
  }
  absl::Status Start() {
    ::shieldx::testing::Subprocess::Options o;
    o.argv = {std::string(SHIELDX_BINARY_DIR) + "/bin/shieldx-credits"};
    o.log_path = log_;
    o.env = {"SHIELDX_CREDITS_PG_DSN=" + dsn_,
             "SHIELDX_CREDITS_REDIS_ADDR=" + redis_,
             std::string("SHIELDX_CREDITS_AUDIT_HMAC_KEY=") + kHmacKey,
             absl::StrCat("SHIELDX_CREDITS_GRPC_LISTEN=127.0.0.1:", grpc_port_),
             absl::StrCat("SHIELDX_CREDITS_ADMIN_LISTEN=127.0.0.1:", admin_port_),
             "SHIELDX_CREDITS_ENVIRONMENT=development",
             "SHIELDX_CREDITS_SWEEP_INTERVAL=200ms",
             "SHIELDX_CREDITS_DRAIN_DEADLINE=2s"};
    auto p = ::shieldx::testing::Subprocess::Start(o);
    if (!p.ok()) return p.status();
    process_.emplace(std::move(*p));
    // Ready means PostgreSQL reachable, migrations applied, Redis reachable.
    const std::string url = absl::StrCat("http://127.0.0.1:", admin_port_, "/readyz");
    for (int i = 0; i < 300; ++i) {
      auto r = ::shieldx::testing::HttpGet(url, absl::Seconds(1));
      if (r.ok() && r->status == 200) return absl::OkStatus();
      if (!process_->Running()) return absl::InternalError("shieldx-credits exited; see " + log_);
      absl::SleepFor(absl::Milliseconds(50));
    }
    return absl::DeadlineExceededError("shieldx-credits not ready; see " + log_);
  }
  void Kill() {
    process_->Signal(SIGKILL);
    (void)process_->Wait(absl::Seconds(10));
    process_.reset();
  }
  std::string target() const { return absl::StrCat("127.0.0.1:", grpc_port_); }
  int admin_port() const { return admin_port_; }

 private:
  std::string dsn_, redis_, log_;
  int grpc_port_ = 0, admin_port_ = 0;
  std::optional<::shieldx::testing::Subprocess> process_;
};

common::v1::Actor Operator() {
  common::v1::Actor a;
  a.set_kind(common::v1::ACTOR_KIND_SERVICE);
  a.set_actor_id("multi-process-test");
  a.set_tenant_id("_platform");
  for (const char* p :
       {"platform.billing", "credits.read", "credits.write", "credits.admin", "credits.audit"}) {
    a.add_permissions(p);
  }
  return a;
}

// What the clients learned: the definitive outcome of every key.
struct Expected {
  std::mutex mu;
  std::map<std::string, int64_t> posted_delta;                                   // per tenant
  std::map<std::string, std::vector<std::pair<std::string, int64_t>>> consumes;  // id, amount
  std::map<std::string, std::vector<std::pair<std::string, int64_t>>> holds;     // id, amount
  std::atomic<int64_t> calls{0}, duplicates{0}, retries{0}, refused{0};
};

class MultiProcessTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto pg = ::shieldx::testing::PgServer::Start({.settings = {"max_connections=60"}});
    ASSERT_TRUE(pg.ok()) << pg.status();
    pg_ = pg->release();
    auto redis = ::shieldx::testing::RedisServer::Start();
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = redis->release();
  }
  static void TearDownTestSuite() {
    delete pg_;
    delete redis_;
  }

  void SetUp() override {
    ASSERT_NE(pg_, nullptr);
    ASSERT_NE(redis_, nullptr);
    auto dir = ::shieldx::testing::TempDir::Create("credits-mp");
    ASSERT_OK(dir);
    dir_.emplace(std::move(*dir));
    static int counter = 0;
    const std::string db = absl::StrCat("mp", ++counter);
    ASSERT_OK(pg_->CreateDatabase(db));
    dsn_ = pg_->ConnectionString(db);
    for (int i = 0; i < 2; ++i) {
      procs_.push_back(std::make_unique<CreditsProcess>(
          dsn_, redis_->address(), absl::StrCat(dir_->path(), "/credits-", i, ".log")));
    }
    // Both start at once: they race to apply the migrations (advisory lock).
    std::vector<std::thread> starts;
    std::vector<absl::Status> st(2);
    for (int i = 0; i < 2; ++i) starts.emplace_back([&, i] { st[i] = procs_[i]->Start(); });
    for (auto& t : starts) t.join();
    ASSERT_OK(st[0]);
    ASSERT_OK(st[1]);
    for (auto& p : procs_) {
      stubs_.push_back(pb::CreditsService::NewStub(*rpc::MakeChannel(p->target(), {})));
    }
    for (int t = 0; t < kTenants; ++t) {
      const std::string tenant = absl::StrCat("tenant", t);
      pb::OpenAccountRequest open;
      open.set_tenant_id(tenant);
      open.set_idempotency_key("open");
      open.set_alert_threshold_credits(5000);
      pb::OpenAccountResponse opened;
      ASSERT_TRUE(Call(0, [&](grpc::ClientContext* c) {
                    return stubs_[0]->OpenAccount(c, open, &opened);
                  }).ok());
    }
  }

  void TearDown() override {
    if (HasFailure() && dir_.has_value()) {
      dir_->Keep();
      std::printf("process logs kept in %s\n", dir_->path().c_str());
    }
    stubs_.clear();
    procs_.clear();
  }

  grpc::Status Call(int proc, const std::function<grpc::Status(grpc::ClientContext*)>& fn) {
    auto ctx = rpc::MakeClientContext(5000);
    AttachActor(ctx.get(), Operator());
    (void)proc;
    return fn(ctx.get());
  }

  // Sends one request until its outcome is definitive, alternating processes on failures
  // whose outcome is unknown (the same key makes the resend safe).
  template <typename Fn>
  grpc::Status UntilDefinitive(std::mt19937_64& rng, Expected& e, const Fn& fn) {
    grpc::Status s;
    for (int attempt = 0; attempt < 200; ++attempt) {
      const int proc = static_cast<int>(rng() % 2);
      auto ctx = rpc::MakeClientContext(5000);
      AttachActor(ctx.get(), Operator());
      s = fn(*stubs_[proc], ctx.get());
      switch (s.error_code()) {
        case grpc::StatusCode::UNAVAILABLE:
        case grpc::StatusCode::DEADLINE_EXCEEDED:
        case grpc::StatusCode::UNKNOWN:
        case grpc::StatusCode::ABORTED:
        case grpc::StatusCode::INTERNAL:
        case grpc::StatusCode::CANCELLED:
          e.retries++;
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
          continue;
        default:
          return s;
      }
    }
    return s;
  }

  // One client thread's random workload.
  void Client(int id, int ops, Expected& e) {
    std::mt19937_64 rng(1000 + id);
    for (int i = 0; i < ops; ++i) {
      const std::string tenant = absl::StrCat("tenant", rng() % kTenants);
      const std::string key_base = absl::StrCat(id, "-", i);
      const int64_t amount = 1 + static_cast<int64_t>(rng() % 40);
      // Every op is sent once, and one time in four resent as a duplicate after its outcome
      // is known: the duplicate must replay (same result), never apply again.
      const int sends = (rng() % 4 == 0) ? 2 : 1;
      const int kind = static_cast<int>(rng() % 100);
      // A key is recorded by the first send that succeeds (a refused first send leaves the key
      // free, so its duplicate may apply); later successes are replays.
      bool recorded = false;
      auto once = [&recorded] {
        if (recorded) return false;
        recorded = true;
        return true;
      };
      for (int send = 0; send < sends; ++send) {
        e.calls++;
        if (send > 0) e.duplicates++;
        const bool first = send == 0;
        if (kind < 8) {  // top-up
          pb::TopUpRequest r;
          r.set_tenant_id(tenant);
          r.set_idempotency_key("t-" + key_base);
          r.set_amount_credits(amount * 50);
          r.mutable_payment()->set_provider("manual");
          r.mutable_payment()->set_external_reference("INV-" + key_base);
          pb::TopUpResponse resp;
          auto s = UntilDefinitive(
              rng, e, [&](auto& stub, auto* ctx) { return stub.TopUp(ctx, r, &resp); });
          ASSERT_TRUE(s.ok()) << s.error_message();
          if (once()) Record(e, tenant, amount * 50);
        } else if (kind < 60) {  // consume
          pb::ConsumeRequest r;
          r.set_tenant_id(tenant);
          r.set_idempotency_key("c-" + key_base);
          r.mutable_record()->set_usage_kind(pb::USAGE_KIND_INSPECTED_REQUEST);
          r.mutable_record()->set_quantity(amount * 10);
          r.mutable_record()->set_amount_credits(amount);
          pb::ConsumeResponse resp;
          auto s = UntilDefinitive(
              rng, e, [&](auto& stub, auto* ctx) { return stub.Consume(ctx, r, &resp); });
          if (s.ok() && once()) {
            Record(e, tenant, -amount);
            std::lock_guard<std::mutex> l(e.mu);
            e.consumes[tenant].push_back({resp.transfer().transfer_id(), amount});
          } else if (!s.ok()) {
            ASSERT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
            if (first) e.refused++;
          }
        } else if (kind < 70) {  // batch
          pb::ConsumeBatchRequest r;
          r.set_tenant_id(tenant);
          r.set_idempotency_key("b-" + key_base);
          for (int k = 0; k < kBatchRecords; ++k) {
            auto* rec = r.add_records();
            rec->set_usage_kind(k % 2 ? pb::USAGE_KIND_PLUGIN_EXECUTION
                                      : pb::USAGE_KIND_INSPECTED_REQUEST);
            rec->set_quantity(5);
            rec->set_amount_credits(1 + k % 3);
          }
          pb::ConsumeBatchResponse resp;
          auto s = UntilDefinitive(
              rng, e, [&](auto& stub, auto* ctx) { return stub.ConsumeBatch(ctx, r, &resp); });
          if (s.ok() && once()) {
            Record(e, tenant, -resp.consumed_credits());
          } else if (!s.ok()) {
            ASSERT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
          }
        } else if (kind < 82) {  // reserve
          pb::ReserveRequest r;
          r.set_tenant_id(tenant);
          r.set_idempotency_key("r-" + key_base);
          r.set_amount_credits(amount);
          r.set_ttl_ms(rng() % 3 == 0 ? 1000 : 60'000);
          r.set_usage_kind(pb::USAGE_KIND_TWIN_SIMULATION);
          pb::ReserveResponse resp;
          auto s = UntilDefinitive(
              rng, e, [&](auto& stub, auto* ctx) { return stub.Reserve(ctx, r, &resp); });
          if (s.ok() && once()) {
            std::lock_guard<std::mutex> l(e.mu);
            e.holds[tenant].push_back({resp.hold().hold_id(), amount});
          }
        } else if (kind < 92) {  // capture or void a hold of this tenant
          std::pair<std::string, int64_t> hold;
          {
            std::lock_guard<std::mutex> l(e.mu);
            auto& hs = e.holds[tenant];
            if (hs.empty()) break;
            hold = hs[rng() % hs.size()];
          }
          if (rng() % 2) {
            pb::CaptureRequest r;
            r.set_tenant_id(tenant);
            r.set_idempotency_key("cap-" + key_base);
            r.set_hold_id(hold.first);
            r.set_amount_credits(1 + hold.second / 2);
            r.set_quantity(1);
            pb::CaptureResponse resp;
            auto s = UntilDefinitive(
                rng, e, [&](auto& stub, auto* ctx) { return stub.Capture(ctx, r, &resp); });
            if (s.ok() && once()) {
              Record(e, tenant, -(1 + hold.second / 2));
              std::lock_guard<std::mutex> l(e.mu);
              e.consumes[tenant].push_back({resp.transfer().transfer_id(), 1 + hold.second / 2});
            }
          } else {
            pb::VoidRequest r;
            r.set_tenant_id(tenant);
            r.set_idempotency_key("v-" + key_base);
            r.set_hold_id(hold.first);
            pb::VoidResponse resp;
            (void)UntilDefinitive(rng, e,
                                  [&](auto& stub, auto* ctx) { return stub.Void(ctx, r, &resp); });
          }
        } else {  // refund part of an earlier consume or capture of this tenant
          std::pair<std::string, int64_t> c;
          {
            std::lock_guard<std::mutex> l(e.mu);
            auto& cs = e.consumes[tenant];
            if (cs.empty()) break;
            c = cs[rng() % cs.size()];
          }
          pb::RefundRequest r;
          r.set_tenant_id(tenant);
          r.set_idempotency_key("f-" + key_base);
          r.set_transfer_id(c.first);
          r.set_amount_credits(1 + c.second / 4);
          pb::RefundResponse resp;
          auto s = UntilDefinitive(
              rng, e, [&](auto& stub, auto* ctx) { return stub.Refund(ctx, r, &resp); });
          if (s.ok() && once()) Record(e, tenant, 1 + c.second / 4);
        }
      }
    }
  }

  static void Record(Expected& e, const std::string& tenant, int64_t delta) {
    std::lock_guard<std::mutex> l(e.mu);
    e.posted_delta[tenant] += delta;
  }

  void RunLoad(int ops_per_client, Expected& e, const std::function<void()>& midway) {
    std::vector<std::thread> clients;
    for (int c = 0; c < kClientThreads; ++c) {
      clients.emplace_back([&, c] { Client(c, ops_per_client, e); });
    }
    if (midway) midway();
    for (auto& t : clients) t.join();
  }

  void CheckEverything(Expected& e) {
    pg::PgPoolOptions o;
    o.conninfo = dsn_;
    o.max_connections = 2;
    auto pool = pg::PgPool::Create(o);
    ASSERT_OK(pool);
    PostgresLedgerStore store(pool->get());
    // Global invariants: sum zero, balances = sum of transfers, pending = open holds, no
    // balance below its overdraft, refund totals, chain heads, no half-recorded key.
    auto v = store.CheckInvariants();
    ASSERT_OK(v);
    EXPECT_THAT(*v, IsEmpty());
    // Each key applied once: one transfer per key, a batch exactly its records.
    auto dup = pg_->Psql(DbName(),
                         "SELECT count(*) FROM (SELECT tenant_id, idempotency_key FROM transfers "
                         "WHERE idempotency_key <> '' AND idempotency_key NOT LIKE 'b-%' "
                         "GROUP BY 1, 2 HAVING count(*) > 1) x");
    ASSERT_OK(dup);
    EXPECT_EQ(*dup, "0");
    auto batches =
        pg_->Psql(DbName(), absl::StrCat("SELECT count(*) FROM (SELECT tenant_id, idempotency_key "
                                         "FROM transfers WHERE idempotency_key LIKE 'b-%' GROUP "
                                         "BY 1, 2 HAVING count(*) <> ",
                                         kBatchRecords, ") x"));
    ASSERT_OK(batches);
    EXPECT_EQ(*batches, "0");
    // The sweepers (200 ms period, two replicas) released every hold past its deadline.
    auto overdue = pg_->Psql(DbName(),
                             "SELECT count(*) FROM holds WHERE state = 1 AND expires_at < now() "
                             "- interval '1 second'");
    ASSERT_OK(overdue);
    EXPECT_EQ(*overdue, "0");
    auto expired = pg_->Psql(DbName(), "SELECT count(*) FROM holds WHERE state = 4");
    ASSERT_OK(expired);
    std::printf("holds expired by the sweepers: %s\n", expired->c_str());
    for (int t = 0; t < kTenants; ++t) {
      const std::string tenant = absl::StrCat("tenant", t);
      // The clients' view of every definitive outcome equals the ledger: nobody was charged
      // twice, nothing was lost.
      pb::GetBalanceRequest br;
      br.set_tenant_id(tenant);
      pb::GetBalanceResponse bal;
      ASSERT_TRUE(Call(0, [&](auto* c) { return stubs_[0]->GetBalance(c, br, &bal); }).ok());
      EXPECT_EQ(bal.balance().posted_credits(), e.posted_delta[tenant]) << tenant;
      pb::VerifyAuditRequest vr;
      vr.set_tenant_id(tenant);
      pb::VerifyAuditResponse audit;
      ASSERT_TRUE(Call(1, [&](auto* c) { return stubs_[1]->VerifyAudit(c, vr, &audit); }).ok());
      EXPECT_TRUE(audit.ok()) << tenant << ": " << audit.DebugString();
      EXPECT_GT(audit.verified_entries(), 0);
    }
    std::printf("calls %lld (duplicates %lld, retries after unknown outcome %lld, refused %lld)\n",
                static_cast<long long>(e.calls.load()), static_cast<long long>(e.duplicates.load()),
                static_cast<long long>(e.retries.load()), static_cast<long long>(e.refused.load()));
  }

  std::string DbName() const {
    const auto pos = dsn_.find("dbname=");
    std::string rest = dsn_.substr(pos + 7);
    return rest.substr(0, rest.find(' '));
  }

  inline static ::shieldx::testing::PgServer* pg_ = nullptr;
  inline static ::shieldx::testing::RedisServer* redis_ = nullptr;
  std::optional<::shieldx::testing::TempDir> dir_;
  std::string dsn_;
  std::vector<std::unique_ptr<CreditsProcess>> procs_;
  std::vector<std::unique_ptr<pb::CreditsService::Stub>> stubs_;
};

TEST_F(MultiProcessTest, TwoProcessesEightClientsThousandsOfOperationsKeepEveryInvariant) {
  Expected e;
  RunLoad(/*ops_per_client=*/300, e, nullptr);
  EXPECT_GE(e.calls.load(), 2400);
  // Let the sweepers expire the 1 s holds, then everything must still add up.
  absl::SleepFor(absl::Milliseconds(1500));
  CheckEverything(e);
  auto metrics = ::shieldx::testing::HttpGet(
      absl::StrCat("http://127.0.0.1:", procs_[0]->admin_port(), "/metrics"), absl::Seconds(2));
  ASSERT_OK(metrics);
  EXPECT_THAT(metrics->body,
              ::testing::HasSubstr("shieldx_credits_balance{tenant_id=\"tenant0\"}"));
  EXPECT_THAT(metrics->body, ::testing::HasSubstr("shieldx_credits_consumed_credits_total"));
  EXPECT_THAT(metrics->body, ::testing::HasSubstr("result=\"replayed\""));
}

TEST_F(MultiProcessTest, KillNineMidLoadThenRestartChargesNobodyTwice) {
  Expected e;
  RunLoad(/*ops_per_client=*/250, e, [&] {
    absl::SleepFor(absl::Milliseconds(1500));
    procs_[1]->Kill();  // SIGKILL: in-flight transactions die mid-way
    absl::SleepFor(absl::Milliseconds(700));
    ASSERT_OK(procs_[1]->Start());
  });
  EXPECT_GT(e.retries.load(), 0) << "the kill should have interrupted some calls";
  absl::SleepFor(absl::Milliseconds(1500));
  CheckEverything(e);
}

}  // namespace
}  // namespace shieldx::credits

namespace shieldx::credits {
namespace {

TEST_F(MultiProcessTest, CliSeedsTheDemoTenantIdempotently) {
  ::shieldx::testing::Subprocess::Options o;
  o.argv = {std::string(SHIELDX_BINARY_DIR) + "/bin/shieldx-credits-cli",
            "--target",
            procs_[0]->target(),
            "seed-demo",
            "--tenant",
            "demo",
            "--credits",
            "100000"};
  auto first = ::shieldx::testing::RunCommand(o, absl::Seconds(30));
  ASSERT_OK(first);
  EXPECT_THAT(*first, ::testing::HasSubstr("available 100000"));
  o.argv[2] = procs_[1]->target();  // a rerun (any replica) replays: same balance, exit 0
  auto again = ::shieldx::testing::RunCommand(o, absl::Seconds(30));
  ASSERT_OK(again);
  EXPECT_THAT(*again, ::testing::HasSubstr("available 100000"));
  o.argv = {std::string(SHIELDX_BINARY_DIR) + "/bin/shieldx-credits-cli",
            "--target",
            procs_[0]->target(),
            "verify-audit",
            "--tenant",
            "demo"};
  auto audit = ::shieldx::testing::RunCommand(o, absl::Seconds(30));
  ASSERT_OK(audit);
  EXPECT_THAT(*audit, ::testing::HasSubstr("ok: 2 entries verified"));
  o.argv = {std::string(SHIELDX_BINARY_DIR) + "/bin/shieldx-credits-cli", "--target",
            procs_[0]->target(), "balance"};
  EXPECT_FALSE(::shieldx::testing::RunCommand(o, absl::Seconds(30)).ok());  // usage error
}

}  // namespace
}  // namespace shieldx::credits
