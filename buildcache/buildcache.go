// Package buildcache owns the build cache on disk: values under 32-byte
// keys, kept in a folder of pack files, bounded in size, least recently
// used out, shared safely by the jobs of one process and by several
// processes. It knows nothing about blogs: posts decides what a key stands
// for (a hash of every input a cached result was made from) and what the
// value holds; the cache mixes its Version (the publishbot build) into
// every key, so another build of publishbot never reads this one's values.
//
// Put keeps values in memory until Flush (or until they pass 32 MiB), which
// writes them as one new pack file: written to a temporary file and renamed
// into place, so a reader sees a whole pack or none, and never changed
// afterwards. Every value carries a CRC-32C: a truncated, corrupted or
// foreign pack is discarded with a log line and its values read as misses,
// so the cache is never trusted over a fresh build. Packs survive restarts;
// a process sees the packs that were there when it opened the cache and
// those it writes. When the packs pass the size cap, the least recently
// used ones are removed.
package buildcache

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
)

// DefaultMaxBytes is the size cap when Options.MaxBytes is zero: 1 GiB.
const DefaultMaxBytes = 1 << 30

// Log field keys of the cache's log lines.
const (
	FieldDir  = "cache_dir"
	FieldPack = "cache_pack"
)

// recordMagic starts every record of a pack; it changes with the format.
var recordMagic = [4]byte{'P', 'B', 'C', '2'}

// A record is magic, key, value length, CRC-32C of the value, value. The
// checksum is there to catch a damaged file (a torn write, a flipped bit),
// not a forger, who could write any checksum: CRC-32C finds those as
// surely as SHA-256 did and costs a tenth of it on every read of every
// cached post (PBC1 records had a SHA-256).
const headerLen = 4 + 32 + 8 + 4

// castagnoli is the CRC-32C table (hardware-accelerated where the CPU has it).
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// flushAt is how many bytes of values Put keeps before it writes a pack.
const flushAt = 32 << 20

// touchAfter is how stale a pack's time may grow before a read renews it:
// the least-recently-used order is kept to about this precision.
const touchAfter = 10 * time.Minute

// readBack is how long a value this Cache Put stays readable by it at
// least, written or not: a build reads back the bodies it rendered
// (posts.RenderCache) rather than hold them.
const readBack = 10 * time.Minute

// Options tune Open.
type Options struct {
	// MaxBytes caps the size of the packs; zero means DefaultMaxBytes. When
	// a Flush takes the cache over it, the least recently used packs are
	// removed until it is under nine tenths of it.
	MaxBytes int64
	// Version names the build of the program whose values these are
	// (see Version): values of another Version are never read.
	Version string
	// Log receives a line for every damaged pack discarded and for a cache
	// that cannot be written; nil discards them.
	Log *logrus.Entry
}

// Cache is a build cache in one folder. It is safe for concurrent use, and
// several Caches (of one or more processes) may share a folder. Close it
// to write what Put keeps and release its files.
type Cache struct {
	dir     string
	max     int64
	version string
	log     *logrus.Entry

	mu      sync.Mutex
	packs   map[string]*pack // by file name
	index   map[[32]byte]loc
	pending map[[32]byte]parts
	pendN   int
	// flushing are the values of the Flushes writing now, newest last,
	// and unwritten those of Flushes that failed: a Get still finds them
	// (a build reads back what it rendered; see Get). Unwritten values
	// are dropped readBack after their Flush failed (a build is over by
	// then; a long-running process on a full disk does not keep every
	// build's values), and at Close.
	flushing  []*flushed
	unwritten map[[32]byte]unwrittenValue
	// ready is closed once Open's goroutine has read the packs' indexes:
	// packs, index and unread are not used before
	ready  chan struct{}
	warned bool
	now    func() time.Time
	// unread is the size of the packs of other Versions (see ownPack),
	// as of Open or the last eviction: they count toward the cap.
	unread int64
}

// flushed are the values one Flush writes.
type flushed struct{ values map[[32]byte]parts }

// unwrittenValue is a value whose Flush failed, and when.
type unwrittenValue struct {
	v  parts
	at time.Time
}

type pack struct {
	name    string
	f       *os.File
	size    int64
	touched time.Time
	bad     bool
	// written is when this Cache wrote the pack (zero: another wrote it):
	// evict leaves it for readBack, so that a build that put more than
	// the cap holds reads back all it put
	written time.Time
}

