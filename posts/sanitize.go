package posts

import (
	"bytes"
	"net/url"
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	xhtml "golang.org/x/net/html"
)

// urlAttrs are the attributes whose values browsers treat as URLs.
var urlAttrs = map[string]bool{
	"href": true, "src": true, "action": true, "formaction": true, "poster": true,
	"background": true, "cite": true, "data": true, "xlink:href": true, "longdesc": true,
	"usemap": true, "lowsrc": true, "dynsrc": true, "manifest": true, "codebase": true,
	"archive": true, "profile": true, "classid": true, "icon": true, "ping": true,
}

// cleanHTML is raw HTML (allowed by unsafe_html) with every dangerous URL
// attribute value (see dangerousURL) replaced by "#". unsafe_html trusts the
// author's markup otherwise; it does not remove scripts or event handlers.
func cleanHTML(b []byte) []byte {
	if !bytes.ContainsAny(b, "=") {
		return b
	}
	z := xhtml.NewTokenizer(bytes.NewReader(b))
	var out bytes.Buffer
	out.Grow(len(b))
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			out.Write(z.Raw())
			return out.Bytes()
		}
		raw := append([]byte(nil), z.Raw()...)
		if tt != xhtml.StartTagToken && tt != xhtml.SelfClosingTagToken {
			out.Write(raw)
			continue
		}
		tok := z.Token()
		changed := false
		for i, a := range tok.Attr {
			if unsafeAttr(a) {
				tok.Attr[i].Val = "#"
				changed = true
			}
		}
		if changed {
			out.WriteString(tok.String())
		} else {
			out.Write(raw)
		}
	}
}

func unsafeAttr(a xhtml.Attribute) bool {
	key := strings.ToLower(a.Key)
	if a.Namespace != "" {
		key = a.Namespace + ":" + key
	}
	switch {
	case urlAttrs[key]:
		return dangerousURL([]byte(a.Val))
	case key == "srcset" || key == "imagesrcset":
		for _, c := range strings.Split(a.Val, ",") {
			if dangerousURL([]byte(strings.TrimSpace(c))) {
				return true
			}
		}
	case key == "style":
		l := strings.ToLower(a.Val)
		return strings.Contains(l, "javascript:") || strings.Contains(l, "expression(")
	}
	return false
}

// DefaultEmbeds are the hosts whose players a post may embed in an iframe
// when publish.yaml has no embeds key: the privacy-friendly YouTube and
// Vimeo players.
var DefaultEmbeds = []string{"www.youtube-nocookie.com", "player.vimeo.com"}

// sanitizer keeps the safe part of the raw HTML in a post (unsafe_html
// off, the default) and says what it removed. It is built once per Load
// and is safe for concurrent use.
//
// Every piece of raw HTML goldmark finds (an HTML block, an inline tag) is
// cleaned on its own by a bluemonday policy: the elements and attributes a
// blog needs are kept (see newSanitizer), the rest is removed. Cleaning
// piece by piece is sound because nothing the policy lets through changes
// how a browser reads what follows it: no raw-text or RCDATA element
// (script, style, textarea, title, xmp, noscript, noembed, plaintext), no
// foreign content (svg, math), no comment, and the one raw-text element
// kept, an iframe from an embeds host, is always written closed with its
// content dropped. Each cleaned piece so ends with the browser in its data
// state, and the Markdown after it reads as it was written.
//
// <noscript> is unwrapped before cleaning: a post's scripts never run on
// the site, so its no-script fallback (a chart's image, say) is what a
// reader should see. Its content is then cleaned like any other markup.
type sanitizer struct {
	policy *bluemonday.Policy
	embeds []string // iframe hosts, lower case
}

// removal is one thing the sanitizer took out of a piece of raw HTML: at
// is the byte offset in the piece of the tag (or attribute) it was in,
// what says what it was ("script element removed").
type removal struct {
	at   int
	what string
}

