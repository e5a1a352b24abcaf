package posts

import (
	"bytes"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

var fuzzSeeds = []string{
	"+++\r\ntitle = \"A\r\ndate = 2026-01-01\r\n+++\r\nb\r\n",
	"---\ntitle: \"C:\\temp\\q\"\nsummary: 'it''s\n---\n",
	"---\ntitle: @x: y\n\tdate: 1\n---\n",
	"\ufeff\ufeff\n---\ntitle: A\n---\n",
	"---\ntitle: A\ndate: 2026-01-01\ntags: [a, b]\n---\nBody\n",
	"+++\ntitle = \"A\"\ndate = 2026-01-01T10:00:00Z\n+++\nBody\n",
	"---\ntitle: A\n",
	"---\n- x\n---\n",
	"---\ntitle: &a [*a]\n---\n",
	"---\na: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n---\n",
	"\ufeff---\r\ntitle: B\r\n---\r\n",
	"---\ntitle: A\ndate: 2023-01-29 18:30:22 2023 -0800\n---\n{{ x }} {% y %}\n",
	"---\ntitle: A\ndate: 2026-01-01\n---\n[a](javascript:x) ![b](../x.png) <div>x</div> [^1]\n\n[^1]: n\n",
	"+++\ntitle = [\n+++\n",
	"---\n\ttitle: tab\n---\n",
	"",
	// addresses, redirects and links (issue 11)
	"---\ntitle: A\ndate: 2026-01-01\npermalink: /:categories/:year/:title:output_ext\ncategories: [a/b, ..]\n---\n",
	"---\ntitle: A\npermalink: /../../etc/\nurl: /x/\n---\n",
	"+++\ntitle = \"A\"\npath = \"inside-rust/2020/07/27/x\"\naliases = [\"releases/1.88.0\", \"/.git/hooks/\", \"/archive/index.html/x/\"]\n+++\n",
	"+++\ntitle = \"A\"\npath = \"2020/13/45/bad-date\"\n+++\n",
	"---\nredirect_to: [https://example.com/a, /b]\n---\n",
	"---\nredirect: javascript:alert(1)\n---\n",
	"---\ntitle: A\ndate: 2026-01-01\nurl: \"%2e%2e/%2F/x\"\n---\n[b](b/index.md) [z](@/b/index.md#x) ![i](img/x.png) [up](../../../) [h](https://acme.github.io/blog/nope/)\n",
	"---\ntitle: A\ndate: 2026-01-01\nslug: ..\npermalink: /:slug/:slug\n---\n",
}

// hostileSeeds are the shapes of issue 10, small: deep TOML, YAML and
// Markdown nesting, many headings, wide tables, footnotes, link reference
// definitions, Liquid openings, many tags and aliases.
var hostileSeeds = []string{
	"+++\ntitle = \"A\"\ndate = 2026-01-01\na = " + strings.Repeat("[", 150) + strings.Repeat("]", 150) + "\n+++\n",
	"+++\ntitle = \"A\"\ndate = 2026-01-01\na = " + strings.Repeat("{b=", 120) + "1" + strings.Repeat("}", 120) + "\n+++\n",
	"+++\ntitle = \"A\"\n[a" + strings.Repeat(".a", 120) + "]\nb" + strings.Repeat(".b", 3) + " = [\"]\", '[', \"\"\"\n[[\"\"\"]\n+++\n",
	"+++\ntitle = \"A\" # [[[\nx = '''\n{{{'''\n[[t]]\ny.z = [[1, 2], [3]]\n+++\n",
	"---\ntitle: A\ndate: 2026-01-01\nx: " + strings.Repeat("- ", 120) + "y\n---\n",
	"---\ntitle: A\ndate: 2026-01-01\ntags: [" + strings.Repeat("t, u, ", 60) + "v]\naliases: [" + strings.Repeat("/a/, ", 101) + "/b/]\n---\n",
	"---\ntitle: A\ndate: 2026-01-01\n---\n" + strings.Repeat(">", 150) + " x\ny\n\n" + strings.Repeat("- ", 150) + "x\n",
	"---\ntitle: A\ndate: 2026-01-01\n---\n" + strings.Repeat("**", 120) + "x" + strings.Repeat("**", 120) + " " + strings.Repeat("![", 110) + "x" + strings.Repeat("](a.png)", 110) + "\n",
	"---\ntitle: A\ndate: 2026-01-01\n---\n" + strings.Repeat("## same\n\n## same-1\n\n", 50),
	"---\ntitle: A\ndate: 2026-01-01\n---\n|" + strings.Repeat("a|", 200) + "\n|" + strings.Repeat("-|", 200) + "\n" + strings.Repeat("|b|\n", 60),
	"---\ntitle: A\ndate: 2026-01-01\n---\nx[^a] [^b]\n\n" + strings.Repeat("[^a]: ", 120) + "n\n\n[^b]: m\n",
	"---\ntitle: A\ndate: 2026-01-01\n---\n" + strings.Repeat("[r]: /posts/nope/\n", 120) + "[r] [s]\n[s]: /x 'a\nb'\n",
	"---\ntitle: A\ndate: 2026-01-01\n---\n" + strings.Repeat("{{ ", 100) + "\n{% x %}" + strings.Repeat(" [a](/posts/nope/)", 50) + "\n",
}

// FuzzFrontMatter splits and parses front matter: never a panic, and every
// position is inside the file.
func FuzzFrontMatter(f *testing.F) {
	for _, s := range append(fuzzSeeds, hostileSeeds...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		fm, ok := splitFrontMatter(src)
		if !ok {
			return
		}
		if fm.bodyOffset > len(src) || fm.bodyOffset < 0 {
			t.Fatalf("body offset %d of %d", fm.bodyOffset, len(src))
		}
		lines := bytes.Count(src, []byte("\n")) + 1
		var fields []fmField
		var pe *posErr
		switch fm.format {
		case 'y':
			fields, pe = parseYAMLMapping(fm.text, fm.startLine-1, fm.endLine)
		case 't':
			fields, pe = parseTOMLMapping(fm.text, fm.startLine-1)
		default:
			return
		}
		if pe != nil {
			if pe.line < 0 || pe.line > lines || pe.col < 1 || pe.msg == "" || pe.code == "" {
				t.Fatalf("bad error %+v for %d lines", pe, lines)
			}
			return
		}
		for _, f := range fields {
			if f.line < 1 || f.line > lines {
				t.Fatalf("field %q at line %d of %d", f.key, f.line, lines)
			}
		}
	})
}

