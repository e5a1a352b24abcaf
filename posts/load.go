package posts

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"github.com/publishbot/publishbot/textpl"
	"io/fs"
	"net/url"
	"path"
	"regexp"
	"runtime"
	"runtime/trace"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/publishbot/publishbot/locale"
)

// Load reads a content repository from fsys. It never follows symlinks and
// never touches the OS: it uses only fs.ReadDir, fs.ReadFile and fs.Stat on
// fsys. The error is only for a tree that cannot be read at all (its root
// cannot be listed); every problem in the content is a Diagnostic in the
// returned Site.
//
// Config comes from opts.Config when set, else from the tree's publish.yaml
// (see LoadConfig); opts.BaseURL, when set, replaces its base_url. Without a
// publish.yaml and without a posts/ folder, posts are read from _posts/ (a
// Jekyll site) or else from the Markdown files at the root of the tree.
//
// Posts are parsed and rendered in parallel, at most GOMAXPROCS at a time.
// Load is safe for concurrent use; the result is deterministic for the same
// tree and options.
//
// Load checks ctx before listing each folder and before reading or
// rendering each post: once ctx ends, it returns ctx.Err() as soon as the
// posts in hand are done, and no goroutine it started outlives it.
func Load(ctx context.Context, fsys fs.FS, opts Options) (*Site, error) {
	if _, err := fs.ReadDir(fsys, "."); err != nil {
		return nil, fmt.Errorf("read content tree: %w", err)
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	var cfg Config
	var diags []Diagnostic
	configMissing := false
	if opts.Config != nil {
		cfg = *opts.Config
	} else {
		cfg, diags = LoadConfig(fsys, opts.Repo)
		for _, d := range diags {
			if d.Code == CodeConfigMissing {
				configMissing = true
			}
		}
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
		if loc, err := time.LoadLocation(cfg.Timezone); err == nil && cfg.Timezone != "" {
			cfg.Location = loc
		}
	}
	// A Config from opts may leave fields unset: the defaults are
	// DefaultConfig's, the one place each is written.
	def := DefaultConfig(opts.Repo)
	if cfg.PostsDir == "" {
		cfg.PostsDir = def.PostsDir
	}
	if cfg.PerPage < 1 {
		cfg.PerPage = def.PerPage
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = def.BaseURL
	}
	if cfg.Embeds == nil && !cfg.Has("embeds") {
		cfg.Embeds = def.Embeds
	}
	configBase := cfg.BasePath()
	configHost := ""
	if u, err := url.Parse(cfg.BaseURL); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		configHost = strings.ToLower(u.Host)
	}
	if opts.BaseURL != "" {
		if u, err := normalizeBaseURL(opts.BaseURL); err == nil {
			cfg.BaseURL = u
		} else {
			return nil, fmt.Errorf("base url override: %w", err)
		}
	}

	t := &tree{ctx: ctx, fsys: fsys, files: map[string]int64{}}
	region := trace.StartRegion(ctx, "posts.list")
	t.walk(".", 0)
	region.End()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	diags = append(diags, t.diags...)

	if configMissing && !t.hasDir(cfg.PostsDir) {
		switch {
		case t.hasDir("_posts"):
			cfg.PostsDir = "_posts"
		default:
			cfg.PostsDir = "."
		}
		for i := range diags {
			if diags[i].Code == CodeConfigMissing {
				diags[i].Message = fmt.Sprintf("no publish.yaml: using the default settings, with posts from %q", cfg.PostsDir)
			}
		}
	}

	postFiles, assets := t.classify(cfg.PostsDir)
	diags = append(diags, t.largePages(&cfg)...)
	pageFiles := t.findPages(&cfg)
	postFiles = withoutPages(postFiles, pageFiles)
	postFiles = append(postFiles, pageFiles...)
	for i, p := range t.large {
		if strings.HasPrefix(p, "static/") || (cfg.PostsDir == "." && !strings.Contains(p, "/") && isMarkdown(p)) ||
			(cfg.PostsDir != "." && strings.HasPrefix(p, cfg.PostsDir+"/")) {
			diags = append(diags, newDiag(p, 0, 0, CodeFileTooLarge,
				fmt.Sprintf("file is %.1f MiB; the limit is 10 MiB, so it is not read or published", float64(t.largeSize[i])/(1<<20))))
		}
	}
	if cfg.Permalink == "" {
		cfg.Permalink = DefaultPermalink
	}
	permalink, err := ParsePermalink(cfg.Permalink)
	if err != nil {
		return nil, err // LoadConfig refuses such a pattern; this is a Config from opts
	}
	md := newMarkdown(cfg.UnsafeHTML, cfg.Embeds)
	l := &loader{cfg: &cfg, now: now, md: md, tree: t, configBase: configBase, limits: opts.Limits.withDefaults(), locale: locale.For(cfg.Language, cfg.Strings),
		permalink: permalink, siteHost: configHost, cache: opts.Cache}
	l.tpl.tmplDir = opts.Templates
	if l.cache != nil {
		l.cacheKeyBase = l.cacheBase(l.cfg)
		l.cacheKeyBaseReal = l.cacheKeyBase
		if base := neutralBase(cfg.BasePath()); base != "" {
			l.rebase = base
			pc := placeholderConfig(cfg)
			l.cacheKeyBase = l.cacheBase(&pc)
		}
	}
	results := make([]*postResult, len(postFiles))
	region = trace.StartRegion(ctx, "posts.read")
	pre := l.readSources(postFiles)
	if err := parallel(ctx, len(postFiles), func(i int) { results[i] = l.read(postFiles[i], pre.of(i)) }); err != nil {
		return nil, err
	}
	region.End()

	// The cached renders are read while the index is built (on one
	// core: claims are made in order), under the key each will have if
	// the index leaves it as it is; render checks that it did.
	region = trace.StartRegion(ctx, "posts.index")
	prefetch := l.prefetchRenders(ctx, results)
	idx := l.index(results, assets)
	prefetch()
	region.End()
	region = trace.StartRegion(ctx, "posts.render")
	err = parallel(ctx, len(results), func(i int) {
		if results[i].renders() {
			l.render(results[i], idx)
		}
	})
	if err != nil {
		return nil, err
	}
	linked := l.afterRender(results, idx)
	region.End()
	defer trace.StartRegion(ctx, "posts.finish").End()

	site := &Site{Config: cfg, outputs: idx.out}
	// sized first: a migrated blog of 20,000 posts has 17,000 diagnostics,
	// and growing the slice a doubling at a time copies them all again
	n, posts := len(diags)+len(l.fileDiags), 0
	for _, r := range results {
		n += len(r.diags)
		if r.kind == kindPost {
			posts++
		}
	}
	if n > cap(diags) {
		diags = append(make([]Diagnostic, 0, n), diags...)
	}
	if posts > 0 {
		site.Posts = make([]*Post, 0, posts)
	}
	diags = append(diags, l.fileDiags...)
	left := map[string]bool{} // bundles left out
	for _, r := range results {
		diags = append(diags, capPerCode(r.diags, maxPerCode)...)
		ok := r.post != nil && !HasErrors(r.diags) && !r.expired
		switch {
		case r.kind == kindPage:
			// sitePages
		case ok && r.kind == kindPost:
			site.Posts = append(site.Posts, r.post)
		case ok && r.kind == kindSection && r.post.Section == "":
			site.Intro = r.post.HTML()
		case ok && r.kind == kindSection:
			p := r.post
			site.Sections = append(site.Sections, &Section{Path: r.file.path, Dir: p.Section, Title: p.Title,
				Summary: p.Summary, HTML: p.HTML(), Address: p.Address, Aliases: p.Aliases, Math: p.Math, Diagrams: p.Diagrams})
		case ok && r.kind == kindRedirect && r.target != "":
			site.Redirects = append(site.Redirects, &Redirect{Path: r.file.path, Title: r.post.Title, Address: r.post.Address, Target: r.target, Aliases: r.post.Aliases})
		case r.file.bundle != "":
			left[r.file.bundle] = true
		}
	}
	for _, a := range assets {
		if a.Target != "" && !left[bundleDirOf(a.Source, idx.byBundle)] {
			site.Assets = append(site.Assets, a)
		}
	}
	site.Assets = append(site.Assets, linked...)
	if len(cfg.Popular) > 0 {
		diags = append(diags, checkPopular(cfg.Popular, idx, fsys)...)
	}
	sortPosts(site.Posts)
	slices.SortFunc(site.Assets, func(a, b Asset) int { return cmp.Compare(a.Target, b.Target) })
	slices.SortFunc(site.Sections, func(a, b *Section) int { return cmp.Compare(a.Dir, b.Dir) })
	site.Pages = sitePages(results)
	menu, menuDiags := l.siteMenu(results, site)
	site.Menu = menu
	diags = append(diags, menuDiags...)
	SortDiagnostics(diags)
	site.Diagnostics = diags
	return site, nil
}

