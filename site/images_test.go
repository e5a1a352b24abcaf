package site

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"github.com/publishbot/publishbot/imagery"
	it "github.com/publishbot/publishbot/imagery/imagerytest"
	"github.com/publishbot/publishbot/posts"
	"github.com/publishbot/publishbot/templates"
)

// photoSite is a blog with the kinds of images a blogger commits: a bundle
// with a phone photo as cover (with a GPS location) and an image beside
// it, static/ images, raw HTML images, an external image, a post without a
// cover, a decompression bomb and an image over 50 megapixels.
func photoSite(t testing.TB, yaml string) fstest.MapFS {
	cover := it.WithEXIF(it.JPEG(t, it.Photo(1800, 1200)), it.EXIF(1, true))
	inner := it.WithPNGText(it.PNG(t, it.Photo(1000, 600)), nil)
	return fstest.MapFS{
		"publish.yaml": {Data: []byte("title: Photos\nbase_url: https://example.org/blog/\n" + yaml)},
		"posts/photo/index.md": {Data: []byte(`---
title: Photo
date: 2026-05-01
image: cover.jpg
image_alt: A red and blue photo
---
Text.

![beside](inner.png)

![chart](/img/chart.png)

![elsewhere](https://other.example/x.jpg)

<picture><source srcset="inner.png"><img src="inner.png" alt="own picture"></picture>
`)},
		"posts/photo/cover.jpg":     {Data: cover},
		"posts/photo/inner.png":     {Data: inner},
		"posts/2026-05-02-plain.md": {Data: []byte("---\ntitle: Plain\n---\nIntro.\n\n![first](/img/chart.png)\n\n![second](/img/chart.png)\n\n![large](/img/huge.png)\n")},
		"static/img/chart.png":      {Data: it.PNG(t, it.Photo(700, 300))},
		"static/img/bomb.png":       {Data: it.PNGHeader(100_000, 100_000, 64)},
		"static/img/huge.png":       {Data: it.PNGHeader(8000, 7000, 60_000)},
	}
}

var imgRE = regexp.MustCompile(`<img [^>]*>`)

func imgs(t *testing.T, files map[string][]byte, page string) []string {
	t.Helper()
	html, ok := files[page]
	if !ok {
		t.Fatalf("no %s", page)
	}
	return imgRE.FindAllString(string(html), -1)
}

func attr(tag, name string) (string, bool) {
	m := regexp.MustCompile(` ` + name + `="([^"]*)"`).FindStringSubmatch(tag)
	if m == nil {
		return "", false
	}
	return m[1], true
}

