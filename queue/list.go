package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrNotFound is returned by Retry when no dead letter has the id.
var ErrNotFound = errors.New("queue: no such dead letter")

// State is where a job is in a queue, as List reports it.
type State string

// The states List reports.
const (
	StateRunning State = "running" // taken and not yet Done
	StateQueued  State = "queued"  // ready to run (possibly waiting for its repository)
	StateDelayed State = "delayed" // waiting for NotBefore: a schedule or a retry's backoff
	StateDead    State = "dead"    // dead-lettered: out of attempts or a permanent failure
)

// JobInfo is one job as List reports it.
type JobInfo struct {
	Job   Job
	State State
	// LastError is the last failed attempt's error ("" when none failed).
	LastError string
	// Since is when the job entered its state as far as the queue knows:
	// the start of the running attempt, the death of a dead letter, the
	// job's Created time for a queued or delayed one.
	Since time.Time
}

// List implements Queue: the running, queued and delayed jobs in enqueue
// order, then the dead letters, oldest first.
func (b *Bolt) List(ctx context.Context) ([]JobInfo, error) {
	if err := b.closed(); err != nil {
		return nil, err
	}
	now := b.opts.Now()
	b.mu.Lock()
	var out []JobInfo
	for _, e := range b.order {
		if e.gone {
			continue
		}
		r := e.rec
		in := JobInfo{Job: r.Job, LastError: r.LastError, Since: r.Job.Created, State: StateQueued}
		switch {
		case r.State == stateRunning:
			in.State, in.Since = StateRunning, r.LeasedAt
		case r.Job.NotBefore.After(now):
			in.State = StateDelayed
		}
		out = append(out, in)
	}
	b.mu.Unlock()
	dead, err := b.deadRecords()
	if err != nil {
		return nil, err
	}
	for _, r := range dead {
		out = append(out, JobInfo{Job: r.Job, State: StateDead, LastError: r.LastError, Since: r.DeadAt})
	}
	return out, nil
}

// Retry implements Queue: the dead letter id is queued again, ready at
// once, with a fresh series of attempts.
func (b *Bolt) Retry(ctx context.Context, id string) error {
	if err := b.closed(); err != nil {
		return err
	}
	return b.do(ctx, func(tx *bolt.Tx) (outcome, error) {
		dead := tx.Bucket(bucketDead)
		var key []byte
		var r record
		err := dead.ForEach(func(k, v []byte) error {
			if key != nil {
				return nil
			}
			var x record
			if err := json.Unmarshal(v, &x); err != nil {
				return fmt.Errorf("decode dead letter %x: %w", k, err)
			}
			if x.Job.ID == id {
				key, r = append([]byte(nil), k...), x
			}
			return nil
		})
		if err != nil {
			return outcome{}, fmt.Errorf("queue: read dead letters: %w", err)
		}
		if key == nil {
			return outcome{answer: fmt.Errorf("%w: %s", ErrNotFound, id)}, nil
		}
		if err := dead.Delete(key); err != nil {
			return outcome{}, fmt.Errorf("queue: delete dead letter %s: %w", id, err)
		}
		j := r.Job
		j.NotBefore = time.Time{}
		out, err := b.putQueuedLocked(tx, j, b.opts.Now())
		if err != nil || out.answer != nil {
			return out, err
		}
		b.dead--
		b.jobLog(j).Info("queue: dead letter queued again")
		return out, nil
	})
}
