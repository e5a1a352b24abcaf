package templates

import (
	"html/template"
	"net/url"
	"strings"
	"time"

	"github.com/publishbot/publishbot/posts"
)

// PageData is one page (about.md, pages/*.md) as templates see it: the
// fields of the loaded page that the theme shows, its URLs, and its body
// as trusted HTML. Page is the whole loaded page for override templates.
type PageData struct {
	Page     *posts.Page
	Title    string
	Summary  string
	Draft    bool          // a draft shown because of Options.Drafts
	URL      string        // URL path, "/blog/about/"
	AbsURL   string        // absolute URL
	Body     template.HTML // Page.HTML: rendered and sanitised by posts
	Image    string        // as in front matter: absolute or base-path-relative URL
	ImageURL string        // absolute URL of the cover image, "" for none
	ImageAlt string
	Updated  time.Time // zero when front matter gives no date

	// Cover is the cover's img (or picture) element with size and srcset,
	// "" for none.
	Cover template.HTML
}

// MenuLink is one link of the header menu (.Site.Menu).
type MenuLink struct {
	Title string
	URL   string // URL path on this site ("/blog/about/"), or an absolute URL
}

// AuthorLink is one author of a post as the theme shows them, "by A, B
// and C" (PostData.Authors).
type AuthorLink struct {
	Name   string
	URL    string // URL path or absolute URL of the author's page; "" for none
	AbsURL string // absolute URL of the author's page; "" for none
	Sep    string // written before the name: "", ", " or " and "
}

// addressPath is the site path (unescaped, without the leading "/") of an
// escaped address such as posts.Page.Address, for page and siteURL.
func addressPath(addr string) string {
	p := strings.TrimPrefix(addr, "/")
	if un, err := url.PathUnescape(p); err == nil {
		return un
	}
	return p
}

// hiddenPage says whether this render leaves the page out.
func (b *build) hiddenPage(pg *posts.Page) bool { return pg.Draft && !b.opts.Drafts }

// hiddenPost says whether this render leaves the post out.
func (b *build) hiddenPost(p *posts.Post) bool {
	return (p.Draft && !b.opts.Drafts) || (p.Future && !b.opts.Future)
}

// preparePages makes the PageData of every page this render shows.
func (b *build) preparePages(list []*posts.Page) {
	for _, pg := range list {
		if pg == nil || b.hiddenPage(pg) {
			continue
		}
		sp := addressPath(pg.Address)
		d := &PageData{
			Page:     pg,
			Title:    pg.Title,
			Summary:  pg.Summary,
			Draft:    pg.Draft,
			URL:      b.pathURL(sp),
			AbsURL:   b.siteURL(sp),
			Body:     template.HTML(pg.HTML), // rendered and sanitised by posts.Load
			Image:    pg.Image,
			ImageAlt: pg.ImageAlt,
			Updated:  pg.Updated,
		}
		if pg.Image != "" {
			d.ImageURL = b.absURL(pg.Image)
		}
		b.pages = append(b.pages, d)
	}
}

// pagePages writes every page this render shows, and lists it in the
// sitemap.
func (b *build) pagePages() error {
	for _, d := range b.pages {
		if err := b.ctx.Err(); err != nil {
			return err
		}
		title := d.Title
		if b.site.Title != "" {
			title += " · " + b.site.Title
		}
		sp := addressPath(d.Page.Address)
		pg := b.page("page", title, d.Summary, sp)
		pg.Page = d
		pg.Image, pg.ImageAlt = d.ImageURL, d.ImageAlt
		pg.Stylesheets, pg.Scripts = b.extras(d.Page.Math, d.Page.Diagrams)
		if err := b.emit(posts.OutputFile(d.Page.Address), tplPage, pg, len(d.Page.HTML)+6<<10); err != nil {
			return err
		}
		b.addPage(sp, d.Updated)
	}
	return nil
}

// menuLinks is the header menu of this render: the site's menu, less the
// entries of pages and posts it hides.
func (b *build) menuLinks(menu []posts.MenuEntry) []MenuLink {
	out := make([]MenuLink, 0, len(menu))
	for _, e := range menu {
		if (e.Page != nil && b.hiddenPage(e.Page)) || (e.Post != nil && b.hiddenPost(e.Post)) {
			continue
		}
		u := e.URL
		if strings.HasPrefix(u, "/") {
			u = b.base + strings.TrimPrefix(u, "/")
		}
		out = append(out, MenuLink{Title: e.Title, URL: u})
	}
	return out
}

// headerKey is what a menu link's URL and a page's URL path are compared
// by: the path, unescaped, without query or fragment.
func headerKey(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	if un, err := url.PathUnescape(u); err == nil {
		return un
	}
	return u
}

// menuHeaders renders "site-header" once more for each link of the menu
// on this site, with that link marked aria-current: a page that is a menu
// entry's target gets that header (see headerFor).
func (b *build) menuHeaders() error {
	b.headers = map[string]template.HTML{}
	t := b.tpl[tplIndex]
	if t.Lookup("site-header") == nil {
		return nil
	}
	for _, m := range b.site.Menu {
		if !strings.HasPrefix(m.URL, "/") {
			continue
		}
		key := headerKey(m.URL)
		if _, done := b.headers[key]; done {
			continue
		}
		s := *b.site
		s.Current = m.URL
		var buf strings.Builder
		if err := t.ExecuteTemplate(&buf, "site-header", &s); err != nil {
			return err
		}
		b.headers[key] = template.HTML(buf.String()) // the output of html/template
	}
	return nil
}

// headerFor is the header of the page at the site path sitePath.
func (b *build) headerFor(sitePath string) template.HTML {
	if h, ok := b.headers[headerKey(b.base+sitePath)]; ok {
		return h
	}
	return b.site.Header
}

// authorLinks are a post's authors for the theme; a post made without
// posts.Load may have only Author.
func (b *build) authorLinks(p *posts.Post) []AuthorLink {
	list := p.Authors
	if len(list) == 0 && p.Author != "" {
		list = []posts.Person{{Name: p.Author}}
	}
	out := make([]AuthorLink, 0, len(list))
	for i, a := range list {
		l := AuthorLink{Name: a.Name}
		switch {
		case i == 0:
		case i == len(list)-1:
			l.Sep = " and "
		default:
			l.Sep = ", "
		}
		switch {
		case strings.HasPrefix(a.URL, "/"):
			l.URL = b.base + strings.TrimPrefix(a.URL, "/")
			l.AbsURL = b.cfg.URL(strings.TrimPrefix(a.URL, "/"))
		case a.URL != "":
			l.URL, l.AbsURL = a.URL, a.URL
		}
		out = append(out, l)
	}
	return out
}
