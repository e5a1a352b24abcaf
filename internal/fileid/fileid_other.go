//go:build !linux

package fileid

import (
	"io/fs"
	"time"
)

// Identity is "" outside Linux: no memo is kept, the file is read every time.
func Identity(path string, fi fs.FileInfo) string { return "" }

// Changed is the zero time outside Linux.
func Changed(fi fs.FileInfo) time.Time { return time.Time{} }
