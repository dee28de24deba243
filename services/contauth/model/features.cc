#include "services/contauth/model/features.h"

#include "libs/base/check.h"

namespace shieldx::contauth {
namespace {

constexpr uint64_t kFnvOffset = 1469598103934665603ULL;
constexpr uint64_t kFnvPrime = 1099511628211ULL;

uint64_t FnvMix(uint64_t h, uint64_t v) {
  for (int i = 0; i < 8; ++i) {
    h ^= (v >> (8 * i)) & 0xff;
    h *= kFnvPrime;
  }
  return h;
}

}  // namespace

uint64_t KeyId(std::string_view key) {
  uint64_t h = kFnvOffset;
  for (unsigned char c : key) {
    h ^= c;
    h *= kFnvPrime;
  }
  return h;
}

uint64_t DigraphId(uint64_t first_key_id, uint64_t second_key_id) {
  return FnvMix(FnvMix(kFnvOffset, first_key_id), second_key_id);
}

uint64_t TextId(const KeystrokeSample& sample) {
  uint64_t h = FnvMix(kFnvOffset, sample.events.size());
  for (const KeyEvent& e : sample.events) h = FnvMix(h, KeyId(e.key));
  return h;
}

bool ExtractFixedText(const KeystrokeSample& sample, FixedTextFeatures* out) {
  const std::size_t n = sample.events.size();
  if (n < 2 || n > kMaxFixedTextKeys) return false;
  out->text_id = TextId(sample);
  out->key_count = static_cast<uint32_t>(n);
  out->dims = static_cast<uint32_t>(FixedTextDims(n));
  float* hold = out->values.data();
  float* dd = hold + n;
  float* ud = dd + (n - 1);
  for (std::size_t i = 0; i < n; ++i) {
    const KeyEvent& e = sample.events[i];
    hold[i] = static_cast<float>(e.up_ms - e.down_ms);
    if (i + 1 < n) {
      const KeyEvent& next = sample.events[i + 1];
      dd[i] = static_cast<float>(next.down_ms - e.down_ms);
      ud[i] = static_cast<float>(next.down_ms - e.up_ms);
    }
  }
  SHIELDX_CHECK(ud + (n - 1) == out->values.data() + out->dims);
  return true;
}

void ExtractFreeText(const KeystrokeSample& sample, std::vector<TimingObservation>* holds,
                     std::vector<TimingObservation>* digraphs) {
  holds->clear();
  digraphs->clear();
  uint64_t previous_id = 0;
  for (std::size_t i = 0; i < sample.events.size(); ++i) {
    const KeyEvent& e = sample.events[i];
    const uint64_t id = KeyId(e.key);
    holds->push_back({id, static_cast<float>(e.up_ms - e.down_ms)});
    if (i > 0) {
      digraphs->push_back({DigraphId(previous_id, id),
                           static_cast<float>(e.down_ms - sample.events[i - 1].down_ms)});
    }
    previous_id = id;
  }
}

}  // namespace shieldx::contauth
