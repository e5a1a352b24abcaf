package site

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/publishbot/publishbot/templates"
)

// A folder build's record of its files' input keys and sizes, for the next
// build of the same content folder into the same output folder with the
// same options (the `build` command): a file whose key did not change is
// in the output folder already, as that build wrote it, and is kept there
// (Output.Kept, WriteKeeping) instead of being made and written again.

const keysMagic = "pbfolderkeys1\n"

// keysKey names the record of the keys of builds of dir into out.
func keysKey(dir, out string, opts Options) ([32]byte, error) {
	return recordKey("site-keys-1", dir, out, opts)
}

// LastBuild is what the last build of dir into out with opts recorded
// (RememberBuild): the keys and sizes of its files that are still in out
// as it wrote them (regular files of the recorded size). ok is false when
// there is nothing to trust: no record, a damaged one, or another build
// wrote into out since.
func LastBuild(store Store, dir, out string, opts Options) (prev Previous, ok bool) {
	key, err := keysKey(dir, out, opts)
	if err != nil {
		return Previous{}, false
	}
	data, found := store.Get(key)
	if !found {
		return Previous{}, false
	}
	output, paths, keys, sizes, err := decodeKeys(data)
	if err != nil {
		return Previous{}, false
	}
	if now, err := outputFingerprint(out); err != nil || now != output {
		return Previous{}, false
	}
	root, err := os.OpenRoot(out)
	if err != nil {
		return Previous{}, false
	}
	defer root.Close()
	// a file taken out or changed by hand is made again; the files are
	// looked at on every core (21,052 at 6,629 posts: a system call for
	// each folder on the way, 0.5 s on one)
	intact := make([]bool, len(paths))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(paths) {
					return
				}
				info, err := root.Lstat(paths[i])
				intact[i] = err == nil && info.Mode().IsRegular() && info.Size() == sizes[i]
			}
		})
	}
	wg.Wait()
	km := make(templates.KeyMap, len(paths))
	sized := make(map[string]int64, len(paths))
	there := make([]string, 0, len(paths))
	for i, p := range paths {
		if intact[i] {
			km[p], sized[p] = keys[i], sizes[i]
			there = append(there, p)
		}
	}
	return Previous{Keys: km, Paths: there, Size: func(p string) int64 { return sized[p] }}, true
}

// RememberBuild records the keys and sizes of the files of b, written
// into out (WriteKeeping) by a build of dir with opts; prev is what the
// build kept files from (their sizes).
func RememberBuild(store Store, dir, out string, opts Options, b *Output, prev Previous) error {
	key, err := keysKey(dir, out, opts)
	if err != nil {
		return err
	}
	output, err := outputFingerprint(out)
	if err != nil {
		return fmt.Errorf("remember build keys: %w", err)
	}
	kept := make(map[string]bool, len(b.Kept))
	for _, p := range b.Kept {
		kept[p] = true
	}
	paths := make([]string, 0, len(b.Keys))
	for p := range b.Keys {
		if _, made := b.Files[p]; made || kept[p] {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	buf := make([]byte, 0, len(keysMagic)+32+len(paths)*80)
	buf = append(buf, keysMagic...)
	buf = append(buf, output[:]...)
	buf = binary.AppendUvarint(buf, uint64(len(paths)))
	for _, p := range paths {
		size := int64(len(b.Files[p]))
		if kept[p] {
			size = prev.Size(p)
		}
		k := b.Keys[p]
		buf = binary.AppendUvarint(buf, uint64(len(p)))
		buf = append(buf, p...)
		buf = append(buf, k[:]...)
		buf = binary.AppendUvarint(buf, uint64(size))
	}
	store.Put(key, buf)
	return nil
}

var errDamagedKeys = errors.New("damaged build keys")

// decodeKeys reads what RememberBuild wrote; anything else is an error.
func decodeKeys(data []byte) (output [32]byte, paths []string, keys []templates.Key, sizes []int64, err error) {
	rest, ok := bytes.CutPrefix(data, []byte(keysMagic))
	if !ok || len(rest) < 32 {
		return output, nil, nil, nil, errDamagedKeys
	}
	copy(output[:], rest)
	rest = rest[32:]
	uvarint := func() (uint64, bool) {
		v, n := binary.Uvarint(rest)
		if n <= 0 {
			return 0, false
		}
		rest = rest[n:]
		return v, true
	}
	n, ok := uvarint()
	if !ok || n > uint64(len(rest)/34) {
		return output, nil, nil, nil, errDamagedKeys
	}
	paths, keys, sizes = make([]string, 0, n), make([]templates.Key, 0, n), make([]int64, 0, n)
	for range n {
		l, ok := uvarint()
		if !ok || l > uint64(len(rest)) {
			return output, nil, nil, nil, errDamagedKeys
		}
		p := string(rest[:l])
		rest = rest[l:]
		if !fs.ValidPath(p) || p == "." || p == Manifest || len(paths) > 0 && p <= paths[len(paths)-1] || len(rest) < 32 {
			return output, nil, nil, nil, errDamagedKeys
		}
		var k templates.Key
		copy(k[:], rest)
		rest = rest[32:]
		size, ok := uvarint()
		if !ok || size > 1<<40 {
			return output, nil, nil, nil, errDamagedKeys
		}
		paths, keys, sizes = append(paths, p), append(keys, k), append(sizes, int64(size))
	}
	if len(rest) != 0 {
		return output, nil, nil, nil, errDamagedKeys
	}
	return output, paths, keys, sizes, nil
}
