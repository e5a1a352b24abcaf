package ghapi

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-github/v62/github"

	"github.com/publishbot/publishbot/publisher"
	"github.com/publishbot/publishbot/queue"
)

// PullRequest asks GitHub for pull request number of repo (GET
// /repos/{owner}/{repo}/pulls/{number}, with retries like every call): its
// state, head commit, head repository and base branch. It implements
// publisher.PullRequests, so preview and clean-up jobs go by the pull
// request's state rather than by the order webhooks came in. A refused
// credential, a missing permission or a pull request GitHub does not show
// (401, 403, 404) is permanent for the publisher (publisher.Permanent);
// other failures are retried with the job. Safe for concurrent use.
func (c *Client) PullRequest(ctx context.Context, repo queue.Repo, number int) (publisher.PullRequest, error) {
	owner, name, ok := strings.Cut(repo.FullName, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return publisher.PullRequest{}, publisher.Permanent(fmt.Errorf("get pull request: repository %q is not owner/name", repo.FullName))
	}
	gh, err := c.apiFor(repo)
	if err != nil {
		return publisher.PullRequest{}, err
	}
	var pr *github.PullRequest
	err = c.call(ctx, func() (*github.Response, error) {
		var resp *github.Response
		var err error
		pr, resp, err = gh.PullRequests.Get(ctx, owner, name, number)
		return resp, err
	})
	if err != nil {
		err = fmt.Errorf("get pull request %s#%d: %w", repo.FullName, number, err)
		if errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrForbidden) || errors.Is(err, ErrNotFound) {
			err = publisher.Permanent(err)
		}
		return publisher.PullRequest{}, err
	}
	return publisher.PullRequest{
		Open:     pr.GetState() == "open",
		HeadSHA:  pr.GetHead().GetSHA(),
		HeadRepo: pr.GetHead().GetRepo().GetFullName(),
		BaseRef:  pr.GetBase().GetRef(),
	}, nil
}

var _ publisher.PullRequests = (*Client)(nil)
