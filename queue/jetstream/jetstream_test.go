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

// TestReplicasShareOneQueue opens the queue twice on one server, as two
// replicas do: a repository's jobs never run on both at once, and a job of
// a replica that stopped without finishing it runs on the other, its
// interrupted attempt counted.
func TestReplicasShareOneQueue(t *testing.T) {
	srv := natstest.Start(t)
	open := func() *jetstream.Queue {
		_, js := natstest.Connect(t, srv.URL())
		q, err := jetstream.Open(context.Background(), js, testOptions("shared", queue.Options{}))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { q.Close() })
		return q
	}
	q1, q2 := open(), open()
	queuetest.MustEnqueue(t, q1, queuetest.Publish("acme/a", "a1"))
	queuetest.MustEnqueue(t, q2, queuetest.Preview("acme/a", 3, "a2"))
	queuetest.MustEnqueue(t, q2, queuetest.Publish("acme/b", "b1"))

	a1 := queuetest.MustTake(t, q1)
	if a1.SHA != "a1" {
		t.Fatalf("first replica took %s, want a1", a1.SHA)
	}
	// acme/a is running on the first replica: the second gets b1, then
	// nothing while a1 runs.
	if b1 := queuetest.MustTake(t, q2); b1.SHA != "b1" {
		t.Fatalf("second replica took %s, want b1", b1.SHA)
	}
	queuetest.TakeNothing(t, q2)
	queuetest.MustStats(t, q2, queue.Stats{Queued: 1, Running: 2})

	q1.Close() // the first replica stops without finishing a1
	again := queuetest.MustTake(t, q2)
	if again.ID != a1.ID || again.Attempt != 2 {
		t.Fatalf("after the stop took %s attempt %d, want %s attempt 2", again.SHA, again.Attempt, a1.ID)
	}
	if err := q2.Done(context.Background(), again, nil); err != nil {
		t.Fatal(err)
	}
	if a2 := queuetest.MustTake(t, q2); a2.SHA != "a2" {
		t.Fatalf("took %s, want a2", a2.SHA)
	}
	info, err := q2.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.LockWaits == 0 || info.Recovered != 1 || info.Stored != 2 {
		t.Errorf("info %+v, want lock waits, one recovered job and two stored (b1, a2 running)", info)
	}
}
