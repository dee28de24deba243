// Request-level detectors: HTTP protocol anomalies and smuggling signals (from the parser's
// anomaly bits), method policy, attack tools and scanners, session fixation.
#ifndef SHIELDX_LIBS_DETECT_PROTOCOL_H_
#define SHIELDX_LIBS_DETECT_PROTOCOL_H_

#include <cstdint>
#include <string>
#include <string_view>
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
// Header values DetectScanner found nothing in, remembered per Scratch: the same User-Agent,
// Accept and Referer come with every request of a client. Direct-mapped by MixBytes over the
// partition (a tenant), whether the header is the User-Agent, and the value; compared in full
// on a hit. It records what the scan found, not what the sink kept, so exclusions do not
// change it.
class ScannerMemo {
 public:
  static constexpr std::size_t kEntries = 64;
  static constexpr std::size_t kMaxValueBytes = 512;
  bool Clean(uint64_t partition, bool user_agent, std::string_view value) const;
  void RememberClean(uint64_t partition, bool user_agent, std::string_view value);
  uint64_t hits() const { return hits_; }

 private:
  struct Entry {
    uint64_t hash = 0;
    uint64_t partition = 0;
    bool user_agent = false;
    bool used = false;
    std::string value;
  };
  static uint64_t Hash(uint64_t partition, bool user_agent, std::string_view value);
  Entry entries_[kEntries];
  mutable uint64_t hits_ = 0;
};

// Attack tools naming themselves in the User-Agent, and out-of-band callback domains in any
// header. `memo` (optional) skips header values found clean before in `partition`.
void DetectScanner(const HttpRequest& req, const ParsedRequest& parsed, FindingSink& sink,
                   ScannerMemo* memo = nullptr, uint64_t partition = 0);
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
