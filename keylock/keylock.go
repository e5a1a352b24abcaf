// Package keylock owns in-process locks by key: one mutex per key (a
// repository, a pull request), created on first use and forgotten when nobody
// holds or waits for it, so the map never grows with the keys seen.
package keylock

import (
	"context"
	"sync"
)

// Map hands out one lock per key. The zero value is ready to use; a Map must
// not be copied after first use. It is safe for concurrent use.
type Map struct {
	mu    sync.Mutex
	locks map[string]*entry
}

type entry struct {
	ch   chan struct{} // holds a token while locked
	refs int           // holders and waiters
}

// Lock locks key and returns its unlock function, or ctx's error when ctx is
// done first. Call unlock exactly once.
func (m *Map) Lock(ctx context.Context, key string) (unlock func(), err error) {
	m.mu.Lock()
	if m.locks == nil {
		m.locks = make(map[string]*entry)
	}
	e, ok := m.locks[key]
	if !ok {
		e = &entry{ch: make(chan struct{}, 1)}
		m.locks[key] = e
	}
	e.refs++
	m.mu.Unlock()
	release := func() {
		m.mu.Lock()
		e.refs--
		if e.refs == 0 {
			delete(m.locks, key)
		}
		m.mu.Unlock()
	}
	select {
	case e.ch <- struct{}{}:
		return func() { <-e.ch; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}

// Len is the number of keys held or waited for; tests use it to check that
// released keys are forgotten.
func (m *Map) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.locks)
}
