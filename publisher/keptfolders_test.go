package publisher

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/publishbot/publishbot/gitserver"
	"github.com/publishbot/publishbot/gitstore"
	"github.com/publishbot/publishbot/imagery"
	"github.com/publishbot/publishbot/internal/corpusgen"
	"github.com/publishbot/publishbot/site"
	"github.com/publishbot/publishbot/templates"
)

// datedBlog is a blog of n posts over three years, at /:year/:month/:slug/,
// so that its pages nest in folders a one-post edit leaves alone.
func datedBlog(n int) map[string]string {
	files := map[string]string{"publish.yaml": "title: Blog\nper_page: 5\npermalink: /:year/:month/:slug/\n"}
	for i := range n {
		files[fmt.Sprintf("posts/p%03d.md", i)] = datedPost(i, fmt.Sprintf("Post %d", i), 2023+i%3, 1+i%12, fmt.Sprint("t", i%4), "The body of post "+fmt.Sprint(i)+".")
	}
	return files
}

func datedPost(i int, title string, year, month int, tag, body string) string {
	return fmt.Sprintf("---\ntitle: %s\ndate: %d-%02d-%02d\ntags: [%s]\n---\n\n%s\n", title, year, month, 1+i%27, tag, body)
}

// TestIncrementalPublishKeepsFoldersWhole: after a one-post edit the
// folders of the other years and months go into the pages tree as the
// trees they were (Result.KeptFolders), and the tree is the very one a
// publisher without a cache makes; so it stays through a random sequence
// of edits of every kind, each compared with a full publish.
func TestIncrementalPublishKeepsFoldersWhole(t *testing.T) {
	inc := newEnv(t, func(o *Options) { o.Cache = openBuildCache(t) })
	full := newEnv(t)
	blog := datedBlog(36)
	both := func(c gitserver.Change) Result {
		t.Helper()
		r := inc.publish(inc.commit(c))
		if r.Outcome != OutcomePublished && r.Outcome != OutcomeUnchanged {
			t.Fatalf("%s: incremental publish %s: %v", c.Message, r.Outcome, r.Err)
		}
		f := full.publish(full.commit(c))
		if f.Outcome != r.Outcome {
			t.Fatalf("%s: incremental publish %s, full %s (%v)", c.Message, r.Outcome, f.Outcome, f.Err)
		}
		if a, b := inc.git("rev-parse", "gh-pages^{tree}"), full.git("rev-parse", "gh-pages^{tree}"); a != b {
			t.Fatalf("%s: the incremental publish (%d files kept, %d folders whole) made tree %s, the full one %s:\n%s",
				c.Message, r.Kept, r.KeptFolders, a, b, inc.git("diff", "--stat", b, a))
		}
		return r
	}
	both(gitserver.Change{Ref: "main", Message: "import", Files: blog})
	r := both(gitserver.Change{Ref: "main", Message: "edit p007", Files: map[string]string{
		"posts/p007.md": strings.Replace(blog["posts/p007.md"], "The body", "The edited body", 1)}})
	if r.KeptFolders < 3 {
		t.Fatalf("a one-post edit kept %d folders whole (%d files kept, %d rendered)", r.KeptFolders, r.Kept, r.Rendered)
	}
	t.Logf("one post edited: %d files rendered, %d kept, %d folders kept whole", r.Rendered, r.Kept, r.KeptFolders)

	rng := rand.New(rand.NewPCG(13, 13))
	next := 100
	for step := range 24 {
		i := rng.IntN(36)
		p := fmt.Sprintf("posts/p%03d.md", i)
		var c gitserver.Change
		switch k := rng.IntN(8); k {
		case 0:
			c = gitserver.Change{Message: "body", Files: map[string]string{p: datedPost(i, fmt.Sprint("Post ", i), 2023+i%3, 1+i%12, fmt.Sprint("t", i%4), fmt.Sprint("Body ", step))}}
		case 1:
			c = gitserver.Change{Message: "title", Files: map[string]string{p: datedPost(i, fmt.Sprint("Retitled ", step), 2023+i%3, 1+i%12, fmt.Sprint("t", i%4), "Body.")}}
		case 2: // moves the post to another year and month
			c = gitserver.Change{Message: "date", Files: map[string]string{p: datedPost(i, fmt.Sprint("Post ", i), 2022+rng.IntN(4), 1+rng.IntN(12), fmt.Sprint("t", i%4), "Moved.")}}
		case 3:
			c = gitserver.Change{Message: "tag", Files: map[string]string{p: datedPost(i, fmt.Sprint("Post ", i), 2023+i%3, 1+i%12, fmt.Sprint("t", rng.IntN(6)), "Tagged.")}}
		case 4:
			next++
			c = gitserver.Change{Message: "new post", Files: map[string]string{fmt.Sprintf("posts/p%03d.md", next): datedPost(next, "New", 2021+rng.IntN(5), 1+rng.IntN(12), "t1", "New.")}}
		case 5:
			c = gitserver.Change{Message: "delete", Delete: []string{p}}
			if _, ok := blog[p]; !ok {
				continue
			}
			delete(blog, p)
		case 6:
			c = gitserver.Change{Message: "config", Files: map[string]string{"publish.yaml": fmt.Sprintf("title: Blog %d\nper_page: %d\npermalink: /:year/:month/:slug/\n", step, 4+rng.IntN(3))}}
		case 7:
			c = gitserver.Change{Message: "draft", Files: map[string]string{p: strings.Replace(datedPost(i, fmt.Sprint("Post ", i), 2023+i%3, 1+i%12, "t0", "Draft."), "tags:", "draft: true\ntags:", 1)}}
		}
		if c.Files != nil {
			for q, text := range c.Files {
				blog[q] = text
			}
		}
		c.Ref, c.Message = "main", fmt.Sprintf("step %d: %s", step, c.Message)
		r := both(c)
		t.Logf("%s: %d rendered, %d kept, %d folders whole", c.Message, r.Rendered, r.Kept, r.KeptFolders)
	}
	if out := inc.git("fsck", "--strict", "--no-dangling"); strings.Contains(out, "error") || strings.Contains(out, "missing") {
		t.Fatalf("fsck: %s", out)
	}
}