func TestResponsiveImages(t *testing.T) {
	content := photoSite(t, "")
	out, err := Build(t.Context(), content, nil, Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	files := out.Files
	assertKnown(t, out) // the variants are known outputs too
	tags := imgs(t, files, "posts/photo/index.html")
	if len(tags) != 5 {
		t.Fatalf("%d img elements on the photo post, want 5:\n%s", len(tags), strings.Join(tags, "\n"))
	}
	cover := tags[0]
	for _, want := range []string{`src="/blog/posts/photo/cover.jpg"`, `width="1800"`, `height="1200"`, `fetchpriority="high"`, `sizes="(min-width: 42rem) 39.5rem, calc(100vw - 2.5rem)"`} {
		if !strings.Contains(cover, want) {
			t.Errorf("cover lacks %s: %s", want, cover)
		}
	}
	if strings.Contains(cover, "loading=") {
		t.Errorf("the cover loads lazily: %s", cover)
	}
	srcset, _ := attr(cover, "srcset")
	var widths []string
	for _, c := range strings.Split(srcset, ", ") {
		u, w, _ := strings.Cut(c, " ")
		widths = append(widths, w)
		if _, ok := files[strings.TrimPrefix(u, "/blog/")]; !ok {
			t.Errorf("srcset names %s, which the site does not have", u)
		}
	}
	if strings.Join(widths, " ") != "480w 960w 1600w 1800w" {
		t.Errorf("cover srcset widths %v, want 480w 960w 1600w 1800w (never upscaled)", widths)
	}
	if bytes.Contains(files["posts/photo/cover.jpg"], []byte("PhoneCam")) {
		t.Error("the published cover keeps its camera metadata")
	}
	if bytes.Contains(files["posts/photo/inner.png"], []byte("Alice")) {
		t.Error("the published PNG keeps its text chunks")
	}
	beside := tags[1]
	for _, want := range []string{`src="inner.png"`, `width="1000"`, `height="600"`, `loading="lazy"`, `srcset="/blog/posts/photo/inner-480w-`} {
		if !strings.Contains(beside, want) {
			t.Errorf("bundle image lacks %s: %s", want, beside)
		}
	}
	if !strings.Contains(tags[2], `width="700"`) || !strings.Contains(tags[2], `loading="lazy"`) {
		t.Errorf("static image: %s", tags[2])
	}
	if ext := tags[3]; strings.Contains(ext, "width=") || !strings.Contains(ext, `loading="lazy"`) {
		t.Errorf("external image: %s", ext)
	}
	if own := tags[4]; strings.Contains(own, "srcset") || !strings.Contains(own, `width="1000"`) {
		t.Errorf("an img in the author's own picture gets a srcset or no size: %s", own)
	}
	if strings.Count(string(files["posts/photo/index.html"]), "<picture>") > 1+strings.Count(string(files["posts/photo/index.html"]), "image/webp") {
		t.Error("a picture inside a picture")
	}

	plain := imgs(t, files, "posts/plain/index.html")
	if len(plain) != 3 || !strings.Contains(plain[0], `fetchpriority="high"`) || strings.Contains(plain[0], "loading=") ||
		!strings.Contains(plain[1], `loading="lazy"`) || strings.Contains(plain[1], "fetchpriority") {
		t.Errorf("without a cover, the first image should load first and the others lazily:\n%s", strings.Join(plain, "\n"))
	}
	if !strings.Contains(plain[2], `width="8000"`) || strings.Contains(plain[2], "srcset") {
		t.Errorf("over 50 MP: size but no variants: %s", plain[2])
	}

	codes := map[string][]string{}
	for _, d := range out.Site.Diagnostics {
		if d.Severity == posts.SeverityError {
			t.Errorf("error: %s", d)
		}
		if strings.HasPrefix(d.Code, "image-") {
			codes[d.Code] = append(codes[d.Code], d.File)
		}
	}
	// The PNG's XMP (iTXt) has a GPSLatitude too: one warning per image.
	for code, want := range map[string]string{posts.CodeImageLocation: "posts/photo/cover.jpg posts/photo/inner.png", posts.CodeImageBomb: "static/img/bomb.png", posts.CodeImageTooLarge: "static/img/huge.png"} {
		if got := strings.Join(codes[code], " "); got != want {
			t.Errorf("%s warnings for %q, want one each for %q", code, got, want)
		}
	}
	if _, ok := files["img/bomb.png"]; ok {
		t.Error("the decompression bomb was published")
	}
	if _, ok := files["img/huge.png"]; !ok {
		t.Error("the image over 50 MP was not published")
	}
}

// countingImageCache counts the results a build had to compute.
type countingImageCache struct {
	*imagery.MemCache
	puts atomic.Int64
}

func (c *countingImageCache) Put(k string, v []byte) { c.puts.Add(1); c.MemCache.Put(k, v) }

func TestImagesReproducibleAndCached(t *testing.T) {
	content := photoSite(t, "")
	build := func(p templates.ImageProcessor) map[string][]byte {
		out, err := Build(t.Context(), content, nil, Options{Now: fixedNow, Render: templates.Options{Images: p}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Files
	}
	a, b := build(nil), build(nil)
	same := func(x, y map[string][]byte) bool {
		if len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if !bytes.Equal(v, y[k]) {
				t.Logf("%s differs", k)
				return false
			}
		}
		return true
	}
	if !same(a, b) {
		t.Fatal("two builds of the same content differ")
	}
	cache := &countingImageCache{MemCache: imagery.NewMemCache()}
	c := build(imagery.New(cache))
	cold := cache.puts.Load()
	d := build(imagery.New(cache))
	if !same(a, c) || !same(a, d) {
		t.Fatal("a build with a cache differs from one without")
	}
	if cold == 0 || cache.puts.Load() != cold {
		t.Errorf("cold build computed %d images, the warm one %d more; want none", cold, cache.puts.Load()-cold)
	}
}

func TestImagesSettings(t *testing.T) {
	off, err := Build(t.Context(), photoSite(t, "images: {resize: false}\n"), nil, Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	for name := range off.Files {
		if strings.Contains(name, "w-") || strings.HasSuffix(name, ".webp") {
			t.Errorf("resize: false, yet %s", name)
		}
	}
	cover := imgs(t, off.Files, "posts/photo/index.html")[0]
	if strings.Contains(cover, "srcset") || !strings.Contains(cover, `width="1800"`) {
		t.Errorf("resize: false: want size, no srcset: %s", cover)
	}
	content := photoSite(t, "images: {keep_metadata: true}\n")
	keep, err := Build(t.Context(), content, nil, Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(keep.Files["posts/photo/cover.jpg"], content["posts/photo/cover.jpg"].Data) {
		t.Error("keep_metadata: the cover was changed")
	}
	found := false
	for _, d := range keep.Site.Diagnostics {
		found = found || d.Code == posts.CodeImageLocation && strings.Contains(d.Message, "keep_metadata")
	}
	if !found {
		t.Error("keep_metadata: no warning that a location is published")
	}
}

func TestExampleBlogPhotoPost(t *testing.T) {
	out, err := BuildDir(context.Background(), exampleBlogDir, Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	tags := imgs(t, out.Files, "posts/an-evening-by-the-lake/index.html")
	if len(tags) != 2 {
		t.Fatalf("%d images on the photo post", len(tags))
	}
	for i, want := range [][]string{
		{`width="2400" height="1600"`, `fetchpriority="high"`, "lake-480w-", "lake-960w-", "lake-1600w-", "lake.jpg 2400w"},
		{`width="1200" height="1800"`, `loading="lazy"`, "pier-480w-", "pier-960w-", "pier.jpg 1200w"},
	} {
		for _, w := range want {
			if !strings.Contains(tags[i], w) {
				t.Errorf("image %d lacks %s: %s", i, w, tags[i])
			}
		}
	}
	for _, d := range out.Site.Diagnostics {
		if strings.HasPrefix(d.Code, "image-") {
			t.Errorf("example blog: %s", d)
		}
	}
}
