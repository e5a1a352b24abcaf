package gitstore

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"runtime"
	"slices"
	"sync"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/idxfile"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage/filesystem"
	"github.com/klauspost/compress/zlib"
)

// packBatch is how many objects are compressed at once, on every core,
// before they are written in order: it bounds the compressed bytes held.
const packBatch = 256

// storePack writes objs into st as one pack and its index, as git leaves
// them in objects/pack. It indexes what it writes as it writes it: go-git's
// PackfileWriter parses the pack it was given to index it, inflating and
// hashing every object again (4 s of CPU in a first publish of 6,629
// posts). Objects are compressed on every core at zlib's default level,
// as a push sends them (it sends these entries as they are: see
// packedEntries), then written in order. klauspost/compress's zlib does
// that level faster than the standard library's fastest one.
func storePack(st *filesystem.Storage, objs []plumbing.EncodedObject) (stored *packedEntries, err error) {
	fs := st.Filesystem()
	dir := fs.Join("objects", "pack")
	if err := fs.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("write pack: %w", err)
	}
	f, err := fs.TempFile(dir, "tmp_pack_")
	if err != nil {
		return nil, fmt.Errorf("write pack: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = fs.Remove(tmp)
		}
	}()
	sum := sha1.New()
	bw := bufio.NewWriterSize(io.MultiWriter(f, sum), 256<<10)
	hdr := packHeader(len(objs))
	if _, err := bw.Write(hdr); err != nil {
		return nil, fmt.Errorf("write pack: %w", err)
	}
	idx := new(idxfile.Writer)
	if err := idx.OnHeader(uint32(len(objs))); err != nil {
		return nil, err
	}
	off := int64(len(hdr))
	spans := make(map[plumbing.Hash]entrySpan, len(objs))
	entries := make([][]byte, min(packBatch, len(objs)))
	for start := 0; start < len(objs); start += packBatch {
		batch := objs[start:min(start+packBatch, len(objs))]
		if err := compressEntries(batch, entries); err != nil {
			return nil, err
		}
		for i, o := range batch {
			e := entries[i]
			crc := crc32.ChecksumIEEE(e)
			idx.Add(o.Hash(), uint64(off), crc)
			spans[o.Hash()] = entrySpan{off: off, n: int64(len(e)), crc: crc}
			if _, err := bw.Write(e); err != nil {
				return nil, fmt.Errorf("write pack: %w", err)
			}
			off += int64(len(e))
			entries[i] = nil
		}
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("write pack: %w", err)
	}
	var packSum plumbing.Hash
	copy(packSum[:], sum.Sum(nil))
	if _, err := f.Write(packSum[:]); err != nil {
		return nil, fmt.Errorf("write pack: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write pack: %w", err)
	}
	if err := idx.OnFooter(packSum); err != nil {
		return nil, fmt.Errorf("index pack: %w", err)
	}
	mi, err := idx.Index()
	if err != nil {
		return nil, fmt.Errorf("index pack: %w", err)
	}
	// The index goes first, as go-git does: a pack is listed by its .pack
	// file, and one listed without its index cannot be read.
	base := fs.Join(dir, "pack-"+packSum.String())
	if err := writeIdx(fs, dir, base+".idx", mi); err != nil {
		return nil, err
	}
	if _, err := fs.Lstat(base + ".pack"); err == nil {
		_ = fs.Remove(tmp) // the same objects, already stored
	} else if err := fs.Rename(tmp, base+".pack"); err != nil {
		return nil, fmt.Errorf("write pack: %w", err)
	}
	readOnly(fs, base+".pack")
	st.Reindex()
	return &packedEntries{fs: fs, name: base + ".pack", at: spans}, nil
}

// packedEntries are where a pack storePack wrote holds each of its
// objects' entries: a push of those objects sends the entries as they are
// (compressed once, as git reuses what its packs
// hold) rather than reading and compressing each object again.
type packedEntries struct {
	fs   billy.Filesystem
	name string
	at   map[plumbing.Hash]entrySpan
}

