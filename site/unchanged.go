package site

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/publishbot/publishbot/posts"
)

// Store is the cache a folder build remembers itself in: buildcache.Cache
// implements it (as it does posts.RenderCache).
type Store interface {
	Get(key [32]byte) ([]byte, bool)
	Put(key [32]byte, value []byte)
}

// Unchanged is what a build of a content folder into an output folder left
// behind, for the next build of the same folders to trust when none of its
// inputs changed: the `build` command's fast path, which then writes
// nothing.
type Unchanged struct {
	Diagnostics []posts.Diagnostic `json:"diagnostics"`
	Posts       int                `json:"posts"`       // posts shown
	Files       int                `json:"files"`       // files written
	BaseURL     string             `json:"base_url"`    // the configured base URL
	NextChange  time.Time          `json:"next_change"` // when a post goes live or expires; zero for never
	Content     [32]byte           `json:"content"`     // fingerprint of the content folder
	Output      [32]byte           `json:"output"`      // fingerprint of the output folder after the write
}

// unchangedKey names the record of builds of dir into out with opts.
func unchangedKey(dir, out string, opts Options) ([32]byte, error) {
	return recordKey("site-unchanged-1", dir, out, opts)
}

// recordKey names a record of kind of builds of dir into out with opts.
func recordKey(kind, dir, out string, opts Options) ([32]byte, error) {
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return [32]byte{}, err
	}
	absOut, err := filepath.Abs(out)
	if err != nil {
		return [32]byte{}, err
	}
	o := opts
	o.Now, o.Cache = time.Time{}, nil
	enc, err := json.Marshal(o)
	if err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256(fmt.Appendf(nil, "%s\x00%s\x00%s\x00%s", kind, absDir, absOut, enc)), nil
}

// fingerprint is a SHA-256 of the name, type, size and modification time
// of every file and folder under dir (nothing is read). skip, when not "",
// is a folder under dir left out (the output folder inside the content).
func fingerprint(dir, skip string) ([32]byte, error) {
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if skip != "" && p == skip {
			return filepath.SkipDir
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fmt.Fprintf(h, "%s\x00%d\x00%d\x00%d\n", rel, info.Mode(), info.Size(), info.ModTime().UnixNano())
		return nil
	})
	var sum [32]byte
	h.Sum(sum[:0])
	return sum, err
}

// CheckUnchanged returns the record of the last build of the content
// folder dir into the output folder out with opts when it may be trusted:
// no file or folder of the content changed since (by name, size and time),
// no other build wrote into out, and no post has gone live or expired. ok is false otherwise, and for any
// doubt (no record, a record that does not decode, a folder that cannot be
// read).
func CheckUnchanged(store Store, dir, out string, opts Options, now time.Time) (u *Unchanged, ok bool) {
	key, err := unchangedKey(dir, out, opts)
	if err != nil {
		return nil, false
	}
	data, found := store.Get(key)
	if !found {
		return nil, false
	}
	u = &Unchanged{}
	if json.Unmarshal(data, u) != nil {
		return nil, false
	}
	if !u.NextChange.IsZero() && !now.Before(u.NextChange) {
		return nil, false
	}
	content, err := fingerprint(dir, inside(dir, out))
	if err != nil || content != u.Content {
		return nil, false
	}
	output, err := outputFingerprint(out)
	if err != nil || output != u.Output {
		return nil, false
	}
	return u, true
}

// RememberUnchanged records a build of dir into out (its Output, after
// Write), so that CheckUnchanged trusts it until an input changes. content
// is the content folder's fingerprint taken before the build (see
// ContentFingerprint): a file changed during the build makes the next one
// build again.
func RememberUnchanged(store Store, dir, out string, opts Options, content [32]byte, b *Output, now time.Time) error {
	key, err := unchangedKey(dir, out, opts)
	if err != nil {
		return err
	}
	output, err := outputFingerprint(out)
	if err != nil {
		return fmt.Errorf("remember build: %w", err)
	}
	u := &Unchanged{Diagnostics: b.Site.Diagnostics, Posts: len(b.IndexPages), Files: len(b.Files) + len(b.Kept),
		BaseURL: b.Site.Config.BaseURL, Content: content, Output: output}
	for _, p := range b.Site.Posts {
		if t := p.NextChange(now); !t.IsZero() && (u.NextChange.IsZero() || t.Before(u.NextChange)) {
			u.NextChange = t
		}
	}
	data, err := json.Marshal(u)
	if err != nil {
		return fmt.Errorf("remember build: %w", err)
	}
	store.Put(key, data)
	return nil
}

// outputFingerprint is that of the output folder's manifest (Manifest),
// which every Write rewrites: another build into the folder is noticed.
// The files of the folder are not looked at: they are the build's output,
// not its input.
func outputFingerprint(out string) ([32]byte, error) {
	info, err := os.Lstat(filepath.Join(out, Manifest))
	if err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256(fmt.Appendf(nil, "%d\x00%d\x00%d", info.Mode(), info.Size(), info.ModTime().UnixNano())), nil
}

// ContentFingerprint is the fingerprint of the content folder dir for
// RememberUnchanged, leaving out the output folder out when it is inside.
func ContentFingerprint(dir, out string) ([32]byte, error) {
	return fingerprint(dir, inside(dir, out))
}

// inside is out when it lies inside dir (as DIR/public does), else "".
func inside(dir, out string) string {
	rel, err := filepath.Rel(dir, out)
	if err != nil || rel == "." || rel == ".." || filepath.IsAbs(rel) || len(rel) > 2 && rel[:3] == ".."+string(filepath.Separator) {
		return ""
	}
	return filepath.Join(dir, rel)
}
