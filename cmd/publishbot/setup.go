package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/publishbot/publishbot/gitauth"
	"github.com/publishbot/publishbot/setup"
)

const setupUsage = `usage: publishbot setup --url URL [--org ORG] [--github-url URL] [--data-dir DIR]
       publishbot setup --token TOKEN --repo OWNER/NAME [--url URL] [--data-dir DIR]

With --url, registers publishbot as a GitHub App through GitHub's App
manifest flow: open the page it serves on this machine, confirm the App on
GitHub, and the App's id, private key and webhook secret are written (mode
0600) to the data folder with publishbot.env, which serve reads. With
--token (or PUBLISHBOT_GITHUB_TOKEN and --repo), checks what the token may do
on the repository and its GitHub Pages settings, says what is missing, and
writes the token and a new webhook secret the same way. It then prints the
installation link or webhook settings, and the command that runs the bot.
The key, secret and token are never printed.
`

// runSetup is `publishbot setup`: flags into setup.RegisterApp or
// setup.CheckToken.
func runSetup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("setup", setupUsage, stderr)
	botURL := fs.String("url", "", "the bot's public address; GitHub sends webhooks to URL/webhook")
	githubURL := fs.String("github-url", gitauth.DefaultBase, "GitHub's web address (an Enterprise Server's for GHES); the API address follows from it")
	org := fs.String("org", "", "register the App under this organisation (default: your user)")
	name := fs.String("name", "", "the App's name (default publishbot-<host of --url>; GitHub lets you change it)")
	dataDir := fs.String("data-dir", "", "where the credentials and publishbot.env go (default: $PUBLISHBOT_DATA_DIR, else publishbot-data)")
	listen := fs.String("listen", "127.0.0.1:0", "loopback address of the setup page")
	force := fs.Bool("force", false, "replace credentials already in the data folder")
	token := fs.String("token", "", `check this personal access token instead of registering an App ("-" reads it from standard input; default: $PUBLISHBOT_GITHUB_TOKEN when --repo is given)`)
	repo := fs.String("repo", "", "with a token: the blog's repository, owner/name")
	pagesBranch := fs.String("pages-branch", "gh-pages", "with a token: the branch GitHub Pages should serve")
	if _, err := parseArgs(fs, args, 0); err != nil {
		return err
	}
	web, err := gitauth.ParseBase(*githubURL)
	if err != nil {
		return usageError("setup: --github-url: %w", err)
	}
	api, err := gitauth.APIForBase(web.String())
	if err != nil {
		return usageError("setup: --github-url: %w", err)
	}
	dir := *dataDir
	if dir == "" {
		dir = getenv("PUBLISHBOT_DATA_DIR")
	}
	if dir == "" {
		dir = defaultServeConfig().DataDir
	}

	tok := *token
	if tok == "-" {
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("setup: read the token from standard input: %w", err)
		}
		tok = strings.TrimSpace(line)
	}
	if tok == "" && *repo != "" {
		tok = getenv("PUBLISHBOT_GITHUB_TOKEN")
	}
	if tok != "" || *repo != "" {
		switch {
		case *repo == "":
			return usageError("setup: --repo owner/name is required with a token")
		case tok == "":
			return usageError("setup: --repo needs a token: --token, or PUBLISHBOT_GITHUB_TOKEN")
		case *org != "" || *name != "":
			return usageError("setup: --org and --name are for registering an App, not for a token")
		}
		if *botURL != "" {
			if _, err := setup.WebhookURL(*botURL); err != nil {
				return usageError("setup: %w", err)
			}
		}
		_, err := setup.CheckToken(ctx, setup.TokenOptions{
			Token: tok, Repo: *repo, WebURL: web, APIURL: api, PagesBranch: *pagesBranch,
			BotURL: *botURL, DataDir: dir, Overwrite: *force, Out: stdout,
		})
		if errors.Is(err, setup.ErrTokenLacks) {
			return &exitError{Code: 1} // the report said what
		}
		if err != nil {
			return fmt.Errorf("setup: %w", err)
		}
		return nil
	}
	if *botURL == "" {
		return usageError("setup: --url is required: the bot's public https:// address, where GitHub will send webhooks")
	}
	if _, err := setup.WebhookURL(*botURL); err != nil {
		return usageError("setup: %w", err)
	}
	if _, err := setup.RegisterApp(ctx, setup.AppOptions{
		BotURL: *botURL, WebURL: web, APIURL: api, Org: *org, Name: *name,
		DataDir: dir, Overwrite: *force, Listen: *listen, Out: stdout,
	}); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	return nil
}
