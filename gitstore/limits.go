package gitstore

import (
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// Limits bound what a Store reads and how hard it pushes. A zero field
// takes its default (see DefaultLimits); a negative size or count means no
// limit. Exceeding a limit is an error wrapping ErrPermanent that names the
// limit, the value found and the path when there is one.
type Limits struct {
	MaxTotalBytes int64 // bytes of all files in a tree CheckTree accepts; default 512 MiB
	MaxFiles      int   // files (and links) in a tree CheckTree accepts; default 50,000
	MaxPathLength int   // bytes of one path in a tree CheckTree accepts; default 1,024
	MaxFileBytes  int64 // bytes of one file, for CheckTree and for reading a tree; default 64 MiB
	PushAttempts  int   // pushes Push tries before giving up on a branch that keeps moving; default 6
}

// DefaultLimits are the limits a zero Limits field takes.
var DefaultLimits = Limits{
	MaxTotalBytes: 512 << 20,
	MaxFiles:      50_000,
	MaxPathLength: 1024,
	MaxFileBytes:  64 << 20,
	PushAttempts:  6,
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.MaxTotalBytes != 0 {
		d.MaxTotalBytes = l.MaxTotalBytes
	}
	if l.MaxFiles != 0 {
		d.MaxFiles = l.MaxFiles
	}
	if l.MaxPathLength != 0 {
		d.MaxPathLength = l.MaxPathLength
	}
	if l.MaxFileBytes != 0 {
		d.MaxFileBytes = l.MaxFileBytes
	}
	if l.PushAttempts > 0 {
		d.PushAttempts = l.PushAttempts
	}
	return d
}

// limitError says which limit a tree exceeded.
type limitError struct {
	what string
	path string
	got  int64
	max  int64
}

func (e *limitError) Error() string {
	if e.path != "" {
		return fmt.Sprintf("%s limit exceeded by %s: %d > %d", e.what, e.path, e.got, e.max)
	}
	return fmt.Sprintf("%s limit exceeded: %d > %d", e.what, e.got, e.max)
}

// Is makes a limit error a permanent one: retrying the same tree cannot help.
func (e *limitError) Is(target error) bool { return target == ErrPermanent }

// CheckTree enforces the Store's Limits on the tree of a commit: file
// count, path length, file size and total size. It reads no file's
// content, and no tree it summarised before, in this process or an
// earlier one sharing the Store's folder (see objectFacts): after a
// one-file change it reads the trees on that file's path and the sizes of
// their files (Close saves what it learnt for the next process). An
// exceeded limit is an error naming the limit, the value and, for a path
// or a file, the path.
func (r *Repo) CheckTree(commit string) error {
	c, err := r.commit(commit)
	if err != nil {
		return err
	}
	return checkTree(r.objects, c.TreeHash, r.store.limits, r.store.facts)
}

func checkTree(s storer.EncodedObjectStorer, root plumbing.Hash, l Limits, facts *objectFacts) error {
	c := &treeCheck{s: s, l: l, facts: facts}
	_, err := c.walk(root, "")
	return err
}

// treeCheck is one CheckTree walk: the files and bytes counted so far.
type treeCheck struct {
	s            storer.EncodedObjectStorer
	l            Limits
	facts        *objectFacts
	files, bytes int64
}

// walk checks the tree h at prefix ("" or ending in "/") and returns its
// summary, remembering the summaries of the trees it reads. A remembered
// tree is taken whole, unless its summary breaks the limit of a path or of
// a file: then it is walked, to name the path. The walk stops at the first
// limit exceeded, as soon as the files or bytes counted exceed theirs, so
// a huge tree costs no more than the limits allow.
func (c *treeCheck) walk(h plumbing.Hash, prefix string) (treeSummary, error) {
	if sum, ok := c.facts.tree(h); ok && !c.breaksPathOrFile(sum, prefix) {
		return sum, c.count(sum)
	}
	t, err := readTree(c.s, c.facts, h)
	if err != nil {
		return treeSummary{}, fmt.Errorf("read tree %s: %w", prefix, err)
	}
	l := c.l
	var sum treeSummary
	for _, e := range t.Entries {
		p := prefix + e.Name
		if l.MaxPathLength > 0 && len(p) > l.MaxPathLength {
			return sum, &limitError{what: "path length", path: truncate(p, 80), got: int64(len(p)), max: int64(l.MaxPathLength)}
		}
		switch e.Mode {
		case filemode.Dir:
			sub, err := c.walk(e.Hash, p+"/")
			if err != nil {
				return sum, err
			}
			sum.addDir(e.Name, sub)
			continue
		case filemode.Submodule:
			sum.addEntry(e.Name)
			continue
		}
		size, err := c.facts.blobSize(c.s, e.Hash)
		if err != nil {
			return sum, fmt.Errorf("read %s: %w", p, err)
		}
		if l.MaxFileBytes > 0 && size > l.MaxFileBytes {
			return sum, &limitError{what: "file size", path: p, got: size, max: l.MaxFileBytes}
		}
		var file treeSummary
		file.addFile(size)
		sum.addEntry(e.Name)
		sum.addFile(size)
		if err := c.count(file); err != nil {
			return sum, err
		}
	}
	c.facts.putTree(h, sum)
	return sum, nil
}

// breaksPathOrFile says whether a tree of summary sum at prefix holds a
// path or a file over the limits.
func (c *treeCheck) breaksPathOrFile(sum treeSummary, prefix string) bool {
	return c.l.MaxPathLength > 0 && sum.maxPath > 0 && satAdd(int64(len(prefix)), sum.maxPath) > int64(c.l.MaxPathLength) ||
		c.l.MaxFileBytes > 0 && sum.maxFile > c.l.MaxFileBytes
}

// count adds the files and bytes of sum to the walk's, against the limits.
func (c *treeCheck) count(sum treeSummary) error {
	c.files = satAdd(c.files, sum.files)
	c.bytes = satAdd(c.bytes, sum.bytes)
	if c.l.MaxFiles > 0 && c.files > int64(c.l.MaxFiles) {
		return &limitError{what: "file count", got: c.files, max: int64(c.l.MaxFiles)}
	}
	if c.l.MaxTotalBytes > 0 && c.bytes > c.l.MaxTotalBytes {
		return &limitError{what: "total content size", got: c.bytes, max: c.l.MaxTotalBytes}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
