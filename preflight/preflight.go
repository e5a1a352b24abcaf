// Package preflight checks, through GitHub's API, what can be checked of a
// repository's setup before its first publish: the GitHub App's
// permissions on the installation, the webhook's content type and events
// (when the credential may read webhooks), and GitHub Pages (enabled,
// served from the pages branch's root, built from the branch rather than a
// workflow). Each problem comes with its fix, in at most 140 characters (a
// commit status description), and is told once per repository and
// problem: logged when found, and put in one commit status.
package preflight

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/sirupsen/logrus"

	"github.com/publishbot/publishbot/queue"
)

// Pages is a repository's GitHub Pages settings.
type Pages struct {
	Enabled    bool
	Unreadable bool   // the credential may not read them (403)
	Branch     string // the publishing source branch
	Path       string // "/" or "/docs"
	BuildType  string // "legacy" (from a branch) or "workflow"
	URL        string
}

// Hook is a repository webhook.
type Hook struct {
	URL         string
	ContentType string // "json" or "form"
	Events      []string
	Active      bool
}

// GitHub is what the checks ask (the GitHub adaptor implements it).
type GitHub interface {
	// PagesSite returns the Pages settings; Enabled is false when the
	// repository has no Pages site.
	PagesSite(ctx context.Context, repo queue.Repo) (Pages, error)
	// Hooks lists the repository's webhooks; readable is false when the
	// credential may not read them.
	Hooks(ctx context.Context, repo queue.Repo) (hooks []Hook, readable bool, err error)
	// Permissions returns the App installation's permissions; known is
	// false for a token (GitHub does not list a token's rights).
	Permissions(ctx context.Context, repo queue.Repo) (perms map[string]string, known bool, err error)
}

// Problem is one thing wrong with a repository's setup.
type Problem struct {
	Code string // stable: "pages-off", "pages-branch", "app-permissions", "webhook-content-type", ...
	Text string // what is wrong and how to fix it, at most 140 characters
}

// Options configure a Checker. GitHub is required.
type Options struct {
	GitHub GitHub
	// Log gets one line per problem found (once); nil discards.
	Log *logrus.Entry
	// WebhookPath is the path of the bot's webhook URL: only webhooks
	// whose URL ends in it are checked. "" means "/webhook".
	WebhookPath string
	// DefaultPagesBranch names the pages branch in the fixes of a check
	// that does not know it (serve's start); "" means "gh-pages".
	DefaultPagesBranch string
}

// Checker runs the checks, once per repository per process, and remembers
// which problems were told. It implements publisher.Preflight. Safe for
// concurrent use.
type Checker struct {
	opts Options
	log  *logrus.Entry

	mu    sync.Mutex
	repos map[string]*repoState
	locks map[string]*sync.Mutex // one check of a repository at a time
}

type repoState struct {
	checked  bool            // the whole check ran without an API failure
	branches map[string]bool // pages branches checked
	problems []Problem       // found, in order
	has      map[string]bool // by Code+Text
	told     map[string]bool // put in a commit status, by Code+Text
	logged   map[string]bool // by Code+Text
}

