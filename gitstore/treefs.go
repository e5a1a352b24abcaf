package gitstore

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// errSymlink is returned when a symbolic link is opened or read: the tree
// reports links (fs.ModeSymlink in ReadDir and Stat) but never follows them.
var errSymlink = errors.New("is a symbolic link, not followed")

// treeFS is a git tree as an fs.FS, read straight from the object store.
// Symbolic links are reported (fs.ModeSymlink) and never followed: Open and
// ReadFile on one fail. Submodules (gitlinks) are left out. It is safe for
// concurrent use; object reads are serialised because go-git's storage is
// not.
type treeFS struct {
	shared *treeShared
	root   plumbing.Hash // tree object
	prefix string        // path of root inside the commit's tree, for errors ("" for the top)
}

type treeShared struct {
	mu      sync.Mutex
	s       storer.EncodedObjectStorer
	trees   map[plumbing.Hash]*dirIndex
	maxFile int64        // ReadFile/Open refuse larger blobs; 0 = no limit
	facts   *objectFacts // blob sizes the store knows (CheckTree's, and earlier processes'); nil: none
}

// dirIndex is a decoded tree with its usable entries, sorted by name and
// found by a binary search (no map: a blog's tree has 20,000 folders of a
// few files). Trees from outside may be unsorted or repeat a name: the
// first entry wins, and names that are not valid fs.FS path elements are
// left out.
type dirIndex struct {
	entries []entry // sorted by name, each name once
}

// find is the index of the entry name.
func (d *dirIndex) find(name string) (int, bool) {
	return slices.BinarySearchFunc(d.entries, name, func(e entry, name string) int { return strings.Compare(e.name, name) })
}

// newTreeFS reads the tree root from s. facts, when not nil, answers the
// sizes of blobs it knows (a publish checks the tree first, CheckTree,
// so a listing then reads no blob header at all).
func newTreeFS(s storer.EncodedObjectStorer, root plumbing.Hash, maxFile int64, facts *objectFacts) *treeFS {
	return &treeFS{shared: &treeShared{s: s, trees: map[plumbing.Hash]*dirIndex{}, maxFile: maxFile, facts: facts}, root: root}
}

var (
	_ fs.ReadDirFS  = (*treeFS)(nil)
	_ fs.ReadFileFS = (*treeFS)(nil)
	_ fs.StatFS     = (*treeFS)(nil)
	_ fs.SubFS      = (*treeFS)(nil)
	_ fs.ReadLinkFS = (*treeFS)(nil)
)

// tree decodes a tree object once; callers hold mu.
func (sh *treeShared) tree(h plumbing.Hash) (*dirIndex, error) {
	if d, ok := sh.trees[h]; ok {
		return d, nil
	}
	t, err := readTree(sh.s, sh.facts, h)
	if err != nil {
		return nil, err
	}
	d := &dirIndex{entries: make([]entry, 0, len(t.Entries))}
	for _, te := range t.Entries {
		if te.Mode == filemode.Submodule || !validName(te.Name) {
			continue
		}
		d.entries = append(d.entries, entry{name: te.Name, mode: te.Mode, hash: te.Hash})
	}
	// git's order is by name but for folders (as if named "name/"); the
	// sort is stable, so that of a repeated name the first entry is kept
	byName := func(a, b entry) int { return strings.Compare(a.name, b.name) }
	if !slices.IsSortedFunc(d.entries, byName) {
		slices.SortStableFunc(d.entries, byName)
	}
	d.entries = slices.CompactFunc(d.entries, func(a, b entry) bool { return a.name == b.name })
	sh.trees[h] = d
	return d, nil
}

// readTree decodes tree h from the content facts remember, else from s,
// remembering its content. A remembered content is used only if it hashes
// to h.
func readTree(s storer.EncodedObjectStorer, facts *objectFacts, h plumbing.Hash) (*object.Tree, error) {
	if facts == nil {
		return object.GetTree(s, h)
	}
	if content, ok := facts.treeContent(h); ok {
		if t, err := decodeTree(content); err == nil && t.Hash == h {
			return t, nil
		}
		facts.dropTreeContent(h)
	}
	o, err := s.EncodedObject(plumbing.TreeObject, h)
	if err != nil {
		return nil, err
	}
	r, err := o.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	content, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	t, err := decodeTree(content)
	if err != nil {
		return nil, fmt.Errorf("decode tree %s: %w", h, err)
	}
	facts.putTreeContent(h, content)
	return t, nil
}

// decodeTree decodes a tree object's content; the tree's Hash is that of
// the content.
func decodeTree(content []byte) (*object.Tree, error) {
	o := &plumbing.MemoryObject{}
	o.SetType(plumbing.TreeObject)
	o.Write(content)
	t := &object.Tree{}
	if err := t.Decode(o); err != nil {
		return nil, err
	}
	return t, nil
}

