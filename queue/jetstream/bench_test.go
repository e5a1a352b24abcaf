package jetstream_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/publishbot/publishbot/publisher"
	"github.com/publishbot/publishbot/queue"
	"github.com/publishbot/publishbot/queue/jetstream"
	"github.com/publishbot/publishbot/queue/jetstream/natstest"
	"github.com/publishbot/publishbot/site"
	"github.com/publishbot/publishbot/worker"
)

// The benchmarks compare the embedded queue with the JetStream queue in
// the same run, on loopback:
//
//	go test -run '^$' -bench . -benchtime 2000x ./queue/jetstream/

// openers open a fresh queue of each kind for a benchmark; the JetStream
// ones share one embedded server per benchmark.
func openers(b *testing.B) map[string]func(name string) queue.Queue {
	var srv, synced *natstest.Server
	jsOpen := func(srv *natstest.Server, name string) queue.Queue {
		_, js := natstest.Connect(b, srv.URL())
		q, err := jetstream.Open(context.Background(), js, jetstream.Options{Name: name})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { q.Close() })
		return q
	}
	return map[string]func(string) queue.Queue{
		"embedded": func(name string) queue.Queue {
			q, err := queue.OpenBolt(filepath.Join(b.TempDir(), name+".db"), queue.Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { q.Close() })
			return q
		},
		"jetstream": func(name string) queue.Queue {
			if srv == nil {
				srv = natstest.Start(b)
			}
			return jsOpen(srv, name)
		},
		// fsync before every acknowledgement, as the embedded queue does.
		"jetstream-sync": func(name string) queue.Queue {
			if synced == nil {
				synced = natstest.Start(b, natstest.SyncAlways())
			}
			return jsOpen(synced, name)
		},
	}
}

// BenchmarkAckLatency enqueues deliveries at a steady 500 per second (each
// a distinct repository and delivery id, as webhooks arrive) and reports
// the acknowledgement latency: the time Enqueue takes to return, which is
// when a webhook can be answered. Arrivals do not wait for earlier ones
// (an open loop), so a slow acknowledgement shows in the percentiles.
func BenchmarkAckLatency(b *testing.B) {
	for _, kind := range []string{"embedded", "jetstream", "jetstream-sync"} {
		b.Run("queue="+kind, func(b *testing.B) {
			q := openers(b)[kind]("ack")
			ctx := context.Background()
			lat := make([]time.Duration, b.N)
			tick := time.NewTicker(2 * time.Millisecond) // 500/s
			defer tick.Stop()
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for i := range b.N {
				<-tick.C
				wg.Go(func() {
					j := queue.Job{Kind: queue.KindPublish, Repo: queue.Repo{FullName: fmt.Sprintf("acme/r%d", i)}, Ref: "refs/heads/main",
						SHA: "0123456789abcdef0123456789abcdef01234567", Delivery: fmt.Sprintf("72d3162e-cc78-11e3-81ab-%012d", i)}
					t0 := time.Now()
					if err := q.Enqueue(ctx, j); err != nil {
						b.Error(err)
					}
					lat[i] = time.Since(t0)
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			slices.Sort(lat)
			pct := func(p float64) float64 {
				return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
			}
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "deliveries/s")
		})
	}
}

// buildRunner builds the example blog in memory for every job: a
// CPU-bound job like a real publish without its git work.
type buildRunner struct{ dir string }

func (r buildRunner) Run(ctx context.Context, j queue.Job, _ *logrus.Entry) publisher.Result {
	if _, err := site.BuildDir(ctx, r.dir, site.Options{Now: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		return publisher.Result{Job: j, Outcome: publisher.OutcomeFailed, Err: err}
	}
	return publisher.Result{Job: j, Outcome: publisher.OutcomeUnchanged}
}

// BenchmarkReplicas runs b.N CPU-bound jobs (a build of the example blog
// each, 32 repositories) through 1 or 3 replicas, each a queue of its own
// and a worker with 2 lanes, and reports jobs completed per second. On one
// machine the replicas share its cores: the ratio of 3 to 1 replicas is what
// coordinating them costs.
func BenchmarkReplicas(b *testing.B) {
	discard := logrus.New()
	discard.SetOutput(io.Discard)
	for _, kind := range []string{"embedded", "jetstream", "jetstream-sync"} {
		for _, n := range []int{1, 3} {
			if kind == "embedded" && n > 1 {
				continue // one process owns a bbolt file
			}
			b.Run(fmt.Sprintf("queue=%s/replicas=%d", kind, n), func(b *testing.B) {
				open := openers(b)[kind]
				var qs []queue.Queue
				for range n {
					qs = append(qs, open("replicas"))
				}
				ctx := context.Background()
				for i := range b.N {
					j := queue.Job{Kind: queue.KindPublish, Repo: queue.Repo{FullName: fmt.Sprintf("acme/r%d", i%32)}, Ref: fmt.Sprintf("refs/heads/b%d", i),
						SHA: "0123456789abcdef0123456789abcdef01234567"}
					if err := qs[i%n].Enqueue(ctx, j); err != nil {
						b.Fatal(err)
					}
				}
				var done atomic.Int64
				counting := make([]*countingQueue, n)
				runCtx, stop := context.WithCancel(ctx)
				defer stop()
				var wg sync.WaitGroup
				b.ResetTimer()
				start := time.Now()
				for i, q := range qs {
					counting[i] = &countingQueue{Queue: q, done: &done, total: int64(b.N), stop: stop}
					w, err := worker.New(worker.Options{Queue: counting[i], Runner: buildRunner{dir: filepath.Join("..", "..", "examples", "blog")},
						Log: logrus.NewEntry(discard), Concurrency: 2, Grace: time.Second})
					if err != nil {
						b.Fatal(err)
					}
					wg.Go(func() { w.Run(runCtx) })
				}
				wg.Wait()
				elapsed := time.Since(start)
				b.StopTimer()
				if done.Load() < int64(b.N) {
					b.Fatalf("%d of %d jobs done", done.Load(), b.N)
				}
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "jobs/s")
			})
		}
	}
}

// countingQueue stops the run once every job is Done.
type countingQueue struct {
	queue.Queue
	done  *atomic.Int64
	total int64
	stop  context.CancelFunc
}

func (c *countingQueue) Done(ctx context.Context, j queue.Job, runErr error) error {
	err := c.Queue.Done(ctx, j, runErr)
	if runErr != nil {
		return err
	}
	if err == nil || errors.Is(err, queue.ErrNotRunning) {
		if c.done.Add(1) >= c.total {
			c.stop()
		}
	}
	return err
}
