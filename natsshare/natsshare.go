// Package natsshare owns what several `serve` replicas share besides the
// queue, in NATS JetStream key-value buckets: the set of published
// repositories (worker.PublishedRepos) and the lease that makes one replica
// the reconciler (worker.Lease). Scheduled publishes need nothing here: they
// are jobs of the shared queue, one per branch. The repository cache stays
// local to each replica.
package natsshare

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"

	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/sirupsen/logrus"

	"github.com/publishbot/publishbot/queue"
	"github.com/publishbot/publishbot/worker"
)

// PublishedSet is worker.PublishedRepos in the KV bucket <name>_published:
// one key per repository. Every replica watches the bucket, so List reads
// a local copy that follows the others' Adds.
type PublishedSet struct {
	kv     natsjs.KeyValue
	now    func() time.Time
	cancel context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex
	repos map[string]worker.Published
}

var _ worker.PublishedRepos = (*PublishedSet)(nil)

// OpenPublishedSet creates or opens the bucket (kept on replicas servers)
// and returns the set once it holds every stored repository. Close stops
// following the bucket.
func OpenPublishedSet(ctx context.Context, js natsjs.JetStream, name string, replicas int, now func() time.Time) (*PublishedSet, error) {
	if now == nil {
		now = time.Now
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, natsjs.KeyValueConfig{
		Bucket:      name + "_published",
		Description: "publishbot published repositories",
		Storage:     natsjs.FileStorage,
		Replicas:    max(replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("open published repositories bucket: %w", err)
	}
	wctx, cancel := context.WithCancel(context.Background())
	w, err := kv.WatchAll(wctx)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("watch published repositories: %w", err)
	}
	s := &PublishedSet{kv: kv, now: now, cancel: cancel, done: make(chan struct{}), repos: map[string]worker.Published{}}
	loaded := make(chan struct{})
	go func() {
		defer close(s.done)
		defer w.Stop()
		first := true
		for e := range w.Updates() {
			if e == nil { // every stored value has been delivered
				if first {
					close(loaded)
					first = false
				}
				continue
			}
			s.apply(e)
		}
	}()
	select {
	case <-loaded:
		return s, nil
	case <-ctx.Done():
		s.Close()
		return nil, fmt.Errorf("load published repositories: %w", ctx.Err())
	}
}

func (s *PublishedSet) apply(e natsjs.KeyValueEntry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.Operation() != natsjs.KeyValuePut {
		for name := range s.repos {
			if key(name) == e.Key() {
				delete(s.repos, name)
			}
		}
		return
	}
	var p worker.Published
	if json.Unmarshal(e.Value(), &p) == nil && p.Repo.FullName != "" {
		s.repos[p.Repo.FullName] = p
	}
}

func key(fullName string) string { return base64.RawURLEncoding.EncodeToString([]byte(fullName)) }

// Add implements worker.PublishedRepos: it stores the repository when it is
// new or its clone URL or branch changed.
func (s *PublishedSet) Add(repo queue.Repo, ref string) error {
	if repo.FullName == "" {
		return errors.New("record published repository: no name")
	}
	s.mu.Lock()
	old, ok := s.repos[repo.FullName]
	s.mu.Unlock()
	if ok && old.Repo == repo && old.Ref == ref {
		return nil
	}
	p := worker.Published{Repo: repo, Ref: ref, Updated: s.now().UTC()}
	v, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("record published repository: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.kv.Put(ctx, key(repo.FullName), v); err != nil {
		return fmt.Errorf("record published repository %s: %w", repo.FullName, err)
	}
	s.mu.Lock()
	s.repos[repo.FullName] = p
	s.mu.Unlock()
	return nil
}

// List implements worker.PublishedRepos.
func (s *PublishedSet) List() []worker.Published {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := make([]worker.Published, 0, len(s.repos))
	for _, p := range s.repos {
		list = append(list, p)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Repo.FullName < list[j].Repo.FullName })
	return list
}

// Close stops following the bucket.
func (s *PublishedSet) Close() {
	s.cancel()
	<-s.done
}

// LeaseOptions configures a Lease.
type LeaseOptions struct {
	// Name prefixes the bucket (<name>_leases). Default "publishbot".
	Name string
	// Key is what the lease is for, e.g. "reconciler".
	Key string
	// Replicas is how many servers keep the bucket. Default 1.
	Replicas int
	// TTL is how long a lease outlives a holder that stopped renewing it;
	// it is renewed, and tried for by the others, every TTL/3. Default 30s,
	// so another replica takes over within 40s of a holder's death.
	TTL time.Duration
	// Owner names this replica in the lease's value. Default host name and
	// pid.
	Owner string
	// Log gets a line when renewing fails. Default: discard.
	Log *logrus.Entry
}

// Lease is worker.Lease on a KV key with a TTL: created only if absent,
// renewed by its holder, deleted when the holder lets go.
type Lease struct {
	kv   natsjs.KeyValue
	opts LeaseOptions
}

var _ worker.Lease = (*Lease)(nil)

// OpenLease creates or opens the leases bucket.
func OpenLease(ctx context.Context, js natsjs.JetStream, opts LeaseOptions) (*Lease, error) {
	if opts.Name == "" {
		opts.Name = "publishbot"
	}
	if opts.TTL <= 0 {
		opts.TTL = 30 * time.Second
	}
	if opts.Owner == "" {
		host, _ := os.Hostname()
		opts.Owner = host + "-" + strconv.Itoa(os.Getpid())
	}
	if opts.Log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		opts.Log = logrus.NewEntry(l)
	}
	if opts.Key == "" {
		return nil, errors.New("open lease: no key")
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, natsjs.KeyValueConfig{
		Bucket:      opts.Name + "_leases",
		Description: "publishbot leases (one replica does the job)",
		TTL:         opts.TTL,
		Storage:     natsjs.FileStorage,
		Replicas:    max(opts.Replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("open leases bucket: %w", err)
	}
	return &Lease{kv: kv, opts: opts}, nil
}

// Hold implements worker.Lease.
func (l *Lease) Hold(ctx context.Context) (context.Context, error) {
	every := l.opts.TTL / 3
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		rev, err := l.kv.Create(ctx, l.opts.Key, []byte(l.opts.Owner))
		if err == nil {
			return l.keep(ctx, rev), nil
		}
		if !errors.Is(err, natsjs.ErrKeyExists) && ctx.Err() == nil {
			l.opts.Log.WithError(err).Warn("lease: try to take it")
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// keep renews the lease until ctx ends (then deletes it) or a renewal
// fails (then the returned context ends).
func (l *Lease) keep(ctx context.Context, rev uint64) context.Context {
	held, lose := context.WithCancel(ctx)
	go func() {
		defer lose()
		t := time.NewTicker(l.opts.TTL / 3)
		defer t.Stop()
		for {
			select {
			case <-held.Done():
				dctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				_ = l.kv.Delete(dctx, l.opts.Key, natsjs.LastRevision(rev))
				cancel()
				return
			case <-t.C:
			}
			rctx, cancel := context.WithTimeout(held, l.opts.TTL/3)
			next, err := l.kv.Update(rctx, l.opts.Key, []byte(l.opts.Owner), rev)
			cancel()
			if err != nil {
				if held.Err() == nil {
					l.opts.Log.WithError(err).Warn("lease: renewal failed, letting go")
				}
				return
			}
			rev = next
		}
	}()
	return held
}
