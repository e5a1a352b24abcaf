package gitstore

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// writeThinPack writes objects as a git pack (version 2). An object with a
// base in bases (the object at the same path in the tree the remote already
// has) is sent as a REF_DELTA against it when that is clearly smaller: a
// "thin" pack, as `git push` sends, which the receiving side completes from
// its own objects. A one-line change to a page, or one entry changed in a
// folder of a thousand files, then costs bytes, not the whole object.
func writeThinPack(out io.Writer, s storer.EncodedObjectStorer, objects []plumbing.Hash, bases map[plumbing.Hash]plumbing.Hash) error {
	sum := sha1.New()
	bw := bufio.NewWriterSize(out, 64<<10)
	w := io.MultiWriter(bw, sum)
	var hdr [12]byte
	copy(hdr[:4], "PACK")
	binary.BigEndian.PutUint32(hdr[4:8], 2)
	binary.BigEndian.PutUint32(hdr[8:12], uint32(len(objects)))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	zw := zlib.NewWriter(nil)
	for _, h := range objects {
		typ, data, err := readObject(s, h)
		if err != nil {
			return err
		}
		if base, ok := bases[h]; ok {
			if btyp, bdata, err := readObject(s, base); err == nil && btyp == typ {
				delta := packfile.DiffDelta(bdata, data)
				if len(delta) < len(data)/2 {
					if err := writeEntry(w, zw, plumbing.REFDeltaObject, &base, delta); err != nil {
						return err
					}
					continue
				}
			}
		}
		if err := writeEntry(w, zw, typ, nil, data); err != nil {
			return err
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
	r, err := o.Reader()
	if err != nil {
		return 0, nil, fmt.Errorf("read object %s: %w", h, err)
	}
	defer r.Close()
	data := make([]byte, o.Size())
	if _, err := io.ReadFull(r, data); err != nil {
		return 0, nil, fmt.Errorf("read object %s: %w", h, err)
	}
	return o.Type(), data, nil
}

// writeEntry writes one pack entry: the type-and-size header, the base of a
// REF_DELTA, and the zlib-compressed data.
func writeEntry(w io.Writer, zw *zlib.Writer, typ plumbing.ObjectType, base *plumbing.Hash, data []byte) error {
	return writeEntryFrom(w, zw, typ, base, int64(len(data)), bytes.NewReader(data))
}

// writeEntryFrom is writeEntry of the size bytes read from r.
func writeEntryFrom(w io.Writer, zw *zlib.Writer, typ plumbing.ObjectType, base *plumbing.Hash, size int64, r io.Reader) error {
	var hdr [16]byte
	n := 0
	u := uint64(size)
	b := byte(typ)<<4 | byte(u&0x0f)
	u >>= 4
	for u != 0 {
		hdr[n] = b | 0x80
		n++
		b = byte(u & 0x7f)
		u >>= 7
	}
	hdr[n] = b
	n++
	if _, err := w.Write(hdr[:n]); err != nil {
		return err
	}
	if base != nil {
		if _, err := w.Write(base[:]); err != nil {
			return err
		}
	}
	zw.Reset(w)
	if m, err := io.Copy(zw, r); err != nil {
		return err
	} else if m != size {
		return fmt.Errorf("object is %d bytes, not %d", m, size)
	}
	return zw.Close()
}
