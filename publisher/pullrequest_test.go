package publisher

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/publishbot/publishbot/gitserver"
	"github.com/publishbot/publishbot/queue"
)

// fakePRs answers PullRequest from a state the test sets, and records the
// questions.
type fakePRs struct {
	mu    sync.Mutex
	state PullRequest
	err   error
	asked []int
}

func (f *fakePRs) set(pr PullRequest) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state, f.err = pr, nil
}

func (f *fakePRs) PullRequest(_ context.Context, repo queue.Repo, number int) (PullRequest, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, number)
	return f.state, f.err
}

// prEnv is an env whose publisher asks prs, with the base blog published
// and pull request #3 at head1.
func prEnv(t *testing.T) (*env, *fakePRs, string, string) {
	t.Helper()
	prs := &fakePRs{}
	e := newEnv(t, func(o *Options) { o.PullRequests = prs }).useFake()
	base := e.seed()
	mustOutcome(t, e.publish(base), OutcomePublished)
	head1 := e.commit(gitserver.Change{Ref: "refs/pull/3/head", Parent: base, Message: "one", Files: map[string]string{"posts/fresh.md": "Fresh\n\none"}})
	return e, prs, base, head1
}

func (e *env) prJob(kind queue.Kind, sha, reason string) queue.Job {
	j := e.previewJob(3, sha)
	j.Kind, j.Reason, j.HeadRepo = kind, reason, testRepo
	return j
}

func (e *env) previewed() string {
	e.t.Helper()
	if !slices.Contains(e.files("gh-pages"), "pr-preview/pr-3/index.html") {
		return ""
	}
	return e.git("log", "-1", "--format=%(trailers:key=Preview-Commit,valueonly)", "gh-pages", "--", "pr-preview/pr-3")
}

// A late synchronize for a closed pull request removes the preview instead
// of building it; reopened brings it back.
func TestPreviewOfAClosedPullRequestCleansUp(t *testing.T) {
	e, prs, _, head1 := prEnv(t)
	prs.set(PullRequest{Open: true, HeadSHA: head1, HeadRepo: testRepo, BaseRef: "main"})
	mustOutcome(t, e.run(e.prJob(queue.KindPreview, head1, "pull_request.opened")), OutcomePublished)
	if got := e.previewed(); got != head1 {
		t.Fatalf("previewed %q, want %s", got, head1)
	}

	prs.set(PullRequest{Open: false, HeadSHA: head1, HeadRepo: testRepo, BaseRef: "main"})
	// The clean-up was coalesced away: only the late synchronize runs.
	r := e.run(e.prJob(queue.KindPreview, head1, "pull_request.synchronize"))
	mustOutcome(t, r, OutcomeRemoved)
	if r.Job.Kind != queue.KindCleanup || !strings.Contains(e.logs(), `"done_as":"cleanup"`) {
		t.Errorf("result kind %s, want the clean-up reported", r.Job.Kind)
	}
	if got := e.previewed(); got != "" {
		t.Fatalf("the closed pull request's preview (%s) is still there", got)
	}
	mustOutcome(t, e.run(e.prJob(queue.KindPreview, head1, "pull_request.synchronize")), OutcomeUnchanged)

	// Reopened: the preview comes back, even from a clean-up job that ran late.
	prs.set(PullRequest{Open: true, HeadSHA: head1, HeadRepo: testRepo, BaseRef: "main"})
	r = e.run(e.prJob(queue.KindCleanup, head1, "pull_request.closed"))
	mustOutcome(t, r, OutcomePublished)
	if r.Job.Kind != queue.KindPreview || e.previewed() != head1 {
		t.Errorf("kind %s, previewed %q; want the preview of %s back", r.Job.Kind, e.previewed(), head1)
	}
	if len(prs.asked) != 4 {
		t.Errorf("asked GitHub %d times, want once a job", len(prs.asked))
	}
}

// A late synchronize for an older commit does not replace the preview of a
// newer one, with GitHub to ask (it builds the head GitHub reports) and
// without (the previewed commit, from the pages branch, is newer).
func TestOlderCommitDoesNotReplaceAPreview(t *testing.T) {
	e, prs, _, head1 := prEnv(t)
	head2 := e.commit(gitserver.Change{Ref: "refs/pull/3/head", Message: "two", Files: map[string]string{"posts/fresh.md": "Fresh\n\ntwo"}})
	prs.set(PullRequest{Open: true, HeadSHA: head2, HeadRepo: testRepo})
	mustOutcome(t, e.run(e.prJob(queue.KindPreview, head2, "pull_request.synchronize")), OutcomePublished)

	// With GitHub: the job for head1 builds head2, which is there already.
	r := e.run(e.prJob(queue.KindPreview, head1, "pull_request.synchronize"))
	mustOutcome(t, r, OutcomeUnchanged)
	if r.SourceSHA != head2 || e.previewed() != head2 {
		t.Errorf("built %s, previewed %s; want %s", r.SourceSHA, e.previewed(), head2)
	}

	// Without GitHub: the older commit is skipped.
	e.pub.prs = nil
	r = e.run(e.prJob(queue.KindPreview, head1, "pull_request.synchronize"))
	mustOutcome(t, r, OutcomeSkipped)
	if !strings.Contains(r.Reason, "a newer commit of the pull request ("+head2[:7]+") is already previewed") || e.previewed() != head2 {
		t.Errorf("reason %q, previewed %s", r.Reason, e.previewed())
	}
	// A newer commit still replaces it.
	head3 := e.commit(gitserver.Change{Ref: "refs/pull/3/head", Message: "three", Files: map[string]string{"posts/fresh.md": "Fresh\n\nthree"}})
	mustOutcome(t, e.run(e.prJob(queue.KindPreview, head3, "pull_request.synchronize")), OutcomePublished)
	if e.previewed() != head3 {
		t.Errorf("previewed %s, want %s", e.previewed(), head3)
	}
}

