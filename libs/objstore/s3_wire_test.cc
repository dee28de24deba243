#include "libs/objstore/s3_wire.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/testing/status_matchers.h"

namespace shieldx::objstore::internal {
namespace {

using ::shieldx::testing::StatusIs;

TEST(UriEncode, KeepsUnreservedAndOptionallySlashEncodesEverythingElseUppercase) {
  EXPECT_EQ(UriEncode("aZ09-_.~", false), "aZ09-_.~");
  EXPECT_EQ(UriEncode("a/b c+d=e&f", true), "a/b%20c%2Bd%3De%26f");
  EXPECT_EQ(UriEncode("a/b", false), "a%2Fb");
  EXPECT_EQ(UriEncode("\xc3\xa9\x01", false), "%C3%A9%01");
}

TEST(CanonicalQuery, SortsByNameAndEncodesValues) {
  EXPECT_EQ(CanonicalQuery({{"prefix", "a/b c"},
                            {"list-type", "2"},
                            {"continuation-token", "ab+c="},
                            {"max-keys", "10"}}),
            "continuation-token=ab%2Bc%3D&list-type=2&max-keys=10&prefix=a%2Fb%20c");
  EXPECT_EQ(CanonicalQuery({}), "");
}

TEST(XmlUnescape, DecodesPredefinedAndNumericEntitiesAndKeepsUnknownOnes) {
  EXPECT_EQ(XmlUnescape("a&amp;b&lt;c&gt;&quot;&apos;"), "a&b<c>\"'");
  EXPECT_EQ(XmlUnescape("&#65;&#x42;&#xe9;"), "AB\xc3\xa9");
  EXPECT_EQ(XmlUnescape("&bogus; & &#xZZ;"), "&bogus; & &#xZZ;");
}

TEST(ParseListResult, ReadsEntriesAndContinuation) {
  const char* xml =
      R"(<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="x"><Name>b1</Name>)"
      R"(<KeyCount>2</KeyCount><MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated>)"
      R"(<Contents><Key>a &amp; b/c.txt</Key><LastModified>2024-01-02T03:04:05.000Z</LastModified>)"
      R"(<ETag>&quot;5d41402abc4b2a76b9719d911017c592&quot;</ETag><Size>5</Size></Contents>)"
      R"(<Contents><Key>z</Key><Size>0</Size></Contents>)"
      R"(<NextContinuationToken>tok+/=</NextContinuationToken></ListBucketResult>)";
  ASSERT_OK_AND_ASSIGN(ListResult r, ParseListResult(xml));
  ASSERT_EQ(r.objects.size(), 2u);
  EXPECT_EQ(r.objects[0].key, "a & b/c.txt");
  EXPECT_EQ(r.objects[0].size, 5u);
  EXPECT_EQ(r.objects[0].etag, "5d41402abc4b2a76b9719d911017c592");
  EXPECT_EQ(r.objects[0].last_modified, absl::FromUnixSeconds(1704164645));
  EXPECT_EQ(r.objects[1].key, "z");
  EXPECT_TRUE(r.truncated);
  EXPECT_EQ(r.next_continuation_token, "tok+/=");
}

TEST(ParseListResult, RejectsOtherDocumentsAndBrokenEntries) {
  EXPECT_THAT(ParseListResult("<Error><Code>X</Code></Error>"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseListResult("<ListBucketResult><Contents><Key>k</Key></Contents>"
                              "</ListBucketResult>"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseListResult("<ListBucketResult><IsTruncated>true</IsTruncated>"
                              "</ListBucketResult>"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_OK_AND_ASSIGN(ListResult empty, ParseListResult("<ListBucketResult></ListBucketResult>"));
  EXPECT_TRUE(empty.objects.empty());
  EXPECT_FALSE(empty.truncated);
}

TEST(ParseErrorBody, ExtractsCodeAndMessage) {
  auto [code, message] = ParseErrorBody(
      "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>The key &lt;k&gt; does not "
      "exist</Message></Error>");
  EXPECT_EQ(code, "NoSuchKey");
  EXPECT_EQ(message, "The key <k> does not exist");
  EXPECT_EQ(ParseErrorBody("").first, "");
}

}  // namespace
}  // namespace shieldx::objstore::internal
