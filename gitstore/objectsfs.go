package gitstore

import (
	"os"
	"path/filepath"
	"syscall"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-billy/v5/helper/chroot"
	"github.com/go-git/go-billy/v5/osfs"
)

// objectsFS is a repository cache's folder in which a loose object is
// opened at its path in one call. go-git looks an object up by opening its
// loose file first, then searching the packs; through the chroot every
// open is an lstat of each folder on the way (against links out of the
// folder) and then the open: a PR's first preview looks up 30,000 new
// pages, none of them loose, and those calls were most of writing its
// tree. A loose object's path is objects/, two hex digits, / and 38 more,
// in folders git and go-git make; its last element is opened without
// following a link. Everything else goes through the chroot.
type objectsFS struct {
	*chroot.ChrootHelper
}

// newObjectsFS is the file system of the repository folder dir.
func newObjectsFS(dir string) billy.Filesystem {
	fs := osfs.New(dir)
	if ch, ok := fs.(*chroot.ChrootHelper); ok {
		return objectsFS{ch}
	}
	return fs
}

func (fs objectsFS) Open(name string) (billy.File, error) {
	if !isLoosePath(name) {
		return fs.ChrootHelper.Open(name)
	}
	f, err := os.OpenFile(filepath.Join(fs.Root(), filepath.FromSlash(name)), os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	return looseFile{File: f, name: name}, nil
}

// isLoosePath says whether name is a loose object's path:
// objects/xx/ and 38 hex digits.
func isLoosePath(name string) bool {
	const prefix = "objects/"
	if len(name) != len(prefix)+2+1+38 || name[:len(prefix)] != prefix || name[len(prefix)+2] != '/' {
		return false
	}
	for i := len(prefix); i < len(name); i++ {
		if c := name[i]; i != len(prefix)+2 && !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// looseFile is a loose object opened for reading, named as in the chroot.
type looseFile struct {
	*os.File
	name string
}

func (f looseFile) Name() string { return f.name }

// Lock and Unlock: a loose object is written once, under a temporary
// name, and renamed into place; reading it needs no lock.
func (f looseFile) Lock() error   { return nil }
func (f looseFile) Unlock() error { return nil }
