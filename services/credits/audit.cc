#include "services/credits/audit.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "absl/strings/str_cat.h"
#include "libs/base/check.h"

namespace shieldx::credits {
namespace {

void Put(std::string& out, const char* key, const std::string& value) {
  absl::StrAppend(&out, key, "=", value.size(), ":", value, "\n");
}
void Put(std::string& out, const char* key, int64_t value) { Put(out, key, absl::StrCat(value)); }
void PutTime(std::string& out, const char* key, std::optional<absl::Time> t) {
  Put(out, key, t.has_value() ? absl::StrCat(absl::ToUnixMicros(*t)) : std::string("-"));
}

}  // namespace

std::string TransferPayload(const Transfer& t) {
  std::string out = "v1\n";
  Put(out, "transfer_id", t.transfer_id);
  Put(out, "tenant_id", t.tenant_id);
  Put(out, "account_id", t.account_id);
  Put(out, "sequence", t.sequence);
  Put(out, "kind", static_cast<int64_t>(t.kind));
  Put(out, "debit", t.debit_account_id);
  Put(out, "credit", t.credit_account_id);
  Put(out, "amount", t.amount_credits);
  Put(out, "usage_kind", static_cast<int64_t>(t.usage_kind));
  Put(out, "quantity", t.quantity);
  Put(out, "reference", t.reference);
  Put(out, "hold_id", t.hold_id);
  Put(out, "refunded_transfer_id", t.refunded_transfer_id);
  Put(out, "payment_provider", t.payment.provider);
  Put(out, "payment_reference", t.payment.external_reference);
  Put(out, "payment_note", t.payment.note);
  Put(out, "idempotency_key", t.idempotency_key);
  Put(out, "reason", t.reason);
  PutTime(out, "period_start", t.period_start);
  PutTime(out, "period_end", t.period_end);
  PutTime(out, "created_at", t.created_at);
  return out;
}

std::string AccountOpenedPayload(const Account& a) {
  std::string out = "v1\n";
  Put(out, "account_id", a.account_id);
  Put(out, "tenant_id", a.tenant_id);
  Put(out, "kind", static_cast<int64_t>(a.kind));
  Put(out, "overdraft_limit", a.overdraft_limit_credits);
  Put(out, "alert_threshold", a.alert_threshold_credits);
  PutTime(out, "created_at", a.created_at);
  return out;
}

std::string AlertThresholdPayload(const std::string& account_id, int64_t threshold_credits,
                                  const std::string& idempotency_key, absl::Time at) {
  std::string out = "v1\n";
  Put(out, "account_id", account_id);
  Put(out, "alert_threshold", threshold_credits);
  Put(out, "idempotency_key", idempotency_key);
  PutTime(out, "at", at);
  return out;
}

absl::StatusOr<AuditSigner> AuditSigner::Create(std::string key) {
  if (key.size() < kMinAuditKeyBytes || key.size() > kMaxAuditKeyBytes) {
    return absl::InvalidArgumentError(absl::StrCat("audit HMAC key: must be ", kMinAuditKeyBytes,
                                                   " to ", kMaxAuditKeyBytes, " bytes, got ",
                                                   key.size()));
  }
  return AuditSigner(std::move(key));
}

std::string AuditSigner::Sign(const std::string& account_id, int64_t sequence,
                              const std::string& prev_hmac, const std::string& payload) const {
  std::string message = "shieldx-credits-audit-v1\n";
  Put(message, "account_id", account_id);
  Put(message, "sequence", sequence);
  Put(message, "prev_hmac", prev_hmac);
  Put(message, "payload", payload);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int out_len = 0;
  const unsigned char* result =
      HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), out, &out_len);
  SHIELDX_CHECK_MSG(result != nullptr && out_len == kHmacBytes, "HMAC-SHA256 failed");
  return std::string(reinterpret_cast<const char*>(out), out_len);
}

