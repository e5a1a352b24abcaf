// Package status owns the operator's status page at /status: recent webhook
// deliveries with their result, the queue's jobs by state (running, queued,
// delayed, dead) with repository, commit, attempt, duration and last error,
// each repository's last successful publish, and buttons to retry a dead
// job and to re-publish a repository.
//
// The page is server-rendered HTML in the default theme's colours, with no
// script and no third-party asset. It is off unless a token is configured;
// the token is accepted as a bearer token or through a login form, whose
// attempts are rate-limited and which starts a session cookie. POSTs made
// with the cookie carry a CSRF token and must come from the same origin.
package status

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/publishbot/publishbot/queue"
	"github.com/publishbot/publishbot/templates"
	"github.com/publishbot/publishbot/worker"
)

// Queue is what the page reads and changes of the job queue
// (queue.Queue has it).
type Queue interface {
	List(ctx context.Context) ([]queue.JobInfo, error)
	Retry(ctx context.Context, id string) error
	Enqueue(ctx context.Context, j queue.Job) error
}

// Repositories lists the repositories the bot publishes
// (*worker.PublishedSet).
type Repositories interface {
	List() []worker.Published
}

// Options configure a Handler. Token, Queue, Board and Repositories are
// required.
type Options struct {
	// Token is the secret that opens the page (PUBLISHBOT_STATUS_TOKEN).
	Token        string
	Queue        Queue
	Board        *Board
	Repositories Repositories
	// Log gets one line per login, retry and re-publish; nil discards.
	Log *logrus.Entry
	// Version is shown in the header.
	Version string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Timeout bounds the queue calls of one request; 0 means 10 s.
	Timeout time.Duration
}

// Handler serves /status and below. It is safe for concurrent use.
type Handler struct {
	opts Options
	gate *gate
	css  []byte
	icon []byte
	log  *logrus.Entry
}

//go:embed page.html style.css
var files embed.FS

var page = template.Must(template.New("page.html").Funcs(template.FuncMap{
	"short": shortSHA,
	"ago":   ago,
	"iso":   func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"dur":   roundDuration,
}).ParseFS(files, "page.html"))

// New checks opts and returns the handler. A token shorter than 16
// characters is refused: it would be guessed.
func New(opts Options) (*Handler, error) {
	switch {
	case len(strings.TrimSpace(opts.Token)) < minTokenLength:
		return nil, fmt.Errorf("status page: the token must have at least %d characters", minTokenLength)
	case opts.Queue == nil, opts.Board == nil, opts.Repositories == nil:
		return nil, errors.New("status page: queue, board and repositories are required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	log := opts.Log
	if log == nil {
		l := logrus.New()
		l.Out = discard{}
		log = logrus.NewEntry(l)
	}
	palette, err := templates.Palette()
	if err != nil {
		return nil, fmt.Errorf("status page: %w", err)
	}
	own, err := files.ReadFile("style.css")
	if err != nil {
		return nil, fmt.Errorf("status page: %w", err)
	}
	css := append(append(append([]byte("/* publishbot status page: the theme's palette, then its own rules. */\n"), palette...), '\n'), own...)
	icon, err := templates.Favicon()
	if err != nil {
		return nil, fmt.Errorf("status page: %w", err)
	}
	return &Handler{opts: opts, gate: newGate(opts.Token, opts.Now), css: css, icon: icon, log: log}, nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// Register adds the page's routes to mux under /status.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /status", h.dashboard)
	mux.HandleFunc("GET /status/style.css", h.style)
	mux.HandleFunc("GET /status/favicon.svg", h.favicon)
	mux.HandleFunc("POST /status/login", h.login)
	mux.HandleFunc("POST /status/logout", h.logout)
	mux.HandleFunc("POST /status/retry", h.retry)
	mux.HandleFunc("POST /status/republish", h.republish)
}

func secure(w http.ResponseWriter) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("Cache-Control", "no-store")
}

func (h *Handler) favicon(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "max-age=86400")
	_, _ = w.Write(h.icon)
}

func (h *Handler) style(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "max-age=300")
	_, _ = w.Write(h.css)
}

// view is what page.html renders.
type view struct {
	Version  string
	LoggedIn bool
	CSRF     string // "" for a bearer-token request: its forms need none
	Notice   string
	Problem  string
	Now      time.Time

	Running, Queued, Delayed, Dead []jobView
	Repos                          []repoView
	Deliveries                     []deliveryView
	QueueError                     string
}

