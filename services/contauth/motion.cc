#include "services/contauth/motion.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/strings/string_view.h"

namespace shieldx::contauth {
namespace {

enum PointerFeature : std::size_t {
  kSpeedMean = 0,
  kSpeedPeak = 1,
  kAccelMean = 2,
  kStraightness = 3,
  kTurnMean = 4,
  kClickHold = 5,
  kClickPause = 6,
};
enum TouchFeature : std::size_t {
  kSwipeSpeed = 0,
  kSwipeLength = 1,
  kSwipeDuration = 2,
  kSwipeStraightness = 3,
  kPressure = 4,
  kRadius = 5,
  kTapHold = 6,
};

// Spread floors per feature (same index for both kinds): a user whose feature barely varies
// must not turn every tiny difference into a large z.
constexpr std::array<float, kMotionFeatures> kMinStd = {0.05f, 0.05f, 0.05f, 0.02f,
                                                        0.02f, 0.05f, 0.05f};

void Push(MotionObservations* obs, std::size_t feature, double value) {
  if (!std::isfinite(value)) return;
  std::vector<float>& v = obs->values[feature];
  if (v.size() < kMaxObservationsPerFeature) v.push_back(static_cast<float>(value));
}

double Log1(double v) { return std::log(std::max(v, 0.0) + 1.0); }

struct Point {
  double t, x, y;
};

// Stroke features over consecutive move points (already cut).
void EmitStroke(const std::vector<Point>& pts, MotionObservations* obs) {
  if (pts.size() < kMinStrokeMoves) return;
  double length = 0, peak = 0, accel_sum = 0, turn_sum = 0;
  int accel_n = 0, turn_n = 0;
  double prev_speed = -1, prev_angle = 0;
  bool have_angle = false;
  for (std::size_t i = 1; i < pts.size(); ++i) {
    const double dx = pts[i].x - pts[i - 1].x, dy = pts[i].y - pts[i - 1].y;
    const double dt = pts[i].t - pts[i - 1].t;
    const double d = std::hypot(dx, dy);
    length += d;
    if (d > 0) {
      const double angle = std::atan2(dy, dx);
      if (have_angle) {
        double turn = std::fabs(angle - prev_angle);
        if (turn > M_PI) turn = 2 * M_PI - turn;
        turn_sum += turn;
        ++turn_n;
      }
      prev_angle = angle;
      have_angle = true;
    }
    if (dt <= 0) continue;
    const double speed = d / dt;  // px per ms
    peak = std::max(peak, speed);
    if (prev_speed >= 0) {
      accel_sum += std::fabs(speed - prev_speed) / dt;
      ++accel_n;
    }
    prev_speed = speed;
  }
  const double duration = pts.back().t - pts.front().t;
  if (length < kMinStrokePx || duration <= 0) return;
  const double chord = std::hypot(pts.back().x - pts.front().x, pts.back().y - pts.front().y);
  Push(obs, kSpeedMean, std::log(length / duration + 1e-3));
  Push(obs, kSpeedPeak, std::log(peak + 1e-3));
  if (accel_n > 0) Push(obs, kAccelMean, std::log(accel_sum / accel_n + 1e-4));
  Push(obs, kStraightness, chord / length);
  if (turn_n > 0) Push(obs, kTurnMean, turn_sum / turn_n);
}

}  // namespace

const std::array<absl::string_view, kMotionFeatures>& MotionFeatureNames(MotionKind kind) {
  static const std::array<absl::string_view, kMotionFeatures> kPointer = {
      "log_speed_mean", "log_speed_peak", "log_accel_mean", "straightness",
      "turn_mean_rad",  "log_click_hold", "log_click_pause"};
  static const std::array<absl::string_view, kMotionFeatures> kTouch = {
      "log_swipe_speed", "log_swipe_length", "log_swipe_duration", "swipe_straightness",
      "pressure_mean",   "radius_mean",      "log_tap_hold"};
  return kind == MotionKind::kPointer ? kPointer : kTouch;
}

std::size_t MotionObservations::total() const {
  std::size_t n = 0;
  for (const auto& v : values) n += v.size();
  return n;
}

MotionObservations ExtractPointer(const std::vector<PointerEvent>& events) {
  MotionObservations obs;
  obs.kind = MotionKind::kPointer;
  std::vector<Point> stroke;
  double last_move_t = -1;
  std::map<uint32_t, double> down_at;  // button -> press time
  for (const PointerEvent& e : events) {
    if (e.kind == PointerKind::kMove) {
      if (!stroke.empty() && e.t_ms - stroke.back().t > kStrokeGapMs) {
        EmitStroke(stroke, &obs);
        stroke.clear();
      }
      stroke.push_back({e.t_ms, e.x, e.y});
      last_move_t = e.t_ms;
      continue;
    }
    EmitStroke(stroke, &obs);
    stroke.clear();
    if (e.kind == PointerKind::kDown) {
      if (down_at.size() < 32) down_at[e.button] = e.t_ms;
      if (last_move_t >= 0 && e.t_ms - last_move_t <= 2000) {
        Push(&obs, kClickPause, Log1(e.t_ms - last_move_t));
      }
    } else if (e.kind == PointerKind::kUp) {
      auto it = down_at.find(e.button);
      if (it != down_at.end()) {
        const double hold = e.t_ms - it->second;
        if (hold <= 5000) Push(&obs, kClickHold, Log1(hold));
        down_at.erase(it);
      }
    }
  }
  EmitStroke(stroke, &obs);
  return obs;
}

MotionObservations ExtractTouch(const std::vector<TouchEvent>& events) {
  MotionObservations obs;
  obs.kind = MotionKind::kTouch;
  struct Trace {
    std::vector<Point> pts;
    double pressure_sum = 0, radius_sum = 0;
  };
  std::map<uint32_t, Trace> open;
  auto finish = [&obs](Trace& t) {
    if (t.pts.empty()) return;
    const double n = static_cast<double>(t.pts.size());
    double length = 0;
    for (std::size_t i = 1; i < t.pts.size(); ++i) {
      length += std::hypot(t.pts[i].x - t.pts[i - 1].x, t.pts[i].y - t.pts[i - 1].y);
    }
    const double duration = t.pts.back().t - t.pts.front().t;
    if (t.pressure_sum > 0) Push(&obs, kPressure, t.pressure_sum / n);
    if (t.radius_sum > 0) Push(&obs, kRadius, t.radius_sum / n);
    if (length >= kMinSwipePx && duration > 0) {
      const double chord =
          std::hypot(t.pts.back().x - t.pts.front().x, t.pts.back().y - t.pts.front().y);
      Push(&obs, kSwipeSpeed, std::log(length / duration + 1e-3));
      Push(&obs, kSwipeLength, std::log(length));
      Push(&obs, kSwipeDuration, Log1(duration));
      Push(&obs, kSwipeStraightness, chord / length);
    } else if (duration <= 2000) {
      Push(&obs, kTapHold, Log1(duration));
    }
  };
  for (const TouchEvent& e : events) {
    if (e.kind == TouchKind::kStart) {
      auto it = open.find(e.touch_id);
      if (it != open.end()) finish(it->second);  // a restarted id ends the previous trace
      if (open.size() >= 16 && it == open.end()) continue;
      Trace& t = open[e.touch_id];
      t = Trace{};
      t.pts.push_back({e.t_ms, e.x, e.y});
      t.pressure_sum = e.pressure;
      t.radius_sum = e.radius;
      continue;
    }
    auto it = open.find(e.touch_id);
    if (it == open.end()) continue;  // a move or end without a start (collector began mid-touch)
    Trace& t = it->second;
    if (t.pts.size() < 4096) {
      t.pts.push_back({e.t_ms, e.x, e.y});
      t.pressure_sum += e.pressure;
      t.radius_sum += e.radius;
    }
    if (e.kind == TouchKind::kEnd) {
      finish(t);
      open.erase(it);
    }
  }
  return obs;
}

uint32_t MotionProfile::MinCount() const {
  uint32_t m = 0;
  bool any = false;
  for (const MotionStat& s : stats) {
    if (s.count == 0) continue;
    m = any ? std::min(m, s.count) : s.count;
    any = true;
  }
  return m;
}

MotionScore ScoreMotion(const MotionProfile& profile, const MotionObservations& obs) {
  MotionScore out;
  double z_sum = 0;
  uint32_t n = 0;
  uint32_t backing = 0;
  int features = 0;
  for (std::size_t j = 0; j < kMotionFeatures; ++j) {
    const MotionStat& s = profile.stats[j];
    if (s.count < kMinFeatureObservations || obs.values[j].empty()) continue;
    const double var = s.m2 / std::max<uint32_t>(1, s.count - 1);
    const double sd = std::max<double>(std::sqrt(std::max(var, 0.0)), kMinStd[j]);
    for (float v : obs.values[j]) {
      z_sum += std::min(4.0, std::fabs(v - s.mean) / sd);
      ++n;
    }
    backing += s.count;
    ++features;
  }
  if (n == 0) return out;
  out.observations = n;
  out.mean_abs_z = z_sum / n;
  // Genuine: E|z| ~ 0.8 (normal); the centre sits above it, the slope makes 2.0 ~ 0.9.
  constexpr double kCenter = 1.3, kSlope = 3.5;
  out.score = 1.0 / (1.0 + std::exp(-kSlope * (out.mean_abs_z - kCenter)));
  const double data = static_cast<double>(n) / (n + 10.0);
  const double model = static_cast<double>(backing / features) / (backing / features + 50.0);
  out.confidence = data * model;
  return out;
}

void LearnMotion(const MotionObservations& obs, MotionProfile* profile) {
  for (std::size_t j = 0; j < kMotionFeatures; ++j) {
    MotionStat& s = profile->stats[j];
    for (float v : obs.values[j]) {
      // Saturated: the count stops growing, so the mean is an EWMA with weight 1/kMotionMemory
      // and the squared deviations decay at the same rate.
      const bool saturated = s.count >= kMotionMemory;
      if (!saturated) ++s.count;
      const double delta = v - s.mean;
      s.mean = static_cast<float>(s.mean + delta / s.count);
      const double decay = saturated ? (kMotionMemory - 1.0) / kMotionMemory : 1.0;
      s.m2 = static_cast<float>(std::max(0.0, s.m2 * decay + delta * (v - s.mean)));
    }
  }
  if (obs.total() > 0) ++profile->batches;
}

bool MotionEnrolling(const MotionProfile& profile, uint32_t min_batches) {
  return profile.batches < min_batches;
}

}  // namespace shieldx::contauth
