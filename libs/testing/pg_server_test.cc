#include "libs/testing/pg_server.h"

#include <sys/stat.h>

#include <memory>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/testing/process.h"
#include "libs/testing/status_matchers.h"

namespace shieldx::testing {
namespace {

using ::testing::HasSubstr;

class PgServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto server = PgServer::Start({});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server).release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static PgServer* server_;
};
PgServer* PgServerTest::server_ = nullptr;

TEST_F(PgServerTest, AcceptsConnectionsOnItsLoopbackPort) {
  ASSERT_TRUE(server_->running());
  EXPECT_OK(WaitForTcpPort(server_->Port(), absl::Seconds(1)));
  ASSERT_OK_AND_ASSIGN(std::string out, server_->Psql("postgres", "SELECT 40 + 2"));
  EXPECT_EQ(out, "42");
  EXPECT_THAT(server_->ConnectionString("x"), HasSubstr(absl::StrCat("port=", server_->Port())));
}

TEST_F(PgServerTest, CreateDatabaseMakesAUsableDatabaseAndRejectsBadNames) {
  ASSERT_OK(server_->CreateDatabase("fixture_db"));
  ASSERT_OK_AND_ASSIGN(std::string out, server_->Psql("fixture_db", "SELECT current_database()"));
  EXPECT_EQ(out, "fixture_db");
  EXPECT_THAT(server_->CreateDatabase("fixture_db"),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("already exists")));
  EXPECT_THAT(server_->CreateDatabase("Bad-Name; DROP"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(PgServerTest, StopThenStartKeepsDataAndPort) {
  ASSERT_OK(server_->CreateDatabase("keep_db"));
  ASSERT_OK(server_->Psql("keep_db", "CREATE TABLE t (v int); INSERT INTO t VALUES (7)").status());
  const int port = server_->Port();

  ASSERT_OK(server_->Stop());
  EXPECT_FALSE(server_->running());
  EXPECT_THAT(server_->Psql("keep_db", "SELECT 1"), StatusIs(absl::StatusCode::kInternal));
  EXPECT_OK(server_->Stop());  // idempotent

  ASSERT_OK(server_->Start());
  EXPECT_EQ(server_->Port(), port);
  ASSERT_OK_AND_ASSIGN(std::string out, server_->Psql("keep_db", "SELECT v FROM t"));
  EXPECT_EQ(out, "7");

  ASSERT_OK(server_->Restart());
  ASSERT_OK_AND_ASSIGN(out, server_->Psql("keep_db", "SELECT count(*) FROM t"));
  EXPECT_EQ(out, "1");
}

TEST(PgServerLifecycle, DestructorStopsTheServerAndRemovesItsDirectory) {
  std::string data_dir;
  int port = 0;
  {
    ASSERT_OK_AND_ASSIGN(auto server, PgServer::Start({}));
    data_dir = server->data_dir();
    port = server->Port();
    struct stat st;
    ASSERT_EQ(stat(data_dir.c_str(), &st), 0);
  }
  struct stat st;
  EXPECT_NE(stat(data_dir.c_str(), &st), 0) << data_dir << " still exists";
  EXPECT_THAT(WaitForTcpPort(port, absl::Milliseconds(200)),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
}

TEST(PgServerLifecycle, ServersCopiedFromTheTemplateHaveIndependentData) {
  ASSERT_OK_AND_ASSIGN(auto a, PgServer::Start({}));
  ASSERT_OK_AND_ASSIGN(auto b, PgServer::Start({}));
  EXPECT_NE(a->Port(), b->Port());
  EXPECT_NE(a->data_dir(), b->data_dir());
  ASSERT_OK(a->CreateDatabase("only_in_a"));
  ASSERT_OK_AND_ASSIGN(std::string in_b, b->Psql("postgres",
                                                 "SELECT count(*) FROM pg_database "
                                                 "WHERE datname = 'only_in_a'"));
  EXPECT_EQ(in_b, "0");
}

TEST(PgServerLifecycle, InvalidSettingFailsWithTheServerLog) {
  PgServer::Options options;
  options.settings = {"no_such_setting_xyz=1"};
  auto server = PgServer::Start(options);
  EXPECT_THAT(server, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("no_such_setting_xyz")));
}

}  // namespace
}  // namespace shieldx::testing