var dangerousAttr = regexp.MustCompile(`(?i)<[a-z][^>]*\s(href|src)\s*=\s*["']?\s*(javascript|vbscript|data:text|file):`)

// FuzzLoadFile loads a tree of one post (plus a neighbour it may link to):
// never a panic or an error, diagnostics sorted and inside the file, no post
// with an error in Site.Posts, and no dangerous URL in the HTML.
func FuzzLoadFile(f *testing.F) {
	for _, s := range append(fuzzSeeds, hostileSeeds...) {
		f.Add([]byte(s), false)
	}
	f.Add([]byte("---\ntitle: A\ndate: 2026-01-01\n---\n<a href=\"javascript:x\">y</a>\n"), true)
	for _, c := range hostileHTML {
		f.Add([]byte("---\ntitle: A\ndate: 2026-01-01\ntoc: true\n---\n## A\n\n"+c.html+"\n\n### B\n"), false)
	}
	f.Add([]byte("---\ntitle: A\ndate: 2026-01-01\n---\n```go {linenos=true, hl_lines=[2,\"4-6\"], title=\"a.go\"}\nx\n```\n"), false)
	f.Fuzz(func(t *testing.T, src []byte, unsafe bool) {
		cfg := testConfig
		if unsafe {
			cfg += "unsafe_html: true\n"
		}
		m := fstest.MapFS{
			ConfigFile:         {Data: []byte(cfg)},
			"posts/a.md":       {Data: src},
			"posts/b/index.md": {Data: []byte("---\ntitle: B\ndate: 2026-01-01\n---\n[a](../a.md)\n")},
			"posts/b/pic.png":  {Data: []byte("png")},
			"static/img/x.png": {Data: []byte("png")},
		}
		s, err := Load(t.Context(), m, Options{Now: testNow})
		if err != nil {
			t.Fatal(err)
		}
		lines := bytes.Count(src, []byte("\n")) + 1
		for i, d := range s.Diagnostics {
			if i > 0 {
				p := s.Diagnostics[i-1]
				if p.File > d.File || (p.File == d.File && (p.Line > d.Line || (p.Line == d.Line && p.Column > d.Column))) {
					t.Fatalf("not sorted: %v then %v", p, d)
				}
			}
			if d.File == "posts/a.md" && (d.Line < 0 || d.Line > lines || d.Column < 0) {
				t.Fatalf("position outside the file (%d lines): %v", lines, d)
			}
			if d.Code == CodeInternal {
				t.Fatalf("internal error: %v", d)
			}
		}
		for _, p := range s.Posts {
			if p.Path == "posts/a.md" && HasErrors(filterFile(s.Diagnostics, p.Path)) {
				t.Fatalf("post with errors in Site.Posts")
			}
			if dangerousAttr.MatchString(p.HTML()) {
				t.Fatalf("dangerous URL in HTML: %s", p.HTML())
			}
			if bad := runnable(p.HTML()+p.TOC, DefaultEmbeds); !unsafe && bad != "" {
				t.Fatalf("%s in the sanitised HTML: %s", bad, p.HTML())
			}
			// No shape multiplies its text (a table padded to its header's
			// width did): an empty heading, the most, is 50 times its "#\n".
			if len(p.HTML()) > 100*len(src)+1<<16 {
				t.Fatalf("%d bytes of HTML from %d bytes", len(p.HTML()), len(src))
			}
			if strings.ContainsRune(p.Summary, '<') && !strings.Contains(string(src), "<") {
				t.Fatalf("markup in summary %q", p.Summary)
			}
		}
	})
}

