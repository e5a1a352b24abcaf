// Package gitserver serves bare git repositories over smart HTTP on the
// loopback interface: `git http-backend` behind net/http/cgi, with optional
// basic auth and a record of every request. publishbot's tests use it as the
// real git server the bot talks to, and `publishbot demo` runs the whole loop
// against it on one machine.
//
// It also creates fixtures: bare repositories, commits made from files (with
// `git fast-import`, so no worktree is needed) and server-side hooks. It
// needs the git command line; the bot itself never does.
package gitserver

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Options configure a Server. Root is required.
type Options struct {
	// Root is the folder holding the bare repositories ("<name>.git").
	Root string
	// User and Password, when User is not empty, are required as HTTP basic
	// auth on every request; a missing or wrong pair is answered 401.
	User, Password string
	// Git is the git executable; "" finds "git" on PATH.
	Git string
	// Addr is the listen address; "" means "127.0.0.1:0".
	Addr string
}

// Request is one recorded HTTP request.
type Request struct {
	Method   string
	Path     string // URL path, e.g. "/blog.git/git-receive-pack"
	Query    string
	User     string // basic auth user name given, "" for none
	Status   int
	BytesIn  int64         // request body bytes as sent (possibly gzip-compressed)
	BytesOut int64         // response body bytes
	Took     time.Duration // from the request's arrival to its answer's end
}

// Server is a running git smart HTTP server. Its methods are safe for
// concurrent use.
type Server struct {
	// URL is the base URL, "http://127.0.0.1:<port>", without a trailing slash.
	URL string

	root    string
	git     string
	user    string
	pass    string
	srv     *http.Server
	ln      net.Listener
	done    chan struct{}
	backend *cgi.Handler

	mu       sync.Mutex
	requests []Request
	failNext map[string]int // path suffix → status to answer once
}

// Start listens on the loopback interface and serves Options.Root until
// Close.
func Start(opts Options) (*Server, error) {
	if opts.Root == "" {
		return nil, errors.New("gitserver: options: root is required")
	}
	root, err := filepath.Abs(opts.Root)
	if err != nil {
		return nil, fmt.Errorf("gitserver: resolve root: %w", err)
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("gitserver: create root: %w", err)
	}
	git := opts.Git
	if git == "" {
		git, err = exec.LookPath("git")
		if err != nil {
			return nil, fmt.Errorf("gitserver: find git: %w", err)
		}
	}
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("gitserver: listen: %w", err)
	}
	s := &Server{
		URL:      "http://" + ln.Addr().String(),
		root:     root,
		git:      git,
		user:     opts.User,
		pass:     opts.Password,
		ln:       ln,
		done:     make(chan struct{}),
		failNext: map[string]int{},
	}
	s.backend = &cgi.Handler{
		Path: git,
		Args: []string{"http-backend"},
		Dir:  root,
		Env: []string{
			"GIT_PROJECT_ROOT=" + root,
			"GIT_HTTP_EXPORT_ALL=1",
			"GIT_CONFIG_NOSYSTEM=1",
			"HOME=" + root,
			"GIT_CONFIG_COUNT=3",
			"GIT_CONFIG_KEY_0=http.receivepack",
			"GIT_CONFIG_VALUE_0=true",
			"GIT_CONFIG_KEY_1=gc.auto",
			"GIT_CONFIG_VALUE_1=0",
			"GIT_CONFIG_KEY_2=uploadpack.allowAnySHA1InWant",
			"GIT_CONFIG_VALUE_2=true",
		},
		InheritEnv: []string{"PATH"},
		Stderr:     io.Discard,
	}
	s.srv = &http.Server{
		Handler:           http.HandlerFunc(s.serveHTTP),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute,
		WriteTimeout:      5 * time.Minute,
	}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

// Close stops the server and waits for it.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	<-s.done
	return err
}

// Root is the folder the repositories live in.
func (s *Server) Root() string { return s.root }

// RepoURL is the clone URL of the repository name ("blog" → <URL>/blog.git).
func (s *Server) RepoURL(name string) string { return s.URL + "/" + repoDir(name) }

// RepoPath is the folder of the bare repository name on disk.
func (s *Server) RepoPath(name string) string { return filepath.Join(s.root, repoDir(name)) }

func repoDir(name string) string {
	if strings.HasSuffix(name, ".git") {
		return name
	}
	return name + ".git"
}