// sortPosts sorts posts newest first: by date and time descending, then
// title and slug ascending. The dates are read once, as two integers, not
// compared as times at every step (20,000 posts sort on every build).
func sortPosts(posts []*Post) {
	type keyed struct {
		sec  int64
		nsec int
		p    *Post
	}
	ks := make([]keyed, len(posts))
	for i, p := range posts {
		ks[i] = keyed{p.Date.Unix(), p.Date.Nanosecond(), p}
	}
	slices.SortFunc(ks, func(a, b keyed) int {
		return cmp.Or(cmp.Compare(b.sec, a.sec), cmp.Compare(b.nsec, a.nsec), cmp.Compare(a.p.Title, b.p.Title), cmp.Compare(a.p.Slug, b.p.Slug))
	})
	for i, k := range ks {
		posts[i] = k.p
	}
}

// parallel runs f(0..n-1) on at most GOMAXPROCS goroutines and returns
// when all have stopped. Once ctx ends no further f starts, and parallel
// returns ctx.Err().
func parallel(ctx context.Context, n int, f func(i int)) error {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			f(i)
		}
		return ctx.Err()
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(i)
			}
		}()
	}
	wg.Wait()
	return ctx.Err()
}

// tree is the listing of the content tree: every regular file with its size.
type tree struct {
	ctx   context.Context // walk stops listing folders once it ends
	fsys  fs.FS
	files map[string]int64 // regular files
	// ids name the content of the regular files whose entries named it
	// (entryContentID): a git tree's blob ids, found without a look-up
	ids   map[string]string
	dirs  map[string]bool
	order []string // files in walk order (sorted)
	diags []Diagnostic
	// Files over MaxFileSize: never read, and not in files.
	large     []string
	largeSize []int64
}

func (t *tree) hasDir(p string) bool { return p == "." || t.dirs[p] }

func (t *tree) has(file string) bool { _, ok := t.files[file]; return ok }

// walk lists dir recursively. Entries are never followed when they are
// symlinks; bad names are reported and skipped with their subtree.
func (t *tree) walk(dir string, depth int) {
	l := t.list(dir, depth)
	if len(t.files) == 0 && len(t.dirs) == 0 {
		// sized once for what the listing holds: grown one doubling at a
		// time, the maps of a blog of 20,000 posts cost 50 ms of rehashing
		files, dirs := l.count()
		t.files, t.dirs = make(map[string]int64, files), make(map[string]bool, dirs)
		t.order = make([]string, 0, files)
		if len(l.entries) > 0 {
			if _, ok := l.entries[0].(entryContentID); ok {
				t.ids = make(map[string]string, files)
			}
		}
	}
	t.walkListed(dir, depth, l)
}

// count counts the regular files and the folders walk enters under l.
func (l *listing) count() (files, dirs int) {
	for i, sub := range l.subs {
		switch {
		case sub != nil:
			f, d := sub.count()
			files, dirs = files+f, dirs+d+1
		case l.infos[i] != nil:
			files++
		}
	}
	return files, dirs
}

// listing is a folder's entries, the sizes of its files and the listings
// of the folders walk enters, read ahead of walk on every core (a git
// tree's folders are objects to read, and its files' sizes are in their
// blobs' headers): walk reads them in order as if it had read the folders
// itself.
type listing struct {
	entries []fs.DirEntry
	err     error
	infos   []fs.FileInfo // by entry: a regular file's, else nil
	infoErr []error
	subs    []*listing // by entry: a folder walk enters, else nil
}

