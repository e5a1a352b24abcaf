package posts

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
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
	configBase := cfg.BasePath()
	if opts.BaseURL != "" {
		if u, err := normalizeBaseURL(opts.BaseURL); err == nil {
			cfg.BaseURL = u
		} else {
			return nil, fmt.Errorf("base url override: %w", err)
		}
	}

	t := &tree{ctx: ctx, fsys: fsys, files: map[string]int64{}}
	t.walk(".", 0)
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
	md := newMarkdown(cfg.UnsafeHTML)
	l := &loader{cfg: &cfg, now: now, md: md, tree: t, configBase: configBase, limits: opts.Limits.withDefaults()}
	results := make([]*postResult, len(postFiles))
	if err := parallel(ctx, len(postFiles), func(i int) { results[i] = l.read(postFiles[i]) }); err != nil {
		return nil, err
	}

	idx := l.index(results, assets)
	l.indexPages(results, assets)
	err := parallel(ctx, len(results), func(i int) {
		if results[i].body != nil {
			l.render(results[i], idx)
		}
	})
	if err != nil {
		return nil, err
	}

	site := &Site{Config: cfg}
	left := map[string]bool{} // bundles left out
	for _, r := range results {
		diags = append(diags, capPerCode(r.diags, maxPerCode)...)
		if r.file.page {
			continue // sitePages
		}
		if r.post != nil && !HasErrors(r.diags) && !r.expired {
			site.Posts = append(site.Posts, r.post)
		} else if r.file.bundle != "" {
			left[r.file.bundle] = true
		}
	}
	for _, a := range assets {
		if a.Target != "" && !left[bundleDirOf(a.Source, idx.byBundle)] {
			site.Assets = append(site.Assets, a)
		}
	}
	if len(cfg.Popular) > 0 {
		diags = append(diags, checkPopular(cfg.Popular, idx, fsys)...)
	}
	slices.SortFunc(site.Posts, func(a, b *Post) int {
		return cmp.Or(b.Date.Compare(a.Date), cmp.Compare(a.Title, b.Title), cmp.Compare(a.Slug, b.Slug))
	})
	slices.SortFunc(site.Assets, func(a, b Asset) int { return cmp.Compare(a.Target, b.Target) })
	site.Pages = sitePages(results)
	menu, menuDiags := l.siteMenu(results, site)
	site.Menu = menu
	diags = append(diags, menuDiags...)
	SortDiagnostics(diags)
	site.Diagnostics = diags
	return site, nil
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
	dirs  map[string]bool
	order []string // files in walk order (sorted)
	diags []Diagnostic
	// Files over MaxFileSize: never read, and not in files.
	large     []string
	largeSize []int64
}

func (t *tree) hasDir(p string) bool { return p == "." || t.dirs[p] }