// New returns a Checker.
func New(opts Options) (*Checker, error) {
	if opts.GitHub == nil {
		return nil, fmt.Errorf("preflight: a GitHub client is required")
	}
	if opts.WebhookPath == "" {
		opts.WebhookPath = "/webhook"
	}
	if opts.DefaultPagesBranch == "" {
		opts.DefaultPagesBranch = "gh-pages"
	}
	log := opts.Log
	if log == nil {
		l := logrus.New()
		l.Out = discard{}
		log = logrus.NewEntry(l)
	}
	return &Checker{opts: opts, log: log, repos: map[string]*repoState{}, locks: map[string]*sync.Mutex{}}, nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// Problems implements publisher.Preflight: it checks repo (on its first
// job, or when pagesBranch is one not checked yet) and returns the first
// problem not yet told in a commit status, marking it told; nil when there
// is none. The log has every problem, once, as it is found.
func (c *Checker) Problems(ctx context.Context, repo queue.Repo, pagesBranch string) []string {
	c.Check(ctx, repo, pagesBranch)
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.repos[repo.FullName]
	if st == nil {
		return nil
	}
	for _, p := range st.problems {
		if !st.told[p.Code+p.Text] {
			st.told[p.Code+p.Text] = true
			return []string{p.Text}
		}
	}
	return nil
}

// CheckAll checks each repository (serve's start), logging problems.
func (c *Checker) CheckAll(ctx context.Context, repos []queue.Repo) {
	for _, r := range repos {
		if ctx.Err() != nil {
			return
		}
		c.Check(ctx, r, "")
	}
}

// Check runs the checks of repo that have not run yet and returns every
// problem known of it. pagesBranch "" means unknown (serve's start): GitHub
// Pages' branch is then not compared with it.
func (c *Checker) Check(ctx context.Context, repo queue.Repo, pagesBranch string) []Problem {
	c.mu.Lock()
	lock := c.locks[repo.FullName]
	if lock == nil {
		lock = &sync.Mutex{}
		c.locks[repo.FullName] = lock
	}
	c.mu.Unlock()
	lock.Lock()
	defer lock.Unlock()

	c.mu.Lock()
	st := c.repos[repo.FullName]
	if st == nil {
		st = &repoState{branches: map[string]bool{}, has: map[string]bool{}, told: map[string]bool{}, logged: map[string]bool{}}
		c.repos[repo.FullName] = st
	}
	all, branch := !st.checked, !st.branches[pagesBranch]
	c.mu.Unlock()

	log := c.log.WithField(queue.FieldRepo, repo.FullName)
	var found []Problem
	ok := true
	pagesChecked := false
	if all || branch {
		p, err := c.checkPages(ctx, repo, pagesBranch)
		if err != nil {
			log.WithError(err).Warn("setup check: read GitHub Pages settings")
			ok = false
		} else {
			pagesChecked = true
		}
		found = append(found, p...)
	}
	if all {
		p, err := c.checkPermissions(ctx, repo)
		if err != nil {
			log.WithError(err).Warn("setup check: read the App's permissions")
			ok = false
		}
		found = append(found, p...)
		p, err = c.checkHooks(ctx, repo)
		if err != nil {
			log.WithError(err).Warn("setup check: read webhooks")
			ok = false
		}
		found = append(found, p...)
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if ok {
		st.checked = true
		st.branches[pagesBranch] = true
	}
	if pagesChecked {
		// The Pages settings as they are now replace what an earlier check
		// found and no status has told yet (fixed since, or seen then
		// without the pages branch).
		kept := st.problems[:0]
		for _, p := range st.problems {
			if strings.HasPrefix(p.Code, "pages-") && !st.told[p.Code+p.Text] {
				delete(st.has, p.Code+p.Text)
				continue
			}
			kept = append(kept, p)
		}
		st.problems = kept
	}
	for _, p := range found {
		if st.has[p.Code+p.Text] {
			continue
		}
		st.has[p.Code+p.Text] = true
		st.problems = append(st.problems, p)
		if !st.logged[p.Code+p.Text] {
			st.logged[p.Code+p.Text] = true
			log.WithField("problem", p.Code).Warn("setup problem: " + p.Text)
		}
	}
	return append([]Problem(nil), st.problems...)
}

func problem(code, format string, args ...any) Problem {
	text := fmt.Sprintf(format, args...)
	if utf8.RuneCountInString(text) > 140 {
		r := []rune(text)
		text = string(r[:139]) + "…"
	}
	return Problem{Code: code, Text: text}
}

func (c *Checker) checkPages(ctx context.Context, repo queue.Repo, branch string) ([]Problem, error) {
	known := branch != ""
	if !known {
		branch = c.opts.DefaultPagesBranch
	}
	p, err := c.opts.GitHub.PagesSite(ctx, repo)
	switch {
	case err != nil:
		return nil, err
	case p.Unreadable:
		return []Problem{problem("pages-unreadable", "cannot read the GitHub Pages settings: give the App or token Pages: read")}, nil
	case !p.Enabled:
		return []Problem{problem("pages-off", "GitHub Pages is off: Settings → Pages → Deploy from a branch, %s, / (root)", branch)}, nil
	case p.BuildType == "workflow":
		return []Problem{problem("pages-workflow", "GitHub Pages builds from a workflow, not %s: Settings → Pages → Source: Deploy from a branch", branch)}, nil
	case known && p.Branch != "" && p.Branch != branch:
		return []Problem{problem("pages-branch", "GitHub Pages serves %s, not %s: Settings → Pages → Branch", p.Branch, branch)}, nil
	case p.Path != "" && p.Path != "/":
		return []Problem{problem("pages-folder", "GitHub Pages serves %s of %s, not its root: Settings → Pages → Folder: / (root)", p.Path, branch)}, nil
	}
	return nil, nil
}

// required are the App permissions publishbot needs, with the level.
var required = []struct{ key, name, level string }{
	{"contents", "Contents", "write"},
	{"pull_requests", "Pull requests", "write"},
	{"checks", "Checks", "write"},
	{"statuses", "Commit statuses", "write"},
	{"pages", "Pages", "read"},
}

func (c *Checker) checkPermissions(ctx context.Context, repo queue.Repo) ([]Problem, error) {
	perms, known, err := c.opts.GitHub.Permissions(ctx, repo)
	if err != nil || !known {
		return nil, err
	}
	var missing []string
	for _, r := range required {
		got := perms[r.key]
		if got == r.level || got == "write" || got == "admin" {
			continue
		}
		missing = append(missing, r.name+": "+r.level)
	}
	if len(missing) == 0 {
		return nil, nil
	}
	return []Problem{problem("app-permissions", "the GitHub App lacks %s: App settings → Permissions, then approve on the installation", strings.Join(missing, ", "))}, nil
}

func (c *Checker) checkHooks(ctx context.Context, repo queue.Repo) ([]Problem, error) {
	hooks, readable, err := c.opts.GitHub.Hooks(ctx, repo)
	if err != nil || !readable {
		return nil, err
	}
	var out []Problem
	for _, h := range hooks {
		u := strings.TrimRight(strings.SplitN(h.URL, "?", 2)[0], "/")
		if !strings.HasSuffix(u, strings.TrimRight(c.opts.WebhookPath, "/")) {
			continue // another integration's webhook
		}
		if !h.Active {
			out = append(out, problem("webhook-inactive", "the webhook is inactive: Settings → Webhooks → Active"))
		}
		if h.ContentType != "json" {
			out = append(out, problem("webhook-content-type", "the webhook sends form data: Settings → Webhooks → Content type: application/json"))
		}
		if missing := missingEvents(h.Events); len(missing) > 0 {
			out = append(out, problem("webhook-events", "the webhook does not send %s: Settings → Webhooks → Let me select: Pushes, Pull requests", strings.Join(missing, ", ")))
		}
	}
	return out, nil
}

func missingEvents(events []string) []string {
	have := map[string]bool{}
	for _, e := range events {
		have[e] = true
	}
	if have["*"] {
		return nil
	}
	var missing []string
	for _, e := range []string{"push", "pull_request"} {
		if !have[e] {
			missing = append(missing, e)
		}
	}
	sort.Strings(missing)
	return missing
}
