package templates

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/publishbot/publishbot/posts"
)

// Real content, located from this package's folder: examples/blog in this
// module and the Jekyll corpus in ../shared beside the module.
var (
	exampleBlogDir = filepath.Join("..", "examples", "blog")
	jekyllDir      = filepath.Join("..", "..", "shared", "testdata", "corpus", "jekyll")
)

// fixedNow keeps the example blog's future post in the future.
var fixedNow = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

func loadDir(t testing.TB, dir string, opts posts.Options) (*posts.Site, fs.FS) {
	t.Helper()
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("content folder %s: %v", dir, err)
	}
	fsys := os.DirFS(dir)
	if opts.Now.IsZero() {
		opts.Now = fixedNow
	}
	site, err := posts.Load(context.Background(), fsys, opts)
	if err != nil {
		t.Fatalf("load %s: %v", dir, err)
	}
	return site, fsys
}

func renderDir(t testing.TB, dir string, lopts posts.Options, opts Options) (*posts.Site, map[string][]byte) {
	t.Helper()
	site, fsys := loadDir(t, dir, lopts)
	var overrides fs.FS
	if fi, err := fs.Stat(fsys, "templates"); err == nil && fi.IsDir() {
		overrides, _ = fs.Sub(fsys, "templates")
	}
	r, err := New(overrides)
	if err != nil {
		t.Fatal(err)
	}
	out, err := r.Render(context.Background(), site, fsys, opts)
	if err != nil {
		t.Fatalf("render %s: %v", dir, err)
	}
	return site, out.Files
}

func shown(site *posts.Site, opts Options) []*posts.Post {
	var list []*posts.Post
	for _, p := range site.Posts {
		if (!p.Draft || opts.Drafts) && (!p.Future || opts.Future) {
			list = append(list, p)
		}
	}
	return list
}

