// Package jetstream owns the replicated queue.Queue on NATS JetStream, for
// several `serve` replicas sharing one NATS server or cluster.
//
// Layout (every name starts with Options.Name, "publishbot" by default):
//
//   - stream <NAME>_JOBS, subjects <name>.jobs.<repo>.<key> (both base64url),
//     one message per coalescing key (MaxMsgsPerSubject 1): a newer job
//     replaces the queued one by a publish that expects the last sequence
//     of its subject, so a concurrent change is seen and merged again;
//   - a durable pull consumer <name>_workers on it, shared by all replicas:
//     its AckWait is the lease, so a job whose replica died is delivered
//     again; every delivery is unlimited (a job waiting for its time or its
//     repository is handed back with a delay, never dead-lettered for it);
//   - KV <name>_locks: one key per repository while one of its jobs runs,
//     created only if absent, renewed while the job runs, deleted at its
//     end; its TTL is the lease, so a dead replica's lock expires;
//   - KV <name>_runs: attempts per job id, counted by the queue (not by
//     JetStream's delivery count), and whether an attempt is in progress;
//   - KV <name>_deliveries: delivery ids seen, with a TTL of
//     queue.Options.DedupTTL (7 days); the stream's duplicate window on the
//     Nats-Msg-Id header closes the race between two replicas;
//   - stream <NAME>_DEAD: dead letters with their last error.
//
// A job is acknowledged once the stream acknowledged its publish (stored,
// replicated to a quorum when Replicas > 1). Ready jobs of one repository
// leave in enqueue order; those of different repositories need not.
package jetstream

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/sirupsen/logrus"

	"github.com/publishbot/publishbot/keylock"
	"github.com/publishbot/publishbot/queue"
)

// Options tunes the JetStream queue. The zero value is usable.
type Options struct {
	queue.Options
	// Name prefixes every stream, bucket and consumer (letters, digits,
	// '-' and '_'). Default "publishbot".
	Name string
	// Replicas is how many servers keep each stream and bucket: 1 on a
	// single server, 3 on a three-server cluster. Default 1.
	Replicas int
	// Lease is how long a taken job and its repository's lock outlive a
	// replica that stopped renewing them (renewed every Lease/3). Default 30s.
	Lease time.Duration
	// LockRetry is about how long a job of a busy repository waits before
	// it is offered again (jittered). Default 200ms.
	LockRetry time.Duration
	// MaxWait caps how long a delayed job is handed back for before it is
	// looked at again. Default 1 minute.
	MaxWait time.Duration
	// DuplicateWindow is the stream's Nats-Msg-Id window. Default 2 minutes.
	DuplicateWindow time.Duration
	// Owner names this replica in lock values. Default host name and pid.
	Owner string
}

func (o Options) withDefaults() Options {
	o.Options = o.Options.WithDefaults()
	if o.Name == "" {
		o.Name = "publishbot"
	}
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	if o.Lease <= 0 {
		o.Lease = 30 * time.Second
	}
	if o.LockRetry <= 0 {
		o.LockRetry = 200 * time.Millisecond
	}
	if o.MaxWait <= 0 {
		o.MaxWait = time.Minute
	}
	if o.DuplicateWindow <= 0 {
		o.DuplicateWindow = 2 * time.Minute
	}
	if o.Owner == "" {
		host, _ := os.Hostname()
		o.Owner = host + "-" + strconv.Itoa(os.Getpid())
	}
	if o.Log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		o.Log = logrus.NewEntry(l)
	}
	return o
}

// Message headers.
const (
	hdrJob       = "Publishbot-Job"
	hdrNotBefore = "Publishbot-Not-Before"
)

// envelope is a job message's body.
type envelope struct {
	Job queue.Job `json:"job"`
	// Place orders the jobs of one repository: the time of the first
	// enqueue of the line of jobs this one replaced (a newer job keeps the
	// older one's place).
	Place int64 `json:"place"`
	// LastError is the error of the failed attempt a retry follows.
	LastError string `json:"last_error,omitempty"`
}

// deadLetter is a dead-letter message's body.
type deadLetter struct {
	Job    queue.Job `json:"job"`
	Error  string    `json:"error"`
	DeadAt time.Time `json:"dead_at"`
}

// runState is a job's entry in the runs bucket.
type runState struct {
	Attempt int  `json:"attempt"` // attempts started
	Running bool `json:"running"` // the last one has not ended
}

// lockValue is a repository lock's value: the job running under it.
type lockValue struct {
	Job     string    `json:"job"`
	Seq     uint64    `json:"seq"`
	Owner   string    `json:"owner"`
	Since   time.Time `json:"since"`
	Running envelope  `json:"running"` // the job (with its Attempt), for List
}

// Queue is the JetStream queue. It is safe for concurrent use; any number
// of Queues (in any number of processes) may share one server.
type Queue struct {
	js   natsjs.JetStream
	opts Options
	log  *logrus.Entry

	jobs, dead              natsjs.Stream
	cons                    natsjs.Consumer
	deliveries, locks, runs natsjs.KeyValue
	jobsStream, deadStream  string

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	closed atomic.Bool
	wg     sync.WaitGroup // keepers

	mu      sync.Mutex
	running map[string]*run // taken jobs by id

	// keys serialises this process's Enqueues of one coalescing key: each
	// reads the key's queued job and replaces it only if it is still the
	// last one, so concurrent ones would mostly redo their work.
	keys   keylock.Map
	lastMu sync.Mutex
	last   map[string]lastJob // this process's last publish per subject (a guess)

	lockWaits, recovered atomic.Int64
}