// enters says whether walk goes into the folder entry e of a folder at
// depth.
func enters(e fs.DirEntry, depth int) bool {
	name := e.Name()
	return e.IsDir() && e.Type()&fs.ModeSymlink == 0 && depth <= 64 && badName(name) == "" &&
		!(depth == 0 && strings.HasPrefix(name, "."))
}

// list reads dir and what walk will read under it, its subfolders on
// other goroutines while there are cores free.
func (t *tree) list(dir string, depth int) *listing {
	slots := make(chan struct{}, runtime.GOMAXPROCS(0)-1)
	var wg sync.WaitGroup
	defer wg.Wait()
	return t.listInto(dir, depth, slots, &wg)
}

func (t *tree) listInto(dir string, depth int, slots chan struct{}, wg *sync.WaitGroup) *listing {
	l := &listing{}
	if t.ctx.Err() != nil {
		return l // walk stops first
	}
	l.entries, l.err = fs.ReadDir(t.fsys, dir)
	if l.err != nil {
		return l
	}
	l.infos = make([]fs.FileInfo, len(l.entries))
	l.infoErr = make([]error, len(l.entries))
	l.subs = make([]*listing, len(l.entries))
	for i, e := range l.entries {
		switch {
		case enters(e, depth):
			p := e.Name()
			if dir != "." {
				p = dir + "/" + p
			}
			select {
			case slots <- struct{}{}:
				wg.Go(func() {
					defer func() { <-slots }()
					l.subs[i] = t.listInto(p, depth+1, slots, wg)
				})
			default:
				l.subs[i] = t.listInto(p, depth+1, slots, wg)
			}
		case e.Type().IsRegular() && badName(e.Name()) == "":
			l.infos[i], l.infoErr[i] = e.Info()
		}
	}
	return l
}

// walkListed is walk of dir from its listing.
func (t *tree) walkListed(dir string, depth int, l *listing) {
	if l == nil { // not read ahead (enters and this walk disagree)
		l = t.list(dir, depth)
	}
	if t.dirs == nil {
		t.dirs = map[string]bool{}
	}
	if t.ctx.Err() != nil {
		return // Load reports it
	}
	if l.err != nil {
		t.diags = append(t.diags, newDiag(dir, 0, 0, CodeUnreadable, fmt.Sprintf("cannot list folder: %v", l.err)))
		return
	}
	for i, e := range l.entries {
		name := e.Name()
		p := name
		if dir != "." {
			p = dir + "/" + name
		}
		if depth == 0 && strings.HasPrefix(name, ".") && e.IsDir() {
			continue // .git, .github: not content
		}
		if msg := badName(name); msg != "" {
			t.diags = append(t.diags, newDiag(strings.ToValidUTF8(p, "\uFFFD"), 0, 0, CodeInvalidPath, msg+"; rename it"))
			continue
		}
		typ := e.Type()
		switch {
		case typ&fs.ModeSymlink != 0:
			t.diags = append(t.diags, newDiag(p, 0, 0, CodeSymlink, "symbolic links are never followed: commit the file itself instead of a link"))
		case e.IsDir():
			if depth > 64 {
				t.diags = append(t.diags, newDiag(p, 0, 0, CodeInvalidPath, "folders are nested too deeply"))
				continue
			}
			t.dirs[p] = true
			t.walkListed(p, depth+1, l.subs[i])
		case typ.IsRegular():
			info, err := l.infos[i], l.infoErr[i]
			if err != nil {
				t.diags = append(t.diags, newDiag(p, 0, 0, CodeUnreadable, fmt.Sprintf("cannot read: %v", err)))
				continue
			}
			if info.Size() > MaxFileSize {
				// Reported by classify if it is part of the site.
				t.large = append(t.large, p)
				t.largeSize = append(t.largeSize, info.Size())
				continue
			}
			t.files[p] = info.Size()
			t.order = append(t.order, p)
			if ce, ok := e.(entryContentID); ok {
				if id, ok := ce.ContentID(); ok {
					if t.ids == nil {
						t.ids = map[string]string{}
					}
					t.ids[p] = id
				}
			}
		default:
			t.diags = append(t.diags, newDiag(p, 0, 0, CodeSpecialFile, "not a regular file (a device, pipe or socket); it is not read"))
		}
	}
}

// badName explains why a path element is not allowed, or returns "".
func badName(name string) string {
	switch {
	case name == "..", name == ".":
		return `the path has a ".." element`
	case strings.ContainsRune(name, '\\'):
		return "the path has a backslash"
	case !utf8.ValidString(name):
		return "the path is not valid UTF-8"
	case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }):
		return "the path has a control character"
	}
	return ""
}

// postFile is a post's source.
type postFile struct {
	path    string
	bundle  string // bundle folder, "" for a single file
	section bool   // an _index.md: it describes its folder, it is no post

	page     bool   // a page, not a post (pages.go)
	pageBase string // a page's address is its path relative to this folder
}

// isSectionFile reports Hugo's and Zola's _index.md, which describes its
// folder's section.
func isSectionFile(p string) bool {
	base := path.Base(p)
	return base == "_index.md" || base == "_index.markdown"
}

var ignoredRootNames = map[string]bool{"readme": true, "changelog": true, "license": true, "contributing": true,
	"code_of_conduct": true, "security": true}

func isMarkdown(p string) bool {
	ext := strings.ToLower(path.Ext(p))
	return ext == ".md" || ext == ".markdown"
}

