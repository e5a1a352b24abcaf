package main

import (
	"strings"
	"testing"
	"time"

	"github.com/publishbot/publishbot/ghapitest"
	"github.com/publishbot/publishbot/testkit"
)

// publishStatuses lists the publishbot/publish statuses on sha, oldest first.
func (w *e2eWorld) publishStatuses(sha string) []ghapitest.Status {
	var out []ghapitest.Status
	for _, st := range w.api.Statuses(e2eFullName) {
		if st.SHA == sha && st.Context == "publishbot/publish" {
			out = append(out, st)
		}
	}
	return out
}

func (w *e2eWorld) waitPublishStatus(sha, state string) ghapitest.Status {
	w.t.Helper()
	var found ghapitest.Status
	testkit.WaitFor(w.t, "a "+state+" publish status on "+sha[:7], 30*time.Second, func() bool {
		for _, st := range w.publishStatuses(sha) {
			if st.State == state {
				found = st
				return true
			}
		}
		return false
	})
	return found
}

// TestServeLiveMeansLive: the publish status says "building" while GitHub
// Pages builds the pushed commit, then "live" with the site as its target,
// once the latest Pages build is of that commit.
func TestServeLiveMeansLive(t *testing.T) {
	w := newE2EWorld(t)
	s := w.startServe(nil)
	sha := w.initialContent()
	w.mustDeliverPush(s.addr, sha)
	w.waitPublished(sha, 60*time.Second)
	live := w.waitPublishStatus(sha, "success")
	sts := w.publishStatuses(sha)
	if len(sts) != 2 || sts[0].State != "pending" || !strings.Contains(sts[0].Description, "GitHub Pages is building it") {
		t.Fatalf("statuses = %+v, want pending (building) then success", sts)
	}
	if !strings.HasSuffix(live.Description, ", live") || live.TargetURL != "https://codertocat.github.io/Hello-World/" {
		t.Errorf("live status = %+v", live)
	}
	if n := w.api.Count("repos/get-latest-pages-build"); n < 2 {
		t.Errorf("the Pages build was read %d times, want it followed until built", n)
	}
}

// TestServePagesBuildFails: GitHub Pages' build error reaches the status.
func TestServePagesBuildFails(t *testing.T) {
	w := newE2EWorld(t)
	head := func() string {
		h, _ := w.git.Head(t.Context(), e2eRepo, "gh-pages")
		return h
	}
	w.api.SetPages(e2eFullName, ghapitest.Pages{Head: head, FailBuild: "The page build failed for the `gh-pages` branch with the following error: a file exceeds 100 MB."})
	s := w.startServe(nil)
	sha := w.initialContent()
	w.mustDeliverPush(s.addr, sha)
	st := w.waitPublishStatus(sha, "error")
	want := "GitHub Pages build failed: The page build failed for the `gh-pages` branch with the following error: a file exceeds 100 MB."
	if st.Description != want || st.TargetURL != "" {
		t.Errorf("status = %+v, want the Pages error %q", st, want)
	}
}

// TestServeTellsSetupProblemOnce: GitHub Pages serving the wrong branch is
// in the first publish's status, with the fix, and in the log, once.
func TestServeTellsSetupProblemOnce(t *testing.T) {
	w := newE2EWorld(t)
	w.api.SetPages(e2eFullName, ghapitest.Pages{Branch: "main"})
	s := w.startServe(map[string]string{"PUBLISHBOT_PAGES_WATCH": "0"})
	sha := w.initialContent()
	w.mustDeliverPush(s.addr, sha)
	const problem = "GitHub Pages serves main, not gh-pages: Settings → Pages → Branch"
	st := w.waitPublishStatus(sha, "failure")
	if st.Description != problem {
		t.Errorf("first status = %+v, want %q", st, problem)
	}
	e2eWaitIdle(t, s.addr, 30*time.Second)

	second := w.commit(map[string]string{"posts/2026-02-01-second.md": e2ePost("Second", 1, "More.")}, "second")
	w.mustDeliverPush(s.addr, second)
	st = w.waitPublishStatus(second, "success")
	if strings.Contains(st.Description, "GitHub Pages serves") {
		t.Errorf("the problem was told again: %+v", st)
	}
	if n := strings.Count(s.logs.String(), "setup problem: "+problem); n != 1 {
		t.Errorf("the problem is in the log %d times, want 1", n)
	}
	if n := w.api.Count("repos/get-pages"); n != 1 {
		t.Errorf("Pages settings read %d times, want once", n)
	}
}

// TestPRPreviewCommentSaysLive: the preview's comment says when GitHub
// Pages serves it.
func TestPRPreviewCommentSaysLive(t *testing.T) {
	w, s := newPRWorld(t, false)
	head := w.prHead(map[string]string{"posts/2026-03-01-fresh.md": prPost("Fresh", "2026-03-01", "Text.")})
	w.deliverPR(s, "live-opened", w.prPayload("opened.payload.json", head, nil))
	w.waitGitHub("the comment to say the preview is live", func() bool {
		m := w.marked()
		return len(m) == 1 && strings.Contains(m[0].Body, "The preview is live.")
	})
	w.waitGitHub("the preview status to say live", func() bool {
		st := w.status(head, "publishbot/preview")
		return st != nil && strings.Contains(st.Description, "live")
	})
	st := w.status(head, "publishbot/preview")
	if st == nil || st.State != "success" || !strings.HasSuffix(st.Description, ", live") {
		t.Errorf("preview status = %+v", st)
	}
}
