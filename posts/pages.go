package posts

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"
)

// Page is one loaded page: a Markdown file that publish.yaml's pages (or
// the default rule) names. A page has no date, tags or feed entry; it lives
// at its own address and may be in the header menu. Only pages without
// error diagnostics are in Site.Pages; drafts are included and flagged.
type Page struct {
	Path    string    // repository-relative source file: "pages/about.md", "about.md"
	Address string    // "/about/": an escaped URL path from the site's root, without the base path; see OutputFile
	Title   string    // plain text
	Summary string    // plain text: summary or description, else the start of the text
	Updated time.Time // updated (lastmod), else date; zero when front matter gives neither
	Draft   bool
	// Menu says the page asked to be in the menu (menu: true); Weight
	// orders such pages: pages with a weight first, lowest first, then
	// those without (0), each by title.
	Menu     bool
	Weight   int
	Image    string // cover image URL, as Post.Image; "" for none
	ImageAlt string
	HTML     string // rendered, sanitised body; links are absolute paths under the base path
	Words    int
	// Math and Diagrams are as Post's.
	Math, Diagrams bool
}

// DefaultPageGlobs are the pages when publish.yaml has no pages: every
// Markdown file under pages/. Besides them, Markdown files with front
// matter at the repository's root are pages (Jekyll's rule), unless
// posts_dir is the root.
var DefaultPageGlobs = []string{"pages/**/*.md", "pages/**/*.markdown"}

// Limits of the pages setting: a glob is matched against every Markdown
// file of the tree, so their number and shape are bounded.
const (
	maxPageGlobs      = 32
	maxPageGlobLen    = 256
	maxPageGlobStars  = 4 // "**" per glob
	frontMatterPrefix = 512
)

// notPageNames are never pages, in any folder: a repository's own
// documents (matched on the name without extension, in any case), and
// Hugo's and Zola's section files (_index.md), which describe a section.
var notPageNames = map[string]bool{"readme": true, "license": true, "changelog": true, "contributing": true,
	"code_of_conduct": true, "security": true, "_index": true}

// parsePagesConfig reads publish.yaml's pages: a glob or a list of globs,
// relative to the repository's root, with ** for any number of folders.
func parsePagesConfig(v *fmValue) ([]string, []Diagnostic) {
	var ds []Diagnostic
	bad := func(line, col int, format string, args ...any) {
		ds = append(ds, newDiag(ConfigFile, line, col, CodeConfigInvalid, "pages: "+fmt.Sprintf(format, args...)))
	}
	var items []fmValue
	switch v.kind {
	case vNull:
		return nil, nil
	case vScalar:
		items = []fmValue{*v}
	case vList:
		items = v.list
	default:
		bad(v.line, v.col, "must be a glob like pages/**/*.md or a list of them, not a %s", kindName(v.kind))
		return nil, ds
	}
	globs := []string{} // not nil: pages: [] means no pages
	for _, it := range items {
		if it.kind != vScalar {
			bad(it.line, it.col, "must be a list of globs, not contain a %s", kindName(it.kind))
			continue
		}
		g := strings.TrimSpace(it.s)
		if problem := pageGlobProblem(g); problem != "" {
			bad(it.line, it.col, "%q %s", clip(g, 60), problem)
			continue
		}
		globs = append(globs, strings.TrimPrefix(g, "./"))
	}
	if len(globs) > maxPageGlobs {
		bad(v.line, v.col, "has %d globs; the limit is %d", len(globs), maxPageGlobs)
	}
	return globs, ds
}

