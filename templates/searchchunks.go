package templates

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"sync"

	"github.com/publishbot/publishbot/posts"
)

// searchChunk is how many posts a cached run of the search index's words
// holds. Runs are counted from the oldest post, so that a new post (the
// newest) changes only the first run, and an edit only its own.
const searchChunk = 256

// searchChunkVersion names the format of a cached run and the way its
// words are found: a change to either (or to internal/searchwords)
// changes it.
const searchChunkVersion = "search-chunk-1"

// chunkBounds are the [lo, hi) of the runs of n posts, in list order
// (newest run first): runs of searchChunk counted from the end of the
// list, the first one shorter.
func chunkBounds(n int) [][2]int {
	var out [][2]int
	for hi := n; hi > 0; hi -= searchChunk {
		out = append(out, [2]int{max(0, hi-searchChunk), hi})
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// collectSearchChunks is collectSearchWords with a cache: each run of
// posts is read from the cache when the key of what its words are made
// of (every post's title, tag names, summary and body) is there, else
// found (on up to workers goroutines) and put there; the runs' tables are
// merged in list order, as collectSearchWords merges its own, so the set
// is the same.
func collectSearchChunks(ctx context.Context, list []*PostData, workers int, cache posts.RenderCache) *searchWordSet {
	bounds := chunkBounds(len(list))
	tables := make([]*wordTable, len(bounds))
	next := make(chan int)
	var wg sync.WaitGroup
	for range max(1, min(workers, len(bounds))) {
		wg.Go(func() {
			for c := range next {
				lo, hi := bounds[c][0], bounds[c][1]
				key := searchChunkKey(list[lo:hi])
				if v, ok := cache.Get(key); ok {
					if t, err := decodeWordTable(v, int32(lo), hi-lo); err == nil {
						tables[c] = t
						continue
					}
					// damaged: found again and put back below
				}
				t := newWordTable(list[lo:hi])
				for i := lo; i < hi && ctx.Err() == nil; i++ {
					t.addPost(int32(i), list[i])
				}
				if ctx.Err() == nil {
					cache.Put(key, encodeWordTable(t, int32(lo), hi-lo))
				}
				tables[c] = t
			}
		})
	}
	for c := range bounds {
		if ctx.Err() != nil {
			break
		}
		next <- c
	}
	close(next)
	wg.Wait()
	all := &wordTable{ids: map[string]int32{}}
	var got []*wordTable
	for _, t := range tables {
		if t != nil { // nil only once ctx ended
			all.merge(t)
			got = append(got, t)
		}
	}
	return wordSet(all.words, got)
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

// encodeWordTable is the cache value of t, the table of the n posts from
// number first: its words, then for each post the numbers of its words,
// as uvarints.
func encodeWordTable(t *wordTable, first int32, n int) []byte {
	size := 16 + 3*len(t.pairs)
	for _, w := range t.words {
		size += len(w) + 2
	}
	b := make([]byte, 0, size)
	b = append(b, searchChunkVersion...)
	b = binary.AppendUvarint(b, uint64(len(t.words)))
	for _, w := range t.words {
		b = binary.AppendUvarint(b, uint64(len(w)))
		b = append(b, w...)
	}
	p := 0
	for post := first; post < first+int32(n); post++ {
		start := p
		for p < len(t.pairs) && t.pairs[p].post == post {
			p++
		}
		b = binary.AppendUvarint(b, uint64(p-start))
		for _, wp := range t.pairs[start:p] {
			b = binary.AppendUvarint(b, uint64(wp.word))
		}
	}
	return b
}

var errWordTable = errors.New("cached search words do not decode")

// decodeWordTable is the table encodeWordTable wrote, its posts numbered
// from first, checked whole but not copied out of v: merge and wordSet
// read it in place. A value that does not decode whole, or names a word
// it does not hold, is an error (a damaged record is never trusted).
func decodeWordTable(v []byte, first int32, n int) (*wordTable, error) {
	if len(v) < len(searchChunkVersion) || string(v[:len(searchChunkVersion)]) != searchChunkVersion {
		return nil, errWordTable
	}
	v = v[len(searchChunkVersion):]
	at := 0
	next := func() (uint64, bool) {
		x, k := binary.Uvarint(v[at:])
		if k <= 0 {
			return 0, false
		}
		at += k
		return x, true
	}
	nw, ok := next()
	if !ok || nw > uint64(len(v)) {
		return nil, errWordTable
	}
	t := &wordTable{nWords: int(nw), nPosts: n, first: first}
	wordsAt := at
	for range nw {
		l, ok := next()
		if !ok || l > uint64(len(v)-at) {
			return nil, errWordTable
		}
		at += int(l)
	}
	t.encWords = v[wordsAt:at:at]
	postsAt := at
	for range n {
		np, ok := next()
		if !ok || np > uint64(len(v)-at) {
			return nil, errWordTable
		}
		for range np {
			w, ok := next()
			if !ok || w >= nw {
				return nil, errWordTable
			}
		}
	}
	if at != len(v) {
		return nil, errWordTable
	}
	t.encPosts = v[postsAt:at:at]
	return t, nil
}
