// Package ghapitest is an in-memory GitHub REST API on the loopback
// interface: the subset publishbot calls (issue comments, commit statuses,
// check runs, App installation tokens). `publishbot demo` runs the bot
// against it, so the whole loop works with no GitHub account, and the
// end-to-end tests use it to see exactly what the bot asked GitHub to do.
//
// Answers have GitHub's shapes (go-github's types, which follow the REST API
// description); every request is recorded. It holds state in memory only.
package ghapitest

import (
	"context"
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

	"github.com/google/go-github/v62/github"
)

// Request is one recorded API request.
type Request struct {
	Method string
	Path   string
	Query  string
	Body   json.RawMessage
	Status int // what the server answered
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
	Title       string
	Summary     string
	Annotations []*github.CheckRunAnnotation
}

// Options configure a Server.
type Options struct {
	// Token, when set, is the only accepted "Bearer"/"token" credential
	// besides installation tokens the server issued; 401 otherwise.
	Token string
	// Addr is the listen address; "" is 127.0.0.1:0.
	Addr string
	// PageSize is the comments per page at most (GitHub: 100); 0 is 100.
	PageSize int
	// InstallationToken, when set, is the token every App installation gets
	// (so a git server can require it); "" mints a fresh one each time.
	InstallationToken string
}

// Server is a running fake GitHub API. Its methods are safe for concurrent use.
type Server struct {
	opts Options
	srv  *http.Server
	ln   net.Listener

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced on every request
	reqs     []Request
	nextID   int64
	clock    time.Time
	comments []*Comment
	statuses []Status
	checks   []*CheckRun
	tokens   map[string]int64 // issued installation token → installation id
	faults   []fault
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
		return nil, fmt.Errorf("listen for fake github api: %w", err)
	}
	s := &Server{
		opts:    opts,
		ln:      ln,
		changed: make(chan struct{}),
		nextID:  1000,
		clock:   time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		tokens:  map[string]int64{},
	}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	go s.srv.Serve(ln)
	return s, nil
}

// URL is the API root, "http://127.0.0.1:<port>/".
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() + "/" }

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }

// Fail makes the next request whose method matches and whose path starts
// with pathPrefix answer status with header and body, without effect.
func (s *Server) Fail(method, pathPrefix string, status int, header http.Header, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, fault{method, pathPrefix, status, header, body})
}

// AddComment puts an existing comment (someone else's, say) on an issue.
func (s *Server) AddComment(repo string, issue int, body string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addCommentLocked(repo, issue, body).ID
}

// Requests returns every request so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
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

// Wait returns when cond, evaluated after every request, is true, or ctx ends.
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

var (
	reComments    = regexp.MustCompile(`^/repos/([^/]+/[^/]+)/issues/(\d+)/comments$`)
	reComment     = regexp.MustCompile(`^/repos/([^/]+/[^/]+)/issues/comments/(\d+)$`)
	reStatuses    = regexp.MustCompile(`^/repos/([^/]+/[^/]+)/statuses/([0-9a-f]{40})$`)
	reCheckRuns   = regexp.MustCompile(`^/repos/([^/]+/[^/]+)/check-runs$`)
	reCheckRun    = regexp.MustCompile(`^/repos/([^/]+/[^/]+)/check-runs/(\d+)$`)
	reAccessToken = regexp.MustCompile(`^/app/installations/(\d+)/access_tokens$`)
)

// ServeHTTP answers one API request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	status, header, out := s.answerLocked(r, body)
	s.reqs = append(s.reqs, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Body: body, Status: status})
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()

	for k, vs := range header {
		w.Header()[k] = vs
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(out)
}

