package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// commandHelp is what a subcommand's -h says besides its usage text and
// flags: one sentence first, and its exit statuses last when it has its own.
type commandHelp struct {
	summary string
	exits   []string // "0  meaning", in order
}

// helpFor is the help of each subcommand in commands(); a test holds every
// subcommand's -h to the same shape.
func helpFor(name string) commandHelp {
	usageExit := "2  bad command line"
	switch name {
	case "check":
		return commandHelp{"Validate a blog's content as a publish would build it.", []string{
			"0  no errors (warnings allowed)", "1  errors: those posts would be left out", "2  bad command line or unreadable folder"}}
	case "build":
		return commandHelp{"Build a blog into a folder of static files.", []string{
			"0  built", "1  a post has errors (the rest is written)", usageExit}}
	case "preview":
		return commandHelp{"Serve a blog on this machine, rebuilt on every change.", nil}
	case "publish":
		return commandHelp{"Publish one repository once: fetch, build, commit to the pages branch and push.", []string{
			"0  published, unchanged or skipped", "1  failed", usageExit}}
	case "serve":
		return commandHelp{"Run the bot: take GitHub's webhooks and publish what they announce.", []string{
			"0  stopped by a signal after finishing", "1  failed", "2  bad configuration"}}
	case "healthcheck":
		return commandHelp{"Probe a running serve, for a container's health check.", []string{
			"0  healthy", "1  not healthy or not answering", usageExit}}
	case "demo":
		return commandHelp{"Run the whole loop on this machine with no GitHub account.", nil}
	case "init":
		return commandHelp{"Write publish.yaml for a blog, carrying over a Jekyll, Hugo, Zola or Eleventy configuration.", nil}
	case "new":
		return commandHelp{"Write a new post with front matter.", nil}
	case "setup":
		return commandHelp{"Connect publishbot to GitHub: register its GitHub App, or check a personal access token.", []string{
			"0  done: the credentials and publishbot.env are written", "1  failed, or the token lacks something (listed)", usageExit}}
	case "version":
		return commandHelp{"Print publishbot's version, VCS revision and build date.", nil}
	}
	return commandHelp{}
}

// printHelp writes a subcommand's -h: its sentence, its usage text (the
// usage line and any paragraphs under it), its flags, and its exit statuses.
func printHelp(w io.Writer, fs *flag.FlagSet, synopsis string) {
	h := helpFor(fs.Name())
	if h.summary != "" {
		fmt.Fprintf(w, "%s\n\n", h.summary)
	}
	fmt.Fprint(w, strings.TrimRight(synopsis, "\n")+"\n\nflags:\n")
	any := false
	fs.VisitAll(func(*flag.Flag) { any = true })
	if any {
		fs.PrintDefaults()
	} else {
		fmt.Fprintln(w, "  none")
	}
	if len(h.exits) > 0 {
		fmt.Fprint(w, "\nexit status:\n")
		for _, e := range h.exits {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
}
