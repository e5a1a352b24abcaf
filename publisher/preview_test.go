package publisher

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/publishbot/publishbot/gitserver"
	"github.com/publishbot/publishbot/queue"
)

func (e *env) previewJob(pr int, sha string) queue.Job {
	return queue.Job{Kind: queue.KindPreview, Repo: e.repo(), Ref: "refs/pull/" + itoa(pr) + "/head", SHA: sha, PR: pr, BaseRef: "main", Reason: "pull_request.opened"}
}

func itoa(n int) string { return strings.TrimSpace(strings.Repeat(" ", 0) + fmtInt(n)) }

func fmtInt(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

func TestPreviewPublishUpdateCleanup(t *testing.T) {
	e := newEnv(t).useFake()
	base := e.seed()
	site := e.publish(base)
	mustOutcome(t, site, OutcomePublished)

	// A fork's pull request: its head exists only as refs/pull/3/head.
	head1 := e.commit(gitserver.Change{Ref: "refs/pull/3/head", Parent: base, Message: "Add a fresh post", Files: map[string]string{
		"posts/fresh.md":  "A fresh post\n\nDRAFT text",
		"posts/hello.md":  "Hello again\n\nchanged",
		"posts/broken.md": "BROKEN",
	}})
	if refs := e.git("for-each-ref", "--format=%(refname)", "--contains", head1); refs != "refs/pull/3/head" {
		t.Fatalf("head is reachable from %q", refs)
	}
	r := e.run(e.previewJob(3, head1))
	mustOutcome(t, r, OutcomePublished)
	wantBase := "https://acme.github.io/blog/pr-preview/pr-3/"
	if r.SiteURL != wantBase || r.SourceSHA != head1 {
		t.Fatalf("site URL %q, source %q", r.SiteURL, r.SourceSHA)
	}
	files := e.files("gh-pages")
	for _, want := range []string{"pr-preview/pr-3/index.html", "pr-preview/pr-3/posts/fresh/index.html", "posts/hello/index.html"} {
		if !slices.Contains(files, want) {
			t.Fatalf("%s missing: %q", want, files)
		}
	}
	// The site itself is untouched by a preview.
	if d := e.git("diff", "--name-only", site.PagesCommit, "gh-pages", "--", ".", ":!pr-preview"); d != "" {
		t.Fatalf("preview changed the site: %q", d)
	}
	if got := e.show("gh-pages", "pr-preview/pr-3/posts/fresh/index.html"); !strings.Contains(got, wantBase) {
		t.Fatalf("preview page base: %q", got)
	}
	if got := e.show("gh-pages", "pr-preview/pr-3/index.html"); !strings.HasPrefix(got, "Preview of #3") {
		t.Fatalf("preview banner missing: %q", got)
	}
	msg := e.git("log", "-1", "--format=%B", "gh-pages")
	if !strings.HasPrefix(msg, "Preview #3 at "+head1[:7]+": Add a fresh post") || strings.Contains(msg, "Source-Commit") {
		t.Fatalf("preview message %q", msg)
	}
	if len(r.Changed) != 3 {
		t.Fatalf("changed = %+v", r.Changed)
	}
	byPath := map[string]ChangedPost{}
	for _, c := range r.Changed {
		byPath[c.Path] = c
	}
	fresh := byPath["posts/fresh.md"]
	if fresh.Status != "added" || fresh.URL != wantBase+"posts/fresh/" || !fresh.Draft || fresh.IndexPage != 1 || fresh.ReadingTime != 1 {
		t.Fatalf("fresh = %+v", fresh)
	}
	if h := byPath["posts/hello.md"]; h.Status != "changed" || h.URL != wantBase+"posts/hello/" || h.IndexPage != 1 {
		t.Fatalf("hello = %+v", h)
	}
	if b := byPath["posts/broken.md"]; b.Status != "added" || b.URL != "" {
		t.Fatalf("broken = %+v", b)
	}
	if len(r.Diagnostics) != 1 || r.Diagnostics[0].File != "posts/broken.md" {
		t.Fatalf("diagnostics = %+v", r.Diagnostics)
	}

	// A publish keeps the preview.
	src := e.commit(gitserver.Change{Ref: "main", Message: "main moves on", Files: map[string]string{"posts/m.md": "M\n"}})
	mustOutcome(t, e.publish(src), OutcomePublished)
	if !slices.Contains(e.files("gh-pages"), "pr-preview/pr-3/posts/fresh/index.html") {
		t.Fatal("publish removed the preview")
	}

	// Update: a new head replaces only pr-preview/pr-3/.
	e.commit(gitserver.Change{Ref: "gh-pages", Message: "another preview", Files: map[string]string{"pr-preview/pr-4/index.html": "four"}})
	head2 := e.commit(gitserver.Change{Ref: "refs/pull/3/head", Message: "Drop broken", Delete: []string{"posts/broken.md", "posts/fresh.md"}})
	before := e.head("gh-pages")
	r2 := e.run(e.previewJob(3, head2))
	mustOutcome(t, r2, OutcomePublished)
	// posts/m.md came to main after the pull request forked: not its change.
	if len(r2.Changed) != 1 || r2.Changed[0].Path != "posts/hello.md" {
		t.Fatalf("changed after update = %+v", r2.Changed)
	}
	changed := e.git("diff", "--name-only", before, "gh-pages")
	if changed != "pr-preview/pr-3/feed.xml\npr-preview/pr-3/index.html\npr-preview/pr-3/posts/fresh/index.html" {
		t.Fatalf("update changed %q", changed)
	}
	// Rerunning the same preview changes nothing.
	mustOutcome(t, e.run(e.previewJob(3, head2)), OutcomeUnchanged)

	// Clean-up removes only pr-preview/pr-3/.
	c := e.run(queue.Job{Kind: queue.KindCleanup, Repo: e.repo(), PR: 3, BaseRef: "main", Reason: "pull_request.closed"})
	mustOutcome(t, c, OutcomeRemoved)
	files = e.files("gh-pages")
	for _, f := range files {
		if strings.HasPrefix(f, "pr-preview/pr-3/") {
			t.Fatalf("%s left after clean-up", f)
		}
	}
	if !slices.Contains(files, "pr-preview/pr-4/index.html") || !slices.Contains(files, "posts/m/index.html") {
		t.Fatalf("clean-up removed too much: %q", files)
	}
	// Cleaning up again has nothing to do.
	mustOutcome(t, e.run(queue.Job{Kind: queue.KindCleanup, Repo: e.repo(), PR: 3, BaseRef: "main"}), OutcomeUnchanged)
	// The published source is still found behind preview commits.
	if _, pub, err := e.pub.Drift(context.Background(), e.repo()); err != nil || pub != src {
		t.Fatalf("drift published = %q %v, want %s", pub, err, src)
	}
}

func TestPreviewOnNewPagesBranch(t *testing.T) {
	e := newEnv(t).useFake()
	base := e.seed()
	head := e.commit(gitserver.Change{Ref: "refs/pull/1/head", Parent: base, Message: "x", Files: map[string]string{"posts/x.md": "X\n"}})
	r := e.run(e.previewJob(1, head))
	mustOutcome(t, r, OutcomePublished)
	files := e.files("gh-pages")
	if !slices.Contains(files, ".nojekyll") || !slices.Contains(files, "pr-preview/pr-1/posts/x/index.html") || slices.Contains(files, "index.html") {
		t.Fatalf("files = %q", files)
	}
	// The first publish then adds the site beside the preview.
	mustOutcome(t, e.publish(base), OutcomePublished)
	files = e.files("gh-pages")
	if !slices.Contains(files, "index.html") || !slices.Contains(files, "pr-preview/pr-1/posts/x/index.html") {
		t.Fatalf("files = %q", files)
	}
}

func TestPreviewsTurnedOff(t *testing.T) {
	e := newEnv(t).useFake()
	base := e.commit(gitserver.Change{Ref: "main", Files: map[string]string{"publish.yaml": "previews: false\n", "posts/a.md": "A\n"}})
	head := e.commit(gitserver.Change{Ref: "refs/pull/2/head", Parent: base, Files: map[string]string{"posts/b.md": "B\n"}})
	r := e.run(e.previewJob(2, head))
	mustOutcome(t, r, OutcomeSkipped)
	if e.head("gh-pages") != "" {
		t.Fatal("a preview was published")
	}
}

func TestBrokenConfigPublishesNothing(t *testing.T) {
	e := newEnv(t).useFake()
	src := e.commit(gitserver.Change{Ref: "main", Files: map[string]string{"publish.yaml": "BROKEN: [\n", "posts/a.md": "A\n"}})
	r := e.publish(src)
	mustOutcome(t, r, OutcomeFailed)
	if !errors.Is(r.Err, ErrPermanent) || !strings.Contains(r.Err.Error(), "publish.yaml has errors") || len(r.Diagnostics) == 0 {
		t.Fatalf("err %v diags %+v", r.Err, r.Diagnostics)
	}
	if e.head("gh-pages") != "" {
		t.Fatal("published despite a broken publish.yaml")
	}
}

func TestNoConfigIsSkipped(t *testing.T) {
	e := newEnv(t).useFake()
	src := e.commit(gitserver.Change{Ref: "main", Files: map[string]string{"README.md": "not a blog\n"}})
	mustOutcome(t, e.publish(src), OutcomeSkipped)
}

func TestOnlyTheSourceBranchPublishes(t *testing.T) {
	e := newEnv(t).useFake()
	base := e.seed()
	feature := e.commit(gitserver.Change{Ref: "feature", Parent: base, Files: map[string]string{"posts/f.md": "F\n"}})
	r := e.run(queue.Job{Kind: queue.KindPublish, Repo: e.repo(), Ref: "refs/heads/feature", SHA: feature})
	mustOutcome(t, r, OutcomeSkipped)
	if !strings.Contains(r.Reason, "not the source branch (main)") {
		t.Fatalf("reason %q", r.Reason)
	}
	mustOutcome(t, e.run(queue.Job{Kind: queue.KindPublish, Repo: e.repo(), Ref: "refs/tags/v1"}), OutcomeSkipped)

	// publish.yaml on the default branch can name another source branch
	// and pages branch.
	e.commit(gitserver.Change{Ref: "main", Files: map[string]string{"publish.yaml": "title: Blog\nsource_branch: feature\npages_branch: site\n"}})
	e.commit(gitserver.Change{Ref: "feature", Files: map[string]string{"publish.yaml": "title: Blog\nsource_branch: feature\npages_branch: site\n"}})
	mustOutcome(t, e.run(queue.Job{Kind: queue.KindPublish, Repo: e.repo(), Ref: "refs/heads/main"}), OutcomeSkipped)
	r = e.run(queue.Job{Kind: queue.KindPublish, Repo: e.repo(), Ref: "refs/heads/feature"})
	mustOutcome(t, r, OutcomePublished)
	if e.head("site") == "" || e.head("gh-pages") != "" {
		t.Fatalf("site=%q gh-pages=%q", e.head("site"), e.head("gh-pages"))
	}
	// No ref: the source branch is found from the default branch.
	r = e.run(queue.Job{Kind: queue.KindPublish, Repo: queue.Repo{FullName: testRepo, CloneURL: e.srv.RepoURL(testRepo)}, Reason: "cli"})
	mustOutcome(t, r, OutcomeUnchanged)
}

func TestPagesBranchMustDifferFromSource(t *testing.T) {
	e := newEnv(t).useFake()
	src := e.commit(gitserver.Change{Ref: "main", Files: map[string]string{"publish.yaml": "title: x\npages_branch: main\n"}})
	r := e.publish(src)
	mustOutcome(t, r, OutcomeFailed)
	if !errors.Is(r.Err, ErrPermanent) {
		t.Fatalf("err %v", r.Err)
	}
}
