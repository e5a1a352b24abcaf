package posts

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// The shapes of issue 10 (hostile input): posts made to crash the process,
// stall a build or multiply its output. Each must load into diagnostics,
// quickly (see BenchmarkHostile for the growth), without a crash.

const fmYAML = "---\ntitle: A\ndate: 2026-01-01\n---\n"
const fmTOML = "+++\ntitle = \"A\"\ndate = 2026-01-01\n"

// hostileCase is one post and the diagnostics it must give, as
// "line:col code" of posts/a.md, and whether it is published.
type hostileCase struct {
	name      string
	post      string
	want      []string
	published bool
	message   string // a part of the first diagnostic's message, when set
}

func runHostile(t *testing.T, cases []hostileCase, opts Options, config string) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := map[string]string{"posts/a.md": c.post}
			if config != "" {
				files[ConfigFile] = config
			}
			s := load(t, mapFS(files), opts)
			var got []string
			for _, d := range s.Diagnostics {
				if d.File == "posts/a.md" {
					got = append(got, fmt.Sprintf("%d:%d %s", d.Line, d.Column, d.Code))
				}
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("diagnostics:\n got %q\nwant %q\n%.600s", got, c.want, fmt.Sprint(s.Diagnostics))
			}
			if published := len(s.Posts) == 1; published != c.published {
				t.Errorf("published: %v, want %v", published, c.published)
			}
			if c.message != "" && !slices.ContainsFunc(s.Diagnostics, func(d Diagnostic) bool { return strings.Contains(d.Message, c.message) }) {
				t.Errorf("no message says %q: %.600s", c.message, fmt.Sprint(s.Diagnostics))
			}
		})
	}
}