// keptElements are the elements raw HTML may use, and the attributes each
// may carry besides the global ones (sanitizerGlobalAttrs).
var keptElements = map[string][]string{
	"p": {"align"}, "div": {"align"}, "span": nil, "br": nil, "hr": nil, "wbr": nil,
	"h1": {"align"}, "h2": {"align"}, "h3": {"align"}, "h4": {"align"}, "h5": {"align"}, "h6": {"align"},
	"blockquote": {"cite"}, "pre": nil, "code": nil, "em": nil, "strong": nil, "b": nil, "i": nil,
	"u": nil, "s": nil, "strike": nil, "del": {"cite", "datetime"}, "ins": {"cite", "datetime"},
	"q": {"cite"}, "small": nil, "big": nil, "sub": nil, "sup": nil, "kbd": nil, "samp": nil,
	"var": nil, "tt": nil, "abbr": nil, "mark": nil, "cite": nil, "dfn": nil, "time": {"datetime"},
	"bdi": nil, "bdo": nil, "ruby": nil, "rt": nil, "rp": nil, "address": nil,
	"section": nil, "article": nil, "aside": nil, "header": nil, "footer": nil,
	"ul": nil, "ol": {"start", "reversed", "type"}, "li": {"value"}, "dl": nil, "dt": nil, "dd": nil,
	"table": {"align", "width", "summary"}, "caption": nil, "colgroup": {"span", "width"},
	"col": {"span", "width"}, "thead": nil, "tbody": nil, "tfoot": nil, "tr": {"align", "valign"},
	"th":      {"colspan", "rowspan", "scope", "headers", "abbr", "align", "valign", "width", "height"},
	"td":      {"colspan", "rowspan", "headers", "align", "valign", "width", "height"},
	"details": {"open", "name"}, "summary": nil, "figure": nil, "figcaption": nil,
	"a":       {"href", "name", "rel", "target", "hreflang", "type"},
	"img":     {"src", "alt", "srcset", "sizes", "width", "height", "loading", "decoding", "align"},
	"picture": nil, "source": {"src", "srcset", "sizes", "media", "type", "width", "height"},
	"video":    {"src", "poster", "controls", "width", "height", "preload", "loop", "muted", "playsinline"},
	"audio":    {"src", "controls", "preload", "loop", "muted"},
	"track":    {"src", "kind", "srclang", "label", "default"},
	"progress": {"value", "max"}, "meter": {"value", "min", "max", "low", "high", "optimum"},
	"iframe": {"src", "width", "height", "allow", "allowfullscreen", "frameborder"},
}

// containers are elements whose removal takes their whole content's
// markup with it as far as the report goes: one "svg element removed",
// not one line per path.
var containers = map[string]bool{"svg": true, "math": true, "object": true, "form": true, "select": true, "datalist": true, "template": true, "frameset": true, "applet": true}

