#include "libs/http/admin.h"

#include <exception>
#include <set>

#include "absl/strings/str_cat.h"
#include "libs/base/check.h"
#include "libs/log/log.h"
#include "libs/metrics/metrics.h"

namespace shieldx::http {
namespace {

// Longest probe error message reported in /readyz.
constexpr std::size_t kMaxProbeMessageBytes = 512;

void AppendJsonString(std::string* out, std::string_view s) {
  out->push_back('"');
  log::AppendJsonEscaped(out, s, kMaxProbeMessageBytes);
  out->push_back('"');
}

}  // namespace

std::string ReadinessReport::ToJson() const {
  std::string out = "{\"status\":";
  AppendJsonString(&out, draining ? "draining"
                         : ready  ? (degraded ? "degraded" : "ready")
                                  : "not_ready");
  out += ",\"probes\":[";
  for (std::size_t i = 0; i < probes.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += "{\"name\":";
    AppendJsonString(&out, probes[i].name);
    out += probes[i].status.ok() ? ",\"ok\":true" : ",\"ok\":false,\"error\":";
    if (!probes[i].status.ok()) AppendJsonString(&out, probes[i].status.ToString());
    if (!probes[i].required) out += ",\"required\":false";
    out.push_back('}');
  }
  out += "]}\n";
  return out;
}

AdminServer::AdminServer(AdminServerOptions options, metrics::MetricsRegistry* metrics,
                         std::vector<ReadinessProbe> probes)
    : options_(std::move(options)), metrics_(metrics), server_(options_.http, metrics) {
  SHIELDX_CHECK(metrics_ != nullptr);
  std::set<std::string> names;
  for (ReadinessProbe& p : probes) {
    SHIELDX_CHECK_MSG(names.insert(p.name).second, "duplicate readiness probe name");
    SHIELDX_CHECK(p.check != nullptr);
    auto slot = std::make_unique<Slot>();
    slot->probe = std::move(p);
    slots_.push_back(std::move(slot));
  }
  for (auto& slot : slots_) slot->thread = std::thread([this, s = slot.get()] { RunSlot(s); });

  SHIELDX_CHECK_OK(server_.Handle("GET", "/healthz", [this](const HttpRequest&, HttpResponse& r) {
    if (shutting_down_.load()) {
      r.Text(503, "shutting down\n");
    } else {
      r.Text(200, "ok\n");
    }
  }));
  SHIELDX_CHECK_OK(server_.Handle("GET", "/readyz", [this](const HttpRequest&, HttpResponse& r) {
    ReadinessReport report = CheckReadiness();
    r.Json(report.ready ? 200 : 503, report.ToJson());
  }));
  SHIELDX_CHECK_OK(server_.Handle("GET", "/metrics", [this](const HttpRequest&, HttpResponse& r) {
    r.status = 200;
    r.SetContentType("text/plain; version=0.0.4; charset=utf-8");
    r.body = metrics_->Serialize();
  }));
}

AdminServer::~AdminServer() {
  Shutdown(absl::ZeroDuration());
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (auto& slot : slots_) slot->thread.join();
}

absl::Status AdminServer::Start() { return server_.Start(); }

void AdminServer::Shutdown(absl::Duration deadline) {
  draining_.store(true);
  shutting_down_.store(true);
  server_.Shutdown(deadline);
}

void AdminServer::RunSlot(Slot* slot) {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    work_cv_.wait(lock, [&] { return stop_ || slot->requested > slot->finished; });
    if (stop_) return;
    uint64_t want = slot->requested;
    lock.unlock();
    absl::Status status;
    try {
      status = slot->probe.check();
    } catch (const std::exception& e) {
      status = absl::InternalError(absl::StrCat("probe threw: ", e.what()));
    } catch (...) {
      status = absl::InternalError("probe threw");
    }
    lock.lock();
    slot->last = std::move(status);
    slot->finished = want;
    done_cv_.notify_all();
  }
}

std::vector<ProbeResult> AdminServer::RefreshProbes() {
  std::unique_lock<std::mutex> lock(mu_);
  uint64_t gen = ++generation_;
  for (auto& slot : slots_) {
    // A probe still busy with an older round is not queued again: it answers when it returns.
    if (slot->requested == slot->finished) slot->requested = gen;
  }
  work_cv_.notify_all();
  done_cv_.wait_for(lock, absl::ToChronoNanoseconds(options_.probe_timeout), [&] {
    for (auto& slot : slots_) {
      if (slot->finished < gen) return false;
    }
    return true;
  });
  std::vector<ProbeResult> results;
  for (auto& slot : slots_) {
    ProbeResult r{slot->probe.name, slot->last, slot->probe.required};
    if (slot->finished < gen) {
      r.status = absl::DeadlineExceededError(
          absl::StrCat("probe ", slot->probe.name, " did not answer within ",
                       absl::FormatDuration(options_.probe_timeout)));
    }
    results.push_back(std::move(r));
  }
  return results;
}

ReadinessReport AdminServer::CheckReadiness() {
  ReadinessReport report;
  if (draining()) {
    report.draining = true;
    return report;
  }
  {
    std::lock_guard<std::mutex> lock(refresh_mu_);
    int64_t now = options_.clock->MonotonicNanos();
    if (cached_at_ns_ < 0 ||
        now - cached_at_ns_ >= absl::ToInt64Nanoseconds(options_.probe_cache_ttl)) {
      std::vector<ProbeResult> fresh = RefreshProbes();
      for (const ProbeResult& r : fresh) {
        bool was_ok = true;
        for (const ProbeResult& old : cached_) {
          if (old.name == r.name) was_ok = old.status.ok();
        }
        if (was_ok && !r.status.ok()) {
          log::Warn("readiness probe failing", {{"probe", r.name}, {"error", r.status.ToString()}});
        } else if (!was_ok && r.status.ok()) {
          log::Info("readiness probe recovered", {{"probe", r.name}});
        }
      }
      cached_ = std::move(fresh);
      cached_at_ns_ = options_.clock->MonotonicNanos();
    }
    report.probes = cached_;
  }
  report.ready = true;
  for (const ProbeResult& r : report.probes) {
    if (r.status.ok()) continue;
    if (r.required) {
      report.ready = false;
    } else {
      report.degraded = true;
    }
  }
  return report;
}

}  // namespace shieldx::http
