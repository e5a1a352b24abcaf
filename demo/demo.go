// Package demo plays publishbot's whole loop on one machine with no GitHub
// account (`publishbot demo`): a git server on loopback holding the
// example blog, a GitHub API stand-in that records the bot's reports, a
// GitHub Pages stand-in that serves the pages branch, and signed webhooks
// sent to a running bot. Act 1 pushes the blog and waits for it to be
// published; act 2 opens a pull request with a new post and a broken one
// and prints the comment the bot wrote. The bot itself is a collaborator:
// the caller starts it with the settings the demo hands over.
package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/publishbot/publishbot/examples"
	"github.com/publishbot/publishbot/ghapitest"
	"github.com/publishbot/publishbot/gitserver"
	"github.com/publishbot/publishbot/gitstore"
)

// The demo's stand-ins for GitHub: one content repository acme/blog.
const (
	owner       = "acme"
	repo        = "blog"
	fullName    = owner + "/" + repo // its path on the git server, where the git URL and the full name lead
	prNumber    = 1
	pagesBranch = "gh-pages"
)

// ErrNotLoopback is New's error for an address other than a loopback one:
// the demo serves nothing beyond this machine.
var ErrNotLoopback = errors.New("not a loopback address")

// BotConfig is what the demo hands the bot: where to keep its data, the
// webhook secret it signs with, and the GitHub stand-in to report to.
type BotConfig struct {
	DataDir       string
	WebhookSecret string
	GitHubToken   string
	GitHubAPIURL  string
	GitURL        string // the git host clone URLs are derived from (the demo's git server)
}

// Bot runs publishbot's webhook server with cfg on a loopback port until
// ctx ends; once it listens, it sends its address ("127.0.0.1:port") on
// listening (buffered for one). It returns nil after a clean stop.
type Bot func(ctx context.Context, cfg BotConfig, listening chan<- string) error

// Options say where the demo serves and what it runs.
type Options struct {
	// Addr is where the GitHub Pages stand-in listens; it must be a
	// loopback address. When it is busy, another port is taken (and said).
	Addr string
	// Out is told the story: what runs where, each act, the PR comment.
	Out io.Writer
	// Bot is the bot under demonstration.
	Bot Bot
	// Once is a run that ends after both acts: the story then names no
	// address, since none answers once the demo has exited.
	Once bool
}

// Demo is one run of the demo: the parts it started and where they are.
// Make it with New, play it with Run, and Close it.
type Demo struct {
	once     bool
	out      io.Writer
	tmp      string
	git      *gitserver.Server
	gh       *ghapitest.Server
	pages    *http.Server
	siteURL  string // http://127.0.0.1:8080/blog/, the stand-in for https://acme.github.io/blog/
	botURL   string // where the bot listens
	secret   string
	stopBot  context.CancelFunc
	botDone  chan error
	cloneURL string
}

