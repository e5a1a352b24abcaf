package gitstore

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"

	"github.com/publishbot/publishbot/gitserver"
)

// pack builds a pack of entries as they are written.
type testPack struct {
	buf   bytes.Buffer
	count uint32
	zw    *zlib.Writer
}

func newTestPack() *testPack { return &testPack{zw: zlib.NewWriter(nil)} }

func (p *testPack) add(t *testing.T, typ plumbing.ObjectType, base *plumbing.Hash, data []byte) {
	t.Helper()
	if err := writeEntry(&p.buf, p.zw, typ, base, data); err != nil {
		t.Fatal(err)
	}
	p.count++
}

// raw adds an entry whose header claims size, followed by data compressed.
func (p *testPack) raw(typ byte, size uint64, data []byte) {
	b := typ<<4 | byte(size&0x0f)
	size >>= 4
	for size != 0 {
		p.buf.WriteByte(b | 0x80)
		b = byte(size & 0x7f)
		size >>= 7
	}
	p.buf.WriteByte(b)
	switch typ {
	case packREFDelta:
		p.buf.Write(make([]byte, 20)) // the base's name
	case packOFSDelta:
		p.buf.Write([]byte{0x81, 0x00}) // the base's offset, in two bytes
	}
	p.zw.Reset(&p.buf)
	p.zw.Write(data)
	p.zw.Close()
	p.count++
}

func (p *testPack) bytes() []byte {
	var out bytes.Buffer
	out.WriteString("PACK")
	binary.Write(&out, binary.BigEndian, uint32(2))
	binary.Write(&out, binary.BigEndian, p.count)
	out.Write(p.buf.Bytes())
	out.Write(make([]byte, 20)) // the checksum is go-git's to verify
	return out.Bytes()
}

func deltaHeader(src, target uint64) []byte {
	b := binary.AppendUvarint(nil, src)
	return binary.AppendUvarint(b, target)
}

func TestCheckPack(t *testing.T) {
	base := bytes.Repeat([]byte("base line\n"), 100)
	target := append(bytes.Clone(base), "one more line\n"...)
	baseHash := plumbing.ComputeHash(plumbing.BlobObject, base)

	valid := newTestPack()
	valid.add(t, plumbing.BlobObject, nil, base)
	valid.add(t, plumbing.REFDeltaObject, &baseHash, packfile.DiffDelta(base, target))
	valid.add(t, plumbing.CommitObject, nil, []byte("tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\nmsg\n"))
	valid.raw(packOFSDelta, uint64(len(deltaHeader(uint64(len(base)), 900))), deltaHeader(uint64(len(base)), 900))
	for _, tc := range []struct {
		name string
		pack []byte
		max  int64
		want string // "" for no limit error
	}{
		{"within the limit", valid.bytes(), 4096, ""},
		{"a blob over the limit", valid.bytes(), 999, "file size limit exceeded by a file in the fetched history: 1000 > 999"},
		{"a delta's object over the limit", func() []byte {
			p := newTestPack()
			p.add(t, plumbing.BlobObject, nil, []byte("small"))
			p.raw(packREFDelta, 12, deltaHeader(5, 2<<30))
			return p.bytes()
		}(), 1 << 20, "file size limit exceeded by an object in the fetched history: 2147483648 > 1048576"},
		{"a header claiming 2 GiB is refused before its data is read", func() []byte {
			p := newTestPack()
			p.raw(3, 2<<30, []byte("not 2 GiB"))
			return p.bytes()
		}(), 64 << 20, "file size limit exceeded by a file in the fetched history: 2147483648 > 67108864"},
		{"a tree", func() []byte {
			p := newTestPack()
			p.raw(2, 100<<20, nil)
			return p.bytes()
		}(), 64 << 20, "file size limit exceeded by a tree in the fetched history"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkPack(context.Background(), bytes.NewReader(tc.pack), tc.max, nil)
			_, isLimit := errors.AsType[*limitError](err)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !isLimit || !errors.Is(err, ErrPermanent) || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestFetchRefusesLargeObjects: a 256 MiB file of zeros (a few hundred KiB
// on the wire) is refused from its pack header: the fetch fails with the
// file size limit, having allocated far less than the file, and leaves no
// part of the pack in the cache.
func TestFetchRefusesLargeObjects(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("needs sh")
	}
	e := newEnv(t)
	e.commit(gitserver.Change{Ref: "main", Files: map[string]string{"posts/a.md": "a"}})
	const size = 256 << 20
	script := `blob=$(head -c ` + strconv.Itoa(size) + ` /dev/zero | git hash-object -w --stdin) &&
tree=$(printf '100644 blob %s\tzeros.bin\n' "$blob" | git mktree) &&
c=$(git commit-tree -p main -m zeros "$tree") && git update-ref refs/heads/main "$c"`
	cmd := exec.Command("sh", "-c", script)
	cmd.Dir = e.srv.RepoPath(testRepo)
	cmd.Env = append(cmd.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}

	r := e.open(Options{}) // MaxFileBytes: 64 MiB
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := r.Fetch(context.Background(), "refs/heads/main")
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), "file size limit exceeded by a file in the fetched history: 268435456 > 67108864") {
		t.Fatalf("fetch: %v, want the file size limit", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("the refused fetch allocated %d MiB; want far less than the %d MiB file", alloc>>20, size>>20)
	}
	for _, pattern := range []string{"objects/pack/*", "tmp_*"} {
		if tmp, _ := filepath.Glob(filepath.Join(r.dir, pattern)); len(tmp) != 0 {
			t.Errorf("the refused pack left %v in the cache", tmp)
		}
	}
}

// TestFetchRefusesSmallPackOfLargeObject: a pack that arrives in one piece
// is checked whole before go-git reads any of it.
func TestFetchRefusesSmallPackOfLargeObject(t *testing.T) {
	e := newEnv(t)
	e.commit(gitserver.Change{Ref: "main", Files: map[string]string{"posts/a.md": strings.Repeat("x", 300)}})
	e.dir = t.TempDir()
	r := e.open(Options{Limits: Limits{MaxFileBytes: 200}})
	_, err := r.Fetch(context.Background(), "refs/heads/main")
	if !errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), "file size limit exceeded by a file in the fetched history: 300 > 200") {
		t.Fatalf("fetch: %v, want the file size limit", err)
	}
	if r.Has(e.head("main")) {
		t.Error("the refused pack's objects are in the cache")
	}
}

