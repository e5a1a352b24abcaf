package ghapitest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	jwt "github.com/golang-jwt/jwt/v4"
	"github.com/google/go-github/v62/github"
)

// App is a GitHub App created through the manifest flow of the server's web
// pages (see ServeHTTP): what the manifest asked for and what the server
// made of it.
type App struct {
	ID            int64
	Slug, Name    string
	Owner         string // the user or organisation that owns it
	Manifest      json.RawMessage
	HookURL       string
	Events        []string
	Permissions   map[string]string
	WebhookSecret string
	PEM           string // the App's private key, PKCS#1 PEM, as GitHub hands it over
	ClientID      string
	ClientSecret  string
	key           *rsa.PublicKey
}

// UserLogin is the login of the user signed in to the stand-in's web pages:
// the owner of an App created without an organisation.
const UserLogin = "octocat"

// manifestCodeTTL is how long a manifest flow's code may be converted
// (GitHub: one hour).
const manifestCodeTTL = time.Hour

// appState is the manifest flow's state: Apps being confirmed, Apps
// created, and codes not yet converted. Guarded by Server.mu.
type appState struct {
	pending map[string]pendingApp // by confirmation id
	created []*App
	codes   map[string]manifestCode
}

type pendingApp struct {
	owner    string
	manifest appManifest
	raw      []byte
	state    string
}

type manifestCode struct {
	app     *App
	expires time.Time
}

// appManifest is the part of a GitHub App manifest the stand-in reads
// (https://docs.github.com/apps/sharing-github-apps/registering-a-github-app-from-a-manifest).
type appManifest struct {
	Name           string            `json:"name"`
	URL            string            `json:"url"`
	Description    string            `json:"description"`
	RedirectURL    string            `json:"redirect_url"`
	CallbackURLs   []string          `json:"callback_urls"`
	SetupURL       string            `json:"setup_url"`
	Public         bool              `json:"public"`
	DefaultEvents  []string          `json:"default_events"`
	DefaultPerms   map[string]string `json:"default_permissions"`
	HookAttributes *struct {
		URL    string `json:"url"`
		Active *bool  `json:"active"`
	} `json:"hook_attributes"`
	RequestOAuthOnInstall bool `json:"request_oauth_on_install"`
	SetupOnUpdate         bool `json:"setup_on_update"`
}

// manifestKeys are the fields GitHub documents for a manifest.
var manifestKeys = map[string]bool{
	"name": true, "url": true, "hook_attributes": true, "redirect_url": true, "callback_urls": true,
	"setup_url": true, "description": true, "public": true, "default_events": true,
	"default_permissions": true, "request_oauth_on_install": true, "setup_on_update": true,
}

// appPermissions are repository and organisation permissions an App may ask
// for, as GitHub names them (a subset: the ones a publishing bot could want).
var appPermissions = map[string]bool{
	"actions": true, "administration": true, "checks": true, "contents": true, "deployments": true,
	"environments": true, "issues": true, "metadata": true, "packages": true, "pages": true,
	"pull_requests": true, "repository_hooks": true, "repository_projects": true, "secrets": true,
	"security_events": true, "single_file": true, "statuses": true, "vulnerability_alerts": true,
	"workflows": true, "members": true, "organization_administration": true,
}

// appEvents are webhook events an App may subscribe to (a subset).
var appEvents = map[string]bool{
	"check_run": true, "check_suite": true, "create": true, "delete": true, "deployment": true,
	"deployment_status": true, "issue_comment": true, "issues": true, "label": true, "page_build": true,
	"public": true, "pull_request": true, "pull_request_review": true, "pull_request_review_comment": true,
	"push": true, "release": true, "repository": true, "status": true, "workflow_run": true,
}

var (
	userNewApp = regexp.MustCompile(`^/settings/apps/new$`)
	orgNewApp  = regexp.MustCompile(`^/organizations/([A-Za-z0-9][A-Za-z0-9-]{0,38})/settings/apps/new$`)
)

// Apps returns the Apps created through the manifest flow, oldest first.
func (s *Server) Apps() []App {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]App, 0, len(s.apps.created))
	for _, a := range s.apps.created {
		out = append(out, *a)
	}
	return out
}

// serveWeb answers the pages of github.com's App manifest flow, reporting
// whether r was one of them:
//
//   - POST /settings/apps/new?state=S and
//     POST /organizations/ORG/settings/apps/new?state=S take a form with
//     the field "manifest" (a JSON App manifest) and show the page where the
//     user confirms the new App; a manifest GitHub would refuse gets a 422
//     page naming what is wrong.
//   - POST /settings/apps/new/confirm creates the App and redirects to the
//     manifest's redirect_url with ?code=C&state=S, as GitHub does; the code
//     converts once, within an hour (POST /app-manifests/{code}/conversions).
func (s *Server) serveWeb(w http.ResponseWriter, r *http.Request) bool {
	var owner string
	switch {
	case r.URL.Path == "/settings/apps/new/confirm":
	case userNewApp.MatchString(r.URL.Path):
		owner = UserLogin
	case orgNewApp.MatchString(r.URL.Path):
		owner = orgNewApp.FindStringSubmatch(r.URL.Path)[1]
	default:
		return false
	}
	op := "web/new-app-from-manifest"
	if owner == "" {
		op = "web/confirm-new-app"
	}
	status := s.answerWeb(w, r, owner)
	s.mu.Lock()
	s.reqs = append(s.reqs, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Op: op, Status: status})
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	return true
}

