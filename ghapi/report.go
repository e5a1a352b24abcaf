package ghapi

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/google/go-github/v62/github"
	"github.com/sirupsen/logrus"

	"github.com/publishbot/publishbot/posts"
	"github.com/publishbot/publishbot/publisher"
	"github.com/publishbot/publishbot/queue"
)

// Names under which publishbot reports on commits.
const (
	CheckRunName   = "publishbot"
	PreviewContext = "publishbot/preview"
	PublishContext = "publishbot/publish"
)

// annotationBatch is GitHub's limit of annotations per check-run request.
const annotationBatch = 50

// maxCommentPages bounds the comment listing (100 per page).
const maxCommentPages = 300

// Report tells the pull request or the commit what a job did. Previews keep
// the pull request's one comment up to date and set a check run (App) or the
// commit status publishbot/preview (token); clean-ups rewrite an existing
// comment to say the preview was removed; publishes set the commit status
// publishbot/publish. Skipped jobs report nothing.
//
// It returns the joined errors of the calls that failed, each an *APIError
// when GitHub answered; the publish itself is never affected. Safe for
// concurrent use: reports on one pull request are serialised.
func (c *Client) Report(ctx context.Context, r publisher.Result) error {
	if r.Outcome == publisher.OutcomeSkipped {
		return nil
	}
	if r.Err != nil {
		// Masked once, here, for the comment, the status and the check run:
		// the client's own token (a token of an old format has no prefix to
		// know it by) and anything shaped like a credential.
		r.Err = errors.New(c.mask.String(r.Err.Error()))
	}
	repo := r.Job.Repo
	owner, name, ok := strings.Cut(repo.FullName, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return fmt.Errorf("report job %s: repository %q is not owner/name", r.Job.ID, repo.FullName)
	}
	gh, err := c.apiFor(repo)
	if err != nil {
		return fmt.Errorf("report job %s: %w", r.Job.ID, err)
	}
	log := c.log.WithFields(r.Job.LogFields())
	if sha := sourceSHA(r); sha != "" {
		log = log.WithField(queue.FieldSHA, sha)
	}
	rc := reportCall{c: c, gh: gh, owner: owner, name: name, r: r, log: log}

	var errs []error
	switch r.Job.Kind {
	case queue.KindPreview:
		if r.Job.PR <= 0 {
			return fmt.Errorf("report preview job %s: no pull request number", r.Job.ID)
		}
		if pagesDone(r) {
			// GitHub Pages finished the preview's build: the comment says
			// so; the check run stands as it was.
			if err := rc.upsertComment(ctx, CommentBody(r), false); err != nil {
				errs = append(errs, fmt.Errorf("update comment on %s#%d: %w", repo.FullName, r.Job.PR, err))
			}
			if !c.IsApp() && sourceSHA(r) != "" {
				if err := rc.previewStatus(ctx); err != nil {
					errs = append(errs, fmt.Errorf("report preview of %s#%d on %s: %w", repo.FullName, r.Job.PR, shortSHA(sourceSHA(r)), err))
				}
			}
			break
		}
		if err := rc.upsertComment(ctx, CommentBody(r), true); err != nil {
			errs = append(errs, fmt.Errorf("update comment on %s#%d: %w", repo.FullName, r.Job.PR, err))
		}
		if sourceSHA(r) != "" {
			if c.IsApp() {
				err = rc.checkRun(ctx)
			} else {
				err = rc.previewStatus(ctx)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("report preview of %s#%d on %s: %w", repo.FullName, r.Job.PR, shortSHA(sourceSHA(r)), err))
			}
		}
	case queue.KindCleanup:
		if r.Job.PR <= 0 {
			return fmt.Errorf("report cleanup job %s: no pull request number", r.Job.ID)
		}
		// A pull request that never had a preview gets no comment on closing.
		if err := rc.upsertComment(ctx, CommentBody(r), false); err != nil {
			errs = append(errs, fmt.Errorf("update comment on %s#%d: %w", repo.FullName, r.Job.PR, err))
		}
	case queue.KindPublish:
		if sourceSHA(r) != "" {
			if err := rc.publishStatus(ctx); err != nil {
				errs = append(errs, fmt.Errorf("set publish status on %s@%s: %w", repo.FullName, shortSHA(sourceSHA(r)), err))
			}
		}
	default:
		return fmt.Errorf("report job %s: unknown kind %q", r.Job.ID, r.Job.Kind)
	}
	return errors.Join(errs...)
}

