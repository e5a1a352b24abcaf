package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/publishbot/publishbot/migrate"
	"github.com/publishbot/publishbot/posts"
	"github.com/publishbot/publishbot/scaffold"
)

const initUsage = `usage: publishbot init [DIR]

Writes publish.yaml for the blog in DIR (default: the current folder). A Jekyll,
Hugo, Zola or Eleventy configuration is read so that the blog's addresses stay
as they are; what cannot be carried over is listed. An empty (or new) folder
gets a starter blog with one post. An existing publish.yaml is never replaced.
`

// runInit is `publishbot init`: migrate detects, migrate writes.
func runInit(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("init", initUsage, stderr)
	positional, err := parseArgs(fs, args, 1)
	if err != nil {
		return err
	}
	dir := "."
	if len(positional) == 1 {
		dir = positional[0]
	}
	if info, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("init: %w", err)
		}
	} else if err != nil {
		return usageError("init %s: %w", dir, err)
	} else if !info.IsDir() {
		return usageError("init %s: not a folder", dir)
	}
	plan, err := migrate.Detect(os.DirFS(dir))
	if err != nil {
		return fmt.Errorf("init %s: %w", dir, err)
	}
	written, err := migrate.Write(dir, plan, time.Now())
	if err != nil {
		return fmt.Errorf("init: %w", err)
	}
	switch {
	case plan.Generator != "":
		fmt.Fprintf(stdout, "Found a %s blog (%s).\n", generatorName(plan.Generator), plan.Config)
	case plan.Empty:
		fmt.Fprintln(stdout, "Started a new blog.")
	}
	for _, f := range written.Files {
		fmt.Fprintf(stdout, "wrote %s\n", f)
	}
	if len(plan.NotCarried) > 0 {
		fmt.Fprintln(stdout, "\nNot carried over (publishbot does these its own way, or not at all):")
		for _, n := range plan.NotCarried {
			fmt.Fprintf(stdout, "  - %s\n", n)
		}
	}
	fmt.Fprintf(stdout, "\nNext: publishbot check %s   (what a reader would notice)\n      publishbot preview %s (read it at http://127.0.0.1:1313/)\n", dir, dir)
	return nil
}

func generatorName(g migrate.Generator) string {
	switch g {
	case migrate.Jekyll:
		return "Jekyll"
	case migrate.Hugo:
		return "Hugo"
	case migrate.Zola:
		return "Zola"
	case migrate.Eleventy:
		return "Eleventy"
	}
	return string(g)
}

const newUsage = `usage: publishbot new [--bundle] [--draft] [--dir DIR] "Title"

Writes a new post, posts/YYYY-MM-DD-slug.md (or a bundle folder with
index.md), with front matter, under the posts folder publish.yaml names.
`

// runNew is `publishbot new "Title"`.
func runNew(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("new", newUsage, stderr)
	bundle := fs.Bool("bundle", false, "a folder with index.md, for a post with images beside it")
	draft := fs.Bool("draft", false, "mark the post as a draft")
	dir := fs.String("dir", ".", "the content repository")
	positional, err := parseArgs(fs, args, 1)
	if err != nil {
		return err
	}
	if len(positional) != 1 {
		return usageError("new: give the post's title, in quotes: publishbot new \"My first post\"")
	}
	cfg, diags := posts.LoadConfig(os.DirFS(*dir), "")
	for _, d := range diags {
		if d.Severity == posts.SeverityError {
			return fmt.Errorf("new: %s", d)
		}
	}
	rel, err := scaffold.NewPost(*dir, cfg.PostsDir, positional[0], scaffold.PostOptions{Bundle: *bundle, Draft: *draft})
	if err != nil {
		return fmt.Errorf("new: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s\n", rel)
	if _, err := scaffold.IgnorePublic(*dir); err != nil {
		return fmt.Errorf("new: %w", err)
	}
	return nil
}