// entrySpan is an entry's place in a pack and the CRC-32 of its bytes.
type entrySpan struct {
	off, n int64
	crc    uint32
}

// packedReader reads entries of a packedEntries' pack.
type packedReader struct {
	p *packedEntries
	f billy.File
}

// open opens p's pack; nil when p is nil or the pack cannot be opened
// (the objects are then read and compressed again).
func (p *packedEntries) open() *packedReader {
	if p == nil {
		return nil
	}
	f, err := p.fs.Open(p.name)
	if err != nil {
		return nil
	}
	return &packedReader{p: p, f: f}
}

// entry appends h's entry (type and size header, zlib data) to buf; ok is
// false when the pack does not hold it or its bytes are not those written.
func (r *packedReader) entry(h plumbing.Hash, buf []byte) ([]byte, bool) {
	if r == nil {
		return buf, false
	}
	sp, ok := r.p.at[h]
	if !ok {
		return buf, false
	}
	n := len(buf)
	buf = slices.Grow(buf, int(sp.n))[:n+int(sp.n)]
	if _, err := r.f.ReadAt(buf[n:], sp.off); err != nil || crc32.ChecksumIEEE(buf[n:]) != sp.crc {
		return buf[:n], false
	}
	return buf, true
}

func (r *packedReader) close() {
	if r != nil {
		_ = r.f.Close()
	}
}

