package publisher

import (
	"context"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/publishbot/publishbot/buildcache"
	"github.com/publishbot/publishbot/gitserver"
	"github.com/publishbot/publishbot/site"
	"github.com/publishbot/publishbot/templates"
)

// incrementalBlog is a blog of n posts, p000 oldest, four per index page;
// p003 alone has the tag "solo", so no other post lists it as related.
func incrementalBlog(n int) map[string]string {
	files := map[string]string{"publish.yaml": "title: Blog\nper_page: 4\n"}
	for i := range n {
		tag := fmt.Sprint("t", i%3)
		if i == 3 {
			tag = "solo"
		}
		files[fmt.Sprintf("posts/p%03d.md", i)] = fmt.Sprintf("---\ntitle: Post %d\ndate: 2025-01-%02d\ntags: [%s]\n---\n\nThe body of post %d.\n", i, i+1, tag, i)
	}
	return files
}

// recordBuilds makes e's publisher note the files each build makes.
func recordBuilds(e *env) *[]string {
	var made []string
	inner := e.pub.build
	e.pub.build = func(ctx context.Context, in buildInput) (*site.Output, error) {
		out, err := inner(ctx, in)
		if out != nil {
			made = slices.Sorted(maps.Keys(out.Files))
		}
		return out, err
	}
	return &made
}

func openBuildCache(t *testing.T) *buildcache.Cache {
	t.Helper()
	bc, err := buildcache.Open(t.TempDir(), buildcache.Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bc.Close() })
	return bc
}

// TestIncrementalPublishRendersOnlyWhatChanged edits one old post of a
// blog: the publish renders that post, its neighbours, the index page and
// tag page that show its summary (the archive shows only titles and
// dates: it is kept), and the files made from every post (feeds, search);
// the pages branch is then the very tree a publisher without a cache
// makes.
func TestIncrementalPublishRendersOnlyWhatChanged(t *testing.T) {
	inc := newEnv(t, func(o *Options) { o.Cache = openBuildCache(t) })
	full := newEnv(t)
	made := recordBuilds(inc)
	blog := incrementalBlog(20)
	both := func(c gitserver.Change) {
		mustOutcome(t, inc.publish(inc.commit(c)), OutcomePublished)
		mustOutcome(t, full.publish(full.commit(c)), OutcomePublished)
		if a, b := inc.git("rev-parse", "gh-pages^{tree}"), full.git("rev-parse", "gh-pages^{tree}"); a != b {
			t.Fatalf("%s: the incremental publish made tree %s, the full one %s:\n%s", c.Message, a, b, inc.git("diff", "--stat", b, a))
		}
	}
	both(gitserver.Change{Ref: "main", Message: "import", Files: blog})
	all := len(*made)

	// p003 is the 17th newest: page 5 of the index.
	both(gitserver.Change{Ref: "main", Message: "edit p003", Files: map[string]string{
		"posts/p003.md": strings.Replace(blog["posts/p003.md"], "The body", "The edited body", 1),
	}})
	required := []string{"posts/p003/index.html", "posts/p002/index.html", "posts/p004/index.html",
		"page/5/index.html", "tags/solo/index.html", "search/index.json"}
	allowed := append(slices.Clone(required), "feed.xml", "rss.xml", "feed.json", "tags/solo/feed.xml", "search/words.json", "search/index.html")
	for _, p := range required {
		if !slices.Contains(*made, p) {
			t.Errorf("%s was not rendered; rendered: %v", p, *made)
		}
	}
	for _, p := range *made {
		if !slices.Contains(allowed, p) {
			t.Errorf("%s was rendered, though the edit cannot change it", p)
		}
	}
	t.Logf("one old post's body edited: %d of %d files rendered: %v", len(*made), all, *made)
	res := inc.publish(inc.head("main"))
	if res.Outcome != OutcomeUnchanged {
		t.Errorf("publishing the same commit again: %s", res.Outcome)
	}
	if res.Rendered != 0 || res.Kept != all {
		t.Errorf("the same commit again rendered %d and kept %d of %d files: %v", res.Rendered, res.Kept, all, *made)
	}

	// A change of every page (the site's title) and a new post.
	both(gitserver.Change{Ref: "main", Message: "retitle the site", Files: map[string]string{"publish.yaml": "title: Blog, renamed\nper_page: 4\n"}})
	for _, p := range full.files("gh-pages") {
		if strings.HasSuffix(p, ".html") && !slices.Contains(*made, p) {
			t.Errorf("a new site title did not render %s", p)
		}
	}
	both(gitserver.Change{Ref: "main", Message: "new post", Files: map[string]string{"posts/p100.md": "---\ntitle: New\ndate: 2025-02-01\n---\n\nNew.\n"}})
	both(gitserver.Change{Ref: "main", Message: "delete a post", Delete: []string{"posts/p010.md"}})
}

