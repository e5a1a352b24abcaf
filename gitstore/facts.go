package gitstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/sirupsen/logrus"
)

// factsFile, in a Store's folder, keeps the facts of objectFacts between
// processes. Its name cannot be a repository cache's (those end in .git).
const factsFile = "object-facts.cache"

// maxFacts bounds each kind of fact, in memory and on disk: 512 Ki blob
// sizes (14 MiB) and 256 Ki tree summaries (13 MiB), far more than the
// source trees of the blogs one Store serves; and 128 Ki tree contents of
// at most 32 MiB together (a blog of 20,000 posts has 1,800 trees, 2 MiB).
const (
	maxBlobFacts    = 1 << 19
	maxTreeFacts    = 1 << 18
	maxContentFacts = 1 << 17
	maxContentBytes = 32 << 20
)

// treeSummary is what CheckTree needs to know of everything under a tree,
// so that a tree it has seen costs one look-up: the files (and links) at
// any depth, their total size, the largest one's size, and the longest
// path of an entry relative to the tree, in bytes. Sums saturate at
// math.MaxInt64: trees may share subtrees, so a small DAG can hold an
// astronomical number of files.
type treeSummary struct {
	files, bytes, maxFile, maxPath int64
}

func (s *treeSummary) addFile(size int64) {
	s.files = satAdd(s.files, 1)
	s.bytes = satAdd(s.bytes, size)
	s.maxFile = max(s.maxFile, size)
}

// addEntry counts the path of the entry name (of any kind).
func (s *treeSummary) addEntry(name string) {
	s.maxPath = max(s.maxPath, int64(len(name)))
}

// addDir adds the summary of the folder name to its parent's.
func (s *treeSummary) addDir(name string, sub treeSummary) {
	s.files = satAdd(s.files, sub.files)
	s.bytes = satAdd(s.bytes, sub.bytes)
	s.maxFile = max(s.maxFile, sub.maxFile)
	s.addEntry(name)
	if sub.maxPath > 0 {
		s.maxPath = max(s.maxPath, satAdd(int64(len(name))+1, sub.maxPath))
	}
}

func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// fact is a remembered value and whether this process used it: on
// eviction, and when a file has more than fits, what this process used is
// kept first.
type fact[T any] struct {
	v    T
	used bool
}

// objectFacts remembers what never changes about an object, found by its
// hash: a blob's size, a tree's summary and a tree's content (its entries,
// as git stores them: listing a source tree read and inflated 1,800 tree
// objects from the packs, one at a time, 0.1 s of every publish of a blog
// of 20,000 posts; a remembered one is checked against its hash when
// used). Being content-addressed, they
// hold for every repository of a Store, and are kept in factsFile so that
// a new process does not ask the object store again (a blob's size reads
// its pack entry, inflating a delta's header: at thousands of files that
// was most of a publish's check). The file is read once, on first use; it
// is written whole (temporary file, then rename) by save, merged with what
// another process wrote meanwhile. Another process may lose some of our
// facts or we some of theirs, never a fact's truth. A file that is damaged,
// truncated or not ours is discarded (with a log line when there is a
// logger) and rebuilt. A nil *objectFacts remembers nothing. Safe for
// concurrent use.
type objectFacts struct {
	path string // "" keeps facts in memory only
	log  *logrus.Entry
	// maxSizes and maxTrees bound the facts of each kind, in memory and
	// in the file (maxBlobFacts and maxTreeFacts but in tests).
	maxSizes, maxTrees int

	load  sync.Once
	mu    sync.Mutex
	sizes map[plumbing.Hash]fact[int64]
	trees map[plumbing.Hash]fact[treeSummary]
	// learnt are blob sizes read from fetched packs and not asked for
	// yet (learn): not saved
	learnt map[plumbing.Hash]int64
	// contents are trees' contents, contentBytes their total length,
	// bounded by maxContents and maxContentBytes
	contents                     map[plumbing.Hash]fact[[]byte]
	contentBytes                 int
	maxContents, maxContentBytes int
	// added says there are facts the file lacks.
	added bool
	// seen is the file as this process last read or wrote it: when it
	// changed, another process wrote it, and save merges.
	seen stamp
}

