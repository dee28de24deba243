#include "libs/detect/text_util.h"

#include <cstring>
#include <memory>
#include <random>
#include <string>

#include "gtest/gtest.h"

namespace shieldx::detect {
namespace {

TEST(BigramFilter, FindSkipsNeedlesWhoseBytePairsAreAbsent) {
  std::string value = "the system settings were selected; nothing else happened here";
  BigramFilter f;
  f.Build(value);
  std::string_view v = value;
  EXPECT_FALSE(f.MayContain(v, "shell_exec("));  // "l_" never occurs
  EXPECT_TRUE(f.MayContain(v, "system"));
  ScopedBigramFilter scope(&f);
  EXPECT_EQ(Find(v, "shell_exec("), std::string_view::npos);
  EXPECT_EQ(Find(v, "system"), v.find("system"));
  EXPECT_EQ(Find(v.substr(20), "set"), v.substr(20).find("set"));
  EXPECT_EQ(FindWord(v, "else"), v.find("else"));
}

TEST(BigramFilter, HaystacksOutsideTheFilteredValueAreScannedNormally) {
  std::string value = "abcdef";
  std::string other = "xyz shell_exec( here";
  BigramFilter f;
  f.Build(value);
  ScopedBigramFilter scope(&f);
  // The filter knows nothing about `other`: it must not be consulted for it.
  EXPECT_EQ(Find(other, "shell_exec("), other.find("shell_exec("));
}

TEST(BigramFilter, ScopeRestoresThePreviousFilter) {
  BigramFilter a, b;
  {
    ScopedBigramFilter sa(&a);
    {
      ScopedBigramFilter sb(&b);
      EXPECT_EQ(current_bigram_filter, &b);
    }
    EXPECT_EQ(current_bigram_filter, &a);
  }
  EXPECT_EQ(current_bigram_filter, nullptr);
}

// Property: with the filter installed, Find returns exactly what string_view::find does,
// for every substring haystack, needle and start offset (needles both present and absent).
TEST(BigramFilter, FindAgreesWithStringFindOnRandomInputs) {
  std::mt19937 rng(7);
  const std::string alphabet = "abcdeABC ()_$<>'\"\x01\xff";
  for (int round = 0; round < 300; ++round) {
    std::string value(1 + rng() % 300, ' ');
    for (char& c : value) c = alphabet[rng() % alphabet.size()];
    BigramFilter f;
    f.Build(value);
    ScopedBigramFilter scope(&f);
    std::string_view v = value;
    for (int q = 0; q < 40; ++q) {
      std::string needle;
      if (q % 2 == 0 && value.size() > 4) {
        std::size_t at = rng() % (value.size() - 3);
        needle = value.substr(at, 1 + rng() % 3);
      } else {
        needle.resize(1 + rng() % 4);
        for (char& c : needle) c = alphabet[rng() % alphabet.size()];
      }
      std::size_t lo = rng() % value.size();
      std::string_view hay = v.substr(lo);
      std::size_t from = rng() % (hay.size() + 1);
      ASSERT_EQ(Find(hay, needle, from), hay.find(needle, from))
          << "value=" << value << " needle=" << needle;
    }
  }
}

// FirstAll's answer for every needle of `set` (built from `needles`) is exactly
// hay.find(needle).
template <std::size_t N>
::testing::AssertionResult FirstAllMatchesFind(const NeedleSet& set,
                                               const std::string_view (&needles)[N],
                                               std::string_view hay) {
  std::size_t first[N];
  set.FirstAll(hay, first);
  for (std::size_t i = 0; i < N; ++i) {
    if (first[i] != hay.find(needles[i])) {
      return ::testing::AssertionFailure()
             << "value=" << hay << " needle=" << needles[i] << " FirstAll=" << first[i];
    }
  }
  return ::testing::AssertionSuccess();
}

// Property: NeedleSet::FirstAll gives, for every needle, exactly Find(hay, needle), with
// and without a byte-pair filter installed.
// The helpers that keep a search for what follows each opener from reading the value once
// per opener answer exactly what the search they replace answers, on random values and
// windows, with and without a byte-pair filter over the value.
TEST(ForwardSearch, ForwardFinderAgreesWithFindForGrowingStarts) {
  std::mt19937 rng(7);
  const std::string alphabet = "ab}}{ ";
  for (int round = 0; round < 2000; ++round) {
    std::string value(rng() % 96, ' ');
    for (char& c : value) c = alphabet[rng() % alphabet.size()];
    for (std::string_view needle : {"}", "}}", "a{"}) {
      ForwardFinder f(value, needle);
      for (std::size_t from = 0; from <= value.size() + 1; from += 1 + rng() % 4) {
        ASSERT_EQ(f.From(from), std::string_view(value).find(needle, from))
            << value << " / " << needle << " @" << from;
      }
    }
  }
}

TEST(ForwardSearch, WindowFinderAgreesWithFindInsideEachWindow) {
  std::mt19937 rng(11);
  const std::string alphabet = "_ocd.(x";
  for (int round = 0; round < 3000; ++round) {
    std::string value(rng() % 128, ' ');
    for (char& c : value) c = alphabet[rng() % alphabet.size()];
    BigramFilter filter;
    filter.Build(value);
    for (bool filtered : {false, true}) {
      ScopedBigramFilter scope(filtered ? &filter : nullptr);
      for (std::string_view needle : {"__", "(", "doc", "x.x"}) {
        WindowFinder f(value, needle);
        std::size_t start = 0;
        while (start <= value.size()) {
          // Windows of any length, including ones ending before the last window did.
          const std::size_t end = start + rng() % 40;
          const std::string_view v = value;
          const bool want =
              start <= v.size() &&
              v.substr(start, std::min(end, v.size()) - std::min(start, std::min(end, v.size())))
                      .find(needle) != std::string_view::npos;
          ASSERT_EQ(f.Contains(start, end), want)
              << value << " / " << needle << " [" << start << ", " << end << ")";
          start += rng() % 5;
          if (rng() % 7 == 0) ++start;
        }
      }
    }
  }
}

TEST(ForwardSearch, ArithmeticWindowsAgreeWithArithmeticInEachWindow) {
  std::mt19937 rng(13);
  const std::string alphabet = "12 *+-/'\"a}";
  int firing = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string value(rng() % 64, ' ');
    for (char& c : value) c = alphabet[rng() % alphabet.size()];
    const ArithmeticWindows windows(value);
    for (std::size_t start = 0; start <= value.size(); ++start) {
      for (std::size_t end = start; end <= value.size(); end += 1 + rng() % 6) {
        const bool want = ArithmeticIn(std::string_view(value).substr(start, end - start));
        firing += want;
        ASSERT_EQ(windows.In(start, end), want) << value << " [" << start << ", " << end << ")";
      }
    }
  }
  EXPECT_GT(firing, 1000);  // the generator makes both answers
}

TEST(ForwardSearch, FindWithinStopsAtItsLimit) {
  const std::string_view v = "${a}......${bbbbbbbbbbbb}";
  EXPECT_EQ(FindWithin(v, '}', 0, 64), 3u);
  EXPECT_EQ(FindWithin(v, '}', 10, 5), std::string_view::npos);
  EXPECT_EQ(FindWithin(v, '}', 10, 64), v.size() - 1);
  EXPECT_EQ(FindWithin(v, '}', v.size(), 64), std::string_view::npos);
}

TEST(NeedleSet, FirstAllAgreesWithFindOnRandomInputs) {
  static const std::string_view kNeedles[] = {"ab", "abc",  "ba",  "<a", "a<", "ca(",
                                              "(c", "aaaa", "bcb", "c_", "__", "ab_c("};
  static const NeedleSet kSet(kNeedles);
  std::mt19937 rng(5);
  const std::string alphabet = "abc<(_";
  for (int round = 0; round < 2000; ++round) {
    std::string value(rng() % 64, ' ');
    for (char& c : value) c = alphabet[rng() % alphabet.size()];
    BigramFilter f;
    f.Build(value);
    for (bool filtered : {false, true}) {
      ScopedBigramFilter scope(filtered ? &f : nullptr);
      ASSERT_TRUE(FirstAllMatchesFind(kSet, kNeedles, value));
    }
  }
}

// With a byte-pair filter that rules most needles out, the scan stops only at pairs the live
// needles start with (a per-call table, cleared after the call). Slices of the filtered value,
// and calls with other filters in between, still give exactly Find's answers.
TEST(NeedleSet, FirstAllAgreesWithFindWhenTheFilterRulesNeedlesOut) {
  static const std::string_view kNeedles[] = {"ab",   "abc", "ba", "<a", "a<",    "ca(", "(c",
                                              "aaaa", "bcb", "c_", "__", "ab_c(", "xy",  "yx"};
  static const NeedleSet kSet(kNeedles);
  std::mt19937 rng(41);
  for (int round = 0; round < 3000; ++round) {
    const std::string alphabet = round % 2 == 0 ? "abx y" : "c_(<yb";
    std::string value(rng() % 200, ' ');
    for (char& c : value) c = alphabet[rng() % alphabet.size()];
    BigramFilter f;
    f.Build(value);
    ScopedBigramFilter scope(&f);
    const std::string_view whole(value);
    const std::size_t from = whole.empty() ? 0 : rng() % whole.size();
    for (std::string_view hay : {whole, whole.substr(from), whole.substr(0, from)}) {
      ASSERT_TRUE(FirstAllMatchesFind(kSet, kNeedles, hay));
    }
  }
}

// Needles that all start with one byte (".oast.fun"-style domains) are searched from one
// occurrence of that byte to the next (memchr): same answers as Find, including a lead byte
// as the value's last byte and needles that overlap.
TEST(NeedleSet, FirstAllAgreesWithFindWhenEveryNeedleSharesItsFirstByte) {
  static const std::string_view kNeedles[] = {".ab", ".abc", "..", ".c(", ".a.b", ".zq"};
  static const NeedleSet kSet(kNeedles);
  std::mt19937 rng(29);
  const std::string alphabet = "..abcz(q xy";
  for (int round = 0; round < 4000; ++round) {
    std::string value(rng() % 120, ' ');
    for (char& c : value) c = alphabet[rng() % alphabet.size()];
    std::unique_ptr<char[]> exact(new char[value.size()]);
    std::memcpy(exact.get(), value.data(), value.size());
    std::string_view hay(exact.get(), value.size());
    BigramFilter f;
    f.Build(hay);
    for (bool filtered : {false, true}) {
      ScopedBigramFilter scope(filtered ? &f : nullptr);
      ASSERT_TRUE(FirstAllMatchesFind(kSet, kNeedles, hay));
    }
  }
}

// Mostly bytes no needle starts with: the scans skip ahead several positions at a time, and
// a needle can sit at any offset of a skipped block or at the very end of the value.
TEST(NeedleSet, FirstAllAgreesWithFindWhenMatchesAreSparse) {
  static const std::string_view kNeedles[] = {"ab", "abc", "ca(", "zq", "(c"};
  static const NeedleSet kSet(kNeedles);
  std::mt19937 rng(17);
  const std::string filler = "xyw.-1 ";
  const std::string rare = "abcz(q";
  for (int round = 0; round < 4000; ++round) {
    std::string value(rng() % 300, ' ');
    for (char& c : value) {
      c = rng() % 23 == 0 ? rare[rng() % rare.size()] : filler[rng() % filler.size()];
    }
    // Exactly sized heap copy: reading past the end is caught by sanitizers and valgrind.
    std::unique_ptr<char[]> exact(new char[value.size()]);
    std::memcpy(exact.get(), value.data(), value.size());
    std::string_view hay(exact.get(), value.size());
    ASSERT_TRUE(FirstAllMatchesFind(kSet, kNeedles, hay));
    for (std::string_view set : {"\r\n", "(z", "abc", "q(c-"}) {
      for (std::size_t from : {std::size_t{0}, std::size_t{3}, value.size() / 2, value.size()}) {
        ASSERT_EQ(FindFirstOf(hay, set, from), hay.find_first_of(set, from))
            << "value=" << value << " set=" << set << " from=" << from;
      }
    }
  }
}

// A word of the list is always possible, in any case; a word whose length, first or last
// byte no listed word of that length has is not.
TEST(WordShapes, ListedWordsArePossibleOthersByShapeAreNot) {
  WordShapes shapes;
  shapes.Add("select");
  shapes.Add("union");
  shapes.Add("id");
  shapes.Add("");  // ignored
  for (std::string_view w : {"select", "SELECT", "Union", "iD"}) EXPECT_TRUE(shapes.Possible(w));
  for (std::string_view w : {"", "selec", "xelect", "selecx", "unions", "ix", "a"}) {
    EXPECT_FALSE(shapes.Possible(w)) << w;
  }
  EXPECT_TRUE(shapes.Possible("sXXXXt")) << "same shape: the lookup decides";
  const std::string longer(WordShapes::kMaxLen + 1, 'a');
  EXPECT_FALSE(shapes.Possible(longer));
  shapes.Add(longer);
  EXPECT_TRUE(shapes.Possible(std::string(WordShapes::kMaxLen + 5, 'b')));
}

TEST(ByteSet, AgreesWithFindForShortAndLongValues) {
  std::mt19937 rng(29);
  for (int round = 0; round < 500; ++round) {
    // Both sides of the short-value bound, and every byte value.
    std::string value(rng() % (2 * ByteSet::kShortBytes + 2), ' ');
    for (char& c : value) c = static_cast<char>(rng() % 256);
    const ByteSet set(value);
    for (int c = 0; c < 256; ++c) {
      ASSERT_EQ(set.Has(static_cast<char>(c)),
                value.find(static_cast<char>(c)) != std::string::npos)
          << "size=" << value.size() << " byte=" << c;
    }
  }
}

TEST(FindFirstOf, AgreesWithStringFindFirstOfOnRandomInputs) {
  std::mt19937 rng(11);
  const std::string alphabet = "ab\r\n\t <>'\"\x00\x80\xff";
  for (int round = 0; round < 2000; ++round) {
    std::string hay(rng() % 40, ' ');
    for (char& c : hay) c = alphabet[rng() % alphabet.size()];
    std::string set(rng() % 4, ' ');
    for (char& c : set) c = alphabet[rng() % alphabet.size()];
    std::size_t from = rng() % (hay.size() + 2);
    ASSERT_EQ(FindFirstOf(hay, set, from), std::string_view(hay).find_first_of(set, from));
  }
  EXPECT_EQ(FindFirstOf("abc\ndef", '\n'), 3u);
}

// DecodeBase64Run reads either alphabet up to the first byte outside it and stops at the
// output's capacity; what it read is reported.
TEST(Base64Run, DecodesEitherAlphabetUpToTheFirstOtherByte) {
  char out[16];
  std::size_t consumed = 0;
  std::size_t n = DecodeBase64Run("aGVsbG8=rest", out, sizeof(out), &consumed);
  EXPECT_EQ(std::string_view(out, n), "hello");
  EXPECT_EQ(consumed, 7u);                                   // stopped at '='
  n = DecodeBase64Run("-_-_", out, sizeof(out), &consumed);  // URL-safe
  EXPECT_EQ(std::string_view(out, n), "\xfb\xff\xbf");
  n = DecodeBase64Run("+/+/", out, sizeof(out), &consumed);  // standard, same bytes
  EXPECT_EQ(std::string_view(out, n), "\xfb\xff\xbf");
  n = DecodeBase64Run("aGVsbG8gd29ybGQ", out, 4, &consumed);
  EXPECT_EQ(std::string_view(out, n), "hell");
  EXPECT_LT(consumed, 15u);
  EXPECT_EQ(DecodeBase64Run("", out, sizeof(out), &consumed), 0u);
  EXPECT_EQ(consumed, 0u);
}

}  // namespace
}  // namespace shieldx::detect
