package imagery

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// cacheVersion changes whenever what Process makes of the same input
// changes (encoder settings, filters, rules), so that old entries are
// never used.
const cacheVersion = 1

// The cache holds, for each image treated with some Options (its name:
// idName or bytesName):
//
//   - recordPrefix+name: its record (encodeRecord), the Image without
//     bytes: sizes, problems, and each file's size, SHA-256 and CRC-32C;
//   - packPrefix+name: the bytes of the files it publishes, one after the
//     other in the order of Image.Files, but a file that is the image as it
//     is (read from the image itself): the files of one image are written
//     together, so one read fetches them;
//   - catalogKey: the records of the images treated lately, all in one
//     entry that a Processor reads once, so that a build of thousands of
//     unchanged images costs one read of the cache, not thousands (each a
//     few system calls).
//
// oldPrefix+name entries are the earlier format, a whole Result with its
// bytes: read once and stored anew.
const (
	recordPrefix = "imm-"
	packPrefix   = "bin-"
	oldPrefix    = "img-"
	catalogKey   = "catalog-v1"
)

// catalogSize is how many records the catalog keeps, the most recently
// used; a record left out is still read from its own entry.
const catalogSize = 100_000

// FieldEntry is the log field that names a damaged cache entry.
const FieldEntry = "image_cache_entry"

// bytesName names the result of processing data with o: the content hash
// of the image and everything in o that changes the result.
func bytesName(data []byte, o Options) string {
	h := sha256.New()
	h.Write(data)
	fmt.Fprintf(h, "\x00v%d resize=%t keep=%t max=%d widths=%v", cacheVersion, o.Resize, o.KeepMetadata, o.maxPixels(), o.widths())
	return hex.EncodeToString(h.Sum(nil))
}

// idName names the result of processing the image whose git blob id is
// id with o: as bytesName, for a content named by its store instead of
// hashed here ("git-blob:" keeps the two kinds of names apart).
func idName(id string, o Options) string {
	h := sha256.New()
	fmt.Fprintf(h, "git-blob:%s", id)
	fmt.Fprintf(h, "\x00v%d resize=%t keep=%t max=%d widths=%v", cacheVersion, o.Resize, o.KeepMetadata, o.maxPixels(), o.widths())
	return hex.EncodeToString(h.Sum(nil))
}

// A record is recordMagic, a CRC-32C of the rest, then the image's name
// and the fields of the Image in order (numbers as uvarints; a file as a
// presence byte, size, SHA-256, CRC-32C and source byte). The name in it
// ties it to its key: a record under another key is damaged.
var recordMagic = []byte("PBI3")

