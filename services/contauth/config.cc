#include "services/contauth/config.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "services/contauth/profile_cipher.h"

namespace shieldx::contauth {

config::ConfigSchema<Config> Schema() {
  config::ConfigSchema<Config> s("contauth");
  service::RegisterCommon(s, &Config::common, kStoreNeeds, {});
  s.Add("profile_master_key", &Config::profile_master_key,
        "master secret (>= 32 bytes) for the per-tenant AES-256-GCM profile keys (secret; env "
        "SHIELDX_CONTAUTH_PROFILE_MASTER_KEY or SHIELDX_CONTAUTH_PROFILE_MASTER_KEY_FILE)")
      .Secret()
      .Required();
  s.Add("profile_key_id", &Config::profile_key_id,
        "id of profile_master_key, recorded with every sealed row (rotation)");
  s.Add("profile_retired_keys", &Config::profile_retired_keys,
        "retired master keys that still open old rows: \"id:secret,id:secret\" (secret)")
      .Secret();
  s.Add("geoip_db_path", &Config::geoip_db_path,
        "MaxMind-format GeoIP2/GeoLite2 City or Country database; empty disables geo signals");
  s.Add("session_ttl", &Config::session_ttl,
        "session state is dropped this long after the session's last telemetry")
      .Range(absl::Minutes(1), absl::Hours(24 * 30));
  s.Add("policy_cache_ttl", &Config::policy_cache_ttl,
        "how long a tenant's decision policy is cached per replica")
      .Range(absl::ZeroDuration(), absl::Minutes(10));
  s.Add("background_refresh", &Config::background_refresh,
        "how often a tenant's keystroke background (other users' templates) is rebuilt")
      .Range(absl::Seconds(1), absl::Hours(24));
  s.Add("max_cached_users", &Config::max_cached_users,
        "compiled user models kept in memory per replica")
      .Range(1, 10'000'000);
  s.Add("sweep_interval", &Config::sweep_interval, "retention sweeper period")
      .Range(absl::Seconds(1), absl::Hours(24));
  s.Add("default_retention_days", &Config::default_retention_days,
        "decision retention for tenants without a stored policy")
      .Range(1, 3650);
  s.Check([](const Config& c) -> absl::Status {
    std::error_code ec;
    if (!c.geoip_db_path.empty() && !std::filesystem::is_regular_file(c.geoip_db_path, ec)) {
      return absl::InvalidArgumentError(
          absl::StrCat("geoip_db_path: ", c.geoip_db_path, " is not a readable file"));
    }
    absl::StatusOr<std::map<std::string, std::string>> retired =
        ProfileCipher::ParseRetiredKeys(c.profile_retired_keys);
    if (!retired.ok()) return retired.status();
    return ProfileCipher::Create(c.profile_key_id, c.profile_master_key, *retired).status();
  });
  return s;
}

}  // namespace shieldx::contauth
