#include "services/credits/codec.h"

#include <openssl/sha.h>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace shieldx::credits {

using nlohmann::json;

// ---- primitives ---------------------------------------------------------------------------
namespace {

json T(absl::Time t) { return absl::ToUnixMicros(t); }
json T(const std::optional<absl::Time>& t) {
  return t.has_value() ? json(absl::ToUnixMicros(*t)) : json(nullptr);
}
void T(const json& j, absl::Time* t) { *t = absl::FromUnixMicros(j.get<int64_t>()); }
void T(const json& j, std::optional<absl::Time>* t) {
  if (j.is_null()) {
    t->reset();
  } else {
    *t = absl::FromUnixMicros(j.get<int64_t>());
  }
}
template <typename E>
json E2J(E e) {
  return static_cast<int>(e);
}
template <typename E>
void J2E(const json& j, E* e) {
  *e = static_cast<E>(j.get<int>());
}

}  // namespace

// ADL hooks for nlohmann (must live in the types' namespace).
void to_json(json& j, const Account& a) {
  j = json{{"account_id", a.account_id},
           {"tenant_id", a.tenant_id},
           {"kind", E2J(a.kind)},
           {"overdraft", a.overdraft_limit_credits},
           {"threshold", a.alert_threshold_credits},
           {"created_at", T(a.created_at)}};
}
void from_json(const json& j, Account& a) {
  j.at("account_id").get_to(a.account_id);
  j.at("tenant_id").get_to(a.tenant_id);
  J2E(j.at("kind"), &a.kind);
  j.at("overdraft").get_to(a.overdraft_limit_credits);
  j.at("threshold").get_to(a.alert_threshold_credits);
  T(j.at("created_at"), &a.created_at);
}

void to_json(json& j, const Balance& b) {
  j = json{{"account_id", b.account_id},
           {"posted", b.posted_credits},
           {"pending", b.pending_credits},
           {"available", b.available_credits},
           {"overdraft", b.overdraft_limit_credits},
           {"threshold", b.alert_threshold_credits},
           {"below", b.below_alert_threshold},
           {"sequence", b.sequence},
           {"as_of", T(b.as_of)}};
}
void from_json(const json& j, Balance& b) {
  j.at("account_id").get_to(b.account_id);
  j.at("posted").get_to(b.posted_credits);
  j.at("pending").get_to(b.pending_credits);
  j.at("available").get_to(b.available_credits);
  j.at("overdraft").get_to(b.overdraft_limit_credits);
  j.at("threshold").get_to(b.alert_threshold_credits);
  j.at("below").get_to(b.below_alert_threshold);
  j.at("sequence").get_to(b.sequence);
  T(j.at("as_of"), &b.as_of);
}

void to_json(json& j, const Payment& p) {
  j = json{{"provider", p.provider}, {"reference", p.external_reference}, {"note", p.note}};
}
void from_json(const json& j, Payment& p) {
  j.at("provider").get_to(p.provider);
  j.at("reference").get_to(p.external_reference);
  j.at("note").get_to(p.note);
}

void to_json(json& j, const Transfer& t) {
  j = json{{"id", t.transfer_id},
           {"tenant_id", t.tenant_id},
           {"account_id", t.account_id},
           {"sequence", t.sequence},
           {"kind", E2J(t.kind)},
           {"debit", t.debit_account_id},
           {"credit", t.credit_account_id},
           {"amount", t.amount_credits},
           {"usage_kind", E2J(t.usage_kind)},
           {"quantity", t.quantity},
           {"reference", t.reference},
           {"hold_id", t.hold_id},
           {"refunded_transfer_id", t.refunded_transfer_id},
           {"payment", t.payment},
           {"payment_unique", t.payment_reference_unique},
           {"key", t.idempotency_key},
           {"reason", t.reason},
           {"period_start", T(t.period_start)},
           {"period_end", T(t.period_end)},
           {"created_at", T(t.created_at)}};
}
void from_json(const json& j, Transfer& t) {
  j.at("id").get_to(t.transfer_id);
  j.at("tenant_id").get_to(t.tenant_id);
  j.at("account_id").get_to(t.account_id);
  j.at("sequence").get_to(t.sequence);
  J2E(j.at("kind"), &t.kind);
  j.at("debit").get_to(t.debit_account_id);
  j.at("credit").get_to(t.credit_account_id);
  j.at("amount").get_to(t.amount_credits);
  J2E(j.at("usage_kind"), &t.usage_kind);
  j.at("quantity").get_to(t.quantity);
  j.at("reference").get_to(t.reference);
  j.at("hold_id").get_to(t.hold_id);
  j.at("refunded_transfer_id").get_to(t.refunded_transfer_id);
  j.at("payment").get_to(t.payment);
  j.at("payment_unique").get_to(t.payment_reference_unique);
  j.at("key").get_to(t.idempotency_key);
  j.at("reason").get_to(t.reason);
  T(j.at("period_start"), &t.period_start);
  T(j.at("period_end"), &t.period_end);
  T(j.at("created_at"), &t.created_at);
}

