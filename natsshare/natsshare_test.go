package natsshare_test

import (
	"context"
	"testing"
	"time"

	"github.com/publishbot/publishbot/natsshare"
	"github.com/publishbot/publishbot/queue"
	"github.com/publishbot/publishbot/queue/jetstream/natstest"
	"github.com/publishbot/publishbot/testkit"
)

func TestPublishedSetShared(t *testing.T) {
	srv := natstest.Start(t)
	ctx := context.Background()
	_, js1 := natstest.Connect(t, srv.URL())
	_, js2 := natstest.Connect(t, srv.URL())
	a, err := natsshare.OpenPublishedSet(ctx, js1, "t", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	repo := queue.Repo{FullName: "acme/blog", CloneURL: "https://github.com/acme/blog.git"}
	if err := a.Add(repo, "refs/heads/main"); err != nil {
		t.Fatal(err)
	}
	b, err := natsshare.OpenPublishedSet(ctx, js2, "t", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if l := b.List(); len(l) != 1 || l[0].Repo != repo || l[0].Ref != "refs/heads/main" {
		t.Fatalf("second replica lists %+v at open", l)
	}
	other := queue.Repo{FullName: "acme/other"}
	if err := b.Add(other, "refs/heads/trunk"); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "the first replica to see the second's Add", 10*time.Second, func() bool {
		l := a.List()
		return len(l) == 2 && l[1].Repo.FullName == "acme/other" && l[1].Ref == "refs/heads/trunk"
	})
}

func TestLeaseOneHolderAndTakeover(t *testing.T) {
	srv := natstest.Start(t)
	ctx := context.Background()
	nc1, js1 := natstest.Connect(t, srv.URL())
	_, js2 := natstest.Connect(t, srv.URL())
	opts := natsshare.LeaseOptions{Name: "t", Key: "reconciler", TTL: 900 * time.Millisecond}
	opts.Owner = "one"
	l1, err := natsshare.OpenLease(ctx, js1, opts)
	if err != nil {
		t.Fatal(err)
	}
	opts.Owner = "two"
	l2, err := natsshare.OpenLease(ctx, js2, opts)
	if err != nil {
		t.Fatal(err)
	}
	held1, err := l1.Hold(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// While one holds it (renewing every 300ms), the other waits: several
	// TTLs pass without it getting the lease.
	wctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	if _, err := l2.Hold(wctx); err == nil {
		t.Fatal("second replica got the lease while the first held it")
	}
	cancel()
	if held1.Err() != nil {
		t.Fatal("the first replica lost its lease while renewing it")
	}

	// The holder dies (its connection drops, nothing deletes the key):
	// the other takes over once the TTL has passed.
	nc1.Close()
	start := time.Now()
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	held2, err := l2.Hold(tctx)
	if err != nil {
		t.Fatalf("no takeover after the holder died: %v", err)
	}
	t.Logf("taken over after %v", time.Since(start))
	testkit.WaitFor(t, "the dead holder's context to end", 10*time.Second, func() bool { return held1.Err() != nil })
	if held2.Err() != nil {
		t.Fatal("takeover lease already lost")
	}
}
