package publisher

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/publishbot/publishbot/gitserver"
	"github.com/publishbot/publishbot/posts"
	"github.com/publishbot/publishbot/queue"
)

// realConfig: the fake build, but publish.yaml read by posts.LoadConfig,
// as in production.
func (e *env) realConfig() *env {
	e.pub.build = fakeBuild
	return e
}

// publish.yaml is read and checked by posts.LoadConfig alone: a value that
// check refuses is refused by publish, at the same line, and nothing is
// published.
func TestRefusedBranchSettingFailsAtItsLine(t *testing.T) {
	yaml := "title: Blog\npages_branch: refs/heads/site\n"
	_, checked := posts.LoadConfig(fstest.MapFS{posts.ConfigFile: {Data: []byte(yaml)}}, testRepo)
	if len(checked) != 1 || checked[0].Line != 2 || !posts.HasErrors(checked) {
		t.Fatalf("check: %v", checked)
	}
	e := newEnv(t).realConfig()
	src := e.commit(gitserver.Change{Ref: "main", Files: map[string]string{"publish.yaml": yaml, "posts/a.md": "A\n"}})
	r := e.publish(src)
	mustOutcome(t, r, OutcomeFailed)
	want := `publish.yaml:2: pages_branch: "refs/heads/site" is a full ref name`
	if !errors.Is(r.Err, ErrPermanent) || !strings.Contains(r.Err.Error(), want) {
		t.Fatalf("err = %v, want it to contain %q", r.Err, want)
	}
	if !slices.Equal(r.Diagnostics, checked) {
		t.Fatalf("diagnostics %v, want what check says: %v", r.Diagnostics, checked)
	}
	for _, b := range []string{"site", "refs/heads/site", "gh-pages"} {
		if e.head(b) != "" {
			t.Fatalf("%s was published", b)
		}
	}
	// The other jobs read the same settings and refuse the same way.
	for _, j := range []queue.Job{
		{Kind: queue.KindCleanup, Repo: e.repo(), PR: 2, BaseRef: "main"},
		{Kind: queue.KindPreview, Repo: e.repo(), PR: 2, BaseRef: "main", Ref: "refs/heads/main"},
	} {
		if r := e.run(j); r.Outcome != OutcomeFailed || !strings.Contains(r.Err.Error(), want) {
			t.Errorf("%s: %s %v", j.Kind, r.Outcome, r.Err)
		}
	}
	if _, _, err := e.pub.Drift(context.Background(), e.repo()); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("drift: %v", err)
	}
}

// Options.PagesBranch applies when publish.yaml names no pages branch; a
// pages_branch written in publish.yaml wins, even when it is the default
// "gh-pages".
func TestWrittenPagesBranchBeatsTheOption(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.PagesBranch = "site" }).realConfig()
	mustOutcome(t, e.publish(e.seed()), OutcomePublished)
	if e.head("site") == "" || e.head("gh-pages") != "" {
		t.Fatalf("site=%q gh-pages=%q", e.head("site"), e.head("gh-pages"))
	}
	src := e.commit(gitserver.Change{Ref: "main", Files: map[string]string{"publish.yaml": "title: Blog\npages_branch: gh-pages\n"}})
	mustOutcome(t, e.publish(src), OutcomePublished)
	if e.head("gh-pages") == "" {
		t.Fatal("the written gh-pages lost to the option")
	}
}

// A clean-up reads only the branch settings: other errors in publish.yaml
// do not keep a closed pull request's preview online.
func TestCleanupDespiteABrokenConfig(t *testing.T) {
	e := newEnv(t).realConfig()
	mustOutcome(t, e.publish(e.seed()), OutcomePublished)
	e.commit(gitserver.Change{Ref: "gh-pages", Files: map[string]string{"pr-preview/pr-4/index.html": "four"}})
	e.commit(gitserver.Change{Ref: "main", Files: map[string]string{"publish.yaml": "title: Blog\nper_page: zero\n"}})
	r := e.run(queue.Job{Kind: queue.KindCleanup, Repo: e.repo(), PR: 4, BaseRef: "main"})
	mustOutcome(t, r, OutcomeRemoved)
	if slices.Contains(e.files("gh-pages"), "pr-preview/pr-4/index.html") {
		t.Fatal("the preview is still there")
	}
}
