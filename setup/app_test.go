package setup

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/publishbot/publishbot/ghapitest"
	"github.com/publishbot/publishbot/gitauth"
)

// standIn is the GitHub stand-in checking every API request against the
// project's copy of GitHub's description.
func standIn(t *testing.T, opts ghapitest.Options) *ghapitest.Server {
	t.Helper()
	api, err := ghapitest.ProjectAPI()
	if err != nil {
		t.Fatal(err)
	}
	opts.API = api
	return ghapitest.StartT(t, opts)
}

// addresses are the stand-in's web and API addresses, as for an
// Enterprise Server.
func addresses(t *testing.T, gh *ghapitest.Server) (web, api *url.URL) {
	t.Helper()
	web, err := gitauth.ParseBase(gh.URL())
	if err != nil {
		t.Fatal(err)
	}
	api, err = gitauth.APIForBase(web.String())
	if err != nil {
		t.Fatal(err)
	}
	return web, api
}

// syncBuffer is a bytes.Buffer safe for the flow's and the test's
// goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startFlow runs RegisterApp in a goroutine and returns the page's address
// and the result channel.
func startFlow(t *testing.T, o AppOptions) (string, <-chan flowResult) {
	t.Helper()
	ready := make(chan string, 1)
	o.Ready = func(p string) { ready <- p }
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	done := make(chan flowResult, 1)
	go func() {
		reg, err := RegisterApp(ctx, o)
		done <- flowResult{reg, err}
	}()
	select {
	case p := <-ready:
		return p, done
	case r := <-done:
		t.Fatalf("RegisterApp returned before serving its page: %v", r.err)
	}
	return "", nil
}

// formOf finds the first form of an HTML page: its action and fields.
func formOf(t *testing.T, page string) (string, url.Values) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var action string
	fields := url.Values{}
	found := false
	var walk func(n *html.Node, inForm bool)
	walk = func(n *html.Node, inForm bool) {
		if n.Type == html.ElementNode && n.Data == "form" && !found {
			found, inForm = true, true
			for _, a := range n.Attr {
				if a.Key == "action" {
					action = a.Val
				}
			}
		}
		if inForm && n.Type == html.ElementNode && n.Data == "input" {
			var name, value string
			for _, a := range n.Attr {
				switch a.Key {
				case "name":
					name = a.Val
				case "value":
					value = a.Val
				}
			}
			fields.Set(name, value)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, inForm)
		}
	}
	walk(doc, false)
	if !found {
		t.Fatalf("no form on the page:\n%s", page)
	}
	return action, fields
}

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func post(t *testing.T, c *http.Client, u string, form url.Values) (int, string, string) {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Request.URL.String()
}

