package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
