// Configuration of shieldx-orchestrator: the shared fields (libs/service/common_config.h) for the
// stores it owns (postgres, redis, s3) and the peers it calls. Service-specific fields
// are added here as its features land.
#ifndef SHIELDX_SERVICES_ORCHESTRATOR_CONFIG_H_
#define SHIELDX_SERVICES_ORCHESTRATOR_CONFIG_H_

#include "libs/config/config.h"
#include "libs/service/common_config.h"

namespace shieldx::orchestrator {

struct Config {
  service::CommonConfig common;
};

inline constexpr service::StoreNeeds kStoreNeeds = {.postgres = true, .redis = true, .s3 = true};

inline config::ConfigSchema<Config> Schema() {
  config::ConfigSchema<Config> s("orchestrator");
  service::RegisterCommon(s, &Config::common, kStoreNeeds, {"credits", "contauth", "shadow"});
  return s;
}

}  // namespace shieldx::orchestrator

#endif  // SHIELDX_SERVICES_ORCHESTRATOR_CONFIG_H_
