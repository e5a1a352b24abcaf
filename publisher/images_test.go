package publisher

import (
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/publishbot/publishbot/gitserver"
	"github.com/publishbot/publishbot/imagery"
)

// An image's variants are files of the pages tree like any other: a
// publish that does not change an image writes none of its files again,
// and one that changes an image writes only that image's files. The image
// work itself is cached by content hash, so it is not redone either.
func TestPublishWritesOnlyChangedImages(t *testing.T) {
	cache := imagery.NewMemCache()
	e := newEnv(t, func(o *Options) { o.Images = imagery.New(cache) })
	files := exampleBlog(t)
	mustOutcome(t, e.publish(e.commit(gitserver.Change{Ref: "main", Message: "Import the blog", Files: files})), OutcomePublished)
	pages := e.files("gh-pages")
	var variants []string
	for _, f := range pages {
		if strings.HasPrefix(f, "posts/an-evening-by-the-lake/") && strings.Contains(f, "w-") {
			variants = append(variants, f)
		}
	}
	if len(variants) < 4 {
		t.Fatalf("photo post variants on gh-pages: %v", variants)
	}
	cached := cache.Len()

	changed := func() []string {
		t.Helper()
		out := e.git("diff", "--name-only", "gh-pages~1", "gh-pages")
		return strings.Split(out, "\n")
	}
	isImage := func(f string) bool {
		switch path.Ext(f) {
		case ".jpg", ".jpeg", ".png", ".webp", ".gif":
			return true
		}
		return false
	}

	// A text change: no image file is written.
	post := "posts/2025-11-03-hello-world.md"
	mustOutcome(t, e.publish(e.commit(gitserver.Change{Ref: "main", Message: "Edit", Files: map[string]string{post: files[post] + "\nOne more line.\n"}})), OutcomePublished)
	if c := changed(); slices.ContainsFunc(c, isImage) {
		t.Errorf("a text change rewrote images: %v", c)
	}
	if cache.Len() != cached {
		t.Errorf("the cache grew from %d to %d entries for unchanged images", cached, cache.Len())
	}

	// A new photo: only its files change.
	lake := "posts/2026-05-20-an-evening-by-the-lake/lake.jpg"
	pier := "posts/2026-05-20-an-evening-by-the-lake/pier.jpg"
	mustOutcome(t, e.publish(e.commit(gitserver.Change{Ref: "main", Message: "Another photo", Files: map[string]string{lake: files[pier]}})), OutcomePublished)
	for _, f := range changed() {
		if isImage(f) && !strings.HasPrefix(path.Base(f), "lake") {
			t.Errorf("replacing lake.jpg rewrote %s", f)
		}
	}
	if !slices.ContainsFunc(changed(), func(f string) bool { return strings.HasPrefix(path.Base(f), "lake-480w-") }) {
		t.Errorf("replacing lake.jpg did not change its variants: %v", changed())
	}
}
