package posts

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

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
	if pe := tooLarge(text, lineOff); pe != nil {
		return nil, pe
	}
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
	// The values as written first: a front matter that is merely large is
	// not an alias bomb, and is told so.
	if n, deep := writtenSize(root, 0); deep != nil {
		return nil, &posErr{line: lineOff + deep.Line, col: deep.Column, code: CodeFMSyntax, msg: tooDeepMsg}
	} else if n > valueBudget {
		return nil, &posErr{line: lineOff + root.Line, col: root.Column, code: CodeLimit, msg: tooManyValuesMsg(n)}
	}
	if n := expandedSize(root); n == tooDeep {
		return nil, &posErr{line: lineOff + root.Line, col: root.Column, code: CodeFMSyntax, msg: tooDeepMsg}
	} else if n < 0 {
		return nil, &posErr{line: lineOff + root.Line, col: root.Column, code: CodeAliasBomb,
			msg: "YAML aliases expand beyond " + strconv.Itoa(valueBudget) + " values (an alias bomb, or an alias inside itself); write the values out"}
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

// tooDeepMsg reports front matter nested beyond maxDepth.
var tooDeepMsg = "values are nested more than " + strconv.Itoa(maxDepth) + " levels deep"

// tooManyValuesMsg reports front matter of n values, over valueBudget.
func tooManyValuesMsg(n int) string {
	return fmt.Sprintf("front matter has too many values: %d, and the limit is %d", n, valueBudget)
}

// tooLarge reports front matter text over maxFrontMatterSize, before any
// decoder sees it.
func tooLarge(text []byte, lineOff int) *posErr {
	if len(text) <= maxFrontMatterSize {
		return nil
	}
	return &posErr{line: max(lineOff, 1), col: 1, code: CodeLimit,
		msg: fmt.Sprintf("front matter is %.1f MiB; the limit is %d MiB", float64(len(text))/(1<<20), maxFrontMatterSize>>20)}
}

// writtenSize counts the nodes of a YAML tree as written, not following
// aliases, and returns the first node nested deeper than maxDepth, if any.
// Its recursion stops at maxDepth.
func writtenSize(n *yaml.Node, depth int) (int, *yaml.Node) {
	if depth > maxDepth {
		return 0, n
	}
	total := 1
	for _, c := range n.Content {
		s, deep := writtenSize(c, depth+1)
		if deep != nil {
			return 0, deep
		}
		total += s
	}
	return total, nil
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
	if strings.Contains(msg, "unexpected end of stream") {
		// yaml.v3 reports an unclosed quote where the block ends; point at
		// the line where the quoted value opens instead.
		if ql := unclosedQuoteLine(text); ql > 0 {
			l = ql
		}
	}
	line = lineOff + l
	if line > lastLine {
		line = lastLine
	}
	col = firstNonSpaceCol(text, l)
	hint, hcol := yamlHint(msg, lineText(text, l))
	if hcol > 0 {
		col = hcol
	}
	if hint != "" {
		msg += ": " + hint
	}
	return &posErr{line: line, col: col, code: CodeFMSyntax, msg: "invalid YAML: " + msg}
}

// lineText is 1-based line l of text, without its line ending.
func lineText(text []byte, l int) []byte {
	off := 0
	for i := 1; i < l; i++ {
		j := bytes.IndexByte(text[off:], '\n')
		if j < 0 {
			return nil
		}
		off += j + 1
	}
	line, _ := lineAt(text, off)
	return bytes.TrimRight(line, "\r")
}

// valueStart is the byte offset in line of the value of a "key: value"
// line, or -1.
func valueStart(line []byte) int {
	i := bytes.Index(line, []byte(":"))
	if i < 0 {
		return -1
	}
	i++
	for i < len(line) && line[i] == ' ' {
		i++
	}
	if i >= len(line) {
		return -1
	}
	return i
}

// unclosedQuoteLine is the 1-based line of text whose value opens a quote
// that the line does not close, or 0.
func unclosedQuoteLine(text []byte) int {
	for l, line := range bytes.Split(text, []byte("\n")) {
		line = bytes.TrimRight(line, " \t\r")
		v := valueStart(line)
		if v < 0 || (line[v] != '"' && line[v] != '\'') {
			continue
		}
		q := line[v]
		rest := line[v+1:]
		closed := false
		for i := 0; i < len(rest); i++ {
			if q == '"' && rest[i] == '\\' {
				i++
				continue
			}
			if rest[i] == q {
				if q == '\'' && i+1 < len(rest) && rest[i+1] == '\'' {
					i++ // '' is a quote inside single quotes
					continue
				}
				closed = true
				break
			}
		}
		if !closed {
			return l + 1
		}
	}
	return 0
}

// tomlHint tells the author how to fix a common TOML mistake ("" if none).
func tomlHint(msg string) string {
	switch {
	case strings.Contains(msg, "strings cannot contain newlines"):
		return ": a quoted value is not closed; end it with the same quote mark on the same line"
	case strings.Contains(msg, "expected value but found"):
		return ": text values go in quotes, as in title = \"My post\""
	case strings.Contains(msg, "expected '.' or '='"):
		return ": TOML fields are written name = value, as in title = \"My post\""
	case strings.Contains(msg, "has already been defined"):
		return ": keep one"
	}
	return ""
}

// badEscape is the byte offset of the first backslash in line that does
// not start one of YAML's double-quoted escapes, or -1.
func badEscape(line []byte) int {
	for i := 0; i+1 < len(line); i++ {
		if line[i] != '\\' {
			continue
		}
		if !strings.ContainsRune("0abt\tnvfre \"/\\N_LPxuU", rune(line[i+1])) {
			return i
		}
		i++
	}
	return -1
}

// quoted writes v as a double-quoted YAML string.
func quoted(v []byte) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(string(v)) + `"`
}

