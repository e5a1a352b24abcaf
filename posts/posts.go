// Package posts owns the content model of a publishbot repository: it reads a
// content tree from any fs.FS (a folder, or a git tree), parses front matter,
// validates posts into diagnostics that point at a file, line and column, and
// renders Markdown to safe HTML with goldmark.
//
// Problems in content are data (Diagnostics), never Go errors: one broken post
// is one diagnostic and the rest of the site still loads.
//
// With Options.Cache, a source file's parsed front matter is reused while
// its content is the same (sourcecache.go), and a post's rendering while
// nothing it was made from changed (cache.go). Rendering code that reads anything beyond the
// post's own source and the configuration — another post, a file of the
// repository (an include, an image, a shortcode template), whether a file
// exists — must read it through the walker's recording lookups (source,
// bundle, section, assetOf, hasFile, hasDir, linkedTarget, and readFile for a
// file's bytes; see Reads), so that a change to it renders the post again.
package posts

import (
	"io/fs"
	"net/url"
	"strings"
	"time"
)

// Severity says whether a diagnostic stops a post from being published.
type Severity string

const (
	// SeverityError: the post (or, for publish.yaml, the site) cannot be
	// published as written; it is left out of the build.
	SeverityError Severity = "error"
	// SeverityWarning: the post is published, but a reader may notice something.
	SeverityWarning Severity = "warning"
)

// Diagnostic is one problem found in the content, at a 1-based line and
// column of a repository-relative file (slash-separated). Line and Column are
// 0 when the problem is about the whole file. Code is stable and
// machine-readable (e.g. "missing-title").
type Diagnostic struct {
	File     string   `json:"file"`
	Line     int      `json:"line"`
	Column   int      `json:"column"`
	Severity Severity `json:"severity"`
	Code     string   `json:"code"`
	Message  string   `json:"message"`
}

// Config is the site configuration from publish.yaml, with defaults applied.
type Config struct {
	Title        string   `yaml:"title" json:"title"`
	Heading      string   `yaml:"heading" json:"heading"`         // default "Writing"
	Description  string   `yaml:"description" json:"description"` // shown under the heading
	BaseURL      string   `yaml:"base_url" json:"base_url"`       // absolute, always ends in "/"; "/" when neither publish.yaml nor Options.Repo gives one
	Author       string   `yaml:"author" json:"author"`
	Language     string   `yaml:"language" json:"language"` // default "en"
	PerPage      int      `yaml:"per_page" json:"per_page"` // default 8
	PostsDir     string   `yaml:"posts_dir" json:"posts_dir"`
	SourceBranch string   `yaml:"source_branch" json:"source_branch"` // "" means the repository's default branch
	PagesBranch  string   `yaml:"pages_branch" json:"pages_branch"`   // default "gh-pages"
	Popular      []string `yaml:"popular" json:"popular"`             // slugs; empty means the five newest
	CNAME        string   `yaml:"cname" json:"cname"`
	Previews     bool     `yaml:"previews" json:"previews"` // default true
	Timezone     string   `yaml:"timezone" json:"timezone"` // IANA name, default "UTC"
	BackURL      string   `yaml:"back_url" json:"back_url"`
	UnsafeHTML   bool     `yaml:"unsafe_html" json:"unsafe_html"`
	Embeds       []string `yaml:"embeds" json:"embeds"`       // hosts an iframe in a post may load; default DefaultEmbeds; empty: none
	TOC          bool     `yaml:"toc" json:"toc"`             // a table of contents on every post that does not say toc: false
	Math         bool     `yaml:"math" json:"math"`           // TeX math ($…$, $$…$$, \(…\), \[…\]) in every post that does not say math: false
	Permalink    string   `yaml:"permalink" json:"permalink"` // address pattern of posts, default DefaultPermalink; see ParsePermalink
	Generator    string   `yaml:"generator" json:"generator"` // jekyll, hugo, zola, eleventy or "": whose conventions apply where they differ
	Feeds        []string `yaml:"feeds" json:"feeds"`         // more site paths that get a copy of the Atom feed ("/index.xml", "/atom.xml")

	// Search is a /search/ page and its index (default true); Related the
	// number of related posts under each post (default DefaultRelated, 0
	// for none); SocialImage the og:image of pages without an image of
	// their own: an http(s) URL or a site path ("" for none).
	Search      bool   `yaml:"search" json:"search"`
	Related     int    `yaml:"related" json:"related"`
	SocialImage string `yaml:"social_image" json:"social_image"`

	// Images says how raster images are published; default
	// DefaultImageConfig.
	Images ImageConfig `yaml:"images" json:"images"`

	// Pages are the globs of the Markdown files that are pages; nil means
	// the default (DefaultPageGlobs, plus Markdown files with front matter
	// at the repository's root), an empty list means no pages.
	Pages []string `yaml:"pages" json:"pages"`
	// Menu is the header menu as written; nil means the default (see
	// Site.Menu), an empty list means no menu.
	Menu []MenuItem `yaml:"menu" json:"menu"`
	// Authors maps the author ids front matter may use to names and links.
	Authors map[string]Person `yaml:"authors" json:"authors"`
	// Params are the site's own variables (params: in publish.yaml), as
	// Jekyll's site.<key> and Hugo's .Site.Params; nil for none.
	Params map[string]any `yaml:"params" json:"params,omitempty"`
	// Strings replace words of the theme's table for Language (see package
	// locale); nil for none.
	Strings map[string]string `yaml:"strings" json:"strings,omitempty"`
	// Analytics is the analytics provider whose tag every page carries; nil
	// for none.
	Analytics *Analytics `yaml:"analytics" json:"analytics,omitempty"`

	// Location is Timezone loaded; never nil after Load.
	Location *time.Location `yaml:"-" json:"-"`
	// Set says which keys publish.yaml gave a value (see LoadConfig, Has).
	Set map[string]bool `yaml:"-" json:"-"`
}

