// Migrator: applies versioned, forward-only SQL migrations to one PostgreSQL database.
//
//   Migrator m({.conninfo = cfg.pg_conninfo, .dir = "services/credits/migrations",
//               .lock_name = "credits"});
//   SHIELDX_ASSIGN_OR_RETURN(MigrationReport report, m.Run());
//
// Files: `NNNN_name.sql` in `dir` (at least 4 digits, version >= 1; name of [A-Za-z0-9_-]).
// Other *.sql names are errors; files not ending in .sql (README.md) and subdirectories are
// ignored. Versions must be exactly 1..N: a gap or a duplicate version is InvalidArgument
// naming the files. Each file may hold several statements; it runs in its own transaction
// together with its row in `schema_migrations(version, name, checksum, applied_at)`, so a
// failing migration leaves no trace and stops the run (later files are not attempted).
// Statements that cannot run in a transaction (CREATE INDEX CONCURRENTLY) are not supported.
//
// Concurrency: Run() takes a session advisory lock (pg_advisory_lock) on a key derived from
// `lock_name` before reading schema_migrations, and holds it to the end, so several replicas
// starting at once apply each migration exactly once; the others wait, then find it applied.
// Waiting is bounded by `lock_timeout` (DeadlineExceeded naming the lock).
//
// Integrity: the sha256 of every applied file is recorded. If an applied file's checksum or
// name has changed, or the database has a version the directory lacks, Run() fails with
// FailedPrecondition naming the file, before applying anything.
//
// Thread-safety: a Migrator is not shared between threads; concurrent Run()s from several
// Migrators (or processes) on one database are safe (that is what the lock is for).
#ifndef SHIELDX_LIBS_PG_MIGRATOR_H_
#define SHIELDX_LIBS_PG_MIGRATOR_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace shieldx::pg {

inline constexpr std::size_t kMaxMigrationFiles = 10'000;
inline constexpr std::size_t kMaxMigrationFileBytes = 4 * 1024 * 1024;
inline constexpr std::size_t kMaxMigrationNameBytes = 100;
// Versions: 4 to 9 digits.
inline constexpr std::size_t kMinVersionDigits = 4;
inline constexpr std::size_t kMaxVersionDigits = 9;

struct MigrationFile {
  int64_t version = 0;
  std::string name;      // "add_holds"
  std::string filename;  // "0003_add_holds.sql"
  std::string sql;
  std::string checksum;  // sha256 of the file bytes, lowercase hex
};

// "0003_add_holds.sql" -> {3, "add_holds"}; InvalidArgument naming the file otherwise.
absl::StatusOr<std::pair<int64_t, std::string>> ParseMigrationFileName(const std::string& filename);

// Reads and validates every migration in `dir`, sorted by version (see file comment).
absl::StatusOr<std::vector<MigrationFile>> LoadMigrationDir(const std::string& dir);

// Checks that versions are exactly 1..N (input sorted by version).
absl::Status CheckVersionSequence(const std::vector<MigrationFile>& files, const std::string& dir);

std::string Sha256Hex(absl::string_view data);

// The pg_advisory_lock key for a lock name: the first 8 bytes of sha256("shieldx-migrate:" +
// name), as a signed 64-bit integer.
int64_t AdvisoryLockKey(const std::string& lock_name);

struct MigratorOptions {
  // libpq conninfo. May hold a password: never printed.
  std::string conninfo;
  std::string dir;
  // Scope of the advisory lock: use the service or schema name. Non-empty, <= 100 bytes.
  std::string lock_name = "shieldx-migrate";
  absl::Duration lock_timeout = absl::Minutes(2);
  // statement_timeout while migrating; 0 = none (index builds can be long).
  int statement_timeout_ms = 0;
  int connect_timeout_s = 10;
};

struct MigrationRef {
  int64_t version = 0;
  std::string filename;
};

struct MigrationReport {
  std::vector<MigrationRef> applied;          // by this run, in order
  std::vector<MigrationRef> already_applied;  // found recorded
};

class Migrator {
 public:
  explicit Migrator(MigratorOptions options) : options_(std::move(options)) {}

  // Applies pending migrations. Errors: InvalidArgument (bad dir / files / options),
  // Unavailable (cannot connect), DeadlineExceeded (lock not acquired in time),
  // FailedPrecondition (checksum / name changed, unknown applied version), or the mapped
  // PostgreSQL error of a failing migration, prefixed with its file name.
  absl::StatusOr<MigrationReport> Run();
  // Same, for migrations compiled into the binary (shieldx_embed_files) instead of `dir`:
  // `files` are sorted by version and checked for gaps and duplicates like a directory.
  absl::StatusOr<MigrationReport> Run(std::vector<MigrationFile> files);

 private:
  MigratorOptions options_;
};

}  // namespace shieldx::pg

#endif  // SHIELDX_LIBS_PG_MIGRATOR_H_