void to_json(json& j, const Hold& h) {
  j = json{{"id", h.hold_id},
           {"tenant_id", h.tenant_id},
           {"account_id", h.account_id},
           {"amount", h.amount_credits},
           {"captured", h.captured_credits},
           {"state", E2J(h.state)},
           {"usage_kind", E2J(h.usage_kind)},
           {"reference", h.reference},
           {"expires_at", T(h.expires_at)},
           {"created_at", T(h.created_at)},
           {"settled_at", T(h.settled_at)}};
}
void from_json(const json& j, Hold& h) {
  j.at("id").get_to(h.hold_id);
  j.at("tenant_id").get_to(h.tenant_id);
  j.at("account_id").get_to(h.account_id);
  j.at("amount").get_to(h.amount_credits);
  j.at("captured").get_to(h.captured_credits);
  J2E(j.at("state"), &h.state);
  J2E(j.at("usage_kind"), &h.usage_kind);
  j.at("reference").get_to(h.reference);
  T(j.at("expires_at"), &h.expires_at);
  T(j.at("created_at"), &h.created_at);
  T(j.at("settled_at"), &h.settled_at);
}

void to_json(json& j, const UsageRecord& r) {
  j = json{{"usage_kind", E2J(r.usage_kind)},   {"quantity", r.quantity},
           {"amount", r.amount_credits},        {"reference", r.reference},
           {"period_start", T(r.period_start)}, {"period_end", T(r.period_end)}};
}
void from_json(const json& j, UsageRecord& r) {
  J2E(j.at("usage_kind"), &r.usage_kind);
  j.at("quantity").get_to(r.quantity);
  j.at("amount").get_to(r.amount_credits);
  j.at("reference").get_to(r.reference);
  T(j.at("period_start"), &r.period_start);
  T(j.at("period_end"), &r.period_end);
}