// Post is one loaded post. Only posts without error diagnostics are in
// Site.Posts; drafts and future posts are included and flagged, so the
// renderer decides whether to show them.
type Post struct {
	Path        string    // repository-relative source file: "posts/2026-06-14-hello.md" or "posts/hello/index.md"
	Bundle      string    // repository-relative bundle folder ("posts/hello") or "" for a single file
	Slug        string    // front matter slug, else the file or bundle name without its date: the :slug of permalink patterns
	Address     string    // site-relative URL path, unescaped: "posts/hello/" (the default), "2024/05/07/x/", "news/x.html", "2024/x" (written to x.html); see OutputPath
	Section     string    // the folders between posts_dir and the post ("inside-rust", "2023/talks"); "" at the top
	FeedID      string    // site-relative path whose URL is the post's id in feeds: Address, or jekyll-feed's id with generator: jekyll
	Title       string    // plain text
	Date        time.Time // in Config.Location
	Updated     time.Time // zero when not set
	Summary     string    // plain text, never markup
	Tags        []string  // as written, de-duplicated; see TagSlug for URLs
	Draft       bool
	Future      bool // Date (or PublishDate) is after Options.Now
	Featured    bool
	Author      string // the authors' names as one text ("A, B and C"), else Config.Author
	Image       string // cover image URL, absolute or base-path-relative ("/blog/posts/x/cover.jpg"); "" for none
	ImageAlt    string
	Aliases     []string // old site addresses that redirect here, root-relative and unescaped: "/2019/01/old-name/", "/releases/1.88.0"; see AliasFiles
	TOC         string   // the table of contents (a <nav> of links to the body's h2 and h3 headings) when toc is on and there are any, else ""; sanitised like HTML
	Words       int      // word count of the plain text
	ReadingTime int      // minutes, at least 1

	// body is the rendered HTML and plain text: see HTML, Text and
	// SetBody (body.go).
	body *postBody

	// Authors are the post's authors (author, authors, by), each resolved
	// through Config.Authors; Config.Author alone when front matter names
	// none, and nil when neither does.
	Authors []Person
	// PublishDate is zero, or a publishDate later than Date: the post is
	// Future until then. Expires is zero, or the expiryDate when the post
	// leaves the site; a post that has expired is not in Site.Posts.
	PublishDate time.Time
	Expires     time.Time
	// Params are the author's own variables of this post: Zola's extra
	// and Hugo's params front matter maps, for template overrides
	// (.Post.Post.Params); nil for none.
	Params map[string]any
	// Math says HTML has formulas rendered as MathML (math: true), so its
	// page needs Temml's stylesheet; Diagrams says it has ```mermaid
	// blocks, so its page needs the diagram script.
	Math, Diagrams bool
}

