// Package webhook owns publishbot's HTTP edge: the handler GitHub posts
// webhook deliveries to. It verifies each delivery's signature over the raw
// body, turns the events publishbot acts on into queue.Jobs (push to a
// branch: publish; pull request opened, synchronize, reopened,
// ready_for_review: preview; closed: clean-up), enqueues them durably and
// answers — nothing else. The jobs run later, elsewhere, with their own
// context.
//
// A payload's URLs are data, never configuration: every job's clone URL and
// web address are derived from the configured git host and the repository's
// full name, which is checked first; the payload's clone_url and html_url
// are not read. Repositories outside the optional allow-list are answered
// 202 "not allowed" and nothing is queued.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"
	"github.com/sirupsen/logrus"

	"github.com/publishbot/publishbot/gitauth"
	"github.com/publishbot/publishbot/queue"
)

// MaxBodyBytes caps a delivery's body (25 MiB); GitHub caps payloads at 25 MB.
const MaxBodyBytes = 25 << 20

// smallBody is the size up to which a delivery's body is read at once.
// GitHub's payloads are rarely larger; a larger body waits for one of
// Options.LargeBodies slots, so that unsigned 25 MiB bodies sent at once
// cannot exhaust memory before their signatures are checked.
const smallBody = 1 << 20

// maxDeliveryID bounds the X-GitHub-Delivery header (GitHub sends a UUID).
const maxDeliveryID = 128

// Enqueuer stores a job durably: when Enqueue returns nil the job survives
// a crash. It returns queue.ErrDuplicate for a delivery it has seen before.
// *queue.Bolt implements it.
type Enqueuer interface {
	Enqueue(ctx context.Context, j queue.Job) error
}

// Options configures a Handler.
type Options struct {
	// Secret is the webhook secret shared with GitHub. Required: New fails
	// without one, so no unsigned delivery is ever accepted.
	Secret []byte
	// Queue receives the jobs. Required.
	Queue Enqueuer
	// Log gets one line per delivery. Default: discard.
	Log *logrus.Entry
	// Metrics counts deliveries; nil counts nothing.
	Metrics *Metrics
	// IgnoreBranches are branches whose pushes are not published (and pull
	// requests into them not previewed). Nil means {"gh-pages"}, the pages
	// branch publishbot itself pushes to; an empty non-nil slice ignores none.
	IgnoreBranches []string
	// Now is the clock, for response times. Default time.Now.
	Now func() time.Time
	// EnqueueTimeout bounds one Enqueue, and the wait of a large delivery
	// for a slot. Default 10s.
	EnqueueTimeout time.Duration
	// LargeBodies is how many deliveries larger than 1 MiB are read and
	// handled at once; the others wait up to EnqueueTimeout, then get 503.
	// Default 4.
	LargeBodies int
	// GitURL is the base URL of the one git host the bot trusts
	// (gitauth.ParseBase): every job's clone URL is GitURL + "owner/name.git"
	// and its web address GitURL + "owner/name". Default
	// gitauth.DefaultBase, https://github.com/.
	GitURL string
	// Repositories allow-lists the repositories whose deliveries are acted
	// on (ParseAllowList): "owner", "owner/*" or "owner/name" patterns in
	// path.Match syntax. Empty allows every repository.
	Repositories []string
	// Deliveries, when set, is told every delivery's result (the status
	// page's list of recent deliveries).
	Deliveries DeliveryRecorder
}

// DeliveryRecorder is told the result of every delivery, after the answer
// was written. It must not block.
type DeliveryRecorder interface {
	RecordDelivery(Delivery)
}

// Delivery is one webhook delivery as answered. Event and ID are as sent,
// clipped; Event is "unverified" when the signature did not check out.
type Delivery struct {
	ID      string
	Event   string
	Status  int    // the HTTP status answered
	Result  string // e.g. "queued", "duplicate", "ignored", "bad_signature"
	Reason  string // why, in a few words
	Repo    string // owner/name of the job queued (or that would have been)
	Job     string // the id of the job queued, "" when none was
	At      time.Time
	Elapsed time.Duration
}

// Handler is the http.Handler for POST /webhook. It is safe for concurrent use.
type Handler struct {
	secret  []byte
	queue   Enqueuer
	log     *logrus.Entry
	metrics *Metrics
	ignore  []string
	now     func() time.Time
	timeout time.Duration
	large   chan struct{} // a token per large body being handled
	gitBase *url.URL      // the trusted git host, from Options.GitURL
	allow   *AllowList
	record  DeliveryRecorder
}

