#include "libs/pg/migrator.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/base/status_macros.h"
#include "libs/pg/conninfo.h"
#include "libs/pg/pg_status.h"
#include "pqxx/pqxx"

namespace shieldx::pg {
namespace {

constexpr char kCreateTableSql[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version BIGINT PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " checksum TEXT NOT NULL,"
    " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())";
constexpr std::size_t kMaxLockNameBytes = 100;

std::string VersionFile(int64_t version, const std::string& name) {
  std::string v = absl::StrCat(version);
  if (v.size() < kMinVersionDigits) v.insert(0, kMinVersionDigits - v.size(), '0');
  return absl::StrCat(v, "_", name, ".sql");
}

absl::StatusOr<std::string> ReadSmallFile(const std::filesystem::path& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("migration ", path.string(), ": ", ec.message()));
  }
  if (size > kMaxMigrationFileBytes) {
    return absl::InvalidArgumentError(absl::StrCat("migration ", path.string(), ": ", size,
                                                   " bytes exceeds ", kMaxMigrationFileBytes));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return absl::InvalidArgumentError(absl::StrCat("migration ", path.string(), ": unreadable"));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

absl::Status ValidateOptions(const MigratorOptions& o) {
  if (o.conninfo.empty()) return absl::InvalidArgumentError("migrator: conninfo is empty");
  if (o.lock_name.empty() || o.lock_name.size() > kMaxLockNameBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("migrator: lock_name must be 1..", kMaxLockNameBytes, " bytes"));
  }
  if (o.lock_timeout <= absl::ZeroDuration() || o.lock_timeout > absl::Hours(1)) {
    return absl::InvalidArgumentError("migrator: lock_timeout must be in (0, 1h]");
  }
  if (o.statement_timeout_ms < 0) {
    return absl::InvalidArgumentError("migrator: statement_timeout_ms must be >= 0");
  }
  if (o.connect_timeout_s < 1 || o.connect_timeout_s > 600) {
    return absl::InvalidArgumentError("migrator: connect_timeout_s must be in 1..600");
  }
  return absl::OkStatus();
}

struct Recorded {
  std::string name;
  std::string checksum;
};

// Compares what the database recorded with the files; nothing is applied on a mismatch.
absl::Status CheckApplied(const std::map<int64_t, Recorded>& recorded,
                          const std::vector<MigrationFile>& files, const std::string& dir) {
  for (const auto& [version, rec] : recorded) {
    if (version < 1 || version > static_cast<int64_t>(files.size())) {
      return absl::FailedPreconditionError(absl::StrCat(
          "database has migration ", VersionFile(version, rec.name), " applied but ", dir,
          " has no file with version ", version, " (is this binary older than the database?)"));
    }
    const MigrationFile& f = files[version - 1];
    if (f.name != rec.name) {
      return absl::FailedPreconditionError(
          absl::StrCat("migration ", f.filename, ": version ", version, " was applied as ",
                       VersionFile(version, rec.name), "; applied migrations must not be renamed"));
    }
    if (f.checksum != rec.checksum) {
      return absl::FailedPreconditionError(absl::StrCat(
          "migration ", f.filename, ": checksum changed since it was applied (applied sha256 ",
          rec.checksum.substr(0, 12), ", file sha256 ", f.checksum.substr(0, 12),
          "); migrations are forward-only: add a new file instead"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::pair<int64_t, std::string>> ParseMigrationFileName(
    const std::string& filename) {
  auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError(
        absl::StrCat("migration file ", filename, ": ", why, " (want NNNN_name.sql)"));
  };
  if (!absl::EndsWith(filename, ".sql")) return bad("does not end in .sql");
  const std::string stem = filename.substr(0, filename.size() - 4);
  const std::size_t us = stem.find('_');
  if (us == std::string::npos) return bad("no '_' after the version");
  const std::string digits = stem.substr(0, us);
  const std::string name = stem.substr(us + 1);
  if (digits.size() < kMinVersionDigits || digits.size() > kMaxVersionDigits) {
    return bad(absl::StrCat("version must have ", kMinVersionDigits, " to ", kMaxVersionDigits,
                            " digits"));
  }
  for (char c : digits) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return bad("version is not a number");
  }
  int64_t version = 0;
  if (!absl::SimpleAtoi(digits, &version) || version < 1) return bad("version must be >= 1");
  if (name.empty() || name.size() > kMaxMigrationNameBytes) {
    return bad(absl::StrCat("name must be 1..", kMaxMigrationNameBytes, " characters"));
  }
  for (char c : name) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) {
      return bad("name may hold only letters, digits, '_' and '-'");
    }
  }
  return std::make_pair(version, name);
}

absl::Status CheckVersionSequence(const std::vector<MigrationFile>& files, const std::string& dir) {
  for (std::size_t i = 0; i < files.size(); ++i) {
    const int64_t want = static_cast<int64_t>(i) + 1;
    if (i > 0 && files[i].version == files[i - 1].version) {
      return absl::InvalidArgumentError(
          absl::StrCat("migrations in ", dir, ": version ", files[i].version, " is duplicated by ",
                       files[i - 1].filename, " and ", files[i].filename));
    }
    if (files[i].version != want) {
      return absl::InvalidArgumentError(
          absl::StrCat("migrations in ", dir, ": version ", want, " is missing (next file is ",
                       files[i].filename, "); versions must run 1..N without gaps"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<MigrationFile>> LoadMigrationDir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) {
    return absl::InvalidArgumentError(absl::StrCat("migrations dir ", dir, ": ", ec.message()));
  }
  std::vector<MigrationFile> files;
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec)
      return absl::InvalidArgumentError(absl::StrCat("migrations dir ", dir, ": ", ec.message()));
    const std::string filename = it->path().filename().string();
    if (filename.empty() || filename[0] == '.' || !absl::EndsWith(filename, ".sql")) continue;
    if (!it->is_regular_file(ec)) continue;
    if (files.size() >= kMaxMigrationFiles) {
      return absl::InvalidArgumentError(
          absl::StrCat("migrations dir ", dir, ": more than ", kMaxMigrationFiles, " files"));
    }
    SHIELDX_ASSIGN_OR_RETURN(auto parsed, ParseMigrationFileName(filename));
    MigrationFile f;
    f.version = parsed.first;
    f.name = parsed.second;
    f.filename = filename;
    SHIELDX_ASSIGN_OR_RETURN(f.sql, ReadSmallFile(it->path()));
    if (absl::StripAsciiWhitespace(f.sql).empty()) {
      return absl::InvalidArgumentError(absl::StrCat("migration ", filename, " is empty"));
    }
    f.checksum = Sha256Hex(f.sql);
    files.push_back(std::move(f));
  }
  std::sort(files.begin(), files.end(), [](const MigrationFile& a, const MigrationFile& b) {
    return a.version != b.version ? a.version < b.version : a.filename < b.filename;
  });
  SHIELDX_RETURN_IF_ERROR(CheckVersionSequence(files, dir));
  return files;
}

std::string Sha256Hex(absl::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xf]);
  }
  return out;
}

int64_t AdvisoryLockKey(const std::string& lock_name) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  const std::string input = absl::StrCat("shieldx-migrate:", lock_name);
  EVP_Digest(input.data(), input.size(), digest, &len, EVP_sha256(), nullptr);
  uint64_t key = 0;
  for (int i = 0; i < 8; ++i) key = (key << 8) | digest[i];
  int64_t signed_key;
  std::memcpy(&signed_key, &key, sizeof(key));
  return signed_key;
}

