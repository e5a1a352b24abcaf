package buildcache

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"
)

func key(s string) [32]byte { return sha256.Sum256([]byte(s)) }

func open(t *testing.T, dir string, opts Options) *Cache {
	t.Helper()
	c, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	<-c.ready // the tests look at packs and index
	return c
}

func packs(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "packs-v1", "*.pack"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestPutGetSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir, Options{Version: "v1"})
	c.Put(key("a"), []byte("alpha"))
	if v, ok := c.Get(key("a")); !ok || string(v) != "alpha" {
		t.Fatalf("before flush: %q %v", v, ok)
	}
	if _, ok := c.Get(key("b")); ok {
		t.Fatal("a missing key was found")
	}
	c.Close()
	c2 := open(t, dir, Options{Version: "v1"})
	if v, ok := c2.Get(key("a")); !ok || string(v) != "alpha" {
		t.Fatalf("after restart: %q %v", v, ok)
	}
	c3 := open(t, dir, Options{Version: "v2"})
	if _, ok := c3.Get(key("a")); ok {
		t.Fatal("another version read the value")
	}
}

// TestDamagedPacks: a truncated, corrupted or foreign pack is discarded
// with a log line, its values are misses, and the cache goes on working.
func TestDamagedPacks(t *testing.T) {
	damage := map[string]func([]byte) []byte{
		"truncated":        func(b []byte) []byte { return b[:len(b)-3] },
		"truncated header": func(b []byte) []byte { return b[:10] },
		"flipped value":    func(b []byte) []byte { b[len(b)-1] ^= 0xff; return b },
		"flipped length":   func(b []byte) []byte { b[40] ^= 0x01; return b },
		"foreign": func(b []byte) []byte {
			return []byte("not a pack at all, but long enough to have a header of sorts....................................")
		},
		"empty value hash": func(b []byte) []byte { b[50] ^= 0x10; return b },
	}
	for name, f := range damage {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			c := open(t, dir, Options{})
			c.Put(key("a"), []byte(strings.Repeat("alpha ", 20)))
			c.Close()
			p := packs(t, dir)[0]
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, f(b), 0o644); err != nil {
				t.Fatal(err)
			}
			lg, hook := test.NewNullLogger()
			c2 := open(t, dir, Options{Log: logrus.NewEntry(lg)})
			if v, ok := c2.Get(key("a")); ok {
				t.Fatalf("a damaged value was read: %q", v)
			}
			if len(hook.AllEntries()) == 0 || !strings.Contains(hook.LastEntry().Message, "damaged, discarded") {
				t.Errorf("no log line for the damaged pack: %v", hook.AllEntries())
			}
			if _, err := os.Stat(p); !os.IsNotExist(err) {
				t.Errorf("the damaged pack is still there: %v", err)
			}
			c2.Put(key("a"), []byte("again"))
			c2.Flush()
			if v, ok := c2.Get(key("a")); !ok || string(v) != "again" {
				t.Errorf("after the damage: %q %v", v, ok)
			}
		})
	}
}

// TestDamagedWhileOpen: a pack damaged after Open is caught on Get.
func TestDamagedWhileOpen(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir, Options{})
	c.Put(key("a"), []byte("alpha alpha"))
	c.Flush()
	p := packs(t, dir)[0]
	b, _ := os.ReadFile(p)
	b[len(b)-2] ^= 0x55
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt(b, 0)
	f.Close()
	if v, ok := c.Get(key("a")); ok {
		t.Fatalf("a corrupted value was read: %q", v)
	}
}

// TestTruncatedWhileOpen: a pack cut short after Open (another process,
// a full disk) is a miss and a log line, not a crash: it reads short.
func TestTruncatedWhileOpen(t *testing.T) {
	dir := t.TempDir()
	lg, hook := test.NewNullLogger()
	c := open(t, dir, Options{Log: logrus.NewEntry(lg)})
	big := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB: pages past the cut
	c.Put(key("a"), big)
	c.Put(key("b"), []byte("beta"))
	c.Flush()
	p := packs(t, dir)[0]
	if err := os.Truncate(p, 100); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b"} {
		if v, ok := c.Get(key(k)); ok && !(k == "b" && string(v) == "beta") {
			t.Fatalf("%s: a truncated value was read (%d bytes)", k, len(v))
		}
	}
	if len(hook.AllEntries()) == 0 || !strings.Contains(hook.LastEntry().Message, "damaged, discarded") {
		t.Errorf("no log line for the truncated pack: %v", hook.AllEntries())
	}
	c.Put(key("a"), []byte("again"))
	c.Flush()
	if v, ok := c.Get(key("a")); !ok || string(v) != "again" {
		t.Errorf("after the damage: %q %v", v, ok)
	}
}