// classify splits the tree's files into posts and assets.
func (t *tree) classify(postsDir string) ([]postFile, []Asset) {
	var posts []postFile
	var assets []Asset
	prefix := postsDir + "/"
	// Bundles: folders under postsDir that hold index.md or index.markdown.
	bundles := map[string]string{} // folder -> index file
	if postsDir != "." {
		for _, p := range t.order {
			if !strings.HasPrefix(p, prefix) {
				continue
			}
			dir, base := path.Split(p)
			dir = strings.TrimSuffix(dir, "/")
			if (base == "index.md" || base == "index.markdown") && dir != postsDir {
				if _, ok := bundles[dir]; !ok {
					bundles[dir] = p
				}
			}
		}
	}
	bundleOf := func(p string) string {
		for d := path.Dir(p); d != postsDir && d != "." && d != "/"; d = path.Dir(d) {
			if _, ok := bundles[d]; ok {
				return d
			}
		}
		return ""
	}
	for _, p := range t.order {
		switch {
		case strings.HasPrefix(p, "static/"):
			assets = append(assets, Asset{Source: p, Target: strings.TrimPrefix(p, "static/"), Size: t.files[p]})
		case postsDir == ".":
			if !strings.Contains(p, "/") && isMarkdown(p) &&
				!ignoredRootNames[strings.ToLower(strings.TrimSuffix(p, path.Ext(p)))] {
				posts = append(posts, postFile{path: p, section: isSectionFile(p)})
			}
		case strings.HasPrefix(p, prefix):
			if isSectionFile(p) {
				posts = append(posts, postFile{path: p, section: true})
				continue
			}
			if b := bundleOf(p); b != "" {
				if bundles[b] == p {
					posts = append(posts, postFile{path: p, bundle: b})
				} else if !strings.HasPrefix(path.Base(p), ".") {
					// Target is filled in once the bundle's slug is known.
					assets = append(assets, Asset{Source: p, Size: t.files[p]})
				}
				continue
			}
			if isMarkdown(p) && !strings.HasPrefix(path.Base(p), ".") {
				posts = append(posts, postFile{path: p})
			}
		}
	}
	return posts, assets
}

// resultKind is what a file of posts_dir turned out to be.
type resultKind uint8

const (
	kindPost     resultKind = iota
	kindSection             // an _index.md
	kindRedirect            // front matter that only redirects
	kindPage                // a page (pages.go), not in posts_dir's lists
)

// postResult is one post file through both phases.
type postResult struct {
	file    postFile
	kind    resultKind
	post    *Post // nil when the file could not be read at all; a section's and a redirect's fields too
	meta    postMeta
	src     []byte
	body    []byte // Markdown body; nil when not rendered, or not read yet (lazy)
	bodyOff int
	lines   []int // byte offset of each line start in src
	// sum names the source's content (contentSum), for the caches; lazy
	// says src, body and lines are not read yet: its front matter came
	// from the cache, and loadSource reads it if it is rendered.
	// syntax says the body has other generators' template syntax
	// (templated), known before it is read.
	sum      string
	lazy     bool
	syntax   bool
	diags    []Diagnostic
	hasError bool // an error from phase 1, or expired: the post is left out
	linkable bool // set between the phases: other posts may link here

	// srcMap takes offsets of an expanded body back to the source's
	// (textpl.go); templated says the body's template syntax was looked
	// at; fields are the front matter, for {{ page.* }}.
	srcMap    *textpl.Map
	templated bool
	fields    []fmField

	claimed bool   // its address is its own: no other post, page or file is there
	target  string // a redirect's target URL
	// aliases are the post's aliases worked out ahead (rootAliases), by
	// Post.Aliases; nil: the index works them out
	aliases []aliasTarget

	cached *prefetched // its cached render, read before the index was built (prefetchRenders)

	linked []linkedFile // phase 2: the repository files its links publish
	checks []linkCheck  // phase 2: site paths its links go to, checked once every output is known

	last struct{ line, off, col int } // pos's last answer (col 0: none)

	page    *Page  // a page's own fields; nil for a post
	pageAt  [2]int // line and column of a page's permalink or url
	expired bool   // the post's expiryDate has passed (schedule.go)

	factsOnce sync.Once // facts (cache.go)
	facts     string
}

// renders says phase 2 renders r: it has a body, read or not yet.
func (r *postResult) renders() bool { return r.body != nil || r.lazy }

// noRender keeps phase 2 from rendering r.
func (r *postResult) noRender() { r.body, r.lazy = nil, false }

func (r *postResult) add(line, col int, code, msg string) {
	d := newDiag(r.file.path, line, col, code, msg)
	if d.Severity == SeverityError {
		r.hasError = true
	}
	r.diags = append(r.diags, d)
}

// pos is the 1-based line and column (in runes) of byte offset off of src.
func (r *postResult) pos(off int) (int, int) {
	if r.srcMap != nil && off >= r.bodyOff {
		off = r.bodyOff + r.srcMap.Source(off-r.bodyOff)
	}
	i, found := slices.BinarySearch(r.lines, off)
	if !found {
		i--
	}
	if i < 0 {
		return 1, 1
	}
	start := r.lines[i]
	if off > len(r.src) {
		off = len(r.src)
	}
	if start == 0 && bytes.HasPrefix(r.src, bom) && off >= len(bom) {
		start = len(bom) // a byte order mark is not a column an editor shows
	}
	// Count on from the last answer when it is on this line, before off:
	// a line of 60,000 links is then read once, not once per link.
	from, col := start, 1
	if r.last.col > 0 && r.last.line == i && r.last.off >= start && r.last.off <= off {
		from, col = r.last.off, r.last.col
	}
	col += utf8.RuneCount(r.src[from:off])
	r.last.line, r.last.off, r.last.col = i, off, col
	return i + 1, col
}

type loader struct {
	cfg        *Config
	now        time.Time
	md         *markdown
	tree       *tree
	configBase string // base path of the configured base_url, before any override
	siteHost   string // host of the configured base_url: links to it are links into the site
	limits     Limits // with defaults filled in
	permalink  Permalink
	locale     *locale.Locale // the language's reading speed and words (the TOC's title)

	fileDiags []Diagnostic // problems of static and bundle files, found by index
	tpl       templating   // other generators' template syntax (textpl.go)

	cache        RenderCache // nil: every post is rendered
	cacheKeyBase [32]byte    // the build's part of every cache key (cache.go); of a neutral render's (neutral.go)
	// cacheKeyBaseReal is the build's part of the key of a render that is
	// not neutral, rebase the base path neutral renders are given back
	// ("": none is neutral)
	cacheKeyBaseReal [32]byte
	rebase           string
	cfgWord          struct { // configHasPlaceholder
		once sync.Once
		has  bool
	}
	tplRead struct { // the answer to readTemplating in this build (templatingAnswer)
		once   sync.Once
		answer string
	}
}

