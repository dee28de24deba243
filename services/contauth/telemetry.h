// Telemetry: one batch of behavioural events for one session (IngestTelemetry), as domain
// values, with named limits and validation. A batch is untrusted input; nothing downstream
// (feature extraction, models) sees a batch that has not passed ValidateBatch().
//
// Raw events live only as long as the request: the domain turns them into features
// (keystroke vectors, motion statistics, context observations) and drops them.
//
// Thread-safety: plain value types; ValidateBatch is a pure function.
#ifndef SHIELDX_SERVICES_CONTAUTH_TELEMETRY_H_
#define SHIELDX_SERVICES_CONTAUTH_TELEMETRY_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/contauth/model/keystroke_sample.h"

namespace shieldx::contauth {

// Named limits per batch (contauth.proto: 64 keystroke samples, 10000 pointer and touch
// events). Oversized batches are rejected, never truncated.
inline constexpr std::size_t kMaxKeystrokeSamplesPerBatch = 64;
inline constexpr std::size_t kMaxPointerEventsPerBatch = 10000;
inline constexpr std::size_t kMaxTouchEventsPerBatch = 10000;
inline constexpr std::size_t kMaxAccessEventsPerBatch = 256;
inline constexpr std::size_t kMaxActionBytes = 128;
inline constexpr std::size_t kMaxTextIdBytes = 128;
inline constexpr std::size_t kMaxUserAgentBytes = 1024;
inline constexpr std::size_t kMaxAcceptLanguageBytes = 256;
inline constexpr std::size_t kMaxDeviceFieldBytes = 128;
inline constexpr std::size_t kMaxLanguages = 16;
// A batch's pointer / touch timeline may span at most one hour; coordinates at most this far
// from the origin (CSS pixels; the largest screens are ~8k wide).
inline constexpr double kMaxMotionSpanMs = 60.0 * 60 * 1000;
inline constexpr double kMaxCoordinatePx = 100000;
inline constexpr uint32_t kMaxScreenPx = 32768;

enum class PhaseRequest { kAuto = 0, kEnroll = 1, kProbe = 2 };
enum class TextKind { kUnspecified = 0, kFixed = 1, kFree = 2 };

struct KeystrokeInput {
  KeystrokeSample sample;  // tenant/user filled from the batch
  PhaseRequest phase = PhaseRequest::kAuto;
  TextKind kind = TextKind::kUnspecified;
  std::string text_id;  // the collector's field id ("login.password"); never the text
  // FIXED when text_id is set and kind is unspecified; FREE otherwise.
  TextKind EffectiveKind() const;
};

enum class PointerKind { kUnspecified = 0, kMove = 1, kDown = 2, kUp = 3, kWheel = 4 };
struct PointerEvent {
  PointerKind kind = PointerKind::kUnspecified;
  double t_ms = 0;
  double x = 0;
  double y = 0;
  uint32_t button = 0;
  double delta = 0;
};

enum class TouchKind { kUnspecified = 0, kStart = 1, kMove = 2, kEnd = 3 };
struct TouchEvent {
  TouchKind kind = TouchKind::kUnspecified;
  double t_ms = 0;
  uint32_t touch_id = 0;
  double x = 0;
  double y = 0;
  double pressure = 0;
  double radius = 0;
};

struct DeviceSignals {
  std::string device_id;
  std::string platform;
  uint32_t screen_width = 0;
  uint32_t screen_height = 0;
  double device_pixel_ratio = 0;
  std::string timezone;
  std::vector<std::string> languages;
  uint32_t hardware_concurrency = 0;
  uint32_t max_touch_points = 0;
};

struct AccessContext {
  std::string ip;
  std::string user_agent;
  std::string accept_language;
  absl::Time observed_at = absl::InfinitePast();  // InfinitePast: not given (use now)
};

enum class AccessKind {
  kUnspecified = 0,
  kLogin = 1,
  kPageView = 2,
  kSensitiveAction = 3,
  kLogout = 4
};
struct AccessEvent {
  AccessKind kind = AccessKind::kUnspecified;
  absl::Time occurred_at = absl::InfinitePast();
  std::string action;
};

struct TelemetryBatch {
  std::string tenant_id;
  std::string session_id;
  std::string user_id;
  std::vector<KeystrokeInput> keystrokes;
  std::vector<PointerEvent> pointer;
  std::vector<TouchEvent> touch;
  bool has_device = false;
  DeviceSignals device;
  bool has_context = false;
  AccessContext context;
  std::vector<AccessEvent> access_events;
  uint64_t batch_sequence = 0;  // 0: no sequence (always applied)

  std::size_t EventCount() const {
    return keystrokes.size() + pointer.size() + touch.size() + access_events.size() +
           (has_device ? 1 : 0) + (has_context ? 1 : 0);
  }
};

// OK, or InvalidArgument naming the field, the index and the numbers, e.g.
//   "keystroke_samples[3] (sample s-17): event 4 (key \"e\"): up_ms 80 < down_ms 95"
//   "pointer_events: 10001 events (limit 10000)"
//   "pointer_events[7]: t_ms 12.5 < previous 40 (events must be in time order)"
//   "context.ip: \"300.1.1.1\" is not an IPv4 or IPv6 address"
// An empty batch (no event of any kind) is valid (the session is re-scored).
absl::Status ValidateBatch(const TelemetryBatch& batch);

// Validates probe samples of a Score request (same rules as batch keystrokes; phase must not
// be ENROLL). `field` names them in errors ("probe_samples").
absl::Status ValidateProbeSamples(const std::vector<KeystrokeInput>& samples);

// Validates an access context alone (Score's request context).
absl::Status ValidateContext(const AccessContext& context, absl::string_view field);

}  // namespace shieldx::contauth

#endif  // SHIELDX_SERVICES_CONTAUTH_TELEMETRY_H_