// pageGlobProblem says what is wrong with a glob of pages, or "".
func pageGlobProblem(g string) string {
	switch {
	case g == "":
		return "is empty"
	case len(g) > maxPageGlobLen:
		return fmt.Sprintf("is longer than %d bytes", maxPageGlobLen)
	case strings.HasPrefix(g, "/"):
		return "must be relative to the repository's root, like pages/**/*.md"
	case strings.Count(g, "**") > maxPageGlobStars:
		return fmt.Sprintf("has more than %d **", maxPageGlobStars)
	case !doublestar.ValidatePattern(g):
		return "is not a glob (an unclosed [ or {, or a \\ at the end)"
	}
	for _, seg := range strings.Split(strings.TrimPrefix(g, "./"), "/") {
		if seg == ".." || seg == "." {
			return "may not contain a \"" + seg + "\" segment"
		}
	}
	if ext := strings.ToLower(path.Ext(g)); ext != ".md" && ext != ".markdown" && !strings.ContainsAny(path.Base(g), "*?[{") {
		return "names no Markdown file (pages are .md or .markdown files)"
	}
	return ""
}

// findPages lists the page files of the tree, in path order, each with the
// folder its address is relative to. Files under static/ are never pages;
// the default rule never takes a file from posts_dir.
func (t *tree) findPages(cfg *Config) []postFile {
	m := newPageMatcher(cfg)
	var out []postFile
	for _, p := range t.order {
		if base, ok := m.match(p, t.hasFrontMatter); ok {
			out = append(out, postFile{path: p, page: true, pageBase: base})
		}
	}
	return out
}

// largePages reports the files over MaxFileSize that would be pages: they
// are not read, and not published.
func (t *tree) largePages(cfg *Config) []Diagnostic {
	var ds []Diagnostic
	m := newPageMatcher(cfg)
	for i, p := range t.large {
		if _, ok := m.match(p, func(string) bool { return true }); ok {
			ds = append(ds, newDiag(p, 0, 0, CodeFileTooLarge,
				fmt.Sprintf("file is %.1f MiB; the limit is 10 MiB, so this page is not read or published", float64(t.largeSize[i])/(1<<20))))
		}
	}
	return ds
}

// pageMatcher says which files are pages: publish.yaml's pages, or the
// default rule.
type pageMatcher struct {
	globs, bases []string
	explicit     bool
	postsDir     string
}

func newPageMatcher(cfg *Config) *pageMatcher {
	m := &pageMatcher{globs: cfg.Pages, explicit: cfg.Pages != nil, postsDir: cfg.PostsDir}
	if !m.explicit {
		m.globs = DefaultPageGlobs
	}
	m.bases = make([]string, len(m.globs))
	for i, g := range m.globs {
		m.bases[i], _ = doublestar.SplitPattern(g)
	}
	return m
}

// match says whether the file p is a page, and the folder its address is
// relative to; hasFrontMatter is asked only about root files under the
// default rule.
func (m *pageMatcher) match(p string, hasFrontMatter func(string) bool) (string, bool) {
	if !isMarkdown(p) || strings.HasPrefix(p, "static/") {
		return "", false
	}
	root := !strings.Contains(p, "/")
	if !m.explicit && (m.postsDir == "." && root || m.postsDir != "." && strings.HasPrefix(p, m.postsDir) && strings.HasPrefix(p[len(m.postsDir):], "/")) {
		return "", false
	}
	for i, g := range m.globs {
		if doublestar.MatchUnvalidated(g, p) {
			return m.bases[i], pageName(p, m.explicit)
		}
	}
	if !m.explicit && m.postsDir != "." && root && pageName(p, false) && hasFrontMatter(p) {
		return ".", true
	}
	return "", false
}

// pageName says whether the file p may be a page by its name: never the
// repository's documents or a section's _index.md, and, for the default
// rule, nothing in a folder or file whose name starts with "." or "_".
func pageName(p string, explicit bool) bool {
	base := path.Base(p)
	if notPageNames[strings.ToLower(strings.TrimSuffix(base, path.Ext(base)))] {
		return false
	}
	for rest := p; rest != ""; {
		var seg string
		seg, rest, _ = strings.Cut(rest, "/")
		if strings.HasPrefix(seg, ".") || (!explicit && strings.HasPrefix(seg, "_")) {
			return false
		}
	}
	return true
}