var (
	// A URL with no scheme (none before the first / ? #) or http(s),
	// with no white space or comma: one srcset candidate's URL.
	srcsetURL     = `(?:https?://[^\s,]+|[^\s,:/?#]+(?:[/?#][^\s,]*)?|[/?#][^\s,]*)`
	srcsetRE      = regexp.MustCompile(`^\s*` + srcsetURL + `(?:\s+[0-9.]+[wx])?\s*(?:,\s*` + srcsetURL + `(?:\s+[0-9.]+[wx])?\s*)*$`)
	posterRE      = regexp.MustCompile(`^\s*` + srcsetURL + `\s*$`)
	sizeRE        = regexp.MustCompile(`^\s*[0-9]{1,5}(?:\.[0-9]+)?(?:px|%)?\s*$`)
	numberRE      = regexp.MustCompile(`^\s*-?[0-9]{1,9}(?:\.[0-9]+)?\s*$`)
	idRE          = regexp.MustCompile(`^[^\s]{1,200}$`)
	classRE       = regexp.MustCompile(`^[A-Za-z0-9_\- ]{0,500}$`)
	langRE        = regexp.MustCompile(`^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$`)
	relRE         = regexp.MustCompile(`^[A-Za-z \-]{0,100}$`)
	datetimeRE    = regexp.MustCompile(`^[0-9T:\-+. Z]{1,40}$`)
	typeRE        = regexp.MustCompile(`^[A-Za-z0-9/+\-.;=" ]{1,100}$`)
	mediaRE       = regexp.MustCompile(`^[A-Za-z0-9()\-:,. ]{1,200}$`)
	allowRE       = regexp.MustCompile(`^(?:\s*(?:accelerometer|autoplay|clipboard-write|encrypted-media|gyroscope|picture-in-picture|fullscreen|web-share)(?:\s+[^;]*)?\s*(?:;|$))*$`)
	blankRE       = regexp.MustCompile(`^_blank$`)
	alignRE       = regexp.MustCompile(`^(?i)(left|center|right|justify|top|middle|bottom)$`)
	valignRE      = regexp.MustCompile(`^(?i)(top|middle|bottom|baseline)$`)
	loadingRE     = regexp.MustCompile(`^(?i)(lazy|eager)$`)
	decodingRE    = regexp.MustCompile(`^(?i)(sync|async|auto)$`)
	preloadRE     = regexp.MustCompile(`^(?i)(none|metadata|auto)?$`)
	frameborderRE = regexp.MustCompile(`^[01]$`)
	dirRE         = regexp.MustCompile(`^(?i)(ltr|rtl|auto)$`)
	boolRE        = regexp.MustCompile(`^(true|false)$`)
	borderRE      = regexp.MustCompile(`^(?:none|0|(?:[0-9.]+(?:px|em|rem)\s+)?(?:solid|dashed|dotted|double)(?:\s+(?:#[0-9a-f]{3,8}|[a-z]+))?)$`)
	lineHeightRE  = regexp.MustCompile(`^(?:normal|[0-9]*\.?[0-9]+(?:em|rem|%|px)?)$`)
	listStyleRE   = regexp.MustCompile(`^(?:none|disc|circle|square|decimal|lower-alpha|upper-alpha|lower-roman|upper-roman)(?:\s+(?:inside|outside))?$`)
	fontSizeRE    = regexp.MustCompile(`^(?:[0-9]*\.?[0-9]+(?:em|rem|%)|smaller|larger|small|medium|large|x-large)$`)
	nonNegativeRE = regexp.MustCompile(`^(?:auto|0|[0-9]*\.?[0-9]+(?:px|em|rem|%|ex|ch|vw|vh|pt))(?:\s+(?:auto|0|[0-9]*\.?[0-9]+(?:px|em|rem|%|ex|ch|vw|vh|pt))){0,3}$`)
)

// iframeSandbox is the sandbox of every embedded player: enough for a
// video player (its own scripts and cookies, full screen, a link that
// opens the video on its site), nothing that reaches the page.
const iframeSandbox = "allow-scripts allow-same-origin allow-presentation allow-popups allow-popups-to-escape-sandbox"

