package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"io/fs"
	"mime"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/publishbot/publishbot/posts"
)

// previewEvents is the server-sent events endpoint of the live reload.
const previewEvents = "/_publishbot/events"

// previewDebounce is how long the watched folder must be quiet before a
// rebuild: an editor's save is often several events.
const previewDebounce = 150 * time.Millisecond

func runPreview(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet("preview", flag.ContinueOnError)
	fset.SetOutput(stderr)
	addr := fset.String("addr", "127.0.0.1:1313", "listen `address`")
	drafts := fset.Bool("drafts", true, "show draft posts (marked)")
	future := fset.Bool("future", true, "show future-dated posts (marked)")
	fset.Usage = func() {
		fmt.Fprintln(stderr, "usage: publishbot preview [--addr 127.0.0.1:1313] [--drafts=true] [--future=true] [DIR]")
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
		return usageError("preview: one content folder at most, got %q", positional)
	}
	dir := "."
	if len(positional) == 1 {
		dir = positional[0]
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return usageError("preview: %s is not a readable folder", dir)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("preview: listen: %w", err)
	}
	defer ln.Close()
	baseURL := "http://" + urlHost(ln.Addr()) + "/"

	watcher, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("preview: watch %s: %w", dir, err)
	}
	defer watcher.Close()
	if err := watchTree(watcher, dir); err != nil {
		return fmt.Errorf("preview: watch %s: %w", dir, err)
	}

	ps := newPreviewServer()
	rebuild := func() {
		b, err := loadAndRender(siteBuildOptions{Dir: dir, BaseURL: baseURL, Drafts: *drafts, Future: *future})
		if err != nil {
			fmt.Fprintf(stderr, "preview: %v (still serving the last good build)\n", err)
			ps.publish(nil, []string{err.Error() + " (still serving the last good build)"})
			return
		}
		errs, warns := writeDiagnosticsText(stderr, b.Site.Diagnostics)
		var problems []string
		for _, d := range b.Site.Diagnostics {
			if d.Severity == posts.SeverityError {
				problems = append(problems, textLine(d))
			}
		}
		v := ps.publish(b.Files, problems)
		fmt.Fprintf(stderr, "preview: build %d: %s in %.2fs, %s, %s\n", v, plural(len(b.Files), "file", "files"),
			(b.Load + b.Render).Seconds(), plural(errs, "error", "errors"), plural(warns, "warning", "warnings"))
	}
	rebuild()

	srv := &http.Server{
		Handler:           ps,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second, // the events stream lifts it for itself
		IdleTimeout:       60 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "serving %s at %s\n", dir, baseURL)

	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			ps.close()
			shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := srv.Shutdown(shutdownCtx); err != nil {
				return fmt.Errorf("preview: shut down: %w", err)
			}
			return nil
		case err := <-serveErr:
			ps.close()
			srv.Close()
			return fmt.Errorf("preview: serve: %w", err)
		case ev, ok := <-watcher.Events:
			if !ok {
				return errors.New("preview: file watcher stopped")
			}
			if ignoredPreviewPath(dir, ev.Name) {
				continue
			}
			if ev.Has(fsnotify.Create) {
				if fi, err := os.Lstat(ev.Name); err == nil && fi.IsDir() {
					if err := watchTree(watcher, ev.Name); err != nil {
						fmt.Fprintf(stderr, "preview: watch %s: %v\n", ev.Name, err)
					}
				}
			}
			timer.Reset(previewDebounce)
		case err, ok := <-watcher.Errors:
			if !ok {
				return errors.New("preview: file watcher stopped")
			}
			fmt.Fprintf(stderr, "preview: watch: %v\n", err)
		case <-timer.C:
			rebuild()
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

// ignoredPreviewPath says whether a change under dir cannot affect the site:
// version control, hidden folders and the default build output.
func ignoredPreviewPath(dir, name string) bool {
	rel, err := filepath.Rel(dir, name)
	if err != nil {
		return false
	}
	for _, part := range strings.Split(filepath.ToSlash(rel), "/") {
		if part == "public" || (strings.HasPrefix(part, ".") && part != "." && part != "..") {
			return true
		}
	}
	return false
}

// watchTree adds dir and every folder below it to w (fsnotify does not
// recurse), skipping ignored folders and never following symlinks.
func watchTree(w *fsnotify.Watcher, dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if p != dir && ignoredPreviewPath(dir, p) {
			return filepath.SkipDir
		}
		return w.Add(p)
	})
}

