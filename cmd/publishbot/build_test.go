package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

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

// TestBuildLimitsFromEnv: PUBLISHBOT_MAX_FILES and PUBLISHBOT_MAX_BYTES bound
// `build` as they bound serve; a site beyond them writes nothing.
func TestBuildLimitsFromEnv(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "posts"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "publish.yaml"), []byte("title: X\nbase_url: https://x.example/\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "posts", "a.md"), []byte("---\ntitle: A\ndate: 2026-01-01\n---\nbody\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	env := map[string]string{"PUBLISHBOT_MAX_FILES": "3"}
	err := runBuild(t.Context(), []string{"-o", out, dir}, envMap(env), &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "over the limit of 3 files per build") {
		t.Fatalf("build: %v, want the file limit", err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a site over the limit was written")
	}
	env = map[string]string{"PUBLISHBOT_MAX_BYTES": "many"}
	if err := runBuild(t.Context(), []string{"-o", out, dir}, envMap(env), &bytes.Buffer{}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "PUBLISHBOT_MAX_BYTES") {
		t.Fatalf("a bad PUBLISHBOT_MAX_BYTES: %v", err)
	}
	if err := runBuild(t.Context(), []string{"-o", out, dir}, envMap(map[string]string{"PUBLISHBOT_MAX_FILES": "1000"}), &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Fatalf("build within the limit: %v", err)
	}
}

// TestCheckAppliesTheOperatorsLimits: check finds what a publish under the
// same PUBLISHBOT_MAX_* would refuse.
func TestCheckAppliesTheOperatorsLimits(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "posts"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "publish.yaml"), []byte("title: X\nbase_url: https://x.example/\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "posts", "a.md"), []byte("---\ntitle: A\ndate: 2026-01-01\ntags: [a, b, c]\n---\nbody\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		env  map[string]string
		want string // "" for a clean check
	}{
		{nil, ""},
		{map[string]string{"PUBLISHBOT_MAX_TAGS": "2"}, "[limit-exceeded]"},
		{map[string]string{"PUBLISHBOT_MAX_FILES": "3"}, "over the limit of 3 files per build [limit-exceeded]"},
	} {
		var stdout bytes.Buffer
		err := runCheck(t.Context(), []string{dir}, envMap(tc.env), &stdout, &bytes.Buffer{})
		if tc.want == "" {
			if err != nil {
				t.Errorf("%v: %v\n%s", tc.env, err, stdout.String())
			}
			continue
		}
		if err == nil || !strings.Contains(stdout.String(), tc.want) {
			t.Errorf("%v: %v, output %q; want %q", tc.env, err, stdout.String(), tc.want)
		}
	}
}