// hasFrontMatter says whether the file p starts with a front matter line
// (--- or +++), reading only its first bytes.
func (t *tree) hasFrontMatter(p string) bool {
	f, err := t.fsys.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	buf := make([]byte, frontMatterPrefix)
	n, _ := io.ReadFull(f, buf)
	buf = bytes.TrimPrefix(buf[:n], bom)
	line, _, _ := bytes.Cut(buf, []byte("\n"))
	line = bytes.TrimRight(line, " \t\r")
	return string(line) == "---" || string(line) == "+++"
}

// pageMeta is what a page's front matter says about its address.
type pageMeta struct {
	address           string // from permalink or url; "" for the file's own
	addrLine, addrCol int
}

// tokenRE finds a permalink token (":title") in a page's own address.
var tokenRE = regexp.MustCompile(`:[a-z_]+`)

// readPage is phase 1 for a page: its front matter fields, and its
// address. p is the post-shaped part that rendering fills in.
func (l *loader) readPage(res *postResult, fields []fmField, hint string) {
	p := res.post
	pg := &Page{Path: p.Path}
	res.page = pg
	var pm pageMeta
	for _, d := range applyPageFields(p, pg, &res.meta, &pm, fields, l.cfg) {
		if hint != "" && d.Code == CodeMissingTitle {
			d.Message += " (" + hint + ")"
		}
		res.add(d.Line, d.Column, d.Code, d.Message)
	}
	res.pageAt = [2]int{pm.addrLine, pm.addrCol}
	pg.Address = pm.address
	if pg.Address == "" {
		pg.Address = pageAddress(res.file.path, res.file.pageBase, p.Slug)
	}
	// The post-shaped address is what index claims (see claimAddress) and
	// what links and the menu resolve to.
	p.Address = siteAddress(pg.Address)
}

// pageAddress is the address of the page file p relative to the folder
// base: "pages/team/alice.md" under "pages" is "/team/alice/", an index.md
// is its folder's address, and slug (when not "") replaces the file name.
func pageAddress(p, base, slug string) string {
	rel := p
	if base != "." && base != "" {
		rel = strings.TrimPrefix(p, base+"/")
	}
	rel = strings.TrimSuffix(rel, path.Ext(rel))
	segs := strings.Split(rel, "/")
	last := len(segs) - 1
	switch {
	case slug != "":
		segs[last] = slug
	case segs[last] == "index" || segs[last] == "_index":
		segs = segs[:last]
	}
	a := "/" + escapeSegments(segs)
	if a != "/" {
		a += "/"
	}
	return a
}

// pageOwnAddress checks a page's permalink or url and makes it an escaped
// address, or says what is wrong with it.
func pageOwnAddress(s string) (string, string) {
	s = strings.TrimSpace(s)
	if u, err := url.Parse(s); err == nil && (u.Scheme != "" || u.Host != "") {
		return "", "must be a path on this site, like /about/, not a URL"
	}
	if strings.ContainsAny(s, "?#") {
		return "", "may not contain ? or #"
	}
	if m := tokenRE.FindString(s); m != "" {
		return "", fmt.Sprintf("is the page's address, not a pattern: %s is not replaced; write the address itself, like /about/", m)
	}
	if !strings.HasPrefix(s, "/") {
		s = "/" + s
	}
	segs := strings.Split(s, "/")
	for i, seg := range segs {
		un, err := url.PathUnescape(seg)
		if err != nil {
			return "", "is not a valid URL path: " + err.Error()
		}
		if un == "." || un == ".." {
			return "", "may not contain a \"" + un + "\" segment"
		}
		segs[i] = escapeSegment(un)
	}
	a := cleanAddress(strings.Join(segs, "/"))
	if problem := CheckAddress(a); problem != "" {
		return "", problem
	}
	return a, ""
}

// pageFields are the front matter fields of a page (design.md's fields
// that make sense without a date or tags), for suggestions.
var pageFields = []string{"title", "summary", "description", "updated", "lastmod", "date", "draft", "published",
	"permalink", "url", "slug", "menu", "weight", "image", "image_alt", "layout"}

