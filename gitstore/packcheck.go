package gitstore

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/klauspost/compress/zlib"
)

// go-git's pack parser reads every object it indexes whole into memory (a
// 2 GiB blob of zeros, 2 MiB on the wire, takes more than 3 GiB), so the
// size limit must be applied to a fetched pack before go-git parses it:
// from the object headers, before an object is inflated.

// storePack receives a fetched pack from rd into the cache: it is written
// to a temporary file first and checked there (checkPack), and go-git
// indexes and keeps it only when no object in it is larger than max. A
// negative max checks nothing. It returns the bytes received.
func (r *Repo) storePack(ctx context.Context, rd io.Reader, max int64) (int64, error) {
	if max < 0 {
		cr := &countReader{r: rd}
		err := packfile.UpdateObjectStorage(r.st, cr)
		return cr.n, err
	}
	f, err := os.CreateTemp(r.dir, "tmp_fetch_")
	if err != nil {
		return 0, fmt.Errorf("receive pack: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	n, err := io.Copy(f, rd)
	if err != nil {
		return n, fmt.Errorf("receive pack: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return n, fmt.Errorf("receive pack: %w", err)
	}
	// A pack the check cannot parse is go-git's to refuse, with its own
	// error; only a limit stops it here.
	var entries []packEntry
	checkErr := checkPack(ctx, f, max, &entries)
	if checkErr != nil {
		_, isLimit := errors.AsType[*limitError](checkErr)
		if isLimit || ctx.Err() != nil {
			return n, checkErr
		}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return n, fmt.Errorf("receive pack: %w", err)
	}
	if err := packfile.UpdateObjectStorage(r.st, f); err != nil {
		return n, err
	}
	if checkErr == nil {
		r.learnSizes(f, entries)
	}
	return n, nil
}

// Pack object types, as the pack format numbers them.
const (
	packOFSDelta = 6
	packREFDelta = 7
)

// checkPack reads a pack (version 2 or 3) from rd, checking each object's
// size (for a delta, the size of the object it makes) before reading its
// data; it inflates only to find where each object ends, into no buffer,
// and no more than each object's header declares. It stops when ctx ends. It returns a *limitError for an object
// larger than max, and another error for a pack it cannot parse. When
// entries is not nil, it gets what the check learnt of each entry
// (learnSizes).
func checkPack(ctx context.Context, rd io.Reader, max int64, entries *[]packEntry) error {
	cr := &countReader{r: rd}
	r := bufio.NewReaderSize(cr, 64<<10)
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return fmt.Errorf("pack header: %w", err)
	}
	if string(hdr[:4]) != "PACK" {
		return errors.New("not a pack")
	}
	if v := binary.BigEndian.Uint32(hdr[4:8]); v != 2 && v != 3 {
		return fmt.Errorf("pack version %d", v)
	}
	count := binary.BigEndian.Uint32(hdr[8:12])
	if entries != nil && count > maxLearntEntries {
		entries = nil // a pack this large is not worth the memory: its sizes are read when asked
	}
	if entries != nil {
		// grown as entries are read: the count is the remote's word
		*entries = make([]packEntry, 0, min(count, 1<<16))
	}
	var zr io.ReadCloser
	for i := uint32(0); i < count; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		e := packEntry{off: cr.n - int64(r.Buffered())}
		typ, size, err := objectHeader(r)
		if err != nil {
			return fmt.Errorf("object %d: %w", i, err)
		}
		if size > max {
			return objectTooLarge(typ, size, max)
		}
		e.typ, e.size = typ, size
		switch typ {
		case packOFSDelta:
			// the base's offset back from this entry: 7 bits a byte, most
			// significant first, each byte after the first adding one
			// (git's encoding, so that no two encodings are equal)
			var back int64
			for n := 0; ; n++ {
				b, err := r.ReadByte()
				if err != nil {
					return fmt.Errorf("object %d: %w", i, err)
				}
				if n > 0 {
					back++
				}
				if back > 1<<55 {
					return fmt.Errorf("object %d: base offset overflows", i)
				}
				back = back<<7 | int64(b&0x7f)
				if b&0x80 == 0 {
					break
				}
			}
			if e.base = e.off - back; back == 0 || e.base < 12 {
				e.base = -1 // not in the pack: go-git refuses it
			}
		case packREFDelta:
			if _, err := io.ReadFull(r, e.ref[:]); err != nil {
				return fmt.Errorf("object %d: %w", i, err)
			}
		}
		if zr == nil {
			if zr, err = zlib.NewReader(r); err != nil {
				return fmt.Errorf("object %d: %w", i, err)
			}
		} else if err := zr.(zlib.Resetter).Reset(r, nil); err != nil {
			return fmt.Errorf("object %d: %w", i, err)
		}
		// No more is inflated than the header declares (go-git refuses an
		// object that inflates past it too).
		data := io.LimitReader(zr, size+1)
		if typ == packOFSDelta || typ == packREFDelta {
			// A delta starts with the sizes of its base and of the object it
			// makes: the second is the object's size.
			dr := bufio.NewReaderSize(data, 16)
			if _, err := binary.ReadUvarint(dr); err != nil {
				return fmt.Errorf("object %d: delta header: %w", i, err)
			}
			target, err := binary.ReadUvarint(dr)
			if err != nil {
				return fmt.Errorf("object %d: delta header: %w", i, err)
			}
			if target > uint64(max) {
				return objectTooLarge(typ, int64(min(target, 1<<62)), max)
			}
			e.size = int64(target)
			data = dr
		}
		if n, err := io.Copy(io.Discard, data); err != nil {
			return fmt.Errorf("object %d: %w", i, err)
		} else if n > size {
			return fmt.Errorf("object %d inflates past its declared %d bytes", i, size)
		}
		if entries != nil {
			*entries = append(*entries, e)
		}
	}
	return nil
}

// objectHeader reads a pack object's type and size (of its data as
// inflated: the object itself, or its delta).
func objectHeader(r *bufio.Reader) (typ byte, size int64, err error) {
	b, err := r.ReadByte()
	if err != nil {
		return 0, 0, err
	}
	typ = b >> 4 & 7
	size = int64(b & 0x0f)
	for shift := uint(4); b&0x80 != 0; shift += 7 {
		if b, err = r.ReadByte(); err != nil {
			return 0, 0, err
		}
		if shift > 56 {
			return 0, 0, errors.New("object size overflows")
		}
		size |= int64(b&0x7f) << shift
	}
	if typ == 0 || typ == 5 {
		return 0, 0, fmt.Errorf("object type %d", typ)
	}
	return typ, size, nil
}

func objectTooLarge(typ byte, size, max int64) error {
	what := "an object" // a delta: what it makes is known only once applied
	switch typ {
	case 1:
		what = "a commit"
	case 2:
		what = "a tree"
	case 3:
		what = "a file"
	case 4:
		what = "a tag"
	}
	return &limitError{what: "file size", path: what + " in the fetched history", got: size, max: max}
}
