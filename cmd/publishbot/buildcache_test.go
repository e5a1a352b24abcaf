package main

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/publishbot/publishbot/internal/corpusgen"
	"github.com/publishbot/publishbot/testkit"
)

// TestBuildCache: a second build of an unchanged folder trusts the cache,
// writes nothing and says the same; a change builds again; the cache folder
// may not lie in the content folder.
func TestBuildCache(t *testing.T) {
	dir, cache := t.TempDir(), t.TempDir()
	out := filepath.Join(t.TempDir(), "site")
	write := func(name, text string) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("publish.yaml", "title: T\nbase_url: https://acme.github.io/t/\n")
	write("posts/2026-01-01-a.md", "---\ntitle: A\n---\n\nText.\n")
	write("posts/2026-01-02-bad.md", "---\ndate: 2026-01-02\n---\n\nNo title.\n")
	build := func(args ...string) (string, string, int) {
		var stdout, stderr bytes.Buffer
		err := runBuild(t.Context(), append(args, dir), func(string) string { return "" }, &stdout, &stderr)
		code := exitCode(err, &stderr)
		return stdout.String(), stderr.String(), code
	}
	out1, err1, code1 := build("--cache-dir", cache, "-o", out)
	out2, err2, code2 := build("--cache-dir", cache, "-o", out)
	if code1 != 1 || code2 != 1 {
		t.Errorf("exit %d then %d, want 1 (a post has an error) both times", code1, code2)
	}
	if !strings.Contains(out2, "unchanged since the last build") || strings.Contains(out1, "unchanged") {
		t.Errorf("first: %s\nsecond: %s", out1, out2)
	}
	if err1 != err2 || !strings.Contains(err2, "missing-title") {
		t.Errorf("diagnostics differ:\n%s\n%s", err1, err2)
	}
	write("posts/2026-01-01-a.md", "---\ntitle: A, edited\n---\n\nText.\n")
	out3, _, _ := build("--cache-dir", cache, "-o", out)
	if strings.Contains(out3, "unchanged") {
		t.Errorf("a changed folder was not built again: %s", out3)
	}
	page, _ := os.ReadFile(filepath.Join(out, "posts", "a", "index.html"))
	if !strings.Contains(string(page), "A, edited") {
		t.Error("the edit is not in the output")
	}
	if _, stderr, code := build("--cache-dir", filepath.Join(dir, ".cache")); code != 2 || !strings.Contains(stderr, "inside the content folder") {
		t.Errorf("cache in the content folder: exit %d, %s", code, stderr)
	}
	var stdout, stderr bytes.Buffer
	err := runBuild(t.Context(), []string{"--cache-dir", cache, "-o", out, dir}, func(k string) string {
		if k == buildCacheEnv {
			return "lots"
		}
		return ""
	}, &stdout, &stderr)
	if code := exitCode(err, &stderr); code != 2 {
		t.Errorf("%s=lots: exit %d", buildCacheEnv, code)
	}
}

// TestBuildKeepsWhatDidNotChange: `build` with a cache writes only the
// files whose input keys changed and keeps the rest in the output folder;
// after every kind of edit (on 80 posts of the Rust blog) the folder holds
// exactly what a build without a cache into an empty folder writes, and a
// file taken out of the output folder by hand is written again.
func TestBuildKeepsWhatDidNotChange(t *testing.T) {
	files, err := corpusgen.Files(filepath.Join("..", "..", "..", "shared", "testdata", "corpus", "zola-rust-blog"), 80)
	if err != nil {
		t.Fatal(err)
	}
	photos := 0
	for _, p := range slices.Sorted(maps.Keys(files)) {
		if ext := strings.ToLower(filepath.Ext(p)); ext == ".png" || ext == ".jpg" || ext == ".jpeg" {
			if photos++; photos > 4 { // resizing them all is most of the time
				delete(files, p)
			}
		}
	}
	dir, cache := filepath.Join(t.TempDir(), "blog"), t.TempDir()
	if err := corpusgen.Write(dir, files); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "site")
	build := func(args ...string) (string, int) {
		var stdout, stderr bytes.Buffer
		err := runBuild(t.Context(), append(args, dir), func(string) string { return "" }, &stdout, &stderr)
		return stdout.String(), exitCode(err, &stderr)
	}
	dated := corpusgen.DatedPosts(files)
	edit := func(rel string, f func(string) string) {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f(string(b))), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	written := regexp.MustCompile(`files? into .* \((\d+) written,`)
	steps := []struct {
		name string
		do   func()
	}{
		{"first", func() {}},
		{"one post's body", func() { edit(dated[10], func(s string) string { return s + "\nOne more line.\n" }) }},
		{"a title", func() {
			edit(dated[20], func(s string) string { return strings.Replace(s, `title = "`, `title = "Retitled `, 1) })
		}},
		{"a post removed", func() { os.Remove(filepath.Join(dir, filepath.FromSlash(dated[30]))) }},
		{"a new post", func() {
			os.WriteFile(filepath.Join(dir, "posts", "2030-01-01-new.md"), []byte("---\ntitle: New\ndate: 2024-01-01\ntags: [new]\n---\n\nNew.\n"), 0o644)
		}},
		{"an output file taken out, and a post's body", func() {
			os.Remove(filepath.Join(out, "index.html"))
			edit(dated[40], func(s string) string { return s + "\nAnother line.\n" })
		}},
		{"the site's title", func() {
			edit("publish.yaml", func(s string) string { return strings.Replace(s, "title: ", "title: Renamed ", 1) })
		}},
	}
	for _, st := range steps {
		st.do()
		stdout, code := build("--cache-dir", cache, "-o", out)
		if code != 0 && code != 1 {
			t.Fatalf("%s: exit %d: %s", st.name, code, stdout)
		}
		full := filepath.Join(t.TempDir(), "full")
		if _, code := build("--cache-dir", "off", "-o", full); code != 0 && code != 1 {
			t.Fatalf("%s: full build: exit %d", st.name, code)
		}
		got, want := testkit.ReadTree(t, out), testkit.ReadTree(t, full)
		if !maps.Equal(got, want) {
			for p := range want {
				if got[p] != want[p] {
					t.Errorf("%s: %s differs from a full build's", st.name, p)
				}
			}
			for p := range got {
				if _, ok := want[p]; !ok {
					t.Errorf("%s: %s is not in a full build", st.name, p)
				}
			}
			t.FailNow()
		}
		m := written.FindStringSubmatch(stdout)
		if m == nil {
			t.Fatalf("%s: no count of files written in %q", st.name, stdout)
		}
		n, _ := strconv.Atoi(m[1])
		if st.name == "one post's body" && n > len(want)/4 || st.name == "an output file taken out, and a post's body" && n > len(want)/4 {
			t.Errorf("%s: %d of %d files written: %s", st.name, n, len(want), stdout)
		}
		t.Logf("%s: %s", st.name, strings.TrimSpace(stdout))
	}
}
