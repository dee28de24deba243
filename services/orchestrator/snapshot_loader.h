// SnapshotLoader: keeps the pipeline's configuration snapshot up to date with the store.
//
// - LoadAll() compiles every tenant and installs the first snapshot (readiness waits for it).
// - A change is noticed two ways: Notify() (called by the Redis pub/sub subscriber when another
//   replica announces a version) wakes the loader at once; without announcements it polls
//   LatestVersion() every `poll_interval`. Either way Refresh() reloads only the tenants whose
//   version moved (ChangedSince), compiles them, and swaps in a new snapshot that reuses every
//   other tenant's compiled objects.
// - A tenant whose new configuration fails to compile keeps its previous compiled
//   configuration: the error is logged once per version, counted in
//   shieldx_config_tenant_errors and returned as that tenant's lag reason (GetConfigVersion).
// - Store unreachable (PostgreSQL down): the current snapshot keeps serving; the error is
//   reported in state() (readiness detail) and retried on the next poll.
// - IP-list entries with an expiry: the tenant is recompiled when the earliest one passes.
//
// Thread-safety: all methods are thread-safe; Refresh runs one at a time.
#ifndef SHIELDX_SERVICES_ORCHESTRATOR_SNAPSHOT_LOADER_H_
#define SHIELDX_SERVICES_ORCHESTRATOR_SNAPSHOT_LOADER_H_

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/base/clock.h"
#include "libs/pipeline/pipeline.h"
#include "services/orchestrator/config_store.h"

namespace shieldx::orchestrator {

struct SnapshotLoaderOptions {
  absl::Duration poll_interval = absl::Seconds(2);
};

struct LoaderState {
  bool loaded = false;  // a snapshot is installed
  int64_t applied_version = 0;
  absl::Time applied_at = absl::InfinitePast();
  int64_t stored_version = 0;
  bool store_reachable = true;
  std::string store_error;                           // last store failure, when unreachable
  std::map<std::string, std::string> tenant_errors;  // tenant → why its newest config is not used
};

class SnapshotLoader {
 public:
  // `metrics` may be null. Everything must outlive the loader.
  SnapshotLoader(ConfigStore* store, pipeline::Pipeline* pipeline,
                 pipeline::MemberStateRegistry* members, pipeline::UsageMeter* usage,
                 pipeline::PipelineMetrics* metrics, Clock* clock, SnapshotLoaderOptions options);
  ~SnapshotLoader();

  // Compiles every tenant and installs the snapshot. Unavailable when the store is down.
  absl::Status LoadAll();
  // Applies what changed since the last refresh (see the file comment).
  absl::Status Refresh();
  // Starts the thread: LoadAll until it succeeds, then Refresh on every Notify and poll.
  void Start();
  void Stop();
  // A replica announced `version` (any tenant); wakes the thread.
  void Notify(int64_t version);

  LoaderState state() const;
  // The version of the tenant's configuration in the installed snapshot (0: none).
  int64_t AppliedTenantVersion(const std::string& tenant_id) const;
  std::string TenantLagReason(const std::string& tenant_id) const;

 private:
  absl::Status RefreshLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(refresh_mu_);
  void Install(int64_t version) ABSL_EXCLUSIVE_LOCKS_REQUIRED(refresh_mu_);
  void Loop();

  ConfigStore* const store_;
  pipeline::Pipeline* const pipeline_;
  pipeline::MemberStateRegistry* const members_;
  pipeline::UsageMeter* const usage_;
  pipeline::PipelineMetrics* const metrics_;
  Clock* const clock_;
  const SnapshotLoaderOptions options_;

  absl::Mutex refresh_mu_;
  std::map<std::string, std::shared_ptr<const pipeline::CompiledTenant>, std::less<>> tenants_
      ABSL_GUARDED_BY(refresh_mu_);
  int64_t seen_version_ ABSL_GUARDED_BY(refresh_mu_) = 0;

  mutable absl::Mutex state_mu_;
  LoaderState state_ ABSL_GUARDED_BY(state_mu_);
  std::map<std::string, int64_t> tenant_versions_ ABSL_GUARDED_BY(state_mu_);

  absl::Mutex wake_mu_;
  bool wake_ ABSL_GUARDED_BY(wake_mu_) = false;
  bool stop_ ABSL_GUARDED_BY(wake_mu_) = false;
  std::thread thread_;
};

}  // namespace shieldx::orchestrator

#endif  // SHIELDX_SERVICES_ORCHESTRATOR_SNAPSHOT_LOADER_H_