func encodeRecord(img *Image) []byte {
	b := make([]byte, 0, 128+len(img.key)+len(img.Variants)*96)
	b = append(b, recordMagic...)
	b = append(b, 0, 0, 0, 0) // the checksum, below
	b = appendString(b, img.key)
	b = appendString(b, img.Format)
	b = binary.AppendUvarint(b, uint64(img.Width))
	b = binary.AppendUvarint(b, uint64(img.Height))
	b = appendFlag(b, img.Location)
	b = binary.AppendUvarint(b, uint64(img.Problem))
	b = appendFile(b, img.Data)
	b = binary.AppendUvarint(b, uint64(len(img.Variants)))
	for i, v := range img.Variants {
		b = binary.AppendUvarint(b, uint64(v.Width))
		b = binary.AppendUvarint(b, uint64(v.Height))
		if i < len(img.Variants)-1 { // the last one's is Data
			b = appendFile(b, v.Data)
		}
		b = appendFile(b, v.WebP)
	}
	binary.BigEndian.PutUint32(b[len(recordMagic):], crc32.Checksum(b[len(recordMagic)+4:], castagnoli))
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendFlag(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

func appendFile(b []byte, f *File) []byte {
	if f == nil {
		return append(b, 0)
	}
	b = append(b, 1)
	b = binary.AppendUvarint(b, uint64(f.Size))
	b = append(b, f.Sum[:]...)
	b = binary.BigEndian.AppendUint32(b, f.crc)
	return appendFlag(b, f.source)
}

// reader reads what the append functions wrote; past the end or on a
// number out of range it reads zeros and sets bad.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) num() int {
	n, k := binary.Uvarint(r.b)
	if k <= 0 || n > math.MaxInt32 {
		r.bad, r.b = true, nil
		return 0
	}
	r.b = r.b[k:]
	return int(n)
}

func (r *reader) next(n int) []byte {
	if n > len(r.b) {
		r.bad, r.b = true, nil
		return nil
	}
	x := r.b[:n:n]
	r.b = r.b[n:]
	return x
}

func (r *reader) str() string { return string(r.next(r.num())) }

func (r *reader) flag() bool {
	x := r.next(1)
	if len(x) == 1 && x[0] > 1 {
		r.bad = true
	}
	return len(x) == 1 && x[0] == 1
}

func (r *reader) file() *File {
	if !r.flag() {
		return nil
	}
	f := &File{Size: int64(r.num())}
	copy(f.Sum[:], r.next(32))
	if c := r.next(4); len(c) == 4 {
		f.crc = binary.BigEndian.Uint32(c)
	}
	f.source = r.flag()
	return f
}

var errCorrupt = errors.New("corrupt cache entry")

// decodeRecord reads what encodeRecord wrote for the image named name; a
// damaged record, or another image's, is an error.
func decodeRecord(b []byte, name string) (*Image, error) {
	rest, ok := bytes.CutPrefix(b, recordMagic)
	if !ok || len(rest) < 4 || crc32.Checksum(rest[4:], castagnoli) != binary.BigEndian.Uint32(rest) {
		return nil, errCorrupt
	}
	r := &reader{b: rest[4:]}
	if r.str() != name {
		return nil, errCorrupt
	}
	img := &Image{Format: r.str(), Width: r.num(), Height: r.num(), Location: r.flag(), Problem: Problem(r.num())}
	img.Data = r.file()
	if n := r.num(); n > 0 && !r.bad {
		if n > len(r.b) || img.Data == nil {
			return nil, errCorrupt
		}
		img.Variants = make([]ImageVariant, n)
		for i := range img.Variants {
			v := &img.Variants[i]
			v.Width, v.Height = r.num(), r.num()
			if i < n-1 {
				v.Data = r.file()
			} else {
				v.Data = img.Data
			}
			v.WebP = r.file()
			if v.Data == nil {
				return nil, errCorrupt
			}
		}
	}
	if r.bad || len(r.b) != 0 {
		return nil, errCorrupt
	}
	img.layout()
	return img, nil
}

// catEntry is one record of the catalog, and the day (since the Unix
// epoch) it was last used: the catalog keeps the most recent ones.
type catEntry struct {
	rec []byte
	day uint32
}

// The catalog is catalogMagic, a CRC-32C of the rest, the number of
// entries, then each entry's name, day and record (each record still
// checks itself when used).
var catalogMagic = []byte("PBIC")

func encodeCatalog(cat map[string]catEntry) []byte {
	size := 16
	for k, e := range cat {
		size += len(k) + len(e.rec) + 16
	}
	b := make([]byte, 0, size)
	b = append(b, catalogMagic...)
	b = append(b, 0, 0, 0, 0)
	b = binary.AppendUvarint(b, uint64(len(cat)))
	for _, k := range slices.Sorted(maps.Keys(cat)) {
		e := cat[k]
		b = appendString(b, k)
		b = binary.AppendUvarint(b, uint64(e.day))
		b = binary.AppendUvarint(b, uint64(len(e.rec)))
		b = append(b, e.rec...)
	}
	binary.BigEndian.PutUint32(b[len(catalogMagic):], crc32.Checksum(b[len(catalogMagic)+4:], castagnoli))
	return b
}

func decodeCatalog(b []byte) (map[string]catEntry, error) {
	rest, ok := bytes.CutPrefix(b, catalogMagic)
	if !ok || len(rest) < 4 || crc32.Checksum(rest[4:], castagnoli) != binary.BigEndian.Uint32(rest) {
		return nil, errCorrupt
	}
	r := &reader{b: rest[4:]}
	n := r.num()
	if n > len(r.b) {
		return nil, errCorrupt
	}
	cat := make(map[string]catEntry, n)
	for range n {
		k := r.str()
		e := catEntry{day: uint32(r.num())}
		e.rec = r.next(r.num())
		if r.bad {
			return nil, errCorrupt
		}
		cat[k] = e
	}
	if len(r.b) != 0 {
		return nil, errCorrupt
	}
	return cat, nil
}

// today is the day of the catalog's entries: days since the Unix epoch.
func (p *Processor) today() uint32 { return uint32(p.now().Unix() / 86400) }

// loadCatalog reads the catalog, once; a damaged one is discarded (and
// written anew by the next Flush).
func (p *Processor) loadCatalog() {
	p.cat = map[string]catEntry{}
	v, ok := p.cache.Get(catalogKey)
	if !ok {
		return
	}
	cat, err := decodeCatalog(v)
	if err != nil {
		p.log.WithField(FieldEntry, catalogKey).Warn("image cache catalog damaged; discarded")
		p.dirty = true
		return
	}
	p.cat = cat
}

// cached is the Image of the record named name, from the catalog or the
// record's own entry; nil when there is none (or only a damaged one).
func (p *Processor) cached(name string) *Image {
	if p.cache == nil {
		return nil
	}
	p.catOnce.Do(p.loadCatalog)
	today := p.today()
	p.mu.Lock()
	e, ok := p.cat[name]
	if ok && e.day < today {
		e.day = today
		p.cat[name], p.dirty = e, true
	}
	p.mu.Unlock()
	if ok {
		img, err := decodeRecord(e.rec, name)
		if err == nil {
			return img
		}
		p.log.WithField(FieldEntry, catalogKey).Warn("image cache catalog record damaged; discarded")
		p.mu.Lock()
		delete(p.cat, name)
		p.dirty = true
		p.mu.Unlock()
	}
	rec, ok := p.cache.Get(recordPrefix + name)
	if !ok {
		return nil
	}
	img, err := decodeRecord(rec, name)
	if err != nil {
		p.log.WithField(FieldEntry, recordPrefix+name).Warn("image cache record damaged; discarded, treating the image again")
		return nil
	}
	p.remember(name, rec)
	return img
}

// remember adds a record to the catalog, for the next Flush.
func (p *Processor) remember(name string, rec []byte) {
	p.catOnce.Do(p.loadCatalog)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cat[name] = catEntry{rec: rec, day: p.today()}
	p.dirty = true
}

// Flush writes the catalog when this Processor has learnt records (or
// used old ones) since it was read: a build calls it once its images are
// done. Records other processes wrote meanwhile are kept. Safe for
// concurrent use; without a cache it does nothing.
func (p *Processor) Flush() {
	if p.cache == nil {
		return
	}
	p.flushMu.Lock()
	defer p.flushMu.Unlock()
	p.catOnce.Do(p.loadCatalog)
	p.mu.Lock()
	if !p.dirty {
		p.mu.Unlock()
		return
	}
	p.dirty = false
	cat := maps.Clone(p.cat)
	p.mu.Unlock()
	if v, ok := p.cache.Get(catalogKey); ok {
		if disk, err := decodeCatalog(v); err == nil {
			p.mu.Lock()
			for k, e := range disk {
				if mine, ok := cat[k]; ok {
					mine.day = max(mine.day, e.day)
					cat[k] = mine
					continue
				}
				cat[k] = e
				if _, ok := p.cat[k]; !ok {
					p.cat[k] = e
				}
			}
			p.mu.Unlock()
		}
	}
	if len(cat) > p.maxCatalog {
		keys := slices.Collect(maps.Keys(cat))
		slices.SortFunc(keys, func(a, b string) int {
			if c := cmp.Compare(cat[b].day, cat[a].day); c != 0 {
				return c
			}
			return strings.Compare(a, b)
		})
		for _, k := range keys[p.maxCatalog:] {
			delete(cat, k)
		}
	}
	p.cache.Put(catalogKey, encodeCatalog(cat))
}

// cachedResult is a Result as stored: Data left out when it is the input.
type cachedResult struct {
	R        Result
	SameData bool
}

// The earlier entries (oldPrefix), read once each to be stored anew:
// resultMagic, a CRC-32C (Castagnoli) of the rest, then the fields of
// cachedResult in order (lengths and numbers as uvarints), or, earlier
// still, a SHA-256 of the rest and gob. The checksums find a damaged or
// cut file (the folder is publishbot's own, nothing adversarial writes
// it).
var resultMagic = []byte("PBI2")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// decodeResult reads an entry of the earlier format (test files have its
// writer, encodeResult); a damaged entry is an error.
func decodeResult(b, input []byte) (*Result, error) {
	if !bytes.HasPrefix(b, resultMagic) {
		return decodeGobResult(b, input)
	}
	b = b[len(resultMagic):]
	if len(b) < 4 || crc32.Checksum(b[4:], castagnoli) != binary.BigEndian.Uint32(b) {
		return nil, errCorrupt
	}
	b = b[4:]
	bad := false
	num := func() int {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > math.MaxInt32 {
			bad, b = true, nil
			return 0
		}
		b = b[k:]
		return int(n)
	}
	bytesOf := func() []byte {
		n := num()
		if n == 0 || bad {
			return nil
		}
		if n-1 > len(b) {
			bad, b = true, nil
			return nil
		}
		x := b[: n-1 : n-1]
		b = b[n-1:]
		return x
	}
	flag := func() bool {
		if len(b) == 0 {
			bad = true
			return false
		}
		v := b[0] == 1
		b = b[1:]
		return v
	}
	r := &Result{}
	r.Format = string(bytesOf())
	r.Width, r.Height = num(), num()
	r.Data = bytesOf()
	if n := num(); n > 0 && !bad {
		if n > len(b) {
			return nil, errCorrupt
		}
		r.Variants = make([]Variant, n)
		for i := range r.Variants {
			r.Variants[i] = Variant{Width: num(), Height: num(), Data: bytesOf(), WebP: bytesOf()}
		}
	}
	r.Location = flag()
	r.Problem = Problem(num())
	same := flag()
	if bad || len(b) != 0 {
		return nil, errCorrupt
	}
	if same {
		r.Data = input
	}
	if n := len(r.Variants); n > 0 {
		r.Variants[n-1].Data = r.Data
	}
	return r, nil
}

// decodeGobResult reads an entry of cacheVersion 1's first format: a
// SHA-256 of the rest, then gob.
func decodeGobResult(b, input []byte) (*Result, error) {
	if len(b) < sha256.Size {
		return nil, errCorrupt
	}
	if sum := sha256.Sum256(b[sha256.Size:]); !bytes.Equal(sum[:], b[:sha256.Size]) {
		return nil, errCorrupt
	}
	var c cachedResult
	if err := gob.NewDecoder(bytes.NewReader(b[sha256.Size:])).Decode(&c); err != nil {
		return nil, errCorrupt
	}
	r := c.R
	if c.SameData {
		r.Data = input
	}
	if n := len(r.Variants); n > 0 {
		r.Variants[n-1].Data = r.Data
	}
	return &r, nil
}

// DirCache is a Cache in a folder of files, one per key, written
// atomically (a reader never sees half a file). Safe for concurrent use,
// by several processes too.
type DirCache struct {
	dir string
}

// NewDirCache returns a cache in dir, made on first Put.
func NewDirCache(dir string) *DirCache { return &DirCache{dir: dir} }

func (c *DirCache) path(key string) (string, bool) {
	if len(key) < 8 {
		return "", false
	}
	for _, r := range key {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return "", false
		}
	}
	return filepath.Join(c.dir, key[len(key)-2:], key), true
}

