package templates

import (
	"sync"
)

// pageStep makes pages of a prepared build: it reads the build's posts,
// tags, pages, templates and headers, which no step changes, and writes
// only its own files, sitemap entries and, for the index, listedOn.
type pageStep func(*build) error

// pageSteps runs steps at the same time, each on a copy of b with its
// own out, urls and listedOn, and then adds what each wrote to b in the
// order of steps: the files, sitemap and index are those of running them
// one after another (a later step's file replaces an earlier one's at the
// same path). The error is the first step's, in that order, that failed.
func (b *build) pageSteps(steps ...pageStep) error {
	parts := make([]*build, len(steps))
	errs := make([]error, len(steps))
	var wg sync.WaitGroup
	for i, step := range steps {
		p := *b
		p.out = make(map[string][]byte)
		p.urls = nil
		p.listedOn = nil
		p.forkKeys()
		parts[i] = &p
		wg.Go(func() { errs[i] = step(&p) })
	}
	wg.Wait()
	for i, p := range parts {
		if errs[i] != nil {
			return errs[i]
		}
		b.join(p)
		b.urls = append(b.urls, p.urls...)
		if p.listedOn != nil {
			b.listedOn = p.listedOn
		}
	}
	return nil
}
