package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

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
		{"nats", map[string]string{"PUBLISHBOT_QUEUE": "nats://user:pw@nats:4222"}, nil, "not supported in this build"},
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
	cfg, _, err := parseServeConfig(nil, envMap(map[string]string{"PUBLISHBOT_LOG_FORMAT": "xml", "PUBLISHBOT_QUEUE": "nats://n:4222"}), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	err = cfg.validate()
	for _, want := range []string{"WEBHOOK_SECRET", "LOG_FORMAT", "not supported"} {
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
	f.Add("s3cret", ":8080", "embedded", "json", "2", "5m", "")
	f.Add("", "[::1]:0", "nats://a:b@c", "text", "x", "-1s", "99")
	f.Fuzz(func(t *testing.T, secret, addr, q, format, workers, interval, appID string) {
		env := map[string]string{
			"PUBLISHBOT_WEBHOOK_SECRET":     secret,
			"PUBLISHBOT_ADDR":               addr,
			"PUBLISHBOT_QUEUE":              q,
			"PUBLISHBOT_LOG_FORMAT":         format,
			"PUBLISHBOT_WORKERS":            workers,
			"PUBLISHBOT_RECONCILE_INTERVAL": interval,
			"PUBLISHBOT_APP_ID":             appID,
		}
		cfg, _, err := parseServeConfig(nil, envMap(env), &bytes.Buffer{})
		if err != nil {
			return
		}
		err = cfg.validate()
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