func (s *Server) answerLocked(r *http.Request, body []byte) (int, http.Header, []byte) {
	for i, f := range s.faults {
		if f.method == r.Method && strings.HasPrefix(r.URL.Path, f.pathPrefix) {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
			return f.status, f.header, []byte(f.body)
		}
	}
	p := r.URL.Path
	if m := reAccessToken.FindStringSubmatch(p); m != nil && r.Method == http.MethodPost {
		// An App's JWT; its signature is the ghapi tests' business.
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			return errorJSON(http.StatusUnauthorized, "A JSON web token could not be decoded")
		}
		id, _ := strconv.ParseInt(m[1], 10, 64)
		s.nextID++
		tok := s.opts.InstallationToken
		if tok == "" {
			tok = fmt.Sprintf("ghs_fake%032d", s.nextID)
		}
		s.tokens[tok] = id
		return jsonAnswer(http.StatusCreated, github.InstallationToken{
			Token:     github.String(tok),
			ExpiresAt: &github.Timestamp{Time: time.Now().Add(time.Hour).UTC().Truncate(time.Second)},
		})
	}
	if !s.authorizedLocked(r) {
		return errorJSON(http.StatusUnauthorized, "Bad credentials")
	}
	switch {
	case reComments.MatchString(p):
		m := reComments.FindStringSubmatch(p)
		issue, _ := strconv.Atoi(m[2])
		switch r.Method {
		case http.MethodGet:
			return s.listCommentsLocked(r, m[1], issue)
		case http.MethodPost:
			var in github.IssueComment
			if err := json.Unmarshal(body, &in); err != nil || in.Body == nil {
				return errorJSON(http.StatusUnprocessableEntity, "Invalid request: body is required")
			}
			c := s.addCommentLocked(m[1], issue, in.GetBody())
			return jsonAnswer(http.StatusCreated, s.commentJSON(c))
		}
	case reComment.MatchString(p):
		m := reComment.FindStringSubmatch(p)
		id, _ := strconv.ParseInt(m[2], 10, 64)
		c := s.findCommentLocked(m[1], id)
		if c == nil {
			return errorJSON(http.StatusNotFound, "Not Found")
		}
		switch r.Method {
		case http.MethodGet:
			return jsonAnswer(http.StatusOK, s.commentJSON(c))
		case http.MethodPatch:
			var in github.IssueComment
			if err := json.Unmarshal(body, &in); err != nil || in.Body == nil {
				return errorJSON(http.StatusUnprocessableEntity, "Invalid request: body is required")
			}
			s.clock = s.clock.Add(time.Second)
			c.Body, c.Updated = in.GetBody(), s.clock
			return jsonAnswer(http.StatusOK, s.commentJSON(c))
		case http.MethodDelete:
			for i, x := range s.comments {
				if x == c {
					s.comments = append(s.comments[:i], s.comments[i+1:]...)
					break
				}
			}
			return http.StatusNoContent, nil, nil
		}
	case reStatuses.MatchString(p) && r.Method == http.MethodPost:
		m := reStatuses.FindStringSubmatch(p)
		var in github.RepoStatus
		if err := json.Unmarshal(body, &in); err != nil || in.State == nil {
			return errorJSON(http.StatusUnprocessableEntity, "Invalid request: state is required")
		}
		st := Status{Repo: m[1], SHA: m[2], State: in.GetState(), Context: in.GetContext(), Description: in.GetDescription(), TargetURL: in.GetTargetURL()}
		if utf8.RuneCountInString(st.Description) > 140 {
			return errorJSON(http.StatusUnprocessableEntity, "description is too long (maximum is 140 characters)")
		}
		s.statuses = append(s.statuses, st)
		s.nextID++
		return jsonAnswer(http.StatusCreated, github.RepoStatus{
			ID: github.Int64(s.nextID), State: in.State, Context: in.Context, Description: in.Description, TargetURL: in.TargetURL,
		})
	case reCheckRuns.MatchString(p) && r.Method == http.MethodPost:
		m := reCheckRuns.FindStringSubmatch(p)
		var in github.CreateCheckRunOptions
		if err := json.Unmarshal(body, &in); err != nil || in.Name == "" || in.HeadSHA == "" {
			return errorJSON(http.StatusUnprocessableEntity, "Invalid request: name and head_sha are required")
		}
		s.nextID++
		cr := &CheckRun{ID: s.nextID, Repo: m[1], HeadSHA: in.HeadSHA, Name: in.Name, Status: in.GetStatus(), Conclusion: in.GetConclusion()}
		if err := applyOutput(cr, in.Output); err != nil {
			return errorJSON(http.StatusUnprocessableEntity, err.Error())
		}
		s.checks = append(s.checks, cr)
		return jsonAnswer(http.StatusCreated, checkRunJSON(cr))
	case reCheckRun.MatchString(p) && r.Method == http.MethodPatch:
		m := reCheckRun.FindStringSubmatch(p)
		id, _ := strconv.ParseInt(m[2], 10, 64)
		var cr *CheckRun
		for _, c := range s.checks {
			if c.ID == id && c.Repo == m[1] {
				cr = c
			}
		}
		if cr == nil {
			return errorJSON(http.StatusNotFound, "Not Found")
		}
		var in github.UpdateCheckRunOptions
		if err := json.Unmarshal(body, &in); err != nil {
			return errorJSON(http.StatusUnprocessableEntity, "Invalid request")
		}
		if in.Status != nil {
			cr.Status = in.GetStatus()
		}
		if in.Conclusion != nil {
			cr.Conclusion = in.GetConclusion()
		}
		if err := applyOutput(cr, in.Output); err != nil {
			return errorJSON(http.StatusUnprocessableEntity, err.Error())
		}
		return jsonAnswer(http.StatusOK, checkRunJSON(cr))
	}
	return errorJSON(http.StatusNotFound, "Not Found")
}

