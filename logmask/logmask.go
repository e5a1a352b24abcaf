// Package logmask owns keeping secrets out of what publishbot writes: the
// one Masker, which replaces with "***" the secrets it was given (the
// webhook secret, tokens) and anything shaped like a GitHub token (ghp_,
// gho_, ghu_, ghs_, ghr_, github_pat_), like credentials in a URL
// (https://x-access-token:...@host), like an Authorization value or like a
// PEM private key; and a logrus formatter that runs every log line through
// it. The GitHub adaptor masks the error texts it puts in comments and
// statuses with the same Masker.
package logmask

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sirupsen/logrus"
)

// Mask replaces what is hidden.
const Mask = "***"

var (
	// GitHub token formats: https://github.blog/2021-04-05-behind-githubs-new-authentication-token-formats/
	tokenRE = regexp.MustCompile(`\b(?:gh[pousr]_[A-Za-z0-9_]{16,}|github_pat_[A-Za-z0-9_]{16,})`)
	// user:password@ in a URL (scheme://user:pass@host); the user name is kept.
	urlCredRE = regexp.MustCompile(`(?i)([a-z][a-z0-9+.-]*://[^/\s:@"]*:)[^/\s@"]+@`)
	// "Authorization: Bearer x" / "token x" / "Basic x" written into a message.
	authRE = regexp.MustCompile(`(?i)(authorization:\s*(?:bearer|token|basic)\s+|\bbearer\s+)[A-Za-z0-9._~+/=-]{12,}`)
	// A PEM private key (an App's key), to its END line or, cut short, to the
	// end of the text.
	pemKeyRE = regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)`)
)

// Masker hides secrets in text. It is safe for concurrent use; the zero
// value masks only token- and credential-shaped strings.
type Masker struct {
	secrets [][]byte // every form a secret may take in output, longest first
}

// MinSecretLen is the length (in characters, white space around it not
// counted) below which a secret is not masked: masking a one-character or
// all-blank secret would blank out that character in every log line and
// hide nothing worth hiding.
const MinSecretLen = 4

// NewMasker returns a Masker for the given secrets. Secrets shorter than
// MinSecretLen are ignored. Each secret is also hidden in its JSON-escaped
// and URL-escaped forms, since that is how it appears in a JSON log line or
// a URL, and in base64, as an HTTP Basic Authorization header carries it
// (give "user:password" as a secret to hide that header's value too).
func NewMasker(secrets ...string) *Masker {
	seen := map[string]bool{}
	var forms []string
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			forms = append(forms, s)
		}
	}
	for _, s := range secrets {
		if utf8.RuneCountInString(strings.TrimSpace(s)) < MinSecretLen {
			continue
		}
		add(s)
		if b, err := json.Marshal(s); err == nil {
			add(string(b[1 : len(b)-1]))
		}
		// logrus's JSON formatter escapes like encoding/json with HTML escaping off.
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if enc.Encode(s) == nil {
			b := bytes.TrimSpace(buf.Bytes())
			add(string(b[1 : len(b)-1]))
		}
		if q := strconv.Quote(s); len(q) > 2 {
			add(q[1 : len(q)-1]) // logrus's text formatter quotes with %q
		}
		add(url.QueryEscape(s))
		add(url.PathEscape(s))
		add(url.UserPassword("x", s).String()[2:])
		add(base64.StdEncoding.EncodeToString([]byte(s)))
	}
	sort.Slice(forms, func(i, j int) bool { return len(forms[i]) > len(forms[j]) })
	m := &Masker{}
	for _, f := range forms {
		m.secrets = append(m.secrets, []byte(f))
	}
	return m
}

// MaskBytes returns b with every secret, token, URL credential,
// Authorization value and PEM private key replaced by Mask. b is not
// modified.
func (m *Masker) MaskBytes(b []byte) []byte {
	if m != nil {
		for _, s := range m.secrets {
			if bytes.Contains(b, s) {
				b = bytes.ReplaceAll(b, s, []byte(Mask))
			}
		}
	}
	b = pemKeyRE.ReplaceAll(b, []byte(Mask))
	b = urlCredRE.ReplaceAll(b, []byte("${1}"+Mask+"@"))
	b = tokenRE.ReplaceAll(b, []byte(Mask))
	b = authRE.ReplaceAll(b, []byte("${1}"+Mask))
	return b
}

// String is MaskBytes for a string.
func (m *Masker) String(s string) string { return string(m.MaskBytes([]byte(s))) }

// Formatter is a logrus.Formatter that formats with Inner and masks the
// result. Masking the formatted line covers messages, fields and errors alike.
type Formatter struct {
	Inner  logrus.Formatter
	Masker *Masker
}

// NewFormatter wraps inner so that secrets never reach the log output.
func NewFormatter(inner logrus.Formatter, secrets ...string) *Formatter {
	return &Formatter{Inner: inner, Masker: NewMasker(secrets...)}
}

// Format implements logrus.Formatter.
func (f *Formatter) Format(e *logrus.Entry) ([]byte, error) {
	b, err := f.Inner.Format(e)
	if err != nil {
		return nil, err
	}
	return f.Masker.MaskBytes(b), nil
}
