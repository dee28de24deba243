// A request from the labelled NDJSON format (shared/formats/http-request-ndjson.md), as the
// benchmarks feed it to both engines. Labels are kept for reporting only.
#ifndef SHIELDX_BENCH_DETECT_BENCH_REQUEST_H_
#define SHIELDX_BENCH_DETECT_BENCH_REQUEST_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace shieldx::bench {

struct BenchRequest {
  std::string id;
  std::string method;
  std::string uri;
  std::string version;  // "HTTP/1.1"
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string client_ip;
  std::string label;  // "attack" | "benign" (reporting only)
  std::string source;
  std::string raw_line;  // the NDJSON line as read
};

// Parses one NDJSON line (body_b64 decoded). InvalidArgument names the problem.
absl::StatusOr<BenchRequest> ParseBenchRequest(const std::string& line);

// Reads up to `max_requests` lines from a .ndjson or .ndjson.gz file (gz via zcat).
absl::StatusOr<std::vector<BenchRequest>> LoadBenchRequests(const std::string& path,
                                                            size_t max_requests);

}  // namespace shieldx::bench

#endif  // SHIELDX_BENCH_DETECT_BENCH_REQUEST_H_
