// Package scaffold owns the files publishbot writes for an author to start
// from: a new post (`publishbot new`), the first post of a new blog, and the
// .gitignore line that keeps `build`'s output out of the repository. It
// never overwrites a file.
package scaffold

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/publishbot/publishbot/posts"
)

// ErrExists is returned when the file to write is there already.
var ErrExists = errors.New("already exists")

// maxTitle bounds a new post's title (a command-line argument).
const maxTitle = 300

// PostOptions say what kind of post NewPost writes.
type PostOptions struct {
	Bundle bool      // a folder with index.md, for posts with images beside them
	Draft  bool      // draft: true in the front matter
	Now    time.Time // the post's date; zero means time.Now()
}

// NewPost writes a new post titled title under dir/postsDir:
// YYYY-MM-DD-slug.md, or YYYY-MM-DD-slug/index.md for a bundle, with front
// matter. It returns the path it wrote, relative to dir, and ErrExists
// (wrapped) when that file is there already.
func NewPost(dir, postsDir, title string, o PostOptions) (string, error) {
	title = strings.TrimSpace(title)
	if title == "" {
		return "", errors.New("a post needs a title")
	}
	if len(title) > maxTitle {
		return "", fmt.Errorf("title is longer than %d bytes", maxTitle)
	}
	slug := posts.TagSlug(title)
	if slug == "" {
		return "", fmt.Errorf("title %q has no letters or digits to make the file name from", title)
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	day := now.Format("2006-01-02")
	rel := filepath.Join(postsDir, day+"-"+slug+".md")
	if o.Bundle {
		rel = filepath.Join(postsDir, day+"-"+slug, "index.md")
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "---\ntitle: %s\ndate: %s\ntags: []\n", yamlString(title), now.Format("2006-01-02 15:04:05 -0700"))
	if o.Draft {
		b.WriteString("draft: true\n")
	}
	b.WriteString("---\n\nWrite the first paragraph here: it is the summary on the index page.\n\n<!--more-->\n\nThe rest of the post.\n")
	full := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return "", fmt.Errorf("create %s: %w", filepath.Dir(rel), err)
	}
	if err := WriteNew(full, b.Bytes()); err != nil {
		return "", err
	}
	return filepath.ToSlash(rel), nil
}

// yamlString quotes s for a YAML scalar when it needs it.
func yamlString(s string) string {
	if strings.ContainsAny(s, ":#'\"{}[],&*!|>%@`\\") || strings.HasPrefix(s, "-") || strings.HasPrefix(s, "?") ||
		strings.TrimSpace(s) != s || isYAMLWord(s) {
		return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
	}
	return s
}

// isYAMLWord: scalars YAML would read as something other than a string.
func isYAMLWord(s string) bool {
	switch strings.ToLower(s) {
	case "true", "false", "yes", "no", "on", "off", "null", "~", "y", "n":
		return true
	}
	for _, r := range s {
		if (r < '0' || r > '9') && r != '.' && r != '-' && r != '+' && r != 'e' && r != 'E' {
			return false
		}
	}
	return true
}

// WriteNew creates name with b, and fails with ErrExists (wrapped) rather
// than replace a file that is there.
func WriteNew(name string, b []byte) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s: %w", name, ErrExists)
		}
		return fmt.Errorf("create %s: %w", name, err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// IgnorePublic adds "public/" to dir's .gitignore unless a line already
// ignores it, and reports whether it changed the file.
func IgnorePublic(dir string) (bool, error) {
	name := filepath.Join(dir, ".gitignore")
	b, err := os.ReadFile(name)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("read .gitignore: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		switch strings.TrimSpace(line) {
		case "public", "public/", "/public", "/public/":
			return false, nil
		}
	}
	if len(b) > 0 && !bytes.HasSuffix(b, []byte("\n")) {
		b = append(b, '\n')
	}
	b = append(b, "public/\n"...)
	if err := os.WriteFile(name, b, 0o644); err != nil {
		return false, fmt.Errorf("write .gitignore: %w", err)
	}
	return true, nil
}

// StarterPost is the first post of a new blog: its file name under posts/
// and its contents.
func StarterPost(now time.Time) (string, []byte) {
	day := now.Format("2006-01-02")
	body := fmt.Sprintf(`---
title: Hello, world
date: %s
tags: [meta]
---

This is the first post of a blog published by publishbot. Edit it, or add
another with `+"`publishbot new \"Title\"`"+`, then run `+"`publishbot check`"+` to see
what a reader would notice and `+"`publishbot preview`"+` to read it in a browser.

<!--more-->

Posts are Markdown files in `+"`posts/`"+` with front matter between `+"`---`"+` lines.
Push them to GitHub and publishbot builds the blog on the `+"`gh-pages`"+` branch.
`, day)
	return day + "-hello-world.md", []byte(body)
}
