// Encodings of the ledger's commands and results, for exactly-once:
//   * Fingerprint(operation, command): sha256 over the operation name and the command's
//     canonical JSON (sorted keys), stored with the idempotency key;
//   * EncodeResult / DecodeResult: the response stored with the key and returned on retries.
// The JSON is internal to the credits database (never an API); every field is written, so a
// decoded result equals the encoded one.
#ifndef SHIELDX_SERVICES_CREDITS_CODEC_H_
#define SHIELDX_SERVICES_CREDITS_CODEC_H_

#include <string>

#include "absl/status/status.h"
#include "services/credits/ledger.h"

namespace shieldx::credits {

std::string Sha256(const std::string& data);

#define SHIELDX_CREDITS_CODEC(Type)             \
  std::string CanonicalJson(const Type& value); \
  absl::Status FromJson(const std::string& text, Type* value);

SHIELDX_CREDITS_CODEC(OpenAccountCommand)
SHIELDX_CREDITS_CODEC(TopUpCommand)
SHIELDX_CREDITS_CODEC(ConsumeCommand)
SHIELDX_CREDITS_CODEC(ConsumeBatchCommand)
SHIELDX_CREDITS_CODEC(ReserveCommand)
SHIELDX_CREDITS_CODEC(CaptureCommand)
SHIELDX_CREDITS_CODEC(VoidCommand)
SHIELDX_CREDITS_CODEC(RefundCommand)
SHIELDX_CREDITS_CODEC(SetAlertThresholdCommand)
SHIELDX_CREDITS_CODEC(OpenAccountResult)
SHIELDX_CREDITS_CODEC(TopUpResult)
SHIELDX_CREDITS_CODEC(ConsumeResult)
SHIELDX_CREDITS_CODEC(ConsumeBatchResult)
SHIELDX_CREDITS_CODEC(ReserveResult)
SHIELDX_CREDITS_CODEC(CaptureResult)
SHIELDX_CREDITS_CODEC(VoidResult)
SHIELDX_CREDITS_CODEC(RefundResult)
SHIELDX_CREDITS_CODEC(SetAlertThresholdResult)
#undef SHIELDX_CREDITS_CODEC

// sha256(operation + "\n" + CanonicalJson(command)), 32 raw bytes.
template <typename Command>
std::string Fingerprint(const std::string& operation, const Command& command) {
  return Sha256(operation + "\n" + CanonicalJson(command));
}

}  // namespace shieldx::credits

#endif  // SHIELDX_SERVICES_CREDITS_CODEC_H_