// read is phase 1: read the file, split and parse front matter, fill the
// post's fields and give it its address. A panic becomes an
// internal-error diagnostic.
func (l *loader) read(pf postFile, pre preSource) (res *postResult) {
	res = &postResult{file: pf}
	if pf.page {
		res.kind = kindPage
	}
	defer func() {
		if v := recover(); v != nil {
			res.post = nil
			res.noRender()
			res.add(0, 0, CodeInternal, fmt.Sprintf("publishbot failed on this file (please report it): %v", v))
		}
	}()
	ps, ok := l.parseSource(res, pre)
	if !ok {
		return res
	}
	p, fields := res.post, ps.fields
	if pf.page {
		hint := ""
		if ps.format == 0 {
			hint = ps.hint
		}
		l.readPage(res, fields, hint)
		return res
	}
	// Date and slug candidates from the file (or bundle folder) name.
	name := path.Base(pf.path)
	name = strings.TrimSuffix(name, path.Ext(name))
	if pf.bundle != "" {
		name = path.Base(pf.bundle)
	}
	fileDate, rest := nameParts(name, l.cfg.Location)
	dir := path.Dir(pf.path)
	if pf.bundle != "" {
		dir = path.Dir(pf.bundle)
	}
	p.Section = l.sectionOf(dir)
	if ps.templated {
		// only {{ page.* }} reads them once the fields are applied: a blog's
		// other posts do not keep their parsed front matter (at 20,000 posts,
		// a tenth of the build's heap)
		res.fields = fields
	}
	if pf.section {
		res.kind = kindSection
		for _, d := range applySectionFields(p, &res.meta, fields, l.limits) {
			res.add(d.Line, d.Column, d.Code, d.Message)
		}
		if p.Title == "" {
			p.Title = path.Base(dir)
		}
		return res
	}
	fmLine := 1
	hint := ""
	if ps.format == 0 {
		hint = ps.hint
	}
	ds := applyFields(p, &res.meta, fields, fileDate, l.cfg, fmLine, l.limits)
	if tmpl := templateField(fields); tmpl != nil && p.Title == "" && res.meta.redirect == nil {
		// A Zola page made by a template of its own (template = "latest.html")
		// and no title: publishbot does not run the generator's templates, so
		// the file is left out with one warning, not errors for what it lacks.
		res.add(tmpl.line, tmpl.col, CodeNotCarried, fmt.Sprintf("this file is made by the generator's own template %q, which publishbot does not run; it is left out of the site", strings.TrimSpace(tmpl.value.s)))
		res.post = nil
		res.noRender()
		return res
	}
	if res.meta.redirect != nil {
		// A file that only redirects needs no title or date of its own.
		res.kind = kindRedirect
		ds = slices.DeleteFunc(ds, func(d Diagnostic) bool { return d.Code == CodeMissingTitle || d.Code == CodeMissingDate })
	}
	for _, d := range ds {
		if hint != "" && (d.Code == CodeMissingTitle || d.Code == CodeMissingDate) {
			d.Message += " (" + hint + ")"
		}
		res.add(d.Line, d.Column, d.Code, d.Message)
	}
	res.meta.nameSlug = rest
	res.meta.fileName = name
	if p.Slug == "" && res.meta.slugLine == 0 {
		p.Slug = slugify(rest)
		if p.Slug == "" {
			p.Slug = slugify(p.Title)
		}
		if p.Slug == "" {
			res.add(1, 1, CodeInvalidSlug, "no URL for this post: neither the file name nor the title has letters or digits; add \"slug: my-post\"")
		}
	}
	l.checkSchedule(res)
	if !res.hasError {
		l.address(res)
		res.aliases = rootAliases(p.Aliases, l.cfg)
	}
	return res
}

// aliasTarget is an alias as the index claims it: its site address and
// files, or why it is none.
type aliasTarget struct {
	addr, why string
	files     []string
}

// rootAliases works out what the index would of aliases relative to the
// site's root: on every core, ahead of the index, which claims them in
// order on one (most of a migrated blog's posts have aliases). nil when
// they are relative to something only the index knows (Hugo's sections).
func rootAliases(aliases []string, cfg *Config) []aliasTarget {
	if len(aliases) == 0 || cfg.Generator == "hugo" {
		return nil
	}
	out := make([]aliasTarget, len(aliases))
	for i, a := range aliases {
		out[i] = aliasTargetOf(a, "/")
	}
	return out
}

// aliasTargetOf is the alias a, relative to relBase when not absolute, as
// the index claims it (aliasAddress, AliasFiles).
func aliasTargetOf(a, relBase string) aliasTarget {
	t := aliasTarget{}
	if t.addr, t.why = aliasAddress(a, relBase); t.why == "" {
		t.files = AliasFiles(t.addr)
	}
	return t
}

// sectionOf is the section of a post in the repository folder dir: the
// folders between posts_dir and it ("" at the top).
func (l *loader) sectionOf(dir string) string {
	if l.cfg.PostsDir == "." {
		if dir == "." {
			return ""
		}
		return dir
	}
	return strings.TrimPrefix(strings.TrimPrefix(dir, l.cfg.PostsDir), "/")
}

// lineStarts is the offset of the start of each line.
func lineStarts(src []byte) []int {
	lines := make([]int, 1, bytes.Count(src, []byte("\n"))+1)
	for i, c := range src {
		if c == '\n' {
			lines = append(lines, i+1)
		}
	}
	return lines
}

