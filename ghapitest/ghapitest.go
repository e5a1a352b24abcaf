// Package ghapitest is publishbot's one stand-in for GitHub's REST API: an
// in-memory server on the loopback interface answering the subset
// publishbot calls (issue comments, commit statuses, check runs, pull
// requests, App installation tokens, GitHub Pages and its builds, webhooks). `publishbot demo` runs the bot against it, so the
// whole loop works with no GitHub account, and the tests use it to see
// exactly what the bot asked GitHub to do.
//
// Every request is recorded. Answers have GitHub's shapes (go-github's
// types); with an API description (Options.API) the server also checks
// each request against the description and answers with GitHub's
// documented examples, overwritten with its own values. It can check an
// App's JWTs (Options.AppKey), page comment listings, and fail chosen
// requests (Fail). It also serves the pages of github.com's App manifest
// flow and converts their codes (apps.go), and can play personal access
// tokens with too few permissions, and repositories (access.go).
// It holds state in memory only.
package ghapitest

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	jwt "github.com/golang-jwt/jwt/v4"
	"github.com/google/go-github/v62/github"
)

// Request is one recorded API request.
type Request struct {
	Method        string
	Path          string
	Query         string
	Authorization string // the header as sent
	// Op is the operation as GitHub's operationId names it, e.g.
	// "issues/create-comment"; "" for a request the server does not know.
	Op     string
	Body   json.RawMessage
	Status int // what the server answered
	// Problems are how the request departs from Options.API, if set.
	Problems []string
}

// Comment is an issue comment as stored.
type Comment struct {
	ID      int64
	Repo    string // owner/name
	Issue   int
	Body    string
	Created time.Time
	Updated time.Time
}

// Status is a commit status as created.
type Status struct {
	Repo, SHA                              string
	State, Context, Description, TargetURL string
}

// CheckRun is a check run with every annotation sent to it.
type CheckRun struct {
	ID          int64
	Repo        string
	HeadSHA     string
	Name        string
	Status      string
	Conclusion  string
	DetailsURL  string
	ExternalID  string
	Title       string
	Summary     string
	Annotations []*github.CheckRunAnnotation
	Updates     int // PATCHes after the creation
}

// PullRequest is a pull request as the server reports it (GET
// /repos/{owner}/{repo}/pulls/{number}); tests and the demo set it with
// SetPullRequest, as GitHub changes it before it sends a webhook.
type PullRequest struct {
	Number   int
	State    string // "open" or "closed"
	Merged   bool
	Title    string
	HeadSHA  string
	HeadRef  string // the head branch, e.g. "changes"
	HeadRepo string // "owner/name" of the head repository; "" for a deleted fork
	BaseRef  string // the base branch, e.g. "main"
}

// Options configure a Server. The zero value serves anyone on a free port.
type Options struct {
	// Token, when set, is the only accepted static credential ("Bearer" or
	// "token" scheme) besides the installation tokens the server issued;
	// other requests get 401. "" accepts any credential.
	Token string
	// Addr is the listen address; "" is 127.0.0.1:0.
	Addr string
	// PageSize is the most comments a listing page holds, whatever per_page
	// asks (GitHub: 100); 0 is 100.
	PageSize int
	// InstallationToken, when set, is the token every App installation gets
	// (so a git server can require it); "" mints a fresh one each time.
	InstallationToken string
	// AppKey, when set, is the public key of the App whose JWTs the server
	// accepts for installation tokens, with the issuer AppID; other JWTs
	// get 401 as from GitHub. Nil accepts any Bearer credential there.
	AppKey *rsa.PublicKey
	AppID  int64
	// AppPermissions are the installation's permissions, as the token
	// answer lists them; nil means what publishbot asks for (contents,
	// pull requests, checks, statuses: write; pages, metadata: read).
	AppPermissions map[string]string
	// API, when set, is the description every request is checked against:
	// a request that departs from it is recorded with its Problems and
	// answered 422 (GitHub refuses such requests too), and answers are
	// GitHub's documented examples with this server's values. Tests load
	// it (LoadAPI) and should fail on Problems.
	API *API
	// BeforeList, when set, runs during every comment listing after the
	// comments were read and before the answer is written, outside the
	// server's lock: tests stage races with it.
	BeforeList func()
}

