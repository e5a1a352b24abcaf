package main

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/publishbot/publishbot/testkit"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/publishbot/publishbot/queue"
)

// e2eHostile is a loopback server standing in for a host a payload names:
// it records every request and whether it carried credentials.
type e2eHostile struct {
	*httptest.Server
	mu       sync.Mutex
	requests []string
}

func newE2EHostile(t *testing.T) *e2eHostile {
	h := &e2eHostile{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.requests = append(h.requests, r.Method+" "+r.URL.String()+" authorization="+r.Header.Get("Authorization"))
		h.mu.Unlock()
		http.NotFound(w, r)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *e2eHostile) seen() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.requests...)
}

// TestServeNeverFollowsPayloadURLs: a signed push whose repository URLs
// name another host (here another loopback port, over plain http) is
// published from the configured git host; the other host never hears from
// the bot, let alone gets the token.
func TestServeNeverFollowsPayloadURLs(t *testing.T) {
	w := newE2EWorld(t)
	hostile := newE2EHostile(t)
	s := w.startServe(nil)
	sha := w.initialContent()

	var p map[string]any
	if err := json.Unmarshal(w.pushPayload(sha), &p); err != nil {
		t.Fatal(err)
	}
	repo := p["repository"].(map[string]any)
	for _, k := range []string{"clone_url", "git_url", "html_url", "url", "svn_url"} {
		repo[k] = hostile.URL + "/" + e2eFullName + ".git"
	}
	body, _ := json.Marshal(p)
	if code, err := w.deliver(s.addr, "push", "hostile-1", body); err != nil || code != http.StatusAccepted {
		t.Fatalf("delivery: %d %v", code, err)
	}
	testkit.WaitFor(t, "a publish, or a request to the payload's host", 60*time.Second, func() bool {
		src := w.pagesSources()
		return len(hostile.seen()) > 0 || len(src) > 0 && src[0] == sha
	})
	if seen := hostile.seen(); len(seen) > 0 {
		t.Fatalf("the bot contacted the host the payload named:\n%s", strings.Join(seen, "\n"))
	}
	e2eWaitIdle(t, s.addr, 30*time.Second)
	if seen := hostile.seen(); len(seen) > 0 {
		t.Fatalf("the bot contacted the host the payload named:\n%s", strings.Join(seen, "\n"))
	}
}

// TestServeAllowList: with PUBLISHBOT_REPOSITORIES set, a delivery for
// another repository is answered 202 "not allowed", logged once, and
// nothing runs; an allowed one is published.
func TestServeAllowList(t *testing.T) {
	w := newE2EWorld(t)
	s := w.startServe(map[string]string{"PUBLISHBOT_REPOSITORIES": "acme, octo-org/blog"})
	sha := w.initialContent()
	code, err := w.deliver(s.addr, "push", "not-allowed-1", w.pushPayload(sha))
	if err != nil || code != http.StatusAccepted {
		t.Fatalf("delivery: %d %v", code, err)
	}
	testkit.WaitFor(t, "the refusal in the log", 10*time.Second, func() bool {
		return strings.Contains(s.logs.String(), `"result":"not_allowed"`)
	})
	if n := strings.Count(s.logs.String(), `"result":"not_allowed"`); n != 1 {
		t.Errorf("the refusal is logged %d times, want once:\n%s", n, s.logs.String())
	}
	if got := e2eMetric(t, s.addr, `publishbot_webhook_deliveries_total{event="push",result="not_allowed"}`); got != 1 {
		t.Errorf("not_allowed deliveries = %v, want 1", got)
	}
	e2eWaitIdle(t, s.addr, 10*time.Second)
	if got := e2eMetric(t, s.addr, `publishbot_jobs_total{kind="publish",result="published"}`); got > 0 {
		t.Errorf("a repository outside the allow-list was published")
	}
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}

	s = w.startServe(map[string]string{"PUBLISHBOT_REPOSITORIES": "codertocat"})
	w.mustDeliverPush(s.addr, sha)
	w.waitPublished(sha, 60*time.Second)
}

// TestServeRefusesDamagedQueue: a truncated queue.db stops serve at start
// with an error that says what to do, instead of a crash inside bbolt.
func TestServeRefusesDamagedQueue(t *testing.T) {
	w := newE2EWorld(t)
	path := filepath.Join(w.dataDir, "queue.db")
	q, err := queue.OpenBolt(path, queue.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		j := queue.Job{Kind: queue.KindPublish, Repo: queue.Repo{FullName: "acme/r" + strings.Repeat("x", i%50)}, Ref: "refs/heads/main", SHA: strings.Repeat("a", 40), Delivery: "d" + strings.Repeat("y", i)}
		if err := q.Enqueue(t.Context(), j); err != nil {
			t.Fatal(err)
		}
	}
	q.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, fi.Size()/2+100); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- run(t.Context(), []string{"serve"}, envMap(w.env()), &bytes.Buffer{}, &stderr) }()
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not refuse the damaged queue within 60 s")
	}
	if err == nil || !strings.Contains(err.Error(), "queue file is damaged") || !strings.Contains(err.Error(), "move it aside") || !strings.Contains(err.Error(), path) {
		t.Fatalf("serve = %v, want a refusal naming %s and saying to move it aside", err, path)
	}
}

// TestServeSecretChecks: a secret of white space refuses to start; a short
// one starts with a warning.
func TestServeSecretChecks(t *testing.T) {
	w := newE2EWorld(t)
	env := w.env()
	env["PUBLISHBOT_WEBHOOK_SECRET"] = " \t "
	// Were it accepted, serve would run until this context ends.
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	err := run(ctx, []string{"serve"}, envMap(env), &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "only white space") || exitCode(err, &bytes.Buffer{}) != 2 {
		t.Fatalf("white space secret: %v, want a usage error", err)
	}

	s := w.startServe(map[string]string{"PUBLISHBOT_WEBHOOK_SECRET": "short-secret"})
	testkit.WaitFor(t, "the warning", 10*time.Second, func() bool {
		return strings.Contains(s.logs.String(), "shorter than 16 characters")
	})
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
	// Nothing else in the log is masked because of a short secret.
	s = w.startServe(map[string]string{"PUBLISHBOT_WEBHOOK_SECRET": "a"})
	testkit.WaitFor(t, "the warning", 10*time.Second, func() bool {
		return strings.Contains(s.logs.String(), "shorter than 16 characters")
	})
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(s.logs.String(), "***") {
		t.Errorf("a one-character secret masked the log:\n%s", s.logs.String())
	}
}
