package ghapitest

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	jwt "github.com/golang-jwt/jwt/v4"
	"github.com/google/go-github/v62/github"
)

const goodManifest = `{"name":"publishbot-acme","url":"https://bot.example.net/","hook_attributes":{"url":"https://bot.example.net/webhook","active":true},` +
	`"redirect_url":"http://127.0.0.1:1/callback","public":false,"default_permissions":{"contents":"write","metadata":"read"},"default_events":["push","pull_request"]}`

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// createApp walks the manifest flow and returns the code of the redirect.
func createApp(t *testing.T, s *Server, path, manifest, state string) string {
	t.Helper()
	resp, err := noRedirect.PostForm(s.URL()+strings.TrimPrefix(path, "/")+"?state="+state, url.Values{"manifest": {manifest}})
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("new App page: %d\n%s", resp.StatusCode, body)
	}
	id := regexp.MustCompile(`name="pending" value="([0-9a-f]+)"`).FindStringSubmatch(body)
	if id == nil {
		t.Fatalf("no confirmation form:\n%s", body)
	}
	resp, err = noRedirect.PostForm(s.URL()+"settings/apps/new/confirm", url.Values{"pending": {id[1]}})
	if err != nil {
		t.Fatal(err)
	}
	readAll(resp)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("confirmation: %d", resp.StatusCode)
	}
	to, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || to.Host != "127.0.0.1:1" || to.Path != "/callback" || to.Query().Get("state") != state {
		t.Fatalf("redirect to %q", resp.Header.Get("Location"))
	}
	return to.Query().Get("code")
}

func readAll(resp *http.Response) string {
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// The manifest flow: the code converts once, under /api/v3/ as on an
// Enterprise Server, into a working key whose JWTs the server then takes
// for installation tokens, and nobody else's.
func TestManifestFlow(t *testing.T) {
	s := withAPI(t, Options{})
	code := createApp(t, s, "/organizations/acme/settings/apps/new", goodManifest, "s1")
	c := github.NewClient(nil)
	c.BaseURL, _ = url.Parse(s.URL() + "api/v3/")
	cfg, _, err := c.Apps.CompleteAppManifest(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	apps := s.Apps()
	if len(apps) != 1 {
		t.Fatalf("%d apps", len(apps))
	}
	a := apps[0]
	if cfg.GetID() != a.ID || cfg.GetSlug() != "publishbot-acme" || cfg.GetOwner().GetLogin() != "acme" ||
		cfg.GetWebhookSecret() != a.WebhookSecret || cfg.GetPEM() != a.PEM || cfg.GetHTMLURL() != s.URL()+"apps/publishbot-acme" {
		t.Errorf("conversion %+v, app %+v", cfg, a)
	}
	if a.Permissions["contents"] != "write" || strings.Join(a.Events, ",") != "push,pull_request" || a.HookURL != "https://bot.example.net/webhook" {
		t.Errorf("app %+v", a)
	}
	if _, resp, err := c.Apps.CompleteAppManifest(context.Background(), code); err == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("a second conversion: %v", err)
	}
	if p := s.Problems(); len(p) != 0 {
		t.Errorf("problems: %v", p)
	}

	block, _ := pem.Decode([]byte(cfg.GetPEM()))
	key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sign := func(issuer string) string {
		tok, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.RegisteredClaims{
			Issuer: issuer, IssuedAt: jwt.NewNumericDate(time.Now()), ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Minute)),
		}).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	for _, tc := range []struct {
		jwt  string
		want int
	}{
		{sign(strconv.FormatInt(a.ID, 10)), http.StatusCreated},
		{sign("1"), http.StatusUnauthorized}, // another App's id
		{"not-a-jwt", http.StatusUnauthorized},
	} {
		req, _ := http.NewRequest(http.MethodPost, s.URL()+"app/installations/7/access_tokens", nil)
		req.Header.Set("Authorization", "Bearer "+tc.jwt)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readAll(resp)
		if resp.StatusCode != tc.want {
			t.Errorf("installation token with %.20s…: %d, want %d", tc.jwt, resp.StatusCode, tc.want)
		}
	}
}

