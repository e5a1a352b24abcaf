package queue

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/sirupsen/logrus"
)

// Sentinel errors callers decide on.
var (
	// ErrDuplicate is returned by Enqueue for a Job whose Delivery was seen
	// before (delivery ids are remembered for Options.DedupTTL, >= 7 days by
	// default). Nothing was stored; the earlier delivery's job stands.
	ErrDuplicate = errors.New("queue: duplicate delivery")
	// ErrClosed is returned by every method once Close has been called.
	ErrClosed = errors.New("queue: closed")
	// ErrInvalidJob is returned by Enqueue for a job without a repository
	// or of an unknown kind.
	ErrInvalidJob = errors.New("queue: invalid job")
	// ErrNotRunning is returned by Done and Release for a job that is not
	// currently taken (already finished, superseded, or taken before the
	// queue was reopened).
	ErrNotRunning = errors.New("queue: job is not running")
)

// Queue is a durable queue of jobs: what `serve` and the worker hold, so
// that the embedded queue (*Bolt) and a replicated one are interchangeable.
// Implementations are safe for concurrent use by any number of producers
// (webhook handlers, the scheduler) and consumers (workers).
type Queue interface {
	// Enqueue stores j durably (on disk, fsync'd) before it returns nil. It
	// keeps j.ID when set and not used by another live job, else assigns
	// one; it sets j.Created when zero and resets Attempt. A queued (not
	// running) job with the same Key is replaced by j, which keeps the older
	// job's place in line and the earlier of the two NotBefore times; when
	// the two SHAs differ the merged job's SHA is "" (build the ref's head
	// when run), because deliveries may arrive out of order. A Job whose
	// Delivery was seen before gets ErrDuplicate and nothing is stored;
	// ErrInvalidJob for a job without Repo.FullName or of an unknown Kind.
	Enqueue(ctx context.Context, j Job) error
	// Take blocks until a job is ready — its NotBefore has passed and no
	// other job of its RepoKey is running — marks it running (durably, so a
	// crash makes it ready again on reopen) and returns it with Attempt set
	// (1 on the first run). Ready jobs of a repository come out in enqueue
	// order; the embedded queue keeps that order across repositories too
	// (a replicated one need not). It returns
	// ctx.Err() when ctx ends and ErrClosed when the queue closes.
	Take(ctx context.Context) (Job, error)
	// Done reports the end of a taken job. runErr nil removes it. Otherwise
	// the job is retried with exponential backoff and jitter while
	// Options.Retryable says so and attempts remain, else it is
	// dead-lettered: kept, logged and counted in Stats.Dead. A retry is
	// dropped when a newer job with the same Key is already queued; that
	// job's SHA becomes "" when the two differ, as in Enqueue. Only
	// j.ID is read. ErrNotRunning when j is not currently taken.
	Done(ctx context.Context, j Job, runErr error) error
	// Release hands a taken job back without counting its attempt: it is
	// ready again at once, or dropped when a newer job with its Key is
	// queued (which then builds the ref's head if the two SHAs differ). The
	// worker calls it for a job it cancels at shutdown. ErrNotRunning when j
	// is not currently taken.
	Release(ctx context.Context, j Job) error
	// Stats counts jobs by state, for the queue-depth metrics.
	Stats(ctx context.Context) (Stats, error)
	// List returns every job the queue holds, for the status page: the
	// running, queued and delayed ones (State says which; NotBefore in the
	// future is delayed) in enqueue order, then the dead letters, oldest
	// first, each with its last error. A replicated queue may bound how
	// many dead letters it returns (newest kept).
	List(ctx context.Context) ([]JobInfo, error)
	// Retry queues the dead letter with Job.ID id again, ready at once,
	// with a fresh series of attempts (Attempt is 1 on its next Take), and
	// removes it from the dead letters. It is not a delivery: no dedup
	// check. A queued job with the same Key absorbs it, as in Enqueue.
	// ErrNotFound when no dead letter has that id.
	Retry(ctx context.Context, id string) error
	// Close stops the queue: blocked Takes return ErrClosed. Jobs taken and
	// not Done stay leased on disk and are ready again after reopening.
	Close() error
}

// Stats is a snapshot of a queue's jobs by state.
type Stats struct {
	Queued  int // ready to run now (possibly waiting for their repository)
	Delayed int // waiting for NotBefore: scheduled jobs and retries in backoff
	Running int // taken and not yet Done
	Dead    int // dead letters kept on disk
}

// Options tunes a queue. The zero value is usable: every field has a default.
type Options struct {
	// MaxAttempts is how many times a job runs before it is dead-lettered.
	// Default 5.
	MaxAttempts int
	// BaseBackoff is the delay before the second attempt; each further
	// attempt doubles it, up to MaxBackoff. The delay actually used is
	// jittered uniformly in [d/2, d]. Defaults 10s and 10m.
	BaseBackoff, MaxBackoff time.Duration
	// Retryable says whether a job that failed with err may run again. Nil
	// means every error is retryable. (The caller passes something like
	// func(err error) bool { return !errors.Is(err, publisher.ErrPermanent) }
	// so this package need not import the publisher.)
	Retryable func(error) bool
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// After returns a channel that fires after d, used to wake Take for
	// delayed jobs. Default: a real timer. Tests inject it along with Now.
	After func(d time.Duration) <-chan time.Time
	// Log receives one line per dead letter, recovered lease and
	// superseded retry. Default: discard.
	Log *logrus.Entry
	// DedupTTL is how long delivery ids are remembered. Default 7 days,
	// longer than the 3 days for which GitHub lets a delivery be redelivered.
	DedupTTL time.Duration
}

// Validate returns an error wrapping ErrInvalidJob for a job without a
// repository or of an unknown kind: what every Queue's Enqueue refuses.
func (j Job) Validate() error {
	switch {
	case j.Repo.FullName == "":
		return fmt.Errorf("%w: no repository", ErrInvalidJob)
	case j.Kind != KindPublish && j.Kind != KindPreview && j.Kind != KindCleanup:
		return fmt.Errorf("%w: unknown kind %q", ErrInvalidJob, j.Kind)
	}
	return nil
}

// WithDefaults returns o with every unset field at its default: what each
// Queue implementation applies when it opens.
func (o Options) WithDefaults() Options {
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.BaseBackoff <= 0 {
		o.BaseBackoff = 10 * time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 10 * time.Minute
	}
	if o.MaxBackoff < o.BaseBackoff {
		o.MaxBackoff = o.BaseBackoff
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.DedupTTL <= 0 {
		o.DedupTTL = 7 * 24 * time.Hour
	}
	return o
}

// Backoff is the jittered delay after the given failed attempt: uniform in
// [d/2, d] with d = BaseBackoff * 2^(attempt-1), capped at MaxBackoff. o
// must have its defaults (WithDefaults).
func (o Options) Backoff(attempt int) time.Duration {
	d := o.BaseBackoff
	for i := 1; i < attempt && d < o.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, o.MaxBackoff)
	half := d / 2
	return half + rand.N(d-half+1)
}

// Retries says whether a job that failed with err may run again (attempts
// aside): Options.Retryable, or true when that is nil.
func (o Options) Retries(err error) bool {
	return o.Retryable == nil || o.Retryable(err)
}

// DeadLetter is a dead-lettered job with why and when it died.
type DeadLetter struct {
	Job    Job
	Error  string // the last attempt's error
	DeadAt time.Time
}
