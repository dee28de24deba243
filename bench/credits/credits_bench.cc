// credits_bench: how fast the credits ledger commits, against what PostgreSQL itself does.
//
//   build/bin/credits_bench [--clients=64] [--seconds=15] [--batch=1000] [--scale=10]
//                           [--committers=N] [--window-us=N] [--profile]
//
// One run, one PostgreSQL 15 started here with durability ON (fsync=on,
// synchronous_commit=on, full_page_writes=on — printed from SHOW), one Redis, and one
// shieldx-credits process (the real binary) on the same machine:
//   1. pgbench -i -s SCALE, then `pgbench -N -M prepared -c CLIENTS -j CLIENTS -T SECONDS`
//      (the simple-update script: UPDATE accounts, SELECT, INSERT history, one commit each);
//   2. CLIENTS threads sending Consume RPCs (one usage record, one idempotency key each) for
//      SECONDS: committed consumes per second;
//   3. CLIENTS threads sending ConsumeBatch RPCs of BATCH records for SECONDS: usage records
//      committed per second.
// Every client thread uses its own tenant (pgbench's clients also update different rows) and
// its own gRPC channel. 64 clients by default, for both pgbench and the RPC phases: the
// service's group commit (and PostgreSQL's own WAL-flush batching for pgbench) needs concurrent
// callers to coalesce. Prints the figures, the ratios to pgbench's tps, the CPU each party
// (client, shieldx-credits, PostgreSQL) used per operation, and the calls per group commit.
// --committers / --window-us override the service's group commit settings.
#include <dirent.h>
#include <grpcpp/grpcpp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/rpc/client.h"
#include "libs/testing/pg_server.h"
#include "libs/testing/process.h"
#include "libs/testing/prometheus_server.h"
#include "libs/testing/redis_server.h"
#include "services/credits/credits_service.h"

namespace {

namespace pb = shieldx::credits::v1;
using shieldx::testing::PgServer;

struct Flags {
  bool profile = false;  // --profile: pg_stat_statements top statements after the consume phase
  int clients = 64;
  int seconds = 15;
  int batch = 1000;
  int scale = 10;
  int committers = 0;  // --committers: group commit threads of the service (0: its default)
  int window_us = -1;  // --window-us: group commit window (-1: the service's default)
};

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "credits_bench: %s\n", what.c_str());
  std::exit(1);
}

template <typename T>
T Check(absl::StatusOr<T> v, const std::string& what) {
  if (!v.ok()) Die(what + ": " + v.status().ToString());
  return std::move(*v);
}

void Check(const absl::Status& s, const std::string& what) {
  if (!s.ok()) Die(what + ": " + s.ToString());
}

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* name, int* out) {
      const std::string prefix = std::string("--") + name + "=";
      if (a.rfind(prefix, 0) != 0) return false;
      if (!absl::SimpleAtoi(a.substr(prefix.size()), out) || *out <= 0) Die("bad " + a);
      return true;
    };
    if (a == "--profile") {
      f.profile = true;
      continue;
    }
    if (a.rfind("--window-us=", 0) == 0) {
      if (!absl::SimpleAtoi(a.substr(12), &f.window_us) || f.window_us < 0) Die("bad " + a);
      continue;
    }
    if (!value("clients", &f.clients) && !value("seconds", &f.seconds) &&
        !value("batch", &f.batch) && !value("scale", &f.scale) &&
        !value("committers", &f.committers)) {
      Die("unknown flag " + a + " (--clients --seconds --batch --scale --committers --window-us)");
    }
  }
  if (f.batch > 10000) Die("--batch is at most 10000");
  return f;
}

shieldx::common::v1::Actor Operator() {
  shieldx::common::v1::Actor a;
  a.set_kind(shieldx::common::v1::ACTOR_KIND_SERVICE);
  a.set_actor_id("credits-bench");
  a.set_tenant_id("_platform");
  for (const char* p : {"platform.billing", "credits.read", "credits.write"}) {
    a.add_permissions(p);
  }
  return a;
}

