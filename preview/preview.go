// Package preview owns the local live-reload preview of a content folder
// (`publishbot preview`): it builds the folder with package site for the
// address it serves on, serves the latest build from memory, watches the
// folder and rebuilds on every change, and tells open pages to reload
// through server-sent events. A build that fails keeps the last good site
// served; the errors of the latest build are shown on every page.
package preview

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/publishbot/publishbot/imagery"
	"github.com/publishbot/publishbot/internal/contentids"
	"github.com/publishbot/publishbot/posts"
	"github.com/publishbot/publishbot/site"
	"github.com/publishbot/publishbot/templates"
)

// debounce is how long the watched folder must be quiet before a rebuild:
// an editor's save is often several events.
const debounce = 150 * time.Millisecond

// HTTP server limits; the events stream lifts them for itself.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 60 * time.Second
	shutdownTimeout   = 5 * time.Second
)

// Options say what to preview.
type Options struct {
	Dir    string    // the content folder
	Drafts bool      // show draft posts (marked)
	Future bool      // show future-dated posts (marked)
	Log    io.Writer // every build's diagnostics and a line about it, and watch errors; nil discards
	// Images treats the site's images on every rebuild; nil means an
	// in-memory cache for the life of the Preview (an unchanged image is
	// resized once).
	Images templates.ImageProcessor

	// Cache, when not nil, keeps each post's rendering between rebuilds
	// (and runs of preview); Flush is called after each build.
	Cache Cache
}

// Cache is the build cache a preview renders through: posts.RenderCache,
// and Flush to write what a build put in it.
type Cache interface {
	posts.RenderCache
	Flush()
}

// Preview is one running preview: a listener, a file watcher and the
// latest build. Make it with New; Run serves it; Close releases it.
type Preview struct {
	opts    Options
	ln      net.Listener
	url     string
	watcher *fsnotify.Watcher
	srv     *server
	// last is the last good build, its Files holding every file of the
	// site (those it made and those it kept): the next rebuild makes
	// again only the files whose input keys changed (site.Previous)
	last *site.Output
	ids  *contentids.Memo // the folder's files' contents, named for the build cache
}

// New watches opts.Dir and builds it once for the address ln listens on,
// so that the first request already finds the site. The error is for a
// folder that cannot be watched; a build that fails is reported on
// opts.Log and on the pages, and a later change rebuilds. Once New
// succeeds the Preview owns ln: Close (or Run) closes it.
func New(ctx context.Context, ln net.Listener, opts Options) (*Preview, error) {
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	watcher, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", opts.Dir, err)
	}
	if err := watchTree(watcher, opts.Dir); err != nil {
		watcher.Close()
		return nil, fmt.Errorf("watch %s: %w", opts.Dir, err)
	}
	if opts.Images == nil {
		opts.Images = imagery.New(imagery.NewMemCache())
	}
	ids := contentids.New()
	if opts.Cache != nil {
		// the files' names as the last run (or build) of the folder left
		// them: the first build reads only the files changed since
		if ids, err = contentids.Load(opts.Cache, opts.Dir); err != nil {
			fmt.Fprintf(opts.Log, "preview: %v; the folder's files are read afresh\n", err)
		}
	}
	p := &Preview{opts: opts, ln: ln, url: "http://" + urlHost(ln.Addr()) + "/", watcher: watcher, srv: newServer(), ids: ids}
	p.rebuild(ctx)
	return p, nil
}

// URL is the address the site is built for and served at, ending in "/".
func (p *Preview) URL() string { return p.url }

// Close stops watching and listening; Run does it too.
func (p *Preview) Close() error {
	p.srv.close()
	return errors.Join(p.watcher.Close(), ignoreClosed(p.ln.Close()))
}