// applyPageFields fills a page (and the post-shaped p that rendering uses)
// from its front matter fields and returns diagnostics.
func applyPageFields(p *Post, pg *Page, meta *postMeta, pm *pageMeta, fields []fmField, cfg *Config) []Diagnostic {
	var ds []Diagnostic
	add := func(line, col int, code, format string, args ...any) {
		ds = append(ds, newDiag(p.Path, line, col, code, fmt.Sprintf(format, args...)))
	}
	seen := map[string]int{}
	var title, summary, description string
	hasTitle := false
	titleLine, titleCol := 0, 0
	var updated, date *fmValue
	var addrKey string
	for i := range fields {
		f := &fields[i]
		if repeatedField(seen, f, add) {
			continue
		}
		v := &f.value
		str := func() (string, bool) { return textField(f, add) }
		boolean := func() (bool, bool) { return boolField(f, add) }
		switch f.key {
		case "title":
			if s, ok := str(); ok {
				title = strings.TrimSpace(s)
				hasTitle = true
				titleLine, titleCol = v.line, v.col
			}
		case "summary":
			if s, ok := str(); ok {
				summary = strings.TrimSpace(s)
			}
		case "description":
			if s, ok := str(); ok {
				description = strings.TrimSpace(s)
			}
		case "updated", "lastmod", "modified":
			if updated == nil || f.key == "updated" {
				updated = v
			}
		case "date":
			date = v
		case "draft":
			if b, ok := boolean(); ok {
				p.Draft = p.Draft || b
			}
		case "published":
			if b, ok := boolean(); ok && v.kind != vNull && !b {
				p.Draft = true
			}
		case "permalink", "url":
			if addrKey != "" {
				add(f.line, f.col, CodeInvalidField, "%s and %s both give the page's address; keep one", addrKey, f.key)
				continue
			}
			addrKey = f.key
			s, ok := str()
			if !ok || strings.TrimSpace(s) == "" {
				continue
			}
			a, problem := pageOwnAddress(s)
			if problem != "" {
				add(v.line, v.col, CodeInvalidField, "%s %s %s", f.key, describe(v), problem)
				continue
			}
			pm.address, pm.addrLine, pm.addrCol = a, v.line, v.col
		case "slug":
			if s, ok := str(); ok && strings.TrimSpace(s) != "" {
				p.Slug = slugify(s)
				meta.slugLine, meta.slugCol = v.line, v.col
				if p.Slug == "" {
					add(v.line, v.col, CodeInvalidSlug, "slug %q has no letters or digits", s)
				}
			}
		case "menu":
			pg.Menu, pg.Weight = pageMenu(v, pg.Weight, add)
		case "weight":
			n, err := strconv.Atoi(strings.TrimSpace(v.s))
			if v.kind != vScalar || err != nil || n < -1_000_000 || n > 1_000_000 {
				add(v.line, v.col, CodeInvalidField, "weight must be a whole number, not %s", describe(v))
			} else {
				pg.Weight = n
			}
		case "image":
			imageField(p, meta, f, add)
		case "image_alt":
			if s, ok := str(); ok {
				p.ImageAlt = strings.TrimSpace(s)
			}
		case "layout":
			// Jekyll's layout: the theme decides.
		case "extra", "params":
			ownParams(p, v, f.key, add)
		case "tags", "categories", "category", "author", "authors", "by", "aliases", "redirect_from", "featured",
			"publishDate", "publishdate", "expiryDate", "expirydate":
			add(f.line, f.col, CodeUnknownField, "field %q is not used on pages and is ignored (pages have no tags, authors, redirects or schedule)", f.key)
		default:
			msg := fmt.Sprintf("field %q is not used by publishbot and is ignored", f.key)
			if s := suggestFrom(f.key, pageFields); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			add(f.line, f.col, CodeUnknownField, "%s", msg)
		}
	}
	if summary == "" {
		summary = description
	}
	p.Summary = summary
	if hasTitle && title == "" && titleLine > 0 {
		add(titleLine, max(titleCol, 1), CodeMissingTitle, "title is empty: write the page's title after \"title:\"")
	} else if !hasTitle || title == "" {
		add(1, 1, CodeMissingTitle, "title is required: add a line like \"title: About\" to the front matter")
	}
	p.Title = title
	for _, dv := range []struct {
		key string
		v   *fmValue
	}{{"updated", updated}, {"date", date}} {
		if dv.v == nil || dv.v.kind == vNull {
			continue
		}
		t, _, ok := fieldDate(dv.v, cfg.Location)
		if !ok {
			add(dv.v.line, dv.v.col, CodeInvalidDate, "%s %s is not a date%s; use 2006-01-02, 2006-01-02T15:04:05Z07:00 or 2006-01-02 15:04:05 -0700", dv.key, describe(dv.v), dateHint(dv.v))
			continue
		}
		if pg.Updated.IsZero() {
			pg.Updated = t.In(cfg.Location)
		}
	}
	return ds
}

