package posts

import (
	"fmt"
	"net/url"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/publishbot/publishbot/diagrams"
	"github.com/publishbot/publishbot/texmath"
)

// siteAddress turns a root-relative address, escaped or not ("/caf%C3%A9/",
// "/café/"), into the unescaped site-relative form of Post.Address
// ("café/"). An escaped "/" stays escaped, in its segment.
func siteAddress(addr string) string {
	if !strings.Contains(addr, "%") {
		return strings.TrimPrefix(addr, "/")
	}
	segs := strings.Split(strings.TrimPrefix(addr, "/"), "/")
	for i, seg := range segs {
		if !strings.Contains(seg, "%") {
			continue
		}
		if un, err := url.PathUnescape(seg); err == nil && !strings.ContainsAny(un, "/\\") && utf8.ValidString(un) &&
			!strings.ContainsFunc(un, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			segs[i] = un
		}
	}
	return strings.Join(segs, "/")
}

// AliasFiles are the files a redirect from alias (a Post.Aliases entry:
// "/old/", "/old.html", "/releases/1.88.0") is written to, so that GitHub
// Pages serves it at the address as written, with or without a trailing
// slash: "old/index.html" for a folder, the file itself for a name ending
// in .html, and otherwise both "<alias>/index.html" and "<alias>.html",
// whatever the last segment holds (never an extensionless file, which
// GitHub Pages would serve as application/octet-stream).
func AliasFiles(alias string) []string {
	a := strings.TrimPrefix(alias, "/")
	switch {
	case a == "":
		return nil
	case strings.HasSuffix(a, "/"):
		return []string{a + "index.html"}
	case isHTMLName(a):
		return []string{a}
	}
	return []string{a + "/index.html", a + ".html"}
}

// AssetDir is the folder of a post's bundle files for the post's Address:
// the address itself when it is a folder ("posts/x/"), else the address
// without its .html ("2024/x.html" and "2024/x" give "2024/x/").
func AssetDir(address string) string {
	if address == "" || strings.HasSuffix(address, "/") {
		return address
	}
	a := strings.TrimSuffix(address, ".html")
	if a == address {
		a = strings.TrimSuffix(address, ".htm")
	}
	return a + "/"
}

// addressDir is the folder part of a site-relative address: "a/b/" and
// "a/b.html" give "a/", "b/" gives "".
func addressDir(a string) string {
	i := strings.LastIndexByte(strings.TrimSuffix(a, "/"), '/')
	if i < 0 {
		return ""
	}
	return a[:i+1]
}

// commonDir is the longest folder prefix ("posts/", "") of a and b, both
// folders ending in "/" or "".
func commonDir(a, b string) string {
	for !strings.HasPrefix(b, a) {
		a = addressDir(a)
	}
	return a
}

// themeFiles are the files the default theme writes for every site, with
// what each is; besides them it writes the pages of posts, sections and
// aliases, tags/<tag>/ pages, the index's further pages (page/N/) and
// copies of the Atom feed at the paths of feeds. The renderer's tests check
// that every file it writes is one Site.Serves knows.
var themeFiles = map[string]string{
	"index.html": "the index page", "404.html": "the not-found page", "archive/index.html": "the archive page",
	"tags/index.html": "the tags page", "feed.xml": "the Atom feed", "rss.xml": "the RSS feed", "feed.json": "the JSON feed",
	"sitemap.xml": "the sitemap", "robots.txt": "robots.txt", ".nojekyll": ".nojekyll", "CNAME": "CNAME",
	"assets/style.css": "the theme's stylesheet", "assets/favicon.svg": "the theme's site icon",
	// Written only when a page has math or a diagram; always claimed, so
	// that no other file takes their place.
	texmath.StylesheetPath: "Temml's stylesheet (math)", texmath.FontPath: "Temml's font (math)",
	diagrams.ScriptPath: "the diagram script (Mermaid)", diagrams.InitPath: "the diagram script's start",
}

// themeDirs are the folders whose every file the theme may write (a tag's
// pages, the index's later pages): nothing else may be written under them,
// even where no tag or page is there yet.
var themeDirs = map[string]string{"tags": "the folder of the tag pages", "page": "the folder of the index's later pages"}

// isThemeFile reports a site-relative file the theme writes for every site.
func isThemeFile(p string) bool { _, ok := themeFiles[p]; return ok }

// ownerKind orders the owners of output files: when two want one path (or
// one path lies under the other's file), the one claimed first keeps it.
type ownerKind uint8

const (
	byTheme ownerKind = iota
	byPost
	bySection
	byRedirect
	byPage // pages.go
	byAlias
	byFile // static/, bundle and linked files
)

// owner is what writes an output file.
type owner struct {
	kind   ownerKind
	source string // the repository file it comes from; "" for the theme
	label  string // what the theme file is ("the archive page")
}

