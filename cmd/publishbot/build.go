package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/publishbot/publishbot/posts"
	"github.com/publishbot/publishbot/templates"
)

// buildManifest is the file in an output folder that lists what the last
// build wrote there: the next build removes those files it no longer makes,
// and refuses to write into a non-empty folder without one.
const buildManifest = ".publishbot-build"

// siteBuildOptions say how to load and render a content folder.
type siteBuildOptions struct {
	Dir     string // content repository folder
	BaseURL string // overrides base_url; "" keeps publish.yaml's
	Drafts  bool
	Future  bool
	Now     time.Time // decides future posts; zero means now
}

// siteBuild is one loaded and rendered site.
type siteBuild struct {
	Site   *posts.Site
	Files  map[string][]byte
	Load   time.Duration // posts.Load: reading, front matter and Markdown
	Render time.Duration // templates: pages, feeds, sitemap, asset copies
}

// loadAndRender loads opts.Dir with posts.Load and renders it with the
// default theme and the repository's templates/ overrides. The error is for
// a folder that cannot be read or a theme that fails; problems in the
// content are in Site.Diagnostics.
func loadAndRender(opts siteBuildOptions) (*siteBuild, error) {
	root, err := os.OpenRoot(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("open content folder: %w", err)
	}
	defer root.Close()
	content := root.FS()

	start := time.Now()
	site, err := posts.Load(content, posts.Options{Now: opts.Now, BaseURL: opts.BaseURL})
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", opts.Dir, err)
	}
	loaded := time.Now()

	var overrides fs.FS
	if fi, err := fs.Stat(content, "templates"); err == nil && fi.IsDir() {
		if overrides, err = fs.Sub(content, "templates"); err != nil {
			return nil, fmt.Errorf("read templates: %w", err)
		}
	}
	r, err := templates.New(overrides)
	if err != nil {
		return nil, err
	}
	files, err := r.Render(site, content, templates.Options{Drafts: opts.Drafts, Future: opts.Future})
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", opts.Dir, err)
	}
	return &siteBuild{Site: site, Files: files, Load: loaded.Sub(start), Render: time.Since(loaded)}, nil
}

// parseFlagsAnyOrder parses flags placed before or after the positional
// arguments ("build DIR -o out" as well as "build -o out DIR").
func parseFlagsAnyOrder(fset *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fset.Parse(args); err != nil {
			return nil, err
		}
		args = fset.Args()
		if len(args) == 0 {
			return positional, nil
		}
		if args[0] == "--" {
			return append(positional, args[1:]...), nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// validBaseURL checks a --base-url value and gives it its trailing slash.
func validBaseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("--base-url %q: want an absolute http(s) URL such as https://owner.github.io/repo/", raw)
	}
	if !strings.HasSuffix(raw, "/") {
		raw += "/"
	}
	return raw, nil
}

