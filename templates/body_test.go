package templates

import (
	"html/template"
	"testing"
)

// TestLazyBodyForget: a post's body is made once however often its page
// asks for it, forgotten once the page is made (so a render of every page
// does not hold every post's body), and made again if asked after; an
// eager body is never forgotten.
func TestLazyBodyForget(t *testing.T) {
	made := 0
	l := &lazyBody{make: func() template.HTML { made++; return "<p>body</p>" }}
	for range 2 {
		if l.get() != "<p>body</p>" {
			t.Fatalf("body %q", l.get())
		}
	}
	if made != 1 {
		t.Fatalf("made %d times for two gets", made)
	}
	l.forget()
	if l.html != "" {
		t.Error("a forgotten body is still held")
	}
	if l.get() != "<p>body</p>" || made != 2 {
		t.Errorf("a forgotten body asked again: made %d times", made)
	}
	e := eagerBody("<p>eager</p>")
	e.forget()
	if e.get() != "<p>eager</p>" {
		t.Errorf("an eager body was forgotten: %q", e.get())
	}
}
