package demo

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/publishbot/publishbot/examples"
)

func TestPagesHandler(t *testing.T) {
	site := fstest.MapFS{
		"index.html":         {Data: []byte("home")},
		"posts/a/index.html": {Data: []byte("post a")},
		"404.html":           {Data: []byte("not here")},
		"feed.xml":           {Data: []byte("<feed/>")},
	}
	published := false
	srv := httptest.NewServer(pagesHandler("/blog/", func() (fs.FS, error) {
		if !published {
			return nil, errors.New("no branch")
		}
		return site, nil
	}))
	defer srv.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(p string) (int, string, string) {
		t.Helper()
		resp, err := client.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header.Get("Location")
	}
	if code, body, _ := get("/blog/"); code != 404 || !strings.Contains(body, "not published yet") {
		t.Errorf("before publishing: %d %q", code, body)
	}
	published = true
	for _, c := range []struct {
		path, body, location string
		code                 int
	}{
		{"/", "", "/blog/", http.StatusFound},
		{"/other/", "", "", 404},
		{"/blog/", "home", "", 200},
		{"/blog/posts/a/", "post a", "", 200},
		{"/blog/posts/a", "", "a/", http.StatusMovedPermanently}, // http.ServeFileFS: a folder gets its slash
		{"/blog/feed.xml", "<feed/>", "", 200},
		{"/blog/nope/", "not here", "", 404},
	} {
		code, body, loc := get(c.path)
		if code != c.code || (c.body != "" && body != c.body) || loc != c.location {
			t.Errorf("GET %s = %d %q to %q; want %d %q to %q", c.path, code, body, loc, c.code, c.body, c.location)
		}
	}
}

func TestBlogFiles(t *testing.T) {
	files, err := blogFiles(examples.Blog(), "http://127.0.0.1:8080/blog/")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(files["publish.yaml"], "\nbase_url: http://127.0.0.1:8080/blog/\n") || strings.Contains(files["publish.yaml"], "acme.github.io") {
		t.Errorf("base_url not pointed at the pages stand-in:\n%s", files["publish.yaml"])
	}
	if len(files) < 10 {
		t.Errorf("%d files", len(files))
	}
	if _, err := blogFiles(fstest.MapFS{"posts/a.md": {Data: []byte("x")}}, "http://x/"); err == nil {
		t.Error("a blog without publish.yaml accepted")
	}
}

func TestNewRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:8080", ":8080", "example.com:80", "nonsense"} {
		if _, err := New(t.Context(), Options{Addr: addr, Out: io.Discard}); !errors.Is(err, ErrNotLoopback) {
			t.Errorf("%s: err = %v", addr, err)
		}
	}
}

// TestNewBotFails: a bot that does not start is New's error, and every
// stand-in New started is stopped again.
func TestNewBotFails(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("the git server needs the git command")
	}
	var got BotConfig
	bot := func(ctx context.Context, cfg BotConfig, listening chan<- string) error {
		got = cfg
		return errors.New("no bot today")
	}
	_, err := New(t.Context(), Options{Addr: "127.0.0.1:0", Out: io.Discard, Bot: bot})
	if err == nil || !strings.Contains(err.Error(), "start the bot: no bot today") {
		t.Fatalf("err = %v", err)
	}
	if got.DataDir == "" || len(got.WebhookSecret) < 16 || !strings.HasPrefix(got.GitHubToken, "ghs_") || !strings.HasPrefix(got.GitHubAPIURL, "http://127.0.0.1:") {
		t.Errorf("bot config %+v", got)
	}
}

func TestDeliveryID(t *testing.T) {
	id := newDeliveryID()
	if len(id) != 36 || strings.Count(id, "-") != 4 {
		t.Errorf("delivery id %q", id)
	}
}
