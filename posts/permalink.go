package posts

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// DefaultPermalink is where posts live unless publish.yaml says otherwise.
const DefaultPermalink = "/posts/:slug/"

// permalinkStyles are Jekyll's named permalink styles.
var permalinkStyles = map[string]string{
	"date":     "/:categories/:year/:month/:day/:title:output_ext",
	"pretty":   "/:categories/:year/:month/:day/:title/",
	"ordinal":  "/:categories/:year/:y_day/:title:output_ext",
	"weekdate": "/:categories/:year/W:week/:short_day/:title:output_ext",
	"none":     "/:categories/:title:output_ext",
}

// permalinkTokens are the tokens a permalink pattern may use.
var permalinkTokens = map[string]bool{
	"year": true, "month": true, "day": true, "i_month": true, "i_day": true, "short_year": true,
	"y_day": true, "week": true, "short_day": true, "hour": true, "minute": true, "second": true,
	"slug": true, "title": true, "categories": true, "output_ext": true,
	"section": true, "sections": true, "filename": true, "path": true,
}

// maxPermalinkLen bounds a permalink pattern, and an address made from one.
const maxPermalinkLen = 1024

// Permalink is a parsed address pattern for posts: literal text and tokens.
// The zero value is not valid; use ParsePermalink.
type Permalink struct {
	pattern string
	parts   []permalinkPart
}

type permalinkPart struct {
	lit   string // literal text, when tok is ""
	tok   string // token name without the colon
	index int    // byte offset of the part in the pattern, for errors
}

// PermalinkError is a pattern that cannot be used, with the byte offset in
// the pattern of what is wrong.
type PermalinkError struct {
	Pattern string
	Offset  int
	Msg     string
}

func (e *PermalinkError) Error() string {
	return fmt.Sprintf("permalink %q: %s", e.Pattern, e.Msg)
}

// ParsePermalink parses a pattern such as "/:year/:month/:slug/" or one of
// Jekyll's named styles (date, pretty, ordinal, weekdate, none). It returns
// a *PermalinkError for an unknown token, a relative pattern, a ".." segment
// or a pattern that would write over publishbot's own files.
func ParsePermalink(s string) (Permalink, error) {
	pattern := s
	if style, ok := permalinkStyles[s]; ok {
		pattern = style
	}
	return parsePattern(s, pattern, true)
}

// parsePattern parses pattern (s as written, for errors); a pattern
// without a token is an error when needToken is set (a site's pattern),
// and a fixed address otherwise (a post's own permalink).
func parsePattern(s, pattern string, needToken bool) (Permalink, error) {
	fail := func(off int, format string, args ...any) (Permalink, error) {
		return Permalink{}, &PermalinkError{Pattern: s, Offset: off, Msg: fmt.Sprintf(format, args...)}
	}
	switch {
	case pattern == "":
		return fail(0, "is empty")
	case len(pattern) > maxPermalinkLen:
		return fail(0, "is longer than %d bytes", maxPermalinkLen)
	case !strings.HasPrefix(pattern, "/"):
		return fail(0, "must start with / (it is an address from the site's root)")
	case strings.ContainsAny(pattern, "?#\\\x00"):
		return fail(strings.IndexAny(pattern, "?#\\\x00"), "may not contain ?, #, \\ or NUL")
	}
	p := Permalink{pattern: pattern}
	lit := strings.Builder{}
	litStart := 0
	flush := func() {
		if lit.Len() > 0 {
			p.parts = append(p.parts, permalinkPart{lit: lit.String(), index: litStart})
			lit.Reset()
		}
	}
	hasToken := false
	for i := 0; i < len(pattern); {
		c := pattern[i]
		if c != ':' {
			if lit.Len() == 0 {
				litStart = i
			}
			lit.WriteByte(c)
			i++
			continue
		}
		j := i + 1
		for j < len(pattern) && (pattern[j] >= 'a' && pattern[j] <= 'z' || pattern[j] == '_') {
			j++
		}
		name := pattern[i+1 : j]
		// ":title:output_ext" — a token name ends where a known one ends
		// when the rest is not a token ("..:slugx" is an error, not ":slug"+"x").
		if name == "" {
			return fail(i, "a ':' must start a token such as :year or :slug")
		}
		if !permalinkTokens[name] {
			return fail(i, "unknown token :%s (known: %s)", name, knownTokens())
		}
		flush()
		p.parts = append(p.parts, permalinkPart{tok: name, index: i})
		hasToken = true
		i = j
	}
	flush()
	if !hasToken && needToken {
		return fail(0, "has no token: every post would get the same address (use :slug)")
	}
	un, err := url.PathUnescape(pattern)
	if err != nil {
		return fail(0, "is not a valid URL path: %v", err)
	}
	if i := strings.IndexFunc(un, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }); i >= 0 || !utf8.ValidString(un) {
		return fail(0, "may not contain control characters, \\ or bytes that are not UTF-8 (escaped or not)")
	}
	for _, seg := range strings.Split(un, "/") {
		if seg == ".." || seg == "." || strings.EqualFold(seg, ".git") {
			return fail(max(0, strings.Index(pattern, "/"+seg)), "may not contain a %q segment", seg)
		}
	}
	if first := firstSegment(un); isReservedSegment(first) {
		return fail(1, "may not write under /%s/ (publishbot's own files live there)", first)
	}
	return p, nil
}

