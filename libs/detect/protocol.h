// Request-level detectors: HTTP protocol anomalies and smuggling signals (from the parser's
// anomaly bits), method policy, attack tools and scanners, session fixation.
#ifndef SHIELDX_LIBS_DETECT_PROTOCOL_H_
#define SHIELDX_LIBS_DETECT_PROTOCOL_H_

#include <string>
#include <vector>

#include "libs/detect/finding.h"
#include "libs/detect/parser.h"
#include "libs/detect/request.h"

namespace shieldx::detect {

struct ProtocolPolicy {
  // Methods served; others are findings (unknown tokens stronger than TRACE-like ones).
  std::vector<std::string> allowed_methods;
};

void DetectProtocol(const HttpRequest& req, const ParsedRequest& parsed,
                    const ProtocolPolicy& policy, FindingSink& sink);
void DetectScanner(const HttpRequest& req, const ParsedRequest& parsed, FindingSink& sink);
void DetectSessionFixation(const HttpRequest& req, const ParsedRequest& parsed, FindingSink& sink);
// Unsigned JSON Web Tokens ("alg":"none") anywhere a token travels.
void DetectUnsignedJwt(const HttpRequest& req, const ParsedRequest& parsed, FindingSink& sink);
// The double-precision boundary number that hung PHP's and Java's number parsing.
void DetectFloatDos(const ParsedRequest& parsed, FindingSink& sink);
// A metadata, link-local or disguised internal address as the Host or the absolute-form
// request-target's host (ssrf.cc): routing-based SSRF. Also user information in the Host, and
// an absolute-form target naming another host than the Host header.
void DetectRequestHost(const HttpRequest& req, const ParsedRequest& parsed, FindingSink& sink);

}  // namespace shieldx::detect

#endif  // SHIELDX_LIBS_DETECT_PROTOCOL_H_
