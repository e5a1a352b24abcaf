package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/publishbot/publishbot/browsertest"
	"github.com/publishbot/publishbot/webhooktest"
)

// lineWatcher keeps what a command prints and reports the first line
// matching re.
type lineWatcher struct {
	mu    sync.Mutex
	lines []string
	match chan []string
	pw    *io.PipeWriter
}

func newLineWatcher(re *regexp.Regexp) *lineWatcher {
	pr, pw := io.Pipe()
	lw := &lineWatcher{match: make(chan []string, 1), pw: pw}
	go func() {
		sc := bufio.NewScanner(pr)
		found := false
		for sc.Scan() {
			lw.mu.Lock()
			lw.lines = append(lw.lines, sc.Text())
			lw.mu.Unlock()
			if m := re.FindStringSubmatch(sc.Text()); m != nil && !found {
				found = true
				lw.match <- m
			}
		}
		io.Copy(io.Discard, pr)
	}()
	return lw
}

func (lw *lineWatcher) Write(p []byte) (int, error) { return lw.pw.Write(p) }

func (lw *lineWatcher) String() string {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return strings.Join(lw.lines, "\n")
}

// A new user's path to a running bot, end to end: `publishbot setup` serves
// its page, headless Chromium submits the form to the GitHub stand-in,
// confirms the App there and follows the redirect back; setup writes the
// App's files (mode 0600) and publishbot.env and prints the installation
// link and the commands. Then `publishbot serve`, given only the data
// folder, accepts a push signed with the written secret (and refuses the
// old one), and publishes it with an installation token it got with the
// written key.
func TestSetupInBrowserThenServe(t *testing.T) {
	bctx := browsertest.New(t, 2*time.Minute)
	w := newWorld(t, true)
	dir := w.dataDir
	out := newLineWatcher(regexp.MustCompile(`^Open (http://127\.0\.0\.1:\d+/) in a browser`))
	var stderr strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"setup", "--url", "http://localhost:8080", "--github-url", w.api.URL(), "--data-dir", dir},
			envMap(nil), out, &stderr)
		out.pw.Close()
	}()
	var page string
	select {
	case m := <-out.match:
		page = m[1]
	case err := <-done:
		t.Fatalf("setup returned before serving its page: %v\n%s\n%s", err, out.String(), stderr.String())
	case <-ctx.Done():
		t.Fatalf("setup did not serve its page:\n%s", out.String())
	}

	if err := chromedp.Do(bctx,
		chromedp.Navigate(page),
		chromedp.WaitVisible(chromedp.CSS("#register")),
	); err != nil {
		t.Fatalf("browser: %v\n%s", err, out.String())
	}
	shot(t, bctx, "setup-page.png")
	if err := chromedp.Do(bctx,
		chromedp.Click(chromedp.CSS("#register")),
		chromedp.WaitVisible(chromedp.CSS("#confirm")), // the stand-in's "Create GitHub App for octocat"
		chromedp.Click(chromedp.CSS("#confirm")),
		chromedp.WaitVisible(chromedp.CSS("#install")), // back on the setup page
	); err != nil {
		t.Fatalf("browser: %v\n%s", err, out.String())
	}
	link, err := chromedp.Run(bctx, chromedp.AttributeValue(chromedp.CSS("#install"), "href"))
	if err != nil {
		t.Fatal(err)
	}
	install := link.Value
	shot(t, bctx, "setup-done.png")
	heading, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("h1")))
	if err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("setup: %v\n%s\n%s", err, out.String(), stderr.String())
	}
	apps := w.api.Apps()
	if len(apps) != 1 {
		t.Fatalf("%d apps created", len(apps))
	}
	app := apps[0]
	wantInstall := w.api.URL() + "apps/" + app.Slug + "/installations/new"
	if install != wantInstall || heading != "publishbot is registered" {
		t.Errorf("last page: %q with link %q, want %q", heading, install, wantInstall)
	}
	if app.HookURL != "http://localhost:8080/webhook" || app.Owner != "octocat" {
		t.Errorf("app %+v", app)
	}

	id := strconv.FormatInt(app.ID, 10)
	for name, want := range map[string]string{
		"github-app-id":  id + "\n",
		"github-app.pem": app.PEM,
		"webhook-secret": app.WebhookSecret + "\n",
	} {
		assertSecretFile(t, filepath.Join(dir, name), want)
	}
	env, err := os.ReadFile(filepath.Join(dir, "publishbot.env"))
	if err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(filepath.Join(dir, "publishbot.env")); info.Mode().Perm() != 0o600 {
		t.Errorf("publishbot.env has mode %v", info.Mode().Perm())
	}
	wantEnv := "PUBLISHBOT_APP_ID=" + id + "\nPUBLISHBOT_APP_PRIVATE_KEY_FILE=github-app.pem\n" +
		"PUBLISHBOT_WEBHOOK_SECRET_FILE=webhook-secret\nPUBLISHBOT_GITHUB_API_URL=" + w.api.URL() + "api/v3/\n"
	if !strings.HasSuffix(string(env), wantEnv) || !strings.HasPrefix(string(env), "# Written by `publishbot setup` on ") {
		t.Errorf("publishbot.env =\n%s\nwant it to end with\n%s", env, wantEnv)
	}
	printed := out.String()
	for _, want := range []string{
		fmt.Sprintf("Created the GitHub App %s (id %s), owned by octocat", app.Name, id),
		"  " + wantInstall,
		"  publishbot serve --data-dir " + dir,
		`--user "$(id -u):$(id -g)" -p 8080:8080 -v ` + dir + ":/data publishbot serve",
	} {
		if !strings.Contains(printed, want) {
			t.Errorf("setup did not print %q:\n%s", want, printed)
		}
	}
	if strings.Contains(printed+stderr.String(), app.WebhookSecret) || strings.Contains(printed+stderr.String(), "PRIVATE KEY") {
		t.Errorf("setup printed a secret:\n%s", printed)
	}

	// serve with nothing but the data folder: the world's own secret, App
	// id, key and API address are blanked, so the env file's are used.
	s := w.startServe(map[string]string{
		"PUBLISHBOT_WEBHOOK_SECRET": "", "PUBLISHBOT_APP_ID": "", "PUBLISHBOT_APP_PRIVATE_KEY_FILE": "", "PUBLISHBOT_GITHUB_API_URL": "",
	})
	sha := w.initialContent()
	body := w.pushPayload(sha)
	deliver := func(secret, delivery string) int {
		t.Helper()
		req, err := webhooktest.NewRequest(context.Background(), "http://"+s.addr+"/webhook", []byte(secret), "push", delivery, body)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := w.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := deliver(e2eSecret, "setup-old-secret"); code != http.StatusUnauthorized {
		t.Errorf("a push signed with another secret: %d, want 401", code)
	}
	if code := deliver(app.WebhookSecret, "setup-1"); code != http.StatusAccepted {
		t.Fatalf("a push signed with the written secret: %d, want 202\n%s", code, s.logs.String())
	}
	w.waitPublished(sha, 2*time.Minute)
	if n := w.api.Count("apps/create-installation-access-token"); n == 0 {
		t.Errorf("no installation token was minted")
	}
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(s.logs.String(), app.WebhookSecret) {
		t.Errorf("serve logged the webhook secret")
	}
}

func assertSecretFile(t *testing.T, path, want string) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", filepath.Base(path), info.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	if string(b) != want {
		t.Errorf("%s holds %d bytes, not what GitHub handed over", filepath.Base(path), len(b))
	}
}

// shot saves a screenshot of the page to the test's artifact folder.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join(t.ArtifactDir(), name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
