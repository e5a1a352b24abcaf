package posts

import (
	"fmt"
	"strings"
	"testing"
)

func TestJoinNames(t *testing.T) {
	for n, want := range []string{"", "A", "A and B", "A, B and C", "A, B, C and D"} {
		var ps []Person
		for i := 0; i < n; i++ {
			ps = append(ps, Person{Name: string(rune('A' + i))})
		}
		if got := joinNames(ps); got != want {
			t.Errorf("%d names: %q, want %q", n, got, want)
		}
	}
}

func TestAuthors(t *testing.T) {
	cfg := testConfig + "author: The Team\nauthors:\n  andre:\n    name: André Souza\n    url: https://andre.example/\n  bea: Bea Lee\n  cy:\n    name: Cy\n    url: /about/cy/\n"
	for _, tc := range []struct {
		name, fm, want string
	}{
		{"no author: the site's", "", "The Team"},
		{"empty author: the site's", "author: \"\"", "The Team"},
		{"author as written", "author: Ada Lovelace", "Ada Lovelace"},
		{"authors list (Hugo, Zola)", "authors: [Ada, Grace]", "Ada|Grace"},
		{"by", "by: Grace Hopper", "Grace Hopper"},
		{"by list", "by: [Ada, Grace, Edsger]", "Ada|Grace|Edsger"},
		{"ids (18F)", "authors: [andre, bea, zed]", "André Souza <https://andre.example/>|Bea Lee|zed"},
		{"author id", "author: cy", "Cy </about/cy/>"},
		{"all three, repeats once", "author: Ada\nauthors: [Ada, bea]\nby: Grace", "Ada|Bea Lee|Grace"},
		{"Jekyll's author mapping", "author:\n  name: Ada\n  url: https://ada.example/\n  twitter: ada", "Ada <https://ada.example/>"},
		{"a list of mappings", "authors:\n  - {name: Ada, url: https://ada.example/}\n  - name: Grace", "Ada <https://ada.example/>|Grace"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := load(t, mapFS(map[string]string{ConfigFile: cfg, "posts/a.md": "---\ntitle: A\ndate: 2026-01-01\n" + tc.fm + "\n---\n"}), Options{})
			if len(s.Posts) != 1 || len(s.Diagnostics) != 0 {
				t.Fatalf("diagnostics:\n%s", formatDiags(s.Diagnostics))
			}
			p := s.Posts[0]
			var got []string
			for _, a := range p.Authors {
				s := a.Name
				if a.URL != "" {
					s += " <" + a.URL + ">"
				}
				got = append(got, s)
			}
			if strings.Join(got, "|") != tc.want {
				t.Errorf("authors %q, want %q", strings.Join(got, "|"), tc.want)
			}
			if p.Author != joinNames(p.Authors) {
				t.Errorf("Author %q", p.Author)
			}
		})
	}
}

func TestAuthorProblems(t *testing.T) {
	s := load(t, mapFS(map[string]string{
		"posts/a.md": "---\ntitle: A\ndate: 2026-01-01\nauthor:\n  name: Ada\n  url: javascript:alert(1)\n---\n",
		"posts/b.md": "---\ntitle: B\ndate: 2026-01-01\nauthors:\n  - url: https://x.example/\n---\n",
		"posts/c.md": "---\ntitle: C\ndate: 2026-01-01\nauthors: [" + strings.Repeat("x, ", 50) + "y]\n---\n",
		"posts/d.md": "---\ntitle: D\ndate: 2026-01-01\nby: [[nested]]\n---\n",
	}), Options{})
	want := []string{
		"posts/a.md:6:8 unsafe-url", "posts/b.md:5:5 invalid-field", "posts/c.md:4:10 limit-exceeded", "posts/d.md:4:6 invalid-field",
	}
	if got := diagKeys(s.Diagnostics); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("diagnostics:\n%s", formatDiags(s.Diagnostics))
	}
	if p := postBySlug(s, "a"); p == nil || p.Author != "Ada" || p.Authors[0].URL != "" {
		t.Errorf("a: %+v", p)
	}
}

func TestAuthorsConfig(t *testing.T) {
	cfg, ds := loadConfigText(t, "title: T\nauthors:\n  andre: {name: André, url: \"https://a.example/\"}\n  bea: Bea\n  cy: {name: Cy, github: cy}\n")
	if len(cfg.Authors) != 3 || cfg.Authors["andre"] != (Person{"André", "https://a.example/"}) || cfg.Authors["bea"].Name != "Bea" ||
		len(ds) != 1 || ds[0].Code != CodeUnknownField || ds[0].Line != 5 || !cfg.Has("authors") {
		t.Errorf("authors %+v, %v", cfg.Authors, ds)
	}
	for _, tc := range []struct {
		yaml string
		line int
		says string
	}{
		{"authors: [a, b]", 2, "must map author ids"},
		{"authors:\n  a: {url: \"https://a.example/\"}", 3, "has no name"},
		{"authors:\n  a: {name: A, url: \"ftp://a.example/\"}", 3, "not an http(s) URL"},
		{"authors:\n  a: [x]", 3, "must be a name or a mapping"},
		{"authors:\n  a: {name: [x]}", 3, "name of \"a\" must be text"},
		{fmt.Sprintf("authors: {%s}", strings.Repeat("a: b, ", 1)+"b: c"), 0, ""},
	} {
		cfg, ds := loadConfigText(t, "title: T\n"+tc.yaml+"\n")
		if tc.says == "" {
			if len(ds) != 0 {
				t.Errorf("%q: %v", tc.yaml, ds)
			}
			continue
		}
		if len(ds) != 1 || ds[0].Code != CodeConfigInvalid || ds[0].Line != tc.line || !strings.HasPrefix(ds[0].Message, "authors: ") ||
			!strings.Contains(ds[0].Message, tc.says) || cfg.Has("authors") {
			t.Errorf("%q: %v", tc.yaml, ds)
		}
	}
}
