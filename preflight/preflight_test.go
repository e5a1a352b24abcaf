package preflight

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/publishbot/publishbot/queue"
	"github.com/publishbot/publishbot/testkit"
)

type fakeGitHub struct {
	pages     Pages
	pagesErr  error
	hooks     []Hook
	hooksOK   bool
	perms     map[string]string
	permsOK   bool
	pageCalls int
}

func (f *fakeGitHub) PagesSite(ctx context.Context, repo queue.Repo) (Pages, error) {
	f.pageCalls++
	return f.pages, f.pagesErr
}

func (f *fakeGitHub) Hooks(ctx context.Context, repo queue.Repo) ([]Hook, bool, error) {
	return f.hooks, f.hooksOK, nil
}

func (f *fakeGitHub) Permissions(ctx context.Context, repo queue.Repo) (map[string]string, bool, error) {
	return f.perms, f.permsOK, nil
}

var (
	repo     = queue.Repo{FullName: "acme/blog"}
	goodApp  = map[string]string{"contents": "write", "pull_requests": "write", "checks": "write", "statuses": "write", "pages": "read", "metadata": "read"}
	goodHook = Hook{URL: "https://bot.example.com/webhook", ContentType: "json", Events: []string{"push", "pull_request"}, Active: true}
)

// problemCases are the checks' findings for each kind of setup.
var problemCases = []struct {
	name string
	gh   fakeGitHub
	want []string // problem texts
}{
	{"all good", fakeGitHub{pages: Pages{Enabled: true, Branch: "gh-pages", Path: "/", BuildType: "legacy"}, hooks: []Hook{goodHook}, hooksOK: true, perms: goodApp, permsOK: true}, nil},
	{"token, nothing readable", fakeGitHub{pages: Pages{Enabled: true, Branch: "gh-pages", Path: "/"}}, nil},
	{"pages off", fakeGitHub{}, []string{"GitHub Pages is off: Settings → Pages → Deploy from a branch, gh-pages, / (root)"}},
	{"pages from main", fakeGitHub{pages: Pages{Enabled: true, Branch: "main", Path: "/"}}, []string{"GitHub Pages serves main, not gh-pages: Settings → Pages → Branch"}},
	{"pages from docs", fakeGitHub{pages: Pages{Enabled: true, Branch: "gh-pages", Path: "/docs"}}, []string{"GitHub Pages serves /docs of gh-pages, not its root: Settings → Pages → Folder: / (root)"}},
	{"pages by workflow", fakeGitHub{pages: Pages{Enabled: true, BuildType: "workflow"}}, []string{"GitHub Pages builds from a workflow, not gh-pages: Settings → Pages → Source: Deploy from a branch"}},
	{"pages unreadable", fakeGitHub{pages: Pages{Unreadable: true}}, []string{"cannot read the GitHub Pages settings: give the App or token Pages: read"}},
	{"app lacks permissions", fakeGitHub{pages: Pages{Enabled: true, Branch: "gh-pages"}, perms: map[string]string{"contents": "read", "metadata": "read", "pull_requests": "write", "checks": "write", "statuses": "write"}, permsOK: true},
		[]string{"the GitHub App lacks Contents: write, Pages: read: App settings → Permissions, then approve on the installation"}},
	{"webhook form, no PRs, inactive", fakeGitHub{pages: Pages{Enabled: true, Branch: "gh-pages"}, hooksOK: true, hooks: []Hook{
		{URL: "https://bot.example.com/webhook", ContentType: "form", Events: []string{"push"}},
		{URL: "https://ci.example.com/hook", ContentType: "form"}, // not ours
	}}, []string{
		"the webhook is inactive: Settings → Webhooks → Active",
		"the webhook sends form data: Settings → Webhooks → Content type: application/json",
		"the webhook does not send pull_request: Settings → Webhooks → Let me select: Pushes, Pull requests",
	}},
	{"webhook sends everything", fakeGitHub{pages: Pages{Enabled: true, Branch: "gh-pages"}, hooksOK: true, hooks: []Hook{{URL: "https://bot.example.com/webhook/", ContentType: "json", Events: []string{"*"}, Active: true}}}, nil},
}

