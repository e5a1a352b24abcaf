package posts

import (
	"context"
	"fmt"
	"strings"
	"testing"

	xhtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

const mathFront = "---\ntitle: Math\ndate: 2026-01-01\nmath: true\n---\n"

// mathPost loads one post with body (math: true in its front matter) and
// returns it with the diagnostics of its file.
func mathPost(t *testing.T, body string) (*Post, []Diagnostic) {
	t.Helper()
	s := load(t, mapFS(map[string]string{"posts/a.md": mathFront + body}), Options{})
	if len(s.Posts) != 1 {
		t.Fatalf("no post: %v", s.Diagnostics)
	}
	var ds []Diagnostic
	for _, d := range s.Diagnostics {
		if d.File == "posts/a.md" {
			ds = append(ds, d)
		}
	}
	return s.Posts[0], ds
}

// maths counts the <math> elements of h, and those displayed.
func maths(h string) (all, display int) {
	all = strings.Count(h, "<math")
	display = strings.Count(h, `<math display="block"`)
	return
}

func TestMathDelimiters(t *testing.T) {
	for _, tc := range []struct {
		name, body      string
		inline, display int
	}{
		{"dollar", "Energy $E = mc^2$ here.\n", 1, 0},
		{"dollars inline", "Energy $$E = mc^2$$ here.\n", 0, 1},
		{"paren", `Energy \(E = mc^2\) here.` + "\n", 1, 0},
		{"bracket inline", `Energy \[E = mc^2\] here.` + "\n", 0, 1},
		{"dollars block", "Before.\n\n$$\nE = mc^2\n$$\n\nAfter.\n", 0, 1},
		{"dollars block one line", "$$E = mc^2$$\n", 0, 1},
		{"bracket block", "\\[\n\\begin{aligned}\na &= b \\\\\n- c &= d\n\\end{aligned}\n\\]\n", 0, 1},
		{"block interrupts paragraph", "The formula\n$$\nx^2\n$$\nfollows.\n", 0, 1},
		{"block in list", "- item\n\n  $$\n  x^2\n  $$\n", 0, 1},
		{"block in quote", "> $$\n> x^2\n> $$\n", 0, 1},
		{"inline across lines", "A formula $a +\nb$ over two lines.\n", 1, 0},
		{"heading", "## The $\\alpha$ parameter\n", 1, 0},
		{"table", "| a | b |\n|---|---|\n| $x$ | $y$ |\n", 2, 0},
		{"link text", "[the $x$ link](https://example.com)\n", 1, 0},
		{"emphasis untouched inside", "$a_1 * b_2 * c_3$ and *$x$*\n", 2, 0},
		{"escaped dollar inside", `$a \$ b$` + "\n", 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, ds := mathPost(t, tc.body)
			all, display := maths(p.HTML())
			if all-display != tc.inline || display != tc.display {
				t.Errorf("%d inline and %d displayed formulas, want %d and %d:\n%s", all-display, display, tc.inline, tc.display, p.HTML())
			}
			if len(ds) > 0 {
				t.Errorf("diagnostics: %v", ds)
			}
			if !p.Math {
				t.Error("Post.Math is false")
			}
			checkMathParses(t, p.HTML())
		})
	}
}

// checkMathParses parses h as a browser would and checks that every
// <math> is a MathML element, none is nested in another, and no text of
// a formula leaks out as markup.
func checkMathParses(t *testing.T, h string) {
	t.Helper()
	nodes, err := xhtml.ParseFragment(strings.NewReader(h), &xhtml.Node{Type: xhtml.ElementNode, Data: "div", DataAtom: atom.Div})
	if err != nil {
		t.Fatal(err)
	}
	var walk func(n *xhtml.Node, inMath bool)
	walk = func(n *xhtml.Node, inMath bool) {
		if n.Type == xhtml.ElementNode && n.Data == "math" {
			if n.Namespace != "math" {
				t.Errorf("<math> parsed in namespace %q", n.Namespace)
			}
			if inMath {
				t.Error("<math> inside <math>")
			}
			inMath = true
		}
		if inMath && n.Type == xhtml.ElementNode && n.Namespace != "math" && n.Data != "span" {
			t.Errorf("<%s> (namespace %q) inside <math>: the parser broke out of MathML", n.Data, n.Namespace)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, inMath)
		}
	}
	for _, n := range nodes {
		walk(n, false)
	}
}

