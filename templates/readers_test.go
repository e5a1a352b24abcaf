package templates

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/html"

	"github.com/publishbot/publishbot/locale"
	"github.com/publishbot/publishbot/posts"
)

// searchScriptTag is the one script element a page may load: the search
// page's own, from the site's assets.
var searchScriptTag = regexp.MustCompile(`<script src="[^"]*assets/search\.js\?v=[0-9a-f]{8}" defer></script>`)

// checkScripts: no page but the search page runs script, and that one only
// the site's own search.js; structured data is valid JSON.
func checkScripts(t testing.TB, name string, page []byte) {
	t.Helper()
	if name == "search/index.html" {
		if n := len(searchScriptTag.FindAll(page, -1)); n != 1 {
			t.Errorf("%s has %d search scripts, want 1", name, n)
		}
		page = searchScriptTag.ReplaceAll(page, nil)
	}
	if bad := scriptsIn(page); bad != "" {
		t.Errorf("%s runs script: %s", name, bad)
	}
	for _, ld := range jsonLDIn(page) {
		var v map[string]any
		if err := json.Unmarshal(ld, &v); err != nil {
			t.Errorf("%s: JSON-LD is not valid JSON: %v\n%s", name, err, ld)
		}
	}
}

var jsonLDRE = regexp.MustCompile(`(?s)<script type="application/ld\+json">(.*?)</script>`)

// jsonLDIn is the content of every structured data element of page.
func jsonLDIn(page []byte) [][]byte {
	var out [][]byte
	for _, m := range jsonLDRE.FindAllSubmatch(page, -1) {
		out = append(out, bytes.TrimSpace(m[1]))
	}
	return out
}

// readersSite is a blog whose posts share tags in known ways.
func readersSite(publishYAML string) map[string]string {
	return map[string]string{
		"publish.yaml":          "title: Blog\nbase_url: https://acme.github.io/blog/\n" + publishYAML,
		"posts/2026-01-01-a.md": "---\ntitle: A\ntags: [go, web, db]\n---\nText of a.\n",
		"posts/2026-01-02-b.md": "---\ntitle: B\ntags: [go, web]\n---\nText of b.\n",
		"posts/2026-01-03-c.md": "---\ntitle: C\ntags: [go]\n---\nText of c.\n",
		"posts/2026-01-04-d.md": "---\ntitle: D\ntags: [cooking]\n---\nText of d.\n",
		"posts/2026-01-05-e.md": "---\ntitle: E\ntags: [go, web, db]\n---\nText of e.\n",
		"posts/2026-01-06-f.md": "---\ntitle: 'F </script><script>alert(1)</script>'\ntags: [misc]\nimage: /img/f.png\n---\nText of f.\n",
		"static/img/f.png":      "png",
		"static/img/card.png":   "png",
	}
}

// relatedOf is the titles of the related posts a post page lists.
var relatedRE = regexp.MustCompile(`(?s)<aside class="related".*?</aside>`)
var relatedTitleRE = regexp.MustCompile(`<a href="[^"]*">([^<]*)</a>`)

func relatedOf(page []byte) []string {
	var out []string
	for _, m := range relatedTitleRE.FindAllSubmatch(relatedRE.Find(page), -1) {
		out = append(out, string(m[1]))
	}
	return out
}

// TestRelatedPosts: by shared tags, then the newer first, filled up with
// the newest posts; related: sets how many, 0 none.
func TestRelatedPosts(t *testing.T) {
	_, out := loadRender(t, readersSite(""), Options{})
	for post, want := range map[string][]string{
		"a": {"E", "B", "C"}, // e shares 3, b 2, c 1
		"c": {"E", "B", "A"}, // each shares go: newest first
		"d": {"F …", "E", "C"},
	} {
		got := relatedOf(out["posts/"+post+"/index.html"])
		if post == "d" && len(got) == 3 && strings.HasPrefix(got[0], "F ") {
			got[0] = "F …"
		}
		if !slices.Equal(got, want) {
			t.Errorf("related posts of %s: %q, want %q", post, got, want)
		}
	}
	_, out = loadRender(t, readersSite("related: 1\n"), Options{})
	if got := relatedOf(out["posts/a/index.html"]); !slices.Equal(got, []string{"E"}) {
		t.Errorf("related: 1 gives %q", got)
	}
	_, out = loadRender(t, readersSite("related: 0\n"), Options{})
	if bytes.Contains(out["posts/a/index.html"], []byte(`class="related"`)) {
		t.Errorf("related: 0 still lists related posts")
	}
}

