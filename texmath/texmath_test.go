package texmath

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestConvert(t *testing.T) {
	c := New(Limits{})
	ctx := context.Background()
	out, err := c.Convert(ctx, `E = mc^2`, false)
	if err != nil {
		t.Fatal(err)
	}
	if want := `<math><mrow><mi>E</mi><mo>=</mo><mi>m</mi><msup><mi>c</mi><mn class="tml-sml-pad">2</mn></msup></mrow></math>`; out != want {
		t.Errorf("inline:\n got %s\nwant %s", out, want)
	}
	out, err = c.Convert(ctx, `\int_0^\infty e^{-x^2}\,dx`, true)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, `<math display="block"`) || !strings.Contains(out, "∫") {
		t.Errorf("display: %s", out)
	}
}

// A broad set of what blogs write converts, and passes checkMathML.
func TestConvertMany(t *testing.T) {
	c := New(Limits{})
	for _, tex := range []string{
		`\frac{a}{b} + \sqrt[3]{x^2+y^2}`, `\begin{pmatrix}a&b\\c&d\end{pmatrix}`,
		`\begin{aligned} a &= b + c \\ &= d \end{aligned}`, `\sum_{i=1}^n i = \frac{n(n+1)}{2}`,
		`\lim_{x\to 0}\frac{\sin x}{x} = 1`, `\mathbb{R}^n \times \mathcal{O}(n\log n)`,
		`\textcolor{red}{x} \color{blue} y`, `\left( \frac{1}{2} \right)`, `\overbrace{a+b}^{c} \underbrace{d}_{e}`,
		`\cancel{x} \bcancel{y} \sout{z}`, `\boxed{E}`, `\vec{v}\cdot\hat{n}`, `f'(x) = g''(x)`,
		`\operatorname{argmax}_x f(x)`, `\text{if } x > 0`, `\begin{cases} 1 & x>0 \\ 0 & \text{else}\end{cases}`,
		`\xrightarrow{f} \overset{!}{=} \stackrel{def}{=}`, `\binom{n}{k} \tbinom{n}{k}`, `\phantom{x}\hspace{1em}\rule{1em}{2pt}`,
		`\begin{array}{c|c} a & b \\ \hline c & d \end{array}`, `{}_1^2X_3^4 \sideset{_a^b}{_c^d}\sum`,
		`\def\R{\mathbb{R}} \R`, `x = y`,
	} {
		for _, display := range []bool{false, true} {
			if _, err := c.Convert(context.Background(), tex, display); err != nil {
				t.Errorf("%s (display %v): %v", tex, display, err)
			}
		}
	}
}

func TestConvertErrors(t *testing.T) {
	c := New(Limits{})
	for _, tc := range []struct {
		tex, msg string
		off      int
	}{
		{`\frac{1}{`, "Unexpected end of input", 9},
		{`x + \foo`, `Unsupported function name: \foo`, 4},
		{`é + \foo`, `Unsupported function name: \foo`, 5}, // a byte offset, not JavaScript's
		{`\href{javascript:alert(1)}{x}`, `\href`, 0},
		{`\url{https://example.com}`, `\url`, 0},
		{`\includegraphics{x.png}`, `\includegraphics`, 0},
		{`\def\a{\a}\a`, "Too many expansions", -1},
		{strings.Repeat("x", DefaultBytes+1), "the limit is", -1},
		{strings.Repeat("{", 10000) + "x" + strings.Repeat("}", 10000), "nests more than 64 levels", DefaultDepth},
		{strings.Repeat(`\left(`, 10000) + "x" + strings.Repeat(`\right)`, 10000), "nests more than 64 levels", 6 * DefaultDepth},
		{strings.Repeat(`\begin{matrix}`, 100) + "x" + strings.Repeat(`\end{matrix}`, 100), "nests more than 64 levels", -2},
	} {
		_, err := c.Convert(context.Background(), tc.tex, false)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%.40s: error %v, want an *Error", tc.tex, err)
			continue
		}
		if !strings.Contains(e.Msg, tc.msg) {
			t.Errorf("%.40s: message %q, want %q in it", tc.tex, e.Msg, tc.msg)
		}
		if tc.off != -2 && e.Offset != tc.off {
			t.Errorf("%.40s: offset %d, want %d", tc.tex, e.Offset, tc.off)
		}
	}
}

