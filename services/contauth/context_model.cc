#include "services/contauth/context_model.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace shieldx::contauth {
namespace {

constexpr double kBaseline = 0.1;
constexpr float kHourDecay = 0.99f;  // per learned observation: old habits fade

const KnownItem* Find(const std::vector<KnownItem>& items, const std::string& v) {
  for (const KnownItem& i : items) {
    if (i.value == v) return &i;
  }
  return nullptr;
}

void Touch(std::vector<KnownItem>* items, const std::string& v, absl::Time at, std::size_t cap) {
  if (v.empty()) return;
  for (KnownItem& i : *items) {
    if (i.value == v) {
      ++i.count;
      i.last_seen = std::max(i.last_seen, at);
      return;
    }
  }
  if (items->size() >= cap) {
    auto oldest = std::min_element(
        items->begin(), items->end(),
        [](const KnownItem& a, const KnownItem& b) { return a.last_seen < b.last_seen; });
    items->erase(oldest);
  }
  items->push_back({v, 1, at});
}

int UtcHour(absl::Time t) { return absl::ToCivilHour(t, absl::UTCTimeZone()).hour(); }

void Add(ContextAssessment* a, std::vector<double>* weights, const char* code, double w,
         std::string description) {
  weights->push_back(w);
  a->reasons.push_back({code, Modality::kContext, std::move(description), w});
}

}  // namespace

std::string NetworkOf(const std::string& ip) {
  unsigned char buf[16];
  char text[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET, ip.c_str(), buf) == 1) {
    buf[3] = 0;
    if (inet_ntop(AF_INET, buf, text, sizeof(text)) == nullptr) return "";
    return absl::StrCat(text, "/24");
  }
  if (inet_pton(AF_INET6, ip.c_str(), buf) == 1) {
    std::memset(buf + 6, 0, 10);
    if (inet_ntop(AF_INET6, buf, text, sizeof(text)) == nullptr) return "";
    return absl::StrCat(text, "/48");
  }
  return "";
}

std::string AgentFamily(const std::string& ua) {
  if (ua.empty()) return "";
  std::string browser = "other";
  if (absl::StrContains(ua, "Edg/")) {
    browser = "Edge";
  } else if (absl::StrContains(ua, "OPR/")) {
    browser = "Opera";
  } else if (absl::StrContains(ua, "Firefox/")) {
    browser = "Firefox";
  } else if (absl::StrContains(ua, "Chrome/") || absl::StrContains(ua, "CriOS/")) {
    browser = "Chrome";
  } else if (absl::StrContains(ua, "Safari/")) {
    browser = "Safari";
  } else if (absl::StrContains(ua, "curl/") || absl::StrContains(ua, "python") ||
             absl::StrContains(ua, "Go-http-client")) {
    browser = "script";
  }
  std::string os = "other";
  if (absl::StrContains(ua, "Android")) {
    os = "Android";
  } else if (absl::StrContains(ua, "iPhone") || absl::StrContains(ua, "iPad")) {
    os = "iOS";
  } else if (absl::StrContains(ua, "Windows")) {
    os = "Windows";
  } else if (absl::StrContains(ua, "Mac OS X") || absl::StrContains(ua, "Macintosh")) {
    os = "macOS";
  } else if (absl::StrContains(ua, "CrOS")) {
    os = "ChromeOS";
  } else if (absl::StrContains(ua, "Linux")) {
    os = "Linux";
  }
  return absl::StrCat(browser, "/", os);
}

std::string Fingerprint(const DeviceSignals& d) {
  const std::string s = absl::StrCat(d.platform, "|", d.screen_width, "x", d.screen_height, "|",
                                     absl::StrFormat("%.2f", d.device_pixel_ratio), "|",
                                     d.hardware_concurrency, "|", d.max_touch_points);
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return absl::StrFormat("%016x", h);
}

