package ghapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
)

// scripted is a server that answers from a script, one answer per request,
// and records the bodies it received.
type scripted struct {
	mu      sync.Mutex
	answers []func(w http.ResponseWriter)
	bodies  []string
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.bodies = append(s.bodies, string(b))
	var a func(http.ResponseWriter)
	if len(s.answers) > 0 {
		a, s.answers = s.answers[0], s.answers[1:]
	}
	s.mu.Unlock()
	if a == nil {
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, `{}`)
		return
	}
	a(w)
}

func answer(status int, header map[string]string, body string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

func newRetry(s *sleeps, now time.Time) *retryTransport {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return &retryTransport{
		next: http.DefaultTransport, sleep: s.sleep, now: func() time.Time { return now },
		maxAttempts: defaultMaxAttempts, maxWait: defaultMaxWait, log: logrus.NewEntry(l),
	}
}

func TestRetryTransport(t *testing.T) {
	now := time.Unix(1_780_000_000, 0)
	secondary := `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}`
	for _, tc := range []struct {
		name    string
		answers []func(http.ResponseWriter)
		status  int    // final status seen by the caller
		waits   string // the waits, in order
		tries   int
	}{
		{"5xx backs off then succeeds", []func(http.ResponseWriter){answer(502, nil, ""), answer(503, nil, ""), answer(500, nil, "")}, 200, "[1s 2s 4s]", 4},
		{"5xx honours Retry-After", []func(http.ResponseWriter){answer(503, map[string]string{"Retry-After": "7"}, "")}, 200, "[7s]", 2},
		{"primary rate limit waits for the reset", []func(http.ResponseWriter){answer(403, map[string]string{
			"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": strconv.FormatInt(now.Add(42*time.Second).Unix(), 10)}, `{"message":"API rate limit exceeded"}`)}, 200, "[43s]", 2},
		{"primary rate limit on 429", []func(http.ResponseWriter){answer(429, map[string]string{
			"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": strconv.FormatInt(now.Add(-5*time.Second).Unix(), 10)}, "")}, 200, "[1s]", 2},
		{"Retry-After wins over X-RateLimit-Reset", []func(http.ResponseWriter){answer(429, map[string]string{"Retry-After": "5",
			"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": strconv.FormatInt(now.Add(10*time.Minute).Unix(), 10)}, "")}, 200, "[5s]", 2},
		{"secondary rate limit honours Retry-After", []func(http.ResponseWriter){answer(403, map[string]string{"Retry-After": "90"}, secondary)}, 200, "[1m30s]", 2},
		{"secondary rate limit without header waits a minute", []func(http.ResponseWriter){answer(403, nil, secondary)}, 200, "[1m0s]", 2},
		{"429 without header waits a minute", []func(http.ResponseWriter){answer(429, nil, "")}, 200, "[1m0s]", 2},
		{"plain 403 is not retried", []func(http.ResponseWriter){answer(403, nil, `{"message":"Resource not accessible by integration"}`)}, 403, "[]", 1},
		{"401 is not retried", []func(http.ResponseWriter){answer(401, nil, `{"message":"Bad credentials"}`)}, 401, "[]", 1},
		{"404 is not retried", []func(http.ResponseWriter){answer(404, nil, `{"message":"Not Found"}`)}, 404, "[]", 1},
		{"attempts are bounded", []func(http.ResponseWriter){answer(502, nil, ""), answer(502, nil, ""), answer(502, nil, ""), answer(502, nil, ""), answer(502, nil, ""), answer(502, nil, "")}, 502, "[1s 2s 4s 8s]", 5},
		{"a reset beyond MaxWait fails at once", []func(http.ResponseWriter){answer(403, map[string]string{
			"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": strconv.FormatInt(now.Add(2*time.Hour).Unix(), 10)}, `{"message":"API rate limit exceeded"}`)}, 403, "[]", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := &scripted{answers: tc.answers}
			ts := httptest.NewServer(srv)
			defer ts.Close()
			s := &sleeps{}
			rt := newRetry(s, now)
			req, err := http.NewRequest(http.MethodPost, ts.URL+"/repos/a/b/issues/1/comments", bytes.NewBufferString(`{"body":"hello"}`))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := rt.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if got := fmt.Sprint(s.all()); got != tc.waits {
				t.Errorf("waits %s, want %s", got, tc.waits)
			}
			if len(srv.bodies) != tc.tries {
				t.Errorf("%d tries, want %d", len(srv.bodies), tc.tries)
			}
			for i, b := range srv.bodies {
				if b != `{"body":"hello"}` {
					t.Errorf("try %d sent body %q", i+1, b)
				}
			}
			if tc.status == 403 && strings.Contains(tc.name, "plain") && !strings.Contains(string(body), "Resource not accessible") {
				t.Errorf("the peeked body was lost: %q", body)
			}
		})
	}
}

