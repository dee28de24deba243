// SigV4 signing: s3rver accepts any signature, so these tests check the Authorization header
// this client produces against (1) the curl command line signing the same request with the
// same x-amz-date, and (2) an independent SigV4 computation from the AWS specification.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/objstore/s3_client.h"
#include "libs/testing/process.h"
#include "libs/testing/status_matchers.h"

namespace shieldx::objstore {
namespace {

using ::shieldx::testing::StatusIs;
using ::testing::HasSubstr;

struct CapturedRequest {
  std::string method;
  std::string target;                          // path?query as sent
  std::map<std::string, std::string> headers;  // lowercased names; first value kept
  std::string body;
};

// A loopback HTTP/1.1 listener that records each request and answers with a canned response.
class CannedHttpServer {
 public:
  CannedHttpServer() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    listen(fd_, 16);
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~CannedHttpServer() {
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  std::string endpoint() const { return absl::StrCat("http://127.0.0.1:", port_); }
  void Respond(int status, std::string body) {
    absl::MutexLock lock(&mu_);
    status_ = status;
    body_ = std::move(body);
  }
  std::vector<CapturedRequest> requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }
  CapturedRequest last() {
    absl::MutexLock lock(&mu_);
    return requests_.empty() ? CapturedRequest() : requests_.back();
  }

 private:
  void Serve() {
    while (true) {
      const int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      Handle(c);
      close(c);
    }
  }
  void Handle(int c) {
    std::string in;
    char buf[65536];
    size_t header_end = std::string::npos;
    while (header_end == std::string::npos) {
      const ssize_t n = read(c, buf, sizeof(buf));
      if (n <= 0) return;
      in.append(buf, static_cast<size_t>(n));
      header_end = in.find("\r\n\r\n");
    }
    CapturedRequest req;
    std::vector<std::string> lines = absl::StrSplit(in.substr(0, header_end), "\r\n");
    std::vector<std::string> start = absl::StrSplit(lines[0], ' ');
    req.method = start[0];
    req.target = start.size() > 1 ? start[1] : "";
    for (size_t i = 1; i < lines.size(); ++i) {
      const size_t colon = lines[i].find(':');
      if (colon == std::string::npos) continue;
      req.headers.emplace(absl::AsciiStrToLower(lines[i].substr(0, colon)),
                          std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1))));
    }
    size_t length = 0;
    if (auto it = req.headers.find("content-length"); it != req.headers.end()) {
      (void)absl::SimpleAtoi(it->second, &length);
    }
    req.body = in.substr(header_end + 4);
    while (req.body.size() < length) {
      const ssize_t n = read(c, buf, sizeof(buf));
      if (n <= 0) break;
      req.body.append(buf, static_cast<size_t>(n));
    }
    std::string response;
    {
      absl::MutexLock lock(&mu_);
      requests_.push_back(req);
      const std::string body = req.method == "HEAD" ? "" : body_;
      response = absl::StrCat("HTTP/1.1 ", status_, " X\r\nContent-Length: ", body_.size(),
                              "\r\nConnection: close\r\n\r\n", body);
    }
    (void)!write(c, response.data(), response.size());
  }

  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  absl::Mutex mu_;
  int status_ = 200;
  std::string body_;
  std::vector<CapturedRequest> requests_;
};

std::string Hex(const unsigned char* d, size_t n) {
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(d), n));
}

std::string Sha256Hex(const std::string& s) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d);
  return Hex(d, sizeof(d));
}

std::string Hmac(const std::string& key, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &n);
  return std::string(reinterpret_cast<char*>(out), n);
}

std::string Field(const std::string& authorization, const std::string& name) {
  const size_t at = authorization.find(name + "=");
  if (at == std::string::npos) return "";
  const size_t end = authorization.find(',', at);
  return authorization.substr(at + name.size() + 1, end == std::string::npos
                                                        ? std::string::npos
                                                        : end - at - name.size() - 1);
}

