package setup

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/publishbot/publishbot/envfile"
	"github.com/publishbot/publishbot/gitauth"
)

// AppOptions configure RegisterApp.
type AppOptions struct {
	// BotURL is the bot's public address; GitHub sends webhooks to
	// BotURL/webhook (or to BotURL itself when it ends in /webhook).
	BotURL string
	// WebURL is GitHub's web address (https://github.com/, an Enterprise
	// Server's); APIURL its API (gitauth.APIForBase).
	WebURL, APIURL *url.URL
	// Org registers the App under this organisation; "" under the user.
	Org string
	// Name is the App's name; "" is "publishbot-" and the bot's host name.
	// GitHub's confirmation page lets the user change it.
	Name string
	// DataDir is where the credentials and publishbot.env are written.
	DataDir string
	// Overwrite replaces credentials already in DataDir.
	Overwrite bool
	// Listen is the loopback address the page is served on; "" is
	// 127.0.0.1:0 (a free port).
	Listen string
	// HTTPClient converts the code; nil is a client with a 30 s timeout.
	HTTPClient *http.Client
	// Out receives what the user reads: where to open the page, and the
	// result. Never a key or secret.
	Out io.Writer
	// Ready, when set, is called with the page's address once it listens.
	Ready func(pageURL string)
	// Now is the clock for the env file's header; nil is time.Now.
	Now func() time.Time
}

// Registration is what RegisterApp made.
type Registration struct {
	AppID      int64
	Slug       string
	Name       string
	Owner      string
	HTMLURL    string // the App's page on GitHub
	InstallURL string // where the user installs it on repositories
	EnvFile    string // the publishbot.env written
}

// Permissions are what the App asks for: contents to push the pages
// branch, pull requests for preview comments, checks and statuses for
// results, metadata (always), pages to read the Pages site's settings and
// builds. Each call returns a new map.
func Permissions() map[string]string {
	return map[string]string{
		"contents":      "write",
		"pull_requests": "write",
		"checks":        "write",
		"statuses":      "write",
		"metadata":      "read",
		"pages":         "read",
	}
}

// Events are the webhook events the App subscribes to.
func Events() []string { return []string{"push", "pull_request"} }

// Manifest is the GitHub App manifest RegisterApp sends
// (https://docs.github.com/apps/sharing-github-apps/registering-a-github-app-from-a-manifest).
type Manifest struct {
	Name               string            `json:"name"`
	URL                string            `json:"url"`
	Description        string            `json:"description"`
	HookAttributes     HookAttributes    `json:"hook_attributes"`
	RedirectURL        string            `json:"redirect_url"`
	Public             bool              `json:"public"`
	DefaultPermissions map[string]string `json:"default_permissions"`
	DefaultEvents      []string          `json:"default_events"`
}

// HookAttributes is the manifest's webhook. GitHub Apps always receive
// JSON payloads.
type HookAttributes struct {
	URL    string `json:"url"`
	Active bool   `json:"active"`
}

// WebhookURL is where GitHub sends webhooks for a bot at botURL: its
// /webhook, unless botURL already names it. botURL must be https (http only
// on a loopback host, for tests), without credentials, query or fragment.
func WebhookURL(botURL string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(botURL))
	switch {
	case err != nil:
		return "", fmt.Errorf("--url %q: %w", botURL, err)
	case u.Scheme != "https" && !(u.Scheme == "http" && gitauth.IsLoopback(u.Hostname())):
		return "", fmt.Errorf("--url %q: want the bot's public https:// address (GitHub sends webhooks there)", botURL)
	case u.Host == "":
		return "", fmt.Errorf("--url %q has no host", botURL)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return "", fmt.Errorf("--url %q: want a plain address, without credentials, query or fragment", botURL)
	}
	if path.Base(u.Path) != "webhook" {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/webhook"
	}
	return u.String(), nil
}