// A damaged manifest is discarded with a log line, and the publish
// renders every file.
func TestDamagedManifestIsDiscarded(t *testing.T) {
	bc := openBuildCache(t)
	e := newEnv(t, func(o *Options) { o.Cache = bc })
	made := recordBuilds(e)
	blog := incrementalBlog(6)
	mustOutcome(t, e.publish(e.commit(gitserver.Change{Ref: "main", Message: "import", Files: blog})), OutcomePublished)
	all := len(*made)
	want := e.git("rev-parse", "gh-pages^{tree}")
	key := manifestKey(testRepo, "site")
	good, ok := bc.Get(key)
	if !ok {
		t.Fatal("no manifest after a publish")
	}
	for name, bad := range map[string][]byte{
		"truncated": good[:len(good)-7],
		"garbage":   []byte(manifestMagic + "01234567890123456789\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"),
		"foreign":   []byte("something else"),
	} {
		bc.Put(key, bad)
		bc.Flush()
		res := e.publish(e.head("main"))
		if res.Outcome != OutcomeUnchanged || res.Rendered != all || res.Kept != 0 {
			t.Errorf("%s manifest: %s, rendered %d, kept %d of %d", name, res.Outcome, res.Rendered, res.Kept, all)
		}
		if !strings.Contains(e.logs(), "build manifest is damaged") {
			t.Errorf("%s manifest: no log line", name)
		}
		if got := e.git("rev-parse", "gh-pages^{tree}"); got != want {
			t.Errorf("%s manifest: tree %s, want %s", name, got, want)
		}
		if res := e.publish(e.head("main")); res.Kept != all {
			t.Errorf("%s manifest: it was not replaced by a good one (kept %d of %d)", name, res.Kept, all)
		}
	}
}

func TestManifestRoundTrip(t *testing.T) {
	m := manifest{commit: [20]byte{7}, files: indexFiles(map[string]manifestEntry{
		"index.html":            {key: templates.Key{1}, blob: [20]byte{2}, size: 3},
		"posts/café/index.html": {key: templates.Key{4}, blob: [20]byte{5}, size: 1 << 30},
		".nojekyll":             {},
	}), folders: []manifestFolder{{"posts", [20]byte{8}}, {"posts/café", [20]byte{9}}}}
	got, err := decodeManifest(encodeManifest(m))
	if err != nil || !maps.Equal(got.files.asMap(), m.files.asMap()) || got.commit != m.commit || !slices.Equal(got.folders, m.folders) {
		t.Fatalf("round trip: %v %v", got, err)
	}
	// A manifest of the format before folders were recorded reads as
	// having none.
	old := encodeManifest(manifest{commit: m.commit, files: m.files})
	old = append([]byte(manifestMagicFiles), old[len(manifestMagic):len(old)-1]...) // no folder count
	if got, err := decodeManifest(old); err != nil || !maps.Equal(got.files.asMap(), m.files.asMap()) || got.folders != nil {
		t.Fatalf("a manifest without folders: %v %v", got, err)
	}
	enc := encodeManifest(m)
	for i := range len(enc) - 1 {
		if _, err := decodeManifest(enc[:i]); err == nil {
			t.Fatalf("a manifest cut at %d bytes was read", i)
		}
	}
}

func FuzzDecodeManifest(f *testing.F) {
	f.Add(encodeManifest(manifest{files: indexFiles(map[string]manifestEntry{"a": {size: 1}, "b/c": {key: templates.Key{9}}})}))
	f.Add(encodeManifest(manifest{files: indexFiles(map[string]manifestEntry{"b/c": {size: 1}}), folders: []manifestFolder{{"b", [20]byte{1}}}}))
	f.Add([]byte(manifestMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := decodeManifest(data)
		if err != nil {
			return
		}
		again, err := decodeManifest(encodeManifest(m))
		if err != nil || !maps.Equal(again.files.asMap(), m.files.asMap()) || again.commit != m.commit || !slices.Equal(again.folders, m.folders) {
			t.Fatalf("re-encoding changed the manifest: %v", err)
		}
	})
}

// A file whose blob the repository cache lacks is rendered again, and so
// the tree stays whole.
func TestManifestBlobMissingIsRendered(t *testing.T) {
	bc := openBuildCache(t)
	e := newEnv(t, func(o *Options) { o.Cache = bc })
	made := recordBuilds(e)
	mustOutcome(t, e.publish(e.commit(gitserver.Change{Ref: "main", Message: "import", Files: incrementalBlog(6)})), OutcomePublished)
	all := len(*made)
	want := e.git("rev-parse", "gh-pages^{tree}")
	key := manifestKey(testRepo, "site")
	data, _ := bc.Get(key)
	m, err := decodeManifest(data)
	if err != nil {
		t.Fatal(err)
	}
	m.files.entries[m.files.find("posts/p001/index.html")].blob = [20]byte{0xde, 0xad}
	m.commit = [20]byte{0xbe, 0xef} // not in the cache: every blob is looked up
	bc.Put(key, encodeManifest(m))
	bc.Flush()
	res := e.publish(e.head("main"))
	if res.Outcome != OutcomeUnchanged || res.Rendered != 1 || res.Kept != all-1 || !slices.Equal(*made, []string{"posts/p001/index.html"}) {
		t.Errorf("%s: rendered %d (%v), kept %d of %d", res.Outcome, res.Rendered, *made, res.Kept, all)
	}
	if got := e.git("rev-parse", "gh-pages^{tree}"); got != want {
		t.Errorf("tree %s, want %s", got, want)
	}
}

