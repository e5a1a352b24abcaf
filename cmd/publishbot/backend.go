package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"github.com/publishbot/publishbot/natsshare"
	"github.com/publishbot/publishbot/queue"
	"github.com/publishbot/publishbot/queue/jetstream"
	"github.com/publishbot/publishbot/worker"
)

// backend is what serve keeps its shared state in: the queue, the set of
// published repositories and, with several replicas, the reconciler's
// lease. Embedded: files in the data dir. NATS: JetStream, shared by every
// replica on the same server or cluster.
type backend struct {
	queue     queue.Queue
	published worker.PublishedRepos
	lease     worker.Lease // nil: this process alone reconciles
	// down says why the backend cannot store jobs now ("" when it can):
	// /readyz is not ready then.
	down func() string
	// collectors are its metrics, registered by serve.
	collectors []prometheus.Collector
	close      func()
}

// isNATS says whether PUBLISHBOT_QUEUE names NATS servers.
func isNATS(q string) bool {
	return strings.HasPrefix(q, "nats://") || strings.HasPrefix(q, "tls://")
}

// queueProblems checks PUBLISHBOT_QUEUE and the NATS settings.
func (c serveConfig) queueProblems() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch {
	case c.Queue == "embedded":
		if c.NATSCreds != "" {
			bad("PUBLISHBOT_NATS_CREDS is set but PUBLISHBOT_QUEUE is embedded: set PUBLISHBOT_QUEUE=nats://host:4222")
		}
	case isNATS(c.Queue):
		for _, s := range strings.Split(c.Queue, ",") {
			u, err := url.Parse(strings.TrimSpace(s))
			if err != nil || (u.Scheme != "nats" && u.Scheme != "tls") || u.Host == "" || (u.Path != "" && u.Path != "/") {
				bad("PUBLISHBOT_QUEUE %q: want nats://host:port or tls://host:port, comma-separated", maskQueueURLs(s))
			}
		}
		if c.NATSCreds != "" {
			if _, err := os.Stat(c.NATSCreds); err != nil {
				bad("PUBLISHBOT_NATS_CREDS: %v", err)
			}
		}
		if c.NATSReplicas < 1 || c.NATSReplicas > 5 {
			bad("PUBLISHBOT_NATS_REPLICAS %d: want 1 to 5 (3 on a three-server cluster)", c.NATSReplicas)
		}
		if c.NATSLease < time.Second || c.NATSLease > 10*time.Minute {
			bad("PUBLISHBOT_NATS_LEASE %s: want 1s to 10m", c.NATSLease)
		}
	default:
		bad("PUBLISHBOT_QUEUE %q: want embedded or nats://host:4222", maskQueueURLs(c.Queue))
	}
	return errs
}

// maskQueueURLs replaces the user information (a user and password, or a
// token) of each URL in a PUBLISHBOT_QUEUE value with "***".
func maskQueueURLs(q string) string {
	parts := strings.Split(q, ",")
	for i, s := range parts {
		if u, err := url.Parse(strings.TrimSpace(s)); err == nil && u.User != nil {
			u.User = url.User("***")
			parts[i] = strings.Replace(u.String(), "%2A%2A%2A", "***", 1)
		} else if err != nil && strings.Contains(s, "@") {
			parts[i] = "***"
		}
	}
	return strings.Join(parts, ",")
}

// queueURLSecrets are the passwords and tokens in PUBLISHBOT_QUEUE, for the
// log masker.
func queueURLSecrets(q string) []string {
	var out []string
	for _, s := range strings.Split(q, ",") {
		u, err := url.Parse(strings.TrimSpace(s))
		if err != nil || u.User == nil {
			continue
		}
		if p, ok := u.User.Password(); ok {
			out = append(out, p)
		} else {
			out = append(out, u.User.Username()) // a token
		}
	}
	return out
}

// openBackend opens the configured backend.
func openBackend(ctx context.Context, cfg serveConfig, log *logrus.Entry) (*backend, error) {
	qopts := queue.Options{MaxAttempts: cfg.MaxAttempts, Retryable: retryable, Log: log.WithField("component", "queue")}
	if isNATS(cfg.Queue) {
		return openNATSBackend(ctx, cfg, qopts, log)
	}
	b, err := queue.OpenBolt(filepath.Join(cfg.DataDir, "queue.db"), qopts)
	if err != nil {
		return nil, err // says "open queue <path>: ..."
	}
	published, err := worker.OpenPublishedSet(filepath.Join(cfg.DataDir, "published.json"), nil)
	if err != nil {
		b.Close()
		return nil, err
	}
	return &backend{queue: b, published: published, down: func() string { return "" }, close: func() {}}, nil
}

// openNATSBackend connects to the NATS servers (reconnecting for ever
// afterwards) and opens the JetStream queue, the shared published set and
// the reconciler lease on them.
func openNATSBackend(ctx context.Context, cfg serveConfig, qopts queue.Options, log *logrus.Entry) (*backend, error) {
	nlog := log.WithField("component", "nats")
	closed := make(chan struct{})
	opts := []nats.Option{
		nats.Name("publishbot " + version),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		// No buffering while disconnected: a publish fails at once, so a
		// webhook is answered 503 and GitHub keeps it, never 2xx unstored.
		nats.ReconnectBufSize(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil { // nil: closed by us
				nlog.WithError(err).Warn("NATS connection lost: not ready until it is back")
			}
		}),
		nats.ClosedHandler(func(*nats.Conn) { close(closed) }),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			nlog.WithField("server", nc.ConnectedUrlRedacted()).Info("NATS connection back")
		}),
	}
	if cfg.NATSCreds != "" {
		opts = append(opts, nats.UserCredentials(cfg.NATSCreds))
	}
	if strings.Contains(cfg.Queue, "tls://") {
		opts = append(opts, nats.Secure())
	}
	nc, err := nats.Connect(cfg.Queue, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to NATS %s: %w", maskQueueURLs(cfg.Queue), err)
	}
	ok := false
	defer func() {
		if !ok {
			nc.Close()
		}
	}()
	js, err := natsjs.New(nc)
	if err != nil {
		return nil, fmt.Errorf("NATS JetStream: %w", err)
	}
	octx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	q, err := jetstream.Open(octx, js, jetstream.Options{
		Options: qopts, Replicas: cfg.NATSReplicas, Lease: cfg.NATSLease,
	})
	if err != nil {
		return nil, err
	}
	const name = "publishbot"
	published, err := natsshare.OpenPublishedSet(octx, js, name, cfg.NATSReplicas, nil)
	if err != nil {
		q.Close()
		return nil, err
	}
	lease, err := natsshare.OpenLease(octx, js, natsshare.LeaseOptions{
		Name: name, Key: "reconciler", Replicas: cfg.NATSReplicas, TTL: cfg.NATSLease,
		Log: log.WithField("component", "reconciler"),
	})
	if err != nil {
		published.Close()
		q.Close()
		return nil, err
	}
	ok = true
	return &backend{
		queue:     q,
		published: published,
		lease:     lease,
		down: func() string {
			if !nc.IsConnected() {
				return "NATS connection down"
			}
			return ""
		},
		collectors: []prometheus.Collector{newQueueCollector(q)},
		close: func() {
			published.Close()
			q.Close()
			if err := nc.Drain(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
				nlog.WithError(err).Warn("drain NATS connection")
			}
			// The handlers log; serve's log must not outlive serve.
			t := time.NewTimer(10 * time.Second)
			defer t.Stop()
			select {
			case <-closed:
			case <-t.C:
				nc.Close()
			}
		},
	}, nil
}
