// The benchmark anchor: libmodsecurity 3 + OWASP CRS (Debian packages), paranoia level 1,
// inbound anomaly threshold 5 — the configuration most deployments run. Used ONLY by
// benchmarks to compare against; never linked into a product binary.
#ifndef SHIELDX_BENCH_DETECT_MODSEC_ANCHOR_H_
#define SHIELDX_BENCH_DETECT_MODSEC_ANCHOR_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "bench/detect/bench_request.h"

namespace shieldx::bench {

class ModSecAnchor {
 public:
  // Loads CRS from `crs_rules_dir` with the setup file `crs_setup_file`.
  static absl::StatusOr<std::unique_ptr<ModSecAnchor>> Create(const std::string& crs_setup_file,
                                                              const std::string& crs_rules_dir);
  ~ModSecAnchor();

  // Runs one request through all phases up to the request body. Returns true when CRS
  // decided to deny (anomaly score >= threshold or a disruptive rule).
  bool Inspect(const BenchRequest& request);

 private:
  ModSecAnchor() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace shieldx::bench

#endif  // SHIELDX_BENCH_DETECT_MODSEC_ANCHOR_H_
