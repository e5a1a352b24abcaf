package preview

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/publishbot/publishbot/examples"
)

// previewEventStream reads "data:" lines from the live-reload stream.
type previewEventStream struct {
	t    *testing.T
	body io.ReadCloser
	sc   *bufio.Scanner
}

func openPreviewEvents(t *testing.T, base string) *previewEventStream {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+EventsPath, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("open events: %v", err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("events content type %q", ct)
	}
	return &previewEventStream{t: t, body: resp.Body, sc: bufio.NewScanner(resp.Body)}
}

// next returns the next event's data, failing the test after a deadline.
func (r *previewEventStream) next() string {
	r.t.Helper()
	got := make(chan string, 1)
	go func() {
		for r.sc.Scan() {
			if d, ok := strings.CutPrefix(r.sc.Text(), "data: "); ok {
				got <- d
				return
			}
		}
		got <- "<closed: " + strings.TrimSpace(previewErrString(r.sc.Err())) + ">"
	}()
	select {
	case d := <-got:
		return d
	case <-time.After(20 * time.Second):
		r.t.Fatal("no live-reload event within 20s")
		return ""
	}
}

func previewErrString(err error) string {
	if err == nil {
		return "EOF"
	}
	return err.Error()
}

func previewGet(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestPreviewServer(t *testing.T) {
	ps := newServer()
	ps.publish(map[string][]byte{
		"index.html":           []byte("<!doctype html><html><body><p>home</p></body></html>"),
		"posts/a/index.html":   []byte("<html><body>post a</body></html>"),
		"404.html":             []byte("<html><body>not here</body></html>"),
		"feed.xml":             []byte("<feed/>"),
		"assets/style.css":     []byte("body{}"),
		"2024/hugo-style.html": []byte("<html><body>an address without a slash</body></html>"),
		"releases/1.88.0.html": []byte("<html><body>an alias</body></html>"),
	}, nil)
	srv := httptest.NewServer(ps)
	defer srv.Close()
	defer ps.close()

	code, body, h := previewGet(t, srv.URL+"/")
	if code != 200 || !strings.Contains(body, "<p>home</p><script>new EventSource(\"/_publishbot/events\")") || !strings.HasSuffix(body, "</body></html>") {
		t.Errorf("GET / = %d %q", code, body)
	}
	if h.Get("Content-Type") != "text/html; charset=utf-8" || h.Get("Cache-Control") != "no-store" {
		t.Errorf("headers %v", h)
	}
	if code, _, h := previewGet(t, srv.URL+"/posts/a"); code != http.StatusMovedPermanently || h.Get("Location") != "/posts/a/" {
		t.Errorf("GET /posts/a = %d to %q, want a redirect to the folder", code, h.Get("Location"))
	}
	// GitHub Pages serves /x from x.html: so does the preview.
	for _, p := range []string{"/2024/hugo-style", "/releases/1.88.0", "/2024/hugo-style.html"} {
		if code, body, h := previewGet(t, srv.URL+p); code != 200 || !strings.Contains(body, "<body>an ") || h.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Errorf("GET %s = %d %q %v", p, code, body, h)
		}
	}
	if code, _, _ := previewGet(t, srv.URL+"/releases/1.88.0/"); code != 404 {
		t.Errorf("GET /releases/1.88.0/ = %d: no folder there", code)
	}
	if code, body, _ := previewGet(t, srv.URL+"/nope/"); code != 404 || !strings.Contains(body, "not here") {
		t.Errorf("GET /nope/ = %d %q", code, body)
	}
	if code, body, h := previewGet(t, srv.URL+"/assets/style.css"); code != 200 || body != "body{}" || !strings.HasPrefix(h.Get("Content-Type"), "text/css") {
		t.Errorf("GET css = %d %q %v", code, body, h)
	}
	if code, body, _ := previewGet(t, srv.URL+"/feed.xml"); code != 200 || body != "<feed/>" {
		t.Errorf("GET feed.xml = %d %q: no script in non-HTML", code, body)
	}
	if code, _, _ := previewGet(t, srv.URL+"/../../etc/passwd"); code != 404 {
		t.Errorf("traversal = %d", code)
	}
	resp, err := http.Post(srv.URL+"/", "text/plain", nil)
	if err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST = %v %v", resp.StatusCode, err)
	}

	ev := openPreviewEvents(t, srv.URL)
	if v := ev.next(); v != "1" {
		t.Fatalf("first event %q, want the current version 1", v)
	}
	ps.publish(map[string][]byte{"index.html": []byte("<html><body>two</body></html>")}, []string{"posts/x.md:2:1: error: title is required <b> [missing-title]"})
	if v := ev.next(); v != "2" {
		t.Fatalf("event after publish %q, want 2", v)
	}
	if _, body, _ := previewGet(t, srv.URL+"/"); !strings.Contains(body, "two") || !strings.Contains(body, `e.data!=="2"`) ||
		!strings.Contains(body, `<aside role="alert"`) || !strings.Contains(body, "posts/x.md:2:1: error: title is required &lt;b&gt; [missing-title]") {
		t.Errorf("after publish GET / = %q", body)
	}
	// a failed build keeps the files and shows why
	ps.publish(nil, []string{"parse template post.html: unexpected EOF"})
	if v := ev.next(); v != "3" {
		t.Fatalf("event after a failed build %q, want 3", v)
	}
	if _, body, _ := previewGet(t, srv.URL+"/"); !strings.Contains(body, "two") || !strings.Contains(body, "unexpected EOF") {
		t.Errorf("after a failed build GET / = %q", body)
	}
	empty := newServer()
	empty.publish(nil, []string{"load: no such folder"})
	rec := httptest.NewRecorder()
	empty.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "no such folder") {
		t.Errorf("no build yet: %d %q", rec.Code, rec.Body.String())
	}
}

