#include "services/contauth/session_state.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "services/contauth/byte_codec.h"

namespace shieldx::contauth {
namespace {

constexpr absl::string_view kMagic = "SXSS";
constexpr double kEwma = 0.4;  // weight of the newest sample
constexpr std::size_t kMaxText = 1024;

absl::Status Corrupt(absl::string_view part) {
  return absl::InvalidArgumentError(absl::StrCat("session state: corrupt or truncated ", part));
}

void PutObservation(ByteWriter& w, const ContextObservation& o) {
  w.Time(o.at);
  w.Str(o.device_id);
  w.Str(o.fingerprint);
  w.Str(o.network);
  w.Str(o.country);
  w.Str(o.agent);
  w.U8(o.has_location ? 1 : 0);
  w.F64(o.latitude);
  w.F64(o.longitude);
}

bool GetObservation(ByteReader& r, ContextObservation* o) {
  uint8_t loc = 0;
  if (!r.Time(&o->at) || !r.Str(&o->device_id, kMaxText) || !r.Str(&o->fingerprint, kMaxText) ||
      !r.Str(&o->network, kMaxText) || !r.Str(&o->country, kMaxText) ||
      !r.Str(&o->agent, kMaxText) || !r.U8(&loc) || !r.F64(&o->latitude) || !r.F64(&o->longitude)) {
    return false;
  }
  o->has_location = loc != 0;
  return true;
}

}  // namespace

void ModalityAccumulator::Add(double score, double sample_confidence) {
  const double s = std::clamp(score, 0.001, 0.999);
  const double l = std::log(s / (1 - s));
  if (samples == 0) {
    logit = l;
    confidence = sample_confidence;
  } else {
    logit = (1 - kEwma) * logit + kEwma * l;
    confidence = (1 - kEwma) * confidence + kEwma * sample_confidence;
  }
  last_score = score;
  if (samples < 1'000'000) ++samples;
}

double ModalityAccumulator::Score() const {
  return samples == 0 ? 0.5 : 1.0 / (1.0 + std::exp(-logit));
}

double ModalityAccumulator::EffectiveConfidence() const {
  return samples == 0 ? 0 : confidence * samples / (samples + 1.0);
}

bool SessionState::SeenSequence(uint64_t sequence) const {
  if (sequence == 0) return false;
  if (applied_sequences.size() >= kSequenceWindow && sequence < applied_sequences.front()) {
    return true;
  }
  return std::binary_search(applied_sequences.begin(), applied_sequences.end(), sequence);
}

void SessionState::RecordSequence(uint64_t sequence) {
  if (sequence == 0 || SeenSequence(sequence)) return;
  applied_sequences.insert(
      std::upper_bound(applied_sequences.begin(), applied_sequences.end(), sequence), sequence);
  while (applied_sequences.size() > kSequenceWindow) {
    applied_sequences.erase(applied_sequences.begin());
  }
}

void SessionState::AddPending(const FixedTextFeatures& f) {
  if (pending.size() >= kMaxPendingVectors) pending.erase(pending.begin());
  pending.push_back(f);
}

std::string SerializeSessionState(const SessionState& s) {
  ByteWriter w;
  for (char c : kMagic) w.U8(static_cast<uint8_t>(c));
  w.U32(kSessionFormatVersion);
  w.Str(s.user_id);
  w.U32(static_cast<uint32_t>(s.applied_sequences.size()));
  for (uint64_t q : s.applied_sequences) w.U64(q);
  for (const ModalityAccumulator& a : s.modalities) {
    w.U32(a.samples);
    w.F64(a.logit);
    w.F64(a.confidence);
    w.F64(a.last_score);
  }
  w.U32(static_cast<uint32_t>(s.context_reasons.size()));
  for (const RiskReason& r : s.context_reasons) {
    w.Str(r.code);
    w.Str(r.description);
    w.F64(r.weight);
  }
  w.F64(s.context_score);
  w.F64(s.context_confidence);
  w.U8(s.has_context ? 1 : 0);
  w.U32(static_cast<uint32_t>(s.pending.size()));
  for (const FixedTextFeatures& f : s.pending) {
    w.U64(f.text_id);
    w.U32(f.key_count);
    w.U32(f.dims);
    for (uint32_t i = 0; i < f.dims; ++i) w.F32(f.values[i]);
  }
  w.U8(s.has_last_context ? 1 : 0);
  if (s.has_last_context) PutObservation(w, s.last_context);
  w.F64(s.challenge_logit);
  w.U8(s.verified ? 1 : 0);
  w.Str(s.last_decision_id);
  w.Time(s.created_at);
  w.Time(s.updated_at);
  return w.Take();
}

absl::StatusOr<SessionState> DeserializeSessionState(absl::string_view bytes) {
  if (bytes.size() > kMaxSessionBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("session state: ", bytes.size(), " bytes (limit ", kMaxSessionBytes, ")"));
  }
  ByteReader r(bytes);
  for (char c : kMagic) {
    uint8_t b = 0;
    if (!r.U8(&b) || b != static_cast<uint8_t>(c)) return Corrupt("magic");
  }
  uint32_t version = 0;
  if (!r.U32(&version)) return Corrupt("version");
  if (version != kSessionFormatVersion) {
    return absl::FailedPreconditionError(absl::StrCat("session state: format version ", version,
                                                      " (this build reads ", kSessionFormatVersion,
                                                      ")"));
  }
  SessionState s;
  uint32_t n = 0;
  if (!r.Str(&s.user_id, kMaxIdBytes)) return Corrupt("user");
  if (!r.U32(&n) || n > kSequenceWindow) return Corrupt("sequences");
  s.applied_sequences.resize(n);
  for (uint64_t& q : s.applied_sequences) {
    if (!r.U64(&q)) return Corrupt("sequences");
  }
  if (!std::is_sorted(s.applied_sequences.begin(), s.applied_sequences.end())) {
    return Corrupt("sequences (unsorted)");
  }
  for (ModalityAccumulator& a : s.modalities) {
    if (!r.U32(&a.samples) || !r.F64(&a.logit) || !r.F64(&a.confidence) || !r.F64(&a.last_score) ||
        !std::isfinite(a.logit) || !std::isfinite(a.confidence)) {
      return Corrupt("modality evidence");
    }
  }
  if (!r.U32(&n) || n > kMaxSessionReasons) return Corrupt("reasons");
  s.context_reasons.resize(n);
  for (RiskReason& reason : s.context_reasons) {
    reason.modality = Modality::kContext;
    if (!r.Str(&reason.code, kMaxText) || !r.Str(&reason.description, kMaxText) ||
        !r.F64(&reason.weight)) {
      return Corrupt("reasons");
    }
  }
  uint8_t flag = 0;
  if (!r.F64(&s.context_score) || !r.F64(&s.context_confidence) || !r.U8(&flag)) {
    return Corrupt("context");
  }
  s.has_context = flag != 0;
  if (!r.U32(&n) || n > kMaxPendingVectors) return Corrupt("pending vectors");
  s.pending.resize(n);
  for (FixedTextFeatures& f : s.pending) {
    if (!r.U64(&f.text_id) || !r.U32(&f.key_count) || !r.U32(&f.dims) ||
        f.dims > kMaxFixedTextDims || f.dims != FixedTextDims(f.key_count)) {
      return Corrupt("pending vectors");
    }
    for (uint32_t i = 0; i < f.dims; ++i) {
      if (!r.F32(&f.values[i]) || !std::isfinite(f.values[i])) return Corrupt("pending vectors");
    }
  }
  if (!r.U8(&flag)) return Corrupt("last context");
  s.has_last_context = flag != 0;
  if (s.has_last_context && !GetObservation(r, &s.last_context)) return Corrupt("last context");
  if (!r.F64(&s.challenge_logit) || !std::isfinite(s.challenge_logit) || !r.U8(&flag)) {
    return Corrupt("challenge");
  }
  s.verified = flag != 0;
  if (!r.Str(&s.last_decision_id, kMaxIdBytes) || !r.Time(&s.created_at) ||
      !r.Time(&s.updated_at)) {
    return Corrupt("bookkeeping");
  }
  if (r.remaining() != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("session state: ", r.remaining(), " trailing bytes"));
  }
  return s;
}

}  // namespace shieldx::contauth