// invalidUTF8At finds the first invalid UTF-8 byte (or NUL) of src.
func invalidUTF8At(src []byte) (line, col int, bad bool) {
	if utf8.Valid(src) && bytes.IndexByte(src, 0) < 0 {
		return 0, 0, false
	}
	line, col = 1, 1
	for i := 0; i < len(src); {
		r, size := utf8.DecodeRune(src[i:])
		if (r == utf8.RuneError && size == 1) || r == 0 {
			return line, col, true
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		i += size
	}
	return line, col, true
}

// siteIndex is what rendering needs to know about every post and file:
// built once between the phases and only read afterwards (but for out,
// which the step after rendering completes).
type siteIndex struct {
	bySource  map[string]*postResult // source file -> post, section or redirect
	byBundle  map[string]*postResult // bundle folder -> post
	bySlug    map[string]*postResult // the first post of each slug, in path order
	bySection map[string]*postResult // section folder (relative to posts_dir) -> its _index.md
	assetOf   map[string]string      // source file -> site target, for every published file
	out       *outputs               // every file the build writes
	prefix    string                 // the folder of the permalink's text that all posts' addresses share: "posts/", "news/", ""
}

// index gives every section its address (posts and redirects have theirs
// from read), finds what two of them (or their aliases, or files) would
// write at one path, gives bundle files their targets, and builds the
// lookup tables for links.
func (l *loader) index(results []*postResult, assets []Asset) *siteIndex {
	idx := &siteIndex{bySource: map[string]*postResult{}, byBundle: map[string]*postResult{},
		bySlug: map[string]*postResult{}, bySection: map[string]*postResult{}, assetOf: map[string]string{},
		out: newOutputs(len(results)*2 + len(assets) + 64)}
	for _, r := range results {
		if r.post == nil {
			continue
		}
		idx.bySource[r.file.path] = r
		if r.file.bundle != "" {
			idx.byBundle[r.file.bundle] = r
		}
		if r.kind == kindSection && !r.hasError {
			idx.bySection[r.post.Section] = r
		}
	}
	staticRobots := false
	for _, a := range assets {
		staticRobots = staticRobots || a.Source == "static/robots.txt"
	}
	l.yieldSearch(results, assets)
	l.claimTheme(idx.out, results, staticRobots)

	// Posts, in path order: the first of two at one address keeps it. The
	// folder they share is the pattern's (posts/ of /posts/:slug/), or
	// less when some post's own address lies outside it (Zola's paths).
	idx.prefix = l.permalink.literalDir()
	for _, r := range results {
		if r.kind != kindPost || r.post == nil || r.hasError {
			continue
		}
		p := r.post
		if !l.claimAddress(idx.out, r, &owner{kind: byPost, source: r.file.path}, OutputPath(p.Address)) {
			continue
		}
		if _, ok := idx.bySlug[p.Slug]; !ok {
			idx.bySlug[p.Slug] = r
		}
		idx.prefix = commonDir(idx.prefix, addressDir(p.Address))
	}

	// Sections: the address their posts' :section gives, else their folder
	// under the posts' common folder.
	count := map[string]int{} // section folder -> posts in it and below
	for _, r := range results {
		if r.kind == kindPost && r.claimed {
			for s := r.post.Section; s != ""; s = parentSection(s) {
				count[s]++
			}
		}
	}
	for _, r := range results {
		if r.kind != kindSection || r.post == nil || r.hasError || r.post.Section == "" {
			continue
		}
		p := r.post
		if own := r.meta.own; own != nil {
			a, why := ownAddress(own, AddressFields{Sections: strings.Split(p.Section, "/")})
			if why == "" {
				why = CheckAddress(a)
			}
			if why != "" {
				r.add(own.line, own.col, CodeInvalidAddress, fmt.Sprintf("%s %q %s", own.key, own.s, why))
				continue
			}
			p.Address = AssetDir(siteAddress(a))
		} else {
			p.Address = l.sectionAddress(p.Section, idx.prefix)
		}
		files := []string{OutputPath(p.Address)}
		for n := 2; n <= pages(count[p.Section], l.cfg.PerPage); n++ {
			files = append(files, p.Address+"page/"+strconv.Itoa(n)+"/index.html")
		}
		if dir := strings.TrimSuffix(p.Address, "/"); dir != "" && count[p.Section] > 0 {
			// its Atom feed, and a copy at each name of feeds (templates' sectionFeeds)
			files = append(files, dir+"/feed.xml")
			for _, f := range l.cfg.Feeds {
				if c := dir + "/" + path.Base(f); !slices.Contains(files, c) {
					files = append(files, c)
				}
			}
		}
		l.claimAddress(idx.out, r, &owner{kind: bySection, source: r.file.path}, files...)
	}
	for _, r := range results {
		if r.kind == kindRedirect && r.post != nil && !r.hasError {
			l.claimAddress(idx.out, r, &owner{kind: byRedirect, source: r.file.path}, OutputPath(r.post.Address))
		}
	}
	// Pages, in path order, after the files of posts_dir: the first page
	// at an address keeps it; aliases and files come after them.
	for _, r := range results {
		if r.kind == kindPage && r.page != nil && !r.hasError {
			l.claimAddress(idx.out, r, &owner{kind: byPage, source: r.file.path}, OutputPath(r.post.Address))
		}
	}

	// Aliases, in path order: the first post to claim one keeps it.
	for _, r := range results {
		if r.post == nil || !r.claimed {
			continue
		}
		l.claimAliases(idx, r)
	}
	for _, r := range results {
		r.linkable = r.post != nil && r.claimed && !r.hasError
	}

	// Files: static/ first, then the bundles' (given their targets here).
	for i := range assets {
		a := &assets[i]
		if a.Target == "" {
			// Only the files of a bundle that is published get a target: not
			// those of a post with errors, nor of the loser of a duplicate address.
			b := idx.byBundle[bundleDirOf(a.Source, idx.byBundle)]
			if b == nil || !b.linkable {
				continue
			}
			a.Target = AssetDir(b.post.Address) + strings.TrimPrefix(a.Source, b.file.bundle+"/")
			a.Posts = []string{b.file.path}
		}
		if why := CheckAddress("/" + a.Target); why != "" {
			a.Target = ""
			l.fileDiags = append(l.fileDiags, newDiag(a.Source, 0, 0, CodeOutputConflict,
				fmt.Sprintf("this file is not published: its path in the site %s", why)))
			continue
		}
		if c, why := idx.out.claim(&owner{kind: byFile, source: a.Source}, a.Target); c != nil {
			a.Target = ""
			l.fileDiags = append(l.fileDiags, newDiag(a.Source, 0, 0, CodeOutputConflict,
				fmt.Sprintf("this file is not published: %s", why)))
			continue
		}
		idx.assetOf[a.Source] = a.Target
	}
	return idx
}

// parentSection is the section above s ("a/b" → "a", "a" → "").
func parentSection(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[:i]
	}
	return ""
}

// pages is the number of listing pages of n posts, per on a page.
func pages(n, per int) int {
	if per < 1 {
		per = DefaultPerPage
	}
	return max(1, (n+per-1)/per)
}

