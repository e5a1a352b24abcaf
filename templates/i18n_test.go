package templates

import (
	"bytes"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/publishbot/publishbot/posts"
)

// i18nSite is a site of 12 posts, two tags, a draft-free archive and pages
// enough for a pager, in the language publish.yaml gives.
func i18nSite(publishYAML string) map[string]string {
	files := map[string]string{"publish.yaml": "title: Blog\nbase_url: https://example.com/\nper_page: 5\n" + publishYAML}
	for i := range 12 {
		d := 10 + i
		featured := ""
		if i == 11 {
			featured = "featured: true\n"
		}
		files["posts/2026-05-"+itoa2(d)+"-p"+itoa2(i)+".md"] = "---\ntitle: Post " + itoa2(i) + "\ntags: [go, notes]\n" + featured + "---\n\nSome words here.\n\n## A heading\n\nMore words.\n"
	}
	return files
}

func itoa2(n int) string { return string([]byte{byte('0' + n/10), byte('0' + n%10)}) }

func TestLanguageGivesTheThemesWords(t *testing.T) {
	_, out := loadRender(t, i18nSite("language: de\n"), Options{})
	index, post := string(out["index.html"]), string(out["posts/p11/index.html"])
	for _, want := range []string{`<html lang="de">`, "<h1>Beiträge</h1>", "Seite 1 von 3", "Älter →", "Empfohlen", "Beitrag lesen →", "Beliebt", "21. Mai 2026", "Zum Inhalt springen"} {
		if !strings.Contains(index, want) {
			t.Errorf("German index: no %q", want)
		}
	}
	for _, want := range []string{"1 Min. Lesezeit", "21. Mai 2026", `aria-label="Schlagwörter"`} {
		if !strings.Contains(post, want) {
			t.Errorf("German post: no %q", want)
		}
	}
	for _, english := range []string{"Writing", "Popular Reads", "min read", "Newer", "Older", "Page 1 of", "Read the post", "May "} {
		if strings.Contains(index+post, english) {
			t.Errorf("German pages still say %q", english)
		}
	}
	tag := string(out["tags/go/index.html"])
	if !strings.Contains(tag, "Beiträge mit dem Schlagwort „go“") || !strings.Contains(tag, "12 Beiträge") {
		t.Errorf("German tag page: %s", tag)
	}
	if !strings.Contains(string(out["404.html"]), "Seite nicht gefunden") {
		t.Error("German 404 page is not German")
	}
}

func TestEveryLanguageRendersValidPages(t *testing.T) {
	for _, lang := range []string{"en", "de", "fr", "es", "pt-BR", "it", "nl", "pl", "ja", "zh-Hans", "ar"} {
		_, out := loadRender(t, i18nSite("language: "+lang+"\n"), Options{})
		for _, p := range []string{"index.html", "posts/p03/index.html", "tags/go/index.html", "archive/index.html", "404.html"} {
			if bytes.Contains(out[p], []byte("%!")) {
				t.Errorf("%s %s: a placeholder went wrong: %s", lang, p, out[p])
			}
		}
		if lang == "ar" && !bytes.Contains(out["index.html"], []byte(`<html lang="ar" dir="rtl">`)) {
			t.Errorf("ar: no dir=rtl")
		}
		if lang != "ar" && bytes.Contains(out["index.html"], []byte(`dir="rtl"`)) {
			t.Errorf("%s: dir=rtl", lang)
		}
	}
}

func TestStringsOverrideTheTable(t *testing.T) {
	_, out := loadRender(t, i18nSite("language: de\nstrings:\n  read_post: Weiterlesen →\n  heading: Notizen\n  date_format: 02.01.2006\n"), Options{})
	index := string(out["index.html"])
	for _, want := range []string{"Weiterlesen →", "<h1>Notizen</h1>", "21.05.2026", "Älter →"} {
		if !strings.Contains(index, want) {
			t.Errorf("override: no %q", want)
		}
	}
	// heading: in publish.yaml wins over the language's word.
	_, out = loadRender(t, i18nSite("language: fr\nheading: Carnet\n"), Options{})
	if !strings.Contains(string(out["index.html"]), "<h1>Carnet</h1>") {
		t.Error("heading: lost under language: fr")
	}
}

