package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/publishbot/publishbot/gitauth"
	"github.com/publishbot/publishbot/gitstore"
	"github.com/publishbot/publishbot/logmask"
	"github.com/publishbot/publishbot/posts"
	"github.com/publishbot/publishbot/publisher"
	"github.com/publishbot/publishbot/queue"
)

const publishUsage = `usage: publishbot publish --repo URL [--ref REF] [--token T] [--pages-branch B] [--data-dir D]

Fetches the repository, builds the source branch (or REF) and commits the
site to the pages branch, once. The token is taken from --token or
PUBLISHBOT_GITHUB_TOKEN and sent as HTTP basic auth, never in the URL, and
only to the --repo URL's own host: https, or http to a loopback address.
PUBLISHBOT_MAX_FILES and PUBLISHBOT_MAX_BYTES bound what the build writes.
`

// runPublish is `publishbot publish`: one publish job from the command line,
// for cron and CI users.
func runPublish(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fl := newFlagSet("publish", publishUsage, stderr)
	repoURL := fl.String("repo", "", "clone URL of the content repository (https://github.com/owner/name.git)")
	ref := fl.String("ref", "", "branch to publish, \"main\" or \"refs/heads/main\" (default: the configured source branch)")
	token := fl.String("token", "", "GitHub token (default: $PUBLISHBOT_GITHUB_TOKEN; empty: anonymous)")
	pagesBranch := fl.String("pages-branch", "", "pages branch when publish.yaml names none (default \"gh-pages\")")
	dataDir := fl.String("data-dir", "", "repository cache folder (default: $PUBLISHBOT_DATA_DIR, else the user cache folder)")
	timeout := fl.Duration("timeout", publisher.DefaultLimits.JobTimeout, "give up after this long")
	verbose := fl.Bool("v", false, "log every step")
	if _, err := parseArgs(fl, args, 0); err != nil {
		return err
	}
	repo, gitBase, err := repoFromURL(*repoURL)
	if err != nil {
		return usageError("publish: %w", err)
	}
	limits, err := envBuildLimits(getenv)
	if err != nil {
		return usageError("publish: %w", err)
	}
	tok := *token
	if tok == "" {
		tok = getenv("PUBLISHBOT_GITHUB_TOKEN")
	}
	dir := *dataDir
	if dir == "" {
		dir = getenv("PUBLISHBOT_DATA_DIR")
	}
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return usageError("publish: no --data-dir and no user cache folder: %w", err)
		}
		dir = filepath.Join(cache, "publishbot")
	}
	r := strings.TrimSpace(*ref)
	if r != "" && !strings.HasPrefix(r, "refs/") {
		r = "refs/heads/" + r
	}
	if *timeout <= 0 {
		return usageError("publish: --timeout must be positive")
	}

	// The log and the diagnostics, printed while the push runs, share
	// standard error: one write at a time.
	errOut := &syncWriter{w: stderr}
	logger := logrus.New()
	logger.Out = errOut
	logger.Level = logrus.WarnLevel
	if *verbose {
		logger.Level = logrus.DebugLevel
	}
	logger.Formatter = logmask.NewFormatter(&logrus.TextFormatter{DisableColors: true, DisableTimestamp: true}, tok)

	// The token goes to the --repo URL's own host, and nowhere a redirect
	// leads.
	storeLimits, err := envStoreLimits(getenv)
	if err != nil {
		return usageError("publish: %w", err)
	}
	store, err := gitstore.New(gitstore.Options{Dir: filepath.Join(dir, "repos"), GitBase: gitBase, Limits: storeLimits, Log: logrus.NewEntry(logger).WithField("component", "gitstore")})
	if err != nil {
		return err
	}
	cacheMax, err := buildCacheMB(getenv)
	if err != nil {
		return usageError("publish: %w", err)
	}
	opts := publisher.Options{
		Store:       publisher.OpenWith(store.Open),
		Tokens:      publisher.StaticToken(tok),
		PagesBranch: *pagesBranch,
		Limits:      publisher.Limits{JobTimeout: *timeout, Build: limits},
		Images:      imageProcessor(dir, logrus.NewEntry(logger)),
	}
	if c := openBuildCache(filepath.Join(dir, "build-cache"), cacheMax, logrus.NewEntry(logger)); c != nil {
		defer c.Close()
		opts.Cache = c
	}
	// A build's diagnostics are printed as soon as it ends, while the
	// push runs, not after it.
	var printing sync.WaitGroup
	var printed atomic.Bool
	opts.Built = func(_ queue.Job, diags []posts.Diagnostic) {
		printed.Store(true)
		printing.Go(func() { writeDiagnosticsText(errOut, diags) })
	}
	p, err := publisher.New(opts)
	if err != nil {
		return err
	}
	job := queue.Job{
		ID:      "cli",
		Kind:    queue.KindPublish,
		Repo:    repo,
		Ref:     r,
		Reason:  "cli",
		Attempt: 1,
		Created: time.Now(),
	}
	res := p.Run(ctx, job, logrus.NewEntry(logger))
	printing.Wait()
	if !printed.Load() {
		writeDiagnosticsText(errOut, res.Diagnostics) // one write: a migrated blog can have thousands
	}
	switch res.Outcome {
	case publisher.OutcomePublished:
		fmt.Fprintf(stdout, "published %s at %s to %s (%s) in %s: fetch %s, build %s (load %s, render %s), push %s\n", repo.FullName, shortSHAText(res.SourceSHA), shortSHAText(res.PagesCommit), res.SiteURL,
			seconds(res.Total), seconds(res.Fetch), seconds(res.Build), seconds(res.Load), seconds(res.Render), seconds(res.Push))
	case publisher.OutcomeUnchanged:
		fmt.Fprintf(stdout, "unchanged: %s at %s: %s\n", repo.FullName, shortSHAText(res.SourceSHA), res.Reason)
	case publisher.OutcomeSkipped:
		fmt.Fprintf(stdout, "skipped: %s: %s\n", repo.FullName, res.Reason)
	default:
		err := res.Err
		if err == nil {
			err = fmt.Errorf("publish %s: %s", repo.FullName, res.Outcome)
		}
		return &exitError{Code: 1, Err: fmt.Errorf("publish %s: %w", repo.FullName, err)}
	}
	if !res.NextPublish.IsZero() {
		fmt.Fprintf(stdout, "next scheduled post: %s\n", res.NextPublish.Format(time.RFC3339))
	}
	return nil
}

