package site

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/publishbot/publishbot/posts"
)

// TestBuildLimits: a build making more files or bytes than its Limits fails
// with a LimitError naming the limit, and still gives the loaded site.
func TestBuildLimits(t *testing.T) {
	for _, tc := range []struct {
		name   string
		limits Limits
		want   string // "" for no error
	}{
		{"defaults", Limits{}, ""},
		{"no limits", Limits{MaxFiles: -1, MaxBytes: -1}, ""},
		{"files", Limits{MaxFiles: 5}, "files, over the limit of 5 files per build"},
		{"bytes", Limits{MaxBytes: 1000}, "bytes, over the limit of 1000 bytes per build"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := BuildDir(t.Context(), exampleBlogDir, Options{Now: fixedNow, Limits: tc.limits})
			if tc.want == "" {
				if err != nil || len(out.Files) < 10 {
					t.Fatalf("%v, %d files", err, len(out.Files))
				}
				return
			}
			lim, ok := errors.AsType[*LimitError](err)
			if !ok || !strings.Contains(err.Error(), tc.want) || lim.Got <= lim.Limit {
				t.Fatalf("err = %v, want a LimitError saying %q", err, tc.want)
			}
			if out == nil || out.Site == nil || out.Files != nil {
				t.Errorf("want the loaded site and no files with the error")
			}
		})
	}
}

// TestBuildPostLimits: Limits.Post reaches the loading of posts: a post with
// more tags than allowed is an error of that post, and is left out.
func TestBuildPostLimits(t *testing.T) {
	content := fstest.MapFS{
		"publish.yaml":          {Data: []byte("title: T\nbase_url: https://t.example/\n")},
		"posts/2026-01-01-a.md": {Data: []byte("---\ntitle: A\ntags: [x, y, z]\n---\nbody\n")},
	}
	for _, tc := range []struct {
		limits posts.Limits
		posts  int
	}{{posts.Limits{}, 1}, {posts.Limits{MaxTags: 2}, 0}, {posts.Limits{MaxTags: 3}, 1}} {
		out, err := Build(t.Context(), content, nil, Options{Now: fixedNow, Limits: Limits{Post: tc.limits}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Site.Posts) != tc.posts {
			t.Errorf("%+v: %d posts, want %d (%v)", tc.limits, len(out.Site.Posts), tc.posts, out.Site.Diagnostics)
		}
		if tc.posts == 0 && (len(out.Site.Diagnostics) == 0 || out.Site.Diagnostics[0].Code != posts.CodeLimit) {
			t.Errorf("%+v: diagnostics %v, want a limit error", tc.limits, out.Site.Diagnostics)
		}
	}
}
