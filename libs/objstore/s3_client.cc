#include "libs/objstore/s3_client.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace shieldx::objstore {
namespace {

constexpr char kUnsignedPayload[] = "UNSIGNED-PAYLOAD";

absl::string_view AsAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

// S3 bucket naming rules (the subset that matters for path-style requests).
absl::Status CheckBucket(std::string_view bucket) {
  if (bucket.size() < 3 || bucket.size() > 63) {
    return absl::InvalidArgumentError(absl::StrCat("s3 bucket name '", AsAbsl(bucket), "' has ",
                                                   bucket.size(), " characters (must be 3..63)"));
  }
  for (char c : bucket) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) {
      return absl::InvalidArgumentError(absl::StrCat("s3 bucket name '", AsAbsl(bucket),
                                                     "' may only hold a-z, 0-9, '-' and '.'"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckKey(std::string_view bucket, std::string_view key) {
  if (key.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("s3 ", AsAbsl(bucket), ": empty object key"));
  }
  if (key.size() > kMaxKeyBytes) {
    return absl::InvalidArgumentError(absl::StrCat("s3 ", AsAbsl(bucket), ": object key of ",
                                                   key.size(), " bytes (limit ", kMaxKeyBytes,
                                                   ")"));
  }
  return absl::OkStatus();
}

absl::Status CheckNames(std::string_view bucket, std::string_view key) {
  absl::Status s = CheckBucket(bucket);
  if (!s.ok()) return s;
  return CheckKey(bucket, key);
}

bool IsTransportError(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

}  // namespace

// One request: what to send and where the body goes.
struct S3Client::Call {
  std::string op;  // "GET", "PUT", "HEAD", "DELETE" (also the HTTP method)
  std::string bucket;
  std::string key;  // empty for bucket-level requests
  std::vector<std::pair<std::string, std::string>> query;
  std::string payload_sha256 = Sha256Hex("");
  std::string content_type;
  bool streaming = false;
  // PUT body: either in memory or from a reader.
  std::string_view body;
  const S3Reader* reader = nullptr;
  uint64_t upload_size = 0;
  // 2xx response body sink (none: discard).
  const S3Writer* writer = nullptr;

  // "s3 GET bucket/key".
  std::string What() const {
    return key.empty() ? absl::StrCat("s3 ", op, " ", bucket)
                       : absl::StrCat("s3 ", op, " ", bucket, "/", key);
  }
};

struct S3Client::Response {
  long http = 0;
  std::map<std::string, std::string> headers;  // names lowercased; last value wins
  std::string error_body;                      // non-2xx bodies, bounded
};

namespace {

// Per-transfer state shared with the curl callbacks.
struct Transfer {
  CURL* curl = nullptr;
  const S3Reader* reader = nullptr;
  std::string_view body;
  uint64_t remaining = 0;
  uint64_t sent = 0;
  const S3Writer* writer = nullptr;
  std::map<std::string, std::string>* headers = nullptr;
  std::string* error_body = nullptr;
  absl::Status callback_status;  // why a callback aborted the transfer
};

size_t ReadBody(char* buffer, size_t size, size_t nitems, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t want = static_cast<size_t>(std::min<uint64_t>(size * nitems, t->remaining));
  if (want == 0) return 0;
  size_t n = 0;
  if (t->reader == nullptr) {
    n = want;
    std::memcpy(buffer, t->body.data() + t->sent, n);
  } else {
    absl::StatusOr<size_t> got = (*t->reader)(buffer, want);
    if (!got.ok()) {
      t->callback_status = got.status();
      return CURL_READFUNC_ABORT;
    }
    if (*got == 0 || *got > want) {
      t->callback_status = absl::InvalidArgumentError(
          absl::StrCat("reader returned ", *got, " bytes after ", t->sent, " of ",
                       t->sent + t->remaining, " (asked for at most ", want, ")"));
      return CURL_READFUNC_ABORT;
    }
    n = *got;
  }
  t->sent += n;
  t->remaining -= n;
  return n;
}

size_t WriteBody(char* data, size_t size, size_t nmemb, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * nmemb;
  long http = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &http);
  if (http < 200 || http >= 300) {
    const size_t room = kMaxErrorBodyBytes - std::min(kMaxErrorBodyBytes, t->error_body->size());
    t->error_body->append(data, std::min(n, room));
    return n;
  }
  if (t->writer == nullptr) return n;
  absl::Status s = (*t->writer)(std::string_view(data, n));
  if (!s.ok()) {
    t->callback_status = std::move(s);
    return 0;  // != n: curl aborts with CURLE_WRITE_ERROR
  }
  return n;
}

size_t ReadHeader(char* data, size_t size, size_t nitems, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * nitems;
  absl::string_view line(data, n);
  if (absl::StartsWith(line, "HTTP/")) {
    t->headers->clear();  // a new response (after 100 Continue)
    return n;
  }
  const size_t colon = line.find(':');
  if (colon == absl::string_view::npos) return n;
  std::string name = absl::AsciiStrToLower(line.substr(0, colon));
  std::string value(absl::StripAsciiWhitespace(line.substr(colon + 1)));
  (*t->headers)[std::move(name)] = std::move(value);
  return n;
}

struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

std::optional<absl::Time> ParseHttpDate(const std::string& s) {
  absl::Time t;
  std::string err;
  if (absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", s, absl::UTCTimeZone(), &t, &err)) return t;
  return std::nullopt;
}

ObjectInfo InfoFromHeaders(std::string_view key, const std::map<std::string, std::string>& h) {
  ObjectInfo info;
  info.key = std::string(key);
  if (auto it = h.find("content-length"); it != h.end()) {
    if (!absl::SimpleAtoi(it->second, &info.size)) info.size = 0;
  }
  if (auto it = h.find("etag"); it != h.end()) {
    info.etag = std::string(absl::StripSuffix(absl::StripPrefix(it->second, "\""), "\""));
  }
  if (auto it = h.find("content-type"); it != h.end()) info.content_type = it->second;
  if (auto it = h.find("last-modified"); it != h.end()) {
    if (auto t = ParseHttpDate(it->second)) info.last_modified = *t;
  }
  return info;
}

}  // namespace

absl::Status Validate(const S3Config& config) {
  if (!absl::StartsWith(config.endpoint, "http://") &&
      !absl::StartsWith(config.endpoint, "https://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("s3 config: endpoint '", config.endpoint, "' must start with http(s)://"));
  }
  const size_t host_start = config.endpoint.find("://") + 3;
  if (config.endpoint.find('/', host_start) != std::string::npos ||
      config.endpoint.size() == host_start) {
    return absl::InvalidArgumentError(absl::StrCat("s3 config: endpoint '", config.endpoint,
                                                   "' must be scheme://host[:port] with no path"));
  }
  if (config.region.empty()) return absl::InvalidArgumentError("s3 config: region is empty");
  for (char c : config.region) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') {
      return absl::InvalidArgumentError(
          absl::StrCat("s3 config: region '", config.region, "' may only hold a-z, 0-9, '-'"));
    }
  }
  if (config.access_key.empty())
    return absl::InvalidArgumentError("s3 config: access_key is empty");
  if (config.secret_key.empty())
    return absl::InvalidArgumentError("s3 config: secret_key is empty");
  for (auto [name, d] : {std::pair{"connect_timeout", config.connect_timeout},
                         std::pair{"request_timeout", config.request_timeout},
                         std::pair{"stream_stall_timeout", config.stream_stall_timeout}}) {
    if (d < absl::Seconds(1) && name != std::string_view("connect_timeout")) {
      return absl::InvalidArgumentError(
          absl::StrCat("s3 config: ", name, " ", absl::FormatDuration(d), " is below 1s"));
    }
    if (d <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError(absl::StrCat("s3 config: ", name, " must be positive"));
    }
  }
  if (config.max_idle_handles < 0 || config.max_idle_handles > 256) {
    return absl::InvalidArgumentError(absl::StrCat(
        "s3 config: max_idle_handles ", config.max_idle_handles, " out of range [0, 256]"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<S3Client>> S3Client::Create(S3Config config) {
  absl::Status s = Validate(config);
  if (!s.ok()) return s;
  static std::once_flag curl_init;
  std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  return std::unique_ptr<S3Client>(new S3Client(std::move(config)));
}

S3Client::S3Client(S3Config config)
    : config_(std::move(config)), sigv4_(absl::StrCat("aws:amz:", config_.region, ":s3")) {}

S3Client::~S3Client() {
  absl::MutexLock lock(&mu_);
  for (void* h : idle_handles_) curl_easy_cleanup(static_cast<CURL*>(h));
}

void* S3Client::AcquireHandle() {
  {
    absl::MutexLock lock(&mu_);
    if (!idle_handles_.empty()) {
      void* h = idle_handles_.back();
      idle_handles_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void S3Client::ReleaseHandle(void* handle) {
  absl::MutexLock lock(&mu_);
  if (static_cast<int>(idle_handles_.size()) < config_.max_idle_handles) {
    idle_handles_.push_back(handle);
    return;
  }
  curl_easy_cleanup(static_cast<CURL*>(handle));
}

absl::StatusOr<S3Client::Response> S3Client::Perform(Call& call) {
  CURL* curl = static_cast<CURL*>(AcquireHandle());
  if (curl == nullptr) return absl::ResourceExhaustedError(call.What() + ": curl_easy_init failed");
  curl_easy_reset(curl);  // keeps the connection cache, clears every option

  std::string url = absl::StrCat(config_.endpoint, "/", call.bucket);
  if (!call.key.empty()) absl::StrAppend(&url, "/", internal::UriEncode(call.key, true));
  if (!call.query.empty()) absl::StrAppend(&url, "?", internal::CanonicalQuery(call.query));

  std::unique_ptr<curl_slist, SlistDeleter> headers;
  auto add_header = [&](const std::string& h) {
    headers.reset(curl_slist_append(headers.release(), h.c_str()));
  };
  add_header("x-amz-content-sha256: " + call.payload_sha256);
  if (!call.content_type.empty()) add_header("Content-Type: " + call.content_type);
  // No "Expect:" override here: libcurl 7.88 would sign the removed header (SignedHeaders
  // "expect;..." with no such header on the wire) and every signature-checking server would
  // reject the request.

  Response response;
  Transfer t;
  t.curl = curl;
  t.reader = call.reader;
  t.body = call.body;
  t.remaining = call.reader != nullptr ? call.upload_size : call.body.size();
  t.writer = call.writer;
  t.headers = &response.headers;
  t.error_body = &response.error_body;

  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, sigv4_.c_str());
  curl_easy_setopt(curl, CURLOPT_USERNAME, config_.access_key.c_str());
  curl_easy_setopt(curl, CURLOPT_PASSWORD, config_.secret_key.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(config_.connect_timeout)));
  if (call.streaming) {
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME,
                     static_cast<long>(absl::ToInt64Seconds(config_.stream_stall_timeout)));
  } else {
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                     static_cast<long>(absl::ToInt64Milliseconds(config_.request_timeout)));
  }
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, ReadHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  if (call.op == "PUT") {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(t.remaining));
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadBody);
    curl_easy_setopt(curl, CURLOPT_READDATA, &t);
  } else if (call.op == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (call.op == "DELETE") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "DELETE");
  }

  const CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.http);
  // A failed transfer may leave a connection in an unknown state: do not reuse the handle.
  if (rc == CURLE_OK) {
    ReleaseHandle(curl);
  } else {
    curl_easy_cleanup(curl);
  }

  if (!t.callback_status.ok()) {
    return absl::Status(t.callback_status.code(),
                        absl::StrCat(call.What(), ": ", t.callback_status.message()));
  }
  if (rc != CURLE_OK) {
    const std::string detail =
        absl::StrCat(call.What(), " via ", config_.endpoint, ": ", curl_easy_strerror(rc));
    if (IsTransportError(rc)) return absl::UnavailableError(detail);
    return absl::InternalError(detail);
  }
  return response;
}

absl::Status S3Client::CheckHttp(const Call& call, const Response& r) const {
  if (r.http >= 200 && r.http < 300) return absl::OkStatus();
  auto [code, message] = internal::ParseErrorBody(r.error_body);
  std::string detail = absl::StrCat(call.What(), ": HTTP ", r.http);
  if (!code.empty()) absl::StrAppend(&detail, " ", code);
  if (!message.empty()) absl::StrAppend(&detail, ": ", message);
  switch (r.http) {
    case 404:
      return absl::NotFoundError(detail);
    case 403:
      return absl::PermissionDeniedError(detail);
    case 401:
      return absl::UnauthenticatedError(detail);
    case 400:
      return absl::InvalidArgumentError(detail);
    case 409:
    case 412:
      return absl::FailedPreconditionError(detail);
    case 416:
      return absl::OutOfRangeError(detail);
    case 429:
      return absl::UnavailableError(detail);
    default:
      if (r.http >= 500) return absl::UnavailableError(detail);
      return absl::UnknownError(detail);
  }
}

absl::Status S3Client::EnsureBucket(std::string_view bucket) {
  absl::Status s = CheckBucket(bucket);
  if (!s.ok()) return s;
  Call head{.op = "HEAD", .bucket = std::string(bucket)};
  auto r = Perform(head);
  if (!r.ok()) return r.status();
  if (r->http == 200) return absl::OkStatus();
  if (r->http != 404) return CheckHttp(head, *r);
  Call create{.op = "PUT", .bucket = std::string(bucket)};
  r = Perform(create);
  if (!r.ok()) return r.status();
  if (r->http == 409) {
    // Created concurrently by someone: fine if it is ours.
    auto [code, message] = internal::ParseErrorBody(r->error_body);
    if (code == "BucketAlreadyOwnedByYou") return absl::OkStatus();
  }
  return CheckHttp(create, *r);
}

absl::Status S3Client::Put(std::string_view bucket, std::string_view key, std::string_view data,
                           const PutOptions& options) {
  absl::Status s = CheckNames(bucket, key);
  if (!s.ok()) return s;
  if (data.size() > kMaxObjectBytes) {
    return absl::InvalidArgumentError(absl::StrCat("s3 PUT ", AsAbsl(bucket), "/", AsAbsl(key),
                                                   ": ", data.size(), " bytes (limit ",
                                                   kMaxObjectBytes, ")"));
  }
  Call call{.op = "PUT",
            .bucket = std::string(bucket),
            .key = std::string(key),
            .payload_sha256 = Sha256Hex(data),
            .content_type = options.content_type,
            .body = data};
  auto r = Perform(call);
  if (!r.ok()) return r.status();
  return CheckHttp(call, *r);
}

absl::Status S3Client::PutStream(std::string_view bucket, std::string_view key, uint64_t size,
                                 const S3Reader& reader, const PutOptions& options) {
  absl::Status s = CheckNames(bucket, key);
  if (!s.ok()) return s;
  if (size > kMaxObjectBytes) {
    return absl::InvalidArgumentError(absl::StrCat("s3 PUT ", AsAbsl(bucket), "/", AsAbsl(key),
                                                   ": ", size, " bytes (limit ", kMaxObjectBytes,
                                                   ")"));
  }
  Call call{.op = "PUT",
            .bucket = std::string(bucket),
            .key = std::string(key),
            .payload_sha256 = kUnsignedPayload,
            .content_type = options.content_type,
            .streaming = true,
            .reader = &reader,
            .upload_size = size};
  auto r = Perform(call);
  if (!r.ok()) return r.status();
  return CheckHttp(call, *r);
}

absl::Status S3Client::PutFile(std::string_view bucket, std::string_view key,
                               const std::string& path, const PutOptions& options) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::NotFoundError(absl::StrCat("s3 PUT ", AsAbsl(bucket), "/", AsAbsl(key),
                                            ": cannot open ", path, ": ", std::strerror(errno)));
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return absl::InvalidArgumentError(absl::StrCat("s3 PUT ", AsAbsl(bucket), "/", AsAbsl(key),
                                                   ": ", path, " is not a regular file"));
  }
  S3Reader reader = [fd, &path](char* buffer, size_t capacity) -> absl::StatusOr<size_t> {
    while (true) {
      const ssize_t n = read(fd, buffer, capacity);
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) {
        return absl::InternalError(absl::StrCat("read ", path, ": ", std::strerror(errno)));
      }
    }
  };
  absl::Status s = PutStream(bucket, key, static_cast<uint64_t>(st.st_size), reader, options);
  close(fd);
  return s;
}

