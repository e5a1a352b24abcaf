package templates

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/publishbot/publishbot/posts"
)

// TestBrowserResponsiveImages loads the example blog's photo post in
// headless Chromium at a phone's and a desktop's width and checks which
// file the browser chose for the cover and for the lazy image in the text:
// the narrowest variant that fills the column at the screen's density,
// never the 2400 px original, and boxes of the right shape before any
// pixel arrives (width and height attributes).
func TestBrowserResponsiveImages(t *testing.T) {
	ctx := newBrowser(t)
	_, files := renderDir(t, exampleBlogDir, posts.Options{Now: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)}, Options{})
	srv := httptest.NewServer(siteHandler("/blog/", files))
	defer srv.Close()
	for _, tc := range []struct {
		name          string
		width, height int64
		scale         float64
		cover, pier   string // the variant each image should load
	}{
		{"phone", 390, 844, 1, "lake-480w-", "pier-480w-"},
		{"phone-2x", 390, 844, 2, "lake-960w-", "pier-960w-"},
		{"desktop", 1280, 900, 1, "lake-960w-", "pier-960w-"},
		{"desktop-2x", 1280, 900, 2, "lake-1600w-", "pier.jpg"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(tc.scale)}
			if tc.width < 500 {
				opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
			}
			// A fresh page per size: the browser keeps a chosen candidate
			// for an image it has already loaded.
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(tc.width, tc.height, opts...),
				chromedp.Navigate("about:blank"), chromedp.Navigate(srv.URL+"/blog/posts/an-evening-by-the-lake/?"+tc.name)); err != nil {
				t.Fatal(err)
			}
			// The box of the lazy image has its shape before it loads.
			ratio, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`(() => { const r = document.querySelector(".content img").getBoundingClientRect(); return r.height / r.width })()`))
			if err != nil || ratio < 1.49 || ratio > 1.51 {
				t.Errorf("the portrait image's box is %.3f times as high as wide before loading, want 1.5 (%v)", ratio, err)
			}
			wait := `(async () => {
				const img = document.querySelector(SEL);
				img.scrollIntoView();
				for (let i = 0; i < 200 && !(img.complete && img.currentSrc); i++) await new Promise(r => setTimeout(r, 25));
				return img.currentSrc + " " + img.naturalWidth;
			})()`
			for _, img := range []struct{ sel, want string }{{".cover img", tc.cover}, {".content img", tc.pier}} {
				got, err := chromedp.Run(ctx, chromedp.Evaluate[string](strings.Replace(wait, "SEL", `"`+img.sel+`"`, 1), chromedp.EvalAwaitPromise))
				if err != nil {
					t.Fatal(err)
				}
				src, _, _ := strings.Cut(got, " ")
				if !strings.Contains(src[strings.LastIndex(src, "/")+1:], img.want) {
					t.Errorf("%s loaded %q, want %s…", img.sel, got, img.want)
				}
			}
		})
	}
}
