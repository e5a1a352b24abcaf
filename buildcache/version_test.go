package buildcache

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestExecutableSumMemo: the executable's sum is computed once and then
// read from the memo for the same file; a memo line for another identity
// (the executable replaced) is not used; a damaged memo is ignored.
func TestExecutableSumMemo(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the memo keys files by Linux's inode and change time")
	}
	dir := t.TempDir()
	want, err := executableSum("")
	if err != nil {
		t.Fatal(err)
	}
	got, err := executableSum(dir)
	if err != nil || got != want {
		t.Fatalf("first sum with a memo = %q, %v; want %q", got, err, want)
	}
	memo := filepath.Join(dir, "executable-sums")
	data, err := os.ReadFile(memo)
	if err != nil {
		t.Fatalf("no memo written: %v", err)
	}
	id, sum, ok := strings.Cut(strings.TrimSpace(string(data)), "\t")
	if !ok || sum != want {
		t.Fatalf("memo = %q, want one line ending in the sum %s", data, want)
	}
	// The memo is what answers now: a sum planted under the identity is
	// returned without reading the executable.
	planted := strings.Repeat("ab", 16)
	os.WriteFile(memo, []byte(id+"\t"+planted+"\n"), 0o644)
	if got, _ := executableSum(dir); got != planted {
		t.Fatalf("sum with the memo = %q, want the memo's %q", got, planted)
	}
	// Another identity (the file replaced: new inode or change time): the
	// executable is read again and its line added.
	os.WriteFile(memo, []byte(id+"x\t"+planted+"\n"), 0o644)
	if got, _ := executableSum(dir); got != want {
		t.Fatalf("sum under another identity = %q, want the file's %q", got, want)
	}
	if data, _ := os.ReadFile(memo); strings.Count(string(data), "\n") != 2 {
		t.Fatalf("memo after a new identity:\n%s\nwant both lines", data)
	}
	// Damage: garbage lines are skipped.
	os.WriteFile(memo, []byte("\x00\xff garbage\n"+id+"\tshort\n"), 0o644)
	if got, _ := executableSum(dir); got != want {
		t.Fatalf("sum with a damaged memo = %q, want %q", got, want)
	}
}