// address gives a post or redirect its address: its own (permalink, url,
// path) or the site's pattern; an address that cannot be written is an
// error of the post.
func (l *loader) address(r *postResult) {
	p, m := r.post, &r.meta
	sections := []string(nil)
	if p.Section != "" {
		sections = strings.Split(p.Section, "/")
	}
	title := m.slugRaw
	if title == "" {
		title = m.nameSlug
	}
	f := AddressFields{Date: p.Date, Slug: p.Slug, Title: title, Categories: m.categories, Sections: sections, Filename: m.fileName}
	line, col := 1, 1
	if m.slugLine > 0 {
		line, col = m.slugLine, m.slugCol
	}
	if r.kind == kindRedirect {
		if r.target = l.redirectTarget(r); r.target == "" {
			return
		}
	}
	var addr string
	what := func() string { return fmt.Sprintf("the address %s (from the permalink %s)", addr, l.permalink) }
	if own := m.own; own != nil {
		line, col = own.line, own.col
		what = func() string { return fmt.Sprintf("%s %q", own.key, own.s) }
		a, why := ownAddress(own, f)
		if why != "" {
			r.add(line, col, CodeInvalidAddress, fmt.Sprintf("%s %s", what(), why))
			return
		}
		addr = a
	} else {
		if r.kind == kindRedirect && p.Date.IsZero() && l.permalink.needsDate() {
			r.add(m.redirect.line, m.redirect.col, CodeMissingDate, fmt.Sprintf("this redirect has no address: the permalink %s needs a date; add \"date: 2006-01-02\" or \"permalink: /old/address/\"", l.permalink))
			return
		}
		if p.Slug == "" {
			return // invalid-slug was reported
		}
		addr = l.permalink.Expand(f)
	}
	if why := CheckAddress(addr); why != "" {
		r.add(line, col, CodeInvalidAddress, fmt.Sprintf("%s cannot be used: it %s", what(), why))
		return
	}
	p.Address = siteAddress(addr)
	p.FeedID = p.Address
	if l.cfg.Generator == "jekyll" {
		// jekyll-feed's entry id: post.id, the address's folder and the
		// slug, without a trailing slash or .html.
		p.FeedID = addressDir(p.Address) + title
	}
}

// claimAddress claims files for r's address; when the theme, another
// post, page or file is in the way, or GitHub Pages would serve another
// file at the address, it reports it on r and returns false.
func (l *loader) claimAddress(out *outputs, r *postResult, o *owner, files ...string) bool {
	c, why := out.shadowed(r.post.Address)
	if c == nil {
		c, why = out.claim(o, files...)
	}
	if c == nil {
		r.claimed = true
		return true
	}
	line, col := 1, 1
	switch {
	case r.kind == kindPage:
		line, col = r.pageAt[0], r.pageAt[1] // 0, 0 (the file) for the file's own address
	case r.meta.own != nil:
		line, col = r.meta.own.line, r.meta.own.col
	case r.meta.slugLine > 0:
		line, col = r.meta.slugLine, r.meta.slugCol
	}
	content := c.kind == byPost || c.kind == bySection || c.kind == byRedirect || c.kind == byPage
	switch {
	case r.kind == kindPage && c.kind == byTheme:
		r.add(line, col, CodeReservedURL, fmt.Sprintf("this page would be published at /%s, which is %s; give it another address with \"permalink: /other/\", or remove it",
			r.post.Address, c.what()))
	case r.kind == kindPage && content:
		r.add(line, col, CodeDuplicateURL, fmt.Sprintf("this page and %s would both be published at /%s; give one another address with \"permalink:\"",
			c.what(), r.post.Address))
	case content:
		hint := "give one its own address (a different slug, permalink, url or path)"
		if r.meta.own == nil && r.kind == kindPost {
			hint += fmt.Sprintf(", or tell them apart in publish.yaml's permalink (it is %s), as with /posts/:year/:slug/ or /posts/:sections/:slug/", l.permalink)
		}
		r.add(line, col, CodeDuplicateURL, fmt.Sprintf("%s and %s would both be published at /%s; %s",
			strings.TrimPrefix(c.what(), "the "), r.file.path, r.post.Address, hint))
	default:
		r.add(line, col, CodeInvalidAddress, fmt.Sprintf("the address /%s cannot be used: %s", r.post.Address, why))
	}
	return false
}

// claimTheme claims the files the theme writes: its fixed files, the
// pages of every tag and of the index, and the copies of the feed.
func (l *loader) claimTheme(out *outputs, results []*postResult, staticRobots bool) {
	for f, what := range themeFiles {
		if f == "robots.txt" && staticRobots {
			continue
		}
		if f == "CNAME" && l.cfg.CNAME == "" {
			continue
		}
		out.claim(&owner{kind: byTheme, label: what}, f)
	}
	for dir, what := range themeDirs {
		out.reserve(&owner{kind: byTheme, label: what}, dir)
	}
	posts := 0
	tags := map[string]int{}
	for _, r := range results {
		if r.kind != kindPost || r.post == nil || r.hasError {
			continue
		}
		posts++
		for _, t := range r.post.Tags {
			tags[TagSlug(t)]++
		}
	}
	for n := 2; n <= pages(posts, l.cfg.PerPage); n++ {
		out.claim(&owner{kind: byTheme, label: "a page of the index"}, "page/"+strconv.Itoa(n)+"/index.html")
	}
	for slug, n := range tags {
		o := &owner{kind: byTheme, label: "the page of the tag " + slug}
		out.claim(o, "tags/"+slug+"/index.html", "tags/"+slug+"/feed.xml")
		for i := 2; i <= pages(n, l.cfg.PerPage); i++ {
			out.claim(o, "tags/"+slug+"/page/"+strconv.Itoa(i)+"/index.html")
		}
	}
	for _, f := range l.cfg.Feeds {
		out.claim(&owner{kind: byTheme, label: "a copy of the Atom feed (feeds in publish.yaml)"}, f)
	}
	if l.cfg.Search {
		claimSearch(out)
	}
}

// sectionAddress is the address of the section in folder dir (relative to
// posts_dir): the one its posts' :section or :sections gives, else dir
// under prefix, the folder all posts share.
func (l *loader) sectionAddress(dir, prefix string) string {
	if a, ok := l.permalink.sectionAddress(strings.Split(dir, "/")); ok {
		return a
	}
	return prefix + dir + "/"
}