// newManifest is the manifest for o, with GitHub redirecting to redirect.
func newManifest(o AppOptions, hook, redirect string) Manifest {
	home, _ := url.Parse(hook)
	home.Path = strings.TrimSuffix(home.Path, "webhook")
	name := o.Name
	if name == "" {
		host := strings.Split(home.Hostname(), ".")[0]
		name = "publishbot-" + host
	}
	if len(name) > 34 { // GitHub's limit
		name = strings.TrimRight(name[:34], "-")
	}
	return Manifest{
		Name:               name,
		URL:                home.String(),
		Description:        "Publishes the Markdown posts of a repository to its GitHub Pages site, with previews of pull requests (publishbot).",
		HookAttributes:     HookAttributes{URL: hook, Active: true},
		RedirectURL:        redirect,
		Public:             false,
		DefaultPermissions: Permissions(),
		DefaultEvents:      Events(),
	}
}

// newAppURL is GitHub's page that takes a manifest: the user's, or the
// organisation's.
func newAppURL(web *url.URL, org string) string {
	p := "settings/apps/new"
	if org != "" {
		p = "organizations/" + url.PathEscape(org) + "/settings/apps/new"
	}
	return strings.TrimSuffix(web.String(), "/") + "/" + p
}

// RegisterApp runs the App manifest flow: it serves a page on loopback
// whose form sends the manifest to GitHub; the user confirms the App there;
// GitHub redirects back to the page with a code (and the state the form
// sent, checked), which is converted into the App's id, private key and
// webhook secret (Apps.CompleteAppManifest). These are written to DataDir
// with publishbot.env, and Out is told how to install the App and run the
// bot. It returns once that is done, or when ctx ends.
func RegisterApp(ctx context.Context, o AppOptions) (*Registration, error) {
	hook, err := WebhookURL(o.BotURL)
	if err != nil {
		return nil, err
	}
	if o.Org != "" && !validOrg(o.Org) {
		return nil, fmt.Errorf("--org %q is not a GitHub organisation name", o.Org)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if !o.Overwrite {
		// Refuse before the user creates an App whose key could not be kept.
		if err := checkFree(o.DataDir, AppIDFile, PrivateKeyFile, WebhookSecretFile, EnvFileName); err != nil {
			return nil, err
		}
	}
	listen := o.Listen
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("--listen %q: %w", listen, err)
	}
	if !gitauth.IsLoopback(host) {
		return nil, fmt.Errorf("--listen %q: the setup page serves only on a loopback address (127.0.0.1, ::1, localhost)", listen)
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("listen for the setup page: %w", err)
	}
	defer ln.Close()
	page := "http://" + ln.Addr().String() + "/"
	state, err := randomSecret()
	if err != nil {
		return nil, err
	}
	f := &flow{
		opts:     o,
		page:     page,
		state:    state,
		manifest: newManifest(o, hook, page+"callback"),
		action:   newAppURL(o.WebURL, o.Org),
		done:     make(chan flowResult, 1),
	}
	srv := &http.Server{Handler: f, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 2 * time.Minute}
	go srv.Serve(ln)
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx) // lets the last page finish
	}()

	fmt.Fprintf(o.Out, "Open %s in a browser to register publishbot as a GitHub App on %s.\n", page, strings.TrimSuffix(o.WebURL.String(), "/"))
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	fmt.Fprintf(o.Out, "(On a remote machine, forward the port to your browser's: ssh -L %s:127.0.0.1:%s <host>; --listen picks the port.)\n", port, port)
	fmt.Fprintf(o.Out, "GitHub will send webhooks to %s. Waiting (Ctrl-C to stop)...\n", hook)
	if o.Ready != nil {
		o.Ready(page)
	}
	select {
	case r := <-f.done:
		if r.err != nil {
			return nil, r.err
		}
		reg := r.reg
		fmt.Fprintf(o.Out, "\nCreated the GitHub App %s (id %d), owned by %s: %s\n", reg.Name, reg.AppID, reg.Owner, reg.HTMLURL)
		fmt.Fprintf(o.Out, "Wrote its id, private key and webhook secret (mode 0600) and %s to %s.\n\n", EnvFileName, o.DataDir)
		fmt.Fprintf(o.Out, "Install it on your blog's repository:\n\n  %s\n\n", reg.InstallURL)
		fmt.Fprint(o.Out, NextSteps(o.DataDir))
		return reg, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for GitHub's redirect: %w", ctx.Err())
	}
}

