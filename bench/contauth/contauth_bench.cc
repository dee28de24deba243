// bench_contauth: latency of ContAuth::Score in process, on the in-memory store and risk
// publisher (no network, no database), with warm caches — the cost contauth itself adds to
// the orchestrator's synchronous check. Scenarios:
//   session  : Score with no probe samples (fuse the session's evidence, record, publish)
//   probe    : Score with one fixed-text probe sample against a 50-user tenant background
//   grpc     : the probe scenario through the gRPC adapter on an in-process channel
//   background: building the tenant background (cohort templates + per-user logistic
//              discriminants) from the compiled profiles: what the background worker
//              spends once per background_refresh per tenant and replica (off the request
//              path since the rebuild moved to ContAuth's worker thread)
//
//   bench_contauth [--users N] [--enroll N] [--iterations N]
// Prints one line per scenario: p50 / p90 / p99 / p99.9 / max in microseconds and calls/s.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "libs/metrics/metrics.h"
#include "libs/rpc/server.h"
#include "services/contauth/contauth.h"
#include "services/contauth/contauth_service.h"
#include "services/contauth/contauth_test_util.h"
#include "services/contauth/in_memory_contauth_store.h"
#include "services/contauth/model/keystroke_model.h"

namespace shieldx::contauth {
namespace {

struct Args {
  int users = 50;
  int enroll = 25;
  int iterations = 20000;
};

double ThreadCpuMicros() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

double Pct(const std::vector<double>& v, double p) {
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * v.size()))];
}

// Wall-clock latency percentiles, plus this thread's CPU time per call (unaffected by
// preemption on a shared machine; for grpc it excludes the server threads' work).
void Report(const char* name, std::vector<double>& us, std::vector<double>& cpu, double wall_s) {
  std::sort(us.begin(), us.end());
  std::sort(cpu.begin(), cpu.end());
  std::printf(
      "%-8s n=%zu  wall p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f us | cpu p50 %.1f  "
      "p99 %.1f us | %.0f calls/s\n",
      name, us.size(), Pct(us, 0.50), Pct(us, 0.90), Pct(us, 0.99), Pct(us, 0.999), us.back(),
      Pct(cpu, 0.50), Pct(cpu, 0.99), us.size() / wall_s);
}