// BenchmarkGet reads cached values of the size of a cached post, as a
// build of a big blog does once per post.
func BenchmarkGet(b *testing.B) {
	dir := b.TempDir()
	c, err := Open(dir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	const n = 4096
	val := bytes.Repeat([]byte("<p>cached post body</p>\n"), 400) // ≈10 KB
	for i := range n {
		c.Put(key(fmt.Sprint(i)), val)
	}
	c.Close()
	c, err = Open(dir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.SetBytes(int64(len(val)))
	b.ResetTimer()
	for i := range b.N {
		if _, ok := c.Get(key(fmt.Sprint(i % n))); !ok {
			b.Fatal("miss")
		}
	}
}

// TestEvictsLeastRecentlyUsed: over the cap, the pack used longest ago goes.
func TestEvictsLeastRecentlyUsed(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := open(t, dir, Options{MaxBytes: 3000})
	c.now = func() time.Time { return now }
	value := bytes.Repeat([]byte("x"), 900)
	for _, k := range []string{"old", "used", "new"} {
		c.Put(key(k), value)
		c.Flush()
		now = now.Add(time.Hour)
	}
	if _, ok := c.Get(key("used")); !ok { // renews "used"
		t.Fatal("used is missing")
	}
	now = now.Add(time.Hour)
	c.Put(key("newest"), value)
	c.Flush()
	if _, ok := c.Get(key("old")); ok {
		t.Error("the least recently used value was kept")
	}
	for _, k := range []string{"used", "newest"} {
		if _, ok := c.Get(key(k)); !ok {
			t.Errorf("%s was evicted", k)
		}
	}
	var total int64
	for _, p := range packs(t, dir) {
		st, _ := os.Stat(p)
		total += st.Size()
	}
	if total > 3000 {
		t.Errorf("the cache holds %d bytes, over its cap of 3000", total)
	}
}

// TestConcurrent shares one folder between several Caches and goroutines
// (run with -race).
func TestConcurrent(t *testing.T) {
	dir := t.TempDir()
	caches := []*Cache{open(t, dir, Options{MaxBytes: 64 << 10}), open(t, dir, Options{MaxBytes: 64 << 10})}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := caches[g%2]
			for i := range 200 {
				k := fmt.Sprintf("%d-%d", g, i%50)
				want := []byte(strings.Repeat(k, 20))
				if v, ok := c.Get(key(k)); ok && !bytes.Equal(v, want) {
					t.Errorf("%s: wrong value", k)
				}
				c.Put(key(k), want)
				if i%25 == 0 {
					c.Flush()
				}
			}
		}()
	}
	wg.Wait()
}

// TestPutReplaces: the newest value of a key wins, before and after Flush
// and across a restart.
func TestPutReplaces(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir, Options{})
	c.Put(key("k"), []byte("one"))
	c.Put(key("k"), []byte("two"))
	if v, _ := c.Get(key("k")); string(v) != "two" {
		t.Fatalf("pending: %q", v)
	}
	c.Flush()
	c.Put(key("k"), []byte("three"))
	c.Flush()
	if v, _ := c.Get(key("k")); string(v) != "three" {
		t.Fatalf("after flush: %q", v)
	}
	c.Close()
	c2 := open(t, dir, Options{})
	if v, _ := c2.Get(key("k")); string(v) != "three" {
		t.Fatalf("after restart: %q", v)
	}
}

