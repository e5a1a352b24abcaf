package templates

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/url"
	"runtime/trace"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/publishbot/publishbot/locale"
	"github.com/publishbot/publishbot/posts"
)

// SiteData is the site-wide part of every page's data (.Site in templates).
type SiteData struct {
	Title       string
	Heading     string // index heading, "Writing" by default
	Description string
	Author      string
	Language    string
	Dir         string // "rtl" for a language written right to left, else ""
	BackURL     string // the author's home page, "" for none
	BaseURL     string // absolute, ends in "/"
	Home        string // base path of the site, e.g. "/blog/"
	Stylesheet  string // URL path of the stylesheet
	Favicon     string // URL path of the site icon
	AtomURL     string // URL paths of the feeds and listing pages
	RSSURL      string
	JSONURL     string
	ArchiveURL  string
	TagsURL     string
	PreviewPR   int

	// SearchURL is the URL path of the search page, "" when search is
	// off; SocialImage the absolute URL of the og:image of pages without
	// an image of their own, "" for none. See readers.go.
	SearchURL   string
	SocialImage string

	// Menu is the header menu, in order: publish.yaml's menu, or Archive,
	// Tags and the pages that ask for it. Current is "" except while
	// "site-header" is rendered for the page a link of Menu leads to:
	// then it is that link's URL, which the theme marks aria-current.
	Menu    []MenuLink
	Current string

	// Head, Header and Footer are the templates "site-head", "site-header"
	// and "site-footer" executed once per render with this SiteData: the
	// parts of every page that depend only on the site. Empty when a theme
	// override does not define them.
	Head, Header, Footer template.HTML

	// Analytics is the script tag of publish.yaml's analytics provider,
	// written at the end of every page's head; "" for none.
	Analytics template.HTML
}

// PostData is one post as templates see it: the fields of the loaded post
// that the theme shows, with dates already formatted, its URLs, and its body
// as trusted HTML. Post is the whole loaded post for override templates.
type PostData struct {
	Post        *posts.Post
	Title       string
	Slug        string
	Summary     string
	Author      string
	Image       string // as in front matter: absolute or base-path-relative URL
	ImageAlt    string
	Draft       bool
	Featured    bool
	ReadingTime int
	Words       int
	Date        time.Time
	Updated     time.Time // zero when not set
	DateText    string    // "Jun 14, 2026"
	DateISO     string    // RFC 3339, for <time datetime>
	UpdatedText string    // "" when not updated
	UpdatedISO  string

	URL       string        // URL path, "/blog/posts/hello/"
	AbsURL    string        // absolute URL
	FeedID    string        // absolute URL that identifies the post in feeds (see posts.Post.FeedID)
	body      *lazyBody     // Body() (body.go)
	TOC       template.HTML // Post.TOC: the table of contents, "" for none; rendered and sanitised by posts
	ImageURL  string        // absolute URL of the cover image, "" for none
	Cover     template.HTML // the cover's img (or picture) element with size and srcset, "" for none
	TagLinks  []TagLink
	Scheduled bool // a future post shown because of Options.Future

	description string // metaDescription(Summary), computed once for the post page, its JSON-LD and the search index

	// Authors are the post's authors, with links where known; Author is
	// their names as one text ("A, B and C").
	Authors []AuthorLink

	// Related are the posts that share the most tags with this one (see
	// publish.yaml's related); nil when off.
	Related []*PostData
}

// TagLink is a tag with the URL of its page and its number of posts.
type TagLink struct {
	Name  string
	Slug  string
	URL   string
	Count int
}

// SectionData is a section (a folder of posts described by an _index.md)
// as its listing page shows it.
type SectionData struct {
	Section *posts.Section
	Title   string
	Summary string
	URL     string        // URL path of its page, "/blog/inside-rust/"
	Body    template.HTML // its text, rendered and sanitised by posts
	Count   int           // posts shown in it and its subfolders
}

// YearGroup is the posts of one year on a listing page.
type YearGroup struct {
	Year  int
	Posts []*PostData
}

// Pager says where a listing page is: "Page N of Total". An empty NewerURL
// or OlderURL means there is nowhere to go that way.
type Pager struct {
	Page, Total        int
	NewerURL, OlderURL string
}

