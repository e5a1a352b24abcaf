package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/publishbot/publishbot/buildcache"
	"github.com/publishbot/publishbot/preview"
	"github.com/publishbot/publishbot/site"
)

// The build cache (package buildcache): where `build` and `preview` keep it
// (--cache-dir, default the user cache folder), where `publish` and `serve`
// do (the data folder's build-cache/), and its size (PUBLISHBOT_BUILD_CACHE_MB).

const buildCacheEnv = "PUBLISHBOT_BUILD_CACHE_MB"

// cacheDirFlag adds --cache-dir to fs.
func cacheDirFlag(fs *flag.FlagSet) *string {
	return fs.String("cache-dir", "", "build cache `folder` (default: the user cache folder's publishbot/build-cache; \"off\": no cache)")
}

// buildCacheDir is the cache folder for the content folder dir: flagValue,
// else the user cache folder's; "" when off or when there is no user cache
// folder. A folder inside the content folder is refused: the cache must
// never end up in the content repository.
func buildCacheDir(flagValue, dir string) (string, error) {
	switch flagValue {
	case "off":
		return "", nil
	case "":
		base, err := os.UserCacheDir()
		if err != nil {
			return "", nil
		}
		flagValue = filepath.Join(base, "publishbot", "build-cache")
	}
	abs, err := filepath.Abs(flagValue)
	if err != nil {
		return "", fmt.Errorf("--cache-dir %q: %w", flagValue, err)
	}
	content, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("content folder %q: %w", dir, err)
	}
	if rel, err := filepath.Rel(content, abs); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("--cache-dir %s is inside the content folder %s; choose a folder outside it (or \"off\")", flagValue, dir)
	}
	return abs, nil
}

// buildCacheMB reads PUBLISHBOT_BUILD_CACHE_MB: the cap in bytes, default
// 1024 MiB.
func buildCacheMB(getenv func(string) string) (int64, error) {
	v := strings.TrimSpace(getenv(buildCacheEnv))
	if v == "" {
		return 1024 << 20, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 || n > 1<<30 {
		return 0, fmt.Errorf("%s %q: want a number of MiB, at least 1", buildCacheEnv, v)
	}
	return n << 20, nil
}

// openBuildCache opens the cache in dir ("" for none: nil). A cache that
// cannot be opened is a warning on log and no cache: a build never fails
// for it.
func openBuildCache(dir string, maxBytes int64, log *logrus.Entry) *buildcache.Cache {
	if dir == "" {
		return nil
	}
	c, err := buildcache.Open(dir, buildcache.Options{MaxBytes: maxBytes, Version: buildcache.VersionIn(dir), Log: log})
	if err != nil {
		log.WithError(err).Warn("build cache unavailable; building without it")
		return nil
	}
	return c
}

// cliLog is the logger of the commands that have none of their own (build,
// preview): warnings only, as text lines on stderr.
func cliLog(stderr io.Writer) *logrus.Entry {
	l := logrus.New()
	l.Out = stderr
	l.Level = logrus.WarnLevel
	l.Formatter = &logrus.TextFormatter{DisableColors: true, DisableTimestamp: true}
	return logrus.NewEntry(l)
}

// previewCache is c as a preview.Cache: nil for no cache (a nil
// *buildcache.Cache must not become a non-nil interface).
func previewCache(c *buildcache.Cache) preview.Cache {
	if c == nil {
		return nil
	}
	return c
}

// buildUnchanged is `build`'s fast path: when the cache says that nothing
// the last build of dir into out read has changed (site.CheckUnchanged), it
// prints that build's diagnostics and summary, writes nothing and returns
// done. err is the exit status the last build had.
func buildUnchanged(cache site.Store, dir, out string, opts site.Options, start time.Time, stdout, stderr io.Writer) (done bool, err error) {
	u, ok := site.CheckUnchanged(cache, dir, out, opts, start)
	if !ok {
		return false, nil
	}
	errs, warns := writeDiagnosticsText(stderr, u.Diagnostics)
	if !strings.HasPrefix(u.BaseURL, "http") {
		fmt.Fprintln(stderr, "publish.yaml: warning: no base_url: feeds, sitemap and canonical links are relative, and feed readers and search engines cannot follow them; set base_url in publish.yaml (such as https://owner.github.io/repo/) or pass --base-url [base-url-missing]")
		warns++
	}
	fmt.Fprintf(stdout, "built %s, %s into %s, unchanged since the last build (0 files written) in %.2fs: %s, %s\n",
		plural(u.Posts, "post", "posts"), plural(u.Files, "file", "files"), out, time.Since(start).Seconds(),
		plural(errs, "error", "errors"), plural(warns, "warning", "warnings"))
	if errs > 0 {
		return true, &exitError{Code: 1}
	}
	return true, nil
}
