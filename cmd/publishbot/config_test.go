package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/publishbot/publishbot/gitauth"
	"github.com/publishbot/publishbot/queue"
	"github.com/publishbot/publishbot/webhook"
)

// nopQueue takes jobs and drops them.
type nopQueue struct{}

func (nopQueue) Enqueue(context.Context, queue.Job) error { return nil }

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestServeConfigLayers(t *testing.T) {
	env := map[string]string{
		"PUBLISHBOT_WEBHOOK_SECRET":     "hush-hush-hush",
		"PUBLISHBOT_GITHUB_TOKEN":       "ghp_0123456789abcdefghijklmn",
		"PUBLISHBOT_ADDR":               "127.0.0.1:9000",
		"PUBLISHBOT_DATA_DIR":           "/var/lib/publishbot",
		"PUBLISHBOT_LOG_FORMAT":         "text",
		"PUBLISHBOT_WORKERS":            "3",
		"PUBLISHBOT_RECONCILE_INTERVAL": "1m",
		"PUBLISHBOT_IGNORE_BRANCHES":    "gh-pages, refs/heads/site ,",
	}
	var stderr bytes.Buffer
	cfg, _, err := parseServeConfig([]string{"--addr", "127.0.0.1:0", "--workers", "4"}, envMap(env), &stderr)
	if err != nil {
		t.Fatal(err)
	}
	want := defaultServeConfig()
	want.WebhookSecret = "hush-hush-hush"
	want.GitHubToken = "ghp_0123456789abcdefghijklmn"
	want.Addr = "127.0.0.1:0"            // flag over env
	want.DataDir = "/var/lib/publishbot" // env over default
	want.LogFormat = "text"
	want.Workers = 4
	want.ReconcileInterval = time.Minute
	want.IgnoreBranches = []string{"gh-pages", "site"}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("config =\n%+v\nwant\n%+v", cfg, want)
	}
	if err := cfg.validate(); err != nil {
		t.Errorf("validate: %v", err)
	}
}

