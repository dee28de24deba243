#include "services/contauth/profile_cipher.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/testing/status_matchers.h"

namespace shieldx::contauth {
namespace {

using ::shieldx::testing::StatusIs;
using ::testing::HasSubstr;

const std::string kMasterA(32, 'a');
const std::string kMasterB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

TEST(ProfileCipher, SealThenOpenRoundTripsAndHidesThePlaintext) {
  ASSERT_OK_AND_ASSIGN(ProfileCipher c, ProfileCipher::Create("k1", kMasterA));
  const std::string plain = "hold_ms 91.5 down_down 182";
  ASSERT_OK_AND_ASSIGN(std::string sealed, c.Seal("acme", "profile:alice", plain));
  EXPECT_EQ(sealed.find("hold_ms"), std::string::npos);
  EXPECT_EQ(sealed.size(), 4 + 1 + 2 + 12 + plain.size() + 16);
  ASSERT_OK_AND_ASSIGN(std::string opened, c.Open("acme", "profile:alice", sealed));
  EXPECT_EQ(opened, plain);
  ASSERT_OK_AND_ASSIGN(std::string key_id, ProfileCipher::KeyIdOf(sealed));
  EXPECT_EQ(key_id, "k1");
  // Random nonces: sealing twice gives different bytes.
  ASSERT_OK_AND_ASSIGN(std::string again, c.Seal("acme", "profile:alice", plain));
  EXPECT_NE(again, sealed);
}

TEST(ProfileCipher, AnotherTenantOrRowCannotOpenIt) {
  ASSERT_OK_AND_ASSIGN(ProfileCipher c, ProfileCipher::Create("k1", kMasterA));
  ASSERT_OK_AND_ASSIGN(std::string sealed, c.Seal("acme", "profile:alice", "x"));
  EXPECT_THAT(c.Open("globex", "profile:alice", sealed), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(c.Open("acme", "profile:bob", sealed), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(ProfileCipher, TamperedOrTruncatedBytesAreRejected) {
  ASSERT_OK_AND_ASSIGN(ProfileCipher c, ProfileCipher::Create("k1", kMasterA));
  ASSERT_OK_AND_ASSIGN(std::string sealed, c.Seal("acme", "profile:alice", "payload"));
  std::string flipped = sealed;
  flipped[flipped.size() - 20] ^= 1;
  EXPECT_THAT(c.Open("acme", "profile:alice", flipped), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(c.Open("acme", "profile:alice", sealed.substr(0, 10)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("truncated")));
  EXPECT_THAT(c.Open("acme", "profile:alice", "XXXX"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("magic")));
}

TEST(ProfileCipher, RotationOpensOldRowsWithTheRetiredKeyAndSealsWithTheNewOne) {
  ASSERT_OK_AND_ASSIGN(ProfileCipher old_c, ProfileCipher::Create("k1", kMasterA));
  ASSERT_OK_AND_ASSIGN(std::string old_row, old_c.Seal("acme", "profile:alice", "old"));
  ASSERT_OK_AND_ASSIGN(auto retired, ProfileCipher::ParseRetiredKeys("k1:" + kMasterA));
  ASSERT_OK_AND_ASSIGN(ProfileCipher new_c, ProfileCipher::Create("k2", kMasterB, retired));
  ASSERT_OK_AND_ASSIGN(std::string opened, new_c.Open("acme", "profile:alice", old_row));
  EXPECT_EQ(opened, "old");
  ASSERT_OK_AND_ASSIGN(std::string new_row, new_c.Seal("acme", "profile:alice", "new"));
  ASSERT_OK_AND_ASSIGN(std::string new_id, ProfileCipher::KeyIdOf(new_row));
  EXPECT_EQ(new_id, "k2");
  // Without the retired key, old rows fail naming the key id.
  ASSERT_OK_AND_ASSIGN(ProfileCipher only_new, ProfileCipher::Create("k2", kMasterB));
  EXPECT_THAT(only_new.Open("acme", "profile:alice", old_row),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("key id k1")));
}

TEST(ProfileCipher, PerTenantKeysDiffer) {
  // The same master, plaintext and row context sealed for two tenants: each opens only its own.
  ASSERT_OK_AND_ASSIGN(ProfileCipher c, ProfileCipher::Create("k1", kMasterA));
  ASSERT_OK_AND_ASSIGN(std::string a, c.Seal("t1", "profile:u", "same"));
  ASSERT_OK_AND_ASSIGN(std::string b, c.Seal("t2", "profile:u", "same"));
  EXPECT_OK(c.Open("t1", "profile:u", a).status());
  EXPECT_OK(c.Open("t2", "profile:u", b).status());
  EXPECT_FALSE(c.Open("t2", "profile:u", a).ok());
}

TEST(ProfileCipher, BadKeysAreRejectedAtCreation) {
  EXPECT_THAT(ProfileCipher::Create("k1", "short"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("profile_master_key")));
  EXPECT_THAT(ProfileCipher::Create("bad id", kMasterA),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("profile_key_id")));
  EXPECT_THAT(ProfileCipher::Create("k1", kMasterA, {{"k1", kMasterB}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("also the current")));
  EXPECT_THAT(ProfileCipher::ParseRetiredKeys("nocolon"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("id:secret")));
  EXPECT_THAT(ProfileCipher::ParseRetiredKeys("a:" + kMasterA + ",a:" + kMasterB),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("twice")));
}

}  // namespace
}  // namespace shieldx::contauth