// After a force-push the new head is not a descendant of the previewed
// commit: GitHub's head is built, also by a late job for a commit the
// force-push left behind.
func TestForcePushBuildsTheHeadGitHubReports(t *testing.T) {
	e, prs, base, head1 := prEnv(t)
	prs.set(PullRequest{Open: true, HeadSHA: head1, HeadRepo: testRepo})
	mustOutcome(t, e.run(e.prJob(queue.KindPreview, head1, "pull_request.opened")), OutcomePublished)
	forced := e.commit(gitserver.Change{Ref: "refs/pull/3/head", Parent: base, Message: "rewritten", Files: map[string]string{"posts/other.md": "Other\n\nrewritten"}})
	prs.set(PullRequest{Open: true, HeadSHA: forced, HeadRepo: testRepo})

	r := e.run(e.prJob(queue.KindPreview, head1, "pull_request.synchronize")) // late, for the old head
	mustOutcome(t, r, OutcomePublished)
	if r.SourceSHA != forced || e.previewed() != forced {
		t.Errorf("built %s, previewed %s; want the force-pushed %s", r.SourceSHA, e.previewed(), forced)
	}
	if !strings.Contains(e.logs(), "building the pull request's head as GitHub reports it") {
		t.Error("no log line says the job built GitHub's head")
	}
}

// GitHub's answer ahead of git (refs/pull/N/head not moved yet) fails the
// job for a retry; GitHub's answer behind the job's own newer commit keeps
// the job's commit.
func TestGitHubAndGitDisagree(t *testing.T) {
	e, prs, _, head1 := prEnv(t)
	prs.set(PullRequest{Open: true, HeadSHA: strings.Repeat("ab", 20), HeadRepo: testRepo})
	r := e.run(e.prJob(queue.KindPreview, head1, "pull_request.opened"))
	mustOutcome(t, r, OutcomeFailed)
	if errors.Is(r.Err, ErrPermanent) || !strings.Contains(r.Err.Error(), "is not on refs/pull/3/head yet") {
		t.Errorf("err %v, want a retryable error", r.Err)
	}

	head2 := e.commit(gitserver.Change{Ref: "refs/pull/3/head", Message: "two", Files: map[string]string{"posts/fresh.md": "Fresh\n\ntwo"}})
	prs.set(PullRequest{Open: true, HeadSHA: head1, HeadRepo: testRepo}) // behind
	r = e.run(e.prJob(queue.KindPreview, head2, "pull_request.synchronize"))
	mustOutcome(t, r, OutcomePublished)
	if r.SourceSHA != head2 {
		t.Errorf("built %s, want the job's newer %s", r.SourceSHA, head2)
	}
}

func TestPullRequestLookupErrors(t *testing.T) {
	e, prs, _, head1 := prEnv(t)
	prs.err = errors.New("github is down")
	r := e.run(e.prJob(queue.KindPreview, head1, "pull_request.opened"))
	mustOutcome(t, r, OutcomeFailed)
	if errors.Is(r.Err, ErrPermanent) || !strings.Contains(r.Err.Error(), "ask GitHub about pull request #3: github is down") {
		t.Errorf("err %v, want a retryable error naming the pull request", r.Err)
	}
	prs.err = Permanent(errors.New("403: the App lacks a permission"))
	r = e.run(e.prJob(queue.KindCleanup, head1, "pull_request.closed"))
	if !errors.Is(r.Err, ErrPermanent) {
		t.Errorf("err %v, want it permanent", r.Err)
	}
	// Publishes never ask.
	prs.asked = nil
	mustOutcome(t, e.publish(e.head("main")), OutcomeUnchanged)
	if len(prs.asked) != 0 {
		t.Errorf("a publish asked about pull requests")
	}
}

// GitHub's word that the head is in another repository makes the preview
// a fork's, whatever the job says.
func TestGitHubSaysFork(t *testing.T) {
	prs := &fakePRs{}
	e := newEnv(t, func(o *Options) { o.PullRequests = prs })
	base := forkBase(t, e)
	head := e.commit(gitserver.Change{Ref: "refs/pull/3/head", Parent: base, Message: "fork", Files: forkFiles(t)})
	prs.set(PullRequest{Open: true, HeadSHA: head, HeadRepo: "forker/blog", BaseRef: "main"})
	mustOutcome(t, e.run(e.prJob(queue.KindPreview, head, "pull_request.opened")), OutcomePublished)
	if slices.Contains(e.files("gh-pages"), "pr-preview/pr-3/login.html") {
		t.Error("a fork's HTML was published because the job said it was not a fork")
	}
	prs.set(PullRequest{Open: true, HeadSHA: head, HeadRepo: "", BaseRef: "main"}) // the fork was deleted
	e.commit(gitserver.Change{Ref: "gh-pages", Delete: []string{"pr-preview"}})
	mustOutcome(t, e.run(e.prJob(queue.KindPreview, head, "pull_request.synchronize")), OutcomePublished)
	if slices.Contains(e.files("gh-pages"), "pr-preview/pr-3/login.html") {
		t.Error("a deleted fork's HTML was published")
	}
}