// Packs are read with a read system call per record, not mapped: the
// mapped pages of the packs a build read counted in the process's memory
// (30 MB of a one-post publish's 210 at 6,629 posts, 100 MB at 20,000)
// and saved no measurable time.
func newPack(name string, f *os.File, size int64, touched time.Time) *pack {
	return &pack{name: name, f: f, size: size, touched: touched}
}

// read returns the n bytes at off; a pack cut short reads short, an error.
func (p *pack) read(off, n int64) ([]byte, error) {
	if n < 0 {
		return nil, io.ErrUnexpectedEOF
	}
	return p.readInto(make([]byte, n), off)
}

// readInto reads len(b) bytes at off into b.
func (p *pack) readInto(b []byte, off int64) ([]byte, error) {
	if off < 0 || off+int64(len(b)) > p.size {
		return nil, io.ErrUnexpectedEOF
	}
	if _, err := p.f.ReadAt(b, off); err != nil {
		return nil, err
	}
	return b, nil
}

// close closes the pack's file; a Get reading it afterwards fails (and
// the caller has marked the pack bad first, so quietly).
func (p *pack) close() { p.f.Close() }

type loc struct {
	p        *pack
	off, len int64
}

// Open opens (creating it) the cache in the folder dir and starts reading
// the index of its packs, which the first Get, Has or Flush waits for.
// Damaged packs are removed and logged. The error is for a folder that
// cannot be made or listed.
func Open(dir string, opts Options) (*Cache, error) {
	root := filepath.Join(dir, "packs-v1")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("open build cache: %w", err)
	}
	c := &Cache{dir: root, max: opts.MaxBytes, version: opts.Version, log: opts.Log, now: time.Now,
		packs: map[string]*pack{}, index: map[[32]byte]loc{}, pending: map[[32]byte]parts{}}
	if c.max <= 0 {
		c.max = DefaultMaxBytes
	}
	if c.log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		c.log = logrus.NewEntry(l)
	}
	c.log = c.log.WithField(FieldDir, dir)
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("open build cache: %w", err)
	}
	// The packs' indexes are read on a goroutine of their own, which
	// every use of them waits for (ready): a publish opens the cache
	// before it fetches, and a big blog's indexes (100,000s of records)
	// are read meanwhile, not before it.
	c.ready = make(chan struct{})
	old := c.now().Add(-time.Hour)
	go func() {
		defer close(c.ready)
		c.loadPacks(ents, old)
	}()
	return c, nil
}

// loadPacks reads the index of each of this Version's packs among ents
// (the cache folder's entries), removes the temporary files left before
// old, and counts the packs of other Versions.
func (c *Cache) loadPacks(ents []os.DirEntry, old time.Time) {
	// Oldest first (names start with the time they were written), so that
	// a key in two packs is read from the newer.
	type found struct {
		name string
		at   time.Time
	}
	var names []found
	for _, e := range ents {
		info, err := e.Info()
		if err != nil || e.IsDir() {
			continue
		}
		if strings.HasPrefix(e.Name(), ".tmp-") {
			if info.ModTime().Before(old) {
				os.Remove(filepath.Join(c.dir, e.Name())) // left by a process that died
			}
			continue
		}
		if strings.HasSuffix(e.Name(), ".pack") {
			if !c.ownPack(e.Name()) {
				c.unread += info.Size()
				continue
			}
			names = append(names, found{e.Name(), info.ModTime()})
		}
	}
	sort.Slice(names, func(i, j int) bool { return names[i].name < names[j].name })
	// The index is made at its size: grown record by record, it was most
	// of the time a publish of a big blog spent opening the cache (400,000
	// records: 117 ms).
	records := 0
	for _, n := range names {
		if info, err := os.Stat(filepath.Join(c.dir, strings.TrimSuffix(n.name, ".pack")+".idx")); err == nil {
			records += int(min(info.Size(), 1<<30) / 48)
		}
	}
	c.index = make(map[[32]byte]loc, records)
	for _, n := range names {
		c.load(n.name, n.at)
	}
}

