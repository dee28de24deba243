// Configuration of shieldx-shadow: the shared fields (libs/service/common_config.h) for the
// stores it owns (postgres, s3) and the peers it calls. Service-specific fields
// are added here as its features land.
#ifndef SHIELDX_SERVICES_SHADOW_CONFIG_H_
#define SHIELDX_SERVICES_SHADOW_CONFIG_H_

#include "libs/config/config.h"
#include "libs/service/common_config.h"

namespace shieldx::shadow {

struct Config {
  service::CommonConfig common;
};

inline constexpr service::StoreNeeds kStoreNeeds = {.postgres = true, .s3 = true};

inline config::ConfigSchema<Config> Schema() {
  config::ConfigSchema<Config> s("shadow");
  service::RegisterCommon(s, &Config::common, kStoreNeeds, {"credits"});
  return s;
}

}  // namespace shieldx::shadow

#endif  // SHIELDX_SERVICES_SHADOW_CONFIG_H_
