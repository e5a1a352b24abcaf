package posts

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // time zones without depending on the machine's files
	"unicode/utf8"
)

// ConfigFile is the site configuration file at the root of a content tree.
const ConfigFile = "publish.yaml"

// Defaults of publish.yaml that other packages need by themselves; every
// other default is only in DefaultConfig.
const (
	DefaultPerPage     = 8          // per_page: posts on a page of the index
	DefaultPostsDir    = "posts"    // posts_dir
	DefaultPagesBranch = "gh-pages" // pages_branch
)

// DefaultConfig is the configuration with every default applied, for a
// repository "owner/name" (which gives base_url; "" gives "/"). Its Set is
// empty: no key was written.
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
		PerPage:     DefaultPerPage,
		PostsDir:    DefaultPostsDir,
		PagesBranch: DefaultPagesBranch,
		Previews:    true,
		Timezone:    "UTC",
		Location:    time.UTC,
		Embeds:      slices.Clone(DefaultEmbeds),
		Permalink:   DefaultPermalink,
		Search:      true,
		Related:     DefaultRelated,
	}
}

// Has says whether publish.yaml wrote key with a value LoadConfig accepted,
// so that its field holds what was written rather than the default: a
// caller with a default of its own (a --pages-branch flag) tells "unset"
// from "gh-pages" with it.
func (c Config) Has(key string) bool { return c.Set[key] }

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
	"posts_dir", "source_branch", "pages_branch", "popular", "cname", "previews", "timezone", "back_url", "unsafe_html",
	"pages", "menu", "authors", "embeds", "toc", "params", "permalink", "generator", "feeds", "strings", "analytics",
	"search", "related", "social_image", "math"}

// Generators are the values of generator: the site generators whose
// conventions publishbot follows where they differ.
var Generators = []string{"jekyll", "hugo", "zola", "eleventy"}

