package posts

import "bytes"

// tomlTooDeep finds where TOML text nests its values deeper than limit, by
// reading the text, not decoding it: BurntSushi/toml decodes nesting by
// recursion without a limit, and a Go stack overflow ends the process (no
// recover catches it), so the depth is known before the decoder runs.
//
// The depth at a point is the number of dotted parts of the current table
// header ([a.b] is 2, [[a.b]] is 3: one more for the array), plus the dots
// of the dotted keys being defined (a.b.c = ... adds 2, also inside inline
// tables), plus the arrays and inline tables open there. That is never less
// than the nesting of the decoded values (it is the YAML measure: a value at
// depth 1 is a top-level field's). Strings and comments are skipped as TOML
// reads them. It returns the byte offset in text where the depth first
// passes limit, or -1. It is linear in len(text).
func tomlTooDeep(text []byte, limit int) int {
	var open []byte   // the '[' and '{' of the values open here
	var keyBase []int // keys when each of them opened
	header := 0       // depth of the current table header
	keys := 0         // dots of the dotted keys being defined here
	inKey := true     // reading a key (before its '=')
	lineStart := true // nothing but blanks since the line began, outside values
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch c {
		case '\n':
			if len(open) == 0 {
				inKey, keys, lineStart = true, 0, true
			}
			continue
		case ' ', '\t', '\r':
			continue
		case '#':
			j := bytes.IndexByte(text[i:], '\n')
			if j < 0 {
				return -1
			}
			i += j - 1 // the newline is read next
			continue
		case '"', '\'':
			i = skipTOMLString(text, i) - 1
			lineStart = false
			continue
		}
		if lineStart && len(open) == 0 && c == '[' {
			// A table header, [a.b] or [[a.b]]: its depth holds for the
			// keys below it, until the next header.
			header = 1
			j := i + 1
			if j < len(text) && text[j] == '[' {
				header++
				j++
			}
			for j < len(text) && text[j] != ']' && text[j] != '\n' {
				switch text[j] {
				case '"', '\'':
					j = skipTOMLString(text, j)
					continue
				case '.':
					header++
				}
				if header > limit {
					return j
				}
				j++
			}
			for j < len(text) && text[j] == ']' {
				j++
			}
			i = j - 1
			inKey, lineStart = false, false // only a comment may follow
			continue
		}
		lineStart = false
		switch c {
		case '.':
			if inKey {
				keys++
			}
		case '=':
			inKey = false
		case '[', '{':
			open = append(open, c)
			keyBase = append(keyBase, keys)
			inKey = c == '{'
		case ']', '}':
			if n := len(open); n > 0 {
				keys = keyBase[n-1]
				open, keyBase = open[:n-1], keyBase[:n-1]
			}
			inKey = false
		case ',':
			if n := len(open); n > 0 && open[n-1] == '{' {
				inKey, keys = true, keyBase[n-1]
			}
		}
		if header+keys+len(open) > limit {
			return i
		}
	}
	return -1
}

// skipTOMLString returns the offset just after the string that starts at
// text[i] (a quote): basic "..." with backslash escapes, literal '...', and
// their multi-line forms between three quotes of either kind (whose closing
// quotes may be followed by up to two more quotes of the content). A single-line
// string that is not closed ends before its line's newline; a multi-line
// one at the end of text.
func skipTOMLString(text []byte, i int) int {
	q := text[i]
	if i+2 < len(text) && text[i+1] == q && text[i+2] == q {
		for j := i + 3; j < len(text); j++ {
			switch {
			case text[j] == '\\' && q == '"':
				j++
			case text[j] == q && j+2 < len(text) && text[j+1] == q && text[j+2] == q:
				k := j + 3
				for k < len(text) && k < j+5 && text[k] == q {
					k++
				}
				return k
			}
		}
		return len(text)
	}
	for j := i + 1; j < len(text); j++ {
		switch text[j] {
		case '\\':
			if q == '"' && j+1 < len(text) && text[j+1] != '\n' {
				j++
			}
		case '\n':
			return j
		case q:
			return j + 1
		}
	}
	return len(text)
}