// Asset is a file copied into the site as is: static/ files, the files
// beside a bundle's index.md, and the files of the repository that posts
// link to. The files of a bundle whose post has errors are not assets;
// those of drafts and future posts are, and Posts says which posts they
// belong to, so a renderer that hides those posts skips them.
type Asset struct {
	Source string // repository-relative path to read from the content fs.FS
	Target string // site-relative output path, e.g. "posts/hello/cover.jpg" or "favicon.ico"
	Size   int64
	// Posts are the source files (Post.Path) of the posts the file is
	// published for: a bundle's post, or the posts that link to it. A
	// renderer copies the file when it shows at least one of them; empty
	// (static/ files) means always.
	Posts []string
}

// Section is a folder under posts_dir that an _index.md (Hugo, Zola)
// describes: it has a listing page of its posts, those of its subfolders
// included, at Address.
type Section struct {
	Path    string   // repository-relative source file: "content/inside-rust/_index.md"
	Dir     string   // the folder relative to posts_dir: "inside-rust"; matches Post.Section and its subfolders
	Title   string   // front matter title, else the folder's name
	Summary string   // plain text: description, else the start of the text
	HTML    string   // the rendered text, "" for none
	Address string   // site-relative and unescaped, always ending in "/": "inside-rust/"
	Aliases []string // old addresses that redirect to the section, as Post.Aliases
	// Math and Diagrams are as Post's.
	Math, Diagrams bool
}

// Redirect is a post file whose front matter only redirects (Jekyll's
// redirect_to, the Go blog's redirect): a redirect page at its own address.
type Redirect struct {
	Path    string   // repository-relative source file
	Title   string   // front matter title, "" for none
	Address string   // site-relative and unescaped, like Post.Address
	Target  string   // where it goes: an absolute URL, or a URL path under the base path ("/blog/posts/x/")
	Aliases []string // more old addresses that redirect there, as Post.Aliases
}

// Site is a loaded content repository.
type Site struct {
	Config      Config
	Posts       []*Post      // newest first: by date and time descending, then title ascending
	Pages       []*Page      // by Address
	Menu        []MenuEntry  // the header menu, in order: publish.yaml's menu, or the default
	Sections    []*Section   // by Dir
	Redirects   []*Redirect  // by Path
	Intro       string       // HTML of the _index.md at the top of posts_dir: the index page's introduction; "" for none
	Assets      []Asset      // sorted by Target
	Diagnostics []Diagnostic // sorted by file, line, column, code

	outputs *outputs // every file the build writes, with its owner; nil for a Site not made by Load
}

// Options tune Load. The zero value loads with time.Now() and the tree's own
// publish.yaml.
type Options struct {
	// Now decides which posts are Future. Zero means time.Now().
	Now time.Time
	// BaseURL overrides base_url (previews, `build --base-url`). Links inside
	// posts are rendered against it: a site-absolute link written with the
	// configured base path ("/blog/x/") or without it ("/x/") both move under
	// this one. It must be an absolute http(s) URL; Load returns an error
	// otherwise.
	BaseURL string
	// Config, when non-nil, is used instead of the tree's publish.yaml: a pull
	// request preview takes the base branch's configuration.
	Config *Config
	// Repo is "owner/name"; it gives the default base_url
	// (https://owner.github.io/name/) when publish.yaml has none.
	Repo string
	// Limits bound the tags and aliases of each post; the zero value gives
	// the defaults (DefaultMaxTags, DefaultMaxAliases).
	Limits Limits
	// Cache, when non-nil, keeps the rendering of each post between builds
	// (see RenderCache), and each source file's parsed front matter by its
	// content (sourcecache.go): with a tree that names contents
	// (ContentIDs), a file whose front matter and rendering are cached is
	// not read at all. The Site is the same with or without it.
	Cache RenderCache
	// Templates is the templates/ folder custom Hugo shortcodes are read
	// from (shortcodes/<name>.html): a fork's preview passes the base
	// branch's. Nil means the content tree's templates/.
	Templates fs.FS
}

// BasePath is the path of BaseURL, always starting and ending in "/": "/" for
// a user site, "/blog/" for a project site.
func (c Config) BasePath() string {
	u, err := url.Parse(c.BaseURL)
	if err != nil || u.Path == "" {
		return "/"
	}
	p := u.Path
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

// URL is the absolute URL of a site-relative path ("posts/hello/"), joined to
// BaseURL.
func (c Config) URL(sitePath string) string {
	base := c.BaseURL
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	return base + strings.TrimPrefix(sitePath, "/")
}

// PostPath is the address of a post under the default permalink
// (DefaultPermalink): "posts/<slug>/". Renderers fall back on it for a Post
// without an Address (one not made by Load).
func PostPath(slug string) string { return "posts/" + slug + "/" }
