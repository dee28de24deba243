// Field validation of configuration objects. Errors are InvalidArgument naming the object and
// the field: `route "api": rate_limits[1].window_ms: 500 is out of range [1000, 86400000]`.
// Cross-object checks (references, uniqueness within a tenant) are in ValidateTenant; what
// only a compile can tell (policy sources, key expressions) is checked by compiling
// (pipeline::CompileTenant) after validation.
#ifndef SHIELDX_SERVICES_ORCHESTRATOR_CONFIG_VALIDATE_H_
#define SHIELDX_SERVICES_ORCHESTRATOR_CONFIG_VALIDATE_H_

#include "absl/status/status.h"
#include "libs/pipeline/tenant_config.h"

namespace shieldx::orchestrator {

namespace v1 = ::shieldx::orchestrator::v1;

inline constexpr std::size_t kMaxNameBytes = 128;
inline constexpr std::size_t kMaxHostnameBytes = 253;
inline constexpr std::size_t kMaxMethodsPerRoute = 16;
inline constexpr std::size_t kMaxRegexBytes = 4096;
inline constexpr int64_t kMaxCreditCost = 1'000'000;
inline constexpr uint32_t kMaxInspectedBodyBytes = 16 * 1024 * 1024;
inline constexpr std::size_t kMaxDescriptionBytes = 4096;
inline constexpr uint32_t kDefaultRetentionDays = 30;

absl::Status ValidateSite(const v1::Site& site);
absl::Status ValidateRoute(const v1::Route& route);
absl::Status ValidatePool(const v1::Pool& pool);
absl::Status ValidateIpList(const v1::IpList& list);
absl::Status ValidateRuleSet(const v1::RuleSet& rule_set);
absl::Status ValidateSettings(const v1::TenantSettings& settings);
// Every object, references between them and uniqueness of names within the tenant.
absl::Status ValidateTenant(const pipeline::TenantConfig& config);

bool ValidHostname(const std::string& host, bool allow_wildcard);

}  // namespace shieldx::orchestrator

#endif  // SHIELDX_SERVICES_ORCHESTRATOR_CONFIG_VALIDATE_H_
