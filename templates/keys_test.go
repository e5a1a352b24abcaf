package templates

import (
	"fmt"
	"html/template"
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/publishbot/publishbot/posts"
)

// filler sets every field reachable from a type, exported or not, each to
// a value of its own; the leaf numbered target gets another value. Types
// already on the way down are left nil (PostData.Related).
type filler struct {
	t      *testing.T
	n      int
	target int
	onPath map[reflect.Type]bool
	names  []string // leaf n's path, for messages
	path   []string
}

var (
	locType = reflect.TypeFor[*time.Location]()
)

func (f *filler) leaf() (idx int, alt bool) {
	idx = f.n
	f.n++
	f.names = append(f.names, fmt.Sprint(f.path))
	return idx, idx == f.target
}

// settable is v, writable even when it is an unexported field.
func settable(v reflect.Value) reflect.Value {
	if v.CanSet() {
		return v
	}
	return reflect.NewAt(v.Type(), unsafe.Pointer(v.UnsafeAddr())).Elem()
}

func (f *filler) fill(v reflect.Value) {
	v = settable(v)
	t := v.Type()
	switch t {
	case timeType:
		idx, alt := f.leaf()
		tm := time.Date(2020, 1, 1, 0, 0, idx, 0, time.UTC)
		if alt {
			tm = tm.Add(time.Hour)
		}
		v.Set(reflect.ValueOf(tm))
		return
	case locType:
		_, alt := f.leaf()
		loc := time.UTC
		if alt {
			loc = time.FixedZone("X", 3600)
		}
		v.Set(reflect.ValueOf(loc))
		return
	}
	switch t.Kind() {
	case reflect.Bool:
		_, alt := f.leaf()
		v.SetBool(alt)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		idx, alt := f.leaf()
		n := int64(idx%50 + 1)
		if alt {
			n += 60
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		idx, alt := f.leaf()
		n := uint64(idx%50 + 1)
		if alt {
			n += 60
		}
		v.SetUint(n)
	case reflect.Float32, reflect.Float64:
		idx, alt := f.leaf()
		x := float64(idx) + 0.5
		if alt {
			x++
		}
		v.SetFloat(x)
	case reflect.String:
		idx, alt := f.leaf()
		s := fmt.Sprint("s", idx)
		if alt {
			s += "x"
		}
		v.SetString(s)
	case reflect.Struct:
		for i := range t.NumField() {
			f.path = append(f.path, t.Field(i).Name)
			f.fill(v.Field(i))
			f.path = f.path[:len(f.path)-1]
		}
	case reflect.Array:
		for i := range v.Len() {
			f.fill(v.Index(i))
		}
	case reflect.Slice:
		s := reflect.MakeSlice(t, 1, 1)
		f.fill(s.Index(0))
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMapWithSize(t, 1)
		k := reflect.New(t.Key()).Elem()
		f.fill(k)
		e := reflect.New(t.Elem()).Elem()
		f.fill(e)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Interface:
		if t.NumMethod() != 0 {
			f.t.Errorf("%v: no filler for the interface %v", f.path, t)
			return
		}
		idx, alt := f.leaf()
		s := fmt.Sprint("any", idx)
		if alt {
			s += "x"
		}
		v.Set(reflect.ValueOf(s))
	case reflect.Pointer:
		if f.onPath[t.Elem()] || t.Implements(keyDigesterType) {
			// a keyDigester says its own digest: TestPostBodyKey and
			// posts' TestBodyDigest test what it covers
			return
		}
		f.onPath[t.Elem()] = true
		p := reflect.New(t.Elem())
		f.fill(p.Elem())
		delete(f.onPath, t.Elem())
		v.Set(p)
	case reflect.Func, reflect.Chan:
	default:
		f.t.Errorf("%v: no filler for %v", f.path, t)
	}
}

// filledPage is a Page with every field set, leaf target changed; it also
// returns the number of leaves and their names.
func filledPage(t *testing.T, target int) (*Page, int, []string) {
	f := &filler{t: t, target: target, onPath: map[reflect.Type]bool{}}
	pg := &Page{}
	f.onPath[reflect.TypeFor[Page]()] = true
	f.fill(reflect.ValueOf(pg).Elem())
	return pg, f.n, f.names
}

func keyOf(t *testing.T, vs ...any) Key {
	t.Helper()
	k, ok := newDataHasher().sum(vs...)
	if !ok {
		t.Fatalf("%v cannot be hashed", vs)
	}
	return k
}

// TestKeyCoversEveryField changes every field reachable from a Page
// (PostData, posts.Post, SiteData, SectionData, PageData, … exported or
// not), one at a time, and wants the key to change: a field added later is
// covered without a change to the hasher or this test.
func TestKeyCoversEveryField(t *testing.T) {
	base, n, names := filledPage(t, -1)
	again, _, _ := filledPage(t, -1)
	k := keyOf(t, base)
	if keyOf(t, again) != k {
		t.Fatal("two equal pages have different keys")
	}
	if n < 100 {
		t.Fatalf("only %d fields reached from Page", n)
	}
	for i := range n {
		pg, _, _ := filledPage(t, i)
		if keyOf(t, pg) == k {
			t.Errorf("changing %s leaves the key as it is", names[i])
		}
	}
	t.Logf("%d fields checked", n)
}

func TestKeyDetails(t *testing.T) {
	at := time.Date(2026, 6, 14, 12, 0, 0, 0, time.UTC)
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	if keyOf(t, at) == keyOf(t, at.In(ny)) {
		t.Error("the same instant in another zone has the same key")
	}
	if keyOf(t, at) != keyOf(t, at.Add(time.Hour).Add(-time.Hour)) {
		t.Error("equal times have different keys")
	}
	type m = map[string]any
	if keyOf(t, m{"a": 1, "b": 2}) != keyOf(t, m{"b": 2, "a": 1}) {
		t.Error("equal maps have different keys")
	}
	if keyOf(t, m{"ab": "c"}) == keyOf(t, m{"a": "bc"}) || keyOf(t, m{"a": m{"b": 1}}) == keyOf(t, m{"a": m{"b": 2}}) ||
		keyOf(t, m{"a": 1}) == keyOf(t, m{"a": 1, "b": nil}) || keyOf(t, m{"a": "1"}) == keyOf(t, m{"a": 1}) {
		t.Error("maps with other keys or values have the same key")
	}
	if keyOf(t, map[int]string{1: "a", 2: "b"}) != keyOf(t, map[int]string{2: "b", 1: "a"}) ||
		keyOf(t, map[int]string{1: "a", 2: "b"}) == keyOf(t, map[int]string{1: "b", 2: "a"}) {
		t.Error("maps not keyed by text are keyed by their order, or not by their entries")
	}
	if keyOf(t, []string{"ab", "c"}) == keyOf(t, []string{"a", "bc"}) {
		t.Error("the strings' boundaries are not in the key")
	}
	if keyOf(t, (*PostData)(nil)) == keyOf(t, &PostData{}) {
		t.Error("nil and an empty post have the same key")
	}
	if keyOf(t, struct{ V any }{int64(1)}) == keyOf(t, struct{ V any }{uint64(1)}) {
		t.Error("an interface's dynamic type is not in the key")
	}
	// A long string is digested once and shared, and still by content.
	long := string(make([]byte, 4*longString))
	h := newDataHasher()
	k1, _ := h.sum(long)
	k2, _ := h.sum(string(make([]byte, 4*longString)))
	k3, _ := h.sum(long[:len(long)-1] + "x")
	if k1 != k2 || k1 == k3 {
		t.Error("long strings are not keyed by their content")
	}
	// Something the hasher cannot see into makes no key.
	if _, ok := newDataHasher().sum(struct{ F func() }{F: func() {}}); ok {
		t.Error("a func was hashed")
	}
	if _, ok := newDataHasher().sum(struct{ F func() }{}); !ok {
		t.Error("a nil func cannot be hashed")
	}
}

// Posts that list each other (PostData.Related) are hashed through the
// cycle: a change on the far side changes the key, and equal cycles have
// equal keys whichever post the hasher meets first.
func TestKeyCycles(t *testing.T) {
	pair := func(body string) (*PostData, *PostData) {
		a := &PostData{Title: "A", body: eagerBody("a")}
		b := &PostData{Title: "B", body: eagerBody(template.HTML(body))}
		a.Related, b.Related = []*PostData{b}, []*PostData{a}
		return a, b
	}
	a1, b1 := pair("b")
	a2, b2 := pair("b")
	a3, _ := pair("b, edited")
	if keyOf(t, a1) != keyOf(t, a2) {
		t.Error("equal cycles have different keys")
	}
	if keyOf(t, a1) == keyOf(t, a3) {
		t.Error("a change across the cycle leaves the key as it is")
	}
	h1, h2 := newDataHasher(), newDataHasher()
	h1.sum(a1)
	k1, _ := h1.sum(&Page{Newer: a1, Older: b1})
	h2.sum(a2)
	k2, _ := h2.sum(&Page{Newer: a2, Older: b2})
	if k1 != k2 {
		t.Error("a page of a cycle has a different key in an equal render")
	}
	if keyOf(t, &Page{Newer: a1, Older: b1}) == keyOf(t, &Page{Newer: b1, Older: a1}) {
		t.Error("swapped neighbours have the same key")
	}
}

// TestKeyOwnFieldsAnyOrder: a post's own fields (all but Related) are
// digested once, on any core and in any order, with the same keys as when
// they are made on the way; Related and every field still count.
func TestKeyOwnFieldsAnyOrder(t *testing.T) {
	ring := func(n int, title0 string) []*PostData {
		ps := make([]*PostData, n)
		for i := range ps {
			ps[i] = &PostData{Title: fmt.Sprint("post ", i), Summary: "s", body: eagerBody("b")}
		}
		ps[0].Title = title0
		for i, p := range ps { // each related to its two neighbours: cycles
			p.Related = []*PostData{ps[(i+1)%n], ps[(i+n-1)%n]}
		}
		return ps
	}
	keys := func(ps []*PostData, own func(h *dataHasher)) []Key {
		h := newDataHasher()
		own(h)
		var ks []Key
		for _, p := range ps {
			k, _ := h.sum(p)
			ks = append(ks, k)
		}
		return ks
	}
	ps := ring(50, "first")
	onTheWay := keys(ps, func(*dataHasher) {})
	backwards := keys(ps, func(h *dataHasher) {
		for i := len(ps) - 1; i >= 0; i-- {
			h.ownOf(ps[i])
		}
	})
	together := keys(ps, func(h *dataHasher) { parallel(len(ps), func(i int) { h.ownOf(ps[i]) }) })
	if !slices.Equal(onTheWay, backwards) || !slices.Equal(onTheWay, together) {
		t.Fatal("the keys depend on when the posts' own fields were digested")
	}
	retitled := keys(ring(50, "first, retitled"), func(*dataHasher) {})
	for i := range retitled {
		if retitled[i] == onTheWay[i] {
			t.Errorf("post %d: a title across its related posts changed, its key did not", i)
		}
	}
}

// TestPostBodyKey: the key of a post's lazy body changes with the post's
// body, its page, its cover, and the entry of every image it shows, and
// not with an image it does not show; the body it makes is responsiveBody's.
func TestPostBodyKey(t *testing.T) {
	imgs := func() map[string]*imageEntry {
		return map[string]*imageEntry{
			"posts/a/one.png": {width: 800, height: 600, srcset: "/posts/a/one-480.png 480w"},
			"other.png":       {width: 10, height: 10},
		}
	}
	post := func(html string) *posts.Post {
		p := &posts.Post{}
		p.SetBody(html, "text")
		return p
	}
	html := `<p><img src="one.png" alt="one"> and <img src="/missing.png" alt="none"></p>`
	key := func(b *build, p *posts.Post, page string, cover bool) Key {
		return b.postBody(p, page, cover).KeyDigest()
	}
	base := &build{imgs: imgs(), base: "/", keyer: newDataHasher()}
	k := key(base, post(html), "posts/a/", false)
	if key(&build{imgs: imgs(), base: "/", keyer: newDataHasher()}, post(html), "posts/a/", false) != k {
		t.Fatal("equal bodies have different keys")
	}
	changed := imgs()
	changed["posts/a/one.png"].srcset += ", /posts/a/one-960.png 960w"
	unrelated := imgs()
	unrelated["other.png"].width = 20
	for name, k2 := range map[string]Key{
		"body":           key(base, post(html+"<p>more</p>"), "posts/a/", false),
		"page":           key(base, post(html), "posts/b/", false),
		"cover":          key(base, post(html), "posts/a/", true),
		"image it shows": key(&build{imgs: changed, base: "/", keyer: newDataHasher()}, post(html), "posts/a/", false),
	} {
		if k2 == k {
			t.Errorf("a change of %s leaves the body's key as it is", name)
		}
	}
	if key(&build{imgs: unrelated, base: "/", keyer: newDataHasher()}, post(html), "posts/a/", false) != k {
		t.Error("an image the post does not show changed its body's key")
	}
	p := post(html)
	if got, want := base.postBody(p, "posts/a/", false).get(), base.responsiveBody(template.HTML(html), "posts/a/", false); got != want {
		t.Errorf("lazy body %q, want %q", got, want)
	}
}

// BenchmarkOwnDigests is the posts' own digests of an edit (keyPosts'
// first step) on the Rust blog, on one goroutine: the reflection walk of
// every PostData and the posts.Post it points to.
func BenchmarkOwnDigests(b *testing.B) {
	site, err := posts.Load(b.Context(), zolaContent(b, "https://blog.rust-lang.org/"), posts.Options{Now: fixedNow})
	if err != nil {
		b.Fatal(err)
	}
	r, err := New(nil)
	if err != nil {
		b.Fatal(err)
	}
	bd := preparedBuild(b, site)
	b.ReportAllocs()
	for b.Loop() {
		d := newDataHasher()
		d.masks = r.masks
		for _, p := range bd.posts {
			d.ownOf(p)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(bd.posts)), "µs/post")
}

// TestKeptInPreviousOrder: Kept is sorted whether it is made in the order
// of PreviousPaths or, without them (or with paths that are not
// Previous's), sorted; a file made again is in Files and not in Kept.
func TestKeptInPreviousOrder(t *testing.T) {
	r, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	site := handSite(40)
	first, err := r.Render(t.Context(), site, nil, Options{Keys: true})
	if err != nil {
		t.Fatal(err)
	}
	site.Posts[3].Title += "!"
	paths := slices.Sorted(maps.Keys(first.Keys))
	reversed := slices.Clone(paths)
	slices.Reverse(reversed)
	var kept []string
	for i, o := range []Options{
		{Previous: first.Keys},
		{Previous: first.Keys, PreviousPaths: paths},
		{Previous: first.Keys, PreviousPaths: paths[1:]},                             // not Previous's: sorted
		{Previous: first.Keys, PreviousPaths: append(slices.Clone(paths[1:]), "zz")}, // same length, one not there
		{Previous: first.Keys, PreviousPaths: reversed},                              // not in order: sorted
	} {
		out, err := r.Render(t.Context(), site, nil, o)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.IsSorted(out.Kept) {
			t.Errorf("render %d: Kept is not sorted", i)
		}
		if len(out.Files) == 0 || len(out.Kept) == 0 {
			t.Fatalf("render %d: %d files made, %d kept", i, len(out.Files), len(out.Kept))
		}
		for _, p := range out.Kept {
			if _, ok := out.Files[p]; ok {
				t.Errorf("render %d: %s is both made and kept", i, p)
			}
		}
		if i == 0 {
			kept = out.Kept
		} else if !slices.Equal(out.Kept, kept) {
			t.Errorf("render %d keeps %d files, the render without paths %d", i, len(out.Kept), len(kept))
		}
	}
}
