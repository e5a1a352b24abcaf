package templates

import (
	"context"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/publishbot/publishbot/browsertest"
	"github.com/publishbot/publishbot/posts"
)

// siteHandler serves rendered files under prefix the way GitHub Pages does:
// folders by their index.html, 404.html for anything missing.
func siteHandler(prefix string, files map[string][]byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := strings.CutPrefix(r.URL.Path, prefix)
		if !ok {
			http.NotFound(w, r)
			return
		}
		if p == "" || strings.HasSuffix(p, "/") {
			p += "index.html"
		}
		p = path.Clean(p)
		data, ok := files[p]
		status := http.StatusOK
		if !ok {
			status, p, data = http.StatusNotFound, "404.html", files["404.html"]
		}
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = http.DetectContentType(data)
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(status)
		w.Write(data)
	})
}

// browserProblems records what a reader's browser would complain about.
type browserProblems struct {
	mu       sync.Mutex
	problems []string
	host     string // the test server's host:port; anything else is external
	missing  string // the one URL path that is meant to be a 404
}

func (b *browserProblems) add(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.problems = append(b.problems, fmt.Sprintf(format, args...))
}

func (b *browserProblems) listen(ev any) {
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning {
			b.add("console %s", ev.Type)
		}
	case *runtime.EventExceptionThrown:
		b.add("exception: %s", ev.ExceptionDetails.Text)
	case *log.EventEntryAdded:
		if b.missing != "" && strings.HasSuffix(ev.Entry.URL, b.missing) && strings.Contains(ev.Entry.Text, "404") {
			return
		}
		if ev.Entry.Level == log.EntryLevelError || ev.Entry.Level == log.EntryLevelWarning {
			b.add("browser log %s: %s %s", ev.Entry.Level, ev.Entry.Text, ev.Entry.URL)
		}
	case *network.EventRequestWillBeSent:
		if u := ev.Request.URL; !strings.HasPrefix(u, "http://"+b.host+"/") && !strings.HasPrefix(u, "data:") {
			b.add("request to another host: %s", u)
		}
	case *network.EventLoadingFailed:
		if !ev.Canceled { // a navigation cancels what the last page still loaded
			b.add("request failed: %s %s", ev.Type, ev.ErrorText)
		}
	case *network.EventResponseReceived:
		if ev.Response.Status >= 400 && !(b.missing != "" && strings.HasSuffix(ev.Response.URL, b.missing) && ev.Response.Status == 404) {
			b.add("HTTP %d for %s", ev.Response.Status, ev.Response.URL)
		}
	}
}

func (b *browserProblems) take() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.problems
	b.problems = nil
	return p
}

// newBrowser starts headless Chromium for t (browsertest's one launcher),
// or skips when it is not installed (never in CI).
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	return browsertest.New(t, 0)
}

func colorScheme(scheme string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return err
	})
}