// previewServer serves the latest build from memory and tells open pages to
// reload when a new one is published. It is safe for concurrent use.
type previewServer struct {
	mu       sync.Mutex
	files    map[string][]byte
	problems []string // errors of the last build, shown on every page
	version  int
	changed  chan struct{} // closed when version moves on
	done     chan struct{} // closed on shutdown
	once     sync.Once
}

func newPreviewServer() *previewServer {
	return &previewServer{changed: make(chan struct{}), done: make(chan struct{})}
}

// publish replaces the served files (nil keeps the last ones) and the
// problems shown on every page, and returns the new version.
func (s *previewServer) publish(files map[string][]byte, problems []string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if files != nil {
		s.files = files
	}
	s.problems = problems
	s.version++
	close(s.changed)
	s.changed = make(chan struct{})
	return s.version
}

// close ends the event streams; it may be called more than once.
func (s *previewServer) close() { s.once.Do(func() { close(s.done) }) }

func (s *previewServer) current() (map[string][]byte, int, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.files, s.version, s.changed
}

func (s *previewServer) currentProblems() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.problems
}

func (s *previewServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if r.URL.Path == previewEvents {
		s.serveEvents(w, r)
		return
	}
	files, version, _ := s.current()
	p := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if strings.HasSuffix(r.URL.Path, "/") || p == "" {
		p = path.Join(p, "index.html")
	}
	data, ok := files[p]
	status := http.StatusOK
	if !ok {
		if _, isDir := files[p+"/index.html"]; isDir {
			http.Redirect(w, r, r.URL.Path+"/", http.StatusMovedPermanently)
			return
		}
		status = http.StatusNotFound
		p = "404.html"
		data, ok = files[p]
		if !ok {
			// no site yet: the first build failed
			status, data = http.StatusServiceUnavailable, []byte("<!doctype html><title>publishbot preview</title><body></body>")
		}
	}
	ctype := mime.TypeByExtension(path.Ext(p))
	switch {
	case path.Ext(p) == ".xml":
		ctype = "application/xml; charset=utf-8"
	case ctype == "":
		ctype = http.DetectContentType(data)
	}
	if strings.HasPrefix(ctype, "text/html") {
		data = injectLiveReload(data, version, s.currentProblems())
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(data)
	}
}

// injectLiveReload adds, before </body>, the build's problems (errors the
// author should see without looking at the terminal) and the live-reload
// script: it reloads the page when the server announces a version other
// than the page's. Only the preview has them; built sites carry no script.
func injectLiveReload(page []byte, version int, problems []string) []byte {
	var add bytes.Buffer
	if len(problems) > 0 {
		add.WriteString(`<aside role="alert" style="position:fixed;left:0;right:0;bottom:0;z-index:999;max-height:40vh;overflow:auto;` +
			`margin:0;padding:.75rem 1rem;background:#82071e;color:#fff;font:14px/1.45 ui-monospace,monospace">`)
		fmt.Fprintf(&add, "<strong>publishbot: %s</strong>", html.EscapeString(plural(len(problems), "problem", "problems")+" (the posts with errors are left out of the site)"))
		const most = 20
		for i, p := range problems {
			if i == most {
				fmt.Fprintf(&add, "<br>… and %d more in the terminal", len(problems)-most)
				break
			}
			add.WriteString("<br>" + html.EscapeString(p))
		}
		add.WriteString("</aside>")
	}
	fmt.Fprintf(&add, `<script>new EventSource(%q).onmessage=function(e){if(e.data!=="%d")location.reload()}</script>`, previewEvents, version)
	i := bytes.LastIndex(page, []byte("</body>"))
	if i < 0 {
		i = len(page)
	}
	out := make([]byte, 0, len(page)+add.Len())
	out = append(out, page[:i]...)
	out = append(out, add.Bytes()...)
	return append(out, page[i:]...)
}

// serveEvents streams the current build version now and on every change.
func (s *previewServer) serveEvents(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	// the stream lives as long as the page: lift the server's timeouts
	if err := errors.Join(rc.SetReadDeadline(time.Time{}), rc.SetWriteDeadline(time.Time{})); err != nil {
		http.Error(w, "streaming not supported", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	for {
		_, version, changed := s.current()
		if _, err := fmt.Fprintf(w, "data: %d\n\n", version); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
		select {
		case <-changed:
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		}
	}
}