var _ queue.Queue = (*Queue)(nil)

// run is a job taken by this Queue.
type run struct {
	env     envelope
	job     queue.Job // with Attempt
	msg     natsjs.Msg
	seq     uint64
	lockKey string
	lockVal []byte
	lockRev atomic.Uint64
	stop    chan struct{}
	stopped chan struct{}
}

// Open creates or updates the streams, buckets and consumer the queue uses
// on js (idempotent: every replica calls it) and returns the queue. The
// caller owns the connection behind js and closes it after Close.
//
// A cluster that is still forming ("no suitable peers", JetStream not yet
// available) is waited for until ctx ends.
func Open(ctx context.Context, js natsjs.JetStream, opts Options) (*Queue, error) {
	opts = opts.withDefaults()
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		q, err := open(ctx, js, opts)
		if err == nil || !transient(err) {
			return q, err
		}
		opts.Log.WithError(err).Warn("jetstream queue: the NATS cluster is not ready yet; trying again")
		select {
		case <-ctx.Done():
			return nil, err
		case <-t.C:
		}
	}
}

// transient reports an error of a JetStream cluster that is still forming.
func transient(err error) bool {
	var apiErr *natsjs.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode {
		case 10005, 10008: // no suitable peers for placement; JetStream temporarily unavailable
			return true
		}
	}
	return errors.Is(err, nats.ErrNoResponders)
}