// load opens a pack and adds its records to the index; a damaged pack is
// removed.
func (c *Cache) load(name string, at time.Time) {
	path := filepath.Join(c.dir, name)
	f, err := os.Open(path)
	if err != nil {
		return // removed meanwhile
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return
	}
	p := newPack(name, f, info.Size(), at)
	if c.loadIndex(p) {
		return
	}
	var locs []struct {
		key [32]byte
		l   loc
	}
	var h [headerLen]byte
	for off := int64(0); off < p.size; {
		if _, err := f.ReadAt(h[:], off); err != nil {
			c.discard(p, "truncated record header")
			return
		}
		if !bytes.Equal(h[:4], recordMagic[:]) {
			c.discard(p, "not a build cache pack (foreign or corrupted)")
			return
		}
		n := int64(binary.BigEndian.Uint64(h[36:44]))
		if n < 0 || off+headerLen+n > p.size {
			c.discard(p, "truncated record")
			return
		}
		var key [32]byte
		copy(key[:], h[4:36])
		locs = append(locs, struct {
			key [32]byte
			l   loc
		}{key, loc{p, off, headerLen + n}})
		off += headerLen + n
	}
	c.packs[name] = p
	for _, x := range locs {
		c.index[x.key] = x.l
	}
}

// loadIndex adds the records of p from its .idx file, written beside it by
// Flush; false when there is none or it does not fit the pack (then load
// reads the pack's own headers).
func (c *Cache) loadIndex(p *pack) bool {
	b, err := os.ReadFile(filepath.Join(c.dir, strings.TrimSuffix(p.name, ".pack")+".idx"))
	if err != nil || len(b)%48 != 0 {
		return false
	}
	var end int64
	for i := 0; i < len(b); i += 48 {
		off, n := int64(binary.BigEndian.Uint64(b[i+32:])), int64(binary.BigEndian.Uint64(b[i+40:]))
		if off < 0 || n < headerLen || off > p.size-n {
			return false
		}
		end = max(end, off+n)
	}
	if end != p.size {
		return false
	}
	c.packs[p.name] = p
	for i := 0; i < len(b); i += 48 {
		var k [32]byte
		copy(k[:], b[i:i+32])
		c.index[k] = loc{p, int64(binary.BigEndian.Uint64(b[i+32:])), int64(binary.BigEndian.Uint64(b[i+40:]))}
	}
	return true
}

// discard removes a damaged pack and forgets its records. Callers hold c.mu
// or own c alone.
func (c *Cache) discard(p *pack, why string) {
	c.log.WithField(FieldPack, p.name).Warnf("build cache pack damaged, discarded: %s", why)
	p.bad = true
	p.close()
	os.Remove(filepath.Join(c.dir, p.name))
	os.Remove(filepath.Join(c.dir, strings.TrimSuffix(p.name, ".pack")+".idx"))
	delete(c.packs, p.name)
	for k, l := range c.index {
		if l.p == p {
			delete(c.index, k)
		}
	}
}

// Dir is the folder the packs are in.
func (c *Cache) Dir() string { return c.dir }

// A pack's name ends with a tag of the Version that wrote it (all its
// records are of that Version): Open leaves the packs of other Versions
// unread, whose records it could never use (their indexes were most of
// the time opening a cache took once a few upgrades had left their packs
// there). They count toward the cap and go by age like the others;
// nothing of this Version makes them younger.
func versionSuffix(version string) string {
	if version == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(version))
	return "-v" + hex.EncodeToString(sum[:6])
}

// ownPack says whether the pack name may hold records of c's Version: it
// has c's tag, or none (written by a cache without a Version, or before
// packs were tagged).
func (c *Cache) ownPack(name string) bool {
	base := strings.TrimSuffix(name, ".pack")
	i := strings.LastIndex(base, "-v")
	if i < 0 || strings.Count(base, "-") < 2 {
		return true
	}
	return base[i:] == versionSuffix(c.version)
}

// key is k under the cache's Version.
func (c *Cache) key(k [32]byte) [32]byte {
	if c.version == "" {
		return k
	}
	// on the stack for a Version of up to 95 bytes: every Get and Has
	// asks, 100,000 times in a one-post publish of 20,000 posts
	var buf [128]byte
	return sha256.Sum256(append(append(append(buf[:0], c.version...), 0), k[:]...))
}

// Get returns the value stored under key. A missing entry is a miss; so is
// a damaged one: its pack is removed and logged. A value Put by this Cache
// is found for readBack at least (ten minutes), whether its pack is being
// written, was written, or could not be written (it is then kept in
// memory): a build may drop what it Put and read it back when it needs it.
func (c *Cache) Get(key [32]byte) ([]byte, bool) {
	k := c.key(key)
	<-c.ready
	c.mu.Lock()
	if v, ok := c.unflushed(k); ok {
		c.mu.Unlock()
		return v.join(), true
	}
	l, ok := c.index[k]
	if !ok {
		c.mu.Unlock()
		return nil, false
	}
	touch := c.now().Sub(l.p.touched) > touchAfter
	if touch {
		l.p.touched = c.now()
	}
	c.mu.Unlock()
	rec, err := l.p.read(l.off, l.len)
	if !c.checked(k, l, rec, err) {
		return nil, false
	}
	if touch {
		now := c.now()
		os.Chtimes(filepath.Join(c.dir, l.p.name), now, now) // best effort: only the LRU order depends on it
	}
	return rec[headerLen:], true
}

