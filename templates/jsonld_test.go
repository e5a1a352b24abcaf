package templates

import (
	"encoding/json"
	"testing"
)

// The hand-written JSON-LD must be json.Marshal's bytes exactly.
func checkJSONLD(t *testing.T, a, b, c string, n int) {
	t.Helper()
	posts := []ldBlogPosting{
		{Context: a, Type: b, Headline: c, URL: a, MainEntity: b, DatePublished: c, DateModified: a},
		{Context: a, Type: b, Headline: c, Description: a, URL: b, MainEntity: c, DatePublished: a, DateModified: b,
			Image: c, Author: []ldPerson{{Type: a, Name: b, URL: c}, {Type: c, Name: a}}, Keywords: []string{a, b, c},
			WordCount: n, InLanguage: b,
			IsPartOf: &ldBlog{Context: c, Type: a, Name: b, Description: c, URL: a, InLanguage: c, Author: &ldPerson{Name: a, URL: b}, Image: c}},
		{Author: []ldPerson{}, Keywords: []string{}, IsPartOf: &ldBlog{}},
	}
	for i := range posts {
		want, err := json.Marshal(&posts[i])
		if err != nil {
			t.Fatal(err)
		}
		if got := posts[i].appendJSON(nil); string(got) != string(want) {
			t.Fatalf("appendJSON = %s\njson.Marshal = %s", got, want)
		}
	}
}

func TestJSONLDEncoder(t *testing.T) {
	checkJSONLD(t, "https://schema.org", "BlogPosting", "Hello", 42)
	checkJSONLD(t, "", "", "", 0)
	checkJSONLD(t, "</script><!-- & \"x\" \\", "a\u2028b\u2029c\x00\x1f\x7f\b\f\n\r\t", "\xff\xc3 café 東京 \U0001F600", -7)
}

func FuzzJSONLDEncoder(f *testing.F) {
	f.Add("</script>", "a\u2028b", "\xff\xc3(", 3)
	f.Fuzz(checkJSONLD)
}
