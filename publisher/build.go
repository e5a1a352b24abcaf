package publisher

import (
	"context"
	"encoding/base64"
	"errors"
	"io/fs"
	"strings"
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
}

// buildFunc renders a site in memory: output files keyed by site-relative
// path, and the loaded site (for diagnostics, changed posts and schedules).
type buildFunc func(ctx context.Context, in buildInput) (*posts.Site, map[string][]byte, error)

// buildSite is the real build: site.Build. Template overrides that do not
// parse are the content's fault, so that error is permanent: retrying the
// same commit cannot help.
func buildSite(ctx context.Context, in buildInput) (*posts.Site, map[string][]byte, error) {
	out, err := site.Build(ctx, in.Content, in.Templates, site.Options{
		Config: in.Config, BaseURL: in.BaseURL, Repo: in.Repo, Now: in.Now, Render: in.Render,
	})
	var loaded *posts.Site
	if out != nil {
		loaded = out.Site
	}
	if err != nil {
		if _, ok := errors.AsType[*site.TemplateError](err); ok {
			err = permanent(err)
		}
		return loaded, nil, err
	}
	return loaded, out.Files, nil
}

// templatesDir is the tree's templates/ folder, nil when there is none.
func templatesDir(tree fs.FS) (fs.FS, error) { return site.TemplatesDir(tree) }

// scrubbed is an error whose text had secrets removed. errors.Is still sees
// the original's sentinels (ErrPermanent, context errors), but it does not
// unwrap, so nothing can print the original text.
type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string        { return e.msg }
func (e *scrubbed) Is(target error) bool { return errors.Is(e.err, target) }

// scrub removes every occurrence of the secrets from err's text, also in
// the forms a Basic Authorization header carries them.
func scrub(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	out := msg
	for _, s := range secrets {
		if len(s) < 4 {
			continue
		}
		for _, form := range []string{
			s,
			base64.StdEncoding.EncodeToString([]byte("x-access-token:" + s)),
			base64.StdEncoding.EncodeToString([]byte(s)),
		} {
			out = strings.ReplaceAll(out, form, "[REDACTED]")
		}
	}
	if out == msg {
		return err
	}
	return &scrubbed{msg: out, err: err}
}
