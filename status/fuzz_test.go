package status

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// FuzzRequestChecks: whatever a client sends as Origin, Referer,
// Authorization and cookie, the checks do not panic, no request without
// the token passes, and no Origin naming another host passes.
func FuzzRequestChecks(f *testing.F) {
	f.Add("https://bot.example.com", "", "Bearer "+testToken, "")
	f.Add("null", "https://evil.example/x", "Bearer x", "abc")
	f.Add("", "http://bot.example.com/status", "", "\x00")
	f.Add("https://bot.example.com.evil.example", "", "bearer "+testToken, "")
	g := newGate(testToken, time.Now)
	f.Fuzz(func(t *testing.T, origin, referer, auth, cookie string) {
		r := httptest.NewRequest(http.MethodPost, "http://bot.example.com/status/retry", nil)
		setIfValid := func(k, v string) {
			defer func() { _ = recover() }() // a header value net/http would refuse
			r.Header.Set(k, v)
		}
		setIfValid("Origin", origin)
		setIfValid("Referer", referer)
		setIfValid("Authorization", auth)
		setIfValid("Cookie", cookieName+"="+cookie)
		_, _, ok := g.who(r)
		if ok && r.Header.Get("Authorization") != "Bearer "+testToken {
			t.Fatalf("authorized without the token: %q %q", r.Header.Get("Authorization"), cookie)
		}
		if sameOrigin(r) {
			src := r.Header.Get("Origin")
			if src == "" {
				src = r.Header.Get("Referer")
			}
			if src != "" {
				rest := src[strings.Index(src, "//")+2:]
				host, _, _ := strings.Cut(rest, "/")
				if !strings.EqualFold(host, "bot.example.com") {
					t.Fatalf("origin %q passed for bot.example.com", src)
				}
			}
		}
	})
}
