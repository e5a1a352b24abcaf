package preview

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

// EventsPath is the server-sent events endpoint of the live reload: it
// sends the current build's version now and on every new build.
const EventsPath = "/_publishbot/events"

// server serves the latest build from memory and tells open pages to
// reload when a new one is published. It is safe for concurrent use.
type server struct {
	mu       sync.Mutex
	files    map[string][]byte
	problems []string // errors of the last build, shown on every page
	version  int
	changed  chan struct{} // closed when version moves on
	done     chan struct{} // closed on shutdown
	once     sync.Once
}

func newServer() *server {
	return &server{changed: make(chan struct{}), done: make(chan struct{})}
}

// publish replaces the served files (nil keeps the last ones) and the
// problems shown on every page, and returns the new version.
func (s *server) publish(files map[string][]byte, problems []string) int {
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
func (s *server) close() { s.once.Do(func() { close(s.done) }) }

func (s *server) current() (map[string][]byte, int, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.files, s.version, s.changed
}

func (s *server) currentProblems() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.problems
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if r.URL.Path == EventsPath {
		s.serveEvents(w, r)
		return
	}
	files, version, _ := s.current()
	p := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if strings.HasSuffix(r.URL.Path, "/") || p == "" {
		p = path.Join(p, "index.html")
	}
	data, ok := files[p]
	if !ok && !strings.HasSuffix(p, "/index.html") {
		// GitHub Pages serves /x from x.html: the address of a post whose
		// permalink ends in neither / nor .html (Hugo's /:year/:slug).
		if html, isPage := files[p+".html"]; isPage {
			p, data, ok = p+".html", html, true
		}
	}
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
	fmt.Fprintf(&add, `<script>new EventSource(%q).onmessage=function(e){if(e.data!=="%d")location.reload()}</script>`, EventsPath, version)
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
func (s *server) serveEvents(w http.ResponseWriter, r *http.Request) {
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