// The whole manifest flow as a browser walks it: the setup page's form to
// the stand-in's new-App page, its confirmation, GitHub's redirect back
// with the code; then the files, their modes and the env file.
func TestRegisterAppFlow(t *testing.T) {
	for _, org := range []string{"", "acme"} {
		t.Run("org="+org, func(t *testing.T) {
			gh := standIn(t, ghapitest.Options{})
			web, api := addresses(t, gh)
			dir := filepath.Join(t.TempDir(), "data")
			var out syncBuffer
			page, done := startFlow(t, AppOptions{
				BotURL: "https://bot.example.net/", WebURL: web, APIURL: api, Org: org, DataDir: dir, Out: &out,
				Now: func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) },
			})
			jar, _ := cookiejar.New(nil)
			browser := &http.Client{Jar: jar, Timeout: time.Minute}
			status, body := get(t, browser, page)
			if status != http.StatusOK {
				t.Fatalf("setup page: %d\n%s", status, body)
			}
			action, fields := formOf(t, body)
			wantAction := web.String() + "settings/apps/new?state="
			if org != "" {
				wantAction = web.String() + "organizations/acme/settings/apps/new?state="
			}
			if !strings.HasPrefix(action, wantAction) {
				t.Fatalf("form action %q, want %q…", action, wantAction)
			}
			status, body, _ = post(t, browser, action, fields)
			if status != http.StatusOK {
				t.Fatalf("GitHub's new-App page: %d\n%s", status, body)
			}
			confirm, cfields := formOf(t, body)
			status, body, landed := post(t, browser, web.String()+strings.TrimPrefix(confirm, "/"), cfields)
			if status != http.StatusOK || !strings.HasPrefix(landed, page+"callback?") {
				t.Fatalf("after confirming: %d at %s\n%s", status, landed, body)
			}
			r := <-done
			if r.err != nil {
				t.Fatalf("RegisterApp: %v", r.err)
			}
			apps := gh.Apps()
			if len(apps) != 1 {
				t.Fatalf("%d apps created", len(apps))
			}
			app := apps[0]
			owner := ghapitest.UserLogin
			if org != "" {
				owner = org
			}
			if app.Owner != owner || app.HookURL != "https://bot.example.net/webhook" || app.Name != "publishbot-bot" {
				t.Errorf("app %+v", app)
			}
			for k, v := range Permissions() {
				if app.Permissions[k] != v {
					t.Errorf("permission %s = %q, want %q", k, app.Permissions[k], v)
				}
			}
			if strings.Join(app.Events, ",") != "push,pull_request" {
				t.Errorf("events %v", app.Events)
			}
			reg := r.reg
			wantInstall := gh.URL() + "apps/" + app.Slug + "/installations/new"
			if reg.AppID != app.ID || reg.InstallURL != wantInstall || reg.Owner != owner {
				t.Errorf("registration %+v, want id %d and %s", reg, app.ID, wantInstall)
			}
			if !strings.Contains(body, wantInstall) {
				t.Errorf("the last page has no installation link:\n%s", body)
			}
			id := strconv.FormatInt(app.ID, 10)
			wantFiles := map[string]string{
				AppIDFile:         id + "\n",
				PrivateKeyFile:    app.PEM,
				WebhookSecretFile: app.WebhookSecret + "\n",
				EnvFileName: "# Written by `publishbot setup` on 2026-12-01 for the GitHub App " + app.Slug + " (id " + id + ").\n" +
					"# `publishbot serve` reads this file (PUBLISHBOT_ENV_FILE, default <data dir>/publishbot.env);\n" +
					"# the environment and flags override it. Relative paths are relative to this file's folder.\n" +
					"PUBLISHBOT_APP_ID=" + id + "\n" +
					"PUBLISHBOT_APP_PRIVATE_KEY_FILE=github-app.pem\n" +
					"PUBLISHBOT_WEBHOOK_SECRET_FILE=webhook-secret\n" +
					"PUBLISHBOT_GITHUB_API_URL=" + gh.URL() + "api/v3/\n",
			}
			assertFiles(t, dir, wantFiles)
			text := out.String()
			for _, want := range []string{"Open " + page + " in a browser", wantInstall, "publishbot serve --data-dir " + dir,
				"-v " + dir + ":/data publishbot serve", `--user "$(id -u):$(id -g)"`} {
				if !strings.Contains(text, want) {
					t.Errorf("output lacks %q:\n%s", want, text)
				}
			}
			for _, secret := range []string{app.WebhookSecret, "PRIVATE KEY", app.ClientSecret} {
				if strings.Contains(text, secret) || strings.Contains(body, secret) {
					t.Errorf("a secret was shown")
				}
			}
			// The flow is over: the page is gone, or refuses a second redirect.
			if resp, err := browser.Get(landed); err == nil {
				resp.Body.Close()
				if resp.StatusCode != http.StatusGone {
					t.Errorf("a second redirect: %d", resp.StatusCode)
				}
			}
			if n := gh.Count("apps/create-from-manifest"); n != 1 {
				t.Errorf("%d conversions", n)
			}
		})
	}
}

