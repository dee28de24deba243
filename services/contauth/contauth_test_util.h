// Test-only helpers: synthetic typists (a per-person timing style for one fixed text plus
// Gaussian noise), pointer strokes and batches, for unit and integration tests.
#ifndef SHIELDX_SERVICES_CONTAUTH_CONTAUTH_TEST_UTIL_H_
#define SHIELDX_SERVICES_CONTAUTH_CONTAUTH_TEST_UTIL_H_

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/contauth/telemetry.h"

namespace shieldx::contauth::testing {

inline constexpr char kPassword[] = "correcthorse";

// One person's rhythm for kPassword: hold and flight means per key, ~8 % noise per sample.
class Typist {
 public:
  explicit Typist(uint32_t seed) : rng_(seed) {
    std::uniform_real_distribution<double> hold(60, 150), flight(80, 260);
    for (std::size_t i = 0; i < std::string(kPassword).size(); ++i) {
      hold_.push_back(hold(rng_));
      flight_.push_back(flight(rng_));
    }
  }

  KeystrokeInput Sample(const std::string& id, PhaseRequest phase = PhaseRequest::kAuto) {
    KeystrokeInput in;
    in.phase = phase;
    in.text_id = "login.password";
    in.sample.sample_id = id;
    std::normal_distribution<double> noise(1.0, 0.08);
    double t = 0;
    const std::string text = kPassword;
    for (std::size_t i = 0; i < text.size(); ++i) {
      const double h = std::max(5.0, hold_[i] * noise(rng_));
      in.sample.events.push_back({std::string(1, text[i]), t, t + h});
      t += std::max(5.0, flight_[i] * noise(rng_));
    }
    return in;
  }

 private:
  std::mt19937 rng_;
  std::vector<double> hold_, flight_;
};

// A pointer batch of `strokes` strokes with the given speed (px/ms) and path wobble.
inline std::vector<PointerEvent> PointerBatch(uint32_t seed, int strokes, double speed,
                                              double wobble) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> n(0, 1);
  std::vector<PointerEvent> out;
  double t = 0;
  for (int s = 0; s < strokes; ++s) {
    double x = 100 + 10 * s, y = 100;
    for (int i = 0; i < 20; ++i) {
      out.push_back({PointerKind::kMove, t, x, y, 0, 0});
      t += 16;
      x += speed * 16 * (1 + 0.05 * n(rng));
      y += wobble * n(rng);
    }
    out.push_back({PointerKind::kDown, t + 120, x, y, 0, 0});
    out.push_back({PointerKind::kUp, t + 120 + 90 * (1 + 0.1 * n(rng)), x, y, 0, 0});
    t += 800;
  }
  return out;
}

}  // namespace shieldx::contauth::testing

#endif  // SHIELDX_SERVICES_CONTAUTH_CONTAUTH_TEST_UTIL_H_
