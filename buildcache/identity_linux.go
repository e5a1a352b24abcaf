package buildcache

import (
	"fmt"
	"os"
	"syscall"
)

// fileIdentity names the file at path as it is now: its path, device,
// inode, size, and modification and change times. Replacing or rewriting
// the file changes it (the change time cannot be set back), so a memo
// under it describes these bytes. "" when there is no such identity.
func fileIdentity(path string, fi os.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	return fmt.Sprintf("%s %d %d %d %d.%09d %d.%09d", path, st.Dev, st.Ino, st.Size,
		st.Mtim.Sec, st.Mtim.Nsec, st.Ctim.Sec, st.Ctim.Nsec)
}
