package ghapitest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/google/go-github/v62/github"
)

// TokenAccess is what one personal access token may do. Tests give a token
// too little of it to see what the bot makes of GitHub's refusals.
type TokenAccess struct {
	// Scopes are a classic token's OAuth scopes ("repo", "public_repo",
	// "repo:status"), sent back in X-OAuth-Scopes on every answer. Nil is a
	// fine-grained token, for which GitHub sends no such header.
	Scopes []string
	// Permissions are a fine-grained token's repository permissions by
	// GitHub's names ("contents", "pull_requests", "issues", "statuses",
	// "checks", "metadata", "pages") → "read" or "write" (write includes
	// read). A refused call is 403 "Resource not accessible by personal
	// access token" with X-Accepted-GitHub-Permissions naming what it needs.
	Permissions map[string]string
	// Repos, when set, are the only repositories ("owner/name") the token
	// reaches; others are 404, as GitHub hides them.
	Repos []string
}

// Repository is a repository as GET /repos/{owner}/{repo} reports it.
type Repository struct {
	Private       bool
	DefaultBranch string // "" is "main"
	// Push and Admin are the signed-in user's role. For a fine-grained
	// token, permissions.push also needs the token's contents: write.
	Push, Admin bool
}

// accessState holds the limited tokens and the repositories. Guarded by
// Server.mu.
type accessState struct {
	tokens map[string]TokenAccess
	repos  map[string]Repository
}

// SetTokenAccess makes token (sent as "token T" or "Bearer T") a personal
// access token limited to a; tokens never set are limited only by
// Options.Token.
func (s *Server) SetTokenAccess(token string, a TokenAccess) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.access.tokens == nil {
		s.access.tokens = map[string]TokenAccess{}
	}
	s.access.tokens[token] = a
}

// SetRepository makes GET /repos/{owner}/{repo} answer for repo
// ("owner/name"); a repository never set is 404.
func (s *Server) SetRepository(repo string, r Repository) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.access.repos == nil {
		s.access.repos = map[string]Repository{}
	}
	s.access.repos[repo] = r
}

// grant is one permission at a level.
type grant struct{ perm, level string }

// opNeeds are the fine-grained permissions each operation needs, any one of
// them (GitHub's "Permissions required for fine-grained personal access
// tokens"). Check runs cannot be written with a personal access token.
var opNeeds = map[string][]grant{
	"repos/get":                    {{"metadata", "read"}},
	"repos/get-pages":              {{"pages", "read"}},
	"repos/get-latest-pages-build": {{"pages", "read"}},
	"repos/list-webhooks":          {{"repository_hooks", "read"}},
	"issues/list-comments":         {{"issues", "read"}, {"pull_requests", "read"}},
	"issues/get-comment":           {{"issues", "read"}, {"pull_requests", "read"}},
	"issues/create-comment":        {{"issues", "write"}, {"pull_requests", "write"}},
	"issues/update-comment":        {{"issues", "write"}, {"pull_requests", "write"}},
	"issues/delete-comment":        {{"issues", "write"}, {"pull_requests", "write"}},
	"repos/create-commit-status":   {{"statuses", "write"}},
	"pulls/get":                    {{"pull_requests", "read"}},
	"checks/create":                {{"checks", "app-only"}},
	"checks/update":                {{"checks", "app-only"}},
}

// writes are the operations a classic token needs a write scope for.
var writes = map[string]bool{
	"issues/create-comment": true, "issues/update-comment": true, "issues/delete-comment": true,
	"repos/create-commit-status": true, "checks/create": true, "checks/update": true,
}

func bearer(r *http.Request) string {
	auth := r.Header.Get("Authorization")
	return strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(auth, "Bearer "), "token "))
}

// scopesHeader is the X-OAuth-Scopes value for a classic token, and false
// for any other credential.
func (s *Server) scopesHeader(r *http.Request) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.access.tokens[bearer(r)]
	if !ok || a.Scopes == nil {
		return "", false
	}
	return strings.Join(a.Scopes, ", "), true
}

// answerAccessLocked refuses what a limited token may not do, and answers
// GET /repos/{owner}/{repo} and a commit status on a SHA that names no
// commit; done is false when the request goes on to the other operations.
func (s *Server) answerAccessLocked(c call) (a answer, done bool) {
	repo := ""
	if len(c.m) > 1 && strings.HasPrefix(c.r.URL.Path, "/repos/") {
		repo = c.m[1]
	}
	if ta, ok := s.access.tokens[bearer(c.r)]; ok && repo != "" {
		if refused, ok := s.refuseLocked(ta, c.op, repo); ok {
			return refused, true
		}
	}
	switch c.op {
	case "repos/get":
		r, ok := s.access.repos[repo]
		if !ok {
			return errorJSON(http.StatusNotFound, "Not Found"), true
		}
		return s.jsonAnswer(c.op, http.StatusOK, s.repoJSON(c, repo, r)), true
	case "repos/create-commit-status":
		if strings.Trim(c.m[2], "0") == "" {
			return errorJSON(http.StatusUnprocessableEntity, "No commit found for SHA: "+c.m[2]), true
		}
	}
	return answer{}, false
}

// refuseLocked is GitHub's answer to a limited token calling op on repo,
// and false when the token may.
func (s *Server) refuseLocked(ta TokenAccess, op, repo string) (answer, bool) {
	if ta.Repos != nil && !slices.Contains(ta.Repos, repo) {
		return errorJSON(http.StatusNotFound, "Not Found"), true
	}
	if ta.Scopes != nil { // classic
		private := s.access.repos[repo].Private
		has := func(scope string) bool { return slices.Contains(ta.Scopes, scope) }
		switch {
		case has("repo"):
		case has("public_repo") && !private:
		case has("repo:status") && op == "repos/create-commit-status" && !private:
		case !private && !writes[op]:
		default:
			return errorJSON(http.StatusNotFound, "Not Found"), true
		}
		return answer{}, false
	}
	needs, ok := opNeeds[op]
	if !ok {
		return answer{}, false
	}
	var accepted []string
	for _, g := range needs {
		if have := ta.Permissions[g.perm]; have == "write" || (have == g.level && have != "") {
			return answer{}, false
		}
		accepted = append(accepted, g.perm+"="+g.level)
	}
	a := errorJSON(http.StatusForbidden, "Resource not accessible by personal access token")
	a.header = http.Header{"X-Accepted-Github-Permissions": {strings.Join(accepted, "; ")}}
	return a, true
}

func (s *Server) repoJSON(c call, full string, r Repository) *github.Repository {
	owner, name, _ := strings.Cut(full, "/")
	branch := r.DefaultBranch
	if branch == "" {
		branch = "main"
	}
	push := r.Push
	if ta, ok := s.access.tokens[bearer(c.r)]; ok && ta.Scopes == nil && ta.Permissions["contents"] != "write" {
		push = false
	}
	visibility := "public"
	if r.Private {
		visibility = "private"
	}
	return &github.Repository{
		ID: github.Int64(1296269), Name: github.String(name), FullName: github.String(full),
		Owner:         &github.User{Login: github.String(owner)},
		Private:       github.Bool(r.Private),
		Visibility:    github.String(visibility),
		DefaultBranch: github.String(branch),
		HTMLURL:       github.String(fmt.Sprintf("%s%s", s.URL(), full)),
		URL:           github.String(fmt.Sprintf("%srepos/%s", s.URL(), full)),
		Permissions:   map[string]bool{"admin": r.Admin, "maintain": r.Admin, "push": push, "triage": push, "pull": true},
	}
}
