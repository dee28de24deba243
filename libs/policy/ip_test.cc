#include "libs/policy/ip.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shieldx::policy {
namespace {

using ::testing::HasSubstr;

IpAddress Ip(const char* text) {
  auto ip = IpAddress::Parse(text);
  EXPECT_TRUE(ip.has_value()) << text;
  return ip.value_or(IpAddress{});
}

IpRangeSet Set(std::initializer_list<const char*> cidrs) {
  IpRangeSet set;
  for (const char* c : cidrs) {
    std::string error;
    auto cidr = Cidr::Parse(c, &error);
    EXPECT_TRUE(cidr.has_value()) << c << ": " << error;
    if (cidr) set.Add(*cidr);
  }
  set.Build();
  return set;
}

TEST(IpAddress, ParsesV4AsMappedSoBothSpellingsAreEqual) {
  IpAddress ip = Ip("10.1.2.3");
  EXPECT_TRUE(ip.is_v4_mapped());
  EXPECT_EQ(ip.ToString(), "10.1.2.3");
  EXPECT_EQ(ip, Ip("::ffff:10.1.2.3"));
  EXPECT_EQ(ip, IpAddress::FromV4(0x0a010203));
}

TEST(IpAddress, ParsesV6AndPrintsCanonically) {
  IpAddress ip = Ip("2001:DB8:0:0::1");
  EXPECT_FALSE(ip.is_v4_mapped());
  EXPECT_EQ(ip.ToString(), "2001:db8::1");
  EXPECT_EQ(IpAddress::FromUint128(ip.ToUint128()), ip);
}

TEST(IpAddress, RejectsMalformedText) {
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4/8", "[::1]", "::1%eth0",
                          "2001:db8::1::2", "abc", " 1.2.3.4", "1.2.3.4:80"}) {
    EXPECT_FALSE(IpAddress::Parse(bad).has_value()) << bad;
  }
  EXPECT_FALSE(IpAddress::Parse(std::string(100, '1')).has_value());
}

TEST(Cidr, ParsesV4PrefixOntoTheMappedRange) {
  std::string error;
  auto c = Cidr::Parse("10.0.0.0/8", &error);
  ASSERT_TRUE(c.has_value()) << error;
  EXPECT_EQ(c->prefix_bits, 104);
  EXPECT_TRUE(c->Contains(Ip("10.255.0.1")));
  EXPECT_TRUE(c->Contains(Ip("::ffff:10.9.9.9")));
  EXPECT_FALSE(c->Contains(Ip("11.0.0.0")));
}

TEST(Cidr, BareAddressIsAHostRoute) {
  std::string error;
  auto v4 = Cidr::Parse("192.0.2.1", &error);
  ASSERT_TRUE(v4.has_value());
  EXPECT_EQ(v4->prefix_bits, 128);
  auto v6 = Cidr::Parse("2001:db8::1", &error);
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(v6->prefix_bits, 128);
}

TEST(Cidr, RejectsBadPrefixesAndHostBits) {
  std::string error;
  EXPECT_FALSE(Cidr::Parse("10.0.0.0/33", &error).has_value());
  EXPECT_THAT(error, HasSubstr("not in 0..32"));
  EXPECT_FALSE(Cidr::Parse("2001:db8::/129", &error).has_value());
  EXPECT_THAT(error, HasSubstr("not in 0..128"));
  EXPECT_FALSE(Cidr::Parse("10.0.0.0/", &error).has_value());
  EXPECT_FALSE(Cidr::Parse("10.0.0.0/x", &error).has_value());
  EXPECT_FALSE(Cidr::Parse("10.0.0.0/-1", &error).has_value());
  EXPECT_FALSE(Cidr::Parse("10.0.0.1/8", &error).has_value());
  EXPECT_THAT(error, HasSubstr("host bits"));
  EXPECT_FALSE(Cidr::Parse("nope/8", &error).has_value());
  EXPECT_THAT(error, HasSubstr("not an IPv4 or IPv6 address"));
}

TEST(IpRangeSet, MatchesV4AndV6AndMappedV6) {
  IpRangeSet set = Set({"10.0.0.0/8", "192.168.1.0/24", "2001:db8::/32"});
  EXPECT_TRUE(set.Contains(Ip("10.0.0.0")));
  EXPECT_TRUE(set.Contains(Ip("10.255.255.255")));
  EXPECT_TRUE(set.Contains(Ip("::ffff:10.1.1.1")));
  EXPECT_TRUE(set.Contains(Ip("192.168.1.200")));
  EXPECT_TRUE(set.Contains(Ip("2001:db8:ffff::1")));
  EXPECT_FALSE(set.Contains(Ip("9.255.255.255")));
  EXPECT_FALSE(set.Contains(Ip("11.0.0.0")));
  EXPECT_FALSE(set.Contains(Ip("192.168.2.1")));
  EXPECT_FALSE(set.Contains(Ip("2001:db9::1")));
  // An IPv6 address whose low 32 bits equal 10.x is not IPv4-mapped.
  EXPECT_FALSE(set.Contains(Ip("::10.1.1.1")));
}

TEST(IpRangeSet, MergesOverlappingAndAdjacentRanges) {
  IpRangeSet set = Set({"10.0.0.0/9", "10.128.0.0/9", "10.1.0.0/16", "10.0.0.5", "172.16.0.0/12"});
  EXPECT_EQ(set.range_count(), 2u);
  EXPECT_TRUE(set.Contains(Ip("10.200.0.1")));
  EXPECT_TRUE(set.Contains(Ip("172.31.255.255")));
  EXPECT_FALSE(set.Contains(Ip("172.32.0.0")));
}

TEST(IpRangeSet, EverythingAndNothing) {
  IpRangeSet empty;
  empty.Build();
  EXPECT_FALSE(empty.Contains(Ip("1.2.3.4")));
  IpRangeSet all = Set({"::/0", "0.0.0.0/0"});
  EXPECT_EQ(all.range_count(), 1u);
  EXPECT_TRUE(all.Contains(Ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
  EXPECT_TRUE(all.Contains(Ip("::")));
  IpRangeSet v4_all = Set({"0.0.0.0/0"});
  EXPECT_TRUE(v4_all.Contains(Ip("255.255.255.255")));
  EXPECT_FALSE(v4_all.Contains(Ip("2001:db8::1")));
}

}  // namespace
}  // namespace shieldx::policy
