package queue

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestListAndRetry(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	path := filepath.Join(t.TempDir(), "queue.db")
	q := openTest(t, path, Options{MaxAttempts: 1, Now: clock.Now, After: clock.After})

	dying := publish("acme/blog", "a1")
	dying.Delivery = "d-1"
	mustEnqueue(t, q, dying)
	taken := mustTake(t, q)
	if err := q.Done(ctx, taken, errors.New("push: 502 Bad Gateway")); err != nil {
		t.Fatal(err)
	}
	mustEnqueue(t, q, publish("acme/other", "b1"))
	running := mustTake(t, q)
	later := publish("acme/third", "c1")
	later.NotBefore = clock.Now().Add(time.Hour)
	mustEnqueue(t, q, later)
	mustEnqueue(t, q, preview("acme/other", 3, "p1"))

	list, err := q.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, in := range list {
		got = append(got, string(in.State)+" "+in.Job.Repo.FullName)
	}
	want := []string{"running acme/other", "delayed acme/third", "queued acme/other", "dead acme/blog"}
	if len(got) != len(want) {
		t.Fatalf("List = %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("List = %q, want %q", got, want)
		}
	}
	if list[3].LastError != "push: 502 Bad Gateway" || list[3].Job.Attempt != 1 || list[0].Since.IsZero() {
		t.Fatalf("dead letter = %+v, running = %+v", list[3], list[0])
	}
	if err := q.Done(ctx, running, nil); err != nil {
		t.Fatal(err)
	}

	if err := q.Retry(ctx, "no-such-id"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Retry(unknown) = %v, want ErrNotFound", err)
	}
	if err := q.Retry(ctx, taken.ID); err != nil {
		t.Fatalf("Retry: %v", err)
	}
	mustStats(t, q, Stats{Queued: 2, Delayed: 1})
	if first := mustTake(t, q); first.Kind != KindPreview { // queued before the retry
		t.Fatalf("first job = %+v, want the preview", first)
	} else if err := q.Done(ctx, first, nil); err != nil {
		t.Fatal(err)
	}
	again := mustTake(t, q)
	if again.ID != taken.ID || again.Attempt != 1 || again.SHA != "a1" {
		t.Fatalf("retried job = %+v, want %s at attempt 1", again, taken.ID)
	}
	if err := q.Done(ctx, again, nil); err != nil {
		t.Fatal(err)
	}
	if err := q.Retry(ctx, taken.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Retry = %v, want ErrNotFound", err)
	}

	// The retry survives a reopen like any queued job.
	mustEnqueue(t, q, publish("acme/blog", "a2"))
	taken = mustTake(t, q)
	if err := q.Done(ctx, taken, errors.New("boom")); err != nil {
		t.Fatal(err)
	}
	if err := q.Retry(ctx, taken.ID); err != nil {
		t.Fatal(err)
	}
	q.Close()
	q = openTest(t, path, Options{MaxAttempts: 1, Now: clock.Now, After: clock.After})
	mustStats(t, q, Stats{Queued: 1, Delayed: 1})
}