// FuzzAddresses loads posts whose own addresses, aliases and redirects,
// and the site's permalink and generator, come from outside: Load never
// fails or panics, every address and every file it makes is a safe site
// path, and no two posts, aliases or files share an output.
func FuzzAddresses(f *testing.F) {
	f.Add("/posts/:slug/", "", "permalink", "/custom/:title/", "/old/", "https://example.com/")
	f.Add("pretty", "jekyll", "url", "/hugo/x", "releases/1.88.0", "/posts/b/")
	f.Add("/:sections/:slug", "hugo", "path", "inside-rust/2020/07/27/x", "rel/alias", "")
	f.Add("/:year/:slug", "zola", "path", "/.git/x", "/archive/index.html/x/", "javascript:x")
	f.Add("/news/:year/:month/:day/:title/", "", "permalink", "/%2e%2e/x/", "/posts/b.html/x", "/a/../b")
	f.Fuzz(func(t *testing.T, pattern, generator, key, own, alias, redirect string) {
		if _, err := ParsePermalink(pattern); err != nil {
			pattern = DefaultPermalink
		}
		if !slices.Contains(Generators, generator) {
			generator = ""
		}
		if key != "permalink" && key != "url" && key != "path" {
			key = "url"
		}
		q := strconv.Quote
		m := fstest.MapFS{
			"posts/2026-01-01-a.md": {Data: []byte("+++\ntitle = \"A\"\n" + key + " = " + q(own) + "\naliases = [" + q(alias) + "]\n+++\n[b](sec/b/index.md)\n")},
			"posts/sec/b/index.md":  {Data: []byte("---\ntitle: B\ndate: 2026-01-02\naliases: [" + q(alias) + "]\n---\n![i](pic.png)\n")},
			"posts/sec/b/pic.png":   {Data: []byte("png")},
			"posts/sec/_index.md":   {Data: []byte("+++\ntitle = \"S\"\naliases = [" + q(alias) + "]\n+++\n")},
			"posts/2026-01-03-r.md": {Data: []byte("+++\nredirect_to = " + q(redirect) + "\n+++\n")},
			"static/archive/x.txt":  {Data: []byte("x")},
			"posts/2026-01-04-c.md": {Data: []byte("---\ntitle: C\n---\n![i](img/c.png)\n")},
			"posts/img/c.png":       {Data: []byte("png")},
		}
		cfg := Config{Title: "T", BaseURL: "https://acme.github.io/blog/", Permalink: pattern, Generator: generator}
		s, err := Load(t.Context(), m, Options{Now: testNow, Config: &cfg})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range s.Diagnostics {
			if d.Code == CodeInternal {
				t.Fatalf("internal error: %v", d)
			}
		}
		seen := map[string]string{}
		claim := func(file, by string) {
			if !fs.ValidPath(file) || file == "." {
				t.Fatalf("%s writes %q", by, file)
			}
			for _, seg := range strings.Split(file, "/") {
				if strings.EqualFold(seg, ".git") {
					t.Fatalf("%s writes under .git: %q", by, file)
				}
			}
			if other, ok := seen[file]; ok {
				t.Fatalf("%s and %s both write %q", other, by, file)
			}
			seen[file] = by
		}
		for _, p := range s.Posts {
			if why := CheckAddress("/" + p.Address); why != "" {
				t.Fatalf("post %s at %q: %s", p.Path, p.Address, why)
			}
			claim(OutputPath(p.Address), p.Path)
			for _, a := range p.Aliases {
				for _, af := range AliasFiles(a) {
					claim(af, "an alias of "+p.Path)
				}
			}
		}
		for _, sec := range s.Sections {
			claim(OutputPath(sec.Address), sec.Path)
		}
		for _, r := range s.Redirects {
			claim(OutputPath(r.Address), r.Path)
			if dangerousURL([]byte(r.Target)) {
				t.Fatalf("redirect to %q", r.Target)
			}
		}
		for _, a := range s.Assets {
			claim(a.Target, a.Source)
		}
		for f, by := range seen {
			for d := path.Dir(f); d != "."; d = path.Dir(d) {
				if other, ok := seen[d]; ok {
					t.Fatalf("%s writes %q under %s's file %q", by, f, other, d)
				}
			}
		}
	})
}

