#include "libs/spoe/headers.h"

#include "absl/strings/str_cat.h"
#include "libs/spoe/codec.h"

namespace shieldx::spoe {
namespace {

absl::Status ReadString(std::string_view* in, std::size_t max_bytes, const char* what,
                        std::string_view* out) {
  uint64_t length = 0;
  if (!ReadVarint(in, &length).ok()) {
    return absl::InvalidArgumentError(absl::StrCat("header block: truncated ", what, " length"));
  }
  if (length > in->size()) {
    return absl::InvalidArgumentError(absl::StrCat("header block: ", what, " of ", length,
                                                   " bytes but only ", in->size(), " remain"));
  }
  if (length > max_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat("header block: ", what, " of ", length,
                                                     " bytes exceeds the limit of ", max_bytes));
  }
  *out = in->substr(0, length);
  in->remove_prefix(length);
  return absl::OkStatus();
}

}  // namespace

absl::Status DecodeBinaryHeaders(std::string_view block, const HeaderBlockLimits& limits,
                                 std::vector<BinaryHeader>* out) {
  std::size_t count = 0;
  while (true) {
    if (block.empty()) {
      return absl::InvalidArgumentError("header block: missing the terminating empty pair");
    }
    BinaryHeader h;
    if (absl::Status s = ReadString(&block, limits.max_name_bytes, "header name", &h.name);
        !s.ok()) {
      return s;
    }
    if (absl::Status s = ReadString(&block, limits.max_value_bytes, "header value", &h.value);
        !s.ok()) {
      return s;
    }
    if (h.name.empty()) {
      if (!h.value.empty()) {
        return absl::InvalidArgumentError("header block: value without a header name");
      }
      if (!block.empty()) {
        return absl::InvalidArgumentError(absl::StrCat("header block: ", block.size(),
                                                       " bytes after the terminating empty pair"));
      }
      return absl::OkStatus();
    }
    if (++count > limits.max_headers) {
      return absl::ResourceExhaustedError(
          absl::StrCat("header block: more than ", limits.max_headers, " headers"));
    }
    out->push_back(h);
  }
}

std::string EncodeBinaryHeaders(const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string out;
  for (const auto& [name, value] : headers) {
    AppendVarint(name.size(), &out);
    out.append(name);
    AppendVarint(value.size(), &out);
    out.append(value);
  }
  AppendVarint(0, &out);
  AppendVarint(0, &out);
  return out;
}

}  // namespace shieldx::spoe
