package gitstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/publishbot/publishbot/gitserver"
)

// BenchmarkFirstFetch fetches a repository of 1,000 posts (about 2 MB)
// into an empty cache: with the pack's object sizes checked before go-git
// stores it (the default), and without (MaxFileBytes -1), to show what the
// check costs.
func BenchmarkFirstFetch(b *testing.B) {
	e := newEnv(b)
	rng := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("the a build site post page git tree blob fetch pack object limit header size check fork preview token host")
	files := map[string]string{}
	for i := range 1000 {
		var body strings.Builder
		for range 400 {
			body.WriteString(words[rng.IntN(len(words))])
			body.WriteByte(' ')
		}
		files[fmt.Sprintf("posts/2026-01-01-post-%04d.md", i)] = fmt.Sprintf("---\ntitle: Post %d\n---\n\n%s\n", i, body.String())
	}
	e.commit(gitserver.Change{Ref: "main", Files: files})
	for _, tc := range []struct {
		name string
		max  int64
	}{{"checked", 0}, {"unchecked", -1}} {
		b.Run(tc.name, func(b *testing.B) {
			var received int64
			for b.Loop() {
				e.dir = b.TempDir()
				r := e.open(Options{Limits: Limits{MaxFileBytes: tc.max}})
				refs, err := r.Fetch(context.Background(), "refs/heads/main")
				if err != nil {
					b.Fatal(err)
				}
				received = refs.Received
				r.Close()
			}
			b.ReportMetric(float64(received), "pack-bytes")
		})
	}
}
