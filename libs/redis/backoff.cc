#include "libs/redis/backoff.h"

#include <algorithm>

#include "libs/base/check.h"

namespace shieldx::redis {
namespace {
// Doubling stops here; 2^20 * any sane initial delay is far beyond any sane max.
constexpr int kMaxDoublings = 20;

uint64_t SeedFrom(uint64_t seed) {
  if (seed != 0) return seed;
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}
}  // namespace

Backoff::Backoff(const BackoffOptions& options) : options_(options), rng_(SeedFrom(options.seed)) {
  SHIELDX_CHECK(options_.initial > absl::ZeroDuration());
  SHIELDX_CHECK(options_.max >= options_.initial);
}

absl::Duration Backoff::NextDelay() {
  const int doublings = std::min(failures_, kMaxDoublings);
  ++failures_;
  const absl::Duration nominal =
      std::min(options_.initial * (int64_t{1} << doublings), options_.max);
  const int64_t nominal_us = absl::ToInt64Microseconds(nominal);
  std::uniform_int_distribution<int64_t> dist(nominal_us / 2, nominal_us);
  return absl::Microseconds(dist(rng_));
}

}  // namespace shieldx::redis
