package publisher

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"github.com/publishbot/publishbot/internal/corpusgen"
	"github.com/publishbot/publishbot/posts"
)

// TestOldTitlesOfTheChangedPostsAlone: a post loaded from the base branch
// with only itself shown (how a preview finds the old titles of the posts
// a pull request changes) has the title it has in the whole site — for
// every post of the real corpora: the Rust blog (Zola front matter,
// bundles, sections) and Jekyll's news (no publish.yaml, posts at the
// root).
func TestOldTitlesOfTheChangedPostsAlone(t *testing.T) {
	zola, err := corpusgen.Files(filepath.Join("..", "..", "shared", "testdata", "corpus", "zola-rust-blog"), 700)
	if err != nil {
		t.Fatal(err)
	}
	jekyllDir := filepath.Join("..", "..", "shared", "testdata", "corpus", "jekyll")
	ents, err := os.ReadDir(jekyllDir)
	if err != nil {
		t.Fatal(err)
	}
	jekyll := map[string][]byte{}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(jekyllDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		jekyll[e.Name()] = b
	}
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for name, files := range map[string]map[string][]byte{"zola": zola, "jekyll": jekyll} {
		t.Run(name, func(t *testing.T) {
			tree := fstest.MapFS{}
			for p, b := range files {
				tree[p] = &fstest.MapFile{Data: b}
			}
			whole, err := posts.Load(t.Context(), tree, posts.Options{Now: now, Repo: testRepo})
			if err != nil {
				t.Fatal(err)
			}
			cfg := whole.Config // as the build resolved it (Jekyll's _posts/ or root)
			if len(whole.Posts) < 100 {
				t.Fatalf("%d posts", len(whole.Posts))
			}
			for _, p := range whole.Posts {
				alone, err := posts.Load(t.Context(), newOnlyFiles(tree, []string{p.Path}), posts.Options{Config: &cfg, Now: now, Repo: testRepo})
				if err != nil {
					t.Fatal(err)
				}
				if len(alone.Posts) != 1 || alone.Posts[0].Path != p.Path || alone.Posts[0].Title != p.Title {
					t.Fatalf("%s alone: %d posts, want %q", p.Path, len(alone.Posts), p.Title)
				}
			}
		})
	}
}

// TestOnlyFilesShowsNothingElse: the files not asked for, and the folders
// above none of them, are not there for any way of reading.
func TestOnlyFilesShowsNothingElse(t *testing.T) {
	tree := fstest.MapFS{
		"posts/a.md":            {Data: []byte("a")},
		"posts/b.md":            {Data: []byte("b")},
		"posts/bundle/index.md": {Data: []byte("i")},
		"posts/bundle/pic.png":  {Data: []byte("p")},
		"static/x.css":          {Data: []byte("x")},
	}
	o := newOnlyFiles(tree, []string{"posts/a.md", "posts/bundle/index.md", "posts/missing.md", "../x", "posts"})
	for _, name := range []string{"posts/b.md", "posts/bundle/pic.png", "static/x.css", "static", "posts/missing.md"} {
		if _, err := fs.Stat(o, name); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("stat %s: %v", name, err)
		}
		if _, err := fs.ReadFile(o, name); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("read %s: %v", name, err)
		}
		if _, err := o.Open(name); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("open %s: %v", name, err)
		}
	}
	var seen []string
	if err := fs.WalkDir(o, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		seen = append(seen, p)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{".", "posts", "posts/a.md", "posts/bundle", "posts/bundle/index.md"}
	if len(seen) != len(want) {
		t.Fatalf("walked %q, want %q", seen, want)
	}
	for i := range want {
		if seen[i] != want[i] {
			t.Fatalf("walked %q, want %q", seen, want)
		}
	}
	if b, err := fs.ReadFile(o, "posts/a.md"); err != nil || string(b) != "a" {
		t.Errorf("a shown file: %q %v", b, err)
	}
}