func validOrg(s string) bool {
	if s == "" || len(s) > 39 || s[0] == '-' {
		return false
	}
	for _, r := range s {
		if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// flow is the loopback page: GET / shows the form, GET /callback takes
// GitHub's redirect once.
type flow struct {
	opts     AppOptions
	page     string
	state    string
	manifest Manifest
	action   string
	done     chan flowResult // gets the one result

	mu       sync.Mutex // one callback at a time
	finished bool
}

type flowResult struct {
	reg *Registration
	err error
}

var pageTemplate = template.Must(template.New("setup").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · publishbot setup</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}
code{font-size:.9em}button{font:inherit;padding:.5rem 1rem;cursor:pointer}.error{color:#b00020}</style>
</head><body><main>
<h1>{{.Title}}</h1>
{{if .Form}}
<p>publishbot will be registered as a GitHub App on <code>{{.GitHub}}</code>{{if .Org}} for the organisation <code>{{.Org}}</code>{{end}}.
GitHub will send its webhooks (<code>push</code>, <code>pull_request</code>) to <code>{{.Hook}}</code>.</p>
<p>It asks for these permissions on the repositories you install it on:</p>
<ul>{{range .Perms}}<li>{{.}}</li>{{end}}</ul>
<form method="post" action="{{.Action}}">
<input type="hidden" name="manifest" value="{{.Manifest}}">
<button type="submit" id="register">Register the GitHub App on GitHub</button>
</form>
<p>GitHub shows the App before creating it; you can change its name there.</p>
{{end}}
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
{{if .Install}}<p>Created the GitHub App <a href="{{.AppURL}}">{{.Name}}</a> (id {{.AppID}}).
Its private key and webhook secret are in the data folder; this page does not show them.</p>
<p><a id="install" href="{{.Install}}">Install it on your blog's repository</a>, then start the bot
as the terminal says. You can close this page.</p>{{end}}
</main></body></html>
`))

type pageData struct {
	Title, GitHub, Org, Hook, Action, Manifest, Error string
	Form                                              bool
	Perms                                             []string
	Install, AppURL, Name                             string
	AppID                                             int64
}

func (f *flow) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Frame-Options", "DENY")
	action, _ := url.Parse(f.action)
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action "+action.Scheme+"://"+action.Host+"; frame-ancestors 'none'")
	// The page is for this machine's browser only: a name that resolves
	// here (DNS rebinding) is not the page's address.
	if want, _ := url.Parse(f.page); r.Host != want.Host && r.Host != strings.Replace(want.Host, "127.0.0.1", "localhost", 1) {
		f.render(w, http.StatusMisdirectedRequest, pageData{Title: "Wrong address", Error: "Open " + f.page + " instead."})
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		f.render(w, http.StatusMethodNotAllowed, pageData{Title: "Not allowed", Error: "Only GET."})
		return
	}
	switch r.URL.Path {
	case "/":
		m, _ := json.Marshal(f.manifest)
		var perms []string
		for _, p := range []struct{ key, label string }{
			{"contents", "Contents"}, {"pull_requests", "Pull requests"}, {"checks", "Checks"},
			{"statuses", "Commit statuses"}, {"metadata", "Metadata"}, {"pages", "Pages"},
		} {
			access := "read-only"
			if f.manifest.DefaultPermissions[p.key] == "write" {
				access = "read and write"
			}
			perms = append(perms, p.label+": "+access)
		}
		f.render(w, http.StatusOK, pageData{
			Title: "Register publishbot on GitHub", Form: true, GitHub: strings.TrimSuffix(f.opts.WebURL.String(), "/"),
			Org: f.opts.Org, Hook: f.manifest.HookAttributes.URL, Perms: perms,
			Action: f.action + "?state=" + url.QueryEscape(f.state), Manifest: string(m),
		})
	case "/callback":
		f.callback(w, r)
	default:
		f.render(w, http.StatusNotFound, pageData{Title: "Not found", Error: "Open " + f.page + "."})
	}
}

// callback takes GitHub's redirect: the state must be the form's, and the
// code is converted once.
func (f *flow) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(f.state)) != 1 {
		f.render(w, http.StatusBadRequest, pageData{Title: "Not from this setup", Error: "The redirect does not carry this setup's state: start again from " + f.page + "."})
		return
	}
	code := q.Get("code")
	if code == "" || len(code) > 200 || strings.ContainsAny(code, "/?#") {
		f.render(w, http.StatusBadRequest, pageData{Title: "No code", Error: "GitHub's redirect carries no code: start again from " + f.page + "."})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.finished {
		f.render(w, http.StatusGone, pageData{Title: "Already done", Error: "This setup has finished; the terminal says what to do next."})
		return
	}
	reg, err := f.complete(r.Context(), code)
	if err != nil {
		f.render(w, http.StatusBadGateway, pageData{Title: "Registration failed", Error: err.Error()})
		f.finish(flowResult{err: err})
		return
	}
	f.render(w, http.StatusOK, pageData{Title: "publishbot is registered", Install: reg.InstallURL, AppURL: reg.HTMLURL, Name: reg.Name, AppID: reg.AppID})
	f.finish(flowResult{reg: reg})
}

// finish reports the result; f.mu is held.
func (f *flow) finish(r flowResult) {
	f.finished = true
	f.done <- r
}

// complete converts the code and writes the files.
func (f *flow) complete(ctx context.Context, code string) (*Registration, error) {
	hc := f.opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	client := github.NewClient(hc)
	client.BaseURL = f.opts.APIURL
	cfg, _, err := client.Apps.CompleteAppManifest(ctx, code)
	if err != nil {
		return nil, fmt.Errorf("convert GitHub's code into the App's credentials: %w", err)
	}
	if cfg.GetID() == 0 || cfg.GetPEM() == "" || cfg.GetWebhookSecret() == "" {
		return nil, errors.New("convert GitHub's code into the App's credentials: the answer lacks the id, key or webhook secret")
	}
	id := strconv.FormatInt(cfg.GetID(), 10)
	files := []secretFile{
		{AppIDFile, []byte(id + "\n")},
		{PrivateKeyFile, []byte(cfg.GetPEM())},
		{WebhookSecretFile, []byte(cfg.GetWebhookSecret() + "\n")},
	}
	env := append([]envfile.Var{
		{Name: "PUBLISHBOT_APP_ID", Value: id},
		{Name: "PUBLISHBOT_APP_PRIVATE_KEY_FILE", Value: PrivateKeyFile},
		{Name: "PUBLISHBOT_WEBHOOK_SECRET_FILE", Value: WebhookSecretFile},
	}, apiEnv(f.opts.APIURL)...)
	envPath, err := writeFiles(f.opts.DataDir, files, env, header("for the GitHub App "+cfg.GetSlug()+" (id "+id+")", f.opts.Now()), f.opts.Overwrite)
	if err != nil {
		return nil, err
	}
	htmlURL := cfg.GetHTMLURL()
	if htmlURL == "" {
		htmlURL = strings.TrimSuffix(f.opts.WebURL.String(), "/") + "/apps/" + cfg.GetSlug()
	}
	return &Registration{
		AppID: cfg.GetID(), Slug: cfg.GetSlug(), Name: cfg.GetName(), Owner: cfg.GetOwner().GetLogin(),
		HTMLURL: htmlURL, InstallURL: strings.TrimSuffix(htmlURL, "/") + "/installations/new", EnvFile: envPath,
	}, nil
}

func (f *flow) render(w http.ResponseWriter, status int, d pageData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = pageTemplate.Execute(w, d)
}
