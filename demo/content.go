package demo

import (
	"errors"
	"fmt"
	"io/fs"
	"regexp"
)

// blogFiles is the example blog as repository files, with base_url pointed
// at the local pages server so every link works on this machine.
func blogFiles(blog fs.FS, siteURL string) (map[string]string, error) {
	files := map[string]string{}
	err := fs.WalkDir(blog, ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := fs.ReadFile(blog, p)
		if err != nil {
			return err
		}
		files[p] = string(b)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the example blog: %w", err)
	}
	cfg, ok := files["publish.yaml"]
	if !ok {
		return nil, errors.New("the example blog has no publish.yaml")
	}
	files["publish.yaml"] = baseURLLine.ReplaceAllString(cfg, "base_url: "+siteURL)
	return files, nil
}

var baseURLLine = regexp.MustCompile(`(?m)^base_url:.*$`)

// newPost is the post the demo's pull request adds.
const newPost = `---
title: Previews for every pull request
date: 2026-11-20 09:30:00 +0100
tags: [publishing, review]
summary: Every pull request to the blog now gets a preview of the site, and one comment that says what changed.
---

Reviewing a post as a diff of Markdown is reviewing the wrong thing. From
today, every pull request to this blog gets **a preview of the whole site**
under ` + "`pr-preview/pr-N/`" + `, with drafts shown, and one comment that lists
the posts it adds or changes with their preview links.

Errors point at the exact line, so an author can fix them without asking.
`

// brokenPost is the post without a title the pull request adds too.
const brokenPost = `---
date: 2026-11-21
tags: [drafts]
---

This post was pushed before it had a title.
`