// browseSite loads pages of files, served under /blog/, in headless
// Chromium: no console error, no failed or external request, no sideways
// scrolling on a phone; screenshots go to the test's artifact folder.
// render gets the base URL of the test server. check, when not nil, is
// called on every page at every size and says what is wrong ("" for
// nothing).
func browseSite(t *testing.T, render func(baseURL string) map[string][]byte, pageList func() map[string]string, shots []string,
	check func(ctx context.Context, name string) (string, error)) {
	ctx := newBrowser(t)
	problems := &browserProblems{}
	if err := chromedp.Listen(ctx, problems.listen); err != nil {
		t.Fatalf("listen: %v", err)
	}
	var handler http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	defer srv.Close()
	handler = siteHandler("/blog/", render(srv.URL+"/blog/"))
	pages := pageList()
	problems.host = strings.TrimPrefix(srv.URL, "http://")
	problems.missing = "/blog/no/such/page/"

	dir := t.ArtifactDir()
	t.Logf("screenshots in %s", dir)
	type size struct {
		name          string
		width, height int64
		mobile        bool
	}
	sizes := []size{{"phone", 390, 844, true}, {"desktop", 1280, 900, false}}
	for _, scheme := range []string{"light", "dark"} {
		for _, sz := range sizes {
			opts := []chromedp.EmulateViewportOption{}
			if sz.mobile {
				opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
			}
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(sz.width, sz.height, opts...), colorScheme(scheme)); err != nil {
				t.Fatalf("emulate %s: %v", sz.name, err)
			}
			for _, name := range sortedNames(pages) {
				u := srv.URL + "/blog/" + pages[name]
				if err := chromedp.Do(ctx, chromedp.Navigate(u)); err != nil {
					t.Fatalf("load %s: %v", u, err)
				}
				// Against the emulated width, not innerWidth: a phone zooms out
				// to fit wide content, and innerWidth grows with it.
				width, err := chromedp.Run(ctx, chromedp.Evaluate[int64](`document.documentElement.scrollWidth`))
				if err != nil {
					t.Fatalf("measure %s: %v", u, err)
				}
				if width > sz.width {
					t.Errorf("%s at %dpx scrolls sideways (%dpx wide)", name, sz.width, width)
				}
				lang, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.lang + "|" + document.querySelectorAll("body > header, main, body > footer").length`))
				if err != nil || !strings.HasSuffix(lang, "|3") || strings.HasPrefix(lang, "|") {
					t.Errorf("%s: lang and landmarks = %q, %v", name, lang, err)
				}
				if check != nil {
					if problem, err := check(ctx, name); err != nil || problem != "" {
						t.Errorf("%s at %dpx: %s %v", name, sz.width, problem, err)
					}
				}
				if !contains(shots, name) && !(scheme == "light" && sz.name == "desktop") {
					continue
				}
				png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
				if err != nil {
					t.Fatalf("screenshot %s: %v", u, err)
				}
				file := filepath.Join(dir, fmt.Sprintf("%s-%s-%s.png", name, sz.name, scheme))
				if err := os.WriteFile(file, png, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if p := problems.take(); len(p) > 0 {
		t.Errorf("the browser reported problems:\n%s", strings.Join(p, "\n"))
	}
}

func sortedNames(m map[string]string) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestBrowserExampleBlog loads the built examples/blog, served under
// /blog/ as a project site, in headless Chromium.
func TestBrowserExampleBlog(t *testing.T) {
	var post, tag string
	render := func(baseURL string) map[string][]byte {
		site, out := renderDir(t, exampleBlogDir, posts.Options{BaseURL: baseURL}, Options{})
		// the post with a cover image and the most tags shows the most theme
		best := -1
		for _, p := range shown(site, Options{}) {
			score := len(p.Tags)
			if p.Image != "" {
				score += 10
			}
			if score > best {
				best, post = score, posts.PostPath(p.Slug)
				if len(p.Tags) > 0 {
					tag = "tags/" + posts.TagSlug(p.Tags[0]) + "/"
				}
			}
		}
		return out
	}
	pages := func() map[string]string {
		return map[string]string{"index": "", "post": post, "tag": tag, "archive": "archive/", "404": "no/such/page/",
			"about": "about/", "tags": "tags/"}
	}
	// Every page has the menu, every link of it on screen, and the link of
	// the page itself marked current.
	current := map[string]string{"about": "About", "archive": "Archive", "tags": "Tags"}
	check := func(ctx context.Context, name string) (string, error) {
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
			const nav = document.querySelector('header nav[aria-label="Main"]');
			if (!nav) return "no menu";
			const width = document.documentElement.clientWidth;
			const links = [...nav.querySelectorAll("li > a")];
			const off = links.filter(a => { const r = a.getBoundingClientRect(); return r.width === 0 || r.left < 0 || r.right > width; });
			const cur = [...nav.querySelectorAll('[aria-current="page"]')];
			return links.map(a => a.textContent).join(",") + "|" + cur.map(a => a.textContent).join(",") + "|" + off.map(a => a.textContent).join(",");
		})()`))
		if err != nil {
			return "", err
		}
		if want := "Archive,Tags,About|" + current[name] + "|"; got != want {
			return fmt.Sprintf("menu (links|current|off screen) = %q, want %q", got, want), nil
		}
		return "", nil
	}
	browseSite(t, render, pages, []string{"index", "post", "about"}, check)
}

// TestBrowserStress loads a post of long words, URLs, tags, inline code,
// a wide table and a wide code block: a phone must never scroll sideways
// (the code and the table scroll inside their own boxes).
func TestBrowserStress(t *testing.T) {
	dir := filepath.Join("testdata", "stress")
	render := func(baseURL string) map[string][]byte {
		_, out := renderDir(t, dir, posts.Options{BaseURL: baseURL}, Options{})
		return out
	}
	pages := func() map[string]string {
		return map[string]string{"index": "", "post": "posts/stress/", "tag": "tags/averyveryverylongtagnamewithoutanyspacesatallfortesting/",
			"section": "posts/a-section-with-a-very-long-name/"}
	}
	browseSite(t, render, pages, []string{"post", "section"}, nil)
}

// codePost is a post with a contents list and a code block with options,
// one of whose lines is far wider than a phone.
var codePost = "---\ntitle: Code and contents\ndate: 2026-03-01\ntoc: true\n---\n" +
	"Intro.\n\n## Setting up\n\nFirst the file:\n\n" +
	"```go {linenos=true, hl_lines=[2, \"4-5\"], linenostart=10, title=\"main.go\"}\n" +
	"package main\n\nimport \"fmt\"\n\nfunc main() {\n" +
	"\tfmt.Println(\"a line that is much wider than the screen of a phone, so that the block scrolls sideways inside its own box\")\n}\n```\n\n" +
	"### Running it\n\nRun it.\n\n" + strings.Repeat("Filler paragraph to make the page scroll.\n\n", 40) +
	"## Results\n\n" + strings.Repeat("More text.\n\n", 40)

