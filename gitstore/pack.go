package gitstore

import (
	"bufio"
	"cmp"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"io"
	"slices"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/klauspost/compress/zlib"
)

// writeThinPack writes objects as a git pack (version 2). An object with a
// base in bases (the object at the same path in the tree the remote already
// has) is sent as a REF_DELTA against it when that is clearly smaller: a
// "thin" pack, as `git push` sends, which the receiving side completes from
// its own objects. A one-line change to a page, or one entry changed in a
// folder of a thousand files, then costs bytes, not the whole object. The
// objects are read a batch at a time, their deltas found and their entries
// compressed on every core, and written in order; objects that do not
// compress (photos) are stored as they are. An object without a base that
// packed holds (the pack the tree writer stored the new objects in) is sent
// as the entry that pack has, compressed once (a pull request's first
// preview sends every page of the site: compressing it twice cost more
// than half of its push).
func writeThinPack(out io.Writer, s storer.EncodedObjectStorer, objects []plumbing.Hash, bases map[plumbing.Hash]plumbing.Hash, packed *packedEntries) error {
	reuse := packed.open()
	defer reuse.close()
	sum := sha1.New()
	bw := bufio.NewWriterSize(out, 64<<10)
	w := io.MultiWriter(bw, sum)
	if _, err := w.Write(packHeader(len(objects))); err != nil {
		return err
	}
	type thinItem struct {
		packItem
		base     plumbing.Hash
		baseData []byte // nil: no base of its type to try
		entry    []byte // the whole entry, as packed holds it
	}
	items := make([]thinItem, packBatch)
	var head, entries []byte
	for start := 0; start < len(objects); start += packBatch {
		batch := items[:min(packBatch, len(objects)-start)]
		entries = entries[:0]
		for i := range batch {
			h := objects[start+i]
			if _, ok := bases[h]; !ok {
				var reused bool
				n := len(entries)
				if entries, reused = reuse.entry(h, entries); reused {
					batch[i] = thinItem{packItem: packItem{h: h}, entry: entries[n:len(entries):len(entries)]}
					continue
				}
			}
			typ, data, err := readObject(s, h)
			if err != nil {
				return err
			}
			batch[i] = thinItem{packItem: packItem{h: h, typ: typ, data: data}}
			if base, ok := bases[h]; ok {
				if btyp, bdata, err := readObject(s, base); err == nil && btyp == typ {
					batch[i].base, batch[i].baseData = base, bdata
				}
			}
		}
		onEveryCore(len(batch), zlib.DefaultCompression, func(c *entryCompressor, i int) {
			it := &batch[i]
			if it.entry != nil {
				return
			}
			data := it.data
			it.delta, it.size = false, len(data)
			if it.baseData != nil {
				if d := packfile.DiffDelta(it.baseData, data); len(d) < len(data)/2 {
					it.delta, it.size, data = true, len(d), d
				}
			}
			it.payload = c.compress(data, !it.delta && c.incompressible(data))
		})
		for i := range batch {
			it := &batch[i]
			if it.entry != nil {
				if _, err := w.Write(it.entry); err != nil {
					return err
				}
				*it = thinItem{}
				continue
			}
			head = head[:0]
			if it.delta {
				head = appendEntryHeader(head, plumbing.REFDeltaObject, it.size)
				head = append(head, it.base[:]...)
			} else {
				head = appendEntryHeader(head, it.typ, it.size)
			}
			if _, err := w.Write(head); err != nil {
				return err
			}
			if _, err := w.Write(it.payload); err != nil {
				return err
			}
			*it = thinItem{} // what the next batch does not overwrite is not kept
		}
	}
	if _, err := bw.Write(sum.Sum(nil)); err != nil {
		return err
	}
	return bw.Flush()
}

func readObject(s storer.EncodedObjectStorer, h plumbing.Hash) (plumbing.ObjectType, []byte, error) {
	o, err := s.EncodedObject(plumbing.AnyObject, h)
	if err != nil {
		return 0, nil, fmt.Errorf("read object %s: %w", h, err)
	}
	data, err := objectBytes(o)
	return o.Type(), data, err
}

// packHeader is the 12 bytes that start a version 2 pack of n objects.
func packHeader(n int) []byte {
	hdr := []byte("PACK\x00\x00\x00\x02\x00\x00\x00\x00")
	binary.BigEndian.PutUint32(hdr[8:], uint32(n))
	return hdr
}

// appendEntryHeader appends a pack entry's type and size header.
func appendEntryHeader(b []byte, typ plumbing.ObjectType, size int) []byte {
	u := uint64(size)
	c := byte(typ)<<4 | byte(u&0x0f)
	for u >>= 4; u != 0; u >>= 7 {
		b = append(b, c|0x80)
		c = byte(u & 0x7f)
	}
	return append(b, c)
}

