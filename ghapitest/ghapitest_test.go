package ghapitest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	jwt "github.com/golang-jwt/jwt/v4"
	"github.com/google/go-github/v62/github"
)

const sha = "ce587453ced02b1526dfb4cb910479d431683101"

var sharedAPI = sync.OnceValues(func() (*API, error) {
	return ProjectAPI()
})

func start(t *testing.T, opts Options) *Server {
	t.Helper()
	s, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// recordingT is a T that records what StartT reports.
type recordingT struct {
	testing.TB
	cleanups []func()
	errors   []string
}

func (r *recordingT) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }
func (r *recordingT) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func TestStartTFailsOnProblems(t *testing.T) {
	api, err := sharedAPI()
	if err != nil {
		t.Fatal(err)
	}
	r := &recordingT{TB: t}
	s := StartT(r, Options{API: api})
	send(t, s, "POST", "/repos/acme/blog/statuses/"+sha, "application/json", `{"state":"success","colour":"red"}`)
	for _, f := range r.cleanups {
		f()
	}
	if len(r.errors) != 1 || !strings.Contains(r.errors[0], "colour") {
		t.Errorf("StartT reported %q", r.errors)
	}
	if _, err := http.Get(s.URL()); err == nil {
		t.Error("the server still answers after the test's cleanup")
	}
}

func withAPI(t *testing.T, opts Options) *Server {
	t.Helper()
	api, err := sharedAPI()
	if err != nil {
		t.Fatal(err)
	}
	opts.API = api
	return start(t, opts)
}

// client is go-github on s with token.
func client(t *testing.T, s *Server, token string) *github.Client {
	t.Helper()
	c := github.NewClient(nil).WithAuthToken(token)
	u, _ := url.Parse(s.URL())
	c.BaseURL = u
	return c
}

// send posts a raw body to path and returns the status and answer.
func send(t *testing.T, s *Server, method, path, contentType, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, strings.TrimSuffix(s.URL(), "/")+path, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestCommentsAnswerWithGitHubsExamples(t *testing.T) {
	s := withAPI(t, Options{Token: "tok"})
	gh := client(t, s, "tok")
	ctx := context.Background()
	c, _, err := gh.Issues.CreateComment(ctx, "acme", "blog", 7, &github.IssueComment{Body: github.String("hello")})
	if err != nil {
		t.Fatal(err)
	}
	if c.GetID() != 1001 || c.GetBody() != "hello" || c.GetUser().GetLogin() != "publishbot[bot]" {
		t.Errorf("created %+v", c)
	}
	// A field only GitHub's documented example has.
	if c.GetAuthorAssociation() == "" || c.GetNodeID() == "" {
		t.Errorf("the answer lacks the example's fields: %+v", c)
	}
	if _, _, err := gh.Issues.EditComment(ctx, "acme", "blog", c.GetID(), &github.IssueComment{Body: github.String("edited")}); err != nil {
		t.Fatal(err)
	}
	got := s.Comments("acme/blog", 7)
	if len(got) != 1 || got[0].Body != "edited" || !got[0].Updated.After(got[0].Created) {
		t.Errorf("comments %+v", got)
	}
	if _, err := gh.Issues.DeleteComment(ctx, "acme", "blog", c.GetID()); err != nil {
		t.Fatal(err)
	}
	if n := len(s.Comments("acme/blog", 7)); n != 0 {
		t.Errorf("%d comments after the delete", n)
	}
	if p := s.Problems(); len(p) != 0 {
		t.Errorf("go-github's requests departed from the description: %v", p)
	}
	if s.Count("issues/create-comment") != 1 || s.Count("issues/update-comment") != 1 || s.Count("issues/delete-comment") != 1 {
		t.Errorf("requests %+v", s.Requests())
	}
	if a := s.Requests()[0].Authorization; a != "Bearer tok" {
		t.Errorf("recorded Authorization %q", a)
	}
}

func TestRequestsDepartingFromTheDescription(t *testing.T) {
	s := withAPI(t, Options{})
	for _, tc := range []struct {
		name, method, path, contentType, body, problem string
		status                                         int
	}{
		{"annotation line as a string", "POST", "/repos/acme/blog/check-runs", "application/json",
			`{"name":"x","head_sha":"` + sha + `","output":{"title":"t","summary":"s","annotations":[{"path":"a","start_line":"2","end_line":2,"annotation_level":"warning","message":"m"}]}}`,
			"start_line", 422},
		{"unknown property", "POST", "/repos/acme/blog/statuses/" + sha, "application/json", `{"state":"success","colour":"red"}`, "unknown property colour", 422},
		{"state not in the enum", "POST", "/repos/acme/blog/statuses/" + sha, "application/json", `{"state":"fine"}`, "not in", 422},
		{"form body", "POST", "/repos/acme/blog/issues/7/comments", "application/x-www-form-urlencoded", `{"body":"x"}`, "Content-Type", 422},
		{"missing body", "POST", "/repos/acme/blog/issues/7/comments", "application/json", ``, "request body required", 422},
		{"described, not implemented", "GET", "/repos/acme/blog/pulls/1/files", "", ``, "does not implement", 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(s.Problems())
			status, answer := send(t, s, tc.method, tc.path, tc.contentType, tc.body)
			if status != tc.status {
				t.Errorf("status %d, want %d: %s", status, tc.status, answer)
			}
			p := s.Problems()[before:]
			if len(p) == 0 || !strings.Contains(strings.Join(p, "\n"), tc.problem) {
				t.Errorf("problems %v, want one about %q", p, tc.problem)
			}
		})
	}
	// Without a description nothing is checked.
	plain := start(t, Options{})
	if status, _ := send(t, plain, "POST", "/repos/acme/blog/statuses/"+sha, "application/json", `{"state":"success","colour":"red"}`); status != 201 {
		t.Errorf("without API: status %d", status)
	}
	if p := plain.Problems(); len(p) != 0 {
		t.Errorf("without API: problems %v", p)
	}
}

