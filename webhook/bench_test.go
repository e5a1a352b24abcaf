package webhook

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkAck measures how fast GitHub gets its answer: real signed push
// deliveries (8.8 kB) over loopback HTTP to the handler in front of the
// durable Bolt queue (every answer waits for an fsync'd commit). It reports
// acknowledgement latency percentiles and deliveries per second.
//
// rate=500/s is an open-loop load: deliveries start every 2 ms whether or
// not earlier ones were answered, as a burst from GitHub would; the goal is
// p99 under 20 ms. clients=N is closed-loop: N clients send as fast as they
// are answered, for the maximum rate.
//
//	go test -run '^$' -bench Ack -benchtime 2500x ./webhook/
func BenchmarkAck(b *testing.B) {
	b.Run("rate=500/s", func(b *testing.B) { benchAck(b, 500, 0) })
	for _, c := range []int{1, 32, 128} {
		b.Run(fmt.Sprintf("clients=%d", c), func(b *testing.B) { benchAck(b, 0, c) })
	}
}

func benchAck(b *testing.B, rate, clients int) {
	e := newEnv(b)
	body := payload(b, "push/with-new-branch.payload.json")
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024}}
	defer client.CloseIdleConnections()
	reqs := make([]*http.Request, b.N)
	for i := range reqs {
		reqs[i] = e.request(b, delivery{event: "push", id: fmt.Sprintf("bench-%d-%d-%d", rate, clients, i), body: body})
	}
	lat := make([]time.Duration, b.N)
	var failed atomic.Int64
	send := func(i int) {
		t0 := time.Now()
		resp, err := client.Do(reqs[i])
		if err != nil {
			failed.Add(1)
			return
		}
		resp.Body.Close()
		lat[i] = time.Since(t0)
		if resp.StatusCode != http.StatusAccepted {
			failed.Add(1)
		}
	}

	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	if rate > 0 {
		interval := time.Second / time.Duration(rate)
		for i := range b.N {
			if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
				time.Sleep(d) // pacing the load generator, not waiting for a result
			}
			wg.Add(1)
			go func() { defer wg.Done(); send(i) }()
		}
	} else {
		var next atomic.Int64
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := int(next.Add(1)) - 1; i < b.N; i = int(next.Add(1)) - 1 {
					send(i)
				}
			}()
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d deliveries not acknowledged with 202", n, b.N)
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "deliveries/s")
}