// A formula's TeX is its text: in the summary and the contents list.
func TestMathText(t *testing.T) {
	p, _ := mathPost(t, "## The $\\alpha$ value\n\nEnergy $E = mc^2$ is\n\n$$\na + b\n$$\n\nknown.\n")
	if p.Summary != `The \alpha value Energy E = mc^2 is a + b known.` {
		t.Errorf("summary %q", p.Summary)
	}
}

// Dollars in prose, and math inside code, stay as written.
func TestMathLeavesTextAlone(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"prices", "It costs $5 and $10.\n", "<p>It costs $5 and $10.</p>\n"},
		{"price range", "From $20,000 to $30,000.\n", "<p>From $20,000 to $30,000.</p>\n"},
		{"space after opener", "A $ sign and another $ sign.\n", "<p>A $ sign and another $ sign.</p>\n"},
		{"space before closer", "Pay $5 or $ 6.\n", "<p>Pay $5 or $ 6.</p>\n"},
		{"closer before digit", "$x$1 and done\n", "<p>$x$1 and done</p>\n"},
		{"escaped", `\$x\$ and \\(y\\)` + "\n", "<p>$x$ and \\(y\\)</p>\n"},
		{"code span", "Run `echo $HOME $PATH` and `$x$`.\n", "<p>Run <code>echo $HOME $PATH</code> and <code>$x$</code>.</p>\n"},
		{"formula would span code", "$a `b$` c\n", "<p>$a <code>b$</code> c</p>\n"},
		{"empty", "$$ $$\n", "<p>$$ $$</p>\n"},
		{"empty 2", "$$$$ and $$\n", "<p>$$$$ and $$</p>\n"},
		{"shell variables", "Set $GOPATH and $HOME.\n", "<p>Set $GOPATH and $HOME.</p>\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, ds := mathPost(t, tc.body)
			if p.HTML() != tc.want {
				t.Errorf("got  %q\nwant %q", p.HTML(), tc.want)
			}
			if len(ds) > 0 || p.Math {
				t.Errorf("diagnostics %v, Math %v", ds, p.Math)
			}
		})
	}
	p, _ := mathPost(t, "```\n$x$ and $$y$$\n\\[z\\]\n```\n\n    $$\n    indented code\n    $$\n\n<div>$x$</div>\n")
	if strings.Contains(p.HTML(), "<math") {
		t.Errorf("math in code or raw HTML was converted:\n%s", p.HTML())
	}
}

// Without math: true nothing changes, and math: false in a post wins
// over the site's math: true.
func TestMathOff(t *testing.T) {
	body := "It is $x$ and \\(y\\) and\n\n$$\nz\n$$\n"
	s := load(t, mapFS(map[string]string{
		"posts/a.md":   renderFront + body,
		"posts/b.md":   "---\ntitle: B\ndate: 2026-01-02\nmath: false\n---\n" + body,
		"posts/c.md":   "---\ntitle: C\ndate: 2026-01-03\n---\n" + body,
		"publish.yaml": "title: T\n",
	}), Options{})
	for _, p := range s.Posts {
		if strings.Contains(p.HTML(), "<math") || p.Math {
			t.Errorf("%s: math without math: true:\n%s", p.Path, p.HTML())
		}
	}
	s = load(t, mapFS(map[string]string{
		"posts/b.md":   "---\ntitle: B\ndate: 2026-01-02\nmath: false\n---\n" + body,
		"posts/c.md":   "---\ntitle: C\ndate: 2026-01-03\n---\n" + body,
		"publish.yaml": "title: T\nmath: true\n",
	}), Options{})
	for _, p := range s.Posts {
		if got := strings.Count(p.HTML(), "<math"); (p.Path == "posts/c.md") != (got == 3) || p.Path == "posts/b.md" && got != 0 {
			t.Errorf("%s: %d formulas:\n%s", p.Path, got, p.HTML())
		}
	}
	for _, d := range s.Diagnostics {
		if d.Code == CodeUnknownField || d.Code == CodeConfigInvalid {
			t.Errorf("math not known: %v", d)
		}
	}
}