// newSanitizer builds the policy; embeds are the hosts an iframe may load.
//
// Styles: a safe subset is kept rather than the style attribute dropped,
// because authors use raw HTML for layout Markdown cannot write (the Rust
// blog's flex rows, padded and bordered cards, fixed chart heights). What
// could place content over the site's own (position, inset, z-index,
// transform, float, negative margins, shadows) is removed, and so are
// colours and backgrounds: the theme has a light and a dark palette, and a
// colour fixed by a post is unreadable in one of them (or, kept without its
// background, in both). No value may hold url(), expression() or var():
// each property takes only the values bluemonday's validators (or the
// patterns here) accept.
func newSanitizer(embeds []string) *sanitizer {
	s := &sanitizer{}
	for _, h := range embeds {
		s.embeds = append(s.embeds, strings.ToLower(h))
	}
	p := bluemonday.NewPolicy()
	// http, https, mailto and relative URLs, which must parse (bluemonday's
	// AllowStandardURLs without its rel="nofollow": these are the site
	// owner's links, not a stranger's comment).
	p.RequireParseableURLs(true)
	p.AllowRelativeURLs(true)
	p.AllowURLSchemes("mailto", "http", "https")
	p.AllowURLSchemeWithCustomPolicy("data", func(u *url.URL) bool { return rasterDataURL(u.Opaque) })
	for el, attrs := range keptElements {
		p.AllowElements(el)
		for _, a := range attrs {
			switch a {
			case "href", "src", "cite", "name", "alt", "summary", "label", "abbr", "headers":
				if el == "iframe" && a == "src" {
					continue // below: only from embeds hosts
				}
				if el == "source" && a == "src" {
					// bluemonday checks no URL on source: only http(s) or
					// relative ones here.
					p.AllowAttrs(a).Matching(posterRE).OnElements(el)
					continue
				}
				p.AllowAttrs(a).OnElements(el)
			case "srcset":
				p.AllowAttrs(a).Matching(srcsetRE).OnElements(el)
			case "poster":
				p.AllowAttrs(a).Matching(posterRE).OnElements(el)
			case "width", "height":
				p.AllowAttrs(a).Matching(sizeRE).OnElements(el)
			case "start", "value", "max", "min", "low", "high", "optimum", "span", "colspan", "rowspan":
				p.AllowAttrs(a).Matching(numberRE).OnElements(el)
			case "datetime":
				p.AllowAttrs(a).Matching(datetimeRE).OnElements(el)
			case "rel":
				p.AllowAttrs(a).Matching(relRE).OnElements(el)
			case "target":
				// _blank implies rel=noopener in every current browser; a
				// named window would keep a handle on this page.
				p.AllowAttrs(a).Matching(blankRE).OnElements(el)
			case "type", "hreflang", "srclang", "kind", "scope":
				p.AllowAttrs(a).Matching(typeRE).OnElements(el)
			case "media", "sizes":
				p.AllowAttrs(a).Matching(mediaRE).OnElements(el)
			case "allow":
				p.AllowAttrs(a).Matching(allowRE).OnElements(el)
			case "align":
				p.AllowAttrs(a).Matching(alignRE).OnElements(el)
			case "valign":
				p.AllowAttrs(a).Matching(valignRE).OnElements(el)
			case "loading":
				p.AllowAttrs(a).Matching(loadingRE).OnElements(el)
			case "decoding":
				p.AllowAttrs(a).Matching(decodingRE).OnElements(el)
			case "preload":
				p.AllowAttrs(a).Matching(preloadRE).OnElements(el)
			case "frameborder":
				p.AllowAttrs(a).Matching(frameborderRE).OnElements(el)
			default: // boolean attributes: open, reversed, controls, loop, ...
				p.AllowAttrs(a).OnElements(el)
			}
		}
		switch el {
		case "img", "source", "track", "iframe":
		default:
			// Kept when its attributes are not, so that its end tag,
			// perhaps in another piece of raw HTML, still has a start.
			p.AllowNoAttrs().OnElements(el)
		}
	}
	if host := hostAlternation(s.embeds); host != "" {
		p.AllowAttrs("src").Matching(regexp.MustCompile(`^(?i)(?:https:)?//(?:` + host + `)(?:[/?#][^\s]*)?$`)).OnElements("iframe")
	}
	p.AllowAttrs("id").Matching(idRE).Globally()
	p.AllowAttrs("class").Matching(classRE).Globally()
	p.AllowAttrs("lang").Matching(langRE).Globally()
	p.AllowAttrs("dir").Matching(dirRE).Globally()
	p.AllowAttrs("aria-hidden").Matching(boolRE).Globally()
	p.AllowAttrs("title", "aria-label", "aria-describedby").Globally()

	p.AllowStyles("text-align", "vertical-align", "white-space", "font-weight", "font-style",
		"text-decoration", "text-transform", "list-style-type", "border-collapse",
		"display", "flex", "flex-direction", "flex-wrap", "flex-grow", "flex-shrink", "flex-basis",
		"justify-content", "align-items", "align-self", "overflow", "overflow-x", "overflow-y",
		"width", "height", "min-width", "max-width", "min-height", "max-height",
		"padding", "padding-top", "padding-right", "padding-bottom", "padding-left",
		"border-radius", "border-style", "border-width").Globally()
	p.AllowStyles("border", "border-top", "border-right", "border-bottom", "border-left").
		Matching(borderRE).Globally()
	p.AllowStyles("margin", "margin-top", "margin-right", "margin-bottom", "margin-left", "gap", "row-gap", "column-gap").
		Matching(nonNegativeRE).Globally()
	p.AllowStyles("line-height").Matching(lineHeightRE).Globally()
	p.AllowStyles("list-style").Matching(listStyleRE).Globally()
	p.AllowStyles("cursor").MatchingEnum("auto", "default", "pointer", "help", "text").Globally()
	p.AllowStyles("clear").MatchingEnum("none", "left", "right", "both").Globally()
	p.AllowStyles("font-size").Matching(fontSizeRE).Globally()
	s.policy = p
	return s
}

