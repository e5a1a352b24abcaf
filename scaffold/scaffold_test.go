package scaffold

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/publishbot/publishbot/posts"
)

var now = time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)

func TestNewPostLoadsCleanly(t *testing.T) {
	titles := []string{"Hello, world", "Yes", "C# and C++: a comparison", `Quotes "inside" and \ slash`, "2026", "- dash first", "Ünïcödé 日本語"}
	for _, title := range titles {
		t.Run(title, func(t *testing.T) {
			for _, bundle := range []bool{false, true} {
				dir := t.TempDir()
				rel, err := NewPost(dir, "posts", title, PostOptions{Now: now, Bundle: bundle})
				if err != nil {
					t.Fatal(err)
				}
				if bundle != strings.HasSuffix(rel, "/index.md") || !strings.HasPrefix(rel, "posts/2026-12-01-") {
					t.Fatalf("wrote %s", rel)
				}
				checkLoads(t, dir, title)
			}
		})
	}
}

func checkLoads(t *testing.T, dir, title string) {
	t.Helper()
	site, err := posts.Load(context.Background(), os.DirFS(dir), posts.Options{Now: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range site.Diagnostics {
		if d.Severity == posts.SeverityError {
			t.Errorf("new post has an error: %s", d)
		}
	}
	if len(site.Posts) != 1 {
		t.Fatalf("%d posts loaded", len(site.Posts))
	}
	if site.Posts[0].Title != strings.TrimSpace(title) {
		t.Fatalf("title = %q, want %q", site.Posts[0].Title, title)
	}
}

func TestNewPostRefusesToOverwrite(t *testing.T) {
	dir := t.TempDir()
	rel, err := NewPost(dir, "posts", "Same", PostOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, rel), []byte("mine"), 0o644)
	if _, err := NewPost(dir, "posts", "Same", PostOptions{Now: now}); !errors.Is(err, ErrExists) {
		t.Fatalf("err = %v, want ErrExists", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, rel)); string(b) != "mine" {
		t.Fatal("an existing post was overwritten")
	}
}

func TestNewPostBadTitles(t *testing.T) {
	for _, title := range []string{"", "   ", "!!!", strings.Repeat("a", 400)} {
		if _, err := NewPost(t.TempDir(), "posts", title, PostOptions{Now: now}); err == nil {
			t.Errorf("title %q accepted", title)
		}
	}
}

func TestIgnorePublicKeepsExistingLines(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ".gitignore"), []byte("_site\n/public"), 0o644)
	added, err := IgnorePublic(dir)
	if err != nil || added {
		t.Fatalf("added=%v err=%v, want no change when /public is ignored", added, err)
	}
	os.WriteFile(filepath.Join(dir, ".gitignore"), []byte("_site"), 0o644)
	if added, err := IgnorePublic(dir); err != nil || !added {
		t.Fatalf("added=%v err=%v", added, err)
	}
	gi, _ := os.ReadFile(filepath.Join(dir, ".gitignore"))
	if string(gi) != "_site\npublic/\n" {
		t.Fatalf(".gitignore = %q", gi)
	}
}