type jobView struct {
	ID, Repo, Kind, Commit, Ref, LastError, Reason string
	PR, Attempt                                    int
	Since                                          time.Time
	For                                            time.Duration
	NotBefore                                      time.Time
}

type repoView struct {
	Repo, Branch string
	Last         *Publish
}

type deliveryView struct {
	At                                   time.Time
	ID, Event, Result, Reason, Repo, Job string
	Status                               int
	Failed                               bool
}

func (h *Handler) render(w http.ResponseWriter, status int, v view) {
	v.Version = h.opts.Version
	v.Now = h.opts.Now()
	var buf bytes.Buffer
	if err := page.Execute(&buf, v); err != nil {
		h.log.WithError(err).Error("render status page")
		http.Error(w, "status page: render failed", http.StatusInternalServerError)
		return
	}
	secure(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// notices are the only messages a redirect can ask the page to show.
var notices = map[string]string{
	"retried":     "The job is queued again.",
	"republished": "A publish of the repository is queued.",
	"loggedout":   "Logged out.",
}

func (h *Handler) dashboard(w http.ResponseWriter, r *http.Request) {
	bearer, s, ok := h.gate.who(r)
	if !ok {
		if r.Header.Get("Authorization") != "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="publishbot status"`)
			h.render(w, http.StatusUnauthorized, view{Problem: "The token is not right."})
			return
		}
		h.render(w, http.StatusOK, view{Notice: notices[r.URL.Query().Get("done")]})
		return
	}
	v := view{LoggedIn: true, Notice: notices[r.URL.Query().Get("done")]}
	if !bearer {
		v.CSRF = s.csrf
	}
	if v.Notice != "" && r.URL.Query().Get("job") != "" {
		v.Notice += " (" + clipText(r.URL.Query().Get("job"), 64) + ")"
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.opts.Timeout)
	defer cancel()
	now := h.opts.Now()
	jobs, err := h.opts.Queue.List(ctx)
	if err != nil {
		v.QueueError = "The queue could not be read: " + err.Error()
	}
	for _, in := range jobs {
		jv := jobView{
			ID: in.Job.ID, Repo: in.Job.Repo.FullName, Kind: string(in.Job.Kind), Commit: in.Job.SHA, Ref: in.Job.Ref,
			LastError: in.LastError, Reason: in.Job.Reason, PR: in.Job.PR, Attempt: in.Job.Attempt,
			Since: in.Since, NotBefore: in.Job.NotBefore,
		}
		if !in.Since.IsZero() {
			jv.For = now.Sub(in.Since)
		}
		switch in.State {
		case queue.StateRunning:
			v.Running = append(v.Running, jv)
		case queue.StateDelayed:
			v.Delayed = append(v.Delayed, jv)
		case queue.StateDead:
			v.Dead = append(v.Dead, jv)
		default:
			v.Queued = append(v.Queued, jv)
		}
	}
	// Newest dead letters first: the one just retried or just failed is
	// what the operator looks for.
	for i, j := 0, len(v.Dead)-1; i < j; i, j = i+1, j-1 {
		v.Dead[i], v.Dead[j] = v.Dead[j], v.Dead[i]
	}
	seen := map[string]bool{}
	for _, p := range h.opts.Repositories.List() {
		rv := repoView{Repo: p.Repo.FullName, Branch: strings.TrimPrefix(p.Ref, "refs/heads/")}
		if last, ok := h.opts.Board.LastPublish(p.Repo.FullName); ok {
			rv.Last = &last
		}
		seen[p.Repo.FullName] = true
		v.Repos = append(v.Repos, rv)
	}
	for _, last := range h.opts.Board.Publishes() {
		if !seen[last.Repo] {
			last := last
			v.Repos = append(v.Repos, repoView{Repo: last.Repo, Last: &last})
		}
	}
	for _, d := range h.opts.Board.Deliveries() {
		v.Deliveries = append(v.Deliveries, deliveryView{
			At: d.At, ID: d.ID, Event: d.Event, Result: d.Result, Reason: d.Reason, Repo: d.Repo, Job: d.Job,
			Status: d.Status, Failed: d.Status >= 400,
		})
	}
	h.render(w, http.StatusOK, v)
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		h.render(w, http.StatusForbidden, view{Problem: "The login form must be sent from this page."})
		return
	}
	if !h.gate.allowLogin(r) {
		h.log.WithField("remote", r.RemoteAddr).Warn("status page: login attempts rate-limited")
		w.Header().Set("Retry-After", retryAfterSeconds)
		h.render(w, http.StatusTooManyRequests, view{Problem: "Too many login attempts. Wait a minute and try again."})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, formBodyLimit)
	tok := r.PostFormValue(tokenField)
	if len(tok) > maxTokenFieldBytes || !h.gate.tokenOK(tok) {
		h.log.WithField("remote", r.RemoteAddr).Warn("status page: login refused")
		h.render(w, http.StatusUnauthorized, view{Problem: "The token is not right."})
		return
	}
	id, err := h.gate.newSession()
	if err != nil {
		h.log.WithError(err).Error("status page: start a session")
		http.Error(w, "could not start a session", http.StatusInternalServerError)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: id, Path: "/status", MaxAge: int(sessionTTL / time.Second),
		HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https",
	})
	h.log.WithField("remote", r.RemoteAddr).Info("status page: logged in")
	http.Redirect(w, r, "/status", http.StatusSeeOther)
}

