// Package envfile reads and writes the settings files publishbot keeps
// beside its data (publishbot.env, written by `publishbot setup` and read by
// `publishbot serve`): one NAME=value a line, blank lines and # comments,
// an optional "export " before a name, a value optionally in matching
// single or double quotes (taken literally, no escapes or expansion). Files
// written here have plain values, so docker's --env-file and systemd's
// EnvironmentFile= read them the same way.
package envfile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// MaxSize is the largest file Parse reads.
const MaxSize = 1 << 20

// Var is one variable of a file.
type Var struct {
	Name, Value string
	Line        int // 1-based; 0 for a variable not read from a file
}

var validName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Parse reads a file's variables in order. A line that is not a variable,
// a comment or blank is an error naming its line; so is a name given twice.
// Errors never quote a value (they may be secrets).
func Parse(r io.Reader) ([]Var, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read env file: %w", err)
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("env file is larger than %d bytes", MaxSize)
	}
	var vars []Var
	seen := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), MaxSize)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(strings.TrimSuffix(sc.Text(), "\r"))
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		name, value, ok := strings.Cut(line, "=")
		name = strings.TrimSpace(name)
		if !ok {
			return nil, fmt.Errorf("env file line %d: want NAME=value", n)
		}
		if !validName.MatchString(name) {
			return nil, fmt.Errorf("env file line %d: %q is not a variable name", n, truncate(name))
		}
		if first, dup := seen[name]; dup {
			return nil, fmt.Errorf("env file line %d: %s is already set on line %d", n, name, first)
		}
		value = strings.TrimSpace(value)
		if len(value) >= 2 && (value[0] == '"' || value[0] == '\'') {
			if value[len(value)-1] != value[0] {
				return nil, fmt.Errorf("env file line %d: %s: the value's quote is not closed", n, name)
			}
			value = value[1 : len(value)-1]
		}
		seen[name] = n
		vars = append(vars, Var{Name: name, Value: value, Line: n})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read env file: %w", err)
	}
	return vars, nil
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// Format writes vars as a file, each comment line first as "# line". A
// value must be one line without surrounding spaces or quotes, so that every
// reader of the format takes it as written.
func Format(comment []string, vars []Var) ([]byte, error) {
	var b bytes.Buffer
	for _, c := range comment {
		b.WriteString(strings.TrimRight("# "+c, " ") + "\n")
	}
	for _, v := range vars {
		switch {
		case !validName.MatchString(v.Name):
			return nil, fmt.Errorf("env file: %q is not a variable name", truncate(v.Name))
		case strings.ContainsAny(v.Value, "\r\n\x00"):
			return nil, fmt.Errorf("env file: %s: the value is not one line", v.Name)
		case v.Value != strings.TrimSpace(v.Value):
			return nil, fmt.Errorf("env file: %s: the value starts or ends with a space", v.Name)
		case strings.HasPrefix(v.Value, `"`) || strings.HasPrefix(v.Value, "'"):
			return nil, errors.New("env file: " + v.Name + ": the value starts with a quote")
		}
		b.WriteString(v.Name + "=" + v.Value + "\n")
	}
	return b.Bytes(), nil
}