// SigV4 from the AWS specification, over the request as the server received it.
std::string ExpectedAuthorization(const CapturedRequest& req, const std::string& access_key,
                                  const std::string& secret_key, const std::string& region) {
  const std::string signed_headers = Field(req.headers.at("authorization"), "SignedHeaders");
  std::string canonical_headers;
  for (absl::string_view name : absl::StrSplit(signed_headers, ';')) {
    absl::StrAppend(&canonical_headers, name, ":", req.headers.at(std::string(name)), "\n");
  }
  const size_t q = req.target.find('?');
  const std::string path = req.target.substr(0, q);
  const std::string query = q == std::string::npos ? "" : req.target.substr(q + 1);
  const std::string canonical_request =
      absl::StrCat(req.method, "\n", path, "\n", query, "\n", canonical_headers, "\n",
                   signed_headers, "\n", req.headers.at("x-amz-content-sha256"));
  const std::string date = req.headers.at("x-amz-date");
  const std::string scope = absl::StrCat(date.substr(0, 8), "/", region, "/s3/aws4_request");
  const std::string string_to_sign =
      absl::StrCat("AWS4-HMAC-SHA256\n", date, "\n", scope, "\n", Sha256Hex(canonical_request));
  std::string key = Hmac("AWS4" + secret_key, date.substr(0, 8));
  key = Hmac(key, region);
  key = Hmac(key, "s3");
  key = Hmac(key, "aws4_request");
  const std::string sig = Hmac(key, string_to_sign);
  return absl::StrCat(
      "AWS4-HMAC-SHA256 Credential=", access_key, "/", scope, ", SignedHeaders=", signed_headers,
      ", Signature=", Hex(reinterpret_cast<const unsigned char*>(sig.data()), sig.size()));
}

class S3SigningTest : public ::testing::Test {
 protected:
  std::unique_ptr<S3Client> Client(const std::string& secret) {
    auto c = S3Client::Create({.endpoint = server_.endpoint(),
                               .region = "eu-west-3",
                               .access_key = "AKIDEXAMPLE",
                               .secret_key = secret});
    EXPECT_TRUE(c.ok()) << c.status();
    return std::move(*c);
  }
  // The curl CLI's Authorization for the same request with the given date.
  std::string CurlAuthorization(const CapturedRequest& like, const std::string& secret) {
    std::vector<std::string> argv = {
        "curl",        "-s",
        "-o",          "/dev/null",
        "--aws-sigv4", "aws:amz:eu-west-3:s3",
        "--user",      "AKIDEXAMPLE:" + secret,
        "-H",          "x-amz-date: " + like.headers.at("x-amz-date"),
        "-H",          "x-amz-content-sha256: " + like.headers.at("x-amz-content-sha256")};
    if (like.headers.count("content-type") > 0) {
      argv.push_back("-H");
      argv.push_back("Content-Type: " + like.headers.at("content-type"));
    }
    if (like.method == "PUT") {
      argv.push_back("-X");
      argv.push_back("PUT");
      argv.push_back("--data-binary");
      argv.push_back(like.body);
    }
    argv.push_back(server_.endpoint() + like.target);
    auto out = shieldx::testing::RunCommand({.argv = argv}, absl::Seconds(20));
    EXPECT_TRUE(out.ok()) << out.status();
    return server_.last().headers["authorization"];
  }

  CannedHttpServer server_;
};

TEST_F(S3SigningTest, GetWithEncodedKeyMatchesCurlAndTheSpecification) {
  auto client = Client("secret/one+");
  server_.Respond(200, "hello");
  ASSERT_OK_AND_ASSIGN(std::string body, client->Get("bucket-1", "dir/a b+c=d.txt", 100));
  EXPECT_EQ(body, "hello");
  const CapturedRequest ours = server_.last();
  EXPECT_EQ(ours.target, "/bucket-1/dir/a%20b%2Bc%3Dd.txt");
  EXPECT_EQ(ours.headers.at("x-amz-content-sha256"), Sha256Hex(""));
  const std::string auth = ours.headers.at("authorization");
  EXPECT_THAT(auth, HasSubstr("Credential=AKIDEXAMPLE/"));
  EXPECT_THAT(auth, HasSubstr("/eu-west-3/s3/aws4_request"));
  EXPECT_THAT(Field(auth, "SignedHeaders"), HasSubstr("host;x-amz-content-sha256;x-amz-date"));
  EXPECT_EQ(auth, ExpectedAuthorization(ours, "AKIDEXAMPLE", "secret/one+", "eu-west-3"));
  EXPECT_EQ(CurlAuthorization(ours, "secret/one+"), auth);
}

