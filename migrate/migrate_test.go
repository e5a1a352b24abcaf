package migrate

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"go.yaml.in/yaml/v3"
)

func file_(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

func TestDetect(t *testing.T) {
	tests := []struct {
		name     string
		fs       fstest.MapFS
		want     Settings
		notCarry []string // substrings that must appear in NotCarried
	}{
		{
			name: "jekyll with permalink pattern and plugins",
			fs: fstest.MapFS{
				"_config.yml": file_(`title: Jekyll • Simple, blog-aware, static sites
url: https://jekyllrb.com
baseurl: ""
permalink: /news/:year/:month/:day/:title/
timezone: America/Los_Angeles
repository: https://github.com/jekyll/jekyll
author:
  name: Jekyll
kramdown:
  input: GFM
plugins:
  - jekyll-feed
  - jekyll-redirect-from
  - jekyll-avatar
`),
				"_posts/2013-05-06-jekyll-1-0-0-released.markdown": file_("---\ntitle: x\n---\n"),
				"_layouts/post.html":    file_("x"),
				"_includes/footer.html": file_("x"),
			},
			want: Settings{Generator: Jekyll, Title: "Jekyll • Simple, blog-aware, static sites", BaseURL: "https://jekyllrb.com/",
				PostsDir: "_posts", Permalink: "/news/:year/:month/:day/:title/", Timezone: "America/Los_Angeles",
				Params: map[string]any{"repository": "https://github.com/jekyll/jekyll", "author": map[string]any{"name": "Jekyll"}}},
			notCarry: []string{"plugin jekyll-avatar", "layouts in _layouts/ (1 files)", "includes"},
		},
		{
			name: "jekyll default permalink and baseurl",
			fs: fstest.MapFS{
				"_config.yml": file_("title: Blog\nurl: https://acme.github.io/\nbaseurl: /blog\n"),
			},
			want: Settings{Generator: Jekyll, Title: "Blog", BaseURL: "https://acme.github.io/blog/", PostsDir: "_posts", Permalink: "date"},
		},
		{
			name: "hugo toml with permalinks and params",
			fs: fstest.MapFS{
				"hugo.toml": file_(`baseURL = "https://example.org/"
title = "Hugo blog"
timeZone = "Europe/Berlin"
theme = "ananke"
[permalinks]
  posts = "/:year/:month/:slug"
[params]
  author = "Jo"
`),
				"content/posts/a.md":        file_("---\ntitle: a\n---\n"),
				"content/about.md":          file_("---\ntitle: About\n---\n"),
				"layouts/shortcodes/x.html": file_("x"),
			},
			want: Settings{Generator: Hugo, Title: "Hugo blog", BaseURL: "https://example.org/", PostsDir: "content/posts",
				Permalink: "/:year/:month/:slug", Pages: []string{"content/*.md"}, Feeds: []string{"/index.xml", "/posts/index.xml"},
				Timezone: "Europe/Berlin", Params: map[string]any{"author": "Jo"}},
			notCarry: []string{"theme ananke", "custom shortcodes"},
		},
		{
			name: "hugo config.yaml default permalink, blog section",
			fs: fstest.MapFS{
				"config.yaml":               file_("baseURL: https://x.dev/\ntitle: X\n"),
				"content/blog/one.md":       file_("---\ntitle: a\n---\n"),
				"content/blog/two/index.md": file_("---\ntitle: a\n---\n"),
			},
			want: Settings{Generator: Hugo, Title: "X", BaseURL: "https://x.dev/", PostsDir: "content/blog", Permalink: "/blog/:path/",
				Pages: []string{"content/*.md"}, Feeds: []string{"/index.xml", "/blog/index.xml"}},
		},
		{
			name: "zola like the Rust blog",
			fs: fstest.MapFS{
				"config.toml": file_(`base_url = "https://blog.rust-lang.org"
title = "Rust Blog"
generate_feeds = true
feed_filenames = ["feed.xml", "releases.json"]
[extra]
index_title = "Rust Blog"
`),
				"content/_index.md":   file_("+++\ntitle = \"Rust Blog\"\n+++\n"),
				"templates/page.html": file_("x"),
			},
			want: Settings{Generator: Zola, Title: "Rust Blog", BaseURL: "https://blog.rust-lang.org", PostsDir: "content", Permalink: "/:path/",
				Pages: []string{"content/pages/**/*.md"}, Params: map[string]any{"index_title": "Rust Blog"}},
			notCarry: []string{"Tera templates", "feed releases.json"},
		},
		{
			name: "zola default atom feed",
			fs: fstest.MapFS{
				"config.toml": file_("base_url = \"https://z.dev\"\ntitle = \"Z\"\ngenerate_feed = true\n"),
			},
			want: Settings{Generator: Zola, Title: "Z", BaseURL: "https://z.dev", PostsDir: "content", Permalink: "/:path/",
				Pages: []string{"content/pages/**/*.md"}, Feeds: []string{"/atom.xml"}},
		},
		{
			name: "eleventy with input dir and a plain data-file permalink",
			fs: fstest.MapFS{
				"eleventy.config.js":           file_("export default function(c){ return { dir: { input: \"src\", output: \"_site\" } } }"),
				"src/blog/2024-01-01-first.md": file_("---\ntitle: a\n---\n"),
				"src/blog/blog.11tydata.json":  file_(`{"permalink": "/blog/{{ page.fileSlug }}/index.html", "tags": "posts"}`),
				"src/_includes/base.njk":       file_("x"),
			},
			want:     Settings{Generator: Eleventy, PostsDir: "src/blog", Permalink: "/blog/:slug/", Pages: []string{"src/*.md"}},
			notCarry: []string{"JavaScript configuration", "_includes"},
		},
		{
			name: "eleventy default permalink keeps the file name",
			fs: fstest.MapFS{
				".eleventy.js":    file_("module.exports = function(){}"),
				"posts/2020-x.md": file_("---\ntitle: a\n---\n"),
			},
			want: Settings{Generator: Eleventy, PostsDir: "posts", Permalink: "/posts/:filename/"},
		},
		{
			name: "a zola-like config.toml without base_url is not zola",
			fs: fstest.MapFS{
				"config.toml": file_("x = 1\n"),
				"notes/a.md":  file_("# a"),
			},
			want: Settings{Title: "My blog", PostsDir: "notes"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Detect(tt.fs)
			if err != nil {
				t.Fatal(err)
			}
			got := p.Settings
			gy, _ := yaml.Marshal(got)
			wy, _ := yaml.Marshal(tt.want)
			if string(gy) != string(wy) {
				t.Errorf("settings:\n%s\nwant:\n%s", gy, wy)
			}
			joined := strings.Join(p.NotCarried, "\n")
			for _, s := range tt.notCarry {
				if !strings.Contains(joined, s) {
					t.Errorf("NotCarried %q lacks %q", joined, s)
				}
			}
			// The YAML it writes parses back to the same keys.
			y, err := p.YAML()
			if err != nil {
				t.Fatal(err)
			}
			var back map[string]any
			if err := yaml.Unmarshal(y, &back); err != nil {
				t.Fatalf("written publish.yaml does not parse: %v\n%s", err, y)
			}
			if back["title"] == nil {
				t.Errorf("publish.yaml has no title:\n%s", y)
			}
			if got.Permalink != "" && back["permalink"] != got.Permalink {
				t.Errorf("permalink round trip: %v", back["permalink"])
			}
		})
	}
}

func TestDetectBrokenConfigNamesFile(t *testing.T) {
	_, err := Detect(fstest.MapFS{"_config.yml": file_("title: [unclosed\n")})
	if err == nil || !strings.Contains(err.Error(), "_config.yml") {
		t.Fatalf("err = %v, want one naming _config.yml", err)
	}
	_, err = Detect(fstest.MapFS{"hugo.toml": file_("baseURL = \n")})
	if err == nil || !strings.Contains(err.Error(), "hugo.toml") {
		t.Fatalf("err = %v, want one naming hugo.toml", err)
	}
}

func TestDetectRefusesHugeConfig(t *testing.T) {
	big := strings.Repeat("#", maxConfigBytes+1)
	if _, err := Detect(fstest.MapFS{"_config.yml": file_(big)}); err == nil {
		t.Fatal("a config over the size limit was read")
	}
}

func TestWriteEmptyFolderMakesStarterBlog(t *testing.T) {
	dir := t.TempDir()
	p, err := Detect(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	if !p.Empty {
		t.Fatal("empty folder not seen as empty")
	}
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	w, err := Write(dir, p, now)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"publish.yaml", "posts/2026-12-01-hello-world.md", ".gitignore"}
	if !slices.Equal(w.Files, want) {
		t.Fatalf("wrote %v, want %v", w.Files, want)
	}
	gi, _ := os.ReadFile(filepath.Join(dir, ".gitignore"))
	if string(gi) != "public/\n" {
		t.Fatalf(".gitignore = %q", gi)
	}
	// Second run refuses and changes nothing.
	before, _ := os.ReadFile(filepath.Join(dir, "publish.yaml"))
	if _, err := Write(dir, p, now); !errors.Is(err, ErrExists) {
		t.Fatalf("second Write: err = %v, want ErrExists", err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "publish.yaml"))
	if string(before) != string(after) {
		t.Fatal("publish.yaml changed by a refused Write")
	}
}

func FuzzDetect(f *testing.F) {
	f.Add("_config.yml", "permalink: pretty\ntitle: x\n")
	f.Add("hugo.toml", "baseURL = 'https://x/'\n[permalinks]\nposts = '/:year/:title/'\n")
	f.Add("config.toml", "base_url = 'https://z'\nfeed_filenames = ['atom.xml']\n[extra]\na = 1\n")
	f.Add("eleventy.config.js", "dir: { input: 'src' }")
	f.Fuzz(func(t *testing.T, name, body string) {
		switch name {
		case "_config.yml", "hugo.toml", "hugo.yaml", "hugo.json", "config.toml", "config.yaml", ".eleventy.js", "eleventy.config.js":
		default:
			return
		}
		p, err := Detect(fstest.MapFS{name: file_(body)})
		if err != nil {
			return
		}
		y, err := p.YAML()
		if err != nil {
			t.Fatalf("YAML: %v", err)
		}
		var back map[string]any
		if err := yaml.Unmarshal(y, &back); err != nil {
			t.Fatalf("written publish.yaml does not parse: %v\n%s", err, y)
		}
	})
}
