package textpl

import (
	"context"
	"errors"
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

func expand(t *testing.T, gen, src string, env *Env) Result {
	t.Helper()
	if env == nil {
		env = &Env{}
	}
	env.Generator = gen
	var code []Span // `code spans`, as the caller would find them
	for _, m := range regexp.MustCompile("`[^`]*`").FindAllStringIndex(src, -1) {
		code = append(code, Span{m[0] + 1, m[1] - 1})
	}
	return New(Options{BasePath: "/blog/"}).Expand(context.Background(), []byte(src), code, env)
}

func TestLiquid(t *testing.T) {
	env := &Env{Site: map[string]any{"repository": "https://github.com/jekyll/jekyll"}, Page: map[string]any{"title": "T"},
		Link:    func(p string) (string, bool) { return "/blog/x/", p == "_posts/x.md" },
		PostURL: func(n string) (string, bool) { return "/blog/y/", n == "y" },
		ReadFile: func(n string) ([]byte, error) {
			switch n {
			case "_includes/note.html":
				return []byte("<b>{{ include.t }}</b>"), nil
			case "_includes/loop.html":
				return []byte("{% include loop.html %}"), nil
			}
			return nil, fs.ErrNotExist
		}}
	for _, c := range []struct{ name, src, want, problem string }{
		{"site", "See {{ site.repository }}/issues {{ page.title }}.", "See https://github.com/jekyll/jekyll/issues T.", ""},
		{"raw", "{% raw %}{{ x }}{% endraw %}", "{{ x }}", ""},
		{"raw in code", "`{% raw %}{{ layout }}{% endraw %}` {{ page.title }}", "`{{ layout }}` T", ""},
		{"highlight", "a\n{% highlight ruby linenos %}\nputs 1\n{% endhighlight %}\nb", "a\n\n```ruby {linenos=true}\nputs 1\n```\n\nb", ""},
		{"link", "[a]({% link _posts/x.md %}) [b]({% post_url y %})", "[a](/blog/x/) [b](/blog/y/)", ""},
		{"missing link", "[a]({% link _docs/h.md %})", "[a](_docs/h.md)", "names no post"},
		{"loop", "{% assign n = \"1|2\" | split: \"|\" %}{% for i in n %}[#{{ i }}]{% endfor %}", "[#1][#2]", ""},
		{"include", "{% include note.html t=\"hi\" %}", "<b>hi</b>", ""},
		{"recursive include", "a\n{% include loop.html %}\nb", "a\n{% include loop.html %}\nb", "nested more than"},
		{"huge range", "a\n{% for i in (1..1000000000) %}x{% endfor %}\nb", "a\n{% for i in (1..1000000000) %}x{% endfor %}\nb", "limit is"},
		{"1GB string", "a\n{% assign s = \"xxxxxxxxxxxxxxxx\" %}{% for i in (1..40) %}{% assign s = s | append: s %}{% endfor %}{{ s }}\nb", "", "limit is"},
		{"capture doubling", "{% assign s = \"x\" %}{% for i in (1..60) %}{% capture s %}{{ s }}{{ s }}{% endcapture %}{% endfor %}", "", "more than"},
		{"hugo in jekyll", "a {{< foo >}} b", "a {{< foo >}} b", "Hugo shortcode {{< foo >}} is not supported"},
		{"unknown tag", "{% foo %} x", "{% foo %} x", "Jekyll Liquid {% foo %} is not supported"},
		{"eleventy", `{% image "cat.jpg", "a cat" %} {{ "/about/" | url }}`, `<img src="cat.jpg" alt="a cat" loading="lazy"> /blog/about/`, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := expand(t, "jekyll", c.src, env)
			if c.want != "" && string(r.Body) != c.want {
				t.Errorf("got %q, want %q", r.Body, c.want)
			}
			var msgs []string
			for _, p := range r.Problems {
				msgs = append(msgs, p.Msg)
			}
			if c.problem == "" && len(msgs) > 0 || c.problem != "" && !strings.Contains(strings.Join(msgs, "|"), c.problem) {
				t.Errorf("problems %q, want %q", msgs, c.problem)
			}
		})
	}
}

func TestHugo(t *testing.T) {
	env := &Env{Site: map[string]any{"repo": "r"}, Link: func(p string) (string, bool) { return "/blog/x/", p == "x.md" },
		Shortcode: func(n string) ([]byte, error) {
			if n == "warn" {
				return []byte(`<div class="w">{{ .Get 0 }} {{ .Inner }}</div>`), nil
			}
			return nil, fs.ErrNotExist
		}}
	for _, c := range []struct{ name, src, want, problem string }{
		{"youtube", "{{< youtube dQw4w9WgXcQ >}}", `<iframe src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ" title="YouTube video" allowfullscreen></iframe>`, ""},
		{"ref", `[a]({{< ref "x.md#top" >}})`, "[a](/blog/x/#top)", ""},
		{"param", `{{< param repo >}}`, "r", ""},
		{"details", "{{< details summary=\"S\" >}}\n*x*\n{{< /details >}}", "<details><summary>S</summary>\n\n\n*x*\n\n\n</details>", ""},
		{"custom", `{{< warn "<i>a</i>" >}}in{{< /warn >}}`, `<div class="w">&lt;i&gt;a&lt;/i&gt; in</div>`, ""},
		{"unknown", "{{< foo >}}", "{{< foo >}}", "Hugo shortcode {{< foo >}} is not supported"},
		{"comment", "{{</* foo */>}}", "{{< foo >}}", ""},
		{"highlight", "{{< highlight go \"linenos=table,hl_lines=2\" >}}\nx\n{{< /highlight >}}", "\n```go {linenos=true, hl_lines=[\"2\"]}\nx\n```\n", ""},
		{"deep", strings.Repeat("{{< details >}}", 10000) + "x" + strings.Repeat("{{< /details >}}", 10000), "", "nested more than 50"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := expand(t, "hugo", c.src, env)
			if c.want != "" && string(r.Body) != c.want {
				t.Errorf("got %q, want %q", r.Body, c.want)
			}
			var msgs []string
			for _, p := range r.Problems {
				msgs = append(msgs, p.Msg)
			}
			if c.problem == "" && len(msgs) > 0 || c.problem != "" && !strings.Contains(strings.Join(msgs, "|"), c.problem) {
				t.Errorf("problems %q, want %q", msgs, c.problem)
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := New(Options{}).Expand(ctx, []byte("{% for i in (1..100) %}x{% endfor %}"), nil, &Env{Generator: "jekyll"})
	if r.Changed || len(r.Problems) == 0 {
		t.Errorf("ran on an ended context: %+v", r)
	}
	_ = errors.New
}
