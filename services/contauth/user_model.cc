#include "services/contauth/user_model.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "services/contauth/byte_codec.h"
#include "services/contauth/model/keystroke_model.h"

namespace shieldx::contauth {
namespace {

constexpr absl::string_view kMagic = "SXUM";
constexpr std::size_t kMaxItemBytes = 256;

void PutMotion(ByteWriter& w, const MotionProfile& p) {
  for (const MotionStat& s : p.stats) {
    w.U32(s.count);
    w.F32(s.mean);
    w.F32(s.m2);
  }
  w.U64(p.batches);
}

bool GetMotion(ByteReader& r, MotionProfile* p) {
  for (MotionStat& s : p->stats) {
    if (!r.U32(&s.count) || !r.F32(&s.mean) || !r.F32(&s.m2)) return false;
    if (!std::isfinite(s.mean) || !std::isfinite(s.m2) || s.count > kMotionMemory) return false;
  }
  return r.U64(&p->batches);
}

void PutItems(ByteWriter& w, const std::vector<KnownItem>& items) {
  w.U32(static_cast<uint32_t>(items.size()));
  for (const KnownItem& i : items) {
    w.Str(i.value);
    w.U32(i.count);
    w.Time(i.last_seen);
  }
}

bool GetItems(ByteReader& r, std::vector<KnownItem>* items, std::size_t cap) {
  uint32_t n = 0;
  if (!r.U32(&n) || n > cap) return false;
  items->resize(n);
  for (KnownItem& i : *items) {
    if (!r.Str(&i.value, kMaxItemBytes) || !r.U32(&i.count) || !r.Time(&i.last_seen)) return false;
  }
  return true;
}

absl::Status Corrupt(absl::string_view part) {
  return absl::InvalidArgumentError(absl::StrCat("user model: corrupt or truncated ", part));
}

std::string Hex(uint64_t v) { return absl::StrFormat("%016x", v); }

}  // namespace

void UserModel::SetLabel(uint64_t text_id, absl::string_view label) {
  if (label.empty()) return;
  for (TextLabel& l : text_labels) {
    if (l.text_id == text_id) {
      l.label = std::string(label);
      return;
    }
  }
  if (text_labels.size() >= kMaxTemplatesPerProfile) text_labels.erase(text_labels.begin());
  text_labels.push_back({text_id, std::string(label)});
}

std::string UserModel::LabelOf(uint64_t text_id) const {
  for (const TextLabel& l : text_labels) {
    if (l.text_id == text_id) return l.label;
  }
  return "";
}

std::string SerializeUserModel(const UserModel& m) {
  ByteWriter w;
  for (char c : kMagic) w.U8(static_cast<uint8_t>(c));
  w.U32(kUserModelFormatVersion);
  w.Str(SerializeProfile(m.keystroke));
  w.U32(static_cast<uint32_t>(m.text_labels.size()));
  for (const TextLabel& l : m.text_labels) {
    w.U64(l.text_id);
    w.Str(l.label);
  }
  w.U32(m.free_text_samples);
  PutMotion(w, m.pointer);
  PutMotion(w, m.touch);
  const ContextProfile& c = m.context;
  PutItems(w, c.devices);
  PutItems(w, c.fingerprints);
  PutItems(w, c.networks);
  PutItems(w, c.countries);
  PutItems(w, c.agents);
  for (float h : c.hours) w.F32(h);
  w.U64(c.observations);
  w.U8(c.has_fix ? 1 : 0);
  w.F64(c.fix_latitude);
  w.F64(c.fix_longitude);
  w.Time(c.fix_at);
  w.Time(m.created_at);
  w.Time(m.updated_at);
  for (absl::Time t : m.modality_updated_at) w.Time(t);
  return w.Take();
}

absl::StatusOr<UserModel> DeserializeUserModel(absl::string_view bytes) {
  if (bytes.size() > kMaxUserModelBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("user model: ", bytes.size(), " bytes (limit ", kMaxUserModelBytes, ")"));
  }
  ByteReader r(bytes);
  for (char c : kMagic) {
    uint8_t b = 0;
    if (!r.U8(&b) || b != static_cast<uint8_t>(c)) return Corrupt("magic");
  }
  uint32_t version = 0;
  if (!r.U32(&version)) return Corrupt("version");
  if (version != kUserModelFormatVersion) {
    return absl::FailedPreconditionError(absl::StrCat("user model: format version ", version,
                                                      " (this build reads ",
                                                      kUserModelFormatVersion, ")"));
  }
  UserModel m;
  std::string ks;
  if (!r.Str(&ks, kMaxProfileBytes)) return Corrupt("keystroke profile");
  absl::StatusOr<KeystrokeProfile> profile = DeserializeProfile(ks);
  if (!profile.ok()) return profile.status();
  m.keystroke = std::move(*profile);
  uint32_t labels = 0;
  if (!r.U32(&labels) || labels > kMaxTemplatesPerProfile) return Corrupt("text labels");
  m.text_labels.resize(labels);
  for (TextLabel& l : m.text_labels) {
    if (!r.U64(&l.text_id) || !r.Str(&l.label, kMaxItemBytes)) return Corrupt("text labels");
  }
  if (!r.U32(&m.free_text_samples)) return Corrupt("free text count");
  if (!GetMotion(r, &m.pointer)) return Corrupt("pointer profile");
  if (!GetMotion(r, &m.touch)) return Corrupt("touch profile");
  ContextProfile& c = m.context;
  if (!GetItems(r, &c.devices, kMaxKnownDevices) ||
      !GetItems(r, &c.fingerprints, kMaxKnownFingerprints) ||
      !GetItems(r, &c.networks, kMaxKnownNetworks) ||
      !GetItems(r, &c.countries, kMaxKnownCountries) || !GetItems(r, &c.agents, kMaxKnownAgents)) {
    return Corrupt("context lists");
  }
  for (float& h : c.hours) {
    if (!r.F32(&h) || !std::isfinite(h) || h < 0) return Corrupt("context hours");
  }
  uint8_t has_fix = 0;
  if (!r.U64(&c.observations) || !r.U8(&has_fix) || !r.F64(&c.fix_latitude) ||
      !r.F64(&c.fix_longitude) || !r.Time(&c.fix_at)) {
    return Corrupt("context location");
  }
  c.has_fix = has_fix != 0;
  if (!r.Time(&m.created_at) || !r.Time(&m.updated_at)) return Corrupt("timestamps");
  for (absl::Time& t : m.modality_updated_at) {
    if (!r.Time(&t)) return Corrupt("timestamps");
  }
  if (r.remaining() != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("user model: ", r.remaining(), " trailing bytes"));
  }
  return m;
}