func (s *Server) answerWeb(w http.ResponseWriter, r *http.Request, owner string) int {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return http.StatusMethodNotAllowed
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		return webPage(w, http.StatusBadRequest, "Bad request", []string{err.Error()}, nil)
	}
	if owner == "" {
		return s.confirmApp(w, r)
	}
	raw := r.PostForm.Get("manifest")
	m, problems := parseManifest([]byte(raw))
	if len(problems) > 0 {
		return webPage(w, http.StatusUnprocessableEntity, "Invalid GitHub App configuration", problems, nil)
	}
	id := randomHex(16)
	s.mu.Lock()
	if s.apps.pending == nil {
		s.apps.pending = map[string]pendingApp{}
	}
	s.apps.pending[id] = pendingApp{owner: owner, manifest: m, raw: []byte(raw), state: r.URL.Query().Get("state")}
	s.mu.Unlock()
	perms := make([]string, 0, len(m.DefaultPerms))
	for k, v := range m.DefaultPerms {
		perms = append(perms, k+": "+v)
	}
	sort.Strings(perms)
	lines := append([]string{"Name: " + m.Name, "Webhook: " + m.HookAttributes.URL, "Events: " + strings.Join(m.DefaultEvents, ", ")}, perms...)
	return webPage(w, http.StatusOK, "Create GitHub App for "+owner, lines, &confirmForm{ID: id, Button: "Create GitHub App for " + owner})
}

// confirmApp creates the pending App and redirects back with a code.
func (s *Server) confirmApp(w http.ResponseWriter, r *http.Request) int {
	id := r.PostForm.Get("pending")
	s.mu.Lock()
	p, ok := s.apps.pending[id]
	delete(s.apps.pending, id)
	s.mu.Unlock()
	if !ok {
		return webPage(w, http.StatusNotFound, "Not found", []string{"no App waits for confirmation under this id"}, nil)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return webPage(w, http.StatusInternalServerError, "Server error", []string{err.Error()}, nil)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	code := randomHex(20)
	s.mu.Lock()
	s.nextID++
	app := &App{
		ID: s.nextID, Name: p.manifest.Name, Slug: slugify(p.manifest.Name), Owner: p.owner,
		Manifest: p.raw, HookURL: p.manifest.HookAttributes.URL, Events: p.manifest.DefaultEvents,
		Permissions: p.manifest.DefaultPerms, WebhookSecret: randomHex(20), PEM: string(pemKey),
		ClientID: "Iv1." + randomHex(8), ClientSecret: randomHex(20), key: &key.PublicKey,
	}
	for _, other := range s.apps.created {
		if other.Slug == app.Slug {
			app.Slug += "-" + strconv.FormatInt(app.ID, 10) // GitHub asks for another name
		}
	}
	s.apps.created = append(s.apps.created, app)
	if s.apps.codes == nil {
		s.apps.codes = map[string]manifestCode{}
	}
	s.apps.codes[code] = manifestCode{app: app, expires: time.Now().Add(manifestCodeTTL)}
	s.mu.Unlock()
	if p.manifest.RedirectURL == "" {
		return webPage(w, http.StatusOK, "GitHub App "+app.Name+" created", []string{"App ID: " + strconv.FormatInt(app.ID, 10)}, nil)
	}
	to, _ := url.Parse(p.manifest.RedirectURL) // checked in parseManifest
	q := to.Query()
	q.Set("code", code)
	if p.state != "" {
		q.Set("state", p.state)
	}
	to.RawQuery = q.Encode()
	http.Redirect(w, r, to.String(), http.StatusFound)
	return http.StatusFound
}

// parseManifest checks a manifest as GitHub does before it shows the
// confirmation page.
func parseManifest(raw []byte) (appManifest, []string) {
	var m appManifest
	var fields map[string]json.RawMessage
	if len(raw) == 0 {
		return m, []string{"manifest is missing"}
	}
	if err := json.Unmarshal(raw, &fields); err != nil {
		return m, []string{"manifest is not a JSON object: " + err.Error()}
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return m, []string{"manifest: " + err.Error()}
	}
	var problems []string
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !manifestKeys[k] {
			problems = append(problems, "unknown manifest field "+k)
		}
	}
	if m.Name == "" {
		problems = append(problems, "name can't be blank")
	} else if len(m.Name) > 34 {
		problems = append(problems, "name is too long (maximum is 34 characters)")
	}
	if !isWebURL(m.URL) {
		problems = append(problems, "url must be an http(s) URL")
	}
	if m.RedirectURL != "" && !isWebURL(m.RedirectURL) {
		problems = append(problems, "redirect_url must be an http(s) URL")
	}
	hookActive := m.HookAttributes != nil && (m.HookAttributes.Active == nil || *m.HookAttributes.Active)
	if hookActive && !isWebURL(m.HookAttributes.URL) {
		problems = append(problems, "hook_attributes.url must be an http(s) URL")
	}
	if len(m.DefaultEvents) > 0 && !hookActive {
		problems = append(problems, "default_events need an active webhook (hook_attributes.url)")
	}
	for _, e := range m.DefaultEvents {
		if !appEvents[e] {
			problems = append(problems, "unknown event "+e)
		}
	}
	perms := make([]string, 0, len(m.DefaultPerms))
	for p := range m.DefaultPerms {
		perms = append(perms, p)
	}
	sort.Strings(perms)
	for _, p := range perms {
		v := m.DefaultPerms[p]
		switch {
		case !appPermissions[p]:
			problems = append(problems, "unknown permission "+p)
		case v != "read" && v != "write":
			problems = append(problems, fmt.Sprintf("permission %s: %q, want read or write", p, v))
		}
	}
	if m.HookAttributes == nil {
		m.HookAttributes = &struct {
			URL    string `json:"url"`
			Active *bool  `json:"active"`
		}{}
	}
	return m, problems
}

func isWebURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// slugify is GitHub's App slug: the name in lower case, runs of other
// characters as one "-".
func slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	return b.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand never fails on Linux
	return hex.EncodeToString(b)
}

type confirmForm struct{ ID, Button string }

var webTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body><main><h1>{{.Title}}</h1>
<ul>{{range .Lines}}<li>{{.}}</li>{{end}}</ul>
{{with .Form}}<form method="post" action="/settings/apps/new/confirm">
<input type="hidden" name="pending" value="{{.ID}}">
<button type="submit" id="confirm">{{.Button}}</button>
</form>{{end}}
</main></body></html>
`))

func webPage(w http.ResponseWriter, status int, title string, lines []string, form *confirmForm) int {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = webTemplate.Execute(w, struct {
		Title string
		Lines []string
		Form  *confirmForm
	}{title, lines, form})
	return status
}

// manifestConversionLocked answers POST /app-manifests/{code}/conversions:
// the App's configuration with its private key and webhook secret, once per
// code. It needs no authentication, as on GitHub.
func (s *Server) manifestConversionLocked(c call) answer {
	code := c.m[1]
	mc, ok := s.apps.codes[code]
	delete(s.apps.codes, code)
	if !ok || time.Now().After(mc.expires) {
		return errorJSON(http.StatusNotFound, "Not Found")
	}
	a := mc.app
	owner := &github.User{Login: github.String(a.Owner), Type: github.String("User")}
	if a.Owner != UserLogin {
		owner.Type = github.String("Organization")
	}
	now := &github.Timestamp{Time: s.clock}
	perms := map[string]string{}
	for k, v := range a.Permissions {
		perms[k] = v
	}
	out := struct {
		ID            int64             `json:"id"`
		Slug          string            `json:"slug"`
		NodeID        string            `json:"node_id"`
		ClientID      string            `json:"client_id"`
		Owner         *github.User      `json:"owner"`
		Name          string            `json:"name"`
		Description   string            `json:"description"`
		ExternalURL   string            `json:"external_url"`
		HTMLURL       string            `json:"html_url"`
		CreatedAt     *github.Timestamp `json:"created_at"`
		UpdatedAt     *github.Timestamp `json:"updated_at"`
		Permissions   map[string]string `json:"permissions"`
		Events        []string          `json:"events"`
		ClientSecret  string            `json:"client_secret"`
		WebhookSecret string            `json:"webhook_secret"`
		PEM           string            `json:"pem"`
	}{
		ID: a.ID, Slug: a.Slug, NodeID: "A_" + strconv.FormatInt(a.ID, 10), ClientID: a.ClientID, Owner: owner,
		Name: a.Name, ExternalURL: a.manifestURL(), HTMLURL: s.URL() + "apps/" + a.Slug, CreatedAt: now, UpdatedAt: now,
		Permissions: perms, Events: append([]string{}, a.Events...), ClientSecret: a.ClientSecret,
		WebhookSecret: a.WebhookSecret, PEM: a.PEM,
	}
	return s.jsonAnswer(c.op, http.StatusCreated, out)
}

func (a *App) manifestURL() string {
	var m appManifest
	_ = json.Unmarshal(a.Manifest, &m)
	return m.URL
}

// validAppJWTLocked reports whether token is a JWT of an App created
// through the manifest flow: RS256, signed with its key, issued by its id.
func (s *Server) validAppJWTLocked(token string) bool {
	for _, a := range s.apps.created {
		claims := &jwt.RegisteredClaims{}
		_, err := jwt.ParseWithClaims(token, claims, func(tk *jwt.Token) (any, error) {
			if _, ok := tk.Method.(*jwt.SigningMethodRSA); !ok {
				return nil, fmt.Errorf("signing method %v", tk.Header["alg"])
			}
			return a.key, nil
		})
		if err == nil && claims.Issuer == strconv.FormatInt(a.ID, 10) {
			return true
		}
	}
	return false
}