func open(ctx context.Context, js natsjs.JetStream, opts Options) (*Queue, error) {
	q := &Queue{
		js:         js,
		opts:       opts,
		log:        opts.Log,
		running:    map[string]*run{},
		jobsStream: strings.ToUpper(opts.Name) + "_JOBS",
		deadStream: strings.ToUpper(opts.Name) + "_DEAD",
	}
	var err error
	q.jobs, err = js.CreateOrUpdateStream(ctx, natsjs.StreamConfig{
		Name:              q.jobsStream,
		Description:       "publishbot jobs, one per coalescing key",
		Subjects:          []string{opts.Name + ".jobs.>"},
		Retention:         natsjs.LimitsPolicy,
		MaxMsgsPerSubject: 1,
		Discard:           natsjs.DiscardOld,
		Storage:           natsjs.FileStorage,
		Replicas:          opts.Replicas,
		Duplicates:        opts.DuplicateWindow,
	})
	if err != nil {
		return nil, fmt.Errorf("jetstream queue: create stream %s: %w", q.jobsStream, err)
	}
	q.dead, err = js.CreateOrUpdateStream(ctx, natsjs.StreamConfig{
		Name:        q.deadStream,
		Description: "publishbot dead letters",
		Subjects:    []string{opts.Name + ".dead.>"},
		Retention:   natsjs.LimitsPolicy,
		Storage:     natsjs.FileStorage,
		Replicas:    opts.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("jetstream queue: create stream %s: %w", q.deadStream, err)
	}
	kv := func(suffix, what string, ttl time.Duration) (natsjs.KeyValue, error) {
		b, err := js.CreateOrUpdateKeyValue(ctx, natsjs.KeyValueConfig{
			Bucket:      opts.Name + "_" + suffix,
			Description: what,
			TTL:         ttl,
			Storage:     natsjs.FileStorage,
			Replicas:    opts.Replicas,
		})
		if err != nil {
			return nil, fmt.Errorf("jetstream queue: create bucket %s_%s: %w", opts.Name, suffix, err)
		}
		return b, nil
	}
	if q.deliveries, err = kv("deliveries", "publishbot delivery ids seen", opts.DedupTTL); err != nil {
		return nil, err
	}
	if q.locks, err = kv("locks", "publishbot repository locks", opts.Lease); err != nil {
		return nil, err
	}
	if q.runs, err = kv("runs", "publishbot attempts per job", opts.DedupTTL); err != nil {
		return nil, err
	}
	q.cons, err = js.CreateOrUpdateConsumer(ctx, q.jobsStream, natsjs.ConsumerConfig{
		Durable:       opts.Name + "_workers",
		Description:   "publishbot workers of every replica",
		FilterSubject: opts.Name + ".jobs.>",
		DeliverPolicy: natsjs.DeliverAllPolicy,
		AckPolicy:     natsjs.AckExplicitPolicy,
		AckWait:       opts.Lease,
		MaxDeliver:    -1,
		MaxAckPending: -1,
		Replicas:      opts.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("jetstream queue: create consumer: %w", err)
	}
	q.ctx, q.cancel = context.WithCancel(context.Background())
	return q, nil
}

// enc makes a subject token or KV key of any string.
func enc(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func (q *Queue) jobSubject(j queue.Job) string {
	return q.opts.Name + ".jobs." + enc(j.RepoKey()) + "." + enc(j.Key())
}

func (q *Queue) repoFilter(repoKey string) string {
	return q.opts.Name + ".jobs." + enc(repoKey) + ".>"
}

func (q *Queue) jobLog(j queue.Job) *logrus.Entry { return q.log.WithFields(j.LogFields()) }

func (q *Queue) checkOpen() error {
	if q.closed.Load() {
		return queue.ErrClosed
	}
	return nil
}

// isWrongLastSeq reports a publish refused because the subject's last
// sequence was not the one expected (codes 10071, and 10164 on R>1).
func isWrongLastSeq(err error) bool {
	var apiErr *natsjs.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	return apiErr.ErrorCode == natsjs.JSErrCodeStreamWrongLastSequence || apiErr.ErrorCode == natsjs.JSErrCodeStreamWrongLastSequenceConstant
}

// isGone reports a message that is no longer in the stream (replaced by a
// newer job of its key, or removed by another replica).
func isGone(err error) bool {
	if errors.Is(err, natsjs.ErrMsgNotFound) {
		return true
	}
	// DeleteMsg flattens the server's API error into its text: "no message
	// found" is error code 10057.
	return errors.Is(err, natsjs.ErrMsgDeleteUnsuccessful) && strings.Contains(err.Error(), "err_code=10057")
}

// publish stores env on subj if the subject's last message is still lastSeq
// (0: none).
func (q *Queue) publish(ctx context.Context, subj string, env envelope, lastSeq uint64, msgID string) (*natsjs.PubAck, error) {
	data, err := json.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("encode job %s: %w", env.Job.ID, err)
	}
	m := nats.NewMsg(subj)
	m.Data = data
	m.Header.Set(hdrJob, env.Job.ID)
	if !env.Job.NotBefore.IsZero() {
		m.Header.Set(hdrNotBefore, env.Job.NotBefore.UTC().Format(time.RFC3339Nano))
	}
	opts := []natsjs.PublishOpt{natsjs.WithExpectStream(q.jobsStream), natsjs.WithExpectLastSequencePerSubject(lastSeq)}
	if msgID != "" {
		opts = append(opts, natsjs.WithMsgID(msgID))
	}
	return q.js.PublishMsg(ctx, m, opts...)
}

// merge makes newer stand for older too, as queue.Queue.Enqueue says: the
// older one's place and the earlier start; the ref's head when the two
// commits differ.
func merge(older, newer envelope) envelope {
	newer.Place = older.Place
	o, n := older.Job, &newer.Job
	if o.NotBefore.IsZero() || (!n.NotBefore.IsZero() && o.NotBefore.Before(n.NotBefore)) {
		n.NotBefore = o.NotBefore
	}
	if o.SHA != n.SHA {
		n.SHA = ""
	}
	return newer
}

// Enqueue implements queue.Queue. The job is stored when the stream has
// acknowledged it. A queued job of the same key is replaced (a running one
// too, in the stream: its replica finishes it, and the replacement, which
// builds the ref's head if the commits differ, runs after it).
func (q *Queue) Enqueue(ctx context.Context, j queue.Job) error {
	if err := q.checkOpen(); err != nil {
		return err
	}
	if err := j.Validate(); err != nil {
		return err
	}
	if nc := q.js.Conn(); nc != nil && !nc.IsConnected() {
		// Fail at once: the caller (a webhook) answers 503 and the
		// delivery is redelivered, rather than wait for a timeout.
		return fmt.Errorf("jetstream queue: store job: %w", nats.ErrDisconnected)
	}
	now := q.opts.Now()
	if j.Created.IsZero() {
		j.Created = now
	}
	j.Attempt = 0
	if j.ID == "" {
		j.ID = queue.NewID()
	}
	subj := q.jobSubject(j)
	unlock, err := q.keys.Lock(ctx, subj)
	if err != nil {
		return err
	}
	stored, err := q.store(ctx, subj, j, now)
	unlock()
	if err != nil {
		return err
	}
	if j.Delivery != "" && !stored.duplicate {
		_, err := q.deliveries.Create(ctx, enc(j.Delivery), []byte(now.UTC().Format(time.RFC3339)))
		if err != nil && !errors.Is(err, natsjs.ErrKeyExists) {
			// The job is stored; the stream's duplicate window still
			// refuses the delivery for a while.
			q.jobLog(j).WithError(err).Warn("jetstream queue: delivery id not remembered for the whole dedup period")
		}
	}
	if stored.duplicate {
		return queue.ErrDuplicate
	}
	return nil
}

// maxGuesses bounds the keys whose last message a process remembers.
const maxGuesses = 10000

// storeResult is what store did.
type storeResult struct{ duplicate bool }

// lastJob is the last message this process stored on a subject.
type lastJob struct {
	seq uint64
	env envelope
}

// store publishes j on subj, merged with the key's queued job, unless its
// delivery was seen. The caller holds subj's key lock. The queued job is
// this process's last publish on subj when that is still the subject's last
// message (the publish expects its sequence, so a stale guess costs one
// retry), else it is read from the stream while the delivery id is looked
// up.
func (q *Queue) store(ctx context.Context, subj string, j queue.Job, now time.Time) (storeResult, error) {
	seen := make(chan error, 1)
	go func() {
		if j.Delivery == "" {
			seen <- nil
			return
		}
		_, err := q.deliveries.Get(ctx, enc(j.Delivery))
		switch {
		case err == nil:
			seen <- queue.ErrDuplicate
		case errors.Is(err, natsjs.ErrKeyNotFound):
			seen <- nil
		default:
			seen <- fmt.Errorf("jetstream queue: look up delivery %s: %w", j.Delivery, err)
		}
	}()
	q.lastMu.Lock()
	guess, guessed := q.last[subj]
	q.lastMu.Unlock()
	read := func() (lastJob, bool, error) {
		m, err := q.jobs.GetLastMsgForSubject(ctx, subj)
		if errors.Is(err, natsjs.ErrMsgNotFound) {
			return lastJob{}, false, nil
		}
		if err != nil {
			return lastJob{}, false, fmt.Errorf("jetstream queue: read the queued job of %s: %w", j.Key(), err)
		}
		var o envelope
		if json.Unmarshal(m.Data, &o) != nil {
			return lastJob{seq: m.Sequence}, false, nil // unreadable: replaced, not merged
		}
		return lastJob{seq: m.Sequence, env: o}, true, nil
	}
	var (
		cur       lastJob
		mergeable bool
	)
	if guessed {
		cur, mergeable = guess, true
	} else {
		var err error
		if cur, mergeable, err = read(); err != nil {
			<-seen
			return storeResult{}, err
		}
	}
	if err := <-seen; errors.Is(err, queue.ErrDuplicate) {
		return storeResult{duplicate: true}, nil
	} else if err != nil {
		return storeResult{}, err
	}
	for try := 0; ; try++ {
		env := envelope{Job: j, Place: now.UnixNano()}
		if mergeable {
			env = merge(cur.env, env)
		}
		ack, err := q.publish(ctx, subj, env, cur.seq, j.Delivery)
		if isWrongLastSeq(err) && try < 100 {
			// Another replica changed this key meanwhile, or the guess was
			// stale: read it and merge again.
			if cur, mergeable, err = read(); err != nil {
				q.forget(subj)
				return storeResult{}, err
			}
			continue
		}
		if err != nil {
			q.forget(subj)
			return storeResult{}, fmt.Errorf("jetstream queue: store job %s: %w", j.ID, err)
		}
		if ack.Duplicate {
			return storeResult{duplicate: true}, nil
		}
		q.lastMu.Lock()
		if q.last == nil || len(q.last) >= maxGuesses {
			q.last = map[string]lastJob{} // a guess only: start over
		}
		q.last[subj] = lastJob{seq: ack.Sequence, env: env}
		q.lastMu.Unlock()
		return storeResult{}, nil
	}
}

// forget drops the guess about subj's last message.
func (q *Queue) forget(subj string) {
	q.lastMu.Lock()
	delete(q.last, subj)
	q.lastMu.Unlock()
}

// Take implements queue.Queue.
func (q *Queue) Take(ctx context.Context) (queue.Job, error) {
	for {
		if err := q.checkOpen(); err != nil {
			return queue.Job{}, err
		}
		if err := ctx.Err(); err != nil {
			return queue.Job{}, err
		}
		m, err := q.next(ctx)
		if err != nil {
			if q.closed.Load() {
				return queue.Job{}, queue.ErrClosed
			}
			if ctx.Err() != nil {
				return queue.Job{}, ctx.Err()
			}
			return queue.Job{}, fmt.Errorf("jetstream queue: fetch: %w", err)
		}
		if m == nil {
			continue
		}
		j, ok, err := q.claim(ctx, m)
		if err != nil {
			_ = m.NakWithDelay(q.jitter(q.opts.LockRetry))
			if q.closed.Load() {
				return queue.Job{}, queue.ErrClosed
			}
			if ctx.Err() != nil {
				return queue.Job{}, ctx.Err()
			}
			return queue.Job{}, err
		}
		if ok {
			return j, nil
		}
	}
}

// next fetches one message, waiting up to a few seconds; nil when none came.
func (q *Queue) next(ctx context.Context) (natsjs.Msg, error) {
	fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	stop := context.AfterFunc(q.ctx, cancel)
	defer stop()
	batch, err := q.cons.Fetch(1, natsjs.FetchContext(fctx))
	if errors.Is(err, natsjs.ErrInvalidOption) {
		<-fctx.Done() // the deadline is too near to ask the server
	}
	if err != nil {
		if fctx.Err() != nil {
			return nil, fctx.Err()
		}
		return nil, err
	}
	for m := range batch.Messages() {
		return m, nil
	}
	if err := batch.Error(); err != nil && fctx.Err() == nil && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, natsjs.ErrNoMessages) {
		return nil, err
	}
	if ctx.Err() != nil || q.closed.Load() {
		return nil, context.Canceled
	}
	return nil, nil
}

func (q *Queue) jitter(d time.Duration) time.Duration {
	half := d / 2
	return half + rand.N(d-half+1)
}

// claim decides about a delivered message: it becomes this replica's
// running job (true), or goes back with a delay (not due, repository busy,
// an older job of the repository is ready), or is dropped (replaced).
func (q *Queue) claim(ctx context.Context, m natsjs.Msg) (queue.Job, bool, error) {
	meta, err := m.Metadata()
	if err != nil {
		return queue.Job{}, false, fmt.Errorf("jetstream queue: message metadata: %w", err)
	}
	seq := meta.Sequence.Stream
	var env envelope
	if err := json.Unmarshal(m.Data(), &env); err != nil {
		q.log.WithError(err).WithField("seq", seq).Error("jetstream queue: unreadable job message removed")
		_ = q.jobs.DeleteMsg(ctx, seq)
		_ = m.Term()
		return queue.Job{}, false, nil
	}
	j := env.Job
	now := q.opts.Now()
	if j.NotBefore.After(now) {
		_ = m.NakWithDelay(min(j.NotBefore.Sub(now), q.opts.MaxWait))
		return queue.Job{}, false, nil
	}

	lockKey := enc(j.RepoKey())
	lockVal, _ := json.Marshal(lockValue{Job: j.ID, Seq: seq, Owner: q.opts.Owner, Since: now.UTC(), Running: env})
	rev, err := q.locks.Create(ctx, lockKey, lockVal)
	if errors.Is(err, natsjs.ErrKeyExists) {
		q.lockWaits.Add(1)
		_ = m.NakWithDelay(q.jitter(q.opts.LockRetry))
		return queue.Job{}, false, nil
	}
	if err != nil {
		return queue.Job{}, false, fmt.Errorf("jetstream queue: lock %s: %w", j.RepoKey(), err)
	}
	unlock := func() { q.unlock(lockKey, rev) }

	first, present, err := q.firstReady(ctx, j.RepoKey(), seq, now)
	if err != nil {
		unlock()
		return queue.Job{}, false, err
	}
	if !present { // replaced by a newer job of its key
		unlock()
		_ = m.Ack()
		return queue.Job{}, false, nil
	}
	if first != seq { // an older job of the repository goes first
		unlock()
		_ = m.NakWithDelay(q.jitter(q.opts.LockRetry))
		return queue.Job{}, false, nil
	}

	st, err := q.runState(ctx, j.ID)
	if err != nil {
		unlock()
		return queue.Job{}, false, err
	}
	log := q.jobLog(j)
	if st.Running {
		q.recovered.Add(1)
		if st.Attempt >= q.opts.MaxAttempts {
			j.Attempt = st.Attempt
			err := q.bury(ctx, j, seq, fmt.Sprintf("interrupted: the process stopped during attempt %d", st.Attempt))
			if err != nil {
				unlock()
				return queue.Job{}, false, err
			}
			_ = m.Ack()
			_ = q.runs.Delete(ctx, enc(j.ID))
			unlock()
			log.WithField("attempt", st.Attempt).Error("queue: job dead-lettered: interrupted on its last attempt")
			return queue.Job{}, false, nil
		}
		log.WithField("attempt", st.Attempt).Warn("queue: job interrupted by a stop, ready again")
	}
	j.Attempt = st.Attempt + 1
	if err := q.putRunState(ctx, j.ID, runState{Attempt: j.Attempt, Running: true}); err != nil {
		unlock()
		return queue.Job{}, false, err
	}
	// The lock says which attempt runs (List shows it); the keeper renews
	// this value.
	shown := env
	shown.Job.Attempt = j.Attempt
	if v, err := json.Marshal(lockValue{Job: j.ID, Seq: seq, Owner: q.opts.Owner, Since: now.UTC(), Running: shown}); err == nil {
		if nrev, err := q.locks.Update(ctx, lockKey, v, rev); err == nil {
			lockVal, rev = v, nrev
		}
	}
	r := &run{env: env, job: j, msg: m, seq: seq, lockKey: lockKey, lockVal: lockVal, stop: make(chan struct{}), stopped: make(chan struct{})}
	r.lockRev.Store(rev)
	q.mu.Lock()
	q.running[j.ID] = r
	q.mu.Unlock()
	q.startKeeper(r)
	return j, true, nil
}

// firstReady scans the repository's queued jobs: the sequence of the one
// that goes first among those due, and whether seq is still queued.
func (q *Queue) firstReady(ctx context.Context, repoKey string, seq uint64, now time.Time) (first uint64, present bool, err error) {
	best := int64(0)
	err = q.scan(ctx, q.jobs, q.repoFilter(repoKey), func(m *natsjs.RawStreamMsg) {
		var env envelope
		if json.Unmarshal(m.Data, &env) != nil {
			return
		}
		if env.Job.NotBefore.After(now) {
			return
		}
		if first == 0 || env.Place < best {
			first, best = m.Sequence, env.Place
		}
	}, func(s uint64) { present = present || s == seq })
	if err != nil {
		return 0, false, fmt.Errorf("jetstream queue: read the queued jobs of %s: %w", repoKey, err)
	}
	return first, present, nil
}

// scan calls fn for every message of stream on filter, in sequence order,
// and seen with every sequence.
func (q *Queue) scan(ctx context.Context, stream natsjs.Stream, filter string, fn func(*natsjs.RawStreamMsg), seen func(uint64)) error {
	for seq := uint64(1); ; {
		m, err := stream.GetMsg(ctx, seq, natsjs.WithGetMsgSubject(filter))
		if errors.Is(err, natsjs.ErrMsgNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		fn(m)
		if seen != nil {
			seen(m.Sequence)
		}
		seq = m.Sequence + 1
	}
}

func (q *Queue) runState(ctx context.Context, id string) (runState, error) {
	e, err := q.runs.Get(ctx, enc(id))
	if errors.Is(err, natsjs.ErrKeyNotFound) {
		return runState{}, nil
	}
	if err != nil {
		return runState{}, fmt.Errorf("jetstream queue: read the attempts of job %s: %w", id, err)
	}
	var st runState
	if err := json.Unmarshal(e.Value(), &st); err != nil {
		return runState{}, fmt.Errorf("jetstream queue: decode the attempts of job %s: %w", id, err)
	}
	return st, nil
}

func (q *Queue) putRunState(ctx context.Context, id string, st runState) error {
	v, _ := json.Marshal(st)
	if _, err := q.runs.Put(ctx, enc(id), v); err != nil {
		return fmt.Errorf("jetstream queue: store the attempts of job %s: %w", id, err)
	}
	return nil
}

// unlock frees a repository lock if it is still the one taken at rev.
func (q *Queue) unlock(key string, rev uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := q.locks.Delete(ctx, key, natsjs.LastRevision(rev))
	if err != nil && !errors.Is(err, natsjs.ErrKeyRevisionMismatch) && !errors.Is(err, natsjs.ErrKeyNotFound) {
		// It expires after the lease.
		q.log.WithError(err).Warn("jetstream queue: release repository lock")
	}
}

// startKeeper renews r's lease (the message's AckWait and the repository
// lock) until r ends or the queue closes.
func (q *Queue) startKeeper(r *run) {
	q.wg.Add(1)
	go func() {
		defer q.wg.Done()
		defer close(r.stopped)
		t := time.NewTicker(q.opts.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-r.stop:
				return
			case <-q.ctx.Done():
				return
			case <-t.C:
			}
			_ = r.msg.InProgress()
			ctx, cancel := context.WithTimeout(q.ctx, q.opts.Lease/3)
			rev, err := q.locks.Update(ctx, r.lockKey, r.lockVal, r.lockRev.Load())
			cancel()
			if err != nil {
				if q.ctx.Err() == nil {
					q.jobLog(r.job).WithError(err).Error("jetstream queue: renew repository lock")
				}
				continue
			}
			r.lockRev.Store(rev)
		}
	}()
}

// takeRun removes a running job from this queue's set and stops its keeper.
func (q *Queue) takeRun(id string) *run {
	q.mu.Lock()
	r := q.running[id]
	delete(q.running, id)
	q.mu.Unlock()
	if r != nil {
		close(r.stop)
		<-r.stopped
	}
	return r
}

// putBack makes r running again after a Done or Release that failed.
func (q *Queue) putBack(r *run) {
	r.stop, r.stopped = make(chan struct{}), make(chan struct{})
	q.mu.Lock()
	q.running[r.job.ID] = r
	q.mu.Unlock()
	q.startKeeper(r)
}

// Done implements queue.Queue.
func (q *Queue) Done(ctx context.Context, j queue.Job, runErr error) error {
	if err := q.checkOpen(); err != nil {
		return err
	}
	r := q.takeRun(j.ID)
	if r == nil {
		return queue.ErrNotRunning
	}
	if err := q.done(ctx, r, runErr); err != nil {
		q.putBack(r)
		return err
	}
	return nil
}

func (q *Queue) done(ctx context.Context, r *run, runErr error) error {
	j := r.job
	log := q.jobLog(j).WithField("attempt", j.Attempt)
	retryable := q.opts.Retries(runErr)
	switch {
	case runErr == nil:
		if err := q.jobs.DeleteMsg(ctx, r.seq); err != nil && !isGone(err) {
			return fmt.Errorf("jetstream queue: remove finished job %s: %w", j.ID, err)
		}
		_ = r.msg.Ack()
		_ = q.runs.Delete(ctx, enc(j.ID))
	case retryable && j.Attempt < q.opts.MaxAttempts:
		env := r.env
		env.Job.NotBefore = q.opts.Now().Add(q.opts.Backoff(j.Attempt))
		env.LastError = runErr.Error()
		if err := q.putRunState(ctx, j.ID, runState{Attempt: j.Attempt}); err != nil {
			return err
		}
		_, err := q.publish(ctx, q.jobSubject(j), env, r.seq, "")
		switch {
		case isWrongLastSeq(err):
			// A newer job of the key replaced this one while it ran; it
			// builds the ref's head if the commits differ (see merge).
			_ = q.runs.Delete(ctx, enc(j.ID))
			log.WithError(runErr).Info("queue: failed job not retried: a newer one is queued")
		case err != nil:
			return fmt.Errorf("jetstream queue: store the retry of job %s: %w", j.ID, err)
		default:
			log.WithError(runErr).WithField("retry_at", env.Job.NotBefore).Warn("queue: job failed, will retry")
		}
		_ = r.msg.Ack()
	default:
		if err := q.bury(ctx, j, r.seq, runErr.Error()); err != nil {
			return err
		}
		_ = r.msg.Ack()
		_ = q.runs.Delete(ctx, enc(j.ID))
		log.WithError(runErr).WithField("retryable", retryable).Error("queue: job dead-lettered")
	}
	q.unlock(r.lockKey, r.lockRev.Load())
	return nil
}

// bury stores j as a dead letter and removes its message (seq) unless a
// newer job replaced it.
func (q *Queue) bury(ctx context.Context, j queue.Job, seq uint64, lastErr string) error {
	data, err := json.Marshal(deadLetter{Job: j, Error: lastErr, DeadAt: q.opts.Now().UTC()})
	if err != nil {
		return fmt.Errorf("jetstream queue: encode dead letter %s: %w", j.ID, err)
	}
	if _, err := q.js.Publish(ctx, q.opts.Name+".dead."+enc(j.RepoKey()), data, natsjs.WithExpectStream(q.deadStream), natsjs.WithMsgID("dead-"+j.ID+"-"+strconv.FormatUint(seq, 10))); err != nil {
		return fmt.Errorf("jetstream queue: store dead letter %s: %w", j.ID, err)
	}
	if err := q.jobs.DeleteMsg(ctx, seq); err != nil && !isGone(err) {
		return fmt.Errorf("jetstream queue: remove dead job %s: %w", j.ID, err)
	}
	return nil
}

// Release implements queue.Queue.
func (q *Queue) Release(ctx context.Context, j queue.Job) error {
	if err := q.checkOpen(); err != nil {
		return err
	}
	r := q.takeRun(j.ID)
	if r == nil {
		return queue.ErrNotRunning
	}
	var err error
	if n := r.job.Attempt - 1; n > 0 {
		err = q.putRunState(ctx, j.ID, runState{Attempt: n})
	} else if err = q.runs.Delete(ctx, enc(j.ID)); err != nil {
		err = fmt.Errorf("jetstream queue: reset the attempts of job %s: %w", j.ID, err)
	}
	if err != nil {
		q.putBack(r)
		return err
	}
	q.unlock(r.lockKey, r.lockRev.Load())
	// Ready again at once; if a newer job replaced it, that one stands.
	_ = r.msg.Nak()
	return nil
}

// Stats implements queue.Queue. Running counts the repository locks held
// anywhere; Queued and Delayed the stored jobs not running.
func (q *Queue) Stats(ctx context.Context) (queue.Stats, error) {
	if err := q.checkOpen(); err != nil {
		return queue.Stats{}, err
	}
	var st queue.Stats
	running := map[string]bool{}
	keys, err := q.locks.ListKeys(ctx)
	if err != nil {
		return st, fmt.Errorf("jetstream queue: list locks: %w", err)
	}
	for k := range keys.Keys() {
		e, err := q.locks.Get(ctx, k)
		if err != nil {
			continue // released meanwhile
		}
		var v lockValue
		_ = json.Unmarshal(e.Value(), &v)
		running[v.Job] = true
		st.Running++
	}
	now := q.opts.Now()
	err = q.scan(ctx, q.jobs, q.opts.Name+".jobs.>", func(m *natsjs.RawStreamMsg) {
		if running[m.Header.Get(hdrJob)] {
			return
		}
		if nb, err := time.Parse(time.RFC3339Nano, m.Header.Get(hdrNotBefore)); err == nil && nb.After(now) {
			st.Delayed++
		} else {
			st.Queued++
		}
	}, nil)
	if err != nil {
		return st, fmt.Errorf("jetstream queue: read jobs: %w", err)
	}
	info, err := q.dead.Info(ctx)
	if err != nil {
		return st, fmt.Errorf("jetstream queue: dead-letter stream info: %w", err)
	}
	st.Dead = int(info.State.Msgs)
	return st, nil
}

// DeadLetterDetails returns the dead letters, oldest first, with the Attempt
// each died on, its last error and time of death.
func (q *Queue) DeadLetterDetails(ctx context.Context) ([]queue.DeadLetter, error) {
	if err := q.checkOpen(); err != nil {
		return nil, err
	}
	dead, err := q.deadLetters(ctx, 0)
	if err != nil {
		return nil, err
	}
	out := make([]queue.DeadLetter, len(dead))
	for i, d := range dead {
		out[i] = queue.DeadLetter{Job: d.Job, Error: d.Error, DeadAt: d.DeadAt}
	}
	return out, nil
}

// DeadLetters returns the dead-lettered jobs, oldest first.
func (q *Queue) DeadLetters(ctx context.Context) ([]queue.Job, error) {
	d, err := q.DeadLetterDetails(ctx)
	if err != nil {
		return nil, err
	}
	jobs := make([]queue.Job, len(d))
	for i, x := range d {
		jobs[i] = x.Job
	}
	return jobs, nil
}

// maxListedDead bounds the dead letters List returns (the newest kept).
const maxListedDead = 1000

// List implements queue.Queue: the running jobs (from the repository
// locks, on any replica), the queued and delayed ones from the stream, in
// enqueue order, then the newest 1000 dead letters, oldest first.
func (q *Queue) List(ctx context.Context) ([]queue.JobInfo, error) {
	if err := q.checkOpen(); err != nil {
		return nil, err
	}
	type placed struct {
		info  queue.JobInfo
		place int64
		seq   uint64
	}
	var live []placed
	running := map[string]bool{}
	keys, err := q.locks.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("jetstream queue: list locks: %w", err)
	}
	for k := range keys.Keys() {
		e, err := q.locks.Get(ctx, k)
		if err != nil {
			continue // released meanwhile
		}
		var v lockValue
		if json.Unmarshal(e.Value(), &v) != nil {
			continue
		}
		running[v.Job] = true
		live = append(live, placed{queue.JobInfo{Job: v.Running.Job, State: queue.StateRunning, LastError: v.Running.LastError, Since: v.Since}, v.Running.Place, v.Seq})
	}
	now := q.opts.Now()
	err = q.scan(ctx, q.jobs, q.opts.Name+".jobs.>", func(m *natsjs.RawStreamMsg) {
		var env envelope
		if json.Unmarshal(m.Data, &env) != nil || running[env.Job.ID] {
			return
		}
		in := queue.JobInfo{Job: env.Job, State: queue.StateQueued, LastError: env.LastError, Since: env.Job.Created}
		if env.Job.NotBefore.After(now) {
			in.State = queue.StateDelayed
		}
		if st, err := q.runState(ctx, env.Job.ID); err == nil {
			in.Job.Attempt = st.Attempt // attempts made so far
		}
		live = append(live, placed{in, env.Place, m.Sequence})
	}, nil)
	if err != nil {
		return nil, fmt.Errorf("jetstream queue: read jobs: %w", err)
	}
	slices.SortStableFunc(live, func(a, b placed) int {
		if c := cmp.Compare(a.place, b.place); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	out := make([]queue.JobInfo, 0, len(live))
	for _, p := range live {
		out = append(out, p.info)
	}
	dead, err := q.deadLetters(ctx, maxListedDead)
	if err != nil {
		return nil, err
	}
	for _, d := range dead {
		out = append(out, queue.JobInfo{Job: d.Job, State: queue.StateDead, LastError: d.Error, Since: d.DeadAt})
	}
	return out, nil
}

// deadLetters reads the newest limit dead letters (0: all), oldest first,
// with their stream sequences.
func (q *Queue) deadLetters(ctx context.Context, limit int) ([]storedDead, error) {
	first := uint64(1)
	if limit > 0 {
		info, err := q.dead.Info(ctx)
		if err != nil {
			return nil, fmt.Errorf("jetstream queue: dead-letter stream info: %w", err)
		}
		if info.State.Msgs > uint64(limit) && info.State.LastSeq > uint64(limit) {
			first = info.State.LastSeq - uint64(limit) + 1
		}
	}
	var out []storedDead
	for seq := first; ; {
		m, err := q.dead.GetMsg(ctx, seq, natsjs.WithGetMsgSubject(q.opts.Name+".dead.>"))
		if errors.Is(err, natsjs.ErrMsgNotFound) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("jetstream queue: read dead letters: %w", err)
		}
		var d deadLetter
		if json.Unmarshal(m.Data, &d) == nil {
			out = append(out, storedDead{deadLetter: d, seq: m.Sequence})
		}
		seq = m.Sequence + 1
	}
}

// storedDead is a dead letter and its sequence in the dead-letter stream.
type storedDead struct {
	deadLetter
	seq uint64
}

// Retry implements queue.Queue: the dead letter is queued again, ready at
// once, with a fresh series of attempts, then removed from the dead
// letters (a failure in between leaves it in both; retrying it again is
// harmless).
func (q *Queue) Retry(ctx context.Context, id string) error {
	if err := q.checkOpen(); err != nil {
		return err
	}
	dead, err := q.deadLetters(ctx, 0)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(dead, func(d storedDead) bool { return d.Job.ID == id })
	if i < 0 {
		return fmt.Errorf("%w: %s", queue.ErrNotFound, id)
	}
	j := dead[i].Job
	j.NotBefore = time.Time{}
	j.Attempt = 0
	if err := q.runs.Delete(ctx, enc(j.ID)); err != nil {
		return fmt.Errorf("jetstream queue: reset the attempts of job %s: %w", j.ID, err)
	}
	subj := q.jobSubject(j)
	unlock, err := q.keys.Lock(ctx, subj)
	if err != nil {
		return err
	}
	j.Delivery = "" // not a delivery: no dedup check
	_, err = q.store(ctx, subj, j, q.opts.Now())
	unlock()
	if err != nil {
		return err
	}
	if err := q.dead.DeleteMsg(ctx, dead[i].seq); err != nil && !isGone(err) {
		return fmt.Errorf("jetstream queue: remove dead letter %s: %w", id, err)
	}
	q.jobLog(j).Info("queue: dead letter queued again")
	return nil
}

// Close implements queue.Queue: blocked Takes return ErrClosed; jobs taken
// and not Done keep their leases, which run out after Options.Lease, and
// then run again on any replica. The connection stays open (its owner
// closes it).
func (q *Queue) Close() error {
	if q.closed.Swap(true) {
		return nil
	}
	q.cancel()
	q.wg.Wait()
	return nil
}

// Info is what the stream and the consumer report, plus this process's own
// counts, for metrics and an operators' page.
type Info struct {
	Stored      uint64 // jobs in the stream: queued, delayed and running
	Pending     uint64 // stored jobs never delivered yet
	AckPending  int    // delivered and not finished: running, or handed back to wait (time, lock)
	Redelivered int    // of AckPending, delivered more than once
	Dead        uint64 // dead letters kept
	LockWaits   int64  // this process's deliveries that found their repository busy
	Recovered   int64  // jobs this process took over from a replica that stopped mid-run
}

// Info reads the stream and consumer info.
func (q *Queue) Info(ctx context.Context) (Info, error) {
	if err := q.checkOpen(); err != nil {
		return Info{}, err
	}
	si, err := q.jobs.Info(ctx)
	if err != nil {
		return Info{}, fmt.Errorf("jetstream queue: stream info: %w", err)
	}
	ci, err := q.cons.Info(ctx)
	if err != nil {
		return Info{}, fmt.Errorf("jetstream queue: consumer info: %w", err)
	}
	di, err := q.dead.Info(ctx)
	if err != nil {
		return Info{}, fmt.Errorf("jetstream queue: dead-letter stream info: %w", err)
	}
	return Info{
		Stored:      si.State.Msgs,
		Pending:     ci.NumPending,
		AckPending:  ci.NumAckPending,
		Redelivered: ci.NumRedelivered,
		Dead:        di.State.Msgs,
		LockWaits:   q.lockWaits.Load(),
		Recovered:   q.recovered.Load(),
	}, nil
}
