package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/publishbot/publishbot/gitauth"
	"github.com/publishbot/publishbot/gitstore"
	"github.com/publishbot/publishbot/posts"
	"github.com/publishbot/publishbot/site"
	"github.com/publishbot/publishbot/webhook"
)

// Secret is a string that never prints: fmt, JSON and logs see "***".
// Reveal returns the value for the one place that needs it.
type Secret string

// String implements fmt.Stringer with a mask.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "***"
}

// GoString masks %#v too.
func (s Secret) GoString() string { return strconv.Quote(s.String()) }

// MarshalText masks the secret in JSON and text encodings.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// serveConfig is the whole configuration of `publishbot serve`: defaults,
// then PUBLISHBOT_* environment variables, then flags. validate runs before
// anything listens.
type serveConfig struct {
	Addr              string        `json:"addr"`
	DataDir           string        `json:"data_dir"`
	BuildCacheMB      int64         `json:"build_cache_mb"` // cap of DataDir/build-cache in MiB
	WebhookSecret     Secret        `json:"webhook_secret"`
	GitHubToken       Secret        `json:"github_token"`
	StatusToken       Secret        `json:"status_token,omitempty"` // "" turns /status off
	WebhookSecretFile string        `json:"webhook_secret_file,omitempty"`
	GitHubTokenFile   string        `json:"github_token_file,omitempty"`
	AppID             int64         `json:"app_id,omitempty"`
	AppPrivateKeyFile string        `json:"app_private_key_file,omitempty"`
	GitHubAPIURL      string        `json:"github_api_url"`
	GitURL            string        `json:"git_url"`      // "" derives it from GitHubAPIURL
	Repositories      []string      `json:"repositories"` // allow-list; empty allows all
	LogFormat         string        `json:"log_format"`
	LogLevel          string        `json:"log_level"`
	Queue             string        `json:"queue"`
	NATSCreds         string        `json:"nats_creds,omitempty"` // a NATS credentials file (JWT + nkey seed)
	NATSReplicas      int           `json:"nats_replicas"`        // servers keeping each stream and bucket
	NATSLease         time.Duration `json:"nats_lease"`           // how long a stopped replica's jobs, locks and reconciler lease outlive it
	Workers           int           `json:"workers"`
	ShutdownGrace     time.Duration `json:"shutdown_grace"`
	DrainDelay        time.Duration `json:"drain_delay"`
	ReconcileInterval time.Duration `json:"reconcile_interval"`
	PagesWatch        time.Duration `json:"pages_watch"` // how long a GitHub Pages build is followed; 0: not at all
	MaxAttempts       int           `json:"max_attempts"`
	IgnoreBranches    []string      `json:"ignore_branches"`
	// MaxFiles and MaxBytes bound what one build may write (site.Limits):
	// the operator's to raise, never the content's.
	MaxFiles int   `json:"max_files"`
	MaxBytes int64 `json:"max_bytes"`
	// MaxContentBytes bounds the content repository's tree a job reads
	// (gitstore.Limits.MaxTotalBytes).
	MaxContentBytes int64 `json:"max_content_bytes"`
	// MaxTags and MaxAliases bound one post (posts.Limits).
	MaxTags    int `json:"max_tags"`
	MaxAliases int `json:"max_aliases"`
	// EnvFile is the settings file read under the environment (envfile.go).
	EnvFile string `json:"env_file,omitempty"`
	// envFileWarnings are logged at start (envfile.go).
	envFileWarnings []string

	// listening, when set, is sent the bound address once the server
	// listens (the demo and tests listen on port 0). It must be buffered.
	listening chan<- string
}

const defaultAPIURL = "https://api.github.com/"

