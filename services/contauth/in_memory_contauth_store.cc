#include "services/contauth/in_memory_contauth_store.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace shieldx::contauth {

void InMemoryContAuthStore::SetFailure(absl::Status status) {
  absl::MutexLock l(&mu_);
  failure_ = std::move(status);
}

absl::Status InMemoryContAuthStore::Failure() const {
  absl::MutexLock l(&mu_);
  return failure_;
}

absl::StatusOr<std::optional<Policy>> InMemoryContAuthStore::GetPolicy(const std::string& tenant) {
  absl::MutexLock l(&mu_);
  if (!failure_.ok()) return failure_;
  auto it = policies_.find(tenant);
  if (it == policies_.end()) return std::optional<Policy>();
  return std::optional<Policy>(it->second);
}

absl::StatusOr<Policy> InMemoryContAuthStore::PutPolicy(const std::string& tenant,
                                                        const Policy& policy,
                                                        int64_t expected_version) {
  absl::MutexLock l(&mu_);
  if (!failure_.ok()) return failure_;
  auto it = policies_.find(tenant);
  const int64_t current = it == policies_.end() ? 0 : it->second.version;
  if (current != expected_version) {
    return absl::AbortedError(absl::StrCat("policy of tenant ", tenant, ": etag ", expected_version,
                                           " is stale (current ", current, ")"));
  }
  Policy stored = policy;
  stored.version = current + 1;
  policies_[tenant] = stored;
  return stored;
}

std::shared_ptr<absl::Mutex> InMemoryContAuthStore::UserLock(const Key& key) {
  absl::MutexLock l(&mu_);
  auto& lock = user_locks_[key];
  if (lock == nullptr) lock = std::make_shared<absl::Mutex>();
  return lock;
}

absl::Status InMemoryContAuthStore::InsertDecisionLocked(const Decision& d) {
  if (!decisions_.emplace(Key{d.tenant_id, d.decision_id}, d).second) {
    return absl::AlreadyExistsError(absl::StrCat("decision ", d.decision_id, " exists"));
  }
  return absl::OkStatus();
}

absl::Status InMemoryContAuthStore::UpdateUser(const std::string& tenant, const std::string& user,
                                               const std::string& session, UpdateFn fn) {
  if (absl::Status f = Failure(); !f.ok()) return f;
  std::shared_ptr<absl::Mutex> user_lock = UserLock({tenant, user});
  absl::MutexLock ul(user_lock.get());
  std::optional<ProfileRow> profile;
  std::optional<SessionRow> sess;
  {
    absl::MutexLock l(&mu_);
    if (auto it = profiles_.find({tenant, user}); it != profiles_.end()) profile = it->second;
    if (!session.empty()) {
      if (auto it = sessions_.find({tenant, session}); it != sessions_.end()) sess = it->second;
    }
  }
  absl::StatusOr<UserMutation> m = fn(profile, sess);
  if (!m.ok()) return m.status();
  absl::MutexLock l(&mu_);
  if (!failure_.ok()) return failure_;
  if (m->challenge.has_value() && challenges_.count({tenant, m->challenge->idempotency_key}) != 0) {
    return absl::AlreadyExistsError(
        absl::StrCat("challenge outcome ", m->challenge->idempotency_key, " exists"));
  }
  if (m->profile.has_value()) {
    ProfileRow row = *m->profile;
    auto it = profiles_.find({tenant, user});
    const int64_t current = it == profiles_.end() ? 0 : it->second.version;
    if (current != row.version) {
      return absl::AbortedError(absl::StrCat("profile of ", user, ": version ", row.version,
                                             " is stale (current ", current, ")"));
    }
    row.tenant_id = tenant;
    row.user_id = user;
    row.version = current + 1;
    if (it != profiles_.end()) row.created_at = it->second.created_at;
    profiles_[{tenant, user}] = std::move(row);
  }
  if (m->session.has_value()) {
    SessionRow row = *m->session;
    row.tenant_id = tenant;
    row.version += 1;
    sessions_[{tenant, row.session_id}] = std::move(row);
  }
  if (m->decision.has_value()) {
    if (absl::Status s = InsertDecisionLocked(*m->decision); !s.ok()) return s;
  }
  if (m->challenge.has_value()) {
    challenges_[{tenant, m->challenge->idempotency_key}] = *m->challenge;
  }
  return absl::OkStatus();
}

absl::StatusOr<ProfileLookup> InMemoryContAuthStore::GetProfile(const std::string& tenant,
                                                                const std::string& user,
                                                                int64_t known_version) {
  absl::MutexLock l(&mu_);
  if (!failure_.ok()) return failure_;
  ProfileLookup out;
  auto it = profiles_.find({tenant, user});
  if (it == profiles_.end()) return out;
  out.exists = true;
  if (it->second.version == known_version) {
    out.unchanged = true;
    return out;
  }
  out.row = it->second;
  return out;
}

absl::StatusOr<std::vector<ProfileRow>> InMemoryContAuthStore::ListEnrolledProfiles(
    const std::string& tenant, std::size_t limit) {
  absl::MutexLock l(&mu_);
  if (!failure_.ok()) return failure_;
  std::vector<ProfileRow> out;
  for (auto it = profiles_.lower_bound({tenant, ""});
       it != profiles_.end() && it->first.first == tenant; ++it) {
    if (it->second.keystroke_enrolled) out.push_back(it->second);
  }
  std::stable_sort(out.begin(), out.end(), [](const ProfileRow& a, const ProfileRow& b) {
    return a.updated_at > b.updated_at;
  });
  if (out.size() > limit) out.resize(limit);
  return out;
}

