// The audit chain: every mutation of a tenant account appends an entry whose HMAC-SHA256 (key
// from a secret) covers the account id, its sequence number, the previous entry's HMAC and a
// canonical text of what happened. Without the key nobody can rewrite, drop or reorder
// entries without breaking the chain, and VerifyAudit finds the first broken entry of each
// kind of damage.
//
// Canonical payloads are "key=<len>:<value>\n" lines in a fixed order, so no value can forge a
// field boundary. Times are Unix microseconds. A transfer's payload leaves out
// refunded_credits (it grows as refunds are made; each refund is its own audited transfer).
//
// Thread-safety: AuditSigner is immutable and thread-safe; AuditVerifier is not shared.
#ifndef SHIELDX_SERVICES_CREDITS_AUDIT_H_
#define SHIELDX_SERVICES_CREDITS_AUDIT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/credits/ledger_types.h"

namespace shieldx::credits {

// An HMAC key shorter than this is refused (HMAC-SHA256 wants >= 32 bytes of entropy).
inline constexpr std::size_t kMinAuditKeyBytes = 32;
inline constexpr std::size_t kMaxAuditKeyBytes = 1024;
inline constexpr std::size_t kHmacBytes = 32;

inline constexpr char kEntryTransfer[] = "transfer";
inline constexpr char kEntryAccountOpened[] = "account_opened";
inline constexpr char kEntryAlertThresholdSet[] = "alert_threshold_set";

std::string TransferPayload(const Transfer& t);
std::string AccountOpenedPayload(const Account& a);
std::string AlertThresholdPayload(const std::string& account_id, int64_t threshold_credits,
                                  const std::string& idempotency_key, absl::Time at);

class AuditSigner {
 public:
  // InvalidArgument when the key is shorter than kMinAuditKeyBytes or longer than the max.
  static absl::StatusOr<AuditSigner> Create(std::string key);

  // HMAC-SHA256 over (account_id, sequence, prev_hmac, payload): 32 raw bytes.
  std::string Sign(const std::string& account_id, int64_t sequence, const std::string& prev_hmac,
                   const std::string& payload) const;

  // A complete entry chained after `prev_hmac`.
  AuditEntry MakeEntry(const std::string& account_id, int64_t sequence, std::string prev_hmac,
                       std::string entry_kind, std::string transfer_id, std::string payload) const;

 private:
  explicit AuditSigner(std::string key) : key_(std::move(key)) {}
  std::string key_;
};

// Checks entries of one account fed in ascending sequence order.
//
// For each entry, in this order of precedence (one problem per entry):
//   MISSING          the sequence skips numbers (entries were deleted); the chain resumes at
//                    the entry found;
//   REORDERED        its prev_hmac is not the previous entry's HMAC (moved or re-inserted);
//   MODIFIED         its HMAC does not match its content;
//   LEDGER_MISMATCH  a transfer entry whose transfer row is missing or differs from it.
// Finish() reports entries deleted at the end of the chain (the account's head sequence is
// beyond the last entry) and a head HMAC that does not match the last entry.
class AuditVerifier {
 public:
  // `first_sequence` is the first entry expected; `anchor_hmac` the HMAC of the entry before
  // it (empty for sequence 1). Stops recording after `max_problems` (still counts entries).
  AuditVerifier(const AuditSigner* signer, std::string account_id, int64_t first_sequence,
                std::string anchor_hmac, std::size_t max_problems);

  // `ledger` is the transfer row named by a transfer entry (nullopt when absent).
  void Add(const AuditEntry& entry, const std::optional<Transfer>& ledger);

  // `to_sequence` 0 means "to the end": then the head is compared with the last entry.
  void Finish(int64_t head_sequence, const std::string& head_hmac, int64_t to_sequence);

  int64_t verified_entries() const { return verified_; }
  int64_t next_sequence() const { return next_; }
  const std::vector<AuditProblem>& problems() const { return problems_; }
  bool truncated() const { return truncated_; }

 private:
  void Report(int64_t sequence, AuditProblemKind kind, std::string description);

  const AuditSigner* signer_;
  std::string account_id_;
  int64_t next_;
  std::string last_hmac_;
  std::size_t max_problems_;
  int64_t verified_ = 0;
  std::vector<AuditProblem> problems_;
  bool truncated_ = false;
};

std::string HexEncode(const std::string& bytes);

}  // namespace shieldx::credits

#endif  // SHIELDX_SERVICES_CREDITS_AUDIT_H_