// Server is a running stand-in for GitHub's API. It is an http.Handler too,
// so tests can serve it under another address or prefix (an Enterprise
// Server's /api/v3). Its methods are safe for concurrent use.
type Server struct {
	opts Options
	srv  *http.Server
	ln   net.Listener

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced on every request
	reqs     []Request
	nextID   int64
	clock    time.Time
	apps     appState    // the App manifest flow (apps.go)
	access   accessState // limited tokens and repositories (access.go)
	comments []*Comment
	statuses []Status
	checks   []*CheckRun
	pulls    map[string]PullRequest // by "owner/name#number"
	tokens   map[string]int64       // issued installation token → installation id
	faults   []fault
	pages    map[string]*pagesState // by "owner/name"
	hooks    map[string][]Hook      // by "owner/name"
}

type fault struct {
	method, pathPrefix string
	status             int
	header             http.Header
	body               string
}

// Start listens on the loopback interface and serves until Close.
func Start(opts Options) (*Server, error) {
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 100
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for the github api stand-in: %w", err)
	}
	s := &Server{
		opts:    opts,
		ln:      ln,
		changed: make(chan struct{}),
		nextID:  1000,
		clock:   time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		tokens:  map[string]int64{},
		pulls:   map[string]PullRequest{},
	}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	go s.srv.Serve(ln)
	return s, nil
}

// T is the part of testing.TB that StartT uses (the package does not
// import testing: the demo is built with it).
type T interface {
	Helper()
	Fatal(args ...any)
	Errorf(format string, args ...any)
	Cleanup(func())
}

// StartT starts a server for one test: it closes when the test ends, and
// then fails the test once for every request that departed from opts.API.
func StartT(t T, opts Options) *Server {
	t.Helper()
	s, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		for _, p := range s.Problems() {
			t.Errorf("request departs from GitHub's API description: %s", p)
		}
	})
	return s
}

// URL is the API root, "http://127.0.0.1:<port>/".
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() + "/" }

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }

// Fail makes the next request whose method matches and whose path starts
// with pathPrefix answer status with header and body, without effect.
// Faults are used once each, in the order given.
func (s *Server) Fail(method, pathPrefix string, status int, header http.Header, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, fault{method, pathPrefix, status, header, body})
}

// AddComment puts an existing comment (someone else's, say) on an issue
// and returns its id.
func (s *Server) AddComment(repo string, issue int, body string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addCommentLocked(repo, issue, body).ID
}

// SetPullRequest makes the server report pr for pull request pr.Number of
// repo ("owner/name"), replacing what it reported before. A pull request
// that was never set is answered 404.
func (s *Server) SetPullRequest(repo string, pr PullRequest) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pulls[repo+"#"+strconv.Itoa(pr.Number)] = pr
}

// PullRequestState is what the server reports for a pull request, and false
// when it was never set.
func (s *Server) PullRequestState(repo string, number int) (PullRequest, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pr, ok := s.pulls[repo+"#"+strconv.Itoa(number)]
	return pr, ok
}

// Requests returns every request so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Count is how many requests of the operation op (see Request.Op) were
// answered with success.
func (s *Server) Count(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.reqs {
		if r.Op == op && r.Status < 300 {
			n++
		}
	}
	return n
}

// Problems returns how the requests so far departed from Options.API, each
// prefixed with its method and path; none without an API.
func (s *Server) Problems() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, r := range s.reqs {
		for _, p := range r.Problems {
			out = append(out, r.Method+" "+r.Path+": "+p)
		}
	}
	return out
}

// Comments returns the comments on one issue, oldest first.
func (s *Server) Comments(repo string, issue int) []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Comment
	for _, c := range s.comments {
		if c.Repo == repo && c.Issue == issue {
			out = append(out, *c)
		}
	}
	return out
}

