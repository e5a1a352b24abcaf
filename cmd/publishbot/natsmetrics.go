package main

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/publishbot/publishbot/queue/jetstream"
)

// queueCollector exports the JetStream queue's stream and consumer info.
type queueCollector struct {
	q                                              *jetstream.Queue
	stored, pending, ackPending, redelivered, dead *prometheus.Desc
	lockWaits, recovered                           *prometheus.Desc
}

func newQueueCollector(q *jetstream.Queue) *queueCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("publishbot_nats_"+name, help, nil, nil)
	}
	return &queueCollector{
		q:           q,
		stored:      d("jobs_stored", "Jobs in the JetStream stream: queued, delayed and running, on every replica."),
		pending:     d("jobs_pending", "Stored jobs the consumer has not delivered yet."),
		ackPending:  d("jobs_ack_pending", "Jobs delivered and not finished: running, or waiting for their time or their repository."),
		redelivered: d("jobs_redelivered", "Jobs delivered more than once and not finished (waiting, or taken over after a replica stopped)."),
		dead:        d("jobs_dead", "Dead letters kept in the dead-letter stream."),
		lockWaits:   d("lock_waits_total", "Deliveries to this replica that found their repository's lock held."),
		recovered:   d("jobs_recovered_total", "Jobs this replica took over from a replica that stopped during them."),
	}
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.stored, c.pending, c.ackPending, c.redelivered, c.dead, c.lockWaits, c.recovered} {
		ch <- d
	}
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	info, err := c.q.Info(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.stored, err)
		return
	}
	g := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	g(c.stored, float64(info.Stored))
	g(c.pending, float64(info.Pending))
	g(c.ackPending, float64(info.AckPending))
	g(c.redelivered, float64(info.Redelivered))
	g(c.dead, float64(info.Dead))
	ch <- prometheus.MustNewConstMetric(c.lockWaits, prometheus.CounterValue, float64(info.LockWaits))
	ch <- prometheus.MustNewConstMetric(c.recovered, prometheus.CounterValue, float64(info.Recovered))
}
