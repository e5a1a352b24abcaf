package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseFlagsAnyOrder(t *testing.T) {
	for _, args := range [][]string{
		{"-o", "out", "--drafts", "site"},
		{"site", "-o", "out", "--drafts"},
		{"--drafts", "site", "-o=out"},
	} {
		fset := newBuildTestFlagSet()
		pos, err := parseFlagsAnyOrder(fset.fs, args)
		if err != nil || len(pos) != 1 || pos[0] != "site" || *fset.out != "out" || !*fset.drafts {
			t.Errorf("%q: pos=%q out=%q drafts=%v err=%v", args, pos, *fset.out, *fset.drafts, err)
		}
	}
}

type buildTestFlagSet struct {
	fs     *flag.FlagSet
	out    *string
	drafts *bool
}

func newBuildTestFlagSet() buildTestFlagSet {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	return buildTestFlagSet{fs: fs, out: fs.String("o", "public", ""), drafts: fs.Bool("drafts", false, "")}
}

func TestParseArgs(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file.md")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		args    []string
		folder  bool
		code    int
		message string
		dir     string
	}{
		{"no folder", nil, true, -1, "", "."},
		{"a folder", []string{dir}, true, -1, "", dir},
		{"help", []string{"-h"}, true, 0, "", ""},
		{"bad flag", []string{"--nope"}, true, 2, "", ""},
		{"two folders", []string{"a", "b"}, true, 2, `x: at most one folder, got 2: ["a" "b"]`, ""},
		{"missing folder", []string{filepath.Join(dir, "missing")}, true, 2, "no such file", ""},
		{"a file", []string{file}, true, 2, "not a folder; pass the folder of the content repository", ""},
		{"an argument where none is taken", []string{"now"}, false, 2, `x: unexpected argument "now"`, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			var stderr bytes.Buffer
			fs := newFlagSet("x", "usage: publishbot x\n", &stderr)
			fs.Bool("v", false, "")
			var got string
			var err error
			if c.folder {
				got, err = parseFolderArgs(fs, c.args)
			} else {
				_, err = parseArgs(fs, c.args, 0)
			}
			if c.code < 0 {
				if err != nil || got != c.dir {
					t.Errorf("got %q, %v; want %q", got, err, c.dir)
				}
				return
			}
			var ee *exitError
			if !errors.As(err, &ee) || ee.Code != c.code || (c.message != "" && !strings.Contains(err.Error(), c.message)) {
				t.Errorf("err = %v; want exit %d with %q", err, c.code, c.message)
			}
			if c.name == "help" && !strings.Contains(stderr.String(), "usage: publishbot x") {
				t.Errorf("help printed %q", stderr.String())
			}
		})
	}
}
