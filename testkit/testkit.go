// Package testkit owns what publishbot's tests share beyond the standard
// testing package: golden files, compared or rewritten with `go test
// -update`; waiting for a condition with a deadline (polling, never a
// guessed sleep); reading a built folder back. Only tests import it.
package testkit

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// update is the -update flag of every test binary that imports testkit.
var update = flag.Bool("update", false, "rewrite golden files with what the tests got")

// Updating reports whether the test binary runs with -update.
func Updating() bool { return *update }

// Golden compares got with the golden file at path (relative to the
// package's folder, e.g. "testdata/comment.golden") and fails t, showing
// both, when they differ or the file is missing. With -update it writes got
// to path instead (creating its folder), so that `git diff` shows the change.
func Golden(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (go test -run '%s' -update writes it): %v", t.Name(), err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -run '%s' -update accepts it):\n--- got\n%s\n--- want\n%s", path, t.Name(), got, want)
	}
}

// Slowest is the longest pause between two polls of WaitFor.
const Slowest = 20 * time.Millisecond

// WaitFor calls cond until it returns true, and fails the test (with
// t.Fatalf, so call it from the test's goroutine) naming what it waited for
// when timeout passes first. It polls every millisecond at first and then
// less often, doubling up to Slowest: a quick condition is seen at once and
// a slow one costs little.
func WaitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	poll(t, what, timeout, time.Millisecond, Slowest, cond)
}

// WaitEvery is WaitFor polling at a fixed interval, for benchmarks that
// measure how long the wait took.
func WaitEvery(t testing.TB, what string, timeout, every time.Duration, cond func() bool) {
	t.Helper()
	poll(t, what, timeout, every, every, cond)
}

func poll(t testing.TB, what string, timeout, first, slowest time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	pause := first
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		timer := time.NewTimer(pause)
		<-timer.C
		pause = min(2*pause, slowest)
	}
}

// ReadTree is every file below dir, by slash-separated relative path: a
// built site as a test compares it.
func ReadTree(t testing.TB, dir string) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		got[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}
