package status

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Login and session limits.
const (
	cookieName  = "publishbot_status"
	sessionTTL  = 12 * time.Hour
	maxSessions = 1000
	// A client (by remote address) may try 5 logins at once, then one
	// every 12 s; all clients together 10 at once, then one every 2 s.
	clientBurst, globalBurst       = 5, 10
	clientEvery, globalEvery       = 12 * time.Second, 2 * time.Second
	maxClients                     = 10000
	clientIdle                     = time.Hour
	retryAfterSeconds              = "60"
	csrfField, tokenField          = "csrf", "token"
	bearerPrefix                   = "Bearer "
	sessionBytes, csrfBytes        = 32, 32
	minTokenLength                 = 16
	maxTokenFieldBytes             = 4096
	formBodyLimit            int64 = 16 << 10
)

// session is one logged-in browser.
type session struct {
	csrf    string
	expires time.Time
}

// gate checks the status token, keeps the sessions of the login form and
// rate-limits login attempts. It is safe for concurrent use.
type gate struct {
	tokenSum [32]byte
	now      func() time.Time

	mu       sync.Mutex
	sessions map[string]session
	clients  map[string]*client
	global   *rate.Limiter
}

type client struct {
	lim  *rate.Limiter
	seen time.Time
}

func newGate(token string, now func() time.Time) *gate {
	return &gate{
		tokenSum: sha256.Sum256([]byte(token)),
		now:      now,
		sessions: map[string]session{},
		clients:  map[string]*client{},
		global:   rate.NewLimiter(rate.Every(globalEvery), globalBurst),
	}
}

// tokenOK compares in constant time (of the token's hash).
func (g *gate) tokenOK(got string) bool {
	sum := sha256.Sum256([]byte(got))
	return subtle.ConstantTimeCompare(sum[:], g.tokenSum[:]) == 1
}

// who says how a request is authenticated: by bearer token (no CSRF check
// needed: browsers never add the header on their own), by a session
// cookie (whose CSRF token POSTs must carry), or not at all.
func (g *gate) who(r *http.Request) (bearer bool, s session, ok bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		tok, found := strings.CutPrefix(h, bearerPrefix)
		return found && g.tokenOK(tok), session{}, found && g.tokenOK(tok)
	}
	c, err := r.Cookie(cookieName)
	if err != nil {
		return false, session{}, false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	s, ok = g.sessions[c.Value]
	if ok && g.now().After(s.expires) {
		delete(g.sessions, c.Value)
		return false, session{}, false
	}
	return false, s, ok
}

// allowLogin spends one login attempt of the request's client and of all
// clients together.
func (g *gate) allowLogin(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.clients) >= maxClients {
		for k, c := range g.clients {
			if now.Sub(c.seen) > clientIdle {
				delete(g.clients, k)
			}
		}
	}
	c := g.clients[host]
	if c == nil {
		if len(g.clients) >= maxClients {
			return false // full of recent clients: only the global budget would be left
		}
		c = &client{lim: rate.NewLimiter(rate.Every(clientEvery), clientBurst)}
		g.clients[host] = c
	}
	c.seen = now
	if !c.lim.AllowN(now, 1) {
		return false
	}
	return g.global.AllowN(now, 1)
}

// newSession starts a session and returns its id.
func (g *gate) newSession() (string, error) {
	id, err := randomString(sessionBytes)
	if err != nil {
		return "", err
	}
	csrf, err := randomString(csrfBytes)
	if err != nil {
		return "", err
	}
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.sessions) >= maxSessions {
		var oldest string
		var at time.Time
		for k, s := range g.sessions {
			if now.After(s.expires) {
				delete(g.sessions, k)
				continue
			}
			if oldest == "" || s.expires.Before(at) {
				oldest, at = k, s.expires
			}
		}
		if len(g.sessions) >= maxSessions {
			delete(g.sessions, oldest)
		}
	}
	g.sessions[id] = session{csrf: csrf, expires: now.Add(sessionTTL)}
	return id, nil
}

func (g *gate) endSession(r *http.Request) {
	if c, err := r.Cookie(cookieName); err == nil {
		g.mu.Lock()
		delete(g.sessions, c.Value)
		g.mu.Unlock()
	}
}

func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// sameOrigin refuses a POST whose Origin (or, without one, Referer) names
// another site; a request without either (curl) passes.
func sameOrigin(r *http.Request) bool {
	src := r.Header.Get("Origin")
	if src == "" {
		src = r.Header.Get("Referer")
	}
	if src == "" {
		return true
	}
	if src == "null" {
		return false
	}
	rest, ok := strings.CutPrefix(src, "http://")
	if !ok {
		if rest, ok = strings.CutPrefix(src, "https://"); !ok {
			return false
		}
	}
	host, _, _ := strings.Cut(rest, "/")
	// Behind a reverse proxy that rewrites Host, X-Forwarded-Host is the
	// address the browser used. (The CSRF token is the real check.)
	return strings.EqualFold(host, r.Host) || strings.EqualFold(host, r.Header.Get("X-Forwarded-Host"))
}

func subtleEqual(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
