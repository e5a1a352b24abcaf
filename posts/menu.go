package posts

import (
	"cmp"
	"fmt"
	"net/url"
	"path"
	"slices"
	"strings"
)

// MenuItem is one entry of publish.yaml's menu, as written.
type MenuItem struct {
	// Title is the link's text; "" when URL names a page's or post's
	// source file, whose title is then shown.
	Title string `yaml:"title" json:"title"`
	// URL is a page's or post's source file ("pages/about.md"), a path on
	// this site from its root ("/archive/"; the base path may be written
	// or not), or an absolute http(s) or mailto: URL.
	URL string `yaml:"url" json:"url"`
	// Line and Column are where URL is written in publish.yaml (0 when
	// the menu did not come from a file), for diagnostics.
	Line   int `yaml:"-" json:"-"`
	Column int `yaml:"-" json:"-"`
}

// MenuEntry is one link of the header menu, resolved.
type MenuEntry struct {
	Title string
	// URL is an address on this site (escaped, from the site's root,
	// without the base path, starting with "/": "/about/", "/archive/"),
	// or an absolute URL ("https://…", "mailto:…") as written.
	URL string
	// Page and Post are what URL leads to when it is a page or a post, so
	// that a renderer that hides drafts hides their entries too.
	Page *Page
	Post *Post
}

// maxMenuItems bounds publish.yaml's menu.
const maxMenuItems = 100

// parseMenuConfig reads publish.yaml's menu: a list of mappings with title
// and url. Whether each url leads somewhere is checked by Load, which
// knows the pages and posts.
func parseMenuConfig(v *fmValue) ([]MenuItem, []Diagnostic) {
	var ds []Diagnostic
	bad := func(line, col int, format string, args ...any) {
		ds = append(ds, newDiag(ConfigFile, line, col, CodeConfigInvalid, "menu: "+fmt.Sprintf(format, args...)))
	}
	switch v.kind {
	case vNull:
		return nil, nil
	case vList:
	default:
		bad(v.line, v.col, "must be a list of entries like \"- {title: About, url: pages/about.md}\", not a %s", kindName(v.kind))
		return nil, ds
	}
	if len(v.list) > maxMenuItems {
		bad(v.line, v.col, "has %d entries; the limit is %d", len(v.list), maxMenuItems)
		return nil, ds
	}
	items := []MenuItem{} // not nil: menu: [] means no menu
	for _, e := range v.list {
		if e.kind != vMap {
			bad(e.line, e.col, "each entry must be a mapping with title and url, not a %s", kindName(e.kind))
			continue
		}
		var it MenuItem
		hasURL, ok := false, true
		for _, sub := range e.fields {
			sv := &sub.value
			switch sub.key {
			case "title", "name", "url":
				if sv.kind != vScalar && sv.kind != vNull {
					bad(sv.line, sv.col, "%s must be text, not a %s", sub.key, kindName(sv.kind))
					ok = false
					continue
				}
				if sub.key == "url" {
					it.URL, it.Line, it.Column, hasURL = strings.TrimSpace(sv.s), sv.line, sv.col, true
				} else {
					it.Title = strings.TrimSpace(sv.s)
				}
			default:
				ds = append(ds, newDiag(ConfigFile, sub.line, sub.col, CodeUnknownField,
					fmt.Sprintf("menu: %q is not used (an entry has a title and a url; the list's order is the menu's) and is ignored", sub.key)))
			}
		}
		if !ok {
			continue
		}
		if !hasURL || it.URL == "" {
			bad(e.line, e.col, "the entry %q has no url: add one, like \"url: pages/about.md\" or \"url: /archive/\"", it.Title)
			continue
		}
		if problem := menuURLProblem(it.URL); problem != "" {
			bad(it.Line, it.Column, "url %q %s", clip(it.URL, 60), problem)
			continue
		}
		if it.Title == "" && !isMarkdown(stripQuery(it.URL)) {
			bad(e.line, e.col, "the entry for %q has no title: add one, like \"title: About\"", clip(it.URL, 60))
			continue
		}
		items = append(items, it)
	}
	return items, ds
}

// menuURLProblem says why s cannot be a menu entry's url, or "".
func menuURLProblem(s string) string {
	if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) {
		return "may not contain control characters or \\"
	}
	u, err := url.Parse(s)
	if err != nil {
		return "is not a URL"
	}
	switch u.Scheme {
	case "":
		if u.Host != "" {
			return "is not a URL with a scheme, like https://example.com/"
		}
		return ""
	case "http", "https":
		if u.Host == "" {
			return "has no host"
		}
		return ""
	case "mailto":
		return ""
	}
	return "is neither a path on this site, a source file, nor an http(s) or mailto: URL"
}