// Point 1: recursion over front matter is bounded before a decoder sees
// it. The first two crashed the process with a stack overflow or took
// 1.5 GB.
func TestHostileFrontMatter(t *testing.T) {
	deep := func(open, mid, close string, n int) string {
		return strings.Repeat(open, n) + mid + strings.Repeat(close, n)
	}
	tags := func(n int) string {
		var b strings.Builder
		b.WriteString("---\ntitle: A\ndate: 2026-01-01\nx:\n")
		for i := range n {
			fmt.Fprintf(&b, "  - v%d\n", i)
		}
		return b.String() + "---\n"
	}
	runHostile(t, []hostileCase{
		{"TOML arrays 500,000 deep", fmTOML + "a = " + deep("[", "", "]", 500_000) + "\n+++\n",
			[]string{"4:105 front-matter-syntax"}, false, "nested more than 100 levels"},
		{"TOML arrays 1,000,000 deep (2 MB)", fmTOML + "a = " + deep("[", "", "]", 1_000_000) + "\n+++\n",
			[]string{"1:1 limit-exceeded"}, false, "front matter is 1.9 MiB; the limit is 1 MiB"},
		{"TOML inline tables 6,000 deep", fmTOML + "a = " + deep("{b=", "1", "}", 6000) + "\n+++\n",
			[]string{"4:305 front-matter-syntax"}, false, "nested more than 100 levels"},
		{"TOML arrays of inline tables", fmTOML + "a = " + deep("[{b=", "1", "}]", 3000) + "\n+++\n",
			[]string{"4:205 front-matter-syntax"}, false, ""},
		{"TOML dotted key 200 deep", fmTOML + "a" + strings.Repeat(".a", 200) + " = 1\n+++\n",
			[]string{"4:202 front-matter-syntax"}, false, ""},
		{"TOML table header 200 deep", fmTOML + "[a" + strings.Repeat(".a", 200) + "]\n+++\n",
			[]string{"4:201 front-matter-syntax"}, false, ""},
		{"TOML array-of-tables header and dotted keys add up", fmTOML + "[[a" + strings.Repeat(".a", 60) + "]]\n" + "b" + strings.Repeat(".b", 60) + " = 1\n+++\n",
			[]string{"5:78 front-matter-syntax"}, false, ""},
		{"TOML 100 deep is fine", fmTOML + "a = " + deep("[", "", "]", 100) + "\n+++\n",
			[]string{"4:1 unknown-field"}, true, ""},
		{"TOML brackets in strings and comments are text", fmTOML +
			"a = \"" + strings.Repeat("[", 300) + "\" # " + strings.Repeat("{", 300) + "\n" +
			"b = '" + strings.Repeat("[", 300) + "'\n" +
			"c = \"\"\"\n\\\"\"\" " + strings.Repeat("[", 300) + "\n\"\"\"\"\n" +
			"d = '''" + strings.Repeat("{", 300) + "'''\n" +
			"\"e.f\" = [\"]\", '[', \"\\\"[\"]\n+++\n",
			[]string{"4:1 unknown-field", "5:1 unknown-field", "6:1 unknown-field", "9:1 unknown-field", "10:1 unknown-field"}, true, ""},
		{"TOML of more than 10,000 values", fmTOML + "a = [" + strings.Repeat("1,", 10_001) + "]\n+++\n",
			[]string{"2:1 limit-exceeded"}, false, "too many values: 10008, and the limit is 10000"},
		{"YAML of more than 10,000 values is not an alias bomb", tags(10_001),
			[]string{"2:1 limit-exceeded"}, false, "too many values: 10008, and the limit is 10000"},
		{"YAML aliases expanding beyond 10,000 values are", "---\ntitle: A\ndate: 2026-01-01\n" + aliasBombYAML(5) + "---\n",
			[]string{"2:1 yaml-alias-bomb"}, false, "alias bomb"},
		{"YAML 10,000 values is fine", tags(9000),
			[]string{"4:1 unknown-field"}, true, ""},
		{"YAML nested too deep, at the line", "---\ntitle: A\ndate: 2026-01-01\nx:\n" + deep("- ", "", "", 150) + "y\n---\n",
			[]string{"5:201 front-matter-syntax"}, false, ""},
		{"front matter over 1 MiB", "---\ntitle: A\ndate: 2026-01-01\nsummary: " + strings.Repeat("x", 1<<20) + "\n---\n",
			[]string{"1:1 limit-exceeded"}, false, "front matter is 1.0 MiB; the limit is 1 MiB"},
		{"TOML over 1 MiB", fmTOML + "summary = \"" + strings.Repeat("x", 1<<20) + "\"\n+++\n",
			[]string{"1:1 limit-exceeded"}, false, ""},
	}, Options{}, "")
}

// FuzzTOMLDepth checks tomlTooDeep against the decoder: TOML it lets
// through decodes to values no deeper than maxDepth (plus the top-level
// key), so convTOML's recursion and BurntSushi/toml's are bounded.
func FuzzTOMLDepth(f *testing.F) {
	for _, s := range []string{
		"a = [[[1]]]", "a.b.c = {d.e = [{f = 1}]}", "[a.b]\nc.d = [[1], [2]]", "[[a.b]]\nc = 1\n[[a.b]]\nc = 2",
		"a = \"[[\" # [[\nb = '''\n[[[\n'''", "\"a.b\".c = 1", "a = { b = { c = { d = 1 } } }",
		"a = [\n  [1,\n   [2]],\n]", "x = \"\"\"\\\"\"\" [ \"\"\"",
	} {
		f.Add(s, 3)
	}
	f.Fuzz(func(t *testing.T, text string, limit int) {
		limit = min(max(limit, 1), 8)
		if tomlTooDeep([]byte(text), limit) >= 0 {
			return
		}
		// Decoding is safe here: the nesting is at most limit deep.
		fields, pe := parseTOMLMapping([]byte(text), 0)
		if pe != nil {
			return
		}
		for _, f := range fields {
			if d := valueDepth(&f.value); d > limit+1 {
				t.Fatalf("decoded %d deep, limit %d:\n%s", d, limit, text)
			}
		}
	})
}

