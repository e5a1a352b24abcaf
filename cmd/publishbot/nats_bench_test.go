package main

import (
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/publishbot/publishbot/queue/jetstream/natstest"
)

// BenchmarkServeAckQueues is BenchmarkServeAckAt500PerSecond for each queue
// in the same run: push deliveries at a steady 500 a second to one serve,
// embedded (bbolt, fsync per commit) and on an embedded NATS server
// (JetStream file storage), and the acknowledgement latency percentiles.
//
//	go test -run '^$' -bench ServeAckQueues -benchtime 2500x ./cmd/publishbot
func BenchmarkServeAckQueues(b *testing.B) {
	for _, kind := range []string{"embedded", "jetstream"} {
		b.Run("queue="+kind, func(b *testing.B) {
			w := newE2EWorld(b)
			sha := w.initialContent()
			var extra map[string]string
			if kind == "jetstream" {
				extra = natsEnv(b, natstest.Start(b).URL(), nil)
			}
			s := w.startServe(extra)
			body := w.pushPayload(sha)
			lats := make([]time.Duration, b.N)
			var wg sync.WaitGroup
			tick := time.NewTicker(time.Second / 500)
			defer tick.Stop()
			b.ResetTimer()
			start := time.Now()
			for i := range b.N {
				<-tick.C
				wg.Go(func() {
					t0 := time.Now()
					code, err := w.deliver(s.addr, "push", fmt.Sprintf("paced-%d", i), body)
					lats[i] = time.Since(t0)
					if err != nil || code != 202 {
						b.Errorf("delivery %d: %d %v", i, code, err)
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			sort.Slice(lats, func(i, j int) bool { return lats[i] < lats[j] })
			pct := func(p float64) float64 { return float64(lats[int(p*float64(len(lats)-1))].Microseconds()) / 1000 }
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "deliveries/s")
		})
	}
}
