#include "libs/pg/migrator.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/pg/pg_test_fixture.h"
#include "libs/testing/process.h"
#include "libs/testing/status_matchers.h"
#include "pqxx/pqxx"

namespace shieldx::pg {
namespace {

using ::shieldx::testing::StatusIs;
using ::shieldx::testing::Subprocess;
using ::shieldx::testing::TempDir;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using C = absl::StatusCode;

constexpr char kMigrateBinary[] = SHIELDX_BINARY_DIR "/bin/shieldx-migrate";

class MigratorTest : public SharedPgTest {
 protected:
  void SetUp() override {
    SharedPgTest::SetUp();
    conninfo_ = NewDatabase();
    auto dir = TempDir::Create("pg-migrations");
    ASSERT_OK(dir);
    dir_ = std::make_unique<TempDir>(std::move(*dir));
  }

  void Write(const std::string& filename, const std::string& sql) {
    std::ofstream out(dir_->path() + "/" + filename);
    out << sql;
  }

  void WriteStandardSet() {
    Write("0001_create_notes.sql",
          "CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL);");
    Write("0002_seed.sql", "INSERT INTO notes (body) VALUES ('seeded');");
    Write("0003_add_column.sql",
          "ALTER TABLE notes ADD COLUMN tag text;\nUPDATE notes SET tag = 'v3';");
  }

  MigratorOptions Options() {
    MigratorOptions o;
    o.conninfo = conninfo_;
    o.dir = dir_->path();
    o.lock_name = "migrator-test";
    return o;
  }

  std::string Query(const std::string& sql) {
    pqxx::connection conn(conninfo_);
    pqxx::nontransaction tx(conn);
    pqxx::result r = tx.exec(sql);
    std::string out;
    for (const auto& row : r) {
      for (const auto& field : row)
        absl::StrAppend(&out, field.is_null() ? "NULL" : field.c_str(), "|");
      out += "\n";
    }
    return out;
  }

