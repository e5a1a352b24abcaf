package publisher

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sirupsen/logrus"

	"github.com/publishbot/publishbot/queue"
)

// PullRequest is a pull request as GitHub reports it when a job asks.
type PullRequest struct {
	Open     bool   // state "open"; a merged pull request is closed
	HeadSHA  string // the head commit
	HeadRepo string // "owner/name" of the head repository; "" when it was deleted
	BaseRef  string // the base branch, e.g. "main"
}

// PullRequests looks up pull requests; the GitHub adaptor implements it.
//
// Webhooks arrive in any order and a queue coalesces them, so a preview or
// clean-up job is decided by the pull request's state, not by the event
// that made it: before anything else such a job asks, and a closed pull
// request's job removes the preview (a late "synchronize" cannot bring it
// back), an open one's builds it ("reopened" brings it back) from the head
// GitHub reports. An error fails the job: it is retried unless the error
// wraps ErrPermanent (see Permanent).
type PullRequests interface {
	PullRequest(ctx context.Context, repo queue.Repo, number int) (PullRequest, error)
}

// Permanent marks err as a failure that retrying the same job cannot fix
// (errors.Is(err, ErrPermanent)), keeping its text: for implementations of
// PullRequests and TokenSource whose answers say so (a missing permission).
func Permanent(err error) error { return permanent(err) }

// followPullRequest asks PullRequests, when the Publisher has one, about
// the job's pull request, and makes the job what its state calls for: a
// preview when it is open, a clean-up when it is closed. The result then
// reports that kind.
func (jb *job) followPullRequest(ctx context.Context) error {
	j := &jb.j
	if jb.p.prs == nil || j.PR <= 0 || (j.Kind != queue.KindPreview && j.Kind != queue.KindCleanup) {
		return nil
	}
	pr, err := jb.p.prs.PullRequest(ctx, j.Repo, j.PR)
	if err != nil {
		return fmt.Errorf("ask GitHub about pull request #%d: %w", j.PR, err)
	}
	jb.pr = &pr
	if pr.HeadRepo == "" || !strings.EqualFold(pr.HeadRepo, j.Repo.FullName) {
		jb.fork = true // whatever the job said
	}
	if pr.BaseRef != "" && pr.BaseRef != jb.baseBranch() {
		jb.log.WithFields(logrus.Fields{"job_base": jb.baseBranch(), "base": pr.BaseRef}).Info("the pull request's base branch changed; using GitHub's")
		j.BaseRef = pr.BaseRef
	}
	kind := queue.KindCleanup
	if pr.Open {
		kind = queue.KindPreview
	}
	if kind != j.Kind {
		state := "closed"
		if pr.Open {
			state = "open"
		}
		jb.log.WithFields(logrus.Fields{"job_kind": string(j.Kind), "state": state, "done_as": string(kind)}).Info("the pull request's state decides the job")
		j.Kind = kind
		jb.res.Job.Kind = kind
	}
	return nil
}

// previewTarget picks the commit a preview builds when GitHub said which is
// the pull request's head: that head, unless the job's own commit is newer
// (GitHub's answer lagging behind the push that sent the job). So a job
// for an older push, or for a commit a force-push left behind, builds the
// current head. The head must be on the fetched pull request ref; GitHub
// moves that ref shortly after the push, so until then the job fails and is
// tried again.
func (jb *job) previewTarget(b *branches) error {
	if jb.pr == nil || jb.pr.HeadSHA == "" {
		return nil
	}
	head := strings.ToLower(jb.pr.HeadSHA)
	if !isSHA(head) {
		return fmt.Errorf("GitHub reports head %q for pull request #%d, not a commit", jb.pr.HeadSHA, jb.j.PR)
	}
	own := strings.ToLower(jb.j.SHA)
	if own == "" {
		own, _ = b.refs.Hash(jb.prRef())
	}
	if own == head {
		return nil
	}
	if !jb.repo.Has(head) {
		return fmt.Errorf("the head of pull request #%d, %s, is not on %s yet: %w", jb.j.PR, shortSHA(head), jb.prRef(), errNotYet)
	}
	if own != "" && jb.repo.Has(own) {
		if newer, err := jb.repo.IsAncestor(head, own); err == nil && newer {
			return nil
		}
	}
	jb.log.WithFields(logrus.Fields{"job_sha": own, "head": head}).Info("building the pull request's head as GitHub reports it")
	jb.j.SHA = head
	return nil
}

// errNotYet: the state GitHub reported has not reached git yet; the job
// is retried.
var errNotYet = errors.New("trying again")

const (
	trailerPreview = "Preview-Commit: "
	trailerPR      = "Pull-Request: "
)

// previewedCommit is the commit the preview of pull request pr on the pages
// branch (head) was built from: the Preview-Commit trailer of the newest
// commit about that pull request, walking back over other commits. "" when
// there is none: never previewed, removed since, or further back than 500
// commits.
func (jb *job) previewedCommit(head string, pr int) (string, error) {
	want := fmt.Sprint(pr)
	h := head
	for i := 0; i < 500 && h != ""; i++ {
		c, err := jb.repo.Commit(h)
		if err != nil {
			return "", fmt.Errorf("read the pages branch: %w", err)
		}
		if n, ok := trailer(c.Message, trailerPR); ok && n == want {
			sha, _ := trailer(c.Message, trailerPreview)
			if !isSHA(sha) {
				return "", nil // a clean-up
			}
			return sha, nil
		}
		if len(c.Parents) == 0 {
			break
		}
		h = c.Parents[0]
	}
	return "", nil
}

// checkPreviewNewer refuses to replace a pull request's preview with an
// older commit of it, as publishes refuse older source commits: src must
// not be a strict ancestor of the commit the preview on head (the pages
// branch, "" for none) was built from. A previewed commit this cache does
// not hold (a force-push left it behind) cannot be compared: src is built.
func (jb *job) checkPreviewNewer(head, src string) error {
	if head == "" {
		return nil
	}
	prev, err := jb.previewedCommit(head, jb.j.PR)
	if err != nil || prev == "" || prev == src || !jb.repo.Has(prev) {
		return err
	}
	older, err := jb.repo.IsAncestor(src, prev)
	if err != nil {
		return fmt.Errorf("compare %s with the previewed %s: %w", shortSHA(src), shortSHA(prev), err)
	}
	if older {
		return skip("a newer commit of the pull request (%s) is already previewed", shortSHA(prev))
	}
	return nil
}
