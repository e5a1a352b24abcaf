package demo

import (
	"io/fs"
	"net/http"
	"strings"
)

// pagesHandler is the GitHub Pages stand-in: it serves the pages branch
// under prefix ("/blog/") as GitHub Pages serves a project site, reading
// the branch's newest commit (through read) on every request: index.html
// for a folder, x.html for a path x without it, a redirect to the folder
// for a path without its slash, and the site's 404.html with status 404
// for anything else.
func pagesHandler(prefix string, read func() (fs.FS, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, prefix) {
			if r.URL.Path == "/" {
				http.Redirect(w, r, prefix, http.StatusFound)
				return
			}
			http.NotFound(w, r)
			return
		}
		site, err := read()
		if err != nil {
			http.Error(w, "the pages branch is not published yet", http.StatusNotFound)
			return
		}
		name := strings.TrimPrefix(r.URL.Path, prefix)
		if name == "" || strings.HasSuffix(name, "/") {
			name += "index.html"
		}
		if _, err := fs.Stat(site, name); err != nil && !strings.HasSuffix(name, "/index.html") {
			if _, herr := fs.Stat(site, name+".html"); herr == nil {
				name += ".html" // GitHub Pages serves /x from x.html
			}
		}
		if _, err := fs.Stat(site, name); err != nil {
			if _, derr := fs.Stat(site, name+"/index.html"); derr == nil {
				http.Redirect(w, r, r.URL.Path+"/", http.StatusMovedPermanently)
				return
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusNotFound)
			if b, err := fs.ReadFile(site, "404.html"); err == nil {
				w.Write(b)
			}
			return
		}
		http.ServeFileFS(w, r, site, name)
	})
}
