package gitstore

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// node is a tree under construction. A node is either kept (hash set: an
// entry taken as is from an existing tree), a new file (data), or a folder
// being built (kids).
type node struct {
	mode filemode.FileMode
	hash plumbing.Hash // kept entry; zero for new content
	data []byte        // new file bytes
	kids map[string]*node
	// sum is a new file's blob hash or a built folder's tree hash (zero for
	// an empty one), once hashed; tree is that folder's tree object.
	sum  plumbing.Hash
	tree []byte
	// hashed: sum and tree are computed (a folder hashed ahead, see
	// hashFolders).
	hashed bool
	// touched: set put this node in place, or changed something under this
	// folder, after filesTree made it: it holds more or other than the
	// files it was made from (see Blobs.Folders).
	touched bool
	// like is the head's tree a new folder resembles (Tree.Resembles):
	// written as if it had been there before, so only what differs from it
	// is pushed
	like plumbing.Hash
}

func newDir() *node { return &node{mode: filemode.Dir, kids: map[string]*node{}} }

func (n *node) isDir() bool { return n.mode == filemode.Dir }

// keptDir is a folder node holding the entries of an existing tree as kept
// entries (nil tree: empty).
func keptDir(t *object.Tree) *node {
	d := newDir()
	if t == nil {
		return d
	}
	for _, e := range t.Entries {
		d.kids[e.Name] = &node{mode: e.Mode, hash: e.Hash}
	}
	return d
}

// treeWriter writes nodes into the object store, reusing whatever is
// unchanged, and lists the objects the remote may lack.
type treeWriter struct {
	s storer.EncodedObjectStorer
	// push lists objects that are not in the old tree at the same path: the
	// pack sent to the remote.
	push []plumbing.Hash
	// written counts objects actually stored (not already present).
	written int
	// staged holds new objects (in order) until flush.
	staged map[plumbing.Hash]plumbing.EncodedObject
	order  []plumbing.Hash
	// bases maps a pushed object to the object at the same path in the old
	// tree (which the remote has): a delta base for a thin pack.
	bases map[plumbing.Hash]plumbing.Hash
	// packed are the entries of the pack flush stored, sent as they are
	packed *packedEntries
}

func (w *treeWriter) base(h, old plumbing.Hash) {
	if w.bases == nil {
		w.bases = map[plumbing.Hash]plumbing.Hash{}
	}
	w.bases[h] = old
}

// expand turns a kept folder into one being built, reading its tree.
func (w *treeWriter) expand(n *node) error {
	if n.kids != nil {
		return nil
	}
	t, err := object.GetTree(w.s, n.hash)
	if err != nil {
		return fmt.Errorf("read tree %s: %w", n.hash, err)
	}
	k := keptDir(t)
	n.kids = k.kids
	n.hash = plumbing.ZeroHash
	return nil
}

// set puts child at the slash-separated path p under root, creating and
// expanding folders on the way. A nil child removes the entry.
func (w *treeWriter) set(root *node, p string, child *node) error {
	parts := strings.Split(p, "/")
	cur := root
	cur.touched = true
	for i, part := range parts[:len(parts)-1] {
		next, ok := cur.kids[part]
		if !ok || !next.isDir() {
			if child == nil {
				return nil
			}
			next = newDir()
			cur.kids[part] = next
		}
		if err := w.expand(next); err != nil {
			return fmt.Errorf("%s: %w", strings.Join(parts[:i+1], "/"), err)
		}
		cur = next
		cur.touched = true
	}
	last := parts[len(parts)-1]
	if child == nil {
		delete(cur.kids, last)
	} else {
		child.touched = true // not made of what ReplaceKeeping or SetKeeping were given
		cur.kids[last] = child
	}
	return nil
}

// get returns the node at p, or nil.
func (w *treeWriter) get(root *node, p string) (*node, error) {
	cur := root
	for _, part := range strings.Split(p, "/") {
		if !cur.isDir() {
			return nil, nil
		}
		if err := w.expand(cur); err != nil {
			return nil, err
		}
		next, ok := cur.kids[part]
		if !ok {
			return nil, nil
		}
		cur = next
	}
	return cur, nil
}