func TestGitHubsLimits(t *testing.T) {
	s := start(t, Options{})
	if status, _ := send(t, s, "POST", "/repos/acme/blog/issues/7/comments", "application/json", fmt.Sprintf(`{"body":%q}`, strings.Repeat("x", 65537))); status != 422 {
		t.Errorf("a 65,537-character comment: %d, want 422", status)
	}
	if status, _ := send(t, s, "POST", "/repos/acme/blog/statuses/"+sha, "application/json", fmt.Sprintf(`{"state":"error","description":%q}`, strings.Repeat("é", 141))); status != 422 {
		t.Errorf("a 141-character description: %d, want 422", status)
	}
	var annotations []string
	for range 51 {
		annotations = append(annotations, `{"path":"a","start_line":1,"end_line":1,"annotation_level":"warning","message":"m"}`)
	}
	body := `{"name":"x","head_sha":"` + sha + `","output":{"title":"t","summary":"s","annotations":[` + strings.Join(annotations, ",") + `]}}`
	if status, _ := send(t, s, "POST", "/repos/acme/blog/check-runs", "application/json", body); status != 422 {
		t.Errorf("51 annotations: %d, want 422", status)
	}
}

func TestListingPagesWithLinks(t *testing.T) {
	var lists atomic.Int32
	s := withAPI(t, Options{PageSize: 2, BeforeList: func() { lists.Add(1) }})
	for i := range 5 {
		s.AddComment("acme/blog", 7, fmt.Sprintf("c%d", i))
	}
	s.AddComment("acme/other", 7, "elsewhere")
	gh := client(t, s, "any")
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	var bodies []string
	for {
		page, resp, err := gh.Issues.ListComments(context.Background(), "acme", "blog", 7, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page {
			bodies = append(bodies, c.GetBody())
		}
		if resp.NextPage == 0 {
			if resp.FirstPage != 1 || resp.PrevPage != 2 {
				t.Errorf("last page links first %d prev %d", resp.FirstPage, resp.PrevPage)
			}
			break
		}
		if resp.LastPage != 3 {
			t.Errorf("last page %d, want 3", resp.LastPage)
		}
		opts.Page = resp.NextPage
	}
	if got := strings.Join(bodies, " "); got != "c0 c1 c2 c3 c4" {
		t.Errorf("listed %s", got)
	}
	if lists.Load() != 3 {
		t.Errorf("BeforeList ran %d times, want 3", lists.Load())
	}
}

func TestAppTokens(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s := withAPI(t, Options{Token: "no-static-token", AppID: 42, AppKey: &key.PublicKey})
	sign := func(k *rsa.PrivateKey, iss string) string {
		tok, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.RegisteredClaims{
			Issuer: iss, IssuedAt: jwt.NewNumericDate(time.Now()), ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Minute)),
		}).SignedString(k)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	token := func(jwtToken string) (int, string) {
		req, _ := http.NewRequest("POST", s.URL()+"app/installations/4242/access_tokens", nil)
		req.Header.Set("Authorization", "Bearer "+jwtToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			Token string `json:"token"`
		}
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out.Token
	}
	if status, _ := token(sign(other, "42")); status != 401 {
		t.Errorf("a JWT signed by another key: %d, want 401", status)
	}
	if status, _ := token(sign(key, "43")); status != 401 {
		t.Errorf("a JWT of another App: %d, want 401", status)
	}
	status, tok := token(sign(key, "42"))
	if status != 201 || !strings.HasPrefix(tok, "ghs_") {
		t.Fatalf("the App's JWT: %d %q", status, tok)
	}
	// The installation token opens the API; a made-up one does not.
	if _, _, err := client(t, s, tok).Issues.CreateComment(context.Background(), "acme", "blog", 7, &github.IssueComment{Body: github.String("x")}); err != nil {
		t.Errorf("with the installation token: %v", err)
	}
	if _, _, err := client(t, s, "ghs_madeup").Issues.CreateComment(context.Background(), "acme", "blog", 7, &github.IssueComment{Body: github.String("x")}); err == nil {
		t.Error("a made-up token was accepted")
	}
	if p := s.Problems(); len(p) != 0 {
		t.Errorf("problems %v", p)
	}
}

