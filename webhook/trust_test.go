package webhook

import (
	"net/http"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"

	"github.com/publishbot/publishbot/queue"
)

// hostile payload URLs: none of them may reach a job.
var hostileURLs = []string{
	"http://evil.test/Codertocat/Hello-World.git",
	"https://evil.test/Codertocat/Hello-World.git",
	"https://x-access-token:stolen@evil.test/x.git",
	"http://127.0.0.1:1/Codertocat/Hello-World.git",
	"https://github.com.evil.test/Codertocat/Hello-World.git",
	"https://github.com@evil.test/Codertocat/Hello-World.git",
	"file:///etc/passwd",
	"ssh://git@evil.test/x.git",
	"",
}

// TestPayloadURLsAreNotTrusted: a signed payload that names another host in
// clone_url or html_url still gets a job whose URLs are on the configured
// git host, derived from the repository's full name.
func TestPayloadURLsAreNotTrusted(t *testing.T) {
	for _, base := range []struct{ gitURL, want string }{
		{"", "https://github.com/Codertocat/Hello-World"},
		{"https://ghe.example/", "https://ghe.example/Codertocat/Hello-World"},
		{"https://ghe.example/git/", "https://ghe.example/git/Codertocat/Hello-World"},
		{"http://127.0.0.1:9999", "http://127.0.0.1:9999/Codertocat/Hello-World"},
	} {
		for _, hostile := range hostileURLs {
			for _, d := range []struct{ event, file string }{
				{"push", "push/with-new-branch.payload.json"},
				{"pull_request", "pull_request/opened.payload.json"},
				{"pull_request", "pull_request/closed.payload.json"},
			} {
				e := newEnv(t, func(o *Options) { o.GitURL = base.gitURL })
				body := edit(t, payload(t, d.file), func(m map[string]any) {
					r := sub(m, "repository")
					for _, k := range []string{"clone_url", "html_url", "git_url", "ssh_url", "svn_url", "url", "mirror_url"} {
						r[k] = hostile
					}
					if pr, ok := m["pull_request"].(map[string]any); ok {
						for _, side := range []string{"head", "base"} {
							sub(sub(pr, side), "repo")["clone_url"] = hostile
						}
					}
				})
				a := e.send(t, delivery{event: d.event, id: "d1", body: body})
				if a.status != http.StatusAccepted || a.Result != "queued" {
					t.Fatalf("%s with clone_url %q: %+v", d.file, hostile, a)
				}
				j := e.take(t)
				if j.Repo.CloneURL != base.want+".git" || j.Repo.HTMLURL != base.want {
					t.Errorf("base %q, payload URL %q: job has clone URL %q and web address %q, want %s.git and %s",
						base.gitURL, hostile, j.Repo.CloneURL, j.Repo.HTMLURL, base.want, base.want)
				}
			}
		}
	}
}

// TestFullNameChecked: a full name that is not owner/name in GitHub's
// characters is refused before any URL is made of it.
func TestFullNameChecked(t *testing.T) {
	for _, name := range []string{
		"../../evil", "a/b/c", "a/../b", "acme/..", "acme/.", "evil.test:443/x", "acme/blog?x=1", "acme/blog#x",
		"acme/blog@evil.test", "acme", "/blog", "acme/", "acme//blog", "acme/bl og", "acme/blog\n", "-acme/blog",
		"acme\\blog", "acme/%2e%2e",
	} {
		for _, d := range []struct{ event, file string }{
			{"push", "push/with-new-branch.payload.json"},
			{"pull_request", "pull_request/opened.payload.json"},
		} {
			e := newEnv(t)
			body := edit(t, payload(t, d.file), func(m map[string]any) { sub(m, "repository")["full_name"] = name })
			a := e.send(t, delivery{event: d.event, id: "d1", body: body})
			if a.status != http.StatusBadRequest || a.Result != "bad_request" || !strings.Contains(a.Reason, "repository") {
				t.Errorf("%s with full_name %q: %+v, want 400 naming the repository", d.event, name, a)
			}
			if s := e.stats(t); s != (queue.Stats{}) {
				t.Errorf("full_name %q queued %+v", name, s)
			}
		}
	}
}