absl::StatusOr<MigrationReport> Migrator::Run() {
  if (options_.dir.empty()) return absl::InvalidArgumentError("migrator: dir is empty");
  SHIELDX_ASSIGN_OR_RETURN(std::vector<MigrationFile> files, LoadMigrationDir(options_.dir));
  return Run(std::move(files));
}

absl::StatusOr<MigrationReport> Migrator::Run(std::vector<MigrationFile> files) {
  SHIELDX_RETURN_IF_ERROR(ValidateOptions(options_));
  const std::string source = options_.dir.empty() ? "embedded migrations" : options_.dir;
  std::sort(files.begin(), files.end(),
            [](const MigrationFile& a, const MigrationFile& b) { return a.version < b.version; });
  SHIELDX_RETURN_IF_ERROR(CheckVersionSequence(files, source));
  const int64_t key = AdvisoryLockKey(options_.lock_name);
  const std::string lock_desc =
      absl::StrCat("migration lock '", options_.lock_name, "' (key ", key, ")");

  std::unique_ptr<pqxx::connection> conn;
  try {
    conn = std::make_unique<pqxx::connection>(
        WithConnInfoParam(WithConnInfoParam(options_.conninfo, "connect_timeout",
                                            absl::StrCat(options_.connect_timeout_s)),
                          "application_name", "shieldx-migrate"));
  } catch (const pqxx::broken_connection& e) {
    const std::string what = e.what();
    return absl::UnavailableError(
        absl::StrCat("migrator: postgres: cannot connect: ", what.substr(0, what.find('\n'))));
  } catch (const std::exception& e) {
    return Annotate(StatusFromPqxx(e), "migrator: connect");
  }

  try {
    pqxx::nontransaction session(*conn);
    session.exec(absl::StrCat("SET statement_timeout = ", options_.statement_timeout_ms));
    session.exec(
        absl::StrCat("SET lock_timeout = ",
                     std::max<int64_t>(1, absl::ToInt64Milliseconds(options_.lock_timeout))));
    session.exec(absl::StrCat("SELECT pg_advisory_lock(", key, ")"));
    session.exec("SET lock_timeout = 0");
    session.commit();
  } catch (const std::exception& e) {
    absl::Status s = StatusFromPqxx(e);
    if (s.code() == absl::StatusCode::kDeadlineExceeded) {
      return absl::DeadlineExceededError(absl::StrCat(lock_desc, " not acquired within ",
                                                      absl::FormatDuration(options_.lock_timeout),
                                                      ": another migrator holds it"));
    }
    return Annotate(s, absl::StrCat("migrator: taking ", lock_desc));
  }

  MigrationReport report;
  try {
    std::map<int64_t, Recorded> recorded;
    {
      pqxx::work tx(*conn);
      tx.exec(kCreateTableSql);
      for (const auto& row : tx.exec("SELECT version, name, checksum FROM schema_migrations")) {
        recorded[row[0].as<int64_t>()] =
            Recorded{row[1].as<std::string>(), row[2].as<std::string>()};
      }
      tx.commit();
    }
    SHIELDX_RETURN_IF_ERROR(CheckApplied(recorded, files, source));
    for (const MigrationFile& f : files) {
      if (recorded.count(f.version) > 0) {
        report.already_applied.push_back({f.version, f.filename});
        continue;
      }
      try {
        pqxx::work tx(*conn);
        tx.exec(f.sql);
        tx.exec_params(
            "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
            f.version, f.name, f.checksum);
        tx.commit();
      } catch (const std::exception& e) {
        return Annotate(StatusFromPqxx(e), absl::StrCat("migration ", f.filename));
      }
      report.applied.push_back({f.version, f.filename});
    }
    // Closing the connection releases the session lock too; unlock explicitly to be prompt.
    pqxx::nontransaction session(*conn);
    session.exec(absl::StrCat("SELECT pg_advisory_unlock(", key, ")"));
  } catch (const std::exception& e) {
    return Annotate(StatusFromPqxx(e), "migrator: schema_migrations");
  }
  return report;
}

}  // namespace shieldx::pg