// stamp tells one version of the file from another.
type stamp struct{ size, mod int64 }

func stampOf(info os.FileInfo) stamp { return stamp{info.Size(), info.ModTime().UnixNano()} }

func newObjectFacts(path string, log *logrus.Entry) *objectFacts {
	return &objectFacts{path: path, log: log, maxSizes: maxBlobFacts, maxTrees: maxTreeFacts,
		maxContents: maxContentFacts, maxContentBytes: maxContentBytes,
		sizes: map[plumbing.Hash]fact[int64]{}, trees: map[plumbing.Hash]fact[treeSummary]{},
		contents: map[plumbing.Hash]fact[[]byte]{}}
}

// blobSize is the size of blob h, remembered or read from its header
// (objectSize).
func (f *objectFacts) blobSize(s storer.EncodedObjectStorer, h plumbing.Hash) (int64, error) {
	if f == nil {
		return objectSize(s, h)
	}
	f.ensureLoaded()
	f.mu.Lock()
	n, ok := use(f.sizes, h)
	if !ok {
		if n, ok = f.learnt[h]; ok {
			delete(f.learnt, h)
			put(f.sizes, h, n, f.maxSizes)
			f.added = true
		}
	}
	f.mu.Unlock()
	if ok {
		return n, nil
	}
	size, err := objectSize(s, h)
	if err != nil {
		return 0, err
	}
	f.mu.Lock()
	put(f.sizes, h, size, f.maxSizes)
	f.added = true
	f.mu.Unlock()
	return size, nil
}

// tree is the remembered summary of tree h.
func (f *objectFacts) tree(h plumbing.Hash) (treeSummary, bool) {
	if f == nil {
		return treeSummary{}, false
	}
	f.ensureLoaded()
	f.mu.Lock()
	defer f.mu.Unlock()
	return use(f.trees, h)
}

// use is the fact of h in m, marked used by this process.
func use[T any](m map[plumbing.Hash]fact[T], h plumbing.Hash) (T, bool) {
	v, ok := m[h]
	if ok && !v.used {
		v.used = true
		m[h] = v
	}
	return v.v, ok
}

func (f *objectFacts) putTree(h plumbing.Hash, sum treeSummary) {
	if f == nil {
		return
	}
	f.mu.Lock()
	if old, ok := f.trees[h]; !ok || old.v != sum {
		put(f.trees, h, sum, f.maxTrees)
		f.added = true
	}
	f.mu.Unlock()
}

// learn keeps the sizes of the blobs of fetched packs (learnSizes) in
// memory, for the tree checks that follow the fetches: one becomes a fact,
// saved with the others, when it is asked for (blobSize), so that a
// fetched history's old blobs do not fill the file every publish reads.
// Past maxLearntSizes the sizes of earlier fetches are dropped, so that a
// server's Store does not gather them fetch after fetch (a size dropped is
// read from the objects when asked, as before).
func (f *objectFacts) learn(sizes map[plumbing.Hash]int64) {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.learnt == nil || len(f.learnt)+len(sizes) > maxLearntSizes {
		f.learnt = sizes
		return
	}
	maps.Copy(f.learnt, sizes)
}

// maxLearntSizes bounds the sizes learn keeps from more than one fetch
// (about 4 MB of map).
const maxLearntSizes = 1 << 17

// treeContent is the remembered content of tree h: what its object holds
// after the header, the entries. The caller checks it against h (readTree
// does, decoding it) and drops it (dropTreeContent) if it does not hash to
// h.
func (f *objectFacts) treeContent(h plumbing.Hash) ([]byte, bool) {
	if f == nil {
		return nil, false
	}
	f.ensureLoaded()
	f.mu.Lock()
	defer f.mu.Unlock()
	return use(f.contents, h)
}

