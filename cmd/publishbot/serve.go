package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	stdlog "log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/sirupsen/logrus"

	"github.com/publishbot/publishbot/ghapi"
	"github.com/publishbot/publishbot/gitstore"
	"github.com/publishbot/publishbot/logmask"
	"github.com/publishbot/publishbot/publisher"
	"github.com/publishbot/publishbot/queue"
	"github.com/publishbot/publishbot/status"
	"github.com/publishbot/publishbot/webhook"
	"github.com/publishbot/publishbot/worker"
)

// runServe is `publishbot serve`: configuration, then wiring, then serve
// until ctx ends (SIGTERM or SIGINT in main).
func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, printOnly, err := parseServeConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	if printOnly {
		if err := cfg.print(stdout); err != nil {
			return err
		}
		return cfg.validate()
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	log, err := newServeLogger(cfg, stderr)
	if err != nil {
		return err
	}
	return serve(ctx, cfg, log)
}

// newServeLogger is the process's one logrus.Logger: JSON or text, with
// every configured secret and anything shaped like a token masked.
func newServeLogger(cfg serveConfig, out io.Writer) (*logrus.Logger, error) {
	level, err := logrus.ParseLevel(cfg.LogLevel)
	if err != nil {
		return nil, usageError("serve: %w", err)
	}
	var inner logrus.Formatter = &logrus.JSONFormatter{TimestampFormat: time.RFC3339Nano}
	if cfg.LogFormat == "text" {
		inner = &logrus.TextFormatter{DisableColors: true, FullTimestamp: true}
	}
	l := logrus.New()
	l.Out = out
	l.Level = level
	l.Formatter = logmask.NewFormatter(inner, cfg.secrets()...)
	return l, nil
}

// HTTP server limits: webhooks are small and answered in milliseconds;
// the body cap itself (25 MiB) is the webhook handler's.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 2 * time.Minute
	httpDrainTimeout  = 10 * time.Second
)

