package templates

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"maps"
	"runtime"
	"runtime/trace"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"
)

// pageKey is the input key of the page at sitePath made by template tpl
// from pg and extra (what the page's fields left empty are made from when
// it is rendered); false when no keys were asked for or pg holds
// something the hasher cannot see into (the page is then keyed by its
// bytes).
func (b *build) pageKey(sitePath, tpl string, pg *Page, extra ...any) (Key, bool) {
	if b.keyer == nil {
		return Key{}, false
	}
	// the page walked where it is: not copied into an interface (a few
	// hundred bytes for each of 60,000 pages at 20,000 posts), nor its
	// pointer memoised (a page is hashed once)
	return b.keyer.sumPage(b.r.reads[tpl], pg, append([]any{b.theme, tpl, sitePath}, extra...)...)
}

// redirectKey is the key of the redirect file f of the page whose key
// (made with no site path) is page.
func redirectKey(page Key, f string) Key {
	h := sha256.New()
	h.Write([]byte("redirect\x00"))
	h.Write(page[:])
	h.Write([]byte(f))
	var k Key
	h.Sum(k[:0])
	return k
}

// unchanged says whether Options.Previous gives sitePath the key k.
func (b *build) unchanged(sitePath string, k Key) bool {
	if b.opts.Previous == nil {
		return false
	}
	prev, ok := b.opts.Previous.Key(sitePath)
	return ok && prev == k
}

// previousLen is the number of files of prev (0 for none).
func previousLen(prev PreviousKeys) int {
	if prev == nil {
		return 0
	}
	return prev.Len()
}

// emit writes the page at sitePath, executing tpl with pg unless the
// previous render made it from the same input (Options.Previous).
func (b *build) emit(sitePath, tpl string, pg *Page, sizeHint int) error {
	k, keyed := b.pageKey(sitePath, tpl, pg)
	if keyed && b.unchanged(sitePath, k) {
		b.addKeyed(sitePath, nil, k, true, true)
		return nil
	}
	data, err := b.tpl.execute(tpl, pg, sizeHint)
	if err != nil {
		return err
	}
	b.addKeyed(sitePath, data, k, keyed, false)
	return nil
}

// addKeyed adds a page with its key. A kept page holds its path in b.out
// with no bytes (so that later steps still see the path taken) until
// finishKeys moves it to Output.Kept.
func (b *build) addKeyed(sitePath string, data []byte, k Key, keyed, kept bool) {
	b.add(sitePath, data)
	if !keyed {
		return
	}
	b.keys[sitePath] = k
	if kept {
		b.kept[sitePath] = true
	}
}

// forkKeys gives a copy of the build (a page step run beside others, see
// pageSteps) keys and kept files of its own; join takes them back.
func (b *build) forkKeys() {
	if b.keyer != nil {
		b.keys, b.kept = map[string]Key{}, map[string]bool{}
	}
}

// join takes part's files: a file of part replaces b's at the same path,
// and so do its key and whether it was kept.
func (b *build) join(part *build) {
	for p, data := range part.out {
		if _, had := b.out[p]; had && b.keys != nil {
			delete(b.keys, p)
			delete(b.kept, p)
		}
		b.out[p] = data
	}
	if b.keyer != nil {
		maps.Copy(b.keys, part.keys)
		maps.Copy(b.kept, part.kept)
	}
}

// keyPosts digests the posts every listing shares, once and in their
// order, so that their digests (and the keys of the pages that show them)
// are the same from one render to the next even where posts point at
// each other (PostData.Related). The posts' own fields, which point at no
// other post, are digested first on every core.
func (b *build) keyPosts() {
	if b.keyer == nil {
		return
	}
	// Each post's own fields on every core, then the posts in a fixed
	// order: their digests walk Related, whose cycles are hashed as back
	// references that depend on where the walk entered (see splitFields).
	region := trace.StartRegion(b.ctx, "templates.keyPosts.own")
	parallel(len(b.posts), func(i int) { b.keyer.ownOf(b.posts[i]) })
	region.End()
	defer trace.StartRegion(b.ctx, "templates.keyPosts.sum").End()
	for _, d := range b.posts {
		b.keyer.sum(d)
	}
	b.keyer.sum(b.site)
}