func (s *Server) authorizedLocked(r *http.Request) bool {
	auth := r.Header.Get("Authorization")
	tok := strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(auth, "Bearer "), "token "))
	if _, ok := s.tokens[tok]; ok {
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

// listCommentsLocked pages like GitHub: per_page (max PageSize) and page,
// with a Link header naming the next and last pages.
func (s *Server) listCommentsLocked(r *http.Request, repo string, issue int) (int, http.Header, []byte) {
	var all []*Comment
	for _, c := range s.comments {
		if c.Repo == repo && c.Issue == issue {
			all = append(all, c)
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	if per <= 0 {
		per = 30
	}
	per = min(per, s.opts.PageSize)
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = max(page, 1)
	last := max((len(all)+per-1)/per, 1)
	lo := min((page-1)*per, len(all))
	hi := min(lo+per, len(all))
	out := make([]*github.IssueComment, 0, hi-lo)
	for _, c := range all[lo:hi] {
		out = append(out, s.commentJSON(c))
	}
	h := http.Header{}
	if page < last {
		link := func(n int) string {
			return fmt.Sprintf("<%srepos/%s/issues/%d/comments?page=%d&per_page=%d>", s.URL(), repo, issue, n, per)
		}
		h.Set("Link", link(page+1)+`; rel="next", `+link(last)+`; rel="last"`)
	}
	status, _, b := jsonAnswer(http.StatusOK, out)
	return status, h, b
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
	return &github.CheckRun{
		ID: github.Int64(cr.ID), Name: github.String(cr.Name), HeadSHA: github.String(cr.HeadSHA),
		Status: github.String(cr.Status), Conclusion: github.String(cr.Conclusion),
	}
}

func jsonAnswer(status int, v any) (int, http.Header, []byte) {
	b, err := json.Marshal(v)
	if err != nil {
		return errorJSON(http.StatusInternalServerError, err.Error())
	}
	return status, nil, b
}

func errorJSON(status int, msg string) (int, http.Header, []byte) {
	b, _ := json.Marshal(map[string]string{"message": msg, "documentation_url": "https://docs.github.com/rest"})
	return status, nil, b
}
