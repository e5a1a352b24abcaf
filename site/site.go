// Package site owns the one build of a publishbot site: load a content tree
// with posts, render it with the default theme and the tree's template
// overrides, and write the result into a folder, all under a context. The
// `build` and `preview` commands and the publisher build through it.
//
// A build is a pure function of its inputs (content, theme overrides,
// options): the same input gives byte-for-byte the same files. Problems in
// the content are diagnostics in Output.Site, never errors.
package site

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/publishbot/publishbot/posts"
	"github.com/publishbot/publishbot/templates"
)

// Options say how to build. The zero value builds a tree as its own
// publish.yaml says, at the current time, without drafts or future posts.
type Options struct {
	// Config, when non-nil, is used instead of the tree's publish.yaml: a
	// pull request preview takes the base branch's.
	Config *posts.Config
	// BaseURL, when set, replaces base_url (previews, `build --base-url`);
	// it must be an absolute http(s) URL.
	BaseURL string
	// Repo is "owner/name"; it gives the default base_url.
	Repo string
	// Now decides which posts are in the future; zero means time.Now().
	Now time.Time
	// Render says which posts to show and whether this is a preview.
	Render templates.Options
	// Limits bound the files the build makes and what one post may make;
	// zero fields take their defaults (Limits).
	Limits Limits
	// Cache, when non-nil, keeps each post's rendering between builds (see
	// posts.RenderCache); the output is the same with or without it.
	Cache posts.RenderCache
	// Render.Keys and Render.Previous make an incremental build: a file
	// whose input key is the one Render.Previous gives its path is not
	// made again but listed in Output.Kept, its bytes being those of the
	// previous build (templates.Options.Previous). KeptSize gives the size
	// of such a file, for Limits; nil counts kept files as empty.
	KeptSize func(path string) int64 `json:"-"`
	// Previous, when non-nil, gives Render.Previous, Render.PreviousPaths
	// and KeptSize in their place: it is called once the content is
	// loaded, so that the caller can read the previous build's record
	// meanwhile.
	Previous func() Previous `json:"-"`
}

// Previous is what a build knows of the one before it (Options.Previous):
// its files' keys, their paths in order when known, and their sizes.
type Previous struct {
	Keys  templates.PreviousKeys
	Paths []string
	Size  func(path string) int64
}

// Output is one built site.
type Output struct {
	// Site is the loaded content, with its diagnostics. It is set whenever
	// the content could be loaded, even when rendering then failed.
	Site *posts.Site
	// Files are the rendered files keyed by slash-separated site-relative
	// path; nil when rendering failed.
	Files map[string][]byte
	// IndexPages is, for each post shown, the number of the index page that
	// lists it (1 for index.html, N for page/N/index.html), keyed by the
	// post's source file (posts.Post.Path). Posts the build hides are not in
	// it: its length is the number of posts shown.
	IndexPages map[string]int
	// Load and Render are the time spent loading (reading, front matter,
	// Markdown) and rendering (pages, feeds, sitemap, asset copies).
	Load, Render time.Duration
	// Keys are every output file's input key (Files and Kept), when
	// Options.Render asked for them; Kept are the files, sorted, that
	// the build did not make again because Options.Render.Previous gives
	// them the same key: their bytes are the previous build's.
	Keys templates.KeyMap
	Kept []string
}

// TemplateError is the error of a build whose template overrides cannot be
// used (a templates/*.html that does not parse): the content's fault, so
// building the same content again fails the same way.
type TemplateError struct{ Err error }

func (e *TemplateError) Error() string { return "parse templates: " + e.Err.Error() }
func (e *TemplateError) Unwrap() error { return e.Err }

