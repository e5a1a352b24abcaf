package templates

import (
	"encoding/json"
	"encoding/xml"
	"regexp"
	"strings"
	"testing"

	"github.com/publishbot/publishbot/posts"
)

const pagesConfig = "title: Field Notes\nbase_url: https://acme.github.io/blog/\nauthor: The Team\n"

var pagesFiles = map[string]string{
	posts.ConfigFile:        pagesConfig,
	"pages/about.md":        "---\ntitle: About\nsummary: Who we are.\nmenu: true\nupdated: 2026-03-04\n---\nWe write [posts](../posts/hello.md).\n",
	"pages/draft.md":        "---\ntitle: Coming soon\ndraft: true\nmenu: true\n---\nNot yet.\n",
	"uses.md":               "---\ntitle: Uses\n---\nThe tools we use.\n",
	"posts/hello.md":        "---\ntitle: Hello\ndate: 2026-01-01\ntags: [Go]\n---\nHello, see [about](../pages/about.md).\n",
	"posts/2026-02-01-b.md": "---\ntitle: Second\n---\nB.\n",
}

// navLinks lists the header menu of a page as "text=href", the current
// one marked with a *.
var navRE = regexp.MustCompile(`(?s)<nav class="site-nav" aria-label="Main">(.*?)</nav>`)
var navLinkRE = regexp.MustCompile(`<a href="([^"]*)"( aria-current="page")?>([^<]*)</a>`)