func TestServeConfigRejects(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "key.pem")
	os.WriteFile(keyFile, []byte("not really a key"), 0o600)
	base := map[string]string{"PUBLISHBOT_WEBHOOK_SECRET": "s3cret-value"}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string // in the error
	}{
		{"no secret", map[string]string{}, nil, "PUBLISHBOT_WEBHOOK_SECRET is required"},
		{"nats replicas", map[string]string{"PUBLISHBOT_QUEUE": "nats://user:pw@nats:4222", "PUBLISHBOT_NATS_REPLICAS": "0"}, nil, "PUBLISHBOT_NATS_REPLICAS 0"},
		{"nats replicas not a number", map[string]string{"PUBLISHBOT_QUEUE": "nats://nats:4222", "PUBLISHBOT_NATS_REPLICAS": "three"}, nil, "PUBLISHBOT_NATS_REPLICAS: not a number"},
		{"nats creds missing", map[string]string{"PUBLISHBOT_QUEUE": "nats://nats:4222", "PUBLISHBOT_NATS_CREDS": "/nonexistent/bot.creds"}, nil, "PUBLISHBOT_NATS_CREDS"},
		{"nats creds without nats", map[string]string{"PUBLISHBOT_NATS_CREDS": keyFile}, nil, "PUBLISHBOT_QUEUE is embedded"},
		{"nats second url bad", map[string]string{"PUBLISHBOT_QUEUE": "nats://a:4222,http://user:pw@b:4222"}, nil, "want nats://host:port"},
		{"unknown queue", map[string]string{"PUBLISHBOT_QUEUE": "redis://x"}, nil, "want embedded"},
		{"token and app", map[string]string{"PUBLISHBOT_GITHUB_TOKEN": "t", "PUBLISHBOT_APP_ID": "1", "PUBLISHBOT_APP_PRIVATE_KEY_FILE": keyFile}, nil, "not both"},
		{"app without key", map[string]string{"PUBLISHBOT_APP_ID": "12"}, nil, "needs PUBLISHBOT_APP_PRIVATE_KEY_FILE"},
		{"key without app", map[string]string{"PUBLISHBOT_APP_PRIVATE_KEY_FILE": keyFile}, nil, "needs PUBLISHBOT_APP_ID"},
		{"missing key file", map[string]string{"PUBLISHBOT_APP_ID": "12", "PUBLISHBOT_APP_PRIVATE_KEY_FILE": "/nonexistent/key.pem"}, nil, "app private key"},
		{"bad app id", map[string]string{"PUBLISHBOT_APP_ID": "twelve"}, nil, "PUBLISHBOT_APP_ID: not a number"},
		{"bad addr", map[string]string{"PUBLISHBOT_ADDR": "8080"}, nil, "address \"8080\""},
		{"bad api url", map[string]string{"PUBLISHBOT_GITHUB_API_URL": "ftp://x"}, nil, "want an http(s) URL"},
		{"api url with credentials", map[string]string{"PUBLISHBOT_GITHUB_API_URL": "https://u:p@ghe.example.com/api/v3/"}, nil, "must not carry credentials"},
		{"bad log format", map[string]string{"PUBLISHBOT_LOG_FORMAT": "xml"}, nil, "want json or text"},
		{"bad level", nil, []string{"--log-level", "loud"}, "PUBLISHBOT_LOG_LEVEL"},
		{"bad workers", map[string]string{"PUBLISHBOT_WORKERS": "0"}, nil, "workers 0"},
		{"bad duration", map[string]string{"PUBLISHBOT_SHUTDOWN_GRACE": "soon"}, nil, "PUBLISHBOT_SHUTDOWN_GRACE"},
		{"empty data dir", nil, []string{"--data-dir", ""}, "PUBLISHBOT_DATA_DIR is empty"},
		{"white space secret", map[string]string{"PUBLISHBOT_WEBHOOK_SECRET": " \t "}, nil, "PUBLISHBOT_WEBHOOK_SECRET is only white space"},
		{"plain http api", map[string]string{"PUBLISHBOT_GITHUB_API_URL": "http://ghe.example/api/v3"}, nil, "plain http is allowed only to a loopback host"},
		{"plain http git host", map[string]string{"PUBLISHBOT_GIT_URL": "http://ghe.example/"}, nil, "PUBLISHBOT_GIT_URL"},
		{"git host with credentials", map[string]string{"PUBLISHBOT_GIT_URL": "https://x-access-token:pw@github.com/"}, nil, "must not carry credentials"},
		{"ssh git host", nil, []string{"--git-url", "ssh://git@github.com/"}, "PUBLISHBOT_GIT_URL"},
		{"git host with query", map[string]string{"PUBLISHBOT_GIT_URL": "https://github.com/?x=1"}, nil, "PUBLISHBOT_GIT_URL"},
		{"bad repository pattern", map[string]string{"PUBLISHBOT_REPOSITORIES": "acme/[blog"}, nil, "PUBLISHBOT_REPOSITORIES"},
		{"repository pattern with two slashes", nil, []string{"--repositories", "acme/blog/x"}, "PUBLISHBOT_REPOSITORIES"},
		{"extra argument", nil, []string{"now"}, "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			if tt.name != "no secret" {
				for k, v := range base {
					env[k] = v
				}
			}
			for k, v := range tt.env {
				env[k] = v
			}
			var stderr bytes.Buffer
			cfg, _, err := parseServeConfig(tt.args, envMap(env), &stderr)
			if err == nil {
				err = cfg.validate()
			}
			if err == nil {
				t.Fatal("accepted")
			}
			var ee *exitError
			if !errors.As(err, &ee) || ee.Code != 2 {
				t.Errorf("error %v is not a usage error (exit 2)", err)
			}
			if !strings.Contains(err.Error()+stderr.String(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "pw@") {
				t.Errorf("error shows a URL password: %v", err)
			}
		})
	}
}

func TestServeConfigReportsEveryProblem(t *testing.T) {
	cfg, _, err := parseServeConfig(nil, envMap(map[string]string{"PUBLISHBOT_LOG_FORMAT": "xml", "PUBLISHBOT_QUEUE": "nats://n:4222", "PUBLISHBOT_NATS_REPLICAS": "9"}), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	err = cfg.validate()
	for _, want := range []string{"WEBHOOK_SECRET", "LOG_FORMAT", "NATS_REPLICAS"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %s", err, want)
		}
	}
}

