package templates

import (
	"bytes"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"golang.org/x/net/html"

	"github.com/publishbot/publishbot/posts"
)

// handSite builds a site of n posts by hand, newest first, the way
// posts.Load returns it: two posts share every fifth day, tags rotate.
func handSite(n int) *posts.Site {
	cfg := posts.Config{
		Title:       "Field Notes",
		Heading:     "Writing",
		Description: "Notes from the workshop.",
		BaseURL:     "https://acme.github.io/blog/",
		Author:      "Ada Lovelace",
		Language:    "en",
		PerPage:     8,
		PagesBranch: "gh-pages",
		Previews:    true,
		Timezone:    "UTC",
		BackURL:     "https://acme.example/",
		Location:    time.UTC,
	}
	site := &posts.Site{Config: cfg}
	start := time.Date(2026, 6, 14, 9, 30, 0, 0, time.UTC)
	tags := [][]string{{"Go", "testing"}, {"notes"}, {"Go"}, nil}
	for i := 0; i < n; i++ {
		d := start.AddDate(0, 0, -i*20)
		slug := fmt.Sprintf("post-%02d", i)
		p := &posts.Post{
			Path:        "posts/" + d.Format("2006-01-02") + "-" + slug + ".md",
			Slug:        slug,
			Title:       fmt.Sprintf("Post number %02d", i),
			Date:        d,
			Summary:     fmt.Sprintf("Summary of post %02d.", i),
			Tags:        tags[i%len(tags)],
			Author:      "Ada Lovelace",
			Words:       120,
			ReadingTime: 1,
		}
		p.SetBody(fmt.Sprintf("<p>Body of post %02d with <a href=\"#fn1\">a note</a>.</p>\n<p id=\"fn1\">The note.</p>\n", i), "")
		site.Posts = append(site.Posts, p)
	}
	return site
}

// textOf returns the visible text of an HTML document as a list of
// whitespace-normalised text runs in document order.
func textOf(t *testing.T, doc []byte) []string {
	t.Helper()
	root, err := html.Parse(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("parse html: %v", err)
	}
	var out []string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && (n.Data == "head" || n.Data == "script" || n.Data == "style") {
			return
		}
		if n.Type == html.TextNode {
			if s := strings.Join(strings.Fields(n.Data), " "); s != "" {
				out = append(out, s)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
	return out
}

// assertOrder checks that each of want is contained in some text run, in
// this order.
func assertOrder(t *testing.T, text []string, want ...string) {
	t.Helper()
	i := 0
	for _, w := range want {
		for i < len(text) && !strings.Contains(text[i], w) {
			i++
		}
		if i == len(text) {
			t.Fatalf("text %q not found in order (after the previous ones) in:\n%s", w, strings.Join(text, "\n"))
		}
		i++
	}
}

// linkRef is one href or src in an output page that leads nowhere.
type linkRef struct {
	Page, Attr, URL string
	Body            bool // inside a post's body (<div class="content">), not the theme
}

// pageRef is one href, src or srcset URL of a page.
type pageRef struct {
	URL  string
	Body bool
}

// pageLinks lists every href, src and srcset URL and every id of an HTML document.
func pageLinks(doc []byte) (refs []pageRef, ids map[string]bool, err error) {
	root, err := html.Parse(bytes.NewReader(doc))
	if err != nil {
		return nil, nil, err
	}
	ids = map[string]bool{}
	var walk func(*html.Node, bool)
	walk = func(n *html.Node, body bool) {
		if n.Type == html.ElementNode {
			for _, a := range n.Attr {
				switch a.Key {
				case "class":
					if n.Data == "div" && a.Val == "content" {
						body = true
					}
				case "id", "name":
					ids[a.Val] = true
				case "href", "src":
					refs = append(refs, pageRef{a.Val, body})
				case "srcset":
					for _, part := range strings.Split(a.Val, ",") {
						if f := strings.Fields(part); len(f) > 0 {
							refs = append(refs, pageRef{f[0], body})
						}
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, body)
		}
	}
	walk(root, false)
	return refs, ids, nil
}

// brokenLinks returns every internal link of out (URLs on baseURL's host
// under its path, and relative URLs) that does not resolve to an output
// file, or to an existing id for a fragment on the same page or another.
func brokenLinks(t *testing.T, out map[string][]byte, baseURL string) []linkRef {
	t.Helper()
	base, err := url.Parse(baseURL)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]map[string]bool{}
	refs := map[string][]pageRef{}
	for p, data := range out {
		if !strings.HasSuffix(p, ".html") {
			continue
		}
		r, i, err := pageLinks(data)
		if err != nil {
			t.Fatalf("parse %s: %v", p, err)
		}
		refs[p], ids[p] = r, i
	}
	pages := make([]string, 0, len(refs))
	for p := range refs {
		pages = append(pages, p)
	}
	sort.Strings(pages)
	var broken []linkRef
	for _, p := range pages {
		pageURL := base.ResolveReference(&url.URL{Path: strings.TrimSuffix(p, "index.html")})
		for _, r := range refs[p] {
			ref := r.URL
			u, err := url.Parse(strings.TrimSpace(ref))
			if err != nil {
				broken = append(broken, linkRef{p, "unparseable", ref, r.Body})
				continue
			}
			abs := pageURL.ResolveReference(u)
			if abs.Scheme != base.Scheme || abs.Host != base.Host {
				continue // another site
			}
			if !strings.HasPrefix(abs.Path, base.Path) {
				broken = append(broken, linkRef{p, "outside base path", ref, r.Body})
				continue
			}
			target := strings.TrimPrefix(abs.Path, base.Path)
			if target == "" || strings.HasSuffix(target, "/") {
				target += "index.html"
			}
			target = path.Clean(target)
			if _, ok := out[target]; !ok {
				broken = append(broken, linkRef{p, "missing file", ref, r.Body})
				continue
			}
			if abs.Fragment != "" && ids[target] != nil && !ids[target][abs.Fragment] {
				broken = append(broken, linkRef{p, "missing id", ref, r.Body})
			}
		}
	}
	return broken
}

var metaRefresh = regexp.MustCompile(`<meta http-equiv="refresh"`)

// htmlPages lists output HTML files that are pages a reader lands on: not
// redirects and not 404.html.
func htmlPages(out map[string][]byte) []string {
	var list []string
	for p, data := range out {
		if strings.HasSuffix(p, ".html") && p != "404.html" && !metaRefresh.Match(data) {
			list = append(list, p)
		}
	}
	sort.Strings(list)
	return list
}

// loadFiles loads a content tree from memory with posts.Load at fixedNow.
func loadFiles(t *testing.T, files map[string]string) (*posts.Site, fstest.MapFS) {
	t.Helper()
	m := fstest.MapFS{}
	for name, data := range files {
		m[name] = &fstest.MapFile{Data: []byte(data)}
	}
	site, err := posts.Load(t.Context(), m, posts.Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	return site, m
}

// loadMap loads a content tree from memory and renders it.
func loadMap(t *testing.T, files map[string]string, opts Options) (*posts.Site, map[string][]byte) {
	t.Helper()
	site, m := loadFiles(t, files)
	return site, mustRender(t, site, m, opts)
}

// loadRender is loadMap for content that must load without an error.
func loadRender(t *testing.T, files map[string]string, opts Options) (*posts.Site, map[string][]byte) {
	t.Helper()
	site, m := loadFiles(t, files)
	if posts.HasErrors(site.Diagnostics) {
		t.Fatalf("diagnostics: %v", site.Diagnostics)
	}
	return site, mustRender(t, site, m, opts)
}
