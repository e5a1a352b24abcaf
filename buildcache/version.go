package buildcache

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/publishbot/publishbot/internal/fileid"
)

// Version names the running build of the program, for Options.Version: the
// main module's version, and for a build without one (a development
// build, `go run`, a test binary) the commit it was built from with the
// toolchain and build settings when the build information has a clean one;
// otherwise (uncommitted changes, no VCS information) a SHA-256 of the
// executable itself, so that any change to the program's code, embedded
// theme or templates gives another Version. Callers compute it once per
// process.
func Version() string { return VersionIn("") }

// VersionIn is Version, keeping the executable's SHA-256, when it needs
// one, in the folder dir (a build cache's) under the executable's file
// identity (see fileid.Identity): reading a 40 MB executable was an eighth
// of a one-post publish of a 1,000-post blog. "" keeps nothing.
func VersionIn(dir string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return withExecutable("unknown", dir)
	}
	v := bi.Main.Path + "@" + bi.Main.Version
	if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return v
	}
	clean, settings := false, ""
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v += "+" + s.Value
			clean = true
		case "vcs.modified":
			if s.Value == "true" {
				return withExecutable(v, dir)
			}
		}
		settings += " " + s.Key + "=" + s.Value
	}
	if !clean {
		return withExecutable(v, dir)
	}
	// a clean commit, built by this toolchain with these settings: the
	// same program every time, without reading the executable
	sum := sha256.Sum256([]byte(bi.GoVersion + settings))
	return v + "+build-" + hex.EncodeToString(sum[:8])
}

// withExecutable is v and the executable's SHA-256.
func withExecutable(v, dir string) string {
	if sum, err := executableSum(dir); err == nil {
		return v + "+exe-" + sum
	}
	// No way to tell this build from another: a version of its own, so
	// that nothing cached by another build is read.
	return v + fmt.Sprintf("+pid-%d", os.Getpid())
}

// executableSum is the start of the running executable's SHA-256, in hex,
// read from the memo in dir when it holds one for the file as it is.
func executableSum(dir string) (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	f, err := os.Open(exe)
	if err != nil {
		return "", err
	}
	defer f.Close()
	id := ""
	if fi, err := f.Stat(); err == nil && dir != "" {
		id = fileid.Identity(exe, fi)
	}
	memo := filepath.Join(dir, "executable-sums")
	var known []string // the memo's lines, newest last
	if id != "" {
		if data, err := os.ReadFile(memo); err == nil {
			for _, line := range strings.Split(string(data), "\n") {
				if k, sum, ok := strings.Cut(line, "\t"); ok && k != "" && len(sum) == 32 {
					if k == id {
						return sum, nil
					}
					known = append(known, line)
				}
			}
		}
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	sum := hex.EncodeToString(h.Sum(nil)[:16])
	if id != "" {
		// the last few executables (an upgrade, a rollback); written
		// whole and renamed into place, so a reader never sees half
		known = append(known[max(0, len(known)-7):], id+"\t"+sum)
		os.MkdirAll(dir, 0o755)
		if tmp, err := os.CreateTemp(dir, "executable-sums-*"); err == nil {
			_, werr := tmp.WriteString(strings.Join(known, "\n") + "\n")
			if cerr := tmp.Close(); werr == nil && cerr == nil {
				werr = os.Rename(tmp.Name(), memo)
			}
			if werr != nil {
				os.Remove(tmp.Name())
			}
		}
	}
	return sum, nil
}
