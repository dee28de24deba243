#include "services/contauth/model/eval_runner.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/base/status_macros.h"
#include "services/contauth/model/ndjson.h"

namespace shieldx::contauth {
namespace {

bool IsBlank(std::string_view line) {
  for (char c : line) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::optional<std::string>> EvalRunner::ProcessLine(std::string_view line,
                                                                   std::size_t line_number) {
  auto result = Process(line);
  if (!result.ok()) return Annotate(result.status(), absl::StrCat("line ", line_number));
  return result;
}

const KeystrokeProfile* EvalRunner::FindProfile(const std::string& tenant,
                                                const std::string& user) const {
  auto t = tenants_.find(tenant);
  if (t == tenants_.end()) return nullptr;
  auto u = t->second.users.find(user);
  return u == t->second.users.end() ? nullptr : &u->second.profile;
}

const TenantBackground* EvalRunner::Background(TenantState* tenant) {
  if (tenant->background == nullptr) {
    std::vector<TenantBackground::Member> members;
    for (auto& [user, state] : tenant->users) {
      if (state.compiled == nullptr) {
        state.compiled = std::make_shared<const CompiledProfile>(model_->Compile(state.profile));
      }
      if (state.compiled->templates.empty()) continue;
      if (members.size() < kMaxCohortMembers) members.push_back({user, state.compiled});
    }
    tenant->background =
        std::make_shared<const TenantBackground>(std::move(members), model_->background_options());
  }
  return tenant->background.get();
}

absl::StatusOr<std::optional<std::string>> EvalRunner::Process(std::string_view line) {
  if (line.size() > kMaxNdjsonLineBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("line of ", line.size(), " bytes (limit ", kMaxNdjsonLineBytes, ")"));
  }
  if (IsBlank(line)) return std::nullopt;
  SHIELDX_ASSIGN_OR_RETURN(KeystrokeSample sample, ParseSampleLine(line));
  auto tenant_it = tenants_.find(sample.tenant);
  if (sample.phase == SamplePhase::kEnroll) {
    if (tenant_it == tenants_.end()) {
      if (tenants_.size() >= kMaxEvalTenants) {
        return absl::ResourceExhaustedError(
            absl::StrCat("sample ", sample.sample_id, ": more than ", kMaxEvalTenants, " tenants"));
      }
      tenant_it = tenants_.emplace(sample.tenant, TenantState{}).first;
    }
    TenantState& tenant = tenant_it->second;
    auto user_it = tenant.users.find(sample.user);
    if (user_it == tenant.users.end() && tenant.users.size() >= kMaxEvalUsersPerTenant) {
      return absl::ResourceExhaustedError(absl::StrCat("sample ", sample.sample_id, ": tenant ",
                                                       sample.tenant, " has more than ",
                                                       kMaxEvalUsersPerTenant, " users"));
    }
    // Enroll into a copy so a rejected sample leaves the profile untouched.
    KeystrokeProfile updated =
        user_it == tenant.users.end() ? KeystrokeProfile{} : user_it->second.profile;
    SHIELDX_RETURN_IF_ERROR(model_->Enroll(sample, &updated));
    UserState& state = tenant.users[sample.user];
    state.profile = std::move(updated);
    state.compiled = nullptr;
    tenant.background = nullptr;
    return std::nullopt;
  }
  if (tenant_it == tenants_.end() ||
      tenant_it->second.users.find(sample.user) == tenant_it->second.users.end()) {
    return absl::FailedPreconditionError(absl::StrCat("sample ", sample.sample_id, ": user ",
                                                      sample.user, " of tenant ", sample.tenant,
                                                      " has no enrollment"));
  }
  TenantState& tenant = tenant_it->second;
  const TenantBackground* background = Background(&tenant);  // also compiles stale users
  const UserState& state = tenant.users.at(sample.user);
  SHIELDX_ASSIGN_OR_RETURN(KeystrokeScore score,
                           model_->Score(*state.compiled, sample, background, sample.user));
  return FormatScoreLine(sample, score);
}

}  // namespace shieldx::contauth
