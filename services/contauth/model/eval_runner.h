// EvalRunner: the engine of shieldx-contauth-eval. Feeds keystroke NDJSON lines, in file
// order, through the same KeystrokeModel the service uses: `enroll` lines add to the claimed
// user's profile, `probe` lines are scored against the profile as it stands at that line
// (a probe never changes any profile; the tool never updates templates online). Profiles and
// the cohort background are kept per tenant: a user id in one tenant never sees another
// tenant's data.
//
// Thread-safety: not thread-safe; one runner per input stream.
#ifndef SHIELDX_SERVICES_CONTAUTH_MODEL_EVAL_RUNNER_H_
#define SHIELDX_SERVICES_CONTAUTH_MODEL_EVAL_RUNNER_H_

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "services/contauth/model/keystroke_model.h"
#include "services/contauth/model/keystroke_profile.h"

namespace shieldx::contauth {

inline constexpr std::size_t kMaxEvalTenants = 1024;
inline constexpr std::size_t kMaxEvalUsersPerTenant = 100000;

class EvalRunner {
 public:
  // `model` must outlive the runner.
  explicit EvalRunner(const KeystrokeModel* model) : model_(model) {}

  // Processes one line. Returns the output line (no newline) for a probe, nullopt for an
  // enroll line or a blank line. Errors (InvalidArgument for malformed lines and impossible
  // timings, FailedPrecondition for a probe of a user who cannot be scored yet,
  // ResourceExhausted for limits) are prefixed with "line N: " and name the sample; the
  // runner's state is unchanged by a failed line.
  absl::StatusOr<std::optional<std::string>> ProcessLine(std::string_view line,
                                                         std::size_t line_number);

  // The stored profile of tenant/user (nullptr if none). For tests and diagnostics.
  const KeystrokeProfile* FindProfile(const std::string& tenant, const std::string& user) const;

 private:
  struct UserState {
    KeystrokeProfile profile;
    std::shared_ptr<const CompiledProfile> compiled;  // null while stale
  };
  struct TenantState {
    std::map<std::string, UserState> users;
    std::shared_ptr<const TenantBackground> background;  // null while stale
  };

  const TenantBackground* Background(TenantState* tenant);
  absl::StatusOr<std::optional<std::string>> Process(std::string_view line);

  const KeystrokeModel* model_;
  std::map<std::string, TenantState> tenants_;
};

}  // namespace shieldx::contauth

#endif  // SHIELDX_SERVICES_CONTAUTH_MODEL_EVAL_RUNNER_H_
