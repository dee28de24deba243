#include "bench/detect/bench_request.h"

#include <cstdio>
#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace shieldx::bench {

absl::StatusOr<BenchRequest> ParseBenchRequest(const std::string& line) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return absl::InvalidArgumentError("not a JSON object");
  BenchRequest r;
  r.id = j.value("id", "");
  r.method = j.value("method", "");
  r.uri = j.value("uri", "");
  r.version = j.value("version", "HTTP/1.1");
  r.client_ip = j.value("client_ip", "");
  r.label = j.value("label", "");
  r.source = j.value("source", "");
  if (r.method.empty() || r.uri.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("request ", r.id, ": missing method or uri"));
  }
  if (j.contains("headers") && j["headers"].is_array()) {
    for (const auto& h : j["headers"]) {
      if (h.is_array() && h.size() == 2 && h[0].is_string() && h[1].is_string()) {
        r.headers.emplace_back(h[0].get<std::string>(), h[1].get<std::string>());
      }
    }
  }
  if (j.contains("body_b64") && j["body_b64"].is_string()) {
    std::string decoded;
    if (!absl::Base64Unescape(j["body_b64"].get<std::string>(), &decoded)) {
      return absl::InvalidArgumentError(absl::StrCat("request ", r.id, ": bad body_b64"));
    }
    r.body = std::move(decoded);
  } else {
    r.body = j.value("body", "");
  }
  r.raw_line = line;
  return r;
}

absl::StatusOr<std::vector<BenchRequest>> LoadBenchRequests(const std::string& path,
                                                            size_t max_requests) {
  const bool gz = absl::EndsWith(path, ".gz");
  std::string cmd = gz ? "zcat '" + path + "'" : "cat '" + path + "'";
  std::unique_ptr<FILE, int (*)(FILE*)> in(popen(cmd.c_str(), "r"), pclose);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::vector<BenchRequest> out;
  std::string line;
  char buf[65536];
  while (out.size() < max_requests && fgets(buf, sizeof(buf), in.get()) != nullptr) {
    line.append(buf);
    if (line.empty() || line.back() != '\n') continue;
    line.pop_back();
    auto r = ParseBenchRequest(line);
    line.clear();
    if (r.ok()) out.push_back(std::move(*r));
  }
  return out;
}

}  // namespace shieldx::bench
