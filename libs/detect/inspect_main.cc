// shieldx-inspect: labeled-request NDJSON on stdin -> one verdict line per request on stdout,
// in input order, using the default protection profile or --config FILE.
//
//   shieldx-inspect [--config FILE] [--threads N] [--explain] < requests.ndjson
//
// Exit status: 0 on success (including per-line errors, reported as action "error"),
// 2 on bad flags or an invalid profile.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "libs/detect/inspector.h"
#include "libs/detect/ndjson.h"

namespace {

using shieldx::detect::Inspector;

constexpr int kMaxThreads = 64;
constexpr std::size_t kBatchLines = 4096;

void Usage() {
  std::fprintf(stderr,
               "usage: shieldx-inspect [--config FILE] [--threads N] [--explain] < in.ndjson\n"
               "  reads requests (shared/formats/http-request-ndjson.md), writes one verdict\n"
               "  line per request: {\"id\",\"action\",\"score\",\"categories\",\"findings\"}\n");
}

void ProcessRange(const Inspector& inspector, const std::vector<std::string>& lines,
                  std::size_t begin, std::size_t end, bool explain, std::vector<std::string>* out) {
  auto scratch = inspector.NewScratch();
  shieldx::detect::OwnedHttpRequest req;
  std::string id;
  for (std::size_t i = begin; i < end; ++i) {
    const std::string& line = lines[i];
    absl::Status st = shieldx::detect::ParseRequestLine(line, &req, &id);
    if (!st.ok()) {
      (*out)[i] = shieldx::detect::ErrorJson(id, std::string(st.message()));
      continue;
    }
    auto t0 = std::chrono::steady_clock::now();
    shieldx::detect::Verdict v = inspector.Inspect(req.view(), *scratch);
    auto us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    (*out)[i] = shieldx::detect::VerdictJson(id, v, us, explain);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path;
  int threads = 1;
  bool explain = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (a.rfind("--config=", 0) == 0) {
      config_path = a.substr(9);
    } else if (a == "--threads" && i + 1 < argc) {
      threads = std::atoi(argv[++i]);
    } else if (a.rfind("--threads=", 0) == 0) {
      threads = std::atoi(a.c_str() + 10);
    } else if (a == "--explain") {
      explain = true;
    } else if (a == "--help" || a == "-h") {
      Usage();
      return 0;
    } else {
      std::fprintf(stderr, "shieldx-inspect: unknown argument %s\n", a.c_str());
      Usage();
      return 2;
    }
  }
  if (threads < 1 || threads > kMaxThreads) {
    std::fprintf(stderr, "shieldx-inspect: --threads must be 1..%d, got %d\n", kMaxThreads,
                 threads);
    return 2;
  }
  shieldx::detect::Profile profile = shieldx::detect::Profile::Default();
  if (!config_path.empty()) {
    std::ifstream f(config_path, std::ios::binary);
    if (!f) {
      std::fprintf(stderr, "shieldx-inspect: cannot read config %s\n", config_path.c_str());
      return 2;
    }
    std::stringstream ss;
    ss << f.rdbuf();
    auto p = shieldx::detect::Profile::FromJson(ss.str());
    if (!p.ok()) {
      std::fprintf(stderr, "shieldx-inspect: config %s: %s\n", config_path.c_str(),
                   std::string(p.status().message()).c_str());
      return 2;
    }
    profile = std::move(*p);
  }
  auto inspector = Inspector::Create(std::move(profile));
  if (!inspector.ok()) {
    std::fprintf(stderr, "shieldx-inspect: %s\n",
                 std::string(inspector.status().message()).c_str());
    return 2;
  }
  std::ios::sync_with_stdio(false);
  std::vector<std::string> lines;
  std::vector<std::string> out;
  lines.reserve(kBatchLines * threads);
  std::string line;
  bool eof = false;
  while (!eof) {
    lines.clear();
    while (lines.size() < kBatchLines * static_cast<std::size_t>(threads)) {
      if (!std::getline(std::cin, line)) {
        eof = true;
        break;
      }
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) continue;
      lines.push_back(std::move(line));
      line.clear();
    }
    if (lines.empty()) break;
    out.assign(lines.size(), std::string());
    if (threads == 1) {
      ProcessRange(**inspector, lines, 0, lines.size(), explain, &out);
    } else {
      std::vector<std::thread> workers;
      std::size_t per = (lines.size() + threads - 1) / threads;
      for (int t = 0; t < threads; ++t) {
        std::size_t b = t * per;
        std::size_t e = std::min(lines.size(), b + per);
        if (b >= e) break;
        workers.emplace_back(ProcessRange, std::cref(**inspector), std::cref(lines), b, e, explain,
                             &out);
      }
      for (auto& w : workers) w.join();
    }
    for (const std::string& o : out) {
      std::fwrite(o.data(), 1, o.size(), stdout);
      std::fputc('\n', stdout);
    }
  }
  std::fflush(stdout);
  return 0;
}
