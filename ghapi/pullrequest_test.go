package ghapi

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/publishbot/publishbot/ghapitest"
	"github.com/publishbot/publishbot/publisher"
	"github.com/publishbot/publishbot/queue"
)

func TestPullRequest(t *testing.T) {
	f := tokenGitHub(t)
	c, s := newTokenClient(t, f)
	ctx := context.Background()
	f.SetPullRequest(testRepo.FullName, ghapitest.PullRequest{Number: testPR, State: "open", HeadSHA: testSHA, HeadRef: "fix", HeadRepo: "forker/blog", BaseRef: "main"})
	got, err := c.PullRequest(ctx, testRepo, testPR)
	if err != nil {
		t.Fatal(err)
	}
	if want := (publisher.PullRequest{Open: true, HeadSHA: testSHA, HeadRepo: "forker/blog", BaseRef: "main"}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}

	f.SetPullRequest(testRepo.FullName, ghapitest.PullRequest{Number: testPR, State: "closed", Merged: true, HeadSHA: testSHA, BaseRef: "main"})
	got, err = c.PullRequest(ctx, testRepo, testPR)
	if err != nil || got.Open || got.HeadRepo != "" {
		t.Errorf("merged pull request of a deleted fork: %+v %v", got, err)
	}

	// GitHub down for a moment: retried like every call.
	f.Fail("GET", "/repos/acme/blog/pulls/7", 502, nil, `{"message":"Server Error"}`)
	if _, err := c.PullRequest(ctx, testRepo, testPR); err != nil {
		t.Errorf("after a 502: %v", err)
	}
	if len(s.all()) == 0 {
		t.Error("the 502 was not waited out")
	}

	// A pull request GitHub does not show, or a missing permission: the
	// job cannot be done by retrying it.
	for _, status := range []int{404, 403, 401} {
		f.Fail("GET", "/repos/acme/blog/pulls/7", status, nil, `{"message":"no"}`)
		_, err := c.PullRequest(ctx, testRepo, testPR)
		if !errors.Is(err, publisher.ErrPermanent) || !strings.Contains(err.Error(), "get pull request acme/blog#7") {
			t.Errorf("%d: %v, want a permanent error naming the pull request", status, err)
		}
	}
	if _, err := c.PullRequest(ctx, queue.Repo{FullName: "not-a-repo"}, 1); !errors.Is(err, publisher.ErrPermanent) {
		t.Errorf("a bad repository name: %v", err)
	}
	if strings.Contains(strings.Join(f.Problems(), ""), "pulls") {
		t.Errorf("requests depart from the description: %v", f.Problems())
	}
}

func TestPullRequestWithApp(t *testing.T) {
	f := appGitHub(t)
	c := newAppClient(t, f)
	f.SetPullRequest(testRepo.FullName, ghapitest.PullRequest{Number: testPR, State: "open", HeadSHA: testSHA, HeadRepo: testRepo.FullName, BaseRef: "main"})
	repo := testRepo
	repo.InstallationID = testInst
	got, err := c.PullRequest(context.Background(), repo, testPR)
	if err != nil || !got.Open || got.HeadRepo != testRepo.FullName {
		t.Fatalf("%+v %v", got, err)
	}
	if _, err := c.PullRequest(context.Background(), testRepo, testPR); !errors.Is(err, ErrNoInstallation) {
		t.Errorf("without an installation: %v", err)
	}
}