func knownTokens() string {
	return ":year :month :day :i_month :i_day :short_year :y_day :slug :title :categories :output_ext :section :sections :filename :path"
}

// firstSegment is the literal first path segment of a pattern, or "" when
// it starts with a token.
func firstSegment(pattern string) string {
	s := strings.TrimPrefix(pattern, "/")
	s, _, _ = strings.Cut(s, "/")
	if strings.Contains(s, ":") {
		return ""
	}
	return s
}

// isReservedSegment reports whether a first address segment would put a
// post over files publishbot or git own.
func isReservedSegment(seg string) bool {
	switch strings.ToLower(seg) {
	case "pr-preview", ".git", "cname", ".nojekyll":
		return true
	}
	return false
}

// String is the pattern as it was expanded from a named style.
func (p Permalink) String() string { return p.pattern }

// AddressFields are what a permalink pattern's tokens are made of, for one
// post.
type AddressFields struct {
	Date       time.Time // in the site's time zone
	Slug       string    // front matter slug, else the file or bundle name without a date prefix
	Title      string    // Jekyll's :title: the file name's slug part, as written
	Categories []string  // Jekyll's categories, in order
	Sections   []string  // folders between posts_dir and the post
	Filename   string    // the file (or bundle folder) name without extension
}

// Expand is the post's address: always starting with "/", with empty
// segments (no categories, no section) collapsed, each segment escaped as a
// URL path segment.
func (p Permalink) Expand(f AddressFields) string {
	var b strings.Builder
	for _, part := range p.parts {
		if part.tok == "" {
			b.WriteString(part.lit)
			continue
		}
		b.WriteString(tokenValue(part.tok, f))
	}
	return cleanAddress(b.String())
}

func tokenValue(tok string, f AddressFields) string {
	d := f.Date
	two := func(n int) string {
		if n >= 0 && n < 10 {
			return "0" + strconv.Itoa(n)
		}
		return strconv.Itoa(n)
	}
	switch tok {
	case "year":
		return strconv.Itoa(d.Year())
	case "short_year":
		return two(d.Year() % 100)
	case "month":
		return two(int(d.Month()))
	case "i_month":
		return strconv.Itoa(int(d.Month()))
	case "day":
		return two(d.Day())
	case "i_day":
		return strconv.Itoa(d.Day())
	case "y_day":
		return fmt.Sprintf("%03d", d.YearDay())
	case "week":
		_, w := d.ISOWeek()
		return two(w)
	case "short_day":
		return d.Weekday().String()[:3]
	case "hour":
		return two(d.Hour())
	case "minute":
		return two(d.Minute())
	case "second":
		return two(d.Second())
	case "slug":
		return escapeSegment(f.Slug)
	case "title":
		t := f.Title
		if t == "" {
			t = f.Slug
		}
		return escapeSegment(t)
	case "filename":
		return escapeSegment(f.Filename)
	case "categories":
		var cs []string
		for _, c := range f.Categories {
			if c = strings.TrimSpace(c); c != "" {
				cs = append(cs, escapeSegment(strings.ToLower(c)))
			}
		}
		return strings.Join(cs, "/")
	case "output_ext":
		return ".html"
	case "section":
		if len(f.Sections) == 0 {
			return ""
		}
		return escapeSegment(f.Sections[0])
	case "sections":
		return escapeSegments(f.Sections)
	case "path":
		s := escapeSegments(f.Sections)
		if s != "" {
			s += "/"
		}
		return s + escapeSegment(f.Slug)
	}
	return ""
}

