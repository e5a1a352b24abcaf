package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/publishbot/publishbot/gitserver"
	"github.com/publishbot/publishbot/queue/jetstream/natstest"
	"github.com/publishbot/publishbot/testkit"
	"github.com/publishbot/publishbot/webhooktest"
)

// The NATS tests run several `serve` replicas on one embedded nats-server
// (or a three-server cluster), each with its own data folder (its
// repository cache), against the world's git server and GitHub stand-in.

// natsLease is the replicas' lease in these tests: how long a stopped
// replica's job and lock wait before another replica takes them.
const natsLease = "3s"

// natsEnv is the environment of a replica on the NATS servers at urls.
func natsEnv(t testing.TB, urls string, extra map[string]string) map[string]string {
	env := map[string]string{
		"PUBLISHBOT_QUEUE":      urls,
		"PUBLISHBOT_NATS_LEASE": natsLease,
		"PUBLISHBOT_DATA_DIR":   t.TempDir(),
		"PUBLISHBOT_WORKERS":    "2",
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// startReplicas starts n in-process serve replicas on the NATS servers at
// urls.
func (w *e2eWorld) startReplicas(t testing.TB, n int, urls string, extra map[string]string) []*e2eServer {
	t.Helper()
	var out []*e2eServer
	for range n {
		out = append(out, w.startServe(natsEnv(t, urls, extra)))
	}
	return out
}

// front is one address in front of the replicas, round robin: GitHub's
// view of a load-balanced bot.
func front(t testing.TB, addrs ...string) string {
	t.Helper()
	var n atomic.Int64
	var targets []*url.URL
	for _, a := range addrs {
		targets = append(targets, &url.URL{Scheme: "http", Host: a})
	}
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(targets[int(n.Add(1))%len(targets)])
	}}
	srv := &http.Server{Handler: rp}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// repoCommit writes a commit on repo's source branch and returns its sha.
func (w *e2eWorld) repoCommit(repo string, files map[string]string) string {
	w.t.Helper()
	n := w.seq.Add(1)
	sha, err := w.git.Commit(context.Background(), repo, gitserver.Change{
		Ref: e2eBranch, Files: files, Message: fmt.Sprintf("change %d", n),
		When: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Minute),
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return sha
}

// repoPushPayload is GitHub's real push payload for repo at sha.
func (w *e2eWorld) repoPushPayload(repo, sha string) []byte {
	w.t.Helper()
	p := w.payload("push/with-new-branch.payload.json")
	r := p["repository"].(map[string]any)
	owner, name, _ := strings.Cut(repo, "/")
	r["full_name"], r["name"] = repo, name
	if o, ok := r["owner"].(map[string]any); ok {
		o["login"], o["name"] = owner, owner
	}
	p["after"], p["created"] = sha, false
	if hc, ok := p["head_commit"].(map[string]any); ok {
		hc["id"] = sha
	}
	b, err := json.Marshal(p)
	if err != nil {
		w.t.Fatal(err)
	}
	return b
}

// deliverResult posts a signed delivery and returns the status and the
// handler's result ("queued", "duplicate", ...).
func (w *e2eWorld) deliverResult(addr, event, delivery string, body []byte) (int, string, error) {
	req, err := webhooktest.NewRequest(context.Background(), "http://"+addr+"/webhook", []byte(e2eSecret), event, delivery, body)
	if err != nil {
		return 0, "", err
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var r struct {
		Result string `json:"result"`
	}
	json.Unmarshal(b, &r)
	return resp.StatusCode, r.Result, nil
}

// repoPagesSources lists the Source-Commit trailers of repo's pages
// branch, newest first; nil when the branch does not exist.
func (w *e2eWorld) repoPagesSources(repo string) []string {
	w.t.Helper()
	head, err := w.git.Head(context.Background(), repo, "gh-pages")
	if err != nil {
		w.t.Fatal(err)
	}
	if head == "" {
		return nil
	}
	out, err := w.git.Git(context.Background(), repo, "log", "--format=%B%x00", "gh-pages")
	if err != nil {
		w.t.Fatal(err)
	}
	var shas []string
	for _, msg := range strings.Split(out, "\x00") {
		if m := e2eSourceCommitRE.FindStringSubmatch(msg); m != nil {
			shas = append(shas, m[1])
		}
	}
	return shas
}

// jobSpan is one job's run on one replica, from its log lines.
type jobSpan struct {
	repo, id   string
	start, end time.Time
	replica    int
}

// jobSpans reads "job started" and "job finished"/"job failed" lines of
// every replica's log.
func jobSpans(t testing.TB, logs []string) []jobSpan {
	t.Helper()
	var spans []jobSpan
	for i, l := range logs {
		open := map[string]*jobSpan{}
		for _, line := range strings.Split(l, "\n") {
			var e struct {
				Msg  string    `json:"msg"`
				Time time.Time `json:"time"`
				Repo string    `json:"repo"`
				Job  string    `json:"job"`
			}
			if json.Unmarshal([]byte(line), &e) != nil || e.Job == "" {
				continue
			}
			switch e.Msg {
			case "job started":
				open[e.Job] = &jobSpan{repo: e.Repo, id: e.Job, start: e.Time, replica: i}
			case "job finished", "job failed":
				if s := open[e.Job]; s != nil {
					s.end = e.Time
					spans = append(spans, *s)
					delete(open, e.Job)
				}
			}
		}
		for id := range open {
			t.Errorf("replica %d: job %s started and never ended", i, id)
		}
	}
	return spans
}

// assertNoOverlap fails when two jobs of one repository ran at once.
func assertNoOverlap(t testing.TB, spans []jobSpan) {
	t.Helper()
	byRepo := map[string][]jobSpan{}
	for _, s := range spans {
		byRepo[s.repo] = append(byRepo[s.repo], s)
	}
	for repo, ss := range byRepo {
		sort.Slice(ss, func(i, j int) bool { return ss[i].start.Before(ss[j].start) })
		for i := 1; i < len(ss); i++ {
			if ss[i].start.Before(ss[i-1].end) {
				t.Errorf("%s: job %s (replica %d, %s..%s) overlaps job %s (replica %d, %s..%s)", repo,
					ss[i].id, ss[i].replica, ss[i].start.Format("15:04:05.000"), ss[i].end.Format("15:04:05.000"),
					ss[i-1].id, ss[i-1].replica, ss[i-1].start.Format("15:04:05.000"), ss[i-1].end.Format("15:04:05.000"))
			}
		}
	}
}

func logsOf(servers []*e2eServer) []string {
	var out []string
	for _, s := range servers {
		out = append(out, s.logs.String())
	}
	return out
}

// waitAllIdle waits until no replica reports a queued, delayed or running
// job (each sees the whole cluster's queue).
func waitAllIdle(t testing.TB, servers []*e2eServer, timeout time.Duration) {
	t.Helper()
	for _, s := range servers {
		e2eWaitIdle(t, s.addr, timeout)
	}
}

// TestNATSReplicasShareTheWork sends 300 deliveries for 10 repositories,
// 30 of them duplicates, through one address to three replicas: each
// pages branch ends at its newest commit, no commit is published twice,
// no two jobs of a repository overlap, and duplicates make no job.
func TestNATSReplicasShareTheWork(t *testing.T) {
	if testing.Short() {
		t.Skip("300 deliveries through three replicas")
	}
	w := newE2EWorld(t)
	srv := natstest.Start(t)
	const repos, perRepo, dups = 10, 27, 30 // 270 distinct deliveries + 30 duplicates
	names := make([]string, repos)
	shas := make([][]string, repos)
	for r := range repos {
		names[r] = fmt.Sprintf("acme/blog-%02d", r)
		if err := w.git.CreateRepo(context.Background(), names[r], e2eBranch); err != nil {
			t.Fatal(err)
		}
		for i := range perRepo {
			files := map[string]string{fmt.Sprintf("posts/2026-02-%02d-p%d.md", i%28+1, i): e2ePost(fmt.Sprintf("Post %d", i), i, "Words.")}
			if i == 0 {
				files["publish.yaml"] = e2ePublishYAML
			}
			shas[r] = append(shas[r], w.repoCommit(names[r], files))
		}
	}
	servers := w.startReplicas(t, 3, srv.URL(), nil)
	addr := front(t, servers[0].addr, servers[1].addr, servers[2].addr)

	type delivery struct {
		id   string
		body []byte
	}
	var (
		mu        sync.Mutex
		sent      []delivery
		wg        sync.WaitGroup
		results   = map[string]int{}
		failures  []string
		dupChosen = rand.Perm(repos * perRepo)[:dups]
	)
	record := func(code int, result string, err error, what string) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil || code/100 != 2 {
			failures = append(failures, fmt.Sprintf("%s: %d %v", what, code, err))
		}
		results[result]++
	}
	for r := range repos {
		wg.Go(func() {
			order := make([]int, perRepo)
			for i := range order {
				order[i] = i
			}
			// Some deliveries overtake the one before them.
			for i := 1; i+1 < perRepo; i += 5 {
				order[i], order[i+1] = order[i+1], order[i]
			}
			for _, i := range order {
				d := delivery{id: fmt.Sprintf("nats-%d-%d", r, i), body: w.repoPushPayload(names[r], shas[r][i])}
				code, result, err := w.deliverResult(addr, "push", d.id, d.body)
				record(code, result, err, d.id)
				mu.Lock()
				sent = append(sent, d)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, k := range dupChosen { // GitHub redelivers 30 of them
		d := sent[k]
		code, result, err := w.deliverResult(addr, "push", d.id, d.body)
		record(code, result, err, "again "+d.id)
	}
	if len(failures) > 0 {
		t.Fatalf("deliveries not acknowledged: %v", failures)
	}
	if results["duplicate"] != dups || results["queued"] != repos*perRepo {
		t.Errorf("results %v, want %d queued and %d duplicates", results, repos*perRepo, dups)
	}

	for r, name := range names {
		newest := shas[r][perRepo-1]
		testkit.WaitFor(t, name+" to be published at its newest commit", 5*time.Minute, func() bool {
			s := w.repoPagesSources(name)
			return len(s) > 0 && s[0] == newest
		})
	}
	waitAllIdle(t, servers, time.Minute)
	for _, name := range names {
		src := w.repoPagesSources(name)
		seen := map[string]bool{}
		for _, s := range src {
			if seen[s] {
				t.Errorf("%s: commit %s published twice (%v)", name, s[:7], src)
			}
			seen[s] = true
		}
	}
	spans := jobSpans(t, logsOf(servers))
	assertNoOverlap(t, spans)
	perReplica := make([]int, len(servers))
	for _, s := range spans {
		perReplica[s.replica]++
	}
	t.Logf("%d jobs for %d deliveries, per replica %v", len(spans), repos*perRepo+dups, perReplica)
	if len(spans) > repos*perRepo {
		t.Errorf("%d jobs ran for %d distinct deliveries: duplicates made jobs", len(spans), repos*perRepo)
	}
	for i, n := range perReplica {
		if n == 0 {
			t.Errorf("replica %d ran no job: the work is not shared", i)
		}
	}
}

// TestNATSReplicaKilledMidJob kills (SIGKILL) the replica whose job is
// pushing: another replica runs it again, and it is published once.
func TestNATSReplicaKilledMidJob(t *testing.T) {
	w := newE2EWorld(t)
	srv := natstest.Start(t)
	g := w.gate()
	procs := []*proc{
		w.startProc(t, natsEnv(t, srv.URL(), nil)),
		w.startProc(t, natsEnv(t, srv.URL(), nil)),
		w.startProc(t, natsEnv(t, srv.URL(), nil)),
	}
	sha := w.initialContent()
	w.mustDeliverPush(procs[0].addr, sha)
	g.waitStarted(t)

	running := -1
	testkit.WaitFor(t, "a replica to log the running job", 30*time.Second, func() bool {
		for i, p := range procs {
			if strings.Contains(p.logs.String(), `"msg":"job started"`) {
				running = i
				return true
			}
		}
		return false
	})
	if err := procs[running].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	procs[running].wait(t, 10*time.Second)
	g.release(t, true) // the dead replica's push is refused

	w.waitPublished(sha, 90*time.Second)
	var others []*proc
	for i, p := range procs {
		if i != running {
			others = append(others, p)
		}
	}
	e2eWaitIdle(t, others[0].addr, 30*time.Second)
	if got := w.pagesSources(); len(got) != 1 || got[0] != sha {
		t.Errorf("pages branch sources %v, want one publish of %s", got, sha)
	}
	took := 0
	for _, p := range others {
		if strings.Contains(p.logs.String(), `"attempt":2`) {
			took++
		}
	}
	if took != 1 {
		t.Errorf("%d replicas ran the job's second attempt, want 1", took)
	}
}

// TestNATSServerRestartLosesNoJob restarts the NATS server (file storage)
// while jobs are queued: none is lost; while it is down the replica is not
// ready and answers webhooks 503, never 2xx.
func TestNATSServerRestartLosesNoJob(t *testing.T) {
	w := newE2EWorld(t)
	srv := natstest.Start(t)
	g := w.gate()
	s := w.startServe(natsEnv(t, srv.URL(), map[string]string{"PUBLISHBOT_WORKERS": "1"}))
	held := w.initialContent()
	w.mustDeliverPush(s.addr, held)
	g.waitStarted(t) // the one worker is busy: what follows stays queued

	names := []string{"acme/q1", "acme/q2", "acme/q3"}
	want := map[string]string{}
	for i, name := range names {
		if err := w.git.CreateRepo(context.Background(), name, e2eBranch); err != nil {
			t.Fatal(err)
		}
		sha := w.repoCommit(name, map[string]string{"publish.yaml": e2ePublishYAML, "posts/2026-01-01-a.md": e2ePost("A", 1, "x")})
		code, result, err := w.deliverResult(s.addr, "push", fmt.Sprintf("restart-%d", i), w.repoPushPayload(name, sha))
		if err != nil || code/100 != 2 || result != "queued" {
			t.Fatalf("delivery for %s: %d %s %v", name, code, result, err)
		}
		want[name] = sha
	}

	srv.Shutdown()
	testkit.WaitFor(t, "/readyz to say not ready", 30*time.Second, func() bool {
		resp, err := http.Get("http://" + s.addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusServiceUnavailable
	})
	lost := w.repoCommit(names[0], map[string]string{"posts/2026-01-02-b.md": e2ePost("B", 2, "y")})
	code, _, err := w.deliverResult(s.addr, "push", "while-down", w.repoPushPayload(names[0], lost))
	if err != nil || code != http.StatusServiceUnavailable {
		t.Fatalf("delivery while NATS is down: %d %v, want 503", code, err)
	}

	srv.Restart()
	testkit.WaitFor(t, "/readyz to say ready again", 60*time.Second, func() bool {
		resp, err := http.Get("http://" + s.addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	// GitHub redelivers the refused delivery.
	if code, result, err := w.deliverResult(s.addr, "push", "while-down", w.repoPushPayload(names[0], lost)); err != nil || code/100 != 2 || result != "queued" {
		t.Fatalf("redelivery: %d %s %v", code, result, err)
	}
	want[names[0]] = lost
	g.release(t, false)
	w.waitPublished(held, 90*time.Second)
	for name, sha := range want {
		testkit.WaitFor(t, name+" to be published", 90*time.Second, func() bool {
			src := w.repoPagesSources(name)
			return len(src) > 0 && src[0] == sha
		})
	}
}

// TestNATSClusterLosesAServer runs the replicas on a three-server cluster
// with streams kept on all three: with one server killed, deliveries are
// still acknowledged and published.
func TestNATSClusterLosesAServer(t *testing.T) {
	if testing.Short() {
		t.Skip("a three-server NATS cluster")
	}
	w := newE2EWorld(t)
	cluster := natstest.StartCluster(t, 3)
	servers := w.startReplicas(t, 2, natstest.URLs(cluster), map[string]string{"PUBLISHBOT_NATS_REPLICAS": "3"})
	first := w.initialContent()
	w.mustDeliverPush(servers[0].addr, first)
	w.waitPublished(first, 90*time.Second)

	cluster[0].Shutdown()
	for i := range 3 {
		sha := w.commit(map[string]string{fmt.Sprintf("posts/2026-03-%02d-c%d.md", i+1, i): e2ePost(fmt.Sprintf("C%d", i), i, "z")}, "")
		id := fmt.Sprintf("cluster-%d", i)
		body := w.pushPayload(sha)
		// As GitHub would, redeliver until acknowledged (the cluster may
		// be electing new leaders for a moment).
		testkit.WaitFor(t, "delivery "+id+" to be acknowledged", 60*time.Second, func() bool {
			code, result, err := w.deliverResult(servers[i%2].addr, "push", id, body)
			return err == nil && code/100 == 2 && (result == "queued" || result == "duplicate")
		})
		w.waitPublished(sha, 90*time.Second)
	}
}

// TestNATSScheduleAndReconcileOnce runs three replicas: a scheduled post
// goes live by one publish, and only one replica reconciles, publishing a
// push whose webhook was lost once.
func TestNATSScheduleAndReconcileOnce(t *testing.T) {
	w := newE2EWorld(t)
	srv := natstest.Start(t)
	servers := w.startReplicas(t, 3, srv.URL(), map[string]string{"PUBLISHBOT_RECONCILE_INTERVAL": "1s"})

	at := time.Now().UTC().Add(5 * time.Second).Truncate(time.Second)
	sha := w.commit(map[string]string{
		"publish.yaml":          e2ePublishYAML,
		"posts/2026-01-01-a.md": e2ePost("First", 1, "Hello."),
		"posts/soon.md":         fmt.Sprintf("---\ntitle: Soon\nslug: soon\ndate: %s\n---\n\nNot yet.\n", at.Format(time.RFC3339)),
	}, "a post for later")
	w.mustDeliverPush(servers[0].addr, sha)
	w.waitPublished(sha, 60*time.Second)
	testkit.WaitFor(t, "the future post to go live", 60*time.Second, func() bool {
		return w.pagesFiles()["posts/soon/index.html"]
	})
	if time.Now().Before(at) {
		t.Errorf("the post went live before its date %s", at)
	}
	waitAllIdle(t, servers, 30*time.Second)
	if got := w.pagesSources(); len(got) != 2 {
		t.Errorf("pages branch has %d publishes %v, want 2: the push and one scheduled publish", len(got), got)
	}

	// A push whose webhook never came: the reconciler finds it.
	missed := w.commit(map[string]string{"posts/2026-04-01-d.md": e2ePost("Missed", 4, "Missed.")}, "webhook lost")
	w.waitPublished(missed, 60*time.Second)
	waitAllIdle(t, servers, 30*time.Second)
	if got := w.pagesSources(); len(got) != 3 || got[0] != missed {
		t.Errorf("pages branch sources %v, want the missed commit published once", got)
	}
	holders := 0
	for _, l := range logsOf(servers) {
		if strings.Contains(l, "reconciler lease held") {
			holders++
		}
	}
	if holders != 1 {
		t.Errorf("%d replicas held the reconciler lease, want 1", holders)
	}
	scheduled := 0
	for _, s := range servers {
		if v := e2eMetric(t, s.addr, `publishbot_scheduled_publishes_total`); v > 0 {
			scheduled += int(v)
		}
	}
	if scheduled < 1 {
		t.Errorf("no replica scheduled the publish")
	}
	for _, s := range servers {
		if got := e2eMetric(t, s.addr, "publishbot_nats_jobs_stored"); got != 0 {
			t.Errorf("publishbot_nats_jobs_stored = %v on an idle cluster, want 0", got)
		}
		if got := e2eMetric(t, s.addr, "publishbot_nats_jobs_dead"); got != 0 {
			t.Errorf("publishbot_nats_jobs_dead = %v, want 0", got)
		}
	}
	spans := jobSpans(t, logsOf(servers))
	assertNoOverlap(t, spans)
	if i := slices.IndexFunc(spans, func(s jobSpan) bool { return s.end.IsZero() }); i >= 0 {
		t.Errorf("job %+v has no end", spans[i])
	}
}

// TestNATSStatusPageShowsTheClusterQueue: the status page of one replica
// shows a job that died on another and queues it again.
func TestNATSStatusPageShowsTheClusterQueue(t *testing.T) {
	w := newE2EWorld(t)
	srv := natstest.Start(t)
	servers := w.startReplicas(t, 2, srv.URL(), map[string]string{"PUBLISHBOT_STATUS_TOKEN": e2eStatusToken, "PUBLISHBOT_MAX_ATTEMPTS": "1"})
	sha := w.commit(map[string]string{"publish.yaml": "title: [unclosed\n", "posts/2026-01-01-a.md": e2ePost("A", 1, "x")}, "broken configuration")
	w.mustDeliverPush(servers[0].addr, sha)

	var body string
	testkit.WaitFor(t, "the other replica's status page to show the dead job", 60*time.Second, func() bool {
		_, body = statusPage(t, servers[1].addr, e2eStatusToken)
		return strings.Contains(body, "<strong>1</strong> dead")
	})
	m := regexp.MustCompile(`name="job" value="([0-9a-f]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no retry form on the status page:\n%s", body)
	}
	id := m[1]
	started := func() int {
		n := 0
		for _, l := range logsOf(servers) {
			n += strings.Count(l, `"job":"`+id+`"`+`,"kind":"publish","level":"info","msg":"job started"`)
		}
		return n
	}
	if n := started(); n != 1 {
		t.Fatalf("job %s started %d times before the retry, want 1", id, n)
	}

	req, _ := http.NewRequest(http.MethodPost, "http://"+servers[1].addr+"/status/retry", strings.NewReader(url.Values{"job": {id}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+e2eStatusToken)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("retry: %d, want 303", resp.StatusCode)
	}
	testkit.WaitFor(t, "the retried job to run again and die again", 60*time.Second, func() bool {
		_, body = statusPage(t, servers[0].addr, e2eStatusToken)
		return started() == 2 && strings.Contains(body, "<strong>1</strong> dead")
	})
}