absl::StatusOr<std::optional<SessionRow>> InMemoryContAuthStore::GetSession(
    const std::string& tenant, const std::string& session) {
  absl::MutexLock l(&mu_);
  if (!failure_.ok()) return failure_;
  auto it = sessions_.find({tenant, session});
  if (it == sessions_.end()) return std::optional<SessionRow>();
  return std::optional<SessionRow>(it->second);
}

absl::Status InMemoryContAuthStore::InsertDecision(const Decision& decision) {
  absl::MutexLock l(&mu_);
  if (!failure_.ok()) return failure_;
  return InsertDecisionLocked(decision);
}

absl::StatusOr<std::optional<Decision>> InMemoryContAuthStore::LatestDecision(
    const std::string& tenant, const std::string& session, absl::Time now) {
  absl::MutexLock l(&mu_);
  if (!failure_.ok()) return failure_;
  std::optional<Decision> best;
  for (auto it = decisions_.lower_bound({tenant, ""});
       it != decisions_.end() && it->first.first == tenant; ++it) {
    const Decision& d = it->second;
    if (d.session_id != session || d.expires_at <= now) continue;
    if (!best.has_value() || d.decided_at > best->decided_at) best = d;
  }
  return best;
}

absl::StatusOr<std::optional<Decision>> InMemoryContAuthStore::GetDecision(
    const std::string& tenant, const std::string& decision_id) {
  absl::MutexLock l(&mu_);
  if (!failure_.ok()) return failure_;
  auto it = decisions_.find({tenant, decision_id});
  if (it == decisions_.end()) return std::optional<Decision>();
  return std::optional<Decision>(it->second);
}

absl::StatusOr<std::vector<Decision>> InMemoryContAuthStore::ListUserDecisions(
    const std::string& tenant, const std::string& user, std::size_t limit) {
  absl::MutexLock l(&mu_);
  if (!failure_.ok()) return failure_;
  std::vector<Decision> out;
  for (auto it = decisions_.lower_bound({tenant, ""});
       it != decisions_.end() && it->first.first == tenant; ++it) {
    if (it->second.user_id == user) out.push_back(it->second);
  }
  std::stable_sort(out.begin(), out.end(), [](const Decision& a, const Decision& b) {
    return a.decided_at > b.decided_at;
  });
  if (out.size() > limit) out.resize(limit);
  return out;
}

absl::StatusOr<std::optional<ChallengeRecord>> InMemoryContAuthStore::GetChallenge(
    const std::string& tenant, const std::string& idempotency_key) {
  absl::MutexLock l(&mu_);
  if (!failure_.ok()) return failure_;
  auto it = challenges_.find({tenant, idempotency_key});
  if (it == challenges_.end()) return std::optional<ChallengeRecord>();
  return std::optional<ChallengeRecord>(it->second);
}

absl::StatusOr<DeletedUser> InMemoryContAuthStore::DeleteUser(const std::string& tenant,
                                                              const std::string& user) {
  if (absl::Status f = Failure(); !f.ok()) return f;
  std::shared_ptr<absl::Mutex> user_lock = UserLock({tenant, user});
  absl::MutexLock ul(user_lock.get());
  absl::MutexLock l(&mu_);
  DeletedUser out;
  if (auto it = profiles_.find({tenant, user}); it != profiles_.end()) {
    out.profile_existed = true;
    out.profile_sealed = it->second.sealed;
    profiles_.erase(it);
  }
  for (auto it = sessions_.lower_bound({tenant, ""});
       it != sessions_.end() && it->first.first == tenant;) {
    if (it->second.user_id == user) {
      out.session_ids.push_back(it->second.session_id);
      it = sessions_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = decisions_.lower_bound({tenant, ""});
       it != decisions_.end() && it->first.first == tenant;) {
    if (it->second.user_id == user) {
      ++out.decisions;
      it = decisions_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = challenges_.lower_bound({tenant, ""});
       it != challenges_.end() && it->first.first == tenant;) {
    if (it->second.user_id == user) {
      ++out.challenges;
      it = challenges_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

absl::StatusOr<SweepResult> InMemoryContAuthStore::Sweep(absl::Time now,
                                                         uint32_t default_retention_days,
                                                         std::size_t limit) {
  absl::MutexLock l(&mu_);
  if (!failure_.ok()) return failure_;
  SweepResult out;
  auto retention = [&](const std::string& tenant) {
    auto it = policies_.find(tenant);
    const uint32_t days =
        it == policies_.end() ? default_retention_days : it->second.decision_retention_days;
    return absl::Hours(24) * static_cast<int64_t>(days);
  };
  for (auto it = decisions_.begin(); it != decisions_.end() && out.decisions < limit;) {
    if (it->second.decided_at < now - retention(it->first.first)) {
      ++out.decisions;
      it = decisions_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = challenges_.begin(); it != challenges_.end() && out.challenges < limit;) {
    if (it->second.recorded_at < now - retention(it->first.first)) {
      ++out.challenges;
      it = challenges_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = sessions_.begin(); it != sessions_.end() && out.sessions < limit;) {
    if (it->second.expires_at <= now) {
      ++out.sessions;
      it = sessions_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

}  // namespace shieldx::contauth
