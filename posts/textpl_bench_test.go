package posts

import (
	"bytes"
	"testing"
	"testing/fstest"
)

// BenchmarkLoadNoTemplates is Load1000 with every "{{" and "{%" of the
// posts taken out: the cost of posts that use no template syntax, to
// compare with the commit before textpl.
func BenchmarkLoadNoTemplates(b *testing.B) {
	fsys := scaledFS(b, 1000)
	out := fstest.MapFS{}
	for name, f := range fsys {
		d := bytes.ReplaceAll(bytes.ReplaceAll(f.Data, []byte("{{"), []byte("( ")), []byte("{%"), []byte("( "))
		out[name] = &fstest.MapFile{Data: d}
	}
	benchLoad(b, out)
}
