package imagery

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"sync"
)

// cacheVersion changes whenever what Process makes of the same input
// changes (encoder settings, filters, rules), so that old entries are
// never used.
const cacheVersion = 1

// cacheKey names the result of processing data with o: the content hash of
// the image and everything in o that changes the result.
func cacheKey(data []byte, o Options) string {
	h := sha256.New()
	h.Write(data)
	fmt.Fprintf(h, "\x00v%d resize=%t keep=%t max=%d widths=%v", cacheVersion, o.Resize, o.KeepMetadata, o.maxPixels(), o.widths())
	return "img-" + hex.EncodeToString(h.Sum(nil))
}

// idCacheKey names the result of processing the image whose git blob id
// is id with o: as cacheKey, for a content named by its store instead of
// hashed here ("git-blob:" keeps the two kinds of names apart).
func idCacheKey(id string, o Options) string {
	h := sha256.New()
	fmt.Fprintf(h, "git-blob:%s", id)
	fmt.Fprintf(h, "\x00v%d resize=%t keep=%t max=%d widths=%v", cacheVersion, o.Resize, o.KeepMetadata, o.maxPixels(), o.widths())
	return "img-" + hex.EncodeToString(h.Sum(nil))
}

// cachedResult is a Result as stored: Data left out when it is the input.
type cachedResult struct {
	R        Result
	SameData bool
}

// The entry format: resultMagic, a CRC-32C (Castagnoli) of the rest, then
// the fields of cachedResult in order (lengths and numbers as uvarints).
// A build reads back every image's entry, so both are cheap: the checksum
// finds a damaged or cut file (the folder is publishbot's own, nothing
// adversarial writes it), the encoding needs no reflection. Entries of
// earlier versions (a SHA-256, then gob) are still read.
var resultMagic = []byte("PBI2")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// encodeResult is r as bytes for a Cache.
func encodeResult(r *Result, input []byte) ([]byte, error) {
	c := cachedResult{R: *r}
	if r.Data != nil && bytes.Equal(r.Data, input) {
		c.R.Data, c.SameData = nil, true
	}
	size := len(c.R.Data) + 64
	for _, v := range c.R.Variants {
		size += len(v.Data) + len(v.WebP) + 32
	}
	b := make([]byte, 0, size)
	b = append(b, resultMagic...)
	b = append(b, 0, 0, 0, 0) // the checksum, below
	str := func(x []byte, present bool) {
		if !present {
			b = append(b, 0)
			return
		}
		b = binary.AppendUvarint(b, uint64(len(x))+1)
		b = append(b, x...)
	}
	num := func(n int) { b = binary.AppendUvarint(b, uint64(n)) }
	flag := func(v bool) {
		if v {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	}
	str([]byte(c.R.Format), true)
	num(c.R.Width)
	num(c.R.Height)
	str(c.R.Data, c.R.Data != nil)
	num(len(c.R.Variants))
	for i, v := range c.R.Variants {
		num(v.Width)
		num(v.Height)
		last := i == len(c.R.Variants)-1
		str(v.Data, v.Data != nil && !last) // the last one's is Data
		str(v.WebP, v.WebP != nil)
	}
	flag(c.R.Location)
	num(int(c.R.Problem))
	flag(c.SameData)
	binary.BigEndian.PutUint32(b[len(resultMagic):], crc32.Checksum(b[len(resultMagic)+4:], castagnoli))
	return b, nil
}

var errCorrupt = errors.New("corrupt cache entry")

// decodeResult reads what encodeResult wrote (or an earlier version's
// entry); a damaged entry is an error.
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
