package webhook

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-github/v62/github"

	"github.com/publishbot/publishbot/gitauth"
	"github.com/publishbot/publishbot/queue"
	"github.com/publishbot/publishbot/webhooktest"
)

var fuzzEvents = []string{"push", "pull_request", "ping", "issues"}

// FuzzHandler sends correctly signed deliveries with arbitrary bodies through
// the whole handler (parse path included) and checks that it answers sanely
// and that whatever it queues is a well-formed job whose URLs are on the
// configured git host, whatever URLs and names the payload holds.
//
//	go test -run '^$' -fuzz FuzzHandler -fuzztime 90s ./webhook/
func FuzzHandler(f *testing.F) {
	for i, event := range fuzzEvents[:3] {
		dir := filepath.Join(webhooksDir(f), event)
		names, err := os.ReadDir(dir)
		if err != nil {
			f.Fatal(err)
		}
		for _, n := range names {
			b, err := os.ReadFile(filepath.Join(dir, n.Name()))
			if err != nil {
				f.Fatal(err)
			}
			f.Add(uint8(i), b)
		}
	}
	f.Add(uint8(0), []byte(`{"ref":"refs/heads/main","after":"0123456789012345678901234567890123456789","repository":{"full_name":"a/b"}}`))
	f.Add(uint8(1), []byte(`{"action":"closed","number":1,"pull_request":{"head":{"sha":"0123456789012345678901234567890123456789"}},"repository":{"full_name":"a/b"}}`))
	// Payloads that name another host, and odd full names.
	push := payload(f, "push/with-new-branch.payload.json")
	pr := payload(f, "pull_request/opened.payload.json")
	for _, u := range hostileURLs {
		set := func(m map[string]any) {
			sub(m, "repository")["clone_url"] = u
			sub(m, "repository")["html_url"] = u
		}
		f.Add(uint8(0), edit(f, push, set))
		f.Add(uint8(1), edit(f, pr, set))
	}
	for _, name := range []string{"../../x", "a/b/c", "a/..", "evil.test:443/x", "a/b?c", "a/b#c", "a@evil.test/b", ".github/.github", "a/.", "a/b\\c", "a/%2e%2e"} {
		set := func(m map[string]any) { sub(m, "repository")["full_name"] = name }
		f.Add(uint8(0), edit(f, push, set))
		f.Add(uint8(1), edit(f, pr, set))
	}

	f.Fuzz(func(t *testing.T, ev uint8, body []byte) {
		event := fuzzEvents[int(ev)%len(fuzzEvents)]
		var queued []queue.Job
		h, err := New(Options{Secret: testSecret, Queue: fakeQueue(func(j queue.Job) error {
			queued = append(queued, j)
			return nil
		})})
		if err != nil {
			t.Fatal(err)
		}
		req, err := webhooktest.NewRequest(context.Background(), "/webhook", testSecret, event, "fuzz", body)
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)

		var a answer
		if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
			t.Fatalf("answer %q is not JSON: %v", rec.Body.Bytes(), err)
		}
		switch rec.Code {
		case http.StatusOK, http.StatusAccepted, http.StatusBadRequest:
		default:
			t.Fatalf("status %d for a signed %s delivery: %+v", rec.Code, event, a)
		}
		if a.Result != "queued" {
			if len(queued) != 0 {
				t.Fatalf("answered %s but queued %+v", a.Result, queued)
			}
			return
		}
		if len(queued) != 1 {
			t.Fatalf("answered queued, queued %d jobs", len(queued))
		}
		if err := checkJob(queued[0]); err != nil {
			t.Fatalf("%s delivery queued a bad job %+v: %v", event, queued[0], err)
		}
		if a.Job != queued[0].ID || a.Kind != string(queued[0].Kind) {
			t.Fatalf("answer %+v does not describe job %+v", a, queued[0])
		}
	})
}

func checkJob(j queue.Job) error {
	switch {
	case j.ID == "" || j.Delivery != "fuzz":
		return fmt.Errorf("id %q delivery %q", j.ID, j.Delivery)
	case j.Repo.FullName == "":
		return fmt.Errorf("no repository")
	case gitauth.ValidFullName(j.Repo.FullName) != nil:
		return fmt.Errorf("repository name %q", j.Repo.FullName)
	case j.Repo.CloneURL != gitauth.DefaultBase+j.Repo.FullName+".git" || j.Repo.HTMLURL != gitauth.DefaultBase+j.Repo.FullName:
		return fmt.Errorf("repository URLs %q, %q are not on %s", j.Repo.CloneURL, j.Repo.HTMLURL, gitauth.DefaultBase)
	case !isSHA(j.SHA):
		return fmt.Errorf("sha %q", j.SHA)
	}
	switch j.Kind {
	case queue.KindPublish:
		branch, ok := strings.CutPrefix(j.Ref, "refs/heads/")
		if !ok || branch == "" || branch == "gh-pages" {
			return fmt.Errorf("publish of ref %q", j.Ref)
		}
	case queue.KindPreview, queue.KindCleanup:
		if j.PR <= 0 || j.Ref != fmt.Sprintf("refs/pull/%d/head", j.PR) {
			return fmt.Errorf("pr %d ref %q", j.PR, j.Ref)
		}
	default:
		return fmt.Errorf("kind %q", j.Kind)
	}
	return nil
}

