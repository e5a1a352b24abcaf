package site

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"testing/fstest"
	"time"

	"github.com/publishbot/publishbot/templates"
)

// An incremental build (Render.Previous: the keys of the build before)
// with each kept file filled from the build before must be byte for byte
// the full build, after any edit.

// incremental builds content fully and incrementally on top of prev (the
// files and keys of the step before) and fails on any difference. It
// returns the filled incremental build and what it rendered.
func incremental(t *testing.T, step string, content fstest.MapFS, opts Options, prevFiles map[string][]byte, prevKeys map[string]templates.Key) (files map[string][]byte, keys map[string]templates.Key, rendered []string) {
	t.Helper()
	theme, err := TemplatesDir(content)
	if err != nil {
		t.Fatal(err)
	}
	full, ferr := Build(t.Context(), content, theme, opts)
	opts.Render.Keys, opts.Render.Previous = true, prevKeys
	opts.KeptSize = func(p string) int64 { return int64(len(prevFiles[p])) }
	inc, ierr := Build(t.Context(), content, theme, opts)
	if (ferr == nil) != (ierr == nil) {
		t.Fatalf("%s: error %v in the full build, %v in the incremental one", step, ferr, ierr)
	}
	if ferr != nil {
		return prevFiles, prevKeys, nil
	}
	got := maps.Clone(inc.Files)
	for _, p := range inc.Kept {
		if _, made := inc.Files[p]; made {
			t.Errorf("%s: %s is both made and kept", step, p)
		}
		old, ok := prevFiles[p]
		if !ok {
			t.Fatalf("%s: %s is kept but the previous build has no such file", step, p)
		}
		got[p] = old
	}
	for _, name := range slices.Sorted(maps.Keys(full.Files)) {
		if g, ok := got[name]; !ok {
			t.Errorf("%s: %s is missing from the incremental build", step, name)
		} else if string(g) != string(full.Files[name]) {
			t.Errorf("%s: %s differs in the incremental build:\n%s", step, name, firstDiff(string(full.Files[name]), string(g)))
		}
	}
	for name := range got {
		if _, ok := full.Files[name]; !ok {
			t.Errorf("%s: %s is made only by the incremental build", step, name)
		}
	}
	if len(inc.Keys) != len(got) {
		t.Errorf("%s: %d keys for %d files", step, len(inc.Keys), len(got))
	}
	for p := range got {
		if _, ok := inc.Keys[p]; !ok {
			t.Errorf("%s: %s has no key", step, p)
		}
	}
	if fmt.Sprint(full.Site.Diagnostics) != fmt.Sprint(inc.Site.Diagnostics) {
		t.Errorf("%s: diagnostics differ:\n%v\n%v", step, full.Site.Diagnostics, inc.Site.Diagnostics)
	}
	return got, inc.Keys, slices.Sorted(maps.Keys(inc.Files))
}