int Run(const Args& a) {
  InMemoryContAuthStore store;
  InMemoryRiskPublisher publisher;
  auto cipher = ProfileCipher::Create("k1", std::string(32, 'b'));
  if (!cipher.ok()) return 1;
  // Enrollment through one instance; measurement through a fresh one, so its tenant
  // background is built from the fully enrolled tenant (as a replica would after a restart).
  ContAuth enroller(&store, &publisher, &*cipher, nullptr, Clock::Real(), nullptr, {});
  Policy policy;
  policy.min_enroll_samples = static_cast<uint32_t>(a.enroll);
  if (!enroller.UpdatePolicy("bench", policy, 0).ok()) return 1;
  std::vector<testing::Typist> typists;
  for (int u = 0; u < a.users; ++u) {
    typists.emplace_back(1000 + u);
    TelemetryBatch b;
    b.tenant_id = "bench";
    b.session_id = "enroll-" + std::to_string(u);
    b.user_id = "u" + std::to_string(u);
    for (int i = 0; i < a.enroll; ++i) {
      b.keystrokes.push_back(typists[u].Sample("e" + std::to_string(i)));
    }
    absl::StatusOr<IngestResult> r = enroller.Ingest(b);
    if (!r.ok()) {
      std::fprintf(stderr, "enroll: %s\n", r.status().ToString().c_str());
      return 1;
    }
  }
  enroller.Stop();  // its background worker must not rebuild during the measurement
  ContAuth contauth(&store, &publisher, &*cipher, nullptr, Clock::Real(), nullptr, {});
  // The tenant background is built off the request path; build it now so every measured
  // probe is scored with it (as in steady state), not genuine-only.
  if (absl::Status s = contauth.RefreshBackground("bench"); !s.ok()) {
    std::fprintf(stderr, "background: %s\n", s.ToString().c_str());
    return 1;
  }
  // Probes prepared up front (generation is not measured).
  std::vector<ScoreInput> session_inputs, probe_inputs;
  for (int i = 0; i < a.iterations; ++i) {
    const int u = i % a.users;
    ScoreInput in;
    in.tenant_id = "bench";
    in.user_id = "u" + std::to_string(u);
    // Sessions stay with their user: session s<k> belongs to u<k % users>.
    in.session_id = "s" + std::to_string(u);
    in.has_context = true;
    in.context.ip = "203.0.113." + std::to_string(u % 250);
    session_inputs.push_back(in);
    in.probes.push_back(
        typists[(i * 7) % a.users].Sample("p" + std::to_string(i), PhaseRequest::kProbe));
    probe_inputs.push_back(std::move(in));
  }
  auto measure = [&](const char* name, auto&& call) {
    // Warm-up: compile every user's model and the tenant background.
    for (int i = 0; i < std::min(a.iterations, 2 * a.users); ++i) call(i);
    std::vector<double> us, cpu;
    us.reserve(a.iterations);
    cpu.reserve(a.iterations);
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < a.iterations; ++i) {
      const double c0 = ThreadCpuMicros();
      const auto t0 = std::chrono::steady_clock::now();
      call(i);
      us.push_back(
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
      cpu.push_back(ThreadCpuMicros() - c0);
    }
    Report(name, us, cpu,
           std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  };
  int errors = 0;
  {
    KeystrokeModelConfig config;
    config.min_enroll_samples = static_cast<std::size_t>(a.enroll);
    const KeystrokeModel model(config);
    std::vector<TenantBackground::Member> members;
    for (int u = 0; u < a.users; ++u) {
      KeystrokeProfile p;
      for (int i = 0; i < a.enroll; ++i) {
        if (!model.Enroll(typists[u].Sample("b" + std::to_string(i)).sample, &p).ok()) ++errors;
      }
      members.push_back(
          {"u" + std::to_string(u), std::make_shared<const CompiledProfile>(model.Compile(p))});
    }
    std::vector<double> ms;
    for (int rep = 0; rep < 5; ++rep) {
      const auto t0 = std::chrono::steady_clock::now();
      const TenantBackground background(members, model.background_options());
      ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    std::printf("background n=5  build min %.1f  median %.1f  max %.1f ms (%d users)\n", ms[0],
                ms[2], ms[4], a.users);
  }
  measure("session", [&](int i) { errors += !contauth.Score(session_inputs[i]).ok(); });
  measure("probe", [&](int i) { errors += !contauth.Score(probe_inputs[i]).ok(); });

  metrics::MetricsRegistry registry("contauth");
  ContAuthServiceImpl service(&contauth);
  rpc::GrpcServer server(rpc::ServerOptions{}, &registry);
  server.RegisterService(&service, "shieldx.contauth.v1.ContAuthService");
  if (!server.Start().ok()) return 1;
  auto stub = v1::ContAuthService::NewStub(server.InProcessChannel());
  common::v1::Actor actor;
  actor.set_kind(common::v1::ACTOR_KIND_SERVICE);
  actor.set_actor_id("orchestrator");
  actor.set_tenant_id("bench");
  actor.add_permissions("contauth.score");
  const std::string actor_bytes = actor.SerializeAsString();
  std::vector<v1::ScoreRequest> requests;
  for (const ScoreInput& in : probe_inputs) {
    v1::ScoreRequest r;
    r.set_tenant_id(in.tenant_id);
    r.set_session_id(in.session_id);
    r.set_user_id(in.user_id);
    r.mutable_context()->set_ip(in.context.ip);
    v1::KeystrokeSample* k = r.add_probe_samples();
    k->set_sample_id(in.probes[0].sample.sample_id);
    k->set_text_id(in.probes[0].text_id);
    k->set_phase(v1::SAMPLE_PHASE_PROBE);
    for (const KeyEvent& e : in.probes[0].sample.events) {
      v1::KeyEvent* p = k->add_events();
      p->set_key(e.key);
      p->set_down_ms(e.down_ms);
      p->set_up_ms(e.up_ms);
    }
    requests.push_back(std::move(r));
  }
  measure("grpc", [&](int i) {
    grpc::ClientContext ctx;
    ctx.AddMetadata(kActorMetadataKey, actor_bytes);
    v1::ScoreResponse resp;
    errors += !stub->Score(&ctx, requests[i], &resp).ok();
  });
  server.Shutdown(absl::ZeroDuration());
  std::printf("users %d, enrollment vectors per user %d, text %zu keys, errors %d\n", a.users,
              a.enroll, std::strlen(testing::kPassword), errors);
  return errors == 0 ? 0 : 1;
}

}  // namespace
}  // namespace shieldx::contauth

int main(int argc, char** argv) {
  shieldx::contauth::Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const int v = std::atoi(argv[i + 1]);
    if (flag == "--users")
      a.users = std::max(1, v);
    else if (flag == "--enroll")
      a.enroll = std::max(10, v);
    else if (flag == "--iterations")
      a.iterations = std::max(100, v);
    else {
      std::fprintf(stderr, "usage: bench_contauth [--users N] [--enroll N] [--iterations N]\n");
      return 2;
    }
  }
  return shieldx::contauth::Run(a);
}
