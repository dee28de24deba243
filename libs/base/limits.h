// Named limits shared across the tree. Every queue, batch, page, retry and input size has a
// name and a reason here or beside the code that owns it (units last in names).
#ifndef SHIELDX_LIBS_BASE_LIMITS_H_
#define SHIELDX_LIBS_BASE_LIMITS_H_

#include <cstddef>
#include <cstdint>

namespace shieldx::limits {

// gRPC messages: large enough for a batch of 1,000 inspected requests with 64 KiB bodies
// would not be; batches are capped separately (kMaxBatchItems). 16 MiB bounds memory per call.
inline constexpr std::size_t kMaxGrpcMessageBytes = 16 * 1024 * 1024;
// Items in any batch RPC (EvaluateBatch, ConsumeBatch, IngestTelemetry...).
inline constexpr std::size_t kMaxBatchItems = 1000;
// Page size of any List RPC: default and ceiling.
inline constexpr std::size_t kDefaultPageSize = 100;
inline constexpr std::size_t kMaxPageSize = 1000;
// Identifiers (tenant ids, account ids, idempotency keys): printable, bounded.
inline constexpr std::size_t kMaxIdBytes = 128;
inline constexpr std::size_t kMaxIdempotencyKeyBytes = 255;

// HTTP request model (what the decision pipeline inspects).
inline constexpr std::size_t kMaxHeaderCount = 128;
inline constexpr std::size_t kMaxHeaderBytes = 16 * 1024;  // one header name+value
inline constexpr std::size_t kMaxUriBytes = 16 * 1024;
inline constexpr std::size_t kMaxInspectedBodyBytes = 128 * 1024;  // bytes of body inspected

// Retries of any operation (transactions, reconnects, RPC retries).
inline constexpr int kMaxRetryAttempts = 5;

// Config files and mounted secrets.
inline constexpr std::size_t kMaxConfigFileBytes = 1024 * 1024;
inline constexpr std::size_t kMaxSecretFileBytes = 64 * 1024;

}  // namespace shieldx::limits

#endif  // SHIELDX_LIBS_BASE_LIMITS_H_