// TestOtherVersionsPacksAreNotRead: a cache leaves unread the packs another
// Version wrote (it could use none of their records) but counts them
// toward its cap, and reads its own again.
func TestOtherVersionsPacksAreNotRead(t *testing.T) {
	dir := t.TempDir()
	old := open(t, dir, Options{Version: "publishbot 1"})
	old.Put(key("a"), []byte("one"))
	old.Flush()
	old.Close()
	now := open(t, dir, Options{Version: "publishbot 2", MaxBytes: 1 << 20})
	if len(now.packs) != 0 || len(now.index) != 0 {
		t.Fatalf("another version's pack was read: %d packs, %d records", len(now.packs), len(now.index))
	}
	if _, ok := now.Get(key("a")); ok {
		t.Fatal("another version's value was read")
	}
	now.Put(key("b"), []byte("two"))
	now.Flush()
	now.Close()
	if again := open(t, dir, Options{Version: "publishbot 1"}); len(again.packs) != 1 {
		t.Fatalf("its own pack: %d packs read", len(again.packs))
	} else if v, ok := again.Get(key("a")); !ok || string(v) != "one" {
		t.Fatalf("its own value: %q %v", v, ok)
	}
	// Over the cap, the unread pack, the oldest, goes.
	dir = t.TempDir()
	old = open(t, dir, Options{Version: "publishbot 1"})
	old.Put(key("a"), []byte("one"))
	old.Flush()
	old.Close()
	full := open(t, dir, Options{Version: "publishbot 2", MaxBytes: 150})
	full.Put(key("b"), []byte("two"))
	full.Flush()
	full.Put(key("c"), []byte("three"))
	full.Flush()
	for _, p := range packs(t, dir) {
		if strings.HasSuffix(p, versionSuffix("publishbot 1")+".pack") {
			t.Errorf("the other version's pack was kept: %s", p)
		}
	}
	if v, ok := full.Get(key("c")); !ok || string(v) != "three" {
		t.Fatalf("after eviction: %q %v", v, ok)
	}
}

// TestPutParts: a value given in parts reads back whole before Flush and
// after a restart, beside values given whole, and a part later damaged on
// disk is caught by the record's checksum like any other.
func TestPutParts(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir, Options{Version: "v1"})
	big := bytes.Repeat([]byte("0123456789"), 100_000) // over the write buffer
	c.PutParts(key("parts"), []byte("head|"), big[:500_000], nil, []byte("|mid|"), big[500_000:])
	c.Put(key("whole"), []byte("whole value"))
	c.PutParts(key("none"))
	want := string("head|") + string(big[:500_000]) + "|mid|" + string(big[500_000:])
	check := func(c *Cache, when string) {
		t.Helper()
		if v, ok := c.Get(key("parts")); !ok || string(v) != want {
			t.Fatalf("%s: parts read back as %d bytes (%v), want %d", when, len(v), ok, len(want))
		}
		if v, ok := c.Get(key("whole")); !ok || string(v) != "whole value" {
			t.Fatalf("%s: whole: %q %v", when, v, ok)
		}
		if v, ok := c.Get(key("none")); !ok || len(v) != 0 {
			t.Fatalf("%s: no parts: %q %v", when, v, ok)
		}
	}
	check(c, "before flush")
	c.Close()
	check(open(t, dir, Options{Version: "v1"}), "after restart")

	ps := packs(t, dir)
	if len(ps) != 1 {
		t.Fatalf("%d packs, want 1", len(ps))
	}
	b, err := os.ReadFile(ps[0])
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte("|mid|"))
	b[i+1] = 'M'
	if err := os.WriteFile(ps[0], b, 0o600); err != nil {
		t.Fatal(err)
	}
	if v, ok := open(t, dir, Options{Version: "v1"}).Get(key("parts")); ok {
		t.Fatalf("a damaged value was read (%d bytes)", len(v))
	}
}

// TestUseRightAfterOpen: Open returns before the packs' indexes are read;
// Gets, Has and Puts from several goroutines right away see every value
// the packs hold (run with -race).
func TestUseRightAfterOpen(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir, Options{Version: "v1"})
	for i := range 200 {
		c.Put(key(fmt.Sprint(i)), []byte(fmt.Sprint("value ", i)))
		if i%50 == 49 {
			c.Flush() // several packs
		}
	}
	c.Close()
	c2, err := Open(dir, Options{Version: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := g; i < 200; i += 4 {
				if v, ok := c2.Get(key(fmt.Sprint(i))); !ok || string(v) != fmt.Sprint("value ", i) {
					t.Errorf("value %d: %q %v", i, v, ok)
				}
				if !c2.Has(key(fmt.Sprint(i))) {
					t.Errorf("Has %d: false", i)
				}
				c2.Put(key(fmt.Sprint("new ", i)), []byte("x"))
			}
		})
	}
	wg.Wait()
}