// newPackDepth bounds delta chains in the pack of a new branch, as git's
// pack.depth does.
const newPackDepth = 50

// maxDeltaBytes: larger objects are sent whole; finding a delta between
// two of them costs more than the bytes it saves.
const maxDeltaBytes = 4 << 20

// packItem is an object of a pack being written.
type packItem struct {
	h    plumbing.Hash
	typ  plumbing.ObjectType
	data []byte
	flat bool // its bytes do not compress (a photo)
	// the entry: payload is the zlib data of the object, or of a delta
	// against the item before it, which size bytes inflate to
	delta   bool
	payload []byte
	size    int
}

// deltaBase says whether it is worth trying as a delta against base.
func (it *packItem) deltaBase(base *packItem) bool {
	return base.typ == it.typ && (it.typ == plumbing.BlobObject || it.typ == plumbing.TreeObject) &&
		!it.flat && !base.flat && len(base.data) <= maxDeltaBytes && len(it.data) <= maxDeltaBytes &&
		len(it.data) >= len(base.data)>>4
}

// writeNewPack writes objects as the pack of a branch the remote does not
// have yet. Each blob or tree is tried as a delta against its neighbour in
// go-git's order for that (type, then size, largest first: the pages of
// one theme are alike), kept when under three quarters of the object, as
// an OFS_DELTA when ofs (else a REF_DELTA); objects that do not compress
// (photos) are neither tried nor compressed. Deltas and compression run on
// every core, a batch at a time, and the entries are written in that
// order. go-git's encoder makes the same search one object at a time.
func writeNewPack(out io.Writer, s storer.EncodedObjectStorer, objects []plumbing.Hash, ofs bool) error {
	items := make([]packItem, len(objects))
	for i, h := range objects {
		typ, data, err := readObject(s, h)
		if err != nil {
			return err
		}
		items[i] = packItem{h: h, typ: typ, data: data}
	}
	slices.SortStableFunc(items, func(a, b packItem) int {
		return cmp.Or(cmp.Compare(b.typ, a.typ), cmp.Compare(len(b.data), len(a.data)))
	})
	sum := sha1.New()
	bw := bufio.NewWriterSize(out, 256<<10)
	w := io.MultiWriter(bw, sum)
	hdr := packHeader(len(items))
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	off, prevOff, depth := int64(len(hdr)), int64(0), 0
	var head []byte
	for start := 0; start < len(items); start += packBatch {
		end := min(start+packBatch, len(items))
		onEveryCore(end-start, zlib.DefaultCompression, func(c *entryCompressor, i int) {
			it := &items[start+i]
			it.flat = c.incompressible(it.data)
		})
		onEveryCore(end-start, zlib.DefaultCompression, func(c *entryCompressor, i int) {
			j := start + i
			it := &items[j]
			data := it.data
			it.delta, it.size = false, len(data)
			if j > 0 && it.deltaBase(&items[j-1]) {
				if d := packfile.DiffDelta(items[j-1].data, data); len(d) < len(data)*3/4 {
					it.delta, it.size, data = true, len(d), d
				}
			}
			it.payload = c.compress(data, it.flat && !it.delta)
		})
		for j := start; j < end; j++ {
			it := &items[j]
			if it.delta && depth >= newPackDepth {
				c := entryCompressor{level: zlib.DefaultCompression} // too deep a chain: whole (rare)
				it.delta, it.size, it.payload = false, len(it.data), c.compress(it.data, it.flat)
			}
			head = head[:0]
			if !it.delta {
				depth = 0
				head = appendEntryHeader(head, it.typ, it.size)
			} else if depth++; ofs {
				head = appendEntryHeader(head, plumbing.OFSDeltaObject, it.size)
				head = appendOffset(head, off-prevOff)
			} else {
				head = appendEntryHeader(head, plumbing.REFDeltaObject, it.size)
				head = append(head, items[j-1].h[:]...)
			}
			if _, err := w.Write(head); err != nil {
				return err
			}
			if _, err := w.Write(it.payload); err != nil {
				return err
			}
			prevOff = off
			off += int64(len(head) + len(it.payload))
			it.payload = nil
		}
	}
	if _, err := bw.Write(sum.Sum(nil)); err != nil {
		return err
	}
	return bw.Flush()
}

// appendOffset appends an OFS_DELTA's distance back to its base, in git's
// encoding (big-endian groups of 7 bits, each continuation adding one).
func appendOffset(b []byte, n int64) []byte {
	var buf [10]byte
	i := len(buf) - 1
	buf[i] = byte(n & 0x7f)
	for n >>= 7; n != 0; n >>= 7 {
		n--
		i--
		buf[i] = 0x80 | byte(n&0x7f)
	}
	return append(b, buf[i:]...)
}
