// Test helpers: synthetic typists with a stable personal rhythm (per-key hold and per-pair
// latency means) plus multiplicative noise. Deterministic for a given seed.
#ifndef SHIELDX_SERVICES_CONTAUTH_MODEL_TEST_UTIL_H_
#define SHIELDX_SERVICES_CONTAUTH_MODEL_TEST_UTIL_H_

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "services/contauth/model/keystroke_sample.h"

namespace shieldx::contauth::testing {

class SyntheticTypist {
 public:
  SyntheticTypist(const std::string& text, uint32_t seed, double noise = 0.12)
      : text_(text), rng_(seed), noise_(noise) {
    std::uniform_real_distribution<double> hold(60, 140), gap(90, 420);
    for (std::size_t i = 0; i < text.size(); ++i) {
      holds_.push_back(hold(rng_));
      gaps_.push_back(gap(rng_));
    }
  }

  KeystrokeSample Sample(const std::string& tenant, const std::string& user, const std::string& id,
                         SamplePhase phase) {
    std::normal_distribution<double> n(0, noise_);
    KeystrokeSample s{tenant, user, id, phase, {}};
    double down = 0;
    for (std::size_t i = 0; i < text_.size(); ++i) {
      const double hold = holds_[i] * std::exp(n(rng_));
      s.events.push_back({std::string(1, text_[i]), down, down + hold});
      down += gaps_[i] * std::exp(n(rng_));
    }
    return s;
  }

 private:
  std::string text_;
  std::mt19937 rng_;
  double noise_;
  std::vector<double> holds_, gaps_;
};

inline KeystrokeSample MakeSample(const std::string& id, std::vector<KeyEvent> events) {
  return KeystrokeSample{"t1", "u1", id, SamplePhase::kEnroll, std::move(events)};
}

}  // namespace shieldx::contauth::testing

#endif  // SHIELDX_SERVICES_CONTAUTH_MODEL_TEST_UTIL_H_