func ignoreClosed(err error) error {
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// rebuild builds the folder and publishes the result to the server.
func (p *Preview) rebuild(ctx context.Context) {
	opts := site.Options{
		BaseURL: p.url,
		Render:  templates.Options{Drafts: p.opts.Drafts, Future: p.opts.Future, Images: p.opts.Images, Keys: true},
	}
	if last := p.last; last != nil {
		// a save of one post of a big blog makes that post's pages
		// again, not the whole site
		opts.Previous = func() site.Previous {
			return site.Previous{Keys: last.Keys, Size: func(path string) int64 { return int64(len(last.Files[path])) }}
		}
	}
	if p.opts.Cache != nil {
		opts.Cache = p.opts.Cache
		defer p.opts.Cache.Flush()
	}
	out, err := p.build(ctx, opts)
	if ctx.Err() != nil {
		return // stopping: nothing to report
	}
	if err != nil {
		fmt.Fprintf(p.opts.Log, "preview: %v (still serving the last good build)\n", err)
		p.srv.publish(nil, []string{err.Error() + " (still serving the last good build)"})
		return
	}
	made := len(out.Files)
	for _, path := range out.Kept {
		out.Files[path] = p.last.Files[path]
	}
	if p.last == nil && p.opts.Cache != nil {
		// the next run of preview (or build) of the folder reads only
		// the files changed since
		p.ids.Save(p.opts.Cache, p.opts.Dir)
	}
	p.last = out
	var text strings.Builder
	var problems []string
	errs, warns := 0, 0
	for _, d := range out.Site.Diagnostics {
		text.WriteString(d.String() + "\n")
		if d.Severity == posts.SeverityError {
			errs++
			problems = append(problems, d.String())
		} else {
			warns++
		}
	}
	io.WriteString(p.opts.Log, text.String())
	v := p.srv.publish(out.Files, problems)
	fmt.Fprintf(p.opts.Log, "preview: build %d: %s (%d made, %d as before) in %.2fs, %s, %s\n", v, plural(len(out.Files), "file", "files"),
		made, len(out.Kept), (out.Load + out.Render).Seconds(), plural(errs, "error", "errors"), plural(warns, "warning", "warnings"))
}

// build is site.BuildDir of the folder, its files' contents named by
// p.ids (posts.ContentIDs).
func (p *Preview) build(ctx context.Context, opts site.Options) (*site.Output, error) {
	return site.BuildDirAs(ctx, p.opts.Dir, p.ids.Folder, opts)
}

// Run serves the preview and rebuilds on every change below the folder
// until ctx ends; then it shuts the server down gracefully, closes the
// Preview and returns nil. It returns an error when serving or watching
// fails.
func (p *Preview) Run(ctx context.Context) error {
	defer p.Close()
	srv := &http.Server{
		Handler:           p.srv,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(p.ln) }()

	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			p.srv.close()
			shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
			defer cancel()
			if err := srv.Shutdown(shutdownCtx); err != nil {
				return fmt.Errorf("shut down: %w", err)
			}
			return nil
		case err := <-serveErr:
			p.srv.close()
			srv.Close()
			return fmt.Errorf("serve: %w", err)
		case ev, ok := <-p.watcher.Events:
			if !ok {
				srv.Close()
				return errors.New("file watcher stopped")
			}
			if ignoredPath(p.opts.Dir, ev.Name) {
				continue
			}
			if err := watchCreated(p.watcher, ev); err != nil {
				fmt.Fprintf(p.opts.Log, "preview: watch %s: %v\n", ev.Name, err)
			}
			timer.Reset(debounce)
		case err, ok := <-p.watcher.Errors:
			if !ok {
				srv.Close()
				return errors.New("file watcher stopped")
			}
			fmt.Fprintf(p.opts.Log, "preview: watch: %v\n", err)
		case <-timer.C:
			p.rebuild(ctx)
		}
	}
}

// urlHost is the host:port to put in URLs for a listener: an unspecified
// address (":1313") becomes localhost.
func urlHost(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	host := "localhost"
	if !tcp.IP.IsUnspecified() {
		host = tcp.IP.String()
	}
	return net.JoinHostPort(host, strconv.Itoa(tcp.Port))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