// New returns a Handler, or an error when the secret (or one of only white
// space) or the queue is missing, or GitURL or Repositories do not parse.
func New(opts Options) (*Handler, error) {
	if len(opts.Secret) == 0 {
		return nil, errors.New("webhook: a webhook secret is required")
	}
	if len(bytes.TrimSpace(opts.Secret)) == 0 {
		return nil, errors.New("webhook: the webhook secret is only white space")
	}
	if opts.Queue == nil {
		return nil, errors.New("webhook: a queue is required")
	}
	if opts.GitURL == "" {
		opts.GitURL = gitauth.DefaultBase
	}
	gitBase, err := gitauth.ParseBase(opts.GitURL)
	if err != nil {
		return nil, fmt.Errorf("webhook: %w", err)
	}
	allow, err := ParseAllowList(opts.Repositories)
	if err != nil {
		return nil, fmt.Errorf("webhook: %w", err)
	}
	h := &Handler{
		secret:  slices.Clone(opts.Secret),
		queue:   opts.Queue,
		log:     opts.Log,
		metrics: opts.Metrics,
		ignore:  opts.IgnoreBranches,
		now:     opts.Now,
		timeout: opts.EnqueueTimeout,
		gitBase: gitBase,
		allow:   allow,
		record:  opts.Deliveries,
	}
	if h.log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		h.log = logrus.NewEntry(l)
	}
	if h.ignore == nil {
		h.ignore = []string{"gh-pages"}
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.timeout <= 0 {
		h.timeout = 10 * time.Second
	}
	if opts.LargeBodies <= 0 {
		opts.LargeBodies = 4
	}
	h.large = make(chan struct{}, opts.LargeBodies)
	return h, nil
}

// Results of a delivery: the metric's result label and the answer's
// "result" field.
const (
	resultQueued      = "queued"
	resultDuplicate   = "duplicate"
	resultIgnored     = "ignored"
	resultNotAllowed  = "not_allowed"
	resultPong        = "pong"
	resultBadMethod   = "method_not_allowed"
	resultTooLarge    = "too_large"
	resultBadRequest  = "bad_request"
	resultBadSig      = "unauthorized"
	resultBadType     = "unsupported_media_type"
	resultUnavailable = "unavailable"
)

// reply is the outcome of one delivery: what is answered, logged and counted.
type reply struct {
	status int
	Result string `json:"result"`
	Reason string `json:"reason,omitempty"`
	Job    string `json:"job,omitempty"`
	Kind   string `json:"kind,omitempty"`

	err      error     // logged, never sent
	verified bool      // the signature checked out: the event name can be trusted
	job      queue.Job // what was (or would have been) queued, for the log
}