// Nesting within the limit converts; 64 levels of \frac is deeper than
// any formula a blog writes.
func TestDepthWithinLimit(t *testing.T) {
	c := New(Limits{Time: time.Minute}) // about depth, not time: -race on a busy machine is slow
	tex := strings.Repeat(`\frac{1}{`, DefaultDepth-1) + "x" + strings.Repeat("}", DefaultDepth-1)
	if _, err := c.Convert(context.Background(), tex, true); err != nil {
		t.Fatal(err)
	}
	if _, ok := withinDepth(`\{\{\{\{`, 2); !ok {
		t.Error(`escaped braces counted as nesting`)
	}
}

// Nesting the Go check does not see (macros expand into groups) stops at
// the engine's call depth or its time, not by crashing the process.
func TestRunawayStopped(t *testing.T) {
	c := New(Limits{Time: 300 * time.Millisecond})
	_, err := c.Convert(context.Background(), `\def\a#1{{\a{#1}}}\a{x}`, false)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v, want an *Error", err)
	}
	// The pool still works after a dropped engine.
	if _, err := c.Convert(context.Background(), `x`, false); err != nil {
		t.Fatal(err)
	}
}

func TestTimeout(t *testing.T) {
	c := New(Limits{Time: time.Millisecond})
	// 16 KB of nested-but-allowed work cannot finish in a millisecond.
	tex := strings.Repeat(`\frac{\sqrt{x^2+1}}{\left(y\right)}+`, 400) + "x"
	_, err := c.Convert(context.Background(), tex, true)
	var e *Error
	if !errors.As(err, &e) || !strings.Contains(e.Msg, "longer than") {
		t.Fatalf("error %v, want a time-out", err)
	}
}

func TestContextStops(t *testing.T) {
	c := New(Limits{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Convert(ctx, `x`, false); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}

func TestConcurrent(t *testing.T) {
	c := New(Limits{})
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 5; j++ {
				out, err := c.Convert(context.Background(), `\alpha^2`, false)
				if err != nil || !strings.Contains(out, "α") {
					t.Errorf("%s %v", out, err)
				}
			}
		}()
	}
	wg.Wait()
}

func TestSourceIntegrity(t *testing.T) {
	src, err := Source()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src[len(src)-2000:]), "temml$1") || !strings.Contains(string(src), `version = "`+Version+`"`) {
		t.Errorf("the embedded temml.js is not Temml %s", Version)
	}
	for p, b := range Assets() {
		if !strings.HasPrefix(p, Dir+"/") || len(b) == 0 {
			t.Errorf("asset %s (%d bytes)", p, len(b))
		}
	}
}

func TestCheckMathML(t *testing.T) {
	for _, s := range []string{
		`<math><mi>x</mi></math><script>alert(1)</script>`,
		`<math><mi onclick="alert(1)">x</mi></math>`,
		`<math><mi href="javascript:alert(1)">x</mi></math>`,
		`<math><mi style="background:url(//x)">x</mi></math>`,
		`<math><svg></svg></math>`,
		`<span>x</span>`,
		`<math><mi>x</mi>`,
		`<math><!-- x --></math>`,
	} {
		if err := checkMathML(s); err == nil {
			t.Errorf("accepted %s", s)
		}
	}
	c := New(Limits{})
	for _, tex := range []string{`\tag{1} x = y`, `\begin{equation} x \label{eq} \end{equation}`, `\begin{align} x &= y \\ z &= w \end{align}`} {
		if _, err := c.Convert(context.Background(), tex, true); err != nil {
			t.Errorf("%s: %v", tex, err)
		}
	}
	if err := checkMathML(`<math display="block" class="tml-display" style="display:block math;"><mi>x</mi></math>`); err != nil {
		t.Error(err)
	}
}

func BenchmarkConvert(b *testing.B) {
	c := New(Limits{})
	ctx := context.Background()
	if _, err := c.Convert(ctx, "x", false); err != nil { // the engine, made once
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++ // a new formula each time: none is answered from the cache
		if _, err := c.Convert(ctx, `\int_0^\infty e^{-x^2}\,dx = \frac{\sqrt\pi}{2} + `+strconv.Itoa(i), true); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkConvertKnown is a formula converted before, answered from the
// Converter's memory.
func BenchmarkConvertKnown(b *testing.B) {
	c := New(Limits{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Convert(ctx, `x_1 + x_2`, false); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFirstConvert is the one-time cost of a build's first formula:
// unpacking and compiling Temml, and starting an engine.
func BenchmarkFirstConvert(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(Limits{}).Convert(context.Background(), "x", false); err != nil {
			b.Fatal(err)
		}
	}
}
