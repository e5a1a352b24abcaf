// Package contentids names the contents of a folder's files by their
// SHA-256 (posts.ContentIDs, the build cache's name of a file's content),
// remembered under each file's identity (fileid.Identity) so that a file
// that did not change is not read again: by a preview from one save to the
// next, and by `publishbot build` from one run to the next (Encode,
// Decode).
package contentids

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/publishbot/publishbot/internal/fileid"
)

// racyAfter is how long after a file last changed a checksum of it is
// remembered: a file changed again within the file system's clock tick
// keeps its times (fileid.Changed), so one read that soon is read again.
const racyAfter = time.Second

// Memo names the content of the files of a folder (posts.ContentIDs) by
// a SHA-256 of their bytes, remembered under each file's identity: a save
// of one post reads that post, not the whole blog's Markdown and photos
// again (the build cache is keyed by these names, and a file whose cached
// results are all there is not read at all). Safe for concurrent use.
type Memo struct {
	mu   sync.Mutex
	memo map[string]contentID // by path in the folder
	now  func() time.Time
}

// prefix starts every name: the rest is the hex SHA-256 of the bytes.
const prefix = "sha256:"

type contentID struct {
	identity, id string
	used         bool // asked for since New or Decode: Encode keeps it
}

// New is an empty Memo.
func New() *Memo {
	return &Memo{memo: map[string]contentID{}, now: time.Now}
}

// Len is how many files the Memo names.
func (ids *Memo) Len() int {
	ids.mu.Lock()
	defer ids.mu.Unlock()
	return len(ids.memo)
}

// Folder is the folder root as an fs.FS whose files' contents are named
// by ids (posts.ContentIDs).
func (ids *Memo) Folder(root *os.Root) fs.FS {
	return idFolder{FS: root.FS(), root: root, ids: ids}
}

// idFolder is a folder that names its files' contents (posts.ContentIDs).
type idFolder struct {
	fs.FS
	root *os.Root
	ids  *Memo
}

func (f idFolder) ReadDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(f.FS, name) }
func (f idFolder) ReadFile(name string) ([]byte, error)       { return fs.ReadFile(f.FS, name) }
func (f idFolder) Stat(name string) (fs.FileInfo, error)      { return fs.Stat(f.FS, name) }

// ContentID is "sha256:" and the hex SHA-256 of the regular file name's
// bytes; false for anything else, or a file that cannot be read.
func (f idFolder) ContentID(name string) (string, bool) {
	before, err := f.root.Lstat(name)
	if err != nil || !before.Mode().IsRegular() {
		return "", false
	}
	ident := fileid.Identity(name, before)
	f.ids.mu.Lock()
	m, ok := f.ids.memo[name]
	f.ids.mu.Unlock()
	if ok && ident != "" && m.identity == ident {
		if !m.used {
			f.ids.mu.Lock()
			m.used = true
			f.ids.memo[name] = m
			f.ids.mu.Unlock()
		}
		return m.id, true
	}
	b, err := f.root.ReadFile(name)
	if err != nil {
		return "", false
	}
	sum := sha256.Sum256(b)
	id := prefix + hex.EncodeToString(sum[:])
	// remembered only when the file did not change while it was read and
	// had not changed for a clock tick before
	if after, err := f.root.Lstat(name); err == nil && ident != "" && fileid.Identity(name, after) == ident &&
		f.ids.now().Sub(fileid.Changed(after)) > racyAfter {
		f.ids.mu.Lock()
		f.ids.memo[name] = contentID{ident, id, true}
		f.ids.mu.Unlock()
	}
	return id, true
}

// magic starts an encoded Memo; it changes with the format.
const magic = "pbcontentids1\n"

// maxEntries bounds what Decode accepts: far more files than a content
// folder publishbot reads can hold.
const maxEntries = 1 << 22

// Encode is the Memo's entries asked for since New or Decode (the files of
// this build; those of files gone are left out), for Decode in the next
// process: magic, their count, then each one's path, identity (uvarint
// length and bytes each) and the 32 bytes of its SHA-256.
func (ids *Memo) Encode() []byte {
	ids.mu.Lock()
	defer ids.mu.Unlock()
	paths := make([]string, 0, len(ids.memo))
	for p, m := range ids.memo {
		if m.used {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	b := make([]byte, 0, len(magic)+len(paths)*128)
	b = append(b, magic...)
	b = binary.AppendUvarint(b, uint64(len(paths)))
	for _, p := range paths {
		m := ids.memo[p]
		sum, _ := hex.DecodeString(strings.TrimPrefix(m.id, prefix))
		b = binary.AppendUvarint(b, uint64(len(p)))
		b = append(b, p...)
		b = binary.AppendUvarint(b, uint64(len(m.identity)))
		b = append(b, m.identity...)
		b = append(b, sum...)
	}
	return b
}

// Decode adds what Encode wrote to the Memo, its entries not yet asked
// for; anything else is an error, and adds nothing. An entry is used only
// for a file whose identity is still the one it was made under.
func (ids *Memo) Decode(data []byte) error {
	rest, ok := bytes.CutPrefix(data, []byte(magic))
	if !ok {
		return errors.New("not a content id memo")
	}
	n, k := binary.Uvarint(rest)
	if k <= 0 || n > maxEntries || n > uint64(len(rest)) {
		return errors.New("content id memo: bad count")
	}
	rest = rest[k:]
	str := func() (string, bool) {
		l, k := binary.Uvarint(rest)
		if k <= 0 || l > uint64(len(rest)-k) {
			return "", false
		}
		s := string(rest[k : k+int(l)])
		rest = rest[k+int(l):]
		return s, true
	}
	got := make(map[string]contentID, n)
	for range n {
		p, ok1 := str()
		ident, ok2 := str()
		if !ok1 || !ok2 || len(rest) < sha256.Size {
			return errors.New("content id memo: cut short")
		}
		got[p] = contentID{identity: ident, id: prefix + hex.EncodeToString(rest[:sha256.Size])}
		rest = rest[sha256.Size:]
	}
	if len(rest) != 0 {
		return errors.New("content id memo: bytes after the last entry")
	}
	ids.mu.Lock()
	defer ids.mu.Unlock()
	for p, m := range got {
		if _, ok := ids.memo[p]; !ok {
			ids.memo[p] = m
		}
	}
	return nil
}

// Store keeps a Memo between processes: the build cache.
type Store interface {
	Get(key [32]byte) ([]byte, bool)
	Put(key [32]byte, value []byte)
}

// storeKey is the Store's key of the Memo of the folder dir.
func storeKey(dir string) ([32]byte, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256([]byte("publishbot content ids 1\x00" + abs)), nil
}

// Load is the Memo Save last kept in store for the folder dir; an empty
// one when there is none, and with an error when the one there does not
// decode (it is not used).
func Load(store Store, dir string) (*Memo, error) {
	ids := New()
	key, err := storeKey(dir)
	if err != nil {
		return ids, err
	}
	if data, ok := store.Get(key); ok {
		if err := ids.Decode(data); err != nil {
			return ids, fmt.Errorf("content ids of %s: %w", dir, err)
		}
	}
	return ids, nil
}

// Save keeps the Memo (Encode) in store for the folder dir.
func (ids *Memo) Save(store Store, dir string) {
	if key, err := storeKey(dir); err == nil {
		store.Put(key, ids.Encode())
	}
}
