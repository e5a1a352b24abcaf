// Command publishbot is a Git-backed publishing bot: it validates and renders
// Markdown posts from a content repository and publishes them to the pages
// branch that GitHub Pages serves. main only wires; see run.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"
)

// version and revision are set at build time with -ldflags
// "-X main.version=... -X main.revision=..." (the Docker build does).
var (
	version  = "dev"
	revision = ""
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal starts a graceful stop, a second one kills
		// the process as usual.
		<-ctx.Done()
		stop()
	}()
	endProfiles, err := startProfiles(os.Getenv)
	if err == nil {
		err = run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	}
	endProfiles()
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// exitError carries a process exit code; a nil Err means nothing more to print.
type exitError struct {
	Code int
	Err  error
}

func (e *exitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}

func (e *exitError) Unwrap() error { return e.Err }

// usageError marks a bad command line: exit code 2.
func usageError(format string, args ...any) error {
	return &exitError{Code: 2, Err: fmt.Errorf(format, args...)}
}

func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			fmt.Fprintln(stderr, "publishbot:", ee.Err)
		}
		return ee.Code
	}
	fmt.Fprintln(stderr, "publishbot:", err)
	return 1
}

// command is one subcommand: args exclude the subcommand's name.
type command func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error

func commands() map[string]command {
	return map[string]command{
		"check":       runCheck,
		"build":       runBuild,
		"preview":     runPreview,
		"publish":     runPublish,
		"serve":       runServe,
		"healthcheck": runHealthcheck,
		"demo":        runDemo,
		"init":        runInit,
		"new":         runNew,
		"setup":       runSetup,
		"version":     runVersion,
	}
}

const usage = `publishbot: a Git-backed publishing bot for Markdown blogs

usage:
  publishbot check   [--format text|json|github] [DIR]   validate; exit 0 clean, 1 errors, 2 usage
  publishbot build   [-o DIR] [--drafts] [--future] [--base-url URL] [DIR]
  publishbot preview [--addr 127.0.0.1:1313] [DIR]        local preview, rebuilds on change
  publishbot publish --repo URL [--ref REF]               one-shot fetch, build, commit, push
  publishbot serve                                        the bot (config from PUBLISHBOT_* env)
  publishbot demo                                         the whole loop on this machine, no GitHub
  publishbot init    [DIR]                                detect Jekyll/Hugo/Zola/Eleventy, write publish.yaml
  publishbot new     [--bundle] "Title"                   a new post with front matter
  publishbot healthcheck                                  probe a running serve (for containers)
  publishbot setup   --url URL | --token T --repo O/N     register the GitHub App, or check a token
  publishbot version
`

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return &exitError{Code: 2}
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	cmd, ok := commands()[args[0]]
	if !ok {
		fmt.Fprint(stderr, usage)
		return usageError("unknown command %q", args[0])
	}
	return cmd(ctx, args[1:], getenv, stdout, stderr)
}

func runVersion(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if _, err := parseArgs(newFlagSet("version", "usage: publishbot version\n", stderr), args, 0); err != nil {
		return err
	}
	info, _ := debug.ReadBuildInfo()
	fmt.Fprintln(stdout, versionLine(version, info))
	return nil
}

// versionLine is "publishbot VERSION (REVISION, DATE)": the version given
// with -ldflags, else the module's; the VCS revision and commit date from
// the build info (the Docker build passes the revision with -ldflags, as its
// context has no .git), "+dirty" when the tree had changes.
func versionLine(ldVersion string, info *debug.BuildInfo) string {
	v := ldVersion
	var rev, date string
	dirty := false
	if info != nil {
		if (v == "" || v == "dev") && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				date = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	if revision != "" {
		rev = revision
	}
	line := "publishbot " + v
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if dirty {
			rev += "+dirty"
		}
		if date != "" {
			line += " (" + rev + ", " + date + ")"
		} else {
			line += " (" + rev + ")"
		}
	}
	line += " " + runtime.Version()
	return line
}
