package posts

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // time zones without depending on the machine's files
)

// ConfigFile is the site configuration file at the root of a content tree.
const ConfigFile = "publish.yaml"

// DefaultConfig is the configuration with every default applied, for a
// repository "owner/name" (which gives base_url; "" gives "/").
func DefaultConfig(repo string) Config {
	title := "Blog"
	if _, name, ok := strings.Cut(repo, "/"); ok && name != "" {
		title = name
	}
	return Config{
		Title:       title,
		Heading:     "Writing",
		BaseURL:     defaultBaseURL(repo),
		Language:    "en",
		PerPage:     8,
		PostsDir:    "posts",
		PagesBranch: "gh-pages",
		Previews:    true,
		Timezone:    "UTC",
		Location:    time.UTC,
	}
}

// defaultBaseURL is GitHub Pages' address for repo: https://owner.github.io/name/,
// or the root for an owner.github.io repository. Without a repository it is
// "/", a site served from the root of whatever host serves it.
func defaultBaseURL(repo string) string {
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || owner == "" || name == "" {
		return "/"
	}
	owner = strings.ToLower(owner)
	if strings.EqualFold(name, owner+".github.io") {
		return "https://" + owner + ".github.io/"
	}
	return "https://" + owner + ".github.io/" + name + "/"
}

var configKeys = []string{"title", "heading", "description", "base_url", "author", "language", "per_page",
	"posts_dir", "source_branch", "pages_branch", "popular", "cname", "previews", "timezone", "back_url", "unsafe_html"}

