package gitserver

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func start(t *testing.T, user, pass string) *Server {
	t.Helper()
	s, err := Start(Options{Root: t.TempDir(), User: user, Password: pass})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func gitCLI(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestCommitCloneAndPush(t *testing.T) {
	ctx := context.Background()
	s := start(t, "bot", "s3cret")
	if err := s.CreateRepo(ctx, "acme/blog", "main"); err != nil {
		t.Fatal(err)
	}
	first, err := s.Commit(ctx, "acme/blog", Change{Ref: "main", Files: map[string]string{"a.txt": "A", "dir/b.txt": "B"}, Message: "first"})
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.Commit(ctx, "acme/blog", Change{Ref: "main", Files: map[string]string{"c with space.txt": "C"},
		Symlinks: map[string]string{"link": "/etc/passwd"}, Delete: []string{"dir"}, Message: "second"})
	if err != nil {
		t.Fatal(err)
	}
	if parent, _ := s.Git(ctx, "acme/blog", "rev-parse", second+"^"); parent != first {
		t.Fatalf("parent of second = %q, want %q", parent, first)
	}
	tree, _ := s.Git(ctx, "acme/blog", "ls-tree", "-r", "--name-only", second)
	if tree != "a.txt\nc with space.txt\nlink" {
		t.Fatalf("tree = %q", tree)
	}
	orphan, err := s.Commit(ctx, "acme/blog", Change{Ref: "refs/pull/1/head", Parent: first, Files: map[string]string{"p.txt": "P"}})
	if err != nil {
		t.Fatal(err)
	}
	if parent, _ := s.Git(ctx, "acme/blog", "rev-parse", orphan+"^"); parent != first {
		t.Fatalf("parent of PR head = %q, want %q", parent, first)
	}

	// Anonymous access is refused.
	resp, err := http.Get(s.RepoURL("acme/blog") + "/info/refs?service=git-upload-pack")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous status = %d", resp.StatusCode)
	}

	// The git CLI clones and pushes with basic auth.
	work := t.TempDir()
	authURL := strings.Replace(s.RepoURL("acme/blog"), "http://", "http://bot:s3cret@", 1)
	gitCLI(t, work, "clone", "--quiet", authURL, "w")
	wt := filepath.Join(work, "w")
	if err := os.WriteFile(filepath.Join(wt, "new.txt"), []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitCLI(t, wt, "add", "-A")
	gitCLI(t, wt, "commit", "--quiet", "-m", "from cli")
	s.ResetRequests()
	gitCLI(t, wt, "push", "--quiet", "origin", "main")
	if s.PushedBytes() == 0 {
		t.Fatalf("no pushed bytes recorded: %+v", s.Requests())
	}
	if head, _ := s.Head(ctx, "acme/blog", "main"); head == second || head == "" {
		t.Fatalf("main not moved by the push: %q", head)
	}

	// A pre-receive hook rejects pushes.
	if err := s.Hook("acme/blog", "pre-receive", "#!/bin/sh\necho 'pages are frozen' >&2\nexit 1\n"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(wt, "new2.txt"), []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitCLI(t, wt, "add", "-A")
	gitCLI(t, wt, "commit", "--quiet", "-m", "rejected")
	cmd := exec.Command("git", "push", "origin", "main")
	cmd.Dir = wt
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "pages are frozen") {
		t.Fatalf("push through the hook: err=%v out=%s", err, out)
	}
}

func TestFailNext(t *testing.T) {
	s := start(t, "", "")
	if err := s.CreateRepo(context.Background(), "r", ""); err != nil {
		t.Fatal(err)
	}
	s.FailNext("/info/refs", http.StatusServiceUnavailable)
	for i, want := range []int{http.StatusServiceUnavailable, http.StatusOK} {
		resp, err := http.Get(s.RepoURL("r") + "/info/refs?service=git-upload-pack")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("request %d: status %d, want %d", i, resp.StatusCode, want)
		}
	}
}
