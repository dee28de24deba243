#include "services/contauth/risk.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_format.h"

namespace shieldx::contauth {
namespace {

double Logit(double p) {
  const double s = std::clamp(p, 0.001, 0.999);
  return std::log(s / (1 - s));
}

// A modality's own reason when its evidence points to an impostor (score >= 0.5).
const char* MismatchCode(Modality m) {
  switch (m) {
    case Modality::kKeystrokeFixed:
      return "KEYSTROKE_MISMATCH";
    case Modality::kKeystrokeFree:
      return "FREE_TEXT_TYPING_MISMATCH";
    case Modality::kPointer:
      return "POINTER_MISMATCH";
    case Modality::kTouch:
      return "TOUCH_MISMATCH";
    default:
      return "";
  }
}

const char* MismatchText(Modality m) {
  switch (m) {
    case Modality::kKeystrokeFixed:
      return "typing rhythm differs from the profile";
    case Modality::kKeystrokeFree:
      return "free-text typing rhythm differs from the profile";
    case Modality::kPointer:
      return "pointer movement differs from the profile";
    case Modality::kTouch:
      return "touch behaviour differs from the profile";
    default:
      return "";
  }
}

}  // namespace

double FusionWeight(Modality m) {
  switch (m) {
    case Modality::kKeystrokeFixed:
      return 1.0;
    case Modality::kKeystrokeFree:
      return 0.7;
    case Modality::kContext:
      return 0.8;
    case Modality::kPointer:
      return 0.5;
    case Modality::kTouch:
      return 0.4;
    case Modality::kUnspecified:
      break;
  }
  return 0;
}

FusedRisk FuseRisk(const std::vector<Evidence>& evidence,
                   const std::vector<RiskReason>& context_reasons, double challenge_logit) {
  FusedRisk out;
  double total = 0;
  double keep = 1;
  for (const Evidence& e : evidence) {
    if (e.samples == 0 && e.confidence <= 0) continue;
    const double w = FusionWeight(e.modality);
    const double c = std::clamp(e.confidence, 0.0, 1.0);
    const double contribution = w * c * Logit(e.score);
    total += contribution;
    keep *= 1 - std::min(1.0, w) * c;
    out.modality_scores.push_back({e.modality, std::clamp(e.score, 0.0, 1.0), c, e.samples});
    if (e.modality == Modality::kContext) {
      if (contribution > 0) {
        for (const RiskReason& r : context_reasons) {
          RiskReason copy = r;
          copy.weight = contribution * r.weight;
          out.reasons.push_back(std::move(copy));
        }
      }
      continue;
    }
    if (e.score >= 0.5 && contribution > 0) {
      out.reasons.push_back({MismatchCode(e.modality), e.modality,
                             absl::StrFormat("%s (score %.2f)", MismatchText(e.modality), e.score),
                             contribution});
    }
  }
  if (challenge_logit < 0) {
    out.reasons.push_back({"CHALLENGE_PASSED", Modality::kUnspecified,
                           "the user passed a step-up challenge in this session",
                           -challenge_logit});
  } else if (challenge_logit > 0) {
    out.reasons.push_back({"CHALLENGE_FAILED", Modality::kUnspecified,
                           "a step-up challenge in this session failed or was not completed",
                           challenge_logit});
  }
  total += challenge_logit;
  out.risk = 1.0 / (1.0 + std::exp(-total));
  out.confidence = 1 - keep;
  if (challenge_logit != 0) out.confidence = std::max(out.confidence, 0.9);
  std::stable_sort(out.reasons.begin(), out.reasons.end(),
                   [](const RiskReason& a, const RiskReason& b) { return a.weight > b.weight; });
  return out;
}

}  // namespace shieldx::contauth
