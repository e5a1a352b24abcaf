package publisher

import (
	"hash/maphash"
	"math/bits"
	"slices"
)

// fileIndex is a manifest's files: their paths in order, each path's entry,
// and a table that finds a path's place. A Go map of them was the largest
// thing a one-post edit of a 20,000-post blog kept alive (60,000 entries of
// 80 bytes in slots rounded up to a power of two: 15 MB); this is 5 MB.
type fileIndex struct {
	paths   []string        // sorted, each once
	entries []manifestEntry // entries[i] is paths[i]'s
	// slots is an open-addressing table of len a power of two, at most
	// half full: i+1 for paths[i] at the first free slot from the path's
	// hash on; 0 is free
	slots []int32
	seed  maphash.Seed
}

// indexFiles is the index of files (tests, and manifests built in
// memory).
func indexFiles(files map[string]manifestEntry) fileIndex {
	var fi fileIndex
	fi.paths = make([]string, 0, len(files))
	for p := range files {
		fi.paths = append(fi.paths, p)
	}
	slices.Sort(fi.paths)
	fi.entries = make([]manifestEntry, len(fi.paths))
	for i, p := range fi.paths {
		fi.entries[i] = files[p]
	}
	fi.index()
	return fi
}

// index makes the table of fi's paths, which must be sorted and unique.
func (fi *fileIndex) index() {
	n := 1 << bits.Len(uint(2*len(fi.paths)))
	fi.slots = make([]int32, n)
	fi.seed = maphash.MakeSeed()
	mask := uint64(n - 1)
	for i, p := range fi.paths {
		s := maphash.String(fi.seed, p) & mask
		for fi.slots[s] != 0 {
			s = (s + 1) & mask
		}
		fi.slots[s] = int32(i + 1)
	}
}

// find is the place of p in fi.paths, or -1.
func (fi *fileIndex) find(p string) int {
	if len(fi.slots) == 0 {
		return -1
	}
	mask := uint64(len(fi.slots) - 1)
	for s := maphash.String(fi.seed, p) & mask; fi.slots[s] != 0; s = (s + 1) & mask {
		if i := fi.slots[s] - 1; fi.paths[i] == p {
			return int(i)
		}
	}
	return -1
}

// get is p's entry.
func (fi *fileIndex) get(p string) (manifestEntry, bool) {
	if i := fi.find(p); i >= 0 {
		return fi.entries[i], true
	}
	return manifestEntry{}, false
}

func (fi *fileIndex) len() int { return len(fi.paths) }

// keep leaves in fi only the files keep says yes to (given their place),
// and returns the places kept, in order.
func (fi *fileIndex) keep(keep func(i int) bool) []int {
	var kept []int
	n := 0
	for i := range fi.paths {
		if keep(i) {
			kept = append(kept, i)
			fi.paths[n], fi.entries[n] = fi.paths[i], fi.entries[i]
			n++
		}
	}
	fi.paths, fi.entries = fi.paths[:n], fi.entries[:n]
	fi.index()
	return kept
}
