// RedisAnnouncer: announces committed configuration versions on a Redis pub/sub channel
// (payload "<tenant_id> <version>"), so every replica reloads at once instead of at its next
// poll. Best effort: a failed PUBLISH is logged and the replicas' polling picks the change up.
#ifndef SHIELDX_SERVICES_ORCHESTRATOR_REDIS_ANNOUNCER_H_
#define SHIELDX_SERVICES_ORCHESTRATOR_REDIS_ANNOUNCER_H_

#include <string>

#include "services/orchestrator/config_manager.h"

namespace shieldx::redis {
class RedisPool;
}

namespace shieldx::orchestrator {

class RedisAnnouncer : public ChangeAnnouncer {
 public:
  RedisAnnouncer(redis::RedisPool* redis, std::string channel)
      : redis_(redis), channel_(std::move(channel)) {}
  void Announce(const std::string& tenant_id, int64_t version) override;

 private:
  redis::RedisPool* const redis_;
  const std::string channel_;
};

}  // namespace shieldx::orchestrator

#endif  // SHIELDX_SERVICES_ORCHESTRATOR_REDIS_ANNOUNCER_H_