type countingReader struct {
	r io.ReadCloser
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countingReader) Close() error { return c.r.Close() }

type countingWriter struct {
	http.ResponseWriter
	n      int64
	status int
}

func (c *countingWriter) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	n, err := c.ResponseWriter.Write(p)
	c.n += int64(n)
	return n, err
}

func (c *countingWriter) Flush() {
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body := &countingReader{r: r.Body}
	r.Body = body
	cw := &countingWriter{ResponseWriter: w}
	user, pass, _ := r.BasicAuth()
	start := time.Now()
	defer func() {
		s.mu.Lock()
		s.requests = append(s.requests, Request{
			Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, User: user,
			Status: cw.status, BytesIn: body.n, BytesOut: cw.n, Took: time.Since(start),
		})
		s.mu.Unlock()
	}()
	if s.user != "" {
		okUser := subtle.ConstantTimeCompare([]byte(user), []byte(s.user)) == 1
		okPass := subtle.ConstantTimeCompare([]byte(pass), []byte(s.pass)) == 1
		if !okUser || !okPass {
			cw.Header().Set("WWW-Authenticate", `Basic realm="gitserver"`)
			http.Error(cw, "authentication required", http.StatusUnauthorized)
			return
		}
	}
	if status := s.takeFailure(r.URL.Path); status != 0 {
		http.Error(cw, http.StatusText(status), status)
		return
	}
	clean := path.Clean(r.URL.Path)
	if strings.Contains(clean, "..") {
		http.Error(cw, "bad path", http.StatusBadRequest)
		return
	}
	// git does not need the credentials; keep them out of hooks' view.
	r.Header.Del("Authorization")
	if user != "" {
		r.Header.Set("X-Remote-User", user)
	}
	s.backend.ServeHTTP(cw, r)
}

// FailNext makes the next request whose path ends in suffix (for example
// "/git-receive-pack") answer status without reaching git.
func (s *Server) FailNext(suffix string, status int) {
	s.mu.Lock()
	s.failNext[suffix] = status
	s.mu.Unlock()
}

func (s *Server) takeFailure(p string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for suffix, status := range s.failNext {
		if strings.HasSuffix(p, suffix) {
			delete(s.failNext, suffix)
			return status
		}
	}
	return 0
}

// Requests returns a copy of the requests served so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// ResetRequests forgets the recorded requests.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	s.requests = nil
	s.mu.Unlock()
}

// PushedBytes is the request body bytes of every git-receive-pack POST
// recorded so far: what clients pushed.
func (s *Server) PushedBytes() int64 {
	var n int64
	for _, r := range s.Requests() {
		if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/git-receive-pack") {
			n += r.BytesIn
		}
	}
	return n
}

// Git runs git with args in the repository name (a bare repository under
// Root) and returns its trimmed standard output.
func (s *Server) Git(ctx context.Context, name string, args ...string) (string, error) {
	return s.gitIn(ctx, s.RepoPath(name), nil, args...)
}

func (s *Server) gitIn(ctx context.Context, dir string, stdin io.Reader, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, s.git, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_TERMINAL_PROMPT=0",
	)
	cmd.Stdin = stdin
	var out, errb bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// CreateRepo makes an empty bare repository name whose HEAD points at
// refs/heads/<defaultBranch> ("main" when empty).
func (s *Server) CreateRepo(ctx context.Context, name, defaultBranch string) error {
	if defaultBranch == "" {
		defaultBranch = "main"
	}
	dir := s.RepoPath(name)
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("gitserver: create repo %s: %w", name, err)
	}
	if _, err := s.gitIn(ctx, s.root, nil, "init", "--quiet", "--bare", "--initial-branch="+defaultBranch, dir); err != nil {
		return fmt.Errorf("gitserver: create repo %s: %w", name, err)
	}
	return nil
}

// Head is the commit name's ref points at, "" when the ref does not exist.
func (s *Server) Head(ctx context.Context, name, ref string) (string, error) {
	out, err := s.Git(ctx, name, "for-each-ref", "--format=%(objectname)", qualify(ref))
	if err != nil {
		return "", err
	}
	return out, nil
}

func qualify(ref string) string {
	if strings.HasPrefix(ref, "refs/") {
		return ref
	}
	return "refs/heads/" + ref
}

