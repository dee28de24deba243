#include "libs/detect/protocol.h"

#include <algorithm>

#include "libs/detect/text_util.h"

namespace shieldx::detect {
namespace {

bool IEq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ToLowerAscii(a[i]) != ToLowerAscii(b[i])) return false;
  }
  return true;
}

struct AnomalyRule {
  uint64_t bit;
  float confidence;
  const char* rule;
  const char* what;
};

constexpr AnomalyRule kAnomalyRules[] = {
    {kAnomalyClAndTe, 0.8f, "protocol.cl-and-te", "Content-Length with Transfer-Encoding"},
    {kAnomalyConflictingCl, 0.9f, "protocol.conflicting-content-length",
     "differing Content-Length values"},
    {kAnomalyMultipleCl, 0.6f, "protocol.duplicate-content-length", "repeated Content-Length"},
    {kAnomalyBadCl, 0.8f, "protocol.invalid-content-length", "Content-Length is not a number"},
    {kAnomalyBadTe, 0.85f, "protocol.invalid-transfer-encoding",
     "Transfer-Encoding other than chunked"},
    {kAnomalyMultipleTe, 0.8f, "protocol.duplicate-transfer-encoding",
     "repeated Transfer-Encoding"},
    {kAnomalyBadHeaderName, 0.7f, "protocol.invalid-header-name", "header name is not a token"},
    {kAnomalyCtlInHeaderValue, 0.8f, "protocol.control-char-in-header",
     "CR/LF/NUL in a header value"},
    {kAnomalyBadMethod, 0.8f, "protocol.invalid-method", "method is not a token"},
    {kAnomalyBadVersion, 0.6f, "protocol.invalid-version", "HTTP version not 1.0/1.1"},
    {kAnomalyMissingHost, 0.5f, "protocol.missing-host", "no Host header"},
    {kAnomalyEmptyHost, 0.5f, "protocol.empty-host", "empty Host header"},
    {kAnomalyMultipleHost, 0.7f, "protocol.duplicate-host", "repeated Host header"},
    {kAnomalyGetWithBody, 0.55f, "protocol.body-on-get", "GET/HEAD with a body"},
    {kAnomalyBodyWithoutLength, 0.5f, "protocol.body-without-length",
     "body without Content-Length"},
    {kAnomalyClMismatch, 0.4f, "protocol.content-length-mismatch",
     "Content-Length differs from body"},
    {kAnomalyInvalidPercent, 0.35f, "protocol.invalid-percent-encoding",
     "'%' without two hex digits"},
    {kAnomalyPercentU, 0.6f, "protocol.percent-u-encoding", "%uXXXX encoding"},
    {kAnomalyNulInArgs, 0.7f, "protocol.nul-byte", "NUL byte in an argument"},
    {kAnomalyOverlongUtf8, 0.7f, "protocol.overlong-utf8", "overlong UTF-8 sequence"},
    {kAnomalyInvalidUtf8, 0.25f, "protocol.invalid-utf8", "bytes that are not UTF-8"},
    {kAnomalyCrlfInArgs, 0.7f, "protocol.crlf-in-name-or-path",
     "CR/LF in an argument name or path"},
    {kAnomalyMultipartNoBoundary, 0.6f, "protocol.multipart-no-boundary",
     "multipart without boundary"},
    {kAnomalyMultipartMalformed, 0.45f, "protocol.multipart-malformed", "malformed multipart body"},
    {kAnomalyMultipartBadFilename, 0.7f, "protocol.multipart-filename-trick",
     "quote/semicolon tricks in a multipart header"},
    {kAnomalyMultipartCharset, 0.6f, "protocol.multipart-charset",
     "multipart charset outside UTF-8/ASCII/Latin-1"},
    {kAnomalyMultipartCte, 0.5f, "protocol.multipart-transfer-encoding",
     "Content-Transfer-Encoding in a part"},
    {kAnomalyUtf7, 0.7f, "protocol.utf7", "UTF-7 charset"},
    {kAnomalyContentTypeBoundaryTrick, 0.7f, "protocol.content-type-boundary-trick",
     "boundary on a non-multipart type"},
    {kAnomalyDuplicateContentType, 0.6f, "protocol.duplicate-content-type",
     "repeated Content-Type"},
    {kAnomalyBadContentType, 0.6f, "protocol.invalid-content-type",
     "Content-Type is not type/subtype"},
    {kAnomalyRangeAbuse, 0.55f, "protocol.range-abuse", "many byte ranges"},
    {kAnomalyCookieMalformed, 0.45f, "protocol.cookie-quoting-trick", "quoted cookie tricks"},
    {kAnomalyFieldsOverflow, 0.4f, "protocol.too-many-fields", "more fields than inspected"},
    {kAnomalyBodyTruncated, 0.55f, "protocol.body-exceeds-inspection",
     "body larger than inspected"},
    {kAnomalyUriTooLong, 0.3f, "protocol.uri-too-long", "request-target too long"},
    {kAnomalyTooManyHeaders, 0.6f, "protocol.too-many-headers", "too many headers"},
    {kAnomalyHeaderTooLong, 0.5f, "protocol.header-too-long", "header too long"},
    {kAnomalyFragmentInUri, 0.35f, "protocol.fragment-in-uri", "fragment sent to the server"},
    {kAnomalyBadUriChar, 0.4f, "protocol.raw-control-in-uri",
     "raw space/control in the request-target"},
    {kAnomalyJsonTooDeep, 0.4f, "protocol.json-too-deep", "JSON nesting beyond the limit"},
};

}  // namespace