// entry is one resolved path: the root itself has a zero Name.
type entry struct {
	name string
	mode filemode.FileMode
	hash plumbing.Hash
}

func (e entry) isDir() bool { return e.mode == filemode.Dir }

// lookup resolves name without following links; callers hold mu.
func (f *treeFS) lookup(op, name string) (entry, error) {
	if !fs.ValidPath(name) {
		return entry{}, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	cur := entry{name: ".", mode: filemode.Dir, hash: f.root}
	if name == "." {
		return cur, nil
	}
	for _, part := range strings.Split(name, "/") {
		if !cur.isDir() {
			if cur.mode == filemode.Symlink {
				return entry{}, &fs.PathError{Op: op, Path: name, Err: errSymlink}
			}
			return entry{}, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
		}
		d, err := f.shared.tree(cur.hash)
		if err != nil {
			return entry{}, &fs.PathError{Op: op, Path: name, Err: err}
		}
		i, ok := d.find(part)
		if !ok {
			return entry{}, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
		}
		cur = d.entries[i]
	}
	return cur, nil
}

func validName(n string) bool {
	return n != "" && n != "." && n != ".." && !strings.ContainsAny(n, "/\x00") && utf8.ValidString(n)
}

// size is a file's size (objectSize).
func (f *treeFS) size(e entry) (int64, error) {
	if e.isDir() {
		return 0, nil
	}
	return f.shared.facts.blobSize(f.shared.s, e.hash)
}

// objectSize is an object's size from its header: for a packed object
// go-git reads the pack entry's header (and a delta's first bytes), never
// inflating the object, where EncodedObject would inflate it whole. When
// that fails (a damaged pack says only EOF) the object is read, for the
// error that tells damage (IsCorrupt).
func objectSize(s storer.EncodedObjectStorer, h plumbing.Hash) (int64, error) {
	if n, err := s.EncodedObjectSize(h); err == nil {
		return n, nil
	}
	o, err := s.EncodedObject(plumbing.AnyObject, h)
	if err != nil {
		return 0, err
	}
	return o.Size(), nil
}

// ContentID names the content of the regular file name without reading it:
// its git blob id (40 hex digits). Two files with the same id have the same
// bytes, in any repository. It is false for a folder, a symbolic link or a
// path that does not exist. Consumers that cache work per file (posts,
// imagery) find it through an interface of their own.
func (f *treeFS) ContentID(name string) (string, bool) {
	f.shared.mu.Lock()
	defer f.shared.mu.Unlock()
	e, err := f.lookup("contentid", name)
	if err != nil || e.isDir() || e.mode == filemode.Symlink {
		return "", false
	}
	return e.hash.String(), true
}

func (f *treeFS) read(op, name string, e entry) ([]byte, error) {
	if e.mode == filemode.Symlink {
		return nil, &fs.PathError{Op: op, Path: name, Err: errSymlink}
	}
	if e.isDir() {
		return nil, &fs.PathError{Op: op, Path: name, Err: errors.New("is a directory")}
	}
	o, err := f.shared.s.EncodedObject(plumbing.BlobObject, e.hash)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	if max := f.shared.maxFile; max > 0 && o.Size() > max {
		return nil, &fs.PathError{Op: op, Path: name, Err: &limitError{what: "file size", got: o.Size(), max: max}}
	}
	r, err := o.Reader()
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	defer r.Close()
	b := make([]byte, o.Size())
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	return b, nil
}

// ReadFile implements fs.ReadFileFS.
func (f *treeFS) ReadFile(name string) ([]byte, error) {
	f.shared.mu.Lock()
	defer f.shared.mu.Unlock()
	e, err := f.lookup("read", name)
	if err != nil {
		return nil, err
	}
	return f.read("read", name, e)
}

// Stat implements fs.StatFS. Like os.Lstat, a link is described, not followed.
func (f *treeFS) Stat(name string) (fs.FileInfo, error) {
	f.shared.mu.Lock()
	defer f.shared.mu.Unlock()
	e, err := f.lookup("stat", name)
	if err != nil {
		return nil, err
	}
	size, err := f.size(e)
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	return fileInfo{name: path.Base(name), mode: e.mode, size: size}, nil
}

// Lstat implements fs.ReadLinkFS; it is Stat, which never follows links.
func (f *treeFS) Lstat(name string) (fs.FileInfo, error) { return f.Stat(name) }

// ReadLink implements fs.ReadLinkFS: the target a link names, as text. The
// target itself is never opened.
func (f *treeFS) ReadLink(name string) (string, error) {
	f.shared.mu.Lock()
	defer f.shared.mu.Unlock()
	e, err := f.lookup("readlink", name)
	if err != nil {
		return "", err
	}
	if e.mode != filemode.Symlink {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	e.mode = filemode.Regular
	b, err := f.read("readlink", name, e)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// ReadDir implements fs.ReadDirFS: entries sorted by name, submodules left out.
func (f *treeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	f.shared.mu.Lock()
	defer f.shared.mu.Unlock()
	e, err := f.lookup("readdir", name)
	if err != nil {
		return nil, err
	}
	if !e.isDir() {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
	}
	return f.readDir(name, e)
}

func (f *treeFS) readDir(name string, e entry) ([]fs.DirEntry, error) {
	d, err := f.shared.tree(e.hash)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	out := make([]fs.DirEntry, len(d.entries))
	for i, de := range d.entries {
		out[i] = dirEntry{fsys: f, e: de}
	}
	return out, nil
}

// Sub implements fs.SubFS without copying anything.
func (f *treeFS) Sub(dir string) (fs.FS, error) {
	f.shared.mu.Lock()
	defer f.shared.mu.Unlock()
	e, err := f.lookup("sub", dir)
	if err != nil {
		return nil, err
	}
	if !e.isDir() {
		return nil, &fs.PathError{Op: "sub", Path: dir, Err: errors.New("not a directory")}
	}
	return &treeFS{shared: f.shared, root: e.hash, prefix: path.Join(f.prefix, dir)}, nil
}

// Open implements fs.FS. A file's bytes are read when it is opened.
func (f *treeFS) Open(name string) (fs.File, error) {
	f.shared.mu.Lock()
	defer f.shared.mu.Unlock()
	e, err := f.lookup("open", name)
	if err != nil {
		return nil, err
	}
	info := fileInfo{name: path.Base(name), mode: e.mode}
	if e.isDir() {
		entries, err := f.readDir(name, e)
		if err != nil {
			return nil, err
		}
		return &openDir{info: info, entries: entries}, nil
	}
	b, err := f.read("open", name, e)
	if err != nil {
		return nil, err
	}
	info.size = int64(len(b))
	return &openFile{info: info, r: strings.NewReader(string(b))}, nil
}

type fileInfo struct {
	name string
	mode filemode.FileMode
	size int64
}

func (i fileInfo) Name() string { return i.name }
func (i fileInfo) Size() int64  { return i.size }
func (i fileInfo) Mode() fs.FileMode {
	switch i.mode {
	case filemode.Dir:
		return fs.ModeDir | 0o555
	case filemode.Symlink:
		return fs.ModeSymlink | 0o777
	case filemode.Executable:
		return 0o555
	default:
		return 0o444
	}
}
func (i fileInfo) ModTime() time.Time { return time.Time{} }
func (i fileInfo) IsDir() bool        { return i.mode == filemode.Dir }
func (i fileInfo) Sys() any           { return nil }

type dirEntry struct {
	fsys *treeFS
	e    entry
}

// ContentID names the entry's content as treeFS.ContentID names it by
// its path: the blob id of a regular file; false for a folder or a link.
// A walk of the tree that records it looks no path up again.
func (d dirEntry) ContentID() (string, bool) {
	if d.e.isDir() || d.e.mode == filemode.Symlink {
		return "", false
	}
	return d.e.hash.String(), true
}

func (d dirEntry) Name() string      { return d.e.name }
func (d dirEntry) IsDir() bool       { return d.e.isDir() }
func (d dirEntry) Type() fs.FileMode { return fileInfo{mode: d.e.mode}.Mode().Type() }
func (d dirEntry) Info() (fs.FileInfo, error) {
	d.fsys.shared.mu.Lock()
	defer d.fsys.shared.mu.Unlock()
	size, err := d.fsys.size(d.e)
	if err != nil {
		return nil, err
	}
	return fileInfo{name: d.e.name, mode: d.e.mode, size: size}, nil
}

type openFile struct {
	info fileInfo
	r    *strings.Reader
}

func (o *openFile) Stat() (fs.FileInfo, error) { return o.info, nil }
func (o *openFile) Read(p []byte) (int, error) { return o.r.Read(p) }
func (o *openFile) Seek(off int64, whence int) (int64, error) {
	return o.r.Seek(off, whence)
}
func (o *openFile) ReadAt(p []byte, off int64) (int, error) { return o.r.ReadAt(p, off) }
func (o *openFile) Close() error                            { return nil }

type openDir struct {
	info    fileInfo
	entries []fs.DirEntry
	off     int
}

func (d *openDir) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *openDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.name, Err: errors.New("is a directory")}
}
func (d *openDir) Close() error { return nil }

// ReadDir implements fs.ReadDirFile.
func (d *openDir) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.off:]
	if n <= 0 {
		d.off = len(d.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	if n > len(rest) {
		n = len(rest)
	}
	d.off += n
	return rest[:n], nil
}