// valueDepth is the nesting of v: 1 for a scalar.
func valueDepth(v *fmValue) int {
	d := 0
	for i := range v.list {
		d = max(d, valueDepth(&v.list[i]))
	}
	for i := range v.fields {
		d = max(d, valueDepth(&v.fields[i].value))
	}
	return d + 1
}

// Points 1 and 2: Markdown nesting is bounded where goldmark would build
// it, and tables and footnotes cannot multiply their text.
func TestHostileMarkdown(t *testing.T) {
	deep := func(open, mid, close string, n int) string {
		return strings.Repeat(open, n) + mid + strings.Repeat(close, n)
	}
	indented := func(n int) string {
		var b strings.Builder
		for i := range n {
			b.WriteString(strings.Repeat("  ", i) + "- x\n")
		}
		return b.String()
	}
	defs := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "x[^%d]\n\n[^%d]: note\n\n", i, i)
		}
		return b.String()
	}
	runHostile(t, []hostileCase{
		{"blockquote 200,000 deep", fmYAML + strings.Repeat(">", 200_000) + " x\n",
			[]string{"5:101 limit-exceeded"}, false, "nested more than 100 levels deep"},
		{"blockquote 100 deep is fine", fmYAML + strings.Repeat(">", 100) + " x\n", nil, true, ""},
		{"lists on one line", fmYAML + strings.Repeat("- ", 5000) + "x\n",
			[]string{"5:201 limit-exceeded"}, false, ""},
		{"lists by indentation", fmYAML + indented(150),
			[]string{"105:201 limit-exceeded"}, false, ""},
		{"blockquotes in lists", fmYAML + strings.Repeat("- > ", 80) + "x\n",
			[]string{"5:201 limit-exceeded"}, false, ""},
		{"footnotes in footnotes", fmYAML + "x[^a]\n\n" + strings.Repeat("[^a]: ", 5000) + "x\n",
			[]string{"7:601 limit-exceeded"}, false, ""},
		{"emphasis 1,000,000 deep", fmYAML + deep("**", "x", "**", 1_000_000) + "\n",
			[]string{"5:2000001 limit-exceeded"}, false, "emphasis, links and images are nested more than 100"},
		{"images in images", fmYAML + deep("![", "x", "](/i.png)", 300) + "\n",
			[]string{"5:601 limit-exceeded"}, false, ""},
		{"a table of 8,000 columns over short rows", fmYAML + "|" + strings.Repeat("a|", 8000) + "\n|" + strings.Repeat("-|", 8000) + "\n" + strings.Repeat("|b|\n", 8000),
			[]string{"5:1 limit-exceeded"}, false, "this table would be filled out to 64032004 cells from 64004 bytes"},
		{"a table of 200 columns written out is fine", fmYAML + "|" + strings.Repeat("a|", 200) + "\n|" + strings.Repeat("-|", 200) + "\n" + strings.Repeat("|"+strings.Repeat("b|", 200)+"\n", 200),
			nil, true, ""},
		{"1,001 footnotes", fmYAML + defs(1001),
			// The definitions left out read as links to "note".
			[]string{"4005:3 broken-link", "4007:1 limit-exceeded"}, false, "more than 1000 footnotes"},
		{"1,000 footnotes are fine", fmYAML + defs(1000), nil, true, ""},
		{"10,001 footnote references", fmYAML + "[^a]: note\n\n" + strings.Repeat("[^a] ", 10_001) + "\n",
			[]string{"7:50001 limit-exceeded"}, false, "10000 footnote references"},
		{"emphasis that never closes", fmYAML + strings.Repeat("*a_ ", 2000) + "\n",
			[]string{"5:2001 limit-exceeded"}, false, "more than 500 emphasis marks that may close in one paragraph"},
		{"500 emphasis marks are fine, and snake_case", fmYAML + strings.Repeat("*a_ ", 500) + "\n\n" + strings.Repeat("snake_case_name ", 3000) + strings.Repeat("a*b ", 400) + "*c*\n", nil, true, ""},
		{"link destinations that never close", fmYAML + strings.Repeat("[a](", 20_000) + "\n",
			[]string{"5:23 limit-exceeded"}, false, "links that do not work"},
		{"link titles that never close", fmYAML + strings.Repeat("[a](b (\n", 20_000),
			[]string{"10:3 limit-exceeded"}, false, "links that do not work"},
		{"a few links that do not work", fmYAML + strings.Repeat("a [b](c d e) [f](g 'h) ", 10) + "\n", nil, true, ""},
		{"20,000 links that work", fmYAML + strings.Repeat("[a](https://example.com/) ![b](https://example.com/b.png) ", 10_000) + "\n", nil, true, ""},
	}, Options{}, "")
}