// checkFeedsHave parses the three feeds and checks every shown post is in
// each, with an absolute URL.
func checkFeedsHave(t *testing.T, out map[string][]byte, list []*posts.Post, cfg posts.Config) {
	t.Helper()
	var atom struct {
		Entries []struct {
			ID      string `xml:"id"`
			Updated string `xml:"updated"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal(out["feed.xml"], &atom); err != nil {
		t.Fatalf("parse feed.xml: %v", err)
	}
	var rss struct {
		Items []struct {
			Link    string `xml:"link"`
			PubDate string `xml:"pubDate"`
		} `xml:"channel>item"`
	}
	if err := xml.Unmarshal(out["rss.xml"], &rss); err != nil {
		t.Fatalf("parse rss.xml: %v", err)
	}
	var jf struct {
		Items []struct {
			URL           string `json:"url"`
			ContentHTML   string `json:"content_html"`
			DatePublished string `json:"date_published"`
		} `json:"items"`
	}
	if err := json.Unmarshal(out["feed.json"], &jf); err != nil {
		t.Fatalf("parse feed.json: %v", err)
	}
	want := len(list)
	if want > DefaultFeedEntries {
		want = DefaultFeedEntries
	}
	if len(atom.Entries) != want || len(rss.Items) != want || len(jf.Items) != want {
		t.Fatalf("feeds have %d/%d/%d entries, want %d", len(atom.Entries), len(rss.Items), len(jf.Items), want)
	}
	for i := 0; i < want; i++ {
		u := cfg.URL(escapePath(posts.PostPath(list[i].Slug)))
		if !isAbsolute(u) || atom.Entries[i].ID != u || rss.Items[i].Link != u || jf.Items[i].URL != u {
			t.Errorf("feed entry %d: atom %s rss %s json %s, want %s", i, atom.Entries[i].ID, rss.Items[i].Link, jf.Items[i].URL, u)
		}
		if _, err := time.Parse(time.RFC3339, atom.Entries[i].Updated); err != nil {
			t.Errorf("atom date: %v", err)
		}
		if _, err := time.Parse(time.RFC1123Z, rss.Items[i].PubDate); err != nil {
			t.Errorf("rss date: %v", err)
		}
		if _, err := time.Parse(time.RFC3339, jf.Items[i].DatePublished); err != nil {
			t.Errorf("json feed date: %v", err)
		}
		if got, want := strings.Join(textOf(t, []byte(jf.Items[i].ContentHTML)), " "), strings.Join(textOf(t, []byte(list[i].HTML())), " "); got != want {
			t.Errorf("json feed item %d lacks the full content:\n%s\nwant\n%s", i, got, want)
		}
		refs, _, err := pageLinks([]byte(jf.Items[i].ContentHTML))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range refs {
			if u, err := url.Parse(r.URL); err != nil || u.Scheme == "" {
				t.Errorf("json feed item %d has a relative URL %q", i, r.URL)
			}
		}
	}
}

func checkSitemapComplete(t *testing.T, out map[string][]byte, cfg posts.Config) {
	t.Helper()
	var sm struct {
		URLs []struct {
			Loc string `xml:"loc"`
		} `xml:"url"`
	}
	if err := xml.Unmarshal(out["sitemap.xml"], &sm); err != nil {
		t.Fatalf("parse sitemap: %v", err)
	}
	listed := map[string]bool{}
	for _, u := range sm.URLs {
		listed[u.Loc] = true
	}
	pages := htmlPages(out)
	for _, p := range pages {
		if loc := cfg.URL(escapePath(strings.TrimSuffix(p, "index.html"))); !listed[loc] {
			t.Errorf("sitemap lacks %s", loc)
		}
	}
	if len(listed) != len(pages) {
		t.Errorf("sitemap has %d URLs for %d pages", len(listed), len(pages))
	}
}

func TestExampleBlog(t *testing.T) {
	for _, tc := range []struct {
		name string
		base string
		opts Options
	}{
		{"published", "", Options{}},
		{"preview", "https://acme.github.io/blog/pr-preview/pr-12/", Options{Drafts: true, Future: true, PreviewPR: 12}},
		{"user site", "https://acme.github.io/", Options{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			site, out := renderDir(t, exampleBlogDir, posts.Options{BaseURL: tc.base}, tc.opts)
			for _, d := range site.Diagnostics {
				if d.Severity == posts.SeverityError {
					t.Errorf("example blog has an error: %+v", d)
				}
			}
			list := shown(site, tc.opts)
			if len(list) < 10 {
				t.Fatalf("example blog shows %d posts, want 10 or more", len(list))
			}
			if broken := brokenLinks(t, out, site.Config.BaseURL); len(broken) > 0 {
				for _, b := range broken {
					t.Errorf("broken link: %+v", b)
				}
			}
			checkFeedsHave(t, out, list, site.Config)
			checkSitemapComplete(t, out, site.Config)
			checkHeadTags(t, out)
			for _, p := range list {
				if _, ok := out[posts.PostPath(p.Slug)+"index.html"]; !ok {
					t.Errorf("no page for %s", p.Path)
				}
			}
			for _, a := range site.Assets {
				if _, ok := out[a.Target]; !ok && !strings.HasPrefix(a.Target, "posts/") {
					t.Errorf("asset %s not copied", a.Target)
				}
			}
			var drafts, future int
			for _, p := range site.Posts {
				if p.Draft {
					drafts++
				}
				if p.Future {
					future++
				}
			}
			if drafts == 0 || future == 0 {
				t.Fatalf("example blog needs a draft and a future post, has %d and %d", drafts, future)
			}
			idx := string(out["index.html"])
			all := strings.Join(textOfAll(t, out), "\n")
			if tc.opts.Drafts {
				if !strings.Contains(all, "Draft") || !strings.Contains(all, "Scheduled") {
					t.Errorf("drafts and scheduled posts are not marked")
				}
			} else if strings.Contains(idx, "mark-draft") || strings.Contains(idx, "mark-scheduled") {
				t.Errorf("published index shows a draft or future post")
			}
		})
	}
}

func textOfAll(t *testing.T, out map[string][]byte) []string {
	var all []string
	for p, data := range out {
		if strings.HasSuffix(p, ".html") {
			all = append(all, textOf(t, data)...)
		}
	}
	return all
}

// TestExampleBlogIndex reads the example blog's front page as a reader does.
func TestExampleBlogIndex(t *testing.T) {
	site, out := renderDir(t, exampleBlogDir, posts.Options{}, Options{})
	list := shown(site, Options{})
	want := []string{site.Config.Title, "← Back", site.Config.Heading, site.Config.Description}
	var feat *posts.Post
	for _, p := range list {
		if p.Featured {
			feat = p
			break
		}
	}
	if feat != nil {
		want = append(want, feat.Title, "Read the post →")
	}
	for _, p := range list {
		if p != feat {
			want = append(want, p.Date.Format("2006"), p.Title, p.Date.Format("Jan 2, 2006"))
			break
		}
	}
	total := (len(list) + site.Config.PerPage - 1) / site.Config.PerPage
	want = append(want, "Page 1 of "+itoa(total), "← Newer", "Older →", "Popular Reads")
	assertOrder(t, textOf(t, out["index.html"]), want...)
}

func itoa(n int) string { return strings.TrimSpace(strings.Repeat(" ", 0) + fmtInt(n)) }

func fmtInt(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestJekyllCorpus renders the 102 real posts: every page and link of the
// theme resolves; links inside post bodies that lead nowhere in this site
// are ones posts.Load already reported for that post.
func TestJekyllCorpus(t *testing.T) {
	site, out := renderDir(t, jekyllDir, posts.Options{BaseURL: "https://jekyll.github.io/news/"}, Options{})
	list := shown(site, Options{})
	if len(list) < 100 {
		t.Fatalf("corpus shows %d posts, want at least 100", len(list))
	}
	checkFeedsHave(t, out, list, site.Config)
	checkSitemapComplete(t, out, site.Config)
	// Every link of the theme resolves. The corpus's bodies link to pages of
	// jekyllrb.com that this site does not have (/docs/history/ and the
	// like): posts.Load reports missing images and links to missing posts,
	// but not root-relative links to other site paths, since it cannot know
	// every page the theme makes. Those are the only unresolved links.
	reported := map[string]bool{}
	for _, d := range site.Diagnostics {
		if d.Code == "missing-image" || d.Code == "broken-link" {
			reported[d.File] = true
		}
	}
	pathOf := map[string]string{}
	for _, p := range list {
		pathOf[posts.PostPath(p.Slug)+"index.html"] = p.Path
	}
	var body int
	for _, b := range brokenLinks(t, out, site.Config.BaseURL) {
		switch {
		case !b.Body:
			t.Errorf("broken theme link: %+v", b)
		case reported[pathOf[b.Page]]:
			body++
		case strings.HasPrefix(b.URL, "/news/") && !strings.HasPrefix(b.URL, "/news/posts/"):
			body++
		default:
			t.Errorf("broken body link nobody reported: %+v", b)
		}
	}
	t.Logf("%d body links lead to pages outside this site (jekyllrb.com's /docs/ and the like)", body)
	if !bytes.Contains(out["index.html"], []byte("Page 1 of ")) {
		t.Errorf("no pager")
	}
}

// checkHeadTags: every page a reader lands on has its title, description,
// canonical URL, OpenGraph and Twitter card tags, a language and landmarks.
func checkHeadTags(t *testing.T, out map[string][]byte) {
	t.Helper()
	pages := append(htmlPages(out), "404.html")
	for _, p := range pages {
		s := string(out[p])
		for _, want := range []string{
			"<title>", `<meta name="description" content="`, `<link rel="canonical" href="http`,
			`<meta property="og:title" content="`, `<meta property="og:url" content="http`, `<meta property="og:type" content="`,
			`<meta name="twitter:card" content="`, `<html lang="`, `<main id="main"`, `<header class="site-header">`,
			`<footer class="site-footer">`, `<a class="skip" href="#main">`,
		} {
			if !strings.Contains(s, want) {
				t.Errorf("%s lacks %s", p, want)
			}
		}
		checkScripts(t, p, out[p])
		checkIDs(t, p, out[p])
		if strings.Contains(s, `content=""`) || strings.Contains(s, "<title></title>") {
			t.Errorf("%s has an empty head tag", p)
		}
	}
}
