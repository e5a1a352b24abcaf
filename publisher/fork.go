package publisher

import (
	"bytes"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/publishbot/publishbot/gitstore"
	"github.com/publishbot/publishbot/posts"
	"github.com/publishbot/publishbot/site"
)

// A preview is published on the blog's own origin (pr-preview/pr-N/ of the
// pages branch), so nothing a fork wrote may run in a reader's browser
// there. Its Markdown is rendered by publishbot, its raw HTML sanitised; the
// base branch's publish.yaml and templates are used; and of the files a
// fork adds or changes that a build copies as they are (static/ files, a
// post bundle's files), only those of an inert type are published: raster
// images, PDF, plain text and fonts, known by their extension and by their
// content both. This is an allow-list: a type not on it (HTML, SVG,
// JavaScript, CSS, XML, a file without an extension, ...) is left out.

// inertTypes maps each allowed extension to what its content must sniff as
// (net/http.DetectContentType).
var inertTypes = map[string]string{
	".png":   "image/png",
	".jpg":   "image/jpeg",
	".jpeg":  "image/jpeg",
	".gif":   "image/gif",
	".webp":  "image/webp",
	".avif":  "application/octet-stream", // not known to DetectContentType: see isAVIF
	".pdf":   "application/pdf",
	".txt":   "text/plain; charset=utf-8",
	".woff":  "font/woff",
	".woff2": "font/woff2",
	".ttf":   "font/ttf",
	".otf":   "font/otf",
}

// inertProblem says why the file name with content data may not be
// published from a fork; "" when it may. The reason quotes nothing of the
// name but a plain extension.
func inertProblem(name string, data []byte) string {
	ext := strings.ToLower(path.Ext(name))
	want, ok := inertTypes[ext]
	if !ok {
		kind := "files of this type"
		switch {
		case ext == "":
			kind = "files without an extension"
		case plainExt(ext):
			kind = ext + " files"
		}
		return "a fork's " + kind + " are not published (only images, PDF, plain text and fonts)"
	}
	got := http.DetectContentType(data)
	switch {
	case got != want:
		return fmt.Sprintf("its content is %s, not what %s says", strings.TrimSuffix(got, "; charset=utf-8"), ext)
	case ext == ".avif" && !isAVIF(data):
		return "its content is not an AVIF image"
	case ext == ".txt" && !utf8.Valid(data):
		return "its content is not UTF-8 text"
	case ext == ".txt" && bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n\f"), []byte("<")):
		// A browser that sniffs despite text/plain would see markup.
		return "its text starts like markup"
	}
	return ""
}

// plainExt: an extension of a few letters and digits, which a reason may
// quote as it is (reasons are shown in the pull request's comment; a file
// name is the fork's text).
func plainExt(ext string) bool {
	if len(ext) < 2 || len(ext) > 12 {
		return false
	}
	for _, c := range ext[1:] {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// isAVIF: an ISO media file (a "ftyp" box first) whose major or a
// compatible brand is AVIF's.
func isAVIF(data []byte) bool {
	if len(data) < 16 || string(data[4:8]) != "ftyp" {
		return false
	}
	size := int(uint32(data[0])<<24 | uint32(data[1])<<16 | uint32(data[2])<<8 | uint32(data[3]))
	if size < 16 || size > len(data) || size%4 != 0 {
		return false
	}
	for i := 8; i+4 <= size; i += 4 {
		if i == 12 {
			continue // the minor version
		}
		if b := string(data[i : i+4]); b == "avif" || b == "avis" {
			return true
		}
	}
	return false
}

// leaveOut takes out of a preview's files what the pull request may not
// publish there and lists it, with the pull request's changes to
// publish.yaml and templates/ (a preview uses the base branch's). For a
// fork, every file the build copied as it is from a file the pull request
// adds or changes (from diffBase to head) must be inert (inertProblem), or
// it is removed from out.Files; a changed file keeps the base branch's
// (base) version when there is one. The list is sorted by path.
func (jb *job) leaveOut(diffBase, head, base gitstore.Commit, out *site.Output) ([]LeftOut, error) {
	changes, err := jb.repo.Diff(diffBase.Hash, head.Hash, "")
	if err != nil {
		return nil, fmt.Errorf("diff the pull request: %w", err)
	}
	var left []LeftOut
	for p, st := range changes {
		switch {
		case st == gitstore.Removed:
		case p == posts.ConfigFile:
			left = append(left, LeftOut{Path: p, Reason: "previews use the base branch's publish.yaml"})
		case strings.HasPrefix(p, "templates/"):
			left = append(left, LeftOut{Path: p, Reason: "previews use the base branch's templates"})
		}
	}
	if jb.fork && out != nil && out.Site != nil && out.Files != nil {
		for _, a := range out.Site.Assets {
			st, ok := changes[a.Source]
			if !ok || st == gitstore.Removed {
				continue
			}
			data, ok := out.Files[a.Target]
			if !ok {
				// not shown (a draft's file), or kept from the last
				// preview: the same bytes, which passed this check then
				// (a file left out is never recorded, so never kept)
				continue
			}
			reason := inertProblem(a.Source, data)
			if reason == "" {
				continue
			}
			if src, err := fs.ReadFile(head.Tree, a.Source); err != nil || !bytes.Equal(src, data) {
				continue // a page publishbot made took the path
			}
			delete(out.Files, a.Target)
			delete(out.Keys, a.Target) // not recorded: made and checked again next time
			if st == gitstore.Changed {
				if own, err := fs.ReadFile(base.Tree, a.Source); err == nil {
					out.Files[a.Target] = own
					reason += "; the base branch's version is shown"
				}
			}
			left = append(left, LeftOut{Path: a.Source, Reason: reason})
		}
	}
	slices.SortFunc(left, func(a, b LeftOut) int { return strings.Compare(a.Path, b.Path) })
	if len(left) > 0 {
		jb.log.WithField("left_out", len(left)).Info("files of the pull request left out of its preview")
	}
	return left, nil
}
