package publisher

import (
	"context"
	"time"

	"github.com/publishbot/publishbot/posts"
	"github.com/publishbot/publishbot/queue"
)

// Outcome is how a job ended.
type Outcome string

const (
	OutcomePublished Outcome = "published" // a new commit is on the pages branch
	OutcomeUnchanged Outcome = "unchanged" // the build matched the pages branch: no commit
	OutcomeRemoved   Outcome = "removed"   // a closed PR's preview was removed
	OutcomeFailed    Outcome = "failed"    // nothing was published; Err says why
	// OutcomeSkipped: the job had nothing to do, and Reason says why: its
	// ref is not a branch or not the source branch, the commit has no
	// publish.yaml, previews are turned off, or a newer source commit is
	// already published.
	OutcomeSkipped Outcome = "skipped"
)

// ChangedPost is a post a pull request adds or changes.
type ChangedPost struct {
	Path        string // source file, e.g. "posts/2026-06-14-hello.md"
	Title       string
	OldTitle    string // the base branch's title when it changed, else ""
	Status      string // "added" or "changed" (or "removed")
	URL         string // absolute preview URL of the post; "" when the post has errors and is left out
	ReadingTime int    // minutes
	IndexPage   int    // 1-based page of the index the post lands on; 0 when not listed (draft, error)
	Draft       bool
	Future      bool
}

// LeftOut is a file of a pull request that its preview does not publish.
type LeftOut struct {
	Path   string // source file, e.g. "static/login.html"
	Reason string // why, in a few words
}

// Result is what one job did; the reporter turns it into a PR comment, a
// check run or a commit status.
type Result struct {
	Job         queue.Job
	Outcome     Outcome
	SourceSHA   string // the commit that was built
	PagesCommit string // the pages branch head after the job ("" when unknown)
	PagesBranch string // the pages branch the job published to ("" when not known yet)
	SiteURL     string // the site's (or the preview's) base URL
	Changed     []ChangedPost
	// LeftOut lists, for a preview, the files the pull request adds or
	// changes that its preview does not publish, by path: a fork's files
	// of a type that is not known to be inert, and changes to
	// publish.yaml and templates/ (previews use the base branch's).
	LeftOut     []LeftOut
	Diagnostics []posts.Diagnostic
	Err         error // set when Outcome is OutcomeFailed

	// ReportErr is the Reporter's failure, if any. It never changes the
	// outcome: the site is published whether or not GitHub heard of it.
	ReportErr error
	Reported  bool // the Reporter was called
	// Reason says in a few words why a job was skipped or changed nothing
	// ("not the source branch", "a newer commit is already published").
	Reason string

	// NextPublish is the earliest date of a future post of a publish, zero
	// when there is none: the caller schedules a publish then.
	NextPublish time.Time

	Fetch, Build, Push time.Duration
	Total              time.Duration
	// Load and Render are the parts of Build spent loading the content
	// and rendering the site (site.Output's); the rest of Build is
	// writing the pages' git objects.
	Load, Render time.Duration

	// ObjectsWritten counts git objects stored in the cache by this job;
	// ObjectsPushed counts the objects of the last push's pack.
	ObjectsWritten, ObjectsPushed int
	// Rendered counts the output files the build made, Kept those it
	// took unchanged from the target's previous build (an incremental
	// build: Options.Cache); KeptFolders counts the folders kept whole,
	// as one tree each, that hold some of those.
	Rendered, Kept, KeptFolders int

	// Pages is what GitHub Pages made of PagesCommit as far as it was
	// followed (Options.Pages); PagesError is the build's error message
	// when it failed.
	Pages      PagesState
	PagesError string
	// Setup lists problems of the repository's setup found before its
	// first job (Options.Preflight), each with its fix, told once.
	Setup []string
}

// PagesState is how far GitHub Pages got with a pushed pages commit.
type PagesState string

// The states of a followed Pages build.
const (
	PagesNotFollowed PagesState = ""         // nothing pushed, or no follower
	PagesBuilding    PagesState = "building" // pushed; GitHub Pages is building it
	PagesLive        PagesState = "live"     // GitHub Pages serves it
	PagesFailed      PagesState = "failed"   // the Pages build failed: PagesError says why
	PagesUnknown     PagesState = "unknown"  // not seen built within the time it was followed
)

// PagesFollower follows GitHub Pages' build of a pushed pages commit in the
// background and reports the outcome with the result (package pageswatch).
// Follow must return at once: the repository's next job does not wait for
// GitHub Pages.
type PagesFollower interface {
	Follow(res Result)
}

// Preflight checks a repository's setup (App permissions, webhook, GitHub
// Pages) on its first job and returns each problem not told before, with
// its fix, in at most 140 characters (package preflight). pagesBranch is
// the branch the job publishes to ("" when unknown).
type Preflight interface {
	Problems(ctx context.Context, repo queue.Repo, pagesBranch string) []string
}

// Reporter tells people about a result (the GitHub adaptor implements it). A
// failed report never undoes a publish.
type Reporter interface {
	Report(ctx context.Context, r Result) error
}