// stripQuery is s without its ?query and #fragment.
func stripQuery(s string) string {
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		return s[:i]
	}
	return s
}

// siteMenu is the header menu: publish.yaml's entries, each resolved to an
// address of the site (an entry that leads nowhere is a menu-url error at
// its line and is left out), or, when publish.yaml has no menu, Archive
// and Tags; then, either way, the pages that say menu: true and are not
// listed yet. It runs once the posts and pages are known.
func (l *loader) siteMenu(results []*postResult, site *Site) ([]MenuEntry, []Diagnostic) {
	var ds []Diagnostic
	var out []MenuEntry
	if l.cfg.Menu == nil {
		out = append(out, MenuEntry{Title: "Archive", URL: "/archive/"}, MenuEntry{Title: "Tags", URL: "/tags/"})
	}
	bySource := map[string]*postResult{}
	for _, r := range results {
		bySource[r.file.path] = r
	}
	listed := map[*Page]bool{}
	for _, it := range l.cfg.Menu {
		e, problem := l.menuEntry(it, bySource, site.outputs)
		if problem != "" {
			ds = append(ds, newDiag(ConfigFile, it.Line, it.Column, CodeMenuURL, "menu: "+problem))
			continue
		}
		if e.Page != nil {
			listed[e.Page] = true
		}
		out = append(out, e)
	}
	var flagged []*Page
	for _, pg := range site.Pages {
		if pg.Menu && !listed[pg] {
			flagged = append(flagged, pg)
		}
	}
	slices.SortStableFunc(flagged, func(a, b *Page) int {
		// Pages with a weight first, lightest first (Hugo's order).
		return cmp.Or(cmp.Compare(boolInt(a.Weight == 0), boolInt(b.Weight == 0)), cmp.Compare(a.Weight, b.Weight),
			cmp.Compare(a.Title, b.Title), cmp.Compare(a.Address, b.Address))
	})
	for _, pg := range flagged {
		out = append(out, MenuEntry{Title: pg.Title, URL: pg.Address, Page: pg})
	}
	return out, ds
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// menuEntry resolves one entry of publish.yaml's menu, or says why it
// leads nowhere.
func (l *loader) menuEntry(it MenuItem, bySource map[string]*postResult, out *outputs) (MenuEntry, string) {
	raw := strings.TrimSpace(it.URL)
	if problem := menuURLProblem(raw); problem != "" {
		return MenuEntry{}, fmt.Sprintf("url %q %s", clip(raw, 60), problem)
	}
	u, _ := url.Parse(raw)
	if u.Scheme != "" {
		return MenuEntry{Title: it.Title, URL: raw}, ""
	}
	suffix := ""
	if u.RawQuery != "" {
		suffix += "?" + u.RawQuery
	}
	if u.Fragment != "" {
		suffix += "#" + u.EscapedFragment()
	}
	if isMarkdown(u.Path) {
		source := strings.TrimPrefix(path.Clean("/"+u.Path), "/")
		r, ok := bySource[source]
		switch {
		case !ok || r.post == nil:
			return MenuEntry{}, fmt.Sprintf("url %q names %s, which is not a page or post of this repository", clip(raw, 60), source)
		case !r.linkable || HasErrors(r.diags) || r.expired:
			return MenuEntry{}, fmt.Sprintf("url %q names %s, which is left out of the site (see its own diagnostics)", clip(raw, 60), source)
		}
		title := cmp.Or(it.Title, r.post.Title)
		return menuTarget(MenuEntry{Title: title, URL: r.escapedAddress() + suffix}, r), ""
	}
	p := u.Path
	if base := l.configBase; base != "/" && (strings.HasPrefix(p, base) || p+"/" == base) {
		p = "/" + strings.TrimPrefix(p, strings.TrimSuffix(base, "/"))
	}
	dir := strings.HasSuffix(p, "/")
	p = path.Clean("/" + p)
	if dir && p != "/" {
		p += "/"
	}
	if o := out.servedBy(strings.TrimPrefix(p, "/")); o != nil {
		var r *postResult
		if o.kind == byPage || o.kind == byPost {
			r = bySource[o.source]
		}
		return menuTarget(MenuEntry{Title: it.Title, URL: escapePath(p) + suffix}, r), ""
	}
	return MenuEntry{}, fmt.Sprintf("url %q leads nowhere: no page, post or file of this site is published at %s", clip(raw, 60), p)
}

// menuTarget marks e as the link to r's page or post, so that it is
// aria-current there; r may be nil or any other file.
func menuTarget(e MenuEntry, r *postResult) MenuEntry {
	switch {
	case r == nil || r.post == nil:
	case r.page != nil:
		e.Page = r.page
	case r.kind == kindPost:
		e.Post = r.post
	}
	return e
}
