package migrate

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/publishbot/publishbot/scaffold"
)

// file is publish.yaml as init writes it: the keys in this order, empty ones
// left out.
type file struct {
	Title     string         `yaml:"title"`
	Generator Generator      `yaml:"generator,omitempty"`
	BaseURL   string         `yaml:"base_url,omitempty"`
	PostsDir  string         `yaml:"posts_dir,omitempty"`
	Permalink string         `yaml:"permalink,omitempty"`
	Pages     []string       `yaml:"pages,omitempty"`
	Feeds     []string       `yaml:"feeds,omitempty"`
	Timezone  string         `yaml:"timezone,omitempty"`
	Language  string         `yaml:"language,omitempty"`
	Params    map[string]any `yaml:"params,omitempty"`
}

// YAML is publish.yaml for the plan, with a comment naming where it came
// from. The output is the same for the same plan.
func (p Plan) YAML() ([]byte, error) {
	s := p.Settings
	f := file{Title: s.Title, Generator: s.Generator, BaseURL: s.BaseURL, Permalink: s.Permalink,
		Pages: s.Pages, Feeds: s.Feeds, Timezone: s.Timezone, Language: s.Language, Params: s.Params}
	if f.Title == "" {
		f.Title = "My blog"
	}
	if s.PostsDir != "posts" {
		f.PostsDir = s.PostsDir
	}
	var buf bytes.Buffer
	switch {
	case p.Generator != "":
		fmt.Fprintf(&buf, "# Written by `publishbot init` from %s (%s). The keys below keep the\n# blog's addresses; see README.md, \"Moving a blog here\".\n", p.Config, p.Generator)
	default:
		buf.WriteString("# Written by `publishbot init`. Every key is optional but title; see README.md.\n")
	}
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		return nil, fmt.Errorf("encode publish.yaml: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode publish.yaml: %w", err)
	}
	return buf.Bytes(), nil
}

// Written is what Write wrote, relative to the folder.
type Written struct {
	Files []string
}

// Write writes publish.yaml for the plan into dir, plus a starter post when
// the folder is empty, and adds public/ (what `build` writes) to .gitignore.
// It refuses, with ErrExists, to overwrite a publish.yaml. now dates the
// starter post.
func Write(dir string, p Plan, now time.Time) (Written, error) {
	var w Written
	cfgPath := filepath.Join(dir, "publish.yaml")
	y, err := p.YAML()
	if err != nil {
		return w, err
	}
	// O_EXCL: never overwrite one that appeared meanwhile.
	if err := scaffold.WriteNew(cfgPath, y); errors.Is(err, ErrExists) {
		return w, fmt.Errorf("%s: %w; edit it, or move it aside to run init again", cfgPath, ErrExists)
	} else if err != nil {
		return w, err
	}
	w.Files = append(w.Files, "publish.yaml")
	if p.Empty {
		name, body := scaffold.StarterPost(now)
		postPath := filepath.Join(dir, "posts", name)
		if err := os.MkdirAll(filepath.Dir(postPath), 0o755); err != nil {
			return w, fmt.Errorf("create posts folder: %w", err)
		}
		if err := scaffold.WriteNew(postPath, body); err != nil {
			return w, err
		}
		w.Files = append(w.Files, filepath.ToSlash(filepath.Join("posts", name)))
	}
	added, err := scaffold.IgnorePublic(dir)
	if err != nil {
		return w, err
	}
	if added {
		w.Files = append(w.Files, ".gitignore")
	}
	return w, nil
}