// Page is the data of every page template.
type Page struct {
	Site        *SiteData
	Kind        string // "index", "post", "page", "tag", "tags", "section", "archive", "404", "redirect"
	Title       string // the document <title>
	Description string // meta description, plain text
	Canonical   string // absolute URL of this page
	OGType      string // "website" or "article"
	Image       string // absolute URL of the page's image, "" for none
	ImageAlt    string
	NoIndex     bool

	Featured *PostData   // index page 1 only
	Years    []YearGroup // listing pages
	Pager    *Pager      // listing pages
	Popular  []*PostData // index pages

	Post         *PostData // post pages
	Newer, Older *PostData // post pages: neighbours in time

	Tag  *TagLink  // tag pages
	Tags []TagLink // tags page

	Section *SectionData  // section pages
	Intro   template.HTML // index page 1: the text of posts_dir's _index.md, sanitised by posts.Load; "" for none

	Target string // redirect pages: absolute URL to go to

	JSONLD  template.JS // structured data for <script type="application/ld+json">: BlogPosting on posts, Blog on the index; "" for none
	FeedURL string      // tag and section pages: URL path of their own Atom feed
	// FeedTitle names that feed in the page head's alternate link.
	FeedTitle string
	Search    *SearchData // the search page

	Page *PageData // pages (about.md): the page

	// Stylesheets and Scripts are the URL paths of the extra files this
	// page needs: Temml's stylesheet when it has math, the diagram
	// scripts (deferred) when it has a diagram; nil otherwise (extras.go).
	Stylesheets, Scripts []string
	// Header is Site.Header, with this page's link in the menu marked
	// aria-current when it has one.
	Header template.HTML
}

// funcs are available to every template, including overrides. t and date
// speak the site's language: these are English placeholders for parsing,
// replaced per render by localeFuncs.
var funcs = template.FuncMap{
	"date":     locale.For("en", nil).Date,
	"t":        locale.For("en", nil).T,
	"isodate":  func(t time.Time) string { return t.Format(time.RFC3339) },
	"day":      func(t time.Time) string { return t.Format("2006-01-02") },
	"oglocale": ogLocale,
}

// localeFuncs are the functions that depend on the language: t (a word of
// the theme, "older", or a phrase with arguments, t "min_read" 3) and date
// ("May 1, 2026", "1. Mai 2026").
func localeFuncs(loc *locale.Locale) template.FuncMap {
	return template.FuncMap{"t": loc.T, "date": loc.Date}
}

// localeKey tells locales apart: the language and every override.
func localeKey(loc *locale.Locale) string {
	var b strings.Builder
	b.WriteString(loc.Tag)
	for _, k := range locale.Keys() {
		if v, ok := loc.Override(k); ok {
			b.WriteString("\x00" + k + "\x00" + v)
		}
	}
	return b.String()
}

// ogLocale writes a BCP 47 language tag the way OpenGraph wants it,
// language_TERRITORY ("en-GB" is "en_GB"); a tag without a territory gives
// "", since OpenGraph has no form for it ("en" alone is reported invalid).
func ogLocale(lang string) string {
	l, territory, ok := strings.Cut(strings.ReplaceAll(lang, "_", "-"), "-")
	if !ok || len(l) < 2 || len(l) > 3 || len(territory) != 2 {
		return ""
	}
	return strings.ToLower(l) + "_" + strings.ToUpper(territory)
}

// visiblePosts picks the posts this render shows, newest first.
func visiblePosts(site *posts.Site, opts Options) []*posts.Post {
	out := make([]*posts.Post, 0, len(site.Posts))
	for _, p := range site.Posts {
		if p == nil || (p.Draft && !opts.Drafts) || (p.Future && !opts.Future) {
			continue
		}
		out = append(out, p)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if !a.Date.Equal(b.Date) {
			return a.Date.After(b.Date)
		}
		return a.Title < b.Title
	})
	return out
}

// Output is what one Render makes.
type Output struct {
	// Files are the output files keyed by slash-separated site-relative path
	// ("index.html", "posts/hello/index.html", "feed.xml").
	Files map[string][]byte
	// IndexPages is, for every post the render shows, the number of the
	// index page that lists it: 1 for index.html, N for page/N/index.html.
	// It is keyed by the post's source file (posts.Post.Path); the posts a
	// render hides (drafts without Options.Drafts, future posts without
	// Options.Future) are not in it, so its length is the number shown.
	IndexPages map[string]int
	// Diagnostics are warnings about the site's images (too large,
	// unreadable, a GPS location, a decompression bomb left out).
	Diagnostics []posts.Diagnostic
	// Keys is every output file's input key, those of Kept included; nil
	// unless Options.Keys or Options.Previous asked for them.
	Keys KeyMap
	// Kept are the files, sorted, whose key is the one Options.Previous
	// gives their path: they are not in Files, their bytes are those of
	// the previous render.
	Kept []string
}

