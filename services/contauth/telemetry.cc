#include "services/contauth/telemetry.h"

#include <arpa/inet.h>

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "services/contauth/types.h"

namespace shieldx::contauth {
namespace {

absl::Status Bad(absl::string_view where, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", what));
}

absl::Status CheckBytes(absl::string_view field, const std::string& value, std::size_t limit) {
  if (value.size() > limit) {
    return Bad(field, absl::StrCat(value.size(), " bytes (limit ", limit, ")"));
  }
  return absl::OkStatus();
}

bool IsIp(const std::string& ip) {
  unsigned char buf[16];
  return inet_pton(AF_INET, ip.c_str(), buf) == 1 || inet_pton(AF_INET6, ip.c_str(), buf) == 1;
}

absl::Status CheckKeystroke(absl::string_view field, std::size_t i, const KeystrokeInput& k,
                            bool probe_only) {
  const std::string where = absl::StrCat(field, "[", i, "]");
  if (probe_only && k.phase == PhaseRequest::kEnroll) {
    return Bad(where, "phase ENROLL not allowed here (probe samples are never enrolled)");
  }
  if (k.text_id.size() > kMaxTextIdBytes) {
    return Bad(absl::StrCat(where, ".text_id"),
               absl::StrCat(k.text_id.size(), " bytes (limit ", kMaxTextIdBytes, ")"));
  }
  if (k.kind == TextKind::kFixed && k.text_id.empty()) {
    return Bad(absl::StrCat(where, ".text_id"), "required for TEXT_KIND_FIXED");
  }
  if (absl::Status s = ValidateSample(k.sample); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(where, " (", s.message(), ")"));
  }
  return absl::OkStatus();
}

absl::Status CheckTime(absl::string_view where, double t, double* previous) {
  if (!std::isfinite(t) || t < 0)
    return Bad(where, absl::StrCat("t_ms ", t, " not a finite time >= 0"));
  if (t < *previous) {
    return Bad(where, absl::StrCat("t_ms ", t, " < previous ", *previous,
                                   " (events must be in time order)"));
  }
  if (t > kMaxMotionSpanMs) {
    return Bad(where, absl::StrCat("t_ms ", t, " beyond the batch span limit ", kMaxMotionSpanMs));
  }
  *previous = t;
  return absl::OkStatus();
}

absl::Status CheckXY(absl::string_view where, double x, double y) {
  if (!std::isfinite(x) || !std::isfinite(y) || std::fabs(x) > kMaxCoordinatePx ||
      std::fabs(y) > kMaxCoordinatePx) {
    return Bad(where, absl::StrCat("position (", x, ", ", y, ") not finite or beyond +-",
                                   kMaxCoordinatePx, " px"));
  }
  return absl::OkStatus();
}

absl::Status CheckPointer(const std::vector<PointerEvent>& events) {
  if (events.size() > kMaxPointerEventsPerBatch) {
    return Bad("pointer_events",
               absl::StrCat(events.size(), " events (limit ", kMaxPointerEventsPerBatch, ")"));
  }
  double previous = 0;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const PointerEvent& e = events[i];
    const std::string where = absl::StrCat("pointer_events[", i, "]");
    if (e.kind == PointerKind::kUnspecified) return Bad(where, "kind is unspecified");
    if (absl::Status s = CheckTime(where, e.t_ms, &previous); !s.ok()) return s;
    if (absl::Status s = CheckXY(where, e.x, e.y); !s.ok()) return s;
    if (!std::isfinite(e.delta)) return Bad(where, "delta not finite");
    if (e.button > 31) return Bad(where, absl::StrCat("button ", e.button, " (limit 31)"));
  }
  return absl::OkStatus();
}