var languageRE = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$`)
var hostRE = regexp.MustCompile(`^(?i)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$`)

// LoadConfig reads publish.yaml from fsys, checks every key and applies
// defaults: it is the one reader of publish.yaml, for check, build and
// publish alike. repo ("owner/name") gives the default base_url. A missing
// file gives the defaults and one config-missing warning; a broken one gives
// error diagnostics at the line of the value (and the defaults for what
// could not be read): a caller that publishes must publish nothing when any
// diagnostic is an error. A refused value is reported in a
// config-invalid diagnostic whose message starts with the key and a colon.
// The returned Config always has Location set, and its Set says which keys
// were written: true for a value that was accepted, false for one that was
// refused. Safe for concurrent use.
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
	cfg.Set = map[string]bool{}
	for _, f := range fields {
		v := f.value
		if seen[f.key] {
			add(f.line, f.col, CodeConfigInvalid, "%s is given twice; keep one", f.key)
			cfg.Set[f.key] = false
			continue
		}
		seen[f.key] = true
		// ok marks the key's value as taken, bad as refused.
		ok := func() { cfg.Set[f.key] = true }
		bad := func(format string, args ...any) {
			add(v.line, v.col, CodeConfigInvalid, "%s: %s", f.key, fmt.Sprintf(format, args...))
			cfg.Set[f.key] = false
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
		// text takes a non-empty text value through check, which gives
		// the value to keep or says what is wrong with it.
		text := func(dst *string, check func(string) (string, string)) {
			s, isText := str()
			if !isText || s == "" {
				return
			}
			if check != nil {
				var problem string
				if s, problem = check(s); problem != "" {
					bad("%s", problem)
					return
				}
			}
			*dst = s
			ok()
		}
		boolean := func(dst *bool) {
			if v.kind == vScalar {
				switch strings.ToLower(v.s) {
				case "true":
					*dst = true
					ok()
					return
				case "false":
					*dst = false
					ok()
					return
				}
			}
			bad("must be true or false, not %s", describe(&v))
		}
		switch f.key {
		case "title":
			text(&cfg.Title, nil)
			hasTitle = cfg.Has("title")
		case "heading":
			text(&cfg.Heading, nil)
		case "description":
			if s, isText := str(); isText {
				cfg.Description = s
				ok()
			}
		case "author":
			if s, isText := str(); isText {
				cfg.Author = s
				ok()
			}
		case "base_url":
			text(&cfg.BaseURL, func(s string) (string, string) {
				u, err := normalizeBaseURL(s)
				if err != nil {
					return s, err.Error()
				}
				return u, ""
			})
		case "language":
			text(&cfg.Language, func(s string) (string, string) {
				if !languageRE.MatchString(s) {
					return s, fmt.Sprintf("%q is not a language tag like en or pt-BR", s)
				}
				return s, ""
			})
		case "per_page":
			n, err := strconv.Atoi(strings.TrimSpace(v.s))
			if v.kind != vScalar || err != nil || n < 1 || n > 1000 {
				bad("must be a whole number from 1 to 1000, not %s", describe(&v))
			} else {
				cfg.PerPage = n
				ok()
			}
		case "posts_dir":
			if s, isText := str(); isText && s != "" {
				s = strings.Trim(s, "/")
				if s == "" {
					s = "."
				}
				if !fs.ValidPath(s) || strings.ContainsAny(s, "\\") || s == "static" || strings.HasPrefix(s, "static/") {
					bad("%q is not a folder of this repository (a relative path like posts, not under static)", s)
				} else {
					cfg.PostsDir = s
					ok()
				}
			}
		case "source_branch":
			text(&cfg.SourceBranch, branchProblem)
		case "pages_branch":
			text(&cfg.PagesBranch, branchProblem)
		case "popular":
			cfg.Popular = nil
			ok()
			for _, s := range stringList(&v, f.key, func(line, col int, code, format string, args ...any) {
				add(line, col, CodeConfigInvalid, format, args...)
				cfg.Set[f.key] = false
			}) {
				cfg.Popular = append(cfg.Popular, strings.TrimSpace(s))
			}
		case "cname":
			text(&cfg.CNAME, func(s string) (string, string) {
				if !hostRE.MatchString(s) {
					return s, fmt.Sprintf("%q is not a host name like blog.example.com", s)
				}
				return strings.ToLower(s), ""
			})
		case "previews":
			boolean(&cfg.Previews)
		case "unsafe_html":
			boolean(&cfg.UnsafeHTML)
		case "toc":
			boolean(&cfg.TOC)
		case "math":
			boolean(&cfg.Math)
		case "embeds":
			cfg.Embeds = []string{}
			ok()
			var items []fmValue
			switch v.kind {
			case vScalar:
				items = []fmValue{v}
			case vList:
				items = v.list
			case vNull:
			default:
				bad("must be a list of host names like [www.youtube-nocookie.com], not a %s", kindName(v.kind))
			}
			for _, e := range items {
				h := strings.ToLower(strings.TrimSpace(e.s))
				if e.kind != vScalar || !hostRE.MatchString(h) {
					add(e.line, e.col, CodeConfigInvalid, "embeds: %s is not a host name like www.youtube-nocookie.com (no scheme, path or port)", describe(&e))
					cfg.Set[f.key] = false
					continue
				}
				if !slices.Contains(cfg.Embeds, h) {
					cfg.Embeds = append(cfg.Embeds, h)
				}
			}
		case "timezone":
			text(&cfg.Timezone, func(s string) (string, string) {
				loc, err := time.LoadLocation(s)
				if err != nil || strings.EqualFold(s, "local") {
					return s, fmt.Sprintf("%q is not a time zone name like Europe/Berlin or UTC", s)
				}
				cfg.Location = loc
				return s, ""
			})
		case "back_url":
			text(&cfg.BackURL, func(s string) (string, string) {
				u, err := url.Parse(s)
				if err != nil || !(u.Scheme == "http" || u.Scheme == "https" || (u.Scheme == "" && u.Host == "" && strings.HasPrefix(s, "/"))) {
					return s, fmt.Sprintf("%q is not an http(s) URL or a site path", s)
				}
				return s, ""
			})
		case "pages", "menu", "authors", "params", "strings", "analytics":
			// Each is read by its own parser (pages.go, menu.go, authors.go, params.go).
			var more []Diagnostic
			switch f.key {
			case "params":
				cfg.Params, more = parseParamsConfig(&v)
			case "strings":
				cfg.Strings, more = parseStringsConfig(&v)
			case "analytics":
				cfg.Analytics, more = parseAnalyticsConfig(&v)
			case "pages":
				cfg.Pages, more = parsePagesConfig(&v)
			case "menu":
				cfg.Menu, more = parseMenuConfig(&v)
			case "authors":
				cfg.Authors, more = parseAuthorsConfig(&v)
			}
			ds = append(ds, more...)
			if v.kind != vNull {
				cfg.Set[f.key] = !HasErrors(more)
			}
		case "permalink":
			s, isText := str()
			if !isText || s == "" {
				break
			}
			if _, err := ParsePermalink(s); err != nil {
				var pe *PermalinkError
				col := v.col
				if errors.As(err, &pe) {
					col += valueColumn(data, v.line, v.col, s, pe.Offset)
				}
				add(v.line, col, CodeConfigInvalid, "permalink: %s", strings.TrimPrefix(err.Error(), "permalink "))
				cfg.Set[f.key] = false
				break
			}
			cfg.Permalink = s
			ok()
		case "generator":
			text(&cfg.Generator, func(s string) (string, string) {
				s = strings.ToLower(s)
				if !slices.Contains(Generators, s) {
					return s, fmt.Sprintf("%q is not one of %s", s, strings.Join(Generators, ", "))
				}
				return s, ""
			})
		case "feeds":
			cfg.Feeds = nil
			ok()
			items := []fmValue{v}
			if v.kind == vList {
				items = v.list
			}
			for _, item := range items {
				if item.kind == vNull {
					continue
				}
				if item.kind != vScalar {
					add(item.line, item.col, CodeConfigInvalid, "feeds: must be a list of site paths like [/atom.xml], not contain a %s", kindName(item.kind))
					cfg.Set[f.key] = false
					continue
				}
				s := strings.TrimSpace(item.s)
				if p, problem := feedPath(s); problem != "" {
					add(item.line, item.col, CodeConfigInvalid, "feeds: %q %s", s, problem)
					cfg.Set[f.key] = false
				} else if !slices.Contains(cfg.Feeds, p) {
					cfg.Feeds = append(cfg.Feeds, p)
				}
			}
		case "search", "related", "social_image": // readersconfig.go
			if problem := readerSetting(&cfg, f.key, &v); problem != "" {
				bad("%s", problem)
			} else {
				ok()
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

// valueColumn is how many columns past a value's first column the byte
// offset off of its text s lies: past the opening quote when the value is
// quoted in data.
func valueColumn(data []byte, line, col int, s string, off int) int {
	start := 0
	for l := 1; l < line && start < len(data); l++ {
		i := bytes.IndexByte(data[start:], '\n')
		if i < 0 {
			return 0
		}
		start += i + 1
	}
	lineText, _ := lineAt(data, start)
	quote := 0
	if rest := []rune(string(lineText)); col-1 < len(rest) && (rest[col-1] == '"' || rest[col-1] == '\'') {
		quote = 1 // the offset counts from inside the quotes
	}
	off = min(max(off, 0), len(s))
	return quote + utf8.RuneCountInString(s[:off])
}

// feedPath checks a path of feeds: a file of the site, by its site path
// ("/index.xml"). It returns the site-relative file and "", or why the path
// cannot be used.
func feedPath(s string) (string, string) {
	switch {
	case s == "":
		return "", "is empty"
	case strings.HasSuffix(s, "/"):
		return "", "names a folder; name the feed's file, like /atom.xml"
	case strings.ContainsAny(s, "?#") || strings.Contains(s, "://"):
		return "", "is not a site path like /atom.xml"
	}
	addr := "/" + strings.TrimPrefix(s, "/")
	if problem := CheckAddress(addr); problem != "" {
		return "", problem
	}
	p := siteAddress(addr)
	if p == "" || isThemeFile(p) {
		return "", "is a file the site already writes"
	}
	return p, ""
}

// branchProblem checks s as the value of source_branch or pages_branch and
// says what is wrong with it ("" when nothing is).
func branchProblem(s string) (string, string) {
	switch {
	case strings.HasPrefix(s, "refs/"):
		return s, fmt.Sprintf("%q is a full ref name: write the branch's short name, like gh-pages", s)
	case !validBranch(s):
		return s, fmt.Sprintf("%q is not a branch name", s)
	}
	return s, ""
}

// validBranch says whether git takes s as a branch's short name (the rules
// of git check-ref-format --branch): no empty, "."-led or ".lock"-ending
// component, no "..", "@{", control character, space, ~ ^ : ? * [ or \,
// not "@", "HEAD", led by "-" or ending in "." or "/".
func validBranch(s string) bool {
	if s == "" || s == "@" || s == "HEAD" || strings.HasPrefix(s, "-") || strings.HasSuffix(s, ".") ||
		strings.Contains(s, "..") || strings.Contains(s, "@{") || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(" ~^:?*[\\", r) {
			return false
		}
	}
	for _, part := range strings.Split(s, "/") {
		if part == "" || strings.HasPrefix(part, ".") || strings.HasSuffix(part, ".lock") {
			return false
		}
	}
	return true
}

// normalizeBaseURL checks an absolute http(s) URL and makes it end in "/".
func normalizeBaseURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
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
