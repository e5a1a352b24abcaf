package gitstore

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/publishbot/publishbot/gitauth"
	"github.com/publishbot/publishbot/gitserver"
)

// recordingTransport answers 401 to everything and records the
// Authorization header of each request.
type recordingTransport struct {
	mu   sync.Mutex
	auth map[string]string // URL → Authorization
}

func (rt *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rt.mu.Lock()
	rt.auth[req.URL.String()] = req.Header.Get("Authorization")
	rt.mu.Unlock()
	return &http.Response{StatusCode: http.StatusUnauthorized, Body: http.NoBody, Header: http.Header{}, Request: req}, nil
}

// TestTokenGoesOnlyWhereAllowed: the token is attached to a request only
// when gitauth.CredentialsAllowed allows its URL for the git base, and a
// request that is not allowed loses any Authorization header it had.
func TestTokenGoesOnlyWhereAllowed(t *testing.T) {
	base, err := gitauth.ParseBase("https://github.com/")
	if err != nil {
		t.Fatal(err)
	}
	rec := &recordingTransport{auth: map[string]string{}}
	at := &authTransport{next: rec, token: testToken, base: base}
	for _, tc := range []struct {
		url  string
		want bool
	}{
		{"https://github.com/acme/blog.git/info/refs?service=git-upload-pack", true},
		{"https://GitHub.com:443/acme/blog.git/git-upload-pack", true},
		{"http://github.com/acme/blog.git/info/refs", false},       // plain http
		{"https://github.com.evil.test/acme/blog.git", false},      // another host
		{"https://evil.test/acme/blog.git/info/refs", false},       // a redirect's target
		{"https://github.com:8443/acme/blog.git/info/refs", false}, // another port
		{"https://x@github.com/acme/blog.git/info/refs", false},    // user information of its own
	} {
		req, err := http.NewRequest(http.MethodGet, tc.url, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Basic c29tZW9uZTplbHNl") // set by someone else: never passed on elsewhere
		if _, err := at.RoundTrip(req); err != nil {
			t.Fatal(err)
		}
		want := ""
		if tc.want {
			want = "Basic " + base64.StdEncoding.EncodeToString([]byte(TokenUser+":"+testToken))
		}
		if got := rec.auth[req.URL.String()]; got != want {
			t.Errorf("%s: Authorization %q, want %q", tc.url, got, want)
		}
		if req.Header.Get("Authorization") != "Basic c29tZW9uZTplbHNl" {
			t.Errorf("%s: the caller's request was changed", tc.url)
		}
	}
	if h := at.withheldFrom(); h != "https://github.com" {
		t.Errorf("withheld from %q, want the last refused request's host", h)
	}
}

// TestRemoteOnAnotherHostGetsNoToken: a Remote whose URL is not on the
// store's git base (an old job's clone URL) is fetched without the token,
// and the error says why.
func TestRemoteOnAnotherHostGetsNoToken(t *testing.T) {
	e := newEnv(t)
	e.commit(gitserver.Change{Ref: "main", Files: map[string]string{"a": "a"}})
	// The git server is 127.0.0.1:<port>; the trusted host is another port.
	trusted, err := gitauth.ParseBase("http://127.0.0.1:1/")
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Dir: t.TempDir(), GitBase: trusted})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Open(e.remote())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_, err = r.Fetch(context.Background(), "refs/heads/main")
	if !errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), "the token was not sent to "+e.srv.URL) {
		t.Fatalf("fetch: %v, want an authentication error saying the token was withheld", err)
	}
	for _, req := range e.srv.Requests() {
		if req.User != "" {
			t.Errorf("%s %s carried credentials for user %q", req.Method, req.Path, req.User)
		}
	}

	// The same remote on a store trusting the git server's host works.
	own, err := gitauth.ParseBase(e.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	e.dir = t.TempDir()
	if _, err := e.open(Options{GitBase: own}).Fetch(context.Background(), "refs/heads/main"); err != nil {
		t.Fatalf("fetch from the trusted host: %v", err)
	}
}

// TestRedirectGetsNoToken: the trusted host answers the first request with
// a redirect to another host (the git server); the token goes to the
// trusted host only, never to where the redirect leads.
func TestRedirectGetsNoToken(t *testing.T) {
	e := newEnv(t)
	e.commit(gitserver.Change{Ref: "main", Files: map[string]string{"a": "a"}})
	var mu sync.Mutex
	var sawToken bool
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		_, pass, ok := r.BasicAuth()
		sawToken = sawToken || (ok && pass == testToken)
		mu.Unlock()
		http.Redirect(w, r, e.srv.URL+r.URL.RequestURI(), http.StatusFound)
	}))
	defer redirector.Close()
	// The redirector and the git server are both 127.0.0.1: make them two
	// hosts by naming the redirector "localhost".
	u, _ := url.Parse(redirector.URL)
	redirURL := "http://localhost:" + u.Port()
	trusted, err := gitauth.ParseBase(redirURL)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Dir: t.TempDir(), GitBase: trusted})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Open(Remote{Name: testRepo, URL: redirURL + "/" + strings.TrimPrefix(e.srv.RepoURL(testRepo), e.srv.URL+"/"), Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_, err = r.Fetch(context.Background(), "refs/heads/main")
	if err == nil {
		t.Fatal("fetch through a redirect to another host succeeded with the git server requiring the token")
	}
	mu.Lock()
	defer mu.Unlock()
	if !sawToken {
		t.Errorf("the trusted host did not get the token")
	}
	reqs := e.srv.Requests()
	if len(reqs) == 0 {
		t.Fatal("the redirect was not followed")
	}
	for _, req := range reqs {
		if req.User != "" {
			t.Errorf("the redirect's target got credentials: %s %s user %q", req.Method, req.Path, req.User)
		}
	}
}
