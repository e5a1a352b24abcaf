package posts

import (
	"strings"
	"testing"
	"time"
)

// Hugo's date fields: lastmod (or modified) is updated, publishDate is the
// date when there is none and holds a post back when it is later,
// expiryDate leaves a post out once it has passed.
func TestHugoDateFields(t *testing.T) {
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		name, fm string
		check    func(t *testing.T, p *Post)
	}{
		{"lastmod is updated", "date: 2026-01-01\nlastmod: 2026-02-03", func(t *testing.T, p *Post) {
			if !p.Updated.Equal(day(2026, 2, 3)) {
				t.Errorf("updated %v", p.Updated)
			}
		}},
		{"modified is updated", "date: 2026-01-01\nmodified: 2026-02-04T10:00:00Z", func(t *testing.T, p *Post) {
			if !p.Updated.Equal(time.Date(2026, 2, 4, 10, 0, 0, 0, time.UTC)) {
				t.Errorf("updated %v", p.Updated)
			}
		}},
		{"updated wins over lastmod", "date: 2026-01-01\nlastmod: 2026-02-03\nupdated: 2026-03-04", func(t *testing.T, p *Post) {
			if !p.Updated.Equal(day(2026, 3, 4)) {
				t.Errorf("updated %v", p.Updated)
			}
		}},
		{"publishDate is the date", "publishDate: 2026-05-06 9:30:00 -4", func(t *testing.T, p *Post) {
			if !p.Date.Equal(time.Date(2026, 5, 6, 13, 30, 0, 0, time.UTC)) || !p.PublishDate.IsZero() || p.Future {
				t.Errorf("date %v, publish %v, future %v", p.Date, p.PublishDate, p.Future)
			}
		}},
		{"publishdate and pubdate too", "pubdate: 2026-05-07", func(t *testing.T, p *Post) {
			if !p.Date.Equal(day(2026, 5, 7)) {
				t.Errorf("date %v", p.Date)
			}
		}},
		{"Hugo's published is a date", "published: 2026-05-08", func(t *testing.T, p *Post) {
			if !p.Date.Equal(day(2026, 5, 8)) || p.Draft {
				t.Errorf("date %v draft %v", p.Date, p.Draft)
			}
		}},
		{"a later publishDate holds the post back", "date: 2026-01-01\npublishDate: 2026-12-24", func(t *testing.T, p *Post) {
			if !p.Date.Equal(day(2026, 1, 1)) || !p.PublishDate.Equal(day(2026, 12, 24)) || !p.Future {
				t.Errorf("date %v, publish %v, future %v", p.Date, p.PublishDate, p.Future)
			}
			if got := p.NextChange(testNow); !got.Equal(day(2026, 12, 24)) {
				t.Errorf("next change %v", got)
			}
		}},
		{"an earlier publishDate changes nothing", "date: 2026-03-01\npublishDate: 2026-02-01", func(t *testing.T, p *Post) {
			if !p.Date.Equal(day(2026, 3, 1)) || !p.PublishDate.IsZero() || p.Future {
				t.Errorf("date %v, publish %v, future %v", p.Date, p.PublishDate, p.Future)
			}
		}},
		{"expiryDate ahead", "date: 2026-01-01\nexpiryDate: 2027-01-01", func(t *testing.T, p *Post) {
			if !p.Expires.Equal(day(2027, 1, 1)) || p.Future {
				t.Errorf("expires %v", p.Expires)
			}
			if got := p.NextChange(testNow); !got.Equal(day(2027, 1, 1)) {
				t.Errorf("next change %v", got)
			}
			if got := p.NextChange(day(2027, 1, 2)); !got.IsZero() {
				t.Errorf("next change after all %v", got)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := load(t, mapFS(map[string]string{"posts/a.md": "---\ntitle: A\n" + tc.fm + "\n---\nBody\n"}), Options{})
			if len(s.Diagnostics) != 0 || len(s.Posts) != 1 {
				t.Fatalf("posts %d, diagnostics:\n%s", len(s.Posts), formatDiags(s.Diagnostics))
			}
			tc.check(t, s.Posts[0])
		})
	}
}

func TestHugoDatesTOML(t *testing.T) {
	s := load(t, mapFS(map[string]string{
		"posts/a.md": "+++\ntitle = \"A\"\npublishDate = 2026-04-05T06:07:08-04:00\nlastmod = 2026-04-06\nexpiryDate = 2030-01-01T00:00:00Z\n+++\n",
	}), Options{})
	if len(s.Posts) != 1 || len(s.Diagnostics) != 0 {
		t.Fatalf("%v", s.Diagnostics)
	}
	p := s.Posts[0]
	if !p.Date.Equal(time.Date(2026, 4, 5, 10, 7, 8, 0, time.UTC)) || !p.Updated.Equal(time.Date(2026, 4, 6, 0, 0, 0, 0, time.UTC)) ||
		!p.Expires.Equal(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("post %+v", p)
	}
}

// An expired post is left out with a warning at its expiryDate, its
// bundle's files are not published, and a link to it is reported.
func TestExpiredPost(t *testing.T) {
	s := load(t, mapFS(map[string]string{
		"posts/old/index.md": "---\ntitle: Old\nslug: hello\ndate: 2025-01-01\nexpiryDate: 2026-01-01\n---\nBody\n",
		"posts/old/pic.png":  "png",
		"posts/hello.md":     "---\ntitle: Hello\ndate: 2026-02-01\n---\nSee [the old one](old/index.md).\n",
		"posts/bad.md":       "---\ntitle: Bad\ndate: 2026-01-01\nexpiryDate: soon\npublishDate: later\n---\n",
	}), Options{})
	if got := postPaths(s); got != "posts/hello.md" {
		t.Errorf("posts: %s", got)
	}
	if len(s.Assets) != 0 {
		t.Errorf("the expired bundle's files are published: %+v", s.Assets)
	}
	var got []string
	for _, d := range s.Diagnostics {
		got = append(got, d.String())
	}
	want := []string{
		`posts/bad.md:4:13: error: expiryDate "soon" is not a date; use 2006-01-02, 2006-01-02T15:04:05Z07:00 or 2006-01-02 15:04:05 -0700 [invalid-date]`,
		`posts/bad.md:5:14: error: publishDate "later" is not a date; use 2006-01-02, 2006-01-02T15:04:05Z07:00 or 2006-01-02 15:04:05 -0700 [invalid-date]`,
		`posts/hello.md:5:19: warning: link "old/index.md" goes to posts/old/index.md, which has expired and is left out of the site [broken-link]`,
		`posts/old/index.md:5:13: warning: this post expired on Jan 1, 2026 00:00 UTC (expiryDate) and is left out of the site; remove expiryDate to publish it again [expired]`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("diagnostics:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// An expired post gives up its slug.
	if postBySlug(s, "hello") == nil {
		t.Errorf("the expired post kept its slug")
	}
}
