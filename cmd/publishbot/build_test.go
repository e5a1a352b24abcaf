package main

import (
	"bytes"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readBuildTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		got[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestWriteSiteRemovesStaleFiles(t *testing.T) {
	out := filepath.Join(t.TempDir(), "public")
	first := map[string][]byte{
		"index.html":                []byte("one"),
		"posts/a/index.html":        []byte("a"),
		"posts/b/index.html":        []byte("b"),
		"posts/b/img/x.png":         []byte("x"),
		"tags/go/page/2/index.html": []byte("t2"),
	}
	if n, removed, err := writeSite(out, first); err != nil || n != 5 || removed != 0 {
		t.Fatalf("first build: n=%d removed=%d err=%v", n, removed, err)
	}
	// a file the user put there by hand is kept
	if err := os.WriteFile(filepath.Join(out, "posts", "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	second := map[string][]byte{
		"index.html":         []byte("two"),
		"posts/a/index.html": []byte("a"),
		"posts/b":            []byte("now a file"), // a folder became a file
	}
	n, removed, err := writeSite(out, second)
	if err != nil || n != 3 || removed != 3 {
		t.Fatalf("second build: n=%d removed=%d err=%v", n, removed, err)
	}
	got := readBuildTree(t, out)
	delete(got, buildManifest)
	want := map[string]string{"index.html": "two", "posts/a/index.html": "a", "posts/b": "now a file", "posts/notes.txt": "mine"}
	if len(got) != len(want) {
		t.Errorf("tree = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "tags")); !os.IsNotExist(err) {
		t.Errorf("empty stale folder tags/ left behind: %v", err)
	}
}

func TestWriteSiteRefusesForeignFolder(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "thesis.tex"), []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := writeSite(dir, map[string][]byte{"index.html": []byte("x"), "thesis.tex": []byte("overwritten")})
	if err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Fatalf("err = %v, want a refusal", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "thesis.tex")); string(b) != "precious" {
		t.Errorf("file in a foreign folder changed")
	}
	if _, err := os.Stat(filepath.Join(dir, "index.html")); !os.IsNotExist(err) {
		t.Errorf("wrote into a foreign folder")
	}
}

func TestWriteSiteRejectsBadManifest(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(dir, "outside.txt")
	os.WriteFile(outside, []byte("keep"), 0o644)
	out := filepath.Join(dir, "public")
	os.Mkdir(out, 0o755)
	os.WriteFile(filepath.Join(out, buildManifest), []byte("../outside.txt\n"), 0o644)
	if _, _, err := writeSite(out, map[string][]byte{"index.html": []byte("x")}); err == nil {
		t.Errorf("manifest naming ../outside.txt accepted")
	}
	if b, _ := os.ReadFile(outside); string(b) != "keep" {
		t.Errorf("file outside the output folder touched")
	}
	// a symlink in the output folder is not followed
	os.WriteFile(filepath.Join(out, buildManifest), []byte("link/x\n"), 0o644)
	os.Symlink(dir, filepath.Join(out, "link"))
	if _, _, err := writeSite(out, map[string][]byte{"link/outside.txt": []byte("overwrite")}); err == nil {
		t.Errorf("wrote through a symlink")
	}
	if b, _ := os.ReadFile(outside); string(b) != "keep" {
		t.Errorf("file outside the output folder written through a symlink")
	}
}

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

func TestBuildUsage(t *testing.T) {
	for _, args := range [][]string{
		{"--nope"},
		{"a", "b"},
		{"--base-url", "ftp://x/", "."},
		{"--base-url", "/relative/", "."},
		{filepath.Join(t.TempDir(), "missing")},
	} {
		var stdout, stderr bytes.Buffer
		err := runBuild(t.Context(), args, func(string) string { return "" }, &stdout, &stderr)
		if code := exitCode(err, &stderr); code != 2 {
			t.Errorf("build %q: exit %d, want 2 (stderr %s)", args, code, stderr.String())
		}
	}
}

func TestValidBaseURL(t *testing.T) {
	got, err := validBaseURL("https://acme.github.io/blog/pr-preview/pr-7")
	if err != nil || got != "https://acme.github.io/blog/pr-preview/pr-7/" {
		t.Errorf("got %q, %v", got, err)
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

// FuzzBuildManifest: whatever the manifest of an output folder holds, the
// files it names for removal are valid paths inside the folder.
func FuzzBuildManifest(f *testing.F) {
	f.Add("# comment\nindex.html\nposts/a/index.html\n")
	f.Add("../outside\n")
	f.Add("/etc/passwd\n")
	f.Add("a\\b\n\x00\n")
	f.Add(buildManifest + "\n")
	dir := f.TempDir()
	root, err := os.OpenRoot(dir)
	if err != nil {
		f.Fatal(err)
	}
	defer root.Close()
	f.Fuzz(func(t *testing.T, manifest string) {
		if err := root.WriteFile(buildManifest, []byte(manifest), 0o644); err != nil {
			t.Fatal(err)
		}
		list, err := readBuildManifest(root, dir)
		if err != nil {
			return
		}
		for _, p := range list {
			if !fs.ValidPath(p) || p == "." || p == buildManifest {
				t.Fatalf("manifest %q gave path %q", manifest, p)
			}
		}
	})
}

// TestBuildWarnsWithoutBaseURL: a site without base_url has relative
// feed and canonical addresses; build says so, and --base-url silences it.
func TestBuildWarnsWithoutBaseURL(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "posts"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "publish.yaml"), []byte("title: X\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "posts", "a.md"), []byte("---\ntitle: A\ndate: 2026-01-01\n---\nbody\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		warn bool
	}{
		{nil, true},
		{[]string{"--base-url", "https://owner.github.io/repo/"}, false},
	} {
		var stdout, stderr bytes.Buffer
		args := append([]string{"-o", filepath.Join(t.TempDir(), "out")}, tc.args...)
		if err := runBuild(t.Context(), append(args, dir), func(string) string { return "" }, &stdout, &stderr); err != nil {
			t.Fatalf("build %q: %v (%s)", tc.args, err, stderr.String())
		}
		got := strings.Contains(stderr.String(), "[base-url-missing]")
		if got != tc.warn || got != strings.Contains(stdout.String(), "1 warning") {
			t.Errorf("build %q: warning %v, want %v\nstdout %s\nstderr %s", tc.args, got, tc.warn, stdout.String(), stderr.String())
		}
	}
}
