package posts

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Person is an author: a name, and a link to their page when one is known.
type Person struct {
	Name string `yaml:"name" json:"name"`
	// URL is an absolute http(s) URL, or a path on this site from its
	// root ("/about/"); "" for none.
	URL string `yaml:"url" json:"url,omitempty"`
}

// maxPostAuthors bounds the authors of one post, maxConfigAuthors the ids
// of publish.yaml.
const (
	maxPostAuthors   = 50
	maxConfigAuthors = 1000
)

// authorURLProblem says why s cannot be an author's link, or "".
func authorURLProblem(s string) string {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return "is not a URL"
	case u.Scheme == "http" || u.Scheme == "https":
		if u.Host == "" {
			return "has no host"
		}
		return ""
	case u.Scheme == "" && u.Host == "" && strings.HasPrefix(s, "/"):
		return ""
	}
	return "is not an http(s) URL or a path on this site"
}

// parseAuthorsConfig reads publish.yaml's authors: a mapping of ids to a
// name, or to a mapping with name and url.
func parseAuthorsConfig(v *fmValue) (map[string]Person, []Diagnostic) {
	var ds []Diagnostic
	bad := func(line, col int, format string, args ...any) {
		ds = append(ds, newDiag(ConfigFile, line, col, CodeConfigInvalid, "authors: "+fmt.Sprintf(format, args...)))
	}
	switch v.kind {
	case vNull:
		return nil, nil
	case vMap:
	default:
		bad(v.line, v.col, "must map author ids to names, like \"andre: {name: André, url: https://…}\", not a %s", kindName(v.kind))
		return nil, ds
	}
	if len(v.fields) > maxConfigAuthors {
		bad(v.line, v.col, "has %d authors; the limit is %d", len(v.fields), maxConfigAuthors)
		return nil, ds
	}
	out := make(map[string]Person, len(v.fields))
	for _, f := range v.fields {
		id := strings.TrimSpace(f.key)
		if _, dup := out[id]; dup {
			bad(f.line, f.col, "%q is given twice; keep one", id)
			continue
		}
		var p Person
		failed := false
		switch f.value.kind {
		case vScalar:
			p.Name = strings.TrimSpace(f.value.s)
		case vMap:
			for _, sub := range f.value.fields {
				sv := &sub.value
				switch sub.key {
				case "name", "url":
					if sv.kind != vScalar && sv.kind != vNull {
						bad(sv.line, sv.col, "%s of %q must be text, not a %s", sub.key, id, kindName(sv.kind))
						failed = true
						continue
					}
					s := strings.TrimSpace(sv.s)
					if sub.key == "name" {
						p.Name = s
					} else if s != "" {
						if problem := authorURLProblem(s); problem != "" {
							bad(sv.line, sv.col, "url of %q: %q %s", id, clip(s, 60), problem)
							failed = true
							continue
						}
						p.URL = s
					}
				default:
					ds = append(ds, newDiag(ConfigFile, sub.line, sub.col, CodeUnknownField,
						fmt.Sprintf("authors: %q of %q is not used (an author has a name and a url) and is ignored", sub.key, id)))
				}
			}
		default:
			bad(f.value.line, f.value.col, "%q must be a name or a mapping with name and url, not a %s", id, kindName(f.value.kind))
			continue
		}
		if failed {
			continue
		}
		if p.Name == "" {
			bad(f.line, f.col, "%q has no name: write \"%s: {name: Their Name}\"", id, id)
			continue
		}
		out[id] = p
	}
	return out, ds
}

// authorEntries reads one of the front matter fields author, authors and
// by: a name (or an id of publish.yaml's authors), a list of them, or a
// mapping with name and url (Jekyll's author: {name: …, url: …}), or a
// list of such mappings. A link that is not an http(s) URL or a site path
// is left out with a warning.
func authorEntries(v *fmValue, key string, add func(line, col int, code, format string, args ...any)) []Person {
	one := func(e *fmValue) (Person, bool) {
		switch e.kind {
		case vNull:
			return Person{}, false
		case vScalar:
			s := strings.TrimSpace(e.s)
			return Person{Name: s}, s != ""
		case vMap:
			var p Person
			for _, sub := range e.fields {
				sv := &sub.value
				if sv.kind != vScalar {
					continue
				}
				switch sub.key {
				case "name":
					p.Name = strings.TrimSpace(sv.s)
				case "url", "uri", "link":
					s := strings.TrimSpace(sv.s)
					if problem := authorURLProblem(s); problem != "" && s != "" {
						add(sv.line, sv.col, CodeUnsafeURL, "%s url %q %s and is left out", key, clip(s, 60), problem)
					} else {
						p.URL = s
					}
				}
			}
			if p.Name == "" {
				add(e.line, e.col, CodeInvalidField, "%s needs a name, as in {name: Ada Lovelace, url: https://…}", key)
				return Person{}, false
			}
			return p, true
		}
		add(e.line, e.col, CodeInvalidField, "%s must be a name or a list of names, not contain a %s", key, kindName(e.kind))
		return Person{}, false
	}
	if v.kind != vList {
		if p, ok := one(v); ok {
			return []Person{p}
		}
		return nil
	}
	var out []Person
	for i := range v.list {
		if p, ok := one(&v.list[i]); ok {
			out = append(out, p)
		}
	}
	return out
}

// resolveAuthors looks each author up by id in publish.yaml's authors
// (an id not there is a name, shown as written) and drops repeats.
func resolveAuthors(list []Person, ids map[string]Person) []Person {
	if len(list) == 0 {
		return nil
	}
	out := list[:0] // in place: list is the post's own
	for _, p := range list {
		if known, ok := ids[p.Name]; ok && p.URL == "" {
			p = known
		}
		if !slices.Contains(out, p) { // at most maxPostAuthors
			out = append(out, p)
		}
	}
	return out
}

// joinNames writes names as English does: "A", "A and B", "A, B and C".
func joinNames(ps []Person) string {
	switch len(ps) {
	case 0:
		return ""
	case 1:
		return ps[0].Name
	}
	var b strings.Builder
	for i, p := range ps {
		switch {
		case i == 0:
		case i == len(ps)-1:
			b.WriteString(" and ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(p.Name)
	}
	return b.String()
}
