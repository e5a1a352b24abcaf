package publisher

import (
	"time"

	"github.com/publishbot/publishbot/site"
)

// Limits bound a job. A zero field takes its default (see DefaultLimits).
// What a job may read from git (files, sizes, path lengths) and how often it
// pushes are gitstore.Limits, set on the Store.
type Limits struct {
	JobTimeout time.Duration // deadline of one job; default 10 minutes; negative: none
	// Build bounds the files one build makes (a publish's site, a
	// preview's) and what one post may make; zero fields take their
	// defaults (250,000 files, 4 GiB; 100 tags and 100 aliases a post). A
	// site beyond them fails the job, permanently, naming the limit; a post
	// beyond them is an error of that post.
	Build site.Limits
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
	d.Build = l.Build
	return d
}