// Build loads content and renders it with the default theme, whose
// templates the files of theme (a templates/ folder; nil for none)
// override. Asset bytes are read from content.
//
// The error is for content that cannot be read at all, template overrides
// that do not parse (a *TemplateError) or fail to execute, output beyond
// opts.Limits (a *LimitError, with the Output's Site set), and for ctx
// ending: Build checks ctx before each post, page and asset, returns an
// error wrapping ctx.Err() within about one post's work after it ends, and
// leaves no goroutine running. When the content loaded, the Output comes
// with the error, its Site set, so a caller can still report diagnostics.
// Build is safe for concurrent use.
func Build(ctx context.Context, content, theme fs.FS, opts Options) (*Output, error) {
	start := time.Now()
	// Custom shortcodes come from the same templates as the theme's
	// overrides (a fork's preview: the base branch's), never from
	// elsewhere in content.
	shortcodes := theme
	if shortcodes == nil {
		shortcodes = noFiles{}
	}
	site, err := posts.Load(ctx, content, posts.Options{Now: opts.Now, BaseURL: opts.BaseURL, Config: opts.Config, Repo: opts.Repo, Limits: opts.Limits.Post, Templates: shortcodes, Cache: opts.Cache})
	if err != nil {
		return nil, fmt.Errorf("load content: %w", err)
	}
	out := &Output{Site: site, Load: time.Since(start)}
	start = time.Now()
	r, err := templates.New(theme)
	if err != nil {
		return out, &TemplateError{Err: err}
	}
	ropts := opts.Render
	if ropts.Cache == nil {
		ropts.Cache = opts.Cache // the search index's words too
	}
	keptSize := opts.KeptSize
	if opts.Previous != nil {
		prev := opts.Previous()
		ropts.Previous, ropts.PreviousPaths, keptSize = prev.Keys, prev.Paths, prev.Size
	}
	res, err := r.Render(ctx, site, content, ropts)
	out.Render = time.Since(start)
	if err != nil {
		return out, fmt.Errorf("render site: %w", err)
	}
	if err := opts.Limits.check(res.Files, res.Kept, keptSize); err != nil {
		return out, err
	}
	out.Files, out.IndexPages, out.Keys, out.Kept = res.Files, res.IndexPages, res.Keys, res.Kept
	if ds := append(res.Diagnostics, dropNested(out.Files, &out.Kept)...); len(ds) > 0 {
		site.Diagnostics = append(site.Diagnostics, ds...)
		posts.SortDiagnostics(site.Diagnostics)
	}
	return out, nil
}

// dropNested removes from files every file that lies under another one
// ("a.html/b" beside "a.html"), which no folder can hold, and returns a
// diagnostic for each. posts.Load already leaves out every alias, page or
// file that would make one (and says so at its line): this is the last
// guard, so that such a file costs only itself, never the whole build.
// The files *kept (see Output.Kept) count as files, and are dropped from
// it the same way.
func dropNested(files map[string][]byte, kept *[]string) []posts.Diagnostic {
	// In path order, the files a path lies under come before it, and
	// every path between such a file and it starts with that file's path:
	// open holds the files that the current path starts with.
	all := slices.Sorted(maps.Keys(files))
	if len(*kept) > 0 {
		k := *kept
		if !slices.IsSorted(k) {
			k = slices.Sorted(slices.Values(k))
		}
		all = mergeSorted(all, k)
	}
	var ds []posts.Diagnostic
	var open []string
	for _, p := range all {
		for len(open) > 0 && !strings.HasPrefix(p, open[len(open)-1]) {
			open = open[:len(open)-1]
		}
		for i := len(open) - 1; i >= 0; i-- {
			if d := open[i]; len(p) > len(d) && p[len(d)] == '/' {
				ds = append(ds, posts.Diagnostic{File: p, Severity: posts.SeverityError, Code: posts.CodeInternal,
					Message: fmt.Sprintf("publishbot made %s, which lies under the file %s; it is left out (please report it)", p, d)})
				break
			}
		}
		open = append(open, p)
	}
	for _, d := range ds {
		delete(files, d.File)
		*kept = slices.DeleteFunc(*kept, func(p string) bool { return p == d.File })
	}
	return ds
}

// mergeSorted is the sorted list of the sorted lists a and b.
func mergeSorted(a, b []string) []string {
	out := make([]string, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if a[0] <= b[0] {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return append(append(out, a...), b...)
}

// BuildDir builds the content folder dir with its own templates/ folder as
// the theme overrides. The folder is read through an os.Root: no symbolic
// link leads out of it. Errors are those of Build, and for a folder that
// cannot be opened.
func BuildDir(ctx context.Context, dir string, opts Options) (*Output, error) {
	return BuildDirAs(ctx, dir, (*os.Root).FS, opts)
}

// BuildDirAs is BuildDir reading the folder through the file system
// folder makes of it (one that names its files' contents, such as
// contentids').
func BuildDirAs(ctx context.Context, dir string, folder func(*os.Root) fs.FS, opts Options) (*Output, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open content folder: %w", err)
	}
	defer root.Close()
	content := folder(root)
	theme, err := TemplatesDir(content)
	if err != nil {
		return nil, err
	}
	return Build(ctx, content, theme, opts)
}

// TemplatesDir is the templates/ folder of a content tree, the theme
// overrides to pass to Build; nil when the tree has none.
func TemplatesDir(content fs.FS) (fs.FS, error) {
	st, err := fs.Stat(content, "templates")
	if errors.Is(err, fs.ErrNotExist) || (err == nil && !st.IsDir()) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read templates: %w", err)
	}
	return fs.Sub(content, "templates")
}

// noFiles is a file system with no files: no templates.
type noFiles struct{}

func (noFiles) Open(name string) (fs.File, error) {
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}