func navLinks(t *testing.T, doc []byte) string {
	t.Helper()
	m := navRE.FindSubmatch(doc)
	if m == nil {
		return ""
	}
	var out []string
	for _, l := range navLinkRE.FindAllSubmatch(m[1], -1) {
		s := string(l[3]) + "=" + string(l[1])
		if len(l[2]) > 0 {
			s = "*" + s
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

func TestPageRendering(t *testing.T) {
	_, out := loadRender(t, pagesFiles, Options{})
	about := out["about/index.html"]
	if about == nil {
		t.Fatalf("no about/index.html in %v", keys(out))
	}
	text := textOf(t, about)
	assertOrder(t, text, "Skip to content", "Field Notes", "Archive", "Tags", "About", "About", "We write", "posts", "Home")
	s := string(about)
	for _, want := range []string{
		"<title>About · Field Notes</title>",
		`<meta name="description" content="Who we are.">`,
		`<link rel="canonical" href="https://acme.github.io/blog/about/">`,
		`<meta property="og:title" content="About">`,
		`<meta property="og:type" content="website">`,
		`<article class="page">`,
		`<a href="/blog/posts/hello/">posts</a>`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("about page lacks %s", want)
		}
	}
	for _, not := range []string{"<time", "min read", `class="tags"`, "article:published_time", `rel="tag"`, "Coming soon"} {
		if strings.Contains(s, not) {
			t.Errorf("about page has %s", not)
		}
	}
	if !strings.Contains(string(out["posts/hello/index.html"]), `<a href="/blog/about/">about</a>`) {
		t.Errorf("the post's link to pages/about.md is not the page's address")
	}
	if _, ok := out["uses/index.html"]; !ok {
		t.Errorf("a root Markdown file with front matter is not a page")
	}
	if _, ok := out["draft/index.html"]; ok {
		t.Errorf("a draft page is published")
	}

	// The sitemap lists the pages with their date; the feeds never do.
	sm := string(out["sitemap.xml"])
	if !strings.Contains(sm, "<loc>https://acme.github.io/blog/about/</loc>\n    <lastmod>2026-03-04</lastmod>") ||
		!strings.Contains(sm, "<loc>https://acme.github.io/blog/uses/</loc>") || strings.Contains(sm, "draft") {
		t.Errorf("sitemap:\n%s", sm)
	}
	for _, f := range []string{"feed.xml", "rss.xml", "feed.json"} {
		if f := string(out[f]); strings.Contains(f, ">About<") || strings.Contains(f, ">Uses<") || strings.Contains(f, `"title": "About"`) ||
			strings.Contains(f, "<link>https://acme.github.io/blog/about/</link>") || strings.Contains(f, `"url": "https://acme.github.io/blog/uses/"`) {
			t.Errorf("%s lists a page", f)
		}
	}
	if broken := brokenLinks(t, out, "https://acme.github.io/blog/"); len(broken) > 0 {
		t.Errorf("broken links: %+v", broken)
	}

	// Previews show the draft page, marked, and its menu entry.
	_, drafts := loadRender(t, pagesFiles, Options{Drafts: true})
	d := string(drafts["draft/index.html"])
	if !strings.Contains(d, `<h1>Coming soon <span class="mark mark-draft">Draft</span></h1>`) {
		t.Errorf("draft page:\n%s", d)
	}
	if got := navLinks(t, drafts["index.html"]); got != "Archive=/blog/archive/ Tags=/blog/tags/ About=/blog/about/ Coming soon=/blog/draft/" {
		t.Errorf("preview menu: %s", got)
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Every page shows the menu; the page a link leads to marks it
// aria-current, and no other page does.
func TestMenuInEveryHeader(t *testing.T) {
	_, out := loadRender(t, pagesFiles, Options{})
	want := map[string]string{
		"index.html":             "Archive=/blog/archive/ Tags=/blog/tags/ About=/blog/about/",
		"archive/index.html":     "*Archive=/blog/archive/ Tags=/blog/tags/ About=/blog/about/",
		"tags/index.html":        "Archive=/blog/archive/ *Tags=/blog/tags/ About=/blog/about/",
		"tags/go/index.html":     "Archive=/blog/archive/ Tags=/blog/tags/ About=/blog/about/",
		"about/index.html":       "Archive=/blog/archive/ Tags=/blog/tags/ *About=/blog/about/",
		"posts/hello/index.html": "Archive=/blog/archive/ Tags=/blog/tags/ About=/blog/about/",
		"404.html":               "Archive=/blog/archive/ Tags=/blog/tags/ About=/blog/about/",
		"uses/index.html":        "Archive=/blog/archive/ Tags=/blog/tags/ About=/blog/about/",
	}
	for file, links := range want {
		if got := navLinks(t, out[file]); got != links {
			t.Errorf("%s: menu %q, want %q", file, got, links)
		}
	}
	for file, data := range out {
		if strings.HasSuffix(file, ".html") && strings.Count(string(data), `aria-current="page"`) > 1 {
			t.Errorf("%s marks more than one link current", file)
		}
	}

	files := map[string]string{}
	for k, v := range pagesFiles {
		files[k] = v
	}
	files[posts.ConfigFile] = pagesConfig + "menu:\n  - {title: Home, url: /}\n  - {url: uses.md}\n  - {title: Hello, url: posts/hello.md}\n" +
		"  - {title: Code, url: \"https://github.com/acme\"}\n  - {title: Later, url: pages/draft.md}\n"
	_, out = loadRender(t, files, Options{})
	if got := navLinks(t, out["uses/index.html"]); got != "Home=/blog/ *Uses=/blog/uses/ Hello=/blog/posts/hello/ Code=https://github.com/acme About=/blog/about/" {
		t.Errorf("configured menu: %s", got)
	}
	if got := navLinks(t, out["index.html"]); !strings.HasPrefix(got, "*Home=/blog/ ") {
		t.Errorf("the index is not marked current: %s", got)
	}
	if got := navLinks(t, out["posts/hello/index.html"]); !strings.Contains(got, "*Hello=") {
		t.Errorf("the post is not marked current: %s", got)
	}

	files[posts.ConfigFile] = pagesConfig + "menu: []\n"
	files["pages/about.md"] = "---\ntitle: About\n---\n"
	files["pages/draft.md"] = "---\ntitle: D\ndraft: true\n---\n"
	_, out = loadRender(t, files, Options{})
	if strings.Contains(string(out["index.html"]), `aria-label="Main"`) {
		t.Errorf("an empty menu is shown")
	}
}

func TestAuthorsRendering(t *testing.T) {
	files := map[string]string{
		posts.ConfigFile: pagesConfig + "authors:\n  andre: {name: André, url: \"https://andre.example/\"}\n  cy: {name: Cy, url: /about/cy/}\n",
		"posts/many.md":  "---\ntitle: Many\ndate: 2026-01-02\nauthors: [andre, Bea, cy]\n---\nBody.\n",
		"posts/one.md":   "---\ntitle: One\ndate: 2026-01-01\nauthor: Ada\n---\nBody.\n",
		"posts/none.md":  "---\ntitle: None\ndate: 2025-12-31\n---\nBody.\n",
	}
	_, out := loadRender(t, files, Options{})
	many := string(out["posts/many/index.html"])
	if !strings.Contains(many, `<span>by <a href="https://andre.example/" rel="author">André</a>, Bea and <a href="/blog/about/cy/" rel="author">Cy</a></span>`) {
		t.Errorf("authors line:\n%s", many)
	}
	if got := regexp.MustCompile(`<meta property="article:author" content="[^"]*">`).FindAllString(many, -1); strings.Join(got, "") !=
		`<meta property="article:author" content="https://andre.example/"><meta property="article:author" content="https://acme.github.io/blog/about/cy/">` {
		t.Errorf("article:author: %q", got)
	}
	if one := string(out["posts/one/index.html"]); !strings.Contains(one, "<span>by Ada</span>") || strings.Contains(one, "article:author") {
		t.Errorf("one author:\n%s", one)
	}
	if none := string(out["posts/none/index.html"]); !strings.Contains(none, "<span>by The Team</span>") {
		t.Errorf("the site's author is not shown")
	}

	var atom struct {
		Entries []struct {
			Title   string `xml:"title"`
			Authors []struct {
				Name string `xml:"name"`
				URI  string `xml:"uri"`
			} `xml:"author"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal(out["feed.xml"], &atom); err != nil {
		t.Fatal(err)
	}
	var rss struct {
		Items []struct {
			Creators []string `xml:"http://purl.org/dc/elements/1.1/ creator"`
		} `xml:"channel>item"`
	}
	if err := xml.Unmarshal(out["rss.xml"], &rss); err != nil {
		t.Fatal(err)
	}
	var feed struct {
		Items []struct {
			Authors []struct {
				Name string `json:"name"`
				URL  string `json:"url"`
			} `json:"authors"`
		} `json:"items"`
	}
	if err := json.Unmarshal(out["feed.json"], &feed); err != nil {
		t.Fatal(err)
	}
	if len(atom.Entries) != 3 || len(rss.Items) != 3 || len(feed.Items) != 3 {
		t.Fatalf("entries: atom %d, rss %d, json %d", len(atom.Entries), len(rss.Items), len(feed.Items))
	}
	want := []string{
		"André <https://andre.example/>, Bea, Cy <https://acme.github.io/blog/about/cy/>",
		"Ada",
		"The Team",
	}
	for i, w := range want {
		var a, j []string
		for _, p := range atom.Entries[i].Authors {
			a = append(a, withURL(p.Name, p.URI))
		}
		for _, p := range feed.Items[i].Authors {
			j = append(j, withURL(p.Name, p.URL))
		}
		if strings.Join(a, ", ") != w || strings.Join(j, ", ") != w {
			t.Errorf("entry %d: atom %q, json %q, want %q", i, a, j, w)
		}
		names := regexp.MustCompile(` <[^>]*>`).ReplaceAllString(w, "")
		if strings.Join(rss.Items[i].Creators, ", ") != names {
			t.Errorf("entry %d: rss %q, want %q", i, rss.Items[i].Creators, names)
		}
	}
}

func withURL(name, u string) string {
	if u == "" {
		return name
	}
	return name + " <" + u + ">"
}