// hostAlternation is the hosts as a regular expression alternation.
func hostAlternation(hosts []string) string {
	var parts []string
	for _, h := range hosts {
		parts = append(parts, regexp.QuoteMeta(h))
	}
	return strings.Join(parts, "|")
}

// rasterDataURL reports a data: URL's content (what follows "data:") that
// is a PNG, JPEG, GIF or WebP image: the only data: URLs an image may use.
func rasterDataURL(opaque string) bool {
	o := strings.ToLower(strings.TrimSpace(opaque))
	for _, t := range []string{"image/png", "image/jpeg", "image/jpg", "image/gif", "image/webp"} {
		if rest, ok := strings.CutPrefix(o, t); ok && (strings.HasPrefix(rest, ";") || strings.HasPrefix(rest, ",")) {
			return true
		}
	}
	return false
}

// resolveFunc checks a local URL of kept raw HTML as the link checks do
// for Markdown, and gives the URL to write: el and attr say where it is
// ("img", "src"), at is the attribute's byte offset in the piece.
type resolveFunc func(el, attr, val string, at int) string

// clean sanitises one piece of raw HTML. It returns the kept HTML and
// what was removed; text, when not nil, gets the piece's visible text,
// with a space at every tag; resolve, when not nil, checks and rewrites
// the URLs of links, images and media that are kept.
func (s *sanitizer) clean(frag []byte, text *bytes.Buffer, resolve resolveFunc) ([]byte, []removal) {
	in := prepareAll(frag)
	mid := s.policy.SanitizeBytes(in)
	pieces, kept := s.finish(mid, text)
	removed, _ := s.removed(in, kept)
	return write(pieces, kept, resolve, len(mid)), removed
}

// prepareAll runs prepare on frag as needed: nested <noscript> is
// unwrapped a few levels deep; any deeper is removed with its content (and
// reported). The result has frag's length.
func prepareAll(frag []byte) []byte {
	in := frag
	for i := 0; i < 4 && (containsFold(in, "noscript") || i == 0 && containsFold(in, "iframe")); i++ {
		var changed bool
		if in, changed = prepare(in); !changed {
			break
		}
	}
	return in
}

// keptTag is a start tag in the sanitised output.
type keptTag struct {
	tok     xhtml.Token
	raw     []byte // as bluemonday wrote it
	changed bool   // tok differs from raw: write tok
	suffix  string // written after the tag ("</iframe>")
	inAt    int    // the offset of its tag in the input, -1 if unknown
	inRaw   []byte // that tag as written
}

// piece is a part of the sanitised output: bytes, or a kept tag.
type piece struct {
	raw []byte
	tag int // index in the kept tags, or -1
}