bool KeystrokeEnrolled(const UserModel& m, uint32_t min_enroll_samples) {
  for (const FixedTextTemplate& t : m.keystroke.templates) {
    if (t.sample_count() >= min_enroll_samples) return true;
  }
  return false;
}

std::vector<FeatureVector> ExportFeatureVectors(const UserModel& m) {
  std::vector<FeatureVector> out;
  const auto at = [&m](Modality mod) { return m.modality_updated_at[static_cast<int>(mod)]; };
  for (const FixedTextTemplate& t : m.keystroke.templates) {
    std::vector<std::string> names;
    const uint32_t n = t.key_count;
    for (uint32_t i = 0; i < n; ++i) names.push_back(absl::StrCat("hold_ms[", i, "]"));
    for (uint32_t i = 0; i + 1 < n; ++i) names.push_back(absl::StrCat("down_down_ms[", i, "]"));
    for (uint32_t i = 0; i + 1 < n; ++i) names.push_back(absl::StrCat("up_down_ms[", i, "]"));
    const std::string label = m.LabelOf(t.text_id).empty() ? Hex(t.text_id) : m.LabelOf(t.text_id);
    auto emit = [&](const std::vector<float>& rows) {
      for (std::size_t r = 0; t.dims > 0 && (r + 1) * t.dims <= rows.size(); ++r) {
        FeatureVector v;
        v.modality = Modality::kKeystrokeFixed;
        v.text_id = label;
        v.names = names;
        v.values.assign(rows.begin() + r * t.dims, rows.begin() + (r + 1) * t.dims);
        v.recorded_at = at(Modality::kKeystrokeFixed);
        out.push_back(std::move(v));
      }
    };
    emit(t.anchors);
    emit(t.adaptive);
  }
  if (!m.keystroke.holds.empty() || !m.keystroke.digraphs.empty()) {
    FeatureVector v;
    v.modality = Modality::kKeystrokeFree;
    v.recorded_at = at(Modality::kKeystrokeFree);
    auto stats = [&v](const char* kind, const std::vector<TimingStat>& s) {
      for (const TimingStat& t : s) {
        const std::string id = absl::StrCat(kind, ":", Hex(t.id));
        const double var = t.count > 1 ? t.m2 / (t.count - 1) : 0;
        v.names.push_back(absl::StrCat(id, ".count"));
        v.values.push_back(t.count);
        v.names.push_back(absl::StrCat(id, ".mean_ms"));
        v.values.push_back(t.mean_ms);
        v.names.push_back(absl::StrCat(id, ".std_ms"));
        v.values.push_back(std::sqrt(std::max(0.0, var)));
      }
    };
    stats("hold", m.keystroke.holds);
    stats("digraph", m.keystroke.digraphs);
    out.push_back(std::move(v));
  }
  auto motion = [&](const MotionProfile& p, MotionKind kind, Modality mod) {
    if (p.batches == 0) return;
    FeatureVector v;
    v.modality = mod;
    v.recorded_at = at(mod);
    const auto& names = MotionFeatureNames(kind);
    for (std::size_t j = 0; j < kMotionFeatures; ++j) {
      const MotionStat& s = p.stats[j];
      const double var = s.count > 1 ? s.m2 / (s.count - 1) : 0;
      v.names.push_back(absl::StrCat(names[j], ".count"));
      v.values.push_back(s.count);
      v.names.push_back(absl::StrCat(names[j], ".mean"));
      v.values.push_back(s.mean);
      v.names.push_back(absl::StrCat(names[j], ".std"));
      v.values.push_back(std::sqrt(std::max(0.0, var)));
    }
    out.push_back(std::move(v));
  };
  motion(m.pointer, MotionKind::kPointer, Modality::kPointer);
  motion(m.touch, MotionKind::kTouch, Modality::kTouch);
  if (m.context.observations > 0) {
    FeatureVector v;
    v.modality = Modality::kContext;
    v.recorded_at = at(Modality::kContext);
    for (int h = 0; h < 24; ++h) {
      v.names.push_back(absl::StrFormat("active_hour_utc[%02d]", h));
      v.values.push_back(m.context.hours[h]);
    }
    for (const KnownItem& a : m.context.agents) {
      v.names.push_back(absl::StrCat("client_software:", a.value));
      v.values.push_back(a.count);
    }
    for (const KnownItem& c : m.context.countries) {
      v.names.push_back(absl::StrCat("country:", c.value));
      v.values.push_back(c.count);
    }
    if (m.context.has_fix) {
      v.names.push_back("last_latitude");
      v.values.push_back(m.context.fix_latitude);
      v.names.push_back("last_longitude");
      v.values.push_back(m.context.fix_longitude);
    }
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace shieldx::contauth
