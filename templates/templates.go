// Package templates owns the default theme (embedded html/template files and
// one CSS file) and renders a loaded posts.Site into output files: index
// pages, posts, tags, archive, feeds, sitemap, robots.txt, 404 and redirects.
//
// Rendering is a pure function: no network, git, OS or logging. The output is
// byte-for-byte identical for identical input. The pages need no JavaScript
// and request nothing from other hosts.
//
// # Overriding the theme
//
// A repository's templates/*.html replace the default files of the same
// name, and templates/style.css replaces the stylesheet (the code
// highlighting rules are still appended). Page templates are index.html,
// post.html, page.html, tag.html, tags.html, section.html, archive.html, 404.html and
// redirect.html: each is executed once per output page with a *Page, and
// the defaults execute the layout "base" and define "main". Every other
// *.html file (base.html, partials.html, or a new file) is shared by all
// pages; base.html also defines "site-head", "site-header" and
// "site-footer", executed once per render with the *SiteData into
// Site.Head, Site.Header and Site.Footer. "site-header" shows the menu
// (.Site.Menu) and is executed once more for each menu link's page, with
// .Current set to that link's URL: that is the page's .Header.
// Besides the fields of Page, SiteData, PostData and PageData, templates
// may call date ("Jun 14, 2026"), isodate (RFC 3339) and day (2006-01-02)
// on a time.Time. PostData.Body and PageData.Body are HTML already
// sanitised by posts.Load; every other field is plain text that
// html/template escapes.
package templates

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/publishbot/publishbot/locale"
	"github.com/publishbot/publishbot/posts"
)

//go:embed theme
var themeFS embed.FS

// Options tune one render.
type Options struct {
	Drafts    bool // include draft posts, visibly marked
	Future    bool // include future-dated posts, visibly marked
	PreviewPR int  // > 0: a pull request preview: "Preview of #N" banner, noindex on every page

	// FeedEntries is how many of the newest posts the feeds carry (with full
	// content). Zero means DefaultFeedEntries; negative means every post.
	FeedEntries int

	// Images treats the site's raster images (size, metadata, variants);
	// nil means an imagery.Processor without a cache.
	Images ImageProcessor

	// Keys asks for Output.Keys: every output file's input key, for the
	// next render's Previous.
	Keys bool
	// Previous is the keys (Output.Keys) of the previous render of the
	// same site whose files the caller still has, by path. A page whose
	// key is Previous's for its path is not executed: Output.Kept lists
	// it and Output.Files leaves it out, and the caller uses the bytes it
	// has. Non-nil Previous implies Keys.
	Previous PreviousKeys
	// PreviousPaths, when the caller has them, are Previous's paths in
	// order: Output.Kept is then made in that order, not sorted.
	PreviousPaths []string

	// Cache, when non-nil, keeps the words of the search index between
	// renders, by runs of posts (searchchunks.go): the index is the same
	// with or without it.
	Cache posts.RenderCache
}

// DefaultFeedEntries is the number of posts in feed.xml, rss.xml and
// feed.json when Options.FeedEntries is zero.
const DefaultFeedEntries = 50

// Page templates: each is executed once per output page of its kind.
const (
	tplIndex    = "index.html"
	tplPost     = "post.html"
	tplTag      = "tag.html"
	tplTags     = "tags.html"
	tplArchive  = "archive.html"
	tpl404      = "404.html"
	tplRedirect = "redirect.html"
	tplPage     = "page.html"
	tplSection  = "section.html"
	tplSearch   = "search.html"
)

var pageTemplates = []string{tplIndex, tplPost, tplTag, tplTags, tplArchive, tpl404, tplRedirect, tplPage, tplSection, tplSearch}

// StylesheetPath is the site-relative path of the theme's stylesheet.
const StylesheetPath = "assets/style.css"

// FaviconPath is the site-relative path of the theme's icon, used when the
// site has no favicon.ico of its own.
const FaviconPath = "assets/favicon.svg"

// maxOverrideSize bounds one override file; a theme file is a few KB.
const maxOverrideSize = 1 << 20

// Renderer holds the parsed theme; build it once with New and reuse it. It is
// safe for concurrent use.
type Renderer struct {
	protos  pageSet // parsed, never executed: what each locale's set is cloned from
	css     []byte
	cssHash string
	favicon []byte
	digest  Key // of every template source, the stylesheet and the icon: the part of every page key that is the theme
	// reads is, by page template, the fields of the posts it can read
	// (postReads): its pages' keys hold only those. Post pages, which
	// show their post whole, are keyed by whole posts.
	reads map[string]*postMask
	masks []*postMask // the distinct masks of reads, by id

	mu   sync.Mutex
	sets map[string]pageSet // by localeKey
}

// pageSet is the page templates, each with the shared ones, by page name.
type pageSet map[string]*template.Template