// Kept is a file a tree keeps as it is: a blob the repository cache
// already has, by its object name, at Path. With Folder set, Blob names a
// tree the cache has, kept whole as the folder Path: a site of 20,000
// posts whose edit touched one month keeps every other year as one entry
// instead of its thousands of files. Nothing else may be put under it.
type Kept struct {
	Path   string
	Blob   [20]byte
	Folder bool
}

func compareKept(a, b Kept) int { return strings.Compare(a.Path, b.Path) }

// filesTree builds a folder node from files keyed by relative path and
// kept files and folders (nil for none; sorted by path is fastest: a site
// of 20,000 posts keeps some 60,000 files on every publish). Paths must be
// clean, relative, and never name .git. blobs, when not nil, gets the node
// of each file of files.
func filesTree(files map[string][]byte, kept []Kept, blobs map[string]*node) (*node, error) {
	root := newDir()
	made := make([]string, 0, len(files))
	for p := range files {
		made = append(made, p)
	}
	slices.Sort(made)
	if !slices.IsSortedFunc(kept, compareKept) {
		kept = slices.Clone(kept)
		slices.SortFunc(kept, compareKept)
	}
	// Sorted paths come folder by folder: the last folder is looked up once.
	lastDir, lastNode := "", root
	for len(made) > 0 || len(kept) > 0 {
		n := &node{mode: filemode.Regular}
		var p string
		switch {
		case len(kept) == 0 || len(made) > 0 && made[0] < kept[0].Path:
			p, made = made[0], made[1:]
			n.data = files[p]
			if blobs != nil {
				blobs[p] = n
			}
		case len(made) > 0 && made[0] == kept[0].Path:
			return nil, fmt.Errorf("output path %s is both new and kept", made[0])
		default:
			if kept[0].Folder {
				n.mode = filemode.Dir
			}
			p, n.hash, kept = kept[0].Path, kept[0].Blob, kept[1:]
			if n.hash.IsZero() {
				return nil, fmt.Errorf("kept file %s has no object name", p)
			}
			if len(kept) > 0 && kept[0].Path == p {
				return nil, fmt.Errorf("output path %s is kept twice", p)
			}
		}
		if err := checkOutputPath(p); err != nil {
			return nil, err
		}
		dir, last := "", p
		if i := strings.LastIndexByte(p, '/'); i >= 0 {
			dir, last = p[:i], p[i+1:]
		}
		cur := lastNode
		if dir != lastDir {
			cur = root
			for rest := dir; rest != ""; {
				part, tail, _ := strings.Cut(rest, "/")
				next, ok := cur.kids[part]
				switch {
				case !ok:
					next = newDir()
					cur.kids[part] = next
				case !next.isDir():
					return nil, fmt.Errorf("output path %s: %s is a file", p, dir[:len(dir)-len(rest)+len(part)])
				case next.kids == nil:
					return nil, fmt.Errorf("output path %s is in the kept folder %s", p, dir[:len(dir)-len(rest)+len(part)])
				}
				cur, rest = next, tail
			}
			lastDir, lastNode = dir, cur
		}
		if existing, ok := cur.kids[last]; ok && existing.isDir() {
			return nil, fmt.Errorf("output path %s is also a folder", p)
		}
		cur.kids[last] = n
	}
	return root, nil
}

func checkOutputPath(p string) error {
	if p == "" || strings.HasPrefix(p, "/") || path.Clean(p) != p || strings.Contains(p, "\\") || strings.ContainsRune(p, 0) || !utf8.ValidString(p) {
		return fmt.Errorf("output path %q is not a clean relative path", p)
	}
	for rest := p; rest != ""; {
		var part string
		part, rest, _ = strings.Cut(rest, "/")
		if part == ".." || part == "." || strings.EqualFold(part, ".git") {
			return fmt.Errorf("output path %q is not allowed", p)
		}
	}
	return nil
}

// gitOrder sorts tree entries the way git does: a folder sorts as if its
// name ended in "/".
func gitOrder(entries []object.TreeEntry) {
	slices.SortFunc(entries, gitCompare)
}