// writeDiagnosticsText prints diagnostics in the text format of `check`
// (one textLine each) and returns the number of errors and warnings.
func writeDiagnosticsText(w io.Writer, diags []posts.Diagnostic) (errs, warns int) {
	var b bytes.Buffer
	for _, d := range diags {
		b.WriteString(textLine(d))
		b.WriteByte('\n')
		if d.Severity == posts.SeverityError {
			errs++
		} else {
			warns++
		}
	}
	w.Write(b.Bytes())
	return errs, warns
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func runBuild(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet("build", flag.ContinueOnError)
	fset.SetOutput(stderr)
	out := fset.String("o", "public", "output `folder`")
	drafts := fset.Bool("drafts", false, "include draft posts, marked as drafts")
	future := fset.Bool("future", false, "include future-dated posts, marked as scheduled")
	baseURL := fset.String("base-url", "", "build for this `URL` instead of publish.yaml's base_url")
	fset.Usage = func() {
		fmt.Fprintln(stderr, "usage: publishbot build [-o DIR] [--drafts] [--future] [--base-url URL] [DIR]")
		fset.PrintDefaults()
	}
	positional, err := parseFlagsAnyOrder(fset, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return &exitError{Code: 2}
	}
	if len(positional) > 1 {
		return usageError("build: one content folder at most, got %q", positional)
	}
	dir := "."
	if len(positional) == 1 {
		dir = positional[0]
	}
	if *baseURL != "" {
		if *baseURL, err = validBaseURL(*baseURL); err != nil {
			return usageError("build: %w", err)
		}
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return usageError("build: %s is not a readable folder", dir)
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	start := time.Now()
	b, err := loadAndRender(siteBuildOptions{Dir: dir, BaseURL: *baseURL, Drafts: *drafts, Future: *future})
	if err != nil {
		return fmt.Errorf("build: %w", err)
	}
	errs, warns := writeDiagnosticsText(stderr, b.Site.Diagnostics)
	if !strings.HasPrefix(b.Site.Config.BaseURL, "http") {
		// posts accepts this for a local look; the publisher always has one
		// (from the repository's name), but a folder built here and uploaded
		// by hand would have feeds no reader can follow.
		fmt.Fprintln(stderr, "publish.yaml: warning: no base_url: feeds, sitemap and canonical links are relative, and feed readers and search engines cannot follow them; set base_url in publish.yaml (such as https://owner.github.io/repo/) or pass --base-url [base-url-missing]")
		warns++
	}
	written, removed, err := writeSite(*out, b.Files)
	if err != nil {
		return fmt.Errorf("build: %w", err)
	}
	shown := 0
	for _, p := range b.Site.Posts {
		if (!p.Draft || *drafts) && (!p.Future || *future) {
			shown++
		}
	}
	fmt.Fprintf(stdout, "built %s, %s into %s (%s removed) in %.2fs: %s, %s\n",
		plural(shown, "post", "posts"), plural(written, "file", "files"), *out, plural(removed, "stale file", "stale files"),
		time.Since(start).Seconds(), plural(errs, "error", "errors"), plural(warns, "warning", "warnings"))
	if errs > 0 {
		return &exitError{Code: 1}
	}
	return nil
}

// writeSite writes files into the folder outDir, creating it, and removes
// the files a previous build wrote there that this one does not. It only
// ever touches outDir's tree (through an os.Root, so no symlink leads out),
// and refuses a non-empty folder that holds no previous build.
func writeSite(outDir string, files map[string][]byte) (written, removed int, err error) {
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return 0, 0, fmt.Errorf("create output folder: %w", err)
	}
	root, err := os.OpenRoot(outDir)
	if err != nil {
		return 0, 0, fmt.Errorf("open output folder: %w", err)
	}
	defer root.Close()

	previous, err := readBuildManifest(root, outDir)
	if err != nil {
		return 0, 0, err
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		if !fs.ValidPath(p) || p == "." || p == buildManifest {
			return 0, 0, fmt.Errorf("write %s: invalid output path", p)
		}
		paths = append(paths, p)
	}
	sort.Strings(paths)

	// stale files first, so a file may become a folder and back
	var staleDirs []string
	for _, p := range previous {
		if _, ok := files[p]; ok {
			continue
		}
		if err := root.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return 0, removed, fmt.Errorf("remove stale %s: %w", p, err)
		}
		removed++
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			staleDirs = append(staleDirs, d)
		}
	}
	sort.Slice(staleDirs, func(i, j int) bool { return len(staleDirs[i]) > len(staleDirs[j]) })
	for _, d := range staleDirs {
		root.Remove(d) // only succeeds when empty; a folder still in use stays
	}

	made := map[string]bool{}
	for _, p := range paths {
		if d := path.Dir(p); d != "." && !made[d] {
			if err := root.MkdirAll(d, 0o755); err != nil {
				return 0, removed, fmt.Errorf("create %s: %w", d, err)
			}
			for ; d != "."; d = path.Dir(d) {
				made[d] = true
			}
		}
	}

	workers := 2 * runtime.GOMAXPROCS(0)
	jobs := make(chan string, workers)
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range jobs {
				if err := root.WriteFile(p, files[p], 0o644); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("write %s: %w", p, err)
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, p := range paths {
		jobs <- p
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return 0, removed, firstErr
	}
	var m bytes.Buffer
	m.WriteString("# Written by publishbot build; the next build removes these files when it no longer makes them.\n")
	for _, p := range paths {
		m.WriteString(p)
		m.WriteByte('\n')
	}
	if err := root.WriteFile(buildManifest, m.Bytes(), 0o644); err != nil {
		return len(paths), removed, fmt.Errorf("write %s: %w", buildManifest, err)
	}
	return len(paths), removed, nil
}

// readBuildManifest returns the files the previous build wrote, nil for an
// empty folder, and an error for a non-empty folder that no build made.
func readBuildManifest(root *os.Root, outDir string) ([]string, error) {
	data, err := root.ReadFile(buildManifest)
	if errors.Is(err, fs.ErrNotExist) {
		f, err := root.Open(".")
		if err != nil {
			return nil, fmt.Errorf("read output folder: %w", err)
		}
		names, err := f.Readdirnames(1)
		f.Close()
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read output folder: %w", err)
		}
		if len(names) > 0 {
			return nil, fmt.Errorf("refusing to write into %s: the folder is not empty and holds no previous build (no %s file); choose an empty or new folder", outDir, buildManifest)
		}
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", buildManifest, err)
	}
	var list []string
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !fs.ValidPath(line) || line == "." || line == buildManifest {
			return nil, fmt.Errorf("read %s: invalid path %q", buildManifest, line)
		}
		list = append(list, line)
	}
	return list, nil
}
