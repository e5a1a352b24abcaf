package templates

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/publishbot/publishbot/locale"
	"github.com/publishbot/publishbot/posts"

	"github.com/publishbot/publishbot/internal/searchwords"
)

// oracleSearchIndexFiles is the search index as it was first written
// (encoding/json over a map of words to their posts): the oracle of
// searchIndexFiles, which must give the same bytes. Only the sizes that
// decide which shards are split are counted as the runs of posts count
// them (a word's length once in every run that uses it).
func oracleSearchIndexFiles(b *build) map[string][]byte {
	idx := searchIndex{Version: 1, Docs: make([][5]string, len(b.posts))}
	words := map[string]*[]int{}
	var fold []byte
	for i, d := range b.posts {
		tags := make([]string, len(d.TagLinks))
		for j, t := range d.TagLinks {
			tags[j] = t.Name
		}
		idx.Docs[i] = [5]string{d.Title, strings.TrimPrefix(d.URL, b.base), d.DateText, strings.Join(tags, ", "),
			d.description}
		add := func(w []byte) {
			l := words[string(w)]
			if l == nil {
				words[string(w)] = &[]int{i}
			} else if (*l)[len(*l)-1] != i {
				*l = append(*l, i)
			}
		}
		fold = searchwords.Append(fold, d.Title, add)
		fold = searchwords.Append(fold, strings.Join(tags, " "), add)
		fold = searchwords.Append(fold, d.Summary, add)
		fold = searchwords.Append(fold, d.Post.Text(), add)
	}
	shards, split := oracleSearchShards(words, len(b.posts))
	idx.Split = split
	keys := make([]string, 0, len(shards))
	for k := range shards {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	idx.Shards = keys
	files := map[string][]byte{}
	for _, k := range keys {
		data, err := json.Marshal(shards[k])
		if err != nil {
			panic(err)
		}
		files[shardPath(k)] = data
	}
	data, err := json.Marshal(idx)
	if err != nil {
		panic(err)
	}
	files[searchIndexPath] = data
	return files
}

func oracleSearchShards(words map[string]*[]int, n int) (map[string]*searchShard, []string) {
	sorted := make([]string, 0, len(words))
	for w := range words {
		sorted = append(sorted, w)
	}
	sort.Strings(sorted)
	bounds := chunkBounds(n)
	size := map[string]int{}
	total := 0
	for _, w := range sorted {
		for _, r := range bounds {
			in := 0
			for _, p := range *words[w] {
				if p >= r[0] && p < r[1] {
					in++
				}
			}
			if in > 0 {
				n := len(w) + 4 + 3*in
				size[shardKey(w, map[string]bool{"": true})] += n
				total += n
			}
		}
	}
	split := map[string]bool{}
	splitKeys := []string{}
	if total <= maxShardBytes {
		size = nil
	} else {
		split[""] = true
		splitKeys = append(splitKeys, "")
	}
	for k, n := range size {
		if n > maxShardBytes {
			split[k] = true
			splitKeys = append(splitKeys, k)
		}
	}
	sort.Strings(splitKeys)
	shards := map[string]*searchShard{}
	for _, w := range sorted {
		k := shardKey(w, split)
		s := shards[k]
		if s == nil {
			s = &searchShard{}
			shards[k] = s
		}
		ids := slices.Clone(*words[w])
		for i := len(ids) - 1; i > 0; i-- {
			ids[i] -= ids[i-1]
		}
		s.Words = append(s.Words, w)
		s.Posts = append(s.Posts, ids)
	}
	return shards, splitKeys
}

// checkSearchIndex compares searchIndexFiles, on 1 to 4 goroutines, with
// its oracle; the version is the same on any number.
func checkSearchIndex(t *testing.T, b *build) {
	t.Helper()
	want := oracleSearchIndexFiles(b)
	var version string
	for workers := 1; workers <= 4; workers++ {
		got := mustSearchIndex(t, b, workers)
		if !maps.EqualFunc(got.files, want, bytes.Equal) || len(got.kept) > 0 {
			for p, data := range want {
				if !bytes.Equal(got.files[p], data) {
					t.Errorf("workers=%d: %s is\n%.300s\nthe oracle's\n%.300s", workers, p, got.files[p], data)
				}
			}
			t.Fatalf("workers=%d: files %d, kept %d; the oracle's %d", workers, len(got.files), len(got.kept), len(want))
		}
		if workers > 1 && got.version != version {
			t.Fatalf("workers=%d: version %s; on one, %s", workers, got.version, version)
		}
		version = got.version
	}
	// posts whose words are known (a cached render) are read through
	// them, the others by folding their text: the same index either way
	for i, d := range b.posts {
		if i%2 == 0 {
			d.Post.SearchWords()
		}
	}
	if got := mustSearchIndex(t, b, 2); got.version != version || !maps.EqualFunc(got.files, want, bytes.Equal) {
		t.Fatalf("with the words of half the posts known: version %s, %s without", got.version, version)
	}
}

// mustSearchIndex is b's search index on workers goroutines.
func mustSearchIndex(t testing.TB, b *build, workers int) *searchResult {
	t.Helper()
	res, err := b.searchIndexFiles(workers)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// preparedBuild is a build of site's posts as Render prepares them.
func preparedBuild(t testing.TB, site *posts.Site) *build {
	t.Helper()
	b := &build{ctx: t.Context(), cfg: site.Config, loc: locale.For(site.Config.Language, site.Config.Strings)}
	b.base = b.cfg.BasePath()
	b.site = &SiteData{}
	b.preparePosts(visiblePosts(site, Options{}))
	return b
}

// TestSearchIndexFilesCorpus: on the Rust blog (shards split by one and
// two characters) and the example blog, the index is the oracle's.
func TestSearchIndexFilesCorpus(t *testing.T) {
	site, err := posts.Load(t.Context(), zolaContent(t, "https://blog.rust-lang.org/"), posts.Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	b := preparedBuild(t, site)
	files := mustSearchIndex(t, b, 2).files
	var idx searchIndex
	if err := json.Unmarshal(files[searchIndexPath], &idx); err != nil {
		t.Fatal(err)
	}
	if len(idx.Split) == 0 {
		t.Fatalf("the corpus's shards are not split")
	}
	checkSearchIndex(t, b)

	// words enough to split the shard of "s" by two characters
	b = &build{ctx: t.Context(), base: "/blog/"}
	for i := range 300 {
		var text strings.Builder
		for j := range 400 {
			fmt.Fprintf(&text, "s%x%x é%d ", i*7+j, j, j%50)
		}
		b.posts = append(b.posts, fuzzPost(fmt.Sprintf("Post %d|tag|sum|%s", i, text.String()), i))
	}
	files = mustSearchIndex(t, b, 2).files
	idx = searchIndex{}
	if err := json.Unmarshal(files[searchIndexPath], &idx); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(idx.Split, "s") {
		t.Fatalf("the shard of s is not split: %q", idx.Split)
	}
	checkSearchIndex(t, b)

	site, _ = loadFiles(t, map[string]string{
		"publish.yaml":             "title: Blog\nbase_url: https://acme.github.io/blog/\n",
		"posts/2026-01-02-cafe.md": "---\ntitle: Café society\ntags: [Drinks, Paris, \"<b>&\"]\n---\nThe espresso at Zoë's was strong. 東京に行く。\n",
		"posts/2026-01-01-tea.md":  "---\ntitle: Tea \"for\" two\n---\nA pot of Darjeeling, and a café au lait.\n",
	})
	checkSearchIndex(t, preparedBuild(t, site))
	checkSearchIndex(t, &build{ctx: t.Context(), base: "/"}) // no posts
}

// TestSearchShardKeysMeet: a split group's shard key can be another
// group's ("_g", Cyrillic, split by two characters: "ж" then "a" is
// "_ga", the key of the Han characters from U+9280): both groups' words
// go to the one shard, as the search script looks them up.
func TestSearchShardKeysMeet(t *testing.T) {
	b := &build{ctx: t.Context(), base: "/blog/"}
	for i := range 100 {
		var text strings.Builder
		for j := range 200 {
			fmt.Fprintf(&text, "жa%x жб%x ", i*200+j, j)
		}
		b.posts = append(b.posts, fuzzPost(fmt.Sprintf("Post %d|tag|sum|%s", i, text.String()), i))
	}
	b.posts = append(b.posts, fuzzPost("銀行|bank|sum|銀行 жa", 100))
	res := mustSearchIndex(t, b, 2)
	var idx searchIndex
	if err := json.Unmarshal(res.files[searchIndexPath], &idx); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(idx.Split, "_g") || !slices.Contains(idx.Shards, "_ga") {
		t.Fatalf("split %q, shards %q: want _g split and a shard _ga", idx.Split, idx.Shards)
	}
	var sh searchShard
	if err := json.Unmarshal(res.files[shardPath("_ga")], &sh); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(sh.Words, "銀") || !slices.Contains(sh.Words, "жa") {
		t.Fatalf("the shard _ga lacks 銀 or жa: %.200q", sh.Words)
	}
	checkSearchIndex(t, b)
}

// fuzzPost is a post for FuzzSearchIndexFiles: title, tags, summary and
// text cut from s at "|".
func fuzzPost(s string, i int) *PostData {
	parts := strings.SplitN(s, "|", 4)
	for len(parts) < 4 {
		parts = append(parts, "")
	}
	d := &PostData{Title: parts[0], Summary: parts[2], description: metaDescription(parts[2]), URL: "/blog/p" + string(rune('a'+i%26)) + "/",
		DateText: "Jan 2, 2026", Post: &posts.Post{}}
	d.Post.SetBody("", parts[3])
	for _, tag := range strings.Split(parts[1], ",") {
		if tag != "" {
			d.TagLinks = append(d.TagLinks, TagLink{Name: tag})
		}
	}
	return d
}

func FuzzSearchIndexFiles(f *testing.F) {
	f.Add("Café society|Drinks,Paris|The espresso|at Zoë's was strong. 東京に行く。", "Tea|<b>&|A pot|of Darjeeling", 3)
	f.Add("x\xffy ÀB|\u2028|naïve|ǅ İstanbul ﬁ", "", 1)
	f.Fuzz(func(t *testing.T, a, b string, n int) {
		n = max(1, min(n, 40))
		bd := &build{ctx: t.Context(), base: "/blog/"}
		for i := range n {
			s := a
			if i%2 == 1 {
				s = b
			}
			bd.posts = append(bd.posts, fuzzPost(s, i))
		}
		checkSearchIndex(t, bd)
	})
}

// BenchmarkSearchIndexFiles builds the Rust blog's search index, on
// searchWorkers goroutines, on one, and, for comparison, as its oracle.
func BenchmarkSearchIndexFiles(b *testing.B) {
	site, err := posts.Load(b.Context(), zolaContent(b, "https://blog.rust-lang.org/"), posts.Options{Now: fixedNow})
	if err != nil {
		b.Fatal(err)
	}
	bd := preparedBuild(b, site)
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			mustSearchIndex(b, bd, searchWorkers(len(bd.posts)))
		}
	})
	b.Run("fast1", func(b *testing.B) {
		b.ReportAllocs()
		c0 := benchCPU()
		for b.Loop() {
			mustSearchIndex(b, bd, 1)
		}
		b.ReportMetric(float64((benchCPU()-c0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
	})
	b.Run("oracle", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			oracleSearchIndexFiles(bd)
		}
	})
}

// mapCache is a RenderCache in memory that counts its puts.
type mapCache struct {
	mu    sync.Mutex
	m     map[[32]byte][]byte
	puts  int
	heads int
}

func (c *mapCache) Get(k [32]byte) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	return bytes.Clone(v), ok
}

