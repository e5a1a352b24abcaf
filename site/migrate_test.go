package site

import (
	"bytes"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/publishbot/publishbot/posts"
)

// corpusDir is a corpus of ../shared/testdata beside the module.
func corpusDir(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", "testdata", "corpus", name)
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("shared test data missing: %v", err)
		}
		t.Skipf("shared test data missing: %v", err)
	}
	return dir
}

// treeUnder reads the folder dir into memory under prefix, as a blog's
// folder committed as it is.
func treeUnder(t *testing.T, dir, prefix string) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "SOURCE.md" {
			return nil // the corpus's own note, not the blog's
		}
		data, err := os.ReadFile(p)
		m[path.Join(prefix, filepath.ToSlash(rel))] = &fstest.MapFile{Data: data}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// assertKnown: every file the render wrote is one posts.Load knew the
// build writes (the list of files link checks and path conflicts use).
func assertKnown(t *testing.T, out *Output) {
	t.Helper()
	for f := range out.Files {
		if !out.Site.Serves(f) && !isVariantOf(out.Site, f) {
			t.Errorf("the theme wrote %s, which posts does not know", f)
		}
	}
}

// variantRE matches the name of a responsive image variant the theme
// writes beside a published image: stem-480w-1a2b3c4d.jpg, stem-1a2b3c4d.webp.
var variantRE = regexp.MustCompile(`^(.+?)-(?:[0-9]+w-)?[0-9a-f]{8}\.(?:jpe?g|png|webp)$`)

// isVariantOf says whether f is a resized or WebP variant of a raster
// image the site publishes.
func isVariantOf(s *posts.Site, f string) bool {
	m := variantRE.FindStringSubmatch(f)
	if m == nil {
		return false
	}
	for _, ext := range []string{".jpg", ".jpeg", ".png", ".JPG", ".JPEG", ".PNG"} {
		if s.Serves(m[1] + ext) {
			return true
		}
	}
	return false
}