// New starts the stand-ins and the bot. The error wraps ErrNotLoopback
// for a non-loopback opts.Addr; it says what failed to start otherwise
// (the git server needs the git command).
func New(ctx context.Context, opts Options) (_ *Demo, err error) {
	if !isLoopback(opts.Addr) {
		return nil, fmt.Errorf("--addr %q: %w", opts.Addr, ErrNotLoopback)
	}
	tmp, err := os.MkdirTemp("", "publishbot-demo-")
	if err != nil {
		return nil, fmt.Errorf("make work folder: %w", err)
	}
	d := &Demo{once: opts.Once, out: opts.Out, tmp: tmp, secret: randomHex(20)}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	token := "ghs_demo" + randomHex(16)

	// The pages server first: its address is the site's base_url.
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		fmt.Fprintf(d.out, "(%s is busy: %v; serving on another port)\n", opts.Addr, err)
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("listen for pages: %w", err)
		}
	}
	d.siteURL = "http://" + ln.Addr().String() + "/" + repo + "/"

	d.git, err = gitserver.Start(gitserver.Options{Root: filepath.Join(tmp, "git"), User: "x-access-token", Password: token})
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("start git server (needs the git command): %w", err)
	}
	d.cloneURL = d.git.RepoURL(fullName)
	readPages := func() (fs.FS, error) {
		site, _, err := gitstore.BranchFS(d.git.RepoPath(fullName), pagesBranch)
		return site, err
	}
	d.pages = &http.Server{Handler: pagesHandler("/"+repo+"/", readPages), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	go d.pages.Serve(ln)

	d.gh, err = ghapitest.Start(ghapitest.Options{Token: token})
	if err != nil {
		return nil, fmt.Errorf("start github api stand-in: %w", err)
	}
	// GitHub Pages serves the pages branch: its latest build is of the
	// branch's head, done at the second look.
	d.gh.SetPages(fullName, ghapitest.Pages{HTMLURL: d.siteURL, Head: func() string {
		_, head, err := gitstore.BranchFS(d.git.RepoPath(fullName), pagesBranch)
		if err != nil {
			return ""
		}
		return head
	}})

	cfg := BotConfig{DataDir: filepath.Join(tmp, "data"), WebhookSecret: d.secret, GitHubToken: token, GitHubAPIURL: d.gh.URL(), GitURL: d.git.URL + "/"}
	listening := make(chan string, 1)
	botCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	d.stopBot, d.botDone = stop, make(chan error, 1)
	go func() { d.botDone <- opts.Bot(botCtx, cfg, listening) }()
	select {
	case a := <-listening:
		d.botURL = "http://" + a
	case err := <-d.botDone:
		d.botDone <- err
		return nil, fmt.Errorf("start the bot: %w", err)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return d, nil
}

// SiteURL is where the GitHub Pages stand-in serves the blog.
func (d *Demo) SiteURL() string { return d.siteURL }

// Close stops the bot and the stand-ins and removes the demo's files.
func (d *Demo) Close() {
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

// Run plays both acts, telling the story on Options.Out.
func (d *Demo) Run(ctx context.Context) error {
	p := func(format string, args ...any) { fmt.Fprintf(d.out, format, args...) }
	p("publishbot demo: the whole loop on this machine, no GitHub account needed.\n")
	if d.once {
		p("  git server    git http-backend on loopback, repository %s/%s\n", owner, repo)
		p("  GitHub API    an in-memory stand-in that records the bot's reports\n")
		p("  publishbot    serve, with a generated webhook secret\n")
		p("  GitHub Pages  a stand-in that serves the gh-pages branch\n")
		p("  (--once: all of these stop when the demo exits; run without --once to browse the blog)\n\n")
	} else {
		p("  git server    %s  (git http-backend on loopback, repository %s/%s)\n", d.cloneURL, owner, repo)
		p("  GitHub API    %s  (an in-memory stand-in that records the bot's reports)\n", d.gh.URL())
		p("  publishbot    %s/webhook  (serve, with a generated webhook secret)\n", d.botURL)
		p("  GitHub Pages  %s  (serves the gh-pages branch)\n\n", d.siteURL)
	}

	// Act 1: an author pushes the blog.
	files, err := blogFiles(examples.Blog(), d.siteURL)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := d.git.CreateRepo(ctx, fullName, "main"); err != nil {
		return fmt.Errorf("create repository: %w", err)
	}
	sha, err := d.git.Commit(ctx, fullName, gitserver.Change{Ref: "main", Files: files, Message: pushMessage, When: time.Now()})
	if err != nil {
		return fmt.Errorf("commit the example blog: %w", err)
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
	pagesFS, pagesHead, err := gitstore.BranchFS(d.git.RepoPath(fullName), pagesBranch)
	if err != nil {
		return fmt.Errorf("read the pages branch: %w", err)
	}
	n := countFiles(pagesFS)
	p("  publishbot built and committed the site: gh-pages is at %s (%d files) in %.1f s.\n", pagesHead[:7], n, time.Since(start).Seconds())
	p("  Commit status on %s: %s — %s\n", sha[:7], st.State, st.Description)
	if d.once {
		p("\n")
	} else {
		p("  Open the blog: %s\n\n", d.siteURL)
	}

	// Act 2: a pull request with a new post and a broken one.
	prFiles := map[string]string{
		"posts/2026-11-20-previews-for-every-pull-request.md": newPost,
		"posts/2026-11-21-half-written.md":                    brokenPost,
	}
	head, err := d.git.Commit(ctx, fullName, gitserver.Change{Ref: fmt.Sprintf("refs/pull/%d/head", prNumber), Parent: "main", Files: prFiles, Message: prTitle, When: time.Now()})
	if err != nil {
		return fmt.Errorf("commit the pull request: %w", err)
	}
	p("Act 2: pull request #%d adds a post and a half-written draft with no title (head %s).\n", prNumber, head[:7])
	// GitHub records the pull request before it sends the webhook; the bot
	// asks for its state before it builds a preview.
	d.gh.SetPullRequest(fullName, ghapitest.PullRequest{Number: prNumber, State: "open", Title: prTitle,
		HeadSHA: head, HeadRef: "previews-post", HeadRepo: fullName, BaseRef: "main"})
	status, err = d.deliver(ctx, "pull_request", d.pullRequestEvent(head, sha))
	if err != nil {
		return err
	}
	p("  GitHub sends the signed pull_request webhook → %s\n", status)
	pst, err := d.waitStatus(ctx, head, "publishbot/preview")
	if err != nil {
		return err
	}
	comments := d.gh.Comments(owner+"/"+repo, prNumber)
	if len(comments) != 1 {
		return fmt.Errorf("expected one pull request comment, found %d", len(comments))
	}
	p("  Commit status on %s: %s — %s\n", head[:7], pst.State, pst.Description)
	if !d.once {
		p("  Preview: %spr-preview/pr-%d/\n", d.siteURL, prNumber)
	}
	p("  The comment publishbot wrote on #%d:\n\n", prNumber)
	for _, line := range strings.Split(strings.TrimRight(comments[0].Body, "\n"), "\n") {
		p("    %s\n", line)
	}
	return nil
}

// waitStatus waits for the bot's commit status on sha; a publish or preview
// is reported only once it is done.
func (d *Demo) waitStatus(ctx context.Context, sha, context_ string) (ghapitest.Status, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var found ghapitest.Status
	err := d.gh.Wait(ctx, func() bool {
		for _, s := range d.gh.Statuses(owner + "/" + repo) {
			if s.SHA == sha && s.Context == context_ && s.State != "pending" {
				found = s
				return true
			}
		}
		return false
	})
	if err != nil {
		return found, fmt.Errorf("no %s status on %s from the bot (run with -v for its logs): %w", context_, sha[:7], err)
	}
	return found, nil
}

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
