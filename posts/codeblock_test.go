package posts

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestParseCodeOptions(t *testing.T) {
	cases := []struct {
		info     string
		want     codeOptions
		problems []string // "at message-part"
	}{
		{"go", codeOptions{lang: "go"}, nil},
		{"go {linenos=true, hl_lines=[2,\"4-6\"], linenostart=10}", codeOptions{lang: "go", lineNos: true, lineStart: 10, highlight: [][2]int{{2, 2}, {4, 6}}}, nil},
		{"go {linenos=table,hl_lines=[8,\"15-17\"],linenostart=199}", codeOptions{lang: "go", lineNos: true, lineStart: 199, highlight: [][2]int{{8, 8}, {15, 17}}}, nil},
		{`go title="main.go"`, codeOptions{lang: "go", title: "main.go"}, nil},
		{`go title="main.go" linenos=true`, codeOptions{lang: "go", title: "main.go", lineNos: true}, nil},
		{`{linenos=false}`, codeOptions{}, nil},
		{`go {hl_lines="2 4-5"}`, codeOptions{lang: "go", highlight: [][2]int{{2, 2}, {4, 5}}}, nil},
		{"rust,linenos,hl_lines=1 3-5,linenostart=7,name=main.rs", codeOptions{lang: "rust", lineNos: true, lineStart: 7, highlight: [][2]int{{1, 1}, {3, 5}}, title: "main.rs"}, nil},
		{"go {linenos=true, style=monokai}", codeOptions{lang: "go", lineNos: true}, []string{"18 code block option style is not supported"}},
		{"go {linenos=maybe}", codeOptions{lang: "go"}, []string{"4 code block option linenos takes true or false"}},
		{"go {hl_lines=[0]}", codeOptions{lang: "go"}, []string{"4 code block option hl_lines takes"}},
		{"go {hl_lines=[\"6-4\"]}", codeOptions{lang: "go"}, []string{"4 code block option hl_lines takes"}},
		{"go {linenos", codeOptions{lang: "go"}, []string{"3 code block options {linenos could not be read"}},
		{"go linenos", codeOptions{lang: "go"}, []string{"3 code block options linenos could not be read"}},
		{"rust,ignore", codeOptions{lang: "rust"}, []string{"5 code block option ignore is not supported"}},
		{"go {a=" + strings.Repeat("[", 2000) + "}", codeOptions{lang: "go"}, []string{"3 code block options longer than 1000 bytes are ignored"}},
	}
	for _, c := range cases {
		got, problems := parseCodeOptions([]byte(c.info))
		if got.lang != c.want.lang || got.lineNos != c.want.lineNos || got.lineStart != c.want.lineStart ||
			got.title != c.want.title || !slices.Equal(got.highlight, c.want.highlight) {
			t.Errorf("%q: %+v, want %+v", c.info, got, c.want)
		}
		if len(problems) != len(c.problems) {
			t.Errorf("%q: problems %v, want %v", c.info, problems, c.problems)
			continue
		}
		for i, p := range problems {
			at, msg, _ := strings.Cut(c.problems[i], " ")
			if fmt.Sprint(p.at) != at || !strings.HasPrefix(p.msg, msg) {
				t.Errorf("%q: problem %d %q, want at %s %q", c.info, p.at, p.msg, at, msg)
			}
		}
	}
}

// TestCodeBlockOptions renders the options: line numbers from linenostart,
// highlighted lines counted from the block's first line, the file name as
// a caption; an unknown option is a warning at its place in the fence.
func TestCodeBlockOptions(t *testing.T) {
	body := "```go {linenos=true, hl_lines=[2], linenostart=10, foo=1}\n" + // line 5
		"a := 1\nb := 2\nc := 3\n```\n\n" +
		"```go title=\"main.go\"\npackage main\n```\n\n" +
		"```text {hl_lines=[1]}\nplain\n```\n\n" +
		"```\nno language\n```\n"
	s := load(t, mapFS(map[string]string{"posts/a.md": renderFront + body}), Options{})
	if got := diagKeys(s.Diagnostics); !slices.Equal(got, []string{"posts/a.md:5:52 code-option"}) {
		t.Errorf("diagnostics %q", got)
	}
	if !strings.Contains(s.Diagnostics[0].Message, "code block option foo is not supported") {
		t.Errorf("message %q", s.Diagnostics[0].Message)
	}
	h := s.Posts[0].HTML()
	for _, want := range []string{
		`<pre class="chroma" tabindex="0" role="group" aria-label="Go code"><code><span class="line"><span class="ln">10</span>`,
		`<span class="line hl"><span class="ln">11</span><span class="cl"><span class="nx">b</span>`,
		`<span class="line"><span class="ln">12</span>`,
		"<figure class=\"code-block\"><figcaption>main.go</figcaption>\n<pre class=\"chroma\" tabindex=\"0\" role=\"group\" aria-label=\"main.go\"><code>",
		`</code></pre></figure>`,
		`<pre class="chroma" tabindex="0" role="group" aria-label="plaintext code"><code><span class="line hl"><span class="cl">plain`,
		`<pre tabindex="0" role="group" aria-label="Code"><code>no language`,
	} {
		if !strings.Contains(h, want) {
			t.Errorf("lacks %s in:\n%s", want, h)
		}
	}
	if strings.Count(h, `class="line hl"`) != 2 || strings.Count(h, `class="ln"`) != 3 {
		t.Errorf("wrong lines numbered or highlighted:\n%s", h)
	}
}