// claimAliases checks r's aliases and claims their files; an alias that
// cannot be written is an error of r.
func (l *loader) claimAliases(idx *siteIndex, r *postResult) {
	p := r.post
	relBase := "/"
	if l.cfg.Generator == "hugo" {
		// Hugo: a relative alias is relative to the page's section.
		sec := p.Section
		if r.kind == kindSection {
			sec = parentSection(sec)
		}
		if sec != "" {
			relBase = "/" + l.sectionAddress(sec, idx.prefix)
		}
	}
	var kept []string
	keep := map[string]bool{}
	ahead := relBase == "/" && len(r.aliases) == len(p.Aliases)
	for i, a := range p.Aliases {
		ap := r.meta.aliasPos[i]
		var t aliasTarget
		if ahead {
			t = r.aliases[i]
		} else {
			t = aliasTargetOf(a, relBase)
		}
		n, why := t.addr, t.why
		switch {
		case why != "":
			r.add(ap[0], ap[1], CodeInvalidAlias, fmt.Sprintf("alias %q %s", a, why))
			continue
		case keep[n]:
			continue
		}
		c, why := idx.out.claim(&owner{kind: byAlias, source: r.file.path}, t.files...)
		switch {
		case c == nil:
		case c.kind == byAlias:
			r.add(ap[0], ap[1], CodeDuplicateAlias, fmt.Sprintf("alias %q is also %s", n, c.what()))
			continue
		case c.kind == byPost && c.source == r.file.path:
			r.add(ap[0], ap[1], CodeInvalidAlias, fmt.Sprintf("alias %q is this post's own address; remove it", a))
			continue
		case c.kind == byPost || c.kind == bySection || c.kind == byRedirect:
			r.add(ap[0], ap[1], CodeInvalidAlias, fmt.Sprintf("alias %q is the address of a post; a redirect there would replace it (%s)", a, why))
			continue
		case c.kind == byPage:
			r.add(ap[0], ap[1], CodeInvalidAlias, fmt.Sprintf("alias %q is the address of the page %s; a redirect there would replace it", a, c.source))
			continue
		case c.kind == byTheme:
			r.add(ap[0], ap[1], CodeInvalidAlias, fmt.Sprintf("alias %q is a page of the site itself (%s); a redirect there would replace it", a, why))
			continue
		default:
			r.add(ap[0], ap[1], CodeInvalidAlias, fmt.Sprintf("alias %q cannot be written: %s", a, why))
			continue
		}
		keep[n] = true
		kept = append(kept, n)
	}
	p.Aliases = kept
}

// bundleDirOf finds the bundle folder holding p.
func bundleDirOf(p string, bundles map[string]*postResult) string {
	for d := path.Dir(p); d != "." && d != "/"; d = path.Dir(d) {
		if _, ok := bundles[d]; ok {
			return d
		}
	}
	return ""
}

func checkPopular(popular []string, idx *siteIndex, fsys fs.FS) []Diagnostic {
	var ds []Diagnostic
	data, _ := fs.ReadFile(fsys, ConfigFile) // only for positions; LoadConfig reported read problems
	addresses := map[string]bool{}
	for _, r := range idx.bySource {
		if r.kind == kindPost && r.claimed {
			addresses[strings.Trim(r.post.Address, "/")] = true
		}
	}
	for _, slug := range popular {
		if _, ok := idx.bySlug[slug]; ok || addresses[strings.Trim(slug, "/")] {
			continue
		}
		line, col := 0, 0
		if i := bytes.Index(data, []byte(slug)); i >= 0 && slug != "" {
			line = bytes.Count(data[:i], []byte("\n")) + 1
			col = utf8.RuneCount(data[bytes.LastIndexByte(data[:i], '\n')+1:i]) + 1
		}
		ds = append(ds, newDiag(ConfigFile, line, col, CodeUnknownPopular, fmt.Sprintf("popular lists %q, which is not the slug or address of any post", slug)))
	}
	return ds
}

// fieldLineRE is a line that looks like a front matter field.
var fieldLineRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*\s*(:\s|:$|=)`)

// noFrontMatterHint explains why a file has no front matter when it looks
// like the author meant to write some, or "".
func noFrontMatterHint(src []byte) string {
	if len(bytes.TrimSpace(bytes.ReplaceAll(src, bom, nil))) == 0 {
		return "the file is empty"
	}
	first := true
	for n, off := 1, 0; off < len(src) && n <= 100; n++ {
		line, next := lineAt(src, off)
		off = next
		t := bytes.TrimSpace(bytes.ReplaceAll(line, bom, nil))
		if len(t) == 0 {
			first = false
			continue
		}
		if string(t) == "---" || string(t) == "+++" {
			if n == 1 {
				return fmt.Sprintf("the first line has other (perhaps invisible) characters around %q; make it exactly %q", t, t)
			}
			return fmt.Sprintf("front matter must begin on the first line of the file; remove what comes before the %q on line %d", t, n)
		}
		if first && fieldLineRE.Match(t) {
			return "the file starts with fields but no \"---\" line above them; add one as the first line, and one after the last field if it is missing"
		}
		return ""
	}
	return ""
}

// maxPerCode is how many diagnostics of one code one file lists; the rest
// are counted in one more diagnostic (a post of 600,000 broken links gives a
// readable report, not 600,000 lines).
const maxPerCode = 100

// capPerCode keeps the first max diagnostics of each code in ds (one
// file's, in the order found) and replaces the others of that code with one
// diagnostic, at the first left out, that says how many there are.
func capPerCode(ds []Diagnostic, max int) []Diagnostic {
	if len(ds) <= max {
		return ds // no code can pass max (most files have no diagnostic at all)
	}
	count := map[string]int{}
	var out []Diagnostic
	first := map[string]int{} // code -> index in out of its "more" diagnostic
	for _, d := range ds {
		count[d.Code]++
		switch n := count[d.Code]; {
		case n <= max:
			out = append(out, d)
		case n == max+1:
			first[d.Code] = len(out)
			out = append(out, d)
		}
	}
	for code, i := range first {
		n := count[code] - max
		out[i].Message = fmt.Sprintf("%s; and %d more [%s] in this file from here on, not listed one by one", out[i].Message, n-1, code)
	}
	return out
}

// templateField is the front matter's template field (Zola's custom page
// template), nil when there is none.
func templateField(fields []fmField) *fmField {
	for i := range fields {
		if fields[i].key == "template" && fields[i].value.kind == vScalar {
			return &fields[i]
		}
	}
	return nil
}
