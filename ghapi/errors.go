package ghapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v62/github"
)

// Sentinels a caller can test with errors.Is; every API failure also
// carries an *APIError with the method, path and GitHub's message.
var (
	// ErrUnauthorized: GitHub refused the credential (401): a wrong or
	// revoked token, or a wrong App id or private key.
	ErrUnauthorized = errors.New("github refused the credentials")
	// ErrNotFound: 404, which GitHub also answers when the credential may
	// not see the repository (an App not installed on it, a token without
	// access).
	ErrNotFound = errors.New("github repository or resource not found or not visible to these credentials")
	// ErrForbidden: 403 that is not a rate limit: a missing permission.
	ErrForbidden = errors.New("github credentials lack a permission")
	// ErrRateLimited: a rate limit outlasted the retries.
	ErrRateLimited = errors.New("github rate limit")
)

// APIError is a failed GitHub API call.
type APIError struct {
	Method, Path string
	Status       int    // HTTP status; 0 when unknown
	Message      string // GitHub's message
	Kind         error  // one of the Err… sentinels, or nil
	Err          error  // the underlying error
}

func (e *APIError) Error() string {
	var b strings.Builder
	if e.Kind != nil {
		b.WriteString(e.Kind.Error())
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "%s %s answered %d", e.Method, e.Path, e.Status)
	if e.Message != "" {
		fmt.Fprintf(&b, " %q", e.Message)
	}
	switch e.Kind {
	case ErrUnauthorized:
		b.WriteString(" (check PUBLISHBOT_GITHUB_TOKEN, or the App id and private key)")
	case ErrNotFound:
		b.WriteString(" (is the App installed on the repository, or can the token see it?)")
	case ErrForbidden:
		b.WriteString(" (grant the App or token the permission)")
	}
	return b.String()
}

func (e *APIError) Unwrap() []error {
	var errs []error
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// classify turns go-github's and ghinstallation's errors into an *APIError;
// other errors come back unchanged.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var resp *http.Response
	msg := ""
	var kind error
	var (
		er  *github.ErrorResponse
		rl  *github.RateLimitError
		ab  *github.AbuseRateLimitError
		he  *ghinstallation.HTTPError
		ape *APIError
	)
	switch {
	case errors.As(err, &ape):
		return err
	case errors.As(err, &rl):
		resp, msg, kind = rl.Response, rl.Message, ErrRateLimited
	case errors.As(err, &ab):
		resp, msg, kind = ab.Response, ab.Message, ErrRateLimited
	case errors.As(err, &er):
		resp, msg = er.Response, er.Message
	case errors.As(err, &he):
		resp = he.Response
		if resp == nil {
			return err
		}
	default:
		return err
	}
	e := &APIError{Message: msg, Kind: kind, Err: err}
	if resp != nil {
		e.Status = resp.StatusCode
		if resp.Request != nil {
			e.Method, e.Path = resp.Request.Method, resp.Request.URL.Path
		}
	}
	if e.Kind == nil {
		switch e.Status {
		case http.StatusUnauthorized:
			e.Kind = ErrUnauthorized
		case http.StatusNotFound:
			e.Kind = ErrNotFound
		case http.StatusForbidden:
			e.Kind = ErrForbidden
		}
	}
	return e
}

// call runs one go-github call. go-github refuses, without any request, calls
// made while it remembers an exhausted rate limit; call waits that out
// (within MaxWait) and tries again, at most twice. Errors come back
// classified.
func (c *Client) call(ctx context.Context, f func() (*github.Response, error)) error {
	for try := 0; ; try++ {
		_, err := f()
		if err == nil {
			return nil
		}
		var wait time.Duration
		var rl *github.RateLimitError
		var ab *github.AbuseRateLimitError
		switch {
		case errors.As(err, &rl) && strings.Contains(rl.Message, "not making remote request"):
			wait = rl.Rate.Reset.Time.Sub(c.now()) + time.Second
		case errors.As(err, &ab) && strings.Contains(ab.Message, "not making remote request") && ab.RetryAfter != nil:
			wait = *ab.RetryAfter
		default:
			return classify(err)
		}
		if try >= 2 || wait > c.maxWait {
			return classify(err)
		}
		if err := c.sleep(ctx, max(wait, time.Second)); err != nil {
			return err
		}
	}
}
