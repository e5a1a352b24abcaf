package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// runHealthcheck probes a running serve's /healthz and exits 0 when it
// answers 200, 1 otherwise: a container HEALTHCHECK that needs no shell or
// curl. Without --url it probes the port of PUBLISHBOT_ADDR on loopback.
func runHealthcheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("healthcheck", "usage: publishbot healthcheck [--url URL] [--timeout 3s]\n", stderr)
	target := fs.String("url", "", "URL to probe (default http://127.0.0.1:<port of PUBLISHBOT_ADDR>/healthz)")
	timeout := fs.Duration("timeout", 3*time.Second, "give up after this long")
	if _, err := parseArgs(fs, args, 0); err != nil {
		return err
	}
	u := *target
	if u == "" {
		var err error
		if u, err = healthURL(getenv("PUBLISHBOT_ADDR")); err != nil {
			return usageError("healthcheck: %w", err)
		}
	}
	if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return usageError("healthcheck: bad --url %q: want an http(s) URL", u)
	}

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return usageError("healthcheck: %w", err)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s", u, resp.Status)
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}

// healthURL turns a listen address (":8080", "0.0.0.0:9000", "[::]:80") into
// the loopback URL of its /healthz.
func healthURL(addr string) (string, error) {
	if addr == "" {
		addr = defaultServeConfig().Addr
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("PUBLISHBOT_ADDR %q: %w", addr, err)
	}
	switch host {
	case "", "0.0.0.0", "::":
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz", nil
}
