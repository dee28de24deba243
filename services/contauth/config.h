// Configuration of shieldx-contauth: the shared fields (libs/service/common_config.h) for the
// stores it owns (PostgreSQL: policies, sealed profiles and sessions, decisions; Redis: the
// published session risk) plus its own, documented in Schema() (`shieldx-contauth --help`,
// env SHIELDX_CONTAUTH_<NAME>).
#ifndef SHIELDX_SERVICES_CONTAUTH_CONFIG_H_
#define SHIELDX_SERVICES_CONTAUTH_CONFIG_H_

#include <string>

#include "absl/time/time.h"
#include "libs/config/config.h"
#include "libs/service/common_config.h"

namespace shieldx::contauth {

struct Config {
  service::CommonConfig common;
  // Secret (>= 32 bytes): master secret the per-tenant profile keys are derived from (HKDF).
  std::string profile_master_key;
  // Id of profile_master_key, stored with every sealed row ([A-Za-z0-9._-]{1,32}).
  std::string profile_key_id = "k1";
  // Secret: retired masters still needed to open old rows, "id:secret,id:secret".
  std::string profile_retired_keys;
  // MaxMind-format database (GeoLite2/GeoIP2 City or Country); empty: no geo signals.
  std::string geoip_db_path;
  // Session state is dropped this long after the session's last batch.
  absl::Duration session_ttl = absl::Hours(24);
  // How long a tenant's policy is cached per replica.
  absl::Duration policy_cache_ttl = absl::Seconds(5);
  // How often a tenant's keystroke background (other users' templates) is rebuilt.
  absl::Duration background_refresh = absl::Minutes(5);
  // Compiled user models kept in memory per replica.
  int max_cached_users = 10000;
  // Retention sweeper period.
  absl::Duration sweep_interval = absl::Minutes(1);
  // Decision retention for tenants without a stored policy.
  int default_retention_days = 30;
};

inline constexpr service::StoreNeeds kStoreNeeds = {.postgres = true, .redis = true};

config::ConfigSchema<Config> Schema();

}  // namespace shieldx::contauth

#endif  // SHIELDX_SERVICES_CONTAUTH_CONFIG_H_
