#include "libs/objstore/s3_client.h"

#include <openssl/evp.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/testing/process.h"
#include "libs/testing/s3_server.h"
#include "libs/testing/status_matchers.h"

namespace shieldx::objstore {
namespace {

using ::shieldx::testing::S3Server;
using ::shieldx::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kBucket[] = "shieldx-test";

// Incremental SHA-256 (so 20 MiB never needs to be in one buffer).
class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  void Update(std::string_view d) { EVP_DigestUpdate(ctx_, d.data(), d.size()); }
  std::string Hex() {
    unsigned char out[32];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_, out, &n);
    return absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(out), n));
  }

 private:
  EVP_MD_CTX* ctx_;
};

// Deterministic pseudo-random bytes: byte i depends only on i and the seed.
char ByteAt(uint64_t i, uint64_t seed) {
  uint64_t x = (i / 8 + 1) * 0x9E3779B97F4A7C15ull ^ seed;
  x ^= x >> 31;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 29;
  return static_cast<char>(x >> ((i % 8) * 8));
}

class S3ClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto server = S3Server::Start({.source_root = SHIELDX_SOURCE_ROOT, .buckets = {kBucket}});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = server->release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(server_, nullptr);
    ASSERT_OK_AND_ASSIGN(client_, S3Client::Create(Config()));
  }
  static S3Config Config() {
    return {.endpoint = server_->endpoint(),
            .region = S3Server::kRegion,
            .access_key = S3Server::kAccessKey,
            .secret_key = S3Server::kSecretKey,
            .connect_timeout = absl::Milliseconds(500),
            .request_timeout = absl::Seconds(10),
            .stream_stall_timeout = absl::Seconds(10)};
  }
  // A key unique to the running test, so tests sharing the server do not collide.
  static std::string Key(const std::string& suffix) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    return absl::StrCat(info->name(), "/", suffix);
  }

  static S3Server* server_;
  std::unique_ptr<S3Client> client_;
};
S3Server* S3ClientTest::server_ = nullptr;