// pageMenu reads a page's menu field: true or false; or, as Hugo writes
// it, a menu's name, a list of names, or a mapping of names to entries
// (whose weight is read). It returns whether the page is in the menu and
// its weight.
func pageMenu(v *fmValue, weight int, add func(line, col int, code, format string, args ...any)) (bool, int) {
	switch v.kind {
	case vNull:
		return false, weight
	case vScalar:
		switch strings.ToLower(strings.TrimSpace(v.s)) {
		case "true":
			return true, weight
		case "false", "":
			return false, weight
		}
		return true, weight // Hugo: the menu's name
	case vList:
		return len(v.list) > 0, weight
	}
	for _, m := range v.fields {
		if m.value.kind != vMap {
			continue
		}
		for _, sub := range m.value.fields {
			if sub.key == "weight" && sub.value.kind == vScalar {
				if n, err := strconv.Atoi(strings.TrimSpace(sub.value.s)); err == nil && n > -1_000_000 && n < 1_000_000 {
					weight = n
				} else {
					add(sub.value.line, sub.value.col, CodeInvalidField, "weight must be a whole number, not %s", describe(&sub.value))
				}
			}
		}
	}
	return len(v.fields) > 0, weight
}

// suggestFrom names a field of known close to key (a typo or a case slip).
func suggestFrom(key string, known []string) string {
	lk := strings.ToLower(key)
	best, bestD := "", 3
	for _, f := range known {
		if strings.ToLower(f) == lk {
			return f
		}
		if d := editDistance(lk, f); d < bestD && d <= len(f)/3 {
			best, bestD = f, d
		}
	}
	return best
}

// sitePages collects the pages that are published, sorted by address, and
// fills in what rendering found.
func sitePages(results []*postResult) []*Page {
	var out []*Page
	for _, r := range results {
		if !r.file.page || r.page == nil || !r.linkable || HasErrors(r.diags) {
			continue
		}
		pg, p := r.page, r.post
		pg.Title, pg.Summary, pg.Draft = p.Title, p.Summary, p.Draft
		pg.Image, pg.ImageAlt, pg.HTML, pg.Words = p.Image, p.ImageAlt, p.HTML(), p.Words
		pg.Math, pg.Diagrams = p.Math, p.Diagrams
		out = append(out, pg)
	}
	slices.SortFunc(out, func(a, b *Page) int { return cmp.Compare(a.Address, b.Address) })
	return out
}

// withoutPages drops the files that are pages from posts: a file matched
// by pages is never also a post.
func withoutPages(posts, pages []postFile) []postFile {
	if len(pages) == 0 {
		return posts
	}
	isPage := make(map[string]bool, len(pages))
	for _, p := range pages {
		isPage[p.path] = true
	}
	return slices.DeleteFunc(posts, func(p postFile) bool { return isPage[p.path] })
}
