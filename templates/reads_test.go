package templates

import (
	"bytes"
	"fmt"
	"html/template"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/publishbot/publishbot/posts"
)

func TestDefaultListingsReadTitlesNotBodies(t *testing.T) {
	r, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range pageTemplates {
		t.Logf("%s: %s", name, maskNames(r.reads[name]))
	}
}

func TestPostMethodsAreKnown(t *testing.T) {
	for _, typ := range []reflect.Type{postDataType, postDataPtrType} {
		for i := range typ.NumMethod() {
			m := typ.Method(i)
			if _, ok := postMethodFields[m.Name]; !ok {
				t.Errorf("PostData.%s: add the fields it reads to postMethodFields", m.Name)
			}
		}
	}
	for m, fields := range postMethodFields {
		for _, f := range fields {
			if _, ok := postDataType.FieldByName(f); !ok {
				t.Errorf("postMethodFields[%s]: PostData has no field %s", m, f)
			}
		}
	}
}

// readsOf is postReads of a page template made of src and the shared
// templates in shared.
func readsOf(t *testing.T, src string, shared ...string) string {
	t.Helper()
	set := template.New("").Funcs(funcs)
	for i, s := range shared {
		if _, err := set.New(fmt.Sprint("shared", i)).Parse(s); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := set.New("page.html").Parse(src); err != nil {
		t.Fatal(err)
	}
	return maskNames(postReads(set, "page.html"))
}

func TestPostReadsFollowsTheTemplate(t *testing.T) {
	all := "(every field)"
	for _, c := range []struct {
		name, src string
		shared    []string
		want      string
	}{
		{"fields in a range", `{{range .Years}}{{range .Posts}}<a href="{{.URL}}">{{.Title}}</a>{{end}}{{end}}`, nil, "Title URL"},
		{"a method", `{{.Post.Body}}`, nil, "body"},
		{"a shared template", `{{range .Popular}}{{template "item" .}}{{end}}`, []string{`{{define "item"}}{{.Title}} {{.Date.Year}}{{end}}`}, "Title Date"},
		{"variables", `{{range $i, $p := .Popular}}{{$p.Slug}}{{$.Title}}{{end}}{{with $f := .Featured}}{{$f.Words}}{{end}}`, nil, "Slug Words"},
		{"a function of a field", `{{with .Featured}}{{date .Date}} {{printf "%d min" .ReadingTime}}{{end}}`, nil, "ReadingTime Date"},
		{"truth and length", `{{if .Post}}{{len .Popular}}{{end}}{{if and .Newer .Older}}x{{end}}`, nil, ""},
		{"index", `{{(index .Popular 0).Title}}`, nil, "Title"},
		{"tag links", `{{range .Post.TagLinks}}{{.Name}}{{end}}`, nil, "TagLinks"},
		{"printed whole", `{{range .Popular}}{{.}}{{end}}`, nil, all},
		{"printed by printf", `{{printf "%v" .Post}}`, nil, all},
		{"piped to a function", `{{.Featured | printf "%v"}}`, nil, all},
		{"compared", `{{if eq .Newer .Older}}x{{end}}`, nil, all},
		{"the page printed", `{{printf "%v" .}}`, nil, all},
		{"reassigned variable", `{{$p := ""}}{{range .Popular}}{{$p = .}}{{end}}{{$p}}`, nil, all},
		{"reassigned variable's field", `{{$p := .Post}}{{range .Popular}}{{$p = .}}{{end}}{{$p.Title}}`, nil, all},
		{"related", `{{range .Post.Related}}{{.Title}}{{end}}`, nil, all},
		{"the raw post", `{{.Post.Post.Title}}`, nil, "Post"},
		{"a shared template given the post", `{{template "x" .Post}}`, []string{`{{define "x"}}{{.}}{{end}}`}, all},
		{"a missing template", `{{template "nowhere" .Post}}`, nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := readsOf(t, c.src, c.shared...); got != c.want {
				t.Errorf("%s: reads %q, want %q", c.src, got, c.want)
			}
		})
	}
}

