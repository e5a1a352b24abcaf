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

// encodeResult is r as bytes for a Cache: a SHA-256 of the rest, then gob.
func encodeResult(r *Result, input []byte) ([]byte, error) {
	c := cachedResult{R: *r}
	if r.Data != nil && bytes.Equal(r.Data, input) {
		c.R.Data, c.SameData = nil, true
	}
	if n := len(c.R.Variants); n > 0 {
		vs := append([]Variant(nil), c.R.Variants...)
		vs[n-1].Data = nil // it is Data
		c.R.Variants = vs
	}
	var buf bytes.Buffer
	buf.Write(make([]byte, sha256.Size))
	if err := gob.NewEncoder(&buf).Encode(&c); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	sum := sha256.Sum256(b[sha256.Size:])
	copy(b, sum[:])
	return b, nil
}

var errCorrupt = errors.New("corrupt cache entry")

// decodeResult reads what encodeResult wrote; a damaged entry is an error.
func decodeResult(b, input []byte) (*Result, error) {
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
