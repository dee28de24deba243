#include "services/contauth/contauth_service.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/rpc/status.h"
#include "libs/rpc/timestamp.h"

namespace shieldx::contauth {
namespace {

namespace pb = ::shieldx::contauth::v1;
using ::shieldx::common::v1::Actor;

constexpr char kIngest[] = "contauth.ingest";
constexpr char kScore[] = "contauth.score";
constexpr char kRead[] = "contauth.read";
constexpr char kPrivacy[] = "contauth.privacy";
constexpr char kAdmin[] = "contauth.admin";

using rpc::Authorize;

grpc::Status Fail(const absl::Status& s) { return rpc::StatusToGrpc(s); }

using rpc::FromProto;  // absl::Time <-> Timestamp (libs/rpc/timestamp.h)
using rpc::ToProto;

KeystrokeInput FromProto(const pb::KeystrokeSample& k) {
  KeystrokeInput in;
  in.sample.sample_id = k.sample_id();
  in.phase = static_cast<PhaseRequest>(k.phase() >= 0 && k.phase() <= 2 ? k.phase() : 0);
  in.kind = static_cast<TextKind>(k.text_kind() >= 0 && k.text_kind() <= 2 ? k.text_kind() : 0);
  in.text_id = k.text_id();
  in.sample.phase = in.phase == PhaseRequest::kEnroll ? SamplePhase::kEnroll : SamplePhase::kProbe;
  in.sample.events.reserve(static_cast<std::size_t>(
      std::min<int>(k.events_size(), static_cast<int>(kMaxEventsPerSample) + 1)));
  for (const pb::KeyEvent& e : k.events()) {
    in.sample.events.push_back({e.key(), e.down_ms(), e.up_ms()});
  }
  return in;
}

AccessContext FromProto(const pb::AccessContext& c) {
  AccessContext out;
  out.ip = c.ip();
  out.user_agent = c.user_agent();
  out.accept_language = c.accept_language();
  if (c.has_observed_at()) out.observed_at = FromProto(c.observed_at());
  return out;
}

template <typename E>
E Enum(int v, int max) {
  return static_cast<E>(v >= 0 && v <= max ? v : 0);
}

void ToProto(const ProfileSummary& s, pb::ProfileSummary* out) {
  out->set_user_id(s.user_id);
  for (const ModalityEnrollment& e : s.enrollments) {
    pb::ModalityEnrollment* p = out->add_enrollments();
    p->set_modality(static_cast<pb::Modality>(e.modality));
    p->set_enrolled(e.enrolled);
    p->set_sample_count(e.sample_count);
    p->set_required_sample_count(e.required_sample_count);
    if (e.updated_at != absl::UnixEpoch()) ToProto(e.updated_at, p->mutable_updated_at());
  }
  out->set_known_device_count(s.known_device_count);
  out->set_known_network_count(s.known_network_count);
  for (const std::string& c : s.countries) out->add_countries(c);
  out->set_key_id(s.key_id);
  if (s.created_at != absl::UnixEpoch()) ToProto(s.created_at, out->mutable_created_at());
  if (s.updated_at != absl::UnixEpoch()) ToProto(s.updated_at, out->mutable_updated_at());
}

void ToProto(const Policy& p, pb::ContAuthPolicy* out) {
  out->set_monitor_at(p.monitor_at);
  out->set_challenge_at(p.challenge_at);
  out->set_deny_at(p.deny_at);
  out->set_decision_ttl_ms(p.decision_ttl_ms);
  out->set_decision_retention_days(p.decision_retention_days);
  out->set_min_enroll_samples(p.min_enroll_samples);
  out->set_etag(absl::StrCat(p.version));
}

void ScoresToProto(const std::vector<SampleScoreResult>& scores,
                   google::protobuf::RepeatedPtrField<pb::SampleScore>* out) {
  for (const SampleScoreResult& s : scores) {
    pb::SampleScore* p = out->Add();
    p->set_sample_id(s.sample_id);
    p->set_score(s.score);
  }
}

}  // namespace

TelemetryBatch BatchFromProto(const pb::IngestTelemetryRequest& req) {
  TelemetryBatch b;
  b.tenant_id = req.tenant_id();
  b.session_id = req.session_id();
  b.user_id = req.user_id();
  b.batch_sequence = req.batch_sequence();
  // Oversized lists are converted only up to one past the limit: validation names the excess.
  const int keys =
      std::min(req.keystroke_samples_size(), static_cast<int>(kMaxKeystrokeSamplesPerBatch) + 1);
  for (int i = 0; i < keys; ++i) b.keystrokes.push_back(FromProto(req.keystroke_samples(i)));
  if (req.keystroke_samples_size() > keys) b.keystrokes.resize(req.keystroke_samples_size());
  b.pointer.reserve(req.pointer_events_size());
  for (const pb::PointerEvent& e : req.pointer_events()) {
    b.pointer.push_back(
        {Enum<PointerKind>(e.kind(), 4), e.t_ms(), e.x(), e.y(), e.button(), e.delta()});
  }
  b.touch.reserve(req.touch_events_size());
  for (const pb::TouchEvent& e : req.touch_events()) {
    b.touch.push_back({Enum<TouchKind>(e.kind(), 3), e.t_ms(), e.touch_id(), e.x(), e.y(),
                       e.pressure(), e.radius()});
  }
  if (req.has_device()) {
    const pb::DeviceSignals& d = req.device();
    b.has_device = true;
    b.device.device_id = d.device_id();
    b.device.platform = d.platform();
    b.device.screen_width = d.screen_width();
    b.device.screen_height = d.screen_height();
    b.device.device_pixel_ratio = d.device_pixel_ratio();
    b.device.timezone = d.timezone();
    b.device.languages.assign(d.languages().begin(), d.languages().end());
    b.device.hardware_concurrency = d.hardware_concurrency();
    b.device.max_touch_points = d.max_touch_points();
  }
  if (req.has_context()) {
    b.has_context = true;
    b.context = FromProto(req.context());
  }
  for (const pb::AccessEvent& e : req.access_events()) {
    AccessEvent a;
    a.kind = Enum<AccessKind>(e.kind(), 4);
    if (e.has_occurred_at()) a.occurred_at = FromProto(e.occurred_at());
    a.action = e.action();
    b.access_events.push_back(std::move(a));
  }
  return b;
}

void DecisionToProto(const Decision& d, pb::SessionRisk* out) {
  out->set_decision_id(d.decision_id);
  out->set_session_id(d.session_id);
  out->set_user_id(d.user_id);
  out->set_risk(d.risk);
  out->set_confidence(d.confidence);
  out->set_action(static_cast<pb::AuthAction>(d.action));
  for (const ModalityScore& m : d.modality_scores) {
    pb::ModalityScore* p = out->add_modality_scores();
    p->set_modality(static_cast<pb::Modality>(m.modality));
    p->set_score(m.score);
    p->set_confidence(m.confidence);
    p->set_sample_count(m.sample_count);
  }
  for (const RiskReason& r : d.reasons) {
    pb::RiskReason* p = out->add_reasons();
    p->set_code(r.code);
    p->set_modality(static_cast<pb::Modality>(r.modality));
    p->set_description(r.description);
  }
  out->set_enrolled(d.enrolled);
  ToProto(d.decided_at, out->mutable_decided_at());
  ToProto(d.expires_at, out->mutable_expires_at());
}

grpc::Status ContAuthServiceImpl::IngestTelemetry(grpc::ServerContext* ctx,
                                                  const pb::IngestTelemetryRequest* req,
                                                  pb::IngestTelemetryResponse* resp) {
  if (auto s = Authorize(ctx, req->tenant_id(), kIngest); !s.ok()) return Fail(s);
  auto r = contauth_->Ingest(BatchFromProto(*req));
  if (!r.ok()) return Fail(r.status());
  resp->set_accepted_count(r->accepted_count);
  resp->set_duplicate(r->duplicate);
  ScoresToProto(r->sample_scores, resp->mutable_sample_scores());
  if (!r->risk.decision_id.empty()) DecisionToProto(r->risk, resp->mutable_risk());
  return grpc::Status::OK;
}

grpc::Status ContAuthServiceImpl::Score(grpc::ServerContext* ctx, const pb::ScoreRequest* req,
                                        pb::ScoreResponse* resp) {
  if (auto s = Authorize(ctx, req->tenant_id(), kScore); !s.ok()) return Fail(s);
  ScoreInput in;
  in.tenant_id = req->tenant_id();
  in.session_id = req->session_id();
  in.user_id = req->user_id();
  const int n =
      std::min(req->probe_samples_size(), static_cast<int>(kMaxKeystrokeSamplesPerBatch) + 1);
  for (int i = 0; i < n; ++i) in.probes.push_back(FromProto(req->probe_samples(i)));
  if (req->has_context()) {
    in.has_context = true;
    in.context = FromProto(req->context());
  }
  auto r = contauth_->Score(in);
  if (!r.ok()) return Fail(r.status());
  DecisionToProto(r->risk, resp->mutable_risk());
  ScoresToProto(r->sample_scores, resp->mutable_sample_scores());
  return grpc::Status::OK;
}

grpc::Status ContAuthServiceImpl::GetDecision(grpc::ServerContext* ctx,
                                              const pb::GetDecisionRequest* req,
                                              pb::GetDecisionResponse* resp) {
  if (auto s = Authorize(ctx, req->tenant_id(), kRead); !s.ok()) return Fail(s);
  auto r = contauth_->GetDecision(req->tenant_id(), req->session_id());
  if (!r.ok()) return Fail(r.status());
  DecisionToProto(*r, resp->mutable_risk());
  return grpc::Status::OK;
}

grpc::Status ContAuthServiceImpl::ReportChallengeOutcome(
    grpc::ServerContext* ctx, const pb::ReportChallengeOutcomeRequest* req,
    pb::ReportChallengeOutcomeResponse* resp) {
  if (auto s = Authorize(ctx, req->tenant_id(), kIngest); !s.ok()) return Fail(s);
  ChallengeInput in;
  in.tenant_id = req->tenant_id();
  in.session_id = req->session_id();
  in.decision_id = req->decision_id();
  in.kind = Enum<ChallengeKind>(req->kind(), 4);
  in.outcome = Enum<ChallengeOutcome>(req->outcome(), 4);
  in.idempotency_key = req->idempotency_key();
  auto r = contauth_->ReportChallengeOutcome(in);
  if (!r.ok()) return Fail(r.status());
  DecisionToProto(*r, resp->mutable_risk());
  return grpc::Status::OK;
}

grpc::Status ContAuthServiceImpl::GetProfileSummary(grpc::ServerContext* ctx,
                                                    const pb::GetProfileSummaryRequest* req,
                                                    pb::GetProfileSummaryResponse* resp) {
  if (auto s = Authorize(ctx, req->tenant_id(), kRead); !s.ok()) return Fail(s);
  auto r = contauth_->GetProfileSummary(req->tenant_id(), req->user_id());
  if (!r.ok()) return Fail(r.status());
  ToProto(*r, resp->mutable_profile());
  return grpc::Status::OK;
}

grpc::Status ContAuthServiceImpl::DeleteProfile(grpc::ServerContext* ctx,
                                                const pb::DeleteProfileRequest* req,
                                                pb::DeleteProfileResponse* resp) {
  if (auto s = Authorize(ctx, req->tenant_id(), kPrivacy); !s.ok()) return Fail(s);
  auto r = contauth_->DeleteProfile(req->tenant_id(), req->user_id());
  if (!r.ok()) return Fail(r.status());
  resp->set_deleted_feature_vectors(r->deleted_feature_vectors);
  resp->set_deleted_decisions(r->deleted_decisions);
  return grpc::Status::OK;
}

grpc::Status ContAuthServiceImpl::ExportProfile(grpc::ServerContext* ctx,
                                                const pb::ExportProfileRequest* req,
                                                pb::ExportProfileResponse* resp) {
  if (auto s = Authorize(ctx, req->tenant_id(), kPrivacy); !s.ok()) return Fail(s);
  auto r = contauth_->ExportProfile(req->tenant_id(), req->user_id());
  if (!r.ok()) return Fail(r.status());
  ToProto(r->profile, resp->mutable_profile());
  for (const FeatureVector& v : r->feature_vectors) {
    pb::ExportedFeatureVector* p = resp->add_feature_vectors();
    p->set_modality(static_cast<pb::Modality>(v.modality));
    p->set_text_id(v.text_id);
    for (const std::string& n : v.names) p->add_names(n);
    for (double x : v.values) p->add_values(x);
    if (v.recorded_at != absl::UnixEpoch()) ToProto(v.recorded_at, p->mutable_recorded_at());
  }
  for (const Decision& d : r->decisions) DecisionToProto(d, resp->add_decisions());
  for (const std::string& d : r->device_ids) resp->add_device_ids(d);
  for (const std::string& n : r->networks) resp->add_networks(n);
  return grpc::Status::OK;
}

grpc::Status ContAuthServiceImpl::GetPolicy(grpc::ServerContext* ctx,
                                            const pb::GetPolicyRequest* req,
                                            pb::GetPolicyResponse* resp) {
  if (auto s = Authorize(ctx, req->tenant_id(), kRead); !s.ok()) return Fail(s);
  auto r = contauth_->GetPolicy(req->tenant_id());
  if (!r.ok()) return Fail(r.status());
  ToProto(*r, resp->mutable_policy());
  return grpc::Status::OK;
}

grpc::Status ContAuthServiceImpl::UpdatePolicy(grpc::ServerContext* ctx,
                                               const pb::UpdatePolicyRequest* req,
                                               pb::UpdatePolicyResponse* resp) {
  if (auto s = Authorize(ctx, req->tenant_id(), kAdmin); !s.ok()) return Fail(s);
  const pb::ContAuthPolicy& p = req->policy();
  int64_t expected = 0;
  if (!p.etag().empty() && (!absl::SimpleAtoi(p.etag(), &expected) || expected < 0)) {
    return Fail(absl::InvalidArgumentError(absl::StrCat("policy.etag: \"", p.etag().substr(0, 32),
                                                        "\" is not an etag from GetPolicy")));
  }
  Policy policy;
  policy.monitor_at = p.monitor_at();
  policy.challenge_at = p.challenge_at();
  policy.deny_at = p.deny_at();
  policy.decision_ttl_ms = p.decision_ttl_ms();
  policy.decision_retention_days = p.decision_retention_days();
  policy.min_enroll_samples = p.min_enroll_samples();
  auto r = contauth_->UpdatePolicy(req->tenant_id(), policy, expected);
  if (!r.ok()) return Fail(r.status());
  ToProto(*r, resp->mutable_policy());
  return grpc::Status::OK;
}

}  // namespace shieldx::contauth