// kept keeps a folder whole only when every file the last build had in it
// is kept and nothing is made in it; it keeps the highest such folder.
func TestKeptFoldersRule(t *testing.T) {
	h := func(b byte) [20]byte { return [20]byte{b} }
	paths := []string{"a/x/1", "a/y/2", "b/1", "b/c/2", "d/1", "d/2", "e/1", "f/1", "index.html"}
	inc := &incremental{
		folders: []manifestFolder{{"a", h(1)}, {"a/x", h(2)}, {"a/y", h(3)}, {"b", h(4)}, {"b/c", h(5)},
			{"d", h(6)}, {"f", h(8)}}, // e has no record
	}
	last := map[string]manifestEntry{}
	for i, p := range paths {
		last[p] = manifestEntry{blob: h(byte(100 + i))}
	}
	inc.last = indexFiles(last)
	out := &site.Output{
		// d/2 is gone (deleted, not kept); f/2 is new; a/y/2 is kept
		Kept:  []string{"a/x/1", "a/y/2", "b/1", "b/c/2", "d/1", "e/1", "f/1", "index.html"},
		Files: map[string][]byte{"f/2": nil, "a/new/3": nil},
	}
	got := inc.kept(out)
	want := []gitstore.Kept{
		{Path: "a/x", Blob: h(2), Folder: true}, {Path: "a/y", Blob: h(3), Folder: true},
		{Path: "b", Blob: h(4), Folder: true},
		{Path: "d/1", Blob: h(104)}, {Path: "e/1", Blob: h(106)}, {Path: "f/1", Blob: h(107)},
		{Path: "index.html", Blob: h(108)},
	}
	if !slices.Equal(got, want) {
		t.Errorf("kept:\n got %v\nwant %v", got, want)
	}
	if !slices.Equal(inc.keptFolders, []string{"a/x", "a/y", "b"}) {
		t.Errorf("kept folders %v", inc.keptFolders)
	}

	// The record: made folders, the last build's folders inside the ones
	// kept whole (b/c), none above a file the record leaves out.
	// f/2 was made but has no hash (taken out of the tree): f is dropped.
	out.Keys = map[string]templates.Key{"a/new/3": {3}}
	m, err := decodeManifest(bytes.Join(inc.record(out, map[string]string{"a/new/3": strings.Repeat("ab", 20)},
		map[string][20]byte{"a": h(11), "a/x": h(2), "a/y": h(3), "b": h(4), "f": h(12), "a/new": h(13)}, h(9)), nil))
	if err != nil {
		t.Fatal(err)
	}
	wantRec := []manifestFolder{{"a", h(11)}, {"a/new", h(13)}, {"a/x", h(2)}, {"a/y", h(3)}, {"b", h(4)}, {"b/c", h(5)}}
	if !slices.Equal(m.folders, wantRec) {
		t.Errorf("record:\n got %v\nwant %v", m.folders, wantRec)
	}
	if want := []string{"a/new/3", "a/x/1", "a/y/2", "b/1", "b/c/2", "d/1", "e/1", "f/1", "index.html"}; !slices.Equal(m.files.paths, want) || m.commit != h(9) {
		t.Errorf("record's files %v, want %v", m.files.paths, want)
	}

	// Without records, or when the kept files are not the last build's in
	// order, every file is kept as a file.
	for name, inc2 := range map[string]*incremental{
		"no records":  {last: inc.last},
		"other order": {last: fileIndex{paths: slices.Concat(paths[1:], paths[:1])}, folders: inc.folders},
	} {
		got := inc2.kept(out)
		if len(got) != len(out.Kept) || countFolders(got) != 0 {
			t.Errorf("%s: kept %v", name, got)
		}
	}
}

