package textpl

import (
	"context"
	"io/fs"
	"testing"
	"time"
)

// fuzzExpand checks what holds for any input: no panic, the map stays in
// the source, every problem is in the source, and unchanged output is the
// source itself.
func fuzzExpand(t *testing.T, gen string, src []byte) {
	e := New(Options{BasePath: "/", Limits: Limits{Timeout: time.Second, MaxOutput: 1 << 16, MaxIterations: 1000}})
	env := &Env{Generator: gen, Site: map[string]any{"a": "b"}, Page: map[string]any{"title": "t"},
		ReadFile:  func(string) ([]byte, error) { return []byte("{% include x %}"), nil },
		Shortcode: func(string) ([]byte, error) { return nil, fs.ErrNotExist }}
	r := e.Expand(context.Background(), src, nil, env)
	for _, p := range r.Problems {
		if p.Off < 0 || p.Off > len(src) {
			t.Fatalf("problem at %d of %d: %s", p.Off, len(src), p.Msg)
		}
	}
	if !r.Changed {
		if string(r.Body) != string(src) {
			t.Fatalf("unchanged body differs")
		}
		return
	}
	for off := 0; off <= len(r.Body); off += max(1, len(r.Body)/64) {
		if s := r.Map.Source(off); s < 0 || s > len(src) {
			t.Fatalf("offset %d maps to %d of %d", off, s, len(src))
		}
	}
}

func FuzzLiquid(f *testing.F) {
	for _, s := range []string{"{{ site.a }}", "{% raw %}{{ x }}{% endraw %}", "{% for i in (1..3) %}{{ i }}{% endfor %}",
		"{% highlight go %}\nx\n{% endhighlight %}", "{% include x %}", "{% capture c %}{{ c }}{% endcapture %}", "{%- if a -%} b {%- endif -%}",
		"{% image \"a.png\", \"b\" %}", "{{ '/x' | url }}", "{{< x >}}", "{% if %}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { fuzzExpand(t, Jekyll, []byte(s)) })
}

func FuzzShortcodes(f *testing.F) {
	for _, s := range []string{"{{< figure src=\"a.png\" caption=\"c\" >}}", "{{< details summary=\"s\" >}}x{{< /details >}}",
		"{{% highlight go %}}x{{% /highlight %}}", "{{</* x */>}}", "{{< youtube abc >}}", "{{< x user=\"a\" id=\"1\" >}}",
		"{{< a >}}{{< b >}}{{< /a >}}", "{{< /a >}}", "{{< a \"unclosed >}}", "{{< param a >}}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { fuzzExpand(t, Hugo, []byte(s)) })
}
