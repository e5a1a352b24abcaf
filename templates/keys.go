package templates

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"math"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// Key is an output file's input key: a SHA-256 over everything its bytes
// are made from. Two renders that give a file the same key give it the same
// bytes (see Output.Keys and Options.Previous).
type Key [32]byte

// Why keys are sound: a page's bytes are the execution of one page
// template (whose source, and that of every shared template, is in
// Renderer.digest) with the functions of funcs and localeFuncs (pure, or
// reading only the locale, which is in the key) over one *Page. Everything
// a template can reach from the *Page is hashed by dataHasher below, by
// reflection: every field, exported or not, so a field added later is
// covered without a change here; a value that says its own digest
// (keyDigester: the posts' bodies) is hashed by it. Files the renderer
// writes without a template (feeds, sitemap, the search index) are keyed
// by their bytes (contentKey): they are always made, and only skip the
// caller's hashing and writing when unchanged; but a search shard is keyed
// by the words and posts it is made from (shardFileKey), and kept unmade. A page template that provably reads
// only some fields of the posts it shows (postReads, reads.go: the
// archive reads titles, addresses and dates) has its pages keyed by those
// fields of each post, so that a post's text edited leaves it unchanged;
// post pages are keyed by whole posts. Assets are keyed by the content
// tree's name of their content (assetKey) and images by the hash of their
// bytes that imagery records (imageKey): a kept one is not even read.

// dataHasher digests Go values deterministically: structs field by field
// (exported and unexported), pointers by what they point to, slices and
// arrays element by element, maps in the order of their keys' digests,
// interfaces by dynamic type and value, time.Time by its instant and zone.
// The digest of a pointer is computed once per dataHasher and reused (a
// post listed by a thousand pages is hashed once), as is that of every
// long string (a post's body shared by PostData.Body and Post.HTML).
// Cycles through pointers are hashed as back references.
//
// A value the hasher cannot see into (a non-nil func, channel or unsafe
// pointer) makes the whole key unusable: the file is always rendered. It is
// safe for concurrent use; digests of values in a pointer cycle depend on
// where the walk entered the cycle, so callers that want keys that are
// stable from one render to the next hash shared values in a fixed order
// first (build.keyPosts).
type dataHasher struct {
	// The memos are split by address: one lock for all, taken several
	// times per post by every core, parked a goroutine thousands of
	// times a render and left a core of two idle.
	shards [hasherShards]hasherShard
	// masks are the post masks pages are keyed with (postReads): a post's
	// digest by each is made from the bytes its own walk writes for those
	// fields, when a page keyed by it first shows the post
	masks []*postMask
}

// ownDigest is the digest of a struct's fields but its split one, and,
// for a PostData, that of the fields of each of the hasher's masks.
type ownDigest struct {
	digest
	masked []maskedDigest // by mask id
}

// splitFields names, for a struct type, the one field through which its
// pointers can lead back to it: PostData.Related. A pointer to such a
// struct is digested as the digest of its other fields, made once per
// pointer whatever the way there (nothing in them leads back, so it can be
// made on any core, in any order: own), then that field. Only the walk of
// that field depends on where a cycle was entered; it used to be the walk
// of every field of every post, in one fixed order.
var splitFields = map[reflect.Type]int{}

func init() {
	t := reflect.TypeFor[PostData]()
	f, _ := t.FieldByName("Related")
	splitFields[t] = f.Index[0]
}

// hasherShards is the number of parts the memos are split into.
const hasherShards = 64

// hasherShard is the part of a dataHasher's memos for some addresses.
type hasherShard struct {
	mu   sync.Mutex
	ptrs map[ptrKey]digest
	strs map[strKey]digest
	owns map[ptrKey]*ownDigest // see splitFields
	_    [32]byte              // 64 bytes, so that two cores seldom share a cache line
}

// shard is the part of d's memos for the address p.
func (d *dataHasher) shard(p unsafe.Pointer) *hasherShard {
	return &d.shards[uint64(uintptr(p))*0x9e3779b97f4a7c15>>58]
}

