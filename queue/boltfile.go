package queue

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/bits"
	"os"
)

// ErrDamaged is returned by OpenBolt for a queue file that is not a whole
// bbolt database: truncated, zeroed or overwritten. bbolt maps the file into
// memory and trusts its header, so opening such a file can end the process
// with SIGBUS instead of an error; OpenBolt checks the file first.
var ErrDamaged = errors.New("the queue file is damaged")

// The parts of bbolt's file format (go.etcd.io/bbolt/internal/common,
// v1.5) that checkBoltFile reads. A file is a sequence of pages of one size;
// pages 0 and 1 are meta pages. A page starts with a 16-byte header (id
// uint64, flags uint16, count uint16, overflow uint32); a meta page's body
// is magic uint32, version uint32, pageSize uint32, flags uint32, root
// bucket (root pgid uint64, sequence uint64), freelist pgid uint64, pgid
// (the high-water mark: pages in use) uint64, txid uint64 and checksum
// uint64, the FNV-1a 64 hash of the bytes before it. bbolt writes them in
// the machine's byte order.
const (
	boltMagic        = 0xED0CDAED
	boltVersion      = 2
	boltPageHeader   = 16
	boltMetaSize     = 64
	boltNoFreelist   = ^uint64(0)
	boltBranchPage   = 0x01
	boltLeafPage     = 0x02
	boltFreelistPage = 0x10
	boltMinPageSize  = 1024    // bbolt probes page sizes from 1 KiB ...
	boltMaxPageSize  = 1 << 24 // ... to 16 MiB
)

// boltMeta is one decoded meta page.
type boltMeta struct {
	magic, version, pageSize uint32
	root, freelist, pgid     uint64
	txid, checksum, sum      uint64
}

func decodeMeta(b []byte) boltMeta {
	e := binary.NativeEndian
	h := fnv.New64a()
	h.Write(b[:56])
	return boltMeta{
		magic:    e.Uint32(b[0:]),
		version:  e.Uint32(b[4:]),
		pageSize: e.Uint32(b[8:]),
		root:     e.Uint64(b[16:]),
		freelist: e.Uint64(b[32:]),
		pgid:     e.Uint64(b[40:]),
		txid:     e.Uint64(b[48:]),
		checksum: e.Uint64(b[56:]),
		sum:      h.Sum64(),
	}
}

// valid mirrors bbolt's Meta.Validate: magic, version, checksum.
func (m boltMeta) valid() bool {
	return m.magic == boltMagic && m.version == boltVersion && m.checksum == m.sum
}