func defaultServeConfig() serveConfig {
	return serveConfig{
		Addr:              ":8080",
		DataDir:           "publishbot-data",
		BuildCacheMB:      1024,
		GitHubAPIURL:      defaultAPIURL,
		LogFormat:         "json",
		LogLevel:          "info",
		Queue:             "embedded",
		NATSReplicas:      1,
		NATSLease:         30 * time.Second,
		Workers:           2,
		ShutdownGrace:     30 * time.Second,
		ReconcileInterval: 5 * time.Minute,
		PagesWatch:        10 * time.Minute,
		MaxAttempts:       8,
		IgnoreBranches:    []string{"gh-pages"},
		MaxFiles:          site.DefaultMaxFiles,
		MaxBytes:          site.DefaultMaxBytes,
		MaxContentBytes:   gitstore.DefaultLimits.MaxTotalBytes,
		MaxTags:           posts.DefaultMaxTags,
		MaxAliases:        posts.DefaultMaxAliases,
	}
}

// envVar is one PUBLISHBOT_* variable and where it goes.
type envVar struct {
	name string
	set  func(c *serveConfig, v string) error
}

func envVars() []envVar {
	str := func(f func(c *serveConfig) *string) func(*serveConfig, string) error {
		return func(c *serveConfig, v string) error { *f(c) = v; return nil }
	}
	return []envVar{
		{"PUBLISHBOT_WEBHOOK_SECRET", func(c *serveConfig, v string) error { c.WebhookSecret = Secret(v); return nil }},
		{"PUBLISHBOT_GITHUB_TOKEN", func(c *serveConfig, v string) error { c.GitHubToken = Secret(v); return nil }},
		{"PUBLISHBOT_STATUS_TOKEN", func(c *serveConfig, v string) error { c.StatusToken = Secret(v); return nil }},
		{"PUBLISHBOT_APP_ID", func(c *serveConfig, v string) error {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return fmt.Errorf("not a number: %q", v)
			}
			c.AppID = id
			return nil
		}},
		{"PUBLISHBOT_WEBHOOK_SECRET_FILE", str(func(c *serveConfig) *string { return &c.WebhookSecretFile })},
		{"PUBLISHBOT_GITHUB_TOKEN_FILE", str(func(c *serveConfig) *string { return &c.GitHubTokenFile })},
		{"PUBLISHBOT_APP_PRIVATE_KEY_FILE", str(func(c *serveConfig) *string { return &c.AppPrivateKeyFile })},
		{"PUBLISHBOT_GITHUB_API_URL", str(func(c *serveConfig) *string { return &c.GitHubAPIURL })},
		{"PUBLISHBOT_GIT_URL", str(func(c *serveConfig) *string { return &c.GitURL })},
		{"PUBLISHBOT_REPOSITORIES", func(c *serveConfig, v string) error {
			c.Repositories = splitList(v)
			return nil
		}},
		{"PUBLISHBOT_ADDR", str(func(c *serveConfig) *string { return &c.Addr })},
		{"PUBLISHBOT_DATA_DIR", str(func(c *serveConfig) *string { return &c.DataDir })},
		{"PUBLISHBOT_LOG_FORMAT", str(func(c *serveConfig) *string { return &c.LogFormat })},
		{"PUBLISHBOT_LOG_LEVEL", str(func(c *serveConfig) *string { return &c.LogLevel })},
		{"PUBLISHBOT_QUEUE", str(func(c *serveConfig) *string { return &c.Queue })},
		{"PUBLISHBOT_NATS_CREDS", str(func(c *serveConfig) *string { return &c.NATSCreds })},
		{"PUBLISHBOT_NATS_REPLICAS", func(c *serveConfig, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("not a number: %q", v)
			}
			c.NATSReplicas = n
			return nil
		}},
		{"PUBLISHBOT_NATS_LEASE", func(c *serveConfig, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil {
				return err
			}
			c.NATSLease = d
			return nil
		}},
		{"PUBLISHBOT_WORKERS", func(c *serveConfig, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("not a number: %q", v)
			}
			c.Workers = n
			return nil
		}},
		{"PUBLISHBOT_PAGES_WATCH", func(c *serveConfig, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				return fmt.Errorf("not a duration: %q", v)
			}
			c.PagesWatch = d
			return nil
		}},
		{"PUBLISHBOT_SHUTDOWN_GRACE", func(c *serveConfig, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil {
				return err
			}
			c.ShutdownGrace = d
			return nil
		}},
		{"PUBLISHBOT_DRAIN_DELAY", func(c *serveConfig, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil {
				return err
			}
			c.DrainDelay = d
			return nil
		}},
		{"PUBLISHBOT_RECONCILE_INTERVAL", func(c *serveConfig, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil {
				return err
			}
			c.ReconcileInterval = d
			return nil
		}},
		{"PUBLISHBOT_IGNORE_BRANCHES", func(c *serveConfig, v string) error {
			c.IgnoreBranches = splitBranches(v)
			return nil
		}},
		{buildCacheEnv, func(c *serveConfig, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return fmt.Errorf("not a number: %q", v)
			}
			c.BuildCacheMB = n
			return nil
		}},
		{"PUBLISHBOT_MAX_FILES", func(c *serveConfig, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("not a number: %q", v)
			}
			c.MaxFiles = n
			return nil
		}},
		{"PUBLISHBOT_MAX_BYTES", func(c *serveConfig, v string) error {
			n, err := parseBytes(v)
			if err != nil {
				return err
			}
			c.MaxBytes = n
			return nil
		}},
		{contentBytesEnv, func(c *serveConfig, v string) error {
			n, err := parseBytes(v)
			if err != nil {
				return err
			}
			c.MaxContentBytes = n
			return nil
		}},
		{"PUBLISHBOT_MAX_TAGS", func(c *serveConfig, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("not a number: %q", v)
			}
			c.MaxTags = n
			return nil
		}},
		{"PUBLISHBOT_MAX_ALIASES", func(c *serveConfig, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("not a number: %q", v)
			}
			c.MaxAliases = n
			return nil
		}},
		{"PUBLISHBOT_MAX_ATTEMPTS", func(c *serveConfig, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("not a number: %q", v)
			}
			c.MaxAttempts = n
			return nil
		}},
	}
}

