// libFuzzer entry point: every decoder of the codec on arbitrary bytes. Build with
// -DSHIELDX_FUZZ=ON and clang; run: ./spoe_codec_fuzz -max_len=70000
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "libs/spoe/codec.h"
#include "libs/spoe/headers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  shieldx::spoe::DecodeLimits limits;
  std::size_t consumed = 0;
  (void)shieldx::spoe::NextFrame(in, 65532, &consumed);
  if (auto frame = shieldx::spoe::DecodeFrame(in); frame.ok()) {
    (void)shieldx::spoe::DecodeMessages(frame->payload, limits);
    if (auto kv = shieldx::spoe::DecodeKvList(frame->payload, limits); kv.ok()) {
      (void)shieldx::spoe::ParseHaproxyHello(*kv);
    }
    (void)shieldx::spoe::DecodeActions(frame->payload, limits);
  }
  std::vector<shieldx::spoe::BinaryHeader> headers;
  (void)shieldx::spoe::DecodeBinaryHeaders(in, {}, &headers);
  return 0;
}
