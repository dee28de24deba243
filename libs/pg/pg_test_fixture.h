// Test-only: a gtest fixture sharing one real PostgreSQL per test suite (libs/testing/pg_server.h)
// and giving each test a fresh database. Included only by libs/pg integration tests.
#ifndef SHIELDX_LIBS_PG_PG_TEST_FIXTURE_H_
#define SHIELDX_LIBS_PG_PG_TEST_FIXTURE_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "libs/pg/pool.h"
#include "libs/testing/pg_server.h"

namespace shieldx::pg {

class SharedPgTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto server = ::shieldx::testing::PgServer::Start({});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = server->release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(server_, nullptr) << "PostgreSQL did not start"; }

  // Creates an empty database for this test and returns its conninfo.
  std::string NewDatabase() {
    static std::atomic<int> counter{0};
    const std::string name = absl::StrCat("t", ++counter);
    absl::Status s = server_->CreateDatabase(name);
    EXPECT_TRUE(s.ok()) << s;
    return server_->ConnectionString(name);
  }

  static PgPoolOptions PoolOptions(const std::string& conninfo) {
    PgPoolOptions o;
    o.conninfo = conninfo;
    o.max_connections = 4;
    o.acquire_timeout = absl::Seconds(5);
    o.reconnect_backoff_initial = absl::Milliseconds(20);
    o.reconnect_backoff_max = absl::Milliseconds(200);
    return o;
  }

  static std::unique_ptr<PgPool> MakePool(const PgPoolOptions& options) {
    auto pool = PgPool::Create(options);
    EXPECT_TRUE(pool.ok()) << pool.status();
    return pool.ok() ? std::move(*pool) : nullptr;
  }

  inline static ::shieldx::testing::PgServer* server_ = nullptr;
};

}  // namespace shieldx::pg

#endif  // SHIELDX_LIBS_PG_PG_TEST_FIXTURE_H_
