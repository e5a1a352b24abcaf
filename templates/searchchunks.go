package templates

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/publishbot/publishbot/posts"
)

// The search index is made from runs of posts, and each run's words are
// kept by group: the words whose first character has one shard key
// (runeKey). A word shard is made from one group's part of every run, so
// a build that changed a few words of one post makes again only the
// shards of those words' groups; the others keep the bytes of the
// previous build (their key is that of their parts) without being read.
//
// searchChunk is how many posts a run holds. Runs are counted from the
// oldest post, so that a new post (the newest) changes only the first
// run, and an edit only its own (though the numbers of every post after a
// new one change, and with them every shard).
const searchChunk = 256

// searchChunkVersion names the format of a cached run and the way its
// words are found: a change to either (or to internal/searchwords)
// changes it. searchGroupVersion names the way a shard is made from the
// parts: a change to that changes it.
const (
	searchChunkVersion = "search-chunk-2"
	searchGroupVersion = "search-group-1"
)

// chunkBounds are the [lo, hi) of the runs of n posts, in list order
// (newest run first): runs of searchChunk counted from the end of the
// list, the first one shorter.
func chunkBounds(n int) [][2]int {
	var out [][2]int
	for hi := n; hi > 0; hi -= searchChunk {
		out = append(out, [2]int{max(0, hi-searchChunk), hi})
	}
	slices.Reverse(out)
	return out
}

// searchRun is the words of the posts [lo, hi) of the list, by group.
type searchRun struct {
	lo, hi int
	key    [32]byte     // in the cache: what its words are made of (searchChunkKey)
	parts  []searchPart // by group, sorted
	fresh  bool         // found in this build: every part has its body
}

// searchPart is the words of a run whose first characters are of one
// group, with the posts that use each.
type searchPart struct {
	group  string
	digest [32]byte // SHA-256 of body
	size   int      // of the JSON of its words and posts, about
	subs   []string // shard keys of its words if the group is split (subKey), sorted
	// body is the words, sorted, each with the numbers of its posts in
	// the run as gaps from the one before (the first from 0), as
	// uvarints: the count of words, then of each word its length, its
	// bytes, the count of posts and the gaps. Nil until read.
	body []byte
}

// subKey is word's shard when its group is split: its first two
// characters' keys (shardKey).
func subKey(word string) string {
	r, size := utf8.DecodeRuneInString(word)
	key := runeKey(r)
	if size < len(word) {
		r2, _ := utf8.DecodeRuneInString(word[size:])
		key += runeKey(r2)
	}
	return key
}

// groupKey is word's group: its first character's key.
func groupKey(word string) string {
	r, _ := utf8.DecodeRuneInString(word)
	return runeKey(r)
}

// runKeys gives sorted words their groupKey and subKey, worked out again
// only when the first characters change (runeKey makes a string).
type runKeys struct {
	first, firstKey string
	two, twoKey     string
}

func (k *runKeys) group(word string) string {
	_, n := utf8.DecodeRuneInString(word)
	if word[:n] != k.first || k.firstKey == "" {
		k.first, k.firstKey = word[:n], groupKey(word)
	}
	return k.firstKey
}

func (k *runKeys) sub(word string) string {
	_, n1 := utf8.DecodeRuneInString(word)
	_, n2 := utf8.DecodeRuneInString(word[n1:])
	if word[:n1+n2] != k.two || k.twoKey == "" {
		k.two, k.twoKey = word[:n1+n2], subKey(word)
	}
	return k.twoKey
}