const serveUsage = `usage: publishbot serve [flags]

Runs the bot: POST /webhook, GET /healthz, /readyz, /metrics.
Configuration comes from the env file, the environment over it, and flags
over both.

  PUBLISHBOT_ENV_FILE              NAME=value settings (default: publishbot.env in the
                                   data folder, as publishbot setup writes it)
  PUBLISHBOT_WEBHOOK_SECRET        webhook secret (required), or
  PUBLISHBOT_WEBHOOK_SECRET_FILE   a file holding it (a mounted secret)
  PUBLISHBOT_GITHUB_TOKEN          token for clones, pushes and reports
                                   (or PUBLISHBOT_GITHUB_TOKEN_FILE), or
  PUBLISHBOT_APP_ID + PUBLISHBOT_APP_PRIVATE_KEY_FILE   a GitHub App
  PUBLISHBOT_GITHUB_API_URL        API base URL (GitHub Enterprise Server)
  PUBLISHBOT_GIT_URL               the one git host clones and pushes go to, and the only
                                   host the token is sent to (default https://github.com/,
                                   or the Enterprise host of PUBLISHBOT_GITHUB_API_URL);
                                   a repository's clone URL is this + owner/name.git
  PUBLISHBOT_REPOSITORIES          repositories acted on, comma-separated: owner, owner/*
                                   or owner/name patterns (default: every repository
                                   whose webhooks are signed with the secret)
  PUBLISHBOT_ADDR                  listen address (default :8080)
  PUBLISHBOT_STATUS_TOKEN          turns on the status page at /status, opened with this
                                   token (16 characters or more; default off)
  PUBLISHBOT_DATA_DIR              queue, repository and build caches
  PUBLISHBOT_BUILD_CACHE_MB        size cap of the build cache in MiB (default 1024)
  PUBLISHBOT_LOG_FORMAT            json or text
  PUBLISHBOT_LOG_LEVEL             debug, info, warn, error
  PUBLISHBOT_QUEUE                 embedded (default), or NATS JetStream shared by several
                                   replicas: nats://host:4222[,nats://host2:4222,...]
                                   (tls:// for TLS)
  PUBLISHBOT_NATS_CREDS            a NATS credentials file
  PUBLISHBOT_NATS_REPLICAS         servers keeping each stream (default 1; 3 on a cluster)
  PUBLISHBOT_NATS_LEASE            how long a stopped replica's jobs and reconciler role
                                   wait before another replica takes them (default 30s)
  PUBLISHBOT_WORKERS               jobs run at once
  PUBLISHBOT_SHUTDOWN_GRACE        time the running jobs get on SIGTERM
  PUBLISHBOT_PAGES_WATCH           how long GitHub Pages' build of a push is followed
                                   before "live" is given up on (default 10m; 0: not followed)
  PUBLISHBOT_DRAIN_DELAY           on SIGTERM, time /readyz says 503 before
                                   webhooks stop (default 0; ~5s behind a load balancer)
  PUBLISHBOT_RECONCILE_INTERVAL    how often published repositories are checked
  PUBLISHBOT_IGNORE_BRANCHES       branches whose pushes are not published, comma-separated
                                   (default gh-pages: the bot's own pushes; "none" for none)
  PUBLISHBOT_MAX_ATTEMPTS          runs of a failing job before it is dead-lettered
  PUBLISHBOT_MAX_FILES             files one build may write (default 250000)
  PUBLISHBOT_MAX_BYTES             bytes one build may write: a number, or with
                                   KiB, MiB, GiB (default 4GiB)
  PUBLISHBOT_MAX_CONTENT_BYTES     bytes of all files of the content repository
                                   a job reads (default 512MiB)
  PUBLISHBOT_MAX_TAGS              tags one post may have (default 100)
  PUBLISHBOT_MAX_ALIASES           aliases one post may have (default 100)
`