// renderer state for one Render call.
type build struct {
	ctx   context.Context
	r     *Renderer
	loc   *locale.Locale // the site's language
	tpl   pageSet        // the page templates in that language
	cfg   posts.Config
	opts  Options
	site  *SiteData
	base  string // base path, "/blog/"
	host  string // scheme://host of BaseURL, for absolute image URLs
	posts []*PostData
	tags  []TagLink
	byTag map[string][]*PostData
	out   map[string][]byte
	urls  []sitemapURL

	listedOn map[string]int // source path -> index page that lists it
	intro    template.HTML

	feedHTML map[*PostData]string // post bodies with absolute URLs, for the feeds
	feedXML  map[*PostData]string // feedHTML escaped as XML character data (feedText)
	feedJob  *feedJob             // feedHTML and feedXML being made beside the pages (startFeedBodies); nil before and after

	pages   []*PageData              // the pages this render shows
	headers map[string]template.HTML // site-header per menu target (headerKey)

	imgs  map[string]*imageEntry // published raster images by site path (images.go)
	diags []posts.Diagnostic     // warnings about images

	search *searchJob // the search index, built beside the pages (searchindex.go); nil when off

	keyer *dataHasher    // nil: no keys asked for
	theme Key            // the part of every page's key that is the same for all: theme and locale
	keys  map[string]Key // of the files made so far with a template
	kept  map[string]bool
}

type sitemapURL struct {
	Loc     string
	LastMod time.Time
}

// Render turns site into output files and says which index page lists
// each post. Asset bytes are read from content, the same tree site was
// loaded from. The error is for an asset that cannot be read or a template
// that fails to execute; content problems were already reported by
// posts.Load. Render does not modify site.
//
// Render checks ctx before each page and each asset: once ctx ends it
// returns ctx.Err() within one page's work, and no goroutine it started
// outlives it.
func (r *Renderer) Render(ctx context.Context, site *posts.Site, content fs.FS, opts Options) (*Output, error) {
	if r == nil || r.protos == nil {
		return nil, errors.New("render: the Renderer was not made with New")
	}
	if site == nil {
		return nil, errors.New("render: no site")
	}
	b := &build{ctx: ctx, r: r, cfg: site.Config, opts: opts}
	b.loc = locale.For(b.cfg.Language, b.cfg.Strings)
	var keyMaps chan struct{} // closed once the maps of the keys are made
	if opts.Keys || opts.Previous != nil {
		b.keyer = newDataHasher()
		b.keyer.masks = r.masks
		b.theme, _ = b.keyer.sum("page\x00", r.digest, localeKey(b.loc))
		// The maps are sized for the posts and the files of the previous
		// render, which most renders keep (20,000 and 60,000 at 20,000
		// posts, grown a doubling at a time before): 15 MB of new memory,
		// made on a goroutine while the posts are prepared, and waited for
		// before the first file is added or post digested.
		keyMaps = make(chan struct{})
		go func() {
			defer close(keyMaps)
			b.keyer.size(len(site.Posts))
			b.keys, b.kept = make(map[string]Key, previousLen(opts.Previous)), make(map[string]bool, previousLen(opts.Previous))
		}()
		defer func() { <-keyMaps }() // no goroutine outlives Render
	}
	var err error
	if b.tpl, err = r.forLocale(b.loc); err != nil {
		return nil, err
	}
	// A site that was not made by posts.Load may leave these unset; the
	// defaults are posts.DefaultConfig's.
	def := posts.DefaultConfig("")
	if b.cfg.PerPage <= 0 {
		b.cfg.PerPage = def.PerPage
	}
	if b.cfg.Heading == "" || !b.cfg.Has("heading") && b.cfg.Heading == def.Heading {
		b.cfg.Heading = b.loc.T("heading")
	}
	if b.cfg.Language == "" {
		b.cfg.Language = def.Language
	}
	b.base = b.cfg.BasePath()
	if u, err := url.Parse(b.cfg.BaseURL); err == nil && u.Scheme != "" && u.Host != "" {
		b.host = u.Scheme + "://" + u.Host
	}
	b.site = &SiteData{
		Title:       b.cfg.Title,
		Heading:     b.cfg.Heading,
		Description: b.cfg.Description,
		Author:      b.cfg.Author,
		Language:    b.cfg.Language,
		Dir:         b.loc.Dir,
		Analytics:   analyticsTag(b.cfg.Analytics),
		BackURL:     b.cfg.BackURL,
		BaseURL:     b.cfg.URL(""),
		Home:        b.base,
		Stylesheet:  b.base + StylesheetPath + "?v=" + r.cssHash,
		AtomURL:     b.base + "feed.xml",
		RSSURL:      b.base + "rss.xml",
		JSONURL:     b.base + "feed.json",
		ArchiveURL:  b.base + "archive/",
		TagsURL:     b.base + "tags/",
		PreviewPR:   opts.PreviewPR,
	}
	region := trace.StartRegion(ctx, "templates.prepare")
	visible := visiblePosts(site, opts)
	b.preparePosts(visible)
	b.startSearch()
	defer b.waitSearch() // no goroutine outlives Render
	b.startFeedBodies(site.Sections)
	defer b.waitFeedBodies()
	b.preparePages(site.Pages)
	b.prepareReaders()
	b.site.Menu = b.menuLinks(site.Menu)
	if keyMaps != nil {
		<-keyMaps
	}
	b.out = make(map[string][]byte, max(len(visible)+len(visible)/4+len(b.tags)+32, previousLen(opts.Previous)))

	shown := make(map[string]bool, len(visible))
	for _, p := range visible {
		shown[p.Path] = true
	}
	region.End()
	region = trace.StartRegion(ctx, "templates.assets")
	if err := b.assets(site.Assets, content, shown); err != nil {
		return nil, err
	}
	trace.WithRegion(ctx, "templates.responsiveImages", b.responsiveImages)
	region.End()
	if err := b.writeExtras(site.Sections); err != nil {
		return nil, err
	}
	if _, ok := b.out["favicon.ico"]; ok {
		b.site.Favicon = b.base + "favicon.ico"
	} else {
		b.site.Favicon = b.base + FaviconPath
		b.add(FaviconPath, r.favicon)
	}
	for _, part := range []struct {
		name string
		dst  *template.HTML
	}{{"site-head", &b.site.Head}, {"site-header", &b.site.Header}, {"site-footer", &b.site.Footer}} {
		t := b.tpl[tplIndex]
		if t.Lookup(part.name) == nil {
			continue
		}
		var buf strings.Builder
		if err := t.ExecuteTemplate(&buf, part.name, b.site); err != nil {
			return nil, fmt.Errorf("execute template %s: %w", part.name, err)
		}
		// the output of html/template, escaped for the HTML text context
		*part.dst = template.HTML(buf.String())
	}
	if err := b.menuHeaders(); err != nil {
		return nil, fmt.Errorf("execute template site-header: %w", err)
	}
	b.intro = template.HTML(site.Intro) // rendered and sanitised by posts.Load
	region = trace.StartRegion(ctx, "templates.keyPosts")
	b.keyPosts()
	region.End()
	pages := func() error {
		return b.pageSteps((*build).postPages, (*build).indexPages, (*build).tagPages,
			func(b *build) error { return b.sectionPages(site.Sections) }, (*build).archivePage, (*build).notFoundPage, (*build).pagePages)
	}
	steps := []struct {
		name string
		run  func() error
	}{{"pages", pages}, {"aliases", func() error { return b.aliasPages(site.Sections, site.Redirects) }}, {"feeds", b.feeds}, {"tagFeeds", b.tagFeeds},
		{"sectionFeeds", func() error { return b.sectionFeeds(site.Sections) }}, {"search", b.searchFiles}, {"fixed", b.fixedFiles}}
	for _, step := range steps {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var err error
		trace.WithRegion(ctx, "templates."+step.name, func() { err = step.run() })
		if err != nil {
			return nil, err
		}
	}
	// A body that could not be read from the build cache went out empty:
	// fail rather than publish it (the cache has dropped what it could not
	// read, so the next build renders it).
	for _, d := range b.posts {
		if err := d.Post.BodyErr(); err != nil {
			return nil, fmt.Errorf("render: %w", err)
		}
	}
	out := &Output{Files: b.out, IndexPages: b.listedOn, Diagnostics: b.diags}
	trace.WithRegion(ctx, "templates.finishKeys", func() { b.finishKeys(out) })
	return out, nil
}

