// Internal to libs/objstore: the S3 wire format pieces that need no network, exposed for tests.
// URI encoding as SigV4 canonicalizes it, query strings in canonical (sorted) order, and the
// few XML documents the client reads (ListObjectsV2 results and error bodies).
#ifndef SHIELDX_LIBS_OBJSTORE_S3_WIRE_H_
#define SHIELDX_LIBS_OBJSTORE_S3_WIRE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace shieldx::objstore {

// What Head / GetStream / List report about one object.
struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  std::string etag;          // without the surrounding quotes
  std::string content_type;  // empty in List results (S3 does not list it)
  absl::Time last_modified = absl::InfinitePast();
};

struct ListResult {
  std::vector<ObjectInfo> objects;
  bool truncated = false;
  // Pass as ListOptions::continuation_token to get the next page; empty on the last page.
  std::string next_continuation_token;
};

namespace internal {

// RFC 3986 percent-encoding as SigV4 requires: A-Z a-z 0-9 - _ . ~ stay, every other byte
// becomes %XX (uppercase hex). With keep_slash, '/' stays (object keys in paths).
std::string UriEncode(std::string_view in, bool keep_slash);

// "a=1&b=2" with names and values UriEncoded and pairs sorted by name then value: the
// canonical query string of SigV4. libcurl signs the query as sent, so sending it canonical
// is what makes the signature valid.
std::string CanonicalQuery(std::vector<std::pair<std::string, std::string>> params);

// Replaces the five predefined XML entities and numeric character references.
std::string XmlUnescape(std::string_view in);

// Parses a ListObjectsV2 <ListBucketResult>. InvalidArgument for a body that is not one.
absl::StatusOr<ListResult> ParseListResult(std::string_view xml);

// <Error><Code>..</Code><Message>..</Message></Error> -> {code, message}; empty when absent.
std::pair<std::string, std::string> ParseErrorBody(std::string_view xml);

}  // namespace internal
}  // namespace shieldx::objstore

#endif  // SHIELDX_LIBS_OBJSTORE_S3_WIRE_H_