// parseServeConfig builds the configuration from defaults, the env file,
// the environment and args. It does not validate; --print-config is
// reported in print.
func parseServeConfig(args []string, getenv func(string) string, stderr io.Writer) (cfg serveConfig, print bool, err error) {
	cfg = defaultServeConfig()
	if getenv, cfg.EnvFile, cfg.envFileWarnings, err = withEnvFile(args, getenv, cfg.DataDir); err != nil {
		return cfg, false, badConfig([]error{err})
	}
	var errs []error
	for _, v := range envVars() {
		val := getenv(v.name)
		if val == "" {
			continue
		}
		if err := v.set(&cfg, val); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", v.name, err))
		}
	}
	// A value that does not parse is reported with everything else that is
	// wrong, after the flags: an operator fixes the configuration in one go.

	fs := newFlagSet("serve", serveUsage, stderr)
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "listen address")
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "queue and repository cache directory")
	fs.StringVar(&cfg.GitHubAPIURL, "github-api-url", cfg.GitHubAPIURL, "GitHub API base URL")
	fs.StringVar(&cfg.GitURL, "git-url", cfg.GitURL, "git host base URL (default: from the API URL)")
	fs.Func("repositories", "repositories acted on, comma-separated owner or owner/name patterns", func(v string) error {
		cfg.Repositories = splitList(v)
		return nil
	})
	fs.StringVar(&cfg.WebhookSecretFile, "webhook-secret-file", cfg.WebhookSecretFile, "file holding the webhook secret")
	fs.StringVar(&cfg.GitHubTokenFile, "github-token-file", cfg.GitHubTokenFile, "file holding the GitHub token")
	fs.Int64Var(&cfg.AppID, "app-id", cfg.AppID, "GitHub App ID")
	fs.StringVar(&cfg.AppPrivateKeyFile, "app-private-key-file", cfg.AppPrivateKeyFile, "GitHub App private key (PEM)")
	fs.StringVar(&cfg.LogFormat, "log-format", cfg.LogFormat, "log format: json or text")
	fs.StringVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "log level: debug, info, warn, error")
	fs.StringVar(&cfg.Queue, "queue", cfg.Queue, "queue: embedded")
	fs.IntVar(&cfg.Workers, "workers", cfg.Workers, "jobs run at once")
	fs.DurationVar(&cfg.ShutdownGrace, "shutdown-grace", cfg.ShutdownGrace, "time the running jobs get to finish on shutdown")
	fs.DurationVar(&cfg.DrainDelay, "drain-delay", cfg.DrainDelay, "on shutdown, how long /readyz fails before webhooks stop")
	fs.DurationVar(&cfg.ReconcileInterval, "reconcile-interval", cfg.ReconcileInterval, "how often published repositories are checked for missed pushes")
	fs.IntVar(&cfg.MaxAttempts, "max-attempts", cfg.MaxAttempts, "runs of a failing job before it is dead-lettered")
	fs.IntVar(&cfg.MaxFiles, "max-files", cfg.MaxFiles, "files one build may write")
	fs.IntVar(&cfg.MaxTags, "max-tags", cfg.MaxTags, "tags one post may have")
	fs.IntVar(&cfg.MaxAliases, "max-aliases", cfg.MaxAliases, "aliases one post may have")
	fs.Func("max-bytes", "bytes one build may write (a number, or with KiB, MiB, GiB; default 4GiB)", func(v string) error {
		n, err := parseBytes(v)
		if err != nil {
			return err
		}
		cfg.MaxBytes = n
		return nil
	})
	fs.Func("ignore-branches", `branches whose pushes are not published, comma-separated ("none" for none)`, func(v string) error {
		cfg.IgnoreBranches = splitBranches(v)
		return nil
	})
	fs.BoolVar(&print, "print-config", false, "print the configuration (secrets masked) and exit")
	fs.StringVar(&cfg.EnvFile, "env-file", cfg.EnvFile, "settings file read under the environment (default DATA_DIR/publishbot.env)")
	if _, err := parseArgs(fs, args, 0); err != nil {
		return cfg, false, err
	}
	for _, f := range []struct {
		name, path string
		dst        *Secret
	}{
		{"PUBLISHBOT_WEBHOOK_SECRET", cfg.WebhookSecretFile, &cfg.WebhookSecret},
		{"PUBLISHBOT_GITHUB_TOKEN", cfg.GitHubTokenFile, &cfg.GitHubToken},
	} {
		if f.path == "" {
			continue
		}
		if *f.dst != "" {
			errs = append(errs, fmt.Errorf("set %s or %s_FILE, not both", f.name, f.name))
			continue
		}
		v, err := readSecretFile(f.path)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s_FILE: %w", f.name, err))
			continue
		}
		*f.dst = v
	}
	if len(errs) > 0 {
		return cfg, false, badConfig(append(errs, cfg.problems()...))
	}
	return cfg, print, nil
}

