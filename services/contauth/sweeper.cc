#include "services/contauth/sweeper.h"

#include "libs/log/log.h"

namespace shieldx::contauth {

Sweeper::Sweeper(ContAuth* contauth, absl::Duration interval, std::size_t batch,
                 std::function<bool()> ready)
    : contauth_(contauth), interval_(interval), batch_(batch), ready_(std::move(ready)) {}

Sweeper::~Sweeper() { Stop(); }

void Sweeper::Start() {
  if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
}

void Sweeper::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

absl::StatusOr<SweepResult> Sweeper::RunOnce() { return contauth_->Sweep(); }

void Sweeper::Loop() {
  while (!stop_.WaitForNotificationWithTimeout(interval_)) {
    if (ready_ && !ready_()) continue;
    // Keep going while a pass filled its batch (a backlog), up to 100 passes per wake-up.
    for (int pass = 0; pass < 100 && !stop_.HasBeenNotified(); ++pass) {
      absl::StatusOr<SweepResult> r = RunOnce();
      if (!r.ok()) {
        log::Warn("contauth: retention sweep failed", {{"error", r.status().ToString()}});
        break;
      }
      if (r->decisions + r->sessions + r->challenges > 0) {
        log::Info("contauth: retention sweep", {{"decisions", r->decisions},
                                                {"sessions", r->sessions},
                                                {"challenges", r->challenges}});
      }
      if (r->decisions < batch_ && r->sessions < batch_ && r->challenges < batch_) break;
    }
  }
}

}  // namespace shieldx::contauth
