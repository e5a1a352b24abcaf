package templates

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"maps"
	"net/url"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/publishbot/publishbot/posts"
)

func mustRender(t *testing.T, site *posts.Site, content fstest.MapFS, opts Options) map[string][]byte {
	t.Helper()
	r, err := New(nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	out, err := r.Render(t.Context(), site, content, opts)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	return out.Files
}

func TestIndexOrder(t *testing.T) {
	site := handSite(32)
	site.Posts[3].Featured = true
	out := mustRender(t, site, nil, Options{})

	text := textOf(t, out["index.html"])
	assertOrder(t, text,
		"Skip to content",
		"Field Notes", "← Back",
		"Writing", "Notes from the workshop.",
		"Featured", "Post number 03", "Summary of post 03.", "Read the post →",
		"2026", "Post number 00", "Summary of post 00.", "Jun 14, 2026",
		"Post number 01", "May 25, 2026",
		"Page 1 of 4", "← Newer", "Older →",
		"Popular Reads", "Post number 00", "Jun 14, 2026",
		"Archive",
	)
	// the featured post is not repeated in its year; page 1 holds 8 posts
	beforePopular, _, _ := strings.Cut(string(out["index.html"]), "Popular Reads")
	if got := strings.Count(beforePopular, ">Post number 03<"); got != 1 {
		t.Errorf("featured post appears %d times on page 1, want 1", got)
	}
	if got := strings.Count(string(out["index.html"]), `class="post-item"`); got != 7 {
		t.Errorf("page 1 lists %d posts besides the featured one, want 7", got)
	}
	idx := string(out["index.html"])
	if !strings.Contains(idx, `<span class="inactive" aria-disabled="true">← Newer</span>`) ||
		!strings.Contains(idx, `<a href="/blog/page/2/" rel="next">Older →</a>`) {
		t.Errorf("page 1 pager wrong:\n%s", idx)
	}
	assertOrder(t, textOf(t, out["page/2/index.html"]), "2026", "Post number 08", "2025", "Post number 10", "Page 2 of 4")
	p4 := string(out["page/4/index.html"])
	assertOrder(t, textOf(t, out["page/4/index.html"]), "Writing", "Post number 31", "Page 4 of 4", "← Newer", "Older →", "Popular Reads")
	if !strings.Contains(p4, `<a href="/blog/page/3/" rel="prev">← Newer</a>`) ||
		!strings.Contains(p4, `<span class="inactive" aria-disabled="true">Older →</span>`) {
		t.Errorf("page 4 pager wrong")
	}
	if strings.Contains(p4, "Read the post →") {
		t.Errorf("featured post shown on page 4")
	}
	if _, ok := out["page/5/index.html"]; ok {
		t.Errorf("page 5 exists for 32 posts")
	}
	if _, ok := out["page/1/index.html"]; ok {
		t.Errorf("page/1/ written; page 1 is the index")
	}
}

func TestPopularFromConfig(t *testing.T) {
	site := handSite(10)
	site.Config.Popular = []string{"post-07", "missing", "post-02"}
	out := mustRender(t, site, nil, Options{})
	text := textOf(t, out["index.html"])
	i := indexOf(text, "Popular Reads")
	if i < 0 {
		t.Fatal("no Popular Reads")
	}
	got := strings.Join(text[i:], "|")
	if !strings.Contains(got, "Popular Reads|Post number 07|") || !strings.Contains(got, "Post number 02") || strings.Contains(got, "Post number 03") {
		t.Errorf("popular list = %s", got)
	}

	site.Config.Popular = nil
	out = mustRender(t, site, nil, Options{})
	text = textOf(t, out["index.html"])
	got = strings.Join(text[indexOf(text, "Popular Reads"):], "|")
	for _, want := range []string{"Post number 00", "Post number 04"} {
		if !strings.Contains(got, want) {
			t.Errorf("default popular list lacks %s: %s", want, got)
		}
	}
	if strings.Contains(got, "Post number 05") {
		t.Errorf("default popular list has more than five: %s", got)
	}
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

func TestSameDayOrder(t *testing.T) {
	site := handSite(0)
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	add := func(slug, title string, at time.Duration) {
		site.Posts = append(site.Posts, &posts.Post{Path: "posts/" + slug + ".md", Slug: slug, Title: title, Date: day.Add(at), ReadingTime: 1})
	}
	// deliberately not in order: Render sorts by time (newest first), then title
	add("b", "Bravo", 9*time.Hour)
	add("a", "Alpha", 9*time.Hour)
	add("c", "Charlie", 18*time.Hour)
	add("d", "Delta", 0)
	out := mustRender(t, site, nil, Options{})
	assertOrder(t, textOf(t, out["index.html"]), "Charlie", "Alpha", "Bravo", "Delta", "Page 1 of 1")
}

func TestPostPage(t *testing.T) {
	site := handSite(3)
	p := site.Posts[1]
	p.Updated = p.Date.AddDate(0, 1, 2)
	p.Image = "/blog/posts/post-01/cover.jpg"
	p.ImageAlt = "A workbench"
	p.ReadingTime = 4
	p.Tags = []string{"Go", "testing"}
	out := mustRender(t, site, nil, Options{})
	doc := out["posts/post-01/index.html"]
	assertOrder(t, textOf(t, doc),
		"Field Notes",
		"Post number 01", "May 25, 2026", "Updated", "Jun 27, 2026", "by Ada Lovelace", "4 min read",
		"Go", "testing", "Body of post 01",
		"← Newer", "Post number 00", "Older →", "Post number 02",
	)
	s := string(doc)
	for _, want := range []string{
		`<html lang="en">`,
		`<title>Post number 01 · Field Notes</title>`,
		`<meta name="description" content="Summary of post 01.">`,
		`<link rel="canonical" href="https://acme.github.io/blog/posts/post-01/">`,
		`<meta property="og:type" content="article">`,
		`<meta property="og:title" content="Post number 01">`,
		`<meta property="og:image" content="https://acme.github.io/blog/posts/post-01/cover.jpg">`,
		`<meta name="twitter:card" content="summary_large_image">`,
		`<img src="/blog/posts/post-01/cover.jpg" alt="A workbench" fetchpriority="high">`,
		`<a href="/blog/tags/go/" rel="tag">Go</a>`,
		`<main id="main"`, `<header class="site-header">`, `<footer class="site-footer">`,
		`<a class="skip" href="#main">`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("post page lacks %s", want)
		}
	}
	if strings.Contains(s, "noindex") || strings.Contains(s, "Preview of") {
		t.Errorf("published post page is marked as a preview")
	}
}

func TestTagsAndArchive(t *testing.T) {
	site := handSite(32)
	out := mustRender(t, site, nil, Options{})
	// "Go" is on posts 0,2,4,... (every second post): 16 posts, 2 pages
	assertOrder(t, textOf(t, out["tags/go/index.html"]), "Posts tagged “Go”", "16 posts", "Post number 00", "Post number 02", "Page 1 of 2", "Older →")
	assertOrder(t, textOf(t, out["tags/go/page/2/index.html"]), "Posts tagged “Go”", "Post number 16", "Post number 30", "Page 2 of 2")
	if bytes.Contains(out["tags/go/index.html"], []byte("Post number 01<")) {
		t.Errorf("tag page lists an untagged post")
	}
	assertOrder(t, textOf(t, out["tags/index.html"]), "Tags", "Go", "16", "notes", "8", "testing", "8")
	arch := textOf(t, out["archive/index.html"])
	assertOrder(t, arch, "Archive", "2026", "Jun 14, 2026", "Post number 00", "2025", "2024", "Post number 31")
	if n := strings.Count(string(out["archive/index.html"]), "<li><time"); n != 32 {
		t.Errorf("archive lists %d posts, want 32", n)
	}
}

func TestFeeds(t *testing.T) {
	site := handSite(12)
	site.Posts[0].Updated = site.Posts[0].Date.Add(48 * time.Hour)
	site.Posts[2].Title = `Ampersands & <angle> "quotes"`
	out := mustRender(t, site, nil, Options{})
	newest := site.Posts[0].Updated

	var atom struct {
		XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
		ID      string   `xml:"id"`
		Updated string   `xml:"updated"`
		Links   []struct {
			Href string `xml:"href,attr"`
			Rel  string `xml:"rel,attr"`
		} `xml:"link"`
		Entries []struct {
			Title     string `xml:"title"`
			ID        string `xml:"id"`
			Published string `xml:"published"`
			Updated   string `xml:"updated"`
			Link      struct {
				Href string `xml:"href,attr"`
			} `xml:"link"`
			Content struct {
				Type string `xml:"type,attr"`
				Body string `xml:",chardata"`
			} `xml:"content"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal(out["feed.xml"], &atom); err != nil {
		t.Fatalf("parse feed.xml: %v", err)
	}
	if len(atom.Entries) != 12 {
		t.Fatalf("atom has %d entries, want 12", len(atom.Entries))
	}
	if atom.Updated != newest.Format(time.RFC3339) {
		t.Errorf("atom updated = %s, want newest post date %s", atom.Updated, newest.Format(time.RFC3339))
	}
	for i, e := range atom.Entries {
		want := "https://acme.github.io/blog/posts/" + site.Posts[i].Slug + "/"
		if e.ID != want || e.Link.Href != want {
			t.Errorf("atom entry %d id %s link %s, want %s", i, e.ID, e.Link.Href, want)
		}
		for _, d := range []string{e.Published, e.Updated} {
			if _, err := time.Parse(time.RFC3339, d); err != nil {
				t.Errorf("atom entry %d date %q: %v", i, d, err)
			}
		}
		if e.Content.Type != "html" || !strings.Contains(e.Content.Body, "Body of post") {
			t.Errorf("atom entry %d content = %+v", i, e.Content)
		}
		if e.Title != site.Posts[i].Title {
			t.Errorf("atom entry %d title %q, want %q", i, e.Title, site.Posts[i].Title)
		}
	}

	var rss struct {
		Channel struct {
			Link          string `xml:"link"`
			LastBuildDate string `xml:"lastBuildDate"`
			Items         []struct {
				Title   string `xml:"title"`
				Link    string `xml:"link"`
				GUID    string `xml:"guid"`
				PubDate string `xml:"pubDate"`
				Content string `xml:"http://purl.org/rss/1.0/modules/content/ encoded"`
			} `xml:"item"`
		} `xml:"channel"`
	}
	if err := xml.Unmarshal(out["rss.xml"], &rss); err != nil {
		t.Fatalf("parse rss.xml: %v", err)
	}
	if len(rss.Channel.Items) != 12 {
		t.Fatalf("rss has %d items", len(rss.Channel.Items))
	}
	for i, it := range rss.Channel.Items {
		if _, err := time.Parse(time.RFC1123Z, it.PubDate); err != nil {
			t.Errorf("rss item %d pubDate %q: %v", i, it.PubDate, err)
		}
		if !isAbsolute(it.Link) || it.GUID != it.Link || !strings.Contains(it.Content, "Body of post") {
			t.Errorf("rss item %d = %+v", i, it)
		}
	}

	var jf struct {
		Version     string `json:"version"`
		HomePageURL string `json:"home_page_url"`
		FeedURL     string `json:"feed_url"`
		Items       []struct {
			ID, URL, Title, ContentHTML string
			DatePublished               string `json:"date_published"`
			DateModified                string `json:"date_modified"`
		} `json:"items"`
	}
	if err := json.Unmarshal(out["feed.json"], &jf); err != nil {
		t.Fatalf("parse feed.json: %v", err)
	}
	if jf.Version != "https://jsonfeed.org/version/1.1" || jf.FeedURL != "https://acme.github.io/blog/feed.json" || jf.HomePageURL != "https://acme.github.io/blog/" {
		t.Errorf("json feed header = %+v", jf)
	}
	if len(jf.Items) != 12 {
		t.Fatalf("json feed has %d items", len(jf.Items))
	}
	var raw struct {
		Items []map[string]any `json:"items"`
	}
	json.Unmarshal(out["feed.json"], &raw)
	for i, it := range jf.Items {
		if !isAbsolute(it.URL) || it.ID != it.URL {
			t.Errorf("json item %d url %q", i, it.URL)
		}
		if c, _ := raw.Items[i]["content_html"].(string); !strings.Contains(c, "Body of post") {
			t.Errorf("json item %d has no full content", i)
		}
		if _, err := time.Parse(time.RFC3339, it.DatePublished); err != nil {
			t.Errorf("json item %d date: %v", i, err)
		}
	}
	if jf.Items[0].DateModified == "" {
		t.Errorf("updated post has no date_modified")
	}
}

func isAbsolute(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "https" && u.Host != ""
}

func TestSitemapAndRobots(t *testing.T) {
	site := handSite(20)
	site.Posts[0].Aliases = []string{"/2019/01/old-name/"}
	out := mustRender(t, site, nil, Options{})
	var sm struct {
		URLs []struct {
			Loc     string `xml:"loc"`
			LastMod string `xml:"lastmod"`
		} `xml:"url"`
	}
	if err := xml.Unmarshal(out["sitemap.xml"], &sm); err != nil {
		t.Fatalf("parse sitemap: %v", err)
	}
	listed := map[string]bool{}
	for _, u := range sm.URLs {
		listed[u.Loc] = true
		if u.LastMod != "" {
			if _, err := time.Parse("2006-01-02", u.LastMod); err != nil {
				t.Errorf("lastmod %q: %v", u.LastMod, err)
			}
		}
	}
	pages := htmlPages(out)
	for _, p := range pages {
		loc := "https://acme.github.io/blog/" + strings.TrimSuffix(p, "index.html")
		if !listed[loc] {
			t.Errorf("sitemap lacks %s", loc)
		}
	}
	if len(sm.URLs) != len(pages) {
		t.Errorf("sitemap has %d URLs, output has %d pages", len(sm.URLs), len(pages))
	}
	if listed["https://acme.github.io/blog/2019/01/old-name/"] {
		t.Errorf("sitemap lists a redirect")
	}
	if got := string(out["robots.txt"]); !strings.Contains(got, "Sitemap: https://acme.github.io/blog/sitemap.xml") || strings.Contains(got, "Disallow: /") {
		t.Errorf("robots.txt = %q", got)
	}
	if _, ok := out[".nojekyll"]; !ok {
		t.Errorf("no .nojekyll")
	}
	if _, ok := out["CNAME"]; ok {
		t.Errorf("CNAME without cname")
	}
	site.Config.CNAME = "blog.acme.example"
	out = mustRender(t, site, nil, Options{})
	if got := string(out["CNAME"]); got != "blog.acme.example\n" {
		t.Errorf("CNAME = %q", got)
	}
}

func TestAliases(t *testing.T) {
	site := handSite(3)
	site.Posts[1].Aliases = []string{"/2019/01/old-name/", "old.html", "/../../etc/passwd", "/index.html", "https://evil.example/x", "/feed.xml"}
	out := mustRender(t, site, nil, Options{})
	for _, p := range []string{"2019/01/old-name/index.html", "old.html"} {
		s := string(out[p])
		if !strings.Contains(s, `<meta http-equiv="refresh" content="0; url=https://acme.github.io/blog/posts/post-01/">`) ||
			!strings.Contains(s, `<link rel="canonical" href="https://acme.github.io/blog/posts/post-01/">`) {
			t.Errorf("redirect %s =\n%s", p, s)
		}
	}
	if strings.Contains(string(out["index.html"]), "refresh") || !bytes.HasPrefix(out["feed.xml"], []byte("<?xml")) {
		t.Errorf("an alias replaced a generated file")
	}
	for p := range out {
		if strings.Contains(p, "..") || strings.Contains(p, "evil") || strings.HasPrefix(p, "/") {
			t.Errorf("unsafe output path %q", p)
		}
	}
}

func TestDraftsAndFuture(t *testing.T) {
	site := handSite(4)
	site.Posts[0].Future = true
	site.Posts[0].Title = "Coming soon"
	site.Posts[2].Draft = true
	site.Posts[2].Title = "Half written"
	site.Posts[2].Bundle = "posts/post-02"
	site.Assets = []posts.Asset{
		{Source: "posts/post-02/cover.png", Target: "posts/post-02/cover.png", Size: 3, Posts: []string{site.Posts[2].Path}},
		{Source: "static/favicon.ico", Target: "favicon.ico", Size: 3},
	}
	content := fstest.MapFS{
		"posts/post-02/cover.png": {Data: []byte("png")},
		"static/favicon.ico":      {Data: []byte("ico")},
	}
	out := mustRender(t, site, content, Options{})
	for p, data := range out {
		if bytes.Contains(data, []byte("Coming soon")) || bytes.Contains(data, []byte("Half written")) {
			t.Errorf("%s shows a hidden post", p)
		}
		if strings.HasPrefix(p, "posts/post-00/") || strings.HasPrefix(p, "posts/post-02/") {
			t.Errorf("hidden post's file %s written", p)
		}
	}
	if string(out["favicon.ico"]) != "ico" {
		t.Errorf("static file not copied")
	}

	out = mustRender(t, site, content, Options{Drafts: true, Future: true})
	assertOrder(t, textOf(t, out["index.html"]), "Coming soon", "Scheduled", "Half written", "Draft")
	assertOrder(t, textOf(t, out["posts/post-02/index.html"]), "Half written", "Draft")
	assertOrder(t, textOf(t, out["posts/post-00/index.html"]), "Coming soon", "Scheduled")
	if string(out["posts/post-02/cover.png"]) != "png" {
		t.Errorf("draft bundle file not copied with --drafts")
	}
}

func TestPreview(t *testing.T) {
	site := handSite(10)
	site.Config.BaseURL = "https://acme.github.io/blog/pr-preview/pr-7/"
	site.Config.CNAME = "blog.acme.example"
	out := mustRender(t, site, nil, Options{PreviewPR: 7, Drafts: true})
	for p, data := range out {
		if !strings.HasSuffix(p, ".html") {
			continue
		}
		if !bytes.Contains(data, []byte(`<meta name="robots" content="noindex">`)) {
			t.Errorf("%s lacks noindex", p)
		}
		if metaRefresh.Match(data) {
			continue
		}
		assertOrder(t, textOf(t, data), "Preview of #7")
	}
	if got := string(out["robots.txt"]); !strings.Contains(got, "Disallow: /") {
		t.Errorf("preview robots.txt = %q", got)
	}
	if _, ok := out["CNAME"]; ok {
		t.Errorf("preview writes CNAME")
	}
	if broken := brokenLinks(t, out, site.Config.BaseURL); len(broken) > 0 {
		t.Errorf("broken links in relocated preview: %v", broken)
	}
	for _, ref := range allRefs(t, out) {
		if strings.HasPrefix(ref, "/") && !strings.HasPrefix(ref, "/blog/pr-preview/pr-7/") {
			t.Errorf("link %q escapes the preview's base path", ref)
		}
	}
}

func allRefs(t *testing.T, out map[string][]byte) []string {
	var all []string
	for p, data := range out {
		if strings.HasSuffix(p, ".html") {
			refs, _, err := pageLinks(data)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range refs {
				all = append(all, r.URL)
			}
		}
	}
	return all
}

func TestLinksResolveHandSite(t *testing.T) {
	for _, base := range []string{"https://acme.github.io/blog/", "https://ada.github.io/", "http://127.0.0.1:1313/"} {
		site := handSite(32)
		site.Config.BaseURL = base
		site.Posts[0].Aliases = []string{"/old/"}
		out := mustRender(t, site, nil, Options{})
		if broken := brokenLinks(t, out, base); len(broken) > 0 {
			t.Errorf("base %s: broken links: %v", base, broken)
		}
	}
}

func TestDeterministic(t *testing.T) {
	site := handSite(40)
	site.Posts[5].Featured = true
	a := mustRender(t, site, nil, Options{})
	b := mustRender(t, handSiteWithFeatured(40, 5), nil, Options{})
	if !maps.EqualFunc(a, b, bytes.Equal) {
		t.Fatal("two renders of the same input differ")
	}
}

func handSiteWithFeatured(n, i int) *posts.Site {
	s := handSite(n)
	s.Posts[i].Featured = true
	return s
}

func TestEscaping(t *testing.T) {
	site := handSite(2)
	evil := `<script>alert(1)</script>`
	site.Config.Title = evil
	site.Config.Description = evil
	site.Config.BackURL = "javascript:alert(1)"
	site.Posts[0].Title = evil
	site.Posts[0].Summary = evil
	site.Posts[0].Author = evil
	site.Posts[0].Tags = []string{evil}
	site.Posts[0].Image = `javascript:alert(1)`
	site.Posts[0].ImageAlt = `"><script>alert(1)</script>`
	out := mustRender(t, site, nil, Options{})
	for p, data := range out {
		if p != "feed.json" && bytes.Contains(data, []byte("<script>")) {
			t.Errorf("%s contains an unescaped script from front matter", p)
		}
		if strings.HasSuffix(p, ".html") && bytes.Contains(data, []byte(`href="javascript:`)) {
			t.Errorf("%s links to javascript:", p)
		}
	}
}

func TestOverrides(t *testing.T) {
	over := fstest.MapFS{
		"post.html":  {Data: []byte(`{{define "main"}}custom {{.Post.Title}}{{end}}{{template "base" .}}`)},
		"extra.html": {Data: []byte(`{{define "x"}}x{{end}}`)},
		"style.css":  {Data: []byte("body{color:red}")},
		"notes.txt":  {Data: []byte("ignored")},
	}
	r, err := New(over)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	res, err := r.Render(t.Context(), handSite(2), nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := res.Files
	if !bytes.Contains(out["posts/post-00/index.html"], []byte("custom Post number 00")) {
		t.Errorf("post.html override not used")
	}
	if !bytes.Contains(out["index.html"], []byte("Popular Reads")) {
		t.Errorf("default index.html lost")
	}
	if !bytes.HasPrefix(out[StylesheetPath], []byte("body{color:red}")) || !bytes.Contains(out[StylesheetPath], []byte(".chroma")) {
		t.Errorf("style.css override not used, or code colours lost: %q", out[StylesheetPath])
	}

	_, err = New(fstest.MapFS{"index.html": {Data: []byte(`{{define "main"}}{{.Nope`)}})
	if err == nil || !strings.Contains(err.Error(), "index.html") {
		t.Errorf("broken override: err = %v, want one naming index.html", err)
	}
	r, err = New(fstest.MapFS{"tag.html": {Data: []byte(`{{template "base" .}}{{define "main"}}{{.Nope}}{{end}}`)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Render(t.Context(), handSite(2), nil, Options{}); err == nil || !strings.Contains(err.Error(), "tag.html") {
		t.Errorf("override failing at execution: err = %v", err)
	}
}

func TestEmptySite(t *testing.T) {
	site := handSite(0)
	out := mustRender(t, site, nil, Options{})
	assertOrder(t, textOf(t, out["index.html"]), "Writing", "No posts yet.", "Page 1 of 1")
	if broken := brokenLinks(t, out, site.Config.BaseURL); len(broken) > 0 {
		t.Errorf("broken links: %v", broken)
	}
}

func TestStylesheetSize(t *testing.T) {
	r, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(r.Stylesheet()); n > 15*1024 {
		t.Errorf("stylesheet is %d bytes, budget 15 KB", n)
	}
	for _, banned := range []string{"http://", "https://", "@import", "url("} {
		if bytes.Contains(r.Stylesheet(), []byte(banned)) {
			t.Errorf("stylesheet contains %q: no requests to other hosts", banned)
		}
	}
}

func TestAbsoluteHTML(t *testing.T) {
	base, _ := url.Parse("https://acme.github.io/blog/posts/x/")
	in := `<p><a href="/blog/posts/y/">y</a> <a href="https://e.org/">e</a> <img src="rack.png" alt="a &amp; b" loading="lazy"><sup><a href="#fn:1">1</a></sup> <a href="mailto:a@b.c">m</a></p>` +
		`<pre class="chroma"><code>x := "&lt;a href=&#34;rel&#34;&gt;"</code></pre><img srcset="a.png 1x, /blog/b.png 2x" src="https://c.org/c.png">`
	got := absoluteHTML(in, base)
	want := `<p><a href="https://acme.github.io/blog/posts/y/">y</a> <a href="https://e.org/">e</a> <img src="https://acme.github.io/blog/posts/x/rack.png" alt="a &amp; b" loading="lazy"><sup><a href="https://acme.github.io/blog/posts/x/#fn:1">1</a></sup> <a href="mailto:a@b.c">m</a></p>` +
		`<pre class="chroma"><code>x := "&lt;a href=&#34;rel&#34;&gt;"</code></pre><img srcset="https://acme.github.io/blog/posts/x/a.png 1x, https://acme.github.io/blog/b.png 2x" src="https://c.org/c.png">`
	if got != want {
		t.Errorf("absoluteHTML =\n%s\nwant\n%s", got, want)
	}
	if absoluteHTML("plain text", base) != "plain text" {
		t.Errorf("text changed")
	}
}

func TestStaticFilesAndGeneratedPages(t *testing.T) {
	site := handSite(2)
	site.Assets = []posts.Asset{
		{Source: "static/robots.txt", Target: "robots.txt"},
		{Source: "static/index.html", Target: "index.html"},
		{Source: "static/favicon.ico", Target: "favicon.ico"},
	}
	content := fstest.MapFS{
		"static/robots.txt":  {Data: []byte("User-agent: *\nDisallow: /private/\n")},
		"static/index.html":  {Data: []byte("not the index")},
		"static/favicon.ico": {Data: []byte("ico")},
	}
	out := mustRender(t, site, content, Options{})
	if string(out["robots.txt"]) != "User-agent: *\nDisallow: /private/\n" {
		t.Errorf("the site's own robots.txt was replaced: %q", out["robots.txt"])
	}
	if string(out["index.html"]) == "not the index" {
		t.Errorf("a static file replaced the generated index")
	}
	if !bytes.Contains(out["index.html"], []byte(`<link rel="icon" href="/blog/favicon.ico">`)) {
		t.Errorf("the site's favicon.ico is not linked")
	}
	if _, ok := out[FaviconPath]; ok {
		t.Errorf("theme icon written although the site has its own")
	}
	out = mustRender(t, site, content, Options{PreviewPR: 4})
	if !bytes.Contains(out["robots.txt"], []byte("Disallow: /\n")) {
		t.Errorf("a preview keeps the site's robots.txt: %q", out["robots.txt"])
	}
	if _, err := (&Renderer{}).Render(t.Context(), handSite(1), nil, Options{}); err == nil {
		// a zero Renderer has no templates; Render must fail, not panic
		t.Errorf("zero Renderer rendered")
	}
}

func TestOGLocale(t *testing.T) {
	for in, want := range map[string]string{
		"en": "", "": "", "en-GB": "en_GB", "pt_br": "pt_BR", "de-DE": "de_DE",
		"zh-Hant-TW": "", "fil-PH": "fil_PH", "x-y": "",
	} {
		if got := ogLocale(in); got != want {
			t.Errorf("ogLocale(%q) = %q, want %q", in, got, want)
		}
	}
}