// authorizePost checks a state-changing request: a bearer token, or a
// session cookie with its CSRF token from the same origin.
func (h *Handler) authorizePost(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, formBodyLimit)
	bearer, s, ok := h.gate.who(r)
	switch {
	case !ok:
		h.render(w, http.StatusUnauthorized, view{Problem: "Log in first."})
		return false
	case bearer:
		return true
	case !sameOrigin(r) || !tokensEqual(r.PostFormValue(csrfField), s.csrf):
		h.render(w, http.StatusForbidden, view{Problem: "The form has expired. Reload the page and try again."})
		return false
	}
	return true
}

func tokensEqual(a, b string) bool {
	return a != "" && len(a) == len(b) && subtleEqual(a, b)
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	if !h.authorizePost(w, r) {
		return
	}
	h.gate.endSession(r)
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/status", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/status?done=loggedout", http.StatusSeeOther)
}

func (h *Handler) retry(w http.ResponseWriter, r *http.Request) {
	if !h.authorizePost(w, r) {
		return
	}
	id := r.PostFormValue("job")
	ctx, cancel := context.WithTimeout(r.Context(), h.opts.Timeout)
	defer cancel()
	if err := h.opts.Queue.Retry(ctx, id); err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, queue.ErrNotFound) {
			status = http.StatusNotFound
		}
		h.log.WithError(err).WithField(queue.FieldJob, clipText(id, 64)).Warn("status page: retry failed")
		h.render(w, status, view{LoggedIn: true, Problem: "The job could not be retried: " + err.Error()})
		return
	}
	h.log.WithField(queue.FieldJob, id).Info("status page: dead job queued again")
	http.Redirect(w, r, "/status?done=retried&job="+url.QueryEscape(id), http.StatusSeeOther)
}

func (h *Handler) republish(w http.ResponseWriter, r *http.Request) {
	if !h.authorizePost(w, r) {
		return
	}
	name := r.PostFormValue("repo")
	var found *worker.Published
	for _, p := range h.opts.Repositories.List() {
		if p.Repo.FullName == name {
			found = &p
			break
		}
	}
	if found == nil {
		h.render(w, http.StatusNotFound, view{LoggedIn: true, Problem: "That repository has not been published by this bot."})
		return
	}
	j := queue.Job{
		ID: queue.NewID(), Kind: queue.KindPublish, Repo: found.Repo, Ref: found.Ref,
		Reason: "status page", Created: h.opts.Now(),
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.opts.Timeout)
	defer cancel()
	if err := h.opts.Queue.Enqueue(ctx, j); err != nil {
		h.log.WithError(err).WithFields(j.LogFields()).Warn("status page: re-publish failed")
		h.render(w, http.StatusInternalServerError, view{LoggedIn: true, Problem: "The publish could not be queued: " + err.Error()})
		return
	}
	h.log.WithFields(j.LogFields()).Info("status page: re-publish queued")
	http.Redirect(w, r, "/status?done=republished&job="+url.QueryEscape(j.ID), http.StatusSeeOther)
}

func shortSHA(s string) string {
	if len(s) > 7 {
		return s[:7]
	}
	return s
}

func clipText(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// roundDuration shows a duration to the second (or the millisecond under
// one second).
func roundDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// ago says how long before now t was, in words.
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < 0:
		return "in " + roundDuration(-d)
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%d days ago", int(d/(24*time.Hour)))
}
