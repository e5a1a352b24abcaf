package templates

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/publishbot/publishbot/internal/searchwords"
	"github.com/publishbot/publishbot/posts"
)

// searchJob is the search index being built on a goroutine of its own
// while the pages render (startSearch); files and version are set once
// done is closed.
type searchJob struct {
	done    chan struct{}
	files   map[string][]byte
	version string
}

// startSearch starts building the search index (search: true) from the
// prepared posts, whose fields it reads stay as they are from here on:
// title, tags, summary, description, text, URL and date.
func (b *build) startSearch() {
	if !b.cfg.Search {
		return
	}
	j := &searchJob{done: make(chan struct{})}
	b.search = j
	go func() {
		defer close(j.done)
		j.files, j.version = b.searchIndexFiles(searchWorkers(len(b.posts)))
	}()
}

// waitSearch waits for the index startSearch started, if it did.
func (b *build) waitSearch() {
	if b.search != nil {
		<-b.search.done
	}
}

// searchIndexFiles are the files of the search index by site path
// (search/index.json and the word shards, see searchIndex and
// searchShard) and the version that names them in the search page: the
// first 4 bytes of the SHA-256 of the shards, in the order of their keys,
// and the index. The words of the posts are found on up to workers
// goroutines; the files do not depend on how many.
func (b *build) searchIndexFiles(workers int) (map[string][]byte, string) {
	words := collectSearchWords(b.ctx, b.posts, workers, b.opts.Cache)
	if b.ctx.Err() != nil {
		return nil, "" // Render returns the error
	}
	shards, split := words.shards()
	files := make(map[string][]byte, len(shards)+1)
	hash := sha256.New()
	keys := make([]string, len(shards))
	for i, s := range shards {
		keys[i] = s.key
		data := words.appendShardJSON(make([]byte, 0, s.size+16), s.words)
		files[shardPath(s.key)] = data
		hash.Write(data)
	}
	size := 64
	for _, d := range b.posts {
		size += len(d.Title) + len(d.URL) + len(d.DateText) + len(d.description) + 32*len(d.TagLinks) + 32
	}
	data := b.appendSearchIndexJSON(make([]byte, 0, size), keys, split)
	files[searchIndexPath] = data
	hash.Write(data)
	return files, hex.EncodeToString(hash.Sum(nil)[:4])
}

// searchWordSet is every word of the index with the posts that use it.
type searchWordSet struct {
	words []string // by number, in no order
	// posts of word n are posts[start[n]:start[n+1]], increasing
	posts []int32
	start []int32
}

// wordTable gathers the words of a run of posts: a word gets its number
// when first seen, and pairs has (word, post) once for each post that
// uses the word, in the order of the posts. One goroutine uses a table.
type wordTable struct {
	ids   map[string]int32
	hot   *[hotWords]hotWord // recent words by wordHash: most lookups end here, not in ids
	words []string
	last  []int32 // per word: the last post that used it
	pairs []wordPost
	post  int32  // the post being added
	fold  []byte // appendSearchWords's buffer

	// A run read from the cache (decodeWordTable) has no words and pairs
	// but their encoding, read in place by merge and wordSet (a blog of
	// 20,000 posts has millions of pairs): nWords words in encWords, and
	// nPosts posts from number first, each its count and word numbers, in
	// encPosts; remap is the number merge gave each of its words.
	encWords, encPosts []byte
	nWords, nPosts     int
	first              int32
	remap              []int32
}

// eachPair calls fn with every (word, post) pair of t in order, the word
// numbered as merge numbered it (as it was found, before a merge).
func (t *wordTable) eachPair(fn func(word, post int32)) {
	if t.encPosts == nil {
		for _, p := range t.pairs {
			fn(p.word, p.post)
		}
		return
	}
	v := t.encPosts // checked whole by decodeWordTable
	for post := t.first; post < t.first+int32(t.nPosts); post++ {
		np, k := binary.Uvarint(v)
		v = v[k:]
		for range np {
			w, k := binary.Uvarint(v)
			v = v[k:]
			if t.remap != nil {
				fn(t.remap[w], post)
			} else {
				fn(int32(w), post)
			}
		}
	}
}

// eachWord calls fn with t's words in their order; w is only valid during
// the call.
func (t *wordTable) eachWord(fn func(i int, w []byte)) {
	if t.encWords == nil {
		for i, w := range t.words {
			fn(i, unsafe.Slice(unsafe.StringData(w), len(w)))
		}
		return
	}
	v := t.encWords // checked whole by decodeWordTable
	for i := range t.nWords {
		l, k := binary.Uvarint(v)
		fn(i, v[k:k+int(l)])
		v = v[k+int(l):]
	}
}

type wordPost struct{ word, post int32 }

// hotWords is the size of a wordTable's cache of recent words: a text's
// frequent words stay in it, and it fits in a core's cache, which the map
// of all words does not.
const hotWords = 1 << 11

// hotWord is a word of the cache and its number.
type hotWord struct {
	word string
	id   int32
}