// TestTagFeeds: every tag has an Atom feed of its posts, linked from the
// tag page's head, which parses and names the tag.
func TestTagFeeds(t *testing.T) {
	site, out := loadRender(t, readersSite(""), Options{})
	feed := out["tags/web/feed.xml"]
	var f struct {
		Title   string `xml:"title"`
		ID      string `xml:"id"`
		Links   []atomLink
		Entries []struct {
			Title string `xml:"title"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal(feed, &f); err != nil {
		t.Fatalf("tags/web/feed.xml: %v\n%s", err, feed)
	}
	var titles []string
	for _, e := range f.Entries {
		titles = append(titles, e.Title)
	}
	if f.Title != "Blog: web" || f.ID != "https://acme.github.io/blog/tags/web/" || !slices.Equal(titles, []string{"E", "B", "A"}) {
		t.Errorf("tag feed: title %q id %q entries %q", f.Title, f.ID, titles)
	}
	if !bytes.Contains(feed, []byte(`<link href="https://acme.github.io/blog/tags/web/feed.xml" rel="self" type="application/atom+xml"></link>`)) {
		t.Errorf("tag feed has no self link:\n%s", feed)
	}
	if !bytes.Contains(out["tags/web/index.html"], []byte(`<link rel="alternate" type="application/atom+xml" title="Posts tagged web (Atom)" href="/blog/tags/web/feed.xml">`)) {
		t.Errorf("the tag page does not link its feed")
	}
	for f := range out {
		if strings.HasSuffix(f, "/feed.xml") && !site.Serves(f) {
			t.Errorf("%s is not a file posts knows", f)
		}
	}
}

// TestJSONLD: a BlogPosting on every post and a Blog on the index, valid
// JSON that no title can break out of.
func TestJSONLD(t *testing.T) {
	_, out := loadRender(t, readersSite("social_image: /img/card.png\nauthor: Ada\n"), Options{})
	var post map[string]any
	lds := jsonLDIn(out["posts/f/index.html"])
	if len(lds) != 1 {
		t.Fatalf("%d JSON-LD elements on a post", len(lds))
	}
	if err := json.Unmarshal(lds[0], &post); err != nil {
		t.Fatal(err)
	}
	if post["@type"] != "BlogPosting" || post["headline"] != "F </script><script>alert(1)</script>" || post["url"] != "https://acme.github.io/blog/posts/f/" ||
		post["image"] != "https://acme.github.io/blog/img/f.png" || post["datePublished"] != "2026-01-06T00:00:00Z" {
		t.Errorf("BlogPosting %v", post)
	}
	if bytes.Contains(lds[0], []byte("</script")) || !bytes.Contains(lds[0], []byte(`\u003c/script\u003e`)) {
		t.Errorf("the title is not escaped for a script element: %s", lds[0])
	}
	lds = jsonLDIn(out["posts/a/index.html"])
	if err := json.Unmarshal(lds[0], &post); err != nil || post["image"] != "https://acme.github.io/blog/img/card.png" {
		t.Errorf("a post without a cover has the social image: %v %v", post["image"], err)
	}
	var blog map[string]any
	lds = jsonLDIn(out["index.html"])
	if len(lds) != 1 || json.Unmarshal(lds[0], &blog) != nil || blog["@type"] != "Blog" || blog["name"] != "Blog" || blog["url"] != "https://acme.github.io/blog/" {
		t.Errorf("index JSON-LD %s", lds)
	}
	if lds := jsonLDIn(out["page/2/index.html"]); len(lds) != 0 {
		t.Errorf("JSON-LD on page 2: %s", lds)
	}
}

// TestSocialImage: social_image is the og:image of every page without one
// of its own; a post's cover wins.
func TestSocialImage(t *testing.T) {
	_, out := loadRender(t, readersSite("social_image: /img/card.png\n"), Options{})
	card := `<meta property="og:image" content="https://acme.github.io/blog/img/card.png">`
	for _, p := range []string{"index.html", "posts/a/index.html", "tags/go/index.html", "archive/index.html", "search/index.html"} {
		if !bytes.Contains(out[p], []byte(card)) {
			t.Errorf("%s has no default og:image", p)
		}
	}
	if !bytes.Contains(out["posts/f/index.html"], []byte(`<meta property="og:image" content="https://acme.github.io/blog/img/f.png">`)) {
		t.Errorf("a post's cover is not its og:image")
	}
	_, out = loadRender(t, readersSite("social_image: https://cdn.example/card.png\n"), Options{})
	if !bytes.Contains(out["index.html"], []byte(`<meta property="og:image" content="https://cdn.example/card.png">`)) {
		t.Errorf("an absolute social_image is not used as is")
	}
	site, _ := loadFiles(t, map[string]string{"publish.yaml": "title: B\nsocial_image: 'javascript:alert(1)'\nrelated: many\nsearch: maybe\n"})
	var msgs []string
	for _, d := range site.Diagnostics {
		if d.Severity == posts.SeverityError {
			msgs = append(msgs, d.Message)
		}
	}
	if len(msgs) != 3 {
		t.Errorf("bad reader settings give %q, want three errors", msgs)
	}
}

// TestMetaDescription: at most 160 characters, cut at a word.
func TestMetaDescription(t *testing.T) {
	long := strings.Repeat("word ", 60)
	got := metaDescription(long)
	if n := utf8.RuneCountInString(got); n > maxDescription || !strings.HasSuffix(got, "word…") {
		t.Errorf("%d characters: %q", n, got)
	}
	if got := metaDescription("Short  and\nsweet."); got != "Short and sweet." {
		t.Errorf("%q", got)
	}
	collapse := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	for _, s := range []string{
		strings.Repeat("a", 160), strings.Repeat("a", 161), strings.Repeat("a", 159) + " b", strings.Repeat("a", 159) + " bc",
		strings.Repeat("é", 160) + "  ", strings.Repeat("ab ", 53) + "c", strings.Repeat("ab ", 53) + "cd", " lead  and trail ",
		strings.Repeat("abcd\t", 40), strings.Repeat("日本語", 60),
	} {
		got, c := metaDescription(s), collapse(s)
		switch n := utf8.RuneCountInString(got); {
		case n > maxDescription:
			t.Errorf("%q: %d characters", s, n)
		case utf8.RuneCountInString(c) <= maxDescription && got != c:
			t.Errorf("%q: cut to %q though it fits", s, got)
		case utf8.RuneCountInString(c) > maxDescription && (!strings.HasSuffix(got, "…") || !strings.HasPrefix(c, strings.TrimSuffix(got, "…"))):
			t.Errorf("%q: cut to %q", s, got)
		}
	}
	_, out := loadRender(t, map[string]string{
		"publish.yaml":          "title: Blog\n",
		"posts/2026-01-01-a.md": "---\ntitle: A\n---\n" + strings.Repeat("Lorem ipsum dolor sit amet. ", 20) + "\n",
	}, Options{})
	m := regexp.MustCompile(`<meta name="description" content="([^"]*)">`).FindSubmatch(out["posts/a/index.html"])
	if m == nil || utf8.RuneCount(m[1]) > maxDescription || !strings.HasSuffix(string(m[1]), "…") {
		t.Errorf("post description %q", m)
	}
}

