// The credits ledger's domain types: plain structs, no gRPC, no SQL.
//
// Amounts are int64 counts of credits (the indivisible unit). Enum values equal the
// shieldx.credits.v1 proto enums so the adapter converts by value and the database stores the
// same numbers.
#ifndef SHIELDX_SERVICES_CREDITS_LEDGER_TYPES_H_
#define SHIELDX_SERVICES_CREDITS_LEDGER_TYPES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace shieldx::credits {

enum class UsageKind : int {
  kUnspecified = 0,
  kInspectedRequest = 1,
  kPluginExecution = 2,
  kShadowEvaluation = 3,
  kTwinSimulation = 4,
};
inline constexpr int kMaxUsageKind = 4;

enum class AccountKind : int {
  kUnspecified = 0,
  kTenant = 1,
  kRevenue = 2,
  kPromotions = 3,
  kPaymentClearing = 4,
};

enum class TransferKind : int {
  kUnspecified = 0,
  kTopUp = 1,
  kConsume = 2,
  kReserve = 3,
  kCapture = 4,
  kVoid = 5,
  kExpire = 6,
  kRefund = 7,
  kAdjustment = 8,
};
inline constexpr int kMaxTransferKind = 8;

// True for kinds that move posted credits (the others only change holds).
inline bool IsPosting(TransferKind k) {
  return k == TransferKind::kTopUp || k == TransferKind::kConsume || k == TransferKind::kCapture ||
         k == TransferKind::kRefund || k == TransferKind::kAdjustment;
}

enum class HoldState : int {
  kUnspecified = 0,
  kPending = 1,
  kCaptured = 2,
  kVoided = 3,
  kExpired = 4,
};

enum class ShortfallPolicy : int { kUnspecified = 0, kReject = 1, kCap = 2 };

enum class Granularity : int { kUnspecified = 0, kHour = 1, kDay = 2, kMonth = 3 };

enum class AuditProblemKind : int {
  kUnspecified = 0,
  kModified = 1,
  kMissing = 2,
  kReordered = 3,
  kLedgerMismatch = 4,
};

// The ids of the system accounts (created by migration 0001) and their owner.
inline constexpr char kRevenueAccountId[] = "system:revenue";
inline constexpr char kPromotionsAccountId[] = "system:promotions";
inline constexpr char kPaymentClearingAccountId[] = "system:payment_clearing";
inline constexpr char kPlatformTenantId[] = "_platform";

struct Account {
  std::string account_id;
  std::string tenant_id;
  AccountKind kind = AccountKind::kUnspecified;
  int64_t overdraft_limit_credits = 0;
  int64_t alert_threshold_credits = 0;
  absl::Time created_at;
};

struct Balance {
  std::string account_id;
  int64_t posted_credits = 0;
  int64_t pending_credits = 0;
  int64_t available_credits = 0;  // posted - pending
  int64_t overdraft_limit_credits = 0;
  int64_t alert_threshold_credits = 0;
  bool below_alert_threshold = false;
  int64_t sequence = 0;
  absl::Time as_of;
};

struct Payment {
  std::string provider;
  std::string external_reference;
  std::string note;
};

struct Transfer {
  std::string transfer_id;
  std::string tenant_id;
  std::string account_id;  // the tenant account whose chain holds the transfer
  int64_t sequence = 0;
  TransferKind kind = TransferKind::kUnspecified;
  std::string debit_account_id;
  std::string credit_account_id;
  int64_t amount_credits = 0;
  UsageKind usage_kind = UsageKind::kUnspecified;
  int64_t quantity = 0;
  std::string reference;
  std::string hold_id;
  std::string refunded_transfer_id;
  int64_t refunded_credits = 0;  // CONSUME / CAPTURE: refunded so far (not audited: it grows)
  Payment payment;
  bool payment_reference_unique = false;
  std::string idempotency_key;
  std::string reason;
  std::optional<absl::Time> period_start;
  std::optional<absl::Time> period_end;
  absl::Time created_at;
};

struct Hold {
  std::string hold_id;
  std::string tenant_id;
  std::string account_id;
  int64_t amount_credits = 0;
  int64_t captured_credits = 0;
  HoldState state = HoldState::kUnspecified;
  UsageKind usage_kind = UsageKind::kUnspecified;
  std::string reference;
  absl::Time expires_at;
  absl::Time created_at;
  std::optional<absl::Time> settled_at;
};

struct UsageRecord {
  UsageKind usage_kind = UsageKind::kUnspecified;
  int64_t quantity = 0;
  int64_t amount_credits = 0;
  std::string reference;
  std::optional<absl::Time> period_start;
  std::optional<absl::Time> period_end;
};

// One entry of an account's audit chain.
struct AuditEntry {
  std::string account_id;
  int64_t sequence = 0;
  std::string entry_kind;   // "transfer", "account_opened", "alert_threshold_set"
  std::string transfer_id;  // for "transfer"
  std::string payload;      // canonical text (audit.h)
  std::string prev_hmac;    // raw 32 bytes (empty before the first entry)
  std::string hmac;         // raw 32 bytes
};

struct AuditProblem {
  std::string account_id;
  int64_t sequence = 0;
  AuditProblemKind kind = AuditProblemKind::kUnspecified;
  std::string description;
};

struct UsageBucket {
  absl::Time bucket_start;
  absl::Time bucket_end;
  UsageKind usage_kind = UsageKind::kUnspecified;
  int64_t quantity = 0;
  int64_t amount_credits = 0;
};

}  // namespace shieldx::credits

#endif  // SHIELDX_SERVICES_CREDITS_LEDGER_TYPES_H_
