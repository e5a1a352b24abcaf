package buildcache

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"runtime/debug"
)

// Version names the running build of the program, for Options.Version: the
// main module's version and VCS revision from the build information, and,
// for a build that has no version of its own (a development build, `go
// run`, a test binary, uncommitted changes), a SHA-256 of the executable
// itself, so that any change to the program's code, embedded theme or
// templates gives another Version. Callers compute it once per process.
func Version() string {
	v := "unknown"
	devel := true
	if bi, ok := debug.ReadBuildInfo(); ok {
		v = bi.Main.Path + "@" + bi.Main.Version
		devel = bi.Main.Version == "" || bi.Main.Version == "(devel)"
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v += "+" + s.Value
			case "vcs.modified":
				if s.Value == "true" {
					devel = true
				}
			}
		}
	}
	if devel {
		if sum, err := executableSum(); err == nil {
			v += "+exe-" + sum
		} else {
			// No way to tell this build from another: a version of its
			// own, so that nothing cached by another build is read.
			v += fmt.Sprintf("+pid-%d", os.Getpid())
		}
	}
	return v
}

func executableSum() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	f, err := os.Open(exe)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)[:16]), nil
}