// TestJekyllBlogKeepsItsAddresses builds jekyllrb.com's 102 news posts,
// committed as they are, with the site's permalink and time zone: every
// address the Jekyll site served is served.
func TestJekyllBlogKeepsItsAddresses(t *testing.T) {
	dir := corpusDir(t, "jekyll")
	content := treeUnder(t, dir, "posts")
	content[posts.ConfigFile] = &fstest.MapFile{Data: []byte("title: Jekyll News\nbase_url: https://jekyllrb.com/\n" +
		"permalink: /news/:year/:month/:day/:title/\ntimezone: America/Los_Angeles\ngenerator: jekyll\n")}
	out, err := Build(t.Context(), content, nil, Options{Now: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if posts.HasErrors(out.Site.Diagnostics) {
		t.Errorf("errors: %v", out.Site.Diagnostics)
	}
	assertKnown(t, out)

	// The old addresses, as Jekyll makes them: the front matter date (in
	// the site's zone; Ruby's Time.parse reads "2023-01-29 18:30:22 2023
	// -0800" as its first date and time and its zone), else the file
	// name's; :title is the file name's slug part, case kept.
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	nameRE := regexp.MustCompile(`^(\d{4}-\d{2}-\d{2})-(.+)\.(markdown|md)$`)
	dateRE := regexp.MustCompile(`(?m)^date: "?(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})\b.*?([+-]\d{4})"?\s*$`)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	addresses := 0
	for _, e := range entries {
		m := nameRE.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		src, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		day, err := time.ParseInLocation("2006-01-02", m[1], la)
		if err != nil {
			t.Fatal(err)
		}
		if d := dateRE.FindSubmatch(src); d != nil {
			if day, err = time.Parse("2006-01-02 15:04:05 -0700", string(d[1])+" "+string(d[2])); err != nil {
				t.Fatal(err)
			}
			day = day.In(la)
		}
		addr := "news/" + day.Format("2006/01/02") + "/" + m[2] + "/"
		addresses++
		if _, ok := out.Files[addr+"index.html"]; !ok {
			t.Errorf("%s: nothing at /%s", e.Name(), addr)
		}
	}
	if addresses != 102 {
		t.Errorf("%d posts in the corpus, want 102", addresses)
	}
	for _, f := range []string{
		"news/2013/05/05/jekyll-1-0-0-released/index.html",           // +0200: the evening before, in Los Angeles
		"news/2018/04/19/development-update/index.html",              // the front matter's date, not the file name's
		"news/2023/01/29/jekyll-3-9-3-released/index.html",           // a date Ruby reads and Go does not
		"news/2019/07/20/jekyll-4-0-0-pre-beta1-released/index.html", // redirect_from
	} {
		if _, ok := out.Files[f]; !ok {
			t.Errorf("no %s", f)
		}
	}
	if redirect := out.Files["news/2019/07/20/jekyll-4-0-0-pre-beta1-released/index.html"]; !bytes.Contains(redirect, []byte(`url=https://jekyllrb.com/news/2019/08/04/jekyll-4-0-0-pre-beta1-released/"`)) {
		t.Errorf("redirect_from:\n%s", redirect)
	}
	// jekyll-feed's entry ids: an old subscriber sees no post as new.
	if feed := out.Files["feed.xml"]; !bytes.Contains(feed, []byte("<id>https://jekyllrb.com/news/2025/01/29/jekyll-4-4-1-released</id>")) {
		t.Errorf("feed ids:\n%.2000s", feed)
	}
	fallback := 0
	for _, d := range out.Site.Diagnostics {
		if d.Code == posts.CodeDateFallback {
			fallback++
			if d.File != "posts/2023-01-29-jekyll-3-9-3-released.markdown" || d.Line != 3 {
				t.Errorf("date fallback %v", d)
			}
		}
	}
	if fallback != 1 {
		t.Errorf("%d date fallbacks, want 1", fallback)
	}
}

// zolaFront is what the test reads of a Zola post's front matter itself.
type zolaFront struct {
	Path    string
	Aliases []string
}

// TestZolaBlogKeepsItsAddresses builds the Rust blog (Zola), its content/
// folder committed as it is: every post with a path is served at
// /<path>/, every alias redirects to it, and the _index.md files are
// sections, not errors.
func TestZolaBlogKeepsItsAddresses(t *testing.T) {
	dir := corpusDir(t, "zola-rust-blog")
	content := treeUnder(t, dir, "content")
	content[posts.ConfigFile] = &fstest.MapFile{Data: []byte("title: Rust Blog\nbase_url: https://blog.rust-lang.org/\nposts_dir: content\ngenerator: zola\nfeeds: [/atom.xml]\n" +
		"images: {resize: false}\n")} // addresses, not the 215 images' variants (site/images_test.go)
	out, err := Build(t.Context(), content, nil, Options{Now: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range out.Site.Diagnostics {
		if strings.HasSuffix(d.File, "_index.md") && d.Severity == posts.SeverityError {
			t.Errorf("an _index.md is an error: %v", d)
		}
		// releases/latest.md is a Zola page for a template of its own,
		// with neither title nor date: the one file left out.
		if d.Severity == posts.SeverityError && d.File != "content/releases/latest.md" {
			t.Errorf("error: %v", d)
		}
	}
	assertKnown(t, out)
	withPath, aliases := 0, 0
	for name, f := range content {
		if !strings.HasSuffix(name, ".md") || path.Base(name) == "_index.md" {
			continue
		}
		src := f.Data
		if !bytes.HasPrefix(src, []byte("+++\n")) {
			continue
		}
		end := bytes.Index(src[4:], []byte("\n+++"))
		var fm zolaFront
		if _, err := toml.Decode(string(src[4:4+end]), &fm); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if fm.Path == "" {
			continue
		}
		withPath++
		addr := strings.Trim(fm.Path, "/") + "/"
		if _, ok := out.Files[addr+"index.html"]; !ok {
			t.Errorf("%s: nothing at /%s", name, addr)
		}
		to := []byte(`url=https://blog.rust-lang.org/` + addr + `"`)
		for _, a := range fm.Aliases {
			aliases++
			files := posts.AliasFiles("/" + strings.TrimPrefix(a, "/"))
			if len(files) == 0 {
				t.Errorf("%s: alias %q gives no file", name, a)
			}
			for _, af := range files {
				if page, ok := out.Files[af]; !ok || !bytes.Contains(page, to) {
					t.Errorf("%s: alias %q: %s does not redirect to /%s", name, a, af, addr)
				}
			}
		}
	}
	if withPath < 750 || aliases < 700 {
		t.Errorf("%d posts with a path, %d aliases: the corpus is not all here", withPath, aliases)
	}
	// Aliases with a dot in the last segment are folders and .html files,
	// never extensionless files.
	for _, f := range []string{"releases/1.88.0/index.html", "releases/1.88.0.html", "inside-rust/index.html", "releases/index.html", "atom.xml"} {
		if _, ok := out.Files[f]; !ok {
			t.Errorf("no %s", f)
		}
	}
	if _, ok := out.Files["releases/1.88.0"]; ok {
		t.Error("an alias is an extensionless file")
	}
	if section := out.Files["inside-rust/index.html"]; !bytes.Contains(section, []byte("<h1>Inside Rust Blog</h1>")) ||
		!bytes.Contains(section, []byte(`<a href="/inside-rust/2026/`)) || !bytes.Contains(section, []byte(`href="/inside-rust/page/2/" rel="next"`)) {
		t.Errorf("the inside-rust section page:\n%.3000s", section)
	}
	if !bytes.Equal(out.Files["atom.xml"], out.Files["feed.xml"]) {
		t.Error("atom.xml is not the Atom feed")
	}
	// Zola's @/ links go to the posts' addresses.
	if !bytes.Contains(out.Files["inside-rust/2026/01/13/infrastructure-team-q4-2025-recap-and-q1-2026-plan/index.html"],
		[]byte(`href="/inside-rust/2025/10/16/infrastructure-team-q3-recap-and-q4-plan/#q4-2025-plans"`)) {
		t.Error("an @/ link is not at its post's address")
	}
}

// TestOneBadPathCostsOnlyItself (issue 10): an alias or static file whose
// output lies under a generated file, or in .git, is an error of that
// post or file; the rest is built and written.
func TestOneBadPathCostsOnlyItself(t *testing.T) {
	content := fstest.MapFS{
		posts.ConfigFile:                  {Data: []byte("title: T\n")},
		"posts/2026-01-01-a.md":           {Data: []byte("---\ntitle: A\naliases: [/archive/index.html/x/]\n---\n")},
		"posts/2026-01-02-b.md":           {Data: []byte("---\ntitle: B\naliases: [/.git/hooks/]\n---\n")},
		"posts/2026-01-03-c.md":           {Data: []byte("---\ntitle: C\naliases: [/releases/1.88.0]\n---\n")},
		"static/archive/index.html/x.txt": {Data: []byte("x")},
		"static/assets/style.css/y.txt":   {Data: []byte("y")},
	}
	out, err := Build(t.Context(), content, nil, Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range out.Site.Diagnostics {
		got = append(got, d.File+" "+d.Code)
	}
	want := "posts/2026-01-01-a.md invalid-alias posts/2026-01-02-b.md invalid-alias static/archive/index.html/x.txt output-conflict static/assets/style.css/y.txt output-conflict"
	if strings.Join(got, " ") != want {
		t.Errorf("diagnostics %q", got)
	}
	if len(out.Site.Posts) != 1 || out.Files["releases/1.88.0.html"] == nil || out.Files["archive/index.html"] == nil {
		t.Errorf("%d posts; files %v", len(out.Site.Posts), len(out.Files))
	}
	if _, _, err := Write(t.Context(), filepath.Join(t.TempDir(), "public"), out.Files); err != nil {
		t.Errorf("write: %v", err)
	}
}

func TestDropNested(t *testing.T) {
	files := map[string][]byte{"a.html": nil, "a.html/b/index.html": nil, "c/index.html": nil, "a.html-2/index.html": nil}
	ds := dropNested(files, new([]string))
	if len(ds) != 1 || ds[0].File != "a.html/b/index.html" || len(files) != 3 {
		t.Errorf("diagnostics %v, files %v", ds, files)
	}
	// Kept files count as files: under one, beside one, and one under a
	// file just made; a path between a file and one under it ("a-b" sorts
	// between "a" and "a/b") changes nothing.
	files = map[string][]byte{"k/x.html/y": nil, "n/index.html": nil, "m": nil}
	kept := []string{"k/x.html", "k/x.html-old", "m/under/index.html", "n/index.htm", "z"}
	ds = dropNested(files, &kept)
	var got []string
	for _, d := range ds {
		got = append(got, d.File+" under "+strings.TrimSuffix(strings.SplitAfter(d.Message, "under the file ")[1], "; it is left out (please report it)"))
	}
	slices.Sort(got)
	if want := []string{"k/x.html/y under k/x.html", "m/under/index.html under m"}; !slices.Equal(got, want) {
		t.Errorf("nested %q, want %q", got, want)
	}
	if _, ok := files["k/x.html/y"]; ok || len(files) != 2 {
		t.Errorf("files left %v", files)
	}
	if want := []string{"k/x.html", "k/x.html-old", "n/index.htm", "z"}; !slices.Equal(kept, want) {
		t.Errorf("kept left %q, want %q", kept, want)
	}
}
