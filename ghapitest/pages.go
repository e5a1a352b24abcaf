package ghapitest

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Pages is a repository's GitHub Pages site as the server reports it (GET
// /repos/{owner}/{repo}/pages) and its builds (GET .../pages/builds/latest).
// Tests and the demo set it with SetPages; a repository without one
// answers 404 to both, as GitHub does when Pages is off.
type Pages struct {
	// Branch and Path are the publishing source; "" means "gh-pages" and "/".
	Branch, Path string
	// BuildType is "legacy" (built from the branch; the default) or
	// "workflow" (built by a GitHub Actions workflow).
	BuildType string
	// HTMLURL is the site's address; "" means https://<owner>.github.io/<name>/.
	HTMLURL string
	// Head returns the commit at the head of Branch; it is read at every
	// request for the latest build, and a commit not built yet starts a
	// build. Nil: the latest build is the one set with SetPagesBuild.
	Head func() string
	// BuildingPolls is how many requests for the latest build answer
	// "building" for a new commit before it is done. 0 means 1.
	BuildingPolls int
	// FailBuild, when set, makes every build end in "errored" with this
	// message: the fault mode of a Pages build that fails.
	FailBuild string
}

// PagesBuild is one Pages build as reported.
type PagesBuild struct {
	Commit string
	Status string // "queued", "building", "built" or "errored"
	Error  string // the error message of an errored build
	polls  int
}

// Hook is a repository webhook as GET /repos/{owner}/{repo}/hooks lists it.
type Hook struct {
	URL         string
	ContentType string // "json" or "form"
	Events      []string
	Active      bool
}

// SetPages makes the server report p as repo's Pages site ("owner/name"),
// replacing what it reported before.
func (s *Server) SetPages(repo string, p Pages) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pages == nil {
		s.pages = map[string]*pagesState{}
	}
	st := s.pages[repo]
	if st == nil {
		st = &pagesState{}
		s.pages[repo] = st
	}
	st.site = p
}

// SetPagesBuild sets repo's latest Pages build (a Pages site must be set).
func (s *Server) SetPagesBuild(repo string, b PagesBuild) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.pages[repo]; st != nil {
		st.latest = &b
	}
}

// SetHooks makes the server list hooks for repo. A repository whose hooks
// were never set answers 404, as GitHub does to a token that may not read
// them.
func (s *Server) SetHooks(repo string, hooks []Hook) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hooks == nil {
		s.hooks = map[string][]Hook{}
	}
	s.hooks[repo] = append([]Hook(nil), hooks...)
}

type pagesState struct {
	site   Pages
	latest *PagesBuild
}

func (s *Server) pagesLocked(c call) answer {
	st := s.pages[c.m[1]]
	if st == nil {
		return errorJSON(http.StatusNotFound, "Not Found")
	}
	p := st.site
	owner, name, _ := strings.Cut(c.m[1], "/")
	branch, dir, typ, htmlURL := p.Branch, p.Path, p.BuildType, p.HTMLURL
	if branch == "" {
		branch = "gh-pages"
	}
	if dir == "" {
		dir = "/"
	}
	if typ == "" {
		typ = "legacy"
	}
	if htmlURL == "" {
		htmlURL = fmt.Sprintf("https://%s.github.io/%s/", strings.ToLower(owner), name)
	}
	status := any(nil)
	if st.latest != nil {
		status = st.latest.Status
	}
	return s.jsonAnswer(c.op, http.StatusOK, map[string]any{
		"url":        s.URL() + "repos/" + c.m[1] + "/pages",
		"status":     status,
		"cname":      nil,
		"custom_404": false,
		"public":     true,
		"html_url":   htmlURL,
		"build_type": typ,
		"source":     map[string]any{"branch": branch, "path": dir},
	})
}

func (s *Server) latestBuildLocked(c call) answer {
	st := s.pages[c.m[1]]
	if st == nil {
		return errorJSON(http.StatusNotFound, "Not Found")
	}
	p := st.site
	if p.Head != nil {
		if head := p.Head(); head != "" && (st.latest == nil || st.latest.Commit != head) {
			st.latest = &PagesBuild{Commit: head, Status: "building"}
		}
	}
	b := st.latest
	if b == nil {
		return errorJSON(http.StatusNotFound, "Not Found")
	}
	if b.Status == "building" || b.Status == "queued" {
		b.polls++
		if b.polls > max(p.BuildingPolls, 1) {
			b.Status = "built"
			if p.FailBuild != "" {
				b.Status, b.Error = "errored", p.FailBuild
			}
		}
	}
	var msg any
	if b.Error != "" {
		msg = b.Error
	}
	s.clock = s.clock.Add(time.Second)
	return s.jsonAnswer(c.op, http.StatusOK, map[string]any{
		"url":        s.URL() + "repos/" + c.m[1] + "/pages/builds/latest",
		"status":     b.Status,
		"error":      map[string]any{"message": msg},
		"commit":     b.Commit,
		"duration":   1000,
		"created_at": s.clock.Format(time.RFC3339),
		"updated_at": s.clock.Format(time.RFC3339),
	})
}

func (s *Server) hooksLocked(c call) answer {
	hooks, ok := s.hooks[c.m[1]]
	if !ok {
		return errorJSON(http.StatusNotFound, "Not Found")
	}
	out := make([]map[string]any, 0, len(hooks))
	for i, h := range hooks {
		id := int64(9000 + i)
		u := fmt.Sprintf("%srepos/%s/hooks/%d", s.URL(), c.m[1], id)
		out = append(out, map[string]any{
			"type": "Repository", "id": id, "name": "web", "active": h.Active, "events": h.Events,
			"config": map[string]any{"url": h.URL, "content_type": h.ContentType, "insecure_ssl": "0"},
			"url":    u, "test_url": u + "/test", "ping_url": u + "/pings", "deliveries_url": u + "/deliveries",
			"created_at": s.clock.Format(time.RFC3339), "updated_at": s.clock.Format(time.RFC3339),
			"last_response": map[string]any{"code": nil, "status": "unused", "message": nil},
		})
	}
	return s.jsonAnswer(c.op, http.StatusOK, out)
}
