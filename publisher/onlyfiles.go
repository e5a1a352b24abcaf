package publisher

import (
	"io/fs"
	"path"
	"slices"

	"github.com/publishbot/publishbot/posts"
)

// onlyFiles is a file system that shows only some files of another and the
// folders above them: a pull request's changed posts loaded from the base
// branch for their old titles, without the base's other posts (a preview of
// one post of a blog of 20,000 loaded and rendered all 20,000 of the base
// for one title). It lists a folder from the files it shows, so the base's
// big folders are never read whole.
type onlyFiles struct {
	fsys  fs.FS
	files map[string]bool
	dirs  map[string][]string // folder -> names of what it shows, sorted
}

// newOnlyFiles shows the files of fsys among files (slash-separated paths
// relative to its root; those it does not have are left out).
func newOnlyFiles(fsys fs.FS, files []string) *onlyFiles {
	o := &onlyFiles{fsys: fsys, files: map[string]bool{}, dirs: map[string][]string{".": nil}}
	for _, f := range files {
		if !fs.ValidPath(f) || f == "." || o.files[f] {
			continue
		}
		if info, err := fs.Stat(fsys, f); err != nil || !info.Mode().IsRegular() {
			continue
		}
		o.files[f] = true
		for child, dir := f, path.Dir(f); ; child, dir = dir, path.Dir(dir) {
			_, seen := o.dirs[dir]
			if !slices.Contains(o.dirs[dir], path.Base(child)) {
				o.dirs[dir] = append(o.dirs[dir], path.Base(child))
			}
			if dir == "." || seen {
				break
			}
		}
	}
	for _, names := range o.dirs {
		slices.Sort(names)
	}
	return o
}

func (o *onlyFiles) shows(name string) bool {
	_, dir := o.dirs[name]
	return dir || o.files[name]
}

func (o *onlyFiles) Open(name string) (fs.File, error) {
	if !o.shows(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return o.fsys.Open(name)
}

func (o *onlyFiles) Stat(name string) (fs.FileInfo, error) {
	if !o.shows(name) {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
	}
	return fs.Stat(o.fsys, name)
}

func (o *onlyFiles) ReadFile(name string) ([]byte, error) {
	if !o.files[name] {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrNotExist}
	}
	return fs.ReadFile(o.fsys, name)
}

// ReadDir lists what name shows, each entry made from a Stat of it.
func (o *onlyFiles) ReadDir(name string) ([]fs.DirEntry, error) {
	names, ok := o.dirs[name]
	if !ok {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	ents := make([]fs.DirEntry, 0, len(names))
	for _, n := range names {
		p := n
		if name != "." {
			p = name + "/" + n
		}
		info, err := fs.Stat(o.fsys, p)
		if err != nil {
			return nil, err
		}
		ents = append(ents, fs.FileInfoToDirEntry(info))
	}
	return ents, nil
}

// ContentID names a file's content as fsys does, when it can
// (posts.ContentIDs).
func (o *onlyFiles) ContentID(name string) (string, bool) {
	ids, ok := o.fsys.(posts.ContentIDs)
	if !ok || !o.files[name] {
		return "", false
	}
	return ids.ContentID(name)
}