// TestReadBackWhatWasPut: a value Put is found by Get until Close, while
// other goroutines Flush (the values being written are read from memory)
// and after its pack is written, even when the build puts more than the
// cap: a build may drop what it rendered and read it back later.
func TestReadBackWhatWasPut(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir, Options{MaxBytes: 4 << 10})
	value := func(i int) []byte { return []byte(strings.Repeat(fmt.Sprint(i), 300)) }
	done := make(chan struct{})
	var flushes sync.WaitGroup
	flushes.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
				c.Flush()
			}
		}
	})
	for i := range 2000 {
		c.Put(key(fmt.Sprint(i)), value(i))
		if v, ok := c.Get(key(fmt.Sprint(i))); !ok || !bytes.Equal(v, value(i)) {
			t.Fatalf("value %d read back right after Put: %v", i, ok)
		}
	}
	close(done)
	flushes.Wait()
	c.Flush()
	for i := range 2000 {
		if v, ok := c.Get(key(fmt.Sprint(i))); !ok || !bytes.Equal(v, value(i)) {
			t.Fatalf("value %d read back after the flushes: %v", i, ok)
		}
	}
	// Once they are old, the cap holds again.
	c.now = func() time.Time { return time.Now().Add(2 * readBack) }
	c.Put(key("later"), value(1))
	c.Flush()
	var total int64
	for _, p := range packs(t, dir) {
		st, _ := os.Stat(p)
		total += st.Size()
	}
	if total > 4<<10 {
		t.Errorf("the cache holds %d bytes once its packs are old, over its cap of %d", total, 4<<10)
	}
	if _, ok := c.Get(key("later")); !ok {
		t.Error("the newest value was evicted")
	}
}

// TestFailedFlushKeepsValues: values whose pack cannot be written are
// logged once and still read back by this Cache for a while (not written
// again at every Put); a later value Put under the same key and written
// wins.
func TestFailedFlushKeepsValues(t *testing.T) {
	dir := t.TempDir()
	log, hook := test.NewNullLogger()
	c := open(t, dir, Options{Log: logrus.NewEntry(log)})
	c.Put(key("a"), []byte("one"))
	c.Put(key("b"), []byte("two"))
	// the packs folder becomes a file: nothing can be written in it
	if err := os.RemoveAll(c.dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.dir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	c.Flush()
	if len(hook.AllEntries()) != 1 {
		t.Fatalf("log lines: %v", hook.AllEntries())
	}
	for k, want := range map[string]string{"a": "one", "b": "two"} {
		if v, ok := c.Get(key(k)); !ok || string(v) != want {
			t.Errorf("%s after a failed flush: %q %v", k, v, ok)
		}
	}
	// A later failed Flush drops what failed long before: a process on a
	// full disk does not keep every build's values.
	c.now = func() time.Time { return time.Now().Add(2 * readBack) }
	c.Put(key("c"), []byte("three"))
	c.Flush()
	if _, ok := c.Get(key("a")); ok {
		t.Error("a value that failed to be written long ago is still kept")
	}
	if v, ok := c.Get(key("c")); !ok || string(v) != "three" {
		t.Errorf("c after a failed flush: %q %v", v, ok)
	}
	c.now = time.Now
	os.Remove(c.dir)
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	c.Put(key("a"), []byte("newer"))
	c.Flush()
	if v, ok := c.Get(key("a")); !ok || string(v) != "newer" {
		t.Errorf("a after it was written again: %q %v", v, ok)
	}
	c.Close()
	c2 := open(t, dir, Options{})
	if _, ok := c2.Get(key("b")); ok {
		t.Error("a value never written was found by another Cache")
	}
	if v, ok := c2.Get(key("a")); !ok || string(v) != "newer" {
		t.Errorf("a in a new Cache: %q %v", v, ok)
	}
}

// TestGetMany: GetMany gives what Get gives, for every kind of key at once
// (in packs written at different times, one read per neighbourhood; just
// Put; missing; asked twice), each found key once per time it is asked.
func TestGetMany(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir, Options{Version: "v1"})
	val := func(i int) []byte {
		if i%7 == 0 { // a large value among the small ones
			return bytes.Repeat([]byte{byte('a' + i%26)}, 3*batchGap+i)
		}
		return []byte(strings.Repeat(fmt.Sprint(i, ";"), i%50+1))
	}
	const n = 3000
	for i := range n {
		c.Put(key(fmt.Sprint(i)), val(i))
		if i == n/2 {
			c.Flush()
		}
	}
	c.Flush()
	c.Put(key("pending"), []byte("not flushed"))
	c.Close()
	c = open(t, dir, Options{Version: "v1"})
	c.Put(key("pending"), []byte("not flushed"))

	var keys [][32]byte
	want := map[int]string{}
	for i := n - 1; i >= 0; i -= 2 { // every other one, in no pack's order
		want[len(keys)] = string(val(i))
		keys = append(keys, key(fmt.Sprint(i)))
	}
	want[len(keys)] = "not flushed"
	keys = append(keys, key("pending"))
	keys = append(keys, key("missing"))
	want[len(keys)] = string(val(5))
	keys = append(keys, key(fmt.Sprint(5))) // asked twice
	want[len(keys)] = string(val(5))
	keys = append(keys, key(fmt.Sprint(5)))

	seen := map[int]int{}
	c.GetMany(keys, func(i int, v []byte) {
		seen[i]++
		if string(v) != want[i] {
			t.Errorf("key %d: %d bytes %.20q, want %d bytes %.20q", i, len(v), v, len(want[i]), want[i])
		}
	})
	for i := range keys {
		_, found := want[i]
		if found && seen[i] != 1 || !found && seen[i] != 0 {
			t.Errorf("key %d given %d times (found: %v)", i, seen[i], found)
		}
	}
}

