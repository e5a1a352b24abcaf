package preview

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/fsnotify/fsnotify"
)

// ignoredPath says whether a change under dir cannot affect the site:
// version control, hidden folders and the default build output.
func ignoredPath(dir, name string) bool {
	rel, err := filepath.Rel(dir, name)
	if err != nil {
		return false
	}
	for _, part := range strings.Split(filepath.ToSlash(rel), "/") {
		if part == "public" || (strings.HasPrefix(part, ".") && part != "." && part != "..") {
			return true
		}
	}
	return false
}

// watchTree adds dir and every folder below it to w (fsnotify does not
// recurse), skipping ignored folders and never following symlinks.
func watchTree(w *fsnotify.Watcher, dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if p != dir && ignoredPath(dir, p) {
			return filepath.SkipDir
		}
		return w.Add(p)
	})
}

// watchCreated watches a folder that ev says was created, with everything
// below it; other events need nothing.
func watchCreated(w *fsnotify.Watcher, ev fsnotify.Event) error {
	if !ev.Has(fsnotify.Create) {
		return nil
	}
	if fi, err := os.Lstat(ev.Name); err != nil || !fi.IsDir() {
		return nil
	}
	return watchTree(w, ev.Name)
}
