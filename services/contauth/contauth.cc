#include "services/contauth/contauth.h"

#include <openssl/rand.h>

#include <algorithm>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "libs/base/check.h"
#include "libs/base/status_macros.h"
#include "libs/log/log.h"

namespace shieldx::contauth {
namespace {

// Pointer / touch batches are folded into the profile only when they match this well.
constexpr double kMotionLearnMaxScore = 0.3;
// Challenge feedback in log-odds.
constexpr double kPassedLogit = -3.0;
constexpr double kFailedLogit = 2.5;
constexpr double kGaveUpLogit = 1.0;
constexpr double kMaxChallengeLogit = 6.0;

std::string ProfileContext(const std::string& user) { return absl::StrCat("profile:", user); }
std::string SessionContext(const std::string& session) { return absl::StrCat("session:", session); }

std::vector<Evidence> SessionEvidence(const SessionState& s) {
  std::vector<Evidence> out;
  for (Modality m : {Modality::kKeystrokeFixed, Modality::kKeystrokeFree, Modality::kPointer,
                     Modality::kTouch}) {
    const ModalityAccumulator& a = s.modalities[static_cast<int>(m)];
    if (a.samples == 0) continue;
    out.push_back({m, a.Score(), a.EffectiveConfidence(), a.samples});
  }
  if (s.has_context) {
    out.push_back({Modality::kContext, s.context_score, s.context_confidence,
                   s.modalities[static_cast<int>(Modality::kContext)].samples});
  }
  return out;
}

bool BehaviourEnrolled(const UserModel& m, uint32_t min_enroll) {
  return KeystrokeEnrolled(m, min_enroll) || m.free_text_samples >= min_enroll ||
         !MotionEnrolling(m.pointer, kMinMotionEnrollBatches) ||
         !MotionEnrolling(m.touch, kMinMotionEnrollBatches);
}

absl::Status ValidateIds(const std::string& tenant, const std::string& session,
                         const std::string& user) {
  SHIELDX_RETURN_IF_ERROR(ValidateId("tenant_id", tenant));
  if (!session.empty() || user.empty()) SHIELDX_RETURN_IF_ERROR(ValidateId("session_id", session));
  if (!user.empty()) SHIELDX_RETURN_IF_ERROR(ValidateId("user_id", user));
  return absl::OkStatus();
}

}  // namespace

std::string NewDecisionId() {
  unsigned char bytes[16];
  SHIELDX_CHECK(RAND_bytes(bytes, sizeof(bytes)) == 1);
  return absl::StrCat("d-", absl::BytesToHexString(
                                absl::string_view(reinterpret_cast<char*>(bytes), sizeof(bytes))));
}

ContAuth::ContAuth(ContAuthStore* store, RiskPublisher* publisher, const ProfileCipher* cipher,
                   const GeoLookup* geo, Clock* clock, ContAuthMetrics* metrics,
                   ContAuthOptions options)
    : store_(store),
      publisher_(publisher),
      cipher_(cipher),
      geo_(geo),
      clock_(clock),
      metrics_(metrics),
      options_(std::move(options)) {
  SHIELDX_CHECK(store_ != nullptr && publisher_ != nullptr && cipher_ != nullptr &&
                clock_ != nullptr);
  SHIELDX_CHECK_OK(options_.keystroke.Validate());
  SHIELDX_CHECK(options_.background_queue_capacity > 0);
  rebuild_worker_ = std::thread([this] { RebuildLoop(); });
}

ContAuth::~ContAuth() { Stop(); }

void ContAuth::Stop() {
  {
    absl::MutexLock l(&rebuild_mu_);
    stopping_ = true;
    for (const RebuildJob& job : rebuild_queue_) rebuild_pending_.erase(job.tenant);
    rebuild_queue_.clear();
  }
  absl::MutexLock l(&stop_mu_);
  if (rebuild_worker_.joinable()) rebuild_worker_.join();
}

// ---- caches ---------------------------------------------------------------------------------

const KeystrokeModel& ContAuth::ModelFor(uint32_t min_enroll) {
  absl::MutexLock l(&models_mu_);
  std::unique_ptr<KeystrokeModel>& m = models_[min_enroll];
  if (m == nullptr) {
    KeystrokeModelConfig c = options_.keystroke;
    c.min_enroll_samples = min_enroll;
    m = std::make_unique<KeystrokeModel>(c);
  }
  return *m;
}

absl::StatusOr<Policy> ContAuth::RequireTenant(const std::string& tenant) {
  SHIELDX_RETURN_IF_ERROR(ValidateId("tenant_id", tenant));
  const int64_t now = clock_->MonotonicNanos();
  {
    absl::MutexLock l(&cache_mu_);
    auto it = policies_.find(tenant);
    if (it != policies_.end() &&
        now - it->second.fetched_nanos < absl::ToInt64Nanoseconds(options_.policy_cache_ttl)) {
      return it->second.policy;
    }
  }
  SHIELDX_ASSIGN_OR_RETURN(std::optional<Policy> p, store_->GetPolicy(tenant));
  if (!p.has_value()) {
    return absl::NotFoundError(
        absl::StrCat("tenant ", tenant,
                     ": unknown to contauth (no policy stored; enable it with UpdatePolicy)"));
  }
  absl::MutexLock l(&cache_mu_);
  policies_[tenant] = {*p, now};
  return *p;
}

absl::StatusOr<UserModel> ContAuth::OpenProfile(const ProfileRow& row) const {
  SHIELDX_ASSIGN_OR_RETURN(std::string bytes,
                           cipher_->Open(row.tenant_id, ProfileContext(row.user_id), row.sealed));
  absl::StatusOr<UserModel> m = DeserializeUserModel(bytes);
  if (!m.ok()) return Annotate(m.status(), absl::StrCat("profile of user ", row.user_id));
  return m;
}

absl::StatusOr<SessionState> ContAuth::OpenSession(const SessionRow& row) const {
  SHIELDX_ASSIGN_OR_RETURN(
      std::string bytes, cipher_->Open(row.tenant_id, SessionContext(row.session_id), row.sealed));
  absl::StatusOr<SessionState> s = DeserializeSessionState(bytes);
  if (!s.ok()) return Annotate(s.status(), absl::StrCat("session ", row.session_id));
  return s;
}

void ContAuth::CacheUser(const std::string& tenant, const std::string& user,
                         std::shared_ptr<const CachedUser> entry) {
  absl::MutexLock l(&cache_mu_);
  if (users_.size() >= options_.max_cached_users && users_.count({tenant, user}) == 0) {
    users_.erase(users_.begin());
  }
  users_[{tenant, user}] = std::move(entry);
}

void ContAuth::ForgetUser(const std::string& tenant, const std::string& user) {
  absl::MutexLock l(&cache_mu_);
  users_.erase({tenant, user});
}

absl::StatusOr<std::shared_ptr<const ContAuth::CachedUser>> ContAuth::LoadUser(
    const std::string& tenant, const std::string& user, uint32_t min_enroll) {
  std::shared_ptr<const CachedUser> cached;
  {
    absl::MutexLock l(&cache_mu_);
    auto it = users_.find({tenant, user});
    if (it != users_.end()) cached = it->second;
  }
  SHIELDX_ASSIGN_OR_RETURN(ProfileLookup lookup,
                           store_->GetProfile(tenant, user, cached ? cached->version : -1));
  if (!lookup.exists) {
    if (cached) ForgetUser(tenant, user);
    return std::shared_ptr<const CachedUser>();
  }
  if (lookup.unchanged && cached->min_enroll == min_enroll) return cached;
  auto entry = std::make_shared<CachedUser>();
  if (lookup.unchanged) {
    entry->version = cached->version;
    entry->model = cached->model;
  } else {
    SHIELDX_ASSIGN_OR_RETURN(entry->model, OpenProfile(lookup.row));
    entry->version = lookup.row.version;
  }
  entry->min_enroll = min_enroll;
  entry->compiled =
      std::make_shared<const CompiledProfile>(ModelFor(min_enroll).Compile(entry->model.keystroke));
  CacheUser(tenant, user, entry);
  return std::shared_ptr<const CachedUser>(entry);
}

std::shared_ptr<const TenantBackground> ContAuth::Background(const std::string& tenant,
                                                             uint32_t min_enroll) {
  const int64_t now = clock_->MonotonicNanos();
  std::shared_ptr<const TenantBackground> current;
  {
    absl::MutexLock l(&cache_mu_);
    auto it = backgrounds_.find(tenant);
    if (it != backgrounds_.end()) {
      const CachedBackground& b = it->second;
      if (b.min_enroll == min_enroll) current = b.background;
      const bool fresh =
          current != nullptr &&
          now - b.built_nanos < absl::ToInt64Nanoseconds(options_.background_refresh);
      if (fresh || now < b.retry_after_nanos) return current;
    }
  }
  ScheduleRebuild(tenant, min_enroll);
  return current;
}

void ContAuth::ScheduleRebuild(const std::string& tenant, uint32_t min_enroll) {
  {
    absl::MutexLock l(&rebuild_mu_);
    if (stopping_ || rebuild_pending_.count(tenant) > 0) return;
    if (rebuild_queue_.size() < options_.background_queue_capacity) {
      rebuild_pending_.insert(tenant);
      rebuild_queue_.push_back({tenant, min_enroll});
      return;
    }
  }
  rebuilds_skipped_.fetch_add(1, std::memory_order_relaxed);
  if (metrics_ != nullptr) metrics_->IncBackgroundRebuild(BackgroundRebuildResult::kSkipped);
}

bool ContAuth::RebuildWorkReady() const { return stopping_ || !rebuild_queue_.empty(); }

bool ContAuth::RebuildIdle() const { return rebuild_pending_.empty(); }

bool ContAuth::WaitForBackgroundIdle(absl::Duration timeout) {
  absl::MutexLock l(&rebuild_mu_);
  return rebuild_mu_.AwaitWithTimeout(absl::Condition(this, &ContAuth::RebuildIdle), timeout);
}

void ContAuth::RebuildLoop() {
  for (;;) {
    RebuildJob job;
    {
      absl::MutexLock l(&rebuild_mu_);
      rebuild_mu_.Await(absl::Condition(this, &ContAuth::RebuildWorkReady));
      if (stopping_) return;
      job = std::move(rebuild_queue_.front());
      rebuild_queue_.pop_front();
    }
    // Failures are logged and counted by BuildBackground; the previous background stays.
    BuildBackground(job.tenant, job.min_enroll).IgnoreError();
    absl::MutexLock l(&rebuild_mu_);
    rebuild_pending_.erase(job.tenant);
  }
}

absl::Status ContAuth::BuildBackground(const std::string& tenant, uint32_t min_enroll) {
  const int64_t started = clock_->MonotonicNanos();
  absl::StatusOr<std::vector<ProfileRow>> rows =
      store_->ListEnrolledProfiles(tenant, kMaxCohortMembers);
  if (!rows.ok()) {
    rebuilds_failed_.fetch_add(1, std::memory_order_relaxed);
    if (metrics_ != nullptr) metrics_->IncBackgroundRebuild(BackgroundRebuildResult::kFailed);
    log::Warn("contauth: background rebuild failed",
              {{"tenant", tenant}, {"error", rows.status().ToString()}});
    absl::MutexLock l(&cache_mu_);
    backgrounds_[tenant].retry_after_nanos =
        started + absl::ToInt64Nanoseconds(options_.background_retry);
    return Annotate(rows.status(), absl::StrCat("background of tenant ", tenant));
  }
  std::vector<TenantBackground::Member> members;
  for (const ProfileRow& row : *rows) {
    absl::StatusOr<std::shared_ptr<const CachedUser>> u = LoadUser(tenant, row.user_id, min_enroll);
    if (!u.ok() || *u == nullptr || (*u)->compiled->templates.empty()) continue;
    members.push_back({row.user_id, (*u)->compiled});
  }
  auto built = std::make_shared<const TenantBackground>(std::move(members),
                                                        ModelFor(min_enroll).background_options());
  {
    absl::MutexLock l(&cache_mu_);
    CachedBackground& b = backgrounds_[tenant];
    // A build that started earlier than the cached one (a concurrent RefreshBackground) must
    // not replace it.
    if (b.background == nullptr || b.min_enroll != min_enroll || started >= b.built_nanos) {
      b.background = std::move(built);
      b.min_enroll = min_enroll;
      b.built_nanos = started;
      b.retry_after_nanos = 0;
    }
  }
  rebuilds_built_.fetch_add(1, std::memory_order_relaxed);
  if (metrics_ != nullptr) metrics_->IncBackgroundRebuild(BackgroundRebuildResult::kBuilt);
  return absl::OkStatus();
}

absl::Status ContAuth::RefreshBackground(const std::string& tenant) {
  SHIELDX_ASSIGN_OR_RETURN(Policy policy, RequireTenant(tenant));
  return BuildBackground(tenant, policy.min_enroll_samples);
}

BackgroundRebuildStats ContAuth::background_rebuild_stats() const {
  return {rebuilds_built_.load(std::memory_order_relaxed),
          rebuilds_failed_.load(std::memory_order_relaxed),
          rebuilds_skipped_.load(std::memory_order_relaxed)};
}

// ---- decisions ------------------------------------------------------------------------------

Decision ContAuth::MakeDecision(const std::string& tenant, const std::string& session,
                                const std::string& user, const Policy& policy,
                                const std::vector<Evidence>& evidence,
                                const std::vector<RiskReason>& context_reasons,
                                double challenge_logit, bool enrolled) const {
  FusedRisk f = FuseRisk(evidence, context_reasons, challenge_logit);
  Decision d;
  d.decision_id = NewDecisionId();
  d.tenant_id = tenant;
  d.session_id = session;
  d.user_id = user;
  d.risk = f.risk;
  d.confidence = f.confidence;
  d.action = policy.ActionFor(f.risk);
  d.modality_scores = std::move(f.modality_scores);
  d.reasons = std::move(f.reasons);
  if (!enrolled) {
    d.reasons.push_back({"NOT_ENROLLED", Modality::kUnspecified,
                         "the user's behavioural profile is still enrolling", 0});
  }
  d.enrolled = enrolled;
  d.decided_at = clock_->Now();
  d.expires_at = d.decided_at + absl::Milliseconds(policy.decision_ttl_ms);
  return d;
}

void ContAuth::Publish(const Decision& d) {
  if (metrics_ != nullptr) metrics_->ObserveDecision(d.action, d.risk);
  absl::Status s = publisher_->Publish(d, clock_->Now());
  if (!s.ok()) {
    if (metrics_ != nullptr) metrics_->IncPublishFailure();
    log::Warn("contauth: session risk not published",
              {{"tenant", d.tenant_id}, {"decision_id", d.decision_id}, {"error", s.ToString()}});
  }
}

// ---- ingest ---------------------------------------------------------------------------------

absl::StatusOr<IngestResult> ContAuth::Ingest(const TelemetryBatch& batch) {
  if (absl::Status s = ValidateBatch(batch); !s.ok()) {
    if (metrics_ != nullptr) metrics_->IncRejected();
    return s;
  }
  SHIELDX_ASSIGN_OR_RETURN(Policy policy, RequireTenant(batch.tenant_id));
  const std::string& tenant = batch.tenant_id;
  const std::string& user = batch.user_id;
  const std::string& session = batch.session_id;
  const KeystrokeModel& model = ModelFor(policy.min_enroll_samples);
  const absl::Time now = clock_->Now();

  // Features, extracted before the lock; raw events are not used past this point.
  std::vector<KeystrokeInput> keystrokes = batch.keystrokes;
  for (KeystrokeInput& k : keystrokes) {
    k.sample.tenant = tenant;
    k.sample.user = user;
  }
  const MotionObservations pointer = ExtractPointer(batch.pointer);
  const MotionObservations touch = ExtractTouch(batch.touch);
  const ContextObservation context =
      Observe(batch.has_device ? &batch.device : nullptr,
              batch.has_context ? &batch.context : nullptr, geo_, now);
  const bool keystroke_needs_background = !keystrokes.empty();
  std::shared_ptr<const TenantBackground> background;
  if (keystroke_needs_background) background = Background(tenant, policy.min_enroll_samples);
  std::shared_ptr<const CachedUser> cached;
  {
    absl::MutexLock l(&cache_mu_);
    auto it = users_.find({tenant, user});
    if (it != users_.end() && it->second->min_enroll == policy.min_enroll_samples) {
      cached = it->second;
    }
  }

  IngestResult result;
  std::shared_ptr<CachedUser> fresh;  // the model as written, for the cache
  std::array<uint64_t, static_cast<int>(ProfileUpdateKind::kCount)> updates{};
  auto fn = [&](const std::optional<ProfileRow>& prow,
                const std::optional<SessionRow>& srow) -> absl::StatusOr<UserMutation> {
    result = IngestResult{};
    fresh = nullptr;
    updates = {};
    UserModel m;
    int64_t profile_version = 0;
    if (prow.has_value()) {
      profile_version = prow->version;
      if (cached != nullptr && cached->version == prow->version) {
        m = cached->model;
      } else {
        SHIELDX_ASSIGN_OR_RETURN(m, OpenProfile(*prow));
      }
    } else {
      m.created_at = now;
    }
    SessionState st;
    int64_t session_version = 0;
    if (srow.has_value()) {
      if (srow->user_id != user) {
        return absl::FailedPreconditionError(
            absl::StrCat("session ", session, " belongs to another user"));
      }
      session_version = srow->version;
      SHIELDX_ASSIGN_OR_RETURN(st, OpenSession(*srow));
    } else {
      st.user_id = user;
      st.created_at = now;
    }
    if (st.SeenSequence(batch.batch_sequence)) {
      result.duplicate = true;
      return UserMutation{};
    }

    bool profile_changed = false;
    std::shared_ptr<const CompiledProfile> compiled =
        (cached != nullptr && cached->version == profile_version) ? cached->compiled : nullptr;
    auto touch_modality = [&](Modality mod) {
      m.modality_updated_at[static_cast<int>(mod)] = now;
      profile_changed = true;
      compiled = nullptr;
    };

    // Keystrokes.
    for (const KeystrokeInput& k : keystrokes) {
      const bool fixed_kind = k.EffectiveKind() == TextKind::kFixed;
      FixedTextFeatures f;
      const bool has_vector = ExtractFixedText(k.sample, &f);
      bool enrolling;
      if (fixed_kind && has_vector) {
        const FixedTextTemplate* t = m.keystroke.FindTemplate(f.text_id);
        enrolling = t == nullptr || t->sample_count() < policy.min_enroll_samples;
      } else {
        enrolling = m.free_text_samples < policy.min_enroll_samples;
      }
      const bool enroll = (k.phase == PhaseRequest::kAuto && enrolling) ||
                          (k.phase == PhaseRequest::kEnroll && (enrolling || st.verified));
      if (enroll) {
        if (fixed_kind && has_vector) {
          SHIELDX_RETURN_IF_ERROR(model.Enroll(k.sample, &m.keystroke));
          m.SetLabel(f.text_id, k.text_id);
          touch_modality(Modality::kKeystrokeFixed);
        } else {
          SHIELDX_RETURN_IF_ERROR(model.EnrollFreeText(k.sample, &m.keystroke));
          ++m.free_text_samples;
          touch_modality(Modality::kKeystrokeFree);
        }
        ++updates[static_cast<int>(ProfileUpdateKind::kEnroll)];
        ++result.accepted_count;
        continue;
      }
      if (compiled == nullptr) {
        compiled = std::make_shared<const CompiledProfile>(model.Compile(m.keystroke));
      }
      absl::StatusOr<KeystrokeScore> score =
          model.Score(*compiled, k.sample, background.get(), user);
      ++result.accepted_count;
      if (absl::IsFailedPrecondition(score.status())) continue;  // not scorable yet
      if (!score.ok()) return score.status();
      result.sample_scores.push_back({k.sample.sample_id, score->score});
      const Modality mod = score->mode == ScoreMode::kFixedText ? Modality::kKeystrokeFixed
                                                                : Modality::kKeystrokeFree;
      st.modalities[static_cast<int>(mod)].Add(score->score, score->confidence);
      if (k.phase == PhaseRequest::kProbe) continue;  // explicit probes never change the profile
      SHIELDX_ASSIGN_OR_RETURN(bool folded, model.MaybeUpdate(k.sample, *score, &m.keystroke));
      if (folded) {
        ++updates[static_cast<int>(ProfileUpdateKind::kAdaptive)];
        touch_modality(mod);
      } else if (has_vector && score->mode == ScoreMode::kFixedText) {
        st.AddPending(f);
      }
    }

    // Pointer and touch.
    auto motion = [&](const MotionObservations& obs, MotionProfile* profile, Modality mod) {
      if (obs.total() == 0) return;
      result.accepted_count += 0;  // counted from the raw events below
      if (MotionEnrolling(*profile, kMinMotionEnrollBatches)) {
        LearnMotion(obs, profile);
        touch_modality(mod);
        return;
      }
      const MotionScore s = ScoreMotion(*profile, obs);
      if (s.observations == 0) return;
      st.modalities[static_cast<int>(mod)].Add(s.score, s.confidence);
      if (s.score <= kMotionLearnMaxScore) {
        LearnMotion(obs, profile);
        touch_modality(mod);
      }
    };
    motion(pointer, &m.pointer, Modality::kPointer);
    motion(touch, &m.touch, Modality::kTouch);
    result.accepted_count += static_cast<uint32_t>(
        batch.pointer.size() + batch.touch.size() + batch.access_events.size() +
        (batch.has_device ? 1 : 0) + (batch.has_context ? 1 : 0));

    // Context.
    if (!context.empty()) {
      const ContextAssessment a = EvaluateContext(m.context, context);
      st.has_context = true;
      st.context_score = a.score;
      st.context_confidence = a.confidence;
      st.context_reasons = a.reasons;
      if (st.context_reasons.size() > kMaxSessionReasons) {
        st.context_reasons.resize(kMaxSessionReasons);
      }
      ModalityAccumulator& acc = st.modalities[static_cast<int>(Modality::kContext)];
      if (acc.samples < 1'000'000) ++acc.samples;
      st.has_last_context = true;
      st.last_context = context;
    }

    const bool enrolled = BehaviourEnrolled(m, policy.min_enroll_samples);
    Decision d = MakeDecision(tenant, session, user, policy, SessionEvidence(st),
                              st.context_reasons, st.challenge_logit, enrolled);
    if (!context.empty() &&
        (m.context.observations < kMinContextEnrollObservations || d.risk < policy.challenge_at)) {
      LearnContext(context, &m.context);
      touch_modality(Modality::kContext);
    }
    st.RecordSequence(batch.batch_sequence);
    st.last_decision_id = d.decision_id;
    st.updated_at = now;

    UserMutation mu;
    if (profile_changed) {
      m.updated_at = now;
      ProfileRow row;
      row.tenant_id = tenant;
      row.user_id = user;
      row.version = profile_version;
      row.key_id = cipher_->current_key_id();
      SHIELDX_ASSIGN_OR_RETURN(row.sealed,
                               cipher_->Seal(tenant, ProfileContext(user), SerializeUserModel(m)));
      row.keystroke_enrolled = KeystrokeEnrolled(m, policy.min_enroll_samples);
      row.created_at = m.created_at;
      row.updated_at = now;
      mu.profile = std::move(row);
      fresh = std::make_shared<CachedUser>();
      fresh->version = profile_version + 1;
      fresh->min_enroll = policy.min_enroll_samples;
      fresh->model = std::move(m);
      fresh->compiled = compiled;
    }
    SessionRow srow_out;
    srow_out.tenant_id = tenant;
    srow_out.session_id = session;
    srow_out.user_id = user;
    srow_out.version = session_version;
    srow_out.key_id = cipher_->current_key_id();
    SHIELDX_ASSIGN_OR_RETURN(
        srow_out.sealed, cipher_->Seal(tenant, SessionContext(session), SerializeSessionState(st)));
    srow_out.updated_at = now;
    srow_out.expires_at = now + options_.session_ttl;
    mu.session = std::move(srow_out);
    result.risk = d;
    mu.decision = std::move(d);
    return mu;
  };
  SHIELDX_RETURN_IF_ERROR(store_->UpdateUser(tenant, user, session, fn));

  if (result.duplicate) {
    absl::StatusOr<std::optional<Decision>> latest = store_->LatestDecision(tenant, session, now);
    if (latest.ok() && latest->has_value()) result.risk = **latest;
    return result;
  }
  if (fresh != nullptr) {
    if (fresh->compiled == nullptr) {
      fresh->compiled =
          std::make_shared<const CompiledProfile>(model.Compile(fresh->model.keystroke));
    }
    CacheUser(tenant, user, fresh);
  }
  if (metrics_ != nullptr) {
    metrics_->AddEvents(EventKind::kKeystrokeSample, batch.keystrokes.size());
    metrics_->AddEvents(EventKind::kPointer, batch.pointer.size());
    metrics_->AddEvents(EventKind::kTouch, batch.touch.size());
    metrics_->AddEvents(EventKind::kDevice, batch.has_device ? 1 : 0);
    metrics_->AddEvents(EventKind::kContext, batch.has_context ? 1 : 0);
    metrics_->AddEvents(EventKind::kAccess, batch.access_events.size());
    for (int k = 0; k < static_cast<int>(ProfileUpdateKind::kCount); ++k) {
      metrics_->AddProfileUpdates(static_cast<ProfileUpdateKind>(k), updates[k]);
    }
  }
  Publish(result.risk);
  return result;
}

// ---- score ----------------------------------------------------------------------------------

absl::StatusOr<ScoreResult> ContAuth::Score(const ScoreInput& in) {
  SHIELDX_RETURN_IF_ERROR(ValidateIds(in.tenant_id, in.session_id, in.user_id));
  SHIELDX_RETURN_IF_ERROR(ValidateProbeSamples(in.probes));
  if (in.has_context) SHIELDX_RETURN_IF_ERROR(ValidateContext(in.context, "context"));
  SHIELDX_ASSIGN_OR_RETURN(Policy policy, RequireTenant(in.tenant_id));
  const absl::Time now = clock_->Now();

  SessionState st;
  SHIELDX_ASSIGN_OR_RETURN(std::optional<SessionRow> srow,
                           store_->GetSession(in.tenant_id, in.session_id));
  if (srow.has_value()) {
    if (srow->user_id != in.user_id) {
      return absl::FailedPreconditionError(
          absl::StrCat("session ", in.session_id, " belongs to another user"));
    }
    SHIELDX_ASSIGN_OR_RETURN(st, OpenSession(*srow));
  }
  SHIELDX_ASSIGN_OR_RETURN(std::shared_ptr<const CachedUser> user,
                           LoadUser(in.tenant_id, in.user_id, policy.min_enroll_samples));
  ScoreResult out;
  if (!in.probes.empty() && user != nullptr) {
    const KeystrokeModel& model = ModelFor(policy.min_enroll_samples);
    std::shared_ptr<const TenantBackground> background =
        Background(in.tenant_id, policy.min_enroll_samples);
    for (const KeystrokeInput& k : in.probes) {
      KeystrokeSample sample = k.sample;
      sample.tenant = in.tenant_id;
      sample.user = in.user_id;
      absl::StatusOr<KeystrokeScore> score =
          model.Score(*user->compiled, sample, background.get(), in.user_id);
      if (absl::IsFailedPrecondition(score.status())) continue;
      if (!score.ok()) return score.status();
      out.sample_scores.push_back({sample.sample_id, score->score});
      const Modality mod = score->mode == ScoreMode::kFixedText ? Modality::kKeystrokeFixed
                                                                : Modality::kKeystrokeFree;
      st.modalities[static_cast<int>(mod)].Add(score->score, score->confidence);
    }
  }
  if (in.has_context) {
    const ContextObservation obs = Observe(nullptr, &in.context, geo_, now);
    if (!obs.empty() && user != nullptr) {
      const ContextAssessment a = EvaluateContext(user->model.context, obs);
      st.has_context = true;
      st.context_score = a.score;
      st.context_confidence = a.confidence;
      st.context_reasons = a.reasons;
    }
  }
  const bool enrolled =
      user != nullptr && BehaviourEnrolled(user->model, policy.min_enroll_samples);
  out.risk = MakeDecision(in.tenant_id, in.session_id, in.user_id, policy, SessionEvidence(st),
                          st.context_reasons, st.challenge_logit, enrolled);
  SHIELDX_RETURN_IF_ERROR(store_->InsertDecision(out.risk));
  Publish(out.risk);
  return out;
}

absl::StatusOr<Decision> ContAuth::GetDecision(const std::string& tenant,
                                               const std::string& session) {
  SHIELDX_RETURN_IF_ERROR(ValidateIds(tenant, session, ""));
  SHIELDX_RETURN_IF_ERROR(RequireTenant(tenant).status());
  SHIELDX_ASSIGN_OR_RETURN(std::optional<Decision> d,
                           store_->LatestDecision(tenant, session, clock_->Now()));
  if (!d.has_value()) {
    return absl::NotFoundError(
        absl::StrCat("session ", session, " of tenant ", tenant, ": no unexpired decision"));
  }
  return *d;
}

// ---- challenges -----------------------------------------------------------------------------

absl::StatusOr<Decision> ContAuth::ReportChallengeOutcome(const ChallengeInput& in) {
  SHIELDX_RETURN_IF_ERROR(ValidateIds(in.tenant_id, in.session_id, ""));
  SHIELDX_RETURN_IF_ERROR(ValidateId("decision_id", in.decision_id));
  SHIELDX_RETURN_IF_ERROR(ValidateId("idempotency_key", in.idempotency_key));
  if (in.outcome == ChallengeOutcome::kUnspecified) {
    return absl::InvalidArgumentError("outcome: required (PASSED, FAILED, ABANDONED or EXPIRED)");
  }
  SHIELDX_ASSIGN_OR_RETURN(Policy policy, RequireTenant(in.tenant_id));
  auto replay = [&](const ChallengeRecord& r) -> absl::StatusOr<Decision> {
    if (r.session_id != in.session_id || r.decision_id != in.decision_id) {
      return absl::InvalidArgumentError(absl::StrCat("idempotency_key ", in.idempotency_key,
                                                     ": already used for another challenge"));
    }
    SHIELDX_ASSIGN_OR_RETURN(std::optional<Decision> d,
                             store_->GetDecision(in.tenant_id, r.result_decision_id));
    if (!d.has_value()) {
      return absl::NotFoundError(absl::StrCat("challenge ", in.idempotency_key,
                                              ": already applied; its decision is no longer "
                                              "retained"));
    }
    return *d;
  };
  SHIELDX_ASSIGN_OR_RETURN(std::optional<ChallengeRecord> existing,
                           store_->GetChallenge(in.tenant_id, in.idempotency_key));
  if (existing.has_value()) return replay(*existing);
  SHIELDX_ASSIGN_OR_RETURN(std::optional<Decision> asked,
                           store_->GetDecision(in.tenant_id, in.decision_id));
  if (!asked.has_value() || asked->session_id != in.session_id) {
    return absl::NotFoundError(
        absl::StrCat("decision ", in.decision_id, " of session ", in.session_id, ": not found"));
  }
  const std::string user = asked->user_id;
  const KeystrokeModel& model = ModelFor(policy.min_enroll_samples);
  const absl::Time now = clock_->Now();
  Decision result;
  uint64_t folded_total = 0;
  auto fn = [&](const std::optional<ProfileRow>& prow,
                const std::optional<SessionRow>& srow) -> absl::StatusOr<UserMutation> {
    folded_total = 0;
    SessionState st;
    int64_t session_version = 0;
    if (srow.has_value()) {
      if (srow->user_id != user) {
        return absl::FailedPreconditionError(
            absl::StrCat("session ", in.session_id, " belongs to another user"));
      }
      session_version = srow->version;
      SHIELDX_ASSIGN_OR_RETURN(st, OpenSession(*srow));
    } else {
      st.user_id = user;
      st.created_at = now;
    }
    UserMutation mu;
    std::optional<UserModel> m;
    if (prow.has_value()) {
      SHIELDX_ASSIGN_OR_RETURN(m, OpenProfile(*prow));
    }
    switch (in.outcome) {
      case ChallengeOutcome::kPassed:
        st.challenge_logit = kPassedLogit;
        st.verified = true;
        if (m.has_value()) {
          bool changed = false;
          for (const FixedTextFeatures& f : st.pending) {
            if (model.FoldAccepted(f, &m->keystroke)) {
              ++folded_total;
              changed = true;
              m->modality_updated_at[static_cast<int>(Modality::kKeystrokeFixed)] = now;
            }
          }
          if (st.has_last_context) {
            LearnContext(st.last_context, &m->context);
            m->modality_updated_at[static_cast<int>(Modality::kContext)] = now;
            changed = true;
          }
          if (changed) {
            m->updated_at = now;
            ProfileRow row = *prow;
            row.key_id = cipher_->current_key_id();
            SHIELDX_ASSIGN_OR_RETURN(row.sealed, cipher_->Seal(in.tenant_id, ProfileContext(user),
                                                               SerializeUserModel(*m)));
            row.keystroke_enrolled = KeystrokeEnrolled(*m, policy.min_enroll_samples);
            row.updated_at = now;
            mu.profile = std::move(row);
          }
        }
        st.pending.clear();
        // The context that was questioned is now vouched for.
        st.context_reasons.clear();
        st.context_score = std::min(st.context_score, 0.1);
        break;
      case ChallengeOutcome::kFailed:
        st.challenge_logit =
            std::min(kMaxChallengeLogit, std::max(0.0, st.challenge_logit) + kFailedLogit);
        break;
      default:
        st.challenge_logit =
            std::min(kMaxChallengeLogit, std::max(0.0, st.challenge_logit) + kGaveUpLogit);
        break;
    }
    const bool enrolled = m.has_value() && BehaviourEnrolled(*m, policy.min_enroll_samples);
    result = MakeDecision(in.tenant_id, in.session_id, user, policy, SessionEvidence(st),
                          st.context_reasons, st.challenge_logit, enrolled);
    st.last_decision_id = result.decision_id;
    st.updated_at = now;
    SessionRow out;
    out.tenant_id = in.tenant_id;
    out.session_id = in.session_id;
    out.user_id = user;
    out.version = session_version;
    out.key_id = cipher_->current_key_id();
    SHIELDX_ASSIGN_OR_RETURN(out.sealed, cipher_->Seal(in.tenant_id, SessionContext(in.session_id),
                                                       SerializeSessionState(st)));
    out.updated_at = now;
    out.expires_at = now + options_.session_ttl;
    mu.session = std::move(out);
    mu.decision = result;
    ChallengeRecord rec;
    rec.tenant_id = in.tenant_id;
    rec.idempotency_key = in.idempotency_key;
    rec.decision_id = in.decision_id;
    rec.result_decision_id = result.decision_id;
    rec.session_id = in.session_id;
    rec.user_id = user;
    rec.kind = in.kind;
    rec.outcome = in.outcome;
    rec.recorded_at = now;
    mu.challenge = std::move(rec);
    return mu;
  };
  absl::Status s = store_->UpdateUser(in.tenant_id, user, in.session_id, fn);
  if (absl::IsAlreadyExists(s)) {
    // A concurrent report with the same key won: answer as a retry.
    SHIELDX_ASSIGN_OR_RETURN(existing, store_->GetChallenge(in.tenant_id, in.idempotency_key));
    if (existing.has_value()) return replay(*existing);
  }
  SHIELDX_RETURN_IF_ERROR(s);
  ForgetUser(in.tenant_id, user);
  if (metrics_ != nullptr) {
    metrics_->ObserveChallenge(in.outcome);
    metrics_->AddProfileUpdates(ProfileUpdateKind::kChallengeFold, folded_total);
  }
  Publish(result);
  return result;
}

// ---- profiles and privacy -------------------------------------------------------------------

namespace {

ProfileSummary Summarize(const std::string& user, const UserModel& m, const ProfileRow& row,
                         uint32_t min_enroll) {
  ProfileSummary s;
  s.user_id = user;
  uint32_t fixed_best = 0;
  for (const FixedTextTemplate& t : m.keystroke.templates) {
    fixed_best = std::max<uint32_t>(fixed_best, static_cast<uint32_t>(t.sample_count()));
  }
  auto at = [&m](Modality mod) { return m.modality_updated_at[static_cast<int>(mod)]; };
  s.enrollments.push_back({Modality::kKeystrokeFixed, fixed_best >= min_enroll, fixed_best,
                           min_enroll, at(Modality::kKeystrokeFixed)});
  s.enrollments.push_back({Modality::kKeystrokeFree, m.free_text_samples >= min_enroll,
                           m.free_text_samples, min_enroll, at(Modality::kKeystrokeFree)});
  s.enrollments.push_back({Modality::kPointer, !MotionEnrolling(m.pointer, kMinMotionEnrollBatches),
                           static_cast<uint32_t>(m.pointer.batches), kMinMotionEnrollBatches,
                           at(Modality::kPointer)});
  s.enrollments.push_back({Modality::kTouch, !MotionEnrolling(m.touch, kMinMotionEnrollBatches),
                           static_cast<uint32_t>(m.touch.batches), kMinMotionEnrollBatches,
                           at(Modality::kTouch)});
  s.enrollments.push_back({Modality::kContext,
                           m.context.observations >= kMinContextEnrollObservations,
                           static_cast<uint32_t>(m.context.observations),
                           kMinContextEnrollObservations, at(Modality::kContext)});
  s.known_device_count = static_cast<uint32_t>(m.context.devices.size());
  s.known_network_count = static_cast<uint32_t>(m.context.networks.size());
  for (const KnownItem& c : m.context.countries) s.countries.push_back(c.value);
  s.key_id = row.key_id;
  s.created_at = row.created_at;
  s.updated_at = row.updated_at;
  return s;
}

}  // namespace

absl::StatusOr<ProfileSummary> ContAuth::GetProfileSummary(const std::string& tenant,
                                                           const std::string& user) {
  SHIELDX_RETURN_IF_ERROR(ValidateIds(tenant, "", user));
  SHIELDX_ASSIGN_OR_RETURN(Policy policy, RequireTenant(tenant));
  SHIELDX_ASSIGN_OR_RETURN(ProfileLookup lookup, store_->GetProfile(tenant, user, -1));
  if (!lookup.exists) {
    return absl::NotFoundError(
        absl::StrCat("user ", user, " of tenant ", tenant, ": no profile stored"));
  }
  SHIELDX_ASSIGN_OR_RETURN(UserModel m, OpenProfile(lookup.row));
  return Summarize(user, m, lookup.row, policy.min_enroll_samples);
}

absl::StatusOr<DeleteResult> ContAuth::DeleteProfile(const std::string& tenant,
                                                     const std::string& user) {
  SHIELDX_RETURN_IF_ERROR(ValidateIds(tenant, "", user));
  SHIELDX_RETURN_IF_ERROR(RequireTenant(tenant).status());
  SHIELDX_ASSIGN_OR_RETURN(DeletedUser deleted, store_->DeleteUser(tenant, user));
  ForgetUser(tenant, user);
  DeleteResult out;
  out.deleted_decisions = deleted.decisions;
  if (deleted.profile_existed) {
    ProfileRow row;
    row.tenant_id = tenant;
    row.user_id = user;
    row.sealed = std::move(deleted.profile_sealed);
    absl::StatusOr<UserModel> m = OpenProfile(row);
    // A profile that cannot be opened (retired key dropped) is deleted all the same; it
    // counts as one stored vector set.
    out.deleted_feature_vectors =
        m.ok() ? static_cast<uint32_t>(ExportFeatureVectors(*m).size()) : 1;
  }
  if (absl::Status s = publisher_->Remove(tenant, deleted.session_ids); !s.ok()) {
    // The published risk expires with its TTL; the stored data is gone already.
    log::Warn("contauth: published risk of a deleted user not removed",
              {{"tenant", tenant}, {"error", s.ToString()}});
  }
  return out;
}

absl::StatusOr<ProfileExport> ContAuth::ExportProfile(const std::string& tenant,
                                                      const std::string& user) {
  SHIELDX_RETURN_IF_ERROR(ValidateIds(tenant, "", user));
  SHIELDX_ASSIGN_OR_RETURN(Policy policy, RequireTenant(tenant));
  SHIELDX_ASSIGN_OR_RETURN(ProfileLookup lookup, store_->GetProfile(tenant, user, -1));
  ProfileExport out;
  SHIELDX_ASSIGN_OR_RETURN(out.decisions,
                           store_->ListUserDecisions(tenant, user, options_.max_export_decisions));
  if (!lookup.exists && out.decisions.empty()) {
    return absl::NotFoundError(
        absl::StrCat("user ", user, " of tenant ", tenant, ": nothing stored"));
  }
  out.profile.user_id = user;
  if (lookup.exists) {
    SHIELDX_ASSIGN_OR_RETURN(UserModel m, OpenProfile(lookup.row));
    out.profile = Summarize(user, m, lookup.row, policy.min_enroll_samples);
    out.feature_vectors = ExportFeatureVectors(m);
    for (const KnownItem& d : m.context.devices) out.device_ids.push_back(d.value);
    for (const KnownItem& n : m.context.networks) out.networks.push_back(n.value);
  }
  return out;
}

absl::StatusOr<Policy> ContAuth::GetPolicy(const std::string& tenant) {
  SHIELDX_RETURN_IF_ERROR(ValidateId("tenant_id", tenant));
  SHIELDX_ASSIGN_OR_RETURN(std::optional<Policy> p, store_->GetPolicy(tenant));
  return p.has_value() ? *p : Policy{};
}

absl::StatusOr<Policy> ContAuth::UpdatePolicy(const std::string& tenant, const Policy& policy,
                                              int64_t expected_version) {
  SHIELDX_RETURN_IF_ERROR(ValidateId("tenant_id", tenant));
  SHIELDX_RETURN_IF_ERROR(policy.Validate());
  SHIELDX_ASSIGN_OR_RETURN(Policy stored, store_->PutPolicy(tenant, policy, expected_version));
  absl::MutexLock l(&cache_mu_);
  policies_[tenant] = {stored, clock_->MonotonicNanos()};
  return stored;
}

absl::StatusOr<SweepResult> ContAuth::Sweep() {
  return store_->Sweep(clock_->Now(), options_.default_retention_days, options_.sweep_batch);
}

}  // namespace shieldx::contauth
