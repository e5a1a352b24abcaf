package posts

import (
	"fmt"
	"net/url"
	"path"
	"strings"

	"github.com/yuin/goldmark/util"
)

// linkedFile is a file of the repository that a post links to by its
// path: it is published at target for the post.
type linkedFile struct {
	source, target string
	line, col      int
	dest           string // the link as written
	image          bool
}

// linkCheck is a site path a link goes to, checked once every file the
// build writes is known (see afterRender).
type linkCheck struct {
	site      string // unescaped, site-relative: "posts/x/", "" for the home page
	dest      string // the link as written
	from      string // for a link relative to the page: the page's address
	line, col int
	image     bool
	cover     bool   // the post's cover image: left out when it goes to nothing
	redirect  string // for a redirect's target: the field it is in
}

// linkable reports a repository file that a link may publish: never a
// dotfile or anything in a dot folder (.git, .github), publish.yaml, or
// the theme overrides in templates/.
func linkable(p string) bool {
	if p == ConfigFile || strings.HasPrefix(p, "templates/") {
		return false
	}
	for _, seg := range strings.Split(p, "/") {
		if strings.HasPrefix(seg, ".") {
			return false
		}
	}
	return true
}

// linkedTarget is where a repository file that posts link to is published:
// a file of posts_dir at its place under the folder all posts share
// (posts/img/x.png at posts/img/x.png for the default permalink,
// content/blog/x.png at blog/x.png for Zola's and Hugo's), any other at
// its path in the repository (Jekyll's assets/x.png at assets/x.png).
func (l *loader) linkedTarget(source string, idx *siteIndex) string {
	dir := l.cfg.PostsDir
	if dir == "." || !strings.HasPrefix(source, dir+"/") {
		return source
	}
	return idx.prefix + strings.TrimPrefix(source, dir+"/")
}

// afterRender completes the build's list of files with the repository
// files published posts link to, in path order (a file two posts link to
// is one asset of both), then checks every link that went to a site path
// against all of them. It returns the linked files as assets.
func (l *loader) afterRender(results []*postResult, idx *siteIndex) []Asset {
	var assets []Asset
	at := map[string]int{} // source -> index in assets
	for _, r := range results {
		if r.post == nil || len(r.linked) == 0 || HasErrors(r.diags) {
			continue // a post left out publishes nothing
		}
		for _, lf := range r.linked {
			if i, ok := at[lf.source]; ok {
				if a := &assets[i]; a.Posts[len(a.Posts)-1] != r.file.path {
					a.Posts = append(a.Posts, r.file.path)
				}
				continue
			}
			var c *owner
			var why string
			if problem := CheckAddress("/" + lf.target); problem != "" {
				c, why = &owner{}, "its path in the site "+problem
			} else {
				c, why = idx.out.claim(&owner{kind: byFile, source: lf.source}, lf.target)
			}
			if c != nil {
				what, code := "link", CodeBrokenLink
				if lf.image {
					what, code = "image", CodeMissingImage
				}
				r.add(lf.line, lf.col, code, fmt.Sprintf("%s %q names %s, which is not published: %s", what, trimForMsg(lf.dest), lf.source, why))
				continue
			}
			at[lf.source] = len(assets)
			assets = append(assets, Asset{Source: lf.source, Target: lf.target, Size: l.tree.files[lf.source], Posts: []string{r.file.path}})
		}
	}
	for _, r := range results {
		for _, c := range r.checks {
			if idx.out.serves(c.site) {
				continue
			}
			what, code := "link", CodeBrokenLink
			if c.image {
				what, code = "image", CodeMissingImage
			}
			if c.cover {
				r.post.Image = ""
			}
			var msg string
			switch {
			case c.redirect != "":
				msg = fmt.Sprintf("%s %q goes to /%s, where this site has no page or file", c.redirect, trimForMsg(c.dest), c.site)
			case c.from != "":
				msg = fmt.Sprintf("%s %q names no file of the repository from the post's folder, and from the page's address /%s it goes to /%s, where this site has no page or file",
					what, trimForMsg(c.dest), c.from, c.site)
			case c.image:
				msg = fmt.Sprintf("image %q is not a file of the site: put it in static/ (as static/%s), or beside the post and link it by its path from the post", trimForMsg(c.dest), strings.TrimSuffix(c.site, "/"))
			default:
				msg = fmt.Sprintf("link %q goes to /%s, where this site has no page or file", trimForMsg(c.dest), c.site)
			}
			r.add(c.line, c.col, code, msg)
		}
	}
	return assets
}

// redirectTarget checks where a redirect file goes and returns the URL to
// send readers to: an http(s) URL as written, or a site path under the
// base path; "" after an error.
func (l *loader) redirectTarget(r *postResult) string {
	rd := r.meta.redirect
	bad := func(why string) string {
		r.add(rd.line, rd.col, CodeBadRedirect, fmt.Sprintf("%s %q %s", rd.key, trimForMsg(rd.s), why))
		return ""
	}
	esc := util.URLEscape([]byte(rd.s), true)
	if dangerousURL(esc) {
		return bad("is not allowed (javascript:, vbscript:, data: and file: URLs are removed)")
	}
	u, err := url.Parse(string(esc))
	switch {
	case err != nil:
		return bad("is not a URL")
	case u.Scheme == "http" || u.Scheme == "https":
		if u.Host == "" {
			return bad("has no host")
		}
		return u.String()
	case u.Scheme != "" || u.Host != "" || u.Opaque != "":
		return bad("is not an http(s) URL or a path of this site")
	}
	rel, suffix := l.sitePath(u)
	r.checks = append(r.checks, linkCheck{site: rel, dest: rd.s, line: rd.line, col: rd.col, redirect: rd.key})
	return l.cfg.BasePath() + escapePath(rel) + suffix
}

// sitePath is the unescaped site-relative path of a root-relative (or,
// for a redirect, root-relative when written without its "/") URL, with
// the configured base path taken off when it was written with it, and the
// query and fragment to keep.
func (l *loader) sitePath(u *url.URL) (string, string) {
	suffix := ""
	if u.RawQuery != "" {
		suffix += "?" + u.RawQuery
	}
	if u.Fragment != "" {
		suffix += "#" + u.EscapedFragment()
	}
	p := "/" + strings.TrimPrefix(u.Path, "/")
	if l.configBase != "/" && (strings.HasPrefix(p, l.configBase) || p+"/" == l.configBase) {
		p = "/" + strings.TrimPrefix(p, strings.TrimSuffix(l.configBase, "/")) // already written with the base path
	}
	rel := strings.TrimPrefix(path.Clean(p), "/")
	if strings.HasSuffix(p, "/") && rel != "" {
		rel += "/"
	}
	return rel, suffix
}

// pageRelative is where a relative URL path written in the page at the
// site-relative address from goes, as a browser resolves it: an
// unescaped site-relative path.
func pageRelative(from, ref string) string {
	base := &url.URL{Path: "/" + from}
	return strings.TrimPrefix(base.ResolveReference(&url.URL{Path: ref}).Path, "/")
}
