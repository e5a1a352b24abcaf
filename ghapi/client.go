// Package ghapi is publishbot's GitHub adaptor, on go-github v62. It
// authenticates with a static token or as a GitHub App (one installation
// token per repository's installation, cached), keeps one sticky comment per
// pull request up to date, reports check runs (App) or commit statuses
// (token), and retries what GitHub asks to be retried: 5xx answers and
// primary and secondary rate limits.
//
// *Client implements publisher.Reporter and the publisher's token source
// (Token), which git uses for fetches and pushes.
package ghapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v62/github"
	"github.com/sirupsen/logrus"

	"github.com/publishbot/publishbot/keylock"
	"github.com/publishbot/publishbot/logmask"
	"github.com/publishbot/publishbot/queue"
)

// DefaultAPIURL is the API root used when a constructor gets "".
const DefaultAPIURL = "https://api.github.com/"

// Options tune a Client. The zero value is ready to use: no logging, the
// default HTTP transport, real waits, 5 attempts per request.
type Options struct {
	// Log receives retries and what each report did, with the job's fields.
	// Nil discards. Tokens and the private key are never logged.
	Log *logrus.Entry
	// Transport carries the requests; nil means http.DefaultTransport.
	Transport http.RoundTripper
	// Sleep waits between attempts and must return early with ctx's error;
	// nil waits for real. Tests inject one that records and returns at once.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock used to read X-RateLimit-Reset; nil means time.Now.
	Now func() time.Time
	// MaxAttempts bounds the tries of one request (0 means 5).
	MaxAttempts int
	// MaxWait is the longest single wait honoured (0 means 15 minutes); a
	// rate limit that resets later fails the request instead.
	MaxWait time.Duration
	// RequestTimeout bounds one attempt of one request, body included (0
	// means 30 s); an attempt that times out is retried like a network error.
	RequestTimeout time.Duration
	// UserAgent is sent with every request; "" means "publishbot".
	UserAgent string
}

// Client talks to one GitHub (github.com or an Enterprise Server) with one
// credential. It is safe for concurrent use; calls that change one pull
// request's comment are serialised, and mutating requests of one credential
// are never sent in parallel.
type Client struct {
	log     *logrus.Entry
	apiURL  *url.URL // ends in "/"
	retry   *retryTransport
	ua      string
	sleep   func(ctx context.Context, d time.Duration) error
	now     func() time.Time
	maxWait time.Duration

	token string         // static token; "" for an App
	gh    *github.Client // static token's client

	appID  int64
	appKey []byte // PEM, App only; never logged

	mu       sync.Mutex
	installs map[int64]*installation

	mask    *logmask.Masker // the static token and credential-shaped text
	prLocks keylock.Map
}

// installation is one App installation's authenticated transport and client.
type installation struct {
	itr *ghinstallation.Transport
	gh  *github.Client
}

// NewTokenClient returns a Client authenticated with a personal access token
// or another static token. apiURL is the API root ("" for api.github.com;
// e.g. "https://ghe.example.com/api/v3/" for Enterprise Server, or a test
// server's root URL), used exactly as given. Such a client reports with
// commit statuses, since tokens other than an App's cannot create check runs.
func NewTokenClient(token, apiURL string, opts Options) (*Client, error) {
	if strings.TrimSpace(token) == "" {
		return nil, errors.New("github token is empty")
	}
	c, err := newClient(apiURL, opts)
	if err != nil {
		return nil, err
	}
	c.token = token
	c.mask = logmask.NewMasker(token)
	c.gh = c.newGitHub(newSerialTransport(tokenTransport{next: c.retry, token: token}))
	return c, nil
}

// NewAppClient returns a Client authenticated as the GitHub App appID with
// its private key (PEM). Each job's repository names its installation
// (queue.Repo.InstallationID); installation tokens are fetched from apiURL
// (see NewTokenClient) on first use and renewed before they expire. Such a
// client reports with check runs.
func NewAppClient(appID int64, privateKeyPEM []byte, apiURL string, opts Options) (*Client, error) {
	if appID <= 0 {
		return nil, fmt.Errorf("github app id %d is not a positive number", appID)
	}
	c, err := newClient(apiURL, opts)
	if err != nil {
		return nil, err
	}
	// Parse once now, so a bad key stops the start and not the first job. The
	// parser's message never contains the key.
	if _, err := ghinstallation.NewAppsTransport(c.retry, appID, privateKeyPEM); err != nil {
		return nil, fmt.Errorf("read github app private key: %w", err)
	}
	c.appID = appID
	c.appKey = append([]byte(nil), privateKeyPEM...)
	c.installs = make(map[int64]*installation)
	return c, nil
}