// readSecretFile reads a secret mounted as a file: one value, a trailing
// newline dropped. An empty file is an error, never an empty secret.
func readSecretFile(path string) (Secret, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err // names the path, never the content
	}
	v := strings.TrimRight(string(b), "\r\n")
	if strings.TrimSpace(v) == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return Secret(v), nil
}

// splitList parses a comma-separated list, dropping empty entries.
func splitList(v string) []string {
	out := []string{}
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// splitBranches parses a comma-separated branch list; "none" is empty.
func splitBranches(v string) []string {
	out := []string{}
	for _, b := range strings.Split(v, ",") {
		if b = strings.TrimSpace(b); b != "" && b != "none" {
			out = append(out, strings.TrimPrefix(b, "refs/heads/"))
		}
	}
	return out
}

// validate reports every problem at once; serve refuses to start on any.
func (c serveConfig) validate() error {
	return badConfig(c.problems())
}

// badConfig is the exit-2 error listing every problem, nil for none.
func badConfig(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return &exitError{Code: 2, Err: fmt.Errorf("serve: bad configuration:\n  %w", joinIndented(errs))}
}

// problems lists what is wrong with the configuration.
func (c serveConfig) problems() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	// A secret file that could not be read is reported on its own.
	if c.WebhookSecret == "" && c.WebhookSecretFile == "" {
		bad("PUBLISHBOT_WEBHOOK_SECRET is required: webhooks cannot be verified without it")
	} else if c.WebhookSecret != "" && strings.TrimSpace(c.WebhookSecret.Reveal()) == "" {
		bad("PUBLISHBOT_WEBHOOK_SECRET is only white space: set the secret the webhook is configured with")
	}
	if c.StatusToken != "" && utf8.RuneCountInString(strings.TrimSpace(c.StatusToken.Reveal())) < 16 {
		bad("PUBLISHBOT_STATUS_TOKEN is shorter than 16 characters: use a long random one (e.g. openssl rand -hex 32)")
	}
	if _, port, err := net.SplitHostPort(c.Addr); err != nil {
		bad("address %q: %v", c.Addr, err)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		if _, err := net.LookupPort("tcp", port); err != nil {
			bad("address %q: bad port %q", c.Addr, port)
		}
	}
	if strings.TrimSpace(c.DataDir) == "" {
		bad("PUBLISHBOT_DATA_DIR is empty")
	}
	switch {
	case c.GitHubToken != "" && (c.AppID != 0 || c.AppPrivateKeyFile != ""):
		bad("set PUBLISHBOT_GITHUB_TOKEN or PUBLISHBOT_APP_ID with PUBLISHBOT_APP_PRIVATE_KEY_FILE, not both")
	case c.AppID != 0 && c.AppPrivateKeyFile == "":
		bad("PUBLISHBOT_APP_ID needs PUBLISHBOT_APP_PRIVATE_KEY_FILE")
	case c.AppID == 0 && c.AppPrivateKeyFile != "":
		bad("PUBLISHBOT_APP_PRIVATE_KEY_FILE needs PUBLISHBOT_APP_ID")
	case c.AppID < 0:
		bad("PUBLISHBOT_APP_ID must be positive")
	case c.AppPrivateKeyFile != "":
		if _, err := os.Stat(c.AppPrivateKeyFile); err != nil {
			bad("app private key: %v", err)
		}
	}
	apiOK := false
	if u, err := url.Parse(c.GitHubAPIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		bad("PUBLISHBOT_GITHUB_API_URL %q: want an http(s) URL", c.GitHubAPIURL)
	} else if u.User != nil {
		bad("PUBLISHBOT_GITHUB_API_URL must not carry credentials")
	} else if u.Scheme == "http" && !gitauth.IsLoopback(u.Hostname()) {
		// The token goes with every API call.
		bad("PUBLISHBOT_GITHUB_API_URL %q: plain http is allowed only to a loopback host; use https", c.GitHubAPIURL)
	} else {
		apiOK = true
	}
	if c.GitURL != "" {
		if _, err := gitauth.ParseBase(c.GitURL); err != nil {
			bad("PUBLISHBOT_GIT_URL: %v", err)
		}
	} else if _, err := c.gitBase(); err != nil && apiOK {
		bad("cannot derive the git host from PUBLISHBOT_GITHUB_API_URL (%v): set PUBLISHBOT_GIT_URL", err)
	}
	if _, err := webhook.ParseAllowList(c.Repositories); err != nil {
		bad("PUBLISHBOT_REPOSITORIES: %v", err)
	}
	switch c.LogFormat {
	case "json", "text":
	default:
		bad("PUBLISHBOT_LOG_FORMAT %q: want json or text", c.LogFormat)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "warning", "error":
	default:
		bad("PUBLISHBOT_LOG_LEVEL %q: want debug, info, warn or error", c.LogLevel)
	}
	errs = append(errs, c.queueProblems()...)
	if c.Workers < 1 || c.Workers > 64 {
		bad("workers %d: want 1 to 64", c.Workers)
	}
	if c.ShutdownGrace < 0 {
		bad("shutdown grace %s is negative", c.ShutdownGrace)
	}
	if c.DrainDelay < 0 || c.DrainDelay > 5*time.Minute {
		bad("drain delay %s: want 0 to 5m", c.DrainDelay)
	}
	if c.ReconcileInterval < time.Second {
		bad("reconcile interval %s: want at least 1s", c.ReconcileInterval)
	}
	if c.MaxAttempts < 1 {
		bad("max attempts %d: want at least 1", c.MaxAttempts)
	}
	if c.BuildCacheMB < 1 || c.BuildCacheMB > 1<<30 {
		bad("%s %d: want at least 1", buildCacheEnv, c.BuildCacheMB)
	}
	if c.MaxFiles < 1 {
		bad("PUBLISHBOT_MAX_FILES %d: want at least 1", c.MaxFiles)
	}
	if c.MaxBytes < 1 {
		bad("PUBLISHBOT_MAX_BYTES %d: want at least 1", c.MaxBytes)
	}
	if c.MaxContentBytes < 1 {
		bad("%s %d: want at least 1", contentBytesEnv, c.MaxContentBytes)
	}
	if c.MaxTags < 1 {
		bad("PUBLISHBOT_MAX_TAGS %d: want at least 1", c.MaxTags)
	}
	if c.MaxAliases < 1 {
		bad("PUBLISHBOT_MAX_ALIASES %d: want at least 1", c.MaxAliases)
	}
	return errs
}