// syncBuffer is a bytes.Buffer safe for the preview's writes and the
// test's reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestPreviewRebuildsAndReloads previews a copy of the example blog,
// changes a post and adds one, and sees the live-reload event and the new
// pages, with no sleeps: every wait is on an event. When the context ends,
// Run returns and leaves no goroutine behind.
func TestPreviewRebuildsAndReloads(t *testing.T) {
	// regexp2 (under chroma's highlighting) runs one clock goroutine for its
	// match timeouts; it is the library's own and stops by itself.
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(), goleak.IgnoreAnyFunction("github.com/dlclark/regexp2/v2.runClock"))
	content := filepath.Join(t.TempDir(), "content")
	if err := os.CopyFS(content, examples.Blog()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log := &syncBuffer{}
	p, err := New(ctx, ln, Options{Dir: content, Drafts: true, Future: true, Log: log})
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	base := strings.TrimSuffix(p.URL(), "/")
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("URL %q", p.URL())
	}

	code, body, _ := previewGet(t, base+"/posts/hello-world/")
	if code != 200 || !strings.Contains(body, "<title>Hello, world") || !strings.Contains(body, EventsPath) {
		t.Fatalf("GET post = %d\n%s", code, body)
	}
	if code, body, _ := previewGet(t, base+"/"); code != 200 || !strings.Contains(body, `href="/posts/`) {
		t.Errorf("index links are not relocated to the preview server: %d", code)
	}
	if code, body, _ := previewGet(t, base+"/"); code != 200 || !strings.Contains(body, "mark-draft") {
		t.Errorf("drafts are not shown: %d", code)
	}

	ev := openPreviewEvents(t, base)
	if v := ev.next(); v != "1" {
		t.Fatalf("first event %q", v)
	}

	file := filepath.Join(content, "posts", "2025-11-03-hello-world.md")
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(src), "title:", "title: Changed in preview —", 1)
	if changed == string(src) {
		t.Fatalf("no title line in %s", file)
	}
	if err := os.WriteFile(file, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	previewWaitFor(t, ev, base+"/posts/hello-world/", "Changed in preview —")

	// a new bundle folder: the watcher picks up folders made after start
	dir := filepath.Join(content, "posts", "2026-07-01-brand-new")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	post := "---\ntitle: Brand new post\ndate: 2026-07-01\n---\nWritten while the preview ran.\n"
	if err := os.WriteFile(filepath.Join(dir, "index.md"), []byte(post), 0o644); err != nil {
		t.Fatal(err)
	}
	previewWaitFor(t, ev, base+"/posts/brand-new/", "Written while the preview ran.")

	// a post with an error: every page says so, and the rest still serves
	broken := filepath.Join(content, "posts", "2026-07-02-untitled.md")
	if err := os.WriteFile(broken, []byte("---\ndate: 2026-07-02\n---\nNo title.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	previewWaitFor(t, ev, base+"/posts/brand-new/", "posts/2026-07-02-untitled.md:")
	if !strings.Contains(log.String(), "posts/2026-07-02-untitled.md:1:1: error: title is required") || !strings.Contains(log.String(), ", 1 error, ") {
		t.Errorf("the log does not report the error:\n%s", log.String())
	}

	// a template override that does not parse: the last good site stays
	if err := os.MkdirAll(filepath.Join(content, "templates"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(content, "templates", "index.html"), []byte(`{{define "main"}}{{.Nope`), 0o644); err != nil {
		t.Fatal(err)
	}
	previewWaitFor(t, ev, base+"/posts/brand-new/", "parse templates: ")

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("preview did not stop")
	}
	ev.body.Close()
}

// previewWaitFor waits for live-reload events until url shows want.
func previewWaitFor(t *testing.T, ev *previewEventStream, url, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		v := ev.next()
		if strings.HasPrefix(v, "<closed") {
			t.Fatalf("event stream closed: %s", v)
		}
		if _, body, _ := previewGet(t, url); strings.Contains(body, want) {
			return
		}
	}
	t.Fatalf("%s never showed %q", url, want)
}

// FuzzPreviewPath sends arbitrary request paths to the preview server: it
// answers 200, 301 or 404 and only ever with a file of the build.
func FuzzPreviewPath(f *testing.F) {
	for _, s := range []string{"/", "/posts/a", "/posts/a/", "/../../etc/passwd", "//x", "/%2e%2e/", "/a/./b/", "/_publishbot/eventsx", "/index.html/"} {
		f.Add(s)
	}
	ps := newServer()
	ps.publish(map[string][]byte{
		"index.html":         []byte("<html><body>home</body></html>"),
		"posts/a/index.html": []byte("<html><body>a</body></html>"),
		"404.html":           []byte("<html><body>missing</body></html>"),
	}, nil)
	f.Fuzz(func(t *testing.T, p string) {
		if strings.HasPrefix(p, EventsPath) {
			return // a stream, tested in TestPreviewServer
		}
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL.Path = p
		w := httptest.NewRecorder()
		ps.ServeHTTP(w, req)
		switch w.Code {
		case 200, 404:
			body := w.Body.String()
			if !strings.Contains(body, "home") && !strings.Contains(body, ">a<") && !strings.Contains(body, "missing") {
				t.Fatalf("path %q served %q", p, body)
			}
		case http.StatusMovedPermanently:
		default:
			t.Fatalf("path %q: status %d", p, w.Code)
		}
	})
}
