package templates

import (
	"bytes"
	"maps"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/publishbot/publishbot/locale"
)

// unfolded fills r's cache of template sets for loc with sets as
// forLocale made them before foldWords: every t a call. It is the oracle
// of the folded sets.
func unfolded(t *testing.T, r *Renderer, loc *locale.Locale) {
	t.Helper()
	set := make(pageSet, len(r.protos))
	for name, proto := range r.protos {
		c, err := proto.Clone()
		if err != nil {
			t.Fatal(err)
		}
		set[name] = c.Funcs(localeFuncs(loc))
	}
	r.mu.Lock()
	r.sets[localeKey(loc)] = set
	r.mu.Unlock()
}

// foldOverride is a post template that calls t in every context
// html/template escapes differently, and with its result piped on.
const foldOverride = `{{template "base" .}}
{{define "main"}}<p title={{t "older"}} data-x='{{t "newer"}}'>{{t "tags"}} {{t "search" | printf "%q"}} {{printf "<%s>" (t "older")}}</p>
<a href="/{{t "archive"}}?q={{t "search"}}">{{t "read_post"}}</a>
<script>var w = {{t "related"}}; var s = "{{t "newer"}}";</script>
<style>p::after { content: "{{t "more_posts"}}" }</style>
<textarea>{{t "preview_banner" "7"}}</textarea><!-- {{t "tags"}} -->
{{with t "tags"}}{{.}}{{end}}{{if t "no_such_key"}}{{t "no_such_key"}}{{end}}{{t "min_read" .Post.ReadingTime}}
{{end}}`

// TestFoldedWordsRenderTheSame: with t's constant calls folded, every
// file of a site is the same as with every call made, in every language,
// with strings: overrides that need escaping, and in a theme override
// that uses t in scripts, styles, URLs and unquoted attributes.
func TestFoldedWordsRenderTheSame(t *testing.T) {
	overrides := "strings:\n  older: \"Older <b>&amp;</b> \\\"quoted\\\" 'x' + \\u2028\"\n  tags: \"</script><!--\"\n  related: \"a\\\\b\"\n"
	for _, cfg := range []string{"", "language: de\n", "language: ja\n", "language: ar\n", "language: pl\n" + overrides, overrides} {
		for _, theme := range []fstest.MapFS{nil, {"post.html": {Data: []byte(foldOverride)}}} {
			site, content := loadFiles(t, i18nSite(cfg))
			folded, err := New(theme)
			if err != nil {
				t.Fatal(err)
			}
			plain, err := New(theme)
			if err != nil {
				t.Fatal(err)
			}
			unfolded(t, plain, locale.For(site.Config.Language, site.Config.Strings))
			got, err := folded.Render(t.Context(), site, content, Options{})
			if err != nil {
				t.Fatal(err)
			}
			want, err := plain.Render(t.Context(), site, content, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if theme != nil && !bytes.Contains(got.Files["posts/p03/index.html"], []byte("var w = ")) {
				t.Fatalf("the override is not used: %s", got.Files["posts/p03/index.html"])
			}
			left := 0
			for _, set := range folded.sets {
				for _, tp := range set {
					for _, x := range tp.Templates() {
						if x.Tree != nil && x.Tree.Root != nil {
							left += strings.Count(x.Tree.Root.String(), "{{t \"")
						}
					}
				}
			}
			if left > 4*len(pageTemplates) { // min_read, page_of, written_by, post_count... in each set
				t.Errorf("%d calls of t left after folding", left)
			}
			if !maps.EqualFunc(got.Files, want.Files, bytes.Equal) {
				for _, p := range slices.Sorted(maps.Keys(want.Files)) {
					if !bytes.Equal(got.Files[p], want.Files[p]) {
						t.Fatalf("%q, override %v: %s is\n%s\nwith every call made\n%s", cfg, theme != nil, p, got.Files[p], want.Files[p])
					}
				}
				t.Fatalf("%q: %d files, with every call made %d", cfg, len(got.Files), len(want.Files))
			}
		}
	}
}
