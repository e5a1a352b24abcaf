package fileid

import (
	"fmt"
	"io/fs"
	"syscall"
	"time"
)

// Identity names the file at path as it is now: its path, device, inode,
// size, and modification and change times. Replacing or rewriting the
// file changes it (the change time cannot be set back), though only as
// finely as the file system keeps times: see Changed. "" when there is
// no such identity.
func Identity(path string, fi fs.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	return fmt.Sprintf("%s %d %d %d %d.%09d %d.%09d", path, st.Dev, st.Ino, st.Size,
		st.Mtim.Sec, st.Mtim.Nsec, st.Ctim.Sec, st.Ctim.Nsec)
}

// Changed is the later of the file's modification and change times; the
// zero time when they are not known. A file read less than a second after
// it changed may change again without its Identity changing (times are
// kept a clock tick at a time), so a memo of it is not to be trusted.
func Changed(fi fs.FileInfo) time.Time {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return time.Time{}
	}
	m, c := time.Unix(st.Mtim.Sec, st.Mtim.Nsec), time.Unix(st.Ctim.Sec, st.Ctim.Nsec)
	if c.After(m) {
		return c
	}
	return m
}
