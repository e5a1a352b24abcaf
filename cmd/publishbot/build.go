package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/publishbot/publishbot/buildcache"
	"github.com/publishbot/publishbot/internal/contentids"
	"github.com/publishbot/publishbot/posts"
	"github.com/publishbot/publishbot/site"
	"github.com/publishbot/publishbot/templates"
)

const buildUsage = `usage: publishbot build [-o DIR] [--drafts] [--future] [--base-url URL] [--cache-dir DIR|off] [DIR]

Builds the blog in DIR (default: the current folder) into DIR/public, or the
folder -o names, removing files a previous build wrote there. Posts whose inputs did not
change since an earlier build are taken from the build cache (--cache-dir;
its size is PUBLISHBOT_BUILD_CACHE_MB, default 1024). Exit status 1
when a post has errors (the rest is written), 2 for a bad command line.
`

// runBuild is `publishbot build`: site.BuildDir, then site.Write into the
// output folder. Exit 1 when a post has errors (the rest is written).
func runBuild(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("build", buildUsage, stderr)
	out := fs.String("o", "", "output `folder` (default DIR/public)")
	drafts := fs.Bool("drafts", false, "include draft posts, marked as drafts")
	future := fs.Bool("future", false, "include future-dated posts, marked as scheduled")
	baseURL := fs.String("base-url", "", "build for this `URL` instead of publish.yaml's base_url")
	cacheDir := cacheDirFlag(fs)
	dir, err := parseFolderArgs(fs, args)
	if err != nil {
		return err
	}
	if *out == "" {
		*out = filepath.Join(dir, "public")
	}
	if *baseURL != "" {
		if *baseURL, err = validBaseURL(*baseURL); err != nil {
			return usageError("build: %w", err)
		}
	}

	limits, err := envBuildLimits(getenv)
	if err != nil {
		return usageError("build: %w", err)
	}

	cdir, err := buildCacheDir(*cacheDir, dir)
	if err != nil {
		return usageError("build: %w", err)
	}
	cacheMax, err := buildCacheMB(getenv)
	if err != nil {
		return usageError("build: %w", err)
	}

	start := time.Now()
	opts := site.Options{BaseURL: *baseURL, Render: templates.Options{Drafts: *drafts, Future: *future, Images: localImageProcessor(getenv, cliLog(stderr))}, Limits: limits}
	cache := openBuildCache(cdir, cacheMax, cliLog(stderr))
	var content [32]byte
	var prev site.Previous
	if cache != nil {
		defer cache.Close()
		opts.Cache = cache
		opts.Render.Keys = true // for the next build: see LastBuild
		if done, err := buildUnchanged(cache, dir, *out, opts, start, stdout, stderr); done {
			return err
		}
		content, _ = site.ContentFingerprint(dir, *out)
		if p, ok := site.LastBuild(cache, dir, *out, opts); ok {
			// the files whose keys did not change stay in the output
			// folder as the last build wrote them
			prev = p
			opts.Previous = func() site.Previous { return p }
		}
	}
	var b *site.Output
	if cache != nil {
		b, err = buildWithContentIDs(ctx, cache, dir, opts, cliLog(stderr))
	} else {
		b, err = site.BuildDir(ctx, dir, opts)
	}
	if err != nil {
		return fmt.Errorf("build %s: %w", dir, err)
	}
	errs, warns := writeDiagnosticsText(stderr, b.Site.Diagnostics)
	if !strings.HasPrefix(b.Site.Config.BaseURL, "http") {
		// posts accepts this for a local look; the publisher always has one
		// (from the repository's name), but a folder built here and uploaded
		// by hand would have feeds no reader can follow.
		fmt.Fprintln(stderr, "publish.yaml: warning: no base_url: feeds, sitemap and canonical links are relative, and feed readers and search engines cannot follow them; set base_url in publish.yaml (such as https://owner.github.io/repo/) or pass --base-url [base-url-missing]")
		warns++
	}
	written, removed, err := site.WriteKeeping(ctx, *out, b.Files, b.Kept)
	if err != nil {
		return fmt.Errorf("build: %w", err)
	}
	if cache != nil {
		// best effort: without them the next build builds again
		site.RememberUnchanged(cache, dir, *out, opts, content, b, start)
		site.RememberBuild(cache, dir, *out, opts, b, prev)
	}
	fmt.Fprintf(stdout, "built %s, %s into %s (%d written, %s removed) in %.2fs: %s, %s\n",
		plural(len(b.IndexPages), "post", "posts"), plural(written+len(b.Kept), "file", "files"), *out, written, plural(removed, "stale file", "stale files"),
		time.Since(start).Seconds(), plural(errs, "error", "errors"), plural(warns, "warning", "warnings"))
	if errs > 0 {
		return &exitError{Code: 1}
	}
	return nil
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

// writeDiagnosticsText prints diagnostics one a line (the text format of
// `check`) and returns the number of errors and warnings.
func writeDiagnosticsText(w io.Writer, diags []posts.Diagnostic) (errs, warns int) {
	var b bytes.Buffer
	for _, d := range diags {
		b.WriteString(d.String())
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

// buildWithContentIDs is site.BuildDir with the folder's files named by
// their SHA-256 remembered in cache from the last build of dir under each
// file's identity (contentids): a file that did not change since is not
// read again unless its results are not cached (one post edited of 6,629:
// the Markdown of the other 6,628 is not read and hashed again).
func buildWithContentIDs(ctx context.Context, cache *buildcache.Cache, dir string, opts site.Options, log *logrus.Entry) (*site.Output, error) {
	ids, err := contentids.Load(cache, dir)
	if err != nil {
		log.WithError(err).Warn("build cache: discarding the folder's content ids")
	}
	b, err := site.BuildDirAs(ctx, dir, ids.Folder, opts)
	if err == nil {
		ids.Save(cache, dir)
	}
	return b, err
}
