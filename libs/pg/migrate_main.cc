// shieldx-migrate: applies a directory of NNNN_name.sql migrations to one database.
//
//   shieldx-migrate --db "host=127.0.0.1 port=5432 dbname=credits user=credits"
//                   --dir services/credits/migrations [--lock-name credits] [--lock-timeout-s 120]
//
// Passwords: prefer PGPASSWORD / PGPASSFILE (read by libpq) over a password in --db, which
// other users can see in the process list. The conninfo is never printed.
// Exit codes: 0 success (including nothing to do), 1 migration failure, 2 usage error.
#include <cstdio>
#include <cstring>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/pg/migrator.h"

namespace {

constexpr char kUsage[] =
    "usage: shieldx-migrate --db CONNINFO --dir DIR [--lock-name NAME] [--lock-timeout-s N]\n";

int UsageError(const std::string& why) {
  std::fprintf(stderr, "shieldx-migrate: %s\n%s", why.c_str(), kUsage);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  shieldx::pg::MigratorOptions options;
  bool have_db = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    std::string value;
    const std::size_t eq = arg.find('=');
    if (arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return UsageError(absl::StrCat("missing value for ", arg));
    }
    if (arg == "--db") {
      options.conninfo = value;
      have_db = true;
    } else if (arg == "--dir") {
      options.dir = value;
    } else if (arg == "--lock-name") {
      options.lock_name = value;
    } else if (arg == "--lock-timeout-s") {
      int seconds = 0;
      if (!absl::SimpleAtoi(value, &seconds) || seconds < 1 || seconds > 3600) {
        return UsageError(absl::StrCat("--lock-timeout-s '", value, "' is not in 1..3600"));
      }
      options.lock_timeout = absl::Seconds(seconds);
    } else {
      return UsageError(absl::StrCat("unknown flag ", arg));
    }
  }
  if (!have_db || options.conninfo.empty()) return UsageError("--db is required");
  if (options.dir.empty()) return UsageError("--dir is required");

  shieldx::pg::Migrator migrator(options);
  absl::StatusOr<shieldx::pg::MigrationReport> report = migrator.Run();
  if (!report.ok()) {
    std::fprintf(stderr, "shieldx-migrate: %s\n", report.status().ToString().c_str());
    return 1;
  }
  for (const auto& m : report->applied) std::printf("applied %s\n", m.filename.c_str());
  std::printf("shieldx-migrate: %zu applied, %zu already applied (dir %s, lock %s)\n",
              report->applied.size(), report->already_applied.size(), options.dir.c_str(),
              options.lock_name.c_str());
  return 0;
}