// The build's manifest is written while the push runs, so a push the
// server refuses leaves the manifest of a commit only the cache holds: the
// next publish builds on it and makes the very tree a publisher without a
// cache makes.
func TestManifestOfARefusedPushStaysCorrect(t *testing.T) {
	bc := openBuildCache(t)
	inc := newEnv(t, func(o *Options) { o.Cache = bc })
	full := newEnv(t)
	blog := incrementalBlog(8)
	for _, e := range []*env{inc, full} {
		mustOutcome(t, e.publish(e.commit(gitserver.Change{Ref: "main", Message: "import", Files: blog})), OutcomePublished)
	}
	edited := map[string]string{"posts/p003.md": strings.Replace(blog["posts/p003.md"], "The body", "The refused body", 1)}
	if err := inc.srv.Hook(testRepo, "pre-receive", "#!/bin/sh\necho 'frozen' >&2\nexit 1\n"); err != nil {
		t.Fatal(err)
	}
	mustOutcome(t, inc.publish(inc.commit(gitserver.Change{Ref: "main", Message: "refused", Files: edited})), OutcomeFailed)
	data, _ := bc.Get(manifestKey(testRepo, "site"))
	m, err := decodeManifest(data)
	if err != nil {
		t.Fatal(err)
	}
	if refused := hex.EncodeToString(m.commit[:]); refused == inc.head("gh-pages") {
		t.Fatalf("the manifest names %s, the pushed head, not the refused commit", refused)
	}
	if err := inc.srv.Hook(testRepo, "pre-receive", "#!/bin/sh\nexit 0\n"); err != nil {
		t.Fatal(err)
	}
	edited["posts/p005.md"] = strings.Replace(blog["posts/p005.md"], "The body", "Another body", 1)
	var kept int
	for _, e := range []*env{inc, full} {
		r := e.publish(e.commit(gitserver.Change{Ref: "main", Message: "edit", Files: edited}))
		mustOutcome(t, r, OutcomePublished)
		kept += r.Kept
	}
	if a, b := inc.git("rev-parse", "gh-pages^{tree}"), full.git("rev-parse", "gh-pages^{tree}"); a != b || kept == 0 {
		t.Fatalf("after a refused push the incremental publish (%d files kept) made tree %s, the full one %s:\n%s", kept, a, b, inc.git("diff", "--stat", b, a))
	}
	if out := inc.git("fsck", "--strict", "--no-dangling"); strings.Contains(out, "error") || strings.Contains(out, "missing") {
		t.Fatalf("fsck: %s", out)
	}
}

// TestIncrementalPreviewRendersOnlyWhatChanged: the second push to a pull
// request renders its preview again only where the push changed it, and
// the pages branch is the very tree a publisher without a cache makes.
func TestIncrementalPreviewRendersOnlyWhatChanged(t *testing.T) {
	inc := newEnv(t, func(o *Options) { o.Cache = openBuildCache(t) })
	full := newEnv(t)
	made := recordBuilds(inc)
	blog := incrementalBlog(20)
	base := ""
	for _, e := range []*env{inc, full} {
		base = e.commit(gitserver.Change{Ref: "main", Message: "import", Files: blog})
		mustOutcome(t, e.publish(base), OutcomePublished)
	}
	head := base
	both := func(c gitserver.Change) Result {
		c.Ref, c.Parent = "refs/pull/7/head", head
		var r Result
		for _, e := range []*env{inc, full} {
			head = e.commit(c)
			j := e.previewJob(7, head)
			j.BaseSHA, j.HeadRepo = base, testRepo // not a fork's: those are rendered whole
			r = e.run(j)
			mustOutcome(t, r, OutcomePublished)
		}
		if a, b := inc.git("rev-parse", "gh-pages^{tree}"), full.git("rev-parse", "gh-pages^{tree}"); a != b {
			t.Fatalf("%s: the incremental preview made tree %s, the full one %s:\n%s", c.Message, a, b, inc.git("diff", "--stat", b, a))
		}
		return r
	}
	both(gitserver.Change{Message: "edit p010", Files: map[string]string{
		"posts/p010.md": strings.Replace(blog["posts/p010.md"], "The body", "The first edit of the body", 1),
	}})
	all := len(*made)
	r := both(gitserver.Change{Message: "edit p003", Files: map[string]string{
		"posts/p003.md": strings.Replace(blog["posts/p003.md"], "title: ", "title: Retitled ", 1),
	}})
	if len(*made) == 0 || len(*made) > all/3 {
		t.Errorf("a second push of one post rendered %d of the preview's %d files: %v", len(*made), all, *made)
	}
	if len(r.Changed) != 2 {
		t.Errorf("changed posts %+v, want p003 and p010", r.Changed)
	}
	for _, c := range r.Changed {
		if c.Path == "posts/p003.md" && (c.OldTitle == "" || c.OldTitle == c.Title) {
			t.Errorf("the retitled post: %+v", c)
		}
	}
	t.Logf("second push: %d of %d files rendered: %v", len(*made), all, *made)
}