  std::string conninfo_;
  std::unique_ptr<TempDir> dir_;
};

TEST_F(MigratorTest, AppliesInOrderAndRecordsChecksums) {
  WriteStandardSet();
  ASSERT_OK_AND_ASSIGN(MigrationReport report, Migrator(Options()).Run());
  EXPECT_THAT(report.applied, ElementsAre(Field(&MigrationRef::filename, "0001_create_notes.sql"),
                                          Field(&MigrationRef::filename, "0002_seed.sql"),
                                          Field(&MigrationRef::filename, "0003_add_column.sql")));
  EXPECT_TRUE(report.already_applied.empty());
  EXPECT_EQ(Query("SELECT body, tag FROM notes"), "seeded|v3|\n");
  EXPECT_EQ(Query("SELECT version, name, checksum = '" +
                  Sha256Hex("INSERT INTO notes (body) VALUES ('seeded');") +
                  "', applied_at IS NOT NULL FROM schema_migrations WHERE version = 2"),
            "2|seed|t|t|\n");
}

TEST_F(MigratorTest, RerunIsANoOpAndNewFilesApplyLater) {
  WriteStandardSet();
  ASSERT_OK(Migrator(Options()).Run());
  ASSERT_OK_AND_ASSIGN(MigrationReport again, Migrator(Options()).Run());
  EXPECT_TRUE(again.applied.empty());
  EXPECT_EQ(again.already_applied.size(), 3u);
  EXPECT_EQ(Query("SELECT count(*) FROM notes"), "1|\n");

  Write("0004_second_seed.sql", "INSERT INTO notes (body) VALUES ('later');");
  ASSERT_OK_AND_ASSIGN(MigrationReport third, Migrator(Options()).Run());
  EXPECT_THAT(third.applied, ElementsAre(Field(&MigrationRef::version, 4)));
  EXPECT_EQ(Query("SELECT count(*) FROM notes"), "2|\n");
}

TEST_F(MigratorTest, ChangedChecksumOfAnAppliedFileIsRejectedNamingTheFile) {
  WriteStandardSet();
  ASSERT_OK(Migrator(Options()).Run());
  Write("0002_seed.sql", "INSERT INTO notes (body) VALUES ('edited');");
  Write("0004_more.sql", "INSERT INTO notes (body) VALUES ('more');");
  EXPECT_THAT(Migrator(Options()).Run(),
              StatusIs(C::kFailedPrecondition,
                       AllOf(HasSubstr("0002_seed.sql"), HasSubstr("checksum changed"))));
  EXPECT_EQ(Query("SELECT count(*) FROM schema_migrations"), "3|\n") << "0004 must not apply";
}

TEST_F(MigratorTest, RenamedOrMissingAppliedFilesAreRejected) {
  WriteStandardSet();
  ASSERT_OK(Migrator(Options()).Run());
  std::filesystem::rename(dir_->path() + "/0003_add_column.sql",
                          dir_->path() + "/0003_renamed.sql");
  EXPECT_THAT(Migrator(Options()).Run(),
              StatusIs(C::kFailedPrecondition, HasSubstr("0003_add_column.sql")));
  std::filesystem::remove(dir_->path() + "/0003_renamed.sql");
  EXPECT_THAT(Migrator(Options()).Run(),
              StatusIs(C::kFailedPrecondition,
                       AllOf(HasSubstr("0003_add_column.sql"), HasSubstr("no file"))));
}

TEST_F(MigratorTest, FailingMigrationRollsBackAndStopsTheRun) {
  Write("0001_create_notes.sql", "CREATE TABLE notes (id int PRIMARY KEY);");
  Write("0002_broken.sql", "INSERT INTO notes VALUES (1);\nINSERT INTO no_such_table VALUES (1);");
  Write("0003_after.sql", "INSERT INTO notes VALUES (3);");
  EXPECT_THAT(Migrator(Options()).Run(),
              StatusIs(C::kInternal,
                       AllOf(HasSubstr("migration 0002_broken.sql"), HasSubstr("no_such_table"))));
  EXPECT_EQ(Query("SELECT version FROM schema_migrations"), "1|\n");
  EXPECT_EQ(Query("SELECT count(*) FROM notes"), "0|\n") << "0002's first insert must roll back";
}

TEST_F(MigratorTest, WaitsForTheLockAndTimesOutNamingIt) {
  WriteStandardSet();
  pqxx::connection holder(conninfo_);
  pqxx::nontransaction tx(holder);
  tx.exec(absl::StrCat("SELECT pg_advisory_lock(", AdvisoryLockKey("migrator-test"), ")"));
  MigratorOptions o = Options();
  o.lock_timeout = absl::Milliseconds(300);
  EXPECT_THAT(Migrator(o).Run(),
              StatusIs(C::kDeadlineExceeded,
                       AllOf(HasSubstr("migration lock 'migrator-test'"), HasSubstr("300ms"))));
  // Another lock name is independent.
  o.lock_name = "other-service";
  EXPECT_OK(Migrator(o).Run());
}

TEST_F(MigratorTest, UnreachableDatabaseIsUnavailable) {
  WriteStandardSet();
  MigratorOptions o = Options();
  ASSERT_OK_AND_ASSIGN(int port, ::shieldx::testing::PickFreePort());
  o.conninfo = absl::StrCat("host=127.0.0.1 port=", port, " dbname=x user=postgres");
  EXPECT_THAT(Migrator(o).Run(), StatusIs(C::kUnavailable, HasSubstr("cannot connect")));
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Two replicas starting at once: both processes exit 0 and each migration runs exactly once.
TEST_F(MigratorTest, TwoProcessesAtOnceApplyEachMigrationExactlyOnce) {
  Write("0001_create_log.sql", "CREATE TABLE log (id serial PRIMARY KEY, note text NOT NULL);");
  // Slow enough that the second process arrives while the first still holds the lock.
  Write("0002_first_row.sql", "SELECT pg_sleep(0.5);\nINSERT INTO log (note) VALUES ('m2');");
  Write("0003_second_row.sql", "INSERT INTO log (note) VALUES ('m3');");
  const std::vector<std::string> argv = {kMigrateBinary, "--db",        conninfo_,  "--dir",
                                         dir_->path(),   "--lock-name", "two-procs"};
  const std::string log_a = dir_->path() + "/a.log", log_b = dir_->path() + "/b.log";
  ASSERT_OK_AND_ASSIGN(Subprocess a, Subprocess::Start({.argv = argv, .log_path = log_a}));
  ASSERT_OK_AND_ASSIGN(Subprocess b, Subprocess::Start({.argv = argv, .log_path = log_b}));
  ASSERT_OK_AND_ASSIGN(int code_a, a.Wait(absl::Seconds(60)));
  ASSERT_OK_AND_ASSIGN(int code_b, b.Wait(absl::Seconds(60)));
  const std::string out_a = ReadFile(log_a), out_b = ReadFile(log_b);
  EXPECT_EQ(code_a, 0) << out_a;
  EXPECT_EQ(code_b, 0) << out_b;
  EXPECT_EQ(Query("SELECT note, count(*) FROM log GROUP BY note ORDER BY note"), "m2|1|\nm3|1|\n");
  EXPECT_EQ(Query("SELECT count(*) FROM schema_migrations"), "3|\n");
  // Between them the two processes report three applications.
  const bool a_applied_all = absl::StrContains(out_a, "3 applied, 0 already applied");
  const bool b_applied_all = absl::StrContains(out_b, "3 applied, 0 already applied");
  EXPECT_NE(a_applied_all, b_applied_all) << out_a << "\n---\n" << out_b;
  EXPECT_TRUE(absl::StrContains(a_applied_all ? out_b : out_a, "0 applied, 3 already applied"))
      << out_a << "\n---\n"
      << out_b;
}

TEST_F(MigratorTest, CliReportsErrorsWithOneLineAndExitCodes) {
  Write("0002_gap.sql", "SELECT 1;");
  auto run = [&](std::vector<std::string> argv, const std::string& log) {
    argv.insert(argv.begin(), kMigrateBinary);
    auto proc = Subprocess::Start({.argv = argv, .log_path = log});
    EXPECT_TRUE(proc.ok());
    auto code = proc->Wait(absl::Seconds(30));
    EXPECT_TRUE(code.ok());
    return code.ok() ? *code : -1;
  };
  const std::string log = dir_->path() + "/cli.log";
  EXPECT_EQ(run({"--dir", dir_->path()}, log), 2);
  EXPECT_THAT(ReadFile(log), HasSubstr("--db is required"));
  EXPECT_EQ(run({"--db", conninfo_, "--dir", dir_->path(), "--bogus", "x"}, log), 2);
  EXPECT_THAT(ReadFile(log), HasSubstr("unknown flag --bogus"));
  EXPECT_EQ(run({"--db", conninfo_, "--dir", dir_->path()}, log), 1);
  EXPECT_THAT(ReadFile(log), HasSubstr("version 1 is missing"));
  EXPECT_THAT(ReadFile(log), ::testing::Not(HasSubstr("dbname=")));
}

}  // namespace
}  // namespace shieldx::pg