// record makes, copying the last record's bytes where it keeps entries,
// exactly the manifest of the files and folders it keeps and makes, with
// or without the last record's bytes, after random builds.
func TestRecordIsTheManifestOfTheBuild(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for round := range 300 {
		// the last build: files under a few folders, every folder recorded
		lastFiles := map[string]manifestEntry{}
		var dirs []string
		for d := range 1 + rng.IntN(6) {
			for s := range rng.IntN(4) {
				dirs = append(dirs, fmt.Sprintf("d%d/s%d", d, s))
			}
			dirs = append(dirs, fmt.Sprintf("d%d", d))
		}
		for i := range rng.IntN(40) {
			p := fmt.Sprintf("f%d.html", i)
			if len(dirs) > 0 && rng.IntN(4) > 0 {
				p = dirs[rng.IntN(len(dirs))] + "/" + p
			}
			lastFiles[p] = manifestEntry{key: templates.Key{byte(i)}, blob: [20]byte{byte(i)}, size: int64(i)}
		}
		last := manifest{files: indexFiles(lastFiles)}
		for _, d := range dirs {
			last.folders = append(last.folders, manifestFolder{d, [20]byte{byte(len(d))}})
		}
		m, err := decodeManifest(encodeManifest(last))
		if err != nil {
			t.Fatal(err)
		}
		inc := &incremental{last: m.files, folders: m.folders}
		if rng.IntN(3) > 0 {
			inc.raw, inc.fileSpans, inc.folderSpans = m.raw, m.fileSpans, m.folderSpans
		}
		// this build: most files kept, some made again, some gone, some new
		out := &site.Output{Files: map[string][]byte{}, Keys: map[string]templates.Key{}}
		hashes := map[string]string{}
		var wantFiles []manifestFile
		var leftOut []string
		for i, p := range m.files.paths {
			switch rng.IntN(6) {
			case 0: // gone
			case 1: // made again
				out.Files[p], out.Keys[p], hashes[p] = []byte("again"), templates.Key{0xaa}, strings.Repeat("cd", 20)
				wantFiles = append(wantFiles, manifestFile{p, manifestEntry{key: templates.Key{0xaa}, blob: [20]byte{0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd}, size: 5}})
			default:
				out.Kept = append(out.Kept, p)
				out.Keys[p] = m.files.entries[i].key
				wantFiles = append(wantFiles, manifestFile{p, m.files.entries[i]})
			}
		}
		for i := range rng.IntN(5) {
			p := fmt.Sprintf("new%d.html", i)
			if len(dirs) > 0 && rng.IntN(2) == 0 {
				p = dirs[rng.IntN(len(dirs))] + "/" + p
			}
			out.Files[p], out.Keys[p] = []byte("new"), templates.Key{0xbb}
			if rng.IntN(4) == 0 { // taken out of the tree: no hash
				leftOut = append(leftOut, p)
				continue
			}
			hashes[p] = strings.Repeat("ef", 20)
			wantFiles = append(wantFiles, manifestFile{p, manifestEntry{key: templates.Key{0xbb}, blob: [20]byte{0xef, 0xef, 0xef, 0xef, 0xef, 0xef, 0xef, 0xef, 0xef, 0xef, 0xef, 0xef, 0xef, 0xef, 0xef, 0xef, 0xef, 0xef, 0xef, 0xef}, size: 3}})
		}
		if rng.IntN(4) == 0 { // kept, but not in the last record (never so): not recorded, nor are its folders
			p := "stray.html"
			if len(dirs) > 0 {
				p = dirs[rng.IntN(len(dirs))] + "/stray.html"
			}
			out.Kept = append(out.Kept, p)
			slices.Sort(out.Kept)
			leftOut = append(leftOut, p)
		}
		slices.SortFunc(wantFiles, compareFiles)
		// the folders: some kept whole (their records carried), others made
		made := map[string][20]byte{}
		for _, d := range dirs {
			if !strings.Contains(d, "/") && rng.IntN(2) == 0 {
				inc.keptFolders = append(inc.keptFolders, d)
				made[d] = [20]byte{byte(len(d))}
			} else if rng.IntN(2) == 0 {
				made[d] = [20]byte{0x77}
			}
		}
		slices.Sort(inc.keptFolders)
		drop := map[string]bool{}
		for _, p := range leftOut {
			for i := strings.LastIndexByte(p, '/'); i > 0; i = strings.LastIndexByte(p[:i], '/') {
				drop[p[:i]] = true
			}
		}
		var wantFolders []manifestFolder
		for p, h := range made {
			if !drop[p] {
				wantFolders = append(wantFolders, manifestFolder{p, h})
			}
		}
		for _, f := range m.folders {
			for _, k := range inc.keptFolders {
				if strings.HasPrefix(f.path, k+"/") && !drop[f.path] {
					if _, ok := made[f.path]; !ok {
						wantFolders = append(wantFolders, f)
					}
				}
			}
		}
		slices.SortFunc(wantFolders, compareFolders)
		got := bytes.Join(inc.record(out, hashes, made, [20]byte{byte(round)}), nil)
		if want := encodeFiles([20]byte{byte(round)}, wantFiles, wantFolders); !slices.Equal(got, want) {
			g, _ := decodeManifest(got)
			t.Fatalf("round %d (last record's bytes: %v): the record differs\n got files %v folders %v\nwant files %v folders %v",
				round, inc.raw != nil, g.files.paths, g.folders, wantFiles, wantFolders)
		}
	}
}