// repoFromURL makes the job's repository from a clone URL, and the git
// base its token may go to (the URL's own scheme, host and port); FullName
// is the URL's path without ".git" ("owner/name"). Only https, or http to
// a loopback host, is accepted: the token would cross the network in clear.
// scpLikeRE is git's scp-like SSH syntax: [user@]host:path.
var scpLikeRE = regexp.MustCompile(`^(?:[A-Za-z0-9._-]+@)?([A-Za-z0-9.-]+):([^/][^\s]*)$`)

func repoFromURL(raw string) (queue.Repo, *url.URL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return queue.Repo{}, nil, errors.New("--repo URL is required")
	}
	if m := scpLikeRE.FindStringSubmatch(raw); m != nil {
		return queue.Repo{}, nil, fmt.Errorf("--repo %q is an SSH address; publish speaks https: use the https:// clone URL, https://%s/%s", raw, m[1], strings.TrimPrefix(m[2], "/"))
	}
	u, err := url.Parse(raw)
	if err != nil {
		return queue.Repo{}, nil, fmt.Errorf("--repo: %w", err)
	}
	if u.Scheme == "ssh" || u.Scheme == "git+ssh" {
		return queue.Repo{}, nil, fmt.Errorf("--repo %q is an SSH address; publish speaks https: use the https:// clone URL, https://%s%s", raw, u.Hostname(), u.Path)
	}
	// Only smart HTTP, like the publisher: file:// and ssh would run git
	// programs or use the machine's keys.
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return queue.Repo{}, nil, fmt.Errorf("--repo %q: use an https:// clone URL", raw)
	}
	if u.User != nil {
		return queue.Repo{}, nil, errors.New("--repo must not carry credentials: pass the token with --token or PUBLISHBOT_GITHUB_TOKEN")
	}
	if u.Scheme == "http" && !gitauth.IsLoopback(u.Hostname()) {
		return queue.Repo{}, nil, fmt.Errorf("--repo %q: plain http is allowed only to a loopback host; use https", raw)
	}
	base, err := gitauth.ParseBase(u.Scheme + "://" + u.Host + "/")
	if err != nil {
		return queue.Repo{}, nil, fmt.Errorf("--repo: %w", err)
	}
	name := strings.TrimSuffix(strings.Trim(u.Path, "/"), ".git")
	if name == "" {
		return queue.Repo{}, nil, fmt.Errorf("--repo %q has no repository path", raw)
	}
	if parts := strings.Split(name, "/"); len(parts) > 2 {
		name = strings.Join(parts[len(parts)-2:], "/")
	}
	repo := queue.Repo{FullName: name, CloneURL: raw}
	if u.Scheme == "https" && u.Host == "github.com" {
		repo.HTMLURL = "https://github.com/" + name
	}
	return repo, base, nil
}

func shortSHAText(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// seconds shows a duration to the hundredth of a second: "1.23s".
func seconds(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }

// syncWriter is a writer several goroutines may write to, one write at a
// time.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
