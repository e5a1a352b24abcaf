package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// sseReader reads "data:" lines from the live-reload stream.
type sseReader struct {
	t    *testing.T
	body io.ReadCloser
	sc   *bufio.Scanner
}

func openEvents(t *testing.T, base string) *sseReader {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+previewEvents, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("open events: %v", err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("events content type %q", ct)
	}
	return &sseReader{t: t, body: resp.Body, sc: bufio.NewScanner(resp.Body)}
}

// next returns the next event's data, failing the test after a deadline.
func (r *sseReader) next() string {
	r.t.Helper()
	got := make(chan string, 1)
	go func() {
		for r.sc.Scan() {
			if d, ok := strings.CutPrefix(r.sc.Text(), "data: "); ok {
				got <- d
				return
			}
		}
		got <- "<closed: " + strings.TrimSpace(errString(r.sc.Err())) + ">"
	}()
	select {
	case d := <-got:
		return d
	case <-time.After(20 * time.Second):
		r.t.Fatal("no live-reload event within 20s")
		return ""
	}
}

func errString(err error) string {
	if err == nil {
		return "EOF"
	}
	return err.Error()
}

func get(t *testing.T, url string) (int, string, http.Header) {
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
	ps := newPreviewServer()
	ps.publish(map[string][]byte{
		"index.html":         []byte("<!doctype html><html><body><p>home</p></body></html>"),
		"posts/a/index.html": []byte("<html><body>post a</body></html>"),
		"404.html":           []byte("<html><body>not here</body></html>"),
		"feed.xml":           []byte("<feed/>"),
		"assets/style.css":   []byte("body{}"),
	})
	srv := httptest.NewServer(ps)
	defer srv.Close()
	defer ps.close()

	code, body, h := get(t, srv.URL+"/")
	if code != 200 || !strings.Contains(body, "<p>home</p><script>new EventSource(\"/_publishbot/events\")") || !strings.HasSuffix(body, "</body></html>") {
		t.Errorf("GET / = %d %q", code, body)
	}
	if h.Get("Content-Type") != "text/html; charset=utf-8" || h.Get("Cache-Control") != "no-store" {
		t.Errorf("headers %v", h)
	}
	if code, _, h := get(t, srv.URL+"/posts/a"); code != http.StatusMovedPermanently || h.Get("Location") != "/posts/a/" {
		t.Errorf("GET /posts/a = %d to %q, want a redirect to the folder", code, h.Get("Location"))
	}
	if code, body, _ := get(t, srv.URL+"/nope/"); code != 404 || !strings.Contains(body, "not here") {
		t.Errorf("GET /nope/ = %d %q", code, body)
	}
	if code, body, h := get(t, srv.URL+"/assets/style.css"); code != 200 || body != "body{}" || !strings.HasPrefix(h.Get("Content-Type"), "text/css") {
		t.Errorf("GET css = %d %q %v", code, body, h)
	}
	if code, body, _ := get(t, srv.URL+"/feed.xml"); code != 200 || body != "<feed/>" {
		t.Errorf("GET feed.xml = %d %q: no script in non-HTML", code, body)
	}
	if code, _, _ := get(t, srv.URL+"/../../etc/passwd"); code != 404 {
		t.Errorf("traversal = %d", code)
	}
	resp, err := http.Post(srv.URL+"/", "text/plain", nil)
	if err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST = %v %v", resp.StatusCode, err)
	}

	ev := openEvents(t, srv.URL)
	if v := ev.next(); v != "1" {
		t.Fatalf("first event %q, want the current version 1", v)
	}
	ps.publish(map[string][]byte{"index.html": []byte("<html><body>two</body></html>")})
	if v := ev.next(); v != "2" {
		t.Fatalf("event after publish %q, want 2", v)
	}
	if _, body, _ := get(t, srv.URL+"/"); !strings.Contains(body, "two") || !strings.Contains(body, `e.data!=="2"`) {
		t.Errorf("after publish GET / = %q", body)
	}
}