// A typo fixed in a post's text changes its page and the feeds, not the
// archive, the index, its tags' pages or its redirects, whose templates
// read no post's text; a new title changes them all.
func TestListingsKeptWhenOnlyTheTextChanges(t *testing.T) {
	files := map[string]string{
		"publish.yaml":                  "title: Notes\nbase_url: https://example.org/\n",
		"posts/2026-05-01-first.md":     "---\ntitle: First\ntags: [go]\n---\nThe first post.\n",
		"posts/2026-05-02-second.md":    "---\ntitle: Second\ntags: [go]\naliases: [/old/second/]\n---\n" + strings.Repeat("The second post says a lot before it says anything. ", 10) + "\n\nIts last paragraph, with a typpo.\n",
		"posts/2026-05-03-third.md":     "---\ntitle: Third\n---\nThe third post.\n",
		"posts/2026-05-04-fourth.md":    "---\ntitle: Fourth\ntags: [go]\n---\nThe fourth post.\n",
		"posts/2026-05-05-the-fifth.md": "---\ntitle: Fifth\n---\nThe fifth post.\n",
	}
	render := func(prev KeyMap) *Output {
		t.Helper()
		site, m := loadFiles(t, files)
		r, err := New(nil)
		if err != nil {
			t.Fatal(err)
		}
		out, err := r.Render(t.Context(), site, m, Options{Keys: true, Previous: prev})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	first := render(nil)
	listings := []string{"index.html", "archive/index.html", "tags/go/index.html", "old/second/index.html"}
	for _, p := range listings {
		if _, ok := first.Files[p]; !ok {
			t.Fatalf("no %s in %v", p, slices.Sorted(maps.Keys(first.Files)))
		}
	}
	const page = "posts/second/index.html"
	if _, ok := first.Files[page]; !ok {
		t.Fatalf("no %s in %v", page, slices.Sorted(maps.Keys(first.Files)))
	}

	files["posts/2026-05-02-second.md"] = strings.Replace(files["posts/2026-05-02-second.md"], "typpo", "typo, fixed with a few more words", 1)
	typo := render(first.Keys)
	for _, p := range listings {
		if !slices.Contains(typo.Kept, p) {
			t.Errorf("%s was rendered again after a change of a post's text", p)
		}
	}
	for _, p := range []string{page, "feed.xml"} {
		if _, ok := typo.Files[p]; !ok {
			t.Errorf("%s was kept after a change of its post's text", p)
		}
	}

	files["posts/2026-05-02-second.md"] = strings.Replace(files["posts/2026-05-02-second.md"], "title: Second", "title: The Second", 1)
	retitled := render(typo.Keys)
	for _, p := range append(listings, page) {
		if !bytes.Contains(retitled.Files[p], []byte("The Second")) {
			t.Errorf("%s does not show the new title", p)
		}
	}
}

// A page keyed with a mask changes with the fields the mask holds, and
// only with them; a mask the hasher was not made with keys whole posts.
func TestMaskedPostKeys(t *testing.T) {
	mask := &postMask{}
	for _, name := range []string{"Title", "URL"} {
		f, _ := postDataType.FieldByName(name)
		mask.fields, mask.sig = append(mask.fields, f.Index[0]), append(mask.sig, byte(f.Index[0]))
	}
	key := func(m *postMask, known bool, d *PostData) Key {
		h := newDataHasher()
		if known && m != nil {
			h.masks = []*postMask{m}
		}
		k, ok := h.sumReading(m, Page{Years: []YearGroup{{Year: 2026, Posts: []*PostData{d}}}})
		if !ok {
			t.Fatal("no key")
		}
		return k
	}
	post := func(title string, words int) *PostData {
		return &PostData{Title: title, URL: "/a/", Words: words, Post: &posts.Post{Title: title}}
	}
	base := key(mask, true, post("A", 10))
	if key(mask, true, post("A", 11)) != base {
		t.Error("a field the template does not read changed the key")
	}
	if key(mask, true, post("B", 10)) == base {
		t.Error("a field the template reads left the key as it was")
	}
	if key(mask, false, post("A", 10)) == key(mask, false, post("A", 11)) {
		t.Error("a mask the hasher does not know left out a field")
	}
	if key(nil, true, post("A", 10)) == key(nil, true, post("A", 11)) {
		t.Error("no mask left out a field")
	}
}

// A type that leads to a post only through a cycle back to a type being
// searched still holds one, whichever is asked first.
func TestHoldsPostThroughCycles(t *testing.T) {
	type outer struct {
		Inner *struct{ Back *PageData }
		Post  *PostData
	}
	type inner struct{ Out *outer }
	a := &readAnalysis{holds: map[reflect.Type]bool{}}
	if !a.holdsPost(reflect.TypeFor[outer]()) || !a.holdsPost(reflect.TypeFor[inner]()) || !a.holdsPost(reflect.TypeFor[*inner]()) {
		t.Error("a type that leads to a post does not hold one")
	}
	if a.holdsPost(reflect.TypeFor[TagLink]()) || a.holdsPost(reflect.TypeFor[time.Time]()) {
		t.Error("a type with no post holds one")
	}
}