// reportCall is one Report's state.
type reportCall struct {
	c           *Client
	gh          *github.Client
	owner, name string
	r           publisher.Result
	log         *logrus.Entry
}

// upsertComment makes body the text of the pull request's one marked
// comment: it edits the oldest marked comment (deleting any others), or
// creates one when create is set and there is none. After creating it looks
// again and removes a twin another process may have created at the same time.
func (rc reportCall) upsertComment(ctx context.Context, body string, create bool) error {
	unlock, err := rc.c.prLocks.Lock(ctx, strings.ToLower(rc.r.Job.Repo.FullName)+"#"+strconv.Itoa(rc.r.Job.PR))
	if err != nil {
		return err
	}
	defer unlock()

	found, err := rc.markedComments(ctx)
	if err != nil {
		return err
	}
	if len(found) == 0 {
		if !create {
			rc.log.Debug("no preview comment to update")
			return nil
		}
		var made *github.IssueComment
		err := rc.c.call(ctx, func() (*github.Response, error) {
			var resp *github.Response
			var err error
			made, resp, err = rc.gh.Issues.CreateComment(ctx, rc.owner, rc.name, rc.r.Job.PR, &github.IssueComment{Body: github.String(body)})
			return resp, err
		})
		if err != nil {
			return fmt.Errorf("create comment: %w", err)
		}
		rc.log.WithField("comment", made.GetID()).Info("preview comment created")
		if found, err = rc.markedComments(ctx); err != nil {
			return err
		}
		if len(found) <= 1 {
			return nil
		}
	}
	keep := found[0]
	for _, extra := range found[1:] {
		id := extra.GetID()
		err := rc.c.call(ctx, func() (*github.Response, error) {
			return rc.gh.Issues.DeleteComment(ctx, rc.owner, rc.name, id)
		})
		if err != nil && !errors.Is(err, ErrNotFound) { // gone already: another process removed it
			return fmt.Errorf("delete duplicate comment %d: %w", id, err)
		}
		rc.log.WithField("comment", id).Info("duplicate preview comment deleted")
	}
	if keep.GetBody() == body {
		return nil
	}
	err = rc.c.call(ctx, func() (*github.Response, error) {
		_, resp, err := rc.gh.Issues.EditComment(ctx, rc.owner, rc.name, keep.GetID(), &github.IssueComment{Body: github.String(body)})
		return resp, err
	})
	if errors.Is(err, ErrNotFound) && create { // deleted since the listing: write a new one
		err = rc.c.call(ctx, func() (*github.Response, error) {
			_, resp, err := rc.gh.Issues.CreateComment(ctx, rc.owner, rc.name, rc.r.Job.PR, &github.IssueComment{Body: github.String(body)})
			return resp, err
		})
		if err != nil {
			return fmt.Errorf("create comment: %w", err)
		}
		rc.log.Info("preview comment created again")
		return nil
	}
	if err != nil {
		return fmt.Errorf("edit comment %d: %w", keep.GetID(), err)
	}
	rc.log.WithField("comment", keep.GetID()).Info("preview comment updated")
	return nil
}

// markedComments lists every page of the pull request's comments and returns
// those carrying Marker, oldest first.
func (rc reportCall) markedComments(ctx context.Context) ([]*github.IssueComment, error) {
	var found []*github.IssueComment
	opt := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for page := 0; page < maxCommentPages; page++ {
		var list []*github.IssueComment
		var next int
		err := rc.c.call(ctx, func() (*github.Response, error) {
			var resp *github.Response
			var err error
			list, resp, err = rc.gh.Issues.ListComments(ctx, rc.owner, rc.name, rc.r.Job.PR, opt)
			if resp != nil {
				next = resp.NextPage
			}
			return resp, err
		})
		if err != nil {
			return nil, fmt.Errorf("list comments: %w", err)
		}
		for _, cm := range list {
			if strings.Contains(cm.GetBody(), Marker) {
				found = append(found, cm)
			}
		}
		if next == 0 || next == opt.Page {
			break
		}
		opt.Page = next
	}
	sort.SliceStable(found, func(i, j int) bool {
		a, b := found[i], found[j]
		if !a.GetCreatedAt().Time.Equal(b.GetCreatedAt().Time) {
			return a.GetCreatedAt().Before(b.GetCreatedAt().Time)
		}
		return a.GetID() < b.GetID()
	})
	return found, nil
}

// counts returns the error and warning diagnostics of a result.
func counts(r publisher.Result) (errs, warns int) {
	for _, d := range r.Diagnostics {
		if d.Severity == posts.SeverityError {
			errs++
		} else {
			warns++
		}
	}
	return errs, warns
}

