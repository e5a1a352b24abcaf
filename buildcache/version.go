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
// main module's version, and for a build without one (a development
// build, `go run`, a test binary) the commit it was built from with the
// toolchain and build settings when the build information has a clean one;
// otherwise (uncommitted changes, no VCS information) a SHA-256 of the
// executable itself, so that any change to the program's code, embedded
// theme or templates gives another Version. Callers compute it once per
// process.
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return withExecutable("unknown")
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
				return withExecutable(v)
			}
		}
		settings += " " + s.Key + "=" + s.Value
	}
	if !clean {
		return withExecutable(v)
	}
	// a clean commit, built by this toolchain with these settings: the
	// same program every time, without reading the executable
	sum := sha256.Sum256([]byte(bi.GoVersion + settings))
	return v + "+build-" + hex.EncodeToString(sum[:8])
}

// withExecutable is v and the executable's SHA-256.
func withExecutable(v string) string {
	if sum, err := executableSum(); err == nil {
		return v + "+exe-" + sum
	}
	// No way to tell this build from another: a version of its own, so
	// that nothing cached by another build is read.
	return v + fmt.Sprintf("+pid-%d", os.Getpid())
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
