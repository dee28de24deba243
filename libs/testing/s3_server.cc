#include "libs/testing/s3_server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"

namespace shieldx::testing {

absl::StatusOr<std::unique_ptr<S3Server>> S3Server::Start(const Options& options) {
  if (options.source_root.empty()) {
    return absl::InvalidArgumentError("S3Server: source_root is empty (pass SHIELDX_SOURCE_ROOT)");
  }
  const std::string bin = options.source_root + "/tools/node_modules/.bin/s3rver";
  if (access(bin.c_str(), X_OK) != 0) {
    return absl::NotFoundError(
        absl::StrCat("s3rver not installed at ", bin, " (run the project's dependency script)"));
  }
  auto dir = TempDir::Create("shieldx-s3");
  if (!dir.ok()) return dir.status();
  if (mkdir((dir->path() + "/data").c_str(), 0755) != 0) {
    return absl::InternalError(absl::StrCat("mkdir ", dir->path(), "/data failed"));
  }
  auto port = PickFreePort();
  if (!port.ok()) return port.status();
  std::unique_ptr<S3Server> server(new S3Server(options, std::move(*dir), *port));
  absl::Status s = server->Launch();
  if (!s.ok()) return s;
  return server;
}

S3Server::~S3Server() { Stop(); }

std::string S3Server::endpoint() const { return absl::StrCat("http://127.0.0.1:", port_); }

std::string S3Server::log_path() const { return dir_.path() + "/s3rver.log"; }

absl::Status S3Server::Launch() {
  Subprocess::Options opts;
  opts.argv = {options_.source_root + "/tools/node_modules/.bin/s3rver",
               "--address",
               "127.0.0.1",
               "--port",
               absl::StrCat(port_),
               "--directory",
               dir_.path() + "/data",
               "--silent"};
  for (const std::string& bucket : options_.buckets) {
    opts.argv.push_back("--configure-bucket");
    opts.argv.push_back(bucket);
  }
  // s3rver encrypts ListObjectsV2 continuation tokens with DES, which Node 20's OpenSSL 3
  // only offers through the legacy provider; without it every truncated listing is a 500.
  opts.env = {"NODE_OPTIONS=--openssl-legacy-provider"};
  opts.log_path = log_path();
  auto proc = Subprocess::Start(opts);
  if (!proc.ok()) return proc.status();
  process_.emplace(std::move(*proc));
  absl::Status ready = WaitForTcpPort(port_, kStartTimeout);
  if (!ready.ok()) {
    Stop();
    return absl::DeadlineExceededError(
        absl::StrCat("s3rver on port ", port_, " not accepting connections within ",
                     absl::FormatDuration(kStartTimeout), "; see ", log_path()));
  }
  return absl::OkStatus();
}

void S3Server::Stop() {
  if (!process_.has_value()) return;
  process_->Stop();
  process_.reset();
}

absl::Status S3Server::StartAgain() {
  if (process_.has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat("s3rver on port ", port_, " is already running"));
  }
  return Launch();
}

}  // namespace shieldx::testing
