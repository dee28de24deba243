// HAProxy's binary header block (the `req.hdrs_bin` / `res.hdrs_bin` sample fetches), the
// form in which the SPOE front end receives request headers:
//
//   *( <varint name-length> <name> <varint value-length> <value> ) <0> <0>
//
// (lengths use the SPOP varint encoding; a pair of empty strings ends the list).
//
// Thread-safety: pure functions.
#ifndef SHIELDX_LIBS_SPOE_HEADERS_H_
#define SHIELDX_LIBS_SPOE_HEADERS_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace shieldx::spoe {

struct BinaryHeader {
  std::string_view name;
  std::string_view value;
};

struct HeaderBlockLimits {
  std::size_t max_headers = 128;
  std::size_t max_name_bytes = 256;
  std::size_t max_value_bytes = 16 * 1024;
};

// Decodes `block` into views of it, appended to `*out` in wire order. InvalidArgument when a
// length runs past the block, a name is empty but its value is not, the terminating empty
// pair is missing, or bytes follow it; ResourceExhausted when a limit is exceeded (the
// message names the limit and the count).
absl::Status DecodeBinaryHeaders(std::string_view block, const HeaderBlockLimits& limits,
                                 std::vector<BinaryHeader>* out);

// The inverse (tests, tools).
std::string EncodeBinaryHeaders(const std::vector<std::pair<std::string, std::string>>& headers);

}  // namespace shieldx::spoe

#endif  // SHIELDX_LIBS_SPOE_HEADERS_H_