// ServeHTTP runs the fixed pipeline: cap the body, verify the signature over
// the raw bytes, check the content type, route on X-GitHub-Event (before
// parsing), parse, switch on the action, enqueue durably, answer.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.now()
	event := r.Header.Get("X-GitHub-Event")
	delivery := r.Header.Get("X-GitHub-Delivery")
	rep := h.serve(w, r, event, delivery)

	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(rep.status)
	body, _ := json.Marshal(rep)
	_, _ = w.Write(append(body, '\n'))

	elapsed := h.now().Sub(start)
	label := "unverified"
	if rep.verified {
		label = eventLabel(event)
	}
	h.metrics.observe(label, rep.Result, elapsed)
	h.logDelivery(rep, clip(event), clip(delivery), elapsed)
	if h.record != nil {
		h.record.RecordDelivery(Delivery{
			ID: clip(delivery), Event: label, Status: rep.status, Result: rep.Result, Reason: rep.Reason,
			Repo: rep.job.Repo.FullName, Job: rep.Job, At: start, Elapsed: elapsed,
		})
	}
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, event, delivery string) reply {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return reply{status: http.StatusMethodNotAllowed, Result: resultBadMethod, Reason: "webhooks are delivered with POST"}
	}

	// 1. Cap the body and read it once.
	tooLarge := reply{status: http.StatusRequestEntityTooLarge, Result: resultTooLarge, Reason: "payload larger than 25 MiB"}
	if r.ContentLength > MaxBodyBytes {
		return tooLarge
	}
	body := http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	var buf bytes.Buffer
	var err error
	more := r.ContentLength > smallBody
	if !more {
		if r.ContentLength > 0 {
			buf.Grow(int(r.ContentLength))
		}
		var n int64
		n, err = io.CopyN(&buf, body, smallBody+1)
		more = n > smallBody
		if errors.Is(err, io.EOF) {
			err = nil
		}
	}
	if more && err == nil {
		release, ok := h.takeLargeSlot(r.Context())
		if !ok {
			return reply{status: http.StatusServiceUnavailable, Result: resultUnavailable, Reason: "too many large deliveries at once; redeliver later"}
		}
		defer release()
		_, err = io.Copy(&buf, body)
	}
	if err != nil {
		if errors.As(err, new(*http.MaxBytesError)) {
			return tooLarge
		}
		return reply{status: http.StatusBadRequest, Result: resultBadRequest, Reason: "could not read the body", err: fmt.Errorf("read body: %w", err)}
	}
	payload := buf.Bytes()

	// 2. Verify the signature over exactly those bytes.
	if reason := h.verify(r.Header, payload); reason != "" {
		return reply{status: http.StatusUnauthorized, Result: resultBadSig, Reason: reason}
	}

	// 3. Only JSON deliveries.
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return reply{status: http.StatusUnsupportedMediaType, Result: resultBadType, verified: true,
			Reason: "content type must be application/json: set the webhook's content type to application/json (the application/x-www-form-urlencoded mode is not supported)"}
	}

	// 4. Route on the event, before parsing.
	switch event {
	case "":
		return reply{status: http.StatusBadRequest, Result: resultBadRequest, verified: true, Reason: "missing X-GitHub-Event"}
	case "ping":
		return reply{status: http.StatusOK, Result: resultPong, verified: true}
	case "push", "pull_request":
	default:
		return reply{status: http.StatusAccepted, Result: resultIgnored, verified: true, Reason: fmt.Sprintf("event %q is not handled", clip(event))}
	}
	if delivery == "" || len(delivery) > maxDeliveryID {
		return reply{status: http.StatusBadRequest, Result: resultBadRequest, verified: true, Reason: "missing or overlong X-GitHub-Delivery"}
	}

	// 5. Parse, 6. switch on the action.
	parsed, err := github.ParseWebHook(event, payload)
	if err != nil {
		return reply{status: http.StatusBadRequest, Result: resultBadRequest, verified: true, Reason: fmt.Sprintf("invalid %s payload: %v", event, err)}
	}
	job, ignored, err := h.toJob(parsed)
	if name := job.Repo.FullName; name != "" && !h.allow.Allows(name) {
		// Before anything else is said about it: a repository outside the
		// allow-list learns nothing but that.
		return reply{status: http.StatusAccepted, Result: resultNotAllowed, verified: true, Reason: "not allowed",
			job: queue.Job{Repo: queue.Repo{FullName: name}}}
	}
	if err != nil {
		return reply{status: http.StatusBadRequest, Result: resultBadRequest, verified: true, Reason: err.Error(), job: job}
	}
	if ignored != "" {
		return reply{status: http.StatusAccepted, Result: resultIgnored, verified: true, Reason: ignored, job: job}
	}
	job.Delivery = delivery
	job.ID = queue.NewID() // assigned here, so the answer can name it

	// 7. Enqueue durably, with a context of its own: the job must be stored
	// (or not) as a whole even if GitHub hangs up.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), h.timeout)
	defer cancel()
	switch err := h.queue.Enqueue(ctx, job); {
	case errors.Is(err, queue.ErrDuplicate):
		return reply{status: http.StatusOK, Result: resultDuplicate, verified: true, Reason: "duplicate delivery", job: job}
	case err != nil:
		return reply{status: http.StatusServiceUnavailable, Result: resultUnavailable, verified: true, Reason: "the job could not be stored; redeliver later", job: job, err: fmt.Errorf("enqueue %s job: %w", job.Kind, err)}
	}
	// 8. Answer.
	return reply{status: http.StatusAccepted, Result: resultQueued, verified: true, Job: job.ID, Kind: string(job.Kind), job: job}
}

// takeLargeSlot waits up to the enqueue timeout for a large-body slot; ok
// is false when none came free (or the client left).
func (h *Handler) takeLargeSlot(ctx context.Context) (release func(), ok bool) {
	t := time.NewTimer(h.timeout)
	defer t.Stop()
	select {
	case h.large <- struct{}{}:
		return func() { <-h.large }, true
	case <-t.C:
	case <-ctx.Done():
	}
	return nil, false
}