// The Rust blog (its first 120 posts, with their real addresses, aliases
// and photos) and jekyllrb.com's 102 news posts (at Jekyll's addresses),
// each published with and without the build cache through edits of an
// old post's body, a post's date (it moves to another year), a deletion
// and a new post: the same pages tree every time, and the edits keep
// folders whole.
func TestIncrementalPublishKeepsFoldersOfRealBlogs(t *testing.T) {
	t.Run("rust", func(t *testing.T) {
		raw, err := corpusgen.Files(filepath.Join("..", "..", "shared", "testdata", "corpus", "zola-rust-blog"), 120)
		if err != nil {
			t.Fatal(err)
		}
		blog := make(map[string]string, len(raw))
		for p, b := range raw {
			blog[p] = string(b)
		}
		dated := corpusgen.DatedPosts(raw)
		slices.Sort(dated)
		old, moved, gone := dated[10], dated[len(dated)/2], dated[len(dated)/3]
		date := regexp.MustCompile(`(?m)^date = .*$`)
		keepsFoldersThroughEdits(t, blog, []gitserver.Change{
			{Message: "an old post's body", Files: map[string]string{old: blog[old] + "\n\nA correction.\n"}},
			{Message: "a post moved to 2011", Files: map[string]string{moved: date.ReplaceAllString(blog[moved], "date = 2011-06-15")}},
			{Message: "a post deleted", Delete: []string{gone}},
			{Message: "a new post", Files: map[string]string{"posts/a-new-post.md": "+++\ntitle = \"A new post\"\ndate = 2019-03-04\n+++\n\nNew.\n"}},
		})
	})
	t.Run("jekyll", func(t *testing.T) {
		dir := filepath.Join("..", "..", "shared", "testdata", "corpus", "jekyll")
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		blog := map[string]string{"publish.yaml": "title: Jekyll News\nbase_url: https://jekyllrb.com/\n" +
			"permalink: /news/:year/:month/:day/:title/\ntimezone: America/Los_Angeles\ngenerator: jekyll\n"}
		var names []string
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			blog["posts/"+e.Name()] = string(b)
			if strings.Contains(string(b), "\ndate:") {
				names = append(names, "posts/"+e.Name())
			}
		}
		slices.Sort(names)
		old, moved, gone := names[5], names[len(names)/2], names[len(names)/3]
		date := regexp.MustCompile(`(?m)^date:.*$`)
		keepsFoldersThroughEdits(t, blog, []gitserver.Change{
			{Message: "an old post's body", Files: map[string]string{old: blog[old] + "\n\nA correction.\n"}},
			{Message: "a post moved to 2011", Files: map[string]string{moved: date.ReplaceAllString(blog[moved], `date: "2011-06-15 10:00:00 -0700"`)}},
			{Message: "a post deleted", Delete: []string{gone}},
			{Message: "a new post", Files: map[string]string{"posts/2019-03-04-a-new-post.md": "---\ntitle: A new post\n---\n\nNew.\n"}},
		})
	})
}