type digest struct {
	sum [32]byte
	ok  bool // false: something in it cannot be hashed
}

type ptrKey struct {
	t reflect.Type
	p unsafe.Pointer // keeps the value alive: the key cannot be reused by another value
	m *postMask      // the posts' fields hashed (see postReads); nil: all
}

type strKey struct {
	p *byte // keeps the string alive
	n int
}

// longString is the length from which a string's digest is memoised.
const longString = 512

func newDataHasher() *dataHasher { return newDataHasherFor(0) }

// newDataHasherFor is a hasher for a render of n posts: its maps are made
// for what such a render digests (each post and its posts.Post, a few
// more), not grown a doubling at a time.
func newDataHasherFor(n int) *dataHasher {
	d := &dataHasher{}
	for i := range d.shards {
		d.shards[i].strs = map[strKey]digest{}
	}
	d.size(n)
	return d
}

// size makes d's maps for a render of n posts (newDataHasherFor); d must
// not be in use.
func (d *dataHasher) size(n int) {
	for i := range d.shards {
		sh := &d.shards[i]
		sh.ptrs, sh.owns = make(map[ptrKey]digest, (2*n+64)/hasherShards+8), make(map[ptrKey]*ownDigest, n/hasherShards+8)
	}
}

// walk is one digest computation: its hash state and the pointers being
// hashed (for cycles).
type walk struct {
	d     *dataHasher
	h     hash.Hash
	stack []ptrKey
	low   int       // lowest stack index a back reference pointed to
	bad   bool      // something could not be hashed
	mask  *postMask // the fields of the posts hashed; nil: all
	// pend holds the bytes not yet written to h: a walk writes a few
	// bytes at a time, and a call of h.Write per tag and number cost more
	// than the hashing (the digest is of the same bytes)
	pend [512]byte
	n    int
	// stackBuf holds the stack of a root walk and of the walks under it
	// (root: this walk owns it)
	stackBuf [16]ptrKey
	root     bool
}

// walks are reused: a walk per pointer digested, each with its hash and
// buffer, was most of the hasher's allocation.
var walks = sync.Pool{New: func() any { return &walk{h: sha256.New()} }}

// walk is a walk of d from the stack of pointers being hashed, with the
// lowest back reference seen so far low.
func (d *dataHasher) walk(stack []ptrKey, low int) *walk {
	w := walks.Get().(*walk)
	w.d, w.stack, w.low, w.bad, w.n, w.mask = d, stack, low, false, 0, nil
	w.h.Reset()
	return w
}

// rootWalk is a walk that starts a stack of its own, in its buffer, with
// first on it when not nil: the walks under it push onto that buffer
// (pointer) rather than each copying the stack.
func (d *dataHasher) rootWalk(first ptrKey) *walk {
	w := d.walk(nil, math.MaxInt)
	w.stack = w.stackBuf[:0]
	if first != (ptrKey{}) {
		w.stack = append(w.stack, first)
	}
	w.root = true
	return w
}

// release gives w back for reuse: it must not be used after.
func (w *walk) release() {
	if w.root {
		clear(w.stackBuf[:]) // what the stack pointed to may be freed
		w.root = false
	}
	w.d, w.stack = nil, nil
	walks.Put(w)
}

// flush writes the pending bytes to h.
func (w *walk) flush() {
	w.h.Write(w.pend[:w.n])
	w.n = 0
}

// write adds p to the bytes being hashed.
func (w *walk) write(p []byte) {
	if w.n+len(p) > len(w.pend) {
		w.flush()
		if len(p) > len(w.pend) {
			w.h.Write(p)
			return
		}
	}
	w.n += copy(w.pend[w.n:], p)
}

// sumTo ends the walk's digest in k.
func (w *walk) sumTo(k *[32]byte) {
	w.flush()
	w.h.Sum(k[:0])
}

// sum digests vs in order. ok is false when one of them holds something
// that cannot be hashed.
func (d *dataHasher) sum(vs ...any) (k Key, ok bool) {
	return d.sumReading(nil, vs...)
}