// TestGetManyDamaged: a corrupted record among those one read brings
// gives no value of its own and discards its pack, with a log line; the
// values given are right.
func TestGetManyDamaged(t *testing.T) {
	dir := t.TempDir()
	lg, hook := test.NewNullLogger()
	c := open(t, dir, Options{Log: logrus.NewEntry(lg)})
	for i := range 100 {
		c.Put(key(fmt.Sprint(i)), []byte(fmt.Sprint("value ", i)))
	}
	c.Flush()
	p := packs(t, dir)[0]
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte("value 42"))
	b[i+len("value ")] ^= 0x20
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	c.Close()
	c = open(t, dir, Options{Log: logrus.NewEntry(lg)})
	var keys [][32]byte
	for i := range 100 {
		keys = append(keys, key(fmt.Sprint(i)))
	}
	c.GetMany(keys, func(i int, v []byte) {
		if string(v) != fmt.Sprint("value ", i) {
			t.Errorf("key %d: %q", i, v)
		}
	})
	if len(hook.AllEntries()) == 0 || !strings.Contains(hook.LastEntry().Message, "damaged, discarded") {
		t.Errorf("no log line for the damaged pack: %v", hook.AllEntries())
	}
	if _, ok := c.Get(key("41")); ok {
		t.Error("the damaged pack is still read")
	}
}

// BenchmarkGetMany reads the small values of a build, as a one-post
// publish of a big blog reads every post's front matter and render facts:
// with GetMany, and with a Get each (b.Run "get").
func BenchmarkGetMany(b *testing.B) {
	dir := b.TempDir()
	c, err := Open(dir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	const n = 20000
	small := bytes.Repeat([]byte("title: a post\n"), 60) // ≈800 bytes
	body := bytes.Repeat([]byte("<p>cached post body</p>\n"), 400)
	keys := make([][32]byte, n)
	for i := range n {
		keys[i] = key(fmt.Sprint(i))
		c.Put(keys[i], small)
		c.Put(key(fmt.Sprint("body", i)), body)
	}
	c.Close()
	c, err = Open(dir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.Run("many", func(b *testing.B) {
		b.SetBytes(int64(n * len(small)))
		for range b.N {
			got := 0
			c.GetMany(keys, func(int, []byte) { got++ })
			if got != n {
				b.Fatal("misses")
			}
		}
	})
	b.Run("get", func(b *testing.B) {
		b.SetBytes(int64(n * len(small)))
		for range b.N {
			for _, k := range keys {
				if _, ok := c.Get(k); !ok {
					b.Fatal("miss")
				}
			}
		}
	})
}
