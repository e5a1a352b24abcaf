package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/publishbot/publishbot/examples"
	"github.com/publishbot/publishbot/ghapitest"
	"github.com/publishbot/publishbot/gitserver"
	"github.com/publishbot/publishbot/gitstore"
	"github.com/publishbot/publishbot/webhook"
)

// The demo's stand-ins for GitHub: one content repository acme/blog.
const (
	demoOwner = "acme"
	demoRepo  = "blog"
	demoPR    = 1
)

// runDemo is `publishbot demo`: the whole loop on this machine with no GitHub
// account. A local git server holds examples/blog, a fake GitHub API takes
// the bot's reports, `serve` runs in-process, and signed webhooks drive it:
// first a push (the blog is published to gh-pages and served at --addr, as
// GitHub Pages would), then a pull request with a new post and a broken one
// (previewed, and the PR comment the bot wrote is printed).
func runDemo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("demo", flag.ContinueOnError)
	fl.SetOutput(stderr)
	addr := fl.String("addr", "127.0.0.1:8080", "where to serve the pages branch (loopback)")
	once := fl.Bool("once", false, "exit after both acts instead of serving until interrupted")
	verbose := fl.Bool("v", false, "show the bot's logs")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: publishbot demo [--addr 127.0.0.1:8080] [--once] [-v]")
		fmt.Fprintln(stderr, "\nRuns the whole loop on this machine with no GitHub account: a local git")
		fmt.Fprintln(stderr, "server, a GitHub API stand-in, the bot, a signed push and a pull request.")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return &exitError{Code: 2}
	}
	if fl.NArg() > 0 {
		return usageError("demo: unexpected argument %q", fl.Arg(0))
	}
	d, err := newDemo(ctx, *addr, *verbose, stdout, stderr)
	if err != nil {
		return err
	}
	defer d.close()
	if err := d.run(ctx); err != nil {
		return err
	}
	if *once {
		return nil
	}
	fmt.Fprintf(stdout, "\nServing the pages branch at %s (Ctrl-C to stop).\n", d.siteURL)
	<-ctx.Done()
	return nil
}

// demo is one run of the demo: the parts it started and where they are.
type demo struct {
	out      io.Writer
	tmp      string
	git      *gitserver.Server
	gh       *ghapitest.Server
	pages    *http.Server
	siteURL  string // http://127.0.0.1:8080/blog/, the stand-in for https://acme.github.io/blog/
	botURL   string // where serve listens
	secret   string
	stopBot  context.CancelFunc
	botDone  chan error
	cloneURL string
}

