package queue

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Bucket names of the on-disk layout. Values are JSON so fields only grow.
var (
	bucketJobs       = []byte("jobs")         // seq (8 bytes, big endian) -> record (queued or running)
	bucketDead       = []byte("dead")         // seq -> record (dead letters)
	bucketDeliveries = []byte("deliveries")   // delivery id -> first-seen time (8 bytes, unix ns)
	bucketSeenByTime = []byte("seen_by_time") // first-seen time (8 bytes) + delivery id -> empty, for pruning
)

const (
	stateQueued  = "queued"
	stateRunning = "running"

	maxBatch      = 1024      // operations committed in one transaction at most
	pruneInterval = time.Hour // how often expired delivery ids are deleted
)

// record is how a job is stored.
type record struct {
	Seq       uint64    `json:"seq"`
	State     string    `json:"state"`
	Job       Job       `json:"job"`
	LeasedAt  time.Time `json:"leased_at,omitzero"`
	LastError string    `json:"last_error,omitempty"`
	DeadAt    time.Time `json:"dead_at,omitzero"`
}

// entry is a live (queued or running) job in memory.
type entry struct {
	rec  record
	gone bool // removed; still in Bolt.order until compaction
}

// Bolt is the embedded Queue: one bbolt file on local disk, owned by one
// process (bbolt locks the file). Every state change is committed and
// fsync'd before the call that made it returns; concurrent calls are
// group-committed, so many Enqueues share one fsync. An in-memory index of
// the live jobs (loaded at open) answers Take and Stats without reading the
// file. It is safe for concurrent use.
type Bolt struct {
	db   *bolt.DB
	opts Options
	log  *logrus.Entry

	ops      chan *op      // to the committer goroutine, the only writer
	quit     chan struct{} // closed by Close
	loopDone chan struct{} // closed when the committer has stopped
	close    sync.Once

	mu      sync.Mutex // guards the fields below
	order   []*entry   // live jobs by seq (enqueue order), with gone ones until compaction
	nGone   int
	byKey   map[string]*entry // queued (not running) jobs by Job.Key
	byID    map[string]*entry // live jobs by Job.ID
	running map[string]*entry // running jobs by Job.RepoKey
	dead    int
	changed chan struct{} // closed and replaced whenever a job may have become ready
}

var _ Queue = (*Bolt)(nil)

// op is one state change run by the committer inside a write transaction,
// under b.mu. Its plan returns what it did; an error (a bbolt failure)
// aborts the transaction, after which the batch is retried one op per
// transaction.
type op struct {
	plan  func(tx *bolt.Tx) (outcome, error)
	reply chan error // buffered, 1; nil for the committer's own ops
}

func (o *op) answer(err error) {
	if o.reply != nil {
		o.reply <- err
	}
}

// outcome is what an op's plan did: whether it wrote anything, and the
// answer for its caller once the transaction has committed.
type outcome struct {
	wrote  bool
	answer error
}

