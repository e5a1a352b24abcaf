package ghapi

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"testing"

	"github.com/publishbot/publishbot/ghapitest"
	"github.com/publishbot/publishbot/pageswatch"
	"github.com/publishbot/publishbot/preflight"
	"github.com/publishbot/publishbot/queue"
)

func projectAPIServer(t *testing.T, opts ghapitest.Options) *ghapitest.Server {
	t.Helper()
	api, err := ghapitest.ProjectAPI()
	if err != nil {
		t.Fatal(err)
	}
	opts.API = api
	return ghapitest.StartT(t, opts)
}

// The Pages, Pages build and webhook calls, answered by the stand-in and
// checked against the project's API description (openapi-pages.json).
func TestPagesHooksAndBuilds(t *testing.T) {
	srv := projectAPIServer(t, ghapitest.Options{Token: "tok"})
	c, err := NewTokenClient("tok", srv.URL(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	repo := queue.Repo{FullName: "acme/blog"}

	if p, err := c.PagesSite(ctx, repo); err != nil || p.Enabled {
		t.Fatalf("no Pages site: %+v, %v", p, err)
	}
	if _, err := c.LatestPagesBuild(ctx, repo); !errors.Is(err, pageswatch.ErrNoPages) {
		t.Fatalf("latest build without Pages: %v, want ErrNoPages", err)
	}
	if _, readable, err := c.Hooks(ctx, repo); readable || err != nil {
		t.Fatalf("hooks not readable: %v, %v", readable, err)
	}

	head := "1111111111111111111111111111111111111111"
	srv.SetPages("acme/blog", ghapitest.Pages{Branch: "main", Path: "/docs", Head: func() string { return head }, BuildingPolls: 2})
	p, err := c.PagesSite(ctx, repo)
	want := preflight.Pages{Enabled: true, Branch: "main", Path: "/docs", BuildType: "legacy", URL: "https://acme.github.io/blog/"}
	if err != nil || p != want {
		t.Fatalf("PagesSite = %+v, %v; want %+v", p, err, want)
	}
	for i, status := range []string{"building", "building", "built"} {
		b, err := c.LatestPagesBuild(ctx, repo)
		if err != nil || b.Commit != head || b.Status != status {
			t.Fatalf("poll %d: %+v, %v; want %s", i+1, b, err, status)
		}
	}
	srv.SetPages("acme/blog", ghapitest.Pages{Head: func() string { return head }, FailBuild: "Page build failed."})
	head = "2222222222222222222222222222222222222222"
	c.LatestPagesBuild(ctx, repo)
	if b, err := c.LatestPagesBuild(ctx, repo); err != nil || b.Status != "errored" || b.Error != "Page build failed." {
		t.Fatalf("failing build: %+v, %v", b, err)
	}

	srv.SetHooks("acme/blog", []ghapitest.Hook{{URL: "https://bot.example/webhook", ContentType: "form", Events: []string{"push"}, Active: true}})
	hooks, readable, err := c.Hooks(ctx, repo)
	if err != nil || !readable || len(hooks) != 1 || hooks[0].ContentType != "form" || hooks[0].URL != "https://bot.example/webhook" || len(hooks[0].Events) != 1 {
		t.Fatalf("Hooks = %+v, %v, %v", hooks, readable, err)
	}
	if _, known, _ := c.Permissions(ctx, repo); known {
		t.Error("a token's permissions were reported known")
	}
}

func TestAppPermissions(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	srv := projectAPIServer(t, ghapitest.Options{AppID: 42, AppKey: &key.PublicKey, AppPermissions: map[string]string{"contents": "read", "metadata": "read"}})
	c, err := NewAppClient(42, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), srv.URL(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	perms, known, err := c.Permissions(context.Background(), queue.Repo{FullName: "acme/blog", InstallationID: 7})
	if err != nil || !known || perms["contents"] != "read" || perms["metadata"] != "read" || len(perms) != 2 {
		t.Fatalf("Permissions = %v, %v, %v", perms, known, err)
	}
}
