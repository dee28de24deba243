#include "services/contauth/risk_publisher.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/redis/redis_pool.h"

namespace shieldx::contauth {

std::string RiskKey(const std::string& tenant, const std::string& session) {
  return absl::StrCat(kRiskKeyPrefix, tenant, ":", session);
}

std::string RiskValue(const Decision& d) {
  return absl::StrFormat("%.4f", std::clamp(d.risk, 0.0, 1.0));
}

absl::Status RedisRiskPublisher::Publish(const Decision& d, absl::Time now) {
  const int64_t ttl_ms = absl::ToInt64Milliseconds(d.expires_at - now);
  if (ttl_ms <= 0) return absl::OkStatus();
  absl::StatusOr<redis::RedisReply> r =
      pool_->Command("SET", RiskKey(d.tenant_id, d.session_id), RiskValue(d), "PX", ttl_ms);
  return r.ok() ? absl::OkStatus() : r.status();
}

absl::Status RedisRiskPublisher::Remove(const std::string& tenant,
                                        const std::vector<std::string>& sessions) {
  if (sessions.empty()) return absl::OkStatus();
  std::vector<std::string> argv = {"DEL"};
  for (const std::string& s : sessions) {
    argv.push_back(RiskKey(tenant, s));
    if (argv.size() >= 1000) {
      absl::StatusOr<redis::RedisReply> r = pool_->CommandArgv(argv);
      if (!r.ok()) return r.status();
      argv.resize(1);
    }
  }
  if (argv.size() > 1) {
    absl::StatusOr<redis::RedisReply> r = pool_->CommandArgv(argv);
    if (!r.ok()) return r.status();
  }
  return absl::OkStatus();
}

absl::Status InMemoryRiskPublisher::Publish(const Decision& d, absl::Time now) {
  absl::MutexLock l(&mu_);
  if (!failure_.ok()) return failure_;
  if (d.expires_at <= now) return absl::OkStatus();
  values_[RiskKey(d.tenant_id, d.session_id)] = RiskValue(d);
  return absl::OkStatus();
}

absl::Status InMemoryRiskPublisher::Remove(const std::string& tenant,
                                           const std::vector<std::string>& sessions) {
  absl::MutexLock l(&mu_);
  if (!failure_.ok()) return failure_;
  for (const std::string& s : sessions) values_.erase(RiskKey(tenant, s));
  return absl::OkStatus();
}

std::string InMemoryRiskPublisher::Get(const std::string& key) const {
  absl::MutexLock l(&mu_);
  auto it = values_.find(key);
  return it == values_.end() ? "" : it->second;
}

void InMemoryRiskPublisher::SetFailure(absl::Status s) {
  absl::MutexLock l(&mu_);
  failure_ = std::move(s);
}

}  // namespace shieldx::contauth