// summaryLine is the one-line outcome used for check-run titles and status
// descriptions.
func summaryLine(r publisher.Result) string {
	if r.Outcome == publisher.OutcomeFailed {
		return descPreviewFailed + errText(r.Err) // masked by Report
	}
	e, w := counts(r)
	return tally(len(r.Changed), e, w)
}

func errText(err error) string {
	if err == nil {
		return "unknown error"
	}
	return strings.Join(strings.Fields(err.Error()), " ")
}

// checkRun creates the completed check run publishbot on the source commit
// with one annotation per diagnostic, 50 per request.
func (rc reportCall) checkRun(ctx context.Context) error {
	r := rc.r
	errs, _ := counts(r)
	conclusion := "success"
	if errs > 0 || r.Outcome == publisher.OutcomeFailed {
		conclusion = "failure"
	}
	title := truncate(summaryLine(r), 1000)
	summary := strings.TrimSuffix(strings.TrimSpace(strings.TrimSuffix(CommentBody(r), Marker+"\n")), " ·")
	annotations := make([]*github.CheckRunAnnotation, 0, len(r.Diagnostics))
	for _, d := range r.Diagnostics {
		if d.File == "" { // nothing to point at: GitHub would refuse the whole run
			continue
		}
		annotations = append(annotations, annotation(d))
	}
	first := annotations[:min(len(annotations), annotationBatch)]
	now := github.Timestamp{Time: rc.c.now()}
	opts := github.CreateCheckRunOptions{
		Name:        CheckRunName,
		HeadSHA:     sourceSHA(r),
		Status:      github.String("completed"),
		Conclusion:  github.String(conclusion),
		CompletedAt: &now,
		Output: &github.CheckRunOutput{
			Title:       github.String(title),
			Summary:     github.String(summary),
			Annotations: first,
		},
	}
	if !r.Job.Created.IsZero() {
		opts.StartedAt = &github.Timestamp{Time: r.Job.Created}
	}
	if r.SiteURL != "" && r.Outcome != publisher.OutcomeFailed {
		opts.DetailsURL = github.String(r.SiteURL)
	}
	if r.Job.ID != "" {
		opts.ExternalID = github.String(r.Job.ID)
	}
	var run *github.CheckRun
	err := rc.c.call(ctx, func() (*github.Response, error) {
		var resp *github.Response
		var err error
		run, resp, err = rc.gh.Checks.CreateCheckRun(ctx, rc.owner, rc.name, opts)
		return resp, err
	})
	if err != nil {
		return fmt.Errorf("create check run: %w", err)
	}
	for rest := annotations[len(first):]; len(rest) > 0; {
		batch := rest[:min(len(rest), annotationBatch)]
		rest = rest[len(batch):]
		upd := github.UpdateCheckRunOptions{
			Name: CheckRunName,
			Output: &github.CheckRunOutput{
				Title:       github.String(title),
				Summary:     github.String(summary),
				Annotations: batch,
			},
		}
		err := rc.c.call(ctx, func() (*github.Response, error) {
			_, resp, err := rc.gh.Checks.UpdateCheckRun(ctx, rc.owner, rc.name, run.GetID(), upd)
			return resp, err
		})
		if err != nil {
			return fmt.Errorf("add annotations to check run %d: %w", run.GetID(), err)
		}
	}
	rc.log.WithFields(logrus.Fields{"check_run": run.GetID(), "conclusion": conclusion, "annotations": len(annotations)}).Info("check run reported")
	return nil
}

// annotation places a diagnostic on its line; a diagnostic about a whole
// file goes on line 1.
func annotation(d posts.Diagnostic) *github.CheckRunAnnotation {
	line := max(d.Line, 1)
	level := "warning"
	if d.Severity == posts.SeverityError {
		level = "failure"
	}
	msg := d.Message
	if msg == "" {
		msg = d.Code
	}
	a := &github.CheckRunAnnotation{
		Path:            github.String(d.File),
		StartLine:       github.Int(line),
		EndLine:         github.Int(line),
		AnnotationLevel: github.String(level),
		Message:         github.String(truncate(msg, 60000)),
	}
	if d.Code != "" {
		a.Title = github.String(truncate(d.Code, 255))
	}
	return a
}

