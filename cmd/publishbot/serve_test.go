package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/publishbot/publishbot/testkit"
	"github.com/publishbot/publishbot/webhooktest"
)

func TestServePublishesSignedPush(t *testing.T) {
	w := newE2EWorld(t)
	s := w.startServe(nil)
	sha := w.initialContent()

	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/webhook": 405, "/nope": 404} {
		resp, err := http.Get("http://" + s.addr + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s = %d, want %d", path, resp.StatusCode, want)
		}
	}

	w.mustDeliverPush(s.addr, sha)
	w.waitPublished(sha, 60*time.Second)
	files := w.pagesFiles()
	for _, f := range []string{"index.html", "feed.xml", "sitemap.xml"} {
		if !files[f] {
			t.Errorf("pages e2eBranch lacks %s; has %d files", f, len(files))
		}
	}
	e2eWaitIdle(t, s.addr, 30*time.Second)
	if got := e2eMetric(t, s.addr, `publishbot_jobs_total{kind="publish",result="published"}`); got != 1 {
		t.Errorf("jobs published = %v, want 1", got)
	}
	if got := e2eMetric(t, s.addr, `publishbot_job_duration_seconds_count{kind="publish"}`); got != 1 {
		t.Errorf("job duration count = %v, want 1", got)
	}
	if got := e2eMetric(t, s.addr, `publishbot_webhook_deliveries_total{event="push",result="queued"}`); got != 1 {
		t.Errorf("webhook deliveries queued = %v, want 1", got)
	}
	// "pending" while GitHub Pages builds, then "success" once it is live.
	testkit.WaitFor(t, "a success status publishbot/publish on "+sha[:7], 30*time.Second, func() bool {
		for _, st := range w.api.Statuses(e2eFullName) {
			if st.SHA == sha && st.Context == "publishbot/publish" && st.State == "success" {
				return true
			}
		}
		return false
	})

	// A bad signature is refused and queues nothing.
	body := w.pushPayload(sha)
	req, err := webhooktest.NewRequest(t.Context(), "http://"+s.addr+"/webhook", []byte(e2eSecret), "push", "forged", body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Hub-Signature-256", "sha256="+strings.Repeat("0", 64))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("forged delivery: %d, want 401", resp.StatusCode)
	}

	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
	logs := s.logs.String()
	for _, want := range []string{`"msg":"listening"`, `"delivery":"e2e-`, `"job":`, `"repo":"` + e2eFullName + `"`, `"msg":"stopped"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s", want)
		}
	}
}

func TestServeRealPayloads(t *testing.T) {
	w := newE2EWorld(t)
	s := w.startServe(nil)
	read := func(rel string) []byte {
		b, err := os.ReadFile(sharedTestdata(t, "webhooks/"+rel))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		event, name string
		body        []byte
		want        int
	}{
		{"ping", "ping", read("ping/payload.json"), http.StatusOK},
		{"ping", "ping from an app", read("ping/with-app_id.payload.json"), http.StatusOK},
		{"push", "tag deletion", read("push/payload.json"), http.StatusAccepted},
		{"push", "tag deletion in an organization", read("push/with-organization.payload.json"), http.StatusAccepted},
		{"installation", "installation created", read("installation/created.payload.json"), http.StatusAccepted},
	}
	// The bot's own push to the pages branch comes back as a push event.
	own := strings.Replace(string(w.pushPayload(strings.Repeat("a", 40))), `"ref":"refs/heads/master"`, `"ref":"refs/heads/gh-pages"`, 1)
	if !strings.Contains(own, "refs/heads/gh-pages") {
		t.Fatal("could not point the payload at gh-pages")
	}
	tests = append(tests, struct {
		event, name string
		body        []byte
		want        int
	}{"push", "push to gh-pages", []byte(own), http.StatusAccepted})
	for i, tt := range tests {
		code, err := w.deliver(s.addr, tt.event, fmt.Sprintf("real-%d", i), tt.body)
		if err != nil || code != tt.want {
			t.Errorf("%s: %d %v, want %d", tt.name, code, err, tt.want)
		}
	}
	if got := e2eMetric(t, s.addr, `publishbot_webhook_deliveries_total{event="push",result="queued"}`); got > 0 {
		t.Errorf("ignored deliveries queued %v jobs", got)
	}

	// A branch created by a committer without a user name, pointed at our
	// repository.
	sha := w.initialContent()
	code, err := w.deliver(s.addr, "push", "real-committer", w.pushPayloadFrom("with-no-username-committer", sha))
	if err != nil || code != http.StatusAccepted {
		t.Fatalf("push: %d %v", code, err)
	}
	w.waitPublished(sha, 60*time.Second)
	e2eWaitIdle(t, s.addr, 30*time.Second)
	if got := e2eMetric(t, s.addr, `publishbot_jobs_total{kind="publish",result="published"}`); got != 1 {
		t.Errorf("published jobs = %v, want 1", got)
	}
}

func TestServeConcurrentDeliveries(t *testing.T) {
	w := newE2EWorld(t)
	s := w.startServe(nil)
	shas := []string{w.initialContent()}
	commits := 20
	if testing.Short() {
		commits = 5
	}
	for i := 1; i < commits; i++ {
		shas = append(shas, w.commit(map[string]string{
			fmt.Sprintf("posts/2026-02-%02d-p%d.md", i%28+1, i): e2ePost(fmt.Sprintf("Post %d", i), i, "Body."),
		}, ""))
	}
	newest := shas[len(shas)-1]

	const deliveries = 200
	var wg sync.WaitGroup
	codes := make([]int, deliveries)
	errs := make([]error, deliveries)
	for i := 0; i < deliveries; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sha := shas[i%len(shas)]
			codes[i], errs[i] = w.deliver(s.addr, "push", fmt.Sprintf("burst-%03d", i), w.pushPayload(sha))
		}()
	}
	wg.Wait()
	for i := range codes {
		if errs[i] != nil || codes[i] != http.StatusAccepted {
			t.Errorf("delivery %d: %d %v", i, codes[i], errs[i])
		}
	}
	if got := e2eMetric(t, s.addr, `publishbot_webhook_deliveries_total{event="push",result="queued"}`); got != deliveries {
		t.Errorf("deliveries queued = %v, want %d", got, deliveries)
	}
	w.waitPublished(newest, 120*time.Second)
	e2eWaitIdle(t, s.addr, 60*time.Second)
	if got := w.pagesSources(); got[0] != newest {
		t.Errorf("pages e2eBranch ends at %s, want the newest %s", got[0], newest)
	}
	if got := e2eMetric(t, s.addr, `publishbot_jobs_total{kind="publish",result="failed"}`); got > 0 {
		t.Errorf("%v jobs failed", got)
	}
}

func TestServeOutOfOrderDeliveries(t *testing.T) {
	w := newE2EWorld(t)
	s := w.startServe(nil)
	a := w.initialContent()
	b := w.commit(map[string]string{"posts/2026-03-01-c.md": e2ePost("Third", 3, "Later.")}, "B")

	w.mustDeliverPush(s.addr, b)
	w.waitPublished(b, 60*time.Second)
	w.mustDeliverPush(s.addr, a)
	e2eWaitIdle(t, s.addr, 60*time.Second)
	got := w.pagesSources()
	if got[0] != b {
		t.Errorf("pages e2eBranch at %s after A arrived late, want B %s", got[0], b)
	}
	for _, sha := range got {
		if sha == a {
			t.Errorf("A was published after B: %v", got)
		}
	}
}

func TestServeOutOfOrderQueued(t *testing.T) {
	// B and A are both queued, B first, while another publish runs: the
	// queue keeps the later arrival (A), and the site must still end at B.
	w := newE2EWorld(t)
	g := w.gate()
	s := w.startServe(nil)
	x := w.initialContent()
	w.mustDeliverPush(s.addr, x)
	g.waitStarted(t)

	a := w.commit(map[string]string{"posts/2026-03-01-c.md": e2ePost("Third", 3, "Later.")}, "A")
	b := w.commit(map[string]string{"posts/2026-03-02-d.md": e2ePost("Fourth", 4, "Later still.")}, "B")
	w.mustDeliverPush(s.addr, b)
	w.mustDeliverPush(s.addr, a)
	g.release(t, false)

	w.waitPublished(b, 60*time.Second)
	e2eWaitIdle(t, s.addr, 60*time.Second)
	if got := w.pagesSources(); got[0] != b {
		t.Errorf("pages e2eBranch sources %v, want B %s on top", got, b)
	}
}

func TestServeSchedulesFuturePost(t *testing.T) {
	w := newE2EWorld(t)
	s := w.startServe(nil)
	at := time.Now().UTC().Add(4 * time.Second).Truncate(time.Second)
	sha := w.commit(map[string]string{
		"publish.yaml":          e2ePublishYAML,
		"posts/2026-01-01-a.md": e2ePost("First", 1, "Hello."),
		"posts/soon.md":         fmt.Sprintf("---\ntitle: Soon\nslug: soon\ndate: %s\n---\n\nNot yet.\n", at.Format(time.RFC3339)),
	}, "a post for later")
	w.mustDeliverPush(s.addr, sha)
	w.waitPublished(sha, 60*time.Second)
	if w.pagesFiles()["posts/soon/index.html"] && time.Now().Before(at) {
		t.Fatal("the future post was published before its date")
	}
	testkit.WaitFor(t, "the future post to go live", 60*time.Second, func() bool {
		return w.pagesFiles()["posts/soon/index.html"]
	})
	if time.Now().Before(at) {
		t.Errorf("the post went live at %s, before its date %s", time.Now().UTC(), at)
	}
	if got := e2eMetric(t, s.addr, `publishbot_scheduled_publishes_total`); got < 1 {
		t.Errorf("scheduled publishes = %v", got)
	}
}

func TestServeReconcilesPushMadeWhileDown(t *testing.T) {
	w := newE2EWorld(t)
	s := w.startServe(nil)
	first := w.initialContent()
	w.mustDeliverPush(s.addr, first)
	w.waitPublished(first, 60*time.Second)
	e2eWaitIdle(t, s.addr, 30*time.Second)
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}

	// Pushed while the bot was down: GitHub's delivery failed and is never
	// retried.
	missed := w.commit(map[string]string{"posts/2026-04-01-d.md": e2ePost("While down", 4, "Missed.")}, "pushed while down")

	s2 := w.startServe(nil)
	w.waitPublished(missed, 60*time.Second)
	e2eWaitIdle(t, s2.addr, 30*time.Second)
	if got := e2eMetric(t, s2.addr, `publishbot_reconcile_checks_total{result="queued"}`); got != 1 {
		t.Errorf("reconcile queued = %v, want 1", got)
	}
}

func TestServeDrainsBeforeStopping(t *testing.T) {
	w := newE2EWorld(t)
	s := w.startServe(map[string]string{"PUBLISHBOT_DRAIN_DELAY": "3s"})
	sha := w.initialContent()
	s.cancel() // SIGTERM
	testkit.WaitFor(t, "/readyz to answer 503", 3*time.Second, func() bool {
		resp, err := http.Get("http://" + s.addr + "/readyz")
		if err != nil {
			t.Fatalf("readyz during the drain: %v", err)
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusServiceUnavailable
	})
	// Still taking webhooks: GitHub would not retry this one.
	w.mustDeliverPush(s.addr, sha)
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + s.addr + "/healthz"); err == nil {
		t.Error("still listening after the shutdown")
	}
	// The log tells the drain from the stop of webhooks, in that order.
	logs := s.logs.String()
	if i, j := strings.Index(logs, `"msg":"draining`), strings.Index(logs, `"msg":"no new webhooks`); i < 0 || j < i {
		t.Errorf("want the drain logged before webhooks stop:\n%s", logs)
	}
	// The delivery taken during the drain is published after a restart.
	s2 := w.startServe(nil)
	w.waitPublished(sha, 60*time.Second)
	e2eWaitIdle(t, s2.addr, 30*time.Second)
}

func TestServeRefusesSecondInstanceOnOneDataDir(t *testing.T) {
	w := newE2EWorld(t)
	w.startServe(nil)
	var stderr strings.Builder
	err := run(t.Context(), []string{"serve"}, envMap(w.env()), io.Discard, &stderr)
	if err == nil || !strings.Contains(err.Error(), "another process holds it") {
		t.Fatalf("second serve on one data dir: %v, want a clear refusal", err)
	}
}

// TestServeLeavesNoGoroutines checks that a stopped serve leaves nothing of
// its own running: not the worker, queue, reconciler, webhook or publisher,
// nor logrus's writer behind the HTTP server's error log.
func TestServeLeavesNoGoroutines(t *testing.T) {
	w := newE2EWorld(t)
	s := w.startServe(nil)
	sha := w.initialContent()
	w.mustDeliverPush(s.addr, sha)
	w.waitPublished(sha, 60*time.Second)
	e2eWaitIdle(t, s.addr, 30*time.Second)
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
	ours := func() []string {
		buf := make([]byte, 4<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var left []string
		for _, g := range strings.Split(string(buf), "\n\n") {
			for _, mark := range []string{"publishbot/worker.", "publishbot/queue.", "publishbot/webhook.", "publishbot/publisher.", "main.serve", "logrus.(*Entry).writerScanner"} {
				if strings.Contains(g, mark) {
					left = append(left, g)
					break
				}
			}
		}
		return left
	}
	var left []string
	t.Cleanup(func() {
		if len(left) > 0 {
			t.Logf("%d goroutines of serve left after it stopped:\n%s", len(left), strings.Join(left, "\n\n"))
		}
	})
	testkit.WaitFor(t, "serve's goroutines to end", 10*time.Second, func() bool {
		left = ours()
		return len(left) == 0
	})
}
