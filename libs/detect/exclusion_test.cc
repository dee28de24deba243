#include "libs/detect/exclusion.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libs/detect/inspector.h"
#include "libs/detect/ndjson.h"
#include "libs/detect/profile.h"
#include "libs/detect/test_util.h"

namespace shieldx::detect {
namespace {

using testing::Flagged;
using testing::Get;
using testing::HasCategory;
using testing::InspectWith;
using testing::Post;
using testing::UrlEncode;

std::unique_ptr<Inspector> Make(const std::string& profile_json) {
  auto p = Profile::FromJson(profile_json);
  EXPECT_TRUE(p.ok()) << p.status();
  auto in = Inspector::Create(std::move(*p));
  EXPECT_TRUE(in.ok()) << in.status();
  return std::move(*in);
}

const std::string kSqli = "1' or '1'='1";
const std::string kXss = "<script>alert(document.cookie)</script>";

TEST(FieldSelector, ParsesTheThreeForms) {
  auto all = ParseFieldSelector("cookie");
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_TRUE(all->any_name);
  EXPECT_TRUE(all->Matches(Source::kCookie, "anything"));
  EXPECT_FALSE(all->Matches(Source::kQuery, "anything"));

  auto star = ParseFieldSelector("json:*");
  ASSERT_TRUE(star.ok());
  EXPECT_TRUE(star->any_name);

  auto exact = ParseFieldSelector("query:q");
  ASSERT_TRUE(exact.ok());
  EXPECT_TRUE(exact->Matches(Source::kQuery, "q"));
  EXPECT_FALSE(exact->Matches(Source::kQuery, "qq"));
  EXPECT_FALSE(exact->Matches(Source::kQuery, "Q")) << "argument names compare exactly";
  EXPECT_FALSE(exact->Matches(Source::kBodyForm, "q")) << "the source is part of the selector";

  auto prefix = ParseFieldSelector("json:items.*");
  ASSERT_TRUE(prefix.ok());
  EXPECT_TRUE(prefix->Matches(Source::kJson, "items.0.note"));
  EXPECT_FALSE(prefix->Matches(Source::kJson, "itemsx"));

  auto header = ParseFieldSelector("header:X-Note");
  ASSERT_TRUE(header.ok());
  EXPECT_TRUE(header->Matches(Source::kHeader, "x-note")) << "header names compare without case";
  auto cookie = ParseFieldSelector("cookie:Prefs");
  ASSERT_TRUE(cookie.ok());
  EXPECT_FALSE(cookie->Matches(Source::kCookie, "prefs")) << "cookie names are case-sensitive";
}

TEST(FieldSelector, RejectsWhatIsNotASelector) {
  for (const char* bad :
       {"", "quer:y", "Query:q", "query:", "query:a b", "query:\x01", "headers:x"}) {
    auto s = ParseFieldSelector(bad);
    EXPECT_FALSE(s.ok()) << "\"" << bad << "\"";
  }
  EXPECT_NE(ParseFieldSelector("quer:y").status().message().find("unknown source \"quer\""),
            std::string::npos);
  EXPECT_FALSE(ParseFieldSelector("json:" + std::string(300, 'a')).ok());
  EXPECT_TRUE(ParseFieldSelector("json:" + std::string(256, 'a')).ok());
}

TEST(MakeExclusion, ErrorsNameThePart) {
  auto msg = [](absl::StatusOr<Exclusion> e) { return std::string(e.status().message()); };
  EXPECT_EQ(msg(MakeExclusion("", "", {}, {"xss"}, {})).rfind("id:", 0), 0u);
  EXPECT_EQ(msg(MakeExclusion("a b", "", {}, {"xss"}, {})).rfind("id:", 0), 0u);
  EXPECT_EQ(msg(MakeExclusion(std::string(65, 'a'), "", {}, {"xss"}, {})).rfind("id:", 0), 0u);
  EXPECT_EQ(msg(MakeExclusion("a", "cms", {}, {"xss"}, {})).rfind("path_prefix:", 0), 0u);
  EXPECT_EQ(msg(MakeExclusion("a", "", {"query:q", "bogus"}, {"xss"}, {})).rfind("fields[1]:", 0),
            0u);
  EXPECT_EQ(msg(MakeExclusion("a", "", {}, {"xss", "sql"}, {})).rfind("categories[1]:", 0), 0u);
  EXPECT_EQ(msg(MakeExclusion("a", "", {}, {}, {"xss.script-tag", "*"})).rfind("rules[1]:", 0), 0u);
  EXPECT_EQ(msg(MakeExclusion("a", "", {}, {}, {"bad rule"})).rfind("rules[0]:", 0), 0u);
  // An exclusion must say what it drops.
  EXPECT_NE(msg(MakeExclusion("a", "/x/", {"query:q"}, {}, {})).find("at least one"),
            std::string::npos);
  std::vector<std::string> many(65, "query:q");
  EXPECT_EQ(msg(MakeExclusion("a", "", many, {"xss"}, {})).rfind("fields:", 0), 0u);
  EXPECT_TRUE(MakeExclusion("a.b_c-1", "/x/", {"query:q"}, {"xss"}, {"sqli.*"}).ok());
}

TEST(Exclusion, MatchesByCategoryOrRuleAndField) {
  auto e = MakeExclusion("e", "", {"query:q", "json:notes.*"}, {"xss"}, {"sqli.boolean-*"});
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->Matches(Category::kXss, "xss.script-tag", Source::kQuery, "q"));
  EXPECT_TRUE(e->Matches(Category::kSqli, "sqli.boolean-condition", Source::kJson, "notes.1"));
  EXPECT_FALSE(e->Matches(Category::kSqli, "sqli.union-select", Source::kQuery, "q"));
  EXPECT_FALSE(e->Matches(Category::kXss, "xss.script-tag", Source::kQuery, "other"));
  EXPECT_FALSE(e->Matches(Category::kCmdi, "cmdi.shell", Source::kQuery, "q"));
  auto everywhere = MakeExclusion("e2", "", {}, {}, {"protocol.missing-user-agent"});
  ASSERT_TRUE(everywhere.ok());
  EXPECT_TRUE(everywhere->Matches(Category::kProtocol, "protocol.missing-user-agent",
                                  Source::kRequest, "User-Agent"));
}

TEST(ProfileExclusions, ParseAndRejectWithThePath) {
  auto ok = Profile::FromJson(R"({"exclusions":[
      {"id":"cms","path_prefix":"/admin/","fields":["json:content"],"categories":["xss"]},
      {"id":"ua","rules":["protocol.missing-user-agent"]}]})");
  ASSERT_TRUE(ok.ok()) << ok.status();
  ASSERT_EQ(ok->exclusions.size(), 2u);
  EXPECT_EQ(ok->exclusions[0].path_prefix, "/admin/");
  EXPECT_EQ(ok->exclusions[1].rules.size(), 1u);

  struct Case {
    const char* json;
    const char* error_start;
  };
  for (const Case& c : {
           Case{R"({"exclusions":{}})", "profile.exclusions: expected an array"},
           Case{R"({"exclusions":[1]})", "profile.exclusions[0]: expected an object"},
           Case{R"({"exclusions":[{"id":"a","categories":["xss"],"why":1}]})",
                "profile.exclusions[0]: unknown key \"why\""},
           Case{R"({"exclusions":[{"id":"a","categories":"xss"}]})",
                "profile.exclusions[0].categories: expected an array"},
           Case{R"({"exclusions":[{"id":"a","fields":[3],"categories":["xss"]}]})",
                "profile.exclusions[0].fields[0]: expected a string"},
           Case{R"({"exclusions":[{"id":7,"categories":["xss"]}]})",
                "profile.exclusions[0].id: expected a string"},
           Case{R"({"exclusions":[{"id":"a","fields":["query:q"]}]})",
                "profile.exclusions[0].categories / rules"},
           Case{R"({"exclusions":[{"id":"a","categories":["xss"]},{"id":"a","rules":["x"]}]})",
                "profile.exclusions[1].id: duplicate \"a\""},
       }) {
    auto p = Profile::FromJson(c.json);
    ASSERT_FALSE(p.ok()) << c.json;
    EXPECT_EQ(std::string(p.status().message()).rfind(c.error_start, 0), 0u)
        << c.json << " -> " << p.status();
  }
  std::string many = R"({"exclusions":[)";
  for (int i = 0; i < 257; ++i) {
    many += (i ? "," : "") + std::string(R"({"id":"e)") + std::to_string(i) +
            R"(","categories":["xss"]})";
  }
  many += "]}";
  EXPECT_FALSE(Profile::FromJson(many).ok()) << "257 exclusions exceed the limit";
}

