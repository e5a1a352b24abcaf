package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/publishbot/publishbot/ghapitest"
	"github.com/publishbot/publishbot/gitserver"
	"github.com/publishbot/publishbot/testkit"
	"github.com/publishbot/publishbot/webhooktest"
)

// The end-to-end tests run `publishbot serve` against real parts: a git
// server (git http-backend on loopback, basic auth), the GitHub API
// stand-in (ghapitest) checking every request against GitHub's API
// description, and webhooks built from GitHub's real payloads, signed
// (webhooktest). One world serves the push tests, the pull-request tests
// and the process tests.

const (
	e2eSecret   = "It's a Secret to Everybody"
	e2eToken    = "ghs_e2eTestToken0123456789abcdefABCDEF"
	e2eFullName = "Codertocat/Hello-World"
	e2eRepo     = e2eFullName // on the git server, where PUBLISHBOT_GIT_URL + full name leads
	e2eBranch   = "master"    // the payloads' default branch
	e2ePR       = 2           // the pull_request payloads' number

	// With App credentials the git server takes only the installation
	// token the stand-in mints, so clones and pushes prove that the App's
	// token reaches git.
	e2eAppID             = 4242
	e2eInstallationToken = "ghs_e2eInstallation0123456789abcdef"
)

// sharedTestdata is ../shared/testdata beside the module root; go test runs
// in the package's folder.
func sharedTestdata(t testing.TB, rel string) string {
	t.Helper()
	return filepath.Join("..", "..", "..", "shared", "testdata", rel)
}

// githubAPI is GitHub's API description from the shared test data.
var githubAPI = sync.OnceValues(func() (*ghapitest.API, error) {
	return ghapitest.ProjectAPI()
})

// newE2EGitHub is the GitHub API stand-in for the serve tests: it checks
// every request against GitHub's API description and records it.
func newE2EGitHub(t testing.TB, opts ghapitest.Options) *ghapitest.Server {
	t.Helper()
	api, err := githubAPI()
	if err != nil {
		t.Fatal(err)
	}
	opts.API = api
	return ghapitest.StartT(t, opts)
}

// e2eWorld is one content repository on a git server, the GitHub stand-in,
// and the environment of the serve processes run against them.
type e2eWorld struct {
	t       testing.TB
	git     *gitserver.Server
	api     *ghapitest.Server
	dataDir string
	client  *http.Client
	seq     atomic.Int64
	creds   map[string]string // serve's GitHub credentials
	base    string            // the pull requests' base commit (prBase)
}

// newE2EWorld is a world where serve holds a token (commit statuses).
func newE2EWorld(t testing.TB) *e2eWorld { return newWorld(t, false) }

// newWorld is a world where serve holds a token, or with app set is a
// GitHub App (check runs).
func newWorld(t testing.TB, app bool) *e2eWorld {
	t.Helper()
	gitPassword := e2eToken
	ghOpts := ghapitest.Options{Token: e2eToken}
	creds := map[string]string{"PUBLISHBOT_GITHUB_TOKEN": e2eToken}
	if app {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		keyFile := filepath.Join(t.TempDir(), "app.pem")
		pemBytes := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
		if err := os.WriteFile(keyFile, pemBytes, 0o600); err != nil {
			t.Fatal(err)
		}
		gitPassword = e2eInstallationToken
		ghOpts = ghapitest.Options{
			Token:             "no-static-token", // only minted installation tokens are accepted
			InstallationToken: e2eInstallationToken,
			AppID:             e2eAppID,
			AppKey:            &key.PublicKey,
		}
		creds = map[string]string{"PUBLISHBOT_APP_ID": strconv.Itoa(e2eAppID), "PUBLISHBOT_APP_PRIVATE_KEY_FILE": keyFile}
	}
	gs, err := gitserver.Start(gitserver.Options{Root: t.TempDir(), User: "x-access-token", Password: gitPassword})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gs.Close() })
	if err := gs.CreateRepo(context.Background(), e2eRepo, e2eBranch); err != nil {
		t.Fatal(err)
	}
	api := newE2EGitHub(t, ghOpts)
	// GitHub Pages is on and serves the pages branch; a build of its head
	// is done at the second look, as GitHub's takes a while.
	api.SetPages(e2eFullName, ghapitest.Pages{Head: func() string {
		h, _ := gs.Head(context.Background(), e2eRepo, "gh-pages")
		return h
	}})
	api.SetHooks(e2eFullName, []ghapitest.Hook{{URL: "https://publishbot.example/webhook", ContentType: "json", Events: []string{"push", "pull_request"}, Active: true}})
	return &e2eWorld{
		t:       t,
		git:     gs,
		api:     api,
		dataDir: t.TempDir(),
		client:  &http.Client{Timeout: 30 * time.Second},
		creds:   creds,
	}
}

