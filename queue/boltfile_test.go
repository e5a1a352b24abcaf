package queue

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

// damagedQueueFile writes a queue file with n jobs and returns its bytes
// and page size.
func damagedQueueFile(t *testing.T, n int) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "full.db")
	q, err := OpenBolt(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		mustEnqueue(t, q, publish(fmt.Sprintf("acme/r%d", i), fmt.Sprintf("%040d", i)))
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// openSafely opens path with faults turned into panics, so that a file
// bbolt would crash the process on fails this test instead of the binary.
func openSafely(path string) (q *Bolt, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("OpenBolt crashed: %v", r)
		}
	}()
	return OpenBolt(path, Options{})
}

// wantDamaged asserts a clear refusal: ErrDamaged, naming the file and
// saying what to do.
func wantDamaged(t *testing.T, what, path string, err error) {
	t.Helper()
	if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "move it aside") {
		t.Fatalf("%s: OpenBolt = %v; want ErrDamaged, naming the file and saying to move it aside", what, err)
	}
}

// TestOpenTruncated truncates a real queue file at every page boundary and
// in between: a file that still holds every page in use opens with all its
// jobs, any shorter one is refused with a clear error, and none crashes.
func TestOpenTruncated(t *testing.T) {
	const jobs = 300
	full := damagedQueueFile(t, jobs)
	m := decodeMeta(full[boltPageHeader:])
	m1 := decodeMeta(full[int(m.pageSize)+boltPageHeader:])
	if m1.txid > m.txid {
		m = m1
	}
	ps := int(m.pageSize)
	inUse := int(m.pgid) * ps
	dir := t.TempDir()
	// Every cut short of the pages in use, and a few that keep them all.
	sizes := []int{1, 15, 100, 1023, 1024, 2048, inUse, inUse + 1, inUse + ps, len(full) - 1}
	for n := ps; n < inUse; n += ps {
		sizes = append(sizes, n, n-1, n+1, n+ps/2)
	}
	for _, n := range sizes {
		path := filepath.Join(dir, fmt.Sprintf("q-%d.db", n))
		if err := os.WriteFile(path, full[:n], 0o600); err != nil {
			t.Fatal(err)
		}
		q, err := openSafely(path)
		if n >= inUse {
			if err != nil {
				t.Fatalf("truncated to %d bytes, every page in use (%d bytes) kept: %v", n, inUse, err)
			}
			if s, err := q.Stats(t.Context()); err != nil || s.Queued != jobs {
				t.Errorf("truncated to %d bytes: stats %+v, %v; want %d queued", n, s, err, jobs)
			}
			q.Close()
			continue
		}
		wantDamaged(t, fmt.Sprintf("truncated to %d of %d bytes", n, len(full)), path, err)
	}
	// The advice works: moved aside, a new queue starts empty.
	path := filepath.Join(dir, fmt.Sprintf("q-%d.db", ps*3))
	if err := os.Rename(path, path+".damaged"); err != nil {
		t.Fatal(err)
	}
	q := openTest(t, path, Options{})
	mustStats(t, q, Stats{})
}

// TestOpenZeroedOrGarbage: files of zeros, of random bytes, and real queue
// files with their data pages zeroed or overwritten are refused clearly.
func TestOpenZeroedOrGarbage(t *testing.T) {
	full := damagedQueueFile(t, 50)
	ps := int(decodeMeta(full[boltPageHeader:]).pageSize)
	rng := rand.New(rand.NewPCG(1, 2))
	garbage := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	withPages := func(from int, fill func(n int) []byte) []byte {
		b := append([]byte(nil), full...)
		copy(b[from*ps:], fill(len(b)-from*ps))
		return b
	}
	zeros := func(n int) []byte { return make([]byte, n) }
	cases := map[string][]byte{
		"zeros, 4 KiB":            zeros(4096),
		"zeros, 64 KiB":           zeros(65536),
		"zeros, 1 MiB":            zeros(1 << 20),
		"garbage, 4 KiB":          garbage(4096),
		"garbage, 64 KiB":         garbage(65536),
		"garbage, 200 KiB":        garbage(200 << 10),
		"both meta pages zeroed":  append(zeros(2*ps), full[2*ps:]...),
		"both meta pages garbage": append(garbage(2*ps), full[2*ps:]...),
		"data pages zeroed":       withPages(2, zeros),
		"data pages garbage":      withPages(2, garbage),
		"a text file":             []byte(strings.Repeat("not a queue\n", 1000)),
		"a sqlite header":         append([]byte("SQLite format 3\x00"), zeros(8192)...),
	}
	dir := t.TempDir()
	i := 0
	for name, b := range cases {
		i++
		path := filepath.Join(dir, fmt.Sprintf("q%d.db", i))
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		q, err := openSafely(path)
		if err == nil {
			q.Close()
		}
		wantDamaged(t, name, path, err)
	}
}

// TestOpenSurvivesOneBadMeta: bbolt keeps two meta pages so that a torn
// write of one is survivable; the check must not refuse such a file.
func TestOpenSurvivesOneBadMeta(t *testing.T) {
	full := damagedQueueFile(t, 20)
	ps := int(decodeMeta(full[boltPageHeader:]).pageSize)
	for page := range 2 {
		b := append([]byte(nil), full...)
		b[page*ps+boltPageHeader+20] ^= 0xff // inside the meta, so its checksum fails
		path := filepath.Join(t.TempDir(), "q.db")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		q, err := openSafely(path)
		if err != nil {
			t.Fatalf("meta page %d torn: %v", page, err)
		}
		s, err := q.Stats(t.Context())
		if err != nil || s.Queued < 19 {
			t.Errorf("meta page %d torn: stats %+v, %v", page, s, err)
		}
		q.Close()
	}
}

func TestOpenEmptyOrMissingFile(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{empty, filepath.Join(dir, "missing.db")} {
		q := openTest(t, path, Options{})
		mustEnqueue(t, q, publish("acme/a", "x"))
		mustStats(t, q, Stats{Queued: 1})
	}
	if err := checkBoltFile(dir); !errors.Is(err, ErrDamaged) {
		t.Errorf("a folder as the queue file: %v", err)
	}
}

// TestOpenOnePageOverwritten overwrites each page past the meta pages in
// turn with garbage, where the check before opening cannot see it: opening
// either works or is refused as damaged, and never crashes.
func TestOpenOnePageOverwritten(t *testing.T) {
	full := damagedQueueFile(t, 200)
	ps := int(decodeMeta(full[boltPageHeader:]).pageSize)
	rng := rand.New(rand.NewPCG(3, 4))
	dir := t.TempDir()
	refused := 0
	for page := 2; page < len(full)/ps; page++ {
		b := append([]byte(nil), full...)
		for i := page * ps; i < (page+1)*ps; i++ {
			b[i] = byte(rng.Uint32())
		}
		path := filepath.Join(dir, fmt.Sprintf("q-%d.db", page))
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		q, err := openSafely(path)
		if err != nil {
			wantDamaged(t, fmt.Sprintf("page %d overwritten", page), path, err)
			refused++
			continue
		}
		q.Close()
	}
	t.Logf("%d of %d pages refused", refused, len(full)/ps-2)
	if refused == 0 {
		t.Error("no overwritten page was noticed")
	}
}
