#include "libs/policy/ip.h"

#include "gtest/gtest.h"

namespace shieldx::policy {
namespace {

TEST(IpAddress, ParsesV4AsMapped) {
  auto ip = IpAddress::Parse("10.1.2.3");
  ASSERT_TRUE(ip.has_value());
  EXPECT_TRUE(ip->is_v4_mapped());
  EXPECT_EQ(ip->ToString(), "10.1.2.3");
  EXPECT_EQ(*ip, *IpAddress::Parse("::ffff:10.1.2.3"));
}

}  // namespace
}  // namespace shieldx::policy