// finish is the pass over bluemonday's output that it cannot do itself:
// iframes get their sandbox, are written closed and lose their content;
// protocol-relative player URLs become https; video and audio always have
// controls (with autoplay gone there is no other way to play them); data:
// URLs stay only in an img's src. It returns the output in pieces and its
// start tags, and writes the visible text to text.
func (s *sanitizer) finish(mid []byte, text *bytes.Buffer) ([]piece, []keptTag) {
	var pieces []piece
	var kept []keptTag
	z := xhtml.NewTokenizer(bytes.NewReader(mid))
	inFrame := false
	space := func() {
		if text != nil && text.Len() > 0 && text.Bytes()[text.Len()-1] != ' ' {
			text.WriteByte(' ')
		}
	}
	rawPiece := func(b []byte) {
		// Consecutive bytes of mid share one piece.
		if n := len(pieces); n > 0 && pieces[n-1].tag < 0 {
			pieces[n-1].raw = append(pieces[n-1].raw, b...)
			return
		}
		pieces = append(pieces, piece{raw: append([]byte(nil), b...), tag: -1})
	}
	for {
		tt := z.Next()
		switch tt {
		case xhtml.ErrorToken:
			return pieces, kept
		case xhtml.TextToken:
			if inFrame {
				continue
			}
			rawPiece(z.Raw())
			if text != nil {
				text.Write(z.Text())
			}
		case xhtml.EndTagToken:
			space()
			if name, _ := z.TagName(); string(name) == "iframe" {
				inFrame = false
				continue
			}
			rawPiece(z.Raw())
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			space()
			kt := keptTag{raw: append([]byte(nil), z.Raw()...), inAt: -1}
			kt.tok = z.Token()
			tok := &kt.tok
			switch tok.Data {
			case "iframe":
				src := attrValue(tok.Attr, "src")
				if src == "" {
					continue // no player to show; reported as removed
				}
				attrs := make([]xhtml.Attribute, 0, len(tok.Attr)+3)
				for _, a := range tok.Attr {
					if a.Key == "src" && strings.HasPrefix(a.Val, "//") {
						a.Val = "https:" + a.Val
					}
					attrs = append(attrs, a)
				}
				tok.Attr = append(attrs,
					xhtml.Attribute{Key: "sandbox", Val: iframeSandbox},
					xhtml.Attribute{Key: "referrerpolicy", Val: "strict-origin-when-cross-origin"},
					xhtml.Attribute{Key: "loading", Val: "lazy"})
				tok.Type = xhtml.StartTagToken
				kt.changed, kt.suffix = true, "</iframe>"
				inFrame = tt == xhtml.StartTagToken
			case "video", "audio":
				if !hasAttr(tok.Attr, "controls") {
					tok.Attr = append(tok.Attr, xhtml.Attribute{Key: "controls"})
					kt.changed = true
				}
			}
			if tok.Data != "img" {
				attrs := tok.Attr[:0]
				for _, a := range tok.Attr {
					if (a.Key == "href" || a.Key == "src" || a.Key == "cite") && isDataURL(a.Val) {
						kt.changed = true
						continue
					}
					attrs = append(attrs, a)
				}
				tok.Attr = attrs
				if len(attrs) == 0 && (tok.Data == "source" || tok.Data == "track") {
					continue // nothing left to load; reported as removed
				}
			}
			pieces = append(pieces, piece{tag: len(kept)})
			kept = append(kept, kt)
		default:
			rawPiece(z.Raw())
		}
	}
}

// resolvedAttrs are the URL attributes that resolve checks and rewrites,
// by element.
var resolvedAttrs = map[string][]string{
	"a": {"href"}, "img": {"src"}, "source": {"src"}, "video": {"src", "poster"}, "audio": {"src"}, "track": {"src"},
}

// write joins the pieces, resolving the URLs of kept tags whose place in
// the input is known.
func write(pieces []piece, kept []keptTag, resolve resolveFunc, size int) []byte {
	out := make([]byte, 0, size+64)
	for _, p := range pieces {
		if p.tag < 0 {
			out = append(out, p.raw...)
			continue
		}
		kt := &kept[p.tag]
		if resolve != nil && kt.inAt >= 0 {
			for _, key := range resolvedAttrs[kt.tok.Data] {
				for i, a := range kt.tok.Attr {
					if a.Key != key {
						continue
					}
					if v := resolve(kt.tok.Data, key, a.Val, kt.inAt+attrOffset(kt.inRaw, key)); v != a.Val {
						kt.tok.Attr[i].Val = v
						kt.changed = true
					}
				}
			}
		}
		if kt.changed {
			out = append(out, kt.tok.String()...)
		} else {
			out = append(out, kt.raw...)
		}
		out = append(out, kt.suffix...)
	}
	return out
}

func isDataURL(v string) bool {
	v = strings.TrimLeft(v, " \t\n\r\f")
	return len(v) >= 5 && strings.EqualFold(v[:5], "data:")
}

