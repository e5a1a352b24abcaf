package site

import (
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/publishbot/publishbot/imagery"
	"github.com/publishbot/publishbot/posts"
	"github.com/publishbot/publishbot/templates"
)

// referenceImages treats the images of the full builds the incremental
// ones are compared with: cached by the images' bytes, apart from any
// cache of an incremental build.
var referenceImages = imagery.New(imagery.NewMemCache())

// An incremental build (Render.Previous: the keys of the build before)
// with each kept file filled from the build before must be byte for byte
// the full build, after any edit.

// incremental builds content fully and incrementally on top of prev (the
// files and keys of the step before) and fails on any difference. It
// returns the filled incremental build and what it rendered.
//
// content may name its files' contents (an idFS, as gitstore's trees do);
// the full build reads the same files without those names, and treats
// images with a processor of its own (referenceImages): nothing of the
// incremental build's image cache reaches it.
func incremental(t *testing.T, step string, content fs.FS, opts Options, prevFiles map[string][]byte, prevKeys map[string]templates.Key) (files map[string][]byte, keys map[string]templates.Key, rendered []string) {
	t.Helper()
	theme, err := TemplatesDir(content)
	if err != nil {
		t.Fatal(err)
	}
	plain, fullOpts := content, opts
	fullOpts.Cache = nil // the reference: no build cache either
	if f, ok := content.(*idFS); ok {
		plain = f.MapFS
	}
	fullOpts.Render.Images = referenceImages
	full, ferr := Build(t.Context(), plain, theme, fullOpts)
	opts.Render.Keys, opts.Render.Previous = true, templates.KeyMap(prevKeys)
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
// static file, images replaced, removed and added, images settings,
// links) and compares the incremental build with a full one after every
// step. The content tree names its files' contents, as a git tree does,
// and images go through a cache in a folder that each build opens anew,
// as a `publishbot publish` process does. Some steps forget part of the
// previous keys, as a publisher does for files whose bytes it no longer
// has, and some damage the image cache.
func TestIncrementalRandomEdits(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			blog := newRandomBlog(seed, 14)
			imageDir := t.TempDir()
			// odd seeds build with a build cache too (posts' renders, the
			// search index's runs of words), kept from step to step
			var cache posts.RenderCache
			if seed%2 == 1 {
				cache = openCache(t, t.TempDir(), "v1")
			}
			var files map[string][]byte
			var keys map[string]templates.Key
			var rendered []string
			forget := true
			build := func(step string) {
				prev := keys
				if prev != nil && forget && blog.rng.IntN(4) == 0 {
					prev = maps.Clone(keys)
					for p := range prev {
						if blog.rng.IntN(3) == 0 {
							delete(prev, p)
						}
					}
				}
				if forget && blog.rng.IntN(6) == 0 {
					damageOneFile(t, imageDir, blog.rng.IntN)
				}
				opts := Options{Now: blog.now, Cache: cache, Render: templates.Options{Images: imagery.New(imagery.NewDirCache(imageDir))}}
				files, keys, rendered = incremental(t, step, withIDs(blog.content()), opts, files, prev)
			}
			build("first")
			total := len(files)
			forget = false
			build("nothing changed")
			forget = true
			if len(rendered) != 0 {
				t.Errorf("a build with nothing changed made %d of %d files again: %v", len(rendered), total, rendered)
			}
			sawFewer := false
			for step := range 40 {
				what := blog.edit(step, build)
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

// damageOneFile flips a byte of one of the files under dir, chosen with
// intn, or cuts it short.
func damageOneFile(t *testing.T, dir string, intn func(int) int) {
	t.Helper()
	var all []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			all = append(all, p)
		}
		return err
	})
	if len(all) == 0 {
		return
	}
	slices.Sort(all)
	p := all[intn(len(all))]
	b, err := os.ReadFile(p)
	if err != nil || len(b) == 0 {
		return
	}
	if intn(2) == 0 {
		b = b[:len(b)/2]
	} else {
		b[intn(len(b))] ^= 0x08
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
