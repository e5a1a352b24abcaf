package jetstream_test

import (
	"context"
	"testing"
	"time"

	"github.com/publishbot/publishbot/queue"
	"github.com/publishbot/publishbot/queue/jetstream"
	"github.com/publishbot/publishbot/queue/jetstream/natstest"
	"github.com/publishbot/publishbot/queue/queuetest"
)

// testOptions are short leases, so that a closed queue's jobs come back
// within a test.
func testOptions(name string, opts queue.Options) jetstream.Options {
	return jetstream.Options{Options: opts, Name: name, Lease: time.Second, LockRetry: 20 * time.Millisecond, MaxWait: 200 * time.Millisecond}
}

// TestContract runs the queue contract suite against the JetStream queue on
// an embedded nats-server (one per run; each queue has its own name).
func TestContract(t *testing.T) {
	srv := natstest.Start(t)
	queuetest.Run(t, queuetest.Harness{
		Open: func(t testing.TB, name string, opts queue.Options) queue.Queue {
			t.Helper()
			_, js := natstest.Connect(t, srv.URL())
			q, err := jetstream.Open(context.Background(), js, testOptions(name, opts))
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			return q
		},
		EnqueueJobs: 100,
		Lease:       time.Second,
	})
}
