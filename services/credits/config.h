// Configuration of shieldx-credits: the shared fields (libs/service/common_config.h) for the
// stores it owns (PostgreSQL: the ledger; Redis: the low-balance event stream) plus its own.
// Every field is documented in Schema(); `shieldx-credits --help` prints them with their env
// names (SHIELDX_CREDITS_<NAME>).
#ifndef SHIELDX_SERVICES_CREDITS_CONFIG_H_
#define SHIELDX_SERVICES_CREDITS_CONFIG_H_

#include <string>

#include "absl/time/time.h"
#include "libs/config/config.h"
#include "libs/service/common_config.h"
#include "services/credits/group_commit.h"

namespace shieldx::credits {

struct Config {
  service::CommonConfig common;
  // Secret: the HMAC-SHA256 key of the audit chain (>= 32 bytes). Changing it makes every
  // existing entry fail verification: rotate only with a re-sealing migration.
  std::string audit_hmac_key;
  // How often the sweeper looks for reservations past their deadline.
  absl::Duration sweep_interval = absl::Seconds(1);
  // How often every tenant's balance gauge is re-read from the database (changes made by
  // other replicas show up within this period).
  absl::Duration balance_refresh_interval = absl::Seconds(15);
  // Ceiling on shieldx_credits_balance series (tenants exported).
  int balance_gauge_max_tenants = 10'000;
  // Idempotency records older than this are deleted; a retry after it would apply again.
  absl::Duration idempotency_retention = absl::Hours(24 * 30);
  // Group commit (services/credits/group_commit.h): concurrent mutations share one PostgreSQL
  // transaction. At most this many calls per transaction; 1 turns group commit off.
  int group_commit_max_calls = 64;
  // At most this many usage records (transfers) per group transaction.
  int group_commit_max_records = 20'000;
  // How long a group waits for more calls after its first one (0: a group is what queued up
  // while the previous one committed, so an idle service adds no latency).
  absl::Duration group_commit_window = absl::ZeroDuration();
  // Group transactions committing at the same time (two: one is built and written while the
  // other waits for its WAL flush).
  int group_commit_committers = 2;

  // The group commit settings as the ledger takes them.
  GroupCommitOptions group_commit() const {
    return {group_commit_max_calls, group_commit_max_records, group_commit_window,
            group_commit_committers};
  }
};

inline constexpr service::StoreNeeds kStoreNeeds = {.postgres = true, .redis = true};

config::ConfigSchema<Config> Schema();

}  // namespace shieldx::credits

#endif  // SHIELDX_SERVICES_CREDITS_CONFIG_H_