// The exclusion drops its field's findings of its category, names itself in the verdict, and
// changes nothing for another field, another category or another path.
TEST(InspectorExclusions, DropOnlyWhatTheyName) {
  auto in = Make(R"({"exclusions":[
      {"id":"search-sql","path_prefix":"/search","fields":["query:q"],"categories":["sqli"]}]})");
  Verdict plain = InspectWith(*in, Get("/search?q=" + UrlEncode(kSqli)));
  EXPECT_FALSE(Flagged(plain)) << plain.explanation;
  EXPECT_EQ(plain.excluded_by, std::vector<std::string>{"search-sql"});
  EXPECT_GE(plain.excluded_findings, 1u);
  EXPECT_NE(plain.explanation.find("excluded by search-sql"), std::string::npos)
      << plain.explanation;

  // The same payload without the profile is blocked.
  Verdict unexcluded = testing::Inspect(Get("/search?q=" + UrlEncode(kSqli)));
  EXPECT_TRUE(Flagged(unexcluded));
  EXPECT_TRUE(unexcluded.excluded_by.empty());
  EXPECT_EQ(unexcluded.excluded_findings, 0u);

  EXPECT_TRUE(Flagged(InspectWith(*in, Get("/search?other=" + UrlEncode(kSqli)))))
      << "another field";
  EXPECT_TRUE(Flagged(InspectWith(*in, Get("/search?q=" + UrlEncode(kXss))))) << "another category";
  EXPECT_TRUE(Flagged(InspectWith(*in, Get("/account?q=" + UrlEncode(kSqli))))) << "another path";
  Verdict both = InspectWith(*in, Get("/search?q=" + UrlEncode(kSqli) + "&x=" + UrlEncode(kXss)));
  EXPECT_TRUE(Flagged(both));
  EXPECT_TRUE(HasCategory(both, Category::kXss));
  EXPECT_FALSE(HasCategory(both, Category::kSqli));
  EXPECT_EQ(both.excluded_by, std::vector<std::string>{"search-sql"});
}

