// Context model of one user: the devices, networks, countries and client software they use,
// the hours they are active and where they last were. Evaluate() turns one observation into
// a context score with reasons; Learn() folds an accepted observation in.
//
// Signals (each a probability-like weight, combined noisy-OR over a 0.1 baseline):
//   NEW_DEVICE 0.35 (0.15 when the hardware fingerprint is known), NEW_NETWORK 0.2 (/24 IPv4,
//   /48 IPv6), NEW_COUNTRY 0.35, NEW_USER_AGENT 0.15 (browser/OS family), UNUSUAL_HOUR 0.15
//   (hour of day in UTC seen in < 2 % of >= 20 past observations), IMPOSSIBLE_TRAVEL 0.95
//   (> kImpossibleTravelMinKm from the last located observation at > kMaxTravelKmh).
// Confidence grows with history: n / (n + 3) for n learned observations; with none the score
// is 0.5 at confidence 0 (no information).
//
// Every list is bounded (least recently seen evicted), so a profile stays small.
//
// Thread-safety: plain values and pure functions.
#ifndef SHIELDX_SERVICES_CONTAUTH_CONTEXT_MODEL_H_
#define SHIELDX_SERVICES_CONTAUTH_CONTEXT_MODEL_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "services/contauth/geoip.h"
#include "services/contauth/telemetry.h"
#include "services/contauth/types.h"

namespace shieldx::contauth {

inline constexpr std::size_t kMaxKnownDevices = 32;
inline constexpr std::size_t kMaxKnownNetworks = 64;
inline constexpr std::size_t kMaxKnownCountries = 32;
inline constexpr std::size_t kMaxKnownAgents = 16;
inline constexpr std::size_t kMaxKnownFingerprints = 32;
inline constexpr double kImpossibleTravelMinKm = 500;
inline constexpr double kMaxTravelKmh = 1000;

struct KnownItem {
  std::string value;
  uint32_t count = 0;
  absl::Time last_seen = absl::UnixEpoch();
};

struct ContextProfile {
  std::vector<KnownItem> devices;       // collector device ids
  std::vector<KnownItem> fingerprints;  // platform|screen|dpr|cores|touch hashes (hex)
  std::vector<KnownItem> networks;      // "203.0.113.0/24", "2001:db8:1::/48"
  std::vector<KnownItem> countries;     // ISO alpha-2
  std::vector<KnownItem> agents;        // "Chrome/Windows"
  std::array<float, 24> hours{};        // UTC hour-of-day counts (decayed)
  uint64_t observations = 0;
  bool has_fix = false;  // last located observation
  double fix_latitude = 0;
  double fix_longitude = 0;
  absl::Time fix_at = absl::UnixEpoch();
};

// What one batch / request says about context (derived from device signals, the access
// context and geo). Fields are empty when unknown.
struct ContextObservation {
  absl::Time at = absl::UnixEpoch();
  std::string device_id;
  std::string fingerprint;
  std::string network;
  std::string country;
  std::string agent;
  bool has_location = false;
  double latitude = 0;
  double longitude = 0;
  bool empty() const {
    return device_id.empty() && network.empty() && country.empty() && agent.empty() &&
           !has_location;
  }
};

struct ContextAssessment {
  double score = 0.5;
  double confidence = 0;
  std::vector<RiskReason> reasons;
  bool evaluated = false;  // false: nothing to evaluate
};

// "203.0.113.0/24" or "2001:db8:1::/48"; empty for an invalid address.
std::string NetworkOf(const std::string& ip);
// "Chrome/Windows", "Firefox/Linux", "Safari/iOS", ...; "other/other" when unrecognised,
// empty for an empty user agent.
std::string AgentFamily(const std::string& user_agent);
// Hex FNV-1a of the hardware-ish device signals.
std::string Fingerprint(const DeviceSignals& device);

// Builds the observation. `geo` may be null (no database configured).
ContextObservation Observe(const DeviceSignals* device, const AccessContext* context,
                           const GeoLookup* geo, absl::Time now);

ContextAssessment EvaluateContext(const ContextProfile& profile, const ContextObservation& obs);
void LearnContext(const ContextObservation& obs, ContextProfile* profile);

}  // namespace shieldx::contauth

#endif  // SHIELDX_SERVICES_CONTAUTH_CONTEXT_MODEL_H_