// serve wires the parts and runs them until ctx ends. It returns nil after a
// clean shutdown.
func serve(ctx context.Context, cfg serveConfig, logger *logrus.Logger) error {
	log := logrus.NewEntry(logger)
	log.WithFields(logrus.Fields{
		"version":     version,
		"addr":        cfg.Addr,
		"data_dir":    cfg.DataDir,
		"queue":       maskQueueURLs(cfg.Queue),
		"workers":     cfg.Workers,
		"api_url":     cfg.GitHubAPIURL,
		"git_url":     cfg.gitURL(),
		"repos":       cfg.Repositories,
		"auth":        authMode(cfg),
		"grace":       cfg.ShutdownGrace.String(),
		"drain_delay": cfg.DrainDelay.String(),
		"reconcile":   cfg.ReconcileInterval.String(),
		"max_attempt": cfg.MaxAttempts,
		"max_files":   cfg.MaxFiles,
		"max_bytes":   cfg.MaxBytes,
		"max_tags":    cfg.MaxTags,
		"max_aliases": cfg.MaxAliases,
	}).Info("starting")

	for _, w := range cfg.warnings() {
		log.Warn(w)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), buildInfo())

	be, err := openBackend(ctx, cfg, log)
	if err != nil {
		return err // says "open queue <path>: ..." or what of NATS failed
	}
	defer be.close()
	q := be.queue
	defer q.Close()
	reg.MustRegister(be.collectors...)
	reg.MustRegister(worker.NewQueueDepth(func(ctx context.Context) (map[string]int, error) {
		s, err := q.Stats(ctx)
		if err != nil {
			return nil, err
		}
		return map[string]int{"queued": s.Queued, "delayed": s.Delayed, "running": s.Running, "dead": s.Dead}, nil
	}))

	gh, err := newGitHubClient(cfg, log.WithField("component", "github"))
	if err != nil {
		return err
	}
	gitBase, err := cfg.gitBase()
	if err != nil {
		return fmt.Errorf("git host: %w", err) // validate said so already
	}
	// The token goes only to the configured git host, request by request:
	// not to a redirect's target, nor to an old job's clone URL elsewhere.
	store, err := gitstore.New(gitstore.Options{Dir: filepath.Join(cfg.DataDir, "repos"), GitBase: gitBase, Limits: cfg.storeLimits(), Log: log.WithField("component", "gitstore")})
	if err != nil {
		return err
	}
	pubOpts := publisher.Options{Store: publisher.OpenWith(store.Open), Limits: publisher.Limits{Build: cfg.buildLimits()}, Images: imageProcessor(cfg.DataDir, log.WithField("component", "imagery"))}
	if c := openBuildCache(filepath.Join(cfg.DataDir, "build-cache"), cfg.BuildCacheMB<<20, log.WithField("component", "buildcache")); c != nil {
		defer c.Close()
		pubOpts.Cache = c
	}
	if gh != nil {
		pubOpts.Tokens = gh
		pubOpts.Reporter = gh
		// Previews and clean-ups go by the pull request's state on GitHub.
		pubOpts.PullRequests = gh
	} else {
		log.Warn("no GitHub credentials (PUBLISHBOT_GITHUB_TOKEN or PUBLISHBOT_APP_ID): reports are off and repositories are read anonymously")
	}
	published := be.published
	// "Live" means live: GitHub Pages' build of each push is followed
	// outside the repository's lock, and reported again when done.
	watcher, err := pagesWatcher(cfg, gh, log.WithField("component", "pages"))
	if err != nil {
		return err
	}
	if watcher != nil {
		defer watcher.Close()
		pubOpts.Pages = watcher
	}
	checks, stopChecks, err := startChecks(context.WithoutCancel(ctx), gh, published, log.WithField("component", "preflight"))
	if err != nil {
		return err
	}
	defer stopChecks()
	if checks != nil {
		pubOpts.Preflight = checks
	}
	pub, err := publisher.New(pubOpts)
	if err != nil {
		return fmt.Errorf("create publisher: %w", err)
	}
	wm := worker.NewMetrics(reg)
	board := status.NewBoard(nil) // the status page's recent deliveries and publishes
	w, err := worker.New(worker.Options{
		Queue:       q,
		Runner:      pub,
		Log:         log.WithField("component", "worker"),
		Metrics:     wm,
		Published:   published,
		Concurrency: cfg.Workers,
		Grace:       cfg.ShutdownGrace,
		Observer:    board,
	})
	if err != nil {
		return err
	}
	rec, err := worker.NewReconciler(worker.ReconcilerOptions{
		Set:      published,
		Drift:    pub,
		Queue:    q,
		Log:      log.WithField("component", "reconciler"),
		Interval: cfg.ReconcileInterval,
		Metrics:  wm,
		Lease:    be.lease,
	})
	if err != nil {
		return err
	}
	hook, err := webhook.New(webhook.Options{
		Secret:  []byte(cfg.WebhookSecret.Reveal()),
		Queue:   q,
		Log:     log.WithField("component", "webhook"),
		Metrics: webhook.NewMetrics(reg),
		// The bot's own pushes to the pages branch come back as push
		// events: ignore them at the edge instead of running a job each.
		IgnoreBranches: cfg.IgnoreBranches,
		// Clone URLs are this host + owner/name.git, never the payload's.
		GitURL:       cfg.gitURL(),
		Repositories: cfg.Repositories,
		Deliveries:   board,
	})
	if err != nil {
		return fmt.Errorf("create webhook handler: %w", err)
	}

	var shuttingDown atomic.Bool
	mux := http.NewServeMux()
	mux.Handle("POST /webhook", hook)
	mux.HandleFunc("GET /healthz", func(rw http.ResponseWriter, r *http.Request) {
		io.WriteString(rw, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(rw http.ResponseWriter, r *http.Request) {
		if reason := notReady(r.Context(), &shuttingDown, w, q, be.down); reason != "" {
			http.Error(rw, reason, http.StatusServiceUnavailable)
			return
		}
		io.WriteString(rw, "ready\n")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	if err := registerStatus(mux, cfg, q, board, published, log.WithField("component", "status")); err != nil {
		return err
	}

	// The HTTP server's own errors go to the log; closing the writer ends
	// the goroutine logrus runs behind it.
	httpErrors := logger.WithField("component", "http").WriterLevel(logrus.WarnLevel)
	defer httpErrors.Close()
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          stdlog.New(httpErrors, "", 0),
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}

	// The worker and the reconciler stop taking work when runCtx ends; the
	// HTTP server is drained first so that no acknowledged webhook is cut.
	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRun()
	workerDone := make(chan error, 1)
	go func() { workerDone <- w.Run(runCtx) }()
	recDone := make(chan error, 1)
	go func() { recDone <- rec.Run(runCtx) }()
	srvDone := make(chan error, 1)
	go func() { srvDone <- srv.Serve(ln) }()
	log.WithField("addr", ln.Addr().String()).Info("listening")
	if cfg.listening != nil {
		cfg.listening <- ln.Addr().String()
	}

	var serveErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-srvDone:
		serveErr = fmt.Errorf("serve http: %w", err)
		log.WithError(err).Error("http server stopped")
	}
	shuttingDown.Store(true)
	if cfg.DrainDelay > 0 && serveErr == nil {
		// /readyz answers 503 now; webhooks are still taken while load
		// balancers notice, since GitHub does not retry a failed delivery.
		log.WithField("delay", cfg.DrainDelay.String()).Info("draining: not ready, still taking webhooks")
		t := time.NewTimer(cfg.DrainDelay)
		<-t.C
	}

	log.WithField("grace", cfg.ShutdownGrace.String()).Info("no new webhooks; running jobs get the grace period")
	drainCtx, cancelDrain := context.WithTimeout(context.Background(), httpDrainTimeout)
	if err := srv.Shutdown(drainCtx); err != nil {
		log.WithError(err).Warn("http drain cut short")
		srv.Close()
	}
	cancelDrain()
	stopRun()
	<-workerDone
	<-recDone
	if err := q.Close(); err != nil && !errors.Is(err, queue.ErrClosed) {
		log.WithError(err).Warn("close queue")
	}
	log.Info("stopped")
	return serveErr
}

// notReady says why the server should not get traffic, "" when it should.
func notReady(ctx context.Context, shuttingDown *atomic.Bool, w *worker.Worker, q queue.Queue, down func() string) string {
	if shuttingDown.Load() {
		return "shutting down"
	}
	if !w.Running() {
		return "worker not running"
	}
	if reason := down(); reason != "" {
		return reason
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := q.Stats(ctx); err != nil {
		return "queue unavailable"
	}
	return ""
}

// retryable is the queue's retry policy: a permanent publisher error (bad
// configuration, a limit exceeded) fails the same way again.
func retryable(err error) bool { return !errors.Is(err, publisher.ErrPermanent) }

func authMode(cfg serveConfig) string {
	switch {
	case cfg.GitHubToken != "":
		return "token"
	case cfg.AppID != 0:
		return "app"
	default:
		return "none"
	}
}

// newGitHubClient builds the GitHub adaptor from the configured credential;
// nil (and no error) without one.
func newGitHubClient(cfg serveConfig, log *logrus.Entry) (*ghapi.Client, error) {
	opts := ghapi.Options{Log: log, UserAgent: "publishbot/" + version}
	switch {
	case cfg.GitHubToken != "":
		c, err := ghapi.NewTokenClient(cfg.GitHubToken.Reveal(), cfg.GitHubAPIURL, opts)
		if err != nil {
			return nil, fmt.Errorf("github client: %w", err)
		}
		return c, nil
	case cfg.AppID != 0:
		key, err := os.ReadFile(cfg.AppPrivateKeyFile)
		if err != nil {
			return nil, fmt.Errorf("read github app private key: %w", err)
		}
		c, err := ghapi.NewAppClient(cfg.AppID, key, cfg.GitHubAPIURL, opts)
		if err != nil {
			return nil, fmt.Errorf("github client: %w", err)
		}
		return c, nil
	}
	return nil, nil
}
