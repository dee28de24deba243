#include "services/contauth/types.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace shieldx::contauth {

absl::string_view ModalityName(Modality m) {
  switch (m) {
    case Modality::kKeystrokeFixed:
      return "keystroke_fixed";
    case Modality::kKeystrokeFree:
      return "keystroke_free";
    case Modality::kPointer:
      return "pointer";
    case Modality::kTouch:
      return "touch";
    case Modality::kContext:
      return "context";
    case Modality::kUnspecified:
      break;
  }
  return "unspecified";
}

absl::string_view ActionName(Action a) {
  switch (a) {
    case Action::kAllow:
      return "allow";
    case Action::kMonitor:
      return "monitor";
    case Action::kChallenge:
      return "challenge";
    case Action::kDeny:
      return "deny";
    case Action::kUnspecified:
      break;
  }
  return "unspecified";
}

absl::string_view ChallengeOutcomeName(ChallengeOutcome o) {
  switch (o) {
    case ChallengeOutcome::kPassed:
      return "passed";
    case ChallengeOutcome::kFailed:
      return "failed";
    case ChallengeOutcome::kAbandoned:
      return "abandoned";
    case ChallengeOutcome::kExpired:
      return "expired";
    case ChallengeOutcome::kUnspecified:
      break;
  }
  return "unspecified";
}

absl::Status Policy::Validate() const {
  auto in01 = [](double v) { return std::isfinite(v) && v >= 0 && v <= 1; };
  if (!in01(monitor_at) || !in01(challenge_at) || !in01(deny_at)) {
    return absl::InvalidArgumentError(absl::StrCat("policy: bands must be in [0, 1] (monitor_at ",
                                                   monitor_at, ", challenge_at ", challenge_at,
                                                   ", deny_at ", deny_at, ")"));
  }
  if (!(monitor_at <= challenge_at && challenge_at <= deny_at)) {
    return absl::InvalidArgumentError(
        absl::StrCat("policy: bands must satisfy monitor_at <= challenge_at <= deny_at (got ",
                     monitor_at, ", ", challenge_at, ", ", deny_at, ")"));
  }
  if (decision_ttl_ms < kMinDecisionTtlMs || decision_ttl_ms > kMaxDecisionTtlMs) {
    return absl::InvalidArgumentError(absl::StrCat("policy: decision_ttl_ms ", decision_ttl_ms,
                                                   " outside [", kMinDecisionTtlMs, ", ",
                                                   kMaxDecisionTtlMs, "]"));
  }
  if (decision_retention_days < 1 || decision_retention_days > kMaxRetentionDays) {
    return absl::InvalidArgumentError(absl::StrCat("policy: decision_retention_days ",
                                                   decision_retention_days, " outside [1, ",
                                                   kMaxRetentionDays, "]"));
  }
  if (min_enroll_samples < kMinEnrollSamplesFloor ||
      min_enroll_samples > kMaxEnrollSamplesCeiling) {
    return absl::InvalidArgumentError(
        absl::StrCat("policy: min_enroll_samples ", min_enroll_samples, " outside [",
                     kMinEnrollSamplesFloor, ", ", kMaxEnrollSamplesCeiling, "]"));
  }
  return absl::OkStatus();
}

Action Policy::ActionFor(double risk) const {
  if (risk >= deny_at) return Action::kDeny;
  if (risk >= challenge_at) return Action::kChallenge;
  if (risk >= monitor_at) return Action::kMonitor;
  return Action::kAllow;
}

absl::Status ValidateId(absl::string_view field, absl::string_view value) {
  if (value.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  if (value.size() > kMaxIdBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", value.size(), " bytes (limit ", kMaxIdBytes, ")"));
  }
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == ':' || c == '@' || c == '+' || c == '/' ||
                    c == '=' || c == '-';
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": byte ", i, " (0x",
                                                     absl::Hex(static_cast<unsigned char>(c)),
                                                     ") not allowed (use [A-Za-z0-9._:@+/=-])"));
    }
  }
  return absl::OkStatus();
}

}  // namespace shieldx::contauth