// checked says whether rec, read at l with err, is the whole record of
// the key k (under the Version); when it is not, l's pack is discarded.
func (c *Cache) checked(k [32]byte, l loc, rec []byte, err error) bool {
	why := ""
	switch {
	case err != nil:
		why = "unreadable: " + err.Error()
	case !bytes.Equal(rec[:4], recordMagic[:]) || !bytes.Equal(rec[4:36], k[:]) ||
		binary.BigEndian.Uint64(rec[36:44]) != uint64(l.len-headerLen):
		why = "record header corrupted"
	default:
		if crc32.Checksum(rec[headerLen:], castagnoli) != binary.BigEndian.Uint32(rec[44:headerLen]) {
			why = "checksum mismatch"
		}
	}
	if why == "" {
		return true
	}
	c.mu.Lock()
	if !l.p.bad {
		c.discard(l.p, why)
	}
	c.mu.Unlock()
	return false
}

// Records at most this far apart in a pack are read by GetMany with one
// read (the bytes between are read and dropped), up to batchRead at a
// time: reading the small values of a build one system call each was a
// tenth of a one-post publish of 20,000 posts.
const (
	batchGap  = 4 << 10
	batchRead = 1 << 20
)

// GetMany is Get of every key of keys, calling got(i, value) for each
// keys[i] found (not in order, and on the calling goroutine). The values
// are read from each pack in the order they lie in it, records close to
// one another with one read: Flush writes the small values of a pack
// together, so the small values of a build (a post's front matter, its
// render's facts) come in a few large reads. value is GetMany's read
// buffer, valid only until got returns: got copies what it keeps (so that
// keeping one value does not keep the others of its read).
func (c *Cache) GetMany(keys [][32]byte, got func(i int, value []byte)) {
	type want struct {
		i int
		k [32]byte
		l loc
	}
	<-c.ready
	wants := make([]want, 0, len(keys))
	touched := map[*pack]bool{}
	ks := make([][32]byte, len(keys))
	for i, key := range keys {
		ks[i] = c.key(key) // not under the lock: Gets of other goroutines wait for it
	}
	c.mu.Lock()
	for i, k := range ks {
		if v, ok := c.unflushed(k); ok {
			c.mu.Unlock()
			got(i, v.join())
			c.mu.Lock()
			continue
		}
		if l, ok := c.index[k]; ok {
			wants = append(wants, want{i, k, l})
			if c.now().Sub(l.p.touched) > touchAfter {
				l.p.touched = c.now()
				touched[l.p] = true
			}
		}
	}
	c.mu.Unlock()
	slices.SortFunc(wants, func(a, b want) int {
		if a.l.p != b.l.p {
			return strings.Compare(a.l.p.name, b.l.p.name)
		}
		return cmp.Compare(a.l.off, b.l.off)
	})
	var buf []byte
	for len(wants) > 0 {
		// a run: the records of one pack, each starting within batchGap
		// of the end of the one before, batchRead bytes at most (or one)
		p, start, end, n := wants[0].l.p, wants[0].l.off, wants[0].l.off+wants[0].l.len, 1
		for n < len(wants) && wants[n].l.p == p && wants[n].l.off >= end && wants[n].l.off-end <= batchGap &&
			wants[n].l.off+wants[n].l.len-start <= batchRead {
			end = wants[n].l.off + wants[n].l.len
			n++
		}
		if int64(cap(buf)) < end-start {
			buf = make([]byte, end-start)
		}
		run, err := p.readInto(buf[:end-start], start)
		for _, w := range wants[:n] {
			var rec []byte
			if err == nil {
				rec = run[w.l.off-start : w.l.off-start+w.l.len : w.l.off-start+w.l.len]
			}
			if c.checked(w.k, w.l, rec, err) {
				got(w.i, rec[headerLen:])
			}
		}
		wants = wants[n:]
	}
	for p := range touched {
		now := c.now()
		os.Chtimes(filepath.Join(c.dir, p.name), now, now)
	}
}