// FuzzVerify checks that only the correct HMAC-SHA256 is accepted, whatever
// the X-Hub-Signature-256 header holds.
//
//	go test -run '^$' -fuzz FuzzVerify -fuzztime 60s ./webhook/
func FuzzVerify(f *testing.F) {
	body := []byte("Hello, World!")
	f.Add("sha256="+hex.EncodeToString(sign(testSecret, body)), body)
	f.Add("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", body)
	f.Add("sha1=7d38cdd689735b008b3c702edd92eea23791c5f6", body)
	f.Add("sha256=", []byte{})
	f.Add("", body)
	h, err := New(Options{Secret: testSecret, Queue: fakeQueue(nil)})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, sig string, body []byte) {
		header := http.Header{}
		header.Set("X-Hub-Signature-256", sig)
		got := h.verify(header, body)
		mac, err := hex.DecodeString(strings.TrimPrefix(sig, "sha256="))
		want := strings.HasPrefix(sig, "sha256=") && err == nil && bytes.Equal(mac, sign(testSecret, body))
		if (got == "") != want {
			t.Fatalf("verify(%q) = %q, want accepted=%v", sig, got, want)
		}
	})
}

// fuzzBases are git hosts FuzzToJob configures the handler with.
var fuzzBases = []string{"https://github.com/", "https://ghe.example/git/", "http://127.0.0.1:3000/"}

// FuzzToJob fuzzes the mapping from a parsed event to a job (toJob) with
// arbitrary repository names and URLs, and checks the trust invariants:
// every job's clone URL and web address are the configured base + the
// (valid) full name, on the base's host, with credentials allowed there;
// nothing of the payload's URLs reaches the job.
//
//	go test -run '^$' -fuzz FuzzToJob -fuzztime 5m ./webhook/
func FuzzToJob(f *testing.F) {
	sha := "0123456789012345678901234567890123456789"
	f.Add(uint8(0), "Codertocat/Hello-World", "https://github.com/Codertocat/Hello-World.git", "refs/heads/main", sha, 1)
	f.Add(uint8(1), "Codertocat/Hello-World", "http://evil.test/x.git", "opened", sha, 2)
	f.Add(uint8(2), "acme/.github", "https://x-access-token:t@evil.test/acme/.github.git", "closed", sha, 3)
	f.Add(uint8(3), "../../evil", "file:///etc", "refs/heads/main", sha, 1)
	f.Add(uint8(4), "acme/blog/../../x", "ssh://evil.test/x", "synchronize", sha, 1)
	f.Add(uint8(5), "evil.test:443/x", "//evil.test/x", "refs/heads/main", sha, 1)
	f.Add(uint8(1), "a/b@evil.test", "https://github.com@evil.test/a/b.git", "reopened", sha, 9)
	f.Add(uint8(0), "ACME/Blog.io", "", "refs/heads/gh-pages", sha, 0)
	handlers := make([]*Handler, len(fuzzBases))
	for i, b := range fuzzBases {
		h, err := New(Options{Secret: testSecret, Queue: fakeQueue(nil), GitURL: b})
		if err != nil {
			f.Fatal(err)
		}
		handlers[i] = h
	}
	f.Fuzz(func(t *testing.T, sel uint8, fullName, payloadURL, refOrAction, sha string, number int) {
		h := handlers[int(sel/2)%len(handlers)]
		base := fuzzBases[int(sel/2)%len(handlers)]
		var event any
		if sel%2 == 0 {
			event = &github.PushEvent{
				Ref: &refOrAction, After: &sha,
				Repo: &github.PushEventRepository{FullName: &fullName, CloneURL: &payloadURL, HTMLURL: &payloadURL, URL: &payloadURL, GitURL: &payloadURL},
			}
		} else {
			repo := &github.Repository{FullName: &fullName, CloneURL: &payloadURL, HTMLURL: &payloadURL, URL: &payloadURL, GitURL: &payloadURL}
			event = &github.PullRequestEvent{
				Action: &refOrAction, Number: &number, Repo: repo,
				PullRequest: &github.PullRequest{
					Number: &number,
					Head:   &github.PullRequestBranch{SHA: &sha, Repo: repo},
					Base:   &github.PullRequestBranch{Repo: repo},
				},
			}
		}
		job, ignored, err := h.toJob(event)
		if job.Repo != (queue.Repo{}) {
			checkRepo(t, base, job.Repo)
		}
		if err == nil && ignored == "" {
			if job.Repo.FullName != fullName {
				t.Fatalf("job for %q is for %q", fullName, job.Repo.FullName)
			}
			checkRepo(t, base, job.Repo)
		}
		if gitauth.ValidFullName(fullName) != nil && job.Repo != (queue.Repo{}) {
			t.Fatalf("invalid full name %q made a repository %+v", fullName, job.Repo)
		}
	})
}

// checkRepo asserts that r's URLs are derived from base and its full name.
func checkRepo(t *testing.T, base string, r queue.Repo) {
	t.Helper()
	if err := gitauth.ValidFullName(r.FullName); err != nil {
		t.Fatalf("job repository: %v", err)
	}
	if r.CloneURL != base+r.FullName+".git" || r.HTMLURL != base+r.FullName {
		t.Fatalf("repository %q has URLs %q, %q; want them under %s", r.FullName, r.CloneURL, r.HTMLURL, base)
	}
	b, err := gitauth.ParseBase(base)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(r.CloneURL)
	if err != nil {
		t.Fatalf("clone URL %q: %v", r.CloneURL, err)
	}
	if u.Host != b.Host || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Path != b.Path+r.FullName+".git" {
		t.Fatalf("clone URL %q leaves %s", r.CloneURL, base)
	}
	if !gitauth.CredentialsAllowed(u, b) {
		t.Fatalf("credentials not allowed to the derived %q", r.CloneURL)
	}
}
