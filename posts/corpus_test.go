package posts

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// sharedTestdata is ../shared/testdata beside the module root.
func sharedTestdata(t testing.TB, rel string) string {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", "testdata", rel)
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("shared test data missing: %v", err)
		}
		t.Skipf("shared test data missing: %v", err)
	}
	return dir
}

func formatDiags(ds []Diagnostic) string {
	var b strings.Builder
	for _, d := range ds {
		fmt.Fprintf(&b, "%s:%d:%d: %s: %s [%s]\n", d.File, d.Line, d.Column, d.Severity, d.Message, d.Code)
	}
	return b.String()
}

// TestJekyllCorpus loads the 102 real Jekyll posts: no publish.yaml, posts
// at the root. The full diagnostic list is a golden file; the problems the
// corpus is known for are asserted one by one.
func TestJekyllCorpus(t *testing.T) {
	dir := sharedTestdata(t, "corpus/jekyll")
	s := load(t, os.DirFS(dir), Options{})
	golden(t, "jekyll.diagnostics", formatDiags(s.Diagnostics))

	find := func(file, code string) []Diagnostic {
		var out []Diagnostic
		for _, d := range s.Diagnostics {
			if d.File == file && d.Code == code {
				out = append(out, d)
			}
		}
		return out
	}
	// Jekyll reads the malformed date; publishbot takes the file name's,
	// the same day, and says so.
	if d := find("2023-01-29-jekyll-3-9-3-released.markdown", CodeDateFallback); len(d) != 1 || d[0].Line != 3 || d[0].Column != 7 || d[0].Severity != SeverityWarning {
		t.Errorf("malformed date: %v", d)
	}
	if d := find("2018-03-14-development-update.md", CodeDateMismatch); len(d) != 1 || d[0].Line != 3 || d[0].Severity != SeverityWarning {
		t.Errorf("date mismatch: %v", d)
	}
	if d := find(ConfigFile, CodeConfigMissing); len(d) != 1 {
		t.Errorf("missing config warning: %v", d)
	}
	var errs []Diagnostic
	for _, d := range s.Diagnostics {
		if d.Severity == SeverityError {
			errs = append(errs, d)
		}
	}
	if len(errs) != 0 {
		t.Errorf("want no error, got %v", errs)
	}
	if len(s.Posts) != 102 {
		t.Errorf("%d posts, want 102", len(s.Posts))
	}
	for file, day := range map[string]string{
		"2014-05-06-jekyll-turns-2-0-0.markdown":                 "2014-05-06",
		"2016-03-10-making-it-easier-to-contribute-to-jekyll.md": "2016-03-10",
		"2020-08-05-jekyll-3-9-0-released.markdown":              "2020-08-05",
	} {
		var p *Post
		for _, q := range s.Posts {
			if q.Path == file {
				p = q
			}
		}
		if p == nil || p.Date.Format("2006-01-02") != day {
			t.Errorf("%s: post %v", file, p)
		}
		for _, d := range s.Diagnostics {
			// The links to jekyllrb.com's /docs/ go nowhere on a site of
			// the posts alone.
			if d.File == file && d.Code != CodeUnknownField && d.Code != CodeLiquid && !(d.Code == CodeBrokenLink && strings.Contains(d.Message, "/docs/")) {
				t.Errorf("%s: unexpected %v", file, d)
			}
		}
	}
	for i := 1; i < len(s.Posts); i++ {
		if s.Posts[i].Date.After(s.Posts[i-1].Date) {
			t.Fatalf("posts not newest first at %d", i)
		}
	}
	first := s.Posts[len(s.Posts)-1]
	if first.Slug != "jekyll-1-0-0-released" || first.Date.Format(time.RFC3339) != "2013-05-06T00:12:52Z" || first.Author != "parkr" {
		t.Errorf("oldest post: %+v", first)
	}
}

