package queue

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
)

// Log field keys: every log line about a job or a delivery uses these, so
// lines can be joined across packages.
const (
	FieldJob      = "job"
	FieldKind     = "kind"
	FieldRepo     = "repo"
	FieldSHA      = "sha"
	FieldPR       = "pr"
	FieldDelivery = "delivery"
	FieldReason   = "reason"
)

// NewID returns a fresh random job id (32 hex digits). The webhook, the
// queue and the worker all name jobs with it.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// LogFields are the job's log fields under the constant keys; empty values
// are left out.
func (j Job) LogFields() logrus.Fields {
	f := logrus.Fields{FieldRepo: j.Repo.FullName}
	if j.ID != "" {
		f[FieldJob] = j.ID
	}
	if j.Kind != "" {
		f[FieldKind] = string(j.Kind)
	}
	if j.SHA != "" {
		f[FieldSHA] = j.SHA
	}
	if j.PR != 0 {
		f[FieldPR] = j.PR
	}
	if j.Delivery != "" {
		f[FieldDelivery] = j.Delivery
	}
	if j.Reason != "" {
		f[FieldReason] = j.Reason
	}
	return f
}

// Kind is what a job does.
type Kind string

const (
	KindPublish Kind = "publish" // build the source branch and commit it to the pages branch
	KindPreview Kind = "preview" // build a pull request under pr-preview/pr-N/
	KindCleanup Kind = "cleanup" // remove pr-preview/pr-N/ after the pull request closed
)

// Repo is our own reference to a GitHub repository, converted at the edge from
// go-github's PushEventRepository or Repository.
type Repo struct {
	FullName       string `json:"full_name"` // "owner/name"
	CloneURL       string `json:"clone_url"` // https clone URL; never carries credentials
	HTMLURL        string `json:"html_url"`  // https://github.com/owner/name
	DefaultBranch  string `json:"default_branch"`
	InstallationID int64  `json:"installation_id,omitempty"` // GitHub App installation, 0 with a token
}

// Job is one unit of work. It is stored as JSON, so fields only grow.
type Job struct {
	ID       string `json:"id"`   // unique, assigned by the queue when empty
	Kind     Kind   `json:"kind"` //
	Repo     Repo   `json:"repo"` //
	Ref      string `json:"ref"`  // publish: "refs/heads/main"; preview: "refs/pull/N/head"
	SHA      string `json:"sha"`  // source commit; "" means the ref's current head
	PR       int    `json:"pr,omitempty"`
	BaseRef  string `json:"base_ref,omitempty"` // preview/cleanup: the PR's base branch name, e.g. "main"
	BaseSHA  string `json:"base_sha,omitempty"`
	Title    string `json:"title,omitempty"`     // PR title, for the report
	HeadRepo string `json:"head_repo,omitempty"` // the PR's head repository, "owner/name"; "" when unknown (see FromFork)
	Delivery string `json:"delivery,omitempty"`  // X-GitHub-Delivery that caused it; "" for scheduled and reconcile jobs
	Reason   string `json:"reason,omitempty"`    // "push", "pull_request.opened", "schedule", "reconcile", "cli"

	Attempt   int       `json:"attempt"`              // 1 on the first run
	NotBefore time.Time `json:"not_before,omitempty"` // delayed job: not run before this time
	Created   time.Time `json:"created"`
}

// Key is the coalescing key: a queued job is replaced by a newer one with the
// same key. Publishes of one branch of a repository share a key (the
// publisher skips branches that are not the configured source branch); a pull
// request's previews and its clean-up share another.
func (j Job) Key() string {
	switch j.Kind {
	case KindPreview, KindCleanup:
		return j.Repo.FullName + "#pr-" + strconv.Itoa(j.PR)
	default:
		return j.Repo.FullName + "#publish:" + j.Ref
	}
}

// FromFork reports whether a preview or clean-up job is about a pull
// request from another repository than the one it targets (a fork), whose
// content the publisher does not trust. A job that does not name its head
// repository (HeadRepo "": a deleted fork, or a job stored before the field
// existed) counts as a fork: it fails closed. Names compare without regard
// to case, as GitHub's do.
func (j Job) FromFork() bool {
	return j.HeadRepo == "" || !strings.EqualFold(j.HeadRepo, j.Repo.FullName)
}

// RepoKey groups jobs that must never run at the same time: every job of one
// repository writes the same pages branch.
func (j Job) RepoKey() string { return j.Repo.FullName }