func (c *mapCache) Put(k [32]byte, v []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[k] = bytes.Clone(v)
	c.puts++
	if bytes.HasPrefix(v, []byte(searchChunkVersion)) {
		c.heads++ // a run of search words found
	}
}

// TestSearchChunksCached: on the Rust blog (750 posts, 3 runs), the index
// made with cached runs of words is the one made without, cold, warm,
// after a post is edited, after a newest post is added, after an old one
// is deleted, after a cached run is damaged and after the cached parts of
// runs are lost; and only the runs whose posts changed are found again.
func TestSearchChunksCached(t *testing.T) {
	site, err := posts.Load(t.Context(), zolaContent(t, "https://blog.rust-lang.org/"), posts.Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	b := preparedBuild(t, site)
	if len(b.posts) <= 2*searchChunk {
		t.Fatalf("%d posts: too few for 3 runs", len(b.posts))
	}
	cache := &mapCache{m: map[[32]byte][]byte{}}
	runsPut := func() int { // the heads of runs put: one per run found
		n := 0
		for _, v := range cache.m {
			if bytes.HasPrefix(v, []byte(searchChunkVersion)) {
				n++
			}
		}
		return n
	}
	var lastVersion string
	check := func(step string, wantRuns int) {
		t.Helper()
		b.opts.Cache = nil
		want := mustSearchIndex(t, b, 2)
		b.opts.Cache = cache
		before := cache.heads
		got := mustSearchIndex(t, b, 2)
		if got.version != want.version || !maps.EqualFunc(got.files, want.files, bytes.Equal) {
			t.Fatalf("%s: %d files, version %s with the cache; %d, %s without", step, len(got.files), got.version, len(want.files), want.version)
		}
		if !maps.Equal(got.keys, want.keys) {
			t.Fatalf("%s: the shards' keys differ with the cache", step)
		}
		if found := cache.heads - before; wantRuns >= 0 && found != wantRuns {
			t.Errorf("%s: %d runs found again, want %d", step, found, wantRuns)
		}
		if step != "warm" && got.version == lastVersion {
			t.Errorf("%s: the version did not change", step)
		}
		lastVersion = got.version
	}
	runs := len(chunkBounds(len(b.posts)))
	check("cold", runs)
	if n := runsPut(); n != runs {
		t.Fatalf("%d runs cached, want %d", n, runs)
	}
	check("warm", 0)
	b.posts[len(b.posts)/2].Title += " retitled"
	check("a post in the middle retitled", 1)
	newest := *b.posts[0]
	newest.Title, newest.TagLinks = "The newest post", []TagLink{{Name: "brand-new"}}
	b.posts = append([]*PostData{&newest}, b.posts...)
	check("a newest post", 1)
	b.posts = slices.Delete(b.posts, len(b.posts)-3, len(b.posts)-2)
	check("an old post deleted", runs) // every run shifts by one
	for k, v := range cache.m {
		if bytes.HasPrefix(v, []byte(searchChunkVersion)) {
			cache.m[k] = v[:len(v)/2] // cut short: not trusted
		}
	}
	b.posts[0].Title += " again"
	check("every run damaged", runs)
	for k, v := range cache.m {
		if !bytes.HasPrefix(v, []byte(searchChunkVersion)) {
			delete(cache.m, k) // the parts lost, the heads kept
		}
	}
	b.posts[1].Title += " again"
	check("the parts lost", -1)
	for k, v := range cache.m {
		if !bytes.HasPrefix(v, []byte(searchChunkVersion)) {
			cache.m[k] = append(v, 1) // the parts changed: their digests do not match
		}
	}
	b.posts[2].Title += " again"
	check("the parts damaged", -1)
}

// TestSearchShardsKept: with the keys of the previous render, a post's
// text edited makes again only the shards of the groups whose words
// changed; the others are kept, with the keys a full render gives them.
func TestSearchShardsKept(t *testing.T) {
	site, err := posts.Load(t.Context(), zolaContent(t, "https://blog.rust-lang.org/"), posts.Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	b := preparedBuild(t, site)
	b.keyer = newDataHasher()
	b.opts.Cache = &mapCache{m: map[[32]byte][]byte{}}
	first := mustSearchIndex(t, b, 2)
	if len(first.kept) != 0 || len(first.keys) < 20 {
		t.Fatalf("first render: %d kept, %d shards", len(first.kept), len(first.keys))
	}
	b.opts.Previous = KeyMap(maps.Clone(first.keys))
	again := mustSearchIndex(t, b, 2)
	if len(again.files) != 1 || len(again.kept) != len(first.keys) {
		t.Fatalf("nothing changed: %d files made, %d kept of %d", len(again.files), len(again.kept), len(first.keys))
	}
	d := b.posts[len(b.posts)/3]
	d.Summary += " Zyzzyva quokka"
	got := mustSearchIndex(t, b, 2)
	var made []string
	for p := range got.files {
		if p != searchIndexPath {
			made = append(made, p)
		}
	}
	slices.Sort(made)
	if want := []string{"search/q.json", "search/z.json"}; !slices.Equal(made, want) {
		t.Fatalf("made %q, want %q (the groups of the two new words)", made, want)
	}
	if len(got.kept)+len(made) != len(got.keys) {
		t.Fatalf("%d kept and %d made of %d shards", len(got.kept), len(made), len(got.keys))
	}
	b.keyer, b.opts.Previous, b.opts.Cache = nil, nil, nil
	full := mustSearchIndex(t, b, 2)
	if !maps.Equal(full.keys, got.keys) || full.version != got.version {
		t.Fatalf("the keys or version of the shards differ from a full render's")
	}
	for _, p := range made {
		if !bytes.Equal(full.files[p], got.files[p]) {
			t.Fatalf("%s differs from a full render's", p)
		}
	}
	for _, p := range got.kept {
		if got.keys[p] != first.keys[p] || !bytes.Equal(full.files[p], oracleSearchIndexFiles(b)[p]) {
			t.Fatalf("kept %s: its key changed, or its bytes are not the oracle's", p)
		}
	}
}

// FuzzSearchPart: the body of a cached part of any bytes reads as sorted,
// distinct words whose posts are in its run, or stops as bad; never a
// panic. Words and posts read back encode to the same body.
func FuzzSearchPart(f *testing.F) {
	list := []*PostData{{Title: "Café au lait", Post: &posts.Post{}}, {Title: "lait noir", Post: &posts.Post{}}}
	for _, p := range makeRun(list, 0, 2).parts {
		f.Add(p.body, 2)
	}
	f.Add([]byte("\x02\x01a\x01\x00\x01b\x02\x00\x01"), 3)
	f.Fuzz(func(t *testing.T, body []byte, n int) {
		n = max(1, min(n, 300))
		c := newPartCursor(body, 10, int32(n), 0)
		var words [][]byte
		var posts [][]int32
		for c.word != nil {
			words = append(words, c.word)
			var ps []int32
			c.eachPost(func(p int32) { ps = append(ps, p) })
			posts = append(posts, ps)
			c.next()
		}
		if c.bad {
			return
		}
		again := binary.AppendUvarint(nil, uint64(len(words)))
		for i, w := range words {
			if i > 0 && bytes.Compare(words[i-1], w) >= 0 {
				t.Fatalf("words %q, %q out of order", words[i-1], w)
			}
			again = binary.AppendUvarint(again, uint64(len(w)))
			again = append(again, w...)
			again = binary.AppendUvarint(again, uint64(len(posts[i])))
			prev := int32(10)
			for j, p := range posts[i] {
				if p < 10 || p >= int32(10+n) || j > 0 && p <= prev {
					t.Fatalf("post %d of %q outside the run or out of order", p, w)
				}
				again = binary.AppendUvarint(again, uint64(p-prev))
				prev = p
			}
		}
		c = newPartCursor(again, 10, int32(n), 0)
		for i := 0; c.word != nil; i++ {
			var ps []int32
			c.eachPost(func(p int32) { ps = append(ps, p) })
			if !bytes.Equal(c.word, words[i]) || !slices.Equal(ps, posts[i]) {
				t.Fatalf("encoded again, word %d reads %q %v, not %q %v", i, c.word, ps, words[i], posts[i])
			}
			c.next()
		}
		if c.bad {
			t.Fatalf("encoded again, the body does not read")
		}
	})
}

// FuzzSearchRunHead: a cached run's head of any bytes decodes to sorted,
// distinct groups, or to an error; one that decodes encodes back to
// itself.
func FuzzSearchRunHead(f *testing.F) {
	list := []*PostData{{Title: "Café au lait", Post: &posts.Post{}}, {Title: "lait noir", Post: &posts.Post{}}}
	f.Add(encodeRunHead(makeRun(list, 0, 2)))
	f.Add([]byte(searchChunkVersion + "\x01\x01a"))
	f.Fuzz(func(t *testing.T, v []byte) {
		r, err := decodeRunHead(v, 0, 2)
		if err != nil {
			return
		}
		for i := 1; i < len(r.parts); i++ {
			if r.parts[i-1].group >= r.parts[i].group {
				t.Fatalf("groups %q, %q out of order", r.parts[i-1].group, r.parts[i].group)
			}
		}
		again, err := decodeRunHead(encodeRunHead(r), 0, 2)
		if err != nil || !reflect.DeepEqual(again.parts, r.parts) {
			t.Fatalf("encoded again, the head decodes to %+v, %v; not %+v", again, err, r.parts)
		}
	})
}