absl::StatusOr<std::string> S3Client::Get(std::string_view bucket, std::string_view key,
                                          size_t max_bytes) {
  std::string body;
  S3Writer writer = [&](std::string_view chunk) -> absl::Status {
    if (body.size() + chunk.size() > max_bytes) {
      return absl::ResourceExhaustedError(
          absl::StrCat("object is larger than the ", max_bytes, "-byte cap"));
    }
    body.append(chunk);
    return absl::OkStatus();
  };
  absl::Status s = CheckNames(bucket, key);
  if (!s.ok()) return s;
  Call call{.op = "GET", .bucket = std::string(bucket), .key = std::string(key), .writer = &writer};
  auto r = Perform(call);
  if (!r.ok()) return r.status();
  s = CheckHttp(call, *r);
  if (!s.ok()) return s;
  return body;
}

absl::StatusOr<ObjectInfo> S3Client::GetStream(std::string_view bucket, std::string_view key,
                                               const S3Writer& writer) {
  absl::Status s = CheckNames(bucket, key);
  if (!s.ok()) return s;
  Call call{.op = "GET",
            .bucket = std::string(bucket),
            .key = std::string(key),
            .streaming = true,
            .writer = &writer};
  auto r = Perform(call);
  if (!r.ok()) return r.status();
  s = CheckHttp(call, *r);
  if (!s.ok()) return s;
  return InfoFromHeaders(key, r->headers);
}

