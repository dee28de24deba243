// PgPool option validation and behaviour that needs no server.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/pg/migrator.h"
#include "libs/pg/pool.h"
#include "libs/testing/status_matchers.h"

namespace shieldx::pg {
namespace {

using ::shieldx::testing::StatusIs;
using ::testing::HasSubstr;
using C = absl::StatusCode;

PgPoolOptions Valid() {
  PgPoolOptions o;
  o.conninfo = "host=127.0.0.1 port=1 dbname=x";
  return o;
}

TEST(PgPoolOptions, DefaultsAreValidAndCreateDoesNotConnect) {
  ASSERT_OK_AND_ASSIGN(auto pool, PgPool::Create(Valid()));
  EXPECT_EQ(pool->Stats().open, 0);
  EXPECT_EQ(pool->Stats().connects_total, 0);
}

TEST(PgPoolOptions, RejectsEachInvalidFieldByName) {
  struct Case {
    const char* field;
    void (*mutate)(PgPoolOptions&);
  };
  const Case cases[] = {
      {"conninfo", [](PgPoolOptions& o) { o.conninfo.clear(); }},
      {"max_connections", [](PgPoolOptions& o) { o.max_connections = 0; }},
      {"max_connections", [](PgPoolOptions& o) { o.max_connections = kMaxPoolConnections + 1; }},
      {"acquire_timeout", [](PgPoolOptions& o) { o.acquire_timeout = absl::Seconds(-1); }},
      {"acquire_timeout", [](PgPoolOptions& o) { o.acquire_timeout = absl::Hours(1); }},
      {"statement_timeout_ms", [](PgPoolOptions& o) { o.statement_timeout_ms = -1; }},
      {"connect_timeout_s", [](PgPoolOptions& o) { o.connect_timeout_s = 0; }},
      {"application_name", [](PgPoolOptions& o) { o.application_name = std::string(64, 'a'); }},
      {"application_name", [](PgPoolOptions& o) { o.application_name = "bad\nname"; }},
      {"reconnect_backoff",
       [](PgPoolOptions& o) { o.reconnect_backoff_initial = absl::ZeroDuration(); }},
      {"reconnect_backoff",
       [](PgPoolOptions& o) {
         o.reconnect_backoff_initial = absl::Seconds(2);
         o.reconnect_backoff_max = absl::Seconds(1);
       }},
  };
  for (const Case& c : cases) {
    PgPoolOptions o = Valid();
    c.mutate(o);
    EXPECT_THAT(PgPool::Create(o), StatusIs(C::kInvalidArgument, HasSubstr(c.field))) << c.field;
  }
}

TEST(MigratorOptions, RejectsMissingFieldsBeforeConnecting) {
  EXPECT_THAT(Migrator({.conninfo = "", .dir = "/tmp"}).Run(),
              StatusIs(C::kInvalidArgument, HasSubstr("conninfo")));
  EXPECT_THAT(Migrator({.conninfo = "host=x", .dir = ""}).Run(),
              StatusIs(C::kInvalidArgument, HasSubstr("dir")));
  EXPECT_THAT(Migrator({.conninfo = "host=x", .dir = "/tmp", .lock_name = ""}).Run(),
              StatusIs(C::kInvalidArgument, HasSubstr("lock_name")));
}

}  // namespace
}  // namespace shieldx::pg
