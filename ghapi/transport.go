package ghapi

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
)

// Retry defaults; Options overrides them.
const (
	defaultMaxAttempts     = 5
	defaultMaxWait         = 15 * time.Minute
	defaultRequestTimeout  = 30 * time.Second
	defaultSecondaryWait   = 60 * time.Second // GitHub: wait at least a minute when no header says how long
	defaultServerErrorWait = time.Second      // first back-off after a 5xx, doubled each attempt
	maxServerErrorWait     = 30 * time.Second
	maxErrorBodyPeek       = 64 << 10 // bytes of a 403/429 body read to look for "secondary rate limit"
)

// retryTransport retries what GitHub tells us to retry: 5xx answers, primary
// rate limits (403/429 with X-RateLimit-Remaining: 0, until X-RateLimit-Reset)
// and secondary rate limits (403/429 with Retry-After, or a "secondary rate
// limit" message: at least a minute). Every other answer, 401 and 404
// included, is returned at once. Request bodies are replayed with GetBody; a
// request whose body cannot be replayed is never retried. Waiting goes
// through sleep, which returns early with the context's error.
//
// It is safe for concurrent use.
type retryTransport struct {
	next        http.RoundTripper
	sleep       func(ctx context.Context, d time.Duration) error
	now         func() time.Time
	maxAttempts int
	maxWait     time.Duration
	timeout     time.Duration // per attempt, until the body is closed; 0 = none
	log         *logrus.Entry
}

// cancelOnClose ends an attempt's context when its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	serverErrors := 0
	for attempt := 1; ; attempt++ {
		try := req
		if attempt > 1 {
			try = req.Clone(ctx)
			if req.Body != nil && req.Body != http.NoBody {
				body, err := req.GetBody()
				if err != nil {
					return nil, fmt.Errorf("replay request body: %w", err)
				}
				try.Body = body
			}
		}
		var cancel context.CancelFunc = func() {}
		if t.timeout > 0 {
			var actx context.Context
			actx, cancel = context.WithTimeout(ctx, t.timeout)
			try = try.WithContext(actx)
		}
		resp, err := t.next.RoundTrip(try)
		if err != nil {
			cancel()
		} else {
			resp.Body = cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
		}
		wait, why, retry := t.classify(req, resp, err)
		if why == reasonServer && wait == 0 {
			wait = defaultServerErrorWait << serverErrors
			if wait > maxServerErrorWait || wait <= 0 {
				wait = maxServerErrorWait
			}
		}
		if why == reasonServer || why == reasonTransport {
			serverErrors++
		}
		if !retry || attempt >= t.maxAttempts || wait > t.maxWait || !replayable || ctx.Err() != nil {
			return resp, err
		}
		fields := logrus.Fields{
			"method":  req.Method,
			"path":    req.URL.Path,
			"attempt": attempt,
			"wait":    wait.String(),
			"detail":  why, // "reason" is the job's (queue.FieldReason)
		}
		if resp != nil {
			fields["status"] = resp.StatusCode
			drain(resp)
		}
		t.log.WithFields(fields).Warn("github request retried")
		if err := t.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

const (
	reasonTransport = "transport error"
	reasonServer    = "server error"
	reasonPrimary   = "primary rate limit"
	reasonSecondary = "secondary rate limit"
)

// classify says whether an answer is worth another try and after how long
// (0 for a server error without Retry-After: the caller backs off). It may
// replace resp.Body with an equivalent reader after peeking into it.
func (t *retryTransport) classify(req *http.Request, resp *http.Response, err error) (time.Duration, string, bool) {
	if err != nil {
		if req.Context().Err() != nil || !idempotent(req.Method) {
			return 0, "", false
		}
		return defaultServerErrorWait, reasonTransport, true
	}
	switch code := resp.StatusCode; {
	case code >= 500:
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), t.now()); ok {
			return d, reasonServer, true
		}
		return 0, reasonServer, true
	case code == http.StatusForbidden || code == http.StatusTooManyRequests:
		// GitHub's order: Retry-After first, then X-RateLimit-Reset when
		// nothing remains, else at least a minute for a secondary limit.
		primary := resp.Header.Get("X-RateLimit-Remaining") == "0"
		why := reasonSecondary
		if primary {
			why = reasonPrimary
		}
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), t.now()); ok {
			return d, why, true
		}
		if primary {
			if reset, ok := parseReset(resp.Header.Get("X-RateLimit-Reset")); ok {
				return max(reset.Sub(t.now())+time.Second, time.Second), why, true
			}
			return defaultSecondaryWait, why, true
		}
		if code == http.StatusTooManyRequests || mentionsSecondaryLimit(resp) {
			return defaultSecondaryWait, why, true
		}
	}
	return 0, "", false
}

// mentionsSecondaryLimit reads up to maxErrorBodyPeek bytes of the body and
// puts them back, so the caller still sees the whole answer.
func mentionsSecondaryLimit(resp *http.Response) bool {
	if resp.Body == nil {
		return false
	}
	peek, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBodyPeek))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(peek), resp.Body), resp.Body}
	if err != nil {
		return false
	}
	return bytes.Contains(bytes.ToLower(peek), []byte("secondary rate limit"))
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
// It answers false for an absent or malformed header; a date in the past is
// a zero wait.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		return time.Duration(min(n, int64(24*time.Hour/time.Second))) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return min(max(at.Sub(now), 0), 24*time.Hour), true
	}
	return 0, false
}

// parseReset reads X-RateLimit-Reset: UTC epoch seconds.
func parseReset(v string) (time.Time, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n <= 0 || n > 1<<40 {
		return time.Time{}, false
	}
	return time.Unix(n, 0), true
}

func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete, http.MethodPatch:
		return true
	}
	return false
}

func drain(resp *http.Response) {
	if resp.Body != nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		_ = resp.Body.Close()
	}
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// serialTransport holds one lock around every mutating request (anything but
// GET and HEAD), so one credential never fires POST/PATCH/DELETE calls in
// parallel, as GitHub's rate-limit guidance asks. Reads pass freely. Waiting
// for the lock gives up when the request's context is done.
type serialTransport struct {
	next http.RoundTripper
	sem  chan struct{} // capacity 1
}

func newSerialTransport(next http.RoundTripper) serialTransport {
	return serialTransport{next: next, sem: make(chan struct{}, 1)}
}

func (t serialTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodGet || req.Method == http.MethodHead {
		return t.next.RoundTrip(req)
	}
	select {
	case t.sem <- struct{}{}:
	case <-req.Context().Done():
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, req.Context().Err()
	}
	defer func() { <-t.sem }()
	return t.next.RoundTrip(req)
}

// tokenTransport sets a static token on every request.
type tokenTransport struct {
	next  http.RoundTripper
	token string
}

func (t tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+t.token)
	return t.next.RoundTrip(r)
}