// dropTreeContent forgets the content remembered for tree h: it was not
// h's. The file is written again without it.
func (f *objectFacts) dropTreeContent(h plumbing.Hash) {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.contents[h]; ok {
		f.contentBytes -= len(c.v)
		delete(f.contents, h)
		f.added = true
	}
	if f.log != nil {
		f.log.WithField("file", f.path).WithField("tree", h.String()).Warn("object facts cache: a remembered tree did not match its hash; dropped")
	}
}

// putTreeContent remembers content as tree h's; the caller must not
// change it afterwards. A content larger than a tenth of the bound is not
// kept.
func (f *objectFacts) putTreeContent(h plumbing.Hash, content []byte) {
	if f == nil || len(content) > f.maxContentBytes/10 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.contents[h]; ok {
		return
	}
	if len(f.contents) >= f.maxContents || f.contentBytes+len(content) > f.maxContentBytes {
		for k, c := range f.contents {
			if !c.used {
				f.contentBytes -= len(c.v)
				delete(f.contents, k)
			}
		}
		if len(f.contents) >= f.maxContents || f.contentBytes+len(content) > f.maxContentBytes {
			clear(f.contents)
			f.contentBytes = 0
		}
	}
	f.contents[h] = fact[[]byte]{v: content, used: true}
	f.contentBytes += len(content)
	f.added = true
}

// put adds a used fact, making room first when m is full: what this
// process has not used goes, and everything when that is not enough.
func put[T any](m map[plumbing.Hash]fact[T], h plumbing.Hash, v T, limit int) {
	if _, ok := m[h]; !ok && len(m) >= limit {
		for k, f := range m {
			if !f.used {
				delete(m, k)
			}
		}
		if len(m) >= limit {
			clear(m)
		}
	}
	m[h] = fact[T]{v: v, used: true}
}

func (f *objectFacts) ensureLoaded() {
	if f == nil {
		return
	}
	f.load.Do(func() {
		if f.path == "" {
			return
		}
		st, err := f.read()
		f.mu.Lock()
		defer f.mu.Unlock()
		f.seen = st
		if err != nil {
			f.discard(err)
		}
	})
}

