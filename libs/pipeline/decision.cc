#include "libs/pipeline/decision.h"

namespace shieldx::pipeline {

const char* ActionName(Action action) {
  switch (action) {
    case Action::kAllow:
      return "allow";
    case Action::kBlock:
      return "block";
    case Action::kChallenge:
      return "challenge";
    case Action::kTarpit:
      return "tarpit";
    case Action::kDivert:
      return "divert";
    case Action::kRateLimit:
      return "rate_limit";
  }
  return "allow";
}

const char* FrontEndName(FrontEnd front_end) {
  switch (front_end) {
    case FrontEnd::kGrpc:
      return "grpc";
    case FrontEnd::kSpoe:
      return "spoe";
    case FrontEnd::kForwardAuth:
      return "forward_auth";
    case FrontEnd::kExtAuthz:
      return "ext_authz";
    case FrontEnd::kShadow:
      return "shadow";
    case FrontEnd::kTwin:
      return "twin";
  }
  return "grpc";
}

}  // namespace shieldx::pipeline