// Statuses returns every commit status created on repo, oldest first.
func (s *Server) Statuses(repo string) []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Status
	for _, st := range s.statuses {
		if st.Repo == repo {
			out = append(out, st)
		}
	}
	return out
}

// CheckRuns returns the check runs created on repo, oldest first.
func (s *Server) CheckRuns(repo string) []CheckRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []CheckRun
	for _, c := range s.checks {
		if c.Repo == repo {
			cc := *c
			cc.Annotations = append([]*github.CheckRunAnnotation(nil), c.Annotations...)
			out = append(out, cc)
		}
	}
	return out
}

// Wait returns when cond, evaluated now and after every request, is true,
// or ctx ends.
func (s *Server) Wait(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("wait for github api state: %w", ctx.Err())
		}
	}
}

// route is one operation the server answers.
type route struct {
	method, op string
	re         *regexp.Regexp
}

// routes are the operations answered, with GitHub's operationIds.
var routes = []route{
	{http.MethodPost, "apps/create-installation-access-token", regexp.MustCompile(`^/app/installations/(\d+)/access_tokens$`)},
	{http.MethodPost, "apps/create-from-manifest", regexp.MustCompile(`^/app-manifests/([^/]+)/conversions$`)},
	{http.MethodGet, "repos/get", regexp.MustCompile(`^/repos/([^/]+/[^/]+)$`)},
	{http.MethodGet, "issues/list-comments", regexp.MustCompile(`^/repos/([^/]+/[^/]+)/issues/(\d+)/comments$`)},
	{http.MethodPost, "issues/create-comment", regexp.MustCompile(`^/repos/([^/]+/[^/]+)/issues/(\d+)/comments$`)},
	{http.MethodGet, "issues/get-comment", regexp.MustCompile(`^/repos/([^/]+/[^/]+)/issues/comments/(\d+)$`)},
	{http.MethodPatch, "issues/update-comment", regexp.MustCompile(`^/repos/([^/]+/[^/]+)/issues/comments/(\d+)$`)},
	{http.MethodDelete, "issues/delete-comment", regexp.MustCompile(`^/repos/([^/]+/[^/]+)/issues/comments/(\d+)$`)},
	{http.MethodPost, "repos/create-commit-status", regexp.MustCompile(`^/repos/([^/]+/[^/]+)/statuses/([0-9a-f]{40})$`)},
	{http.MethodPost, "checks/create", regexp.MustCompile(`^/repos/([^/]+/[^/]+)/check-runs$`)},
	{http.MethodPatch, "checks/update", regexp.MustCompile(`^/repos/([^/]+/[^/]+)/check-runs/(\d+)$`)},
	{http.MethodGet, "pulls/get", regexp.MustCompile(`^/repos/([^/]+/[^/]+)/pulls/(\d+)$`)},
	{http.MethodGet, "repos/get-pages", regexp.MustCompile(`^/repos/([^/]+/[^/]+)/pages$`)},
	{http.MethodGet, "repos/get-latest-pages-build", regexp.MustCompile(`^/repos/([^/]+/[^/]+)/pages/builds/latest$`)},
	{http.MethodGet, "repos/list-webhooks", regexp.MustCompile(`^/repos/([^/]+/[^/]+)/hooks$`)},
}

// call is one request being answered.
type call struct {
	r    *http.Request
	op   string
	m    []string // the route's submatches
	body []byte
}