func TestRetryStopsWhenContextEnds(t *testing.T) {
	srv := &scripted{answers: []func(http.ResponseWriter){answer(502, nil, ""), answer(502, nil, "")}}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	ctx, cancel := context.WithCancel(context.Background())
	rt := newRetry(&sleeps{}, time.Now())
	rt.sleep = func(ctx context.Context, d time.Duration) error {
		cancel()
		return sleepCtx(ctx, d)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"/x", nil)
	_, err := rt.RoundTrip(req)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if len(srv.bodies) != 1 {
		t.Errorf("%d tries after cancel", len(srv.bodies))
	}
}

func TestRetryNeverReplaysAnUnreplayableBody(t *testing.T) {
	srv := &scripted{answers: []func(http.ResponseWriter){answer(502, nil, "")}}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	rt := newRetry(&sleeps{}, time.Now())
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/x", io.NopCloser(strings.NewReader("once")))
	req.GetBody = nil
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 502 || len(srv.bodies) != 1 {
		t.Errorf("status %d after %d tries", resp.StatusCode, len(srv.bodies))
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 6, 14, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"30", 30 * time.Second, true},
		{" 0 ", 0, true},
		{"-1", 0, false},
		{"", 0, false},
		{"soon", 0, false},
		{"Sun, 14 Jun 2026 10:01:00 GMT", time.Minute, true},
		{"Sun, 14 Jun 2026 09:00:00 GMT", 0, true},
		{"99999999999999", 24 * time.Hour, true},
	} {
		got, ok := parseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// FuzzRateLimitHeaders: GitHub's headers are outside input; whatever they
// say, the wait is bounded and never negative.
func FuzzRateLimitHeaders(f *testing.F) {
	for _, s := range []string{"30", "0", "-5", "Sun, 14 Jun 2026 10:01:00 GMT", "1780000000", "", "9223372036854775807", "1e9"} {
		f.Add(s, s, 403)
	}
	now := time.Date(2026, 6, 14, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, retryAfter, reset string, status int) {
		if d, ok := parseRetryAfter(retryAfter, now); ok && (d < 0 || d > 24*time.Hour) {
			t.Fatalf("parseRetryAfter(%q) = %v", retryAfter, d)
		} else if !ok && d != 0 {
			t.Fatalf("not ok but %v", d)
		}
		if at, ok := parseReset(reset); ok && at.Before(time.Unix(1, 0)) {
			t.Fatalf("parseReset(%q) = %v", reset, at)
		}
		rt := newRetry(&sleeps{}, now)
		resp := &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("secondary rate limit"))}
		resp.Header.Set("Retry-After", retryAfter)
		resp.Header.Set("X-RateLimit-Reset", reset)
		resp.Header.Set("X-RateLimit-Remaining", "0")
		req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1/", nil)
		if d, _, retry := rt.classify(req, resp, nil); retry && d < 0 {
			t.Fatalf("negative wait %v", d)
		}
	})
}

func TestHungAttemptTimesOutAndIsRetried(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n == 1 {
			<-r.Context().Done() // hang until the client gives up
			return
		}
		_, _ = io.WriteString(w, `{}`)
	}))
	defer ts.Close()
	s := &sleeps{}
	rt := newRetry(s, time.Now())
	rt.timeout = 100 * time.Millisecond
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/repos/a/b", nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body) // the attempt's context lives until Close
	resp.Body.Close()
	mu.Lock()
	n := calls
	mu.Unlock()
	if err != nil || string(body) != "{}" || n != 2 || len(s.all()) != 1 {
		t.Errorf("body %q, err %v, %d calls, waits %v", body, err, n, s.all())
	}
}