// sumReading is sum where every PostData is hashed by the fields of mask
// only (see postReads); nil is every field.
func (d *dataHasher) sumReading(mask *postMask, vs ...any) (k Key, ok bool) {
	return d.sumPage(mask, nil, vs...)
}

// sumPage is sumReading of vs and then, when not nil, of the Page pg
// points at, as the value *pg would be: its fields, read in place.
func (d *dataHasher) sumPage(mask *postMask, pg *Page, vs ...any) (k Key, ok bool) {
	w := d.rootWalk(ptrKey{})
	w.mask = mask
	defer w.release()
	for _, v := range vs {
		w.value(reflect.ValueOf(v))
	}
	if pg != nil {
		w.value(reflect.ValueOf(pg).Elem())
	}
	w.sumTo((*[32]byte)(&k))
	return k, !w.bad
}

func (w *walk) uint(u uint64) {
	if w.n+8 > len(w.pend) {
		w.flush()
	}
	binary.LittleEndian.PutUint64(w.pend[w.n:], u)
	w.n += 8
}

func (w *walk) str(s string) {
	w.uint(uint64(len(s)))
	if len(s) < longString {
		w.write(unsafe.Slice(unsafe.StringData(s), len(s)))
		return
	}
	k := strKey{unsafe.StringData(s), len(s)}
	sh := w.d.shard(unsafe.Pointer(k.p))
	sh.mu.Lock()
	dg, ok := sh.strs[k]
	sh.mu.Unlock()
	if !ok {
		sum := sha256.Sum256(unsafe.Slice(unsafe.StringData(s), len(s)))
		dg = digest{sum: sum, ok: true}
		sh.mu.Lock()
		sh.strs[k] = dg
		sh.mu.Unlock()
	}
	w.write(dg.sum[:])
}

var (
	timeType     = reflect.TypeFor[time.Time]()
	locationType = reflect.TypeFor[time.Location]()
)

// Tags written before values of each shape, so that different shapes never
// write the same bytes.
const (
	tagNil byte = iota + 1
	tagPtr
	tagBackRef
	tagIface
	tagTime
	tagLocation
	tagDigest
	tagOwn
	tagFields
)

// keyDigester is a value that says its own digest, which the hasher uses
// instead of walking it: a post's body (posts.Post's, and PostData's
// lazyBody), which is read or made only when a page that shows it is
// rendered.
type keyDigester interface{ KeyDigest() [32]byte }

var (
	keyDigesterType = reflect.TypeFor[keyDigester]()
	digesterTypes   sync.Map // reflect.Type -> bool
)

// digests says whether t (a pointer type) is a keyDigester.
func digests(t reflect.Type) bool {
	if v, ok := digesterTypes.Load(t); ok {
		return v.(bool)
	}
	is := t.Implements(keyDigesterType)
	digesterTypes.Store(t, is)
	return is
}

func (w *walk) tag(t byte) {
	if w.n == len(w.pend) {
		w.flush()
	}
	w.pend[w.n] = t
	w.n++
}

