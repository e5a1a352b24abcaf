package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/publishbot/publishbot/testkit"
)

// build keeps its image work in PUBLISHBOT_DATA_DIR/images (else the user
// cache folder): a second build reuses it and writes the same bytes.
func TestBuildCachesImages(t *testing.T) {
	content := copyContentTree(t, exampleBlogDir)
	data := t.TempDir()
	getenv := func(k string) string {
		if k == "PUBLISHBOT_DATA_DIR" {
			return data
		}
		return ""
	}
	build := func(out string) map[string]string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if err := run(t.Context(), []string{"build", "-o", out, content}, getenv, &stdout, &stderr); err != nil {
			t.Fatalf("build: %v\n%s", err, stderr.String())
		}
		return testkit.ReadTree(t, out)
	}
	first := build(filepath.Join(t.TempDir(), "a"))
	var entries []string
	_ = filepath.WalkDir(filepath.Join(data, "images"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			entries = append(entries, p)
		}
		return nil
	})
	if len(entries) < 5 {
		t.Fatalf("%d cache entries after a build of 5 images", len(entries))
	}
	second := build(filepath.Join(t.TempDir(), "b"))
	if len(first) != len(second) {
		t.Fatalf("%d files, then %d", len(first), len(second))
	}
	for name, b := range first {
		if b != second[name] {
			t.Errorf("%s differs between a cold and a cached build", name)
		}
	}
	if !strings.Contains(first["posts/an-evening-by-the-lake/index.html"], "srcset=") {
		t.Error("the photo post has no srcset")
	}
}