// escapePath percent-encodes a site path for use in a URL ("café/" becomes
// "caf%C3%A9/"), as sitemaps and feeds need.
func escapePath(p string) string { return (&url.URL{Path: p}).EscapedPath() }

// pathURL is the URL path of a site path: "/blog/posts/caf%C3%A9/".
func (b *build) pathURL(sitePath string) string { return b.base + escapePath(sitePath) }

// siteURL is the absolute URL of a site path.
func (b *build) siteURL(sitePath string) string { return b.cfg.URL(escapePath(sitePath)) }

// address is a post's site-relative address: posts.Post.Address, or the
// default one for a Post that posts.Load did not make.
func address(p *posts.Post) string {
	if p.Address != "" {
		return p.Address
	}
	return posts.PostPath(p.Slug)
}

func (b *build) absURL(p string) string {
	if strings.HasPrefix(p, "/") && b.host != "" {
		return b.host + p
	}
	return p
}

func (b *build) preparePosts(visible []*posts.Post) {
	b.posts = make([]*PostData, len(visible))
	// each post on every core, then the tags in the posts' order
	parallel(len(visible), func(i int) {
		p := visible[i]
		d := &PostData{
			Post:        p,
			Title:       p.Title,
			Slug:        p.Slug,
			Summary:     p.Summary,
			description: metaDescription(p.Summary),
			Author:      p.Author,
			Image:       p.Image,
			ImageAlt:    p.ImageAlt,
			Draft:       p.Draft,
			Featured:    p.Featured,
			ReadingTime: p.ReadingTime,
			Words:       p.Words,
			Date:        p.Date,
			Updated:     p.Updated,
			DateText:    b.loc.Date(p.Date),
			DateISO:     p.Date.Format(time.RFC3339),
			URL:         b.pathURL(address(p)),
			AbsURL:      b.siteURL(address(p)),
			TOC:         template.HTML(p.TOC), // rendered and sanitised by posts.Load
			Scheduled:   p.Future,
			Authors:     b.authorLinks(p),
		}
		d.FeedID = d.AbsURL
		if p.FeedID != "" {
			d.FeedID = b.siteURL(p.FeedID)
		}
		if p.Image != "" {
			d.ImageURL = b.absURL(p.Image)
		}
		if !p.Updated.IsZero() {
			d.UpdatedText = b.loc.Date(p.Updated)
			d.UpdatedISO = p.Updated.Format(time.RFC3339)
		}
		for _, tag := range p.Tags {
			slug := posts.TagSlug(tag)
			if slug == "" || slices.ContainsFunc(d.TagLinks, func(t TagLink) bool { return t.Slug == slug }) {
				continue
			}
			d.TagLinks = append(d.TagLinks, TagLink{Name: tag, Slug: slug, URL: b.pathURL("tags/" + slug + "/")})
		}
		b.posts[i] = d
	})
	b.byTag = map[string][]*PostData{}
	names := map[string]string{} // tag slug -> first spelling seen (newest post)
	for _, d := range b.posts {
		for _, t := range d.TagLinks {
			if _, ok := names[t.Slug]; !ok {
				names[t.Slug] = t.Name
			}
			b.byTag[t.Slug] = append(b.byTag[t.Slug], d)
		}
	}
	b.tags = make([]TagLink, 0, len(names))
	for slug, name := range names {
		b.tags = append(b.tags, TagLink{Name: name, Slug: slug, URL: b.pathURL("tags/" + slug + "/"), Count: len(b.byTag[slug])})
	}
	sort.Slice(b.tags, func(i, j int) bool { return b.tags[i].Slug < b.tags[j].Slug })
}