// writeIdx writes a pack's index to name through a temporary file, unless
// it is there already (packs are named by their content).
func writeIdx(fs billy.Filesystem, dir, name string, mi *idxfile.MemoryIndex) (err error) {
	if _, err := fs.Lstat(name); err == nil {
		return nil
	}
	f, err := fs.TempFile(dir, "tmp_pack_idx_")
	if err != nil {
		return fmt.Errorf("write pack index: %w", err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = fs.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriter(f)
	if _, err := idxfile.NewEncoder(bw).Encode(mi); err != nil {
		return fmt.Errorf("write pack index: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write pack index: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write pack index: %w", err)
	}
	if err := fs.Rename(f.Name(), name); err != nil {
		return fmt.Errorf("write pack index: %w", err)
	}
	readOnly(fs, name)
	return nil
}

// readOnly marks a stored pack file read-only, as git does; a file system
// without modes keeps it as it is.
func readOnly(fs billy.Filesystem, name string) {
	if c, ok := fs.(billy.Chmod); ok {
		_ = c.Chmod(name, 0o444)
	}
}

// compressEntries sets out[i] to the pack entry of objs[i] (type and size
// header, zlib data at the default level), on every core.
func compressEntries(objs []plumbing.EncodedObject, out [][]byte) error {
	errs := make([]error, len(objs))
	onEveryCore(len(objs), zlib.DefaultCompression, func(c *entryCompressor, i int) {
		data, err := objectBytes(objs[i])
		if err != nil {
			errs[i] = err
			return
		}
		z := c.compress(data, c.incompressible(data))
		e := appendEntryHeader(make([]byte, 0, len(z)+16), objs[i].Type(), len(data))
		out[i] = append(e, z...)
	})
	return errors.Join(errs...)
}

// onEveryCore runs f(c, 0) … f(c, n-1) on every core, each goroutine with
// its own compressor at level.
func onEveryCore(n, level int, f func(c *entryCompressor, i int)) {
	cs := make([]entryCompressor, workers(n))
	for w := range cs {
		cs[w].level = level
	}
	parallel(n, func(w, i int) { f(&cs[w], i) })
}

// workers is how many goroutines parallel runs for n items.
func workers(n int) int { return min(runtime.GOMAXPROCS(0), n) }

// parallel runs f(w, 0) … f(w, n-1) on every core, worker w (below
// workers(n)) taking every w-th item, and returns when all are done.
func parallel(n int, f func(w, i int)) {
	k := workers(n)
	var wg sync.WaitGroup
	for w := range k {
		wg.Go(func() {
			for i := w; i < n; i += k {
				f(w, i)
			}
		})
	}
	wg.Wait()
}

// entryCompressor compresses pack entries, one at a time.
type entryCompressor struct {
	level             int
	zw, stored, probe *zlib.Writer
	sample            countWriter
}

// probeBytes: an object larger than twice this whose first probeBytes do
// not shrink by a sixteenth at zlib's fastest level (a photo, a font) is
// stored without compression, which costs nothing to write or read.
const probeBytes = 16 << 10

// incompressible says whether data is such an object.
func (c *entryCompressor) incompressible(data []byte) bool {
	if len(data) <= 2*probeBytes {
		return false
	}
	if c.probe == nil {
		c.probe, _ = zlib.NewWriterLevel(&c.sample, zlib.BestSpeed)
	}
	c.sample = 0
	c.probe.Reset(&c.sample)
	_, _ = c.probe.Write(data[:probeBytes])
	_ = c.probe.Close()
	return c.sample > probeBytes-probeBytes/16
}

// compress is data as a zlib stream: stored as it is when stored, else
// compressed at c's level.
func (c *entryCompressor) compress(data []byte, stored bool) []byte {
	var zw **zlib.Writer
	level := c.level
	if stored {
		zw, level = &c.stored, zlib.NoCompression
	} else {
		zw = &c.zw
	}
	var buf bytes.Buffer
	buf.Grow(len(data)/2 + 64)
	if *zw == nil {
		*zw, _ = zlib.NewWriterLevel(&buf, level)
	} else {
		(*zw).Reset(&buf)
	}
	_, _ = (*zw).Write(data) // a bytes.Buffer takes everything
	_ = (*zw).Close()
	return buf.Bytes()
}

type countWriter int

func (c *countWriter) Write(p []byte) (int, error) {
	*c += countWriter(len(p))
	return len(p), nil
}

// objectBytes is o's content: the bytes themselves for a dataObject.
func objectBytes(o plumbing.EncodedObject) ([]byte, error) {
	if d, ok := o.(*dataObject); ok {
		return d.data, nil
	}
	r, err := o.Reader()
	if err != nil {
		return nil, fmt.Errorf("read object %s: %w", o.Hash(), err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read object %s: %w", o.Hash(), err)
	}
	return data, nil
}

// dataObject is a new object over bytes it does not copy (a page of the
// site being built, a tree the writer encoded); its hash is computed by
// its maker. It is only ever read.
type dataObject struct {
	h    plumbing.Hash
	typ  plumbing.ObjectType
	data []byte
}

func (o *dataObject) Hash() plumbing.Hash           { return o.h }
func (o *dataObject) Type() plumbing.ObjectType     { return o.typ }
func (o *dataObject) SetType(t plumbing.ObjectType) { o.typ = t }
func (o *dataObject) Size() int64                   { return int64(len(o.data)) }
func (o *dataObject) SetSize(int64)                 {}
func (o *dataObject) Reader() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(o.data)), nil
}
func (o *dataObject) Writer() (io.WriteCloser, error) {
	return nil, errors.New("a staged object is read-only")
}

// stagedObjects reads the objects a build just wrote from memory before
// the store: the push of a new branch reads every one of them again, and
// inflating them back out of the pack would cost what compressing them did.
type stagedObjects struct {
	storer.EncodedObjectStorer
	staged map[plumbing.Hash]plumbing.EncodedObject
}

func (s stagedObjects) EncodedObject(t plumbing.ObjectType, h plumbing.Hash) (plumbing.EncodedObject, error) {
	if o, ok := s.staged[h]; ok && (t == plumbing.AnyObject || t == o.Type()) {
		return o, nil
	}
	return s.EncodedObjectStorer.EncodedObject(t, h)
}

func (s stagedObjects) EncodedObjectSize(h plumbing.Hash) (int64, error) {
	if o, ok := s.staged[h]; ok {
		return o.Size(), nil
	}
	return s.EncodedObjectStorer.EncodedObjectSize(h)
}

func (s stagedObjects) HasEncodedObject(h plumbing.Hash) error {
	if _, ok := s.staged[h]; ok {
		return nil
	}
	return s.EncodedObjectStorer.HasEncodedObject(h)
}