// keepsFoldersThroughEdits publishes blog, then each edit, with and
// without the build cache, and wants the same pages tree each time, and
// folders kept whole by the first edit.
func keepsFoldersThroughEdits(t *testing.T, blog map[string]string, edits []gitserver.Change) {
	// one image cache for both: the photos are resized once
	images := imagery.New(imagery.NewDirCache(t.TempDir()))
	inc := newEnv(t, func(o *Options) { o.Cache, o.Images = openBuildCache(t), images })
	full := newEnv(t, func(o *Options) { o.Images = images })
	both := func(c gitserver.Change) Result {
		t.Helper()
		c.Ref = "main"
		r := inc.publish(inc.commit(c))
		mustOutcome(t, r, OutcomePublished)
		mustOutcome(t, full.publish(full.commit(c)), OutcomePublished)
		if a, b := inc.git("rev-parse", "gh-pages^{tree}"), full.git("rev-parse", "gh-pages^{tree}"); a != b {
			t.Fatalf("%s: the incremental publish (%d kept, %d folders whole) made tree %s, the full one %s:\n%s",
				c.Message, r.Kept, r.KeptFolders, a, b, inc.git("diff", "--stat", b, a))
		}
		return r
	}
	both(gitserver.Change{Message: "import", Files: blog})
	for i, c := range edits {
		r := both(c)
		t.Logf("%s: %d rendered, %d kept, %d folders whole", c.Message, r.Rendered, r.Kept, r.KeptFolders)
		if i == 0 && (r.KeptFolders == 0 || r.Rendered > 100) {
			t.Errorf("%s: %d rendered, %d kept, %d folders whole", c.Message, r.Rendered, r.Kept, r.KeptFolders)
		}
	}
}

