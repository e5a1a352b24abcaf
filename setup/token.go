package setup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/publishbot/publishbot/envfile"
	"github.com/publishbot/publishbot/gitauth"
)

// TokenOptions configure CheckToken.
type TokenOptions struct {
	Token string
	// Repo is the blog's repository, "owner/name".
	Repo           string
	WebURL, APIURL *url.URL
	// PagesBranch is the branch GitHub Pages should serve; "" is gh-pages.
	PagesBranch string
	// BotURL is the bot's public address, for the webhook settings printed;
	// "" prints a placeholder.
	BotURL    string
	DataDir   string
	Overwrite bool
	// HTTPClient makes the calls; nil is a client with a 30 s timeout.
	HTTPClient *http.Client
	Out        io.Writer
	Now        func() time.Time
}

// Result of one check.
const (
	OK      = "ok"
	Missing = "missing" // the bot cannot work until it is fixed
	Warning = "warning" // the bot works; readers may not see the site yet
)

// Check is one thing CheckToken looked at.
type Check struct {
	What   string // "push to acme/blog"
	Result string // OK, Missing or Warning
	Detail string // what GitHub said
	Fix    string // what to change, for Missing and Warning
}

// TokenReport is what CheckToken found.
type TokenReport struct {
	// Kind is "classic" (GitHub sent X-OAuth-Scopes) or "fine-grained";
	// "" when GitHub refused the token.
	Kind    string
	Scopes  []string
	Checks  []Check
	EnvFile string // written when nothing is Missing
}

// Missing lists the checks that failed.
func (r *TokenReport) Missing() []Check {
	var out []Check
	for _, c := range r.Checks {
		if c.Result == Missing {
			out = append(out, c)
		}
	}
	return out
}

// ErrTokenLacks is returned by CheckToken when the token or the repository
// is missing something the bot needs; the report says what.
var ErrTokenLacks = errors.New("the token or the repository is missing something publishbot needs")

// zeroSHA names no commit: a status on it is refused with 422 by GitHub
// when the token may write statuses, and 403/404 when it may not, so the
// probe changes nothing.
const zeroSHA = "0000000000000000000000000000000000000000"

