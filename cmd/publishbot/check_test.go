package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/publishbot/publishbot/posts"
	"github.com/publishbot/publishbot/testkit"
)

// runCheckArgs runs `publishbot check args...` and returns stdout, stderr
// and the exit code.
func runCheckArgs(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), append([]string{"check"}, args...), func(string) string { return "" }, &stdout, &stderr)
	code := exitCode(err, &stderr)
	return stdout.String(), stderr.String(), code
}

// TestCheckJekyllCorpus is the whole diagnostic list of the real Jekyll
// corpus, exactly: warnings only; the malformed date falls back on the
// file name's (date-fallback).
func TestCheckJekyllCorpus(t *testing.T) {
	dir := sharedTestdata(t, "corpus/jekyll")
	out, stderr, code := runCheckArgs(t, dir)
	if code != 0 {
		t.Errorf("exit %d, want 0; stderr %q", code, stderr)
	}
	testkit.Golden(t, filepath.Join("testdata", "check-jekyll.txt"), []byte(out))
	for _, want := range []string{
		"2023-01-29-jekyll-3-9-3-released.markdown:3:7: warning: date \"2023-01-29 18:30:22 2023 -0800\" is not a date; the date in the file name (2023-01-29) is used instead",
		"2018-03-14-development-update.md:3:7: warning: date 2018-04-19 is more than a day from the date in the file name (2018-03-14)",
		"publish.yaml: warning: no publish.yaml: using the default settings",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if n := strings.Count(out, ": error: "); n != 0 {
		t.Errorf("%d errors, want 0", n)
	}
	for _, f := range []string{"2014-05-06-jekyll-turns-2-0-0.markdown", "2016-03-10-making-it-easier-to-contribute-to-jekyll.md", "2020-08-05-jekyll-3-9-0-released.markdown"} {
		if strings.Contains(out, f+":1:1") || strings.Contains(out, f+": error") {
			t.Errorf("%s should take its date from its name", f)
		}
	}
}

// jekyllCorpusWithError is a copy of the real Jekyll corpus with one post
// more whose date cannot be read and whose name has none: one error.
func jekyllCorpusWithError(t *testing.T) string {
	t.Helper()
	dir := copyContentTree(t, sharedTestdata(t, "corpus/jekyll"))
	if err := os.WriteFile(filepath.Join(dir, "broken-date.md"), []byte("---\ntitle: Broken\ndate: 2023-01-29 18:30:22 2023 -0800\n---\nText.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestCheckFormats(t *testing.T) {
	dir := jekyllCorpusWithError(t)
	text, _, _ := runCheckArgs(t, dir)

	out, _, code := runCheckArgs(t, "--format", "json", dir)
	var ds []posts.Diagnostic
	if err := json.Unmarshal([]byte(out), &ds); err != nil || code != 1 {
		t.Fatalf("json: exit %d, %v", code, err)
	}
	if len(ds) != strings.Count(text, "\n") {
		t.Errorf("json has %d diagnostics, text %d lines", len(ds), strings.Count(text, "\n"))
	}
	var raw []map[string]any
	_ = json.Unmarshal([]byte(out), &raw)
	for _, k := range []string{"file", "line", "column", "severity", "code", "message"} {
		if _, ok := raw[0][k]; !ok {
			t.Errorf("json object lacks %q: %v", k, raw[0])
		}
	}

	// Flags may follow the folder.
	out, _, code = runCheckArgs(t, dir, "--format=github")
	if code != 1 {
		t.Errorf("github: exit %d", code)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(ds) {
		t.Errorf("github has %d lines, want %d", len(lines), len(ds))
	}
	found := false
	for _, l := range lines {
		if !strings.HasPrefix(l, "::error ") && !strings.HasPrefix(l, "::warning ") {
			t.Errorf("not a workflow command: %q", l)
		}
		if strings.HasPrefix(l, "::error file=broken-date.md,line=3,col=7,title=invalid-date::date \"2023-01-29 18:30:22 2023 -0800\" is not a date") {
			found = true
		}
	}
	if !found {
		t.Errorf("no error command for the malformed date:\n%s", out)
	}
	if !strings.Contains(out, "::warning file=publish.yaml,title=config-missing::") {
		t.Errorf("whole-file warning has no line: %s", lines[len(lines)-1])
	}
}

func TestCheckExampleBlogIsClean(t *testing.T) {
	out, stderr, code := runCheckArgs(t, filepath.Join("..", "..", "examples", "blog"))
	if code != 0 || out != "" {
		t.Errorf("exit %d, output %q %q", code, out, stderr)
	}
	out, _, code = runCheckArgs(t, "--format", "json", filepath.Join("..", "..", "examples", "blog"))
	if code != 0 || strings.TrimSpace(out) != "[]" {
		t.Errorf("json: exit %d, %q", code, out)
	}
}

func TestCheckUsage(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file.md")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown format", []string{"--format", "xml", "."}, "unknown --format"},
		{"two folders", []string{"a", "b"}, "at most one folder"},
		{"unknown flag", []string{"--nope"}, "flag provided but not defined"},
		{"missing folder", []string{filepath.Join(t.TempDir(), "missing")}, "no such file"},
		{"a file, not a folder", []string{file}, "not a folder; pass the folder of the content repository"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, stderr, code := runCheckArgs(t, c.args...)
			if code != 2 || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, c.want)
			}
		})
	}
}

func TestCheckBrokenPost(t *testing.T) {
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "publish.yaml"), []byte("title: T\n"), 0o644))
	must(os.MkdirAll(filepath.Join(dir, "posts"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "posts", "good.md"), []byte("---\ntitle: Good\ndate: 2026-01-01\n---\nHi\n"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "posts", "bad.md"), []byte("---\ndate: 2026-01-01\nfoo: 1\n---\nHi\n"), 0o644))
	out, _, code := runCheckArgs(t, dir)
	want := "posts/bad.md:1:1: error: title is required: add a line like \"title: My post\" to the front matter [missing-title]\n" +
		"posts/bad.md:3:1: warning: field \"foo\" is not used by publishbot and is ignored [unknown-field]\n"
	if code != 1 || out != want {
		t.Errorf("exit %d, output:\n%s\nwant:\n%s", code, out, want)
	}
}

// TestCheckFindsPathsThatCannotBeWritten (issue 10): an alias into .git
// or under a page the theme writes, and a static file under one, are
// errors of that post or file, found by check as by build.
func TestCheckFindsPathsThatCannotBeWritten(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string]string{
		"publish.yaml":                    "title: T\n",
		"posts/2026-01-01-a.md":           "---\ntitle: A\naliases: [/.git/hooks/]\n---\n",
		"posts/2026-01-02-b.md":           "---\ntitle: B\naliases: [/archive/index.html/x/]\n---\n",
		"posts/2026-01-03-c.md":           "---\ntitle: C\n---\n",
		"static/archive/index.html/x.txt": "x",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, _, code := runCheckArgs(t, dir)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, want := range []string{
		"posts/2026-01-01-a.md:3:10: error: alias \"/.git/hooks/\" may not write under .git [invalid-alias]",
		"posts/2026-01-02-b.md:3:10: error: alias \"/archive/index.html/x/\" is a page of the site itself (archive/index.html/x/index.html would lie under archive/index.html, which is the archive page)",
		"static/archive/index.html/x.txt: error: this file is not published: archive/index.html/x.txt would lie under archive/index.html, which is the archive page [output-conflict]",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "2026-01-03-c.md") {
		t.Errorf("the good post is reported:\n%s", out)
	}
}
