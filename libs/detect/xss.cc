// XSS: an HTML tokenizer over the value (tags, attributes, event handlers, URL attributes,
// style), attribute-context breaks (a quote followed by an event handler), JavaScript URLs
// and JavaScript-context breaks (a quote or statement boundary followed by a call of a sink
// such as alert/eval/fetch, with string concatenation collapsed first).
#include <algorithm>
#include <array>
#include <cstring>
#include <iterator>
#include <optional>

#include "libs/detect/detector.h"
#include "libs/detect/limits.h"
#include "libs/detect/normalize.h"
#include "libs/detect/text_util.h"

namespace shieldx::detect {
namespace {

bool InList(std::string_view w, std::initializer_list<std::string_view> list) {
  for (std::string_view x : list) {
    if (w == x) return true;
  }
  return false;
}

// Tags whose mere presence executes or loads active content.
float DangerousTagScore(std::string_view tag) {
  if (tag == "script") return 0.95f;
  if (InList(tag, {"iframe", "frame", "frameset", "object", "embed", "applet", "portal", "import",
                   "isindex", "xss", "vmlframe"})) {
    return 0.85f;
  }
  if (InList(tag, {"meta",          "base",          "link",     "style",
                   "svg",           "math",          "template", "xml",
                   "bgsound",       "layer",         "ilayer",   "handler",
                   "listener",      "set",           "animate",  "animatetransform",
                   "animatemotion", "foreignobject", "xmp",      "noembed",
                   "noscript",      "plaintext",     "image",    "video",
                   "audio",         "source",        "form",     "button",
                   "input",         "textarea",      "select",   "keygen",
                   "marquee",       "details",       "dialog",   "body",
                   "html",          "head",          "title"})) {
    return 0.45f;
  }
  return 0.35f;
}

bool IsUrlAttr(std::string_view a) {
  return InList(
      a, {"href",     "src",      "action",     "formaction", "data",     "background", "lowsrc",
          "dynsrc",   "poster",   "xlink:href", "codebase",   "code",     "srcset",     "content",
          "to",       "from",     "values",     "by",         "location", "ping",       "cite",
          "longdesc", "manifest", "icon",       "archive",    "classid",  "url",        "style"});
}

// `in` without its spaces and tabs, copied into `buf`; false when that does not fit.
bool WithoutBlanks(std::string_view in, char (&buf)[16], std::string_view* out) {
  std::size_t n = 0;
  for (char c : in) {
    if (c == ' ' || c == '\t') continue;
    if (n == sizeof(buf)) return false;
    buf[n++] = c;
  }
  *out = std::string_view(buf, n);
  return true;
}

// "javascript:void(0)", "javascript: void 0;", "javascript:;" (the text after the colon, up
// to the URL's end): the no-op links behind every page's menus and buttons. They run
// nothing; "javascript:" alone stays a probe.
bool NoOpScriptUrl(std::string_view after_colon) {
  char buf[16];
  std::string_view t;
  if (!WithoutBlanks(after_colon.substr(0, FindFirstOf(after_colon, "\"'>`")), buf, &t)) {
    return false;
  }
  return t == ";" || t == "void(0)" || t == "void(0);" || t == "void0" || t == "void0;";
}

// An event handler's quoted value that does nothing: "return false;", "return true",
// "void(0)", ";" or nothing, as editors and templates leave on links and buttons.
bool NoOpHandler(std::string_view value) {
  char buf[16];
  std::string_view t;
  if (!WithoutBlanks(value, buf, &t)) return false;
  if (!t.empty() && t.back() == ';') t.remove_suffix(1);
  return t.empty() || t == "returnfalse" || t == "returntrue" || t == "void(0)" || t == "void0";
}

// Strips characters browsers ignore inside a URL scheme ("java\tscript:").
bool HasScriptScheme(std::string_view v, std::size_t* scheme_len) {
  char buf[16];
  std::size_t n = 0;
  std::size_t i = 0;
  while (i < v.size() && (IsSpaceChar(static_cast<unsigned char>(v[i])) ||
                          static_cast<unsigned char>(v[i]) < 0x20)) {
    ++i;
  }
  for (; i < v.size() && n < sizeof(buf); ++i) {
    unsigned char c = static_cast<unsigned char>(v[i]);
    if (c == '\t' || c == '\n' || c == '\r' || c < 0x20) continue;
    buf[n++] = ToLowerAscii(static_cast<char>(c));
    if (c == ':') break;
  }
  std::string_view s(buf, n);
  *scheme_len = i;
  return s == "javascript:" || s == "vbscript:" || s == "livescript:" || s == "mocha:" ||
         s == "jscript:";
}

bool HasActiveDataUri(std::string_view lower_v) {
  std::size_t i = SkipSpaces(lower_v, 0);
  lower_v = lower_v.substr(i);
  return StartsWith(lower_v, "data:text/html") || StartsWith(lower_v, "data:image/svg") ||
         StartsWith(lower_v, "data:application/x-javascript") ||
         StartsWith(lower_v, "data:text/javascript") ||
         StartsWith(lower_v, "data:application/xhtml") ||
         (StartsWith(lower_v, "data:") && Find(lower_v, ";base64,") != std::string_view::npos &&
          Find(lower_v, "script") != std::string_view::npos);
}

bool StyleIsActive(std::string_view lower_v) {
  return Find(lower_v, "expression(") != std::string_view::npos ||
         Find(lower_v, "expression (") != std::string_view::npos ||
         Find(lower_v, "javascript:") != std::string_view::npos ||
         Find(lower_v, "vbscript:") != std::string_view::npos ||
         Find(lower_v, "-moz-binding") != std::string_view::npos ||
         Find(lower_v, "behavior:") != std::string_view::npos ||
         Find(lower_v, "behaviour:") != std::string_view::npos ||
         Find(lower_v, "@import") != std::string_view::npos ||
         Find(lower_v, "@im\\port") != std::string_view::npos;
}

// Event handler attribute name: on + letters (onload, onerror, onpointerenter ...).
bool IsEventHandler(std::string_view a) {
  if (a.size() < 5 || a[0] != 'o' || a[1] != 'n') return false;
  for (std::size_t i = 2; i < a.size(); ++i) {
    if (!IsAsciiAlpha(static_cast<unsigned char>(a[i])) && a[i] != '-' && a[i] != '_') {
      return false;
    }
  }
  return true;
}

struct TagScan {
  float score = 0;
  const char* rule = "";
  std::size_t pos = 0;
  std::size_t len = 0;
};

void Up(TagScan* r, float s, const char* rule, std::size_t pos, std::size_t len) {
  if (s > r->score) {
    r->score = s;
    r->rule = rule;
    r->pos = pos;
    r->len = len;
  }
}

// The inline style a rich-text editor writes: "prop: value; prop: value" with plain values
// (words, numbers, units, #colours, rgb()/hsl(), quoted font names). Anything else in a
// style attribute (url(), bindings, braces, brackets, comments, escapes, entities, stray
// quotes) is how CSS parser confusion and style-based injection work, and is not passive.
bool IsPassiveInlineStyle(std::string_view v) {
  std::size_t i = 0;
  const std::size_t n = v.size();
  while (i < n) {
    i = SkipSpaces(v, i);
    if (i >= n) break;
    if (v[i] == ';') {
      ++i;
      continue;
    }
    std::size_t ps = i;
    while (i < n && (IsAsciiAlpha(static_cast<unsigned char>(v[i])) || v[i] == '-')) ++i;
    if (i == ps) return false;
    i = SkipSpaces(v, i);
    if (i >= n || v[i] != ':') return false;
    ++i;
    char quote = '\0';
    while (i < n && (quote != '\0' || v[i] != ';')) {
      unsigned char c = static_cast<unsigned char>(v[i]);
      if (quote != '\0') {
        if (c == static_cast<unsigned char>(quote)) {
          quote = '\0';
          if (i + 1 < n && !(IsSpaceChar(static_cast<unsigned char>(v[i + 1])) || v[i + 1] == ',' ||
                             v[i + 1] == ';')) {
            return false;
          }
        } else if (!(IsAsciiAlnum(c) || c == ' ' || c == '-')) {
          return false;
        }
      } else if (c == '\'' || c == '"') {
        char prev = v[i - 1];
        if (!(IsSpaceChar(static_cast<unsigned char>(prev)) || prev == ':' || prev == ',')) {
          return false;
        }
        quote = static_cast<char>(c);
      } else if (c == '(') {
        std::size_t b = i;
        while (b > 0 && IsAsciiAlpha(static_cast<unsigned char>(v[b - 1]))) --b;
        std::string_view fn = v.substr(b, i - b);
        if (fn != "rgb" && fn != "rgba" && fn != "hsl" && fn != "hsla") return false;
      } else if (!(IsAsciiAlnum(c) || IsSpaceChar(c) || c == '#' || c == '%' || c == '.' ||
                   c == ',' || c == '-' || c == ')' || c == '!')) {
        return false;
      }
      ++i;
    }
    if (quote != '\0') return false;
  }
  return true;
}

// HTML (and SVG/MathML) elements that load, submit, run, restyle or change parsing: never
// inert as an unknown element is. (Media, labels and SVG shapes are judged by their
// attributes in IsEditorMarkup.)
// clang-format off
constexpr std::string_view kActiveElements[] = {
    "form", "input", "button", "textarea", "select", "option", "iframe", "frame", "frameset",
    "object", "embed", "applet", "meta", "base", "link", "script", "style", "math", "body",
    "html", "head", "title", "marquee", "details", "dialog", "template", "isindex", "keygen",
    "area", "map", "portal", "animate", "set", "use", "image", "xml", "import", "bgsound",
    "layer", "ilayer", "xmp", "noscript", "plaintext", "listing", "noembed", "noframes", "slot",
    "fieldset", "legend", "output", "datalist", "menu", "menuitem", "canvas", "param", "command",
    "handler", "listener", "foreignobject", "animatetransform", "animatemotion", "feimage",
    "script:", "vmlframe"};
// clang-format on

// A relative reference with no scheme: "page.html", "../", "docs/intro", "?page=2". It
// resolves against the page, so it cannot name a script scheme or another host. A bare word
// ("<img src=\"x\">") names no file: that is the shape of a reflection probe.
bool RelativeReference(std::string_view value) {
  if (value.empty() || value.size() > 256 || value[0] == '/' || value[0] == '\\') return false;
  bool file_or_path = false;
  for (char c : value) {
    if (c == '/' || c == '?' || c == '#') return true;
    if (c == ':' || c == '\\' || c == '&' || c == '<' ||
        IsSpaceChar(static_cast<unsigned char>(c)) || static_cast<unsigned char>(c) < 0x20) {
      return false;
    }
    file_or_path = file_or_path || c == '.';
  }
  return file_or_path;
}

// What a rich-text editor (comment boxes, CMS forms, wiki and ticket editors) sends: a
// formatting, link or image element whose attribute is quoted and inert, a link or image
// to an http(s), site-relative or relative URL, layout and labelling attributes, passive
// inline CSS.
// Such markup renders text, a link or a picture and runs nothing; the user wrote it on
// purpose. A script needs a handler, a script URL, an active element or a broken-out
// context, which the other rules judge.
bool IsEditorMarkup(std::string_view tag, std::string_view attr, std::string_view value,
                    bool quoted) {
  if (!quoted || FindFirstOf(value, "<>\\") != std::string_view::npos) return false;
  bool text_tag = InList(
      tag,
      {"a", "img", "p", "span", "div", "pre", "code", "b", "i", "u", "s", "em", "strong", "small",
       "sub", "sup", "mark", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "table", "thead",
       "tbody", "tr", "td", "th", "br", "hr", "figure", "figcaption", "font", "abbr", "cite", "q",
       "del", "ins", "dl", "dt", "dd", "caption", "kbd", "blockquote",
       // Sectioning and the rest of the inert phrasing and table elements.
       "section", "article", "header", "footer", "nav", "main", "aside", "address", "time",
       "center", "tt", "strike", "big", "var", "samp", "dfn", "wbr", "col", "colgroup", "tfoot",
       // Media an editor embeds, and labels: they play or name, with web URLs.
       "video", "audio", "source", "track", "picture", "label",
       // Inline SVG icons: shapes and paints (no script, link, animation or foreign content).
       "svg", "path", "g", "circle", "rect", "line", "polyline", "polygon", "ellipse", "defs",
       "lineargradient", "radialgradient", "stop", "clippath"});
  // A task list's checkbox ("<input type=\"checkbox\" checked disabled>"): only its type,
  // and only a box, is editor markup; any other input is a form control.
  if (tag == "input") {
    return (attr == "type" && (value == "checkbox" || value == "radio")) || attr == "class" ||
           StartsWith(attr, "data-");
  }
  // The SVG namespace itself, on the svg element.
  if (attr == "xmlns") return tag == "svg" && value == "http://www.w3.org/2000/svg";
  if (!text_tag) {
    // A name no HTML parser gives a behaviour to (an XML sample "<item sku=\"A1\"/>", a
    // template's own element) renders as an inert inline box; its ordinary attributes carry
    // no URL, style or handler. HTML elements that do something are never inert here.
    const bool active = std::find(std::begin(kActiveElements), std::end(kActiveElements), tag) !=
                        std::end(kActiveElements);
    bool name = !tag.empty() && IsAsciiAlpha(static_cast<unsigned char>(tag[0]));
    for (char c : tag) {
      name = name && (IsAsciiAlnum(static_cast<unsigned char>(c)) || c == '-' || c == '_');
    }
    return name && !active && !IsUrlAttr(attr) && !IsEventHandler(attr) && attr != "is" &&
           !StartsWith(attr, "xmlns") && Find(attr, ':') == std::string_view::npos;
  }
  // Editors paste pictures inline as raster data: URIs (an SVG image can carry script).
  if (tag == "img" && attr == "src" && StartsWith(value, "data:image/") &&
      !HasActiveDataUri(value)) {
    return true;
  }
  std::size_t scheme_len = 0;
  if (attr == "href" && HasScriptScheme(value, &scheme_len) &&
      NoOpScriptUrl(value.substr(std::min(value.size(), scheme_len + 1)))) {
    return true;  // a menu or button placeholder link
  }
  if (attr == "href" || attr == "src" || attr == "poster") {
    bool web = StartsWith(value, "https://") || StartsWith(value, "http://") ||
               (StartsWith(value, "/") && !StartsWith(value, "//")) || StartsWith(value, "#") ||
               (attr == "href" && (StartsWith(value, "mailto:") || StartsWith(value, "tel:") ||
                                   StartsWith(value, "sms:")));
    return web || RelativeReference(value);
  }
  if (attr == "style") return IsPassiveInlineStyle(value);
  if (StartsWith(attr, "data-") || StartsWith(attr, "aria-")) return true;
  // onclick="return false;" on a link or button: a handler that does nothing.
  if (IsEventHandler(attr)) return NoOpHandler(value);
  return InList(attr, {"alt", "title", "class", "id", "width", "height", "target", "rel", "lang",
                       "dir", "colspan", "rowspan", "align", "valign", "border", "color", "face",
                       "size", "start", "cellpadding", "cellspacing", "hreflang", "loading",
                       // Anchors, list numbering, table semantics, dates, roles.
                       "name", "type", "reversed", "value", "scope", "headers", "summary",
                       "datetime", "role", "translate", "spellcheck", "nowrap", "bgcolor", "span",
                       // Media, labels and SVG shapes.
                       "preload", "kind", "srclang", "label", "for", "viewbox", "d", "fill",
                       "stroke", "stroke-width", "stroke-linecap", "stroke-linejoin", "fill-rule",
                       "clip-rule", "cx", "cy", "r", "rx", "ry", "x", "y", "x1", "y1", "x2", "y2",
                       "points", "transform", "opacity", "offset", "stop-color", "focusable"});
}

// Parses the attributes of a tag starting at `i` (after the name) in `lower`.
// `last_gt`: where the value's last '>' is (npos without one). `lower` may end before the
// value does (ScanTags' budget); returns where the walk stopped, and counts the attributes
// read into `*attributes`.
std::size_t ScanAttributes(std::string_view lower, std::size_t i, std::size_t tag_start,
                           std::string_view tag, std::size_t last_gt, std::size_t* attributes,
                           TagScan* r) {
  const std::size_t n = lower.size();
  bool has_src = false;
  // "<https://host/page?id=1>": a URL in angle brackets (mail, tickets, release notes). Its
  // "?id=" is no attribute; real ones after it still count ("<https://x/onmouseover=...>").
  const bool autolink = tag == "http:" || tag == "https:" || tag == "ftp:";
  while (i < n) {
    // separators: whitespace, '/', quotes junk
    while (i < n && (IsSpaceChar(static_cast<unsigned char>(lower[i])) || lower[i] == '/' ||
                     lower[i] == '"' || lower[i] == '\'' || lower[i] == '`')) {
      ++i;
    }
    if (i >= n || lower[i] == '>' || lower[i] == '<') return i;
    std::size_t an = i;
    ++*attributes;
    while (i < n && !IsSpaceChar(static_cast<unsigned char>(lower[i])) && lower[i] != '=' &&
           lower[i] != '>' && lower[i] != '/' && lower[i] != '<') {
      ++i;
    }
    std::string_view attr = lower.substr(an, i - an);
    // <base href> re-roots every relative script URL of the page; <link href> loads
    // stylesheets and imports. Either is enough, whatever follows the name.
    if (attr == "href" && (tag == "base" || tag == "link")) {
      Up(r, 0.7f, "xss.base-link", tag_start, i - tag_start);
    }
    std::size_t j = SkipSpaces(lower, i);
    if (j >= n || lower[j] != '=') {
      i = j > i ? j : i + (i < n && lower[i] == '/' ? 1 : 0);
      if (i == an) ++i;
      continue;
    }
    j = SkipSpaces(lower, j + 1);
    std::string_view value;
    bool quoted = j < n && (lower[j] == '"' || lower[j] == '\'');
    bool closed = !quoted;  // a quoted value has its closing quote
    if (j < n && (lower[j] == '"' || lower[j] == '\'' || lower[j] == '`')) {
      char q = lower[j];
      std::size_t end = Find(lower, q, j + 1);
      closed = end != std::string_view::npos;
      if (end == std::string_view::npos) end = n;
      value = lower.substr(j + 1, end - j - 1);
      i = end < n ? end + 1 : n;
    } else {
      std::size_t vs = j;
      while (j < n && !IsSpaceChar(static_cast<unsigned char>(lower[j])) && lower[j] != '>') ++j;
      value = lower.substr(vs, j - vs);
      i = j;
    }
    std::size_t span = i - tag_start;
    // A complete tag with attributes is HTML injection even without script in it.
    if (!autolink && !IsEditorMarkup(tag, attr, value, quoted && closed) &&
        last_gt != std::string_view::npos && last_gt >= (i > 0 ? i - 1 : 0)) {
      Up(r, 0.5f, "xss.html-injection", tag_start, span);
    }
    if (IsEventHandler(attr)) {
      if (!quoted || !closed || !NoOpHandler(value)) {
        Up(r, 0.9f, "xss.event-handler", tag_start, span);
      }
    } else if (IsUrlAttr(attr)) {
      std::size_t sl;
      if (HasScriptScheme(value, &sl)) {
        if (!NoOpScriptUrl(value.substr(std::min(value.size(), sl + 1)))) {
          Up(r, 0.92f, "xss.script-url", tag_start, span);
        }
      } else if (HasActiveDataUri(value))
        Up(r, 0.85f, "xss.data-uri", tag_start, span);
      if (attr == "style" && StyleIsActive(value)) Up(r, 0.85f, "xss.style", tag_start, span);
      if (attr == "src" || attr == "data" || attr == "href" || attr == "action" ||
          attr == "formaction") {
        has_src = true;
      }
      if (tag == "meta" && attr == "content" && Find(value, "url") != std::string_view::npos) {
        Up(r, 0.8f, "xss.meta-refresh", tag_start, span);
      }
    } else if (attr == "srcdoc") {
      Up(r, 0.85f, "xss.srcdoc", tag_start, span);
    } else if (attr == "http-equiv") {
      Up(r, 0.8f, "xss.meta-refresh", tag_start, span);
    }
  }
  (void)has_src;
  return i;
}

// Two plain words side by side on one line ("tags in a template", "is escaped"): in a
// script that is a syntax error (a keyword or an operator word such as "in" can sit next to
// a name: "var x", "new Image", "a in b"), so text after a tag that reads this way is prose
// about the tag. Looks at the first few words only.
bool ProseFollows(std::string_view lower, std::size_t i) {
  const std::size_t n = lower.size();
  // A CJK sentence goes on ("用 <script> 标签引入 ..."): no script body starts with a phrase.
  {
    std::size_t j = i;
    while (j < n && (lower[j] == ' ' || lower[j] == '\t')) ++j;
    if (CjkPhraseAt(lower, j)) return true;
  }
  std::string_view prev;
  for (int words = 0; words < 6; ++words) {
    bool gap = false;
    while (i < n && (lower[i] == ' ' || lower[i] == '\t')) {
      ++i;
      gap = true;
    }
    std::size_t a = i;
    while (i < n && IsAsciiAlpha(static_cast<unsigned char>(lower[i]))) ++i;
    std::string_view w = lower.substr(a, i - a);
    if (w.empty() || (words > 0 && !gap)) return false;
    // An English contraction ("doesn't", "isn't", "it's"): a name glued to a string in a
    // script, a syntax error there too; the word goes on after it.
    if (i + 2 < n && lower[i] == '\'' && IsAsciiAlpha(static_cast<unsigned char>(lower[i + 1]))) {
      std::size_t k = i + 1;
      while (k < n && k < i + 3 && IsAsciiAlpha(static_cast<unsigned char>(lower[k]))) ++k;
      const std::string_view tail = lower.substr(i + 1, k - i - 1);
      if ((k >= n || lower[k] == ' ') &&
          (tail == "t" || tail == "s" || tail == "re" || tail == "ll" || tail == "ve" ||
           tail == "d" || tail == "m")) {
        i = k;
      }
    }
    // "escape <script> tags?", "(sanitize <script> tags)": the tag named as a tag.
    if (words == 0 && (w == "tag" || w == "tags" || w == "element" || w == "elements")) {
      const char c = i < n ? lower[i] : ' ';
      // Not ';', ':' (a label) or a line break, after which a script body goes on.
      if (c == ' ' || c == ',' || c == '?' || c == '!' || c == ')' ||
          (c == '.' && (i + 1 >= n || lower[i + 1] == ' '))) {
        return true;
      }
    }
    bool w_operator = w == "in" || w == "instanceof" || w == "of";
    // A script cannot open with a binary operator word: "<script> in templates" is prose.
    if (words == 0 && w_operator) return true;
    bool prev_code =
        InList(prev, {"var",    "let",   "const",      "return", "typeof",   "new",    "void",
                      "delete", "throw", "await",      "async",  "function", "yield",  "case",
                      "do",     "else",  "export",     "import", "class",    "if",     "for",
                      "while",  "try",   "switch",     "with",   "debugger", "static", "get",
                      "set",    "in",    "instanceof", "of"});
    if (!prev.empty() && !prev_code && !w_operator) return true;
    prev = w;
  }
  return false;
}

// The letters of "f o r m" starting at `p`, joined into `buf`: single letters each followed
// by one blank, at most 16. `*span` is the length of the spelled text.
std::string_view SpelledOutName(std::string_view lower, std::size_t p, char (&buf)[16],
                                std::size_t* span) {
  std::size_t k = 0;
  std::size_t i = p;
  const std::size_t n = lower.size();
  while (i < n && k < sizeof(buf) && IsAsciiAlpha(static_cast<unsigned char>(lower[i])) &&
         (i + 1 >= n || !IsAsciiAlnum(static_cast<unsigned char>(lower[i + 1])))) {
    buf[k++] = lower[i];
    *span = i + 1 - p;
    if (i + 2 >= n || !IsSpaceChar(static_cast<unsigned char>(lower[i + 1]))) break;
    i += 2;
  }
  return {buf, k};
}

TagScan ScanTags(std::string_view lower) {
  TagScan r;
  const std::size_t n = lower.size();
  std::size_t pos = 0;
  // Searches for what follows each tag, read once for the value rather than once per tag and
  // attribute ("<img src=x onerror=" repeated has no '>' to find).
  ForwardFinder next_gt(lower, ">");
  const std::size_t last_gt = lower.rfind('>');
  const std::size_t last_eq = lower.rfind('=');
  // Every tag is read (a cap of 64 let 70 "<b>x</b>" hide a "<script src=...>" after them).
  // What tags read past their names (attributes, a style body) is bounded instead: markup
  // reads each byte about once, but markup built to be re-read, "<img src=x onerror=<img
  // src=x onerror=...", where each '<' inside an unquoted value is read again as a tag of its
  // own, would read the value once per tag. Past a budget of 4 bytes per byte of the value
  // (an attribute counting 16 more: each is compared with lists), a tag that starts inside
  // attribute text already read reads no attributes, and any other at most kTagTail bytes
  // after its name.
  constexpr std::size_t kTagTail = 128;
  std::size_t budget = 4 * n + 16 * 1024;
  auto tail = [&](std::size_t from) {
    return lower.substr(0, budget > 0 ? n : std::min(n, from + kTagTail));
  };
  auto spend = [&](std::size_t bytes) { budget -= std::min(budget, bytes); };
  std::size_t walked_to = 0;  // where the attribute walks have read to
  while ((pos = Find(lower, '<', pos)) != std::string_view::npos) {
    std::size_t start = pos++;
    if (pos >= n) break;
    bool closing = false;
    if (lower[pos] == '/') {
      closing = true;
      ++pos;
    }
    // "<:vmlframe": IE parsed an empty namespace prefix as a VML element.
    if (!closing && pos + 1 < n && lower[pos] == ':' &&
        IsAsciiAlpha(static_cast<unsigned char>(lower[pos + 1]))) {
      ++pos;
    }
    if (pos >= n || !IsAsciiAlpha(static_cast<unsigned char>(lower[pos]))) {
      // <!--, <![CDATA[, <? handled elsewhere
      continue;
    }
    std::size_t ns = pos;
    while (pos < n && (IsAsciiAlnum(static_cast<unsigned char>(lower[pos])) || lower[pos] == ':' ||
                       lower[pos] == '-' || lower[pos] == '_')) {
      ++pos;
    }
    std::string_view tag = lower.substr(ns, pos - ns);
    // "<f o r m", "<d i a l o g": a name spelled out one letter at a time, a filter evasion
    // nobody types otherwise (a browser sees element "f" with attributes o, r, m).
    if (tag.size() == 1 && !closing) {
      char buf[16];
      std::size_t name_len = 0;
      std::string_view spelled = SpelledOutName(lower, ns, buf, &name_len);
      if (spelled.size() >= 3 && DangerousTagScore(spelled) >= 0.45f) {
        Up(&r, 0.6f, "xss.spelled-out-tag", start, ns + name_len - start);
      }
    }
    // A tag name must end at whitespace, '/', '>' or the end of the value.
    if (pos < n && !(IsSpaceChar(static_cast<unsigned char>(lower[pos])) || lower[pos] == '/' ||
                     lower[pos] == '>' || lower[pos] == '\0')) {
      continue;
    }
    std::size_t gt = next_gt.From(pos);
    std::size_t span = (gt == std::string_view::npos ? n : gt + 1) - start;
    if (closing) {
      if (tag == "script" || tag == "style" || tag == "textarea" || tag == "title" ||
          tag == "noscript" || tag == "iframe" || tag == "xmp") {
        Up(&r, 0.55f, "xss.context-close", start, span);
      }
      continue;
    }
    float base = DangerousTagScore(tag);
    // An unterminated ordinary tag is only mildly suspicious ("a <b"), a complete one more.
    bool complete = gt != std::string_view::npos;
    const char* rule = base >= 0.8f ? "xss.script-tag" : "xss.html-tag";
    if (!complete && base < 0.8f) base = std::min(base, 0.3f);
    // "<script is incorrect": a dangerous name without '>' or attributes is prose.
    if (!complete && base >= 0.8f) {
      std::size_t after = SkipSpaces(lower, pos);
      bool at_end = after >= n;
      bool attr = last_eq != std::string_view::npos && last_eq >= pos;
      if (!at_end && !attr) base = 0.4f;
    }
    // "How do I escape <script> tags?", "<iframe> embedding is not allowed": the bare tag,
    // no attributes, then prose that cannot be a script body or load anything.
    if (complete && base >= 0.8f && SkipSpaces(lower, pos) == gt && ProseFollows(lower, gt + 1)) {
      base = 0.45f;
    }
    // "List<String>", "Map<K, V>", "Vec<u8>": a type's parameters glued to its name. An
    // element no parser gives a behaviour to, without attributes, right after a name is
    // generic-type syntax, not markup anyone injects.
    if (base <= 0.35f && start > 0 && IsIdentChar(static_cast<unsigned char>(lower[start - 1])) &&
        (gt == std::string_view::npos || SkipSpaces(lower, pos) >= gt)) {
      continue;
    }
    Up(&r, base, rule, start, span);
    if (tag == "style" && gt != std::string_view::npos) {
      const std::string_view body = tail(gt).substr(gt, 2048);
      spend(body.size());
      if (StyleIsActive(body)) Up(&r, 0.9f, "xss.style", start, span);
    }
    if (budget == 0 && start < walked_to) continue;
    std::size_t attributes = 0;
    const std::size_t walked = ScanAttributes(tail(pos), pos, start, tag, last_gt, &attributes, &r);
    spend(walked - pos + 16 * attributes);
    walked_to = std::max(walked_to, walked);
  }
  return r;
}

// JavaScript sinks and sources that only an injected script has reason to name (the first
// kNumSinks entries), then DOM properties an injected script reads or writes. One list so
// that ScanJs finds all of them in one pass over the value.
constexpr std::size_t kNumSinks = 27;
constexpr std::string_view kJsNames[] = {
    // Sinks and sources.
    "alert",
    "prompt",
    "confirm",
    "eval",
    "settimeout",
    "setinterval",
    "function",
    "execscript",
    "fetch",
    "import",
    "atob",
    "btoa",
    "fromcharcode",
    "showmodaldialog",
    "constructor",
    "write",
    "writeln",
    "open",
    "print",
    "msgbox",
    "top",
    "parent",
    "self",
    "frames",
    "globalthis",
    "window",
    "document",
    // Sensitive properties.
    "document.cookie",
    "document.domain",
    "document.write",
    "document.location",
    "window.location",
    "location.href",
    "location.replace",
    "location.assign",
    "top.location",
    "self.location",
    "parent.location",
    "window.name",
    ".innerhtml",
    ".outerhtml",
    "document.body",
    "localstorage",
    "sessionstorage",
    "xmlhttprequest",
    "document.createelement",
    "string.fromcharcode",
    "window.open",
    "location.hash",
    "location.search",
    "document.url",
    "document.referrer",
    "navigator.sendbeacon",
    ".appendchild",
    "document.forms",
    "document.images",
};
constexpr std::size_t kNumJsNames = sizeof(kJsNames) / sizeof(kJsNames[0]);
static_assert(kNumJsNames > kNumSinks);
constexpr std::string_view kStrongSinks[] = {
    "alert",      "prompt",       "confirm",         "eval",   "settimeout", "setinterval",
    "execscript", "fromcharcode", "showmodaldialog", "msgbox", "atob",       "btoa",
};

bool IsJsBreakChar(char c) {
  return c == ';' || c == '+' || c == '-' || c == '*' || c == '/' || c == '|' || c == '&' ||
         c == ',' || c == '(' || c == ')' || c == '{' || c == '}' || c == '=' || c == ':' ||
         c == '?' || c == '[' || c == '!' || c == '^' || c == '~' || c == '>' || c == '<' ||
         c == '%';
}

// The bytes at which CollapseJs may rewrite: quotes, '/', '[', '(', '.', '<' and white space.
constexpr std::array<bool, 256> kCollapseJsTrigger = [] {
  std::array<bool, 256> t{};
  for (unsigned char c :
       {'\'', '"', '`', '/', '[', '(', '.', '<', ' ', '\t', '\n', '\r', '\f', '\v'})
    t[c] = true;
  return t;
}();

// Removes JS string concatenation ('al'+'ert', "a" + "b") and comments so that split
// sink names become visible. Bounded, into the arena.
// `evasive` is set when concatenation, comments or bogus tags were removed (not for mere
// whitespace or parenthesis tidying).
std::string_view CollapseJs(std::string_view lower, Arena& arena, bool* evasive) {
  if (Find(lower, '+') == std::string_view::npos && Find(lower, "/*") == std::string_view::npos &&
      Find(lower, '[') == std::string_view::npos && Find(lower, '<') == std::string_view::npos) {
    return lower;
  }
  char* out = arena.Allocate(lower.size());
  std::size_t o = 0;
  const std::size_t n = lower.size();
  for (std::size_t i = 0; i < n; ++i) {
    char c = lower[i];
    // Every rewrite below starts at a byte of kCollapseJsTrigger; a run of other bytes is
    // copied as it is, in one block.
    if (!kCollapseJsTrigger[static_cast<unsigned char>(c)]) {
      std::size_t k = i + 1;
      while (k < n && !kCollapseJsTrigger[static_cast<unsigned char>(lower[k])]) ++k;
      std::memcpy(out + o, lower.data() + i, k - i);
      o += k - i;
      i = k - 1;
      continue;
    }
    if ((c == '\'' || c == '"' || c == '`')) {
      std::size_t j = SkipSpaces(lower, i + 1);
      if (j < n && lower[j] == '+') {
        std::size_t k = SkipSpaces(lower, j + 1);
        if (k < n && (lower[k] == '\'' || lower[k] == '"' || lower[k] == '`')) {
          *evasive = true;
          i = k;
          continue;
        }
      }
    }
    if (c == '/' && i + 1 < n && lower[i + 1] == '*') {
      std::size_t end = Find(lower, "*/", i + 2);
      if (end != std::string_view::npos) {
        *evasive = true;
        i = end + 1;
        continue;
      }
    }
    // Bracket property access with a string: document["cookie"] -> document.cookie
    if (c == '[' && i + 1 < n && (lower[i + 1] == '"' || lower[i + 1] == '\'')) {
      char q = lower[i + 1];
      std::size_t close = Find(lower, q, i + 2);
      if (close != std::string_view::npos && close + 1 < n && lower[close + 1] == ']' &&
          close - i < 40) {
        bool ident = close > i + 2;
        for (std::size_t k = i + 2; k < close; ++k) {
          ident = ident && IsIdentChar(static_cast<unsigned char>(lower[k]));
        }
        if (ident) {
          out[o++] = '.';
          for (std::size_t k = i + 2; k < close; ++k) out[o++] = lower[k];
          i = close + 1;
          continue;
        }
      }
    }
    // Whitespace around a member access: document /**/ .  cookie -> document.cookie
    if (IsSpaceChar(static_cast<unsigned char>(c))) {
      std::size_t k = SkipSpaces(lower, i);
      if ((o > 0 && out[o - 1] == '.') || (k < n && lower[k] == '.')) {
        i = k - 1;
        continue;
      }
    }
    // A parenthesised name before a member access: (document)["cookie"] -> document.cookie
    if (c == '(' && i + 1 < n && IsAsciiAlpha(static_cast<unsigned char>(lower[i + 1]))) {
      std::size_t k = i + 1;
      while (k < n && k - i < 32 && IsIdentChar(static_cast<unsigned char>(lower[k]))) ++k;
      std::size_t close = k;
      // comments inside were kept by the caller's order; allow "(document/**/)"
      if (close + 1 < n && lower[close] == '/' && lower[close + 1] == '*') {
        std::size_t end = Find(lower, "*/", close + 2);
        if (end != std::string_view::npos) close = end + 2;
      }
      if (close < n && lower[close] == ')' && close + 1 < n &&
          (lower[close + 1] == '[' || lower[close + 1] == '.')) {
        for (std::size_t m = i + 1; m < k; ++m) out[o++] = lower[m];
        i = close;
        continue;
      }
    }
    if (c == '.') {
      while (o > 0 && IsSpaceChar(static_cast<unsigned char>(out[o - 1]))) --o;
    }
    // Bogus tags that filters strip: autof<x>ocus, alert<x>(1)
    if (c == '<' && i + 2 < n) {
      std::size_t k = i + 1;
      while (k < n && k - i <= 4 && IsAsciiAlpha(static_cast<unsigned char>(lower[k]))) ++k;
      if (k < n && lower[k] == '>' && k > i + 1 && k - i <= 4 && o > 0 &&
          IsAsciiAlpha(static_cast<unsigned char>(out[o - 1]))) {
        *evasive = true;
        i = k;
        continue;
      }
    }
    out[o++] = c;
  }
  arena.ShrinkLast(out, o);
  // Every rewrite above drops characters, so an unchanged length means an unchanged text:
  // hand back the original view (which the value's byte-pair filter covers).
  if (o == n) return lower;
  return {out, o};
}

// Whether the object name at lower[p, p + len) is used as an object: a member read
// (".getItem", "['token']"), an argument ("stringify(localStorage)", "f(a, localStorage)")
// or a constructor ("new XMLHttpRequest").
bool ObjectUse(std::string_view lower, std::size_t p, std::size_t len) {
  std::size_t e = p + len;
  while (e < lower.size() && (lower[e] == ' ' || lower[e] == '\t')) ++e;
  const char next = e < lower.size() ? lower[e] : '\0';
  if (next == '.' || next == '[') return true;
  std::size_t b = p;
  while (b > 0 && (lower[b - 1] == ' ' || lower[b - 1] == '\t')) --b;
  if (b >= 3 && b < p && lower.substr(b - 3, 3) == "new" &&
      (b == 3 || !IsAsciiAlnum(static_cast<unsigned char>(lower[b - 4])))) {
    return true;
  }
  const char prev = b > 0 ? lower[b - 1] : '\0';
  return (prev == '(' || prev == ',') && (next == ')' || next == ',');
}

// JavaScript keywords that take an expression after them: a property after one of these is
// still code ("void document.cookie", "typeof window.name").
bool TakesExpression(std::string_view word) {
  return InList(word, {"void", "typeof", "return", "new", "delete", "throw", "await", "yield", "in",
                       "of", "case", "do", "else", "instanceof"});
}

// Whether the name at lower[p, p + len) is named in a sentence, not used in code: after it
// the end, a space or a sentence's punctuation, and either four words of letters right
// before it ("is it safe to store a token in localStorage or document.cookie?"), or nothing
// but words before it and a plain word next to it on either side ("what is document.cookie",
// "document.cookie not working in safari"). Two names side by side on one line are a syntax
// error in any script context; code around a property has an operator, a bracket or a quote
// next to it.
bool NamedInSentence(std::string_view lower, std::size_t p, std::size_t len) {
  const std::size_t n = lower.size();
  const std::size_t e = p + len;
  if (e < n && lower[e] != ' ' && lower[e] != '?' && lower[e] != '.' && lower[e] != ',' &&
      lower[e] != '!') {
    return false;
  }
  if (p > 0 && lower[p - 1] != ' ') return false;
  int words = 0;
  std::string_view before;  // the word right before the name
  for (std::size_t i = p; i > 0;) {
    --i;
    const char c = lower[i];
    if (IsAsciiAlpha(static_cast<unsigned char>(c))) {
      const std::size_t end = i + 1;
      while (i > 0 && IsAsciiAlpha(static_cast<unsigned char>(lower[i - 1]))) --i;
      if (++words == 1 && end == p - 1) before = lower.substr(i, end - i);
      if (words == 4) return true;
    } else if (c != ' ' && c != ',' && c != '\'') {
      return false;  // code punctuation ("a=b", "x.y", "f(") among the words before the name
    }
  }
  // Fewer than four words, and nothing else, before the name.
  if (!before.empty()) return !TakesExpression(before);
  // Nothing before the name: a plain word after it (and after any further members,
  // "window.location.href not working"), past one space.
  std::size_t m = e;
  while (m + 1 < n && lower[m] == '.' && IsIdentChar(static_cast<unsigned char>(lower[m + 1]))) {
    ++m;
    while (m < n && IsIdentChar(static_cast<unsigned char>(lower[m]))) ++m;
  }
  std::size_t w = m + 1;
  if (m >= n || lower[m] != ' ' || w >= n) return false;
  std::size_t we = w;
  while (we < n && IsAsciiAlpha(static_cast<unsigned char>(lower[we]))) ++we;
  return we - w >= 2 &&
         (we == n || lower[we] == ' ' || lower[we] == '?' || lower[we] == ',' ||
          lower[we] == '.') &&
         !TakesExpression(lower.substr(w, we - w));
}

// A stack frame's location as the whole argument list: "Client.java:88", "app.js:10:5",
// "https://cdn.example/app.js:1:2" (a file or URL, then one or two line numbers), "native
// method", "unknown source". As JavaScript arguments each is a syntax error.
bool FrameLocation(std::string_view args) {
  if (args == "native method" || args == "unknown source") return true;
  std::size_t e = args.size();
  int numbers = 0;
  while (numbers < 2) {
    std::size_t d = e;
    while (d > 0 && IsAsciiDigit(static_cast<unsigned char>(args[d - 1]))) --d;
    if (d == e || d == 0 || args[d - 1] != ':') break;
    e = d - 1;
    ++numbers;
  }
  if (numbers == 0 || e == 0 || Find(args.substr(0, e), '.') == std::string_view::npos) {
    return false;
  }
  for (std::size_t i = 0; i < e; ++i) {
    const char c = args[i];
    if (c == '\'' || c == '"' || c == '`' || c == '(' || c == ')' || c == ' ' || c == ',' ||
        c == ';' || c == '=' || c == '+') {
      return false;
    }
  }
  return true;
}

// Finds a call of a sink: name [spaces] ( or name`...` or name?.( or ['name'](.
// `found`: where each of kJsNames first occurs in `lower`, when the caller has searched for
// them already (null: searched here).
void ScanJs(std::string_view lower, const std::size_t* found, TagScan* r) {
  const std::size_t n = lower.size();
  static const NeedleSet kJsNameSet(kJsNames);
  std::size_t own[kNumJsNames];
  if (found == nullptr) kJsNameSet.FirstAll(lower, own);
  const std::size_t* first = found != nullptr ? found : own;
  for (std::size_t si = 0; si < kNumSinks; ++si) {
    if (first[si] == std::string_view::npos) continue;
    std::string_view sink = kJsNames[si];
    std::size_t from = first[si];
    // The calls of one sink come in order: what follows each ("top[top[top[...", "alert(
    // alert(...") is searched for once per value, not once per call, which was quadratic.
    ForwardFinder next_paren(lower, ")");
    WindowFinder args_document(lower, "document");
    WindowFinder args_call(lower, "(");
    WindowFinder args_member(lower, ".");
    WindowFinder args_path(lower, "/");
    while (true) {
      std::size_t p = FindWord(lower, sink, from);
      if (p == std::string_view::npos) break;
      from = p + 1;
      std::size_t e = p + sink.size();
      // Allow quotes/brackets around the name: ['alert'](1), ["alert"]`1`
      std::size_t k = e;
      while (k < n && (lower[k] == '\'' || lower[k] == '"' || lower[k] == ']' || lower[k] == ')')) {
        ++k;
      }
      k = SkipSpaces(lower, k);
      if (k + 1 < n && lower[k] == '?' && lower[k + 1] == '.') k += 2;
      // alert.call(null, 1), confirm.apply(...), prompt.bind(...)()
      for (std::string_view m : {".call", ".apply", ".bind"}) {
        if (lower.substr(k, m.size()) == m) k = SkipSpaces(lower, k + m.size());
      }
      bool call = k < n && (lower[k] == '(' || lower[k] == '`');
      bool strong = false;
      for (std::string_view s : kStrongSinks) strong = strong || s == sink;
      bool member_call = !call && k < n && (lower[k] == '.' || lower[k] == '[');
      if (!call && !(member_call &&
                     (sink == "top" || sink == "self" || sink == "window" || sink == "parent" ||
                      sink == "globalthis" || sink == "frames" || sink == "document"))) {
        continue;
      }
      if (member_call) {
        // window['al'+'ert'] / top[x](1) / document['cookie']
        std::size_t close = FindFirstOf(lower.substr(0, std::min(n, k + 65)), "(`", k);
        if (lower[k] != '[' || close == std::string_view::npos || close - k > 64) continue;
      }
      // What precedes the name decides how it reached a script context.
      std::size_t b = p;
      while (b > 0 && IsSpaceChar(static_cast<unsigned char>(lower[b - 1]))) --b;
      char prev = b > 0 ? lower[b - 1] : '\0';
      bool at_start = b == 0;
      bool after_break = prev != '\0' && (IsJsBreakChar(prev) || prev == '\'' || prev == '"' ||
                                          prev == '`' || prev == '.');
      bool args_js = false;
      bool prose_after = false;
      if (call && lower[k] == '(') {
        std::size_t close = next_paren.From(k);
        // "confirm(order) button does nothing", "use eval() on input": a word after the
        // call on the same line is a syntax error in any script context (no automatic
        // semicolon without a line break), so the call cannot run; it is prose about code.
        if (close != std::string_view::npos) {
          std::size_t w = close + 1;
          while (w < n && (lower[w] == ' ' || lower[w] == '\t')) ++w;
          std::size_t we = w;
          while (we < n && IsAsciiAlpha(static_cast<unsigned char>(lower[we]))) ++we;
          std::string_view word = lower.substr(w, we - w);
          prose_after = w > close + 1 && we > w && word != "in" && word != "instanceof";
          // A CJK phrase right after the call ("alert('hello') 为什么不弹窗") is an identifier
          // after the call too: the same syntax error, with or without a space.
          prose_after = prose_after || CjkPhraseAt(lower, w);
        }
        std::string_view args = lower.substr(k + 1, close == std::string_view::npos
                                                        ? std::min<std::size_t>(n - k - 1, 64)
                                                        : close - k - 1);
        // Arguments that open with two plain words side by side are the same syntax error:
        // "at eval (eval at <anonymous> (vendor.js:1:1), <anonymous>:1:1)", a stack frame.
        // (A stack frame's location is short; longer arguments are not read back for one.)
        prose_after =
            prose_after || ProseFollows(args, 0) || (args.size() <= 1024 && FrameLocation(args));
        // alert(1), alert('x'), alert(document.cookie), eval(atob(...))
        const std::size_t a0 = k + 1;
        const std::size_t a1 = a0 + args.size();
        args_js = args.empty() || IsAsciiDigit(static_cast<unsigned char>(args[0])) ||
                  args[0] == '\'' || args[0] == '"' || args[0] == '`' ||
                  args_document.Contains(a0, a1) || args_call.Contains(a0, a1) ||
                  args_member.Contains(a0, a1) || args_path.Contains(a0, a1);
      } else if (call) {
        args_js = true;  // tagged template
      }
      float s = 0;
      if (strong && args_js)
        s = at_start ? 0.8f : (after_break ? 0.9f : 0.55f);
      else if (strong)
        s = after_break || at_start ? 0.6f : 0.3f;
      else if (args_js && (after_break || at_start))
        s = member_call ? 0.75f : 0.45f;
      if (prose_after) s = std::min(s, 0.3f);
      Up(r, s, "xss.js-sink", p, std::min<std::size_t>(n - p, 48));
    }
  }
  for (std::size_t pi = kNumSinks; pi < kNumJsNames; ++pi) {
    std::string_view prop = kJsNames[pi];
    std::size_t p = first[pi];
    if (p == std::string_view::npos) continue;
    // A bare object name (localStorage, XMLHttpRequest) is script only where it is used as
    // one; as a word or a data key ('{"cookieEnabled":1,"localStorage":1}' in a browser
    // beacon, "localstorage limit" in a search) it reads nothing.
    if (IsAsciiAlpha(static_cast<unsigned char>(prop[0])) &&
        Find(prop, '.') == std::string_view::npos) {
      while (p != std::string_view::npos && !ObjectUse(lower, p, prop.size())) {
        p = Find(lower, prop, p + prop.size());
      }
      if (p == std::string_view::npos) continue;
    }
    // The properties that read the user's session or rewrite or redirect the page score as
    // script on their own; the rest only where a call or an assignment uses them.
    float s =
        (prop == "document.cookie" || prop == "document.domain" || prop == "document.write" ||
         prop == "string.fromcharcode" || prop == "window.location" || prop == "document.location")
            ? 0.75f
            : 0.45f;
    if (NamedInSentence(lower, p, prop.size())) s = std::min(s, 0.3f);
    Up(r, s, "xss.dom-access", p, prop.size());
  }
}

// English words that start with "on" (not event handlers).
bool IsCommonOnWord(std::string_view w) {
  return InList(w, {"online", "only", "onto", "onion", "onions", "onset", "ongoing", "onward",
                    "onwards", "onboard", "onboarding", "oneself", "onsite", "onstage"});
}

// A quote (or '>') that closes the application's attribute, followed by a new attribute that
// runs script: `" onmouseover="alert(1)`, `' autofocus onfocus=alert(1) x='`.
void ScanAttributeBreak(std::string_view lower, TagScan* r) {
  const std::size_t n = lower.size();
  // `'formaction=` ending the value: the probe below with the attribute that sends a
  // button's form to a URL of the injector's choosing (javascript: included).
  {
    std::size_t e = n;
    while (e > 0 && IsSpaceChar(static_cast<unsigned char>(lower[e - 1]))) --e;
    if (e > 0 && lower[e - 1] == '=') {
      --e;
      while (e > 0 && IsSpaceChar(static_cast<unsigned char>(lower[e - 1]))) --e;
      constexpr std::string_view kName = "formaction";
      if (e > kName.size() && lower.substr(e - kName.size(), kName.size()) == kName) {
        std::size_t b = e - kName.size();
        while (b > 0 && IsSpaceChar(static_cast<unsigned char>(lower[b - 1]))) --b;
        if (b > 0 && (lower[b - 1] == '"' || lower[b - 1] == '\'' || lower[b - 1] == '`')) {
          Up(r, 0.55f, "xss.attribute-break", b - 1, n - b + 1);
        }
      }
    }
  }
  std::size_t from = 0;
  const std::size_t lead = SkipSpaces(lower, 0);
  // The last quote before what was scanned so far: the handlers come in order, so the quotes
  // are read once, not searched back for at each ("<img src=x onerror=" repeated had no
  // quote to find, and each search read the whole value before it).
  std::size_t quote_scan = 0;
  std::size_t last_quote = std::string_view::npos;
  while (true) {
    std::size_t p = Find(lower, "on", from);
    if (p == std::string_view::npos) return;
    from = p + 2;
    if (p > 0 && IsIdentChar(static_cast<unsigned char>(lower[p - 1]))) continue;
    std::size_t e = p + 2;
    while (e < n && IsAsciiAlpha(static_cast<unsigned char>(lower[e]))) ++e;
    if (e - p < 5) continue;
    std::size_t eq = SkipSpaces(lower, e);
    if (eq >= n || lower[eq] != '=') continue;
    // Look back for the break: whitespace or '/' then optionally other attributes, then a quote.
    std::size_t b = p;
    if (b == 0) continue;
    char sep = lower[b - 1];
    if (!(IsSpaceChar(static_cast<unsigned char>(sep)) || sep == '/' || sep == '"' || sep == '\'' ||
          sep == '`')) {
      continue;
    }
    for (; quote_scan < b; ++quote_scan) {
      const char c = lower[quote_scan];
      if (c == '"' || c == '\'' || c == '`') last_quote = quote_scan;
    }
    const std::size_t q = last_quote;  // lower.find_last_of("\"'`", b - 1)
    std::size_t v = SkipSpaces(lower, eq + 1);
    std::string_view handler = lower.substr(v, std::min<std::size_t>(n - v, 128));
    bool handler_js = Find(handler, '(') != std::string_view::npos ||
                      Find(handler, '`') != std::string_view::npos ||
                      Find(handler, "javascript") != std::string_view::npos ||
                      Find(handler, '=') != std::string_view::npos;
    // onclick="void(0)": a quoted handler that does nothing (see NoOpHandler).
    if (handler_js && !handler.empty() && (handler[0] == '"' || handler[0] == '\'')) {
      const std::size_t close = Find(handler, handler[0], 1);
      if (close != std::string_view::npos && NoOpHandler(handler.substr(1, close - 1))) {
        handler_js = false;
      }
    }
    // `"onzoom=` / `'onfocus=` ending the value: the break and the handler name with the
    // value still to come (a probe for the reflection point).
    // The same with whitespace instead of the quote when nothing but whitespace precedes the
    // name ("  onload= "): the separator that starts a new attribute in an unquoted one.
    // No event name is longer than ~41 characters (onwebkitplaybacktargetavailabilitychanged).
    bool lead_space = IsSpaceChar(static_cast<unsigned char>(sep)) && lead == p && e - p <= 44;
    bool probe = (sep == '"' || sep == '\'' || sep == '`' || lead_space) &&
                 SkipSpaces(lower, eq + 1) >= n && !IsCommonOnWord(lower.substr(p, e - p));
    if (q != std::string_view::npos && handler_js) {
      Up(r, 0.88f, "xss.attribute-break", q, std::min<std::size_t>(n - q, 64));
    } else if (probe) {
      Up(r, 0.55f, "xss.attribute-break", b - 1, n - b + 1);
    } else if (handler_js) {
      Up(r, 0.6f, "xss.event-handler", p, std::min<std::size_t>(n - p, 64));
    }
  }
}

// Active CSS outside a style attribute (a value reflected into a stylesheet or style=""):
// url(javascript...), IE expression() and behaviours, Mozilla XBL bindings.
void ScanCss(std::string_view lower, TagScan* r) {
  for (std::size_t p = Find(lower, "url("); p != std::string_view::npos;
       p = Find(lower, "url(", p + 4)) {
    std::size_t k = p + 4;
    while (k < lower.size() && (lower[k] == '\'' || lower[k] == '"' || lower[k] == ' ')) ++k;
    std::string_view rest = lower.substr(k);
    if (StartsWith(rest, "javascript") || StartsWith(rest, "vbscript")) {
      Up(r, 0.8f, "xss.style", p, std::min<std::size_t>(lower.size() - p, 40));
    }
  }
  for (std::string_view prop : {"-moz-binding", "behavior", "behaviour"}) {
    std::size_t p = Find(lower, prop);
    if (p == std::string_view::npos) continue;
    std::size_t k = SkipSpaces(lower, p + prop.size());
    if (k < lower.size() && lower[k] == ':' && Find(lower, "url(", k) != std::string_view::npos) {
      Up(r, 0.8f, "xss.style", p, std::min<std::size_t>(lower.size() - p, 48));
    }
  }
  // property:expression( with the parenthesis possibly CSS-escaped (\28).
  for (std::size_t p = Find(lower, "expression"); p != std::string_view::npos;
       p = Find(lower, "expression", p + 10)) {
    std::size_t b = p;
    while (b > 0 && IsSpaceChar(static_cast<unsigned char>(lower[b - 1]))) --b;
    if (b == 0 || lower[b - 1] != ':') continue;
    std::size_t k = SkipSpaces(lower, p + 10);
    if (k < lower.size() && (lower[k] == '(' || lower.substr(k, 3) == "\\28")) {
      Up(r, 0.85f, "xss.style", b - 1, std::min<std::size_t>(lower.size() - b + 1, 48));
    }
  }
}

// JSFuck and similar: script written only with []()!+ ("!![]", "(![]+[])[+!+[]]").
void ScanJsFuck(std::string_view lower, TagScan* r) {
  if (Find(lower, "![]") == std::string_view::npos) return;
  std::size_t atoms = 0, other = 0;
  for (char c : lower) {
    if (c == '[' || c == ']' || c == '(' || c == ')' || c == '!' || c == '+') {
      ++atoms;
    } else if (!IsSpaceChar(static_cast<unsigned char>(c))) {
      ++other;
    }
  }
  // Markdown images "![](a.png)" have a URL inside the parentheses.
  if (atoms >= 4 && other == 0)
    Up(r, 0.8f, "xss.jsfuck", 0, std::min<std::size_t>(lower.size(), 48));
}

// Tagged-template invocation through Function.prototype: [].sort.call`${alert}1`,
// Reflect.apply.call`...`. Calls a function without parentheses.
void ScanTemplateCall(std::string_view lower, TagScan* r) {
  static constexpr std::string_view kCalls[] = {".call", ".apply", ".bind"};
  static const NeedleSet kCallSet(kCalls);
  std::size_t first[std::size(kCalls)];
  kCallSet.FirstAll(lower, first);
  for (std::size_t i = 0; i < std::size(kCalls); ++i) {
    std::string_view m = kCalls[i];
    for (std::size_t p = first[i]; p != std::string_view::npos; p = Find(lower, m, p + m.size())) {
      std::size_t k = SkipSpaces(lower, p + m.size());
      if (k >= lower.size() || lower[k] != '`') continue;
      std::size_t body = SkipSpaces(lower, k + 1);
      if (body < lower.size() && (lower[body] == '`' || lower.substr(body, 2) == "${")) {
        Up(r, 0.8f, "xss.js-sink", p, std::min<std::size_t>(lower.size() - p, 48));
      }
    }
  }
}

// A javascript: scheme split by characters browsers drop (tab, newline): nobody writes
// "java\tscript:" except to slip it past a filter.
void ScanSplitScheme(std::string_view lower, TagScan* r) {
  for (std::string_view scheme : {"javascript:", "vbscript:"}) {
    std::size_t si = 0;
    bool split = false;
    std::size_t start = 0;
    for (std::size_t i = 0; i < lower.size() && i < 4096; ++i) {
      char c = lower[i];
      if (si > 0 && (c == '\t' || c == '\n' || c == '\r')) {
        split = true;
        continue;
      }
      if (c == scheme[si]) {
        if (si == 0) start = i;
        if (++si == scheme.size()) {
          if (split) Up(r, 0.8f, "xss.script-url", start, i + 1 - start);
          si = 0;
          split = false;
        }
      } else {
        si = c == scheme[0] ? 1 : 0;
        if (si == 1) start = i;
        split = false;
      }
    }
  }
}

// IE-only active content: <?import implementation=...> loads an HTC behaviour (also with
// the separator before the attribute dropped, "<importimplementation=", as a filter that
// strips spaces leaves it); the 7-bit US-ASCII trick: bytes 0xBC/0xBE become '<'/'>' when
// the high bit is stripped.
void ScanLegacyMarkup(std::string_view lower, TagScan* r) {
  std::size_t p = Find(lower, "<?import");
  if (p != std::string_view::npos) Up(r, 0.85f, "xss.html-tag", p, 16);
  for (std::size_t i = Find(lower, "<import"); i != std::string_view::npos;
       i = Find(lower, "<import", i + 7)) {
    const std::size_t gt = Find(lower, '>', i);
    const std::string_view tag = lower.substr(
        i, std::min<std::size_t>(gt == std::string_view::npos ? lower.size() : gt, i + 96) - i);
    const std::size_t a = Find(tag, "implementation");
    if (a != std::string_view::npos) {
      const std::size_t eq = SkipSpaces(tag, a + 14);
      if (eq < tag.size() && tag[eq] == '=') Up(r, 0.85f, "xss.html-tag", i, eq + 1);
    }
  }
  for (std::size_t q = Find(lower, "script"); q != std::string_view::npos;
       q = Find(lower, "script", q + 6)) {
    std::size_t b = q;
    if (b > 0 && lower[b - 1] == '/') --b;
    // Raw bytes, or the same characters in UTF-8 (U+00BC, U+00BE: C2 BC / C2 BE).
    bool open = b > 0 && static_cast<unsigned char>(lower[b - 1]) == 0xBC &&
                (b < 2 || static_cast<unsigned char>(lower[b - 2]) == 0xC2 ||
                 static_cast<unsigned char>(lower[b - 2]) < 0x80);
    std::size_t a = q + 6;
    if (a + 1 < lower.size() && static_cast<unsigned char>(lower[a]) == 0xC2) ++a;
    bool close = a < lower.size() && static_cast<unsigned char>(lower[a]) == 0xBE;
    if (open && close) Up(r, 0.85f, "xss.script-tag", b - 1, 8);
  }
}

// Writes into the page through the DOM: document.querySelector("p").textContent = "...".
void ScanDomWrite(std::string_view lower, TagScan* r) {
  if (Find(lower, "document") == std::string_view::npos) return;
  static constexpr std::string_view kProps[] = {".innerhtml", ".outerhtml", ".textcontent",
                                                ".innertext", ".src",       ".href"};
  static const NeedleSet kPropSet(kProps);
  std::size_t first[std::size(kProps)];
  kPropSet.FirstAll(lower, first);
  for (std::size_t i = 0; i < std::size(kProps); ++i) {
    std::string_view prop = kProps[i];
    for (std::size_t p = first[i]; p != std::string_view::npos; p = Find(lower, prop, p + 1)) {
      std::size_t k = SkipSpaces(lower, p + prop.size());
      if (k < lower.size() && lower[k] == '=' && (k + 1 >= lower.size() || lower[k + 1] != '=')) {
        Up(r, 0.75f, "xss.dom-write", p, std::min<std::size_t>(lower.size() - p, 48));
      }
    }
  }
}

// A value that opens with a quote and reaches a quote and '>' before any '<': it closes the
// application's quoted attribute and its tag ("\">", "' />"), then writes markup of its own
// ("\">text</a>", "'><b>x") or ends right there after attributes it added
// ("\" href=\"x\" />"). Markup a user writes opens its tags in the value itself. Links cut
// out of HTML by a careless crawler ("pr_shop\">Shop</a>") start with the parameter's own
// text, not with the quote.
void ScanTagBreak(std::string_view lower, TagScan* r) {
  const std::size_t n = lower.size();
  std::size_t first = SkipSpaces(lower, 0);
  if (first >= n || (lower[first] != '"' && lower[first] != '\'')) return;
  std::size_t gt = Find(lower, '>');
  if (gt == std::string_view::npos) return;
  std::size_t lt = Find(lower, '<');
  if (lt != std::string_view::npos && lt < gt) return;
  std::size_t b = gt;
  while (b > 0 && IsSpaceChar(static_cast<unsigned char>(lower[b - 1]))) --b;
  if (b > 0 && lower[b - 1] == '/') --b;
  while (b > 0 && IsSpaceChar(static_cast<unsigned char>(lower[b - 1]))) --b;
  if (b == 0 || (lower[b - 1] != '"' && lower[b - 1] != '\'')) return;
  std::size_t q = b - 1;
  // Markup after the break: "<name" or "</name" ending at a separator, closed by a '>'.
  for (std::size_t p = lt; p != std::string_view::npos; p = Find(lower, '<', p + 1)) {
    std::size_t k = p + 1;
    if (k < n && lower[k] == '/') ++k;
    if (k >= n || !IsAsciiAlpha(static_cast<unsigned char>(lower[k]))) continue;
    while (k < n && (IsAsciiAlnum(static_cast<unsigned char>(lower[k])) || lower[k] == '-')) ++k;
    if (k < n &&
        (IsSpaceChar(static_cast<unsigned char>(lower[k])) || lower[k] == '/' || lower[k] == '>') &&
        Find(lower, '>', k) != std::string_view::npos) {
      Up(r, 0.6f, "xss.tag-break", q, std::min<std::size_t>(n - q, 64));
    }
    return;
  }
  // No markup: the break ends the value after an attribute the value added (name="...").
  if (SkipSpaces(lower, gt + 1) < n) return;
  for (std::size_t e = Find(lower, '='); e != std::string_view::npos && e < q;
       e = Find(lower, '=', e + 1)) {
    std::size_t v = SkipSpaces(lower, e + 1);
    std::size_t a = e;
    while (a > 0 && IsSpaceChar(static_cast<unsigned char>(lower[a - 1]))) --a;
    if (v < n && (lower[v] == '"' || lower[v] == '\'') && a > 0 &&
        IsAsciiAlpha(static_cast<unsigned char>(lower[a - 1]))) {
      Up(r, 0.5f, "xss.tag-break", q, n - q);
      return;
    }
  }
}

// Where `raw` names a global's member in escapes: self["\x24"], window['\u0061lert'], a name
// hidden from filters; nothing else spells a property that way. The normaliser has decoded
// the escapes in the value's text, so this reads the raw value.
std::size_t EscapedGlobalMember(std::string_view raw) {
  static constexpr std::string_view kGlobals[] = {"self",   "window",     "top",      "parent",
                                                  "frames", "globalThis", "document", "this"};
  std::size_t b = Find(raw, '[');
  for (int tries = 0; b != std::string_view::npos && tries < 64;
       b = Find(raw, '[', b + 1), ++tries) {
    std::size_t e = b;
    while (e > 0 && raw[e - 1] == ' ') --e;
    std::size_t start = std::string_view::npos;
    for (std::string_view g : kGlobals) {
      if (e >= g.size() && raw.substr(e - g.size(), g.size()) == g &&
          (e == g.size() || !IsIdentChar(static_cast<unsigned char>(raw[e - g.size() - 1])))) {
        start = e - g.size();
        break;
      }
    }
    if (start == std::string_view::npos) continue;
    std::size_t q = SkipSpaces(raw, b + 1);
    if (q >= raw.size() || (raw[q] != '\'' && raw[q] != '"' && raw[q] != '`')) continue;
    std::size_t end = Find(raw, raw[q], q + 1);
    if (end == std::string_view::npos || end - q > 64) continue;
    std::string_view name = raw.substr(q + 1, end - q - 1);
    if (Find(name, "\\x") != std::string_view::npos ||
        Find(name, "\\u") != std::string_view::npos) {
      return start;
    }
  }
  return std::string_view::npos;
}

// Places where no application puts markup: cookie values, argument and cookie names, and
// request headers other than the URL-carrying Referer / Origin. A complete tag there is
// written by an attacker hoping the value is echoed (logs viewers, admin panels, error pages).
bool IsMarkupFreePlace(const Field& f) {
  if (f.part == Part::kName) return f.source != Source::kJson && f.source != Source::kXml;
  if (f.source == Source::kCookie) return true;
  if (f.source != Source::kHeader) return false;
  // Basic credentials decoded from an Authorization header are a form's user name and
  // password in another wrapping (a generated password can hold "<l>").
  if (f.flags & kFieldCredential) return false;
  auto is = [&f](std::string_view n) {
    if (f.name.size() != n.size()) return false;
    for (std::size_t i = 0; i < n.size(); ++i) {
      if (ToLowerAscii(f.name[i]) != n[i]) return false;
    }
    return true;
  };
  return !is("referer") && !is("origin");
}

}  // namespace

void DetectXss(const ValueView& v, DetectorScratch& scratch, FindingSink& sink) {
  std::string_view lower = v.lower;
  const ByteSet bytes(lower);  // asked about a dozen single characters below
  // Every keyword the scans below are keyed on, found in one pass.
  enum Key { kScriptColon, kData, kOn, kUrl, kExpression, kBinding, kBehavio, kPi, kScript, kUtf7 };
  static constexpr std::string_view kKeys[] = {"script:", "data:",   "on", "url(",   "expression",
                                               "binding", "behavio", "<?", "script", "+adw-"};
  static const NeedleSet kKeySet(kKeys);
  // Values that can hold script calls are also searched for the JavaScript names; when the
  // JavaScript view is the value itself, both lists are found in the same pass.
  static constexpr auto kKeysAndJsNames = [] {
    std::array<std::string_view, std::size(kKeys) + kNumJsNames> all{};
    std::copy(std::begin(kJsNames), std::end(kJsNames),
              std::copy(std::begin(kKeys), std::end(kKeys), all.begin()));
    return all;
  }();
  static const NeedleSet kKeyAndJsSet(kKeysAndJsNames.data(), kKeysAndJsNames.size());
  const bool js_candidate = bytes.Has('(') || bytes.Has('`') || bytes.Has('.') || bytes.Has('[');
  bool evasive = false;
  const std::string_view js =
      js_candidate ? CollapseJs(lower, *scratch.arena, &evasive) : std::string_view();
  const bool one_pass = js_candidate && js.data() == lower.data();
  std::size_t found[std::size(kKeys) + kNumJsNames];
  if (one_pass) {
    kKeyAndJsSet.FirstAll(lower, found);
  } else {
    kKeySet.FirstAll(lower, found);
  }
  const std::size_t* key = found;
  auto has = [&key](Key k) { return key[k] != std::string_view::npos; };
  TagScan r;
  if (bytes.Has('<')) {
    r = ScanTags(lower);
    // Complete ordinary tags score 0.35-0.45 (incomplete ones at most 0.3).
    // "<https://...>" and "<mailto:...>" are URLs in angle brackets (Link, Warning headers).
    std::size_t name_end = r.pos + 1;
    while (name_end < lower.size() && IsAsciiAlnum(static_cast<unsigned char>(lower[name_end]))) {
      ++name_end;
    }
    bool bracketed_url = name_end < lower.size() && lower[name_end] == ':';
    if (r.score >= 0.35f && r.score < 0.55f && !bracketed_url && IsMarkupFreePlace(*v.field)) {
      Up(&r, 0.55f, "xss.markup-out-of-place", r.pos, r.len);
    }
  }
  // javascript: URL anywhere a URL can start (value start, after =, (, quote).
  {
    std::size_t from = key[kScriptColon];
    while (from != std::string_view::npos) {
      std::size_t p = Find(lower, "script:", from);
      if (p == std::string_view::npos) break;
      from = p + 1;
      std::size_t s = p;
      while (s > 0 && (IsAsciiAlpha(static_cast<unsigned char>(lower[s - 1])) ||
                       lower[s - 1] == '\t' || lower[s - 1] == '\n' || lower[s - 1] == '\r')) {
        --s;
      }
      std::size_t sl;
      if (!HasScriptScheme(lower.substr(s), &sl)) continue;
      bool at_url_start = s == 0 || lower[s - 1] == '=' || lower[s - 1] == '(' ||
                          lower[s - 1] == '"' || lower[s - 1] == '\'' || lower[s - 1] == ' ' ||
                          lower[s - 1] == '`' || lower[s - 1] == '>';
      std::string_view body = lower.substr(p + 7, 96);
      bool code =
          Find(body, '(') != std::string_view::npos || Find(body, '`') != std::string_view::npos ||
          Find(body, '=') != std::string_view::npos || Find(body, '.') != std::string_view::npos;
      // "javascript:" as the whole value, at most followed by whitespace or escape
      // sequences (\t, \u0020): the scheme alone, probing where it is reflected.
      bool bare = s == 0 && !code;
      for (std::size_t k = p + 7; bare && k < lower.size(); ++k) {
        char c = lower[k];
        bool esc = c == '\\' || IsSpaceChar(static_cast<unsigned char>(c)) || IsAsciiDigit(c) ||
                   c == 'u' || c == 'x' || c == 't' || c == 'n' || c == 'r';
        bare = esc;
      }
      if (at_url_start && !NoOpScriptUrl(lower.substr(p + 7))) {
        Up(&r, code ? 0.9f : (bare ? 0.55f : 0.3f), "xss.script-url", s, p + 7 - s + 24);
      }
    }
  }
  if (has(kData)) {
    std::size_t p = key[kData];
    if (HasActiveDataUri(lower.substr(p))) Up(&r, 0.6f, "xss.data-uri", p, 40);
  }
  if (has(kOn)) ScanAttributeBreak(lower, &r);
  if (bytes.Has('>')) ScanTagBreak(lower, &r);
  if (js_candidate) {
    // A rewritten view is a new string: give its keyword scans a byte-pair filter of its own.
    std::optional<BigramFilter> js_filter;
    if (js.data() != lower.data() && js.size() >= limits::kBigramFilterMinBytes) {
      js_filter.emplace().Build(js);
    }
    ScopedBigramFilter js_scope(js_filter ? &*js_filter : current_bigram_filter);
    TagScan j;
    ScanJs(js, one_pass ? found + std::size(kKeys) : nullptr, &j);
    if (js.size() != lower.size() && Find(js, '`') != std::string_view::npos) {
      ScanTemplateCall(js, &j);
    }
    if (js.size() != lower.size() && Find(js, "on") != std::string_view::npos) {
      ScanAttributeBreak(js, &j);
    }
    if (j.score > 0) {
      // Positions refer to the collapsed view; report against it.
      if (j.score > r.score) {
        float s = j.score;
        if (evasive) s = std::min(0.95f, s + 0.05f);  // concatenation / comment evasion
        Report(sink, ValueView{v.field, js, js, v.norm_flags, v.weight, v.document}, Category::kXss,
               s, j.rule, j.pos, j.len);
      }
    }
  }
  if (has(kUrl) || has(kExpression) || has(kBinding) || has(kBehavio)) {
    ScanCss(lower, &r);
  }
  if (bytes.Has('!')) ScanJsFuck(lower, &r);
  if (bytes.Has('`')) ScanTemplateCall(lower, &r);
  if (bytes.Has('\t') || bytes.Has('\n') || bytes.Has('\r')) {
    ScanSplitScheme(lower, &r);
  }
  if (has(kPi) || has(kScript) || (has(kOn) && bytes.Has('<'))) {
    ScanLegacyMarkup(lower, &r);
  }
  if (bytes.Has('=')) ScanDomWrite(lower, &r);
  if (has(kUtf7)) Up(&r, 0.8f, "xss.utf7", key[kUtf7], 16);
  if ((v.norm_flags & kNormJsEscape) && r.score < 0.6f && bytes.Has('[')) {
    const std::string_view raw = v.field->value;
    const std::size_t p = EscapedGlobalMember(raw);
    if (p != std::string_view::npos) {
      Report(sink, ValueView{v.field, raw, raw, v.norm_flags, v.weight, v.document}, Category::kXss,
             0.6f, "xss.escaped-member", p, std::min<std::size_t>(raw.size() - p, 32));
    }
  }
  if (r.score > 0) Report(sink, v, Category::kXss, r.score, r.rule, r.pos, r.len);
}

}  // namespace shieldx::detect
