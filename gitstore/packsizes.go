package gitstore

import (
	"encoding/hex"
	"io"
	"os"
	"path/filepath"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/idxfile"
)

// A fetched pack's blob sizes are learnt while checkPack reads it: the
// tree check of a first publish (CheckTree) asks for the size of every
// file, and go-git answers for a delta by inflating all of it to read the
// two numbers at its start, one file at a time (1.9 s of a 20,000-post
// blog's first publish). checkPack already reads those numbers; once
// go-git has indexed the pack, its index says which object each entry
// makes, and the sizes of the blobs go into the Store's object facts.

// packEntry is what checkPack learns of one pack entry.
type packEntry struct {
	off  int64 // where the entry starts in the pack
	typ  byte  // pack type: 1–4 an object, packOFSDelta or packREFDelta
	size int64 // the size of the object it makes (for a delta, once applied)
	base int64 // an OFS_DELTA's base entry
	ref  plumbing.Hash
}

// maxLearntEntries bounds the entries checkPack records (56 bytes each).
const maxLearntEntries = 4 << 20

// learnSizes puts the sizes of the blobs among entries, the entries of
// the pack just stored from f, into the Store's facts. It learns nothing
// when the stored pack is not byte for byte what f holds (its name is its
// checksum, the last 20 bytes of f) or its index cannot be read: the
// sizes are then read when asked, as before.
func (r *Repo) learnSizes(f *os.File, entries []packEntry) {
	facts := r.store.facts
	if facts == nil || len(entries) == 0 {
		return
	}
	var sum [20]byte
	if st, err := f.Stat(); err != nil || st.Size() < 20 {
		return
	} else if _, err := f.ReadAt(sum[:], st.Size()-20); err != nil {
		return
	}
	idxf, err := os.Open(filepath.Join(r.dir, "objects", "pack", "pack-"+hex.EncodeToString(sum[:])+".idx"))
	if err != nil {
		return
	}
	defer idxf.Close()
	idx := idxfile.NewMemoryIndex()
	if err := idxfile.NewDecoder(idxf).Decode(idx); err != nil {
		return
	}
	sizes := blobSizes(entries, idx)
	if len(sizes) > 0 {
		facts.learn(sizes)
	}
}

// blobSizes are the sizes of the blobs the entries make, by object id,
// as the pack's index names them; a delta is a blob when its base is
// (followed through the pack, at most maxDeltaChain deep).
func blobSizes(entries []packEntry, idx *idxfile.MemoryIndex) map[plumbing.Hash]int64 {
	at := make(map[int64]int, len(entries)) // entry by offset
	for i, e := range entries {
		at[e.off] = i
	}
	typeOf := func(i int) byte {
		for range maxDeltaChain {
			e := entries[i]
			switch e.typ {
			case packOFSDelta:
				j, ok := at[e.base]
				if !ok {
					return 0
				}
				i = j
			case packREFDelta:
				off, err := idx.FindOffset(e.ref)
				if err != nil {
					return 0
				}
				j, ok := at[off]
				if !ok {
					return 0
				}
				i = j
			default:
				return e.typ
			}
		}
		return 0
	}
	iter, err := idx.Entries()
	if err != nil {
		return nil
	}
	defer iter.Close()
	sizes := make(map[plumbing.Hash]int64)
	for {
		ie, err := iter.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil
		}
		i, ok := at[int64(ie.Offset)]
		if ok && typeOf(i) == byte(plumbing.BlobObject) {
			sizes[ie.Hash] = entries[i].size
		}
	}
	return sizes
}

// maxDeltaChain bounds the deltas followed to an entry's type: git makes
// chains of at most 50 (pack.depth), and a pack that loops is damaged.
const maxDeltaChain = 4096
