//go:build unix

package buildcache

import (
	"os"
	"syscall"
)

// mapFile maps a pack read-only, so that a Get is a copy from memory
// rather than a read system call (one per cached post adds up: a build of
// thousands of posts reads thousands of records). nil when it cannot be
// mapped; Get then reads the file.
func mapFile(f *os.File, size int64) []byte {
	if size <= 0 || int64(int(size)) != size {
		return nil
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil
	}
	return b
}

func unmapFile(b []byte) {
	if b != nil {
		syscall.Munmap(b)
	}
}