std::unique_ptr<grpc::ClientContext> Ctx() {
  auto ctx = shieldx::rpc::MakeClientContext(30'000);
  shieldx::credits::AttachActor(ctx.get(), Operator());
  return ctx;
}

// CPU seconds (user + system) of one process from /proc/PID/stat; with `children`, plus
// those of its reaped children (PostgreSQL backends that exited).
double ProcCpuSeconds(pid_t pid, bool children, pid_t* parent = nullptr) {
  std::ifstream f(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  if (!std::getline(f, line)) return 0;
  const std::size_t close = line.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(line.substr(close + 2));
  std::vector<std::string> v;
  for (std::string x; rest >> x;) v.push_back(x);
  // After "(comm) ": state ppid ... utime(14) stime(15) cutime(16) cstime(17), 1-based overall.
  if (v.size() < 15) return 0;
  if (parent != nullptr) *parent = std::stol(v[1]);
  double ticks = std::stod(v[11]) + std::stod(v[12]);
  if (children) ticks += std::stod(v[13]) + std::stod(v[14]);
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// CPU seconds of the whole PostgreSQL server: the postmaster, its live children, and the
// children it reaped.
double PostgresCpuSeconds(const PgServer& pg) {
  std::ifstream f(pg.data_dir() + "/postmaster.pid");
  pid_t postmaster = 0;
  if (!(f >> postmaster) || postmaster <= 0) return 0;
  double total = ProcCpuSeconds(postmaster, /*children=*/true);
  DIR* d = opendir("/proc");
  if (d == nullptr) return total;
  while (dirent* e = readdir(d)) {
    pid_t pid = 0;
    if (!absl::SimpleAtoi(e->d_name, &pid) || pid == postmaster) continue;
    pid_t parent = 0;
    const double cpu = ProcCpuSeconds(pid, /*children=*/false, &parent);
    if (parent == postmaster) total += cpu;
  }
  closedir(d);
  return total;
}

double SelfCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double ChildrenCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_CHILDREN, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// CPU used by each party during one phase.
struct CpuSample {
  double client = 0;   // this process (the gRPC load generator) or pgbench
  double service = 0;  // shieldx-credits
  double postgres = 0;
};

double RunPgbench(const PgServer& pg, const Flags& f, CpuSample& cpu) {
  const std::string bin = "/usr/lib/postgresql/15/bin/pgbench";
  const std::string port = absl::StrCat(pg.Port());
  shieldx::testing::Subprocess::Options init;
  init.argv = {bin,  "-i", "-q",       "-s",     absl::StrCat(f.scale), "-h", "127.0.0.1", "-p",
               port, "-U", "postgres", "pgbench"};
  Check(shieldx::testing::RunCommand(init, absl::Minutes(10)).status(), "pgbench -i");
  shieldx::testing::Subprocess::Options run;
  run.argv = {bin,      "-N",
              "-M",     "prepared",
              "-c",     absl::StrCat(f.clients),
              "-j",     absl::StrCat(f.clients),
              "-T",     absl::StrCat(f.seconds),
              "-h",     "127.0.0.1",
              "-p",     port,
              "-U",     "postgres",
              "pgbench"};
  const double client0 = ChildrenCpuSeconds(), pg0 = PostgresCpuSeconds(pg);
  std::string out =
      Check(shieldx::testing::RunCommand(run, absl::Seconds(f.seconds + 120)), "pgbench -N");
  cpu.client = ChildrenCpuSeconds() - client0;
  cpu.postgres = PostgresCpuSeconds(pg) - pg0;
  std::smatch m;
  if (!std::regex_search(out, m, std::regex(R"(tps = ([0-9.]+) \(without initial)"))) {
    Die("cannot find tps in pgbench output: " + out);
  }
  return std::stod(m[1].str());
}

struct Load {
  std::atomic<int64_t> ok{0};
  std::atomic<int64_t> failed{0};
  std::atomic<int64_t> records{0};
  std::string first_error;
  std::mutex mu;
};

double Measure(const std::string& target, const Flags& f, bool batch, Load& load) {
  std::vector<std::thread> threads;
  std::atomic<bool> stop{false};
  const absl::Time start = absl::Now();
  for (int c = 0; c < f.clients; ++c) {
    threads.emplace_back([&, c] {
      auto channel = Check(shieldx::rpc::MakeChannel(target, {}), "channel");
      grpc::ChannelArguments args;
      auto stub = pb::CreditsService::NewStub(channel);
      const std::string tenant = absl::StrCat("bench", c);
      for (int64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        grpc::Status s;
        if (!batch) {
          pb::ConsumeRequest r;
          r.set_tenant_id(tenant);
          r.set_idempotency_key(absl::StrCat("c-", i));
          r.mutable_record()->set_usage_kind(pb::USAGE_KIND_INSPECTED_REQUEST);
          r.mutable_record()->set_quantity(1);
          r.mutable_record()->set_amount_credits(1);
          pb::ConsumeResponse resp;
          s = stub->Consume(Ctx().get(), r, &resp);
          if (s.ok()) load.records++;
        } else {
          pb::ConsumeBatchRequest r;
          r.set_tenant_id(tenant);
          r.set_idempotency_key(absl::StrCat("b-", i));
          for (int k = 0; k < f.batch; ++k) {
            auto* rec = r.add_records();
            rec->set_usage_kind(k % 4 == 0 ? pb::USAGE_KIND_PLUGIN_EXECUTION
                                           : pb::USAGE_KIND_INSPECTED_REQUEST);
            rec->set_quantity(100);
            rec->set_amount_credits(1);
            rec->set_reference(absl::StrCat("route-", k % 32));
          }
          pb::ConsumeBatchResponse resp;
          s = stub->ConsumeBatch(Ctx().get(), r, &resp);
          if (s.ok()) load.records += resp.applied_records();
        }
        if (s.ok()) {
          load.ok++;
        } else {
          load.failed++;
          std::lock_guard<std::mutex> l(load.mu);
          if (load.first_error.empty()) load.first_error = s.error_message();
        }
      }
    });
  }
  absl::SleepFor(absl::Seconds(f.seconds));
  stop = true;
  for (auto& t : threads) t.join();
  const double elapsed = absl::ToDoubleSeconds(absl::Now() - start);
  if (load.failed > 0) {
    std::fprintf(stderr, "credits_bench: %lld calls failed, first: %s\n",
                 static_cast<long long>(load.failed.load()), load.first_error.c_str());
  }
  return static_cast<double>(load.records.load()) / elapsed;
}

// Measure() with the CPU each party used meanwhile.
double Phase(const std::string& target, const Flags& f, bool batch, Load& load, const PgServer& pg,
             pid_t service_pid, CpuSample& cpu) {
  const double client0 = SelfCpuSeconds(), service0 = ProcCpuSeconds(service_pid, false),
               pg0 = PostgresCpuSeconds(pg);
  const double rate = Measure(target, f, batch, load);
  cpu.client = SelfCpuSeconds() - client0;
  cpu.service = ProcCpuSeconds(service_pid, false) - service0;
  cpu.postgres = PostgresCpuSeconds(pg) - pg0;
  return rate;
}

void PrintCpu(const std::string& what, const CpuSample& cpu, double ops) {
  if (ops <= 0) return;
  std::printf("  CPU per op (%s): client %.3f ms, shieldx-credits %.3f ms, PostgreSQL %.3f ms\n",
              what.c_str(), 1000 * cpu.client / ops, 1000 * cpu.service / ops,
              1000 * cpu.postgres / ops);
}

struct GroupStats {
  double calls = 0;         // sum of shieldx_credits_group_commit_calls
  double transactions = 0;  // its count
};

GroupStats ReadGroupStats(const std::string& metrics_url) {
  GroupStats g;
  auto m = shieldx::testing::HttpGet(metrics_url, absl::Seconds(2));
  if (!m.ok()) return g;
  std::smatch sum, count;
  if (std::regex_search(m->body, sum,
                        std::regex(R"(shieldx_credits_group_commit_calls_sum ([0-9.e+-]+))")) &&
      std::regex_search(m->body, count,
                        std::regex(R"(shieldx_credits_group_commit_calls_count ([0-9.e+-]+))"))) {
    g.calls = std::stod(sum[1].str());
    g.transactions = std::stod(count[1].str());
  }
  return g;
}

}  // namespace

int main(int argc, char** argv) {
  const Flags f = ParseFlags(argc, argv);
  PgServer::Options po;
  po.dir_prefix = "credits-bench-pg";
  po.settings = {"fsync=on", "synchronous_commit=on", "full_page_writes=on", "shared_buffers=256MB",
                 absl::StrCat("max_connections=", std::max(100, f.clients + 20))};
  if (f.profile) {
    po.settings.push_back("shared_preload_libraries=pg_stat_statements");
    po.settings.push_back("pg_stat_statements.track=all");
  }
  auto pg = Check(PgServer::Start(po), "start PostgreSQL");
  const std::string settings = Check(
      pg->Psql("postgres",
               "SELECT string_agg(name || '=' || setting, ' ' ORDER BY name) FROM pg_settings "
               "WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', "
               "'wal_sync_method', 'shared_buffers', 'wal_level', 'max_wal_size')"),
      "read settings");
  if (settings.find("fsync=on") == std::string::npos ||
      settings.find("synchronous_commit=on") == std::string::npos) {
    Die("durability is not on: " + settings);
  }
  Check(pg->CreateDatabase("pgbench"), "create pgbench db");
  Check(pg->CreateDatabase("credits"), "create credits db");
  auto redis = Check(shieldx::testing::RedisServer::Start(), "start Redis");

  std::printf("PostgreSQL 15 settings: %s\n", settings.c_str());
  std::printf("clients %d, %d s per phase, batch %d records, pgbench scale %d, %u cores\n",
              f.clients, f.seconds, f.batch, f.scale, std::thread::hardware_concurrency());
  std::fflush(stdout);

  CpuSample pgbench_cpu;
  const double pgbench_tps = RunPgbench(*pg, f, pgbench_cpu);
  std::printf("pgbench -N -M prepared: %.1f tps\n", pgbench_tps);
  PrintCpu("pgbench -N", pgbench_cpu, pgbench_tps * f.seconds);
  std::fflush(stdout);

  const int grpc_port = Check(shieldx::testing::PickFreePort(), "port");
  const int admin_port = Check(shieldx::testing::PickFreePort(), "port");
  auto dir = Check(shieldx::testing::TempDir::Create("credits-bench"), "temp dir");
  shieldx::testing::Subprocess::Options so;
  so.argv = {std::string(SHIELDX_BINARY_DIR) + "/bin/shieldx-credits"};
  so.log_path = dir.path() + "/credits.log";
  so.env = {"SHIELDX_CREDITS_PG_DSN=" + pg->ConnectionString("credits"),
            "SHIELDX_CREDITS_REDIS_ADDR=" + redis->address(),
            "SHIELDX_CREDITS_AUDIT_HMAC_KEY=bench-bench-bench-bench-bench-bench-key",
            absl::StrCat("SHIELDX_CREDITS_GRPC_LISTEN=127.0.0.1:", grpc_port),
            absl::StrCat("SHIELDX_CREDITS_ADMIN_LISTEN=127.0.0.1:", admin_port),
            absl::StrCat("SHIELDX_CREDITS_PG_MAX_CONNECTIONS=", f.clients + 2),
            "SHIELDX_CREDITS_LOG_LEVEL=warn"};
  if (f.committers > 0) {
    so.env.push_back(absl::StrCat("SHIELDX_CREDITS_GROUP_COMMIT_COMMITTERS=", f.committers));
  }
  if (f.window_us >= 0) {
    so.env.push_back(absl::StrCat("SHIELDX_CREDITS_GROUP_COMMIT_WINDOW=", f.window_us, "us"));
  }
  auto credits = Check(shieldx::testing::Subprocess::Start(so), "start shieldx-credits");
  bool ready = false;
  for (int i = 0; i < 300 && !ready; ++i) {
    auto r = shieldx::testing::HttpGet(absl::StrCat("http://127.0.0.1:", admin_port, "/readyz"),
                                       absl::Seconds(1));
    ready = r.ok() && r->status == 200;
    if (!ready) absl::SleepFor(absl::Milliseconds(100));
  }
  if (!ready) Die("shieldx-credits not ready; log: " + so.log_path);
  const std::string target = absl::StrCat("127.0.0.1:", grpc_port);
  {
    auto stub = pb::CreditsService::NewStub(Check(shieldx::rpc::MakeChannel(target, {}), "ch"));
    for (int c = 0; c < f.clients; ++c) {
      pb::OpenAccountRequest open;
      open.set_tenant_id(absl::StrCat("bench", c));
      open.set_idempotency_key("open");
      pb::OpenAccountResponse opened;
      grpc::Status s = stub->OpenAccount(Ctx().get(), open, &opened);
      if (!s.ok()) Die("OpenAccount: " + s.error_message());
      pb::TopUpRequest top;
      top.set_tenant_id(absl::StrCat("bench", c));
      top.set_idempotency_key("top");
      top.set_amount_credits(100'000'000'000);
      top.mutable_payment()->set_provider("promotion");
      pb::TopUpResponse topped;
      s = stub->TopUp(Ctx().get(), top, &topped);
      if (!s.ok()) Die("TopUp: " + s.error_message());
    }
  }

  const std::string metrics_url = absl::StrCat("http://127.0.0.1:", admin_port, "/metrics");
  Load single;
  CpuSample consume_cpu;
  const GroupStats groups0 = ReadGroupStats(metrics_url);
  const double consume_tps =
      Phase(target, f, /*batch=*/false, single, *pg, credits.pid(), consume_cpu);
  const GroupStats groups1 = ReadGroupStats(metrics_url);
  std::printf("Consume RPC: %.1f tps (%.2fx pgbench)\n", consume_tps, consume_tps / pgbench_tps);
  PrintCpu("Consume", consume_cpu, static_cast<double>(single.ok.load()));
  if (groups1.transactions > groups0.transactions) {
    std::printf("group commit: %.0f transactions, %.1f calls per transaction on average\n",
                groups1.transactions - groups0.transactions,
                (groups1.calls - groups0.calls) / (groups1.transactions - groups0.transactions));
  }
  std::fflush(stdout);
  if (f.profile) {
    auto m = shieldx::testing::HttpGet(absl::StrCat("http://127.0.0.1:", admin_port, "/metrics"),
                                       absl::Seconds(2));
    if (m.ok()) {
      std::smatch sum, count;
      const std::string& b = m->body;
      std::regex rs(
          R"(grpc_server_handling_seconds_sum\{[^}]*grpc_method="Consume"[^}]*\} ([0-9.e+-]+))");
      std::regex rc(
          R"(grpc_server_handling_seconds_count\{[^}]*grpc_method="Consume"[^}]*\} ([0-9.e+-]+))");
      if (std::regex_search(b, sum, rs) && std::regex_search(b, count, rc)) {
        std::printf("server-side Consume handling: mean %.2f ms over %s calls\n",
                    1000 * std::stod(sum[1].str()) / std::stod(count[1].str()),
                    count[1].str().c_str());
      }
    }
    std::printf("%s\n",
                Check(pg->Psql("credits",
                               "CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT "
                               "string_agg(format('%s calls %s mean_ms %s: %s', rank, calls, "
                               "round(mean_exec_time::numeric, 3), left(regexp_replace(query, "
                               "'\\s+', ' ', 'g'), 110)), E'\\n') FROM (SELECT row_number() "
                               "OVER (ORDER BY total_exec_time DESC) AS rank, * FROM "
                               "pg_stat_statements ORDER BY total_exec_time DESC LIMIT 15) s"),
                      "pg_stat_statements")
                    .c_str());
  }
  Load batched;
  CpuSample batch_cpu;
  const double records_per_s =
      Phase(target, f, /*batch=*/true, batched, *pg, credits.pid(), batch_cpu);
  PrintCpu("ConsumeBatch (per record)", batch_cpu, static_cast<double>(batched.records.load()));
  std::printf("ConsumeBatch (%d records): %.0f records/s, %.1f batches/s (%.1fx pgbench)\n",
              f.batch, records_per_s, records_per_s / f.batch, records_per_s / pgbench_tps);
  std::printf("\n| measure | result | vs pgbench -N |\n|---|---|---|\n");
  std::printf("| pgbench -N -M prepared, %d clients | %.0f tps | 1.00x |\n", f.clients,
              pgbench_tps);
  std::printf("| Consume RPC, %d clients | %.0f tps | %.2fx |\n", f.clients, consume_tps,
              consume_tps / pgbench_tps);
  std::printf("| ConsumeBatch of %d records, %d clients | %.0f records/s | %.1fx |\n", f.batch,
              f.clients, records_per_s, records_per_s / pgbench_tps);
  credits.Stop();
  return (single.failed > 0 || batched.failed > 0) ? 1 : 0;
}