// A pull request's preview keeps folders whole too (under pr-preview/pr-N
// of the pages branch), and a publish of the site between its pushes
// leaves the previews as they are: the pages tree is the one publishers
// without a cache make, at every step.
func TestIncrementalPreviewKeepsFoldersWhole(t *testing.T) {
	inc := newEnv(t, func(o *Options) { o.Cache = openBuildCache(t) })
	full := newEnv(t)
	blog := datedBlog(24)
	same := func(what string, r Result) {
		t.Helper()
		if a, b := inc.git("rev-parse", "gh-pages^{tree}"), full.git("rev-parse", "gh-pages^{tree}"); a != b {
			t.Fatalf("%s: the incremental job (%d kept, %d folders whole) made tree %s, the full one %s:\n%s",
				what, r.Kept, r.KeptFolders, a, b, inc.git("diff", "--stat", b, a))
		}
	}
	commit := func(c gitserver.Change) (string, string) { return inc.commit(c), full.commit(c) }
	a, b := commit(gitserver.Change{Ref: "main", Message: "import", Files: blog})
	mustOutcome(t, full.publish(b), OutcomePublished)
	r := inc.publish(a)
	mustOutcome(t, r, OutcomePublished)
	same("import", r)
	parentA, parentB := a, b
	var last Result
	for i, p := range []string{"posts/p003.md", "posts/p011.md", "posts/p019.md"} {
		c := gitserver.Change{Ref: "refs/pull/5/head", Message: fmt.Sprint("push ", i), Files: map[string]string{
			p: strings.Replace(blog[p], "The body", fmt.Sprint("Push ", i, " of the body"), 1)}}
		c.Parent = parentA
		a := inc.commit(c)
		c.Parent = parentB
		b := full.commit(c)
		parentA, parentB = a, b
		// from a branch of the repository itself: a fork's preview is
		// always rendered whole
		fj, ij := full.previewJob(5, b), inc.previewJob(5, a)
		fj.HeadRepo, ij.HeadRepo = testRepo, testRepo
		mustOutcome(t, full.run(fj), OutcomePublished)
		last = inc.run(ij)
		mustOutcome(t, last, OutcomePublished)
		same(c.Message, last)
		if i == 1 { // the site moves on meanwhile
			a, b := commit(gitserver.Change{Ref: "main", Message: "edit p007", Files: map[string]string{
				"posts/p007.md": strings.Replace(blog["posts/p007.md"], "The body", "The edited body", 1)}})
			mustOutcome(t, full.publish(b), OutcomePublished)
			r := inc.publish(a)
			mustOutcome(t, r, OutcomePublished)
			same("a publish between two pushes", r)
			if r.KeptFolders == 0 {
				t.Errorf("the publish kept no folder whole (%d files kept)", r.Kept)
			}
		}
	}
	if last.KeptFolders == 0 {
		t.Errorf("the preview's last push kept no folder whole (%d files kept, %d rendered)", last.Kept, last.Rendered)
	}
	t.Logf("the preview's last push: %d rendered, %d kept, %d folders whole", last.Rendered, last.Kept, last.KeptFolders)
}