// Point 2: the heading IDs of one text are found without a search per
// heading. Today's IDs are kept: "same", "same-1", ... skipping IDs taken.
func TestHeadingIDs(t *testing.T) {
	s := load(t, mapFS(map[string]string{"posts/a.md": fmYAML +
		"## Same\n\n## Same-1\n\n## same\n\n## Same\n\n## same-2\n\n## \n\n## ?\n\n## Same\n"}), Options{})
	if len(s.Posts) != 1 {
		t.Fatalf("%v", s.Diagnostics)
	}
	var ids []string
	for _, part := range strings.Split(s.Posts[0].HTML(), `<h2 id="`)[1:] {
		ids = append(ids, part[:strings.IndexByte(part, '"')])
	}
	want := []string{"same", "same-1", "same-2", "same-3", "same-2-1", "section", "section-1", "same-4"}
	if !slices.Equal(ids, want) {
		t.Errorf("ids %q, want %q", ids, want)
	}

	// 4,000 headings of one text: the search per heading allocated a
	// string for each ID it tried, 8 million in all.
	src := fmYAML + strings.Repeat("## same\n\n", 4000)
	if per := allocsPerLoad(t, src) / 4000; per > 100 {
		t.Errorf("%.0f allocations per heading: a search per heading?", per)
	}
}

