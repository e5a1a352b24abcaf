// Package migrate owns `publishbot init`: it reads another static site
// generator's configuration (Jekyll, Hugo, Zola, Eleventy) from a folder and
// says which publish.yaml keeps that blog's addresses, what could not be
// carried over, and, for an empty folder, what a starter blog holds.
//
// Configuration is read as data: nothing in the folder is executed (an
// Eleventy config is JavaScript, so only literal values are read from it).
package migrate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
	"go.yaml.in/yaml/v3"

	"github.com/publishbot/publishbot/scaffold"
)

// Generator names a static site generator, as publish.yaml's `generator` key
// spells it.
type Generator string

const (
	Jekyll   Generator = "jekyll"
	Hugo     Generator = "hugo"
	Zola     Generator = "zola"
	Eleventy Generator = "eleventy"
)

// maxConfigBytes bounds a generator config file read by Detect.
const maxConfigBytes = 1 << 20

// ErrExists is Write's error when publish.yaml is there already; Detect
// itself only reads.
var ErrExists = scaffold.ErrExists

// Settings are the publish.yaml keys init writes. Empty fields are left out.
type Settings struct {
	Generator Generator
	Title     string
	BaseURL   string
	PostsDir  string
	Pages     []string
	Permalink string
	Feeds     []string // extra addresses for the Atom feed (old feed paths)
	Timezone  string
	Language  string
	Params    map[string]any
}

// Plan is what Detect found.
type Plan struct {
	Generator Generator // "" when no generator was recognised
	Config    string    // the generator config file that was read, e.g. "_config.yml"
	Settings  Settings
	// NotCarried lists what publishbot does not take over (layouts,
	// plugins, shortcodes), one line each, for the user to read.
	NotCarried []string
	// Empty is true when the folder holds nothing but dotfiles: init
	// writes a starter blog there.
	Empty bool
}

// Detect looks at the root of fsys and returns what init should write. An
// unreadable or broken generator config is an error naming the file.
func Detect(fsys fs.FS) (Plan, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return Plan{}, fmt.Errorf("read folder: %w", err)
	}
	names := map[string]bool{}
	visible := 0
	for _, e := range entries {
		names[e.Name()] = true
		if !strings.HasPrefix(e.Name(), ".") {
			visible++
		}
	}
	switch {
	case names["_config.yml"] || names["_config.yaml"]:
		return detectJekyll(fsys, names)
	case hugoConfig(fsys, names) != "":
		return detectHugo(fsys, hugoConfig(fsys, names))
	case names["config.toml"] && zolaConfig(fsys):
		return detectZola(fsys)
	case eleventyConfig(names) != "":
		return detectEleventy(fsys, eleventyConfig(names))
	}
	p := Plan{Empty: visible == 0}
	p.Settings = Settings{Title: "My blog", PostsDir: "posts"}
	if !p.Empty {
		// Markdown without a known generator: say where posts are.
		if dir := mostMarkdown(fsys, "."); dir != "" && dir != "." {
			p.Settings.PostsDir = dir
		}
	}
	return p, nil
}