// read merges the file into memory, keeping what is there, and says which
// file it read. A missing file is no error and adds nothing.
func (f *objectFacts) read() (stamp, error) {
	file, err := os.Open(f.path)
	if errors.Is(err, os.ErrNotExist) {
		return stamp{}, nil
	}
	if err != nil {
		return stamp{}, err
	}
	defer file.Close()
	info, err := file.Stat()
	if err != nil {
		return stamp{}, err
	}
	st := stampOf(info)
	if info.Size() > factsMaxLen {
		return st, fmt.Errorf("%d bytes, more than facts ever take", info.Size())
	}
	b := make([]byte, info.Size()) // a file is replaced whole, never written to
	if _, err := io.ReadFull(file, b); err != nil {
		return st, err
	}
	sizes, trees, contents, err := decodeFacts(b)
	if err != nil {
		return st, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sizes = merge(f.sizes, sizes, f.maxSizes)
	f.trees = merge(f.trees, trees, f.maxTrees)
	if len(f.contents) == 0 && len(contents) <= f.maxContents {
		n := 0
		for _, c := range contents {
			n += len(c.v)
		}
		if n <= f.maxContentBytes {
			f.contents, f.contentBytes = contents, n
			return st, nil
		}
	}
	for h, c := range contents {
		if _, ok := f.contents[h]; !ok && len(f.contents) < f.maxContents && f.contentBytes+len(c.v) <= f.maxContentBytes {
			f.contents[h] = c
			f.contentBytes += len(c.v)
		}
	}
	return st, nil
}

// merge adds to m the facts of from it lacks, while it holds fewer than
// limit, and returns it; for an empty m it returns from (the first read of
// the file: its 30,000 facts are not put in a map a second time).
func merge[T any](m, from map[plumbing.Hash]fact[T], limit int) map[plumbing.Hash]fact[T] {
	if len(m) == 0 && len(from) <= limit {
		return from
	}
	for h, v := range from {
		if _, ok := m[h]; !ok && len(m) < limit {
			m[h] = v
		}
	}
	return m
}

// discard says that the file was not used; the next save replaces it.
// Callers hold mu.
func (f *objectFacts) discard(err error) {
	f.added = true
	if f.log != nil {
		f.log.WithField("file", f.path).WithError(err).Warn("discarding damaged object facts cache")
	}
}

// save writes the facts to the file when it lacks some, merged with what
// another process wrote there meanwhile. A failure loses only the cache's
// work: it is logged, not returned.
func (f *objectFacts) save() {
	if f == nil || f.path == "" {
		return
	}
	f.ensureLoaded()
	f.mu.Lock()
	added := f.added
	f.mu.Unlock()
	if !added {
		return
	}
	if info, err := os.Stat(f.path); err == nil && stampOf(info) != f.seen {
		// Another process wrote it: keep its facts too. A damaged one is
		// replaced.
		if _, err := f.read(); err != nil {
			f.mu.Lock()
			f.discard(err)
			f.mu.Unlock()
		}
	}
	f.mu.Lock()
	data := encodeFacts(f.sizes, f.trees, f.contents)
	f.added = false
	f.mu.Unlock()
	st, err := writeAtomic(f.path, data)
	f.mu.Lock()
	defer f.mu.Unlock()
	if err != nil {
		f.added = true
		if f.log != nil {
			f.log.WithField("file", f.path).WithError(err).Warn("cannot save object facts cache")
		}
		return
	}
	f.seen = st
}

// writeAtomic replaces the file at path with data: readers see the old file
// or the new one, never a part. No fsync: a file a crash cut short is
// damaged, and damage is found and discarded.
func writeAtomic(path string, data []byte) (stamp, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return stamp{}, err
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return stamp{}, err
	}
	info, err := os.Stat(path)
	if err != nil {
		return stamp{}, err
	}
	return stampOf(info), nil
}

