#include "services/contauth/model/keystroke_profile.h"

#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "services/contauth/model/features.h"

namespace shieldx::contauth {
namespace {

constexpr char kMagic[4] = {'S', 'X', 'K', 'P'};

class Writer {
 public:
  void U32(uint32_t v) {
    for (int i = 0; i < 4; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  void U64(uint64_t v) {
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  void F32(float f) {
    uint32_t bits = 0;
    std::memcpy(&bits, &f, sizeof bits);
    U32(bits);
  }
  void Floats(const std::vector<float>& v) {
    U32(static_cast<uint32_t>(v.size()));
    for (float f : v) F32(f);
  }
  void Bytes(const char* p, std::size_t n) { out_.append(p, n); }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  absl::Status U32(const char* field, uint32_t* v) {
    if (in_.size() - pos_ < 4) return Truncated(field);
    *v = 0;
    for (int i = 0; i < 4; ++i)
      *v |= static_cast<uint32_t>(static_cast<uint8_t>(in_[pos_++])) << (8 * i);
    return absl::OkStatus();
  }
  absl::Status U64(const char* field, uint64_t* v) {
    if (in_.size() - pos_ < 8) return Truncated(field);
    *v = 0;
    for (int i = 0; i < 8; ++i)
      *v |= static_cast<uint64_t>(static_cast<uint8_t>(in_[pos_++])) << (8 * i);
    return absl::OkStatus();
  }
  absl::Status F32(const char* field, float* f) {
    uint32_t bits = 0;
    if (auto s = U32(field, &bits); !s.ok()) return s;
    std::memcpy(f, &bits, sizeof bits);
    if (!std::isfinite(*f)) {
      return absl::InvalidArgumentError(absl::StrCat("profile: non-finite value in ", field));
    }
    return absl::OkStatus();
  }
  // A float array whose length must be a multiple of `row` and at most `max_rows` rows.
  absl::Status Floats(const char* field, std::size_t row, std::size_t max_rows,
                      std::vector<float>* v) {
    uint32_t n = 0;
    if (auto s = U32(field, &n); !s.ok()) return s;
    if (row == 0 || n % row != 0 || n / row > max_rows) {
      return absl::InvalidArgumentError(absl::StrCat("profile: ", field, " has ", n,
                                                     " floats (rows of ", row, ", at most ",
                                                     max_rows, " rows)"));
    }
    if ((in_.size() - pos_) / 4 < n) return Truncated(field);
    v->resize(n);
    for (uint32_t i = 0; i < n; ++i) {
      if (auto s = F32(field, &(*v)[i]); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
  std::size_t remaining() const { return in_.size() - pos_; }

 private:
  absl::Status Truncated(const char* field) const {
    return absl::InvalidArgumentError(
        absl::StrCat("profile: truncated at byte ", pos_, " reading ", field));
  }
  std::string_view in_;
  std::size_t pos_ = 0;
};

void WriteStats(Writer& w, const std::vector<TimingStat>& stats) {
  w.U32(static_cast<uint32_t>(stats.size()));
  for (const TimingStat& s : stats) {
    w.U64(s.id);
    w.U32(s.count);
    w.F32(s.mean_ms);
    w.F32(s.m2);
  }
}

absl::Status ReadStats(Reader& r, const char* field, std::vector<TimingStat>* stats) {
  uint32_t n = 0;
  if (auto s = r.U32(field, &n); !s.ok()) return s;
  if (n > kMaxTimingStats) {
    return absl::InvalidArgumentError(
        absl::StrCat("profile: ", field, " has ", n, " entries (limit ", kMaxTimingStats, ")"));
  }
  stats->resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    TimingStat& t = (*stats)[i];
    if (auto s = r.U64(field, &t.id); !s.ok()) return s;
    if (auto s = r.U32(field, &t.count); !s.ok()) return s;
    if (auto s = r.F32(field, &t.mean_ms); !s.ok()) return s;
    if (auto s = r.F32(field, &t.m2); !s.ok()) return s;
    if (t.m2 < 0 || (i > 0 && (*stats)[i - 1].id >= t.id)) {
      return absl::InvalidArgumentError(
          absl::StrCat("profile: ", field, " entry ", i, " is unsorted or has negative m2"));
    }
  }
  return absl::OkStatus();
}

absl::Status ReadTemplate(Reader& r, std::size_t index, FixedTextTemplate* t) {
  if (auto s = r.U64("template.text_id", &t->text_id); !s.ok()) return s;
  if (auto s = r.U32("template.key_count", &t->key_count); !s.ok()) return s;
  if (t->key_count < 2 || t->key_count > kMaxFixedTextKeys) {
    return absl::InvalidArgumentError(absl::StrCat("profile: template ", index, " has ",
                                                   t->key_count, " keys (must be 2..",
                                                   kMaxFixedTextKeys, ")"));
  }
  t->dims = static_cast<uint32_t>(FixedTextDims(t->key_count));
  if (auto s = r.Floats("template.anchors", t->dims, kMaxAnchorSamples, &t->anchors); !s.ok()) {
    return s;
  }
  if (auto s = r.Floats("template.adaptive", t->dims, kMaxAdaptiveSamples, &t->adaptive); !s.ok()) {
    return s;
  }
  if (auto s = r.U32("template.adaptive_next", &t->adaptive_next); !s.ok()) return s;
  if (t->adaptive_next > t->adaptive_count() || t->adaptive_next >= kMaxAdaptiveSamples) {
    return absl::InvalidArgumentError(absl::StrCat("profile: template ", index, " adaptive_next ",
                                                   t->adaptive_next, " out of range"));
  }
  return absl::OkStatus();
}

}  // namespace

const FixedTextTemplate* KeystrokeProfile::FindTemplate(uint64_t text_id) const {
  for (const FixedTextTemplate& t : templates) {
    if (t.text_id == text_id) return &t;
  }
  return nullptr;
}

FixedTextTemplate* KeystrokeProfile::FindTemplate(uint64_t text_id) {
  for (FixedTextTemplate& t : templates) {
    if (t.text_id == text_id) return &t;
  }
  return nullptr;
}

std::string SerializeProfile(const KeystrokeProfile& profile) {
  Writer w;
  w.Bytes(kMagic, sizeof kMagic);
  w.U32(kProfileFormatVersion);
  w.U64(profile.enrolled_samples);
  w.U64(profile.adaptive_updates);
  w.U32(static_cast<uint32_t>(profile.templates.size()));
  for (const FixedTextTemplate& t : profile.templates) {
    w.U64(t.text_id);
    w.U32(t.key_count);
    w.Floats(t.anchors);
    w.Floats(t.adaptive);
    w.U32(t.adaptive_next);
  }
  WriteStats(w, profile.holds);
  WriteStats(w, profile.digraphs);
  return w.Take();
}

absl::StatusOr<KeystrokeProfile> DeserializeProfile(std::string_view bytes) {
  if (bytes.size() > kMaxProfileBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("profile: ", bytes.size(), " bytes (limit ", kMaxProfileBytes, ")"));
  }
  if (bytes.size() < 8 || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) {
    return absl::InvalidArgumentError("profile: bad magic (not a keystroke profile)");
  }
  Reader r(bytes.substr(sizeof kMagic));
  uint32_t version = 0;
  if (auto s = r.U32("version", &version); !s.ok()) return s;
  if (version != kProfileFormatVersion) {
    return absl::FailedPreconditionError(absl::StrCat("profile: format version ", version,
                                                      " is not supported (this build reads ",
                                                      kProfileFormatVersion, ")"));
  }
  KeystrokeProfile p;
  if (auto s = r.U64("enrolled_samples", &p.enrolled_samples); !s.ok()) return s;
  if (auto s = r.U64("adaptive_updates", &p.adaptive_updates); !s.ok()) return s;
  uint32_t templates = 0;
  if (auto s = r.U32("template_count", &templates); !s.ok()) return s;
  if (templates > kMaxTemplatesPerProfile) {
    return absl::InvalidArgumentError(
        absl::StrCat("profile: ", templates, " templates (limit ", kMaxTemplatesPerProfile, ")"));
  }
  p.templates.resize(templates);
  for (uint32_t i = 0; i < templates; ++i) {
    if (auto s = ReadTemplate(r, i, &p.templates[i]); !s.ok()) return s;
    for (uint32_t j = 0; j < i; ++j) {
      if (p.templates[j].text_id == p.templates[i].text_id) {
        return absl::InvalidArgumentError(
            absl::StrCat("profile: templates ", j, " and ", i, " share a text id"));
      }
    }
  }
  if (auto s = ReadStats(r, "holds", &p.holds); !s.ok()) return s;
  if (auto s = ReadStats(r, "digraphs", &p.digraphs); !s.ok()) return s;
  if (r.remaining() != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("profile: ", r.remaining(), " trailing bytes after the last field"));
  }
  return p;
}

}  // namespace shieldx::contauth