// answer is what the server sends back.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// ServeHTTP answers one API request, at the root or under /api/v3/ as on
// an Enterprise Server, or a page of the App manifest flow (apps.go).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/api/v3/"); ok {
		r = r.Clone(r.Context())
		r.URL.Path, r.URL.RawPath = "/"+rest, ""
	} else if s.serveWeb(w, r) {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	c := call{r: r, body: body}
	for _, rt := range routes {
		if rt.method == r.Method {
			if m := rt.re.FindStringSubmatch(r.URL.Path); m != nil {
				c.op, c.m = rt.op, m
				break
			}
		}
	}
	rec := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Authorization: r.Header.Get("Authorization"), Op: c.op, Body: body}
	if s.opts.API != nil {
		problems, described := s.opts.API.check(r.Method, r.URL.Path, r.Header.Get("Content-Type"), body)
		if described && c.op == "" {
			problems = append(problems, "the stand-in does not implement this operation of the description")
		}
		rec.Problems = problems
	}

	s.mu.Lock()
	a := s.answerLocked(c, rec.Problems)
	s.mu.Unlock()
	if c.op == "issues/list-comments" && a.status == http.StatusOK && s.opts.BeforeList != nil {
		s.opts.BeforeList() // after the comments were read, before the answer
	}

	s.mu.Lock()
	rec.Status = a.status
	s.reqs = append(s.reqs, rec)
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()

	for k, vs := range a.header {
		w.Header()[k] = vs
	}
	if scopes, classic := s.scopesHeader(r); classic {
		w.Header().Set("X-OAuth-Scopes", scopes)
	}
	if a.body != nil {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body)
}

