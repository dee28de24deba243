#include "libs/config/env.h"

#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/testing/process.h"
#include "libs/testing/status_matchers.h"

namespace shieldx::config {
namespace {

using ::shieldx::testing::StatusIs;
using ::shieldx::testing::TempDir;
using ::testing::Contains;
using ::testing::HasSubstr;

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

TEST(ProcessConfigEnv, ReadsTheRealEnvironmentWithoutChangingIt) {
  ProcessConfigEnv env;
  EXPECT_TRUE(env.Get("PATH").has_value());
  EXPECT_FALSE(env.Get("SHIELDX_CONFIG_TEST_SURELY_UNSET_VARIABLE").has_value());
  EXPECT_THAT(env.Names(), Contains("PATH"));
}

TEST(ProcessConfigEnv, ReadsAFileUpToTheLimit) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("config-env"));
  std::string path = dir.path() + "/f";
  WriteFile(path, std::string(100, 'x'));
  ProcessConfigEnv env;
  ASSERT_OK_AND_ASSIGN(std::string content, env.ReadFile(path, 100));
  EXPECT_EQ(content.size(), 100u);
  EXPECT_THAT(env.ReadFile(path, 99),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(path + " is larger than the limit of 99 bytes")));
}

TEST(ProcessConfigEnv, ReadsFilesLargerThanOneBuffer) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("config-env"));
  std::string path = dir.path() + "/big";
  std::string big(100 * 1024 + 7, 'y');
  WriteFile(path, big);
  ProcessConfigEnv env;
  ASSERT_OK_AND_ASSIGN(std::string content, env.ReadFile(path, big.size()));
  EXPECT_EQ(content, big);
}

TEST(ProcessConfigEnv, MissingFileIsNotFoundNamingThePath) {
  ProcessConfigEnv env;
  EXPECT_THAT(env.ReadFile("/nonexistent/shieldx.json", 10),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("cannot read /nonexistent/shieldx.json: No such file")));
}

TEST(ProcessConfigEnv, DirectoryIsAnErrorNotACrash) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("config-env"));
  ProcessConfigEnv env;
  EXPECT_THAT(env.ReadFile(dir.path(), 10),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("Is a directory")));
}

TEST(InMemoryConfigEnv, BehavesLikeTheProcessEnvironment) {
  InMemoryConfigEnv env({{"A", "1"}, {"EMPTY", ""}});
  env.SetFile("/f", "abc");
  EXPECT_EQ(env.Get("A"), "1");
  EXPECT_EQ(env.Get("EMPTY"), "");
  EXPECT_FALSE(env.Get("B").has_value());
  EXPECT_THAT(env.Names(), ::testing::ElementsAre("A", "EMPTY"));
  EXPECT_EQ(*env.ReadFile("/f", 3), "abc");
  EXPECT_THAT(env.ReadFile("/f", 2), StatusIs(absl::StatusCode::kInvalidArgument,
                                              HasSubstr("/f is larger than the limit of 2 bytes")));
  EXPECT_THAT(env.ReadFile("/g", 2), StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace shieldx::config
