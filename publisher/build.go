package publisher

import (
	"context"
	"errors"
	"io/fs"
	"time"

	"github.com/publishbot/publishbot/posts"
	"github.com/publishbot/publishbot/site"
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
	Limits    site.Limits       // what the build may make
	Cache     posts.RenderCache // nil: none
	// Previous gives Render.Previous and the sizes of the files kept from
	// the previous build once the content is loaded (site.Options.Previous).
	Previous func() site.Previous
}

// buildFunc renders a site in memory: output files keyed by site-relative
// path, the loaded site (for diagnostics, changed posts and schedules) and
// each post's index page. It returns when ctx ends; the Output may be
// non-nil with an error (the content loaded, a later step failed).
type buildFunc func(ctx context.Context, in buildInput) (*site.Output, error)

// buildSite is the real build: site.Build. Template overrides that do not
// parse and a site larger than the limits are the content's fault, so those
// errors are permanent: retrying the same commit cannot help.
func buildSite(ctx context.Context, in buildInput) (*site.Output, error) {
	out, err := site.Build(ctx, in.Content, in.Templates, site.Options{
		Config: in.Config, BaseURL: in.BaseURL, Repo: in.Repo, Now: in.Now, Render: in.Render, Limits: in.Limits,
		Cache: in.Cache, Previous: in.Previous,
	})
	_, badTemplates := errors.AsType[*site.TemplateError](err)
	_, tooLarge := errors.AsType[*site.LimitError](err)
	if badTemplates || tooLarge {
		err = permanent(err)
	}
	return out, err
}

// templatesDir is the tree's templates/ folder, nil when there is none.
func templatesDir(tree fs.FS) (fs.FS, error) { return site.TemplatesDir(tree) }