func TestAllowList(t *testing.T) {
	push := payload(t, "push/with-new-branch.payload.json") // Codertocat/Hello-World
	as := func(name string) []byte {
		return edit(t, push, func(m map[string]any) { sub(m, "repository")["full_name"] = name })
	}
	for _, tt := range []struct {
		name     string
		patterns []string
		repo     string
		allowed  bool
	}{
		{"no list", nil, "Codertocat/Hello-World", true},
		{"empty entries", []string{"", " "}, "Codertocat/Hello-World", true},
		{"owner", []string{"codertocat"}, "Codertocat/Hello-World", true},
		{"owner glob", []string{"Codertocat/*"}, "Codertocat/Hello-World", true},
		{"exact", []string{"acme/blog", "Codertocat/Hello-World"}, "Codertocat/Hello-World", true},
		{"name pattern", []string{"codertocat/hello-*"}, "Codertocat/Hello-World", true},
		{"any owner", []string{"*/hello-world"}, "Codertocat/Hello-World", true},
		{"other owner", []string{"acme"}, "Codertocat/Hello-World", false},
		{"owner prefix is not the owner", []string{"coder"}, "Codertocat/Hello-World", false},
		{"other repository", []string{"Codertocat/blog"}, "Codertocat/Hello-World", false},
		{"fork owner", []string{"acme/blog"}, "evil/blog", false},
		{"lookalike", []string{"acme/blog"}, "acme/blog2", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(o *Options) { o.Repositories = tt.patterns })
			a := e.send(t, delivery{event: "push", id: "d1", body: as(tt.repo)})
			s := e.stats(t)
			if tt.allowed {
				if a.status != http.StatusAccepted || a.Result != "queued" || s.Running+s.Queued != 1 {
					t.Fatalf("allowed %s: %+v, %+v", tt.repo, a, s)
				}
				return
			}
			if a.status != http.StatusAccepted || a.Result != "not_allowed" || a.Reason != "not allowed" || a.Job != "" {
				t.Errorf("%s not in %v: answer %+v, want 202 not allowed", tt.repo, tt.patterns, a)
			}
			if s != (queue.Stats{}) {
				t.Errorf("a repository outside the allow-list queued %+v", s)
			}
			var lines []*logrus.Entry
			for _, l := range e.logs.AllEntries() {
				if l.Data["result"] == "not_allowed" {
					lines = append(lines, l)
				}
			}
			if len(lines) != 1 || lines[0].Level != logrus.WarnLevel || lines[0].Data["repo"] != tt.repo {
				t.Errorf("want one warning naming %s, got %d lines: %v", tt.repo, len(lines), lines)
			}
		})
	}
	// A pull request (and its clean-up) is refused the same way.
	e := newEnv(t, func(o *Options) { o.Repositories = []string{"acme"} })
	for _, f := range []string{"pull_request/opened.payload.json", "pull_request/closed.payload.json"} {
		if a := e.send(t, delivery{event: "pull_request", id: f, body: payload(t, f)}); a.Result != "not_allowed" {
			t.Errorf("%s: %+v, want not_allowed", f, a)
		}
	}
	if s := e.stats(t); s != (queue.Stats{}) {
		t.Errorf("queued %+v", s)
	}
}

func TestParseAllowList(t *testing.T) {
	a, err := ParseAllowList([]string{" Acme ", "octo/Blog-*", "", "*/docs"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(a.Patterns(), ","); got != "acme/*,octo/blog-*,*/docs" {
		t.Errorf("patterns %s", got)
	}
	for name, want := range map[string]bool{
		"acme/x": true, "ACME/x": true, "octo/blog-1": true, "octo/blog": false, "x/docs": true, "x/doc": false,
		"acmex/y": false, "": false,
	} {
		if got := a.Allows(name); got != want {
			t.Errorf("Allows(%q) = %v, want %v", name, got, want)
		}
	}
	for _, bad := range [][]string{{"/"}, {"acme/"}, {"/blog"}, {"a/b/c"}, {"acme/[x"}, {"acme/\\"}} {
		if _, err := ParseAllowList(bad); err == nil {
			t.Errorf("ParseAllowList(%q) succeeded", bad)
		}
	}
	var none *AllowList
	if !none.Allows("a/b") || none.Patterns() != nil {
		t.Error("a nil allow-list must allow everything")
	}
}

func TestNewRefusesBadTrustOptions(t *testing.T) {
	for name, o := range map[string]Options{
		"white space secret":   {Secret: []byte(" \t\n"), Queue: fakeQueue(nil)},
		"plain http git host":  {Secret: testSecret, Queue: fakeQueue(nil), GitURL: "http://github.com/"},
		"git host with a user": {Secret: testSecret, Queue: fakeQueue(nil), GitURL: "https://u:p@github.com/"},
		"ssh git host":         {Secret: testSecret, Queue: fakeQueue(nil), GitURL: "ssh://github.com/"},
		"bad pattern":          {Secret: testSecret, Queue: fakeQueue(nil), Repositories: []string{"a/[b"}},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

// TestForkPullRequests: a pull request's head repository goes on the job,
// from pull_request.head.repo.full_name; a head repository that differs from
// the base repository, or that the payload does not name (a deleted fork),
// makes the job a fork's.
func TestForkPullRequests(t *testing.T) {
	for _, tc := range []struct {
		name     string
		file     string
		head     any // nil: delete head.repo; a string: its full_name
		wantHead string
		wantFork bool
	}{
		{"same repository", "pull_request/opened.payload.json", "Codertocat/Hello-World", "Codertocat/Hello-World", false},
		{"same repository, other case", "pull_request/synchronize.payload.json", "codertocat/hello-world", "codertocat/hello-world", false},
		{"fork", "pull_request/opened.payload.json", "forker/Hello-World", "forker/Hello-World", true},
		{"fork closing", "pull_request/closed.payload.json", "forker/Hello-World", "forker/Hello-World", true},
		{"deleted fork", "pull_request/reopened.payload.json", nil, "", true},
		{"organization fork", "pull_request/opened.with-organization.payload.json", "someone/Hello-World", "someone/Hello-World", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			body := edit(t, payload(t, tc.file), func(m map[string]any) {
				head := sub(sub(m, "pull_request"), "head")
				if tc.head == nil {
					head["repo"] = nil
					return
				}
				sub(head, "repo")["full_name"] = tc.head
			})
			a := e.send(t, delivery{event: "pull_request", id: "fork-1", body: body})
			if a.status != http.StatusAccepted || a.Result != "queued" {
				t.Fatalf("answer %+v", a)
			}
			j := e.take(t)
			if j.HeadRepo != tc.wantHead || j.FromFork() != tc.wantFork {
				t.Errorf("job head repo %q, from fork %v; want %q, %v", j.HeadRepo, j.FromFork(), tc.wantHead, tc.wantFork)
			}
		})
	}
}