void DetectProtocol(const HttpRequest& req, const ParsedRequest& parsed,
                    const ProtocolPolicy& policy, FindingSink& sink) {
  for (const AnomalyRule& r : kAnomalyRules) {
    if (parsed.anomalies & r.bit) {
      sink.AddRequestLevel(Category::kProtocol, r.confidence, r.rule, r.what, {});
    }
  }
  // Missing Host matters for HTTP/1.1 and for HTTP/1.0 alike: every client sends it.
  // Method policy.
  if (!(parsed.anomalies & kAnomalyBadMethod)) {
    bool allowed = false;
    for (const std::string& m : policy.allowed_methods) allowed = allowed || m == req.method;
    if (!allowed) {
      bool trace_like = IEq(req.method, "TRACE") || IEq(req.method, "TRACK") ||
                        IEq(req.method, "CONNECT") || IEq(req.method, "DEBUG");
      sink.AddRequestLevel(Category::kProtocol, trace_like ? 0.7f : 0.6f,
                           "protocol.method-not-allowed", "method", req.method);
    }
  }
  // Content types a web application does not accept as a request body.
  if (!parsed.body.empty() && !parsed.media_type.empty() &&
      !(parsed.anomalies & kAnomalyBadContentType)) {
    std::string_view mt = parsed.media_type;
    if (StartsWith(mt, "multipart/") && mt != "multipart/form-data" && mt != "multipart/mixed" &&
        mt != "multipart/related" && mt != "multipart/alternative") {
      sink.AddRequestLevel(Category::kProtocol, 0.55f, "protocol.unusual-content-type",
                           "Content-Type", mt);
    }
  }
  if (!parsed.has_user_agent) {
    sink.AddRequestLevel(Category::kProtocol, 0.2f, "protocol.missing-user-agent", "User-Agent",
                         {});
  } else if (parsed.user_agent.empty()) {
    sink.AddRequestLevel(Category::kProtocol, 0.3f, "protocol.empty-user-agent", "User-Agent", {});
  }
  // Restricted request headers.
  for (const Header& h : req.headers) {
    if (IEq(h.name, "proxy")) {
      sink.AddRequestLevel(Category::kProtocol, 0.8f, "protocol.httpoxy", "Proxy header", h.value);
    } else if (IEq(h.name, "x-middleware-subrequest")) {
      sink.AddRequestLevel(Category::kProtocol, 0.8f, "protocol.middleware-bypass",
                           "X-Middleware-Subrequest", h.value);
    } else if (IEq(h.name, "x-http-method-override") || IEq(h.name, "x-http-method") ||
               IEq(h.name, "x-method-override")) {
      sink.AddRequestLevel(Category::kProtocol, 0.45f, "protocol.method-override", h.name, h.value);
    }
  }
}

