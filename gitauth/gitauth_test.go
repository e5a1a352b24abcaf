package gitauth

import (
	"net/url"
	"strings"
	"testing"
)

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestParseBase(t *testing.T) {
	for raw, want := range map[string]string{
		"https://github.com/":       "https://github.com/",
		"https://github.com":        "https://github.com/",
		"  HTTPS://GitHub.COM/  ":   "https://github.com/",
		"https://ghe.example/git":   "https://ghe.example/git/",
		"https://ghe.example:8443/": "https://ghe.example:8443/",
		"http://127.0.0.1:3000":     "http://127.0.0.1:3000/",
		"http://[::1]:3000/":        "http://[::1]:3000/",
		"http://localhost:3000/":    "http://localhost:3000/",
	} {
		u, err := ParseBase(raw)
		if err != nil || u.String() != want {
			t.Errorf("ParseBase(%q) = %v, %v; want %s", raw, u, err, want)
		}
	}
	for _, raw := range []string{
		"", "github.com", "ftp://github.com/", "file:///srv/git/", "ssh://git@github.com/",
		"http://github.com/",          // plain http to a remote host
		"http://127.0.0.1.evil.test/", // not loopback
		"https://x-access-token:t@github.com/",
		"https://user@github.com/",
		"https://github.com/?a=b", "https://github.com/#x", "https://github.com/?",
		"https:///path", "https://github.com/a/../b/", "https://github.com//a/", "https://github.com/a%2Fb/",
		"https://github.com/%zz",
	} {
		if u, err := ParseBase(raw); err == nil {
			t.Errorf("ParseBase(%q) = %v, want an error", raw, u)
		}
	}
}

func TestBaseForAPI(t *testing.T) {
	for api, want := range map[string]string{
		"https://api.github.com/":           "https://github.com/",
		"https://api.github.com":            "https://github.com/",
		"https://API.GitHub.com/":           "https://github.com/",
		"https://ghe.example/api/v3":        "https://ghe.example/",
		"https://ghe.example/api/v3/":       "https://ghe.example/",
		"https://ghe.example:8443/api/v3/":  "https://ghe.example:8443/",
		"https://ghe.example/github/api/v3": "https://ghe.example/github/",
		"https://api.acme.ghe.com/":         "https://acme.ghe.com/",
		"http://127.0.0.1:4000/":            "http://127.0.0.1:4000/",
		"http://127.0.0.1:4000/stand-in/":   "http://127.0.0.1:4000/",
	} {
		u, err := BaseForAPI(api)
		if err != nil || u.String() != want {
			t.Errorf("BaseForAPI(%q) = %v, %v; want %s", api, u, err, want)
		}
	}
	for _, api := range []string{"http://ghe.example/api/v3", "ftp://x/", "https://u:p@ghe.example/api/v3", "::"} {
		if u, err := BaseForAPI(api); err == nil {
			t.Errorf("BaseForAPI(%q) = %v, want an error", api, u)
		}
	}
}

func TestValidFullName(t *testing.T) {
	for _, name := range []string{
		"acme/blog", "Codertocat/Hello-World", "octo-org/.github", "a/b", "user_corp/site.io",
		"acme/a..b", "acme/-x", "acme/_", "0/0", strings.Repeat("a", 39) + "/" + strings.Repeat("b", 100),
	} {
		if err := ValidFullName(name); err != nil {
			t.Errorf("ValidFullName(%q) = %v", name, err)
		}
	}
	for _, name := range []string{
		"", "acme", "/", "acme/", "/blog", "acme/blog/x", "acme//blog", "../blog", "acme/..", "acme/.", "acme/...",
		"-acme/blog", "ac.me/blog", "acme/bl og", "acme/blog?x", "acme/blog#x", "acme/blog%2f", "acme/blog\x00",
		"acme/blög", "acme\\blog", "acme/b\\x", "évil/blog", "a:b/c", "acme/blog@evil.test", "evil.test:443/x",
		"acme/" + strings.Repeat("b", 101), strings.Repeat("a", 101) + "/b",
	} {
		if err := ValidFullName(name); err == nil {
			t.Errorf("ValidFullName(%q) = nil, want an error", name)
		}
	}
}