// assertFiles checks each file's content and mode 0600.
func assertFiles(t *testing.T, dir string, want map[string]string) {
	t.Helper()
	for name, content := range want {
		p := filepath.Join(dir, name)
		info, err := os.Stat(p)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", name, info.Mode().Perm())
		}
		b, _ := os.ReadFile(p)
		if string(b) != content {
			t.Errorf("%s =\n%s\nwant\n%s", name, b, content)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != len(want) {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("the data folder holds %v, want only %d files", names, len(want))
	}
}

// A redirect that does not carry the form's state, a page asked for under
// another host name, and a second callback are refused; nothing is written.
func TestRegisterAppRefuses(t *testing.T) {
	gh := standIn(t, ghapitest.Options{})
	web, api := addresses(t, gh)
	dir := t.TempDir()
	page, done := startFlow(t, AppOptions{BotURL: "https://bot.example.net", WebURL: web, APIURL: api, DataDir: dir})
	c := &http.Client{Timeout: time.Minute}
	if status, body := get(t, c, page+"callback?code=abc&state=not-the-state"); status != http.StatusBadRequest || !strings.Contains(body, "state") {
		t.Errorf("wrong state: %d\n%s", status, body)
	}
	req, _ := http.NewRequest(http.MethodGet, page, nil)
	req.Host = "rebound.example:80"
	if resp, err := c.Do(req); err != nil || resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("another host name: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if resp, err := c.PostForm(page, url.Values{"x": {"1"}}); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files written: %v", entries)
	}
	select {
	case r := <-done:
		t.Fatalf("the flow ended: %v", r.err)
	default:
	}
	// A code GitHub does not know (expired, used): the conversion's 404 ends
	// the flow with an error that names it.
	_, body := get(t, c, page)
	action, _ := formOf(t, body)
	state, _ := url.ParseQuery(action[strings.Index(action, "?")+1:])
	status, body := get(t, c, page+"callback?code=unknown&state="+url.QueryEscape(state.Get("state")))
	if status != http.StatusBadGateway {
		t.Errorf("unknown code: %d\n%s", status, body)
	}
	if r := <-done; r.err == nil || !strings.Contains(r.err.Error(), "404") {
		t.Errorf("RegisterApp = %v, want the conversion's 404", r.err)
	}
}

func TestRegisterAppChecksFirst(t *testing.T) {
	gh := standIn(t, ghapitest.Options{})
	web, api := addresses(t, gh)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, EnvFileName), []byte("PUBLISHBOT_ADDR=:1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		o    AppOptions
		want string
	}{
		{AppOptions{BotURL: "https://bot.example.net", DataDir: dir}, "already holds publishbot credentials: publishbot.env"},
		{AppOptions{BotURL: "http://bot.example.net", DataDir: t.TempDir()}, "want the bot's public https:// address"},
		{AppOptions{BotURL: "https://bot.example.net/?x=1", DataDir: t.TempDir()}, "without credentials, query or fragment"},
		{AppOptions{BotURL: "https://bot.example.net", Org: "-bad", DataDir: t.TempDir()}, "not a GitHub organisation name"},
		{AppOptions{BotURL: "https://bot.example.net", Listen: "0.0.0.0:0", DataDir: t.TempDir()}, "only on a loopback address"},
	} {
		tc.o.WebURL, tc.o.APIURL = web, api
		_, err := RegisterApp(context.Background(), tc.o)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("RegisterApp(%+v) = %v, want %q", tc.o, err, tc.want)
		}
	}
}

func TestWebhookURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://bot.example.net":               "https://bot.example.net/webhook",
		"https://bot.example.net/":              "https://bot.example.net/webhook",
		"https://example.net/publishbot/":       "https://example.net/publishbot/webhook",
		"https://bot.example.net/webhook":       "https://bot.example.net/webhook",
		"http://127.0.0.1:8080":                 "http://127.0.0.1:8080/webhook",
		"https://example.net/hooks/publishbot/": "https://example.net/hooks/publishbot/webhook",
	} {
		got, err := WebhookURL(in)
		if err != nil || got != want {
			t.Errorf("WebhookURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
