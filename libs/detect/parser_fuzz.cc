// libFuzzer target for the request parser, the normaliser and the detectors
// (built with -DSHIELDX_FUZZ=ON and clang). Input layout: the first byte selects the body
// content type (its value modulo 6) and a content coding (bits 6-7: none, gzip, br, or
// deflate then gzip), the rest is split at the first 0xFF into request-target and body. The
// start of the rest is also sent as a cookie (and as a legacy "$Version" cookie with a quoted
// value), a User-Agent, Basic credentials, forwarding headers, a free-form header, a Connection
// option and the Host; bit 5 of the first byte sends the request-target in absolute form.
#include <cstddef>
#include <cstdint>
#include <string>

#include "libs/detect/inspector.h"
#include "libs/detect/normalize.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace shieldx::detect;
  static const Inspector* inspector = Inspector::Create(Profile::Default()).value().release();
  static Scratch* scratch = inspector->NewScratch().release();
  if (size == 0) return 0;
  static const char* kTypes[] = {"application/x-www-form-urlencoded",
                                 "application/json",
                                 "multipart/form-data; boundary=B",
                                 "text/xml",
                                 "text/plain",
                                 "multipart/form-data"};
  std::string in(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::size_t split = in.find('\xff');
  OwnedHttpRequest r;
  r.method = "POST";
  r.uri = ((data[0] & 0x20) ? "http://" : "/") + in.substr(0, split);
  r.body = split == std::string::npos ? std::string() : in.substr(split + 1);
  r.headers = {{"Host", in.substr(0, 40)},
               {"Cookie", "$Version=1; q=\"" + in.substr(0, 48) + "\""},
               {"Connection", in.substr(0, 24)},
               {"Content-Type", kTypes[data[0] % (sizeof(kTypes) / sizeof(kTypes[0]))]},
               {"Cookie", in.substr(0, 64)},
               {"User-Agent", in.substr(0, 32)},
               {"Authorization", "Basic " + in.substr(0, 48)},
               {"Forwarded", in.substr(0, 64)},
               {"X-Forwarded-For", "192.0.2.1, " + in.substr(0, 32)},
               {"X-Client-Data", in.substr(0, 96)}};
  static const char* kCodings[] = {nullptr, "gzip", "br", "deflate, gzip"};
  if (const char* coding = kCodings[data[0] >> 6])
    r.headers.push_back({"Content-Encoding", coding});
  inspector->Inspect(r.view(), *scratch);
  Arena arena(4096);
  Normalize(in, arena);
  int escapes = 0;
  NormalizePath(in, arena, &escapes);
  DecodePlausibleBase64(in, arena);
  return 0;
}
