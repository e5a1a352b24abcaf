package queue

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkEnqueue measures durable (fsync'd) Enqueue with C concurrent
// producers, each job a distinct repository with its own delivery id (no
// coalescing, the queue grows). It reports latency percentiles and
// throughput:
//
//	go test -run '^$' -bench Enqueue -benchtime 3000x ./queue/
func BenchmarkEnqueue(b *testing.B) {
	for _, c := range []int{1, 16, 64, 200} {
		b.Run(fmt.Sprintf("producers=%d", c), func(b *testing.B) {
			q, err := OpenBolt(filepath.Join(b.TempDir(), "q.db"), Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer q.Close()
			ctx := context.Background()
			var next atomic.Int64
			lat := make([]time.Duration, b.N)
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for range c {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := int(next.Add(1)) - 1
						if i >= b.N {
							return
						}
						j := publish(fmt.Sprintf("acme/r%d", i), "0123456789abcdef0123456789abcdef01234567")
						j.Delivery = fmt.Sprintf("72d3162e-cc78-11e3-81ab-%012d", i)
						t0 := time.Now()
						if err := q.Enqueue(ctx, j); err != nil {
							b.Error(err)
							return
						}
						lat[i] = time.Since(t0)
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			reportLatency(b, lat, elapsed)
		})
	}
}

func reportLatency(b *testing.B, lat []time.Duration, elapsed time.Duration) {
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "enqueues/s")
}

// BenchmarkTakeDone measures the queue's own cost per job run (Enqueue, Take,
// Done: three durable commits) with 4 workers over 64 repositories.
//
//	go test -run '^$' -bench TakeDone -benchtime 3000x ./queue/
func BenchmarkTakeDone(b *testing.B) {
	q, err := OpenBolt(filepath.Join(b.TempDir(), "q.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close()
	ctx := context.Background()
	for i := range b.N {
		mustEnqueue(b, q, preview(fmt.Sprintf("acme/r%d", i%64), i+1, "0123456789abcdef0123456789abcdef01234567"))
	}
	b.ResetTimer()
	start := time.Now()
	var done atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				j, err := q.Take(ctx)
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					b.Error(err)
					return
				}
				if err := q.Done(ctx, j, nil); err != nil {
					b.Error(err)
					return
				}
				if done.Add(1) == int64(b.N) {
					q.Close() // wakes the other workers
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "jobs/s")
}
