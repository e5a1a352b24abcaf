package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// BenchmarkServePushToPublished is the time from a push delivery reaching
// serve to the pages branch moving, for a 1,000-post repository (the
// Jekyll corpus, copied ten times under distinct names), one post edited
// per push. It runs the whole service: signed webhook, durable queue,
// worker, publisher (incremental fetch, build, commit, push) and report.
func BenchmarkServePushToPublished(b *testing.B) {
	w := newE2EWorld(b)
	corpus := sharedTestdata(b, "corpus/jekyll")
	entries, err := os.ReadDir(corpus)
	if err != nil {
		b.Fatal(err)
	}
	files := map[string]string{"publish.yaml": e2ePublishYAML}
	var first string
	for copyN := 0; len(files) < 1001; copyN++ {
		for _, e := range entries {
			if len(files) == 1001 {
				break
			}
			data, err := os.ReadFile(filepath.Join(corpus, e.Name()))
			if err != nil {
				b.Fatal(err)
			}
			ext := filepath.Ext(e.Name())
			name := fmt.Sprintf("posts/%s-%d%s", strings.TrimSuffix(e.Name(), ext), copyN, ext)
			files[name] = string(data)
			if first == "" {
				first = name
			}
		}
	}
	sha := w.commit(files, "1,000 posts")
	s := w.startServe(nil)
	w.mustDeliverPush(s.addr, sha)
	w.waitPublished(sha, 5*time.Minute)

	refFile := filepath.Join(w.git.RepoPath(e2eRepo), "refs", "heads", "gh-pages")
	pagesHead := func() string {
		b, err := os.ReadFile(refFile)
		if err != nil {
			out, _ := w.git.Git(context.Background(), e2eRepo, "rev-parse", "gh-pages")
			return out
		}
		return strings.TrimSpace(string(b))
	}
	original := files[first]
	last := sha
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()

	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		before := pagesHead()
		edited := strings.Replace(original, "\n---\n", fmt.Sprintf("\n---\n\nEdit %d.\n", i), 1)
		last = w.commit(map[string]string{first: edited}, "")
		b.StartTimer()

		w.mustDeliverPush(s.addr, last)
		deadline := time.Now().Add(2 * time.Minute)
		for pagesHead() == before {
			if time.Now().After(deadline) {
				b.Fatalf("push %d not published within 2 minutes", i)
			}
			<-tick.C
		}
	}
	b.StopTimer()
	if got := w.pagesSources(); got[0] != last {
		b.Errorf("pages branch at %s, want the last push %s", got[0], last)
	}
}