// FuzzAliasAddress: an alias from front matter is a safe site address, or
// refused, and its files never escape the site or lack a name.
func FuzzAliasAddress(f *testing.F) {
	for _, s := range []string{"/2019/01/old/", "old.html", "/../../etc/passwd", "a/./b", "//x", "https://e.x/y", "/a?b#c", "\\x", "/", "",
		"é/ü/", "a/../b", "releases/1.88.0", "/.git/hooks/", "%2e%2e/x", "/a%2Fb/c"} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, alias string, hugo bool) {
		rel := "/"
		if hugo {
			rel = "/blog/"
		}
		a, why := aliasAddress(alias, rel)
		if why != "" {
			if a != "" {
				t.Fatalf("aliasAddress(%q) = %q and %q", alias, a, why)
			}
			return
		}
		if !strings.HasPrefix(a, "/") || CheckAddress(a) != "" {
			t.Fatalf("aliasAddress(%q) = %q: %s", alias, a, CheckAddress(a))
		}
		files := AliasFiles(a)
		if len(files) == 0 {
			t.Fatalf("alias %q has no file", a)
		}
		for _, f := range files {
			if !fs.ValidPath(f) || strings.ContainsAny(f, "\\\x00") || slices.Contains(strings.Split(f, "/"), "..") || !strings.HasSuffix(f, ".html") && !strings.HasSuffix(f, ".htm") {
				t.Fatalf("alias %q writes %q", a, f)
			}
		}
	})
}

func filterFile(ds []Diagnostic, file string) []Diagnostic {
	var out []Diagnostic
	for _, d := range ds {
		if d.File == file {
			out = append(out, d)
		}
	}
	return out
}