// Get returns the value stored under key.
func (c *DirCache) Get(key string) ([]byte, bool) {
	p, ok := c.path(key)
	if !ok {
		return nil, false
	}
	b, err := os.ReadFile(p)
	return b, err == nil
}

// Put stores value under key; a value that cannot be written is dropped.
func (c *DirCache) Put(key string, value []byte) {
	p, ok := c.path(key)
	if !ok {
		return
	}
	_ = writeAtomic(p, value)
}

func writeAtomic(p string, value []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	var suffix [8]byte
	_, _ = rand.Read(suffix[:])
	tmp := fmt.Sprintf("%s.tmp-%x", p, binary.BigEndian.Uint64(suffix[:]))
	if err := os.WriteFile(tmp, value, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, p); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return nil
}

// MemCache is a Cache in memory, for one process (the preview server,
// tests). Safe for concurrent use.
type MemCache struct {
	mu sync.Mutex
	m  map[string][]byte
}

// NewMemCache returns an empty MemCache.
func NewMemCache() *MemCache { return &MemCache{m: map[string][]byte{}} }

// Get returns the value stored under key.
func (c *MemCache) Get(key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[key]
	return v, ok
}

// Put stores value under key.
func (c *MemCache) Put(key string, value []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[key] = value
}

// Len is the number of entries.
func (c *MemCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
