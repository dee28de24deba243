// Payments: where a top-up's credits come from. A PaymentProvider validates the payment
// details of a TopUp and names the system account the credits are drawn from. The ledger
// records the provider's name and external reference on the TOP_UP transfer; a reference a
// provider declares unique can be recorded only once (also enforced by a unique index).
//
// Shipped providers (no card processing — the money moved outside ShieldX):
//   "manual"     an operator records a payment received (invoice, bank transfer): the external
//                reference is required and unique; credits come from payment clearing, which
//                the finance team reconciles against the bank.
//   "promotion"  credits granted for free (trials, goodwill): drawn from the promotions
//                account; the reference (campaign id) is optional and not unique.
//
// Thread-safety: providers and the registry are immutable after construction.
#ifndef SHIELDX_SERVICES_CREDITS_PAYMENTS_H_
#define SHIELDX_SERVICES_CREDITS_PAYMENTS_H_

#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/credits/ledger_types.h"

namespace shieldx::credits {

inline constexpr std::size_t kMaxPaymentReferenceBytes = 128;
inline constexpr std::size_t kMaxPaymentNoteBytes = 512;

// What the ledger needs to record a validated payment.
struct PaymentPlan {
  std::string source_account_id;  // the system account debited
  bool reference_unique = false;
};

class PaymentProvider {
 public:
  virtual ~PaymentProvider() = default;
  virtual std::string name() const = 0;
  // InvalidArgument naming the field when `payment` is incomplete for this provider.
  virtual absl::StatusOr<PaymentPlan> Plan(const Payment& payment,
                                           int64_t amount_credits) const = 0;
};

// Operator-recorded payments: external reference required and unique.
class ManualPaymentProvider final : public PaymentProvider {
 public:
  std::string name() const override { return "manual"; }
  absl::StatusOr<PaymentPlan> Plan(const Payment& payment, int64_t amount_credits) const override;
};

// Promotional grants from the promotions account.
class PromotionProvider final : public PaymentProvider {
 public:
  std::string name() const override { return "promotion"; }
  absl::StatusOr<PaymentPlan> Plan(const Payment& payment, int64_t amount_credits) const override;
};

class PaymentProviders {
 public:
  // The shipped providers: manual and promotion.
  static PaymentProviders Default();
  void Add(std::unique_ptr<PaymentProvider> provider);
  // InvalidArgument naming the provider and the known ones when unknown.
  absl::StatusOr<const PaymentProvider*> Find(const std::string& name) const;

 private:
  std::map<std::string, std::shared_ptr<const PaymentProvider>> providers_;
};

}  // namespace shieldx::credits

#endif  // SHIELDX_SERVICES_CREDITS_PAYMENTS_H_
