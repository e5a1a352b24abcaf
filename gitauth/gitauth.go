// Package gitauth owns the trust edge of git URLs: the one git host the bot
// trusts (the configured base URL, e.g. https://github.com/), the repository
// URLs derived on that host from a repository's full name, and the rule for
// whether credentials may be sent to a URL at all.
//
// A webhook payload's URLs are data, not configuration: the bot never clones
// from, links to or sends a token to a URL a payload names. It derives them
// with CloneURL and HTMLURL from the configured base and the repository's
// full name, which ValidFullName checks first.
package gitauth

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path"
	"strings"
)

// DefaultBase is the git base URL when none is configured and the GitHub API
// is api.github.com.
const DefaultBase = "https://github.com/"

// ParseBase parses and checks a configured git base URL (PUBLISHBOT_GIT_URL):
// an absolute https URL, or http to a loopback host (tests, the demo), with
// no user information, query or fragment, and a clean path. The result's
// scheme and host are lower case and its path ends in "/", so that
// CloneURL(base, "owner/name") is base + "owner/name.git".
func ParseBase(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("git URL: %w", err)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return nil, fmt.Errorf("git URL %q: want an https:// URL", raw)
	case u.Hostname() == "":
		return nil, fmt.Errorf("git URL %q has no host", raw)
	case u.User != nil:
		return nil, errors.New("git URL must not carry credentials")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.Opaque != "":
		return nil, fmt.Errorf("git URL %q: want a plain base URL, without query or fragment", raw)
	case u.Scheme == "http" && !IsLoopback(u.Hostname()):
		return nil, fmt.Errorf("git URL %q: plain http is allowed only to a loopback host; use https", raw)
	}
	p := u.Path
	if p == "" {
		p = "/"
	}
	if u.RawPath != "" || (p != "/" && path.Clean(p) != strings.TrimSuffix(p, "/")) {
		return nil, fmt.Errorf("git URL %q: the path must be clean, without escapes or dot segments", raw)
	}
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	u.Path, u.RawPath = p, ""
	return u, nil
}

// BaseForAPI derives the git base URL from the GitHub API base URL, for when
// none is configured: api.github.com is github.com, a GitHub Enterprise Cloud
// API host api.<name>.ghe.com is <name>.ghe.com, and a GitHub Enterprise
// Server API URL https://ghe.example/api/v3 is https://ghe.example/. Any
// other API URL gives its own host's root. The result is checked as ParseBase
// checks a configured one.
func BaseForAPI(apiURL string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(apiURL))
	if err != nil {
		return nil, fmt.Errorf("github api URL: %w", err)
	}
	if u.User != nil {
		return nil, errors.New("github api URL must not carry credentials")
	}
	host := strings.ToLower(u.Host)
	switch {
	case host == "api.github.com":
		return ParseBase(DefaultBase)
	case strings.HasPrefix(host, "api.") && strings.HasSuffix(host, ".ghe.com"):
		host = strings.TrimPrefix(host, "api.")
	}
	base := url.URL{Scheme: u.Scheme, Host: host, Path: "/"}
	if prefix, ok := strings.CutSuffix(strings.TrimSuffix(u.Path, "/"), "/api/v3"); ok {
		base.Path = prefix + "/" // GitHub Enterprise Server, maybe under a path
	}
	return ParseBase(base.String())
}

// Limits of a repository's full name, as GitHub allows them.
const (
	maxOwner = 100 // github.com allows 39; Enterprise user names may be longer
	maxName  = 100
)

// ValidFullName checks that name is a GitHub repository full name,
// "owner/name", in the characters GitHub allows: an owner of ASCII letters,
// digits, '-' and '_' (Enterprise Managed Users), not starting with '-'; a
// repository name of ASCII letters, digits, '.', '-' and '_' that is not
// made of dots only. Exactly one '/' separates them. Such a name is safe
// to place in a URL path as is.
func ValidFullName(name string) error {
	owner, repo, ok := strings.Cut(name, "/")
	switch {
	case !ok:
		return fmt.Errorf("repository name %q is not owner/name", clip(name))
	case owner == "" || len(owner) > maxOwner || owner[0] == '-' || !allIn(owner, "-_"):
		return fmt.Errorf("repository owner %q is not a GitHub account name", clip(owner))
	case repo == "" || len(repo) > maxName || !allIn(repo, ".-_"):
		return fmt.Errorf("repository name %q is not a GitHub repository name", clip(repo))
	case strings.Trim(repo, ".") == "":
		return fmt.Errorf("repository name %q is not a GitHub repository name", clip(repo))
	}
	return nil
}

// allIn reports whether s holds only ASCII letters, digits and the bytes of
// extra.
func allIn(s, extra string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') || strings.IndexByte(extra, c) >= 0 {
			continue
		}
		return false
	}
	return true
}

func clip(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

// CloneURL is the repository's clone URL on the git host base (a URL from
// ParseBase or BaseForAPI): base + "owner/name.git". It fails when fullName
// is not a valid full name.
func CloneURL(base *url.URL, fullName string) (string, error) {
	web, err := HTMLURL(base, fullName)
	if err != nil {
		return "", err
	}
	return web + ".git", nil
}

// HTMLURL is the repository's web address on the git host base:
// base + "owner/name", the prefix of links to its files and commits.
func HTMLURL(base *url.URL, fullName string) (string, error) {
	if base == nil {
		return "", errors.New("no git base URL")
	}
	if err := ValidFullName(fullName); err != nil {
		return "", err
	}
	s := base.String()
	if !strings.HasSuffix(s, "/") {
		s += "/"
	}
	return s + fullName, nil
}

// CredentialsAllowed reports whether credentials (a token as basic auth or a
// bearer header) may be sent with a request to target, given the configured
// git base: only when target has the same scheme, host and port as the base
// (default ports filled in, case folded), carries no user information of its
// own, and is https, or http to a loopback host. Paths are not compared: a
// token is good for the whole host, as git's own credential helpers treat
// it. A nil URL is never allowed. The git transport calls it for every
// request it authenticates, so a redirect or a rewritten endpoint cannot
// carry the token elsewhere.
func CredentialsAllowed(target, gitBase *url.URL) bool {
	if target == nil || gitBase == nil || target.User != nil {
		return false
	}
	scheme := strings.ToLower(target.Scheme)
	if scheme != strings.ToLower(gitBase.Scheme) {
		return false
	}
	host := target.Hostname()
	if host == "" || !strings.EqualFold(host, gitBase.Hostname()) {
		return false
	}
	if portOf(target) != portOf(gitBase) {
		return false
	}
	switch scheme {
	case "https":
		return true
	case "http":
		return IsLoopback(host)
	}
	return false
}

// portOf is u's port, the scheme's default when none is given.
func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

// IsLoopback reports whether host (a host name or IP address, without port
// or brackets) is "localhost" or a loopback IP address.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
