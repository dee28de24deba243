// Limits of the detection engine. Every input the engine touches is bounded by a name here or
// in libs/base/limits.h; a request beyond a limit is inspected up to the limit and the overflow
// is itself reported (protocol finding), never silently ignored.
#ifndef SHIELDX_LIBS_DETECT_LIMITS_H_
#define SHIELDX_LIBS_DETECT_LIMITS_H_

#include <cstddef>
#include <cstdint>

#include "libs/base/limits.h"

namespace shieldx::detect::limits {

using shieldx::limits::kMaxConfigFileBytes;
using shieldx::limits::kMaxHeaderBytes;
using shieldx::limits::kMaxHeaderCount;
using shieldx::limits::kMaxInspectedBodyBytes;
using shieldx::limits::kMaxUriBytes;

// Fields (values and names) extracted from one request: args + headers + cookies + path
// segments + JSON/XML/multipart leaves. All of the first kMaxFields are inspected. Past it
// (reported, 0.4) a field is kept only when it could carry an attack: a value of letters and
// digits too short for base64, or a number under 20 bytes, cannot (parser.cc, PlainField).
// JSON Web Tokens' members are screened the same way wherever they are. Up to
// kMaxScreenedFields are kept in all; a request with more such fields, or more path
// segments, cookies or multipart parts than the limits below, is reported as not inspected
// (0.6, which blocks at the default threshold): padding must not hide a payload.
inline constexpr std::size_t kMaxFields = 1024;
inline constexpr std::size_t kMaxScreenedFields = 4096;
// Path segments considered individually.
inline constexpr std::size_t kMaxPathSegments = 256;
// Cookies in one request.
inline constexpr std::size_t kMaxCookies = 1024;
// Multipart parts in one body.
inline constexpr std::size_t kMaxMultipartParts = 1024;
// Headers inside one multipart part.
inline constexpr std::size_t kMaxPartHeaders = 16;
// JSON/XML nesting depth parsed; deeper content is inspected as raw text.
inline constexpr std::size_t kMaxJsonDepth = 32;
inline constexpr std::size_t kMaxXmlDepth = 32;
// Bytes of a JSON path / XML element path kept as a field name.
inline constexpr std::size_t kMaxFieldNameBytes = 256;
// Nested container parsing (JSON in a multipart part, form in a JSON string ...).
inline constexpr int kMaxNestedBodyDepth = 2;
// JSON Web Tokens per request whose header and claims are read as fields, and the largest
// decoded part read.
inline constexpr std::size_t kMaxJwtTokens = 4;
inline constexpr std::size_t kMaxJwtPartBytes = 8 * 1024;

// Normalisation.
// Percent-decoding passes (double/triple encoding); a value still changing after that is
// reported as an evasion signal.
inline constexpr int kMaxUrlDecodePasses = 3;
// HTML-entity / JS-escape decoding passes.
inline constexpr int kMaxEntityDecodePasses = 2;
// Bytes of one value that the normaliser and detectors look at at once. A longer value is
// inspected in windows of half this size (inspector.cc), overlapping by this many bytes.
inline constexpr std::size_t kMaxInspectedValueBytes = 64 * 1024;
inline constexpr std::size_t kValueWindowOverlap = 1024;
// Base64 is tried only on values of this size range (smaller is never meaningful, larger is
// an upload, not an argument). 11 unpadded characters carry 8 bytes, the least a decoded
// value must have (DecodePlausibleBase64): "\r\nQUIT\r\n" is 8.
inline constexpr std::size_t kMinBase64Bytes = 11;
inline constexpr std::size_t kMaxBase64Bytes = 16 * 1024;
// Values from this size get a byte-pair filter before the detectors run (text_util.h):
// below it a keyword scan is cheaper than building the filter (measured: 32 costs more on
// CSIC-like requests, 128 more on long beacons).
inline constexpr std::size_t kBigramFilterMinBytes = 48;
// Byte-pair filters kept per request (512 bytes each); longer values beyond that many are
// inspected without one (same results, more work).
inline constexpr std::size_t kMaxBigramFilters = 64;

// Clean values remembered per thread (inspector.h): header values, and the other fields
// (arguments, cookies, JSON and form fields) in a larger memory of their own, so that a
// request's many one-off arguments do not push out the headers every request sends. The
// longest value remembered.
inline constexpr std::size_t kCleanHeaderSlots = 64;
inline constexpr std::size_t kCleanFieldSlots = 1024;
// Whole fields (by raw value, before normalisation) found clean, for non-header fields.
inline constexpr std::size_t kCleanWholeFieldSlots = 1024;
inline constexpr std::size_t kMaxCleanHeaderBytes = 512;
// Hits counted per remembered value (the replacement order of the two-way memory).
inline constexpr uint32_t kCleanHeaderMaxHits = 64;

// Detectors.
// SQL tokens analysed per value and context.
inline constexpr std::size_t kMaxSqlTokens = 2048;
// Parse attempts (start positions) per value in the SQL analyser.
inline constexpr std::size_t kMaxSqlParseStarts = 32;
// Findings kept per request (the score is computed from all; only these are reported).
inline constexpr std::size_t kMaxFindings = 32;
// Bytes of an offending excerpt shown in a finding (after escaping).
inline constexpr std::size_t kMaxExcerptBytes = 80;

// Signature rules.
inline constexpr std::size_t kMaxCustomRules = 10000;
inline constexpr std::size_t kMaxRulePatternBytes = 4096;

// Exclusions (exclusion.h): per profile or route, and selectors of each kind per exclusion.
inline constexpr std::size_t kMaxExclusions = 256;
inline constexpr std::size_t kMaxExclusionSelectors = 64;
inline constexpr std::size_t kMaxExclusionIdBytes = 64;
inline constexpr std::size_t kMaxRuleSelectorBytes = 128;

// Arena block size; a request usually fits in the first block.
inline constexpr std::size_t kArenaBlockBytes = 256 * 1024;

}  // namespace shieldx::detect::limits

#endif  // SHIELDX_LIBS_DETECT_LIMITS_H_