// what names the owner in messages: "the post posts/x.md", "the archive
// page".
func (o *owner) what() string {
	switch o.kind {
	case byTheme:
		return o.label
	case byPost:
		return "the post " + o.source
	case bySection:
		return "the section page of " + o.source
	case byRedirect:
		return "the redirect page of " + o.source
	case byPage:
		return "the page " + o.source
	case byAlias:
		return "an alias of " + o.source
	}
	return "the file " + o.source
}

// outputs is every file a build writes, with its owner: the one place that
// finds two things written at one path, or a file where another needs a
// folder, before anything is rendered.
type outputs struct {
	files    map[string]*owner
	dirs     map[string]*owner // folder -> the owner of the first file under it
	reserved map[string]*owner // folder -> the theme, which alone writes under it (themeDirs)
	// claimed says a file not the theme's was claimed; lateReserve, that
	// a folder was reserved after that (claim then checks every folder
	// above a file against reserved, not only those above the first
	// folder it finds holding a file)
	claimed, lateReserve bool
}

func newOutputs(n int) *outputs {
	return &outputs{files: make(map[string]*owner, n), dirs: make(map[string]*owner, n), reserved: map[string]*owner{}}
}

// reserve keeps the folder dir for o (the theme): nobody else may claim a
// file under it.
func (t *outputs) reserve(o *owner, dir string) {
	t.reserved[dir] = o
	t.lateReserve = t.lateReserve || t.claimed
}

// shadowed says who is served at the unescaped site-relative address a
// when it is written as a.html (an address without a trailing slash or
// .html): GitHub Pages serves a file named a itself first.
func (t *outputs) shadowed(a string) (*owner, string) {
	if a == "" || strings.HasSuffix(a, "/") || isHTMLName(a) {
		return nil, ""
	}
	if o, ok := t.files[a]; ok {
		return o, fmt.Sprintf("GitHub Pages would serve %s there, which is %s", a, o.what())
	}
	return nil, ""
}

// conflict says why file cannot be written: the owner in the way and a
// description of the clash, or nil.
func (t *outputs) conflict(file string) (*owner, string) {
	if o, ok := t.files[file]; ok {
		return o, fmt.Sprintf("%s is already %s", file, o.what())
	}
	if o, ok := t.dirs[file]; ok {
		return o, fmt.Sprintf("%s would be a file where %s needs a folder", file, o.what())
	}
	for d := path.Dir(file); d != "." && d != "/"; d = path.Dir(d) {
		if o, ok := t.files[d]; ok {
			return o, fmt.Sprintf("%s would lie under %s, which is %s", file, d, o.what())
		}
		if _, ok := t.dirs[d]; ok {
			// d holds a file: it and every folder above it are folders
			// (claim records them all, and no file is claimed where a
			// folder is)
			break
		}
	}
	return nil, ""
}

// claim records files as o's, all or none: when one of them cannot be
// written, it records nothing and says why.
func (t *outputs) claim(o *owner, files ...string) (*owner, string) {
	for _, f := range files {
		if c, why := t.conflict(f); c != nil {
			return c, why
		}
		if o.kind == byTheme {
			continue
		}
		for d := path.Dir(f); d != "." && d != "/"; d = path.Dir(d) {
			if c, ok := t.reserved[d]; ok {
				return c, fmt.Sprintf("%s would lie under %s/, %s", f, d, c.what())
			}
			if c, ok := t.dirs[d]; ok && c.kind != byTheme && !t.lateReserve {
				// a file not the theme's is under d: d and the folders
				// above it were checked then
				break
			}
		}
	}
	if o.kind != byTheme {
		t.claimed = true
	}
	for _, f := range files {
		t.files[f] = o
		for d := path.Dir(f); d != "." && d != "/"; d = path.Dir(d) {
			if _, ok := t.dirs[d]; ok {
				break
			}
			t.dirs[d] = o
		}
	}
	return nil, ""
}

// serves reports whether a request for the unescaped site path p ("x/",
// "x", "x.html", "" for the home page) finds a file, as GitHub Pages
// answers it: p/index.html for a folder, else p itself, p.html, or a
// redirect to p/ when p/index.html exists.
func (t *outputs) serves(p string) bool { return t.servedBy(p) != nil }

// servedBy is the owner of the file a request for p finds, as serves
// resolves it, or nil.
func (t *outputs) servedBy(p string) *owner {
	if o := t.searchFile(p); o != nil {
		return o
	}
	if p == "" || strings.HasSuffix(p, "/") {
		return t.files[p+"index.html"]
	}
	for _, f := range [...]string{p, p + ".html", p + "/index.html"} {
		if o := t.files[f]; o != nil {
			return o
		}
	}
	return nil
}

// escapedAddress is r's address as a link writes it, root-relative and
// escaped: a page's own Address, or the post's (section's, redirect's).
func (r *postResult) escapedAddress() string {
	if r.page != nil {
		return r.page.Address
	}
	return "/" + escapePath(r.post.Address)
}

