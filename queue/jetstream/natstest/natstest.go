// Package natstest runs real NATS servers with JetStream inside tests: one
// server or a cluster, on loopback ports, storing on a test's temporary
// folder, restartable on the same storage. Only tests import it, so
// nats-server is compiled into test binaries only.
package natstest

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/publishbot/publishbot/testkit"
)

// Server is one embedded nats-server with JetStream on file storage.
type Server struct {
	t    testing.TB
	opts server.Options
	srv  *server.Server
}

// Option changes a server's options before it starts.
type Option func(*server.Options)

// SyncAlways makes the server fsync every write before it acknowledges it
// (sync_interval: always), as the embedded queue does; by default
// JetStream writes to the file and syncs every two minutes.
func SyncAlways() Option {
	return func(o *server.Options) { o.SyncAlways = true }
}

// Start starts a server on a random loopback port with JetStream on a new
// temporary folder; it is shut down when the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	port := FreePort(t)
	s := &Server{t: t, opts: server.Options{
		Host:      "127.0.0.1",
		Port:      port,
		JetStream: true,
		StoreDir:  t.TempDir(),
		NoLog:     true,
		NoSigs:    true,
	}}
	for _, o := range opts {
		o(&s.opts)
	}
	s.Restart()
	t.Cleanup(s.Shutdown)
	return s
}

// StartCluster starts n servers routed to each other as one JetStream
// cluster, each with its own storage, and waits until it has a leader.
func StartCluster(t testing.TB, n int) []*Server {
	t.Helper()
	routePorts := make([]int, n)
	for i := range routePorts {
		routePorts[i] = FreePort(t)
	}
	var routes []*url.URL
	for _, p := range routePorts {
		routes = append(routes, &url.URL{Scheme: "nats", Host: fmt.Sprintf("127.0.0.1:%d", p)})
	}
	servers := make([]*Server, n)
	for i := range servers {
		s := &Server{t: t, opts: server.Options{
			ServerName: fmt.Sprintf("n%d", i+1),
			Host:       "127.0.0.1",
			Port:       FreePort(t),
			JetStream:  true,
			StoreDir:   filepath.Join(t.TempDir(), fmt.Sprintf("n%d", i+1)),
			NoLog:      true,
			NoSigs:     true,
			Cluster: server.ClusterOpts{
				Name: "publishbot-test",
				Host: "127.0.0.1",
				Port: routePorts[i],
			},
			Routes: routes,
		}}
		servers[i] = s
		t.Cleanup(s.Shutdown)
	}
	for _, s := range servers {
		s.start(false)
	}
	// Ready when the meta leader knows every server as a JetStream peer
	// with current stats (else an R3 stream finds "no suitable peers").
	testkit.WaitFor(t, "the cluster to elect a leader that knows every peer", 60*time.Second, func() bool {
		for _, s := range servers {
			if s.srv.JetStreamIsLeader() && len(s.srv.JetStreamClusterPeers()) == n {
				return true
			}
		}
		return false
	})
	return servers
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Restart starts the server again (after Shutdown) on the same port and
// storage.
func (s *Server) Restart() {
	s.t.Helper()
	s.start(true)
}

func (s *Server) start(wait bool) {
	s.t.Helper()
	opts := s.opts
	srv, err := server.NewServer(&opts)
	if err != nil {
		s.t.Fatalf("natstest: new server: %v", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		s.t.Fatal("natstest: server not ready in 30s")
	}
	if wait {
		testkit.WaitFor(s.t, "JetStream to start", 30*time.Second, srv.JetStreamEnabled)
	}
	s.srv = srv
}

// Shutdown stops the server (a hard stop for the clients: their
// connections drop). Stopping twice is harmless.
func (s *Server) Shutdown() {
	if s.srv != nil {
		s.srv.Shutdown()
		s.srv.WaitForShutdown()
	}
}

// URL is the server's client address, nats://127.0.0.1:PORT.
func (s *Server) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", s.opts.Port) }

// URLs joins the client addresses of servers with commas, as
// PUBLISHBOT_QUEUE takes them.
func URLs(servers []*Server) string {
	var u []string
	for _, s := range servers {
		u = append(u, s.URL())
	}
	return strings.Join(u, ",")
}

// Connect connects to url, reconnecting for ever, and closes the
// connection when the test ends.
func Connect(t testing.TB, url string) (*nats.Conn, natsjs.JetStream) {
	t.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond), nats.RetryOnFailedConnect(true))
	if err != nil {
		t.Fatalf("natstest: connect %s: %v", url, err)
	}
	t.Cleanup(nc.Close)
	js, err := natsjs.New(nc)
	if err != nil {
		t.Fatalf("natstest: jetstream: %v", err)
	}
	return nc, js
}
