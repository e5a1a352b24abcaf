package ghapi

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"
	"github.com/sirupsen/logrus"

	"github.com/publishbot/publishbot/ghapitest"
	"github.com/publishbot/publishbot/posts"
	"github.com/publishbot/publishbot/publisher"
	"github.com/publishbot/publishbot/queue"
)

const (
	testToken = "ghp_testtoken0123456789abcdefABCDEF0123"
	testSHA   = "ce587453ced02b1526dfb4cb910479d431683101"
	testPR    = 7
	testInst  = 4242
)

var testRepo = queue.Repo{
	FullName:      "acme/blog",
	CloneURL:      "https://github.com/acme/blog.git",
	HTMLURL:       "https://github.com/acme/blog",
	DefaultBranch: "main",
}

// sleeps records the waits of a client instead of waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// githubAPI is GitHub's API description from the shared test data, loaded
// once for the package's tests.
var githubAPI = sync.OnceValues(func() (*ghapitest.API, error) {
	return ghapitest.ProjectAPI()
})

// newGitHub starts the GitHub API stand-in with opts, checking every
// request against GitHub's API description: the test fails on any request
// that departs from it.
func newGitHub(t testing.TB, opts ghapitest.Options) *ghapitest.Server {
	t.Helper()
	api, err := githubAPI()
	if err != nil {
		t.Fatal(err)
	}
	opts.API = api
	return ghapitest.StartT(t, opts)
}

// tokenGitHub is the stand-in taking testToken.
func tokenGitHub(t testing.TB) *ghapitest.Server {
	return newGitHub(t, ghapitest.Options{Token: testToken})
}

func newTokenClient(t *testing.T, f *ghapitest.Server) (*Client, *sleeps) {
	t.Helper()
	s := &sleeps{}
	c, err := NewTokenClient(testToken, f.URL(), Options{Sleep: s.sleep})
	if err != nil {
		t.Fatal(err)
	}
	return c, s
}

var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

const testAppID = 99

// appGitHub is the stand-in trusting the test App's key (and testToken).
func appGitHub(t testing.TB) *ghapitest.Server {
	return newGitHub(t, ghapitest.Options{Token: testToken, AppID: testAppID, AppKey: &testKey().PublicKey})
}

func newAppClient(t *testing.T, f *ghapitest.Server) *Client {
	t.Helper()
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(testKey())})
	c, err := NewAppClient(testAppID, keyPEM, f.URL(), Options{Sleep: (&sleeps{}).sleep})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// marked is the comments on the test pull request (or issue) that carry
// the marker.
func marked(f *ghapitest.Server, issue int) []ghapitest.Comment {
	var out []ghapitest.Comment
	for _, c := range f.Comments(testRepo.FullName, issue) {
		if strings.Contains(c.Body, Marker) {
			out = append(out, c)
		}
	}
	return out
}

// ops lists the recorded requests as "METHOD operationId", in order.
func ops(f *ghapitest.Server) []string {
	var out []string
	for _, r := range f.Requests() {
		out = append(out, r.Method+" "+r.Op)
	}
	return out
}

// checkRunOutput is the output sent with a check run request.
func checkRunOutput(t *testing.T, r ghapitest.Request) *github.CheckRunOutput {
	t.Helper()
	var in struct {
		Output *github.CheckRunOutput `json:"output"`
	}
	if err := json.Unmarshal(r.Body, &in); err != nil {
		t.Fatal(err)
	}
	if in.Output == nil {
		return &github.CheckRunOutput{}
	}
	return in.Output
}

// field is one top-level field of a request's JSON body, and whether it is
// there.
func field(t *testing.T, r ghapitest.Request, name string) (any, bool) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatal(err)
	}
	v, ok := m[name]
	return v, ok
}