// Point 2: the Liquid scan reads a line of 8,000 "{{ " a few times, not
// once per tag (it copied the rest of the line for each: 0.5 GB here).
func TestLiquidScanLinear(t *testing.T) {
	src := fmYAML + strings.Repeat("{{ ", 8000) + "\n"
	if per := bytesPerLoad(t, src) / float64(len(src)); per > 500 {
		t.Errorf("%.0f bytes allocated per byte of the post", per)
	}
	s := load(t, mapFS(map[string]string{"posts/a.md": fmYAML +
		"{{ a }} {% b %} {%} {{ c\n{{ " + strings.Repeat("é", 70) + " }}\n{{ x" + strings.Repeat(" ", 90) + "\n{{ y" + strings.Repeat("z", 60) + "\n{{ _a_ }}\n"}), Options{})
	var got []string
	for _, d := range s.Diagnostics {
		got = append(got, fmt.Sprintf("%d:%d %s", d.Line, d.Column, d.Message))
	}
	// {{ a }} and {{ _a_ }} are Liquid that runs (to nothing); the rest
	// is shown as written, each opening on its own.
	want := []string{
		"5:9 Jekyll Liquid {% b %} is not supported and is shown as written",
		"5:17 Jekyll Liquid {%} {{ c… is not supported and is shown as written: it has no closing %}",
		"5:21 Jekyll Liquid {{ c… is not supported and is shown as written: it has no closing }}",
		"6:1 Jekyll Liquid {{ " + strings.Repeat("é", 54) + "… is not supported and is shown as written: it could not be read",
		"7:1 Jekyll Liquid {{ x… is not supported and is shown as written: it has no closing }}",
		"8:1 Jekyll Liquid {{ y" + strings.Repeat("z", 53) + "… is not supported and is shown as written: it has no closing }}",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Point 2: columns on a long line are counted on from the last one.
func TestColumnsOnALongLine(t *testing.T) {
	line := strings.Repeat("é [x](/posts/nope/) ", 30) + "{{ a }} ![](/nope.png)"
	s := load(t, mapFS(map[string]string{"posts/a.md": fmYAML + line + "\n\nü {{ b }}\n"}), Options{})
	var got []string
	for _, d := range s.Diagnostics {
		got = append(got, fmt.Sprintf("%d:%d %s", d.Line, d.Column, d.Code))
	}
	var want []string
	for i := range 30 {
		want = append(want, fmt.Sprintf("5:%d broken-link", 7+20*i))
	}
	want = append(want, "5:601 liquid", "5:613 image-alt", "5:613 missing-image", "7:3 liquid")
	if !slices.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}

	// A link's destination is looked for in the link itself: a reference
	// link's is not in the paragraph, and the same text further on belongs
	// to another link (it was taken for both, and the second link's
	// position lost).
	s = load(t, mapFS(map[string]string{"posts/a.md": fmYAML + "See [a][r] and [b](/posts/nope/).\n\n[r]: /posts/nope/\n"}), Options{})
	got = nil
	for _, d := range s.Diagnostics {
		got = append(got, fmt.Sprintf("%d:%d %s", d.Line, d.Column, d.Code))
	}
	if want := []string{"5:6 broken-link", "5:20 broken-link"}; !slices.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// allocsPerLoad is the allocations of loading a tree of the one post src.
func allocsPerLoad(t *testing.T, src string) float64 {
	fsys := mapFS(map[string]string{"posts/a.md": src})
	return testing.AllocsPerRun(1, func() {
		if _, err := Load(context.Background(), fsys, Options{Now: testNow}); err != nil {
			t.Fatal(err)
		}
	})
}

// bytesPerLoad is the bytes allocated by loading a tree of the one post src.
func bytesPerLoad(t *testing.T, src string) float64 {
	fsys := mapFS(map[string]string{"posts/a.md": src})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := Load(context.Background(), fsys, Options{Now: testNow}); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	return float64(after.TotalAlloc - before.TotalAlloc)
}

// Point 9: a post's tags and aliases are limited; the operator sets the
// limits through Options, the content cannot.
func TestTagAndAliasLimits(t *testing.T) {
	list := func(field string, n int, format string) string {
		var b strings.Builder
		b.WriteString(field + ":\n")
		for i := range n {
			fmt.Fprintf(&b, "  - "+format+"\n", i)
		}
		return b.String()
	}
	post := func(fields ...string) string {
		return "---\ntitle: A\ndate: 2026-01-01\n" + strings.Join(fields, "") + "---\n"
	}
	cases := []hostileCase{
		{"101 tags", post(list("tags", 101, "t%d")), []string{"5:3 limit-exceeded"}, false,
			"this post has 101 tags; the limit is 100 tags per post"},
		{"100 tags", post(list("tags", 100, "t%d")), nil, true, ""},
		{"100 tags written twice", post(list("tags", 100, "t%d"), list("categories", 100, "T%d")), nil, true, ""},
		{"tags and categories together", post(list("tags", 60, "t%d"), list("categories", 60, "c%d")),
			[]string{"66:3 limit-exceeded"}, false, "120 tags"},
		{"9,990 tags", post(list("tags", 9990, "t%d")), []string{"5:3 limit-exceeded"}, false, "9990 tags"},
		{"101 aliases", post(list("aliases", 101, "/old/%d/")), []string{"5:3 limit-exceeded"}, false,
			"this post has 101 aliases; the limit is 100 aliases per post"},
		{"aliases and redirect_from together", post(list("aliases", 50, "/a/%d/"), list("redirect_from", 51, "/r/%d/")),
			[]string{"56:3 limit-exceeded"}, false, "101 aliases"},
		{"100 aliases", post(list("aliases", 100, "/old/%d/")), nil, true, ""},
	}
	t.Run("defaults", func(t *testing.T) { runHostile(t, cases, Options{}, "") })
	t.Run("publish.yaml cannot raise them", func(t *testing.T) {
		runHostile(t, cases[:1], Options{}, testConfig+"max_tags: 1000\nlimits: {tags: 1000}\n")
	})
	t.Run("the operator can", func(t *testing.T) {
		runHostile(t, []hostileCase{
			{"150 tags", post(list("tags", 150, "t%d")), nil, true, ""},
			{"150 aliases", post(list("aliases", 150, "/old/%d/")), nil, true, ""},
			{"201 tags", post(list("tags", 201, "t%d")), []string{"5:3 limit-exceeded"}, false, "the limit is 200 tags"},
		}, Options{Limits: Limits{MaxTags: 200, MaxAliases: 200}}, "")
	})
	s := load(t, mapFS(map[string]string{"posts/a.md": post(list("tags", 150, "t%d"))}), Options{Limits: Limits{MaxTags: 150}})
	if len(s.Posts) != 1 || len(s.Posts[0].Tags) != 150 {
		t.Errorf("tags not kept under a raised limit: %v", s.Diagnostics)
	}
}

// windowedLinkRefs finds the definitions goldmark finds, in long blocks
// too: the same HTML comes out, links resolved alike.
func TestWindowedLinkRefs(t *testing.T) {
	defs := func(from, to int, title func(i int) string) string {
		var b strings.Builder
		for i := from; i < to; i++ {
			fmt.Fprintf(&b, "[d%d]: /p/%d%s\n", i, i, title(i))
		}
		return b.String()
	}
	none := func(int) string { return "" }
	uses := "\n" + listOf(320, "[d%d] ") + "\n"
	for name, src := range map[string]string{
		"definitions, then text": defs(0, 250, none) + "some text\n[d3]: not a definition any more\n" + uses,
		"only definitions":       defs(0, 300, none) + uses,
		"titles across window ends": defs(0, 300, func(i int) string {
			if i%33 == 0 {
				return " \"a title\nover\nthree lines\""
			}
			return ""
		}) + uses,
		"a definition cut by a window's end": defs(0, 97, none) + "[long]: /long 'one\ntwo\nthree\nfour\nfive\nsix'\n" + defs(97, 400, none) + uses + "[long]\n",
		"text that starts like a definition": strings.Repeat("[x] is not one\n", 300) + uses,
		"a definition after text":            "text\n" + defs(0, 200, none) + uses,
	} {
		t.Run(name, func(t *testing.T) {
			html := func(transformers ...util.PrioritizedValue) string {
				p := parser.NewParser(parser.WithBlockParsers(parser.DefaultBlockParsers()...),
					parser.WithInlineParsers(parser.DefaultInlineParsers()...),
					parser.WithParagraphTransformers(transformers...))
				var b bytes.Buffer
				doc := p.Parse(text.NewReader([]byte(src)))
				if err := goldmark.DefaultRenderer().Render(&b, []byte(src), doc); err != nil {
					t.Fatal(err)
				}
				return b.String()
			}
			want := html(parser.DefaultParagraphTransformers()...)
			got := html(util.Prioritized(windowedLinkRefs{parser.LinkReferenceParagraphTransformer}, 100))
			if got != want {
				t.Errorf("windowed:\n%.2000s\ngoldmark:\n%.2000s", got, want)
			}
			if read := strings.Contains(want, `href="/p/199"`); read == (strings.Contains(name, "text that") || strings.Contains(name, "after text")) {
				t.Errorf("definitions read: %v\n%.500s", read, want)
			}
		})
	}
}
