// bench/detect: the same request mix through ShieldX's detection engine and through
// libmodsecurity 3 + OWASP CRS (PL1, inbound threshold 5), one thread each, in one run.
// Prints requests/s, p50 / p99 per request and the throughput ratio, for the whole mix and for
// "typical" requests (benign traffic).
//
//   build/bin/bench_detect [--per-file N] [--rounds R] [--slowest K] [--keep-scratch]
//                          FILE.ndjson[.gz] ...
//
// --slowest K lists the K benign requests with the highest median time over the rounds (id,
// source, URI and body sizes): what the p99 tail is made of.
//
//   build/bin/bench_detect --shapes
//
// times 60 KB bodies each made of one syntax fragment repeated ("$$", "{{", "<x y=", "\n "...)
// in both engines, against a 60 KB body of English words: the worst cases of searches that
// run once per occurrence (RunShapes).
//
// Requests are taken round-robin from the files (at most N per file) so the mix has every
// source. Timing covers everything each engine does per request from the parsed NDJSON record:
// building its request representation, parsing, normalising, detecting and scoring.
#include <strings.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/detect/bench_request.h"
#include "bench/detect/modsec_anchor.h"
#include "libs/detect/inspector.h"
#include "libs/detect/ndjson.h"

namespace shieldx::bench {
namespace {

struct Stats {
  double total_s = 0;
  std::vector<double> per_request_us;
  int flagged = 0;
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t idx = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  return v[idx];
}

// `new_round` runs before each round, outside the timing.
template <typename F, typename G>
Stats Run(const std::vector<const BenchRequest*>& reqs, int rounds, F inspect, G new_round) {
  Stats s;
  s.per_request_us.reserve(reqs.size() * rounds);
  auto start = std::chrono::steady_clock::now();
  for (int r = 0; r < rounds; ++r) {
    const auto h0 = std::chrono::steady_clock::now();
    new_round();
    start += std::chrono::steady_clock::now() - h0;
    for (const BenchRequest* req : reqs) {
      const auto t0 = std::chrono::steady_clock::now();
      const bool flagged = inspect(*req);
      const auto t1 = std::chrono::steady_clock::now();
      s.per_request_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
      if (r == 0 && flagged) ++s.flagged;
    }
  }
  s.total_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return s;
}

void Print(const char* engine, const char* mix, const Stats& s, size_t n, int rounds) {
  const double rps = static_cast<double>(n * rounds) / s.total_s;
  std::printf("%-22s %-8s %8zu %12.0f %10.1f %10.1f %10.1f %8d\n", engine, mix, n, rps,
              Percentile(s.per_request_us, 0.50), Percentile(s.per_request_us, 0.99),
              Percentile(s.per_request_us, 0.999), s.flagged);
}

// Per request, the median of its `rounds` timings (Run records round after round).
std::vector<double> PerRequestMedians(size_t n, const Stats& s, int rounds) {
  std::vector<double> med(n);
  std::vector<double> t(rounds);
  for (size_t i = 0; i < n; ++i) {
    for (int r = 0; r < rounds; ++r) t[r] = s.per_request_us[r * n + i];
    std::sort(t.begin(), t.end());
    med[i] = t[t.size() / 2];
  }
  return med;
}

void PrintSlowest(const std::vector<const BenchRequest*>& reqs, const Stats& s, int rounds,
                  size_t k) {
  const std::vector<double> m = PerRequestMedians(reqs.size(), s, rounds);
  std::vector<std::pair<double, const BenchRequest*>> med;
  med.reserve(reqs.size());
  for (size_t i = 0; i < reqs.size(); ++i) med.emplace_back(m[i], reqs[i]);
  std::sort(med.begin(), med.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::printf("slowest benign requests (median of %d rounds):\n", rounds);
  std::printf("%10s %-28s %-12s %8s %8s %-24s %s\n", "us", "source", "method", "uri_len",
              "body_len", "content-type", "id");
  for (size_t i = 0; i < std::min(k, med.size()); ++i) {
    const BenchRequest& r = *med[i].second;
    std::string ctype = "-";
    for (const auto& [n, v] : r.headers) {
      if (n.size() == 12 && strncasecmp(n.c_str(), "content-type", 12) == 0)
        ctype = v.substr(0, 40);
    }
    std::printf("%10.1f %-28.28s %-12.12s %8zu %8zu %-24.24s %s\n", med[i].first, r.source.c_str(),
                r.method.c_str(), r.uri.size(), r.body.size(), ctype.c_str(), r.id.c_str());
  }
}

// Syntax fragments that the detectors look for openers, separators or closers of, each
// repeated to fill a body: a search repeated per occurrence that reads the rest of the value
// each time shows up as a time that grows with the square of the size. Not attacks; shapes.
constexpr const char* kShapes[] = {"$$",
                                   "$_",
                                   "$a$b",
                                   "${",
                                   "${{",
                                   "{{",
                                   "{%",
                                   "#{",
                                   "<%",
                                   "<%= ",
                                   "[[",
                                   "[",
                                   "(",
                                   "((",
                                   "$((",
                                   "`",
                                   "'",
                                   "\"",
                                   "\\",
                                   ";",
                                   "|",
                                   "&&",
                                   "\n",
                                   "\n ",
                                   "\r\n",
                                   "<",
                                   "<a ",
                                   "<x y=",
                                   "<a href=",
                                   "<img src=x onerror=",
                                   "<svg/onload=",
                                   "<![CDATA[",
                                   "<!--",
                                   "on",
                                   "onx=",
                                   "top[",
                                   "self[",
                                   "window[",
                                   "document.",
                                   "alert(",
                                   "x(",
                                   "a.b.",
                                   "union ",
                                   "select a from b ",
                                   "' or '1'='1 ",
                                   "/*",
                                   "--",
                                   "#",
                                   "%",
                                   "%25",
                                   "&#",
                                   "\\x41",
                                   "..%2f",
                                   "../",
                                   "//",
                                   "a=b&",
                                   "{\"a\":",
                                   "\"$ne",
                                   "(&(a=b)",
                                   "*)(",
                                   "::",
                                   "0x",
                                   "1,",
                                   "=",
                                   ":",
                                   "@",
                                   "*",
                                   ".",
                                   " "};

// The engine's view of a bench request; `headers` holds the header list it points into.
detect::HttpRequest ToDetectRequest(const BenchRequest& r, std::vector<detect::Header>* headers) {
  headers->clear();
  for (const auto& [n, v] : r.headers) headers->push_back({n, v});
  return detect::HttpRequest{r.method, r.uri, r.version, *headers, r.body, r.client_ip};
}

// --shapes: each fragment of kShapes repeated to fill a body, sent as text/plain and as a JSON
// field, beside a body of English words. ShieldX at 60 KB and 4 KB (median of 5 runs, a fresh
// Scratch each), the anchor at 4 KB (one run): at 60 KB some of these shapes keep
// libmodsecurity + CRS busy for minutes.
int RunShapes(detect::Inspector& inspector, ModSecAnchor& anchor) {
  constexpr std::size_t kLarge = 60 * 1024;
  constexpr std::size_t kSmall = 4 * 1024;
  struct Row {
    std::string shape;
    const char* type;
    double large_us;
    double small_us;
    double anchor_small_us;
  };
  std::vector<std::pair<std::string, std::string>> fills;
  fills.emplace_back("(English words)", "");
  for (const char* shape : kShapes) fills.emplace_back(shape, shape);
  std::vector<detect::Header> headers;
  auto make = [](const std::string& label, const std::string& unit, std::size_t bytes, bool json) {
    std::string fill;
    while (fill.size() < bytes) fill += unit;
    fill.resize(bytes);
    BenchRequest r;
    r.id = label;
    r.method = "POST";
    r.uri = "/shapes";
    r.version = "HTTP/1.1";
    if (json) {
      r.body = "{\"x\":";
      detect::AppendJsonString(fill, &r.body);
      r.body += "}";
    } else {
      r.body = fill;
    }
    r.headers = {{"Host", "bench.example"},
                 {"User-Agent", "bench"},
                 {"Content-Type", json ? "application/json" : "text/plain"},
                 {"Content-Length", std::to_string(r.body.size())}};
    return r;
  };
  auto ours_us = [&](const BenchRequest& r) {
    std::vector<double> t;
    for (int k = 0; k < 5; ++k) {
      auto scratch = inspector.NewScratch();
      const detect::HttpRequest req = ToDetectRequest(r, &headers);
      const auto t0 = std::chrono::steady_clock::now();
      inspector.Inspect(req, *scratch);
      t.push_back(
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(t.begin(), t.end());
    return t[2];
  };
  std::vector<Row> rows;
  for (const auto& [label, shape] : fills) {
    const std::string unit = shape.empty() ? "the quick brown fox jumps over a lazy dog " : shape;
    for (int json = 0; json < 2; ++json) {
      const BenchRequest large = make(label, unit, kLarge, json);
      const BenchRequest small = make(label, unit, kSmall, json);
      const auto t0 = std::chrono::steady_clock::now();
      anchor.Inspect(small);
      const double theirs =
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
      rows.push_back({label, json ? "json" : "text", ours_us(large), ours_us(small), theirs});
    }
  }
  const double reference = std::max(rows[0].large_us, rows[1].large_us);
  std::sort(rows.begin(), rows.end(),
            [](const Row& a, const Row& b) { return a.large_us > b.large_us; });
  std::printf("%zu shapes x 2 body types; ShieldX median of 5 runs, the anchor one run\n",
              std::size(kShapes));
  std::printf("%-22s %-5s %14s %16s %13s %14s\n", "shape", "body", "shieldx_60k_us",
              "x english_60k", "shieldx_4k_us", "anchor_4k_us");
  for (const Row& row : rows) {
    std::string shown;
    for (char c : row.shape) {
      shown += c == '\n' ? std::string("\\n") : c == '\r' ? std::string("\\r") : std::string(1, c);
    }
    std::printf("%-22.22s %-5s %14.1f %15.1fx %13.1f %14.1f\n", shown.c_str(), row.type,
                row.large_us, row.large_us / reference, row.small_us, row.anchor_small_us);
  }
  return 0;
}

int Main(int argc, char** argv) {
  size_t per_file = 2000;
  int rounds = 3;
  size_t slowest = 0;
  bool keep_scratch = false;
  bool shapes = false;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--per-file" && i + 1 < argc) {
      per_file = std::strtoul(argv[++i], nullptr, 10);
    } else if (a == "--rounds" && i + 1 < argc) {
      rounds = std::atoi(argv[++i]);
    } else if (a == "--slowest" && i + 1 < argc) {
      slowest = std::strtoul(argv[++i], nullptr, 10);
    } else if (a == "--keep-scratch") {
      keep_scratch = true;
    } else if (a == "--shapes") {
      shapes = true;
    } else {
      files.push_back(a);
    }
  }
  if (files.empty() && !shapes) {
    std::fprintf(stderr,
                 "usage: bench_detect [--per-file N] [--rounds R] [--slowest K] "
                 "[--keep-scratch] FILE.ndjson[.gz]...\n"
                 "       bench_detect --shapes\n");
    return 2;
  }
  std::vector<std::vector<BenchRequest>> loaded;
  for (const auto& f : files) {
    auto r = LoadBenchRequests(f, per_file);
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
      return 1;
    }
    loaded.push_back(std::move(*r));
  }
  std::vector<const BenchRequest*> mix, benign;
  for (size_t i = 0;; ++i) {
    bool any = false;
    for (const auto& v : loaded) {
      if (i < v.size()) {
        mix.push_back(&v[i]);
        if (v[i].label == "benign") benign.push_back(&v[i]);
        any = true;
      }
    }
    if (!any) break;
  }

  auto inspector = detect::Inspector::Create(detect::Profile::Default());
  if (!inspector.ok()) {
    std::fprintf(stderr, "shieldx: %s\n", inspector.status().ToString().c_str());
    return 1;
  }
  // A fresh Scratch for every round: each round is one pass over the requests, so the clean
  // header values the engine remembers (inspector.h) are only those met earlier in the same
  // pass, as in live traffic, not the previous round's. --keep-scratch keeps one for all.
  auto scratch = (*inspector)->NewScratch();
  auto fresh_scratch = [&] {
    if (!keep_scratch) scratch = (*inspector)->NewScratch();
  };
  std::vector<detect::Header> headers;
  auto ours = [&](const BenchRequest& r) {
    return (*inspector)->Inspect(ToDetectRequest(r, &headers), *scratch).action !=
           detect::Action::kAllow;
  };
  auto anchor = ModSecAnchor::Create("/etc/modsecurity/crs/crs-setup.conf",
                                     "/usr/share/modsecurity-crs/rules");
  if (!anchor.ok()) {
    std::fprintf(stderr, "modsecurity: %s\n", anchor.status().ToString().c_str());
    return 1;
  }
  auto theirs = [&](const BenchRequest& r) { return (*anchor)->Inspect(r); };
  if (shapes) return RunShapes(**inspector, **anchor);

  // Warm up both (caches, lazy init), then measure.
  for (size_t i = 0; i < std::min<size_t>(mix.size(), 500); ++i) {
    ours(*mix[i]);
    theirs(*mix[i]);
  }
  std::printf("requests: %zu in the mix (%zu benign), %d rounds, one thread per engine\n",
              mix.size(), benign.size(), rounds);
  std::printf("%-22s %-8s %8s %12s %10s %10s %10s %8s\n", "engine", "mix", "requests", "req/s",
              "p50_us", "p99_us", "p999_us", "flagged");
  Stats ours_all = Run(mix, rounds, ours, fresh_scratch);
  Stats theirs_all = Run(mix, 1, theirs, [] {});
  Stats ours_benign = Run(benign, rounds, ours, fresh_scratch);
  Stats theirs_benign = Run(benign, 1, theirs, [] {});
  Print("shieldx", "all", ours_all, mix.size(), rounds);
  Print("modsecurity+crs(pl1)", "all", theirs_all, mix.size(), 1);
  Print("shieldx", "benign", ours_benign, benign.size(), rounds);
  Print("modsecurity+crs(pl1)", "benign", theirs_benign, benign.size(), 1);
  const double ratio_all = (static_cast<double>(mix.size() * rounds) / ours_all.total_s) /
                           (static_cast<double>(mix.size()) / theirs_all.total_s);
  const double ratio_benign = (static_cast<double>(benign.size() * rounds) / ours_benign.total_s) /
                              (static_cast<double>(benign.size()) / theirs_benign.total_s);
  std::printf("throughput ratio shieldx/modsecurity: all %.1fx, benign %.1fx\n", ratio_all,
              ratio_benign);
  // The p50 / p99 above pool every timing of every round, so a moment the machine is busy
  // lands in them. Taking each request's median over the rounds first gives the percentiles
  // of the requests themselves, with such moments left out.
  if (rounds >= 3) {
    std::vector<double> med = PerRequestMedians(benign.size(), ours_benign, rounds);
    std::printf("shieldx benign, each request's median of %d rounds: p50 %.1f us, p99 %.1f us\n",
                rounds, Percentile(med, 0.50), Percentile(med, 0.99));
  }
  if (slowest > 0) PrintSlowest(benign, ours_benign, rounds, slowest);
  return 0;
}

}  // namespace
}  // namespace shieldx::bench

int main(int argc, char** argv) { return shieldx::bench::Main(argc, argv); }
