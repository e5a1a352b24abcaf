package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/publishbot/publishbot/preview"
)

// previewLineWriter sends each line written to it on a channel (dropping lines
// when nobody listens) and keeps everything for failure messages.
type previewLineWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	lines chan string
	part  string
}

func newPreviewLineWriter() *previewLineWriter {
	return &previewLineWriter{lines: make(chan string, 100)}
}

func (w *previewLineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	w.part += string(p)
	for {
		i := strings.IndexByte(w.part, '\n')
		if i < 0 {
			break
		}
		select {
		case w.lines <- w.part[:i]:
		default:
		}
		w.part = w.part[i+1:]
	}
	return len(p), nil
}

func (w *previewLineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestPreviewCommand runs `publishbot preview` on the example blog: it says
// where it serves, serves the built site with the live reload, keeps the
// resized photos in the data folder (for its next start) and stops when its
// context ends. Rebuilds are tested in package preview.
func TestPreviewCommand(t *testing.T) {
	content := copyContentTree(t, exampleBlogDir)
	data := t.TempDir()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stdout, stderr := newPreviewLineWriter(), newPreviewLineWriter()
	done := make(chan error, 1)
	getenv := func(k string) string {
		if k == "PUBLISHBOT_DATA_DIR" {
			return data
		}
		return ""
	}
	go func() {
		done <- run(ctx, []string{"preview", "--addr", "127.0.0.1:0", "--cache-dir", t.TempDir(), content}, getenv, stdout, stderr)
	}()

	var base string
	select {
	case line := <-stdout.lines:
		_, u, ok := strings.Cut(line, " at ")
		if !ok || !strings.HasPrefix(u, "http://127.0.0.1:") {
			t.Fatalf("unexpected first line %q", line)
		}
		base = strings.TrimSuffix(u, "/")
	case err := <-done:
		t.Fatalf("preview ended: %v\n%s", err, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("preview did not start\n%s", stderr.String())
	}

	resp, err := http.Get(base + "/posts/hello-world/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "<title>Hello, world") || !strings.Contains(string(body), preview.EventsPath) {
		t.Fatalf("GET post = %d\n%s", resp.StatusCode, body)
	}
	if !strings.Contains(stderr.String(), "preview: build 1: ") {
		t.Errorf("no build line on stderr:\n%s", stderr.String())
	}
	if kept, _ := os.ReadDir(filepath.Join(data, "images")); len(kept) == 0 {
		t.Error("the resized photos were not kept in the data folder")
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("preview: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("preview did not stop")
	}
}

func TestPreviewUsage(t *testing.T) {
	for _, args := range [][]string{{"a", "b"}, {"--nope"}, {t.TempDir() + "/missing"}} {
		code, _, stderr := runPublishbotCmd(t, append([]string{"preview", "--addr", "127.0.0.1:0"}, args...)...)
		if code != 2 {
			t.Errorf("preview %q: exit %d, want 2 (%s)", args, code, stderr)
		}
	}
}
