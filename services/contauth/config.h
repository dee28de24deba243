// Configuration of shieldx-contauth: the shared fields (libs/service/common_config.h) for the
// stores it owns (postgres, redis) and the peers it calls. Service-specific fields
// are added here as its features land.
#ifndef SHIELDX_SERVICES_CONTAUTH_CONFIG_H_
#define SHIELDX_SERVICES_CONTAUTH_CONFIG_H_

#include "libs/config/config.h"
#include "libs/service/common_config.h"

namespace shieldx::contauth {

struct Config {
  service::CommonConfig common;
};

inline constexpr service::StoreNeeds kStoreNeeds = {.postgres = true, .redis = true};

inline config::ConfigSchema<Config> Schema() {
  config::ConfigSchema<Config> s("contauth");
  service::RegisterCommon(s, &Config::common, kStoreNeeds, {});
  return s;
}

}  // namespace shieldx::contauth

#endif  // SHIELDX_SERVICES_CONTAUTH_CONFIG_H_
