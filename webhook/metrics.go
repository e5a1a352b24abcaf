package webhook

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the handler's Prometheus metrics. A nil *Metrics records
// nothing. Safe for concurrent use.
type Metrics struct {
	deliveries *prometheus.CounterVec
	duration   prometheus.Histogram
}

// NewMetrics creates the metrics and registers them with reg (when not nil):
//
//	publishbot_webhook_deliveries_total{event,result}  deliveries by X-GitHub-Event
//	    ("unverified" before the signature checks out) and result (queued,
//	    duplicate, ignored, pong, unauthorized, too_large, bad_request,
//	    unsupported_media_type, unavailable, method_not_allowed)
//	publishbot_webhook_response_seconds                time to answer a delivery
//
// Registering twice with one registry reuses the collectors already there.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "publishbot_webhook_deliveries_total",
			Help: "Webhook deliveries received, by event and result.",
		}, []string{"event", "result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "publishbot_webhook_response_seconds",
			Help:    "Time from receiving a webhook delivery to answering it (after durable enqueue).",
			Buckets: []float64{.001, .0025, .005, .01, .02, .05, .1, .25, .5, 1, 2.5},
		}),
	}
	if reg != nil {
		m.deliveries = register(reg, m.deliveries)
		m.duration = register(reg, m.duration)
	}
	return m
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err) // a different metric under our name: a wiring bug
	}
	return c
}

func (m *Metrics) observe(event, result string, d time.Duration) {
	if m == nil {
		return
	}
	m.deliveries.WithLabelValues(event, result).Inc()
	m.duration.Observe(d.Seconds())
}