// The file: factsMagic, the hash size (one byte), the number of blob,
// tree and tree content facts (uint32 each), the blob facts (hash, size),
// the tree facts (hash, files, bytes, largest file, longest path), the
// tree contents (hash, length as uint32, the bytes), all integers
// big-endian, the uint64 ones below 2^63, then a CRC-32C of everything
// before it. The check is against damage, not forgers: the folder is the
// Store's own (and a tree content is checked against its hash when used).
// A file of factsMagic1 has no tree contents and no count of them.
const (
	factsMagic     = "PBFACTS2"
	factsMagic1    = "PBFACTS1"
	hashLen        = len(plumbing.Hash{})
	factsHeaderLen = len(factsMagic) + 1 + 4 + 4 + 4
	blobFactLen    = hashLen + 8
	treeFactLen    = hashLen + 4*8
	factsMaxLen    = int64(factsHeaderLen + maxBlobFacts*blobFactLen + maxTreeFacts*treeFactLen +
		maxContentFacts*(hashLen+4) + maxContentBytes + 4)
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func encodeFacts(sizes map[plumbing.Hash]fact[int64], trees map[plumbing.Hash]fact[treeSummary], contents map[plumbing.Hash]fact[[]byte]) []byte {
	n := factsHeaderLen + len(sizes)*blobFactLen + len(trees)*treeFactLen + 4
	for _, c := range contents {
		n += hashLen + 4 + len(c.v)
	}
	b := make([]byte, 0, n)
	b = append(b, factsMagic...)
	b = append(b, byte(hashLen))
	b = binary.BigEndian.AppendUint32(b, uint32(len(sizes)))
	b = binary.BigEndian.AppendUint32(b, uint32(len(trees)))
	b = binary.BigEndian.AppendUint32(b, uint32(len(contents)))
	for h, f := range sizes {
		b = append(b, h[:]...)
		b = binary.BigEndian.AppendUint64(b, uint64(f.v))
	}
	for h, f := range trees {
		b = append(b, h[:]...)
		for _, v := range [...]int64{f.v.files, f.v.bytes, f.v.maxFile, f.v.maxPath} {
			b = binary.BigEndian.AppendUint64(b, uint64(v))
		}
	}
	for h, c := range contents {
		b = append(b, h[:]...)
		b = binary.BigEndian.AppendUint32(b, uint32(len(c.v)))
		b = append(b, c.v...)
	}
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// decodeFacts reads a file of encodeFacts (or of factsMagic1), refusing
// anything else. The tree contents share b.
func decodeFacts(b []byte) (map[plumbing.Hash]fact[int64], map[plumbing.Hash]fact[treeSummary], map[plumbing.Hash]fact[[]byte], error) {
	headerLen := factsHeaderLen
	switch {
	case bytes.HasPrefix(b, []byte(factsMagic)):
	case bytes.HasPrefix(b, []byte(factsMagic1)):
		headerLen -= 4
	default:
		return nil, nil, nil, errors.New("not an object facts file")
	}
	if len(b) < headerLen+4 {
		return nil, nil, nil, errors.New("not an object facts file")
	}
	if int(b[len(factsMagic)]) != hashLen {
		return nil, nil, nil, fmt.Errorf("hashes of %d bytes, not %d", b[len(factsMagic)], hashLen)
	}
	body, sum := b[:len(b)-4], binary.BigEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return nil, nil, nil, errors.New("checksum mismatch")
	}
	nb := int(binary.BigEndian.Uint32(b[len(factsMagic)+1:]))
	nt := int(binary.BigEndian.Uint32(b[len(factsMagic)+5:]))
	nc := 0
	if headerLen == factsHeaderLen {
		nc = int(binary.BigEndian.Uint32(b[len(factsMagic)+9:]))
	}
	fixed := headerLen + nb*blobFactLen + nt*treeFactLen
	if nb > maxBlobFacts || nt > maxTreeFacts || nc > maxContentFacts || len(body) < fixed+nc*(hashLen+4) ||
		nc == 0 && len(body) != fixed {
		return nil, nil, nil, fmt.Errorf("%d bytes do not hold %d blob, %d tree and %d tree content facts", len(b), nb, nt, nc)
	}
	p := body[headerLen:]
	u := func() (int64, error) {
		v := binary.BigEndian.Uint64(p)
		p = p[8:]
		if v > math.MaxInt64 {
			return 0, errors.New("a negative number")
		}
		return int64(v), nil
	}
	sizes := make(map[plumbing.Hash]fact[int64], nb)
	for range nb {
		h := plumbing.Hash(p[:hashLen])
		p = p[hashLen:]
		v, err := u()
		if err != nil {
			return nil, nil, nil, err
		}
		sizes[h] = fact[int64]{v: v}
	}
	trees := make(map[plumbing.Hash]fact[treeSummary], nt)
	for range nt {
		h := plumbing.Hash(p[:hashLen])
		p = p[hashLen:]
		var v [4]int64
		for i := range v {
			n, err := u()
			if err != nil {
				return nil, nil, nil, err
			}
			v[i] = n
		}
		trees[h] = fact[treeSummary]{v: treeSummary{files: v[0], bytes: v[1], maxFile: v[2], maxPath: v[3]}}
	}
	contents := make(map[plumbing.Hash]fact[[]byte], nc)
	for range nc {
		if len(p) < hashLen+4 {
			return nil, nil, nil, errors.New("a tree content cut short")
		}
		h := plumbing.Hash(p[:hashLen])
		n := binary.BigEndian.Uint32(p[hashLen:])
		p = p[hashLen+4:]
		if uint64(n) > uint64(len(p)) {
			return nil, nil, nil, errors.New("a tree content cut short")
		}
		contents[h] = fact[[]byte]{v: p[:n:n]}
		p = p[n:]
	}
	if len(p) != 0 {
		return nil, nil, nil, fmt.Errorf("%d bytes after the last fact", len(p))
	}
	return sizes, trees, contents, nil
}