// checkIDs: on every page, ids are unique and every reference to one
// (aria-labelledby, aria-describedby, aria-controls, label for, a local
// href) finds it: what a validator and a screen reader trip over.
func checkIDs(t *testing.T, name string, page []byte) {
	t.Helper()
	z := html.NewTokenizer(bytes.NewReader(page))
	ids := map[string]bool{}
	var refs []string
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		for _, a := range tok.Attr {
			switch a.Key {
			case "id":
				if ids[a.Val] {
					t.Errorf("%s: id %q twice", name, a.Val)
				}
				ids[a.Val] = true
			case "aria-labelledby", "aria-describedby", "aria-controls":
				refs = append(refs, strings.Fields(a.Val)...)
			case "for":
				if tok.Data == "label" {
					refs = append(refs, a.Val)
				}
			}
		}
	}
	for _, r := range refs {
		if !ids[r] {
			t.Errorf("%s: a reference to id %q, which no element has", name, r)
		}
	}
}

// TestRelatedPostsMatchesNaive compares relatedPosts, which shares one
// ranking among posts with the same tags, with the plain definition on
// posts with overlapping tag sets.
func TestRelatedPostsMatchesNaive(t *testing.T) {
	site := handSite(80)
	pool := []string{"a", "b", "c", "d", "e"}
	for i, p := range site.Posts {
		p.Tags = nil
		for k, tag := range pool {
			if (i*7+k*3)%(k+2) == 0 {
				p.Tags = append(p.Tags, tag)
			}
		}
	}
	for _, n := range []int{1, 3, 5} {
		b := &build{cfg: site.Config, base: "/", loc: locale.For("en", nil)}
		b.site = &SiteData{}
		b.preparePosts(site.Posts)
		b.relatedPosts(n)
		for i, d := range b.posts {
			common := func(o *PostData) int {
				c := 0
				for _, x := range d.TagLinks {
					for _, y := range o.TagLinks {
						if x.Slug == y.Slug {
							c++
						}
					}
				}
				return c
			}
			var others []int
			for j := range b.posts {
				if j != i {
					others = append(others, j)
				}
			}
			slices.SortStableFunc(others, func(x, y int) int {
				cx, cy := common(b.posts[x]), common(b.posts[y])
				if cx != cy {
					return cy - cx
				}
				return x - y
			})
			var want []string
			for _, j := range others[:n] {
				want = append(want, b.posts[j].Title)
			}
			var got []string
			for _, r := range d.Related {
				got = append(got, r.Title)
			}
			if !slices.Equal(got, want) {
				t.Errorf("n=%d, post %d %v: related %q, want %q", n, i, d.Post.Tags, got, want)
			}
		}
	}
}
