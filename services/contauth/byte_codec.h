// Little-endian byte writer / bounds-checked reader for contauth's stored formats
// (user_model.h, session_state.h). The reader never reads past the end: every getter returns
// false once the input is exhausted, and callers turn that into InvalidArgument.
//
// Thread-safety: plain values, one owner.
#ifndef SHIELDX_SERVICES_CONTAUTH_BYTE_CODEC_H_
#define SHIELDX_SERVICES_CONTAUTH_BYTE_CODEC_H_

#include <cstdint>
#include <cstring>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace shieldx::contauth {

class ByteWriter {
 public:
  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U32(uint32_t v) { Raw(&v, 4); }
  void U64(uint64_t v) { Raw(&v, 8); }
  void I64(int64_t v) { Raw(&v, 8); }
  void F32(float v) { Raw(&v, 4); }
  void F64(double v) { Raw(&v, 8); }
  void Time(absl::Time t) { I64(absl::ToUnixMicros(t)); }
  void Str(absl::string_view s) {
    U32(static_cast<uint32_t>(s.size()));
    out_.append(s.data(), s.size());
  }
  std::string Take() { return std::move(out_); }

 private:
  // The build targets are little-endian (x86-64, arm64); the format is defined as LE.
  void Raw(const void* p, std::size_t n) { out_.append(static_cast<const char*>(p), n); }
  std::string out_;
};

class ByteReader {
 public:
  explicit ByteReader(absl::string_view in) : in_(in) {}
  bool U8(uint8_t* v) { return Raw(v, 1); }
  bool U32(uint32_t* v) { return Raw(v, 4); }
  bool U64(uint64_t* v) { return Raw(v, 8); }
  bool I64(int64_t* v) { return Raw(v, 8); }
  bool F32(float* v) { return Raw(v, 4); }
  bool F64(double* v) { return Raw(v, 8); }
  bool Time(absl::Time* t) {
    int64_t us = 0;
    if (!I64(&us)) return false;
    *t = absl::FromUnixMicros(us);
    return true;
  }
  // Strings longer than `max` fail (bounds memory on corrupt input).
  bool Str(std::string* s, std::size_t max) {
    uint32_t n = 0;
    if (!U32(&n) || n > max || n > in_.size() - pos_) return false;
    s->assign(in_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  std::size_t remaining() const { return in_.size() - pos_; }
  std::size_t position() const { return pos_; }

 private:
  bool Raw(void* p, std::size_t n) {
    if (in_.size() - pos_ < n) return false;
    std::memcpy(p, in_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  absl::string_view in_;
  std::size_t pos_ = 0;
};

}  // namespace shieldx::contauth

#endif  // SHIELDX_SERVICES_CONTAUTH_BYTE_CODEC_H_
