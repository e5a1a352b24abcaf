package main

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/publishbot/publishbot/gitauth"
	"github.com/publishbot/publishbot/gitserver"
)

func TestPublishCommand(t *testing.T) {
	const token = "ghs_publishCommandToken0123456789"
	ctx := context.Background()
	srv, err := gitserver.Start(gitserver.Options{Root: t.TempDir(), User: "x-access-token", Password: token})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := srv.CreateRepo(ctx, "acme/blog", "main"); err != nil {
		t.Fatal(err)
	}
	files, err := gitserver.FilesFromDir("../../examples/blog", "")
	if err != nil {
		t.Fatal(err)
	}
	src, err := srv.Commit(ctx, "acme/blog", gitserver.Change{Ref: "main", Message: "Import", Files: files})
	if err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	publish := func(getenv func(string) string, args ...string) (string, string, error) {
		var stdout, stderr bytes.Buffer
		err := run(ctx, append([]string{"publish"}, args...), getenv, &stdout, &stderr)
		return stdout.String(), stderr.String(), err
	}
	env := func(k string) string {
		if k == "PUBLISHBOT_GITHUB_TOKEN" {
			return token
		}
		return ""
	}
	url := srv.RepoURL("acme/blog")

	out, errOut, err := publish(env, "--repo", url, "--data-dir", dataDir)
	if err != nil || !strings.HasPrefix(out, "published acme/blog at "+src[:7]) {
		t.Fatalf("first publish: %v\n%s\n%s", err, out, errOut)
	}
	if head, _ := srv.Head(ctx, "acme/blog", "gh-pages"); head == "" {
		t.Fatal("gh-pages not created")
	}
	if !strings.Contains(out, "next scheduled post: 2030-01-01") {
		t.Fatalf("no schedule line: %s", out)
	}
	out, _, err = publish(env, "--data-dir", dataDir, "--repo", url, "--ref", "main")
	if err != nil || !strings.HasPrefix(out, "unchanged: ") {
		t.Fatalf("second publish: %v %s", err, out)
	}
	// A build's diagnostics are printed once, while the push runs.
	if _, err := srv.Commit(ctx, "acme/blog", gitserver.Change{Ref: "main", Message: "A post with a missing image", Files: map[string]string{
		"posts/missing-image.md": "---\ntitle: Missing\ndate: 2024-01-02\n---\n\n![A chart](chart-that-is-not-there.png)\n",
	}}); err != nil {
		t.Fatal(err)
	}
	out, errOut, err = publish(env, "--repo", url, "--data-dir", dataDir)
	if err != nil || !strings.HasPrefix(out, "published acme/blog at ") {
		t.Fatalf("publish with a warning: %v\n%s\n%s", err, out, errOut)
	}
	if n := strings.Count(errOut, "[missing-image]"); n != 1 || !strings.HasPrefix(errOut, "posts/missing-image.md:") {
		t.Fatalf("the missing image is told %d times in:\n%s", n, errOut)
	}
	out, _, err = publish(env, "--repo", url, "--ref", "feature", "--data-dir", dataDir, "--pages-branch", "site")
	if err != nil || !strings.HasPrefix(out, "skipped: ") {
		t.Fatalf("other branch: %v %s", err, out)
	}

	// A wrong token fails with exit code 1 and is not printed.
	wrong := "ghs_wrongWrongWrong0123456789"
	out, errOut, err = publish(func(string) string { return "" }, "--repo", url, "--data-dir", dataDir, "--token", wrong, "-v")
	var ee *exitError
	if !errors.As(err, &ee) || ee.Code != 1 || !strings.Contains(err.Error(), "authentication required") {
		t.Fatalf("wrong token: %v\n%s", err, out)
	}
	if strings.Contains(errOut+out+err.Error(), wrong) {
		t.Fatalf("token printed: %s %s", errOut, err)
	}

	for name, args := range map[string][]string{
		"no repo":     {"--data-dir", dataDir},
		"credentials": {"--repo", strings.Replace(url, "http://", "http://x:"+token+"@", 1)},
		"ssh":         {"--repo", "git@github.com:acme/blog.git"},
		"extra":       {"--repo", url, "extra"},
	} {
		_, _, err := publish(env, args...)
		if !errors.As(err, &ee) || ee.Code != 2 {
			t.Errorf("%s: %v", name, err)
		} else if strings.Contains(err.Error(), token) {
			t.Errorf("%s: token in %v", name, err)
		}
	}
}

func TestRepoFromURL(t *testing.T) {
	for raw, want := range map[string][2]string{
		"https://github.com/acme/blog.git":    {"acme/blog", "https://github.com/"},
		"https://github.com/acme/blog":        {"acme/blog", "https://github.com/"},
		"http://127.0.0.1:9/acme/blog.git/":   {"acme/blog", "http://127.0.0.1:9/"},
		"http://localhost:9/acme/blog.git":    {"acme/blog", "http://localhost:9/"},
		"http://[::1]:9/acme/blog.git":        {"acme/blog", "http://[::1]:9/"},
		"https://ghe.example/git/acme/blog":   {"acme/blog", "https://ghe.example/"},
		"https://GHE.example:8443/acme/b.git": {"acme/b", "https://ghe.example:8443/"},
	} {
		r, base, err := repoFromURL(raw)
		if err != nil || r.FullName != want[0] || r.CloneURL != raw || base.String() != want[1] {
			t.Errorf("%s: %+v, base %v, %v; want %s on %s", raw, r, base, err, want[0], want[1])
		}
	}
	// The publisher fetches over smart HTTP only, and sends the token in
	// clear only to loopback; the command line says so at once (exit 2)
	// instead of failing the job.
	for _, raw := range []string{"file:///srv/git/blog.git", "ssh://git@github.com/acme/blog.git", "https:///acme/blog", "git@github.com:acme/blog.git",
		"http://github.com/acme/blog.git", "http://10.0.0.1/acme/blog.git", "http://127.0.0.1.evil.example/acme/blog.git"} {
		if r, _, err := repoFromURL(raw); err == nil {
			t.Errorf("%s accepted: %+v", raw, r)
		}
	}
}

func FuzzRepoFromURL(f *testing.F) {
	for _, s := range []string{"https://github.com/acme/blog.git", "http://u:p@h/x", "file:///a", "https://h/", "git@github.com:a/b", "https://h/%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		r, base, err := repoFromURL(raw)
		if err != nil {
			return
		}
		if r.FullName == "" || r.CloneURL != strings.TrimSpace(raw) {
			t.Fatalf("%q → %+v", raw, r)
		}
		if u, err := url.Parse(r.CloneURL); err != nil || !gitauth.CredentialsAllowed(u, base) {
			t.Fatalf("%q: the token may not go to the URL itself (base %v)", raw, base)
		}
		if u, err := url.Parse(r.CloneURL); err != nil || u.User != nil {
			t.Fatalf("%q accepted with credentials or unparsable (%v)", raw, err)
		}
	})
}