func attrValue(attrs []xhtml.Attribute, key string) string {
	for _, a := range attrs {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasAttr(attrs []xhtml.Attribute, key string) bool {
	for _, a := range attrs {
		if a.Key == key {
			return true
		}
	}
	return false
}

// added are the attributes finish adds: a kept tag may have them when its
// input tag did not.
var added = map[string]bool{"sandbox": true, "referrerpolicy": true, "loading": true, "controls": true}

// removed compares the input's tags with the kept ones, in order, and
// names what is missing: elements, attributes and style properties.
// bluemonday keeps the tags it keeps in their order, so a kept tag is the
// next input tag of its name whose attributes include all of its own.
// It records in each kept tag where it was in the input, and returns how
// many kept tags it matched (all of them, unless bluemonday's output
// broke that rule: the fuzz test checks it).
func (s *sanitizer) removed(in []byte, kept []keptTag) ([]removal, int) {
	var out []removal
	z := xhtml.NewTokenizer(bytes.NewReader(in))
	off, j := 0, 0
	var inside string // a removed container being skipped, and its depth
	depth := 0
	for {
		tt := z.Next()
		raw := z.Raw()
		at := off
		off += len(raw)
		switch tt {
		case xhtml.ErrorToken:
			if len(raw) > 1 && raw[0] == '<' {
				tag, _, _ := strings.Cut(string(bytes.TrimSpace(raw)), "\n")
				out = append(out, removal{at, "incomplete tag " + clip(tag, 30) + " removed"})
			}
			return out, j
		case xhtml.EndTagToken:
			if inside != "" {
				if name, _ := z.TagName(); string(name) == inside {
					if depth--; depth == 0 {
						inside = ""
					}
				}
			}
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			rawTag := append([]byte(nil), raw...)
			tok := z.Token()
			if inside != "" && tok.Data == inside && tt == xhtml.StartTagToken {
				depth++
			}
			if j < len(kept) && kept[j].tok.Data == tok.Data && attrsWithin(kept[j].tok.Attr, tok.Attr) {
				k := &kept[j]
				if inside == "" {
					out = append(out, attrRemovals(at, rawTag, tok, k.tok.Attr)...)
				}
				k.inAt, k.inRaw = at, rawTag
				j++
				continue
			}
			if inside != "" {
				continue
			}
			out = append(out, removal{at, s.elementMessage(tok)})
			if _, known := keptElements[tok.Data]; known && tok.Data != "iframe" {
				// A kept element left with no attribute it may have.
				out = append(out, attrRemovals(at, rawTag, tok, nil)...)
			}
			if containers[tok.Data] && tt == xhtml.StartTagToken {
				inside, depth = tok.Data, 1
			}
		}
	}
}

// elementMessage says why an element was removed.
func (s *sanitizer) elementMessage(tok xhtml.Token) string {
	switch tok.Data {
	case "iframe":
		src := strings.TrimSpace(attrValue(tok.Attr, "src"))
		u, err := url.Parse(src)
		switch {
		case src == "":
			return "iframe element removed (it has no src)"
		case err != nil || u.Host == "":
			return "iframe element removed (its src is not an https address)"
		case len(s.embeds) == 0:
			return "iframe from " + u.Host + " removed: embeds in publish.yaml allows no host"
		}
		return "iframe from " + u.Host + " removed: add its host to embeds in publish.yaml (now " + strings.Join(s.embeds, ", ") + ")"
	case "img":
		return "img element removed (no safe src)"
	}
	return clip(tok.Data, 30) + " element removed"
}

// attrsWithin reports whether every attribute of a kept tag was in the
// input tag, but for those the sanitizer adds.
func attrsWithin(keptAttrs, inAttrs []xhtml.Attribute) bool {
	for _, k := range keptAttrs {
		if !added[k.Key] && !hasAttr(inAttrs, k.Key) {
			return false
		}
	}
	return true
}

// attrRemovals names the attributes of tok (at offset at, written as raw)
// that keptAttrs lacks, and the style properties its style lost.
func attrRemovals(at int, raw []byte, tok xhtml.Token, keptAttrs []xhtml.Attribute) []removal {
	var out []removal
	seen := map[string]bool{}
	for i, a := range tok.Attr {
		if seen[a.Key] {
			continue
		}
		seen[a.Key] = true
		pos := at
		if i < 64 {
			// Each search reads the tag: a tag of thousands of
			// attributes puts the rest at its start.
			pos += attrOffset(raw, a.Key)
		}
		if a.Key == "style" {
			var keptStyle string
			if hasAttr(keptAttrs, "style") {
				keptStyle = attrValue(keptAttrs, "style")
			}
			keptProps := map[string]bool{}
			for _, p := range styleProps(keptStyle) {
				keptProps[p] = true
			}
			var gone []string
			for _, p := range styleProps(a.Val) {
				if !keptProps[p] {
					gone = append(gone, clip(p, 30))
					keptProps[p] = true
				}
			}
			switch {
			case len(gone) == 1:
				out = append(out, removal{pos, "style property " + gone[0] + " removed"})
			case len(gone) > 1:
				out = append(out, removal{pos, "style properties " + strings.Join(gone, ", ") + " removed"})
			}
			continue
		}
		if hasAttr(keptAttrs, a.Key) {
			continue
		}
		msg := clip(a.Key, 30) + " attribute removed"
		if scheme := urlScheme(a.Val); (urlAttrs[a.Key] || a.Key == "srcset") && scheme != "" && scheme != "http" && scheme != "https" && scheme != "mailto" {
			if tok.Data == "img" && scheme == "data" {
				msg += " (only PNG, JPEG, GIF and WebP data: images are kept)"
			} else {
				msg += " (" + clip(scheme, 20) + ": URL)"
			}
		}
		out = append(out, removal{pos, msg})
	}
	return out
}

// attrOffset is where key starts in a raw start tag, or 0.
func attrOffset(raw []byte, key string) int {
	lower := make([]byte, len(raw)) // ASCII only: offsets must not move
	for i, c := range raw {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	k := []byte(key)
	for from := 1; from < len(lower); {
		i := bytes.Index(lower[from:], k)
		if i < 0 {
			return 0
		}
		i += from
		before, after := lower[i-1], byte('>')
		if i+len(k) < len(lower) {
			after = lower[i+len(k)]
		}
		if isHTMLSpace(before) && (isHTMLSpace(after) || after == '=' || after == '>' || after == '/') {
			return i
		}
		from = i + 1
	}
	return 0
}

func isHTMLSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '/'
}

// styleProps are the property names of a style attribute, lower case.
func styleProps(style string) []string {
	var out []string
	for _, d := range strings.Split(style, ";") {
		if k, _, ok := strings.Cut(d, ":"); ok {
			if k = strings.ToLower(strings.TrimSpace(k)); k != "" {
				out = append(out, k)
			}
		}
	}
	return out
}

// urlScheme is the lower-case scheme of a URL attribute's value as a
// browser reads it (blanks and control characters dropped), or "".
func urlScheme(v string) string {
	v = strings.Map(func(r rune) rune {
		if r <= ' ' || r == 0x7f {
			return -1
		}
		return r
	}, v)
	i := strings.IndexAny(v, ":/?#")
	if i <= 0 || v[i] != ':' {
		return ""
	}
	return strings.ToLower(v[:i])
}

// clip is s cut to at most n runes, with "…" when cut.
func clip(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j] + "…"
		}
		i++
	}
	return s
}

