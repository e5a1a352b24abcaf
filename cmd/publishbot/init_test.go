package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runArgs(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, func(string) string { return "" }, &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

// A new user's first minute: init an empty folder, add a post, check it.
func TestInitNewCheckOnAnEmptyFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "blog")
	out, _, err := runArgs(t, "init", dir)
	if err != nil {
		t.Fatalf("init: %v", err)
	}
	if !strings.Contains(out, "wrote publish.yaml") || !strings.Contains(out, "hello-world.md") {
		t.Fatalf("init said:\n%s", out)
	}
	out, _, err = runArgs(t, "new", "--dir", dir, "--bundle", "Photos from the trip")
	if err != nil || !strings.Contains(out, "photos-from-the-trip/index.md") {
		t.Fatalf("new: %v\n%s", err, out)
	}
	if _, _, err := runArgs(t, "check", dir); err != nil {
		t.Fatalf("check of a fresh blog: %v", err)
	}
	gi, _ := os.ReadFile(filepath.Join(dir, ".gitignore"))
	if string(gi) != "public/\n" {
		t.Fatalf(".gitignore = %q", gi)
	}
	// init again refuses and says what to do.
	if _, _, err := runArgs(t, "init", dir); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("second init: %v", err)
	}
	// new without a title is a usage error.
	if _, _, err := runArgs(t, "new", "--dir", dir); exitCode(err, &bytes.Buffer{}) != 2 {
		t.Fatalf("new without a title: %v", err)
	}
}

func TestInitReadsAJekyllConfig(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "_posts"), 0o755)
	os.WriteFile(filepath.Join(dir, "_config.yml"), []byte("title: News\nurl: https://example.org\npermalink: pretty\nplugins: [jekyll-archives]\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "_posts", "2024-01-02-hello.md"), []byte("---\ntitle: Hello\n---\nHi.\n"), 0o644)
	out, _, err := runArgs(t, "init", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "Found a Jekyll blog") || !strings.Contains(out, "plugin jekyll-archives") {
		t.Fatalf("init said:\n%s", out)
	}
	cfg, _ := os.ReadFile(filepath.Join(dir, "publish.yaml"))
	for _, want := range []string{"generator: jekyll", "posts_dir: _posts", "permalink: pretty", "base_url: https://example.org/"} {
		if !strings.Contains(string(cfg), want) {
			t.Errorf("publish.yaml lacks %q:\n%s", want, cfg)
		}
	}
}