// FuzzCodeOptions reads fence info strings from outside: no panic, every
// problem inside the string.
func FuzzCodeOptions(f *testing.F) {
	for _, s := range []string{"go {linenos=true, hl_lines=[2,\"4-6\"], linenostart=10}", `go title="main.go"`, "rust,linenos,hl_lines=1 3-5",
		"go {a={b={c=[1,[2,{d=3}]]}}}", "{.class #id x=y}", "go {hl_lines=[1e300]}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, info []byte) {
		o, problems := parseCodeOptions(info)
		for _, p := range problems {
			if p.at < 0 || p.at > len(info) || p.msg == "" {
				t.Fatalf("problem %+v outside %d bytes", p, len(info))
			}
		}
		for _, r := range o.highlight {
			if r[0] < 1 || r[1] < r[0] || r[1] > maxHighlightSpan {
				t.Fatalf("range %v", r)
			}
		}
		if o.lineStart < 0 || o.lineStart > maxHighlightSpan {
			t.Fatalf("linenostart %d", o.lineStart)
		}
	})
}

// TestTOC: toc in the site or the post lists the h2 and h3 headings, h3s
// nested under their h2, linking to the anchors the headings have.
func TestTOC(t *testing.T) {
	body := "Intro.\n\n### Before any h2\n\n## First *part*\n\n### A `detail`\n\n### Another\n\n#### Not listed\n\n## Second & last\n\n## First part\n"
	want := "<nav class=\"toc\" aria-label=\"Contents\">\n<p class=\"toc-title\" aria-hidden=\"true\">Contents</p>\n<ul>\n" +
		"<li><a href=\"#before-any-h2\">Before any h2</a></li>\n" +
		"<li><a href=\"#first-part\">First part</a>\n<ul>\n" +
		"<li><a href=\"#a-detail\">A detail</a></li>\n" +
		"<li><a href=\"#another\">Another</a></li>\n" +
		"</ul>\n</li>\n" +
		"<li><a href=\"#second-last\">Second &amp; last</a></li>\n" +
		"<li><a href=\"#first-part-1\">First part</a></li>\n" +
		"</ul>\n</nav>\n"
	cases := []struct {
		name, config, front string
		toc                 bool
	}{
		{"off", "", "", false},
		{"post", "", "toc: true\n", true},
		{"site", "toc: true\n", "", true},
		{"site on, post off", "toc: true\n", "toc: false\n", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := load(t, mapFS(map[string]string{ConfigFile: testConfig + c.config, "posts/a.md": "---\ntitle: A\ndate: 2026-01-01\n" + c.front + "---\n" + body}), Options{})
			if len(s.Diagnostics) != 0 {
				t.Fatalf("diagnostics: %v", s.Diagnostics)
			}
			p := s.Posts[0]
			if !c.toc {
				if p.TOC != "" {
					t.Errorf("a contents list nobody asked for:\n%s", p.TOC)
				}
				return
			}
			if p.TOC != want {
				t.Errorf("TOC:\n%s\nwant:\n%s", p.TOC, want)
			}
			for _, id := range []string{"before-any-h2", "first-part", "a-detail", "another", "second-last", "first-part-1"} {
				if !strings.Contains(p.HTML(), ` id="`+id+`"`) {
					t.Errorf("no heading has id %s", id)
				}
			}
		})
	}
	s := load(t, mapFS(map[string]string{"posts/a.md": "---\ntitle: A\ndate: 2026-01-01\ntoc: true\n---\nNo headings.\n\n#### Too deep\n"}), Options{})
	if s.Posts[0].TOC != "" {
		t.Errorf("a contents list of nothing: %q", s.Posts[0].TOC)
	}
	s = load(t, mapFS(map[string]string{"posts/a.md": "---\ntitle: A\ndate: 2026-01-01\ntoc: yes\n---\n## A\n"}), Options{})
	if got := diagKeys(s.Diagnostics); !slices.Equal(got, []string{"posts/a.md:4:6 invalid-field"}) {
		t.Errorf("toc: yes gave %q", got)
	}
	if _, diags := LoadConfig(mapFS(map[string]string{ConfigFile: testConfig + "toc: sometimes\n"}), ""); len(diags) != 1 || diags[0].Code != CodeConfigInvalid {
		t.Errorf("toc: sometimes in publish.yaml gave %v", diags)
	}
}