ContextObservation Observe(const DeviceSignals* device, const AccessContext* context,
                           const GeoLookup* geo, absl::Time now) {
  ContextObservation o;
  o.at = now;
  if (device != nullptr) {
    o.device_id = device->device_id;
    o.fingerprint = Fingerprint(*device);
  }
  if (context != nullptr) {
    if (context->observed_at != absl::InfinitePast() && context->observed_at <= now) {
      o.at = context->observed_at;
    }
    o.network = NetworkOf(context->ip);
    o.agent = AgentFamily(context->user_agent);
    if (geo != nullptr && !context->ip.empty()) {
      if (std::optional<GeoInfo> g = geo->Lookup(context->ip); g.has_value()) {
        o.country = g->country;
        o.has_location = g->has_location;
        o.latitude = g->latitude;
        o.longitude = g->longitude;
      }
    }
  }
  return o;
}

ContextAssessment EvaluateContext(const ContextProfile& p, const ContextObservation& o) {
  ContextAssessment a;
  if (o.empty()) return a;
  a.evaluated = true;
  const double n = static_cast<double>(p.observations);
  a.confidence = n / (n + 3.0);
  if (p.observations == 0) return a;  // nothing to compare with: 0.5 at confidence 0
  std::vector<double> w;
  if (!o.device_id.empty() && Find(p.devices, o.device_id) == nullptr) {
    const bool hw_known = !o.fingerprint.empty() && Find(p.fingerprints, o.fingerprint) != nullptr;
    Add(&a, &w, "NEW_DEVICE", hw_known ? 0.15 : 0.35,
        hw_known ? "device id not seen before (hardware signals match a known device)"
                 : "device not seen before for this user");
  }
  if (!o.network.empty() && Find(p.networks, o.network) == nullptr) {
    Add(&a, &w, "NEW_NETWORK", 0.2, "network not seen before for this user");
  }
  if (!o.country.empty() && !p.countries.empty() && Find(p.countries, o.country) == nullptr) {
    Add(&a, &w, "NEW_COUNTRY", 0.35, absl::StrCat("country ", o.country, " not seen before"));
  }
  if (!o.agent.empty() && !p.agents.empty() && Find(p.agents, o.agent) == nullptr) {
    Add(&a, &w, "NEW_USER_AGENT", 0.15,
        absl::StrCat("client software ", o.agent, " not seen before"));
  }
  float hour_total = 0;
  for (float h : p.hours) hour_total += h;
  if (p.observations >= 20 && hour_total > 0) {
    const int hour = UtcHour(o.at);
    if (p.hours[hour] / hour_total < 0.02f) {
      Add(&a, &w, "UNUSUAL_HOUR", 0.15,
          absl::StrCat("activity at ", hour, ":00 UTC is unusual for this user"));
    }
  }
  if (o.has_location && p.has_fix && o.at > p.fix_at) {
    const double km = DistanceKm(p.fix_latitude, p.fix_longitude, o.latitude, o.longitude);
    const double hours = std::max(absl::ToDoubleHours(o.at - p.fix_at), 1.0 / 60);
    if (km > kImpossibleTravelMinKm && km / hours > kMaxTravelKmh) {
      Add(&a, &w, "IMPOSSIBLE_TRAVEL", 0.95,
          absl::StrFormat("%.0f km from the last location in %.1f h (%.0f km/h)", km, hours,
                          km / hours));
    }
  }
  double keep = 1.0 - kBaseline;
  for (double x : w) keep *= 1.0 - x;
  a.score = 1.0 - keep;
  std::stable_sort(a.reasons.begin(), a.reasons.end(),
                   [](const RiskReason& x, const RiskReason& y) { return x.weight > y.weight; });
  return a;
}

void LearnContext(const ContextObservation& o, ContextProfile* p) {
  if (o.empty()) return;
  Touch(&p->devices, o.device_id, o.at, kMaxKnownDevices);
  Touch(&p->fingerprints, o.fingerprint, o.at, kMaxKnownFingerprints);
  Touch(&p->networks, o.network, o.at, kMaxKnownNetworks);
  Touch(&p->countries, o.country, o.at, kMaxKnownCountries);
  Touch(&p->agents, o.agent, o.at, kMaxKnownAgents);
  for (float& h : p->hours) h *= kHourDecay;
  p->hours[UtcHour(o.at)] += 1.0f;
  if (o.has_location && (!p->has_fix || o.at >= p->fix_at)) {
    p->has_fix = true;
    p->fix_latitude = o.latitude;
    p->fix_longitude = o.longitude;
    p->fix_at = o.at;
  }
  ++p->observations;
}

}  // namespace shieldx::contauth
