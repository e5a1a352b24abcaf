package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/publishbot/publishbot/demo"
)

const demoUsage = `usage: publishbot demo [--addr 127.0.0.1:8080] [--once] [-v]

Runs the whole loop on this machine with no GitHub account: a local git
server, a GitHub API stand-in, the bot, a signed push and a pull request.
`

// runDemo is `publishbot demo`: package demo's stand-ins and story, with
// serve as the bot; it serves the published blog until interrupted, or
// exits after both acts with --once.
func runDemo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", demoUsage, stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "where to serve the pages branch (loopback)")
	once := fs.Bool("once", false, "exit after both acts instead of serving until interrupted")
	verbose := fs.Bool("v", false, "show the bot's logs")
	if _, err := parseArgs(fs, args, 0); err != nil {
		return err
	}
	d, err := demo.New(ctx, demo.Options{Addr: *addr, Out: stdout, Bot: demoBot(*verbose, stderr), Once: *once})
	if errors.Is(err, demo.ErrNotLoopback) {
		return usageError("demo: %w", err)
	}
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer d.Close()
	if err := d.Run(ctx); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if *once {
		return nil
	}
	fmt.Fprintf(stdout, "\nServing the pages branch at %s (Ctrl-C to stop).\n", d.SiteURL())
	<-ctx.Done()
	return nil
}

// demoBot is serve on a loopback port with the demo's settings, logging
// warnings (everything with verbose) to stderr.
func demoBot(verbose bool, stderr io.Writer) demo.Bot {
	return func(ctx context.Context, b demo.BotConfig, listening chan<- string) error {
		cfg := defaultServeConfig()
		cfg.Addr = "127.0.0.1:0"
		cfg.DataDir = b.DataDir
		cfg.WebhookSecret = Secret(b.WebhookSecret)
		cfg.GitHubToken = Secret(b.GitHubToken)
		cfg.GitHubAPIURL = b.GitHubAPIURL
		cfg.GitURL = b.GitURL // clones go to the demo's git server, and the token with them
		cfg.LogFormat = "text"
		cfg.LogLevel = "warn"
		if verbose {
			cfg.LogLevel = "info"
		}
		cfg.ShutdownGrace = 5 * time.Second
		cfg.PagesWatch = 30 * time.Second // the stand-in builds at once
		cfg.listening = listening
		if err := cfg.validate(); err != nil {
			return err
		}
		logger, err := newServeLogger(cfg, stderr)
		if err != nil {
			return err
		}
		return serve(ctx, cfg, logger)
	}
}