func previewResult() publisher.Result {
	repo := testRepo
	return publisher.Result{
		Job: queue.Job{
			ID: "job-1", Kind: queue.KindPreview, Repo: repo, Ref: "refs/pull/7/head", SHA: testSHA,
			PR: testPR, BaseRef: "main", Title: "A fresh post", Delivery: "d-1", Attempt: 1,
			Created: time.Date(2026, 6, 14, 9, 59, 0, 0, time.UTC),
		},
		Outcome:     publisher.OutcomePublished,
		SourceSHA:   testSHA,
		PagesCommit: "9a1b2c3d4e5f60718293a4b5c6d7e8f901234567",
		SiteURL:     "https://acme.github.io/blog/pr-preview/pr-7/",
		Changed: []publisher.ChangedPost{
			{Path: "posts/2026-06-14-a-fresh-post.md", Title: "A fresh post from a PR", Status: "added",
				URL: "https://acme.github.io/blog/pr-preview/pr-7/posts/a-fresh-post/", ReadingTime: 3, IndexPage: 1},
			{Path: "posts/2019-01-02-old.md", Title: "New title", OldTitle: "Old title", Status: "changed",
				URL: "https://acme.github.io/blog/pr-preview/pr-7/posts/old/", ReadingTime: 5, IndexPage: 2},
		},
		Total: 812 * time.Millisecond,
	}
}

func withDiagnostics(r publisher.Result) publisher.Result {
	r.Changed = append(r.Changed, publisher.ChangedPost{Path: "posts/broken.md", Title: "Broken | post", Status: "added"})
	r.Diagnostics = []posts.Diagnostic{
		{File: "posts/broken.md", Line: 2, Column: 1, Severity: posts.SeverityError, Code: "missing-title", Message: "title is required"},
		{File: "posts/2026-06-14-a-fresh-post.md", Line: 9, Column: 3, Severity: posts.SeverityWarning, Code: "image-alt", Message: "image has no alt text <img>"},
		{File: "publish.yaml", Line: 0, Severity: posts.SeverityWarning, Code: "unknown-key", Message: "unknown key \"colour\""},
	}
	return r
}

func TestPreviewCreatesOneCommentThenEditsIt(t *testing.T) {
	f := tokenGitHub(t)
	c, _ := newTokenClient(t, f)
	ctx := context.Background()

	if err := c.Report(ctx, previewResult()); err != nil {
		t.Fatalf("first report: %v", err)
	}
	got := marked(f, testPR)
	if len(got) != 1 {
		t.Fatalf("after the first report: %d marked comments, want 1", len(got))
	}
	for _, want := range []string{
		"https://acme.github.io/blog/pr-preview/pr-7/posts/a-fresh-post/",
		"https://acme.github.io/blog/pr-preview/pr-7/posts/old/",
		"3 min read · page 1 of the index", "`ce58745`", Marker,
	} {
		if !strings.Contains(got[0].Body, want) {
			t.Errorf("comment lacks %q:\n%s", want, got[0].Body)
		}
	}
	if n := f.Count("issues/create-comment"); n != 1 {
		t.Errorf("created %d comments, want 1", n)
	}

	second := previewResult()
	second.SourceSHA = "1111111111111111111111111111111111111111"
	second.Job.SHA = second.SourceSHA
	if err := c.Report(ctx, second); err != nil {
		t.Fatalf("second report: %v", err)
	}
	after := marked(f, testPR)
	if len(after) != 1 || after[0].ID != got[0].ID {
		t.Fatalf("after the second report: %+v, want comment %d edited", after, got[0].ID)
	}
	if !strings.Contains(after[0].Body, "`1111111`") {
		t.Errorf("edited comment does not name the new commit:\n%s", after[0].Body)
	}
	if n := f.Count("issues/update-comment"); n != 1 {
		t.Errorf("%d comment edits, want 1", n)
	}
	if n := f.Count("issues/create-comment"); n != 1 {
		t.Errorf("%d comments created in all, want 1", n)
	}

	// A redelivery of the same result changes nothing: no edit either.
	if err := c.Report(ctx, second); err != nil {
		t.Fatalf("redelivered report: %v", err)
	}
	if n := f.Count("issues/update-comment"); n != 1 {
		t.Errorf("identical body edited again: %d edits", n)
	}
	for _, r := range f.Requests() {
		if r.Authorization != "Bearer "+testToken {
			t.Errorf("%s %s sent Authorization %q", r.Method, r.Path, r.Authorization)
		}
	}
}

