#include "libs/detect/normalize.h"

#include <random>
#include <string>

#include "gtest/gtest.h"
#include "libs/detect/limits.h"

namespace shieldx::detect {
namespace {

class NormalizeTest : public ::testing::Test {
 protected:
  Arena arena_{4096};
};

TEST_F(NormalizeTest, PercentDecodeDecodesOnceAndKeepsInvalidEscapes) {
  uint32_t flags = 0;
  EXPECT_EQ(PercentDecode("a%20b%2527", false, false, arena_, &flags), "a b%27");
  EXPECT_EQ(flags & kNormInvalidPercent, 0u);
  EXPECT_EQ(PercentDecode("100%zz%4", false, false, arena_, &flags), "100%zz%4");
  EXPECT_NE(flags & kNormInvalidPercent, 0u);
}

TEST_F(NormalizeTest, PercentDecodePlusIsSpaceOnlyForForms) {
  uint32_t flags = 0;
  EXPECT_EQ(PercentDecode("a+b", true, false, arena_, &flags), "a b");
  EXPECT_EQ(PercentDecode("a+b", false, false, arena_, &flags), "a+b");
}

// Byte-at-a-time reading of the same rules: the decoder copies plain runs in blocks and must
// agree with it wherever escapes, '+' and invalid '%' fall (run boundaries, the last bytes).
std::string ReferencePercentDecode(std::string_view in, bool plus_is_space, bool percent_u) {
  auto hex = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+' && plus_is_space) {
      out += ' ';
    } else if (c != '%') {
      out += c;
    } else if (i + 2 < in.size() && hex(in[i + 1]) >= 0 && hex(in[i + 2]) >= 0) {
      out += static_cast<char>(hex(in[i + 1]) * 16 + hex(in[i + 2]));
      i += 2;
    } else if (percent_u && i + 5 < in.size() && (in[i + 1] == 'u' || in[i + 1] == 'U') &&
               hex(in[i + 2]) >= 0 && hex(in[i + 3]) >= 0 && hex(in[i + 4]) >= 0 &&
               hex(in[i + 5]) >= 0) {
      char buf[4];
      int len = EncodeUtf8(static_cast<uint32_t>(hex(in[i + 2]) << 12 | hex(in[i + 3]) << 8 |
                                                 hex(in[i + 4]) << 4 | hex(in[i + 5])),
                           buf);
      out.append(buf, len);
      i += 5;
    } else {
      out += '%';
    }
  }
  return out;
}

TEST_F(NormalizeTest, PercentDecodeAgreesWithByteAtATimeReadingOnRandomInputs) {
  std::mt19937 rng(23);
  // Dense escapes, and sparse ones with long runs between them (read eight bytes a step).
  const std::string dense = "%%%+u2aFg0 xyz";
  const std::string sparse = "abcdefghijklmnopqrstuvwxyz0123456789 .-%+";
  for (int round = 0; round < 10000; ++round) {
    const std::string& alphabet = round % 2 ? sparse : dense;
    std::string value(rng() % (round % 2 ? 120 : 40), ' ');
    for (char& c : value) c = alphabet[rng() % alphabet.size()];
    for (bool plus : {false, true}) {
      for (bool u : {false, true}) {
        uint32_t flags = 0;
        ASSERT_EQ(std::string(PercentDecode(value, plus, u, arena_, &flags)),
                  ReferencePercentDecode(value, plus, u))
            << "value=" << value << " plus=" << plus << " u=" << u;
      }
    }
  }
}

// AsciiLower works eight bytes at a time: every byte value at every offset must come out as
// the byte-at-a-time lowering would have it (only 'A'..'Z' change; bytes >= 0x80 never do).
TEST_F(NormalizeTest, AsciiLowerAgreesWithByteAtATimeLowering) {
  std::mt19937 rng(31);
  for (int round = 0; round < 3000; ++round) {
    std::string value(rng() % 40, ' ');
    for (char& c : value) {
      c = rng() % 3 == 0 ? static_cast<char>(rng() % 256) : "AZaz@[`{09 "[rng() % 11];
    }
    std::string expected = value;
    for (char& c : expected) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    }
    ASSERT_EQ(std::string(AsciiLower(value, arena_)), expected) << value;
  }
}

// FoldUnicode leaves plain ASCII alone and must notice a NUL or a non-ASCII byte anywhere.
TEST_F(NormalizeTest, FoldUnicodeNoticesNulAndNonAsciiAtAnyOffset) {
  for (std::size_t at = 0; at < 24; ++at) {
    std::string value(24, 'a');
    uint32_t flags = 0;
    EXPECT_EQ(FoldUnicode(value, arena_, &flags).data(), value.data());
    value[at] = '\0';
    flags = 0;
    EXPECT_EQ(FoldUnicode(value, arena_, &flags).size(), 23u) << at;
    EXPECT_TRUE(flags & kNormNulByte) << at;
    value[at] = 'a';
    value.replace(at, 3, "\xEF\xBC\xA1");  // FULLWIDTH LATIN CAPITAL LETTER A
    flags = 0;
    EXPECT_EQ(std::string(FoldUnicode(value, arena_, &flags)).find('A'), at) << at;
  }
}

