// Package texmath owns turning TeX math into MathML at build time. It runs
// Temml (temml/SOURCE.md: the pinned, vendored npm release) in goja, a
// JavaScript engine written in Go, so a build never starts node or a
// browser, and the pages it makes need no script to show formulas.
//
// Every formula is bounded before and while it runs: its size and its
// nesting are checked in Go first (Temml's parser recurses, and a formula
// nested 10,000 deep would take seconds or exhaust the stack), the engine's
// call depth is capped, and a formula that runs past its time is
// interrupted. Temml's own limits (macro expansions, sizes) are set, and
// trust is off (\href, \url, \includegraphics and \html… are refused). The
// MathML that comes back is checked against an allow-list of elements and
// attributes before anyone uses it.
package texmath

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/dop251/goja"
)

// Version is the vendored Temml release.
const Version = "0.13.5"

// temmlSHA256 is the SHA-256 of dist/temml.js in the npm package
// temml@Version, the file temml/temml.js.gz holds (see temml/SOURCE.md).
const temmlSHA256 = "95e57cf4135c02883bd7b8f2d96df342dc266c792a5022006ca6396c86618e85"

//go:embed temml/temml.js.gz
var temmlGz []byte

//go:embed temml/Temml-Local.css
var temmlCSS []byte

//go:embed temml/Temml.woff2
var temmlFont []byte

// Dir is the site folder of Temml's stylesheet and font, written by the
// theme when a page has math; StylesheetPath is the stylesheet in it.
const (
	Dir            = "assets/temml-" + Version
	StylesheetPath = Dir + "/Temml-Local.css"
	FontPath       = Dir + "/Temml.woff2" // named by the stylesheet, beside it
)

// Assets are the files a site with math needs beside its pages, by
// site-relative path: Temml's stylesheet (fonts and the fixes for each
// browser's MathML) and the small font it names (script capitals).
func Assets() map[string][]byte {
	return map[string][]byte{
		StylesheetPath: temmlCSS,
		FontPath:       temmlFont,
	}
}

// Limits bound each formula. Zero fields take the defaults.
type Limits struct {
	Time  time.Duration // running time of one formula; default DefaultTime
	Bytes int           // size of one formula's TeX; default DefaultBytes
	Depth int           // nesting of groups, \left…\right and environments; default DefaultDepth
}

// Defaults of Limits.
const (
	DefaultTime  = 2 * time.Second
	DefaultBytes = 16 << 10
	DefaultDepth = 64
)

// maxCallStack caps the engine's call depth. Temml needs about 20 frames
// per level of nesting: DefaultDepth fits with room to spare, and a
// runaway recursion stops as a JavaScript error, not a Go stack overflow.
const maxCallStack = 3000

// maxEngines caps the engines of one Converter: each holds Temml's code
// and heap (several MB), and a build's posts with math queue for them.
const maxEngines = 4

// maxOutput caps the MathML of one formula: macro expansion (bounded by
// Temml's maxExpand) can still make a short formula large.
const maxOutput = 1 << 20

// Error is a formula that was not converted, with what to tell its
// author. Offset is the byte offset in the formula of the part it is
// about, or -1.
type Error struct {
	Msg    string
	Offset int
}

func (e *Error) Error() string { return e.Msg }

// Converter turns TeX into MathML. It is safe for concurrent use: it keeps
// a small pool of engines (a goja runtime is not), at most GOMAXPROCS and
// at most maxEngines, made on first use, so a build whose posts have no
// math pays nothing.
// The zero value is not usable; call New.
type Converter struct {
	limits Limits
	slots  chan struct{} // one per engine that may run at once

	progOnce sync.Once
	prog     *goja.Program
	progErr  error

	mu    sync.Mutex
	idle  []*engine
	known map[cacheKey]result // formulas converted before: a blog repeats $x$ and $n$
}

// cacheKey and result remember a formula's conversion: its MathML, or the
// *Error Temml gave (a time-out is not remembered: it depends on load).
type cacheKey struct {
	tex     string
	display bool
}

type result struct {
	mathml string
	err    *Error
}

// maxKnown bounds the remembered formulas of one Converter.
const maxKnown = 4096