// A manifest GitHub would refuse gets a 422 page naming what is wrong.
func TestManifestRefused(t *testing.T) {
	s := start(t, Options{})
	for _, tc := range []struct{ manifest, want string }{
		{``, "manifest is missing"},
		{`[1]`, "not a JSON object"},
		{`{"url":"https://x.example"}`, "name can&#39;t be blank"},
		{`{"name":"x","url":"ftp://x"}`, "url must be an http(s) URL"},
		{`{"name":"x","url":"https://x.example","default_events":["push"]}`, "default_events need an active webhook"},
		{`{"name":"x","url":"https://x.example","hook_attributes":{"url":"https://x.example/w"},"default_events":["pushes"]}`, "unknown event pushes"},
		{`{"name":"x","url":"https://x.example","default_permissions":{"contents":"admin"}}`, `permission contents: &#34;admin&#34;, want read or write`},
		{`{"name":"x","url":"https://x.example","default_permissions":{"pull_request":"write"}}`, "unknown permission pull_request"},
		{`{"name":"x","url":"https://x.example","hook":{}}`, "unknown manifest field hook"},
	} {
		resp, err := http.PostForm(s.URL()+"settings/apps/new?state=x", url.Values{"manifest": {tc.manifest}})
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(resp)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d\n%s\nwant %q", tc.manifest, resp.StatusCode, body, tc.want)
		}
	}
	if resp, err := http.Get(s.URL() + "settings/apps/new"); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %v %v", resp, err)
	}
	if len(s.Apps()) != 0 {
		t.Errorf("apps created")
	}
}

// Limited tokens: a fine-grained token lacking a permission gets 403 with
// the permission named; a classic token's scopes come back in
// X-OAuth-Scopes; repositories and Pages sites answer as set.
func TestTokenAccess(t *testing.T) {
	s := withAPI(t, Options{Token: "static"})
	s.SetRepository("acme/blog", Repository{Private: true, Push: true, DefaultBranch: "trunk"})
	s.SetPages("acme/blog", Pages{Branch: "main", Path: "/docs"})
	s.SetTokenAccess("fine", TokenAccess{Permissions: map[string]string{"metadata": "read", "contents": "read"}})
	s.SetTokenAccess("classic", TokenAccess{Scopes: []string{"repo", "gist"}})
	ctx := context.Background()

	repo, resp, err := client(t, s, "fine").Repositories.Get(ctx, "acme", "blog")
	if err != nil || repo.GetDefaultBranch() != "trunk" || repo.GetPermissions()["push"] || resp.Header.Get("X-OAuth-Scopes") != "" {
		t.Errorf("fine-grained read: %v %+v", err, repo)
	}
	_, resp, err = client(t, s, "fine").Repositories.CreateStatus(ctx, "acme", "blog", sha, &github.RepoStatus{State: github.String("success")})
	if err == nil || resp.StatusCode != http.StatusForbidden || resp.Header.Get("X-Accepted-GitHub-Permissions") != "statuses=write" {
		t.Errorf("fine-grained status: %v", err)
	}
	_, resp, err = client(t, s, "fine").Repositories.GetPagesInfo(ctx, "acme", "blog")
	if err == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("fine-grained pages: %v", err)
	}
	repo, resp, err = client(t, s, "classic").Repositories.Get(ctx, "acme", "blog")
	if err != nil || !repo.GetPermissions()["push"] || resp.Header.Get("X-OAuth-Scopes") != "repo, gist" {
		t.Errorf("classic read: %v %+v %v", err, repo, resp.Header)
	}
	pages, _, err := client(t, s, "classic").Repositories.GetPagesInfo(ctx, "acme", "blog")
	if err != nil || pages.GetSource().GetBranch() != "main" || pages.GetSource().GetPath() != "/docs" || pages.GetBuildType() != "legacy" {
		t.Errorf("pages: %v %+v", err, pages)
	}
	_, resp, err = client(t, s, "classic").Repositories.CreateStatus(ctx, "acme", "blog", strings.Repeat("0", 40), &github.RepoStatus{State: github.String("pending")})
	if err == nil || resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a status on no commit: %v", err)
	}
	if _, resp, err = client(t, s, "classic").Repositories.Get(ctx, "acme", "other"); err == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown repository: %v", err)
	}
	if _, resp, err = client(t, s, "nobody").Repositories.Get(ctx, "acme", "blog"); err == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("an unknown token: %v", err)
	}
	if p := s.Problems(); len(p) != 0 {
		t.Errorf("problems: %v", p)
	}
}