// makeRun finds the words of the posts [lo, hi) of list.
func makeRun(list []*PostData, lo, hi int) *searchRun {
	t := newWordTable(list[lo:hi])
	for i := lo; i < hi; i++ {
		t.addPost(int32(i-lo), list[i])
	}
	// the posts of word n are posts[start[n]:start[n+1]], in order
	start := make([]int32, len(t.words)+1)
	for _, p := range t.pairs {
		start[p.word+1]++
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	next := slices.Clone(start[:len(t.words)])
	postsOf := make([]int32, len(t.pairs))
	for _, p := range t.pairs {
		postsOf[next[p.word]] = p.post
		next[p.word]++
	}
	ids := make([]int32, len(t.words))
	for i := range ids {
		ids[i] = int32(i)
	}
	slices.SortFunc(ids, func(a, b int32) int { return strings.Compare(t.words[a], t.words[b]) })
	byGroup := map[string][]int32{}
	var keys runKeys
	for _, id := range ids {
		g := keys.group(t.words[id])
		byGroup[g] = append(byGroup[g], id)
	}
	run := &searchRun{lo: lo, hi: hi, fresh: true}
	for g, words := range byGroup {
		p := searchPart{group: g}
		p.body = binary.AppendUvarint(nil, uint64(len(words)))
		for _, id := range words {
			w, ps := t.words[id], postsOf[start[id]:start[id+1]]
			p.body = binary.AppendUvarint(p.body, uint64(len(w)))
			p.body = append(p.body, w...)
			p.body = binary.AppendUvarint(p.body, uint64(len(ps)))
			prev := int32(0)
			for _, post := range ps {
				p.body = binary.AppendUvarint(p.body, uint64(post-prev))
				prev = post
			}
			p.size += len(w) + 4 + 3*len(ps)
			if s := keys.sub(w); len(p.subs) == 0 || p.subs[len(p.subs)-1] != s {
				p.subs = append(p.subs, s)
			}
		}
		slices.Sort(p.subs)
		p.subs = slices.Compact(p.subs)
		p.digest = sha256.Sum256(p.body)
		run.parts = append(run.parts, p)
	}
	slices.SortFunc(run.parts, func(a, b searchPart) int { return strings.Compare(a.group, b.group) })
	return run
}

// searchRuns are the runs of list's posts, in list order, found on up to
// workers goroutines. With a cache, a run whose posts' words did not
// change is read from it (its parts without their bodies, which
// partBody reads when a shard needs them), and a run found is put there.
// fresh forces every run to be found. It stops early, with runs left nil,
// once ctx ends.
func searchRuns(ctx context.Context, list []*PostData, workers int, cache posts.RenderCache, fresh bool) []*searchRun {
	bounds := chunkBounds(len(list))
	runs := make([]*searchRun, len(bounds))
	parallelN(len(bounds), workers, func(c int) {
		if ctx.Err() != nil {
			return
		}
		lo, hi := bounds[c][0], bounds[c][1]
		var key [32]byte
		if cache != nil {
			key = searchChunkKey(list[lo:hi])
			if v, ok := cache.Get(key); ok && !fresh {
				if r, err := decodeRunHead(v, lo, hi); err == nil {
					r.key = key
					runs[c] = r
					return
				}
				// damaged: found again and put back below
			}
		}
		r := makeRun(list, lo, hi)
		r.key = key
		if cache != nil {
			for _, p := range r.parts {
				cache.Put(partKey(p.digest), p.body)
			}
			cache.Put(key, encodeRunHead(r))
		}
		runs[c] = r
	})
	return runs
}

// searchChunkKey is the cache key of the words of run: what addPost reads
// of each post, in order.
func searchChunkKey(run []*PostData) [32]byte {
	h := sha256.New()
	hashString(h, searchChunkVersion)
	hashUint(h, uint64(len(run)))
	for _, d := range run {
		hashString(h, d.Title)
		hashUint(h, uint64(len(d.TagLinks)))
		for _, t := range d.TagLinks {
			hashString(h, t.Name)
		}
		hashString(h, d.Summary)
		body := d.Post.BodyDigest() // its text's words are made from the text
		h.Write(body[:])
	}
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// partKey is the cache key of the body of a part whose SHA-256 is digest.
func partKey(digest [32]byte) [32]byte {
	return sha256.Sum256(append([]byte(searchChunkVersion+"\x00part\x00"), digest[:]...))
}

// encodeRunHead is the cache value of r without its parts' bodies: the
// version, then for each part its group, digest, size and shard keys.
func encodeRunHead(r *searchRun) []byte {
	b := append([]byte(nil), searchChunkVersion...)
	b = binary.AppendUvarint(b, uint64(len(r.parts)))
	for _, p := range r.parts {
		b = appendUvarintString(b, p.group)
		b = append(b, p.digest[:]...)
		b = binary.AppendUvarint(b, uint64(p.size))
		b = binary.AppendUvarint(b, uint64(len(p.subs)))
		for _, s := range p.subs {
			b = appendUvarintString(b, s)
		}
	}
	return b
}

func appendUvarintString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

var errSearchRun = errors.New("cached search words do not decode")

// decodeRunHead is the run encodeRunHead wrote, for the posts [lo, hi).
// A value that does not decode whole, or whose groups are not sorted and
// distinct, is an error (a damaged record is never trusted).
func decodeRunHead(v []byte, lo, hi int) (*searchRun, error) {
	d := uvarintReader{v: v}
	if !d.prefix(searchChunkVersion) {
		return nil, errSearchRun
	}
	n, ok := d.count()
	if !ok {
		return nil, errSearchRun
	}
	r := &searchRun{lo: lo, hi: hi, parts: make([]searchPart, 0, n)}
	for range n {
		var p searchPart
		var size uint64
		g, ok1 := d.str()
		dg, ok2 := d.bytes(32)
		size, ok3 := d.uvarint()
		ns, ok4 := d.count()
		if !ok1 || !ok2 || !ok3 || !ok4 || size > 1<<40 || g == "" ||
			len(r.parts) > 0 && r.parts[len(r.parts)-1].group >= g {
			return nil, errSearchRun
		}
		p.group, p.size = g, int(size)
		copy(p.digest[:], dg)
		for range ns {
			s, ok := d.str()
			if !ok || s == "" || len(p.subs) > 0 && p.subs[len(p.subs)-1] >= s {
				return nil, errSearchRun
			}
			p.subs = append(p.subs, s)
		}
		r.parts = append(r.parts, p)
	}
	if len(d.v) != 0 {
		return nil, errSearchRun
	}
	return r, nil
}

// uvarintReader reads what the encoders above append; every read says
// whether it could.
type uvarintReader struct{ v []byte }

func (d *uvarintReader) uvarint() (uint64, bool) {
	x, k := binary.Uvarint(d.v)
	if k <= 0 {
		return 0, false
	}
	d.v = d.v[k:]
	return x, true
}

// count is a number of things still to read, each at least a byte long.
func (d *uvarintReader) count() (int, bool) {
	n, ok := d.uvarint()
	return int(n), ok && n <= uint64(len(d.v))
}

func (d *uvarintReader) bytes(n int) ([]byte, bool) {
	if n < 0 || n > len(d.v) {
		return nil, false
	}
	b := d.v[:n:n]
	d.v = d.v[n:]
	return b, true
}

func (d *uvarintReader) str() (string, bool) {
	b, ok := d.view()
	return string(b), ok
}

// view is a string's bytes, not copied.
func (d *uvarintReader) view() ([]byte, bool) {
	n, ok := d.count()
	if !ok {
		return nil, false
	}
	return d.bytes(n)
}

func (d *uvarintReader) prefix(s string) bool {
	if !bytes.HasPrefix(d.v, []byte(s)) {
		return false
	}
	d.v = d.v[len(s):]
	return true
}

// partCursor reads a part's body word by word: word is the current one,
// and posts the rest of its gaps. A body that does not decode, names a
// post outside its run, or whose words are not sorted and distinct,
// stops it with bad set.
type partCursor struct {
	d      uvarintReader
	left   int    // words after the current one
	word   []byte // nil once done
	nPosts int
	lo, n  int32 // the run's first post and its length
	order  int   // of the run in the list, for equal words
	bad    bool
}

func newPartCursor(body []byte, lo, n int32, order int) *partCursor {
	c := &partCursor{d: uvarintReader{v: body}, lo: lo, n: n, order: order}
	left, ok := c.d.count()
	if !ok {
		c.bad = true
		return c
	}
	c.left = left
	c.next()
	return c
}

// next moves to the next word, skipping what is left of the current one's posts.
func (c *partCursor) next() {
	for range c.nPosts {
		if _, ok := c.d.uvarint(); !ok {
			c.fail()
			return
		}
	}
	c.nPosts = 0
	if c.left == 0 {
		c.word = nil
		if len(c.d.v) != 0 {
			c.fail()
		}
		return
	}
	c.left--
	w, ok1 := c.d.view()
	np, ok2 := c.d.count()
	if !ok1 || !ok2 || len(w) == 0 || np == 0 || c.word != nil && bytes.Compare(c.word, w) >= 0 {
		c.fail()
		return
	}
	c.word, c.nPosts = w, np
}

func (c *partCursor) fail() { c.bad, c.word, c.nPosts = true, nil, 0 }

// eachPost calls fn with the number in the list of every post of the
// current word, in order, and leaves its gaps read.
func (c *partCursor) eachPost(fn func(post int32)) {
	post := uint64(0)
	for i := range c.nPosts {
		gap, ok := c.d.uvarint()
		if !ok || i > 0 && gap == 0 || gap >= uint64(c.n) || post+gap >= uint64(c.n) {
			c.fail()
			return
		}
		post += gap
		fn(c.lo + int32(post))
	}
	c.nPosts = 0
}

// less orders cursors by their word, then by their run's place in the
// list: the posts of a word are merged in list order.
func (c *partCursor) less(o *partCursor) bool {
	if d := bytes.Compare(c.word, o.word); d != 0 {
		return d < 0
	}
	return c.order < o.order
}

// cursorHeap is a min-heap of cursors that have a word.
type cursorHeap []*partCursor

func (h cursorHeap) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && h[r].less(h[l]) {
			m = r
		}
		if !h[m].less(h[i]) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

func (h *cursorHeap) init() {
	for i := len(*h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

// fix puts the top back in its place after it moved on, or takes it out
// once it is done.
func (h *cursorHeap) fix() {
	if (*h)[0].word == nil {
		last := len(*h) - 1
		(*h)[0] = (*h)[last]
		*h = (*h)[:last]
	}
	if len(*h) > 0 {
		h.down(0)
	}
}