// New returns a Converter with limits (zero fields: the defaults). It
// does no work until the first Convert.
func New(limits Limits) *Converter {
	if limits.Time <= 0 {
		limits.Time = DefaultTime
	}
	if limits.Bytes <= 0 {
		limits.Bytes = DefaultBytes
	}
	if limits.Depth <= 0 {
		limits.Depth = DefaultDepth
	}
	return &Converter{limits: limits, slots: make(chan struct{}, min(runtime.GOMAXPROCS(0), maxEngines))}
}

// engine is one goja runtime with Temml loaded.
type engine struct {
	vm     *goja.Runtime
	render goja.Callable
}

// renderJS wraps Temml: it returns [mathml, "", -1], or for TeX Temml
// cannot read ["", message, position], the position in UTF-16 code units.
// Other exceptions (an interrupt, a stack overflow) are thrown to Go.
const renderJS = `(function (tex, display) {
  try {
    return [temml.renderToString(tex, {displayMode: display, throwOnError: true, trust: false,
      strict: false, xml: false, annotate: false, maxSize: [50, 600], maxExpand: 1000}), "", -1];
  } catch (e) {
    if (e && e.name === "ParseError") {
      var m = String(e.message);
      var cut = m.search(/ at (position \d+|end of input)/);
      if (cut >= 0) { m = m.slice(0, cut); }
      return ["", m.trim(), typeof e.position === "number" ? e.position : -1];
    }
    throw e;
  }
})`

// program compiles Temml and the wrapper once per Converter.
func (c *Converter) program() (*goja.Program, error) {
	c.progOnce.Do(func() {
		src, err := Source()
		if err != nil {
			c.progErr = err
			return
		}
		c.prog, c.progErr = goja.Compile("temml.js", string(src)+"\n;"+renderJS, true)
		if c.progErr != nil {
			c.progErr = fmt.Errorf("compile temml: %w", c.progErr)
		}
	})
	return c.prog, c.progErr
}

// Source is the vendored temml.js, unpacked and checked against the
// SHA-256 recorded for it.
func Source() ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(temmlGz))
	if err != nil {
		return nil, fmt.Errorf("unpack temml: %w", err)
	}
	src, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("unpack temml: %w", err)
	}
	if sum := sha256.Sum256(src); hex.EncodeToString(sum[:]) != temmlSHA256 {
		return nil, errors.New("unpack temml: the embedded file does not match its recorded SHA-256")
	}
	return src, nil
}

func (c *Converter) newEngine() (*engine, error) {
	prog, err := c.program()
	if err != nil {
		return nil, err
	}
	vm := goja.New()
	vm.SetMaxCallStackSize(maxCallStack)
	v, err := vm.RunProgram(prog)
	if err != nil {
		return nil, fmt.Errorf("load temml: %w", err)
	}
	render, ok := goja.AssertFunction(v)
	if !ok {
		return nil, errors.New("load temml: the wrapper is not a function")
	}
	return &engine{vm: vm, render: render}, nil
}

// Convert renders tex, a formula without its delimiters, as one MathML
// <math> element: inline, or with display a block. A formula that is too
// large, nests too deeply, runs too long or that Temml cannot read is an
// *Error; ctx ending stops a formula at once and returns ctx.Err(); other
// errors mean the vendored engine could not be loaded.
func (c *Converter) Convert(ctx context.Context, tex string, display bool) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if off, ok := withinDepth(tex, c.limits.Depth); !ok {
		return "", &Error{Msg: fmt.Sprintf("formula nests more than %d levels deep", c.limits.Depth), Offset: off}
	}
	if len(tex) > c.limits.Bytes {
		return "", &Error{Msg: fmt.Sprintf("formula is %d bytes long; the limit is %d", len(tex), c.limits.Bytes), Offset: -1}
	}
	if !utf8.ValidString(tex) {
		return "", &Error{Msg: "formula is not valid UTF-8", Offset: -1}
	}
	key := cacheKey{tex, display}
	c.mu.Lock()
	r, ok := c.known[key]
	c.mu.Unlock()
	if ok {
		if r.err != nil {
			return "", r.err
		}
		return r.mathml, nil
	}
	select {
	case c.slots <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-c.slots }()
	c.mu.Lock()
	var e *engine
	if n := len(c.idle); n > 0 {
		e, c.idle = c.idle[n-1], c.idle[:n-1]
	}
	c.mu.Unlock()
	if e == nil {
		var err error
		if e, err = c.newEngine(); err != nil {
			return "", err
		}
	}
	out, reusable, err := c.run(ctx, e, tex, display)
	c.mu.Lock()
	defer c.mu.Unlock()
	if reusable {
		c.idle = append(c.idle, e)
		// A reusable engine was not interrupted: the answer is Temml's own.
		var te *Error
		if c.known == nil {
			c.known = map[cacheKey]result{}
		}
		if len(c.known) < maxKnown && (err == nil || errors.As(err, &te)) {
			c.known[key] = result{mathml: out, err: te}
		}
	}
	return out, err
}

