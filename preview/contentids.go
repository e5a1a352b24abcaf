package preview

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/publishbot/publishbot/internal/fileid"
)

// racyAfter is how long after a file last changed a checksum of it is
// remembered: a file changed again within the file system's clock tick
// keeps its times (fileid.Changed), so one read that soon is read again.
const racyAfter = time.Second

// contentIDs names the content of the files of the folder a preview
// builds (posts.ContentIDs) by a SHA-256 of their bytes, remembered from
// one rebuild to the next under each file's identity (fileid.Identity): a
// save of one post reads that post, not the whole blog's Markdown and
// photos again (the build cache is keyed by these names, and a file whose
// cached results are all there is not read at all).
type contentIDs struct {
	mu   sync.Mutex
	memo map[string]contentID // by path in the folder
	now  func() time.Time
}

type contentID struct{ identity, id string }

func newContentIDs() *contentIDs {
	return &contentIDs{memo: map[string]contentID{}, now: time.Now}
}

// folder is the content folder root as an fs.FS whose files' contents
// are named by ids.
func (ids *contentIDs) folder(root *os.Root) fs.FS {
	return idFolder{FS: root.FS(), root: root, ids: ids}
}

// idFolder is a folder that names its files' contents (posts.ContentIDs).
type idFolder struct {
	fs.FS
	root *os.Root
	ids  *contentIDs
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
		return m.id, true
	}
	b, err := f.root.ReadFile(name)
	if err != nil {
		return "", false
	}
	sum := sha256.Sum256(b)
	id := "sha256:" + hex.EncodeToString(sum[:])
	// remembered only when the file did not change while it was read and
	// had not changed for a clock tick before
	if after, err := f.root.Lstat(name); err == nil && ident != "" && fileid.Identity(name, after) == ident &&
		f.ids.now().Sub(fileid.Changed(after)) > racyAfter {
		f.ids.mu.Lock()
		f.ids.memo[name] = contentID{ident, id}
		f.ids.mu.Unlock()
	}
	return id, true
}
