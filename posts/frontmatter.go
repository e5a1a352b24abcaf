package posts

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	yaml "go.yaml.in/yaml/v3"
)

// frontMatter is the split of a post file into its front matter block and
// its Markdown body.
type frontMatter struct {
	format     byte   // 0: none, 'y': YAML (---), 't': TOML (+++)
	text       []byte // between the delimiter lines
	startLine  int    // file line of the first line of text (1-based)
	endLine    int    // file line of the closing delimiter
	bodyOffset int    // byte offset of the body in the file
	bodyLine   int    // file line where the body starts
}

var bom = []byte("\xef\xbb\xbf")

// splitFrontMatter finds the front matter of src. A file whose first line is
// not exactly "---" or "+++" has none. An opening line without its closing
// line is a front-matter-unclosed diagnostic (returned as ok=false).
func splitFrontMatter(src []byte) (fm frontMatter, ok bool) {
	off := 0
	if bytes.HasPrefix(src, bom) {
		off = len(bom)
	}
	first, next := lineAt(src, off)
	delim := string(bytes.TrimRight(first, " \t\r"))
	switch delim {
	case "---":
		fm.format = 'y'
	case "+++":
		fm.format = 't'
	default:
		return frontMatter{bodyOffset: off, bodyLine: 1}, true
	}
	fm.startLine = 2
	start := next
	line := 2
	for pos := next; pos < len(src); line++ {
		l, n := lineAt(src, pos)
		t := string(bytes.TrimRight(l, " \t\r"))
		if t == delim || (fm.format == 'y' && t == "...") {
			fm.text = src[start:pos]
			fm.endLine = line
			fm.bodyOffset = n
			fm.bodyLine = line + 1
			return fm, true
		}
		pos = n
	}
	return fm, false
}

// lineAt returns the line starting at off (without its "\n") and the offset
// of the next line.
func lineAt(src []byte, off int) ([]byte, int) {
	i := bytes.IndexByte(src[off:], '\n')
	if i < 0 {
		return src[off:], len(src)
	}
	return src[off : off+i], off + i + 1
}

type valueKind uint8

const (
	vNull valueKind = iota
	vScalar
	vList
	vMap
)

// fmValue is a front matter (or publish.yaml) value from either YAML or TOML,
// with its position in the file.
type fmValue struct {
	kind      valueKind
	s         string    // scalar text
	tag       string    // YAML tag ("!!str", "!!bool", ...) or TOML type name
	t         time.Time // TOML date-time
	hasTime   bool
	localTime bool // TOML local date or date-time: read in the site's time zone
	list      []fmValue
	fields    []fmField // vMap
	line, col int
}

// fmField is one key of a mapping, with the key's position.
type fmField struct {
	key       string
	line, col int
	value     fmValue
}

// aliasBudget bounds how many nodes YAML aliases may expand to: far more than
// any honest front matter, far less than an alias bomb.
const aliasBudget = 10000

// errAliasBomb reports YAML whose aliases expand too far or refer to themselves.
var errAliasBomb = errors.New("YAML aliases expand too far")

// yamlParserProblems are the messages of yaml.v3's parser (as opposed to its
// scanner) errors.
var yamlParserProblems = map[string]bool{
	"did not find expected ',' or ']'": true, "did not find expected ',' or '}'": true,
	"did not find expected '-' indicator": true, "did not find expected <document start>": true,
	"did not find expected <stream-start>": true, "did not find expected key": true,
	"did not find expected node content": true, "found duplicate %TAG directive": true,
	"found duplicate %YAML directive": true, "found incompatible YAML document": true,
	"found undefined tag handle": true,
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAMLMapping parses text as a YAML mapping. lineOff is added to the
// YAML's 1-based lines to give file lines. what names the block for messages.
// It returns the fields, or a diagnostic-ready error position and message.
func parseYAMLMapping(text []byte, lineOff int, lastLine int) ([]fmField, *posErr) {
	var doc yaml.Node
	if err := safeYAMLUnmarshal(text, &doc); err != nil {
		return nil, yamlSyntaxErr(err, text, lineOff, lastLine)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, nil // empty
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil, nil
	}
	if n := expandedSize(root); n == tooDeep {
		return nil, &posErr{line: lineOff + root.Line, col: root.Column, code: CodeFMSyntax,
			msg: "values are nested more than " + strconv.Itoa(maxDepth) + " levels deep"}
	} else if n < 0 {
		return nil, &posErr{line: lineOff + root.Line, col: root.Column, code: CodeAliasBomb,
			msg: "YAML aliases expand beyond " + strconv.Itoa(aliasBudget) + " values (an alias bomb, or an alias inside itself); write the values out"}
	}
	if root.Kind == yaml.AliasNode {
		root = root.Alias
	}
	if root.Kind != yaml.MappingNode {
		return nil, &posErr{line: lineOff + root.Line, col: root.Column, code: CodeFMSyntax,
			msg: "front matter must be a list of fields like \"title: Hello\""}
	}
	v := convYAML(root, lineOff)
	return v.fields, nil
}

// posErr is a problem at a file position, turned into a Diagnostic by the caller.
type posErr struct {
	line, col int
	code      string
	msg       string
}

func safeYAMLUnmarshal(text []byte, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: %v", r)
		}
	}()
	return yaml.Unmarshal(text, n)
}