func (b *build) page(kind, title, desc, sitePath string) *Page {
	if desc == "" {
		desc = b.site.Description
	}
	if desc == "" {
		desc = b.site.Title
	}
	return b.describedPage(kind, title, metaDescription(desc), sitePath)
}

// postKindPage is a page of kind at d's address described by d's summary
// (cut once, in preparePosts), or as page describes one without.
func (b *build) postKindPage(kind, title string, d *PostData) *Page {
	if d.Summary != "" {
		return b.describedPage(kind, title, d.description, address(d.Post))
	}
	return b.page(kind, title, "", address(d.Post))
}

// describedPage is page with its meta description already cut (see
// metaDescription).
func (b *build) describedPage(kind, title, description, sitePath string) *Page {
	return &Page{
		Site:        b.site,
		Kind:        kind,
		Title:       title,
		Description: description,
		Image:       b.site.SocialImage,
		Canonical:   b.siteURL(sitePath),
		OGType:      "website",
		NoIndex:     b.opts.PreviewPR > 0,
		Header:      b.headerFor(sitePath),
	}
}

// add writes a file; one it replaces takes its key along (a kept asset
// replaced by a generated robots.txt is no longer kept).
func (b *build) add(sitePath string, data []byte) {
	if _, had := b.out[sitePath]; had && b.keys != nil {
		delete(b.keys, sitePath)
		delete(b.kept, sitePath)
	}
	b.out[sitePath] = data
}

func (b *build) addPage(sitePath string, lastMod time.Time) {
	b.urls = append(b.urls, sitemapURL{Loc: b.siteURL(sitePath), LastMod: lastMod})
}

func (b *build) postPages() error {
	n := len(b.posts)
	results := make([][]byte, n)
	errs := make([]error, n)
	keys := make([]Key, n)
	keyed := make([]bool, n)
	kept := make([]bool, n)
	parallel(n, func(i int) {
		if errs[i] = b.ctx.Err(); errs[i] != nil {
			return
		}
		pg, ld := b.postPage(i)
		p := posts.OutputPath(address(b.posts[i].Post))
		if keys[i], keyed[i] = b.pageKey(p, tplPost, pg, ld); keyed[i] && b.unchanged(p, keys[i]) {
			kept[i] = true
			return
		}
		pg.JSONLD = ld.jsonLD()
		results[i], errs[i] = b.tpl.execute(tplPost, pg, len(b.posts[i].Body())+6<<10)
		if d := b.posts[i]; d.body != nil {
			d.body.forget() // made once for its page, not held for the rest of the render
		}
	})
	if err := b.ctx.Err(); err != nil {
		return err
	}
	for i, d := range b.posts {
		if errs[i] != nil {
			return fmt.Errorf("render post %s: %w", d.Post.Path, errs[i])
		}
		sp := address(d.Post)
		b.addKeyed(posts.OutputPath(sp), results[i], keys[i], keyed[i], kept[i])
		lm := d.Date
		if d.Updated.After(lm) {
			lm = d.Updated
		}
		b.addPage(sp, lm)
	}
	return nil
}

