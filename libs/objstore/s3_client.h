// S3Client: a small S3 client (path-style URLs, SigV4 signed by libcurl) for MinIO in
// production and s3rver in tests.
//
//   ASSIGN_OR_RETURN(auto s3, S3Client::Create({.endpoint = "http://127.0.0.1:9000",
//                                               .access_key = key, .secret_key = secret}));
//   RETURN_IF_ERROR(s3->EnsureBucket("evidence"));
//   RETURN_IF_ERROR(s3->Put("evidence", "acme/x.json", json, {.content_type =
//   "application/json"})); ASSIGN_OR_RETURN(std::string body, s3->Get("evidence",
//   "acme/2024/01/x.json", 1 << 20));
//
// Signing: libcurl computes the AWS SigV4 Authorization header (CURLOPT_AWS_SIGV4
// "aws:amz:REGION:s3"); this client supplies x-amz-content-sha256 (the SHA-256 of in-memory
// bodies, UNSIGNED-PAYLOAD for streamed ones) and sends the query string in canonical order,
// because libcurl signs the query exactly as sent.
//
// Errors name the operation, bucket and key: 404 -> NotFound, 403 -> PermissionDenied,
// 401 -> Unauthenticated, 400 -> InvalidArgument, 409/412 -> FailedPrecondition,
// 5xx, 429, connection failures and timeouts -> Unavailable. Request payloads and the secret
// key never appear in errors or logs.
//
// Objects up to kMaxObjectBytes (S3's single-PUT limit, 5 GiB); no multipart upload.
//
// Thread-safety: all methods are thread-safe. Each call uses its own curl handle, taken from
// a small pool of idle handles (which keeps connections alive between calls).
#ifndef SHIELDX_LIBS_OBJSTORE_S3_CLIENT_H_
#define SHIELDX_LIBS_OBJSTORE_S3_CLIENT_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/objstore/s3_wire.h"

namespace shieldx::objstore {

// S3's limit for one PUT.
inline constexpr uint64_t kMaxObjectBytes = uint64_t{5} << 30;
// S3's limits on names.
inline constexpr size_t kMaxKeyBytes = 1024;
// ListObjectsV2 page size: S3 never returns more than 1,000 keys per page.
inline constexpr int kMaxListKeys = 1000;
// Bound on an error body kept for the message (S3 error documents are < 1 KiB).
inline constexpr size_t kMaxErrorBodyBytes = 64 * 1024;
// Bound on a ListObjectsV2 response held in memory (1,000 keys of 1 KiB plus markup).
inline constexpr size_t kMaxListResponseBytes = 4 * 1024 * 1024;

struct S3Config {
  // Scheme, host and port, no path: "http://127.0.0.1:9000" or "https://minio.internal".
  std::string endpoint;
  std::string region = "us-east-1";
  std::string access_key;
  // A secret: handed to libcurl for signing, never logged or put in an error.
  std::string secret_key;
  absl::Duration connect_timeout = absl::Seconds(2);
  // Whole-request bound for Put/Get of in-memory bodies, Head, List, Delete, EnsureBucket.
  absl::Duration request_timeout = absl::Seconds(30);
  // Streams (PutStream/PutFile/GetStream) have no total bound; they fail when no byte
  // moved for this long.
  absl::Duration stream_stall_timeout = absl::Seconds(30);
  // Idle curl handles kept for reuse (each may hold a keep-alive connection).
  int max_idle_handles = 8;
};

// InvalidArgument naming the first bad field.
absl::Status Validate(const S3Config& config);

struct PutOptions {
  std::string content_type = "application/octet-stream";
};

struct ListOptions {
  std::string prefix;
  std::string continuation_token;
  int max_keys = kMaxListKeys;  // 1..kMaxListKeys
};

// Fills up to `capacity` bytes of `buffer`; returns how many, 0 at end of data.
using S3Reader = std::function<absl::StatusOr<size_t>(char* buffer, size_t capacity)>;
// Consumes one chunk of an object's body; a non-OK status aborts the download.
using S3Writer = std::function<absl::Status(std::string_view chunk)>;

class S3Client {
 public:
  // InvalidArgument for a bad config (Validate). Does not contact the server.
  static absl::StatusOr<std::unique_ptr<S3Client>> Create(S3Config config);

  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;
  ~S3Client();

  // Creates `bucket` unless it exists (owned by us). Idempotent and safe to race.
  absl::Status EnsureBucket(std::string_view bucket);

  // Stores `data` as the object (replacing any existing one). Signed with its SHA-256.
  absl::Status Put(std::string_view bucket, std::string_view key, std::string_view data,
                   const PutOptions& options = {});
  // Streams exactly `size` bytes from `reader` (never more than one buffer in memory).
  // A reader that fails or ends before `size` bytes aborts the upload (its status, or
  // InvalidArgument for a short reader); S3 and MinIO then keep no partial object.
  absl::Status PutStream(std::string_view bucket, std::string_view key, uint64_t size,
                         const S3Reader& reader, const PutOptions& options = {});
  // Streams a local file.
  absl::Status PutFile(std::string_view bucket, std::string_view key, const std::string& path,
                       const PutOptions& options = {});

  // The whole object in memory; ResourceExhausted (without downloading the rest) when it
  // is larger than `max_bytes`.
  absl::StatusOr<std::string> Get(std::string_view bucket, std::string_view key, size_t max_bytes);
  // Streams the object into `writer` chunk by chunk; returns its metadata.
  absl::StatusOr<ObjectInfo> GetStream(std::string_view bucket, std::string_view key,
                                       const S3Writer& writer);

  // Size, ETag, Content-Type and Last-Modified without the body.
  absl::StatusOr<ObjectInfo> Head(std::string_view bucket, std::string_view key);

  // One page of ListObjectsV2 (keys in lexicographic order).
  absl::StatusOr<ListResult> List(std::string_view bucket, const ListOptions& options = {});

  // Deletes the object. S3 answers success for a missing key, and so does this.
  absl::Status Delete(std::string_view bucket, std::string_view key);

  const S3Config& config() const { return config_; }

 private:
  struct Call;
  struct Response;
  explicit S3Client(S3Config config);
  absl::StatusOr<Response> Perform(Call& call);
  absl::Status CheckHttp(const Call& call, const Response& response) const;
  void* AcquireHandle();
  void ReleaseHandle(void* handle);

  const S3Config config_;
  const std::string sigv4_;
  absl::Mutex mu_;
  std::vector<void*> idle_handles_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shieldx::objstore

#endif  // SHIELDX_LIBS_OBJSTORE_S3_CLIENT_H_
