package templates

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"maps"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/publishbot/publishbot/internal/searchwords"
)

// searchJob is the search index being built on a goroutine of its own
// while the pages render (startSearch); res is set once done is closed.
type searchJob struct {
	done chan struct{}
	res  *searchResult
	err  error
}

// searchResult is the search index's files (search/index.json and the
// word shards, see searchIndex and searchShard): those made, and those
// kept from the previous render (Options.Previous gave them their key),
// the key of every shard, and the version that names them in the search
// page.
type searchResult struct {
	files   map[string][]byte
	keys    map[string]Key // of the shards, made or kept
	kept    []string
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
		j.res, j.err = b.searchIndexFiles(searchWorkers(len(b.posts)))
	}()
}

// waitSearch waits for the index startSearch started, if it did.
func (b *build) waitSearch() {
	if b.search != nil {
		<-b.search.done
	}
}

// searchIndexFiles makes the search index on up to workers goroutines
// (the files do not depend on how many). A shard is made from one group
// of words (searchchunks.go) of every run of posts; one whose key, that
// of its group's parts, is the one the previous render gave its files is
// kept. The version is the first 4 bytes of the SHA-256 of every group's
// key and the index.
func (b *build) searchIndexFiles(workers int) (*searchResult, error) {
	res, err := b.searchIndexFrom(searchRuns(b.ctx, b.posts, workers, b.opts.Cache, false), workers)
	if errors.Is(err, errSearchRun) {
		// a part of a cached run is missing or damaged: find every run again
		res, err = b.searchIndexFrom(searchRuns(b.ctx, b.posts, workers, b.opts.Cache, true), workers)
	}
	if err != nil {
		return nil, fmt.Errorf("make the search index: %w", err)
	}
	return res, nil
}

// searchGroup is the words that make one or more shards: every group's,
// in one shard, when the words of the site fit in one (all); else those
// of one group (by first character), in one shard or, if the group is
// split, in one shard per subKey. Groups whose shard keys meet (a split
// group's "_1"+"a" is the group "_1a") are one searchGroup, so that each
// shard is made once, with all its words.
type searchGroup struct {
	names  []string        // of the groups, sorted; nil when all
	split  map[string]bool // the names that are split
	all    bool
	key    Key
	shards []string // their keys (shardKey), sorted
}

// has says whether g holds the words of part p.
func (g *searchGroup) has(p *searchPart) bool {
	_, ok := slices.BinarySearch(g.names, p.group)
	return g.all || ok
}

// shardOf is the shard of word in g.
func (g *searchGroup) shardOf(word string) string {
	switch name := groupKey(word); {
	case g.all:
		return ""
	case g.split[name]:
		return subKey(word)
	default:
		return name
	}
}

// searchGroups are the groups of words of runs, in the order of their
// names, and the keys that are split, as search/index.json lists them.
func searchGroups(runs []*searchRun) ([]*searchGroup, []string) {
	size, total := map[string]int{}, 0
	subs := map[string][]string{}
	for _, r := range runs {
		for _, p := range r.parts {
			size[p.group] += p.size
			total += p.size
			subs[p.group] = append(subs[p.group], p.subs...)
		}
	}
	if total <= maxShardBytes {
		g := &searchGroup{all: true}
		if len(size) > 0 {
			g.shards = []string{""}
		}
		return []*searchGroup{g}, nil
	}
	split := []string{""}
	names := slices.Sorted(maps.Keys(size))
	shardsOf := make([][]string, len(names))
	for i, name := range names {
		if size[name] > maxShardBytes {
			split = append(split, name)
			shardsOf[i] = slices.Compact(slices.Sorted(slices.Values(subs[name])))
		} else {
			shardsOf[i] = []string{name}
		}
	}
	// groups that share a shard key are one (union-find over the names)
	root := make([]int, len(names))
	for i := range root {
		root[i] = i
	}
	find := func(i int) int {
		for root[i] != i {
			root[i] = root[root[i]]
			i = root[i]
		}
		return i
	}
	first := map[string]int{} // shard key -> the first name that has it
	for i, keys := range shardsOf {
		for _, k := range keys {
			if j, ok := first[k]; ok {
				root[find(i)] = find(j)
			} else {
				first[k] = i
			}
		}
	}
	var groups []*searchGroup
	byRoot := map[int]*searchGroup{}
	for i, name := range names {
		g := byRoot[find(i)]
		if g == nil {
			g = &searchGroup{split: map[string]bool{}}
			byRoot[find(i)] = g
			groups = append(groups, g)
		}
		g.names = append(g.names, name) // in order: sorted
		g.split[name] = size[name] > maxShardBytes
		g.shards = append(g.shards, shardsOf[i]...)
	}
	for _, g := range groups {
		slices.Sort(g.shards)
		g.shards = slices.Compact(g.shards)
	}
	return groups, split
}