// gitCompare compares two entries of one tree in git's order without
// building their keys (names hold no "/").
func gitCompare(a, b object.TreeEntry) int {
	n := min(len(a.Name), len(b.Name))
	if c := strings.Compare(a.Name[:n], b.Name[:n]); c != 0 {
		return c
	}
	next := func(e object.TreeEntry) int {
		switch {
		case n < len(e.Name):
			return int(e.Name[n])
		case e.Mode == filemode.Dir:
			return '/'
		}
		return -1
	}
	if c := cmp.Compare(next(a), next(b)); c != 0 {
		return c
	}
	return cmp.Compare(len(a.Name), len(b.Name))
}

// encodeTree is the content of the tree object of entries (in git's
// order), as go-git's Tree.Encode writes it, without its formatting cost:
// a site's tree writes thousands.
func encodeTree(entries []object.TreeEntry) []byte {
	size := 0
	for _, e := range entries {
		size += 8 + len(e.Name) + len(e.Hash)
	}
	b := make([]byte, 0, size)
	for _, e := range entries {
		b = strconv.AppendUint(b, uint64(e.Mode), 8)
		b = append(b, ' ')
		b = append(b, e.Name...)
		b = append(b, 0)
		b = append(b, e.Hash[:]...)
	}
	return b
}

// hash computes, bottom up, the hash of every new file and the tree of
// every folder being built under n (kept entries by their hash), reading
// nothing, and returns n's: the zero hash for a folder that ends up empty,
// which its parent leaves out, as git has no empty trees below the root.
func (w *treeWriter) hash(n *node) (plumbing.Hash, error) {
	if n.hashed {
		return n.sum, nil
	}
	entries := make([]object.TreeEntry, 0, len(n.kids))
	for name, kid := range n.kids {
		h := kid.hash
		switch {
		case !h.IsZero():
		case kid.isDir():
			var err error
			if h, err = w.hash(kid); err != nil {
				return plumbing.ZeroHash, err
			}
			if h.IsZero() {
				continue
			}
		default:
			if kid.sum.IsZero() {
				kid.sum = plumbing.ComputeHash(plumbing.BlobObject, kid.data)
			}
			h = kid.sum
		}
		entries = append(entries, object.TreeEntry{Name: name, Mode: kid.mode, Hash: h})
	}
	n.sum, n.tree = plumbing.ZeroHash, nil
	if len(entries) == 0 {
		n.hashed = true
		return plumbing.ZeroHash, nil
	}
	gitOrder(entries)
	n.tree = encodeTree(entries)
	n.sum = plumbing.ComputeHash(plumbing.TreeObject, n.tree)
	n.hashed = true
	return n.sum, nil
}

// hashFiles computes the blob hash of every new file under n on every
// core: a new branch hashes the whole site.
func hashFiles(n *node) {
	var files []*node
	var walk func(n *node)
	walk = func(n *node) {
		for _, kid := range n.kids {
			switch {
			case !kid.hash.IsZero():
			case kid.isDir():
				walk(kid)
			case kid.sum.IsZero():
				files = append(files, kid)
			}
		}
	}
	walk(n)
	if len(files) < packThreshold {
		return // hash does them, one by one
	}
	parallel(len(files), func(_, i int) { files[i].sum = plumbing.ComputeHash(plumbing.BlobObject, files[i].data) })
}

// hashFolders hashes the folders two levels under root on every core,
// ahead of hash: a site of 20,000 posts rebuilds as many folder trees on
// every publish (its posts' folders, /2024/05/…), and they are disjoint.
func (w *treeWriter) hashFolders(root *node) {
	var dirs []*node
	for _, kid := range root.kids {
		if !kid.isDir() || !kid.hash.IsZero() {
			continue
		}
		for _, sub := range kid.kids {
			if sub.isDir() && sub.hash.IsZero() {
				dirs = append(dirs, sub)
			}
		}
	}
	if len(dirs) < 2 {
		return
	}
	parallel(len(dirs), func(_, i int) { _, _ = w.hash(dirs[i]) }) // hash fails on nothing; root's hash would say
}

