package gitauth

import (
	"fmt"
	"net/url"
	"strings"
)

// APIForBase is BaseForAPI the other way round: the GitHub API base URL of
// a GitHub web address (what a user types into a browser, and what
// `publishbot setup --github-url` takes): github.com is
// https://api.github.com/, a GitHub Enterprise Cloud host <name>.ghe.com is
// https://api.<name>.ghe.com/, and any other host is a GitHub Enterprise
// Server, whose API lives under /api/v3/ of the same address. The web
// address is checked as ParseBase checks a git base (https, or http to a
// loopback host); BaseForAPI(APIForBase(u)) is u.
func APIForBase(web string) (*url.URL, error) {
	base, err := ParseBase(web)
	if err != nil {
		return nil, fmt.Errorf("github web address: %w", err)
	}
	host := base.Host
	switch {
	case host == "github.com" || host == "www.github.com":
		return url.Parse("https://api.github.com/")
	case strings.HasSuffix(host, ".ghe.com") && !strings.HasPrefix(host, "api."):
		return &url.URL{Scheme: base.Scheme, Host: "api." + host, Path: "/"}, nil
	}
	api := *base
	api.Path = base.Path + "api/v3/"
	return &api, nil
}