// ---- commands -----------------------------------------------------------------------------
void to_json(json& j, const OpenAccountCommand& c) {
  j = json{{"tenant_id", c.tenant_id},
           {"key", c.idempotency_key},
           {"overdraft", c.overdraft_limit_credits},
           {"threshold", c.alert_threshold_credits}};
}
void from_json(const json& j, OpenAccountCommand& c) {
  j.at("tenant_id").get_to(c.tenant_id);
  j.at("key").get_to(c.idempotency_key);
  j.at("overdraft").get_to(c.overdraft_limit_credits);
  j.at("threshold").get_to(c.alert_threshold_credits);
}
void to_json(json& j, const TopUpCommand& c) {
  j = json{{"tenant_id", c.tenant_id},
           {"key", c.idempotency_key},
           {"amount", c.amount_credits},
           {"payment", c.payment}};
}
void from_json(const json& j, TopUpCommand& c) {
  j.at("tenant_id").get_to(c.tenant_id);
  j.at("key").get_to(c.idempotency_key);
  j.at("amount").get_to(c.amount_credits);
  j.at("payment").get_to(c.payment);
}
void to_json(json& j, const ConsumeCommand& c) {
  j = json{{"tenant_id", c.tenant_id},
           {"key", c.idempotency_key},
           {"record", c.record},
           {"policy", E2J(c.shortfall_policy)}};
}
void from_json(const json& j, ConsumeCommand& c) {
  j.at("tenant_id").get_to(c.tenant_id);
  j.at("key").get_to(c.idempotency_key);
  j.at("record").get_to(c.record);
  J2E(j.at("policy"), &c.shortfall_policy);
}
void to_json(json& j, const ConsumeBatchCommand& c) {
  j = json{{"tenant_id", c.tenant_id},
           {"key", c.idempotency_key},
           {"records", c.records},
           {"policy", E2J(c.shortfall_policy)}};
}
void from_json(const json& j, ConsumeBatchCommand& c) {
  j.at("tenant_id").get_to(c.tenant_id);
  j.at("key").get_to(c.idempotency_key);
  j.at("records").get_to(c.records);
  J2E(j.at("policy"), &c.shortfall_policy);
}
void to_json(json& j, const ReserveCommand& c) {
  j = json{{"tenant_id", c.tenant_id},        {"key", c.idempotency_key},
           {"amount", c.amount_credits},      {"ttl_ms", absl::ToInt64Milliseconds(c.ttl)},
           {"usage_kind", E2J(c.usage_kind)}, {"reference", c.reference}};
}
void from_json(const json& j, ReserveCommand& c) {
  j.at("tenant_id").get_to(c.tenant_id);
  j.at("key").get_to(c.idempotency_key);
  j.at("amount").get_to(c.amount_credits);
  c.ttl = absl::Milliseconds(j.at("ttl_ms").get<int64_t>());
  J2E(j.at("usage_kind"), &c.usage_kind);
  j.at("reference").get_to(c.reference);
}
void to_json(json& j, const CaptureCommand& c) {
  j = json{{"tenant_id", c.tenant_id},
           {"key", c.idempotency_key},
           {"hold_id", c.hold_id},
           {"amount", c.amount_credits},
           {"quantity", c.quantity}};
}
void from_json(const json& j, CaptureCommand& c) {
  j.at("tenant_id").get_to(c.tenant_id);
  j.at("key").get_to(c.idempotency_key);
  j.at("hold_id").get_to(c.hold_id);
  j.at("amount").get_to(c.amount_credits);
  j.at("quantity").get_to(c.quantity);
}
void to_json(json& j, const VoidCommand& c) {
  j = json{{"tenant_id", c.tenant_id},
           {"key", c.idempotency_key},
           {"hold_id", c.hold_id},
           {"reason", c.reason}};
}
void from_json(const json& j, VoidCommand& c) {
  j.at("tenant_id").get_to(c.tenant_id);
  j.at("key").get_to(c.idempotency_key);
  j.at("hold_id").get_to(c.hold_id);
  j.at("reason").get_to(c.reason);
}
void to_json(json& j, const RefundCommand& c) {
  j = json{{"tenant_id", c.tenant_id},
           {"key", c.idempotency_key},
           {"transfer_id", c.transfer_id},
           {"amount", c.amount_credits},
           {"reason", c.reason}};
}
void from_json(const json& j, RefundCommand& c) {
  j.at("tenant_id").get_to(c.tenant_id);
  j.at("key").get_to(c.idempotency_key);
  j.at("transfer_id").get_to(c.transfer_id);
  j.at("amount").get_to(c.amount_credits);
  j.at("reason").get_to(c.reason);
}
void to_json(json& j, const SetAlertThresholdCommand& c) {
  j = json{
      {"tenant_id", c.tenant_id}, {"key", c.idempotency_key}, {"threshold", c.threshold_credits}};
}
void from_json(const json& j, SetAlertThresholdCommand& c) {
  j.at("tenant_id").get_to(c.tenant_id);
  j.at("key").get_to(c.idempotency_key);
  j.at("threshold").get_to(c.threshold_credits);
}