// OpenBolt opens (creating if needed) the queue file at path. Jobs that were
// running when the previous process stopped are ready again, their
// interrupted attempt counted; one that has no attempts left is
// dead-lettered. Delivery ids older than DedupTTL are pruned.
//
// A file that is not a whole queue (truncated, zeroed, overwritten) is
// refused with an error wrapping ErrDamaged that says to move it aside: it
// is checked before bbolt maps it, and a fault or panic inside bbolt while
// the file is opened and read is turned into that error too.
func OpenBolt(path string, opts Options) (_ *Bolt, err error) {
	opts = opts.WithDefaults()
	log := opts.Log
	if log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		log = logrus.NewEntry(l)
	}

	if err := checkBoltFile(path); err != nil {
		if errors.Is(err, ErrDamaged) {
			return nil, fmt.Errorf("open queue %s: %w: %s", path, err, damagedAdvice(path))
		}
		return nil, fmt.Errorf("open queue %s: %w", path, err)
	}
	// bbolt reads the file through a memory map: damage the check above
	// cannot see (a page deep inside overwritten) faults or panics there.
	// While this goroutine opens and reads the file, that is an error.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("open queue %s: %w (reading it failed: %v): %s", path, ErrDamaged, r, damagedAdvice(path))
		}
	}()

	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open queue %s: another process holds it: %w", path, err)
	}
	if errors.Is(err, berrors.ErrInvalid) || errors.Is(err, berrors.ErrChecksum) || errors.Is(err, berrors.ErrVersionMismatch) {
		return nil, fmt.Errorf("open queue %s: %w (%v): %s", path, ErrDamaged, err, damagedAdvice(path))
	}
	if err != nil {
		return nil, fmt.Errorf("open queue %s: %w", path, err)
	}
	defer func() {
		if r := recover(); r != nil {
			db.Close()
			panic(r) // to the recover above, which makes it the error
		}
	}()
	b := &Bolt{
		db:       db,
		opts:     opts,
		log:      log,
		ops:      make(chan *op),
		quit:     make(chan struct{}),
		loopDone: make(chan struct{}),
		changed:  make(chan struct{}),
	}
	if err := db.Update(b.recover); err != nil {
		db.Close()
		return nil, fmt.Errorf("recover queue %s: %w", path, err)
	}
	if err := b.reload(); err != nil {
		db.Close()
		return nil, fmt.Errorf("load queue %s: %w", path, err)
	}
	go b.loop()
	return b, nil
}