TEST_F(NormalizeTest, PercentUDecodesToUtf8) {
  uint32_t flags = 0;
  EXPECT_EQ(PercentDecode("%u003cscript%u003E", false, true, arena_, &flags), "<script>");
  EXPECT_NE(flags & kNormPercentU, 0u);
}

TEST_F(NormalizeTest, RepeatedUrlEncodingIsUndoneWithinTheBound) {
  Normalized n = Normalize("%252527%2520or%25201%253D1", arena_);
  EXPECT_EQ(n.text, "' or 1=1");
  EXPECT_NE(n.flags & kNormMultiUrlDecoded, 0u);
}

TEST_F(NormalizeTest, UrlDecodingStopsAfterTheLimitAndSaysSo) {
  std::string v = "%27";
  for (int i = 0; i < limits::kMaxUrlDecodePasses + 2; ++i) {
    std::string e;
    for (char c : v) e += c == '%' ? std::string("%25") : std::string(1, c);
    v = e;
  }
  Normalized n = Normalize(v, arena_);
  EXPECT_NE(n.text, "'");
  EXPECT_NE(n.flags & kNormUrlStillEncoded, 0u);
}

TEST_F(NormalizeTest, HtmlEntitiesNamedNumericAndWithoutSemicolon) {
  uint32_t flags = 0;
  EXPECT_EQ(
      DecodeHtmlEntities("&lt;img src=x&#32;onerror&#x3D;alert&lpar;1&rpar;&gt", arena_, &flags),
      "<img src=x onerror=alert(1)>");
  EXPECT_EQ(DecodeHtmlEntities("&#0000106&#0000097", arena_, &flags), "ja");
  // Unknown names and lone ampersands stay.
  EXPECT_EQ(DecodeHtmlEntities("Tom & Jerry &copy; &foo;", arena_, &flags),
            "Tom & Jerry &copy; &foo;");
}

TEST_F(NormalizeTest, JsAndCssEscapes) {
  uint32_t flags = 0;
  EXPECT_EQ(DecodeJsCssEscapes("\\x61\\u006c\\u{65}rt\\050\\061)", arena_, &flags), "alert(1)");
  EXPECT_EQ(DecodeJsCssEscapes("\\6a\\61vascript", arena_, &flags), "javascript");
  // Windows paths are not escapes.
  EXPECT_EQ(DecodeJsCssEscapes("..\\..\\boot.ini", arena_, &flags), "..\\..\\boot.ini");
}

TEST_F(NormalizeTest, FullWidthLookAlikesAndZeroWidthFold) {
  uint32_t flags = 0;
  // ＜ｓｃｒｉｐｔ＞ with a zero-width space and a right single quotation mark.
  std::string in =
      "\xef\xbc\x9c\xef\xbd\x93\xef\xbd\x83\xe2\x80\x8b\xef\xbd\x92\xef\xbd\x89"
      "\xef\xbd\x90\xef\xbd\x94\xef\xbc\x9e\xe2\x80\x99";
  EXPECT_EQ(FoldUnicode(in, arena_, &flags), "<script>'");
  EXPECT_NE(flags & kNormUnicodeFolded, 0u);
  EXPECT_NE(flags & kNormZeroWidth, 0u);
}

// A Latin-1 no-break space (a lone 0xA0) between ASCII text folds to a space, as U+00A0
// does; inside Latin-1 or UTF-8 text ("caf\xe9\xa0", "voil\xc3\xa0") the byte is left alone.
TEST_F(NormalizeTest, LatinOneNoBreakSpaceBetweenAsciiFoldsToASpace) {
  uint32_t flags = 0;
  EXPECT_EQ(FoldUnicode("1\xa0union\xa0select", arena_, &flags), "1 union select");
  EXPECT_NE(flags & kNormUnicodeFolded, 0u);
  EXPECT_EQ(FoldUnicode("\xa0x", arena_, &flags), " x");
  for (std::string_view text :
       {std::string_view("caf\xe9\xa0noir"), std::string_view("voil\xc3\xa0 ok")}) {
    EXPECT_EQ(FoldUnicode(text, arena_, &flags), text);
  }
  EXPECT_EQ(FoldUnicode("a\xc2\xa0"
                        "b",
                        arena_, &flags),
            "a b");  // U+00A0 itself
}

TEST_F(NormalizeTest, OverlongUtf8FoldsToAscii) {
  uint32_t flags = 0;
  EXPECT_EQ(FoldUnicode("\xc0\xae\xc0\xae\xc0\xaf"
                        "etc",
                        arena_, &flags),
            "../etc");
  EXPECT_NE(flags & kNormOverlongUtf8, 0u);
}

