// Configuration of shieldx-twin: the shared fields (libs/service/common_config.h) for the
// stores it owns (postgres, s3) and the peers it calls. Service-specific fields
// are added here as its features land.
#ifndef SHIELDX_SERVICES_TWIN_CONFIG_H_
#define SHIELDX_SERVICES_TWIN_CONFIG_H_

#include "libs/config/config.h"
#include "libs/service/common_config.h"

namespace shieldx::twin {

struct Config {
  service::CommonConfig common;
};

inline constexpr service::StoreNeeds kStoreNeeds = {.postgres = true, .s3 = true};

inline config::ConfigSchema<Config> Schema() {
  config::ConfigSchema<Config> s("twin");
  service::RegisterCommon(s, &Config::common, kStoreNeeds, {"credits", "shadow"});
  return s;
}

}  // namespace shieldx::twin

#endif  // SHIELDX_SERVICES_TWIN_CONFIG_H_