func yamlSyntaxErr(err error, text []byte, lineOff, lastLine int) *posErr {
	msg := err.Error()
	line := lineOff // the opening delimiter line
	col := 1
	l := 1
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		l, _ = strconv.Atoi(m[1])
		msg = m[2]
		// yaml.v3 reports a parser error at the 0-based line where the
		// enclosing structure started, and a scanner error at a 1-based line.
		if yamlParserProblems[msg] {
			l++
		}
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	{
		line = lineOff + l
		if line > lastLine {
			line = lastLine
		}
		col = firstNonSpaceCol(text, l)
	}
	return &posErr{line: line, col: col, code: CodeFMSyntax, msg: "invalid YAML: " + msg}
}

// firstNonSpaceCol is the 1-based column of the first non-blank character of
// 1-based line l of text, or 1.
func firstNonSpaceCol(text []byte, l int) int {
	off := 0
	for i := 1; i < l; i++ {
		j := bytes.IndexByte(text[off:], '\n')
		if j < 0 {
			return 1
		}
		off += j + 1
	}
	line, _ := lineAt(text, off)
	for i, c := range line {
		if c != ' ' && c != '\t' {
			return i + 1
		}
	}
	return 1
}

// maxDepth bounds how deeply front matter values may nest.
const maxDepth = 100

// tooDeep is expandedSize's answer for values nested beyond maxDepth.
const tooDeep = -3

// expandedSize counts the nodes n stands for once aliases are expanded,
// or -1 when that passes aliasBudget or an alias contains itself, or
// tooDeep. It is linear in the size of the YAML: each node's size is
// computed once.
func expandedSize(root *yaml.Node) int {
	memo := map[*yaml.Node]int{}
	const inProgress = -2
	var size func(n *yaml.Node, depth int) int
	size = func(n *yaml.Node, depth int) int {
		if n == nil {
			return 0
		}
		if depth > maxDepth {
			return tooDeep
		}
		if v, ok := memo[n]; ok {
			if v == inProgress {
				return -1
			}
			return v
		}
		memo[n] = inProgress
		total := 1
		if n.Kind == yaml.AliasNode {
			s := size(n.Alias, depth+1)
			if s < 0 {
				return s
			}
			total += s
		}
		for _, c := range n.Content {
			s := size(c, depth+1)
			if s < 0 {
				return s
			}
			total += s
			if total > aliasBudget {
				return -1
			}
		}
		if total > aliasBudget {
			return -1
		}
		memo[n] = total
		return total
	}
	return size(root, 0)
}

// convYAML converts a node (already checked by expandedSize) to an fmValue.
func convYAML(n *yaml.Node, lineOff int) fmValue {
	pos := n
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	v := fmValue{line: lineOff + pos.Line, col: pos.Column, tag: n.Tag}
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			v.kind = vNull
			return v
		}
		v.kind = vScalar
		v.s = n.Value
	case yaml.SequenceNode:
		v.kind = vList
		for _, c := range n.Content {
			v.list = append(v.list, convYAML(c, lineOff))
		}
	case yaml.MappingNode:
		v.kind = vMap
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			for k.Kind == yaml.AliasNode && k.Alias != nil {
				k = k.Alias
			}
			key := k.Value
			if k.Kind != yaml.ScalarNode {
				key = "?"
			}
			v.fields = append(v.fields, fmField{key: key, line: lineOff + n.Content[i].Line,
				col: n.Content[i].Column, value: convYAML(n.Content[i+1], lineOff)})
		}
	default:
		v.kind = vNull
	}
	return v
}

