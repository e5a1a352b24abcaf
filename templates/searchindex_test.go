package templates

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
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
// searchIndexFiles, which must give the same bytes.
func oracleSearchIndexFiles(b *build) (map[string][]byte, string) {
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
	shards, split := oracleSearchShards(words)
	idx.Split = split
	keys := make([]string, 0, len(shards))
	for k := range shards {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	idx.Shards = keys
	files := map[string][]byte{}
	hash := sha256.New()
	for _, k := range keys {
		data, err := json.Marshal(shards[k])
		if err != nil {
			panic(err)
		}
		files[shardPath(k)] = data
		hash.Write(data)
	}
	data, err := json.Marshal(idx)
	if err != nil {
		panic(err)
	}
	files[searchIndexPath] = data
	hash.Write(data)
	return files, hex.EncodeToString(hash.Sum(nil)[:4])
}

func oracleSearchShards(words map[string]*[]int) (map[string]*searchShard, []string) {
	sorted := make([]string, 0, len(words))
	for w := range words {
		sorted = append(sorted, w)
	}
	sort.Strings(sorted)
	size := map[string]int{}
	total := 0
	for _, w := range sorted {
		n := len(w) + 4 + 3*len(*words[w])
		size[shardKey(w, map[string]bool{"": true})] += n
		total += n
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
// its oracle.
func checkSearchIndex(t *testing.T, b *build) {
	t.Helper()
	want, wantVersion := oracleSearchIndexFiles(b)
	for workers := 1; workers <= 4; workers++ {
		got, version := b.searchIndexFiles(workers)
		if version != wantVersion || !maps.EqualFunc(got, want, bytes.Equal) {
			for p, data := range want {
				if !bytes.Equal(got[p], data) {
					t.Errorf("workers=%d: %s is\n%.300s\nthe oracle's\n%.300s", workers, p, got[p], data)
				}
			}
			t.Fatalf("workers=%d: version %s, files %d; the oracle's %s, %d", workers, version, len(got), wantVersion, len(want))
		}
	}
	// posts whose words are known (a cached render) are read through
	// them, the others by folding their text: the same index either way
	for i, d := range b.posts {
		if i%2 == 0 {
			d.Post.SearchWords()
		}
	}
	if got, version := b.searchIndexFiles(2); version != wantVersion || !maps.EqualFunc(got, want, bytes.Equal) {
		t.Fatalf("with the words of half the posts known: version %s, the oracle's %s", version, wantVersion)
	}
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
	files, _ := b.searchIndexFiles(2)
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
	files, _ = b.searchIndexFiles(2)
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
			bd.searchIndexFiles(searchWorkers(len(bd.posts)))
		}
	})
	b.Run("fast1", func(b *testing.B) {
		b.ReportAllocs()
		c0 := benchCPU()
		for b.Loop() {
			bd.searchIndexFiles(1)
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
	mu   sync.Mutex
	m    map[[32]byte][]byte
	puts int
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
}

// TestSearchChunksCached: on the Rust blog (750 posts, 3 runs), the index
// made with cached runs of words is the one made without, cold, warm,
// after a post is edited, after a newest post is added, after an old one
// is deleted and after a cached run is damaged; and only the runs whose
// posts changed are found again.
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
	check := func(step string, wantPuts int) {
		t.Helper()
		b.opts.Cache = nil
		want, wantVersion := b.searchIndexFiles(2)
		b.opts.Cache = cache
		puts := cache.puts
		got, version := b.searchIndexFiles(2)
		if version != wantVersion || len(got) != len(want) {
			t.Fatalf("%s: %d files, version %s with the cache; %d, %s without", step, len(got), version, len(want), wantVersion)
		}
		for p, data := range want {
			if !bytes.Equal(got[p], data) {
				t.Fatalf("%s: %s differs with the cache", step, p)
			}
		}
		if n := cache.puts - puts; n != wantPuts {
			t.Errorf("%s: %d runs found again, want %d", step, n, wantPuts)
		}
	}
	runs := len(chunkBounds(len(b.posts)))
	check("cold", runs)
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
		cache.m[k] = v[:len(v)/2] // cut short: not trusted
	}
	check("every run damaged", runs)
}

// FuzzDecodeWordTable: a cached run of any bytes decodes to a table whose
// pairs name its words and its posts, or to an error; never a panic. A
// table that decodes encodes again to a value that decodes to the same.
func FuzzDecodeWordTable(f *testing.F) {
	t := &wordTable{ids: map[string]int32{}, hot: new([hotWords]hotWord)}
	t.addPost(5, &PostData{Title: "Café au lait", Post: &posts.Post{}})
	t.addPost(6, &PostData{Title: "lait noir", Post: &posts.Post{}})
	f.Add(encodeWordTable(t, 5, 2), 2)
	f.Add([]byte(searchChunkVersion+"\x01\x02ab\x01\x05"), 1)
	// words and pairs of a table, as a table found in a build holds them
	plain := func(tb *wordTable) *wordTable {
		out := &wordTable{}
		tb.eachWord(func(_ int, w []byte) { out.words = append(out.words, string(w)) })
		tb.eachPair(func(w, p int32) { out.pairs = append(out.pairs, wordPost{w, p}) })
		return out
	}
	f.Fuzz(func(t *testing.T, v []byte, n int) {
		n = max(0, min(n, 300))
		tb, err := decodeWordTable(v, 10, n)
		if err != nil {
			return
		}
		got := plain(tb)
		for _, p := range got.pairs {
			if p.word < 0 || int(p.word) >= len(got.words) || p.post < 10 || p.post >= int32(10+n) {
				t.Fatalf("pair %v outside %d words and posts 10..%d", p, len(got.words), 10+n)
			}
		}
		again, err := decodeWordTable(encodeWordTable(got, 10, n), 10, n)
		if err != nil {
			t.Fatalf("a decoded table does not decode once encoded again: %v", err)
		}
		if a := plain(again); !slices.Equal(a.words, got.words) || !slices.Equal(a.pairs, got.pairs) {
			t.Fatalf("a decoded table does not survive encoding")
		}
	})
}
