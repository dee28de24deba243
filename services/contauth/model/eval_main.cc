// shieldx-contauth-eval: reads keystroke NDJSON on stdin, enrolls and probes in file order
// and prints one {"sample_id","user","score",...} line per probe on stdout, through the
// scoring code the contauth service uses (EvalRunner + KeystrokeModel). Rejected lines are
// reported on stderr ("line N: sample ID: problem") and skipped; the exit status is then 1.
//
// Options (defaults are the service's defaults; they exist for the evaluation script):
//   --background=none                genuine-only scoring (ubm and cohort weights 0)
//   --ubm-weight=W                   weight of the population (UBM) term
//   --disc-weight=W                  weight of the per-user discriminative detector
//   --cohort-weight=W                weight of the nearest-other-user (cohort) term
//   --linear-weight=W                weight of the per-user linear discriminant (logistic)
//   --linear-l2=L                    its L2 penalty
//   --log-timings=0|1                detectors on log-scaled timings
//   --linear-deviations=0|1          also learn weights of |y - user mean|
//   --cohort-k=K                     average the K nearest other users (1..8)
//   --weights=A,B,C,D                detector weights (Manhattan, Mahalanobis, NN, outliers)
//   --min-enroll=N                   enrollment vectors needed before a text is scored
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "services/contauth/model/eval_runner.h"
#include "services/contauth/model/keystroke_model.h"

namespace {

using shieldx::contauth::KeystrokeModelConfig;

bool ParseFlag(const std::string& arg, KeystrokeModelConfig* config) {
  auto eq = arg.find('=');
  if (arg.rfind("--", 0) != 0 || eq == std::string::npos) return false;
  const std::string name = arg.substr(2, eq - 2);
  const std::string value = arg.substr(eq + 1);
  if (name == "background" && value == "none") {
    config->ubm_weight = 0;
    config->cohort_weight = 0;
    config->discriminative_weight = 0;
    config->linear_weight = 0;
    return true;
  }
  if (name == "linear-weight") return absl::SimpleAtod(value, &config->linear_weight);
  if (name == "log-timings" && (value == "0" || value == "1")) {
    config->log_timings = value == "1";
    return true;
  }
  if (name == "linear-deviations" && (value == "0" || value == "1")) {
    config->linear_deviations = value == "1";
    return true;
  }
  if (name == "linear-l2") return absl::SimpleAtod(value, &config->linear_l2);
  if (name == "disc-weight") return absl::SimpleAtod(value, &config->discriminative_weight);
  if (name == "cohort-k") return absl::SimpleAtoi(value, &config->cohort_nearest);
  if (name == "ubm-weight") return absl::SimpleAtod(value, &config->ubm_weight);
  if (name == "cohort-weight") return absl::SimpleAtod(value, &config->cohort_weight);
  if (name == "min-enroll") return absl::SimpleAtoi(value, &config->min_enroll_samples);
  if (name == "weights") {
    std::vector<std::string> parts = absl::StrSplit(value, ',');
    if (parts.size() != config->detector_weights.size()) return false;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      if (!absl::SimpleAtod(parts[i], &config->detector_weights[i])) return false;
    }
    return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  KeystrokeModelConfig config;
  for (int i = 1; i < argc; ++i) {
    if (!ParseFlag(argv[i], &config)) {
      std::fprintf(stderr,
                   "shieldx-contauth-eval: bad option %s (see the header of eval_main.cc)\n",
                   argv[i]);
      return 2;
    }
  }
  if (auto s = config.Validate(); !s.ok()) {
    std::fprintf(stderr, "shieldx-contauth-eval: %s\n", std::string(s.message()).c_str());
    return 2;
  }
  shieldx::contauth::KeystrokeModel model(config);
  shieldx::contauth::EvalRunner runner(&model);
  std::ios::sync_with_stdio(false);
  std::string line;
  std::size_t line_number = 0, rejected = 0;
  while (std::getline(std::cin, line)) {
    ++line_number;
    auto out = runner.ProcessLine(line, line_number);
    if (!out.ok()) {
      ++rejected;
      std::cerr << "shieldx-contauth-eval: " << out.status().message() << "\n";
      continue;
    }
    if (out->has_value()) std::cout << **out << "\n";
  }
  std::cout.flush();
  if (rejected > 0) {
    std::cerr << "shieldx-contauth-eval: " << rejected << " of " << line_number
              << " lines rejected\n";
    return 1;
  }
  return 0;
}
