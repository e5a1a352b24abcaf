package ghapi

import "regexp"

// secretPatterns match things that must never reach a comment or a status:
// GitHub tokens of every kind, credentials in URLs and Authorization values.
var secretPatterns = []*regexp.Regexp{
	regexp.MustCompile(`(?:gh[pousr]_[A-Za-z0-9_]{16,}|github_pat_[A-Za-z0-9_]{16,})`),
	regexp.MustCompile(`(?i)\b(?:bearer|token|basic)\s+[A-Za-z0-9._~+/=-]{16,}`),
	regexp.MustCompile(`(?i)(https?://)[^/\s:@]*(?::[^/\s@]*)?@`),
	regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)`),
}

// Redact replaces anything in s that looks like a credential with
// "[redacted]": GitHub tokens, Authorization values, user:password@ in URLs
// and PEM private keys. Reporters run every error text through it before it
// leaves the process.
func Redact(s string) string {
	for i, re := range secretPatterns {
		if i == 2 {
			s = re.ReplaceAllString(s, "${1}[redacted]@")
			continue
		}
		s = re.ReplaceAllString(s, "[redacted]")
	}
	return s
}
