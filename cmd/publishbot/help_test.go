package main

import (
	"io"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// Every subcommand's -h has one shape: a sentence, a blank line, the usage
// line, any paragraphs, "flags:" with the flags (or "none"), and "exit
// status:" with its codes where it has its own. Nothing goes to stdout and
// the exit status is 0.
func TestEveryHelpHasOneShape(t *testing.T) {
	names := make([]string, 0, len(commands()))
	for name := range commands() {
		names = append(names, name)
	}
	sort.Strings(names)
	flagLine := regexp.MustCompile(`^  -[a-z][a-z0-9-]*( \S+)?$|^  -[a-z]\t\S|^    \t|^  none$`)
	exitLine := regexp.MustCompile(`^  [0-9]  \S`)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			h := helpFor(name)
			if h.summary == "" {
				t.Fatalf("helpFor(%q) has no sentence", name)
			}
			for _, dash := range []string{"-h", "--help"} {
				stdout, stderr, err := runArgs(t, name, dash)
				if code := exitCode(err, io.Discard); code != 0 {
					t.Fatalf("%s %s: exit %d: %v", name, dash, code, err)
				}
				if stdout != "" {
					t.Errorf("%s %s wrote to stdout: %q", name, dash, stdout)
				}
				lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
				if len(lines) < 5 {
					t.Fatalf("%s %s: too short:\n%s", name, dash, stderr)
				}
				if s := lines[0]; !strings.HasSuffix(s, ".") || strings.Count(s, ". ") > 0 || strings.HasPrefix(s, "usage") {
					t.Errorf("%s: first line is not one sentence: %q", name, s)
				}
				if lines[1] != "" || !strings.HasPrefix(lines[2], "usage: publishbot "+name) {
					t.Errorf("%s: want a blank line and the usage line after the sentence:\n%s", name, stderr)
				}
				fl := indexOf(lines, "flags:")
				if fl < 0 || lines[fl-1] != "" {
					t.Fatalf("%s: no \"flags:\" section after a blank line:\n%s", name, stderr)
				}
				rest := lines[fl+1:]
				ex := indexOf(rest, "exit status:")
				flags := rest
				if ex >= 0 {
					flags = rest[:ex-1]
					if rest[ex-1] != "" {
						t.Errorf("%s: no blank line before \"exit status:\"", name)
					}
					codes := rest[ex+1:]
					if len(codes) != len(h.exits) || len(codes) == 0 {
						t.Errorf("%s: exit status lines %q, want %d", name, codes, len(h.exits))
					}
					for _, c := range codes {
						if !exitLine.MatchString(c) {
							t.Errorf("%s: exit status line %q", name, c)
						}
					}
				} else if len(h.exits) > 0 {
					t.Errorf("%s: no exit status section", name)
				}
				if len(flags) == 0 {
					t.Errorf("%s: no flags listed", name)
				}
				for _, f := range flags {
					if !flagLine.MatchString(f) {
						t.Errorf("%s: not a flag line: %q", name, f)
					}
				}
			}
		})
	}
}

func indexOf(lines []string, s string) int {
	for i, l := range lines {
		if l == s {
			return i
		}
	}
	return -1
}