// containsFold reports whether b contains the lower-case ASCII word s in
// any case.
func containsFold(b []byte, s string) bool {
	for i := 0; i+len(s) <= len(b); i++ {
		if b[i]|0x20 == s[0] && bytes.EqualFold(b[i:i+len(s)], []byte(s)) {
			return true
		}
	}
	return false
}

// prepare blanks out, with spaces of the same length (so that offsets into
// b stay right), the <noscript> and </noscript> tags of b, so that what they
// held is read as markup, and the content of every iframe, which no
// browser shows (bluemonday would keep it as text). changed says whether
// there was any.
func prepare(b []byte) (out []byte, changed bool) {
	out = append([]byte(nil), b...)
	z := xhtml.NewTokenizer(bytes.NewReader(b))
	off := 0
	blank := func(n int) {
		for i := off; i < off+n; i++ {
			out[i] = ' '
		}
		changed = true
	}
	inFrame := false
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			return out, changed
		}
		n := len(z.Raw())
		switch tt {
		case xhtml.StartTagToken, xhtml.EndTagToken, xhtml.SelfClosingTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "noscript":
				blank(n)
			case "iframe":
				inFrame = tt == xhtml.StartTagToken
			}
		case xhtml.TextToken:
			if inFrame {
				blank(n)
			}
			inFrame = false
		}
		off += n
	}
}
