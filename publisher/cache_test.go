package publisher

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/publishbot/publishbot/buildcache"
	"github.com/publishbot/publishbot/gitserver"
)

// countingCache counts the values a build found in the cache that an
// earlier build put there: a build reads back the bodies it rendered,
// which are not hits (see nextBuild).
type countingCache struct {
	*buildcache.Cache
	hits atomic.Int64
	mu   sync.Mutex
	put  map[[32]byte]bool // since nextBuild
}

func (c *countingCache) Get(k [32]byte) ([]byte, bool) {
	v, ok := c.Cache.Get(k)
	c.mu.Lock()
	mine := c.put[k]
	c.mu.Unlock()
	if ok && !mine {
		c.hits.Add(1)
	}
	return v, ok
}

func (c *countingCache) Put(k [32]byte, v []byte) {
	c.mu.Lock()
	if c.put == nil {
		c.put = map[[32]byte]bool{}
	}
	c.put[k] = true
	c.mu.Unlock()
	c.Cache.Put(k, v)
}

// nextBuild ends a build: what it put counts as hits from now on.
func (c *countingCache) nextBuild() {
	c.mu.Lock()
	c.put = nil
	c.mu.Unlock()
}

// TestPublishAndPreviewUseTheCache: publishes and pull request previews
// render through the build cache, and what they publish follows the edit.
func TestPublishAndPreviewUseTheCache(t *testing.T) {
	bc, err := buildcache.Open(t.TempDir(), buildcache.Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer bc.Close()
	cache := &countingCache{Cache: bc}
	e := newEnv(t, func(o *Options) { o.Cache = cache })
	post := func(title, body string) string {
		return "---\ntitle: " + title + "\ndate: 2026-01-02\n---\n\n" + body + "\n"
	}
	base := e.commit(gitserver.Change{Ref: "main", Message: "seed", Files: map[string]string{
		"publish.yaml":    "title: Blog\n",
		"posts/hello.md":  post("Hello", "First post, linking [the second](second.md)."),
		"posts/second.md": post("Second", "Another post."),
	}})
	mustOutcome(t, e.publish(base), OutcomePublished)
	if cache.hits.Load() != 0 {
		t.Fatalf("%d hits on the first publish", cache.hits.Load())
	}
	cache.nextBuild()
	edit := e.commit(gitserver.Change{Ref: "main", Message: "retitle", Files: map[string]string{
		"posts/second.md": post("Second, retitled", "Another post."),
	}})
	mustOutcome(t, e.publish(edit), OutcomePublished)
	cache.nextBuild()
	if cache.hits.Load() == 0 {
		t.Error("the second publish rendered every post again")
	}
	if page := e.git("show", "gh-pages:posts/second/index.html"); !strings.Contains(page, "Second, retitled") {
		t.Error("the edit is not published")
	}
	head1 := e.commit(gitserver.Change{Ref: "refs/pull/4/head", Parent: edit, Message: "new", Files: map[string]string{
		"posts/third.md": post("Third", "A third post."),
	}})
	mustOutcome(t, e.run(e.previewJob(4, head1)), OutcomePublished)
	cache.nextBuild()
	hits := cache.hits.Load()
	head2 := e.commit(gitserver.Change{Ref: "refs/pull/4/head", Parent: head1, Message: "edit", Files: map[string]string{
		"posts/third.md": post("Third", "A third post, edited."),
	}})
	mustOutcome(t, e.run(e.previewJob(4, head2)), OutcomePublished)
	if cache.hits.Load() == hits {
		t.Error("the preview's second push rendered every post again")
	}
	if page := e.git("show", "gh-pages:pr-preview/pr-4/posts/third/index.html"); !strings.Contains(page, "A third post, edited.") {
		t.Error("the preview's edit is not published")
	}
}
