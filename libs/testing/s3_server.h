// S3Server: a real S3-compatible server (s3rver, pinned in tools/package.json) on a free
// loopback port, for tests.
//
//   ASSERT_OK_AND_ASSIGN(auto s3, S3Server::Start({.source_root = SHIELDX_SOURCE_ROOT}));
//   S3Config config{.endpoint = s3->endpoint(), .access_key = S3Server::kAccessKey, ...};
//
// Data lives in a TempDir removed on destruction. s3rver accepts any well-formed SigV4
// signature without verifying it; signing is tested separately (see libs/objstore). It runs
// with NODE_OPTIONS=--openssl-legacy-provider: its ListObjectsV2 continuation tokens use DES,
// which Node 20 refuses otherwise (paginated listings would fail with HTTP 500). Unlike S3, it
// may keep the bytes of an upload that the client aborted.
//
// Thread-safety: not thread-safe; drive it from the test thread.
#ifndef SHIELDX_LIBS_TESTING_S3_SERVER_H_
#define SHIELDX_LIBS_TESTING_S3_SERVER_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/testing/process.h"

namespace shieldx::testing {

class S3Server {
 public:
  struct Options {
    // The repository root (tests pass SHIELDX_SOURCE_ROOT); s3rver is run from
    // <source_root>/tools/node_modules/.bin/s3rver.
    std::string source_root;
    // Buckets created at start-up (more can be created through the S3 API).
    std::vector<std::string> buckets;
  };
  static constexpr char kAccessKey[] = "S3RVER";
  static constexpr char kSecretKey[] = "S3RVER";
  static constexpr char kRegion[] = "us-east-1";
  // How long Start/StartAgain wait for the port to accept connections (node starts in ~1 s).
  static constexpr absl::Duration kStartTimeout = absl::Seconds(20);

  // NotFound (with the path) when s3rver is not installed under source_root.
  static absl::StatusOr<std::unique_ptr<S3Server>> Start(const Options& options);

  S3Server(const S3Server&) = delete;
  S3Server& operator=(const S3Server&) = delete;
  ~S3Server();

  int port() const { return port_; }
  // "http://127.0.0.1:PORT" (path-style requests go to ENDPOINT/bucket/key).
  std::string endpoint() const;
  bool running() const { return process_.has_value(); }

  // Stops the server; objects stay on disk and are served again after StartAgain. Idempotent.
  void Stop();
  // Starts a stopped server on the same port. FailedPrecondition if it is running.
  absl::Status StartAgain();

  std::string log_path() const;

 private:
  S3Server(Options options, TempDir dir, int port)
      : options_(std::move(options)), dir_(std::move(dir)), port_(port) {}
  absl::Status Launch();

  Options options_;
  TempDir dir_;
  int port_;
  std::optional<Subprocess> process_;
};

}  // namespace shieldx::testing

#endif  // SHIELDX_LIBS_TESTING_S3_SERVER_H_
