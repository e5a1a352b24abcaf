package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/publishbot/publishbot/testkit"
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

	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		before := pagesHead()
		edited := strings.Replace(original, "\n---\n", fmt.Sprintf("\n---\n\nEdit %d.\n", i), 1)
		last = w.commit(map[string]string{first: edited}, "")
		b.StartTimer()

		w.mustDeliverPush(s.addr, last)
		testkit.WaitEvery(b, fmt.Sprintf("push %d to be published", i), 2*time.Minute, 2*time.Millisecond, func() bool {
			return pagesHead() != before
		})
	}
	b.StopTimer()
	if got := w.pagesSources(); got[0] != last {
		b.Errorf("pages branch at %s, want the last push %s", got[0], last)
	}
}

// BenchmarkServeAck is the acknowledgement of push deliveries by a running
// serve, through its HTTP server and the durable queue, while its worker
// publishes: latency percentiles and deliveries per second.
func BenchmarkServeAck(b *testing.B) {
	w := newE2EWorld(b)
	sha := w.initialContent()
	s := w.startServe(nil)
	body := w.pushPayload(sha)
	var (
		mu   sync.Mutex
		lats []time.Duration
		n    atomic.Int64
	)
	b.SetParallelism(8) // 16 concurrent senders on 2 CPUs
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			id := fmt.Sprintf("ack-%d", n.Add(1))
			t0 := time.Now()
			code, err := w.deliver(s.addr, "push", id, body)
			mine = append(mine, time.Since(t0))
			if err != nil || code != 202 {
				b.Errorf("delivery %s: %d %v", id, code, err)
				return
			}
		}
		mu.Lock()
		lats = append(lats, mine...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	sort.Slice(lats, func(i, j int) bool { return lats[i] < lats[j] })
	if len(lats) > 0 {
		pct := func(p float64) float64 {
			return float64(lats[int(p*float64(len(lats)-1))].Microseconds()) / 1000
		}
		b.ReportMetric(pct(0.50), "p50-ms")
		b.ReportMetric(pct(0.99), "p99-ms")
		b.ReportMetric(float64(len(lats))/elapsed.Seconds(), "deliveries/s")
	}
}

// BenchmarkServeAckAt500PerSecond sends deliveries at a steady 500 a second
// (the goal: p99 under 20 ms at that rate) and reports the latencies.
func BenchmarkServeAckAt500PerSecond(b *testing.B) {
	w := newE2EWorld(b)
	sha := w.initialContent()
	s := w.startServe(nil)
	body := w.pushPayload(sha)
	lats := make([]time.Duration, b.N)
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / 500)
	defer tick.Stop()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		<-tick.C
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			code, err := w.deliver(s.addr, "push", fmt.Sprintf("paced-%d", i), body)
			lats[i] = time.Since(t0)
			if err != nil || code != 202 {
				b.Errorf("delivery %d: %d %v", i, code, err)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	sort.Slice(lats, func(i, j int) bool { return lats[i] < lats[j] })
	pct := func(p float64) float64 { return float64(lats[int(p*float64(len(lats)-1))].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "deliveries/s")
}
