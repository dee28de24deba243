#include "libs/testing/process.h"

#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/testing/status_matchers.h"

namespace shieldx::testing {
namespace {

using ::testing::HasSubstr;

TEST(TempDir, IsCreatedTraversableAndRemoved) {
  std::string path;
  {
    ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("shieldx-test"));
    path = dir.path();
    struct stat st {};
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0755u);
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(TempDir, MoveAssignmentRemovesTheOldDirectoryAndKeepsTheNewOne) {
  ASSERT_OK_AND_ASSIGN(TempDir a, TempDir::Create("shieldx-test-a"));
  ASSERT_OK_AND_ASSIGN(TempDir b, TempDir::Create("shieldx-test-b"));
  const std::string old_a = a.path(), old_b = b.path();
  a = std::move(b);
  EXPECT_FALSE(std::filesystem::exists(old_a));
  EXPECT_EQ(a.path(), old_b);
  EXPECT_TRUE(std::filesystem::exists(old_b));
}

TEST(PickFreePort, ReturnsAnUnprivilegedPort) {
  ASSERT_OK_AND_ASSIGN(int port, PickFreePort());
  EXPECT_GT(port, 1024);
  EXPECT_LT(port, 65536);
}

TEST(WaitForTcpPort, TimesOutOnAClosedPort) {
  ASSERT_OK_AND_ASSIGN(int port, PickFreePort());
  EXPECT_THAT(WaitForTcpPort(port, absl::Milliseconds(100)),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
}

TEST(RunCommand, CapturesOutputAndReportsFailure) {
  ASSERT_OK_AND_ASSIGN(std::string out, RunCommand({.argv = {"sh", "-c", "echo hello"}}));
  EXPECT_EQ(out, "hello\n");
  EXPECT_THAT(RunCommand({.argv = {"sh", "-c", "echo oops; exit 3"}}),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("exited 3: oops")));
}

TEST(Subprocess, StopEndsALongRunningChild) {
  ASSERT_OK_AND_ASSIGN(Subprocess p, Subprocess::Start({.argv = {"sleep", "30"}}));
  EXPECT_TRUE(p.Running());
  p.Stop(absl::Seconds(2));
  EXPECT_FALSE(p.Running());
}

TEST(Subprocess, SigkillIsObservedAsASignalExit) {
  ASSERT_OK_AND_ASSIGN(Subprocess p, Subprocess::Start({.argv = {"sleep", "30"}}));
  p.Signal(SIGKILL);
  ASSERT_OK_AND_ASSIGN(int code, p.Wait(absl::Seconds(5)));
  EXPECT_EQ(code, 128 + SIGKILL);
}

}  // namespace
}  // namespace shieldx::testing