func (s *Server) answerLocked(c call, problems []string) answer {
	r := c.r
	for i, f := range s.faults {
		if f.method == r.Method && strings.HasPrefix(r.URL.Path, f.pathPrefix) {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
			return answer{f.status, f.header, []byte(f.body)}
		}
	}
	if c.op == "" {
		return errorJSON(http.StatusNotFound, "Not Found")
	}
	if len(problems) > 0 {
		return errorJSON(http.StatusUnprocessableEntity, "Invalid request.\n\n"+strings.Join(problems, "\n"))
	}
	switch c.op {
	case "apps/create-installation-access-token":
		return s.accessTokenLocked(c)
	case "apps/create-from-manifest":
		return s.manifestConversionLocked(c)
	}
	if !s.authorizedLocked(r) {
		return errorJSON(http.StatusUnauthorized, "Bad credentials")
	}
	if a, done := s.answerAccessLocked(c); done {
		return a
	}
	switch c.op {
	case "issues/list-comments":
		return s.listCommentsLocked(c)
	case "issues/create-comment":
		var in github.IssueComment
		if err := json.Unmarshal(c.body, &in); err != nil || in.Body == nil {
			return errorJSON(http.StatusUnprocessableEntity, "Invalid request: body is required")
		}
		if utf8.RuneCountInString(in.GetBody()) > 65536 {
			return errorJSON(http.StatusUnprocessableEntity, "body is too long (maximum is 65536 characters)")
		}
		issue, _ := strconv.Atoi(c.m[2])
		cm := s.addCommentLocked(c.m[1], issue, in.GetBody())
		return s.jsonAnswer(c.op, http.StatusCreated, s.commentJSON(cm))
	case "issues/get-comment", "issues/update-comment", "issues/delete-comment":
		id, _ := strconv.ParseInt(c.m[2], 10, 64)
		cm := s.findCommentLocked(c.m[1], id)
		if cm == nil {
			return errorJSON(http.StatusNotFound, "Not Found")
		}
		switch c.op {
		case "issues/get-comment":
			return s.jsonAnswer(c.op, http.StatusOK, s.commentJSON(cm))
		case "issues/update-comment":
			var in github.IssueComment
			if err := json.Unmarshal(c.body, &in); err != nil || in.Body == nil {
				return errorJSON(http.StatusUnprocessableEntity, "Invalid request: body is required")
			}
			if utf8.RuneCountInString(in.GetBody()) > 65536 {
				return errorJSON(http.StatusUnprocessableEntity, "body is too long (maximum is 65536 characters)")
			}
			s.clock = s.clock.Add(time.Second)
			cm.Body, cm.Updated = in.GetBody(), s.clock
			return s.jsonAnswer(c.op, http.StatusOK, s.commentJSON(cm))
		default:
			for i, x := range s.comments {
				if x == cm {
					s.comments = append(s.comments[:i], s.comments[i+1:]...)
					break
				}
			}
			return answer{status: http.StatusNoContent}
		}
	case "repos/create-commit-status":
		var in github.RepoStatus
		if err := json.Unmarshal(c.body, &in); err != nil || in.State == nil {
			return errorJSON(http.StatusUnprocessableEntity, "Invalid request: state is required")
		}
		st := Status{Repo: c.m[1], SHA: c.m[2], State: in.GetState(), Context: in.GetContext(), Description: in.GetDescription(), TargetURL: in.GetTargetURL()}
		if utf8.RuneCountInString(st.Description) > 140 {
			return errorJSON(http.StatusUnprocessableEntity, "description is too long (maximum is 140 characters)")
		}
		s.statuses = append(s.statuses, st)
		s.nextID++
		return s.jsonAnswer(c.op, http.StatusCreated, github.RepoStatus{
			ID: github.Int64(s.nextID), State: in.State, Context: in.Context, Description: in.Description, TargetURL: in.TargetURL,
		})
	case "checks/create":
		var in github.CreateCheckRunOptions
		if err := json.Unmarshal(c.body, &in); err != nil || in.Name == "" || in.HeadSHA == "" {
			return errorJSON(http.StatusUnprocessableEntity, "Invalid request: name and head_sha are required")
		}
		s.nextID++
		cr := &CheckRun{ID: s.nextID, Repo: c.m[1], HeadSHA: in.HeadSHA, Name: in.Name, Status: in.GetStatus(),
			Conclusion: in.GetConclusion(), DetailsURL: in.GetDetailsURL(), ExternalID: in.GetExternalID()}
		if err := applyOutput(cr, in.Output); err != nil {
			return errorJSON(http.StatusUnprocessableEntity, err.Error())
		}
		s.checks = append(s.checks, cr)
		return s.jsonAnswer(c.op, http.StatusCreated, checkRunJSON(cr))
	case "repos/get-pages":
		return s.pagesLocked(c)
	case "repos/get-latest-pages-build":
		return s.latestBuildLocked(c)
	case "repos/list-webhooks":
		return s.hooksLocked(c)
	case "pulls/get":
		pr, ok := s.pulls[c.m[1]+"#"+c.m[2]]
		if !ok {
			return errorJSON(http.StatusNotFound, "Not Found")
		}
		return s.jsonAnswer(c.op, http.StatusOK, s.pullJSON(c.m[1], pr))
	case "checks/update":
		id, _ := strconv.ParseInt(c.m[2], 10, 64)
		var cr *CheckRun
		for _, x := range s.checks {
			if x.ID == id && x.Repo == c.m[1] {
				cr = x
			}
		}
		if cr == nil {
			return errorJSON(http.StatusNotFound, "Not Found")
		}
		var in github.UpdateCheckRunOptions
		if err := json.Unmarshal(c.body, &in); err != nil {
			return errorJSON(http.StatusUnprocessableEntity, "Invalid request")
		}
		if in.Status != nil {
			cr.Status = in.GetStatus()
		}
		if in.Conclusion != nil {
			cr.Conclusion = in.GetConclusion()
		}
		if in.DetailsURL != nil {
			cr.DetailsURL = in.GetDetailsURL()
		}
		if err := applyOutput(cr, in.Output); err != nil {
			return errorJSON(http.StatusUnprocessableEntity, err.Error())
		}
		cr.Updates++
		return s.jsonAnswer(c.op, http.StatusOK, checkRunJSON(cr))
	}
	return errorJSON(http.StatusNotFound, "Not Found")
}