// verify checks X-Hub-Signature-256 against the HMAC-SHA256 of payload in
// constant time. It returns why the delivery is refused, or "".
func (h *Handler) verify(header http.Header, payload []byte) string {
	sig := header.Get("X-Hub-Signature-256")
	if sig == "" {
		if header.Get("X-Hub-Signature") != "" {
			return "X-Hub-Signature-256 is required; the SHA-1 X-Hub-Signature alone is not accepted"
		}
		return "missing X-Hub-Signature-256"
	}
	hexMAC, ok := strings.CutPrefix(sig, "sha256=")
	got, err := hex.DecodeString(hexMAC)
	if !ok || err != nil || len(got) != sha256.Size {
		return "malformed X-Hub-Signature-256"
	}
	if !hmac.Equal(got, sign(h.secret, payload)) {
		return "signature does not match"
	}
	return ""
}

// sign returns the HMAC-SHA256 of payload under secret, the value GitHub
// sends hex-encoded after "sha256=" in X-Hub-Signature-256.
func sign(secret, payload []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write(payload)
	return m.Sum(nil)
}

// toJob turns a parsed event into a job. It returns a non-empty ignored
// reason for events publishbot does not act on, and an error for payloads
// that lack what a job needs.
func (h *Handler) toJob(event any) (job queue.Job, ignored string, err error) {
	switch e := event.(type) {
	case *github.PushEvent:
		return h.pushJob(e)
	case *github.PullRequestEvent:
		return h.pullRequestJob(e)
	case nil:
		return queue.Job{}, "", errors.New("payload is empty")
	default:
		return queue.Job{}, fmt.Sprintf("event type %T is not handled", event), nil
	}
}

func (h *Handler) pushJob(e *github.PushEvent) (queue.Job, string, error) {
	repo, err := h.fromPushRepo(e.GetRepo(), e.GetInstallation().GetID())
	job := queue.Job{Kind: queue.KindPublish, Repo: repo, Ref: e.GetRef(), SHA: e.GetAfter(), Reason: "push"}
	if err != nil {
		return job, "", err
	}
	branch, isBranch := strings.CutPrefix(e.GetRef(), "refs/heads/")
	switch {
	case e.GetRef() == "":
		return job, "", errors.New("push payload has no ref")
	case !isBranch:
		return job, fmt.Sprintf("%s is not a branch", clip(e.GetRef())), nil
	case e.GetDeleted() || strings.Trim(e.GetAfter(), "0") == "":
		return job, fmt.Sprintf("branch %s was deleted", clip(branch)), nil
	case slices.Contains(h.ignore, branch):
		return job, fmt.Sprintf("pushes to %s are not published", clip(branch)), nil
	case !isSHA(e.GetAfter()):
		return job, "", errors.New("push payload has no valid after commit")
	}
	return job, "", nil
}

func (h *Handler) pullRequestJob(e *github.PullRequestEvent) (queue.Job, string, error) {
	action := e.GetAction()
	pr := e.GetPullRequest()
	number := e.GetNumber()
	if number == 0 {
		number = pr.GetNumber()
	}
	repo, err := h.fromRepo(e.GetRepo(), e.GetInstallation().GetID())
	job := queue.Job{
		Kind:    queue.KindPreview,
		Repo:    repo,
		Ref:     fmt.Sprintf("refs/pull/%d/head", number),
		SHA:     pr.GetHead().GetSHA(),
		PR:      number,
		BaseRef: pr.GetBase().GetRef(),
		BaseSHA: pr.GetBase().GetSHA(),
		Title:   pr.GetTitle(),
		Reason:  "pull_request." + action,
		// The head repository decides whether the pull request's content
		// is trusted (queue.Job.FromFork): a fork's is not. A payload
		// without one (a deleted fork) leaves it "", which counts as a
		// fork.
		HeadRepo: pr.GetHead().GetRepo().GetFullName(),
	}
	switch action {
	case "opened", "synchronize", "reopened", "ready_for_review": // drafts are previewed too
	case "closed":
		job.Kind = queue.KindCleanup
	default:
		return job, fmt.Sprintf("pull_request action %q is not handled", clip(action)), nil
	}
	switch {
	case err != nil:
		return job, "", err
	case pr == nil:
		return job, "", errors.New("pull_request payload has no pull_request")
	case number <= 0:
		return job, "", errors.New("pull_request payload has no number")
	case !isSHA(job.SHA):
		return job, "", errors.New("pull_request payload has no valid head commit")
	case slices.Contains(h.ignore, job.BaseRef):
		return job, fmt.Sprintf("pull requests into %s are not previewed", clip(job.BaseRef)), nil
	}
	return job, "", nil
}