// postPage is the data of post i's page but its JSONLD, and what that is
// made from.
func (b *build) postPage(i int) (*Page, postLD) {
	d := b.posts[i]
	title := d.Title
	if b.site.Title != "" {
		title += " · " + b.site.Title
	}
	pg := b.postKindPage("post", title, d)
	pg.OGType = "article"
	pg.Post = d
	pg.Stylesheets, pg.Scripts = b.extras(d.Post.Math, d.Post.Diagrams)
	if d.ImageURL != "" {
		pg.Image, pg.ImageAlt = d.ImageURL, d.ImageAlt
	}
	if i > 0 {
		pg.Newer = b.posts[i-1]
	}
	if i+1 < len(b.posts) {
		pg.Older = b.posts[i+1]
	}
	return pg, b.postLD(d, pg.Image)
}

// featured is the newest featured post, or nil.
func (b *build) featured() *PostData {
	for _, d := range b.posts {
		if d.Featured {
			return d
		}
	}
	return nil
}

func groupByYear(list []*PostData) []YearGroup {
	var groups []YearGroup
	for _, d := range list {
		y := d.Date.Year()
		if len(groups) == 0 || groups[len(groups)-1].Year != y {
			groups = append(groups, YearGroup{Year: y})
		}
		g := &groups[len(groups)-1]
		g.Posts = append(g.Posts, d)
	}
	return groups
}

// pageDir is the site-relative folder of listing page n under dir ("" for
// the index, "tags/go/" for a tag).
func pageDir(dir string, n int) string {
	if n <= 1 {
		return dir
	}
	return dir + "page/" + strconv.Itoa(n) + "/"
}

// paginate calls emit for every page of list under dir; the first page's
// list starts with first when it is non-nil.
func (b *build) paginate(dir string, list []*PostData, emit func(n int, items []*PostData, pager *Pager) error) error {
	per := b.cfg.PerPage
	total := (len(list) + per - 1) / per
	if total == 0 {
		total = 1
	}
	for n := 1; n <= total; n++ {
		if err := b.ctx.Err(); err != nil {
			return err
		}
		lo, hi := (n-1)*per, n*per
		if hi > len(list) {
			hi = len(list)
		}
		if lo > hi {
			lo = hi
		}
		pager := &Pager{Page: n, Total: total}
		if n > 1 {
			pager.NewerURL = b.pathURL(pageDir(dir, n-1))
		}
		if n < total {
			pager.OlderURL = b.pathURL(pageDir(dir, n+1))
		}
		if err := emit(n, list[lo:hi], pager); err != nil {
			return err
		}
	}
	return nil
}

