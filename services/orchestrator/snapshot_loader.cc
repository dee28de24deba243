#include "services/orchestrator/snapshot_loader.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/log/log.h"

namespace shieldx::orchestrator {

SnapshotLoader::SnapshotLoader(ConfigStore* store, pipeline::Pipeline* pipeline,
                               pipeline::MemberStateRegistry* members, pipeline::UsageMeter* usage,
                               pipeline::PipelineMetrics* metrics, Clock* clock,
                               SnapshotLoaderOptions options)
    : store_(store),
      pipeline_(pipeline),
      members_(members),
      usage_(usage),
      metrics_(metrics),
      clock_(clock != nullptr ? clock : Clock::Real()),
      options_(options) {}

SnapshotLoader::~SnapshotLoader() { Stop(); }

absl::Status SnapshotLoader::LoadAll() {
  absl::MutexLock lock(&refresh_mu_);
  seen_version_ = 0;  // every tenant counts as changed
  return RefreshLocked();
}

absl::Status SnapshotLoader::Refresh() {
  absl::MutexLock lock(&refresh_mu_);
  return RefreshLocked();
}

absl::Status SnapshotLoader::RefreshLocked() {
  auto store_failed = [&](const absl::Status& s) {
    absl::MutexLock lock(&state_mu_);
    if (state_.store_reachable) {
      log::Warn("configuration store unreachable; deciding with the last snapshot",
                {{"error", std::string(s.message())}, {"applied_version", state_.applied_version}});
    }
    state_.store_reachable = false;
    state_.store_error = std::string(s.message());
    if (metrics_ != nullptr) metrics_->reloads_failed().Increment();
    return s;
  };
  absl::StatusOr<int64_t> latest = store_->LatestVersion();
  if (!latest.ok()) return store_failed(latest.status());
  {
    absl::MutexLock lock(&state_mu_);
    state_.stored_version = *latest;
    state_.store_reachable = true;
    state_.store_error.clear();
  }
  if (metrics_ != nullptr) metrics_->config_stored_version().Set(static_cast<double>(*latest));

  // Tenants to (re)compile: those whose version moved, and those with an expired IP entry.
  std::map<std::string, int64_t> changed;
  const bool first = seen_version_ == 0 && !state().loaded;
  if (*latest != seen_version_ || first) {
    absl::StatusOr<std::map<std::string, int64_t>> c = store_->ChangedSince(seen_version_);
    if (!c.ok()) return store_failed(c.status());
    changed = std::move(*c);
  }
  const int64_t now_s = absl::ToUnixSeconds(clock_->Now());
  for (const auto& [id, t] : tenants_) {
    if (t->next_expiry_unix_s != 0 && t->next_expiry_unix_s <= now_s)
      changed.emplace(id, t->version);
  }
  if (changed.empty() && state().loaded) {
    seen_version_ = *latest;
    return absl::OkStatus();
  }

  std::map<std::string, std::string> new_errors;
  for (const auto& [tenant_id, version] : changed) {
    absl::StatusOr<TenantConfig> config =
        store_->Load(tenant_id, LoadOptions{.live_versions_only = true});
    if (!config.ok()) return store_failed(config.status());
    pipeline::CompileContext ctx{members_, usage_, metrics_, now_s};
    auto compiled = pipeline::CompileTenant(*config, ctx);
    if (compiled.ok()) {
      tenants_[tenant_id] = *compiled;
      continue;
    }
    new_errors[tenant_id] = absl::StrCat("configuration version ", config->version,
                                         " does not compile: ", compiled.status().message());
    log::Error("tenant configuration rejected; the previous one keeps serving",
               {{"tenant_id", tenant_id},
                {"version", config->version},
                {"error", std::string(compiled.status().message())}});
  }
  seen_version_ = *latest;
  {
    absl::MutexLock lock(&state_mu_);
    for (const auto& [tenant_id, version] : changed) {
      auto e = new_errors.find(tenant_id);
      if (e == new_errors.end()) {
        state_.tenant_errors.erase(tenant_id);
      } else {
        state_.tenant_errors[tenant_id] = e->second;
      }
    }
    if (metrics_ != nullptr) {
      metrics_->tenant_errors().Set(static_cast<double>(state_.tenant_errors.size()));
    }
  }
  Install(*latest);
  return absl::OkStatus();
}

void SnapshotLoader::Install(int64_t version) {
  std::vector<std::string> conflicts;
  std::shared_ptr<const pipeline::Snapshot> snapshot =
      pipeline::Snapshot::Assemble(version, tenants_, &conflicts);
  for (const std::string& c : conflicts) log::Warn("hostname conflict", {{"detail", c}});
  // The swap and the reported state change together, so state() never lags the decisions.
  absl::MutexLock lock(&state_mu_);
  pipeline_->SetSnapshot(std::move(snapshot));
  state_.loaded = true;
  state_.applied_version = version;
  state_.applied_at = clock_->Now();
  tenant_versions_.clear();
  for (const auto& [id, t] : tenants_) tenant_versions_[id] = t->version;
  if (metrics_ != nullptr) {
    metrics_->config_version().Set(static_cast<double>(version));
    metrics_->reloads_ok().Increment();
  }
  members_->Collect();
}

void SnapshotLoader::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
}

void SnapshotLoader::Stop() {
  {
    absl::MutexLock lock(&wake_mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void SnapshotLoader::Notify(int64_t version) {
  (void)version;
  absl::MutexLock lock(&wake_mu_);
  wake_ = true;
}

void SnapshotLoader::Loop() {
  for (;;) {
    {
      absl::MutexLock lock(&wake_mu_);
      auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(wake_mu_) { return wake_ || stop_; };
      wake_mu_.AwaitWithTimeout(absl::Condition(&woken), options_.poll_interval);
      if (stop_) return;
      wake_ = false;
    }
    absl::Status s = state().loaded ? Refresh() : LoadAll();
    (void)s;  // failures are recorded in state() and logged once per outage
    if (metrics_ != nullptr) metrics_->Fold();
  }
}

LoaderState SnapshotLoader::state() const {
  absl::MutexLock lock(&state_mu_);
  return state_;
}

int64_t SnapshotLoader::AppliedTenantVersion(const std::string& tenant_id) const {
  absl::MutexLock lock(&state_mu_);
  auto it = tenant_versions_.find(tenant_id);
  return it == tenant_versions_.end() ? 0 : it->second;
}

std::string SnapshotLoader::TenantLagReason(const std::string& tenant_id) const {
  absl::MutexLock lock(&state_mu_);
  auto it = state_.tenant_errors.find(tenant_id);
  if (it != state_.tenant_errors.end()) return it->second;
  if (!state_.store_reachable)
    return absl::StrCat("configuration store unreachable: ", state_.store_error);
  return "";
}

}  // namespace shieldx::orchestrator