func TestStringsConfigErrors(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"strings:\n  read_pst: x\n", "did you mean read_post"},
		{"strings:\n  min_read: Minuten\n", "placeholders"},
		{"strings: [a]\n", "must be a mapping"},
		{"analytics: {provider: google, site: x}\n", "not one of plausible, goatcounter, umami"},
		{"analytics: {provider: umami}\n", "needs provider and site"},
		{"analytics: {provider: umami, site: abc, script: 'http://x/s.js'}\n", "not an https:// address"},
		{"analytics: {provider: plausible, site: 'a\" onload=\"x'}\n", "not a site name"},
	} {
		site, _ := loadFiles(t, map[string]string{"publish.yaml": c.yaml})
		found := false
		for _, d := range site.Diagnostics {
			if d.Severity == posts.SeverityError && strings.Contains(d.Message, c.want) && d.Line > 0 {
				found = true
			}
		}
		if !found {
			t.Errorf("%q: no error at a line containing %q in %v", c.yaml, c.want, site.Diagnostics)
		}
	}
}

func TestAnalyticsTag(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"{provider: plausible, site: example.com}", `<script defer data-domain="example.com" src="https://plausible.io/js/script.js"></script>`},
		{"{provider: goatcounter, site: myblog}", `<script data-goatcounter="https://myblog.goatcounter.com/count" async src="https://gc.zgo.at/count.js"></script>`},
		{"{provider: umami, site: 94db1cb1-74f4-4a40-ad6c-962362670409, script: 'https://stats.example.com/script.js'}", `<script defer src="https://stats.example.com/script.js" data-website-id="94db1cb1-74f4-4a40-ad6c-962362670409"></script>`},
	} {
		_, out := loadRender(t, i18nSite("analytics: "+c.yaml+"\n"), Options{})
		for _, p := range []string{"index.html", "posts/p01/index.html", "404.html"} {
			head, _, _ := strings.Cut(string(out[p]), "</head>")
			if !strings.Contains(head, c.want) {
				t.Errorf("%s %s: no %s in head", c.yaml, p, c.want)
			}
		}
	}
	_, out := loadRender(t, i18nSite(""), Options{})
	if bad := scriptsIn(out["index.html"]); bad != "" { // structured data runs nothing
		t.Errorf("a script without analytics: %s", bad)
	}
}

// The three partials a blogger may add are written where their names say,
// with the page's data, without copying base.html or post.html.
func TestHookPartials(t *testing.T) {
	site, m := loadFiles(t, i18nSite(""))
	r, err := New(fstest.MapFS{
		"head.html":        {Data: []byte(`<meta name="x-hook" content="{{.Kind}}">`)},
		"post-footer.html": {Data: []byte(`<section class="comments" data-post="{{.Post.Slug}}"></section>`)},
		"footer.html":      {Data: []byte(`<p class="licence">CC BY {{.Site.Title}}</p>`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Render(t.Context(), site, m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	post, index := string(res.Files["posts/p01/index.html"]), string(res.Files["index.html"])
	head, _, _ := strings.Cut(post, "</head>")
	if !strings.Contains(head, `<meta name="x-hook" content="post">`) || !strings.Contains(index, `<meta name="x-hook" content="index">`) {
		t.Error("head.html not at the end of head with the page's data")
	}
	if i, j := strings.Index(post, `<section class="comments" data-post="p01">`), strings.Index(post, "</article>"); i < 0 || i < j {
		t.Error("post-footer.html not after the post's article")
	}
	if strings.Contains(index, `class="comments"`) {
		t.Error("post-footer.html on the index")
	}
	if i, j := strings.Index(index, `<p class="licence">CC BY Blog</p>`), strings.Index(index, "</footer>"); i < 0 || i < j {
		t.Error("footer.html not after the site footer")
	}
}

// One Renderer renders sites in two languages, at once: each gets its own.
func TestRendererLanguagesDoNotMix(t *testing.T) {
	r, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	de, mde := loadFiles(t, i18nSite("language: de\n"))
	en, men := loadFiles(t, i18nSite(""))
	done := make(chan map[string][]byte, 2)
	for _, s := range []struct {
		site *posts.Site
		m    fstest.MapFS
	}{{de, mde}, {en, men}} {
		go func() {
			res, err := r.Render(t.Context(), s.site, s.m, Options{})
			if err != nil {
				t.Error(err)
				done <- nil
				return
			}
			done <- res.Files
		}()
	}
	for range 2 {
		out := <-done
		if out == nil {
			continue
		}
		idx := string(out["index.html"])
		if strings.Contains(idx, `lang="de"`) != strings.Contains(idx, "Älter") {
			t.Errorf("languages mixed: %s", idx[:200])
		}
	}
}
