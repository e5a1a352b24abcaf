package main

import (
	"net/http"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"github.com/publishbot/publishbot/queue"
	"github.com/publishbot/publishbot/status"
	"github.com/publishbot/publishbot/worker"
)

// registerStatus mounts the status page on mux when a status token is
// configured; without one /status is not served at all (404).
func registerStatus(mux *http.ServeMux, cfg serveConfig, q queue.Queue, board *status.Board, set *worker.PublishedSet, log *logrus.Entry) error {
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
