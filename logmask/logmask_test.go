package logmask

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
)

func TestMaskerString(t *testing.T) {
	m := NewMasker("It's a Secret to Everybody", "tok-123456789", "")
	tests := []struct {
		name, in, want string
	}{
		{"secret", "secret is It's a Secret to Everybody!", "secret is ***!"},
		{"token", "using tok-123456789 now", "using *** now"},
		{"ghs", "token ghs_16C7e42F292c6912E7710c838347Ae178B4a here", "token *** here"},
		{"ghp", "ghp_abcdefghijklmnopqrstuvwxyz0123456789", "***"},
		{"pat", "github_pat_11ABCDEFG0123456789_abcdefghijklmnop", "***"},
		{"url credentials", "fetch https://x-access-token:whatever-it-is@github.com/a/b.git: failed", "fetch https://x-access-token:***@github.com/a/b.git: failed"},
		{"url user only kept", "https://user@github.com/a/b", "https://user@github.com/a/b"},
		{"url port not a password", "listening on http://127.0.0.1:8080/x", "listening on http://127.0.0.1:8080/x"},
		{"bearer", "Authorization: Bearer abcdefghijklmnop", "Authorization: Bearer ***"},
		{"authorization token", "authorization: token abcdefghijklmnop", "authorization: token ***"},
		{"plain words", "the basic token refreshed_successfully", "the basic token refreshed_successfully"},
		{"url-escaped secret", "q=It%27s+a+Secret+to+Everybody", "q=***"},
		{"push url with a token", "push https://x-access-token:ghs_abcdefghijklmnopqrstuvwxyz0123456789@github.com/a/b.git", "push https://x-access-token:***@github.com/a/b.git"},
		{"jwt bearer", "Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiI5OSJ9.c2ln", "Authorization: Bearer ***"},
		{"pem key", "key: -----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY----- end", "key: *** end"},
		{"pem key cut short", "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg", "***"},
		{"pem key json-escaped", `"k":"-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----\n"`, `"k":"***\n"`},
		{"diagnostic", "nothing secret here: posts/a.md:3", "nothing secret here: posts/a.md:3"},
		{"nothing", "published abc1234", "published abc1234"},
		{"base64 secret", "header " + base64.StdEncoding.EncodeToString([]byte("tok-123456789")), "header ***"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := m.String(tt.in); got != tt.want {
				t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// Given "user:password", a Basic Authorization header's value is hidden.
func TestMaskerBasicAuth(t *testing.T) {
	m := NewMasker("s3cret-value", "x-access-token:s3cret-value")
	header := base64.StdEncoding.EncodeToString([]byte("x-access-token:s3cret-value"))
	if got := m.String("sent " + header + " and s3cret-value"); got != "sent *** and ***" {
		t.Errorf("masked = %q", got)
	}
}

func TestZeroMaskerMasksTokens(t *testing.T) {
	var m *Masker
	if got := m.String("ghs_abcdefghijklmnopqrstu"); got != Mask {
		t.Errorf("nil Masker: got %q", got)
	}
}

func TestFormatterMasksFieldsMessagesAndErrors(t *testing.T) {
	const secret = `s3cr"et\value<&>`
	for _, tc := range []struct {
		name string
		f    logrus.Formatter
	}{
		{"json", &logrus.JSONFormatter{}},
		{"text", &logrus.TextFormatter{DisableColors: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := logrus.New()
			log.Out = &buf
			log.Formatter = NewFormatter(tc.f, secret, "ghp_notreallyatoken00000000")
			e := log.WithField("repo", "acme/blog")
			e.WithField("secret", secret).Info("config " + secret)
			e.WithError(fmt.Errorf("clone https://x-access-token:%s@github.com/acme/blog: %w", "ghs_0123456789abcdefghij", errors.New("boom"))).Warn("fetch failed")
			e.WithField("url", "https://x-access-token:"+secret+"@github.com").Info("url")
			out := buf.String()
			for _, leak := range []string{"s3cr", "ghs_0123", "ghp_not", `\value`, "value<"} {
				if strings.Contains(out, leak) {
					t.Errorf("log output leaks %q:\n%s", leak, out)
				}
			}
			if !strings.Contains(out, "acme/blog") || !strings.Contains(out, "fetch failed") {
				t.Errorf("log output lost its content:\n%s", out)
			}
		})
	}
}

// FuzzMask checks that no secret survives masking, wherever it is embedded
// and however the formatter escapes it.
func FuzzMask(f *testing.F) {
	f.Add("It's a Secret to Everybody", "before ", " after")
	f.Add(`q"\<>&`, "https://x-access-token:", "@github.com")
	f.Add("ghs_abc", "", "")
	f.Fuzz(func(t *testing.T, secret, pre, post string) {
		// A secret made with the mask's own character could be rebuilt from
		// the mask and the text around it; real secrets are not like that.
		if secret == "" || strings.Contains(secret, "*") {
			return
		}
		m := NewMasker(secret)
		if got := m.String(pre + secret + post); strings.Contains(got, secret) {
			t.Fatalf("secret %q survives in %q", secret, got)
		}
		var buf bytes.Buffer
		log := logrus.New()
		log.Out = &buf
		log.Formatter = &Formatter{Inner: &logrus.JSONFormatter{}, Masker: m}
		log.WithField("v", pre+secret+post).Info("x")
		if bytes.Contains(buf.Bytes(), []byte(secret)) {
			t.Fatalf("secret %q survives in JSON %q", secret, buf.String())
		}
	})
}

// TestShortSecretsNotMasked: a secret of white space or of fewer than four
// characters would mask that text in every line; it is ignored.
func TestShortSecretsNotMasked(t *testing.T) {
	m := NewMasker(" ", "\t \n", "a", "ab", " abc ", "é", "ghs")
	for _, line := range []string{
		`{"level":"info","msg":"webhook delivery","repo":"acme/blog","status":202}`,
		"time=2026-06-14 level=info msg=\"starting\" addr=:8080",
		"abc ab a é",
	} {
		if got := m.String(line); got != line {
			t.Errorf("String(%q) = %q, want it unchanged", line, got)
		}
	}
	for secret, line := range map[string]string{
		"abcd":     "x abcd y",
		" abcd ":   "x  abcd  y",
		"ééééé":    "x ééééé y",
		"s3cr3t!!": "x s3cr3t!! y",
	} {
		if got := NewMasker(secret).String(line); strings.Contains(got, strings.TrimSpace(secret)) {
			t.Errorf("secret %q not masked in %q: %q", secret, line, got)
		}
	}
}
