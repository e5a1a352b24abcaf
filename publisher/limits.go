package publisher

import "time"

// Limits bound a job. A zero field takes its default (see DefaultLimits).
// What a job may read from git (files, sizes, path lengths) and how often it
// pushes are gitstore.Limits, set on the Store.
type Limits struct {
	JobTimeout time.Duration // deadline of one job; default 10 minutes; negative: none
}

// DefaultLimits are the limits a zero Limits field takes.
var DefaultLimits = Limits{
	JobTimeout: 10 * time.Minute,
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.JobTimeout != 0 {
		d.JobTimeout = l.JobTimeout
	}
	return d
}