// minSecretChars is the webhook secret length below which serve warns.
const minSecretChars = 16

// warnings lists what serve logs at start without refusing to start.
func (c serveConfig) warnings() []string {
	w := append([]string(nil), c.envFileWarnings...)
	if n := utf8.RuneCountInString(c.WebhookSecret.Reveal()); n > 0 && n < minSecretChars {
		w = append(w, fmt.Sprintf("the webhook secret is shorter than %d characters: use a long random one (e.g. openssl rand -hex 32)", minSecretChars))
	}
	return w
}

// gitBase is the one git host the bot trusts: PUBLISHBOT_GIT_URL, or the
// host derived from the API URL.
func (c serveConfig) gitBase() (*url.URL, error) {
	if c.GitURL != "" {
		return gitauth.ParseBase(c.GitURL)
	}
	return gitauth.BaseForAPI(c.GitHubAPIURL)
}

// gitURL is gitBase as a string, "" when it does not parse (validate says why).
func (c serveConfig) gitURL() string {
	u, err := c.gitBase()
	if err != nil {
		return ""
	}
	return u.String()
}

// buildLimits are what one build may write, and one post make.
func (c serveConfig) buildLimits() site.Limits {
	return site.Limits{MaxFiles: c.MaxFiles, MaxBytes: c.MaxBytes,
		Post: posts.Limits{MaxTags: c.MaxTags, MaxAliases: c.MaxAliases}}
}