void DetectScanner(const HttpRequest& req, const ParsedRequest& parsed, FindingSink& sink) {
  // Tools that identify themselves (or whose probes carry their name).
  static constexpr std::string_view kTools[] = {
      "sqlmap",
      "nikto",
      "nmap",
      "masscan",
      "zgrab",
      "nuclei",
      "nessus",
      "openvas",
      "acunetix",
      "netsparker",
      "invicti",
      "burpsuite",
      "burp suite",
      "w3af",
      "arachni",
      "havij",
      "dirbuster",
      "gobuster",
      "wfuzz",
      "fuzz faster u fool",
      "ffuf",
      "wpscan",
      "joomscan",
      "whatweb",
      "qualys",
      "jaeles",
      "commix",
      "xsstrike",
      "hydra",
      "skipfish",
      "paros",
      "zaproxy",
      "owasp zap",
      "metasploit",
      "morfeus",
      "jorgee",
      "zmeu",
      ".nasl",
      "brutus",
      "bsqlbf",
      "sqlninja",
      "pangolin",
      "webinspect",
      "appscan",
      "webshag",
      "grabber",
      "fimap",
      "wapiti",
      "sqlsus",
      "nasl",
      "dirsearch",
      "feroxbuster",
      "httpx",
      "interactsh",
      "xray",
      "goby",
      "awvs",
      "vega/",
      "netlab360",
      "censys",
      "shodan",
      "l9explore",
      "l9tcpid",
      "zmap",
      "nuclei-",
      "cgichk",
      "webtrends security",
      "security scan",
      "vulnerability scan",
      "crowdstrike-scan",
      "detectify",
      "tenable",
  };
  static constexpr std::string_view kOob[] = {
      ".burpcollaborator.net",
      ".oastify.com",
      ".oast.me",
      ".oast.fun",
      ".oast.pro",
      ".oast.live",
      ".oast.site",
      ".oast.online",
      ".interact.sh",
      ".dnslog.cn",
      ".ceye.io",
  };
  for (const Header& h : req.headers) {
    bool ua = IEq(h.name, "user-agent");
    if (h.value.empty() || h.value.size() > 4096) continue;
    std::string lower(h.value);
    for (char& c : lower) c = ToLowerAscii(c);
    if (ua) {
      for (std::string_view t : kTools) {
        std::size_t p = lower.find(t);
        if (p == std::string::npos) continue;
        // Tool names that are also words must stand alone.
        if ((t == "xray" || t == "goby" || t == "httpx" || t == "hydra" || t == "grabber" ||
             t == "nasl" || t == "shodan" || t == "censys" || t == "ffuf" || t == "nmap") &&
            ((p > 0 && IsAsciiAlnum(static_cast<unsigned char>(lower[p - 1]))) ||
             (p + t.size() < lower.size() &&
              IsAsciiAlnum(static_cast<unsigned char>(lower[p + t.size()]))))) {
          continue;
        }
        sink.AddRequestLevel(Category::kScanner, 0.85f, "scanner.user-agent", "User-Agent",
                             h.value.substr(0, 80));
        break;
      }
    }
    for (std::string_view d : kOob) {
      if (lower.find(d) != std::string::npos) {
        sink.AddRequestLevel(Category::kScanner, 0.85f, "scanner.oob-callback", h.name,
                             h.value.substr(0, 80));
        break;
      }
    }
  }
  (void)parsed;
}

void DetectSessionFixation(const HttpRequest& req, const ParsedRequest& parsed, FindingSink& sink) {
  // A session identifier set through the URL, especially when the visitor arrives from
  // another site.
  static constexpr std::string_view kSessionNames[] = {
      "jsessionid",     "phpsessid",       "aspsessionid",    "asp.net_sessionid",
      "sessionid",      "session_id",      "sessid",          "cfid",
      "cftoken",        "cfsid",           "jsessid",         "zend_session_id",
      "_rails_session", "rack.session",    "laravel_session", "ci_session",
      "connect.sid",    "weblogicsession", "shiny-token",     "meteor_login_token",
      "jwt_session",    "sessiontoken",    "session_token",
  };
  std::string_view referer;
  for (const Header& h : req.headers) {
    if (IEq(h.name, "referer")) referer = h.value;
  }
  for (const Field& f : parsed.fields) {
    if (f.source != Source::kQuery || f.part != Part::kName) continue;
    std::string name(f.name);
    for (char& c : name) c = ToLowerAscii(c);
    bool session = false;
    for (std::string_view s : kSessionNames) session = session || name == s;
    if (!session) continue;
    // Off-site referer?
    bool offsite = false;
    if (!referer.empty()) {
      std::string_view r = referer;
      std::size_t p = r.find("://");
      if (p != std::string_view::npos) {
        r = r.substr(p + 3);
        std::size_t e = r.find_first_of("/?#:");
        std::string_view rhost = r.substr(0, e);
        std::string_view host = parsed.host;
        std::size_t c = host.find(':');
        host = host.substr(0, c);
        offsite = !IEq(rhost, host) && !EndsWith(rhost, host);
      }
    }
    sink.AddRequestLevel(Category::kSessionFixation, offsite ? 0.7f : 0.3f,
                         "session.fixation-via-url", f.name, {});
  }
}

}  // namespace shieldx::detect
