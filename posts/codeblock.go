package posts

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
)

// codeOptions are the options of a fenced code block, read from its info
// string in any of the forms other generators write:
//
//	```go {linenos=true, hl_lines=[2,"4-6"], linenostart=10}   Hugo, goldmark
//	```go title="main.go"                                     Docusaurus, MkDocs
//	```rust,linenos,hl_lines=1 3-5,name=main.rs               Zola
//
// The zero value is a block with no options.
type codeOptions struct {
	lang      string   // the language, as written
	lineNos   bool     // number the lines
	lineStart int      // the first line's number; 0 means 1
	highlight [][2]int // lines to highlight, 1-based within the block, inclusive ranges
	title     string   // a caption: the file name
}

// numbered reports whether the block needs chroma's line options.
func (o *codeOptions) numbered() bool { return o.lineNos || len(o.highlight) > 0 }

// codeProblem is an option that was not understood, at a byte offset of
// the info string.
type codeProblem struct {
	at  int
	msg string
}

// Bounds on the options, so that a hostile info string costs little.
const (
	maxInfoLen       = 1000      // longer info strings are not read for options
	maxHighlightSpan = 1_000_000 // a line number past this is not highlighted
	maxHighlights    = 1000      // hl_lines entries read
)

// knownCodeOptions is said in the warning about an unknown one.
const knownCodeOptions = "linenos, hl_lines, linenostart and title"

// parseCodeOptions reads a fence's info string.
func parseCodeOptions(info []byte) (codeOptions, []codeProblem) {
	var o codeOptions
	var problems []codeProblem
	left := bytes.TrimLeft(info, " \t")
	lead := len(info) - len(left)
	s := string(bytes.TrimRight(left, " \t\r\n"))
	end := strings.IndexAny(s, " \t{")
	if end < 0 {
		end = len(s)
	}
	o.lang = s[:end]
	if i := strings.IndexByte(o.lang, ','); i >= 0 {
		// Zola: everything after the language's comma is options.
		o.lang = s[:i]
		return o, o.zolaOptions(s[i+1:], lead+i+1)
	}
	rest := strings.TrimLeft(s[end:], " \t")
	if rest == "" {
		return o, problems
	}
	restAt := lead + len(s) - len(rest)
	if len(info) > maxInfoLen {
		return o, append(problems, codeProblem{restAt, fmt.Sprintf("code block options longer than %d bytes are ignored", maxInfoLen)})
	}
	src, srcAt := rest, restAt // srcAt: where src starts in info
	if !strings.HasPrefix(src, "{") {
		src = "{" + src + "}"
		srcAt-- // the added brace
	}
	attrs, ok := parser.ParseAttributes(text.NewReader([]byte(src)))
	if !ok {
		return o, append(problems, codeProblem{restAt, "code block options " + clip(rest, 60) + ` could not be read: write them as {linenos=true, hl_lines=[2,"4-6"], linenostart=10} or title="main.go"`})
	}
	from := 0
	for _, a := range attrs {
		name := string(a.Name)
		at := restAt // where "class" of ".class" and "id" of "#id" are
		if i := strings.Index(src[from:], name); i >= 0 {
			at = srcAt + from + i
			from += i + len(name)
		}
		if p := o.set(name, a.Value); p != "" {
			problems = append(problems, codeProblem{at, p})
		}
	}
	return o, problems
}

// set applies one option and says what is wrong with it ("" if nothing).
func (o *codeOptions) set(name string, v any) string {
	switch name {
	case "linenos":
		switch v := v.(type) {
		case bool:
			o.lineNos = v
			return ""
		case []byte:
			switch string(v) {
			case "true", "table", "inline":
				o.lineNos = true
				return ""
			case "false":
				o.lineNos = false
				return ""
			}
		}
		return "code block option linenos takes true or false"
	case "linenostart":
		if f, ok := v.(float64); ok && f >= 0 && f <= maxHighlightSpan && f == math.Trunc(f) {
			o.lineStart = int(f)
			return ""
		}
		return fmt.Sprintf("code block option linenostart takes a whole number from 0 to %d", maxHighlightSpan)
	case "hl_lines":
		var items []any
		switch v := v.(type) {
		case []any:
			items = v
		case float64:
			items = []any{v}
		case []byte:
			for _, f := range strings.Fields(string(v)) {
				items = append(items, []byte(f))
			}
		}
		o.highlight = o.highlight[:0]
		for i, it := range items {
			if i == maxHighlights {
				break
			}
			r, ok := lineRange(it)
			if !ok {
				return `code block option hl_lines takes line numbers and ranges, as [2, "4-6"]`
			}
			o.highlight = append(o.highlight, r)
		}
		return ""
	case "title", "name":
		if b, ok := v.([]byte); ok && len(bytes.TrimSpace(b)) > 0 {
			o.title = string(bytes.TrimSpace(b))
			return ""
		}
		return "code block option " + name + ` takes a file name, as title="main.go"`
	}
	return fmt.Sprintf("code block option %s is not supported and is ignored (publishbot knows %s)", clip(name, 30), knownCodeOptions)
}

// lineRange reads 2, "2" or "4-6".
func lineRange(v any) ([2]int, bool) {
	switch v := v.(type) {
	case float64:
		if v >= 1 && v <= maxHighlightSpan && v == math.Trunc(v) {
			return [2]int{int(v), int(v)}, true
		}
	case []byte:
		a, b, isRange := strings.Cut(strings.TrimSpace(string(v)), "-")
		lo, err1 := strconv.Atoi(strings.TrimSpace(a))
		hi, err2 := lo, error(nil)
		if isRange {
			hi, err2 = strconv.Atoi(strings.TrimSpace(b))
		}
		if err1 == nil && err2 == nil && lo >= 1 && hi >= lo && hi <= maxHighlightSpan {
			return [2]int{lo, hi}, true
		}
	}
	return [2]int{}, false
}

// zolaOptions reads Zola's comma-separated options (after the language
// and its comma; at is where they start in the info string).
func (o *codeOptions) zolaOptions(s string, at int) []codeProblem {
	var problems []codeProblem
	if len(s) > maxInfoLen {
		return []codeProblem{{at, fmt.Sprintf("code block options longer than %d bytes are ignored", maxInfoLen)}}
	}
	for _, part := range strings.Split(s, ",") {
		k, v, hasValue := strings.Cut(strings.TrimSpace(part), "=")
		var p string
		switch k = strings.TrimSpace(k); {
		case k == "":
		case k == "linenos" && !hasValue:
			o.lineNos = true
		case k == "hl_lines" || k == "name" || k == "title":
			p = o.set(k, []byte(strings.TrimSpace(v)))
		case k == "linenostart":
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
				p = o.set(k, float64(n))
			} else {
				p = o.set(k, nil)
			}
		default:
			p = o.set(k, nil)
		}
		if p != "" {
			problems = append(problems, codeProblem{at, p})
		}
		at += len(part) + 1
	}
	return problems
}
