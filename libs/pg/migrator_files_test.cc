#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/pg/migrator.h"
#include "libs/testing/process.h"
#include "libs/testing/status_matchers.h"

namespace shieldx::pg {
namespace {

using ::shieldx::testing::StatusIs;
using ::shieldx::testing::TempDir;
using ::testing::AllOf;
using ::testing::HasSubstr;
using C = absl::StatusCode;

void Write(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

TEST(ParseMigrationFileName, AcceptsVersionAndName) {
  ASSERT_OK_AND_ASSIGN(auto parsed, ParseMigrationFileName("0003_add_holds.sql"));
  EXPECT_EQ(parsed.first, 3);
  EXPECT_EQ(parsed.second, "add_holds");
  ASSERT_OK_AND_ASSIGN(parsed, ParseMigrationFileName("000012_multi_part-name.sql"));
  EXPECT_EQ(parsed.first, 12);
  EXPECT_EQ(parsed.second, "multi_part-name");
}

TEST(ParseMigrationFileName, RejectsMalformedNamesNamingTheFile) {
  for (const char* bad :
       {"3_short.sql", "0003-dash.sql", "0003_.sql", "0000_zero.sql", "00a3_x.sql",
        "0003_sp ace.sql", "0003_x.txt", "1234567890_x.sql", "0003_semi;colon.sql"}) {
    EXPECT_THAT(ParseMigrationFileName(bad), StatusIs(C::kInvalidArgument, HasSubstr(bad))) << bad;
  }
  EXPECT_THAT(
      ParseMigrationFileName("0001_" + std::string(kMaxMigrationNameBytes + 1, 'a') + ".sql"),
      StatusIs(C::kInvalidArgument, HasSubstr("1..100")));
}

TEST(LoadMigrationDir, SortsByVersionChecksumsAndIgnoresOtherFiles) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("pg-mig"));
  Write(dir.path() + "/0002_second.sql", "SELECT 2;");
  Write(dir.path() + "/0001_first.sql", "SELECT 1;");
  Write(dir.path() + "/README.md", "not a migration");
  Write(dir.path() + "/.0003_hidden.sql", "ignored");
  ASSERT_OK_AND_ASSIGN(auto files, LoadMigrationDir(dir.path()));
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].filename, "0001_first.sql");
  EXPECT_EQ(files[1].filename, "0002_second.sql");
  EXPECT_EQ(files[0].sql, "SELECT 1;");
  EXPECT_EQ(files[0].checksum, Sha256Hex("SELECT 1;"));
  EXPECT_EQ(files[0].checksum.size(), 64u);
}

TEST(LoadMigrationDir, RejectsGapsNamingTheMissingVersion) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("pg-mig"));
  Write(dir.path() + "/0001_a.sql", "SELECT 1;");
  Write(dir.path() + "/0003_c.sql", "SELECT 3;");
  EXPECT_THAT(LoadMigrationDir(dir.path()),
              StatusIs(C::kInvalidArgument,
                       AllOf(HasSubstr("version 2 is missing"), HasSubstr("0003_c.sql"))));
}

TEST(LoadMigrationDir, RejectsDuplicateVersionsNamingBothFiles) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("pg-mig"));
  Write(dir.path() + "/0001_a.sql", "SELECT 1;");
  Write(dir.path() + "/0002_b.sql", "SELECT 2;");
  Write(dir.path() + "/0002_c.sql", "SELECT 3;");
  EXPECT_THAT(LoadMigrationDir(dir.path()),
              StatusIs(C::kInvalidArgument, AllOf(HasSubstr("duplicated"), HasSubstr("0002_b.sql"),
                                                  HasSubstr("0002_c.sql"))));
}

TEST(LoadMigrationDir, RejectsFirstVersionOtherThanOne) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("pg-mig"));
  Write(dir.path() + "/0002_b.sql", "SELECT 2;");
  EXPECT_THAT(LoadMigrationDir(dir.path()),
              StatusIs(C::kInvalidArgument, HasSubstr("version 1 is missing")));
}

TEST(LoadMigrationDir, RejectsEmptyMalformedAndOversizedFiles) {
  {
    ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("pg-mig"));
    Write(dir.path() + "/0001_empty.sql", "  \n");
    EXPECT_THAT(LoadMigrationDir(dir.path()),
                StatusIs(C::kInvalidArgument, HasSubstr("0001_empty.sql is empty")));
  }
  {
    ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("pg-mig"));
    Write(dir.path() + "/1_typo.sql", "SELECT 1;");
    EXPECT_THAT(LoadMigrationDir(dir.path()),
                StatusIs(C::kInvalidArgument, HasSubstr("1_typo.sql")));
  }
  {
    ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("pg-mig"));
    Write(dir.path() + "/0001_big.sql", std::string(kMaxMigrationFileBytes + 1, ' '));
    EXPECT_THAT(LoadMigrationDir(dir.path()), StatusIs(C::kInvalidArgument, HasSubstr("exceeds")));
  }
}

TEST(LoadMigrationDir, MissingDirectoryIsInvalidArgument) {
  EXPECT_THAT(LoadMigrationDir("/nonexistent/shieldx/migrations"),
              StatusIs(C::kInvalidArgument, HasSubstr("/nonexistent/shieldx/migrations")));
}

TEST(AdvisoryLockKey, IsStableAndDiffersByName) {
  EXPECT_EQ(AdvisoryLockKey("credits"), AdvisoryLockKey("credits"));
  EXPECT_NE(AdvisoryLockKey("credits"), AdvisoryLockKey("orchestrator"));
}

TEST(Sha256Hex, MatchesKnownVector) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace shieldx::pg
