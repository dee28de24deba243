// LoadOrExit end to end in a child process: exit code, stdout and stderr exactly as main()
// would produce them. The child is forked, so setenv() there never touches this process.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/config/config.h"
#include "libs/testing/process.h"
#include "libs/testing/status_matchers.h"

namespace shieldx::config {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

struct DemoConfig {
  int grpc_port = 9000;
  absl::Duration drain_timeout = absl::Seconds(5);
  std::string db_password;
};

ConfigSchema<DemoConfig> DemoSchema() {
  ConfigSchema<DemoConfig> s("demo");
  s.Add("grpc_port", &DemoConfig::grpc_port, "gRPC listen port").Range(1, 65535);
  s.Add("drain_timeout", &DemoConfig::drain_timeout, "drain deadline");
  s.Add("db_password", &DemoConfig::db_password, "password").Secret();
  return s;
}

struct ChildResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string ReadAll(int fd) {
  std::string data;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof(buffer))) > 0) data.append(buffer, n);
  ::close(fd);
  return data;
}

// Runs `body` in a forked child with stdout/stderr captured; the child's exit code is what
// `body` exits with (0 if it returns).
ChildResult RunInChild(const std::function<void()>& body) {
  int out_pipe[2], err_pipe[2];
  EXPECT_EQ(::pipe(out_pipe), 0);
  EXPECT_EQ(::pipe(err_pipe), 0);
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out_pipe[1], STDOUT_FILENO);
    ::dup2(err_pipe[1], STDERR_FILENO);
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    body();
    std::fflush(stdout);
    ::_exit(0);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  ChildResult result;
  result.out = ReadAll(out_pipe[0]);
  result.err = ReadAll(err_pipe[0]);
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status));
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

TEST(LoadOrExit, InvalidEnvValueExitsTwoWithExactlyOneStderrLine) {
  ChildResult child = RunInChild([] {
    // The real process environment of the child only.
    ::setenv("SHIELDX_DEMO_GRPC_PORT", "abc", 1);
    const char* argv[] = {"shieldx-demo"};
    LoadOrExit(DemoSchema(), 1, argv);
    std::printf("started\n");
  });
  EXPECT_EQ(child.exit_code, 2);
  EXPECT_EQ(child.out, "");
  EXPECT_EQ(child.err,
            "shieldx-demo: config: invalid value \"abc\" for grpc_port (from env "
            "SHIELDX_DEMO_GRPC_PORT): expected an integer in [1, 65535]\n");
  EXPECT_EQ(Lines(child.err).size(), 1u);
}

TEST(LoadOrExit, MalformedConfigFileOnDiskExitsTwoWithOneLine) {
  ASSERT_OK_AND_ASSIGN(testing::TempDir dir, testing::TempDir::Create("config-exit"));
  std::string path = dir.path() + "/demo.json";
  FILE* file = std::fopen(path.c_str(), "w");
  ASSERT_NE(file, nullptr);
  std::fputs("{\n  \"grpc_port\": 1,\n  \"drain_timeout\": \n}\n", file);
  std::fclose(file);
  ChildResult child = RunInChild([&] {
    const char* argv[] = {"shieldx-demo", "--config", path.c_str()};
    LoadOrExit(DemoSchema(), 3, argv);
  });
  EXPECT_EQ(child.exit_code, 2);
  EXPECT_EQ(child.out, "");
  ASSERT_EQ(Lines(child.err).size(), 1u) << child.err;
  EXPECT_THAT(child.err, StartsWith("shieldx-demo: config: config file " + path +
                                    ": malformed JSON at line 4, column 1"));
}

TEST(LoadOrExit, SecretFlagExitsTwoWithoutEchoingTheSecret) {
  ChildResult child = RunInChild([] {
    const char* argv[] = {"shieldx-demo", "--db_password=hunter2"};
    LoadOrExit(DemoSchema(), 2, argv, InMemoryConfigEnv());
  });
  EXPECT_EQ(child.exit_code, 2);
  EXPECT_EQ(Lines(child.err).size(), 1u);
  EXPECT_THAT(child.err, HasSubstr("db_password is a secret"));
  EXPECT_THAT(child.err, ::testing::Not(HasSubstr("hunter2")));
}

TEST(LoadOrExit, HelpPrintsToStdoutAndExitsZero) {
  ChildResult child = RunInChild([] {
    const char* argv[] = {"shieldx-demo", "--help"};
    LoadOrExit(DemoSchema(), 2, argv, InMemoryConfigEnv());
    std::printf("started\n");
  });
  EXPECT_EQ(child.exit_code, 0);
  EXPECT_EQ(child.err, "");
  EXPECT_THAT(child.out, HasSubstr("--grpc_port=INT"));
  EXPECT_THAT(child.out, ::testing::Not(HasSubstr("started")));
}

TEST(LoadOrExit, ValidConfigReturnsAndPrintsNothing) {
  ChildResult child = RunInChild([] {
    InMemoryConfigEnv env;
    env.SetVar("SHIELDX_DEMO_DB_PASSWORD", "hunter2");
    const char* argv[] = {"shieldx-demo", "--grpc-port", "9100"};
    Loaded<DemoConfig> loaded = LoadOrExit(DemoSchema(), 3, argv, env);
    std::printf("%d %s\n", loaded.config.grpc_port, loaded.effective.ToJson().c_str());
  });
  EXPECT_EQ(child.exit_code, 0);
  EXPECT_EQ(child.err, "");
  EXPECT_THAT(child.out, StartsWith("9100 {\"service\":\"demo\""));
  EXPECT_THAT(child.out, ::testing::Not(HasSubstr("hunter2")));
}

}  // namespace
}  // namespace shieldx::config
