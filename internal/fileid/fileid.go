// Package fileid names a file as it is on disk, from its metadata alone:
// a memo of what was read from the file (a checksum of an executable, of
// a post) stays good while the name does.
package fileid