AuditEntry AuditSigner::MakeEntry(const std::string& account_id, int64_t sequence,
                                  std::string prev_hmac, std::string entry_kind,
                                  std::string transfer_id, std::string payload) const {
  AuditEntry e;
  e.account_id = account_id;
  e.sequence = sequence;
  e.entry_kind = std::move(entry_kind);
  e.transfer_id = std::move(transfer_id);
  e.hmac = Sign(account_id, sequence, prev_hmac, payload);
  e.payload = std::move(payload);
  e.prev_hmac = std::move(prev_hmac);
  return e;
}

AuditVerifier::AuditVerifier(const AuditSigner* signer, std::string account_id,
                             int64_t first_sequence, std::string anchor_hmac,
                             std::size_t max_problems)
    : signer_(signer),
      account_id_(std::move(account_id)),
      next_(first_sequence),
      last_hmac_(std::move(anchor_hmac)),
      max_problems_(max_problems) {}

void AuditVerifier::Report(int64_t sequence, AuditProblemKind kind, std::string description) {
  if (problems_.size() >= max_problems_) {
    truncated_ = true;
    return;
  }
  problems_.push_back({account_id_, sequence, kind, std::move(description)});
}

void AuditVerifier::Add(const AuditEntry& e, const std::optional<Transfer>& ledger) {
  ++verified_;
  bool link_known = true;
  if (e.sequence != next_) {
    Report(next_, AuditProblemKind::kMissing,
           absl::StrCat("account ", account_id_, ": audit entries ", next_, "..", e.sequence - 1,
                        " are missing (next entry found is ", e.sequence, ")"));
    link_known = false;  // the predecessor is gone: resume the chain at this entry
  }
  if (link_known && e.prev_hmac != last_hmac_) {
    Report(e.sequence, AuditProblemKind::kReordered,
           absl::StrCat("account ", account_id_, ": audit entry ", e.sequence,
                        " does not chain to entry ", e.sequence - 1,
                        " (moved, re-inserted or its predecessor was replaced)"));
  } else if (signer_->Sign(account_id_, e.sequence, e.prev_hmac, e.payload) != e.hmac) {
    Report(e.sequence, AuditProblemKind::kModified,
           absl::StrCat("account ", account_id_, ": audit entry ", e.sequence, " (", e.entry_kind,
                        ") does not match its HMAC: it was modified"));
  } else if (e.entry_kind == kEntryTransfer) {
    if (!ledger.has_value()) {
      Report(e.sequence, AuditProblemKind::kLedgerMismatch,
             absl::StrCat("account ", account_id_, ": audit entry ", e.sequence, " names transfer ",
                          e.transfer_id, ", which is not in the ledger"));
    } else if (TransferPayload(*ledger) != e.payload) {
      Report(e.sequence, AuditProblemKind::kLedgerMismatch,
             absl::StrCat("account ", account_id_, ": transfer ", e.transfer_id,
                          " differs from its audit entry ", e.sequence));
    }
  }
  last_hmac_ = e.hmac;
  next_ = e.sequence + 1;
}

void AuditVerifier::Finish(int64_t head_sequence, const std::string& head_hmac,
                           int64_t to_sequence) {
  const int64_t last = to_sequence > 0 ? std::min(to_sequence, head_sequence) : head_sequence;
  if (next_ <= last) {
    Report(next_, AuditProblemKind::kMissing,
           absl::StrCat("account ", account_id_, ": audit entries ", next_, "..", last,
                        " are missing (the account's chain head is at ", head_sequence, ")"));
    return;
  }
  if (to_sequence == 0 && next_ == head_sequence + 1 && head_sequence > 0 &&
      head_hmac != last_hmac_) {
    Report(head_sequence, AuditProblemKind::kModified,
           absl::StrCat("account ", account_id_, ": the chain head HMAC does not match entry ",
                        head_sequence));
  }
  if (next_ > head_sequence + 1) {
    Report(head_sequence + 1, AuditProblemKind::kLedgerMismatch,
           absl::StrCat("account ", account_id_, ": audit entries go up to ", next_ - 1,
                        " but the account's chain head is at ", head_sequence));
  }
}

std::string HexEncode(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

}  // namespace shieldx::credits
