#include "services/contauth/model/eval_runner.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/testing/status_matchers.h"
#include "nlohmann/json.hpp"
#include "services/contauth/model/ndjson.h"
#include "services/contauth/model/test_util.h"

namespace shieldx::contauth {
namespace {

using ::shieldx::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

std::string Line(const KeystrokeSample& s) {
  nlohmann::json events = nlohmann::json::array();
  for (const KeyEvent& e : s.events) {
    events.push_back({{"key", e.key}, {"down_ms", e.down_ms}, {"up_ms", e.up_ms}});
  }
  return nlohmann::json{
      {"tenant", s.tenant},       {"user", s.user},
      {"sample_id", s.sample_id}, {"phase", s.phase == SamplePhase::kEnroll ? "enroll" : "probe"},
      {"label", "genuine"},       {"events", events}}
      .dump();
}

std::vector<std::string> EnrollLines(const std::string& tenant, const std::string& user,
                                     uint32_t seed, int n) {
  testing::SyntheticTypist typist(".tie5Roanl", seed);
  std::vector<std::string> lines;
  for (int i = 0; i < n; ++i) {
    lines.push_back(
        Line(typist.Sample(tenant, user, absl::StrCat(tenant, user, i), SamplePhase::kEnroll)));
  }
  return lines;
}

// Runs `lines` through a fresh runner; returns the output lines (errors fail the test).
std::vector<std::string> RunLines(const std::vector<std::string>& lines) {
  KeystrokeModel model{KeystrokeModelConfig{}};
  EvalRunner runner(&model);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    auto r = runner.ProcessLine(lines[i], i + 1);
    EXPECT_TRUE(r.ok()) << r.status();
    if (r.ok() && r->has_value()) out.push_back(**r);
  }
  return out;
}

TEST(EvalRunner, ProbeDoesNotChangeTheProfile) {
  KeystrokeModel model{KeystrokeModelConfig{}};
  EvalRunner runner(&model);
  std::size_t n = 0;
  for (const std::string& l : EnrollLines("a", "u1", 1, 12))
    ASSERT_OK(runner.ProcessLine(l, ++n).status());
  const std::string before = SerializeProfile(*runner.FindProfile("a", "u1"));
  testing::SyntheticTypist typist(".tie5Roanl", 1);
  for (int i = 0; i < 5; ++i) {
    auto out = runner.ProcessLine(
        Line(typist.Sample("a", "u1", absl::StrCat("p", i), SamplePhase::kProbe)), ++n);
    ASSERT_OK(out.status());
    ASSERT_TRUE(out->has_value());
    const auto j = nlohmann::json::parse(**out);
    EXPECT_EQ(j["sample_id"], absl::StrCat("p", i));
    EXPECT_EQ(j["user"], "u1");
    EXPECT_GE(j["score"].get<double>(), 0.0);
    EXPECT_LE(j["score"].get<double>(), 1.0);
  }
  EXPECT_EQ(SerializeProfile(*runner.FindProfile("a", "u1")), before);
}

TEST(EvalRunner, TenantsAreIsolated) {
  // Tenant "a" has u1, u2, u3, u4; tenant "b" has a different "u1" (and others).
  std::vector<std::string> a_only;
  for (int u = 1; u <= 4; ++u) {
    for (const std::string& l : EnrollLines("a", absl::StrCat("u", u), 10 + u, 12))
      a_only.push_back(l);
  }
  std::vector<std::string> b_lines;
  for (int u = 1; u <= 4; ++u) {
    for (const std::string& l : EnrollLines("b", absl::StrCat("u", u), 50 + u, 12))
      b_lines.push_back(l);
  }
  testing::SyntheticTypist a_u1(".tie5Roanl", 11);
  std::vector<std::string> probes;
  for (int i = 0; i < 5; ++i)
    probes.push_back(Line(a_u1.Sample("a", "u1", absl::StrCat("pa", i), SamplePhase::kProbe)));

  std::vector<std::string> alone = a_only, mixed = a_only;
  alone.insert(alone.end(), probes.begin(), probes.end());
  mixed.insert(mixed.end(), b_lines.begin(), b_lines.end());
  mixed.insert(mixed.end(), probes.begin(), probes.end());
  // Tenant b's users (same ids) change neither a's profiles nor a's background.
  EXPECT_EQ(RunLines(alone), RunLines(mixed));

  // A user enrolled only in tenant a cannot be probed in tenant c.
  KeystrokeModel model{KeystrokeModelConfig{}};
  EvalRunner runner(&model);
  std::size_t n = 0;
  for (const std::string& l : a_only) ASSERT_OK(runner.ProcessLine(l, ++n).status());
  EXPECT_THAT(runner.ProcessLine(Line(a_u1.Sample("c", "u1", "pc", SamplePhase::kProbe)), 99),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("line 99"), HasSubstr("sample pc"), HasSubstr("tenant c"))));
  EXPECT_EQ(runner.FindProfile("c", "u1"), nullptr);
}