TEST_F(NormalizeTest, NonLatinTextIsUntouched) {
  uint32_t flags = 0;
  std::string text = "\xe4\xbd\xa0\xe5\xa5\xbd \xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82";
  EXPECT_EQ(FoldUnicode(text, arena_, &flags), text);
  EXPECT_EQ(flags, 0u);
}

TEST_F(NormalizeTest, NulBytesAreRemovedAndReported) {
  uint32_t flags = 0;
  EXPECT_EQ(FoldUnicode(std::string_view("a\0b", 3), arena_, &flags), "ab");
  EXPECT_NE(flags & kNormNulByte, 0u);
}

TEST_F(NormalizeTest, PlausibleBase64DecodesText) {
  EXPECT_EQ(DecodePlausibleBase64("PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", arena_),
            "<script>alert(1)</script>");
  // URL-safe alphabet and missing padding.
  EXPECT_EQ(DecodePlausibleBase64("JyBvciAxPTEtLQ", arena_), "' or 1=1--");
  // '+' turned into ' ' by form decoding.
  EXPECT_EQ(DecodePlausibleBase64("PGEgb25jbGljaz14Pj8+Pg==", arena_), "<a onclick=x>?>>");
  EXPECT_EQ(DecodePlausibleBase64("PGEgb25jbGljaz14Pj8 Pg==", arena_), "<a onclick=x>?>>");
  // The shortest accepted: 11 unpadded characters carry 8 bytes.
  EXPECT_EQ(DecodePlausibleBase64("DQpRVUlUDQo", arena_), "\r\nQUIT\r\n");
  EXPECT_TRUE(DecodePlausibleBase64("DQpRVUlUDQ", arena_).empty());  // 7 bytes: too short
}

TEST_F(NormalizeTest, PlausibleBase64DecodesMultiByteText) {
  // Three-byte UTF-8 letters (circled Latin, CJK) are text: every byte of a whole sequence
  // counts as printable, not only its lead byte.
  EXPECT_EQ(DecodePlausibleBase64(
                "YGN1cmwgLUwgaHR0cDovL+KTlOKTp+KTkOKTnOKTn+KTm+KTlC7ik5Lik57ik5xg", arena_),
            "`curl -L http://\u24d4\u24e7\u24d0\u24dc\u24df\u24db\u24d4.\u24d2\u24de\u24dc`");
  EXPECT_EQ(DecodePlausibleBase64("5p2x5Lqs6YO9IOa4i+iwt+WMuiDnpZ7ljZcgMS0yLTM=", arena_),
            "\u6771\u4eac\u90fd \u6e0b\u8c37\u533a \u795e\u5357 1-2-3");
}

TEST_F(NormalizeTest, Base64IsRejectedForWordsShortValuesAndBinary) {
  EXPECT_TRUE(DecodePlausibleBase64("administrator", arena_).empty());
  EXPECT_TRUE(DecodePlausibleBase64("YWJj", arena_).empty());
  // Random token that decodes to binary.
  EXPECT_TRUE(DecodePlausibleBase64("q83vASNFZ4mrze8BI0VniQ==", arena_).empty());
  // High bytes that form no whole UTF-8 sequence: a lead byte followed by ASCII, and
  // continuation bytes with no lead.
  EXPECT_TRUE(DecodePlausibleBase64("4oBB4oBB4oBB4oBB4oBB4oBB4oBB4oBB", arena_).empty());
  EXPECT_TRUE(DecodePlausibleBase64("gIGCg4SFhoeIiYqLjI2Oj5CRkpOUlZaX", arena_).empty());
}

TEST_F(NormalizeTest, PathNormalisationCountsEscapes) {
  int escapes = 0;
  EXPECT_EQ(NormalizePath("/a/./b//c/../d", arena_, &escapes), "/a/b/d");
  EXPECT_EQ(escapes, 0);
  EXPECT_EQ(NormalizePath("..\\..\\windows\\win.ini", arena_, &escapes), "windows/win.ini");
  EXPECT_EQ(escapes, 2);
  EXPECT_EQ(NormalizePath("/static/../../../etc/passwd", arena_, &escapes), "/etc/passwd");
  EXPECT_EQ(escapes, 2);
}

TEST_F(NormalizeTest, CanonicalFormHasLowercaseView) {
  Normalized n = Normalize("SeLeCt%20%2A", arena_);
  EXPECT_EQ(n.text, "SeLeCt *");
  EXPECT_EQ(n.lower, "select *");
}

TEST_F(NormalizeTest, ValuesAreBoundedByTheInspectionLimit) {
  std::string big(limits::kMaxInspectedValueBytes + 100, 'a');
  Normalized n = Normalize(big, arena_);
  EXPECT_EQ(n.text.size(), limits::kMaxInspectedValueBytes);
}

}  // namespace
}  // namespace shieldx::detect