// wordHash mixes the bytes of w, for the cache's slot of w.
func wordHash(w []byte) uint64 {
	h := uint64(len(w)) * 0x9e3779b97f4a7c15
	for len(w) >= 8 {
		h = (h ^ binary.LittleEndian.Uint64(w)) * 0xff51afd7ed558ccd
		w = w[8:]
	}
	var tail uint64
	for i, c := range w {
		tail |= uint64(c) << (8 * i)
	}
	h = (h ^ tail) * 0xc4ceb9fe1a85ec53
	return h ^ h>>29
}

// postsPerWordWorker is the fewest posts worth a goroutine of their own.
const postsPerWordWorker = 64

// searchWorkers is how many goroutines find the words of n posts: one
// per postsPerWordWorker posts, at most GOMAXPROCS.
func searchWorkers(n int) int {
	return max(1, min(runtime.GOMAXPROCS(0), n/postsPerWordWorker))
}

// collectSearchWords finds the words of list's posts (title, tags,
// summary, text; folded, as searchWords does), a post's number being its
// place in list: runs of posts on workers goroutines (at least one),
// merged in order. With a cache, the runs are searchChunk posts each,
// counted from the oldest post, and a run whose posts did not change is
// read from the cache instead (searchchunks.go): a build that changed one
// post folds and counts the words of one run.
// It stops early, with some words left out, once ctx ends.
func collectSearchWords(ctx context.Context, list []*PostData, workers int, cache posts.RenderCache) *searchWordSet {
	if cache != nil && len(list) > 0 {
		return collectSearchChunks(ctx, list, workers, cache)
	}
	workers = max(1, min(workers, len(list)))
	tables := make([]*wordTable, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := len(list)*w/workers, len(list)*(w+1)/workers
		t := newWordTable(list[lo:hi])
		tables[w] = t
		wg.Go(func() {
			for i := lo; i < hi && ctx.Err() == nil; i++ {
				t.addPost(int32(i), list[i])
			}
		})
	}
	wg.Wait()
	all := tables[0]
	for _, t := range tables[1:] {
		all.merge(t)
	}
	return wordSet(all.words, tables)
}

// newWordTable is an empty table sized for the words of list.
func newWordTable(list []*PostData) *wordTable {
	text := 0
	for _, d := range list {
		text += 6 * d.Post.Words // bytes of text, about (reading the words to count them costs a read)
	}
	// about one pair for every 12 bytes of text, and a new word for
	// every 200 (the Jekyll news and the Rust blog)
	return &wordTable{ids: make(map[string]int32, min(text/200, 1<<16)), hot: new([hotWords]hotWord),
		pairs: make([]wordPost, 0, text/12+64)}
}

// add records that the current post uses w; w is only read during the
// call.
func (t *wordTable) add(w []byte) {
	slot := &t.hot[wordHash(w)&(hotWords-1)]
	id := slot.id
	if slot.word != string(w) || slot.word == "" {
		var ok bool
		id, ok = t.ids[string(w)] // no copy of w for the lookup
		if !ok {
			s := string(w)
			id = int32(len(t.words))
			t.ids[s] = id
			t.words = append(t.words, s)
			t.last = append(t.last, t.post)
			t.pairs = append(t.pairs, wordPost{id, t.post})
			*slot = hotWord{s, id}
			return
		}
		*slot = hotWord{t.words[id], id}
	}
	if t.last[id] != t.post {
		t.last[id] = t.post
		t.pairs = append(t.pairs, wordPost{id, t.post})
	}
}

// addPost adds the words of post number i: its title, tags, summary and
// text.
func (t *wordTable) addPost(i int32, d *PostData) {
	t.post = i
	t.fold = searchwords.Append(t.fold, d.Title, t.add)
	for _, tag := range d.TagLinks {
		// a word never spans the space that joins two tags
		t.fold = searchwords.Append(t.fold, tag.Name, t.add)
	}
	t.fold = searchwords.Append(t.fold, d.Summary, t.add)
	if words, ok := d.Post.KnownSearchWords(); ok {
		searchwords.Range(words, t.add) // the text's words, folded once by posts
	} else {
		t.fold = searchwords.Append(t.fold, d.Post.Text(), t.add) // t keeps each word once per post
	}
}

// merge adds o's words to t's, and numbers o's pairs as t numbers their
// words.
func (t *wordTable) merge(o *wordTable) {
	remap := make([]int32, len(o.words)+o.nWords)
	for id, w := range o.words {
		g, ok := t.ids[w]
		if !ok {
			g = int32(len(t.words))
			t.ids[w] = g
			t.words = append(t.words, w)
			t.last = append(t.last, -1)
		}
		remap[id] = g
	}
	if o.encWords != nil {
		o.eachWord(func(id int, w []byte) {
			g, ok := t.ids[string(w)] // no copy of w for the lookup
			if !ok {
				s := string(w)
				g = int32(len(t.words))
				t.ids[s] = g
				t.words = append(t.words, s)
				t.last = append(t.last, -1)
			}
			remap[id] = g
		})
		o.remap = remap // its pairs are renumbered as wordSet reads them
		return
	}
	for i, p := range o.pairs {
		o.pairs[i].word = remap[p.word]
	}
}

