package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime/debug"
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

// A broken template override is an error at its line in check, not a
// later build failure; a clean blog gets a one-line summary.
func TestCheckTemplatesAndSummary(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := runArgs(t, "init", dir); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := runArgs(t, "check", dir)
	if err != nil || !strings.Contains(stderr, "checked 1 post: no problems") {
		t.Fatalf("check of a clean blog: %v, stderr %q", err, stderr)
	}
	os.MkdirAll(filepath.Join(dir, "templates"), 0o755)
	os.WriteFile(filepath.Join(dir, "templates", "archive.html"), []byte("<h1>Archive</h1>\n\n{{ range .Posts }\n"), 0o644)
	out, stderr, err := runArgs(t, "check", dir)
	if exitCode(err, &bytes.Buffer{}) != 1 {
		t.Fatalf("check with a broken override: err %v", err)
	}
	if !strings.Contains(out, "templates/archive.html:3") || !strings.Contains(out, "[template]") {
		t.Fatalf("check said:\n%s", out)
	}
	if !strings.Contains(stderr, "1 error") {
		t.Fatalf("summary: %q", stderr)
	}
	_, stderr, _ = runArgs(t, "check", "-h")
	if !strings.Contains(stderr, "exit status:\n  0  no errors") {
		t.Fatalf("check -h: %q", stderr)
	}
}

func TestVersionLine(t *testing.T) {
	info := &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-12-01T00:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	got := versionLine("dev", info)
	if !strings.HasPrefix(got, "publishbot v1.2.3 (0123456789ab+dirty, 2026-12-01T00:00:00Z) go") {
		t.Fatalf("versionLine = %q", got)
	}
	if got := versionLine("v9", nil); !strings.HasPrefix(got, "publishbot v9 go") {
		t.Fatalf("versionLine without build info = %q", got)
	}
}

// build DIR writes DIR/public, as Hugo's -s does, and a second build there
// is clean (its own output is not read back as content).
func TestBuildWritesIntoTheFolder(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := runArgs(t, "init", dir); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		out, stderr, err := runArgs(t, "build", "--base-url", "https://example.org/", dir)
		if err != nil {
			t.Fatalf("build: %v\n%s", err, stderr)
		}
		if !strings.Contains(out, filepath.Join(dir, "public")) {
			t.Fatalf("build said %q", out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "public", "index.html")); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := runArgs(t, "check", dir); err != nil || !strings.Contains(stderr, "no problems") {
		t.Fatalf("check after build: %v %s", err, stderr)
	}
}

func TestPublishSSHURLSaysUseHTTPS(t *testing.T) {
	for raw, want := range map[string]string{
		"git@github.com:acme/blog.git":       "use the https:// clone URL, https://github.com/acme/blog.git",
		"ssh://git@github.com/acme/blog.git": "use the https:// clone URL, https://github.com/acme/blog.git",
	} {
		_, _, err := repoFromURL(raw)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("repoFromURL(%q) = %v, want it to say %q", raw, err, want)
		}
	}
	if _, _, err := repoFromURL("https://github.com/acme/blog.git"); err != nil {
		t.Errorf("https URL refused: %v", err)
	}
}