func readLimited(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > maxConfigBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes", name, maxConfigBytes)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(f); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ---- Jekyll ----

// jekyllStyles are Jekyll's named permalink styles; publishbot understands
// the names too, so they are written as they are.
var jekyllStyles = map[string]bool{"date": true, "pretty": true, "ordinal": true, "none": true, "weekdate": true}

func detectJekyll(fsys fs.FS, names map[string]bool) (Plan, error) {
	name := "_config.yml"
	if !names[name] {
		name = "_config.yaml"
	}
	b, err := readLimited(fsys, name)
	if err != nil {
		return Plan{}, fmt.Errorf("read %s: %w", name, err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		return Plan{}, fmt.Errorf("parse %s: %w", name, err)
	}
	p := Plan{Generator: Jekyll, Config: name}
	s := Settings{Generator: Jekyll, PostsDir: "_posts"}
	s.Title = str(cfg["title"])
	s.BaseURL = joinURL(str(cfg["url"]), str(cfg["baseurl"]))
	s.Timezone = str(cfg["timezone"])
	s.Language = str(cfg["lang"])
	// Jekyll's default permalink style is "date".
	s.Permalink = "date"
	if v := str(cfg["permalink"]); v != "" {
		s.Permalink = v
		if !jekyllStyles[v] && !strings.HasPrefix(v, "/") {
			s.Permalink = "/" + v
		}
	}
	if dir := str(cfg["collections_dir"]); dir != "" {
		s.PostsDir = path.Join(dir, "_posts")
	}
	known := map[string]bool{"title": true, "url": true, "baseurl": true, "timezone": true, "permalink": true,
		"lang": true, "collections_dir": true, "plugins": true, "gems": true, "theme": true, "remote_theme": true,
		"markdown": true, "highlighter": true, "kramdown": true, "sass": true, "exclude": true, "include": true,
		"keep_files": true, "defaults": true, "collections": true, "feed": true, "paginate": true,
		"paginate_path": true, "source": true, "destination": true, "safe": true, "encoding": true}
	s.Params = params(cfg, known)
	if feed, ok := cfg["feed"].(map[string]any); ok {
		if fp := str(feed["path"]); fp != "" && "/"+strings.TrimPrefix(fp, "/") != "/feed.xml" {
			s.Feeds = append(s.Feeds, "/"+strings.TrimPrefix(fp, "/"))
		}
	}
	p.Settings = s
	for _, key := range []string{"plugins", "gems"} {
		for _, pl := range strs(cfg[key]) {
			switch pl {
			case "jekyll-feed", "jekyll-redirect-from", "jekyll-sitemap", "jekyll-seo-tag":
				// publishbot does these itself.
			default:
				p.NotCarried = append(p.NotCarried, "plugin "+pl)
			}
		}
	}
	for _, k := range []string{"theme", "remote_theme"} {
		if v := str(cfg[k]); v != "" {
			p.NotCarried = append(p.NotCarried, k+" "+v+" (publishbot uses its own theme; templates/ overrides it)")
		}
	}
	if _, ok := cfg["paginate"]; ok {
		p.NotCarried = append(p.NotCarried, "paginate (publishbot pages the index by per_page, at /page/N/)")
	}
	p.NotCarried = append(p.NotCarried, folderNote(fsys, "_layouts", "layouts")...)
	p.NotCarried = append(p.NotCarried, folderNote(fsys, "_includes", "includes (used by {% include %} in posts only)")...)
	p.NotCarried = append(p.NotCarried, folderNote(fsys, "_sass", "Sass files")...)
	return p, nil
}

// ---- Hugo ----

var hugoConfigNames = []string{
	"hugo.toml", "hugo.yaml", "hugo.yml", "hugo.json",
	"config.toml", "config.yaml", "config.yml", "config.json",
	"config/_default/hugo.toml", "config/_default/hugo.yaml", "config/_default/hugo.json",
	"config/_default/config.toml", "config/_default/config.yaml", "config/_default/config.json",
}

// hugoConfig is the Hugo config file in fsys, or "". A config.* counts only
// when it has Hugo's baseURL key (Zola's config.toml has base_url).
func hugoConfig(fsys fs.FS, names map[string]bool) string {
	for _, n := range hugoConfigNames {
		if strings.HasPrefix(n, "config/") && !names["config"] {
			continue
		}
		if !strings.HasPrefix(n, "config/") && !names[n] {
			continue
		}
		if strings.HasPrefix(n, "hugo.") || strings.HasPrefix(n, "config/_default/hugo.") {
			if _, err := fs.Stat(fsys, n); err == nil {
				return n
			}
			continue
		}
		b, err := readLimited(fsys, n)
		if err == nil && bytes.Contains(bytes.ToLower(b), []byte("baseurl")) && !bytes.Contains(b, []byte("base_url")) {
			return n
		}
	}
	return ""
}

func decodeAny(name string, b []byte) (map[string]any, error) {
	var cfg map[string]any
	var err error
	switch path.Ext(name) {
	case ".toml":
		err = toml.Unmarshal(b, &cfg)
	case ".json":
		err = json.Unmarshal(b, &cfg)
	default:
		err = yaml.Unmarshal(b, &cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", name, err)
	}
	return cfg, nil
}

// hugoTokens maps Hugo's permalink tokens to publishbot's.
var hugoTokens = map[string]string{
	":slugorfilename":        ":slug",
	":slugorcontentbasename": ":slug",
	":contentbasename":       ":filename",
	":yearday":               ":y_day",
}

func detectHugo(fsys fs.FS, name string) (Plan, error) {
	b, err := readLimited(fsys, name)
	if err != nil {
		return Plan{}, fmt.Errorf("read %s: %w", name, err)
	}
	cfg, err := decodeAny(name, b)
	if err != nil {
		return Plan{}, err
	}
	cfg = lowerKeys(cfg)
	p := Plan{Generator: Hugo, Config: name}
	s := Settings{Generator: Hugo}
	s.Title = str(cfg["title"])
	s.BaseURL = str(cfg["baseurl"])
	s.Timezone = str(cfg["timezone"])
	s.Language = str(cfg["languagecode"])
	content := str(cfg["contentdir"])
	if content == "" {
		content = "content"
	}
	// The posts section: the one permalinks names, else "posts" or "blog",
	// else the content folder with the most Markdown.
	section := ""
	perm := map[string]any{}
	if m, ok := cfg["permalinks"].(map[string]any); ok {
		perm = m
		if pm, ok := m["page"].(map[string]any); ok { // Hugo ≥ 0.112: permalinks.page.<section>
			perm = pm
		}
	}
	for _, cand := range []string{"posts", "post", "blog", "articles", "news"} {
		if _, ok := perm[cand]; ok {
			section = cand
			break
		}
	}
	if section == "" {
		for _, cand := range []string{"posts", "post", "blog"} {
			if isDir(fsys, path.Join(content, cand)) {
				section = cand
				break
			}
		}
	}
	if section == "" {
		if d := mostMarkdown(fsys, content); d != "" && d != content {
			section = strings.TrimPrefix(d, content+"/")
		}
	}
	if section != "" {
		s.PostsDir = path.Join(content, section)
		// Hugo's default address of a section page is /<section>/<path>/.
		s.Permalink = "/" + section + "/:path/"
		if v := str(perm[section]); v != "" {
			s.Permalink = hugoPermalink(v)
			if strings.Contains(v, ":title") {
				p.NotCarried = append(p.NotCarried, "permalink token :title: Hugo makes it from the post's title, publishbot from its file name; give posts whose names differ from their titles a slug or an alias")
			}
		}
	} else {
		s.PostsDir = content
	}
	s.Pages = []string{path.Join(content, "*.md")}
	// Hugo's home feed is /index.xml (and each section's /<section>/index.xml).
	s.Feeds = []string{"/index.xml"}
	if section != "" {
		s.Feeds = append(s.Feeds, "/"+section+"/index.xml")
	}
	if pm, ok := cfg["params"].(map[string]any); ok {
		s.Params = pm
	}
	p.Settings = s
	if th := str(cfg["theme"]); th != "" {
		p.NotCarried = append(p.NotCarried, "theme "+th+" (publishbot uses its own theme; templates/ overrides it)")
	}
	p.NotCarried = append(p.NotCarried, folderNote(fsys, "layouts", "layouts")...)
	p.NotCarried = append(p.NotCarried, folderNote(fsys, "layouts/shortcodes", "custom shortcodes (copy them to templates/shortcodes/ as html/template)")...)
	p.NotCarried = append(p.NotCarried, folderNote(fsys, "assets", "asset pipeline files (Hugo Pipes)")...)
	if isDir(fsys, "static") {
		// publishbot copies static/ too: nothing to say.
		_ = 0
	}
	return p, nil
}

// hugoPermalink turns a Hugo permalink pattern into publishbot's: the same
// tokens mostly, with Hugo's long names mapped; a pattern without a
// trailing slash keeps Hugo's /x → x.html meaning in publishbot.
func hugoPermalink(v string) string {
	for from, to := range hugoTokens {
		v = strings.ReplaceAll(v, from, to)
	}
	if !strings.HasPrefix(v, "/") {
		v = "/" + v
	}
	return v
}

// ---- Zola ----

func zolaConfig(fsys fs.FS) bool {
	b, err := readLimited(fsys, "config.toml")
	return err == nil && bytes.Contains(b, []byte("base_url"))
}

func detectZola(fsys fs.FS) (Plan, error) {
	b, err := readLimited(fsys, "config.toml")
	if err != nil {
		return Plan{}, fmt.Errorf("read config.toml: %w", err)
	}
	cfg, err := decodeAny("config.toml", b)
	if err != nil {
		return Plan{}, err
	}
	p := Plan{Generator: Zola, Config: "config.toml"}
	s := Settings{Generator: Zola, PostsDir: "content"}
	s.Title = str(cfg["title"])
	s.BaseURL = str(cfg["base_url"])
	s.Language = str(cfg["default_language"])
	// Zola writes a page at /<section path>/<slug>/ unless its `path` says
	// otherwise; publishbot's :path is the same thing relative to posts_dir.
	s.Permalink = "/:path/"
	// Pages: Markdown at the top of content/ that is not a dated post is a
	// page in Zola too; publishbot takes them as posts unless listed here.
	s.Pages = []string{"content/pages/**/*.md"}
	feeds := strs(cfg["feed_filenames"])
	if len(feeds) == 0 {
		if f := str(cfg["feed_filename"]); f != "" {
			feeds = []string{f}
		} else if cfg["generate_feed"] == true || cfg["generate_feeds"] == true {
			feeds = []string{"atom.xml"}
		}
	}
	for _, f := range feeds {
		// Only Atom/RSS feeds get a copy of publishbot's feed; another
		// file (the Rust blog's releases.json) is the generator's own
		// template, and is named among what is not carried over.
		switch {
		case f == "feed.xml" || f == "rss.xml":
		case strings.HasSuffix(f, ".xml"):
			s.Feeds = append(s.Feeds, "/"+strings.TrimPrefix(f, "/"))
		default:
			p.NotCarried = append(p.NotCarried, "feed "+f+" (a template of the site's own; publishbot writes Atom, RSS and JSON Feed at /feed.xml, /rss.xml and /feed.json)")
		}
	}
	if extra, ok := cfg["extra"].(map[string]any); ok {
		s.Params = extra
	}
	p.Settings = s
	if th := str(cfg["theme"]); th != "" {
		p.NotCarried = append(p.NotCarried, "theme "+th+" (publishbot uses its own theme; templates/ overrides it)")
	}
	p.NotCarried = append(p.NotCarried, folderNote(fsys, "templates", "Tera templates (publishbot's templates/ holds html/template overrides: rename this folder)")...)
	p.NotCarried = append(p.NotCarried, folderNote(fsys, "sass", "Sass files")...)
	return p, nil
}

// ---- Eleventy ----

var eleventyConfigNames = []string{".eleventy.js", "eleventy.config.js", "eleventy.config.mjs", "eleventy.config.cjs"}

func eleventyConfig(names map[string]bool) string {
	for _, n := range eleventyConfigNames {
		if names[n] {
			return n
		}
	}
	return ""
}

var (
	// input: "src" inside a dir: {…} object of an Eleventy config.
	eleventyInputRE = regexp.MustCompile(`\binput\s*:\s*["']([^"']+)["']`)
	// A permalink that is a plain pattern: literal text and page.fileSlug,
	// page.filePathStem or date parts.
	eleventyVarRE = regexp.MustCompile(`\{\{-?\s*([^}]+?)\s*-?\}\}`)
)

func detectEleventy(fsys fs.FS, name string) (Plan, error) {
	b, err := readLimited(fsys, name)
	if err != nil {
		return Plan{}, fmt.Errorf("read %s: %w", name, err)
	}
	p := Plan{Generator: Eleventy, Config: name}
	s := Settings{Generator: Eleventy}
	input := "."
	if m := eleventyInputRE.FindSubmatch(b); m != nil {
		input = path.Clean(string(m[1]))
	}
	posts := ""
	for _, cand := range []string{"posts", "blog", "post"} {
		if isDir(fsys, path.Join(input, cand)) {
			posts = path.Join(input, cand)
			break
		}
	}
	if posts == "" {
		posts = mostMarkdown(fsys, input)
	}
	if posts == "" {
		posts = path.Join(input, "posts")
	}
	s.PostsDir = posts
	rel := strings.TrimPrefix(strings.TrimPrefix(posts, input), "/")
	// Eleventy writes a template at /<its path without extension>/ (the
	// file name keeps a date prefix there).
	s.Permalink = "/" + path.Join(rel, ":filename") + "/"
	// A folder data file may set a plain permalink pattern for all posts.
	base := path.Base(posts)
	for _, dn := range []string{base + ".11tydata.json", base + ".json"} {
		db, err := readLimited(fsys, path.Join(posts, dn))
		if err != nil {
			continue
		}
		var data map[string]any
		if json.Unmarshal(db, &data) != nil {
			return Plan{}, fmt.Errorf("parse %s: invalid JSON", path.Join(posts, dn))
		}
		if pl := str(data["permalink"]); pl != "" {
			if conv, ok := eleventyPermalink(pl); ok {
				s.Permalink = conv
			} else {
				p.NotCarried = append(p.NotCarried, fmt.Sprintf("permalink %q in %s is not a plain pattern: set permalink in publish.yaml by hand", pl, path.Join(posts, dn)))
			}
		}
	}
	if input != "." {
		s.Pages = []string{path.Join(input, "*.md")}
	}
	p.Settings = s
	p.NotCarried = append(p.NotCarried, "JavaScript configuration in "+name+" (filters, shortcodes, plugins) is not run")
	for _, d := range []string{"_includes", "_layouts", "_data"} {
		p.NotCarried = append(p.NotCarried, folderNote(fsys, path.Join(input, d), d)...)
	}
	return p, nil
}

// eleventyPermalink converts an Eleventy permalink built only from literal
// text and page.fileSlug / page.filePathStem to publishbot's tokens.
func eleventyPermalink(pl string) (string, bool) {
	ok := true
	out := eleventyVarRE.ReplaceAllStringFunc(pl, func(m string) string {
		v := strings.TrimSpace(eleventyVarRE.FindStringSubmatch(m)[1])
		v = strings.TrimSpace(strings.TrimSuffix(v, "| slug"))
		v = strings.TrimSpace(strings.TrimSuffix(v, "| slugify"))
		switch v {
		case "page.fileSlug":
			return ":slug"
		case "page.filePathStem":
			return ":path"
		case "title", "page.title":
			return ":slug"
		}
		ok = false
		return m
	})
	if !ok || strings.ContainsAny(out, "{}%") {
		return "", false
	}
	if !strings.HasPrefix(out, "/") {
		out = "/" + out
	}
	out = strings.TrimSuffix(out, "index.html")
	return out, true
}

// ---- helpers over the folder ----

func isDir(fsys fs.FS, name string) bool {
	st, err := fs.Stat(fsys, name)
	return err == nil && st.IsDir()
}

// folderNote says that folder dir (with n files) is not carried over.
func folderNote(fsys fs.FS, dir, what string) []string {
	if !isDir(fsys, dir) {
		return nil
	}
	n := 0
	_ = fs.WalkDir(fsys, dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	if n == 0 {
		return nil
	}
	return []string{fmt.Sprintf("%s in %s/ (%d files)", what, dir, n)}
}

// mostMarkdown is the folder under root (root itself excluded unless nothing
// else has any) holding the most Markdown files, searched two levels deep.
func mostMarkdown(fsys fs.FS, root string) string {
	counts := map[string]int{}
	_ = fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if p != root && (strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_") || d.Name() == "node_modules") {
				return fs.SkipDir
			}
			return nil
		}
		if ext := path.Ext(p); ext == ".md" || ext == ".markdown" {
			dir := path.Dir(p)
			// Count toward the first level below root.
			rel := strings.TrimPrefix(strings.TrimPrefix(dir, root), "/")
			if rel == "" || root == "." && dir == "." {
				counts[root]++
				return nil
			}
			first, _, _ := strings.Cut(rel, "/")
			counts[path.Join(root, first)]++
		}
		return nil
	})
	best, bestN := "", 0
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if k == root {
			continue
		}
		if counts[k] > bestN {
			best, bestN = k, counts[k]
		}
	}
	if best == "" && counts[root] > 0 {
		return root
	}
	return best
}

// ---- helpers over decoded values ----

func str(v any) string {
	switch t := v.(type) {
	case string:
		return strings.TrimSpace(t)
	case nil:
		return ""
	case fmt.Stringer:
		return t.String()
	}
	return ""
}

func strs(v any) []string {
	switch t := v.(type) {
	case []any:
		var out []string
		for _, x := range t {
			if s := str(x); s != "" {
				out = append(out, s)
			}
		}
		return out
	case []string:
		return t
	case string:
		if t != "" {
			return []string{t}
		}
	}
	return nil
}

func joinURL(u, base string) string {
	if u == "" {
		return ""
	}
	u = strings.TrimSuffix(u, "/")
	base = strings.Trim(base, "/")
	if base != "" {
		u += "/" + base
	}
	return u + "/"
}

// params is cfg without the keys publishbot maps itself or that are
// build settings (known): the site variables posts may use as
// {{ site.<key> }} (author.name, social.github, ...): scalars, lists and
// mappings.
func params(cfg map[string]any, known map[string]bool) map[string]any {
	out := map[string]any{}
	for k, v := range cfg {
		if known[k] {
			continue
		}
		switch v.(type) {
		case string, bool, int, int64, float64, []any, map[string]any:
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func lowerKeys(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}