func TestMathInvalidFormula(t *testing.T) {
	body := "Good $x$.\n\nBad $\\frac{1}{$ here and \\(\\foo{x}\\).\n\n$$\na +\n\\bar\n$$\n\nOpen\n$$\nx\n\nend.\n\n> \\[\n> y\n\nLast\n$$\nz\n"
	p, ds := mathPost(t, body)
	want := []struct {
		line, col int
		has       string
	}{
		{8, 15, `$\frac{1}{$ is not shown as math: Unexpected end of input`}, // at the end of the formula
		{8, 28, `\(\foo{x}\) is not shown as math: Unsupported function name: \foo`},
		{12, 5, `$$a + \bar$$ is not shown as math`},
		{16, 1, "$$ opens a formula that is not closed with $$ before a blank line"},
		{21, 3, `\[ opens a formula that is not closed with \]`},
		{25, 1, "$$ opens a formula that is not closed with $$"}, // at the end of the post
	}
	if len(ds) != len(want) {
		t.Fatalf("diagnostics %v, want %d", ds, len(want))
	}
	for i, w := range want {
		d := ds[i]
		if d.Line != w.line || d.Column != w.col || !strings.Contains(d.Message, w.has) || d.Code != CodeMath || d.Severity != SeverityWarning {
			t.Errorf("diagnostic %d: %v, want %d:%d %q", i, d, w.line, w.col, w.has)
		}
	}
	for _, s := range []string{`Bad $\frac{1}{$ here and \(\foo{x}\).`, "<p>$$a +\n\\bar$$</p>", "<p>$$x</p>"} {
		if !strings.Contains(p.HTML(), s) {
			t.Errorf("%q not shown as written in\n%s", s, p.HTML())
		}
	}
	if n, _ := maths(p.HTML()); n != 1 {
		t.Errorf("%d formulas, want the good one:\n%s", n, p.HTML())
	}
}

// A formula written to break out of MathML is escaped or refused.
func TestMathHostile(t *testing.T) {
	for _, body := range []string{
		`$\text{</math><script>alert(1)</script>}$`,
		`$\href{javascript:alert(1)}{x}$`,
		`$\text{<img src=x onerror=alert(1)>}$`,
		"$\\mathrm{\"><svg onload=alert(1)>}$",
		`$\color{red;background:url(//x)}{x}$`,
		`$\htmlStyle{color:red}{x}$ $\htmlClass{x}{y}$ $\htmlId{main}{z}$ $\htmlData{a=b}{w}$`,
	} {
		p, _ := mathPost(t, body+"\n")
		checkMathParses(t, p.HTML())
		nodes, err := xhtml.ParseFragment(strings.NewReader(p.HTML()), &xhtml.Node{Type: xhtml.ElementNode, Data: "div", DataAtom: atom.Div})
		if err != nil {
			t.Fatal(err)
		}
		var walk func(n *xhtml.Node)
		walk = func(n *xhtml.Node) {
			if n.Type == xhtml.ElementNode {
				if n.Data == "script" || n.Data == "img" || n.Data == "svg" || n.Data == "iframe" {
					t.Errorf("%s gave <%s>: %s", body, n.Data, p.HTML())
				}
				for _, a := range n.Attr {
					if strings.HasPrefix(a.Key, "on") || a.Key == "href" || a.Key == "src" || strings.Contains(a.Val, "url(") {
						t.Errorf("%s gave %s=%q: %s", body, a.Key, a.Val, p.HTML())
					}
				}
			}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c)
			}
		}
		for _, n := range nodes {
			walk(n)
		}
	}
}

