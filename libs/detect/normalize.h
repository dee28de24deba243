// Bounded normalisation of untrusted values before detection.
//
// Every function here is linear in its input, allocates only from the given Arena and never
// fails: malformed input is passed through unchanged and reported through the returned flags
// (an invalid or repeated encoding is itself a signal).
//
// The canonical form a detector sees (Normalize) is: percent-decoding repeated up to
// kMaxUrlDecodePasses (with %uXXXX), HTML character references, JS/CSS escapes, overlong
// UTF-8 folded, full-width and look-alike characters folded to ASCII, zero-width and NUL
// characters removed. Case folding (ASCII) is a separate view. SQL comment collapsing and
// shell quote/escape collapsing belong to the SQL and shell tokenisers (sql_lexer.h,
// shell.h) because only those grammars know what a comment is.
#ifndef SHIELDX_LIBS_DETECT_NORMALIZE_H_
#define SHIELDX_LIBS_DETECT_NORMALIZE_H_

#include <cstdint>
#include <string_view>

#include "libs/detect/arena.h"

namespace shieldx::detect {

// What the normaliser changed or noticed. Bit set.
enum NormFlag : uint32_t {
  kNormUrlDecoded = 1 << 0,       // at least one percent-decoding pass changed the value
  kNormMultiUrlDecoded = 1 << 1,  // two or more passes changed it (double encoding)
  kNormUrlStillEncoded = 1 << 2,  // still decodable after the last allowed pass
  kNormInvalidPercent = 1 << 3,   // '%' not followed by two hex digits
  kNormPercentU = 1 << 4,         // %uXXXX seen
  kNormHtmlEntity = 1 << 5,       // HTML character references decoded
  kNormJsEscape = 1 << 6,         // \xNN, \uNNNN, octal or CSS escapes decoded
  kNormOverlongUtf8 = 1 << 7,     // overlong UTF-8 sequence folded
  kNormInvalidUtf8 = 1 << 8,      // bytes that are not UTF-8
  kNormUnicodeFolded = 1 << 9,    // full-width / look-alike folded to ASCII
  kNormNulByte = 1 << 10,         // NUL removed
  kNormZeroWidth = 1 << 11,       // zero-width / BOM characters removed
  kNormBase64 = 1 << 12,          // value is decoded base64 (DecodePlausibleBase64)
};

// Percent-decodes once. `plus_is_space` for application/x-www-form-urlencoded.
// %uXXXX is decoded to UTF-8 when `percent_u` is set. Invalid escapes are kept literally.
std::string_view PercentDecode(std::string_view in, bool plus_is_space, bool percent_u,
                               Arena& arena, uint32_t* flags);

// Decodes HTML character references: named (the ones browsers accept that matter for
// injection, with or without ';'), decimal and hexadecimal. Invalid ones are kept.
std::string_view DecodeHtmlEntities(std::string_view in, Arena& arena, uint32_t* flags);

// Decodes JavaScript escapes (\xHH, \uHHHH, \u{H..}, \NNN octal) and CSS escapes (\H..H
// followed by optional space).
std::string_view DecodeJsCssEscapes(std::string_view in, Arena& arena, uint32_t* flags);

// Folds UTF-8: overlong encodings to their code point, full-width ASCII (U+FF01..FF5E) and
// common look-alikes (smart quotes, fraction slash, small/full-width brackets, unicode
// spaces) to ASCII, removes zero-width characters, BOM and NUL. Invalid bytes pass through.
std::string_view FoldUnicode(std::string_view in, Arena& arena, uint32_t* flags);

// ASCII lowercase copy.
std::string_view AsciiLower(std::string_view in, Arena& arena);

// The full canonical form described at the top of this file.
struct Normalized {
  std::string_view text;   // canonical
  std::string_view lower;  // canonical, ASCII-lowercased
  uint32_t flags = 0;
};
Normalized Normalize(std::string_view value, Arena& arena);

// When `in` plausibly is base64 (standard or URL-safe alphabet, sane length, mixed classes)
// and decodes to mostly printable text, returns the decoded text; otherwise empty.
std::string_view DecodePlausibleBase64(std::string_view in, Arena& arena);

// Path normalisation: backslashes to '/', repeated slashes collapsed, "." removed, ".."
// resolved. `escapes` receives how many ".." went above the starting directory.
std::string_view NormalizePath(std::string_view in, Arena& arena, int* escapes);

// The position of a ';' that opens an empty or extension-only path parameter ending its
// segment ("/users;.jsp", "/users;.css/", "/;/admin", "/x/;"), npos when none: servlet
// containers drop such a parameter before routing, a filter in front does not.
std::size_t PathParameterBypass(std::string_view path);

// Appends the UTF-8 encoding of `cp` to `out`; returns bytes written (1..4).
int EncodeUtf8(uint32_t cp, char* out);

}  // namespace shieldx::detect

#endif  // SHIELDX_LIBS_DETECT_NORMALIZE_H_