TEST_F(S3SigningTest, ListQueryIsSentCanonicalSoItsSignatureIsValid) {
  auto client = Client("s");
  server_.Respond(200, "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>");
  ASSERT_OK(
      client->List("bucket-1", {.prefix = "a/b c", .continuation_token = "t+/=", .max_keys = 7}));
  const CapturedRequest ours = server_.last();
  EXPECT_EQ(ours.target,
            "/bucket-1?continuation-token=t%2B%2F%3D&list-type=2&max-keys=7&prefix=a%2Fb%20c");
  EXPECT_EQ(ours.headers.at("authorization"),
            ExpectedAuthorization(ours, "AKIDEXAMPLE", "s", "eu-west-3"));
  EXPECT_EQ(CurlAuthorization(ours, "s"), ours.headers.at("authorization"));
}

TEST_F(S3SigningTest, PutSignsThePayloadHashAndStreamsSignUnsignedPayload) {
  auto client = Client("s");
  ASSERT_OK(client->Put("bucket-1", "k", "payload", {.content_type = "text/plain"}));
  CapturedRequest put = server_.last();
  EXPECT_EQ(put.method, "PUT");
  EXPECT_EQ(put.body, "payload");
  EXPECT_EQ(put.headers.at("x-amz-content-sha256"), Sha256Hex("payload"));
  EXPECT_THAT(Field(put.headers.at("authorization"), "SignedHeaders"), HasSubstr("content-type"));
  EXPECT_EQ(put.headers.at("authorization"),
            ExpectedAuthorization(put, "AKIDEXAMPLE", "s", "eu-west-3"));
  EXPECT_EQ(CurlAuthorization(put, "s"), put.headers.at("authorization"));

  size_t offset = 0;
  const std::string data = "streamed body";
  ASSERT_OK(client->PutStream("bucket-1", "k2", data.size(),
                              [&](char* buf, size_t cap) -> absl::StatusOr<size_t> {
                                const size_t n = std::min(cap, data.size() - offset);
                                data.copy(buf, n, offset);
                                offset += n;
                                return n;
                              }));
  CapturedRequest stream = server_.last();
  EXPECT_EQ(stream.body, data);
  EXPECT_EQ(stream.headers.at("x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
  EXPECT_EQ(stream.headers.at("authorization"),
            ExpectedAuthorization(stream, "AKIDEXAMPLE", "s", "eu-west-3"));
}

TEST_F(S3SigningTest, ChangingTheSecretChangesTheSignature) {
  server_.Respond(200, "x");
  auto client = Client("first-secret");
  ASSERT_OK(client->Get("bucket-1", "k", 10));
  const CapturedRequest ours = server_.last();
  const std::string auth = ours.headers.at("authorization");
  const std::string other = CurlAuthorization(ours, "second-secret");
  EXPECT_NE(Field(other, "Signature"), Field(auth, "Signature"));
  EXPECT_EQ(Field(other, "SignedHeaders"), Field(auth, "SignedHeaders"));
  EXPECT_NE(ExpectedAuthorization(ours, "AKIDEXAMPLE", "second-secret", "eu-west-3"), auth);
  // The secret itself is never sent.
  for (const auto& [name, value] : ours.headers) {
    EXPECT_THAT(value, ::testing::Not(HasSubstr("first-secret"))) << name;
  }
}

TEST_F(S3SigningTest, HttpStatusesMapToStatusCodesNamingTheObject) {
  auto client = Client("s");
  server_.Respond(403, "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>");
  EXPECT_THAT(client->Get("bucket-1", "k", 10),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       "s3 GET bucket-1/k: HTTP 403 AccessDenied: Access Denied"));
  server_.Respond(404, "<Error><Code>NoSuchKey</Code></Error>");
  EXPECT_THAT(client->Head("bucket-1", "k"), StatusIs(absl::StatusCode::kNotFound));
  server_.Respond(503, "<Error><Code>SlowDown</Code></Error>");
  EXPECT_THAT(client->Put("bucket-1", "k", "v"),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("503 SlowDown")));
  server_.Respond(500, "");
  EXPECT_THAT(client->Delete("bucket-1", "k"), StatusIs(absl::StatusCode::kUnavailable));
  server_.Respond(400, "<Error><Code>InvalidArgument</Code></Error>");
  EXPECT_THAT(client->List("bucket-1"), StatusIs(absl::StatusCode::kInvalidArgument));
  server_.Respond(200, "not xml at all");
  EXPECT_THAT(client->List("bucket-1"),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("not a ListBucketResult")));
}

}  // namespace
}  // namespace shieldx::objstore