func newDemo(ctx context.Context, addr string, verbose bool, stdout, stderr io.Writer) (_ *demo, err error) {
	if !isLoopback(addr) {
		return nil, usageError("demo: --addr %q is not a loopback address", addr)
	}
	tmp, err := os.MkdirTemp("", "publishbot-demo-")
	if err != nil {
		return nil, fmt.Errorf("demo: make work folder: %w", err)
	}
	d := &demo{out: stdout, tmp: tmp, secret: randomHex(20)}
	defer func() {
		if err != nil {
			d.close()
		}
	}()
	token := "ghs_demo" + randomHex(16)

	// The pages server first: its address is the site's base_url.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(stdout, "(%s is busy: %v; serving on another port)\n", addr, err)
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("demo: listen for pages: %w", err)
		}
	}
	d.siteURL = "http://" + ln.Addr().String() + "/" + demoRepo + "/"

	d.git, err = gitserver.Start(gitserver.Options{Root: filepath.Join(tmp, "git"), User: "x-access-token", Password: token})
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("demo: start git server (needs the git command): %w", err)
	}
	d.cloneURL = d.git.RepoURL(demoRepo)
	d.pages = &http.Server{Handler: d.pagesHandler(), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	go d.pages.Serve(ln)

	d.gh, err = ghapitest.Start(ghapitest.Options{Token: token})
	if err != nil {
		return nil, fmt.Errorf("demo: start github api stand-in: %w", err)
	}

	cfg := defaultServeConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = filepath.Join(tmp, "data")
	cfg.WebhookSecret = Secret(d.secret)
	cfg.GitHubToken = Secret(token)
	cfg.GitHubAPIURL = d.gh.URL()
	cfg.LogFormat = "text"
	cfg.LogLevel = "warn"
	if verbose {
		cfg.LogLevel = "info"
	}
	cfg.ShutdownGrace = 5 * time.Second
	listening := make(chan string, 1)
	cfg.listening = listening
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	logger, err := newServeLogger(cfg, stderr)
	if err != nil {
		return nil, err
	}
	botCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	d.stopBot, d.botDone = stop, make(chan error, 1)
	go func() { d.botDone <- serve(botCtx, cfg, logger) }()
	select {
	case a := <-listening:
		d.botURL = "http://" + a
	case err := <-d.botDone:
		d.botDone <- err
		return nil, fmt.Errorf("demo: start the bot: %w", err)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return d, nil
}

func (d *demo) close() {
	if d.stopBot != nil {
		d.stopBot()
		<-d.botDone
	}
	if d.pages != nil {
		d.pages.Close()
	}
	if d.gh != nil {
		d.gh.Close()
	}
	if d.git != nil {
		d.git.Close()
	}
	os.RemoveAll(d.tmp)
}

// run plays both acts.
func (d *demo) run(ctx context.Context) error {
	p := func(format string, args ...any) { fmt.Fprintf(d.out, format, args...) }
	p("publishbot demo: the whole loop on this machine, no GitHub account needed.\n")
	p("  git server    %s  (git http-backend on loopback, repository %s/%s)\n", d.cloneURL, demoOwner, demoRepo)
	p("  GitHub API    %s  (an in-memory stand-in that records the bot's reports)\n", d.gh.URL())
	p("  publishbot    %s/webhook  (serve, with a generated webhook secret)\n", d.botURL)
	p("  GitHub Pages  %s  (serves the gh-pages branch)\n\n", d.siteURL)

	// Act 1: an author pushes the blog.
	files, err := demoFiles(examples.Blog(), d.siteURL)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := d.git.CreateRepo(ctx, demoRepo, "main"); err != nil {
		return fmt.Errorf("demo: create repository: %w", err)
	}
	sha, err := d.git.Commit(ctx, demoRepo, gitserver.Change{Ref: "main", Files: files, Message: "Add the Acme engineering blog", When: time.Now()})
	if err != nil {
		return fmt.Errorf("demo: commit the example blog: %w", err)
	}
	p("Act 1: an author pushes examples/blog (%d files) to main at %s.\n", len(files), sha[:7])
	status, err := d.deliver(ctx, "push", d.pushEvent(sha))
	if err != nil {
		return err
	}
	p("  GitHub sends the signed push webhook → %s\n", status)
	st, err := d.waitStatus(ctx, sha, "publishbot/publish")
	if err != nil {
		return err
	}
	pagesFS, pagesHead, err := gitstore.BranchFS(d.git.RepoPath(demoRepo), "gh-pages")
	if err != nil {
		return fmt.Errorf("demo: read the pages branch: %w", err)
	}
	n := countFiles(pagesFS)
	p("  publishbot built and committed the site: gh-pages is at %s (%d files) in %.1f s.\n", pagesHead[:7], n, time.Since(start).Seconds())
	p("  Commit status on %s: %s — %s\n", sha[:7], st.State, st.Description)
	p("  Open the blog: %s\n\n", d.siteURL)

	// Act 2: a pull request with a new post and a broken one.
	prFiles := map[string]string{
		"posts/2026-11-20-previews-for-every-pull-request.md": demoNewPost,
		"posts/2026-11-21-half-written.md":                    demoBrokenPost,
	}
	head, err := d.git.Commit(ctx, demoRepo, gitserver.Change{Ref: fmt.Sprintf("refs/pull/%d/head", demoPR), Parent: "main", Files: prFiles, Message: "Add a post about previews", When: time.Now()})
	if err != nil {
		return fmt.Errorf("demo: commit the pull request: %w", err)
	}
	p("Act 2: pull request #%d adds a post and a half-written draft with no title (head %s).\n", demoPR, head[:7])
	status, err = d.deliver(ctx, "pull_request", d.pullRequestEvent(head, sha))
	if err != nil {
		return err
	}
	p("  GitHub sends the signed pull_request webhook → %s\n", status)
	pst, err := d.waitStatus(ctx, head, "publishbot/preview")
	if err != nil {
		return err
	}
	comments := d.gh.Comments(demoOwner+"/"+demoRepo, demoPR)
	if len(comments) != 1 {
		return fmt.Errorf("demo: expected one pull request comment, found %d", len(comments))
	}
	p("  Commit status on %s: %s — %s\n", head[:7], pst.State, pst.Description)
	p("  Preview: %spr-preview/pr-%d/\n", d.siteURL, demoPR)
	p("  The comment publishbot wrote on #%d:\n\n", demoPR)
	for _, line := range strings.Split(strings.TrimRight(comments[0].Body, "\n"), "\n") {
		p("    %s\n", line)
	}
	return nil
}

// waitStatus waits for the bot's commit status on sha; a publish or preview
// is reported only once it is done.
func (d *demo) waitStatus(ctx context.Context, sha, context_ string) (ghapitest.Status, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var found ghapitest.Status
	err := d.gh.Wait(ctx, func() bool {
		for _, s := range d.gh.Statuses(demoOwner + "/" + demoRepo) {
			if s.SHA == sha && s.Context == context_ && s.State != "pending" {
				found = s
				return true
			}
		}
		return false
	})
	if err != nil {
		return found, fmt.Errorf("demo: no %s status on %s from the bot (run with -v for its logs): %w", context_, sha[:7], err)
	}
	return found, nil
}

// deliver sends one webhook as GitHub does: JSON body, HMAC-SHA256 signature.
func (d *demo) deliver(ctx context.Context, event string, payload any) (string, error) {
	body, err := json.Marshal(payload)
	if err != nil {
		return "", fmt.Errorf("demo: encode %s payload: %w", event, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.botURL+"/webhook", bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("demo: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "GitHub-Hookshot/demo")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", newDeliveryID())
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(webhook.Sign([]byte(d.secret), body)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("demo: deliver %s webhook: %w", event, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode >= 300 {
		return "", fmt.Errorf("demo: the bot refused the %s webhook: %s %s", event, resp.Status, bytes.TrimSpace(answer))
	}
	return resp.Status + " " + string(bytes.TrimSpace(answer)), nil
}

func (d *demo) repository() *github.Repository {
	return &github.Repository{
		ID:            github.Int64(1296269),
		Name:          github.String(demoRepo),
		FullName:      github.String(demoOwner + "/" + demoRepo),
		Owner:         &github.User{Login: github.String(demoOwner), Type: github.String("Organization")},
		HTMLURL:       github.String("https://github.com/" + demoOwner + "/" + demoRepo),
		CloneURL:      github.String(d.cloneURL),
		DefaultBranch: github.String("main"),
	}
}

func (d *demo) pushEvent(sha string) *github.PushEvent {
	r := d.repository()
	return &github.PushEvent{
		Ref:     github.String("refs/heads/main"),
		Before:  github.String(strings.Repeat("0", 40)),
		After:   github.String(sha),
		Created: github.Bool(true),
		Deleted: github.Bool(false),
		Forced:  github.Bool(false),
		Repo: &github.PushEventRepository{
			ID: r.ID, Name: r.Name, FullName: r.FullName, HTMLURL: r.HTMLURL, CloneURL: r.CloneURL,
			DefaultBranch: r.DefaultBranch, MasterBranch: r.DefaultBranch,
			Owner: &github.User{Login: github.String(demoOwner), Name: github.String(demoOwner)},
		},
		HeadCommit: &github.HeadCommit{ID: github.String(sha), Message: github.String("Add the Acme engineering blog")},
		Pusher:     &github.CommitAuthor{Name: github.String("author"), Email: github.String("author@acme.example")},
		Sender:     &github.User{Login: github.String("author")},
	}
}

func (d *demo) pullRequestEvent(head, base string) *github.PullRequestEvent {
	r := d.repository()
	return &github.PullRequestEvent{
		Action: github.String("opened"),
		Number: github.Int(demoPR),
		PullRequest: &github.PullRequest{
			Number:  github.Int(demoPR),
			Title:   github.String("Add a post about previews"),
			State:   github.String("open"),
			HTMLURL: github.String(fmt.Sprintf("https://github.com/%s/%s/pull/%d", demoOwner, demoRepo, demoPR)),
			Head:    &github.PullRequestBranch{Ref: github.String("previews-post"), SHA: github.String(head), Repo: r},
			Base:    &github.PullRequestBranch{Ref: github.String("main"), SHA: github.String(base), Repo: r},
			User:    &github.User{Login: github.String("author")},
		},
		Repo:   r,
		Sender: &github.User{Login: github.String("author")},
	}
}

// pagesHandler serves the pages branch under /<repo>/ as GitHub Pages serves
// a project site, reading the branch's newest commit on every request.
func (d *demo) pagesHandler() http.Handler {
	prefix := "/" + demoRepo + "/"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, prefix) {
			if r.URL.Path == "/" {
				http.Redirect(w, r, prefix, http.StatusFound)
				return
			}
			http.NotFound(w, r)
			return
		}
		site, _, err := gitstore.BranchFS(d.git.RepoPath(demoRepo), "gh-pages")
		if err != nil {
			http.Error(w, "the pages branch is not published yet", http.StatusNotFound)
			return
		}
		name := strings.TrimPrefix(r.URL.Path, prefix)
		if name == "" || strings.HasSuffix(name, "/") {
			name += "index.html"
		}
		if _, err := fs.Stat(site, name); err != nil {
			if _, derr := fs.Stat(site, name+"/index.html"); derr == nil {
				http.Redirect(w, r, r.URL.Path+"/", http.StatusMovedPermanently)
				return
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusNotFound)
			if b, err := fs.ReadFile(site, "404.html"); err == nil {
				w.Write(b)
			}
			return
		}
		http.ServeFileFS(w, r, site, name)
	})
}

// demoFiles is the example blog as repository files, with base_url pointed at
// the local pages server so every link works on this machine.
func demoFiles(blog fs.FS, siteURL string) (map[string]string, error) {
	files := map[string]string{}
	err := fs.WalkDir(blog, ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := fs.ReadFile(blog, p)
		if err != nil {
			return err
		}
		files[p] = string(b)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("demo: read the example blog: %w", err)
	}
	cfg, ok := files["publish.yaml"]
	if !ok {
		return nil, errors.New("demo: the example blog has no publish.yaml")
	}
	files["publish.yaml"] = baseURLLine.ReplaceAllString(cfg, "base_url: "+siteURL)
	return files, nil
}

var baseURLLine = regexp.MustCompile(`(?m)^base_url:.*$`)

func countFiles(fsys fs.FS) int {
	n := 0
	fs.WalkDir(fsys, ".", func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			n++
		}
		return nil
	})
	return n
}

func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b)
}

// newDeliveryID is a GUID like GitHub's X-GitHub-Delivery.
func newDeliveryID() string {
	h := randomHex(16)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

const demoNewPost = `---
title: Previews for every pull request
date: 2026-11-20 09:30:00 +0100
tags: [publishing, review]
summary: Every pull request to the blog now gets a preview of the site, and one comment that says what changed.
---

Reviewing a post as a diff of Markdown is reviewing the wrong thing. From
today, every pull request to this blog gets **a preview of the whole site**
under ` + "`pr-preview/pr-N/`" + `, with drafts shown, and one comment that lists
the posts it adds or changes with their preview links.

Errors point at the exact line, so an author can fix them without asking.
`

const demoBrokenPost = `---
date: 2026-11-21
tags: [drafts]
---

This post was pushed before it had a title.
`