// TestBrowserTOCAndCode: the contents list's links land on their
// headings; the wide code block scrolls inside its box, is reached with
// the Tab key and scrolled with the arrow keys, and has a name; light and
// dark screenshots show the line numbers, highlighted lines and caption.
func TestBrowserTOCAndCode(t *testing.T) {
	content := fstest.MapFS{
		"publish.yaml":                  {Data: []byte("title: Code blog\n")},
		"posts/2026-03-01-code.md":      {Data: []byte(codePost)},
		"posts/2026-02-01-other-one.md": {Data: []byte("---\ntitle: Other\n---\nText.\n")},
	}
	var base string
	render := func(baseURL string) map[string][]byte {
		base = baseURL
		site, err := posts.Load(t.Context(), content, posts.Options{BaseURL: baseURL, Now: fixedNow})
		if err != nil || len(site.Posts) != 2 {
			t.Fatalf("load: %v %v", err, site.Diagnostics)
		}
		return mustRender(t, site, content, Options{})
	}
	pages := func() map[string]string { return map[string]string{"post": "posts/code/"} }
	browseSite(t, render, pages, []string{"post"}, nil)

	// The same pages again, for what a reader does on them.
	ctx := newBrowser(t)
	var handler http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	defer srv.Close()
	handler = siteHandler("/blog/", render(srv.URL+"/blog/"))
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch),
		chromedp.Navigate(base+"posts/code/")); err != nil {
		t.Fatal(err)
	}
	links, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('nav.toc a')].map(a => a.getAttribute('href'))`))
	if err != nil || strings.Join(links, " ") != "#setting-up #running-it #results" {
		t.Fatalf("contents links %q, %v", links, err)
	}
	for _, href := range links {
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`nav.toc a[href="`+href+`"]`))); err != nil {
			t.Fatal(err)
		}
		got, err := chromedp.Run(ctx, chromedp.Poll[string](`(() => {
			const h = document.getElementById(location.hash.slice(1));
			if (!h) return '';
			const top = h.getBoundingClientRect().top;
			return top >= 0 && top < 60 ? location.hash + ' ' + h.tagName : '';
		})()`, chromedp.WithPollingTimeout(5*time.Second)))
		if err != nil || !strings.HasPrefix(got, href+" H") {
			t.Errorf("link %s did not bring its heading to the top: %q %v", href, got, err)
		}
	}
	// Tab from the top of the page until the code block has the focus.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"posts/code/")); err != nil {
		t.Fatal(err)
	}
	focused := ""
	for i := 0; i < 40 && focused != "PRE"; i++ {
		if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
			t.Fatal(err)
		}
		if focused, err = chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.tagName`)); err != nil {
			t.Fatal(err)
		}
	}
	if focused != "PRE" {
		t.Fatalf("the Tab key never reached the code block")
	}
	wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.activeElement.scrollWidth > document.activeElement.clientWidth`))
	if err != nil || !wide {
		t.Fatalf("the code block does not scroll sideways at 390px (%v): the test proves nothing", err)
	}
	for range 5 {
		if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.ArrowRight)); err != nil {
			t.Fatal(err)
		}
	}
	scrolled, err := chromedp.Run(ctx, chromedp.Poll[float64](`document.activeElement.scrollLeft > 0 ? document.activeElement.scrollLeft : null`,
		chromedp.WithPollingTimeout(5*time.Second)))
	if err != nil || scrolled <= 0 {
		t.Errorf("the arrow keys do not scroll the focused code block: %v %v", scrolled, err)
	}
	// Its accessible name and role, as the browser computes them.
	nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS("pre.chroma")))
	if err != nil || len(nodes) != 1 {
		t.Fatalf("code block: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		no := false
		res, err := cdp.Call(ctx, tg, accessibility.GetPartialAXTree, accessibility.GetPartialAXTreeParams{BackendNodeID: nodes[0].BackendNodeID, FetchRelatives: &no})
		if err != nil {
			return err
		}
		if len(res.Nodes) == 0 || res.Nodes[0].Name == nil || res.Nodes[0].Role == nil {
			return fmt.Errorf("no accessibility node for the code block")
		}
		if name, role := string(res.Nodes[0].Name.Value), string(res.Nodes[0].Role.Value); name != `"main.go"` || role != `"group"` {
			t.Errorf("code block's accessible name %s, role %s; want \"main.go\", \"group\"", name, role)
		}
		return nil
	})); err != nil {
		t.Fatal(err)
	}
}
