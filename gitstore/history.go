package gitstore

import (
	"fmt"
	"io/fs"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// Commit is one commit read from a cache.
type Commit struct {
	Hash    string
	Message string
	Parents []string
	// Tree is the commit's tree, read from the cache as it is used. It
	// reports symbolic links (fs.ModeSymlink) and never follows them,
	// leaves out submodules and names that are not valid fs.FS names, and
	// refuses to read a file larger than Limits.MaxFileBytes. It implements
	// fs.ReadDirFS, fs.ReadFileFS, fs.StatFS, fs.SubFS and fs.ReadLinkFS
	// and is safe for concurrent use.
	Tree fs.FS
}

// Has says whether the cache holds the object hash (a commit a fetch
// brought, or one written here).
func (r *Repo) Has(hash string) bool {
	h, ok := parseHash(hash)
	return ok && r.st.HasEncodedObject(h) == nil
}

// parseHash reads a full lower-case hex object name (not all zeros).
func parseHash(s string) (plumbing.Hash, bool) {
	var h plumbing.Hash
	if len(s) != 2*len(h) {
		return plumbing.ZeroHash, false
	}
	for i := range h {
		hi, lo := unhex(s[2*i]), unhex(s[2*i+1])
		if hi < 0 || lo < 0 {
			return plumbing.ZeroHash, false
		}
		h[i] = byte(hi<<4 | lo)
	}
	return h, !h.IsZero()
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	}
	return -1
}

// Commit reads a commit and gives its tree as an fs.FS.
func (r *Repo) Commit(hash string) (Commit, error) {
	c, err := r.commit(hash)
	if err != nil {
		return Commit{}, err
	}
	out := Commit{Hash: c.Hash.String(), Message: c.Message,
		Tree: newTreeFS(r.objects, c.TreeHash, r.store.limits.MaxFileBytes, r.store.facts)}
	for _, p := range c.ParentHashes {
		out.Parents = append(out.Parents, p.String())
	}
	return out, nil
}

func (r *Repo) commit(hash string) (*object.Commit, error) {
	c, err := object.GetCommit(r.objects, plumbing.NewHash(hash))
	if err != nil {
		return nil, fmt.Errorf("read commit %s: %w", hash, err)
	}
	return c, nil
}

// IsAncestor says whether commit a is a strict ancestor of commit b.
func (r *Repo) IsAncestor(a, b string) (bool, error) {
	if a == b {
		return false, nil
	}
	ca, err := r.commit(a)
	if err != nil {
		return false, err
	}
	cb, err := r.commit(b)
	if err != nil {
		return false, err
	}
	return ca.IsAncestor(cb)
}

// MergeBase is a best common ancestor of commits a and b, "" when they
// share no history.
func (r *Repo) MergeBase(a, b string) (string, error) {
	ca, err := r.commit(a)
	if err != nil {
		return "", err
	}
	cb, err := r.commit(b)
	if err != nil {
		return "", err
	}
	bases, err := ca.MergeBase(cb)
	if err != nil {
		return "", fmt.Errorf("merge base of %s and %s: %w", a, b, err)
	}
	if len(bases) == 0 {
		return "", nil
	}
	return bases[0].Hash.String(), nil
}

// Change says how a file differs between two trees.
type Change string

const (
	Added   Change = "added"
	Changed Change = "changed"
	Removed Change = "removed"
)

// Diff lists the files that differ between the trees of commits a and b
// under the folder dir ("" or "." for the whole tree), by path from the
// tree's root. Submodules are left out; a folder missing on one side counts
// as empty.
func (r *Repo) Diff(a, b, dir string) (map[string]Change, error) {
	roots := [2]plumbing.Hash{}
	for i, hash := range []string{a, b} {
		c, err := r.commit(hash)
		if err != nil {
			return nil, err
		}
		if roots[i], err = subtree(r.objects, c.TreeHash, dir); err != nil {
			return nil, fmt.Errorf("read the trees of %s: %w", hash, err)
		}
	}
	prefix := strings.Trim(dir, "/")
	if prefix == "." {
		prefix = ""
	}
	if prefix != "" {
		prefix += "/"
	}
	out := map[string]Change{}
	if err := diffTrees(r.objects, roots[0], roots[1], prefix, out); err != nil {
		return nil, fmt.Errorf("compare trees: %w", err)
	}
	return out, nil
}

// subtree is the hash of the folder dir in a tree (zero if none).
func subtree(s storer.EncodedObjectStorer, root plumbing.Hash, dir string) (plumbing.Hash, error) {
	h := root
	for _, part := range strings.Split(strings.Trim(dir, "/"), "/") {
		if part == "" || part == "." {
			continue
		}
		t, err := object.GetTree(s, h)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		found := false
		for _, e := range t.Entries {
			if e.Name == part && e.Mode == filemode.Dir {
				h, found = e.Hash, true
				break
			}
		}
		if !found {
			return plumbing.ZeroHash, nil
		}
	}
	return h, nil
}

// diffTrees adds to out the files that differ between two trees (zero hash:
// an empty tree), by path under prefix.
func diffTrees(s storer.EncodedObjectStorer, a, b plumbing.Hash, prefix string, out map[string]Change) error {
	if a == b {
		return nil
	}
	entries := func(h plumbing.Hash) (map[string]object.TreeEntry, error) {
		m := map[string]object.TreeEntry{}
		if h.IsZero() {
			return m, nil
		}
		t, err := object.GetTree(s, h)
		if err != nil {
			return nil, err
		}
		for _, e := range t.Entries {
			if e.Mode != filemode.Submodule {
				m[e.Name] = e
			}
		}
		return m, nil
	}
	ea, err := entries(a)
	if err != nil {
		return err
	}
	eb, err := entries(b)
	if err != nil {
		return err
	}
	sub := func(e object.TreeEntry, ok bool) (dir, file plumbing.Hash) {
		if !ok {
			return
		}
		if e.Mode == filemode.Dir {
			return e.Hash, plumbing.ZeroHash
		}
		return plumbing.ZeroHash, e.Hash
	}
	names := map[string]bool{}
	for n := range ea {
		names[n] = true
	}
	for n := range eb {
		names[n] = true
	}
	for n := range names {
		x, okA := ea[n]
		y, okB := eb[n]
		da, fa := sub(x, okA)
		db, fb := sub(y, okB)
		p := prefix + n
		if err := diffTrees(s, da, db, p+"/", out); err != nil {
			return err
		}
		switch {
		case fa == fb:
		case fa.IsZero():
			out[p] = Added
		case fb.IsZero():
			out[p] = Removed
		default:
			out[p] = Changed
		}
	}
	return nil
}
