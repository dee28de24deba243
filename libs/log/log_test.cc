#include "libs/log/log.h"

#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "libs/testing/process.h"
#include "nlohmann/json.hpp"

namespace shieldx::log {
namespace {

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = shieldx::testing::TempDir::Create("shieldx-log");
    ASSERT_TRUE(dir.ok());
    dir_ = std::make_unique<shieldx::testing::TempDir>(std::move(*dir));
    path_ = dir_->path() + "/log.jsonl";
    Init("credits", Level::kInfo, path_);
  }
  void TearDown() override { Init("unknown", Level::kInfo); }

  std::vector<nlohmann::json> Lines() {
    Flush();
    std::ifstream in(path_);
    std::vector<nlohmann::json> out;
    std::string line;
    while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
    return out;
  }

  std::unique_ptr<shieldx::testing::TempDir> dir_;
  std::string path_;
};

TEST_F(LogTest, WritesOneJsonObjectPerLineWithStandardKeys) {
  Info("listening", {{"port", 9090}, {"tls", false}, {"ratio", 0.5}, {"addr", "127.0.0.1"}});
  auto lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  const auto& j = lines[0];
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["msg"], "listening");
  EXPECT_EQ(j["service"], "credits");
  EXPECT_EQ(j["trace_id"], "");
  EXPECT_EQ(j["port"], 9090);
  EXPECT_EQ(j["tls"], false);
  EXPECT_DOUBLE_EQ(j["ratio"].get<double>(), 0.5);
  EXPECT_EQ(j["addr"], "127.0.0.1");
  EXPECT_EQ(j["ts"].get<std::string>().size(), 24u);  // 2026-11-29T06:02:11.123Z
}

TEST_F(LogTest, RawJsonIsEmbeddedAsAnObject) {
  Info("effective config",
       {{"config", RawJson{R"({"grpc_listen":"0.0.0.0:9090","pg_dsn":"<redacted>"})"}}});
  auto lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["config"]["pg_dsn"], "<redacted>");
}

TEST_F(LogTest, LevelsBelowTheMinimumAreDropped) {
  Debug("hidden");
  Warn("shown");
  auto lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["level"], "warn");
}

TEST_F(LogTest, HostileStringsStayOneValidLine) {
  std::string hostile = "a\"b\\c\nd\r\x01\xff\xc0\xaf end";
  hostile += std::string(5000, 'x');
  Error(hostile, {{"field", hostile}});
  auto lines = Lines();  // parse would throw on invalid JSON or split lines
  ASSERT_EQ(lines.size(), 1u);
  const std::string msg = lines[0]["msg"];
  EXPECT_NE(msg.find("a\"b\\c\nd"), std::string::npos);
  EXPECT_NE(msg.find("(truncated)"), std::string::npos);
  EXPECT_LT(msg.size(), kMaxFieldBytes + 64);
}

TEST_F(LogTest, TraceIdScopesNestAndRestore) {
  {
    ScopedTraceId outer("aaaa");
    Info("one");
    {
      ScopedTraceId inner("bbbb");
      Info("two");
    }
    Info("three");
  }
  Info("four");
  auto lines = Lines();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0]["trace_id"], "aaaa");
  EXPECT_EQ(lines[1]["trace_id"], "bbbb");
  EXPECT_EQ(lines[2]["trace_id"], "aaaa");
  EXPECT_EQ(lines[3]["trace_id"], "");
}

TEST_F(LogTest, ConcurrentWritersNeverInterleaveLines) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < 250; ++i) Info("tick", {{"thread", t}, {"i", i}});
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(Lines().size(), 1000u);
}

TEST(LogLevels, ParseAcceptsKnownNamesOnly) {
  Level l;
  EXPECT_TRUE(ParseLevel("debug", &l));
  EXPECT_EQ(l, Level::kDebug);
  EXPECT_TRUE(ParseLevel("error", &l));
  EXPECT_EQ(l, Level::kError);
  EXPECT_FALSE(ParseLevel("verbose", &l));
  EXPECT_FALSE(ParseLevel("", &l));
}

TEST(TraceIds, AreSixteenHexDigitsAndDiffer) {
  std::string a = NewTraceId(), b = NewTraceId();
  EXPECT_EQ(a.size(), 16u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace shieldx::log