absl::Status CheckTouch(const std::vector<TouchEvent>& events) {
  if (events.size() > kMaxTouchEventsPerBatch) {
    return Bad("touch_events",
               absl::StrCat(events.size(), " events (limit ", kMaxTouchEventsPerBatch, ")"));
  }
  double previous = 0;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const TouchEvent& e = events[i];
    const std::string where = absl::StrCat("touch_events[", i, "]");
    if (e.kind == TouchKind::kUnspecified) return Bad(where, "kind is unspecified");
    if (absl::Status s = CheckTime(where, e.t_ms, &previous); !s.ok()) return s;
    if (absl::Status s = CheckXY(where, e.x, e.y); !s.ok()) return s;
    if (!std::isfinite(e.pressure) || e.pressure < 0 || e.pressure > 1) {
      return Bad(where, absl::StrCat("pressure ", e.pressure, " outside [0, 1]"));
    }
    if (!std::isfinite(e.radius) || e.radius < 0 || e.radius > kMaxCoordinatePx) {
      return Bad(where, absl::StrCat("radius ", e.radius, " outside [0, ", kMaxCoordinatePx, "]"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckDevice(const DeviceSignals& d) {
  if (d.device_id.empty()) return Bad("device.device_id", "required when device is sent");
  if (absl::Status s = CheckBytes("device.device_id", d.device_id, kMaxDeviceFieldBytes); !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckBytes("device.platform", d.platform, kMaxDeviceFieldBytes); !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckBytes("device.timezone", d.timezone, kMaxDeviceFieldBytes); !s.ok()) {
    return s;
  }
  if (d.screen_width > kMaxScreenPx || d.screen_height > kMaxScreenPx) {
    return Bad("device", absl::StrCat("screen ", d.screen_width, "x", d.screen_height, " beyond ",
                                      kMaxScreenPx, " px"));
  }
  if (!std::isfinite(d.device_pixel_ratio) || d.device_pixel_ratio < 0 ||
      d.device_pixel_ratio > 16) {
    return Bad("device.device_pixel_ratio", absl::StrCat(d.device_pixel_ratio, " outside [0, 16]"));
  }
  if (d.languages.size() > kMaxLanguages) {
    return Bad("device.languages",
               absl::StrCat(d.languages.size(), " entries (limit ", kMaxLanguages, ")"));
  }
  for (std::size_t i = 0; i < d.languages.size(); ++i) {
    if (absl::Status s = CheckBytes(absl::StrCat("device.languages[", i, "]"), d.languages[i], 35);
        !s.ok()) {
      return s;
    }
  }
  if (d.hardware_concurrency > 4096 || d.max_touch_points > 256) {
    return Bad("device",
               absl::StrCat("hardware_concurrency ", d.hardware_concurrency, " / max_touch_points ",
                            d.max_touch_points, " beyond 4096 / 256"));
  }
  return absl::OkStatus();
}

}  // namespace

TextKind KeystrokeInput::EffectiveKind() const {
  if (kind != TextKind::kUnspecified) return kind;
  return text_id.empty() ? TextKind::kFree : TextKind::kFixed;
}

absl::Status ValidateContext(const AccessContext& c, absl::string_view field) {
  if (!c.ip.empty() && !IsIp(c.ip)) {
    return Bad(absl::StrCat(field, ".ip"), "not an IPv4 or IPv6 address");
  }
  if (absl::Status s =
          CheckBytes(absl::StrCat(field, ".user_agent"), c.user_agent, kMaxUserAgentBytes);
      !s.ok()) {
    return s;
  }
  return CheckBytes(absl::StrCat(field, ".accept_language"), c.accept_language,
                    kMaxAcceptLanguageBytes);
}

absl::Status ValidateProbeSamples(const std::vector<KeystrokeInput>& samples) {
  if (samples.size() > kMaxKeystrokeSamplesPerBatch) {
    return Bad("probe_samples",
               absl::StrCat(samples.size(), " samples (limit ", kMaxKeystrokeSamplesPerBatch, ")"));
  }
  for (std::size_t i = 0; i < samples.size(); ++i) {
    if (absl::Status s = CheckKeystroke("probe_samples", i, samples[i], true); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status ValidateBatch(const TelemetryBatch& b) {
  if (absl::Status s = ValidateId("tenant_id", b.tenant_id); !s.ok()) return s;
  if (absl::Status s = ValidateId("session_id", b.session_id); !s.ok()) return s;
  if (absl::Status s = ValidateId("user_id", b.user_id); !s.ok()) return s;
  if (b.keystrokes.size() > kMaxKeystrokeSamplesPerBatch) {
    return Bad("keystroke_samples", absl::StrCat(b.keystrokes.size(), " samples (limit ",
                                                 kMaxKeystrokeSamplesPerBatch, ")"));
  }
  for (std::size_t i = 0; i < b.keystrokes.size(); ++i) {
    if (absl::Status s = CheckKeystroke("keystroke_samples", i, b.keystrokes[i], false); !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = CheckPointer(b.pointer); !s.ok()) return s;
  if (absl::Status s = CheckTouch(b.touch); !s.ok()) return s;
  if (b.has_device) {
    if (absl::Status s = CheckDevice(b.device); !s.ok()) return s;
  }
  if (b.has_context) {
    if (absl::Status s = ValidateContext(b.context, "context"); !s.ok()) return s;
  }
  if (b.access_events.size() > kMaxAccessEventsPerBatch) {
    return Bad("access_events", absl::StrCat(b.access_events.size(), " events (limit ",
                                             kMaxAccessEventsPerBatch, ")"));
  }
  for (std::size_t i = 0; i < b.access_events.size(); ++i) {
    const AccessEvent& e = b.access_events[i];
    const std::string where = absl::StrCat("access_events[", i, "]");
    if (e.kind == AccessKind::kUnspecified) return Bad(where, "kind is unspecified");
    if (absl::Status s = CheckBytes(absl::StrCat(where, ".action"), e.action, kMaxActionBytes);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace shieldx::contauth