// assetKey is the key of a file copied as it is from a content tree that
// names its content: id, the tree's name for it (posts.ContentIDs, a git
// blob id). It is never a contentKey or an imageKey, so a change of how a
// file is keyed can only make it look changed, never kept.
func assetKey(id string) Key {
	return sha256.Sum256([]byte("asset\x00" + id))
}

// imageKey is the key of a file imagery made (an image cleaned, a
// variant), whose bytes have the SHA-256 sum: the image processor knows it
// without the bytes (imagery.File).
func imageKey(sum [32]byte) Key {
	return sha256.Sum256(append([]byte("image\x00"), sum[:]...))
}

// finishKeys moves kept pages from out.Files to out.Kept, keys every file
// made without a template and not keyed yet (assets and images are) by its
// bytes (and keeps it when Previous gives it that key), and fills
// out.Keys.
func (b *build) finishKeys(out *Output) {
	if b.keyer == nil {
		return
	}
	var byContent []string
	for p := range b.out {
		if _, ok := b.keys[p]; !ok {
			byContent = append(byContent, p)
		}
	}
	keys := make([]Key, len(byContent))
	parallel(len(byContent), func(i int) { keys[i] = contentKey(b.out[byContent[i]]) })
	for i, p := range byContent {
		b.keys[p] = keys[i]
		if b.unchanged(p, keys[i]) {
			b.kept[p] = true
		}
	}
	// Most files are kept: the files made go to a map of their own rather
	// than every kept one being deleted from b.out, and Kept is made in the
	// previous render's order when the caller gave it.
	made := make(map[string][]byte, len(b.out)-len(b.kept))
	for p, data := range b.out {
		if !b.kept[p] {
			made[p] = data
		}
	}
	b.out = made
	out.Files = made
	if len(b.opts.PreviousPaths) == previousLen(b.opts.Previous) {
		out.Kept = make([]string, 0, len(b.kept))
		for _, p := range b.opts.PreviousPaths {
			if b.kept[p] {
				out.Kept = append(out.Kept, p)
			}
		}
	}
	if len(out.Kept) != len(b.kept) || !slices.IsSorted(out.Kept) { // no order given, or not Previous's
		out.Kept = slices.Sorted(maps.Keys(b.kept))
	}
	out.Keys = b.keys
}

// parallel runs fn(0) … fn(n-1) on every core and returns when all are
// done.
func parallel(n int, fn func(i int)) { parallelN(n, runtime.GOMAXPROCS(0), fn) }

// parallelN runs fn(0) … fn(n-1) on up to workers goroutines (at least
// one) and returns when all are done. Each goroutine takes the next index
// from a counter: a channel fed one index at a time parked and woke its
// sender at every item, which left a core of two idle much of the time
// (most items here are a few microseconds of work).
func parallelN(n, workers int, fn func(i int)) {
	workers = max(1, min(workers, n))
	if workers == 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(i)
			}
		})
	}
	wg.Wait()
}

// hashUint writes u to h as 8 bytes; hashString writes s with its length
// before it, so that no two lists of strings write the same bytes.
func hashUint(h hash.Hash, u uint64) {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], u)
	h.Write(n[:])
}

func hashString(h hash.Hash, s string) {
	hashUint(h, uint64(len(s)))
	// not []byte(s): a Writer neither keeps nor changes what it is given,
	// and the copy was 9 MB of every 20,000-post render (searchChunkKey
	// hashes every post's words)
	h.Write(unsafe.Slice(unsafe.StringData(s), len(s)))
}
