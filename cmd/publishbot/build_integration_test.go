package main

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/publishbot/publishbot/testkit"
)

// Real content beside this package: examples/blog of this module and the
// Jekyll corpus in ../shared next to the module.
var (
	exampleBlogDir = filepath.Join("..", "..", "examples", "blog")
)

// copyContentTree copies a content folder so a test may change it.
func copyContentTree(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "content")
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
	return dst
}

func runPublishbotCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(t.Context(), args, func(string) string { return "" }, &out, &errb)
	return exitCode(err, &errb), out.String(), errb.String()
}

func TestBuildExampleBlog(t *testing.T) {
	content := copyContentTree(t, exampleBlogDir)
	out := filepath.Join(t.TempDir(), "public")
	code, stdout, stderr := runPublishbotCmd(t, "build", "-o", out, content)
	if code != 0 {
		t.Fatalf("build: exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "built 11 posts") {
		t.Errorf("stdout = %q", stdout)
	}
	first := testkit.ReadTree(t, out)
	for _, f := range []string{"index.html", "page/2/index.html", "posts/mapping-the-office-network/index.html",
		"posts/mapping-the-office-network/cover.png", "feed.xml", "rss.xml", "feed.json", "sitemap.xml",
		"robots.txt", "404.html", ".nojekyll", "archive/index.html", "tags/index.html", "images/build-times.png"} {
		if _, ok := first[f]; !ok {
			t.Errorf("build wrote no %s", f)
		}
	}
	for f, data := range first {
		if strings.Contains(data, "Draft") && strings.HasSuffix(f, ".html") && strings.Contains(data, "mark-draft") {
			t.Errorf("%s shows a draft without --drafts", f)
		}
	}

	// the same input builds the same bytes
	out2 := filepath.Join(t.TempDir(), "public")
	if code, _, stderr := runPublishbotCmd(t, "build", content, "-o", out2); code != 0 {
		t.Fatalf("second build: exit %d: %s", code, stderr)
	}
	second := testkit.ReadTree(t, out2)
	if !maps.Equal(first, second) {
		t.Errorf("two builds of the same content differ")
	}

	// a removed post's files go; a rebuilt folder holds exactly the new site
	if err := os.RemoveAll(filepath.Join(content, "posts", "2026-03-18-mapping-the-office-network")); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runPublishbotCmd(t, "build", "-o", out, content)
	if code != 0 {
		t.Fatalf("rebuild: exit %d: %s", code, stderr)
	}
	third := testkit.ReadTree(t, out)
	for f := range third {
		if strings.HasPrefix(f, "posts/mapping-the-office-network/") {
			t.Errorf("stale %s left behind", f)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "posts", "mapping-the-office-network")); !os.IsNotExist(err) {
		t.Errorf("stale folder left behind")
	}
	if strings.Contains(stdout, " 0 stale files removed)") {
		t.Errorf("rebuild stdout = %q", stdout)
	}
}

func TestBuildDraftsFutureBaseURL(t *testing.T) {
	out := filepath.Join(t.TempDir(), "public")
	code, stdout, stderr := runPublishbotCmd(t, "build", "--drafts", "--future", "--base-url", "https://acme.github.io/blog/pr-preview/pr-3", "-o", out, exampleBlogDir)
	if code != 0 {
		t.Fatalf("build: exit %d: %s%s", code, stdout, stderr)
	}
	tree := testkit.ReadTree(t, out)
	idx := strings.Join([]string{tree["index.html"], tree["page/2/index.html"], tree["page/3/index.html"], tree["page/4/index.html"]}, "")
	if !strings.Contains(idx, ">Draft<") || !strings.Contains(idx, ">Scheduled<") {
		t.Errorf("drafts and future posts not shown and marked")
	}
	for f, data := range tree {
		if !strings.HasSuffix(f, ".html") {
			continue
		}
		for _, bad := range []string{`href="/blog/posts`, `href="/blog/tags`, `href="https://acme.github.io/blog/posts`} {
			if strings.Contains(data, bad) {
				t.Errorf("%s links outside the preview: %s", f, bad)
			}
		}
	}
	if !strings.Contains(tree["feed.xml"], "https://acme.github.io/blog/pr-preview/pr-3/posts/") {
		t.Errorf("feed does not use the new base URL")
	}
}

// TestBuildWithErrors builds the Jekyll corpus: one post has an invalid
// date; it is reported like `check` does, the rest is written, exit 1.
func TestBuildWithErrors(t *testing.T) {
	out := filepath.Join(t.TempDir(), "public")
	code, stdout, stderr := runPublishbotCmd(t, "build", "-o", out, jekyllCorpusWithError(t))
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, stdout, stderr)
	}
	want := "broken-date.md:3:7: error: " // as `check` prints it
	if !slices.ContainsFunc(strings.Split(stderr, "\n"), func(l string) bool { return strings.HasPrefix(l, want) }) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
	if !strings.Contains(stdout, "built 102 posts") || !strings.Contains(stdout, "1 error") {
		t.Errorf("stdout = %q", stdout)
	}
	if _, err := os.Stat(filepath.Join(out, "posts", "jekyll-4-4-1-released", "index.html")); err != nil {
		t.Errorf("the good posts were not written: %v", err)
	}
}

func TestBuildRefusesNonEmptyFolder(t *testing.T) {
	out := t.TempDir()
	os.WriteFile(filepath.Join(out, "notes.txt"), []byte("mine"), 0o644)
	code, _, stderr := runPublishbotCmd(t, "build", "-o", out, exampleBlogDir)
	if code != 1 || !strings.Contains(stderr, "refusing") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}
