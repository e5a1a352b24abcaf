package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestDemo runs the README's first command as a user would and reads what it
// printed: the blog published from a push, then a pull request previewed with
// its one comment.
func TestDemo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	err := run(ctx, []string{"demo", "--once", "--addr", "127.0.0.1:0"}, func(string) string { return "" }, &out, &errOut)
	if err != nil {
		t.Fatalf("demo: %v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errOut.String())
	}
	got := out.String()
	for _, want := range []string{
		"Act 1: an author pushes examples/blog",
		"202 Accepted",
		"Commit status on",
		"success — published as",
		"Act 2: pull request #1",
		"failure — 2 posts changed, 1 error",
		"Previews for every pull request",
		"/pr-preview/pr-1/posts/previews-for-every-pull-request/",
		"`missing-title`",
		"<!-- publishbot:preview -->",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("demo output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(errOut.String(), "level=error") {
		t.Errorf("the bot logged errors:\n%s", errOut.String())
	}
}

func TestDemoRefusesNonLoopbackAddr(t *testing.T) {
	err := run(context.Background(), []string{"demo", "--once", "--addr", "0.0.0.0:8080"}, func(string) string { return "" }, &bytes.Buffer{}, &bytes.Buffer{})
	if code := exitCode(err, &bytes.Buffer{}); code != 2 {
		t.Fatalf("exit code %d (%v), want 2", code, err)
	}
}