func escapeSegments(ss []string) string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		out = append(out, escapeSegment(s))
	}
	return strings.Join(out, "/")
}

// escapeSegment makes s one URL path segment: control characters, "/" and
// "\\" become "-", and characters a URL path cannot hold are escaped; "." and
// ".." become "_".
func escapeSegment(s string) string {
	if s == "." || s == ".." {
		return "_"
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '\\' || r == '/' {
			return '-'
		}
		return r
	}, s)
	return url.PathEscape(s)
}

// cleanAddress collapses empty segments ("//" from an empty token) and
// keeps a trailing slash.
func cleanAddress(a string) string {
	trailing := strings.HasSuffix(a, "/")
	segs := strings.Split(a, "/")
	out := segs[:0]
	for _, s := range segs {
		if s != "" {
			out = append(out, s)
		}
	}
	r := "/" + strings.Join(out, "/")
	if trailing && r != "/" {
		r += "/"
	}
	return r
}

// OutputFile is the file an address is written to, relative to the site
// root: "/a/b/" → "a/b/index.html", "/a/b.html" → "a/b.html", and an
// address ending in neither ("/2024/slug", Hugo's style) → "2024/slug.html",
// which GitHub Pages serves at "/2024/slug". The address is unescaped first.
func OutputFile(addr string) string {
	// Each segment is unescaped on its own: an escaped "/" stays in its segment.
	return OutputPath(siteAddress(addr))
}

// OutputPath is the file an unescaped site-relative address (Post.Address,
// "a/b/") is written to, as OutputFile: "a/b/" → "a/b/index.html", "a/b.html"
// → "a/b.html", "a/b" → "a/b.html".
func OutputPath(sitePath string) string {
	p := strings.TrimPrefix(sitePath, "/")
	switch {
	case p == "" || strings.HasSuffix(p, "/"):
		return p + "index.html"
	case isHTMLName(p):
		return p
	}
	return p + ".html"
}

// isHTMLName reports a path ending in .html or .htm: an address that is its
// own file.
func isHTMLName(p string) bool { return strings.HasSuffix(p, ".html") || strings.HasSuffix(p, ".htm") }

// CheckAddress returns why an address (of a post, page, alias or section)
// cannot be written, or "" when it can: it must stay inside the site and
// not write over pr-preview/, .git, CNAME or .nojekyll.
func CheckAddress(addr string) string {
	if !strings.HasPrefix(addr, "/") {
		return "must start with /"
	}
	if len(addr) > maxPermalinkLen {
		return fmt.Sprintf("is longer than %d bytes", maxPermalinkLen)
	}
	un, err := url.PathUnescape(addr)
	if err != nil {
		return "is not a valid URL path: " + err.Error()
	}
	if strings.ContainsAny(un, "\\\x00") {
		return "may not contain \\ or NUL"
	}
	if !utf8.ValidString(un) || strings.ContainsFunc(un, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "is not valid UTF-8 text without control characters (escaped or not)"
	}
	first := ""
	for rest := un[1:]; ; {
		seg, more, found := strings.Cut(rest, "/")
		if seg == ".." || seg == "." {
			return "may not contain a \"" + seg + "\" segment"
		}
		if strings.EqualFold(seg, ".git") {
			return "may not write under .git"
		}
		if first == "" {
			first = seg // the first segment that is not empty, as path.Clean would have it
		}
		if !found {
			break
		}
		rest = more
	}
	if isReservedSegment(first) {
		return "may not write over /" + first + " (publishbot's own files)"
	}
	return ""
}