// accessTokenLocked issues an installation token for an App's JWT.
func (s *Server) accessTokenLocked(c call) answer {
	bearer, ok := strings.CutPrefix(c.r.Header.Get("Authorization"), "Bearer ")
	if !ok || !s.validJWT(bearer) {
		return errorJSON(http.StatusUnauthorized, "A JSON web token could not be decoded")
	}
	id, _ := strconv.ParseInt(c.m[1], 10, 64)
	s.nextID++
	tok := s.opts.InstallationToken
	if tok == "" {
		tok = fmt.Sprintf("ghs_fake%032d", s.nextID)
	}
	s.tokens[tok] = id
	perms := s.opts.AppPermissions
	if perms == nil {
		perms = map[string]string{"contents": "write", "pull_requests": "write", "checks": "write", "statuses": "write", "pages": "read", "metadata": "read"}
	}
	return s.jsonAnswer(c.op, http.StatusCreated, map[string]any{
		"token":       tok,
		"expires_at":  time.Now().Add(time.Hour).UTC().Truncate(time.Second).Format(time.RFC3339),
		"permissions": perms,
	})
}

// validJWT checks an App's JWT: signed with RS256 by Options.AppKey, issued
// by Options.AppID. Without AppKey any token passes.
// Apps created through the manifest flow are known by their keys; once
// there is one, only their JWTs pass without AppKey.
func (s *Server) validJWT(token string) bool {
	if s.validAppJWTLocked(token) {
		return true
	}
	if s.opts.AppKey == nil {
		return token != "" && len(s.apps.created) == 0
	}
	claims := &jwt.RegisteredClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(tk *jwt.Token) (any, error) {
		if _, ok := tk.Method.(*jwt.SigningMethodRSA); !ok {
			return nil, fmt.Errorf("signing method %v", tk.Header["alg"])
		}
		return s.opts.AppKey, nil
	})
	return err == nil && claims.Issuer == strconv.FormatInt(s.opts.AppID, 10)
}

func (s *Server) authorizedLocked(r *http.Request) bool {
	auth := r.Header.Get("Authorization")
	tok := strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(auth, "Bearer "), "token "))
	if _, ok := s.tokens[tok]; ok {
		return true
	}
	if _, ok := s.access.tokens[tok]; ok {
		return true
	}
	return s.opts.Token == "" || tok == s.opts.Token
}

func (s *Server) addCommentLocked(repo string, issue int, body string) *Comment {
	s.nextID++
	s.clock = s.clock.Add(time.Second)
	c := &Comment{ID: s.nextID, Repo: repo, Issue: issue, Body: body, Created: s.clock, Updated: s.clock}
	s.comments = append(s.comments, c)
	return c
}

func (s *Server) findCommentLocked(repo string, id int64) *Comment {
	for _, c := range s.comments {
		if c.ID == id && c.Repo == repo {
			return c
		}
	}
	return nil
}

