#include "services/contauth/context_model.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shieldx::contauth {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;

ContextObservation Obs(absl::Time at, std::string device, std::string ip, std::string country,
                       double lat, double lon) {
  ContextObservation o;
  o.at = at;
  o.device_id = std::move(device);
  o.network = NetworkOf(ip);
  o.country = std::move(country);
  o.agent = "Chrome/Windows";
  o.has_location = true;
  o.latitude = lat;
  o.longitude = lon;
  return o;
}

TEST(Context, NetworksAreSlash24AndSlash48) {
  EXPECT_EQ(NetworkOf("203.0.113.77"), "203.0.113.0/24");
  EXPECT_EQ(NetworkOf("2001:db8:1:2::5"), "2001:db8:1::/48");
  EXPECT_EQ(NetworkOf("not-an-ip"), "");
}

TEST(Context, AgentFamiliesIgnoreVersions) {
  EXPECT_EQ(AgentFamily("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, "
                        "like Gecko) Chrome/120.0.0.0 Safari/537.36"),
            "Chrome/Windows");
  EXPECT_EQ(AgentFamily("Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"),
            "Firefox/Linux");
  EXPECT_EQ(AgentFamily("curl/8.4.0"), "script/other");
}

TEST(Context, NoHistoryMeansNoInformation) {
  ContextProfile p;
  const ContextAssessment a =
      EvaluateContext(p, Obs(absl::Now(), "d1", "203.0.113.5", "DE", 52.5, 13.4));
  EXPECT_TRUE(a.evaluated);
  EXPECT_DOUBLE_EQ(a.score, 0.5);
  EXPECT_DOUBLE_EQ(a.confidence, 0);
}

TEST(Context, KnownContextScoresLowAndNewDeviceAndNetworkAreReasons) {
  ContextProfile p;
  const absl::Time t0 = absl::FromUnixSeconds(1'700'000'000);
  for (int i = 0; i < 5; ++i) {
    LearnContext(Obs(t0 + absl::Hours(24 * i), "d1", "203.0.113.5", "DE", 52.5, 13.4), &p);
  }
  const ContextAssessment known =
      EvaluateContext(p, Obs(t0 + absl::Hours(24 * 6), "d1", "203.0.113.9", "DE", 52.5, 13.4));
  EXPECT_LT(known.score, 0.15);
  EXPECT_TRUE(known.reasons.empty());
  const ContextAssessment fresh =
      EvaluateContext(p, Obs(t0 + absl::Hours(24 * 6), "d2", "198.51.100.1", "DE", 52.5, 13.4));
  EXPECT_GT(fresh.score, 0.5);
  EXPECT_THAT(fresh.reasons, ElementsAre(Field(&RiskReason::code, "NEW_DEVICE"),
                                         Field(&RiskReason::code, "NEW_NETWORK")));
}

TEST(Context, ImpossibleTravelIsTheStrongestReason) {
  ContextProfile p;
  const absl::Time t0 = absl::FromUnixSeconds(1'700'000'000);
  for (int i = 0; i < 3; ++i)
    LearnContext(Obs(t0 + absl::Minutes(i), "d1", "203.0.113.5", "DE", 52.52, 13.40), &p);
  // Berlin -> New York (6,400 km) in one hour.
  const ContextAssessment a =
      EvaluateContext(p, Obs(t0 + absl::Hours(1), "d1", "203.0.113.5", "US", 40.71, -74.0));
  ASSERT_FALSE(a.reasons.empty());
  EXPECT_EQ(a.reasons[0].code, "IMPOSSIBLE_TRAVEL");
  EXPECT_GT(a.score, 0.95);
  // The same trip over a day is plausible.
  const ContextAssessment slow =
      EvaluateContext(p, Obs(t0 + absl::Hours(24), "d1", "203.0.113.5", "US", 40.71, -74.0));
  for (const RiskReason& r : slow.reasons) EXPECT_NE(r.code, "IMPOSSIBLE_TRAVEL");
}

TEST(Context, KnownListsAreBounded) {
  ContextProfile p;
  const absl::Time t0 = absl::FromUnixSeconds(1'700'000'000);
  for (int i = 0; i < 100; ++i) {
    LearnContext(Obs(t0 + absl::Minutes(i), absl::StrCat("d", i), absl::StrCat("10.0.", i, ".1"),
                     "DE", 52.5, 13.4),
                 &p);
  }
  EXPECT_EQ(p.devices.size(), kMaxKnownDevices);
  EXPECT_EQ(p.networks.size(), kMaxKnownNetworks);
  EXPECT_EQ(p.devices.back().value, "d99");  // the most recent survive
}

}  // namespace
}  // namespace shieldx::contauth