TEST_F(S3ClientTest, PutGetHeadDeleteRoundTripBinaryData) {
  const std::string key = Key("a b+c=d&e%.bin");  // needs path encoding
  const std::string data("bin\0ary\r\n\xff", 11);
  ASSERT_OK(client_->Put(kBucket, key, data, {.content_type = "application/x-test"}));
  ASSERT_OK_AND_ASSIGN(std::string got, client_->Get(kBucket, key, 1024));
  EXPECT_EQ(got, data);
  ASSERT_OK_AND_ASSIGN(ObjectInfo info, client_->Head(kBucket, key));
  EXPECT_EQ(info.key, key);
  EXPECT_EQ(info.size, data.size());
  EXPECT_EQ(info.content_type, "application/x-test");
  EXPECT_EQ(info.etag.size(), 32u);  // MD5 of a single-part object, quotes stripped
  EXPECT_GT(info.last_modified, absl::Now() - absl::Minutes(5));
  // Overwrite, then delete.
  ASSERT_OK(client_->Put(kBucket, key, "v2"));
  ASSERT_OK_AND_ASSIGN(got, client_->Get(kBucket, key, 1024));
  EXPECT_EQ(got, "v2");
  ASSERT_OK(client_->Delete(kBucket, key));
  EXPECT_THAT(client_->Head(kBucket, key), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_OK(client_->Delete(kBucket, key));  // deleting a missing key succeeds, as in S3
}

TEST_F(S3ClientTest, EmptyObjectRoundTrips) {
  ASSERT_OK(client_->Put(kBucket, Key("empty"), ""));
  ASSERT_OK_AND_ASSIGN(std::string got, client_->Get(kBucket, Key("empty"), 0));
  EXPECT_EQ(got, "");
  ASSERT_OK_AND_ASSIGN(ObjectInfo info, client_->Head(kBucket, Key("empty")));
  EXPECT_EQ(info.size, 0u);
}

TEST_F(S3ClientTest, MissingKeyOrBucketIsNotFoundNamingThem) {
  EXPECT_THAT(client_->Get(kBucket, Key("missing"), 1024),
              StatusIs(absl::StatusCode::kNotFound,
                       AllOf(HasSubstr(absl::StrCat("s3 GET ", kBucket, "/", Key("missing"))),
                             HasSubstr("404"), HasSubstr("NoSuchKey"))));
  EXPECT_THAT(client_->Head(kBucket, Key("missing")), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(client_->Get("no-such-bucket", "k", 1024),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no-such-bucket")));
  EXPECT_THAT(client_->List("no-such-bucket"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(client_->GetStream(kBucket, Key("missing"),
                                 [](std::string_view) { return absl::OkStatus(); }),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(S3ClientTest, InMemoryGetEnforcesTheSizeCap) {
  const std::string data(4096, 'x');
  ASSERT_OK(client_->Put(kBucket, Key("big"), data));
  EXPECT_THAT(client_->Get(kBucket, Key("big"), 4095),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       AllOf(HasSubstr("4095-byte cap"), HasSubstr(Key("big")))));
  ASSERT_OK_AND_ASSIGN(std::string exact, client_->Get(kBucket, Key("big"), 4096));
  EXPECT_EQ(exact.size(), 4096u);
}

TEST_F(S3ClientTest, ListPaginatesWithContinuationTokensAndFiltersByPrefix) {
  std::set<std::string> expected;
  for (int i = 0; i < 25; ++i) {
    const std::string key = Key(absl::StrCat("p/obj ", i < 10 ? "0" : "", i, "+x"));
    ASSERT_OK(client_->Put(kBucket, key, absl::StrCat(i)));
    expected.insert(key);
  }
  ASSERT_OK(client_->Put(kBucket, Key("q/other"), "not listed"));

  std::vector<std::string> seen;
  std::vector<size_t> page_sizes;
  ListOptions options{.prefix = Key("p/"), .max_keys = 10};
  for (int page = 0; page < 10; ++page) {
    ASSERT_OK_AND_ASSIGN(ListResult r, client_->List(kBucket, options));
    page_sizes.push_back(r.objects.size());
    for (const ObjectInfo& o : r.objects) {
      seen.push_back(o.key);
      EXPECT_GT(o.size, 0u);
      EXPECT_FALSE(o.etag.empty());
    }
    if (!r.truncated) break;
    options.continuation_token = r.next_continuation_token;
  }
  EXPECT_THAT(page_sizes, ::testing::ElementsAre(10, 10, 5));
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), expected);
  EXPECT_THAT(client_->List(kBucket, {.max_keys = 0}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(client_->List(kBucket, {.max_keys = kMaxListKeys + 1}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(S3ClientTest, StreamsA20MiBObjectBothWaysWithoutHoldingItInMemory) {
  constexpr uint64_t kSize = 20ull << 20;
  constexpr size_t kChunkCeiling = 1 << 20;  // no callback ever sees more than this
  Sha256 sent_hash;
  uint64_t offset = 0;
  size_t largest_read = 0;
  S3Reader reader = [&](char* buf, size_t cap) -> absl::StatusOr<size_t> {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(cap, kSize - offset));
    for (size_t i = 0; i < n; ++i) buf[i] = ByteAt(offset + i, 7);
    sent_hash.Update(std::string_view(buf, n));
    offset += n;
    largest_read = std::max(largest_read, n);
    return n;
  };
  ASSERT_OK(client_->PutStream(kBucket, Key("big.bin"), kSize, reader));
  EXPECT_EQ(offset, kSize);
  EXPECT_LE(largest_read, kChunkCeiling);

  ASSERT_OK_AND_ASSIGN(ObjectInfo head, client_->Head(kBucket, Key("big.bin")));
  EXPECT_EQ(head.size, kSize);

  Sha256 got_hash;
  uint64_t received = 0;
  size_t largest_write = 0;
  bool bytes_match = true;
  ASSERT_OK_AND_ASSIGN(ObjectInfo info,
                       client_->GetStream(kBucket, Key("big.bin"), [&](std::string_view chunk) {
                         for (size_t i = 0; i < chunk.size() && bytes_match; i += 4099) {
                           bytes_match = chunk[i] == ByteAt(received + i, 7);
                         }
                         got_hash.Update(chunk);
                         received += chunk.size();
                         largest_write = std::max(largest_write, chunk.size());
                         return absl::OkStatus();
                       }));
  EXPECT_EQ(received, kSize);
  EXPECT_EQ(info.size, kSize);
  EXPECT_TRUE(bytes_match);
  EXPECT_EQ(got_hash.Hex(), sent_hash.Hex());
  EXPECT_LE(largest_write, kChunkCeiling);
}

TEST_F(S3ClientTest, PutFileStreamsALocalFile) {
  ASSERT_OK_AND_ASSIGN(auto dir, shieldx::testing::TempDir::Create("objstore"));
  const std::string path = dir.path() + "/f.bin";
  std::string content;
  for (int i = 0; i < 300'000; ++i) content.push_back(ByteAt(i, 3));
  std::ofstream(path, std::ios::binary) << content;
  ASSERT_OK(client_->PutFile(kBucket, Key("f"), path, {.content_type = "text/plain"}));
  ASSERT_OK_AND_ASSIGN(std::string got, client_->Get(kBucket, Key("f"), 1 << 20));
  EXPECT_EQ(got, content);
  EXPECT_THAT(client_->PutFile(kBucket, Key("g"), dir.path() + "/missing"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("missing")));
  EXPECT_THAT(client_->PutFile(kBucket, Key("g"), dir.path()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a regular file")));
}

// (S3 and MinIO then keep no object; s3rver may keep what arrived, so that is not asserted.)
TEST_F(S3ClientTest, FailingOrShortReaderAbortsTheUploadWithTheReadersStatus) {
  S3Reader failing = [](char*, size_t) -> absl::StatusOr<size_t> {
    return absl::DataLossError("disk gone");
  };
  EXPECT_THAT(
      client_->PutStream(kBucket, Key("r1"), 100, failing),
      StatusIs(absl::StatusCode::kDataLoss, AllOf(HasSubstr("disk gone"), HasSubstr(Key("r1")))));
  int calls = 0;
  S3Reader short_reader = [&](char* buf, size_t cap) -> absl::StatusOr<size_t> {
    if (calls++ > 0) return 0;
    const size_t n = std::min<size_t>(cap, 10);
    std::fill(buf, buf + n, 'a');
    return n;
  };
  EXPECT_THAT(client_->PutStream(kBucket, Key("r2"), 100, short_reader),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("after 10 of 100")));
  // A reader returning more than it was asked for is a bug caught the same way.
  S3Reader greedy = [](char*, size_t cap) -> absl::StatusOr<size_t> { return cap + 1; };
  EXPECT_THAT(client_->PutStream(kBucket, Key("r3"), 100, greedy),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("asked for at most")));
}

TEST_F(S3ClientTest, FailingWriterAbortsTheDownloadWithItsStatus) {
  ASSERT_OK(client_->Put(kBucket, Key("w"), std::string(100'000, 'w')));
  EXPECT_THAT(client_->GetStream(kBucket, Key("w"),
                                 [](std::string_view) { return absl::AbortedError("full"); }),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("full")));
}

TEST_F(S3ClientTest, EnsureBucketCreatesOnceAndIsIdempotent) {
  ASSERT_OK(client_->EnsureBucket("fresh-bucket"));
  ASSERT_OK(client_->EnsureBucket("fresh-bucket"));
  ASSERT_OK(client_->Put("fresh-bucket", "k", "v"));
  ASSERT_OK(client_->EnsureBucket("fresh-bucket"));  // not emptied
  ASSERT_OK_AND_ASSIGN(std::string v, client_->Get("fresh-bucket", "k", 10));
  EXPECT_EQ(v, "v");
  ASSERT_OK(client_->EnsureBucket(kBucket));
}

TEST_F(S3ClientTest, InvalidNamesAreRejectedBeforeAnyRequest) {
  EXPECT_THAT(client_->Put("UPPER", "k", "v"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(client_->Put("ab", "k", "v"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(client_->Put(kBucket, "", "v"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(client_->Put(kBucket, std::string(kMaxKeyBytes + 1, 'k'), "v"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("1025 bytes")));
  EXPECT_THAT(client_->EnsureBucket("bad_bucket"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(S3ClientTest, ConfigIsValidatedAndTheSecretNeverAppearsInErrors) {
  S3Config c = Config();
  c.endpoint = "127.0.0.1:1";
  EXPECT_THAT(S3Client::Create(c),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("http(s)://")));
  c = Config();
  c.endpoint += "/path";
  EXPECT_THAT(S3Client::Create(c), StatusIs(absl::StatusCode::kInvalidArgument));
  c = Config();
  c.secret_key = "";
  EXPECT_THAT(S3Client::Create(c),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("secret_key is empty")));
  c = Config();
  c.region = "us east";
  EXPECT_THAT(S3Client::Create(c), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(S3ClientTest, EightThreadsShareOneClient) {
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        const std::string key = Key(absl::StrCat("t", t, "/", i));
        const std::string value = absl::StrCat("value-", t, "-", i);
        if (!client_->Put(kBucket, key, value).ok()) ++failures;
        auto got = client_->Get(kBucket, key, 100);
        if (!got.ok() || *got != value) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_OK_AND_ASSIGN(ListResult all, client_->List(kBucket, {.prefix = Key("t")}));
  EXPECT_EQ(all.objects.size(), 80u);
}

// Runs last in this suite: it stops the shared server.
TEST_F(S3ClientTest, ZzServerDownIsUnavailableQuicklyNamingTheObjectAndNeverTheSecret) {
  server_->Stop();
  S3Config c = Config();
  c.secret_key = "very-secret-value";
  ASSERT_OK_AND_ASSIGN(auto client, S3Client::Create(c));
  const absl::Time start = absl::Now();
  EXPECT_THAT(client->Get(kBucket, "k", 10),
              StatusIs(absl::StatusCode::kUnavailable,
                       AllOf(HasSubstr(absl::StrCat(kBucket, "/k")), HasSubstr(c.endpoint),
                             Not(HasSubstr("very-secret-value")))));
  EXPECT_THAT(client->Put(kBucket, "k", "v"), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(client->List(kBucket), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  ASSERT_OK(server_->StartAgain());
  EXPECT_OK(client->Put(kBucket, "k", "v"));
}

}  // namespace
}  // namespace shieldx::objstore
