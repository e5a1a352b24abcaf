package gitstore

import (
	"net/http"
	"net/url"
	"sync"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"

	"github.com/publishbot/publishbot/gitauth"
)

// authTransport carries a Remote's requests and adds its token, as HTTP
// basic auth with user TokenUser, to each request that
// gitauth.CredentialsAllowed allows for the trusted git base, and to no
// other: not to a host a redirect leads to, not to a remote whose URL (an
// old job's, a payload's) names another host, not over plain http except
// to loopback. Requests without the token carry no Authorization header at
// all. It is safe for concurrent use.
type authTransport struct {
	next  http.RoundTripper
	token string
	base  *url.URL

	mu       sync.Mutex
	withheld string // the last host the token was kept from, "" for none
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	allowed := t.token != "" && gitauth.CredentialsAllowed(req.URL, t.base)
	if !allowed && t.token != "" {
		t.mu.Lock()
		t.withheld = req.URL.Scheme + "://" + req.URL.Host
		t.mu.Unlock()
	}
	if !allowed && req.Header.Get("Authorization") == "" {
		return t.next.RoundTrip(req)
	}
	// A RoundTripper must not change the caller's request.
	r := req.Clone(req.Context())
	r.Header.Del("Authorization")
	if allowed {
		r.SetBasicAuth(TokenUser, t.token)
	}
	return t.next.RoundTrip(r)
}

// withheldFrom is the last host the token was kept from, "" when it was
// sent with every request so far.
func (t *authTransport) withheldFrom() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.withheld
}

// newTransport is the git transport of one Remote: go-git's smart HTTP
// client over authTransport. base is where the token may go; nil means the
// remote URL's own scheme, host and port.
func newTransport(remoteURL, token string, base *url.URL) (transport.Transport, *authTransport) {
	if base == nil {
		if u, err := url.Parse(remoteURL); err == nil {
			base = &url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/"}
		}
	}
	at := &authTransport{next: http.DefaultTransport, token: token, base: base}
	return githttp.NewClientWithOptions(&http.Client{Transport: at}, nil), at
}