TEST(EvalRunner, MalformedLinesAreRejectedWithLineAndSample) {
  KeystrokeModel model{KeystrokeModelConfig{}};
  EvalRunner runner(&model);
  struct Case {
    std::string line;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {"{not json", "line 1: malformed JSON"},
      {"[1,2]", "not a JSON object"},
      {R"({"tenant":"a","user":"u","phase":"enroll","events":[]})", "sample_id"},
      {R"({"tenant":"a","user":"u","sample_id":"s1","phase":"enroll"})",
       "sample s1: field \"events\""},
      {R"({"tenant":"a","user":"u","sample_id":"s2","phase":"train","events":[]})",
       "sample s2: phase"},
      {R"({"tenant":5,"user":"u","sample_id":"s3","phase":"enroll","events":[]})",
       "sample s3: field \"tenant\""},
      {R"({"tenant":"a","user":"u","sample_id":"s4","phase":"enroll","events":[{"key":"a","down_ms":"0","up_ms":1}]})",
       "sample s4: event 0"},
      {R"({"tenant":"a","user":"u","sample_id":"s5","phase":"enroll","events":[{"key":"a","down_ms":10,"up_ms":5}]})",
       "sample s5: event 0 (key \"a\"): up_ms 5 < down_ms 10"},
      {R"({"tenant":"a","user":"u","sample_id":"s6","phase":"enroll","events":[{"key":"a","down_ms":0,"up_ms":1e300}]})",
       "sample s6"},
      {R"({"tenant":"a","user":"u","sample_id":"s7","phase":"enroll","events":{"key":"a"}})",
       "sample s7"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    auto r = runner.ProcessLine(cases[i].line, i == 0 ? 1 : i + 1);
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(cases[i].expect)))
        << cases[i].line;
  }
  EXPECT_EQ(runner.FindProfile("a", "u"), nullptr);  // nothing was enrolled
  // Blank lines are skipped; an oversized line is rejected before parsing.
  ASSERT_OK_AND_ASSIGN(auto blank, runner.ProcessLine("  \r", 20));
  EXPECT_FALSE(blank.has_value());
  EXPECT_THAT(runner.ProcessLine(std::string(kMaxNdjsonLineBytes + 1, ' '), 21),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("line 21: line of")));
}

TEST(EvalRunner, ProbeBeforeEnoughEnrollmentFailsButLaterProbesWork) {
  KeystrokeModel model{KeystrokeModelConfig{}};
  EvalRunner runner(&model);
  auto lines = EnrollLines("a", "u1", 3, 12);
  testing::SyntheticTypist t(".tie5Roanl", 3);
  const std::string probe = Line(t.Sample("a", "u1", "early", SamplePhase::kProbe));
  std::size_t n = 0;
  for (int i = 0; i < 3; ++i) ASSERT_OK(runner.ProcessLine(lines[i], ++n).status());
  EXPECT_THAT(runner.ProcessLine(probe, ++n),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("sample early")));
  for (std::size_t i = 3; i < lines.size(); ++i)
    ASSERT_OK(runner.ProcessLine(lines[i], ++n).status());
  ASSERT_OK_AND_ASSIGN(auto out, runner.ProcessLine(probe, ++n));
  EXPECT_TRUE(out.has_value());
}

}  // namespace
}  // namespace shieldx::contauth
