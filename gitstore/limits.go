package gitstore

import (
	"fmt"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
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

// blobSizes remembers blob sizes across checks (a blob's size never changes),
// so a check after one changed file asks the object store about one blob,
// not a thousand. Safe for concurrent use; it forgets everything past
// maxEntries.
type blobSizes struct {
	mu         sync.Mutex
	m          map[plumbing.Hash]int64
	maxEntries int
}

func (b *blobSizes) get(s storer.EncodedObjectStorer, h plumbing.Hash) (int64, error) {
	if b != nil {
		b.mu.Lock()
		n, ok := b.m[h]
		b.mu.Unlock()
		if ok {
			return n, nil
		}
	}
	n, err := objectSize(s, h)
	if err != nil {
		return 0, err
	}
	if b != nil {
		b.mu.Lock()
		if b.m == nil || len(b.m) >= b.maxEntries {
			b.m = map[plumbing.Hash]int64{}
		}
		b.m[h] = n
		b.mu.Unlock()
	}
	return n, nil
}

// CheckTree walks the tree of a commit (tree objects, and blob sizes from
// memory or the cache) and enforces the Store's Limits on it: file count,
// path length, file size and total size. It reads no file's content.
func (r *Repo) CheckTree(commit string) error {
	c, err := r.commit(commit)
	if err != nil {
		return err
	}
	return checkTree(r.st, c.TreeHash, r.store.limits, r.store.sizes)
}

func checkTree(s storer.EncodedObjectStorer, root plumbing.Hash, l Limits, sizes *blobSizes) error {
	var files int
	var bytes int64
	var walk func(h plumbing.Hash, prefix string) error
	walk = func(h plumbing.Hash, prefix string) error {
		t, err := object.GetTree(s, h)
		if err != nil {
			return fmt.Errorf("read tree %s: %w", prefix, err)
		}
		for _, e := range t.Entries {
			p := prefix + e.Name
			if l.MaxPathLength > 0 && len(p) > l.MaxPathLength {
				return &limitError{what: "path length", path: truncate(p, 80), got: int64(len(p)), max: int64(l.MaxPathLength)}
			}
			switch e.Mode {
			case filemode.Dir:
				if err := walk(e.Hash, p+"/"); err != nil {
					return err
				}
				continue
			case filemode.Submodule:
				continue
			}
			files++
			if l.MaxFiles > 0 && files > l.MaxFiles {
				return &limitError{what: "file count", got: int64(files), max: int64(l.MaxFiles)}
			}
			size, err := sizes.get(s, e.Hash)
			if err != nil {
				return fmt.Errorf("read %s: %w", p, err)
			}
			if l.MaxFileBytes > 0 && size > l.MaxFileBytes {
				return &limitError{what: "file size", path: p, got: size, max: l.MaxFileBytes}
			}
			bytes += size
			if l.MaxTotalBytes > 0 && bytes > l.MaxTotalBytes {
				return &limitError{what: "total content size", got: bytes, max: l.MaxTotalBytes}
			}
		}
		return nil
	}
	return walk(root, "")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