// recover creates the buckets, hands back leases of the previous process and
// prunes expired delivery ids.
func (b *Bolt) recover(tx *bolt.Tx) error {
	for _, name := range [][]byte{bucketJobs, bucketDead, bucketDeliveries, bucketSeenByTime} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	now := b.opts.Now()
	jobs := tx.Bucket(bucketJobs)
	var interrupted []record
	err := jobs.ForEach(func(k, v []byte) error {
		var r record
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("decode job %x: %w", k, err)
		}
		if r.State == stateRunning {
			interrupted = append(interrupted, r)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, r := range interrupted {
		r.State = stateQueued
		r.LeasedAt = time.Time{}
		r.LastError = fmt.Sprintf("interrupted: the process stopped during attempt %d", r.Job.Attempt)
		log := b.jobLog(r.Job)
		if r.Job.Attempt >= b.opts.MaxAttempts {
			if err := b.putDead(tx, r, now); err != nil {
				return err
			}
			log.WithField("attempt", r.Job.Attempt).Error("queue: job dead-lettered: interrupted on its last attempt")
			continue
		}
		if err := putRecord(jobs, r); err != nil {
			return err
		}
		log.WithField("attempt", r.Job.Attempt).Warn("queue: job interrupted by a stop, ready again")
	}
	_, err = b.prune(tx, now)
	return err
}

// reload rebuilds the in-memory index from the file: at open, and after a
// failed commit to forget what it did not write.
func (b *Bolt) reload() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.order, b.nGone = nil, 0
	b.byKey = make(map[string]*entry)
	b.byID = make(map[string]*entry)
	b.running = make(map[string]*entry)
	err := b.db.View(func(tx *bolt.Tx) error {
		b.dead = tx.Bucket(bucketDead).Stats().KeyN
		return tx.Bucket(bucketJobs).ForEach(func(k, v []byte) error {
			e := &entry{}
			if err := json.Unmarshal(v, &e.rec); err != nil {
				return fmt.Errorf("decode job %x: %w", k, err)
			}
			b.order = append(b.order, e)
			b.byID[e.rec.Job.ID] = e
			if e.rec.State == stateRunning {
				b.running[e.rec.Job.RepoKey()] = e
			} else {
				b.byKey[e.rec.Job.Key()] = e
			}
			return nil
		})
	})
	b.notifyLocked()
	return err
}

// loop is the committer: it gathers whatever operations are waiting and
// commits them in one transaction (group commit, no added delay: while one
// fsync runs, the next batch gathers).
func (b *Bolt) loop() {
	defer close(b.loopDone)
	prune := time.NewTicker(pruneInterval)
	defer prune.Stop()
	batch := make([]*op, 0, maxBatch)
	for {
		batch = batch[:0]
		select {
		case o := <-b.ops:
			batch = append(batch, o)
		case <-prune.C:
			batch = append(batch, b.pruneOp())
		case <-b.quit:
			return
		}
	gather:
		for len(batch) < maxBatch {
			select {
			case o := <-b.ops:
				batch = append(batch, o)
			default:
				break gather
			}
		}
		b.commit(batch)
	}
}

// commit runs batch in one transaction; if that fails it retries each op in
// its own, so one bad op cannot fail the others.
func (b *Bolt) commit(batch []*op) {
	err := b.runTx(batch)
	if err != nil && len(batch) == 1 {
		batch[0].answer(err)
		return
	}
	if err != nil {
		for _, o := range batch {
			if err := b.runTx([]*op{o}); err != nil {
				o.answer(err)
			}
		}
	}
}

// runTx plans every op under b.mu (updating the index as it goes, so later
// ops in the batch see earlier ones), commits, and replies. On failure the
// index is rebuilt from the file and nothing is replied.
func (b *Bolt) runTx(batch []*op) error {
	tx, err := b.db.Begin(true)
	if err != nil {
		return fmt.Errorf("queue: begin transaction: %w", err)
	}
	res := make([]error, len(batch))
	dirty := false
	b.mu.Lock()
	for i, o := range batch {
		out, fatal := o.plan(tx)
		if fatal != nil {
			b.mu.Unlock()
			_ = tx.Rollback()
			if rerr := b.reload(); rerr != nil {
				b.log.WithError(rerr).Error("queue: reload index after a failed transaction")
			}
			return fatal
		}
		res[i] = out.answer
		dirty = dirty || out.wrote
	}
	b.mu.Unlock()
	if !dirty {
		_ = tx.Rollback()
	} else if err := tx.Commit(); err != nil {
		if rerr := b.reload(); rerr != nil {
			b.log.WithError(rerr).Error("queue: reload index after a failed commit")
		}
		return fmt.Errorf("queue: commit: %w", err)
	}
	b.mu.Lock()
	b.compactLocked()
	b.notifyLocked()
	b.mu.Unlock()
	for i, o := range batch {
		o.answer(res[i])
	}
	return nil
}

// do hands plan to the committer and waits for its result. Once handed
// over, the op runs to completion even if ctx ends, so the answer is always
// the truth about what was stored.
func (b *Bolt) do(ctx context.Context, plan func(tx *bolt.Tx) (outcome, error)) error {
	o := &op{plan: plan, reply: make(chan error, 1)}
	select {
	case b.ops <- o:
	case <-b.quit:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-o.reply
}

// Enqueue implements Queue.
func (b *Bolt) Enqueue(ctx context.Context, j Job) error {
	if err := b.closed(); err != nil {
		return err
	}
	return b.do(ctx, func(tx *bolt.Tx) (outcome, error) {
		return b.planEnqueue(tx, j)
	})
}

func (b *Bolt) planEnqueue(tx *bolt.Tx, j Job) (outcome, error) {
	if err := j.Validate(); err != nil {
		return outcome{answer: err}, nil
	}
	now := b.opts.Now()
	if j.Delivery != "" {
		seen, err := b.markSeen(tx, j.Delivery, now)
		if err != nil {
			return outcome{}, err
		}
		if seen {
			return outcome{answer: ErrDuplicate}, nil
		}
	}
	return b.putQueuedLocked(tx, j, now)
}

// putQueuedLocked stores j as queued, coalescing it with a queued job of
// its Key (Enqueue's rules, after the delivery check).
func (b *Bolt) putQueuedLocked(tx *bolt.Tx, j Job, now time.Time) (outcome, error) {
	if j.Created.IsZero() {
		j.Created = now
	}
	j.Attempt = 0

	old := b.byKey[j.Key()]
	if j.ID == "" || (b.byID[j.ID] != nil && b.byID[j.ID] != old) {
		j.ID = NewID()
	}
	jobs := tx.Bucket(bucketJobs)
	if old != nil {
		// Coalesce: the newer job takes the older one's place in line and
		// the earlier start (a zero NotBefore means now).
		if old.rec.Job.NotBefore.IsZero() || (!j.NotBefore.IsZero() && old.rec.Job.NotBefore.Before(j.NotBefore)) {
			j.NotBefore = old.rec.Job.NotBefore
		}
		// Deliveries can arrive out of order (B's before A's), and the
		// queue cannot tell which commit is newer: the merged job builds
		// the ref's head when run, which holds both.
		if old.rec.Job.SHA != j.SHA {
			j.SHA = ""
		}
		r := record{Seq: old.rec.Seq, State: stateQueued, Job: j}
		if err := putRecord(jobs, r); err != nil {
			return outcome{}, err
		}
		b.jobLog(j).WithFields(logrus.Fields{"replaced": old.rec.Job.ID, "replaced_sha": old.rec.Job.SHA}).Debug("queue: queued job replaced by a newer one")
		delete(b.byID, old.rec.Job.ID)
		old.rec = r
		b.byID[j.ID] = old
		return outcome{wrote: true}, nil
	}
	seq, err := jobs.NextSequence()
	if err != nil {
		return outcome{}, fmt.Errorf("queue: next sequence: %w", err)
	}
	r := record{Seq: seq, State: stateQueued, Job: j}
	if err := putRecord(jobs, r); err != nil {
		return outcome{}, err
	}
	e := &entry{rec: r}
	b.order = append(b.order, e)
	b.byKey[j.Key()] = e
	b.byID[j.ID] = e
	return outcome{wrote: true}, nil
}

// markSeen records delivery as seen now and reports whether it was seen
// within DedupTTL before.
func (b *Bolt) markSeen(tx *bolt.Tx, delivery string, now time.Time) (bool, error) {
	deliveries := tx.Bucket(bucketDeliveries)
	byTime := tx.Bucket(bucketSeenByTime)
	key := []byte(delivery)
	if v := deliveries.Get(key); len(v) == 8 {
		at := int64(binary.BigEndian.Uint64(v))
		if now.Sub(time.Unix(0, at)) < b.opts.DedupTTL {
			return true, nil
		}
		if err := byTime.Delete(append(bytes.Clone(v), key...)); err != nil {
			return false, fmt.Errorf("queue: forget delivery %s: %w", delivery, err)
		}
	}
	ts := make([]byte, 8)
	binary.BigEndian.PutUint64(ts, uint64(now.UnixNano()))
	if err := deliveries.Put(key, ts); err != nil {
		return false, fmt.Errorf("queue: record delivery %s: %w", delivery, err)
	}
	if err := byTime.Put(append(ts, key...), nil); err != nil {
		return false, fmt.Errorf("queue: record delivery %s: %w", delivery, err)
	}
	return false, nil
}

// prune deletes delivery ids first seen more than DedupTTL before now.
func (b *Bolt) prune(tx *bolt.Tx, now time.Time) (int, error) {
	deliveries := tx.Bucket(bucketDeliveries)
	byTime := tx.Bucket(bucketSeenByTime)
	cutoff := uint64(now.Add(-b.opts.DedupTTL).UnixNano())
	var expired [][]byte
	c := byTime.Cursor()
	for k, _ := c.First(); len(k) >= 8 && binary.BigEndian.Uint64(k[:8]) <= cutoff; k, _ = c.Next() {
		expired = append(expired, bytes.Clone(k))
	}
	for _, k := range expired {
		if err := byTime.Delete(k); err != nil {
			return 0, fmt.Errorf("queue: prune deliveries: %w", err)
		}
		if v := deliveries.Get(k[8:]); bytes.Equal(v, k[:8]) {
			if err := deliveries.Delete(k[8:]); err != nil {
				return 0, fmt.Errorf("queue: prune deliveries: %w", err)
			}
		}
	}
	return len(expired), nil
}

func (b *Bolt) pruneOp() *op {
	return &op{plan: func(tx *bolt.Tx) (outcome, error) {
		n, err := b.prune(tx, b.opts.Now())
		return outcome{wrote: n > 0}, err
	}}
}

// Take implements Queue.
func (b *Bolt) Take(ctx context.Context) (Job, error) {
	for {
		if err := b.closed(); err != nil {
			return Job{}, err
		}
		if err := ctx.Err(); err != nil {
			return Job{}, err
		}
		b.mu.Lock()
		ready, next := b.findLocked(b.opts.Now())
		changed := b.changed
		b.mu.Unlock()
		if ready != nil {
			var got Job
			var ok bool
			err := b.do(ctx, func(tx *bolt.Tx) (outcome, error) {
				got, ok = Job{}, false // a retried plan starts afresh
				now := b.opts.Now()
				e, _ := b.findLocked(now)
				if e == nil {
					return outcome{}, nil // someone else took it
				}
				r := e.rec
				r.State = stateRunning
				r.Job.Attempt++
				r.LeasedAt = now
				if err := putRecord(tx.Bucket(bucketJobs), r); err != nil {
					return outcome{}, err
				}
				e.rec = r
				if b.byKey[r.Job.Key()] == e {
					delete(b.byKey, r.Job.Key())
				}
				b.running[r.Job.RepoKey()] = e
				got, ok = r.Job, true
				return outcome{wrote: true}, nil
			})
			if err != nil {
				return Job{}, err
			}
			if ok {
				return got, nil
			}
			continue
		}
		if err := b.wait(ctx, changed, next); err != nil {
			return Job{}, err
		}
	}
}

// wait blocks until changed is closed, the clock reaches next (if not
// zero), ctx ends or the queue closes.
func (b *Bolt) wait(ctx context.Context, changed <-chan struct{}, next time.Time) error {
	var timer <-chan time.Time
	if !next.IsZero() {
		d := next.Sub(b.opts.Now())
		if b.opts.After != nil {
			timer = b.opts.After(d)
		} else {
			t := time.NewTimer(d)
			defer t.Stop()
			timer = t.C
		}
	}
	select {
	case <-changed:
		return nil
	case <-timer:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-b.quit:
		return ErrClosed
	}
}

// findLocked returns the first job in enqueue order that is ready at now,
// or else the earliest time a queued job becomes due (zero if none).
func (b *Bolt) findLocked(now time.Time) (*entry, time.Time) {
	var next time.Time
	for _, e := range b.order {
		if e.gone || e.rec.State != stateQueued {
			continue
		}
		if nb := e.rec.Job.NotBefore; nb.After(now) {
			if next.IsZero() || nb.Before(next) {
				next = nb
			}
			continue
		}
		if b.running[e.rec.Job.RepoKey()] != nil {
			continue
		}
		return e, time.Time{}
	}
	return nil, next
}

// Done implements Queue.
func (b *Bolt) Done(ctx context.Context, j Job, runErr error) error {
	if err := b.closed(); err != nil {
		return err
	}
	return b.do(ctx, func(tx *bolt.Tx) (outcome, error) {
		return b.planDone(tx, j, runErr)
	})
}

func (b *Bolt) planDone(tx *bolt.Tx, j Job, runErr error) (outcome, error) {
	e := b.byID[j.ID]
	if e == nil || e.rec.State != stateRunning {
		return outcome{answer: ErrNotRunning}, nil
	}
	now := b.opts.Now()
	r := e.rec
	log := b.jobLog(r.Job).WithField("attempt", r.Job.Attempt)
	jobs := tx.Bucket(bucketJobs)
	if runErr == nil {
		if err := jobs.Delete(seqKey(r.Seq)); err != nil {
			return outcome{}, fmt.Errorf("queue: delete job %s: %w", r.Job.ID, err)
		}
		b.removeLocked(e)
		return outcome{wrote: true}, nil
	}
	r.LastError = runErr.Error()
	r.LeasedAt = time.Time{}
	retryable := b.opts.Retries(runErr)
	newer := b.byKey[r.Job.Key()]
	switch {
	case retryable && r.Job.Attempt < b.opts.MaxAttempts && newer != nil:
		if err := jobs.Delete(seqKey(r.Seq)); err != nil {
			return outcome{}, fmt.Errorf("queue: delete job %s: %w", r.Job.ID, err)
		}
		if err := b.absorbLocked(jobs, newer, r.Job); err != nil {
			return outcome{}, err
		}
		b.removeLocked(e)
		log.WithError(runErr).WithField("superseded_by", newer.rec.Job.ID).Info("queue: failed job not retried: a newer one is queued")
	case retryable && r.Job.Attempt < b.opts.MaxAttempts:
		r.State = stateQueued
		r.Job.NotBefore = now.Add(b.opts.Backoff(r.Job.Attempt))
		if err := putRecord(jobs, r); err != nil {
			return outcome{}, err
		}
		b.unrunLocked(r, e)
		e.rec = r
		b.byKey[r.Job.Key()] = e
		log.WithError(runErr).WithField("retry_at", r.Job.NotBefore).Warn("queue: job failed, will retry")
	default:
		if err := jobs.Delete(seqKey(r.Seq)); err != nil {
			return outcome{}, fmt.Errorf("queue: delete job %s: %w", r.Job.ID, err)
		}
		if err := b.putDead(tx, r, now); err != nil {
			return outcome{}, err
		}
		b.removeLocked(e)
		b.dead++
		log.WithError(runErr).WithField("retryable", retryable).Error("queue: job dead-lettered")
	}
	return outcome{wrote: true}, nil
}

// absorbLocked makes the queued job newer stand for dropped too, a job of
// its Key that gives way to it: as when Enqueue coalesces, differing SHAs
// mean the ref's head, since the later-enqueued job is not always the newer
// commit (deliveries arrive out of order).
func (b *Bolt) absorbLocked(jobs *bolt.Bucket, newer *entry, dropped Job) error {
	if newer.rec.Job.Kind != dropped.Kind || newer.rec.Job.SHA == "" || newer.rec.Job.SHA == dropped.SHA {
		return nil
	}
	r := newer.rec
	r.Job.SHA = ""
	if err := putRecord(jobs, r); err != nil {
		return err
	}
	newer.rec = r
	return nil
}

// unrunLocked drops e from the running set (it keeps its place in order).
func (b *Bolt) unrunLocked(r record, e *entry) {
	if b.running[r.Job.RepoKey()] == e {
		delete(b.running, r.Job.RepoKey())
	}
}

// Release implements Queue.
func (b *Bolt) Release(ctx context.Context, j Job) error {
	if err := b.closed(); err != nil {
		return err
	}
	return b.do(ctx, func(tx *bolt.Tx) (outcome, error) {
		e := b.byID[j.ID]
		if e == nil || e.rec.State != stateRunning {
			return outcome{answer: ErrNotRunning}, nil
		}
		jobs := tx.Bucket(bucketJobs)
		r := e.rec
		if newer := b.byKey[r.Job.Key()]; newer != nil {
			if err := jobs.Delete(seqKey(r.Seq)); err != nil {
				return outcome{}, fmt.Errorf("queue: delete job %s: %w", r.Job.ID, err)
			}
			if err := b.absorbLocked(jobs, newer, r.Job); err != nil {
				return outcome{}, err
			}
			b.removeLocked(e)
			return outcome{wrote: true}, nil
		}
		r.State = stateQueued
		r.LeasedAt = time.Time{}
		r.Job.Attempt--
		if err := putRecord(jobs, r); err != nil {
			return outcome{}, err
		}
		b.unrunLocked(r, e)
		e.rec = r
		b.byKey[r.Job.Key()] = e
		return outcome{wrote: true}, nil
	})
}

// removeLocked forgets a finished, dropped or dead job.
func (b *Bolt) removeLocked(e *entry) {
	j := e.rec.Job
	if b.running[j.RepoKey()] == e {
		delete(b.running, j.RepoKey())
	}
	if b.byKey[j.Key()] == e {
		delete(b.byKey, j.Key())
	}
	if b.byID[j.ID] == e {
		delete(b.byID, j.ID)
	}
	e.gone = true
	b.nGone++
}

func (b *Bolt) compactLocked() {
	if b.nGone < 64 || b.nGone < len(b.order)/2 {
		return
	}
	live := make([]*entry, 0, len(b.order)-b.nGone)
	for _, e := range b.order {
		if !e.gone {
			live = append(live, e)
		}
	}
	b.order, b.nGone = live, 0
}

func (b *Bolt) notifyLocked() {
	close(b.changed)
	b.changed = make(chan struct{})
}

// Stats implements Queue.
func (b *Bolt) Stats(ctx context.Context) (Stats, error) {
	if err := b.closed(); err != nil {
		return Stats{}, err
	}
	now := b.opts.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	s := Stats{Dead: b.dead}
	for _, e := range b.order {
		switch {
		case e.gone:
		case e.rec.State == stateRunning:
			s.Running++
		case e.rec.Job.NotBefore.After(now):
			s.Delayed++
		default:
			s.Queued++
		}
	}
	return s, nil
}

// DeadLetters returns the dead-lettered jobs, oldest first, with the Attempt
// they died on.
func (b *Bolt) DeadLetters(ctx context.Context) ([]Job, error) {
	recs, err := b.deadRecords()
	if err != nil {
		return nil, err
	}
	jobs := make([]Job, len(recs))
	for i, r := range recs {
		jobs[i] = r.Job
	}
	return jobs, nil
}

// DeadLetterDetails is DeadLetters with each job's last error and time of death.
func (b *Bolt) DeadLetterDetails(ctx context.Context) ([]DeadLetter, error) {
	recs, err := b.deadRecords()
	if err != nil {
		return nil, err
	}
	out := make([]DeadLetter, len(recs))
	for i, r := range recs {
		out[i] = DeadLetter{Job: r.Job, Error: r.LastError, DeadAt: r.DeadAt}
	}
	return out, nil
}

func (b *Bolt) deadRecords() ([]record, error) {
	if err := b.closed(); err != nil {
		return nil, err
	}
	var recs []record
	err := b.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDead).ForEach(func(k, v []byte) error {
			var r record
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode dead letter %x: %w", k, err)
			}
			recs = append(recs, r)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("queue: read dead letters: %w", err)
	}
	return recs, nil
}

// Close implements Queue. It waits for the commit in progress, if any.
func (b *Bolt) Close() error {
	err := ErrClosed
	b.close.Do(func() {
		close(b.quit)
		<-b.loopDone
		err = b.db.Close()
		if err != nil {
			err = fmt.Errorf("queue: close: %w", err)
		}
	})
	if errors.Is(err, ErrClosed) {
		return nil // closing twice is harmless
	}
	return err
}

func (b *Bolt) closed() error {
	select {
	case <-b.quit:
		return ErrClosed
	default:
		return nil
	}
}

func (b *Bolt) putDead(tx *bolt.Tx, r record, now time.Time) error {
	r.State = ""
	r.LeasedAt = time.Time{}
	r.DeadAt = now
	v, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("queue: encode dead letter %s: %w", r.Job.ID, err)
	}
	if err := tx.Bucket(bucketJobs).Delete(seqKey(r.Seq)); err != nil {
		return fmt.Errorf("queue: delete job %s: %w", r.Job.ID, err)
	}
	if err := tx.Bucket(bucketDead).Put(seqKey(r.Seq), v); err != nil {
		return fmt.Errorf("queue: store dead letter %s: %w", r.Job.ID, err)
	}
	return nil
}

func (b *Bolt) jobLog(j Job) *logrus.Entry { return b.log.WithFields(j.LogFields()) }

func putRecord(jobs *bolt.Bucket, r record) error {
	v, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("queue: encode job %s: %w", r.Job.ID, err)
	}
	if err := jobs.Put(seqKey(r.Seq), v); err != nil {
		return fmt.Errorf("queue: store job %s: %w", r.Job.ID, err)
	}
	return nil
}

func seqKey(seq uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, seq)
	return k
}
