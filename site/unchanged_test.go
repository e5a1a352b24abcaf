package site

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/publishbot/publishbot/templates"
)

func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestUnchanged: a folder build is trusted again only while nothing it
// read changed.
func TestUnchanged(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name   string
		change func(t *testing.T, dir, out string, opts *Options, now *time.Time)
	}{
		{"post edited", func(t *testing.T, dir, _ string, _ *Options, _ *time.Time) {
			writeTree(t, dir, map[string]string{"posts/2026-01-01-a.md": "---\ntitle: A, edited\n---\n\nText.\n"})
		}},
		{"post added", func(t *testing.T, dir, _ string, _ *Options, _ *time.Time) {
			writeTree(t, dir, map[string]string{"posts/2026-01-03-c.md": "---\ntitle: C\n---\n\nText.\n"})
		}},
		{"post deleted", func(t *testing.T, dir, _ string, _ *Options, _ *time.Time) {
			os.Remove(filepath.Join(dir, "posts", "2026-01-01-a.md"))
		}},
		{"template override added", func(t *testing.T, dir, _ string, _ *Options, _ *time.Time) {
			writeTree(t, dir, map[string]string{"templates/footer.html": "<p>mine</p>"})
		}},
		{"scheduled post due", func(t *testing.T, _, _ string, _ *Options, now *time.Time) { *now = now.Add(30 * 24 * time.Hour) }},
		{"other options", func(t *testing.T, _, _ string, opts *Options, _ *time.Time) {
			opts.Render = templates.Options{Drafts: true}
		}},
		{"another build into the output", func(t *testing.T, _, out string, _ *Options, _ *time.Time) {
			if _, _, err := Write(t.Context(), out, map[string][]byte{"index.html": []byte("x")}); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir, out := t.TempDir(), filepath.Join(t.TempDir(), "public")
			writeTree(t, dir, map[string]string{
				"publish.yaml":          "title: T\nbase_url: https://acme.github.io/t/\n",
				"posts/2026-01-01-a.md": "---\ntitle: A\n---\n\nText.\n",
				"posts/2026-01-02-b.md": "---\ntitle: B\n---\n\nText.\n",
				"posts/2026-06-20-f.md": "---\ntitle: Future\n---\n\nLater.\n",
			})
			store := openCache(t, t.TempDir(), "test")
			opts := Options{Now: now}
			build := func(now time.Time) {
				content, err := ContentFingerprint(dir, out)
				if err != nil {
					t.Fatal(err)
				}
				opts.Now = now
				b, err := BuildDir(t.Context(), dir, opts)
				if err != nil {
					t.Fatal(err)
				}
				if _, _, err := Write(t.Context(), out, b.Files); err != nil {
					t.Fatal(err)
				}
				if err := RememberUnchanged(store, dir, out, opts, content, b, now); err != nil {
					t.Fatal(err)
				}
			}
			if _, ok := CheckUnchanged(store, dir, out, opts, now); ok {
				t.Fatal("trusted before any build")
			}
			build(now)
			u, ok := CheckUnchanged(store, dir, out, opts, now.Add(time.Hour))
			if !ok {
				t.Fatal("not trusted right after the build")
			}
			if u.Posts != 2 || u.Files == 0 || !u.NextChange.Equal(time.Date(2026, 6, 20, 0, 0, 0, 0, time.UTC)) {
				t.Errorf("record: %+v", u)
			}
			later := now
			c.change(t, dir, out, &opts, &later)
			if _, ok := CheckUnchanged(store, dir, out, opts, later); ok {
				t.Error("trusted after the change")
			}
			build(later)
			if _, ok := CheckUnchanged(store, dir, out, opts, later); !ok {
				t.Error("not trusted after building the change")
			}
		})
	}
}