// write stores the objects of the hashed folder n that differ from old
// (the tree at the same path before, zero when none) and lists them for
// the push, each with its delta base: the object at its path in old. A
// folder whose hash is old's is the same tree, so nothing under it is read
// or listed: after a one-file change only the trees on its path are read.
//
// like says old is not at n's path but a folder n resembles (Resembles):
// what equals its objects is not sent, but nothing is sent as a delta
// against them (finding a delta for each of a site's pages costs more
// than compressing the page).
func (w *treeWriter) write(n *node, old plumbing.Hash, like bool) error {
	if n.sum == old {
		return nil
	}
	var oldEntries map[string]object.TreeEntry
	if !old.IsZero() {
		t, err := object.GetTree(w.s, old)
		if err != nil {
			return fmt.Errorf("read tree %s: %w", old, err)
		}
		oldEntries = make(map[string]object.TreeEntry, len(t.Entries))
		for _, e := range t.Entries {
			oldEntries[e.Name] = e
		}
	}
	for name, kid := range n.kids {
		oe, hadOld := oldEntries[name]
		switch {
		case !kid.hash.IsZero():
			// Kept as is. If it was not at this path before, the remote
			// may still have it elsewhere, but be safe and send it.
			switch {
			case hadOld && oe.Hash == kid.hash:
			case hadOld && oe.Mode == filemode.Dir && kid.isDir():
				if err := w.pushChanged(kid.hash, oe.Hash); err != nil {
					return err
				}
			default:
				if err := w.pushClosure(kid.hash, kid.mode); err != nil {
					return err
				}
			}
		case kid.isDir():
			if kid.sum.IsZero() {
				continue
			}
			var oldSub plumbing.Hash
			kidLike := like
			switch {
			case hadOld && oe.Mode == filemode.Dir:
				oldSub = oe.Hash
			case !hadOld && !kid.like.IsZero():
				oldSub, kidLike = kid.like, true
			}
			if err := w.write(kid, oldSub, kidLike); err != nil {
				return err
			}
		default:
			if hadOld && oe.Hash == kid.sum {
				continue
			}
			if err := w.storeBlob(kid.sum, kid.data); err != nil {
				return fmt.Errorf("write %s: %w", name, err)
			}
			w.push = append(w.push, kid.sum)
			if hadOld && oe.Mode.IsFile() && !like {
				w.base(kid.sum, oe.Hash)
			}
		}
	}
	w.stage(&dataObject{h: n.sum, typ: plumbing.TreeObject, data: n.tree})
	w.push = append(w.push, n.sum)
	if !old.IsZero() && !like {
		w.base(n.sum, old)
	}
	return nil
}

// writeRoot writes the root folder n over old (the head's tree, nil on a
// new branch); an empty root is the empty tree.
func (w *treeWriter) writeRoot(n *node, old *object.Tree) (plumbing.Hash, error) {
	hashFiles(n)
	w.hashFolders(n)
	h, err := w.hash(n)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if h.IsZero() {
		obj := &plumbing.MemoryObject{}
		if err := (&object.Tree{}).Encode(obj); err != nil {
			return plumbing.ZeroHash, err
		}
		h = obj.Hash()
		w.stage(obj)
		w.push = append(w.push, h)
		return h, nil
	}
	var oldHash plumbing.Hash
	if old != nil {
		oldHash = old.Hash
	}
	return h, w.write(n, oldHash, false)
}

func (w *treeWriter) storeBlob(h plumbing.Hash, data []byte) error {
	if w.has(h) {
		return nil
	}
	w.stageNew(h, &dataObject{h: h, typ: plumbing.BlobObject, data: data})
	return nil
}

// has says whether an object is staged or already in the store.
func (w *treeWriter) has(h plumbing.Hash) bool {
	if _, ok := w.staged[h]; ok {
		return true
	}
	return w.s.HasEncodedObject(h) == nil
}

// stage keeps a new object in memory until flush; nothing reaches the
// store for a build that turns out unchanged.
func (w *treeWriter) stage(obj plumbing.EncodedObject) {
	h := obj.Hash()
	if w.has(h) {
		return
	}
	w.stageNew(h, obj)
}

