#include "services/credits/redis_alert_sink.h"

#include "absl/strings/str_cat.h"
#include "libs/log/log.h"

namespace shieldx::credits {

void RedisAlertSink::Publish(const std::string& tenant_id, const Balance& balance) {
  absl::StatusOr<redis::RedisReply> r = redis_->Command(
      "XADD", kAlertStream, "MAXLEN", "~", kAlertStreamMaxLen, "*", "tenant_id", tenant_id,
      "available_credits", balance.available_credits, "threshold_credits",
      balance.alert_threshold_credits, "at_unix_ms", absl::ToUnixMillis(balance.as_of));
  if (!r.ok()) {
    failures_.fetch_add(1);
    log::Warn("low-balance event not published",
              {{"tenant_id", tenant_id}, {"error", r.status().ToString()}});
  }
}

}  // namespace shieldx::credits
