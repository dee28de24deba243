// Sweeper: a background thread that enforces retention — every `interval` it calls
// ContAuth::Sweep() (decisions and challenge records past their tenant's retention, expired
// sessions), repeating at once while a pass hit the batch limit. Errors are logged and retried
// at the next interval. `ready` gates passes (e.g. migrations applied).
//
// Thread-safety: Start / Stop from one controlling thread.
#ifndef SHIELDX_SERVICES_CONTAUTH_SWEEPER_H_
#define SHIELDX_SERVICES_CONTAUTH_SWEEPER_H_

#include <functional>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "services/contauth/contauth.h"

namespace shieldx::contauth {

class Sweeper {
 public:
  Sweeper(ContAuth* contauth, absl::Duration interval, std::size_t batch,
          std::function<bool()> ready);
  ~Sweeper();  // Stop()
  Sweeper(const Sweeper&) = delete;
  Sweeper& operator=(const Sweeper&) = delete;

  void Start();
  // Stops and joins; idempotent.
  void Stop();
  // One pass now (tests); returns what was deleted.
  absl::StatusOr<SweepResult> RunOnce();

 private:
  void Loop();

  ContAuth* const contauth_;
  const absl::Duration interval_;
  const std::size_t batch_;
  const std::function<bool()> ready_;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace shieldx::contauth

#endif  // SHIELDX_SERVICES_CONTAUTH_SWEEPER_H_
