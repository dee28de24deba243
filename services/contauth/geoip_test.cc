#include "services/contauth/geoip.h"

#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/testing/process.h"
#include "libs/testing/status_matchers.h"
#include "services/contauth/mmdb_test_writer.h"

namespace shieldx::contauth {
namespace {

using ::shieldx::testing::StatusIs;
using ::testing::HasSubstr;

TEST(MaxMindGeo, LooksUpCountryAndLocationInARealDatabaseFile) {
  ASSERT_OK_AND_ASSIGN(auto dir, ::shieldx::testing::TempDir::Create("contauth-geo"));
  const std::string path = dir.path() + "/test.mmdb";
  ASSERT_TRUE(testing::WriteTestMmdb(path, {{"203.0.113.0", 24, "DE", 52.52, 13.405},
                                            {"198.51.100.0", 24, "US", 40.71, -74.0},
                                            {"10.0.0.0", 8, "NL", 52.37, 4.89}}));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<MaxMindGeo> geo, MaxMindGeo::Open(path));
  EXPECT_EQ(geo->database_type(), "ShieldX-Test-City");
  std::optional<GeoInfo> de = geo->Lookup("203.0.113.77");
  ASSERT_TRUE(de.has_value());
  EXPECT_EQ(de->country, "DE");
  EXPECT_TRUE(de->has_location);
  EXPECT_NEAR(de->latitude, 52.52, 1e-9);
  EXPECT_NEAR(de->longitude, 13.405, 1e-9);
  ASSERT_TRUE(geo->Lookup("198.51.100.1").has_value());
  EXPECT_EQ(geo->Lookup("198.51.100.1")->country, "US");
  EXPECT_EQ(geo->Lookup("10.200.3.4")->country, "NL");
  EXPECT_FALSE(geo->Lookup("192.0.2.1").has_value());  // not in the database
  EXPECT_FALSE(geo->Lookup("not an ip").has_value());
  EXPECT_FALSE(geo->Lookup("2001:db8::1").has_value());  // IPv6 in an IPv4 database
}

TEST(MaxMindGeo, MissingOrCorruptDatabaseIsAnErrorNamingThePath) {
  EXPECT_THAT(MaxMindGeo::Open("/nonexistent/geo.mmdb"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent/geo.mmdb")));
  ASSERT_OK_AND_ASSIGN(auto dir, ::shieldx::testing::TempDir::Create("contauth-geo"));
  const std::string path = dir.path() + "/junk.mmdb";
  std::ofstream(path) << "this is not a maxmind database";
  EXPECT_THAT(MaxMindGeo::Open(path),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("junk.mmdb")));
}

TEST(DistanceKm, BerlinToNewYorkIsAbout6400Km) {
  EXPECT_NEAR(DistanceKm(52.52, 13.405, 40.71, -74.0), 6385, 30);
  EXPECT_NEAR(DistanceKm(1, 1, 1, 1), 0, 1e-9);
}

}  // namespace
}  // namespace shieldx::contauth
