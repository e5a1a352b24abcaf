package templates

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"testing"
	"time"
)

// sitemapOracle is the sitemap as encoding/xml marshals it: what sitemap
// must write, byte for byte.
func sitemapOracle(t testing.TB, urls []sitemapURL) []byte {
	type entry struct {
		Loc     string `xml:"loc"`
		LastMod string `xml:"lastmod,omitempty"`
	}
	type set struct {
		XMLName xml.Name `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 urlset"`
		URLs    []entry  `xml:"url"`
	}
	var s set
	for _, u := range urls {
		e := entry{Loc: u.Loc}
		if !u.LastMod.IsZero() {
			e.LastMod = u.LastMod.Format("2006-01-02")
		}
		s.URLs = append(s.URLs, e)
	}
	b, err := marshalXML(s, 0)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The sitemap's bytes are encoding/xml's: none, one, many, with and
// without dates, and addresses with every character it escapes.
func TestSitemapIsEncodingXMLs(t *testing.T) {
	day := time.Date(2024, 3, 9, 23, 30, 0, 0, time.FixedZone("x", -5*3600))
	cases := map[string][]sitemapURL{
		"none": nil,
		"one":  {{Loc: "https://acme.github.io/blog/"}},
		"escaped": {{Loc: "https://x.test/a&b<c>\"d'e\tf\ng\rh/", LastMod: day}, {Loc: "https://x.test/\xff\x00\ufffd/caf%C3%A9/"},
			{Loc: "https://x.test/\u2028\U0001F600\x7f\x1f/"}},
	}
	var many []sitemapURL
	for i := range 500 {
		u := sitemapURL{Loc: fmt.Sprintf("https://blog.rust-lang.org/%d/%02d/post-%d/", 2015+i%10, 1+i%12, i)}
		if i%3 != 0 {
			u.LastMod = day.AddDate(0, 0, i)
		}
		many = append(many, u)
	}
	cases["many"] = many
	for name, urls := range cases {
		t.Run(name, func(t *testing.T) {
			if got, want := sitemap(urls), sitemapOracle(t, urls); !bytes.Equal(got, want) {
				t.Fatalf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// Any address and date: encoding/xml's bytes.
func FuzzSitemap(f *testing.F) {
	f.Add("https://x.test/a&b<c>/", int64(1700000000), "https://x.test/\xff/")
	f.Add("", int64(0), "\t\r\n")
	f.Fuzz(func(t *testing.T, a string, sec int64, b string) {
		urls := []sitemapURL{{Loc: a}, {Loc: b}}
		if sec != 0 {
			urls[0].LastMod = time.Unix(sec%(1<<40), 0).UTC()
		}
		if got, want := sitemap(urls), sitemapOracle(t, urls); !bytes.Equal(got, want) {
			t.Fatalf("got:\n%q\nwant:\n%q", got, want)
		}
	})
}

// The sitemap of a blog of 20,000 posts.
func BenchmarkSitemap(b *testing.B) {
	urls := make([]sitemapURL, 20000)
	for i := range urls {
		urls[i] = sitemapURL{Loc: fmt.Sprintf("https://blog.rust-lang.org/%d/%02d/%02d/post-number-%d/", 2015+i%10, 1+i%12, 1+i%28, i),
			LastMod: time.Date(2015+i%10, time.Month(1+i%12), 1+i%28, 0, 0, 0, 0, time.UTC)}
	}
	b.Run("encoding-xml", func(b *testing.B) {
		for b.Loop() {
			sitemapOracle(b, urls)
		}
	})
	b.Run("sitemap", func(b *testing.B) {
		for b.Loop() {
			sitemap(urls)
		}
	})
}