// Math nested 10,000 deep is stopped with a warning at its line; the rest
// of the post is kept.
func TestMathDeepNesting(t *testing.T) {
	deep := strings.Repeat("{", 10000) + "x" + strings.Repeat("}", 10000)
	deepLeft := strings.Repeat(`\left(`, 10000) + "x" + strings.Repeat(`\right)`, 10000)
	body := "First $y$.\n\n$" + deep + "$\n\n$$\n" + deepLeft + "\n$$\n\nLast $z$.\n"
	p, ds := mathPost(t, body)
	if len(ds) != 2 || ds[0].Line != 8 || ds[1].Line != 11 || !strings.Contains(ds[0].Message, "nests more than 64 levels deep") {
		t.Fatalf("diagnostics %v", ds)
	}
	if n, _ := maths(p.HTML()); n != 2 || !strings.Contains(p.HTML(), "Last") {
		t.Errorf("%d formulas; the rest of the post:\n%.300s", n, p.HTML())
	}
}

// A paragraph of many unclosed openers is read in linear time: each
// search for a closing delimiter is remembered (mathState.noClose), so
// openers after the first cost no search, and no allocation: ten times
// the openers must not cost ten times the allocations (each search
// allocates). Not a timed test; see BenchmarkMathUnclosed for the time.
func TestMathManyOpeners(t *testing.T) {
	p, ds := mathPost(t, strings.Repeat("$x \\(y ", 20000)+"\n")
	if len(ds) != 0 || strings.Contains(p.HTML(), "<math") {
		t.Errorf("diagnostics %v", ds)
	}
	allocs := func(n int) float64 {
		fsys := mapFS(map[string]string{"posts/a.md": mathFront + strings.Repeat("$x \\(y ", n) + "\n"})
		return testing.AllocsPerRun(2, func() {
			if _, err := Load(context.Background(), fsys, Options{}); err != nil {
				t.Fatal(err)
			}
		})
	}
	if small, large := allocs(1000), allocs(10000); large > 2*small {
		t.Errorf("10,000 openers cost %.0f allocations, 1,000 cost %.0f: each opener searches again", large, small)
	}
}

// BenchmarkMathUnclosed: 10 times the openers should cost about 10 times
// the time (not 100).
func BenchmarkMathUnclosed(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		fsys := mapFS(map[string]string{"posts/a.md": mathFront + strings.Repeat("$x \\(y ", n) + "\n"})
		b.Run(fmt.Sprintf("openers=%d", 2*n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Load(context.Background(), fsys, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMathPost loads one post of 100 formulas (a typical mix of
// inline and displayed ones), math on, and reports the cost per formula;
// "off" is the same post with math off (the formulas stay text), so the
// difference is what the formulas cost. The first formula of each Load
// also pays for unpacking and compiling Temml (see texmath's
// BenchmarkFirstConvert).
func BenchmarkMathPost(b *testing.B) {
	var body strings.Builder
	for i := 0; i < 25; i++ {
		fmt.Fprintf(&body, "Let $x_%d = \\alpha^2 + \\beta$ and $f(x) = \\sqrt{x}$ where \\(n \\in \\mathbb{N}\\).\n\n$$\n\\sum_{k=1}^{%d} \\frac{1}{k^2} \\le \\frac{\\pi^2}{6}\n$$\n\n", i, i+1)
	}
	for _, on := range []bool{true, false} {
		name, front := "on", mathFront
		if !on {
			name, front = "off", renderFront
		}
		fsys := mapFS(map[string]string{"posts/a.md": front + body.String()})
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s, err := Load(context.Background(), fsys, Options{})
				if err != nil || len(s.Posts) != 1 || on != s.Posts[0].Math {
					b.Fatal(err, s.Diagnostics)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/100, "ns/formula")
		})
	}
}

// TeX braces are not template syntax: the template step before Markdown
// leaves formulas alone, as it leaves code.
func TestMathNotTemplated(t *testing.T) {
	p, ds := mathPost(t, "A {{ page.title }} and $\\frac{{a}}{b} + x^{{2}}$ and\n\n$$\n{{x}}_{{n}}\n$$\n")
	if len(ds) != 0 {
		t.Errorf("diagnostics %v", ds)
	}
	if n, _ := maths(p.HTML()); n != 2 || !strings.Contains(p.HTML(), "<p>A Math and <math>") {
		t.Errorf("formulas %d:\n%s", n, p.HTML())
	}
}