func TestProblems(t *testing.T) {
	for _, tc := range problemCases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(Options{GitHub: &tc.gh})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range c.Check(context.Background(), repo, "gh-pages") {
				got = append(got, p.Text)
				if n := utf8.RuneCountInString(p.Text); n > 140 {
					t.Errorf("%q has %d characters: a status description holds 140", p.Text, n)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// Each problem goes into one commit status, one at a time; the checks run
// once per repository (and pages branch), and again after an API failure.
func TestProblemsToldOnce(t *testing.T) {
	gh := &fakeGitHub{pagesErr: errors.New("502 Bad Gateway")}
	c, err := New(Options{GitHub: gh})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if p := c.Problems(ctx, repo, "gh-pages"); p != nil {
		t.Fatalf("problems after an API failure: %q", p)
	}
	gh.pagesErr = nil
	gh.pages = Pages{Enabled: true, Branch: "main"}
	gh.hooksOK, gh.hooks = true, []Hook{{URL: "https://x/webhook", ContentType: "form", Events: []string{"push", "pull_request"}, Active: true}}
	first := c.Problems(ctx, repo, "gh-pages")
	second := c.Problems(ctx, repo, "gh-pages")
	third := c.Problems(ctx, repo, "gh-pages")
	if len(first) != 1 || !strings.HasPrefix(first[0], "GitHub Pages serves main") ||
		len(second) != 1 || !strings.HasPrefix(second[0], "the webhook sends form data") || third != nil {
		t.Fatalf("told %q, then %q, then %q", first, second, third)
	}
	if gh.pageCalls != 2 {
		t.Errorf("Pages read %d times, want 2 (the failed check and its retry)", gh.pageCalls)
	}
	// A job publishing to another branch checks Pages against it.
	if p := c.Problems(ctx, repo, "main"); p != nil {
		t.Errorf("publishing to main, which Pages serves: %q", p)
	}
	if gh.pageCalls != 3 {
		t.Errorf("Pages read %d times, want 3", gh.pageCalls)
	}
}

// Every problem the checks report is explained, as written, in README's
// Troubleshooting section.
func TestTroubleshootingExplainsEveryProblem(t *testing.T) {
	section := testkit.ReadmeSection(t, "Troubleshooting")
	for _, tc := range problemCases {
		for _, text := range tc.want {
			if !strings.Contains(section, "`"+text+"`") {
				t.Errorf("README's Troubleshooting does not explain %q", text)
			}
		}
	}
}

// At serve's start the pages branch is not known: Pages serving another
// branch is no problem yet. A problem seen then and fixed before the first
// job is not told.
func TestStartCheckThenJob(t *testing.T) {
	ctx := context.Background()
	gh := &fakeGitHub{pages: Pages{Enabled: true, Branch: "site"}}
	c, err := New(Options{GitHub: gh})
	if err != nil {
		t.Fatal(err)
	}
	c.CheckAll(ctx, []queue.Repo{repo})
	if p := c.Problems(ctx, repo, "site"); p != nil {
		t.Fatalf("publishing to site, which Pages serves: %q", p)
	}

	gh2 := &fakeGitHub{}
	c2, _ := New(Options{GitHub: gh2})
	if got := c2.Check(ctx, repo, ""); len(got) != 1 || got[0].Code != "pages-off" {
		t.Fatalf("start check = %+v, want pages-off", got)
	}
	gh2.pages = Pages{Enabled: true, Branch: "gh-pages"} // fixed before the first job
	if p := c2.Problems(ctx, repo, "gh-pages"); p != nil {
		t.Fatalf("a fixed problem was told: %q", p)
	}
}