// Serves reports whether the site Load made answers a request for the
// unescaped site-relative path p ("posts/x/", "releases/1.88.0", "" for the
// home page) with a file it writes: a page of a post, section, alias or
// redirect, a static, bundle or linked file, or a page or feed of the
// theme, resolved as GitHub Pages resolves it (p/index.html for a folder,
// p.html for a name without it). It is false for a Site Load did not make.
// Safe for concurrent use.
func (s *Site) Serves(p string) bool {
	if s == nil || s.outputs == nil {
		return false
	}
	return s.outputs.serves(strings.TrimPrefix(p, "/"))
}

// ownAddress is a post's (or section's) own address, root-relative and
// escaped as written: Zola's path (always a folder), Hugo's url (as
// written), Jekyll's permalink (a pattern with tokens, or an address as
// written). It returns "" and why the value cannot be one.
func ownAddress(own *fmText, f AddressFields) (string, string) {
	s := strings.TrimSpace(own.s)
	switch {
	case own.key == "permalink" && s == "false":
		return "", "is Eleventy's \"write no page\", which publishbot does not do: the post is left out; remove the line to publish it"
	case strings.Contains(s, "{{") || strings.Contains(s, "{%"):
		return "", "is a template, which publishbot does not run: write the address itself, like /blog/my-post/"
	case strings.Contains(s, "://") || strings.HasPrefix(s, "//") || strings.ContainsAny(s, "?#"):
		return "", "is not an address of this site like /2024/05/07/my-post/"
	}
	switch own.key {
	case "path":
		s = "/" + strings.Trim(s, "/") + "/"
	case "permalink":
		s = "/" + strings.TrimPrefix(s, "/")
		if hasToken(s) {
			p, err := parsePattern(s, s, false)
			if err != nil {
				return "", strings.TrimPrefix(err.(*PermalinkError).Msg, "permalink ")
			}
			return p.Expand(f), ""
		}
	default:
		s = "/" + strings.TrimPrefix(s, "/")
	}
	if len(s) > maxPermalinkLen {
		return "", fmt.Sprintf("is longer than %d bytes", maxPermalinkLen)
	}
	return cleanAddress(s), ""
}

// hasToken reports a ":" that starts a token name in s.
func hasToken(s string) bool {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == ':' && (s[i+1] >= 'a' && s[i+1] <= 'z' || s[i+1] == '_') {
			return true
		}
	}
	return false
}

// sectionAddress is the address a section's posts' :section or :sections
// gives it: the pattern up to that token, expanded for sections
// ("/:sections/:slug/" gives "blog/" for ["blog"]). ok is false when the
// pattern has no such token, a token before it other than literal text,
// or only :section for a nested section.
func (p Permalink) sectionAddress(sections []string) (string, bool) {
	var b strings.Builder
	for _, part := range p.parts {
		switch part.tok {
		case "":
			b.WriteString(part.lit)
			continue
		case "section":
			if len(sections) != 1 {
				return "", false
			}
		case "sections", "path":
		default:
			return "", false
		}
		b.WriteString(escapeSegments(sections))
		return siteAddress(cleanAddress(b.String() + "/")), true
	}
	return "", false
}

// needsDate reports a pattern with a token of the post's date.
func (p Permalink) needsDate() bool {
	for _, part := range p.parts {
		switch part.tok {
		case "year", "month", "day", "i_month", "i_day", "short_year", "y_day", "week", "short_day", "hour", "minute", "second":
			return true
		}
	}
	return false
}

// literalDir is the folder of the pattern's text before its first token:
// "/posts/:slug/" gives "posts/", "/:year/:slug" gives "".
func (p Permalink) literalDir() string {
	var lit string
	for _, part := range p.parts {
		if part.tok != "" {
			break
		}
		lit += part.lit
	}
	return siteAddress(addressDir(strings.TrimPrefix(lit, "/") + "x"))
}

// aliasAddress turns an alias as written into the root-relative, unescaped
// form of Post.Aliases. A relative alias is relative to relBase ("/", or a
// section's address for generator: hugo). It returns "" and why the alias
// cannot be used.
func aliasAddress(a, relBase string) (string, string) {
	a = strings.TrimSpace(a)
	bad := "is not a site path like /2019/01/old-name/"
	if a == "" || strings.ContainsAny(a, "\\?#<>\"' \t\r\n") || strings.Contains(a, "://") || strings.HasPrefix(a, "//") {
		return "", bad
	}
	for _, r := range a {
		if r < 0x20 || r == 0x7f {
			return "", bad
		}
	}
	if !strings.HasPrefix(a, "/") {
		a = relBase + a
	}
	for _, seg := range strings.Split(a, "/") {
		if seg == ".." || seg == "." {
			return "", bad
		}
	}
	dir := strings.HasSuffix(a, "/")
	clean := path.Clean(a)
	if clean == "/" {
		return "", "is the home page of the site; a redirect there would replace it"
	}
	if dir {
		clean += "/"
	}
	if problem := CheckAddress(clean); problem != "" {
		return "", problem
	}
	return "/" + siteAddress(clean), ""
}