// walk lists dir recursively. Entries are never followed when they are
// symlinks; bad names are reported and skipped with their subtree.
func (t *tree) walk(dir string, depth int) {
	if t.dirs == nil {
		t.dirs = map[string]bool{}
	}
	if t.ctx.Err() != nil {
		return // Load reports it
	}
	entries, err := fs.ReadDir(t.fsys, dir)
	if err != nil {
		t.diags = append(t.diags, newDiag(dir, 0, 0, CodeUnreadable, fmt.Sprintf("cannot list folder: %v", err)))
		return
	}
	for _, e := range entries {
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
			t.walk(p, depth+1)
		case typ.IsRegular():
			info, err := e.Info()
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
	path   string
	bundle string // bundle folder, "" for a single file

	page     bool   // a page, not a post (pages.go)
	pageBase string // a page's address is its path relative to this folder
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
				posts = append(posts, postFile{path: p})
			}
		case strings.HasPrefix(p, prefix):
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

// postResult is one post file through both phases.
type postResult struct {
	file     postFile
	post     *Post // nil when the file could not be read at all
	meta     postMeta
	src      []byte
	body     []byte // Markdown body; nil when not rendered
	bodyOff  int
	lines    []int // byte offset of each line start in src
	diags    []Diagnostic
	hasError bool // an error from phase 1, or expired: the post is left out
	linkable bool // set between the phases: other posts may link here

	last struct{ line, off, col int } // pos's last answer (col 0: none)

	page    *Page  // a page's own fields; nil for a post
	pageAt  [2]int // line and column of a page's permalink or url
	expired bool   // the post's expiryDate has passed (schedule.go)
}

func (r *postResult) add(line, col int, code, msg string) {
	d := newDiag(r.file.path, line, col, code, msg)
	if d.Severity == SeverityError {
		r.hasError = true
	}
	r.diags = append(r.diags, d)
}

// pos is the 1-based line and column (in runes) of byte offset off of src.
func (r *postResult) pos(off int) (int, int) {
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
	limits     Limits // with defaults filled in
}

// read is phase 1: read the file, split and parse front matter, fill the
// post's fields. A panic becomes an internal-error diagnostic.
func (l *loader) read(pf postFile) (res *postResult) {
	res = &postResult{file: pf}
	defer func() {
		if v := recover(); v != nil {
			res.post, res.body = nil, nil
			res.add(0, 0, CodeInternal, fmt.Sprintf("publishbot failed on this file (please report it): %v", v))
		}
	}()
	src, err := fs.ReadFile(l.tree.fsys, pf.path)
	if err != nil {
		res.add(0, 0, CodeUnreadable, fmt.Sprintf("cannot read: %v", err))
		return res
	}
	res.src = src
	res.lines = lineStarts(src)
	if line, col, bad := invalidUTF8At(src); bad {
		res.add(line, col, CodeInvalidUTF8, "the file is not valid UTF-8 text; save it as UTF-8")
		return res
	}
	p := &Post{Path: pf.path, Bundle: pf.bundle}
	res.post = p
	fm, ok := splitFrontMatter(src)
	if !ok {
		delim := string(src[bytes.IndexAny(src, "-+"):][:3])
		res.add(1, 1, CodeFMUnclosed, fmt.Sprintf("front matter opened with %q is never closed; add a line %q after the last field", delim, delim))
		return res
	}
	var fields []fmField
	var pe *posErr
	switch fm.format {
	case 'y':
		fields, pe = parseYAMLMapping(fm.text, fm.startLine-1, fm.endLine)
	case 't':
		fields, pe = parseTOMLMapping(fm.text, fm.startLine-1)
	}
	if pe != nil {
		res.add(pe.line, pe.col, pe.code, pe.msg)
		return res
	}
	if pf.page {
		hint := ""
		if fm.format == 0 {
			hint = noFrontMatterHint(src)
		}
		l.readPage(res, fields, hint)
		res.body, res.bodyOff = src[fm.bodyOffset:], fm.bodyOffset
		return res
	}
	// Date and slug candidates from the file (or bundle folder) name.
	name := path.Base(pf.path)
	name = strings.TrimSuffix(name, path.Ext(name))
	if pf.bundle != "" {
		name = path.Base(pf.bundle)
	}
	fileDate, rest := nameParts(name, l.cfg.Location)
	fmLine := 1
	hint := ""
	if fm.format == 0 {
		hint = noFrontMatterHint(src)
	}
	for _, d := range applyFields(p, &res.meta, fields, fileDate, l.cfg, fmLine, l.limits) {
		if hint != "" && (d.Code == CodeMissingTitle || d.Code == CodeMissingDate) {
			d.Message += " (" + hint + ")"
		}
		res.add(d.Line, d.Column, d.Code, d.Message)
	}
	if p.Slug == "" && res.meta.slugLine == 0 {
		p.Slug = slugify(rest)
		if p.Slug == "" {
			p.Slug = slugify(p.Title)
		}
		if p.Slug == "" {
			res.add(1, 1, CodeInvalidSlug, "no URL for this post: neither the file name nor the title has letters or digits; add \"slug: my-post\"")
		}
	}
	res.body = src[fm.bodyOffset:]
	res.bodyOff = fm.bodyOffset
	l.checkSchedule(res)
	return res
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
// built once between the phases and only read afterwards.
type siteIndex struct {
	bySource map[string]*postResult // source file -> post
	byBundle map[string]*postResult // bundle folder -> post
	bySlug   map[string]*postResult
	assetOf  map[string]string // source file -> site target, for every published file
	targets  map[string]bool   // site targets of every published file
}

// index assigns bundle assets their targets, finds duplicate slugs and
// aliases, and builds the lookup tables for links.
func (l *loader) index(results []*postResult, assets []Asset) *siteIndex {
	idx := &siteIndex{bySource: map[string]*postResult{}, byBundle: map[string]*postResult{},
		bySlug: map[string]*postResult{}, assetOf: map[string]string{}, targets: map[string]bool{}}
	// results are in path order, so the first of two files with one slug keeps it.
	aliases := map[string]string{}
	pagesAt := pageOutputs(results)
	for _, r := range results {
		if r.post == nil {
			continue
		}
		idx.bySource[r.file.path] = r
		if r.file.bundle != "" {
			idx.byBundle[r.file.bundle] = r
		}
		p := r.post
		if p.Slug == "" || r.hasError || r.file.page {
			continue
		}
		if other, ok := idx.bySlug[p.Slug]; ok {
			line, col := r.meta.slugLine, r.meta.slugCol
			if line == 0 {
				line, col = 1, 1
			}
			r.add(line, col, CodeDuplicateSlug, fmt.Sprintf("slug %q is also the slug of %s: both would be published at /posts/%s/; give one a different slug",
				p.Slug, other.file.path, p.Slug))
			continue
		}
		idx.bySlug[p.Slug] = r
	}
	for _, r := range results {
		if r.post == nil || r.hasError || r.file.page {
			continue
		}
		p := r.post
		var kept []string
		keep := map[string]bool{}
		for i, a := range p.Aliases {
			ap := r.meta.aliasPos[i]
			n := normalizeAlias(a)
			switch {
			case n == "":
				r.add(ap[0], ap[1], CodeInvalidAlias, fmt.Sprintf("alias %q is not a site path like /2019/01/old-name/", a))
				continue
			case strings.HasPrefix(n, "/posts/") && idx.bySlug[strings.SplitN(strings.TrimPrefix(n, "/posts/"), "/", 2)[0]] != nil:
				r.add(ap[0], ap[1], CodeInvalidAlias, fmt.Sprintf("alias %q is the address of a post; a redirect there would replace it", a))
				continue
			case pagesAt[OutputFile(n)] != "":
				r.add(ap[0], ap[1], CodeInvalidAlias, fmt.Sprintf("alias %q is the address of the page %s; a redirect there would replace it", a, pagesAt[OutputFile(n)]))
				continue
			case reservedPath(n):
				r.add(ap[0], ap[1], CodeInvalidAlias, fmt.Sprintf("alias %q is a page of the site itself (index, tags, feeds); a redirect there would replace it", a))
				continue
			}
			if other, ok := aliases[n]; ok && other != r.file.path {
				r.add(ap[0], ap[1], CodeDuplicateAlias, fmt.Sprintf("alias %q is also an alias of %s", n, other))
				continue
			}
			if keep[n] {
				continue
			}
			aliases[n] = r.file.path
			keep[n] = true
			kept = append(kept, n)
		}
		p.Aliases = kept
	}
	for _, r := range results {
		r.linkable = r.post != nil && !r.hasError && r.post.Slug != "" && idx.bySlug[r.post.Slug] == r
	}
	for i := range assets {
		a := &assets[i]
		if a.Target == "" {
			// Only the files of a bundle that is published get a target: not
			// those of a post with errors, nor of the loser of a duplicate slug.
			b := idx.byBundle[bundleDirOf(a.Source, idx.byBundle)]
			if b != nil && b.post != nil && !b.hasError && b.post.Slug != "" && idx.bySlug[b.post.Slug] == b {
				a.Target = PostPath(b.post.Slug) + strings.TrimPrefix(a.Source, b.file.bundle+"/")
			}
		}
		if a.Target != "" {
			idx.assetOf[a.Source] = a.Target
			idx.targets[a.Target] = true
		}
	}
	return idx
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

// reservedPath reports site paths the theme renders itself.
func reservedPath(p string) bool {
	first := strings.SplitN(strings.TrimPrefix(p, "/"), "/", 2)[0]
	switch first {
	case "tags", "page", "pr-preview":
		return true
	case "index.html", "feed.xml", "rss.xml", "feed.json", "sitemap.xml", "robots.txt", "404.html", "CNAME", ".nojekyll":
		return true
	}
	return false
}

func checkPopular(popular []string, idx *siteIndex, fsys fs.FS) []Diagnostic {
	var ds []Diagnostic
	data, _ := fs.ReadFile(fsys, ConfigFile) // only for positions; LoadConfig reported read problems
	for _, slug := range popular {
		if _, ok := idx.bySlug[slug]; ok {
			continue
		}
		line, col := 0, 0
		if i := bytes.Index(data, []byte(slug)); i >= 0 && slug != "" {
			line = bytes.Count(data[:i], []byte("\n")) + 1
			col = utf8.RuneCount(data[bytes.LastIndexByte(data[:i], '\n')+1:i]) + 1
		}
		ds = append(ds, newDiag(ConfigFile, line, col, CodeUnknownPopular, fmt.Sprintf("popular lists %q, which is not the slug of any post", slug)))
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
