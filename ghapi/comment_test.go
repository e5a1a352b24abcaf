package ghapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	stdhtml "html"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"

	"github.com/publishbot/publishbot/logmask"
	"github.com/publishbot/publishbot/posts"
	"github.com/publishbot/publishbot/publisher"
	"github.com/publishbot/publishbot/queue"
	"github.com/publishbot/publishbot/testkit"
)

// Both contracts the publisher declares (its TokenSource by method set).
var (
	_ publisher.Reporter = (*Client)(nil)
	_ interface {
		Token(context.Context, queue.Repo) (string, error)
	} = (*Client)(nil)
)

func TestCommentGolden(t *testing.T) {
	failed := previewResult()
	failed.Outcome = publisher.OutcomeFailed
	failed.Changed = nil
	failed.Err = fmt.Errorf("build preview: fetch https://x-access-token:%s@github.com/acme/blog.git: %w", "ghs_16C7e42F292c6912E7710c838347Ae178B4a", errors.New("remote: ```Repository not found```"))

	removed := previewResult()
	removed.Job.Kind, removed.Outcome, removed.Changed = queue.KindCleanup, publisher.OutcomeRemoved, nil

	draft := previewResult()
	draft.Changed = []publisher.ChangedPost{
		{Path: "posts/soon.md", Title: "Coming soon", Status: "added", URL: "https://acme.github.io/blog/pr-preview/pr-7/posts/soon/", ReadingTime: 1, Future: true},
		{Path: "posts/wip.md", Title: "Work in progress @octocat <b>", Status: "added", URL: "https://acme.github.io/blog/pr-preview/pr-7/posts/wip/", ReadingTime: 2, Draft: true},
		{Path: "posts/gone.md", Title: "Gone", Status: "removed"},
	}

	leftOut := previewResult()
	leftOut.LeftOut = []publisher.LeftOut{
		{Path: "publish.yaml", Reason: "previews use the base branch's publish.yaml"},
		{Path: "static/login.html", Reason: "a fork's .html files are not published (only images, PDF, plain text and fonts)"},
		{Path: "static/site.css", Reason: "a fork's .css files are not published (only images, PDF, plain text and fonts); the base branch's version is shown"},
		{Path: "static/x.[Approve & merge](https://evil.example) `@octocat`\n<img src=x>.png", Reason: "its content is text/html, not what .png says"},
	}

	for _, tc := range []struct {
		name string
		r    publisher.Result
	}{
		{"success", previewResult()},
		{"left-out", leftOut},
		{"diagnostics", withDiagnostics(previewResult())},
		{"drafts", draft},
		{"removed", removed},
		{"failed", failed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := CommentBody(tc.r)
			testkit.Golden(t, filepath.Join("testdata", "comment-"+tc.name+".golden"), []byte(got))
			if !strings.HasSuffix(got, Marker+"\n") {
				t.Errorf("comment does not end with the marker")
			}
			if strings.Contains(got, "ghs_16C7") {
				t.Errorf("comment leaks a token")
			}
		})
	}
}

func TestCommentBudgetSharing(t *testing.T) {
	// Many changed posts must not push every error out of the comment.
	r := previewResult()
	r.Changed = nil
	for i := range 3000 {
		r.Changed = append(r.Changed, publisher.ChangedPost{Path: fmt.Sprintf("posts/%d.md", i), Title: fmt.Sprintf("Post number %d with a long title", i),
			Status: "added", URL: fmt.Sprintf("https://acme.github.io/blog/pr-preview/pr-7/posts/post-number-%d/", i), ReadingTime: 2, IndexPage: i/8 + 1})
	}
	r.Diagnostics = []posts.Diagnostic{{File: "posts/7.md", Line: 3, Severity: posts.SeverityError, Code: "bad-date", Message: "date is not a date"}}
	body := CommentBody(r)
	if len(body) > MaxCommentLen {
		t.Fatalf("%d bytes", len(body))
	}
	if !strings.Contains(body, "`bad-date`") || !strings.Contains(body, "more changed posts") {
		t.Errorf("errors were crowded out or posts not summarised")
	}
}

