#include "services/credits/payments.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace shieldx::credits {
namespace {

absl::Status CheckText(const std::string& field, const std::string& value, std::size_t max) {
  if (value.size() > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": at most ", max, " bytes, got ", value.size()));
  }
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": control characters not allowed"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<PaymentPlan> ManualPaymentProvider::Plan(const Payment& payment,
                                                        int64_t /*amount_credits*/) const {
  if (payment.external_reference.empty()) {
    return absl::InvalidArgumentError(
        "payment.external_reference: required for provider manual (invoice or transfer id)");
  }
  if (absl::Status s = CheckText("payment.external_reference", payment.external_reference,
                                 kMaxPaymentReferenceBytes);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckText("payment.note", payment.note, kMaxPaymentNoteBytes); !s.ok()) {
    return s;
  }
  return PaymentPlan{kPaymentClearingAccountId, /*reference_unique=*/true};
}

absl::StatusOr<PaymentPlan> PromotionProvider::Plan(const Payment& payment,
                                                    int64_t /*amount_credits*/) const {
  if (absl::Status s = CheckText("payment.external_reference", payment.external_reference,
                                 kMaxPaymentReferenceBytes);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckText("payment.note", payment.note, kMaxPaymentNoteBytes); !s.ok()) {
    return s;
  }
  return PaymentPlan{kPromotionsAccountId, /*reference_unique=*/false};
}

PaymentProviders PaymentProviders::Default() {
  PaymentProviders p;
  p.Add(std::make_unique<ManualPaymentProvider>());
  p.Add(std::make_unique<PromotionProvider>());
  return p;
}

void PaymentProviders::Add(std::unique_ptr<PaymentProvider> provider) {
  std::string name = provider->name();
  providers_[name] = std::move(provider);
}

absl::StatusOr<const PaymentProvider*> PaymentProviders::Find(const std::string& name) const {
  auto it = providers_.find(name);
  if (it == providers_.end()) {
    std::vector<std::string> known;
    for (const auto& [n, _] : providers_) known.push_back(n);
    return absl::InvalidArgumentError(absl::StrCat("payment.provider: unknown provider \"",
                                                   name.substr(0, 64),
                                                   "\" (known: ", absl::StrJoin(known, ", "), ")"));
  }
  return it->second.get();
}

}  // namespace shieldx::credits
