package posts

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestPermalinkExpand(t *testing.T) {
	la, _ := time.LoadLocation("America/Los_Angeles")
	d := time.Date(2024, 5, 7, 9, 3, 4, 0, la)
	f := AddressFields{Date: d, Slug: "hello-world", Title: "Hello-World", Categories: []string{"Release", "News"},
		Sections: []string{"inside-rust", "2024"}, Filename: "2024-05-07-hello-world"}
	tests := []struct{ pattern, want string }{
		{"/posts/:slug/", "/posts/hello-world/"},
		{"/news/:year/:month/:day/:title/", "/news/2024/05/07/Hello-World/"},
		{"/:year/:i_month/:i_day/:slug.html", "/2024/5/7/hello-world.html"},
		{"/:short_year/:y_day/:slug/", "/24/128/hello-world/"},
		{"/:categories/:slug/", "/release/news/hello-world/"},
		{"/:slug:output_ext", "/hello-world.html"},
		{"/:section/:slug/", "/inside-rust/hello-world/"},
		{"/:sections/:slug/", "/inside-rust/2024/hello-world/"},
		{"/:path/", "/inside-rust/2024/hello-world/"},
		{"/archive/:filename/", "/archive/2024-05-07-hello-world/"},
		{"/:year/:slug", "/2024/hello-world"},
		{"/:year/W:week/:short_day/:slug/", "/2024/W19/Tue/hello-world/"},
		{"/:hour:minute:second/:slug/", "/090304/hello-world/"},
		{"date", "/release/news/2024/05/07/Hello-World.html"},
		{"pretty", "/release/news/2024/05/07/Hello-World/"},
		{"ordinal", "/release/news/2024/128/Hello-World.html"},
		{"none", "/release/news/Hello-World.html"},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			p, err := ParsePermalink(tt.pattern)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Expand(f); got != tt.want {
				t.Errorf("Expand = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPermalinkEmptyTokensCollapse(t *testing.T) {
	p, err := ParsePermalink("/:categories/:section/:slug/")
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Expand(AddressFields{Slug: "x"}); got != "/x/" {
		t.Fatalf("Expand = %q, want /x/", got)
	}
	// A title falls back to the slug when the file name had none.
	p, _ = ParsePermalink("/:title/")
	if got := p.Expand(AddressFields{Slug: "s"}); got != "/s/" {
		t.Fatalf("Expand = %q, want /s/", got)
	}
}

func TestPermalinkEscapesValues(t *testing.T) {
	p, _ := ParsePermalink("/:categories/:slug/")
	got := p.Expand(AddressFields{Slug: "a b?c#d", Categories: []string{"x/y", ".."}})
	if strings.ContainsAny(got, " ?#") || strings.Contains(got, "/../") || strings.Contains(got, "x/y") {
		t.Fatalf("Expand = %q: a value escaped its segment", got)
	}
	if CheckAddress(got) != "" {
		t.Fatalf("CheckAddress(%q) = %q", got, CheckAddress(got))
	}
}

func TestParsePermalinkErrors(t *testing.T) {
	tests := []struct {
		pattern, msg string
		offset       int
	}{
		{"", "empty", 0},
		{"posts/:slug/", "must start with /", 0},
		{"/posts/:slugg/", "unknown token :slugg", 7},
		{"/posts/:Slug/", "a ':' must start a token", 7},
		{"/posts/hello/", "no token", 0},
		{"/../:slug/", `".."`, 0},
		{"/pr-preview/:slug/", "pr-preview", 1},
		{"/.git/:slug/", ".git", 0},
		{"/a?b/:slug", "may not contain ?", 2},
		{"/" + strings.Repeat("a", 1100) + "/:slug/", "longer than", 0},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			_, err := ParsePermalink(tt.pattern)
			var pe *PermalinkError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *PermalinkError", err)
			}
			if !strings.Contains(pe.Msg, tt.msg) {
				t.Errorf("msg = %q, want it to contain %q", pe.Msg, tt.msg)
			}
			if tt.offset != 0 && pe.Offset != tt.offset {
				t.Errorf("offset = %d, want %d", pe.Offset, tt.offset)
			}
		})
	}
}

func TestOutputFile(t *testing.T) {
	tests := map[string]string{
		"/":                "index.html",
		"/posts/x/":        "posts/x/index.html",
		"/2024/x.html":     "2024/x.html",
		"/2024/x":          "2024/x.html",
		"/releases/1.88.0": "releases/1.88.0.html",
		"/a%20b/":          "a b/index.html",
	}
	for in, want := range tests {
		if got := OutputFile(in); got != want {
			t.Errorf("OutputFile(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCheckAddress(t *testing.T) {
	bad := []string{"x/", "/a/../b/", "/%2e%2e/x/", "/.git/hooks/", "/pr-preview/pr-1/", "/CNAME", "/a\\b/"}
	for _, a := range bad {
		if CheckAddress(a) == "" {
			t.Errorf("CheckAddress(%q) accepted it", a)
		}
	}
	for _, a := range []string{"/", "/posts/x/", "/2024/05/07/x.html", "/releases/1.88.0"} {
		if msg := CheckAddress(a); msg != "" {
			t.Errorf("CheckAddress(%q) = %q", a, msg)
		}
	}
}

func FuzzParsePermalink(f *testing.F) {
	for _, s := range []string{"/posts/:slug/", "date", "pretty", "/:year/:month/:day/:title:output_ext", "/:categories/:path",
		"/:sections/:filename.html", "/a:b", ":", "/::", "/%2e%2e/:slug/", "/\x00/:slug"} {
		f.Add(s, "slug", "cat")
	}
	f.Fuzz(func(t *testing.T, pattern, slug, cat string) {
		p, err := ParsePermalink(pattern)
		if err != nil {
			var pe *PermalinkError
			if !errors.As(err, &pe) || pe.Offset < 0 || pe.Offset > len(pattern)+1 {
				t.Fatalf("bad error %v", err)
			}
			return
		}
		addr := p.Expand(AddressFields{Date: time.Unix(0, 0).UTC(), Slug: slug, Title: slug, Filename: slug,
			Categories: []string{cat}, Sections: []string{cat}})
		if !strings.HasPrefix(addr, "/") {
			t.Fatalf("address %q does not start with /", addr)
		}
		// Values never escape their segment or the site.
		if slug != "" && slug != "." && slug != ".." && cat != "." && cat != ".." {
			if msg := CheckAddress(addr); msg != "" && !strings.Contains(msg, "longer") {
				t.Fatalf("pattern %q slug %q cat %q gave %q: %s", pattern, slug, cat, addr, msg)
			}
		}
		out := OutputFile(addr)
		if strings.HasPrefix(out, "/") {
			t.Fatalf("OutputFile(%q) = %q is absolute", addr, out)
		}
	})
}