func newClient(apiURL string, opts Options) (*Client, error) {
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	u, err := url.Parse(apiURL)
	if err != nil {
		return nil, fmt.Errorf("parse github api url: %w", err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("github api url %q: want an http(s) URL with a host and no credentials", u.Redacted())
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	u.RawQuery, u.Fragment = "", ""
	log := opts.Log
	if log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		log = logrus.NewEntry(l)
	}
	next := opts.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	sleep := opts.Sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	attempts := opts.MaxAttempts
	if attempts <= 0 {
		attempts = defaultMaxAttempts
	}
	maxWait := opts.MaxWait
	if maxWait <= 0 {
		maxWait = defaultMaxWait
	}
	timeout := opts.RequestTimeout
	if timeout <= 0 {
		timeout = defaultRequestTimeout
	}
	ua := opts.UserAgent
	if ua == "" {
		ua = "publishbot"
	}
	return &Client{
		log:     log,
		apiURL:  u,
		retry:   &retryTransport{next: next, sleep: sleep, now: now, maxAttempts: attempts, maxWait: maxWait, timeout: timeout, log: log},
		ua:      ua,
		sleep:   sleep,
		now:     now,
		maxWait: maxWait,
		mask:    logmask.NewMasker(),
	}, nil
}

func (c *Client) newGitHub(rt http.RoundTripper) *github.Client {
	gh := github.NewClient(&http.Client{Transport: rt})
	base := *c.apiURL
	gh.BaseURL = &base
	upload := *c.apiURL
	gh.UploadURL = &upload
	gh.UserAgent = c.ua
	return gh
}

// IsApp reports whether the client is authenticated as a GitHub App (and so
// reports with check runs).
func (c *Client) IsApp() bool { return c.appID != 0 }

// Token returns a token git can use for repo: the installation token of the
// repository's installation for an App (fetched or renewed as needed), else
// the static token. The publisher calls it before every fetch and push; it is
// safe for concurrent use. Never log what it returns.
func (c *Client) Token(ctx context.Context, repo queue.Repo) (string, error) {
	if !c.IsApp() {
		return c.token, nil
	}
	in, err := c.installation(repo)
	if err != nil {
		return "", err
	}
	tok, err := in.itr.Token(ctx)
	if err != nil {
		return "", fmt.Errorf("get installation token for %s: %w", repo.FullName, classify(err))
	}
	return tok, nil
}

// apiFor returns the API client for repo's credential.
func (c *Client) apiFor(repo queue.Repo) (*github.Client, error) {
	if !c.IsApp() {
		return c.gh, nil
	}
	in, err := c.installation(repo)
	if err != nil {
		return nil, err
	}
	return in.gh, nil
}

// ErrNoInstallation is returned for an App client when a repository carries
// no installation id (the webhook payload had none).
var ErrNoInstallation = errors.New("repository has no github app installation id")

func (c *Client) installation(repo queue.Repo) (*installation, error) {
	id := repo.InstallationID
	if id <= 0 {
		return nil, fmt.Errorf("%s: %w", repo.FullName, ErrNoInstallation)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if in, ok := c.installs[id]; ok {
		return in, nil
	}
	// One AppsTransport per installation: ghinstallation writes to the
	// AppsTransport on every refresh, so sharing one would race.
	atr, err := ghinstallation.NewAppsTransport(c.retry, c.appID, c.appKey)
	if err != nil {
		return nil, fmt.Errorf("read github app private key: %w", err)
	}
	atr.BaseURL = strings.TrimSuffix(c.apiURL.String(), "/")
	itr := ghinstallation.NewFromAppsTransport(atr, id)
	in := &installation{itr: itr, gh: c.newGitHub(newSerialTransport(itr))}
	c.installs[id] = in
	return in, nil
}