// wordSet sorts the pairs of tables, in their order (merged: numbered
// alike), by word, keeping their order of posts.
func wordSet(words []string, tables []*wordTable) *searchWordSet {
	start := make([]int32, len(words)+1)
	n := 0
	for _, t := range tables {
		t.eachPair(func(word, _ int32) { start[word+1]++; n++ })
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	next := slices.Clone(start[:len(words)])
	posts := make([]int32, n)
	for _, t := range tables {
		t.eachPair(func(word, post int32) {
			posts[next[word]] = post
			next[word]++
		})
	}
	return &searchWordSet{words: words, posts: posts, start: start}
}

// wordShard is the words of one shard, by number, in sorted order.
type wordShard struct {
	key   string
	words []int32
	size  int // of its JSON, about
}

// shards groups the words into shards by shardKey, in the order of their
// keys, splitting a shard by two characters when it grows past
// maxShardBytes; the keys that were split come second, sorted.
func (s *searchWordSet) shards() ([]wordShard, []string) {
	sorted := make([]int32, len(s.words))
	for i := range sorted {
		sorted[i] = int32(i)
	}
	slices.SortFunc(sorted, func(a, b int32) int { return strings.Compare(s.words[a], s.words[b]) })
	first := make([]string, len(s.words)) // by number: runeKey of the first character
	size := map[string]int{}
	total := 0
	for _, id := range sorted {
		w := s.words[id]
		n := len(w) + 4 + 3*int(s.start[id+1]-s.start[id]) // about its JSON
		first[id] = shardKey(w, oneSplit)
		size[first[id]] += n
		total += n
	}
	split := map[string]bool{}
	splitKeys := []string{}
	if total <= maxShardBytes {
		size = nil // one shard
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
	slices.Sort(splitKeys)
	byKey := map[string]*wordShard{}
	var shards []*wordShard
	for _, id := range sorted {
		k := ""
		if split[""] {
			k = first[id]
			if split[k] {
				k = shardKey(s.words[id], split)
			}
		}
		sh := byKey[k]
		if sh == nil {
			sh = &wordShard{key: k}
			byKey[k] = sh
			shards = append(shards, sh)
		}
		sh.words = append(sh.words, id)
		sh.size += len(s.words[id]) + 4 + 4*int(s.start[id+1]-s.start[id])
	}
	slices.SortFunc(shards, func(a, b *wordShard) int { return strings.Compare(a.key, b.key) })
	out := make([]wordShard, len(shards))
	for i, sh := range shards {
		out[i] = *sh
	}
	return out, splitKeys
}

// oneSplit makes shardKey give a word's first character's key.
var oneSplit = map[string]bool{"": true}

// appendShardJSON appends the shard of words (numbers, sorted) as
// encoding/json writes a searchShard: the words, and the numbers of the
// posts of each as gaps from the one before.
func (s *searchWordSet) appendShardJSON(dst []byte, words []int32) []byte {
	dst = append(dst, `{"w":[`...)
	for i, id := range words {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, s.words[id])
	}
	dst = append(dst, `],"p":[`...)
	for i, id := range words {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '[')
		prev := int32(0)
		for j, p := range s.posts[s.start[id]:s.start[id+1]] {
			if j > 0 {
				dst = append(dst, ',')
			}
			dst = strconv.AppendInt(dst, int64(p-prev), 10)
			prev = p
		}
		dst = append(dst, ']')
	}
	return append(dst, "]}"...)
}

// appendSearchIndexJSON appends search/index.json as encoding/json writes
// a searchIndex: version 1, what the results show of each post (title,
// address relative to the base path, date, tags, summary), and the keys
// of the shards and of the shards that were split.
func (b *build) appendSearchIndexJSON(dst []byte, shards, split []string) []byte {
	dst = append(dst, `{"v":1,"docs":[`...)
	for i, d := range b.posts {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '[')
		dst = appendJSONString(dst, d.Title)
		dst = append(dst, ',')
		dst = appendJSONString(dst, strings.TrimPrefix(d.URL, b.base))
		dst = append(dst, ',')
		dst = appendJSONString(dst, d.DateText)
		dst = append(dst, ',')
		dst = appendJSONString(dst, tagNames(d.TagLinks))
		dst = append(dst, ',')
		dst = appendJSONString(dst, d.description)
		dst = append(dst, ']')
	}
	dst = append(dst, `],"shards":`...)
	dst = appendJSONStrings(dst, shards)
	dst = append(dst, `,"split":`...)
	dst = appendJSONStrings(dst, split)
	return append(dst, '}')
}

// tagNames are the names of tags, joined by ", ".
func tagNames(tags []TagLink) string {
	switch len(tags) {
	case 0:
		return ""
	case 1:
		return tags[0].Name
	}
	names := make([]string, len(tags))
	for i, t := range tags {
		names[i] = t.Name
	}
	return strings.Join(names, ", ")
}

// appendJSONStrings appends list as a JSON array of strings.
func appendJSONStrings(dst []byte, list []string) []byte {
	dst = append(dst, '[')
	for i, s := range list {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, s)
	}
	return append(dst, ']')
}
