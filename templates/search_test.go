package templates

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/publishbot/publishbot/posts"
	"github.com/publishbot/publishbot/testkit"
)

// zolaDir is the Zola corpus (the Rust blog, 750 posts) beside the module.
var zolaDir = filepath.Join("..", "..", "shared", "testdata", "corpus", "zola-rust-blog")

// zolaContent is the Zola corpus as a content tree, with baseURL.
func zolaContent(t testing.TB, baseURL string) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{"publish.yaml": {Data: []byte("title: Rust Blog\nbase_url: " + baseURL + "\n")}}
	for name, data := range testkit.ReadTree(t, zolaDir) {
		m["posts/"+name] = &fstest.MapFile{Data: []byte(data)}
	}
	return m
}

func renderContent(t testing.TB, content fstest.MapFS) (*posts.Site, map[string][]byte) {
	t.Helper()
	site, err := posts.Load(t.Context(), content, posts.Options{Now: fixedNow})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	r, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := r.Render(t.Context(), site, content, Options{})
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	return site, out.Files
}

func gzipSize(t testing.TB, data []byte) int {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Len()
}

// TestSearchIndexWeight: on the Zola corpus, the search page with its
// stylesheet and script, the index and the two largest word shards (what
// the heaviest two-word query needs) weigh under 200 KB gzipped.
func TestSearchIndexWeight(t *testing.T) {
	site, out := renderContent(t, zolaContent(t, "https://blog.rust-lang.org/"))
	if n := len(shown(site, Options{})); n < 700 {
		t.Fatalf("the corpus shows %d posts, want 700 or more", n)
	}
	var idx searchIndex
	if err := json.Unmarshal(out[searchIndexPath], &idx); err != nil {
		t.Fatalf("index: %v", err)
	}
	if len(idx.Docs) != len(shown(site, Options{})) {
		t.Errorf("index has %d posts, the site %d", len(idx.Docs), len(shown(site, Options{})))
	}
	base := 0
	for _, f := range []string{"search/index.html", StylesheetPath, searchScriptPath, searchIndexPath} {
		data, ok := out[f]
		if !ok {
			t.Fatalf("no %s", f)
		}
		n := gzipSize(t, data)
		t.Logf("%s: %d bytes, %d gzipped", f, len(data), n)
		base += n
	}
	var shardSizes []int
	all := 0
	for _, k := range idx.Shards {
		data, ok := out[shardPath(k)]
		if !ok {
			t.Fatalf("no %s", shardPath(k))
		}
		n := gzipSize(t, data)
		all += n
		shardSizes = append(shardSizes, n)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(shardSizes)))
	worst := base + shardSizes[0]
	if len(shardSizes) > 1 {
		worst += shardSizes[1]
	}
	t.Logf("%d shards, %d bytes gzipped in all, largest %v; page, index and two largest shards: %d bytes gzipped",
		len(idx.Shards), all, shardSizes[:min(3, len(shardSizes))], worst)
	if worst >= 200_000 {
		t.Errorf("a two-word query needs %d bytes gzipped, want under 200 KB", worst)
	}
	for f := range out {
		if strings.HasPrefix(f, searchDir) && !site.Serves(f) {
			t.Errorf("%s is not a file posts knows", f)
		}
	}
}

// TestSearchIndexWords: the index has every post, with its title, address,
// date, tags and summary, and finds it by the folded words of its title,
// tags and text; search: false writes none of it and no header link.
func TestSearchIndexWords(t *testing.T) {
	files := map[string]string{
		"publish.yaml":             "title: Blog\nbase_url: https://acme.github.io/blog/\n",
		"posts/2026-01-02-cafe.md": "---\ntitle: Café society\ntags: [Drinks, Paris]\n---\nThe espresso at Zoë's was strong. 東京に行く。\n\n```\nnotindexed\n```\n",
		"posts/2026-01-01-tea.md":  "---\ntitle: Tea\n---\nA pot of Darjeeling, and a café au lait.\n",
	}
	site, out := loadFiles(t, files)
	outFiles := mustRender(t, site, out, Options{})
	var idx searchIndex
	if err := json.Unmarshal(outFiles[searchIndexPath], &idx); err != nil {
		t.Fatal(err)
	}
	if len(idx.Docs) != 2 || idx.Docs[0][0] != "Café society" || idx.Docs[0][1] != "posts/cafe/" || idx.Docs[0][2] != "Jan 2, 2026" ||
		idx.Docs[0][3] != "Drinks, Paris" || !strings.HasPrefix(idx.Docs[0][4], "The espresso") {
		t.Errorf("docs %q", idx.Docs)
	}
	if len(idx.Shards) != 1 || len(idx.Split) != 0 {
		t.Fatalf("a small site has one shard: %q %q", idx.Shards, idx.Split)
	}
	var sh searchShard
	if err := json.Unmarshal(outFiles[shardPath("")], &sh); err != nil {
		t.Fatal(err)
	}
	docsOf := func(w string) []int {
		i, ok := slices.BinarySearch(sh.Words, w)
		if !ok {
			return nil
		}
		var ids []int
		id := 0
		for _, gap := range sh.Posts[i] {
			id += gap
			ids = append(ids, id)
		}
		return ids
	}
	for w, want := range map[string][]int{"cafe": {0, 1}, "society": {0}, "drinks": {0}, "zoe": {0}, "espresso": {0}, "darjeeling": {1}, "東": {0}, "notindexed": nil, "a": nil} {
		if got := docsOf(w); !slices.Equal(got, want) {
			t.Errorf("%q is in posts %v, want %v", w, got, want)
		}
	}
	if !slices.IsSorted(sh.Words) {
		t.Errorf("words not sorted")
	}
	if !bytes.Contains(outFiles["index.html"], []byte(`<a class="search-link" href="/blog/search/">Search</a>`)) {
		t.Errorf("no search link in the header")
	}

	files["publish.yaml"] += "search: false\n"
	site, out = loadFiles(t, files)
	outFiles = mustRender(t, site, out, Options{})
	for f := range outFiles {
		if strings.HasPrefix(f, searchDir) || f == searchScriptPath {
			t.Errorf("search: false wrote %s", f)
		}
	}
	if bytes.Contains(outFiles["index.html"], []byte(`search-link`)) {
		t.Errorf("search: false still links the search page")
	}
}
