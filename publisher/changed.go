package publisher

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/publishbot/publishbot/gitstore"
	"github.com/publishbot/publishbot/posts"
	"github.com/publishbot/publishbot/site"
)

// changedPosts lists the posts a pull request adds, changes or removes: the
// diff of the base and head commits under posts_dir, mapped to posts of the
// preview site (and, for old titles, of the base site).
func (jb *job) changedPosts(ctx context.Context, base, head gitstore.Commit, cfg *posts.Config, built *site.Output, previewBase string) ([]ChangedPost, error) {
	dir := strings.Trim(cfg.PostsDir, "/")
	if dir == "" {
		dir = posts.DefaultPostsDir
	}
	diff, err := jb.repo.Diff(base.Hash, head.Hash, dir)
	if err != nil {
		return nil, fmt.Errorf("diff posts: %w", err)
	}
	if len(diff) == 0 {
		return nil, nil
	}
	var all []*posts.Post
	var pages map[string]int
	notPosts := map[string]bool{}   // sections' _index.md and files that only redirect
	linkedBy := map[string]string{} // a file posts link to -> the first of them
	if built != nil && built.Site != nil {
		all, pages = built.Site.Posts, built.IndexPages
		for _, s := range built.Site.Sections {
			notPosts[s.Path] = true
		}
		for _, r := range built.Site.Redirects {
			notPosts[r.Path] = true
		}
		for _, a := range built.Site.Assets {
			if len(a.Posts) > 0 {
				linkedBy[a.Source] = a.Posts[0]
			}
		}
	}
	bySource := make(map[string]*posts.Post, len(all))
	byBundle := map[string]*posts.Post{}
	for _, p := range all {
		bySource[p.Path] = p
		if p.Bundle != "" {
			byBundle[p.Bundle] = p
		}
	}
	owner := func(f string) *posts.Post {
		if by, ok := linkedBy[f]; ok {
			f = by // an image a post links to changes that post
		}
		if p := bySource[f]; p != nil {
			return p
		}
		for dir := path.Dir(f); dir != "."; dir = path.Dir(dir) {
			if p := byBundle[dir]; p != nil {
				return p
			}
		}
		return nil
	}
	// The base's posts of the changed files give old titles: those alone
	// are loaded (a base that does not load only loses them).
	var before []string
	for f := range diff {
		if p := owner(f); p != nil {
			before = append(before, p.Path)
		} else if isPostSource(f, dir) {
			before = append(before, f)
		}
	}
	oldTitles := map[string]string{}
	if len(before) > 0 {
		baseSite, err := posts.Load(ctx, newOnlyFiles(base.Tree, before), posts.Options{Config: cfg, Now: jb.p.now(), Repo: jb.j.Repo.FullName, Limits: jb.p.limits.Build.Post})
		if err == nil && baseSite != nil {
			for _, p := range baseSite.Posts {
				oldTitles[p.Path] = p.Title
			}
		}
	}
	byPath := map[string]*ChangedPost{}
	for f, status := range diff {
		if notPosts[f] || path.Base(f) == "_index.md" || path.Base(f) == "_index.markdown" {
			continue // not a post, and not listed as one removed
		}
		if p := owner(f); p != nil {
			if _, ok := byPath[p.Path]; ok {
				continue
			}
			cp := &ChangedPost{
				Path: p.Path, Title: p.Title, Status: "changed",
				URL:         previewBase + postAddress(p),
				ReadingTime: p.ReadingTime, IndexPage: pages[p.Path],
				Draft: p.Draft, Future: p.Future,
			}
			if old, ok := oldTitles[p.Path]; ok {
				if old != p.Title {
					cp.OldTitle = old
				}
			} else if _, err := fs.Stat(base.Tree, p.Path); err != nil {
				cp.Status = "added"
			}
			byPath[p.Path] = cp
			continue
		}
		if !isPostSource(f, dir) {
			continue
		}
		// Not in the site: removed, or the post has errors (see
		// Diagnostics).
		byPath[f] = &ChangedPost{Path: f, Title: oldTitles[f], Status: string(status)}
	}
	out := make([]ChangedPost, 0, len(byPath))
	for _, cp := range byPath {
		out = append(out, *cp)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// postAddress is where a post lives in the site: its address, or the
// default one for a Post that posts.Load did not make.
func postAddress(p *posts.Post) string {
	if p.Address != "" {
		return p.Address
	}
	return posts.PostPath(p.Slug)
}

// isPostSource: a Markdown file that can be a post of posts_dir dir (a
// single file or a bundle's index); with dir ".", only files at the root.
func isPostSource(f, dir string) bool {
	if dir == "." && strings.Contains(f, "/") {
		return false
	}
	ext := strings.ToLower(path.Ext(f))
	return ext == ".md" || ext == ".markdown"
}
