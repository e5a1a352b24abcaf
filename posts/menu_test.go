package posts

import (
	"strings"
	"testing"
)

// menuText writes a menu as "Title=URL" entries.
func menuText(m []MenuEntry) string {
	var out []string
	for _, e := range m {
		out = append(out, e.Title+"="+e.URL)
	}
	return strings.Join(out, " ")
}

// Without a menu in publish.yaml: Archive, Tags, then the pages that say
// menu: true, those with a weight first (lightest first), then by title.
func TestMenuDefault(t *testing.T) {
	s := load(t, mapFS(map[string]string{
		"pages/about.md":   "---\ntitle: About\nmenu: true\n---\n",
		"pages/contact.md": "---\ntitle: Contact\nmenu: true\nweight: 2\n---\n",
		"pages/uses.md":    "---\ntitle: Uses\nmenu: true\nweight: -1\n---\n",
		"pages/hugo.md":    "---\ntitle: Hugo style\nmenu:\n  main:\n    weight: 5\n---\n",
		"pages/named.md":   "---\ntitle: Named\nmenu: main\n---\n",
		"pages/off.md":     "---\ntitle: Off\nmenu: false\n---\n",
		"pages/plain.md":   "---\ntitle: Plain\n---\n",
		"pages/draft.md":   "---\ntitle: Draft\nmenu: true\ndraft: true\n---\n",
		"pages/broken.md":  "---\nmenu: true\n---\n",
	}), Options{})
	want := "Archive=/archive/ Tags=/tags/ Uses=/uses/ Contact=/contact/ Hugo style=/hugo/ About=/about/ Draft=/draft/ Named=/named/"
	if got := menuText(s.Menu); got != want {
		t.Errorf("menu:\n got %s\nwant %s", got, want)
	}
	for _, e := range s.Menu {
		if e.Title == "Draft" && (e.Page == nil || !e.Page.Draft) {
			t.Errorf("the draft's entry does not say it leads to a draft: %+v", e)
		}
	}
}

func TestMenuConfig(t *testing.T) {
	cfg := testConfig + `menu:
  - title: Home
    url: /
  - url: pages/about.md
  - title: Team
    url: ./pages/team.md#people
  - title: Tags
    url: /blog/tags/
  - title: Writing
    url: /tags/go/
  - title: A post
    url: posts/hello.md
  - title: Hello again
    url: /posts/hello/
  - title: CV
    url: /cv.pdf
  - title: Without slash
    url: /about
  - title: GitHub
    url: https://github.com/acme
  - title: Mail
    url: mailto:team@acme.example
  - title: Typo
    url: pages/abuot.md
  - title: Nowhere
    url: /nowhere/
  - title: Broken page
    url: pages/broken.md
  - title: Feed
    url: /feed.xml
`
	s := load(t, mapFS(map[string]string{
		ConfigFile:        cfg,
		"pages/about.md":  "---\ntitle: About us\nmenu: true\n---\n",
		"pages/team.md":   "---\ntitle: Team\n---\n",
		"pages/extra.md":  "---\ntitle: Extra\nmenu: true\n---\n",
		"pages/broken.md": "---\nsummary: no title\n---\n",
		"posts/hello.md":  "---\ntitle: Hello\ndate: 2026-01-01\ntags: [Go]\n---\n",
		"static/cv.pdf":   "%PDF",
	}), Options{})
	want := "Home=/ About us=/about/ Team=/team/#people Tags=/tags/ Writing=/tags/go/ A post=/posts/hello/ Hello again=/posts/hello/ " +
		"CV=/cv.pdf Without slash=/about GitHub=https://github.com/acme Mail=mailto:team@acme.example Feed=/feed.xml Extra=/extra/"
	if got := menuText(s.Menu); got != want {
		t.Errorf("menu:\n got %s\nwant %s", got, want)
	}
	var menuDiags []string
	for _, d := range s.Diagnostics {
		if d.File == ConfigFile {
			menuDiags = append(menuDiags, d.String())
		}
	}
	wantDiags := []string{
		`publish.yaml:26:10: error: menu: url "pages/abuot.md" names pages/abuot.md, which is not a page or post of this repository [menu-url]`,
		`publish.yaml:28:10: error: menu: url "/nowhere/" leads nowhere: no page, post or file of this site is published at /nowhere/ [menu-url]`,
		`publish.yaml:30:10: error: menu: url "pages/broken.md" names pages/broken.md, which is left out of the site (see its own diagnostics) [menu-url]`,
	}
	if strings.Join(menuDiags, "\n") != strings.Join(wantDiags, "\n") {
		t.Errorf("diagnostics:\n%s\nwant\n%s", strings.Join(menuDiags, "\n"), strings.Join(wantDiags, "\n"))
	}
	if s.Menu[1].Page == nil || s.Menu[1].Page.Path != "pages/about.md" || s.Menu[5].Post == nil || s.Menu[6].Post == nil || s.Menu[8].Page == nil {
		t.Errorf("entries do not say what they lead to: %+v", s.Menu)
	}

	empty := load(t, mapFS(map[string]string{ConfigFile: testConfig + "menu: []\n", "pages/a.md": "---\ntitle: A\nmenu: true\n---\n"}), Options{})
	if got := menuText(empty.Menu); got != "A=/a/" {
		t.Errorf("menu: [] gives %s", got)
	}
}

func TestMenuConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		yaml string
		line int
		says string
	}{
		{"menu: about", 2, "must be a list"},
		{"menu:\n  - about", 3, "must be a mapping"},
		{"menu:\n  - title: About", 3, "has no url"},
		{"menu:\n  - title: X\n    url: javascript:alert(1)", 4, "neither a path"},
		{"menu:\n  - url: /archive/", 3, "has no title"},
		{"menu:\n  - title: [a]\n    url: /x/", 3, "title must be text"},
		{"menu:\n  - title: X\n    url: //evil.example/", 4, "not a URL with a scheme"},
		{"menu:\n  - title: X\n    url: \"/a\\\\b\"", 4, "control characters"},
		{"menu:\n" + strings.Repeat("  - {title: X, url: /x/}\n", 101), 3, "the limit is 100"},
	} {
		cfg, ds := loadConfigText(t, "title: T\n"+tc.yaml+"\n")
		var errs []Diagnostic
		for _, d := range ds {
			if d.Severity == SeverityError {
				errs = append(errs, d)
			}
		}
		if len(errs) != 1 || errs[0].Code != CodeConfigInvalid || errs[0].Line != tc.line || !strings.HasPrefix(errs[0].Message, "menu: ") ||
			!strings.Contains(errs[0].Message, tc.says) || cfg.Has("menu") {
			t.Errorf("%q: %v", tc.yaml, ds)
		}
	}
	cfg, ds := loadConfigText(t, "title: T\nmenu:\n  - name: About\n    url: pages/about.md\n    weight: 3\n")
	if len(cfg.Menu) != 1 || cfg.Menu[0].Title != "About" || cfg.Menu[0].Line != 4 || cfg.Menu[0].Column != 10 ||
		len(ds) != 1 || ds[0].Code != CodeUnknownField || ds[0].Line != 5 || !cfg.Has("menu") {
		t.Errorf("menu %+v, %v", cfg.Menu, ds)
	}
}