// CheckToken finds out what a personal access token can do on o.Repo by
// trying it, since fine-grained tokens report no scopes. Every call is
// safe, none changes anything:
//
//   - GET /repos/{owner}/{repo}: the token reads the repository (metadata);
//     its permissions.push says whether it may push (contents: write);
//     X-OAuth-Scopes, when GitHub sends it, says the token is classic.
//   - POST /repos/{owner}/{repo}/statuses/0000…: a commit status on a SHA
//     that names no commit: 422 means the token may create statuses,
//     403 or 404 that it may not.
//   - PATCH /repos/{owner}/{repo}/issues/comments/0: a comment that cannot
//     exist: 404 means the token may edit comments, 403 that it may not.
//     (A classic token gets 404 either way; its scopes decide.)
//   - GET /repos/{owner}/{repo}/pages: GitHub Pages is enabled, deploys
//     from a branch, and serves o.PagesBranch from its root.
//
// Out gets each check with its fix. When nothing is Missing, the token and
// a new webhook secret are written to DataDir with publishbot.env, and Out
// gets the webhook settings to enter on GitHub and the command to run;
// otherwise the report comes back with ErrTokenLacks and nothing is
// written.
func CheckToken(ctx context.Context, o TokenOptions) (*TokenReport, error) {
	owner, name, ok := strings.Cut(o.Repo, "/")
	if !ok || gitauth.ValidFullName(o.Repo) != nil {
		return nil, fmt.Errorf("--repo %q: want owner/name", o.Repo)
	}
	if strings.TrimSpace(o.Token) == "" {
		return nil, errors.New("no token: pass --token or set PUBLISHBOT_GITHUB_TOKEN")
	}
	if o.PagesBranch == "" {
		o.PagesBranch = "gh-pages"
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if !o.Overwrite {
		if err := checkFree(o.DataDir, TokenFile, WebhookSecretFile, EnvFileName); err != nil {
			return nil, err
		}
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	client := github.NewClient(hc).WithAuthToken(o.Token)
	client.BaseURL = o.APIURL
	web := strings.TrimSuffix(o.WebURL.String(), "/")
	newToken := web + "/settings/personal-access-tokens/new"
	settings := web + "/" + o.Repo + "/settings"

	rep := &TokenReport{Kind: "fine-grained"}
	add := func(c Check) { rep.Checks = append(rep.Checks, c) }

	repo, resp, err := client.Repositories.Get(ctx, owner, name)
	status := statusOf(resp, err)
	if resp != nil {
		if h, ok := resp.Header["X-Oauth-Scopes"]; ok {
			rep.Kind = "classic"
			for _, s := range strings.Split(strings.Join(h, ","), ",") {
				if s = strings.TrimSpace(s); s != "" {
					rep.Scopes = append(rep.Scopes, s)
				}
			}
		}
	}
	switch {
	case status == http.StatusUnauthorized:
		rep.Kind = ""
		add(Check{What: "the token", Result: Missing, Detail: "GitHub refuses it (401 Bad credentials): it is mistyped, expired or revoked",
			Fix: "make a new one: " + newToken})
		return rep.finish(o)
	case status == http.StatusOK:
		vis := "public"
		if repo.GetPrivate() {
			vis = "private"
		}
		add(Check{What: "read " + o.Repo, Result: OK, Detail: vis + ", default branch " + repo.GetDefaultBranch()})
	case status == 0:
		return nil, fmt.Errorf("read %s: %w", o.Repo, err)
	default:
		fix := "fine-grained token: Repository access → Only select repositories → " + o.Repo + "; Repository permissions → Metadata: Read-only (" + newToken + ")"
		if rep.Kind == "classic" {
			fix = "classic token: the repo scope (public_repo is enough for a public repository), and an account with access to " + o.Repo
		}
		add(Check{What: "read " + o.Repo, Result: Missing, Detail: fmt.Sprintf("GitHub answers %d: the repository does not exist or the token does not reach it", status), Fix: fix})
		return rep.finish(o)
	}
	private := repo.GetPrivate()
	scopesFix := "" // a classic token's missing scope

	if rep.Kind == "classic" {
		has := func(s string) bool {
			for _, x := range rep.Scopes {
				if x == s {
					return true
				}
			}
			return false
		}
		switch {
		case has("repo"), has("public_repo") && !private:
			add(Check{What: "token scopes", Result: OK, Detail: strings.Join(rep.Scopes, ", ")})
		default:
			need := "repo"
			if !private {
				need = "public_repo (or repo)"
			}
			scopesFix = "give the classic token the " + need + " scope: " + web + "/settings/tokens"
			add(Check{What: "token scopes", Result: Missing, Detail: "the token has " + orNone(rep.Scopes), Fix: scopesFix})
		}
	}

	if repo.GetPermissions()["push"] {
		add(Check{What: "push to " + o.Repo, Result: OK, Detail: "the repository reports push access"})
	} else {
		fix := "fine-grained token: Repository permissions → Contents: Read and write"
		if rep.Kind == "classic" {
			fix = "the token's account needs the Write role on " + o.Repo + " (" + settings + "/access)"
		}
		add(Check{What: "push to " + o.Repo, Result: Missing, Detail: "the repository reports no push access for this token", Fix: fix})
	}

	_, resp, err = client.Repositories.CreateStatus(ctx, owner, name, zeroSHA, &github.RepoStatus{
		State: github.String("pending"), Context: github.String("publishbot/setup"),
		Description: github.String("publishbot setup checks the token; no commit has this SHA"),
	})
	switch s := statusOf(resp, err); {
	case s == http.StatusUnprocessableEntity || s == http.StatusCreated:
		add(Check{What: "commit statuses", Result: OK, Detail: "the token may create them"})
	case s == http.StatusForbidden || s == http.StatusNotFound:
		fix := "fine-grained token: Repository permissions → Commit statuses: Read and write"
		if rep.Kind == "classic" {
			fix = "the classic token needs the repo scope (or repo:status)"
		}
		add(Check{What: "commit statuses", Result: Missing, Detail: fmt.Sprintf("GitHub answers %d to a status on a SHA that names no commit%s", s, accepted(resp)), Fix: fix})
	default:
		return nil, fmt.Errorf("check commit statuses on %s: %w", o.Repo, err)
	}

	_, resp, err = client.Issues.EditComment(ctx, owner, name, 0, &github.IssueComment{Body: github.String("publishbot setup checks the token")})
	switch s := statusOf(resp, err); {
	case rep.Kind == "classic":
		// 404 either way: the scopes decide.
		if scopesFix != "" {
			add(Check{What: "pull request comments", Result: Missing, Detail: "the token's scopes do not allow them", Fix: scopesFix})
		} else {
			add(Check{What: "pull request comments", Result: OK, Detail: "the token's scopes allow them"})
		}
	case s == http.StatusNotFound || s == http.StatusOK:
		add(Check{What: "pull request comments", Result: OK, Detail: "the token may write them"})
	case s == http.StatusForbidden:
		add(Check{What: "pull request comments", Result: Missing, Detail: "GitHub answers 403 to an edit of a comment that cannot exist" + accepted(resp),
			Fix: "fine-grained token: Repository permissions → Pull requests: Read and write"})
	default:
		return nil, fmt.Errorf("check comments on %s: %w", o.Repo, err)
	}

	pages, resp, err := client.Repositories.GetPagesInfo(ctx, owner, name)
	fromBranch := "Settings → Pages → Build and deployment → Source: Deploy from a branch; Branch: " + o.PagesBranch + ", / (root) (" + settings + "/pages)"
	switch s := statusOf(resp, err); {
	case s == http.StatusOK:
		src := pages.GetSource()
		switch {
		case pages.GetBuildType() == "workflow":
			add(Check{What: "GitHub Pages", Result: Missing, Detail: "GitHub Pages deploys from a GitHub Actions workflow, not from " + o.PagesBranch, Fix: fromBranch})
		case src.GetBranch() != o.PagesBranch || (src.GetPath() != "/" && src.GetPath() != ""):
			add(Check{What: "GitHub Pages", Result: Missing, Detail: fmt.Sprintf("GitHub Pages serves %s %s, not %s /", src.GetBranch(), src.GetPath(), o.PagesBranch), Fix: fromBranch})
		default:
			add(Check{What: "GitHub Pages", Result: OK, Detail: "serves " + o.PagesBranch + " / at " + pages.GetHTMLURL()})
		}
	case s == http.StatusNotFound:
		add(Check{What: "GitHub Pages", Result: Warning, Detail: "GitHub Pages is not enabled on " + o.Repo,
			Fix: "after the bot's first publish has created " + o.PagesBranch + ": " + fromBranch})
	case s == http.StatusForbidden:
		add(Check{What: "GitHub Pages", Result: Missing, Detail: "the token may not read the Pages settings" + accepted(resp),
			Fix: "fine-grained token: Repository permissions → Pages: Read-only"})
	default:
		return nil, fmt.Errorf("check GitHub Pages of %s: %w", o.Repo, err)
	}
	return rep.finish(o)
}

// finish prints the report and, when nothing is missing, writes the files.
func (r *TokenReport) finish(o TokenOptions) (*TokenReport, error) {
	kind := strings.TrimSpace(r.Kind + " token")
	if r.Kind == "fine-grained" {
		kind += " (GitHub reports no scopes for it, so each permission was tried)"
	}
	fmt.Fprintf(o.Out, "Checked the %s on %s:\n", kind, o.Repo)
	for _, c := range r.Checks {
		fmt.Fprintf(o.Out, "  %-8s %s: %s\n", c.Result, c.What, c.Detail)
		if c.Fix != "" {
			fmt.Fprintf(o.Out, "           fix: %s\n", c.Fix)
		}
	}
	if n := len(r.Missing()); n > 0 {
		fmt.Fprintf(o.Out, "\n%d thing(s) missing; fix them and run setup again. Nothing was written.\n", n)
		return r, ErrTokenLacks
	}
	secret, err := randomSecret()
	if err != nil {
		return r, err
	}
	env := append([]envfile.Var{
		{Name: "PUBLISHBOT_GITHUB_TOKEN_FILE", Value: TokenFile},
		{Name: "PUBLISHBOT_WEBHOOK_SECRET_FILE", Value: WebhookSecretFile},
		{Name: "PUBLISHBOT_REPOSITORIES", Value: o.Repo},
	}, apiEnv(o.APIURL)...)
	files := []secretFile{{TokenFile, []byte(strings.TrimSpace(o.Token) + "\n")}, {WebhookSecretFile, []byte(secret + "\n")}}
	r.EnvFile, err = writeFiles(o.DataDir, files, env, header("for a token on "+o.Repo, o.Now()), o.Overwrite)
	if err != nil {
		return r, err
	}
	hook := "https://<the bot's address>/webhook"
	if o.BotURL != "" {
		if h, err := WebhookURL(o.BotURL); err == nil {
			hook = h
		}
	}
	web := strings.TrimSuffix(o.WebURL.String(), "/")
	fmt.Fprintf(o.Out, "\nWrote the token and a new webhook secret (mode 0600) and %s to %s.\n\n", EnvFileName, o.DataDir)
	fmt.Fprintf(o.Out, `Add the webhook on GitHub: %s/%s/settings/hooks/new
  Payload URL:   %s
  Content type:  application/json (the bot answers form-encoded deliveries with 415)
  Secret:        the content of %s/%s (it is not shown here)
  Events:        Let me select individual events → Pushes, Pull requests

`, web, o.Repo, hook, o.DataDir, WebhookSecretFile)
	fmt.Fprint(o.Out, NextSteps(o.DataDir))
	return r, nil
}

// statusOf is the HTTP status of a go-github call, 0 when none came back.
func statusOf(resp *github.Response, err error) int {
	if resp != nil && resp.Response != nil {
		return resp.StatusCode
	}
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	return 0
}

// accepted is GitHub's X-Accepted-GitHub-Permissions, as a parenthesis.
func accepted(resp *github.Response) string {
	if resp == nil || resp.Response == nil {
		return ""
	}
	if h := resp.Header.Get("X-Accepted-GitHub-Permissions"); h != "" {
		return " (it needs " + strings.ReplaceAll(h, "; ", " or ") + ")"
	}
	return ""
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "no scopes"
	}
	return strings.Join(s, ", ")
}