// ---- results ------------------------------------------------------------------------------
void to_json(json& j, const OpenAccountResult& r) {
  j = json{{"account", r.account}, {"balance", r.balance}};
}
void from_json(const json& j, OpenAccountResult& r) {
  j.at("account").get_to(r.account);
  j.at("balance").get_to(r.balance);
}
void to_json(json& j, const TopUpResult& r) {
  j = json{{"transfer", r.transfer}, {"balance", r.balance}};
}
void from_json(const json& j, TopUpResult& r) {
  j.at("transfer").get_to(r.transfer);
  j.at("balance").get_to(r.balance);
}
void to_json(json& j, const ConsumeResult& r) {
  j = json{{"transfer", r.transfer}, {"balance", r.balance}, {"shortfall", r.shortfall_credits}};
}
void from_json(const json& j, ConsumeResult& r) {
  j.at("transfer").get_to(r.transfer);
  j.at("balance").get_to(r.balance);
  j.at("shortfall").get_to(r.shortfall_credits);
}
void to_json(json& j, const ConsumeBatchResult& r) {
  j = json{{"applied", r.applied_records},
           {"consumed", r.consumed_credits},
           {"shortfall", r.shortfall_credits},
           {"balance", r.balance},
           {"last_sequence", r.last_sequence}};
}
void from_json(const json& j, ConsumeBatchResult& r) {
  j.at("applied").get_to(r.applied_records);
  j.at("consumed").get_to(r.consumed_credits);
  j.at("shortfall").get_to(r.shortfall_credits);
  j.at("balance").get_to(r.balance);
  j.at("last_sequence").get_to(r.last_sequence);
}
void to_json(json& j, const ReserveResult& r) {
  j = json{{"hold", r.hold}, {"transfer", r.transfer}, {"balance", r.balance}};
}
void from_json(const json& j, ReserveResult& r) {
  j.at("hold").get_to(r.hold);
  j.at("transfer").get_to(r.transfer);
  j.at("balance").get_to(r.balance);
}
void to_json(json& j, const CaptureResult& r) {
  j = json{{"hold", r.hold}, {"transfer", r.transfer}, {"balance", r.balance}};
}
void from_json(const json& j, CaptureResult& r) {
  j.at("hold").get_to(r.hold);
  j.at("transfer").get_to(r.transfer);
  j.at("balance").get_to(r.balance);
}
void to_json(json& j, const VoidResult& r) { j = json{{"hold", r.hold}, {"balance", r.balance}}; }
void from_json(const json& j, VoidResult& r) {
  j.at("hold").get_to(r.hold);
  j.at("balance").get_to(r.balance);
}
void to_json(json& j, const RefundResult& r) {
  j = json{{"transfer", r.transfer}, {"refundable", r.refundable_credits}, {"balance", r.balance}};
}
void from_json(const json& j, RefundResult& r) {
  j.at("transfer").get_to(r.transfer);
  j.at("refundable").get_to(r.refundable_credits);
  j.at("balance").get_to(r.balance);
}
void to_json(json& j, const SetAlertThresholdResult& r) {
  j = json{{"account", r.account}, {"balance", r.balance}};
}
void from_json(const json& j, SetAlertThresholdResult& r) {
  j.at("account").get_to(r.account);
  j.at("balance").get_to(r.balance);
}

std::string Sha256(const std::string& data) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out);
  return std::string(reinterpret_cast<const char*>(out), sizeof(out));
}

#define SHIELDX_CREDITS_CODEC_IMPL(Type)                                                       \
  std::string CanonicalJson(const Type& value) { return json(value).dump(); }                  \
  absl::Status FromJson(const std::string& text, Type* value) {                                \
    json j = json::parse(text, nullptr, /*allow_exceptions=*/false);                           \
    if (j.is_discarded()) return absl::DataLossError("credits: stored " #Type " is not JSON"); \
    try {                                                                                      \
      *value = j.get<Type>();                                                                  \
    } catch (const std::exception& e) {                                                        \
      return absl::DataLossError(absl::StrCat("credits: stored " #Type ": ", e.what()));       \
    }                                                                                          \
    return absl::OkStatus();                                                                   \
  }

SHIELDX_CREDITS_CODEC_IMPL(OpenAccountCommand)
SHIELDX_CREDITS_CODEC_IMPL(TopUpCommand)
SHIELDX_CREDITS_CODEC_IMPL(ConsumeCommand)
SHIELDX_CREDITS_CODEC_IMPL(ConsumeBatchCommand)
SHIELDX_CREDITS_CODEC_IMPL(ReserveCommand)
SHIELDX_CREDITS_CODEC_IMPL(CaptureCommand)
SHIELDX_CREDITS_CODEC_IMPL(VoidCommand)
SHIELDX_CREDITS_CODEC_IMPL(RefundCommand)
SHIELDX_CREDITS_CODEC_IMPL(SetAlertThresholdCommand)
SHIELDX_CREDITS_CODEC_IMPL(OpenAccountResult)
SHIELDX_CREDITS_CODEC_IMPL(TopUpResult)
SHIELDX_CREDITS_CODEC_IMPL(ConsumeResult)
SHIELDX_CREDITS_CODEC_IMPL(ConsumeBatchResult)
SHIELDX_CREDITS_CODEC_IMPL(ReserveResult)
SHIELDX_CREDITS_CODEC_IMPL(CaptureResult)
SHIELDX_CREDITS_CODEC_IMPL(VoidResult)
SHIELDX_CREDITS_CODEC_IMPL(RefundResult)
SHIELDX_CREDITS_CODEC_IMPL(SetAlertThresholdResult)
#undef SHIELDX_CREDITS_CODEC_IMPL

}  // namespace shieldx::credits