// A pack comes from the remote; checkPack must end on any bytes, with no
// panic, and say nothing but a limit for a pack it can read.
func FuzzCheckPack(f *testing.F) {
	base := bytes.Repeat([]byte("base line\n"), 20)
	p := newTestPack()
	p.add(&testing.T{}, plumbing.BlobObject, nil, base)
	p.raw(packREFDelta, 4, deltaHeader(200, 300))
	p.raw(packOFSDelta, 4, deltaHeader(200, 1<<40))
	f.Add(p.bytes(), int64(1000))
	f.Add([]byte("PACK\x00\x00\x00\x02\x00\x00\x00\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f"), int64(64<<20))
	f.Add([]byte("PACK\x00\x00\x00\x02\xff\xff\xff\xff"), int64(1))
	f.Fuzz(func(t *testing.T, pack []byte, max int64) {
		max = max & (64<<20 - 1) // as MaxFileBytes is: inflating stays bounded

		var entries []packEntry
		err := checkPack(context.Background(), bytes.NewReader(pack), max, &entries)
		if lim, ok := errors.AsType[*limitError](err); ok && lim.got <= lim.max {
			t.Fatalf("limit error within the limit: %v", lim)
		}
		for i, e := range entries {
			// every entry starts after the header and the one before, and
			// a delta's base lies before it
			if e.off < 12 || (i > 0 && e.off <= entries[i-1].off) || e.size < 0 || (e.typ == packOFSDelta && (e.base < -1 || e.base >= e.off)) {
				t.Fatalf("entry %d: %+v", i, e)
			}
		}
	})
}

// writeEntry writes one pack entry (as packs were written before
// writeThinPack compressed its entries on every core): the type-and-size header, the base of a
// REF_DELTA, and the zlib-compressed data.
func writeEntry(w io.Writer, zw *zlib.Writer, typ plumbing.ObjectType, base *plumbing.Hash, data []byte) error {
	var hdr [16 + len(plumbing.Hash{})]byte
	head := appendEntryHeader(hdr[:0], typ, len(data))
	if base != nil {
		head = append(head, base[:]...)
	}
	if _, err := w.Write(head); err != nil {
		return err
	}
	zw.Reset(w)
	if _, err := zw.Write(data); err != nil {
		return err
	}
	return zw.Close()
}