func TestFailAndWait(t *testing.T) {
	s := start(t, Options{})
	s.Fail("POST", "/repos/acme/blog/statuses/", 502, http.Header{"Retry-After": {"1"}}, `{"message":"Server Error"}`)
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- s.Wait(ctx, func() bool { return len(s.Statuses("acme/blog")) == 1 })
	}()
	for _, want := range []int{502, 201} {
		if status, _ := send(t, s, "POST", "/repos/acme/blog/statuses/"+sha, "application/json", `{"state":"success","context":"c"}`); status != want {
			t.Errorf("status %d, want %d", status, want)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := s.Statuses("acme/blog"); len(st) != 1 || st[0].SHA != sha || st[0].Context != "c" {
		t.Errorf("statuses %+v", st)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Wait(ctx, func() bool { return false }); err == nil {
		t.Error("Wait on a cancelled context returned nil")
	}
}

func TestCheckRunsKeepEveryAnnotation(t *testing.T) {
	s := withAPI(t, Options{})
	gh := client(t, s, "any")
	ctx := context.Background()
	ann := func(line int) *github.CheckRunAnnotation {
		return &github.CheckRunAnnotation{Path: github.String("posts/a.md"), StartLine: github.Int(line), EndLine: github.Int(line),
			AnnotationLevel: github.String("warning"), Message: github.String("m")}
	}
	run, _, err := gh.Checks.CreateCheckRun(ctx, "acme", "blog", github.CreateCheckRunOptions{
		Name: "publishbot", HeadSHA: sha, Status: github.String("completed"), Conclusion: github.String("failure"),
		DetailsURL: github.String("https://acme.github.io/blog/"),
		Output:     &github.CheckRunOutput{Title: github.String("t"), Summary: github.String("s"), Annotations: []*github.CheckRunAnnotation{ann(1)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := gh.Checks.UpdateCheckRun(ctx, "acme", "blog", run.GetID(), github.UpdateCheckRunOptions{
		Name:   "publishbot",
		Output: &github.CheckRunOutput{Title: github.String("t"), Summary: github.String("s"), Annotations: []*github.CheckRunAnnotation{ann(2)}},
	}); err != nil {
		t.Fatal(err)
	}
	runs := s.CheckRuns("acme/blog")
	if len(runs) != 1 || runs[0].Updates != 1 || len(runs[0].Annotations) != 2 || runs[0].DetailsURL != "https://acme.github.io/blog/" || runs[0].Conclusion != "failure" {
		t.Errorf("check runs %+v", runs)
	}
	if p := s.Problems(); len(p) != 0 {
		t.Errorf("problems %v", p)
	}
	var recorded bytes.Buffer
	json.Indent(&recorded, s.Requests()[0].Body, "", " ")
	if !strings.Contains(recorded.String(), `"annotations"`) {
		t.Errorf("the request body was not recorded: %s", recorded.String())
	}
}

func TestPullRequests(t *testing.T) {
	s := withAPI(t, Options{Token: "tok"})
	gh := client(t, s, "tok")
	ctx := context.Background()
	if _, resp, err := gh.PullRequests.Get(ctx, "acme", "blog", 7); err == nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("a pull request never set: %v, want 404", err)
	}
	s.SetPullRequest("acme/blog", PullRequest{Number: 7, State: "open", Title: "Fix", HeadSHA: sha, HeadRef: "fix", HeadRepo: "forker/blog", BaseRef: "main"})
	pr, _, err := gh.PullRequests.Get(ctx, "acme", "blog", 7)
	if err != nil {
		t.Fatal(err)
	}
	if pr.GetState() != "open" || pr.GetHead().GetSHA() != sha || pr.GetHead().GetRepo().GetFullName() != "forker/blog" ||
		pr.GetBase().GetRef() != "main" || pr.GetBase().GetRepo().GetFullName() != "acme/blog" || pr.GetNumber() != 7 {
		t.Errorf("pull request %+v", pr)
	}
	if pr.GetNodeID() == "" { // from GitHub's documented example
		t.Errorf("the answer lacks the example's fields")
	}
	// Closed, and its fork deleted: head.repo is absent, as GitHub's null.
	s.SetPullRequest("acme/blog", PullRequest{Number: 7, State: "closed", HeadSHA: sha, BaseRef: "main"})
	pr, _, err = gh.PullRequests.Get(ctx, "acme", "blog", 7)
	if err != nil {
		t.Fatal(err)
	}
	if pr.GetState() != "closed" || pr.GetHead().GetRepo() != nil {
		t.Errorf("closed pull request %+v, head repo %+v", pr, pr.GetHead().GetRepo())
	}
	if got, ok := s.PullRequestState("acme/blog", 7); !ok || got.State != "closed" {
		t.Errorf("state %+v %v", got, ok)
	}
	if p := s.Problems(); len(p) != 0 || s.Count("pulls/get") != 2 {
		t.Errorf("problems %v, requests %+v", p, s.Requests())
	}
}

func TestLoadAPIMergesTopicDescriptions(t *testing.T) {
	base := []byte(`{"openapi":"3.0.3","paths":{"/a":{"get":{"operationId":"x/a"}}},"components":{"schemas":{"s":{"type":"object"}}}}`)
	more := []byte(`{"openapi":"3.0.3","paths":{"/b":{"get":{"operationId":"x/b"}}},"components":{"schemas":{"s":{"type":"object"},"t":{"type":"string"}}}}`)
	fsys := fstest.MapFS{
		DescriptionFile:     {Data: base},
		"openapi-more.json": {Data: more},
	}
	a, err := LoadAPI(fsys)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/a", "/b"} {
		if op, _, _ := a.match("GET", p); op == "" {
			t.Errorf("GET %s not described after the merge", p)
		}
	}
	fsys["openapi-clash.json"] = &fstest.MapFile{Data: []byte(`{"paths":{},"components":{"schemas":{"s":{"type":"string"}}}}`)}
	if _, err := LoadAPI(fsys); err == nil || !strings.Contains(err.Error(), `"s" differs`) {
		t.Errorf("a component described twice differently: err = %v, want a clash", err)
	}
}
