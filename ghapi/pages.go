package ghapi

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-github/v62/github"

	"github.com/publishbot/publishbot/pageswatch"
	"github.com/publishbot/publishbot/preflight"
	"github.com/publishbot/publishbot/queue"
)

func ownerName(repo queue.Repo) (string, string, error) {
	owner, name, ok := strings.Cut(repo.FullName, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return "", "", fmt.Errorf("repository %q is not owner/name", repo.FullName)
	}
	return owner, name, nil
}

// LatestPagesBuild asks GitHub for repo's latest GitHub Pages build (GET
// /repos/{owner}/{repo}/pages/builds/latest). A repository without Pages
// (404) gives an error wrapping pageswatch.ErrNoPages. It implements
// pageswatch.Builds; safe for concurrent use.
func (c *Client) LatestPagesBuild(ctx context.Context, repo queue.Repo) (pageswatch.Build, error) {
	owner, name, err := ownerName(repo)
	if err != nil {
		return pageswatch.Build{}, err
	}
	gh, err := c.apiFor(repo)
	if err != nil {
		return pageswatch.Build{}, err
	}
	var b *github.PagesBuild
	err = c.call(ctx, func() (*github.Response, error) {
		var resp *github.Response
		var err error
		b, resp, err = gh.Repositories.GetLatestPagesBuild(ctx, owner, name)
		return resp, err
	})
	if errors.Is(err, ErrNotFound) {
		return pageswatch.Build{}, fmt.Errorf("latest pages build of %s: %w", repo.FullName, errors.Join(pageswatch.ErrNoPages, err))
	}
	if err != nil {
		return pageswatch.Build{}, fmt.Errorf("latest pages build of %s: %w", repo.FullName, err)
	}
	return pageswatch.Build{Commit: b.GetCommit(), Status: b.GetStatus(), Error: b.GetError().GetMessage()}, nil
}

var _ pageswatch.Builds = (*Client)(nil)

// PagesSite asks GitHub for repo's GitHub Pages settings (GET
// /repos/{owner}/{repo}/pages); a 404 is a site that is not enabled (no
// error). It implements part of preflight.GitHub.
func (c *Client) PagesSite(ctx context.Context, repo queue.Repo) (preflight.Pages, error) {
	owner, name, err := ownerName(repo)
	if err != nil {
		return preflight.Pages{}, err
	}
	gh, err := c.apiFor(repo)
	if err != nil {
		return preflight.Pages{}, err
	}
	var p *github.Pages
	err = c.call(ctx, func() (*github.Response, error) {
		var resp *github.Response
		var err error
		p, resp, err = gh.Repositories.GetPagesInfo(ctx, owner, name)
		return resp, err
	})
	if errors.Is(err, ErrNotFound) {
		return preflight.Pages{}, nil
	}
	if errors.Is(err, ErrForbidden) {
		return preflight.Pages{Unreadable: true}, nil
	}
	if err != nil {
		return preflight.Pages{}, fmt.Errorf("pages settings of %s: %w", repo.FullName, err)
	}
	return preflight.Pages{
		Enabled:   true,
		Branch:    p.GetSource().GetBranch(),
		Path:      p.GetSource().GetPath(),
		BuildType: p.GetBuildType(),
		URL:       p.GetHTMLURL(),
	}, nil
}

// Hooks lists repo's webhooks (GET /repos/{owner}/{repo}/hooks, first 100).
// readable is false when the credential may not read them (403, 404): an
// App's installation without the webhooks permission, a token without
// admin rights. It implements part of preflight.GitHub.
func (c *Client) Hooks(ctx context.Context, repo queue.Repo) (hooks []preflight.Hook, readable bool, err error) {
	owner, name, err := ownerName(repo)
	if err != nil {
		return nil, false, err
	}
	gh, err := c.apiFor(repo)
	if err != nil {
		return nil, false, err
	}
	var list []*github.Hook
	err = c.call(ctx, func() (*github.Response, error) {
		var resp *github.Response
		var err error
		list, resp, err = gh.Repositories.ListHooks(ctx, owner, name, &github.ListOptions{PerPage: 100})
		return resp, err
	})
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrForbidden) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("webhooks of %s: %w", repo.FullName, err)
	}
	for _, h := range list {
		out := preflight.Hook{Active: h.GetActive(), Events: h.Events}
		if h.Config != nil {
			out.URL = h.Config.GetURL()
			out.ContentType = h.Config.GetContentType()
		}
		hooks = append(hooks, out)
	}
	return hooks, true, nil
}

// Permissions returns what an App's installation may do on repo, as the
// installation token's answer lists them ("contents": "write", ...); known
// is false for a token client, whose rights GitHub does not list. It
// implements part of preflight.GitHub.
func (c *Client) Permissions(ctx context.Context, repo queue.Repo) (perms map[string]string, known bool, err error) {
	if !c.IsApp() {
		return nil, false, nil
	}
	in, err := c.installation(repo)
	if err != nil {
		return nil, false, err
	}
	if _, err := in.itr.Token(ctx); err != nil { // the permissions come with the token
		return nil, false, fmt.Errorf("get installation token for %s: %w", repo.FullName, classify(err))
	}
	p, err := in.itr.Permissions()
	if err != nil {
		return nil, false, fmt.Errorf("installation permissions for %s: %w", repo.FullName, err)
	}
	perms = map[string]string{}
	for k, v := range map[string]string{
		"contents": p.GetContents(), "pull_requests": p.GetPullRequests(), "checks": p.GetChecks(),
		"statuses": p.GetStatuses(), "pages": p.GetPages(), "metadata": p.GetMetadata(), "issues": p.GetIssues(),
	} {
		if v != "" {
			perms[k] = v
		}
	}
	return perms, true, nil
}
