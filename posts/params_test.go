package posts

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestConfigParams(t *testing.T) {
	cfg, ds := LoadConfig(fstest.MapFS{ConfigFile: {Data: []byte("title: T\nparams:\n  repository: https://github.com/jekyll/jekyll\n  show: true\n  list: [a, b]\n  nested: {x: 1}\n")}}, "")
	if HasErrors(ds) {
		t.Fatalf("diagnostics: %v", ds)
	}
	if cfg.Params["repository"] != "https://github.com/jekyll/jekyll" || cfg.Params["show"] != true || !cfg.Has("params") {
		t.Fatalf("params = %#v", cfg.Params)
	}
	if l, _ := cfg.Params["list"].([]any); len(l) != 2 {
		t.Fatalf("list = %#v", cfg.Params["list"])
	}
	_, ds = LoadConfig(fstest.MapFS{ConfigFile: {Data: []byte("title: T\nparams: [a]\n")}}, "")
	if !HasErrors(ds) || !strings.Contains(ds[0].Message, "params: must be a mapping") || ds[0].Line != 2 {
		t.Fatalf("diagnostics: %v", ds)
	}
}

// A Zola page that only names its own template (the Rust blog's
// releases/latest.md) is left out with one warning, not two errors.
func TestTemplateOnlyPageIsLeftOut(t *testing.T) {
	site, err := Load(t.Context(), fstest.MapFS{
		ConfigFile:                   {Data: []byte("title: T\nposts_dir: content\npermalink: /:path/\n")},
		"content/releases/latest.md": {Data: []byte("+++\ntemplate = \"latest.html\"\n+++\n")},
		"content/a.md":               {Data: []byte("+++\ntitle = \"A\"\npath = \"2024/01/02/a\"\n+++\nHi.\n")},
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if HasErrors(site.Diagnostics) {
		t.Fatalf("errors: %v", site.Diagnostics)
	}
	if len(site.Posts) != 1 || site.Posts[0].Title != "A" {
		t.Fatalf("posts: %d", len(site.Posts))
	}
	found := false
	for _, d := range site.Diagnostics {
		if d.File == "content/releases/latest.md" {
			if d.Code != CodeNotCarried || d.Line != 2 || !strings.Contains(d.Message, `"latest.html"`) {
				t.Errorf("diagnostic %s", d)
			}
			found = true
		}
	}
	if !found {
		t.Fatal("no warning for the template-only page")
	}
}

// Zola's [extra] and Hugo's params are the author's own variables: kept
// for theme overrides and {{ page.extra.* }}, without a warning each; a
// scalar in their place is still told.
func TestOwnParamsOfPosts(t *testing.T) {
	site, err := Load(t.Context(), fstest.MapFS{
		ConfigFile:                   {Data: []byte("title: T\n")},
		"posts/2026-01-01-zola.md":   {Data: []byte("+++\ntitle = \"Z\"\n[extra]\nseries = \"intro\"\npart = 2\n+++\nHi.\n")},
		"posts/2026-01-02-hugo.md":   {Data: []byte("---\ntitle: H\nparams:\n  mood: calm\n---\nHi.\n")},
		"posts/2026-01-03-scalar.md": {Data: []byte("---\ntitle: S\nextra: nothing\n---\nHi.\n")},
		"posts/_index.md":            {Data: []byte("+++\ntitle = \"Blog\"\n[extra]\nx = 1\n+++\n")},
		"pages/about.md":             {Data: []byte("---\ntitle: About\nextra: {team: core}\n---\nUs.\n")},
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	byTitle := map[string]*Post{}
	for _, p := range site.Posts {
		byTitle[p.Title] = p
	}
	if z := byTitle["Z"]; z == nil || z.Params["series"] != "intro" || z.Params["part"] == nil {
		t.Errorf("extra of a Zola post: %#v", z)
	}
	if h := byTitle["H"]; h == nil || h.Params["mood"] != "calm" {
		t.Errorf("params of a Hugo post: %#v", h)
	}
	warned := 0
	for _, d := range site.Diagnostics {
		if d.Code == CodeUnknownField {
			if d.File != "posts/2026-01-03-scalar.md" || !strings.Contains(d.Message, "must be a mapping") {
				t.Errorf("unexpected %s", d)
			}
			warned++
		}
	}
	if warned != 1 {
		t.Errorf("%d unknown-field warnings, want 1 (the scalar extra)", warned)
	}
}