// FuzzLoadConfig feeds publish.yaml from outside: LoadConfig never panics,
// every diagnostic points into the file, and a config without errors has
// the invariants the renderer relies on.
func FuzzLoadConfig(f *testing.F) {
	for _, s := range []string{
		testConfig,
		"title: A\nbase_url: https://acme.github.io/blog/\nper_page: 3\npopular: [a, b]\ntimezone: Europe/Berlin\n",
		"title: [unclosed\n",
		"a: &a [*a, *a]\nb: &b [*a, *a]\nc: [*b, *b, *b]\n",
		"title: A\nper_page: -1\ntimezone: Mars/Base\nbase_url: javascript:alert(1)\n",
		"\xef\xbb\xbftitle: BOM\r\nper_page: 2\r\n",
		"- a list\n- not a mapping\n",
		"title: A\nunknown_key: 1\nprevious: true\n",
		"title: A\npopular: " + strings.Repeat("[", 120) + strings.Repeat("]", 120) + "\n",
		"title: A\npopular:\n" + strings.Repeat("  - a\n", 200),
		"title: A\npages:\n  - pages/**/*.md\n  - content/*.md\n  - \"{a,b}/[x-z]?.md\"\n",
		"title: A\npages: [/abs.md, ../x.md, \"[\", \"" + strings.Repeat("**/", 6) + "*.md\"]\n",
		"title: A\nmenu:\n  - {title: About, url: pages/about.md}\n  - url: /archive/\n  - {name: X, url: \"javascript:alert(1)\"}\n  - [x]\n",
		"title: A\nmenu: []\nauthors: {}\npages: []\n",
		"title: A\nauthors:\n  andre: {name: André, url: https://a.example/}\n  bea: Bea\n  cy: {url: /x/, extra: [1]}\n  d: [x]\n",
		"title: A\nauthors: &a {x: *a}\nmenu: &m [*m]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		cfg, diags := LoadConfig(fstest.MapFS{ConfigFile: {Data: src}}, "acme/blog")
		// YAML breaks lines at \n, \r\n and a lone \r, as editors do, and
		// also at NEL, LS and PS (U+0085, U+2028, U+2029).
		lines := bytes.Count(bytes.ReplaceAll(src, []byte("\r\n"), []byte("\n")), []byte("\n")) +
			bytes.Count(bytes.ReplaceAll(src, []byte("\r\n"), nil), []byte("\r")) + 1 +
			bytes.Count(src, []byte("\u0085")) + bytes.Count(src, []byte("\u2028")) + bytes.Count(src, []byte("\u2029"))
		for _, d := range diags {
			if d.File != ConfigFile || d.Line < 0 || d.Line > lines || d.Code == "" || d.Message == "" {
				t.Fatalf("bad diagnostic %+v for %d lines", d, lines)
			}
		}
		if HasErrors(diags) {
			return
		}
		if cfg.Location == nil || cfg.PerPage < 1 || !strings.HasSuffix(cfg.BaseURL, "/") || cfg.Heading == "" {
			t.Fatalf("config without errors breaks an invariant: %+v", cfg)
		}
		if u := cfg.BaseURL; !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") && u != "/" {
			t.Fatalf("base_url %q is neither absolute http(s) nor /", u)
		}
		for _, g := range cfg.Pages {
			if pageGlobProblem(g) != "" {
				t.Fatalf("pages glob %q accepted: %s", g, pageGlobProblem(g))
			}
		}
		for _, it := range cfg.Menu {
			if it.URL == "" || menuURLProblem(it.URL) != "" || it.Line < 1 || it.Line > lines {
				t.Fatalf("menu entry accepted: %+v", it)
			}
		}
		for id, p := range cfg.Authors {
			if p.Name == "" || (p.URL != "" && authorURLProblem(p.URL) != "") {
				t.Fatalf("author %q accepted: %+v", id, p)
			}
		}
	})
}