// checkBoltFile checks, without mapping it, that the file at path is a whole
// bbolt database that bbolt can open without reading past its end: the meta
// page bbolt will use (as bbolt chooses it: the valid one with the higher
// transaction id) checks out, its page size is sane, every page it says is
// in use lies inside the file, and the freelist and root pages it names are
// pages of those kinds. A missing or empty file is fine: bbolt creates one.
// Otherwise it returns an error wrapping ErrDamaged that says what is wrong.
func checkBoltFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	size := fi.Size()
	if size == 0 {
		return nil
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: not a regular file", ErrDamaged)
	}
	readMeta := func(page int64) (boltMeta, bool) {
		var b [boltMetaSize]byte
		if _, err := f.ReadAt(b[:], page+boltPageHeader); err != nil {
			return boltMeta{}, false
		}
		m := decodeMeta(b[:])
		return m, m.valid()
	}

	// The page size: from the first meta page, else from the second one,
	// looked for where bbolt looks for it.
	var pageSize int64
	if m, ok := readMeta(0); ok {
		pageSize = int64(m.pageSize)
	} else {
		for i := 0; i <= 14; i++ {
			pos := int64(boltMinPageSize) << i
			if pos >= size-boltMinPageSize {
				break
			}
			if m, ok := readMeta(pos); ok {
				pageSize = int64(m.pageSize)
				break
			}
		}
	}
	if pageSize == 0 {
		return fmt.Errorf("%w: neither of its two header (meta) pages is valid; it is zeroed, overwritten or not a queue file", ErrDamaged)
	}
	if pageSize < boltMinPageSize || pageSize > boltMaxPageSize || bits.OnesCount64(uint64(pageSize)) != 1 {
		return fmt.Errorf("%w: its header gives an impossible page size %d", ErrDamaged, pageSize)
	}
	if size < 2*pageSize {
		return fmt.Errorf("%w: truncated to %d bytes, less than its two header pages of %d bytes", ErrDamaged, size, pageSize)
	}

	// The meta page bbolt will use: the one with the higher transaction id
	// if it is valid, else the other.
	m0, ok0 := readMeta(0)
	m1, ok1 := readMeta(pageSize)
	a, okA, b, okB := m0, ok0, m1, ok1
	if m1.txid > m0.txid {
		a, okA, b, okB = m1, ok1, m0, ok0
	}
	m := a
	if !okA {
		if !okB {
			return fmt.Errorf("%w: neither of its two header (meta) pages is valid", ErrDamaged)
		}
		m = b
	}
	if int64(m.pageSize) != pageSize {
		return fmt.Errorf("%w: its header pages disagree on the page size (%d and %d)", ErrDamaged, pageSize, m.pageSize)
	}
	pages := uint64(size / pageSize)
	switch {
	case m.pgid < 4:
		return fmt.Errorf("%w: its header says %d pages are in use, fewer than a database has", ErrDamaged, m.pgid)
	case m.pgid > pages:
		return fmt.Errorf("%w: truncated: it holds %d bytes, and its header says it has %d pages of %d bytes (%d bytes)",
			ErrDamaged, size, m.pgid, pageSize, m.pgid*uint64(pageSize))
	case m.root < 2 || m.root >= m.pgid:
		return fmt.Errorf("%w: its header names root page %d, outside the %d pages in use", ErrDamaged, m.root, m.pgid)
	case m.freelist != boltNoFreelist && (m.freelist < 2 || m.freelist >= m.pgid):
		return fmt.Errorf("%w: its header names freelist page %d, outside the %d pages in use", ErrDamaged, m.freelist, m.pgid)
	}

	// The two pages bbolt reads on open must be what the header says.
	type header struct {
		id       uint64
		flags    uint16
		overflow uint32
	}
	readHeader := func(id uint64) (header, error) {
		var b [boltPageHeader]byte
		if _, err := f.ReadAt(b[:], int64(id)*pageSize); err != nil && !errors.Is(err, io.EOF) {
			return header{}, err
		}
		e := binary.NativeEndian
		return header{id: e.Uint64(b[0:]), flags: e.Uint16(b[8:]), overflow: e.Uint32(b[12:])}, nil
	}
	if m.freelist != boltNoFreelist {
		h, err := readHeader(m.freelist)
		if err != nil {
			return err
		}
		if h.id != m.freelist || h.flags != boltFreelistPage || m.freelist+uint64(h.overflow) >= m.pgid {
			return fmt.Errorf("%w: its freelist page %d is not a freelist page (zeroed or overwritten)", ErrDamaged, m.freelist)
		}
	}
	h, err := readHeader(m.root)
	if err != nil {
		return err
	}
	if h.id != m.root || (h.flags != boltBranchPage && h.flags != boltLeafPage) || m.root+uint64(h.overflow) >= m.pgid {
		return fmt.Errorf("%w: its root page %d is not a data page (zeroed or overwritten)", ErrDamaged, m.root)
	}
	return nil
}

// damagedAdvice says what the operator does about a damaged queue file.
func damagedAdvice(path string) string {
	return fmt.Sprintf("move it aside (mv %s %s.damaged) and start again: a new, empty queue is created; the jobs the old file held are lost, so redeliver recent webhooks from the repository's or the App's webhook settings if a push was missed", path, path)
}