absl::StatusOr<ObjectInfo> S3Client::Head(std::string_view bucket, std::string_view key) {
  absl::Status s = CheckNames(bucket, key);
  if (!s.ok()) return s;
  Call call{.op = "HEAD", .bucket = std::string(bucket), .key = std::string(key)};
  auto r = Perform(call);
  if (!r.ok()) return r.status();
  s = CheckHttp(call, *r);
  if (!s.ok()) return s;
  return InfoFromHeaders(key, r->headers);
}

absl::StatusOr<ListResult> S3Client::List(std::string_view bucket, const ListOptions& options) {
  absl::Status s = CheckBucket(bucket);
  if (!s.ok()) return s;
  if (options.max_keys < 1 || options.max_keys > kMaxListKeys) {
    return absl::InvalidArgumentError(absl::StrCat("s3 LIST ", AsAbsl(bucket), ": max_keys ",
                                                   options.max_keys, " out of range [1, ",
                                                   kMaxListKeys, "]"));
  }
  std::string body;
  S3Writer writer = [&](std::string_view chunk) -> absl::Status {
    if (body.size() + chunk.size() > kMaxListResponseBytes) {
      return absl::ResourceExhaustedError(
          absl::StrCat("listing larger than ", kMaxListResponseBytes, " bytes"));
    }
    body.append(chunk);
    return absl::OkStatus();
  };
  Call call{.op = "GET", .bucket = std::string(bucket), .writer = &writer};
  call.query = {{"list-type", "2"}, {"max-keys", absl::StrCat(options.max_keys)}};
  if (!options.prefix.empty()) call.query.emplace_back("prefix", options.prefix);
  if (!options.continuation_token.empty()) {
    call.query.emplace_back("continuation-token", options.continuation_token);
  }
  auto r = Perform(call);
  if (!r.ok()) return r.status();
  s = CheckHttp(call, *r);
  if (!s.ok()) return s;
  auto result = internal::ParseListResult(body);
  if (!result.ok()) {
    return absl::InternalError(absl::StrCat(call.What(), ": ", result.status().message()));
  }
  return result;
}

absl::Status S3Client::Delete(std::string_view bucket, std::string_view key) {
  absl::Status s = CheckNames(bucket, key);
  if (!s.ok()) return s;
  Call call{.op = "DELETE", .bucket = std::string(bucket), .key = std::string(key)};
  auto r = Perform(call);
  if (!r.ok()) return r.status();
  return CheckHttp(call, *r);
}

}  // namespace shieldx::objstore