TEST(InspectorExclusions, RulePrefixesHeadersAndRequestLevelFindings) {
  auto in = Make(R"({"exclusions":[
      {"id":"rich-text","fields":["json:body.*"],"rules":["xss.*"]},
      {"id":"note-header","fields":["header:x-note"],"categories":["xss"]},
      {"id":"no-ua","rules":["protocol.missing-user-agent"]}]})");
  Verdict json = InspectWith(*in, Post("/post", "application/json",
                                       R"({"body":{"html":")" + kXss + R"("},"title":"hello"})"));
  EXPECT_FALSE(Flagged(json)) << json.explanation;
  Verdict other =
      InspectWith(*in, Post("/post", "application/json", R"({"title":")" + kXss + R"("})"));
  EXPECT_TRUE(Flagged(other));

  OwnedHttpRequest h = Get("/page");
  h.headers.emplace_back("X-NOTE", kXss);
  Verdict hv = InspectWith(*in, h);
  EXPECT_FALSE(Flagged(hv)) << hv.explanation;
  EXPECT_EQ(hv.excluded_by, std::vector<std::string>{"note-header"});

  OwnedHttpRequest no_ua = Get("/page");
  no_ua.headers = {{"Host", "shop.example"}};
  Verdict nv = InspectWith(*in, no_ua);
  for (const Finding& f : nv.findings) EXPECT_NE(f.rule, "protocol.missing-user-agent");
  EXPECT_EQ(nv.excluded_by, std::vector<std::string>{"no-ua"});
  EXPECT_EQ(nv.excluded_findings, 1u);
}

// The orchestrator passes a route's exclusions per call: they apply to that call only, after
// the profile's, and never leak into the next request on the same Scratch.
TEST(InspectorExclusions, CallerExclusionsApplyToTheirCallOnly) {
  const Inspector& in = testing::DefaultInspector();
  auto scratch = in.NewScratch();
  std::vector<Exclusion> route;
  route.push_back(*MakeExclusion("route-q", "", {"query:q"}, {"sqli"}, {}));
  OwnedHttpRequest r = Get("/search?q=" + UrlEncode(kSqli));
  Verdict with = in.Inspect(r.view(), *scratch, route);
  EXPECT_FALSE(Flagged(with)) << with.explanation;
  EXPECT_EQ(with.excluded_by, std::vector<std::string>{"route-q"});
  Verdict without = in.Inspect(r.view(), *scratch);
  EXPECT_TRUE(Flagged(without));
  EXPECT_TRUE(without.excluded_by.empty());
}

// A header value is clean under an exclusion only because its findings were dropped: it must
// not be remembered as clean (inspector.cc's header memory) and waved through later.
TEST(InspectorExclusions, AValueCleanOnlyBecauseOfAnExclusionIsNotRemembered) {
  const Inspector& in = testing::DefaultInspector();
  auto scratch = in.NewScratch();
  std::vector<Exclusion> route;
  route.push_back(*MakeExclusion("preview", "", {"header:x-preview"}, {"xss"}, {}));
  OwnedHttpRequest r = Get("/page");
  r.headers.emplace_back("X-Preview", kXss);
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(Flagged(in.Inspect(r.view(), *scratch, route)));
  EXPECT_TRUE(Flagged(in.Inspect(r.view(), *scratch)));
}

TEST(InspectorExclusions, VerdictLineNamesThemOnlyWhenTheyFired) {
  auto in = Make(R"({"exclusions":[{"id":"q-sql","fields":["query:q"],"categories":["sqli"]}]})");
  std::string fired =
      VerdictJson("r1", InspectWith(*in, Get("/s?q=" + UrlEncode(kSqli))), 5, false);
  EXPECT_NE(fired.find(R"("excluded":{"findings":)"), std::string::npos) << fired;
  EXPECT_NE(fired.find(R"("by":["q-sql"])"), std::string::npos) << fired;
  std::string quiet = VerdictJson("r2", InspectWith(*in, Get("/s?q=shoes")), 5, false);
  EXPECT_EQ(quiet.find("excluded"), std::string::npos) << quiet;
}

}  // namespace
}  // namespace shieldx::detect