// A value that does not parse is listed with every other problem, the
// flags' included, not alone.
func TestServeConfigReportsParseErrorsWithTheRest(t *testing.T) {
	env := map[string]string{
		"PUBLISHBOT_WORKERS":            "abc",
		"PUBLISHBOT_RECONCILE_INTERVAL": "5",
		"PUBLISHBOT_GITHUB_TOKEN_FILE":  filepath.Join(t.TempDir(), "nope"),
		"PUBLISHBOT_LOG_FORMAT":         "xml",
	}
	_, _, err := parseServeConfig([]string{"--addr", "bad"}, envMap(env), &bytes.Buffer{})
	var ee *exitError
	if err == nil || !errors.As(err, &ee) || ee.Code != 2 {
		t.Fatalf("err = %v, want a usage error (exit 2)", err)
	}
	for _, want := range []string{"PUBLISHBOT_WORKERS", "PUBLISHBOT_RECONCILE_INTERVAL", "PUBLISHBOT_GITHUB_TOKEN_FILE",
		"WEBHOOK_SECRET is required", "LOG_FORMAT", `address "bad"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
	// The interval that did not parse keeps its default: no second,
	// confusing complaint about "0s".
	if strings.Contains(err.Error(), "reconcile interval 0s") {
		t.Errorf("a bad duration is reported twice:\n%v", err)
	}
}

func TestSecretsNeverPrint(t *testing.T) {
	const secret, token = "the-webhook-secret", "ghp_abcdefghijklmnopqrstuvwxyz"
	cfg := defaultServeConfig()
	cfg.WebhookSecret, cfg.GitHubToken = secret, token
	var out bytes.Buffer
	if err := cfg.print(&out); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&out, "%v %+v %#v %s %q", cfg, cfg, cfg, cfg.WebhookSecret, cfg.GitHubToken)
	b, _ := json.Marshal(cfg)
	out.Write(b)
	if s := out.String(); strings.Contains(s, secret) || strings.Contains(s, token) {
		t.Errorf("a secret was printed:\n%s", s)
	}
	if !strings.Contains(out.String(), `"webhook_secret": "***"`) {
		t.Errorf("printed config does not show the secret is set:\n%s", out.String())
	}
	if cfg.WebhookSecret.Reveal() != secret {
		t.Error("Reveal lost the value")
	}
}

func TestServePrintConfig(t *testing.T) {
	var stdout, stderr bytes.Buffer
	env := envMap(map[string]string{"PUBLISHBOT_WEBHOOK_SECRET": "s3cr3t-s3cr3t"})
	err := run(t.Context(), []string{"serve", "--print-config", "--addr", ":9999"}, env, &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v (%s)", err, stderr.String())
	}
	if strings.Contains(stdout.String(), "s3cr3t") || !strings.Contains(stdout.String(), `":9999"`) {
		t.Errorf("print-config output:\n%s", stdout.String())
	}
}

// TestServePrintConfigNATS shows the NATS settings with the URLs' user
// information (a password, or a token) masked.
func TestServePrintConfigNATS(t *testing.T) {
	creds := filepath.Join(t.TempDir(), "bot.creds")
	os.WriteFile(creds, []byte("-----BEGIN NATS USER JWT-----\n"), 0o600)
	var stdout, stderr bytes.Buffer
	env := envMap(map[string]string{
		"PUBLISHBOT_WEBHOOK_SECRET": "s3cr3t-s3cr3t",
		"PUBLISHBOT_QUEUE":          "nats://bot:hunter2-pw@n1:4222,tls://s3cr3ttoken@n2:4222,nats://n3:4222",
		"PUBLISHBOT_NATS_CREDS":     creds,
		"PUBLISHBOT_NATS_REPLICAS":  "3",
	})
	if err := run(t.Context(), []string{"serve", "--print-config"}, env, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v (%s)", err, stderr.String())
	}
	out := stdout.String()
	for _, secret := range []string{"hunter2", "s3cr3ttoken", "bot:"} {
		if strings.Contains(out, secret) {
			t.Errorf("print-config shows %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{`"queue": "nats://***@n1:4222,tls://***@n2:4222,nats://n3:4222"`, `"nats_creds": "` + creds + `"`, `"nats_replicas": 3`} {
		if !strings.Contains(out, want) {
			t.Errorf("print-config lacks %s:\n%s", want, out)
		}
	}
	var cfg serveConfig
	cfg.Queue = "nats://bot:hunter2-pw@n1:4222,tls://s3cr3ttoken@n2:4222"
	if got := cfg.secrets(); !slices.Contains(got, "hunter2-pw") || !slices.Contains(got, "s3cr3ttoken") {
		t.Errorf("log masker secrets %q lack the NATS password and token", got)
	}
}

func TestServeRefusesToStartWithoutSecret(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir()}, envMap(nil), &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "PUBLISHBOT_WEBHOOK_SECRET is required") {
		t.Fatalf("run = %v, want a refusal naming the secret", err)
	}
	if code := exitCode(err, &bytes.Buffer{}); code != 2 {
		t.Errorf("exit code %d, want 2", code)
	}
}

// FuzzServeConfig feeds arbitrary environment values: parsing and
// validation must return an error or a valid config, never panic, and
// never echo the secret.
func FuzzServeConfig(f *testing.F) {
	f.Add("s3cret", ":8080", "embedded", "json", "2", "5m", "", "", "", "")
	f.Add("", "[::1]:0", "nats://a:b@c", "text", "x", "-1s", "99", "", "", "")
	f.Add(" ", ":8080", "embedded", "json", "2", "5m", "", "http://ghe.example/api/v3", "http://evil.test/", "acme,a/[b")
	f.Add("s3cret", ":8080", "embedded", "json", "2", "5m", "", "https://ghe.example/api/v3", "", "acme/*, octo/blog")
	f.Fuzz(func(t *testing.T, secret, addr, q, format, workers, interval, appID, apiURL, gitURL, repos string) {
		env := map[string]string{
			"PUBLISHBOT_WEBHOOK_SECRET":     secret,
			"PUBLISHBOT_ADDR":               addr,
			"PUBLISHBOT_QUEUE":              q,
			"PUBLISHBOT_LOG_FORMAT":         format,
			"PUBLISHBOT_WORKERS":            workers,
			"PUBLISHBOT_RECONCILE_INTERVAL": interval,
			"PUBLISHBOT_APP_ID":             appID,
			"PUBLISHBOT_GITHUB_API_URL":     apiURL,
			"PUBLISHBOT_GIT_URL":            gitURL,
			"PUBLISHBOT_REPOSITORIES":       repos,
		}
		cfg, _, err := parseServeConfig(nil, envMap(env), &bytes.Buffer{})
		if err != nil {
			return
		}
		err = cfg.validate()
		if err == nil {
			// What validate accepts, the webhook handler takes: serve
			// never fails after it started listening.
			if _, herr := webhook.New(webhook.Options{Secret: []byte(cfg.WebhookSecret.Reveal()), Queue: nopQueue{},
				GitURL: cfg.gitURL(), Repositories: cfg.Repositories}); herr != nil {
				t.Fatalf("valid config, but the webhook handler refuses it: %v", herr)
			}
			if base, gerr := cfg.gitBase(); gerr != nil || (base.Scheme == "http" && !gitauth.IsLoopback(base.Hostname())) {
				t.Fatalf("valid config with git host %v, %v", base, gerr)
			}
		}
		if err != nil && len(secret) >= 8 && strings.Contains(err.Error(), secret) &&
			!strings.Contains(addr+q+format+workers+interval+appID, secret) {
			t.Fatalf("error echoes the secret: %v", err)
		}
	})
}

func TestIgnoreBranchesNone(t *testing.T) {
	cfg, _, err := parseServeConfig([]string{"--ignore-branches", "none"}, envMap(nil), &bytes.Buffer{})
	if err != nil || len(cfg.IgnoreBranches) != 0 {
		t.Errorf("--ignore-branches none: %v, %v", cfg.IgnoreBranches, err)
	}
	if d := defaultServeConfig(); !reflect.DeepEqual(d.IgnoreBranches, []string{"gh-pages"}) {
		t.Errorf("default ignore list %v", d.IgnoreBranches)
	}
}

func TestSecretFiles(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	tokenFile := filepath.Join(dir, "token")
	empty := filepath.Join(dir, "empty")
	os.WriteFile(secretFile, []byte("from-a-file-0123456789\n"), 0o600)
	os.WriteFile(tokenFile, []byte("ghp_fromafile0123456789abcdef\r\n"), 0o600)
	os.WriteFile(empty, []byte("\n"), 0o600)

	cfg, _, err := parseServeConfig([]string{"--github-token-file", tokenFile},
		envMap(map[string]string{"PUBLISHBOT_WEBHOOK_SECRET_FILE": secretFile}), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.WebhookSecret.Reveal() != "from-a-file-0123456789" || cfg.GitHubToken.Reveal() != "ghp_fromafile0123456789abcdef" {
		t.Errorf("secrets from files = %q, %q", cfg.WebhookSecret.Reveal(), cfg.GitHubToken.Reveal())
	}
	if err := cfg.validate(); err != nil {
		t.Error(err)
	}

	for name, env := range map[string]map[string]string{
		"both":    {"PUBLISHBOT_WEBHOOK_SECRET": "x", "PUBLISHBOT_WEBHOOK_SECRET_FILE": secretFile},
		"missing": {"PUBLISHBOT_WEBHOOK_SECRET_FILE": filepath.Join(dir, "nope")},
		"empty":   {"PUBLISHBOT_GITHUB_TOKEN_FILE": empty},
	} {
		_, _, err := parseServeConfig(nil, envMap(env), &bytes.Buffer{})
		var ee *exitError
		if err == nil || !errors.As(err, &ee) || ee.Code != 2 {
			t.Errorf("%s: %v, want a usage error", name, err)
		} else if strings.Contains(err.Error(), "from-a-file") {
			t.Errorf("%s: error shows the secret: %v", name, err)
		}
	}
}

func TestServeConfigGitHostAndRepositories(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  map[string]string
		args []string
		want string // the git base URL in effect
		repo []string
	}{
		{"default", nil, nil, "https://github.com/", nil},
		{"enterprise server", map[string]string{"PUBLISHBOT_GITHUB_API_URL": "https://ghe.example/api/v3"}, nil, "https://ghe.example/", nil},
		{"enterprise cloud", map[string]string{"PUBLISHBOT_GITHUB_API_URL": "https://api.acme.ghe.com/"}, nil, "https://acme.ghe.com/", nil},
		{"set", map[string]string{"PUBLISHBOT_GITHUB_API_URL": "https://ghe.example/api/v3", "PUBLISHBOT_GIT_URL": "https://git.ghe.example"}, nil, "https://git.ghe.example/", nil},
		{"loopback test server", map[string]string{"PUBLISHBOT_GIT_URL": "http://127.0.0.1:3000/"}, nil, "http://127.0.0.1:3000/", nil},
		{"flag over env", map[string]string{"PUBLISHBOT_GIT_URL": "https://a.example/"}, []string{"--git-url", "https://b.example/"}, "https://b.example/", nil},
		{"repositories", map[string]string{"PUBLISHBOT_REPOSITORIES": " acme, octo-org/blog-* ,,"}, nil, "https://github.com/", []string{"acme", "octo-org/blog-*"}},
		{"repositories flag", map[string]string{"PUBLISHBOT_REPOSITORIES": "acme"}, []string{"--repositories", "octo"}, "https://github.com/", []string{"octo"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"PUBLISHBOT_WEBHOOK_SECRET": "s3cret-value-long-enough"}
			for k, v := range tt.env {
				env[k] = v
			}
			cfg, _, err := parseServeConfig(tt.args, envMap(env), &bytes.Buffer{})
			if err == nil {
				err = cfg.validate()
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.gitURL(); got != tt.want {
				t.Errorf("git URL %q, want %q", got, tt.want)
			}
			if !reflect.DeepEqual(cfg.Repositories, tt.repo) && !(len(tt.repo) == 0 && len(cfg.Repositories) == 0) {
				t.Errorf("repositories %q, want %q", cfg.Repositories, tt.repo)
			}
			var out bytes.Buffer
			if err := cfg.print(&out); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), `"git_url": "`+tt.want+`"`) {
				t.Errorf("printed config does not show the git URL in effect:\n%s", out.String())
			}
		})
	}
}

func TestServeConfigWarnings(t *testing.T) {
	for secret, warn := range map[string]bool{
		"0123456789abcdef":           false,
		"0123456789abcde":            true,
		"ééééééééééééééé":            true, // 15 characters, 30 bytes
		"éééééééééééééééé":           false,
		"It's a Secret to Everybody": false,
	} {
		cfg := defaultServeConfig()
		cfg.WebhookSecret = Secret(secret)
		w := cfg.warnings()
		if got := len(w) > 0; got != warn {
			t.Errorf("secret of %d characters: warnings %q", len([]rune(secret)), w)
		}
		if cfg.validate() != nil {
			t.Errorf("secret %q refused: %v", secret, cfg.validate())
		}
		for _, line := range w {
			if strings.Contains(line, secret) {
				t.Errorf("warning shows the secret: %s", line)
			}
		}
	}
}

// TestServeConfigBuildLimits: the operator may raise (or lower) what one
// build writes, in the environment or with flags; nothing else can.
func TestServeConfigBuildLimits(t *testing.T) {
	base := map[string]string{"PUBLISHBOT_WEBHOOK_SECRET": "a-long-enough-secret"}
	cfg, _, err := parseServeConfig(nil, envMap(base), &bytes.Buffer{})
	if err != nil || cfg.MaxFiles != 250_000 || cfg.MaxBytes != 4<<30 {
		t.Fatalf("defaults: %d files, %d bytes, %v", cfg.MaxFiles, cfg.MaxBytes, err)
	}
	if cfg.MaxTags != 100 || cfg.MaxAliases != 100 {
		t.Fatalf("default post limits: %d tags, %d aliases", cfg.MaxTags, cfg.MaxAliases)
	}
	env := map[string]string{"PUBLISHBOT_WEBHOOK_SECRET": "a-long-enough-secret", "PUBLISHBOT_MAX_FILES": "1000000", "PUBLISHBOT_MAX_BYTES": "16GiB",
		"PUBLISHBOT_MAX_TAGS": "500", "PUBLISHBOT_MAX_ALIASES": "300"}
	cfg, _, err = parseServeConfig(nil, envMap(env), &bytes.Buffer{})
	if err != nil || cfg.MaxFiles != 1_000_000 || cfg.MaxBytes != 16<<30 || cfg.validate() != nil {
		t.Fatalf("env: %d files, %d bytes, %v", cfg.MaxFiles, cfg.MaxBytes, err)
	}
	if cfg.MaxContentBytes != 512<<20 {
		t.Errorf("default content size %d", cfg.MaxContentBytes)
	}
	env["PUBLISHBOT_MAX_CONTENT_BYTES"] = "2GiB"
	if cfg, _, err := parseServeConfig(nil, envMap(env), &bytes.Buffer{}); err != nil || cfg.storeLimits().MaxTotalBytes != 2<<30 || cfg.validate() != nil {
		t.Errorf("content size from the environment: %d, %v", cfg.MaxContentBytes, err)
	}
	if l, err := envStoreLimits(envMap(map[string]string{"PUBLISHBOT_MAX_CONTENT_BYTES": "1GiB"})); err != nil || l.MaxTotalBytes != 1<<30 {
		t.Errorf("publish's content size: %+v, %v", l, err)
	}
	if _, err := envStoreLimits(envMap(map[string]string{"PUBLISHBOT_MAX_CONTENT_BYTES": "0"})); err == nil || !strings.Contains(err.Error(), "PUBLISHBOT_MAX_CONTENT_BYTES") {
		t.Errorf("a content size of 0: %v", err)
	}
	delete(env, "PUBLISHBOT_MAX_CONTENT_BYTES")
	if l := cfg.buildLimits(); l.MaxFiles != 1_000_000 || l.MaxBytes != 16<<30 || l.Post.MaxTags != 500 || l.Post.MaxAliases != 300 {
		t.Errorf("build limits %+v", l)
	}
	cfg, _, err = parseServeConfig([]string{"--max-files", "5", "--max-bytes", "512MiB"}, envMap(env), &bytes.Buffer{})
	if err != nil || cfg.MaxFiles != 5 || cfg.MaxBytes != 512<<20 {
		t.Fatalf("flags: %d files, %d bytes, %v", cfg.MaxFiles, cfg.MaxBytes, err)
	}
	for name, env := range map[string]map[string]string{
		"files not a number": {"PUBLISHBOT_MAX_FILES": "lots"},
		"bytes not a count":  {"PUBLISHBOT_MAX_BYTES": "4 TB"},
		"no files":           {"PUBLISHBOT_MAX_FILES": "0"},
		"negative bytes":     {"PUBLISHBOT_MAX_BYTES": "-1"},
		"tags not a number":  {"PUBLISHBOT_MAX_TAGS": "many"},
		"no aliases":         {"PUBLISHBOT_MAX_ALIASES": "0"},
	} {
		env["PUBLISHBOT_WEBHOOK_SECRET"] = "a-long-enough-secret"
		cfg, _, err := parseServeConfig(nil, envMap(env), &bytes.Buffer{})
		if err == nil {
			err = cfg.validate()
		}
		if err == nil || !strings.Contains(err.Error(), "PUBLISHBOT_MAX_") {
			t.Errorf("%s: %v, want a refusal naming the variable", name, err)
		}
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "4096": 4096, "4GiB": 4 << 30, "4 GB": 4 << 30, "512MiB": 512 << 20, "2M": 2 << 20, "64KiB": 64 << 10, "1K": 1024} {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("%q: %d %v, want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "GiB", "1.5GiB", "-3", "4TB", "99999999999GiB", "x"} {
		if got, err := parseBytes(in); err == nil {
			t.Errorf("%q accepted as %d", in, got)
		}
	}
}
