package publisher

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/publishbot/publishbot/posts"
	"github.com/publishbot/publishbot/templates"
)

// buildInput is what one site build reads.
type buildInput struct {
	Content   fs.FS         // the tree posts are loaded from (and assets copied from)
	Templates fs.FS         // template overrides (the templates/ folder), nil for none
	Config    *posts.Config // nil: the content's own publish.yaml
	BaseURL   string        // "" keeps the configured base_url
	Repo      string        // "owner/name"
	Now       time.Time
	Render    templates.Options
}

// buildFunc renders a site in memory: output files keyed by site-relative
// path, and the loaded site (for diagnostics, changed posts and schedules).
type buildFunc func(ctx context.Context, in buildInput) (*posts.Site, map[string][]byte, error)

// buildSite is the real build: posts.Load, then templates.
func buildSite(ctx context.Context, in buildInput) (*posts.Site, map[string][]byte, error) {
	site, err := posts.Load(in.Content, posts.Options{Now: in.Now, BaseURL: in.BaseURL, Config: in.Config, Repo: in.Repo})
	if err != nil {
		return nil, nil, fmt.Errorf("load content: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return site, nil, err
	}
	r, err := templates.New(in.Templates)
	if err != nil {
		// Broken template overrides are the content's fault: retrying the
		// same commit cannot help.
		return site, nil, permanent(fmt.Errorf("parse templates: %w", err))
	}
	files, err := r.Render(site, in.Content, in.Render)
	if err != nil {
		return site, nil, fmt.Errorf("render site: %w", err)
	}
	return site, files, nil
}

// templatesDir is the tree's templates/ folder, nil when there is none.
func templatesDir(tree fs.FS) (fs.FS, error) {
	st, err := fs.Stat(tree, "templates")
	if errors.Is(err, fs.ErrNotExist) || (err == nil && !st.IsDir()) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read templates: %w", err)
	}
	return fs.Sub(tree, "templates")
}