var languageRE = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$`)
var hostRE = regexp.MustCompile(`^(?i)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$`)
var branchRE = regexp.MustCompile(`^[A-Za-z0-9._/-]+$`)

// LoadConfig reads publish.yaml from fsys and applies defaults. repo
// ("owner/name") gives the default base_url. A missing file gives the
// defaults and one config-missing warning; a broken one gives error
// diagnostics (and the defaults for what could not be read): a caller that
// publishes must publish nothing when any diagnostic is an error. The
// returned Config always has Location set. Safe for concurrent use.
func LoadConfig(fsys fs.FS, repo string) (Config, []Diagnostic) {
	cfg := DefaultConfig(repo)
	var ds []Diagnostic
	add := func(line, col int, code, format string, args ...any) {
		ds = append(ds, newDiag(ConfigFile, line, col, code, fmt.Sprintf(format, args...)))
	}
	info, err := fs.Stat(lstatFS{fsys}, ConfigFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		add(0, 0, CodeConfigMissing, "no publish.yaml: using the default settings")
		return cfg, ds
	case err != nil:
		add(0, 0, CodeUnreadable, "cannot read publish.yaml: %v", err)
		return cfg, ds
	case info.Mode()&fs.ModeSymlink != 0:
		add(0, 0, CodeSymlink, "publish.yaml is a symbolic link; publishbot never follows links: commit the file itself")
		return cfg, ds
	case !info.Mode().IsRegular():
		add(0, 0, CodeSpecialFile, "publish.yaml is not a regular file")
		return cfg, ds
	case info.Size() > MaxFileSize:
		add(0, 0, CodeFileTooLarge, "publish.yaml is %d bytes; the limit is %d", info.Size(), MaxFileSize)
		return cfg, ds
	}
	data, err := fs.ReadFile(fsys, ConfigFile)
	if err != nil {
		add(0, 0, CodeUnreadable, "cannot read publish.yaml: %v", err)
		return cfg, ds
	}
	if line, col, ok := invalidUTF8At(data); ok {
		add(line, col, CodeInvalidUTF8, "publish.yaml is not valid UTF-8 text")
		return cfg, ds
	}
	lastLine := bytes.Count(data, []byte("\n"))
	if !bytes.HasSuffix(data, []byte("\n")) {
		lastLine++
	}
	fields, pe := parseYAMLMapping(data, 0, max(lastLine, 1))
	if pe != nil {
		code := pe.code
		if code == CodeFMSyntax {
			code = CodeConfigSyntax
		}
		msg := strings.Replace(pe.msg, "front matter", "publish.yaml", 1)
		add(pe.line, pe.col, code, "%s", msg)
		return cfg, ds
	}
	seen := map[string]bool{}
	hasTitle := false
	for _, f := range fields {
		v := f.value
		if seen[f.key] {
			add(f.line, f.col, CodeConfigInvalid, "%s is given twice; keep one", f.key)
			continue
		}
		seen[f.key] = true
		bad := func(format string, args ...any) {
			add(v.line, v.col, CodeConfigInvalid, "%s: %s", f.key, fmt.Sprintf(format, args...))
		}
		str := func() (string, bool) {
			if v.kind == vScalar {
				return strings.TrimSpace(v.s), true
			}
			if v.kind == vNull {
				return "", true
			}
			bad("must be text, not a %s", kindName(v.kind))
			return "", false
		}
		boolean := func(dst *bool) {
			if v.kind == vScalar {
				switch strings.ToLower(v.s) {
				case "true":
					*dst = true
					return
				case "false":
					*dst = false
					return
				}
			}
			bad("must be true or false, not %s", describe(&v))
		}
		switch f.key {
		case "title":
			if s, ok := str(); ok && s != "" {
				cfg.Title = s
				hasTitle = true
			}
		case "heading":
			if s, ok := str(); ok && s != "" {
				cfg.Heading = s
			}
		case "description":
			if s, ok := str(); ok {
				cfg.Description = s
			}
		case "author":
			if s, ok := str(); ok {
				cfg.Author = s
			}
		case "base_url":
			if s, ok := str(); ok && s != "" {
				if u, err := normalizeBaseURL(s); err != nil {
					bad("%v", err)
				} else {
					cfg.BaseURL = u
				}
			}
		case "language":
			if s, ok := str(); ok && s != "" {
				if !languageRE.MatchString(s) {
					bad("%q is not a language tag like en or pt-BR", s)
				} else {
					cfg.Language = s
				}
			}
		case "per_page":
			n, err := strconv.Atoi(strings.TrimSpace(v.s))
			if v.kind != vScalar || err != nil || n < 1 || n > 1000 {
				bad("must be a whole number from 1 to 1000, not %s", describe(&v))
			} else {
				cfg.PerPage = n
			}
		case "posts_dir":
			if s, ok := str(); ok && s != "" {
				s = strings.Trim(s, "/")
				if s == "" {
					s = "."
				}
				if !fs.ValidPath(s) || strings.ContainsAny(s, "\\") || s == "static" || strings.HasPrefix(s, "static/") {
					bad("%q is not a folder of this repository (a relative path like posts, not under static)", s)
				} else {
					cfg.PostsDir = s
				}
			}
		case "source_branch", "pages_branch":
			if s, ok := str(); ok && s != "" {
				if !branchRE.MatchString(s) || strings.Contains(s, "..") {
					bad("%q is not a branch name", s)
				} else if f.key == "source_branch" {
					cfg.SourceBranch = s
				} else {
					cfg.PagesBranch = s
				}
			}
		case "popular":
			cfg.Popular = nil
			for _, s := range stringList(&v, f.key, func(line, col int, code, format string, args ...any) {
				add(line, col, CodeConfigInvalid, format, args...)
			}) {
				cfg.Popular = append(cfg.Popular, strings.TrimSpace(s))
			}
		case "cname":
			if s, ok := str(); ok && s != "" {
				if !hostRE.MatchString(s) {
					bad("%q is not a host name like blog.example.com", s)
				} else {
					cfg.CNAME = strings.ToLower(s)
				}
			}
		case "previews":
			boolean(&cfg.Previews)
		case "unsafe_html":
			boolean(&cfg.UnsafeHTML)
		case "timezone":
			if s, ok := str(); ok && s != "" {
				loc, err := time.LoadLocation(s)
				if err != nil || strings.EqualFold(s, "local") {
					bad("%q is not a time zone name like Europe/Berlin or UTC", s)
				} else {
					cfg.Timezone, cfg.Location = s, loc
				}
			}
		case "back_url":
			if s, ok := str(); ok && s != "" {
				u, err := url.Parse(s)
				if err != nil || !(u.Scheme == "http" || u.Scheme == "https" || (u.Scheme == "" && u.Host == "" && strings.HasPrefix(s, "/"))) {
					bad("%q is not an http(s) URL or a site path", s)
				} else {
					cfg.BackURL = s
				}
			}
		default:
			msg := fmt.Sprintf("%q is not a publish.yaml setting and is ignored", f.key)
			lk := strings.ToLower(f.key)
			for _, k := range configKeys {
				if k == lk || editDistance(lk, k) <= 2 {
					msg += fmt.Sprintf(" (did you mean %q?)", k)
					break
				}
			}
			add(f.line, f.col, CodeUnknownField, "%s", msg)
		}
	}
	if !hasTitle {
		add(1, 1, CodeMissingTitle, "publish.yaml needs a title: add a line like \"title: My blog\"")
	}
	return cfg, ds
}

// normalizeBaseURL checks an absolute http(s) URL and makes it end in "/".
func normalizeBaseURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		if s == "/" {
			return s, nil
		}
		return "", fmt.Errorf("%q is not an absolute http(s) URL like https://owner.github.io/blog/", s)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	u.RawPath = ""
	return u.String(), nil
}

// lstatFS makes fs.Stat report a symlink as a symlink: it finds the entry in
// its directory listing (fs.ReadDir never follows links) instead of calling
// the FS's Stat, which may follow them.
type lstatFS struct{ fsys fs.FS }

func (l lstatFS) Open(name string) (fs.File, error) { return l.fsys.Open(name) }

func (l lstatFS) Stat(name string) (fs.FileInfo, error) {
	dir, base := pathSplit(name)
	entries, err := fs.ReadDir(l.fsys, dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.Name() == base {
			if e.Type()&fs.ModeSymlink != 0 {
				return symlinkInfo{e}, nil
			}
			return e.Info()
		}
	}
	return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
}

type symlinkInfo struct{ fs.DirEntry }

func (s symlinkInfo) Size() int64        { return 0 }
func (s symlinkInfo) Mode() fs.FileMode  { return fs.ModeSymlink }
func (s symlinkInfo) ModTime() time.Time { return time.Time{} }
func (s symlinkInfo) Sys() any           { return nil }

func pathSplit(name string) (dir, base string) {
	i := strings.LastIndexByte(name, '/')
	if i < 0 {
		return ".", name
	}
	return name[:i], name[i+1:]
}