// New parses the default theme. overrides, when non-nil, is a folder (the
// repository's templates/) whose *.html files replace default templates of
// the same name; a style.css there replaces the stylesheet. The error names
// the template that does not parse.
func New(overrides fs.FS) (*Renderer, error) {
	sources := map[string]string{}
	entries, err := fs.ReadDir(themeFS, "theme")
	if err != nil {
		return nil, fmt.Errorf("read default theme: %w", err)
	}
	var css, icon []byte
	for _, e := range entries {
		b, err := fs.ReadFile(themeFS, "theme/"+e.Name())
		if err != nil {
			return nil, fmt.Errorf("read default theme: %w", err)
		}
		switch {
		case e.Name() == "style.css":
			css = b
		case e.Name() == "favicon.svg":
			icon = b
		case strings.HasSuffix(e.Name(), ".html"):
			sources[e.Name()] = string(b)
		}
	}
	if overrides != nil {
		if err := readOverrides(overrides, sources, &css); err != nil {
			return nil, err
		}
	}
	css = minifyCSS(append(css, highlightCSS()...))

	layout := template.New("").Funcs(funcs)
	names := make([]string, 0, len(sources))
	for name := range sources {
		names = append(names, name)
	}
	sort.Strings(names)
	isPage := map[string]bool{}
	for _, p := range pageTemplates {
		isPage[p] = true
	}
	for _, name := range names {
		if isPage[name] {
			continue
		}
		if _, err := layout.New(name).Parse(sources[name]); err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
	}
	r := &Renderer{protos: pageSet{}, css: css, favicon: icon, sets: map[string]pageSet{}, reads: map[string]*postMask{}}
	masks := map[string]*postMask{}
	for _, name := range pageTemplates {
		src, ok := sources[name]
		if !ok {
			return nil, fmt.Errorf("parse template %s: missing", name)
		}
		t, err := layout.Clone()
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
		if _, err := t.New(name).Parse(src); err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
		r.protos[name] = t
		if name != tplPost {
			// one mask per set of fields: the posts' digests made with it
			// are shared by the pages of every template that reads them
			m := postReads(t, name)
			if m != nil {
				if same, ok := masks[string(m.sig)]; ok {
					m = same
				} else {
					masks[string(m.sig)] = m
					m.id = len(r.masks)
					r.masks = append(r.masks, m)
				}
			}
			r.reads[name] = m
		}
	}
	sum := sha256.Sum256(css)
	r.cssHash = hex.EncodeToString(sum[:4])
	r.digest, _ = newDataHasher().sum(sources, css, icon)
	return r, nil
}

func readOverrides(overrides fs.FS, sources map[string]string, css *[]byte) error {
	entries, err := fs.ReadDir(overrides, ".")
	if err != nil {
		return fmt.Errorf("read template overrides: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !(strings.HasSuffix(name, ".html") || name == "style.css") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return fmt.Errorf("read template override %s: %w", name, err)
		}
		if info.Size() > maxOverrideSize {
			return fmt.Errorf("read template override %s: larger than %d bytes", name, maxOverrideSize)
		}
		b, err := fs.ReadFile(overrides, name)
		if err != nil {
			return fmt.Errorf("read template override %s: %w", name, err)
		}
		if name == "style.css" {
			*css = b
			continue
		}
		sources[name] = string(b)
	}
	return nil
}

// Stylesheet returns the theme's CSS as written to StylesheetPath.
func (r *Renderer) Stylesheet() []byte { return bytes.Clone(r.css) }

// forLocale is the page templates with t and date speaking loc's language.
// html/template cannot clone a template once it has run, so each locale's
// set is cloned from the never-executed prototypes, once per Renderer.
func (r *Renderer) forLocale(loc *locale.Locale) (pageSet, error) {
	key := localeKey(loc)
	r.mu.Lock()
	defer r.mu.Unlock()
	if set, ok := r.sets[key]; ok {
		return set, nil
	}
	fm := localeFuncs(loc)
	set := make(pageSet, len(r.protos))
	for name, proto := range r.protos {
		t, err := proto.Clone()
		if err != nil {
			return nil, fmt.Errorf("prepare template %s: %w", name, err)
		}
		set[name] = t.Funcs(fm)
		foldWords(set[name], loc)
	}
	r.sets[key] = set
	return set, nil
}

func (s pageSet) execute(name string, data any, sizeHint int) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(sizeHint)
	if err := s[name].ExecuteTemplate(&buf, name, data); err != nil {
		return nil, fmt.Errorf("execute template %s: %w", name, err)
	}
	return buf.Bytes(), nil
}

var (
	cssComment = regexp.MustCompile(`(?s)/\*.*?\*/`)
	cssSpace   = regexp.MustCompile(`\s+`)
	cssPunct   = regexp.MustCompile(` ?([{};]) ?`)
)

// minifyCSS drops comments and the whitespace that no selector or value
// needs: runs become one space, and none is kept beside braces and
// semicolons. It never changes a selector's meaning.
func minifyCSS(css []byte) []byte {
	css = cssComment.ReplaceAll(css, nil)
	css = cssSpace.ReplaceAll(css, []byte(" "))
	css = cssPunct.ReplaceAll(css, []byte("$1"))
	css = bytes.ReplaceAll(css, []byte(";}"), []byte("}"))
	return append(bytes.TrimSpace(css), '\n')
}

// PreviousKeys are the input keys of a previous render's files by site
// path (Options.Previous): a KeyMap, or the caller's own record of them
// (the publisher's manifest answers from its entries, without a copy of
// 60,000 keys at 20,000 posts).
type PreviousKeys interface {
	// Key is the key of the file at sitePath; false when there was none.
	Key(sitePath string) (Key, bool)
	// Len is the number of files.
	Len() int
}

// KeyMap is keys by site path (Output.Keys); it is PreviousKeys.
type KeyMap map[string]Key

// Key is m[sitePath].
func (m KeyMap) Key(sitePath string) (Key, bool) {
	k, ok := m[sitePath]
	return k, ok
}

// Len is len(m).
func (m KeyMap) Len() int { return len(m) }