// env is serve's environment in this world.
func (w *e2eWorld) env() map[string]string {
	env := map[string]string{
		"PUBLISHBOT_WEBHOOK_SECRET":     e2eSecret,
		"PUBLISHBOT_GITHUB_API_URL":     w.api.URL(),
		"PUBLISHBOT_GIT_URL":            w.git.URL + "/",
		"PUBLISHBOT_ADDR":               "127.0.0.1:0",
		"PUBLISHBOT_DATA_DIR":           w.dataDir,
		"PUBLISHBOT_LOG_FORMAT":         "json",
		"PUBLISHBOT_LOG_LEVEL":          "debug",
		"PUBLISHBOT_RECONCILE_INTERVAL": "1m",
		"PUBLISHBOT_SHUTDOWN_GRACE":     "20s",
		"PUBLISHBOT_PAGES_WATCH":        "20s",
	}
	for k, v := range w.creds {
		env[k] = v
	}
	return env
}

const e2ePublishYAML = "title: Hello World\nbase_url: https://codertocat.github.io/Hello-World/\n"

// commit writes a commit on the source branch with the given files (merged
// into the current tree) and returns its sha.
func (w *e2eWorld) commit(files map[string]string, msg string) string {
	w.t.Helper()
	n := w.seq.Add(1)
	if msg == "" {
		msg = "change " + strconv.FormatInt(n, 10)
	}
	sha, err := w.git.Commit(context.Background(), e2eRepo, gitserver.Change{
		Ref:     e2eBranch,
		Files:   files,
		Message: msg,
		When:    time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Minute),
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return sha
}

// commitRef writes a commit on ref (a branch or refs/pull/N/head) with the
// given files merged into parent's tree ("" continues ref), and returns its
// sha.
func (w *e2eWorld) commitRef(ref, parent string, files map[string]string) string {
	w.t.Helper()
	n := w.seq.Add(1)
	sha, err := w.git.Commit(context.Background(), e2eRepo, gitserver.Change{
		Ref: ref, Parent: parent, Files: files, Message: "change " + strconv.FormatInt(n, 10),
		When: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Minute),
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return sha
}

// post is a post file with a date in the past.
func e2ePost(title string, day int, body string) string {
	return fmt.Sprintf("---\ntitle: %q\ndate: 2026-01-%02d\n---\n\n%s\n", title, day%28+1, body)
}

// initialContent is a small blog.
func (w *e2eWorld) initialContent() string {
	return w.commit(map[string]string{
		"publish.yaml":          e2ePublishYAML,
		"posts/2026-01-01-a.md": e2ePost("First", 1, "Hello, world."),
		"posts/2026-01-02-b.md": e2ePost("Second", 2, "More words."),
	}, "initial content")
}

// pushPayload is GitHub's real push payload (with-new-branch) rewritten to
// point at the git server and at commit sha.
func (w *e2eWorld) pushPayload(sha string) []byte {
	w.t.Helper()
	return w.pushPayloadFrom("with-new-branch", sha)
}

// payload is one of GitHub's real payloads (rel under the shared
// webhooks folder) with its repository's clone URL pointed at the git
// server, decoded for rewriting.
func (w *e2eWorld) payload(rel string) map[string]any {
	w.t.Helper()
	raw, err := os.ReadFile(sharedTestdata(w.t, "webhooks/"+rel))
	if err != nil {
		w.t.Fatal(err)
	}
	var p map[string]any
	if err := json.Unmarshal(raw, &p); err != nil {
		w.t.Fatal(err)
	}
	repo := p["repository"].(map[string]any)
	if repo["full_name"] != e2eFullName {
		w.t.Fatalf("the payload %s is of %v, not %s", rel, repo["full_name"], e2eFullName)
	}
	repo["clone_url"] = w.git.RepoURL(e2eRepo)
	return p
}

// pushPayloadFrom is pushPayload from another of GitHub's push payloads.
func (w *e2eWorld) pushPayloadFrom(name, sha string) []byte {
	w.t.Helper()
	p := w.payload("push/" + name + ".payload.json")
	if p["ref"] != "refs/heads/"+e2eBranch {
		w.t.Fatalf("the payload changed: %v", p["ref"])
	}
	p["after"] = sha
	p["created"] = false
	if hc, ok := p["head_commit"].(map[string]any); ok {
		hc["id"] = sha
	}
	b, err := json.Marshal(p)
	if err != nil {
		w.t.Fatal(err)
	}
	return b
}

// deliver signs and posts one delivery to serve at addr, as GitHub does,
// and returns the status code.
func (w *e2eWorld) deliver(addr, event, delivery string, body []byte) (int, error) {
	req, err := webhooktest.NewRequest(context.Background(), "http://"+addr+"/webhook", []byte(e2eSecret), event, delivery, body)
	if err != nil {
		return 0, err
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// mustDeliverPush delivers a push of sha and fails unless it is accepted.
func (w *e2eWorld) mustDeliverPush(addr, sha string) {
	w.t.Helper()
	id := fmt.Sprintf("e2e-%d-%s", w.seq.Add(1), sha[:7])
	code, err := w.deliver(addr, "push", id, w.pushPayload(sha))
	if err != nil || code/100 != 2 {
		w.t.Fatalf("delivery of %s: %d %v", sha[:7], code, err)
	}
}

var e2eSourceCommitRE = regexp.MustCompile(`(?m)^Source-Commit: ([0-9a-f]{40})\s*$`)

// pagesSources lists the Source-Commit trailers of the pages branch,
// newest first; nil when the branch does not exist.
func (w *e2eWorld) pagesSources() []string {
	w.t.Helper()
	return w.repoPagesSources(e2eRepo)
}

// pagesFiles lists the files on the pages branch.
func (w *e2eWorld) pagesFiles() map[string]bool {
	w.t.Helper()
	out, err := w.git.Git(context.Background(), e2eRepo, "ls-tree", "-r", "--name-only", "gh-pages")
	if err != nil {
		return nil
	}
	files := map[string]bool{}
	for _, f := range strings.Split(out, "\n") {
		files[f] = true
	}
	return files
}

// waitPublished waits until the pages branch was built from sha.
func (w *e2eWorld) waitPublished(sha string, timeout time.Duration) {
	w.t.Helper()
	testkit.WaitFor(w.t, "the pages branch to carry "+sha[:7], timeout, func() bool {
		s := w.pagesSources()
		return len(s) > 0 && s[0] == sha
	})
}

// gate is a pre-receive hook on the content repository that holds the
// first push to it until the test releases it: a job stopped mid-push,
// deterministically. Later pushes pass straight through.
type e2eGate struct{ dir string }

func (w *e2eWorld) gate() *e2eGate {
	w.t.Helper()
	g := &e2eGate{dir: w.t.TempDir()}
	script := fmt.Sprintf(`#!/bin/sh
cat >/dev/null
G=%q
[ -e "$G/passed" ] && exit 0
touch "$G/started"
while [ ! -e "$G/release" ]; do sleep 0.02; done
touch "$G/passed"
if [ -e "$G/reject" ]; then echo "publishbot test gate: push rejected" >&2; exit 1; fi
exit 0
`, g.dir)
	if err := w.git.Hook(e2eRepo, "pre-receive", script); err != nil {
		w.t.Fatal(err)
	}
	return g
}

// waitStarted waits until a push is held at the gate.
func (g *e2eGate) waitStarted(t testing.TB) {
	t.Helper()
	testkit.WaitFor(t, "a push to reach the gate", 60*time.Second, func() bool {
		_, err := os.Stat(filepath.Join(g.dir, "started"))
		return err == nil
	})
}

// release lets the held push go on, or rejects it.
func (g *e2eGate) release(t testing.TB, reject bool) {
	t.Helper()
	if reject {
		if err := os.WriteFile(filepath.Join(g.dir, "reject"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(g.dir, "release"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

// e2eLogWatcher is serve's log output: it keeps every line and reports the
// "listening" address.
type e2eLogWatcher struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	addr  chan string
	found bool
	pw    *io.PipeWriter
}

func newE2ELogWatcher() *e2eLogWatcher {
	pr, pw := io.Pipe()
	lw := &e2eLogWatcher{addr: make(chan string, 1), pw: pw}
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			lw.mu.Lock()
			lw.buf.Write(line)
			lw.buf.WriteByte('\n')
			lw.mu.Unlock()
			var e struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal(line, &e) == nil && e.Msg == "listening" && !lw.found {
				lw.found = true
				lw.addr <- e.Addr
			}
		}
		io.Copy(io.Discard, pr)
	}()
	return lw
}

func (lw *e2eLogWatcher) Write(p []byte) (int, error) { return lw.pw.Write(p) }

func (lw *e2eLogWatcher) String() string {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return lw.buf.String()
}

// waitAddr returns the address serve listens on.
func (lw *e2eLogWatcher) waitAddr(t testing.TB, exited <-chan error) string {
	t.Helper()
	select {
	case a := <-lw.addr:
		return a
	case err := <-exited:
		t.Fatalf("serve exited before listening: %v\n%s", err, lw.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not listen within 30 s:\n%s", lw.String())
	}
	return ""
}

// server is serve running in this test process.
type e2eServer struct {
	addr   string
	logs   *e2eLogWatcher
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

// startServe runs `publishbot serve` in a goroutine with w's environment
// plus extra.
func (w *e2eWorld) startServe(extra map[string]string) *e2eServer {
	w.t.Helper()
	env := w.env()
	for k, v := range extra {
		env[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &e2eServer{logs: newE2ELogWatcher(), cancel: cancel, done: make(chan error, 1)}
	go func() {
		s.done <- run(ctx, []string{"serve"}, envMap(env), io.Discard, s.logs)
	}()
	s.addr = s.logs.waitAddr(w.t, s.done)
	w.t.Cleanup(func() { s.stop(w.t) })
	return s
}

// stop cancels serve (like SIGTERM) and waits for it to return.
func (s *e2eServer) stop(t testing.TB) error {
	s.once.Do(func() {
		s.cancel()
		select {
		case s.err = <-s.done:
		case <-time.After(60 * time.Second):
			s.err = errors.New("serve did not stop within 60 s")
		}
		s.logs.pw.Close()
		if s.err != nil {
			t.Errorf("serve returned %v\n%s", s.err, s.logs.String())
		}
		if logsSecret(s.logs.String()) {
			t.Errorf("serve logged a secret:\n%s", s.logs.String())
		}
		if t.Failed() {
			t.Logf("serve's logs:\n%s", s.logs.String())
		}
	})
	return s.err
}

// metric reads one sample from /metrics: name with its labels as written,
// e.g. `publishbot_queue_depth{state="queued"}`; -1 when absent.
func e2eMetric(t testing.TB, addr, series string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("metric line %q: %v", line, err)
			}
			return f
		}
	}
	return -1
}

// waitIdle waits until the queue holds nothing queued, delayed or running.
func e2eWaitIdle(t testing.TB, addr string, timeout time.Duration) {
	t.Helper()
	testkit.WaitFor(t, "an idle queue", timeout, func() bool {
		for _, state := range []string{"queued", "delayed", "running"} {
			if e2eMetric(t, addr, `publishbot_queue_depth{state="`+state+`"}`) != 0 {
				return false
			}
		}
		return true
	})
}

// logsSecret reports whether serve's log output shows one of the world's
// secrets.
func logsSecret(logs string) bool {
	for _, secret := range []string{e2eToken, e2eSecret, e2eInstallationToken, "PRIVATE KEY"} {
		if strings.Contains(logs, secret) {
			return true
		}
	}
	return false
}

// hasLine reports whether serve logged a line at level with message msg.
func (lw *e2eLogWatcher) hasLine(level, msg string) bool {
	for _, line := range strings.Split(lw.String(), "\n") {
		var e struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
		}
		if json.Unmarshal([]byte(line), &e) == nil && e.Level == level && e.Msg == msg {
			return true
		}
	}
	return false
}