func TestExampleBlog(t *testing.T) {
	s := load(t, os.DirFS(filepath.Join("..", "examples", "blog")), Options{Now: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)})
	if len(s.Diagnostics) != 0 {
		t.Errorf("the example blog must check clean:\n%s", formatDiags(s.Diagnostics))
	}
	if s.Config.Title != "Acme Engineering" || s.Config.BasePath() != "/blog/" || s.Config.PerPage != 4 || s.Config.Location.String() != "Europe/Berlin" {
		t.Errorf("config %+v", s.Config)
	}
	if len(s.Posts) < 10 {
		t.Errorf("%d posts", len(s.Posts))
	}
	var drafts, future, featured, withImage, withAliases int
	fields := map[string]bool{}
	for _, p := range s.Posts {
		if p.Draft {
			drafts++
		}
		if p.Future {
			future++
		}
		if p.Featured {
			featured++
		}
		if p.Image != "" {
			withImage++
		}
		if len(p.Aliases) > 0 {
			withAliases++
		}
	}
	if drafts != 1 || future != 1 || featured != 1 || withImage != 2 || withAliases != 2 {
		t.Errorf("drafts %d future %d featured %d image %d aliases %d", drafts, future, featured, withImage, withAliases)
	}
	// Every front matter field is used somewhere.
	err := fs.WalkDir(os.DirFS(filepath.Join("..", "examples", "blog")), "posts", func(p string, d fs.DirEntry, err error) error {
		if err != nil || !strings.HasSuffix(p, ".md") {
			return err
		}
		data, err := fs.ReadFile(os.DirFS(filepath.Join("..", "examples", "blog")), p)
		for _, f := range knownFields {
			if strings.Contains(string(data), "\n"+f+":") || strings.Contains(string(data), "\n"+f+" =") {
				fields[f] = true
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range knownFields {
		switch f {
		case "permalink", "url", "path", "math":
			// The example keeps the default addresses and has no math
			// (math_test.go covers it): its built site is the reference
			// output that stays byte for byte the same.
			continue
		}
		if !fields[f] {
			t.Errorf("no example post uses %q", f)
		}
	}
}

func TestPostsDirFallbacks(t *testing.T) {
	post := "---\ntitle: P\n---\n"
	cases := []struct {
		name     string
		files    map[string]string
		postsDir string
		paths    string
	}{
		{"posts folder", map[string]string{"posts/2026-01-01-a.md": post, "README.md": "# readme"}, "posts", "posts/2026-01-01-a.md"},
		{"Jekyll _posts", map[string]string{"_posts/2026-01-01-a.md": post, "index.md": "x"}, "_posts", "_posts/2026-01-01-a.md"},
		{"root", map[string]string{"2026-01-01-a.md": post, "README.md": "# readme", "sub/2026-01-02-b.md": post}, ".", "2026-01-01-a.md"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := fstest.MapFS{}
			for k, v := range c.files {
				m[k] = &fstest.MapFile{Data: []byte(v)}
			}
			s := load(t, m, Options{})
			var paths []string
			for _, p := range s.Posts {
				paths = append(paths, p.Path)
			}
			if s.Config.PostsDir != c.postsDir || strings.Join(paths, " ") != c.paths {
				t.Errorf("posts dir %q, posts %q; diagnostics %v", s.Config.PostsDir, paths, s.Diagnostics)
			}
		})
	}
}

func TestSymlinksAreNeverFollowed(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(t.TempDir(), "secret.md")
	if err := os.WriteFile(secret, []byte("---\ntitle: Secret\ndate: 2026-01-01\n---\nTOP SECRET\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "posts", "b"), 0o755))
	must(os.MkdirAll(filepath.Join(dir, "static"), 0o755))
	must(os.WriteFile(filepath.Join(dir, ConfigFile), []byte(testConfig), 0o644))
	must(os.WriteFile(filepath.Join(dir, "posts", "b", "index.md"), []byte("---\ntitle: B\ndate: 2026-01-01\n---\n![x](leak.png)\n"), 0o644))
	must(os.Symlink(secret, filepath.Join(dir, "posts", "link.md")))
	must(os.Symlink(secret, filepath.Join(dir, "posts", "b", "leak.png")))
	must(os.Symlink(filepath.Dir(secret), filepath.Join(dir, "static", "dir")))
	s := load(t, os.DirFS(dir), Options{})
	got := diagKeys(s.Diagnostics)
	want := []string{"posts/b/index.md:5:6 missing-image", "posts/b/leak.png:0:0 symlink", "posts/link.md:0:0 symlink", "static/dir:0:0 symlink"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q\nwant %q", got, want)
	}
	for _, p := range s.Posts {
		if strings.Contains(p.HTML(), "SECRET") {
			t.Error("a symlink was followed")
		}
	}
	if len(s.Assets) != 0 {
		t.Errorf("assets %v", s.Assets)
	}

	// publish.yaml as a link: the config is not read.
	dir2 := t.TempDir()
	must(os.WriteFile(filepath.Join(dir2, "real.yaml"), []byte("title: Linked\n"), 0o644))
	must(os.Symlink(filepath.Join(dir2, "real.yaml"), filepath.Join(dir2, ConfigFile)))
	cfg, ds := LoadConfig(os.DirFS(dir2), "")
	if cfg.Title == "Linked" || len(ds) != 1 || ds[0].Code != CodeSymlink {
		t.Errorf("config %q, %v", cfg.Title, ds)
	}

	// fstest.MapFS can hold symlink entries too: they are reported, not read.
	m := mapFS(map[string]string{})
	m["posts/l.md"] = &fstest.MapFile{Data: []byte("---\ntitle: L\ndate: 2026-01-01\n---\n"), Mode: fs.ModeSymlink}
	m["static/fifo"] = &fstest.MapFile{Mode: fs.ModeNamedPipe}
	s = load(t, m, Options{})
	if got := diagKeys(s.Diagnostics); strings.Join(got, " ") != "posts/l.md:0:0 symlink static/fifo:0:0 special-file" || len(s.Posts) != 0 || len(s.Assets) != 0 {
		t.Errorf("MapFS symlink and pipe: %q", got)
	}
}

func TestLoadConfig(t *testing.T) {
	cases := []struct {
		name  string
		yaml  string
		repo  string
		check func(Config) bool
		diags []string
	}{
		{"defaults from the repository", "title: T\n", "acme/blog", func(c Config) bool {
			return c.BaseURL == "https://acme.github.io/blog/" && c.Heading == "Writing" && c.PerPage == 8 && c.PostsDir == "posts" &&
				c.PagesBranch == "gh-pages" && c.Previews && c.Timezone == "UTC" && c.Language == "en" && c.Location == time.UTC
		}, nil},
		{"user site", "title: T\n", "Acme/acme.github.io", func(c Config) bool { return c.BaseURL == "https://acme.github.io/" && c.BasePath() == "/" }, nil},
		{"no repository", "title: T\n", "", func(c Config) bool { return c.BaseURL == "/" && c.BasePath() == "/" }, nil},
		{"every key", "title: T\nheading: H\ndescription: D\nbase_url: https://blog.example.com/x\nauthor: A\nlanguage: pt-BR\nper_page: 3\n" +
			"posts_dir: content/posts/\nsource_branch: main\npages_branch: pages\npopular: [a, b]\ncname: Blog.Example.com\npreviews: false\n" +
			"timezone: Asia/Tokyo\nback_url: https://example.com/\nunsafe_html: true\n", "", func(c Config) bool {
			return c.Title == "T" && c.Heading == "H" && c.Description == "D" && c.BaseURL == "https://blog.example.com/x/" && c.Author == "A" &&
				c.Language == "pt-BR" && c.PerPage == 3 && c.PostsDir == "content/posts" && c.SourceBranch == "main" && c.PagesBranch == "pages" &&
				len(c.Popular) == 2 && c.CNAME == "blog.example.com" && !c.Previews && c.Location.String() == "Asia/Tokyo" &&
				c.BackURL == "https://example.com/" && c.UnsafeHTML
		}, nil},
		{"bad values", "title: T\nbase_url: ftp://x\nper_page: 0\ntimezone: Mars/Base\nlanguage: \"!!\"\nposts_dir: ../up\npreviews: maybe\ncname: \"not a host\"\n", "", func(c Config) bool {
			return c.BaseURL == "/" && c.PerPage == 8 && c.Timezone == "UTC" && c.PostsDir == "posts"
		}, []string{"publish.yaml:2:11 config-invalid", "publish.yaml:3:11 config-invalid", "publish.yaml:4:11 config-invalid",
			"publish.yaml:5:11 config-invalid", "publish.yaml:6:12 config-invalid", "publish.yaml:7:11 config-invalid", "publish.yaml:8:8 config-invalid"}},
		{"missing title, unknown key", "titel: T\n", "", func(c Config) bool { return true },
			[]string{"publish.yaml:1:1 unknown-field", "publish.yaml:1:1 missing-title"}},
		{"syntax error", "title: [T\n", "", func(c Config) bool { return true }, []string{"publish.yaml:1:1 config-syntax"}},
		{"alias bomb", aliasBombYAML(9), "", func(c Config) bool { return true }, []string{"publish.yaml:1:1 yaml-alias-bomb"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, ds := LoadConfig(fstest.MapFS{ConfigFile: {Data: []byte(c.yaml)}}, c.repo)
			if !c.check(cfg) {
				t.Errorf("config %+v", cfg)
			}
			if got := diagKeys(ds); strings.Join(got, " ") != strings.Join(c.diags, " ") {
				t.Errorf("diagnostics %q, want %q: %v", got, c.diags, ds)
			}
		})
	}
	_, ds := LoadConfig(fstest.MapFS{ConfigFile: {Data: []byte("title: x\n" + strings.Repeat("#", MaxFileSize))}}, "")
	if got := diagKeys(ds); len(got) != 1 || got[0] != "publish.yaml:0:0 file-too-large" {
		t.Errorf("oversized config: %q", got)
	}
	cfg, ds := LoadConfig(fstest.MapFS{}, "acme/blog")
	if len(ds) != 1 || ds[0].Code != CodeConfigMissing || ds[0].Severity != SeverityWarning || cfg.Title != "blog" {
		t.Errorf("missing config: %+v %v", cfg, ds)
	}
}

func TestTagSlug(t *testing.T) {
	for in, want := range map[string]string{
		"Go": "go", "Hello World": "hello-world", "  spaced  out ": "spaced-out", "C++": "c-plus-plus", "C#": "c-sharp",
		"Café": "café", "ÜBER": "über", "東京": "東京", "don't": "dont", "a/b_c": "a-b-c", "!!": "", "v1.2.3": "v1-2-3",
		"Ελληνικά": "ελληνικά", "--x--": "x", "#go": "go", "rock + roll": "rock-roll", "F#/.NET": "f-sharp-net",
	} {
		if got := TagSlug(in); got != want {
			t.Errorf("TagSlug(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOrderAndDeterminism(t *testing.T) {
	files := map[string]string{}
	for i := 0; i < 60; i++ {
		files[fmt.Sprintf("posts/p%02d.md", i)] = fmt.Sprintf("---\ntitle: Post %c\ndate: 2026-01-%02d\n---\n[next](p%02d.md) text %d\n", 'A'+rune(i%26), 1+i%5, (i+1)%60, i)
	}
	a := load(t, mapFS(files), Options{})
	b := load(t, mapFS(files), Options{})
	if len(a.Posts) != 60 {
		t.Fatalf("%d posts: %v", len(a.Posts), a.Diagnostics)
	}
	for i := range a.Posts {
		if a.Posts[i].Path != b.Posts[i].Path || a.Posts[i].HTML() != b.Posts[i].HTML() {
			t.Fatalf("not deterministic at %d", i)
		}
		if i > 0 {
			p, q := a.Posts[i-1], a.Posts[i]
			if q.Date.After(p.Date) || (q.Date.Equal(p.Date) && q.Title < p.Title) {
				t.Fatalf("order wrong at %d: %v %q after %v %q", i, p.Date, p.Title, q.Date, q.Title)
			}
		}
	}
}

func TestUnreadableRoot(t *testing.T) {
	if _, err := Load(t.Context(), os.DirFS(filepath.Join(t.TempDir(), "missing")), Options{}); err == nil {
		t.Error("no error for a missing root")
	}
}
