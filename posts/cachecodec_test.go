package posts

import (
	"reflect"
	"testing"
)

func TestRenderCodecRoundTrip(t *testing.T) {
	c := &cachedRender{
		Reads:   []cachedRead{{readSource, "posts/a.md", "x|y"}, {readBytes, "inc/a.html", "\x00\xff"}},
		HTMLSum: [32]byte{1, 2}, TextSum: [32]byte{3}, Images: []string{"a.png", "", "/x/b.jpg"},
		TOC: "<nav></nav>", Summary: "héllo", Image: "/blog/a.png", Words: 12, ReadingTime: 1, Math: true, Diagrams: true,
		Diags:  []Diagnostic{{File: "posts/a.md", Line: 3, Column: 4, Severity: SeverityWarning, Code: CodeImageAlt, Message: "m"}},
		Linked: []cachedLinked{{"posts/x.pdf", "posts/x.pdf", "x.pdf", 5, 6, false}},
		Checks: []cachedCheck{{"nowhere/", "/nowhere/", "", "", 7, 8, true, true}},
	}
	got, err := decodeRender(encodeRender(c))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Errorf("round trip:\n%+v\n%+v", got, c)
	}
	b := encodeRender(c)
	for i := range b { // every truncation is refused, never a panic
		if _, err := decodeRender(b[:i]); err == nil {
			t.Fatalf("a value cut at %d of %d decoded", i, len(b))
		}
	}
}

// FuzzRenderCodec: a damaged cache value never panics decoding, and what
// decodes encodes back to the same bytes.
func FuzzRenderCodec(f *testing.F) {
	f.Add(encodeRender(&cachedRender{TOC: "<p>x</p>", Images: []string{"a.png"}, Reads: []cachedRead{{"a", "b", "c"}}}))
	f.Add([]byte{1, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := decodeRender(b)
		if err != nil {
			return
		}
		if _, err := decodeRender(encodeRender(c)); err != nil {
			t.Fatalf("re-encoded value does not decode: %v", err)
		}
	})
}
