package webhook

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/publishbot/publishbot/queue"
	"github.com/publishbot/publishbot/testkit"
	"github.com/publishbot/publishbot/webhooktest"
)

var testSecret = []byte("correct horse battery staple")

// webhooksDir is ../shared/testdata/webhooks beside the module root; go test
// runs in the package's folder.
func webhooksDir(t testing.TB) string {
	t.Helper()
	return filepath.Join("..", "..", "shared", "testdata", "webhooks")
}

func payload(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(webhooksDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// edit decodes a payload, lets fn change it, and encodes it again.
func edit(t testing.TB, body []byte, fn func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	fn(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sub(m map[string]any, key string) map[string]any { return m[key].(map[string]any) }

type env struct {
	srv   *httptest.Server
	queue *queue.Bolt
	logs  *logtest.Hook
	reg   *prometheus.Registry
}

// newEnv starts the handler on a loopback server in front of a real Bolt
// queue; opts change the handler's options.
func newEnv(t testing.TB, opts ...func(*Options)) *env {
	t.Helper()
	q, err := queue.OpenBolt(filepath.Join(t.TempDir(), "queue.db"), queue.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	logger, hook := logtest.NewNullLogger()
	reg := prometheus.NewRegistry()
	o := Options{Secret: testSecret, Queue: q, Log: logrus.NewEntry(logger), Metrics: NewMetrics(reg)}
	for _, f := range opts {
		f(&o)
	}
	h, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/webhook", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &env{srv: srv, queue: q, logs: hook, reg: reg}
}

type delivery struct {
	event, id   string
	body        []byte
	contentType string            // default application/json
	headers     map[string]string // set after signing; "" deletes
	secret      []byte            // default testSecret
}

// request builds a delivery as GitHub sends it, signed with both headers.
func (e *env) request(t testing.TB, d delivery) *http.Request {
	t.Helper()
	secret := d.secret
	if secret == nil {
		secret = testSecret
	}
	req, err := webhooktest.NewRequest(context.Background(), e.srv.URL+"/webhook", secret, d.event, d.id, d.body)
	if err != nil {
		t.Fatal(err)
	}
	if d.contentType != "" {
		req.Header.Set("Content-Type", d.contentType)
	}
	for k, v := range d.headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	return req
}

type answer struct {
	status int
	Result string `json:"result"`
	Reason string `json:"reason"`
	Job    string `json:"job"`
	Kind   string `json:"kind"`
}

func (e *env) send(t testing.TB, d delivery) answer {
	t.Helper()
	return do(t, http.DefaultClient, e.request(t, d))
}

func do(t testing.TB, c *http.Client, req *http.Request) answer {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Header.Get("X-GitHub-Event"), req.Header.Get("X-GitHub-Delivery"), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := answer{status: resp.StatusCode}
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatalf("answer %q: %v", body, err)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("answer content type %q", ct)
	}
	return a
}

func (e *env) stats(t testing.TB) queue.Stats {
	t.Helper()
	s, err := e.queue.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (e *env) take(t testing.TB) queue.Job {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	j, err := e.queue.Take(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func TestNewRequiresSecretAndQueue(t *testing.T) {
	if _, err := New(Options{Queue: fakeQueue(nil)}); err == nil {
		t.Error("New without a secret succeeded")
	}
	if _, err := New(Options{Secret: []byte{}, Queue: fakeQueue(nil)}); err == nil {
		t.Error("New with an empty secret succeeded")
	}
	if _, err := New(Options{Secret: testSecret}); err == nil {
		t.Error("New without a queue succeeded")
	}
}

// TestKnownAnswerVector checks GitHub's documented signature test vector,
// both through Sign and through the handler.
func TestKnownAnswerVector(t *testing.T) {
	var v struct {
		Secret    string `json:"secret"`
		Payload   string `json:"payload"`
		Signature string `json:"X-Hub-Signature-256"`
	}
	if err := json.Unmarshal(payload(t, "headers/signature-test-vector.json"), &v); err != nil {
		t.Fatal(err)
	}
	if got := "sha256=" + hex.EncodeToString(sign([]byte(v.Secret), []byte(v.Payload))); got != v.Signature {
		t.Fatalf("Sign = %s, want %s", got, v.Signature)
	}
	if got := webhooktest.Signature256([]byte(v.Secret), []byte(v.Payload)); got != v.Signature {
		t.Fatalf("webhooktest.Signature256 = %s, want %s", got, v.Signature)
	}

	q := fakeQueue(nil)
	h, err := New(Options{Secret: []byte(v.Secret), Queue: q})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	send := func(body, sig string) int {
		// "issues" is accepted, then ignored: the body is not JSON.
		req, err := webhooktest.NewRequest(context.Background(), srv.URL, []byte(v.Secret), "issues", "72d3162e-cc78-11e3-81ab-4c9367dc0958", []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Hub-Signature-256", sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := send(v.Payload, v.Signature); got != http.StatusAccepted {
		t.Errorf("known-answer delivery: status %d, want 202", got)
	}
	if got := send(v.Payload+" ", v.Signature); got != http.StatusUnauthorized {
		t.Errorf("altered payload: status %d, want 401", got)
	}
	if got := send(v.Payload, strings.ToUpper(v.Signature[:7])+v.Signature[7:]); got != http.StatusUnauthorized {
		t.Errorf("SHA256= prefix: status %d, want 401", got)
	}
}

func TestQueuedJobs(t *testing.T) {
	pr := payload(t, "pull_request/opened.payload.json")
	tests := []struct {
		name, event string
		body        []byte
		want        queue.Job
	}{
		{"push to a new branch", "push", payload(t, "push/with-new-branch.payload.json"), queue.Job{
			Kind: queue.KindPublish, Ref: "refs/heads/master", SHA: "6113728f27ae82c7b1a177c8d03f9e96e0adf246", Reason: "push",
			Repo: queue.Repo{FullName: "Codertocat/Hello-World", CloneURL: "https://github.com/Codertocat/Hello-World.git", HTMLURL: "https://github.com/Codertocat/Hello-World", DefaultBranch: "master", InstallationID: 1},
		}},
		{"push without username", "push", payload(t, "push/with-no-username-committer.payload.json"), queue.Job{Kind: queue.KindPublish, Ref: "refs/heads/master", Reason: "push"}},
		{"pull request opened", "pull_request", pr, queue.Job{
			Kind: queue.KindPreview, Ref: "refs/pull/2/head", SHA: "ec26c3e57ca3a959ca5aad62de7213c562f8c821", PR: 2,
			BaseRef: "master", BaseSHA: "f95f852bd8fca8fcc58a9a2d6c842781e32a215e", Title: "Update the README with new information.", Reason: "pull_request.opened",
			Repo: queue.Repo{FullName: "Codertocat/Hello-World", CloneURL: "https://github.com/Codertocat/Hello-World.git", HTMLURL: "https://github.com/Codertocat/Hello-World", DefaultBranch: "master", InstallationID: 1},
		}},
		{"pull request with null body", "pull_request", payload(t, "pull_request/opened.with-null-body.json"), queue.Job{Kind: queue.KindPreview, PR: 2, Reason: "pull_request.opened"}},
		{"organization pull request", "pull_request", payload(t, "pull_request/opened.with-organization.payload.json"), queue.Job{Kind: queue.KindPreview, Reason: "pull_request.opened"}},
		{"pull request synchronize", "pull_request", payload(t, "pull_request/synchronize.payload.json"), queue.Job{Kind: queue.KindPreview, Reason: "pull_request.synchronize"}},
		{"pull request reopened", "pull_request", payload(t, "pull_request/reopened.payload.json"), queue.Job{Kind: queue.KindPreview, Reason: "pull_request.reopened"}},
		{"pull request ready for review", "pull_request", edit(t, pr, func(m map[string]any) { m["action"] = "ready_for_review" }), queue.Job{Kind: queue.KindPreview, Reason: "pull_request.ready_for_review"}},
		{"draft pull request", "pull_request", edit(t, pr, func(m map[string]any) { sub(m, "pull_request")["draft"] = true }), queue.Job{Kind: queue.KindPreview, Reason: "pull_request.opened"}},
		{"pull request closed", "pull_request", payload(t, "pull_request/closed.payload.json"), queue.Job{Kind: queue.KindCleanup, Ref: "refs/pull/2/head", PR: 2, Reason: "pull_request.closed"}},
		{"organization pull request closed", "pull_request", payload(t, "pull_request/closed.with-organization.payload.json"), queue.Job{Kind: queue.KindCleanup, Reason: "pull_request.closed"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			id := fmt.Sprintf("delivery-%d", i)
			a := e.send(t, delivery{event: tt.event, id: id, body: tt.body})
			if a.status != http.StatusAccepted || a.Result != "queued" || a.Job == "" || a.Kind != string(tt.want.Kind) {
				t.Fatalf("answer %+v, want 202 queued %s", a, tt.want.Kind)
			}
			got := e.take(t)
			if got.ID != a.Job || got.Delivery != id || got.Kind != tt.want.Kind || got.Reason != tt.want.Reason {
				t.Errorf("job %+v; answer %+v", got, a)
			}
			// Fields given in want are compared; the rest is checked loosely.
			check := func(name string, got, want any, zero bool) {
				if !zero && got != want {
					t.Errorf("%s = %v, want %v", name, got, want)
				}
			}
			w := tt.want
			check("Ref", got.Ref, w.Ref, w.Ref == "")
			check("SHA", got.SHA, w.SHA, w.SHA == "")
			check("PR", got.PR, w.PR, w.PR == 0)
			check("BaseRef", got.BaseRef, w.BaseRef, w.BaseRef == "")
			check("BaseSHA", got.BaseSHA, w.BaseSHA, w.BaseSHA == "")
			check("Title", got.Title, w.Title, w.Title == "")
			check("Repo", got.Repo, w.Repo, w.Repo == queue.Repo{})
			if len(got.SHA) != 40 || got.Repo.FullName == "" || got.Repo.CloneURL == "" {
				t.Errorf("job lacks SHA or repository: %+v", got)
			}
			if s := e.stats(t); s.Running != 1 || s.Queued != 0 {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

func TestPing(t *testing.T) {
	for _, name := range []string{"ping/payload.json", "ping/with-app_id.payload.json", "ping/with-organization.payload.json"} {
		e := newEnv(t)
		a := e.send(t, delivery{event: "ping", id: "p1", body: payload(t, name)})
		if a.status != http.StatusOK || a.Result != "pong" {
			t.Errorf("%s: %+v, want 200 pong", name, a)
		}
		if s := e.stats(t); s != (queue.Stats{}) {
			t.Errorf("%s queued something: %+v", name, s)
		}
	}
}

func TestIgnored(t *testing.T) {
	newBranch := payload(t, "push/with-new-branch.payload.json")
	pr := payload(t, "pull_request/opened.payload.json")
	tests := []struct {
		name, event string
		body        []byte
		reason      string
	}{
		{"tag deletion", "push", payload(t, "push/payload.json"), "refs/tags/simple-tag is not a branch"},
		{"tag deletion 1", "push", payload(t, "push/1.payload.json"), "not a branch"},
		{"tag deletion with installation", "push", payload(t, "push/with-installation.payload.json"), "not a branch"},
		{"tag deletion with organization", "push", payload(t, "push/with-organization.payload.json"), "not a branch"},
		{"tag push", "push", edit(t, newBranch, func(m map[string]any) { m["ref"] = "refs/tags/v1.0" }), "not a branch"},
		{"branch deletion", "push", edit(t, newBranch, func(m map[string]any) {
			m["deleted"], m["created"], m["after"], m["head_commit"], m["commits"] = true, false, strings.Repeat("0", 40), nil, []any{}
		}), "branch master was deleted"},
		{"pages branch", "push", edit(t, newBranch, func(m map[string]any) { m["ref"] = "refs/heads/gh-pages" }), "pushes to gh-pages are not published"},
		{"pull request edited", "pull_request", edit(t, pr, func(m map[string]any) { m["action"] = "edited" }), `pull_request action "edited" is not handled`},
		{"pull request labeled", "pull_request", edit(t, pr, func(m map[string]any) { m["action"] = "labeled" }), "not handled"},
		{"pull request into the pages branch", "pull_request", edit(t, pr, func(m map[string]any) { sub(sub(m, "pull_request"), "base")["ref"] = "gh-pages" }), "not previewed"},
		{"installation", "installation", payload(t, "installation/created.payload.json"), `event "installation" is not handled`},
		{"installation_repositories", "installation_repositories", payload(t, "installation_repositories/added.payload.json"), "not handled"},
		{"issues with a body that is not even JSON", "issues", []byte("not json"), "not handled"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			a := e.send(t, delivery{event: tt.event, id: fmt.Sprint("ignored-", i), body: tt.body})
			if a.status != http.StatusAccepted || a.Result != "ignored" || !strings.Contains(a.Reason, tt.reason) || a.Job != "" {
				t.Errorf("answer %+v, want 202 ignored %q", a, tt.reason)
			}
			if s := e.stats(t); s != (queue.Stats{}) {
				t.Errorf("queued something: %+v", s)
			}
		})
	}
}

// TestRejected sends deliveries that must be refused, checks that nothing
// was queued, and that the same delivery id is still accepted afterwards
// when it comes properly (nothing was remembered either).
func TestRejected(t *testing.T) {
	body := payload(t, "push/with-new-branch.payload.json")
	sha1Only := map[string]string{"X-Hub-Signature-256": ""}
	tests := []struct {
		name   string
		d      delivery
		status int
		reason string
	}{
		{"missing signature", delivery{headers: map[string]string{"X-Hub-Signature-256": "", "X-Hub-Signature": ""}}, 401, "missing X-Hub-Signature-256"},
		{"SHA-1 signature only", delivery{headers: sha1Only}, 401, "SHA-1"},
		{"wrong secret", delivery{secret: []byte("not the secret")}, 401, "does not match"},
		{"SHA-1 value in the SHA-256 header", delivery{headers: map[string]string{"X-Hub-Signature-256": "sha1=7d38cdd689735b008b3c702edd92eea23791c5f6"}}, 401, "malformed"},
		{"OpenAPI example signature (40 hex digits)", delivery{headers: map[string]string{"X-Hub-Signature-256": "sha256=6dcb09b5b57875f334f61aebed695e2e4193db5e"}}, 401, "malformed"},
		{"not hex", delivery{headers: map[string]string{"X-Hub-Signature-256": "sha256=" + strings.Repeat("zz", 32)}}, 401, "malformed"},
		{"no prefix", delivery{headers: map[string]string{"X-Hub-Signature-256": hex.EncodeToString(sign(testSecret, body))}}, 401, "malformed"},
		{"form-encoded", delivery{contentType: "application/x-www-form-urlencoded"}, 415, "application/x-www-form-urlencoded mode is not supported"},
		{"text/plain", delivery{contentType: "text/plain"}, 415, "application/json"},
		{"missing event", delivery{headers: map[string]string{"X-GitHub-Event": ""}}, 400, "X-GitHub-Event"},
		{"missing delivery id", delivery{headers: map[string]string{"X-GitHub-Delivery": ""}}, 400, "X-GitHub-Delivery"},
		{"truncated JSON", delivery{body: body[:len(body)/2]}, 400, "invalid push payload"},
		{"JSON null", delivery{body: []byte("null")}, 400, "payload is empty"},
		{"empty object", delivery{body: []byte("{}")}, 400, "no repository"},
		{"JSON of the wrong shape", delivery{body: []byte(`{"ref": 7}`)}, 400, "invalid push payload"},
		{"bad after SHA", delivery{body: edit(t, body, func(m map[string]any) { m["after"] = "HEAD" })}, 400, "after commit"},
		{"pull request without head SHA", delivery{event: "pull_request", body: edit(t, payload(t, "pull_request/opened.payload.json"), func(m map[string]any) {
			delete(sub(sub(m, "pull_request"), "head"), "sha")
		})}, 400, "head commit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			d := tt.d
			d.id = "72d3162e-cc78-11e3-81ab-4c9367dc0958"
			if d.event == "" {
				d.event = "push"
			}
			if d.body == nil {
				d.body = body
			}
			a := e.send(t, d)
			if a.status != tt.status || !strings.Contains(a.Reason, tt.reason) {
				t.Errorf("answer %+v, want %d %q", a, tt.status, tt.reason)
			}
			if s := e.stats(t); s != (queue.Stats{}) {
				t.Fatalf("queued something: %+v", s)
			}
			if a := e.send(t, delivery{event: "push", id: d.id, body: body}); a.status != http.StatusAccepted {
				t.Errorf("the same delivery sent properly afterwards: %+v, want 202", a)
			}
		})
	}
}

func TestTooLarge(t *testing.T) {
	e := newEnv(t)
	body := payload(t, "push/with-new-branch.payload.json")
	// 30 MB: valid JSON, padded with spaces, properly signed.
	big := append(bytes.Clone(body), bytes.Repeat([]byte(" "), 30<<20-len(body))...)
	a := e.send(t, delivery{event: "push", id: "big", body: big})
	if a.status != http.StatusRequestEntityTooLarge || a.Result != "too_large" {
		t.Errorf("30 MB delivery: %+v, want 413", a)
	}

	// Without a Content-Length the cap is enforced while reading.
	req := e.request(t, delivery{event: "push", id: "big-chunked", body: big})
	req.Body = io.NopCloser(bytes.NewReader(big))
	req.ContentLength = -1
	if a := do(t, http.DefaultClient, req); a.status != http.StatusRequestEntityTooLarge {
		t.Errorf("30 MB chunked delivery: %+v, want 413", a)
	}
	if s := e.stats(t); s != (queue.Stats{}) {
		t.Fatalf("queued something: %+v", s)
	}

	// Just under the cap is fine.
	fits := append(bytes.Clone(body), bytes.Repeat([]byte(" "), MaxBodyBytes-len(body))...)
	if a := e.send(t, delivery{event: "push", id: "fits", body: fits}); a.status != http.StatusAccepted {
		t.Errorf("25 MiB delivery: %+v, want 202", a)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	e := newEnv(t)
	resp, err := http.Get(e.srv.URL + "/webhook")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
		t.Errorf("GET: %d Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

func TestDuplicateDelivery(t *testing.T) {
	e := newEnv(t)
	d := delivery{event: "push", id: "72d3162e-cc78-11e3-81ab-4c9367dc0958", body: payload(t, "push/with-new-branch.payload.json")}
	if a := e.send(t, d); a.status != http.StatusAccepted {
		t.Fatalf("first: %+v", a)
	}
	a := e.send(t, d) // GitHub's "Redeliver" keeps the delivery id
	if a.status != http.StatusOK || a.Result != "duplicate" || a.Reason != "duplicate delivery" {
		t.Fatalf("second: %+v, want 200 duplicate delivery", a)
	}
	if s := e.stats(t); s != (queue.Stats{Queued: 1}) {
		t.Fatalf("stats %+v, want one job", s)
	}
}

// TestConcurrentDeliveries sends 200 deliveries at once, for 200
// repositories, then all of them again: every one is answered, every job is
// stored, and every repeat is recognised.
func TestConcurrentDeliveries(t *testing.T) {
	e := newEnv(t)
	base := payload(t, "push/with-new-branch.payload.json")
	const n = 200
	bodies := make([][]byte, n)
	for i := range bodies {
		bodies[i] = edit(t, base, func(m map[string]any) {
			r := sub(m, "repository")
			r["full_name"] = fmt.Sprintf("acme/blog-%03d", i)
			r["clone_url"] = fmt.Sprintf("https://github.com/acme/blog-%03d.git", i)
			m["after"] = fmt.Sprintf("%040x", i+1)
		})
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}}
	defer client.CloseIdleConnections()
	for round, want := range []string{"queued", "duplicate"} {
		answers := make([]answer, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				answers[i] = do(t, client, e.request(t, delivery{event: "push", id: fmt.Sprintf("d-%d", i), body: bodies[i]}))
			}()
		}
		wg.Wait()
		for i, a := range answers {
			if a.Result != want {
				t.Errorf("round %d delivery %d: %+v, want %s", round, i, a, want)
			}
		}
	}
	if s := e.stats(t); s != (queue.Stats{Queued: n}) {
		t.Fatalf("stats %+v, want %d queued", s, n)
	}
	seen := map[string]bool{}
	for range n {
		j := e.take(t)
		seen[j.Repo.FullName+"@"+j.SHA+"#"+j.Delivery] = true
	}
	for i := range n {
		if k := fmt.Sprintf("acme/blog-%03d@%040x#d-%d", i, i+1, i); !seen[k] {
			t.Errorf("job %s missing", k)
		}
	}
}

type fakeQueue func(queue.Job) error

func (f fakeQueue) Enqueue(_ context.Context, j queue.Job) error {
	if f == nil {
		return nil
	}
	return f(j)
}

func TestEnqueueFailure(t *testing.T) {
	body := payload(t, "push/with-new-branch.payload.json")
	logger, hook := logtest.NewNullLogger()
	h, err := New(Options{Secret: testSecret, Log: logrus.NewEntry(logger), Queue: fakeQueue(func(queue.Job) error {
		return fmt.Errorf("commit: %w", errors.New("disk full"))
	})})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	e := &env{srv: srv}
	a := e.send(t, delivery{event: "push", id: "d", body: body})
	if a.status != http.StatusServiceUnavailable || a.Result != "unavailable" {
		t.Fatalf("answer %+v, want 503", a)
	}
	last := hook.LastEntry()
	if last == nil || last.Level != logrus.ErrorLevel || !strings.Contains(fmt.Sprint(last.Data[logrus.ErrorKey]), "disk full") {
		t.Fatalf("log %+v", last)
	}

	t.Run("closed queue", func(t *testing.T) {
		e := newEnv(t)
		e.queue.Close()
		if a := e.send(t, delivery{event: "push", id: "d", body: body}); a.status != http.StatusServiceUnavailable {
			t.Fatalf("answer %+v, want 503", a)
		}
	})
}

func TestLogAndMetrics(t *testing.T) {
	e := newEnv(t)
	pr := payload(t, "pull_request/opened.payload.json")
	e.send(t, delivery{event: "pull_request", id: "d-1", body: pr})
	e.send(t, delivery{event: "pull_request", id: "d-1", body: pr})
	e.send(t, delivery{event: "push", id: "d-2", body: payload(t, "push/payload.json")})
	e.send(t, delivery{event: "push", id: "d-3", body: pr, secret: []byte("wrong")})

	entries := e.logs.AllEntries()
	if len(entries) != 4 {
		t.Fatalf("%d log lines, want one per delivery", len(entries))
	}
	first := entries[0]
	for k, want := range map[string]any{"delivery": "d-1", "event": "pull_request", "repo": "Codertocat/Hello-World", "sha": "ec26c3e57ca3a959ca5aad62de7213c562f8c821", "pr": 2, "result": "queued", "kind": queue.KindPreview} {
		if got := first.Data[k]; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("log field %s = %v, want %v", k, got, want)
		}
	}
	if first.Data["job"] == "" || first.Data["job"] == nil {
		t.Error("log has no job id")
	}
	for _, entry := range entries {
		line, _ := entry.String()
		if strings.Contains(line, string(testSecret)) || strings.Contains(line, "sha256=") || strings.Contains(line, hex.EncodeToString(sign(testSecret, pr))) {
			t.Errorf("log line reveals the secret or a signature: %s", line)
		}
	}
	if entries[1].Data["job"] != nil || entries[1].Data["result"] != "duplicate" {
		t.Errorf("a duplicate delivery logs a job id that was never stored: %v", entries[1].Data)
	}
	if got := entries[2].Data["detail"]; got == nil || !strings.Contains(fmt.Sprint(got), "not a branch") {
		t.Errorf("an ignored delivery's log says why in detail: %v", entries[2].Data)
	}
	if got := entries[3].Data["result"]; got != "unauthorized" || entries[3].Level != logrus.WarnLevel {
		t.Errorf("bad signature logged as %v at %v", got, entries[3].Level)
	}

	families, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "publishbot_webhook_deliveries_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			counts[labels["event"]+"/"+labels["result"]] = m.GetCounter().GetValue()
		}
	}
	want := map[string]float64{"pull_request/queued": 1, "pull_request/duplicate": 1, "push/ignored": 1, "unverified/unauthorized": 1}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("deliveries_total = %v, want %v", counts, want)
	}
	if m := NewMetrics(e.reg); m.deliveries == nil { // registering twice reuses the collectors
		t.Error("second NewMetrics")
	}
}

// TestConcurrentPushesOneBranch sends 200 pushes of different commits to one
// branch at once: all are acknowledged, and they coalesce into one publish
// of the branch head (the queue cannot order commits; the head is the newest).
func TestConcurrentPushesOneBranch(t *testing.T) {
	e := newEnv(t)
	base := payload(t, "push/with-new-branch.payload.json")
	const n = 200
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}}
	defer client.CloseIdleConnections()
	answers := make([]answer, n)
	var wg sync.WaitGroup
	for i := range n {
		body := edit(t, base, func(m map[string]any) { m["after"] = fmt.Sprintf("%040x", i+1) })
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = do(t, client, e.request(t, delivery{event: "push", id: fmt.Sprintf("d-%d", i), body: body}))
		}()
	}
	wg.Wait()
	for i, a := range answers {
		if a.status != http.StatusAccepted || a.Result != "queued" {
			t.Errorf("delivery %d: %+v", i, a)
		}
	}
	if s := e.stats(t); s != (queue.Stats{Queued: 1}) {
		t.Fatalf("stats %+v, want one coalesced job", s)
	}
	if j := e.take(t); j.SHA != "" || j.Ref != "refs/heads/master" || j.Kind != queue.KindPublish {
		t.Fatalf("job %+v, want a publish of the head of master", j)
	}
}

// blockingQueue holds every Enqueue until release is closed.
type blockingQueue struct {
	called  chan queue.Job
	release chan struct{}
	ctxErr  error
}

func (q *blockingQueue) Enqueue(ctx context.Context, j queue.Job) error {
	q.called <- j
	<-q.release
	q.ctxErr = ctx.Err()
	return nil
}

// TestAnswerAfterEnqueue checks that GitHub gets its answer only once the
// job is stored.
func TestAnswerAfterEnqueue(t *testing.T) {
	q := &blockingQueue{called: make(chan queue.Job, 1), release: make(chan struct{})}
	h, err := New(Options{Secret: testSecret, Queue: q})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	e := &env{srv: srv}
	answered := make(chan answer, 1)
	go func() {
		answered <- e.send(t, delivery{event: "push", id: "d", body: payload(t, "push/with-new-branch.payload.json")})
	}()
	<-q.called
	select {
	case a := <-answered:
		t.Fatalf("answered %+v before the job was stored", a)
	default:
	}
	close(q.release)
	if a := <-answered; a.status != http.StatusAccepted {
		t.Fatalf("answer %+v", a)
	}
}

// TestEnqueueOutlivesRequest checks that the job is stored with a context of
// its own: a request whose context has ended (GitHub hung up) still gets its
// job stored.
func TestEnqueueOutlivesRequest(t *testing.T) {
	q := &blockingQueue{called: make(chan queue.Job, 1), release: make(chan struct{})}
	close(q.release)
	h, err := New(Options{Secret: testSecret, Queue: q})
	if err != nil {
		t.Fatal(err)
	}
	body := payload(t, "push/with-new-branch.payload.json")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, err := webhooktest.NewRequest(ctx, "/webhook", testSecret, "push", "d", body)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted || q.ctxErr != nil {
		t.Fatalf("status %d, enqueue context error %v", rec.Code, q.ctxErr)
	}
}

// TestLargeBodiesAreBounded checks that only Options.LargeBodies deliveries
// over 1 MiB are read at once: the body of an unsigned request is held in
// memory before its signature can be checked. Small deliveries never wait.
func TestLargeBodiesAreBounded(t *testing.T) {
	q, err := queue.OpenBolt(filepath.Join(t.TempDir(), "queue.db"), queue.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	h, err := New(Options{Secret: testSecret, Queue: q, LargeBodies: 1, EnqueueTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e := &env{srv: srv, queue: q}

	body := payload(t, "push/with-new-branch.payload.json")
	big := append(bytes.Clone(body), bytes.Repeat([]byte(" "), 2<<20)...)

	// The first large delivery sends more than 1 MiB, then stalls.
	pr, pw := io.Pipe()
	first := e.request(t, delivery{event: "push", id: "big-1", body: big})
	first.Body, first.ContentLength = pr, -1
	answered := make(chan answer, 1)
	go func() { answered <- do(t, http.DefaultClient, first) }()
	if _, err := pw.Write(big[:smallBody+100]); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "the first large delivery to take its slot", 10*time.Second, func() bool { return len(h.large) > 0 })

	// A second one, announced by its Content-Length, finds no slot.
	if a := e.send(t, delivery{event: "push", id: "big-2", body: big}); a.status != http.StatusServiceUnavailable || a.Result != "unavailable" {
		t.Errorf("second large delivery: %+v, want 503", a)
	}
	// A small one goes through meanwhile.
	if a := e.send(t, delivery{event: "push", id: "small", body: body}); a.status != http.StatusAccepted {
		t.Errorf("small delivery during a large one: %+v, want 202", a)
	}

	// The first completes, and frees its slot.
	go func() {
		pw.Write(big[smallBody+100:])
		pw.Close()
	}()
	if a := <-answered; a.status != http.StatusOK && a.status != http.StatusAccepted {
		t.Errorf("first large delivery: %+v", a)
	}
	if len(h.large) != 0 {
		t.Error("the slot was not released")
	}
	if a := e.send(t, delivery{event: "push", id: "big-3", body: big}); a.status != http.StatusOK && a.status != http.StatusAccepted {
		t.Errorf("large delivery after the slot was freed: %+v", a)
	}
}
