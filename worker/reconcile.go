package worker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/publishbot/publishbot/queue"
)

// Drifter compares a repository's source branch head with the source commit
// published on its pages branch (the publisher implements it). An empty
// publishedSHA means nothing is published yet.
type Drifter interface {
	Drift(ctx context.Context, repo queue.Repo) (sourceHead, publishedSHA string, err error)
}

// Enqueuer stores a job durably.
type Enqueuer interface {
	Enqueue(ctx context.Context, j queue.Job) error
}

// Lease makes one replica of several the reconciler: Hold blocks until this
// replica holds the lease (or ctx ends, with ctx's error) and returns a
// context that ends when the lease is lost or ctx ends, releasing it.
type Lease interface {
	Hold(ctx context.Context) (context.Context, error)
}

// ReconcilerOptions configures a Reconciler. Set, Drift, Queue and Log are
// required.
type ReconcilerOptions struct {
	Set   PublishedRepos
	Drift Drifter
	Queue Enqueuer
	Log   *logrus.Entry

	// Interval between passes; 0 means 5 minutes.
	Interval time.Duration
	// Timeout for one repository's check; 0 means 2 minutes.
	Timeout time.Duration
	Metrics *Metrics
	Now     func() time.Time
	// Lease, when set, lets only its holder reconcile (several replicas
	// share one set); nil reconciles in this process alone.
	Lease Lease
}

// Reconciler queues a publish for every published repository whose pages
// branch does not carry its source branch head: GitHub does not redeliver a
// webhook that failed while the bot was down. It queues one publish per
// source head, so a commit that fails to publish is not retried every pass
// (the queue's own retries handle that).
type Reconciler struct {
	opts ReconcilerOptions

	mu     sync.Mutex
	queued map[string]string // full name → source head already queued
}

// NewReconciler checks opts and returns a Reconciler.
func NewReconciler(opts ReconcilerOptions) (*Reconciler, error) {
	switch {
	case opts.Set == nil:
		return nil, errors.New("new reconciler: no published set")
	case opts.Drift == nil:
		return nil, errors.New("new reconciler: no drift checker")
	case opts.Queue == nil:
		return nil, errors.New("new reconciler: no queue")
	case opts.Log == nil:
		return nil, errors.New("new reconciler: no log entry")
	}
	if opts.Interval <= 0 {
		opts.Interval = 5 * time.Minute
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Reconciler{opts: opts, queued: map[string]string{}}, nil
}

// Run reconciles at once and then every Interval until ctx is done; it
// returns nil then. With a Lease it does so while it holds the lease, and
// waits to hold it again when it is lost.
func (r *Reconciler) Run(ctx context.Context) error {
	if r.opts.Lease == nil {
		return r.run(ctx)
	}
	for ctx.Err() == nil {
		held, err := r.opts.Lease.Hold(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("reconciler lease: %w", err)
		}
		r.opts.Log.Info("reconciler lease held: this replica reconciles")
		_ = r.run(held)
		if ctx.Err() == nil {
			r.opts.Log.Warn("reconciler lease lost: another replica reconciles")
		}
	}
	return nil
}

func (r *Reconciler) run(ctx context.Context) error {
	t := time.NewTicker(r.opts.Interval)
	defer t.Stop()
	for {
		r.Once(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Once checks every published repository and returns how many publishes it
// queued. A repository that cannot be checked is logged and skipped.
func (r *Reconciler) Once(ctx context.Context) int {
	n := 0
	for _, p := range r.opts.Set.List() {
		if ctx.Err() != nil {
			break
		}
		queued, err := r.one(ctx, p)
		log := r.opts.Log.WithField(queue.FieldRepo, p.Repo.FullName)
		switch {
		case err != nil:
			r.opts.Metrics.reconciled("error")
			log.WithError(err).Warn("reconcile repository")
		case queued:
			n++
			r.opts.Metrics.reconciled("queued")
		default:
			r.opts.Metrics.reconciled("in_sync")
		}
	}
	return n
}

func (r *Reconciler) one(ctx context.Context, p Published) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	head, published, err := r.opts.Drift.Drift(ctx, p.Repo)
	if err != nil {
		return false, fmt.Errorf("compare source and pages branches: %w", err)
	}
	name := p.Repo.FullName
	if head == "" || head == published {
		r.mu.Lock()
		delete(r.queued, name)
		r.mu.Unlock()
		return false, nil
	}
	r.mu.Lock()
	already := r.queued[name] == head
	r.mu.Unlock()
	if already {
		return false, nil
	}
	j := queue.Job{
		ID:      queue.NewID(),
		Kind:    queue.KindPublish,
		Repo:    p.Repo,
		Ref:     p.Ref,
		SHA:     head,
		Reason:  "reconcile",
		Created: r.opts.Now(),
	}
	if err := r.opts.Queue.Enqueue(ctx, j); err != nil {
		return false, fmt.Errorf("queue publish of %s: %w", head, err)
	}
	r.mu.Lock()
	r.queued[name] = head
	r.mu.Unlock()
	r.opts.Log.WithFields(j.LogFields()).WithField("published", published).Info("pages branch behind its source: publish queued")
	return true, nil
}