// TestCommentMasksCredentials: an error's text reaches the comment only
// through logmask, the one masker (its own tests cover every shape).
func TestCommentMasksCredentials(t *testing.T) {
	for _, secret := range []string{
		"https://x-access-token:ghs_abcdefghijklmnopqrstuvwxyz0123456789@github.com/a/b.git",
		"ghp_abcdefghijklmnopqrstuvwxyz0123456789",
		"Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiI5OSJ9.c2ln",
		"github_pat_11ABCDEFG0123456789_abcdefghijklmnop",
		"-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----",
	} {
		r := previewResult()
		r.Outcome, r.Changed = publisher.OutcomeFailed, nil
		r.Err = errors.New("push failed: " + secret)
		body := CommentBody(r)
		for _, leak := range []string{"ghs_abc", "ghp_abc", "eyJhbG", "github_pat_", "MIIE"} {
			if strings.Contains(body, leak) {
				t.Errorf("comment for %q leaks %q:\n%s", secret, leak, body)
			}
		}
		if !strings.Contains(body, "push failed: ") || !strings.Contains(body, logmask.Mask) {
			t.Errorf("comment for %q does not show the masked error:\n%s", secret, body)
		}
	}
}

// inertCheck renders a comment as GitHub would read its Markdown (GFM).
var (
	inertCheck = goldmark.New(goldmark.WithExtensions(extension.GFM))
	hrefRE     = regexp.MustCompile(`<a href="([^"]*)"`)
)

// FuzzCommentBody feeds outside text (titles, paths, messages, errors) into
// the comment: it always fits, ends with the marker and carries no other
// marker outside the error block.
func FuzzCommentBody(f *testing.F) {
	f.Add("A title", "posts/a.md", "message", 3, 40, "boom")
	f.Add("<!-- publishbot:preview -->", "posts/|x|.md", "@octocat ```", 0, 2000, "```")
	f.Add("line\nbreak", "a b/(c).md", "<script>", -1, 1, "ghs_16C7e42F292c6912E7710c838347Ae178B4a")
	f.Add("[Approve](https://evil.example) ![p](https://evil.example/p.png)", "posts/[a](b).md", "see #1, GH-2, a/b#3, deadbeef1, www.x.example, https://x.example", 2, 3, "x")
	f.Add("\\[x\\](y) `a` *b* _c_ ~d~ $e$ | f", "posts/`x`|y.md", "<https://evil.example> a@b.example", 0, 1, "x")
	f.Fuzz(func(t *testing.T, title, file, msg string, line, n int, errText string) {
		n = min(max(n, 0), 3000)
		r := previewResult()
		r.Changed = append(r.Changed, publisher.ChangedPost{Path: file, Title: title, OldTitle: msg, Status: "changed", URL: "https://x.test/" + title})
		for i := range n {
			sev := posts.SeverityWarning
			if i%3 == 0 {
				sev = posts.SeverityError
			}
			r.Diagnostics = append(r.Diagnostics, posts.Diagnostic{File: file, Line: line + i, Severity: sev, Code: title, Message: msg})
		}
		for _, res := range []publisher.Result{r, func() publisher.Result {
			r.Outcome, r.Err = publisher.OutcomeFailed, errors.New(errText)
			return r
		}()} {
			body := CommentBody(res)
			if len(body) > MaxCommentLen {
				t.Fatalf("%d bytes", len(body))
			}
			if !utf8.ValidString(body) {
				t.Fatalf("invalid UTF-8")
			}
			if !strings.HasSuffix(body, Marker+"\n") {
				t.Fatalf("no marker at the end")
			}
			if res.Outcome != publisher.OutcomeFailed && strings.Count(body, "<!--") != 1 {
				t.Fatalf("outside text opened an HTML comment:\n%s", body)
			}
			if strings.Contains(body, "ghs_16C7e42F292c6912E7710c838347Ae178B4a") && !strings.Contains(title+file+msg, "ghs_") {
				t.Fatalf("token in the body")
			}
			var html bytes.Buffer
			if err := inertCheck.Convert([]byte(body), &html); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(html.String(), "<img") {
				t.Fatalf("outside text made an image:\n%s", body)
			}
			for _, m := range hrefRE.FindAllStringSubmatch(html.String(), -1) {
				if u := stdhtml.UnescapeString(m[1]); !strings.HasPrefix(u, "https://x.test/") && !strings.HasPrefix(u, "https://github.com/acme/blog/blob/") && u != res.SiteURL {
					t.Fatalf("outside text made a link to %q:\n%s", u, body)
				}
			}
		}
	})
}

func BenchmarkCommentBody2000Diagnostics(b *testing.B) {
	r := previewResult()
	for i := range 2000 {
		r.Diagnostics = append(r.Diagnostics, posts.Diagnostic{File: fmt.Sprintf("posts/p%04d.md", i), Line: i + 1,
			Severity: posts.SeverityWarning, Code: "image-alt", Message: "image has no alt text"})
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = CommentBody(r)
	}
}