// yamlHint tells the author how to fix one of yaml.v3's common complaints
// about line, and where on the line (1-based rune column; 0: keep the
// column of the line's first character).
func yamlHint(msg string, line []byte) (hint string, col int) {
	runeCol := func(i int) int { return utf8.RuneCount(line[:i]) + 1 }
	switch {
	case strings.Contains(msg, "tab character"):
		if i := bytes.IndexByte(line, '\t'); i >= 0 {
			col = runeCol(i)
		}
		return "indent with spaces; YAML does not allow tabs there", col
	case strings.Contains(msg, "expected ',' or ']'"):
		return "a list opened with \"[\" is not closed; end it with \"]\" on the same line, as in tags: [go, web]", 0
	case strings.Contains(msg, "expected ',' or '}'"):
		return "a value that starts with \"{\" is read as a mapping and is not closed with \"}\"; put the value in quotes if the braces are text", 0
	case strings.Contains(msg, "mapping values are not allowed"):
		if len(line) > 0 && line[0] == ' ' {
			return "this field is indented; start each field at the beginning of its line", 0
		}
		if v := valueStart(line); v >= 0 {
			if i := bytes.Index(line[v:], []byte(": ")); i >= 0 {
				return fmt.Sprintf("a value containing \": \" must be in quotes, as in %s%s", line[:v], quoted(line[v:])), runeCol(v + i)
			}
		}
		return "a value containing \": \" must be in quotes, as in title: \"Go: a tour\", and each field starts at the beginning of its line", 0
	case strings.Contains(msg, "could not find expected ':'"):
		return "write each field as a name, a colon, a space and the value, as in date: 2026-01-02", 0
	case strings.Contains(msg, "cannot start any token"):
		if i := bytes.IndexByte(line, '\t'); i >= 0 && i < firstNonSpaceCol(line, 1) {
			return "indent with spaces; YAML does not allow tabs there", runeCol(i)
		}
		if v := valueStart(line); v >= 0 {
			return fmt.Sprintf("a value cannot start with %q; put the whole value in quotes, as in %s%s", line[v], line[:v], quoted(line[v:])), runeCol(v)
		}
		return "put the value in quotes", 0
	case strings.Contains(msg, "unexpected end of stream"):
		return "a quoted value is not closed; end it with the same quote mark on the same line", 0
	case strings.Contains(msg, "unknown escape character"):
		if i := badEscape(line); i >= 0 {
			col = runeCol(i)
		}
		return "inside double quotes a backslash starts an escape such as \\n; write \\\\ for a backslash, or use single quotes", col
	case strings.Contains(msg, "did not find expected key"):
		return "this line is indented differently from the one above; line up the items of a list, and start each field at the beginning of its line", 0
	}
	return "", 0
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

// tooDeep is expandedSize's answer for values nested beyond maxDepth.
const tooDeep = -3

// expandedSize counts the nodes n stands for once aliases are expanded,
// or -1 when that passes valueBudget or an alias contains itself, or
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
			if total > valueBudget {
				return -1
			}
		}
		if total > valueBudget {
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
	if pe := tooLarge(text, lineOff); pe != nil {
		return nil, pe
	}
	if off := tomlTooDeep(text, maxDepth); off >= 0 {
		line, col := textPos(text, off)
		return nil, &posErr{line: lineOff + line, col: col, code: CodeFMSyntax, msg: tooDeepMsg}
	}
	var m map[string]any
	md, err := toml.Decode(string(text), &m)
	if err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			line, col := perr.Position.Line, perr.Position.Col
			if st := perr.Position.Start; st >= 0 && st <= len(text) && (st > 0 || line > 0) {
				// from the byte offset: the parser counts no line for a
				// CRLF inside a string, and its column is in bytes
				ls := bytes.LastIndexByte(text[:st], '\n') + 1
				line = bytes.Count(text[:st], []byte("\n")) + 1
				col = utf8.RuneCount(text[ls:st]) + 1
			}
			if line < 1 {
				line, col = 0, 1
			}
			if col < 1 {
				col = 1
			}
			return nil, &posErr{line: lineOff + line, col: col, code: CodeFMSyntax, msg: "invalid TOML: " + strings.TrimSuffix(perr.Message, ".") + tomlHint(perr.Message)}
		}
		return nil, &posErr{line: lineOff, col: 1, code: CodeFMSyntax, msg: "invalid TOML: " + err.Error()}
	}
	keyPos := tomlKeyLines(text)
	// Keys in file order (md.Keys is in order of appearance); top level only.
	seen := map[string]bool{}
	values := 1 // the mapping itself, as YAML counts it
	for _, k := range md.Keys() {
		if len(k) != 1 || seen[k[0]] {
			continue
		}
		seen[k[0]] = true
		p := keyPos[k[0]]
		if p.line == 0 {
			p = tomlPos{line: 1, col: 1}
		}
		val := convTOML(m[k[0]], lineOff+p.line, p.valCol, &values)
		fields = append(fields, fmField{key: k[0], line: lineOff + p.line, col: p.col, value: val})
		values++ // the key
	}
	if values > valueBudget {
		return nil, &posErr{line: lineOff + 1, col: 1, code: CodeLimit, msg: tooManyValuesMsg(values)}
	}
	return fields, nil
}

// textPos is the 1-based line and rune column of byte offset off of text.
func textPos(text []byte, off int) (line, col int) {
	ls := bytes.LastIndexByte(text[:off], '\n') + 1
	return bytes.Count(text[:off], []byte("\n")) + 1, utf8.RuneCount(text[ls:off]) + 1
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

// convTOML converts a decoded TOML value (nested no deeper than
// tomlTooDeep allows) and adds the values it holds to *count, counted as
// expandedSize counts YAML nodes: each value, and each key of a table.
func convTOML(x any, line, col int, count *int) fmValue {
	*count++
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
			v.list = append(v.list, convTOML(e, line, col, count))
		}
	case []map[string]any:
		v.kind = vList
		for _, e := range x {
			v.list = append(v.list, convTOML(e, line, col, count))
		}
	case map[string]any:
		v.kind = vMap
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sortStrings(keys)
		for _, k := range keys {
			*count++
			v.fields = append(v.fields, fmField{key: k, line: line, col: col, value: convTOML(x[k], line, col, count)})
		}
	default:
		v.kind, v.s = vScalar, fmt.Sprint(x)
	}
	return v
}
