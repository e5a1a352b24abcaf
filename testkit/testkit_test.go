package testkit

import (
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// recorder is a testing.TB that records failures instead of stopping.
type recorder struct {
	testing.TB
	failed atomic.Bool
	msg    atomic.Value
}

func (r *recorder) Helper()      {}
func (r *recorder) Name() string { return "TestX" }
func (r *recorder) Errorf(format string, args ...any) {
	r.failed.Store(true)
	r.msg.Store(format)
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	panic(r) // stands for runtime.Goexit
}
func (r *recorder) Fatal(args ...any) { r.Fatalf("fatal") }

// run calls fn with a recorder and reports whether it failed.
func run(fn func(tb testing.TB)) (failed bool) {
	r := &recorder{}
	func() {
		defer func() {
			if p := recover(); p != nil && p != r {
				panic(p)
			}
		}()
		fn(r)
	}()
	return r.failed.Load()
}

func TestGolden(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "x.golden")
	if !run(func(tb testing.TB) { Golden(tb, path, []byte("a\n")) }) {
		t.Error("a missing golden file passed")
	}
	*update = true
	run(func(tb testing.TB) { Golden(tb, path, []byte("a\n")) })
	*update = false
	if b, err := os.ReadFile(path); err != nil || string(b) != "a\n" {
		t.Fatalf("-update wrote %q, %v", b, err)
	}
	if run(func(tb testing.TB) { Golden(tb, path, []byte("a\n")) }) {
		t.Error("equal output failed")
	}
	if !run(func(tb testing.TB) { Golden(tb, path, []byte("b\n")) }) {
		t.Error("different output passed")
	}
}

func TestWaitFor(t *testing.T) {
	var n atomic.Int32
	if run(func(tb testing.TB) { WaitFor(tb, "three calls", 10*time.Second, func() bool { return n.Add(1) >= 3 }) }) {
		t.Error("a condition that came true failed")
	}
	start := time.Now()
	r := &recorder{}
	func() {
		defer func() { recover() }()
		WaitFor(r, "never", 30*time.Millisecond, func() bool { return false })
	}()
	if !r.failed.Load() || !strings.Contains(r.msg.Load().(string), "waiting for") {
		t.Error("a condition that never held did not fail")
	}
	if time.Since(start) > 5*time.Second {
		t.Error("the deadline was not kept")
	}
	if run(func(tb testing.TB) { WaitEvery(tb, "now", time.Second, time.Millisecond, func() bool { return true }) }) {
		t.Error("WaitEvery failed at once")
	}
}