func TestMoreLen(t *testing.T) {
	s := &section{more: "warnings"}
	for _, n := range []int{0, 1, 9, 10, 99, 100, 12345} {
		if got, want := s.moreLen(n), len(s.moreLine(n)); got != want {
			t.Errorf("moreLen(%d) = %d, want %d", n, got, want)
		}
	}
}

// Titles, messages and paths come from the content of a pull request, a
// fork's too: in the comment they are text a reviewer reads, never a link,
// an image, a mention or a reference GitHub would make of them.
func TestCommentOutsideTextIsInert(t *testing.T) {
	hostile := []string{
		"[Approve & merge here](https://evil.example/approve)",
		"![pixel](https://evil.example/p.png)",
		"[ref][x]\n\n[x]: https://evil.example/",
		"<https://evil.example/> <img src=x onerror=alert(1)> <!-- publishbot:preview -->",
		"read https://evil.example/approve or HTTP://EVIL.EXAMPLE or www.evil.example or WWW.Evil.example",
		"mail a.b@evil.example, mailto:x@evil.example",
		"fixes #1, acme/other#2, GH-3 and gh-4; see acme/blog@1a2b3c4 and 1a2b3c4d5e6f7a8b9c0d",
		"deadbeef and DEADBEEF1 and c0ffee0 in hex",
		"**bold** _it_ ~~gone~~ `code` $x^2$ | cell | \\[x\\](y) &lt;b&gt; &amp;",
		"@octocat and @acme/team",
		"line\nbreak\r\n## heading\n- item\n> quote",
		"<a href=\"https://evil.example\">click</a>",
		"[a](<https://evil.example>) [b]( https://evil.example ) [c](/relative)",
	}
	allowed := map[string]bool{}
	r := previewResult()
	r.Changed, r.Diagnostics = nil, nil
	for i, h := range hostile {
		u := fmt.Sprintf("https://acme.github.io/blog/pr-preview/pr-7/posts/p%d/", i)
		allowed[u] = true
		r.Changed = append(r.Changed, publisher.ChangedPost{Path: fmt.Sprintf("posts/p%d.md", i), Title: h, OldTitle: "was " + h, Status: "changed", URL: u})
		r.Diagnostics = append(r.Diagnostics, posts.Diagnostic{File: fmt.Sprintf("posts/p%d.md", i), Line: 3, Severity: posts.SeverityWarning,
			Code: "broken-link", Message: fmt.Sprintf("link %q is broken: %s", h, h)})
	}
	r.Changed = append(r.Changed, publisher.ChangedPost{Path: "posts/[x](https:/evil.example)|`a`|.md", Status: "added", URL: "https://acme.github.io/blog/pr-preview/pr-7/posts/x/"})
	allowed["https://acme.github.io/blog/pr-preview/pr-7/posts/x/"] = true
	allowed[r.SiteURL] = true
	body := CommentBody(r)

	var html bytes.Buffer
	if err := inertCheck.Convert([]byte(body), &html); err != nil {
		t.Fatal(err)
	}
	out := html.String()
	if strings.Contains(out, "<img") {
		t.Errorf("an image in the comment:\n%s", out)
	}
	for _, m := range hrefRE.FindAllStringSubmatch(out, -1) {
		if u := stdhtml.UnescapeString(m[1]); !allowed[u] && !strings.HasPrefix(u, "https://github.com/acme/blog/blob/"+testSHA+"/posts/") {
			t.Errorf("a link the content made: %s", u)
		}
	}
	// What a reader sees: the title's characters, nothing GitHub links.
	visible := stdhtml.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(out, ""))
	urls := slices.SortedFunc(maps.Keys(allowed), func(a, b string) int { return len(b) - len(a) })
	for _, u := range urls {
		visible = strings.ReplaceAll(visible, u, "")
	}
	visible = strings.Replace(visible, "preview of #7 at ce58745", "", 1) // the bot's own words
	for _, pattern := range []string{`://`, `(?i)\bwww\.`, `#\d`, `(?i)\bgh-\d`, `@\w`, `\b[0-9a-fA-F]{7,40}\b`, `\w@\w`} {
		if m := regexp.MustCompile(pattern).FindString(visible); m != "" {
			t.Errorf("%q would be linked by GitHub (%s)", m, pattern)
		}
	}
	seen := strings.ReplaceAll(visible, zwsp, "")
	for _, h := range hostile {
		h = strings.NewReplacer("\r", " ", "\n", " ").Replace(h)
		if !strings.Contains(seen, h) {
			t.Errorf("the comment does not show %q as written:\n%s", h, seen)
		}
	}
	if strings.Count(body, "<!--") != 1 {
		t.Errorf("outside text opened an HTML comment")
	}
}
