package setup

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/publishbot/publishbot/ghapitest"
)

// full is a fine-grained token with everything the bot needs.
func full() map[string]string {
	return map[string]string{"contents": "write", "pull_requests": "write", "statuses": "write", "metadata": "read", "pages": "read"}
}

func without(perm string) map[string]string {
	p := full()
	delete(p, perm)
	return p
}

func readOnly(perm string) map[string]string {
	p := full()
	p[perm] = "read"
	return p
}

// Each permission a token can lack, and each repository setting that is
// wrong, is named with its fix; nothing is written then. A token with
// everything gets its files.
func TestCheckToken(t *testing.T) {
	const repo = "acme/blog"
	ghPages := ghapitest.Pages{Branch: "gh-pages", Path: "/"}
	for _, tc := range []struct {
		name   string
		access ghapitest.TokenAccess
		token  string // "" is "tok"
		repo   ghapitest.Repository
		pages  *ghapitest.Pages
		kind   string
		// missing are "what: fix" fragments of the Missing checks, in order;
		// none means success.
		missing []string
		warning string
	}{
		{name: "fine-grained, everything", access: ghapitest.TokenAccess{Permissions: full()}, repo: ghapitest.Repository{Private: true, Push: true}, pages: &ghPages, kind: "fine-grained"},
		{name: "classic repo scope", access: ghapitest.TokenAccess{Scopes: []string{"repo", "workflow"}}, repo: ghapitest.Repository{Private: true, Push: true}, pages: &ghPages, kind: "classic"},
		{name: "classic public_repo on a public repository", access: ghapitest.TokenAccess{Scopes: []string{"public_repo"}}, repo: ghapitest.Repository{Push: true}, pages: &ghPages, kind: "classic"},
		{name: "Pages not enabled yet is a warning", access: ghapitest.TokenAccess{Permissions: full()}, repo: ghapitest.Repository{Push: true}, kind: "fine-grained",
			warning: "GitHub Pages: GitHub Pages is not enabled on acme/blog"},

		{name: "bad token", token: "bad-token-value", repo: ghapitest.Repository{Push: true}, pages: &ghPages,
			missing: []string{"the token: make a new one"}},
		{name: "repository not selected", access: ghapitest.TokenAccess{Permissions: full(), Repos: []string{"acme/other"}}, repo: ghapitest.Repository{Push: true}, pages: &ghPages,
			missing: []string{"read acme/blog: fine-grained token: Repository access → Only select repositories → acme/blog"}},
		{name: "no metadata", access: ghapitest.TokenAccess{Permissions: without("metadata")}, repo: ghapitest.Repository{Push: true}, pages: &ghPages,
			missing: []string{"read acme/blog: fine-grained token"}},
		{name: "contents read only", access: ghapitest.TokenAccess{Permissions: readOnly("contents")}, repo: ghapitest.Repository{Push: true}, pages: &ghPages,
			missing: []string{"push to acme/blog: fine-grained token: Repository permissions → Contents: Read and write"}},
		{name: "a user without write access", access: ghapitest.TokenAccess{Permissions: full()}, repo: ghapitest.Repository{Push: false}, pages: &ghPages,
			missing: []string{"push to acme/blog: fine-grained token: Repository permissions → Contents: Read and write"}},
		{name: "no statuses", access: ghapitest.TokenAccess{Permissions: without("statuses")}, repo: ghapitest.Repository{Push: true}, pages: &ghPages,
			missing: []string{"commit statuses: fine-grained token: Repository permissions → Commit statuses: Read and write"}},
		{name: "pull requests read only", access: ghapitest.TokenAccess{Permissions: readOnly("pull_requests")}, repo: ghapitest.Repository{Push: true}, pages: &ghPages,
			missing: []string{"pull request comments: fine-grained token: Repository permissions → Pull requests: Read and write"}},
		{name: "no pages", access: ghapitest.TokenAccess{Permissions: without("pages")}, repo: ghapitest.Repository{Push: true}, pages: &ghPages,
			missing: []string{"GitHub Pages: fine-grained token: Repository permissions → Pages: Read-only"}},
		{name: "everything missing but metadata", access: ghapitest.TokenAccess{Permissions: map[string]string{"metadata": "read"}}, repo: ghapitest.Repository{Push: true}, pages: &ghPages,
			missing: []string{"push to", "commit statuses", "pull request comments", "GitHub Pages: fine-grained token"}},
		{name: "classic without repo on a private repository", access: ghapitest.TokenAccess{Scopes: []string{"public_repo"}}, repo: ghapitest.Repository{Private: true, Push: true}, pages: &ghPages,
			missing: []string{"read acme/blog: classic token: the repo scope"}},
		{name: "classic without scopes on a public repository", access: ghapitest.TokenAccess{Scopes: []string{"read:user"}}, repo: ghapitest.Repository{Push: true}, pages: &ghPages, kind: "classic",
			missing: []string{"token scopes: give the classic token the public_repo (or repo) scope", "commit statuses: the classic token needs the repo scope", "pull request comments: give the classic token"}},
		{name: "Pages serves main", access: ghapitest.TokenAccess{Permissions: full()}, repo: ghapitest.Repository{Push: true}, pages: &ghapitest.Pages{Branch: "main", Path: "/"},
			missing: []string{"GitHub Pages: Settings → Pages → Build and deployment → Source: Deploy from a branch; Branch: gh-pages, / (root)"}},
		{name: "Pages serves gh-pages /docs", access: ghapitest.TokenAccess{Permissions: full()}, repo: ghapitest.Repository{Push: true}, pages: &ghapitest.Pages{Branch: "gh-pages", Path: "/docs"},
			missing: []string{"GitHub Pages: Settings → Pages"}},
		{name: "Pages from a workflow", access: ghapitest.TokenAccess{Permissions: full()}, repo: ghapitest.Repository{Push: true}, pages: &ghapitest.Pages{BuildType: "workflow"},
			missing: []string{"GitHub Pages: Settings → Pages → Build and deployment → Source: Deploy from a branch"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gh := standIn(t, ghapitest.Options{Token: "the-only-other-token"})
			gh.SetRepository(repo, tc.repo)
			if tc.pages != nil {
				gh.SetPages(repo, *tc.pages)
			}
			gh.SetTokenAccess("tok", tc.access)
			web, api := addresses(t, gh)
			dir := filepath.Join(t.TempDir(), "data")
			token := tc.token
			if token == "" {
				token = "tok"
			}
			var out syncBuffer
			rep, err := CheckToken(context.Background(), TokenOptions{
				Token: token, Repo: repo, WebURL: web, APIURL: api, BotURL: "https://bot.example.net",
				DataDir: dir, Out: &out, Now: func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) },
			})
			text := out.String()
			t.Log(text)
			if strings.Contains(text, token) && token != "tok" || strings.Contains(text, "=tok") {
				t.Errorf("the token was printed:\n%s", text)
			}
			if tc.kind != "" && rep.Kind != tc.kind {
				t.Errorf("kind %q, want %q", rep.Kind, tc.kind)
			}
			if len(tc.missing) > 0 {
				if !errors.Is(err, ErrTokenLacks) {
					t.Fatalf("CheckToken = %v, want ErrTokenLacks\n%s", err, text)
				}
				got := rep.Missing()
				if len(got) != len(tc.missing) {
					t.Fatalf("missing %+v, want %d: %q\n%s", got, len(tc.missing), tc.missing, text)
				}
				for i, want := range tc.missing {
					if line := got[i].What + ": " + got[i].Fix; !strings.HasPrefix(line, want) {
						t.Errorf("missing[%d] = %q, want %q…", i, line, want)
					}
				}
				if !strings.Contains(text, "fix: ") || !strings.Contains(text, "Nothing was written") {
					t.Errorf("output:\n%s", text)
				}
				if _, err := os.Stat(dir); err == nil {
					t.Errorf("files were written")
				}
				return
			}
			if err != nil {
				t.Fatalf("CheckToken: %v\n%s", err, text)
			}
			if tc.warning != "" {
				found := false
				for _, c := range rep.Checks {
					if c.Result == Warning && strings.HasPrefix(c.What+": "+c.Detail, tc.warning) {
						found = true
					}
				}
				if !found {
					t.Errorf("no warning %q in %+v", tc.warning, rep.Checks)
				}
			}
			secret, _ := os.ReadFile(filepath.Join(dir, WebhookSecretFile))
			if len(strings.TrimSpace(string(secret))) != 64 {
				t.Fatalf("webhook secret %q", secret)
			}
			assertFiles(t, dir, map[string]string{
				TokenFile:         "tok\n",
				WebhookSecretFile: string(secret),
				EnvFileName: "# Written by `publishbot setup` on 2026-12-01 for a token on acme/blog.\n" +
					"# `publishbot serve` reads this file (PUBLISHBOT_ENV_FILE, default <data dir>/publishbot.env);\n" +
					"# the environment and flags override it. Relative paths are relative to this file's folder.\n" +
					"PUBLISHBOT_GITHUB_TOKEN_FILE=github-token\n" +
					"PUBLISHBOT_WEBHOOK_SECRET_FILE=webhook-secret\n" +
					"PUBLISHBOT_REPOSITORIES=acme/blog\n" +
					"PUBLISHBOT_GITHUB_API_URL=" + gh.URL() + "api/v3/\n",
			})
			for _, want := range []string{
				gh.URL() + "acme/blog/settings/hooks/new", "Payload URL:   https://bot.example.net/webhook",
				"Content type:  application/json (the bot answers form-encoded deliveries with 415)",
				"Pushes, Pull requests", "publishbot serve --data-dir " + dir,
			} {
				if !strings.Contains(text, want) {
					t.Errorf("output lacks %q:\n%s", want, text)
				}
			}
			if strings.Contains(text, strings.TrimSpace(string(secret))) {
				t.Errorf("the webhook secret was printed")
			}
			// The probes changed nothing on GitHub.
			if n := len(gh.Statuses(repo)); n != 0 {
				t.Errorf("%d statuses created", n)
			}
			if n := len(gh.Comments(repo, 0)); n != 0 {
				t.Errorf("%d comments created", n)
			}
		})
	}
}