func (b *build) searchIndexFrom(runs []*searchRun, workers int) (*searchResult, error) {
	res := &searchResult{files: map[string][]byte{}, keys: map[string]Key{}}
	if b.ctx.Err() != nil {
		return res, nil // Render returns the error
	}
	groups, split := searchGroups(runs)
	// each group's key: its names, and every run's bounds and parts of it,
	// the runs read once for all the groups
	hashes := make([]hash.Hash, len(groups))
	of := map[string]int{} // group name -> its searchGroup
	for i, g := range groups {
		h := sha256.New()
		hashString(h, searchGroupVersion)
		hashUint(h, uint64(boolInt(g.all)))
		hashUint(h, uint64(len(g.names)))
		for _, name := range g.names {
			hashString(h, name)
			hashUint(h, uint64(boolInt(g.split[name])))
			of[name] = i
		}
		hashes[i] = h
	}
	for _, r := range runs {
		for _, h := range hashes {
			hashUint(h, uint64(r.lo))
			hashUint(h, uint64(r.hi))
		}
		for _, p := range r.parts {
			h := hashes[of[p.group]] // 0, the one group, when all
			hashString(h, p.group)
			h.Write(p.digest[:])
		}
	}
	for i, g := range groups {
		hashes[i].Sum(g.key[:0])
	}

	// made or kept, the groups on up to workers goroutines
	made := make([]map[string][]byte, len(groups))
	errs := make([]error, len(groups))
	kept := make([]bool, len(groups))
	parallelN(len(groups), workers, func(i int) {
		g := groups[i]
		if b.keyer != nil {
			kept[i] = true
			for _, s := range g.shards {
				kept[i] = kept[i] && b.unchanged(shardPath(s), shardFileKey(g.key, s))
			}
		}
		if !kept[i] && b.ctx.Err() == nil {
			made[i], errs[i] = b.searchGroupShards(g, runs)
		}
	})
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var keys []string
	version := sha256.New()
	for i, g := range groups {
		version.Write(g.key[:])
		for _, s := range g.shards {
			keys = append(keys, s)
			p := shardPath(s)
			res.keys[p] = shardFileKey(g.key, s)
			if kept[i] {
				res.kept = append(res.kept, p)
			} else {
				res.files[p] = made[i][s]
			}
		}
	}
	slices.Sort(keys)
	n := 64
	for _, d := range b.posts {
		n += len(d.Title) + len(d.URL) + len(d.DateText) + len(d.description) + 32*len(d.TagLinks) + 32
	}
	data := b.appendSearchIndexJSON(make([]byte, 0, n), keys, split)
	res.files[searchIndexPath] = data
	version.Write(data)
	res.version = hex.EncodeToString(version.Sum(nil)[:4])
	return res, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// shardFileKey is the key of the file of shard s of the group whose key
// is group.
func shardFileKey(group Key, s string) Key {
	return sha256.Sum256(append(append([]byte("search-shard\x00"), group[:]...), s...))
}

// searchGroupShards makes the shards of g from its parts of runs: every
// run's words merged in order, a word's posts in list order, as
// encoding/json writes a searchShard (the words, and the numbers of the
// posts of each as gaps from the one before). A part that cannot be read
// or does not decode is an error.
func (b *build) searchGroupShards(g *searchGroup, runs []*searchRun) (map[string][]byte, error) {
	var h cursorHeap
	for order, r := range runs {
		for i := range r.parts {
			p := &r.parts[i]
			if !g.has(p) {
				continue
			}
			body, ok := p.body, r.fresh
			if !ok {
				body, ok = b.partBody(p)
			}
			c := newPartCursor(body, int32(r.lo), int32(r.hi-r.lo), order)
			if !ok || c.bad {
				return nil, errSearchRun
			}
			if c.word != nil {
				h = append(h, c)
			}
		}
	}
	h.init()
	type shard struct{ w, p []byte }
	shards := map[string]*shard{}
	var sh *shard
	var prefix []byte // of the current word's shard: its first two characters
	for len(h) > 0 {
		word := h[0].word
		if sh == nil || !bytes.HasPrefix(word, prefix) {
			// a word of another shard, maybe: a shard is worked out once
			// for all the words that share its first two characters
			_, n1 := utf8.DecodeRune(word)
			_, n2 := utf8.DecodeRune(word[n1:])
			prefix = word[:n1+n2]
			key := g.shardOf(string(prefix))
			if next := shards[key]; next == nil {
				sh = &shard{w: []byte(`{"w":[`), p: []byte(`],"p":[`)}
				shards[key] = sh
			} else {
				sh = next
				sh.w = append(sh.w, ',')
				sh.p = append(sh.p, ',')
			}
		} else {
			sh.w = append(sh.w, ',')
			sh.p = append(sh.p, ',')
		}
		sh.w = appendJSONString(sh.w, unsafe.String(unsafe.SliceData(word), len(word))) // a part's bytes never change
		sh.p = append(sh.p, '[')
		prev, first := int32(0), true
		for len(h) > 0 && bytes.Equal(h[0].word, word) {
			c := h[0]
			c.eachPost(func(post int32) {
				if !first {
					sh.p = append(sh.p, ',')
				}
				first = false
				sh.p = strconv.AppendInt(sh.p, int64(post-prev), 10)
				prev = post
			})
			c.next()
			if c.bad {
				return nil, errSearchRun
			}
			h.fix()
		}
		sh.p = append(sh.p, ']')
	}
	out := make(map[string][]byte, len(shards))
	for key, sh := range shards {
		out[key] = append(append(sh.w, sh.p...), "]}"...)
	}
	return out, nil
}

// partBody reads the body of p from the cache; false when it is not
// there or is not the body p names.
func (b *build) partBody(p *searchPart) ([]byte, bool) {
	if b.opts.Cache == nil {
		return nil, false
	}
	v, ok := b.opts.Cache.Get(partKey(p.digest))
	return v, ok && sha256.Sum256(v) == p.digest
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