// stageNew is stage of obj, named h, which has says is new: a new page is
// looked up in the store once, not twice (a lookup that misses opens the
// loose object's path, then searches the packs).
func (w *treeWriter) stageNew(h plumbing.Hash, obj plumbing.EncodedObject) {
	if w.staged == nil {
		w.staged = map[plumbing.Hash]plumbing.EncodedObject{}
	}
	w.staged[h] = obj
	w.order = append(w.order, h)
	w.written++
}

// packThreshold: from this many new objects on, flush writes one packfile
// instead of loose objects (a new branch writes thousands).
const packThreshold = 64

// flush writes the staged objects to the store: loose objects for a few,
// one packfile (no deltas: fast) for many in a repository on disk. The
// staged objects stay readable from memory (staged) for the push.
func (w *treeWriter) flush() error {
	if len(w.order) == 0 {
		return nil
	}
	if st := onDisk(w.s); st != nil && len(w.order) >= packThreshold {
		objs := make([]plumbing.EncodedObject, len(w.order))
		for i, h := range w.order {
			objs[i] = w.staged[h]
		}
		packed, err := storePack(st, objs)
		if err != nil {
			return fmt.Errorf("write objects: %w", err)
		}
		w.packed = packed
	} else {
		for _, h := range w.order {
			if _, err := w.s.SetEncodedObject(w.staged[h]); err != nil {
				return fmt.Errorf("write object: %w", err)
			}
		}
	}
	w.order = nil
	return nil
}

// onDisk is the repository on disk behind s, or nil.
func onDisk(s storer.EncodedObjectStorer) *filesystem.Storage {
	switch s := s.(type) {
	case *filesystem.Storage:
		return s
	case cacheObjects:
		return s.Storage
	}
	return nil
}

// stagedOver reads the objects this writer made from memory, then from s.
func (w *treeWriter) stagedOver(s storer.EncodedObjectStorer) storer.EncodedObjectStorer {
	if len(w.staged) == 0 {
		return s
	}
	return stagedObjects{EncodedObjectStorer: s, staged: w.staged}
}

// pushClosure adds an existing entry and, for a folder, everything in it.
func (w *treeWriter) pushClosure(h plumbing.Hash, mode filemode.FileMode) error {
	switch mode {
	case filemode.Submodule:
		return nil
	case filemode.Dir:
		t, err := object.GetTree(w.s, h)
		if err != nil {
			return fmt.Errorf("read tree %s: %w", h, err)
		}
		w.push = append(w.push, h)
		for _, e := range t.Entries {
			if err := w.pushClosure(e.Hash, e.Mode); err != nil {
				return err
			}
		}
		return nil
	default:
		w.push = append(w.push, h)
		return nil
	}
}

// pushChanged adds the kept tree h, at a path where the remote's head has
// the tree old, and what in it differs from old: a kept folder of a build
// made on another head than the remote's (a refused push, another pusher)
// sends what changed, not the whole folder.
func (w *treeWriter) pushChanged(h, old plumbing.Hash) error {
	t, err := object.GetTree(w.s, h)
	if err != nil {
		return fmt.Errorf("read tree %s: %w", h, err)
	}
	ot, err := object.GetTree(w.s, old)
	if err != nil {
		return fmt.Errorf("read tree %s: %w", old, err)
	}
	oldEntries := make(map[string]object.TreeEntry, len(ot.Entries))
	for _, e := range ot.Entries {
		oldEntries[e.Name] = e
	}
	w.push = append(w.push, h)
	w.base(h, old)
	for _, e := range t.Entries {
		oe, ok := oldEntries[e.Name]
		switch {
		case ok && oe.Hash == e.Hash:
		case ok && oe.Mode == filemode.Dir && e.Mode == filemode.Dir:
			if err := w.pushChanged(e.Hash, oe.Hash); err != nil {
				return err
			}
		default:
			if err := w.pushClosure(e.Hash, e.Mode); err != nil {
				return err
			}
			if ok && oe.Mode.IsFile() && e.Mode.IsFile() {
				w.base(e.Hash, oe.Hash)
			}
		}
	}
	return nil
}

// writeCommit stores a commit and adds it to the push list.
func (w *treeWriter) writeCommit(c *object.Commit) (plumbing.Hash, error) {
	obj := &plumbing.MemoryObject{}
	if err := c.Encode(obj); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("encode commit: %w", err)
	}
	w.stage(obj)
	h := obj.Hash()
	w.push = append(w.push, h)
	return h, nil
}