func (w *walk) value(v reflect.Value) {
	if !v.IsValid() {
		w.tag(tagNil)
		return
	}
	t := v.Type()
	switch t {
	case timeType:
		w.tag(tagTime)
		tm, ok := timeOf(v)
		if !ok {
			w.bad = true
			return
		}
		// the instant, and the zone it is written in
		w.uint(uint64(tm.Unix()))
		w.uint(uint64(tm.Nanosecond()))
		name, off := tm.Zone()
		w.str(name)
		w.uint(uint64(off))
		w.str(tm.Location().String())
		return
	case locationType:
		w.tag(tagLocation)
		if v.CanAddr() {
			w.str((*time.Location)(unsafe.Pointer(v.UnsafeAddr())).String())
			return
		}
		w.bad = true
		return
	}
	switch t.Kind() {
	case reflect.Bool:
		if v.Bool() {
			w.uint(1)
		} else {
			w.uint(0)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		w.uint(uint64(v.Int()))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		w.uint(v.Uint())
	case reflect.Float32, reflect.Float64:
		w.uint(math.Float64bits(v.Float()))
	case reflect.Complex64, reflect.Complex128:
		c := v.Complex()
		w.uint(math.Float64bits(real(c)))
		w.uint(math.Float64bits(imag(c)))
	case reflect.String:
		w.str(v.String())
	case reflect.Struct:
		for i := range v.NumField() {
			w.value(v.Field(i))
		}
	case reflect.Array:
		for i := range v.Len() {
			w.value(v.Index(i))
		}
	case reflect.Slice:
		if v.IsNil() {
			w.tag(tagNil)
			return
		}
		w.uint(uint64(v.Len()))
		if t.Elem().Kind() == reflect.Uint8 {
			w.write(v.Bytes())
			return
		}
		for i := range v.Len() {
			w.value(v.Index(i))
		}
	case reflect.Map:
		w.mapValue(v)
	case reflect.Interface:
		if v.IsNil() {
			w.tag(tagNil)
			return
		}
		e := v.Elem()
		w.tag(tagIface)
		w.str(e.Type().String())
		w.value(e)
	case reflect.Pointer:
		w.pointer(v)
	default: // func, chan, unsafe.Pointer
		if v.IsNil() {
			w.tag(tagNil)
			return
		}
		w.bad = true
	}
}

// timeOf reads a time.Time, also from an unexported field.
func timeOf(v reflect.Value) (time.Time, bool) {
	if v.CanInterface() {
		return v.Interface().(time.Time), true
	}
	if v.CanAddr() {
		return *(*time.Time)(unsafe.Pointer(v.UnsafeAddr())), true
	}
	return time.Time{}, false
}

func (w *walk) mapValue(v reflect.Value) {
	if v.IsNil() {
		w.tag(tagNil)
		return
	}
	if v.Type().Key().Kind() == reflect.String {
		// keys in their order (a front matter's params): each key and
		// value written as they come, which the type makes unambiguous
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		w.uint(uint64(len(keys)))
		for _, k := range keys {
			w.str(k.String())
			w.value(v.MapIndex(k))
		}
		return
	}
	type entry struct{ k, v Key }
	entries := make([]entry, 0, v.Len())
	it := v.MapRange()
	for it.Next() {
		var e entry
		e.k = w.sub(func(s *walk) { s.value(it.Key()) })
		e.v = w.sub(func(s *walk) { s.value(it.Value()) })
		entries = append(entries, e)
	}
	sort.Slice(entries, func(i, j int) bool {
		return string(entries[i].k[:]) < string(entries[j].k[:])
	})
	w.uint(uint64(len(entries)))
	for _, e := range entries {
		w.write(e.k[:])
		w.write(e.v[:])
	}
}

// sub digests what fn writes in a walk of its own that shares w's stack,
// so back references still resolve.
func (w *walk) sub(fn func(s *walk)) Key {
	s := w.d.walk(w.stack, w.low)
	s.mask = w.mask
	defer s.release()
	fn(s)
	w.bad = w.bad || s.bad
	w.low = min(w.low, s.low)
	var k Key
	s.sumTo((*[32]byte)(&k))
	return k
}

func (w *walk) pointer(v reflect.Value) {
	if v.IsNil() {
		w.tag(tagNil)
		return
	}
	if digests(v.Type()) {
		// NewAt: a value read from an unexported field cannot call methods
		kd := reflect.NewAt(v.Type().Elem(), v.UnsafePointer()).Interface().(keyDigester)
		w.tag(tagDigest)
		sum := kd.KeyDigest()
		w.write(sum[:])
		return
	}
	if m := w.mask; m != nil && v.Type() == postDataPtrType && m.id < len(w.d.masks) && w.d.masks[m.id] == m {
		// only what the page's template reads (postReads): made with the
		// post's own digest, which never leads back to another post
		k := ptrKey{v.Type(), v.UnsafePointer(), nil}
		own := w.d.own(k, v.Elem(), splitFields[postDataType])
		dg := w.d.masked(k, v.Elem(), own, m)
		w.tag(tagPtr)
		w.write(dg.sum[:])
		w.bad = w.bad || !dg.ok
		return
	}
	k := ptrKey{v.Type(), v.UnsafePointer(), w.mask}
	for i, on := range w.stack {
		if on == k {
			w.tag(tagBackRef)
			w.uint(uint64(len(w.stack) - i))
			w.low = min(w.low, i)
			return
		}
	}
	sh := w.d.shard(k.p)
	sh.mu.Lock()
	dg, ok := sh.ptrs[k]
	sh.mu.Unlock()
	if !ok {
		// The walk under this one pushes k on the same stack: walks
		// under a root run one at a time, each done before the next
		// pushes in its place.
		depth := len(w.stack)
		s := w.d.walk(append(w.stack, k), math.MaxInt)
		s.mask = w.mask
		if f, split := splitFields[v.Type().Elem()]; split {
			own := w.d.own(k, v.Elem(), f)
			s.tag(tagOwn)
			s.write(own.sum[:])
			s.bad = s.bad || !own.ok
			s.value(v.Elem().Field(f))
		} else {
			s.value(v.Elem())
		}
		s.sumTo(&dg.sum)
		dg.ok = !s.bad
		low := s.low
		s.release()
		if low >= depth {
			// nothing in it points back above it: its digest does not
			// depend on the way here
			sh.mu.Lock()
			sh.ptrs[k] = dg
			sh.mu.Unlock()
		} else {
			w.low = min(w.low, low)
		}
	}
	w.tag(tagPtr)
	w.write(dg.sum[:])
	w.bad = w.bad || !dg.ok
}

// own is the digest of the fields of the struct v, at k, but field skip
// (see splitFields), made once per pointer.
func (d *dataHasher) own(k ptrKey, v reflect.Value, skip int) *ownDigest {
	sh := d.shard(k.p)
	sh.mu.Lock()
	dg, ok := sh.owns[k]
	sh.mu.Unlock()
	if ok {
		return dg
	}
	dg = &ownDigest{}
	s := d.rootWalk(k)
	n := v.NumField()
	for i := range n {
		if i != skip {
			s.value(v.Field(i))
		}
	}
	s.sumTo(&dg.sum)
	dg.ok = !s.bad
	s.release()
	if v.Type() == postDataType && len(d.masks) > 0 {
		dg.masked = make([]maskedDigest, len(d.masks))
	}
	sh.mu.Lock()
	if prev, ok := sh.owns[k]; ok { // made on another core meanwhile
		dg = prev
	} else {
		sh.owns[k] = dg
	}
	sh.mu.Unlock()
	return dg
}

// maskedDigest is a post's digest by one mask, made when a page keyed by
// that mask first shows the post (most masks are of a page or two).
type maskedDigest struct {
	once sync.Once
	digest
}

// masked is the digest of the PostData v, at k, by the fields of m: the
// mask's signature and those fields' bytes, as the post's own walk writes
// them (the same stack, so the same bytes).
func (d *dataHasher) masked(k ptrKey, v reflect.Value, own *ownDigest, m *postMask) digest {
	md := &own.masked[m.id]
	md.once.Do(func() {
		s := d.rootWalk(k)
		s.tag(tagFields)
		s.write(m.sig)
		for _, i := range m.fields {
			s.value(v.Field(i))
		}
		s.sumTo(&md.sum)
		md.ok = own.ok && !s.bad
		s.release()
	})
	return md.digest
}

// ownOf makes the digest of d's fields but Related (see splitFields).
func (d *dataHasher) ownOf(p *PostData) {
	v := reflect.ValueOf(p)
	d.own(ptrKey{v.Type(), v.UnsafePointer(), nil}, v.Elem(), splitFields[v.Type().Elem()])
}

// contentKey is the key of a file made without a template: its bytes.
func contentKey(data []byte) Key {
	h := sha256.New()
	h.Write([]byte("content\x00"))
	h.Write(data)
	var k Key
	h.Sum(k[:0])
	return k
}