// errTimeout is the interrupt value of a formula that ran too long.
var errTimeout = errors.New("timeout")

// run converts one formula on e. reusable is false when e was interrupted
// or failed in a way that may leave it in a bad state: it is dropped.
func (c *Converter) run(ctx context.Context, e *engine, tex string, display bool) (out string, reusable bool, err error) {
	timer := time.AfterFunc(c.limits.Time, func() { e.vm.Interrupt(errTimeout) })
	stopCtx := context.AfterFunc(ctx, func() { e.vm.Interrupt(ctx.Err()) })
	v, jsErr := e.render(goja.Undefined(), e.vm.ToValue(tex), e.vm.ToValue(display))
	timerStopped, ctxStopped := timer.Stop(), stopCtx()
	reusable = timerStopped && ctxStopped && jsErr == nil
	if jsErr != nil {
		var intr *goja.InterruptedError
		var so *goja.StackOverflowError
		switch {
		case errors.As(jsErr, &intr) && intr.Value() == errTimeout:
			return "", false, &Error{Msg: fmt.Sprintf("formula took longer than %v to convert and was stopped", c.limits.Time), Offset: -1}
		case errors.As(jsErr, &intr):
			if err := ctx.Err(); err != nil {
				return "", false, err
			}
			return "", false, &Error{Msg: "formula was stopped", Offset: -1}
		case errors.As(jsErr, &so):
			return "", false, &Error{Msg: "formula nests too deeply to convert", Offset: -1}
		default:
			return "", false, &Error{Msg: "formula could not be converted: " + clip(jsErr.Error(), 200), Offset: -1}
		}
	}
	res, ok := v.Export().([]any)
	if !ok || len(res) != 3 {
		return "", false, &Error{Msg: "formula could not be converted: unexpected result", Offset: -1}
	}
	html, _ := res[0].(string)
	msg, _ := res[1].(string)
	if msg != "" {
		pos := -1
		switch p := res[2].(type) {
		case int64:
			pos = int(p)
		case float64:
			pos = int(p)
		}
		return "", reusable, &Error{Msg: clip(msg, 200), Offset: byteOffset(tex, pos)}
	}
	if len(html) > maxOutput {
		return "", reusable, &Error{Msg: fmt.Sprintf("formula makes %d bytes of MathML; the limit is %d", len(html), maxOutput), Offset: -1}
	}
	if err := checkMathML(html); err != nil {
		return "", reusable, &Error{Msg: "formula's MathML was refused: " + err.Error(), Offset: -1}
	}
	return html, reusable, nil
}

// withinDepth reports whether tex nests at most limit levels of braces,
// \left…\right and \begin…\end; when not, off is where it goes deeper.
// Escaped braces (\{ \}) do not count.
func withinDepth(tex string, limit int) (off int, ok bool) {
	depth := 0
	for i := 0; i < len(tex); i++ {
		start := i
		switch tex[i] {
		case '{':
			depth++
		case '}':
			depth--
		case '\\':
			j := i + 1
			for j < len(tex) && (tex[j] >= 'a' && tex[j] <= 'z' || tex[j] >= 'A' && tex[j] <= 'Z') {
				j++
			}
			switch tex[i+1 : j] {
			case "left", "begin":
				depth++
			case "right", "end":
				depth--
			case "":
				j++ // \{, \}, \\ and the like: one character, skipped
			}
			i = j - 1
		}
		if depth > limit {
			return start, false
		}
	}
	return -1, true
}

// byteOffset converts a position in UTF-16 code units, as JavaScript
// counts, to a byte offset in s; -1 stays -1.
func byteOffset(s string, units int) int {
	if units < 0 {
		return -1
	}
	n := 0
	for i, r := range s {
		if n >= units {
			return i
		}
		n += utf16.RuneLen(r)
	}
	return len(s)
}

func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