// listCommentsLocked pages like GitHub: per_page (at most PageSize) and
// page, with a Link header naming the next, last, first and previous pages.
func (s *Server) listCommentsLocked(c call) answer {
	repo := c.m[1]
	issue, _ := strconv.Atoi(c.m[2])
	var all []*Comment
	for _, cm := range s.comments {
		if cm.Repo == repo && cm.Issue == issue {
			all = append(all, cm)
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	q := c.r.URL.Query()
	per, _ := strconv.Atoi(q.Get("per_page"))
	if per <= 0 {
		per = 30
	}
	per = min(per, s.opts.PageSize)
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	last := max((len(all)+per-1)/per, 1)
	lo := min((page-1)*per, len(all))
	hi := min(lo+per, len(all))
	out := make([]*github.IssueComment, 0, hi-lo)
	for _, cm := range all[lo:hi] {
		out = append(out, s.commentJSON(cm))
	}
	link := func(n int, rel string) string {
		return fmt.Sprintf(`<%srepos/%s/issues/%d/comments?page=%d&per_page=%d>; rel="%s"`, s.URL(), repo, issue, n, per, rel)
	}
	var links []string
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"), link(page-1, "prev"))
	}
	a := s.jsonAnswer(c.op, http.StatusOK, out)
	if len(links) > 0 {
		a.header = http.Header{"Link": {strings.Join(links, ", ")}}
	}
	return a
}

func (s *Server) commentJSON(c *Comment) *github.IssueComment {
	return &github.IssueComment{
		ID:        github.Int64(c.ID),
		Body:      github.String(c.Body),
		URL:       github.String(fmt.Sprintf("%srepos/%s/issues/comments/%d", s.URL(), c.Repo, c.ID)),
		HTMLURL:   github.String(fmt.Sprintf("https://github.com/%s/pull/%d#issuecomment-%d", c.Repo, c.Issue, c.ID)),
		IssueURL:  github.String(fmt.Sprintf("%srepos/%s/issues/%d", s.URL(), c.Repo, c.Issue)),
		CreatedAt: &github.Timestamp{Time: c.Created},
		UpdatedAt: &github.Timestamp{Time: c.Updated},
		User:      &github.User{Login: github.String("publishbot[bot]"), Type: github.String("Bot")},
	}
}

// pullJSON is pr in GitHub's shape. A head repository that was deleted is
// null, as GitHub sends it.
func (s *Server) pullJSON(repo string, pr PullRequest) *github.PullRequest {
	owner, _, _ := strings.Cut(repo, "/")
	out := &github.PullRequest{
		Number: github.Int(pr.Number),
		State:  github.String(pr.State),
		Merged: github.Bool(pr.Merged),
		Title:  github.String(pr.Title),
		URL:    github.String(fmt.Sprintf("%srepos/%s/pulls/%d", s.URL(), repo, pr.Number)),
		Head: &github.PullRequestBranch{
			SHA: github.String(pr.HeadSHA), Ref: github.String(pr.HeadRef), Label: github.String(pr.HeadRef),
		},
		Base: &github.PullRequestBranch{
			Ref: github.String(pr.BaseRef), Label: github.String(owner + ":" + pr.BaseRef),
			Repo: &github.Repository{FullName: github.String(repo), Name: github.String(strings.TrimPrefix(repo, owner+"/"))},
		},
	}
	if pr.HeadRepo != "" {
		headOwner, headName, _ := strings.Cut(pr.HeadRepo, "/")
		out.Head.Label = github.String(headOwner + ":" + pr.HeadRef)
		out.Head.Repo = &github.Repository{FullName: github.String(pr.HeadRepo), Name: github.String(headName)}
	}
	return out
}

// applyOutput records a check run's output, enforcing GitHub's limit of 50
// annotations per request.
func applyOutput(cr *CheckRun, out *github.CheckRunOutput) error {
	if out == nil {
		return nil
	}
	if len(out.Annotations) > 50 {
		return fmt.Errorf("only 50 annotations are allowed per request, got %d", len(out.Annotations))
	}
	if out.Title != nil {
		cr.Title = out.GetTitle()
	}
	if out.Summary != nil {
		cr.Summary = out.GetSummary()
	}
	cr.Annotations = append(cr.Annotations, out.Annotations...)
	return nil
}

func checkRunJSON(cr *CheckRun) *github.CheckRun {
	run := &github.CheckRun{
		ID: github.Int64(cr.ID), Name: github.String(cr.Name), HeadSHA: github.String(cr.HeadSHA),
		Status: github.String(cr.Status), Conclusion: github.String(cr.Conclusion),
	}
	if cr.DetailsURL != "" {
		run.DetailsURL = github.String(cr.DetailsURL)
	}
	if cr.ExternalID != "" {
		run.ExternalID = github.String(cr.ExternalID)
	}
	return run
}

// jsonAnswer answers v, laid over GitHub's documented example of op and
// status when Options.API has one.
func (s *Server) jsonAnswer(op string, status int, v any) answer {
	b, err := json.Marshal(v)
	if err != nil {
		return errorJSON(http.StatusInternalServerError, err.Error())
	}
	if s.opts.API != nil {
		if ex := s.opts.API.example(op, status); ex != nil {
			var generic any
			if err := json.Unmarshal(b, &generic); err == nil {
				if merged, err := json.Marshal(overlay(ex, generic)); err == nil {
					b = merged
				}
			}
		}
	}
	return answer{status: status, body: b}
}

func errorJSON(status int, msg string) answer {
	b, _ := json.Marshal(map[string]string{"message": msg, "documentation_url": "https://docs.github.com/rest"})
	return answer{status: status, body: b}
}
