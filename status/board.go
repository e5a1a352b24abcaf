package status

import (
	"sort"
	"sync"
	"time"

	"github.com/publishbot/publishbot/publisher"
	"github.com/publishbot/publishbot/queue"
	"github.com/publishbot/publishbot/webhook"
)

// recentDeliveries is how many deliveries the board keeps.
const recentDeliveries = 50

// Board remembers, in memory, what the status page shows beside the queue:
// the recent webhook deliveries with their result (it is the webhook
// handler's webhook.DeliveryRecorder) and each repository's last
// successful publish (it is the worker's worker.Observer). It forgets both
// at a restart. It is safe for concurrent use.
type Board struct {
	now func() time.Time

	mu         sync.Mutex
	deliveries []webhook.Delivery // newest last, at most recentDeliveries
	publishes  map[string]Publish // by repository full name
}

// Publish is a repository's last successful publish.
type Publish struct {
	Repo        string
	At          time.Time
	SHA         string // the source commit
	PagesCommit string // "" when the site was already up to date
	SiteURL     string
}

// NewBoard returns an empty board; now is the clock (nil: time.Now).
func NewBoard(now func() time.Time) *Board {
	if now == nil {
		now = time.Now
	}
	return &Board{now: now, publishes: map[string]Publish{}}
}

// RecordDelivery implements webhook.DeliveryRecorder.
func (b *Board) RecordDelivery(d webhook.Delivery) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.deliveries) == recentDeliveries {
		copy(b.deliveries, b.deliveries[1:])
		b.deliveries = b.deliveries[:recentDeliveries-1]
	}
	b.deliveries = append(b.deliveries, d)
}

// JobFinished implements worker.Observer: a publish that published or
// found the site up to date is the repository's last successful publish.
func (b *Board) JobFinished(j queue.Job, res publisher.Result) {
	if j.Kind != queue.KindPublish || (res.Outcome != publisher.OutcomePublished && res.Outcome != publisher.OutcomeUnchanged) {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.publishes[j.Repo.FullName] = Publish{Repo: j.Repo.FullName, At: b.now(), SHA: res.SourceSHA, PagesCommit: res.PagesCommit, SiteURL: res.SiteURL}
}

// Deliveries returns the recent deliveries, newest first.
func (b *Board) Deliveries() []webhook.Delivery {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]webhook.Delivery, len(b.deliveries))
	for i, d := range b.deliveries {
		out[len(out)-1-i] = d
	}
	return out
}

// LastPublish returns repo's last successful publish since the start.
func (b *Board) LastPublish(repo string) (Publish, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	p, ok := b.publishes[repo]
	return p, ok
}

// Publishes returns every recorded last publish, by repository name.
func (b *Board) Publishes() []Publish {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]Publish, 0, len(b.publishes))
	for _, p := range b.publishes {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Repo < out[j].Repo })
	return out
}
