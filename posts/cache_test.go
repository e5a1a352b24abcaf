package posts

import (
	"testing"
	"testing/fstest"
)

// TestReadFileRecorded: a file read through the walker's readFile (the
// hook for includes, images and shortcode templates) is recorded, and a
// cached render that read it is used only while its bytes are the same.
func TestReadFileRecorded(t *testing.T) {
	fsys := fstest.MapFS{"_includes/note.html": {Data: []byte("<p>note</p>")}}
	l := &loader{tree: &tree{fsys: fsys, files: map[string]int64{"_includes/note.html": 11}}}
	idx := &siteIndex{}
	w := &walker{l: l, idx: idx, reads: &Reads{}}
	b, err := w.readFile("_includes/note.html")
	if err != nil || string(b) != "<p>note</p>" {
		t.Fatalf("read %q, %v", b, err)
	}
	if _, err := w.readFile("_includes/missing.html"); err == nil {
		t.Fatal("a missing file was read")
	}
	reads := w.reads.list
	if len(reads) != 2 || reads[0].Kind != readBytes {
		t.Fatalf("recorded %+v", reads)
	}
	if !l.stillValid(idx, reads) {
		t.Fatal("unchanged files: the cached render is refused")
	}
	fsys["_includes/note.html"] = &fstest.MapFile{Data: []byte("<p>changed</p>")}
	if l.stillValid(idx, reads) {
		t.Error("an included file changed: the cached render is still used")
	}
	fsys["_includes/note.html"] = &fstest.MapFile{Data: []byte("<p>note</p>")}
	fsys["_includes/missing.html"] = &fstest.MapFile{Data: []byte("now here")}
	if l.stillValid(idx, reads) {
		t.Error("a missing included file appeared: the cached render is still used")
	}
	if l.stillValid(idx, []cachedRead{{Kind: "from-a-newer-version", Arg: "x", Answer: ""}}) {
		t.Error("a read of an unknown kind was trusted")
	}
}