// Hook installs script as the server-side hook kind ("pre-receive",
// "update", ...) of the repository name. script is a complete executable file
// (start it with "#!/bin/sh").
func (s *Server) Hook(name, kind, script string) error {
	dir := filepath.Join(s.RepoPath(name), "hooks")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("gitserver: install hook: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, kind), []byte(script), 0o755); err != nil {
		return fmt.Errorf("gitserver: install hook: %w", err)
	}
	return nil
}

// Change is one commit made by Commit.
type Change struct {
	// Ref to update, "main" or "refs/pull/3/head". Required.
	Ref string
	// Parent is the commit (a ref or a sha) the new commit builds on; ""
	// means Ref's current head, if any.
	Parent string
	// Orphan starts from no parent and an empty tree.
	Orphan bool
	// Replace starts from an empty tree (keeping the parent in history).
	Replace bool
	// Files are written (added or replaced) at slash-separated paths.
	Files map[string]string
	// Symlinks are written as symbolic links: path → link target.
	Symlinks map[string]string
	// Submodules are written as gitlink entries: path → commit sha.
	Submodules map[string]string
	// Delete removes paths (files or whole folders).
	Delete []string
	// Message is the commit message; "" means "update".
	Message string
	// When is the author and committer date; zero means a fixed date.
	When time.Time
}

// Commit writes one commit to the repository name, straight into its object
// store with git fast-import, and moves Ref to it. It returns the commit.
func (s *Server) Commit(ctx context.Context, name string, c Change) (string, error) {
	if c.Ref == "" {
		return "", errors.New("gitserver: commit: ref is required")
	}
	ref := qualify(c.Ref)
	parent := ""
	if !c.Orphan {
		p := c.Parent
		if p == "" {
			p = ref
		}
		head, err := s.Git(ctx, name, "rev-parse", "--verify", "--quiet", p+"^{commit}")
		if err == nil {
			parent = head
		} else if c.Parent != "" {
			return "", fmt.Errorf("gitserver: commit: parent %s: %w", c.Parent, err)
		}
	}
	when := c.When
	if when.IsZero() {
		when = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	}
	msg := c.Message
	if msg == "" {
		msg = "update"
	}
	if !strings.HasSuffix(msg, "\n") {
		msg += "\n"
	}
	var b bytes.Buffer
	sig := fmt.Sprintf("Fixture Author <author@example.com> %d +0000", when.Unix())
	fmt.Fprintf(&b, "commit %s\nauthor %s\ncommitter %s\ndata %d\n%s", ref, sig, sig, len(msg), msg)
	if parent != "" {
		fmt.Fprintf(&b, "from %s\n", parent)
	} else {
		// A ref that exists must not be used as an implicit parent.
		fmt.Fprintf(&b, "from 0000000000000000000000000000000000000000\n")
	}
	if c.Replace || c.Orphan {
		b.WriteString("deleteall\n")
	}
	for _, p := range c.Delete {
		fmt.Fprintf(&b, "D %s\n", quotePath(p))
	}
	writeEntries := func(m map[string]string, mode string) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "M %s inline %s\ndata %d\n%s\n", mode, quotePath(k), len(m[k]), m[k])
		}
	}
	writeEntries(c.Files, "100644")
	writeEntries(c.Symlinks, "120000")
	keys := make([]string, 0, len(c.Submodules))
	for k := range c.Submodules {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "M 160000 %s %s\n", c.Submodules[k], quotePath(k))
	}
	b.WriteString("done\n")
	if _, err := s.gitIn(ctx, s.RepoPath(name), &b, "fast-import", "--quiet", "--force", "--done"); err != nil {
		return "", fmt.Errorf("gitserver: commit to %s %s: %w", name, ref, err)
	}
	head, err := s.Git(ctx, name, "rev-parse", ref)
	if err != nil {
		return "", fmt.Errorf("gitserver: commit to %s %s: %w", name, ref, err)
	}
	return head, nil
}

func quotePath(p string) string {
	if strings.ContainsAny(p, "\"\n\\ ") {
		return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(p) + `"`
	}
	return p
}

// FilesFromDir reads every regular file under dir into a map keyed by
// slash-separated path relative to dir, prefixed with prefix (for example
// "posts/"). It is a helper to commit a folder of fixtures.
func FilesFromDir(dir, prefix string) (map[string]string, error) {
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files[prefix+filepath.ToSlash(rel)] = string(b)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("gitserver: read %s: %w", dir, err)
	}
	return files, nil
}
