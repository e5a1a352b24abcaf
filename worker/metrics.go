package worker

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/publishbot/publishbot/queue"
)

// Metrics are the worker's Prometheus metrics. A nil *Metrics records
// nothing.
type Metrics struct {
	jobs       *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	schedules  prometheus.Counter
	reconciles *prometheus.CounterVec
	reports    *prometheus.CounterVec
	lastPub    *prometheus.GaugeVec
}

// NewMetrics creates the metrics and registers them with reg (a nil reg
// registers nothing, for tests). It panics if they are already registered,
// like prometheus.MustRegister.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "publishbot_jobs_total",
			Help: "Jobs run, by kind and result (published, unchanged, skipped, removed, failed, panic, handed_back).",
		}, []string{"kind", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "publishbot_job_duration_seconds",
			Help:    "Time to run one job, by kind.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300},
		}, []string{"kind"}),
		schedules: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "publishbot_scheduled_publishes_total",
			Help: "Publishes queued for the date of a future post.",
		}),
		reconciles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "publishbot_reconcile_checks_total",
			Help: "Reconciler checks of a published repository, by result (in_sync, queued, error).",
		}, []string{"result"}),
		reports: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "publishbot_reports_total",
			Help: "Results reported to GitHub (comment, check run, status), by result (ok, failed).",
		}, []string{"result"}),
		lastPub: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "publishbot_last_publish_timestamp_seconds",
			Help: "When the repository's site was last published (or found up to date) by this process, in Unix seconds.",
		}, []string{"repo"}),
	}
	if reg != nil {
		reg.MustRegister(m.jobs, m.duration, m.schedules, m.reconciles, m.reports, m.lastPub)
	}
	return m
}

func (m *Metrics) job(kind queue.Kind, result string, d time.Duration) {
	if m == nil {
		return
	}
	m.jobs.WithLabelValues(string(kind), result).Inc()
	m.duration.WithLabelValues(string(kind)).Observe(d.Seconds())
}

func (m *Metrics) reported(err error) {
	if m == nil {
		return
	}
	if err != nil {
		m.reports.WithLabelValues("failed").Inc()
	} else {
		m.reports.WithLabelValues("ok").Inc()
	}
}

func (m *Metrics) published(repo string, at time.Time) {
	if m != nil {
		m.lastPub.WithLabelValues(repo).Set(float64(at.UnixNano()) / 1e9)
	}
}

func (m *Metrics) scheduled() {
	if m != nil {
		m.schedules.Inc()
	}
}

func (m *Metrics) reconciled(result string) {
	if m != nil {
		m.reconciles.WithLabelValues(result).Inc()
	}
}

// QueueDepth is a Prometheus collector of the queue's depth, read from
// Stats at every scrape: publishbot_queue_depth{state="..."}. Stats returns
// the number of jobs in each state (ready, delayed, running, dead, ...).
type QueueDepth struct {
	Stats   func(ctx context.Context) (map[string]int, error)
	Timeout time.Duration // per scrape; 0 means 2 s
	desc    *prometheus.Desc
	errDesc *prometheus.Desc
}

// NewQueueDepth returns the collector; register it with a registry.
func NewQueueDepth(stats func(ctx context.Context) (map[string]int, error)) *QueueDepth {
	return &QueueDepth{
		Stats:   stats,
		desc:    prometheus.NewDesc("publishbot_queue_depth", "Jobs in the queue, by state.", []string{"state"}, nil),
		errDesc: prometheus.NewDesc("publishbot_queue_stats_up", "1 when the queue's stats could be read at this scrape, else 0.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (q *QueueDepth) Describe(ch chan<- *prometheus.Desc) {
	ch <- q.desc
	ch <- q.errDesc
}

// Collect implements prometheus.Collector.
func (q *QueueDepth) Collect(ch chan<- prometheus.Metric) {
	timeout := q.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	stats, err := q.Stats(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(q.errDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(q.errDesc, prometheus.GaugeValue, 1)
	for state, n := range stats {
		ch <- prometheus.MustNewConstMetric(q.desc, prometheus.GaugeValue, float64(n), state)
	}
}
