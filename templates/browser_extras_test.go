package templates

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/fstest"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/publishbot/publishbot/posts"
)

// TestBrowserMathAndDiagrams: in Chromium, the formulas of a math post
// are MathML elements that take up room on the page (MathML Core is
// rendered natively, with no script), the ```mermaid block of another
// post is drawn as an SVG by the site's own copy of Mermaid, and a page
// with neither loads no script at all. browseSite checks the usual: no
// console error, no request to another host, no sideways scrolling.
func TestBrowserMathAndDiagrams(t *testing.T) {
	content := fstest.MapFS{}
	for name, data := range extrasFiles {
		content[name] = &fstest.MapFile{Data: []byte(data)}
	}
	render := func(baseURL string) map[string][]byte {
		site, err := posts.Load(t.Context(), content, posts.Options{BaseURL: baseURL, Now: fixedNow})
		if err != nil || posts.HasErrors(site.Diagnostics) {
			t.Fatalf("load: %v %v", err, site.Diagnostics)
		}
		return mustRender(t, site, content, Options{})
	}
	pages := func() map[string]string {
		return map[string]string{"math": "posts/math/", "diagram": "posts/diagram/", "plain": "posts/plain/"}
	}
	browseSite(t, render, pages, []string{"math", "diagram"}, nil)

	ctx := newBrowser(t)
	var handler http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	defer srv.Close()
	handler = siteHandler("/blog/", render(srv.URL+"/blog/"))
	base := srv.URL + "/blog/"

	if err := chromedp.Do(ctx, chromedp.Navigate(base+"posts/math/")); err != nil {
		t.Fatal(err)
	}
	sizes, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("math")].map(m => {
		const r = m.getBoundingClientRect();
		return m.namespaceURI + " " + (r.width > 0 && r.height > 0 ? "sized" : "empty " + r.width + "x" + r.height) + " " + getComputedStyle(m).display;
	})`))
	if err != nil {
		t.Fatal(err)
	}
	// inline-flex is Temml's stylesheet (line breaking in Chromium): it loaded.
	want := []string{"http://www.w3.org/1998/Math/MathML sized inline-flex", "http://www.w3.org/1998/Math/MathML sized block math"}
	if len(sizes) != 2 || sizes[0] != want[0] || sizes[1] != want[1] {
		t.Errorf("formulas as rendered: %q, want %q", sizes, want)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(base+"posts/diagram/")); err != nil {
		t.Fatal(err)
	}
	drawn, err := chromedp.Run(ctx, chromedp.Poll[string](`(() => {
		const svg = document.querySelector("pre.mermaid svg");
		if (!svg) return null;
		const r = svg.getBoundingClientRect();
		const labels = [...svg.querySelectorAll("text, foreignObject, span")].map(e => e.textContent).join("|");
		// Mermaid measures text in an SVG of its own before it puts the
		// diagram in place: only the diagram says what it is
		const role = svg.getAttribute("aria-roledescription");
		return r.width > 0 && r.height > 0 && labels.includes("Start") && role ? "drawn " + role : null;
	})()`, chromedp.WithPollingTimeout(30*time.Second)))
	if err != nil || drawn != "drawn flowchart-v2" {
		t.Errorf("the diagram was not drawn as an SVG: %q %v", drawn, err)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(base+"posts/plain/")); err != nil {
		t.Fatal(err)
	}
	none, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelectorAll('script:not([type="application/ld+json"])').length + " " + typeof window.mermaid + " " + document.querySelectorAll("math").length`))
	if err != nil || none != "0 undefined 0" {
		t.Errorf("the page without diagrams or math: scripts, mermaid, formulas = %q, %v", none, err)
	}
}
