#include "services/credits/config.h"

#include "services/credits/audit.h"

namespace shieldx::credits {

config::ConfigSchema<Config> Schema() {
  config::ConfigSchema<Config> s("credits");
  service::RegisterCommon(s, &Config::common, kStoreNeeds, {});
  s.Add("audit_hmac_key", &Config::audit_hmac_key,
        "HMAC-SHA256 key of the audit chain (secret, >= 32 bytes; env "
        "SHIELDX_CREDITS_AUDIT_HMAC_KEY or SHIELDX_CREDITS_AUDIT_HMAC_KEY_FILE)")
      .Secret()
      .Required();
  s.Add("sweep_interval", &Config::sweep_interval, "how often expired reservations are released")
      .Range(absl::Milliseconds(100), absl::Minutes(1));
  s.Add("balance_refresh_interval", &Config::balance_refresh_interval,
        "how often the shieldx_credits_balance gauge is re-read from the database")
      .Range(absl::Seconds(1), absl::Minutes(10));
  s.Add("balance_gauge_max_tenants", &Config::balance_gauge_max_tenants,
        "ceiling on shieldx_credits_balance series")
      .Range(1, 1'000'000);
  s.Add("idempotency_retention", &Config::idempotency_retention,
        "how long idempotency keys (and their stored responses) are kept")
      .Range(absl::Hours(24), absl::Hours(24 * 3650));
  s.Add("group_commit_max_calls", &Config::group_commit_max_calls,
        "calls coalesced into one PostgreSQL transaction at most (1: group commit off)")
      .Range(1, kMaxGroupCommitCalls);
  s.Add("group_commit_max_records", &Config::group_commit_max_records,
        "usage records (transfers) per group transaction at most")
      .Range(1, kMaxGroupCommitRecords);
  s.Add("group_commit_window", &Config::group_commit_window,
        "how long a group waits for more calls after its first (0: no added wait)")
      .Range(absl::ZeroDuration(), kMaxGroupCommitWindow);
  s.Add("group_commit_committers", &Config::group_commit_committers,
        "group transactions committing at the same time")
      .Range(1, kMaxGroupCommitters);
  s.Check([](const Config& c) -> absl::Status {
    if (absl::Status g = c.group_commit().Validate(); !g.ok()) return g;
    if (c.audit_hmac_key.size() < kMinAuditKeyBytes ||
        c.audit_hmac_key.size() > kMaxAuditKeyBytes) {
      return absl::InvalidArgumentError(
          "audit_hmac_key: must be 32 to 1024 bytes (e.g. `openssl rand -hex 32`)");
    }
    return absl::OkStatus();
  });
  return s;
}

}  // namespace shieldx::credits