// previewStatus sets publishbot/preview on the source commit, pointing at the
// preview.
func (rc reportCall) previewStatus(ctx context.Context) error {
	r := rc.r
	errs, _ := counts(r)
	state := "success"
	switch {
	case r.Outcome == publisher.OutcomeFailed:
		state = "error"
	case errs > 0:
		state = "failure"
	}
	desc := summaryLine(r)
	switch {
	case r.Outcome == publisher.OutcomeFailed:
	case len(r.Setup) > 0:
		state, desc = "failure", r.Setup[0]
	case r.Pages == publisher.PagesBuilding:
		state, desc = "pending", desc+"; "+descBuilding
	case r.Pages == publisher.PagesLive:
		desc += ", " + descLive
	case r.Pages == publisher.PagesFailed:
		state, desc = "error", pagesFailed(r.PagesError)
	case r.Pages == publisher.PagesUnknown:
		desc += "; " + descNotSeen
	}
	return rc.status(ctx, PreviewContext, state, desc, r.SiteURL)
}

// The fixed phrases of commit status descriptions. README's
// Troubleshooting section explains each (a test keeps it so).
const (
	descPublished     = "published"
	descPublishedAs   = "published as "
	descUpToDate      = "the site was already up to date"
	descPublishFailed = "publish failed: "
	descPreviewFailed = "preview failed: "
	descLeftOut       = "(posts left out)"
	descBuilding      = "GitHub Pages is building it"
	descLive          = "live"
	descNotSeen       = "GitHub Pages build not seen done in time"
	descPagesFailed   = "GitHub Pages build failed: "
)

// pagesFailed describes a failed Pages build; a message that is already a
// sentence about GitHub Pages (Pages is off) stands alone.
func pagesFailed(msg string) string {
	msg = oneLine(msg)
	if strings.HasPrefix(msg, "GitHub Pages ") {
		return msg
	}
	return descPagesFailed + msg
}

// pagesDone: the result is GitHub Pages' verdict on an already reported
// push (pageswatch reports it again).
func pagesDone(r publisher.Result) bool {
	return r.Pages == publisher.PagesLive || r.Pages == publisher.PagesFailed || r.Pages == publisher.PagesUnknown
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// publishStatus sets publishbot/publish on the published source commit,
// pointing at the site.
func (rc reportCall) publishStatus(ctx context.Context) error {
	r := rc.r
	errs, warns := counts(r)
	state, desc := "success", descPublished
	switch {
	case r.Outcome == publisher.OutcomeFailed:
		state, desc = "error", descPublishFailed+errText(r.Err) // masked by Report
	case r.Outcome == publisher.OutcomeUnchanged:
		desc = descUpToDate
	case r.PagesCommit != "":
		desc = descPublishedAs + shortSHA(r.PagesCommit)
	}
	if r.Outcome != publisher.OutcomeFailed {
		switch r.Pages {
		case publisher.PagesBuilding:
			state, desc = "pending", desc+", "+descBuilding
		case publisher.PagesLive:
			desc += ", " + descLive
		case publisher.PagesUnknown:
			desc += "; " + descNotSeen
		}
		if errs > 0 {
			state = "failure"
			desc += "; " + plural(errs, "error", "errors") + " " + descLeftOut
		}
		if warns > 0 {
			desc += "; " + plural(warns, "warning", "warnings")
		}
		switch {
		case r.Pages == publisher.PagesFailed:
			state, desc = "error", pagesFailed(r.PagesError)
		case len(r.Setup) > 0:
			// A setup problem is told once, here, in place of the tally.
			state, desc = "failure", r.Setup[0]
		}
	}
	return rc.status(ctx, PublishContext, state, desc, r.SiteURL)
}

func (rc reportCall) status(ctx context.Context, context, state, desc, target string) error {
	st := &github.RepoStatus{
		State:       github.String(state),
		Description: github.String(truncateRunes(desc, 140)),
		Context:     github.String(context),
	}
	if target != "" && rc.r.Outcome != publisher.OutcomeFailed && rc.r.Pages != publisher.PagesFailed {
		st.TargetURL = github.String(target)
	}
	err := rc.c.call(ctx, func() (*github.Response, error) {
		_, resp, err := rc.gh.Repositories.CreateStatus(ctx, rc.owner, rc.name, sourceSHA(rc.r), st)
		return resp, err
	})
	if err != nil {
		return fmt.Errorf("create status %s: %w", context, err)
	}
	rc.log.WithFields(logrus.Fields{"context": context, "state": state}).Info("commit status reported")
	return nil
}

// truncateRunes cuts s to at most n characters, ending in "…".
func truncateRunes(s string, n int) string {
	rs := []rune(s)
	if len(rs) <= n {
		return s
	}
	return string(rs[:n-1]) + "…"
}