// fromPushRepo and fromRepo convert go-github's two repository types into
// ours, at the edge. Only the full name is taken from the payload, checked,
// and the URLs are derived from it on the configured git host: a payload's
// clone_url and html_url may name any host.
func (h *Handler) fromPushRepo(r *github.PushEventRepository, installation int64) (queue.Repo, error) {
	if r.GetFullName() == "" {
		return queue.Repo{}, errors.New("push payload has no repository")
	}
	return h.repo(r.GetFullName(), r.GetDefaultBranch(), installation)
}

func (h *Handler) fromRepo(r *github.Repository, installation int64) (queue.Repo, error) {
	if r.GetFullName() == "" {
		return queue.Repo{}, errors.New("pull_request payload has no repository")
	}
	return h.repo(r.GetFullName(), r.GetDefaultBranch(), installation)
}

func (h *Handler) repo(fullName, defaultBranch string, installation int64) (queue.Repo, error) {
	web, err := gitauth.HTMLURL(h.gitBase, fullName)
	if err != nil {
		return queue.Repo{}, fmt.Errorf("payload repository: %w", err)
	}
	return queue.Repo{
		FullName:       fullName,
		CloneURL:       web + ".git",
		HTMLURL:        web,
		DefaultBranch:  defaultBranch,
		InstallationID: installation,
	}, nil
}

// isSHA reports whether s is a full SHA-1 or SHA-256 commit id in hex.
func isSHA(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

func (h *Handler) logDelivery(rep reply, event, delivery string, elapsed time.Duration) {
	f := logrus.Fields{
		queue.FieldDelivery: delivery,
		"event":             event,
		"result":            rep.Result,
		"status":            rep.status,
		"ms":                float64(elapsed.Microseconds()) / 1000,
	}
	if rep.job.Repo.FullName != "" {
		// What was (or would have been) queued.
		for k, v := range rep.job.LogFields() {
			f[k] = v
		}
		if rep.Job == "" {
			delete(f, queue.FieldJob) // an id given to a job that was not stored names nothing
		}
	}
	if rep.Reason != "" {
		f["detail"] = rep.Reason // why the delivery was answered so
	}
	log := h.log.WithFields(f)
	if rep.err != nil {
		log = log.WithError(rep.err)
	}
	switch {
	case rep.status >= 500:
		log.Error("webhook delivery")
	case rep.status >= 400, rep.Result == resultNotAllowed:
		log.Warn("webhook delivery")
	default:
		log.Info("webhook delivery")
	}
}

// clip bounds a client-supplied string for logs and answers.
func clip(s string) string {
	const max = 100
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

// eventLabel bounds the event metric label to plausible GitHub event names.
func eventLabel(event string) string {
	if event == "" || len(event) > 40 {
		return "other"
	}
	for _, c := range event {
		if (c < 'a' || c > 'z') && c != '_' {
			return "other"
		}
	}
	return event
}

// AllowList is the set of repositories a Handler acts on. The zero value and
// nil allow every repository. It is safe for concurrent use.
type AllowList struct {
	patterns []string // "owner/name" patterns, lower case
}

// ParseAllowList parses allow-list patterns (PUBLISHBOT_REPOSITORIES): an
// owner ("acme", the same as "acme/*") or an "owner/name" pattern in
// path.Match syntax ("acme/blog", "acme/blog-*", "*/blog"). Matching
// ignores case, as GitHub does. Empty entries are skipped; no patterns at
// all allow every repository.
func ParseAllowList(patterns []string) (*AllowList, error) {
	a := &AllowList{}
	for _, p := range patterns {
		p = strings.ToLower(strings.TrimSpace(p))
		if p == "" {
			continue
		}
		if !strings.Contains(p, "/") {
			p += "/*"
		}
		owner, name, _ := strings.Cut(p, "/")
		if owner == "" || name == "" || strings.Contains(name, "/") {
			return nil, fmt.Errorf("repository pattern %q: want owner, owner/* or owner/name", clip(p))
		}
		if _, err := path.Match(p, "owner/name"); err != nil {
			return nil, fmt.Errorf("repository pattern %q: %w", clip(p), err)
		}
		a.patterns = append(a.patterns, p)
	}
	return a, nil
}

// Allows reports whether the repository fullName ("owner/name") is allowed.
func (a *AllowList) Allows(fullName string) bool {
	if a == nil || len(a.patterns) == 0 {
		return true
	}
	name := strings.ToLower(fullName)
	for _, p := range a.patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// Patterns are the allow-list's patterns in their normal form ("owner/*"
// for an owner), for logs; nil when every repository is allowed.
func (a *AllowList) Patterns() []string {
	if a == nil {
		return nil
	}
	return slices.Clone(a.patterns)
}