// contentBytesEnv raises (or lowers) the size of content repository a job
// accepts: a blog with many photos outgrows the default.
const contentBytesEnv = "PUBLISHBOT_MAX_CONTENT_BYTES"

// storeLimits are the limits of the repository store: the content
// repository's size.
func (c serveConfig) storeLimits() gitstore.Limits {
	return gitstore.Limits{MaxTotalBytes: c.MaxContentBytes}
}

// envStoreLimits are the store limits of `publish`: serve's
// PUBLISHBOT_MAX_CONTENT_BYTES when set, else the defaults.
func envStoreLimits(getenv func(string) string) (gitstore.Limits, error) {
	var l gitstore.Limits
	if v := getenv(contentBytesEnv); v != "" {
		n, err := parseBytes(v)
		if err != nil || n < 1 {
			return l, fmt.Errorf("%s %q: want a positive byte count such as 2GiB", contentBytesEnv, v)
		}
		l.MaxTotalBytes = n
	}
	return l, nil
}

// envBuildLimits are the build limits of `build`, `check` and `publish`:
// serve's PUBLISHBOT_MAX_FILES, PUBLISHBOT_MAX_BYTES, PUBLISHBOT_MAX_TAGS
// and PUBLISHBOT_MAX_ALIASES when set, else the defaults.
func envBuildLimits(getenv func(string) string) (site.Limits, error) {
	var l site.Limits
	for _, v := range []struct {
		name string
		dst  *int
	}{{"PUBLISHBOT_MAX_TAGS", &l.Post.MaxTags}, {"PUBLISHBOT_MAX_ALIASES", &l.Post.MaxAliases}} {
		if s := getenv(v.name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 {
				return l, fmt.Errorf("%s %q: want a positive number", v.name, s)
			}
			*v.dst = n
		}
	}
	if v := getenv("PUBLISHBOT_MAX_FILES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return l, fmt.Errorf("PUBLISHBOT_MAX_FILES %q: want a positive number", v)
		}
		l.MaxFiles = n
	}
	if v := getenv("PUBLISHBOT_MAX_BYTES"); v != "" {
		n, err := parseBytes(v)
		if err != nil || n < 1 {
			return l, fmt.Errorf("PUBLISHBOT_MAX_BYTES %q: want a positive byte count such as 8GiB", v)
		}
		l.MaxBytes = n
	}
	return l, nil
}