// TestIncrementalRandomEdits applies random sequences of edits to a blog
// (body, title, a date that reorders, new and deleted posts, tags, draft,
// a scheduled post becoming due, configuration, a template override, a
// static file, links) and compares the incremental build with a full one
// after every step. Some steps forget part of the previous keys, as a
// publisher does for files whose bytes it no longer has.
func TestIncrementalRandomEdits(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 2))
			var ps []*blogPost
			for i := range 14 {
				ps = append(ps, &blogPost{title: fmt.Sprintf("Post %d", i), date: fmt.Sprintf("2026-0%d-%02d", 1+i%5, 1+i),
					body: fmt.Sprintf("Body of post %d, with *emphasis*.\n\n## A heading\n\nMore text.", i), tags: []string{"t" + fmt.Sprint(i%3)}, link: (i + 1) % 14})
			}
			config := "title: Incremental\nbase_url: https://acme.github.io/blog/\nper_page: 3\n"
			footer := ""
			now := cacheNow
			static := "PNG"
			var files map[string][]byte
			var keys map[string]templates.Key
			var rendered []string
			forget := true
			build := func(step string) {
				content := fstest.MapFS{"publish.yaml": {Data: []byte(config)}}
				if static != "" {
					content["static/img.png"] = &fstest.MapFile{Data: []byte(static)}
				}
				if footer != "" {
					content["templates/post-footer.html"] = &fstest.MapFile{Data: []byte(footer)}
				}
				for i, p := range ps {
					if p != nil {
						content[fmt.Sprintf("posts/p%03d.md", i)] = &fstest.MapFile{Data: []byte(p.text(ps))}
					}
				}
				prev := keys
				if prev != nil && forget && rng.IntN(4) == 0 {
					prev = maps.Clone(keys)
					for p := range prev {
						if rng.IntN(3) == 0 {
							delete(prev, p)
						}
					}
				}
				files, keys, rendered = incremental(t, step, content, Options{Now: now}, files, prev)
			}
			build("first")
			total := len(files)
			forget = false
			build("nothing changed")
			forget = true
			if len(rendered) != 0 {
				t.Errorf("a build with nothing changed made %d of %d files again: %v", len(rendered), total, rendered)
			}
			pick := func() *blogPost {
				for {
					if p := ps[rng.IntN(len(ps))]; p != nil {
						return p
					}
				}
			}
			sawFewer := false
			for step := range 40 {
				var what string
				switch rng.IntN(12) {
				case 0:
					p := pick()
					p.body += fmt.Sprintf("\n\nEdit %d.", step)
					what = "body"
				case 1:
					p := pick()
					p.title = fmt.Sprintf("Retitled %d", step)
					what = "title"
				case 2:
					p := pick()
					p.date = fmt.Sprintf("2026-0%d-%02d", 1+rng.IntN(5), 1+rng.IntN(28))
					what = "date"
				case 3:
					ps = append(ps, &blogPost{title: fmt.Sprintf("New %d", step), date: "2026-05-30", body: "A new post.", link: rng.IntN(len(ps))})
					what = "new post"
				case 4:
					ps[rng.IntN(len(ps))] = nil
					what = "deleted post"
				case 5:
					p := pick()
					p.tags = []string{"t" + fmt.Sprint(rng.IntN(5))}
					what = "tags"
				case 6:
					p := pick()
					p.draft = !p.draft
					what = "draft"
				case 7:
					p := pick()
					p.date = now.Add(time.Duration(1+rng.IntN(48)) * time.Hour).Format("2006-01-02T15:04:05Z")
					build(fmt.Sprintf("step %d: scheduled", step))
					now = now.Add(72 * time.Hour)
					what = "future post due"
				case 8:
					configs := []string{"per_page: 2\n", "toc: true\n", "timezone: America/New_York\n", "unsafe_html: true\n", "permalink: /:year/:slug/\n", "related: 0\n", "language: de\n"}
					config = "title: Incremental\nbase_url: https://acme.github.io/blog/\n" + configs[rng.IntN(len(configs))]
					what = "config"
				case 9:
					footers := []string{"", `<p class="licence">CC BY {{.Title}}</p>`, `<p>Comments for {{.Post.Title}}</p>`}
					footer = footers[rng.IntN(len(footers))]
					what = "template override"
				case 10:
					if static == "" {
						static = "PNG"
					} else {
						static = ""
					}
					what = "static file"
				case 11:
					p := pick()
					p.link = rng.IntN(len(ps))
					what = "link"
				}
				build(fmt.Sprintf("step %d: %s", step, what))
				t.Logf("step %d: %s: made %d of %d files: %v", step, what, len(rendered), len(files), rendered)
				if len(rendered) > 0 && len(rendered) < len(files)/2 {
					sawFewer = true
				}
			}
			if !sawFewer {
				t.Error("no step made fewer than half the files again")
			}
		})
	}
}
