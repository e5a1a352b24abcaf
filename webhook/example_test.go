package webhook_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"github.com/publishbot/publishbot/queue"
	"github.com/publishbot/publishbot/webhook"
)

// The handler sits in front of the durable queue; the server around it sets
// its timeouts.
func ExampleNew() {
	dir, _ := os.MkdirTemp("", "publishbot")
	defer os.RemoveAll(dir)
	q, err := queue.OpenBolt(filepath.Join(dir, "queue.db"), queue.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer q.Close()

	hook, err := webhook.New(webhook.Options{
		Secret:  []byte("the secret configured on the GitHub webhook"),
		Queue:   q,
		Log:     logrus.NewEntry(logrus.New()),
		Metrics: webhook.NewMetrics(prometheus.NewRegistry()),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.Handle("POST /webhook", hook)
	srv := &http.Server{Addr: ":8080", Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	_ = srv // srv.ListenAndServe()

	_, err = webhook.New(webhook.Options{Queue: q})
	fmt.Println(err)
	// Output: webhook: a webhook secret is required
}
