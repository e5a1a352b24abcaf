package main

import (
	"context"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"github.com/publishbot/publishbot/ghapi"
	"github.com/publishbot/publishbot/pageswatch"
	"github.com/publishbot/publishbot/preflight"
	"github.com/publishbot/publishbot/queue"
	"github.com/publishbot/publishbot/status"
	"github.com/publishbot/publishbot/worker"
)

// registerStatus mounts the status page on mux when a status token is
// configured; without one /status is not served at all (404).
func registerStatus(mux *http.ServeMux, cfg serveConfig, q queue.Queue, board *status.Board, set worker.PublishedRepos, log *logrus.Entry) error {
	if cfg.StatusToken == "" {
		return nil
	}
	h, err := status.New(status.Options{
		Token:        cfg.StatusToken.Reveal(),
		Queue:        q,
		Board:        board,
		Repositories: set,
		Log:          log,
		Version:      version,
	})
	if err != nil {
		return err
	}
	h.Register(mux)
	log.Info("status page on at /status")
	return nil
}

// buildInfo is publishbot_build_info{version,revision} = 1.
func buildInfo() prometheus.Collector {
	v, rev := version, revision
	if info, ok := debug.ReadBuildInfo(); ok {
		if (v == "" || v == "dev") && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && rev == "" {
				rev = s.Value
			}
		}
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "publishbot_build_info",
		Help:        "Always 1; the labels say which build of publishbot runs.",
		ConstLabels: prometheus.Labels{"version": v, "revision": rev},
	})
	g.Set(1)
	return g
}

// pagesWatcher follows GitHub Pages' builds for cfg.PagesWatch; nil when
// there is no GitHub client or following is off.
func pagesWatcher(cfg serveConfig, gh *ghapi.Client, log *logrus.Entry) (*pageswatch.Watcher, error) {
	if gh == nil || cfg.PagesWatch <= 0 {
		return nil, nil
	}
	// 10 minutes: first poll after 5 s, then up to one a minute.
	first := min(max(cfg.PagesWatch/120, 100*time.Millisecond), 5*time.Second)
	most := min(max(cfg.PagesWatch/10, first), time.Minute)
	return pageswatch.New(pageswatch.Options{Builds: gh, Reporter: gh, Log: log, First: first, Max: most, Timeout: cfg.PagesWatch})
}

// startChecks checks the setup of every repository published before
// (serve's start) in the background, logging problems; jobs check their
// repository on its first run. The checker is nil without a GitHub client;
// stop ends the background checks and waits for them.
func startChecks(ctx context.Context, gh *ghapi.Client, set worker.PublishedRepos, log *logrus.Entry) (c *preflight.Checker, stop func(), err error) {
	if gh == nil {
		return nil, func() {}, nil
	}
	c, err = preflight.New(preflight.Options{GitHub: gh, Log: log})
	if err != nil {
		return nil, nil, err
	}
	var repos []queue.Repo
	for _, p := range set.List() {
		repos = append(repos, p.Repo)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.CheckAll(ctx, repos)
	}()
	return c, func() { cancel(); <-done }, nil
}