// parseBytes reads a byte count: a number, or a number with a unit KiB, MiB
// or GiB (K, M, G and KB, MB, GB mean the same: powers of 1024).
func parseBytes(v string) (int64, error) {
	s := strings.TrimSpace(v)
	mult := int64(1)
	for _, u := range []struct {
		suffixes []string
		mult     int64
	}{
		{[]string{"GiB", "GB", "G"}, 1 << 30},
		{[]string{"MiB", "MB", "M"}, 1 << 20},
		{[]string{"KiB", "KB", "K"}, 1 << 10},
	} {
		for _, suf := range u.suffixes {
			if rest, ok := strings.CutSuffix(s, suf); ok {
				s, mult = strings.TrimSpace(rest), u.mult
				break
			}
		}
		if mult != 1 {
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("not a byte count: %q (a number, or with KiB, MiB or GiB)", v)
	}
	return n * mult, nil
}

// joinIndented joins errors one a line, indented under the first.
func joinIndented(errs []error) error {
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return errors.New(strings.Join(msgs, "\n  "))
}

// print writes the configuration as JSON with secrets masked.
func (c serveConfig) print(w io.Writer) error {
	type shown struct {
		serveConfig
		GitURL            string `json:"git_url"` // the one in effect
		ShutdownGrace     string `json:"shutdown_grace"`
		DrainDelay        string `json:"drain_delay"`
		ReconcileInterval string `json:"reconcile_interval"`
		NATSLease         string `json:"nats_lease"`
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	c.Queue = maskQueueURLs(c.Queue)
	return enc.Encode(shown{c, c.gitURL(), c.ShutdownGrace.String(), c.DrainDelay.String(), c.ReconcileInterval.String(), c.NATSLease.String()})
}

// secrets lists the values the log formatter must mask.
func (c serveConfig) secrets() []string {
	return append([]string{c.WebhookSecret.Reveal(), c.GitHubToken.Reveal(), c.StatusToken.Reveal()}, queueURLSecrets(c.Queue)...)
}
