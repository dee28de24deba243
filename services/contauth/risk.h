// Session risk fusion: per-modality evidence -> one calibrated risk in [0, 1], a confidence
// and ordered reasons.
//
//   logit(risk) = sum_m w_m * c_m * logit(s_m) + challenge_logit
//
// s_m is the modality's score (each is calibrated so 0.5 means "as likely the user as not"),
// c_m its confidence in [0, 1] and w_m its fusion weight: keystroke fixed text 1.0, free text
// 0.7, context 0.8, pointer 0.5, touch 0.4 (the measured keystroke model counts most; pointer
// and touch are uncalibrated heuristics, see motion.h). Independent evidence adds in log-odds
// (naive Bayes); a modality without data adds nothing, so a session with no evidence has risk
// 0.5 at confidence 0 (MONITOR under default bands). Confidence = 1 - prod_m(1 - min(1, w_m) c_m).
//
// Thread-safety: pure functions.
#ifndef SHIELDX_SERVICES_CONTAUTH_RISK_H_
#define SHIELDX_SERVICES_CONTAUTH_RISK_H_

#include <vector>

#include "services/contauth/types.h"

namespace shieldx::contauth {

struct Evidence {
  Modality modality = Modality::kUnspecified;
  double score = 0.5;
  double confidence = 0;
  uint32_t samples = 0;
};

struct FusedRisk {
  double risk = 0.5;
  double confidence = 0;
  std::vector<ModalityScore> modality_scores;
  std::vector<RiskReason> reasons;  // most important first
};

double FusionWeight(Modality m);

// `context_reasons` are appended to the context modality's contribution; `challenge_logit`
// adds the session's challenge history (with a CHALLENGE_PASSED / CHALLENGE_FAILED reason).
FusedRisk FuseRisk(const std::vector<Evidence>& evidence,
                   const std::vector<RiskReason>& context_reasons, double challenge_logit);

}  // namespace shieldx::contauth

#endif  // SHIELDX_SERVICES_CONTAUTH_RISK_H_