func TestCloneAndHTMLURL(t *testing.T) {
	for base, want := range map[string]string{
		"https://github.com/":      "https://github.com/acme/blog",
		"https://ghe.example/git/": "https://ghe.example/git/acme/blog",
		"http://127.0.0.1:9/":      "http://127.0.0.1:9/acme/blog",
	} {
		b, err := ParseBase(base)
		if err != nil {
			t.Fatal(err)
		}
		web, err := HTMLURL(b, "acme/blog")
		if err != nil || web != want {
			t.Errorf("HTMLURL(%s) = %q, %v; want %q", base, web, err, want)
		}
		clone, err := CloneURL(b, "acme/blog")
		if err != nil || clone != want+".git" {
			t.Errorf("CloneURL(%s) = %q, %v; want %q", base, clone, err, want+".git")
		}
		if !CredentialsAllowed(mustURL(t, clone), b) {
			t.Errorf("credentials refused for the derived %s", clone)
		}
	}
	b, _ := ParseBase(DefaultBase)
	for _, name := range []string{"../x", "a/b/c", "evil.test/x"} {
		if u, err := CloneURL(b, name); err == nil {
			t.Errorf("CloneURL(%q) = %q, want an error", name, u)
		}
	}
	if _, err := CloneURL(nil, "a/b"); err == nil {
		t.Error("CloneURL without a base succeeded")
	}
}

func TestCredentialsAllowed(t *testing.T) {
	gh := "https://github.com/"
	local := "http://127.0.0.1:8080/"
	for _, c := range []struct {
		target, base string
		want         bool
	}{
		{"https://github.com/acme/blog.git/info/refs?service=git-upload-pack", gh, true},
		{"https://github.com:443/acme/blog.git", gh, true},
		{"https://GITHUB.com/acme/blog.git", gh, true},
		{"HTTPS://github.com/acme/blog.git", gh, true},
		{"https://github.com/other/repo.git", gh, true}, // the host is the unit of trust
		{"https://github.com:8443/acme/blog.git", gh, false},
		{"http://github.com/acme/blog.git", gh, false},
		{"https://evil.test/acme/blog.git", gh, false},
		{"https://github.com.evil.test/acme/blog.git", gh, false},
		{"https://evil.test/github.com/acme/blog.git", gh, false},
		{"https://github.com@evil.test/acme/blog.git", gh, false},
		{"https://u:p@github.com/acme/blog.git", gh, false},
		{"https://api.github.com/repos/acme/blog", gh, false},
		{"ssh://github.com/acme/blog.git", gh, false},
		{"file:///srv/git/blog.git", gh, false},
		{"/acme/blog.git", gh, false},
		{"http://127.0.0.1:8080/acme/blog.git", local, true},
		{"http://127.0.0.1:8081/acme/blog.git", local, false},
		{"http://127.0.0.2:8080/acme/blog.git", local, false},
		{"http://localhost:8080/acme/blog.git", local, false}, // another spelling is another host
		{"https://127.0.0.1:8080/acme/blog.git", local, false},
		{"http://[::1]:8080/x.git", "http://[::1]:8080/", true},
		{"http://localhost/x.git", "http://localhost:80/", true},
		// A base that ParseBase would refuse still never allows plain http
		// to a remote host.
		{"http://ghe.example/x.git", "http://ghe.example/", false},
	} {
		if got := CredentialsAllowed(mustURL(t, c.target), mustURL(t, c.base)); got != c.want {
			t.Errorf("CredentialsAllowed(%s, base %s) = %v, want %v", c.target, c.base, got, c.want)
		}
	}
	if CredentialsAllowed(nil, mustURL(t, gh)) || CredentialsAllowed(mustURL(t, gh), nil) {
		t.Error("a nil URL was allowed")
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST": true, "127.0.0.1": true, "127.9.9.9": true, "::1": true,
		"": false, "localhost.evil.test": false, "10.0.0.1": false, "github.com": false, "[::1]": false, "0.0.0.0": false,
	} {
		if got := IsLoopback(host); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestAPIForBase(t *testing.T) {
	for _, tc := range []struct{ web, api string }{
		{"https://github.com", "https://api.github.com/"},
		{"https://github.com/", "https://api.github.com/"},
		{"https://acme.ghe.com", "https://api.acme.ghe.com/"},
		{"https://ghe.example.com", "https://ghe.example.com/api/v3/"},
		{"https://example.com/github/", "https://example.com/github/api/v3/"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080/api/v3/"},
	} {
		got, err := APIForBase(tc.web)
		if err != nil {
			t.Fatalf("APIForBase(%q): %v", tc.web, err)
		}
		if got.String() != tc.api {
			t.Errorf("APIForBase(%q) = %s, want %s", tc.web, got, tc.api)
		}
		back, err := BaseForAPI(got.String())
		if err != nil {
			t.Fatalf("BaseForAPI(%q): %v", got, err)
		}
		want, _ := ParseBase(tc.web)
		if back.String() != want.String() {
			t.Errorf("BaseForAPI(APIForBase(%q)) = %s, want %s", tc.web, back, want)
		}
	}
	for _, bad := range []string{"http://github.example", "ftp://github.com", "https://user:pw@github.com", "https://github.com/?x=1"} {
		if _, err := APIForBase(bad); err == nil {
			t.Errorf("APIForBase(%q) accepted", bad)
		}
	}
}