// parseTOMLMapping parses TOML front matter. TOML has no per-key positions in
// BurntSushi/toml, so keys are found by scanning the lines for "key =".
func parseTOMLMapping(text []byte, lineOff int) (fields []fmField, pe *posErr) {
	defer func() {
		if r := recover(); r != nil {
			fields, pe = nil, &posErr{line: lineOff, col: 1, code: CodeFMSyntax, msg: fmt.Sprintf("invalid TOML: %v", r)}
		}
	}()
	var m map[string]any
	md, err := toml.Decode(string(text), &m)
	if err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			line, col := perr.Position.Line, perr.Position.Col
			if line < 1 {
				line, col = 0, 1
			}
			if col < 1 {
				col = 1
			}
			return nil, &posErr{line: lineOff + line, col: col, code: CodeFMSyntax, msg: "invalid TOML: " + perr.Message}
		}
		return nil, &posErr{line: lineOff, col: 1, code: CodeFMSyntax, msg: "invalid TOML: " + err.Error()}
	}
	keyPos := tomlKeyLines(text)
	// Keys in file order (md.Keys is in order of appearance); top level only.
	seen := map[string]bool{}
	for _, k := range md.Keys() {
		if len(k) != 1 || seen[k[0]] {
			continue
		}
		seen[k[0]] = true
		p := keyPos[k[0]]
		if p.line == 0 {
			p = tomlPos{line: 1, col: 1}
		}
		val := convTOML(m[k[0]], lineOff+p.line, p.valCol)
		fields = append(fields, fmField{key: k[0], line: lineOff + p.line, col: p.col, value: val})
	}
	return fields, nil
}

type tomlPos struct{ line, col, valCol int }

var tomlKeyRE = regexp.MustCompile(`^([ \t]*)("[^"]*"|'[^']*'|[A-Za-z0-9_-]+)[ \t]*=[ \t]*`)
var tomlTableRE = regexp.MustCompile(`^[ \t]*\[\[?[ \t]*("[^"]*"|'[^']*'|[A-Za-z0-9_-]+)`)

// tomlKeyLines finds the 1-based line and column of each top-level key
// (a "key = " line before any [table], or a [table] header).
func tomlKeyLines(text []byte) map[string]tomlPos {
	pos := map[string]tomlPos{}
	inTable := false
	for i, line := range strings.Split(string(text), "\n") {
		if m := tomlTableRE.FindStringSubmatchIndex(line); m != nil {
			inTable = true
			k := strings.Trim(line[m[2]:m[3]], `"'`)
			if _, ok := pos[k]; !ok {
				pos[k] = tomlPos{line: i + 1, col: m[2] + 1, valCol: m[2] + 1}
			}
			continue
		}
		if inTable {
			continue
		}
		if m := tomlKeyRE.FindStringSubmatchIndex(line); m != nil {
			k := strings.Trim(line[m[4]:m[5]], `"'`)
			if _, ok := pos[k]; !ok {
				pos[k] = tomlPos{line: i + 1, col: m[4] + 1, valCol: m[1] + 1}
			}
		}
	}
	return pos
}

func convTOML(x any, line, col int) fmValue {
	v := fmValue{line: line, col: col}
	switch x := x.(type) {
	case nil:
		v.kind = vNull
	case string:
		v.kind, v.s, v.tag = vScalar, x, "!!str"
	case bool:
		v.kind, v.s, v.tag = vScalar, strconv.FormatBool(x), "!!bool"
	case int64:
		v.kind, v.s, v.tag = vScalar, strconv.FormatInt(x, 10), "!!int"
	case float64:
		v.kind, v.s, v.tag = vScalar, strconv.FormatFloat(x, 'g', -1, 64), "!!float"
	case time.Time:
		v.kind, v.tag, v.t, v.hasTime = vScalar, "!!timestamp", x, true
		switch x.Location().String() {
		case "datetime-local", "date-local", "time-local":
			v.localTime = true
		}
		v.s = x.Format(time.RFC3339)
	case []any:
		v.kind = vList
		for _, e := range x {
			v.list = append(v.list, convTOML(e, line, col))
		}
	case []map[string]any:
		v.kind = vList
		for _, e := range x {
			v.list = append(v.list, convTOML(e, line, col))
		}
	case map[string]any:
		v.kind = vMap
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sortStrings(keys)
		for _, k := range keys {
			v.fields = append(v.fields, fmField{key: k, line: line, col: col, value: convTOML(x[k], line, col)})
		}
	default:
		v.kind, v.s = vScalar, fmt.Sprint(x)
	}
	return v
}
