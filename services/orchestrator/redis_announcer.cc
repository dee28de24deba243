#include "services/orchestrator/redis_announcer.h"

#include "absl/strings/str_cat.h"
#include "libs/log/log.h"
#include "libs/redis/redis_pool.h"

namespace shieldx::orchestrator {

void RedisAnnouncer::Announce(const std::string& tenant_id, int64_t version) {
  absl::StatusOr<redis::RedisReply> r =
      redis_->Command("PUBLISH", channel_, absl::StrCat(tenant_id, " ", version));
  if (!r.ok()) {
    log::Warn("configuration change not announced; replicas will poll it",
              {{"tenant_id", tenant_id},
               {"version", version},
               {"error", std::string(r.status().message())}});
  }
}

}  // namespace shieldx::orchestrator
