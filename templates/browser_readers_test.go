package templates

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/publishbot/publishbot/posts"
)

// axeTags are the rules axe-core runs: WCAG 2.0, 2.1 and 2.2, levels A
// and AA.
const axeTags = `["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]`

// axeCheck returns a browseSite check that runs axe-core (vendored in
// testdata/axe, see its SOURCE.md) on the page and reports every
// violation: rule, impact and the elements.
func axeCheck(t *testing.T) func(ctx context.Context, name string) (string, error) {
	src, err := os.ReadFile(filepath.Join("testdata", "axe", "axe.min.js"))
	if err != nil {
		t.Fatalf("axe-core: %v", err)
	}
	return func(ctx context.Context, name string) (string, error) {
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](string(src)+"\n;true")); err != nil {
			return "", fmt.Errorf("inject axe: %w", err)
		}
		got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`axe.run(document, {runOnly: {type: "tag", values: `+axeTags+`}, resultTypes: ["violations"]})
			.then(r => r.passes.length < 10 ? ["axe ran only " + r.passes.length + " rules that passed"] :
				r.violations.map(v => v.id + " (" + v.impact + "): " + v.nodes.map(n => n.target.join(" ")).join(", ")))`, chromedp.EvalAwaitPromise))
		if err != nil {
			return "", fmt.Errorf("run axe: %w", err)
		}
		if len(got) > 0 {
			return "axe-core finds " + strings.Join(got, "; "), nil
		}
		return "", nil
	}
}

// TestBrowserAxe runs axe-core (WCAG 2.2 A and AA) on the example blog's
// pages: the index and its page 2, posts with code, footnotes, a task
// list, a table and images, a tag page, the archive, the search page
// with results, and the 404; in light and dark, at 1280 and 390 px. It
// asserts zero violations.
func TestBrowserAxe(t *testing.T) {
	var tag string
	render := func(baseURL string) map[string][]byte {
		site, out := renderDir(t, exampleBlogDir, posts.Options{BaseURL: baseURL}, Options{})
		for _, p := range shown(site, Options{}) {
			if len(p.Tags) > 0 {
				tag = "tags/" + posts.TagSlug(p.Tags[0]) + "/"
				break
			}
		}
		return out
	}
	pages := func() map[string]string {
		return map[string]string{
			"index": "", "page-2": "page/2/", "tag": tag, "archive": "archive/", "404": "no/such/page/",
			"post-code-image":   "posts/faster-builds-with-go/",
			"post-footnotes":    "posts/footnotes-and-asides/",
			"post-table-tasks":  "posts/tables-are-back/",
			"post-images-cover": "posts/mapping-the-office-network/",
			"search":            "search/?q=build",
		}
	}
	check := axeCheck(t)
	browseSite(t, render, pages, nil, func(ctx context.Context, name string) (string, error) {
		if name == "search" { // wait for the results the query in the address gives
			if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelectorAll("#search-results li").length > 0`,
				chromedp.WithPollingTimeout(10*time.Second))); err != nil {
				return "", fmt.Errorf("no search results: %w", err)
			}
		}
		return check(ctx, name)
	})
}

// TestBrowserAxeWideCode runs axe-core on a post whose code block and
// table are wider than a phone: both scroll in their own box, and a
// keyboard must reach them.
func TestBrowserAxeWideCode(t *testing.T) {
	dir := filepath.Join("testdata", "stress")
	render := func(baseURL string) map[string][]byte {
		_, out := renderDir(t, dir, posts.Options{BaseURL: baseURL}, Options{})
		return out
	}
	pages := func() map[string]string { return map[string]string{"post": "posts/stress/"} }
	browseSite(t, render, pages, nil, axeCheck(t))
}
