package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/google/go-github/v62/github"

	"github.com/publishbot/publishbot/webhooktest"
)

const (
	pushMessage = "Add the Acme engineering blog"
	prTitle     = "Add a post about previews"
)

// deliver sends one webhook as GitHub does: the payload as JSON, signed
// with HMAC-SHA256 under the bot's secret. It returns the bot's answer.
func (d *Demo) deliver(ctx context.Context, event string, payload any) (string, error) {
	body, err := json.Marshal(payload)
	if err != nil {
		return "", fmt.Errorf("encode %s payload: %w", event, err)
	}
	req, err := webhooktest.NewRequest(ctx, d.botURL+"/webhook", []byte(d.secret), event, newDeliveryID(), body)
	if err != nil {
		return "", fmt.Errorf("build %s webhook: %w", event, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("deliver %s webhook: %w", event, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode >= 300 {
		return "", fmt.Errorf("the bot refused the %s webhook: %s %s", event, resp.Status, bytes.TrimSpace(answer))
	}
	return resp.Status + " " + string(bytes.TrimSpace(answer)), nil
}

// newDeliveryID is a GUID like GitHub's X-GitHub-Delivery.
func newDeliveryID() string {
	h := randomHex(16)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// repository is acme/blog as GitHub describes it in payloads.
func (d *Demo) repository() *github.Repository {
	return &github.Repository{
		ID:            github.Int64(1296269),
		Name:          github.String(repo),
		FullName:      github.String(owner + "/" + repo),
		Owner:         &github.User{Login: github.String(owner), Type: github.String("Organization")},
		HTMLURL:       github.String("https://github.com/" + owner + "/" + repo),
		CloneURL:      github.String(d.cloneURL),
		DefaultBranch: github.String("main"),
	}
}

// pushEvent is the payload of a push of sha to main.
func (d *Demo) pushEvent(sha string) *github.PushEvent {
	r := d.repository()
	return &github.PushEvent{
		Ref:     github.String("refs/heads/main"),
		Before:  github.String(strings.Repeat("0", 40)),
		After:   github.String(sha),
		Created: github.Bool(true),
		Deleted: github.Bool(false),
		Forced:  github.Bool(false),
		Repo: &github.PushEventRepository{
			ID: r.ID, Name: r.Name, FullName: r.FullName, HTMLURL: r.HTMLURL, CloneURL: r.CloneURL,
			DefaultBranch: r.DefaultBranch, MasterBranch: r.DefaultBranch,
			Owner: &github.User{Login: github.String(owner), Name: github.String(owner)},
		},
		HeadCommit: &github.HeadCommit{ID: github.String(sha), Message: github.String(pushMessage)},
		Pusher:     &github.CommitAuthor{Name: github.String("author"), Email: github.String("author@acme.example")},
		Sender:     &github.User{Login: github.String("author")},
	}
}

// pullRequestEvent is the payload of pull request #1 opened with head on
// top of base.
func (d *Demo) pullRequestEvent(head, base string) *github.PullRequestEvent {
	r := d.repository()
	return &github.PullRequestEvent{
		Action: github.String("opened"),
		Number: github.Int(prNumber),
		PullRequest: &github.PullRequest{
			Number:  github.Int(prNumber),
			Title:   github.String(prTitle),
			State:   github.String("open"),
			HTMLURL: github.String(fmt.Sprintf("https://github.com/%s/%s/pull/%d", owner, repo, prNumber)),
			Head:    &github.PullRequestBranch{Ref: github.String("previews-post"), SHA: github.String(head), Repo: r},
			Base:    &github.PullRequestBranch{Ref: github.String("main"), SHA: github.String(base), Repo: r},
			User:    &github.User{Login: github.String("author")},
		},
		Repo:   r,
		Sender: &github.User{Login: github.String("author")},
	}
}
