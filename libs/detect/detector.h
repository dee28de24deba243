// Common interface of the value detectors.
//
// Each detector looks at one normalised value (`ValueView`) and reports findings to the sink.
// Detectors are pure functions of their input: thread-safe, no allocation beyond the
// per-thread scratch they are handed.
#ifndef SHIELDX_LIBS_DETECT_DETECTOR_H_
#define SHIELDX_LIBS_DETECT_DETECTOR_H_

#include <string_view>
#include <vector>

#include "libs/detect/arena.h"
#include "libs/detect/finding.h"
#include "libs/detect/request.h"
#include "libs/detect/sql_lexer.h"

namespace shieldx::detect {

struct ValueView {
  const Field* field;
  std::string_view text;   // canonical (normalize.h)
  std::string_view lower;  // canonical, ASCII-lowercased
  uint32_t norm_flags = 0;
  float weight = 1.0f;  // confidence multiplier (e.g. < 1 for base64-decoded variants)
  // A multi-line document (code, config, long post) rather than a parameter: one weak
  // signal inside it is more likely incidental, so findings below 0.9 are damped.
  bool document = false;
  // `lower` is letters and digits only (set by the inspector, which checks it anyway to
  // choose the detectors): detectors skip the checks that need other characters.
  bool alnum = false;
};

// Scratch a detector may use; owned by the calling thread.
struct DetectorScratch {
  Arena* arena = nullptr;
  std::vector<sql::Token> sql_tokens;
};

// Reports through `sink` (with ValueView::weight applied).
void Report(FindingSink& sink, const ValueView& v, Category c, float confidence,
            std::string_view rule, std::size_t pos, std::size_t len);

// Out-of-band interaction services (blind SSRF / RCE / XXE confirmation), each with its
// leading dot: the SSRF host check and the scanner check on request headers share the list.
inline constexpr std::string_view kOutOfBandDomains[] = {
    ".burpcollaborator.net",
    ".oastify.com",
    ".oast.me",
    ".oast.fun",
    ".oast.pro",
    ".oast.live",
    ".oast.site",
    ".oast.online",
    ".interact.sh",
    ".interactsh.com",
    ".dnslog.cn",
    ".ceye.io",
    ".requestbin.net",
    ".canarytokens.com",
    ".pipedream.net",
    ".webhook.site",
    ".dnslog.link",
    ".eyes.sh",
    ".bxss.me",
};

void DetectSqli(const ValueView& v, DetectorScratch& scratch, FindingSink& sink);
void DetectXss(const ValueView& v, DetectorScratch& scratch, FindingSink& sink);
void DetectCmdi(const ValueView& v, DetectorScratch& scratch, FindingSink& sink);
void DetectCodeInjection(const ValueView& v, DetectorScratch& scratch, FindingSink& sink);
void DetectPathTraversal(const ValueView& v, DetectorScratch& scratch, FindingSink& sink);
void DetectSsrfRfi(const ValueView& v, DetectorScratch& scratch, FindingSink& sink);
void DetectSsti(const ValueView& v, DetectorScratch& scratch, FindingSink& sink);
void DetectJndi(const ValueView& v, DetectorScratch& scratch, FindingSink& sink);
void DetectNosqli(const ValueView& v, DetectorScratch& scratch, FindingSink& sink);
void DetectLdapi(const ValueView& v, DetectorScratch& scratch, FindingSink& sink);
void DetectXxe(const ValueView& v, DetectorScratch& scratch, FindingSink& sink);
void DetectHeaderInjection(const ValueView& v, DetectorScratch& scratch, FindingSink& sink);
void DetectMailSsi(const ValueView& v, DetectorScratch& scratch, FindingSink& sink);

}  // namespace shieldx::detect

#endif  // SHIELDX_LIBS_DETECT_DETECTOR_H_