func TestMarkerOnSecondPageIsFound(t *testing.T) {
	f := newGitHub(t, ghapitest.Options{Token: testToken, PageSize: 3})
	c, _ := newTokenClient(t, f)
	for i := range 4 {
		f.AddComment(testRepo.FullName, testPR, fmt.Sprintf("LGTM %d", i))
	}
	id := f.AddComment(testRepo.FullName, testPR, "old preview text\n\n"+Marker+"\n")
	f.AddComment(testRepo.FullName, testPR, "thanks!")

	if err := c.Report(context.Background(), previewResult()); err != nil {
		t.Fatal(err)
	}
	got := marked(f, testPR)
	if len(got) != 1 || got[0].ID != id {
		t.Fatalf("marked comments %+v, want only %d", got, id)
	}
	if strings.Contains(got[0].Body, "old preview text") {
		t.Errorf("comment on page 2 was not edited")
	}
	pages := 0
	for _, r := range f.Requests() {
		if r.Op == "issues/list-comments" {
			pages++
		}
	}
	if pages != 2 {
		t.Errorf("listed %d pages, want 2 (Link header followed)", pages)
	}
	if n := f.Count("issues/create-comment"); n != 0 {
		t.Errorf("created %d comments, want 0", n)
	}
}

func TestConcurrentReportsKeepOneComment(t *testing.T) {
	t.Run("one client", func(t *testing.T) {
		f := tokenGitHub(t)
		c, _ := newTokenClient(t, f)
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := previewResult()
				r.Total = time.Duration(i+1) * time.Second
				errs[i] = c.Report(context.Background(), r)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if got := marked(f, testPR); len(got) != 1 {
			t.Fatalf("%d marked comments, want 1", len(got))
		}
		if n := f.Count("issues/create-comment"); n != 1 {
			t.Errorf("%d comments created, want 1", n)
		}
	})
	t.Run("two replicas racing", func(t *testing.T) {
		// Two processes (two clients) both list before either creates:
		// both create, then the re-list removes the younger twin.
		arrived := make(chan struct{}, 2)
		release := make(chan struct{})
		var once sync.Once
		var mu sync.Mutex
		lists := 0
		f := newGitHub(t, ghapitest.Options{Token: testToken, BeforeList: func() {
			mu.Lock()
			lists++
			first := lists <= 2
			mu.Unlock()
			if !first {
				return
			}
			arrived <- struct{}{}
			<-release
		}})
		a, _ := newTokenClient(t, f)
		b, _ := newTokenClient(t, f)
		go func() {
			<-arrived
			<-arrived
			once.Do(func() { close(release) })
		}()
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, c := range []*Client{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := previewResult()
				r.Total = time.Duration(i+1) * time.Second
				errs[i] = c.Report(context.Background(), r)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		got := marked(f, testPR)
		if len(got) != 1 {
			t.Fatalf("%d marked comments, want 1", len(got))
		}
		if n := f.Count("issues/create-comment"); n != 2 {
			t.Errorf("%d comments created, want 2 (the race this test stages)", n)
		}
		if got[0].ID != 1001 {
			t.Errorf("kept comment %d, want the oldest, 1001", got[0].ID)
		}
	})
}

func TestCleanupSaysPreviewRemoved(t *testing.T) {
	f := tokenGitHub(t)
	c, _ := newTokenClient(t, f)
	ctx := context.Background()
	if err := c.Report(ctx, previewResult()); err != nil {
		t.Fatal(err)
	}
	r := previewResult()
	r.Job.Kind, r.Outcome, r.Changed = queue.KindCleanup, publisher.OutcomeRemoved, nil
	if err := c.Report(ctx, r); err != nil {
		t.Fatal(err)
	}
	got := marked(f, testPR)
	if len(got) != 1 || !strings.Contains(got[0].Body, "preview of #7 was removed") {
		t.Fatalf("after clean-up: %+v", got)
	}
	if strings.Contains(got[0].Body, "a-fresh-post") {
		t.Errorf("removed comment still links the preview:\n%s", got[0].Body)
	}

	// A pull request that never had a preview gets no comment on closing.
	r.Job.PR = 8
	if err := c.Report(ctx, r); err != nil {
		t.Fatal(err)
	}
	if got := marked(f, 8); len(got) != 0 {
		t.Errorf("clean-up of a never-previewed PR created %d comments", len(got))
	}
}

func TestAppReportsCheckRunWithAnnotations(t *testing.T) {
	f := appGitHub(t)
	c := newAppClient(t, f)
	r := withDiagnostics(previewResult())
	r.Job.Repo.InstallationID = testInst
	if err := c.Report(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if n := f.Count("apps/create-installation-access-token"); n != 1 {
		t.Errorf("%d installation tokens fetched, want 1", n)
	}
	for _, req := range f.Requests() {
		if req.Op == "apps/create-installation-access-token" {
			if req.Path != fmt.Sprintf("/app/installations/%d/access_tokens", testInst) {
				t.Errorf("token fetched at %s", req.Path)
			}
			continue
		}
		if !strings.HasPrefix(req.Authorization, "token ghs_") {
			t.Errorf("%s %s not authenticated with the installation token: %q", req.Method, req.Path, req.Authorization)
		}
	}
	runs := f.CheckRuns(testRepo.FullName)
	if len(runs) != 1 {
		t.Fatalf("%d check runs, want 1", len(runs))
	}
	for _, run := range runs {
		if run.Name != "publishbot" || run.HeadSHA != testSHA || run.Conclusion != "failure" {
			t.Errorf("check run %+v", run)
		}
		want := []struct {
			path  string
			line  int
			level string
		}{
			{"posts/broken.md", 2, "failure"},
			{"posts/2026-06-14-a-fresh-post.md", 9, "warning"},
			{"publish.yaml", 1, "warning"},
		}
		if len(run.Annotations) != len(want) {
			t.Fatalf("%d annotations, want %d", len(run.Annotations), len(want))
		}
		for i, w := range want {
			a := run.Annotations[i]
			if a.GetPath() != w.path || a.GetStartLine() != w.line || a.GetEndLine() != w.line || a.GetAnnotationLevel() != w.level {
				t.Errorf("annotation %d = %+v, want %s:%v %s", i, a, w.path, w.line, w.level)
			}
		}
	}
	if n := len(f.Statuses(testRepo.FullName)); n != 0 {
		t.Errorf("an App set %d commit statuses, want a check run only", n)
	}

	// The token for git is the same installation token, cached.
	tok, err := c.Token(context.Background(), r.Job.Repo)
	if err != nil || !strings.HasPrefix(tok, "ghs_") {
		t.Fatalf("Token = %q, %v", tok, err)
	}
	if n := f.Count("apps/create-installation-access-token"); n != 1 {
		t.Errorf("token fetched %d times, want 1 (cached)", n)
	}
	if _, err := c.Token(context.Background(), testRepo); !errors.Is(err, ErrNoInstallation) {
		t.Errorf("Token without installation id: %v, want ErrNoInstallation", err)
	}
}

func TestCheckRunSuccessWithoutErrors(t *testing.T) {
	f := appGitHub(t)
	c := newAppClient(t, f)
	r := previewResult()
	r.Job.Repo.InstallationID = testInst
	if err := c.Report(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	for _, run := range f.CheckRuns(testRepo.FullName) {
		if run.Conclusion != "success" || run.DetailsURL != r.SiteURL {
			t.Errorf("check run %+v", run)
		}
	}
}

func TestAnnotationsInBatchesOf50(t *testing.T) {
	f := appGitHub(t)
	c := newAppClient(t, f)
	r := previewResult()
	r.Job.Repo.InstallationID = testInst
	for i := range 120 {
		sev := posts.SeverityWarning
		if i%7 == 0 {
			sev = posts.SeverityError
		}
		r.Diagnostics = append(r.Diagnostics, posts.Diagnostic{
			File: fmt.Sprintf("posts/p%03d.md", i), Line: i + 1, Severity: sev, Code: "image-alt", Message: "image has no alt text",
		})
	}
	if err := c.Report(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, req := range f.Requests() {
		if req.Op == "checks/create" || req.Op == "checks/update" {
			sizes = append(sizes, len(checkRunOutput(t, req).Annotations))
		}
	}
	if fmt.Sprint(sizes) != "[50 50 20]" {
		t.Fatalf("annotation batches %v, want [50 50 20]", sizes)
	}
	for _, run := range f.CheckRuns(testRepo.FullName) {
		for i, a := range run.Annotations {
			if a.GetPath() != fmt.Sprintf("posts/p%03d.md", i) || a.GetStartLine() != i+1 {
				t.Fatalf("annotation %d = %+v", i, a)
			}
		}
	}
}

func TestTokenReportsCommitStatus(t *testing.T) {
	f := tokenGitHub(t)
	c, _ := newTokenClient(t, f)
	ctx := context.Background()
	if err := c.Report(ctx, withDiagnostics(previewResult())); err != nil {
		t.Fatal(err)
	}
	if n := len(f.CheckRuns(testRepo.FullName)); n != 0 {
		t.Errorf("a token created %d check runs", n)
	}
	statuses := f.Statuses(testRepo.FullName)
	if len(statuses) != 1 {
		t.Fatalf("%d statuses, want 1", len(statuses))
	}
	st := statuses[0]
	if st.Context != "publishbot/preview" || st.State != "failure" || st.TargetURL != "https://acme.github.io/blog/pr-preview/pr-7/" {
		t.Errorf("status %+v", st)
	}
	if d := st.Description; len([]rune(d)) > 140 || d == "" {
		t.Errorf("description %q", d)
	}
	for _, req := range f.Requests() {
		if req.Op == "repos/create-commit-status" && req.Path != "/repos/acme/blog/statuses/"+testSHA {
			t.Errorf("status posted to %s", req.Path)
		}
	}

	// A publish of the source branch sets publishbot/publish, target the site.
	pub := previewResult()
	pub.Job.Kind, pub.Job.PR, pub.Job.Ref = queue.KindPublish, 0, "refs/heads/main"
	pub.SiteURL, pub.Changed = "https://acme.github.io/blog/", nil
	if err := c.Report(ctx, pub); err != nil {
		t.Fatal(err)
	}
	statuses = f.Statuses(testRepo.FullName)
	if len(statuses) != 2 || statuses[1].Context != "publishbot/publish" || statuses[1].State != "success" ||
		statuses[1].TargetURL != "https://acme.github.io/blog/" {
		t.Errorf("publish status %+v", statuses[len(statuses)-1])
	}
	if n := len(marked(f, 0)); n != 0 {
		t.Errorf("a publish wrote a comment")
	}

	// A failed preview: state error, no secret in the description.
	failed := previewResult()
	failed.Outcome = publisher.OutcomeFailed
	failed.Err = fmt.Errorf("push https://x-access-token:%s@github.com/acme/blog.git: connection reset", testToken)
	if err := c.Report(ctx, failed); err != nil {
		t.Fatal(err)
	}
	statuses = f.Statuses(testRepo.FullName)
	last := statuses[len(statuses)-1]
	if last.State != "error" || strings.Contains(fmt.Sprint(last), testToken) {
		t.Errorf("failed status %+v", last)
	}
	if body := marked(f, testPR)[0].Body; strings.Contains(body, testToken) || !strings.Contains(body, "failed") {
		t.Errorf("failed comment:\n%s", body)
	}
}

func TestHugeDiagnosticListStaysUnderLimit(t *testing.T) {
	f := tokenGitHub(t)
	c, _ := newTokenClient(t, f)
	r := previewResult()
	for i := range 2000 {
		sev := posts.SeverityWarning
		if i%4 == 0 {
			sev = posts.SeverityError
		}
		r.Diagnostics = append(r.Diagnostics, posts.Diagnostic{
			File: fmt.Sprintf("posts/2026-06-14-a-rather-long-file-name-%04d.md", i), Line: i + 1, Severity: sev,
			Code: "unknown-front-matter-field", Message: "front matter field \"colour\" is not known; did you mean \"color\"? It is ignored.",
		})
	}
	if err := c.Report(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	got := marked(f, testPR)
	if len(got) != 1 {
		t.Fatalf("%d comments", len(got))
	}
	body := got[0].Body
	if len(body) >= MaxCommentLen {
		t.Fatalf("comment is %d bytes, limit %d", len(body), MaxCommentLen)
	}
	for _, want := range []string{"more errors", "more warnings", "A fresh post from a PR", Marker, "2 posts changed, 500 errors, 1500 warnings"} {
		if !strings.Contains(body, want) {
			t.Errorf("comment lacks %q", want)
		}
	}
}

func TestRetriesServerErrorsAndSecondaryRateLimit(t *testing.T) {
	f := tokenGitHub(t)
	c, s := newTokenClient(t, f)
	f.Fail("POST", "/repos/acme/blog/issues/7/comments", 502, nil, `{"message":"Server Error"}`)
	f.Fail("POST", "/repos/acme/blog/issues/7/comments", 502, nil, `{"message":"Server Error"}`)
	f.Fail("POST", "/repos/acme/blog/issues/7/comments", 403, http.Header{"Retry-After": {"30"}},
		`{"message":"You have exceeded a secondary rate limit and have been temporarily blocked from content creation. Please retry your request again later.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`)
	if err := c.Report(context.Background(), previewResult()); err != nil {
		t.Fatalf("report: %v", err)
	}
	if got := marked(f, testPR); len(got) != 1 {
		t.Fatalf("%d comments, want 1", len(got))
	}
	var posts []ghapitest.Request
	for _, r := range f.Requests() {
		if r.Op == "issues/create-comment" {
			posts = append(posts, r)
		}
	}
	if len(posts) != 4 {
		t.Fatalf("%d comment POSTs, want 4 (502, 502, 403, 201)", len(posts))
	}
	for _, p := range posts {
		if body, _ := field(t, p, "body"); !strings.Contains(fmt.Sprint(body), Marker) {
			t.Errorf("retried POST lost its body: %s", p.Body)
		}
	}
	if got := fmt.Sprint(s.all()); got != "[1s 2s 30s]" {
		t.Errorf("waits %s, want [1s 2s 30s]", got)
	}
}

func TestUnauthorizedFailsClearly(t *testing.T) {
	f := newGitHub(t, ghapitest.Options{Token: "the-right-token"})
	c, err := NewTokenClient("ghp_wrongtoken000000000000000000000000", f.URL(), Options{Sleep: (&sleeps{}).sleep})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Report(context.Background(), previewResult())
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("err = %v, want ErrUnauthorized", err)
	}
	if strings.Contains(err.Error(), "ghp_wrongtoken") {
		t.Errorf("error leaks the token: %v", err)
	}
	if !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "Bad credentials") {
		t.Errorf("error is not clear: %v", err)
	}
	if n := len(f.Requests()); n != 2 { // the comment listing and the status, each once: no retries
		t.Errorf("%d requests, want 2 (no retries): %v", n, ops(f))
	}
}

func TestNotFoundFailsClearly(t *testing.T) {
	f := tokenGitHub(t)
	c, _ := newTokenClient(t, f)
	f.Fail("GET", "/repos/acme/blog/issues/7/comments", 404, nil, `{"message":"Not Found"}`)
	err := c.Report(context.Background(), previewResult())
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	if n := f.Count("issues/create-comment"); n != 0 {
		t.Errorf("created a comment after the listing failed")
	}
}

func TestSkippedReportsNothing(t *testing.T) {
	f := tokenGitHub(t)
	c, _ := newTokenClient(t, f)
	r := previewResult()
	r.Outcome = publisher.OutcomeSkipped
	if err := c.Report(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if n := len(f.Requests()); n != 0 {
		t.Errorf("%d requests for a skipped job", n)
	}
}

func TestLogsCarryNoSecrets(t *testing.T) {
	f := appGitHub(t)
	var buf strings.Builder
	var mu sync.Mutex
	l := logrus.New()
	l.SetLevel(logrus.DebugLevel)
	l.SetOutput(writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return buf.Write(p) }))
	l.SetFormatter(&logrus.JSONFormatter{})

	tc, err := NewTokenClient(testToken, f.URL(), Options{Log: logrus.NewEntry(l), Sleep: (&sleeps{}).sleep})
	if err != nil {
		t.Fatal(err)
	}
	f.Fail("GET", "/repos/", 502, nil, "")
	if err := tc.Report(context.Background(), withDiagnostics(previewResult())); err != nil {
		t.Fatal(err)
	}
	app := newAppClient(t, f)
	app.log = logrus.NewEntry(l)
	r := withDiagnostics(previewResult())
	r.Job.Repo.InstallationID = testInst
	if err := app.Report(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	for _, secret := range []string{testToken, "ghs_", "PRIVATE KEY", "eyJ"} {
		if strings.Contains(out, secret) {
			t.Errorf("log carries %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{`"job":"job-1"`, `"repo":"acme/blog"`, `"pr":7`, `"sha":"` + testSHA, "github request retried", "preview comment"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}

type writerFunc func([]byte) (int, error)

func (w writerFunc) Write(p []byte) (int, error) { return w(p) }

func TestEnterpriseAPIPath(t *testing.T) {
	f := appGitHub(t)
	ghes := httptest.NewServer(http.StripPrefix("/api/v3", f))
	defer ghes.Close()
	c := newAppClient(t, f)
	c2, err := NewAppClient(99, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(testKey())}),
		ghes.URL+"/api/v3", Options{Sleep: (&sleeps{}).sleep})
	if err != nil {
		t.Fatal(err)
	}
	_ = c
	r := previewResult()
	r.Job.Repo.InstallationID = testInst
	if err := c2.Report(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if f.Count("apps/create-installation-access-token") != 1 || f.Count("issues/create-comment") != 1 || f.Count("checks/create") != 1 {
		t.Errorf("requests under /api/v3: %v", ops(f))
	}
}

func TestConstructorsRejectBadInput(t *testing.T) {
	if _, err := NewTokenClient("", "", Options{}); err == nil {
		t.Error("empty token accepted")
	}
	if _, err := NewTokenClient("t", "ftp://x/", Options{}); err == nil {
		t.Error("ftp api url accepted")
	}
	if _, err := NewTokenClient("t", "https://user:secret@ghe.example.com/api/v3/", Options{}); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("credentials in the api url: %v", err)
	}
	key := "-----BEGIN RSA PRIVATE KEY-----\nbm90IGEga2V5\n-----END RSA PRIVATE KEY-----\n"
	_, err := NewAppClient(1, []byte(key), "", Options{})
	if err == nil || strings.Contains(err.Error(), "bm90IGEga2V5") {
		t.Errorf("bad key: %v", err)
	}
	if _, err := NewAppClient(0, []byte(key), "", Options{}); err == nil {
		t.Error("app id 0 accepted")
	}
	c, err := NewTokenClient(testToken, "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.apiURL.String() != DefaultAPIURL {
		t.Errorf("default api url %s", c.apiURL)
	}
	if tok, err := c.Token(context.Background(), testRepo); tok != testToken || err != nil {
		t.Errorf("Token = %q, %v", tok, err)
	}
}

func TestWaitsOutRememberedRateLimit(t *testing.T) {
	// The listing succeeds with the last request of the hour: go-github then
	// refuses further calls on its own until the reset, and Report waits it out.
	f := tokenGitHub(t)
	var once sync.Once
	reset := time.Now().Truncate(time.Second).Add(2 * time.Second)
	limited := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() {
			w.Header().Set("X-RateLimit-Limit", "5000")
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
		})
		f.ServeHTTP(w, r)
	}))
	defer limited.Close()
	s := &sleeps{}
	c, err := NewTokenClient(testToken, limited.URL, Options{Sleep: s.sleep})
	if err != nil {
		t.Fatal(err)
	}
	c.sleep = func(ctx context.Context, d time.Duration) error { // a real wait, at most ~2 s
		_ = s.sleep(ctx, d)
		return sleepCtx(ctx, d)
	}
	if err := c.Report(context.Background(), previewResult()); err != nil {
		t.Fatal(err)
	}
	if n := f.Count("issues/create-comment"); n != 1 {
		t.Errorf("%d comments", n)
	}
	if len(s.all()) == 0 {
		t.Errorf("no wait for the remembered rate limit")
	}
}

func TestFailedPublishStatus(t *testing.T) {
	f := tokenGitHub(t)
	c, _ := newTokenClient(t, f)
	r := previewResult()
	r.Job.Kind, r.Job.PR, r.Changed = queue.KindPublish, 0, nil
	r.Outcome, r.Err = publisher.OutcomeFailed, errors.New("push: non-fast-forward update "+strings.Repeat("x", 300))
	if err := c.Report(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	st := f.Statuses(testRepo.FullName)[0]
	if st.State != "error" || st.Context != "publishbot/publish" || len([]rune(st.Description)) > 140 {
		t.Errorf("status %+v", st)
	}
	for _, req := range f.Requests() {
		if _, ok := field(t, req, "target_url"); ok && req.Op == "repos/create-commit-status" {
			t.Errorf("a failed publish links the site")
		}
	}
}

func BenchmarkReportPreview(b *testing.B) {
	f := tokenGitHub(b)
	c, err := NewTokenClient(testToken, f.URL(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	r := withDiagnostics(previewResult())
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		r.Total = time.Duration(i) * time.Millisecond // a new body each time: list + edit + status
		if err := c.Report(context.Background(), r); err != nil {
			b.Fatal(err)
		}
	}
}

func TestAppWithWrongKeyFailsClearly(t *testing.T) {
	f := appGitHub(t)
	newAppClient(t, f) // the fake trusts the test key
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(other)})
	c, err := NewAppClient(99, keyPEM, f.URL(), Options{Sleep: (&sleeps{}).sleep})
	if err != nil {
		t.Fatal(err)
	}
	r := previewResult()
	r.Job.Repo.InstallationID = testInst
	err = c.Report(context.Background(), r)
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("err = %v, want ErrUnauthorized", err)
	}
	if _, err := c.Token(context.Background(), r.Job.Repo); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("Token err = %v, want ErrUnauthorized", err)
	}
	if strings.Contains(err.Error(), "PRIVATE") {
		t.Errorf("error shows the key")
	}
}

func TestDiagnosticWithoutFileIsNotAnnotated(t *testing.T) {
	f := appGitHub(t)
	c := newAppClient(t, f)
	r := previewResult()
	r.Job.Repo.InstallationID = testInst
	r.Diagnostics = []posts.Diagnostic{
		{Severity: posts.SeverityError, Code: "no-config", Message: "publish.yaml is missing"},
		{File: "posts/a.md", Line: 4, Severity: posts.SeverityWarning, Code: "image-alt", Message: "image has no alt text"},
	}
	if err := c.Report(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	for _, run := range f.CheckRuns(testRepo.FullName) {
		if len(run.Annotations) != 1 || run.Conclusion != "failure" {
			t.Errorf("run %v with annotations %v", run.Conclusion, run.Annotations)
		}
	}
	if body := marked(f, testPR)[0].Body; !strings.Contains(body, "publish.yaml is missing") {
		t.Errorf("the file-less error is missing from the comment:\n%s", body)
	}
}

func TestOwnTokenNeverShown(t *testing.T) {
	const oldStyle = "0123456789abcdef0123456789abcdef01234567" // a 40-hex token of the old format
	f := newGitHub(t, ghapitest.Options{Token: oldStyle})
	c, err := NewTokenClient(oldStyle, f.URL(), Options{Sleep: (&sleeps{}).sleep})
	if err != nil {
		t.Fatal(err)
	}
	r := previewResult()
	r.Outcome, r.Err = publisher.OutcomeFailed, errors.New("git fetch with "+oldStyle+" refused")
	if err := c.Report(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	for _, req := range f.Requests() {
		if strings.Contains(fmt.Sprint(req.Body), oldStyle) {
			t.Errorf("%s %s sent the token in its body", req.Method, req.Path)
		}
	}
}

func TestCommentDeletedDuringReportIsWrittenAgain(t *testing.T) {
	f := tokenGitHub(t)
	c, _ := newTokenClient(t, f)
	f.AddComment(testRepo.FullName, testPR, "stale\n"+Marker)
	f.Fail("PATCH", "/repos/acme/blog/issues/comments/", 404, nil, `{"message":"Not Found"}`)
	if err := c.Report(context.Background(), previewResult()); err != nil {
		t.Fatal(err)
	}
	if n := f.Count("issues/create-comment"); n != 1 {
		t.Errorf("%d comments created, want 1", n)
	}
}