func (b *build) popular() []*PostData {
	var out []*PostData
	if len(b.cfg.Popular) > 0 {
		bySlug := make(map[string]*PostData, len(b.posts))
		for _, d := range b.posts {
			bySlug[d.Slug] = d
		}
		byAddress := make(map[string]*PostData, len(b.posts))
		for i := len(b.posts) - 1; i >= 0; i-- {
			byAddress[strings.Trim(address(b.posts[i].Post), "/")] = b.posts[i]
		}
		seen := map[*PostData]bool{}
		for _, s := range b.cfg.Popular {
			s = strings.Trim(strings.TrimSpace(s), "/")
			d, ok := byAddress[s] // an address, or a slug (of the default posts/<slug>/)
			if !ok {
				d, ok = bySlug[strings.TrimPrefix(s, "posts/")]
			}
			if ok && !seen[d] {
				seen[d] = true
				out = append(out, d)
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	for _, d := range b.posts {
		if len(out) == 5 {
			break
		}
		out = append(out, d)
	}
	return out
}

func (b *build) indexPages() error {
	feat := b.featured()
	list := make([]*PostData, 0, len(b.posts))
	if feat != nil {
		list = append(list, feat)
	}
	for _, d := range b.posts {
		if d != feat {
			list = append(list, d)
		}
	}
	b.listedOn = make(map[string]int, len(list))
	for i, d := range list {
		b.listedOn[d.Post.Path] = i/b.cfg.PerPage + 1
	}
	popular := b.popular()
	return b.paginate("", list, func(n int, items []*PostData, pager *Pager) error {
		title := b.site.Title
		if n > 1 {
			title = b.site.Title + " · " + b.loc.T("page_of", n, pager.Total)
		}
		dir := pageDir("", n)
		pg := b.page("index", title, b.site.Description, dir)
		if n == 1 && feat != nil && len(items) > 0 && items[0] == feat {
			pg.Featured = feat
			items = items[1:]
		}
		pg.Years = groupByYear(items)
		pg.Pager = pager
		pg.Popular = popular
		if n == 1 {
			pg.Intro = b.intro
		}
		if pg.Featured != nil && pg.Featured.ImageURL != "" {
			pg.Image, pg.ImageAlt = pg.Featured.ImageURL, pg.Featured.ImageAlt
		}
		if n == 1 {
			var err error
			if pg.JSONLD, err = b.blogJSONLD(); err != nil {
				return err
			}
		}
		if err := b.emit(dir+"index.html", tplIndex, pg, 8<<10); err != nil {
			return err
		}
		shownHere := items
		if pg.Featured != nil {
			shownHere = append([]*PostData{pg.Featured}, items...)
		}
		b.addPage(dir, newest(shownHere))
		return nil
	})
}

// newest is the latest date or update among list; zero for an empty list.
func newest(list []*PostData) time.Time {
	var t time.Time
	for _, d := range list {
		if d.Date.After(t) {
			t = d.Date
		}
		if d.Updated.After(t) {
			t = d.Updated
		}
	}
	return t
}

func (b *build) tagPages() error {
	for i := range b.tags {
		tag := &b.tags[i]
		dir := "tags/" + tag.Slug + "/"
		err := b.paginate(dir, b.byTag[tag.Slug], func(n int, items []*PostData, pager *Pager) error {
			title := b.loc.T("tagged", tag.Name)
			if n > 1 {
				title += " · " + b.loc.T("page_of", n, pager.Total)
			}
			if b.site.Title != "" {
				title += " · " + b.site.Title
			}
			sp := pageDir(dir, n)
			pg := b.page("tag", title, fmt.Sprintf("%d posts tagged %s.", tag.Count, tag.Name), sp)
			pg.Tag = tag
			pg.FeedURL = b.pathURL(tagFeedPath(tag.Slug))
			pg.FeedTitle = b.loc.T("tag_feed", tag.Name)
			pg.Years = groupByYear(items)
			pg.Pager = pager
			if err := b.emit(sp+"index.html", tplTag, pg, 8<<10); err != nil {
				return err
			}
			b.addPage(sp, newest(items))
			return nil
		})
		if err != nil {
			return err
		}
	}
	title := b.loc.T("tags")
	if b.site.Title != "" {
		title += " · " + b.site.Title
	}
	pg := b.page("tags", title, "All tags of "+b.site.Title+".", "tags/")
	pg.Tags = b.tags
	if err := b.emit("tags/index.html", tplTags, pg, 8<<10); err != nil {
		return err
	}
	b.addPage("tags/", newest(b.posts))
	return nil
}

func (b *build) archivePage() error {
	title := b.loc.T("archive")
	if b.site.Title != "" {
		title += " · " + b.site.Title
	}
	pg := b.page("archive", title, "Every post of "+b.site.Title+" by year.", "archive/")
	pg.Years = groupByYear(b.posts)
	if err := b.emit("archive/index.html", tplArchive, pg, 64<<10); err != nil {
		return err
	}
	b.addPage("archive/", newest(b.posts))
	return nil
}

func (b *build) notFoundPage() error {
	title := b.loc.T("not_found_title")
	if b.site.Title != "" {
		title += " · " + b.site.Title
	}
	pg := b.page("404", title, b.loc.T("not_found_description"), "404.html")
	pg.NoIndex = true
	n := len(b.posts)
	if n > 5 {
		n = 5
	}
	pg.Popular = b.posts[:n]
	return b.emit("404.html", tpl404, pg, 8<<10)
}

// sectionPages writes the listing page of every section, paginated like
// a tag's, with the posts of its folder and subfolders that this render
// shows.
func (b *build) sectionPages(sections []*posts.Section) error {
	for _, sec := range sections {
		var list []*PostData
		for _, d := range b.posts {
			if s := d.Post.Section; s == sec.Dir || strings.HasPrefix(s, sec.Dir+"/") {
				list = append(list, d)
			}
		}
		data := &SectionData{Section: sec, Title: sec.Title, Summary: sec.Summary, URL: b.pathURL(sec.Address),
			Body: template.HTML(sec.HTML), Count: len(list)} // sec.HTML: rendered and sanitised by posts.Load
		err := b.paginate(sec.Address, list, func(n int, items []*PostData, pager *Pager) error {
			title := sec.Title
			if n > 1 {
				title += " · " + b.loc.T("page_of", n, pager.Total)
			}
			if b.site.Title != "" {
				title += " · " + b.site.Title
			}
			sp := pageDir(sec.Address, n)
			pg := b.page("section", title, sec.Summary, sp)
			pg.Section = data
			if len(list) > 0 {
				pg.FeedURL, pg.FeedTitle = b.pathURL(sectionFeedPath(sec)), sectionFeedTitle(sec, b.cfg.Title)+" (Atom)"
			}
			pg.Stylesheets, pg.Scripts = b.extras(sec.Math, sec.Diagrams)
			pg.Years = groupByYear(items)
			pg.Pager = pager
			if err := b.emit(sp+"index.html", tplSection, pg, 8<<10); err != nil {
				return err
			}
			b.addPage(sp, newest(items))
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// aliasPages writes a redirect page at the files of every alias of a
// post or section (posts.AliasFiles), and one for every file that only
// redirects. posts.Load made sure none of them lies at, under or over
// another file; a file already written is still never replaced.
func (b *build) aliasPages(sections []*posts.Section, redirects []*posts.Redirect) error {
	// The pages and their keys are made on every core (a blog of 20,000
	// posts has as many alias files to key); the files are then written
	// in order, the first to claim a path keeping it.
	type redirectPage struct {
		make  func() (*Page, []string) // the page and the addresses it redirects from
		pg    *Page
		files []string
		keys  []Key
		keyed []bool
	}
	var list []redirectPage
	for _, d := range b.posts {
		if len(d.Post.Aliases) == 0 {
			continue
		}
		list = append(list, redirectPage{make: func() (*Page, []string) {
			pg := b.postKindPage("redirect", d.Title, d)
			pg.Post = d
			pg.Target = d.AbsURL
			return pg, d.Post.Aliases
		}})
	}
	for _, sec := range sections {
		if len(sec.Aliases) == 0 {
			continue
		}
		list = append(list, redirectPage{make: func() (*Page, []string) {
			pg := b.page("redirect", sec.Title, sec.Summary, sec.Address)
			pg.Post = &PostData{Title: sec.Title}
			pg.Target = b.siteURL(sec.Address)
			return pg, sec.Aliases
		}})
	}
	for _, rd := range redirects {
		list = append(list, redirectPage{make: func() (*Page, []string) {
			title := rd.Title
			if title == "" {
				title = rd.Target
			}
			pg := b.page("redirect", title, "", rd.Address)
			pg.Post = &PostData{Title: title}
			pg.Target = b.absURL(rd.Target)
			pg.Canonical = pg.Target
			return pg, append([]string{"/" + rd.Address}, rd.Aliases...)
		}})
	}
	parallel(len(list), func(i int) {
		if b.ctx.Err() != nil {
			return
		}
		r := &list[i]
		var aliases []string
		r.pg, aliases = r.make()
		r.pg.NoIndex = true
		// the files of one page are the same bytes: its key is made once
		// (most posts of a migrated blog have two alias files)
		k, keyed := b.pageKey("", tplRedirect, r.pg)
		for _, a := range aliases {
			for _, f := range posts.AliasFiles(a) {
				r.files, r.keys, r.keyed = append(r.files, f), append(r.keys, redirectKey(k, f)), append(r.keyed, keyed)
			}
		}
	})
	if err := b.ctx.Err(); err != nil {
		return err
	}
	defer trace.StartRegion(b.ctx, "templates.aliases.write").End()
	for _, r := range list {
		var data []byte
		for i, f := range r.files {
			if _, taken := b.out[f]; taken || !fs.ValidPath(f) {
				continue
			}
			k, keyed := r.keys[i], r.keyed[i]
			if keyed && b.unchanged(f, k) {
				b.addKeyed(f, nil, k, true, true)
				continue
			}
			if data == nil {
				var err error
				if data, err = b.tpl.execute(tplRedirect, r.pg, 1<<10); err != nil {
					return err
				}
			}
			b.addKeyed(f, data, k, keyed, false)
		}
	}
	return nil
}

// assets copies static files, bundle files and the files posts link to.
// A file only of posts that this render hides (drafts) is left out. A file
// whose content the tree names (posts.ContentIDs) is keyed by that name
// and, when the previous render made it from the same content, kept
// without being read; raster images go to processImages unread.
func (b *build) assets(assets []posts.Asset, content fs.FS, shown map[string]bool) error {
	var images []pendingImage
	ids, _ := content.(posts.ContentIDs)
	var kept map[string]string // kept assets' sources by site path
	for _, a := range assets {
		if err := b.ctx.Err(); err != nil {
			return err
		}
		if a.Target == "" || !fs.ValidPath(a.Target) {
			continue
		}
		if len(a.Posts) > 0 && !slices.ContainsFunc(a.Posts, func(p string) bool { return shown[p] }) {
			continue
		}
		if content == nil {
			return fmt.Errorf("copy asset %s: no content tree", a.Source)
		}
		var id string
		if ids != nil {
			id, _ = ids.ContentID(a.Source)
		}
		if isRaster(a.Target) {
			images = append(images, pendingImage{asset: a, id: id})
			continue
		}
		var k Key
		keyed := b.keyer != nil && id != ""
		if keyed {
			k = assetKey(id)
			if b.unchanged(a.Target, k) {
				b.addKeyed(a.Target, nil, k, true, true)
				if kept == nil {
					kept = map[string]string{}
				}
				kept[a.Target] = a.Source
				continue
			}
		}
		data, err := fs.ReadFile(content, a.Source)
		if err != nil {
			return fmt.Errorf("copy asset %s: %w", a.Source, err)
		}
		b.addKeyed(a.Target, data, k, keyed, false)
	}
	return b.processImages(content, images, kept)
}