// dedupe removes repeated hashes from the push list (a blob used twice).
func (w *treeWriter) pushList() []plumbing.Hash {
	seen := make(map[plumbing.Hash]bool, len(w.push))
	out := w.push[:0:0]
	for _, h := range w.push {
		if !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	return out
}

// Tree is the tree of a new commit while an Update's Build makes it. It
// starts as the head's tree (empty on a new branch); what Build leaves
// unchanged is reused as is, and only new objects are written and pushed.
// Paths are slash-separated, relative to the root, clean, and never name
// .git. A Tree lives only during its Build.
type Tree struct {
	w     *treeWriter
	root  *node
	old   *object.Tree // the head's tree; nil on a new branch
	head  string
	likes [][2]string // folder, and the folder of the head it resembles (Resembles)
}

// Resembles says that the folder dir, if it is new on the branch, holds
// much of what the head's folder like holds ("" for the root): a pull
// request's preview beside the site it previews. The push then leaves out
// dir's files and folders that like has at the same paths (the remote has
// them): a preview's first push sends what differs from the site, not
// its photos, styles and unchanged files again. Nothing changes when dir
// was on the branch already, or like is not a folder of the head.
func (t *Tree) Resembles(dir, like string) error {
	if err := checkOutputPath(dir); err != nil {
		return err
	}
	if like != "" {
		if err := checkOutputPath(like); err != nil {
			return err
		}
	}
	t.likes = append(t.likes, [2]string{dir, like})
	return nil
}

// resolveLikes marks the folders of Resembles with the head's trees they
// resemble, once Build is done.
func (t *Tree) resolveLikes() {
	if t.old == nil {
		return
	}
	for _, l := range t.likes {
		n := t.root
		for part := range strings.SplitSeq(l[0], "/") {
			if n = n.kids[part]; n == nil || !n.isDir() {
				break
			}
		}
		if n == nil || !n.isDir() || n.kids == nil {
			continue
		}
		like := t.old.Hash
		if l[1] != "" {
			e, err := t.old.FindEntry(l[1])
			if err != nil || e.Mode != filemode.Dir {
				continue
			}
			like = e.Hash
		}
		n.like = like
	}
}

// Head is the commit the tree is built on, "" on a new branch.
func (t *Tree) Head() string { return t.head }

// Replace makes the whole tree files, keyed by path.
func (t *Tree) Replace(files map[string][]byte) error {
	_, err := t.ReplaceKeeping(files, nil)
	return err
}

// ReplaceKeeping makes the whole tree files (keyed by path) and the kept
// files: blobs the repository cache already has, which nothing reads,
// hashes or writes again (Push still sends each one the remote's head
// lacks at its path). The Blobs it returns tells, once Push has written
// the tree, the blob hash of each file of files. The error is for a path
// that is not clean, is both in files and in kept or twice in kept, or for
// a kept file without an object name.
func (t *Tree) ReplaceKeeping(files map[string][]byte, kept []Kept) (*Blobs, error) {
	root, blobs, err := newFilesTree(files, kept)
	if err != nil {
		return nil, err
	}
	t.root = root
	blobs.tree = t
	return blobs, nil
}

// Set makes the folder dir hold files (keyed by path under dir) and nothing
// else; no files removes it.
func (t *Tree) Set(dir string, files map[string][]byte) error {
	_, err := t.SetKeeping(dir, files, nil)
	return err
}

// SetKeeping is Set with kept files, as in ReplaceKeeping; paths are under
// dir, and so are those of the Blobs it returns.
func (t *Tree) SetKeeping(dir string, files map[string][]byte, kept []Kept) (*Blobs, error) {
	if err := checkOutputPath(dir); err != nil {
		return nil, err
	}
	sub, blobs, err := newFilesTree(files, kept)
	if err != nil {
		return nil, err
	}
	blobs.tree, blobs.dir = t, dir
	return blobs, t.w.set(t.root, dir, sub)
}

func newFilesTree(files map[string][]byte, kept []Kept) (*node, *Blobs, error) {
	blobs := &Blobs{nodes: make(map[string]*node, len(files))}
	root, err := filesTree(files, kept, blobs.nodes)
	if err != nil {
		return nil, nil, err
	}
	blobs.top = root
	return root, blobs, nil
}

// Blobs are the files given as bytes to ReplaceKeeping or SetKeeping.
type Blobs struct {
	nodes map[string]*node
	tree  *Tree  // the tree they were put in
	dir   string // at this folder of it ("" for the root)
	top   *node  // the folder made of them and the kept entries
}

// Folders are the tree hashes (object names) of the folders made of the
// files and kept entries given to ReplaceKeeping or SetKeeping, by path
// relative to them (the top folder itself is not listed), valid after Push
// returned without error. A folder holds exactly what was given under its
// path, so a later build that keeps all of it and adds nothing may keep it
// whole (Kept.Folder). Left out: folders something was put in or taken
// from afterwards (SetFile, Remove, Keep…), empty ones, and all of them
// when the top folder is no longer in the tree. A kept folder is listed
// with its own hash, the folders inside it are not (nothing read them).
func (b *Blobs) Folders() map[string][20]byte {
	out := map[string][20]byte{}
	if b.tree == nil || b.top == nil {
		return out
	}
	cur := b.tree.root
	if b.dir != "" {
		for part := range strings.SplitSeq(b.dir, "/") {
			if cur = cur.kids[part]; cur == nil {
				return out
			}
		}
	}
	if cur != b.top {
		return out
	}
	var walk func(n *node, prefix string)
	walk = func(n *node, prefix string) {
		for name, kid := range n.kids {
			if !kid.isDir() {
				continue
			}
			p := prefix + name
			switch {
			case kid.kids == nil: // kept whole, never expanded
				if !kid.touched {
					out[p] = kid.hash
				}
			default:
				if !kid.touched && kid.hashed && !kid.sum.IsZero() {
					out[p] = kid.sum
				}
				walk(kid, p+"/")
			}
		}
	}
	walk(b.top, "")
	return out
}

// Hashes are the blob hashes (hex object names) of the files, by path, as
// the tree writer computed them; valid after Push returned without error
// (a file left out of the tree meanwhile, by Remove or Keep…, has none).
func (b *Blobs) Hashes() map[string]string {
	out := make(map[string]string, len(b.nodes))
	for p, n := range b.nodes {
		if !n.sum.IsZero() {
			out[p] = n.sum.String()
		}
	}
	return out
}

// SetFile writes one regular file at p.
func (t *Tree) SetFile(p string, data []byte) error {
	if err := checkOutputPath(p); err != nil {
		return err
	}
	return t.w.set(t.root, p, &node{mode: filemode.Regular, data: data})
}

// Remove removes the file or folder at p; a missing one is no error.
func (t *Tree) Remove(p string) error {
	if err := checkOutputPath(p); err != nil {
		return err
	}
	return t.w.set(t.root, p, nil)
}

// Has says whether the tree holds a file or folder at p.
func (t *Tree) Has(p string) (bool, error) {
	if err := checkOutputPath(p); err != nil {
		return false, err
	}
	n, err := t.w.get(t.root, p)
	return n != nil, err
}

// KeepFolder makes p what it is in the head's tree when that is a folder,
// and removes it otherwise: what Build wrote there is dropped.
func (t *Tree) KeepFolder(p string) error {
	return t.keep(p, func(m filemode.FileMode) bool { return m == filemode.Dir })
}

// KeepFile makes p what it is in the head's tree when that is a file (or a
// link), and removes it otherwise.
func (t *Tree) KeepFile(p string) error {
	return t.keep(p, filemode.FileMode.IsFile)
}

func (t *Tree) keep(p string, want func(filemode.FileMode) bool) error {
	if err := checkOutputPath(p); err != nil {
		return err
	}
	if err := t.w.set(t.root, p, nil); err != nil {
		return err
	}
	was, err := t.w.get(keptDir(t.old), p)
	if err != nil || was == nil || was.hash.IsZero() || !want(was.mode) {
		return err
	}
	return t.w.set(t.root, p, &node{mode: was.mode, hash: was.hash})
}