// Has says whether the cache holds a value under key, without reading it
// (a damaged one is found by Get).
func (c *Cache) Has(key [32]byte) bool {
	k := c.key(key)
	<-c.ready
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.unflushed(k); ok {
		return true
	}
	_, ok := c.index[k]
	return ok
}

// unflushed is the value under k (a key under the Version) that is not in
// a pack of the index: pending, being written, or not written. Callers
// hold c.mu.
func (c *Cache) unflushed(k [32]byte) (parts, bool) {
	if v, ok := c.pending[k]; ok {
		return v, true
	}
	for i := len(c.flushing) - 1; i >= 0; i-- {
		if v, ok := c.flushing[i].values[k]; ok {
			return v, true
		}
	}
	u, ok := c.unwritten[k]
	return u.v, ok
}

// Put stores value under key; the caller must not change value afterwards.
// Values are kept in memory and written by Flush, or by Put itself once
// they pass 32 MiB. A failure to write is logged once per Cache and
// otherwise ignored: the cache only saves work.
func (c *Cache) Put(key [32]byte, value []byte) { c.PutParts(key, value) }

// PutParts stores under key the value made of parts one after the other,
// without joining them: a value made mostly of bytes the caller already
// holds (a manifest copying most of the last one) costs no new memory of
// its size. The caller must not change the parts afterwards.
func (c *Cache) PutParts(key [32]byte, value ...[]byte) {
	k := c.key(key)
	v := parts(value)
	c.mu.Lock()
	c.pendN += v.len() - c.pending[k].len()
	c.pending[k] = v
	full := c.pendN >= flushAt
	c.mu.Unlock()
	if full {
		c.Flush()
	}
}

// parts are a value not written yet, in the pieces Put or PutParts got.
type parts [][]byte

func (v parts) len() int {
	n := 0
	for _, b := range v {
		n += len(b)
	}
	return n
}

// join is the value in one piece (a Get before Flush).
func (v parts) join() []byte {
	if len(v) == 1 {
		return v[0]
	}
	return bytes.Join(v, nil)
}

// Flush writes the values Put keeps as one pack, then removes the least
// recently used packs while the cache is over its cap.
func (c *Cache) Flush() {
	<-c.ready
	c.mu.Lock()
	pending := c.pending
	c.pending, c.pendN = map[[32]byte]parts{}, 0
	this := &flushed{pending}
	if len(pending) > 0 {
		c.flushing = append(c.flushing, this)
	}
	c.mu.Unlock()
	if len(pending) == 0 {
		return
	}
	keys := make([][32]byte, 0, len(pending))
	for k := range pending {
		keys = append(keys, k)
	}
	// smallest first: the small values a build reads back for every post
	// (front matter, a render's facts) lie together, for GetMany
	slices.SortFunc(keys, func(a, b [32]byte) int {
		return cmp.Or(cmp.Compare(pending[a].len(), pending[b].len()), bytes.Compare(a[:], b[:]))
	})
	offs := make([]int64, len(keys))
	var size int64
	// The records go to the file through a small buffer, the values as
	// they are: a pack is not made in memory first (a 20,000-post blog's
	// manifest alone is 9 MiB, and fresh memory is most of what copying
	// it costs).
	name, f, err := c.write(func(w *bufio.Writer) error {
		var h [headerLen]byte
		copy(h[:4], recordMagic[:])
		for i, k := range keys {
			v := pending[k]
			offs[i] = size
			copy(h[4:36], k[:])
			binary.BigEndian.PutUint64(h[36:44], uint64(v.len()))
			var sum uint32
			for _, b := range v {
				sum = crc32.Update(sum, castagnoli, b)
			}
			binary.BigEndian.PutUint32(h[44:headerLen], sum)
			w.Write(h[:])
			for _, b := range v {
				if _, err := w.Write(b); err != nil {
					return err
				}
			}
			size += int64(headerLen + v.len())
		}
		return w.Flush()
	})
	c.mu.Lock()
	defer c.mu.Unlock()
	c.flushing = slices.DeleteFunc(c.flushing, func(f *flushed) bool { return f == this })
	if err != nil {
		if !c.warned {
			c.warned = true
			c.log.WithError(err).Warn("build cache not written; builds go on without it")
		}
		// kept for this Cache's Gets, not written again: a full disk is
		// not tried at every Put
		now := c.now()
		if c.unwritten == nil {
			c.unwritten = map[[32]byte]unwrittenValue{}
		}
		maps.DeleteFunc(c.unwritten, func(_ [32]byte, u unwrittenValue) bool { return now.Sub(u.at) >= readBack })
		for k, v := range pending {
			c.unwritten[k] = unwrittenValue{v, now}
		}
		return
	}
	idx := make([]byte, 0, len(keys)*(32+16))
	for i, k := range keys {
		idx = append(idx, k[:]...)
		idx = binary.BigEndian.AppendUint64(idx, uint64(offs[i]))
		idx = binary.BigEndian.AppendUint64(idx, uint64(headerLen+pending[k].len()))
	}
	// The index only saves reading the pack's headers at Open; Get checks
	// every record it reads, so a wrong index is a miss, never a wrong value.
	os.WriteFile(filepath.Join(c.dir, strings.TrimSuffix(name, ".pack")+".idx"), idx, 0o644)
	p := newPack(name, f, size, c.now())
	p.written = p.touched
	c.packs[name] = p
	for i, k := range keys {
		c.index[k] = loc{p, offs[i], int64(headerLen + pending[k].len())}
		delete(c.unwritten, k) // written now: the pack's is the newer value
	}
	c.evict(p)
}

// write makes a pack of what fill writes, and opens it.
func (c *Cache) write(fill func(w *bufio.Writer) error) (string, *os.File, error) {
	var rnd [8]byte
	rand.Read(rnd[:])
	name := fmt.Sprintf("%d-%s%s.pack", c.now().UnixNano(), hex.EncodeToString(rnd[:]), versionSuffix(c.version))
	f, err := os.CreateTemp(c.dir, ".tmp-*")
	if errors.Is(err, fs.ErrNotExist) { // the folder was removed under us
		if err = os.MkdirAll(c.dir, 0o755); err == nil {
			f, err = os.CreateTemp(c.dir, ".tmp-*")
		}
	}
	if err != nil {
		return "", nil, err
	}
	werr := fill(bufio.NewWriterSize(f, 256<<10))
	if err := errors.Join(werr, f.Close()); err != nil {
		os.Remove(f.Name())
		return "", nil, err
	}
	now := c.now()
	os.Chtimes(f.Name(), now, now) // the LRU order follows the cache's clock
	final := filepath.Join(c.dir, name)
	if err := os.Rename(f.Name(), final); err != nil {
		os.Remove(f.Name())
		return "", nil, err
	}
	rf, err := os.Open(final)
	if err != nil {
		return "", nil, err
	}
	return name, rf, nil
}

// evict removes the least recently used packs but keep until the cache is
// under nine tenths of its cap. The folder is listed, so the packs of other
// processes count too. Callers hold c.mu.
func (c *Cache) evict(keep *pack) {
	total := c.unread
	for _, p := range c.packs {
		total += p.size
	}
	if total <= c.max {
		return
	}
	type entry struct {
		name string
		size int64
		at   time.Time
	}
	var all []entry
	total = 0
	ents, _ := os.ReadDir(c.dir)
	for _, e := range ents {
		info, err := e.Info()
		if err != nil || !strings.HasSuffix(e.Name(), ".pack") {
			continue
		}
		at := info.ModTime()
		if p := c.packs[e.Name()]; p != nil && p.touched.After(at) {
			at = p.touched
		}
		all = append(all, entry{e.Name(), info.Size(), at})
		total += info.Size()
	}
	sort.Slice(all, func(i, j int) bool { return all[i].at.Before(all[j].at) })
	target := c.max / 10 * 9
	c.unread = 0
	now := c.now()
	for _, e := range all {
		mine := c.packs[e.name]
		if total <= target || e.name == keep.name || mine != nil && !mine.written.IsZero() && now.Sub(mine.written) < readBack {
			if !c.ownPack(e.name) {
				c.unread += e.size
			}
			continue
		}
		if err := os.Remove(filepath.Join(c.dir, e.name)); err == nil || errors.Is(err, fs.ErrNotExist) {
			total -= e.size
		}
		os.Remove(filepath.Join(c.dir, strings.TrimSuffix(e.name, ".pack")+".idx"))
		if p := c.packs[e.name]; p != nil {
			p.bad = true // a Get reading it now misses, quietly
			p.close()
			delete(c.packs, e.name)
			for k, l := range c.index {
				if l.p == p {
					delete(c.index, k)
				}
			}
		}
	}
}

// Close writes what Put keeps and closes the packs. The Cache must not be
// used afterwards.
func (c *Cache) Close() error {
	c.Flush() // after the indexes are read
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.packs {
		p.close()
	}
	c.packs, c.index, c.unwritten = map[string]*pack{}, map[[32]byte]loc{}, nil
	return nil
}
